//! `driftd run`: the daemon's wiring and its ordered shutdown. The HTTP server is bound first;
//! monitors are prepared by [`crate::build::prepare_monitor`] and restored from their
//! checkpoints; per stream a reader task (`source::file::spawn`, `source::kafka::spawn`) feeds,
//! through a bounded channel ([`CHANNEL_BATCHES`] batches), one task per monitor running the
//! stages of [`crate::pipeline`]. `run` ends when every source is exhausted or its `shutdown`
//! token is cancelled (SIGTERM / Ctrl-C cancel it, `app/signals.rs`): stop the readers, drain,
//! checkpoint, stop HTTP, within [`SHUTDOWN_DEADLINE`].

mod signals;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::build::{check_supported, prepare_monitor, PreparedSource, PreparedStream, Runner};
use crate::config::Config;
use crate::pipeline::alerting::Alerting;
use crate::pipeline::delivery::{Delivery, Durable};
use crate::pipeline::monitor_task::{run_monitor, CLOSE_DEADLINE};
use crate::pipeline::partitions::PartitionWatch;
use crate::pipeline::restore::{open_store, restore_labels, restore_stream, restored_rules_state, stored_references};
use crate::pipeline::runner::{LabelsSide, MonitorContext, StreamRunner};
use crate::pipeline::state::{ClosedWindow, Shared};
use crate::pipeline::tracked::Tracked;
pub use crate::pipeline::RunError;
pub use crate::pipeline::SHUTDOWN_DEADLINE;
use crate::record::Stream;
use crate::source::error_log::ErrorLog;
use crate::source::task::{SourceContext, SourceObserver};
use crate::source::{file, kafka};
use crate::store::FileFingerprint;
use signals::listen_for_signals;

/// Batches a monitor's channel holds before its readers wait.
pub const CHANNEL_BATCHES: usize = 16;

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

/// Runs the daemon until its sources are exhausted or `shutdown` is cancelled (see the module
/// docs); SIGTERM and Ctrl-C cancel `shutdown` too.
pub async fn run(config: Config, options: RunOptions, shutdown: CancellationToken) -> Result<(), RunError> {
    check_supported(&config, Runner::Run)?;
    signals::ignore_file_size_signal();
    let rules = crate::rules::load_for_config(&config).map_err(RunError::Rules)?;
    let stop = shutdown;
    let policy =
        crate::api::access::AccessPolicy::from_config(&config.http).map_err(|e| RunError::Source(e.to_string()))?;
    if policy.is_open() && !config.http.listen.ip().is_loopback() {
        warn!(
            listen = %config.http.listen,
            "The API listens beyond loopback without a token: anyone who reaches it can add silences and \
             requeue notifications. Set http.token_env (docs/security.md)."
        );
    }
    let shared = Arc::new(Shared::new(&config));
    let (store, sink) = open_store(&config, options.reset_state, options.observations.as_deref())?;
    let delivery = Delivery::start(&config, &shared, &store, &rules, options.reset_state)?;
    let alerting = Arc::new(Alerting::new(rules, restored_rules_state(&store)));
    if shared.alerting.set(alerting.clone()).is_err() {
        return Err(RunError::Internal("alerting set twice".into()));
    }
    shared.update_alerts(&alerting);
    let silences = crate::silence::Silences::open(store.database().clone())
        .map_err(|e| RunError::Internal(format!("silences: {e}")))?;
    let _ = shared.silences.set(Arc::new(silences));
    listen_for_signals(stop.clone(), config.clone(), alerting.clone(), delivery.actions.clone())?;
    let store = Durable { store, sink: Mutex::new(sink), alerting, wake: delivery.wake.clone() };

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| RunError::Bind { addr: config.http.listen, source })?;
    let addr = listener.local_addr().map_err(|source| RunError::Bind { addr: config.http.listen, source })?;
    info!(addr = %addr, tls = config.http.tls.is_some(), "Listening.");
    let http_stop = CancellationToken::new();
    let router = crate::api::router(shared.clone(), Arc::new(policy));
    // Loaded again (check loaded them too): the files may have changed since.
    let tls = match &config.http.tls {
        Some(tls) => Some(
            crate::tls::server_config(&tls.cert_file, &tls.key_file)
                .map_err(|e| RunError::Source(format!("http.tls: {e}")))?,
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
        Err(_) => return Err(RunError::ShutdownTimeout),
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
) -> Result<(), RunError> {
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
                            RunError::Source(format!(
                                "monitor {}: stream {}: {}: {e}",
                                m.name,
                                p.stream,
                                path.display()
                            ))
                        })?;
                        Ok((p, Some(fingerprint)))
                    })
                    .collect::<Result<Vec<_>, RunError>>()
            })
            .collect::<Result<Vec<_>, RunError>>()
    });
    let prepared = tokio::select! {
        prepared = prepare => prepared.map_err(|e| RunError::Internal(e.to_string()))??,
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
            if prepared.stream == Stream::Labels {
                let resume = restore_labels(&durable.store, name, &prepared, fingerprint)?;
                resumed.push((prepared, resume));
                continue;
            }
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
        let mut labels_side = None;
        let mut reads_kafka = false;
        for (PreparedStream { stream, core, pending, spec, source }, resume) in streams {
            let name = monitor.name.clone();
            let topic = match &source {
                PreparedSource::Kafka { config, .. } => Some(config.topic.clone()),
                PreparedSource::File { .. } => None,
            };
            let observer = Arc::new(StreamObserver {
                shared: shared.clone(),
                index,
                monitor: name.clone(),
                stream,
                topic: topic.clone().unwrap_or_default(),
                errors: errors.clone(),
            });
            let ctx = SourceContext {
                monitor: name.clone(),
                monitor_index: index,
                stream,
                tx: tx.clone(),
                stop: sources_stop.clone(),
                tracker: tracker.clone(),
                observer,
            };
            // The one registration of each source kind.
            let kafka = match source {
                PreparedSource::File { path, source } => {
                    let skip = match &resume.position {
                        Tracked::File { consumed, .. } => *consumed,
                        Tracked::Kafka { .. } => 0,
                    };
                    file::spawn(ctx, path, source, file::Reader { skip, max_rate: options.max_rate });
                    None
                }
                PreparedSource::Kafka { config: source, decoding, dead_letter_topic } => {
                    reads_kafka = true;
                    let resume = match &resume.position {
                        Tracked::Kafka { next, .. } => next.clone(),
                        Tracked::File { .. } => BTreeMap::new(),
                    };
                    let consumer = kafka::spawn(ctx, &source, decoding, dead_letter_topic, resume)
                        .map_err(|e| RunError::Source(format!("monitor {name}: stream {stream}: {e}")))?;
                    Some(consumer)
                }
            };
            if stream == Stream::Labels {
                labels_side = Some(LabelsSide {
                    position: resume.position,
                    kafka,
                    topic,
                    partitions: PartitionWatch::default(),
                    last_record: Instant::now(),
                    done: resume.finished,
                    bad: 0,
                    bad_log: ErrorLog::default(),
                });
                continue;
            }
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
                    labels: None,
                },
            );
        }
        // The labels stream is a side input of the predictions stream's runner.
        if let Some(runner) = cores.get_mut(&Stream::Predictions) {
            runner.labels = labels_side;
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
            tokio::time::timeout(SHUTDOWN_DEADLINE, tracker.wait()).await.map_err(|_| RunError::ShutdownTimeout)
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
        Err(RunError::Source(errors.join("; ")))
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

/// A stream's source reports into the daemon's metrics and status: `/readyz` (connecting),
/// dead letters, consumer lag, assignments, and failures (`run` ends with them).
struct StreamObserver {
    shared: Arc<Shared>,
    index: usize,
    monitor: String,
    stream: Stream,
    topic: String,
    errors: Arc<Mutex<Vec<String>>>,
}

impl SourceObserver for StreamObserver {
    fn connecting(&self) {
        self.shared.connecting.fetch_add(1, Ordering::AcqRel);
    }

    fn connected(&self) {
        self.shared.connecting.fetch_sub(1, Ordering::AcqRel);
    }

    fn dead_lettered(&self) {
        if let Some(metrics) = self.shared.monitors[self.index].metrics(self.stream) {
            metrics.dead_letters.inc();
        }
    }

    fn lag(&self, partition: i32, lag: i64) {
        self.shared.consumer_lag(&self.monitor, self.stream, &self.topic, partition).set(lag);
    }

    fn assigned(&self, partitions: &BTreeSet<i32>) {
        if let Some(entry) = self.shared.monitor(&self.monitor) {
            entry.live().partitions.insert(self.stream, partitions.clone());
        }
    }

    fn failed(&self, problem: String) {
        let message = format!("monitor {}: stream {}: {problem}", self.monitor, self.stream);
        self.errors.lock().unwrap_or_else(|e| e.into_inner()).push(message);
    }
}
