//! The HTML report of `driftd compare --format html`.
//!
//! - On the bundled example data (`examples/data/credit_*.csv`), the real binary writes one
//!   self-contained HTML document that names every column, states the dataset verdict, draws the
//!   charts of every drifted column (bars for all, ECDFs for numeric ones) and refers to nothing
//!   outside itself. Which columns drifted, and the verdict, come from the same binary's JSON
//!   output, so nothing here is typed in by hand.
//! - Hostile labels (markup, quotes, ampersands, newlines, emoji) in category values and column
//!   names appear escaped, never as markup.
//! - The renderer alone, on a hand-built report: the categorical top-30 cut, empty columns, the
//!   KS marker. The statistics in that report are arbitrary renderer inputs, not claimed results.

use std::path::{Path, PathBuf};
use std::process::Command;

use driftd::compare::html;
use driftd::compare::report::*;
use driftd::stats::ks::KsMethod;
use driftd::stats::statistic::{Extra, Statistic};
use serde_json::Value;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data")
}

/// Run `driftd compare` with `args`; panics with stderr when it does not exit 0.
fn driftd(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_driftd")).arg("compare").args(args).output().expect("run driftd");
    assert!(
        output.status.success(),
        "driftd {:?} failed ({}): {}",
        args,
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

/// Write the HTML report of `reference` vs `current` to a temporary file and read it back.
fn html_report(reference: &Path, current: &Path, dir: &Path) -> String {
    let out = dir.join("report.html");
    driftd(&[
        "--reference".as_ref(),
        reference.as_os_str(),
        "--current".as_ref(),
        current.as_os_str(),
        "--format".as_ref(),
        "html".as_ref(),
        "--output".as_ref(),
        out.as_os_str(),
    ]);
    std::fs::read_to_string(&out).expect("read the report")
}

fn json_report(reference: &Path, current: &Path) -> Value {
    let text = driftd(&[
        "--reference".as_ref(),
        reference.as_os_str(),
        "--current".as_ref(),
        current.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    serde_json::from_str(&text).expect("JSON report")
}

/// Same escaping as the report: the form a label must take in the page.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Structure every report must have: one document, nothing external, no script at all.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(lower.starts_with("<!doctype html>"), "starts with a doctype");
    assert_eq!(lower.matches("<!doctype").count(), 1, "one document");
    assert_eq!(lower.matches("<html").count(), 1, "one <html>");
    assert_eq!(lower.matches("</html>").count(), 1, "one </html>");
    for forbidden in
        ["src=\"http", "src='http", "href=\"http", "<link", "<script", "@import", "url(http", "<iframe", "<img"]
    {
        assert!(!lower.contains(forbidden), "the report contains {forbidden:?}");
    }
    assert_eq!(lower.matches("<svg").count(), lower.matches("</svg>").count(), "balanced <svg>");
}

/// The `<section class="column">` whose heading names `column` (escaped).
fn section_of<'a>(html: &'a str, column: &str) -> &'a str {
    let heading = format!("<span class=\"colname\">{}</span>", escaped(column));
    html.split("<section class=\"column\"")
        .skip(1)
        .find(|part| part.contains(&heading))
        .unwrap_or_else(|| panic!("no section for column {column:?}"))
}

#[test]
fn example_data_report_is_complete_and_self_contained() {
    let (reference, current) = (examples().join("credit_reference.csv"), examples().join("credit_current.csv"));
    let dir = tempfile::tempdir().expect("temp dir");
    let html = html_report(&reference, &current, dir.path());
    let json = json_report(&reference, &current);
    assert_self_contained(&html);

    let columns = json["columns"].as_object().expect("columns");
    assert!(!columns.is_empty());
    let mut drifted = 0;
    for (name, column) in columns {
        // Named in the summary table (as a link to its section) and in its own section.
        assert!(html.contains(&format!("\">{}</a></td>", escaped(name))), "summary row for {name}");
        let section = section_of(&html, name);
        if column["drift"] == Value::Bool(true) {
            drifted += 1;
            let pictures = if column["type"] == "numeric" { 2 } else { 1 };
            assert_eq!(section.matches("<svg").count(), pictures, "charts of drifted column {name}");
            assert!(section.contains("class=\"badge drift\""), "drift badge of {name}");
            if pictures == 2 {
                assert!(section.contains("D = "), "KS marker label of {name}");
            }
        }
    }
    assert_eq!(json["summary"]["drifted"].as_u64(), Some(drifted));

    // The verdict, as the JSON states it.
    let verdict = if json["summary"]["dataset_drift"] == Value::Bool(true) {
        "Dataset drift detected"
    } else {
        "No dataset drift"
    };
    assert!(html.contains(verdict), "verdict {verdict:?}");
    let counts =
        format!("{} of {}</span> compared columns drifted", json["summary"]["drifted"], json["summary"]["compared"]);
    assert!(html.contains(&counts), "{counts:?}");
    // Both files with their row counts.
    for side in ["reference", "current"] {
        let path = json[side]["path"].as_str().expect("path");
        assert!(html.contains(&escaped(path)), "{side} path");
    }
}

#[test]
fn hostile_labels_are_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hostile = ["<script>alert(1)</script>", "a\"b&c", "it's", "line\nbreak", "🚀 <b>bold</b>"];
    let header = "\"<img src=x onerror=alert(2)>\",plain\n";
    let csv_field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut reference = String::from(header);
    let mut current = String::from(header);
    for (i, label) in hostile.iter().enumerate() {
        // Different proportions on each side so that the column drifts and gets its chart.
        for _ in 0..(i + 1) * 3 {
            reference.push_str(&format!("{},x\n", csv_field(label)));
        }
        for _ in 0..(hostile.len() - i) * 3 {
            current.push_str(&format!("{},y\n", csv_field(label)));
        }
    }
    let (ref_path, cur_path) = (dir.path().join("ref.csv"), dir.path().join("cur.csv"));
    std::fs::write(&ref_path, reference).expect("write");
    std::fs::write(&cur_path, current).expect("write");
    let html = html_report(&ref_path, &cur_path, dir.path());
    assert_self_contained(&html);

    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a&quot;b&amp;c"));
    assert!(html.contains("it&#39;s"));
    assert!(html.contains("🚀 &lt;b&gt;bold&lt;/b&gt;"));
    assert!(!html.contains("<b>bold</b>"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"), "column name escaped");
    // In the chart the newline is drawn as "↵" (an SVG <text> is one line); the tooltip keeps it.
    assert!(html.contains("line↵break"));
    assert!(html.contains("line\nbreak"));
    let section = section_of(&html, "<img src=x onerror=alert(2)>");
    assert_eq!(section.matches("<svg").count(), 1, "one bar chart for a categorical column");
}

fn column(name: &str, kind: ColumnKind) -> ColumnReport {
    let mut column = ColumnReport {
        name: name.to_string(),
        kind,
        status: ColumnStatus::Ok,
        n_ref: 1000,
        n_cur: 1000,
        n_ref_missing: 0,
        n_cur_missing: 3,
        n_ref_nonfinite: 0,
        n_cur_nonfinite: 1,
        drift: true,
        drift_by: "psi",
        statistics: StatisticReports::default(),
        detail: None,
    };
    let psi = StatReport::new(Statistic::Psi, &[0.25], 0.1, true)
        .with(Extra::Binning, ExtraValue::Text("quantile".into()))
        .with(Extra::BinCount, ExtraValue::Count(10));
    column.statistics.set(Statistic::Psi, Some(psi));
    column.statistics.set(Statistic::JensenShannon, Some(StatReport::new(Statistic::JensenShannon, &[0.2], 0.1, true)));
    column.statistics.set(Statistic::Hellinger, Some(StatReport::new(Statistic::Hellinger, &[0.05], 0.1, false)));
    column
}

/// A small report exercising every branch of the renderer. Numbers are arbitrary inputs.
fn hand_built_report() -> CompareReport {
    // Two step functions on 0..1000 (reference) and 100..1100 (current); the largest gap is at
    // x = 1000 where F_ref = 1 and F_cur = 0.9.
    let reference: Vec<(f64, f64)> = (0..=100).map(|i| (10.0 * i as f64, i as f64 / 100.0)).collect();
    let current: Vec<(f64, f64)> = (0..=100).map(|i| (100.0 + 10.0 * i as f64, i as f64 / 100.0)).collect();
    let mut numeric = column("income", ColumnKind::Numeric);
    let ks = StatReport::new(Statistic::Ks, &[0.1, 1.3e-27], 0.05, true)
        .with(Extra::KsMethod, ExtraValue::Method(KsMethod::Exact));
    numeric.statistics.set(Statistic::Ks, Some(ks));
    let wasserstein = StatReport::new(Statistic::Wasserstein, &[100.0, 0.35], 0.1, true);
    numeric.statistics.set(Statistic::Wasserstein, Some(wasserstein));
    numeric.detail = Some(ColumnDetail {
        bins: (0..10)
            .map(|i| BinDetail {
                label: format!("({}, {}]", 100 * i, 100 * (i + 1)),
                reference: 100,
                current: 90 + 2 * i,
            })
            .collect(),
        ecdf: Some(EcdfDetail { reference, current, ks_location: (1000.0, 1.0, 0.9) }),
    });

    let mut many = column("city", ColumnKind::Categorical);
    let chisquare = StatReport::new(Statistic::Chisquare, &[268.3, 2.7e-60], 0.05, true)
        .with(Extra::DegreesOfFreedom, ExtraValue::Count(39));
    many.statistics.set(Statistic::Chisquare, Some(chisquare));
    many.detail = Some(ColumnDetail {
        bins: (0..40).map(|i| BinDetail { label: format!("city-{i:02}"), reference: 40 - i, current: 1 + i }).collect(),
        ecdf: None,
    });

    let mut empty = column("all_missing", ColumnKind::Numeric);
    empty.status = ColumnStatus::EmptyReference;
    empty.drift = false;
    empty.n_ref = 0;
    empty.statistics = StatisticReports::default();

    let columns = vec![empty, numeric, many];
    CompareReport {
        schema: SCHEMA,
        reference: DatasetInfo { path: "/data/ref & <old>.csv".into(), format: "csv", rows: 1000 },
        current: DatasetInfo { path: "/data/cur.parquet".into(), format: "parquet", rows: 1003 },
        settings: SettingsInfo {
            psi_binning: "quantile".into(),
            epsilon: Num(1e-4),
            drift_stat: "psi",
            drift_share: Num(0.5),
        },
        summary: Summary { columns: 3, compared: 2, drifted: 2, share_drifted: Num(1.0), dataset_drift: true },
        columns,
        performance: None,
    }
}

#[test]
fn renderer_on_a_hand_built_report() {
    let report = hand_built_report();
    let html = html::render(&report);
    assert_self_contained(&html);
    assert!(html.contains("/data/ref &amp; &lt;old&gt;.csv"));
    assert!(html.contains("Dataset drift detected"));
    assert!(html.contains("1 of 3 columns not compared"));

    // Order: drifted by decreasing PSI (ties keep file order), then the empty column.
    let pos = |name: &str| html.find(&format!("<span class=\"colname\">{name}</span>")).expect(name);
    assert!(pos("income") < pos("city") && pos("city") < pos("all_missing"));

    let numeric = section_of(&html, "income");
    assert_eq!(numeric.matches("<svg").count(), 2);
    assert!(numeric.contains("D = 0.1000"));
    assert!(numeric.contains("1.300e−27"), "p-value in scientific notation");

    let many = section_of(&html, "city");
    assert_eq!(many.matches("<svg").count(), 1);
    assert!(many.contains("Top 30 of 40 categories shown; the 10 others"));
    // The 30 largest (by max share) are drawn, the 10 smallest are not.
    assert!(many.contains(">city-00</text>") && many.contains(">city-39</text>"));
    assert!(!many.contains(">city-20</text>"));

    let empty = section_of(&html, "all_missing");
    assert!(empty.contains("empty reference") && !empty.contains("<svg"));

    // Deterministic: the same report renders to the same bytes.
    assert_eq!(html, html::render(&report));
}
