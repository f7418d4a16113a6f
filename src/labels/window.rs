//! One window's performance: the predictions of the window that have a key, the pairs joined
//! to a label so far, and which versions were published. The metrics are computed on the pairs
//! sorted by (prediction event time, prediction, label), so they do not depend on the order in
//! which labels arrived (a restart or another interleaving gives the same numbers), with
//! `stats::performance`, i.e. as scikit-learn on the same pairs in that order.

use serde::{Deserialize, Serialize};

use super::{JoinSettings, PredictionUse, RulesAt, Task};
use crate::monitor::{FeatureStatus, Observation, ObservationDetail, PerformanceDetail, Stat};
use crate::record::Stream;
use crate::stats::performance::{classification, regression, Prediction};
use crate::window::WindowBounds;

/// A prediction joined to its label.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    /// The prediction's event time.
    pub t: i64,
    pub prediction: f64,
    pub label: f64,
}

/// The performance state of one window of the predictions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerformanceWindow {
    /// Predictions with a usable key and value in the window.
    pub predictions: u64,
    /// Joined pairs, at most `max_pairs_per_window`.
    pub pairs: Vec<Pair>,
    /// Pairs joined beyond the cap (counted, not used).
    pub beyond_cap: u64,
    /// Versions published so far.
    pub versions: u32,
    /// How many of `publish_at`'s shares were passed (published) so far.
    pub shares_passed: usize,
    /// The rules have evaluated a version of this window.
    pub rules_done: bool,
}

impl PerformanceWindow {
    pub fn joined(&self) -> u64 {
        self.pairs.len() as u64 + self.beyond_cap
    }

    /// Joined / predictions (NaN with no prediction).
    pub fn labelled_share(&self) -> f64 {
        if self.predictions == 0 {
            f64::NAN
        } else {
            self.joined() as f64 / self.predictions as f64
        }
    }

    pub fn add(&mut self, pair: Pair, cap: usize) {
        if self.pairs.len() < cap {
            self.pairs.push(pair);
        } else {
            self.beyond_cap += 1;
        }
    }

    /// How many of `publish_at`'s shares the labelled share has reached.
    pub fn shares_reached(&self, settings: &JoinSettings) -> usize {
        let share = self.labelled_share();
        settings.publish_at.iter().filter(|&&s| share >= s).count()
    }

    /// The version to publish now, if any: the final one when `final_`, else one per
    /// `publish_at` share newly reached (several reached at once publish one version). Marks
    /// it published and says whether the rules evaluate it.
    pub fn due(&mut self, settings: &JoinSettings, final_: bool) -> Option<Version> {
        let share = self.labelled_share();
        let reached = self.shares_reached(settings);
        if !final_ && reached <= self.shares_passed {
            return None;
        }
        self.shares_passed = self.shares_passed.max(reached);
        self.versions += 1;
        let for_rules = !self.rules_done
            && match settings.rules_at {
                RulesAt::Final => final_,
                RulesAt::Share(s) => final_ || share >= s,
            };
        self.rules_done |= for_rules;
        Some(Version { number: self.versions, final_, for_rules })
    }

    /// The window's observations of `version`: one per metric of the task, then
    /// `labelled_share`.
    pub fn observations(
        &self,
        monitor: &str,
        feature: &str,
        settings: &JoinSettings,
        bounds: &WindowBounds,
        version: Version,
    ) -> Vec<Observation> {
        let mut pairs = self.pairs.clone();
        pairs.sort_by(|a, b| {
            (a.t, a.prediction, a.label).partial_cmp(&(b.t, b.prediction, b.label)).unwrap_or(std::cmp::Ordering::Equal)
        });
        let values: Vec<(Stat, f64)> = match settings.task {
            Task::Classification { threshold } => {
                let targets: Vec<bool> = pairs.iter().map(|p| p.label == 1.0).collect();
                let predictions: Vec<f64> = pairs.iter().map(|p| p.prediction).collect();
                let labels: Vec<bool>;
                let prediction = match settings.prediction {
                    PredictionUse::Scores => Prediction::Scores(&predictions),
                    PredictionUse::Labels => {
                        labels = predictions.iter().map(|&p| p == 1.0).collect();
                        Prediction::Labels(&labels)
                    }
                };
                let m = classification(&targets, prediction, threshold);
                vec![
                    (Stat::Accuracy, m.accuracy),
                    (Stat::Precision, m.precision),
                    (Stat::Recall, m.recall),
                    (Stat::F1, m.f1),
                    (Stat::F1Macro, m.f1_macro),
                    (Stat::RocAuc, m.roc_auc),
                    (Stat::LogLoss, m.log_loss),
                    (Stat::Brier, m.brier),
                    (Stat::Ece, m.ece),
                ]
            }
            Task::Regression => {
                let targets: Vec<f64> = pairs.iter().map(|p| p.label).collect();
                let predictions: Vec<f64> = pairs.iter().map(|p| p.prediction).collect();
                let m = regression(&targets, &predictions);
                vec![(Stat::Mae, m.mae), (Stat::Rmse, m.rmse), (Stat::Mape, m.mape), (Stat::R2, m.r2)]
            }
        };
        let share = self.labelled_share();
        let detail = ObservationDetail {
            performance: Some(PerformanceDetail {
                version: version.number,
                final_: version.final_,
                for_rules: version.for_rules,
                predictions: self.predictions,
                labelled: self.joined(),
                beyond_cap: self.beyond_cap,
            }),
            ..ObservationDetail::new(if pairs.is_empty() { FeatureStatus::EmptyCurrent } else { FeatureStatus::Ok })
        };
        let n = pairs.len() as u64;
        values
            .into_iter()
            .chain([(Stat::LabelledShare, share)])
            .map(|(stat, value)| Observation {
                monitor: monitor.to_string(),
                stream: Stream::Labels,
                feature: feature.to_string(),
                stat,
                value,
                n: if stat == Stat::LabelledShare { self.predictions } else { n },
                window: bounds.clone(),
                detail: detail.clone(),
            })
            .collect()
    }
}

/// A published version of a window's performance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// 1, 2, … per window.
    pub number: u32,
    /// No label can join the window any more.
    pub final_: bool,
    /// The version the rules evaluate (one per window).
    pub for_rules: bool,
}
