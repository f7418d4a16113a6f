//! Delivery of the rules engine's notifications, at least once per idempotency key: a durable
//! outbox (`outbox.rs`, written in the checkpoint's redb transaction), a dispatcher that
//! retries with backoff (`dispatch.rs`), and the action kinds, one file each (`email.rs`,
//! `webhook.rs`, `kafka.rs`, `command.rs`, `log.rs`, `file.rs`: settings, validation and
//! delivery), registered here in one exhaustive enum ([`Target`]): a kind not handled does
//! not compile. Failures are classified where they happen ([`DeliveryError`]).

mod command;
mod dispatch;
mod document;
mod email;
mod file;
mod html;
mod kafka;
mod log;
mod metrics;
mod outbox;
mod webhook;

#[cfg(test)]
mod tests;

pub use command::{Command, CommandDoc};
pub use dispatch::{ActionsHandle, Dispatcher, RetryPolicy};
pub use document::{document, summary, PAYLOAD_SCHEMA};
pub use email::{Email, EmailDoc, SmtpSettings, SmtpTls, DEFAULT_SUBJECT};
pub use file::{File, FileDoc};
pub use html::{email_html, email_text};
pub use kafka::{Kafka, KafkaDoc};
pub use log::{Log, LogDoc};
pub use metrics::DeliveryMetrics;
pub use outbox::{
    create_tables, enqueue_in, FailedEntry, Outbox, OutboxEntry, OutboxError, PendingEntry, FAILED, OUTBOX, SENT,
};
pub use webhook::{sign, Webhook, WebhookDoc, SIGNATURE_HEADER};

use std::time::Duration;

use serde::Deserialize;

use kafka::Producers;

use crate::config::{parse_duration, KeyPath};
use crate::notification::{ActionKind, Checker};

/// One action, validated: what the rules name and the dispatcher delivers through.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: String,
    pub kind: ActionKind,
    pub cooldown: Option<Duration>,
    /// Where it delivers: the kind and its settings.
    pub target: Target,
}

/// One entry of `actions:`: a name, exactly one kind of delivery, and options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionDoc {
    /// Unique name, `[A-Za-z0-9_-]+`, at most 64 characters.
    pub name: String,
    /// `alert` (notified when alerts fire and resolve) or `retrain` (notified only when they
    /// fire: a retraining trigger). Default `alert`.
    pub kind: Option<ActionKindDoc>,
    /// At most one notification of this action per monitor per period (event time).
    pub cooldown: Option<String>,
    // One key per action kind, documented with the kind; exactly one is given.
    pub email: Option<EmailDoc>,
    pub webhook: Option<WebhookDoc>,
    pub kafka: Option<KafkaDoc>,
    pub command: Option<CommandDoc>,
    pub log: Option<LogDoc>,
    pub file: Option<FileDoc>,
}

/// `kind:` of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKindDoc {
    Alert,
    Retrain,
}

/// Where an action delivers: its kind, with that kind's validated settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Email(Email),
    Webhook(Webhook),
    Kafka(Kafka),
    Command(Command),
    Log(Log),
    File(File),
}

/// The one kind an action document names, as written.
enum TargetDoc {
    Email(EmailDoc),
    Webhook(WebhookDoc),
    Kafka(KafkaDoc),
    Command(CommandDoc),
    Log(LogDoc),
    File(FileDoc),
}

impl TargetDoc {
    /// The document's key for this kind.
    fn key(&self) -> &'static str {
        match self {
            TargetDoc::Email(_) => "email",
            TargetDoc::Webhook(_) => "webhook",
            TargetDoc::Kafka(_) => "kafka",
            TargetDoc::Command(_) => "command",
            TargetDoc::Log(_) => "log",
            TargetDoc::File(_) => "file",
        }
    }
}

impl ActionDoc {
    /// The validated action, its problems reported at `path` (the action) or below it; `None`
    /// when it has any.
    pub(crate) fn resolve(mut self, checker: &mut Checker<'_>, path: &KeyPath) -> Option<Action> {
        let before = checker.problems.len();
        let kind = match self.kind {
            None | Some(ActionKindDoc::Alert) => ActionKind::Alert,
            Some(ActionKindDoc::Retrain) => ActionKind::Retrain,
        };
        let cooldown = self.cooldown.as_deref().and_then(|text| match parse_duration(text) {
            Ok(d) => (!d.is_zero()).then_some(d),
            Err(message) => {
                checker.error(&path.key("cooldown"), message);
                None
            }
        });
        let target = self.target(checker, path)?;
        (checker.problems.len() == before).then_some(Action { name: self.name, kind, cooldown, target })
    }

    /// The target of the one kind key given (taken from the document), validated by its kind;
    /// problems are reported at `path` (the action) or below it. `None` without exactly one.
    fn target(&mut self, checker: &mut Checker<'_>, path: &KeyPath) -> Option<Target> {
        let mut given: Vec<TargetDoc> = [
            self.email.take().map(TargetDoc::Email),
            self.webhook.take().map(TargetDoc::Webhook),
            self.kafka.take().map(TargetDoc::Kafka),
            self.command.take().map(TargetDoc::Command),
            self.log.take().map(TargetDoc::Log),
            self.file.take().map(TargetDoc::File),
        ]
        .into_iter()
        .flatten()
        .collect();
        let keys: Vec<&str> = given.iter().map(TargetDoc::key).collect();
        let (Some(doc), 1) = (given.pop(), keys.len()) else {
            let found = if keys.is_empty() { "none".to_string() } else { keys.join(", ") };
            checker.error(
                path,
                format!("an action needs exactly one of email, webhook, kafka, command, log, file; found {found}"),
            );
            return None;
        };
        let path = path.key(doc.key());
        Some(match doc {
            TargetDoc::Email(doc) => Target::Email(doc.validate(checker, &path)),
            TargetDoc::Webhook(doc) => Target::Webhook(doc.validate(checker, &path)),
            TargetDoc::Kafka(doc) => Target::Kafka(doc.validate(checker, &path)),
            TargetDoc::Command(doc) => Target::Command(doc.validate(checker, &path)),
            TargetDoc::Log(doc) => Target::Log(doc.validate(checker, &path)),
            TargetDoc::File(doc) => Target::File(doc.validate(checker, &path)),
        })
    }
}

/// What the deliveries of all kinds share: the daemon's SMTP server and Kafka brokers, one
/// HTTP client, the Kafka producers.
pub(crate) struct Context {
    pub smtp: Option<SmtpSettings>,
    pub default_kafka_brokers: Option<String>,
    pub client: reqwest::Client,
    pub producers: Producers,
}

impl Target {
    /// One delivery attempt of `entry`.
    pub(crate) async fn deliver(&self, cx: &Context, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        match self {
            Target::Email(email) => email.deliver(cx.smtp.as_ref(), entry).await,
            Target::Webhook(webhook) => webhook.deliver(&cx.client, entry).await,
            Target::Kafka(kafka) => kafka.deliver(&cx.producers, cx.default_kafka_brokers.as_deref(), entry).await,
            Target::Command(command) => command.deliver(entry).await,
            Target::Log(log) => {
                log.deliver(entry);
                Ok(())
            }
            Target::File(file) => file.deliver(entry).await,
        }
    }

    /// The attempts the action's own settings allow (`None`: the retry policy's default).
    pub fn max_attempts(&self) -> Option<u32> {
        match self {
            Target::Webhook(webhook) => Some(webhook.max_attempts),
            Target::Email(_) | Target::Kafka(_) | Target::Command(_) | Target::Log(_) | Target::File(_) => None,
        }
    }

    /// Whether it needs the SMTP server of the daemon's configuration.
    pub fn needs_smtp(&self) -> bool {
        match self {
            Target::Email(_) => true,
            Target::Webhook(_) | Target::Kafka(_) | Target::Command(_) | Target::Log(_) | Target::File(_) => false,
        }
    }
}

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

/// An environment variable needed at delivery. A missing one is a configuration problem that
/// retrying will not fix, hence permanent.
pub(crate) fn env_var(name: &str, what: &str) -> Result<String, DeliveryError> {
    std::env::var(name)
        .map_err(|_| DeliveryError::permanent(format!("the environment variable {name} ({what}) is not set")))
}

/// The wall clock (retry times are persisted across restarts).
pub(crate) use crate::source::time::now_ms;
