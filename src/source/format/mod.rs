//! Kafka message formats other than JSON: Avro and Protobuf, each from a local schema or a
//! Confluent-compatible schema registry. A [`Translator`] turns one message into the JSON the
//! [`Decoder`](crate::source::Decoder) reads, so field paths, typing and errors stay those of
//! JSON and nothing after the decoder knows the format. `avro.rs` (its value mapping in
//! `avro_json.rs`) and the registry client `registry.rs`; Protobuf is not implemented yet
//! (the configuration refuses it).

mod avro;
mod avro_json;
pub mod registry;

use std::path::PathBuf;

use serde_json::Value as Json;

use super::spec::{DecodeError, EventTimeSpec, TimeFormat};
use crate::source::time::format_time_ms;
pub use registry::{RegistryAuth, RegistrySpec};

/// How a Kafka stream's messages are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageFormat {
    #[default]
    Json,
    Avro,
    Protobuf,
}

impl MessageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageFormat::Json => "json",
            MessageFormat::Avro => "avro",
            MessageFormat::Protobuf => "protobuf",
        }
    }
}

/// A stream's format and where its schema comes from (checked by the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormatSpec {
    pub format: MessageFormat,
    /// `.avsc`; `.proto`, or a descriptor set `.desc` / `.pb`. With a registry, Avro's is the
    /// reader schema the writers' schemas resolve against.
    pub schema_file: Option<PathBuf>,
    /// Protobuf: the fully qualified message name.
    pub message: Option<String>,
    pub registry: Option<RegistrySpec>,
    /// The registry subject of the reader schema: `<topic>-value`.
    pub subject: String,
}

/// How timestamp values (Avro `timestamp-*`, `google.protobuf.Timestamp`) are written into
/// the JSON: the stream's event-time format, so `event_time: {field: /ts}` reads them as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRender {
    Rfc3339,
    EpochSeconds,
    EpochMillis,
}

impl TimeRender {
    pub fn of(event_time: &EventTimeSpec) -> TimeRender {
        match event_time {
            EventTimeSpec::Field { format: TimeFormat::Rfc3339, .. } => TimeRender::Rfc3339,
            EventTimeSpec::Field { format: TimeFormat::EpochSeconds, .. } => TimeRender::EpochSeconds,
            EventTimeSpec::Field { format: TimeFormat::EpochMillis, .. } | EventTimeSpec::KafkaTimestamp => {
                TimeRender::EpochMillis
            }
        }
    }

    fn render(self, ms: i64) -> Json {
        match self {
            TimeRender::Rfc3339 => Json::String(format_time_ms(ms)),
            TimeRender::EpochMillis => Json::from(ms),
            TimeRender::EpochSeconds => {
                serde_json::Number::from_f64(ms as f64 / 1000.0).map_or(Json::Null, Json::Number)
            }
        }
    }
}

/// One stream's Avro or Protobuf reader; shared by its reader task (`&self`).
pub struct Translator {
    kind: Kind,
    max_bytes: usize,
}

enum Kind {
    Avro(Box<avro::AvroFormat>),
}

impl Translator {
    /// `None` for JSON; else the schema file read and compiled, or why not (a message that
    /// names the file).
    pub fn new(spec: &FormatSpec, time: TimeRender, max_bytes: usize) -> Result<Option<Translator>, String> {
        let kind = match spec.format {
            MessageFormat::Json => return Ok(None),
            MessageFormat::Avro => Kind::Avro(Box::new(avro::AvroFormat::new(spec, time)?)),
            MessageFormat::Protobuf => return Err("format: protobuf is not supported yet".into()),
        };
        Ok(Some(Translator { kind, max_bytes }))
    }

    /// The message as JSON text; waits for the registry (see [`RegistrySpec::retry_for`]) when
    /// the message's schema is not known yet.
    pub async fn to_json(&self, bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
        if bytes.len() > self.max_bytes {
            return Err(DecodeError::TooLarge { size: bytes.len(), limit: self.max_bytes });
        }
        let json = match &self.kind {
            Kind::Avro(avro) => avro.to_json(bytes).await?,
        };
        // Serialising a `serde_json::Value` cannot fail (string keys only).
        Ok(serde_json::to_vec(&json).unwrap_or_default())
    }
}

/// A registry error as the message's decode error.
fn fetch_error(id: u32, error: registry::Fetch) -> DecodeError {
    match error {
        registry::Fetch::NotFound => DecodeError::UnknownSchema { id },
        registry::Fetch::Unavailable(message) => DecodeError::RegistryUnavailable { id, message },
    }
}
