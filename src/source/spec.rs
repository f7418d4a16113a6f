//! The decoder's public types: what to decode ([`DecodeSpec`]), per-message context
//! ([`DecodeContext`]), the result ([`Decoded`]), and the errors — per message
//! ([`DecodeError`], labelled by a stable [`DecodeReason`]) and per configuration
//! ([`SpecError`]). Plain data; the configuration module maps YAML onto [`DecodeSpec`].

use crate::record::{Position, Record, Stream};

/// Default [`DecodeSpec::max_message_bytes`]: 1 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Default `max_features` of a stream: each feature becomes metric series, window state and
/// history, so a stream with a fresh key per message stops here.
pub const DEFAULT_MAX_FEATURES: usize = 1000;

/// Prefix of the feature names of per-class probabilities: `class:approve`.
pub const CLASS_PREFIX: &str = "class:";

/// How to find a stream's event time and values in its messages.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeSpec {
    pub event_time: EventTimeSpec,
    pub features: FeatureSpec,
    /// Longer messages are rejected (`too_large`) before parsing.
    pub max_message_bytes: usize,
    /// Most features discovery keeps for an open feature set (`{object: …}`, `"*"`); the
    /// names beyond are `too_many_features`. Default [`DEFAULT_MAX_FEATURES`].
    pub max_features: usize,
    /// The join key of predictions and labels (`key:` of the stream): a JSON pointer (for
    /// CSV / Parquet files: `/column`) to a string, number or boolean, kept as text in
    /// [`Record::key`]. `None`: no key read.
    pub key: Option<String>,
}

impl Default for DecodeSpec {
    /// Event time: RFC 3339 at `/event_time`; features: every key of `/features`; 1 MiB.
    fn default() -> Self {
        DecodeSpec {
            event_time: EventTimeSpec::Field { pointer: "/event_time".into(), format: TimeFormat::Rfc3339 },
            features: FeatureSpec::Object { pointer: "/features".into() },
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_features: DEFAULT_MAX_FEATURES,
            key: None,
        }
    }
}

/// Where the event time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTimeSpec {
    /// A field at a JSON pointer (for CSV / Parquet files: `/column`).
    Field { pointer: String, format: TimeFormat },
    /// The Kafka message timestamp (passed in [`DecodeContext::kafka_timestamp_ms`]).
    KafkaTimestamp,
}

/// How an event-time field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// `2024-05-01T12:00:00.250+02:00` (offset or `Z` required).
    Rfc3339,
    /// Seconds since the Unix epoch: a number or numeric string, fraction allowed.
    EpochSeconds,
    /// Milliseconds since the Unix epoch: a number or numeric string, fraction allowed.
    EpochMillis,
}

/// Where the monitored values are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSpec {
    /// Every key of the object at this pointer (`/features` by default, `""` for the root).
    Object { pointer: String },
    /// (feature name, JSON pointer) pairs; every monitored feature must be listed.
    Pointers(Vec<(String, String)>),
    /// A model's prediction at this pointer.
    Prediction { pointer: String, kind: PredictionKind },
}

/// What a prediction is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PredictionKind {
    /// A number (or numeric string); the stream has exactly one feature, whatever its name.
    Score,
    /// A class label (string, number or boolean); the stream has exactly one feature.
    Label,
    /// Class probabilities: an object `{class: p}` or an array `[p0, p1, …]` whose classes are
    /// `classes[i]` (or the index `i` when `None`). Features are named `class:<class>`.
    Probabilities { classes: Option<Vec<String>> },
}

/// Per-message facts the bytes do not carry.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeContext {
    pub monitor: usize,
    pub stream: Stream,
    pub position: Position,
    /// The Kafka message timestamp, if the source has one.
    pub kafka_timestamp_ms: Option<i64>,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub record: Record,
    /// Keys of the features object (or classes of the probabilities) that are not monitored.
    pub unknown_fields: u32,
}

/// Stable labels of decode failures, for metrics (`driftd_records_invalid_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecodeReason {
    InvalidUtf8,
    InvalidJson,
    NotAnObject,
    TooLarge,
    MissingEventTime,
    BadEventTime,
    BadFeatures,
    BadPrediction,
    /// The join key is an object or an array.
    BadKey,
    /// A CSV row that does not have the header's number of fields (file sources only).
    BadRow,
    /// Avro / Protobuf over a registry: not the Confluent framing (magic byte 0, schema id).
    BadFraming,
    /// The registry does not know the message's schema id.
    UnknownSchema,
    /// The registry could not be reached (or answered 5xx) while the message waited.
    RegistryUnavailable,
    /// The writer schema does not parse, or does not resolve against the reader schema.
    BadSchema,
    /// The bytes are not a datum of the Avro writer schema.
    InvalidAvro,
    /// The bytes are not a message of the Protobuf type.
    InvalidProtobuf,
}

impl DecodeReason {
    /// Every reason, for pre-registering metric label values.
    pub const ALL: [DecodeReason; 16] = [
        DecodeReason::InvalidUtf8,
        DecodeReason::InvalidJson,
        DecodeReason::NotAnObject,
        DecodeReason::TooLarge,
        DecodeReason::MissingEventTime,
        DecodeReason::BadEventTime,
        DecodeReason::BadFeatures,
        DecodeReason::BadPrediction,
        DecodeReason::BadKey,
        DecodeReason::BadRow,
        DecodeReason::BadFraming,
        DecodeReason::UnknownSchema,
        DecodeReason::RegistryUnavailable,
        DecodeReason::BadSchema,
        DecodeReason::InvalidAvro,
        DecodeReason::InvalidProtobuf,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecodeReason::InvalidUtf8 => "invalid_utf8",
            DecodeReason::InvalidJson => "invalid_json",
            DecodeReason::NotAnObject => "not_an_object",
            DecodeReason::TooLarge => "too_large",
            DecodeReason::MissingEventTime => "missing_event_time",
            DecodeReason::BadEventTime => "bad_event_time",
            DecodeReason::BadFeatures => "bad_features",
            DecodeReason::BadPrediction => "bad_prediction",
            DecodeReason::BadKey => "bad_key",
            DecodeReason::BadRow => "bad_row",
            DecodeReason::BadFraming => "bad_framing",
            DecodeReason::UnknownSchema => "unknown_schema",
            DecodeReason::RegistryUnavailable => "registry_unavailable",
            DecodeReason::BadSchema => "bad_schema",
            DecodeReason::InvalidAvro => "invalid_avro",
            DecodeReason::InvalidProtobuf => "invalid_protobuf",
        }
    }
}

impl std::fmt::Display for DecodeReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message did not decode. `at` names a JSON pointer (or CSV / Parquet column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid UTF-8 after {valid_up_to} bytes")]
    InvalidUtf8 { valid_up_to: usize },
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("the message is {found}, not a JSON object")]
    NotAnObject { found: &'static str },
    #[error("message of {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("no event time at {at}")]
    MissingEventTime { at: String },
    #[error("bad event time at {at}: {message}")]
    BadEventTime { at: String, message: String },
    #[error("bad feature value at {at}: {message}")]
    BadFeatures { at: String, message: String },
    #[error("bad prediction at {at}: {message}")]
    BadPrediction { at: String, message: String },
    #[error("bad key at {at}: {message}")]
    BadKey { at: String, message: String },
    #[error("{message}")]
    BadRow { message: String },
    #[error("not the schema registry's framing: {0}")]
    BadFraming(String),
    #[error("schema id {id} is unknown to the registry")]
    UnknownSchema { id: u32 },
    #[error("schema id {id}: the registry is unavailable: {message}")]
    RegistryUnavailable { id: u32, message: String },
    #[error("schema {schema}: {message}")]
    BadSchema { schema: String, message: String },
    #[error("invalid Avro ({schema}): {message}")]
    InvalidAvro { schema: String, message: String },
    #[error("invalid Protobuf ({schema}): {message}")]
    InvalidProtobuf { schema: String, message: String },
}

impl DecodeError {
    pub fn reason(&self) -> DecodeReason {
        match self {
            DecodeError::InvalidUtf8 { .. } => DecodeReason::InvalidUtf8,
            DecodeError::InvalidJson(_) => DecodeReason::InvalidJson,
            DecodeError::NotAnObject { .. } => DecodeReason::NotAnObject,
            DecodeError::TooLarge { .. } => DecodeReason::TooLarge,
            DecodeError::MissingEventTime { .. } => DecodeReason::MissingEventTime,
            DecodeError::BadEventTime { .. } => DecodeReason::BadEventTime,
            DecodeError::BadFeatures { .. } => DecodeReason::BadFeatures,
            DecodeError::BadPrediction { .. } => DecodeReason::BadPrediction,
            DecodeError::BadKey { .. } => DecodeReason::BadKey,
            DecodeError::BadRow { .. } => DecodeReason::BadRow,
            DecodeError::BadFraming(_) => DecodeReason::BadFraming,
            DecodeError::UnknownSchema { .. } => DecodeReason::UnknownSchema,
            DecodeError::RegistryUnavailable { .. } => DecodeReason::RegistryUnavailable,
            DecodeError::BadSchema { .. } => DecodeReason::BadSchema,
            DecodeError::InvalidAvro { .. } => DecodeReason::InvalidAvro,
            DecodeError::InvalidProtobuf { .. } => DecodeReason::InvalidProtobuf,
        }
    }
}

/// A spec that cannot work with a feature list (a configuration error, found at start-up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("invalid JSON pointer {pointer:?}: {why}")]
    InvalidPointer { pointer: String, why: &'static str },
    #[error("feature {0:?} is listed twice")]
    DuplicateFeature(String),
    #[error("feature {0:?} has no JSON pointer in the features list")]
    UnmappedFeature(String),
    #[error("a {kind} prediction is one feature, but the reference has {found} ({names})")]
    PredictionArity { kind: &'static str, found: usize, names: String },
    #[error("feature {0:?} of a probabilities prediction must be named \"class:<class>\"")]
    NotAClass(String),
    #[error("categorical flags for {found} features, but the stream has {expected}")]
    CategoricalLength { expected: usize, found: usize },
}
