//! A regressor's errors as scikit-learn 1.9 computes them: `mean_absolute_error`,
//! `root_mean_squared_error`, `mean_absolute_percentage_error` (|y − ŷ| / max(|y|, ε), ε the
//! f64 machine epsilon, so a zero target gives a huge but finite term) and `r2_score`
//! (`force_finite=True`: 1 for a perfect fit of a constant target, 0 for an imperfect one; NaN
//! with fewer than two pairs). Sums are numpy's pairwise sums over the rows in file order.
//! MAE, RMSE and MAPE are means of per-row terms, mergeable as (sum, n) up to rounding; R²
//! needs the target mean first, so exactness keeps the values.

use crate::stats::numeric::pairwise_sum_iter;

/// The regression metrics; NaN when undefined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegressionMetrics {
    pub n: u64,
    pub mae: f64,
    pub rmse: f64,
    pub mape: f64,
    pub r2: f64,
}

/// Metrics of `predictions` against `targets` (same length, finite values).
pub fn regression(targets: &[f64], predictions: &[f64]) -> RegressionMetrics {
    let n = targets.len();
    let pairs = || targets.iter().zip(predictions).map(|(&y, &p)| (y, p));
    let mae = mean(n, pairs().map(|(y, p)| (p - y).abs()));
    let rmse = mean(n, pairs().map(|(y, p)| (y - p) * (y - p))).sqrt();
    let mape = mean(n, pairs().map(|(y, p)| (p - y).abs() / y.abs().max(f64::EPSILON)));
    RegressionMetrics { n: n as u64, mae, rmse, mape, r2: r2(targets, predictions) }
}

/// `np.average` of `n` terms: numpy's pairwise sum, then one division; NaN when empty.
fn mean(n: usize, mut terms: impl Iterator<Item = f64>) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    pairwise_sum_iter(n, &mut terms) / n as f64
}

/// `r2_score(force_finite=True)`.
fn r2(targets: &[f64], predictions: &[f64]) -> f64 {
    let n = targets.len();
    if n < 2 {
        return f64::NAN;
    }
    let residuals = &mut targets.iter().zip(predictions).map(|(&y, &p)| (y - p) * (y - p));
    let numerator = pairwise_sum_iter(n, residuals);
    let mean = pairwise_sum_iter(n, &mut targets.iter().copied()) / n as f64;
    let denominator = pairwise_sum_iter(n, &mut targets.iter().map(|&y| (y - mean) * (y - mean)));
    match (numerator != 0.0, denominator != 0.0) {
        (true, true) => 1.0 - numerator / denominator,
        (false, _) => 1.0,
        (true, false) => 0.0,
    }
}
