//! The monitor task: records in, windows out. Items from the readers go into the stream's
//! core; each closed window goes on through the stages — alerting and the checkpoint
//! ([`commit`]), then publishing — and Kafka partitions are watched every [`PARTITION_CHECK`]
//! (idleness, status). While a checkpoint keeps failing no item is taken (the readers wait).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;
use tracing::{debug, error, trace, warn};

use super::checkpoint::{commit, save};
use super::labels::{bad_label, labels_ended, take_labels, watch_labels};
use super::partitions::WatermarkStatus;
use super::runner::{MonitorContext, StreamRunner};
use super::stream_reference::{features_known, finish_capture, flush, show_reference};
use super::tracked::Tracked;
use crate::monitor::{InvalidRecord, RecordOutcome};
use crate::record::{Position, Stream};
use crate::source::error_log::LOGGED_BAD_ROWS;
use crate::source::task::{Consumed, Item};

/// How often the partitions of Kafka streams are checked (idleness, status).
pub const PARTITION_CHECK: Duration = Duration::from_secs(1);
/// How long closing the Kafka consumers may take at the end.
pub const CLOSE_DEADLINE: Duration = Duration::from_secs(5);
/// Items between two updates of a capture's progress in the status API.
pub const CAPTURE_STATUS_EVERY: u64 = 256;
/// A monitor task: records in, windows out (each published window checkpointed, then its
/// Kafka offsets committed), until every reader is gone. An exhausted stream is flushed; a
/// stopped one is checkpointed with its open windows, to be continued by the next run.
pub async fn run_monitor(
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
            Item::Records { first, records } if records.first().is_some_and(|r| r.stream == Stream::Labels) => {
                take_labels(&ctx, &mut cores, first, &records);
            }
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
            Item::Bad { stream: Stream::Labels, at, reason, message } => {
                bad_label(&ctx, &mut cores, &at, reason, &message);
            }
            Item::End { stream: Stream::Labels, exhausted } => {
                ended.insert(Stream::Labels);
                labels_ended(&ctx, &mut cores, exhausted);
            }
            Item::Revoked { stream: Stream::Labels, ack } => {
                labels_ended(&ctx, &mut cores, false);
                let _ = ack.send(());
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
        let labels_consumer = runner.labels.as_mut().and_then(|side| side.kafka.take());
        for consumer in runner.kafka.take().into_iter().chain(labels_consumer) {
            // Leaves the group (revoking its partitions) outside the runtime: librdkafka's
            // close blocks.
            closers.spawn_blocking(move || {
                consumer.unsubscribe();
                drop(consumer);
            });
        }
    }
}

/// The periodic look at every Kafka stream's partitions (`pipeline/partitions.rs`): assignment
/// changes, idleness, then — every partition idle — the processing-time advance, closing due
/// windows; and the watermark status and metrics.
fn watch_partitions(ctx: &MonitorContext<'_>, cores: &mut BTreeMap<Stream, StreamRunner>) {
    watch_labels(ctx, cores);
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
