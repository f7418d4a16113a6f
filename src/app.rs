//! `driftd run`: the asynchronous daemon over file and Kafka sources — its wiring and its
//! ordered shutdown. The HTTP server is bound first; monitors are prepared by
//! [`crate::build::prepare_monitor`] and restored from their checkpoints (`app/restore.rs`);
//! per stream a reader task (`app/file_reader.rs`, `app/kafka_reader.rs`) feeds, through a
//! bounded channel ([`CHANNEL_BATCHES`] × [`BATCH_RECORDS`]), one task per monitor
//! (`app/monitor_task.rs`: windows → rules → checkpoint → offsets → metrics). `run` ends when
//! every source is exhausted or its `shutdown` token is cancelled (SIGTERM / Ctrl-C cancel it,
//! `app/signals.rs`): stop the readers, drain, checkpoint, stop HTTP, within [`SHUTDOWN_DEADLINE`].

pub mod alerting;
mod delivery;
mod file_reader;
mod kafka_reader;
mod monitor_task;
pub mod partitions;
mod protocol;
mod restore;
mod signals;
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
use delivery::{Delivery, Durable};
use file_reader::{read_source, Reader};
use kafka_reader::{DeadLetter, ErrorLog, KafkaReader};
use monitor_task::{run_monitor, MonitorContext, StreamRunner, CLOSE_DEADLINE};
use partitions::{PartitionWatch, WatermarkStatus};
use protocol::{Consumed, Item, Tracked};
pub use restore::captured_copy_path;
use restore::{open_store, restore_stream, restored_rules_state, stored_references};
use signals::listen_for_signals;
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

/// Runs the daemon until its sources are exhausted or `shutdown` is cancelled (see the module
/// docs); SIGTERM and Ctrl-C cancel `shutdown` too.
pub async fn run(config: Config, options: RunOptions, shutdown: CancellationToken) -> Result<(), AppError> {
    check_supported(&config, Runner::Run)?;
    signals::ignore_file_size_signal();
    let rules = crate::rules::load_for_config(&config).map_err(AppError::Rules)?;
    let stop = shutdown;
    let policy =
        crate::api::access::AccessPolicy::from_config(&config.http).map_err(|e| AppError::Source(e.to_string()))?;
    if policy.is_open() && !config.http.listen.ip().is_loopback() {
        warn!(
            listen = %config.http.listen,
            "The API listens beyond loopback without a token: anyone who reaches it can add silences and \
             requeue notifications. Set http.token_env (docs/security.md)."
        );
    }
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
    info!(addr = %addr, tls = config.http.tls.is_some(), "Listening.");
    let http_stop = CancellationToken::new();
    let router = crate::api::router(shared.clone(), Arc::new(policy));
    // Loaded again (check loaded them too): the files may have changed since.
    let tls = match &config.http.tls {
        Some(tls) => Some(
            crate::api::tls::server_config(&tls.cert_file, &tls.key_file)
                .map_err(|e| AppError::Source(format!("http.tls: {e}")))?,
        ),
        None => None,
    };
    let serve_options = crate::api::serve::ServeOptions { request_timeout: config.http.request_timeout, tls };
    let server = tokio::spawn(crate::api::serve::serve(listener, router, http_stop.clone(), serve_options));

    let result = run_monitors(&config, &options, &shared, store, &stop).await;
    delivery.finish(&shared).await;

    http_stop.cancel();
    match tokio::time::timeout(SHUTDOWN_DEADLINE, server).await {
        Ok(Ok(())) => {}
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
                    unsaved: None,
                },
            );
        }
        drop(tx);
        let (shared, durable, errors, closers) = (shared.clone(), durable.clone(), errors.clone(), closers.clone());
        let idle = if reads_kafka { monitor.window.idle_timeout } else { None };
        let stop = sources_stop.clone();
        tracker.spawn(async move {
            let context = MonitorContext {
                shared: &shared,
                durable: &durable,
                errors: &errors,
                index,
                idle,
                reads_kafka,
                stop: &stop,
            };
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
