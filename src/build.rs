//! The one build step: a validated configuration → monitors ready to run.
//!
//! For `driftd run` and `driftd replay` alike: resolves each monitor's reference (fit or load),
//! and builds per stream its window spec, decoder, [`MonitorCore`] and source
//! ([`prepare_monitor`]) — or, for a reference that comes from the stream itself (captured or
//! trailing), what building the core needs once the features are known ([`PendingReference`]).
//! Nothing here runs a stream.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{
    Config, EventTimeConfig, FeatureSelection, KafkaSourceConfig, MonitorConfig, ReferenceConfig, SourceConfig,
    StreamConfig, StreamValues, WindowConfig, WindowKind, WindowSize,
};
use crate::monitor::{MonitorCore, MonitorError, MonitorSettings};
use crate::record::Stream;
use crate::reference::{FeatureKind, FeatureType, FitOptions, ReferenceError, ReferenceProfile, StreamProfile};
use crate::source::discover::{discover_file, DiscoveredFeature, Discovery};
use crate::source::format::{TimeRender, Translator};
pub use crate::source::kafka::KafkaDecoding;
use crate::source::{
    DecodeSpec, Decoder, EventTimeSpec, FeatureSpec, FileSource, PredictionKind, SourceError, SpecError, TimeFormat,
};
use crate::stats::profile::CompareSettings;
use crate::window::WindowSpec;

/// Why a configuration could not be built into monitors. Each message is one line naming the
/// monitor.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
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
pub fn check_supported(config: &Config, runner: Runner) -> Result<(), BuildError> {
    let command = runner.name();
    for monitor in &config.monitors {
        let unsupported = |message: String| BuildError::Unsupported { monitor: monitor.name.clone(), message };
        for (stream, s) in monitor.streams() {
            if stream == Stream::Labels
                && matches!(monitor.reference, ReferenceConfig::Capture { .. } | ReferenceConfig::Trailing { .. })
            {
                return Err(unsupported(
                    "a labels stream needs a fitted reference (`dataset` or `profile`) in this version: a \
                     captured or trailing one is not joined to labels yet"
                        .into(),
                ));
            }
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

/// The reference of a monitor, fitted or loaded.
pub fn resolve_reference(monitor: &MonitorConfig) -> Result<ReferenceProfile, BuildError> {
    let wrap = |source| BuildError::Reference { monitor: monitor.name.clone(), source };
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
        ReferenceConfig::Capture { .. } | ReferenceConfig::Trailing { .. } => Err(BuildError::Unsupported {
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
        StreamValues::Label(l) => FeatureSpec::Pointers(vec![(LABEL_FEATURE.to_string(), l.pointer.clone())]),
    };
    DecodeSpec {
        event_time,
        features,
        max_message_bytes: stream.max_message_bytes,
        max_features: stream.max_features,
        key: stream.key.clone(),
    }
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

/// Messages whose features a trailing reference discovers before its first window (fewer
/// when the source ends or, for Kafka, goes quiet for [`TRAILING_DISCOVERY_IDLE`]). They are
/// monitored like every other message: only their keys and value types are looked at first.
pub const TRAILING_DISCOVERY_MESSAGES: u64 = 1000;

/// The one feature of a labels stream's records: the label.
pub const LABEL_FEATURE: &str = "label";

/// The join of a monitor's predictions and labels, when it has a `labels` stream: empty, over
/// the monitor's window spec. Its observations name the prediction after its pointer
/// (`/score` → `score`).
pub fn label_join(monitor: &MonitorConfig) -> Result<Option<crate::labels::LabelJoin>, BuildError> {
    let (Some(labels), Some(predictions)) = (&monitor.labels, &monitor.predictions) else { return Ok(None) };
    let (StreamValues::Label(label), StreamValues::Prediction(prediction)) = (&labels.values, &predictions.values)
    else {
        return Ok(None);
    };
    let spec = window_spec(&monitor.window)
        .map_err(|message| BuildError::Unsupported { monitor: monitor.name.clone(), message })?;
    let feature = prediction.pointer.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("prediction");
    Ok(Some(crate::labels::LabelJoin::new(&monitor.name, feature, spec, label.settings.clone())))
}
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
) -> Result<Vec<PreparedStream>, BuildError> {
    let name = monitor.name.as_str();
    let unsupported = |message: String| BuildError::Unsupported { monitor: name.to_string(), message };
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
        let spec_error = |source| BuildError::Spec { monitor: name.to_string(), stream, source };
        let source_error = |source| BuildError::Source { monitor: name.to_string(), stream, source };
        // The Avro / Protobuf reader of a Kafka stream (`None` for JSON).
        let translator = |stream: Stream, config: &StreamConfig, kafka: &KafkaSourceConfig| {
            let time = TimeRender::of(&decode_spec(config).event_time);
            Translator::new(&kafka.format, time, config.max_message_bytes)
                .map(|t| t.map(Arc::new))
                .map_err(|m| unsupported(format!("stream {stream}: {m}")))
        };
        // The stream's source, reading with `decoder`.
        let open_source = |decoder: Decoder| -> Result<PreparedSource, BuildError> {
            Ok(match &config.source {
                SourceConfig::File(file) => PreparedSource::File {
                    path: file.path.clone(),
                    source: FileSource::open(&file.path, file.format, decoder, index, stream).map_err(source_error)?,
                },
                SourceConfig::Kafka(kafka) => PreparedSource::Kafka {
                    config: kafka.clone(),
                    decoding: KafkaDecoding::Ready(decoder, translator(stream, config, kafka)?),
                    dead_letter_topic: config.dead_letter_topic.clone(),
                },
            })
        };
        if stream == Stream::Labels {
            // No reference and no drift windows: its records go to the monitor's label join.
            let decoder = Decoder::new(decode_spec(config), vec![LABEL_FEATURE.to_string()])
                .and_then(|d| d.with_categorical(vec![true]))
                .map_err(spec_error)?;
            let source = open_source(decoder)?;
            prepared.push(PreparedStream { stream, core: None, pending: None, spec, source });
            continue;
        }
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
            let mut core = MonitorCore::new(name, Arc::new(profile), spec, settings(monitor, binning, trailing))?;
            if stream == Stream::Predictions {
                // The labels stream is a side input of the predictions' core (`crate::labels`).
                if let Some(join) = label_join(monitor)? {
                    core = core.with_join(join);
                }
            }
            let source = open_source(decoder)?;
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
                    decoding: KafkaDecoding::Discover {
                        spec: decode_spec(config),
                        messages: events,
                        idle,
                        translator: translator(stream, config, kafka)?,
                    },
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
            Stream::Labels => "labels have no reference profile".into(),
            Stream::Predictions => {
                "the reference has no prediction (list the prediction columns in `reference.dataset.predictions`)"
                    .into()
            }
        });
    }
    Ok(features)
}
