//! A client of a Confluent-compatible schema registry: `GET /schemas/ids/{id}` (cached for
//! good: an id's schema never changes) and `GET /subjects/{subject}/versions/latest`. An
//! unreachable registry (or a 5xx) is retried with backoff while the outage is younger than
//! `retry_for`, then reported at once until it answers again; credentials are never logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Longest one registry request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// First and longest pause between two attempts.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How the registry is reached. Credentials are named by environment variables, read when
/// the client is made, and never logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySpec {
    /// Base URL, without a trailing `/`.
    pub url: String,
    pub auth: RegistryAuth,
    /// How long a message waits for an unreachable registry before it is dead-lettered.
    pub retry_for: Duration,
}

/// The environment variables holding the registry's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryAuth {
    None,
    Basic { username_env: String, password_env: String },
    Bearer { token_env: String },
}

/// Credentials read from the environment (kept out of `Debug`).
enum Credentials {
    None,
    Basic(String, String),
    Bearer(String),
}

/// A schema as the registry stores it.
#[derive(Debug, Clone, Deserialize)]
pub struct Registered {
    pub schema: String,
    /// `AVRO` (absent), `PROTOBUF` or `JSON`.
    #[serde(rename = "schemaType", default)]
    pub schema_type: Option<String>,
    #[serde(default)]
    pub id: Option<u32>,
}

/// Why a schema could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// The registry answered 404: no such id or subject.
    NotFound,
    /// Not reachable, or not answering properly, for longer than `retry_for`.
    Unavailable(String),
}

/// The client, shared by a stream's messages.
pub struct Registry {
    spec: RegistrySpec,
    credentials: Credentials,
    client: reqwest::Client,
    by_id: Mutex<HashMap<u32, Arc<Registered>>>,
    /// When the current outage began (`None` while the registry answers).
    down_since: Mutex<Option<Instant>>,
}

impl Registry {
    pub fn new(spec: RegistrySpec) -> Result<Registry, String> {
        let var = |name: &str| {
            std::env::var(name)
                .map_err(|_| format!("the environment variable {name} (schema registry credentials) is not set"))
        };
        let credentials = match &spec.auth {
            RegistryAuth::None => Credentials::None,
            RegistryAuth::Basic { username_env, password_env } => {
                Credentials::Basic(var(username_env)?, var(password_env)?)
            }
            RegistryAuth::Bearer { token_env } => Credentials::Bearer(var(token_env)?),
        };
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("schema registry client: {e}"))?;
        Ok(Registry { spec, credentials, client, by_id: Mutex::default(), down_since: Mutex::default() })
    }

    pub fn url(&self) -> &str {
        &self.spec.url
    }

    /// The schema of `id`, from the cache or the registry.
    pub async fn by_id(&self, id: u32) -> Result<Arc<Registered>, Fetch> {
        if let Some(found) = self.by_id.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(found.clone());
        }
        let found = Arc::new(self.get(&format!("/schemas/ids/{id}")).await?);
        self.by_id.lock().unwrap_or_else(|e| e.into_inner()).insert(id, found.clone());
        Ok(found)
    }

    /// The latest version of `subject` (not cached: the caller decides when to look again).
    pub async fn latest(&self, subject: &str) -> Result<Registered, Fetch> {
        self.get(&format!("/subjects/{subject}/versions/latest")).await
    }

    /// One GET with retries while the outage is younger than `retry_for`.
    async fn get(&self, path: &str) -> Result<Registered, Fetch> {
        let mut pause = FIRST_BACKOFF;
        loop {
            let problem = match self.attempt(path).await {
                Ok(found) => {
                    *self.down_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    return found.ok_or(Fetch::NotFound);
                }
                Err(problem) => problem,
            };
            let since = *self.down_since.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Instant::now);
            let left = self.spec.retry_for.saturating_sub(since.elapsed());
            if left.is_zero() {
                return Err(Fetch::Unavailable(problem));
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    /// `Ok(None)` for a 404; `Err` for anything to retry.
    async fn attempt(&self, path: &str) -> Result<Option<Registered>, String> {
        let mut request = self
            .client
            .get(format!("{}{path}", self.spec.url))
            .header("Accept", "application/vnd.schemaregistry.v1+json, application/json");
        request = match &self.credentials {
            Credentials::None => request,
            Credentials::Basic(username, password) => request.basic_auth(username, Some(password)),
            Credentials::Bearer(token) => request.bearer_auth(token),
        };
        // reqwest's errors name the URL, never the credentials.
        let response = request.send().await.map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("{} answered {status}", self.spec.url));
        }
        response.json::<Registered>().await.map(Some).map_err(|e| format!("unreadable answer: {}", e.without_url()))
    }
}

/// The Confluent framing: magic byte 0, a 4-byte big-endian schema id, then the payload.
pub fn split_frame(bytes: &[u8]) -> Result<(u32, &[u8]), String> {
    match bytes {
        [0, a, b, c, d, rest @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), rest)),
        [first, ..] if bytes.len() >= 5 => Err(format!("the first byte is {first}, not the magic byte 0")),
        _ => Err(format!("{} bytes, shorter than the 5-byte header", bytes.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_split_or_refused() {
        assert_eq!(split_frame(&[0, 0, 0, 1, 2, 9, 9]), Ok((258, &[9, 9][..])));
        assert_eq!(split_frame(&[0, 0, 0, 0, 7]), Ok((7, &[][..])));
        assert!(split_frame(&[1, 0, 0, 0, 7]).unwrap_err().contains("magic byte"));
        assert!(split_frame(&[0, 0]).unwrap_err().contains("shorter"));
    }
}
