//! Checks beyond types, and resolution of the file as written ([`schema::Document`]) into the
//! configuration the daemon runs ([`Config`]): defaults, and relative paths taken from the
//! configuration file's directory. Each problem is placed at the node it is about (a missing
//! key: where its mapping starts). Here: top level, monitors, references, binning, statistics;
//! `smtp:` and `http:` in `validate_server.rs`, windows in `validate_window.rs`, streams and sources in `validate_stream.rs`. The full list
//! of checks: docs/config.md, "Validation".

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{KeyPath, Problem};
use super::model::*;
use super::schema;
use super::yaml::{Node, NodeKind};
use crate::dataset::Format;
use crate::stats::binning::Binning;
use crate::stats::statistic::{Statistic, Statistics};

/// Default `http.listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";
/// Default `state.path`.
pub const DEFAULT_STATE_PATH: &str = "driftd-state";
/// Default `ks_sample_cap`.
pub const DEFAULT_KS_SAMPLE_CAP: u64 = 100_000;
/// Default `max_message_bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 1 << 20;
/// Default `http.request_timeout`: a slow body cannot hold a connection longer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `idle_timeout`.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) struct Checker<'a> {
    pub root: &'a Node,
    /// Directory relative paths are resolved against.
    pub base: &'a Path,
    /// Paths that already have a problem.
    pub reported: Vec<KeyPath>,
    pub problems: Vec<Problem>,
}

/// Resolve a deserialized document; problems are appended to `problems`.
///
/// Inputs: the deserialized document, its located tree (for positions and to know which
/// values came from `${VAR}`), the configuration file (its directory resolves relative paths)
/// and the problems so far (a path that already has a structural problem — wrong type,
/// missing key — holds a placeholder, and nothing under it is reported again).
///
/// Checked here: `http.listen` is `IP:PORT`; at least one monitor; monitor names
/// `[a-z0-9_-]{1,64}` and unique; a model version is not empty; reference files exist
/// (relative paths from the configuration's directory), their format is known,
/// `capture.events` and `trailing.windows` ≥ 1; `binning` parses, is frozen (not `evidently`)
/// and is not given with a `profile` reference; statistics listed at most once and at least
/// one; `ks_sample_cap` ≥ 1.
pub(crate) fn resolve(doc: schema::Document, root: &Node, file: &Path, problems: &mut Vec<Problem>) -> Config {
    let base = file.parent().unwrap_or(Path::new(""));
    let reported = problems.iter().filter(|p| p.placeholder).map(|p| p.path.clone()).collect();
    let mut checker = Checker { root, base, reported, problems: Vec::new() };
    let config = checker.document(doc, file);
    problems.append(&mut checker.problems);
    config
}

impl Checker<'_> {
    /// Report a problem at `path`, unless the value there is a placeholder (a problem was
    /// reported at or above it) or it already has a problem: one message per node.
    pub fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        if self.reported.iter().any(|r| path.starts_with(r)) || self.problems.iter().any(|p| &p.path == path) {
            return;
        }
        let mut message = message.into();
        // A value taken from the environment is quoted as its `${…}` text: it may be a secret.
        if let Some(Node { kind: NodeKind::Scalar(s), .. }) = self.root.get(path) {
            if let Some(template) = &s.template {
                message = message.replace(&format!("{:?}", s.text), &format!("{template:?}"));
                if s.text.len() >= 3 {
                    message = message.replace(&s.text, template);
                }
            }
        }
        self.problems.push(Problem::new(self.root.locate(path), path.clone(), message));
    }

    /// Whether a structural problem was reported at or below `path`: its value may be a
    /// placeholder, so checks that combine it with other values must not run.
    pub fn has_problem(&self, path: &KeyPath) -> bool {
        self.reported.iter().any(|r| r.starts_with(path))
    }

    /// Whether the scalar at `path` came from `${VAR}` interpolation.
    pub fn interpolated(&self, path: &KeyPath) -> bool {
        matches!(self.root.get(path), Some(Node { kind: NodeKind::Scalar(s), .. }) if s.template.is_some())
    }

    /// Whether the value at `path` comes wholly from the environment: its text is made of
    /// `${VAR}` references only (no literal text, no non-empty `:-default`, which would put the
    /// secret in the file after all).
    pub fn wholly_from_environment(&self, path: &KeyPath) -> bool {
        let Some(Node { kind: NodeKind::Scalar(s), .. }) = self.root.get(path) else { return false };
        let Some(mut rest) = s.template.as_deref() else { return false };
        while !rest.is_empty() {
            let Some(inner) = rest.strip_prefix("${").and_then(|r| r.split_once('}')) else { return false };
            let (reference, after) = inner;
            let name = reference.strip_suffix(":-").unwrap_or(reference);
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return false;
            }
            rest = after;
        }
        true
    }

    /// A file named in the configuration: resolved against the configuration's directory and
    /// checked to exist.
    pub fn existing_file(&mut self, path: &KeyPath, text: &str) -> PathBuf {
        if text.trim().is_empty() {
            self.error(path, "the path is empty");
            return PathBuf::new();
        }
        let given = Path::new(text);
        let resolved = if given.is_absolute() { given.to_path_buf() } else { self.base.join(given) };
        let shown = if given.is_absolute() || self.base.as_os_str().is_empty() {
            format!("{text:?}")
        } else {
            format!("{text:?} (resolved against the configuration's directory: {})", resolved.display())
        };
        match std::fs::metadata(&resolved) {
            Ok(meta) if meta.is_dir() => self.error(path, format!("{shown} is a directory, not a file")),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                self.error(path, format!("{shown} does not exist"))
            }
            Err(err) => self.error(path, format!("{shown} cannot be read: {err}")),
        }
        resolved
    }

    fn document(&mut self, doc: schema::Document, file: &Path) -> Config {
        let root = KeyPath::root();
        let listen_path = root.key("http").key("listen");
        let http_doc = doc.http.unwrap_or(schema::Http {
            listen: None,
            token_env: None,
            auth: None,
            allowed_hosts: None,
            request_timeout: None,
            tls: None,
        });
        let tls = http_doc.tls.map(|tls| self.http_tls(&root.key("http").key("tls"), tls));
        let request_timeout = self.http_timeout(&root.key("http").key("request_timeout"), &http_doc.request_timeout);
        if let Some(var) = &http_doc.token_env {
            let valid = !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                self.error(
                    &root.key("http").key("token_env"),
                    format!("{var:?} is not an environment variable name (write the variable's name, not the token)"),
                );
            }
        }
        if http_doc.auth.is_some() && http_doc.token_env.is_none() {
            self.error(&root.key("http").key("auth"), "`auth` needs `token_env` (the token to require)");
        }
        let listen_text = http_doc.listen.clone();
        let listen = match listen_text.as_deref().unwrap_or(DEFAULT_LISTEN).trim().parse::<SocketAddr>() {
            Ok(addr) => addr,
            Err(_) => {
                let text = listen_text.unwrap_or_default();
                self.error(
                    &listen_path,
                    format!("invalid address {text:?}: expected IP:PORT, such as 127.0.0.1:9464 or [::1]:9464"),
                );
                SocketAddr::from(([127, 0, 0, 1], 9464))
            }
        };
        let state_text = doc.state.and_then(|s| s.path).unwrap_or_else(|| DEFAULT_STATE_PATH.to_string());
        if state_text.trim().is_empty() {
            self.error(&root.key("state").key("path"), "the path is empty");
        }
        let state_path =
            if Path::new(&state_text).is_absolute() { PathBuf::from(&state_text) } else { self.base.join(&state_text) };

        let kafka = doc.kafka.unwrap_or(schema::KafkaDefaults { brokers: None, properties: None, instance_id: None });
        if let Some(id) = &kafka.instance_id {
            let valid = (1..=200).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !valid {
                self.error(
                    &root.key("kafka").key("instance_id"),
                    format!("invalid instance id {id:?}: use 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'"),
                );
            }
        }
        if let Some(brokers) = &kafka.brokers {
            self.brokers(&root.key("kafka").key("brokers"), brokers);
        }
        if let Some(properties) = &kafka.properties {
            self.properties(&root.key("kafka").key("properties"), properties);
        }

        let monitors_path = root.key("monitors");
        if doc.monitors.is_empty() {
            self.error(&monitors_path, "at least one monitor is needed");
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut monitors = Vec::with_capacity(doc.monitors.len());
        for (i, monitor) in doc.monitors.into_iter().enumerate() {
            let path = monitors_path.index(i);
            if let Some(first) = seen.get(&monitor.name) {
                let line = self.root.locate(&monitors_path.index(*first).key("name")).line;
                self.error(
                    &path.key("name"),
                    format!("monitor name {:?} is already used by monitors[{first}] (line {line})", monitor.name),
                );
            } else {
                seen.insert(monitor.name.clone(), i);
            }
            monitors.push(self.monitor(&path, monitor, &kafka));
        }
        let rules_path = root.key("rules");
        let rules = doc
            .rules
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, text)| self.existing_path(&rules_path.index(i), text))
            .collect();
        let smtp = doc.smtp.map(|smtp| self.smtp(&root.key("smtp"), smtp));
        Config {
            file: file.to_path_buf(),
            http: HttpConfig {
                listen,
                token_env: http_doc.token_env,
                protect_all: http_doc.auth == Some(schema::AuthScope::All),
                allowed_hosts: http_doc.allowed_hosts.unwrap_or_default(),
                request_timeout,
                tls,
            },
            state: StateConfig { path: state_path },
            monitors,
            rules,
            smtp,
            kafka_brokers: kafka.brokers.clone(),
            kafka_properties: kafka.properties.clone().unwrap_or_default(),
        }
    }

    /// A rule file or directory: resolved against the configuration's directory; must exist.
    fn existing_path(&mut self, path: &KeyPath, text: &str) -> PathBuf {
        let given = Path::new(text);
        let resolved = if given.is_absolute() { given.to_path_buf() } else { self.base.join(given) };
        if text.trim().is_empty() {
            self.error(path, "the path is empty");
        } else if !resolved.exists() {
            self.error(path, format!("{text:?} does not exist (resolved: {})", resolved.display()));
        }
        resolved
    }

    fn monitor(&mut self, path: &KeyPath, m: schema::Monitor, kafka: &schema::KafkaDefaults) -> MonitorConfig {
        let name_ok = (1..=64).contains(&m.name.len())
            && m.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !name_ok {
            self.error(
                &path.key("name"),
                format!("invalid monitor name {:?}: use 1 to 64 of a-z, 0-9, _ and -", m.name),
            );
        }
        if m.model_version.as_deref().is_some_and(|v| v.trim().is_empty()) {
            self.error(&path.key("model_version"), "the model version is empty (leave the key out instead)");
        }
        let reference_ok = !self.has_problem(&path.key("reference"));
        let reference = self.reference(&path.key("reference"), m.reference);
        let binning = self.binning(&path.key("binning"), m.binning.as_deref(), reference_ok.then_some(&reference));
        let statistics = self.statistics(&path.key("statistics"), m.statistics.as_deref());
        let window = self.window(&path.key("window"), &m.window);
        let cap = m.ks_sample_cap.unwrap_or(DEFAULT_KS_SAMPLE_CAP);
        if cap == 0 {
            self.error(&path.key("ks_sample_cap"), "must be at least 1");
        }
        let streams_path = path.key("streams");
        if m.streams.inputs.is_none() && m.streams.predictions.is_none() {
            self.error(&streams_path, "a monitor needs at least one stream: `inputs`, `predictions` or both");
        }
        let context = StreamContext { monitor: &m.name, kafka, window: window.as_ref() };
        let inputs = m.streams.inputs.map(|s| self.inputs(&streams_path.key("inputs"), s, &context));
        let prediction_kind =
            m.streams.predictions.as_ref().map(|p| p.prediction.kind.unwrap_or(PredictionKind::Score));
        let predictions_keyed = m.streams.predictions.as_ref().is_some_and(|p| p.key.is_some());
        let predictions =
            m.streams.predictions.map(|s| self.predictions(&streams_path.key("predictions"), s, &context));
        let labels = m.streams.labels.map(|s| {
            let at = streams_path.key("labels");
            let task = s.task.unwrap_or(schema::LabelTask::Classification);
            let prediction = match (prediction_kind, task) {
                (None, _) => {
                    self.error(&at, "labels are joined to predictions: the monitor needs a `predictions` stream");
                    crate::labels::PredictionUse::Scores
                }
                (Some(PredictionKind::Probabilities), _) => {
                    self.error(
                        &at,
                        "labels are joined to a score or a label prediction; per-class probabilities are not supported yet",
                    );
                    crate::labels::PredictionUse::Scores
                }
                (Some(PredictionKind::Label), schema::LabelTask::Classification) => crate::labels::PredictionUse::Labels,
                (Some(PredictionKind::Label), schema::LabelTask::Regression) => {
                    self.error(&at.key("task"), "a regressor's prediction is a number: use `kind: score`");
                    crate::labels::PredictionUse::Scores
                }
                (Some(PredictionKind::Score), _) => crate::labels::PredictionUse::Scores,
            };
            if prediction_kind.is_some() && !predictions_keyed {
                self.error(
                    &streams_path.key("predictions"),
                    "a `labels` stream is joined by key: add `key: /POINTER` (e.g. `/request_id`) to the predictions",
                );
            }
            self.labels(&at, s, &context, prediction)
        });
        if let (ReferenceConfig::Dataset { predictions: columns, .. }, Some(_)) = (&reference, &predictions) {
            if columns.is_empty() && !self.has_problem(&streams_path.key("predictions")) {
                self.error(
                    &path.key("reference").key("dataset"),
                    "the `predictions` stream needs the dataset's prediction columns: add `predictions: [COLUMN, …]`",
                );
            }
        }
        MonitorConfig {
            name: m.name,
            model_version: m.model_version,
            reference,
            binning,
            statistics,
            window: window.unwrap_or(WindowConfig {
                kind: WindowKind::Tumbling,
                size: WindowSize::Events(1),
                slide: WindowSize::Events(1),
                allowed_lateness: Duration::ZERO,
                idle_timeout: None,
            }),
            ks_sample_cap: usize::try_from(cap).unwrap_or(usize::MAX),
            inputs,
            predictions,
            labels,
        }
    }

    fn reference(&mut self, path: &KeyPath, reference: schema::Reference) -> ReferenceConfig {
        match reference {
            schema::Reference::Profile(file) => {
                ReferenceConfig::Profile { path: self.existing_file(&path.key("profile"), &file) }
            }
            schema::Reference::Dataset(d) => {
                let at = path.key("dataset");
                let resolved = self.existing_file(&at.key("path"), &d.path);
                let format = self.format(
                    &at,
                    &resolved,
                    d.format.as_deref(),
                    &[Format::Csv, Format::Parquet, Format::ArrowIpc, Format::JsonLines],
                );
                ReferenceConfig::Dataset {
                    path: resolved,
                    format,
                    predictions: self.column_list(&at.key("predictions"), d.predictions.unwrap_or_default()),
                    exclude: self.column_list(&at.key("exclude"), d.exclude.unwrap_or_default()),
                }
            }
            schema::Reference::Capture(c) => {
                if c.events == 0 {
                    self.error(&path.key("capture").key("events"), "must be at least 1");
                }
                ReferenceConfig::Capture { events: c.events }
            }
            schema::Reference::Trailing(t) => {
                if t.windows == 0 {
                    self.error(&path.key("trailing").key("windows"), "must be at least 1");
                }
                ReferenceConfig::Trailing { windows: t.windows }
            }
        }
    }

    fn column_list(&mut self, path: &KeyPath, columns: Vec<String>) -> Vec<String> {
        for (i, column) in columns.iter().enumerate() {
            if column.is_empty() {
                self.error(&path.index(i), "the column name is empty");
            } else if columns[..i].contains(column) {
                self.error(&path.index(i), format!("column {column:?} is listed twice"));
            }
        }
        columns
    }

    /// The format of a file: given (`format`, under `at`), else implied by its extension,
    /// and one of `allowed`.
    pub fn format(&mut self, at: &KeyPath, file: &Path, given: Option<&str>, allowed: &[Format]) -> Format {
        let names = allowed.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ");
        let format = match given {
            Some(text) => match text.parse::<Format>() {
                Ok(format) => Some(format),
                Err(_) => {
                    self.error(&at.key("format"), format!("unknown format {text:?}: expected one of {names}"));
                    return allowed[0];
                }
            },
            None => Format::from_path(file),
        };
        match format {
            Some(format) if allowed.contains(&format) => format,
            Some(format) => {
                let message = format!("format {format} is not supported here: expected one of {names}");
                self.error(&if given.is_some() { at.key("format") } else { at.key("path") }, message);
                allowed[0]
            }
            None => {
                self.error(
                    &at.key("path"),
                    format!("cannot tell the format from the file name: add `format:` ({names})"),
                );
                allowed[0]
            }
        }
    }

    /// `reference` is `None` when it had a problem (its kind is unknown).
    fn binning(&mut self, path: &KeyPath, text: Option<&str>, reference: Option<&ReferenceConfig>) -> Option<Binning> {
        if let Some(ReferenceConfig::Profile { .. }) = reference {
            if text.is_some() {
                self.error(path, "a profile reference brings its own frozen bin edges: remove `binning` (or fit the profile with `driftd reference fit --binning`)");
            }
            return None;
        }
        let Some(text) = text else { return Some(Binning::default()) };
        match text.parse::<Binning>() {
            Ok(Binning::Evidently) => {
                self.error(path, "`evidently` binning depends on each window's values; the daemon needs frozen edges: quantile[:N], equal-width:N or edges:a,b,…");
                Some(Binning::default())
            }
            Ok(binning) => Some(binning),
            Err(err) => {
                self.error(path, err.to_string());
                Some(Binning::default())
            }
        }
    }

    fn statistics(&mut self, path: &KeyPath, list: Option<&[Statistic]>) -> Statistics {
        let Some(list) = list else { return Statistics::DEFAULT };
        if list.is_empty() {
            self.error(path, "list at least one statistic (or leave the key out for all of them)");
            return Statistics::DEFAULT;
        }
        let mut selected = Statistics::NONE;
        for (i, &statistic) in list.iter().enumerate() {
            if selected.contains(statistic) {
                self.error(&path.index(i), "listed twice");
            }
            selected.insert(statistic);
        }
        selected
    }
}

/// What the stream checks need to know about their monitor.
pub(super) struct StreamContext<'a> {
    pub monitor: &'a str,
    pub kafka: &'a schema::KafkaDefaults,
    /// `None` when the window itself is invalid (already reported).
    pub window: Option<&'a WindowConfig>,
}
