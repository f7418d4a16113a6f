//! The pure core of a monitor: records in, [`Observation`]s out, one model at a time.
//!
//! A [`MonitorCore`] owns the windows of a monitor's streams ([`crate::window`]), types each
//! record's values against the [`ReferenceProfile`] (`monitor/accumulate.rs`), accumulates
//! them per window and feature in bounded memory, and turns each closed window into
//! observations (`monitor/evaluate.rs`; a trailing reference: `monitor/trailing.rs`). No
//! runtime, no I/O, no clock: the same records in the same order give the same observations,
//! whatever the batching, and a restored checkpoint continues exactly. More: [`MonitorCore`].

mod accumulate;
mod evaluate;
mod observation;
mod plan;
#[cfg(test)]
mod tests;
mod trailing;

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use accumulate::{
    infer_feature_type, CategoricalAccumulator, FeatureAccumulator, NumericAccumulator, WindowState, OVERFLOW_LABEL,
};
pub use observation::{
    drifted_features, observation_json, BinShare, FeatureStatus, KsSource, Observation, ObservationDetail,
    PerformanceDetail, ReferenceWindows, Stat,
};
pub use trailing::{quantile_points, PooledFeature, PooledWindow, TrailingPool};

use crate::labels::LabelJoin;
use crate::record::{Record, Stream};
use crate::reference::ReferenceProfile;
use crate::stats::profile::CompareSettings;
use crate::stats::statistic::Statistics;
use crate::window::{Placement, WindowSpec, WindowSpecError, Windows};
use accumulate::{FeaturePlan, Typed};
use plan::plan;

/// Default `ks_sample_cap`: 100,000 values, 800 kB per numeric feature and window.
pub const DEFAULT_KS_SAMPLE_CAP: usize = 100_000;
/// Default `max_new_categories` per categorical feature and window.
pub const DEFAULT_MAX_NEW_CATEGORIES: usize = 1_000;
/// Version of [`MonitorState`]; bumped on any incompatible change (2: KLL sketch past the
/// sample cap; 3: the trailing-reference pool in [`StreamState`]; 4: per-partition clocks in
/// the windows). Version 3 is migrated on restore: it had one clock per stream, and its
/// watermark is kept while the partitions' clocks start anew with their next records.
pub const STATE_VERSION: u32 = 4;
/// The oldest [`MonitorState`] version [`MonitorCore::restore`] migrates.
const OLDEST_RESTORABLE_VERSION: u32 = 3;

/// What a monitor computes.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSettings {
    /// Statistics to observe (chi-square: categorical features; KS, Wasserstein: numeric).
    pub statistics: Statistics,
    /// Binning and epsilon. The binning must be the one the profile's edges were frozen with
    /// (trailing references: the binning each pool is fit with).
    pub compare: CompareSettings,
    /// Values kept per numeric feature and window for exact KS and Wasserstein; past it they
    /// come from a KLL sketch (`k` = [`crate::stats::kll::DEFAULT_K`]).
    pub ks_sample_cap: usize,
    /// Labels unseen in the reference kept per categorical feature and window.
    pub max_new_categories: usize,
    /// `Some(N)`: a trailing reference — each closed window is compared with the pooled
    /// previous N closed windows of its stream, and the profile given to [`MonitorCore::new`]
    /// only names the features and their kinds (its data, if any, is ignored; see
    /// [`ReferenceProfile::skeleton`]). Semantics, warm-up and memory: `monitor/trailing.rs`.
    /// `None`: the profile is the fixed reference.
    pub trailing_windows: Option<NonZeroUsize>,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            statistics: Statistics::DEFAULT,
            compare: CompareSettings::default(),
            ks_sample_cap: DEFAULT_KS_SAMPLE_CAP,
            max_new_categories: DEFAULT_MAX_NEW_CATEGORIES,
            trailing_windows: None,
        }
    }
}

/// Why a monitor could not be built or restored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MonitorError {
    #[error("monitor {monitor}: {source}")]
    Window { monitor: String, source: WindowSpecError },
    #[error("monitor {monitor}: epsilon must be a positive finite number, got {epsilon}")]
    Epsilon { monitor: String, epsilon: f64 },
    #[error("monitor {monitor}: the reference profile has no feature")]
    EmptyProfile { monitor: String },
    #[error("monitor {monitor}: feature {stream}.{feature}: binning {binning} {problem}")]
    Binning { monitor: String, stream: Stream, feature: String, binning: String, problem: &'static str },
    #[error("monitor {monitor}: feature {stream}.{feature}: categories not strictly ascending by bytes")]
    Categories { monitor: String, stream: Stream, feature: String },
    #[error("monitor {monitor}: the checkpoint does not fit this monitor: {problem}")]
    Checkpoint { monitor: String, problem: String },
}

/// Why a record was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidRecord {
    /// The profile has no such stream for this monitor.
    UnknownStream,
    /// `values` does not have one value per feature of the stream.
    WrongArity { expected: usize, got: usize },
    /// |event time| beyond [`crate::window::MAX_EVENT_TIME_MS`].
    EventTimeOutOfRange,
}

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Added to `windows` windows (`missed`: sliding windows of its time already closed);
    /// `type_mismatches` of its values were of the wrong type and excluded.
    Accepted {
        windows: u32,
        missed: u32,
        type_mismatches: u32,
    },
    /// All its windows had closed: counted, not added.
    Late,
    Invalid(InvalidRecord),
}

/// Running counts of one stream (exported as metrics by the async layer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCounters {
    pub accepted: u64,
    pub late: u64,
    pub wrong_arity: u64,
    pub event_time_out_of_range: u64,
    /// Per feature (stream order): values of the wrong type.
    pub type_mismatch: Vec<u64>,
    pub windows_closed: u64,
}

/// One stream's checkpointable state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamState {
    pub windows: Windows<WindowState>,
    pub counters: StreamCounters,
    /// Trailing references: the stream's last closed windows (`None` with a fixed reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing: Option<TrailingPool>,
}

/// Everything a monitor needs to resume: serialise it into a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorState {
    pub version: u32,
    pub monitor: String,
    pub streams: BTreeMap<Stream, StreamState>,
    /// Records of a stream the profile does not have.
    pub unknown_stream: u64,
    /// The predictions' join with their labels (a predictions core with a labels stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join: Option<crate::labels::JoinState>,
}

/// The pure core of one monitor: records in, [`Observation`]s out.
///
/// Driven by the daemon's monitor task (`pipeline/monitor_task.rs`) and by `driftd replay`: they
/// feed it records, call [`MonitorCore::on_watermark`] after a batch and
/// [`MonitorCore::advance_idle`] once a stream's partitions are all idle, and checkpoint
/// [`MonitorCore::checkpoint`]; a checkpoint restored with [`MonitorCore::restore`] continues
/// exactly where it stopped.
///
/// Inputs: [`Record`]s whose `values` follow the stream's feature order in the profile.
/// Outputs: a [`RecordOutcome`] per record (accepted, late, or invalid: all counted in
/// [`StreamCounters`]), and per closed window one [`Observation`] per (stream, feature,
/// selected statistic), feature order then [`Stat`] order. Typing rules and accumulator
/// bounds: `monitor/accumulate.rs`. How the statistics are computed and why PSI equals
/// `driftd compare`'s bit for bit: `monitor/evaluate.rs`.
///
/// Reference: fixed (the profile given to [`MonitorCore::new`]), or trailing
/// ([`MonitorSettings::trailing_windows`] = N): the profile only names the features and their
/// kinds ([`ReferenceProfile::skeleton`]) and each closed window is compared with its
/// stream's previous N closed windows, pooled and fit as a file column would be; the first
/// window of a stream only warms up (no observation). Semantics, the sample cap and the pool's
/// memory (`N ×` a window's retained values per feature, kept in [`MonitorState`]):
/// `monitor/trailing.rs`.
///
/// Memory per open window and feature: numeric `8·(bins + min(n, ks_sample_cap))` bytes plus a
/// few counters while `n ≤ ks_sample_cap`, and past the cap `8·bins` plus a KLL sketch of at
/// most `3k + 8·log2(n/k)` items (`k` = 200: 588 items at n = 10^5, 616 at 10^6, 643 at 10^7),
/// so memory stays flat however large the window grows; categorical `8·(reference categories)`
/// plus at most `max_new_categories` labels. Open windows per stream: see [`Windows`]. A
/// trailing reference adds its pool (see above); its open windows keep no bins (values only,
/// as under `evidently`).
#[derive(Debug)]
pub struct MonitorCore {
    name: String,
    profile: Arc<ReferenceProfile>,
    settings: MonitorSettings,
    plans: BTreeMap<Stream, Vec<FeaturePlan>>,
    state: MonitorState,
    /// The join of the predictions with their labels (`crate::labels`), whose state is saved
    /// with this core's: the labels stream is a side input of the predictions stream's core.
    join: Option<LabelJoin>,
}

impl MonitorCore {
    /// A monitor with empty windows, after checking the spec, the settings and the profile.
    pub fn new(
        name: impl Into<String>,
        profile: Arc<ReferenceProfile>,
        spec: WindowSpec,
        settings: MonitorSettings,
    ) -> Result<Self, MonitorError> {
        let name = name.into();
        spec.validate().map_err(|source| MonitorError::Window { monitor: name.clone(), source })?;
        let plans = plan(&name, &profile, &settings)?;
        let streams = profile
            .streams
            .iter()
            .map(|(&stream, p)| {
                let counters = StreamCounters { type_mismatch: vec![0; p.features.len()], ..Default::default() };
                let trailing = settings.trailing_windows.map(|n| TrailingPool::new(n.get()));
                (stream, StreamState { windows: Windows::new(spec), counters, trailing })
            })
            .collect();
        let state =
            MonitorState { version: STATE_VERSION, monitor: name.clone(), streams, unknown_stream: 0, join: None };
        Ok(MonitorCore { name, profile, settings, plans, state, join: None })
    }

    /// The core of a predictions stream with its labels joined: prediction records also go to
    /// `join`, label records come through [`Self::on_label`], and its versions come out of
    /// [`Self::on_watermark`] and [`Self::flush_labels`] after the windows'.
    pub fn with_join(mut self, join: LabelJoin) -> Self {
        self.join = Some(join);
        self
    }

    /// The join, if the core has one.
    pub fn join(&self) -> Option<&LabelJoin> {
        self.join.as_ref()
    }

    /// A monitor resumed from a checkpoint taken by [`Self::checkpoint`] with the same spec,
    /// profile and settings; anything that does not fit is an error, never a panic.
    pub fn restore(
        name: impl Into<String>,
        profile: Arc<ReferenceProfile>,
        spec: WindowSpec,
        settings: MonitorSettings,
        state: MonitorState,
    ) -> Result<Self, MonitorError> {
        MonitorCore::new(name, profile, spec, settings)?.resume(spec, state)
    }

    /// This core (with its join, if any) resumed from a checkpoint taken by [`Self::checkpoint`]
    /// with the same spec, profile and settings; anything that does not fit is an error.
    pub fn resume(self, spec: WindowSpec, state: MonitorState) -> Result<Self, MonitorError> {
        let MonitorCore { name, profile, settings, join, .. } = self;
        let mut core = MonitorCore::new(name, profile, spec, settings)?;
        core.join = join;
        let problem = |problem: String| MonitorError::Checkpoint { monitor: core.name.clone(), problem };
        if !(OLDEST_RESTORABLE_VERSION..=STATE_VERSION).contains(&state.version) {
            return Err(problem(format!(
                "state version {} (expected {OLDEST_RESTORABLE_VERSION} to {STATE_VERSION})",
                state.version
            )));
        }
        if !state.streams.keys().eq(core.state.streams.keys()) {
            return Err(problem("its streams differ from the reference profile's".to_string()));
        }
        for (stream, saved) in &state.streams {
            let plans = &core.plans[stream];
            if *saved.windows.spec() != spec {
                return Err(problem(format!("{stream}: it was taken with another window spec")));
            }
            saved.windows.check().map_err(|e| problem(format!("{stream}: {e}")))?;
            let fits = saved.windows.open().all(|w| {
                w.state.features.len() == plans.len()
                    && w.state.features.iter().zip(plans).all(|(a, p)| a.fits(p, core.settings.ks_sample_cap))
            });
            if !fits || saved.counters.type_mismatch.len() != plans.len() {
                return Err(problem(format!("{stream}: its features differ from the reference profile's")));
            }
            match (&saved.trailing, core.settings.trailing_windows) {
                (None, None) => {}
                (Some(pool), Some(n)) => pool
                    .check(n.get(), plans, core.settings.ks_sample_cap)
                    .map_err(|e| problem(format!("{stream}: {e}")))?,
                (None, Some(_)) => return Err(problem(format!("{stream}: it was taken with a fixed reference"))),
                (Some(_), None) => return Err(problem(format!("{stream}: it was taken with a trailing reference"))),
            }
        }
        let mut state = state;
        match (core.join.take(), state.join.take()) {
            (Some(join), Some(saved)) => {
                core.join = Some(join.resume(saved).map_err(|e| problem(format!("labels: {e}")))?);
            }
            // The predictions it took never reached a join: their performance cannot be made up.
            (Some(_), None) => return Err(problem("it was taken without a labels stream".into())),
            (None, Some(_)) => return Err(problem("it was taken with a labels stream".into())),
            (None, None) => {}
        }
        core.state = state;
        core.state.version = STATE_VERSION;
        core.state.monitor = core.name.clone();
        for stream in core.state.streams.values_mut() {
            // Idleness is earned anew in each run (caught up and silent), never restored.
            stream.windows.wake_partitions();
        }
        Ok(core)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The reference profile the core compares against.
    pub fn profile(&self) -> &Arc<ReferenceProfile> {
        &self.profile
    }

    pub fn settings(&self) -> &MonitorSettings {
        &self.settings
    }

    /// The serialisable state (windows, accumulators, counters, the join's).
    pub fn checkpoint(&self) -> MonitorState {
        let mut state = self.state.clone();
        state.join = self.join.as_ref().map(LabelJoin::checkpoint);
        state
    }

    pub fn counters(&self, stream: Stream) -> Option<&StreamCounters> {
        self.state.streams.get(&stream).map(|s| &s.counters)
    }

    /// Records of streams the profile does not have.
    pub fn unknown_stream_records(&self) -> u64 {
        self.state.unknown_stream
    }

    pub fn watermark_ms(&self, stream: Stream) -> Option<i64> {
        self.state.streams.get(&stream).and_then(|s| s.windows.watermark_ms())
    }

    /// A stream's windows (watermark, partition clocks, open windows), for the status.
    pub fn windows(&self, stream: Stream) -> Option<&Windows<WindowState>> {
        self.state.streams.get(&stream).map(|s| &s.windows)
    }

    /// The partitions `stream` is consumed from now (see [`Windows::assign_partitions`]); the
    /// labels stream's are its join's.
    pub fn assign_partitions(&mut self, stream: Stream, partitions: impl IntoIterator<Item = i32>) {
        let partitions: Vec<i32> = partitions.into_iter().collect();
        if let Some(join) = self.join.as_mut().filter(|_| stream != Stream::Inputs) {
            join.assign_partitions(stream == Stream::Labels, partitions.iter().copied());
        }
        if let Some(s) = self.state.streams.get_mut(&stream) {
            s.windows.assign_partitions(partitions);
        }
    }

    /// Marks a partition of `stream` idle or active (see [`Windows::set_partition_idle`]).
    pub fn set_partition_idle(&mut self, stream: Stream, partition: i32, idle: bool) {
        if let Some(join) = self.join.as_mut().filter(|_| stream != Stream::Inputs) {
            join.set_partition_idle(stream == Stream::Labels, partition, idle);
        }
        if let Some(s) = self.state.streams.get_mut(&stream) {
            s.windows.set_partition_idle(partition, idle);
        }
    }

    /// The clocks of `stream`'s partitions and its allowed lateness (the labels stream's are
    /// its join's), for the status.
    pub fn partition_clocks(&self, stream: Stream) -> Option<(&crate::window::PartitionClocks, i64)> {
        let windows = match (stream, &self.join) {
            (Stream::Labels, Some(join)) => return Some(join.labels_clocks()),
            _ => self.state.streams.get(&stream).map(|s| &s.windows)?,
        };
        Some((windows.partitions(), windows.spec().allowed_lateness_ms as i64))
    }

    pub fn open_windows(&self, stream: Stream) -> usize {
        self.state.streams.get(&stream).map_or(0, |s| s.windows.open().count())
    }

    /// Trailing references: the closed windows the stream's next closing window will be
    /// compared with (0 during warm-up, then up to N). `None` with a fixed reference or an
    /// unknown stream.
    pub fn trailing_windows(&self, stream: Stream) -> Option<usize> {
        self.state.streams.get(&stream).and_then(|s| s.trailing.as_ref()).map(TrailingPool::len)
    }

    /// Whether [`Self::on_watermark`] would close a window (or publish a version of a window's
    /// performance) now.
    pub fn has_closed_windows(&self) -> bool {
        self.state.streams.values().any(|s| s.windows.has_closed())
            || self.join.as_ref().is_some_and(LabelJoin::has_due)
    }

    /// A label for the join (dropped without a join).
    pub fn on_label(&mut self, record: &Record) {
        if let Some(join) = self.join.as_mut() {
            join.on_label(record);
        }
    }

    /// End of the labels' finite source: every window's performance is final.
    pub fn flush_labels(&mut self) -> Vec<Observation> {
        self.join.as_mut().map(LabelJoin::flush_labels).unwrap_or_default()
    }

    /// Types a record and adds it to its windows. Never fails: problems are outcomes, counted.
    pub fn on_record(&mut self, record: &Record) -> RecordOutcome {
        if let Some(join) = self.join.as_mut().filter(|_| record.stream == Stream::Predictions) {
            join.on_prediction(record);
        }
        let (Some(stream), Some(plans)) = (self.state.streams.get_mut(&record.stream), self.plans.get(&record.stream))
        else {
            self.state.unknown_stream += 1;
            return RecordOutcome::Invalid(InvalidRecord::UnknownStream);
        };
        if record.values.len() != plans.len() {
            stream.counters.wrong_arity += 1;
            return RecordOutcome::Invalid(InvalidRecord::WrongArity {
                expected: plans.len(),
                got: record.values.len(),
            });
        }
        let typed: Vec<Typed<'_>> = plans.iter().zip(&record.values).map(|(p, v)| p.type_value(v)).collect();
        let (cap, max_new) = (self.settings.ks_sample_cap, self.settings.max_new_categories);
        let placement = stream.windows.insert(
            record.event_time_ms,
            &record.position,
            || WindowState { features: plans.iter().map(FeatureAccumulator::new).collect() },
            |window| {
                for ((accumulator, value), plan) in window.features.iter_mut().zip(&typed).zip(plans) {
                    accumulator.add(plan, value, cap, max_new);
                }
            },
        );
        match placement {
            Placement::Accepted { windows, missed } => {
                stream.counters.accepted += 1;
                let mut type_mismatches = 0;
                for (count, value) in stream.counters.type_mismatch.iter_mut().zip(&typed) {
                    if *value == Typed::Mismatch {
                        *count += 1;
                        type_mismatches += 1;
                    }
                }
                RecordOutcome::Accepted { windows, missed, type_mismatches }
            }
            Placement::Late => {
                stream.counters.late += 1;
                RecordOutcome::Late
            }
            Placement::OutOfRange => {
                stream.counters.event_time_out_of_range += 1;
                RecordOutcome::Invalid(InvalidRecord::EventTimeOutOfRange)
            }
        }
    }

    /// Closes every window the watermark has passed (count windows: every full one) and
    /// returns their observations: streams in order, windows oldest first.
    pub fn on_watermark(&mut self) -> Vec<Observation> {
        let mut out = self.close(|windows| windows.take_closed());
        if let Some(join) = self.join.as_mut() {
            out.extend(join.advance());
        }
        out
    }

    /// Processing-time advance of `stream` once every partition of it is idle: its watermark
    /// becomes at least its newest event time + `elapsed_ms` (processing time since that
    /// record arrived) − allowed lateness (see [`Windows::advance_idle`]); then as
    /// [`Self::on_watermark`].
    pub fn advance_idle(&mut self, stream: Stream, elapsed_ms: u64) -> Vec<Observation> {
        if let Some(s) = self.state.streams.get_mut(&stream) {
            s.windows.advance_idle(elapsed_ms);
        }
        if let Some(join) = self.join.as_mut().filter(|_| stream != Stream::Inputs) {
            join.advance_idle(stream == Stream::Labels, elapsed_ms);
        }
        self.on_watermark()
    }

    /// End of a finite source: closes every open window, full or not (and the join's
    /// prediction windows: their labels may still come).
    pub fn flush(&mut self) -> Vec<Observation> {
        let mut out = self.close(|windows| windows.flush());
        if let Some(join) = self.join.as_mut() {
            out.extend(join.flush_predictions());
        }
        out
    }

    fn close(
        &mut self,
        mut take: impl FnMut(&mut Windows<WindowState>) -> Vec<crate::window::Window<WindowState>>,
    ) -> Vec<Observation> {
        let mut out = Vec::new();
        for (stream, state) in &mut self.state.streams {
            let (Some(profile), Some(plans)) = (self.profile.streams.get(stream), self.plans.get(stream)) else {
                continue;
            };
            for window in take(&mut state.windows) {
                state.counters.windows_closed += 1;
                match &mut state.trailing {
                    Some(pool) => trailing::close_window(
                        &self.name,
                        *stream,
                        &profile.features,
                        &self.settings,
                        pool,
                        window,
                        &mut out,
                    ),
                    None => evaluate::observe_window(
                        &self.name,
                        *stream,
                        &profile.features,
                        plans,
                        &self.settings,
                        window,
                        &mut out,
                    ),
                }
            }
        }
        out
    }
}
