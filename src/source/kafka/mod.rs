//! The Kafka source: one rdkafka [`StreamConsumer`] per (monitor, stream), in a consumer
//! group, auto commit off, positioned by driftd's own checkpoints.
//!
//! Inputs: a [`KafkaSourceConfig`] (librdkafka properties passed through as they are) and, per
//! partition, the next offset of the stream's last checkpoint ([`KafkaContext::resume_from`]).
//! Outputs: messages ([`StreamConsumer::recv`]) and offset commits, made by the daemon only
//! after the checkpoint that covers them ([`commit_offsets`]). Where an assigned partition
//! starts, revocation, lag and logs: on [`KafkaContext`]; docs/daemon.md, "Kafka". The
//! reader task over the consumer: `task.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::statistics::Statistics;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use tracing::{debug, error, info, warn};

use crate::source::task::SourceObserver;

mod settings;
mod task;
pub use settings::{KafkaSourceConfig, StartPosition};
pub use task::{spawn, KafkaDecoding, BATCH_LINGER};

/// librdkafka statistics period (consumer lag), unless the properties set another.
pub const STATISTICS_INTERVAL_MS: u64 = 5000;
/// How long the rebalance callback waits for the group's committed offsets.
const COMMITTED_TIMEOUT: Duration = Duration::from_secs(10);

/// The consumer type of a Kafka stream.
pub type KafkaConsumer = StreamConsumer<KafkaContext>;

/// Called with the revoked partitions; returns once they are checkpointed and committed.
pub type RevokeHook = Box<dyn Fn(&[i32]) + Send + Sync>;

/// Why a Kafka consumer could not be created.
#[derive(Debug, thiserror::Error)]
#[error("kafka topic {topic} (brokers {brokers}): {message}")]
pub struct KafkaSourceError {
    pub topic: String,
    pub brokers: String,
    pub message: String,
}

/// The consumer's callbacks: rebalance positioning, revoke hook, statistics, logs.
///
/// Where a partition starts when it is assigned (the rebalance callback, `starting_offsets`):
/// the larger of the checkpoint's next offset and the group's committed offset — the
/// checkpoint wins after a crash between checkpoint and commit, the committed offset wins for
/// a partition another group member consumed further meanwhile — and, when neither exists,
/// `start` (`earliest`, `latest`, or `committed`: librdkafka's `auto.offset.reset`, latest
/// unless set in the properties).
///
/// Revocation: before the partitions are given up, the revoke hook installed by the daemon
/// ([`KafkaContext::on_revoke`]) runs and returns only once every message delivered so far is
/// checkpointed and its offset committed (synchronously), so the next owner starts exactly
/// after them.
///
/// Consumer lag per partition comes from librdkafka's statistics (every
/// [`STATISTICS_INTERVAL_MS`] unless `statistics.interval.ms` is set) and goes to the
/// [`SourceObserver`], with every assignment. librdkafka's log lines go to `tracing`
/// (target `librdkafka`).
pub struct KafkaContext {
    label: String,
    topic: String,
    start: StartPosition,
    /// Next offset per partition from driftd's checkpoint (updated after each checkpoint).
    resume: Mutex<BTreeMap<i32, i64>>,
    revoke: OnceLock<RevokeHook>,
    observer: Arc<dyn SourceObserver>,
    assigned: Mutex<BTreeSet<i32>>,
    /// Bumped after every change of `assigned`, before any message of a new assignment can be
    /// returned by the consumer: a monitor that sees a record of a partition reads a
    /// generation at least as new as the assignment that brought it.
    generation: AtomicU64,
    /// A partition assignment was received (the group coordinator answered).
    joined: AtomicBool,
}

impl KafkaContext {
    /// Records the next offsets a checkpoint has covered: where a partition resumes if it is
    /// assigned again.
    pub fn resume_from(&self, next: &BTreeMap<i32, i64>) {
        let mut resume = self.resume.lock().unwrap_or_else(|e| e.into_inner());
        for (&partition, &offset) in next {
            let slot = resume.entry(partition).or_insert(offset);
            *slot = (*slot).max(offset);
        }
    }

    /// Installs the revoke hook (once; later calls are ignored).
    pub fn on_revoke(&self, hook: RevokeHook) {
        let _ = self.revoke.set(hook);
    }

    /// The partitions currently assigned.
    pub fn assigned(&self) -> BTreeSet<i32> {
        self.assigned.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A partition assignment (possibly empty) was received from the group.
    pub fn joined(&self) -> bool {
        self.joined.load(Ordering::Acquire)
    }

    /// Changes with every assignment or revocation (see the field).
    pub fn assignment_generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn set_assigned(&self, assigned: &BTreeSet<i32>) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.observer.assigned(assigned);
    }

    /// Where each assigned partition starts (see [`KafkaContext`]).
    fn starting_offsets(&self, assigned: &[i32], committed: &BTreeMap<i32, i64>) -> TopicPartitionList {
        let resume = self.resume.lock().unwrap_or_else(|e| e.into_inner());
        let mut tpl = TopicPartitionList::new();
        for &partition in assigned {
            let known = [resume.get(&partition), committed.get(&partition)].into_iter().flatten().max().copied();
            let offset = match (known, self.start) {
                (Some(next), _) => Offset::Offset(next),
                (None, StartPosition::Earliest) => Offset::Beginning,
                (None, StartPosition::Latest) => Offset::End,
                (None, StartPosition::Committed) => Offset::Stored,
            };
            // Only fails for an invalid offset value, which none of the above is.
            let _ = tpl.add_partition_offset(&self.topic, partition, offset);
        }
        tpl
    }
}

impl ClientContext for KafkaContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        let source = self.label.as_str();
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                error!(target: "librdkafka", source, facility, "{message}")
            }
            RDKafkaLogLevel::Warning => warn!(target: "librdkafka", source, facility, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                info!(target: "librdkafka", source, facility, "{message}")
            }
            RDKafkaLogLevel::Debug => debug!(target: "librdkafka", source, facility, "{message}"),
        }
    }

    fn stats(&self, statistics: Statistics) {
        let Some(topic) = statistics.topics.get(&self.topic) else { return };
        let assigned = self.assigned();
        for (&partition, stats) in &topic.partitions {
            // librdkafka reports -1 until it knows both the position and the high watermark.
            if partition >= 0 && assigned.contains(&partition) && stats.consumer_lag >= 0 {
                self.observer.lag(partition, stats.consumer_lag);
            }
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        // Transport errors while a broker is away are expected and retried by librdkafka.
        warn!(source = %self.label, error = %error, reason, "Kafka client error.");
    }
}

impl ConsumerContext for KafkaContext {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let partitions: Vec<i32> = tpl.elements_for_topic(&self.topic).iter().map(|e| e.partition()).collect();
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let committed = match consumer.committed_offsets(tpl.clone(), COMMITTED_TIMEOUT) {
                    Ok(list) => offsets_of(&list, &self.topic),
                    Err(err) => {
                        warn!(source = %self.label, error = %err, "Cannot read the group's committed offsets; using the checkpoint's.");
                        BTreeMap::new()
                    }
                };
                let positioned = self.starting_offsets(&partitions, &committed);
                let result =
                    if cooperative { consumer.incremental_assign(&positioned) } else { consumer.assign(&positioned) };
                match result {
                    Ok(()) => {
                        let mut assigned = self.assigned.lock().unwrap_or_else(|e| e.into_inner());
                        if !cooperative {
                            assigned.clear();
                        }
                        assigned.extend(&partitions);
                        self.set_assigned(&assigned);
                        info!(source = %self.label, partitions = ?partitions, offsets = %describe_offsets(&positioned), "Partitions assigned.");
                    }
                    Err(err) => error!(source = %self.label, error = %err, "Cannot assign the partitions."),
                }
                self.joined.store(true, Ordering::Release);
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                if let Some(hook) = self.revoke.get() {
                    hook(&partitions);
                }
                let result = if cooperative { consumer.incremental_unassign(tpl) } else { consumer.unassign() };
                if let Err(err) = result {
                    error!(source = %self.label, error = %err, "Cannot unassign the partitions.");
                }
                let mut assigned = self.assigned.lock().unwrap_or_else(|e| e.into_inner());
                for partition in &partitions {
                    assigned.remove(partition);
                }
                self.set_assigned(&assigned);
                info!(source = %self.label, partitions = ?partitions, "Partitions revoked.");
            }
            other => {
                error!(source = %self.label, error = ?other, "Rebalance failed; unassigning.");
                let _ = consumer.unassign();
                self.assigned.lock().unwrap_or_else(|e| e.into_inner()).clear();
                self.set_assigned(&BTreeSet::new());
            }
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => debug!(source = %self.label, offsets = %describe_offsets(offsets), "Offsets committed."),
            Err(err) => warn!(source = %self.label, error = %err, "Offset commit failed; the next checkpoint retries."),
        }
    }
}

/// The next offset per partition of `topic` in `list` (partitions without one are left out).
pub fn offsets_of(list: &TopicPartitionList, topic: &str) -> BTreeMap<i32, i64> {
    list.elements_for_topic(topic)
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(next) if next >= 0 => Some((e.partition(), next)),
            _ => None,
        })
        .collect()
}

fn describe_offsets(list: &TopicPartitionList) -> String {
    list.elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(n) => format!("{}:{n}", e.partition()),
            other => format!("{}:{other:?}", e.partition()),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The librdkafka configuration of a stream's consumer: the config's properties, then what
/// driftd needs (no auto commit, no auto offset store), then defaults the properties may
/// override (statistics interval, client id, `auto.offset.reset` from `start`).
pub fn consumer_config(source: &KafkaSourceConfig, client_id: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("client.id", client_id);
    config.set("statistics.interval.ms", STATISTICS_INTERVAL_MS.to_string());
    match source.start {
        StartPosition::Earliest => {
            config.set("auto.offset.reset", "earliest");
        }
        StartPosition::Latest => {
            config.set("auto.offset.reset", "latest");
        }
        StartPosition::Committed => {}
    }
    for (key, value) in &source.properties {
        config.set(key, value);
    }
    config
        .set("bootstrap.servers", &source.brokers)
        .set("group.id", &source.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    if let Some(id) = &source.group_instance_id {
        // Static membership: a restart within the session timeout gets the same partitions
        // back without a rebalance (librdkafka sends no LeaveGroup on close for a static member).
        config.set("group.instance.id", id);
    }
    config
}

/// Creates the consumer of one stream and subscribes it to its topic. `resume` is the next
/// offset per partition from the stream's checkpoint.
pub fn connect(
    source: &KafkaSourceConfig,
    label: String,
    resume: BTreeMap<i32, i64>,
    observer: Arc<dyn SourceObserver>,
) -> Result<KafkaConsumer, KafkaSourceError> {
    let fail =
        |message: String| KafkaSourceError { topic: source.topic.clone(), brokers: source.brokers.clone(), message };
    let context = KafkaContext {
        label: label.clone(),
        topic: source.topic.clone(),
        start: source.start,
        resume: Mutex::new(resume),
        revoke: OnceLock::new(),
        observer,
        assigned: Mutex::default(),
        generation: AtomicU64::new(0),
        joined: AtomicBool::new(false),
    };
    let consumer: KafkaConsumer = consumer_config(source, &format!("driftd-{label}"))
        .create_with_context(context)
        .map_err(|e| fail(format!("cannot create the consumer: {e}")))?;
    consumer.subscribe(&[source.topic.as_str()]).map_err(|e| fail(format!("cannot subscribe: {e}")))?;
    Ok(consumer)
}

/// The partition's high watermark (the offset the next produced message will get) as last
/// reported by the broker in a fetch response, without a request; `None` before the first.
/// librdkafka keeps fetching a caught-up partition (long polls), so the value trails the
/// broker's by at most a fetch round trip.
pub fn high_watermark(consumer: &KafkaConsumer, topic: &str, partition: i32) -> Option<i64> {
    let topic = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client pointer is valid while `consumer` lives; `topic` is a NUL-terminated
    // string that outlives the call; `low` and `high` are valid for writes. The function only
    // reads librdkafka's cached offsets under its own lock (rdkafka-sys has no safe wrapper).
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0).then_some(high)
}

/// Commits `next` (next offset per partition of `topic`). `Sync` waits for the broker.
pub fn commit_offsets(
    consumer: &KafkaConsumer,
    topic: &str,
    next: &BTreeMap<i32, i64>,
    mode: CommitMode,
) -> KafkaResult<()> {
    if next.is_empty() {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    for (&partition, &offset) in next {
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    }
    consumer.commit(&tpl, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(start: StartPosition, resume: &[(i32, i64)]) -> KafkaContext {
        KafkaContext {
            label: "m/inputs".into(),
            topic: "t".into(),
            start,
            resume: Mutex::new(resume.iter().copied().collect()),
            revoke: OnceLock::new(),
            observer: Arc::new(Silent),
            assigned: Mutex::default(),
            generation: AtomicU64::new(0),
            joined: AtomicBool::new(false),
        }
    }

    struct Silent;
    impl SourceObserver for Silent {
        fn lag(&self, _: i32, _: i64) {}
        fn assigned(&self, _: &BTreeSet<i32>) {}
    }

    fn offsets(tpl: &TopicPartitionList) -> Vec<(i32, Offset)> {
        tpl.elements().iter().map(|e| (e.partition(), e.offset())).collect()
    }

    #[test]
    fn a_partition_starts_at_the_larger_of_checkpoint_and_committed_offset() {
        let ctx = context(StartPosition::Earliest, &[(0, 10), (1, 50)]);
        let committed = [(0, 12), (1, 40)].into_iter().collect();
        let tpl = ctx.starting_offsets(&[0, 1, 2], &committed);
        assert_eq!(offsets(&tpl), vec![(0, Offset::Offset(12)), (1, Offset::Offset(50)), (2, Offset::Beginning)]);
    }

    #[test]
    fn without_any_offset_the_start_position_decides() {
        let none = BTreeMap::new();
        for (start, expected) in [
            (StartPosition::Earliest, Offset::Beginning),
            (StartPosition::Latest, Offset::End),
            (StartPosition::Committed, Offset::Stored),
        ] {
            let tpl = context(start, &[]).starting_offsets(&[3], &none);
            assert_eq!(offsets(&tpl), vec![(3, expected)]);
        }
    }

    #[test]
    fn resume_offsets_only_move_forward() {
        let ctx = context(StartPosition::Latest, &[(0, 10)]);
        ctx.resume_from(&[(0, 7), (1, 3)].into_iter().collect());
        ctx.resume_from(&[(1, 5)].into_iter().collect());
        let tpl = ctx.starting_offsets(&[0, 1], &BTreeMap::new());
        assert_eq!(offsets(&tpl), vec![(0, Offset::Offset(10)), (1, Offset::Offset(5))]);
    }

    #[test]
    fn driftd_settings_win_over_the_pass_through_properties() {
        let source = KafkaSourceConfig {
            brokers: "b:9092".into(),
            topic: "t".into(),
            group_id: "g".into(),
            start: StartPosition::Earliest,
            group_instance_id: Some("pod-0-m-inputs".into()),
            format: Default::default(),
            properties: [("security.protocol", "SASL_SSL"), ("statistics.interval.ms", "1000")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let config = consumer_config(&source, "driftd-m-inputs");
        assert_eq!(config.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(config.get("statistics.interval.ms"), Some("1000"));
        assert_eq!(config.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(config.get("group.id"), Some("g"));
        assert_eq!(config.get("group.instance.id"), Some("pod-0-m-inputs"));
    }
}
