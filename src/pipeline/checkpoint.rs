//! The checkpoint stage: a closed window's observations with their notifications (rules
//! evaluated once, [`commit`]) saved in one redb transaction with the stream's checkpoint and
//! the observations file's length ([`save`]); then — never before — published and the Kafka
//! offsets committed. A failed save keeps everything [`Unsaved`]: nothing is published or
//! committed, the task takes no new item, `/readyz` says why, and it is retried with backoff.

use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use tracing::{error, info, warn};

use super::publish::publish;
use super::runner::{MonitorContext, StreamRunner, Unsaved};
use super::tracked::Tracked;
use crate::monitor::Observation;
use crate::record::Stream;
use crate::source::kafka;
use crate::store::{Checkpoint, LabelsPosition, ObservationSink, Store};

/// First wait before retrying a failed checkpoint; doubled each time up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Checkpoints `observations` (whole windows) with their notifications: the rules are
/// evaluated now, once per window; then [`save`] writes the observations file and commits the
/// stream's checkpoint with the file's new length and the outbox entries, and — never before
/// — publishes the windows (metrics, history, log lines) and commits the Kafka offsets the
/// checkpoint covers (`mode`: `Sync` when partitions are being given up or the daemon stops).
/// `reference`: a reference just captured (its profile JSON), stored in the same
/// transaction. Windows still waiting for a failed checkpoint are saved with these. A stream
/// still capturing its reference has nothing to checkpoint: its items are taken again after
/// a restart.
pub fn commit(
    ctx: &MonitorContext<'_>,
    stream: Stream,
    runner: &mut StreamRunner,
    observations: &[Observation],
    mode: CommitMode,
    reference: Option<&str>,
) {
    let Some(core) = runner.core.as_ref() else { return };
    let (entries, silenced) =
        ctx.durable.alerting.outbox_entries(core.profile(), observations, ctx.shared.silences.get().map(|s| &**s));
    ctx.shared.silenced.inc_by(silenced);
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
pub fn save(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
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
        let labels =
            runner.labels.as_ref().map(|side| LabelsPosition { source: side.position.position(), finished: side.done });
        let checkpoint =
            Checkpoint { state: core.checkpoint(), source: runner.position.position(), finished: runner.done, labels };
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
        let windows = unsaved.observations.chunk_by(|a, b| a.window == b.window && a.stream == b.stream).count();
        let attempt = unsaved.failures;
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
    publish(ctx.shared, entry, &unsaved.observations);
    if let Some(join) = runner.core.as_ref().and_then(|core| core.join()) {
        ctx.shared.label_join(entry, join);
    }
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
    // The labels the checkpoint covers (a side input of this stream).
    if let Some((Some(consumer), Tracked::Kafka { topic, next })) =
        runner.labels.as_ref().map(|side| (&side.kafka, &side.position))
    {
        consumer.context().resume_from(next);
        if let Err(err) = kafka::commit_offsets(consumer, topic, next, unsaved.mode) {
            warn!(monitor = %entry.name, stream = %Stream::Labels, error = %err, "Offset commit failed; the checkpoint keeps the offsets.");
        }
    }
}
