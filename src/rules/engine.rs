//! The rules engine: one closed window's statistics in, alert transitions and grouped
//! notifications out.
//!
//! Input: a [`WindowEvaluation`] (one monitor, one stream, one closed window), decoupled from
//! the daemon's types. Output: an [`Evaluation`]: every state change, and one
//! [`Notification`] per (action, group) that has something to say. Pure and synchronous:
//! time is the windows' event time, nothing is sent here. The lifecycle (Prometheus' with a
//! latched condition) and its invariants: on [`Engine::evaluate`]; docs/rules.md, "Lifecycle".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lifecycle::step;
use super::model::*;
use super::observe::{observe, Observed, WindowEvaluation};
use super::state::*;
use crate::notification::{
    format_number, ActionKind, AlertKey, AlertStatus, AlertSummary, Notification, NotificationStatus,
};
use crate::source::time::format_time_ms;

/// A state change of one alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub key: AlertKey,
    pub from: AlertStatus,
    pub to: AlertStatus,
    pub window_end_ms: i64,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
}

/// A notification an action's cooldown held back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    pub action: String,
    pub rule: String,
    pub monitor: String,
    pub group_key: String,
    /// Event time from which the action may notify this monitor again.
    pub until_ms: i64,
}

/// The outcome of one [`Engine::evaluate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub transitions: Vec<Transition>,
    pub notifications: Vec<Notification>,
    pub suppressed: Vec<Suppressed>,
}

/// Rules and their state.
#[derive(Debug, Clone)]
pub struct Engine {
    rules: RuleSet,
    hashes: Vec<String>,
    state: EngineState,
}

impl Engine {
    /// An engine with `rules`, resuming from `state` (an empty [`EngineState`] for a fresh
    /// start); states of rules that changed or disappeared are dropped.
    pub fn new(rules: RuleSet, mut state: EngineState) -> Engine {
        state.retain_unchanged(&rules);
        let hashes = rules.rules.iter().map(Rule::hash).collect();
        Engine { rules, hashes, state }
    }

    /// Replace the rules (SIGHUP), keeping the states of unchanged rules.
    pub fn reload(&mut self, rules: RuleSet) {
        let state = std::mem::take(&mut self.state);
        *self = Engine::new(rules, state);
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The state to persist.
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    pub fn into_state(self) -> EngineState {
        self.state
    }

    /// Apply every rule of `window.monitor` watching `window.stream` to the window.
    ///
    /// Per alert (rule, monitor, stream, feature), each window gives a verdict:
    /// - *no verdict* (value NaN or absent, fewer than `min_samples`, threshold undefined): the
    ///   state is left exactly as it is;
    /// - *breach* (`when` holds), *clear* (`clear_when` holds, or `when` does not when there is
    ///   no `clear_when`), or *between* (neither: only with `clear_when`).
    ///
    /// The condition is latched (a Schmitt trigger): an inactive alert becomes active on a
    /// breach; an active (pending or firing) one stays active until a clear, so between the two
    /// thresholds the state holds and keeps counting towards `for`. Then, as Prometheus:
    /// active for `for` (consecutive windows, or event time since the start of the first active
    /// window) → firing; a pending alert that clears → inactive; a firing alert that clears →
    /// resolved, after `keep_firing_for` more clear windows (or event time) if set; a resolved
    /// alert → inactive or pending at its next verdict.
    ///
    /// Notifications: an alert is *due* when it starts firing, resolves, or (`repeat_every`)
    /// fires on long enough after its last notification. Each rule's alerts of the evaluation
    /// are grouped by `group_by` labels; a group with a due alert yields one notification per
    /// action of the rule, holding the group's firing and just-resolved alerts. Retraining
    /// actions are not told of resolutions. An action's `cooldown` allows one notification per
    /// monitor per period; a suppressed one is reported in [`Evaluation::suppressed`].
    ///
    /// Invariants: never firing before `for` has elapsed; one evaluation of a window ending at or
    /// before an alert's last evaluated window changes nothing for it (replays are idempotent);
    /// idempotency keys are unique per (action, rule, monitor, group, episode, seq).
    pub fn evaluate(&mut self, window: &WindowEvaluation) -> Evaluation {
        let mut out = Evaluation::default();
        for index in 0..self.rules.rules.len() {
            let rule = &self.rules.rules[index];
            if rule.monitor != window.monitor || !rule.streams.contains(&window.stream) {
                continue;
            }
            let observed = observe(rule, window);
            let hash = self.hashes[index].clone();
            let mut outcomes: Vec<(AlertKey, Observed, AlertStatus, bool)> = Vec::new();
            for obs in observed {
                let key = AlertKey {
                    rule: rule.name.clone(),
                    monitor: window.monitor.clone(),
                    stream: window.stream,
                    feature: obs.feature.clone(),
                };
                let state = self.state.alerts.entry(key.clone()).or_insert_with(|| AlertState::new(hash.clone()));
                if state.last_window_end_ms.is_some_and(|last| window.window_end_ms <= last) {
                    continue;
                }
                let from = state.status;
                let due = step(rule, state, &obs, window);
                if state.status != from {
                    out.transitions.push(Transition {
                        key: key.clone(),
                        from,
                        to: state.status,
                        window_end_ms: window.window_end_ms,
                        value: obs.value,
                        threshold: obs.threshold,
                    });
                }
                outcomes.push((key, obs, state.status, due));
            }
            self.notify(index, &hash, window, outcomes, &mut out);
        }
        // Never-active alerts carry no information: keep the persisted state small.
        self.state.alerts.retain(|_, s| s.status != AlertStatus::Inactive || s.fired_count > 0);
        out
    }

    fn notify(
        &mut self,
        index: usize,
        hash: &str,
        window: &WindowEvaluation,
        outcomes: Vec<(AlertKey, Observed, AlertStatus, bool)>,
        out: &mut Evaluation,
    ) {
        let rule = &self.rules.rules[index];
        // Group the alerts that have something to show: firing, or resolved in this window.
        let mut groups: BTreeMap<String, Vec<(AlertKey, Observed, AlertStatus, bool)>> = BTreeMap::new();
        for outcome in outcomes {
            let shown = outcome.2 == AlertStatus::Firing || (outcome.2 == AlertStatus::Resolved && outcome.3);
            if shown {
                groups.entry(group_key(rule, &alert_labels(rule, &outcome.0))).or_default().push(outcome);
            }
        }
        for (group, mut members) in groups {
            if !members.iter().any(|m| m.3) {
                continue;
            }
            members.sort_by(|a, b| {
                (a.2 != AlertStatus::Firing, &a.0.feature).cmp(&(b.2 != AlertStatus::Firing, &b.0.feature))
            });
            let gkey = GroupKey { rule: rule.name.clone(), monitor: window.monitor.clone(), group: group.clone() };
            // The group fires while any of its alerts (any stream) fires.
            let firing = self.state.alerts.iter().any(|(k, s)| {
                k.rule == rule.name
                    && k.monitor == window.monitor
                    && s.status == AlertStatus::Firing
                    && group_key(rule, &alert_labels(rule, k)) == group
            });
            let gstate = self.state.groups.entry(gkey).or_insert_with(|| GroupState {
                rule_hash: hash.to_string(),
                episode: 0,
                seq: 0,
                firing: false,
            });
            if firing && !gstate.firing {
                gstate.episode += 1;
                gstate.seq = 0;
            } else {
                gstate.seq += 1;
            }
            gstate.firing = firing;
            let (episode, seq) = (gstate.episode, gstate.seq);
            let status = if firing { NotificationStatus::Firing } else { NotificationStatus::Resolved };
            for (key, _, status, _) in &members {
                if *status == AlertStatus::Firing {
                    if let Some(s) = self.state.alerts.get_mut(key) {
                        s.last_notified_ms = Some(window.window_end_ms);
                    }
                }
            }
            let summaries: Vec<AlertSummary> =
                members.iter().map(|(key, obs, st, _)| self.summary(rule, key, obs, *st, window)).collect();
            let group_labels: BTreeMap<String, String> = {
                let labels = alert_labels(rule, &members[0].0);
                rule.group_by.iter().map(|l| (l.clone(), labels.get(l).cloned().unwrap_or_default())).collect()
            };
            for action_name in &rule.actions {
                let Some(action) = self.rules.actions.get(action_name) else { continue };
                let alerts: Vec<AlertSummary> = match action.kind {
                    ActionKind::Alert => summaries.clone(),
                    // A retraining trigger is about drift present now: firing alerts only.
                    ActionKind::Retrain => {
                        summaries.iter().filter(|a| a.status == AlertStatus::Firing).cloned().collect()
                    }
                };
                if alerts.is_empty() {
                    continue;
                }
                let cooldown_key = (action.name.clone(), window.monitor.clone());
                if let (Some(cooldown), Some(last)) = (action.cooldown, self.state.last_sent.get(&cooldown_key)) {
                    let until = last.saturating_add(i64::try_from(cooldown.as_millis()).unwrap_or(i64::MAX));
                    if window.window_end_ms < until {
                        out.suppressed.push(Suppressed {
                            action: action.name.clone(),
                            rule: rule.name.clone(),
                            monitor: window.monitor.clone(),
                            group_key: group.clone(),
                            until_ms: until,
                        });
                        continue;
                    }
                }
                self.state.last_sent.insert(cooldown_key, window.window_end_ms);
                out.notifications.push(Notification {
                    action: action.name.clone(),
                    action_kind: action.kind,
                    rule: rule.name.clone(),
                    monitor: window.monitor.clone(),
                    stream: window.stream,
                    severity: rule.severity,
                    group: group_labels.clone(),
                    group_key: group.clone(),
                    status,
                    episode,
                    seq,
                    idempotency_key: format!(
                        "{}/{}/{}/{}/{episode}/{seq}",
                        action.name, rule.name, window.monitor, group
                    ),
                    window_start_ms: window.window_start_ms,
                    window_end_ms: window.window_end_ms,
                    window_events: window.window_events,
                    alerts,
                });
            }
        }
    }

    fn summary(
        &self,
        rule: &Rule,
        key: &AlertKey,
        obs: &Observed,
        status: AlertStatus,
        window: &WindowEvaluation,
    ) -> AlertSummary {
        let labels = alert_labels(rule, key);
        let state = self.state.alerts.get(key);
        let stat = rule.trigger.stat();
        let lookup = |name: &str| -> String {
            if let Some(label) = name.strip_prefix("labels.") {
                return labels.get(label).cloned().unwrap_or_default();
            }
            match name {
                "rule" => rule.name.clone(),
                "monitor" => key.monitor.clone(),
                "stream" => key.stream.to_string(),
                "feature" => key.feature.clone(),
                "stat" => stat.name().to_string(),
                "value" => obs.value.map(format_number).unwrap_or_else(|| "NaN".into()),
                "threshold" => obs.threshold.map(format_number).unwrap_or_else(|| "NaN".into()),
                "window_start" => format_time_ms(window.window_start_ms),
                "window_end" => format_time_ms(window.window_end_ms),
                "n" => obs.n.to_string(),
                "severity" => rule.severity.name().to_string(),
                _ => String::new(),
            }
        };
        AlertSummary {
            key: key.clone(),
            status,
            stat: stat.name().to_string(),
            value: obs.value,
            threshold: obs.threshold,
            op: match rule.trigger {
                Trigger::Threshold { when, .. } => when.op.symbol().to_string(),
                Trigger::Corrected { .. } => "rejected".to_string(),
            },
            n: obs.n,
            severity: rule.severity,
            annotations: rule.annotations.iter().map(|(k, t)| (k.clone(), t.render(&lookup))).collect(),
            labels,
            active_since_ms: state.and_then(|s| s.active_since_ms),
            fired_at_ms: state.and_then(|s| s.fired_at_ms),
        }
    }

    /// Every alert's state (inactive alerts that never fired are not kept).
    pub fn alerts(&self) -> impl Iterator<Item = (&AlertKey, &AlertState)> {
        self.state.alerts.iter()
    }
}

/// The labels of an alert: built-in ones, then the rule's.
pub fn alert_labels(rule: &Rule, key: &AlertKey) -> BTreeMap<String, String> {
    let mut labels = rule.labels.clone();
    labels.insert("rule".into(), rule.name.clone());
    labels.insert("monitor".into(), key.monitor.clone());
    labels.insert("stream".into(), key.stream.to_string());
    labels.insert("feature".into(), key.feature.clone());
    labels.insert("severity".into(), rule.severity.name().into());
    labels
}

fn group_key(rule: &Rule, labels: &BTreeMap<String, String>) -> String {
    rule.group_by
        .iter()
        .map(|l| format!("{l}={}", labels.get(l).map(String::as_str).unwrap_or("")))
        .collect::<Vec<_>>()
        .join(",")
}
