//! End to end: the bundled credit data through a monitor gives, window by window, exactly the
//! numbers `driftd compare` gives on the same rows.
//!
//! The reference is fit from `examples/data/credit_reference.csv` (`NumericReference::fit`,
//! `CategoricalReference::from_counts`, `score` as the predictions stream); the rows of
//! `credit_current.csv` become records, every cell as text (so the monitor types the cells
//! `compare` types), one every 1.8 s from 2026-01-01T00:00Z. One-hour tumbling windows hold rows
//! 0–1999, 2000–3999 and 4000–4999; each window's rows go to a CSV compared with `compare::run`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::profile;
use crate::compare::report::ColumnReport;
use crate::compare::{self, CompareOptions};
use crate::dataset::{self, ColumnData, LoadOptions};
use crate::monitor::*;
use crate::record::{Position, Value};
use crate::reference::FeatureKind;
use crate::reference::FeatureProfile;
use crate::stats::binning::count_right_closed_sorted;
use crate::stats::binning::Binning;
use crate::stats::profile::{CategoricalReference, NumericReference};
use crate::stats::statistic::{Statistic, Statistics};

const HOUR_MS: i64 = 3_600_000;
/// 2026-01-01T00:00:00Z, on an hour boundary.
const T0_MS: i64 = 1_767_225_600_000;
const STEP_MS: i64 = 1_800;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data").join(name)
}

fn fit_profile(binning: &Binning) -> Arc<ReferenceProfile> {
    let reference = dataset::load(&data("credit_reference.csv"), &LoadOptions::default()).unwrap();
    let (mut inputs, mut predictions) = (Vec::new(), Vec::new());
    for column in reference.columns {
        let (kind, missing, nonfinite, n, bin_counts) = match column.data {
            ColumnData::Numeric(v) => {
                let r = NumericReference::fit(v.values, binning);
                let counts = r.edges.as_ref().map(|e| count_right_closed_sorted(&r.sorted, e));
                let n = r.sorted.len() as u64;
                (FeatureKind::Numeric(r), v.missing, v.nonfinite, n, counts)
            }
            ColumnData::Categorical(c) => {
                let n = c.counts.iter().map(|(_, k)| k).sum();
                (FeatureKind::Categorical(CategoricalReference::from_counts(c.counts)), c.missing, 0, n, None)
            }
        };
        let is_score = column.name == "score";
        let feature = FeatureProfile { name: column.name, kind, missing, nonfinite, n, bin_counts };
        if is_score {
            predictions.push(feature);
        } else {
            inputs.push(feature);
        }
    }
    assert_eq!((inputs.len(), predictions.len()), (9, 1));
    profile(inputs, predictions)
}

/// `compare`'s numbers for one column, as (stat, value) in [`Stat`] order.
fn compare_values(column: &ColumnReport) -> Vec<(Stat, f64)> {
    let mut out = Vec::new();
    for spec in &crate::stats::statistic::SPECS {
        if let Some(report) = column.stat(spec.statistic) {
            out.extend(spec.values.iter().map(|&(_, stat)| (stat, report.value(stat))));
        }
    }
    out
}

#[test]
fn hourly_windows_over_the_credit_data_equal_compare_on_the_same_rows() {
    // 10 features: 6 numeric × 7 statistics + 3 categorical × 5 + the score × 7, per window.
    let observations = windows_equal_compare(Statistics::DEFAULT, 64);
    // months_employed has missing cells in the current data: the test covers the missing path.
    assert!(observations.iter().any(|o| o.feature == "months_employed" && o.detail.missing > 0));
}

#[test]
fn data_quality_shares_of_hourly_windows_equal_compare_on_the_same_rows() {
    let quality: Statistics = [
        Statistic::MissingShare,
        Statistic::TypeMismatchShare,
        Statistic::OutOfRangeShare,
        Statistic::UnseenCategoryShare,
    ]
    .into_iter()
    .collect();
    // 7 numeric features (the score too) × 3 shares + 3 categorical × 2, per window.
    let observations = windows_equal_compare(quality, 27);
    let positive = |stat: Stat| observations.iter().any(|o| o.stat == stat && o.value > 0.0);
    // The current data has missing cells and values beyond the reference's range: both paths run.
    assert!(positive(Stat::MissingShare) && positive(Stat::OutOfRangeShare));
}

/// Feeds the credit data's current rows into hourly windows computing `statistics`, and checks
/// every observation against `driftd compare` on the same rows, bit for bit.
fn windows_equal_compare(statistics: Statistics, per_window: usize) -> Vec<Observation> {
    let profile = fit_profile(&Binning::default());
    let spec = WindowSpec::tumbling_time(HOUR_MS as u64, 0);
    let settings = MonitorSettings { statistics, ..MonitorSettings::default() };
    let mut core = MonitorCore::new("credit", profile.clone(), spec, settings).unwrap();

    let mut reader = csv::Reader::from_path(data("credit_current.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 5000);
    let columns_of = |stream: Stream| -> Vec<usize> {
        let features = &profile.streams[&stream].features;
        features.iter().map(|f| header.iter().position(|h| *h == f.name).unwrap()).collect()
    };
    let streams =
        [(Stream::Inputs, columns_of(Stream::Inputs)), (Stream::Predictions, columns_of(Stream::Predictions))];

    let mut observations = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (stream, columns) in &streams {
            let record = Record {
                monitor: 0,
                stream: *stream,
                event_time_ms: T0_MS + i as i64 * STEP_MS,
                values: columns.iter().map(|&c| Value::Text(row[c].to_string())).collect(),
                position: Position::File { line: i as u64 + 2 },
                key: None,
            };
            assert!(matches!(core.on_record(&record), RecordOutcome::Accepted { windows: 1, type_mismatches: 0, .. }));
        }
        observations.extend(core.on_watermark());
    }
    let closed_by_watermark = observations.len();
    observations.extend(core.flush());
    assert_eq!(closed_by_watermark, 2 * per_window, "the first two hours close when the next one starts");
    assert_eq!(observations.len(), 3 * per_window);

    let dir = tempfile::tempdir().unwrap();
    for (window, range) in [(0, 0..2000), (1, 2000..4000), (2, 4000..5000)] {
        let path = dir.path().join(format!("window{window}.csv"));
        let mut writer = csv::Writer::from_path(&path).unwrap();
        writer.write_record(&header).unwrap();
        for row in &rows[range.clone()] {
            writer.write_record(row).unwrap();
        }
        writer.flush().unwrap();
        let options = CompareOptions {
            reference: data("credit_reference.csv"),
            current: path,
            threads: 1,
            statistics,
            ..CompareOptions::default()
        };
        let report = compare::run(&options).unwrap();
        let start = T0_MS + window * HOUR_MS;
        let in_window: Vec<&Observation> = observations.iter().filter(|o| o.window.start_ms == start).collect();
        assert_eq!(in_window.len(), per_window);
        for o in &in_window {
            assert_eq!((o.window.end_ms, o.window.events), (start + HOUR_MS, range.len() as u64));
            assert_eq!(o.window.first, Position::File { line: range.start as u64 + 2 });
            assert_eq!(o.window.last, Position::File { line: range.end as u64 + 1 });
        }
        assert_eq!(report.columns.len(), 10);
        for column in &report.columns {
            let mine: Vec<&&Observation> = in_window.iter().filter(|o| o.feature == column.name).collect();
            let expected = compare_values(column);
            assert_eq!(mine.len(), expected.len(), "{}", column.name);
            for (o, (stat, value)) in mine.iter().zip(&expected) {
                assert_eq!(o.stat, *stat);
                assert_eq!(
                    o.value.to_bits(),
                    value.to_bits(),
                    "window {window}, {}.{stat}: monitor {} vs compare {value}",
                    column.name,
                    o.value
                );
                assert_eq!(
                    (o.n, o.detail.missing, o.detail.nonfinite),
                    (column.n_cur, column.n_cur_missing, column.n_cur_nonfinite)
                );
            }
        }
    }
    observations
}
