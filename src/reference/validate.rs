//! The invariants of a reference profile (listed on [`validate`]), checked before a
//! profile is saved and after one is loaded.
//!
//! Input: a [`ReferenceProfile`]. Output: `Ok`, or one line naming the stream and feature and
//! what is wrong with it, which the caller prefixes with the file's path.

use super::{FeatureKind, FeatureProfile, ReferenceProfile, PROFILE_FORMAT_VERSION};
use crate::stats::binning::{count_right_closed_sorted, Binning};

/// Check the invariants of a profile; the message names the stream and feature.
///
/// Per feature: `n + missing + nonfinite == meta.rows`. Numeric: `sorted` finite and
/// ascending, empty iff `n == 0`, `sorted.len() <= n` (less when subsampled); `edges` present
/// iff `n > 0` and the binning is frozen (not `evidently`), ascending, with as many edges as
/// the binning implies; `bin_counts` present iff `edges` is, `edges.len() + 1` counts summing
/// to `n` (equal to the sample's when it is not subsampled). Categorical: labels strictly
/// ascending by bytes, counts > 0 summing to `n`, `nonfinite == 0`. Feature names are unique
/// within a stream, a present stream has at least one feature, and `source_sha256` is 64
/// hexadecimal digits or empty (a trailing reference's skeleton).
pub fn validate(profile: &ReferenceProfile) -> Result<(), String> {
    let meta = &profile.meta;
    if meta.format_version != PROFILE_FORMAT_VERSION {
        return Err(format!("format version {} in memory, expected {PROFILE_FORMAT_VERSION}", meta.format_version));
    }
    let sha = &meta.source_sha256;
    if !sha.is_empty() && (sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(format!("source sha256 {sha:?} is not 64 hexadecimal digits (or empty: no source file)"));
    }
    let binning: Binning = meta.binning.parse().map_err(|e| format!("binning: {e}"))?;
    for (stream, s) in &profile.streams {
        if s.features.is_empty() {
            return Err(format!("stream {stream} has no features"));
        }
        let mut names = std::collections::BTreeSet::new();
        for feature in &s.features {
            let place = || format!("stream {stream}, feature {:?}", feature.name);
            if !names.insert(feature.name.as_str()) {
                return Err(format!("{}: the name appears twice", place()));
            }
            check_feature(feature, meta.rows, &binning).map_err(|m| format!("{}: {m}", place()))?;
        }
    }
    Ok(())
}

fn check_feature(feature: &FeatureProfile, rows: u64, binning: &Binning) -> Result<(), String> {
    let total = feature.n.checked_add(feature.missing).and_then(|t| t.checked_add(feature.nonfinite));
    if total != Some(rows) {
        return Err(format!(
            "n {} + missing {} + nonfinite {} is not the row count {rows}",
            feature.n, feature.missing, feature.nonfinite
        ));
    }
    match &feature.kind {
        FeatureKind::Numeric(r) => {
            let len = r.sorted.len() as u64;
            if len > feature.n || (len == 0) != (feature.n == 0) {
                return Err(format!("a sample of {len} values cannot come from n = {}", feature.n));
            }
            if let Some(i) = r.sorted.iter().position(|v| !v.is_finite()) {
                return Err(format!("sample value {i} is not finite"));
            }
            if let Some(i) = r.sorted.windows(2).position(|w| w[0] > w[1]) {
                return Err(format!("the sample is not sorted (values {i} and {})", i + 1));
            }
            let expected_edges = match binning {
                _ if feature.n == 0 => None,
                Binning::Quantile { bins } | Binning::EqualWidth { bins } => Some(bins - 1),
                Binning::Edges(edges) => Some(edges.len()),
                Binning::Evidently => None,
            };
            if r.edges.as_ref().map(Vec::len) != expected_edges {
                return Err(match expected_edges {
                    Some(k) => format!("expected {k} edges for binning {binning}"),
                    None => format!("no edges expected (binning {binning}, n = {})", feature.n),
                });
            }
            match (&r.edges, &feature.bin_counts) {
                (None, None) => {}
                (Some(edges), Some(counts)) => {
                    if edges.windows(2).any(|w| w[0] > w[1]) {
                        return Err("the edges are not ascending".to_string());
                    }
                    if counts.len() != edges.len() + 1
                        || counts.iter().try_fold(0u64, |a, &c| a.checked_add(c)) != Some(feature.n)
                    {
                        return Err(format!("bin counts must be {} counts summing to n", edges.len() + 1));
                    }
                    // Without subsampling the counts follow from the sample: a cheap check that
                    // neither was altered.
                    if len == feature.n && count_right_closed_sorted(&r.sorted, edges) != *counts {
                        return Err("bin counts do not match the sample".to_string());
                    }
                }
                (Some(_), None) => return Err("bin counts are missing".to_string()),
                (None, Some(_)) => return Err("bin counts without edges".to_string()),
            }
        }
        FeatureKind::Categorical(r) => {
            if feature.nonfinite != 0 || feature.bin_counts.is_some() {
                return Err("a categorical feature has no non-finite values or bin counts".to_string());
            }
            if let Some(w) = r.counts.windows(2).find(|w| w[0].0.as_bytes() >= w[1].0.as_bytes()) {
                return Err(format!("categories {:?} and {:?} are not in ascending byte order", w[0].0, w[1].0));
            }
            if let Some((label, _)) = r.counts.iter().find(|(_, c)| *c == 0) {
                return Err(format!("category {label:?} has a zero count"));
            }
            if r.counts.iter().try_fold(0u64, |a, (_, c)| a.checked_add(*c)) != Some(feature.n) {
                return Err("category counts do not sum to n".to_string());
            }
        }
    }
    Ok(())
}
