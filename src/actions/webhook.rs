//! Webhook delivery: one HTTP request per attempt (reqwest over rustls with the ring provider).
//!
//! The body is the action's template rendered for the entry, or the JSON document. Headers:
//! the literal ones, those read from the environment at delivery (`headers_env`,
//! `bearer_token_env`), `Idempotency-Key` (the same on every attempt), and, with
//! `secret_env`, `X-Driftd-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`.
//!
//! Classification: 2xx is success; 408, 429 and 5xx, timeouts and connection errors are
//! retryable; any other status (4xx, an unfollowed redirect), a malformed URL, method or
//! header, and a missing environment variable are permanent.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, Method};
use sha2::Sha256;

use super::document::{document_bytes, render_json};
use super::outbox::OutboxEntry;
use super::{env_var, DeliveryError};
use crate::rules::Webhook;

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

/// One attempt.
pub(crate) async fn deliver(client: &Client, webhook: &Webhook, entry: &OutboxEntry) -> Result<(), DeliveryError> {
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
