//! The partitions of a Kafka stream as its watermark sees them: assignment changes handed to
//! the core before a new partition's records, "safe idleness" (caught up *and* silent for the
//! idle timeout), and each partition's clock for the status API and metrics. Rules on
//! [`PartitionWatch`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use serde::Serialize;

use crate::monitor::MonitorCore;
use crate::record::Stream;
use crate::source::kafka::{high_watermark, KafkaConsumer};

/// One partition's clock and progress, as `/api/v1/monitors` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionStatus {
    pub partition: i32,
    /// The partition's own watermark: its newest event time − allowed lateness (ms).
    pub watermark_ms: Option<i64>,
    /// Left out of the stream's watermark (caught up and silent for the idle timeout).
    pub idle: bool,
    /// Messages between the broker's high watermark and what the windows have taken; `None`
    /// until the broker has reported the high watermark.
    pub lag: Option<i64>,
    /// Records of this partition that arrived after their windows had closed (this run).
    pub records_late: u64,
}

/// A stream's event-time progress, as `/api/v1/monitors` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WatermarkStatus {
    /// The stream's watermark: windows ending at or before it are closed (ms; `None` until
    /// every assigned partition has sent a record or gone idle).
    pub watermark_ms: Option<i64>,
    /// Kafka streams: each assigned partition (a file is one partition and lists none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionStatus>,
}

/// The partition bookkeeping of one Kafka stream, as its watermark sees them.
///
/// Role: the bridge between a stream's consumer and the per-partition clocks of its windows
/// (`window/partitions.rs`). It hands every assignment change to the core before a record of
/// a new partition is taken (the consumer bumps a generation in its rebalance callback, before
/// any message of the new assignment can be polled), decides which partitions are idle, and
/// publishes each partition's clock for the status API and the metrics.
///
/// Idleness ("safe idleness"): a partition is idle when it is caught up — everything up to the
/// high watermark the broker last reported has been taken into the windows — *and* nothing has
/// arrived from it for the idle timeout (counted from its last record, or from when it was
/// first seen assigned). Idle partitions leave the watermark's minimum; when all are idle the
/// stream advances by processing time relative to its newest event time. Nothing is idle (so
/// nothing advances by processing time) while the stream has no partition assigned: before
/// the group answers, during a rebalance, while a restored checkpoint waits for its partitions.
#[derive(Debug, Default)]
pub struct PartitionWatch {
    /// The consumer's assignment generation last handed to the core.
    generation: Option<u64>,
    /// Per assigned partition: when its last record arrived, or when it was first seen
    /// assigned (processing time).
    heard: BTreeMap<i32, Instant>,
    /// Late records per partition (this run).
    late: BTreeMap<i32, u64>,
}

impl PartitionWatch {
    /// Hands the consumer's assignment to the core if it changed since the last call.
    pub fn sync(&mut self, consumer: &KafkaConsumer, core: &mut MonitorCore, stream: Stream) {
        let context = consumer.context();
        let generation = context.assignment_generation();
        // Before the group's first answer the clocks restored from a checkpoint stay as they
        // are (nothing is assigned yet, nothing can arrive).
        if self.generation == Some(generation) || !context.joined() {
            return;
        }
        self.generation = Some(generation);
        let assigned = context.assigned();
        let now = Instant::now();
        self.heard.retain(|p, _| assigned.contains(p));
        for &p in &assigned {
            self.heard.entry(p).or_insert(now);
        }
        core.assign_partitions(stream, assigned);
    }

    /// A record from `partition` arrived at `now`.
    pub fn heard(&mut self, partition: i32, now: Instant) {
        self.heard.insert(partition, now);
    }

    pub fn late(&mut self, partition: i32) {
        *self.late.entry(partition).or_default() += 1;
    }

    /// Marks each assigned partition idle or active by the rule in the module docs (`idle`
    /// `None`: never idle) and returns each one's status. `taken` is the next offset per
    /// partition the windows have taken (the checkpoint's position).
    pub fn mark_idle(
        &mut self,
        consumer: &KafkaConsumer,
        topic: &str,
        taken: &BTreeMap<i32, i64>,
        core: &mut MonitorCore,
        stream: Stream,
        idle: Option<Duration>,
    ) -> Vec<PartitionStatus> {
        let context = consumer.context();
        let assigned: BTreeSet<i32> = if context.joined() { context.assigned() } else { BTreeSet::new() };
        // Partitions nothing was taken from yet (in this run or the checkpoint's): where the
        // consumer stands, which is the start offset until a message is polled.
        let mut positions = BTreeMap::new();
        if assigned.iter().any(|p| !taken.contains_key(p)) {
            if let Ok(list) = consumer.position() {
                positions = crate::source::kafka::offsets_of(&list, topic);
            }
        }
        let lateness = core.partition_clocks(stream).map_or(0, |(_, lateness)| lateness);
        let mut statuses = Vec::with_capacity(assigned.len());
        for &p in &assigned {
            let next = taken.get(&p).or(positions.get(&p)).copied();
            let lag = high_watermark(consumer, topic, p).zip(next).map(|(high, next)| (high - next).max(0));
            let silent = self.heard.get(&p).is_some_and(|at| idle.is_some_and(|idle| at.elapsed() >= idle));
            let is_idle = silent && lag == Some(0);
            core.set_partition_idle(stream, p, is_idle);
            let clock = core.partition_clocks(stream).and_then(|(c, _)| c.get(p).cloned()).unwrap_or_default();
            statuses.push(PartitionStatus {
                partition: p,
                watermark_ms: clock.max_event_time_ms.map(|t| t - lateness),
                idle: clock.idle,
                lag,
                records_late: self.late.get(&p).copied().unwrap_or(0),
            });
        }
        statuses
    }
}
