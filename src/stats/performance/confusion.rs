//! The confusion counts of a binary classifier and the metrics read off them: accuracy,
//! precision, recall, F1 (binary, positive class 1) and macro F1, as scikit-learn's
//! `accuracy_score`, `precision_score`, `recall_score` and `f1_score` with `zero_division=0`.
//!
//! Counts add up ([`Confusion::merge`]), so a stream can keep one per window. Each metric is one
//! division of exact integers, hence bit-identical to scikit-learn's.

/// True/false positives and negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
}

impl Confusion {
    /// Counts of `targets` against predicted labels (same length; `true` = positive).
    pub fn from_labels(targets: &[bool], predicted: &[bool]) -> Self {
        let mut counts = Confusion::default();
        for (&t, &p) in targets.iter().zip(predicted) {
            counts.add(t, p);
        }
        counts
    }

    /// Counts of `targets` against `score >= threshold`.
    pub fn from_scores(targets: &[bool], scores: &[f64], threshold: f64) -> Self {
        let mut counts = Confusion::default();
        for (&t, &s) in targets.iter().zip(scores) {
            counts.add(t, s >= threshold);
        }
        counts
    }

    pub fn add(&mut self, target: bool, predicted: bool) {
        match (target, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    /// The counts of both (e.g. two windows).
    pub fn merge(&mut self, other: &Confusion) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.tn += other.tn;
        self.fn_ += other.fn_;
    }

    pub fn n(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// `accuracy_score`: NaN with no pairs (scikit-learn averages an empty array).
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.n(), f64::NAN)
    }

    /// `precision_score(zero_division=0)`: tp / (tp + fp).
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp, 0.0)
    }

    /// `recall_score(zero_division=0)`: tp / (tp + fn).
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_, 0.0)
    }

    /// `f1_score(zero_division=0)`: 2·tp / (2·tp + fp + fn), scikit-learn's F-beta form (not
    /// the harmonic mean of two rounded ratios).
    pub fn f1(&self) -> f64 {
        f1_of(self.tp, self.fp, self.fn_)
    }

    /// `f1_score(average="macro", zero_division=0)`: the mean F1 over the classes present in the
    /// targets or the predictions (scikit-learn's `unique_labels`); NaN with no pairs.
    pub fn f1_macro(&self) -> f64 {
        let negative_present = self.tn + self.fp + self.fn_ > 0;
        let positive_present = self.tp + self.fp + self.fn_ > 0;
        // The negative class's F1: its true positives are our true negatives.
        let negative = f1_of(self.tn, self.fn_, self.fp);
        match (negative_present, positive_present) {
            // np.mean of two values: their sum halved.
            (true, true) => (negative + self.f1()) / 2.0,
            (true, false) => negative,
            (false, true) => self.f1(),
            (false, false) => f64::NAN,
        }
    }
}

fn f1_of(tp: u64, fp: u64, fn_: u64) -> f64 {
    ratio(2 * tp, 2 * tp + fp + fn_, 0.0)
}

/// `a / b` as floats; `zero` when `b` is 0.
fn ratio(a: u64, b: u64, zero: f64) -> f64 {
    if b == 0 {
        zero
    } else {
        a as f64 / b as f64
    }
}
