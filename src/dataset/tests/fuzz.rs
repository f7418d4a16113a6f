//! Hostile input: random bytes given as any format must give `Ok` (with the invariants) or
//! a one-line error naming the file, never a panic.

use proptest::prelude::*;
use tempfile::TempDir;

use super::*;

/// Loads `bytes` saved under `name`; checks the outcome as described in the module docs.
fn survives(dir: &TempDir, name: &str, bytes: &[u8]) {
    let path = write(dir, name, bytes);
    match load(&path, &LoadOptions::default()) {
        Ok(dataset) => check_invariants(&dataset),
        Err(e) => {
            let message = e.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(message.starts_with(&path.display().to_string()), "{message}");
        }
    }
}

/// Text made of the characters that matter to the CSV and JSON parsers and the typing rule.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "a",
        ",",
        "\"",
        "\n",
        "\r\n",
        " ",
        "1",
        ".5",
        "-2e3",
        "NaN",
        "inf",
        "-Infinity",
        "x",
        "é",
        "{",
        "}",
        "[",
        "]",
        ":",
        "\"k\"",
        "null",
        "true",
        "\\u00e9",
        "\u{feff}",
        "\0",
    ]);
    prop::collection::vec(pieces, 0..64).prop_map(|p| p.concat().into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = TempDir::new().unwrap();
        for name in ["r.csv", "r.jsonl", "r.parquet", "r.arrow"] {
            survives(&dir, name, &bytes);
        }
    }

    #[test]
    fn structured_noise_never_panics(bytes in csvish()) {
        let dir = TempDir::new().unwrap();
        survives(&dir, "s.csv", &bytes);
        survives(&dir, "s.jsonl", &bytes);
    }

    #[test]
    fn valid_json_objects_with_random_values_load(
        rows in prop::collection::vec(
            prop::collection::vec(("[a-c]", prop_oneof![
                any::<f64>().prop_map(|v| serde_json::json!(v)),
                any::<i64>().prop_map(|v| serde_json::json!(v)),
                "[ a-z0-9.é]{0,6}".prop_map(|v| serde_json::json!(v)),
                any::<bool>().prop_map(|v| serde_json::json!(v)),
                Just(serde_json::Value::Null),
            ]), 0..4),
            1..20,
        )
    ) {
        let dir = TempDir::new().unwrap();
        let text: String = rows
            .iter()
            .map(|fields| {
                let object: serde_json::Map<String, serde_json::Value> = fields.iter().cloned().collect();
                serde_json::Value::Object(object).to_string() + "\n"
            })
            .collect();
        let path = write(&dir, "v.jsonl", &text);
        let any_key = rows.iter().any(|r| !r.is_empty());
        match load(&path, &LoadOptions::default()) {
            Ok(d) => {
                check_invariants(&d);
                prop_assert_eq!(d.rows, rows.len() as u64);
            }
            Err(e) => prop_assert!(!any_key, "{}", e),
        }
    }
}

#[test]
fn corrupted_parquet_and_ipc_never_panic() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};

    let dir = TempDir::new().unwrap();
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from((0..500).map(f64::from).collect::<Vec<_>>())) as ArrayRef),
        ("s", Arc::new(StringArray::from((0..500).map(|i| format!("s{}", i % 7)).collect::<Vec<_>>())) as ArrayRef),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    // Deterministic corruption: flip bytes at many offsets, one file per offset.
    let step = (bytes.len() / 97).max(1);
    for offset in (4..bytes.len() - 4).step_by(step) {
        let mut broken = bytes.clone();
        broken[offset] ^= 0x5a;
        survives(&dir, "broken.parquet", &broken);
        survives(&dir, "truncated.parquet", &[&bytes[..offset], b"PAR1"].concat());
    }

    for stream in [false, true] {
        let mut bytes = Vec::new();
        if stream {
            let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &batch.schema()).unwrap();
            writer.write(&batch).unwrap();
            writer.finish().unwrap();
        } else {
            let mut writer = arrow_ipc::writer::FileWriter::try_new(&mut bytes, &batch.schema()).unwrap();
            writer.write(&batch).unwrap();
            writer.finish().unwrap();
        }
        let step = (bytes.len() / 97).max(1);
        for offset in (8..bytes.len()).step_by(step) {
            let mut broken = bytes.clone();
            broken[offset] ^= 0x5a;
            survives(&dir, "broken.arrow", &broken);
            survives(&dir, "truncated.arrow", &bytes[..offset]);
        }
    }
}
