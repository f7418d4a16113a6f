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

use super::model::*;
use super::state::*;
use super::threshold::{benjamini_hochberg, bonferroni, yurdakul_psi_threshold};
use crate::monitor::Stat;
use crate::record::Stream;
use crate::source::time::format_time_ms;

/// One closed window of one stream of one monitor, as the rules see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowEvaluation {
    pub monitor: String,
    pub stream: Stream,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub window_events: u64,
    pub features: Vec<FeatureStats>,
}

/// One feature's statistics in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureStats {
    pub name: String,
    /// Values of the feature in the window.
    pub n: u64,
    /// Values of the feature in the reference (sample-size-aware PSI).
    pub n_ref: Option<u64>,
    /// Bins of the binned statistics (sample-size-aware PSI).
    pub n_bins: Option<usize>,
    /// NaN or absent: no verdict for rules on that statistic.
    pub values: BTreeMap<Stat, f64>,
    /// The monitor's drift verdict for the feature (`share_drifted_features`).
    pub drifted: bool,
}

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

/// One alert inside a notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub key: AlertKey,
    /// `firing` or `resolved`.
    pub status: AlertStatus,
    pub stat: String,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    /// `>`, `<`, … (`rejected` for corrected p-values: `value <= threshold` after correction).
    pub op: String,
    pub n: u64,
    pub severity: Severity,
    /// Built-in labels (rule, monitor, stream, feature, severity) and the rule's labels.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub active_since_ms: Option<i64>,
    pub fired_at_ms: Option<i64>,
}

/// What a group notification says overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// At least one alert of the group fires.
    Firing,
    /// Every alert of the group resolved.
    Resolved,
}

impl NotificationStatus {
    pub fn name(self) -> &'static str {
        match self {
            NotificationStatus::Firing => "firing",
            NotificationStatus::Resolved => "resolved",
        }
    }
}

/// One message for one action: a group of one rule's alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub action: String,
    pub action_kind: ActionKind,
    pub rule: String,
    pub monitor: String,
    pub stream: Stream,
    pub severity: Severity,
    /// The `group_by` labels and their values.
    pub group: BTreeMap<String, String>,
    pub group_key: String,
    pub status: NotificationStatus,
    pub episode: u64,
    pub seq: u64,
    /// `action/rule/monitor/group/episode/seq`: equal for a retry of the same notification,
    /// distinct for any other (receivers deduplicate on it).
    pub idempotency_key: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub window_events: u64,
    /// Firing alerts first, then resolved ones; by feature within each.
    pub alerts: Vec<AlertSummary>,
}

impl Notification {
    /// The text of a notification template variable ([`super::NOTIFICATION_VARIABLES`], and
    /// `labels.X`: the group's label, else the value all its alerts share, else empty).
    /// Values are inserted as they are (no JSON escaping): names of rules, monitors, streams
    /// and features are plain identifiers, and `evidence` is JSON.
    pub fn variable(&self, name: &str) -> String {
        if let Some(label) = name.strip_prefix("labels.") {
            if let Some(value) = self.group.get(label) {
                return value.clone();
            }
            let mut values = self.alerts.iter().filter_map(|a| a.labels.get(label));
            let first = values.next().cloned().unwrap_or_default();
            return if values.all(|v| *v == first) { first } else { String::new() };
        }
        match name {
            "rule" => self.rule.clone(),
            "monitor" => self.monitor.clone(),
            "stream" => self.stream.to_string(),
            "severity" => self.severity.name().to_string(),
            "status" => self.status.name().to_string(),
            "window_start" => format_time_ms(self.window_start_ms),
            "window_end" => format_time_ms(self.window_end_ms),
            "alerts_count" => self.alerts.len().to_string(),
            "features" => self.alerts.iter().map(|a| a.key.feature.as_str()).collect::<Vec<_>>().join(", "),
            "idempotency_key" => self.idempotency_key.clone(),
            "episode" => self.episode.to_string(),
            "evidence" => self.evidence_json(),
            _ => String::new(),
        }
    }

    /// Render an email subject or webhook body (a template checked at load).
    pub fn render(&self, template: &super::Template) -> String {
        template.render(&|name| self.variable(name))
    }

    /// The notification as JSON: the default webhook body and `{{ evidence }}`.
    pub fn evidence_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
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

/// A window's verdict for one alert.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    None,
    Breach,
    Clear,
    Between,
}

/// What one alert saw in the window.
struct Observed {
    feature: String,
    verdict: Verdict,
    value: Option<f64>,
    threshold: Option<f64>,
    n: u64,
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

/// A number as templates show it: integers plainly, others with 4 decimals (scientific
/// below 1e-4, where p-values live), trailing zeros trimmed.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    if v.abs() < 1e-4 {
        return format!("{v:.3e}");
    }
    let text = format!("{v:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Advance one alert by one window; returns whether it is due for a notification.
fn step(rule: &Rule, state: &mut AlertState, obs: &Observed, window: &WindowEvaluation) -> bool {
    if obs.verdict == Verdict::None {
        return false;
    }
    state.last_window_end_ms = Some(window.window_end_ms);
    state.last_value = obs.value;
    state.last_threshold = obs.threshold;
    let active = match obs.verdict {
        Verdict::Breach => true,
        Verdict::Between => state.status.is_active(),
        Verdict::Clear | Verdict::None => false,
    };
    let end = window.window_end_ms;
    if active {
        if !state.status.is_active() {
            state.status = AlertStatus::Pending;
            state.active_windows = 0;
            state.active_since_ms = Some(window.window_start_ms);
        }
        state.active_windows = state.active_windows.saturating_add(1);
        state.clear_windows = 0;
        state.clear_since_ms = None;
        if state.status == AlertStatus::Pending
            && elapsed(rule.for_, state.active_windows, state.active_since_ms, end, false)
        {
            state.status = AlertStatus::Firing;
            state.fired_at_ms = Some(end);
            state.fired_count += 1;
            return true;
        }
        if state.status == AlertStatus::Firing {
            return match (rule.repeat_every, state.last_notified_ms) {
                (Some(every), Some(last)) => {
                    end.saturating_sub(last) >= i64::try_from(every.as_millis()).unwrap_or(i64::MAX)
                }
                _ => false,
            };
        }
        return false;
    }
    match state.status {
        AlertStatus::Firing => {
            state.clear_windows = state.clear_windows.saturating_add(1);
            let since = *state.clear_since_ms.get_or_insert(window.window_start_ms);
            // keep_firing_for: still firing while the clear run is no longer than the span.
            if rule
                .keep_firing_for
                .is_some_and(|keep| !elapsed(Some(keep), state.clear_windows, Some(since), end, true))
            {
                return false;
            }
            state.status = AlertStatus::Resolved;
            state.active_windows = 0;
            state.active_since_ms = None;
            state.clear_windows = 0;
            state.clear_since_ms = None;
            true
        }
        _ => {
            state.status = AlertStatus::Inactive;
            state.active_windows = 0;
            state.active_since_ms = None;
            false
        }
    }
}

/// Whether `span` has elapsed after `windows` windows, or from `since` to `end` in event time.
/// `strict`: strictly more than the span (keep_firing_for), else at least (for).
fn elapsed(span: Option<Span>, windows: u32, since: Option<i64>, end: i64, strict: bool) -> bool {
    match span {
        None => true,
        Some(Span::Windows(n)) => {
            if strict {
                windows > n
            } else {
                windows >= n
            }
        }
        Some(Span::Duration(d)) => {
            let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            let run = end.saturating_sub(since.unwrap_or(end));
            if strict {
                run > d
            } else {
                run >= d
            }
        }
    }
}

/// The verdict of every alert of `rule` in the window.
fn observe(rule: &Rule, window: &WindowEvaluation) -> Vec<Observed> {
    let selected: Vec<&FeatureStats> = window.features.iter().filter(|f| rule.features.matches(&f.name)).collect();
    match rule.trigger.stat() {
        RuleStat::WindowEvents | RuleStat::ShareDriftedFeatures => {
            let n = window.window_events;
            let value = match rule.trigger.stat() {
                RuleStat::WindowEvents => Some(n as f64),
                _ if selected.is_empty() => None,
                _ => Some(selected.iter().filter(|f| f.drifted).count() as f64 / selected.len() as f64),
            };
            let verdict_of = |value: Option<f64>| match value {
                Some(v) if n >= rule.min_samples => threshold_verdict(rule, v, None),
                _ => (Verdict::None, None),
            };
            let (verdict, threshold) = verdict_of(value);
            vec![Observed { feature: DATASET_FEATURE.to_string(), verdict, value, threshold, n }]
        }
        RuleStat::Feature(stat) => {
            let value_of = |f: &FeatureStats| f.values.get(&stat).copied().filter(|v| !v.is_nan());
            let eligible = |f: &FeatureStats| f.n >= rule.min_samples && value_of(f).is_some();
            match rule.trigger {
                Trigger::Threshold { .. } => selected
                    .iter()
                    .map(|f| {
                        let value = value_of(f);
                        let (verdict, threshold) = match value {
                            Some(v) if eligible(f) => threshold_verdict(rule, v, Some(f)),
                            _ => (Verdict::None, None),
                        };
                        Observed { feature: f.name.clone(), verdict, value, threshold, n: f.n }
                    })
                    .collect(),
                Trigger::Corrected { correction, clear_when, .. } => {
                    // The family: the selected features that give a verdict in this window.
                    let family: Vec<&FeatureStats> = selected.iter().copied().filter(|f| eligible(f)).collect();
                    let p: Vec<f64> = family.iter().map(|f| value_of(f).unwrap_or(f64::NAN)).collect();
                    let corrected = match correction.method {
                        CorrectionMethod::Bonferroni => bonferroni(&p, correction.alpha),
                        CorrectionMethod::BenjaminiHochberg => benjamini_hochberg(&p, correction.alpha),
                    };
                    selected
                        .iter()
                        .map(|f| {
                            let value = value_of(f);
                            let position = family.iter().position(|g| g.name == f.name);
                            let (verdict, threshold) = match position {
                                Some(i) => {
                                    let c = corrected[i];
                                    let verdict = if c.rejected {
                                        Verdict::Breach
                                    } else {
                                        match clear_when {
                                            Some(clear) => match fixed_or(clear, p[i], Some(f)) {
                                                Some(true) => Verdict::Clear,
                                                _ => Verdict::Between,
                                            },
                                            None => Verdict::Clear,
                                        }
                                    };
                                    (verdict, Some(c.threshold))
                                }
                                None => (Verdict::None, None),
                            };
                            Observed { feature: f.name.clone(), verdict, value, threshold, n: f.n }
                        })
                        .collect()
                }
            }
        }
    }
}

/// Whether `condition` holds for `value` (`None`: its threshold is undefined here).
fn fixed_or(condition: Condition, value: f64, feature: Option<&FeatureStats>) -> Option<bool> {
    let threshold = threshold_value(condition.threshold, feature)?;
    Some(condition.op.holds(value, threshold))
}

fn threshold_value(threshold: Threshold, feature: Option<&FeatureStats>) -> Option<f64> {
    match threshold {
        Threshold::Fixed(t) => Some(t),
        Threshold::SampleSizeAware { alpha } => {
            let f = feature?;
            yurdakul_psi_threshold(alpha, f.n_bins?, f.n_ref?, f.n)
        }
    }
}

/// Verdict of a threshold rule, and the `when` threshold that applied.
fn threshold_verdict(rule: &Rule, value: f64, feature: Option<&FeatureStats>) -> (Verdict, Option<f64>) {
    let Trigger::Threshold { when, clear_when } = rule.trigger else { return (Verdict::None, None) };
    let Some(threshold) = threshold_value(when.threshold, feature) else { return (Verdict::None, None) };
    if when.op.holds(value, threshold) {
        return (Verdict::Breach, Some(threshold));
    }
    let verdict = match clear_when {
        None => Verdict::Clear,
        Some(clear) => match fixed_or(clear, value, feature) {
            Some(true) => Verdict::Clear,
            // An undefined clear threshold cannot clear: the state holds.
            _ => Verdict::Between,
        },
    };
    (verdict, Some(threshold))
}
