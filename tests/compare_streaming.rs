//! Column-streaming compare gives the same report as reading everything at once, bit for bit.
//!
//! Inputs: every case under `tests/data/cases/` rewritten as Parquet, Arrow IPC file and Arrow
//! IPC stream (all columns as text, so typing is by content as in the CSV), and generated wide
//! (2,000 rows × 300 columns) and tall (60,000 rows × 6 columns) files of typed, text,
//! dictionary, boolean and mixed-type columns. Each is compared with a limit of one byte (one
//! column per group: the budget is below any column, which still works), a limit that gives
//! several columns per group, and no practical limit (one group); the JSON (and for the cases
//! the HTML and the CSV comparison's columns) must be identical.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_ipc::writer::{FileWriter, StreamWriter};
use driftd::compare::{self, CompareOptions};
use driftd::dataset::Format;
use driftd::stats::statistic::Statistics;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

/// The base of every limit: 64 MiB of fixed costs plus the sort buffers (2 threads) of `rows`.
fn fixed(rows: u64) -> u64 {
    (64 << 20) + 2 * 16 * rows
}

fn options(reference: &Path, current: &Path, limit: u64) -> CompareOptions {
    CompareOptions {
        reference: reference.to_path_buf(),
        current: current.to_path_buf(),
        statistics: "all".parse::<Statistics>().unwrap(),
        threads: 2,
        memory_limit: Some(limit),
        ..CompareOptions::default()
    }
}

/// The report's JSON without the file names and formats, which differ between copies.
fn columns_json(report: &compare::report::CompareReport) -> Value {
    let mut json: Value = serde_json::from_str(&report.to_json()).unwrap();
    for side in ["reference", "current"] {
        json[side].as_object_mut().unwrap().retain(|key, _| key == "rows");
    }
    json
}

/// Compares `reference` with `current` at each limit and checks every report equals the one
/// read in one group; returns that report's JSON and the group counts.
fn same_at_every_limit(reference: &Path, current: &Path, limits: &[u64], html: bool) -> (Value, Vec<usize>) {
    let whole = compare::run(&options(reference, current, u64::MAX)).unwrap();
    let whole_json = whole.to_json();
    let mut groups = Vec::new();
    for &limit in limits {
        let streamed = compare::run(&options(reference, current, limit)).unwrap();
        assert_eq!(streamed.to_json(), whole_json, "{} at limit {limit}", reference.display());
        groups.push(compare::read_only(&options(reference, current, limit)).unwrap().groups);
    }
    if html {
        let detail = |limit| CompareOptions { with_detail: true, ..options(reference, current, limit) };
        let streamed = compare::html::render(&compare::run(&detail(1)).unwrap());
        assert_eq!(streamed, compare::html::render(&compare::run(&detail(u64::MAX)).unwrap()));
    }
    assert_eq!(compare::read_only(&options(reference, current, u64::MAX)).unwrap().groups, 1);
    (columns_json(&whole), groups)
}

/// Writes `batch` as Parquet (row groups of `rows_per_group`), Arrow IPC file and stream
/// (record batches of `rows_per_group`), named `stem.*` in `dir`.
fn write_all(dir: &Path, stem: &str, batch: &RecordBatch, rows_per_group: usize) -> Vec<PathBuf> {
    let parquet = dir.join(format!("{stem}.parquet"));
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(rows_per_group)).build();
    let mut writer = ArrowWriter::try_new(File::create(&parquet).unwrap(), batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();

    let slices = || {
        (0..batch.num_rows())
            .step_by(rows_per_group)
            .map(|start| batch.slice(start, rows_per_group.min(batch.num_rows() - start)))
    };
    let ipc = dir.join(format!("{stem}.arrow"));
    let mut writer = FileWriter::try_new(File::create(&ipc).unwrap(), &batch.schema()).unwrap();
    slices().for_each(|b| writer.write(&b).unwrap());
    writer.finish().unwrap();
    let stream = dir.join(format!("{stem}.arrows"));
    let mut writer = StreamWriter::try_new(File::create(&stream).unwrap(), &batch.schema()).unwrap();
    slices().for_each(|b| writer.write(&b).unwrap());
    writer.finish().unwrap();
    vec![parquet, ipc, stream]
}

/// A CSV file as a batch of text columns (empty cells stay empty strings: missing, as in CSV).
fn csv_as_text(path: &Path) -> RecordBatch {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for record in reader.records() {
        for (column, cell) in cells.iter_mut().zip(record.unwrap().iter()) {
            column.push(cell.to_string());
        }
    }
    let columns: Vec<(String, ArrayRef)> =
        names.into_iter().zip(cells).map(|(n, c)| (n, Arc::new(StringArray::from(c)) as ArrayRef)).collect();
    RecordBatch::try_from_iter(columns).unwrap()
}

#[test]
fn every_reference_case_streams_to_the_same_report() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases");
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(&cases).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    names.sort();
    assert!(names.len() >= 10, "the reference cases are there");
    for case in names {
        let dir = tempfile::tempdir().unwrap();
        let (ref_csv, cur_csv) = (case.join("reference.csv"), case.join("current.csv"));
        let (reference, current) = (csv_as_text(&ref_csv), csv_as_text(&cur_csv));
        let rows = reference.num_rows().max(current.num_rows());
        let refs = write_all(dir.path(), "reference", &reference, rows.div_ceil(3).max(1));
        let curs = write_all(dir.path(), "current", &current, rows.div_ceil(4).max(1));
        let csv = columns_json(&compare::run(&options(&ref_csv, &cur_csv, 1)).unwrap());
        for (r, c) in refs.iter().zip(&curs) {
            let (json, _) = same_at_every_limit(r, c, &[1, fixed(rows as u64) + 300_000], true);
            assert_eq!(json, csv, "{}: {} must read as the CSV does", case.display(), r.display());
        }
    }
}

/// A deterministic generator (splitmix64): no dependency, same data on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Column `k` of a generated file: `drift` shifts the values; `current` picks the side where
/// mixed columns are text.
fn generated_column(k: usize, rows: usize, rng: &mut Rng, drift: f64, current: bool) -> ArrayRef {
    let value = |rng: &mut Rng| (rng.unit() + rng.unit() + rng.unit()) * (1.0 + k as f64 % 7.0) + drift;
    match k % 12 {
        0..=2 => Arc::new(Float64Array::from_iter((0..rows).map(|_| match rng.below(100) {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(f64::INFINITY),
            _ => Some(value(rng)),
        }))),
        3 => Arc::new(Int64Array::from_iter_values((0..rows).map(|_| (value(rng) * 2.0) as i64))),
        4 => Arc::new(Float32Array::from_iter_values((0..rows).map(|_| value(rng) as f32))),
        5 => Arc::new(StringArray::from_iter_values((0..rows).map(|_| format!("c{}", (value(rng) * 3.0) as u32)))),
        6 => {
            let labels = (0..rows).map(|_| Some(["red", "green", "blue", "", "NaN"][rng.below(5) as usize]));
            Arc::new(labels.collect::<DictionaryArray<Int32Type>>())
        }
        // Numbers written as text, with NaN tokens and blanks: numeric by content.
        7 => Arc::new(StringArray::from_iter_values((0..rows).map(|_| match rng.below(50) {
            0 => "nan".to_string(),
            1 => String::new(),
            _ => format!("{:.3}", value(rng)),
        }))),
        // Numeric in the reference, numbers with some text in the current: categorical in both.
        8 if !current => Arc::new(Float64Array::from_iter_values((0..rows).map(|_| (value(rng) * 4.0).round() / 4.0))),
        8 => Arc::new(StringArray::from_iter_values((0..rows).map(|i| match i % 97 {
            5 => "n/a".to_string(),
            _ => format!("{}", (value(rng) * 4.0).round() / 4.0),
        }))),
        // Text numbers turning to text after most rows (the loaders' fixup pass) in the
        // reference; plain text numbers in the current (re-read as text there).
        9 => Arc::new(StringArray::from_iter_values((0..rows).map(|i| {
            if !current && i > rows * 3 / 4 && i % 5 == 0 {
                "other".to_string()
            } else {
                format!("{:.1}", value(rng))
            }
        }))),
        10 => Arc::new(BooleanArray::from_iter((0..rows).map(|_| (rng.below(20) > 0).then(|| rng.unit() < 0.3)))),
        _ => {
            let labels: Vec<String> = (0..rows).map(|_| format!("{:.2}", value(rng))).collect();
            Arc::new(labels.iter().map(|l| Some(l.as_str())).collect::<DictionaryArray<Int32Type>>())
        }
    }
}

fn generated(rows: usize, columns: usize, seed: u64, drift: f64, current: bool) -> RecordBatch {
    let mut rng = Rng(seed);
    let arrays: Vec<(String, ArrayRef)> = (0..columns)
        .map(|k| {
            (format!("col_{k:03}"), generated_column(k, rows, &mut rng, if k % 3 == 0 { drift } else { 0.0 }, current))
        })
        .collect();
    RecordBatch::try_from_iter(arrays).unwrap()
}

#[test]
fn wide_files_stream_to_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, columns) = (2_000, 300);
    let refs = write_all(dir.path(), "reference", &generated(rows, columns, 1, 0.0, false), 700);
    let curs = write_all(dir.path(), "current", &generated(rows, columns, 2, 0.4, true), 600);
    let several = fixed(rows as u64) + (4 << 20);
    let mut reports = Vec::new();
    for (r, c) in refs.iter().zip(&curs) {
        let (json, groups) = same_at_every_limit(r, c, &[1, several], false);
        assert_eq!(groups[0], columns, "{}: one column per group under a one-byte limit", r.display());
        assert!(groups[1] > 1 && groups[1] < columns, "{}: several columns per group, got {groups:?}", r.display());
        reports.push(json);
    }
    let json = &reports[0];
    assert_eq!(json["summary"]["columns"], columns);
    assert!(json["summary"]["drifted"].as_u64().unwrap() > 0, "the generated drift is seen");
    for k in [8, 9, 20, 21] {
        assert_eq!(json["columns"][format!("col_{k:03}")]["type"], "categorical", "mixed column {k}");
    }
    for k in [0, 3, 4, 7, 11] {
        assert_eq!(json["columns"][format!("col_{k:03}")]["type"], "numeric", "column {k}");
    }
    // Parquet, IPC file and IPC stream hold the same data.
    assert!(reports.iter().all(|r| r == json));
}

#[test]
fn tall_files_stream_to_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, columns) = (60_000, 12);
    let refs = write_all(dir.path(), "reference", &generated(rows, columns, 3, 0.0, false), 7_000);
    let curs = write_all(dir.path(), "current", &generated(rows, columns, 4, 0.1, true), 5_000);
    for (r, c) in refs.iter().zip(&curs) {
        let (json, groups) = same_at_every_limit(r, c, &[1, fixed(rows as u64) + (6 << 20)], false);
        assert_eq!(groups[0], columns);
        assert!(groups[1] > 1 && groups[1] < columns, "{}: {groups:?}", r.display());
        assert_eq!(json["reference"]["rows"], rows);
    }
}

#[test]
fn column_patterns_select_the_same_columns_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let refs = write_all(dir.path(), "reference", &generated(500, 30, 5, 0.0, false), 200);
    let curs = write_all(dir.path(), "current", &generated(500, 30, 6, 0.2, true), 200);
    for (r, c) in refs.iter().zip(&curs) {
        let mut o = options(r, c, 1);
        o.columns = Some(vec!["col_00?".to_string(), "col_02*".to_string()]);
        let report = compare::run(&o).unwrap();
        let names: Vec<&str> = report.columns.iter().map(|c| c.name.as_str()).collect();
        let expected: Vec<String> = (0..10).chain(20..30).map(|k| format!("col_{k:03}")).collect();
        assert_eq!(names, expected);
        o.columns = Some(vec!["nope_*".to_string()]);
        let message = compare::run(&o).unwrap_err().to_string();
        assert!(message.contains("not found") && message.contains("nope_*"), "{message}");
    }
    assert_eq!(driftd::dataset::format_of(&refs[0], None).unwrap(), Format::Parquet);
}
