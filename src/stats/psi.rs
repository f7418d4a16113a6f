//! Population Stability Index: `PSI = Σ_i (r_i − c_i) · ln(r_i / c_i)` over bins, `r_i`, `c_i`
//! the reference and current proportions (counts / sample size).
//!
//! Zero proportions would make the logarithm infinite, so they are replaced first, without
//! renormalising ([`ZeroFill`]). The sum is numpy's pairwise sum of `(r - c) * np.log(r / c)`,
//! in that operand order ([`psi_from_proportions`]), so the value is bit-compatible with the
//! numpy expression and with Evidently's `psi` stattest. PSI ≥ 0 always (each term has the sign
//! of (r − c) twice) and is 0 for identical inputs. Definitions: docs/statistics.md.

use super::numeric::pairwise_sum_iter;

/// Default epsilon for empty bins.
pub const DEFAULT_EPSILON: f64 = 1e-4;

/// How zero proportions are replaced before the logarithm (no renormalisation).
///
/// - [`ZeroFill::Epsilon`] (driftd's default, epsilon = [`DEFAULT_EPSILON`] = 1e-4): every
///   zero becomes epsilon.
/// - [`ZeroFill::Evidently`]: Evidently 0.7's rule, applied to each vector separately: zeros
///   become `min_nonzero / 1e6` when `min_nonzero ≤ 1e-4`, else `1e-4`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ZeroFill {
    Epsilon(f64),
    Evidently,
}

/// Proportions `counts / n` (n = total of the counts). An all-zero input stays all zero.
pub fn proportions(counts: &[u64]) -> Vec<f64> {
    let n: u64 = counts.iter().sum();
    let n = n as f64;
    counts.iter().map(|&c| if n > 0.0 { c as f64 / n } else { 0.0 }).collect()
}

/// Replace zero proportions in place according to `rule`.
pub fn fill_zeros(proportions: &mut [f64], rule: ZeroFill) {
    let fill = match rule {
        ZeroFill::Epsilon(epsilon) => epsilon,
        ZeroFill::Evidently => {
            let min_nonzero = proportions.iter().copied().filter(|&p| p != 0.0).fold(f64::INFINITY, f64::min);
            if min_nonzero <= 1e-4 {
                min_nonzero / 1e6
            } else {
                1e-4
            }
        }
    };
    for p in proportions.iter_mut().filter(|p| **p == 0.0) {
        *p = fill;
    }
}

/// PSI of two proportion vectors of equal length that contain no zeros.
pub fn psi_from_proportions(reference: &[f64], current: &[f64]) -> f64 {
    debug_assert_eq!(reference.len(), current.len());
    pairwise_sum_iter(reference.len(), &mut reference.iter().zip(current).map(|(&r, &c)| (r - c) * (r / c).ln()))
}

/// Per-bin PSI terms `(r − c)·ln(r / c)`: the evidence of which bins moved.
pub fn psi_terms(reference: &[f64], current: &[f64]) -> Vec<f64> {
    reference.iter().zip(current).map(|(&r, &c)| (r - c) * (r / c).ln()).collect()
}

/// PSI from bin counts: proportions, zero fill, sum.
pub fn psi_from_counts(reference: &[u64], current: &[u64], rule: ZeroFill) -> f64 {
    let mut r = proportions(reference);
    let mut c = proportions(current);
    fill_zeros(&mut r, rule);
    fill_zeros(&mut c, rule);
    psi_from_proportions(&r, &c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_matches_numpy_expression() {
        // python3 -c "import numpy as np; r=np.array([30,50,20])/100; c=np.array([10,60,30])/100; print(repr(np.sum((r-c)*np.log(r/c))))"
        // -> 0.2785011242238338
        assert_eq!(psi_from_counts(&[30, 50, 20], &[10, 60, 30], ZeroFill::Epsilon(1e-4)), 0.2785011242238338);
    }

    #[test]
    fn zero_bins_use_epsilon_without_renormalising() {
        // python3 -c "import numpy as np; r=np.array([0.5,0.5,1e-4]); c=np.array([0.25,0.5,0.25]); print(repr(np.sum((r-c)*np.log(r/c))))"
        // -> 2.1285158932529735
        assert_eq!(psi_from_counts(&[2, 2, 0], &[1, 2, 1], ZeroFill::Epsilon(1e-4)), 2.1285158932529735);
    }

    #[test]
    fn evidently_zero_fill_depends_on_smallest_nonzero() {
        let mut big = vec![0.5, 0.5, 0.0];
        fill_zeros(&mut big, ZeroFill::Evidently);
        assert_eq!(big[2], 1e-4);
        let mut small = vec![0.99995, 0.00005, 0.0];
        fill_zeros(&mut small, ZeroFill::Evidently);
        assert_eq!(small[2], 0.00005 / 1e6);
    }
}
