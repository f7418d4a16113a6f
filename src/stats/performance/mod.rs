//! Model-performance metrics: how well predictions match their targets, as scikit-learn 1.9
//! computes them (the call each one reproduces is on the function; conventions: docs/performance.md).
//!
//! Pure numeric code like the rest of `stats/`: cleaned, row-aligned slices in (both cells
//! present and finite), plain numbers out, NaN where a metric is undefined. The label metrics
//! come from [`confusion::Confusion`] counts, which a stream can add up per window; ROC AUC,
//! the probability metrics and the regression metrics need the values themselves, summed in
//! numpy's order, so the exact numbers are reproducible. Entry points: [`classification`], [`regression`].

pub mod calibration;
pub mod confusion;
pub mod probability;
pub mod regression;
pub mod roc_auc;
#[cfg(test)]
mod tests;

pub use confusion::Confusion;
pub use regression::{regression, RegressionMetrics};

/// The default decision threshold: a score ≥ 0.5 predicts the positive class.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// What a binary classifier's prediction is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prediction<'a> {
    /// Predicted classes (`true` = positive): the label metrics only.
    Labels(&'a [bool]),
    /// Scores; the label metrics are taken at `score >= threshold`, and ROC AUC uses the scores.
    /// Log loss, Brier score and calibration error also need every score in [0, 1].
    Scores(&'a [f64]),
}

/// A binary classifier's metrics; NaN when undefined (see each field).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassificationMetrics {
    pub confusion: Confusion,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub f1_macro: f64,
    /// NaN with predicted labels, or when one class is absent from the targets.
    pub roc_auc: f64,
    /// NaN with predicted labels or a score outside [0, 1].
    pub log_loss: f64,
    pub brier: f64,
    pub ece: f64,
}

/// Every classification metric of `targets` (`true` = positive) against `prediction`, which
/// must have the same length. `threshold` turns scores into labels (`score >= threshold`).
pub fn classification(targets: &[bool], prediction: Prediction<'_>, threshold: f64) -> ClassificationMetrics {
    let (confusion, scores) = match prediction {
        Prediction::Labels(labels) => (Confusion::from_labels(targets, labels), None),
        Prediction::Scores(scores) => (Confusion::from_scores(targets, scores, threshold), Some(scores)),
    };
    let probabilities = scores.filter(|s| s.iter().all(|p| (0.0..=1.0).contains(p)));
    let or_nan = |f: &dyn Fn(&[f64]) -> f64, s: Option<&[f64]>| s.map_or(f64::NAN, f);
    ClassificationMetrics {
        confusion,
        accuracy: confusion.accuracy(),
        precision: confusion.precision(),
        recall: confusion.recall(),
        f1: confusion.f1(),
        f1_macro: confusion.f1_macro(),
        roc_auc: or_nan(&|s| roc_auc::roc_auc(targets, s), scores),
        log_loss: or_nan(&|s| probability::log_loss(targets, s), probabilities),
        brier: or_nan(&|s| probability::brier_score(targets, s), probabilities),
        ece: or_nan(&|s| calibration::expected_calibration_error(targets, s), probabilities),
    }
}
