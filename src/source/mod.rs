//! Sources: where a monitor's records come from, and how message bytes become
//! [`Record`](crate::record::Record)s.
//!
//! - [`Decoder`] (`decode.rs`; types in `spec.rs`, the pointer trie in `plan.rs`, the fast path
//!   for the common message shape in `fast.rs`, the serde walk in `walk.rs` + `visit.rs`,
//!   event-time parsing in `time.rs`): JSON message bytes +
//!   [`DecodeContext`] → [`Decoded`] or a [`DecodeError`] whose [`DecodeReason`] labels the
//!   `invalid` metric. Shared by every source.
//! - [`FileSource`] (`file.rs`; CSV in `table.rs`, Parquet / Arrow IPC in `batches.rs`):
//!   JSON Lines, CSV, Parquet and Arrow IPC files replayed in event-time order, as an
//!   iterator the async loop drains.
//! - The Kafka source (`kafka.rs`): an rdkafka consumer per stream whose rebalance callback
//!   positions each partition from driftd's checkpoint; the daemon decodes its messages with
//!   the same [`Decoder`], passing the message timestamp and a
//!   [`Position::Kafka`](crate::record::Position::Kafka).
//!
//! Invariants: no input makes a source panic; a message or row that does not decode is
//! reported with its position and reason and never stops the source.
mod batches;
mod decode;
pub mod discover;
mod fast;
mod file;
pub mod kafka;
mod plan;
mod spec;
mod table;
pub mod time;
mod visit;
mod walk;

pub use decode::Decoder;
pub use file::{describe, FileSource, FileStats, SourceError};
pub use spec::{
    DecodeContext, DecodeError, DecodeReason, DecodeSpec, Decoded, EventTimeSpec, FeatureSpec, PredictionKind,
    SpecError, TimeFormat, CLASS_PREFIX, DEFAULT_MAX_MESSAGE_BYTES,
};

#[cfg(test)]
mod decode_fuzz;
#[cfg(test)]
mod decode_tests;
#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod file_tests;
