//! The problems of one rule file, each reported at the node it is about, and the checks that
//! rules and action kinds share (identifiers, environment variable names, durations,
//! notification templates). Each action kind validates its own settings through it
//! (`actions/<kind>.rs`), so its messages carry the file, line and key path as the rules' do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::template::{Template, BUILTIN_LABELS, NOTIFICATION_VARIABLES};
use crate::config::{parse_duration, KeyPath, Node, Problem};

/// Problems of one file, with the paths holding placeholders.
pub(crate) struct Checker<'a> {
    pub(crate) root: &'a Node,
    pub(crate) reported: Vec<KeyPath>,
    pub(crate) problems: &'a mut Vec<Problem>,
    /// The file's directory: relative paths in it are resolved against it.
    pub(crate) base: PathBuf,
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        if self.reported.iter().any(|r| path.starts_with(r)) || self.problems.iter().any(|p| &p.path == path) {
            return;
        }
        self.problems.push(Problem::new(self.root.locate(path), path.clone(), message));
    }

    /// Whether a structural problem was reported at, above or below `path`: its value may be
    /// a placeholder, so checks of it must not run.
    pub(crate) fn has_problem(&self, path: &KeyPath) -> bool {
        self.reported.iter().any(|r| r.starts_with(path) || path.starts_with(r))
    }

    /// `path` as written in the file, resolved against the file's directory when relative.
    pub(crate) fn resolve_path(&self, path: &str) -> PathBuf {
        let given = Path::new(path);
        if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.base.join(given)
        }
    }

    /// The duration at `parent.key`, `default` when absent (or invalid: the problem is reported).
    pub(crate) fn duration(&mut self, text: Option<&str>, parent: &KeyPath, key: &str, default: Duration) -> Duration {
        let p = parent.key(key);
        match text.map(parse_duration) {
            None => default,
            Some(Ok(d)) if d.is_zero() => {
                self.error(&p, format!("{key} must be longer than 0"));
                default
            }
            Some(Ok(d)) => d,
            Some(Err(message)) => {
                self.error(&p, message);
                default
            }
        }
    }

    /// A variable *name*: secrets are read from the environment at delivery, never written.
    pub(crate) fn env_name(&mut self, var: &str, path: &KeyPath) {
        if !valid_identifier(var) {
            self.error(path, format!("{var:?} is not an environment variable name (the value is read from the environment at delivery; write the variable's name)"));
        }
    }

    /// A template of one notification (an email subject, a webhook body).
    pub(crate) fn notification_template(&mut self, text: &str, path: &KeyPath) -> Template {
        match Template::parse(text, NOTIFICATION_VARIABLES, BUILTIN_LABELS) {
            Ok(t) => t,
            Err(message) => {
                self.error(path, message);
                Template { source: text.to_string(), pieces: Vec::new() }
            }
        }
    }
}

pub(crate) fn valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
