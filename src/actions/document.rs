//! The payload of every target: the notification as JSON with the daemon's evidence beside
//! it, and a one-line text summary (log lines, email text, command environment).
//!
//! The document is the [`Notification`]'s JSON object (its fields at the top level, so the
//! rules engine's format is the payload's format) plus `"schema"` and `"evidence"`. The same
//! bytes go to every target of a notification, and a retry sends the same bytes again, so a
//! signature computed by a receiver over a redelivery matches.

use serde_json::{Map, Value};

use super::outbox::OutboxEntry;
use crate::notification::{format_number, AlertStatus, Notification};

/// The `schema` field of the document.
pub const PAYLOAD_SCHEMA: &str = "driftd.notification/v1";

/// The JSON document of an entry: `{schema, <notification fields>, evidence}`.
pub fn document(entry: &OutboxEntry) -> Value {
    let mut object = Map::new();
    object.insert("schema".into(), Value::String(PAYLOAD_SCHEMA.into()));
    if let Ok(Value::Object(fields)) = serde_json::to_value(&entry.notification) {
        object.extend(fields);
    }
    object.insert("summary".into(), Value::String(summary(&entry.notification)));
    object.insert("evidence".into(), entry.evidence.clone());
    Value::Object(object)
}

/// The document as the exact bytes sent.
pub(crate) fn document_bytes(entry: &OutboxEntry) -> Vec<u8> {
    serde_json::to_vec(&document(entry)).unwrap_or_else(|_| b"{}".to_vec())
}

/// `firing: income_psi_high on credit-scoring/inputs: income psi=0.31 > 0.25 (n=300), …`
/// Alerts with a `summary` annotation show it instead of the generic text.
pub fn summary(n: &Notification) -> String {
    let mut parts = Vec::new();
    for alert in &n.alerts {
        if let Some(text) = alert.annotations.get("summary") {
            parts.push(text.clone());
            continue;
        }
        let value = alert.value.map(format_number).unwrap_or_else(|| "NaN".into());
        let threshold = alert.threshold.map(format_number).unwrap_or_else(|| "NaN".into());
        let resolved = if alert.status == AlertStatus::Resolved { " resolved" } else { "" };
        parts.push(format!(
            "{} {}={} {} {} (n={}){resolved}",
            alert.key.feature, alert.stat, value, alert.op, threshold, alert.n
        ));
    }
    format!("{}: {} on {}/{}: {}", n.status.name(), n.rule, n.monitor, n.stream, parts.join("; "))
}

/// Renders an email subject for `entry`: `{{ evidence }}` is the whole document (with the
/// daemon's evidence), every other variable the notification's, control characters (a line
/// break in a feature name would start a new mail header) replaced by spaces.
pub(crate) fn render(template: &crate::notification::Template, entry: &OutboxEntry, document_json: &str) -> String {
    let text = template.render(&|name| {
        if name == "evidence" {
            document_json.to_string()
        } else {
            entry.notification.variable(name)
        }
    });
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Renders a webhook body template (sent as JSON) for `entry`: every variable's text is
/// escaped as the inside of a JSON string (`"`, `\` and control characters), so
/// `{"text": "drift on {{ features }}"}` stays valid JSON — and says what it said — whatever
/// the feature names and labels hold; `{{ evidence }}` is the JSON document itself, inserted
/// as it is (write it outside quotes).
pub(crate) fn render_json(
    template: &crate::notification::Template,
    entry: &OutboxEntry,
    document_json: &str,
) -> String {
    template.render(&|name| {
        if name == "evidence" {
            document_json.to_string()
        } else {
            let quoted = serde_json::Value::String(entry.notification.variable(name)).to_string();
            quoted[1..quoted.len() - 1].to_string()
        }
    })
}
