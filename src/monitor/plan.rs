//! A monitor's start-up check: the settings and the reference profile fit together (epsilon,
//! frozen edges for frozen binnings, bin counts that match the edges, sorted categories), and
//! each feature's accumulation plan. Errors name the monitor, stream and feature.

use std::collections::{BTreeMap, HashMap};

use super::accumulate::FeaturePlan;
use super::{MonitorError, MonitorSettings};
use crate::record::Stream;
use crate::reference::{FeatureKind, ReferenceProfile};
use crate::stats::binning::Binning;

/// Checks the settings and the profile, and prepares each feature's plan.
pub(super) fn plan(
    name: &str,
    profile: &ReferenceProfile,
    settings: &MonitorSettings,
) -> Result<BTreeMap<Stream, Vec<FeaturePlan>>, MonitorError> {
    let epsilon = settings.compare.epsilon;
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(MonitorError::Epsilon { monitor: name.to_string(), epsilon });
    }
    if profile.streams.values().all(|s| s.features.is_empty()) {
        return Err(MonitorError::EmptyProfile { monitor: name.to_string() });
    }
    if settings.trailing_windows.is_some() {
        // Only the kinds count: no reference index or edges while a window is open (the pool
        // they would come from changes as earlier windows close; see `monitor/trailing.rs`).
        return Ok(profile
            .streams
            .iter()
            .map(|(&stream, p)| {
                let plans = p
                    .features
                    .iter()
                    .map(|f| match f.kind {
                        FeatureKind::Numeric(_) => {
                            FeaturePlan::Numeric { edges: None, reference_counts: None, range: None }
                        }
                        FeatureKind::Categorical(_) => FeaturePlan::Categorical { index: HashMap::new() },
                    })
                    .collect();
                (stream, plans)
            })
            .collect());
    }
    let frozen = settings.compare.binning != Binning::Evidently;
    let mut plans = BTreeMap::new();
    for (&stream, stream_profile) in &profile.streams {
        for feature in &stream_profile.features {
            let error = |problem| MonitorError::Binning {
                monitor: name.to_string(),
                stream,
                feature: feature.name.clone(),
                binning: settings.compare.binning.to_string(),
                problem,
            };
            match &feature.kind {
                FeatureKind::Numeric(r) if !r.sorted.is_empty() && frozen && r.edges.is_none() => {
                    return Err(error("needs frozen edges, and the reference has none (was it fit with `evidently`?)"))
                }
                FeatureKind::Numeric(r) if !frozen && r.edges.is_some() => {
                    return Err(error("takes its bins from each window, but the reference carries frozen edges"))
                }
                FeatureKind::Numeric(r)
                    if feature
                        .bin_counts
                        .as_ref()
                        .is_some_and(|c| Some(c.len()) != r.edges.as_ref().map(|e| e.len() + 1)) =>
                {
                    return Err(error(
                        "needs one reference bin count per bin, and the profile's bin counts do not fit its edges",
                    ))
                }
                FeatureKind::Categorical(r) if r.counts.windows(2).any(|w| w[0].0.as_bytes() >= w[1].0.as_bytes()) => {
                    return Err(MonitorError::Categories {
                        monitor: name.to_string(),
                        stream,
                        feature: feature.name.clone(),
                    })
                }
                _ => {}
            }
        }
        plans.insert(stream, stream_profile.features.iter().map(FeaturePlan::new).collect());
    }
    Ok(plans)
}
