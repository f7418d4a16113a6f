//! Property tests of the decoder (random bytes, mutated and truncated messages, JSON-shaped
//! noise: never a panic) and the ignored timing test `decode_rate`.

use proptest::prelude::*;

use super::{ctx, default_decoder, field, names, spec};
use crate::record::Value;
use crate::source::*;

fn all_decoders() -> Vec<Decoder> {
    let t = || field("/event_time", TimeFormat::Rfc3339);
    vec![
        default_decoder(&["a", "b", "c"]),
        default_decoder(&["a", "b"]).with_categorical(vec![true, false]).unwrap(),
        Decoder::new(
            spec(field("/t", TimeFormat::EpochSeconds), FeatureSpec::Object { pointer: String::new() }),
            names(&["t", "a"]),
        )
        .unwrap(),
        Decoder::new(
            spec(
                t(),
                FeatureSpec::Pointers(vec![("a".into(), "/features/a".into()), ("x".into(), "/features/arr/0".into())]),
            ),
            names(&["a", "x"]),
        )
        .unwrap(),
        Decoder::new(
            spec(
                t(),
                FeatureSpec::Prediction {
                    pointer: "/features".into(),
                    kind: PredictionKind::Probabilities { classes: None },
                },
            ),
            names(&["class:a", "class:0"]),
        )
        .unwrap(),
    ]
}

const VALID: &str = r#"{"event_time":"2024-05-01T12:00:00.5+01:00","t":1714564800,"features":{"a":1.5,"b":"x","c":true,"arr":[1,2],"d":null}}"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for dec in all_decoders() {
            let _ = dec.decode(&bytes, ctx());
            let _ = dec.event_time(&bytes, None);
        }
    }

    #[test]
    fn mutated_messages_never_panic(cut in 0usize..VALID.len(), at in 0usize..VALID.len(), byte in any::<u8>()) {
        let mut bytes = VALID.as_bytes().to_vec();
        bytes[at] = byte;
        for dec in all_decoders() {
            let _ = dec.decode(&bytes, ctx());
            let _ = dec.event_time(&bytes, None);
            // A truncated message is never accepted.
            prop_assert!(dec.decode(&VALID.as_bytes()[..cut], ctx()).is_err());
        }
    }

    #[test]
    fn json_shaped_text_never_panics(text in r#"[{}\[\]":,a-f0-9 .eE+\-tnul\\]{0,120}"#) {
        for dec in all_decoders() {
            let _ = dec.decode(text.as_bytes(), ctx());
            let _ = dec.event_time(text.as_bytes(), None);
        }
    }
}

#[test]
fn valid_message_decodes_with_every_decoder() {
    for dec in all_decoders() {
        assert!(dec.decode(VALID.as_bytes(), ctx()).is_ok(), "{:?}", dec.spec());
    }
}

/// Decode rate: `cargo test --release --lib source::tests::fuzz::decode_rate -- --ignored --nocapture`.
/// Compares the walk with parsing a full `serde_json::Value` tree and reading the same keys.
#[test]
#[ignore]
fn decode_rate() {
    use std::time::Instant;
    let (features, lines) = sample_lines(20_000);
    let bytes: usize = lines.iter().map(String::len).sum();
    let dec = Decoder::new(DecodeSpec::default(), features.clone()).unwrap();
    let rounds: usize = std::env::var("DECODE_RATE_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(25);
    let run = |name: &str, f: &dyn Fn(&str) -> usize| {
        let cpu_start = cpu_ns();
        let start = Instant::now();
        let mut sink = 0usize;
        for _ in 0..rounds {
            for line in &lines {
                sink = sink.wrapping_add(f(line));
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let n = (rounds * lines.len()) as f64;
        if let (Some(a), Some(b)) = (cpu_start, cpu_ns()) {
            println!(
                "{name}: {:.0} messages/s of CPU time ({:.0} ns/message)",
                n / ((b - a) as f64 / 1e9),
                (b - a) as f64 / n
            );
        }
        println!(
            "{name}: {:.0} messages/s, {:.0} MB/s (avg {} B/message, sink {sink})",
            n / secs,
            (rounds * bytes) as f64 / secs / 1e6,
            bytes / lines.len()
        );
    };
    run("decoder (fast path)", &|line| dec.decode(line.as_bytes(), ctx()).map(|d| d.record.values.len()).unwrap_or(0));
    run("walk (driftd decoder without the fast path)", &|line| {
        dec.decode_slow(line.as_bytes(), ctx()).map(|d| d.record.values.len()).unwrap_or(0)
    });
    if std::env::var_os("DECODE_RATE_FLOOR").is_some() {
        run("floor: serde_json IgnoredAny", &|line| {
            serde_json::from_str::<serde::de::IgnoredAny>(line).map_or(0, |_| 1)
        });
        run("floor: from_utf8", &|line| std::str::from_utf8(line.as_bytes()).map_or(0, |s| s.len()));
    }
    if std::env::var_os("DECODE_RATE_WALK_ONLY").is_some() {
        return;
    }
    run("serde_json::Value + pointer lookups", &|line| {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = v
            .pointer("/event_time")
            .and_then(|t| t.as_str())
            .map(|t| crate::source::time::parse_rfc3339(t).unwrap_or(0));
        let obj = v.pointer("/features").and_then(|f| f.as_object()).unwrap();
        let values: Vec<Value> = features
            .iter()
            .map(|f| match obj.get(f) {
                Some(serde_json::Value::Number(n)) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
                Some(serde_json::Value::String(s)) => Value::Text(s.clone()),
                Some(serde_json::Value::Bool(b)) => Value::Bool(*b),
                _ => Value::Missing,
            })
            .collect();
        values.len() + t.map_or(0, |t| t as usize & 1)
    });
    run("event-time scan only", &|line| dec.event_time(line.as_bytes(), None).map_or(0, |t| t as usize & 1));
}

/// `n` messages with 20 features (16 numbers written as by Python's `repr`, 4 strings).
fn sample_lines(n: usize) -> (Vec<String>, Vec<String>) {
    let features: Vec<String> = (0..20).map(|i| format!("feature_{i:02}")).collect();
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let body: Vec<String> = features
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    if k % 5 == 4 {
                        format!(r#""{f}":"cat_{}""#, (i + k) % 7)
                    } else {
                        format!(r#""{f}":{}"#, (i * 31 + k) as f64 * 0.37)
                    }
                })
                .collect();
            format!(
                r#"{{"event_time":"2024-05-01T12:{:02}:{:02}.{:03}Z","model":"credit","features":{{{}}}}}"#,
                i * 10 / 60_000 % 60,
                i * 10 / 1000 % 60,
                i * 10 % 1000,
                body.join(",")
            )
        })
        .collect();
    (features, lines)
}

/// CPU time of this thread in ns (`/proc/thread-self/schedstat`), so that other jobs on the
/// machine do not skew a rate.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

/// File-source rate (ordering scan + decode) over a sorted JSON Lines file of 200 000
/// 20-feature events: `cargo test --release --lib source::tests::fuzz::file_source_rate -- --ignored --nocapture`.
#[test]
#[ignore]
fn file_source_rate() {
    let (features, lines) = sample_lines(200_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let dec = Decoder::new(DecodeSpec::default(), features).unwrap();
    let (cpu, start) = (cpu_ns(), std::time::Instant::now());
    let source =
        FileSource::open(&path, crate::dataset::Format::JsonLines, dec, 0, crate::record::Stream::Inputs).unwrap();
    assert!(!source.stats().sorted_in_memory);
    let n = source.filter(Result::is_ok).count();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(n, lines.len());
    println!("file source, JSON Lines: {:.0} events/s wall", n as f64 / secs);
    if let (Some(a), Some(b)) = (cpu, cpu_ns()) {
        println!("file source, JSON Lines: {:.0} events/s of CPU time", n as f64 / ((b - a) as f64 / 1e9));
    }
}

#[test]
fn sources_are_send() {
    fn send<T: Send>() {}
    send::<Decoder>();
    send::<FileSource>();
}
