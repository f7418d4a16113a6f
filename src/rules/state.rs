//! The engine's persistent state ([`EngineState`]): one [`AlertState`] per (rule, monitor,
//! stream, feature), one [`GroupState`] per notification group, and the last send of each
//! (action, monitor) for cooldowns.
//!
//! Serde-serialisable and persisted with each checkpoint (a restart neither re-sends nor resets
//! `for` timers); holds event times only, never wall-clock times. Maps with composite keys
//! serialize as lists of entries (JSON object keys are strings). SIGHUP reload keeps exactly
//! the states whose rule is unchanged ([`EngineState::retain_unchanged`], by rule hash).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::model::RuleSet;
use crate::notification::{AlertKey, AlertStatus};

/// Feature name of the alerts of dataset-level statistics.
pub const DATASET_FEATURE: &str = "*";

/// One alert's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    /// [`super::Rule::hash`] of the rule this state was computed under.
    pub rule_hash: String,
    pub status: AlertStatus,
    /// Consecutive windows with the condition active (breaching, or between the thresholds
    /// while active).
    pub active_windows: u32,
    /// Start of the first window of the current active run (for `for` in event time).
    pub active_since_ms: Option<i64>,
    /// End of the window in which the alert last started firing.
    pub fired_at_ms: Option<i64>,
    /// While firing: consecutive clear windows (`keep_firing_for`).
    pub clear_windows: u32,
    /// While firing: start of the first clear window of the current run.
    pub clear_since_ms: Option<i64>,
    /// End of the window of the last notification that included this alert as firing.
    pub last_notified_ms: Option<i64>,
    /// How many times the alert started firing.
    pub fired_count: u64,
    /// End of the last window evaluated (a window ending at or before it is ignored: replaying
    /// a window after a restart changes nothing).
    pub last_window_end_ms: Option<i64>,
    /// The last finite value and threshold (shown by the API).
    pub last_value: Option<f64>,
    pub last_threshold: Option<f64>,
}

impl AlertState {
    pub fn new(rule_hash: String) -> AlertState {
        AlertState {
            rule_hash,
            status: AlertStatus::Inactive,
            active_windows: 0,
            active_since_ms: None,
            fired_at_ms: None,
            clear_windows: 0,
            clear_since_ms: None,
            last_notified_ms: None,
            fired_count: 0,
            last_window_end_ms: None,
            last_value: None,
            last_threshold: None,
        }
    }
}

/// Identifies one notification group: a rule's alerts of one monitor with equal `group_by`
/// labels. Groups never span rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GroupKey {
    pub rule: String,
    pub monitor: String,
    /// `label=value` pairs of `group_by`, comma-separated, in `group_by` order.
    pub group: String,
}

/// A group's episode counter: an episode starts when the group goes from no firing alert to
/// at least one; `seq` numbers the notifications within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupState {
    pub rule_hash: String,
    pub episode: u64,
    pub seq: u64,
    /// Whether the group had a firing alert after its last notification.
    pub firing: bool,
}

/// Everything the engine persists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    #[serde(with = "entries")]
    pub alerts: BTreeMap<AlertKey, AlertState>,
    #[serde(with = "entries")]
    pub groups: BTreeMap<GroupKey, GroupState>,
    /// (action, monitor) → end of the window whose notification was last produced.
    #[serde(with = "entries")]
    pub last_sent: BTreeMap<(String, String), i64>,
}

impl EngineState {
    /// Keep the states of rules present in `rules` with an unchanged definition
    /// ([`super::Rule::hash`]) and the cooldowns of actions still defined; drop the rest.
    pub fn retain_unchanged(&mut self, rules: &RuleSet) {
        let hashes: BTreeMap<&str, String> = rules.rules.iter().map(|r| (r.name.as_str(), r.hash())).collect();
        let keep = |rule: &str, hash: &str| hashes.get(rule).is_some_and(|h| h == hash);
        self.alerts.retain(|key, state| keep(&key.rule, &state.rule_hash));
        self.groups.retain(|key, state| keep(&key.rule, &state.rule_hash));
        let actions: BTreeSet<&str> = rules.actions.keys().map(String::as_str).collect();
        self.last_sent.retain(|(action, _), _| actions.contains(action.as_str()));
    }
}

/// A map serialized as a list of `[key, value]` entries.
mod entries {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Vec::<(K, V)>::deserialize(d).map(|v| v.into_iter().collect())
    }
}
