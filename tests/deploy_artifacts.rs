//! The deployment artifacts (deploy/) against a real daemon: every metric name, label and
//! literal label value that the Grafana dashboard and the Prometheus rules query must exist in
//! the `/metrics` of `driftd run`. The run reads Kafka (a tansu broker, as tests/kafka.rs), so
//! the Kafka-only series (consumer lag, partition watermarks and idleness, per-partition late
//! records) exist too, and evaluates the quick start's rules, so alerts fire and notifications
//! are delivered (the delivery latency histogram then has series). Also: the rules file's
//! structure, the dashboard's JSON, and deploy/healthcheck.sh (the image's HEALTHCHECK) run
//! against the daemon.

mod common;
#[path = "deploy_artifacts/promql.rs"]
mod promql;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Instant;

use common::kafka::{kafka_config, ready, setup, traffic, wait_windows};
use common::{copy_quickstart_rules, get, repo, Daemon, TEST_DEADLINE};
use serde::Deserialize;
use serde_json::Value;

/// Labels Prometheus attaches at scrape time, not in driftd's `/metrics`.
const TARGET_LABELS: &[&str] = &["job", "instance"];
/// Series Prometheus makes itself for every target.
const PROMETHEUS_METRICS: &[&str] = &["up"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// One PromQL expression of an artifact, with the labels its text templates refer to.
struct Use {
    origin: String,
    expr: String,
    /// `{{ $labels.x }}` of annotations, `{{x}}` of legends.
    template_labels: Vec<String>,
    /// `label_values(…, label)`: the label a dashboard variable lists.
    listed_label: Option<String>,
}

/// Names inside `{{ … }}`: `$labels.x` in rules, a bare `x` in legends.
fn template_labels(text: &str) -> Vec<String> {
    text.split("{{")
        .skip(1)
        .filter_map(|part| {
            let inner = part.split("}}").next()?.trim();
            let name = inner.strip_prefix("$labels.").unwrap_or(inner);
            let name = name.split_whitespace().next()?;
            (!name.starts_with('$') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_string())
        })
        .collect()
}

/// A Prometheus duration: `5m`, `1h30m`, `0s`.
fn is_duration(text: &str) -> bool {
    let units = ["ms", "s", "m", "h", "d", "w", "y"];
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let after = &rest[digits..];
        let Some(unit) = units.iter().find(|u| after.starts_with(*u)) else { return false };
        if digits == 0 {
            return false;
        }
        rest = &after[unit.len()..];
    }
    !text.is_empty()
}

fn rule_uses() -> Vec<Use> {
    let path = repo().join("deploy/prometheus/driftd-rules.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let file: RuleFile = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!file.groups.is_empty(), "no rule groups");
    let mut uses = Vec::new();
    let mut names = BTreeSet::new();
    for group in &file.groups {
        assert!(!group.name.is_empty() && !group.rules.is_empty(), "group {:?} is empty", group.name);
        for rule in &group.rules {
            let origin = format!("rules: {}", rule.alert);
            assert!(names.insert(rule.alert.clone()), "{origin}: alert name used twice");
            assert!(rule.alert.starts_with("Driftd"), "{origin}: alert names start with Driftd");
            assert!(is_duration(&rule.for_), "{origin}: for: {:?} is not a duration", rule.for_);
            let severity = rule.labels.get("severity").map(String::as_str);
            assert!(matches!(severity, Some("critical" | "warning" | "info")), "{origin}: severity {severity:?}");
            for key in ["summary", "description"] {
                assert!(rule.annotations.get(key).is_some_and(|a| !a.is_empty()), "{origin}: no {key}");
            }
            let labels = rule.annotations.values().flat_map(|a| template_labels(a)).collect();
            uses.push(Use { origin, expr: rule.expr.clone(), template_labels: labels, listed_label: None });
        }
    }
    uses
}

/// Every panel (rows' nested panels included) of the dashboard.
fn panels(list: &[Value]) -> Vec<&Value> {
    list.iter()
        .flat_map(|p| std::iter::once(p).chain(panels(p["panels"].as_array().map_or(&[][..], Vec::as_slice))))
        .collect()
}

fn dashboard_uses() -> Vec<Use> {
    let path = repo().join("deploy/grafana/driftd.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(dashboard["uid"], "driftd-overview");
    let mut uses = Vec::new();
    let mut ids = BTreeSet::new();
    for panel in panels(dashboard["panels"].as_array().expect("panels")) {
        let title = panel["title"].as_str().expect("a panel title");
        assert!(ids.insert(panel["id"].as_u64().expect("a panel id")), "{title}: panel id used twice");
        assert!(panel["gridPos"]["w"].as_u64().is_some(), "{title}: no gridPos");
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}: not on the datasource variable");
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("{title}: no targets"));
        assert!(!targets.is_empty(), "{title}: no targets");
        for target in targets {
            let expr = target["expr"].as_str().unwrap_or_else(|| panic!("{title}: a target without expr"));
            let legend = target["legendFormat"].as_str().unwrap_or("");
            let origin = format!("dashboard: {title} ({})", target["refId"]);
            uses.push(Use { origin, expr: expr.into(), template_labels: template_labels(legend), listed_label: None });
        }
    }
    let variables = dashboard["templating"]["list"].as_array().expect("template variables");
    let names: Vec<&str> = variables.iter().filter_map(|v| v["name"].as_str()).collect();
    for wanted in ["datasource", "instance", "monitor"] {
        assert!(names.contains(&wanted), "no ${wanted} variable");
    }
    for variable in variables.iter().filter(|v| v["type"] == "query") {
        let query = variable["query"]["query"].as_str().expect("a variable query");
        let inner = query.strip_prefix("label_values(").and_then(|q| q.strip_suffix(')')).expect("label_values(…)");
        let (selector, label) = inner.rsplit_once(',').expect("label_values(selector, label)");
        let origin = format!("dashboard: variable {}", variable["name"]);
        let listed_label = Some(label.trim().to_string());
        uses.push(Use { origin, expr: selector.into(), template_labels: Vec::new(), listed_label });
    }
    uses
}

/// The daemon's series: metric name → (label → values seen).
type Exported = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// The sample lines of an OpenMetrics text (label values are plain here: no `"` or `,`).
fn exported(metrics: &str) -> Exported {
    let mut out = Exported::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = out.entry(line[..name_end].to_string()).or_default();
        if let Some(set) = line[name_end..].strip_prefix('{').and_then(|l| l.split_once('}')).map(|(s, _)| s) {
            for pair in set.split(',').filter(|p| !p.is_empty()) {
                let (label, value) = pair.split_once('=').expect("label=value");
                labels.entry(label.into()).or_default().insert(value.trim_matches('"').into());
            }
        }
    }
    out
}

/// Every problem of `uses` against the `/metrics` text: empty when the artifacts hold.
fn problems(uses: &[Use], metrics: &str) -> Vec<String> {
    let exported = exported(metrics);
    let mut problems = Vec::new();
    for u in uses {
        let query = match promql::read(&u.expr) {
            Ok(query) => query,
            Err(e) => {
                problems.push(format!("{}: {e}", u.origin));
                continue;
            }
        };
        if query.selectors.is_empty() {
            problems.push(format!("{}: no metric in {:?}", u.origin, u.expr));
        }
        // Labels any of the expression's metrics carries (for grouping and templates).
        let mut known: BTreeSet<&str> = TARGET_LABELS.iter().copied().collect();
        for selector in &query.selectors {
            let metric = selector.metric.as_str();
            if PROMETHEUS_METRICS.contains(&metric) {
                continue;
            }
            let Some(labels) = exported.get(metric) else {
                problems.push(format!("{}: metric {metric} is not in /metrics", u.origin));
                continue;
            };
            known.extend(labels.keys().map(String::as_str));
            for m in &selector.matchers {
                if TARGET_LABELS.contains(&m.label.as_str()) {
                    continue;
                }
                let Some(values) = labels.get(&m.label) else {
                    problems.push(format!("{}: {metric} has no label {}", u.origin, m.label));
                    continue;
                };
                // A literal equality must name a value the daemon gives (every outcome of a
                // configured action exists at 0, so `failed` is there without a failure).
                let literal = m.op == "=" && !m.value.contains('$');
                if literal && !values.contains(&m.value) {
                    problems.push(format!("{}: {metric}{{{}=\"{}\"}}: no such value", u.origin, m.label, m.value));
                }
            }
        }
        let wanted: BTreeSet<&String> =
            query.grouping.iter().chain(&u.template_labels).chain(&u.listed_label).collect();
        for label in wanted {
            if !known.contains(label.as_str()) {
                problems.push(format!("{}: label {label} is on none of the expression's metrics", u.origin));
            }
        }
    }
    problems
}

#[test]
fn rules_and_dashboard_parse_and_the_reader_rejects_unknown_names() {
    let uses: Vec<Use> = rule_uses().into_iter().chain(dashboard_uses()).collect();
    assert!(uses.len() > 20, "{} expressions", uses.len());
    // The check itself finds a misspelt metric, label and value (against a made-up text).
    let text =
        "driftd_x_total{action=\"log\",outcome=\"sent\"} 1\ndriftd_x_total{action=\"log\",outcome=\"failed\"} 0\n";
    let case = |expr: &str| {
        problems(&[Use { origin: "t".into(), expr: expr.into(), template_labels: vec![], listed_label: None }], text)
    };
    assert!(case(r#"sum by (action) (rate(driftd_x_total{outcome="failed"}[5m]))"#).is_empty());
    assert_eq!(case("driftd_y").len(), 1);
    assert_eq!(case(r#"driftd_x_total{actoin="log"}"#).len(), 1);
    assert_eq!(case(r#"driftd_x_total{outcome="fail"}"#).len(), 1);
    assert_eq!(case("sum by (reason) (driftd_x_total)").len(), 1);
}

/// deploy/healthcheck.sh against `127.0.0.1:port`: whether it passes.
fn healthcheck(port: &str) -> bool {
    let script = repo().join("deploy/healthcheck.sh");
    Command::new(script).env("DRIFTD_HEALTH_PORT", port).status().expect("run deploy/healthcheck.sh").success()
}

/// promtool: `$PROMTOOL`, else where `.ci/run` unpacks it, else on the PATH.
fn promtool() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("PROMTOOL") {
        return path.into();
    }
    let home = std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let cached = home.join(".cache/driftd/promtool/usr/bin/promtool");
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("promtool"));
    std::iter::once(cached).chain(on_path).find(|p| p.is_file()).expect(
        "the rules tests need promtool (Debian's `prometheus` package, unpacked by `bash .ci/run` \
         into ~/.cache/driftd/promtool), or set PROMTOOL=/path/to/promtool",
    )
}

#[test]
fn the_rules_and_the_dashboards_queries_pass_promtool() {
    let dir = repo().join("deploy/prometheus");
    for args in [["check", "rules", "driftd-rules.yml"], ["test", "rules", "driftd-rules.test.yml"]] {
        let output = Command::new(promtool()).args(args).current_dir(&dir).output().expect("run promtool");
        let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "promtool {}:\n{text}", args.join(" "));
    }
    // The dashboard's queries through Prometheus' own parser: as recording rules, Grafana's
    // interval variables replaced (the others sit in strings, where any text parses).
    let dir = tempfile::tempdir().unwrap();
    let rules: Vec<String> = dashboard_uses()
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let expr = u.expr.replace("$__rate_interval", "5m").replace("$__interval", "1m");
            format!("      - record: dashboard:query_{i}\n        expr: {}\n", serde_json::to_string(&expr).unwrap())
        })
        .collect();
    let file = dir.path().join("dashboard.yml");
    std::fs::write(&file, format!("groups:\n  - name: dashboard\n    rules:\n{}", rules.concat())).unwrap();
    let output = Command::new(promtool()).args(["check", "rules"]).arg(&file).output().expect("run promtool");
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the dashboard's queries do not parse:\n{text}");
}

#[test]
fn every_metric_and_label_of_the_dashboard_and_rules_is_in_a_running_daemons_metrics() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let uses: Vec<Use> = rule_uses().into_iter().chain(dashboard_uses()).collect();

    let (dir, broker, topics) = setup("deploy", 2);
    // Hours 0–16 on two partitions, with the quick start's rules and actions: windows close
    // (statistic series), the drift injected at noon makes alerts pending and firing.
    for (stream, topic) in [("inputs", &topics.inputs), ("predictions", &topics.predictions)] {
        let lines = traffic(stream, 0.0, 16.0);
        broker.produce(
            topic,
            &lines.iter().enumerate().map(|(i, l)| ((i % 2) as i32, l.clone().into_bytes())).collect::<Vec<_>>(),
        );
    }
    // One message that does not decode (counted, dead-lettered).
    broker.produce(&topics.inputs, &[(0, b"not json".to_vec())]);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-deploy", "driftd-state");
    copy_quickstart_rules(dir.path());
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("rules: [rules.yaml]\n{text}")).unwrap();

    let mut daemon = Daemon::start(&config, &[]);
    let addr = ready(&mut daemon, deadline);

    // The image's HEALTHCHECK command, pointed at this daemon's port, then at a server that
    // answers 503.
    let port = addr.rsplit_once(':').unwrap().1;
    assert!(healthcheck(port), "deploy/healthcheck.sh on the daemon's port {port}");
    let unhealthy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unhealthy_port = unhealthy.local_addr().unwrap().port().to_string();
    std::thread::spawn(move || {
        let (mut stream, _) = unhealthy.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = std::io::Read::read(&mut stream, &mut request);
        let _ =
            std::io::Write::write_all(&mut stream, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    });
    assert!(!healthcheck(&unhealthy_port), "deploy/healthcheck.sh accepts a 503");

    wait_windows(&addr, 15, deadline);
    // Series that appear with events (librdkafka's first statistics, a partition's first
    // watermark status) are polled for; the deadline bounds the wait.
    let mut last = Vec::new();
    while Instant::now() < deadline {
        let (status, metrics) = get(&addr, "/metrics");
        assert_eq!(status, 200);
        last = problems(&uses, &metrics);
        if last.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(last.is_empty(), "the artifacts query what /metrics does not have:\n{}", last.join("\n"));
    let (_, metrics) = get(&addr, "/metrics");
    assert!(metrics.contains("driftd_ready 1"), "driftd_ready of a ready daemon");
}
