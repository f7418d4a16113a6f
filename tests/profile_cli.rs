//! `driftd profile` and `driftd compare` with profiles, as a user runs them: compare from
//! profiles gives raw compare's PSI, chi-square, Jensen–Shannon, Hellinger and KL bit for bit on
//! every reference case (KS within its reported bound), merged part profiles equal the whole's,
//! and every bad profile is one error line naming the file (exit 2).

mod common;
use common::{assert_input_error, repo, stderr};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn driftd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftd")).args(args).output().expect("run driftd")
}

fn ok(args: &[&str]) -> Output {
    let out = driftd(args);
    assert!(out.status.success(), "driftd {args:?}: {}", stderr(&out));
    out
}

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args).stdout).expect("JSON")
}

fn s(path: &Path) -> String {
    path.display().to_string()
}

/// The statistics computed from counts alone: exact from profiles.
const EXACT: [&str; 8] = [
    "psi",
    "chisquare",
    "jensen_shannon",
    "hellinger",
    "kullback_leibler",
    "missing_share",
    "type_mismatch_share",
    "unseen_category_share",
];

#[test]
fn compare_from_profiles_equals_raw_compare_on_every_reference_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for case in std::fs::read_dir(repo().join("tests/data/cases")).unwrap() {
        let case = case.unwrap().path();
        if !case.join("expected.json").is_file() {
            continue; // the folder's README
        }
        let expected: Value = serde_json::from_slice(&std::fs::read(case.join("expected.json")).unwrap()).unwrap();
        let (reference, current) = (s(&case.join("reference.csv")), s(&case.join("current.csv")));
        for binning in expected["binnings"].as_array().unwrap().iter().filter_map(Value::as_str) {
            if binning == "evidently" {
                continue; // its bins depend on the current data: not profiled (tested below)
            }
            let name = case.file_name().unwrap().to_string_lossy().to_string();
            let ref_profile = s(&dir.path().join(format!("{name}.ref.profile")));
            let cur_profile = s(&dir.path().join(format!("{name}.cur.profile")));
            ok(&["profile", "--input", &reference, "--psi-binning", binning, "--output", &ref_profile]);
            ok(&["profile", "--input", &current, "--edges-from", &ref_profile, "--output", &cur_profile]);
            let common = ["--format", "json", "--stats", "all", "--psi-binning", binning];
            let raw = json(&[&["compare", "--reference", &reference, "--current", &current][..], &common].concat());
            for (r, c) in [(&ref_profile, &current), (&ref_profile, &cur_profile), (&reference, &cur_profile)] {
                let got = json(&[&["compare", "--reference", r, "--current", c][..], &common].concat());
                let context = format!("{name} {binning} {r} vs {c}");
                assert_eq!(got["settings"], raw["settings"], "{context}");
                for (column, want) in raw["columns"].as_object().unwrap() {
                    let have = &got["columns"][column];
                    for key in ["type", "status", "n_ref", "n_cur", "n_ref_missing", "n_cur_missing", "drift_by"] {
                        assert_eq!(have[key], want[key], "{context} {column} {key}");
                    }
                    for key in EXACT {
                        assert_eq!(have[key], want[key], "{context} {column} {key}: not bit for bit");
                    }
                    // Needs the current values: exact from raw data, null from a current profile.
                    let out_of_range = &have["out_of_range_share"];
                    if c == &current {
                        assert_eq!(out_of_range, &want["out_of_range_share"], "{context} {column}");
                    } else {
                        assert!(out_of_range.is_null() || out_of_range["value"].is_null(), "{context} {column}");
                    }
                    if let Some(d) = want["ks"]["statistic"].as_f64() {
                        let (got_d, bound) =
                            (have["ks"]["statistic"].as_f64().unwrap(), have["ks"]["error_bound"].as_f64().unwrap());
                        assert!((got_d - d).abs() <= bound + 1e-12, "{context} {column}: D {got_d} vs {d} ± {bound}");
                        assert_eq!(have["ks"]["method"], "limit");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} column comparisons");
}

#[test]
fn merged_part_profiles_equal_the_whole_profile() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("examples/data/credit_reference.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let lines: Vec<&str> = body.lines().collect();
    let whole = s(&dir.path().join("whole.profile"));
    ok(&["profile", "--input", &s(&repo().join("examples/data/credit_reference.csv")), "-o", &whole]);
    let mut parts = Vec::new();
    for (i, chunk) in lines.chunks(1700).enumerate() {
        let path = dir.path().join(format!("part-{i}.csv"));
        std::fs::write(&path, format!("{header}\n{}\n", chunk.join("\n"))).unwrap();
        let profile = s(&dir.path().join(format!("part-{i}.profile")));
        ok(&["profile", "--input", &s(&path), "--edges-from", &whole, "-o", &profile]);
        parts.push(profile);
    }
    let merged = s(&dir.path().join("merged.profile"));
    ok(&[&["profile", "merge"][..], &parts.iter().map(String::as_str).collect::<Vec<_>>(), &["-o", &merged]].concat());
    let (w, m) = (json(&["profile", "show", &whole]), json(&["profile", "show", &merged]));
    assert_eq!(m["rows"], w["rows"]);
    for (wc, mc) in w["columns"].as_array().unwrap().iter().zip(m["columns"].as_array().unwrap()) {
        for key in ["name", "type", "n", "missing", "nonfinite", "edges", "bins", "counts"] {
            assert_eq!(mc[key], wc[key], "{} {key}", wc["name"]);
        }
    }
    // The merged profile compares like the whole one for every exact statistic.
    let current = s(&repo().join("examples/data/credit_current.csv"));
    let a = json(&["compare", "--reference", &whole, "--current", &current, "--format", "json"]);
    let b = json(&["compare", "--reference", &merged, "--current", &current, "--format", "json"]);
    for (column, want) in a["columns"].as_object().unwrap() {
        for key in EXACT {
            assert_eq!(b["columns"][column][key], want[key], "{column} {key}");
        }
    }
}

/// A profile of the bundled reference, in `dir`.
fn reference_profile(dir: &Path) -> (String, Vec<u8>) {
    let path = s(&dir.join("ref.profile"));
    ok(&["profile", "--input", &s(&repo().join("examples/data/credit_reference.csv")), "-o", &path]);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

#[test]
fn a_truncated_corrupt_or_future_profile_is_one_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = reference_profile(dir.path());
    let current = s(&repo().join("examples/data/credit_current.csv"));
    let mut version = bytes.clone();
    version[8] = 2;
    let mut damaged = bytes.clone();
    let middle = bytes.len() / 2;
    damaged[middle] ^= 0x01;
    for (name, contents, needle) in [
        ("truncated.profile", bytes[..bytes.len() - 40].to_vec(), "truncated profile"),
        ("short.profile", bytes[..5].to_vec(), "truncated profile"),
        ("damaged.profile", damaged, "corrupt profile: checksum mismatch"),
        ("future.profile", version, "profile format version 2, this driftd reads version 1"),
        ("text.profile", b"age,income\n1,2\n".to_vec(), "not a driftd profile"),
    ] {
        let path = s(&dir.path().join(name));
        std::fs::write(&path, contents).unwrap();
        assert_input_error(&driftd(&["compare", "--reference", &path, "--current", &current]), &[&path, needle]);
        assert_input_error(&driftd(&["profile", "show", &path]), &[&path, needle]);
        let out = s(&dir.path().join("out.profile"));
        assert_input_error(
            &driftd(&["profile", "--input", &current, "--edges-from", &path, "-o", &out]),
            &[&path, needle],
        );
    }
}

#[test]
fn profiles_on_other_edges_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, _) = reference_profile(dir.path());
    let current = s(&dir.path().join("cur.profile"));
    ok(&["profile", "--input", &s(&repo().join("examples/data/credit_current.csv")), "-o", &current]);
    let out = driftd(&["compare", "--reference", &reference, "--current", &current]);
    assert_input_error(&out, &[&format!("{current}: does not match {reference}"), "bin edge", "--edges-from"]);
    let merged = s(&dir.path().join("m.profile"));
    let out = driftd(&["profile", "merge", &reference, &current, "-o", &merged]);
    assert_input_error(&out, &[&format!("{current}: does not match {reference}"), "cannot be added", "--edges-from"]);
    let csv = s(&repo().join("examples/data/credit_current.csv"));
    let out = driftd(&["profile", "--input", &csv, "--psi-binning", "evidently", "-o", &merged]);
    assert_input_error(&out, &[&csv, "evidently cannot be profiled"]);
}
