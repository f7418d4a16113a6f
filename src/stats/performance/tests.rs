//! The metrics against scikit-learn 1.9.1 on small inputs. Each literal is printed, with its
//! call, by `python3 tests/reference/performance.py --print` (and `--check` fails when a printed
//! line is missing here); the datasets and the `compare` command: tests/compare_performance.rs.

use super::calibration::expected_calibration_error;
use super::probability::{brier_score, log_loss};
use super::roc_auc::roc_auc;
use super::*;

fn bools(v: &[u8]) -> Vec<bool> {
    v.iter().map(|&x| x == 1).collect()
}

#[test]
fn roc_auc_with_ties() {
    // y = [0, 0, 1, 1], p = [0.1, 0.4, 0.35, 0.8]: metrics.roc_auc_score(y, p) = 0.75
    assert_eq!(roc_auc(&bools(&[0, 0, 1, 1]), &[0.1, 0.4, 0.35, 0.8]), 0.75);
    // y = [0, 1, 0, 1, 1, 0], p = [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]: metrics.roc_auc_score(y, p) = 0.5555555555555556
    let (y, p) = (bools(&[0, 1, 0, 1, 1, 0]), [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]);
    assert_eq!(roc_auc(&y, &p), 0.5555555555555556);
    // One class absent: scikit-learn raises, we say undefined.
    assert!(roc_auc(&bools(&[1, 1]), &[0.2, 0.3]).is_nan());
    assert!(roc_auc(&[], &[]).is_nan());
}

#[test]
fn log_loss_clips_at_machine_epsilon() {
    // y = [0, 1, 0, 1, 1, 0], p = [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]: metrics.log_loss(y, p) = 0.7547015241419938
    let (y, p) = (bools(&[0, 1, 0, 1, 1, 0]), [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]);
    assert_eq!(log_loss(&y, &p), 0.7547015241419938);
    // y = [0, 1, 1], p = [0.0, 1.0, 0.0]: metrics.log_loss(y, p) = 12.014551129705717
    assert_eq!(log_loss(&bools(&[0, 1, 1]), &[0.0, 1.0, 0.0]), 12.014551129705717);
}

#[test]
fn brier_and_calibration() {
    let (y, p) = (bools(&[0, 1, 0, 1, 1, 0]), [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]);
    // y = [0, 1, 0, 1, 1, 0], p = [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]: metrics.brier_score_loss(y, p) = 0.28
    assert_eq!(brier_score(&y, &p), 0.28);
    // y = [0, 1, 0, 1, 1, 0], p = [0.5, 0.5, 0.2, 0.9, 0.2, 0.7]: ece(y, p) = 0.2333333333333333
    assert_eq!(expected_calibration_error(&y, &p), 0.2333333333333333);
    // Edges: 0 and 0.1 share the first bin (right-closed), 0.95 and 1.0 the last.
    // y = [0, 1, 1, 1, 0], p = [0.0, 0.1, 0.1, 1.0, 0.95]: ece(y, p) = 0.55
    assert_eq!(expected_calibration_error(&bools(&[0, 1, 1, 1, 0]), &[0.0, 0.1, 0.1, 1.0, 0.95]), 0.55);
}

#[test]
fn label_metrics_and_zero_division() {
    let (y, p) = (bools(&[0, 1, 0, 1, 1, 0, 1]), bools(&[1, 1, 0, 0, 1, 0, 1]));
    let counts = Confusion::from_labels(&y, &p);
    // y = [0, 1, 0, 1, 1, 0, 1], p = [1, 1, 0, 0, 1, 0, 1]: metrics.f1_score(y, p) = 0.75
    assert_eq!(counts.f1(), 0.75);
    // y = [0, 1, 0, 1, 1, 0, 1], p = [1, 1, 0, 0, 1, 0, 1]: metrics.f1_score(y, p, average='macro') = 0.7083333333333333
    assert_eq!(counts.f1_macro(), 0.7083333333333333);
    assert_eq!((counts.accuracy(), counts.precision(), counts.recall()), (5.0 / 7.0, 0.75, 0.75));
    // No positive predicted or present: zero_division=0; macro over the one class present.
    let negatives = Confusion::from_labels(&bools(&[0, 0]), &bools(&[0, 0]));
    assert_eq!((negatives.precision(), negatives.recall(), negatives.f1(), negatives.f1_macro()), (0.0, 0.0, 0.0, 1.0));
    assert!(Confusion::default().accuracy().is_nan());
    // Counts merge: two halves give the whole.
    let (mut first, second) = (Confusion::from_labels(&y[..3], &p[..3]), Confusion::from_labels(&y[3..], &p[3..]));
    first.merge(&second);
    assert_eq!(first, counts);
}

#[test]
fn scores_become_labels_at_the_threshold() {
    let y = bools(&[0, 1, 1]);
    let m = classification(&y, Prediction::Scores(&[0.5, 0.49, 0.7]), DEFAULT_THRESHOLD);
    assert_eq!(m.confusion, Confusion { tp: 1, fp: 1, tn: 0, fn_: 1 });
    let strict = classification(&y, Prediction::Scores(&[0.5, 0.49, 0.7]), 0.6);
    assert_eq!(strict.confusion, Confusion { tp: 1, fp: 0, tn: 1, fn_: 1 });
    // A score outside [0, 1] is no probability: ROC AUC only.
    let raw = classification(&y, Prediction::Scores(&[-2.0, 3.0, 1.5]), 0.0);
    assert_eq!(raw.roc_auc, 1.0);
    assert!(raw.log_loss.is_nan() && raw.brier.is_nan() && raw.ece.is_nan());
    let labels = classification(&y, Prediction::Labels(&bools(&[0, 1, 0])), DEFAULT_THRESHOLD);
    assert_eq!(labels.accuracy, 2.0 / 3.0);
    assert!(labels.roc_auc.is_nan());
}

#[test]
fn regression_as_scikit_learn() {
    let m = regression(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0]);
    // y = [3.0, -0.5, 2.0, 7.0], p = [2.5, 0.0, 2.0, 8.0]: metrics.mean_absolute_error(y, p) = 0.5
    assert_eq!(m.mae, 0.5);
    // y = [3.0, -0.5, 2.0, 7.0], p = [2.5, 0.0, 2.0, 8.0]: metrics.root_mean_squared_error(y, p) = 0.6123724356957945
    assert_eq!(m.rmse, 0.6123724356957945);
    // y = [3.0, -0.5, 2.0, 7.0], p = [2.5, 0.0, 2.0, 8.0]: metrics.r2_score(y, p) = 0.9486081370449679
    assert_eq!(m.r2, 0.9486081370449679);
    // A zero target: its term is |ŷ| / machine epsilon.
    // y = [1.0, 0.0, 2.0], p = [1.5, 0.1, 2.0]: metrics.mean_absolute_percentage_error(y, p) = 150119987579016.72
    assert_eq!(regression(&[1.0, 0.0, 2.0], &[1.5, 0.1, 2.0]).mape, 150119987579016.72);
    // r2_score(force_finite=True) on a constant target; NaN below two pairs.
    assert_eq!(regression(&[2.0, 2.0], &[2.0, 2.0]).r2, 1.0);
    assert_eq!(regression(&[2.0, 2.0], &[2.0, 3.0]).r2, 0.0);
    assert!(regression(&[2.0], &[2.0]).r2.is_nan());
    assert!(regression(&[], &[]).mae.is_nan());
}
