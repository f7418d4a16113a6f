//! What one window says about each alert of a rule: a [`Verdict`] (breach, clear, between
//! the thresholds, or none) with the value and the threshold that applied, for threshold rules
//! and for p-value rules corrected over the family of features (Bonferroni,
//! Benjamini–Hochberg). Pure: no state is read or changed here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::*;
use super::state::DATASET_FEATURE;
use super::threshold::{benjamini_hochberg, bonferroni, yurdakul_psi_threshold};
use crate::monitor::Stat;
use crate::record::Stream;

/// One closed window of one stream of one monitor, as the rules see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowEvaluation {
    pub monitor: String,
    pub stream: Stream,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub window_events: u64,
    pub features: Vec<FeatureStats>,
}

/// One feature's statistics in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    pub name: String,
    /// Values of the feature in the window.
    pub n: u64,
    /// Values of the feature in the reference (sample-size-aware PSI).
    pub n_ref: Option<u64>,
    /// Bins of the binned statistics (sample-size-aware PSI).
    pub n_bins: Option<usize>,
    /// NaN or absent: no verdict for rules on that statistic.
    pub values: BTreeMap<Stat, f64>,
    /// The monitor's drift verdict for the feature (`share_drifted_features`).
    pub drifted: bool,
}

/// A window's verdict for one alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Verdict {
    None,
    Breach,
    Clear,
    Between,
}

/// What one alert saw in the window.
pub(super) struct Observed {
    pub(super) feature: String,
    pub(super) verdict: Verdict,
    pub(super) value: Option<f64>,
    pub(super) threshold: Option<f64>,
    pub(super) n: u64,
}

/// The verdict of every alert of `rule` in the window.
pub(super) fn observe(rule: &Rule, window: &WindowEvaluation) -> Vec<Observed> {
    let selected: Vec<&FeatureStats> = window.features.iter().filter(|f| rule.features.matches(&f.name)).collect();
    match rule.trigger.stat() {
        RuleStat::WindowEvents | RuleStat::ShareDriftedFeatures => {
            let n = window.window_events;
            let value = match rule.trigger.stat() {
                RuleStat::WindowEvents => Some(n as f64),
                _ if selected.is_empty() => None,
                _ => Some(selected.iter().filter(|f| f.drifted).count() as f64 / selected.len() as f64),
            };
            let verdict_of = |value: Option<f64>| match value {
                Some(v) if n >= rule.min_samples => threshold_verdict(rule, v, None),
                _ => (Verdict::None, None),
            };
            let (verdict, threshold) = verdict_of(value);
            vec![Observed { feature: DATASET_FEATURE.to_string(), verdict, value, threshold, n }]
        }
        RuleStat::Feature(stat) => {
            let value_of = |f: &FeatureStats| f.values.get(&stat).copied().filter(|v| !v.is_nan());
            let eligible = |f: &FeatureStats| f.n >= rule.min_samples && value_of(f).is_some();
            match rule.trigger {
                Trigger::Threshold { .. } => selected
                    .iter()
                    .map(|f| {
                        let value = value_of(f);
                        let (verdict, threshold) = match value {
                            Some(v) if eligible(f) => threshold_verdict(rule, v, Some(f)),
                            _ => (Verdict::None, None),
                        };
                        Observed { feature: f.name.clone(), verdict, value, threshold, n: f.n }
                    })
                    .collect(),
                Trigger::Corrected { correction, clear_when, .. } => {
                    // The family: the selected features that give a verdict in this window.
                    let family: Vec<&FeatureStats> = selected.iter().copied().filter(|f| eligible(f)).collect();
                    let p: Vec<f64> = family.iter().map(|f| value_of(f).unwrap_or(f64::NAN)).collect();
                    let corrected = match correction.method {
                        CorrectionMethod::Bonferroni => bonferroni(&p, correction.alpha),
                        CorrectionMethod::BenjaminiHochberg => benjamini_hochberg(&p, correction.alpha),
                    };
                    selected
                        .iter()
                        .map(|f| {
                            let value = value_of(f);
                            let position = family.iter().position(|g| g.name == f.name);
                            let (verdict, threshold) = match position {
                                Some(i) => {
                                    let c = corrected[i];
                                    let verdict = if c.rejected {
                                        Verdict::Breach
                                    } else {
                                        match clear_when {
                                            Some(clear) => match fixed_or(clear, p[i], Some(f)) {
                                                Some(true) => Verdict::Clear,
                                                _ => Verdict::Between,
                                            },
                                            None => Verdict::Clear,
                                        }
                                    };
                                    (verdict, Some(c.threshold))
                                }
                                None => (Verdict::None, None),
                            };
                            Observed { feature: f.name.clone(), verdict, value, threshold, n: f.n }
                        })
                        .collect()
                }
            }
        }
    }
}

/// Whether `condition` holds for `value` (`None`: its threshold is undefined here).
fn fixed_or(condition: Condition, value: f64, feature: Option<&FeatureStats>) -> Option<bool> {
    let threshold = threshold_value(condition.threshold, feature)?;
    Some(condition.op.holds(value, threshold))
}

fn threshold_value(threshold: Threshold, feature: Option<&FeatureStats>) -> Option<f64> {
    match threshold {
        Threshold::Fixed(t) => Some(t),
        Threshold::SampleSizeAware { alpha } => {
            let f = feature?;
            yurdakul_psi_threshold(alpha, f.n_bins?, f.n_ref?, f.n)
        }
    }
}

/// Verdict of a threshold rule, and the `when` threshold that applied.
fn threshold_verdict(rule: &Rule, value: f64, feature: Option<&FeatureStats>) -> (Verdict, Option<f64>) {
    let Trigger::Threshold { when, clear_when } = rule.trigger else { return (Verdict::None, None) };
    let Some(threshold) = threshold_value(when.threshold, feature) else { return (Verdict::None, None) };
    if when.op.holds(value, threshold) {
        return (Verdict::Breach, Some(threshold));
    }
    let verdict = match clear_when {
        None => Verdict::Clear,
        Some(clear) => match fixed_or(clear, value, feature) {
            Some(true) => Verdict::Clear,
            // An undefined clear threshold cannot clear: the state holds.
            _ => Verdict::Between,
        },
    };
    (verdict, Some(threshold))
}
