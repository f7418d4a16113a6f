//! Tests of the file source over small JSON Lines, CSV, Parquet and Arrow IPC files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use crate::dataset::Format;
use crate::record::{Position, Stream, Value};
use crate::source::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn flat_spec(format: TimeFormat) -> DecodeSpec {
    DecodeSpec {
        event_time: EventTimeSpec::Field { pointer: "/ts".into(), format },
        features: FeatureSpec::Object { pointer: String::new() },
        max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        ..DecodeSpec::default()
    }
}

/// (line, event time, values) of the records, and (line, reason) of the bad rows.
type Drained = (Vec<(u64, i64, Vec<Value>)>, Vec<(u64, &'static str)>);

fn drain(source: &mut FileSource) -> Drained {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for item in source {
        match item {
            Ok(d) => {
                let Position::File { line } = d.record.position else { panic!("not a file position") };
                good.push((line, d.record.event_time_ms, d.record.values));
            }
            Err(SourceError::Bad { position: Position::File { line }, error }) => {
                bad.push((line, error.reason().as_str()))
            }
            Err(fatal) => panic!("fatal: {fatal}"),
        }
    }
    (good, bad)
}

fn open(path: &Path, format: Format, decoder: Decoder) -> FileSource {
    FileSource::open(path, format, decoder, 3, Stream::Inputs).unwrap()
}

#[test]
fn json_lines_unsorted_come_out_sorted_and_stable() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{\"event_time\":\"2024-05-01T12:00:02Z\",\"features\":{\"a\":1}}\n\
                \n\
                {\"event_time\":\"2024-05-01T12:00:01Z\",\"features\":{\"a\":2,\"zz\":0}}\r\n\
                {\"event_time\":\"2024-05-01T12:00:02Z\",\"features\":{\"a\":3}}\n\
                not json\n\
                {\"event_time\":\"2024-05-01T11:59:59+00:00\",\"features\":{\"a\":\"x\"}}\n\
                {\"features\":{\"a\":5}}\n\
                {\"event_time\":\"2024-05-01T12:00:01Z\",\"features\":{\"a\":6}}";
    let path = write(dir.path(), "in.jsonl", text);
    let dec = Decoder::new(DecodeSpec::default(), names(&["a"])).unwrap();
    let mut source = open(&path, Format::JsonLines, dec);
    assert!(source.stats().sorted_in_memory);
    let (good, bad) = drain(&mut source);
    let t0 = 1_714_564_800_000;
    assert_eq!(
        good,
        vec![
            (6, t0 - 1000, vec![Value::Text("x".into())]),
            (3, t0 + 1000, vec![Value::Number(2.0)]),
            (8, t0 + 1000, vec![Value::Number(6.0)]),
            (1, t0 + 2000, vec![Value::Number(1.0)]),
            (4, t0 + 2000, vec![Value::Number(3.0)]),
        ]
    );
    assert_eq!(bad, vec![(5, "invalid_json"), (7, "missing_event_time")]);
    let stats = source.stats();
    assert_eq!((stats.records, stats.invalid_total(), stats.unknown_fields), (5, 2, 1));
    assert_eq!(stats.invalid(DecodeReason::InvalidJson), 1);
}

#[test]
fn json_lines_sorted_are_streamed_with_bad_lines_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{{\"ts\":5,\"a\":\"{}\"}}", "x".repeat(200));
    let text = format!(
        "{{\"ts\":1,\"a\":1}}\n{{\"ts\":\"x\",\"a\":1}}\n{long}\n{{\"ts\":1,\"a\":\"\u{e9}\"}}\n[1]\n{{\"ts\":2.5}}\n"
    );
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"{\"ts\":3,\"a\":\"\xff\"}\n");
    let path = dir.path().join("in.ndjson");
    std::fs::write(&path, bytes).unwrap();
    let spec = DecodeSpec { max_message_bytes: 100, ..flat_spec(TimeFormat::EpochSeconds) };
    let mut source = open(&path, Format::JsonLines, Decoder::new(spec, names(&["a"])).unwrap());
    assert!(!source.stats().sorted_in_memory);
    let (good, bad) = drain(&mut source);
    assert_eq!(
        good,
        vec![
            (1, 1000, vec![Value::Number(1.0)]),
            (4, 1000, vec![Value::Text("\u{e9}".into())]),
            (6, 2500, vec![Value::Missing])
        ]
    );
    assert_eq!(bad, vec![(2, "bad_event_time"), (3, "too_large"), (5, "not_an_object"), (7, "invalid_utf8")]);
}

#[test]
fn csv_rows_are_typed_and_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}ts,zip,income,city,extra\n\
                2024-05-01T12:00:02Z,02139,1.50,Köln,1\n\
                2024-05-01T12:00:00Z,10001,,\"New York, NY\",2\n\
                2024-05-01T12:00:01Z,,NaN,x\n\
                yesterday,1,2,3,4\n\
                ,1,2,3,4\n\
                2024-05-01T12:00:01+00:00,94105,-inf,\"multi\nline\",5\n";
    let path = write(dir.path(), "in.csv", text);
    let dec = Decoder::new(flat_spec(TimeFormat::Rfc3339), names(&["income", "zip", "city"]))
        .unwrap()
        .with_categorical(vec![false, true, true])
        .unwrap();
    let mut source = open(&path, Format::Csv, dec);
    assert!(source.stats().sorted_in_memory);
    let (good, bad) = drain(&mut source);
    let t0 = 1_714_564_800_000;
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(
        good,
        vec![
            (3, t0, vec![Value::Missing, text("10001"), text("New York, NY")]),
            (7, t0 + 1000, vec![Value::Number(f64::NEG_INFINITY), text("94105"), text("multi\nline")]),
            (2, t0 + 2000, vec![Value::Number(1.5), text("02139"), text("Köln")]),
        ]
    );
    assert_eq!(bad, vec![(4, "bad_row"), (5, "bad_event_time"), (6, "missing_event_time")]);
    assert_eq!(source.stats().unknown_fields, 3, "one unused column per row");

    // Without categorical flags, numeric cells are numbers (the text rule of `compare`).
    let dec = Decoder::new(flat_spec(TimeFormat::Rfc3339), names(&["zip"])).unwrap();
    let (good, _) = drain(&mut open(&path, Format::Csv, dec));
    assert_eq!(good[2].2, vec![Value::Number(2139.0)]);
}

#[test]
fn csv_columns_must_exist_and_pointers_must_be_flat() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "in.csv", "ts,a\n1,2\n");
    let dec = Decoder::new(flat_spec(TimeFormat::EpochMillis), names(&["a", "b", "c"])).unwrap();
    let err = FileSource::open(&path, Format::Csv, dec, 0, Stream::Inputs).err().unwrap();
    assert!(err.is_fatal());
    assert!(err.to_string().ends_with("in.csv: no column named b, c"), "{err}");
    let nested = DecodeSpec {
        event_time: EventTimeSpec::Field { pointer: "/meta/ts".into(), format: TimeFormat::EpochMillis },
        ..flat_spec(TimeFormat::EpochMillis)
    };
    let err = FileSource::open(&path, Format::Csv, Decoder::new(nested, names(&["a"])).unwrap(), 0, Stream::Inputs);
    assert!(err.err().unwrap().to_string().contains("does not name a column"));
    let kafka = DecodeSpec { event_time: EventTimeSpec::KafkaTimestamp, ..flat_spec(TimeFormat::EpochMillis) };
    let err =
        FileSource::open(&path, Format::JsonLines, Decoder::new(kafka, names(&["a"])).unwrap(), 0, Stream::Inputs);
    assert!(err.err().unwrap().to_string().contains("no Kafka timestamp"));
    let err = FileSource::open(
        &dir.path().join("nope.csv"),
        Format::Csv,
        Decoder::new(flat_spec(TimeFormat::EpochMillis), vec![]).unwrap(),
        0,
        Stream::Inputs,
    );
    assert!(matches!(err, Err(SourceError::Io { .. })));
}

#[test]
fn csv_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.csv", "ts,score,label\n1,0.5,1.50\n2,high,x\n3,,y\n");
    let pred = |kind| DecodeSpec {
        features: FeatureSpec::Prediction { pointer: "/score".into(), kind },
        ..flat_spec(TimeFormat::EpochSeconds)
    };
    let dec = Decoder::new(pred(PredictionKind::Score), names(&["score"])).unwrap();
    let (good, bad) = drain(&mut open(&path, Format::Csv, dec));
    assert_eq!(good, vec![(2, 1000, vec![Value::Number(0.5)]), (4, 3000, vec![Value::Missing])]);
    assert_eq!(bad, vec![(3, "bad_prediction")]);
    let label = DecodeSpec {
        features: FeatureSpec::Prediction { pointer: "/label".into(), kind: PredictionKind::Label },
        ..flat_spec(TimeFormat::EpochSeconds)
    };
    let (good, _) = drain(&mut open(&path, Format::Csv, Decoder::new(label, names(&["label"])).unwrap()));
    assert_eq!(good[0].2, vec![Value::Text("1.50".into())]);
}

fn sample_batch() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), true),
        Field::new("x", DataType::Float64, true),
        Field::new("n", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
        Field::new("b", DataType::Boolean, true),
        Field::new("epoch", DataType::Int64, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(vec![Some(3000), Some(1000), None, Some(1000)]).with_timezone("UTC")),
        Arc::new(Float64Array::from(vec![Some(0.5), None, Some(1.0), Some(f64::NAN)])),
        Arc::new(Int64Array::from(vec![Some(7), Some(8), Some(9), None])),
        Arc::new(StringArray::from(vec![Some("a"), Some("2.5"), None, Some("")])),
        Arc::new(BooleanArray::from(vec![Some(true), Some(false), None, Some(true)])),
        Arc::new(Int64Array::from(vec![Some(30), Some(10), Some(20), Some(10)])),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn check_batches(path: &Path, format: Format) {
    let features = names(&["x", "n", "s", "b"]);
    let dec = Decoder::new(flat_spec(TimeFormat::Rfc3339), features.clone()).unwrap();
    let mut source = open(path, format, dec);
    assert!(source.stats().sorted_in_memory);
    let (good, bad) = drain(&mut source);
    assert_eq!(
        good,
        vec![
            (2, 1000, vec![Value::Missing, Value::Number(8.0), Value::Number(2.5), Value::Bool(false)]),
            (4, 1000, vec![Value::Missing, Value::Missing, Value::Missing, Value::Bool(true)]),
            (1, 3000, vec![Value::Number(0.5), Value::Number(7.0), Value::Text("a".into()), Value::Bool(true)]),
        ]
    );
    assert_eq!(bad, vec![(3, "missing_event_time")]);
    assert_eq!(source.stats().unknown_fields, 3, "column epoch is unused");

    // An integer epoch column; categorical numbers keep their text.
    let spec = DecodeSpec {
        event_time: EventTimeSpec::Field { pointer: "/epoch".into(), format: TimeFormat::EpochSeconds },
        ..flat_spec(TimeFormat::EpochSeconds)
    };
    let dec = Decoder::new(spec, names(&["x", "n"])).unwrap().with_categorical(vec![true, true]).unwrap();
    let (good, bad) = drain(&mut open(path, format, dec));
    let times: Vec<(u64, i64)> = good.iter().map(|g| (g.0, g.1)).collect();
    assert_eq!(times, vec![(2, 10_000), (4, 10_000), (3, 20_000), (1, 30_000)]);
    assert_eq!(good[3].2, vec![Value::Text("0.5".into()), Value::Text("7".into())]);
    assert!(bad.is_empty());

    // RFC 3339 cannot be read from an integer column.
    let spec = DecodeSpec {
        event_time: EventTimeSpec::Field { pointer: "/epoch".into(), format: TimeFormat::Rfc3339 },
        ..flat_spec(TimeFormat::Rfc3339)
    };
    let err = FileSource::open(path, format, Decoder::new(spec, vec![]).unwrap(), 0, Stream::Inputs);
    assert!(err.err().unwrap().to_string().contains("event-time column epoch is Int64"));
}

#[test]
fn parquet_rows_by_column_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.parquet");
    let batch = sample_batch();
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    check_batches(&path, Format::Parquet);
    // Not a Parquet file.
    let junk = write(dir.path(), "junk.parquet", "PAR1 not really PAR1");
    let dec = Decoder::new(flat_spec(TimeFormat::Rfc3339), vec![]).unwrap();
    assert!(FileSource::open(&junk, Format::Parquet, dec, 0, Stream::Inputs).is_err());
}

#[test]
fn arrow_ipc_rows_by_column_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.arrow");
    let batch = sample_batch();
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(file, &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    check_batches(&path, Format::ArrowIpc);
}

#[test]
fn sorted_parquet_streams_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.parquet");
    let n = 20_000i64;
    let schema =
        Arc::new(Schema::new(vec![Field::new("ts", DataType::Utf8, false), Field::new("v", DataType::Float64, false)]));
    let ts: Vec<String> = (0..n).map(|i| format!("{}", 1_700_000_000 + i / 3)).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(ts)),
            Arc::new(Float64Array::from((0..n).map(|i| i as f64).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let mut source =
        open(&path, Format::Parquet, Decoder::new(flat_spec(TimeFormat::EpochSeconds), names(&["v"])).unwrap());
    assert!(!source.stats().sorted_in_memory);
    let (good, bad) = drain(&mut source);
    assert!(bad.is_empty());
    assert_eq!(good.len(), n as usize);
    for (k, (line, t, values)) in good.iter().enumerate() {
        assert_eq!(
            (*line, *t, values.as_slice()),
            (k as u64 + 1, (1_700_000_000 + k as i64 / 3) * 1000, &[Value::Number(k as f64)][..])
        );
    }
}

/// The two-thread ordering scan of a JSON Lines file answers as the one-pass scan, wherever
/// the cut falls: sorted or not, backwards steps within either half or across the cut, bad
/// lines (not JSON, no time, invalid UTF-8, too long), blank lines and CRLF.
#[test]
fn parallel_order_scan_agrees_with_one_pass() {
    use crate::source::file::scan_order;
    let dir = tempfile::tempdir().unwrap();
    let spec = DecodeSpec { max_message_bytes: 80, ..flat_spec(TimeFormat::EpochMillis) };
    let decoder = Decoder::new(spec, names(&["ts", "a"])).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let (mut sorted, mut unsorted) = (0, 0);
    for case in 0..400 {
        let mut bytes = Vec::new();
        let mut t = 1000i64;
        for _ in 0..1 + next(12) {
            t += next(5) as i64 - if next(8) == 0 { 3 } else { 0 };
            match next(12) {
                0 => bytes.extend_from_slice(b"not json"),
                1 => bytes.extend_from_slice(b"{\"a\": 1}"),
                2 => bytes.extend_from_slice(b"{\"ts\": 5, \"a\": \"\xff\"}"),
                3 => bytes.extend_from_slice(format!("{{\"ts\": {t}, \"a\": \"{}\"}}", "x".repeat(100)).as_bytes()),
                4 => {}
                5 => bytes.extend_from_slice(format!("{{\"ts\": {t}}}\r").as_bytes()),
                _ => bytes.extend_from_slice(format!("{{\"ts\": {t}, \"a\": {}}}", next(100)).as_bytes()),
            }
            if next(10) != 0 {
                bytes.push(b'\n');
            }
        }
        let path = dir.path().join(format!("case{case}.jsonl"));
        std::fs::write(&path, &bytes).unwrap();
        let one = scan_order(&path, Format::JsonLines, &decoder, 0, Stream::Inputs, u64::MAX).unwrap();
        let two = scan_order(&path, Format::JsonLines, &decoder, 0, Stream::Inputs, 0).unwrap();
        assert_eq!(one, two, "case {case}: {}", String::from_utf8_lossy(&bytes));
        if one {
            sorted += 1;
        } else {
            unsorted += 1;
        }
    }
    assert!(sorted > 50 && unsorted > 50, "{sorted} sorted, {unsorted} unsorted");
}
