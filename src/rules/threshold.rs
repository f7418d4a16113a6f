//! Thresholds computed per window: the sample-size-aware PSI bound and multiple-testing
//! corrections of p-values across a rule's features.
//!
//! Pure functions of numbers. Invariants: undefined inputs (too few bins, empty samples,
//! α outside (0, 1)) give `None`, never a panic or a NaN threshold; a NaN p-value is never
//! rejected and does not count in the family size (the caller drops it beforehand).

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF};

/// Yurdakul (2018), "Statistical properties of population stability index": under the null
/// hypothesis, PSI·(1/n_ref + 1/n_cur)⁻¹ is approximately χ² with B − 1 degrees of freedom,
/// so a PSI above `χ²_{1−α, B−1} · (1/n_ref + 1/n_cur)` is significant at level α. Unlike a
/// fixed 0.25, the bound shrinks as the samples grow.
pub fn yurdakul_psi_threshold(alpha: f64, n_bins: usize, n_ref: u64, n_cur: u64) -> Option<f64> {
    if !(alpha > 0.0 && alpha < 1.0) || n_bins < 2 || n_ref == 0 || n_cur == 0 {
        return None;
    }
    let chi2 = ChiSquared::new((n_bins - 1) as f64).ok()?;
    // statrs inverts the CDF numerically to about 1e-10 relative; two Newton steps on its
    // (accurate) CDF bring the quantile to scipy's `chi2.ppf` within a few ulps.
    let p = 1.0 - alpha;
    let mut quantile = chi2.inverse_cdf(p);
    for _ in 0..2 {
        let density = chi2.pdf(quantile);
        if density > 0.0 && density.is_finite() {
            quantile -= (chi2.cdf(quantile) - p) / density;
        }
    }
    let bound = quantile * (1.0 / n_ref as f64 + 1.0 / n_cur as f64);
    bound.is_finite().then_some(bound)
}

/// The outcome of a correction for one p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Corrected {
    pub rejected: bool,
    /// The p-value threshold that applied: α/m (Bonferroni), the BH cut-off `k/m·α` (or α/m
    /// when nothing is rejected).
    pub threshold: f64,
}

/// Bonferroni: reject H_i when p_i ≤ α/m (m = number of p-values). Controls the family-wise
/// error rate at α.
pub fn bonferroni(p_values: &[f64], alpha: f64) -> Vec<Corrected> {
    let m = p_values.len().max(1) as f64;
    let threshold = alpha / m;
    p_values.iter().map(|&p| Corrected { rejected: p <= threshold, threshold }).collect()
}

/// Benjamini–Hochberg (1995): sort p ascending p_(1) ≤ … ≤ p_(m); k = max{ i : p_(i) ≤ i/m·α };
/// reject the k smallest. Controls the false discovery rate at α (independent or positively
/// dependent tests). Ties keep input order; all tied values fall on the same side of the cut.
pub fn benjamini_hochberg(p_values: &[f64], alpha: f64) -> Vec<Corrected> {
    let m = p_values.len();
    if m == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let k = (1..=m).rev().find(|&i| p_values[order[i - 1]] <= i as f64 / m as f64 * alpha).unwrap_or(0);
    let threshold = if k == 0 { alpha / m as f64 } else { k as f64 / m as f64 * alpha };
    // Rejecting the k smallest equals rejecting p ≤ p_(k); comparing with the threshold would
    // not be the same (a p between p_(k) and k/m·α cannot exist, by maximality of k, so both
    // agree — but the rank form states the procedure as published).
    let mut rejected = vec![false; m];
    for &index in order.iter().take(k) {
        rejected[index] = true;
    }
    rejected.into_iter().map(|rejected| Corrected { rejected, threshold }).collect()
}
