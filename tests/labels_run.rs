//! Delayed labels in `driftd run`: the quick start with its labels (examples/quickstart/
//! performance.yaml) joins them, publishes each hour's performance (the final versions equal
//! scikit-learn's on the same join, tests/data/labels/quickstart.json), fires the rule on ROC
//! AUC with a retraining trigger that cites it, and — killed with SIGKILL mid-run and restarted
//! — publishes exactly the final versions of an uninterrupted run, each once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use common::repo;
use serde_json::Value;

const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// The performance quick start copied into `dir` (state and action files under `dir`).
fn quickstart(dir: &Path) -> PathBuf {
    let quickstart = repo().join("examples/quickstart");
    for file in ["inputs.jsonl", "predictions.jsonl", "labels.jsonl", "rules.yaml", "performance-rules.yaml"] {
        std::fs::copy(quickstart.join(file), dir.join(file)).unwrap();
    }
    let reference = repo().join("examples/data/credit_reference.csv");
    let text = std::fs::read_to_string(quickstart.join("performance.yaml"))
        .unwrap()
        .replace("listen: 127.0.0.1:9464", "listen: 127.0.0.1:0")
        .replace("path: ../data/credit_reference.csv", &format!("path: {}", reference.display()));
    assert!(text.contains("listen: 127.0.0.1:0"));
    let path = dir.join("performance.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(config: &Path, args: &[&str]) -> Child {
    let run = ["run", "--config", config.to_str().unwrap(), "--log-format", "json"];
    common::spawn_driftd(&[&run[..], args].concat(), RUN_DEADLINE)
}

fn finish(child: Child) -> Output {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "driftd run failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn labels_observations(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["stream"] == "labels")
        .collect()
}

/// (window start, stat) → value of the final versions; each (window, stat, version) once.
fn finals(observations: &[Value]) -> BTreeMap<(i64, String), Option<f64>> {
    let mut seen = BTreeSet::new();
    let mut finals = BTreeMap::new();
    for o in observations {
        let key = (o["window"]["start_ms"].as_i64().unwrap(), o["stat"].as_str().unwrap().to_string());
        let version = o["performance"]["version"].as_u64().unwrap();
        assert!(seen.insert((key.clone(), version)), "{key:?} version {version} published twice");
        if o["performance"]["final"] == true {
            assert!(finals.insert(key.clone(), o["value"].as_f64()).is_none(), "{key:?}: two final versions");
        }
    }
    finals
}

#[test]
fn labels_are_joined_the_rule_on_roc_auc_fires_and_cites_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart(dir.path());
    let observations = dir.path().join("observations.jsonl");
    finish(start(&config, &["--observations", observations.to_str().unwrap()]));
    let got = finals(&labels_observations(&observations));
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/labels/quickstart.json")).unwrap())
            .unwrap();
    let mut compared = 0;
    for window in expected["windows"].as_array().unwrap() {
        let start = window["start_ms"].as_i64().unwrap();
        for (stat, want) in window["values"].as_object().unwrap() {
            let value = got.get(&(start, stat.clone())).unwrap_or_else(|| panic!("no final {stat} at {start}"));
            match (value, want.as_f64()) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{stat} at {start}: {a} vs {b}")
                }
                (a, b) => assert_eq!(*a, b, "{stat} at {start}"),
            }
            compared += 1;
        }
    }
    assert_eq!(compared, got.len());
    // The retraining trigger of the performance rule, with the window's ROC AUC as evidence.
    let triggers = std::fs::read_to_string(dir.path().join("driftd-state/retrain-performance.jsonl")).unwrap();
    let first: Value = serde_json::from_str(triggers.lines().next().unwrap()).unwrap();
    let text = first.to_string();
    assert!(text.contains("score_auc_low") && text.contains("roc_auc"), "{text}");
    let alert = &first["alerts"][0];
    assert_eq!(alert["key"]["stream"], "labels");
    let auc = alert["value"].as_f64().unwrap();
    assert!(auc < 0.58, "{alert}");
    // The evidence carries the window's final performance, the value the rule saw among it.
    let performance = &first["evidence"]["performance"];
    assert_eq!(performance["final"], true, "{performance}");
    assert_eq!(performance["metrics"]["roc_auc"].as_f64(), Some(auc));
    assert!(performance["labelled"].as_u64().unwrap() >= 200);
}

#[test]
fn kill_9_with_labels_pending_and_restart_publishes_the_final_versions_of_an_uninterrupted_run() {
    let whole = tempfile::tempdir().unwrap();
    let config = quickstart(whole.path());
    let observations = whole.path().join("observations.jsonl");
    finish(start(&config, &["--observations", observations.to_str().unwrap()]));
    let expected = finals(&labels_observations(&observations));
    assert_eq!(expected.len(), 24 * 10);

    let dir = tempfile::tempdir().unwrap();
    let config = quickstart(dir.path());
    let observations = dir.path().join("observations.jsonl");
    let obs = observations.to_str().unwrap();
    let mut child = start(&config, &["--observations", obs, "--max-rate", "2000"]);
    let deadline = Instant::now() + RUN_DEADLINE;
    // Killed once some windows' performance is out and others still wait for their labels.
    while labels_observations(&observations).iter().filter(|o| o["stat"] == "roc_auc").count() < 6 {
        assert!(child.try_wait().unwrap().is_none(), "driftd ended before it was killed");
        assert!(Instant::now() < deadline, "too few versions published before the deadline");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let _ = child.wait_with_output().unwrap();
    let before = finals(&labels_observations(&observations)).len();
    assert!(before < expected.len(), "the run was not interrupted part-way");

    let second = finish(start(&config, &["--observations", obs]));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("Resumed from the predictions' checkpoint."), "{stderr}");
    assert_eq!(finals(&labels_observations(&observations)), expected);
}
