//! Delayed labels joined to predictions: a model's performance per window of its predictions.
//!
//! A [`LabelJoin`] takes a monitor's keyed predictions and its labels (the `labels` stream),
//! joins them by key in a bounded buffer, attributes each pair to the **prediction's** event-time
//! windows, and publishes each window's performance (`stats::performance`: scikit-learn's
//! metrics) in versions as labels complete it, the last one final. Pure like
//! [`crate::monitor::MonitorCore`]: no runtime, no clock; state serialisable ([`JoinState`]).
//! Semantics: on [`LabelJoin`]; the window state and metrics: `window.rs`; the buffer: `pending.rs`.

mod pending;
#[cfg(test)]
mod tests;
mod window;

use serde::{Deserialize, Serialize};

use crate::monitor::Observation;
use crate::record::{Record, Value};
use crate::window::{Placement, WindowSpec, Windows};
pub use pending::Pending;
pub use window::{Pair, PerformanceWindow, Version};

/// Default `retention`: a label may come up to 7 days (event time) after its prediction.
pub const DEFAULT_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
/// Default `max_pending`: predictions, labels and joined keys held for the join.
pub const DEFAULT_MAX_PENDING: usize = 1_000_000;
/// Default `max_pairs_per_window`.
pub const DEFAULT_MAX_PAIRS_PER_WINDOW: usize = 100_000;
/// Version of [`JoinState`].
pub const JOIN_STATE_VERSION: u32 = 1;

/// What the model does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Task {
    /// A binary classifier: labels 0/1 (`true`/`false`); a score ≥ `threshold` predicts 1.
    Classification { threshold: f64 },
    /// A regressor: labels and predictions are numbers.
    Regression,
}

/// What a classifier's prediction is (the predictions stream's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PredictionUse {
    /// Scores: every metric (ROC AUC, log loss… need scores in [0, 1] for the probability ones).
    Scores,
    /// 0/1 labels: the label metrics only.
    Labels,
}

/// Which version of a window the rules evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RulesAt {
    Final,
    /// The first version with at least this labelled share (or the final one).
    Share(f64),
}

/// How the join and its publication work (`streams.labels` of a monitor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinSettings {
    pub task: Task,
    pub prediction: PredictionUse,
    /// A label joins a prediction at `t` if its event time is in
    /// `[t − allowed lateness, t + retention]`.
    pub retention_ms: i64,
    /// Most predictions, labels and joined keys held at once.
    pub max_pending: usize,
    pub max_pairs_per_window: usize,
    /// Labelled shares publishing a version before the final one, ascending, in (0, 1].
    pub publish_at: Vec<f64>,
    pub rules_at: RulesAt,
}

impl Default for JoinSettings {
    fn default() -> Self {
        JoinSettings {
            task: Task::Classification { threshold: crate::stats::performance::DEFAULT_THRESHOLD },
            prediction: PredictionUse::Scores,
            retention_ms: DEFAULT_RETENTION_MS,
            max_pending: DEFAULT_MAX_PENDING,
            max_pairs_per_window: DEFAULT_MAX_PAIRS_PER_WINDOW,
            publish_at: Vec::new(),
            rules_at: RulesAt::Final,
        }
    }
}

/// What happened to every prediction and label (exported as metrics). Each keyed, usable
/// prediction ends in exactly one of `late_predictions`, `duplicate_predictions`, `joined`,
/// `unlabelled`, `evicted_predictions` or is still pending; each usable label in one of
/// `duplicate_labels`, `joined`, `labels_after_retention`, `labels_before_prediction`,
/// `unmatched_labels`, `evicted_labels`, or is still pending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinCounters {
    /// Predictions with a key and a usable value.
    pub predictions: u64,
    pub predictions_without_key: u64,
    /// A missing or unusable prediction value (not a number; a classifier's label not 0/1).
    pub predictions_unusable: u64,
    /// Behind the predictions' watermark (late for the drift windows too): not joined.
    pub late_predictions: u64,
    /// A key already seen among the predictions (the first wins).
    pub duplicate_predictions: u64,
    /// Labels with a key and a usable value.
    pub labels: u64,
    pub labels_without_key: u64,
    /// A label with no value (null or absent): counted, excluded.
    pub labels_missing: u64,
    /// A label value that does not fit the task (a classifier's label not 0/1, text …).
    pub labels_invalid: u64,
    /// A key already joined, or already waiting as a label (the first wins).
    pub duplicate_labels: u64,
    pub joined: u64,
    /// A label later than its prediction + retention.
    pub labels_after_retention: u64,
    /// A label earlier than its prediction − allowed lateness.
    pub labels_before_prediction: u64,
    /// Predictions whose retention passed without a label.
    pub unlabelled: u64,
    /// Labels whose prediction can no longer arrive (unknown keys).
    pub unmatched_labels: u64,
    /// Pending entries given up at `max_pending`, oldest first.
    pub evicted_predictions: u64,
    pub evicted_labels: u64,
    /// Joined keys forgotten at `max_pending` (a later duplicate of one is then unmatched).
    pub forgotten_keys: u64,
    /// Sum and maximum of label event time − prediction event time over the joined pairs.
    pub join_lag_ms_sum: i64,
    pub join_lag_ms_max: i64,
}

/// Everything a [`LabelJoin`] needs to resume: saved with the monitor's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinState {
    pub version: u32,
    /// The predictions' clock and their open windows (same spec and placement as the drift
    /// windows of the predictions stream, so the same predictions are late).
    pub windows: Windows<PerformanceWindow>,
    /// Windows closed for predictions, waiting for labels, by start.
    pub closed: Vec<ClosedWindow>,
    /// The labels' clock (its windows hold nothing and are dropped as they close).
    pub labels_clock: Windows<()>,
    /// Predictions waiting for their label: value.
    pub predictions: Pending<f64>,
    /// Labels waiting for their prediction: value.
    pub labels: Pending<f64>,
    /// Keys joined, by the prediction's event time (duplicates are recognised until its
    /// retention passes).
    pub joined_keys: Pending<()>,
    pub counters: JoinCounters,
}

/// A window closed for predictions, still taking labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedWindow {
    pub bounds: crate::window::WindowBounds,
    pub state: PerformanceWindow,
}

/// The join of one monitor's predictions and labels.
///
/// Inputs: prediction records ([`Self::on_prediction`]; the value is the prediction stream's
/// one feature, the key [`Record::key`]) and label records ([`Self::on_label`]; one value,
/// the label), in any interleaving; then [`Self::advance`] after a batch (or
/// [`Self::flush_predictions`] / [`Self::flush_labels`] at the end of a finite source).
/// Output: per window of the predictions, versions of its performance as observations on
/// stream `labels` (one per metric, then `labelled_share`; see `window.rs`).
///
/// Semantics, chosen so that the result depends on event times only, not on how the two
/// streams interleave:
/// - A label at `l` joins the prediction at `t` with its key when
///   `t − lateness ≤ l ≤ t + retention` (lateness: the window's allowed lateness, the
///   tolerance for producers' clocks). The pair counts in every window of the prediction.
/// - A prediction waits until the labels' watermark passes `t + retention`, then is
///   `unlabelled`; a label waits for its prediction until every prediction it could join would be
///   late (the predictions' watermark reached the end of the last window of `l + lateness`),
///   then is `unmatched`.
/// - A window closes for predictions as the drift windows do; it is final once the labels'
///   watermark passes `end − 1 + retention` (no label can join it any more). Versions are
///   published when a `publish_at` share is reached and when final; the rules evaluate one
///   version per window (`rules_at`).
/// - Duplicates: a second prediction with a key, or a label for a key already joined or
///   already waiting, is counted and ignored (the first wins).
///
/// Bounds: at most `max_pending` predictions, labels and joined keys (the oldest joined key is
/// forgotten first, then the oldest waiting entry is evicted, counted), at most
/// `max_pairs_per_window` pairs per window (24 bytes each), and the windows of `retention`
/// of event time.
#[derive(Debug)]
pub struct LabelJoin {
    monitor: String,
    /// The prediction's feature name (the observations' `feature`).
    feature: String,
    settings: JoinSettings,
    lateness_ms: i64,
    state: JoinState,
}

impl LabelJoin {
    /// An empty join for time windows of `spec` (count windows have no event time to join by).
    pub fn new(
        monitor: impl Into<String>,
        feature: impl Into<String>,
        spec: WindowSpec,
        settings: JoinSettings,
    ) -> Self {
        let state = JoinState {
            version: JOIN_STATE_VERSION,
            windows: Windows::new(spec),
            closed: Vec::new(),
            labels_clock: Windows::new(spec),
            predictions: Pending::default(),
            labels: Pending::default(),
            joined_keys: Pending::default(),
            counters: JoinCounters::default(),
        };
        LabelJoin {
            monitor: monitor.into(),
            feature: feature.into(),
            settings,
            lateness_ms: spec.allowed_lateness_ms as i64,
            state,
        }
    }

    /// A join resumed from [`Self::checkpoint`] (taken with the same spec).
    pub fn restore(
        monitor: impl Into<String>,
        feature: impl Into<String>,
        spec: WindowSpec,
        settings: JoinSettings,
        state: JoinState,
    ) -> Result<Self, String> {
        let mut join = LabelJoin::new(monitor, feature, spec, settings);
        if state.version != JOIN_STATE_VERSION {
            return Err(format!("join state version {} (expected {JOIN_STATE_VERSION})", state.version));
        }
        if *state.windows.spec() != spec || *state.labels_clock.spec() != spec {
            return Err("the join state was taken with another window spec".into());
        }
        state.windows.check().map_err(str::to_string)?;
        join.state = state;
        join.state.windows.wake_partitions();
        join.state.labels_clock.wake_partitions();
        Ok(join)
    }

    pub fn checkpoint(&self) -> JoinState {
        self.state.clone()
    }

    pub fn counters(&self) -> &JoinCounters {
        &self.state.counters
    }

    pub fn settings(&self) -> &JoinSettings {
        &self.settings
    }

    /// Predictions, labels and joined keys held now.
    pub fn pending(&self) -> (usize, usize, usize) {
        (self.state.predictions.len(), self.state.labels.len(), self.state.joined_keys.len())
    }

    /// Windows closed for predictions and still waiting for labels.
    pub fn waiting_windows(&self) -> usize {
        self.state.closed.len()
    }

    /// The predictions' and the labels' watermarks.
    pub fn watermarks(&self) -> (Option<i64>, Option<i64>) {
        (self.state.windows.watermark_ms(), self.state.labels_clock.watermark_ms())
    }

    /// Partitions of the predictions (`labels: false`) or labels stream consumed now (see
    /// [`Windows::assign_partitions`]).
    pub fn assign_partitions(&mut self, labels: bool, partitions: impl IntoIterator<Item = i32>) {
        if labels {
            self.state.labels_clock.assign_partitions(partitions);
        } else {
            self.state.windows.assign_partitions(partitions);
        }
    }

    /// See [`Windows::set_partition_idle`].
    pub fn set_partition_idle(&mut self, labels: bool, partition: i32, idle: bool) {
        if labels {
            self.state.labels_clock.set_partition_idle(partition, idle);
        } else {
            self.state.windows.set_partition_idle(partition, idle);
        }
    }

    /// The processing-time advance of a quiet stream's clock (see [`Windows::advance_idle`]);
    /// [`Self::advance`] then publishes what it made due.
    pub fn advance_idle(&mut self, labels: bool, elapsed_ms: u64) {
        if labels {
            self.state.labels_clock.advance_idle(elapsed_ms);
        } else {
            self.state.windows.advance_idle(elapsed_ms);
        }
    }

    /// The labels stream's partition clocks and allowed lateness (status).
    pub fn labels_clocks(&self) -> (&crate::window::PartitionClocks, i64) {
        (self.state.labels_clock.partitions(), self.lateness_ms)
    }

    /// Whether [`Self::advance`] would publish something now (a window closing for
    /// predictions, a share reached, a window final).
    pub fn has_due(&self) -> bool {
        let labels_wm = self.state.labels_clock.watermark_ms();
        self.state.windows.has_closed()
            || self.state.closed.iter().any(|c| {
                self.is_final(&c.bounds, labels_wm) || c.state.shares_reached(&self.settings) > c.state.shares_passed
            })
    }

    fn is_final(&self, bounds: &crate::window::WindowBounds, labels_wm: Option<i64>) -> bool {
        labels_wm.is_some_and(|w| (bounds.end_ms - 1).saturating_add(self.settings.retention_ms) < w)
    }

    /// This join with the state of a checkpoint taken by [`Self::checkpoint`] (same monitor,
    /// spec and settings).
    pub fn resume(self, state: JoinState) -> Result<Self, String> {
        let spec = *self.state.windows.spec();
        LabelJoin::restore(self.monitor, self.feature, spec, self.settings, state)
    }

    /// Takes a prediction record (its one value is the prediction).
    pub fn on_prediction(&mut self, record: &Record) {
        let Some(key) = record.key.as_deref() else {
            self.state.counters.predictions_without_key += 1;
            return;
        };
        let value = record.values.first().and_then(|v| self.usable(v));
        let Some(value) = value else {
            self.state.counters.predictions_unusable += 1;
            return;
        };
        if self.state.predictions.contains(key) || self.state.joined_keys.contains(key) {
            self.state.counters.duplicate_predictions += 1;
            self.state.counters.predictions += 1;
            return;
        }
        let t = record.event_time_ms;
        let placement =
            self.state.windows.insert(t, &record.position, PerformanceWindow::default, |w| w.predictions += 1);
        match placement {
            Placement::Accepted { windows: 0, .. } | Placement::Late => {
                self.state.counters.predictions += 1;
                self.state.counters.late_predictions += 1;
                return;
            }
            Placement::OutOfRange => {
                self.state.counters.predictions_unusable += 1;
                return;
            }
            Placement::Accepted { .. } => self.state.counters.predictions += 1,
        }
        if let Some((l, label)) = self.state.labels.remove(key) {
            match self.fits(t, l) {
                Fit::Joins => return self.join(key, t, value, l, label),
                // The waiting label cannot be this prediction's; the prediction waits for another.
                Fit::After => self.state.counters.labels_after_retention += 1,
                Fit::Before => self.state.counters.labels_before_prediction += 1,
            }
        }
        self.hold_prediction(key, t, value);
    }

    /// Takes a label record (its one value is the label).
    pub fn on_label(&mut self, record: &Record) {
        let l = record.event_time_ms;
        // The labels' clock moves with every label that has a time, usable or not.
        let _ = self.state.labels_clock.insert(l, &record.position, || (), |_| ());
        drop(self.state.labels_clock.take_closed());
        let Some(key) = record.key.as_deref() else {
            self.state.counters.labels_without_key += 1;
            return;
        };
        let label = match record.values.first() {
            None | Some(Value::Missing) => {
                self.state.counters.labels_missing += 1;
                return;
            }
            Some(v) => match self.usable(v) {
                Some(label) => label,
                None => {
                    self.state.counters.labels_invalid += 1;
                    return;
                }
            },
        };
        self.state.counters.labels += 1;
        if self.state.joined_keys.contains(key) || self.state.labels.contains(key) {
            self.state.counters.duplicate_labels += 1;
            return;
        }
        if let Some(&(t, value)) = self.state.predictions.get(key) {
            match self.fits(t, l) {
                Fit::Joins => {
                    self.state.predictions.remove(key);
                    self.join(key, t, value, l, label);
                }
                Fit::After => self.state.counters.labels_after_retention += 1,
                Fit::Before => self.state.counters.labels_before_prediction += 1,
            }
            return;
        }
        self.make_room();
        self.state.labels.insert(key.into(), l, label);
    }

    /// After a batch: closes windows for predictions, expires what can no longer join, and
    /// returns the versions due (windows oldest first).
    pub fn advance(&mut self) -> Vec<Observation> {
        for window in self.state.windows.take_closed() {
            self.state.closed.push(ClosedWindow { bounds: window.bounds, state: window.state });
        }
        let retention = self.settings.retention_ms;
        if let Some(labels_wm) = self.state.labels_clock.watermark_ms() {
            // Past `t + retention` on the labels' clock no label can join `t`.
            let expired = |t: i64| t.saturating_add(retention) < labels_wm;
            self.state.counters.unlabelled += self.state.predictions.expire(expired);
            self.state.joined_keys.expire(expired);
        }
        if let Some(predictions_wm) = self.state.windows.watermark_ms() {
            let spec = *self.state.windows.spec();
            let lateness = self.lateness_ms;
            let expired = |l: i64| last_window_end(&spec, l.saturating_add(lateness)) <= predictions_wm;
            self.state.counters.unmatched_labels += self.state.labels.expire(expired);
        }
        let labels_wm = self.state.labels_clock.watermark_ms();
        let mut out = Vec::new();
        let mut kept = Vec::with_capacity(self.state.closed.len());
        for mut closed in std::mem::take(&mut self.state.closed) {
            let final_ = self.is_final(&closed.bounds, labels_wm);
            if let Some(version) = closed.state.due(&self.settings, final_) {
                out.extend(closed.state.observations(
                    &self.monitor,
                    &self.feature,
                    &self.settings,
                    &closed.bounds,
                    version,
                ));
            }
            if !final_ {
                kept.push(closed);
            }
        }
        self.state.closed = kept;
        out
    }

    /// End of the predictions' finite source: every window closes for predictions.
    pub fn flush_predictions(&mut self) -> Vec<Observation> {
        for window in self.state.windows.flush() {
            self.state.closed.push(ClosedWindow { bounds: window.bounds, state: window.state });
        }
        self.advance()
    }

    /// End of the labels' finite source: no label will come, every window is final.
    pub fn flush_labels(&mut self) -> Vec<Observation> {
        drop(self.state.labels_clock.flush());
        self.advance()
    }

    fn fits(&self, t: i64, l: i64) -> Fit {
        if l > t.saturating_add(self.settings.retention_ms) {
            Fit::After
        } else if l < t.saturating_sub(self.lateness_ms) {
            Fit::Before
        } else {
            Fit::Joins
        }
    }

    fn join(&mut self, key: &str, t: i64, prediction: f64, l: i64, label: f64) {
        let c = &mut self.state.counters;
        c.joined += 1;
        c.join_lag_ms_sum = c.join_lag_ms_sum.saturating_add(l - t);
        c.join_lag_ms_max = c.join_lag_ms_max.max(l - t);
        let pair = Pair { t, prediction, label };
        let cap = self.settings.max_pairs_per_window;
        let spec = *self.state.windows.spec();
        for start in window_starts(&spec, t) {
            if let Some(w) = self.state.windows.get_mut(start) {
                w.state.add(pair, cap);
            } else if let Some(w) = self.state.closed.iter_mut().find(|w| w.bounds.start_ms == start) {
                w.state.add(pair, cap);
            }
        }
        self.make_room();
        self.state.joined_keys.insert(key.into(), t, ());
    }

    fn hold_prediction(&mut self, key: &str, t: i64, value: f64) {
        self.make_room();
        self.state.predictions.insert(key.into(), t, value);
    }

    /// Frees one place when the buffer is full: the oldest joined key first, else the oldest
    /// waiting prediction or label.
    fn make_room(&mut self) {
        let s = &mut self.state;
        if s.predictions.len() + s.labels.len() + s.joined_keys.len() < self.settings.max_pending {
            return;
        }
        if s.joined_keys.pop_oldest().is_some() {
            s.counters.forgotten_keys += 1;
            return;
        }
        let prediction_first = match (s.predictions.oldest_ms(), s.labels.oldest_ms()) {
            (Some(p), Some(l)) => p <= l,
            (p, _) => p.is_some(),
        };
        if prediction_first {
            s.predictions.pop_oldest();
            s.counters.evicted_predictions += 1;
        } else if s.labels.pop_oldest().is_some() {
            s.counters.evicted_labels += 1;
        }
    }

    /// A prediction or label value as the task takes it: a finite number (a classifier's: 0 or
    /// 1 for labels and label predictions, `true` / `false` as 1 / 0).
    fn usable(&self, value: &Value) -> Option<f64> {
        let x = match value {
            Value::Number(x) => *x,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Text(text) => match text.trim() {
                "true" => 1.0,
                "false" => 0.0,
                other => other.parse::<f64>().ok()?,
            },
            Value::Missing => return None,
        };
        x.is_finite().then_some(x)
    }
}

/// Whether a label joins a prediction.
enum Fit {
    Joins,
    After,
    Before,
}

/// The starts of the time windows of `spec` containing `t`.
fn window_starts(spec: &WindowSpec, t: i64) -> impl Iterator<Item = i64> {
    let (size, slide) = (spec.size as i64, spec.slide as i64);
    let last = t.div_euclid(slide) * slide;
    (0..).map(move |k| last - k * slide).take_while(move |s| s + size > t)
}

/// The end of the last window of `spec` containing `t` (a record at `t` is late once the
/// watermark reaches it).
fn last_window_end(spec: &WindowSpec, t: i64) -> i64 {
    let (size, slide) = (spec.size as i64, spec.slide as i64);
    t.div_euclid(slide).saturating_mul(slide).saturating_add(size)
}
