//! Unit tests of dataset input, writing small files into temporary directories.
//!
//! Expected values are counted by hand from the tiny inputs written by each test.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::{load, CategoricalValues, ColumnData, Dataset, Format, LoadOptions, NumericValues};

mod arrow_files;
mod csv;
mod fuzz;
mod jsonl;

/// Writes `bytes` to `dir/name` and returns the path.
fn write(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// Loads a file that must load, checking the module invariants.
fn load_ok(path: &Path, options: &LoadOptions) -> Dataset {
    match load(path, options) {
        Ok(dataset) => {
            check_invariants(&dataset);
            dataset
        }
        Err(e) => panic!("{} should load, got: {e}", path.display()),
    }
}

/// The one-line message of a file that must not load.
fn load_err(path: &Path, options: &LoadOptions) -> String {
    match load(path, options) {
        Ok(dataset) => panic!("{} should fail, loaded {dataset:?}", path.display()),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "one line: {message}");
            assert!(message.starts_with(&path.display().to_string()), "names the file: {message}");
            assert_eq!(e.path(), path);
            message
        }
    }
}

/// The invariants stated on `dataset::Dataset`.
fn check_invariants(dataset: &Dataset) {
    for column in &dataset.columns {
        match &column.data {
            ColumnData::Numeric(n) => {
                assert!(n.values.iter().all(|v| v.is_finite()), "{}: finite values", column.name);
                assert_eq!(
                    n.values.len() as u64 + n.missing + n.nonfinite,
                    dataset.rows,
                    "{}: numeric cells add up to rows",
                    column.name
                );
            }
            ColumnData::Categorical(c) => {
                assert!(c.counts.windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
                assert!(c.counts.iter().all(|(_, n)| *n > 0));
                assert_eq!(
                    c.counts.iter().map(|(_, n)| n).sum::<u64>() + c.missing,
                    dataset.rows,
                    "{}: categorical cells add up to rows",
                    column.name
                );
            }
        }
    }
}

fn names(dataset: &Dataset) -> Vec<&str> {
    dataset.columns.iter().map(|c| c.name.as_str()).collect()
}

fn column<'a>(dataset: &'a Dataset, name: &str) -> &'a ColumnData {
    match dataset.columns.iter().find(|c| c.name == name) {
        Some(c) => &c.data,
        None => panic!("no column {name:?} in {:?}", names(dataset)),
    }
}

fn numeric<'a>(dataset: &'a Dataset, name: &str) -> &'a NumericValues {
    match column(dataset, name) {
        ColumnData::Numeric(n) => n,
        other => panic!("column {name:?} should be numeric, is {other:?}"),
    }
}

fn categorical<'a>(dataset: &'a Dataset, name: &str) -> &'a CategoricalValues {
    match column(dataset, name) {
        ColumnData::Categorical(c) => c,
        other => panic!("column {name:?} should be categorical, is {other:?}"),
    }
}

/// `(label, count)` pairs as `&str` for easy comparison.
fn labels(values: &CategoricalValues) -> Vec<(&str, u64)> {
    values.counts.iter().map(|(l, n)| (l.as_str(), *n)).collect()
}

fn with_columns(columns: &[&str]) -> LoadOptions {
    LoadOptions { columns: Some(columns.iter().map(|c| c.to_string()).collect()), ..LoadOptions::default() }
}

fn forced(columns: &[&str]) -> LoadOptions {
    LoadOptions { force_categorical: columns.iter().map(|c| c.to_string()).collect(), ..LoadOptions::default() }
}

#[test]
fn format_from_extension_and_name() {
    let cases = [
        ("a.csv", Some(Format::Csv)),
        ("a.CSV", Some(Format::Csv)),
        ("a.parquet", Some(Format::Parquet)),
        ("a.pq", Some(Format::Parquet)),
        ("a.arrow", Some(Format::ArrowIpc)),
        ("a.ipc", Some(Format::ArrowIpc)),
        ("a.feather", Some(Format::ArrowIpc)),
        ("a.arrows", Some(Format::ArrowIpc)),
        ("a.jsonl", Some(Format::JsonLines)),
        ("a.ndjson", Some(Format::JsonLines)),
        ("a.json", None),
        ("a.txt", None),
        ("noext", None),
    ];
    for (path, expected) in cases {
        assert_eq!(Format::from_path(Path::new(path)), expected, "{path}");
    }
    for (text, expected) in [
        ("csv", Format::Csv),
        ("parquet", Format::Parquet),
        ("arrow", Format::ArrowIpc),
        ("ipc", Format::ArrowIpc),
        ("feather", Format::ArrowIpc),
        ("jsonl", Format::JsonLines),
        ("ndjson", Format::JsonLines),
        ("JSONL", Format::JsonLines),
    ] {
        assert_eq!(text.parse::<Format>(), Ok(expected), "{text}");
    }
    let err = "xlsx".parse::<Format>().unwrap_err().to_string();
    assert!(err.contains("\"xlsx\"") && err.contains("parquet"), "{err}");
    let names: Vec<&str> =
        [Format::Csv, Format::Parquet, Format::ArrowIpc, Format::JsonLines].map(|f| f.name()).to_vec();
    assert_eq!(names, ["csv", "parquet", "arrow", "jsonl"]);
    for name in names {
        assert_eq!(name.parse::<Format>().map(|f| f.name()), Ok(name));
    }
}

#[test]
fn unknown_extension_names_the_file_and_the_formats() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "data.txt", "a\n1\n");
    let message = load_err(&path, &LoadOptions::default());
    for part in ["data.txt", "\"txt\"", "csv", "parquet", "arrow", "jsonl"] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    let path = write(&dir, "data", "a\n1\n");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("no extension"), "{message}");
    // An explicit format overrides the extension.
    let options = LoadOptions { format: Some(Format::Csv), ..LoadOptions::default() };
    let dataset = load_ok(&path, &options);
    assert_eq!(dataset.format, Format::Csv);
    assert_eq!(numeric(&dataset, "a").values, [1.0]);
}

#[test]
fn missing_file_and_directory_are_errors() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("absent.csv");
    let message = load_err(&path, &LoadOptions::default());
    assert!(message.contains("absent.csv: cannot read the file"), "{message}");
    let sub = dir.path().join("sub.csv");
    std::fs::create_dir(&sub).unwrap();
    let message = load_err(&sub, &LoadOptions::default());
    assert!(message.contains("directory"), "{message}");
}
