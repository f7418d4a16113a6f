//! One row of a file source as every format reader (JSON Lines in `file.rs`, CSV in
//! `table.rs`, Parquet / Arrow IPC in `batches.rs`) yields it, the [`Rows`] trait they share,
//! their [`SourceError`] (fatal, or one bad row), and how a flat row's column is named by a
//! pointer (`/ts` → `ts`).

use std::path::{Path, PathBuf};

use super::decode::Decoder;
use super::plan::parse_pointer;
use super::spec::{DecodeError, Decoded};
use crate::record::{Position, Stream};

/// A file that cannot be read (fatal), or one bad row (skippable).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The file is not of its format, or lacks a column, or a column has an unusable type.
    #[error("{}: {message}", path.display())]
    Unusable { path: PathBuf, message: String },
    /// One row did not decode; the source carries on with the next.
    #[error("{}: {error}", describe(position))]
    Bad { position: Position, error: DecodeError },
}

impl SourceError {
    /// Whether the source stops after this error (all but [`SourceError::Bad`]).
    pub fn is_fatal(&self) -> bool {
        !matches!(self, SourceError::Bad { .. })
    }

    pub(super) fn io(path: &Path, err: impl std::fmt::Display) -> SourceError {
        SourceError::Io { path: path.to_path_buf(), message: err.to_string().replace('\n', " ") }
    }

    pub(super) fn unusable(path: &Path, message: impl Into<String>) -> SourceError {
        SourceError::Unusable { path: path.to_path_buf(), message: message.into() }
    }
}

/// A position for a log line: `line 12`, `topic/3@1234`.
pub fn describe(position: &Position) -> String {
    match position {
        Position::File { line } => format!("line {line}"),
        Position::Kafka { topic, partition, offset } => format!("{topic}/{partition}@{offset}"),
    }
}

/// One row as read.
pub(super) enum Row {
    Record(Decoded),
    /// The event time only (the ordering scan).
    Time(i64),
    Bad(Position, DecodeError),
}

/// What every format reader does: the next row, `Ok(None)` at the end.
pub(super) trait Rows {
    fn next_row(&mut self, decoder: &Decoder, monitor: usize, stream: Stream) -> Result<Option<Row>, SourceError>;
}

/// The column name a pointer names in a flat row (`/ts` → `ts`).
pub(super) fn column_of(path: &Path, pointer: &str) -> Result<String, SourceError> {
    match parse_pointer(pointer) {
        Ok(segments) if segments.len() == 1 => Ok(segments.into_iter().next().unwrap_or_default()),
        _ => Err(SourceError::unusable(
            path,
            format!("the pointer {pointer:?} does not name a column (a flat row needs \"/column\")"),
        )),
    }
}
