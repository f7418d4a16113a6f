//! The `email` action: its settings (`to`, `subject`), their validation, and delivery over
//! SMTP (lettre, tokio, rustls with the ring provider) of a multipart text + HTML message.
//! The server comes from the daemon's configuration ([`SmtpSettings`]), credentials from the
//! environment at each attempt; the Message-ID derives from the idempotency key. SMTP 5xx
//! replies, malformed addresses and missing settings are permanent; the rest is retryable.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use super::document::render;
use super::html::{email_html, email_text};
use super::outbox::OutboxEntry;
use super::{env_var, DeliveryError};
use crate::config::KeyPath;
use crate::notification::{Checker, Template};

/// `email:` (the SMTP server comes from the main configuration).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailDoc {
    /// Recipients (at least one).
    pub to: Vec<String>,
    /// Subject template. Default `[driftd] {{ status }}: {{ rule }} on {{ monitor }}`.
    pub subject: Option<String>,
}

/// An `email` action, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: Template,
}

/// Default email subject.
pub const DEFAULT_SUBJECT: &str = "[driftd] {{ status }}: {{ rule }} on {{ monitor }}";

impl EmailDoc {
    /// The validated settings; problems are reported below `path` (the action's `email`).
    pub(crate) fn validate(self, checker: &mut Checker<'_>, path: &KeyPath) -> Email {
        if self.to.is_empty() {
            checker.error(&path.key("to"), "at least one recipient");
        }
        for (i, to) in self.to.iter().enumerate() {
            if !to.contains('@') || to.trim() != to {
                checker.error(&path.key("to").index(i), format!("{to:?} is not an email address"));
            }
        }
        let subject = self.subject.as_deref().unwrap_or(DEFAULT_SUBJECT);
        let subject = checker.notification_template(subject, &path.key("subject"));
        Email { to: self.to, subject }
    }
}

/// The SMTP server of the email actions: the configuration's `smtp:` section, as validated
/// there (the daemon passes it to the dispatcher).
pub use crate::config::{SmtpConfig as SmtpSettings, SmtpTls};

fn invalid_address(what: &str, address: &str, e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::permanent(format!("invalid {what} address {address:?}: {e}"))
}

/// The message of `entry` (reads no environment).
pub(crate) fn message(
    settings: &SmtpSettings,
    to: &[String],
    subject: &Template,
    entry: &OutboxEntry,
) -> Result<Message, DeliveryError> {
    let from: Mailbox = settings.from.parse().map_err(|e| invalid_address("sender", &settings.from, e))?;
    let document = String::from_utf8(super::document::document_bytes(entry)).unwrap_or_default();
    let subject = render(subject, entry, &document);
    let digest = Sha256::digest(entry.key.as_bytes());
    let id: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let domain = from.email.domain().to_string();
    let mut builder =
        Message::builder().from(from).subject(subject).message_id(Some(format!("<driftd.{id}@{domain}>"))).raw_header(
            HeaderValue::new(HeaderName::new_from_ascii_str("X-Driftd-Idempotency-Key"), entry.key.clone()),
        );
    for address in to {
        let mailbox: Mailbox = address.parse().map_err(|e| invalid_address("recipient", address, e))?;
        builder = builder.to(mailbox);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(email_text(entry), email_html(entry)))
        .map_err(|e| DeliveryError::permanent(format!("cannot build the email: {e}")))
}

fn transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
    let tls = match settings.tls {
        SmtpTls::None => Tls::None,
        // STARTTLS is required, never opportunistic: a stripped STARTTLS must not send the
        // credentials and the evidence in clear.
        SmtpTls::Starttls => Tls::Required(tls_parameters(settings)?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters(settings)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        .port(settings.port)
        .tls(tls)
        .timeout(Some(settings.timeout));
    match (&settings.username_env, &settings.password_env) {
        (Some(user), Some(password)) => {
            let user = env_var(user, "SMTP username")?;
            let password = env_var(password, "SMTP password")?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        (None, None) => {}
        _ => return Err(DeliveryError::permanent("SMTP credentials need both username_env and password_env")),
    }
    Ok(builder.build())
}

fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, DeliveryError> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| DeliveryError::permanent(format!("SMTP ca_file {}: {e}", path.display())))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| DeliveryError::permanent(format!("SMTP ca_file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().map_err(|e| DeliveryError::permanent(format!("SMTP TLS settings for {}: {e}", settings.host)))
}

impl Email {
    /// One attempt.
    pub(crate) async fn deliver(
        &self,
        settings: Option<&SmtpSettings>,
        entry: &OutboxEntry,
    ) -> Result<(), DeliveryError> {
        let Some(settings) = settings else {
            return Err(DeliveryError::permanent("email action without an SMTP server in the configuration"));
        };
        send(settings, message(settings, &self.to, &self.subject, entry)?).await
    }
}

async fn send(settings: &SmtpSettings, message: Message) -> Result<(), DeliveryError> {
    let transport = transport(settings)?;
    // lettre's timeout applies per command; the whole exchange is bounded too.
    let send = transport.send(message);
    let limit = settings.timeout.saturating_mul(4).max(Duration::from_secs(1));
    match tokio::time::timeout(limit, send).await {
        Err(_) => Err(DeliveryError::retryable(format!("SMTP {}:{} timed out", settings.host, settings.port))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let message = format!("SMTP {}:{}: {e}", settings.host, settings.port);
            if e.is_permanent() {
                Err(DeliveryError::permanent(message))
            } else {
                Err(DeliveryError::retryable(message))
            }
        }
    }
}
