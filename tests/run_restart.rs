//! Durable checkpoints of `driftd run`: the quickstart run once without interruption, and once
//! interrupted (kill -9, or SIGTERM) after some windows and restarted, give exactly the same
//! observations — same windows, same values, none twice. A source file changed since its
//! checkpoint is refused (exit 2) unless `--reset-state`. Every wait has a deadline, and a
//! watchdog kills a daemon that overruns.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use common::repo;
use serde_json::Value;

/// Longest one daemon run may take (fitting the reference in a debug build included).
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// Windows of the quickstart: 24 hourly windows for each of the two streams.
const WINDOWS: usize = 48;

/// The quickstart copied into `dir`: its two files, and its configuration with the reference
/// at its absolute path, an ephemeral port, and `state.path` (relative: `dir/driftd-state`).
fn quickstart(dir: &Path) -> PathBuf {
    let quickstart = repo().join("examples/quickstart");
    for file in ["inputs.jsonl", "predictions.jsonl"] {
        std::fs::copy(quickstart.join(file), dir.join(file)).unwrap();
    }
    let text = std::fs::read_to_string(quickstart.join("driftd.yaml")).unwrap();
    common::copy_quickstart_rules(dir);
    let reference = repo().join("examples/data/credit_reference.csv");
    let text = text
        .replace("listen: 127.0.0.1:9464", "listen: 127.0.0.1:0")
        .replace("path: ../data/credit_reference.csv", &format!("path: {}", reference.display()));
    assert!(text.contains("listen: 127.0.0.1:0") && text.contains("path: driftd-state"));
    let path = dir.join("driftd.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `driftd run` started, with a watchdog that SIGKILLs it past the deadline.
fn start(config: &Path, args: &[&str]) -> Child {
    let run = ["run", "--config", config.to_str().unwrap(), "--log-format", "json"];
    common::spawn_driftd(&[&run[..], args].concat(), RUN_DEADLINE)
}

/// Waits for the daemon's exit (the watchdog bounds the wait).
fn finish(child: Child) -> Output {
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < RUN_DEADLINE, "driftd overran its deadline");
    output
}

/// One full run to the end; exits 0.
fn run_to_end(config: &Path, args: &[&str]) -> Output {
    let output = finish(start(config, args));
    assert!(output.status.success(), "driftd run failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_string).collect()
}

/// The distinct windows (stream, start) of complete lines in an observations file.
fn windows(lines: &[String]) -> BTreeSet<(String, i64)> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| (v["stream"].as_str().unwrap().to_string(), v["window"]["start_ms"].as_i64().unwrap()))
        .collect()
}

/// Each observation is (monitor, stream, window, feature, stat): no key twice.
fn assert_no_duplicates(lines: &[String]) {
    let mut keys = BTreeSet::new();
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap();
        let key = (
            v["stream"].to_string(),
            v["window"]["start_ms"].to_string(),
            v["feature"].to_string(),
            v["stat"].to_string(),
        );
        assert!(keys.insert(key.clone()), "observation {key:?} published twice");
    }
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

/// The uninterrupted run's observations, sorted (the two streams interleave freely).
fn uninterrupted() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart(dir.path());
    let observations = dir.path().join("observations.jsonl");
    run_to_end(&config, &["--observations", observations.to_str().unwrap()]);
    let lines = lines(&observations);
    assert_eq!(windows(&lines).len(), WINDOWS);
    assert_no_duplicates(&lines);
    sorted(lines)
}

/// Starts a paced run, interrupts it with `signal` once at least 10 windows are published,
/// restarts it (unpaced) to the end, and checks the observations against an uninterrupted run.
fn interrupted_and_resumed(signal: &str) {
    let expected = uninterrupted();
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart(dir.path());
    let observations = dir.path().join("observations.jsonl");
    let obs = observations.to_str().unwrap();

    let mut child = start(&config, &["--observations", obs, "--max-rate", "3000"]);
    let deadline = Instant::now() + RUN_DEADLINE;
    while windows(&lines(&observations)).len() < 10 {
        assert!(child.try_wait().unwrap().is_none(), "driftd ended before it was interrupted");
        assert!(Instant::now() < deadline, "fewer than 10 windows published before the deadline");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let first = finish(child);
    let stderr = String::from_utf8_lossy(&first.stderr);
    let published = windows(&lines(&observations)).len();
    assert!(published < WINDOWS, "the run was not interrupted part-way ({published} windows):\n{stderr}");
    if signal == "TERM" {
        assert!(first.status.success(), "SIGTERM is an ordered shutdown:\n{stderr}");
    }

    let second = run_to_end(&config, &["--observations", obs]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("Resumed from the checkpoint."), "{stderr}");
    let got = lines(&observations);
    assert_no_duplicates(&got);
    assert_eq!(windows(&got).len(), WINDOWS);
    assert_eq!(sorted(got), expected, "the interrupted and resumed run differs from the uninterrupted one");

    // A third run finds every stream finished: nothing more is published.
    run_to_end(&config, &["--observations", obs]);
    assert_eq!(sorted(lines(&observations)), expected);
}

#[test]
fn kill_9_mid_run_and_restart_gives_the_observations_of_an_uninterrupted_run() {
    interrupted_and_resumed("KILL");
}

#[test]
fn sigterm_mid_run_and_restart_gives_the_observations_of_an_uninterrupted_run() {
    interrupted_and_resumed("TERM");
}

#[test]
fn a_source_changed_since_its_checkpoint_exits_2_unless_reset_state() {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart(dir.path());
    let observations = dir.path().join("observations.jsonl");
    let obs = observations.to_str().unwrap();
    run_to_end(&config, &["--observations", obs]);
    assert!(dir.path().join("driftd-state/checkpoints.redb").is_file());
    let before = sorted(lines(&observations));

    let inputs = dir.path().join("inputs.jsonl");
    let mut text = std::fs::read_to_string(&inputs).unwrap();
    text.push_str("{\"ts\": \"2026-11-02T00:00:00Z\", \"features\": {}}\n");
    std::fs::write(&inputs, text).unwrap();

    let refused = finish(start(&config, &["--observations", obs]));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("inputs.jsonl changed since the checkpoint"), "{stderr}");
    assert!(stderr.contains("--reset-state"), "{stderr}");
    assert_eq!(sorted(lines(&observations)), before, "nothing published by a refused run");

    // --reset-state starts over: the whole file again (appended), and new checkpoints.
    let reset = dir.path().join("reset.jsonl");
    run_to_end(&config, &["--observations", reset.to_str().unwrap(), "--reset-state"]);
    let again = lines(&reset);
    assert!(windows(&again).len() >= WINDOWS, "{} windows", windows(&again).len());
    let resumed = run_to_end(&config, &[]);
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("Resumed from the checkpoint."));
}
