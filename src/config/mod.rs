//! The daemon's configuration: `driftd.yaml` + the environment → a validated [`Config`], or
//! [`ConfigErrors`]: *every* problem in the file, each one line `file:line:column: key.path:
//! message`, in file order.
//!
//! Four stages, each collecting problems instead of stopping at the first: `yaml.rs` (text →
//! located tree), `interpolate.rs` (`${VAR}`), `de.rs` (tree → [`schema::Document`], whose fields
//! document every key), `validate*.rs` (checks, defaults, paths → [`Config`]). [`load`] is `Ok`
//! only when no stage found a problem. The format, key by key: docs/config.md.

mod de;
mod de_access;
mod de_node;
mod duration;
mod error;
mod interpolate;
mod model;
pub mod schema;
#[cfg(test)]
mod tests;
mod validate;
mod validate_format;
mod validate_server;
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
