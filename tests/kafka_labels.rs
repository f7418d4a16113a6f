//! Delayed labels over Kafka as users run it: predictions on three partitions and labels on two,
//! produced while driftd consumes, labels hours to a day and a half after their predictions,
//! `kill -9` mid-way and a restart while the rest is produced. Asserts the invariant — every
//! label produced is taken once and accounted for (`driftd_label_join_records`) — and that the
//! published performance is exactly a file replay's of the same events: each window's final
//! version once, with the same numbers. Real tansu broker, real rdkafka producer; every wait
//! has a deadline.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::kafka::{ready, sorted_lines, stream_status, traffic, Broker};
use common::{get, repo, sample, wait_until, Daemon, TEST_DEADLINE};
use serde_json::Value;

/// Hours of predictions produced (2026-11-01T00:00Z on).
const HOURS: f64 = 12.0;

/// The monitor: predictions and labels from `predictions` / `labels` (sources in YAML flow
/// style), hourly windows, no idle advance (observations depend on the data only).
fn config_text(dir: &Path, predictions: &str, labels: &str) -> String {
    let reference = repo().join("examples/data/credit_reference.csv");
    format!(
        r#"
http: {{ listen: 127.0.0.1:0 }}
state: {{ path: state }}
kafka:
  properties: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "1000" }}
monitors:
  - name: credit-scoring
    reference:
      dataset: {{ path: {reference}, predictions: [score] }}
    statistics: [psi]
    window: {{ kind: tumbling, size: 1h, allowed_lateness: 1m, idle_timeout: 0s }}
    streams:
      predictions:
        source: {predictions}
        event_time: {{ field: /ts, format: rfc3339 }}
        prediction: {{ pointer: /score, kind: score }}
        key: /request_id
      labels:
        source: {labels}
        event_time: {{ field: /ts, format: rfc3339 }}
        key: /request_id
        label: /default
        retention: 12h
"#,
        reference = reference.display(),
    )
    .replace("state: { path: state }", &format!("state: {{ path: {} }}", dir.join("state").display()))
}

/// The quick start's labels of the predictions in `ids`, in arrival (label time) order.
fn labels_of(ids: &BTreeSet<String>) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("examples/quickstart/labels.jsonl")).unwrap();
    text.lines()
        .filter(|l| ids.contains(serde_json::from_str::<Value>(l).unwrap()["request_id"].as_str().unwrap()))
        .map(str::to_string)
        .collect()
}

fn spread(lines: &[String], partitions: i32) -> Vec<(i32, Vec<u8>)> {
    lines.iter().enumerate().map(|(i, l)| (i as i32 % partitions, l.clone().into_bytes())).collect()
}

/// The labels observations of windows before `hours`, sorted.
fn labels_lines(lines: &[String], hours: i64) -> Vec<String> {
    let limit = 1_793_491_200_000 + hours * 3_600_000;
    lines
        .iter()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["stream"] == "labels" && v["window"]["start_ms"].as_i64().unwrap() < limit
        })
        .cloned()
        .collect()
}

#[test]
fn labels_over_kafka_with_a_live_producer_and_kill_9_give_the_replays_performance() {
    let deadline = Instant::now() + TEST_DEADLINE + Duration::from_secs(60);
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic("kl-predictions", 3);
    broker.create_topic("kl-labels", 2);
    let kafka =
        |topic: &str| format!("{{ kafka: {{ topic: {topic}, brokers: \"{}\", start: earliest }} }}", broker.address());
    let config = dir.path().join("kafka.yaml");
    std::fs::write(&config, config_text(dir.path(), &kafka("kl-predictions"), &kafka("kl-labels"))).unwrap();

    let predictions = traffic("predictions", 0.0, HOURS);
    let ids: BTreeSet<String> = predictions
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["request_id"].as_str().unwrap().to_string())
        .collect();
    let labels = labels_of(&ids);
    let (first_p, rest_p) = predictions.split_at(predictions.len() / 2);
    let (first_l, rest_l) = labels.split_at(labels.len() / 3);

    let observations = dir.path().join("observations.jsonl");
    let args = ["--observations", observations.to_str().unwrap()];
    let mut first = Daemon::start(&config, &args);
    let addr = ready(&mut first, deadline);
    std::thread::scope(|s| {
        s.spawn(|| broker.produce("kl-predictions", &spread(first_p, 3)));
        s.spawn(|| broker.produce("kl-labels", &spread(first_l, 2)));
    });
    let received = |addr: &str, stream: &str| stream_status(addr, stream)["records_received"].as_u64().unwrap();
    wait_until(deadline, "the first part received", || {
        (received(&addr, "predictions") == first_p.len() as u64 && received(&addr, "labels") == first_l.len() as u64)
            .then_some(())
    });
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));

    let mut second = Daemon::start(&config, &args);
    let addr = ready(&mut second, deadline);
    second.wait_for_log("Resumed from the predictions' checkpoint.", deadline);
    std::thread::scope(|s| {
        s.spawn(|| broker.produce("kl-predictions", &spread(rest_p, 3)));
        s.spawn(|| broker.produce("kl-labels", &spread(rest_l, 2)));
    });
    // Every label taken exactly once across the restart (the checkpoint's position skips the
    // redelivered ones), and accounted for by the join.
    wait_until(deadline, "every label in the join", || {
        let metrics = get(&addr, "/metrics").1;
        let series = r#"driftd_label_join_records{monitor="credit-scoring",kind="labels"}"#;
        (sample(&metrics, series) == Some(labels.len() as f64)).then_some(())
    });
    // Windows of hours 0–10 close for predictions (the newest, 11:59, minus a minute passes
    // 11:00) and are final (the labels' clock passes their end + 12 h).
    wait_until(deadline, "eleven final windows", || {
        let finals = labels_lines(&sorted_lines(&observations), 11)
            .iter()
            .filter(|l| l.contains(r#""stat":"roc_auc""#) && l.contains(r#""final":true"#))
            .count();
        (finals == 11).then_some(())
    });
    // The join's gauges (set together at each checkpoint of the predictions) add up: every
    // label produced is in exactly one outcome or still waiting.
    let metrics = wait_until(deadline, "the label accounting", || {
        let metrics = get(&addr, "/metrics").1;
        let count = |kind: &str| {
            sample(&metrics, &format!(r#"driftd_label_join_records{{monitor="credit-scoring",kind="{kind}"}}"#))
                .unwrap_or(f64::NAN)
        };
        let pending = sample(&metrics, r#"driftd_label_join_pending{monitor="credit-scoring",kind="labels"}"#);
        let outcomes: f64 = [
            "duplicate_labels",
            "joined",
            "labels_after_retention",
            "labels_before_prediction",
            "unmatched_labels",
            "evicted_labels",
        ]
        .iter()
        .map(|k| count(k))
        .sum();
        let adds_up = count("labels") == labels.len() as f64 && Some(count("labels") - outcomes) == pending;
        adds_up.then_some(metrics)
    });
    let joined = sample(&metrics, r#"driftd_label_join_records{monitor="credit-scoring",kind="joined"}"#).unwrap();
    assert!(joined > 0.8 * labels.len() as f64, "{metrics}");
    second.signal("TERM");
    assert_eq!(second.wait_exit(Duration::from_secs(10)), Some(0), "{}", second.rest().join("\n"));

    // The same events replayed from files.
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    std::fs::write(files.join("predictions.jsonl"), predictions.join("\n") + "\n").unwrap();
    std::fs::write(files.join("labels.jsonl"), labels.join("\n") + "\n").unwrap();
    let file = |name: &str| format!("{{ file: {{ path: {}, format: jsonl }} }}", files.join(name).display());
    let replay_config = files.join("replay.yaml");
    std::fs::write(&replay_config, config_text(&files, &file("predictions.jsonl"), &file("labels.jsonl"))).unwrap();
    let replayed = files.join("replayed.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(["replay", "--config", replay_config.to_str().unwrap(), "--output", replayed.to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let expected = labels_lines(&sorted_lines(&replayed), 11);
    assert_eq!(expected.len(), 11 * 10);
    assert_eq!(labels_lines(&sorted_lines(&observations), 11), expected);
}
