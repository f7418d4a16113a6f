//! Kullback–Leibler divergence `KL(r ‖ c) = Σ r_i · ln(r_i / c_i)` of two binned distributions,
//! as `scipy.stats.entropy(r, c)`: both vectors are first renormalised to sum 1, each term is
//! scipy's `rel_entr` (bit-compatible, see `divergence.rs`), the sum is numpy's pairwise sum.
//!
//! driftd computes it on the PSI's bins with the PSI's zero fill, which makes it finite and is
//! exactly Evidently 0.7's `kl_div` stattest (`stats.entropy` of `get_binned_data`'s shares).
//! Not symmetric; 0 for identical inputs; NaN when either vector sums to 0.

use super::divergence::rel_entr;
use super::numeric::{pairwise_sum, pairwise_sum_iter};

/// `scipy.stats.entropy(p, q)`.
pub fn kullback_leibler_divergence(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (pairwise_sum(p), pairwise_sum(q));
    if sp == 0.0 || sq == 0.0 {
        return f64::NAN;
    }
    pairwise_sum_iter(p.len(), &mut p.iter().zip(q).map(|(&x, &y)| rel_entr(x / sp, y / sq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_entropy() {
        // python3 -c "import scipy.stats; print(repr(scipy.stats.entropy([0.3,0.5,0.2],[0.1,0.6,0.3])))"
        // -> np.float64(0.15732988658182273)
        assert_eq!(kullback_leibler_divergence(&[0.3, 0.5, 0.2], &[0.1, 0.6, 0.3]), 0.15732988658182273);
        // Unnormalised inputs are renormalised first, as scipy does:
        // python3 -c "import scipy.stats; print(repr(scipy.stats.entropy([0.3,0.5,0.2,1e-4],[0.1,0.6,0.3,0.2])))"
        // -> np.float64(0.3387757027153975)
        assert_eq!(kullback_leibler_divergence(&[0.3, 0.5, 0.2, 1e-4], &[0.1, 0.6, 0.3, 0.2]), 0.3387757027153975);
        // python3 -c "import scipy.stats; print(repr(scipy.stats.entropy([2,0],[1,1])))" -> 0.6931471805599453 (ln 2)
        assert_eq!(kullback_leibler_divergence(&[2.0, 0.0], &[1.0, 1.0]), std::f64::consts::LN_2);
        assert_eq!(kullback_leibler_divergence(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        assert!(kullback_leibler_divergence(&[0.0, 0.0], &[0.5, 0.5]).is_nan());
    }
}
