//! Rule files as written ([`schema::RulesFile`]) resolved into the typed [`RuleSet`], with
//! every problem at the node it is about: unique names, known monitors, streams, features and
//! labels ("did you mean"), conditions that make sense for their statistic, spans, templates,
//! actions that exist. An action's own settings are checked by its kind (`actions/<kind>.rs`).
//! As in `config::validate`, nothing is reported below a node that already has a problem.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::known::Known;
use super::model::*;
use super::schema::{self, ConditionDoc, RuleDoc, ThresholdDoc};
use crate::config::{parse_duration, suggest, KeyPath, Node, Problem};
use crate::monitor::Stat;
use crate::notification::{valid_identifier, Checker, Severity};
use crate::notification::{Template, ALERT_VARIABLES, BUILTIN_LABELS};
use crate::record::Stream;
use crate::stats::statistic::Statistic;

/// One parsed rule file.
pub(super) struct FileInput {
    pub path: PathBuf,
    pub root: Node,
    pub doc: Option<schema::RulesFile>,
    pub problems: Vec<Problem>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
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
        let base = file.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut checker = Checker { root: &file.root, reported, problems: &mut file.problems, base };
        for (i, action) in doc.actions.unwrap_or_default().into_iter().enumerate() {
            let path = KeyPath::root().key("actions").index(i);
            let name_path = path.key("name");
            unique(&mut checker, &mut action_seen, &action.name, &name_path, &file.path, "action");
            if let Some(action) = action.resolve(&mut checker, &path) {
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
        schema::StreamDoc::Labels => vec![Stream::Labels],
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
    if let (Some(RuleStat::Feature(stat)), Some(computed)) = (stat, known.statistics(&doc.monitor)) {
        // A performance metric (no registry entry) is checked with the streams below.
        if let Some(statistic) = Statistic::of(stat).filter(|s| !computed.contains(*s)) {
            let names: Vec<&str> = computed.iter().map(Statistic::name).collect();
            checker.error(
                &path.key("when").key("stat"),
                format!(
                    "monitor {:?} does not compute {stat}, so this rule could never fire: add `{}` to its \
                     `statistics:` (it computes {})",
                    doc.monitor,
                    statistic.name(),
                    names.join(", ")
                ),
            );
        }
    }
    // Performance metrics are observed on the labels stream, and only there.
    let performance = matches!(stat, Some(RuleStat::Feature(s)) if s.is_performance());
    let stream_path = path.key("stream");
    match doc.stream {
        None if performance => {
            streams = vec![Stream::Labels];
            if known_monitor.is_some_and(|k| !k.contains_key(&Stream::Labels)) {
                checker.error(
                    &path.key("when").key("stat"),
                    format!(
                        "monitor {:?} has no labels stream, so no performance metric: add `streams.labels`",
                        doc.monitor
                    ),
                );
            }
        }
        Some(schema::StreamDoc::Labels) if !performance && stat.is_some() => checker.error(
            &stream_path,
            "the labels stream has performance metrics only (accuracy, roc_auc, …, labelled_share)",
        ),
        Some(s) if performance && s != schema::StreamDoc::Labels => {
            checker.error(&stream_path, "performance metrics are observed on the labels stream: `stream: labels`")
        }
        _ => {}
    }
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
