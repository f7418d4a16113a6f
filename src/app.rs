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
//! Ctrl-C: stop the sources, drain the channels, checkpoint the monitors (their open windows
//! are saved, to be continued by the next run), stop HTTP — within [`SHUTDOWN_DEADLINE`].
//!
//! Durability ([`store`]): the cores are restored from their checkpoints in `state.path`
//! before the readers start, and each reader skips the items its checkpoint had consumed (a
//! file changed since is an error unless `reset_state`). After each published batch of
//! windows, and when a stream ends or stops, the monitor task commits the stream's checkpoint
//! (core state + items consumed), with the `--observations` file's length, under one lock.
//!
//! Invariants: bad rows are counted by reason and never stop the daemon (the first
//! [`LOGGED_BAD_ROWS`] per stream are logged at WARN); a fatal source error ends that stream,
//! is logged at ERROR and makes `run` fail after the ordered shutdown; nothing is logged per
//! record above TRACE.

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

use crate::config::Config;
use crate::monitor::{InvalidRecord, MonitorCore, Observation, RecordOutcome};
use crate::record::{Record, Stream};
use crate::replay::{
    check_supported, prepare_monitor, PreparedStream, ReplayError, Runner, WindowWriter, LOGGED_BAD_ROWS,
};
use crate::source::{describe, FileSource, SourceError};
use crate::stats::verdict::Thresholds;
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
    Prepare(Box<ReplayError>),
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

impl From<ReplayError> for AppError {
    fn from(err: ReplayError) -> Self {
        AppError::Prepare(Box::new(err))
    }
}

/// What a reader sends its monitor.
enum Item {
    /// Consecutive records; the first is the source's item number `first` (0-based, in
    /// delivery order).
    Records { first: u64, records: Vec<Record> },
    Bad {
        stream: Stream,
        /// The source's item number.
        position: u64,
        reason: &'static str,
        message: String,
    },
    /// The stream's source ended: `exhausted`, or stopped / failed (failures already reported).
    End { stream: Stream, exhausted: bool },
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
    let store = open_store(config, options)?;
    let monitors = config.monitors.clone();
    let prepare = tokio::task::spawn_blocking(move || {
        monitors
            .iter()
            .enumerate()
            .map(|(i, m)| {
                prepare_monitor(i, m)?
                    .into_iter()
                    .map(|p| {
                        let fingerprint = FileFingerprint::of(&p.path).map_err(|e| {
                            AppError::Source(format!(
                                "monitor {}: stream {}: {}: {e}",
                                m.name,
                                p.stream,
                                p.path.display()
                            ))
                        })?;
                        Ok((p, fingerprint))
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
    shared.ready.store(true, Ordering::Release);
    info!(monitors = restored.len(), "References loaded, sources opened, checkpoints restored.");

    let sources_stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    for (index, streams) in restored.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
        let mut cores = BTreeMap::new();
        for (PreparedStream { stream, path, core, source, .. }, resume) in streams {
            let (tx, stop, errors, name) =
                (tx.clone(), sources_stop.clone(), errors.clone(), config.monitors[index].name.clone());
            let reader = Reader { skip: resume.consumed, max_rate: options.max_rate };
            tracker.spawn_blocking(move || read_source(&name, stream, path, source, reader, tx, &stop, &errors));
            cores.insert(
                stream,
                StreamRunner { core, bad: 0, done: resume.finished, consumed: resume.consumed, file: resume.file },
            );
        }
        drop(tx);
        let (shared, durable, errors) = (shared.clone(), durable.clone(), errors.clone());
        tracker.spawn(async move { run_monitor(&shared, &durable, &errors, index, cores, rx).await });
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

/// The checkpoint store and the observations file of a run.
struct Durable {
    store: Store,
    /// Held while a window is appended and its checkpoint committed, so the file's length in
    /// the last checkpoint is exact.
    sink: Mutex<Option<ObservationSink>>,
}

/// Opens the store (cleared with `--reset-state`) and the observations file (cut back to the
/// last checkpoint), and records which observations file this run writes.
fn open_store(config: &Config, options: &RunOptions) -> Result<Durable, AppError> {
    let store = Store::open(&config.state.path)?;
    if options.reset_state {
        info!(path = %store.path().display(), "Checkpoints cleared (--reset-state).");
        store.clear()?;
    }
    let mark = store.sink_mark()?;
    let sink = options.observations.as_deref().map(|path| ObservationSink::open(path, mark.as_ref())).transpose()?;
    store.set_sink_mark(sink.as_ref().map(ObservationSink::mark).as_ref())?;
    Ok(Durable { store, sink: Mutex::new(sink) })
}

/// Where a stream resumes.
struct Resume {
    consumed: u64,
    finished: bool,
    file: FileFingerprint,
}

/// A stream's core restored from its checkpoint (if any), after checking that its file has not
/// changed since.
fn restore_stream(
    store: &Store,
    monitor: &str,
    mut prepared: PreparedStream,
    file: FileFingerprint,
) -> Result<(PreparedStream, Resume), AppError> {
    let stream = prepared.stream;
    let Some(checkpoint) = store.load(monitor, stream)? else {
        return Ok((prepared, Resume { consumed: 0, finished: false, file }));
    };
    let saved = &checkpoint.source.file;
    if saved.size != file.size || saved.sha256 != file.sha256 {
        return Err(AppError::Checkpoint(format!(
            "monitor {monitor}: stream {stream}: {} changed since the checkpoint in {} \
             ({} bytes, sha256 {} then; {} bytes, sha256 {} now): cannot resume; \
             run with --reset-state to start over",
            file.path.display(),
            store.path().display(),
            saved.size,
            short(&saved.sha256),
            file.size,
            short(&file.sha256),
        )));
    }
    let core = &prepared.core;
    prepared.core =
        MonitorCore::restore(monitor, core.profile().clone(), prepared.spec, core.settings().clone(), checkpoint.state)
            .map_err(|e| AppError::Checkpoint(format!("{e} (run with --reset-state to start over)")))?;
    info!(
        monitor = %monitor,
        stream = %stream,
        consumed = checkpoint.source.consumed,
        finished = checkpoint.finished,
        "Resumed from the checkpoint."
    );
    Ok((prepared, Resume { consumed: checkpoint.source.consumed, finished: checkpoint.finished, file }))
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
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
                if !send(Item::Bad { stream, position, reason: error.reason().as_str(), message }) {
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
    core: MonitorCore,
    /// Bad rows seen (the first [`LOGGED_BAD_ROWS`] logged).
    bad: u64,
    /// Exhausted and flushed (in this run or before the checkpoint it resumed from).
    done: bool,
    /// Source items taken so far (the checkpoint's position).
    consumed: u64,
    file: FileFingerprint,
}

/// A monitor task: records in, windows out (each published window checkpointed), until every
/// reader is gone. An exhausted stream is flushed; a stopped one is checkpointed with its open
/// windows, to be continued by the next run.
async fn run_monitor(
    shared: &Shared,
    durable: &Durable,
    errors: &Mutex<Vec<String>>,
    index: usize,
    mut cores: BTreeMap<Stream, StreamRunner>,
    mut rx: mpsc::Receiver<Item>,
) {
    let entry = &shared.monitors[index];
    let mut ended = std::collections::BTreeSet::new();
    while let Some(item) = rx.recv().await {
        match item {
            Item::Records { first, records } => {
                for (position, record) in (first..).zip(&records) {
                    let Some(runner) = cores.get_mut(&record.stream) else { continue };
                    let Some(metrics) = entry.metrics(record.stream) else { continue };
                    metrics.received.inc();
                    let outcome = runner.core.on_record(record);
                    runner.consumed = position + 1;
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
                        commit(shared, durable, errors, entry, record.stream, runner, &observations);
                    }
                }
            }
            Item::Bad { stream, position, reason, message } => {
                let (Some(runner), Some(metrics)) = (cores.get_mut(&stream), entry.metrics(stream)) else { continue };
                metrics.received.inc();
                metrics.invalid(reason);
                runner.consumed = position + 1;
                runner.bad += 1;
                if runner.bad <= LOGGED_BAD_ROWS {
                    warn!(monitor = %entry.name, stream = %stream, reason, error = %message, "Row skipped.");
                }
            }
            Item::End { stream, exhausted } => {
                if let Some(runner) = cores.get_mut(&stream) {
                    ended.insert(stream);
                    if exhausted {
                        flush(shared, durable, errors, entry, stream, runner);
                    } else {
                        commit(shared, durable, errors, entry, stream, runner, &[]);
                    }
                }
            }
        }
    }
    for (&stream, runner) in &mut cores {
        if !ended.contains(&stream) {
            commit(shared, durable, errors, entry, stream, runner, &[]);
        }
    }
}

/// End of a stream: closes its open windows, checkpoints, and notes it exhausted.
fn flush(
    shared: &Shared,
    durable: &Durable,
    errors: &Mutex<Vec<String>>,
    entry: &MonitorEntry,
    stream: Stream,
    runner: &mut StreamRunner,
) {
    if !runner.done {
        runner.done = true;
        let observations = runner.core.flush();
        commit(shared, durable, errors, entry, stream, runner, &observations);
        if runner.bad > LOGGED_BAD_ROWS {
            warn!(monitor = %entry.name, stream = %stream, count = runner.bad - LOGGED_BAD_ROWS, "More bad rows not shown.");
        }
    }
    entry.live().exhausted.insert(stream);
    info!(monitor = %entry.name, stream = %stream, "Stream ended; windows flushed.");
}

/// Publishes `observations` (whole windows: observations file, metrics, history, log lines),
/// then commits the stream's checkpoint with the observations file's new length, under the
/// sink's lock (see [`store`]). A failure is logged and makes the run fail at its end.
fn commit(
    shared: &Shared,
    durable: &Durable,
    errors: &Mutex<Vec<String>>,
    entry: &MonitorEntry,
    stream: Stream,
    runner: &StreamRunner,
    observations: &[Observation],
) {
    let mut sink = durable.sink.lock().unwrap_or_else(|e| e.into_inner());
    let mut result = match sink.as_mut() {
        Some(sink) if !observations.is_empty() => sink.append(observations),
        _ => Ok(()),
    };
    publish(shared, entry, stream, observations);
    if result.is_ok() {
        let checkpoint = Checkpoint {
            state: runner.core.checkpoint(),
            source: SourcePosition { file: runner.file.clone(), consumed: runner.consumed },
            finished: runner.done,
        };
        let mark = sink.as_ref().map(ObservationSink::mark);
        result = durable.store.save(&entry.name, stream, &checkpoint, mark.as_ref());
    }
    drop(sink);
    if let Err(err) = result {
        error!(monitor = %entry.name, stream = %stream, error = %err, "Checkpoint failed.");
        let mut errors = errors.lock().unwrap_or_else(|e| e.into_inner());
        let message = format!("monitor {}: stream {stream}: {err}", entry.name);
        if !errors.contains(&message) {
            errors.push(message);
        }
    }
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
