//! The fast path (`fast.rs`) against the walk: on any input, `decode` (fast path first) and
//! `decode_slow` (the walk alone) give the same result, and the common shape does take the
//! fast path.

use proptest::prelude::*;

use super::{ctx, default_decoder, field, names, spec};
use crate::record::Value;
use crate::source::fast;
use crate::source::*;

/// Decoders with a fast shape: default pointers, categorical flags, epoch times (numbers
/// allowed), another key order, the Kafka timestamp.
fn fast_decoders() -> Vec<Decoder> {
    let object = || FeatureSpec::Object { pointer: "/features".into() };
    let decoders = vec![
        default_decoder(&["a", "b", "c"]),
        default_decoder(&["a", "b", "c"]).with_categorical(vec![true, false, true]).unwrap(),
        Decoder::new(spec(field("/ts", TimeFormat::EpochSeconds), object()), names(&["b", "a"])).unwrap(),
        Decoder::new(spec(field("/ts", TimeFormat::EpochMillis), object()), names(&["a"])).unwrap(),
        Decoder::new(spec(EventTimeSpec::KafkaTimestamp, object()), names(&["a", "c"])).unwrap(),
    ];
    for dec in &decoders {
        assert!(dec.fast.is_some(), "{:?}", dec.spec());
    }
    decoders
}

fn agree(dec: &Decoder, bytes: &[u8]) -> Result<(), TestCaseError> {
    for kafka in [None, Some(1_714_564_800_000)] {
        let context = DecodeContext { kafka_timestamp_ms: kafka, ..ctx() };
        let both = dec.decode(bytes, context.clone());
        let walked = dec.decode_slow(bytes, context);
        prop_assert_eq!(both, walked, "{}", String::from_utf8_lossy(bytes));
    }
    Ok(())
}

/// Member values: well-formed ones (most draws) and broken or escaped ones.
const GOOD_VALUES: &[&str] = &[
    "1.5",
    "-0",
    "0",
    "12",
    "-3.25e-3",
    "1E+2",
    "1e400",
    "-1e999",
    "4.9406564584124654e-324",
    "0.1000000000000000055511151231257827",
    "\"x\"",
    "\"\"",
    "\"Köln\"",
    "true",
    "false",
    "null",
    "[1,2]",
    "[]",
    "{}",
    "{\"k\":[{}]}",
    "\"2024-05-01T12:00:00Z\"",
    "1714564800",
    "1714564800.5",
    "\"1714564800\"",
    "\"2024-05-01T12:00:00.123+02:00\"",
];
const BAD_VALUES: &[&str] = &[
    "01",
    "1.",
    ".5",
    "-",
    "1e",
    "+1",
    "\"c\\\"d\"",
    "\"\\u0041\"",
    "\"\\ud800\"",
    "\"a\tb\"",
    "nul",
    "tru",
    "[1,]",
    "{\"k\"}",
    "\"x\" x",
    "NaN",
];
const GOOD_KEYS: &[&str] = &["a", "b", "c", "zz", "", "ts", "event_time", "features", "clé"];
const BAD_KEYS: &[&str] = &["a\\u0062", "\\u0061", "c\\\"", "b "];
const GOOD_WS: &[&str] = &["", " ", "\n", "\t ", "\r\n"];
const BAD_WS: &[&str] = &["\u{a0}", "\u{feff}", "x"];

/// One of `good` (usually) or `bad`.
fn pick(good: &'static [&'static str], bad: &'static [&'static str]) -> BoxedStrategy<&'static str> {
    prop_oneof![12 => proptest::sample::select(good), 1 => proptest::sample::select(bad)].boxed()
}

fn member(depth: u32) -> BoxedStrategy<String> {
    let leaf = pick(GOOD_VALUES, BAD_VALUES).prop_map(str::to_string);
    let value = if depth == 0 { leaf.boxed() } else { prop_oneof![3 => leaf, 1 => object(depth - 1)].boxed() };
    (pick(GOOD_KEYS, BAD_KEYS), pick(GOOD_WS, BAD_WS), pick(GOOD_WS, BAD_WS), value)
        .prop_map(|(k, w1, w2, v)| format!("\"{k}\"{w1}:{w2}{v}"))
        .boxed()
}

fn object(depth: u32) -> BoxedStrategy<String> {
    (proptest::collection::vec(member(depth), 0..6), pick(GOOD_WS, BAD_WS), proptest::bool::weighted(0.05))
        .prop_map(|(members, w, trailing_comma)| {
            let sep = format!(",{w}");
            format!("{{{w}{}{}}}", members.join(&sep), if trailing_comma { "," } else { "" })
        })
        .boxed()
}

/// Mostly well-formed messages of the fast shape, with noise in every part.
fn message() -> impl Strategy<Value = String> {
    let time = prop_oneof![
        Just(r#""ts":"2024-05-01T12:00:00Z""#.to_string()),
        Just(r#""event_time":"2024-05-01T12:00:00.5+01:00""#.to_string()),
        Just(r#""ts":1714564800"#.to_string()),
        Just(r#""event_time":1714564800.25"#.to_string()),
        member(0),
    ];
    let features = object(1).prop_map(|o| format!("\"features\":{o}"));
    (
        time,
        features,
        proptest::collection::vec(member(2), 0..3),
        any::<prop::sample::Index>(),
        pick(GOOD_WS, BAD_WS),
        pick(GOOD_WS, BAD_WS),
    )
        .prop_map(|(time, features, others, rotate, w1, w2)| {
            let mut members = vec![time, features];
            members.extend(others);
            let k = rotate.index(members.len());
            members.rotate_left(k);
            format!("{w1}{{{}}}{w2}", members.join(","))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// The fast path's number values are std's parse of the same text, bit for bit.
    #[test]
    fn fast_numbers_are_std_numbers(
        negative in any::<bool>(),
        int in "0|[1-9][0-9]{0,20}",
        fraction in proptest::option::of("[0-9]{1,25}"),
        exponent in proptest::option::of("[eE][+-]?[0-9]{1,3}"),
    ) {
        let text = format!(
            "{}{int}{}{}",
            if negative { "-" } else { "" },
            fraction.map(|f| format!(".{f}")).unwrap_or_default(),
            exponent.unwrap_or_default()
        );
        let mut p = fast::Parser::new(text.as_bytes());
        let (raw, value) = p.number_and_value().expect("a JSON number");
        prop_assert_eq!(raw, text.as_bytes());
        let want = text.parse::<f64>().unwrap();
        if let Some(v) = value {
            prop_assert_eq!(v.to_bits(), want.to_bits(), "{}", text);
        }
    }

    #[test]
    fn fast_path_agrees_with_the_walk_on_messages(text in message(), cut in any::<prop::sample::Index>()) {
        for dec in fast_decoders() {
            agree(&dec, text.as_bytes())?;
            let cut = cut.index(text.len() + 1);
            if text.is_char_boundary(cut) {
                agree(&dec, &text.as_bytes()[..cut])?;
            }
        }
    }

    #[test]
    fn fast_path_agrees_with_the_walk_on_mutations(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let valid = r#"{"ts":1714564800,"event_time":"2024-05-01T12:00:00Z","features":{"a":1.5,"b":"x","c":true,"zz":[1,{"q":null}]},"id":-7e3}"#;
        let mut bytes = valid.as_bytes().to_vec();
        bytes[at.index(valid.len())] = byte;
        for dec in fast_decoders() {
            agree(&dec, &bytes)?;
        }
    }

    #[test]
    fn fast_path_agrees_with_the_walk_on_random_text(text in r#"[{}\[\]":,a-f0-9 .eE+\-tnuls\\]{0,120}"#) {
        for dec in fast_decoders() {
            agree(&dec, text.as_bytes())?;
        }
    }
}

#[test]
fn the_common_shape_takes_the_fast_path() {
    let dec = Decoder::new(
        spec(field("/ts", TimeFormat::Rfc3339), FeatureSpec::Object { pointer: "/features".into() }),
        names(&["num", "cat", "flag", "int"]),
    )
    .unwrap()
    .with_categorical(vec![false, true, false, true])
    .unwrap();
    let text = r#"{"ts": "2026-11-01T00:00:00.002Z", "features": {"num": 0.283282, "cat": "c0001", "flag": false, "int": 3, "new": [1, {"x": "y"}]}, "id": 17}"#;
    let shape = dec.fast.as_ref().expect("fast shape");
    let found = fast::decode(&dec.compiled, shape, text.as_bytes()).expect("fast path taken");
    assert_eq!(
        found.values,
        vec![Value::Number(0.283282), Value::Text("c0001".into()), Value::Bool(false), Value::Text("3".into())]
    );
    assert_eq!((found.event_time, found.unknown), (Some(1_793_491_200_002), 1));
    assert_eq!(dec.decode(text.as_bytes(), ctx()), dec.decode_slow(text.as_bytes(), ctx()));
    // Escapes, duplicates and errors go to the walk.
    for text in [
        r#"{"ts": "2026-11-01T00:00:00.002Z", "features": {"n\u0075m": 1}}"#,
        r#"{"ts": "2026-11-01T00:00:00.002Z", "features": {"num": 1, "num": 2}}"#,
        r#"{"ts": "2026-11-01T00:00:00.002Z", "features": {"num": [1]}}"#,
        r#"{"ts": "2026-11-01T00:00:00.002Z"}"#,
        r#"{"ts": "2026-11-01T00:00:00.002Z", "features": {}} x"#,
    ] {
        assert!(fast::decode(&dec.compiled, shape, text.as_bytes()).is_none(), "{text}");
    }
    // Invalid UTF-8 inside a string (monitored, unknown or skipped) is the walk's to report.
    for text in [
        &b"{\"ts\": \"2026-11-01T00:00:00.002Z\", \"features\": {\"cat\": \"c\xff\"}}"[..],
        b"{\"ts\": \"2026-11-01T00:00:00.002Z\", \"features\": {\"n\xc3\": 1}}",
        b"{\"ts\": \"2026-11-01T00:00:00.002Z\", \"features\": {}, \"x\": [\"\xe2\x82\"]}",
    ] {
        assert!(fast::decode(&dec.compiled, shape, text).is_none());
        assert_eq!(dec.decode(text, ctx()).unwrap_err().reason(), DecodeReason::InvalidUtf8);
    }
    let text = "{\"ts\": \"2026-11-01T00:00:00.002Z\", \"features\": {\"cat\": \"Köln €\", \"clé\": 1}}";
    let found = fast::decode(&dec.compiled, shape, text.as_bytes()).expect("fast path taken");
    assert_eq!((&found.values[1], found.unknown), (&Value::Text("Köln €".into()), 1));
    // Specs without the shape.
    for (time, features) in [
        ("/meta/ts", "/features"),
        ("/ts", ""),
        ("/ts", "/a/features"),
        ("/features", "/features"),
        ("/t\"s", "/features"),
    ] {
        let dec = Decoder::new(
            spec(field(time, TimeFormat::Rfc3339), FeatureSpec::Object { pointer: features.into() }),
            names(&["a"]),
        )
        .unwrap();
        assert!(dec.fast.is_none(), "{time} {features}");
    }
}

/// Numbers at the edges of the exact range: 2^53 − 1 and 2^53 digits, 22 fraction digits,
/// halfway cases, negative zero.
#[test]
fn fast_numbers_at_the_edges() {
    for text in [
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "0.9007199254740993",
        "900719925474099.1",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "1.0000000000000002",
        "-0",
        "-0.0",
        "0",
        "123456789012345678901234567890",
        "0.283282",
        "-4.03749",
        "61318.2",
        "2.2250738585072014e-308",
    ] {
        let mut p = fast::Parser::new(text.as_bytes());
        let (raw, value) = p.number_and_value().unwrap();
        assert_eq!(raw, text.as_bytes());
        if let Some(v) = value {
            assert_eq!(v.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{text}");
        }
    }
}

/// The generated messages exercise both outcomes: the comparison above is not vacuous.
#[test]
fn generated_messages_often_take_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = message();
    let decoders = fast_decoders();
    let (mut taken, mut total) = (0, 0);
    for _ in 0..2000 {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        for dec in &decoders {
            total += 1;
            taken += usize::from(fast::decode(&dec.compiled, dec.fast.as_ref().unwrap(), text.as_bytes()).is_some());
        }
    }
    println!("fast path taken {taken} of {total}");
    assert!(taken * 20 > total && taken < total, "fast path taken {taken} of {total}");
}
