//! Errors of dataset input.
//!
//! Every variant's `Display` is one line that starts with the file path and names the place
//! (line, field, column) when there is one, e.g.
//! `data/ref.csv: line 7: expected 5 fields (as in the header), found 4`. Messages of the
//! underlying libraries (I/O, Parquet, Arrow, JSON) are folded into that line rather than
//! exposed as a `source()`, so printing the error chain does not repeat them.

use std::path::{Path, PathBuf};

/// Why a dataset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: cannot read the file: {message}", path.display())]
    Io { path: PathBuf, message: String },

    #[error(
        "{}: cannot tell the file format from {what}; expected .csv, .parquet/.pq, \
         .arrow/.ipc/.feather/.arrows or .jsonl/.ndjson, or name the format explicitly \
         (csv, parquet, arrow, jsonl)",
        path.display()
    )]
    UnknownFormat { path: PathBuf, what: String },

    #[error("{}: the file is empty", path.display())]
    Empty { path: PathBuf },

    #[error("{}: the file has a header but no data rows", path.display())]
    NoDataRows { path: PathBuf },

    #[error("{}: the file has no data rows", path.display())]
    NoRows { path: PathBuf },

    #[error("{}: the file has no columns", path.display())]
    NoColumns { path: PathBuf },

    #[error("{}: line {line}: expected {expected} fields (as in the header), found {found}", path.display())]
    RaggedRow { path: PathBuf, line: u64, expected: usize, found: usize },

    #[error("{}: line {line}, column {column:?}: invalid UTF-8", path.display())]
    InvalidUtf8 { path: PathBuf, line: u64, column: String },

    #[error("{}: line 1: the header is not valid UTF-8", path.display())]
    InvalidUtf8Header { path: PathBuf },

    #[error("{}: duplicate column name {name:?}", path.display())]
    DuplicateColumn { path: PathBuf, name: String },

    #[error("{}: {} not found in the file: {}", path.display(),
        if names.len() == 1 { "column" } else { "columns" }, quoted_list(names))]
    MissingColumns { path: PathBuf, names: Vec<String> },

    #[error("{}: line {line}, column {column}: invalid JSON: {message}", path.display())]
    Json { path: PathBuf, line: u64, column: u64, message: String },

    #[error("{}: line {line}: expected a JSON object, found {found}", path.display())]
    NotAnObject { path: PathBuf, line: u64, found: String },

    #[error("{}: line {line}, field {field:?}: nested {kind} are not supported", path.display())]
    Nested { path: PathBuf, line: u64, field: String, kind: &'static str },

    #[error("{}: line {line}, field {field:?}: the key appears more than once", path.display())]
    DuplicateKey { path: PathBuf, line: u64, field: String },

    #[error("{}: not a Parquet file (no PAR1 magic bytes)", path.display())]
    NotParquet { path: PathBuf },

    #[error("{}: not an Arrow IPC file or stream{hint}", path.display())]
    NotArrow { path: PathBuf, hint: &'static str },

    #[error("{}: column {column:?}: type {data_type} is not supported", path.display())]
    UnsupportedType { path: PathBuf, column: String, data_type: String },

    #[error("{}: column {column:?}: {message}", path.display())]
    BadColumn { path: PathBuf, column: String, message: String },

    #[error("{}: {place}{message}", path.display())]
    Decode { path: PathBuf, place: String, message: String },
}

impl DatasetError {
    pub(crate) fn io(path: &Path, err: &std::io::Error) -> Self {
        DatasetError::Io { path: path.to_path_buf(), message: one_line(&err.to_string()) }
    }

    /// A decoding error of the Parquet or Arrow library; `place` is e.g. "row group 3: ".
    pub(crate) fn decode(path: &Path, place: impl Into<String>, err: impl std::fmt::Display) -> Self {
        DatasetError::Decode { path: path.to_path_buf(), place: place.into(), message: one_line(&err.to_string()) }
    }

    /// The path of the file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DatasetError::Io { path, .. }
            | DatasetError::UnknownFormat { path, .. }
            | DatasetError::Empty { path }
            | DatasetError::NoDataRows { path }
            | DatasetError::NoRows { path }
            | DatasetError::NoColumns { path }
            | DatasetError::RaggedRow { path, .. }
            | DatasetError::InvalidUtf8 { path, .. }
            | DatasetError::InvalidUtf8Header { path }
            | DatasetError::DuplicateColumn { path, .. }
            | DatasetError::MissingColumns { path, .. }
            | DatasetError::Json { path, .. }
            | DatasetError::NotAnObject { path, .. }
            | DatasetError::Nested { path, .. }
            | DatasetError::DuplicateKey { path, .. }
            | DatasetError::NotParquet { path }
            | DatasetError::NotArrow { path, .. }
            | DatasetError::UnsupportedType { path, .. }
            | DatasetError::BadColumn { path, .. }
            | DatasetError::Decode { path, .. } => path,
        }
    }
}

/// Library messages sometimes span lines; the CLI prints exactly one.
pub(crate) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn quoted_list(names: &[String]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

/// An input format name that [`super::Format`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown input format {given:?}; expected csv, parquet, arrow (ipc, feather) or jsonl (ndjson)")]
pub struct ParseFormatError {
    pub given: String,
}
