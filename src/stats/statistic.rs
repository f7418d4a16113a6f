//! The registry of drift statistics: one [`Spec`] per [`Statistic`] holding everything the rest
//! of driftd needs to know about it — its names, the column types it applies to, the values it
//! yields ([`Stat`]), how a threshold on one of them decides drift, and how it is computed.
//! Config, rules, the monitor, `compare`, its renderers and the CLI read this table; adding a
//! statistic is its own file (the mathematics) plus one entry here (see ARCHITECTURE.md).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::chisquare::chisquare_counts;
use super::divergence::{hellinger_distance, jensen_shannon_distance};
use super::kullback_leibler::kullback_leibler_divergence;
use super::psi::{fill_zeros, psi_from_proportions, ZeroFill};
use super::quality::{missing_share, out_of_range_share, type_mismatch_share, unseen_category_share, QualityCounts};

/// A drift statistic, as named in configs, rules and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    Psi,
    Ks,
    Chisquare,
    JensenShannon,
    Wasserstein,
    Hellinger,
    KullbackLeibler,
    MissingShare,
    TypeMismatchShare,
    OutOfRangeShare,
    UnseenCategoryShare,
}

/// A value a statistic yields on a window or a column (a statistic may yield two: KS its `D`
/// and p-value). Names match the `stat` of rules and the `stat` label of `driftd_statistic`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    Psi,
    KsStatistic,
    KsPValue,
    ChisquareStatistic,
    ChisquarePValue,
    JensenShannon,
    Wasserstein,
    WassersteinNormalized,
    Hellinger,
    KullbackLeibler,
    MissingShare,
    TypeMismatchShare,
    OutOfRangeShare,
    UnseenCategoryShare,
    // A model's performance over a window's predictions joined to their labels (`crate::labels`),
    // not drift statistics: no registry entry, observed on the `labels` stream.
    Accuracy,
    Precision,
    Recall,
    F1,
    F1Macro,
    RocAuc,
    LogLoss,
    Brier,
    Ece,
    Mae,
    Rmse,
    Mape,
    R2,
    /// Joined predictions / predictions with a key in the window.
    LabelledShare,
}

/// Everything known about one statistic.
#[derive(Debug)]
pub struct Spec {
    pub statistic: Statistic,
    /// The name in configs, rules, the CLI and the keys of `compare`'s JSON.
    pub name: &'static str,
    /// Other names the CLI accepts.
    pub aliases: &'static [&'static str],
    /// Short label for reports ("PSI", "Jensen–Shannon").
    pub label: &'static str,
    pub columns: Columns,
    /// The values it yields, each with its field name in `compare`'s JSON, in output order.
    pub values: &'static [(&'static str, Stat)],
    /// The value a threshold applies to, and in which direction it means drift.
    pub decided_by: Stat,
    pub direction: Direction,
    /// Evidently 0.7's default, so verdicts read the same to its users.
    pub default_threshold: f64,
    pub compute: Compute,
    /// What a report shows beside the values, in order.
    pub report: &'static [Extra],
    /// Computed when no list of statistics is given. Opt-in statistics (`false`) appear in
    /// `compare`'s JSON only when selected, so adding one changes no existing output.
    pub default_selected: bool,
}

/// A fact a report shows beside a statistic's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// The binning setting (`binning`).
    Binning,
    /// The number of bins or categories (`n_bins`).
    BinCount,
    /// How the KS p-value was computed (`method`).
    KsMethod,
    /// A test's degrees of freedom (`dof`).
    DegreesOfFreedom,
    /// The bound on the error of a value from a sketch (`error_bound`; shown only then).
    ErrorBound,
}

/// The column types a statistic applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    Numeric,
    Categorical,
    Both,
}

impl Columns {
    pub fn numeric(self) -> bool {
        matches!(self, Columns::Numeric | Columns::Both)
    }
    pub fn categorical(self) -> bool {
        matches!(self, Columns::Categorical | Columns::Both)
    }
}

/// How a threshold decides drift. A NaN value (undefined) is never drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Drift when the value is at least the threshold (distances).
    AtLeast,
    /// Drift when the value is at most the threshold (KS p-value, as Evidently).
    AtMost,
    /// Drift when the value is below the threshold (chi-square p-value, as Evidently).
    Below,
}

impl Direction {
    pub fn drifted(self, value: f64, threshold: f64) -> bool {
        match self {
            Direction::AtLeast => value >= threshold,
            Direction::AtMost => value <= threshold,
            Direction::Below => value < threshold,
        }
    }
    /// The comparison, as a report writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
            Direction::Below => "<",
        }
    }
}

/// Where a statistic's values come from.
#[derive(Debug, Clone, Copy)]
pub enum Compute {
    /// From the aligned counts of the PSI bins (numeric columns) or of the categories.
    Bins(fn(&BinCounts<'_>) -> Outcome),
    /// From both sorted samples, by the one merged walk that KS and Wasserstein share
    /// (`profile.rs`; past the daemon's sample cap, from the window's sketch instead).
    MergedWalk,
    /// A data-quality share, from the counts of one side of the column (`quality.rs`); computed
    /// whatever the column's status (a column missing from every row is its most useful case).
    Quality(fn(&QualityCounts) -> f64),
}

/// What a [`Compute::Bins`] statistic reads: aligned counts, their proportions, and how PSI
/// fills empty bins.
#[derive(Debug, Clone, Copy)]
pub struct BinCounts<'a> {
    pub reference: &'a [u64],
    pub current: &'a [u64],
    /// `counts / total` of each side, zeros kept.
    pub reference_shares: &'a [f64],
    pub current_shares: &'a [f64],
    pub zero_fill: ZeroFill,
    /// The replacement for unseen categories (chi-square) and, by default, empty bins.
    pub epsilon: f64,
}

/// A [`Compute::Bins`] statistic's result: its values in [`Spec::values`] order (NaN when
/// undefined) and, for a test, its degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub values: [f64; 2],
    pub dof: Option<u64>,
}

impl Outcome {
    fn one(value: f64) -> Self {
        Outcome { values: [value, f64::NAN], dof: None }
    }
}

/// PSI: zero proportions filled (`psi.rs`), then `Σ (r − c)·ln(r / c)`.
fn psi(bins: &BinCounts<'_>) -> Outcome {
    let (mut r, mut c) = (bins.reference_shares.to_vec(), bins.current_shares.to_vec());
    fill_zeros(&mut r, bins.zero_fill);
    fill_zeros(&mut c, bins.zero_fill);
    Outcome::one(psi_from_proportions(&r, &c))
}

/// Pearson's chi-square of the current categories against the reference's (`chisquare.rs`);
/// undefined without categories, whose degrees of freedom (0) are still reported.
fn chisquare(bins: &BinCounts<'_>) -> Outcome {
    match chisquare_counts(bins.reference, bins.current, bins.epsilon) {
        Some(chi) => Outcome { values: [chi.statistic, chi.p_value], dof: Some(chi.dof) },
        None => Outcome { values: [f64::NAN; 2], dof: Some(bins.reference.len().saturating_sub(1) as u64) },
    }
}

fn jensen_shannon(bins: &BinCounts<'_>) -> Outcome {
    Outcome::one(jensen_shannon_distance(bins.reference_shares, bins.current_shares))
}

fn hellinger(bins: &BinCounts<'_>) -> Outcome {
    Outcome::one(hellinger_distance(bins.reference_shares, bins.current_shares))
}

/// KL divergence on the PSI's zero-filled shares (finite, and Evidently's `kl_div`).
fn kullback_leibler(bins: &BinCounts<'_>) -> Outcome {
    let (mut r, mut c) = (bins.reference_shares.to_vec(), bins.current_shares.to_vec());
    fill_zeros(&mut r, bins.zero_fill);
    fill_zeros(&mut c, bins.zero_fill);
    Outcome::one(kullback_leibler_divergence(&r, &c))
}

/// The registry, in output order (config lists, JSON keys, observations).
pub static SPECS: [Spec; Statistic::COUNT] = [
    Spec {
        statistic: Statistic::Psi,
        name: "psi",
        aliases: &[],
        label: "PSI",
        columns: Columns::Both,
        values: &[("value", Stat::Psi)],
        decided_by: Stat::Psi,
        direction: Direction::AtLeast,
        default_threshold: 0.1,
        compute: Compute::Bins(psi),
        report: &[Extra::Binning, Extra::BinCount],
        default_selected: true,
    },
    Spec {
        statistic: Statistic::Ks,
        name: "ks",
        aliases: &[],
        label: "KS",
        columns: Columns::Numeric,
        values: &[("statistic", Stat::KsStatistic), ("p_value", Stat::KsPValue)],
        decided_by: Stat::KsPValue,
        direction: Direction::AtMost,
        default_threshold: 0.05,
        compute: Compute::MergedWalk,
        report: &[Extra::KsMethod, Extra::ErrorBound],
        default_selected: true,
    },
    Spec {
        statistic: Statistic::Chisquare,
        name: "chisquare",
        aliases: &["chi2"],
        label: "χ²",
        columns: Columns::Categorical,
        values: &[("statistic", Stat::ChisquareStatistic), ("p_value", Stat::ChisquarePValue)],
        decided_by: Stat::ChisquarePValue,
        direction: Direction::Below,
        default_threshold: 0.05,
        compute: Compute::Bins(chisquare),
        report: &[Extra::DegreesOfFreedom],
        default_selected: true,
    },
    Spec {
        statistic: Statistic::JensenShannon,
        name: "jensen_shannon",
        aliases: &["jensen-shannon", "js"],
        label: "Jensen–Shannon",
        columns: Columns::Both,
        values: &[("value", Stat::JensenShannon)],
        decided_by: Stat::JensenShannon,
        direction: Direction::AtLeast,
        default_threshold: 0.1,
        compute: Compute::Bins(jensen_shannon),
        report: &[],
        default_selected: true,
    },
    Spec {
        statistic: Statistic::Wasserstein,
        name: "wasserstein",
        aliases: &[],
        label: "Wasserstein / σ",
        columns: Columns::Numeric,
        values: &[("value", Stat::Wasserstein), ("normalized", Stat::WassersteinNormalized)],
        decided_by: Stat::WassersteinNormalized,
        direction: Direction::AtLeast,
        default_threshold: 0.1,
        compute: Compute::MergedWalk,
        report: &[],
        default_selected: true,
    },
    Spec {
        statistic: Statistic::Hellinger,
        name: "hellinger",
        aliases: &[],
        label: "Hellinger",
        columns: Columns::Both,
        values: &[("value", Stat::Hellinger)],
        decided_by: Stat::Hellinger,
        direction: Direction::AtLeast,
        default_threshold: 0.1,
        compute: Compute::Bins(hellinger),
        report: &[],
        default_selected: true,
    },
    Spec {
        statistic: Statistic::KullbackLeibler,
        name: "kullback_leibler",
        aliases: &["kl", "kl_div"],
        label: "Kullback–Leibler",
        columns: Columns::Both,
        values: &[("value", Stat::KullbackLeibler)],
        decided_by: Stat::KullbackLeibler,
        direction: Direction::AtLeast,
        default_threshold: 0.1,
        compute: Compute::Bins(kullback_leibler),
        report: &[],
        default_selected: false,
    },
    // Data quality (opt-in): a share of the current side's cells or values; "drift" reads
    // "past the quality threshold". Thresholds: docs/statistics.md, "Data quality".
    Spec {
        statistic: Statistic::MissingShare,
        name: "missing_share",
        aliases: &[],
        label: "Missing share",
        columns: Columns::Both,
        values: &[("value", Stat::MissingShare)],
        decided_by: Stat::MissingShare,
        direction: Direction::AtLeast,
        default_threshold: 0.1,
        compute: Compute::Quality(missing_share),
        report: &[],
        default_selected: false,
    },
    Spec {
        statistic: Statistic::TypeMismatchShare,
        name: "type_mismatch_share",
        aliases: &[],
        label: "Type-mismatch share",
        columns: Columns::Numeric,
        values: &[("value", Stat::TypeMismatchShare)],
        decided_by: Stat::TypeMismatchShare,
        direction: Direction::AtLeast,
        default_threshold: 0.01,
        compute: Compute::Quality(type_mismatch_share),
        report: &[],
        default_selected: false,
    },
    Spec {
        statistic: Statistic::OutOfRangeShare,
        name: "out_of_range_share",
        aliases: &[],
        label: "Out-of-range share",
        columns: Columns::Numeric,
        values: &[("value", Stat::OutOfRangeShare)],
        decided_by: Stat::OutOfRangeShare,
        direction: Direction::AtLeast,
        default_threshold: 0.05,
        compute: Compute::Quality(out_of_range_share),
        report: &[],
        default_selected: false,
    },
    Spec {
        statistic: Statistic::UnseenCategoryShare,
        name: "unseen_category_share",
        aliases: &[],
        label: "Unseen-category share",
        columns: Columns::Categorical,
        values: &[("value", Stat::UnseenCategoryShare)],
        decided_by: Stat::UnseenCategoryShare,
        direction: Direction::AtLeast,
        default_threshold: 0.05,
        compute: Compute::Quality(unseen_category_share),
        report: &[],
        default_selected: false,
    },
];

impl Statistic {
    pub const COUNT: usize = 11;
    pub const ALL: [Statistic; Statistic::COUNT] = [
        Statistic::Psi,
        Statistic::Ks,
        Statistic::Chisquare,
        Statistic::JensenShannon,
        Statistic::Wasserstein,
        Statistic::Hellinger,
        Statistic::KullbackLeibler,
        Statistic::MissingShare,
        Statistic::TypeMismatchShare,
        Statistic::OutOfRangeShare,
        Statistic::UnseenCategoryShare,
    ];

    pub fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    pub fn index(self) -> usize {
        self as usize
    }
    /// The statistic that yields `stat` (`None` for the performance metrics, which are not
    /// drift statistics).
    pub fn of(stat: Stat) -> Option<Statistic> {
        SPECS.iter().find(|spec| spec.values.iter().any(|&(_, s)| s == stat)).map(|s| s.statistic)
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Statistic {
    type Err = String;
    /// A name or an alias.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SPECS
            .iter()
            .find(|spec| spec.name == text || spec.aliases.contains(&text))
            .map(|spec| spec.statistic)
            .ok_or_else(|| format!("unknown statistic {text:?} (expected {})", names().join(", ")))
    }
}

/// Every statistic's name, in registry order.
pub fn names() -> Vec<&'static str> {
    SPECS.iter().map(|spec| spec.name).collect()
}

impl Stat {
    /// The drift statistics' values (the registry's), [`Stat::ALL`].
    pub const COUNT: usize = 14;
    /// The values of the registry's drift statistics, in registry order.
    pub const ALL: [Stat; Stat::COUNT] = [
        Stat::Psi,
        Stat::KsStatistic,
        Stat::KsPValue,
        Stat::ChisquareStatistic,
        Stat::ChisquarePValue,
        Stat::JensenShannon,
        Stat::Wasserstein,
        Stat::WassersteinNormalized,
        Stat::Hellinger,
        Stat::KullbackLeibler,
        Stat::MissingShare,
        Stat::TypeMismatchShare,
        Stat::OutOfRangeShare,
        Stat::UnseenCategoryShare,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stat::Psi => "psi",
            Stat::KsStatistic => "ks_statistic",
            Stat::KsPValue => "ks_p_value",
            Stat::ChisquareStatistic => "chisquare_statistic",
            Stat::ChisquarePValue => "chisquare_p_value",
            Stat::JensenShannon => "jensen_shannon",
            Stat::Wasserstein => "wasserstein",
            Stat::WassersteinNormalized => "wasserstein_normalized",
            Stat::Hellinger => "hellinger",
            Stat::KullbackLeibler => "kullback_leibler",
            Stat::MissingShare => "missing_share",
            Stat::TypeMismatchShare => "type_mismatch_share",
            Stat::OutOfRangeShare => "out_of_range_share",
            Stat::UnseenCategoryShare => "unseen_category_share",
            Stat::Accuracy => "accuracy",
            Stat::Precision => "precision",
            Stat::Recall => "recall",
            Stat::F1 => "f1",
            Stat::F1Macro => "f1_macro",
            Stat::RocAuc => "roc_auc",
            Stat::LogLoss => "log_loss",
            Stat::Brier => "brier",
            Stat::Ece => "ece",
            Stat::Mae => "mae",
            Stat::Rmse => "rmse",
            Stat::Mape => "mape",
            Stat::R2 => "r2",
            Stat::LabelledShare => "labelled_share",
        }
    }

    /// The performance metrics of a window's joined predictions and labels, in report order
    /// (the keys of `compare --target`'s `performance` part, plus `labelled_share`).
    pub const PERFORMANCE: [Stat; 14] = [
        Stat::Accuracy,
        Stat::Precision,
        Stat::Recall,
        Stat::F1,
        Stat::F1Macro,
        Stat::RocAuc,
        Stat::LogLoss,
        Stat::Brier,
        Stat::Ece,
        Stat::Mae,
        Stat::Rmse,
        Stat::Mape,
        Stat::R2,
        Stat::LabelledShare,
    ];

    /// Every value a rule can name: the drift statistics', then the performance metrics.
    pub fn every() -> impl Iterator<Item = Stat> {
        Stat::ALL.into_iter().chain(Stat::PERFORMANCE)
    }

    pub fn is_performance(self) -> bool {
        Statistic::of(self).is_none()
    }

    /// Whether it is a p-value (small means drift; what a multiple-testing correction takes).
    pub fn is_p_value(self) -> bool {
        Statistic::of(self)
            .map(Statistic::spec)
            .is_some_and(|spec| spec.decided_by == self && spec.direction != Direction::AtLeast)
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod selection;
#[cfg(test)]
mod tests;

pub use selection::{StatValues, Statistics};
