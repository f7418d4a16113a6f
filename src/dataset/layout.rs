//! What a columnar file holds, read from its metadata only (Parquet footer, Arrow IPC schema and
//! message headers): the selected columns in file order, the rows, and what each column may
//! cost in memory once read. `compare` sizes its column groups from this before reading data.
//! The selection and its errors are [`super::load`]'s own (same `select`, same type checks).

use std::path::Path;

use super::{format_of, ipc, parquet, DatasetError, Format, LoadOptions};

/// A columnar file's selected columns and rows, from its metadata.
#[derive(Debug, Clone)]
pub struct FileLayout {
    /// Data rows; `None` for an Arrow IPC file whose message headers could not be walked.
    pub rows: Option<u64>,
    pub columns: Vec<ColumnLayout>,
    /// Bytes the reader holds at once whatever the projection (Arrow IPC: the largest record
    /// batch body, every column of it); 0 for Parquet, which reads column chunks.
    pub read_buffer: u64,
}

/// One selected column, as far as memory is concerned.
#[derive(Debug, Clone)]
pub struct ColumnLayout {
    pub name: String,
    /// May keep one `f64` per row (typed numbers, and text, which may parse as numbers).
    pub values: bool,
    /// Uncompressed bytes of a text column (Parquet), kept as labels when it is categorical.
    pub text_bytes: u64,
}

/// The layout of a Parquet or Arrow IPC file; `None` for the row formats (CSV, JSON Lines),
/// which have no metadata to read it from.
pub fn layout(path: &Path, options: &LoadOptions) -> Result<Option<FileLayout>, DatasetError> {
    match format_of(path, options.format)? {
        Format::Parquet => parquet::layout(path, options).map(Some),
        Format::ArrowIpc => ipc::layout(path, options).map(Some),
        Format::Csv | Format::JsonLines => Ok(None),
    }
}
