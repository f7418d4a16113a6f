//! Dataset input for `driftd compare` and reference fitting: CSV, Parquet, Arrow IPC and JSON
//! Lines files read into per-column samples ready for the statistics engine ([`load`]: path +
//! [`LoadOptions`] → [`Dataset`] or a one-line [`DatasetError`]).
//!
//! One typing rule for every format (`crate::typing`, applied per column by `builder.rs`): a
//! column is numeric when every present value is a number, else categorical. Invariants: on
//! [`Dataset`]; readers: `csv.rs`, `jsonl.rs`, `parquet.rs`, `ipc.rs` (via `arrow.rs`);
//! [`layout`]: a columnar file's columns and sizes from metadata. docs/compare.md.

mod arrow;
pub(crate) mod builder;
mod csv;
mod error;
mod glob;
mod ipc;
mod ipc_scan;
mod jsonl;
mod layout;
mod parquet;
mod progress;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use error::{DatasetError, ParseFormatError};
pub use layout::{layout, ColumnLayout, FileLayout};

/// A file format we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    ArrowIpc,
    JsonLines,
}

/// A loaded dataset: its columns in file order (for JSON Lines: order of first appearance),
/// also when [`LoadOptions::columns`] lists them in another order.
///
/// Typing rule (the same for every format): a column is *numeric* when every present value is
/// a number (typed numeric columns, or text that parses as one: `1.5`, `-2e3`, `NaN`, `inf`,
/// `-Infinity`, …); otherwise it is *categorical* and compared byte-exactly. Booleans are
/// categorical (`true` / `false`). Empty cells, JSON `null`, Arrow nulls and NaN are *missing*;
/// ±inf is *non-finite*; both are excluded from the statistics and counted separately. Typed
/// Parquet / Arrow columns: floats, integers and decimals are numeric; dates, times, timestamps
/// and durations are numeric too, as their stored integer (days or ms since the epoch for
/// dates, the unit of the type otherwise); booleans are categorical; strings (also
/// dictionary-encoded, and binary that is valid UTF-8) follow the text rule; nested types are
/// an error naming the column.
///
/// Invariants: `NumericValues::values` holds only finite values (in file order);
/// `values.len() + missing + nonfinite == rows`. `CategoricalValues::counts` is sorted by label
/// bytes, has no zero counts, and `Σ counts + missing == rows`.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub path: PathBuf,
    pub format: Format,
    /// Data rows (the CSV header is not a row).
    pub rows: u64,
    pub columns: Vec<Column>,
}

/// One column of a dataset.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

#[derive(Debug, Clone)]
pub enum ColumnData {
    Numeric(NumericValues),
    Categorical(CategoricalValues),
}

/// The present, finite values of a numeric column, with the excluded cells counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumericValues {
    pub values: Vec<f64>,
    /// Empty / null / NaN cells.
    pub missing: u64,
    /// +inf / -inf cells.
    pub nonfinite: u64,
}

/// Category counts of a categorical column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoricalValues {
    /// (label, count), sorted by label bytes, counts > 0.
    pub counts: Vec<(String, u64)>,
    /// Empty / null cells (and NaN tokens, which are missing in every column).
    pub missing: u64,
}

/// What to read and how.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read the file as this format instead of guessing from the extension.
    pub format: Option<Format>,
    /// Read only these columns (all when `None`): names, or patterns with `*` / `?` (an entry
    /// that is exactly a column's name means that column). An entry matching nothing is an error.
    pub columns: Option<Vec<String>>,
    /// Read these columns as categorical even when every value is a number (used when the
    /// other dataset of a comparison has text in that column). Numbers keep their original
    /// text where the format has one (CSV, JSON) and are otherwise rendered in Rust's
    /// shortest round-trip form (`{:?}` for floats, decimal for integers).
    pub force_categorical: BTreeSet<String>,
    /// Progress on stderr (the CLI sets it only on a terminal). `load` sets its length and
    /// advances it by bytes read (CSV, JSON Lines, Arrow IPC) or by compressed bytes of the
    /// row groups decoded (Parquet); the caller finishes or clears it.
    pub progress: Option<indicatif::ProgressBar>,
    /// Threads used to decode Parquet columns in parallel; 0 = one per available core.
    pub threads: usize,
}

impl Format {
    /// The format that a file's extension names (case-insensitive), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            "arrow" | "ipc" | "feather" | "arrows" => Some(Format::ArrowIpc),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The format's name as written in reports and accepted by [`Format::from_str`].
    pub fn name(&self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::ArrowIpc => "arrow",
            Format::JsonLines => "jsonl",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ParseFormatError;

    /// `csv`, `parquet` (`pq`), `arrow` (`ipc`, `feather`), `jsonl` (`ndjson`), any case.
    fn from_str(s: &str) -> Result<Format, ParseFormatError> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "parquet" | "pq" => Ok(Format::Parquet),
            "arrow" | "ipc" | "feather" => Ok(Format::ArrowIpc),
            "jsonl" | "ndjson" => Ok(Format::JsonLines),
            _ => Err(ParseFormatError { given: s.to_string() }),
        }
    }
}

/// What a format reader returns: the data rows and the selected columns in file order.
pub(crate) struct Loaded {
    rows: u64,
    columns: Vec<Column>,
}

/// The format of `path`: `format` when given, else the extension's; the path must exist and
/// not be a directory.
pub fn format_of(path: &Path, format: Option<Format>) -> Result<Format, DatasetError> {
    let format = match format {
        Some(format) => format,
        None => Format::from_path(path).ok_or_else(|| DatasetError::UnknownFormat {
            path: path.to_path_buf(),
            what: match path.extension() {
                Some(ext) => format!("the extension {:?}", ext.to_string_lossy()),
                None => "its name (it has no extension)".to_string(),
            },
        })?,
    };
    let meta = std::fs::metadata(path).map_err(|e| DatasetError::io(path, &e))?;
    if meta.is_dir() {
        return Err(DatasetError::Io { path: path.to_path_buf(), message: "it is a directory".to_string() });
    }
    Ok(format)
}

/// Reads a dataset file: the format comes from `options.format` or else the extension.
pub fn load(path: &Path, options: &LoadOptions) -> Result<Dataset, DatasetError> {
    let format = format_of(path, options.format)?;
    let loaded = match format {
        Format::Csv => csv::read(path, options)?,
        Format::JsonLines => jsonl::read(path, options)?,
        Format::Parquet => parquet::read(path, options)?,
        Format::ArrowIpc => ipc::read(path, options)?,
    };
    Ok(Dataset { path: path.to_path_buf(), format, rows: loaded.rows, columns: loaded.columns })
}

/// Indices (ascending, i.e. file order) of the columns to read out of `names` (the file's
/// columns in order): all of them, or those named in `options.columns` — a name, or a pattern
/// with `*` / `?` (`glob.rs`) that must match at least one column. Also rejects duplicate column
/// names among those read.
pub(crate) fn select(path: &Path, names: &[String], options: &LoadOptions) -> Result<Vec<usize>, DatasetError> {
    let selected: Vec<usize> = match &options.columns {
        None => (0..names.len()).collect(),
        Some(wanted) => {
            let (keep, missing) = glob::choose(wanted, names);
            if !missing.is_empty() {
                return Err(DatasetError::MissingColumns { path: path.to_path_buf(), names: missing });
            }
            (0..names.len()).filter(|&i| keep[i]).collect()
        }
    };
    let mut seen = BTreeSet::new();
    for &i in &selected {
        if !seen.insert(names[i].as_str()) {
            return Err(DatasetError::DuplicateColumn { path: path.to_path_buf(), name: names[i].clone() });
        }
    }
    Ok(selected)
}

/// Worker threads to use for `jobs` independent jobs.
pub(crate) fn thread_count(options: &LoadOptions, jobs: usize) -> usize {
    let cores =
        if options.threads > 0 { options.threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    cores.min(jobs).max(1)
}
