//! End-to-end tests of `driftd reference fit | show` as a user runs them: the profile written,
//! what `show` prints, and one clear error line (exit 2, no panic) for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn driftd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftd")).args(args).output().expect("run driftd")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data").join(name).display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 2 with exactly one line on stderr that contains every `needles`, and no panic.
fn assert_input_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked") && !err.contains("internal error"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected, got: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
    }
}

fn fit(dir: &Path, extra: &[&str]) -> (Output, PathBuf) {
    let output = dir.join("credit.json");
    let input = example("credit_reference.csv");
    let mut args = vec!["reference", "fit", "--input", &input, "--output", output.to_str().unwrap()];
    args.extend_from_slice(extra);
    (driftd(&args), output)
}

#[test]
fn fit_then_show() {
    let dir = tempfile::tempdir().unwrap();
    let (out, profile) = fit(dir.path(), &["--predictions", "score", "--model-version", "2026-11-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("9 input and 1 prediction features from 5000 rows"), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&profile).unwrap()).unwrap();
    assert_eq!(json["format"], "driftd.reference");
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["model_version"], "2026-11-01");
    assert_eq!(json["streams"]["predictions"][0]["name"], "score");

    let out = driftd(&["reference", "show", profile.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let sha = driftd::reference::sha256_file(Path::new(&example("credit_reference.csv"))).unwrap();
    for needle in ["model version   2026-11-01", "rows            5000", "binning         quantile", &sha] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    let score = text.lines().find(|l| l.starts_with("predictions")).unwrap();
    assert!(score.contains("score") && score.contains("numeric") && score.contains("10 bins"), "{score}");
    let region = text.lines().find(|l| l.contains(" region ")).unwrap();
    assert!(region.starts_with("inputs") && region.contains("4 categories"), "{region}");
}

#[test]
fn options_reach_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let (out, profile) =
        fit(dir.path(), &["--columns", "age,region", "--binning", "equal-width:5", "--max-sample", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = driftd(&["reference", "show", profile.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.contains("binning         equal-width:5"), "{text}");
    let age = text.lines().find(|l| l.contains(" age ")).unwrap();
    assert!(age.contains("5 bins") && age.contains("sample 100 of 5000"), "{age}");
    assert_eq!(text.lines().filter(|l| l.starts_with("inputs")).count(), 2);
    assert!(!text.contains("predictions "));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let out = driftd(&["reference", "fit", "--input", missing.to_str().unwrap(), "--output", "x.json"]);
    assert_input_error(&out, &["missing.csv"]);

    let (out, _) = fit(dir.path(), &["--predictions", "scroe"]);
    assert_input_error(&out, &["credit_reference.csv", "\"scroe\""]);
    let (out, _) = fit(dir.path(), &["--predictions", "score", "--exclude", "score"]);
    assert_input_error(&out, &["\"score\" is named both"]);
    let (out, _) = fit(dir.path(), &["--max-sample", "1"]);
    assert_input_error(&out, &["at least 2"]);
    let out = driftd(&[
        "reference",
        "fit",
        "--input",
        &example("credit_reference.csv"),
        "--output",
        dir.path().join("no/such/dir/p.json").to_str().unwrap(),
    ]);
    assert_input_error(&out, &["p.json", "cannot write"]);
    // A bad binning is a usage error (clap's message, exit 2).
    let (out, _) = fit(dir.path(), &["--binning", "quantiles"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("credit.json").exists(), "nothing written on error");

    let (out, profile) = fit(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&profile).unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, &text[..text.len() / 2]).unwrap();
    assert_input_error(&driftd(&["reference", "show", broken.to_str().unwrap()]), &["broken.json", "truncated"]);
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, text.replace("\"format_version\": 1,", "\"format_version\": 7,")).unwrap();
    assert_input_error(&driftd(&["reference", "show", newer.to_str().unwrap()]), &["newer.json", "version 7"]);
    let csv = example("credit_reference.csv");
    assert_input_error(&driftd(&["reference", "show", &csv]), &["not a driftd reference profile"]);
    let none = dir.path().join("none.json");
    assert_input_error(&driftd(&["reference", "show", none.to_str().unwrap()]), &["none.json", "cannot read"]);
}
