//! The daemon's configuration: `driftd.yaml` → [`Config`], or every problem in the file.
//!
//! Input: a YAML file and the environment. Output: a resolved, validated [`Config`], or
//! [`ConfigErrors`]: *all* the problems found, each on one line as
//! `file:line:column: key.path: message`, in file order.
//!
//! Stages, each collecting problems instead of stopping at the first:
//! 1. `yaml.rs`: text → a tree of nodes with positions (syntax errors end here: one error);
//!    duplicate keys; anchors, aliases and merge keys expanded.
//! 2. `interpolate.rs`: `${VAR}` and `${VAR:-default}` in values, from the environment; an
//!    unset variable without default is a problem at its `${`.
//! 3. `de.rs`: the tree → the typed file format ([`schema::Document`], whose fields document
//!    every key), reporting wrong types, unknown keys (with "did you mean"), missing keys and
//!    unknown names all at once.
//! 4. `validate.rs`, `validate_stream.rs`: everything types cannot say (names, units, files
//!    that must exist, brokers, pointers …), resolving defaults and relative paths (against
//!    the configuration file's directory) into [`Config`].
//!
//! Interpolation applies to values of every style; inside a flow collection (`{…}`, `[…]`)
//! quote a value that uses it (`{ size: '${WINDOW}' }`), since `{` and `}` are YAML syntax
//! there (the syntax error says so).
//!
//! Invariants: [`load`] returns `Ok` only when no stage found a problem; an `Err` is never
//! empty; no input makes it panic; values taken from the environment are never quoted in a
//! message (their `${…}` text is).
//!
//! The format, annotated (every key is documented on the matching field of [`schema`]):
//!
//! ```yaml
//! http:
//!   listen: 127.0.0.1:9464            # /metrics, /healthz, /readyz, /api/v1 (default: loopback)
//!   request_timeout: 30s              # a request, body included; slower: 408, connection closed
//!   tls: { cert_file: server.pem, key_file: server.key }   # optional: HTTPS only (PEM files)
//! state:
//!   path: ./driftd-state              # embedded store (default driftd-state beside this file)
//! kafka:                              # defaults for every kafka source
//!   brokers: ${KAFKA_BROKERS:-127.0.0.1:9092}
//!   properties: { security.protocol: SASL_SSL, sasl.mechanism: PLAIN, sasl.password: ${KAFKA_PASSWORD} }
//!   instance_id: ${HOSTNAME}          # optional: static group membership (fast restarts)
//! rules: [rules/]                     # alert rule files or directories (format: docs/rules.md)
//! smtp:                               # for `email` actions
//!   host: smtp.example.com            # port: 587 (starttls) / 465 (tls) / 25 (none) by default
//!   tls: starttls                     # starttls | tls | none
//!   username_env: SMTP_USER           # credentials come from the environment
//!   password_env: SMTP_PASSWORD
//!   from: driftd@example.com
//! monitors:
//!   - name: credit-scoring            # unique, [a-z0-9_-]+
//!     model_version: "2026-11-01"
//!     reference:                      # exactly one of:
//!       profile: refs/credit.json     #   a profile fit by `driftd reference fit`
//!       # dataset: { path: data/train.parquet, predictions: [score], exclude: [id] }
//!       # capture: { events: 5000 }   #   the first N events of each stream (persisted)
//!       # trailing: { windows: 3 }    #   the previous N windows
//!     # binning: quantile             # not with a profile (its edges are frozen in it)
//!     statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger]
//!     window:
//!       kind: tumbling                # or sliding
//!       size: 1h                      # a duration (ms, s, m, h, d; 1h30m) or "10000 events"
//!       # slide: 15m                  # sliding only; same unit as size, divides it
//!       allowed_lateness: 5m          # time windows only
//!       idle_timeout: 1m              # time windows only; 0s = off
//!     ks_sample_cap: 100000
//!     streams:
//!       inputs:
//!         source:
//!           kafka: { topic: credit-inputs, group_id: driftd-credit, start: committed }
//!           # file: { path: inputs.jsonl, format: jsonl }   # jsonl | csv | parquet
//!         event_time: { field: /ts, format: rfc3339 }     # rfc3339 | epoch_s | epoch_ms; or kafka_timestamp
//!         features: "*"                                   # every key of /features; or
//!         # features: { object: /payload/features }       # every key of another object; or
//!         # features: [income, { name: age, pointer: /applicant/age }]
//!         dead_letter_topic: credit-inputs-dlq            # optional, kafka only
//!         max_message_bytes: 1048576
//!         max_features: 1000                              # cap on discovered features ("*", object)
//!       predictions:
//!         source: { kafka: { topic: credit-predictions } }
//!         prediction: { pointer: /score, kind: score }    # score | label | probabilities (+ classes: [...])
//! ```

mod de;
mod de_access;
mod duration;
mod error;
mod interpolate;
mod model;
pub mod schema;
#[cfg(test)]
mod tests;
mod validate;
mod validate_stream;
mod validate_window;
mod yaml;

use std::ffi::OsString;
use std::path::Path;

pub use duration::{format_duration, format_window_size, parse_duration, parse_window_size};
pub use error::{ConfigError, ConfigErrors, KeyPath, Mark, Segment};
pub use model::*;
pub use validate::{
    DEFAULT_IDLE_TIMEOUT, DEFAULT_KS_SAMPLE_CAP, DEFAULT_LISTEN, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_STATE_PATH,
};

pub(crate) use error::{suggest, Problem};
pub(crate) use yaml::Node;

/// Largest configuration file read (a guard against pointing `--config` at the wrong file).
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Load and validate a configuration file, interpolating from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    load_with_env(path, &|name| std::env::var_os(name))
}

/// [`load`] with another source of variables (`None` = unset).
pub fn load_with_env(path: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Config, ConfigErrors> {
    let text = read_text(path)?;
    from_str(&text, path, env)
}

/// The text of a YAML file of driftd (configuration or rules), or the one problem that keeps
/// it from being read (a directory, too large, unreadable, not UTF-8), attached to the file.
pub(crate) fn read_text(path: &Path) -> Result<String, ConfigErrors> {
    let whole_file = |message: String| {
        ConfigErrors(vec![ConfigError { file: path.display().to_string(), mark: None, path: KeyPath::root(), message }])
    };
    let too_large =
        |len: u64| whole_file(format!("is {len} bytes; a configuration file is at most {MAX_CONFIG_BYTES}"));
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(whole_file("is a directory, not a configuration file".into())),
        // A FIFO would block the read until a writer comes, a device (/dev/zero) never ends.
        Ok(meta) if !meta.is_file() => return Err(whole_file("is not a regular file".into())),
        Ok(meta) if meta.len() > MAX_CONFIG_BYTES => return Err(too_large(meta.len())),
        _ => {}
    }
    // Bounded even if the file grows between the check and the read.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_CONFIG_BYTES + 1), &mut bytes))
        .map_err(|err| whole_file(format!("cannot read: {err}")))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        let at = err.utf8_error().valid_up_to();
        whole_file(format!("not UTF-8 text (invalid byte at offset {at})"))
    })?;
    Ok(text)
}

/// Stages 1–3 for any file format `T` (the daemon's configuration, rule files, rule tests):
/// text → located tree → interpolated → `T`, with every problem found so far. `T` is `None`
/// only when deserialization could not recover; a syntax error is the one `Err`.
pub(crate) fn parse_typed<T: serde::de::DeserializeOwned>(
    text: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(Option<T>, Node, Vec<Problem>), Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (mut root, mut problems) = yaml::parse(text)?;
    problems.extend(interpolate::interpolate(&mut root, &KeyPath::root(), env));
    let document: Option<T> = de::deserialize(&root, &mut problems);
    Ok((document, root, problems))
}

/// Validate configuration text as if it were the file `path` (relative paths in it are
/// resolved against `path`'s directory; messages name `path`).
pub fn from_str(text: &str, path: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Config, ConfigErrors> {
    let file = path.display().to_string();
    let (document, root, mut problems) =
        parse_typed::<schema::Document>(text, env).map_err(|p| finish(&file, vec![p]))?;
    let config = document.map(|doc| validate::resolve(doc, &root, path, &mut problems));
    match config {
        Some(config) if problems.is_empty() => Ok(config),
        _ if problems.is_empty() => {
            Err(finish(&file, vec![Problem::new(Mark::START, KeyPath::root(), "invalid configuration")]))
        }
        _ => Err(finish(&file, problems)),
    }
}

/// Attach the file name; sort by position (stable, so problems at one node keep their order)
/// and drop exact repeats.
pub(crate) fn finish(file: &str, mut problems: Vec<Problem>) -> ConfigErrors {
    problems.sort_by_key(|p| p.mark.map(|m| (m.line, m.column)).unwrap_or((u32::MAX, u32::MAX)));
    problems.dedup();
    ConfigErrors(
        problems
            .into_iter()
            .map(|p| ConfigError { file: file.to_string(), mark: p.mark, path: p.path, message: p.message })
            .collect(),
    )
}

impl Config {
    /// The monitor called `name`.
    pub fn monitor(&self, name: &str) -> Option<&MonitorConfig> {
        self.monitors.iter().find(|m| m.name == name)
    }
}
