//! What a closed window yields: one [`Observation`] per (stream, feature, statistic).
//!
//! Every closed window produces the same set of observations whatever its data: a statistic
//! that cannot be computed (empty window, empty reference, PSI under the `evidently` binning
//! past the sample cap, the chi-square p-value of one category) is still reported, with value NaN and
//! the reason in [`ObservationDetail`], so a gap in a metric always has an explanation in the
//! drift history. The one exception is the warm-up of a trailing reference: the first window
//! of a stream has no previous window to compare with and yields no observation at all.

use serde::Serialize;

use crate::record::Stream;
use crate::stats::ks::KsMethod;
use crate::window::WindowBounds;

pub use crate::stats::statistic::Stat;

/// Whether a feature could be compared in a window (as `driftd compare`'s column status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureStatus {
    Ok,
    /// The reference has no usable value for this feature: nothing to compare with.
    EmptyReference,
    /// The window has no usable value for this feature (all missing, non-finite or mistyped).
    EmptyCurrent,
}

/// How an observation's value came about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationDetail {
    pub status: FeatureStatus,
    /// This feature's cells in the window that were missing (absent, null, NaN, empty text).
    pub missing: u64,
    /// Cells that were ±inf (numeric features).
    pub nonfinite: u64,
    /// Cells of the wrong type: text or a boolean in a numeric feature. Excluded.
    pub type_mismatch: u64,
    /// The window held more values than `ks_sample_cap`: KS and Wasserstein come from the
    /// window's KLL sketch (see `ks_source`, `ks_error_bound`); under the `evidently` binning,
    /// whose bins need the values, PSI, Jensen–Shannon and Hellinger are NaN.
    pub sample_capped: bool,
    /// Which KS p-value computation was used (KS observations that have a value).
    pub ks_method: Option<KsMethod>,
    /// What KS and Wasserstein were computed from (when they have a value): the window's
    /// values (`sample`, exact) or its KLL sketch (`sketch`, approximate).
    pub ks_source: Option<KsSource>,
    /// With `ks_source: sketch`: the sketch's normalised rank error ε, so that
    /// `|D_exact − D| ≤ ε` (about 99 % confidence) and the statistic reads `D ± ε`. The
    /// p-value is `ks_p_value(n_ref, n, D)` on the sketched `D`: approximate likewise. The
    /// sketched Wasserstein distance is approximate too (off by at most `ε·(max − min)`).
    pub ks_error_bound: Option<f64>,
    /// Chi-square degrees of freedom (chi-square observations).
    pub chisquare_dof: Option<u64>,
    /// Bins the binned statistics (PSI, Jensen–Shannon, Hellinger) were computed on.
    pub n_bins: Option<usize>,
    /// Categorical: records whose new label did not fit under `max_new_categories` and were
    /// counted in the single [`super::OVERFLOW_LABEL`] bin.
    pub categories_overflow: u64,
    /// The PSI bins (when PSI was computed): each bin's share of the reference and of the
    /// window and its PSI term — which bins moved. Alert evidence carries them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bins: Vec<BinShare>,
    /// Trailing references only (`MonitorSettings::trailing_windows`): which closed windows the
    /// reference was pooled from. `None` (and absent from the JSON) for a fixed reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_windows: Option<ReferenceWindows>,
    /// Performance observations (stream `labels`) only: which version of the window's
    /// performance this is (`crate::labels`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformanceDetail>,
}

impl ObservationDetail {
    /// A detail with `status` and nothing else.
    pub fn new(status: FeatureStatus) -> Self {
        ObservationDetail {
            status,
            missing: 0,
            nonfinite: 0,
            type_mismatch: 0,
            sample_capped: false,
            ks_method: None,
            ks_source: None,
            ks_error_bound: None,
            chisquare_dof: None,
            n_bins: None,
            categories_overflow: 0,
            bins: Vec::new(),
            reference_windows: None,
            performance: None,
        }
    }
}

/// Which version of a window's performance an observation belongs to: labels keep arriving
/// after the window closed, so its performance is published again as they complete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PerformanceDetail {
    /// 1, 2, … per window.
    pub version: u32,
    /// No label can join the window any more (every prediction joined or past the retention).
    #[serde(rename = "final")]
    pub final_: bool,
    /// The one version of the window the alert rules evaluate (`rules_at`).
    pub for_rules: bool,
    /// Predictions with a key in the window.
    pub predictions: u64,
    /// Of those, joined to a label so far.
    pub labelled: u64,
    /// Pairs joined beyond `max_pairs_per_window` (counted in `labelled`, not in the metrics).
    pub beyond_cap: u64,
}

/// Where a trailing reference came from: the previous closed windows of the stream, pooled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceWindows {
    /// Closed windows pooled (`1 ..= N`; fewer than N while the monitor warms up).
    pub windows: usize,
    /// Records in those windows (the sum of their `events`; with sliding windows a record in
    /// several of them counts once per window, as its values do in the pool).
    pub rows: u64,
    /// This feature's pooled values the reference was fit on (finite numbers / present labels).
    pub n: u64,
    /// Of those windows, how many had passed `ks_sample_cap` and contributed evenly spaced
    /// quantile points of their sketch instead of their values (the reference is then
    /// approximate; see `monitor/trailing.rs`).
    pub sketched_windows: usize,
    /// The earliest `start_ms` and the latest `end_ms` of those windows' bounds.
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One PSI bin: `contribution = (current − reference)·ln(current / reference)` on the
/// zero-filled proportions, so the contributions add up to the PSI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinShare {
    /// `(-inf, 25]`, `(25, 31.5]`, … for numeric bins (right-closed); the category otherwise.
    pub label: String,
    pub reference: f64,
    pub current: f64,
    pub contribution: f64,
}

/// What a window's KS statistic and Wasserstein distance were computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KsSource {
    /// The window's values, all of them (at most `ks_sample_cap`): exact.
    Sample,
    /// The window's KLL sketch (more than `ks_sample_cap` values): within `ks_error_bound`.
    Sketch,
}

/// One statistic of one feature of one stream over one closed window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub monitor: String,
    pub stream: Stream,
    pub feature: String,
    pub stat: Stat,
    /// NaN when undefined (see [`ObservationDetail`]).
    pub value: f64,
    /// Values of this feature used (present, finite, well-typed).
    pub n: u64,
    pub window: WindowBounds,
    pub detail: ObservationDetail,
}

/// The features of one window's observations whose PSI reached the PSI threshold of
/// `thresholds`, with their PSI, in feature order (the observations of other windows must not
/// be mixed in). The one "drifted" verdict of a window: the daemon's logs, status and alert
/// evidence and the replay report all take it from here.
pub fn drifted_features(
    observations: &[Observation],
    thresholds: &crate::stats::verdict::Thresholds,
) -> Vec<(String, f64)> {
    observations
        .iter()
        .filter(|o| {
            o.stat == Stat::Psi
                && o.value.is_finite()
                && thresholds.drifted(crate::stats::statistic::Statistic::Psi, o.value)
        })
        .map(|o| (o.feature.clone(), o.value))
        .collect()
}

/// One observation as a JSON object (NaN and ±inf → null), keys in a fixed order.
pub fn observation_json(o: &Observation) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        monitor: &'a str,
        stream: Stream,
        feature: &'a str,
        stat: Stat,
        value: Option<f64>,
        /// KS statistic past `ks_sample_cap`: `|D_exact − value| ≤ error_bound` (KLL sketch).
        #[serde(skip_serializing_if = "Option::is_none")]
        error_bound: Option<f64>,
        n: u64,
        window: WindowJson,
        status: FeatureStatus,
        /// Performance observations: `{version, final, for_rules, predictions, labelled, beyond_cap}`.
        #[serde(skip_serializing_if = "Option::is_none")]
        performance: Option<&'a PerformanceDetail>,
    }
    #[derive(serde::Serialize)]
    struct WindowJson {
        start: String,
        end: String,
        start_ms: i64,
        end_ms: i64,
        events: u64,
    }
    let line = Line {
        monitor: &o.monitor,
        stream: o.stream,
        feature: &o.feature,
        stat: o.stat,
        value: o.value.is_finite().then_some(o.value),
        error_bound: o.detail.ks_error_bound.filter(|_| o.stat == Stat::KsStatistic && o.value.is_finite()),
        n: o.n,
        window: WindowJson {
            start: crate::source::time::format_time_ms(o.window.start_ms),
            end: crate::source::time::format_time_ms(o.window.end_ms),
            start_ms: o.window.start_ms,
            end_ms: o.window.end_ms,
            events: o.window.events,
        },
        status: o.detail.status,
        performance: o.detail.performance.as_ref(),
    };
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_string(&line).unwrap_or_default()
}
