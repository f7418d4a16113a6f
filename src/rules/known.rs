//! What rule files may name: monitors, their streams, and the features of each stream, taken
//! from the daemon's configuration.
//!
//! A stream whose features are only known once data arrives (`features: "*"`, predictions)
//! has `None`: its feature selectors are not checked at load. [`Known::unchecked`] checks no
//! name at all (rule tests, or rule files validated without a configuration). The statistics
//! each monitor computes are known from a configuration only: a rule on a statistic its
//! monitor does not compute would never have a value, so it is refused at load.

use std::collections::BTreeMap;

use crate::config::{Config, FeatureSelection, StreamValues};
use crate::record::Stream;
use crate::stats::statistic::Statistics;

/// Monitor → stream → features (`None`: not known before data arrives).
pub type KnownStreams = BTreeMap<Stream, Option<Vec<String>>>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    monitors: Option<BTreeMap<String, KnownStreams>>,
    /// Monitor → the statistics it computes (empty: not checked).
    statistics: BTreeMap<String, Statistics>,
}

impl Known {
    /// Check no monitor, stream or feature name.
    pub fn unchecked() -> Known {
        Known { monitors: None, statistics: BTreeMap::new() }
    }

    /// Exactly these monitors.
    pub fn new(monitors: BTreeMap<String, KnownStreams>) -> Known {
        Known { monitors: Some(monitors), statistics: BTreeMap::new() }
    }

    /// The monitors of a loaded configuration.
    pub fn from_config(config: &Config) -> Known {
        let monitors = config
            .monitors
            .iter()
            .map(|m| {
                let streams = m
                    .streams()
                    .map(|(stream, s)| {
                        let features = match &s.values {
                            StreamValues::Features(FeatureSelection::List(list)) => {
                                Some(list.iter().map(|f| f.name.clone()).collect())
                            }
                            _ => None,
                        };
                        (stream, features)
                    })
                    .collect();
                (m.name.clone(), streams)
            })
            .collect();
        let statistics = config.monitors.iter().map(|m| (m.name.clone(), m.statistics)).collect();
        Known { monitors: Some(monitors), statistics }
    }

    pub fn monitors(&self) -> Option<&BTreeMap<String, KnownStreams>> {
        self.monitors.as_ref()
    }

    /// The statistics `monitor` computes, when known.
    pub fn statistics(&self, monitor: &str) -> Option<Statistics> {
        self.statistics.get(monitor).copied()
    }
}
