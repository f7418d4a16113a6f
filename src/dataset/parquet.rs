//! Parquet input through the `parquet` crate's Arrow reader; arrays go to `arrow.rs`. Output:
//! the selected columns in file order; only they are decoded (projection).
//!
//! Speed: the selected columns are split into groups of about equal compressed size, one group
//! per thread (`std::thread::scope`), each with its own file handle (`try_clone`d handles share
//! one file offset, which the reader seeks). String columns dictionary-encoded in every row
//! group are read as Arrow dictionaries, so their labels are counted per dictionary key
//! instead of being copied and hashed per row.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use super::arrow::{holds_values, is_numeric_type, is_text_type, push_batch, select_typed, ArrowColumn};
use super::layout::{ColumnLayout, FileLayout};
use super::{thread_count, Column, DatasetError, LoadOptions, Loaded};

/// Rows per decoded batch: big enough to amortise per-batch work, small enough to stay in
/// cache-friendly sizes (64 Ki rows x 8 bytes = 512 KiB per float column).
const BATCH_ROWS: usize = 64 * 1024;

/// The footer, the file's column names, the selected root columns (checked readable) and the
/// row count: what both [`read`] and [`layout`] start from.
fn open(
    path: &Path,
    options: &LoadOptions,
) -> Result<(ArrowReaderMetadata, Vec<String>, Vec<usize>, u64), DatasetError> {
    check_magic(path)?;
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| DatasetError::decode(path, "reading the footer: ", e))?;
    let schema = Arc::clone(meta.schema());
    let (names, selected) = select_typed(path, &schema, options)?;
    let rows = u64::try_from(meta.metadata().file_metadata().num_rows())
        .map_err(|_| DatasetError::decode(path, "", "negative row count in the footer"))?;
    if rows == 0 {
        return Err(DatasetError::NoRows { path: path.to_path_buf() });
    }
    Ok((meta, names, selected, rows))
}

/// The selected columns' sizes from the footer, without reading data (sizing a streaming
/// compare): string columns count their uncompressed bytes (labels are kept when categorical).
pub(super) fn layout(path: &Path, options: &LoadOptions) -> Result<FileLayout, DatasetError> {
    let (meta, names, selected, rows) = open(path, options)?;
    let leaves = leaves_by_root(&meta);
    let columns = selected
        .iter()
        .map(|&i| {
            let data_type = meta.schema().field(i).data_type();
            let text_bytes = if is_text_type(data_type) {
                let chunks = meta
                    .metadata()
                    .row_groups()
                    .iter()
                    .flat_map(|rg| leaves[i].iter().filter_map(|&l| rg.columns().get(l)));
                chunks.map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(0)).sum()
            } else {
                0
            };
            ColumnLayout { name: names[i].clone(), values: holds_values(data_type), text_bytes }
        })
        .collect();
    Ok(FileLayout { rows: Some(rows), columns, read_buffer: 0 })
}

pub(super) fn read(path: &Path, options: &LoadOptions) -> Result<Loaded, DatasetError> {
    let (meta, names, selected, rows) = open(path, options)?;
    let meta = with_dictionaries(path, meta, &selected)?;

    // Compressed bytes per selected column: balances the threads and drives the progress bar.
    let all_bytes = root_bytes(&meta, None);
    let sizes: Vec<u64> = selected.iter().map(|&i| all_bytes[i]).collect();
    if let Some(bar) = &options.progress {
        bar.set_length(sizes.iter().sum());
        bar.set_position(0);
    }
    let groups = balance(&sizes, thread_count(options, selected.len()));
    let read_group = |group: &Vec<usize>| -> Result<Vec<ArrowColumn>, DatasetError> {
        let roots: Vec<usize> = group.iter().map(|&k| selected[k]).collect();
        let force: Vec<bool> = roots.iter().map(|&i| options.force_categorical.contains(&names[i])).collect();
        let guarded = catch_unwind(AssertUnwindSafe(|| {
            read_columns(path, &meta, &roots, &force, None, options.progress.as_ref())
        }));
        guarded.unwrap_or_else(|_| Err(panicked(path)))
    };
    let mut results: Vec<Result<Vec<ArrowColumn>, DatasetError>> = Vec::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups[1..].iter().map(|g| scope.spawn(|| read_group(g))).collect();
        results.push(read_group(&groups[0]));
        for handle in handles {
            results.push(handle.join().unwrap_or_else(|_| Err(panicked(path))));
        }
    });
    let mut columns: Vec<Option<ArrowColumn>> = selected.iter().map(|_| None).collect();
    for (group, result) in groups.iter().zip(results) {
        for (&k, column) in group.iter().zip(result?) {
            columns[k] = Some(column);
        }
    }
    let mut columns: Vec<ArrowColumn> = columns.into_iter().flatten().collect();

    // Rare: string columns whose numbers were followed by text need those rows re-read.
    let fix: Vec<usize> = (0..columns.len()).filter(|&k| columns[k].fixup_rows() > 0).collect();
    if !fix.is_empty() {
        let roots: Vec<usize> = fix.iter().map(|&k| selected[k]).collect();
        let limit = fix.iter().map(|&k| columns[k].fixup_rows()).collect::<Vec<_>>();
        let force = vec![true; roots.len()];
        let fixups = read_columns(path, &meta, &roots, &force, Some(&limit), None)?;
        for (&k, fixup) in fix.iter().zip(fixups) {
            columns[k].merge_fixup(fixup);
        }
    }
    let columns =
        selected.iter().zip(columns).map(|(&i, c)| Column { name: names[i].clone(), data: c.finish() }).collect();
    Ok(Loaded { rows, columns })
}

fn panicked(path: &Path) -> DatasetError {
    DatasetError::decode(path, "", "the Parquet decoder failed (internal panic); the file may be corrupt")
}

/// Rejects files that do not start and end with `PAR1` before the footer parser sees them.
fn check_magic(path: &Path) -> Result<(), DatasetError> {
    let mut file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let len = file.metadata().map_err(|e| DatasetError::io(path, &e))?.len();
    if len == 0 {
        return Err(DatasetError::Empty { path: path.to_path_buf() });
    }
    let not_parquet = || DatasetError::NotParquet { path: path.to_path_buf() };
    if len < 12 {
        return Err(not_parquet());
    }
    let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
    let io = |e: std::io::Error| DatasetError::io(path, &e);
    file.read_exact(&mut head).map_err(io)?;
    file.seek(SeekFrom::End(-4)).map_err(io)?;
    file.read_exact(&mut tail).map_err(io)?;
    if &head != b"PAR1" || &tail != b"PAR1" {
        return Err(not_parquet());
    }
    Ok(())
}

/// Asks the reader for dictionary arrays for the selected string columns whose chunks all
/// have a dictionary page (what pyarrow and most writers produce for low-cardinality text).
fn with_dictionaries(
    path: &Path,
    meta: ArrowReaderMetadata,
    selected: &[usize],
) -> Result<ArrowReaderMetadata, DatasetError> {
    let schema = meta.schema();
    let parquet = meta.metadata();
    let leaves = leaves_by_root(&meta);
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut changed = false;
    for &i in selected {
        let data_type = fields[i].data_type().clone();
        if !matches!(data_type, DataType::Utf8 | DataType::LargeUtf8) {
            continue;
        }
        let leaves = &leaves[i];
        let all_dict = parquet.row_groups().iter().all(|rg| {
            leaves.iter().all(|&l| rg.columns().get(l).is_some_and(|c| c.dictionary_page_offset().is_some()))
        });
        if all_dict && leaves.len() == 1 {
            let dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(data_type));
            fields[i] = fields[i].clone().with_data_type(dict);
            changed = true;
        }
    }
    if !changed {
        return Ok(meta);
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(Arc::clone(parquet), ArrowReaderOptions::new().with_schema(schema))
        .map_err(|e| DatasetError::decode(path, "", e))
}

/// The leaf (Parquet) column indices of every root (Arrow field) column.
fn leaves_by_root(meta: &ArrowReaderMetadata) -> Vec<Vec<usize>> {
    let descr = meta.metadata().file_metadata().schema_descr();
    let mut leaves = vec![Vec::new(); meta.schema().fields().len()];
    for leaf in 0..descr.num_columns() {
        if let Some(root) = leaves.get_mut(descr.get_column_root_idx(leaf)) {
            root.push(leaf);
        }
    }
    leaves
}

/// Compressed bytes of every root column, in one row group or in all of them.
fn root_bytes(meta: &ArrowReaderMetadata, row_group: Option<usize>) -> Vec<u64> {
    let row_groups = meta.metadata().row_groups();
    let groups = match row_group {
        Some(g) => row_groups.get(g..=g).unwrap_or_default(),
        None => row_groups,
    };
    leaves_by_root(meta)
        .iter()
        .map(|leaves| {
            groups
                .iter()
                .flat_map(|rg| leaves.iter().filter_map(|&l| rg.columns().get(l)))
                .map(|c| u64::try_from(c.compressed_size()).unwrap_or(0))
                .sum()
        })
        .collect()
}

/// Splits job indices into `n` non-empty groups of about equal total size (largest first,
/// each to the lightest group), each group in ascending order.
fn balance(sizes: &[u64], n: usize) -> Vec<Vec<usize>> {
    let n = n.clamp(1, sizes.len().max(1));
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(sizes[k]));
    let mut groups: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); n];
    for k in order {
        if let Some(lightest) = groups.iter_mut().min_by_key(|g| g.0) {
            lightest.0 += sizes[k].max(1);
            lightest.1.push(k);
        }
    }
    groups
        .into_iter()
        .map(|(_, mut g)| {
            g.sort_unstable();
            g
        })
        .collect()
}

/// Reads root columns `roots` (ascending) row group by row group. With `limit`, reads only
/// rows `0..limit[k]` of column `k` (the fixup pass) and stops once all limits are reached.
fn read_columns(
    path: &Path,
    meta: &ArrowReaderMetadata,
    roots: &[usize],
    force: &[bool],
    limit: Option<&[u64]>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<Vec<ArrowColumn>, DatasetError> {
    let mut columns: Vec<ArrowColumn> = force.iter().map(|&f| ArrowColumn::new(f)).collect();
    if roots.is_empty() {
        return Ok(columns);
    }
    let rows = meta.metadata().file_metadata().num_rows();
    if limit.is_none() {
        // Typed numeric columns will hold (about) one value per row: allocate once.
        for (column, &root) in columns.iter_mut().zip(roots) {
            if is_numeric_type(meta.schema().field(root).data_type()) {
                column.reserve(usize::try_from(rows).unwrap_or(0));
            }
        }
    }
    let last = limit.map_or(u64::MAX, |l| l.iter().copied().max().unwrap_or(0));
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots.iter().copied());
    let mut row: u64 = 0;
    for rg in 0..meta.metadata().num_row_groups() {
        if row >= last {
            break;
        }
        let place = format!("row group {rg}: ");
        let input = file.try_clone().map_err(|e| DatasetError::io(path, &e))?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, meta.clone())
            .with_projection(mask.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| DatasetError::decode(path, place.as_str(), e))?;
        for batch in reader {
            let batch = batch.map_err(|e| DatasetError::decode(path, place.as_str(), e))?;
            push_batch(&mut columns, &batch, row, limit, path, &place)?;
            row += batch.num_rows() as u64;
            if row >= last {
                break;
            }
        }
        if let Some(bar) = bar {
            let bytes = root_bytes(meta, Some(rg));
            bar.inc(roots.iter().filter_map(|&i| bytes.get(i)).sum());
        }
    }
    Ok(columns)
}
