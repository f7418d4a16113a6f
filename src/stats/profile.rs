//! Reference profiles and the comparison of a current sample against them.
//!
//! A reference is fit once ([`NumericReference::fit`], [`CategoricalReference::from_counts`])
//! and compared with any number of current samples. Fitting freezes what does not depend on the current data: the sorted sample (KS,
//! Wasserstein), the population std (normalised Wasserstein, in file order as numpy computes
//! it) and the interior edges of frozen binnings. Comparisons ([`compare_numeric`],
//! [`compare_categorical`]) return every statistic with its inputs (bin counts), so callers
//! can show per-bin evidence; verdicts are applied separately ([`super::verdict`]).

use super::binning::{count_right_closed_sorted, evidently_bins, Binning};
use super::ks::{ks_2samp_sorted, ks_p_value, CdfDifferenceExtremes, KsResult};
use super::merge::MergedSteps;
use super::numeric::{pairwise_sum_iter, std_population};
use super::psi::{proportions, ZeroFill};
use super::statistic::{BinCounts, Compute, Stat, StatValues, Statistic, Statistics};
use super::wasserstein::{self, normalised, wasserstein_sorted};

/// Settings shared by every comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareSettings {
    pub binning: Binning,
    /// Replacement for empty-bin proportions in PSI and for unseen categories in chi-square.
    pub epsilon: f64,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings { binning: Binning::default(), epsilon: super::psi::DEFAULT_EPSILON }
    }
}

/// A fitted numeric reference.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericReference {
    /// Finite reference values, ascending.
    pub sorted: Vec<f64>,
    /// Population standard deviation (`np.std`), NaN when empty.
    pub std: f64,
    /// Interior edges of the frozen binning; `None` for `evidently` or an empty reference.
    pub edges: Option<Vec<f64>>,
}

impl NumericReference {
    /// Fit from the finite reference values in file order.
    pub fn fit(mut values: Vec<f64>, binning: &Binning) -> Self {
        let std = std_population(&values);
        sort_floats(&mut values);
        let edges = if values.is_empty() { None } else { binning.frozen_edges(&values) };
        NumericReference { sorted: values, std, edges }
    }
}

pub use super::sort::sort_floats;

/// The bins the binned statistics were computed on.
#[derive(Debug, Clone, PartialEq)]
pub struct Bins {
    pub n_bins: usize,
    /// Bin counts of the reference and the current sample (same order).
    pub reference_counts: Vec<u64>,
    pub current_counts: Vec<u64>,
    /// Interior edges (frozen binnings) or all Sturges edges (evidently, histogram branch);
    /// empty for per-value / categorical bins.
    pub edges: Vec<f64>,
}

/// The selected statistics of a numeric column.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericComparison {
    pub bins: Bins,
    /// By [`Stat`]; NaN for statistics not selected.
    pub values: StatValues,
    /// The merged walk's KS test, when it ran (KS or Wasserstein selected): its method and
    /// whether its p-value is defined describe the KS values.
    pub walk_ks: Option<KsResult>,
}

/// Compare a sorted, non-empty current sample with a non-empty reference.
pub fn compare_numeric(
    reference: &NumericReference,
    current_sorted: &[f64],
    settings: &CompareSettings,
) -> NumericComparison {
    compare_numeric_selected(reference, current_sorted, settings, &Statistics::ALL)
}

/// [`compare_numeric`] computing only the selected statistics; the others are NaN. KS and
/// Wasserstein share one walk over both samples, the binned statistics share the bins.
pub fn compare_numeric_selected(
    reference: &NumericReference,
    current_sorted: &[f64],
    settings: &CompareSettings,
    statistics: &Statistics,
) -> NumericComparison {
    let (reference_counts, current_counts, edges, zero_fill) = match &reference.edges {
        Some(edges) => (
            count_right_closed_sorted(&reference.sorted, edges),
            count_right_closed_sorted(current_sorted, edges),
            edges.clone(),
            ZeroFill::Epsilon(settings.epsilon),
        ),
        None => {
            let bins = evidently_bins(&reference.sorted, current_sorted);
            (bins.reference, bins.current, bins.edges, ZeroFill::Evidently)
        }
    };
    let (mut values, _) =
        binned_statistics(&reference_counts, &current_counts, zero_fill, settings.epsilon, statistics, true);
    let mut walk_ks = None;
    if statistics.contains(Statistic::Ks) || statistics.contains(Statistic::Wasserstein) {
        let (ks, wasserstein) = ks_and_wasserstein(&reference.sorted, current_sorted);
        set_walk_values(&mut values, statistics, &ks, wasserstein, reference.std);
        walk_ks = Some(ks);
    }
    NumericComparison {
        bins: Bins { n_bins: reference_counts.len(), reference_counts, current_counts, edges },
        values,
        walk_ks,
    }
}

/// Stores the merged walk's results (KS, Wasserstein) for the selected ones of the two.
pub fn set_walk_values(values: &mut StatValues, statistics: &Statistics, ks: &KsResult, wasserstein: f64, std: f64) {
    if statistics.contains(Statistic::Ks) {
        values.set(Stat::KsStatistic, ks.statistic);
        values.set(Stat::KsPValue, ks.p_value);
    }
    if statistics.contains(Statistic::Wasserstein) {
        values.set(Stat::Wasserstein, wasserstein);
        values.set(Stat::WassersteinNormalized, normalised(wasserstein, std));
    }
}

/// KS and Wasserstein from one merged walk of the two sorted samples (each alone is a full
/// pass over n + m values; the walk dominates their cost). Same results as
/// [`ks_2samp_sorted`] and [`wasserstein_sorted`].
fn ks_and_wasserstein(reference: &[f64], current: &[f64]) -> (KsResult, f64) {
    let (n1, n2) = (reference.len(), current.len());
    if n1 == 0 || n2 == 0 {
        return (ks_2samp_sorted(reference, current), wasserstein_sorted(reference, current));
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let mut extremes = CdfDifferenceExtremes::new(n1, n2);
    let wasserstein = pairwise_sum_iter(
        n1 + n2 - 1,
        &mut MergedSteps::new(reference, current).map(|(value, i, j, next)| {
            extremes.observe(value, i, j, next);
            wasserstein::term(i, j, f1, f2, value, next)
        }),
    );
    let (statistic, p_value, method) = ks_p_value(n1 as u64, n2 as u64, extremes.statistic());
    (KsResult { statistic, p_value, method }, wasserstein)
}

/// Every selected [`Compute::Bins`] statistic that applies to the column type, from aligned
/// bin counts; also the degrees of freedom of a test among them.
pub fn binned_statistics(
    reference: &[u64],
    current: &[u64],
    zero_fill: ZeroFill,
    epsilon: f64,
    statistics: &Statistics,
    numeric: bool,
) -> (StatValues, Option<u64>) {
    let reference_shares = proportions(reference);
    let current_shares = proportions(current);
    let bins = BinCounts {
        reference,
        current,
        reference_shares: &reference_shares,
        current_shares: &current_shares,
        zero_fill,
        epsilon,
    };
    let mut values = StatValues::default();
    let mut dof = None;
    for spec in statistics.for_columns(numeric) {
        if let Compute::Bins(compute) = spec.compute {
            let outcome = compute(&bins);
            values.set_outcome(spec.statistic, &outcome);
            dof = dof.or(outcome.dof);
        }
    }
    (values, dof)
}

/// A categorical reference: label counts sorted by label bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalReference {
    pub counts: Vec<(String, u64)>,
}

impl CategoricalReference {
    pub fn from_counts(counts: Vec<(String, u64)>) -> Self {
        CategoricalReference { counts }
    }
}

/// The selected statistics of a categorical column.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalComparison {
    /// Categories of the union, sorted by label bytes; the bin counts follow this order.
    pub categories: Vec<String>,
    pub bins: Bins,
    /// By [`Stat`]; NaN for statistics not selected or undefined.
    pub values: StatValues,
    /// Chi-square's degrees of freedom (categories − 1), when it was selected.
    pub chisquare_dof: Option<u64>,
}

/// Compare current label counts (sorted by label bytes) with a non-empty reference.
pub fn compare_categorical(
    reference: &CategoricalReference,
    current: &[(String, u64)],
    settings: &CompareSettings,
    statistics: &Statistics,
) -> CategoricalComparison {
    let (categories, reference_counts, current_counts) = align_categories(&reference.counts, current);
    let zero_fill = match settings.binning {
        Binning::Evidently => ZeroFill::Evidently,
        _ => ZeroFill::Epsilon(settings.epsilon),
    };
    let (values, chisquare_dof) =
        binned_statistics(&reference_counts, &current_counts, zero_fill, settings.epsilon, statistics, false);
    CategoricalComparison {
        bins: Bins { n_bins: categories.len(), reference_counts, current_counts, edges: Vec::new() },
        categories,
        values,
        chisquare_dof,
    }
}

/// Merge two label-sorted count lists into the sorted union with aligned counts.
pub fn align_categories(a: &[(String, u64)], b: &[(String, u64)]) -> (Vec<String>, Vec<u64>, Vec<u64>) {
    let mut labels = Vec::with_capacity(a.len().max(b.len()));
    let (mut ca, mut cb) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.as_bytes().cmp(y.0.as_bytes()),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                labels.push(a[i].0.clone());
                ca.push(a[i].1);
                cb.push(0);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                labels.push(b[j].0.clone());
                ca.push(0);
                cb.push(b[j].1);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                labels.push(a[i].0.clone());
                ca.push(a[i].1);
                cb.push(b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    (labels, ca, cb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|(l, c)| (l.to_string(), *c)).collect()
    }

    #[test]
    fn aligns_new_and_vanished_categories() {
        let (cats, a, b) = align_categories(&labels(&[("a", 3), ("c", 1)]), &labels(&[("b", 2), ("c", 5)]));
        assert_eq!(cats, vec!["a", "b", "c"]);
        assert_eq!(a, vec![3, 0, 1]);
        assert_eq!(b, vec![0, 2, 5]);
    }

    #[test]
    fn fused_walk_matches_the_separate_statistics() {
        let a: Vec<f64> = (0..3000).map(|i| ((i * 7919) % 1013) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..2000).map(|i| ((i * 104729) % 997) as f64 / 9.0 + 3.0).collect();
        let (a, b) = (sorted_copy(a), sorted_copy(b));
        let (ks, w) = ks_and_wasserstein(&a, &b);
        assert_eq!(ks, ks_2samp_sorted(&a, &b));
        assert_eq!(w.to_bits(), wasserstein_sorted(&a, &b).to_bits());
    }

    fn sorted_copy(mut v: Vec<f64>) -> Vec<f64> {
        sort_floats(&mut v);
        v
    }

    #[test]
    fn identical_samples_show_no_drift() {
        let values: Vec<f64> = (0..500).map(|i| ((i * 37) % 101) as f64).collect();
        let reference = NumericReference::fit(values.clone(), &Binning::default());
        let mut current = values;
        sort_floats(&mut current);
        let cmp = compare_numeric(&reference, &current, &CompareSettings::default());
        assert_eq!(cmp.values.get(Stat::Psi), 0.0);
        assert_eq!(cmp.values.get(Stat::JensenShannon), 0.0);
        assert_eq!(cmp.values.get(Stat::Hellinger), 0.0);
        assert_eq!(cmp.values.get(Stat::Wasserstein), 0.0);
        assert_eq!(cmp.bins.n_bins, 10);
        assert_eq!(cmp.bins.reference_counts.iter().sum::<u64>(), 500);
    }
}
