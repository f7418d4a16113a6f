//! `driftd replay`: run a configuration's monitors over their file sources, synchronously.
//!
//! Role: the first end-to-end wiring of the daemon's pure parts — configuration
//! ([`crate::config`]) → reference ([`crate::reference::load`] / [`crate::reference::fit`]) →
//! [`MonitorCore`] → [`FileSource`] records → [`Observation`]s — without a runtime, for demos,
//! tests and backfills. `driftd run` ([`crate::app`]) runs the same parts asynchronously,
//! prepared by the same [`prepare_monitor`].
//!
//! Inputs: a validated [`Config`] whose streams all have file sources (checked for every
//! monitor before anything is read). Outputs, per monitor: one text line per closed window
//! (the features whose PSI crossed [`Thresholds::default`]), a summary of the counts, and
//! optionally every observation as a JSON line (`replay/output.rs`); warnings about bad rows
//! go to the log writer, at most [`LOGGED_BAD_ROWS`] per stream plus a count.
//!
//! Each stream gets its own [`MonitorCore`] over a profile holding only that stream: streams
//! have independent windows, so replaying one file after the other gives the same windows as
//! interleaving them, and each stream's last windows close when its own file ends.
//!
//! References from the stream: a `capture` reference takes each stream's first N items (not
//! monitored), a `trailing` one starts its core over the features discovered from the file
//! ([`PendingReference`]; see the README, "References from the stream").
//!
//! Invariants: bad rows are counted per reason and never stop a replay; a configuration the
//! replay cannot run (Kafka source, no event time), a reference that cannot be fit or loaded,
//! or a file that cannot be read is one [`ReplayError`].

mod output;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use crate::config::{
    Config, EventTimeConfig, FeatureSelection, KafkaSourceConfig, MonitorConfig, ReferenceConfig, SourceConfig,
    StreamConfig, StreamValues, WindowConfig, WindowKind, WindowSize,
};
use crate::monitor::{MonitorCore, MonitorError, MonitorSettings, Observation};
use crate::record::Stream;
use crate::reference::capture::Capture;
use crate::reference::{FeatureKind, FeatureType, FitOptions, ReferenceError, ReferenceProfile, StreamProfile};
use crate::source::discover::{discover_file, DiscoveredFeature, Discovery};
use crate::source::{
    DecodeReason, DecodeSpec, Decoded, Decoder, EventTimeSpec, FeatureSpec, FileSource, PredictionKind, SourceError,
    SpecError, TimeFormat,
};
use crate::stats::profile::CompareSettings;
use crate::stats::verdict::Thresholds;
use crate::window::WindowSpec;

pub use output::{format_time_ms, observation_json, WindowSummary, WindowWriter};

/// Bad rows logged with their position per stream; the rest are only counted.
pub const LOGGED_BAD_ROWS: u64 = 5;
/// Records per batch handed from the reading thread to the monitor, and batches in flight.
const READ_BATCH: usize = 1024;
const READ_AHEAD_BATCHES: usize = 8;

/// Why a replay could not run. Each message is one line naming the monitor.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("monitor {monitor}: {message}")]
    Unsupported { monitor: String, message: String },
    #[error("monitor {monitor}: reference: {source}")]
    Reference { monitor: String, source: ReferenceError },
    #[error("monitor {monitor}: stream {stream}: {source}")]
    Spec { monitor: String, stream: Stream, source: SpecError },
    #[error(transparent)]
    Monitor(#[from] MonitorError),
    #[error("monitor {monitor}: stream {stream}: {source}")]
    Source { monitor: String, stream: Stream, source: SourceError },
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
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
}

/// Which command runs the monitors (it words the errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Replay,
    Run,
}

impl Runner {
    fn name(self) -> &'static str {
        match self {
            Runner::Replay => "replay",
            Runner::Run => "run",
        }
    }
}

/// Checks that every monitor can be run from files (file sources, supported reference and
/// event time) before anything is read, so an unsupported configuration fails without output.
pub fn check_supported(config: &Config, runner: Runner) -> Result<(), ReplayError> {
    let command = runner.name();
    for monitor in &config.monitors {
        let unsupported = |message: String| ReplayError::Unsupported { monitor: monitor.name.clone(), message };
        for (stream, s) in monitor.streams() {
            if let (SourceConfig::Kafka(_), Runner::Replay) = (&s.source, runner) {
                return Err(unsupported(format!(
                    "stream {stream} reads Kafka: replay supports file sources only (use `driftd run`)"
                )));
            }
            if matches!(s.event_time, EventTimeConfig::None) {
                return Err(unsupported(format!(
                    "stream {stream} has no event_time field: {command} needs `event_time: {{ field: …, format: … }}`"
                )));
            }
        }
    }
    Ok(())
}

/// Replays every monitor of `config`, one after the other.
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

/// The reference of a monitor, fitted or loaded.
pub fn resolve_reference(monitor: &MonitorConfig) -> Result<ReferenceProfile, ReplayError> {
    let wrap = |source| ReplayError::Reference { monitor: monitor.name.clone(), source };
    match &monitor.reference {
        ReferenceConfig::Profile { path } => crate::reference::load(path).map_err(wrap),
        ReferenceConfig::Dataset { path, format, predictions, exclude } => {
            let options = FitOptions {
                format: Some(*format),
                predictions: predictions.clone(),
                exclude: exclude.clone(),
                model_version: monitor.model_version.clone(),
                binning: monitor.binning.clone().unwrap_or_default(),
                ..FitOptions::default()
            };
            crate::reference::fit(path, &options).map_err(wrap)
        }
        ReferenceConfig::Capture { .. } | ReferenceConfig::Trailing { .. } => Err(ReplayError::Unsupported {
            monitor: monitor.name.clone(),
            message: "a captured or trailing reference comes from the stream, not from a file".into(),
        }),
    }
}

/// The window spec of a resolved window configuration.
pub fn window_spec(window: &WindowConfig) -> Result<WindowSpec, String> {
    let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let lateness = ms(window.allowed_lateness);
    match (window.kind, window.size, window.slide) {
        (WindowKind::Tumbling, WindowSize::Time(size), _) => Ok(WindowSpec::tumbling_time(ms(size), lateness)),
        (WindowKind::Sliding, WindowSize::Time(size), WindowSize::Time(slide)) => {
            Ok(WindowSpec::sliding_time(ms(size), ms(slide), lateness))
        }
        (WindowKind::Tumbling, WindowSize::Events(n), _) => Ok(WindowSpec::tumbling_count(n)),
        (WindowKind::Sliding, WindowSize::Events(n), WindowSize::Events(slide)) => {
            Ok(WindowSpec::sliding_count(n, slide))
        }
        _ => Err("window size and slide must have the same unit".into()),
    }
}

/// The decoder spec of a stream (its event time checked by [`check_supported`]).
pub fn decode_spec(stream: &StreamConfig) -> DecodeSpec {
    let event_time = match &stream.event_time {
        EventTimeConfig::Field { pointer, format } => EventTimeSpec::Field {
            pointer: pointer.clone(),
            format: match format {
                crate::config::TimeFormat::Rfc3339 => TimeFormat::Rfc3339,
                crate::config::TimeFormat::EpochS => TimeFormat::EpochSeconds,
                crate::config::TimeFormat::EpochMs => TimeFormat::EpochMillis,
            },
        },
        EventTimeConfig::KafkaTimestamp | EventTimeConfig::None => EventTimeSpec::KafkaTimestamp,
    };
    let features = match &stream.values {
        StreamValues::Features(FeatureSelection::All) => FeatureSpec::Object { pointer: "/features".into() },
        StreamValues::Features(FeatureSelection::Object { pointer }) => {
            FeatureSpec::Object { pointer: pointer.clone() }
        }
        StreamValues::Features(FeatureSelection::List(list)) => {
            FeatureSpec::Pointers(list.iter().map(|f| (f.name.clone(), f.pointer.clone())).collect())
        }
        StreamValues::Prediction(p) => FeatureSpec::Prediction {
            pointer: p.pointer.clone(),
            kind: match p.kind {
                crate::config::PredictionKind::Score => PredictionKind::Score,
                crate::config::PredictionKind::Label => PredictionKind::Label,
                crate::config::PredictionKind::Probabilities => {
                    PredictionKind::Probabilities { classes: (!p.classes.is_empty()).then(|| p.classes.clone()) }
                }
            },
        },
    };
    DecodeSpec { event_time, features, max_message_bytes: stream.max_message_bytes }
}

/// One stream of a monitor, ready to run: its own [`MonitorCore`] (over a profile holding
/// only this stream) and its source — or, while the stream's reference is still to be
/// captured from the stream itself, what building the core needs once it is.
pub struct PreparedStream {
    pub stream: Stream,
    /// `None` until a pending reference is captured.
    pub core: Option<MonitorCore>,
    /// The reference still to be captured (`reference: {capture: …}` without a stored one).
    pub pending: Option<PendingReference>,
    /// The window spec `core` was built with (to restore a checkpoint into the same core).
    pub spec: WindowSpec,
    pub source: PreparedSource,
}

/// A stream's source, ready to read.
pub enum PreparedSource {
    /// An opened file (its path for log lines).
    File { path: std::path::PathBuf, source: FileSource },
    /// A Kafka topic, not yet connected (`driftd run` connects it after restoring the
    /// checkpoint, which positions the partitions), and how its messages are decoded.
    Kafka { config: KafkaSourceConfig, decoding: KafkaDecoding, dead_letter_topic: Option<String> },
}

/// How a Kafka stream's messages are decoded.
pub enum KafkaDecoding {
    /// With the reference's feature list.
    Ready(Decoder),
    /// The feature list is discovered first ([`crate::source::discover`]): the reader holds
    /// the first `messages` messages back (or, with `idle`, fewer once no message came for
    /// that long), discovers their features, then builds the decoder.
    Discover { spec: DecodeSpec, messages: u64, idle: Option<std::time::Duration> },
}

/// Messages whose features a trailing reference discovers before its first window (fewer
/// when the source ends or, for Kafka, goes quiet for [`TRAILING_DISCOVERY_IDLE`]). They are
/// monitored like every other message: only their keys and value types are looked at first.
pub const TRAILING_DISCOVERY_MESSAGES: u64 = 1000;
/// See [`TRAILING_DISCOVERY_MESSAGES`].
pub const TRAILING_DISCOVERY_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Where a stream's reference comes from when it comes from the stream itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamReference {
    /// Its first `events` items, captured (and not monitored).
    Capture { events: u64 },
    /// Its previous `windows` closed windows; the features are discovered from its first
    /// [`TRAILING_DISCOVERY_MESSAGES`] messages, which are monitored.
    Trailing { windows: std::num::NonZeroUsize },
}

/// A reference that comes from the stream (captured or trailing), and what the core needs.
#[derive(Debug, Clone)]
pub struct PendingReference {
    pub kind: StreamReference,
    /// Items to capture (capture) or messages to discover the features from (trailing).
    pub events: u64,
    /// The discovered features (file sources: known before reading; Kafka: from the reader).
    pub features: Option<Vec<DiscoveredFeature>>,
    pub settings: MonitorSettings,
    pub model_version: Option<String>,
    /// What the profile's metadata names as its source (`monitor m, stream inputs, file …`).
    pub source: String,
}

impl PendingReference {
    /// The core over a captured profile.
    pub fn core(&self, name: &str, profile: ReferenceProfile, spec: WindowSpec) -> Result<MonitorCore, MonitorError> {
        MonitorCore::new(name, Arc::new(profile), spec, self.settings.clone())
    }

    /// A trailing reference's core over the skeleton of `features` (names and kinds only).
    pub fn trailing_core(
        &self,
        name: &str,
        stream: Stream,
        features: &[DiscoveredFeature],
        spec: WindowSpec,
    ) -> Result<MonitorCore, MonitorError> {
        let windows = match self.kind {
            StreamReference::Trailing { windows } => windows.get(),
            StreamReference::Capture { .. } => 0,
        };
        let meta = crate::reference::ProfileMeta {
            format_version: crate::reference::PROFILE_FORMAT_VERSION,
            model_version: self.model_version.clone(),
            source_path: format!(
                "trailing: the previous {windows} windows of {} (features discovered from its first messages)",
                self.source
            ),
            source_sha256: String::new(),
            rows: 0,
            created_at: crate::reference::now_rfc3339(),
            binning: self.settings.compare.binning.to_string(),
        };
        let kinds = features
            .iter()
            .map(|f| (f.name.clone(), if f.categorical { FeatureType::Categorical } else { FeatureType::Numeric }))
            .collect();
        let profile = ReferenceProfile::skeleton(meta, BTreeMap::from([(stream, kinds)]));
        self.core(name, profile, spec)
    }
}

/// Prepares every stream of monitor `index`: resolves the reference (fit or load), builds the
/// settings, window spec, decoder and core of each stream, and opens its file source. Shared
/// by `driftd replay` and `driftd run`. `stored(stream)` gives a reference the stream captured
/// in an earlier run (`driftd run`'s store), used instead of capturing again.
pub fn prepare_monitor(
    index: usize,
    monitor: &MonitorConfig,
    stored: &dyn Fn(Stream) -> Option<ReferenceProfile>,
) -> Result<Vec<PreparedStream>, ReplayError> {
    let name = monitor.name.as_str();
    let unsupported = |message: String| ReplayError::Unsupported { monitor: name.to_string(), message };
    let fitted = match monitor.reference {
        ReferenceConfig::Profile { .. } | ReferenceConfig::Dataset { .. } => Some(resolve_reference(monitor)?),
        ReferenceConfig::Capture { .. } | ReferenceConfig::Trailing { .. } => None,
    };
    let trailing = match monitor.reference {
        ReferenceConfig::Trailing { windows } => std::num::NonZeroUsize::new(windows as usize),
        _ => None,
    };
    let spec = window_spec(&monitor.window).map_err(unsupported)?;
    let mut prepared = Vec::new();
    for (stream, config) in monitor.streams() {
        let spec_error = |source| ReplayError::Spec { monitor: name.to_string(), stream, source };
        let source_error = |source| ReplayError::Source { monitor: name.to_string(), stream, source };
        let profile = match &fitted {
            Some(profile) => {
                let features = stream_features(profile, stream, config)
                    .map_err(|m| unsupported(format!("stream {stream}: {m}")))?;
                let mut sub = ReferenceProfile { meta: profile.meta.clone(), streams: BTreeMap::new() };
                sub.streams.insert(stream, StreamProfile { features });
                Some(sub)
            }
            None => stored(stream),
        };
        if let Some(profile) = profile {
            let binning = profile.binning().map_err(|e| unsupported(format!("the reference's binning: {e}")))?;
            let features = profile.features(stream);
            let names: Vec<String> = features.iter().map(|f| f.name.clone()).collect();
            let categorical = features.iter().map(|f| matches!(f.kind, FeatureKind::Categorical(_))).collect();
            let decoder = Decoder::new(decode_spec(config), names)
                .and_then(|d| d.with_categorical(categorical))
                .map_err(spec_error)?;
            let core = MonitorCore::new(name, Arc::new(profile), spec, settings(monitor, binning, trailing))?;
            let source = match &config.source {
                SourceConfig::File(file) => PreparedSource::File {
                    path: file.path.clone(),
                    source: FileSource::open(&file.path, file.format, decoder, index, stream).map_err(source_error)?,
                },
                SourceConfig::Kafka(kafka) => PreparedSource::Kafka {
                    config: kafka.clone(),
                    decoding: KafkaDecoding::Ready(decoder),
                    dead_letter_topic: config.dead_letter_topic.clone(),
                },
            };
            prepared.push(PreparedStream { stream, core: Some(core), pending: None, spec, source });
            continue;
        }
        let (kind, events, idle) = match (monitor.reference.clone(), trailing) {
            (ReferenceConfig::Capture { events }, _) => (StreamReference::Capture { events }, events, None),
            (_, Some(windows)) => {
                (StreamReference::Trailing { windows }, TRAILING_DISCOVERY_MESSAGES, Some(TRAILING_DISCOVERY_IDLE))
            }
            _ => return Err(unsupported("a reference neither fitted, captured nor trailing".into())),
        };
        let binning = monitor.binning.clone().unwrap_or_default();
        let mut pending = PendingReference {
            kind,
            events,
            features: None,
            settings: settings(monitor, binning, trailing),
            model_version: monitor.model_version.clone(),
            source: String::new(),
        };
        let source = match &config.source {
            SourceConfig::File(file) => {
                let features =
                    discover_file(&file.path, file.format, &decode_spec(config), events).map_err(source_error)?;
                if features.is_empty() {
                    return Err(unsupported(format!(
                        "stream {stream}: no feature found in the first {events} messages of {} to build a \
                         reference from",
                        file.path.display()
                    )));
                }
                let decoder = Discovery::decoder(decode_spec(config), &features).map_err(spec_error)?;
                pending.features = Some(features);
                pending.source = format!("monitor {name}, stream {stream}, file {}", file.path.display());
                PreparedSource::File {
                    path: file.path.clone(),
                    source: FileSource::open(&file.path, file.format, decoder, index, stream).map_err(source_error)?,
                }
            }
            SourceConfig::Kafka(kafka) => {
                pending.source = format!("monitor {name}, stream {stream}, Kafka topic {}", kafka.topic);
                PreparedSource::Kafka {
                    config: kafka.clone(),
                    decoding: KafkaDecoding::Discover { spec: decode_spec(config), messages: events, idle },
                    dead_letter_topic: config.dead_letter_topic.clone(),
                }
            }
        };
        prepared.push(PreparedStream { stream, core: None, pending: Some(pending), spec, source });
    }
    Ok(prepared)
}

/// A monitor's settings, numeric edges frozen with `binning` (for a trailing reference: each
/// pool's edges).
fn settings(
    monitor: &MonitorConfig,
    binning: crate::stats::binning::Binning,
    trailing_windows: Option<std::num::NonZeroUsize>,
) -> MonitorSettings {
    MonitorSettings {
        statistics: monitor.statistics,
        compare: CompareSettings { binning, ..CompareSettings::default() },
        ks_sample_cap: monitor.ks_sample_cap,
        trailing_windows,
        ..MonitorSettings::default()
    }
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
    for PreparedStream { stream, mut core, mut pending, spec, source } in prepare_monitor(index, monitor, &|_| None)? {
        let PreparedSource::File { path, mut source } = source else {
            unreachable!("check_supported rejects Kafka sources for replay")
        };
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
    }
    Ok(summaries)
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

/// The profile's features of `stream`, restricted to the listed ones when the stream lists its
/// features (a dataset reference holds every column).
fn stream_features(
    profile: &ReferenceProfile,
    stream: Stream,
    config: &StreamConfig,
) -> Result<Vec<crate::reference::FeatureProfile>, String> {
    let all = profile.features(stream);
    let features = match &config.values {
        StreamValues::Features(FeatureSelection::List(list)) => list
            .iter()
            .map(|field| {
                all.iter()
                    .find(|f| f.name == field.name)
                    .cloned()
                    .ok_or_else(|| format!("feature {:?} is not in the reference", field.name))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => all.to_vec(),
    };
    if features.is_empty() {
        return Err(match stream {
            Stream::Inputs => "the reference has no input feature".into(),
            Stream::Predictions => {
                "the reference has no prediction (list the prediction columns in `reference.dataset.predictions`)"
                    .into()
            }
        });
    }
    Ok(features)
}
