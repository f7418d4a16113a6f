//! Expected calibration error over 10 equal-width bins of the predicted probability:
//! `Σ_b (n_b / n) · |mean(y in b) − mean(p in b)|` over the non-empty bins. Bins are
//! right-closed, `(e_b, e_b+1]`, with 0 in the first: the bins of
//! `sklearn.calibration.calibration_curve(y, p, n_bins=10)` (`np.searchsorted` on the inner
//! edges of `np.linspace(0, 1, 11)`), whose per-bin means this reproduces (scikit-learn has no
//! ECE function; the reference script's formula is in docs/performance.md).

use crate::stats::numeric::{linspace, pairwise_sum_iter};

/// Number of bins.
pub const BINS: usize = 10;

/// ECE of probabilities in [0, 1] against `targets`; NaN with no pairs.
pub fn expected_calibration_error(targets: &[bool], probabilities: &[f64]) -> f64 {
    let n = probabilities.len();
    if n == 0 {
        return f64::NAN;
    }
    let edges = linspace(0.0, 1.0, BINS + 1);
    let inner = &edges[1..BINS];
    // np.bincount sums each bin's weights in input order.
    let (mut sums, mut positives, mut counts) = ([0.0f64; BINS], [0.0f64; BINS], [0u64; BINS]);
    for (&t, &p) in targets.iter().zip(probabilities) {
        // searchsorted(side="left"): the number of inner edges strictly below p.
        let bin = inner.partition_point(|&e| e < p);
        sums[bin] += p;
        positives[bin] += if t { 1.0 } else { 0.0 };
        counts[bin] += 1;
    }
    let occupied: Vec<usize> = (0..BINS).filter(|&b| counts[b] > 0).collect();
    let mut terms = occupied.iter().map(|&b| {
        let total = counts[b] as f64;
        let (prob_true, prob_pred) = (positives[b] / total, sums[b] / total);
        total / n as f64 * (prob_true - prob_pred).abs()
    });
    pairwise_sum_iter(occupied.len(), &mut terms)
}
