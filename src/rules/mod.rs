//! Alert rules: `rules/*.yaml` → a validated [`RuleSet`] → an [`Engine`] that turns closed
//! windows into alert transitions and grouped notifications (delivered by `actions`, whose
//! kinds check their own settings through `Checker`). [`load`] reports *every* problem of
//! every file as `file:line:column: key.path: message`, as `config::load` does. Files:
//! `schema.rs` (the format), `validate.rs` (resolution), `model.rs`, `threshold.rs`,
//! `state.rs`, `engine.rs` (with `observe.rs`: a window's verdicts, `lifecycle.rs`: one
//! alert's states), `test_runner.rs` (`driftd test-rules`). The notification it emits
//! and the templates: `crate::notification`; the actions it names: `crate::actions`.

mod engine;
mod known;
mod lifecycle;
mod model;
mod observe;
pub mod schema;
mod state;
pub mod test_runner;
pub mod threshold;
mod validate;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use crate::actions::Action;
pub use crate::notification::{
    format_number, ActionKind, AlertKey, AlertStatus, AlertSummary, Notification, NotificationStatus, Piece, Severity,
    Template, ALERT_VARIABLES, BUILTIN_LABELS, NOTIFICATION_VARIABLES,
};
pub use engine::{alert_labels, Engine, Evaluation, Suppressed, Transition};
pub use known::{Known, KnownStreams};
pub use model::*;
pub use observe::{FeatureStats, WindowEvaluation};
pub use state::{AlertState, EngineState, GroupKey, GroupState, DATASET_FEATURE};
pub use validate::parse_span;

use crate::config::{ConfigError, ConfigErrors, KeyPath, Mark, Problem};

/// Load and validate rule files (or directories of them), interpolating `${VAR}` from the
/// process environment.
pub fn load(paths: &[PathBuf], known: &Known) -> Result<RuleSet, ConfigErrors> {
    load_with_env(paths, known, &|name| std::env::var_os(name))
}

/// The rules of a daemon configuration: its `rules:` files, checked against its monitors (and,
/// for `email` actions, against its `smtp:` section). An empty set when `rules:` is absent.
pub fn load_for_config(config: &crate::config::Config) -> Result<RuleSet, ConfigErrors> {
    if config.rules.is_empty() {
        return Ok(RuleSet::default());
    }
    let rules = load(&config.rules, &Known::from_config(config))?;
    if config.smtp.is_none() {
        let problems: Vec<crate::config::ConfigError> = rules
            .actions
            .values()
            .filter(|a| a.target.needs_smtp())
            .map(|a| crate::config::ConfigError {
                file: config.file.display().to_string(),
                mark: None,
                path: crate::config::KeyPath::root().key("smtp"),
                message: format!("action {:?} sends email, but there is no `smtp:` section", a.name),
            })
            .collect();
        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
    }
    Ok(rules)
}

/// [`load`] with another source of variables (`None` = unset).
pub fn load_with_env(
    paths: &[PathBuf],
    known: &Known,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<RuleSet, ConfigErrors> {
    let files = expand(paths)?;
    let mut texts = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match crate::config::read_text(&file) {
            Ok(text) => texts.push((file, text)),
            Err(e) => errors.extend(e.0),
        }
    }
    let sources: Vec<(&Path, &str)> = texts.iter().map(|(p, t)| (p.as_path(), t.as_str())).collect();
    match from_sources(&sources, known, env) {
        Ok(set) if errors.is_empty() => Ok(set),
        Ok(_) => Err(ConfigErrors(errors)),
        Err(e) => {
            errors.extend(e.0);
            Err(ConfigErrors(errors))
        }
    }
}

/// Validate rule texts as if they were the files named (relative `file:` paths are resolved
/// against each file's directory; messages name the files).
pub fn from_sources(
    sources: &[(&Path, &str)],
    known: &Known,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<RuleSet, ConfigErrors> {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for (path, text) in sources {
        match crate::config::parse_typed::<schema::RulesFile>(text, env) {
            Ok((doc, root, problems)) => {
                let problems = if doc.is_none() && problems.is_empty() {
                    vec![Problem::new(Mark::START, KeyPath::root(), "invalid rule file")]
                } else {
                    problems
                };
                inputs.push(validate::FileInput { path: path.to_path_buf(), root, doc, problems });
            }
            Err(problem) => errors.extend(crate::config::finish(&path.display().to_string(), vec![problem]).0),
        }
    }
    let set = validate::resolve(&mut inputs, known);
    for input in inputs {
        if !input.problems.is_empty() {
            errors.extend(crate::config::finish(&input.path.display().to_string(), input.problems).0);
        }
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Files to load: each path given, or a directory's `*.yaml` / `*.yml` files by name.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ConfigErrors> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let problem = |path: &Path, message: String| ConfigError {
        file: path.display().to_string(),
        mark: None,
        path: KeyPath::root(),
        message,
    };
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                    .collect();
                found.sort();
                files.extend(found);
            }
            Err(err) => errors.push(problem(path, format!("cannot read the directory: {err}"))),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(ConfigErrors(errors))
    }
}
