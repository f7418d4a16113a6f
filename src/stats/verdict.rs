//! Drift decisions: thresholds per statistic, which statistic decides a column, and the
//! dataset verdict.
//!
//! Defaults follow Evidently 0.7 so the verdicts read the same to its users:
//! PSI ≥ 0.1, KS p ≤ 0.05, chi-square p < 0.05, Jensen–Shannon ≥ 0.1, normalised Wasserstein
//! ≥ 0.1, Hellinger ≥ 0.1; the dataset drifted when the share of drifted columns ≥ 0.5.
//! A NaN statistic (undefined) is never drift.

use std::fmt;
use std::str::FromStr;

/// Thresholds for every statistic, and the dataset share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub psi: f64,
    pub ks_alpha: f64,
    pub chisquare_alpha: f64,
    pub jensen_shannon: f64,
    pub wasserstein: f64,
    pub hellinger: f64,
    pub drift_share: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            psi: 0.1,
            ks_alpha: 0.05,
            chisquare_alpha: 0.05,
            jensen_shannon: 0.1,
            wasserstein: 0.1,
            hellinger: 0.1,
            drift_share: 0.5,
        }
    }
}

impl Thresholds {
    pub fn psi_drift(&self, value: f64) -> bool {
        value >= self.psi
    }
    pub fn ks_drift(&self, p_value: f64) -> bool {
        p_value <= self.ks_alpha
    }
    pub fn chisquare_drift(&self, p_value: f64) -> bool {
        p_value < self.chisquare_alpha
    }
    pub fn jensen_shannon_drift(&self, value: f64) -> bool {
        value >= self.jensen_shannon
    }
    pub fn wasserstein_drift(&self, normalised: f64) -> bool {
        normalised >= self.wasserstein
    }
    pub fn hellinger_drift(&self, value: f64) -> bool {
        value >= self.hellinger
    }
    /// Dataset verdict from the number of drifted columns among `columns` compared columns.
    pub fn dataset_drift(&self, drifted: usize, columns: usize) -> bool {
        columns > 0 && drifted as f64 / columns as f64 >= self.drift_share
    }
}

/// Which statistic decides whether a column drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriftStat {
    /// PSI on the configured binning (numeric and categorical).
    #[default]
    Psi,
    /// The hypothesis test of the column's type: KS for numeric, chi-square for categorical.
    Test,
    JensenShannon,
    Hellinger,
    /// Normalised Wasserstein for numeric columns; categorical columns use Jensen–Shannon.
    Wasserstein,
}

impl DriftStat {
    pub fn name(self) -> &'static str {
        match self {
            DriftStat::Psi => "psi",
            DriftStat::Test => "test",
            DriftStat::JensenShannon => "jensen_shannon",
            DriftStat::Hellinger => "hellinger",
            DriftStat::Wasserstein => "wasserstein",
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
            "psi" => Ok(DriftStat::Psi),
            "test" | "ks" | "chisquare" => Ok(DriftStat::Test),
            "jensen_shannon" | "jensen-shannon" | "js" => Ok(DriftStat::JensenShannon),
            "hellinger" => Ok(DriftStat::Hellinger),
            "wasserstein" => Ok(DriftStat::Wasserstein),
            other => Err(format!(
                "unknown drift statistic {other:?} (expected psi, test, jensen_shannon, hellinger or wasserstein)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_evidently() {
        let t = Thresholds::default();
        assert!(t.psi_drift(0.1) && !t.psi_drift(0.0999));
        assert!(t.ks_drift(0.05) && !t.ks_drift(0.0501));
        assert!(!t.chisquare_drift(0.05) && t.chisquare_drift(0.0499));
        assert!(!t.psi_drift(f64::NAN) && !t.ks_drift(f64::NAN));
        assert!(t.dataset_drift(1, 2) && !t.dataset_drift(1, 3) && !t.dataset_drift(0, 0));
    }

    #[test]
    fn drift_stat_names_round_trip() {
        for stat in
            [DriftStat::Psi, DriftStat::Test, DriftStat::JensenShannon, DriftStat::Hellinger, DriftStat::Wasserstein]
        {
            assert_eq!(stat.name().parse::<DriftStat>().unwrap(), stat);
        }
        assert!("p-value".parse::<DriftStat>().is_err());
    }
}
