//! `driftd test-rules FILE`: unit tests of rule files, as `promtool test rules`.
//!
//! Input: a test file ([`TestFile`]: rule files and, per test, a series of windows with
//! statistics per feature and the alerts and notifications expected after given windows).
//! Output: a [`TestReport`] with, per failing expectation, the expected and actual lists as a
//! diff. A malformed test or rule file is [`ConfigErrors`] (`file:line:column: …`), loaded with
//! the configuration machinery. Each test starts from an empty engine state. The test file
//! format, annotated: docs/rules.md, "Testing rules".

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Engine, EngineState, Evaluation, FeatureStats, Known, RuleSet, WindowEvaluation};
use crate::config::{parse_duration, ConfigErrors, KeyPath, Problem};
use crate::monitor::Stat;
use crate::record::Stream;

/// A rule test file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Rule files or directories, relative to the test file.
    pub rule_files: Vec<String>,
    pub tests: Vec<TestCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// Default monitor of the windows.
    pub monitor: Option<String>,
    /// Default stream of the windows (`inputs` or `predictions`; default `inputs`).
    pub stream: Option<Stream>,
    /// RFC 3339 start of the first window. Default `1970-01-01T00:00:00Z`.
    pub start: Option<String>,
    /// Length of each window (a duration). Default `1h`.
    pub interval: Option<String>,
    pub windows: Vec<TestWindow>,
    pub expect: Vec<Expectation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestWindow {
    pub monitor: Option<String>,
    pub stream: Option<Stream>,
    /// RFC 3339 end of this window (of its first repetition); the windows after it follow on.
    /// Default: the previous window's end plus the interval.
    pub end: Option<String>,
    /// Events in the window. Default: the largest `n` of its features.
    pub events: Option<u64>,
    /// Repeat this window so many times (default 1).
    pub times: Option<u32>,
    /// Feature name → its statistics.
    pub features: Option<BTreeMap<String, TestFeature>>,
}

/// One feature's statistics in a test window (absent statistics are absent: no verdict).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFeature {
    pub n: u64,
    pub n_ref: Option<u64>,
    pub n_bins: Option<usize>,
    pub drifted: Option<bool>,
    pub psi: Option<f64>,
    pub ks_statistic: Option<f64>,
    pub ks_p_value: Option<f64>,
    pub chisquare_statistic: Option<f64>,
    pub chisquare_p_value: Option<f64>,
    pub jensen_shannon: Option<f64>,
    pub wasserstein: Option<f64>,
    pub wasserstein_normalized: Option<f64>,
    pub hellinger: Option<f64>,
    pub kullback_leibler: Option<f64>,
    pub missing_share: Option<f64>,
    pub type_mismatch_share: Option<f64>,
    pub out_of_range_share: Option<f64>,
    pub unseen_category_share: Option<f64>,
    // Performance metrics (rules on `stream: labels`).
    pub accuracy: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    pub f1_macro: Option<f64>,
    pub roc_auc: Option<f64>,
    pub log_loss: Option<f64>,
    pub brier: Option<f64>,
    pub ece: Option<f64>,
    pub mae: Option<f64>,
    pub rmse: Option<f64>,
    pub mape: Option<f64>,
    pub r2: Option<f64>,
    pub labelled_share: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// 1-based number of the window after which to check.
    pub after: u32,
    /// Every alert that is not inactive, exactly (omit to not check).
    pub alerts: Option<Vec<ExpectedAlert>>,
    /// The notifications of that window's evaluation, exactly (omit to not check).
    pub notifications: Option<Vec<ExpectedNotification>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAlert {
    pub rule: String,
    /// Default: the window's stream.
    pub stream: Option<Stream>,
    /// Default `"*"` (dataset-level rules).
    pub feature: Option<String>,
    /// `pending`, `firing` or `resolved`.
    pub state: ExpectedState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedState {
    Pending,
    Firing,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedStatus {
    Firing,
    Resolved,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedNotification {
    pub action: String,
    pub rule: String,
    pub status: ExpectedStatus,
    /// Features of the alerts it carries.
    pub features: Vec<String>,
}

/// The outcome of one expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub after: u32,
    pub what: &'static str,
    pub expected: Vec<String>,
    pub got: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub name: String,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    pub file: PathBuf,
    pub cases: Vec<CaseResult>,
}

impl TestReport {
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.failures.is_empty())
    }

    /// One line per test (`ok` / `FAIL`), and for each failure the expected list against the
    /// actual one: `-` expected but missing, `+` present but not expected, ` ` both.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for case in &self.cases {
            if case.failures.is_empty() {
                let _ = writeln!(out, "ok    {}", case.name);
                continue;
            }
            let _ = writeln!(out, "FAIL  {}", case.name);
            for failure in &case.failures {
                let _ = writeln!(out, "  {} after window {} (- expected, + got):", failure.what, failure.after);
                for line in diff(&failure.expected, &failure.got) {
                    let _ = writeln!(out, "    {line}");
                }
            }
        }
        let failed = self.cases.iter().filter(|c| !c.failures.is_empty()).count();
        let _ = writeln!(out, "{}: {} passed, {failed} failed", self.file.display(), self.cases.len() - failed);
        out
    }
}

fn diff(expected: &[String], got: &[String]) -> Vec<String> {
    let mut all: Vec<&String> = expected.iter().chain(got).collect();
    all.sort();
    all.dedup();
    if all.is_empty() {
        return vec!["  (none)".to_string()];
    }
    all.into_iter()
        .map(|line| match (expected.contains(line), got.contains(line)) {
            (true, true) => format!("  {line}"),
            (true, false) => format!("- {line}"),
            _ => format!("+ {line}"),
        })
        .collect()
}

/// Run a test file, taking `${VAR}` from the process environment.
pub fn run_file(path: &Path) -> Result<TestReport, ConfigErrors> {
    run_file_with_env(path, &|name| std::env::var_os(name))
}

pub fn run_file_with_env(path: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Result<TestReport, ConfigErrors> {
    let text = crate::config::read_text(path)?;
    let file = path.display().to_string();
    let (doc, root, mut problems) =
        crate::config::parse_typed::<TestFile>(&text, env).map_err(|p| crate::config::finish(&file, vec![p]))?;
    let reported: Vec<KeyPath> = problems.iter().filter(|p| p.placeholder).map(|p| p.path.clone()).collect();
    let mut error = |key: KeyPath, message: String| {
        if !reported.iter().any(|r| key.starts_with(r)) {
            problems.push(Problem::new(root.locate(&key), key, message));
        }
    };
    let Some(doc) = doc else {
        return Err(crate::config::finish(&file, problems));
    };
    // Parse the times and check the window numbers before running anything.
    let mut plans = Vec::new();
    for (i, case) in doc.tests.iter().enumerate() {
        let at = KeyPath::root().key("tests").index(i);
        let start = match case.start.as_deref().map(crate::source::time::parse_rfc3339) {
            None => 0,
            Some(Ok(ms)) => ms,
            Some(Err(message)) => {
                error(at.key("start"), format!("invalid time: {message}"));
                0
            }
        };
        let interval = match case.interval.as_deref().map(parse_duration) {
            None => 3_600_000,
            Some(Ok(d)) if !d.is_zero() => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Some(Ok(_)) => {
                error(at.key("interval"), "the interval must be longer than 0".into());
                1
            }
            Some(Err(message)) => {
                error(at.key("interval"), message);
                1
            }
        };
        let count: u64 = case.windows.iter().map(|w| u64::from(w.times.unwrap_or(1))).sum();
        let mut ends = Vec::new();
        for (j, w) in case.windows.iter().enumerate() {
            if w.monitor.is_none() && case.monitor.is_none() {
                error(at.key("windows").index(j), "no monitor: set `monitor` on the test or the window".into());
            }
            ends.push(match w.end.as_deref().map(crate::source::time::parse_rfc3339) {
                None => None,
                Some(Ok(ms)) => Some(ms),
                Some(Err(message)) => {
                    error(at.key("windows").index(j).key("end"), format!("invalid time: {message}"));
                    None
                }
            });
        }
        for (j, e) in case.expect.iter().enumerate() {
            if e.after == 0 || u64::from(e.after) > count {
                error(
                    at.key("expect").index(j).key("after"),
                    format!(
                        "window {} does not exist: the test has {count} window{} (numbered from 1)",
                        e.after,
                        if count == 1 { "" } else { "s" }
                    ),
                );
            }
        }
        plans.push(Plan { start, interval, ends });
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let rule_paths: Vec<PathBuf> = doc.rule_files.iter().map(|f| base.join(f)).collect();
    if doc.rule_files.is_empty() {
        error(KeyPath::root().key("rule_files"), "name at least one rule file".into());
    }
    if !problems.is_empty() {
        return Err(crate::config::finish(&file, problems));
    }
    let rules = super::load_with_env(&rule_paths, &Known::unchecked(), env)?;
    let cases = doc.tests.iter().zip(plans).map(|(case, plan)| run_case(&rules, case, &plan)).collect();
    Ok(TestReport { file: path.to_path_buf(), cases })
}

/// The parsed times of a test.
struct Plan {
    start: i64,
    interval: i64,
    /// Per entry of `windows:`, its `end` if given.
    ends: Vec<Option<i64>>,
}

fn run_case(rules: &RuleSet, case: &TestCase, plan: &Plan) -> CaseResult {
    let mut engine = Engine::new(rules.clone(), EngineState::default());
    let mut failures = Vec::new();
    let mut number = 0u32;
    let mut next_start = plan.start;
    for (window, end) in case.windows.iter().zip(&plan.ends) {
        for repetition in 0..window.times.unwrap_or(1) {
            let window_start = match end {
                Some(end) if repetition == 0 => end.saturating_sub(plan.interval),
                _ => next_start,
            };
            let window_end = window_start.saturating_add(plan.interval);
            next_start = window_end;
            number += 1;
            let stream = window.stream.or(case.stream).unwrap_or(Stream::Inputs);
            let features: Vec<FeatureStats> = window
                .features
                .iter()
                .flatten()
                .map(|(name, f)| FeatureStats {
                    name: name.clone(),
                    n: f.n,
                    n_ref: f.n_ref,
                    n_bins: f.n_bins,
                    values: stat_values(f),
                    drifted: f.drifted.unwrap_or(false),
                })
                .collect();
            let evaluation = WindowEvaluation {
                monitor: window.monitor.clone().or_else(|| case.monitor.clone()).unwrap_or_default(),
                stream,
                window_start_ms: window_start,
                window_end_ms: window_end,
                window_events: window.events.unwrap_or_else(|| features.iter().map(|f| f.n).max().unwrap_or(0)),
                features,
            };
            let result = engine.evaluate(&evaluation);
            for expect in case.expect.iter().filter(|e| e.after == number) {
                check(&engine, &result, expect, stream, &mut failures);
            }
        }
    }
    CaseResult { name: case.name.clone(), failures }
}

fn stat_values(f: &TestFeature) -> BTreeMap<Stat, f64> {
    Stat::every()
        .filter_map(|stat| {
            // Exhaustive: a statistic added to the registry does not compile until test files
            // can give it (a field of `TestFeature` of the same name).
            let value = match stat {
                Stat::Psi => f.psi,
                Stat::KsStatistic => f.ks_statistic,
                Stat::KsPValue => f.ks_p_value,
                Stat::ChisquareStatistic => f.chisquare_statistic,
                Stat::ChisquarePValue => f.chisquare_p_value,
                Stat::JensenShannon => f.jensen_shannon,
                Stat::Wasserstein => f.wasserstein,
                Stat::WassersteinNormalized => f.wasserstein_normalized,
                Stat::Hellinger => f.hellinger,
                Stat::KullbackLeibler => f.kullback_leibler,
                Stat::MissingShare => f.missing_share,
                Stat::TypeMismatchShare => f.type_mismatch_share,
                Stat::OutOfRangeShare => f.out_of_range_share,
                Stat::UnseenCategoryShare => f.unseen_category_share,
                Stat::Accuracy => f.accuracy,
                Stat::Precision => f.precision,
                Stat::Recall => f.recall,
                Stat::F1 => f.f1,
                Stat::F1Macro => f.f1_macro,
                Stat::RocAuc => f.roc_auc,
                Stat::LogLoss => f.log_loss,
                Stat::Brier => f.brier,
                Stat::Ece => f.ece,
                Stat::Mae => f.mae,
                Stat::Rmse => f.rmse,
                Stat::Mape => f.mape,
                Stat::R2 => f.r2,
                Stat::LabelledShare => f.labelled_share,
            };
            value.map(|v| (stat, v))
        })
        .collect()
}

fn check(engine: &Engine, result: &Evaluation, expect: &Expectation, stream: Stream, failures: &mut Vec<Failure>) {
    if let Some(alerts) = &expect.alerts {
        let mut expected: Vec<String> = alerts
            .iter()
            .map(|a| {
                let state = match a.state {
                    ExpectedState::Pending => "pending",
                    ExpectedState::Firing => "firing",
                    ExpectedState::Resolved => "resolved",
                };
                alert_line(&a.rule, a.stream.unwrap_or(stream), a.feature.as_deref().unwrap_or("*"), state)
            })
            .collect();
        let mut got: Vec<String> = engine
            .alerts()
            .filter(|(_, s)| s.status != super::AlertStatus::Inactive)
            .map(|(k, s)| alert_line(&k.rule, k.stream, &k.feature, s.status.name()))
            .collect();
        expected.sort();
        got.sort();
        if expected != got {
            failures.push(Failure { after: expect.after, what: "alerts", expected, got });
        }
    }
    if let Some(notifications) = &expect.notifications {
        let mut expected: Vec<String> = notifications
            .iter()
            .map(|n| {
                let mut features = n.features.clone();
                features.sort();
                let status = match n.status {
                    ExpectedStatus::Firing => "firing",
                    ExpectedStatus::Resolved => "resolved",
                };
                notification_line(&n.action, &n.rule, status, &features)
            })
            .collect();
        let mut got: Vec<String> = result
            .notifications
            .iter()
            .map(|n| {
                let mut features: Vec<String> = n.alerts.iter().map(|a| a.key.feature.clone()).collect();
                features.sort();
                notification_line(&n.action, &n.rule, n.status.name(), &features)
            })
            .collect();
        expected.sort();
        got.sort();
        if expected != got {
            failures.push(Failure { after: expect.after, what: "notifications", expected, got });
        }
    }
}

fn alert_line(rule: &str, stream: Stream, feature: &str, state: &str) -> String {
    format!("{{rule: {rule}, stream: {stream}, feature: {feature}, state: {state}}}")
}

fn notification_line(action: &str, rule: &str, status: &str, features: &[String]) -> String {
    format!("{{action: {action}, rule: {rule}, status: {status}, features: [{}]}}", features.join(", "))
}
