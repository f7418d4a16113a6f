//! The labels stream inside a monitor task: a side input of the predictions stream's runner
//! ([`super::runner::LabelsSide`]). Its records go to the predictions core's join (`crate::labels`), its
//! progress is saved by the predictions' checkpoint (one transaction with the join's state),
//! and its end, revocation and partitions are handled here in the predictions' name.

use std::collections::BTreeMap;
use std::time::Instant;

use rdkafka::consumer::CommitMode;
use tracing::{info, trace, warn};

use super::checkpoint::commit;
use super::partitions::WatermarkStatus;
use super::runner::{MonitorContext, StreamRunner};
use super::tracked::Tracked;
use crate::record::{Position, Record, Stream};
use crate::source::error_log::LOGGED_BAD_ROWS;
use crate::source::task::Consumed;

/// The predictions runner that carries the labels side, and the side.
fn side(cores: &mut BTreeMap<Stream, StreamRunner>) -> Option<&mut StreamRunner> {
    cores.get_mut(&Stream::Predictions).filter(|r| r.labels.is_some() && r.core.is_some())
}

/// A batch of label records (file items from `first`): into the join; the versions it makes
/// due are checkpointed and published with the predictions stream.
pub fn take_labels(
    ctx: &MonitorContext<'_>,
    cores: &mut BTreeMap<Stream, StreamRunner>,
    first: u64,
    records: &[Record],
) {
    let entry = ctx.entry();
    let Some(runner) = side(cores) else { return };
    let (Some(labels), Some(core)) = (runner.labels.as_mut(), runner.core.as_mut()) else { return };
    if let Some(consumer) = &labels.kafka {
        labels.partitions.sync(consumer, core, Stream::Labels);
    }
    let arrived = Instant::now();
    let mut last_heard = None;
    for (item, record) in (first..).zip(records) {
        if labels.position.redelivered(&record.position) {
            trace!(monitor = %entry.name, position = ?record.position, "Redelivered label skipped.");
            continue;
        }
        if let Some(metrics) = entry.metrics(Stream::Labels) {
            metrics.received.inc();
        }
        labels.position.record(item, &record.position);
        let partition = record.position.partition();
        if labels.kafka.is_some() && last_heard != Some(partition) {
            labels.partitions.heard(partition, arrived);
            last_heard = Some(partition);
        }
        core.on_label(record);
    }
    labels.last_record = Instant::now();
    if core.has_closed_windows() {
        let observations = core.on_watermark();
        commit(ctx, Stream::Predictions, runner, &observations, CommitMode::Async, None);
    }
}

/// A labels message that did not decode: counted, its position taken.
pub fn bad_label(
    ctx: &MonitorContext<'_>,
    cores: &mut BTreeMap<Stream, StreamRunner>,
    at: &Consumed,
    reason: &str,
    message: &str,
) {
    let entry = ctx.entry();
    let Some(labels) = side(cores).and_then(|r| r.labels.as_mut()) else { return };
    if let Consumed::Kafka { partition, offset } = at {
        let position = Position::Kafka { topic: String::new(), partition: *partition, offset: *offset };
        if labels.position.redelivered(&position) {
            return;
        }
        labels.partitions.heard(*partition, Instant::now());
    }
    if let Some(metrics) = entry.metrics(Stream::Labels) {
        metrics.received.inc();
        metrics.invalid(reason);
    }
    labels.position.bad(at);
    labels.bad += 1;
    let suppressed = if labels.bad <= LOGGED_BAD_ROWS { Some(0) } else { labels.bad_log.allow() };
    if let Some(suppressed) = suppressed {
        warn!(monitor = %entry.name, stream = %Stream::Labels, reason, error = %message, suppressed, "Row skipped.");
    }
}

/// The labels stream ended (`exhausted`: a finite source read to its end, so every window's
/// performance is final) or stopped: checkpointed with the predictions.
pub fn labels_ended(ctx: &MonitorContext<'_>, cores: &mut BTreeMap<Stream, StreamRunner>, exhausted: bool) {
    let entry = ctx.entry();
    let Some(runner) = side(cores) else { return };
    let (Some(labels), Some(core)) = (runner.labels.as_mut(), runner.core.as_mut()) else { return };
    let observations = if exhausted && !labels.done {
        labels.done = true;
        info!(monitor = %entry.name, stream = %Stream::Labels, "Stream ended; every window's performance is final.");
        core.flush_labels()
    } else {
        Vec::new()
    };
    if exhausted {
        entry.live().exhausted.insert(Stream::Labels);
    }
    commit(ctx, Stream::Predictions, runner, &observations, CommitMode::Sync, None);
}

/// The periodic look at the labels' Kafka partitions: assignment, idleness, the
/// processing-time advance of a quiet labels stream (which makes windows final), the status.
pub fn watch_labels(ctx: &MonitorContext<'_>, cores: &mut BTreeMap<Stream, StreamRunner>) {
    let entry = ctx.entry();
    let Some(runner) = side(cores) else { return };
    let (Some(labels), Some(core)) = (runner.labels.as_mut(), runner.core.as_mut()) else { return };
    let (Some(consumer), Some(topic)) = (labels.kafka.clone(), labels.topic.clone()) else { return };
    labels.partitions.sync(&consumer, core, Stream::Labels);
    let taken = match &labels.position {
        Tracked::Kafka { next, .. } => next.clone(),
        Tracked::File { .. } => BTreeMap::new(),
    };
    let partitions = labels.partitions.mark_idle(&consumer, &topic, &taken, core, Stream::Labels, ctx.idle);
    let all_idle = core.partition_clocks(Stream::Labels).is_some_and(|(clocks, _)| clocks.all_idle());
    let waiting = core.join().is_some_and(|j| j.waiting_windows() > 0);
    let mut observations = Vec::new();
    // Only windows waiting for labels are moved on by the clock (as for the drift windows).
    if ctx.idle.is_some() && all_idle && waiting {
        let elapsed = u64::try_from(labels.last_record.elapsed().as_millis()).unwrap_or(u64::MAX);
        observations = core.advance_idle(Stream::Labels, elapsed);
    } else if core.has_closed_windows() {
        observations = core.on_watermark();
    }
    let watermark_ms = core.join().and_then(|j| j.watermarks().1);
    ctx.shared.watermark(entry, Stream::Labels, &topic, &WatermarkStatus { watermark_ms, partitions });
    if !observations.is_empty() {
        commit(ctx, Stream::Predictions, runner, &observations, CommitMode::Async, None);
    }
}
