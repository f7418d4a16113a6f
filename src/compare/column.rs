//! One column pair → one [`ColumnReport`]: the statistics selected for its type, the verdicts,
//! and (with detail) the histogram and ECDF the HTML report draws. Columns are computed on a
//! small thread pool; the whole-file and the column-streaming paths both end here.

use crate::dataset::{CategoricalValues, ColumnData, Dataset, NumericValues};
use crate::stats::binning::Binning;
use crate::stats::profile::{
    compare_categorical, compare_numeric_selected, sort_floats, Bins, CategoricalReference, NumericReference,
};
use crate::stats::quality::{count_out_of_range, count_unseen, QualityCounts};
use crate::stats::statistic::{Compute, Extra, StatValues, Statistic, Statistics, SPECS};
use crate::stats::verdict::DriftStat;

use super::report::*;
use super::CompareOptions;

/// A reference column and its current counterpart, same type.
pub(super) enum ColumnPair {
    Numeric(String, NumericValues, NumericValues),
    Categorical(String, CategoricalValues, CategoricalValues),
}

pub(super) fn pair_columns(reference: Dataset, current: Dataset) -> Vec<ColumnPair> {
    let mut current_columns: Vec<Option<ColumnData>> = Vec::new();
    let mut current_index = std::collections::HashMap::new();
    for column in current.columns {
        current_index.insert(column.name, current_columns.len());
        current_columns.push(Some(column.data));
    }
    reference
        .columns
        .into_iter()
        .filter_map(|column| {
            let cur = current_index.get(&column.name).and_then(|&i| current_columns[i].take())?;
            match (column.data, cur) {
                (ColumnData::Numeric(r), ColumnData::Numeric(c)) => Some(ColumnPair::Numeric(column.name, r, c)),
                (ColumnData::Categorical(r), ColumnData::Categorical(c)) => {
                    Some(ColumnPair::Categorical(column.name, r, c))
                }
                // Reconciled by `mixed_type_columns`; unreachable unless a loader broke its contract.
                _ => None,
            }
        })
        .collect()
}

/// Compute every column on a small thread pool; results keep the input order.
pub(super) fn compare_columns(pairs: Vec<ColumnPair>, options: &CompareOptions) -> Vec<ColumnReport> {
    crate::parallel::parallel_map(pairs, options.threads, |pair| compare_pair(pair, options))
}

fn compare_pair(pair: ColumnPair, options: &CompareOptions) -> ColumnReport {
    match pair {
        ColumnPair::Numeric(name, reference, current) => numeric_report(name, reference, current, options),
        ColumnPair::Categorical(name, reference, current) => categorical_report(name, reference, current, options),
    }
}

pub(super) fn status_of(n_ref: u64, n_cur: u64) -> ColumnStatus {
    if n_ref == 0 {
        ColumnStatus::EmptyReference
    } else if n_cur == 0 {
        ColumnStatus::EmptyCurrent
    } else {
        ColumnStatus::Ok
    }
}

/// A numeric column's (reference, current) counts: values used, missing and non-finite cells.
pub(super) struct NumericCounts {
    pub n: (u64, u64),
    pub missing: (u64, u64),
    pub nonfinite: (u64, u64),
}

/// A numeric column's report before its statistics: counts and status, nothing computed.
pub(super) fn numeric_shell(name: String, counts: &NumericCounts, options: &CompareOptions) -> ColumnReport {
    ColumnReport {
        name,
        kind: ColumnKind::Numeric,
        status: status_of(counts.n.0, counts.n.1),
        n_ref: counts.n.0,
        n_cur: counts.n.1,
        n_ref_missing: counts.missing.0,
        n_cur_missing: counts.missing.1,
        n_ref_nonfinite: counts.nonfinite.0,
        n_cur_nonfinite: counts.nonfinite.1,
        drift: false,
        drift_by: options.drift_stat.decider(true).name(),
        statistics: StatisticReports::empty(&options.statistics),
        detail: None,
    }
}

fn numeric_report(
    name: String,
    reference: NumericValues,
    current: NumericValues,
    options: &CompareOptions,
) -> ColumnReport {
    let counts = NumericCounts {
        n: (reference.values.len() as u64, current.values.len() as u64),
        missing: (reference.missing, current.missing),
        nonfinite: (reference.nonfinite, current.nonfinite),
    };
    let mut report = numeric_shell(name, &counts, options);
    let status = report.status;
    let (n_ref, n_cur) = counts.n;
    let mut quality = QualityCounts {
        cells: n_cur + current.missing + current.nonfinite,
        missing: current.missing,
        values: n_cur,
        reference_usable: n_ref > 0,
        ..QualityCounts::default()
    };
    if status != ColumnStatus::Ok {
        report.statistics = quality_only_reports(&quality, true, options);
        return report;
    }
    let profile = NumericReference::fit(reference.values, &options.settings.binning);
    let mut current_sorted = current.values;
    sort_floats(&mut current_sorted);
    let selected = &options.statistics;
    let mut cmp = compare_numeric_selected(&profile, &current_sorted, &options.settings, selected);
    quality.out_of_range = count_out_of_range(&profile.sorted, &current_sorted);
    cmp.values.set_quality(selected, true, &quality);
    let facts = Facts { bins: &cmp.bins, ks_method: cmp.walk_ks.map(|ks| ks.method), dof: None, ks_error_bound: None };
    report.statistics = statistic_reports(&cmp.values, &facts, true, options);
    report.drift = column_drift(&report, options.drift_stat);
    if options.with_detail {
        report.detail = Some(numeric_detail(&profile, &current_sorted, &cmp.bins, &options.settings.binning));
    }
    report
}

pub(super) fn categorical_report(
    name: String,
    reference: CategoricalValues,
    current: CategoricalValues,
    options: &CompareOptions,
) -> ColumnReport {
    let n_ref: u64 = reference.counts.iter().map(|(_, c)| c).sum();
    let n_cur: u64 = current.counts.iter().map(|(_, c)| c).sum();
    let status = status_of(n_ref, n_cur);
    let mut report = ColumnReport {
        name,
        kind: ColumnKind::Categorical,
        status,
        n_ref,
        n_cur,
        n_ref_missing: reference.missing,
        n_cur_missing: current.missing,
        n_ref_nonfinite: 0,
        n_cur_nonfinite: 0,
        drift: false,
        drift_by: options.drift_stat.decider(false).name(),
        statistics: StatisticReports::empty(&options.statistics),
        detail: None,
    };
    let mut quality = QualityCounts {
        cells: n_cur + current.missing,
        missing: current.missing,
        values: n_cur,
        reference_usable: n_ref > 0,
        ..QualityCounts::default()
    };
    if status != ColumnStatus::Ok {
        report.statistics = quality_only_reports(&quality, false, options);
        return report;
    }
    let profile = CategoricalReference::from_counts(reference.counts);
    let mut cmp = compare_categorical(&profile, &current.counts, &options.settings, &options.statistics);
    if options.statistics.contains(Statistic::UnseenCategoryShare) {
        quality.unseen = count_unseen(&profile.counts, &current.counts);
    }
    cmp.values.set_quality(&options.statistics, false, &quality);
    let facts = Facts { bins: &cmp.bins, ks_method: None, dof: cmp.chisquare_dof, ks_error_bound: None };
    report.statistics = statistic_reports(&cmp.values, &facts, false, options);
    report.drift = column_drift(&report, options.drift_stat);
    if options.with_detail {
        let bins = cmp
            .categories
            .iter()
            .zip(cmp.bins.reference_counts.iter().zip(&cmp.bins.current_counts))
            .map(|(label, (&r, &c))| BinDetail { label: label.clone(), reference: r, current: c })
            .collect();
        report.detail = Some(ColumnDetail { bins, ecdf: None });
    }
    report
}

/// A column that could not be compared (no usable value on one side): the selected
/// data-quality statistics, which still apply (a column missing from every current row has a
/// missing share of 1), and `null` for the others.
pub(super) fn quality_only_reports(
    quality: &QualityCounts,
    numeric: bool,
    options: &CompareOptions,
) -> StatisticReports {
    let mut values = StatValues::default();
    values.set_quality(&options.statistics, numeric, quality);
    let mut reports = StatisticReports::empty(&options.statistics);
    for spec in options.statistics.for_columns(numeric) {
        if matches!(spec.compute, Compute::Quality(_)) {
            let value = values.get(spec.decided_by);
            let threshold = options.thresholds.get(spec.statistic);
            let drift = options.thresholds.drifted(spec.statistic, value);
            reports.set(spec.statistic, Some(StatReport::new(spec.statistic, &[value], threshold, drift)));
        }
    }
    reports
}

/// What a column's comparison knows beside the values, for the registry's [`Extra`]s.
pub(super) struct Facts<'a> {
    pub bins: &'a Bins,
    pub ks_method: Option<crate::stats::ks::KsMethod>,
    pub dof: Option<u64>,
    /// `|D − D_exact|` at most this when KS came from a sketch (profiles); `None` when exact.
    pub ks_error_bound: Option<f64>,
}

/// One entry per registry statistic: a report for the selected ones that apply to the column.
pub(super) fn statistic_reports(
    values: &StatValues,
    facts: &Facts<'_>,
    numeric: bool,
    options: &CompareOptions,
) -> StatisticReports {
    let applies: Statistics = options.statistics.for_columns(numeric).map(|spec| spec.statistic).collect();
    let shown = SPECS.iter().filter(|spec| spec.default_selected || options.statistics.contains(spec.statistic));
    let reports = shown
        .map(|spec| {
            let report = applies.contains(spec.statistic).then(|| {
                let extras = spec
                    .report
                    .iter()
                    .filter_map(|&extra| {
                        let value = match extra {
                            Extra::Binning => ExtraValue::Text(options.settings.binning.to_string()),
                            Extra::BinCount => ExtraValue::Count(facts.bins.n_bins as u64),
                            Extra::KsMethod => ExtraValue::Method(facts.ks_method?),
                            Extra::DegreesOfFreedom => ExtraValue::Count(facts.dof?),
                            Extra::ErrorBound => ExtraValue::Bound(facts.ks_error_bound?),
                        };
                        Some((extra, value))
                    })
                    .collect();
                StatReport {
                    statistic: spec.statistic,
                    values: spec.values.iter().map(|&(_, stat)| Num(values.get(stat))).collect(),
                    extras,
                    threshold: Num(options.thresholds.get(spec.statistic)),
                    drift: options.thresholds.drifted(spec.statistic, values.get(spec.decided_by)),
                }
            });
            (spec.statistic, report)
        })
        .collect();
    StatisticReports(reports)
}

/// Whether the statistic that decides this column's type says drift.
pub(super) fn column_drift(report: &ColumnReport, stat: DriftStat) -> bool {
    let decider: Statistic = stat.decider(report.kind == ColumnKind::Numeric);
    report.statistics.get(decider).is_some_and(|s| s.drift)
}

/// Bins with readable labels and downsampled ECDFs for the HTML report.
fn numeric_detail(profile: &NumericReference, current_sorted: &[f64], bins: &Bins, binning: &Binning) -> ColumnDetail {
    let counts = bins.reference_counts.iter().zip(&bins.current_counts);
    let edges = &bins.edges;
    let labels: Vec<String> =
        match binning {
            Binning::Evidently if edges.is_empty() => {
                // Per-value branch: one bin per distinct value of the union.
                let mut union: Vec<f64> = profile.sorted.iter().chain(current_sorted).copied().collect();
                sort_floats(&mut union);
                union.dedup();
                union.iter().map(|v| format!("{v}")).collect()
            }
            Binning::Evidently => edges
                .windows(2)
                .enumerate()
                .map(|(i, w)| {
                    if i + 2 == edges.len() {
                        format!("[{}, {}]", w[0], w[1])
                    } else {
                        format!("[{}, {})", w[0], w[1])
                    }
                })
                .collect(),
            _ => (0..=edges.len())
                .map(|i| {
                    let lo = if i == 0 { "−inf".to_string() } else { format!("{}", edges[i - 1]) };
                    let hi = if i == edges.len() { "+inf)".to_string() } else { format!("{}]", edges[i]) };
                    format!("({lo}, {hi}")
                })
                .collect(),
        };
    let bins =
        labels.into_iter().zip(counts).map(|(label, (&r, &c))| BinDetail { label, reference: r, current: c }).collect();
    ColumnDetail { bins, ecdf: Some(ecdf_detail(&profile.sorted, current_sorted)) }
}

const ECDF_POINTS: usize = 400;

fn ecdf_detail(reference: &[f64], current: &[f64]) -> EcdfDetail {
    let downsample = |sorted: &[f64]| -> Vec<(f64, f64)> {
        let n = sorted.len();
        let step = (n / ECDF_POINTS).max(1);
        let mut points: Vec<(f64, f64)> =
            (0..n).step_by(step).map(|i| (sorted[i], (i + 1) as f64 / n as f64)).collect();
        points.push((sorted[n - 1], 1.0));
        points
    };
    // Where is |F_ref − F_cur| largest? One merged pass, as the KS statistic.
    let (n1, n2) = (reference.len() as f64, current.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut best = (reference[0], 0.0, 0.0, -1.0);
    while i < reference.len() || j < current.len() {
        let x = match (reference.get(i), current.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        while i < reference.len() && reference[i] <= x {
            i += 1;
        }
        while j < current.len() && current[j] <= x {
            j += 1;
        }
        let (f1, f2) = (i as f64 / n1, j as f64 / n2);
        if (f1 - f2).abs() > best.3 {
            best = (x, f1, f2, (f1 - f2).abs());
        }
    }
    EcdfDetail { reference: downsample(reference), current: downsample(current), ks_location: (best.0, best.1, best.2) }
}
