//! Arrow IPC input: the file format (Feather v2, magic `ARROW1`) and the stream format
//! (starting with the `0xFFFFFFFF` continuation marker), told apart by the file's first
//! bytes whatever its extension; LZ4- and ZSTD-compressed buffers are supported. Arrays go
//! to `arrow.rs`.
//!
//! Inputs: a path and [`LoadOptions`]. Output: the selected columns in file order; only the
//! selected columns are decoded (projection).

use std::fs::File;
use std::io::{BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, SchemaRef};

use super::arrow::{holds_values, push_batch, select_typed, ArrowColumn};
use super::ipc_scan;
use super::layout::{ColumnLayout, FileLayout};
use super::progress::ProgressReader;
use super::{Column, DatasetError, LoadOptions, Loaded};

#[derive(Clone, Copy)]
enum Layout {
    File,
    Stream,
}

type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>>>;

/// The layout, the file's column names and the selected columns (checked readable): what both
/// [`read`] and [`layout`] start from.
fn open_selected(
    path: &Path,
    options: &LoadOptions,
) -> Result<(Layout, SchemaRef, Vec<String>, Vec<usize>), DatasetError> {
    let layout = detect(path)?;
    let (schema, _) = open(path, layout, None, None)?;
    let (names, selected) = select_typed(path, &schema, options)?;
    Ok((layout, schema, names, selected))
}

/// The selected columns and the file's rows from the message headers (`ipc_scan.rs`), without
/// decoding data. Rows are unknown (`None`) when the headers cannot be walked.
pub(super) fn layout(path: &Path, options: &LoadOptions) -> Result<FileLayout, DatasetError> {
    let (layout, schema, names, selected) = open_selected(path, options)?;
    // The file format's magic (and padding) precede the same messages as a stream's.
    let scan = ipc_scan::scan(path, if matches!(layout, Layout::File) { 8 } else { 0 });
    if scan.is_some_and(|s| s.rows == 0) {
        return Err(DatasetError::NoRows { path: path.to_path_buf() });
    }
    let columns = selected
        .iter()
        .map(|&i| ColumnLayout {
            name: names[i].clone(),
            values: holds_values(schema.field(i).data_type()),
            text_bytes: 0,
        })
        .collect();
    Ok(FileLayout { rows: scan.map(|s| s.rows), columns, read_buffer: scan.map_or(0, |s| s.max_body) })
}

pub(super) fn read(path: &Path, options: &LoadOptions) -> Result<Loaded, DatasetError> {
    let (layout, _, names, selected) = open_selected(path, options)?;
    let force: Vec<bool> = selected.iter().map(|&i| options.force_categorical.contains(&names[i])).collect();
    let (rows, mut columns) = read_columns(path, layout, &selected, &force, None, options.progress.as_ref())?;
    if rows == 0 {
        return Err(DatasetError::NoRows { path: path.to_path_buf() });
    }

    // Rare: string columns whose numbers were followed by text need those rows re-read.
    let fix: Vec<usize> = (0..columns.len()).filter(|&k| columns[k].fixup_rows() > 0).collect();
    if !fix.is_empty() {
        let roots: Vec<usize> = fix.iter().map(|&k| selected[k]).collect();
        let limit: Vec<u64> = fix.iter().map(|&k| columns[k].fixup_rows()).collect();
        let (_, fixups) = read_columns(path, layout, &roots, &vec![true; roots.len()], Some(&limit), None)?;
        for (&k, fixup) in fix.iter().zip(fixups) {
            columns[k].merge_fixup(fixup);
        }
    }
    let columns =
        selected.iter().zip(columns).map(|(&i, c)| Column { name: names[i].clone(), data: c.finish() }).collect();
    Ok(Loaded { rows, columns })
}

/// Tells the file format from the stream format by the first bytes.
fn detect(path: &Path) -> Result<Layout, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let mut head = Vec::with_capacity(8);
    file.take(8).read_to_end(&mut head).map_err(|e| DatasetError::io(path, &e))?;
    let not_arrow = |hint| DatasetError::NotArrow { path: path.to_path_buf(), hint };
    match head.as_slice() {
        [] => Err(DatasetError::Empty { path: path.to_path_buf() }),
        h if h.starts_with(b"ARROW1") => Ok(Layout::File),
        h if h.starts_with(&[0xFF; 4]) => Ok(Layout::Stream),
        h if h.starts_with(b"FEA1") => {
            Err(not_arrow(" (this is Feather v1, which is not supported; re-save it as Feather v2)"))
        }
        h if h.starts_with(b"PAR1") => Err(not_arrow(" (it looks like a Parquet file)")),
        _ => Err(not_arrow("")),
    }
}

fn open(
    path: &Path,
    layout: Layout,
    projection: Option<Vec<usize>>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(SchemaRef, Batches), DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let len = file.metadata().map_err(|e| DatasetError::io(path, &e))?.len();
    let input = BufReader::with_capacity(1 << 16, ProgressReader::new(file, bar, len));
    let opened = catch_unwind(AssertUnwindSafe(|| -> Result<(SchemaRef, Batches), ArrowError> {
        Ok(match layout {
            Layout::File => {
                let reader = FileReader::try_new(input, projection)?;
                (reader.schema(), Box::new(reader))
            }
            Layout::Stream => {
                let reader = StreamReader::try_new(input, projection)?;
                (reader.schema(), Box::new(reader))
            }
        })
    }));
    match opened {
        Ok(result) => result.map_err(|e| DatasetError::decode(path, "", e)),
        Err(_) => Err(panicked(path)),
    }
}

fn panicked(path: &Path) -> DatasetError {
    DatasetError::decode(path, "", "the Arrow IPC decoder failed (internal panic); the file may be corrupt")
}

/// Reads columns `roots` (ascending). With `limit`, reads only rows `0..limit[k]` of column
/// `k` (the fixup pass) and stops once all limits are reached. Returns the rows read.
fn read_columns(
    path: &Path,
    layout: Layout,
    roots: &[usize],
    force: &[bool],
    limit: Option<&[u64]>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(u64, Vec<ArrowColumn>), DatasetError> {
    let mut columns: Vec<ArrowColumn> = force.iter().map(|&f| ArrowColumn::new(f)).collect();
    let (_, batches) = open(path, layout, Some(roots.to_vec()), bar)?;
    let last = limit.map_or(u64::MAX, |l| l.iter().copied().max().unwrap_or(0));
    let mut row: u64 = 0;
    let mut index = 0usize;
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<(), DatasetError> {
        for batch in batches {
            if row >= last {
                break;
            }
            let place = format!("record batch {index}: ");
            let batch = batch.map_err(|e| DatasetError::decode(path, place.as_str(), e))?;
            push_batch(&mut columns, &batch, row, limit, path, &place)?;
            row += batch.num_rows() as u64;
            index += 1;
        }
        Ok(())
    }));
    result.unwrap_or_else(|_| Err(panicked(path)))?;
    Ok((row, columns))
}
