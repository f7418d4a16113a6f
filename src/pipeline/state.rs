//! What `driftd run` shares between its tasks and its HTTP server: the Prometheus registry
//! and metric handles, readiness, and each monitor's status and drift history. Invariants
//! (series registered at start, bounded history, no global registry) on [`Shared`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::config::Config;
use crate::monitor::{FeatureStatus, Observation, Stat};
use crate::record::Stream;
use crate::source::time::format_time_ms;
use crate::source::DecodeReason;

/// Closed windows kept per monitor for `/api/v1/monitors/{name}/history`.
pub const HISTORY_WINDOWS: usize = 1000;

/// `invalid` reasons counted by the monitor itself, beyond the decoder's.
pub const CORE_REASONS: [&str; 2] = ["wrong_arity", "event_time_out_of_range"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StreamLabels {
    monitor: String,
    stream: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InvalidLabels {
    monitor: String,
    stream: String,
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    rule: String,
    monitor: String,
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    monitor: String,
    stream: String,
    topic: String,
    partition: String,
}

impl PartitionLabels {
    fn new(monitor: &str, stream: Stream, topic: &str, partition: i32) -> Self {
        PartitionLabels {
            monitor: monitor.into(),
            stream: stream.name().into(),
            topic: topic.into(),
            partition: partition.to_string(),
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatLabels {
    monitor: String,
    stream: String,
    feature: String,
    stat: String,
}

/// A monitor's label join, by outcome or kind of entry (`crate::labels`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JoinLabels {
    monitor: String,
    kind: String,
}

/// The metric families, registered in [`Shared::registry`].
struct Families {
    label_join: Family<JoinLabels, Gauge>,
    label_pending: Family<JoinLabels, Gauge>,
    label_lag: Family<JoinLabels, Gauge<f64, AtomicU64>>,
    statistic: Family<StatLabels, Gauge<f64, AtomicU64>>,
    window_events: Family<StreamLabels, Gauge>,
    received: Family<StreamLabels, Counter>,
    invalid: Family<InvalidLabels, Counter>,
    late: Family<StreamLabels, Counter>,
    windows_closed: Family<StreamLabels, Counter>,
    consumer_lag: Family<PartitionLabels, Gauge>,
    watermark: Family<StreamLabels, Gauge<f64, AtomicU64>>,
    partition_watermark: Family<PartitionLabels, Gauge<f64, AtomicU64>>,
    partition_idle: Family<PartitionLabels, Gauge>,
    partition_late: Family<PartitionLabels, Counter>,
    dead_letters: Family<StreamLabels, Counter>,
    checkpoint_failures: Family<StreamLabels, Counter>,
    alerts: Family<AlertLabels, Gauge>,
}

/// Handles on one (monitor, stream)'s series: cheap to update from the hot path (atomics).
#[derive(Debug, Clone)]
pub struct StreamMetrics {
    pub received: Counter,
    pub late: Counter,
    pub windows_closed: Counter,
    pub window_events: Gauge,
    /// Messages forwarded to the dead-letter topic.
    pub dead_letters: Counter,
    /// Failed checkpoint attempts (each retry counts).
    pub checkpoint_failures: Counter,
    /// Per reason: the decoder's ([`DecodeReason::ALL`]) then [`CORE_REASONS`].
    pub invalid: BTreeMap<&'static str, Counter>,
}

impl StreamMetrics {
    pub fn invalid(&self, reason: &str) {
        if let Some(counter) = self.invalid.get(reason) {
            counter.inc();
        }
    }
}

/// One observation as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ObservationView {
    pub feature: String,
    pub stat: Stat,
    /// `null` when undefined.
    pub value: Option<f64>,
    pub n: u64,
    pub status: FeatureStatus,
}

/// A feature whose PSI reached the threshold in a window.
#[derive(Debug, Clone, Serialize)]
pub struct Drifted {
    pub feature: String,
    pub psi: f64,
}

/// One closed window: bounds, verdict, and (in the history) its observations.
#[derive(Debug, Clone, Serialize)]
pub struct ClosedWindow {
    pub stream: Stream,
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub events: u64,
    pub drifted: Vec<Drifted>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<ObservationView>,
}

impl ClosedWindow {
    /// The window of `observations` (all of one window) with the drifted features given.
    pub fn new(stream: Stream, observations: &[Observation], drifted: Vec<(String, f64)>) -> Option<Self> {
        let bounds = &observations.first()?.window;
        Some(ClosedWindow {
            stream,
            start: format_time_ms(bounds.start_ms),
            end: format_time_ms(bounds.end_ms),
            start_ms: bounds.start_ms,
            end_ms: bounds.end_ms,
            events: bounds.events,
            drifted: drifted.into_iter().map(|(feature, psi)| Drifted { feature, psi }).collect(),
            observations: observations
                .iter()
                .map(|o| ObservationView {
                    feature: o.feature.clone(),
                    stat: o.stat,
                    value: o.value.is_finite().then_some(o.value),
                    n: o.n,
                    status: o.detail.status,
                })
                .collect(),
        })
    }
}

/// What changes as a monitor runs.
#[derive(Debug, Default)]
pub struct MonitorLive {
    pub history: VecDeque<ClosedWindow>,
    pub exhausted: BTreeSet<Stream>,
    /// Kafka streams: the partitions assigned to this instance now.
    pub partitions: BTreeMap<Stream, BTreeSet<i32>>,
    /// Where each stream's reference stands (status API).
    pub references: BTreeMap<Stream, ReferenceStatus>,
    /// Kafka streams: the watermark and each partition's clock (status API).
    pub watermarks: BTreeMap<Stream, crate::pipeline::partitions::WatermarkStatus>,
}

/// A stream's reference, as the status API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReferenceStatus {
    /// `fitted` (a profile or dataset), `capture` or `trailing`.
    pub kind: &'static str,
    /// `discovering` (the features, from the first messages), `capturing`, or `ready`.
    pub state: &'static str,
    /// Capture: items taken so far and wanted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wanted: Option<u64>,
    /// Rows of the reference once ready (0 for a trailing reference, whose rows change).
    pub rows: u64,
    /// Features once known.
    pub features: usize,
}

/// One configured monitor.
#[derive(Debug)]
pub struct MonitorEntry {
    pub name: String,
    /// (stream, source description, metric handles), inputs first.
    pub streams: Vec<(Stream, String, StreamMetrics)>,
    live: Mutex<MonitorLive>,
}

impl MonitorEntry {
    pub fn live(&self) -> MutexGuard<'_, MonitorLive> {
        // A poisoned lock only means a panicking reader; the data is still consistent.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn metrics(&self, stream: Stream) -> Option<&StreamMetrics> {
        self.streams.iter().find(|(s, _, _)| *s == stream).map(|(_, _, m)| m)
    }
}

/// Everything the tasks and the HTTP server share.
///
/// What `driftd run` shares between its tasks and its HTTP server: the Prometheus registry
/// and metric handles, the readiness flag, and each monitor's status and drift history.
///
/// Inputs: closed windows (observations grouped by window) and per-record counts from the
/// monitor tasks. Outputs: the `/metrics` text and the JSON of `/api/v1`. Invariants: every
/// label set of a configured (monitor, stream) is registered at start-up (each `invalid`
/// reason at 0), so a series never appears late; the history holds at most
/// [`HISTORY_WINDOWS`] windows per monitor, oldest dropped first. The registry is owned here,
/// never global, so parallel tests are independent.
pub struct Shared {
    registry: Registry,
    families: Families,
    /// References loaded and sources opened.
    pub ready: AtomicBool,
    /// Kafka sources that have not reached their broker yet.
    pub connecting: AtomicUsize,
    /// Streams whose last checkpoint failed (`monitor/stream` → the error): they publish
    /// nothing and commit no offset until a retry succeeds, and `/readyz` says why.
    checkpoint_failures: Mutex<BTreeMap<String, String>>,
    /// The rules engine (set once at start-up).
    pub alerting: std::sync::OnceLock<std::sync::Arc<crate::pipeline::alerting::Alerting>>,
    /// The silences (set once at start-up).
    pub silences: std::sync::OnceLock<std::sync::Arc<crate::silence::Silences>>,
    /// Alerts left out of notifications by a silence.
    pub silenced: Counter,
    /// `driftd_ready`: [`Shared::is_ready`] as 1 or 0, set when `/metrics` is rendered (so
    /// alerting rules need not probe `/readyz`).
    ready_gauge: Gauge,
    /// Notification delivery metrics (sent / failed / retried, pending, latency).
    pub delivery: crate::actions::DeliveryMetrics,
    /// The notification outbox, for `/api/v1/notifications` (set once at start-up).
    pub outbox: std::sync::OnceLock<crate::actions::Outbox>,
    pub monitors: Vec<MonitorEntry>,
}

impl Shared {
    /// Registers every metric and every label set of `config`'s streams.
    pub fn new(config: &Config) -> Shared {
        let mut registry = Registry::default();
        let families = Families {
            label_join: Family::default(),
            label_pending: Family::default(),
            label_lag: Family::default(),
            statistic: Family::default(),
            window_events: Family::default(),
            received: Family::default(),
            invalid: Family::default(),
            late: Family::default(),
            windows_closed: Family::default(),
            consumer_lag: Family::default(),
            watermark: Family::default(),
            partition_watermark: Family::default(),
            partition_idle: Family::default(),
            partition_late: Family::default(),
            dead_letters: Family::default(),
            checkpoint_failures: Family::default(),
            alerts: Family::default(),
        };
        registry.register(
            "driftd_statistic",
            "Latest value of a statistic on the last closed window (NaN when undefined)",
            families.statistic.clone(),
        );
        registry.register("driftd_window_events", "Records in the last closed window", families.window_events.clone());
        registry.register("driftd_records_received", "Rows read from the source", families.received.clone());
        registry.register("driftd_records_invalid", "Rows not taken, by reason", families.invalid.clone());
        registry.register("driftd_records_late", "Records whose windows had closed", families.late.clone());
        registry.register("driftd_windows_closed", "Windows closed", families.windows_closed.clone());
        registry.register(
            "driftd_consumer_lag",
            "Messages between a partition's high watermark and the consumer's position (librdkafka statistics)",
            families.consumer_lag.clone(),
        );
        registry.register(
            "driftd_watermark_seconds",
            "A stream's event-time watermark (windows ending at or before it are closed), Unix seconds",
            families.watermark.clone(),
        );
        registry.register(
            "driftd_partition_watermark_seconds",
            "A Kafka partition's own watermark (its newest event time minus the allowed lateness), Unix seconds",
            families.partition_watermark.clone(),
        );
        registry.register(
            "driftd_partition_idle",
            "1 when a Kafka partition is idle (caught up and silent for the idle timeout: left out of the watermark)",
            families.partition_idle.clone(),
        );
        registry.register(
            "driftd_partition_records_late",
            "Records of a Kafka partition whose windows had closed",
            families.partition_late.clone(),
        );
        registry.register(
            "driftd_label_join_records",
            "Predictions and labels of a monitor's label join by outcome, since its state began (kept across restarts): \
             predictions, labels, joined, unlabelled, unmatched_labels, duplicate_labels, …",
            families.label_join.clone(),
        );
        registry.register(
            "driftd_label_join_pending",
            "Entries the label join holds now: predictions and labels waiting, joined keys remembered",
            families.label_pending.clone(),
        );
        registry.register(
            "driftd_label_join_lag_seconds",
            "Label event time minus prediction event time over the joined pairs: mean and max",
            families.label_lag.clone(),
        );
        registry.register(
            "driftd_alerts",
            "Alerts per rule, monitor and state (pending or firing)",
            families.alerts.clone(),
        );
        registry.register(
            "driftd_dead_letters",
            "Messages that did not decode, forwarded to the dead-letter topic",
            families.dead_letters.clone(),
        );
        registry.register(
            "driftd_checkpoint_failures",
            "Failed checkpoint attempts (a full disk …): the stream publishes nothing until one succeeds",
            families.checkpoint_failures.clone(),
        );
        let delivery = crate::actions::DeliveryMetrics::register(&mut registry);
        let silenced = Counter::default();
        registry.register("driftd_alerts_silenced", "Alerts left out of notifications by a silence", silenced.clone());
        let ready_gauge = Gauge::default();
        registry.register("driftd_ready", "1 when /readyz answers 200, else 0", ready_gauge.clone());
        let mut monitors = Vec::new();
        for monitor in &config.monitors {
            let mut streams = Vec::new();
            for (stream, stream_config) in monitor.streams() {
                let labels = StreamLabels { monitor: monitor.name.clone(), stream: stream.name().into() };
                let reasons = DecodeReason::ALL.iter().map(|r| r.as_str()).chain(CORE_REASONS);
                let invalid = reasons
                    .map(|reason| {
                        let labels = InvalidLabels {
                            monitor: monitor.name.clone(),
                            stream: stream.name().into(),
                            reason: reason.into(),
                        };
                        (reason, families.invalid.get_or_create(&labels).clone())
                    })
                    .collect();
                let metrics = StreamMetrics {
                    received: families.received.get_or_create(&labels).clone(),
                    late: families.late.get_or_create(&labels).clone(),
                    windows_closed: families.windows_closed.get_or_create(&labels).clone(),
                    window_events: families.window_events.get_or_create(&labels).clone(),
                    dead_letters: families.dead_letters.get_or_create(&labels).clone(),
                    checkpoint_failures: families.checkpoint_failures.get_or_create(&labels).clone(),
                    invalid,
                };
                let source = match &stream_config.source {
                    crate::config::SourceConfig::File(file) => file.path.display().to_string(),
                    crate::config::SourceConfig::Kafka(kafka) => format!("kafka:{}", kafka.topic),
                };
                streams.push((stream, source, metrics));
            }
            monitors.push(MonitorEntry { name: monitor.name.clone(), streams, live: Mutex::default() });
        }
        Shared {
            registry,
            families,
            ready: AtomicBool::new(false),
            connecting: AtomicUsize::new(0),
            checkpoint_failures: Mutex::default(),
            alerting: std::sync::OnceLock::new(),
            silences: std::sync::OnceLock::new(),
            silenced,
            ready_gauge,
            delivery,
            outbox: std::sync::OnceLock::new(),
            monitors,
        }
    }

    pub fn monitor(&self, name: &str) -> Option<&MonitorEntry> {
        self.monitors.iter().find(|m| m.name == name)
    }

    /// References loaded, checkpoints restored, every Kafka source has reached its broker,
    /// and no stream's checkpoint is failing.
    pub fn is_ready(&self) -> bool {
        self.not_ready_reason().is_none()
    }

    /// Why the daemon is not ready, if it is not.
    pub fn not_ready_reason(&self) -> Option<String> {
        if !self.ready.load(Ordering::Acquire) {
            return Some("starting: references, sources and checkpoints are being loaded".into());
        }
        let connecting = self.connecting.load(Ordering::Acquire);
        if connecting > 0 {
            return Some(format!("{connecting} Kafka source(s) have not reached their brokers"));
        }
        let failures = self.checkpoint_failures.lock().unwrap_or_else(|e| e.into_inner());
        let (stream, error) = failures.iter().next()?;
        Some(format!(
            "checkpoint failing for {stream} (publishing and offset commits held, retrying): {error}{}",
            match failures.len() {
                1 => String::new(),
                n => format!(" (and {} more stream(s))", n - 1),
            }
        ))
    }

    /// A stream's checkpoint failed (`Some(error)`) or succeeded again (`None`).
    pub fn checkpoint_failing(&self, monitor: &str, stream: Stream, error: Option<String>) {
        let mut failures = self.checkpoint_failures.lock().unwrap_or_else(|e| e.into_inner());
        let key = format!("{monitor}/{stream}");
        match error {
            Some(error) => failures.insert(key, error),
            None => failures.remove(&key),
        };
    }

    /// Sets the `driftd_alerts` gauges from the engine.
    pub fn update_alerts(&self, alerting: &crate::pipeline::alerting::Alerting) {
        for ((rule, monitor, state), count) in alerting.counts() {
            let labels = AlertLabels { rule, monitor, state: state.into() };
            self.families.alerts.get_or_create(&labels).set(count);
        }
    }

    /// The consumer-lag gauge of one partition.
    pub fn consumer_lag(&self, monitor: &str, stream: Stream, topic: &str, partition: i32) -> Gauge {
        let labels = PartitionLabels::new(monitor, stream, topic, partition);
        self.families.consumer_lag.get_or_create(&labels).clone()
    }

    /// Publishes a Kafka stream's watermark and partition clocks (metrics and status API).
    pub fn watermark(
        &self,
        monitor: &MonitorEntry,
        stream: Stream,
        topic: &str,
        status: &crate::pipeline::partitions::WatermarkStatus,
    ) {
        let seconds = |ms: Option<i64>| ms.map_or(f64::NAN, |ms| ms as f64 / 1000.0);
        let labels = StreamLabels { monitor: monitor.name.clone(), stream: stream.name().into() };
        self.families.watermark.get_or_create(&labels).set(seconds(status.watermark_ms));
        for p in &status.partitions {
            let labels = PartitionLabels::new(&monitor.name, stream, topic, p.partition);
            self.families.partition_watermark.get_or_create(&labels).set(seconds(p.watermark_ms));
            self.families.partition_idle.get_or_create(&labels).set(i64::from(p.idle));
            // At 0 from the first status on, so a rate over it exists before any late record.
            drop(self.families.partition_late.get_or_create(&labels));
        }
        monitor.live().watermarks.insert(stream, status.clone());
    }

    /// The late-records counter of one Kafka partition.
    pub fn partition_late(&self, monitor: &str, stream: Stream, topic: &str, partition: i32) -> Counter {
        let labels = PartitionLabels::new(monitor, stream, topic, partition);
        self.families.partition_late.get_or_create(&labels).clone()
    }

    /// Records a closed window: statistic gauges, window metrics, history.
    pub fn window_closed(&self, monitor: &MonitorEntry, observations: &[Observation], window: ClosedWindow) {
        for o in observations {
            let labels = StatLabels {
                monitor: monitor.name.clone(),
                stream: o.stream.name().into(),
                feature: o.feature.clone(),
                stat: o.stat.name().into(),
            };
            self.families.statistic.get_or_create(&labels).set(o.value);
        }
        if let Some(metrics) = monitor.metrics(window.stream) {
            metrics.window_events.set(i64::try_from(window.events).unwrap_or(i64::MAX));
            metrics.windows_closed.inc();
        }
        let mut live = monitor.live();
        if live.history.len() == HISTORY_WINDOWS {
            live.history.pop_front();
        }
        live.history.push_back(window);
    }

    /// The label join's counts after a checkpoint of its predictions stream.
    pub fn label_join(&self, monitor: &MonitorEntry, join: &crate::labels::LabelJoin) {
        let c = join.counters();
        let set = |family: &Family<JoinLabels, Gauge>, kind: &str, value: u64| {
            let labels = JoinLabels { monitor: monitor.name.clone(), kind: kind.into() };
            family.get_or_create(&labels).set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        for (kind, value) in [
            ("predictions", c.predictions),
            ("predictions_without_key", c.predictions_without_key),
            ("predictions_unusable", c.predictions_unusable),
            ("late_predictions", c.late_predictions),
            ("duplicate_predictions", c.duplicate_predictions),
            ("labels", c.labels),
            ("labels_without_key", c.labels_without_key),
            ("labels_missing", c.labels_missing),
            ("labels_invalid", c.labels_invalid),
            ("duplicate_labels", c.duplicate_labels),
            ("joined", c.joined),
            ("labels_after_retention", c.labels_after_retention),
            ("labels_before_prediction", c.labels_before_prediction),
            ("unlabelled", c.unlabelled),
            ("unmatched_labels", c.unmatched_labels),
            ("evicted_predictions", c.evicted_predictions),
            ("evicted_labels", c.evicted_labels),
            ("forgotten_keys", c.forgotten_keys),
        ] {
            set(&self.families.label_join, kind, value);
        }
        let (predictions, labels, keys) = join.pending();
        for (kind, value) in [("predictions", predictions), ("labels", labels), ("joined_keys", keys)] {
            set(&self.families.label_pending, kind, value as u64);
        }
        let lag = |kind: &str, seconds: f64| {
            let labels = JoinLabels { monitor: monitor.name.clone(), kind: kind.into() };
            self.families.label_lag.get_or_create(&labels).set(seconds);
        };
        if c.joined > 0 {
            lag("mean", c.join_lag_ms_sum as f64 / c.joined as f64 / 1000.0);
            lag("max", c.join_lag_ms_max as f64 / 1000.0);
        }
    }

    /// The Prometheus (OpenMetrics) text of every metric.
    pub fn encode_metrics(&self) -> Result<String, std::fmt::Error> {
        self.ready_gauge.set(i64::from(self.is_ready()));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
