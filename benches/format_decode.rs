//! Avro decode vs the JSON fast path, per event, on the pipeline benchmark's 20-feature
//! events (benches/pipeline/gen_events.py): `bash benches/format_decode.sh`, or
//! `cargo bench --bench format_decode -- EVENTS.jsonl`. Each JSON event is also written as an
//! Avro datum (apache-avro; `ts` a timestamp-millis, 16 doubles, 4 strings); then, in the
//! same run and taking turns, the stream's decoder reads every JSON line (the fast path) and
//! the Avro translator + decoder read every datum (local schema: the registry's cache hit
//! adds a 5-byte header split and one map lookup). Prints ns/event, best of 5 rounds.

use std::time::Instant;

use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use driftd::record::{Position, Stream};
use driftd::source::format::{FormatSpec, MessageFormat, TimeRender, Translator};
use driftd::source::{DecodeContext, DecodeSpec, Decoder, EventTimeSpec, FeatureSpec, TimeFormat};

const ROUNDS: usize = 5;

fn main() {
    let path = std::env::args().skip(1).find(|a| !a.starts_with('-')).expect("usage: format_decode EVENTS.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_string).collect();
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let names: Vec<String> = first["features"].as_object().unwrap().keys().cloned().collect();
    let categorical: Vec<bool> = names.iter().map(|n| n.starts_with("cat_")).collect();

    let fields: Vec<String> = names
        .iter()
        .zip(&categorical)
        .map(|(n, &c)| format!(r#"{{"name": "{n}", "type": "{}"}}"#, if c { "string" } else { "double" }))
        .collect();
    let schema_text = format!(
        r#"{{"type": "record", "name": "Event", "fields": [
            {{"name": "ts", "type": {{"type": "long", "logicalType": "timestamp-millis"}}}},
            {{"name": "features", "type": {{"type": "record", "name": "Features", "fields": [{}]}}}}]}}"#,
        fields.join(", ")
    );
    let schema = Schema::parse_str(&schema_text).unwrap();
    let datums: Vec<Vec<u8>> = lines.iter().map(|l| avro_datum(&schema, &names, &categorical, l)).collect();
    let dir = tempfile::tempdir().unwrap();
    let schema_file = dir.path().join("event.avsc");
    std::fs::write(&schema_file, &schema_text).unwrap();

    let spec = DecodeSpec {
        event_time: EventTimeSpec::Field { pointer: "/ts".into(), format: TimeFormat::Rfc3339 },
        features: FeatureSpec::Object { pointer: "/features".into() },
        ..DecodeSpec::default()
    };
    let decoder = Decoder::new(spec, names.clone()).unwrap().with_categorical(categorical).unwrap();
    let format = FormatSpec {
        format: MessageFormat::Avro,
        schema_file: Some(schema_file),
        subject: "bench-value".into(),
        ..FormatSpec::default()
    };
    let translator = Translator::new(&format, TimeRender::Rfc3339, 1 << 20).unwrap().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let context = || DecodeContext {
        monitor: 0,
        stream: Stream::Inputs,
        position: Position::Kafka { topic: "t".into(), partition: 0, offset: 0 },
        kafka_timestamp_ms: None,
    };

    // Both paths must give the same records.
    for (line, datum) in lines.iter().zip(&datums).take(1000) {
        let json = decoder.decode(line.as_bytes(), context()).unwrap();
        let translated = runtime.block_on(translator.to_json(datum)).unwrap();
        assert_eq!(decoder.decode_translated(&translated, context()).unwrap(), json, "{line}");
    }
    let (mut best_json, mut best_avro) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let mut checksum = 0i64;
        for line in &lines {
            checksum += decoder.decode(line.as_bytes(), context()).unwrap().record.event_time_ms;
        }
        best_json = best_json.min(start.elapsed().as_nanos() as f64 / lines.len() as f64);
        let start = Instant::now();
        runtime.block_on(async {
            for datum in &datums {
                let json = translator.to_json(datum).await.unwrap();
                checksum -= decoder.decode_translated(&json, context()).unwrap().record.event_time_ms;
            }
        });
        best_avro = best_avro.min(start.elapsed().as_nanos() as f64 / lines.len() as f64);
        assert_eq!(checksum, 0);
    }
    let avro_bytes: usize = datums.iter().map(Vec::len).sum();
    let json_bytes: usize = lines.iter().map(String::len).sum();
    println!("events: {} ({} features), best of {ROUNDS} rounds", lines.len(), names.len());
    println!("json fast path:  {best_json:8.0} ns/event  ({:.0} bytes/event)", json_bytes as f64 / lines.len() as f64);
    println!(
        "avro (translated): {best_avro:6.0} ns/event  ({:.0} bytes/event)",
        avro_bytes as f64 / lines.len() as f64
    );
}

/// One JSON event as an Avro datum of `schema`.
fn avro_datum(schema: &Schema, names: &[String], categorical: &[bool], line: &str) -> Vec<u8> {
    let event: serde_json::Value = serde_json::from_str(line).unwrap();
    let ts = event["ts"].as_str().unwrap();
    let ms = driftd::source::time::parse_rfc3339(ts).unwrap();
    let features = names
        .iter()
        .zip(categorical)
        .map(|(n, &c)| {
            let v = &event["features"][n];
            let value = if c { Avro::String(v.as_str().unwrap().into()) } else { Avro::Double(v.as_f64().unwrap()) };
            (n.clone(), value)
        })
        .collect();
    let record =
        Avro::Record(vec![("ts".into(), Avro::TimestampMillis(ms)), ("features".into(), Avro::Record(features))]);
    apache_avro::to_avro_datum(schema, record).unwrap()
}
