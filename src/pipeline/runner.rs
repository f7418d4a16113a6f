//! What a monitor task holds: the [`MonitorContext`] every stage is given, one [`StreamRunner`]
//! per stream (core, reference in the making, source position, Kafka partitions), and the
//! [`Unsaved`] windows of a checkpoint that failed.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::consumer::CommitMode;
use tokio_util::sync::CancellationToken;

use super::delivery::Durable;
use super::partitions::PartitionWatch;
use super::state::{MonitorEntry, Shared};
use super::tracked::Tracked;
use crate::build::PendingReference;
use crate::monitor::{MonitorCore, Observation};
use crate::record::Stream;
use crate::reference::capture::Capture;
use crate::source::error_log::ErrorLog;
use crate::source::kafka::KafkaConsumer;

/// Closed windows whose checkpoint has not been saved yet, with what goes with them: held
/// back — not published, no offset committed — until one transaction saves them all (the
/// checkpoint then taken covers every one of them).
pub struct Unsaved {
    pub(super) observations: Vec<Observation>,
    /// Their notifications: rules are evaluated once per window, when it closes.
    pub(super) entries: Vec<crate::actions::OutboxEntry>,
    /// A reference captured, stored with the checkpoint.
    pub(super) reference: Option<String>,
    pub(super) mode: CommitMode,
    /// Failed attempts so far, and when the next one is due.
    pub(super) failures: u32,
    pub(super) retry_at: Instant,
}

/// One stream's core inside a monitor task.
pub struct StreamRunner {
    /// `fitted`, `capture` or `trailing` (the monitor's `reference:`), for the status API.
    pub reference_kind: &'static str,
    /// `None` while the stream's reference is being captured.
    pub core: Option<MonitorCore>,
    /// The reference to capture (until it is).
    pub pending: Option<PendingReference>,
    /// The capture under way, once the features are known.
    pub capture: Option<Capture>,
    pub spec: crate::window::WindowSpec,
    /// Bad rows seen.
    pub bad: u64,
    /// The first [`crate::source::error_log::LOGGED_BAD_ROWS`] bad rows are logged, then at most one line per interval.
    pub bad_log: ErrorLog,
    /// Exhausted and flushed (in this run or before the checkpoint it resumed from).
    pub done: bool,
    /// What the checkpoint records as taken.
    pub position: Tracked,
    /// Kafka streams: the consumer that offsets are committed to after each checkpoint.
    pub kafka: Option<Arc<KafkaConsumer>>,
    /// Kafka streams: the topic.
    pub topic: Option<String>,
    /// Kafka streams: assignment, idleness and status of the partitions' clocks.
    pub partitions: PartitionWatch,
    /// When the last record arrived (processing time: idle windows).
    pub last_record: Instant,
    /// Windows closed but not yet checkpointed (a save failed): see [`Unsaved`].
    pub unsaved: Option<Unsaved>,
    /// The predictions stream of a monitor with labels: the labels stream, whose records its
    /// core joins (`crate::labels`) and whose position its checkpoint saves.
    pub labels: Option<LabelsSide>,
}

/// A labels stream, a side input of its predictions stream's runner: it has no core and no
/// checkpoint of its own (both are the predictions stream's), only a source to track.
pub struct LabelsSide {
    /// What the predictions' checkpoint records as taken from the labels stream.
    pub position: Tracked,
    /// Kafka: the consumer that offsets are committed to after each checkpoint, and the topic.
    pub kafka: Option<Arc<KafkaConsumer>>,
    pub topic: Option<String>,
    pub partitions: PartitionWatch,
    pub last_record: Instant,
    /// Exhausted (every window's performance final).
    pub done: bool,
    pub bad: u64,
    pub bad_log: ErrorLog,
}

/// What every monitor task shares.
pub struct MonitorContext<'a> {
    pub shared: &'a Shared,
    pub durable: &'a Durable,
    pub errors: &'a Mutex<Vec<String>>,
    pub index: usize,
    /// Kafka monitors with time windows: a partition caught up and silent this long is idle.
    pub idle: Option<Duration>,
    /// Some stream reads Kafka: its partitions are watched every [`PARTITION_CHECK`].
    pub reads_kafka: bool,
    /// The run is stopping: a failing checkpoint is given up on (and the run fails).
    pub stop: &'a CancellationToken,
}

impl MonitorContext<'_> {
    pub fn entry(&self) -> &MonitorEntry {
        &self.shared.monitors[self.index]
    }

    /// Records a stream's failure (once per message): `run` fails with it at its end.
    pub fn fail(&self, stream: Stream, problem: String) {
        let message = format!("monitor {}: stream {stream}: {problem}", self.entry().name);
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        if !errors.contains(&message) {
            errors.push(message);
        }
    }
}
