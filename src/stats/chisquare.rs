//! Pearson's chi-square goodness-of-fit test of current category counts against the
//! reference category proportions, as `scipy.stats.chisquare(observed, expected)`; the
//! computation, step by step, is on [`chisquare_counts`].

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::numeric::{pairwise_sum, pairwise_sum_iter};

/// Result of [`chisquare_counts`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareResult {
    pub statistic: f64,
    pub p_value: f64,
    /// Degrees of freedom: categories − 1.
    pub dof: u64,
}

/// Chi-square test from aligned category counts (same category order in both slices).
///
/// Over the k categories of the union (reference ∪ current): `observed_i` = current count;
/// reference proportions `r_i = ref_count_i / n_ref`, with categories unseen in the reference
/// given `epsilon` (default 1e-4) and then all proportions renormalised to sum 1;
/// `expected_i = n_cur · r_i`; `χ² = Σ (observed_i − expected_i)² / expected_i` (numpy
/// pairwise sum, as `scipy.stats.chisquare(observed, expected)`), p = `chi2.sf(χ², k − 1)` via
/// statrs. One category gives χ² = 0 with a NaN p-value (0 degrees of freedom), as scipy;
/// `None` (undefined) when there is no category or either sample is empty.
pub fn chisquare_counts(reference: &[u64], current: &[u64], epsilon: f64) -> Option<ChiSquareResult> {
    let k = reference.len();
    let n_ref: u64 = reference.iter().sum();
    let n_cur: u64 = current.iter().sum();
    // One category: observed = expected, statistic 0 with 0 degrees of freedom, whose p-value
    // is undefined (NaN) — what `scipy.stats.chisquare([n], [n])` returns.
    if k == 0 || n_ref == 0 || n_cur == 0 {
        return None;
    }
    let raw: Vec<f64> = reference.iter().map(|&c| if c > 0 { c as f64 / n_ref as f64 } else { epsilon }).collect();
    let total = pairwise_sum(&raw);
    let n_cur = n_cur as f64;
    let statistic = pairwise_sum_iter(
        k,
        &mut raw.iter().zip(current).map(|(&r, &o)| {
            let expected = n_cur * (r / total);
            let d = o as f64 - expected;
            d * d / expected
        }),
    );
    let dof = (k - 1) as u64;
    let p_value = chi2_sf(statistic, dof as f64);
    Some(ChiSquareResult { statistic, p_value, dof })
}

/// Survival function of the χ² distribution with `dof` degrees of freedom.
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    match ChiSquared::new(dof) {
        Ok(dist) => dist.sf(x).clamp(0.0, 1.0),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_chisquare() {
        // python3 -c "import numpy as np, scipy.stats as s; r=np.array([50,30,20])/100; e=120*r/r.sum(); print(s.chisquare([40,50,30], e))"
        // -> statistic=13.61111111111111, pvalue=0.001107604664237375
        let r = chisquare_counts(&[50, 30, 20], &[40, 50, 30], 1e-4).unwrap();
        assert_eq!(r.dof, 2);
        assert!((r.statistic - 13.61111111111111).abs() <= 1e-12 * 13.7, "{}", r.statistic);
        assert!((r.p_value - 0.001107604664237375).abs() <= 1e-9 * 0.0011, "{}", r.p_value);
    }

    #[test]
    fn a_single_category_has_statistic_zero_and_no_p_value_as_scipy() {
        // python3 -c "import scipy.stats as s; print(s.chisquare([7], [7.0]))"
        // -> Power_divergenceResult(statistic=np.float64(0.0), pvalue=np.float64(nan))
        let r = chisquare_counts(&[5], &[7], 1e-4).unwrap();
        assert_eq!((r.statistic, r.dof), (0.0, 0));
        assert!(r.p_value.is_nan());
        assert_eq!(chisquare_counts(&[0, 0], &[1, 2], 1e-4), None, "an empty reference");
        assert_eq!(chisquare_counts(&[], &[], 1e-4), None, "no category");
    }
}
