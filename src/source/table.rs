//! Flat rows — CSV here, Parquet / Arrow IPC batches in `batches.rs` — turned into records
//! cell by cell (no JSON in between), and the rules both share. Each pointer of the spec names
//! a column (`/ts`; with an object spec every feature is the column of its name, other columns
//! count as unknown fields); a missing column is an error at open. Text cells follow `driftd
//! compare`'s text rule ([`cell_value`]); typed Arrow columns: numbers are numbers (their text
//! when categorical), temporal types their stored integer, booleans booleans. Event-time
//! columns: strings in the spec's format, numbers as epochs in its unit, Arrow timestamps and
//! dates as the instants they are.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ReaderBuilder};

use super::decode::{cell_value, Decoder};
use super::row::{column_of, Row, Rows, SourceError};
use super::spec::{DecodeError, Decoded, EventTimeSpec, FeatureSpec, PredictionKind, TimeFormat};
use super::time::parse_time_text;
use crate::record::{Position, Record, Stream, Value};

/// How a feature's cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CellKind {
    /// A feature: numbers keep their text when categorical.
    Feature { categorical: bool },
    /// A score or a probability: a number or missing.
    Numeric,
    /// A class label: text kept.
    Label,
    /// The join key (the last column when the spec has one): text kept.
    Key,
}

/// The columns a decoder needs from a flat row.
pub(super) struct Columns {
    pub(super) time: String,
    pub(super) format: TimeFormat,
    /// Column of each feature, in feature order.
    pub(super) features: Vec<String>,
    pub(super) kinds: Vec<CellKind>,
    /// Whether columns that are not used count as unknown fields (object spec).
    pub(super) count_unknown: bool,
    /// The last of `features` is the join key's column ([`super::DecodeSpec::key`]).
    pub(super) has_key: bool,
}

pub(super) fn columns_for(path: &Path, dec: &Decoder) -> Result<Columns, SourceError> {
    let spec = dec.spec();
    let (time, format) = match &spec.event_time {
        EventTimeSpec::Field { pointer, format } => (column_of(path, pointer)?, *format),
        EventTimeSpec::KafkaTimestamp => {
            return Err(SourceError::unusable(path, "a file has no Kafka timestamp: name an event-time field"))
        }
    };
    let names = dec.feature_names();
    let feature =
        |i: usize| CellKind::Feature { categorical: dec.compiled.categorical.get(i).copied().unwrap_or(false) };
    let (features, kinds) = match &spec.features {
        FeatureSpec::Object { .. } => (names.to_vec(), (0..names.len()).map(feature).collect()),
        FeatureSpec::Pointers(list) => {
            let columns = names
                .iter()
                .map(|n| {
                    let pointer = list.iter().find(|(name, _)| name == n).map_or("", |(_, p)| p.as_str());
                    column_of(path, pointer)
                })
                .collect::<Result<_, _>>()?;
            (columns, (0..names.len()).map(feature).collect())
        }
        FeatureSpec::Prediction { pointer, kind } => match kind {
            PredictionKind::Score => (vec![column_of(path, pointer)?], vec![CellKind::Numeric]),
            PredictionKind::Label => (vec![column_of(path, pointer)?], vec![CellKind::Label]),
            PredictionKind::Probabilities { .. } => (names.to_vec(), vec![CellKind::Numeric; names.len()]),
        },
    };
    let (mut features, mut kinds) = (features, kinds);
    let has_key = match &spec.key {
        Some(pointer) => {
            features.push(column_of(path, pointer)?);
            kinds.push(CellKind::Key);
            true
        }
        None => false,
    };
    let count_unknown = matches!(spec.features, FeatureSpec::Object { .. });
    Ok(Columns { time, format, features, kinds, count_unknown, has_key })
}

/// Indices of `wanted` in `header`, or an error naming every missing column.
pub(super) fn resolve(path: &Path, header: &[String], wanted: &[&str]) -> Result<Vec<usize>, SourceError> {
    let missing: Vec<&str> = wanted.iter().copied().filter(|w| !header.iter().any(|h| h == w)).collect();
    if !missing.is_empty() {
        return Err(SourceError::unusable(path, format!("no column named {}", missing.join(", "))));
    }
    Ok(wanted.iter().map(|w| header.iter().position(|h| h == w).unwrap_or(0)).collect())
}

/// A text cell as a value of `kind`.
pub(super) fn text_value(text: &str, kind: CellKind) -> Result<Value, &'static str> {
    match kind {
        CellKind::Feature { categorical } => Ok(cell_value(text, categorical)),
        CellKind::Label | CellKind::Key => Ok(cell_value(text, true)),
        CellKind::Numeric => match cell_value(text, false) {
            Value::Text(_) => Err("a non-numeric value where a number was expected"),
            value => Ok(value),
        },
    }
}

pub(super) fn bad_value(kind: CellKind, column: &str, message: &str) -> DecodeError {
    let at = format!("column {column}");
    match kind {
        CellKind::Feature { .. } => DecodeError::BadFeatures { at, message: message.into() },
        CellKind::Key => DecodeError::BadKey { at, message: message.into() },
        _ => DecodeError::BadPrediction { at, message: message.into() },
    }
}

/// A row's record; with `has_key` the last value is the join key, not a feature.
pub(super) fn record(
    mut values: Vec<Value>,
    has_key: bool,
    t: i64,
    line: u64,
    monitor: usize,
    stream: Stream,
    unknown: u32,
) -> Row {
    let key = if has_key { values.pop() } else { None }.and_then(|v| match v {
        Value::Text(text) => Some(text.into_boxed_str()),
        Value::Number(v) => Some(v.to_string().into_boxed_str()),
        Value::Bool(b) => Some(b.to_string().into_boxed_str()),
        Value::Missing => None,
    });
    let record = Record { monitor, stream, event_time_ms: t, values, position: Position::File { line }, key };
    Row::Record(Decoded { record, unknown_fields: unknown })
}

/// CSV rows.
pub(super) struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    record: ByteRecord,
    width: usize,
    time: usize,
    cols: Vec<usize>,
    columns: Columns,
    unknown: u32,
    time_only: bool,
}

impl CsvRows {
    pub(super) fn open(path: &Path, dec: &Decoder, time_only: bool) -> Result<CsvRows, SourceError> {
        let columns = columns_for(path, dec)?;
        let file = File::open(path).map_err(|e| SourceError::io(path, e))?;
        let mut reader =
            ReaderBuilder::new().has_headers(false).flexible(true).from_reader(BufReader::with_capacity(1 << 16, file));
        let mut record = ByteRecord::new();
        if !reader.read_byte_record(&mut record).map_err(|e| SourceError::io(path, e))? {
            return Err(SourceError::unusable(path, "empty file: expected a header row"));
        }
        let header: Vec<String> = record
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
                String::from_utf8(f.to_vec()).map_err(|_| SourceError::unusable(path, "the header row is not UTF-8"))
            })
            .collect::<Result<_, _>>()?;
        let mut wanted: Vec<&str> = vec![columns.time.as_str()];
        wanted.extend(columns.features.iter().map(String::as_str));
        let found = resolve(path, &header, &wanted)?;
        let used = found.iter().collect::<std::collections::BTreeSet<_>>().len();
        let unknown = if columns.count_unknown { (header.len() - used.min(header.len())) as u32 } else { 0 };
        Ok(CsvRows {
            path: path.to_path_buf(),
            reader,
            record,
            width: header.len(),
            time: found[0],
            cols: found[1..].to_vec(),
            columns,
            unknown,
            time_only,
        })
    }

    fn cell(&self, i: usize) -> Result<&str, DecodeError> {
        let bytes = self.record.get(i).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 { valid_up_to: e.valid_up_to() })
    }

    fn row(&self, line: u64, monitor: usize, stream: Stream) -> Result<Row, DecodeError> {
        if self.record.len() != self.width {
            let message = format!("{} fields where the header has {}", self.record.len(), self.width);
            return Err(DecodeError::BadRow { message });
        }
        let at = || format!("column {}", self.columns.time);
        let text = self.cell(self.time)?;
        if text.trim_ascii().is_empty() {
            return Err(DecodeError::MissingEventTime { at: at() });
        }
        let t = parse_time_text(text, self.columns.format)
            .map_err(|m| DecodeError::BadEventTime { at: at(), message: format!("{m}: {text:?}") })?;
        if self.time_only {
            return Ok(Row::Time(t));
        }
        let mut values = Vec::with_capacity(self.cols.len());
        for ((&col, &kind), name) in self.cols.iter().zip(&self.columns.kinds).zip(&self.columns.features) {
            let value = text_value(self.cell(col)?, kind).map_err(|m| bad_value(kind, name, m))?;
            values.push(value);
        }
        Ok(record(values, self.columns.has_key, t, line, monitor, stream, self.unknown))
    }
}

impl Rows for CsvRows {
    fn next_row(&mut self, _: &Decoder, monitor: usize, stream: Stream) -> Result<Option<Row>, SourceError> {
        loop {
            if !self.reader.read_byte_record(&mut self.record).map_err(|e| SourceError::io(&self.path, e))? {
                return Ok(None);
            }
            let line = self.record.position().map_or(0, |p| p.line());
            match self.row(line, monitor, stream) {
                Ok(row) => return Ok(Some(row)),
                Err(_) if self.time_only => continue,
                Err(e) => return Ok(Some(Row::Bad(Position::File { line }, e))),
            }
        }
    }
}
