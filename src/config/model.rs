//! The resolved configuration that the daemon runs: defaults applied, durations and binnings
//! parsed, paths made relative to the configuration file's directory, Kafka defaults merged
//! into each source. Produced only from a file without problems, so every value here has
//! passed the checks listed in `validate.rs`. The meaning of each setting is documented on
//! the matching field of [`crate::config::schema`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::dataset::Format;
use crate::record::Stream;
use crate::stats::binning::Binning;
use crate::stats::statistic::Statistics;

pub use super::schema::{PredictionKind, SmtpTls, StartPosition, TimeFormat, WindowKind};

/// A validated `driftd.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The configuration file, as given.
    pub file: PathBuf,
    /// HTTP server address.
    pub http: HttpConfig,
    /// Embedded store.
    pub state: StateConfig,
    /// The monitors, in file order; names are unique.
    pub monitors: Vec<MonitorConfig>,
    /// Alert rule files and directories (each exists), resolved against the file's directory.
    pub rules: Vec<PathBuf>,
    /// The SMTP server of `email` actions.
    pub smtp: Option<SmtpConfig>,
    /// `kafka.brokers`: the default brokers of `kafka` actions too.
    pub kafka_brokers: Option<String>,
    /// `kafka.properties`: the librdkafka properties of `kafka` actions' producers too
    /// (`security.protocol`, `sasl.*`, `ssl.*` …), checked by the same rules as the sources'.
    pub kafka_properties: BTreeMap<String, String>,
}

/// `smtp:`: the SMTP server of the email actions, as the dispatcher takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Environment variables holding the credentials (no authentication when unset).
    pub username_env: Option<String>,
    pub password_env: Option<String>,
    /// The sender, `driftd <driftd@example.com>` or a bare address.
    pub from: String,
    /// Per-attempt timeout of each SMTP command.
    pub timeout: Duration,
    /// An extra trusted root certificate (PEM) for a relay with a private CA; the system's
    /// roots are trusted in any case.
    pub ca_file: Option<PathBuf>,
}

/// `http:`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Address of `/metrics`, `/healthz`, `/readyz` and `/api/v1`.
    pub listen: SocketAddr,
    /// The environment variable of the API's bearer token (`http.token_env`).
    pub token_env: Option<String>,
    /// The token protects every endpoint but the probes (`http.auth: all`).
    pub protect_all: bool,
    /// `http.allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// `http.request_timeout`: a request's whole handling, body included.
    pub request_timeout: std::time::Duration,
    /// `http.tls`: the listener's certificate and key (PEM files, checked to load together).
    pub tls: Option<HttpTlsConfig>,
}

/// `http.tls`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// `state:`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    /// Directory of the embedded store (resolved against the configuration file's directory).
    pub path: PathBuf,
}

/// One monitor (one deployed model).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    /// Unique name, `[a-z0-9_-]+`.
    pub name: String,
    /// Version of the deployed model.
    pub model_version: Option<String>,
    /// What the windows are compared with.
    pub reference: ReferenceConfig,
    /// Numeric binning for references driftd fits itself (dataset, capture, trailing); `None`
    /// for a profile reference, whose edges are frozen in the profile.
    pub binning: Option<Binning>,
    /// Statistics computed for each closed window (at least one selected).
    pub statistics: Statistics,
    /// The current window.
    pub window: WindowConfig,
    /// Values kept exactly for KS per feature and window before switching to a sketch (≥ 1).
    pub ks_sample_cap: usize,
    /// The input stream, if monitored.
    pub inputs: Option<StreamConfig>,
    /// The prediction stream, if monitored. At least one of the two is present.
    pub predictions: Option<StreamConfig>,
    /// The labels stream (with a keyed `predictions` stream), if monitored.
    pub labels: Option<StreamConfig>,
}

impl MonitorConfig {
    /// The monitored streams, inputs first.
    pub fn streams(&self) -> impl Iterator<Item = (Stream, &StreamConfig)> {
        let inputs = self.inputs.as_ref().map(|s| (Stream::Inputs, s));
        let predictions = self.predictions.as_ref().map(|s| (Stream::Predictions, s));
        let labels = self.labels.as_ref().map(|s| (Stream::Labels, s));
        inputs.into_iter().chain(predictions).chain(labels)
    }
}

/// Where a monitor's reference comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferenceConfig {
    /// A profile file from `driftd reference fit` (the file exists).
    Profile { path: PathBuf },
    /// A dataset fitted at start-up (the file exists).
    Dataset {
        path: PathBuf,
        /// Format given or implied by the extension.
        format: Format,
        /// Columns holding the model's outputs (the predictions stream's reference).
        predictions: Vec<String>,
        /// Columns ignored.
        exclude: Vec<String>,
    },
    /// The first `events` events of each stream (≥ 1), persisted.
    Capture { events: u64 },
    /// The previous `windows` closed windows (≥ 1).
    Trailing { windows: u32 },
}

/// A window's length or step: event time, or a number of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSize {
    /// A span of event time (> 0, whole milliseconds).
    Time(Duration),
    /// A number of events (> 0).
    Events(u64),
}

/// `window:`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowConfig {
    pub kind: WindowKind,
    /// The window's length.
    pub size: WindowSize,
    /// How often a window starts: equal to `size` for tumbling windows; for sliding windows
    /// the same unit as `size`, dividing it, with at most [`MAX_OPEN_WINDOWS`] windows open.
    pub slide: WindowSize,
    /// Time windows: watermark = latest event time − this (zero for count windows).
    pub allowed_lateness: Duration,
    /// Time windows: processing-time watermark advance after this much silence; `None` when
    /// turned off and for count windows.
    pub idle_timeout: Option<Duration>,
}

/// Most overlapping windows a sliding window may keep open (`size / slide`).
pub const MAX_OPEN_WINDOWS: u64 = 1000;

/// One stream of a monitor.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamConfig {
    pub source: SourceConfig,
    pub event_time: EventTimeConfig,
    /// What is read from each message.
    pub values: StreamValues,
    /// Kafka only: dead-letter topic for messages that do not decode.
    pub dead_letter_topic: Option<String>,
    /// Largest message or line accepted, in bytes (≥ 1).
    pub max_message_bytes: usize,
    /// Most features discovered for an open feature set (`max_features`, inputs only).
    pub max_features: usize,
    /// The join key's JSON pointer (predictions and labels).
    pub key: Option<String>,
}

pub use crate::source::DEFAULT_MAX_FEATURES;

/// Where a stream's messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceConfig {
    Kafka(KafkaSourceConfig),
    File(FileSourceConfig),
}

pub use crate::source::kafka::KafkaSourceConfig;

/// A file replayed as a stream (the file exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSourceConfig {
    pub path: PathBuf,
    /// `JsonLines`, `Csv` or `Parquet`.
    pub format: Format,
}

/// Where an event's time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTimeConfig {
    /// The Kafka message timestamp.
    KafkaTimestamp,
    /// A field of the message, by JSON pointer.
    Field { pointer: String, format: TimeFormat },
    /// No event time (file sources without `event_time`): count windows only.
    None,
}

/// What a stream's messages carry.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamValues {
    /// The inputs stream's features.
    Features(FeatureSelection),
    /// The predictions stream's prediction.
    Prediction(PredictionConfig),
    /// The labels stream's label and how it is joined.
    Label(LabelConfig),
}

/// A labels stream: where the label is, and the join's settings (`crate::labels`).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelConfig {
    /// JSON pointer to the label.
    pub pointer: String,
    pub settings: crate::labels::JoinSettings,
}

/// Which features an inputs stream monitors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSelection {
    /// Every key of `/features` (JSON) or every column but the event-time one (CSV, Parquet).
    All,
    /// Every key of the object at this JSON pointer.
    Object { pointer: String },
    /// These features (names unique, pointers valid JSON pointers).
    List(Vec<FeatureField>),
}

/// One listed feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureField {
    pub name: String,
    /// JSON pointer (RFC 6901) to the value.
    pub pointer: String,
}

/// The prediction of a predictions stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictionConfig {
    /// JSON pointer (RFC 6901) to the prediction.
    pub pointer: String,
    pub kind: PredictionKind,
    /// `Probabilities` only (non-empty, unique): the class of each array element.
    pub classes: Vec<String>,
}
