//! Kafka as users run it: topics with several partitions, a producer live while driftd
//! consumes, partitions consumed with skew, historical event times, `kill -9` and a restart
//! with the group's default session timeout. Each test asserts the invariant — every produced
//! event is in a window (none late) — and compares the published observations with `driftd
//! replay` of the same events from a file, so the per-partition watermark is checked by
//! numbers. Real tansu broker, real rdkafka producer; every wait has a deadline.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::kafka::{
    before_hour, kafka_config, ready, replayed, setup, sorted_lines, stream_status, traffic, Broker, Topics,
};
use common::{get, sample, wait_until, Daemon, TEST_DEADLINE};
use serde_json::Value;

/// Spreads messages over `partitions` as a keyed producer would (message i to partition
/// i mod n), in order within each partition.
fn spread(lines: &[String], partitions: i32) -> Vec<(i32, Vec<u8>)> {
    lines.iter().enumerate().map(|(i, l)| (i as i32 % partitions, l.clone().into_bytes())).collect()
}

/// The same messages with partition 0's produced last: when it arrives, the other
/// partitions are hours of event time ahead (a consumer that fell behind on one partition).
fn partition_0_last(mut messages: Vec<(i32, Vec<u8>)>) -> Vec<(i32, Vec<u8>)> {
    messages.sort_by_key(|(p, _)| *p == 0);
    messages
}

/// Replaces one piece of a configuration file's text (which must be there).
fn edit(config: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(config, text.replace(from, to)).unwrap();
}

/// Small fetches, so the consumer interleaves the partitions in batches of a few messages.
fn small_fetches(config: &Path) {
    edit(
        config,
        r#"heartbeat.interval.ms: "1000""#,
        r#"heartbeat.interval.ms: "1000", max.partition.fetch.bytes: "2048""#,
    );
}

/// Records received and late of both streams, once everything produced has been received.
fn wait_received(addr: &str, inputs: usize, predictions: usize, deadline: Instant) {
    wait_until(deadline, "every produced message received", || {
        let got = |s: &str| stream_status(addr, s)["records_received"].as_u64().unwrap();
        (got("inputs") == inputs as u64 && got("predictions") == predictions as u64).then_some(())
    });
}

fn late(addr: &str, stream: &str) -> u64 {
    stream_status(addr, stream)["records_late"].as_u64().unwrap()
}

/// No (stream, window, feature, statistic) appears twice: each window was published once.
fn assert_published_once(lines: &[String]) {
    let keys: std::collections::BTreeSet<String> = lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            format!("{} {} {} {}", v["stream"], v["window"]["start_ms"], v["feature"], v["stat"])
        })
        .collect();
    assert_eq!(keys.len(), lines.len(), "a window was published twice");
}

/// Observation lines per (stream, window start).
fn per_window(lines: &[String]) -> BTreeMap<(String, i64), usize> {
    let mut counts = BTreeMap::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        let key = (v["stream"].as_str().unwrap().to_string(), v["window"]["start_ms"].as_i64().unwrap());
        *counts.entry(key).or_default() += 1;
    }
    counts
}

/// Six hours of traffic on `partitions` partitions, partition 0 produced last, by a producer
/// running while driftd consumes: no record is late, and the five closed hourly windows of
/// each stream are exactly those of a file replay of the same events.
fn skewed_live_traffic_loses_nothing(partitions: u32) {
    let deadline = Instant::now() + TEST_DEADLINE;
    let name = format!("skew{partitions}");
    let (dir, broker, topics) = setup(&name, partitions);
    let config = kafka_config(dir.path(), &broker, &topics, &format!("driftd-{name}"), "state");
    small_fetches(&config);
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);

    let (inputs, predictions) = (traffic("inputs", 0.0, 6.0), traffic("predictions", 0.0, 6.0));
    let n = partitions as i32;
    std::thread::scope(|s| {
        s.spawn(|| broker.produce(&topics.inputs, &partition_0_last(spread(&inputs, n))));
        s.spawn(|| broker.produce(&topics.predictions, &partition_0_last(spread(&predictions, n))));
    });
    wait_received(&addr, inputs.len(), predictions.len(), deadline);
    // Hours 0–4 close (the newest event, 05:59, minus the minute of lateness, passes 05:00).
    wait_until(deadline, "five windows per stream", || {
        let closed = |s: &str| stream_status(&addr, s)["windows_closed"].as_u64().unwrap();
        (closed("inputs") == 5 && closed("predictions") == 5).then_some(())
    });
    assert_eq!((late(&addr, "inputs"), late(&addr, "predictions")), (0, 0));
    let metrics = get(&addr, "/metrics").1;
    let series = r#"driftd_records_late_total{monitor="credit-scoring",stream="inputs"}"#;
    assert_eq!(sample(&metrics, series), Some(0.0), "{metrics}");

    // The status shows every partition's clock (refreshed every second); the stream's
    // watermark is their minimum.
    let status = wait_until(deadline, "the partition status", || {
        let status = stream_status(&addr, "inputs");
        let listed = status["watermark"]["partitions"].as_array().map(Vec::len) == Some(partitions as usize);
        let all_known =
            listed && status["watermark"]["partitions"].as_array().unwrap().iter().all(|p| p["watermark_ms"].is_i64());
        all_known.then_some(status)
    });
    let lowest = status["watermark"]["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["watermark_ms"].as_i64().unwrap())
        .min()
        .unwrap();
    assert_eq!(status["watermark"]["watermark_ms"].as_i64(), Some(lowest), "{status}");

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    // Equal sorted lines: every window once, with the replay's numbers.
    let expected = before_hour(&replayed(dir.path(), &inputs, &predictions), 5);
    assert_eq!(sorted_lines(&observations), expected);
}

#[test]
fn three_skewed_partitions_with_a_live_producer_lose_nothing_to_the_watermark() {
    skewed_live_traffic_loses_nothing(3);
}

#[test]
fn six_skewed_partitions_with_a_live_producer_lose_nothing_to_the_watermark() {
    skewed_live_traffic_loses_nothing(6);
}

/// Event times a month old (the quickstart's day, 2026-11-01) with an idle timeout: the
/// processing-time advance never jumps to today's date, so nothing closes early and nothing
/// is late; once every partition is caught up and idle, the last window still closes.
#[test]
fn historical_event_times_with_an_idle_timeout_close_nothing_early_and_the_last_window_still_closes() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("historical", 3);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-historical", "state");
    small_fetches(&config);
    // Ten-second windows over one minute of event time, 100 ms apart: 100 events a window.
    edit(
        &config,
        "size: 1h, allowed_lateness: 1m, idle_timeout: 0s",
        "size: 10s, allowed_lateness: 1s, idle_timeout: 1s",
    );
    let restamp = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .take(600)
            .enumerate()
            .map(|(i, l)| {
                let mut v: Value = serde_json::from_str(&l).unwrap();
                let ms = i as u64 * 100;
                v["ts"] = format!("2026-11-01T00:{:02}:{:02}.{:03}Z", ms / 60_000, ms / 1000 % 60, ms % 1000).into();
                v.to_string()
            })
            .collect()
    };
    let (inputs, predictions) = (restamp(traffic("inputs", 0.0, 3.0)), restamp(traffic("predictions", 0.0, 3.0)));
    assert_eq!((inputs.len(), predictions.len()), (600, 600));
    // Produced before driftd starts: a producer that stalls longer than the idle timeout on
    // every partition would (rightly) let processing time advance, which this test is not about.
    produce_spread(&broker, &topics, &inputs, &predictions);
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);
    wait_received(&addr, 600, 600, deadline);
    // All six windows close, the last one by processing time: 59.9 s is the newest event,
    // so the watermark passes 60 s once 1.1 s have elapsed with every partition idle.
    wait_until(deadline, "six windows per stream", || {
        let closed = |s: &str| stream_status(&addr, s)["windows_closed"].as_u64().unwrap();
        (closed("inputs") == 6 && closed("predictions") == 6).then_some(())
    });
    assert_eq!((late(&addr, "inputs"), late(&addr, "predictions")), (0, 0));
    let status = stream_status(&addr, "inputs");
    let partitions = status["watermark"]["partitions"].as_array().unwrap().clone();
    assert!(partitions.iter().all(|p| p["idle"] == true && p["lag"] == 0), "{status}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));

    // Every window holds its 100 events, once.
    let lines = sorted_lines(&observations);
    let mut events: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap();
        let key = (v["stream"].as_str().unwrap().to_string(), v["window"]["start_ms"].as_i64().unwrap());
        let n = v["window"]["events"].as_u64().unwrap();
        assert_eq!(*events.entry(key).or_insert(n), n);
    }
    assert_eq!(events.len(), 12, "{events:?}");
    assert!(events.values().all(|&n| n == 100), "{events:?}");
    assert_published_once(&lines);
}

/// `kill -9` mid-window with the group's default session timeout (45 s: the dead member keeps
/// its partitions that long unless the restart is its static member), the rest of the
/// traffic produced while driftd is down, then a restart with an idle timeout in force: the
/// restored open window is continued, not closed, however long the assignment takes, and the
/// published observations are exactly an uninterrupted run's, each window once.
fn kill_9_and_restart(name: &str, static_member: bool) {
    let deadline = Instant::now() + TEST_DEADLINE + Duration::from_secs(60);
    let (dir, broker, topics) = setup(name, 3);
    let config = kafka_config(dir.path(), &broker, &topics, &format!("driftd-{name}"), "state");
    edit(&config, r#"session.timeout.ms: "6000", "#, "");
    edit(&config, "idle_timeout: 0s", "idle_timeout: 2s");
    if static_member {
        edit(&config, "kafka:\n", "kafka:\n  instance_id: pod-0\n");
    }
    let observations = dir.path().join("observations.jsonl");
    let args = ["--observations", observations.to_str().unwrap()];
    let (inputs, predictions) = (traffic("inputs", 0.0, 2.5), traffic("predictions", 0.0, 2.5));
    produce_spread(&broker, &topics, &inputs, &predictions);
    let mut first = Daemon::start(&config, &args);
    let addr = ready(&mut first, deadline);
    wait_received(&addr, inputs.len(), predictions.len(), deadline);
    wait_until(deadline, "two windows per stream", || {
        let closed = |s: &str| stream_status(&addr, s)["windows_closed"].as_u64().unwrap();
        (closed("inputs") == 2 && closed("predictions") == 2).then_some(())
    });
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));

    produce_spread(&broker, &topics, &traffic("inputs", 2.5, 6.0), &traffic("predictions", 2.5, 6.0));
    let mut second = Daemon::start(&config, &args);
    let addr = ready(&mut second, deadline);
    wait_until(deadline, "windows up to hour 5 in the observations file", || {
        let windows = per_window(&before_hour(&sorted_lines(&observations), 5));
        (windows.len() == 10).then_some(())
    });
    assert_eq!((late(&addr, "inputs"), late(&addr, "predictions")), (0, 0));
    second.signal("TERM");
    assert_eq!(second.wait_exit(Duration::from_secs(10)), Some(0), "{}", second.rest().join("\n"));

    let expected =
        before_hour(&replayed(dir.path(), &traffic("inputs", 0.0, 6.0), &traffic("predictions", 0.0, 6.0)), 5);
    assert_eq!(before_hour(&sorted_lines(&observations), 5), expected);
}

fn produce_spread(broker: &Broker, topics: &Topics, inputs: &[String], predictions: &[String]) {
    std::thread::scope(|s| {
        s.spawn(|| broker.produce(&topics.inputs, &spread(inputs, 3)));
        s.spawn(|| broker.produce(&topics.predictions, &spread(predictions, 3)));
    });
}

#[test]
fn kill_9_and_restart_with_the_default_session_timeout_gives_the_uninterrupted_observations() {
    kill_9_and_restart("restart-dynamic", false);
}

#[test]
fn kill_9_and_restart_as_the_same_static_member_gives_the_uninterrupted_observations() {
    kill_9_and_restart("restart-static", true);
}

/// A live producer stamps event times from the wall clock on three partitions, every 50 ms;
/// partition 2 goes quiet for 8 s in the middle. Once caught up and silent for the idle
/// timeout it is idle — left out of the watermark — so the windows keep closing with the other
/// two; when it speaks again it is active again and none of its records is late. At the end
/// (every partition idle: processing time closes the last window) each window holds exactly
/// the events produced for its interval.
#[test]
fn a_quiet_partition_goes_idle_without_holding_the_windows_and_comes_back_without_losing_events() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("quiet", 3);
    let config = kafka_config(dir.path(), &broker, &topics, "driftd-quiet", "state");
    edit(
        &config,
        "size: 1h, allowed_lateness: 1m, idle_timeout: 0s",
        "size: 2s, allowed_lateness: 500ms, idle_timeout: 1s",
    );
    edit(&config, "format: rfc3339", "format: epoch_ms");
    let observations = dir.path().join("observations.jsonl");
    let mut daemon = Daemon::start(&config, &["--observations", observations.to_str().unwrap()]);
    let addr = ready(&mut daemon, deadline);

    const STEPS: usize = 320;
    let quiet = |step: usize| (80..240).contains(&step);
    let template = traffic("inputs", 0.0, 24.0);
    let producing = std::sync::atomic::AtomicBool::new(true);
    let (produced, closed_while_idle) = std::thread::scope(|s| {
        let producer = s.spawn(|| {
            use rdkafka::producer::{BaseRecord, Producer};
            let producer = broker.producer();
            let mut produced: Vec<i64> = Vec::new();
            for step in 0..STEPS {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
                for partition in (0..3).filter(|&p| p != 2 || !quiet(step)) {
                    let mut v: Value = serde_json::from_str(&template[produced.len() % template.len()]).unwrap();
                    v["ts"] = Value::from(now as i64);
                    let payload = v.to_string();
                    let record =
                        BaseRecord::<[u8], [u8]>::to(&topics.inputs).payload(payload.as_bytes()).partition(partition);
                    producer.send(record).map_err(|(e, _)| e).unwrap();
                    produced.push(now as i64);
                }
                // The traffic's pace: 60 messages a second.
                std::thread::sleep(Duration::from_millis(50));
            }
            producer.flush(Duration::from_secs(30)).unwrap();
            producing.store(false, std::sync::atomic::Ordering::Release);
            produced
        });
        // While partition 2 is idle, windows close: (windows closed when it was first seen
        // idle, the most seen closed while it still was).
        let mut seen: Option<(u64, u64)> = None;
        while producing.load(std::sync::atomic::Ordering::Acquire) {
            let status = stream_status(&addr, "inputs");
            let idle = status["watermark"]["partitions"].as_array().and_then(|ps| ps.get(2)).map(|p| p["idle"] == true);
            let closed = status["windows_closed"].as_u64().unwrap();
            if idle == Some(true) {
                seen = Some(seen.map_or((closed, closed), |(first, _)| (first, closed)));
            }
            assert!(Instant::now() < deadline, "the producer overran the deadline");
            std::thread::sleep(Duration::from_millis(100));
        }
        (producer.join().unwrap(), seen)
    });
    let (first, most) = closed_while_idle.expect("partition 2 was never idle while quiet");
    assert!(most > first, "no window closed while partition 2 was idle ({first} then {most})");

    wait_received(&addr, produced.len(), 0, deadline);
    // Every window of the produced interval closed: the last by processing time.
    let mut expected: BTreeMap<i64, u64> = BTreeMap::new();
    for t in &produced {
        *expected.entry(t.div_euclid(2000) * 2000).or_default() += 1;
    }
    let windows = |lines: &[String]| -> BTreeMap<i64, u64> {
        lines
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["stream"] == "inputs")
            .map(|v| (v["window"]["start_ms"].as_i64().unwrap(), v["window"]["events"].as_u64().unwrap()))
            .collect()
    };
    let got = wait_until(deadline, "every window closed", || {
        let got = windows(&sorted_lines(&observations));
        (got.len() == expected.len()).then_some(got)
    });
    assert_eq!(late(&addr, "inputs"), 0);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    assert_eq!(got, expected, "events per window: got vs produced");
    assert_published_once(&sorted_lines(&observations));
}
