//! The `log` action (`log: {}`): one INFO line in the daemon's log with the notification's
//! summary and its action, rule, monitor, status and key as fields. It has no settings and
//! cannot fail: the quick start's way to see notifications without a receiver.

use super::document::summary;
use super::outbox::OutboxEntry;
use crate::config::KeyPath;
use crate::notification::Checker;

/// `log: {}`
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogDoc {}

/// A `log` action, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Log;

impl LogDoc {
    /// Nothing to check: the document has no keys.
    pub(crate) fn validate(self, _checker: &mut Checker<'_>, _path: &KeyPath) -> Log {
        Log
    }
}

impl Log {
    /// One attempt (it always succeeds).
    pub(crate) fn deliver(&self, entry: &OutboxEntry) {
        let n = &entry.notification;
        tracing::info!(
            action = %n.action,
            rule = %n.rule,
            monitor = %n.monitor,
            status = n.status.name(),
            idempotency_key = %entry.key,
            "Notification: {}",
            summary(n)
        );
    }
}
