//! From a closed window's accumulators to [`Observation`]s, with the statistics engine.
//!
//! Frozen binnings: PSI, Jensen–Shannon and Hellinger come from the window's bin counts and the
//! reference's counts in the same bins, by the same operations as `compare_numeric`, so the
//! values are bit-identical to `driftd compare` on the same rows; KS and Wasserstein from the
//! stored values while the window has at most `ks_sample_cap`, past it from its KLL sketch
//! (approximate, with an error bound: `from_sketch`). `evidently` binning and categorical
//! features: see `numeric` and `categorical` below.

use crate::record::Stream;
use crate::reference::{FeatureKind, FeatureProfile};
use crate::stats::kll::KllSketch;
use crate::stats::ks::KsResult;
use crate::stats::profile::{
    binned_statistics, compare_categorical, compare_numeric_selected, set_walk_values, sort_floats,
    CategoricalReference, NumericReference,
};
use crate::stats::psi::{fill_zeros, proportions, ZeroFill};
use crate::stats::quality::{count_out_of_range, count_unseen, QualityCounts};
use crate::stats::sketch_walk::ks_and_wasserstein_sketched;
use crate::stats::statistic::{Compute, StatValues, Statistic, Statistics};
use crate::window::{Window, WindowBounds};

use super::accumulate::{CategoricalAccumulator, FeatureAccumulator, FeaturePlan, NumericAccumulator, WindowState};
use super::observation::{BinShare, FeatureStatus, KsSource, Observation, ObservationDetail, Stat};
use super::{MonitorSettings, OVERFLOW_LABEL};

/// What one feature contributes: (stat, value) pairs plus what they share.
struct FeatureResult {
    values: Vec<(Stat, f64)>,
    n: u64,
    detail: ObservationDetail,
}

/// Appends the observations of one closed window of `stream`, feature by feature, statistics in
/// [`Stat`] order.
pub(crate) fn observe_window(
    monitor: &str,
    stream: Stream,
    features: &[FeatureProfile],
    plans: &[FeaturePlan],
    settings: &MonitorSettings,
    window: Window<WindowState>,
    out: &mut Vec<Observation>,
) {
    let bounds: WindowBounds = window.bounds;
    let work: u64 = window.state.features.iter().map(work_estimate).sum();
    let jobs: Vec<_> = features.iter().zip(plans).zip(window.state.features).collect();
    let evaluate = |((feature, plan), accumulator): ((&FeatureProfile, &FeaturePlan), FeatureAccumulator)| {
        match (&feature.kind, plan, accumulator) {
            (
                FeatureKind::Numeric(reference),
                FeaturePlan::Numeric { reference_counts, range, .. },
                FeatureAccumulator::Numeric(acc),
            ) => Some(numeric(reference, reference_counts.as_deref(), range.is_some(), acc, settings)),
            (FeatureKind::Categorical(reference), _, FeatureAccumulator::Categorical(acc)) => {
                Some(categorical(reference, acc, settings))
            }
            // Shapes are checked when a monitor is built or restored.
            _ => None,
        }
    };
    // Features are independent: a large window computes them on every core (a sketch-mode KS
    // p-value is ~35 ms per feature). Each result is the same whichever thread computes it,
    // and the order of the observations is the features' order either way.
    let results = if work >= PARALLEL_WORK && jobs.len() > 1 {
        crate::parallel::parallel_map(jobs, 0, evaluate)
    } else {
        jobs.into_iter().map(evaluate).collect()
    };
    for (feature, result) in features.iter().zip(results) {
        let Some(result) = result else { continue };
        for (stat, value) in result.values {
            out.push(Observation {
                monitor: monitor.to_string(),
                stream,
                feature: feature.name.clone(),
                stat,
                value,
                n: result.n,
                window: bounds.clone(),
                detail: result.detail.clone(),
            });
        }
    }
}

/// Below this many values in a window (summed over its features), its features are evaluated
/// on the calling thread: spawning threads would cost more than it saves.
pub(super) const PARALLEL_WORK: u64 = 20_000;

/// A rough measure of the work of evaluating one feature: its values (a sketch means a large
/// window, whose asymptotic KS p-value sums up to n terms).
fn work_estimate(accumulator: &FeatureAccumulator) -> u64 {
    match accumulator {
        FeatureAccumulator::Numeric(acc) => acc.n,
        FeatureAccumulator::Categorical(acc) => acc.known.len() as u64 + acc.new.len() as u64,
    }
}

fn detail(status: FeatureStatus) -> ObservationDetail {
    ObservationDetail::new(status)
}

/// The PSI bins of aligned counts, labelled (zero fill as the PSI's).
fn bin_shares(labels: Vec<String>, reference: &[u64], current: &[u64], epsilon: f64) -> Vec<BinShare> {
    let mut r = proportions(reference);
    let mut c = proportions(current);
    fill_zeros(&mut r, ZeroFill::Epsilon(epsilon));
    fill_zeros(&mut c, ZeroFill::Epsilon(epsilon));
    let terms = crate::stats::psi::psi_terms(&r, &c);
    labels
        .into_iter()
        .zip(r.iter().zip(&c).zip(terms))
        .map(|(label, ((&reference, &current), contribution))| BinShare { label, reference, current, contribution })
        .collect()
}

/// Labels of right-closed bins between interior `edges`: `(-inf, e0]`, `(e0, e1]`, …, `(eN, inf)`.
fn edge_labels(edges: &[f64]) -> Vec<String> {
    let bounds: Vec<String> =
        std::iter::once("-inf".to_string()).chain(edges.iter().map(|e| e.to_string())).chain(["inf".into()]).collect();
    bounds
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            if i + 2 == bounds.len() {
                format!("({}, {})", pair[0], pair[1])
            } else {
                format!("({}, {}]", pair[0], pair[1])
            }
        })
        .collect()
}

/// A numeric feature's observations. Frozen binnings: PSI, Jensen–Shannon and Hellinger from
/// the bin counts (as `compare_numeric`), KS and Wasserstein through
/// `compare_numeric_selected` on the stored values while the window has at most
/// `ks_sample_cap` values, else from the sketch (`from_sketch`). `evidently` binning: its bins
/// depend on the current sample, so every statistic comes from the stored values, and past the
/// cap only KS and Wasserstein are available.
fn numeric(
    reference: &NumericReference,
    reference_counts: Option<&[u64]>,
    range_counted: bool,
    acc: NumericAccumulator,
    settings: &MonitorSettings,
) -> FeatureResult {
    let selected = settings.statistics;
    let capped = acc.capped();
    let status = if reference.sorted.is_empty() {
        FeatureStatus::EmptyReference
    } else if acc.n == 0 {
        FeatureStatus::EmptyCurrent
    } else {
        FeatureStatus::Ok
    };
    let mut detail = detail(status);
    detail.missing = acc.missing;
    detail.nonfinite = acc.nonfinite;
    detail.type_mismatch = acc.type_mismatch;
    detail.sample_capped = capped;
    let mut values = StatValues::default();
    let mut ks: Option<KsResult> = None;
    let mut source = None;
    let psi = selected.contains(Statistic::Psi);
    // Counted while accumulating against a fixed reference's range; against a trailing one
    // (no range until the window closes) from the window's values, which a capped window no
    // longer has: its out-of-range share is then unknown.
    let mut quality = QualityCounts {
        cells: acc.n + acc.missing + acc.nonfinite + acc.type_mismatch,
        missing: acc.missing,
        type_mismatch: acc.type_mismatch,
        values: acc.n,
        out_of_range: acc.out_of_range,
        unseen: 0,
        reference_usable: !reference.sorted.is_empty() && (range_counted || !capped),
    };
    if status == FeatureStatus::Ok {
        let mut sample = acc.values;
        sort_floats(&mut sample);
        if !range_counted && !capped && selected.contains(Statistic::OutOfRangeShare) {
            quality.out_of_range = count_out_of_range(&reference.sorted, &sample);
        }
        // The statistics of the merged walk (KS, Wasserstein): from the stored sample up to the
        // cap, from the sketch beyond it.
        let walk: Statistics = selected.iter().filter(|s| matches!(s.spec().compute, Compute::MergedWalk)).collect();
        let want = !walk.is_empty();
        match reference_counts {
            Some(reference_counts) => {
                let epsilon = settings.compare.epsilon;
                let zero_fill = ZeroFill::Epsilon(epsilon);
                (values, _) = binned_statistics(reference_counts, &acc.bins, zero_fill, epsilon, &selected, true);
                detail.n_bins = Some(acc.bins.len());
                if let (true, Some(edges)) = (psi, &reference.edges) {
                    let labels = edge_labels(edges);
                    if labels.len() == acc.bins.len() {
                        detail.bins = bin_shares(labels, reference_counts, &acc.bins, epsilon);
                    }
                }
                if want && !capped {
                    let cmp = compare_numeric_selected(reference, &sample, &settings.compare, &walk);
                    for stat in walk.iter().flat_map(|s| s.spec().values.iter().map(|&(_, stat)| stat)) {
                        values.set(stat, cmp.values.get(stat));
                    }
                    ks = cmp.walk_ks;
                    source = Some(KsSource::Sample);
                }
            }
            None if !capped => {
                let cmp = compare_numeric_selected(reference, &sample, &settings.compare, &selected);
                values = cmp.values;
                detail.n_bins = Some(cmp.bins.n_bins);
                let labels = edge_labels(&cmp.bins.edges);
                if psi && reference.edges.is_some() && labels.len() == cmp.bins.current_counts.len() {
                    let (r, c) = (&cmp.bins.reference_counts, &cmp.bins.current_counts);
                    detail.bins = bin_shares(labels, r, c, settings.compare.epsilon);
                }
                ks = cmp.walk_ks;
                source = want.then_some(KsSource::Sample);
            }
            None => {}
        }
        if let (true, Some(sketch)) = (want, &acc.sketch) {
            let (sketched, wasserstein, bound) = from_sketch(reference, sketch, acc.n);
            set_walk_values(&mut values, &walk, &sketched, wasserstein, reference.std);
            ks = Some(sketched);
            source = Some(KsSource::Sketch);
            detail.ks_error_bound = Some(bound);
        }
    }
    values.set_quality(&selected, true, &quality);
    detail.ks_source = source;
    detail.ks_method = ks.filter(|k| k.p_value.is_finite()).map(|k| k.method);
    FeatureResult { values: selected_values(&selected, true, &values), n: acc.n, detail }
}

/// The selected statistics' values that apply to the column type, in [`Stat`] order.
fn selected_values(selected: &Statistics, numeric: bool, values: &StatValues) -> Vec<(Stat, f64)> {
    selected
        .for_columns(numeric)
        .flat_map(|spec| spec.values.iter().map(|&(_, stat)| (stat, values.get(stat))))
        .collect()
}

/// KS (statistic, approximate p-value), Wasserstein and the rank-error bound of a reference
/// against a window's sketch of `n` values ([`crate::stats::kll`]).
///
/// `D = sup |F_ref − F̂_cur|` over the merged support, with `F_ref` the reference's exact ECDF
/// and `F̂_cur` the sketch's weighted CDF; the sketch's normalised rank error ε goes into
/// `ks_error_bound` (`|D_exact − D| ≤ ε`); the p-value is the limit distribution's
/// `kstwobign.sf(√(n_ref·n_cur/(n_ref+n_cur))·D)` with the window's true count
/// (`ks_method: "limit"`; approximate, as `D` is — scipy's exact `kstwo` would cost ~50 ms a
/// feature for precision a sketched D does not have, see `stats/kolmogorov_limit.rs`);
/// Wasserstein is `∫ |F_ref − F̂_cur|` (approximate) and its normalised form divides it by the
/// reference's standard deviation as usual.
fn from_sketch(reference: &NumericReference, sketch: &KllSketch, n: u64) -> (KsResult, f64, f64) {
    let view = sketch.sorted_view();
    let (ks, w) = ks_and_wasserstein_sketched(&reference.sorted[..], reference.sorted.len() as u64, &view[..], n);
    (ks, w, sketch.normalized_rank_error())
}

/// A categorical feature's observations: `compare_categorical` on the window's label counts.
fn categorical(
    reference: &CategoricalReference,
    acc: CategoricalAccumulator,
    settings: &MonitorSettings,
) -> FeatureResult {
    let selected = settings.statistics;
    let n = acc.n();
    let status = if reference.counts.iter().all(|(_, c)| *c == 0) {
        FeatureStatus::EmptyReference
    } else if n == 0 {
        FeatureStatus::EmptyCurrent
    } else {
        FeatureStatus::Ok
    };
    let mut detail = detail(status);
    detail.missing = acc.missing;
    detail.categories_overflow = acc.overflow;
    let mut values = StatValues::default();
    let mut quality = QualityCounts {
        cells: n + acc.missing,
        missing: acc.missing,
        values: n,
        reference_usable: status != FeatureStatus::EmptyReference,
        ..QualityCounts::default()
    };
    if status == FeatureStatus::Ok {
        let mut current: Vec<(String, u64)> = reference
            .counts
            .iter()
            .zip(&acc.known)
            .filter(|(_, &count)| count > 0)
            .map(|((label, _), &count)| (label.clone(), count))
            .chain(acc.new)
            .collect();
        if acc.overflow > 0 {
            current.push((OVERFLOW_LABEL.to_string(), acc.overflow));
        }
        current.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let cmp = compare_categorical(reference, &current, &settings.compare, &selected);
        values = cmp.values;
        detail.n_bins = Some(cmp.bins.n_bins);
        if selected.contains(Statistic::Psi) && settings.compare.binning != crate::stats::binning::Binning::Evidently {
            let (r, c) = (&cmp.bins.reference_counts, &cmp.bins.current_counts);
            detail.bins = bin_shares(cmp.categories.clone(), r, c, settings.compare.epsilon);
        }
        detail.chisquare_dof = cmp.chisquare_dof;
        // Past `max_new_categories` the overflow bin holds new labels only: unseen too.
        if selected.contains(Statistic::UnseenCategoryShare) {
            quality.unseen = count_unseen(&reference.counts, &current);
        }
    }
    values.set_quality(&selected, false, &quality);
    FeatureResult { values: selected_values(&selected, false, &values), n, detail }
}

#[cfg(test)]
mod bin_tests {
    use super::*;

    #[test]
    fn bin_labels_are_right_closed_and_contributions_add_up_to_the_psi() {
        assert_eq!(edge_labels(&[25.0, 31.5]), ["(-inf, 25]", "(25, 31.5]", "(31.5, inf)"]);
        let (reference, current) = ([30, 50, 20], [10, 40, 50]);
        let bins = bin_shares(edge_labels(&[1.0, 2.0]), &reference, &current, 1e-4);
        let selected = Statistics::NONE.with(Statistic::Psi);
        let (values, _) = binned_statistics(&reference, &current, ZeroFill::Epsilon(1e-4), 1e-4, &selected, true);
        let psi = values.get(Stat::Psi);
        let total: f64 = bins.iter().map(|b| b.contribution).sum();
        assert!((total - psi).abs() <= 1e-15 * psi, "{total} vs {psi}");
        assert_eq!((bins[2].reference, bins[2].current), (0.2, 0.5));
        assert!(bins.iter().all(|b| b.contribution >= 0.0));
    }
}
