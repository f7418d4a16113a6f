//! Parquet / Arrow IPC record batches as flat rows (see `table.rs` for the column mapping
//! and cell rules). Only the needed columns are decoded (projection); batches of 8192 rows;
//! each feature column is cast once per batch to f64, i64, UTF-8 or kept as boolean. A panic
//! of the Parquet / Arrow decoders on a corrupt file is caught and reported as an error.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Schema, TimeUnit};

use super::decode::Decoder;
use super::row::{Row, Rows, SourceError};
use super::spec::{DecodeError, TimeFormat};
use super::table::{bad_value, columns_for, record, resolve, text_value, CellKind, Columns};
use super::time::{check_range, parse_time_text};
use crate::dataset::Format;
use crate::record::{Position, Stream, Value};

/// Event times of a batch's rows and its feature columns, cast.
type Prepared = (Vec<Result<i64, DecodeError>>, Vec<ArrayRef>);

/// What an Arrow column is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    F64,
    I64,
    Bool,
    Str,
    Null,
}

fn target(data_type: &DataType) -> Option<Target> {
    use DataType::*;
    Some(match data_type {
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 => Target::I64,
        UInt64 | Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => {
            Target::F64
        }
        Date32 | Date64 | Time32(_) | Time64(_) | Timestamp(..) | Duration(_) => Target::I64,
        Boolean => Target::Bool,
        Utf8 | LargeUtf8 | Utf8View => Target::Str,
        Null => Target::Null,
        Dictionary(_, value) if !matches!(**value, Dictionary(..)) => return target(value),
        _ => return None,
    })
}

/// Milliseconds per stored unit of a typed time column, as (multiplier, divisor).
fn time_scale(data_type: &DataType) -> Option<(i64, i64)> {
    match data_type {
        DataType::Timestamp(TimeUnit::Second, _) => Some((1000, 1)),
        DataType::Timestamp(TimeUnit::Millisecond, _) | DataType::Date64 => Some((1, 1)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => Some((1, 1000)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => Some((1, 1_000_000)),
        DataType::Date32 => Some((86_400_000, 1)),
        DataType::Dictionary(_, value) => time_scale(value),
        _ => None,
    }
}

/// Parquet / Arrow IPC record batches.
pub(super) struct Batches {
    path: PathBuf,
    batches: Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>,
    columns: Columns,
    time_type: DataType,
    targets: Vec<Target>,
    unknown: u32,
    time_only: bool,
    current: Option<Prepared>,
    row: usize,
    /// Rows in the batches before the current one.
    before: u64,
}

impl Batches {
    pub(super) fn open(path: &Path, format: Format, dec: &Decoder, time_only: bool) -> Result<Batches, SourceError> {
        let columns = columns_for(path, dec)?;
        let schema = guarded(path, || read_schema(path, format))?;
        let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut wanted: Vec<&str> = vec![columns.time.as_str()];
        if !time_only {
            wanted.extend(columns.features.iter().map(String::as_str));
        }
        let found = resolve(path, &header, &wanted)?;
        let time_type = schema.field(found[0]).data_type().clone();
        let time_ok = match target(&time_type) {
            _ if time_scale(&time_type).is_some() => true,
            Some(Target::Str) => true,
            Some(Target::I64 | Target::F64) => columns.format != TimeFormat::Rfc3339,
            _ => false,
        };
        if !time_ok {
            let message =
                format!("the event-time column {} is {time_type}, unusable as {:?}", columns.time, columns.format);
            return Err(SourceError::unusable(path, message));
        }
        let mut targets = Vec::new();
        for &i in &found[1..] {
            let field = schema.field(i);
            let t = target(field.data_type()).ok_or_else(|| {
                SourceError::unusable(
                    path,
                    format!("column {} has the unsupported type {}", field.name(), field.data_type()),
                )
            })?;
            targets.push(t);
        }
        let mut projection = found.clone();
        projection.sort_unstable();
        projection.dedup();
        let unknown = if columns.count_unknown { (header.len() - projection.len()) as u32 } else { 0 };
        let batches = guarded(path, || open_batches(path, format, projection))?;
        Ok(Batches {
            path: path.to_path_buf(),
            batches,
            columns,
            time_type,
            targets,
            unknown,
            time_only,
            current: None,
            row: 0,
            before: 0,
        })
    }

    /// Converts a batch: event times per row, feature columns cast to their targets.
    fn prepare(&self, batch: &RecordBatch) -> Result<Prepared, SourceError> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| SourceError::io(&self.path, format!("column {name} vanished")))
        };
        let cast = |array: &ArrayRef, to: &DataType| {
            arrow_cast::cast(array, to).map_err(|e| SourceError::io(&self.path, format!("casting a column: {e}")))
        };
        let time = column(&self.columns.time)?;
        let at = || format!("column {}", self.columns.time);
        let bad = |message: String| DecodeError::BadEventTime { at: at(), message };
        let n = batch.num_rows();
        let times: Vec<Result<i64, DecodeError>> = if let Some((mul, div)) = time_scale(&self.time_type) {
            let ints = cast(&time, &DataType::Int64)?;
            let ints = ints.as_primitive::<Int64Type>();
            (0..n)
                .map(|r| match ints.is_null(r) {
                    true => Err(DecodeError::MissingEventTime { at: at() }),
                    false => ints
                        .value(r)
                        .checked_mul(mul)
                        .map(|v| v.div_euclid(div))
                        .ok_or("out of range")
                        .and_then(check_range)
                        .map_err(|m| bad(m.into())),
                })
                .collect()
        } else {
            let texts = cast(&time, &DataType::Utf8)?;
            let texts = texts.as_string::<i32>();
            (0..n)
                .map(|r| match texts.is_null(r) {
                    true => Err(DecodeError::MissingEventTime { at: at() }),
                    false => parse_time_text(texts.value(r), self.columns.format)
                        .map_err(|m| bad(format!("{m}: {:?}", texts.value(r)))),
                })
                .collect()
        };
        let mut arrays = Vec::new();
        if !self.time_only {
            for (name, target) in self.columns.features.iter().zip(&self.targets) {
                let array = column(name)?;
                arrays.push(match target {
                    Target::F64 => cast(&array, &DataType::Float64)?,
                    Target::I64 => cast(&array, &DataType::Int64)?,
                    Target::Str => cast(&array, &DataType::Utf8)?,
                    Target::Bool | Target::Null => array,
                });
            }
        }
        Ok((times, arrays))
    }

    fn value(array: &ArrayRef, target: Target, kind: CellKind, r: usize) -> Result<Value, &'static str> {
        if target == Target::Null || array.is_null(r) {
            return Ok(Value::Missing);
        }
        let keep_text = matches!(kind, CellKind::Label | CellKind::Key | CellKind::Feature { categorical: true });
        Ok(match target {
            Target::F64 => match array.as_primitive::<Float64Type>().value(r) {
                v if v.is_nan() => Value::Missing,
                v if keep_text => Value::Text(format!("{v:?}")),
                v => Value::Number(v),
            },
            Target::I64 => match array.as_primitive::<Int64Type>().value(r) {
                v if keep_text => Value::Text(v.to_string()),
                v => Value::Number(v as f64),
            },
            Target::Bool if kind == CellKind::Numeric => return Err("a boolean where a number was expected"),
            Target::Bool => Value::Bool(array.as_boolean().value(r)),
            Target::Str => return text_value(array.as_string::<i32>().value(r), kind),
            Target::Null => Value::Missing,
        })
    }
}

impl Rows for Batches {
    fn next_row(&mut self, _: &Decoder, monitor: usize, stream: Stream) -> Result<Option<Row>, SourceError> {
        loop {
            let len = self.current.as_ref().map_or(0, |(times, _)| times.len());
            if self.row >= len {
                let path = self.path.clone();
                let Some(batch) = guarded(&path, || Ok(self.batches.next()))? else {
                    return Ok(None);
                };
                let batch = batch.map_err(|e| SourceError::io(&self.path, e))?;
                self.before += len as u64;
                self.current = Some(self.prepare(&batch)?);
                self.row = 0;
                continue;
            }
            let r = self.row;
            self.row += 1;
            let line = self.before + r as u64 + 1;
            let Some((times, arrays)) = &self.current else { continue };
            let t = match &times[r] {
                Ok(t) => *t,
                Err(_) if self.time_only => continue,
                Err(e) => return Ok(Some(Row::Bad(Position::File { line }, e.clone()))),
            };
            if self.time_only {
                return Ok(Some(Row::Time(t)));
            }
            let mut values = Vec::with_capacity(arrays.len());
            for (k, array) in arrays.iter().enumerate() {
                let kind = self.columns.kinds[k];
                match Self::value(array, self.targets[k], kind, r) {
                    Ok(v) => values.push(v),
                    Err(m) => {
                        return Ok(Some(Row::Bad(
                            Position::File { line },
                            bad_value(kind, &self.columns.features[k], m),
                        )))
                    }
                }
            }
            return Ok(Some(record(values, self.columns.has_key, t, line, monitor, stream, self.unknown)));
        }
    }
}

/// Runs `f`, turning a panic of the Parquet / Arrow decoders (corrupt files) into an error.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T, SourceError>) -> Result<T, SourceError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(SourceError::io(path, "the decoder failed (internal panic); the file may be corrupt")))
}

fn read_schema(path: &Path, format: Format) -> Result<std::sync::Arc<Schema>, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let unusable = |e: String| SourceError::unusable(path, e);
    match format {
        Format::Parquet => parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .map(|b| b.schema().clone())
            .map_err(|e| unusable(format!("not a readable Parquet file: {e}"))),
        _ => match arrow_ipc::reader::FileReader::try_new_buffered(file, None) {
            Ok(reader) => Ok(reader.schema()),
            Err(_) => {
                let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
                arrow_ipc::reader::StreamReader::try_new_buffered(file, None)
                    .map(|r| r.schema())
                    .map_err(|e| unusable(format!("not a readable Arrow IPC file or stream: {e}")))
            }
        },
    }
}

type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

fn open_batches(path: &Path, format: Format, projection: Vec<usize>) -> Result<BatchIter, SourceError> {
    let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
    let unusable = |e: String| SourceError::unusable(path, e);
    Ok(match format {
        Format::Parquet => {
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| unusable(format!("not a readable Parquet file: {e}")))?;
            let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), projection);
            let reader = builder
                .with_projection(mask)
                .with_batch_size(8192)
                .build()
                .map_err(|e| unusable(format!("not a readable Parquet file: {e}")))?;
            Box::new(reader)
        }
        _ => match arrow_ipc::reader::FileReader::try_new_buffered(file, Some(projection.clone())) {
            Ok(reader) => Box::new(reader),
            Err(_) => {
                let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
                let reader = arrow_ipc::reader::StreamReader::try_new_buffered(file, Some(projection))
                    .map_err(|e| unusable(format!("not a readable Arrow IPC file or stream: {e}")))?;
                Box::new(reader)
            }
        },
    })
}
