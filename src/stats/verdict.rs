//! Drift decisions: a threshold per statistic (defaults and directions from the registry,
//! `statistic.rs`, Evidently 0.7's so verdicts read the same to its users), which statistic
//! decides a column, and the dataset verdict (drifted when the share of drifted columns ≥ 0.5).
//! A NaN statistic (undefined) is never drift.

use std::fmt;
use std::str::FromStr;

use super::statistic::{Statistic, SPECS};

/// A threshold per statistic (registry defaults), and the dataset share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    by_statistic: [f64; Statistic::COUNT],
    pub drift_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { by_statistic: std::array::from_fn(|i| SPECS[i].default_threshold), drift_share: 0.5 }
    }
}

impl Thresholds {
    pub fn get(&self, statistic: Statistic) -> f64 {
        self.by_statistic[statistic.index()]
    }
    pub fn set(&mut self, statistic: Statistic, threshold: f64) {
        self.by_statistic[statistic.index()] = threshold;
    }
    /// Whether `value` of the statistic's deciding value (`Spec::decided_by`) means drift.
    pub fn drifted(&self, statistic: Statistic, value: f64) -> bool {
        statistic.spec().direction.drifted(value, self.get(statistic))
    }
    /// Dataset verdict from the number of drifted columns among `columns` compared columns.
    pub fn dataset_drift(&self, drifted: usize, columns: usize) -> bool {
        columns > 0 && drifted as f64 / columns as f64 >= self.drift_share
    }
}

/// Which statistic decides whether a column drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftStat {
    /// The hypothesis test of the column's type: KS for numeric, chisquare for categorical.
    Test,
    /// This statistic; on a column type it does not apply to (Wasserstein on categories),
    /// Jensen–Shannon.
    Statistic(Statistic),
}

impl Default for DriftStat {
    fn default() -> Self {
        DriftStat::Statistic(Statistic::Psi)
    }
}

impl DriftStat {
    pub fn name(self) -> &'static str {
        match self {
            DriftStat::Test => "test",
            DriftStat::Statistic(statistic) => statistic.name(),
        }
    }

    /// The statistic that decides a numeric (`true`) or categorical column.
    pub fn decider(self, numeric: bool) -> Statistic {
        match self {
            DriftStat::Test if numeric => Statistic::Ks,
            DriftStat::Test => Statistic::Chisquare,
            DriftStat::Statistic(statistic) => {
                let columns = statistic.spec().columns;
                if (numeric && columns.numeric()) || (!numeric && columns.categorical()) {
                    statistic
                } else {
                    Statistic::JensenShannon
                }
            }
        }
    }
}

impl fmt::Display for DriftStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DriftStat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "test" | "ks" | "chisquare" => Ok(DriftStat::Test),
            other => other.parse::<Statistic>().map(DriftStat::Statistic).map_err(|_| {
                let names: Vec<&str> = SPECS
                    .iter()
                    .filter(|spec| !matches!(spec.statistic, Statistic::Ks | Statistic::Chisquare))
                    .map(|spec| spec.name)
                    .collect();
                format!("unknown drift statistic {other:?} (expected test or one of {})", names.join(", "))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_evidently() {
        let t = Thresholds::default();
        let (psi, ks, chisquare) = (Statistic::Psi, Statistic::Ks, Statistic::Chisquare);
        assert!(t.drifted(psi, 0.1) && !t.drifted(psi, 0.0999));
        assert!(t.drifted(ks, 0.05) && !t.drifted(ks, 0.0501));
        assert!(!t.drifted(chisquare, 0.05) && t.drifted(chisquare, 0.0499));
        assert!(!t.drifted(psi, f64::NAN) && !t.drifted(ks, f64::NAN));
        assert!(t.dataset_drift(1, 2) && !t.dataset_drift(1, 3) && !t.dataset_drift(0, 0));
    }

    #[test]
    fn drift_stat_names_round_trip() {
        for stat in [
            DriftStat::Statistic(Statistic::Psi),
            DriftStat::Test,
            DriftStat::Statistic(Statistic::JensenShannon),
            DriftStat::Statistic(Statistic::Hellinger),
            DriftStat::Statistic(Statistic::Wasserstein),
        ] {
            assert_eq!(stat.name().parse::<DriftStat>().unwrap(), stat);
        }
        assert!("p-value".parse::<DriftStat>().is_err());
    }
}
