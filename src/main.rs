//! The `driftd` binary: parse the command line, run the command, map errors to exit codes
//! (0 done, 1 drift found with `--fail-on-drift`, 2 usage or input error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use driftd::cli::{Cli, Command, CompareArgs, OutputFormat};
use driftd::compare::performance::PerformanceOptions;
use driftd::compare::{self, CompareOptions};
use driftd::stats::profile::CompareSettings;
use driftd::stats::statistic::Statistic;
use driftd::stats::verdict::{DriftStat, Thresholds};

/// The message of the last panic, kept by a silent panic hook: a panic is a bug, and the user
/// should see one line saying so rather than a backtrace. (Decoders of third-party formats run
/// under `catch_unwind` in the dataset module; their panics become ordinary input errors.)
static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string().replace('\n', " "));
        }
    }));
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(move || match cli.command {
        Command::Compare(args) => run_compare(args),
        Command::Reference(command) => run_reference(command),
        Command::Profile(args) => run_profile(args),
        Command::Check(args) => Ok(run_check(&args.config)),
        Command::Replay(args) => run_replay(&args),
        Command::Run(args) => run_daemon(&args),
        Command::TestRules(args) => Ok(run_test_rules(&args.file)),
        Command::History(args) => run_history(&args),
        Command::Silence(command) => run_silence(&command),
    });
    let result = result.unwrap_or_else(|_| {
        let message = LAST_PANIC.lock().ok().and_then(|m| m.clone()).unwrap_or_else(|| "unknown panic".into());
        Err(anyhow::anyhow!("internal error (please report this bug): {message}"))
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            // One line: the chain of causes, most general first.
            let message = err.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
            // Not eprintln!, which panics when stderr cannot be written (a full disk).
            let _ = writeln!(std::io::stderr(), "driftd: error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The thresholds of `compare`: the per-statistic flags, then `--threshold NAME=VALUE`.
fn compare_thresholds(args: &CompareArgs) -> anyhow::Result<Thresholds> {
    let mut thresholds = Thresholds::default();
    thresholds.drift_share = args.drift_share;
    for (statistic, value) in [
        (Statistic::Psi, args.psi_threshold),
        (Statistic::Ks, args.ks_alpha),
        (Statistic::Chisquare, args.chisquare_alpha),
        (Statistic::JensenShannon, args.js_threshold),
        (Statistic::Wasserstein, args.wasserstein_threshold),
        (Statistic::Hellinger, args.hellinger_threshold),
    ] {
        thresholds.set(statistic, value);
    }
    for (statistic, value) in &args.threshold {
        anyhow::ensure!(
            value.is_finite() && *value >= 0.0,
            "--threshold {statistic}: must be a finite number >= 0, got {value}"
        );
        thresholds.set(*statistic, *value);
    }
    Ok(thresholds)
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
        DriftStat::Test => args.stats.contains(Statistic::Ks) || args.stats.contains(Statistic::Chisquare),
        DriftStat::Statistic(statistic) => args.stats.contains(statistic),
    };
    anyhow::ensure!(decider_selected, "--drift-stat {} needs that statistic in --stats", args.drift_stat);
    anyhow::ensure!(
        args.decision_threshold.is_finite(),
        "--decision-threshold must be a finite number, got {}",
        args.decision_threshold
    );
    anyhow::ensure!(args.epsilon > 0.0 && args.epsilon < 1.0, "--epsilon must be in (0, 1), got {}", args.epsilon);
    let format = args.format.unwrap_or(if args.output.is_none() && std::io::stdout().is_terminal() {
        OutputFormat::Text
    } else {
        OutputFormat::Json
    });
    let thresholds = compare_thresholds(&args)?;
    let options = CompareOptions {
        reference: args.reference,
        current: args.current,
        reference_format: args.input_format,
        current_format: args.input_format,
        columns: args.columns,
        settings: CompareSettings { binning: args.psi_binning, epsilon: args.epsilon },
        thresholds,
        drift_stat: args.drift_stat,
        statistics: args.stats,
        with_detail: format == OutputFormat::Html,
        progress: std::io::stderr().is_terminal(),
        threads: args.threads,
        memory_limit: args.memory_limit,
        performance: args.target.map(|target| PerformanceOptions {
            target,
            prediction: args.prediction.unwrap_or_default(),
            task: args.task,
            prediction_type: args.prediction_type,
            threshold: args.decision_threshold,
        }),
    };
    if args.read_only {
        let read = compare::read_only(&options)?;
        println!(
            "read {} columns in {} groups: {} rows of {}, {} rows of {}",
            read.columns, read.groups, read.reference.rows, read.reference.path, read.current.rows, read.current.path
        );
        return Ok(ExitCode::SUCCESS);
    }
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

/// `driftd profile`, `driftd profile merge | show`.
fn run_profile(args: driftd::cli::ProfileArgs) -> anyhow::Result<ExitCode> {
    use driftd::cli::ProfileCommand;
    use driftd::profile;
    let text = match args.command {
        Some(ProfileCommand::Merge(merge)) => {
            let name = |path: &std::path::Path| path.display().to_string();
            let mut merged = profile::load(&merge.profiles[0])?;
            for path in &merge.profiles[1..] {
                merged.merge(&name(&merge.profiles[0]), &profile::load(path)?, &name(path))?;
            }
            profile::save(&merged, &merge.output)?;
            format!("Wrote {}: {} profiles, {} rows.\n", merge.output.display(), merge.profiles.len(), merged.rows)
        }
        Some(ProfileCommand::Show(show)) => profile::load(&show.path)?.to_json(),
        None => {
            let output = args.output.context("--output is required")?;
            let edges_from = match &args.edges_from {
                Some(path) => Some((path.display().to_string(), profile::load(path)?)),
                None => None,
            };
            let options = profile::BuildOptions {
                inputs: args.input,
                format: args.input_format,
                columns: args.columns,
                binning: args.psi_binning,
                edges_from,
                k: args.sketch_k,
            };
            let built = profile::build(&options)?;
            profile::save(&built, &output)?;
            format!(
                "Wrote {}: {} columns, {} rows of {} input(s).\n",
                output.display(),
                built.columns.len(),
                built.rows,
                built.inputs.len()
            )
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(err).context("cannot write to standard output");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `driftd reference fit | show`.
fn run_reference(command: driftd::cli::ReferenceCommand) -> anyhow::Result<ExitCode> {
    use driftd::cli::ReferenceCommand;
    use driftd::reference;
    let text = match command {
        ReferenceCommand::Fit(args) => {
            let options = reference::FitOptions {
                format: args.input_format,
                predictions: args.predictions,
                columns: args.columns,
                exclude: args.exclude,
                model_version: args.model_version,
                binning: args.binning,
                max_sample: (args.max_sample > 0).then_some(args.max_sample),
                threads: 0,
                progress: std::io::stderr().is_terminal(),
            };
            let profile = reference::fit(&args.input, &options)?;
            reference::save(&profile, &args.output)?;
            let count = |stream| profile.features(stream).len();
            format!(
                "Wrote {}: {} input and {} prediction features from {} rows of {}.\n",
                args.output.display(),
                count(driftd::record::Stream::Inputs),
                count(driftd::record::Stream::Predictions),
                profile.meta.rows,
                profile.meta.source_path
            )
        }
        ReferenceCommand::Show(args) => {
            let profile = reference::load(&args.path)?;
            reference::show::render(&profile, &args.path.display().to_string())
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(err).context("cannot write to standard output");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `driftd check`: "PATH: OK (N monitors)" and 0, or every problem on stderr and 2.
fn run_check(path: &std::path::Path) -> ExitCode {
    match driftd::config::load(path).and_then(|config| Ok((driftd::rules::load_for_config(&config)?, config))) {
        Ok((rules, config)) => {
            let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            println!(
                "{}: OK ({}, {}, {})",
                path.display(),
                plural(config.monitors.len(), "monitor"),
                plural(rules.rules.len(), "rule"),
                plural(rules.actions.len(), "action")
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::from(2)
        }
    }
}

/// `driftd history MONITOR`: the running daemon's drift history of a monitor.
fn run_history(args: &driftd::cli::HistoryArgs) -> anyhow::Result<ExitCode> {
    let daemon = driftd::http_client::Endpoint::new(&args.addr, args.ca_file.as_deref());
    let history = driftd::history::fetch(&daemon, &args.monitor, args.stream.as_deref(), args.limit)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&history)?);
    } else {
        print!("{}", driftd::history::render(&history));
    }
    Ok(ExitCode::SUCCESS)
}

/// `driftd silence add|list|expire` against a running daemon.
fn run_silence(command: &driftd::cli::SilenceCommand) -> anyhow::Result<ExitCode> {
    use driftd::cli::SilenceCommand;
    use driftd::http_client::request_json_to as request_json;
    match command {
        SilenceCommand::Add(args) => {
            let matchers = driftd::silence::parse_matchers(&args.matchers)?;
            let body = serde_json::json!({ "matchers": matchers, "duration": args.duration, "comment": args.comment });
            let answer = request_json(&args.addr.endpoint(), "POST", "/api/v1/silences", Some(&body))?;
            println!("{} (until {})", answer["id"].as_str().unwrap_or("?"), answer["ends"].as_str().unwrap_or("?"));
        }
        SilenceCommand::List(addr) => {
            let answer = request_json(&addr.endpoint(), "GET", "/api/v1/silences", None)?;
            for s in answer["silences"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let matchers: Vec<String> = s["matchers"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect())
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{} to {}\t{}\t{}",
                    s["id"].as_str().unwrap_or("?"),
                    if s["active"] == true { "active" } else { "expired" },
                    s["starts"].as_str().unwrap_or("?"),
                    s["ends"].as_str().unwrap_or("?"),
                    matchers.join(","),
                    s["comment"].as_str().unwrap_or("")
                );
            }
        }
        SilenceCommand::Expire(args) => {
            let path = format!("/api/v1/silences/{}", args.id);
            let answer = request_json(&args.addr.endpoint(), "DELETE", &path, None)?;
            println!("{} expired at {}", answer["id"].as_str().unwrap_or("?"), answer["ends"].as_str().unwrap_or("?"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `driftd test-rules FILE`: the report on stdout; problems of the files on stderr (exit 2).
fn run_test_rules(path: &std::path::Path) -> ExitCode {
    match driftd::rules::test_runner::run_file(path) {
        Ok(report) => {
            print!("{}", report.render());
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::from(2)
        }
    }
}

/// `driftd replay`: configuration problems as `check` prints them, anything else one line.
fn run_replay(args: &driftd::cli::ReplayArgs) -> anyhow::Result<ExitCode> {
    let config = match driftd::config::load(&args.config) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(2));
        }
    };
    driftd::build::check_supported(&config, driftd::build::Runner::Replay)?;
    let mut file = match &args.output {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut sinks = driftd::replay::Sinks {
        report: &mut stdout,
        observations: file.as_mut().map(|f| f as &mut dyn Write),
        log: &mut stderr,
    };
    match driftd::replay::run(&config, &mut sinks) {
        // A closed pipe (`| head`) is not an error worth a non-zero exit.
        Err(driftd::replay::ReplayError::Output(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => {
            other?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `driftd run`: logging set up, configuration loaded (problems printed as `check` does), the
/// daemon run on a multi-threaded runtime.
fn run_daemon(args: &driftd::cli::RunArgs) -> anyhow::Result<ExitCode> {
    init_tracing(args.log_format);
    let config = match driftd::config::load(&args.config) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::from(2));
        }
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    let options = driftd::app::RunOptions {
        serve_after_exhausted: args.serve_after_exhausted,
        reset_state: args.reset_state,
        observations: args.observations.clone(),
        max_rate: args.max_rate,
    };
    let result = runtime.block_on(driftd::app::run(config, options, tokio_util::sync::CancellationToken::new()));
    // Readers blocked on a file do not hold up the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Stderr that drops what it cannot write. A log file on a full disk fails its writes, and
/// tracing-subscriber reports a failed write with `eprintln!`, which panics when stderr fails
/// too — killing whichever task logged (the monitor task retrying its checkpoint, say).
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// The tracing subscriber of `driftd run`: stderr, `RUST_LOG` (default `info`); a line that
/// cannot be written is lost, never fatal ([`LossyStderr`]).
fn init_tracing(format: driftd::cli::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| LossyStderr);
    match format {
        driftd::cli::LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        driftd::cli::LogFormat::Json => builder.json().init(),
    }
}
