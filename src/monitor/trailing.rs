//! Trailing references: each closed window of a stream compared with its previous N closed
//! windows, pooled (`MonitorSettings::trailing_windows` = N; config
//! `reference: {trailing: {windows: N}}`).
//!
//! When a window closes, its reference is fit from the stream's [`TrailingPool`] with
//! [`crate::reference::fit_column`], as a file column of the pooled rows would be, so below the
//! sample cap a window's statistics are bit-identical to a fixed reference fit on those rows
//! (`monitor/tests/trailing.rs`). Warm-up, accumulation, the sample cap, memory: on [`TrailingPool`].

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::accumulate::{FeatureAccumulator, FeaturePlan, WindowState};
use super::evaluate;
use super::observation::{Observation, ReferenceWindows};
use super::{MonitorSettings, OVERFLOW_LABEL};
use crate::dataset::{CategoricalValues, Column, ColumnData, NumericValues};
use crate::record::Stream;
use crate::reference::{fit_column, FeatureKind, FeatureProfile};
use crate::stats::binning::{right_closed_bin, Binning};
use crate::stats::kll::KllSketch;
use crate::window::{Window, WindowBounds};

/// The last closed windows of one stream, what each retained, oldest first.
///
/// Fitting: [`crate::reference::fit_column`] with the monitor's binning and no subsampling on
/// a column holding the pooled values — the windows' finite values concatenated oldest window
/// first, each in arrival order (the std is order-sensitive in its last bits), missing and
/// non-finite cells summed; categorical: label counts summed. Type mismatches are excluded
/// from the pool as from a window.
///
/// Warm-up: the first window of a stream has no reference and yields no observation (it only
/// enters the pool); window 2 is compared with window 1, window k with windows
/// `max(1, k − N) .. k − 1`. Every closed window enters the pool after its own evaluation,
/// whatever its size (flushed partial windows too). Sliding windows overlap, and the pool
/// takes each window whole: a record in several of the previous N windows is in the
/// reference once per window ([`ReferenceWindows::rows`] counts it so).
///
/// Accumulation: the edges of the reference are unknown while a window is open (the pool
/// changes as earlier windows close), so a trailing monitor's windows accumulate as under the
/// `evidently` binning: numeric windows keep their values (no bins), categorical windows count
/// every label (no reference index; past `max_new_categories` labels the further new ones share
/// [`super::OVERFLOW_LABEL`], which then is a label of the pool like any other). At close, a
/// numeric window is binned against the pool's frozen edges.
///
/// Past `ks_sample_cap` a window has only its KLL sketch:
/// - its own statistics: KS and Wasserstein from the sketch as with a fixed reference
///   (`ks_source: sketch`, `ks_error_bound`); PSI, Jensen–Shannon and Hellinger from the
///   sketch's weighted items counted in the pool's bins (each bin's share is then within about
///   2ε of the exact one, ε = the sketch's rank error; `sample_capped` says so). Under the
///   `evidently` binning they are NaN, as with a fixed reference.
/// - its contribution to later pools: `m = max(2, ks_sample_cap)` (at most its `n`) evenly
///   spaced quantile points of the sketch — the items at ranks `round(i·(n − 1)/(m − 1))`,
///   i = 0..m, of its weighted CDF, ascending ([`quantile_points`]) — in place of its values,
///   so a large window weighs as much as `ks_sample_cap` values in the pool, not `n`
///   ([`ReferenceWindows::sketched_windows`] counts such windows).
///
/// Memory: the pool keeps, per stream and feature, at most N windows' retained values: numeric
/// `8·N·min(n_window, max(2, ks_sample_cap))` bytes (19 MB per feature for N = 24 and the
/// default cap of 100,000), categorical N × at most `max_new_categories + 1` labels and counts.
/// Closing a window briefly also holds the fitted reference (another copy of the pooled values,
/// sorted) and a copy of the window's own values. The pool is part of [`super::MonitorState`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailingPool {
    /// N: how many closed windows form the reference.
    pub capacity: usize,
    /// At most `capacity` windows, oldest first.
    pub windows: VecDeque<PooledWindow>,
}

/// What one closed window leaves to the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledWindow {
    pub bounds: WindowBounds,
    /// One per feature of the stream, in feature order.
    pub features: Vec<PooledFeature>,
}

/// One feature of a pooled window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PooledFeature {
    Numeric {
        /// The window's finite values in arrival order, or (`sketched`) evenly spaced quantile
        /// points of its sketch, ascending (see [`TrailingPool`]).
        values: Vec<f64>,
        sketched: bool,
        missing: u64,
        nonfinite: u64,
    },
    Categorical {
        /// Label counts, labels strictly ascending by bytes, counts > 0.
        counts: Vec<(String, u64)>,
        missing: u64,
    },
}

/// A trailing reference fit from a pool, ready for [`evaluate::observe_window`].
struct PoolReference {
    features: Vec<FeatureProfile>,
    plans: Vec<FeaturePlan>,
    /// Per feature.
    windows: Vec<ReferenceWindows>,
}

impl TrailingPool {
    pub(crate) fn new(capacity: usize) -> Self {
        TrailingPool { capacity, windows: VecDeque::with_capacity(capacity) }
    }

    /// Checks a restored pool against the monitor (see [`super::MonitorCore::restore`]).
    pub(crate) fn check(&self, capacity: usize, plans: &[FeaturePlan], ks_sample_cap: usize) -> Result<(), String> {
        if self.capacity != capacity {
            return Err(format!("it was taken with a trailing reference of {} windows, not {capacity}", self.capacity));
        }
        if self.windows.len() > capacity {
            return Err(format!("its trailing pool holds {} windows, more than {capacity}", self.windows.len()));
        }
        let retained = ks_sample_cap.max(2);
        for window in &self.windows {
            let fits = window.features.len() == plans.len()
                && window.bounds.events > 0
                && window.features.iter().zip(plans).all(|(feature, plan)| match (feature, plan) {
                    (PooledFeature::Numeric { values, sketched, .. }, FeaturePlan::Numeric { .. }) => {
                        values.iter().all(|v| v.is_finite())
                            && values.len() <= retained
                            && (!sketched || values.windows(2).all(|w| w[0] <= w[1]))
                    }
                    (PooledFeature::Categorical { counts, .. }, FeaturePlan::Categorical { .. }) => {
                        counts.iter().all(|(_, c)| *c > 0)
                            && counts.windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes())
                    }
                    _ => false,
                });
            if !fits {
                return Err("its trailing pool does not fit the stream's features".to_string());
            }
        }
        Ok(())
    }

    /// Windows in the pool.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    fn push(&mut self, window: PooledWindow) {
        self.windows.push_back(window);
        while self.windows.len() > self.capacity {
            self.windows.pop_front();
        }
    }

    /// Feature `i`'s pooled values as the column `fit_column` takes (numeric: the windows'
    /// values oldest window first, each in arrival order), and how many of its windows were
    /// sketched.
    fn column(&self, i: usize, feature: &FeatureProfile) -> (Column, usize) {
        let pooled = self.windows.iter().filter_map(|w| w.features.get(i));
        let (data, sketched_windows) = match feature.kind {
            FeatureKind::Numeric(_) => {
                let mut data = NumericValues::default();
                let mut sketched_windows = 0;
                data.values.reserve(
                    pooled
                        .clone()
                        .map(|p| match p {
                            PooledFeature::Numeric { values, .. } => values.len(),
                            PooledFeature::Categorical { .. } => 0,
                        })
                        .sum(),
                );
                for p in pooled {
                    if let PooledFeature::Numeric { values, sketched, missing, nonfinite } = p {
                        data.values.extend_from_slice(values);
                        data.missing += missing;
                        data.nonfinite += nonfinite;
                        sketched_windows += usize::from(*sketched);
                    }
                }
                (ColumnData::Numeric(data), sketched_windows)
            }
            FeatureKind::Categorical(_) => {
                let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
                let mut missing = 0u64;
                for p in pooled {
                    if let PooledFeature::Categorical { counts: c, missing: m } = p {
                        for (label, count) in c {
                            *counts.entry(label.as_str()).or_default() += *count;
                        }
                        missing += *m;
                    }
                }
                // `&str` orders by bytes: the order `fit_column` requires.
                let counts = counts.into_iter().map(|(l, c)| (l.to_string(), c)).collect();
                (ColumnData::Categorical(CategoricalValues { counts, missing }), 0)
            }
        };
        (Column { name: feature.name.clone(), data }, sketched_windows)
    }

    /// The reference of the next closing window: each feature fit on the pooled values;
    /// `None` when the pool is empty (warm-up).
    fn fit(&self, features: &[FeatureProfile], binning: &Binning) -> Option<PoolReference> {
        let (first, last) = (self.windows.front()?, self.windows.back()?);
        let rows = self.windows.iter().map(|w| w.bounds.events).sum();
        let start_ms = self.windows.iter().map(|w| w.bounds.start_ms).min().unwrap_or(first.bounds.start_ms);
        let end_ms = self.windows.iter().map(|w| w.bounds.end_ms).max().unwrap_or(last.bounds.end_ms);
        let columns: Vec<(Column, usize)> =
            features.iter().enumerate().map(|(i, feature)| self.column(i, feature)).collect();
        // Fitting sorts the pooled values: with large pools, one feature per core (each
        // result is the same whichever thread computes it; the order is kept).
        let work: u64 = columns
            .iter()
            .map(|(c, _)| match &c.data {
                ColumnData::Numeric(v) => v.values.len() as u64,
                ColumnData::Categorical(v) => v.counts.len() as u64,
            })
            .sum();
        let fit = |(column, sketched_windows): (Column, usize)| (fit_column(column, binning, None), sketched_windows);
        let results = if work >= evaluate::PARALLEL_WORK && columns.len() > 1 {
            crate::parallel::parallel_map(columns, 0, fit)
        } else {
            columns.into_iter().map(fit).collect()
        };
        let mut fitted = Vec::with_capacity(features.len());
        let mut windows = Vec::with_capacity(features.len());
        for (profile, sketched_windows) in results {
            windows.push(ReferenceWindows {
                windows: self.windows.len(),
                rows,
                n: profile.n,
                sketched_windows,
                start_ms,
                end_ms,
            });
            fitted.push(profile);
        }
        let plans = fitted.iter().map(FeaturePlan::new).collect();
        Some(PoolReference { features: fitted, plans, windows })
    }
}

/// Closes one window of a trailing monitor: its observations against the pool (none during
/// warm-up), then it joins the pool.
pub(crate) fn close_window(
    monitor: &str,
    stream: Stream,
    features: &[FeatureProfile],
    settings: &MonitorSettings,
    pool: &mut TrailingPool,
    mut window: Window<WindowState>,
    out: &mut Vec<Observation>,
) {
    let retained = settings.ks_sample_cap.max(2);
    let contribution = PooledWindow {
        bounds: window.bounds.clone(),
        features: window.state.features.iter().map(|a| contribute(a, retained)).collect(),
    };
    if let Some(reference) = pool.fit(features, &settings.compare.binning) {
        for (accumulator, plan) in window.state.features.iter_mut().zip(&reference.plans) {
            bin(accumulator, plan);
        }
        let start = out.len();
        evaluate::observe_window(monitor, stream, &reference.features, &reference.plans, settings, window, out);
        // Observations come in feature order: one cursor finds each one's feature.
        let mut i = 0;
        for observation in &mut out[start..] {
            while i + 1 < features.len() && features[i].name != observation.feature {
                i += 1;
            }
            observation.detail.reference_windows = reference.windows.get(i).cloned();
        }
    }
    pool.push(contribution);
}

/// What a closed window leaves to the pool (see [`TrailingPool`]).
fn contribute(accumulator: &FeatureAccumulator, retained: usize) -> PooledFeature {
    match accumulator {
        FeatureAccumulator::Numeric(acc) => {
            let (values, sketched) = match &acc.sketch {
                Some(sketch) => (quantile_points(sketch, retained), true),
                None => (acc.values.clone(), false),
            };
            PooledFeature::Numeric { values, sketched, missing: acc.missing, nonfinite: acc.nonfinite }
        }
        FeatureAccumulator::Categorical(acc) => {
            // A trailing monitor's plan has no reference index, so every label is in `new`
            // (`known` is empty); the overflow is one more label.
            let mut counts: BTreeMap<&str, u64> = acc.new.iter().map(|(l, c)| (l.as_str(), *c)).collect();
            if acc.overflow > 0 {
                *counts.entry(OVERFLOW_LABEL).or_default() += acc.overflow;
            }
            let counts = counts.into_iter().filter(|(_, c)| *c > 0).map(|(l, c)| (l.to_string(), c)).collect();
            PooledFeature::Categorical { counts, missing: acc.missing }
        }
    }
}

/// `min(m, n)` evenly spaced quantile points of a sketch of `n` values: the items at ranks
/// `round(i·(n − 1)/(m − 1))` (0-based) of its weighted CDF, ascending, like
/// [`crate::reference::subsample_sorted`] on the values the sketch stands for. `m ≥ 2`.
pub fn quantile_points(sketch: &KllSketch, m: usize) -> Vec<f64> {
    let view = sketch.sorted_view();
    let n: u64 = view.iter().map(|&(_, w)| w).sum();
    if n == 0 {
        return Vec::new();
    }
    let m = (m.max(2) as u64).min(n);
    if m == 1 {
        return vec![view[0].0];
    }
    let (span, steps) = (u128::from(n - 1), u128::from(m - 1));
    let mut points = Vec::with_capacity(m as usize);
    let (mut j, mut below) = (0usize, 0u64); // `below`: weight of the items before `view[j]`
    for i in 0..u128::from(m) {
        let rank = ((i * span + steps / 2) / steps) as u64;
        while j + 1 < view.len() && below + view[j].1 <= rank {
            below += view[j].1;
            j += 1;
        }
        points.push(view[j].0);
    }
    points
}

/// Bins a closing numeric window in the pool's frozen edges (none under `evidently` or with an
/// empty pool): its values, or past the cap its sketch's weighted items.
fn bin(accumulator: &mut FeatureAccumulator, plan: &FeaturePlan) {
    let (FeatureAccumulator::Numeric(acc), FeaturePlan::Numeric { edges: Some(edges), .. }) = (accumulator, plan)
    else {
        return;
    };
    let mut bins = vec![0u64; edges.len() + 1];
    match &acc.sketch {
        Some(sketch) => {
            for (value, weight) in sketch.sorted_view() {
                bins[right_closed_bin(edges, value)] += weight;
            }
        }
        None => {
            for &value in &acc.values {
                bins[right_closed_bin(edges, value)] += 1;
            }
        }
    }
    acc.bins = bins;
}
