//! Checks beyond types, and resolution of rule files as written ([`schema::RulesFile`]) into
//! the typed [`RuleSet`].
//!
//! Input: every file's deserialized document and located tree, the names known from the
//! daemon's configuration ([`Known`]), and the problems found so far. Output: the rule set
//! and every further problem, each at the position of the node it is about.
//!
//! Checked here: names `[A-Za-z0-9_-]{1,64}`, unique across all files (rules and actions
//! separately); monitors, streams and features exist (when known), with a "did you mean";
//! conditions are complete and make sense for their statistic (sample-size-aware thresholds
//! for PSI with `>`/`>=` only, corrections for p-values only); `clear_when` compares the same
//! statistic in the opposite direction without overlapping `when`; spans and durations parse;
//! labels are identifiers and do not shadow the built-in ones; templates only use known
//! variables; actions named by rules exist; `group_by` names labels; each action has exactly
//! one kind and its settings are valid, and secrets are never literal.
//!
//! As in `config::validate`, nothing is reported below a node that already has a problem
//! (its value is a placeholder).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::known::Known;
use super::model::*;
use super::schema::{
    self, ActionDoc, CommandDoc, ConditionDoc, EmailDoc, FileDoc, KafkaDoc, LogDoc, RuleDoc, ThresholdDoc, WebhookDoc,
};
use super::template::{Template, ALERT_VARIABLES, BUILTIN_LABELS, NOTIFICATION_VARIABLES};
use crate::config::{parse_duration, suggest, KeyPath, Node, Problem};
use crate::monitor::Stat;
use crate::record::Stream;

/// One parsed rule file.
pub(super) struct FileInput {
    pub path: PathBuf,
    pub root: Node,
    pub doc: Option<schema::RulesFile>,
    pub problems: Vec<Problem>,
}

/// Problems of one file, with the paths holding placeholders.
struct Checker<'a> {
    root: &'a Node,
    reported: Vec<KeyPath>,
    problems: &'a mut Vec<Problem>,
}

impl Checker<'_> {
    fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        if self.reported.iter().any(|r| path.starts_with(r)) || self.problems.iter().any(|p| &p.path == path) {
            return;
        }
        self.problems.push(Problem::new(self.root.locate(path), path.clone(), message));
    }

    /// Whether a structural problem was reported at, above or below `path`: its value may be
    /// a placeholder, so checks of it must not run.
    fn has_problem(&self, path: &KeyPath) -> bool {
        self.reported.iter().any(|r| r.starts_with(path) || path.starts_with(r))
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    match suggest(name, candidates) {
        Some(near) => format!("; did you mean `{near}`?"),
        None if candidates.is_empty() => String::new(),
        None if candidates.len() <= 12 => format!(" (known: {})", candidates.join(", ")),
        None => String::new(),
    }
}

/// `N windows` (N ≥ 0) or a duration.
pub fn parse_span(text: &str) -> Result<Span, String> {
    let t = text.trim();
    if let Some(count) = t.strip_suffix("windows").or_else(|| t.strip_suffix("window")) {
        let count = count.trim();
        return match count.parse::<u32>() {
            Ok(n) if count.bytes().all(|b| b.is_ascii_digit()) => Ok(Span::Windows(n)),
            _ => Err(format!("invalid span {text:?}: expected `N windows` or a duration such as 2h")),
        };
    }
    parse_duration(t).map(Span::Duration).map_err(|_| {
        format!("invalid span {text:?}: expected `N windows` (such as `3 windows`) or a duration (such as 2h)")
    })
}

fn is_upward(op: Op) -> bool {
    matches!(op, Op::Gt | Op::Ge)
}

/// Resolve every file into one rule set; problems are appended to each file's list.
pub(super) fn resolve(files: &mut [FileInput], known: &Known) -> RuleSet {
    // Actions first: rules in any file may name actions of any file.
    let mut action_names: Vec<String> = Vec::new();
    for file in files.iter() {
        if let Some(actions) = file.doc.as_ref().and_then(|d| d.actions.as_ref()) {
            action_names.extend(actions.iter().map(|a| a.name.clone()));
        }
    }
    let mut set = RuleSet::default();
    let mut rule_seen: HashMap<String, (PathBuf, u32)> = HashMap::new();
    let mut action_seen: HashMap<String, (PathBuf, u32)> = HashMap::new();
    for file in files.iter_mut() {
        let Some(doc) = file.doc.take() else { continue };
        let reported = file.problems.iter().filter(|p| p.placeholder).map(|p| p.path.clone()).collect();
        let mut checker = Checker { root: &file.root, reported, problems: &mut file.problems };
        let base = file.path.parent().unwrap_or(Path::new("")).to_path_buf();
        for (i, action) in doc.actions.unwrap_or_default().into_iter().enumerate() {
            let path = KeyPath::root().key("actions").index(i);
            let name_path = path.key("name");
            unique(&mut checker, &mut action_seen, &action.name, &name_path, &file.path, "action");
            if let Some(action) = resolve_action(&mut checker, action, &path, &base) {
                set.actions.entry(action.name.clone()).or_insert(action);
            }
        }
        let actions: Vec<&str> = action_names.iter().map(String::as_str).collect();
        for (i, rule) in doc.rules.unwrap_or_default().into_iter().enumerate() {
            let path = KeyPath::root().key("rules").index(i);
            unique(&mut checker, &mut rule_seen, &rule.name, &path.key("name"), &file.path, "rule");
            if let Some(rule) = resolve_rule(&mut checker, rule, &path, known, &actions, &file.path) {
                set.rules.push(rule);
            }
        }
    }
    set
}

fn unique(
    checker: &mut Checker<'_>,
    seen: &mut HashMap<String, (PathBuf, u32)>,
    name: &str,
    path: &KeyPath,
    file: &Path,
    what: &str,
) {
    if checker.has_problem(path) {
        return;
    }
    if !valid_name(name) {
        checker.error(path, format!("invalid {what} name {name:?}: use 1 to 64 of A-Z a-z 0-9 _ -"));
        return;
    }
    let line = checker.root.locate(path).line;
    match seen.get(name) {
        Some((first_file, first_line)) => {
            let place = if first_file == file {
                format!("line {first_line}")
            } else {
                format!("{}:{first_line}", first_file.display())
            };
            checker.error(path, format!("duplicate {what} name {name:?} (first defined at {place})"));
        }
        None => {
            seen.insert(name.to_string(), (file.to_path_buf(), line));
        }
    }
}

fn resolve_rule(
    checker: &mut Checker<'_>,
    doc: RuleDoc,
    path: &KeyPath,
    known: &Known,
    actions: &[&str],
    file: &Path,
) -> Option<Rule> {
    let before = checker.problems.len();

    // Monitor and streams.
    let monitor_path = path.key("monitor");
    let known_monitor = match known.monitors() {
        Some(monitors) if !checker.has_problem(&monitor_path) => match monitors.get(&doc.monitor) {
            Some(streams) => Some(streams),
            None => {
                let names: Vec<&str> = monitors.keys().map(String::as_str).collect();
                checker.error(
                    &monitor_path,
                    format!("unknown monitor {:?}{}", doc.monitor, did_you_mean(&doc.monitor, &names)),
                );
                None
            }
        },
        _ => None,
    };
    let mut streams = match doc.stream.unwrap_or(schema::StreamDoc::Both) {
        schema::StreamDoc::Inputs => vec![Stream::Inputs],
        schema::StreamDoc::Predictions => vec![Stream::Predictions],
        schema::StreamDoc::Both => vec![Stream::Inputs, Stream::Predictions],
    };
    if let Some(known_streams) = known_monitor {
        if doc.stream.is_some_and(|s| s != schema::StreamDoc::Both) {
            if let Some(missing) = streams.iter().find(|s| !known_streams.contains_key(*s)) {
                checker.error(&path.key("stream"), format!("monitor {:?} has no {missing} stream", doc.monitor));
            }
        } else {
            // `both` means the streams the monitor has.
            streams.retain(|s| known_streams.contains_key(s));
        }
    }

    // Features.
    let features_given = doc.features.is_some();
    let features = match doc.features.clone() {
        None => FeatureSelector::all(),
        Some(schema::FeaturesDoc::One(p)) => FeatureSelector { include: vec![p], exclude: Vec::new() },
        Some(schema::FeaturesDoc::List(v)) => FeatureSelector { include: v, exclude: Vec::new() },
        Some(schema::FeaturesDoc::Select(s)) => FeatureSelector {
            include: s.include.map(schema::PatternsDoc::into_vec).unwrap_or_else(|| vec!["*".into()]),
            exclude: s.exclude.map(schema::PatternsDoc::into_vec).unwrap_or_default(),
        },
    };
    if let Some(known_streams) = known_monitor {
        // Only when every selected stream lists its features (`features: "*"` in driftd.yaml
        // is known only once data arrives).
        let lists: Option<Vec<&Vec<String>>> =
            streams.iter().map(|s| known_streams.get(s).and_then(|f| f.as_ref())).collect();
        if let Some(lists) = lists {
            let all: BTreeSet<&str> = lists.iter().flat_map(|l| l.iter().map(String::as_str)).collect();
            let all: Vec<&str> = all.into_iter().collect();
            check_patterns(checker, &features, path, &all);
        }
    }

    // Condition.
    // No early return: the checks below still run (every problem at once).
    let trigger = resolve_trigger(checker, &doc, path);
    let stat = trigger.as_ref().map(|(_, s)| *s);
    let for_ = span(checker, doc.for_.as_deref(), &path.key("for"));
    let keep_firing_for = span(checker, doc.keep_firing_for.as_deref(), &path.key("keep_firing_for"));
    let repeat_every = doc.repeat_every.as_deref().and_then(|text| {
        let p = path.key("repeat_every");
        match parse_duration(text) {
            Ok(d) if d.is_zero() => {
                checker.error(&p, "repeat_every must be longer than 0 (omit it to never repeat)");
                None
            }
            Ok(d) => Some(d),
            Err(message) => {
                checker.error(&p, message);
                None
            }
        }
    });
    let severity = match doc.severity.unwrap_or(schema::SeverityDoc::Warning) {
        schema::SeverityDoc::Info => Severity::Info,
        schema::SeverityDoc::Warning => Severity::Warning,
        schema::SeverityDoc::Critical => Severity::Critical,
    };

    // Labels, annotations, grouping.
    let labels = doc.labels.unwrap_or_default();
    for key in labels.keys() {
        let p = path.key("labels").key(key);
        if !valid_identifier(key) {
            checker.error(&p, format!("invalid label name {key:?}: use [A-Za-z_][A-Za-z0-9_]*"));
        } else if BUILTIN_LABELS.contains(&key.as_str()) {
            checker
                .error(&p, format!("label `{key}` is set by driftd (built-in labels: {})", BUILTIN_LABELS.join(", ")));
        }
    }
    let label_names: Vec<&str> = BUILTIN_LABELS.iter().copied().chain(labels.keys().map(String::as_str)).collect();
    let mut annotations = BTreeMap::new();
    for (key, text) in doc.annotations.unwrap_or_default() {
        match Template::parse(&text, ALERT_VARIABLES, &label_names) {
            Ok(t) => {
                annotations.insert(key, t);
            }
            Err(message) => checker.error(&path.key("annotations").key(&key), message),
        }
    }
    let group_by = doc.group_by.unwrap_or_else(|| vec!["monitor".into(), "rule".into()]);
    for (i, label) in group_by.iter().enumerate() {
        if !label_names.contains(&label.as_str()) {
            checker.error(
                &path.key("group_by").index(i),
                format!("unknown label `{label}`{}", did_you_mean(label, &label_names)),
            );
        }
    }
    let rule_actions = doc.actions.unwrap_or_default();
    for (i, name) in rule_actions.iter().enumerate() {
        let p = path.key("actions").index(i);
        if !actions.contains(&name.as_str()) {
            checker.error(&p, format!("unknown action {name:?}{}", did_you_mean(name, actions)));
        } else if rule_actions[..i].contains(name) {
            checker.error(&p, format!("action {name:?} is listed twice"));
        }
    }
    if features_given && stat == Some(RuleStat::WindowEvents) {
        checker.error(&path.key("features"), "`window_events` is a statistic of the whole window: remove `features`");
    }

    let (trigger, _) = trigger?;
    (checker.problems.len() == before).then(|| Rule {
        name: doc.name,
        monitor: doc.monitor,
        streams,
        features,
        trigger,
        min_samples: doc.min_samples.unwrap_or(0),
        for_,
        keep_firing_for,
        repeat_every,
        severity,
        labels,
        annotations,
        actions: rule_actions,
        group_by,
        file: file.to_path_buf(),
    })
}

fn check_patterns(checker: &mut Checker<'_>, features: &FeatureSelector, path: &KeyPath, known: &[&str]) {
    let features_path = path.key("features");
    let lists = [(&features.include, "include"), (&features.exclude, "exclude")];
    for (patterns, key) in lists {
        for (i, pattern) in patterns.iter().enumerate() {
            // The path of a pattern depends on how it was written; locate the closest node.
            let p = pattern_path(checker.root, &features_path, key, i);
            let is_glob = pattern.contains(['*', '?']);
            if known.iter().any(|f| glob_match(pattern, f)) {
                continue;
            }
            if is_glob {
                checker.error(
                    &p,
                    format!("{pattern:?} matches no feature of the monitor (features: {})", known.join(", ")),
                );
            } else {
                checker.error(&p, format!("unknown feature {pattern:?}{}", did_you_mean(pattern, known)));
            }
        }
    }
}

fn pattern_path(root: &Node, features: &KeyPath, key: &str, i: usize) -> KeyPath {
    for candidate in [features.key(key).index(i), features.key(key), features.index(i), features.clone()] {
        if root.get(&candidate).is_some() {
            return candidate;
        }
    }
    features.clone()
}

fn span(checker: &mut Checker<'_>, text: Option<&str>, path: &KeyPath) -> Option<Span> {
    let text = text?;
    match parse_span(text) {
        Ok(s) if s.is_zero() => None,
        Ok(s) => Some(s),
        Err(message) => {
            checker.error(path, message);
            None
        }
    }
}

fn alpha(checker: &mut Checker<'_>, value: Option<f64>, path: &KeyPath) -> f64 {
    let alpha = value.unwrap_or(DEFAULT_ALPHA);
    if !(alpha > 0.0 && alpha < 1.0) {
        checker.error(path, format!("alpha must be between 0 and 1 (exclusive), not {alpha}"));
    }
    alpha
}

/// A condition with `stat` given by `default_stat` when absent (`clear_when`).
fn condition(
    checker: &mut Checker<'_>,
    doc: &ConditionDoc,
    path: &KeyPath,
    default_stat: Option<RuleStat>,
) -> Option<Condition> {
    let stat = match (doc.stat.map(|doc| doc.0), default_stat) {
        (Some(s), Some(d)) if s != d => {
            checker.error(
                &path.key("stat"),
                format!("clear_when must compare the statistic of `when` ({}), not {}", d.name(), s.name()),
            );
            return None;
        }
        (Some(s), _) | (None, Some(s)) => s,
        (None, None) => {
            checker.error(&path.key("stat"), "missing required key `stat`");
            return None;
        }
    };
    let op = match doc.op {
        Some(op) => op,
        None => {
            checker.error(&path.key("op"), "missing required key `op`");
            return None;
        }
    };
    let value_path = path.key("value");
    let threshold = match &doc.value {
        None => {
            checker.error(&value_path, "missing required key `value`");
            return None;
        }
        Some(ThresholdDoc::Fixed(v)) if !v.is_finite() => {
            checker.error(&value_path, "the value must be a finite number");
            return None;
        }
        Some(ThresholdDoc::Fixed(v)) => Threshold::Fixed(*v),
        Some(ThresholdDoc::SampleSizeAware(s)) => {
            if stat != RuleStat::Feature(Stat::Psi) {
                checker.error(&value_path, format!("`sample_size_aware` is a threshold for psi, not {}", stat.name()));
                return None;
            }
            // A lower bound on PSI is not meaningful: PSI is significant when *above* it.
            if default_stat.is_none() && !is_upward(op) {
                checker.error(&path.key("op"), "a `sample_size_aware` threshold needs `>` or `>=`");
                return None;
            }
            let a = alpha(checker, s.alpha, &value_path.key("sample_size_aware").key("alpha"));
            Threshold::SampleSizeAware { alpha: a }
        }
    };
    Some(Condition { stat, op, threshold })
}

fn resolve_trigger(checker: &mut Checker<'_>, doc: &RuleDoc, path: &KeyPath) -> Option<(Trigger, RuleStat)> {
    let when_path = path.key("when");
    if checker.has_problem(&when_path) {
        return None;
    }
    let clear_path = path.key("clear_when");
    if let Some(correction) = &doc.correction {
        let c_path = path.key("correction");
        let Some(stat) = doc.when.stat.map(|doc| doc.0) else {
            checker.error(&when_path.key("stat"), "missing required key `stat`");
            return None;
        };
        if !stat.is_p_value() {
            checker.error(
                &when_path.key("stat"),
                format!("`correction` applies to p-values (ks_p_value, chisquare_p_value), not {}", stat.name()),
            );
            return None;
        }
        if doc.when.op.is_some() || doc.when.value.is_some() {
            let key = if doc.when.op.is_some() { "op" } else { "value" };
            checker.error(
                &when_path.key(key),
                "with `correction`, `when` names only the statistic: the condition is \"rejected after correction at correction.alpha\"",
            );
            return None;
        }
        let method = match correction.method {
            schema::CorrectionMethodDoc::Bonferroni => CorrectionMethod::Bonferroni,
            schema::CorrectionMethodDoc::BenjaminiHochberg => CorrectionMethod::BenjaminiHochberg,
        };
        let a = alpha(checker, correction.alpha, &c_path.key("alpha"));
        let clear_when = match &doc.clear_when {
            Some(c) => Some(condition(checker, c, &clear_path, Some(stat))?),
            None => None,
        };
        // A corrected rule fires on small p-values, so it can only clear on large ones.
        if let Some(clear) = clear_when {
            if !is_upward(clear.op) {
                checker.error(
                    &clear_path.key("op"),
                    "clear_when of a p-value rule must clear on large p-values: use `>` or `>=`",
                );
                return None;
            }
        }
        return Some((Trigger::Corrected { stat, correction: Correction { method, alpha: a }, clear_when }, stat));
    }
    let when = condition(checker, &doc.when, &when_path, None)?;
    let clear_when = match &doc.clear_when {
        Some(c) => Some(condition(checker, c, &clear_path, Some(when.stat))?),
        None => None,
    };
    if let Some(clear) = clear_when {
        if is_upward(clear.op) == is_upward(when.op) {
            checker.error(
                &clear_path.key("op"),
                format!(
                    "clear_when must compare in the opposite direction of `when` ({}): use {}",
                    when.op.symbol(),
                    if is_upward(when.op) { "`<` or `<=`" } else { "`>` or `>=`" }
                ),
            );
            return None;
        }
        if let (Threshold::Fixed(t1), Threshold::Fixed(t2)) = (when.threshold, clear.threshold) {
            // Some value satisfies both conditions when the intervals overlap.
            let overlap = if is_upward(when.op) {
                t2 > t1 || (t2 == t1 && when.op == Op::Ge && clear.op == Op::Le)
            } else {
                t2 < t1 || (t2 == t1 && when.op == Op::Le && clear.op == Op::Ge)
            };
            if overlap {
                checker.error(
                    &clear_path.key("value"),
                    format!(
                        "clear_when ({} {t2}) overlaps when ({} {t1}): a value could both fire and clear the alert",
                        clear.op.symbol(),
                        when.op.symbol()
                    ),
                );
                return None;
            }
        }
    }
    Some((Trigger::Threshold { when, clear_when }, when.stat))
}

fn resolve_action(checker: &mut Checker<'_>, doc: ActionDoc, path: &KeyPath, base: &Path) -> Option<Action> {
    let before = checker.problems.len();
    let kind = match doc.kind {
        Some(schema::ActionKindDoc::Retrain) => ActionKind::Retrain,
        _ => ActionKind::Alert,
    };
    let cooldown = doc.cooldown.as_deref().and_then(|text| match parse_duration(text) {
        Ok(d) => (!d.is_zero()).then_some(d),
        Err(message) => {
            checker.error(&path.key("cooldown"), message);
            None
        }
    });
    // Every target key of the document, as one enum: the match below must handle each kind
    // (a kind added here and not there does not compile; nothing falls through to another).
    let mut targets: Vec<TargetDoc> = [
        doc.email.map(TargetDoc::Email),
        doc.webhook.map(TargetDoc::Webhook),
        doc.kafka.map(TargetDoc::Kafka),
        doc.command.map(TargetDoc::Command),
        doc.log.map(TargetDoc::Log),
        doc.file.map(TargetDoc::File),
    ]
    .into_iter()
    .flatten()
    .collect();
    let given: Vec<&str> = targets.iter().map(TargetDoc::key).collect();
    let (Some(target_doc), 1) = (targets.pop(), given.len()) else {
        let found = if given.is_empty() { "none".to_string() } else { given.join(", ") };
        checker.error(
            path,
            format!("an action needs exactly one of email, webhook, kafka, command, log, file; found {found}"),
        );
        return None;
    };
    let duration = |checker: &mut Checker<'_>, text: Option<&str>, key: &str, default: Duration| -> Duration {
        let p = path.key(given[0]).key(key);
        match text.map(parse_duration) {
            None => default,
            Some(Ok(d)) if d.is_zero() => {
                checker.error(&p, format!("{key} must be longer than 0"));
                default
            }
            Some(Ok(d)) => d,
            Some(Err(message)) => {
                checker.error(&p, message);
                default
            }
        }
    };
    let target = match target_doc {
        TargetDoc::Email(email) => {
            let p = path.key("email");
            if email.to.is_empty() {
                checker.error(&p.key("to"), "at least one recipient");
            }
            for (i, to) in email.to.iter().enumerate() {
                if !to.contains('@') || to.trim() != to {
                    checker.error(&p.key("to").index(i), format!("{to:?} is not an email address"));
                }
            }
            let subject = template(checker, email.subject.as_deref().unwrap_or(DEFAULT_SUBJECT), &p.key("subject"));
            Target::Email { to: email.to, subject }
        }
        TargetDoc::Webhook(webhook) => {
            let p = path.key("webhook");
            if !(webhook.url.starts_with("http://") || webhook.url.starts_with("https://"))
                || webhook.url.split("://").nth(1).is_none_or(|rest| rest.is_empty())
            {
                checker.error(&p.key("url"), format!("{:?} is not an http:// or https:// URL", webhook.url));
            }
            let method = webhook.method.as_deref().unwrap_or("POST").to_ascii_uppercase();
            if !["POST", "PUT", "PATCH"].contains(&method.as_str()) {
                checker.error(&p.key("method"), format!("method {method:?}: expected POST, PUT or PATCH"));
            }
            let headers = webhook.headers.unwrap_or_default();
            for name in headers.keys() {
                let lower = name.to_ascii_lowercase();
                if lower == "authorization"
                    || ["token", "secret", "key", "password", "cookie"].iter().any(|s| lower.contains(s))
                {
                    checker.error(
                    &p.key("headers").key(name),
                    format!(
                        "header {name:?} looks secret: secrets never go in rule files; name an environment variable with `headers_env: {{{name}: VAR}}` or `bearer_token_env: VAR`"
                    ),
                );
                }
            }
            let headers_env = webhook.headers_env.unwrap_or_default();
            for (name, var) in &headers_env {
                env_name(checker, var, &p.key("headers_env").key(name));
            }
            for (key, var) in [("bearer_token_env", &webhook.bearer_token_env), ("secret_env", &webhook.secret_env)] {
                if let Some(var) = var {
                    env_name(checker, var, &p.key(key));
                }
            }
            let body = webhook.body.as_deref().map(|b| template(checker, b, &p.key("body")));
            let max_attempts = webhook.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
            if max_attempts == 0 {
                checker.error(&p.key("max_attempts"), "at least 1 attempt");
            }
            let timeout = duration(checker, webhook.timeout.as_deref(), "timeout", DEFAULT_WEBHOOK_TIMEOUT);
            Target::Webhook(Webhook {
                url: webhook.url,
                method,
                headers,
                headers_env,
                bearer_token_env: webhook.bearer_token_env,
                secret_env: webhook.secret_env,
                body,
                timeout,
                max_attempts,
            })
        }
        TargetDoc::Kafka(kafka) => {
            let p = path.key("kafka");
            if kafka.topic.trim().is_empty() {
                checker.error(&p.key("topic"), "the topic is empty");
            }
            if let Some(brokers) = &kafka.brokers {
                if brokers.split(',').any(|b| {
                    b.trim().rsplit_once(':').is_none_or(|(h, port)| h.is_empty() || port.parse::<u16>().is_err())
                }) {
                    checker.error(&p.key("brokers"), format!("{brokers:?}: expected host:port[,host:port…]"));
                }
            }
            Target::Kafka { topic: kafka.topic, brokers: kafka.brokers }
        }
        TargetDoc::Command(command) => {
            if command.argv.first().is_none_or(|program| program.trim().is_empty()) {
                checker.error(&path.key("command").key("argv"), "argv needs at least the program");
            }
            let timeout = duration(checker, command.timeout.as_deref(), "timeout", DEFAULT_COMMAND_TIMEOUT);
            let env = command.env.unwrap_or_default();
            for (i, var) in env.iter().enumerate() {
                env_name(checker, var, &path.key("command").key("env").index(i));
            }
            Target::Command { argv: command.argv, timeout, env }
        }
        TargetDoc::File(file) => {
            if file.path.trim().is_empty() {
                checker.error(&path.key("file").key("path"), "the path is empty");
            }
            let given = Path::new(&file.path);
            Target::File { path: if given.is_absolute() { given.to_path_buf() } else { base.join(given) } }
        }
        TargetDoc::Log(_) => Target::Log,
    };
    (checker.problems.len() == before).then_some(Action { name: doc.name, kind, cooldown, target })
}

/// The one target an action document names.
enum TargetDoc {
    Email(EmailDoc),
    Webhook(WebhookDoc),
    Kafka(KafkaDoc),
    Command(CommandDoc),
    Log(LogDoc),
    File(FileDoc),
}

impl TargetDoc {
    /// The document's key for this kind.
    fn key(&self) -> &'static str {
        match self {
            TargetDoc::Email(_) => "email",
            TargetDoc::Webhook(_) => "webhook",
            TargetDoc::Kafka(_) => "kafka",
            TargetDoc::Command(_) => "command",
            TargetDoc::Log(_) => "log",
            TargetDoc::File(_) => "file",
        }
    }
}

fn env_name(checker: &mut Checker<'_>, var: &str, path: &KeyPath) {
    if !valid_identifier(var) {
        checker.error(path, format!("{var:?} is not an environment variable name (the value is read from the environment at delivery; write the variable's name)"));
    }
}

fn template(checker: &mut Checker<'_>, text: &str, path: &KeyPath) -> Template {
    match Template::parse(text, NOTIFICATION_VARIABLES, BUILTIN_LABELS) {
        Ok(t) => t,
        Err(message) => {
            checker.error(path, message);
            Template { source: text.to_string(), pieces: Vec::new() }
        }
    }
}
