//! `driftd run`: the asynchronous daemon over file sources (Kafka next), and its ordered
//! shutdown.
//!
//! Wiring (tokio): the HTTP server ([`crate::api`]) is bound first, so `/healthz` answers
//! while references are fit; then each monitor is prepared exactly as `driftd replay` does
//! ([`crate::replay::prepare_monitor`]: reference, decoder, one [`MonitorCore`] per stream,
//! opened [`FileSource`]) and `/readyz` turns 200. Per stream a blocking task reads its file
//! and sends batches of records through the monitor's bounded channel ([`CHANNEL_BATCHES`]
//! batches of at most [`BATCH_RECORDS`]: a slow monitor stalls its readers, nothing queues
//! without bound). Per monitor an async task owns the cores, turns records into
//! observations when windows close, and publishes them to [`state::Shared`] (metrics, drift
//! history) with one `Window closed.` log line per window.
//!
//! Lifecycle: when every source is exhausted and every window flushed, `run` returns (or,
//! with `serve_after_exhausted`, keeps serving HTTP until SIGTERM / Ctrl-C). On SIGTERM /
//! Ctrl-C: stop the sources, drain the channels, flush the monitors (their open windows
//! close as partial windows), stop HTTP — within [`SHUTDOWN_DEADLINE`].
//!
//! Invariants: bad rows are counted by reason and never stop the daemon (the first
//! [`LOGGED_BAD_ROWS`] per stream are logged at WARN); a fatal source error ends that stream,
//! is logged at ERROR and makes `run` fail after the ordered shutdown; nothing is logged per
//! record above TRACE.

pub mod state;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, trace, warn};

use crate::config::Config;
use crate::monitor::{InvalidRecord, MonitorCore, Observation, RecordOutcome};
use crate::record::{Record, Stream};
use crate::replay::{
    check_supported, prepare_monitor, PreparedStream, ReplayError, Runner, WindowWriter, LOGGED_BAD_ROWS,
};
use crate::source::{describe, FileSource, SourceError};
use crate::stats::verdict::Thresholds;
use state::{ClosedWindow, MonitorEntry, Shared};

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
}

/// Why `driftd run` failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Prepare(Box<ReplayError>),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
    #[error("{0}")]
    Source(String),
    #[error("the shutdown took longer than {} s", SHUTDOWN_DEADLINE.as_secs())]
    ShutdownTimeout,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ReplayError> for AppError {
    fn from(err: ReplayError) -> Self {
        AppError::Prepare(Box::new(err))
    }
}

/// What a reader sends its monitor.
enum Item {
    Records(Vec<Record>),
    Bad {
        stream: Stream,
        reason: &'static str,
        message: String,
    },
    /// The stream's source ended (exhausted, stopped, or failed: then already reported).
    End {
        stream: Stream,
    },
}

/// Runs the daemon until its sources are exhausted (see the module docs).
pub async fn run(config: Config, options: RunOptions) -> Result<(), AppError> {
    check_supported(&config, Runner::Run)?;
    let stop = CancellationToken::new();
    listen_for_signals(stop.clone())?;
    let shared = Arc::new(Shared::new(&config));

    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| AppError::Bind { addr: config.http.listen, source })?;
    let addr = listener.local_addr().map_err(|source| AppError::Bind { addr: config.http.listen, source })?;
    info!(addr = %addr, "Listening.");
    let http_stop = CancellationToken::new();
    let serve = axum::serve(listener, crate::api::router(shared.clone()))
        .with_graceful_shutdown(http_stop.clone().cancelled_owned());
    let server = tokio::spawn(async move { serve.await });

    let result = run_monitors(&config, &options, &shared, &stop).await;

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
    stop: &CancellationToken,
) -> Result<(), AppError> {
    let monitors = config.monitors.clone();
    let prepare = tokio::task::spawn_blocking(move || {
        monitors.iter().enumerate().map(|(i, m)| prepare_monitor(i, m)).collect::<Result<Vec<_>, _>>()
    });
    let prepared = tokio::select! {
        prepared = prepare => prepared.map_err(|e| AppError::Internal(e.to_string()))??,
        _ = stop.cancelled() => {
            info!("Stopped while loading references.");
            return Ok(());
        }
    };
    shared.ready.store(true, Ordering::Release);
    info!(monitors = prepared.len(), "References loaded and sources opened.");

    let sources_stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    for (index, streams) in prepared.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let mut cores = BTreeMap::new();
        for PreparedStream { stream, path, core, source } in streams {
            let (tx, stop, errors, name) =
                (tx.clone(), sources_stop.clone(), errors.clone(), config.monitors[index].name.clone());
            tracker.spawn_blocking(move || read_source(&name, stream, path, source, tx, &stop, &errors));
            cores.insert(stream, StreamRunner { core, bad: 0, flushed: false });
        }
        drop(tx);
        let shared = shared.clone();
        tracker.spawn(async move { run_monitor(&shared, index, cores, rx).await });
    }
    tracker.close();

    tokio::select! {
        () = tracker.wait() => {
            info!("Every source is exhausted and every window flushed.");
            if options.serve_after_exhausted && !stop.is_cancelled() {
                info!("Serving until SIGTERM.");
                stop.cancelled().await;
            }
        }
        () = stop.cancelled() => {
            info!("Stopping the sources, draining, flushing.");
            sources_stop.cancel();
            tokio::time::timeout(SHUTDOWN_DEADLINE, tracker.wait()).await.map_err(|_| AppError::ShutdownTimeout)?;
        }
    }
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Source(errors.join("; ")))
    }
}

/// SIGTERM or Ctrl-C cancels `stop`. The handlers are installed before this returns.
fn listen_for_signals(stop: CancellationToken) -> Result<(), AppError> {
    #[cfg(unix)]
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).map_err(AppError::Signal)?;
    tokio::spawn(async move {
        #[cfg(unix)]
        let terminate = term.recv();
        #[cfg(not(unix))]
        let terminate = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        info!("Shutdown requested.");
        stop.cancel();
    });
    Ok(())
}

/// A reader (blocking): the file's rows, in batches, until the end, a stop, or a fatal error.
fn read_source(
    monitor: &str,
    stream: Stream,
    path: PathBuf,
    mut source: FileSource,
    tx: mpsc::Sender<Item>,
    stop: &CancellationToken,
    errors: &Mutex<Vec<String>>,
) {
    let send = |item| tx.blocking_send(item).is_ok();
    let mut batch = Vec::with_capacity(BATCH_RECORDS);
    for item in source.by_ref() {
        if stop.is_cancelled() {
            debug!(monitor = %monitor, stream = %stream, "Source stopped.");
            break;
        }
        match item {
            Ok(decoded) => {
                batch.push(decoded.record);
                if batch.len() == BATCH_RECORDS
                    && !send(Item::Records(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS))))
                {
                    return;
                }
            }
            Err(SourceError::Bad { position, error }) => {
                if !batch.is_empty() && !send(Item::Records(std::mem::take(&mut batch))) {
                    return;
                }
                let message = format!("{} {}: {error}", path.display(), describe(&position));
                if !send(Item::Bad { stream, reason: error.reason().as_str(), message }) {
                    return;
                }
            }
            Err(fatal) => {
                error!(monitor = %monitor, stream = %stream, error = %fatal, "Source failed.");
                errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("monitor {monitor}: stream {stream}: {fatal}"));
                break;
            }
        }
    }
    if !batch.is_empty() && !send(Item::Records(batch)) {
        return;
    }
    send(Item::End { stream });
}

/// One stream's core inside a monitor task.
struct StreamRunner {
    core: MonitorCore,
    /// Bad rows seen (the first [`LOGGED_BAD_ROWS`] logged).
    bad: u64,
    flushed: bool,
}

/// A monitor task: records in, windows out, until every reader is gone; then flushes.
async fn run_monitor(
    shared: &Shared,
    index: usize,
    mut cores: BTreeMap<Stream, StreamRunner>,
    mut rx: mpsc::Receiver<Item>,
) {
    let entry = &shared.monitors[index];
    while let Some(item) = rx.recv().await {
        match item {
            Item::Records(records) => {
                for record in &records {
                    let Some(runner) = cores.get_mut(&record.stream) else { continue };
                    let Some(metrics) = entry.metrics(record.stream) else { continue };
                    metrics.received.inc();
                    let outcome = runner.core.on_record(record);
                    trace!(monitor = %entry.name, stream = %record.stream, time = record.event_time_ms, outcome = ?outcome, "Record.");
                    match outcome {
                        RecordOutcome::Accepted { .. } => {}
                        RecordOutcome::Late => {
                            metrics.late.inc();
                        }
                        RecordOutcome::Invalid(InvalidRecord::WrongArity { .. }) => metrics.invalid("wrong_arity"),
                        RecordOutcome::Invalid(InvalidRecord::EventTimeOutOfRange) => {
                            metrics.invalid("event_time_out_of_range")
                        }
                        RecordOutcome::Invalid(InvalidRecord::UnknownStream) => {}
                    }
                    if runner.core.has_closed_windows() {
                        let observations = runner.core.on_watermark();
                        publish(shared, entry, record.stream, &observations);
                    }
                }
            }
            Item::Bad { stream, reason, message } => {
                let (Some(runner), Some(metrics)) = (cores.get_mut(&stream), entry.metrics(stream)) else { continue };
                metrics.received.inc();
                metrics.invalid(reason);
                runner.bad += 1;
                if runner.bad <= LOGGED_BAD_ROWS {
                    warn!(monitor = %entry.name, stream = %stream, reason, error = %message, "Row skipped.");
                }
            }
            Item::End { stream } => {
                if let Some(runner) = cores.get_mut(&stream) {
                    flush(shared, entry, stream, runner);
                }
            }
        }
    }
    for (&stream, runner) in &mut cores {
        flush(shared, entry, stream, runner);
    }
}

/// End of a stream: closes its open windows and notes it exhausted.
fn flush(shared: &Shared, entry: &MonitorEntry, stream: Stream, runner: &mut StreamRunner) {
    if runner.flushed {
        return;
    }
    runner.flushed = true;
    let observations = runner.core.flush();
    publish(shared, entry, stream, &observations);
    if runner.bad > LOGGED_BAD_ROWS {
        warn!(monitor = %entry.name, stream = %stream, count = runner.bad - LOGGED_BAD_ROWS, "More bad rows not shown.");
    }
    entry.live().exhausted.insert(stream);
    info!(monitor = %entry.name, stream = %stream, "Stream ended; windows flushed.");
}

/// Publishes a batch of observations (whole windows, in order) and logs each window.
fn publish(shared: &Shared, entry: &MonitorEntry, stream: Stream, observations: &[Observation]) {
    let mut writer = WindowWriter::new(&entry.name, stream, Thresholds::default());
    for window in observations.chunk_by(|a, b| a.window == b.window) {
        let Some(summary) = writer.group(window).pop() else { continue };
        let drifted: Vec<&str> = summary.drifted.iter().map(|(f, _)| f.as_str()).collect();
        info!(
            monitor = %entry.name,
            stream = %stream,
            start = %crate::replay::format_time_ms(summary.start_ms),
            end = %crate::replay::format_time_ms(summary.end_ms),
            events = summary.events,
            drifted = %drifted.join(","),
            "Window closed."
        );
        if let Some(closed) = ClosedWindow::new(stream, window, summary.drifted) {
            shared.window_closed(entry, window, closed);
        }
    }
}
