//! The one event type passed between pipeline stages: source → decode → monitor.
//!
//! A [`Record`] is one decoded message of one stream (a model's inputs or its predictions),
//! stamped with its event time and where it came from, carrying one [`Value`] per monitored
//! feature of that stream, in the order of the stream's feature list (the decoder resolves
//! names and JSON pointers once, so the hot path never hashes feature names). How a value
//! counts (number, category, missing, non-finite) is decided by the monitor against the
//! feature's type in the reference profile, with the same rules as `driftd compare`.

use std::fmt;

/// Which of a monitor's streams a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// The model's input features.
    Inputs,
    /// The model's outputs (score, label, or per-class probabilities).
    Predictions,
    /// The ground truth, arriving later, joined to the predictions by a key (`crate::labels`).
    Labels,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Inputs => "inputs",
            Stream::Predictions => "predictions",
            Stream::Labels => "labels",
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One feature's value as decoded, before typing.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A JSON number (or a number read from a typed file column). May be ±inf or NaN when
    /// the source can express them.
    Number(f64),
    /// A JSON string (its text may still parse as a number: `"1.5"`, `"NaN"`).
    Text(String),
    /// A JSON boolean: categorical `"true"` / `"false"`.
    Bool(bool),
    /// JSON null, or the field is absent from the message.
    Missing,
}

/// Where a record came from, so a window can name the data it was computed on and a restart
/// can resume after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// A Kafka message.
    Kafka { topic: String, partition: i32, offset: i64 },
    /// A line (1-based; for Parquet: the row, 1-based) of a file source.
    File { line: u64 },
}

impl Position {
    /// The source partition: the Kafka partition, 0 for a file (one partition).
    pub fn partition(&self) -> i32 {
        match self {
            Position::Kafka { partition, .. } => *partition,
            Position::File { .. } => 0,
        }
    }
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Index of the monitor in the configuration.
    pub monitor: usize,
    pub stream: Stream,
    /// Event time, milliseconds since the Unix epoch (UTC).
    pub event_time_ms: i64,
    /// One value per feature of the stream's feature list, in that order.
    pub values: Vec<Value>,
    pub position: Position,
    /// The join key of a prediction or a label (`key:` of the stream; `None` when not set or
    /// absent from the message).
    pub key: Option<Box<str>>,
}
