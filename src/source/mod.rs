//! Sources: where a monitor's records come from, and how message bytes become
//! [`Record`](crate::record::Record)s. [`Decoder`] (`decode.rs`; types in `spec.rs`, the
//! compiled spec in `compiled.rs` + `plan.rs`, the fast path in `fast.rs`, the serde walk in
//! `visit.rs` + `walk.rs`, event times in `time.rs`) is shared by every source: the
//! [`FileSource`] (`file/`; rows in `row.rs`, CSV in `table.rs`, Parquet / Arrow IPC in
//! `batches.rs`) and the Kafka consumer (`kafka/`). Each kind's reader task is its
//! `spawn(ctx, …)` (`task.rs`: the context and the items sent). No input makes a source panic;
//! a bad message or row is reported with its position and reason, never stopping it.

mod batches;
mod compiled;
mod decode;
pub mod discover;
pub mod error_log;
mod fast;
pub mod file;
pub mod format;
pub mod kafka;
mod plan;
mod row;
mod spec;
mod table;
pub mod task;
pub mod time;
mod visit;
mod walk;

pub use decode::Decoder;
pub use file::{FileSource, FileStats};
pub use row::{describe, SourceError};
pub use spec::{
    DecodeContext, DecodeError, DecodeReason, DecodeSpec, Decoded, EventTimeSpec, FeatureSpec, PredictionKind,
    SpecError, TimeFormat, CLASS_PREFIX, DEFAULT_MAX_FEATURES, DEFAULT_MAX_MESSAGE_BYTES,
};

#[cfg(test)]
mod tests;
