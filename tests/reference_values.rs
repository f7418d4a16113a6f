//! Reference-value test: `driftd compare --format json` against numpy, scipy and Evidently.
//!
//! Inputs: every folder under `tests/data/cases/` holds `reference.csv`, `current.csv` and
//! `expected.json`, all written by `tests/reference/generate.py` (numpy 2.4.6, scipy 1.17.1,
//! Evidently 0.7.23). Each expected value in `expected.json` sits next to the exact Python call
//! that produced it (its `call` field); nothing here is typed in by hand.
//!
//! For each case and each binning listed in its `expected.json`, the real binary runs as
//! `driftd compare --reference … --current … --format json --psi-binning <b> --stats all` and every column
//! is compared: counts, type and status exactly; statistics within the tolerances below.
//!
//! Invariants: a case folder without `expected.json`, a binary that fails, output that is not
//! JSON, or output lacking a field is a failure, never a skip. All mismatches of all cases are
//! collected and reported together, each naming case, binning, column, statistic, expected
//! and got.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Accept `got` when |got − expected| ≤ max(rel·|expected|, abs).
#[derive(Clone, Copy)]
struct Tol {
    rel: f64,
    abs: f64,
}

/// KS statistic: 1e-9 absolute (D is a difference of two ECDFs, in [0, 1]).
const KS_STATISTIC: Tol = Tol { rel: 0.0, abs: 1e-9 };
/// p-values: 1e-6 relative, or 1e-12 absolute: a p-value like 1e-130 only has to be as tiny.
const P_VALUE: Tol = Tol { rel: 1e-6, abs: 1e-12 };
/// PSI of every binning, Evidently's included. The absolute floor only matters for PSI = 0.
const PSI: Tol = Tol { rel: 1e-9, abs: 1e-12 };
/// Chi-square statistic, Jensen–Shannon, Hellinger, Kullback–Leibler, Wasserstein (raw and normalised): 1e-9
/// relative. The 1e-12 absolute floor lets an exact 0 (identical samples) match a result that
/// is 0 up to rounding.
const RELATIVE: Tol = Tol { rel: 1e-9, abs: 1e-12 };

/// The statistic objects that must all be null when a column's status is not "ok".
const STATISTICS: [&str; 7] =
    ["psi", "ks", "chisquare", "jensen_shannon", "wasserstein", "hellinger", "kullback_leibler"];

/// The data-quality shares (`--stats all` selects them). A share is a count over a count:
/// numpy's mean of booleans gives the same double.
const QUALITY: [&str; 4] = ["missing_share", "type_mismatch_share", "out_of_range_share", "unseen_category_share"];
const EXACT: Tol = Tol { rel: 0.0, abs: 0.0 };

/// A share's value: `null` when the statistic's entry is `null` (it does not apply).
fn quality_value<'a>(out_col: &'a Value, share: &str) -> Result<&'a Value, String> {
    match field(out_col, &[share])? {
        Value::Null => Ok(&Value::Null),
        _ => field(out_col, &[share, "value"]),
    }
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data").join("cases")
}

/// Collects mismatches instead of stopping at the first one.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
}

/// Where a comparison happens, for the mismatch message.
struct Ctx<'a> {
    case: &'a str,
    binning: &'a str,
    column: &'a str,
}

impl Report {
    fn fail(&mut self, ctx: &Ctx, stat: &str, msg: String) {
        self.failures
            .push(format!("case {}, binning {}, column {:?}, {stat}: {msg}", ctx.case, ctx.binning, ctx.column));
    }

    /// Exact equality (counts, type, status, method, dof). Numbers compare by value, so an
    /// integer written as `5` or `5.0` both match 5.
    fn exact(&mut self, ctx: &Ctx, stat: &str, expected: &Value, got: Result<&Value, String>) {
        let got = match got {
            Ok(g) => g,
            Err(e) => return self.fail(ctx, stat, format!("expected {expected}, {e}")),
        };
        let same = match (expected.as_f64(), got.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => expected == got,
        };
        if !same {
            self.fail(ctx, stat, format!("expected {expected}, got {got}"));
        }
    }

    /// A floating-point statistic within `tol`. `null` must match `null`; "inf" / "-inf"
    /// strings must match exactly.
    fn float(&mut self, ctx: &Ctx, stat: &str, expected: &Value, got: Result<&Value, String>, tol: Tol) {
        let got = match got {
            Ok(g) => g,
            Err(e) => return self.fail(ctx, stat, format!("expected {expected}, {e}")),
        };
        let (e, g) = match (as_number(expected), as_number(got)) {
            (Ok(e), Ok(g)) => (e, g),
            (Err(e), _) => return self.fail(ctx, stat, format!("bad expected.json value: {e}")),
            (_, Err(e)) => return self.fail(ctx, stat, format!("expected {expected}, got {e}")),
        };
        let ok = match (e, g) {
            (None, None) => true,
            (Some(e), Some(g)) => close(e, g, tol),
            _ => false,
        };
        if !ok {
            let diff = match (e, g) {
                (Some(e), Some(g)) => format!(" (|diff| {:e}, rel {:e})", (e - g).abs(), ((e - g) / e).abs()),
                _ => String::new(),
            };
            self.fail(
                ctx,
                stat,
                format!("expected {expected}, got {got}{diff}; tolerance rel {:e} / abs {:e}", tol.rel, tol.abs),
            );
        }
    }

    /// The field must exist and be `null`.
    fn null(&mut self, ctx: &Ctx, stat: &str, got: Result<&Value, String>) {
        match got {
            Ok(Value::Null) => {}
            Ok(other) => self.fail(ctx, stat, format!("expected null, got {other}")),
            Err(e) => self.fail(ctx, stat, format!("expected null, {e}")),
        }
    }
}

fn close(expected: f64, got: f64, tol: Tol) -> bool {
    if expected == got {
        return true; // also covers ±inf
    }
    if !expected.is_finite() || !got.is_finite() {
        return false;
    }
    let diff = (expected - got).abs();
    diff <= tol.abs || diff <= tol.rel * expected.abs()
}

/// A JSON statistic as a number: `null` → None; numbers and the strings "inf" / "-inf" → Some.
fn as_number(v: &Value) -> Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_f64().map(Some).ok_or_else(|| format!("{n} is not an f64")),
        Value::String(s) if s == "inf" => Ok(Some(f64::INFINITY)),
        Value::String(s) if s == "-inf" => Ok(Some(f64::NEG_INFINITY)),
        other => Err(format!("{other} (not a number, null, \"inf\" or \"-inf\")")),
    }
}

/// Walks `path` through nested objects; a missing key or a non-object parent is an error
/// naming the path, so "the output lacks a field" becomes a failure message.
fn field<'a>(root: &'a Value, path: &[&str]) -> Result<&'a Value, String> {
    let mut v = root;
    for (i, key) in path.iter().enumerate() {
        v = match v {
            Value::Object(map) => {
                map.get(*key).ok_or_else(|| format!("driftd output lacks field {}", path[..=i].join(".")))?
            }
            other => return Err(format!("driftd output has {other} at {}, not an object", path[..i].join("."))),
        };
    }
    Ok(v)
}

/// Runs `driftd compare` on one case with one binning; Err describes why no JSON came back.
fn run_compare(dir: &Path, binning: &str) -> Result<Value, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_driftd"))
        .arg("compare")
        .arg("--reference")
        .arg(dir.join("reference.csv"))
        .arg("--current")
        .arg(dir.join("current.csv"))
        // `all`: also the opt-in statistics (Kullback–Leibler).
        .args(["--format", "json", "--psi-binning", binning, "--stats", "all"])
        .output()
        .map_err(|e| format!("cannot run driftd: {e}"))?;
    if !out.status.success() {
        // The first lines say why (an error line, or a panic's location and message); a
        // backtrace after them would drown the other mismatches.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let head: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).take(2).collect();
        return Err(format!("driftd exited with {}: {}", out.status, head.join(" | ")));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("stdout is not JSON ({e})"))
}

/// `psi.binning` must echo the requested binning; explicit edges compare as numbers, since
/// `edges:-1,0,1` may be written back as `edges:-1.0,0.0,1.0`.
fn same_binning(requested: &str, got: &str) -> bool {
    fn edges(s: &str) -> Option<Vec<f64>> {
        s.strip_prefix("edges:")?.split(',').map(|t| t.trim().parse().ok()).collect()
    }
    match (edges(requested), edges(got)) {
        (Some(a), Some(b)) => a == b,
        _ => requested == got,
    }
}

/// Compares one column of the output with its expected entry for one binning.
fn check_column(report: &mut Report, ctx: &Ctx, exp: &Value, out_col: &Value) {
    let col = |path: &[&str]| field(out_col, path);
    for key in
        ["type", "status", "n_ref", "n_cur", "n_ref_missing", "n_cur_missing", "n_ref_nonfinite", "n_cur_nonfinite"]
    {
        report.exact(ctx, key, &exp[key], col(&[key]));
    }
    // Data-quality shares: whatever the status; null where they do not apply or are undefined
    // (a statistic that does not apply to the column's type is `null` in the output too).
    for share in QUALITY {
        let path = format!("{share}.value");
        report.float(ctx, &path, &exp["quality"][share]["value"], quality_value(out_col, share), EXACT);
    }
    if exp["status"] != "ok" {
        for stat in STATISTICS {
            report.null(ctx, stat, col(&[stat]));
        }
        return;
    }

    let by = &exp["by_binning"][ctx.binning];
    if by.is_null() {
        return report.fail(ctx, "expected.json", format!("no by_binning entry for {}", ctx.binning));
    }
    report.float(ctx, "psi.value", &by["psi"]["value"], col(&["psi", "value"]), PSI);
    report.exact(ctx, "psi.n_bins", &by["psi"]["n_bins"], col(&["psi", "n_bins"]));
    report.float(
        ctx,
        "jensen_shannon.value",
        &by["jensen_shannon"]["value"],
        col(&["jensen_shannon", "value"]),
        RELATIVE,
    );
    report.float(ctx, "hellinger.value", &by["hellinger"]["value"], col(&["hellinger", "value"]), RELATIVE);
    let kl = &by["kullback_leibler"]["value"];
    report.float(ctx, "kullback_leibler.value", kl, col(&["kullback_leibler", "value"]), RELATIVE);

    if exp["type"] == "numeric" {
        match col(&["psi", "binning"]) {
            Ok(Value::String(b)) if same_binning(ctx.binning, b) => {}
            Ok(other) => report.fail(ctx, "psi.binning", format!("expected {:?}, got {other}", ctx.binning)),
            Err(e) => report.fail(ctx, "psi.binning", format!("expected {:?}, {e}", ctx.binning)),
        }
        let ks = &exp["ks"];
        report.float(ctx, "ks.statistic", &ks["statistic"], col(&["ks", "statistic"]), KS_STATISTIC);
        report.float(ctx, "ks.p_value", &ks["p_value"], col(&["ks", "p_value"]), P_VALUE);
        report.exact(ctx, "ks.method", &ks["method"], col(&["ks", "method"]));
        let w = &exp["wasserstein"];
        report.float(ctx, "wasserstein.value", &w["value"], col(&["wasserstein", "value"]), RELATIVE);
        report.float(ctx, "wasserstein.normalized", &w["normalized"], col(&["wasserstein", "normalized"]), RELATIVE);
        report.null(ctx, "chisquare", col(&["chisquare"]));
    } else {
        let chi = &exp["chisquare"];
        report.float(ctx, "chisquare.statistic", &chi["statistic"], col(&["chisquare", "statistic"]), RELATIVE);
        report.float(ctx, "chisquare.p_value", &chi["p_value"], col(&["chisquare", "p_value"]), P_VALUE);
        report.exact(ctx, "chisquare.dof", &chi["dof"], col(&["chisquare", "dof"]));
        report.null(ctx, "ks", col(&["ks"]));
        report.null(ctx, "wasserstein", col(&["wasserstein"]));
    }
}

/// Runs one case folder through every binning it lists.
fn check_case(report: &mut Report, dir: &Path) {
    let case = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let top = Ctx { case: &case, binning: "-", column: "-" };
    let text = match std::fs::read_to_string(dir.join("expected.json")) {
        Ok(t) => t,
        Err(e) => return report.fail(&top, "expected.json", format!("cannot read: {e}")),
    };
    let expected: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return report.fail(&top, "expected.json", format!("not JSON: {e}")),
    };
    let (Some(binnings), Some(columns)) = (expected["binnings"].as_array(), expected["columns"].as_object()) else {
        return report.fail(&top, "expected.json", "lacks \"binnings\" or \"columns\"".to_string());
    };
    if binnings.is_empty() || columns.is_empty() {
        return report.fail(&top, "expected.json", "no binnings or no columns".to_string());
    }

    for binning in binnings {
        let Some(binning) = binning.as_str() else {
            report.fail(&top, "expected.json", format!("binning {binning} is not a string"));
            continue;
        };
        let run_ctx = Ctx { case: &case, binning, column: "-" };
        let out = match run_compare(dir, binning) {
            Ok(v) => v,
            Err(e) => {
                report.fail(&run_ctx, "run", e);
                continue;
            }
        };
        report.exact(&run_ctx, "schema", &Value::from("driftd.compare/v1"), field(&out, &["schema"]));
        report.exact(&run_ctx, "reference.rows", &expected["reference"]["rows"], field(&out, &["reference", "rows"]));
        report.exact(&run_ctx, "current.rows", &expected["current"]["rows"], field(&out, &["current", "rows"]));
        let out_columns = match field(&out, &["columns"]).map(Value::as_object) {
            Ok(Some(c)) => c,
            Ok(None) => {
                report.fail(&run_ctx, "columns", "is not an object".to_string());
                continue;
            }
            Err(e) => {
                report.fail(&run_ctx, "columns", e);
                continue;
            }
        };
        for name in out_columns.keys().filter(|n| !columns.contains_key(*n)) {
            let ctx = Ctx { case: &case, binning, column: name };
            report.fail(&ctx, "column", "in driftd output but not in expected.json".to_string());
        }
        for (name, exp) in columns {
            let ctx = Ctx { case: &case, binning, column: name };
            match out_columns.get(name) {
                Some(out_col) => check_column(report, &ctx, exp, out_col),
                None => report.fail(&ctx, "column", "missing from driftd output".to_string()),
            }
        }
    }
}

#[test]
fn compare_json_matches_reference_values() {
    let root = cases_dir();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 15, "expected at least 15 case folders in {}, found {}", root.display(), dirs.len());

    let mut report = Report::default();
    for dir in &dirs {
        check_case(&mut report, dir);
    }

    if !report.failures.is_empty() {
        let mut msg = format!(
            "{} mismatch(es) against tests/data/cases (expected values: tests/reference/generate.py):\n",
            report.failures.len()
        );
        for f in report.failures.iter().take(200) {
            let _ = writeln!(msg, "  {f}");
        }
        if report.failures.len() > 200 {
            let _ = writeln!(msg, "  … and {} more", report.failures.len() - 200);
        }
        panic!("{msg}");
    }
}

/// The comparison helpers themselves: a wrong value, a missing field and a non-null statistic
/// on an empty column must all be reported, so a broken test cannot pass silently.
#[test]
fn comparison_helpers_report_mismatches() {
    let ctx = Ctx { case: "c", binning: "quantile", column: "x" };
    let mut r = Report::default();
    let out: Value = serde_json::json!({"psi": {"value": 0.1000001}, "ks": null, "n_ref": 5.0});
    r.float(&ctx, "psi.value", &Value::from(0.1), field(&out, &["psi", "value"]), PSI);
    r.float(&ctx, "psi.value", &Value::from(0.1), field(&out, &["psi", "missing"]), PSI);
    r.float(&ctx, "ks.statistic", &Value::from(0.5), field(&out, &["ks", "statistic"]), KS_STATISTIC);
    r.exact(&ctx, "n_ref", &Value::from(5), field(&out, &["n_ref"]));
    r.null(&ctx, "psi", field(&out, &["psi"]));
    assert_eq!(r.failures.len(), 4, "{:#?}", r.failures);
    assert!(r.failures[0].contains("case c, binning quantile, column \"x\", psi.value: expected 0.1, got 0.1000001"));
    assert!(r.failures[1].contains("lacks field psi.missing"));
    assert!(r.failures[2].contains("at ks, not an object"));
    assert!(r.failures[3].contains("expected null"));

    assert!(close(1e-300, 0.0, P_VALUE) && !close(0.5, 0.5 + 1e-6, P_VALUE));
    assert!(close(f64::INFINITY, f64::INFINITY, RELATIVE) && !close(1.0, f64::INFINITY, RELATIVE));
    assert_eq!(as_number(&Value::from("-inf")), Ok(Some(f64::NEG_INFINITY)));
    assert!(same_binning("edges:-1,0,1", "edges:-1.0,0.0,1.0") && !same_binning("quantile", "evidently"));
}
