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
];

impl Statistic {
    pub const COUNT: usize = 7;
    pub const ALL: [Statistic; Statistic::COUNT] = [
        Statistic::Psi,
        Statistic::Ks,
        Statistic::Chisquare,
        Statistic::JensenShannon,
        Statistic::Wasserstein,
        Statistic::Hellinger,
        Statistic::KullbackLeibler,
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
    /// The statistic that yields `stat`.
    pub fn of(stat: Stat) -> Statistic {
        SPECS.iter().find(|spec| spec.values.iter().any(|&(_, s)| s == stat)).map_or(Statistic::Psi, |s| s.statistic)
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
    pub const COUNT: usize = 10;
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
        }
    }

    /// Whether it is a p-value (small means drift; what a multiple-testing correction takes).
    pub fn is_p_value(self) -> bool {
        let spec = Statistic::of(self).spec();
        spec.decided_by == self && spec.direction != Direction::AtLeast
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value per [`Stat`]; NaN where not computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatValues([f64; Stat::COUNT]);

impl Default for StatValues {
    fn default() -> Self {
        StatValues([f64::NAN; Stat::COUNT])
    }
}

impl StatValues {
    pub fn get(&self, stat: Stat) -> f64 {
        self.0[stat as usize]
    }
    pub fn set(&mut self, stat: Stat, value: f64) {
        self.0[stat as usize] = value;
    }
    /// Stores a [`Compute::Bins`] outcome under its statistic's value names.
    pub fn set_outcome(&mut self, statistic: Statistic, outcome: &Outcome) {
        for (&(_, stat), &value) in statistic.spec().values.iter().zip(&outcome.values) {
            self.set(stat, value);
        }
    }
}

/// A set of statistics to compute (the registry's default ones by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statistics(u32);

impl Statistics {
    pub const ALL: Statistics = Statistics((1 << Statistic::COUNT) - 1);
    pub const NONE: Statistics = Statistics(0);
    /// What is computed when no list is given: the registry's `default_selected` ones.
    pub const DEFAULT: Statistics = {
        let mut bits = 0;
        let mut i = 0;
        while i < Statistic::COUNT {
            if SPECS[i].default_selected {
                bits |= 1 << i;
            }
            i += 1;
        }
        Statistics(bits)
    };

    pub fn contains(&self, statistic: Statistic) -> bool {
        self.0 & (1 << statistic as u32) != 0
    }
    pub fn insert(&mut self, statistic: Statistic) {
        self.0 |= 1 << statistic as u32;
    }
    pub fn with(mut self, statistic: Statistic) -> Self {
        self.insert(statistic);
        self
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    /// The selected statistics, in registry order.
    pub fn iter(self) -> impl Iterator<Item = Statistic> {
        Statistic::ALL.into_iter().filter(move |s| self.contains(*s))
    }
    /// The selected ones that apply to numeric (`true`) or categorical columns.
    pub fn for_columns(self, numeric: bool) -> impl Iterator<Item = &'static Spec> {
        self.iter().map(Statistic::spec).filter(move |spec| {
            if numeric {
                spec.columns.numeric()
            } else {
                spec.columns.categorical()
            }
        })
    }
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics::DEFAULT
    }
}

impl FromIterator<Statistic> for Statistics {
    fn from_iter<I: IntoIterator<Item = Statistic>>(iter: I) -> Self {
        let mut set = Statistics::NONE;
        for statistic in iter {
            set.insert(statistic);
        }
        set
    }
}

impl FromStr for Statistics {
    type Err = String;

    /// A comma-separated list of statistic names or aliases, `default` or `all`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "all" => return Ok(Statistics::ALL),
            "default" => return Ok(Statistics::DEFAULT),
            _ => {}
        }
        text.split(',')
            .map(str::trim)
            .map(|name| {
                name.parse::<Statistic>().map_err(|_| {
                    format!("unknown statistic {name:?} (expected all or a list of {})", names().join(", "))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_in_enum_order_and_every_stat_has_one_statistic() {
        for (i, spec) in SPECS.iter().enumerate() {
            assert_eq!(spec.statistic as usize, i, "{}", spec.name);
            assert_eq!(spec.statistic.name().parse::<Statistic>(), Ok(spec.statistic));
            assert!(spec.values.iter().any(|&(_, stat)| stat == spec.decided_by), "{}", spec.name);
        }
        for stat in Stat::ALL {
            let owners = SPECS.iter().filter(|spec| spec.values.iter().any(|&(_, s)| s == stat)).count();
            assert_eq!(owners, 1, "{stat}");
        }
        let in_registry_order: Vec<Stat> = SPECS.iter().flat_map(|spec| spec.values.iter().map(|&(_, s)| s)).collect();
        assert_eq!(in_registry_order, Stat::ALL);
    }

    #[test]
    fn selections_parse_names_and_aliases() {
        let set: Statistics = "psi, js,chi2".parse().unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), [Statistic::Psi, Statistic::Chisquare, Statistic::JensenShannon]);
        assert_eq!("all".parse::<Statistics>(), Ok(Statistics::ALL));
        assert!("psi,entropy".parse::<Statistics>().unwrap_err().contains("\"entropy\""));
        assert!([Stat::KsPValue, Stat::ChisquarePValue].iter().all(|s| s.is_p_value()));
        assert!(!Stat::KsStatistic.is_p_value() && !Stat::Psi.is_p_value());
    }
}
