//! What rule files may name: monitors, their streams, and the features of each stream, taken
//! from the daemon's configuration.
//!
//! A stream whose features are only known once data arrives (`features: "*"`, predictions)
//! has `None`: its feature selectors are not checked at load. [`Known::unchecked`] checks no
//! name at all (rule tests, or rule files validated without a configuration).

use std::collections::BTreeMap;

use crate::config::{Config, FeatureSelection, StreamValues};
use crate::record::Stream;

/// Monitor → stream → features (`None`: not known before data arrives).
pub type KnownStreams = BTreeMap<Stream, Option<Vec<String>>>;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    monitors: Option<BTreeMap<String, KnownStreams>>,
}

impl Known {
    /// Check no monitor, stream or feature name.
    pub fn unchecked() -> Known {
        Known { monitors: None }
    }

    /// Exactly these monitors.
    pub fn new(monitors: BTreeMap<String, KnownStreams>) -> Known {
        Known { monitors: Some(monitors) }
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
        Known::new(monitors)
    }

    pub fn monitors(&self) -> Option<&BTreeMap<String, KnownStreams>> {
        self.monitors.as_ref()
    }
}
