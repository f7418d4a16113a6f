//! Scoring rules on predicted probabilities of the positive class: log loss
//! (`sklearn.metrics.log_loss(y_true, p, labels=[0, 1])`) and the Brier score
//! (`sklearn.metrics.brier_score_loss(y_true, p)`), operation for operation, each row's loss
//! averaged with numpy's pairwise sum. Both take p ∈ [0, 1] (the caller checks; scikit-learn
//! raises otherwise). Log loss clips p to [ε, 1 − ε], ε = f64::EPSILON, as scikit-learn ≥ 1.5
//! does (machine epsilon of the dtype; older releases clipped at 1e-15).

use crate::stats::numeric::pairwise_sum_iter;

/// Mean cross-entropy; 0·log(q) counts as 0. NaN with no pairs.
pub fn log_loss(targets: &[bool], probabilities: &[f64]) -> f64 {
    let eps = f64::EPSILON;
    let clip = |q: f64| q.clamp(eps, 1.0 - eps);
    // scikit-learn stacks [1 - p, p], clips both columns, and sums xlogy(one-hot, column)
    // over the row: exactly one term is non-zero (the other is xlogy(0, q) = 0).
    let row = |(&t, &p): (&bool, &f64)| {
        let (negative, positive) = (clip(1.0 - p), clip(p));
        let (a, b) = if t { (0.0, positive.ln()) } else { (negative.ln(), 0.0) };
        -(a + b)
    };
    mean(targets.len(), &mut targets.iter().zip(probabilities).map(row))
}

/// Mean squared difference between the one-hot target and [1 − p, p], halved (scikit-learn's
/// `scale_by_half="auto"` for the binary case): the familiar mean (y − p)², up to rounding.
pub fn brier_score(targets: &[bool], probabilities: &[f64]) -> f64 {
    let row = |(&t, &p): (&bool, &f64)| {
        let y = if t { 1.0 } else { 0.0 };
        let (a, b) = ((1.0 - y) - (1.0 - p), y - p);
        a * a + b * b
    };
    mean(targets.len(), &mut targets.iter().zip(probabilities).map(row)) * 0.5
}

/// `np.average` of `n` terms: pairwise sum, then one division.
fn mean(n: usize, terms: &mut impl Iterator<Item = f64>) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    pairwise_sum_iter(n, terms) / n as f64
}
