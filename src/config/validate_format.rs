//! Checks and resolution of a Kafka source's message format: `format`, `schema`, `message`
//! and `registry` (docs/config.md, "Message formats"). A local schema is read and compiled
//! here, so a bad schema file is reported at start-up at its key, not per message.

use std::time::Duration;

use super::duration::parse_duration;
use super::error::KeyPath;
use super::schema;
use super::validate::Checker;
use crate::source::format::{FormatSpec, MessageFormat, RegistryAuth, RegistrySpec, TimeRender, Translator};

/// Default `registry.retry_for`.
pub const DEFAULT_REGISTRY_RETRY: Duration = Duration::from_secs(10);

impl Checker<'_> {
    /// Checked: `schema`, `message` and `registry` only with `avro` or `protobuf`; Avro needs a
    /// schema file or a registry, Protobuf a schema file with `message`, or a registry; the
    /// schema file exists and compiles (an Avro `.avsc`; a `.proto` or a descriptor set
    /// `.desc` / `.pb` that has `message`); the registry URL is http(s); credentials are
    /// environment variable names, basic (both names) or bearer, not both; `retry_for` parses.
    pub(super) fn message_format(&mut self, at: &KeyPath, k: &schema::KafkaSource) -> FormatSpec {
        let format = match k.format {
            None | Some(schema::MessageFormat::Json) => MessageFormat::Json,
            Some(schema::MessageFormat::Avro) => MessageFormat::Avro,
            Some(schema::MessageFormat::Protobuf) => MessageFormat::Protobuf,
        };
        let subject = format!("{}-value", k.topic);
        if format == MessageFormat::Json {
            for (key, set) in
                [("schema", k.schema.is_some()), ("message", k.message.is_some()), ("registry", k.registry.is_some())]
            {
                if set {
                    self.error(&at.key(key), "applies to `format: avro` only");
                }
            }
            return FormatSpec { subject, ..FormatSpec::default() };
        }
        if format == MessageFormat::Protobuf {
            self.error(&at.key("format"), "`protobuf` is not supported yet: use `avro` or `json`");
            return FormatSpec { subject, ..FormatSpec::default() };
        }
        let schema_file = k.schema.as_ref().map(|text| self.existing_file(&at.key("schema"), text));
        let registry = k.registry.as_ref().map(|r| self.registry(&at.key("registry"), r));
        match format {
            MessageFormat::Avro if schema_file.is_none() && registry.is_none() => {
                self.error(at, "`format: avro` needs `schema: FILE.avsc` or `registry: {url: …}`")
            }
            MessageFormat::Avro if k.message.is_some() => {
                self.error(&at.key("message"), "`message` applies to `format: protobuf` only")
            }
            MessageFormat::Protobuf if schema_file.is_none() && registry.is_none() => self.error(
                at,
                "`format: protobuf` needs `schema: FILE.proto` (or a descriptor set) with `message`, or `registry: {url: …}`",
            ),
            MessageFormat::Protobuf if schema_file.is_some() && k.message.is_none() => {
                self.error(at, "a Protobuf schema file needs `message`: the fully qualified message type")
            }
            _ => {}
        }
        let spec = FormatSpec { format, schema_file, message: k.message.clone(), registry, subject };
        // Compile the local schema now (registry credentials are only read when driftd runs).
        if spec.schema_file.is_some() && !self.has_problem(&at.key("schema")) && !self.has_problem(at) {
            let local = FormatSpec { registry: None, ..spec.clone() };
            if let Err(message) = Translator::new(&local, TimeRender::Rfc3339, 1) {
                let key = if message.contains("message type") { "message" } else { "schema" };
                self.error(&at.key(key), message);
            }
        }
        spec
    }

    fn registry(&mut self, at: &KeyPath, r: &schema::Registry) -> RegistrySpec {
        let url = r.url.trim_end_matches('/').to_string();
        let host = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
        if host.is_none_or(|h| h.is_empty() || h.contains(['?', '#', ' '])) {
            self.error(&at.key("url"), format!("{:?} is not an http:// or https:// URL", r.url));
        }
        for (key, value) in
            [("username_env", &r.username_env), ("password_env", &r.password_env), ("token_env", &r.token_env)]
        {
            if let Some(name) = value {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.error(
                        &at.key(key),
                        format!(
                            "{name:?} is not an environment variable name (write the variable's name, not the secret)"
                        ),
                    );
                }
            }
        }
        let auth = match (&r.username_env, &r.password_env, &r.token_env) {
            (None, None, None) => RegistryAuth::None,
            (Some(u), Some(p), None) => RegistryAuth::Basic { username_env: u.clone(), password_env: p.clone() },
            (None, None, Some(t)) => RegistryAuth::Bearer { token_env: t.clone() },
            (_, _, Some(_)) => {
                self.error(&at.key("token_env"), "use either `token_env` or `username_env` + `password_env`");
                RegistryAuth::None
            }
            _ => {
                self.error(at, "basic authentication needs both `username_env` and `password_env`");
                RegistryAuth::None
            }
        };
        let retry_for = match &r.retry_for {
            None => DEFAULT_REGISTRY_RETRY,
            Some(text) => parse_duration(text).unwrap_or_else(|e| {
                self.error(&at.key("retry_for"), e);
                DEFAULT_REGISTRY_RETRY
            }),
        };
        RegistrySpec { url, auth, retry_for }
    }
}
