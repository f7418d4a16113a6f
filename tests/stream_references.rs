//! References that come from the stream itself, end to end with the quickstart's traffic.
//!
//! Captured (`reference: {capture: {events: N}}`): the captured profile is exactly what
//! `driftd reference fit` gives for a file holding the same N rows; the windows after the
//! capture are exactly those of a replay against that profile over the rest of the traffic;
//! a restart (kill -9) loads the stored reference instead of capturing again, giving the
//! observations of an uninterrupted run.
//!
//! Trailing (`reference: {trailing: {windows: N}}`): a window's observations are exactly those
//! of a replay of that window against a profile `driftd reference fit` makes from the previous
//! N windows' rows; a kill -9 and restart gives the observations of an uninterrupted run.
//! The Kafka variants are in tests/kafka.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use common::repo;
use serde_json::Value;

/// Longest one daemon run may take.
const RUN_DEADLINE: Duration = Duration::from_secs(120);
/// Items captured per stream: the first six hours of the quickstart (300 events an hour).
const CAPTURED: usize = 1800;

/// The quickstart's two files in `dir`, and a configuration capturing its reference from the
/// first [`CAPTURED`] items of each stream.
fn capture_config(dir: &Path) -> PathBuf {
    quickstart_with(dir, &format!("capture: {{ events: {CAPTURED} }}"))
}

/// The quickstart's two files in `dir`, and its configuration with `reference` instead of its
/// dataset (no rules).
fn quickstart_with(dir: &Path, reference: &str) -> PathBuf {
    let quickstart = repo().join("examples/quickstart");
    for file in ["inputs.jsonl", "predictions.jsonl"] {
        std::fs::copy(quickstart.join(file), dir.join(file)).unwrap();
    }
    let text = std::fs::read_to_string(quickstart.join("driftd.yaml")).unwrap();
    let text = text
        .replace("listen: 127.0.0.1:9464", "listen: 127.0.0.1:0")
        .replace("rules: [rules.yaml]", "")
        .replace("dataset: { path: ../data/credit_reference.csv, predictions: [score] }", reference);
    assert!(text.contains(reference));
    let path = dir.join("driftd.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `driftd <args>` with a watchdog that SIGKILLs it past the deadline.
fn start(args: &[&str]) -> Child {
    common::spawn_driftd(args, RUN_DEADLINE)
}

fn finish(child: Child) -> Output {
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < RUN_DEADLINE, "driftd overran its deadline");
    output
}

fn succeed(args: &[&str]) -> Output {
    let output = finish(start(args));
    assert!(output.status.success(), "driftd {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// A run paced at 3000 rows/s, killed (SIGKILL) once 8 windows are published.
fn killed_after_8_windows(config: &Path, observations: &Path) -> Output {
    let mut args = run_args(config, observations);
    args.extend(["--max-rate", "3000"]);
    let mut child = start(&args);
    let deadline = Instant::now() + RUN_DEADLINE;
    while windows(&lines(observations)).len() < 8 {
        assert!(child.try_wait().unwrap().is_none(), "driftd ended before it was interrupted");
        assert!(Instant::now() < deadline, "fewer than 8 windows published before the deadline");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap().success());
    finish(child)
}

fn run_args<'a>(config: &'a Path, observations: &'a Path) -> Vec<&'a str> {
    vec!["run", "--config", config.to_str().unwrap(), "--observations", observations.to_str().unwrap()]
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

fn windows(lines: &[String]) -> std::collections::BTreeSet<(String, i64)> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| (v["stream"].as_str().unwrap().to_string(), v["window"]["start_ms"].as_i64().unwrap()))
        .collect()
}

/// `driftd replay` of the quickstart's inputs in `events` against the profile at `profile`:
/// the observations, sorted.
fn replay_inputs(dir: &Path, profile: &Path, events: &Path) -> Vec<String> {
    let config = format!(
        r#"
state: {{ path: replay-state }}
monitors:
  - name: credit-scoring
    model_version: "2026-11-01"
    reference: {{ profile: '{profile}' }}
    statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger, missing_share]
    window: {{ kind: tumbling, size: 1h, allowed_lateness: 1m }}
    streams:
      inputs:
        source: {{ file: {{ path: '{events}', format: jsonl }} }}
        event_time: {{ field: /ts, format: rfc3339 }}
        features: "*"
"#,
        profile = profile.display(),
        events = events.display(),
    );
    let path = dir.join("replay.yaml");
    std::fs::write(&path, config).unwrap();
    let replayed = dir.join("replayed.jsonl");
    succeed(&["replay", "--config", path.to_str().unwrap(), "--output", replayed.to_str().unwrap()]);
    sorted(lines(&replayed))
}

/// A profile file's streams (what was fit), without its metadata (paths, hashes, times).
fn fitted(path: &Path) -> Value {
    let profile: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    profile["streams"].clone()
}

/// Writes `rows` (JSON objects) as a JSON Lines file.
fn write_rows(path: &Path, rows: impl Iterator<Item = Value>) {
    let text: Vec<String> = rows.map(|r| r.to_string()).collect();
    std::fs::write(path, text.join("\n") + "\n").unwrap();
}

#[test]
fn a_captured_reference_is_what_reference_fit_gives_for_the_same_rows_and_the_rest_is_monitored_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = capture_config(dir.path());
    let observations = dir.path().join("observations.jsonl");
    let output = succeed(&run_args(&config, &observations));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("Reference captured.").count(), 2, "{stderr}");

    // The captured profiles, against `driftd reference fit` over the same rows.
    let captured = dir.path().join("driftd-state/captured");
    let inputs: Vec<Value> =
        lines(&dir.path().join("inputs.jsonl")).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let predictions: Vec<Value> =
        lines(&dir.path().join("predictions.jsonl")).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    write_rows(&dir.path().join("flat_inputs.jsonl"), inputs[..CAPTURED].iter().map(|m| m["features"].clone()));
    write_rows(
        &dir.path().join("flat_predictions.jsonl"),
        predictions[..CAPTURED].iter().map(|m| serde_json::json!({ "score": m["score"] })),
    );
    for (flat, extra) in [("flat_inputs", &[][..]), ("flat_predictions", &["--predictions", "score"][..])] {
        let input = dir.path().join(format!("{flat}.jsonl"));
        let output = dir.path().join(format!("{flat}.profile.json"));
        let mut args =
            vec!["reference", "fit", "--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()];
        args.extend_from_slice(extra);
        succeed(&args);
    }
    assert_eq!(
        fitted(&captured.join("credit-scoring.inputs.json")),
        fitted(&dir.path().join("flat_inputs.profile.json"))
    );
    assert_eq!(
        fitted(&captured.join("credit-scoring.predictions.json")),
        fitted(&dir.path().join("flat_predictions.profile.json"))
    );

    // The windows after the capture: a replay of the remaining inputs against the captured
    // profile gives the same observations.
    let rest = dir.path().join("rest_inputs.jsonl");
    write_rows(&rest, inputs[CAPTURED..].iter().cloned());
    let replayed = replay_inputs(dir.path(), &captured.join("credit-scoring.inputs.json"), &rest);
    let run_inputs: Vec<String> =
        lines(&observations).into_iter().filter(|l| l.contains(r#""stream":"inputs""#)).collect();
    assert_eq!(windows(&run_inputs).len(), 18, "hours 6 to 24 are monitored");
    assert_eq!(sorted(run_inputs), replayed);
}

#[test]
fn a_restart_after_the_capture_uses_the_stored_reference_and_gives_the_observations_of_an_uninterrupted_run() {
    let once = tempfile::tempdir().unwrap();
    let config = capture_config(once.path());
    let observations = once.path().join("observations.jsonl");
    succeed(&run_args(&config, &observations));
    let expected = sorted(lines(&observations));
    assert_eq!(windows(&expected).len(), 36);

    let dir = tempfile::tempdir().unwrap();
    let config = capture_config(dir.path());
    let observations = dir.path().join("observations.jsonl");
    let first = killed_after_8_windows(&config, &observations);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(stderr.matches("Reference captured.").count(), 2, "{stderr}");
    assert!(windows(&lines(&observations)).len() < 36, "the run was not interrupted part-way");

    let second = succeed(&run_args(&config, &observations));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(stderr.matches("Captured reference loaded from the store.").count(), 2, "{stderr}");
    assert!(!stderr.contains("Reference captured."), "captured again after the restart:\n{stderr}");
    assert_eq!(sorted(lines(&observations)), expected, "the resumed run differs from the uninterrupted one");

    // --reset-state forgets the captured references too: the next run captures again.
    let third = succeed(&[&run_args(&config, &observations)[..], &["--reset-state"]].concat());
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert_eq!(stderr.matches("Reference captured.").count(), 2, "{stderr}");
}

#[test]
fn a_file_shorter_than_the_capture_monitors_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = capture_config(dir.path());
    let text = std::fs::read_to_string(&config).unwrap().replace("events: 1800", "events: 100000");
    std::fs::write(&config, text).unwrap();
    let output = succeed(&["replay", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr.contains("ended after 7200 of the 100000 items to capture: no reference, nothing monitored"),
        "{stderr}"
    );
    assert!(stdout.contains("inputs: 0 windows closed"), "{stdout}");
}

/// Trailing windows of the tests below.
const TRAILING: usize = 3;
/// 2026-11-01T00:00:00Z, the quickstart's first hour.
const DAY_START_MS: i64 = 1_793_491_200_000;

/// The `ts` of a quickstart line, in milliseconds.
fn event_ms(line: &Value) -> i64 {
    let ts = line["ts"].as_str().unwrap();
    let (h, m, s): (i64, i64, f64) =
        (ts[11..13].parse().unwrap(), ts[14..16].parse().unwrap(), ts[17..ts.len() - 1].parse().unwrap());
    DAY_START_MS + (h * 3600 + m * 60) * 1000 + (s * 1000.0).round() as i64
}

#[test]
fn a_trailing_window_is_compared_with_what_reference_fit_gives_for_the_previous_windows() {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_with(dir.path(), &format!("trailing: {{ windows: {TRAILING} }}"));
    let observations = dir.path().join("observations.jsonl");
    let output = succeed(&run_args(&config, &observations));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("Trailing reference started.").count(), 2, "{stderr}");
    let published = lines(&observations);
    // The first window of each stream has no reference: 23 windows a stream are published.
    assert_eq!(windows(&published).len(), 46);

    // The window of 12:00 (the shift), by hand: `reference fit` on the inputs of 09:00–12:00
    // in delivery order (the file is sorted by event time in memory, stably), then a replay of
    // the inputs of 12:00–13:00 against it.
    let mut inputs: Vec<Value> =
        lines(&dir.path().join("inputs.jsonl")).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    inputs.sort_by_key(event_ms);
    let hour = |h: i64| DAY_START_MS + h * 3_600_000;
    let (from, at, to) = (hour(12 - TRAILING as i64), hour(12), hour(13));
    let pool = dir.path().join("pool.jsonl");
    write_rows(&pool, inputs.iter().filter(|m| (from..at).contains(&event_ms(m))).map(|m| m["features"].clone()));
    let profile = dir.path().join("pool.profile.json");
    succeed(&["reference", "fit", "--input", pool.to_str().unwrap(), "--output", profile.to_str().unwrap()]);
    let window = dir.path().join("window.jsonl");
    write_rows(&window, inputs.iter().filter(|m| (at..to).contains(&event_ms(m))).cloned());
    let expected = replay_inputs(dir.path(), &profile, &window);
    assert_eq!(windows(&expected).len(), 1);
    let got: Vec<String> = published
        .into_iter()
        .filter(|l| l.contains(r#""stream":"inputs""#))
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["window"]["start_ms"] == at)
        .collect();
    assert_eq!(sorted(got), expected);
}

#[test]
fn a_trailing_reference_resumed_after_kill_9_gives_the_observations_of_an_uninterrupted_run() {
    let trailing = format!("trailing: {{ windows: {TRAILING} }}");
    let once = tempfile::tempdir().unwrap();
    let config = quickstart_with(once.path(), &trailing);
    let observations = once.path().join("observations.jsonl");
    succeed(&run_args(&config, &observations));
    let expected = sorted(lines(&observations));

    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_with(dir.path(), &trailing);
    let observations = dir.path().join("observations.jsonl");
    killed_after_8_windows(&config, &observations);
    assert!(windows(&lines(&observations)).len() < 46, "the run was not interrupted part-way");

    let second = succeed(&run_args(&config, &observations));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(stderr.matches("Trailing reference's features loaded from the store.").count(), 2, "{stderr}");
    assert_eq!(sorted(lines(&observations)), expected, "the resumed run differs from the uninterrupted one");
}

/// The audit's traffic: 25 new keys in each of the first 400 messages (10,000 names beside the
/// quickstart's 8). With `max_features: 40` the captured reference, and so every series and
/// observation, has 40 features; the rest are logged once as `too_many_features`.
#[test]
fn discovered_features_stop_at_the_streams_max_features() {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_with(dir.path(), "capture: { events: 600 }");
    let text = std::fs::read_to_string(&config).unwrap();
    let capped = text.replacen("features: \"*\"", "features: \"*\"\n        max_features: 40", 1);
    assert_ne!(capped, text);
    std::fs::write(&config, capped).unwrap();
    let inputs = dir.path().join("inputs.jsonl");
    let hostile: Vec<String> = std::fs::read_to_string(&inputs)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            if i < 400 {
                for k in 0..25 {
                    v["features"][format!("f{i}_{k}")] = serde_json::json!(k);
                }
            }
            v.to_string()
        })
        .collect();
    std::fs::write(&inputs, hostile.join("\n") + "\n").unwrap();

    let observations = dir.path().join("observations.jsonl");
    let output = succeed(&run_args(&config, &observations));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("too_many_features").count(), 1, "{stderr}");
    let features: std::collections::BTreeSet<String> = lines(&observations)
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["stream"] == "inputs")
        .map(|v| v["feature"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(features.len(), 40, "{features:?}");
    assert_eq!(windows(&lines(&observations)).len(), 2 * 22, "the windows after the 2-hour capture");
}
