//! A stream's reference inside the monitor task: its status for the API ([`show_reference`]),
//! features discovered ([`features_known`]: a capture starts, or a trailing core), a capture
//! completed ([`finish_capture`]: fitted, stored with the first checkpoint), and the stream's
//! end ([`flush`]).

use rdkafka::consumer::CommitMode;
use tracing::{error, info, warn};

use super::checkpoint::commit;
use super::restore::captured_copy_path;
use super::runner::{MonitorContext, StreamRunner};
use super::state;
use crate::build::StreamReference;
use crate::record::Stream;
use crate::reference::capture::Capture;
use crate::source::discover::DiscoveredFeature;
use crate::source::error_log::LOGGED_BAD_ROWS;

/// Publishes where a stream's reference stands (`GET /api/v1/monitors`).
pub fn show_reference(ctx: &MonitorContext<'_>, stream: Stream, runner: &StreamRunner) {
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
pub fn features_known(
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
pub fn finish_capture(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
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
pub fn flush(ctx: &MonitorContext<'_>, stream: Stream, runner: &mut StreamRunner) {
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
