//! Binning: how numeric values become the bins that PSI, Jensen–Shannon and Hellinger compare.
//!
//! Two families ([`Binning`]): *frozen* binnings (`quantile`, `equal-width:N`, `edges:…`) cut
//! the line at interior edges computed from the reference alone, so a live window only needs
//! bin counts; `evidently` depends on the current sample too. All functions take samples
//! sorted ascending and free of NaN/inf. Rules with their numpy calls: on [`Binning`];
//! docs/statistics.md, "Binnings".

use std::fmt;
use std::str::FromStr;

use super::numeric::{linspace, quantile_linear_sorted, sturges_bin_count, sturges_outer_edges};

/// Evidently switches from per-value bins to Sturges bins above this many distinct reference values.
pub const EVIDENTLY_MAX_DISCRETE_VALUES: usize = 20;

/// A numeric binning rule, as given on the command line (`--psi-binning`) or in a config.
///
/// - *Frozen* binnings (`quantile`, `equal-width:N`, `edges:…`) cut the line at interior edges
///   `e_1 ≤ … ≤ e_k` computed from the reference alone, so a live window only needs bin
///   counts. Bins are right-closed with open outer bins:
///   `(−inf, e_1], (e_1, e_2], …, (e_k, +inf)`; a value's bin is the number of edges strictly
///   below it (`np.searchsorted(edges, v, side="left")`). Tied edges are kept (their bins are
///   always empty on both sides and contribute nothing).
/// - `evidently` reproduces Evidently 0.7's `get_binned_data`: Sturges equal-width bins over
///   reference ∪ current (numpy's `histogram_bin_edges(..., bins="sturges")`, left-closed bins,
///   the last one closed) when the reference has more than
///   [`EVIDENTLY_MAX_DISCRETE_VALUES`] distinct values, otherwise one bin per distinct value of
///   the union. It depends on the current sample, so it is not frozen.
#[derive(Debug, Clone, PartialEq)]
pub enum Binning {
    /// `quantile[:N]`: edges at the reference quantiles i/N, i = 1..N−1 (default N = 10).
    Quantile { bins: usize },
    /// `equal-width:N`: edges `np.linspace(ref.min(), ref.max(), N + 1)[1:-1]`.
    EqualWidth { bins: usize },
    /// `edges:a,b,c`: explicit interior edges (sorted ascending).
    Edges(Vec<f64>),
    /// `evidently`: Evidently 0.7's rule (see above).
    Evidently,
}

impl Default for Binning {
    fn default() -> Self {
        Binning::Quantile { bins: 10 }
    }
}

/// Why a binning specification was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BinningParseError {
    #[error("unknown binning {0:?} (expected quantile, quantile:N, equal-width:N, edges:a,b,… or evidently)")]
    Unknown(String),
    #[error("bin count in {0:?} must be an integer between 2 and 10000")]
    BadCount(String),
    #[error("edges in {0:?} must be finite numbers in ascending order, at least one")]
    BadEdges(String),
}

impl FromStr for Binning {
    type Err = BinningParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (name, arg) = match spec.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (spec, None),
        };
        let count = |arg: Option<&str>, default: Option<usize>| -> Result<usize, BinningParseError> {
            match arg {
                None => default.ok_or_else(|| BinningParseError::BadCount(spec.to_string())),
                Some(text) => match text.trim().parse::<usize>() {
                    Ok(n) if (2..=10_000).contains(&n) => Ok(n),
                    _ => Err(BinningParseError::BadCount(spec.to_string())),
                },
            }
        };
        match name.trim() {
            "quantile" => Ok(Binning::Quantile { bins: count(arg, Some(10))? }),
            "equal-width" => Ok(Binning::EqualWidth { bins: count(arg, None)? }),
            "evidently" if arg.is_none() => Ok(Binning::Evidently),
            "edges" => {
                let bad = || BinningParseError::BadEdges(spec.to_string());
                let edges = arg
                    .ok_or_else(bad)?
                    .split(',')
                    .map(|t| t.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
                    .collect::<Option<Vec<f64>>>()
                    .ok_or_else(bad)?;
                if edges.is_empty() || edges.windows(2).any(|w| w[0] > w[1]) {
                    return Err(bad());
                }
                Ok(Binning::Edges(edges))
            }
            _ => Err(BinningParseError::Unknown(spec.to_string())),
        }
    }
}

impl fmt::Display for Binning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binning::Quantile { bins: 10 } => write!(f, "quantile"),
            Binning::Quantile { bins } => write!(f, "quantile:{bins}"),
            Binning::EqualWidth { bins } => write!(f, "equal-width:{bins}"),
            Binning::Edges(edges) => {
                write!(f, "edges:")?;
                for (i, e) in edges.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{e:?}")?;
                }
                Ok(())
            }
            Binning::Evidently => write!(f, "evidently"),
        }
    }
}

impl Binning {
    /// The frozen interior edges for a reference sample (sorted, non-empty), or `None` for
    /// `evidently`, whose bins depend on the current sample too.
    pub fn frozen_edges(&self, sorted_reference: &[f64]) -> Option<Vec<f64>> {
        match self {
            Binning::Quantile { bins } => {
                Some((1..*bins).map(|i| quantile_linear_sorted(sorted_reference, i as f64 / *bins as f64)).collect())
            }
            Binning::EqualWidth { bins } => {
                let min = sorted_reference[0];
                let max = sorted_reference[sorted_reference.len() - 1];
                let all = linspace(min, max, bins + 1);
                Some(all[1..*bins].to_vec())
            }
            Binning::Edges(edges) => Some(edges.clone()),
            Binning::Evidently => None,
        }
    }
}

/// Counts of a sorted sample in the right-closed bins of `edges` (`edges.len() + 1` bins).
/// O(k log n) with binary searches, so a 1M-value column costs microseconds.
pub fn count_right_closed_sorted(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut below = 0usize; // values in bins already emitted (all ≤ the previous edge)
    for &edge in edges {
        let upto = sorted.partition_point(|&v| v <= edge);
        counts.push((upto - below) as u64);
        below = upto;
    }
    counts.push((sorted.len() - below) as u64);
    counts
}

/// The bin of one value for right-closed `edges`: the number of edges strictly below it.
/// This is the per-record path of a live window.
pub fn right_closed_bin(edges: &[f64], value: f64) -> usize {
    edges.partition_point(|&e| e < value)
}

/// Bin counts of Evidently 0.7's `get_binned_data` for a numeric column.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidentlyBins {
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
    /// Sturges edges (bins + 1 values) in the histogram branch, empty in the per-value branch.
    pub edges: Vec<f64>,
    /// The distinct values of the union (one bin each) in the per-value branch.
    pub values: Vec<f64>,
}

/// Evidently's binning of two sorted, non-empty samples.
pub fn evidently_bins(sorted_reference: &[f64], sorted_current: &[f64]) -> EvidentlyBins {
    if count_distinct_sorted(sorted_reference) > EVIDENTLY_MAX_DISCRETE_VALUES {
        let min = sorted_reference[0].min(sorted_current[0]);
        let max = sorted_reference[sorted_reference.len() - 1].max(sorted_current[sorted_current.len() - 1]);
        let size = sorted_reference.len() + sorted_current.len();
        let bins = sturges_bin_count(size, min, max);
        let (first, last) = sturges_outer_edges(min, max);
        let edges = linspace(first, last, bins + 1);
        EvidentlyBins {
            reference: histogram_sorted(sorted_reference, &edges),
            current: histogram_sorted(sorted_current, &edges),
            edges,
            values: Vec::new(),
        }
    } else {
        let values = distinct_union_sorted(sorted_reference, sorted_current);
        EvidentlyBins {
            reference: count_per_value_sorted(sorted_reference, &values),
            current: count_per_value_sorted(sorted_current, &values),
            edges: Vec::new(),
            values,
        }
    }
}

/// `np.histogram(sorted, bins=edges)[0]`: bins `[e_i, e_{i+1})`, the last one closed;
/// values outside `[e_0, e_last]` are not counted (numpy's semantics).
pub fn histogram_sorted(sorted: &[f64], edges: &[f64]) -> Vec<u64> {
    let last = edges.len() - 1;
    let cumulative: Vec<usize> = edges
        .iter()
        .enumerate()
        .map(|(i, &e)| if i == last { sorted.partition_point(|&v| v <= e) } else { sorted.partition_point(|&v| v < e) })
        .collect();
    cumulative.windows(2).map(|w| (w[1] - w[0]) as u64).collect()
}

/// Number of distinct values in a sorted sample.
pub fn count_distinct_sorted(sorted: &[f64]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0] != w[1]).count()
}

/// Distinct values of the union of two sorted samples, ascending.
fn distinct_union_sorted(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = if j >= b.len() || (i < a.len() && a[i] <= b[j]) {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        if out.last() != Some(&next) {
            out.push(next);
        }
    }
    out
}

/// How many times each of `values` (sorted, distinct) occurs in `sorted`.
fn count_per_value_sorted(sorted: &[f64], values: &[f64]) -> Vec<u64> {
    values.iter().map(|&v| (sorted.partition_point(|&x| x <= v) - sorted.partition_point(|&x| x < v)) as u64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_spec() {
        for (spec, expected) in [
            ("quantile", Binning::Quantile { bins: 10 }),
            ("quantile:4", Binning::Quantile { bins: 4 }),
            ("equal-width:7", Binning::EqualWidth { bins: 7 }),
            ("edges:-1,0.5,2", Binning::Edges(vec![-1.0, 0.5, 2.0])),
            ("evidently", Binning::Evidently),
        ] {
            let parsed: Binning = spec.parse().unwrap();
            assert_eq!(parsed, expected);
            assert_eq!(parsed.to_string().parse::<Binning>().unwrap(), expected);
        }
        for bad in ["", "quantiles", "equal-width", "equal-width:1", "edges:", "edges:2,1", "edges:a", "edges:inf"] {
            assert!(bad.parse::<Binning>().is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn right_closed_counts_agree_with_per_value_bins() {
        // python3 -c "import numpy as np; print(np.bincount(np.searchsorted([1.,2.,2.,3.], [0.,1.,1.5,2.,2.5,3.,9.], side='left'), minlength=5))"
        // -> [2 2 0 2 1]
        let edges = [1.0, 2.0, 2.0, 3.0];
        let values = [0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 9.0];
        assert_eq!(count_right_closed_sorted(&values, &edges), vec![2, 2, 0, 2, 1]);
        let mut per_value = vec![0u64; 5];
        for v in values {
            per_value[right_closed_bin(&edges, v)] += 1;
        }
        assert_eq!(per_value, vec![2, 2, 0, 2, 1]);
    }

    #[test]
    fn histogram_closes_last_bin_like_numpy() {
        // python3 -c "import numpy as np; print(np.histogram([0.,1.,1.,2.,3.,4.], bins=[0.,1.,2.,4.])[0])"
        // -> [1 2 3]
        assert_eq!(histogram_sorted(&[0.0, 1.0, 1.0, 2.0, 3.0, 4.0], &[0.0, 1.0, 2.0, 4.0]), vec![1, 2, 3]);
    }

    #[test]
    fn evidently_uses_per_value_bins_for_few_distinct_values() {
        let bins = evidently_bins(&[1.0, 1.0, 2.0, 3.0], &[2.0, 4.0]);
        assert_eq!(bins.values, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(bins.reference, vec![2, 1, 1, 0]);
        assert_eq!(bins.current, vec![0, 1, 0, 1]);
    }
}
