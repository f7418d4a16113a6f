//! CSV input: RFC 4180 (quoted fields with embedded commas, quotes and newlines), UTF-8, a
//! header row naming the columns; an optional UTF-8 byte-order mark is skipped. Output: the
//! selected columns in file order, typed by the text rule of [`super::builder`]. Every data row
//! must have as many fields as the header (a ragged row is an error); blank lines are skipped.
//!
//! One pass in the common case; a column whose numbers are followed by text flips to
//! categorical and needs the numbers' original text (`1.50` must stay `1.50`), so a second pass
//! re-reads the file up to the last such row, for those columns only (`ColumnBuilder::fixup_rows`).

use std::fs::File;
use std::path::Path;

use csv::{ByteRecord, Reader, ReaderBuilder};

use super::builder::ColumnBuilder;
use super::progress::ProgressReader;
use super::{select, Column, DatasetError, LoadOptions, Loaded};

type CsvReader = Reader<ProgressReader<File>>;

pub(super) fn read(path: &Path, options: &LoadOptions) -> Result<Loaded, DatasetError> {
    let mut reader = open(path, options.progress.as_ref())?;
    let mut record = ByteRecord::new();
    if !next_record(path, &mut reader, &mut record)? {
        return Err(DatasetError::Empty { path: path.to_path_buf() });
    }
    let names = header_names(path, &record)?;
    let selected = select(path, &names, options)?;
    let mut builders: Vec<ColumnBuilder> =
        selected.iter().map(|&i| ColumnBuilder::new(options.force_categorical.contains(&names[i]))).collect();

    let mut rows: u64 = 0;
    while next_record(path, &mut reader, &mut record)? {
        check_width(path, &record, names.len())?;
        for (builder, &i) in builders.iter_mut().zip(&selected) {
            builder.push_text(field_text(path, &record, i, &names)?);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(DatasetError::NoDataRows { path: path.to_path_buf() });
    }

    fixup(path, &names, &selected, &mut builders)?;
    let columns =
        selected.iter().zip(builders).map(|(&i, b)| Column { name: names[i].clone(), data: b.finish() }).collect();
    Ok(Loaded { rows, columns })
}

/// Second pass for the columns that flipped to categorical after some numbers: re-reads
/// rows `0..fixup_rows` of those columns as labels.
fn fixup(
    path: &Path,
    names: &[String],
    selected: &[usize],
    builders: &mut [ColumnBuilder],
) -> Result<(), DatasetError> {
    let mut jobs: Vec<(usize, u64, ColumnBuilder)> = builders
        .iter()
        .enumerate()
        .filter(|(_, b)| b.fixup_rows() > 0)
        .map(|(k, b)| (k, b.fixup_rows(), ColumnBuilder::new(true)))
        .collect();
    let Some(last) = jobs.iter().map(|j| j.1).max() else {
        return Ok(());
    };
    let mut reader = open(path, None)?;
    let mut record = ByteRecord::new();
    next_record(path, &mut reader, &mut record)?; // the header
    let mut row: u64 = 0;
    while row < last && next_record(path, &mut reader, &mut record)? {
        for (k, until, labels) in &mut jobs {
            if row < *until {
                labels.push_text(field_text(path, &record, selected[*k], names)?);
            }
        }
        row += 1;
    }
    for (k, _, labels) in jobs {
        builders[k].merge_fixup(labels);
    }
    Ok(())
}

fn open(path: &Path, bar: Option<&indicatif::ProgressBar>) -> Result<CsvReader, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let len = file.metadata().map_err(|e| DatasetError::io(path, &e))?.len();
    Ok(ReaderBuilder::new()
        .has_headers(false)
        // Ragged rows are reported by `check_width` with the line and both field counts.
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(ProgressReader::new(file, bar, len)))
}

fn next_record(path: &Path, reader: &mut CsvReader, record: &mut ByteRecord) -> Result<bool, DatasetError> {
    reader.read_byte_record(record).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(io) => DatasetError::io(path, &io),
        other => DatasetError::decode(path, "", format!("{other:?}")),
    })
}

fn line_of(record: &ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

fn header_names(path: &Path, header: &ByteRecord) -> Result<Vec<String>, DatasetError> {
    header
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let field = match field.strip_prefix(b"\xEF\xBB\xBF") {
                Some(rest) if i == 0 => rest,
                _ => field,
            };
            std::str::from_utf8(field)
                .map(str::to_string)
                .map_err(|_| DatasetError::InvalidUtf8Header { path: path.to_path_buf() })
        })
        .collect()
}

fn check_width(path: &Path, record: &ByteRecord, expected: usize) -> Result<(), DatasetError> {
    if record.len() == expected {
        return Ok(());
    }
    Err(DatasetError::RaggedRow { path: path.to_path_buf(), line: line_of(record), expected, found: record.len() })
}

/// Field `i` of a record checked to have the header's width, as UTF-8 text.
#[inline]
fn field_text<'r>(path: &Path, record: &'r ByteRecord, i: usize, names: &[String]) -> Result<&'r str, DatasetError> {
    let bytes = record.get(i).unwrap_or_default();
    std::str::from_utf8(bytes).map_err(|e| {
        // The record starts on `line_of(record)`; quoted fields before the bad byte may
        // span lines, so count their newlines to point at the line of the bad byte.
        let before: usize = (0..i).filter_map(|j| record.get(j)).map(|f| bytecount(f, b'\n')).sum::<usize>()
            + bytecount(&bytes[..e.valid_up_to()], b'\n');
        DatasetError::InvalidUtf8 {
            path: path.to_path_buf(),
            line: line_of(record) + before as u64,
            column: names[i].clone(),
        }
    })
}

fn bytecount(bytes: &[u8], byte: u8) -> usize {
    bytes.iter().filter(|&&b| b == byte).count()
}
