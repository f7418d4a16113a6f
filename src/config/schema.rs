//! The configuration file as written: one type per YAML mapping, one documented field per key.
//!
//! These types are the reference for the format (docs/ quotes their docs). They hold
//! what the file says, with text for the values that need parsing (durations, binning,
//! addresses, paths); `validate.rs` turns them into the resolved [`crate::config::Config`].
//! Every struct rejects unknown keys. Optional keys are `Option`s (their defaults are
//! applied by the validation, and documented here); see `de.rs` for why there is no
//! `#[serde(default)]` and what the `$map` / `$seq` / `$scalar` variant names mean.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A `driftd.yaml` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The HTTP server: Prometheus `/metrics`, `/healthz`, `/readyz` and the `/api/v1` API.
    pub http: Option<Http>,
    /// Where driftd keeps checkpoints, captured references and drift history.
    pub state: Option<State>,
    /// Defaults for every Kafka source: brokers and librdkafka properties.
    pub kafka: Option<KafkaDefaults>,
    /// One monitor per deployed model (at least one).
    pub monitors: Vec<Monitor>,
    /// Alert rule files, or directories of them (`*.yaml`, `*.yml`), relative to this file
    /// (format: docs/rules.md). Loaded and checked with the configuration.
    pub rules: Option<Vec<String>>,
    /// The SMTP server of `email` actions.
    pub smtp: Option<Smtp>,
}

/// `smtp:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Server host name.
    pub host: String,
    /// Default 587 with `starttls`, 465 with `tls`, 25 with `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS) or `none` (plain text; loopback relays).
    pub tls: Option<SmtpTls>,
    /// Environment variables holding the credentials (never the credentials themselves).
    pub username_env: Option<String>,
    pub password_env: Option<String>,
    /// The sender address.
    pub from: String,
    /// Per-message timeout, a duration. Default 30s.
    pub timeout: Option<String>,
    /// PEM file of the certificate authorities to trust for the server's certificate (a
    /// private CA), instead of the system's.
    pub ca_file: Option<String>,
}

/// How the SMTP connection is secured (`smtp.tls` in `driftd.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    Starttls,
    /// TLS from the first byte ("SMTPS"), usually port 465.
    Tls,
    /// No encryption (a local relay, tests).
    None,
}

/// `http:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Address to listen on, `IP:PORT` (`[::1]:9464` for IPv6). Default `127.0.0.1:9464`:
    /// loopback only; write `0.0.0.0:9464` to expose the endpoints.
    pub listen: Option<String>,
    /// Name of the environment variable holding the API's bearer token. When set, the
    /// mutating endpoints (silences, notifications) require `Authorization: Bearer <token>`
    /// (and every endpoint but `/healthz` and `/readyz` with `auth: all`).
    pub token_env: Option<String>,
    /// What the token protects: `mutating` (the default) or `all`.
    pub auth: Option<AuthScope>,
    /// Host names the API answers to (the `Host` header), besides the listen address. A
    /// loopback listener always answers `localhost` and the loopback addresses only (DNS
    /// rebinding); another listener answers any host unless this is set.
    pub allowed_hosts: Option<Vec<String>>,
    /// Longest a request may take from its headers to its response, its body included (a
    /// duration, at most 1h); a slower one is answered 408 and its connection closed.
    /// Default 30s.
    pub request_timeout: Option<String>,
    /// HTTPS: the listener speaks TLS only (rustls, TLS 1.2 and 1.3), with this certificate.
    pub tls: Option<HttpTls>,
}

/// `http.tls`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTls {
    /// PEM file of the server's certificate, followed by its intermediates. A relative path
    /// is taken from the configuration file's directory.
    pub cert_file: String,
    /// PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1). Keep it readable
    /// by driftd's user only.
    pub key_file: String,
}

/// `http.auth`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthScope {
    Mutating,
    All,
}

/// `state:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Directory of the embedded store, created when absent. A relative path is taken from
    /// the directory of the configuration file. Default `driftd-state`.
    pub path: Option<String>,
}

/// `kafka:`, defaults shared by every Kafka source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaDefaults {
    /// Bootstrap brokers, `host:port[,host:port…]`, for every source that names none.
    pub brokers: Option<String>,
    /// librdkafka properties for every consumer (`security.protocol`, `sasl.*`, `ssl.*`, …),
    /// passed as they are; a source's own `properties` override them key by key. Keys naming
    /// a password or secret must take their value from the environment (`${VAR}`).
    /// `bootstrap.servers`, `group.id` and `enable.auto.commit` are set by driftd.
    pub properties: Option<BTreeMap<String, String>>,
    /// Static group membership (KIP-345): a name for this driftd instance that stays the same
    /// across its restarts (a StatefulSet pod's name, a host name). Each stream's consumer
    /// joins its group as the static member `<instance_id>-<monitor>-<stream>`, so a
    /// restarted instance gets its partitions back at once instead of after the dead
    /// member's session timeout. 1–200 of `A-Za-z0-9._-`.
    pub instance_id: Option<String>,
}

/// One entry of `monitors:`, a deployed model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    /// Unique name, `[a-z0-9_-]+`, at most 64 characters: the `monitor` label of every metric
    /// and the key of everything stored for this monitor.
    pub name: String,
    /// Version of the deployed model (free text, e.g. a date or a git sha), recorded with every
    /// observation and with a captured reference.
    pub model_version: Option<String>,
    /// What every window is compared with: exactly one of `profile`, `dataset`, `capture`,
    /// `trailing`.
    pub reference: Reference,
    /// Numeric binning for PSI, Jensen–Shannon and Hellinger, as `compare --psi-binning`:
    /// `quantile[:N]`, `equal-width:N` or `edges:a,b,…` (`evidently` is not available: its bins
    /// depend on the current window). Default `quantile`. Not allowed with a `profile`
    /// reference, whose edges were frozen when it was fit (`driftd reference fit --binning`).
    pub binning: Option<String>,
    /// Statistics computed for each closed window, any of the registry's names (`psi`, `ks`,
    /// `chisquare`, `jensen_shannon`, `wasserstein`, `hellinger`, and the opt-in
    /// `kullback_leibler` and data-quality shares `missing_share`, `type_mismatch_share`,
    /// `out_of_range_share`, `unseen_category_share`). Default: the registry's default set (all
    /// but the opt-in ones).
    pub statistics: Option<Vec<Statistic>>,
    /// The current window.
    pub window: Window,
    /// KS keeps up to this many values per feature and window and is exact up to it; beyond
    /// it a KLL sketch is used and its error bound is reported with the value. Default 100000.
    pub ks_sample_cap: Option<u64>,
    /// The model's streams: `inputs`, `predictions`, or both (at least one).
    pub streams: Streams,
}

/// `reference:`, exactly one of its variants.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    /// `profile: PATH`: a profile written by `driftd reference fit` (relative to the
    /// configuration file's directory).
    Profile(String),
    /// `dataset: {path, …}`: a dataset fitted when driftd starts.
    Dataset(DatasetReference),
    /// `capture: {events: N}`: the first N events of each stream, persisted in the state store
    /// so that a restart does not capture again.
    Capture(CaptureReference),
    /// `trailing: {windows: N}`: the previous N closed windows.
    Trailing(TrailingReference),
}

/// `reference: {dataset: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetReference {
    /// The dataset file (CSV, Parquet, Arrow IPC or JSON Lines), relative to the configuration
    /// file's directory.
    pub path: String,
    /// `csv`, `parquet`, `arrow` or `jsonl`. Default: from the file's extension.
    pub format: Option<String>,
    /// Columns holding the model's outputs: the reference of the `predictions` stream
    /// (required when the monitor has one). The other columns are inputs.
    pub predictions: Option<Vec<String>>,
    /// Columns that are neither inputs nor predictions (ids, timestamps).
    pub exclude: Option<Vec<String>>,
}

/// `reference: {capture: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureReference {
    /// Number of events to capture per stream (at least 1).
    pub events: u64,
}

/// `reference: {trailing: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailingReference {
    /// Number of previous closed windows that form the reference (at least 1).
    pub windows: u32,
}

/// A statistic's name: the registry's own type (`stats::statistic`).
pub use crate::stats::statistic::Statistic;

/// `window:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `tumbling` (back to back) or `sliding` (overlapping, one every `slide`). Default
    /// `tumbling`.
    pub kind: Option<WindowKind>,
    /// Length: a duration of event time (`500ms`, `30s`, `15m`, `1h`, `1d`, or combined such
    /// as `1h30m`), or a count of events (`10000 events`).
    pub size: String,
    /// Sliding windows only: how often a window starts, in the unit of `size`, dividing it.
    pub slide: Option<String>,
    /// Time windows only: how far behind the latest event time an event may arrive and still
    /// count (the watermark is the latest event time minus this). Later events are counted
    /// as late. Default `0s`.
    pub allowed_lateness: Option<String>,
    /// Time windows only: when a stream has been silent this long (processing time), the
    /// watermark advances by the time that passed, so its windows still close. `0s` turns
    /// this off. Default `1m`.
    pub idle_timeout: Option<String>,
}

/// Tumbling or sliding windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    Tumbling,
    Sliding,
}

/// `streams:`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Streams {
    /// The model's input features.
    pub inputs: Option<InputsStream>,
    /// The model's outputs.
    pub predictions: Option<PredictionsStream>,
    /// The ground truth, joined to the predictions by `key` (the `predictions` stream needs a
    /// `key` too): the model's performance per window of the predictions (docs/performance.md).
    pub labels: Option<LabelsStream>,
}

/// `streams: {inputs: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputsStream {
    /// Where the messages come from: `kafka: {…}` or `file: {…}`.
    pub source: Source,
    /// Where an event's time comes from. Default: the Kafka message timestamp for Kafka
    /// sources; none for file sources, which then allow count windows only.
    pub event_time: Option<EventTime>,
    /// Which features to monitor: `"*"` (default), `{object: POINTER}`, or a list.
    pub features: Option<Features>,
    /// Kafka only: forward messages that do not decode to this topic, with the reason in a
    /// `driftd-error` header. Default: none (they are counted and logged only).
    pub dead_letter_topic: Option<String>,
    /// Largest message (Kafka) or line (file) accepted, in bytes; larger ones are counted as
    /// invalid and skipped. Default 1048576 (1 MiB).
    pub max_message_bytes: Option<u64>,
    /// Most features discovered when the feature set is open (`"*"`, `{object: …}`) and the
    /// reference is captured or trailing: the first names met are kept, the others logged as
    /// `too_many_features` and counted as unknown fields. 1 to 100000; default 1000.
    pub max_features: Option<u64>,
}

/// `streams: {predictions: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionsStream {
    /// Where the messages come from: `kafka: {…}` or `file: {…}`.
    pub source: Source,
    /// Where an event's time comes from (as for `inputs`).
    pub event_time: Option<EventTime>,
    /// Where the prediction is in a message and what it is.
    pub prediction: Prediction,
    /// Kafka only: dead-letter topic (as for `inputs`).
    pub dead_letter_topic: Option<String>,
    /// Largest message or line accepted, in bytes (as for `inputs`). Default 1048576.
    pub max_message_bytes: Option<u64>,
    /// JSON pointer to the key that joins a prediction to its label (`/request_id`). Required
    /// with a `labels` stream.
    pub key: Option<String>,
}

/// `streams: {labels: …}`: the ground truth of the predictions, arriving later.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelsStream {
    /// Where the messages come from: `kafka: {…}` or `file: {…}`.
    pub source: Source,
    /// Where an event's time comes from (as for `inputs`); a time window needs one.
    pub event_time: Option<EventTime>,
    /// JSON pointer to the key of the prediction a label belongs to (`/request_id`).
    pub key: String,
    /// JSON pointer to the label: for a classifier 0/1 or `true`/`false` (1 and `true` are the
    /// positive class), for a regressor the target value.
    pub label: String,
    /// `classification` (default: a binary classifier whose prediction is a score or a 0/1
    /// label) or `regression`.
    pub task: Option<LabelTask>,
    /// Classification: a score ≥ this predicts the positive class. Default 0.5.
    pub threshold: Option<f64>,
    /// How much later than its prediction (event time) a label may be: the prediction waits
    /// that long for it, then counts as unlabelled. Default `7d`.
    pub retention: Option<String>,
    /// Most predictions and labels waiting for their counterpart; past it the oldest waiting
    /// prediction is given up (counted as evicted). Default 1000000.
    pub max_pending: Option<u64>,
    /// Most joined pairs kept per window for the metrics (16 bytes each); pairs beyond are
    /// counted, not used. Default 100000.
    pub max_pairs_per_window: Option<u64>,
    /// Labelled shares (0 to 1) at which a window's performance is published before it is
    /// final, each once (`[0.5, 0.8]`). Default none: published once, when final.
    pub publish_at: Option<Vec<f64>>,
    /// Which version of a window's performance the rules evaluate: `final` (default: once no
    /// label can join any more) or a labelled share (`0.8`: the first version with at least
    /// 80 % of its predictions labelled, or the final one if it never gets there).
    pub rules_at: Option<RulesAt>,
    /// Kafka only: dead-letter topic (as for `inputs`).
    pub dead_letter_topic: Option<String>,
    /// Largest message or line accepted, in bytes (as for `inputs`). Default 1048576.
    pub max_message_bytes: Option<u64>,
}

/// `task:` of a labels stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelTask {
    Classification,
    Regression,
}

/// `rules_at:` of a labels stream: `final` or a labelled share.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RulesAt {
    Share(f64),
    Word(RulesAtWord),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RulesAtWord {
    Final,
}

/// `source:`, exactly one of its variants.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A Kafka topic.
    Kafka(KafkaSource),
    /// A file, replayed in event-time order; driftd ends once it is exhausted and every window
    /// is flushed.
    File(FileSource),
}

/// `source: {kafka: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSource {
    /// The topic to consume.
    pub topic: String,
    /// Bootstrap brokers; default: `kafka.brokers`.
    pub brokers: Option<String>,
    /// Consumer group. Default `driftd-<monitor>-<stream>`. Instances sharing a group split
    /// the topic's partitions.
    pub group_id: Option<String>,
    /// Where to start: `committed` (the group's committed offsets, else the earliest; the
    /// default), `earliest` or `latest`.
    pub start: Option<StartPosition>,
    /// librdkafka properties for this consumer, over `kafka.properties`.
    pub properties: Option<BTreeMap<String, String>>,
    /// How messages are written: `json` (the default), `avro` or `protobuf`.
    pub format: Option<MessageFormat>,
    /// Avro: a `.avsc` file (with a registry, the reader schema writers resolve against).
    /// Protobuf: a `.proto` file or a compiled descriptor set (`.desc`, `.pb`).
    pub schema: Option<String>,
    /// Protobuf: the fully qualified message type (`credit.Request`). Needed with a local
    /// schema; with a registry the message's own indexes name it.
    pub message: Option<String>,
    /// A Confluent-compatible schema registry: messages are framed (magic byte 0, schema id)
    /// and their writer schemas fetched by id.
    pub registry: Option<Box<Registry>>,
}

/// A message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFormat {
    Json,
    Avro,
    Protobuf,
}

/// `registry:` of a Kafka source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// `http://host:port` or `https://…`.
    pub url: String,
    /// Basic authentication: the environment variables holding the user name and password.
    pub username_env: Option<String>,
    pub password_env: Option<String>,
    /// Bearer authentication: the environment variable holding the token.
    pub token_env: Option<String>,
    /// How long a message whose schema is not cached waits for an unreachable registry before
    /// it is dead-lettered (`registry_unavailable`). Default 10s.
    pub retry_for: Option<String>,
}

/// Where a Kafka consumer starts (owned by the Kafka source).
pub use crate::source::kafka::StartPosition;

/// `source: {file: …}`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSource {
    /// The file, relative to the configuration file's directory.
    pub path: String,
    /// `jsonl` (one JSON message per line), `csv` or `parquet` (one row per event, each row
    /// read as a flat object of its columns). Default: from the file's extension.
    pub format: Option<String>,
}

/// `event_time:`, either `kafka_timestamp` or `{field, format}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum EventTime {
    /// `kafka_timestamp`: the Kafka message's timestamp (Kafka sources only).
    #[serde(rename = "kafka_timestamp")]
    KafkaTimestamp,
    /// `{field: POINTER, format: …}`: a field of the message.
    #[serde(rename = "$map")]
    Field(EventTimeField),
}

/// `event_time: {field, format}`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTimeField {
    /// JSON pointer to the field (`/ts`, `/meta/time`; a CSV or Parquet column `ts` is `/ts`).
    pub field: String,
    /// `rfc3339` (text such as `2026-11-01T12:00:00Z`), `epoch_s` or `epoch_ms` (numbers,
    /// fractions allowed). Default `rfc3339`.
    pub format: Option<TimeFormat>,
}

/// How an event-time field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormat {
    Rfc3339,
    EpochS,
    EpochMs,
}

/// `features:`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum Features {
    /// `"*"`: every key of the message's `features` object (JSON), or every column of a CSV or
    /// Parquet row except the event-time column.
    #[serde(rename = "*")]
    All,
    /// `{object: POINTER}`: every key of the object at this JSON pointer.
    #[serde(rename = "object")]
    Object(String),
    /// A list of features, each a name (`income`, read from `/features/income`, or the
    /// column `income` of a CSV or Parquet row) or `{name, pointer}`.
    #[serde(rename = "$seq")]
    List(Vec<FeatureRef>),
}

/// One entry of a `features:` list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub enum FeatureRef {
    /// A bare name.
    #[serde(rename = "$scalar")]
    Name(String),
    /// `{name, pointer}`.
    #[serde(rename = "$map")]
    Spec(FeatureSpec),
}

/// `{name, pointer}` in a `features:` list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// The feature's name in metrics and reports (unique within the stream).
    pub name: String,
    /// JSON pointer to the value. Default `/features/<name>` (`/<name>` for CSV and Parquet).
    pub pointer: Option<String>,
}

/// `prediction:`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prediction {
    /// JSON pointer to the prediction (`/score`; a CSV or Parquet column `score` is `/score`).
    pub pointer: String,
    /// `score` (a number), `label` (a class name) or `probabilities` (an array of numbers, one
    /// per class, each monitored as a feature named after its class). Default `score`.
    pub kind: Option<PredictionKind>,
    /// `probabilities` only: the class names, in the order of the array.
    pub classes: Option<Vec<String>>,
}

/// What a prediction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionKind {
    Score,
    Label,
    Probabilities,
}
