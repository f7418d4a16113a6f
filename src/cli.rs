//! Command-line interface (clap). Parsing only: `main.rs` runs the commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::compare::performance::{PredictionChoice, TaskChoice};
use crate::dataset::Format;
use crate::stats::binning::Binning;
use crate::stats::statistic::{Statistic, Statistics};
use crate::stats::verdict::DriftStat;

#[derive(Debug, Parser)]
#[command(name = "driftd", version, about = "Data-drift monitoring for ML models", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare a current dataset with a reference dataset, column by column.
    ///
    /// Exit codes: 0 done; 1 with --fail-on-drift when the dataset drifted; 2 usage or input error.
    Compare(CompareArgs),
    /// Fit or inspect reference profiles (what a monitor compares its windows with).
    ///
    /// Exit codes: 0 done; 2 usage or input error.
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Profile datasets into mergeable profiles, merge profiles, or show one as JSON
    /// (docs/profiles.md). `driftd compare` accepts a profile on either side.
    ///
    /// Exit codes: 0 done; 2 usage or input error.
    Profile(ProfileArgs),
    /// Validate a daemon configuration without running it: print every problem, one per line
    /// (`file:line:column: key: message`).
    ///
    /// Exit codes: 0 valid; 2 problems found or the file cannot be read.
    Check(CheckArgs),
    /// Replay every monitor of a configuration over its file sources (synchronously) and print
    /// a line per closed window and a summary per monitor.
    ///
    /// Exit codes: 0 done; 2 configuration, reference or source error.
    Replay(ReplayArgs),
    /// Run the monitoring daemon: HTTP (`/metrics`, `/healthz`, `/readyz`, `/api/v1`) and a
    /// task per stream and monitor, over file and Kafka sources, evaluating the alert rules.
    /// Ends when every file source is exhausted and every window flushed, or on SIGTERM /
    /// Ctrl-C (ordered shutdown); SIGHUP reloads the rule files.
    /// Each published window is checkpointed in `state.path`; a restart resumes from there.
    ///
    /// Exit codes: 0 done; 2 configuration, reference, source or state error (including a
    /// source file changed since its checkpoint, unless `--reset-state`).
    Run(RunArgs),
    /// Print a monitor's drift history from a running daemon (`GET /api/v1/monitors/NAME/history`):
    /// one line per closed window with its drifted features, oldest first.
    ///
    /// Exit codes: 0 done; 2 the daemon cannot be reached or has no such monitor.
    History(HistoryArgs),
    /// Silence alerts of a running daemon (as in Alertmanager): matching alerts are still
    /// tracked but not notified while the silence lasts.
    ///
    /// Exit codes: 0 done; 2 the daemon cannot be reached or refused the request.
    #[command(subcommand)]
    Silence(SilenceCommand),
    /// Run rule unit tests (like `promtool test rules`): windows of statistics in, the expected
    /// alerts and notifications out. Prints `ok` or `FAIL` per test, with the expected and actual
    /// alerts or notifications as a diff (`-` expected, `+` got).
    ///
    /// Exit codes: 0 every test passed; 1 a test failed; 2 the test file or a rule file has a
    /// problem (each printed as `file:line:column: key: message`).
    TestRules(TestRulesArgs),
}

#[derive(Debug, clap::Args)]
pub struct TestRulesArgs {
    /// The rule test file (YAML; format in docs/rules.md, "Testing rules").
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The configuration file.
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
    /// Keep serving HTTP after every source is exhausted, until SIGTERM / Ctrl-C.
    #[arg(long)]
    pub serve_after_exhausted: bool,
    /// Ignore the checkpoints in `state.path` and overwrite them: start from the beginning of
    /// every source (needed when a source file changed since the last checkpoint).
    #[arg(long)]
    pub reset_state: bool,
    /// Also append every published observation here as a JSON line (flushed per window; after a
    /// crash the file is cut back to the last checkpoint, so no window appears twice).
    #[arg(long, value_name = "PATH")]
    pub observations: Option<PathBuf>,
    /// Read each file source at most this many rows per second (replay a file as live traffic).
    #[arg(long, value_name = "ROWS_PER_SEC", value_parser = parse_rate)]
    pub max_rate: Option<f64>,
    /// Log format on stderr (level from `RUST_LOG`, default `info`).
    #[arg(long, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Pretty,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The configuration file; every stream must have a file source.
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
    /// Also write every observation here as a JSON line.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The configuration file (`${VAR}` and `${VAR:-default}` are taken from the environment).
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Reference dataset (CSV, Parquet, Arrow IPC or JSON Lines, by extension), or a profile
    /// (`driftd profile`; recognised by its first bytes or a `.profile` extension).
    #[arg(long, value_name = "PATH")]
    pub reference: PathBuf,
    /// Current dataset, or a profile built with `--edges-from` the reference's profile.
    #[arg(long, value_name = "PATH")]
    pub current: PathBuf,
    /// Output format [default: text on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Numeric binning for PSI, Jensen–Shannon and Hellinger:
    /// quantile[:N] | evidently | equal-width:N | edges:a,b,…
    #[arg(long, default_value = "quantile", value_parser = parse_binning)]
    pub psi_binning: Binning,
    /// Compare only these columns (comma-separated names or patterns: `*` any run of
    /// characters, `?` one; e.g. `feature_*`).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Option<Vec<String>>,
    /// Memory budget for Parquet and Arrow IPC inputs, read and compared in column groups that
    /// fit it (e.g. 2G, 500M) [default: half of the available memory]. CSV and JSON Lines are
    /// read whole.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub memory_limit: Option<u64>,
    /// Only read both files (the same column groups, typing and reconciliation) and print what
    /// was read: the read time alone, for benchmarks.
    #[arg(long, hide = true)]
    pub read_only: bool,
    /// Exit with status 1 when the dataset drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Read both files as this format, whatever their extensions.
    #[arg(long, value_parser = parse_format, value_name = "FORMAT")]
    pub input_format: Option<Format>,
    /// Statistic that decides whether a column drifted: test (KS / chi-square) or a
    /// statistic's name (psi, jensen_shannon, hellinger, wasserstein; on categorical
    /// columns a numeric-only one is replaced by jensen_shannon).
    #[arg(long, default_value = "psi")]
    pub drift_stat: DriftStat,
    /// Statistics to compute: `default` (every statistic computed by default), `all` (also the
    /// opt-in ones), or a comma-separated list of names (docs/statistics.md; default ones not
    /// listed are null in the JSON, opt-in ones not listed are left out).
    #[arg(long, default_value = "default")]
    pub stats: Statistics,
    /// PSI drift threshold (drift when PSI >= it).
    #[arg(long, default_value_t = 0.1)]
    pub psi_threshold: f64,
    /// KS significance level (drift when p <= it).
    #[arg(long, default_value_t = 0.05)]
    pub ks_alpha: f64,
    /// Chi-square significance level (drift when p < it).
    #[arg(long, default_value_t = 0.05)]
    pub chisquare_alpha: f64,
    /// Jensen–Shannon distance threshold.
    #[arg(long, default_value_t = 0.1)]
    pub js_threshold: f64,
    /// Normalised Wasserstein threshold (distance / reference std).
    #[arg(long, default_value_t = 0.1)]
    pub wasserstein_threshold: f64,
    /// Hellinger distance threshold.
    #[arg(long, default_value_t = 0.1)]
    pub hellinger_threshold: f64,
    /// Any statistic's threshold, as NAME=VALUE (repeatable; after the flags above).
    #[arg(long, value_parser = parse_threshold, value_name = "NAME=VALUE")]
    pub threshold: Vec<(Statistic, f64)>,
    /// Dataset drift when the share of drifted columns is at least this.
    #[arg(long, default_value_t = 0.5)]
    pub drift_share: f64,
    /// Proportion used for empty bins in PSI and unseen categories in chi-square.
    #[arg(long, default_value_t = 1e-4)]
    pub epsilon: f64,
    /// Worker threads for the statistics (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// The target column (ground truth): reports the model's performance on both datasets
    /// and its change (needs --prediction; docs/performance.md).
    #[arg(long, value_name = "COL", requires = "prediction")]
    pub target: Option<String>,
    /// The prediction column: a score (any number; a probability in [0, 1] for log loss,
    /// Brier and calibration error), a predicted class (0/1), or a regressor's value.
    #[arg(long, value_name = "COL", requires = "target")]
    pub prediction: Option<String>,
    /// auto (a target of only 0 / 1 or true / false is a binary classification, any other
    /// numbers a regression), classification or regression.
    #[arg(long, default_value = "auto", value_name = "TASK")]
    pub task: TaskChoice,
    /// A classifier's prediction: auto (only 0 / 1 or true / false in both files: predicted
    /// labels; other numbers: scores), score or label.
    #[arg(long, default_value = "auto", value_name = "TYPE")]
    pub prediction_type: PredictionChoice,
    /// A score at or above this predicts the positive class.
    #[arg(long, default_value_t = 0.5, value_name = "SCORE")]
    pub decision_threshold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Html,
}

fn parse_threshold(text: &str) -> Result<(Statistic, f64), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))?;
    let value: f64 = value.trim().parse().map_err(|_| format!("{value:?} is not a number"))?;
    Ok((name.trim().parse()?, value))
}

fn parse_binning(text: &str) -> Result<Binning, String> {
    text.parse::<Binning>().map_err(|e| e.to_string())
}

fn parse_size(text: &str) -> Result<u64, String> {
    crate::compare::memory::parse_size(text)
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse::<Format>().map_err(|e| e.to_string())
}

/// `driftd profile --input … --output …`, or one of its subcommands.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub command: Option<ProfileCommand>,
    /// Dataset files, profiled as one dataset (CSV, Parquet, Arrow IPC or JSON Lines, by
    /// extension; `--input part-*.parquet` as the shell expands it).
    #[arg(long, num_args = 1.., required = true, value_name = "PATH")]
    pub input: Vec<PathBuf>,
    /// Where to write the profile (binary, replaced atomically).
    #[arg(long, short, required = true, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Numeric binning whose edges are frozen from the data: quantile[:N] | equal-width:N | edges:a,b,…
    #[arg(long, default_value = "quantile", value_parser = parse_binning)]
    pub psi_binning: Binning,
    /// Take the bin edges (and binning) from this profile instead: for a current dataset, or one
    /// partition of a reference, so that its bins can be compared or merged with that profile's.
    #[arg(long, value_name = "PROFILE")]
    pub edges_from: Option<PathBuf>,
    /// Profile only these columns (comma-separated names or patterns with `*` and `?`).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Option<Vec<String>>,
    /// Read the inputs as this format, whatever their extensions.
    #[arg(long, value_parser = parse_format, value_name = "FORMAT")]
    pub input_format: Option<Format>,
    /// The KLL sketches' k (rank error about 1.65 % at the default 200).
    #[arg(long, default_value_t = crate::stats::kll::DEFAULT_K, value_name = "K")]
    pub sketch_k: u16,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Merge profiles of parts of one dataset (same binning, columns and edges) into one.
    Merge(ProfileMergeArgs),
    /// Print a profile as JSON (its sketches summarised: k, n, retained items, error bound).
    Show(ProfileShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ProfileMergeArgs {
    /// The profiles to merge.
    #[arg(required = true, num_args = 2.., value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Where to write the merged profile.
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ProfileShowArgs {
    #[arg(value_name = "PROFILE")]
    pub path: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Fit a reference profile from a dataset and save it.
    Fit(ReferenceFitArgs),
    /// Print a profile's metadata and a table of its features.
    Show(ReferenceShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReferenceFitArgs {
    /// Dataset to fit from (CSV, Parquet, Arrow IPC or JSON Lines, by extension).
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// Where to write the profile (JSON; replaced atomically).
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
    /// Prediction columns (comma-separated); the other columns are the inputs.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub predictions: Vec<String>,
    /// Keep only these input columns (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Option<Vec<String>>,
    /// Columns that are neither inputs nor predictions, e.g. ids and timestamps (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub exclude: Vec<String>,
    /// Model version to record in the profile.
    #[arg(long, value_name = "VERSION")]
    pub model_version: Option<String>,
    /// Numeric binning whose edges are frozen: quantile[:N] | equal-width:N | edges:a,b,… | evidently
    #[arg(long, default_value = "quantile", value_parser = parse_binning)]
    pub binning: Binning,
    /// Keep at most N sorted values per numeric feature (evenly spaced quantiles; 0 keeps all).
    /// Bin edges, bin counts and std always use every value.
    #[arg(long, default_value_t = crate::reference::DEFAULT_MAX_SAMPLE, value_name = "N")]
    pub max_sample: usize,
    /// Read the input as this format, whatever its extension.
    #[arg(long, value_parser = parse_format, value_name = "FORMAT")]
    pub input_format: Option<Format>,
}

#[derive(Debug, clap::Args)]
pub struct ReferenceShowArgs {
    /// The profile to show.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a positive number of rows per second")),
    }
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The monitor's name.
    pub monitor: String,
    /// The daemon's HTTP address (`http.listen`); `https://HOST:PORT` with `http.tls`.
    #[arg(long, default_value = "127.0.0.1:9464", value_name = "HOST:PORT")]
    pub addr: String,
    /// PEM file of the CA that signed the daemon's certificate (`http.tls`): the request is
    /// made over HTTPS, trusting this CA only. Default: `$DRIFTD_API_CA_FILE`.
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Only this stream.
    #[arg(long, value_name = "inputs|predictions")]
    pub stream: Option<String>,
    /// Only the last N windows.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print the API's JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Add a silence: `driftd silence add --matcher rule=input_psi_high --matcher feature=income --duration 2h`.
    Add(SilenceAddArgs),
    /// List the silences (active and expired).
    List(SilenceAddr),
    /// End a silence now.
    Expire(SilenceExpireArgs),
}

#[derive(Debug, clap::Args)]
pub struct SilenceAddr {
    /// The daemon's HTTP address (`http.listen`); `https://HOST:PORT` with `http.tls`.
    #[arg(long, default_value = "127.0.0.1:9464", value_name = "HOST:PORT")]
    pub addr: String,
    /// PEM file of the CA that signed the daemon's certificate (`http.tls`): the request is
    /// made over HTTPS, trusting this CA only. Default: `$DRIFTD_API_CA_FILE`.
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
}

impl SilenceAddr {
    pub fn endpoint(&self) -> crate::http_client::Endpoint {
        crate::http_client::Endpoint::new(&self.addr, self.ca_file.as_deref())
    }
}

#[derive(Debug, clap::Args)]
pub struct SilenceAddArgs {
    #[command(flatten)]
    pub addr: SilenceAddr,
    /// `label=value` on the alert's labels (rule, monitor, stream, feature, severity, the rule's
    /// labels); a value ending in `*` matches a prefix. Repeatable; all must match.
    #[arg(long = "matcher", value_name = "LABEL=VALUE", required = true)]
    pub matchers: Vec<String>,
    /// How long: `30m`, `2h`, `1d`.
    #[arg(long)]
    pub duration: String,
    #[arg(long, default_value = "")]
    pub comment: String,
}

#[derive(Debug, clap::Args)]
pub struct SilenceExpireArgs {
    #[command(flatten)]
    pub addr: SilenceAddr,
    /// The silence's id (from `add` or `list`).
    pub id: String,
}
