//! `driftd run`: the asynchronous daemon over file sources (Kafka next), and its ordered
//! shutdown.
//!
//! Wiring (tokio): the HTTP server ([`crate::api`]) is bound first, so `/healthz` answers
//! while references are fit; then each monitor is prepared exactly as `driftd replay` does
//! ([`crate::build::prepare_monitor`]: reference, decoder, one [`MonitorCore`] per stream,
//! opened [`FileSource`]) and `/readyz` turns 200. Per stream a blocking task reads its file
//! and sends batches of records through the monitor's bounded channel ([`CHANNEL_BATCHES`]
//! batches of at most [`BATCH_RECORDS`]: a slow monitor stalls its readers, nothing queues
//! without bound). Per monitor an async task owns the cores, turns records into
//! observations when windows close, and publishes them to [`state::Shared`] (metrics, drift
//! history) with one `Window closed.` log line per window.
//!
//! Lifecycle: when every source is exhausted and every window flushed, `run` returns (or,
//! with `serve_after_exhausted`, keeps serving HTTP until SIGTERM / Ctrl-C). On SIGTERM /
//! Ctrl-C: stop the sources, drain the channels, checkpoint the monitors (their open windows
//! are saved, to be continued by the next run), stop HTTP — within [`SHUTDOWN_DEADLINE`].
//!
//! Durability ([`store`]): the cores are restored from their checkpoints in `state.path`
//! before the readers start, and each reader skips the items its checkpoint had consumed (a
//! file changed since is an error unless `reset_state`). After each published batch of
//! windows, and when a stream ends or stops, the monitor task commits the stream's checkpoint
//! (core state + items consumed), with the `--observations` file's length, under one lock.
//!
//! References from the stream (`capture`, `trailing`): a stream's core exists once its
//! features are known (file sources: before reading; Kafka: when its reader sends
//! `Item::Discovered`); a captured reference is fit when its N items are taken, and stored
//! with the stream's first checkpoint, as is a trailing reference's feature list
//! ([`store::Store::put_reference`]), so a restart neither captures nor discovers again.
//!
//! Invariants: bad rows are counted by reason and never stop the daemon (the first
//! [`LOGGED_BAD_ROWS`] per stream are logged at WARN); a fatal source error ends that stream,
//! is logged at ERROR and makes `run` fail after the ordered shutdown; nothing is logged per
//! record above TRACE.

pub mod alerting;
mod kafka_reader;
pub mod partitions;
pub mod state;
pub mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, trace, warn};

use rdkafka::consumer::{CommitMode, Consumer};

use crate::build::{
    check_supported, prepare_monitor, BuildError, PendingReference, PreparedSource, PreparedStream, Runner,
    StreamReference,
};
use crate::config::Config;
use crate::monitor::{drifted_features, InvalidRecord, MonitorCore, Observation, RecordOutcome};
use crate::record::{Position, Record, Stream};
use crate::reference::capture::Capture;
use crate::replay::LOGGED_BAD_ROWS;
use crate::source::discover::DiscoveredFeature;
use crate::source::kafka::{self, KafkaConsumer, RevokeHook};
use crate::source::{describe, FileSource, SourceError};
use crate::stats::verdict::Thresholds;
use alerting::Alerting;
use kafka_reader::{DeadLetter, ErrorLog, KafkaReader};
use partitions::{PartitionWatch, WatermarkStatus};
use state::{ClosedWindow, MonitorEntry, Shared};
use store::{Checkpoint, FileFingerprint, ObservationSink, SourcePosition, Store};

/// Batches a monitor's channel holds before its readers wait.
pub const CHANNEL_BATCHES: usize = 16;
/// Records per batch sent by a reader.
pub const BATCH_RECORDS: usize = 512;
/// How long an ordered shutdown may take.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// How `driftd run` behaves beyond its configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Keep the HTTP server up after every source is exhausted, until SIGTERM / Ctrl-C.
    pub serve_after_exhausted: bool,
    /// Ignore the checkpoints in `state.path` and overwrite them (start over).
    pub reset_state: bool,
    /// Append every published observation to this file as a JSON line (flushed per window,
    /// kept consistent with the checkpoints).
    pub observations: Option<PathBuf>,
    /// Read each file source at most this many rows per second (replay a file as live traffic).
    pub max_rate: Option<f64>,
}

/// Why `driftd run` failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Prepare(Box<BuildError>),
    #[error("{0}")]
    Rules(crate::config::ConfigErrors),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
    #[error("{0}")]
    Source(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Checkpoint(String),
    #[error("the shutdown took longer than {} s", SHUTDOWN_DEADLINE.as_secs())]
    ShutdownTimeout,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<BuildError> for AppError {
    fn from(err: BuildError) -> Self {
        AppError::Prepare(Box::new(err))
    }
}

/// What a reader sends its monitor.
enum Item {
    /// Consecutive records. File sources: the first is the source's item number `first`
    /// (0-based, in delivery order). Kafka: each record's position names its offset.
    Records {
        first: u64,
        records: Vec<Record>,
    },
    Bad {
        stream: Stream,
        at: Consumed,
        reason: &'static str,
        message: String,
    },
    /// The stream's source ended: `exhausted`, or stopped / failed (failures already reported).
    End {
        stream: Stream,
        exhausted: bool,
    },
    /// The features of `stream` whose reference is captured from it, discovered by its
    /// reader from the first messages (sent before any of them).
    Discovered {
        stream: Stream,
        features: Vec<DiscoveredFeature>,
    },
    /// Kafka partitions of `stream` are being revoked: checkpoint everything taken so far,
    /// commit its offsets synchronously, then acknowledge.
    Revoked {
        stream: Stream,
        ack: std::sync::mpsc::Sender<()>,
    },
}

/// Which source item a bad row was.
enum Consumed {
    /// A file source's item number.
    Item(u64),
    Kafka {
        partition: i32,
        offset: i64,
    },
}

/// How far a stream's source has been taken into its core: what its checkpoint records.
#[derive(Debug, Clone)]
enum Tracked {
    File { file: FileFingerprint, consumed: u64 },
    Kafka { topic: String, next: BTreeMap<i32, i64> },
}

impl Tracked {
    /// A record taken: the file's item number `item`, or the record's Kafka position.
    fn record(&mut self, item: u64, position: &Position) {
        match (self, position) {
            (Tracked::File { consumed, .. }, _) => *consumed = item + 1,
            (Tracked::Kafka { next, .. }, Position::Kafka { partition, offset, .. }) => {
                next.insert(*partition, offset + 1);
            }
            (Tracked::Kafka { .. }, Position::File { .. }) => {}
        }
    }

    /// A Kafka message at or before what was already taken from its partition: delivered
    /// again after a rebalance (the partitions were revoked while the reader held messages it
    /// had not sent yet, and assigned again from the checkpoint). Taking it twice would
    /// count it twice.
    fn redelivered(&self, position: &Position) -> bool {
        match (self, position) {
            (Tracked::Kafka { next, .. }, Position::Kafka { partition, offset, .. }) => {
                next.get(partition).is_some_and(|next| offset < next)
            }
            _ => false,
        }
    }

    fn bad(&mut self, at: &Consumed) {
        match (self, at) {
            (Tracked::File { consumed, .. }, Consumed::Item(item)) => *consumed = item + 1,
            (Tracked::Kafka { next, .. }, Consumed::Kafka { partition, offset }) => {
                next.insert(*partition, offset + 1);
            }
            _ => {}
        }
    }

    fn position(&self) -> SourcePosition {
        match self {
            Tracked::File { file, consumed } => SourcePosition::File { file: file.clone(), consumed: *consumed },
            Tracked::Kafka { topic, next } => {
                SourcePosition::Kafka { topic: topic.clone(), next_offsets: next.clone() }
            }
        }
    }
}

/// Runs the daemon until its sources are exhausted (see the module docs).
pub async fn run(config: Config, options: RunOptions) -> Result<(), AppError> {
    check_supported(&config, Runner::Run)?;
    let rules = crate::rules::load_for_config(&config).map_err(AppError::Rules)?;
    let stop = CancellationToken::new();
    let shared = Arc::new(Shared::new(&config));
    let (store, sink) = open_store(&config, &options)?;
    let delivery = Delivery::start(&config, &shared, &store, &rules, options.reset_state)?;
    let alerting = Arc::new(Alerting::new(rules, restored_rules_state(&store)));
    if shared.alerting.set(alerting.clone()).is_err() {
        return Err(AppError::Internal("alerting set twice".into()));
    }
    shared.update_alerts(&alerting);
    let silences = crate::silence::Silences::open(store.database().clone())
        .map_err(|e| AppError::Internal(format!("silences: {e}")))?;
    let _ = shared.silences.set(Arc::new(silences));
    listen_for_signals(stop.clone(), config.clone(), alerting.clone(), delivery.actions.clone())?;
    let store = Durable { store, sink: Mutex::new(sink), alerting, wake: delivery.wake.clone() };

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| AppError::Bind { addr: config.http.listen, source })?;
    let addr = listener.local_addr().map_err(|source| AppError::Bind { addr: config.http.listen, source })?;
    info!(addr = %addr, "Listening.");
    let http_stop = CancellationToken::new();
    let serve = axum::serve(listener, crate::api::router(shared.clone()))
        .with_graceful_shutdown(http_stop.clone().cancelled_owned());
    let server = tokio::spawn(async move { serve.await });

    let result = run_monitors(&config, &options, &shared, store, &stop).await;
    delivery.finish(&shared).await;

    http_stop.cancel();
    match tokio::time::timeout(SHUTDOWN_DEADLINE, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(err))) => error!(error = %err, "The HTTP server failed."),
        Ok(Err(err)) => error!(error = %err, "The HTTP server task failed."),
        Err(_) => return Err(AppError::ShutdownTimeout),
    }
    if result.is_ok() {
        info!("Stopped.");
    }
    result
}

/// Prepares the monitors, runs them to the end (or to a stop), and waits as asked.
async fn run_monitors(
    config: &Config,
    options: &RunOptions,
    shared: &Arc<Shared>,
    store: Durable,
    stop: &CancellationToken,
) -> Result<(), AppError> {
    let monitors = config.monitors.clone();
    let stored = stored_references(&store.store, config)?;
    let prepare = tokio::task::spawn_blocking(move || {
        monitors
            .iter()
            .enumerate()
            .map(|(i, m)| {
                prepare_monitor(i, m, &|stream| stored.get(&(m.name.clone(), stream)).cloned())?
                    .into_iter()
                    .map(|p| {
                        let PreparedSource::File { path, .. } = &p.source else { return Ok((p, None)) };
                        let fingerprint = FileFingerprint::of(path).map_err(|e| {
                            AppError::Source(format!(
                                "monitor {}: stream {}: {}: {e}",
                                m.name,
                                p.stream,
                                path.display()
                            ))
                        })?;
                        Ok((p, Some(fingerprint)))
                    })
                    .collect::<Result<Vec<_>, AppError>>()
            })
            .collect::<Result<Vec<_>, AppError>>()
    });
    let prepared = tokio::select! {
        prepared = prepare => prepared.map_err(|e| AppError::Internal(e.to_string()))??,
        _ = stop.cancelled() => {
            info!("Stopped while loading references.");
            return Ok(());
        }
    };
    let durable = Arc::new(store);
    let mut restored = Vec::new();
    for (index, streams) in prepared.into_iter().enumerate() {
        let name = &config.monitors[index].name;
        let mut resumed = Vec::new();
        for (prepared, fingerprint) in streams {
            resumed.push(restore_stream(&durable.store, name, prepared, fingerprint)?);
        }
        restored.push(resumed);
    }

    let sources_stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let closers = TaskTracker::new();
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    for (index, streams) in restored.into_iter().enumerate() {
        let monitor = &config.monitors[index];
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let mut cores = BTreeMap::new();
        let mut reads_kafka = false;
        for (PreparedStream { stream, core, pending, spec, source }, resume) in streams {
            let name = monitor.name.clone();
            let topic = match &source {
                PreparedSource::Kafka { config, .. } => Some(config.topic.clone()),
                PreparedSource::File { .. } => None,
            };
            let kafka = match source {
                PreparedSource::File { path, source } => {
                    let (tx, stop, errors) = (tx.clone(), sources_stop.clone(), errors.clone());
                    let skip = match &resume.position {
                        Tracked::File { consumed, .. } => *consumed,
                        Tracked::Kafka { .. } => 0,
                    };
                    let reader = Reader { skip, max_rate: options.max_rate };
                    tracker
                        .spawn_blocking(move || read_source(&name, stream, path, source, reader, tx, &stop, &errors));
                    None
                }
                PreparedSource::Kafka { config: source, decoding, dead_letter_topic } => {
                    reads_kafka = true;
                    let consumer = Arc::new(connect_kafka(shared, &name, stream, &source, &resume.position)?);
                    consumer.context().on_revoke(revoke_hook(tx.downgrade(), stream));
                    let dead_letter = dead_letter_topic
                        .map(|topic| DeadLetter::new(&source, topic))
                        .transpose()
                        .map_err(|e| AppError::Source(format!("monitor {name}: stream {stream}: {e}")))?;
                    shared.connecting.fetch_add(1, Ordering::AcqRel);
                    let reader = KafkaReader {
                        shared: shared.clone(),
                        monitor_index: index,
                        monitor: name,
                        stream,
                        topic: source.topic.clone(),
                        consumer: consumer.clone(),
                        decoding: Some(decoding),
                        decoder: None,
                        dead_letter,
                    };
                    tracker.spawn(reader.run(tx.clone(), sources_stop.clone()));
                    Some(consumer)
                }
            };
            cores.insert(
                stream,
                StreamRunner {
                    reference_kind: match monitor.reference {
                        crate::config::ReferenceConfig::Capture { .. } => "capture",
                        crate::config::ReferenceConfig::Trailing { .. } => "trailing",
                        _ => "fitted",
                    },
                    capture: None,
                    core,
                    pending,
                    spec,
                    bad: 0,
                    bad_log: ErrorLog::default(),
                    done: resume.finished,
                    position: resume.position,
                    kafka,
                    topic,
                    partitions: PartitionWatch::default(),
                    last_record: Instant::now(),
                },
            );
        }
        drop(tx);
        let (shared, durable, errors, closers) = (shared.clone(), durable.clone(), errors.clone(), closers.clone());
        let idle = if reads_kafka { monitor.window.idle_timeout } else { None };
        tracker.spawn(async move {
            let context =
                MonitorContext { shared: &shared, durable: &durable, errors: &errors, index, idle, reads_kafka };
            run_monitor(context, cores, rx, &closers).await
        });
    }
    tracker.close();
    shared.ready.store(true, Ordering::Release);
    info!(monitors = config.monitors.len(), "References loaded, sources opened, checkpoints restored.");

    let result = tokio::select! {
        () = tracker.wait() => {
            info!("Every source is exhausted and every window flushed.");
            log_summary(shared);
            if options.serve_after_exhausted && !stop.is_cancelled() {
                info!("Serving until SIGTERM.");
                stop.cancelled().await;
            }
            Ok(())
        }
        () = stop.cancelled() => {
            info!("Stopping the sources, draining, flushing.");
            sources_stop.cancel();
            tokio::time::timeout(SHUTDOWN_DEADLINE, tracker.wait()).await.map_err(|_| AppError::ShutdownTimeout)
        }
    };
    closers.close();
    if tokio::time::timeout(CLOSE_DEADLINE, closers.wait()).await.is_err() {
        warn!("Kafka consumers did not close in time; leaving them.");
    }
    result?;
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Source(errors.join("; ")))
    }
}

/// One `Summary.` line per (monitor, stream): windows closed, how many had drift and the
/// first of them, and the alerts firing now.
fn log_summary(shared: &Shared) {
    let firing = shared.alerting.get().map(|a| a.active()).unwrap_or_default();
    for entry in &shared.monitors {
        let live = entry.live();
        for (stream, _, metrics) in &entry.streams {
            let windows: Vec<&ClosedWindow> = live.history.iter().filter(|w| w.stream == *stream).collect();
            let drifted: Vec<&&ClosedWindow> = windows.iter().filter(|w| !w.drifted.is_empty()).collect();
            let alerts: Vec<String> = firing
                .iter()
                .filter(|a| {
                    a["monitor"] == entry.name.as_str() && a["stream"] == stream.name() && a["status"] == "firing"
                })
                .map(|a| format!("{}:{}", a["rule"].as_str().unwrap_or("?"), a["feature"].as_str().unwrap_or("?")))
                .collect();
            info!(
                monitor = %entry.name,
                stream = %stream,
                records = metrics.received.get(),
                windows = metrics.windows_closed.get(),
                drifted_windows = drifted.len(),
                first_drift = %drifted.first().map(|w| w.start.as_str()).unwrap_or("-"),
                firing = %alerts.join(","),
                "Summary."
            );
        }
    }
}

/// Creates a Kafka stream's consumer, positioned from the checkpoint's offsets, with its lag
/// gauges.
fn connect_kafka(
    shared: &Arc<Shared>,
    monitor: &str,
    stream: Stream,
    source: &crate::config::KafkaSourceConfig,
    position: &Tracked,
) -> Result<KafkaConsumer, AppError> {
    let resume = match position {
        Tracked::Kafka { next, .. } => next.clone(),
        Tracked::File { .. } => BTreeMap::new(),
    };
    let observer =
        StreamObserver { shared: shared.clone(), monitor: monitor.to_string(), stream, topic: source.topic.clone() };
    kafka::connect(source, format!("{monitor}-{stream}"), resume, Box::new(observer))
        .map_err(|e| AppError::Source(format!("monitor {monitor}: stream {stream}: {e}")))
}

/// Consumer lag and assignments of a Kafka stream, into the metrics and the status API.
struct StreamObserver {
    shared: Arc<Shared>,
    monitor: String,
    stream: Stream,
    topic: String,
}

impl kafka::ConsumerObserver for StreamObserver {
    fn lag(&self, partition: i32, lag: i64) {
        self.shared.consumer_lag(&self.monitor, self.stream, &self.topic, partition).set(lag);
    }

    fn assigned(&self, partitions: &std::collections::BTreeSet<i32>) {
        if let Some(entry) = self.shared.monitor(&self.monitor) {
            entry.live().partitions.insert(self.stream, partitions.clone());
        }
    }
}

/// The revoke hook of a Kafka stream: hands the monitor task an [`Item::Revoked`] (after every
/// item already sent) and waits for its acknowledgement, so the partitions are given up only
/// once checkpointed and committed. Runs inside the consumer's poll (a runtime thread: the
/// wait is moved off it with `block_in_place`) or its close (a blocking thread).
fn revoke_hook(tx: mpsc::WeakSender<Item>, stream: Stream) -> RevokeHook {
    Box::new(move |partitions| {
        let Some(tx) = tx.upgrade() else { return };
        let wait = || {
            let (ack, acknowledged) = std::sync::mpsc::channel();
            if tx.blocking_send(Item::Revoked { stream, ack }).is_ok()
                && acknowledged.recv_timeout(SHUTDOWN_DEADLINE).is_err()
            {
                warn!(stream = %stream, partitions = ?partitions, "Revoked partitions were not checkpointed in time.");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    })
}

/// The checkpoint store and the observations file of a run.
struct Durable {
    store: Store,
    /// Held while a window is appended and its checkpoint committed, so the file's length in
    /// the last checkpoint is exact.
    sink: Mutex<Option<ObservationSink>>,
    /// The rules engine: evaluated per closed window, its state saved with each checkpoint.
    alerting: Arc<Alerting>,
    /// Wakes the notification dispatcher after a checkpoint that enqueued notifications.
    wake: Arc<tokio::sync::Notify>,
}

/// The notification dispatcher of a run (`crate::actions`), over the store's outbox.
struct Delivery {
    wake: Arc<tokio::sync::Notify>,
    actions: crate::actions::ActionsHandle,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// How long a run whose sources are exhausted waits for the outbox to empty before exiting
/// (what is left is delivered at the next start).
const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

impl Delivery {
    fn start(
        config: &Config,
        shared: &Shared,
        store: &Store,
        rules: &crate::rules::RuleSet,
        reset_state: bool,
    ) -> Result<Delivery, AppError> {
        let database = store.database().clone();
        let outbox = |db| crate::actions::Outbox::new(db).map_err(|e| AppError::Internal(format!("outbox: {e}")));
        let api_outbox = outbox(database.clone())?;
        if reset_state {
            // Starting over restarts the alert episodes, so their idempotency keys repeat:
            // forget which were delivered (pending and failed notifications stay).
            let forgotten = api_outbox.prune_sent(i64::MAX).map_err(|e| AppError::Internal(format!("outbox: {e}")))?;
            info!(forgotten, "Delivered notification keys forgotten (--reset-state).");
        }
        let _ = shared.outbox.set(api_outbox);
        let smtp = config.smtp.clone();
        let dispatcher = crate::actions::Dispatcher::new(
            rules.actions.clone(),
            smtp,
            outbox(database)?,
            shared.delivery.clone(),
            config.kafka_brokers.clone(),
        )
        .map_err(|e| AppError::Internal(format!("dispatcher: {e}")))?;
        let actions = dispatcher.actions_handle();
        let (wake, stop) = (Arc::new(tokio::sync::Notify::new()), CancellationToken::new());
        let task = tokio::spawn(dispatcher.run(wake.clone(), stop.clone()));
        Ok(Delivery { wake, actions, stop, task })
    }

    /// Lets the dispatcher empty the outbox (at most [`DRAIN_DEADLINE`]), then stops it.
    async fn finish(self, shared: &Shared) {
        let deadline = Instant::now() + DRAIN_DEADLINE;
        let pending = || shared.outbox.get().and_then(|o| o.pending().ok()).map_or(0, |p| p.len());
        let mut left = pending();
        while left > 0 && Instant::now() < deadline {
            self.wake.notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
            left = pending();
        }
        if left > 0 {
            warn!(pending = left, "Notifications still pending; they will be delivered at the next start.");
        }
        self.stop.cancel();
        if tokio::time::timeout(SHUTDOWN_DEADLINE, self.task).await.is_err() {
            warn!("The notification dispatcher did not stop in time.");
        }
    }
}

/// The rules engine's state from the store (fresh when absent or unreadable).
fn restored_rules_state(store: &Store) -> crate::rules::EngineState {
    let stored = store
        .rules_state()
        .map_err(|e| e.to_string())
        .and_then(|bytes| bytes.map(|b| serde_json::from_slice(&b).map_err(|e| e.to_string())).transpose());
    stored
        .unwrap_or_else(|error| {
            warn!(error = %error, "The stored alert states cannot be read; starting with none.");
            None
        })
        .unwrap_or_default()
}

/// Opens the store (cleared with `--reset-state`) and the observations file (cut back to the
/// last checkpoint), and records which observations file this run writes.
fn open_store(config: &Config, options: &RunOptions) -> Result<(Store, Option<ObservationSink>), AppError> {
    let store = Store::open(&config.state.path)?;
    if options.reset_state {
        info!(path = %store.path().display(), "Checkpoints cleared (--reset-state).");
        store.clear()?;
    }
    let mark = store.sink_mark()?;
    let sink = options.observations.as_deref().map(|path| ObservationSink::open(path, mark.as_ref())).transpose()?;
    store.set_sink_mark(sink.as_ref().map(ObservationSink::mark).as_ref())?;
    Ok((store, sink))
}

/// Where a stream resumes.
struct Resume {
    finished: bool,
    position: Tracked,
}

/// A stream's core restored from its checkpoint (if any), after checking that its source is
/// the one checkpointed: the same file content, or the same Kafka topic.
fn restore_stream(
    store: &Store,
    monitor: &str,
    mut prepared: PreparedStream,
    file: Option<FileFingerprint>,
) -> Result<(PreparedStream, Resume), AppError> {
    let stream = prepared.stream;
    let fresh = match (&prepared.source, file) {
        (PreparedSource::File { .. }, Some(file)) => Tracked::File { file, consumed: 0 },
        (PreparedSource::Kafka { config, .. }, _) => {
            Tracked::Kafka { topic: config.topic.clone(), next: BTreeMap::new() }
        }
        (PreparedSource::File { .. }, None) => {
            return Err(AppError::Internal("a file source without fingerprint".into()))
        }
    };
    let Some(checkpoint) = store.load(monitor, stream)? else {
        return Ok((prepared, Resume { finished: false, position: fresh }));
    };
    let reset = "run with --reset-state to start over";
    let Some(core) = &prepared.core else {
        return Err(AppError::Checkpoint(format!(
            "monitor {monitor}: stream {stream}: the store {} has a checkpoint but no captured reference for it \
             (was the reference changed to `capture`?): cannot resume; {reset}",
            store.path().display()
        )));
    };
    let position = match (&checkpoint.source, fresh) {
        (SourcePosition::File { file: saved, consumed }, Tracked::File { file, .. }) => {
            if saved.size != file.size || saved.sha256 != file.sha256 {
                return Err(AppError::Checkpoint(format!(
                    "monitor {monitor}: stream {stream}: {} changed since the checkpoint in {} \
                     ({} bytes, sha256 {} then; {} bytes, sha256 {} now): cannot resume; {reset}",
                    file.path.display(),
                    store.path().display(),
                    saved.size,
                    short(&saved.sha256),
                    file.size,
                    short(&file.sha256),
                )));
            }
            Tracked::File { file, consumed: *consumed }
        }
        (SourcePosition::Kafka { topic: saved, next_offsets }, Tracked::Kafka { topic, .. }) => {
            if *saved != topic {
                return Err(AppError::Checkpoint(format!(
                    "monitor {monitor}: stream {stream}: the checkpoint in {} is for Kafka topic {saved}, \
                     the configuration reads {topic}: cannot resume; {reset}",
                    store.path().display()
                )));
            }
            Tracked::Kafka { topic, next: next_offsets.clone() }
        }
        _ => {
            return Err(AppError::Checkpoint(format!(
                "monitor {monitor}: stream {stream}: the checkpoint in {} is for another kind of source: \
                 cannot resume; {reset}",
                store.path().display()
            )))
        }
    };
    let restored =
        MonitorCore::restore(monitor, core.profile().clone(), prepared.spec, core.settings().clone(), checkpoint.state)
            .map_err(|e| AppError::Checkpoint(format!("{e} ({reset})")))?;
    prepared.core = Some(restored);
    info!(
        monitor = %monitor,
        stream = %stream,
        position = ?position,
        finished = checkpoint.finished,
        "Resumed from the checkpoint."
    );
    Ok((prepared, Resume { finished: checkpoint.finished, position }))
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// SIGTERM or Ctrl-C cancels `stop`; SIGHUP reloads the alert rules (the rule files named by
/// `config`), keeping the states of unchanged rules — a file with problems is reported and the
/// rules in force are kept. The handlers are installed before this returns.
fn listen_for_signals(
    stop: CancellationToken,
    config: Config,
    alerting: Arc<Alerting>,
    actions: crate::actions::ActionsHandle,
) -> Result<(), AppError> {
    #[cfg(unix)]
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(AppError::Signal)?;
    #[cfg(unix)]
    let mut hangup =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).map_err(AppError::Signal)?;
    tokio::spawn(async move {
        loop {
            #[cfg(unix)]
            let (terminate, reload) = (term.recv(), hangup.recv());
            #[cfg(not(unix))]
            let (terminate, reload) = (std::future::pending::<Option<()>>(), std::future::pending::<Option<()>>());
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate => break,
                _ = reload => match crate::rules::load_for_config(&config) {
                    Ok(rules) => {
                        let (n_rules, n_actions) = (rules.rules.len(), rules.actions.len());
                        actions.reload(rules.actions.clone());
                        alerting.reload(rules);
                        info!(rules = n_rules, actions = n_actions, "Rules reloaded (SIGHUP).");
                    }
                    Err(errors) => {
                        let problems = errors.to_string().replace('\n', "; ");
                        error!(problems = %problems, "Rules not reloaded: the files have problems; the rules in force stay.");
                    }
                },
            }
        }
        info!("Shutdown requested.");
        stop.cancel();
    });
    Ok(())
}

/// How a reader reads.
struct Reader {
    /// Items the checkpoint says were already consumed: read and dropped.
    skip: u64,
    max_rate: Option<f64>,
}

/// A reader (blocking): the file's rows, in batches, until the end, a stop, or a fatal error.
#[allow(clippy::too_many_arguments)]
fn read_source(
    monitor: &str,
    stream: Stream,
    path: PathBuf,
    mut source: FileSource,
    reader: Reader,
    tx: mpsc::Sender<Item>,
    stop: &CancellationToken,
    errors: &Mutex<Vec<String>>,
) {
    let send = |item| tx.blocking_send(item).is_ok();
    let mut batch = Vec::with_capacity(BATCH_RECORDS);
    let mut first = 0u64;
    let started = Instant::now();
    let mut delivered = 0u64;
    let mut exhausted = true;
    for (position, item) in (0u64..).zip(source.by_ref()) {
        if stop.is_cancelled() {
            debug!(monitor = %monitor, stream = %stream, "Source stopped.");
            exhausted = false;
            break;
        }
        if position < reader.skip && !matches!(&item, Err(e) if e.is_fatal()) {
            continue;
        }
        match item {
            Ok(decoded) => {
                if batch.is_empty() {
                    first = position;
                }
                batch.push(decoded.record);
                let full = batch.len() == BATCH_RECORDS;
                let pause = reader.max_rate.and_then(|rate| {
                    delivered += 1;
                    let due = started + Duration::from_secs_f64(delivered as f64 / rate);
                    due.checked_duration_since(Instant::now()).filter(|d| *d >= Duration::from_millis(1))
                });
                if (full || pause.is_some())
                    && !send(Item::Records {
                        first,
                        records: std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS)),
                    })
                {
                    return;
                }
                if let Some(pause) = pause {
                    std::thread::sleep(pause);
                }
            }
            Err(SourceError::Bad { position: at, error }) => {
                if !batch.is_empty() && !send(Item::Records { first, records: std::mem::take(&mut batch) }) {
                    return;
                }
                let message = format!("{} {}: {error}", path.display(), describe(&at));
                if !send(Item::Bad { stream, at: Consumed::Item(position), reason: error.reason().as_str(), message }) {
                    return;
                }
            }
            Err(fatal) => {
                error!(monitor = %monitor, stream = %stream, error = %fatal, "Source failed.");
                errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("monitor {monitor}: stream {stream}: {fatal}"));
                exhausted = false;
                break;
            }
        }
    }
    if !batch.is_empty() && !send(Item::Records { first, records: batch }) {
        return;
    }
    send(Item::End { stream, exhausted });
}

/// One stream's core inside a monitor task.
struct StreamRunner {
    /// `fitted`, `capture` or `trailing` (the monitor's `reference:`), for the status API.
    reference_kind: &'static str,
    /// `None` while the stream's reference is being captured.
    core: Option<MonitorCore>,
    /// The reference to capture (until it is).
    pending: Option<PendingReference>,
    /// The capture under way, once the features are known.
    capture: Option<Capture>,
    spec: crate::window::WindowSpec,
    /// Bad rows seen.
    bad: u64,
    /// The first [`LOGGED_BAD_ROWS`] bad rows are logged, then at most one line per interval.
    bad_log: ErrorLog,
    /// Exhausted and flushed (in this run or before the checkpoint it resumed from).
    done: bool,
    /// What the checkpoint records as taken.
    position: Tracked,
    /// Kafka streams: the consumer that offsets are committed to after each checkpoint.
    kafka: Option<Arc<KafkaConsumer>>,
    /// Kafka streams: the topic.
    topic: Option<String>,
    /// Kafka streams: assignment, idleness and status of the partitions' clocks.
    partitions: PartitionWatch,
    /// When the last record arrived (processing time: idle windows).
    last_record: Instant,
}

/// What every monitor task shares.
struct MonitorContext<'a> {
    shared: &'a Shared,
    durable: &'a Durable,
    errors: &'a Mutex<Vec<String>>,
    index: usize,
    /// Kafka monitors with time windows: a partition caught up and silent this long is idle.
    idle: Option<Duration>,
    /// Some stream reads Kafka: its partitions are watched every [`PARTITION_CHECK`].
    reads_kafka: bool,
}

impl MonitorContext<'_> {
    fn entry(&self) -> &MonitorEntry {
        &self.shared.monitors[self.index]
    }

    /// Records a stream's failure (once per message): `run` fails with it at its end.
    fn fail(&self, stream: Stream, problem: String) {
        let message = format!("monitor {}: stream {stream}: {problem}", self.entry().name);
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        if !errors.contains(&message) {
            errors.push(message);
        }
    }
}

/// How often the partitions of Kafka streams are checked (idleness, status).
const PARTITION_CHECK: Duration = Duration::from_secs(1);
/// How long closing the Kafka consumers may take at the end.
const CLOSE_DEADLINE: Duration = Duration::from_secs(5);

/// A monitor task: records in, windows out (each published window checkpointed, then its
/// Kafka offsets committed), until every reader is gone. An exhausted stream is flushed; a
/// stopped one is checkpointed with its open windows, to be continued by the next run.
async fn run_monitor(
    ctx: MonitorContext<'_>,
    mut cores: BTreeMap<Stream, StreamRunner>,
    mut rx: mpsc::Receiver<Item>,
    closers: &TaskTracker,
) {
    let entry = ctx.entry();
    // File sources: their features were discovered before reading.
    for (&stream, runner) in cores.iter_mut() {
        show_reference(&ctx, stream, runner);
        if let Some(features) = runner.pending.as_ref().and_then(|p| p.features.clone()) {
            features_known(&ctx, stream, runner, features);
        }
    }
    let mut ended = std::collections::BTreeSet::new();
    let mut partition_check = tokio::time::interval(PARTITION_CHECK);
    partition_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let item = tokio::select! {
            item = rx.recv() => match item { Some(item) => item, None => break },
            _ = partition_check.tick(), if ctx.reads_kafka => {
                watch_partitions(&ctx, &mut cores);
                continue;
            }
        };
        match item {
            Item::Records { first, records } => {
                // A new assignment reaches the windows before any record it brought.
                if let Some(runner) = records.first().and_then(|r| cores.get_mut(&r.stream)) {
                    if let (Some(consumer), Some(core)) = (&runner.kafka, runner.core.as_mut()) {
                        runner.partitions.sync(consumer, core, records[0].stream);
                    }
                }
                let arrived = Instant::now();
                for (position, record) in (first..).zip(&records) {
                    let Some(runner) = cores.get_mut(&record.stream) else { continue };
                    let Some(metrics) = entry.metrics(record.stream) else { continue };
                    if runner.position.redelivered(&record.position) {
                        trace!(monitor = %entry.name, stream = %record.stream, position = ?record.position, "Redelivered record skipped.");
                        continue;
                    }
                    metrics.received.inc();
                    runner.position.record(position, &record.position);
                    if runner.kafka.is_some() {
                        runner.partitions.heard(record.position.partition(), arrived);
                    }
                    let Some(core) = runner.core.as_mut() else {
                        if let Some(capture) = runner.capture.as_mut() {
                            capture.add(record);
                            if capture.progress().0 % CAPTURE_STATUS_EVERY == 0 {
                                show_reference(&ctx, record.stream, runner);
                            }
                        }
                        finish_capture(&ctx, record.stream, runner);
                        continue;
                    };
                    let outcome = core.on_record(record);
                    trace!(monitor = %entry.name, stream = %record.stream, time = record.event_time_ms, outcome = ?outcome, "Record.");
                    match outcome {
                        RecordOutcome::Accepted { .. } => {}
                        RecordOutcome::Late => {
                            metrics.late.inc();
                            if let (Some(topic), Position::Kafka { partition, .. }) = (&runner.topic, &record.position)
                            {
                                runner.partitions.late(*partition);
                                ctx.shared.partition_late(&entry.name, record.stream, topic, *partition).inc();
                            }
                        }
                        RecordOutcome::Invalid(InvalidRecord::WrongArity { .. }) => metrics.invalid("wrong_arity"),
                        RecordOutcome::Invalid(InvalidRecord::EventTimeOutOfRange) => {
                            metrics.invalid("event_time_out_of_range")
                        }
                        RecordOutcome::Invalid(InvalidRecord::UnknownStream) => {}
                    }
                    if core.has_closed_windows() {
                        let observations = core.on_watermark();
                        commit(&ctx, record.stream, runner, &observations, CommitMode::Async, None);
                    }
                }
                if let Some(runner) = records.last().and_then(|r| cores.get_mut(&r.stream)) {
                    runner.last_record = Instant::now();
                }
            }
            Item::Bad { stream, at, reason, message } => {
                let (Some(runner), Some(metrics)) = (cores.get_mut(&stream), entry.metrics(stream)) else { continue };
                if let Consumed::Kafka { partition, offset } = at {
                    let position = Position::Kafka { topic: String::new(), partition, offset };
                    if runner.position.redelivered(&position) {
                        continue;
                    }
                }
                metrics.received.inc();
                metrics.invalid(reason);
                runner.position.bad(&at);
                if let Consumed::Kafka { partition, .. } = at {
                    runner.partitions.heard(partition, Instant::now());
                }
                if let (None, Some(capture)) = (&runner.core, runner.capture.as_mut()) {
                    capture.add_bad();
                }
                finish_capture(&ctx, stream, runner);
                runner.bad += 1;
                let suppressed = if runner.bad <= LOGGED_BAD_ROWS { Some(0) } else { runner.bad_log.allow() };
                if let Some(suppressed) = suppressed {
                    warn!(monitor = %entry.name, stream = %stream, reason, error = %message, suppressed, "Row skipped.");
                }
            }
            Item::End { stream, exhausted } => {
                if let Some(runner) = cores.get_mut(&stream) {
                    ended.insert(stream);
                    if let (None, Some(pending)) = (&runner.core, &runner.pending) {
                        let taken = runner.capture.as_ref().map_or(0, |c| c.progress().0);
                        warn!(monitor = %entry.name, stream = %stream, taken, wanted = pending.events, "The stream ended before its reference was captured: nothing monitored, nothing saved.");
                    } else if exhausted {
                        flush(&ctx, stream, runner);
                    } else {
                        commit(&ctx, stream, runner, &[], CommitMode::Sync, None);
                    }
                }
            }
            Item::Discovered { stream, features } => {
                if let Some(runner) = cores.get_mut(&stream) {
                    features_known(&ctx, stream, runner, features);
                }
            }
            Item::Revoked { stream, ack } => {
                if let Some(runner) = cores.get_mut(&stream) {
                    commit(&ctx, stream, runner, &[], CommitMode::Sync, None);
                }
                let _ = ack.send(());
            }
        }
    }
    for (&stream, runner) in &mut cores {
        if !ended.contains(&stream) {
            commit(&ctx, stream, runner, &[], CommitMode::Sync, None);
        }
        if let Some(consumer) = runner.kafka.take() {
            // Leaves the group (revoking its partitions) outside the runtime: librdkafka's
            // close blocks.
            closers.spawn_blocking(move || {
                consumer.unsubscribe();
                drop(consumer);
            });
        }
    }
}

/// The periodic look at every Kafka stream's partitions (`app/partitions.rs`): assignment
/// changes, idleness, then — every partition idle — the processing-time advance, closing due
/// windows; and the watermark status and metrics.
fn watch_partitions(ctx: &MonitorContext<'_>, cores: &mut BTreeMap<Stream, StreamRunner>) {
    let entry = ctx.entry();
    for (&stream, runner) in cores.iter_mut() {
        let (Some(consumer), Some(topic), Some(core)) = (runner.kafka.clone(), &runner.topic, runner.core.as_mut())
        else {
            continue;
        };
        runner.partitions.sync(&consumer, core, stream);
        let taken = match &runner.position {
            Tracked::Kafka { next, .. } => next.clone(),
            Tracked::File { .. } => BTreeMap::new(),
        };
        let partitions = runner.partitions.mark_idle(&consumer, topic, &taken, core, stream, ctx.idle);
        let mut observations = if core.has_closed_windows() { core.on_watermark() } else { Vec::new() };
        let all_idle = core.windows(stream).is_some_and(|w| w.partitions().all_idle());
        // A stream with no open window has nothing to close; advancing its watermark anyway
        // would make late whatever it receives next, so the clock only moves windows that exist.
        if ctx.idle.is_some() && all_idle && core.open_windows(stream) > 0 {
            let elapsed = u64::try_from(runner.last_record.elapsed().as_millis()).unwrap_or(u64::MAX);
            let closed = core.advance_idle(stream, elapsed);
            if !closed.is_empty() {
                debug!(monitor = %entry.name, stream = %stream, "Every partition idle: windows closed by processing time.");
            }
            observations.extend(closed);
        }
        let status = WatermarkStatus { watermark_ms: core.watermark_ms(stream), partitions };
        ctx.shared.watermark(entry, stream, topic, &status);
        if !observations.is_empty() {
            commit(ctx, stream, runner, &observations, CommitMode::Async, None);
        }
    }
}

/// Items between two updates of a capture's progress in the status API.
const CAPTURE_STATUS_EVERY: u64 = 256;

/// Publishes where a stream's reference stands (`GET /api/v1/monitors`).
fn show_reference(ctx: &MonitorContext<'_>, stream: Stream, runner: &StreamRunner) {
    let kind = runner.reference_kind;
    let status = match (&runner.core, &runner.capture, &runner.pending) {
        (Some(core), _, _) => state::ReferenceStatus {
            kind,
            state: "ready",
            captured: None,
            wanted: None,
            rows: core.profile().meta.rows,
            features: core.profile().features(stream).len(),
        },
        (None, Some(capture), _) => state::ReferenceStatus {
            kind,
            state: "capturing",
            captured: Some(capture.progress().0),
            wanted: Some(capture.progress().1),
            rows: 0,
            features: capture.features().len(),
        },
        (None, None, pending) => state::ReferenceStatus {
            kind,
            state: "discovering",
            captured: None,
            wanted: pending.as_ref().map(|p| p.events),
            rows: 0,
            features: 0,
        },
    };
    ctx.entry().live().references.insert(stream, status);
}

/// A stream's features are known (discovered): a capture starts taking items; a trailing
/// reference's core starts, its skeleton stored with a first checkpoint (so a restart decodes
/// the same features).
fn features_known(
    ctx: &MonitorContext<'_>,
    stream: Stream,
    runner: &mut StreamRunner,
    features: Vec<DiscoveredFeature>,
) {
    let Some(pending) = runner.pending.take() else { return };
    let entry = ctx.entry();
    match pending.kind {
        StreamReference::Capture { .. } => {
            runner.capture = Some(Capture::new(features, pending.events));
            runner.pending = Some(pending);
            show_reference(ctx, stream, runner);
        }
        StreamReference::Trailing { windows } => {
            match pending.trailing_core(&entry.name, stream, &features, runner.spec) {
                Ok(core) => {
                    let json = crate::reference::to_json(core.profile());
                    runner.core = Some(core);
                    info!(monitor = %entry.name, stream = %stream, features = features.len(), windows = windows.get(), "Trailing reference started.");
                    commit(ctx, stream, runner, &[], CommitMode::Async, Some(&json));
                    show_reference(ctx, stream, runner);
                }
                Err(err) => {
                    error!(monitor = %entry.name, stream = %stream, error = %err, "The trailing reference cannot start; the stream is not monitored.");
                    ctx.fail(stream, format!("trailing reference: {err}"));
                }
            }
        }
    }
}

/// Once a stream's capture has taken its N items: fits the reference, builds the core, and
/// checkpoints both (the reference with the position after the captured items, in one
/// transaction). A reference that cannot make a core (no feature found) ends the stream with
/// an error.
fn finish_capture(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
    if !runner.capture.as_ref().is_some_and(Capture::is_complete) {
        return;
    }
    let (Some(capture), Some(pending)) = (runner.capture.take(), runner.pending.take()) else { return };
    let entry = ctx.entry();
    let binning = &pending.settings.compare.binning;
    let profile = capture.finish(stream, binning, pending.model_version.clone(), &pending.source);
    let (rows, features) = (profile.meta.rows, profile.features(stream).len());
    match pending.core(&entry.name, profile, runner.spec) {
        Ok(core) => {
            let json = crate::reference::to_json(core.profile());
            // A copy for people and `driftd reference show`; the store's is the one used.
            let copy = captured_copy_path(ctx.durable.store.path(), &entry.name, stream);
            let copied = copy
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| e.to_string())
                .and_then(|()| crate::reference::save(core.profile(), &copy).map_err(|e| e.to_string()));
            if let Err(err) = copied {
                warn!(path = %copy.display(), error = %err, "Cannot write the copy of the captured reference.");
            }
            runner.core = Some(core);
            info!(monitor = %entry.name, stream = %stream, rows, features, items = pending.events, copy = %copy.display(), "Reference captured.");
            commit(ctx, stream, runner, &[], CommitMode::Async, Some(&json));
            show_reference(ctx, stream, runner);
        }
        Err(err) => {
            error!(monitor = %entry.name, stream = %stream, error = %err, "The captured reference cannot be used; the stream is not monitored.");
            ctx.fail(stream, format!("captured reference: {err}"));
        }
    }
}

/// Where a copy of a captured reference is written: `<state.path>/captured/<monitor>.<stream>.json`.
pub fn captured_copy_path(store_file: &std::path::Path, monitor: &str, stream: Stream) -> PathBuf {
    let dir = store_file.parent().unwrap_or(std::path::Path::new("."));
    dir.join("captured").join(format!("{monitor}.{stream}.json"))
}

/// The references captured by earlier runs, for the monitors that capture theirs.
fn stored_references(
    store: &Store,
    config: &Config,
) -> Result<BTreeMap<(String, Stream), crate::reference::ReferenceProfile>, AppError> {
    let mut stored = BTreeMap::new();
    for monitor in &config.monitors {
        if !matches!(
            monitor.reference,
            crate::config::ReferenceConfig::Capture { .. } | crate::config::ReferenceConfig::Trailing { .. }
        ) {
            continue;
        }
        for (stream, _) in monitor.streams() {
            if let Some(profile) = store.reference(&monitor.name, stream)? {
                if profile.meta.rows == 0 {
                    info!(monitor = %monitor.name, stream = %stream, features = profile.features(stream).len(), "Trailing reference's features loaded from the store.");
                } else {
                    info!(monitor = %monitor.name, stream = %stream, rows = profile.meta.rows, "Captured reference loaded from the store.");
                }
                stored.insert((monitor.name.clone(), stream), profile);
            }
        }
    }
    Ok(stored)
}

/// End of a stream: closes its open windows, checkpoints, and notes it exhausted.
fn flush(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
    let entry = ctx.entry();
    let Some(core) = runner.core.as_mut() else { return };
    if !runner.done {
        runner.done = true;
        let observations = core.flush();
        commit(ctx, stream, runner, &observations, CommitMode::Sync, None);
        if runner.bad > LOGGED_BAD_ROWS {
            info!(monitor = %entry.name, stream = %stream, bad_rows = runner.bad, "Bad rows skipped in all (counted by reason in driftd_records_invalid).");
        }
    }
    entry.live().exhausted.insert(stream);
    info!(monitor = %entry.name, stream = %stream, "Stream ended; windows flushed.");
}

/// Publishes `observations` (whole windows: observations file, metrics, history, log lines),
/// then commits the stream's checkpoint with the observations file's new length, under the
/// sink's lock (see [`store`]), and then — never before — the Kafka offsets it covers
/// (`mode`: `Sync` when partitions are being given up or the daemon stops). `reference`: a
/// reference just captured (its profile JSON), stored in the same transaction. A failure is
/// logged and makes the run fail at its end; a failed offset commit is only logged (the
/// checkpoint has the offsets; the next commit carries them). A stream still capturing its
/// reference has nothing to checkpoint: its items are taken again after a restart.
#[allow(clippy::result_large_err)] // redb's error type, once per window
fn commit(
    ctx: &MonitorContext<'_>,
    stream: Stream,
    runner: &StreamRunner,
    observations: &[Observation],
    mode: CommitMode,
    reference: Option<&str>,
) {
    let Some(core) = runner.core.as_ref() else { return };
    let entry = ctx.entry();
    let mut sink = ctx.durable.sink.lock().unwrap_or_else(|e| e.into_inner());
    let mut result = match sink.as_mut() {
        Some(sink) if !observations.is_empty() => sink.append(observations),
        _ => Ok(()),
    };
    let alerting = &ctx.durable.alerting;
    let mut notifications = publish(ctx.shared, entry, stream, observations, alerting, core.profile());
    if let Some(silences) = ctx.shared.silences.get() {
        let now = crate::source::time::now_ms();
        notifications.retain_mut(|pending| {
            let silenced = silences.filter(&mut pending.notification, now);
            if silenced > 0 {
                ctx.shared.silenced.inc_by(silenced as u64);
                info!(action = %pending.notification.action, rule = %pending.notification.rule, silenced, "Alerts silenced.");
            }
            !pending.notification.alerts.is_empty()
        });
    }
    let now = crate::source::time::now_ms();
    let entries: Vec<crate::actions::OutboxEntry> =
        notifications.into_iter().map(|p| crate::actions::OutboxEntry::new(p.notification, p.evidence, now)).collect();
    if result.is_ok() {
        let checkpoint =
            Checkpoint { state: core.checkpoint(), source: runner.position.position(), finished: runner.done };
        let mark = sink.as_ref().map(ObservationSink::mark);
        let rules_state = alerting.has_rules().then(|| alerting.state_json());
        let also = |txn: &redb::WriteTransaction| {
            crate::actions::enqueue_in(txn, &entries)?;
            match reference {
                Some(json) => Store::put_reference(txn, &entry.name, stream, json),
                None => Ok(()),
            }
        };
        result = ctx.durable.store.save(&entry.name, stream, &checkpoint, mark.as_ref(), rules_state.as_deref(), &also);
        if result.is_ok() && !entries.is_empty() {
            ctx.durable.wake.notify_one();
        }
    }
    if !observations.is_empty() && alerting.has_rules() {
        // Pending alerts change the gauges too, with or without a notification.
        ctx.shared.update_alerts(alerting);
    }
    for n in entries.iter().map(|e| &e.notification) {
        info!(action = %n.action, rule = %n.rule, monitor = %n.monitor, status = n.status.name(), key = %n.idempotency_key, "Notification produced.");
    }
    drop(sink);
    match result {
        Ok(()) => {
            if let (Some(consumer), Tracked::Kafka { topic, next }) = (&runner.kafka, &runner.position) {
                consumer.context().resume_from(next);
                if let Err(err) = kafka::commit_offsets(consumer, topic, next, mode) {
                    warn!(monitor = %entry.name, stream = %stream, error = %err, "Offset commit failed; the checkpoint keeps the offsets.");
                }
            }
        }
        Err(err) => {
            error!(monitor = %entry.name, stream = %stream, error = %err, "Checkpoint failed.");
            ctx.fail(stream, err.to_string());
        }
    }
}

/// Publishes a batch of observations (whole windows, in order), logs each window and
/// evaluates the alert rules on it; returns the notifications produced.
fn publish(
    shared: &Shared,
    entry: &MonitorEntry,
    stream: Stream,
    observations: &[Observation],
    alerting: &Alerting,
    profile: &crate::reference::ReferenceProfile,
) -> Vec<alerting::Pending> {
    let mut notifications = Vec::new();
    for window in observations.chunk_by(|a, b| a.window == b.window) {
        let drifted = drifted_features(window, &Thresholds::default());
        let bounds = &window[0].window;
        let names: Vec<&str> = drifted.iter().map(|(f, _)| f.as_str()).collect();
        info!(
            monitor = %entry.name,
            stream = %stream,
            start = %crate::source::time::format_time_ms(bounds.start_ms),
            end = %crate::source::time::format_time_ms(bounds.end_ms),
            events = bounds.events,
            drifted = %names.join(","),
            "Window closed."
        );
        if alerting.has_rules() {
            notifications.extend(alerting.evaluate(profile, window, &drifted));
        }
        if let Some(closed) = ClosedWindow::new(stream, window, drifted) {
            shared.window_closed(entry, window, closed);
        }
    }
    notifications
}
