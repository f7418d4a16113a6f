//! The human-readable table of `driftd compare` (the default on a terminal): one line per
//! column, drifted columns first (then by decreasing PSI), the dataset verdict, and with
//! `--target` the model's performance on both datasets and the change.

use std::fmt::Write;

use super::performance::PerformanceReport;
use super::report::{ColumnKind, ColumnReport, ColumnStatus, CompareReport, ExtraValue};
use crate::stats::statistic::{Compute, Extra, Spec, Stat, Statistic, SPECS};

/// Render the report as a plain-text table.
pub fn render(report: &CompareReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "reference: {} ({} rows, {})\ncurrent:   {} ({} rows, {})\nbinning: {}   verdict by: {}\n",
        report.reference.path,
        report.reference.rows,
        report.reference.format,
        report.current.path,
        report.current.rows,
        report.current.format,
        report.settings.psi_binning,
        report.settings.drift_stat,
    );
    let mut rows: Vec<&ColumnReport> = report.columns.iter().collect();
    rows.sort_by(|a, b| b.drift.cmp(&a.drift).then_with(|| b.psi_rank().total_cmp(&a.psi_rank())));
    let name_width = rows.iter().map(|c| c.name.chars().count()).max().unwrap_or(6).clamp(6, 40);
    let _ = writeln!(
        out,
        "{:<name_width$}  {:<11}  {:>9}  {:>9}  {:>8}  {:>8}  {:>10}  {:>8}  {:>8}  drift",
        "column", "type", "n_ref", "n_cur", "PSI", "KS D", "p-value", "JS", "W/std"
    );
    for &c in &rows {
        let name: String = c.name.chars().take(name_width).collect();
        let kind = match c.kind {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        };
        let verdict = match c.status {
            ColumnStatus::Ok if c.drift => format!("DRIFT ({})", c.drift_by),
            ColumnStatus::Ok => "-".to_string(),
            ColumnStatus::EmptyReference => "empty reference".to_string(),
            ColumnStatus::EmptyCurrent => "empty current".to_string(),
        };
        let value = |statistic: Statistic, stat: Stat| c.stat(statistic).map(|s| s.value(stat));
        let p_value =
            value(Statistic::Ks, Stat::KsPValue).or_else(|| value(Statistic::Chisquare, Stat::ChisquarePValue));
        let _ = writeln!(
            out,
            "{:<name_width$}  {:<11}  {:>9}  {:>9}  {:>8}  {:>8}  {:>10}  {:>8}  {:>8}  {}",
            name,
            kind,
            c.n_ref,
            c.n_cur,
            fixed(value(Statistic::Psi, Stat::Psi)),
            fixed(value(Statistic::Ks, Stat::KsStatistic)),
            scientific(p_value),
            fixed(value(Statistic::JensenShannon, Stat::JensenShannon)),
            fixed(value(Statistic::Wasserstein, Stat::WassersteinNormalized)),
            verdict
        );
    }
    sketch_note(&mut out, &rows);
    quality_table(&mut out, &rows, name_width);
    let s = &report.summary;
    let _ = writeln!(
        out,
        "\nDataset drift: {} — {} of {} compared columns drifted ({:.1}%; threshold {:.1}%).",
        if s.dataset_drift { "YES" } else { "no" },
        s.drifted,
        s.compared,
        100.0 * s.share_drifted.0.max(0.0),
        100.0 * report.settings.drift_share.0,
    );
    if let Some(performance) = &report.performance {
        performance_table(&mut out, performance);
    }
    out
}

/// KS from a profile's sketch is `D ± ε`: the bounds, in the table's order, under it.
fn sketch_note(out: &mut String, rows: &[&ColumnReport]) {
    let bounds: Vec<String> = rows
        .iter()
        .filter_map(|c| match c.stat(Statistic::Ks)?.extra(Extra::ErrorBound)? {
            ExtraValue::Bound(bound) => Some(format!("{} ±{bound:.4}", c.name)),
            _ => None,
        })
        .collect();
    if !bounds.is_empty() {
        let _ = writeln!(out, "\nKS D from sketches (D ± ε; p-value by the limit distribution): {}", bounds.join(", "));
    }
}

/// The selected data-quality shares, one line per column in the table's order, with the ones
/// past their threshold named; nothing when none is selected.
fn quality_table(out: &mut String, rows: &[&ColumnReport], name_width: usize) {
    let shown: Vec<&Spec> = SPECS
        .iter()
        .filter(|spec| matches!(spec.compute, Compute::Quality(_)))
        .filter(|spec| rows.iter().any(|c| c.statistics.0.iter().any(|(s, _)| *s == spec.statistic)))
        .collect();
    if shown.is_empty() {
        return;
    }
    let _ = write!(out, "\nData quality (current file)\n{:<name_width$}", "column");
    for spec in &shown {
        let _ = write!(out, "  {:>21}", spec.label);
    }
    let _ = writeln!(out, "  over threshold");
    for c in rows {
        let name: String = c.name.chars().take(name_width).collect();
        let _ = write!(out, "{name:<name_width$}");
        for spec in &shown {
            let _ = write!(out, "  {:>21}", fixed(c.stat(spec.statistic).map(|s| s.value(spec.decided_by))));
        }
        let over: Vec<&str> =
            shown.iter().filter(|spec| c.stat(spec.statistic).is_some_and(|s| s.drift)).map(|spec| spec.name).collect();
        let _ = writeln!(out, "  {}", if over.is_empty() { "-".to_string() } else { over.join(", ") });
    }
}

/// The metrics of both datasets and their difference, one line per metric.
fn performance_table(out: &mut String, p: &PerformanceReport) {
    let what = match p.prediction_type {
        "score" => format!("classification, a score ≥ {} is positive", p.threshold),
        "label" => "classification, predicted labels".to_string(),
        _ => "regression".to_string(),
    };
    let _ = writeln!(out, "\nModel performance: target {:?}, prediction {:?} ({what})", p.target, p.prediction);
    let _ = writeln!(out, "{:<24}  {:>12}  {:>12}  {:>12}", "metric", "reference", "current", "difference");
    let _ = writeln!(out, "{:<24}  {:>12}  {:>12}", "rows used", p.reference.n, p.current.n);
    let _ = writeln!(out, "{:<24}  {:>12}  {:>12}", "rows excluded", p.reference.n_excluded, p.current.n_excluded);
    for (_, label, reference, current, difference) in p.rows() {
        let _ = writeln!(
            out,
            "{label:<24}  {:>12}  {:>12}  {:>12}",
            metric(reference),
            metric(current),
            metric(difference)
        );
    }
}

/// Four decimals, or scientific notation for very large or small magnitudes (MAPE on zeros).
fn metric(v: f64) -> String {
    if v.is_nan() {
        "n/a".to_string()
    } else if v != 0.0 && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

fn fixed(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.4}"),
        Some(v) if v.is_nan() => "n/a".to_string(),
        Some(v) => format!("{v}"),
        None => "-".to_string(),
    }
}

fn scientific(v: Option<f64>) -> String {
    match v {
        Some(0.0) => "0".to_string(),
        Some(v) if v >= 1e-3 => format!("{v:.4}"),
        Some(v) if v.is_finite() => format!("{v:.3e}"),
        Some(_) => "n/a".to_string(),
        None => "-".to_string(),
    }
}
