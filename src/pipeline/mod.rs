//! The daemon's stages, one file each, in the order a closed window takes them: the monitor
//! task (`monitor_task.rs`: records in, windows out; its per-stream state in `runner.rs`, the
//! stream's reference in `stream_reference.rs`, Kafka partitions in `partitions.rs`) →
//! alerting (`alerting.rs`: evaluate, silence, outbox entries) → checkpoint (`checkpoint.rs`:
//! one redb transaction, then the Kafka offsets) → publish (`publish.rs`: metrics and history
//! in `state.rs`, which the API reads). Start-up restores from the store (`restore.rs`); the
//! outbox's dispatcher runs beside (`delivery.rs`). `driftd run`'s wiring is [`crate::app`].

pub mod alerting;
mod checkpoint;
pub mod delivery;
mod error;
mod labels;
pub mod monitor_task;
pub mod partitions;
mod publish;
pub mod restore;
pub mod runner;
pub mod state;
mod stream_reference;
pub mod tracked;

pub use error::{RunError, SHUTDOWN_DEADLINE};
