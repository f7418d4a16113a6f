//! Delayed labels joined to predictions, end to end: `driftd replay` of the quick start with its
//! labels (examples/quickstart/performance.yaml) gives, per hour of predictions, the final
//! performance scikit-learn computes on the same join (tests/reference/labels_join.py →
//! tests/data/labels/quickstart.json), and the performance drop after noon.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn replayed_performance_equals_scikit_learn_on_the_same_join() {
    let dir = tempfile::tempdir().unwrap();
    let observations = dir.path().join("observations.jsonl");
    let output = Command::new(env!("CARGO_BIN_EXE_driftd"))
        .current_dir(repo())
        .args(["replay", "--config", "examples/quickstart/performance.yaml", "--output"])
        .arg(&observations)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("tests/data/labels/quickstart.json")).unwrap())
            .unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&observations)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|o: &Value| o["stream"] == "labels")
        .collect();
    let windows = expected["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 24);
    for window in windows {
        let start = window["start_ms"].as_i64().unwrap();
        let finals: Vec<&Value> =
            lines.iter().filter(|o| o["window"]["start_ms"] == start && o["performance"]["final"] == true).collect();
        let values = window["values"].as_object().unwrap();
        assert_eq!(finals.len(), values.len(), "one final observation per metric, window {start}");
        for o in finals {
            let stat = o["stat"].as_str().unwrap();
            assert_eq!(o["performance"]["labelled"], window["labelled"], "{stat} at {start}");
            assert_eq!(o["performance"]["predictions"], window["predictions"], "{stat} at {start}");
            match (o["value"].as_f64(), values[stat].as_f64()) {
                (Some(got), Some(want)) => assert!(close(got, want), "{stat} at {start}: {got} vs {want}"),
                (got, want) => assert_eq!(got, want, "{stat} at {start}"),
            }
        }
        // Every window was published once at half labelled, then final; the rules see the final one.
        let versions: Vec<(u64, bool)> = lines
            .iter()
            .filter(|o| o["window"]["start_ms"] == start && o["stat"] == "roc_auc")
            .map(|o| (o["performance"]["version"].as_u64().unwrap(), o["performance"]["for_rules"].as_bool().unwrap()))
            .collect();
        assert_eq!(versions, [(1, false), (2, true)], "window {start}");
    }
    // The drop after noon is what the data says: every hour before it ranks better than every hour after.
    let auc: Vec<f64> = windows.iter().map(|w| w["values"]["roc_auc"].as_f64().unwrap()).collect();
    let (before, after) = auc.split_at(12);
    assert!(before.iter().cloned().fold(f64::INFINITY, f64::min) > after.iter().cloned().fold(0.0, f64::max));
    // The summary accounts for every label.
    let summary = stdout.lines().find(|l| l.trim_start().starts_with("labels:") && l.contains("joined")).unwrap();
    assert!(summary.contains("0 pending"), "{summary}");
}
