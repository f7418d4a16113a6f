//! Avro over a schema registry, end to end: tansu as the broker, tests/registry/
//! schema_registry.py as a stated stand-in for Confluent's registry (the same REST API; the
//! real one needs a JVM), and messages written by confluent-kafka's real AvroSerializer with
//! its SchemaRegistryClient (tests/registry/produce.py), so the wire format is the real one.
//! Observations are compared with those of the same events read as JSON, so every test
//! checks numbers, not only liveness. Each test has its own topics and a hard deadline.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::kafka::{ready, sorted_lines, traffic, Broker};
use common::registry::{produce_avro, SchemaRegistry};
use common::{get, get_json, repo, sample, wait_until, Daemon, TEST_DEADLINE};
use serde_json::Value;

/// One monitor of the configuration: `inputs` and `predictions` topics, with `format` lines
/// (empty for JSON) added to both Kafka sources.
fn monitor(name: &str, inputs: &str, predictions: &str, format: &str) -> String {
    let reference = repo().join("examples/data/credit_reference.csv");
    format!(
        r#"
  - name: {name}
    model_version: "2026-11-01"
    reference:
      dataset: {{ path: {reference}, predictions: [score] }}
    binning: quantile
    statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger]
    window: {{ kind: tumbling, size: 1h, allowed_lateness: 1m, idle_timeout: 0s }}
    streams:
      inputs:
        source:
          kafka: {{ topic: {inputs}, start: earliest{format} }}
        event_time: {{ field: /ts, format: rfc3339 }}
        features: "*"
        dead_letter_topic: {inputs}-dlq
      predictions:
        source:
          kafka: {{ topic: {predictions}, start: earliest{format} }}
        event_time: {{ field: /ts, format: rfc3339 }}
        prediction: {{ pointer: /score, kind: score }}
"#,
        reference = reference.display(),
    )
}

fn write_config(dir: &Path, broker: &Broker, monitors: &[String]) -> PathBuf {
    let text = format!(
        "http: {{ listen: 127.0.0.1:0 }}\nstate: {{ path: state }}\nkafka:\n  brokers: {}\nmonitors:{}",
        broker.address(),
        monitors.concat()
    );
    let path = dir.join("driftd.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `, format: avro, registry: {…}` for a Kafka source.
fn avro(registry: &SchemaRegistry, retry_for: &str) -> String {
    format!(", format: avro, registry: {{ url: \"{}\", retry_for: {retry_for} }}", registry.url())
}

fn topics(broker: &Broker, names: &[&str]) {
    for name in names {
        broker.create_topic(name, 1);
        broker.create_topic(&format!("{name}-dlq"), 1);
    }
}

/// Waits until every stream of every monitor has closed `windows` windows.
fn wait_all_windows(addr: &str, windows: u64, deadline: Instant) {
    wait_until(deadline, &format!("{windows} windows in every stream"), || {
        let status = get_json(addr, "/api/v1/monitors");
        let monitors = status["monitors"].as_array()?;
        let done = monitors.iter().all(|m| {
            m["streams"].as_array().is_some_and(|s| s.iter().all(|s| s["windows_closed"].as_u64() >= Some(windows)))
        });
        done.then_some(())
    });
}

/// The observation lines of `monitor`, with the monitor's name taken out (to compare two).
fn lines_of(lines: &[String], monitor: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            (v["monitor"] == monitor).then(|| {
                v["monitor"] = Value::Null;
                v.to_string()
            })
        })
        .collect()
}

fn as_messages(lines: &[String]) -> Vec<(i32, Vec<u8>)> {
    lines.iter().map(|l| (0, l.clone().into_bytes())).collect()
}

#[test]
fn avro_through_a_registry_gives_the_observations_of_the_same_events_as_json() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let registry = SchemaRegistry::start(dir.path());
    topics(&broker, &["fmt-json-inputs", "fmt-json-predictions", "fmt-avro-inputs", "fmt-avro-predictions"]);
    let (inputs, predictions) = (traffic("inputs", 0.0, 6.0), traffic("predictions", 0.0, 6.0));
    broker.produce("fmt-json-inputs", &as_messages(&inputs));
    broker.produce("fmt-json-predictions", &as_messages(&predictions));
    produce_avro(dir.path(), &broker, &registry, "fmt-avro-inputs", "inputs.avsc", &inputs);
    produce_avro(dir.path(), &broker, &registry, "fmt-avro-predictions", "predictions.avsc", &predictions);

    let config = write_config(
        dir.path(),
        &broker,
        &[
            monitor("json", "fmt-json-inputs", "fmt-json-predictions", ""),
            monitor("avro", "fmt-avro-inputs", "fmt-avro-predictions", &avro(&registry, "10s")),
        ],
    );
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    // Six hours of traffic: hours 0–4 close, hour 5 stays open.
    wait_all_windows(&addr, 5, deadline);
    let (_, metrics) = get(&addr, "/metrics");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));

    let lines = sorted_lines(&observations);
    let (json, avro) = (lines_of(&lines, "json"), lines_of(&lines, "avro"));
    assert!(json.len() > 100, "{} JSON observations", json.len());
    assert_eq!(avro, json);
    let invalid = r#"driftd_records_invalid_total{monitor="avro",stream="inputs",reason="invalid_avro"}"#;
    assert_eq!(sample(&metrics, invalid), Some(0.0), "{metrics}");
}
