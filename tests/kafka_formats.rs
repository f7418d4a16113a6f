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
    monitor_with(name, inputs, predictions, format, format)
}

/// As [`monitor`], with the format of each stream.
fn monitor_with(name: &str, inputs: &str, predictions: &str, format: &str, predictions_format: &str) -> String {
    let reference = repo().join("examples/data/credit_reference.csv");
    format!(
        r#"
  - name: {name}
    model_version: "2026-11-01"
    reference:
      dataset: {{ path: {reference}, predictions: [score] }}
    binning: quantile
    statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger, missing_share]  # the quickstart's
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
          kafka: {{ topic: {predictions}, start: earliest{predictions_format} }}
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

/// `got == expected`, failing with the lines only one side has (not thousands of lines).
fn assert_same(got: &[String], expected: &[String]) {
    let only = |a: &[String], b: &[String]| a.iter().filter(|l| !b.contains(l)).take(4).cloned().collect::<Vec<_>>();
    assert!(
        got == expected,
        "{} lines, expected {}\nonly got:\n{}\nonly expected:\n{}",
        got.len(),
        expected.len(),
        only(got, expected).join("\n"),
        only(expected, got).join("\n")
    );
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
    assert_same(&avro, &json);
    let invalid = r#"driftd_records_invalid_total{monitor="avro",stream="inputs",reason="invalid_avro"}"#;
    assert_eq!(sample(&metrics, invalid), Some(0.0), "{metrics}");
}

/// `lines` (JSON events) with `edit` applied to each event's features.
fn edited(lines: &[String], edit: impl Fn(&mut serde_json::Map<String, Value>)) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            edit(v["features"].as_object_mut().unwrap());
            v.to_string()
        })
        .collect()
}

#[test]
fn schema_evolution_mid_stream_resolves_each_writer_against_the_latest_schema() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let registry = SchemaRegistry::start(dir.path());
    topics(&broker, &["evo-json-inputs", "evo-avro-inputs", "evo-predictions"]);
    let (early, late) = (traffic("inputs", 0.0, 3.0), traffic("inputs", 3.0, 6.0));
    // Writer v1 has no employment_type; v2 adds it (default "salaried") and removes
    // loan_purpose. The reader is the subject's latest version, v2: v1's messages get the
    // default, and loan_purpose is gone from both.
    produce_avro(dir.path(), &broker, &registry, "evo-avro-inputs", "inputs_v1.avsc", &early);
    produce_avro(dir.path(), &broker, &registry, "evo-avro-inputs", "inputs_v2.avsc", &late);
    let mut expected = edited(&early, |f| {
        f.insert("employment_type".into(), "salaried".into());
    });
    expected.extend(late.iter().cloned());
    let expected = edited(&expected, |f| {
        f.remove("loan_purpose");
    });
    broker.produce("evo-json-inputs", &as_messages(&expected));
    broker.produce("evo-predictions", &as_messages(&traffic("predictions", 0.0, 6.0)));

    let config = write_config(
        dir.path(),
        &broker,
        &[
            monitor("json", "evo-json-inputs", "evo-predictions", ""),
            monitor_with("avro", "evo-avro-inputs", "evo-predictions", &avro(&registry, "10s"), ""),
        ],
    );
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    wait_all_windows(&addr, 5, deadline);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));

    let lines = sorted_lines(&observations);
    let (json, avro) = (lines_of(&lines, "json"), lines_of(&lines, "avro"));
    assert!(json.iter().any(|l| l.contains(r#""feature":"employment_type""#)));
    assert_same(&avro, &json);
}

#[test]
fn unknown_schema_ids_and_a_registry_outage_are_counted_dead_lettered_and_recovered_from() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let mut registry = SchemaRegistry::start(dir.path());
    topics(&broker, &["down-json-inputs", "down-avro-inputs", "down-predictions"]);
    let (early, late) = (traffic("inputs", 0.0, 2.0), traffic("inputs", 2.0, 6.0));
    produce_avro(dir.path(), &broker, &registry, "down-avro-inputs", "inputs.avsc", &early);
    broker.produce("down-json-inputs", &as_messages(&late));
    broker.produce("down-predictions", &as_messages(&traffic("predictions", 2.0, 6.0)));
    let config = write_config(
        dir.path(),
        &broker,
        &[
            monitor("json", "down-json-inputs", "down-predictions", ""),
            monitor_with("avro", "down-avro-inputs", "down-predictions", &avro(&registry, "1s"), ""),
        ],
    );

    // The registry is down when driftd starts: the first two hours' schema id cannot be
    // resolved; each message waits (at most retry_for: 1s from the outage's start), then is
    // dead-lettered under registry_unavailable. driftd does not stop.
    registry.stop();
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    let series =
        |reason: &str| format!(r#"driftd_records_invalid_total{{monitor="avro",stream="inputs",reason="{reason}"}}"#);
    wait_until(deadline, "the outage's messages dead-lettered", || {
        (sample(&get(&addr, "/metrics").1, &series("registry_unavailable")) == Some(early.len() as f64)).then_some(())
    });

    // Back: an unknown id and a message without the framing are dead-lettered at once, and
    // the rest of the traffic is decoded again.
    registry.restart();
    let mut unknown = vec![0u8, 0, 0, 0, 99];
    unknown.extend(b"\x02\x04");
    broker.produce("down-avro-inputs", &[(0, unknown), (0, br#"{"ts": "2026-11-01T02:00:00Z"}"#.to_vec())]);
    produce_avro(dir.path(), &broker, &registry, "down-avro-inputs", "inputs.avsc", &late);
    wait_all_windows(&addr, 3, deadline);
    let (_, metrics) = get(&addr, "/metrics");
    assert_eq!(sample(&metrics, &series("unknown_schema")), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, &series("bad_framing")), Some(1.0), "{metrics}");
    assert_eq!(sample(&metrics, &series("registry_unavailable")), Some(early.len() as f64), "{metrics}");
    let dead = r#"driftd_dead_letters_total{monitor="avro",stream="inputs"}"#;
    assert_eq!(sample(&metrics, dead), Some(early.len() as f64 + 2.0), "{metrics}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));

    // Hours 2–4 closed in both monitors, with the same numbers.
    let lines = sorted_lines(&observations);
    let (json, avro) = (lines_of(&lines, "json"), lines_of(&lines, "avro"));
    assert!(json.len() > 50, "{} JSON observations", json.len());
    assert_same(&avro, &json);
}
