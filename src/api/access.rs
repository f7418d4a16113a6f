//! Who may use the HTTP API: the `Host` check against DNS rebinding, the JSON content type
//! that keeps browsers' simple cross-site requests off the mutating endpoints, and an optional
//! bearer token (`http.token_env`) for the mutating endpoints or for every endpoint.
//!
//! `/healthz` and `/readyz` stay open (probes carry no credentials); everything else follows
//! [`AccessPolicy`]. Refusals are JSON `{"error": …}` with 403 (host), 415 (content type) or
//! 401 (token, with `WWW-Authenticate: Bearer`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::config::HttpConfig;

/// What the API requires of a request.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    /// The bearer token, when `http.token_env` names one.
    token: Option<String>,
    /// The token is required for every endpoint (`http.auth: all`), not only mutating ones.
    protect_all: bool,
    /// Host names accepted in the `Host` header; empty = any (a non-loopback listener without
    /// `allowed_hosts`).
    hosts: Vec<String>,
}

/// Why the policy cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("http.token_env: the environment variable {0} is not set (or is empty)")]
pub struct TokenMissing(pub String);

impl AccessPolicy {
    /// The policy of `http`, reading the token from the environment variable it names.
    pub fn from_config(http: &HttpConfig) -> Result<AccessPolicy, TokenMissing> {
        let token = match &http.token_env {
            Some(var) => {
                Some(std::env::var(var).ok().filter(|t| !t.is_empty()).ok_or_else(|| TokenMissing(var.clone()))?)
            }
            None => None,
        };
        Ok(AccessPolicy {
            token,
            protect_all: http.protect_all,
            hosts: allowed_hosts(http.listen, &http.allowed_hosts),
        })
    }

    /// Whether anyone who can reach the listener can change silences and notifications.
    pub fn is_open(&self) -> bool {
        self.token.is_none()
    }

    fn refuse(status: StatusCode, message: &str) -> Response {
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }

    /// The refusal for `request`, if any.
    fn check(&self, request: &Request) -> Option<Response> {
        let path = request.uri().path();
        if path == "/healthz" || path == "/readyz" {
            return None;
        }
        let headers = request.headers();
        if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            if !self.hosts.is_empty() && !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host_name(host))) {
                return Some(Self::refuse(StatusCode::FORBIDDEN, "this Host is not served (http.allowed_hosts)"));
            }
        }
        let mutating = !matches!(*request.method(), Method::GET | Method::HEAD);
        if mutating {
            let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
            });
            if !json {
                return Some(Self::refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send Content-Type: application/json"));
            }
        }
        if let Some(token) = &self.token {
            if mutating || self.protect_all {
                let given = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim);
                if !given.is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())) {
                    return Some(Self::refuse(StatusCode::UNAUTHORIZED, "a valid bearer token is required"));
                }
            }
        }
        None
    }
}

/// The middleware: refuses what the policy does not allow, passes the rest on.
pub async fn enforce(State(policy): State<Arc<AccessPolicy>>, request: Request, next: Next) -> Response {
    match policy.check(&request) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// The host names a listener on `listen` answers to: loopback names for a loopback listener
/// (a web page's rebound DNS name is refused), the configured ones added; for any other
/// listener the configured ones only, or any host when none is configured.
fn allowed_hosts(listen: SocketAddr, configured: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = configured.iter().map(|h| h.to_ascii_lowercase()).collect();
    if listen.ip().is_loopback() {
        hosts.extend(["127.0.0.1", "localhost", "[::1]", "::1"].map(String::from));
    } else if !hosts.is_empty() {
        hosts.push(listen.ip().to_string());
    }
    hosts
}

/// `example.com:9464` → `example.com`; `[::1]:9464` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(name, _)| &host[..name.len() + 1]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Equal bytes, in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(listen: &str, token: Option<&str>, all: bool, hosts: &[&str]) -> AccessPolicy {
        AccessPolicy {
            token: token.map(String::from),
            protect_all: all,
            hosts: allowed_hosts(listen.parse().unwrap(), &hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()),
        }
    }

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = axum::http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    fn status(p: &AccessPolicy, r: &Request) -> u16 {
        p.check(r).map_or(200, |refusal| refusal.status().as_u16())
    }

    #[test]
    fn a_loopback_listener_refuses_other_hosts_dns_rebinding() {
        let p = policy("127.0.0.1:9464", None, false, &[]);
        assert_eq!(status(&p, &request("GET", "/api/v1/alerts", &[("host", "evil.example")])), 403);
        assert_eq!(status(&p, &request("GET", "/api/v1/alerts", &[("host", "evil.example:9464")])), 403);
        for host in ["127.0.0.1:9464", "localhost:9464", "[::1]:9464", "LOCALHOST"] {
            assert_eq!(status(&p, &request("GET", "/api/v1/alerts", &[("host", host)])), 200, "{host}");
        }
        // Probes always pass.
        assert_eq!(status(&p, &request("GET", "/healthz", &[("host", "evil.example")])), 200);
        // A wide listener answers any host unless told which.
        let wide = policy("0.0.0.0:9464", None, false, &[]);
        assert_eq!(status(&wide, &request("GET", "/metrics", &[("host", "driftd.monitoring.svc:9464")])), 200);
        let named = policy("0.0.0.0:9464", None, false, &["driftd.example.com"]);
        assert_eq!(status(&named, &request("GET", "/metrics", &[("host", "driftd.example.com:9464")])), 200);
        assert_eq!(status(&named, &request("GET", "/metrics", &[("host", "other.example")])), 403);
    }

    #[test]
    fn mutating_requests_need_json_and_the_token() {
        let host = ("host", "127.0.0.1:9464");
        let json = ("content-type", "application/json; charset=utf-8");
        let open = policy("127.0.0.1:9464", None, false, &[]);
        // A cross-site form or fetch without preflight cannot set this content type.
        assert_eq!(status(&open, &request("POST", "/api/v1/notifications/failed?key=k", &[host])), 415);
        assert_eq!(status(&open, &request("POST", "/api/v1/silences", &[host, ("content-type", "text/plain")])), 415);
        assert_eq!(status(&open, &request("POST", "/api/v1/silences", &[host, json])), 200);

        let guarded = policy("127.0.0.1:9464", Some("s3cret"), false, &[]);
        assert_eq!(status(&guarded, &request("POST", "/api/v1/silences", &[host, json])), 401);
        let wrong = ("authorization", "Bearer s3creT");
        assert_eq!(status(&guarded, &request("DELETE", "/api/v1/silences/s1", &[host, json, wrong])), 401);
        let right = ("authorization", "Bearer s3cret");
        assert_eq!(status(&guarded, &request("DELETE", "/api/v1/silences/s1", &[host, json, right])), 200);
        // Reads stay open unless `auth: all`.
        assert_eq!(status(&guarded, &request("GET", "/metrics", &[host])), 200);
        let all = policy("127.0.0.1:9464", Some("s3cret"), true, &[]);
        assert_eq!(status(&all, &request("GET", "/metrics", &[host])), 401);
        assert_eq!(status(&all, &request("GET", "/metrics", &[host, right])), 200);
        assert_eq!(status(&all, &request("GET", "/readyz", &[host])), 200);
    }
}
