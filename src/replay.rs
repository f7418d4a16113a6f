//! `driftd replay`: run a configuration's monitors over their file sources, synchronously,
//! without a runtime, for demos, tests and backfills; `driftd run` ([`crate::app`]) runs the
//! same parts asynchronously, both prepared by [`crate::build::prepare_monitor`].
//!
//! Input: a validated [`Config`] whose streams all have file sources. Output per monitor: one
//! line per closed window, a summary, optionally every observation as a JSON line
//! (`replay/output.rs`). Each stream gets its own [`MonitorCore`], so streams replay one after
//! the other with the windows of an interleaved run. Details and invariants: on [`run`].

mod output;

use std::collections::BTreeMap;
use std::io::Write;

use crate::build::{
    check_supported, prepare_monitor, BuildError, PendingReference, PreparedSource, PreparedStream, Runner,
    StreamReference,
};
use crate::config::{Config, MonitorConfig};
use crate::labels::LabelJoin;
use crate::monitor::{MonitorCore, MonitorError, Observation};
use crate::record::Stream;
use crate::reference::capture::Capture;
use crate::source::error_log::LOGGED_BAD_ROWS;
use crate::source::{DecodeReason, Decoded, FileSource, SourceError};
use crate::stats::verdict::Thresholds;
use crate::window::WindowSpec;

use crate::monitor::observation_json;
pub use output::{WindowSummary, WindowWriter};

/// Records per batch handed from the reading thread to the monitor, and batches in flight.
const READ_BATCH: usize = 1024;
const READ_AHEAD_BATCHES: usize = 8;

/// Why a replay could not run. Each message is one line naming the monitor.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The configuration could not be built into monitors (`crate::build`).
    #[error(transparent)]
    Build(Box<BuildError>),
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    #[error("monitor {monitor}: stream {stream}: {source}")]
    Source { monitor: String, stream: Stream, source: SourceError },
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl From<BuildError> for ReplayError {
    fn from(err: BuildError) -> Self {
        ReplayError::Build(Box::new(err))
    }
}

/// Where a replay writes.
pub struct Sinks<'a> {
    /// Window lines and summaries.
    pub report: &'a mut dyn Write,
    /// Every observation as a JSON line, when asked for.
    pub observations: Option<&'a mut dyn Write>,
    /// Warnings (bad rows).
    pub log: &'a mut dyn Write,
}

/// What each stream of one monitor did.
pub type MonitorSummary = BTreeMap<Stream, StreamSummary>;

/// What one stream of one monitor did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamSummary {
    /// Rows read (decoded or not).
    pub read: u64,
    pub accepted: u64,
    pub late: u64,
    /// Rows that were not taken, by reason (decode reasons, `wrong_arity`, `event_time_out_of_range`).
    pub invalid: BTreeMap<&'static str, u64>,
    /// Values of the wrong type (text in a numeric feature …), summed over features.
    pub type_mismatches: u64,
    pub windows_closed: u64,
    pub windows_with_drift: u64,
    /// Bounds of the first window with a drifted feature.
    pub first_drift: Option<(i64, i64)>,
    /// Records taken into a captured reference (not monitored).
    pub captured: u64,
    /// The labels stream: what the join did with the predictions and the labels.
    pub join: Option<crate::labels::JoinCounters>,
}

/// Replays every monitor of `config`, one after the other.
///
/// The configuration's file sources are checked for every monitor before anything is read.
/// Per monitor: one text line per closed window (the features whose PSI crossed
/// [`Thresholds::default`]), a summary of the counts, and optionally every observation as a
/// JSON line; warnings about bad rows go to the log writer, at most [`LOGGED_BAD_ROWS`] per
/// stream plus a count.
///
/// Each stream gets its own [`MonitorCore`] over a profile holding only that stream: streams
/// have independent windows, so replaying one file after the other gives the same windows as
/// interleaving them, and each stream's last windows close when its own file ends. A `capture`
/// reference takes each stream's first N items (not monitored); a `trailing` one starts its
/// core over the features discovered from the file ([`crate::build::PendingReference`]; see
/// docs/daemon.md, "References from the stream").
///
/// Invariants: bad rows are counted per reason and never stop a replay; a configuration the
/// replay cannot run (Kafka source, no event time), a reference that cannot be fit or loaded,
/// or a file that cannot be read is one [`ReplayError`].
pub fn run(config: &Config, sinks: &mut Sinks<'_>) -> Result<Vec<(String, MonitorSummary)>, ReplayError> {
    check_supported(config, Runner::Replay)?;
    let mut all = Vec::new();
    for (index, monitor) in config.monitors.iter().enumerate() {
        let summaries = replay_monitor(index, monitor, sinks)?;
        output::write_summary(sinks.report, &monitor.name, &summaries)?;
        all.push((monitor.name.clone(), summaries));
    }
    sinks.report.flush()?;
    if let Some(out) = sinks.observations.as_mut() {
        out.flush()?;
    }
    Ok(all)
}

/// The `invalid` reasons beyond decoding that a core counts, with their counts.
pub fn core_invalid(counters: &crate::monitor::StreamCounters) -> [(&'static str, u64); 2] {
    [("wrong_arity", counters.wrong_arity), ("event_time_out_of_range", counters.event_time_out_of_range)]
}

fn replay_monitor(
    index: usize,
    monitor: &MonitorConfig,
    sinks: &mut Sinks<'_>,
) -> Result<BTreeMap<Stream, StreamSummary>, ReplayError> {
    let name = monitor.name.as_str();
    let thresholds = Thresholds::default();
    let mut summaries = BTreeMap::new();
    // The predictions' core, kept for the labels (replayed last) that its join takes.
    let mut predictions_core: Option<MonitorCore> = None;
    for PreparedStream { stream, mut core, mut pending, spec, source } in prepare_monitor(index, monitor, &|_| None)? {
        let PreparedSource::File { path, mut source } = source else {
            unreachable!("check_supported rejects Kafka sources for replay")
        };
        if stream == Stream::Labels {
            if let Some(core) = predictions_core.as_mut().filter(|c| c.join().is_some()) {
                let summary = replay_labels(name, &path, &mut source, core, sinks)?;
                summaries.insert(stream, summary);
            }
            continue;
        }
        let source_error = |source| ReplayError::Source { monitor: name.to_string(), stream, source };
        let mut summary = StreamSummary::default();
        let mut bad = 0u64;
        let mut windows = output::WindowWriter::new(name, stream, thresholds);
        if let Some(p) = pending.as_ref().filter(|p| matches!(p.kind, StreamReference::Trailing { .. })) {
            core = Some(p.trailing_core(name, stream, p.features.as_deref().unwrap_or_default(), spec)?);
            pending = None;
        }
        let mut capture = pending.as_ref().map(|p| Capture::new(p.features.clone().unwrap_or_default(), p.events));
        // The source (reading + JSON decoding) runs on its own thread and hands over batches,
        // so decoding overlaps the monitor's work; items keep their order.
        let source = std::thread::scope(|scope| -> Result<FileSource, ReplayError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Result<Decoded, SourceError>>>(READ_AHEAD_BATCHES);
            let reader = scope.spawn(move || {
                let mut batch = Vec::with_capacity(READ_BATCH);
                for item in source.by_ref() {
                    batch.push(item);
                    if batch.len() == READ_BATCH
                        && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(READ_BATCH))).is_err()
                    {
                        return source;
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                source
            });
            for batch in rx {
                for item in batch {
                    match item {
                        Ok(decoded) => match (&mut core, &mut capture) {
                            (Some(core), _) => {
                                core.on_record(&decoded.record);
                                if core.has_closed_windows() {
                                    emit(&core.on_watermark(), &mut windows, sinks, &mut summary)?;
                                }
                            }
                            (None, Some(taking)) => {
                                taking.add(&decoded.record);
                                summary.captured += 1;
                                if taking.is_complete() {
                                    core = Some(captured(name, stream, spec, &mut capture, &mut pending, sinks)?);
                                }
                            }
                            (None, None) => unreachable!("a stream without core has a capture"),
                        },
                        Err(err @ SourceError::Bad { .. }) => {
                            if let (None, Some(taking)) = (&core, &mut capture) {
                                taking.add_bad();
                                if taking.is_complete() {
                                    core = Some(captured(name, stream, spec, &mut capture, &mut pending, sinks)?);
                                }
                            }
                            bad += 1;
                            if bad <= LOGGED_BAD_ROWS {
                                writeln!(
                                    sinks.log,
                                    "driftd: warning: {name}/{stream}: {} {err} (row skipped)",
                                    path.display()
                                )?;
                            }
                        }
                        Err(fatal) => return Err(source_error(fatal)),
                    }
                }
            }
            match reader.join() {
                Ok(source) => Ok(source),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        match &mut core {
            Some(core) => emit(&core.flush(), &mut windows, sinks, &mut summary)?,
            None => {
                let (taken, target) = capture.as_ref().map_or((0, 0), Capture::progress);
                writeln!(
                    sinks.log,
                    "driftd: warning: {name}/{stream}: {} ended after {taken} of the {target} items to capture: no \
                     reference, nothing monitored",
                    path.display()
                )?;
            }
        }
        source_counts(name, stream, &source, bad, &mut summary, sinks)?;
        if let Some(counters) = core.as_ref().and_then(|c| c.counters(stream)) {
            summary.accepted = counters.accepted;
            summary.late = counters.late;
            summary.type_mismatches = counters.type_mismatch.iter().sum();
            for (reason, count) in core_invalid(counters) {
                if count > 0 {
                    summary.invalid.insert(reason, count);
                }
            }
        }
        summaries.insert(stream, summary);
        if stream == Stream::Predictions {
            predictions_core = core;
        }
    }
    Ok(summaries)
}

/// Replays a labels file into the monitor's join (its predictions were replayed before), then
/// ends it: every window's performance is final.
fn replay_labels(
    name: &str,
    path: &std::path::Path,
    source: &mut FileSource,
    core: &mut MonitorCore,
    sinks: &mut Sinks<'_>,
) -> Result<StreamSummary, ReplayError> {
    let stream = Stream::Labels;
    let mut summary = StreamSummary::default();
    let mut bad = 0u64;
    for item in source.by_ref() {
        match item {
            Ok(decoded) => {
                core.on_label(&decoded.record);
                if core.has_closed_windows() {
                    emit_performance(name, &core.on_watermark(), sinks)?;
                }
            }
            Err(err @ SourceError::Bad { .. }) => {
                bad += 1;
                if bad <= LOGGED_BAD_ROWS {
                    writeln!(sinks.log, "driftd: warning: {name}/{stream}: {} {err} (row skipped)", path.display())?;
                }
            }
            Err(fatal) => return Err(ReplayError::Source { monitor: name.to_string(), stream, source: fatal }),
        }
    }
    emit_performance(name, &core.flush_labels(), sinks)?;
    source_counts(name, stream, source, bad, &mut summary, sinks)?;
    let Some(c) = core.join().map(LabelJoin::counters) else { return Ok(summary) };
    summary.accepted = c.labels;
    summary.join = Some(c.clone());
    Ok(summary)
}

/// What the source read, into the summary (rows, invalid by reason), and how many bad rows
/// were not logged.
fn source_counts(
    name: &str,
    stream: Stream,
    source: &FileSource,
    bad: u64,
    summary: &mut StreamSummary,
    sinks: &mut Sinks<'_>,
) -> Result<(), ReplayError> {
    if bad > LOGGED_BAD_ROWS {
        writeln!(sinks.log, "driftd: warning: {name}/{stream}: {} more bad rows not shown", bad - LOGGED_BAD_ROWS)?;
    }
    let stats = source.stats();
    summary.read = stats.records + stats.invalid_total();
    for (reason, count) in DecodeReason::ALL.iter().zip(stats.invalid) {
        if count > 0 {
            summary.invalid.insert(reason.as_str(), count);
        }
    }
    Ok(())
}

/// Writes performance observations (whole versions of windows) and one line per version.
fn emit_performance(name: &str, observations: &[Observation], sinks: &mut Sinks<'_>) -> Result<(), ReplayError> {
    if let Some(out) = sinks.observations.as_mut() {
        for observation in observations {
            writeln!(out, "{}", observation_json(observation))?;
        }
    }
    for version in observations.chunk_by(|a, b| a.window == b.window) {
        writeln!(sinks.report, "{}", output::performance_line(name, version))?;
    }
    Ok(())
}

/// The core over the reference `capture` completed, with a report line.
fn captured(
    name: &str,
    stream: Stream,
    spec: WindowSpec,
    capture: &mut Option<Capture>,
    pending: &mut Option<PendingReference>,
    sinks: &mut Sinks<'_>,
) -> Result<MonitorCore, ReplayError> {
    let (Some(capture), Some(pending)) = (capture.take(), pending.take()) else {
        unreachable!("a capture completes once")
    };
    let profile =
        capture.finish(stream, &pending.settings.compare.binning, pending.model_version.clone(), &pending.source);
    writeln!(
        sinks.report,
        "{name}/{stream}: reference captured: {} rows, {} features ({})",
        profile.meta.rows,
        profile.features(stream).len(),
        profile.features(stream).iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
    )?;
    Ok(pending.core(name, profile, spec)?)
}

/// Writes a batch of observations (whole windows) and counts its windows.
fn emit(
    observations: &[Observation],
    windows: &mut output::WindowWriter<'_>,
    sinks: &mut Sinks<'_>,
    summary: &mut StreamSummary,
) -> Result<(), ReplayError> {
    // The join's versions come out of the predictions' core after its windows.
    let split = observations.iter().position(|o| o.stream == Stream::Labels).unwrap_or(observations.len());
    let (observations, performance) = observations.split_at(split);
    emit_performance(windows.monitor(), performance, sinks)?;
    if let Some(out) = sinks.observations.as_mut() {
        for observation in observations {
            writeln!(out, "{}", observation_json(observation))?;
        }
    }
    for window in windows.group(observations) {
        summary.windows_closed += 1;
        if !window.drifted.is_empty() {
            summary.windows_with_drift += 1;
            summary.first_drift.get_or_insert((window.start_ms, window.end_ms));
        }
        writeln!(sinks.report, "{}", window.line())?;
    }
    Ok(())
}
