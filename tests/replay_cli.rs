//! `driftd replay --config PATH`, run as a user would: the quickstart's windows and summary,
//! the `--output` observations against `driftd compare` on the same rows, bad rows, and the
//! one-line error for a configuration replay cannot run.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn driftd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftd")).current_dir(repo()).args(args).output().expect("run driftd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// (stream, window start, verdict) of every window line.
fn windows(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("credit-scoring ") && l.contains(" events "))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let start = fields[2].split('–').next().unwrap().to_string();
            let verdict = l.split(" events  ").nth(1).unwrap().to_string();
            (fields[1].to_string(), start, verdict)
        })
        .collect()
}

#[test]
fn the_quickstart_drifts_from_noon_and_its_observations_match_compare() {
    let dir = tempfile::tempdir().unwrap();
    let observations = dir.path().join("observations.jsonl");
    let output =
        driftd(&["replay", "--config", "examples/quickstart/driftd.yaml", "--output", observations.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));

    let windows = windows(&stdout);
    for stream in ["inputs", "predictions"] {
        let of_stream: Vec<_> = windows.iter().filter(|w| w.0 == stream).collect();
        assert_eq!(of_stream.len(), 24, "{stdout}");
        for (_, start, verdict) in of_stream {
            // RFC 3339 UTC with the same layout: text order is time order.
            if start.as_str() < "2026-11-01T12:00:00Z" {
                assert_eq!(verdict, "ok", "{start}: {verdict}");
            } else {
                let flagged = if stream == "inputs" { "income psi=" } else { "score psi=" };
                assert!(verdict.starts_with("DRIFT") && verdict.contains(flagged), "{start}: {verdict}");
            }
        }
    }
    for stream in ["inputs", "predictions"] {
        let line = format!("  {stream}: 7200 records read, 7200 accepted, 0 late, 0 invalid;");
        assert!(stdout.contains(&line), "{stdout}");
        assert!(stdout
            .contains(&format!("  {stream}: 24 windows closed, 12 with drift; first drift in 2026-11-01T12:00:00Z")));
    }

    // Every observation line parses; 24 windows × (9 features + 1 prediction) × their stats.
    let lines: Vec<Value> =
        std::fs::read_to_string(&observations).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert_eq!(line["monitor"], "credit-scoring");
        assert!(line["value"].is_number() || line["value"].is_null());
    }

    // The 13:00–14:00 inputs window, recomputed by `driftd compare` on the same rows.
    let start = "2026-11-01T13:00:00Z";
    let rows: String = std::fs::read_to_string(repo().join("examples/quickstart/inputs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| {
            let ts = v["ts"].as_str().unwrap();
            ("2026-11-01T13:00:00".."2026-11-01T14:00:00").contains(&ts)
        })
        .map(|v| v["features"].to_string() + "\n")
        .collect();
    let current = dir.path().join("window.jsonl");
    std::fs::write(&current, rows).unwrap();
    let columns = ["income", "region", "loan_purpose", "age"];
    let compare = driftd(&[
        "compare",
        "--reference",
        "examples/data/credit_reference.csv",
        "--current",
        current.to_str().unwrap(),
        "--format",
        "json",
        "--columns",
        &columns.join(","),
    ]);
    assert_eq!(compare.status.code(), Some(0), "{}", text(&compare.stderr));
    let report: Value = serde_json::from_slice(&compare.stdout).unwrap();
    for column in columns {
        let replayed = lines
            .iter()
            .find(|l| {
                l["stream"] == "inputs" && l["feature"] == column && l["stat"] == "psi" && l["window"]["start"] == start
            })
            .unwrap_or_else(|| panic!("no psi for {column}"));
        let expected = report["columns"][column]["psi"]["value"].as_f64().unwrap();
        assert_eq!(replayed["value"].as_f64().unwrap(), expected, "{column}");
        assert_eq!(replayed["n"], report["columns"][column]["n_cur"], "{column}");
    }
}

#[test]
fn a_kafka_source_is_one_line_and_exit_2() {
    let output = driftd(&["replay", "--config", "examples/kafka/driftd.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("replay supports file sources only (use `driftd run`)"), "{stderr}");
}

/// Bad rows are counted by reason, the first five logged with their line, and never fatal.
#[test]
fn bad_rows_are_counted_and_the_first_five_logged() {
    let dir = tempfile::tempdir().unwrap();
    let reference = repo().join("examples/data/credit_reference.csv");
    let predictions = std::fs::read_to_string(repo().join("examples/quickstart/predictions.jsonl")).unwrap();
    let mut lines: Vec<String> = predictions.lines().take(20).map(str::to_string).collect();
    // Lines 21–27: five with no event time, two not JSON.
    for _ in 0..5 {
        lines.push(r#"{"score": 0.5}"#.into());
    }
    lines.push("not json".into());
    lines.push("{".into());
    std::fs::write(dir.path().join("predictions.jsonl"), lines.join("\n") + "\n").unwrap();
    let config = dir.path().join("driftd.yaml");
    std::fs::write(
        &config,
        format!(
            "monitors:\n  - name: m\n    reference:\n      dataset: {{ path: '{}', predictions: [score] }}\n    \
             window: {{ kind: tumbling, size: 1h }}\n    streams:\n      predictions:\n        \
             source: {{ file: {{ path: predictions.jsonl, format: jsonl }} }}\n        \
             event_time: {{ field: /ts, format: rfc3339 }}\n        prediction: {{ pointer: /score, kind: score }}\n",
            reference.display()
        ),
    )
    .unwrap();
    let output = driftd(&["replay", "--config", config.to_str().unwrap()]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("predictions: 27 records read, 20 accepted, 0 late, 7 invalid"), "{stdout}");
    assert!(stdout.contains("invalid_json 2") && stdout.contains("missing_event_time 5"), "{stdout}");
    for line in 21..=25 {
        assert!(stderr.contains(&format!("line {line}:")), "{stderr}");
    }
    assert!(!stderr.contains("line 26:") && stderr.contains("2 more bad rows"), "{stderr}");
}
