//! `driftd reference show`: a profile's metadata and one line per feature, as plain text.
//!
//! Input: a loaded [`ReferenceProfile`] and the path it was read from. Output: the text, ending
//! with a newline. Numbers in the feature table are rounded for reading (six significant
//! digits); the profile file itself holds the exact values.

use std::fmt::Write as _;

use super::{FeatureKind, FeatureProfile, ReferenceProfile};

/// Render the profile read from `path`.
pub fn render(profile: &ReferenceProfile, path: &str) -> String {
    let meta = &profile.meta;
    let mut out = String::new();
    let features: usize = profile.streams.values().map(|s| s.features.len()).sum();
    let _ = writeln!(out, "Reference profile {path}");
    for (key, value) in [
        ("format version", meta.format_version.to_string()),
        ("model version", meta.model_version.clone().unwrap_or_else(|| "-".to_string())),
        ("created at", meta.created_at.clone()),
        ("source", meta.source_path.clone()),
        ("source sha256", if meta.source_sha256.is_empty() { "-".to_string() } else { meta.source_sha256.clone() }),
        ("rows", meta.rows.to_string()),
        ("binning", meta.binning.clone()),
        ("features", features.to_string()),
    ] {
        let _ = writeln!(out, "  {key:<15} {value}");
    }
    out.push('\n');

    let mut rows = vec![["STREAM", "FEATURE", "TYPE", "N", "MISSING", "NONFINITE", "SUMMARY"].map(String::from)];
    for (stream, s) in &profile.streams {
        for feature in &s.features {
            let kind = match feature.kind {
                FeatureKind::Numeric(_) => "numeric",
                FeatureKind::Categorical(_) => "categorical",
            };
            rows.push([
                stream.to_string(),
                feature.name.clone(),
                kind.to_string(),
                feature.n.to_string(),
                feature.missing.to_string(),
                feature.nonfinite.to_string(),
                summary(feature),
            ]);
        }
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let pad = width.saturating_sub(cell.chars().count());
            match i {
                // Counts right-aligned, text left-aligned; the last column is not padded.
                3..=5 => line.push_str(&format!("{}{cell}  ", " ".repeat(pad))),
                6 => line.push_str(cell),
                _ => line.push_str(&format!("{cell}{}  ", " ".repeat(pad))),
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// One-line description of a feature's reference.
fn summary(feature: &FeatureProfile) -> String {
    match &feature.kind {
        FeatureKind::Numeric(r) => {
            let (Some(min), Some(max)) = (r.sorted.first(), r.sorted.last()) else {
                return "no values".to_string();
            };
            let mut text = format!("min {}, max {}, std {}", number(*min), number(*max), number(r.std));
            if let Some(edges) = &r.edges {
                let _ = write!(text, ", {} bins", edges.len() + 1);
            }
            if feature.is_subsampled() {
                let _ = write!(text, ", sample {} of {}", r.sorted.len(), feature.n);
            }
            text
        }
        FeatureKind::Categorical(r) => {
            if r.counts.is_empty() {
                return "no values".to_string();
            }
            let mut top: Vec<&(String, u64)> = r.counts.iter().collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_bytes().cmp(b.0.as_bytes())));
            let shown: Vec<String> = top
                .iter()
                .take(3)
                .map(|(label, count)| format!("{label:?} {:.1}%", 100.0 * *count as f64 / feature.n.max(1) as f64))
                .collect();
            let more = if r.counts.len() > 3 { ", …" } else { "" };
            format!("{} categories: {}{more}", r.counts.len(), shown.join(", "))
        }
    }
}

/// Six significant digits, without trailing zeros; exponent form for very large or small values.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return format!("{v:.5e}");
    }
    let decimals = (5 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::number;

    #[test]
    fn numbers_are_rounded_for_reading() {
        assert_eq!(number(18734.23456), "18734.2");
        assert_eq!(number(0.12850), "0.1285");
        assert_eq!(number(53.0), "53");
        assert_eq!(number(-2.5e-7), "-2.50000e-7");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
