//! End-to-end tests of `driftd compare` as a user runs it: output formats, exit codes, the
//! golden JSON schema, and one clear error line (exit 2, no panic) for every kind of bad input.

mod common;
use common::{assert_input_error, stderr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn driftd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftd")).args(args).output().expect("run driftd")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data").join(name).display().to_string()
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[test]
fn json_report_matches_the_golden_schema() {
    let reference = example("credit_reference.csv");
    let current = example("credit_current.csv");
    let out = driftd(&["compare", "--reference", &reference, "--current", &current, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Paths depend on the checkout location.
    report["reference"]["path"] = "credit_reference.csv".into();
    report["current"]["path"] = "credit_current.csv".into();
    let golden_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/credit_compare.json");
    let rendered = serde_json::to_string_pretty(&report).unwrap() + "\n";
    if std::env::var_os("DRIFTD_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &rendered).unwrap();
    }
    let golden = std::fs::read_to_string(&golden_path).expect("golden file (DRIFTD_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(
        rendered, golden,
        "JSON report changed; if intended, rerun with DRIFTD_UPDATE_GOLDEN=1 and review the diff"
    );
    // The parts of the schema the issue fixes, independent of the golden file.
    assert_eq!(report["schema"], "driftd.compare/v1");
    let income = &report["columns"]["income"];
    assert_eq!(income["type"], "numeric");
    assert_eq!(income["status"], "ok");
    for key in ["psi", "ks", "jensen_shannon", "wasserstein", "hellinger"] {
        assert!(income[key].is_object(), "{key}");
    }
    assert!(income["chisquare"].is_null());
    let region = &report["columns"]["region"];
    assert_eq!(region["type"], "categorical");
    assert!(region["chisquare"]["dof"].as_u64() == Some(3) && region["ks"].is_null());
    assert_eq!(report["columns"]["months_employed"]["n_cur_missing"].as_u64().map(|n| n > 0), Some(true));
}

#[test]
fn the_bundled_example_shows_drift_where_it_was_injected() {
    let out = driftd(&[
        "compare",
        "--reference",
        &example("credit_reference.csv"),
        "--current",
        &example("credit_current.csv"),
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for drifted in ["income", "region", "loan_purpose", "score"] {
        assert_eq!(report["columns"][drifted]["drift"], true, "{drifted}");
    }
    for stable in ["age", "debt_ratio", "credit_lines", "loan_amount", "employment_type"] {
        assert_eq!(report["columns"][stable]["drift"], false, "{stable}");
    }
}

#[test]
fn text_format_lists_drifted_columns_first() {
    let out = driftd(&[
        "compare",
        "--reference",
        &example("credit_reference.csv"),
        "--current",
        &example("credit_current.csv"),
        "--format",
        "text",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Dataset drift:"), "{text}");
    let first_row = text.lines().skip_while(|l| !l.starts_with("column")).nth(1).unwrap();
    assert!(first_row.contains("DRIFT"), "first row should be a drifted column: {first_row}");
}

#[test]
fn fail_on_drift_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", b"x,c\n1,a\n2,b\n3,a\n4,b\n");
    let b = write(dir.path(), "b.csv", b"x,c\n10,z\n20,z\n30,z\n40,z\n");
    let drifted = driftd(&["compare", "--reference", &a, "--current", &b, "--format", "json", "--fail-on-drift"]);
    assert_eq!(drifted.status.code(), Some(1), "{}", stderr(&drifted));
    let same = driftd(&["compare", "--reference", &a, "--current", &a, "--format", "json", "--fail-on-drift"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let report: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(report["summary"]["dataset_drift"], false);
}

#[test]
fn columns_option_selects_a_subset() {
    let out = driftd(&[
        "compare",
        "--reference",
        &example("credit_reference.csv"),
        "--current",
        &example("credit_current.csv"),
        "--format",
        "json",
        "--columns",
        "age,region",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&String> = report["columns"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["age", "region"]);
}

#[test]
fn missing_file_is_a_clear_error() {
    let out = driftd(&["compare", "--reference", "/nonexistent/ref.csv", "--current", &example("credit_current.csv")]);
    assert_input_error(&out, &["/nonexistent/ref.csv"]);
}

#[test]
fn a_text_file_named_parquet_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = write(dir.path(), "fake.parquet", b"x,y\n1,2\n");
    let out = driftd(&["compare", "--reference", &fake, "--current", &fake]);
    assert_input_error(&out, &["fake.parquet", "Parquet"]);
}

#[test]
fn a_ragged_csv_row_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", b"a,b\n1,2\n3,4\n");
    let ragged = write(dir.path(), "ragged.csv", b"a,b\n1,2\n3,4,5\n");
    let out = driftd(&["compare", "--reference", &good, "--current", &ragged]);
    assert_input_error(&out, &["ragged.csv", "line 3"]);
}

#[test]
fn a_header_only_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", b"a,b\n1,2\n");
    let header = write(dir.path(), "header.csv", b"a,b\n");
    let out = driftd(&["compare", "--reference", &good, "--current", &header]);
    assert_input_error(&out, &["header.csv", "no data rows"]);
}

#[test]
fn different_columns_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", b"age,income\n1,2\n");
    let b = write(dir.path(), "b.csv", b"age,salary\n1,2\n");
    let out = driftd(&["compare", "--reference", &a, "--current", &b]);
    assert_input_error(&out, &["\"income\"", "\"salary\"", "--columns"]);
}

#[test]
fn bad_options_exit_2() {
    let file = example("credit_reference.csv");
    let out = driftd(&["compare", "--reference", &file, "--current", &file, "--psi-binning", "deciles"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("deciles"));
    let out = driftd(&["compare", "--reference", &file, "--current", &file, "--epsilon", "0"]);
    assert_input_error(&out, &["--epsilon"]);
}

#[test]
fn numeric_in_one_file_and_text_in_the_other_is_categorical() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", b"code\n1\n2\n2\n");
    let b = write(dir.path(), "b.csv", b"code\n1\nx\n2.0\n");
    let out = driftd(&["compare", "--reference", &a, "--current", &b, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = &report["columns"]["code"];
    assert_eq!(code["type"], "categorical");
    // Labels are byte-exact: "2" and "2.0" are different categories, so the union is 1, 2, 2.0, x.
    assert_eq!(code["psi"]["n_bins"], 4);
    assert_eq!(code["chisquare"]["dof"], 3);
}

#[test]
fn stats_option_limits_the_statistics() {
    let out = driftd(&[
        "compare",
        "--reference",
        &example("credit_reference.csv"),
        "--current",
        &example("credit_current.csv"),
        "--format",
        "json",
        "--stats",
        "psi,ks,chisquare",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let income = &report["columns"]["income"];
    assert!(income["psi"].is_object() && income["ks"].is_object());
    assert!(income["wasserstein"].is_null() && income["jensen_shannon"].is_null() && income["hellinger"].is_null());
    assert!(report["columns"]["region"]["chisquare"].is_object());
    // The full run gives the same PSI and KS numbers.
    let full = driftd(&[
        "compare",
        "--reference",
        &example("credit_reference.csv"),
        "--current",
        &example("credit_current.csv"),
        "--format",
        "json",
    ]);
    let full: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert_eq!(full["columns"]["income"]["psi"], income["psi"]);
    assert_eq!(full["columns"]["income"]["ks"], income["ks"]);
    // The deciding statistic must be computed.
    let bad = driftd(&[
        "compare",
        "--reference",
        &example("credit_reference.csv"),
        "--current",
        &example("credit_current.csv"),
        "--stats",
        "ks",
    ]);
    assert_input_error(&bad, &["--drift-stat psi"]);
}

#[test]
fn columns_option_takes_patterns() {
    let (reference, current) = (example("credit_reference.csv"), example("credit_current.csv"));
    let out = driftd(&[
        "compare",
        "--reference",
        &reference,
        "--current",
        &current,
        "--format",
        "json",
        "--columns",
        "*_ratio,ag?",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut names: Vec<&String> = report["columns"].as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["age", "debt_ratio"]);
    let out = driftd(&["compare", "--reference", &reference, "--current", &current, "--columns", "nothing_*"]);
    assert_input_error(&out, &["credit_reference.csv", "\"nothing_*\"", "not found"]);
}

/// Two small Parquet files with a float and a text column.
fn parquet_pair(dir: &Path) -> (String, String) {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    let write = |name: &str, shift: f64| {
        let x: ArrayRef = Arc::new(Float64Array::from_iter_values((0..500).map(|i| (i % 37) as f64 + shift)));
        let c: ArrayRef =
            Arc::new(StringArray::from_iter_values((0..500).map(|i| format!("k{}", (i + shift as usize) % 7))));
        let batch = RecordBatch::try_from_iter([("x", x), ("c", c)]).unwrap();
        let path = dir.join(name);
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        path.display().to_string()
    };
    (write("ref.parquet", 0.0), write("cur.parquet", 3.0))
}

#[test]
fn a_memory_limit_below_one_column_still_compares_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = parquet_pair(dir.path());
    let base = ["compare", "--reference", &reference, "--current", &current, "--format", "json"];
    let whole = driftd(&[&base[..], &["--memory-limit", "1T"]].concat());
    assert!(whole.status.success() && whole.stderr.is_empty(), "{}", stderr(&whole));
    let tiny = driftd(&[&base[..], &["--memory-limit", "1K"]].concat());
    assert!(tiny.status.success(), "{}", stderr(&tiny));
    assert_eq!(tiny.stdout, whole.stdout, "the same report, bit for bit");
    let warning = stderr(&tiny);
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert!(
        warning.starts_with("driftd: warning: memory limit 1.0 KiB: column \"c\" (and 1 more column)"),
        "{warning}"
    );
    assert!(warning.contains("one column at a time"), "{warning}");
}

#[test]
fn a_bad_memory_limit_is_a_usage_error() {
    let (reference, current) = (example("credit_reference.csv"), example("credit_current.csv"));
    for bad in ["2X", "0", "lots"] {
        let out = driftd(&["compare", "--reference", &reference, "--current", &current, "--memory-limit", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("--memory-limit"), "{}", stderr(&out));
    }
}
