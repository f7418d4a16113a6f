//! The monitor task: records in, windows out. Each closed window goes through honestly named
//! steps: rules ([`evaluate`]: evaluate, silence, outbox entries), then [`commit`] (one redb
//! transaction: checkpoint, rules state, outbox; then the Kafka offsets), then ([`publish`])
//! the metrics and history. A failed checkpoint (a full disk) keeps the windows and their
//! notifications [`Unsaved`]: nothing is published or committed, the task takes no new item,
//! `/readyz` says why, and the save is retried with backoff until it succeeds or the run stops.

use super::*;

/// How often the partitions of Kafka streams are checked (idleness, status).
pub(super) const PARTITION_CHECK: Duration = Duration::from_secs(1);
/// How long closing the Kafka consumers may take at the end.
pub(super) const CLOSE_DEADLINE: Duration = Duration::from_secs(5);
/// Items between two updates of a capture's progress in the status API.
pub(super) const CAPTURE_STATUS_EVERY: u64 = 256;
/// First wait before retrying a failed checkpoint; doubled each time up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Closed windows whose checkpoint has not been saved yet, with what goes with them: held
/// back — not published, no offset committed — until one transaction saves them all (the
/// checkpoint then taken covers every one of them).
pub(super) struct Unsaved {
    observations: Vec<Observation>,
    /// Their notifications: rules are evaluated once per window, when it closes.
    entries: Vec<crate::actions::OutboxEntry>,
    /// A reference captured, stored with the checkpoint.
    reference: Option<String>,
    mode: CommitMode,
    /// Failed attempts so far, and when the next one is due.
    failures: u32,
    retry_at: Instant,
}

/// One stream's core inside a monitor task.
pub(super) struct StreamRunner {
    /// `fitted`, `capture` or `trailing` (the monitor's `reference:`), for the status API.
    pub(super) reference_kind: &'static str,
    /// `None` while the stream's reference is being captured.
    pub(super) core: Option<MonitorCore>,
    /// The reference to capture (until it is).
    pub(super) pending: Option<PendingReference>,
    /// The capture under way, once the features are known.
    pub(super) capture: Option<Capture>,
    pub(super) spec: crate::window::WindowSpec,
    /// Bad rows seen.
    pub(super) bad: u64,
    /// The first [`LOGGED_BAD_ROWS`] bad rows are logged, then at most one line per interval.
    pub(super) bad_log: ErrorLog,
    /// Exhausted and flushed (in this run or before the checkpoint it resumed from).
    pub(super) done: bool,
    /// What the checkpoint records as taken.
    pub(super) position: Tracked,
    /// Kafka streams: the consumer that offsets are committed to after each checkpoint.
    pub(super) kafka: Option<Arc<KafkaConsumer>>,
    /// Kafka streams: the topic.
    pub(super) topic: Option<String>,
    /// Kafka streams: assignment, idleness and status of the partitions' clocks.
    pub(super) partitions: PartitionWatch,
    /// When the last record arrived (processing time: idle windows).
    pub(super) last_record: Instant,
    /// Windows closed but not yet checkpointed (a save failed): see [`Unsaved`].
    pub(super) unsaved: Option<Unsaved>,
}

/// What every monitor task shares.
pub(super) struct MonitorContext<'a> {
    pub(super) shared: &'a Shared,
    pub(super) durable: &'a Durable,
    pub(super) errors: &'a Mutex<Vec<String>>,
    pub(super) index: usize,
    /// Kafka monitors with time windows: a partition caught up and silent this long is idle.
    pub(super) idle: Option<Duration>,
    /// Some stream reads Kafka: its partitions are watched every [`PARTITION_CHECK`].
    pub(super) reads_kafka: bool,
    /// The run is stopping: a failing checkpoint is given up on (and the run fails).
    pub(super) stop: &'a CancellationToken,
}

impl MonitorContext<'_> {
    pub(super) fn entry(&self) -> &MonitorEntry {
        &self.shared.monitors[self.index]
    }

    /// Records a stream's failure (once per message): `run` fails with it at its end.
    pub(super) fn fail(&self, stream: Stream, problem: String) {
        let message = format!("monitor {}: stream {stream}: {problem}", self.entry().name);
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        if !errors.contains(&message) {
            errors.push(message);
        }
    }
}

/// A monitor task: records in, windows out (each published window checkpointed, then its
/// Kafka offsets committed), until every reader is gone. An exhausted stream is flushed; a
/// stopped one is checkpointed with its open windows, to be continued by the next run.
pub(super) async fn run_monitor(
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
        // A failed checkpoint: no new item until it is saved (the readers wait on the channel,
        // so nothing is lost), retried with backoff; given up when the run stops.
        if let Some(due) = cores.values().filter_map(|r| r.unsaved.as_ref()).map(|u| u.retry_at).min() {
            tokio::select! {
                () = tokio::time::sleep_until(due.into()) => {
                    for (&stream, runner) in cores.iter_mut() {
                        if runner.unsaved.as_ref().is_some_and(|u| u.retry_at <= Instant::now()) {
                            save(&ctx, stream, runner);
                        }
                    }
                }
                () = ctx.stop.cancelled() => break,
            }
            continue;
        }
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
                // librdkafka hands out runs of one partition: note each run once, not each record.
                let mut last_heard = None;
                for (position, record) in (first..).zip(&records) {
                    let Some(runner) = cores.get_mut(&record.stream) else { continue };
                    let Some(metrics) = entry.metrics(record.stream) else { continue };
                    if runner.position.redelivered(&record.position) {
                        trace!(monitor = %entry.name, stream = %record.stream, position = ?record.position, "Redelivered record skipped.");
                        continue;
                    }
                    metrics.received.inc();
                    runner.position.record(position, &record.position);
                    let partition = record.position.partition();
                    if runner.kafka.is_some() && last_heard != Some((record.stream, partition)) {
                        runner.partitions.heard(partition, arrived);
                        last_heard = Some((record.stream, partition));
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
        if !ended.contains(&stream) || runner.unsaved.is_some() {
            commit(&ctx, stream, runner, &[], CommitMode::Sync, None);
        }
        if runner.unsaved.take().is_some() {
            // The last attempt failed too: what it held is lost from this run (the next run
            // resumes from the last saved checkpoint and closes those windows again).
            error!(monitor = %entry.name, stream = %stream, "Stopped with windows never checkpointed; the next run takes them again.");
            ctx.fail(stream, "the checkpoint kept failing until the run stopped".into());
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
pub(super) fn watch_partitions(ctx: &MonitorContext<'_>, cores: &mut BTreeMap<Stream, StreamRunner>) {
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

/// Publishes where a stream's reference stands (`GET /api/v1/monitors`).
pub(super) fn show_reference(ctx: &MonitorContext<'_>, stream: Stream, runner: &StreamRunner) {
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
pub(super) fn features_known(
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
pub(super) fn finish_capture(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
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

/// End of a stream: closes its open windows, checkpoints, and notes it exhausted.
pub(super) fn flush(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
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

/// Checkpoints `observations` (whole windows) with their notifications: the rules are
/// evaluated now, once per window; then [`save`] writes the observations file and commits the
/// stream's checkpoint with the file's new length and the outbox entries, and — never before
/// — publishes the windows (metrics, history, log lines) and commits the Kafka offsets the
/// checkpoint covers (`mode`: `Sync` when partitions are being given up or the daemon stops).
/// `reference`: a reference just captured (its profile JSON), stored in the same
/// transaction. Windows still waiting for a failed checkpoint are saved with these. A stream
/// still capturing its reference has nothing to checkpoint: its items are taken again after
/// a restart.
pub(super) fn commit(
    ctx: &MonitorContext<'_>,
    stream: Stream,
    runner: &mut StreamRunner,
    observations: &[Observation],
    mode: CommitMode,
    reference: Option<&str>,
) {
    let Some(core) = runner.core.as_ref() else { return };
    let entries = evaluate(ctx, observations, core.profile());
    let unsaved = runner.unsaved.get_or_insert_with(|| Unsaved {
        observations: Vec::new(),
        entries: Vec::new(),
        reference: None,
        mode,
        failures: 0,
        retry_at: Instant::now(),
    });
    unsaved.observations.extend_from_slice(observations);
    unsaved.entries.extend(entries);
    if let Some(json) = reference {
        unsaved.reference = Some(json.to_string());
    }
    if matches!(mode, CommitMode::Sync) {
        unsaved.mode = CommitMode::Sync;
    }
    save(ctx, stream, runner);
}

/// Saves what the stream holds [`Unsaved`] in one transaction (the observations file is
/// appended under the sink's lock, see [`store`], and cut back if the transaction fails); on
/// success publishes it and commits the Kafka offsets. A failure is logged, makes `/readyz`
/// not ready, reopens the database if redb now refuses it, and schedules a retry; a failed
/// offset commit is only logged (the checkpoint has the offsets; the next commit carries them).
#[allow(clippy::result_large_err)] // redb's error type, once per window
fn save(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
    let (Some(core), Some(unsaved)) = (runner.core.as_ref(), runner.unsaved.as_mut()) else { return };
    let entry = ctx.entry();
    let alerting = &ctx.durable.alerting;
    if unsaved.failures > 0 {
        // After an I/O error redb refuses everything until the file is opened again.
        match ctx.durable.store.recover() {
            Ok(true) => info!(path = %ctx.durable.store.path().display(), "State database reopened after the failure."),
            Ok(false) => {}
            Err(err) => warn!(error = %err, "The state database cannot be reopened yet."),
        }
    }
    let mut sink = ctx.durable.sink.lock().unwrap_or_else(|e| e.into_inner());
    let before = sink.as_ref().map(ObservationSink::mark);
    let mut result = match sink.as_mut() {
        Some(sink) if !unsaved.observations.is_empty() => sink.append(&unsaved.observations),
        _ => Ok(()),
    };
    if result.is_ok() {
        let checkpoint =
            Checkpoint { state: core.checkpoint(), source: runner.position.position(), finished: runner.done };
        let mark = sink.as_ref().map(ObservationSink::mark);
        let rules_state = alerting.has_rules().then(|| alerting.state_json());
        let (entries, reference) = (&unsaved.entries, unsaved.reference.as_deref());
        let also = |txn: &redb::WriteTransaction| {
            crate::actions::enqueue_in(txn, entries)?;
            match reference {
                Some(json) => Store::put_reference(txn, &entry.name, stream, json),
                None => Ok(()),
            }
        };
        result = ctx.durable.store.save(&entry.name, stream, &checkpoint, mark.as_ref(), rules_state.as_deref(), &also);
    }
    if let (Err(_), Some(sink), Some(before)) = (&result, sink.as_mut(), before) {
        // What this attempt appended (whole or in part) goes: the retry appends it again.
        if let Err(err) = sink.truncate(before.len) {
            warn!(path = %before.path.display(), error = %err, "Cannot cut the observations file back after a failed checkpoint.");
        }
    }
    drop(sink);
    if let Err(err) = result {
        unsaved.failures += 1;
        let wait = RETRY_FIRST.saturating_mul(1 << unsaved.failures.min(8)).min(RETRY_MAX);
        unsaved.retry_at = Instant::now() + wait;
        let (windows, attempt) = (unsaved.observations.chunk_by(|a, b| a.window == b.window).count(), unsaved.failures);
        // Visible before the log line says so.
        ctx.shared.checkpoint_failing(&entry.name, stream, Some(err.to_string()));
        if let Some(metrics) = entry.metrics(stream) {
            metrics.checkpoint_failures.inc();
        }
        if attempt == 1 {
            error!(monitor = %entry.name, stream = %stream, error = %err, windows, "Checkpoint failed: nothing is published and no offset committed until it is saved; retrying.");
        } else {
            warn!(monitor = %entry.name, stream = %stream, error = %err, windows, attempt, retry_in_ms = wait.as_millis() as u64, "Checkpoint failed again.");
        }
        return;
    }
    let Some(unsaved) = runner.unsaved.take() else { return };
    if unsaved.failures > 0 {
        ctx.shared.checkpoint_failing(&entry.name, stream, None);
        info!(monitor = %entry.name, stream = %stream, attempts = unsaved.failures + 1, "Checkpoint saved; publishing resumes.");
    }
    publish(ctx.shared, entry, stream, &unsaved.observations);
    if !unsaved.observations.is_empty() && alerting.has_rules() {
        // Pending alerts change the gauges too, with or without a notification.
        ctx.shared.update_alerts(alerting);
    }
    for n in unsaved.entries.iter().map(|e| &e.notification) {
        info!(action = %n.action, rule = %n.rule, monitor = %n.monitor, status = n.status.name(), key = %n.idempotency_key, "Notification produced.");
    }
    if !unsaved.entries.is_empty() {
        ctx.durable.wake.notify_one();
    }
    if let (Some(consumer), Tracked::Kafka { topic, next }) = (&runner.kafka, &runner.position) {
        consumer.context().resume_from(next);
        if let Err(err) = kafka::commit_offsets(consumer, topic, next, unsaved.mode) {
            warn!(monitor = %entry.name, stream = %stream, error = %err, "Offset commit failed; the checkpoint keeps the offsets.");
        }
    }
}

/// Evaluates the alert rules on a batch of observations (whole windows, in order) and drops
/// the silenced alerts; returns the outbox entries to save with the windows' checkpoint.
fn evaluate(
    ctx: &MonitorContext<'_>,
    observations: &[Observation],
    profile: &crate::reference::ReferenceProfile,
) -> Vec<crate::actions::OutboxEntry> {
    let alerting = &ctx.durable.alerting;
    if !alerting.has_rules() {
        return Vec::new();
    }
    let mut notifications = Vec::new();
    for window in observations.chunk_by(|a, b| a.window == b.window) {
        let drifted = drifted_features(window, &Thresholds::default());
        notifications.extend(alerting.evaluate(profile, window, &drifted));
    }
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
    notifications.into_iter().map(|p| crate::actions::OutboxEntry::new(p.notification, p.evidence, now)).collect()
}

/// Publishes a batch of checkpointed observations (whole windows, in order): a log line, the
/// metrics and the history per window.
pub(super) fn publish(shared: &Shared, entry: &MonitorEntry, stream: Stream, observations: &[Observation]) {
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
        if let Some(closed) = ClosedWindow::new(stream, window, drifted) {
            shared.window_closed(entry, window, closed);
        }
    }
}
