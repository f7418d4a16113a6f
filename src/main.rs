//! The `driftd` binary: parse the command line, run the command, map errors to exit codes
//! (0 done, 1 drift found with `--fail-on-drift`, 2 usage or input error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use driftd::cli::{Cli, Command, CompareArgs, OutputFormat};
use driftd::compare::{self, CompareOptions};
use driftd::stats::profile::CompareSettings;
use driftd::stats::verdict::{DriftStat, Thresholds};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(args) => run_compare(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the chain of causes, most general first.
            let message = err.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
            eprintln!("driftd: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_compare(args: CompareArgs) -> anyhow::Result<ExitCode> {
    for (name, value) in [
        ("--psi-threshold", args.psi_threshold),
        ("--ks-alpha", args.ks_alpha),
        ("--chisquare-alpha", args.chisquare_alpha),
        ("--js-threshold", args.js_threshold),
        ("--wasserstein-threshold", args.wasserstein_threshold),
        ("--hellinger-threshold", args.hellinger_threshold),
        ("--drift-share", args.drift_share),
    ] {
        anyhow::ensure!(value.is_finite() && value >= 0.0, "{name} must be a finite number >= 0, got {value}");
    }
    let decider_selected = match args.drift_stat {
        DriftStat::Psi => args.stats.psi,
        DriftStat::Test => args.stats.ks || args.stats.chisquare,
        DriftStat::JensenShannon => args.stats.jensen_shannon,
        DriftStat::Hellinger => args.stats.hellinger,
        DriftStat::Wasserstein => args.stats.wasserstein,
    };
    anyhow::ensure!(decider_selected, "--drift-stat {} needs that statistic in --stats", args.drift_stat);
    anyhow::ensure!(args.epsilon > 0.0 && args.epsilon < 1.0, "--epsilon must be in (0, 1), got {}", args.epsilon);
    let format = args.format.unwrap_or(if args.output.is_none() && std::io::stdout().is_terminal() {
        OutputFormat::Text
    } else {
        OutputFormat::Json
    });
    let options = CompareOptions {
        reference: args.reference,
        current: args.current,
        reference_format: args.input_format,
        current_format: args.input_format,
        columns: args.columns,
        settings: CompareSettings { binning: args.psi_binning, epsilon: args.epsilon },
        thresholds: Thresholds {
            psi: args.psi_threshold,
            ks_alpha: args.ks_alpha,
            chisquare_alpha: args.chisquare_alpha,
            jensen_shannon: args.js_threshold,
            wasserstein: args.wasserstein_threshold,
            hellinger: args.hellinger_threshold,
            drift_share: args.drift_share,
        },
        drift_stat: args.drift_stat,
        statistics: args.stats,
        with_detail: format == OutputFormat::Html,
        progress: std::io::stderr().is_terminal(),
        threads: args.threads,
    };
    let report = compare::run(&options)?;
    let rendered = match format {
        OutputFormat::Text => compare::text::render(&report),
        OutputFormat::Json => report.to_json(),
        OutputFormat::Html => compare::html::render(&report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, rendered).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a non-zero exit.
            if let Err(err) = stdout.write_all(rendered.as_bytes()).and_then(|_| stdout.flush()) {
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(err).context("cannot write to standard output");
                }
            }
        }
    }
    Ok(if args.fail_on_drift && report.summary.dataset_drift { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
