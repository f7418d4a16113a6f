//! The result of a comparison, and its stable JSON form (`driftd.compare/v1`).
//!
//! The JSON schema is documented in docs/compare.md and pinned by a golden test. Rules: an undefined
//! number is `null`; ±infinity is written as the strings `"inf"` / `"-inf"`; floats use the
//! shortest representation that round-trips; columns keep the reference file's order.
//! [`ColumnReport::detail`] carries what the HTML report draws and is not serialised.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

pub use super::num::Num;
use super::performance::PerformanceReport;
use crate::stats::ks::KsMethod;
use crate::stats::statistic::{Extra, Stat, Statistic, Statistics, SPECS};

/// Schema identifier written in every JSON report.
pub const SCHEMA: &str = "driftd.compare/v1";

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
    /// With `--target` / `--prediction` only (the key is absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformanceReport>,
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
    /// Every statistic of the registry, in its order: `null` when not selected or not
    /// applicable to the column's type.
    #[serde(flatten)]
    pub statistics: StatisticReports,
    #[serde(skip)]
    pub detail: Option<ColumnDetail>,
}

impl ColumnReport {
    /// A statistic's report, if it was computed for this column.
    pub fn stat(&self, statistic: Statistic) -> Option<&StatReport> {
        self.statistics.get(statistic)
    }

    /// The PSI for ordering reports most drifted first: −∞ when there is none (not computed,
    /// or NaN), so such columns sort last.
    pub fn psi_rank(&self) -> f64 {
        let psi = self.stat(Statistic::Psi).map_or(f64::NAN, |p| p.value(Stat::Psi));
        if psi.is_nan() {
            f64::NEG_INFINITY
        } else {
            psi
        }
    }
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

/// One entry per registry statistic, serialised as `"name": {…}` or `"name": null`.
#[derive(Debug, Clone)]
pub struct StatisticReports(pub Vec<(Statistic, Option<StatReport>)>);

impl Default for StatisticReports {
    /// The default statistics, none computed.
    fn default() -> Self {
        StatisticReports::empty(&Statistics::DEFAULT)
    }
}

impl StatisticReports {
    /// None computed, with a `null` entry for each default statistic and each selected one
    /// (an opt-in statistic not selected is left out, so adding one changes no report).
    pub fn empty(selected: &Statistics) -> Self {
        let shown = SPECS.iter().filter(|spec| spec.default_selected || selected.contains(spec.statistic));
        StatisticReports(shown.map(|spec| (spec.statistic, None)).collect())
    }

    /// Replaces a statistic's report.
    pub fn set(&mut self, statistic: Statistic, report: Option<StatReport>) {
        if let Some(entry) = self.0.iter_mut().find(|(s, _)| *s == statistic) {
            entry.1 = report;
        }
    }

    /// A statistic's report, if it was computed.
    pub fn get(&self, statistic: Statistic) -> Option<&StatReport> {
        self.0.iter().find(|(s, _)| *s == statistic).and_then(|(_, report)| report.as_ref())
    }
}

impl Serialize for StatisticReports {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (statistic, report) in &self.0 {
            map.serialize_entry(statistic.name(), report)?;
        }
        map.end()
    }
}

/// A statistic's values, what the registry says to show beside them, its threshold and
/// verdict. JSON: the values under their names (`value`, `p_value`, …), the extras, then
/// `threshold` and `drift`.
#[derive(Debug, Clone)]
pub struct StatReport {
    pub statistic: Statistic,
    /// In the order of the statistic's `Spec::values`.
    pub values: Vec<Num>,
    pub extras: Vec<(Extra, ExtraValue)>,
    pub threshold: Num,
    pub drift: bool,
}

impl StatReport {
    /// A report of `values` (in the statistic's `Spec::values` order), without extras.
    pub fn new(statistic: Statistic, values: &[f64], threshold: f64, drift: bool) -> Self {
        let values = values.iter().map(|&v| Num(v)).collect();
        StatReport { statistic, values, extras: Vec::new(), threshold: Num(threshold), drift }
    }
    /// The same with one more extra.
    pub fn with(mut self, extra: Extra, value: ExtraValue) -> Self {
        self.extras.push((extra, value));
        self
    }
    /// The value of `stat` (NaN if this statistic does not yield it).
    pub fn value(&self, stat: Stat) -> f64 {
        let spec = self.statistic.spec();
        spec.values.iter().position(|&(_, s)| s == stat).and_then(|i| self.values.get(i)).map_or(f64::NAN, |v| v.0)
    }
    /// The value the threshold applies to.
    pub fn decisive(&self) -> f64 {
        self.value(self.statistic.spec().decided_by)
    }
    pub fn extra(&self, extra: Extra) -> Option<&ExtraValue> {
        self.extras.iter().find(|(e, _)| *e == extra).map(|(_, v)| v)
    }
}

/// The value of an [`Extra`].
#[derive(Debug, Clone, PartialEq)]
pub enum ExtraValue {
    Text(String),
    Count(u64),
    Method(KsMethod),
    /// A bound on a value's error (KS from a sketch: `D ± bound`).
    Bound(f64),
}

impl Extra {
    fn key(self) -> &'static str {
        match self {
            Extra::Binning => "binning",
            Extra::BinCount => "n_bins",
            Extra::KsMethod => "method",
            Extra::DegreesOfFreedom => "dof",
            Extra::ErrorBound => "error_bound",
        }
    }
}

impl Serialize for StatReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let spec = self.statistic.spec();
        let mut map = serializer.serialize_map(Some(spec.values.len() + self.extras.len() + 2))?;
        for (&(name, _), value) in spec.values.iter().zip(&self.values) {
            map.serialize_entry(name, value)?;
        }
        for (extra, value) in &self.extras {
            match value {
                ExtraValue::Text(text) => map.serialize_entry(extra.key(), text)?,
                ExtraValue::Count(count) => map.serialize_entry(extra.key(), count)?,
                ExtraValue::Method(method) => map.serialize_entry(extra.key(), method)?,
                ExtraValue::Bound(bound) => map.serialize_entry(extra.key(), &Num(*bound))?,
            }
        }
        map.serialize_entry("threshold", &self.threshold)?;
        map.serialize_entry("drift", &self.drift)?;
        map.end()
    }
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
