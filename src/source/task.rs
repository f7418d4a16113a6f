//! What every reader task is given ([`SourceContext`]) and what it sends its monitor task
//! ([`Item`]), so a source kind is one `spawn(ctx, …)` (`file/task.rs`, `kafka/task.rs`) and
//! one registration in `driftd run`'s wiring. Readers never touch the daemon's state: they
//! report to a [`SourceObserver`] and send items on the monitor's bounded channel.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::record::{Record, Stream};
use crate::source::discover::DiscoveredFeature;

/// Records per batch sent by a reader.
pub const BATCH_RECORDS: usize = 512;

/// What a reader sends its monitor.
pub enum Item {
    /// Consecutive records. File sources: the first is the source's item number `first`
    /// (0-based, in delivery order). Kafka: each record's position names its offset.
    Records { first: u64, records: Vec<Record> },
    /// An item that did not decode: counted by `reason`, `message` logged.
    Bad { stream: Stream, at: Consumed, reason: &'static str, message: String },
    /// The stream's source ended: `exhausted`, or stopped / failed (failures already reported).
    End { stream: Stream, exhausted: bool },
    /// The features of `stream` whose reference is captured from it, discovered by its
    /// reader from the first messages (sent before any of them).
    Discovered { stream: Stream, features: Vec<DiscoveredFeature> },
    /// Kafka partitions of `stream` are being revoked: checkpoint everything taken so far,
    /// commit its offsets synchronously, then acknowledge.
    Revoked { stream: Stream, ack: std::sync::mpsc::Sender<()> },
}

/// Which source item a bad row was.
pub enum Consumed {
    /// A file source's item number.
    Item(u64),
    Kafka {
        partition: i32,
        offset: i64,
    },
}

/// What a source reports to the daemon's metrics and status API. Every method has a no-op
/// default, so tests and tools observe only what they need.
pub trait SourceObserver: Send + Sync {
    /// The source is connecting: `/readyz` waits for it until [`connected`](Self::connected).
    fn connecting(&self) {}
    /// The source reached its data (Kafka: the topic's metadata was read): `/readyz` counts it.
    fn connected(&self) {}
    /// A message was forwarded to the dead-letter topic.
    fn dead_lettered(&self) {}
    /// Kafka: messages between the partition's high watermark and the consumer's position.
    fn lag(&self, _partition: i32, _lag: i64) {}
    /// Kafka: the partitions assigned now (after every rebalance).
    fn assigned(&self, _partitions: &BTreeSet<i32>) {}
    /// The source failed for good: `driftd run` ends with this error.
    fn failed(&self, _problem: String) {}
}

/// What a reader task is given when it is spawned.
pub struct SourceContext {
    pub monitor: String,
    /// The monitor's index in the configuration (records carry it).
    pub monitor_index: usize,
    pub stream: Stream,
    /// The monitor task's channel.
    pub tx: mpsc::Sender<Item>,
    /// Cancelled when the run stops: the reader sends what it holds and ends.
    pub stop: CancellationToken,
    /// Where the reader task is spawned: `driftd run` waits for it at the end.
    pub tracker: TaskTracker,
    pub observer: Arc<dyn SourceObserver>,
}
