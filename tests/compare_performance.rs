//! `driftd compare --target --prediction` as a user runs it, against the scikit-learn values
//! of tests/reference/performance.py (tests/data/performance/<case>/expected.json): every
//! case, each prediction column (score, label, regression value), CSV, Parquet and JSON Lines;
//! the text and HTML tables; one clear error line for each kind of bad target or prediction.

mod common;
use common::{assert_input_error, stderr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn driftd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftd")).args(args).output().expect("run driftd")
}

fn case_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/performance").join(name)
}

/// The `performance` object of a JSON report.
fn performance(reference: &Path, current: &Path, target: &str, prediction: &str, extra: &[&str]) -> Value {
    let (r, c) = (reference.display().to_string(), current.display().to_string());
    let mut args = vec!["compare", "--reference", &r, "--current", &c, "--format", "json"];
    args.extend(["--target", target, "--prediction", prediction]);
    args.extend(extra);
    let out = driftd(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["performance"].clone()
}

/// Relative difference within 1e-12 (the values are bit-identical today; the tolerance only
/// allows for a libm `log` that rounds differently), null for null.
fn assert_close(got: &Value, want: &Value, what: &str) {
    match (got.as_f64(), want.as_f64()) {
        (None, None) => assert!(got.is_null() && want.is_null(), "{what}: {got} vs {want}"),
        (Some(g), Some(w)) => {
            let scale = g.abs().max(w.abs());
            assert!(g == w || (g - w).abs() <= 1e-12 * scale, "{what}: driftd {g:?}, scikit-learn {w:?}");
        }
        _ => panic!("{what}: driftd {got}, scikit-learn {want}"),
    }
}

/// Every metric of `expected[prediction_key]` against the report, and the differences.
fn check(case: &str, report: &Value, expected: &Value, prediction_key: &str) {
    let sides = &expected[prediction_key];
    for side in ["reference", "current"] {
        let want = &sides[side];
        let got = &report[side];
        assert_eq!(got["n"], want["n"], "{case} {prediction_key} {side}: n");
        assert_eq!(got["n_excluded"], want["n_excluded"], "{case} {prediction_key} {side}: n_excluded");
        for (metric, entry) in want.as_object().unwrap().iter().filter(|(_, v)| v.is_object()) {
            let what = format!("{case} {prediction_key} {side} {metric} ({})", entry["call"]);
            assert_close(&got[metric], &entry["value"], &what);
        }
        let reported =
            got.as_object().unwrap().keys().filter(|k| !["n", "n_excluded", "confusion"].contains(&k.as_str()));
        assert_eq!(reported.count(), want.as_object().unwrap().values().filter(|v| v.is_object()).count());
    }
    for (metric, difference) in report["difference"].as_object().unwrap() {
        let (r, c) = (report["reference"][metric].as_f64(), report["current"][metric].as_f64());
        match (r, c) {
            (Some(r), Some(c)) => assert_eq!(difference.as_f64(), Some(c - r), "{case} {metric}"),
            _ => assert!(difference.is_null(), "{case} {metric}: {difference}"),
        }
    }
}

fn expected(case: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(case_dir(case).join("expected.json")).unwrap()).unwrap()
}

const CASES: [&str; 7] = [
    "classifier_shift",
    "classifier_ties",
    "classifier_one_class",
    "classifier_all_correct",
    "classifier_extreme",
    "regressor_shift",
    "regressor_zero_targets",
];

#[test]
fn every_case_matches_scikit_learn() {
    for case in CASES {
        let (dir, want) = (case_dir(case), expected(case));
        let (reference, current) = (dir.join("reference.csv"), dir.join("current.csv"));
        if want["task"] == "classification" {
            // Scores of only 0 and 1 (all_correct, extreme) would be taken for labels.
            let scores = performance(&reference, &current, "target", "score", &["--prediction-type", "score"]);
            assert_eq!((&scores["task"], &scores["prediction_type"]), (&"classification".into(), &"score".into()));
            assert_eq!(scores["threshold"], 0.5);
            check(case, &scores, &want, "score");
            let labels = performance(&reference, &current, "target", "label", &[]);
            assert_eq!(labels["prediction_type"], "label", "{case}");
            check(case, &labels, &want, "label");
        } else {
            let values = performance(&reference, &current, "target", "prediction", &[]);
            assert_eq!((&values["task"], &values["prediction_type"]), (&"regression".into(), &"value".into()));
            check(case, &values, &want, "prediction");
        }
    }
}

#[test]
fn one_class_absent_gives_null_roc_auc() {
    let dir = case_dir("classifier_one_class");
    let p = performance(&dir.join("reference.csv"), &dir.join("current.csv"), "target", "score", &[]);
    assert!(p["reference"]["roc_auc"].is_f64());
    assert!(p["current"]["roc_auc"].is_null() && p["difference"]["roc_auc"].is_null());
    assert_eq!(p["current"]["precision"], 0.0, "zero_division=0");
}

#[test]
fn parquet_gives_the_same_numbers_as_csv() {
    for (case, prediction) in
        [("classifier_shift", "score"), ("classifier_shift", "label"), ("regressor_shift", "prediction")]
    {
        let dir = case_dir(case);
        let csv = performance(&dir.join("reference.csv"), &dir.join("current.csv"), "target", prediction, &[]);
        let parquet =
            performance(&dir.join("reference.parquet"), &dir.join("current.parquet"), "target", prediction, &[]);
        assert_eq!(csv, parquet, "{case} {prediction}");
    }
}

#[test]
fn json_lines_give_the_same_numbers_as_csv() {
    let dir = case_dir("classifier_shift");
    let tmp = tempfile::tempdir().unwrap();
    // The CSV cells as JSON: numbers as numbers, empty as null, NaN / inf as the strings.
    let convert = |stem: &str| {
        let text = std::fs::read_to_string(dir.join(format!("{stem}.csv"))).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let rows: Vec<String> = lines
            .map(|line| {
                let object: serde_json::Map<String, Value> = header
                    .iter()
                    .zip(line.split(','))
                    .map(|(name, cell)| {
                        let value = match cell.parse::<f64>() {
                            _ if cell.is_empty() => Value::Null,
                            Ok(v) if v.is_finite() => serde_json::json!(v),
                            _ => Value::String(cell.to_string()),
                        };
                        (name.to_string(), value)
                    })
                    .collect();
                serde_json::to_string(&object).unwrap()
            })
            .collect();
        let path = tmp.path().join(format!("{stem}.jsonl"));
        std::fs::write(&path, rows.join("\n") + "\n").unwrap();
        path
    };
    let (reference, current) = (convert("reference"), convert("current"));
    for prediction in ["score", "label"] {
        let jsonl = performance(&reference, &current, "target", prediction, &[]);
        let csv = performance(&dir.join("reference.csv"), &dir.join("current.csv"), "target", prediction, &[]);
        assert_eq!(jsonl, csv, "{prediction}");
    }
}

#[test]
fn the_threshold_moves_the_labels_only() {
    let dir = case_dir("classifier_shift");
    let (r, c) = (dir.join("reference.csv"), dir.join("current.csv"));
    let half = performance(&r, &c, "target", "score", &[]);
    let strict = performance(&r, &c, "target", "score", &["--decision-threshold", "0.9"]);
    assert_eq!(strict["threshold"], 0.9);
    assert_eq!(half["reference"]["roc_auc"], strict["reference"]["roc_auc"]);
    assert_ne!(half["reference"]["accuracy"], strict["reference"]["accuracy"]);
}

#[test]
fn text_and_html_show_the_table() {
    let dir = case_dir("classifier_shift");
    let (r, c) = (dir.join("reference.csv").display().to_string(), dir.join("current.csv").display().to_string());
    let base = ["compare", "--reference", &r, "--current", &c, "--target", "target", "--prediction", "score"];
    let text = driftd(&[&base[..], &["--format", "text"]].concat());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Model performance: target \"target\", prediction \"score\""), "{text}");
    let auc = expected("classifier_shift")["score"]["reference"]["roc_auc"]["value"].as_f64().unwrap();
    assert!(text.lines().any(|l| l.starts_with("ROC AUC") && l.contains(&format!("{auc:.4}"))), "{text}");
    let html = driftd(&[&base[..], &["--format", "html"]].concat());
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.contains("<section id=\"performance\">") && html.contains("<td>ROC AUC</td>"));
    // Without --target the reports are as before: no performance key.
    let plain = driftd(&["compare", "--reference", &r, "--current", &c, "--format", "json"]);
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(plain.get("performance").is_none());
}

#[test]
fn bad_targets_and_predictions_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let good = write("good.csv", "y,p,q\n0,0.2,a\n1,0.8,b\n");
    let run = |current: &str, extra: &[&str]| {
        let args = ["compare", "--reference", &good, "--current", current, "--target", "y", "--prediction", "p"];
        driftd(&[&args[..], extra].concat())
    };
    // A missing column, named.
    let out = driftd(&["compare", "--reference", &good, "--current", &good, "--target", "y", "--prediction", "nope"]);
    assert_input_error(&out, &["good.csv", "\"nope\"", "not found"]);
    // A class that is not 0/1 when classification is asked for.
    let three = write("three.csv", "y,p,q\n0,0.2,a\n2,0.8,b\n");
    assert_input_error(&run(&three, &["--task", "classification"]), &["three.csv", "line 3", "\"y\"", "2", "0 or 1"]);
    // auto: not only 0/1, so a regression; a text target is then an error.
    let text = write("text.csv", "y,p,q\n0,0.2,a\nyes,0.8,b\n");
    assert_input_error(&run(&text, &[]), &["text.csv", "line 3", "column \"y\"", "\"yes\"", "must be a number"]);
    // A text score.
    let score = write("score.csv", "y,p,q\n0,high,a\n1,0.8,b\n");
    assert_input_error(
        &run(&score, &[]),
        &["score.csv", "line 2", "column \"p\"", "\"high\"", "a score must be a number"],
    );
    // A non-numeric regression prediction.
    let regression = write("regression.csv", "y,p,q\n3.5,x,a\n1,0.8,b\n");
    assert_input_error(&run(&regression, &["--task", "regression"]), &["regression.csv", "column \"p\"", "\"x\""]);
    // A predicted label that is not 0/1.
    let label = write("label.csv", "y,p,q\n0,0.2,a\n1,0.8,b\n");
    // The reference is checked first, and it has scores too.
    assert_input_error(
        &run(&label, &["--prediction-type", "label"]),
        &["good.csv", "line 2", "\"p\"", "0.2", "0 or 1"],
    );
    // --prediction needs --target (a usage error, exit 2).
    let out = driftd(&["compare", "--reference", &good, "--current", &good, "--prediction", "p"]);
    assert_eq!(out.status.code(), Some(2));
    // A Parquet column of an unusable type is named.
    let dir = case_dir("classifier_shift");
    let parquet = dir.join("current.parquet").display().to_string();
    let out = driftd(&[
        "compare",
        "--reference",
        &parquet,
        "--current",
        &parquet,
        "--target",
        "target",
        "--prediction",
        "nope",
    ]);
    assert_input_error(&out, &["current.parquet", "\"nope\""]);
}

#[test]
fn arrow_ipc_gives_the_same_numbers_as_parquet() {
    use arrow_ipc::writer::{FileWriter, StreamWriter};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let (dir, tmp) = (case_dir("classifier_shift"), tempfile::tempdir().unwrap());
    // Both IPC layouts: the reference as a file, the current as a stream.
    let batches = |stem: &str| {
        let file = std::fs::File::open(dir.join(format!("{stem}.parquet"))).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().with_batch_size(100).build().unwrap();
        reader.map(Result::unwrap).collect::<Vec<_>>()
    };
    let (reference, current) = (tmp.path().join("reference.arrow"), tmp.path().join("current.arrows"));
    let rows = batches("reference");
    let mut writer = FileWriter::try_new(std::fs::File::create(&reference).unwrap(), &rows[0].schema()).unwrap();
    rows.iter().for_each(|b| writer.write(b).unwrap());
    writer.finish().unwrap();
    let rows = batches("current");
    let mut writer = StreamWriter::try_new(std::fs::File::create(&current).unwrap(), &rows[0].schema()).unwrap();
    rows.iter().for_each(|b| writer.write(b).unwrap());
    writer.finish().unwrap();
    for prediction in ["score", "label"] {
        let ipc = performance(&reference, &current, "target", prediction, &[]);
        let parquet =
            performance(&dir.join("reference.parquet"), &dir.join("current.parquet"), "target", prediction, &[]);
        assert_eq!(ipc, parquet, "{prediction}");
    }
}

#[test]
fn typed_boolean_columns_are_classes() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch};
    use parquet::arrow::ArrowWriter;
    // The CSV of the same rows with 0/1: booleans must give the same numbers.
    let tmp = tempfile::tempdir().unwrap();
    let y = [Some(true), Some(false), None, Some(true), Some(false), Some(true)];
    let p = [0.9, 0.2, 0.5, 0.4, 0.6, 0.7];
    let label = [Some(true), Some(false), Some(true), None, Some(true), Some(true)];
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("y", Arc::new(BooleanArray::from(y.to_vec()))),
        ("p", Arc::new(Float64Array::from(p.to_vec()))),
        ("label", Arc::new(BooleanArray::from(label.to_vec()))),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let parquet = tmp.path().join("typed.parquet");
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&parquet).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let cell = |b: Option<bool>| b.map_or(String::new(), |b| u8::from(b).to_string());
    let mut csv = String::from("y,p,label\n");
    for i in 0..y.len() {
        csv += &format!("{},{},{}\n", cell(y[i]), p[i], cell(label[i]));
    }
    let csv_path = tmp.path().join("typed.csv");
    std::fs::write(&csv_path, csv).unwrap();
    for prediction in ["p", "label"] {
        let typed = performance(&parquet, &parquet, "y", prediction, &[]);
        assert_eq!(typed["task"], "classification");
        assert_eq!(typed, performance(&csv_path, &csv_path, "y", prediction, &[]), "{prediction}");
    }
}
