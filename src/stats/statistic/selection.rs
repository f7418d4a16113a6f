//! Which statistics to compute ([`Statistics`], a set over the registry: parsed from `--stats`
//! and `statistics:`) and the values they gave ([`StatValues`], one slot per [`Stat`]).

use std::str::FromStr;

use super::{names, Compute, Outcome, Spec, Stat, Statistic, SPECS};
use crate::stats::quality::QualityCounts;

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
    /// Stores every selected [`Compute::Quality`] statistic that applies to the column type.
    pub fn set_quality(&mut self, selected: &Statistics, numeric: bool, counts: &QualityCounts) {
        for spec in selected.for_columns(numeric) {
            if let Compute::Quality(compute) = spec.compute {
                self.set(spec.decided_by, compute(counts));
            }
        }
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
