//! What the rules engine hands to the actions: one [`Notification`] per (action, group), its
//! [`AlertSummary`]s and the vocabulary both sides share (alert keys and statuses, severity,
//! action kind, how numbers are shown). `rules` produces these, `actions` consumes them; neither
//! imports the other's internals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Template;
use crate::record::Stream;
use crate::source::time::format_time_ms;

/// Identifies one alert.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    pub rule: String,
    pub monitor: String,
    pub stream: Stream,
    /// The feature, or `"*"` for dataset-level statistics.
    pub feature: String,
}

/// The lifecycle (Prometheus semantics, plus `resolved` for one window after firing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Inactive,
    /// The condition holds, `for` has not elapsed yet.
    Pending,
    Firing,
    /// Was firing, the condition cleared (and `keep_firing_for` elapsed) in the last window
    /// with a verdict.
    Resolved,
}

impl AlertStatus {
    pub fn name(self) -> &'static str {
        match self {
            AlertStatus::Inactive => "inactive",
            AlertStatus::Pending => "pending",
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// Pending or firing: the condition is latched, `clear_when` decides when it ends.
    pub fn is_active(self) -> bool {
        matches!(self, AlertStatus::Pending | AlertStatus::Firing)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Notified when alerts fire, repeat and resolve.
    Alert,
    /// A retraining trigger: notified when alerts fire (and repeat), not when they resolve.
    Retrain,
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
    pub fn render(&self, template: &Template) -> String {
        template.render(&|name| self.variable(name))
    }

    /// The notification as JSON: the default webhook body and `{{ evidence }}`.
    pub fn evidence_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
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
