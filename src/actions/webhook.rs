//! The `webhook` action: its settings, their validation (secrets only by environment variable
//! name), and delivery as one HTTP request per attempt (reqwest over rustls with ring): the
//! body template or the JSON document, `Idempotency-Key`, and with `secret_env` an
//! `X-Driftd-Signature: sha256=<hex HMAC-SHA256 of the body>`. 2xx succeeds; 408, 429, 5xx,
//! timeouts and connection errors are retried; anything else fails permanently.

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, Method};
use sha2::Sha256;

use super::document::{document_bytes, render_json};
use super::outbox::OutboxEntry;
use super::{env_var, DeliveryError};
use crate::config::KeyPath;
use crate::notification::{Checker, Template};

/// `webhook:`
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDoc {
    /// `http://` or `https://` URL.
    pub url: String,
    /// `POST`, `PUT` or `PATCH`. Default `POST`.
    pub method: Option<String>,
    /// Literal headers (no secrets: `Authorization` and names containing `token`, `secret`,
    /// `key`, `password` or `cookie` are refused here).
    pub headers: Option<BTreeMap<String, String>>,
    /// Headers whose values are read from environment variables at delivery:
    /// `{X-Api-Key: API_KEY_VAR}`.
    pub headers_env: Option<BTreeMap<String, String>>,
    /// Environment variable holding a bearer token (`Authorization: Bearer …`).
    pub bearer_token_env: Option<String>,
    /// Environment variable holding the HMAC-SHA256 key that signs the body.
    pub secret_env: Option<String>,
    /// Body template (JSON). Default: the notification's evidence JSON.
    pub body: Option<String>,
    /// Per-attempt timeout. Default `10s`.
    pub timeout: Option<String>,
    /// Attempts before giving up on a retryable failure (at least 1). Default 10.
    pub max_attempts: Option<u32>,
}

/// A `webhook` action, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub url: String,
    pub method: String,
    /// Literal, non-secret headers.
    pub headers: BTreeMap<String, String>,
    /// Header name → environment variable read at delivery.
    pub headers_env: BTreeMap<String, String>,
    pub bearer_token_env: Option<String>,
    pub secret_env: Option<String>,
    /// `None`: the notification's evidence JSON.
    pub body: Option<Template>,
    pub timeout: Duration,
    pub max_attempts: u32,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_ATTEMPTS: u32 = 10;

impl WebhookDoc {
    /// The validated settings; problems are reported below `path` (the action's `webhook`).
    pub(crate) fn validate(self, checker: &mut Checker<'_>, path: &KeyPath) -> Webhook {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://"))
            || self.url.split("://").nth(1).is_none_or(|rest| rest.is_empty())
        {
            checker.error(&path.key("url"), format!("{:?} is not an http:// or https:// URL", self.url));
        }
        let method = self.method.as_deref().unwrap_or("POST").to_ascii_uppercase();
        if !["POST", "PUT", "PATCH"].contains(&method.as_str()) {
            checker.error(&path.key("method"), format!("method {method:?}: expected POST, PUT or PATCH"));
        }
        let headers = self.headers.unwrap_or_default();
        for name in headers.keys() {
            let lower = name.to_ascii_lowercase();
            if lower == "authorization"
                || ["token", "secret", "key", "password", "cookie"].iter().any(|s| lower.contains(s))
            {
                checker.error(
                    &path.key("headers").key(name),
                    format!(
                        "header {name:?} looks secret: secrets never go in rule files; name an environment variable with `headers_env: {{{name}: VAR}}` or `bearer_token_env: VAR`"
                    ),
                );
            }
        }
        let headers_env = self.headers_env.unwrap_or_default();
        for (name, var) in &headers_env {
            checker.env_name(var, &path.key("headers_env").key(name));
        }
        for (key, var) in [("bearer_token_env", &self.bearer_token_env), ("secret_env", &self.secret_env)] {
            if let Some(var) = var {
                checker.env_name(var, &path.key(key));
            }
        }
        let body = self.body.as_deref().map(|b| checker.notification_template(b, &path.key("body")));
        let max_attempts = self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
        if max_attempts == 0 {
            checker.error(&path.key("max_attempts"), "at least 1 attempt");
        }
        let timeout = checker.duration(self.timeout.as_deref(), path, "timeout", DEFAULT_TIMEOUT);
        Webhook {
            url: self.url,
            method,
            headers,
            headers_env,
            bearer_token_env: self.bearer_token_env,
            secret_env: self.secret_env,
            body,
            timeout,
            max_attempts,
        }
    }
}

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Driftd-Signature";

/// `sha256=<hex>`: HMAC-SHA256 of `body` with `secret`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length (long ones are hashed), so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The request of one attempt: method, URL, headers and the exact body bytes.
pub(crate) struct Request {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

fn header_name(name: &str) -> Result<HeaderName, DeliveryError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| DeliveryError::permanent(format!("invalid header name {name:?}")))
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, DeliveryError> {
    // The value is not echoed: it may be a secret read from the environment.
    HeaderValue::from_str(value).map_err(|_| DeliveryError::permanent(format!("invalid value for the header {name}")))
}

/// Builds the request (reads the environment: a missing variable is a permanent error).
pub(crate) fn build(webhook: &Webhook, entry: &OutboxEntry) -> Result<Request, DeliveryError> {
    let method = Method::from_bytes(webhook.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| DeliveryError::permanent(format!("invalid HTTP method {:?}", webhook.method)))?;
    let body = match &webhook.body {
        Some(template) => {
            let document = String::from_utf8(document_bytes(entry)).unwrap_or_default();
            render_json(template, entry, &document).into_bytes()
        }
        None => document_bytes(entry),
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static(concat!("driftd/", env!("CARGO_PKG_VERSION"))));
    for (name, value) in &webhook.headers {
        headers.insert(header_name(name)?, header_value(name, value)?);
    }
    for (name, var) in &webhook.headers_env {
        let value = env_var(var, &format!("header {name}"))?;
        headers.insert(header_name(name)?, header_value(name, &value)?);
    }
    if let Some(var) = &webhook.bearer_token_env {
        let token = env_var(var, "bearer token")?;
        headers.insert(AUTHORIZATION, header_value("Authorization", &format!("Bearer {token}"))?);
    }
    headers.insert(HeaderName::from_static("idempotency-key"), header_value("Idempotency-Key", &entry.key)?);
    if let Some(var) = &webhook.secret_env {
        let secret = env_var(var, "HMAC secret")?;
        let signature = sign(secret.as_bytes(), &body);
        headers.insert(HeaderName::from_static("x-driftd-signature"), header_value(SIGNATURE_HEADER, &signature)?);
    }
    Ok(Request { method, url: webhook.url.clone(), headers, body })
}

impl Webhook {
    /// One attempt.
    pub(crate) async fn deliver(&self, client: &Client, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        deliver(client, self, entry).await
    }
}

async fn deliver(client: &Client, webhook: &Webhook, entry: &OutboxEntry) -> Result<(), DeliveryError> {
    let request = build(webhook, entry)?;
    let response = client
        .request(request.method, &request.url)
        .headers(request.headers)
        .body(request.body)
        .timeout(webhook.timeout)
        .send()
        .await
        .map_err(|e| classify_error(e, &webhook.url))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // A short excerpt of the answer helps whoever reads the failed entry.
    let text = response.text().await.unwrap_or_default();
    let excerpt: String = text.chars().take(200).collect();
    let message = format!("HTTP {status} from {}: {}", redacted_url(&webhook.url), excerpt.trim());
    let code = status.as_u16();
    if status.is_server_error() || code == 408 || code == 429 {
        Err(DeliveryError::retryable(message))
    } else {
        Err(DeliveryError::permanent(message))
    }
}

/// A URL as logs, errors and the API show it: scheme, host and port only, `/…` standing for the
/// rest. Webhook URLs are often secrets in their path or query (Slack's, signed URLs); user
/// info is dropped as well.
pub fn redacted_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let tail = if rest[end..].trim_start_matches('/').is_empty() { "" } else { "/…" };
    if scheme.is_empty() {
        format!("{host}{tail}")
    } else {
        format!("{scheme}://{host}{tail}")
    }
}

fn classify_error(e: reqwest::Error, url: &str) -> DeliveryError {
    // reqwest's messages name the whole URL: replaced by its redacted form.
    let e = e.without_url();
    // Print the whole source chain: reqwest's own message is only "error sending request".
    let mut message = format!("{}: {e}", redacted_url(url));
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_builder() {
        DeliveryError::permanent(message)
    } else {
        // Timeouts, refused or reset connections, TLS handshakes that may succeed later.
        DeliveryError::retryable(message)
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn urls_are_shown_without_path_query_or_credentials() {
        for (url, shown) in [
            ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/…"),
            ("https://user:pass@ci.example.com:8443/hook?token=abc", "https://ci.example.com:8443/…"),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
            ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
            ("http://h#frag", "http://h/…"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redacted_url(url), shown, "{url}");
        }
    }
}
