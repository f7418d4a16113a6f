//! The result of a comparison, and its stable JSON form (`driftd.compare/v1`).
//!
//! The JSON schema is documented in docs/compare.md and pinned by a golden test. Rules: an undefined
//! number is `null`; ±infinity is written as the strings `"inf"` / `"-inf"`; floats use the
//! shortest representation that round-trips; columns keep the reference file's order.
//! [`ColumnReport::detail`] carries what the HTML report draws and is not serialised.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::stats::ks::KsMethod;

/// Schema identifier written in every JSON report.
pub const SCHEMA: &str = "driftd.compare/v1";

/// A float that serialises NaN as `null` and ±inf as `"inf"` / `"-inf"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            serializer.serialize_none()
        } else if v == f64::INFINITY {
            serializer.serialize_str("inf")
        } else if v == f64::NEG_INFINITY {
            serializer.serialize_str("-inf")
        } else {
            serializer.serialize_f64(v)
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    pub schema: &'static str,
    pub reference: DatasetInfo,
    pub current: DatasetInfo,
    pub settings: SettingsInfo,
    #[serde(serialize_with = "serialize_columns")]
    pub columns: Vec<ColumnReport>,
    pub summary: Summary,
}

/// Which file was read, how, and how many data rows it had.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    pub path: String,
    pub format: &'static str,
    pub rows: u64,
}

/// The settings that produced the numbers (so a report explains itself).
#[derive(Debug, Clone, Serialize)]
pub struct SettingsInfo {
    pub psi_binning: String,
    pub epsilon: Num,
    pub drift_stat: &'static str,
    pub drift_share: Num,
}

/// Dataset-level verdict. `share_drifted = drifted / compared`, where `compared` counts the
/// columns with status "ok" (an empty column has no verdict).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub columns: usize,
    pub compared: usize,
    pub drifted: usize,
    pub share_drifted: Num,
    pub dataset_drift: bool,
}

/// One column's result.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    #[serde(skip)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnKind,
    pub status: ColumnStatus,
    pub n_ref: u64,
    pub n_cur: u64,
    pub n_ref_missing: u64,
    pub n_cur_missing: u64,
    pub n_ref_nonfinite: u64,
    pub n_cur_nonfinite: u64,
    pub drift: bool,
    pub drift_by: &'static str,
    pub psi: Option<PsiReport>,
    pub ks: Option<KsReport>,
    pub chisquare: Option<ChiSquareReport>,
    pub jensen_shannon: Option<ValueReport>,
    pub wasserstein: Option<WassersteinReport>,
    pub hellinger: Option<ValueReport>,
    #[serde(skip)]
    pub detail: Option<ColumnDetail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnStatus {
    Ok,
    EmptyReference,
    EmptyCurrent,
}

#[derive(Debug, Clone, Serialize)]
pub struct PsiReport {
    pub value: Num,
    pub binning: String,
    pub n_bins: usize,
    pub threshold: Num,
    pub drift: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct KsReport {
    pub statistic: Num,
    pub p_value: Num,
    pub method: KsMethod,
    pub threshold: Num,
    pub drift: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChiSquareReport {
    pub statistic: Num,
    pub p_value: Num,
    pub dof: u64,
    pub threshold: Num,
    pub drift: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueReport {
    pub value: Num,
    pub threshold: Num,
    pub drift: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WassersteinReport {
    pub value: Num,
    pub normalized: Num,
    pub threshold: Num,
    pub drift: bool,
}

/// What the HTML report draws for a column (not part of the JSON schema).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDetail {
    /// Bin labels ("(−inf, 1.5]", a category, …) with reference and current counts.
    pub bins: Vec<BinDetail>,
    /// For numeric columns: both ECDFs, downsampled, and where the KS distance is largest.
    pub ecdf: Option<EcdfDetail>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BinDetail {
    pub label: String,
    pub reference: u64,
    pub current: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EcdfDetail {
    /// (value, F(value)) points of each sample, at most a few hundred each.
    pub reference: Vec<(f64, f64)>,
    pub current: Vec<(f64, f64)>,
    /// x where |F_ref − F_cur| is largest, with both CDF values there.
    pub ks_location: (f64, f64, f64),
}

fn serialize_columns<S: Serializer>(columns: &[ColumnReport], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(columns.len()))?;
    for column in columns {
        map.serialize_entry(&column.name, column)?;
    }
    map.end()
}

impl CompareReport {
    /// The JSON document, pretty-printed, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_follow_the_schema() {
        let json =
            serde_json::to_string(&[Num(f64::NAN), Num(f64::INFINITY), Num(f64::NEG_INFINITY), Num(0.1), Num(1e-300)])
                .unwrap();
        assert_eq!(json, r#"[null,"inf","-inf",0.1,1e-300]"#);
    }
}
