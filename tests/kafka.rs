//! `driftd run` against a real Kafka-protocol broker: tansu 0.6 (see `../shared/kafka-broker.md`
//! and `.ci/run`, which installs it), started by each test on its own loopback port with the
//! in-memory storage engine. Traffic is the quickstart's (examples/quickstart/*.jsonl),
//! produced with rdkafka; the observations driftd publishes from Kafka are compared with
//! `driftd replay` over the same messages read from a file, so every test checks numbers, not
//! only liveness.
//!
//! Every wait has a deadline, and a watchdog kills the broker and the daemons if a test
//! overruns ([`common::TEST_DEADLINE`]).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use std::path::Path;

use std::time::{Duration, Instant};

use common::kafka::{
    before_hour, kafka_config, lines_per_window, ready, replayed, replayed_with, setup, sorted_lines, stream_status,
    traffic, wait_windows, Broker, Topics, MONITOR,
};
use common::{get, get_json, repo, sample, wait_until, Daemon, TEST_DEADLINE};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde_json::Value;

fn as_messages(lines: &[String]) -> Vec<(i32, Vec<u8>)> {
    lines.iter().map(|l| (0, l.clone().into_bytes())).collect()
}

#[test]
fn kafka_traffic_gives_the_observations_of_a_file_replay_and_bad_messages_are_counted() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("e2e", 1);
    let (inputs, predictions) = (traffic("inputs", 0.0, 6.0), traffic("predictions", 0.0, 6.0));

    // Malformed inputs among the good ones: each is counted under its reason and skipped.
    let mut messages = as_messages(&inputs[..900]);
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("invalid_json", br#"{"ts": "2026-11-01T03:00:00Z", "features": {"age": 4"#.to_vec()),
        ("invalid_utf8", b"{\"ts\": \"2026-11-01T03:00:00Z\", \"features\": {\"region\": \"\xff\xfe\"}}".to_vec()),
        ("too_large", {
            let mut big = br#"{"ts": "2026-11-01T03:00:00Z", "features": {"pad": ""#.to_vec();
            big.extend(std::iter::repeat_n(b'x', 10 << 20));
            big.extend(br#""}}"#);
            big
        }),
        ("missing_event_time", br#"{"features": {"age": 40}}"#.to_vec()),
        ("bad_event_time", br#"{"ts": "yesterday", "features": {"age": 40}}"#.to_vec()),
        ("bad_features", br#"{"ts": "2026-11-01T03:00:00Z", "features": [1, 2]}"#.to_vec()),
        ("not_an_object", b"[1, 2, 3]".to_vec()),
    ];
    messages.extend(bad.iter().map(|(_, payload)| (0, payload.clone())));
    messages.extend(as_messages(&inputs[900..]));
    broker.produce(&topics.inputs, &messages);
    broker.produce(&topics.predictions, &as_messages(&predictions));

    let config = kafka_config(dir.path(), &broker, &topics, "driftd-e2e", "state");
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    // Six hours of traffic: hours 0–4 close (the watermark passes them), hour 5 stays open.
    wait_windows(&addr, 5, deadline);
    let inputs_status = stream_status(&addr, "inputs");
    assert_eq!(inputs_status["kafka_partitions"], serde_json::json!([0]));
    wait_until(deadline, "every message received", || {
        (stream_status(&addr, "inputs")["records_received"] == messages.len() as u64).then_some(())
    });

    let (code, metrics) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    for (reason, _) in &bad {
        let series =
            format!(r#"driftd_records_invalid_total{{monitor="{MONITOR}",stream="inputs",reason="{reason}"}}"#);
        assert_eq!(sample(&metrics, &series), Some(1.0), "{series} in\n{metrics}");
    }
    let dead = format!(r#"driftd_dead_letters_total{{monitor="{MONITOR}",stream="inputs"}}"#);
    assert_eq!(sample(&metrics, &dead), Some(bad.len() as f64), "{metrics}");
    assert!(
        metrics.contains(r#"driftd_consumer_lag{monitor="credit-scoring",stream="inputs""#) || {
            // The lag gauge appears with librdkafka's first statistics (every 5 s).
            std::thread::sleep(Duration::from_secs(6));
            get(&addr, "/metrics").1.contains(r#"driftd_consumer_lag{monitor="credit-scoring",stream="inputs""#)
        }
    );
    let history = get_json(&addr, &format!("/api/v1/monitors/{MONITOR}/history?stream=inputs&limit=1"));
    let last_psi = history["windows"][0]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["feature"] == "income" && o["stat"] == "psi")
        .and_then(|o| o["value"].as_f64())
        .unwrap();
    let gauge = format!(r#"driftd_statistic{{monitor="{MONITOR}",stream="inputs",feature="income",stat="psi"}}"#);
    assert_eq!(sample(&metrics, &gauge), Some(last_psi));

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));

    // The closed windows are exactly those of a replay of the same (good) messages.
    let expected = before_hour(&replayed(dir.path(), &inputs, &predictions), 5);
    assert_eq!(sorted_lines(&observations), expected);
    // Offsets were committed after the checkpoints: everything consumed.
    assert_eq!(broker.committed("driftd-e2e", &topics.inputs, 1), BTreeMap::from([(0, messages.len() as i64)]));
    assert_eq!(broker.committed("driftd-e2e", &topics.predictions, 1), BTreeMap::from([(0, predictions.len() as i64)]));
}

#[test]
fn kill_9_mid_window_and_restart_gives_the_observations_of_an_uninterrupted_run() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("kill9", 1);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-kill9", "state");
    let observations = dir.path().join("observations.jsonl");
    let args = ["--observations", observations.to_str().unwrap()];

    // Hours 0 to 2.5: windows 0 and 1 close, window 2 is half full when the daemon is killed.
    broker.produce(&topics.inputs, &as_messages(&traffic("inputs", 0.0, 2.5)));
    broker.produce(&topics.predictions, &as_messages(&traffic("predictions", 0.0, 2.5)));
    let mut first = Daemon::start(&config, &args);
    let addr = ready(&mut first, deadline);
    wait_windows(&addr, 2, deadline);
    wait_until(deadline, "hours 0–2.5 received", || {
        let all = traffic("inputs", 0.0, 2.5).len() as u64;
        (stream_status(&addr, "inputs")["records_received"] == all).then_some(())
    });
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));

    // The rest of the traffic arrives while driftd is down; the restart resumes from the
    // checkpoint (offsets and the open window's state).
    broker.produce(&topics.inputs, &as_messages(&traffic("inputs", 2.5, 6.0)));
    broker.produce(&topics.predictions, &as_messages(&traffic("predictions", 2.5, 6.0)));
    let mut second = Daemon::start(&config, &args);
    let addr = ready(&mut second, deadline);
    wait_until(deadline, "windows up to hour 4 in the observations file", || {
        let lines = sorted_lines(&observations);
        (lines.len() == 2 * 5 * lines_per_window(&lines)).then_some(())
    });
    second.signal("TERM");
    assert_eq!(second.wait_exit(Duration::from_secs(10)), Some(0), "{}", second.rest().join("\n"));
    let _ = addr;

    let expected =
        before_hour(&replayed(dir.path(), &traffic("inputs", 0.0, 6.0), &traffic("predictions", 0.0, 6.0)), 5);
    assert_eq!(sorted_lines(&observations), expected);
}

#[test]
fn a_reference_captured_from_kafka_is_kept_across_a_restart_and_equals_a_capture_from_files() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("capture", 1);
    let capture = "capture: { events: 600 }";
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-capture", "state");
    with_reference(&config, capture);
    let observations = dir.path().join("observations.jsonl");
    let args = ["--observations", observations.to_str().unwrap()];

    // Hours 0–2 are the reference (600 events a stream); hour 2 closes, hour 3 is half full
    // when the daemon is killed. The messages are produced in event-time order, the order in
    // which a file source delivers an unsorted file (sorted in memory), so that both captures
    // take the same items in the same order: a reference's standard deviation depends on the
    // order of its values in the last bits.
    broker.produce(&topics.inputs, &in_time_order(traffic("inputs", 0.0, 3.5)));
    broker.produce(&topics.predictions, &in_time_order(traffic("predictions", 0.0, 3.5)));
    let mut first = Daemon::start(&config, &args);
    let addr = ready(&mut first, deadline);
    first.wait_for_log("Reference captured.", deadline);
    wait_windows(&addr, 1, deadline);
    assert_eq!(
        stream_status(&addr, "inputs")["reference"],
        serde_json::json!({ "kind": "capture", "state": "ready", "rows": 600, "features": 9 })
    );
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));

    broker.produce(&topics.inputs, &in_time_order(traffic("inputs", 3.5, 6.0)));
    broker.produce(&topics.predictions, &in_time_order(traffic("predictions", 3.5, 6.0)));
    let mut second = Daemon::start(&config, &args);
    let addr = ready(&mut second, deadline);
    second.wait_for_log("Captured reference loaded from the store.", deadline);
    wait_until(deadline, "hours 2 to 4 in the observations file", || {
        let lines = sorted_lines(&observations);
        (windows_of(&lines) == 6).then_some(())
    });
    let _ = addr;
    second.signal("TERM");
    assert_eq!(second.wait_exit(Duration::from_secs(10)), Some(0));
    let log = second.rest().join("\n");
    assert!(!log.contains("Reference captured."), "captured again after the restart:\n{log}");

    // Windows of hours 2–4: those of a replay capturing the same first 600 items from files.
    let replayed = replayed_with(
        dir.path(),
        &traffic("inputs", 0.0, 6.0),
        &traffic("predictions", 0.0, 6.0),
        ("dataset: { path: ../data/credit_reference.csv, predictions: [score] }", capture),
    );
    let expected = before_hour(&replayed, 5);
    assert_eq!(windows_of(&expected), 6, "hours 2, 3 and 4 of two streams");
    let got = sorted_lines(&observations);
    assert_same_lines(&got, &expected);
}

/// Equal sorted observation lines, or a short report of the first differences.
fn assert_same_lines(got: &[String], expected: &[String]) {
    let missing: Vec<&String> = expected.iter().filter(|l| !got.contains(l)).take(3).collect();
    let extra: Vec<&String> = got.iter().filter(|l| !expected.contains(l)).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == expected.len(),
        "{} lines published, {} expected; missing {missing:#?}; unexpected {extra:#?}",
        got.len(),
        expected.len()
    );
}

/// Replaces the dataset reference of a [`kafka_config`] with `reference`.
fn with_reference(config: &Path, reference: &str) {
    let dataset = format!(
        "dataset: {{ path: {}, predictions: [score] }}",
        repo().join("examples/data/credit_reference.csv").display()
    );
    let text = std::fs::read_to_string(config).unwrap();
    assert!(text.contains(&dataset));
    std::fs::write(config, text.replace(&dataset, reference)).unwrap();
}

/// Messages in event-time order (stable), as a file source delivers an unsorted file.
fn in_time_order(mut lines: Vec<String>) -> Vec<(i32, Vec<u8>)> {
    lines.sort_by_key(|l| serde_json::from_str::<Value>(l).unwrap()["ts"].as_str().unwrap().to_string());
    as_messages(&lines)
}

#[test]
fn a_trailing_reference_on_a_quiet_topic_discovers_its_features_and_equals_a_file_replay() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("trailing", 1);
    let trailing = "trailing: { windows: 2 }";
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-trailing", "state");
    with_reference(&config, trailing);
    let observations = dir.path().join("observations.jsonl");

    // Fewer messages than the discovery wants (1000): the quiet topic ends it.
    broker.produce(&topics.inputs, &in_time_order(traffic("inputs", 0.0, 1.5)));
    broker.produce(&topics.predictions, &in_time_order(traffic("predictions", 0.0, 1.5)));
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    let discovered = daemon.wait_for_log("Features discovered.", deadline);
    assert!(discovered["messages"].as_u64().unwrap() < 1000, "{discovered}");
    daemon.wait_for_log("Trailing reference started.", deadline);
    wait_until(deadline, "the trailing reference in the status", || {
        let reference = stream_status(&addr, "inputs")["reference"].clone();
        (reference == serde_json::json!({ "kind": "trailing", "state": "ready", "rows": 0, "features": 9 }))
            .then_some(())
    });
    broker.produce(&topics.inputs, &in_time_order(traffic("inputs", 1.5, 6.0)));
    broker.produce(&topics.predictions, &in_time_order(traffic("predictions", 1.5, 6.0)));
    // Hour 0 warms up, hours 1–4 close, hour 5 stays open.
    wait_until(deadline, "hours 1 to 4 in the observations file", || {
        (windows_of(&sorted_lines(&observations)) == 8).then_some(())
    });
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));

    let replayed = replayed_with(
        dir.path(),
        &traffic("inputs", 0.0, 6.0),
        &traffic("predictions", 0.0, 6.0),
        ("dataset: { path: ../data/credit_reference.csv, predictions: [score] }", trailing),
    );
    assert_same_lines(&sorted_lines(&observations), &before_hour(&replayed, 5));
}

/// Distinct (stream, window) of observation lines.
fn windows_of(lines: &[String]) -> usize {
    let windows: BTreeSet<(String, i64)> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["stream"].as_str().unwrap().to_string(), v["window"]["start_ms"].as_i64().unwrap()))
        .collect();
    windows.len()
}

/// A broker that keeps its topics (tansu on SQLite storage) is stopped and started again
/// mid-stream: driftd's consumers reconnect by themselves and carry on, and the observations
/// are those of an uninterrupted run. (With tansu's in-memory storage the restarted broker
/// recreates topics under new topic ids, on which librdkafka 2.12 crashes with SIGSEGV in its
/// metadata cache — `rd_kafka_metadata_cache_find` → `strcmp` on a NULL topic name, read from
/// a core dump — so this test uses the storage a production broker has: a durable one.)
#[test]
fn after_a_broker_restart_driftd_reconnects_and_carries_on() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start_persistent(dir.path());
    let topics = Topics::new("restart");
    for topic in [&topics.inputs, &topics.predictions] {
        broker.create_topic(topic, 1);
    }
    broker.create_topic(&format!("{}-dlq", topics.inputs), 1);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-restart", "state");
    let observations = dir.path().join("observations.jsonl");
    broker.produce(&topics.inputs, &as_messages(&traffic("inputs", 0.0, 2.5)));
    broker.produce(&topics.predictions, &as_messages(&traffic("predictions", 0.0, 2.5)));
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    let before = traffic("inputs", 0.0, 2.5).len() as u64;
    wait_until(deadline, "hours 0–2.5 received", || {
        ["inputs", "predictions"].iter().all(|s| stream_status(&addr, s)["records_received"] == before).then_some(())
    });

    broker.restart();
    broker.produce(&topics.inputs, &as_messages(&traffic("inputs", 2.5, 6.0)));
    broker.produce(&topics.predictions, &as_messages(&traffic("predictions", 2.5, 6.0)));
    wait_windows(&addr, 5, deadline);
    assert_eq!(daemon.exited(), None, "driftd survived the broker's restart");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    // Reconnected (librdkafka's errors while the broker was away are logged, not fatal).
    let lines = daemon.rest();
    assert!(lines.iter().any(|l| l.contains("Kafka client error.")), "the broker was seen going away");

    // Nothing lost or counted twice across the restart.
    let expected =
        before_hour(&replayed(dir.path(), &traffic("inputs", 0.0, 6.0), &traffic("predictions", 0.0, 6.0)), 5);
    assert_eq!(sorted_lines(&observations), expected);
}

#[test]
fn two_instances_in_one_group_split_the_partitions_and_count_each_message_once() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("group", 4);
    let first_config = kafka_config(dir.path(), &broker, &topics, "driftd-group", "state-a");
    let second_config = kafka_config(dir.path(), &broker, &topics, "driftd-group", "state-b");
    let mut first = Daemon::start(&first_config, &[]);
    let mut second = Daemon::start(&second_config, &[]);
    let addrs = [ready(&mut first, deadline), ready(&mut second, deadline)];

    // Wait for a stable split: every partition assigned to exactly one of the two.
    wait_until(deadline, "the partitions split between the two instances", || {
        let mut union = Vec::new();
        for addr in &addrs {
            for stream in ["inputs", "predictions"] {
                let partitions = stream_status(addr, stream)["kafka_partitions"].as_array().cloned()?;
                if partitions.is_empty() {
                    return None;
                }
                union.extend(partitions.into_iter().map(|p| (stream, p.as_i64().unwrap())));
            }
        }
        union.sort();
        let expected: Vec<(&str, i64)> =
            ["inputs", "predictions"].into_iter().flat_map(|s| (0..4).map(move |p| (s, p))).collect();
        (union == expected).then_some(())
    });

    // Messages spread round-robin over the four partitions.
    let inputs = traffic("inputs", 0.0, 3.0);
    let predictions = traffic("predictions", 0.0, 3.0);
    let spread = |lines: &[String]| -> Vec<(i32, Vec<u8>)> {
        lines.iter().enumerate().map(|(i, l)| ((i % 4) as i32, l.clone().into_bytes())).collect()
    };
    broker.produce(&topics.inputs, &spread(&inputs));
    broker.produce(&topics.predictions, &spread(&predictions));

    // Each instance receives exactly the messages of its partitions: together, each once.
    for (stream, total) in [("inputs", inputs.len()), ("predictions", predictions.len())] {
        wait_until(deadline, &format!("every {stream} message received once"), || {
            let mut sum = 0;
            for addr in &addrs {
                let status = stream_status(addr, stream);
                let partitions = status["kafka_partitions"].as_array().unwrap().len();
                let received = status["records_received"].as_u64().unwrap();
                // Round-robin: each partition holds a quarter (± 1) of the messages.
                let share = total * partitions / 4;
                if received.abs_diff(share as u64) > partitions as u64 {
                    return None;
                }
                sum += received;
            }
            (sum == total as u64).then_some(())
        });
    }
    for daemon in [&mut first, &mut second] {
        daemon.signal("TERM");
        assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    }
    let committed = broker.committed("driftd-group", &topics.inputs, 4);
    assert_eq!(committed.values().sum::<i64>(), inputs.len() as i64, "{committed:?}");
}

#[test]
fn dead_letters_carry_the_error_in_their_headers() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let topics = Topics::new("dlq");
    for topic in [&topics.inputs, &topics.predictions] {
        broker.create_topic(topic, 1);
    }
    let dlq = format!("{}-dlq", topics.inputs);
    broker.create_topic(&dlq, 1);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-dlq", "state");
    let producer = broker.producer();
    let headers = OwnedHeaders::new().insert(Header { key: "trace", value: Some("abc") });
    producer
        .send(BaseRecord::<str, [u8]>::to(&topics.inputs).key("k1").payload(b"{not json".as_slice()).headers(headers))
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    let mut daemon = Daemon::start(&config, &[]);
    let addr = ready(&mut daemon, deadline);
    wait_until(deadline, "the bad message counted", || {
        (stream_status(&addr, "inputs")["records_invalid"] == 1).then_some(())
    });

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.address())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[dlq.as_str()]).unwrap();
    let message = wait_until(deadline, "the dead letter", || consumer.poll(Duration::from_millis(200))?.ok());
    use rdkafka::message::{Headers, Message};
    assert_eq!(message.payload(), Some(b"{not json".as_slice()));
    assert_eq!(message.key(), Some(b"k1".as_slice()));
    let headers = message.headers().expect("headers");
    let header = |name: &str| {
        headers.iter().find(|h| h.key == name).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(header("driftd-reason").as_deref(), Some("invalid_json"));
    let error = header("driftd-error").unwrap();
    assert!(error.starts_with(&format!("{}[0]@0: ", topics.inputs)), "{error}");
    assert_eq!(header("driftd-source"), Some(format!("{}/0/0", topics.inputs)));
    drop(message);
    consumer.unsubscribe();
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
}

#[test]
fn an_idle_topic_still_closes_its_windows_by_processing_time() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("idle", 1);
    // Two-second windows, no lateness; a stream silent for one second has its watermark moved
    // to the wall clock. Event times in epoch milliseconds, stamped now.
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-idle", "state");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("size: 1h, allowed_lateness: 1m, idle_timeout: 0s", "size: 2s, allowed_lateness: 0s, idle_timeout: 1s")
        .replace("format: rfc3339", "format: epoch_ms");
    std::fs::write(&config, text).unwrap();
    let mut daemon = Daemon::start(&config, &[]);
    let addr = ready(&mut daemon, deadline);

    // Twenty requests per stream, then silence: nothing later will push the watermark.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let stamp = |lines: Vec<String>| -> Vec<(i32, Vec<u8>)> {
        lines
            .into_iter()
            .take(20)
            .map(|l| {
                let mut v: Value = serde_json::from_str(&l).unwrap();
                v["ts"] = Value::from(now);
                (0, v.to_string().into_bytes())
            })
            .collect()
    };
    broker.produce(&topics.inputs, &stamp(traffic("inputs", 0.0, 1.0)));
    broker.produce(&topics.predictions, &stamp(traffic("predictions", 0.0, 1.0)));
    wait_windows(&addr, 1, deadline);
    let window = stream_status(&addr, "inputs")["last_window"].clone();
    assert_eq!(window["events"], 20, "{window}");
    assert!(window["start_ms"].as_i64().unwrap() <= now && now < window["end_ms"].as_i64().unwrap(), "{window}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
}

/// A failing checkpoint on a Kafka stream (the file-size limit lowered under the daemon, as in
/// run_cli.rs): while it fails no offset beyond what was checkpointed is committed and no
/// window is published; once the limit is raised every window is published once and, at the
/// end, every message is committed.
#[test]
fn a_failing_checkpoint_commits_no_offset_until_it_is_saved() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("diskfull", 1);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-diskfull", "state");
    let (inputs, predictions) = (traffic("inputs", 0.0, 6.0), traffic("predictions", 0.0, 6.0));
    // Hours 0 to 2.5 first (windows 0 and 1 close), the rest once the limit is in place.
    let (inputs_before, predictions_before) =
        (traffic("inputs", 0.0, 2.5).len(), traffic("predictions", 0.0, 2.5).len());
    broker.produce(&topics.inputs, &as_messages(&inputs[..inputs_before]));
    broker.produce(&topics.predictions, &as_messages(&predictions[..predictions_before]));
    let mut daemon = Daemon::start(&config, &[]);
    let addr = ready(&mut daemon, deadline);
    wait_windows(&addr, 2, deadline);

    common::set_file_size_limit(daemon.pid(), 4096);
    broker.produce(&topics.inputs, &as_messages(&inputs[inputs_before..]));
    broker.produce(&topics.predictions, &as_messages(&predictions[predictions_before..]));
    let reason = wait_until(deadline, "/readyz not ready", || {
        let (code, body) = get(&addr, "/readyz");
        (code == 503).then_some(body)
    });
    assert!(reason.contains("checkpoint failing"), "{reason}");
    daemon.wait_for_log("Checkpoint failed again.", deadline);
    daemon.wait_for_log("Checkpoint failed again.", deadline);
    // Nothing read after the limit is committed: the commits stay within the first part.
    let inputs_committed = broker.committed("driftd-diskfull", &topics.inputs, 1);
    let predictions_committed = broker.committed("driftd-diskfull", &topics.predictions, 1);
    assert!(inputs_committed.get(&0).is_none_or(|&o| o <= inputs_before as i64), "{inputs_committed:?}");
    assert!(predictions_committed.get(&0).is_none_or(|&o| o <= predictions_before as i64), "{predictions_committed:?}");
    for stream in ["inputs", "predictions"] {
        assert!(stream_status(&addr, stream)["windows_closed"].as_u64().unwrap() <= 2, "{stream}");
    }

    common::set_file_size_limit(daemon.pid(), libc::RLIM_INFINITY);
    daemon.wait_for_log("State database reopened after the failure.", deadline);
    // Hours 0 to 4 close (hour 5 stays open), each window once.
    wait_windows(&addr, 5, deadline);
    assert_eq!(get(&addr, "/readyz").0, 200);
    let history = get_json(&addr, &format!("/api/v1/monitors/{MONITOR}/history?limit=1000"));
    let windows: BTreeSet<(String, String)> = history["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["stream"].as_str().unwrap().to_string(), w["start"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!((windows.len(), history["windows"].as_array().unwrap().len()), (10, 10), "{windows:?}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    assert_eq!(broker.committed("driftd-diskfull", &topics.inputs, 1), BTreeMap::from([(0, inputs.len() as i64)]));
    assert_eq!(
        broker.committed("driftd-diskfull", &topics.predictions, 1),
        BTreeMap::from([(0, predictions.len() as i64)])
    );
}
