//! Area under the ROC curve as `sklearn.metrics.roc_auc_score(y_true, y_score)` (binary):
//! `roc_curve`'s points (one per distinct score, tied scores together, collinear points
//! dropped as `drop_intermediate=True` does) integrated by `np.trapezoid`, in the same order of
//! operations, so the value is bit-identical. NaN when one class is absent (scikit-learn
//! raises). Needs every score: unlike the confusion counts, it cannot be merged from summaries.

use crate::stats::numeric::pairwise_sum_iter;

/// ROC AUC of `scores` (any real numbers; higher = more positive) against `targets`.
pub fn roc_auc(targets: &[bool], scores: &[f64]) -> f64 {
    let (fps, tps) = roc_points(targets, scores);
    let (Some(&fp_total), Some(&tp_total)) = (fps.last(), tps.last()) else {
        return f64::NAN;
    };
    if fp_total == 0.0 || tp_total == 0.0 {
        return f64::NAN;
    }
    let fpr: Vec<f64> = fps.iter().map(|&f| f / fp_total).collect();
    let tpr: Vec<f64> = tps.iter().map(|&t| t / tp_total).collect();
    // np.trapezoid(tpr, fpr): add.reduce(diff(x) * (y[1:] + y[:-1]) / 2.0).
    let mut terms = (1..fpr.len()).map(|i| (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2.0);
    pairwise_sum_iter(fpr.len() - 1, &mut terms)
}

/// `roc_curve`'s cumulative false and true positive counts, (0, 0) first.
fn roc_points(targets: &[bool], scores: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // _binary_clf_curve: one point at the last index of each run of equal scores.
    let (mut fps, mut tps) = (Vec::new(), Vec::new());
    let mut positives = 0u64;
    for (k, &i) in order.iter().enumerate() {
        positives += u64::from(targets[i]);
        let last_of_run = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_run {
            tps.push(positives as f64);
            fps.push((k as u64 + 1 - positives) as f64);
        }
    }
    let (fps, tps) = drop_intermediate(fps, tps);
    (std::iter::once(0.0).chain(fps).collect(), std::iter::once(0.0).chain(tps).collect())
}

/// `roc_curve(drop_intermediate=True)`: keeps the ends and every point where the second
/// difference of the false or true positive counts is non-zero (drops collinear runs).
fn drop_intermediate(fps: Vec<f64>, tps: Vec<f64>) -> (Vec<f64>, Vec<f64>) {
    let n = fps.len();
    if n <= 2 {
        return (fps, tps);
    }
    let second = |v: &[f64], i: usize| (v[i + 1] - v[i]) - (v[i] - v[i - 1]);
    let keep = |i: usize| i == 0 || i == n - 1 || second(&fps, i) != 0.0 || second(&tps, i) != 0.0;
    let kept: Vec<usize> = (0..n).filter(|&i| keep(i)).collect();
    (kept.iter().map(|&i| fps[i]).collect(), kept.iter().map(|&i| tps[i]).collect())
}
