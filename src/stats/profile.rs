//! Reference profiles and the comparison of a current sample against them.
//!
//! A reference is fit once ([`NumericReference::fit`], [`CategoricalReference::from_counts`])
//! and then compared with any number of current samples — the offline `compare` command does it
//! once, the daemon once per window. Fitting freezes what does not depend on the current data:
//! the sorted sample (KS, Wasserstein), the population std (normalised Wasserstein, computed in
//! file order as numpy does), and the interior bin edges of frozen binnings.
//!
//! Comparisons return every statistic with its inputs (bin counts), so callers can show
//! per-bin evidence; verdicts are applied separately ([`super::verdict`]).

use super::binning::{count_right_closed_sorted, evidently_bins, Binning};
use super::chisquare::{chisquare_counts, ChiSquareResult};
use super::divergence::{hellinger_distance, jensen_shannon_distance};
use super::ks::{ks_2samp_sorted, ks_p_value, CdfDifferenceExtremes, KsResult};
use super::merge::MergedSteps;
use super::numeric::{pairwise_sum_iter, std_population};
use super::psi::{fill_zeros, proportions, psi_from_proportions, ZeroFill};
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

/// Which statistics to compute (all by default). Chi-square applies to categorical columns,
/// KS and Wasserstein to numeric ones; PSI, Jensen–Shannon and Hellinger to both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statistics {
    pub psi: bool,
    pub ks: bool,
    pub chisquare: bool,
    pub jensen_shannon: bool,
    pub wasserstein: bool,
    pub hellinger: bool,
}

impl Statistics {
    pub const ALL: Statistics =
        Statistics { psi: true, ks: true, chisquare: true, jensen_shannon: true, wasserstein: true, hellinger: true };
    pub const NONE: Statistics = Statistics {
        psi: false,
        ks: false,
        chisquare: false,
        jensen_shannon: false,
        wasserstein: false,
        hellinger: false,
    };
    pub const NAMES: [&'static str; 6] = ["psi", "ks", "chisquare", "jensen_shannon", "wasserstein", "hellinger"];

    /// Whether the statistic called `name` (one of [`Self::NAMES`]) is selected.
    pub fn contains(&self, name: &str) -> bool {
        match name {
            "psi" => self.psi,
            "ks" => self.ks,
            "chisquare" => self.chisquare,
            "jensen_shannon" => self.jensen_shannon,
            "wasserstein" => self.wasserstein,
            "hellinger" => self.hellinger,
            _ => false,
        }
    }
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics::ALL
    }
}

impl std::str::FromStr for Statistics {
    type Err = String;

    /// A comma-separated list of [`Statistics::NAMES`] (`js` and `jensen-shannon` accepted), or `all`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim() == "all" {
            return Ok(Statistics::ALL);
        }
        let mut selected = Statistics::NONE;
        for name in text.split(',').map(str::trim) {
            match name {
                "psi" => selected.psi = true,
                "ks" => selected.ks = true,
                "chisquare" | "chi2" => selected.chisquare = true,
                "jensen_shannon" | "jensen-shannon" | "js" => selected.jensen_shannon = true,
                "wasserstein" => selected.wasserstein = true,
                "hellinger" => selected.hellinger = true,
                other => {
                    return Err(format!(
                        "unknown statistic {other:?} (expected all or a list of {})",
                        Self::NAMES.join(", ")
                    ))
                }
            }
        }
        Ok(selected)
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

/// PSI with the bins it was computed on.
#[derive(Debug, Clone, PartialEq)]
pub struct PsiResult {
    pub value: f64,
    pub n_bins: usize,
    /// Bin counts of the reference and the current sample (same order).
    pub reference_counts: Vec<u64>,
    pub current_counts: Vec<u64>,
    /// Interior edges (frozen binnings) or all Sturges edges (evidently, histogram branch);
    /// empty for per-value / categorical bins.
    pub edges: Vec<f64>,
}

/// Every statistic of a numeric column.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericComparison {
    pub psi: PsiResult,
    pub ks: KsResult,
    pub jensen_shannon: f64,
    pub hellinger: f64,
    pub wasserstein: f64,
    pub wasserstein_normalised: f64,
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
/// Wasserstein share one walk over both samples, PSI / Jensen–Shannon / Hellinger share the bins.
pub fn compare_numeric_selected(
    reference: &NumericReference,
    current_sorted: &[f64],
    settings: &CompareSettings,
    statistics: &Statistics,
) -> NumericComparison {
    let (ks, wasserstein) = if statistics.ks || statistics.wasserstein {
        ks_and_wasserstein(&reference.sorted, current_sorted)
    } else {
        (KsResult { statistic: f64::NAN, p_value: f64::NAN, method: super::ks::KsMethod::Asymp }, f64::NAN)
    };
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
    let (psi, jensen_shannon, hellinger) = binned_statistics(&reference_counts, &current_counts, zero_fill);
    NumericComparison {
        psi: PsiResult { value: psi, n_bins: reference_counts.len(), reference_counts, current_counts, edges },
        ks,
        jensen_shannon,
        hellinger,
        wasserstein,
        wasserstein_normalised: normalised(wasserstein, reference.std),
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

/// PSI (with the given zero fill), Jensen–Shannon and Hellinger (on raw proportions) of
/// aligned bin counts.
fn binned_statistics(reference: &[u64], current: &[u64], zero_fill: ZeroFill) -> (f64, f64, f64) {
    let r = proportions(reference);
    let c = proportions(current);
    let js = jensen_shannon_distance(&r, &c);
    let hellinger = hellinger_distance(&r, &c);
    let (mut r_filled, mut c_filled) = (r, c);
    fill_zeros(&mut r_filled, zero_fill);
    fill_zeros(&mut c_filled, zero_fill);
    (psi_from_proportions(&r_filled, &c_filled), js, hellinger)
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

/// Every statistic of a categorical column.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalComparison {
    /// Categories of the union, sorted by label bytes; `psi` counts follow this order.
    pub categories: Vec<String>,
    pub psi: PsiResult,
    pub chisquare: Option<ChiSquareResult>,
    pub jensen_shannon: f64,
    pub hellinger: f64,
}

/// Compare current label counts (sorted by label bytes) with a non-empty reference.
pub fn compare_categorical(
    reference: &CategoricalReference,
    current: &[(String, u64)],
    settings: &CompareSettings,
) -> CategoricalComparison {
    let (categories, reference_counts, current_counts) = align_categories(&reference.counts, current);
    let zero_fill = match settings.binning {
        Binning::Evidently => ZeroFill::Evidently,
        _ => ZeroFill::Epsilon(settings.epsilon),
    };
    let (psi, jensen_shannon, hellinger) = binned_statistics(&reference_counts, &current_counts, zero_fill);
    let chisquare = chisquare_counts(&reference_counts, &current_counts, settings.epsilon);
    CategoricalComparison {
        psi: PsiResult { value: psi, n_bins: categories.len(), reference_counts, current_counts, edges: Vec::new() },
        categories,
        chisquare,
        jensen_shannon,
        hellinger,
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
        assert_eq!(cmp.psi.value, 0.0);
        assert_eq!(cmp.jensen_shannon, 0.0);
        assert_eq!(cmp.hellinger, 0.0);
        assert_eq!(cmp.wasserstein, 0.0);
        assert_eq!(cmp.psi.n_bins, 10);
        assert_eq!(cmp.psi.reference_counts.iter().sum::<u64>(), 500);
    }
}
