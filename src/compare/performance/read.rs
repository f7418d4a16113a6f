//! The target and prediction columns of one file, row by row and aligned (the dataset loader
//! keeps each column's values apart, which is what drift needs but loses the pairs). CSV and
//! JSON Lines by line, Parquet (only the two columns decoded) and Arrow IPC by record batch;
//! each cell typed by the one typing rule (`crate::typing`). Errors name the file and column.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use arrow_array::{Array, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType};

use crate::dataset::{self, DatasetError, Format};
use crate::typing::{classify, Cell};

/// One cell of the target or prediction column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Empty, null or NaN.
    Missing,
    /// A number (±inf included: excluded later, as a missing cell).
    Number(f64),
    /// A boolean (typed columns, JSON `true` / `false`, or that text).
    Bool(bool),
    Text(String),
}

/// Both columns of a file, row-aligned, and how to name a row in a message.
#[derive(Debug, Clone)]
pub struct Columns {
    pub target: Vec<Value>,
    pub prediction: Vec<Value>,
    /// CSV and JSON Lines: the line of each row; columnar files: `None` (rows are counted from 1).
    lines: Option<Vec<u64>>,
}

impl Columns {
    /// "line 7" or "row 7".
    pub fn place(&self, row: usize) -> String {
        match &self.lines {
            Some(lines) => format!("line {}", lines[row]),
            None => format!("row {}", row + 1),
        }
    }
}

/// Reads `target` and `prediction` of `path`.
pub fn read(path: &Path, format: Option<Format>, target: &str, prediction: &str) -> Result<Columns, DatasetError> {
    let names = [target, prediction];
    match dataset::format_of(path, format)? {
        Format::Csv => csv(path, names),
        Format::JsonLines => jsonl(path, names),
        Format::Parquet => guarded(path, || parquet(path, names)),
        Format::ArrowIpc => guarded(path, || ipc(path, names)),
    }
}

fn text_value(text: &str) -> Value {
    match classify(text) {
        Cell::Missing => Value::Missing,
        Cell::Number(v) => Value::Number(v),
        Cell::Text => match text.trim_ascii() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::Text(other.to_string()),
        },
    }
}

fn missing_columns(path: &Path, names: [&str; 2], found: &[String]) -> DatasetError {
    let mut absent: Vec<String> =
        names.iter().filter(|n| !found.iter().any(|f| f == *n)).map(|n| n.to_string()).collect();
    absent.dedup();
    DatasetError::MissingColumns { path: path.to_path_buf(), names: absent }
}

fn csv(path: &Path, names: [&str; 2]) -> Result<Columns, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(BufReader::new(file));
    let decode = |e: ::csv::Error| DatasetError::decode(path, "", e);
    let mut records = reader.byte_records();
    let header = records.next().ok_or_else(|| DatasetError::Empty { path: path.to_path_buf() })?.map_err(decode)?;
    let header: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            String::from_utf8_lossy(f).into_owned()
        })
        .collect();
    let index = |name: &str| header.iter().position(|h| h == name);
    let (Some(t), Some(p)) = (index(names[0]), index(names[1])) else {
        return Err(missing_columns(path, names, &header));
    };
    let mut out = Columns { target: Vec::new(), prediction: Vec::new(), lines: Some(Vec::new()) };
    for record in records {
        let record = record.map_err(decode)?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            return Err(DatasetError::RaggedRow {
                path: path.to_path_buf(),
                line,
                expected: header.len(),
                found: record.len(),
            });
        }
        for (i, column, name) in [(t, &mut out.target, names[0]), (p, &mut out.prediction, names[1])] {
            let text = std::str::from_utf8(record.get(i).unwrap_or_default())
                .map_err(|_| DatasetError::InvalidUtf8 { path: path.to_path_buf(), line, column: name.to_string() })?;
            column.push(text_value(text));
        }
        if let Some(lines) = &mut out.lines {
            lines.push(line);
        }
    }
    Ok(out)
}

fn jsonl(path: &Path, names: [&str; 2]) -> Result<Columns, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let mut out = Columns { target: Vec::new(), prediction: Vec::new(), lines: Some(Vec::new()) };
    let mut seen = [false, false];
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line_no = number as u64 + 1;
        let line = line.map_err(|e| DatasetError::io(path, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&line).map_err(|e| DatasetError::Json {
                path: path.to_path_buf(),
                line: line_no,
                column: e.column() as u64,
                message: e.to_string(),
            })?;
        for (k, (name, column)) in
            [(names[0], &mut out.target), (names[1], &mut out.prediction)].into_iter().enumerate()
        {
            seen[k] |= object.contains_key(name);
            column.push(match object.get(name) {
                None | Some(serde_json::Value::Null) => Value::Missing,
                Some(serde_json::Value::Number(n)) => n.as_f64().map_or(Value::Missing, Value::Number),
                Some(serde_json::Value::String(s)) => text_value(s),
                Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
                Some(_) => {
                    let kind = "arrays or objects";
                    return Err(DatasetError::Nested {
                        path: path.to_path_buf(),
                        line: line_no,
                        field: name.into(),
                        kind,
                    });
                }
            });
        }
        if let Some(lines) = &mut out.lines {
            lines.push(line_no);
        }
    }
    if !(seen[0] && seen[1]) {
        let found: Vec<String> = names.iter().zip(seen).filter(|(_, s)| *s).map(|(n, _)| n.to_string()).collect();
        return Err(missing_columns(path, names, &found));
    }
    Ok(out)
}

/// Arrow and Parquet decoders may panic on corrupt input: an input error, not a crash.
fn guarded(path: &Path, read: impl FnOnce() -> Result<Columns, DatasetError>) -> Result<Columns, DatasetError> {
    catch_unwind(AssertUnwindSafe(read))
        .unwrap_or_else(|_| Err(DatasetError::decode(path, "", "the decoder failed on this file (corrupt?)")))
}

fn parquet(path: &Path, names: [&str; 2]) -> Result<Columns, DatasetError> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ProjectionMask;
    let file = File::open(path).map_err(|e| DatasetError::io(path, &e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| DatasetError::decode(path, "", e))?;
    let fields: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
    if names.iter().any(|n| !fields.iter().any(|f| f == n)) {
        return Err(missing_columns(path, names, &fields));
    }
    let mut roots: Vec<usize> = names.iter().filter_map(|n| fields.iter().position(|f| f == n)).collect();
    roots.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder.with_projection(mask).build().map_err(|e| DatasetError::decode(path, "", e))?;
    batches(path, names, reader)
}

fn ipc(path: &Path, names: [&str; 2]) -> Result<Columns, DatasetError> {
    use arrow_ipc::reader::{FileReader, StreamReader};
    let mut head = Vec::with_capacity(8);
    File::open(path).and_then(|f| f.take(8).read_to_end(&mut head)).map_err(|e| DatasetError::io(path, &e))?;
    let input = BufReader::new(File::open(path).map_err(|e| DatasetError::io(path, &e))?);
    let decode = |e: ArrowError| DatasetError::decode(path, "", e);
    if head.starts_with(b"ARROW1") {
        batches(path, names, FileReader::try_new(input, None).map_err(decode)?)
    } else {
        batches(path, names, StreamReader::try_new(input, None).map_err(decode)?)
    }
}

fn batches(
    path: &Path,
    names: [&str; 2],
    reader: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
) -> Result<Columns, DatasetError> {
    let mut out = Columns { target: Vec::new(), prediction: Vec::new(), lines: None };
    for batch in reader {
        let batch = batch.map_err(|e| DatasetError::decode(path, "", e))?;
        for (name, column) in [(names[0], &mut out.target), (names[1], &mut out.prediction)] {
            let fields: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
            let array = batch.column_by_name(name).ok_or_else(|| missing_columns(path, names, &fields))?;
            push_array(path, name, array.as_ref(), column)?;
        }
    }
    Ok(out)
}

/// Numbers (integers, floats, decimals) as f64, booleans as such, text by the typing rule.
fn push_array(path: &Path, name: &str, array: &dyn Array, out: &mut Vec<Value>) -> Result<(), DatasetError> {
    let cast = |to: &DataType| arrow_cast::cast::cast(array, to).map_err(|e| DatasetError::decode(path, "", e));
    let data_type = array.data_type();
    if let Some(bools) = array.as_any().downcast_ref::<BooleanArray>() {
        out.extend(bools.iter().map(|b| b.map_or(Value::Missing, Value::Bool)));
    } else if data_type.is_numeric() {
        let floats = cast(&DataType::Float64)?;
        let floats = floats.as_any().downcast_ref::<Float64Array>().expect("cast to Float64");
        out.extend(floats.iter().map(|v| v.filter(|v| !v.is_nan()).map_or(Value::Missing, Value::Number)));
    } else if matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..))
    {
        let text = cast(&DataType::Utf8)?;
        let text = text.as_any().downcast_ref::<StringArray>().expect("cast to Utf8");
        out.extend(text.iter().map(|v| v.map_or(Value::Missing, text_value)));
    } else {
        return Err(DatasetError::UnsupportedType {
            path: path.to_path_buf(),
            column: name.to_string(),
            data_type: data_type.to_string(),
        });
    }
    Ok(())
}
