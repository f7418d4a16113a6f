//! Delivery of the rules engine's notifications: a durable outbox and a dispatcher that sends
//! each entry to its action's target (webhook, email, Kafka, command, log, file).
//!
//! Input: [`OutboxEntry`]s written by the daemon with [`enqueue_in`] inside the same redb
//! write transaction as the window's checkpoint and the rules engine's state, so a closed
//! window, its alert transitions and its notifications are durable together or not at all.
//! Output: deliveries, at least once per idempotency key and in practice exactly once: an
//! entry is removed from the outbox right after its target accepted it, its key is
//! remembered for a while so a re-enqueue is ignored, and every attempt carries the same
//! key so receivers can deduplicate the rare repeat (a crash between the target's answer and
//! the removal).
//!
//! Failures are classified once, where they happen ([`DeliveryError`]): retryable ones (5xx,
//! timeouts, connection errors, non-zero exits, SMTP transient codes) are retried with
//! exponential backoff until the action's attempts are spent; permanent ones (4xx, bad
//! configuration, a missing environment variable) are moved to the failed table at once,
//! kept there for reporting ([`Outbox::failed`]).
//!
//! Files: `outbox.rs` (tables and entries), `dispatch.rs` (the delivery loop, backoff),
//! `document.rs` (the JSON payload, the text summary), `email.rs` and `html.rs` (SMTP, the
//! HTML evidence and bar charts), `webhook.rs`, `kafka.rs`, `command.rs`, `sink.rs` (log and
//! file), `metrics.rs`. The payload format is documented in `docs/actions.md`.

mod command;
mod dispatch;
mod document;
mod email;
mod html;
mod kafka;
mod metrics;
mod outbox;
mod sink;
mod webhook;

#[cfg(test)]
mod tests;

pub use dispatch::{ActionsHandle, Dispatcher, RetryPolicy};
pub use document::{document, summary, PAYLOAD_SCHEMA};
pub use email::{SmtpSettings, SmtpTls};
pub use html::{email_html, email_text};
pub use metrics::DeliveryMetrics;
pub use outbox::{
    create_tables, enqueue_in, FailedEntry, Outbox, OutboxEntry, OutboxError, PendingEntry, FAILED, OUTBOX, SENT,
};
pub use webhook::{sign, SIGNATURE_HEADER};

/// Why one delivery attempt failed, classified where the failure is understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Trying again cannot help (4xx, bad configuration, a missing environment variable):
    /// the entry goes to the failed table.
    #[error("{0}")]
    Permanent(String),
    /// The target may accept it later (5xx, timeout, connection refused, non-zero exit).
    #[error("{0}")]
    Retryable(String),
}

impl DeliveryError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Retryable(_))
    }

    pub(crate) fn permanent(message: impl Into<String>) -> DeliveryError {
        DeliveryError::Permanent(message.into())
    }

    pub(crate) fn retryable(message: impl Into<String>) -> DeliveryError {
        DeliveryError::Retryable(message.into())
    }
}

/// Why the dispatcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ActionsError {
    #[error("cannot build the HTTP client of the webhooks: {0}")]
    HttpClient(String),
}

/// Installs rustls' ring provider as the process default, once. reqwest and lettre are built
/// without a provider of their own (keeping aws-lc and OpenSSL out of the build), so one must
/// be installed before the first TLS connection; a provider already installed (by another
/// part of the daemon, or a test) is fine.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An environment variable needed at delivery. A missing one is a configuration problem that
/// retrying will not fix, hence permanent.
pub(crate) fn env_var(name: &str, what: &str) -> Result<String, DeliveryError> {
    std::env::var(name)
        .map_err(|_| DeliveryError::permanent(format!("the environment variable {name} ({what}) is not set")))
}

/// The wall clock (retry times are persisted across restarts).
pub(crate) use crate::source::time::now_ms;
