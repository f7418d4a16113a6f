//! Tests of the decoder: every reason, event-time formats, feature and prediction specs,
//! hostile messages. Property tests and the timing tests are in `fuzz.rs`.

use super::*;
use crate::record::{Position, Stream, Value};

pub(super) fn ctx() -> DecodeContext {
    DecodeContext { monitor: 0, stream: Stream::Inputs, position: Position::File { line: 1 }, kafka_timestamp_ms: None }
}

pub(super) fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub(super) fn default_decoder(features: &[&str]) -> Decoder {
    Decoder::new(DecodeSpec::default(), names(features)).expect("valid spec")
}

fn decode(dec: &Decoder, text: &str) -> Result<Decoded, DecodeError> {
    dec.decode(text.as_bytes(), ctx())
}

fn reason(dec: &Decoder, bytes: &[u8]) -> &'static str {
    match dec.decode(bytes, ctx()) {
        Ok(d) => panic!("decoded {:?}", d.record),
        Err(e) => e.reason().as_str(),
    }
}

pub(super) fn spec(event_time: EventTimeSpec, features: FeatureSpec) -> DecodeSpec {
    DecodeSpec { event_time, features, max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES, ..DecodeSpec::default() }
}

pub(super) fn field(pointer: &str, format: TimeFormat) -> EventTimeSpec {
    EventTimeSpec::Field { pointer: pointer.into(), format }
}

#[test]
fn features_object_in_reference_order() {
    let dec = default_decoder(&["age", "city", "vip", "income", "score"]);
    let d = decode(
        &dec,
        r#"{"event_time":"2024-05-01T12:00:00Z","id":7,"features":{"income":1.5e3,"age":41,"vip":true,"city":"Köln","extra":[1,{"x":2}],"score":null}}"#,
    )
    .unwrap();
    assert_eq!(d.record.event_time_ms, 1_714_564_800_000);
    assert_eq!(
        d.record.values,
        vec![Value::Number(41.0), Value::Text("Köln".into()), Value::Bool(true), Value::Number(1500.0), Value::Missing]
    );
    assert_eq!(d.unknown_fields, 1);
    assert_eq!(d.record.position, Position::File { line: 1 });
    // Absent keys are missing; escaped keys match their unescaped names.
    let dec = default_decoder(&["a\"b", "c/d", "absent"]);
    let d = decode(&dec, r#"{"features":{"a\"b":1,"c\/d":"x\ny"},"event_time":"2024-05-01T12:00:00Z"}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Number(1.0), Value::Text("x\ny".into()), Value::Missing]);
    assert_eq!(d.unknown_fields, 0);
}

#[test]
fn categorical_features_keep_number_text() {
    let dec = default_decoder(&["zip", "amount"]).with_categorical(vec![true, false]).unwrap();
    let d = decode(&dec, r#"{"event_time":"2024-05-01T12:00:00Z","features":{"zip":1.50,"amount":1.50}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Text("1.50".into()), Value::Number(1.5)]);
    let d = decode(&dec, r#"{"event_time":"2024-05-01T12:00:00Z","features":{"zip":"02139","amount":false}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Text("02139".into()), Value::Bool(false)]);
    assert!(matches!(
        default_decoder(&["a"]).with_categorical(vec![true, true]),
        Err(SpecError::CategoricalLength { expected: 1, found: 2 })
    ));
}

#[test]
fn flat_messages_with_root_features() {
    let s = spec(field("/ts", TimeFormat::EpochMillis), FeatureSpec::Object { pointer: String::new() });
    let dec = Decoder::new(s, names(&["a", "b"])).unwrap();
    let d = decode(&dec, r#"{"ts":1700000000123,"b":"x","a":2,"c":3}"#).unwrap();
    assert_eq!(d.record.event_time_ms, 1_700_000_000_123);
    assert_eq!(d.record.values, vec![Value::Number(2.0), Value::Text("x".into())]);
    assert_eq!(d.unknown_fields, 1, "the event-time key is not an unknown feature");
    // A feature that is also the event time is consumed by both.
    let dec = Decoder::new(
        spec(field("/ts", TimeFormat::EpochSeconds), FeatureSpec::Object { pointer: String::new() }),
        names(&["ts"]),
    )
    .unwrap();
    let d = decode(&dec, r#"{"ts":"1700000000.5"}"#).unwrap();
    assert_eq!(d.record.event_time_ms, 1_700_000_000_500);
    assert_eq!(d.record.values, vec![Value::Text("1700000000.5".into())]);
}

#[test]
fn pointer_list_nested_escaped_and_indexed() {
    let list = vec![
        ("age".to_string(), "/user/age".to_string()),
        ("slash".to_string(), "/a~1b/c~0d".to_string()),
        ("second".to_string(), "/arr/1".to_string()),
        ("deep".to_string(), "/arr/0/x".to_string()),
        ("gone".to_string(), "/user/nope".to_string()),
        ("unused".to_string(), "/whatever".to_string()),
    ];
    let s = spec(field("/meta/time", TimeFormat::Rfc3339), FeatureSpec::Pointers(list));
    let dec = Decoder::new(s, names(&["deep", "second", "slash", "age", "gone"])).unwrap();
    let d = decode(
        &dec,
        r#"{"user":{"age":30,"name":"x"},"arr":[{"x":"first"},2.5,3],"a/b":{"c~d":true},"meta":{"time":"2024-05-01T14:00:00+02:00"}}"#,
    )
    .unwrap();
    assert_eq!(d.record.event_time_ms, 1_714_564_800_000);
    assert_eq!(
        d.record.values,
        vec![Value::Text("first".into()), Value::Number(2.5), Value::Bool(true), Value::Number(30.0), Value::Missing]
    );
    // A path through a value of another type does not resolve: the feature is missing.
    let d = decode(&dec, r#"{"user":"x","arr":{"1":9},"meta":{"time":"2024-05-01T14:00:00+02:00"}}"#).unwrap();
    assert_eq!(
        d.record.values,
        vec![Value::Missing, Value::Number(9.0), Value::Missing, Value::Missing, Value::Missing]
    );
    assert_eq!(reason(&dec, br#"{"user":{"age":[1]},"meta":{"time":"2024-05-01T14:00:00Z"}}"#), "bad_features");
}

#[test]
fn event_time_formats() {
    let ms = |format: TimeFormat, value: &str| {
        let dec =
            Decoder::new(spec(field("/t", format), FeatureSpec::Object { pointer: "/f".into() }), vec![]).unwrap();
        dec.decode(format!(r#"{{"t":{value},"f":{{}}}}"#).as_bytes(), ctx()).map(|d| d.record.event_time_ms)
    };
    assert_eq!(ms(TimeFormat::Rfc3339, r#""2024-05-01T12:00:00.250-01:00""#), Ok(1_714_568_400_250));
    assert_eq!(ms(TimeFormat::Rfc3339, r#""2024-05-01T12:00:00.999999Z""#), Ok(1_714_564_800_999));
    assert_eq!(ms(TimeFormat::EpochSeconds, "1714564800"), Ok(1_714_564_800_000));
    assert_eq!(ms(TimeFormat::EpochSeconds, "1714564800.25"), Ok(1_714_564_800_250));
    assert_eq!(ms(TimeFormat::EpochSeconds, r#"" 1714564800.25""#), Ok(1_714_564_800_250));
    assert_eq!(ms(TimeFormat::EpochMillis, "1714564800250"), Ok(1_714_564_800_250));
    assert_eq!(ms(TimeFormat::EpochMillis, r#""1714564800250.7""#), Ok(1_714_564_800_250));
    assert_eq!(ms(TimeFormat::EpochMillis, "1.71456480025e12"), Ok(1_714_564_800_250));
    let reason_of = |r: Result<i64, DecodeError>| r.unwrap_err().reason().as_str();
    assert_eq!(reason_of(ms(TimeFormat::Rfc3339, "1714564800")), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::Rfc3339, r#""yesterday""#)), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::Rfc3339, r#""2024-05-01T12:00:00""#)), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::EpochSeconds, r#""soon""#)), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::EpochSeconds, "true")), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::EpochSeconds, "[1]")), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::EpochMillis, "1714564800250000")), "bad_event_time");
    assert_eq!(reason_of(ms(TimeFormat::EpochMillis, "null")), "missing_event_time");

    // The Kafka timestamp.
    let s = spec(EventTimeSpec::KafkaTimestamp, FeatureSpec::Object { pointer: "/f".into() });
    let dec = Decoder::new(s, vec![]).unwrap();
    let with_ts = DecodeContext { kafka_timestamp_ms: Some(1_714_564_800_000), ..ctx() };
    assert_eq!(dec.decode(br#"{"f":{}}"#, with_ts).unwrap().record.event_time_ms, 1_714_564_800_000);
    assert_eq!(reason(&dec, br#"{"f":{}}"#), "missing_event_time");
    let future = DecodeContext { kafka_timestamp_ms: Some(i64::MAX), ..ctx() };
    assert_eq!(dec.decode(br#"{"f":{}}"#, future).unwrap_err().reason(), DecodeReason::BadEventTime);
}

#[test]
fn every_reason() {
    let dec = default_decoder(&["a"]);
    let t = r#""event_time":"2024-05-01T12:00:00Z""#;
    assert_eq!(
        reason(&dec, b"{\"event_time\":\"2024-05-01T12:00:00Z\",\"features\":{\"a\":\"\xff\"}}"),
        "invalid_utf8"
    );
    assert_eq!(reason(&dec, format!("{{{t},\"features\":{{\"a\":1}}").as_bytes()), "invalid_json");
    assert_eq!(reason(&dec, format!("{{{t},\"features\":{{\"a\":1}}}} x").as_bytes()), "invalid_json");
    assert_eq!(reason(&dec, b""), "invalid_json");
    assert_eq!(reason(&dec, b"{\"a\":01}"), "invalid_json");
    for not_object in ["[1,2]", "3", "\"x\"", "null", "true"] {
        assert_eq!(reason(&dec, not_object.as_bytes()), "not_an_object", "{not_object}");
    }
    let small = Decoder::new(DecodeSpec { max_message_bytes: 10, ..DecodeSpec::default() }, names(&["a"])).unwrap();
    assert_eq!(small.decode(b"{\"event_time\":1}", ctx()), Err(DecodeError::TooLarge { size: 16, limit: 10 }));
    assert_eq!(reason(&dec, br#"{"features":{"a":1}}"#), "missing_event_time");
    assert_eq!(reason(&dec, br#"{"event_time":null,"features":{"a":1}}"#), "missing_event_time");
    assert_eq!(
        reason(
            &dec,
            br#"{"event_time":"2024-05-01T12:00:00Z","event_time":"2024-05-01T12:00:00Z","features":{"a":1}}"#
        ),
        "bad_event_time"
    );
    assert_eq!(reason(&dec, format!("{{{t}}}").as_bytes()), "bad_features");
    assert_eq!(reason(&dec, format!("{{{t},\"features\":[1]}}").as_bytes()), "bad_features");
    assert_eq!(reason(&dec, format!("{{{t},\"features\":null}}").as_bytes()), "bad_features");
    assert_eq!(reason(&dec, format!("{{{t},\"features\":{{\"a\":{{\"b\":1}}}}}}").as_bytes()), "bad_features");
    assert_eq!(reason(&dec, format!("{{{t},\"features\":{{\"a\":1,\"a\":2}}}}").as_bytes()), "bad_features");
    let score = Decoder::new(
        spec(
            field("/event_time", TimeFormat::Rfc3339),
            FeatureSpec::Prediction { pointer: "/p".into(), kind: PredictionKind::Score },
        ),
        names(&["score"]),
    )
    .unwrap();
    for bad in ["true", "\"high\"", "[0.5]", "{}"] {
        assert_eq!(reason(&score, format!("{{{t},\"p\":{bad}}}").as_bytes()), "bad_prediction", "{bad}");
    }
    assert_eq!(reason(&score, format!("{{{t}}}").as_bytes()), "bad_prediction");
    // Messages name the field.
    let err = decode(&dec, &format!("{{{t},\"features\":{{\"a\":[1]}}}}")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad feature value at /features/a: an array where a number, string, boolean or null was expected"
    );
    let reasons: Vec<&str> = DecodeReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(reasons.len(), 16);
}

#[test]
fn a_join_key_is_read_as_text_wherever_it_is() {
    let keyed = Decoder::new(
        DecodeSpec {
            key: Some("/meta/id".into()),
            ..spec(
                field("/ts", TimeFormat::EpochMillis),
                FeatureSpec::Prediction { pointer: "/p".into(), kind: PredictionKind::Score },
            )
        },
        names(&["score"]),
    )
    .unwrap();
    let key = |json: &str| decode(&keyed, json).map(|d| d.record.key.map(String::from));
    assert_eq!(key(r#"{"ts":1,"p":0.5,"meta":{"id":"req-1"}}"#), Ok(Some("req-1".into())));
    assert_eq!(key(r#"{"meta":{"id":1.50},"ts":1,"p":0.5}"#), Ok(Some("1.50".into())), "a number keeps its text");
    assert_eq!(key(r#"{"ts":1,"p":0.5,"meta":{"id":true}}"#), Ok(Some("true".into())));
    assert_eq!(key(r#"{"ts":1,"p":0.5,"meta":{"id":null}}"#), Ok(None));
    assert_eq!(key(r#"{"ts":1,"p":0.5}"#), Ok(None), "absent: a prediction without a key (counted by the join)");
    let err = decode(&keyed, r#"{"ts":1,"p":0.5,"meta":{"id":{"x":1}}}"#).unwrap_err();
    assert_eq!(err.reason().as_str(), "bad_key");
    assert_eq!(err.to_string(), "bad key at /meta/id: an object where a key was expected");
    assert_eq!(decode(&keyed, r#"{"ts":1,"p":0.5,"meta":{"id":"k"}}"#).unwrap().record.values, [Value::Number(0.5)]);
}

#[test]
fn precedence_syntax_error_beats_field_error() {
    let dec = default_decoder(&["a"]);
    assert_eq!(reason(&dec, br#"{"event_time":"bad","features":{"a":[1]}"#), "invalid_json");
    assert_eq!(reason(&dec, br#"{"event_time":"bad","features":{"a":[1]}}"#), "bad_event_time");
    assert_eq!(reason(&dec, br#"{"features":{"a":[1]}}"#), "bad_features");
}

#[test]
fn predictions() {
    let pred = |kind: PredictionKind, features: &[&str]| {
        Decoder::new(
            spec(field("/t", TimeFormat::EpochMillis), FeatureSpec::Prediction { pointer: "/out/p".into(), kind }),
            names(features),
        )
    };
    let score = pred(PredictionKind::Score, &["score"]).unwrap();
    assert_eq!(decode(&score, r#"{"t":5,"out":{"p":0.25}}"#).unwrap().record.values, vec![Value::Number(0.25)]);
    assert_eq!(decode(&score, r#"{"t":5,"out":{"p":"0.5"}}"#).unwrap().record.values, vec![Value::Number(0.5)]);
    assert_eq!(decode(&score, r#"{"t":5,"out":{"p":null}}"#).unwrap().record.values, vec![Value::Missing]);
    let label = pred(PredictionKind::Label, &["label"]).unwrap();
    assert_eq!(
        decode(&label, r#"{"t":5,"out":{"p":"approve"}}"#).unwrap().record.values,
        vec![Value::Text("approve".into())]
    );
    assert_eq!(decode(&label, r#"{"t":5,"out":{"p":1.50}}"#).unwrap().record.values, vec![Value::Text("1.50".into())]);
    assert_eq!(decode(&label, r#"{"t":5,"out":{"p":true}}"#).unwrap().record.values, vec![Value::Bool(true)]);
    assert_eq!(decode(&label, r#"{"t":5,"out":{"p":{}}}"#).unwrap_err().reason(), DecodeReason::BadPrediction);

    let probs = pred(PredictionKind::Probabilities { classes: None }, &["class:yes", "class:no"]).unwrap();
    let d = decode(&probs, r#"{"t":5,"out":{"p":{"no":0.7,"maybe":0.1,"yes":0.2}}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Number(0.2), Value::Number(0.7)]);
    assert_eq!(d.unknown_fields, 1);
    let d = decode(&probs, r#"{"t":5,"out":{"p":null}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Missing, Value::Missing]);
    assert_eq!(
        decode(&probs, r#"{"t":5,"out":{"p":{"yes":"high"}}}"#).unwrap_err().reason(),
        DecodeReason::BadPrediction
    );
    assert_eq!(decode(&probs, r#"{"t":5,"out":{"p":0.3}}"#).unwrap_err().reason(), DecodeReason::BadPrediction);
    assert_eq!(decode(&probs, r#"{"t":5,"out":{}}"#).unwrap_err().reason(), DecodeReason::BadPrediction);

    let classes = Some(vec!["reject".to_string(), "approve".to_string()]);
    let named = pred(PredictionKind::Probabilities { classes }, &["class:approve", "class:reject"]).unwrap();
    let d = decode(&named, r#"{"t":5,"out":{"p":[0.9,0.1,0.0]}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Number(0.1), Value::Number(0.9)]);
    assert_eq!(d.unknown_fields, 1);
    let indexed = pred(PredictionKind::Probabilities { classes: None }, &["class:1", "class:0"]).unwrap();
    let d = decode(&indexed, r#"{"t":5,"out":{"p":[0.9,0.1]}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Number(0.1), Value::Number(0.9)]);
    let err = decode(&indexed, r#"{"t":5,"out":{"p":[0.9,[0.1]]}}"#).unwrap_err();
    assert_eq!(err.to_string(), "bad prediction at /out/p/1: an array where a number (or null) was expected");
}

#[test]
fn spec_errors() {
    let bad_ptr = spec(field("time", TimeFormat::Rfc3339), FeatureSpec::Object { pointer: "/f".into() });
    assert!(matches!(Decoder::new(bad_ptr, vec![]), Err(SpecError::InvalidPointer { .. })));
    let bad_escape = spec(field("/t", TimeFormat::Rfc3339), FeatureSpec::Object { pointer: "/a~2".into() });
    assert!(matches!(Decoder::new(bad_escape, vec![]), Err(SpecError::InvalidPointer { .. })));
    assert_eq!(
        Decoder::new(DecodeSpec::default(), names(&["a", "a"])).unwrap_err(),
        SpecError::DuplicateFeature("a".into())
    );
    let list = spec(field("/t", TimeFormat::Rfc3339), FeatureSpec::Pointers(vec![("a".into(), "/a".into())]));
    assert_eq!(Decoder::new(list, names(&["a", "b"])).unwrap_err(), SpecError::UnmappedFeature("b".into()));
    let score = spec(
        field("/t", TimeFormat::Rfc3339),
        FeatureSpec::Prediction { pointer: "/p".into(), kind: PredictionKind::Score },
    );
    assert!(matches!(Decoder::new(score, names(&["a", "b"])), Err(SpecError::PredictionArity { found: 2, .. })));
    let probs = spec(
        field("/t", TimeFormat::Rfc3339),
        FeatureSpec::Prediction { pointer: "/p".into(), kind: PredictionKind::Probabilities { classes: None } },
    );
    assert_eq!(Decoder::new(probs.clone(), names(&["yes"])).unwrap_err(), SpecError::NotAClass("yes".into()));
    let huge = Decoder::new(probs, names(&["class:99999999999", "class:1"])).unwrap();
    let d = huge.decode(br#"{"t":"2024-05-01T12:00:00Z","p":[0.25,0.75]}"#, ctx()).unwrap();
    assert_eq!((d.record.values, d.unknown_fields), (vec![Value::Missing, Value::Number(0.75)], 1));
}

#[test]
fn event_time_scan_stops_early() {
    let dec = default_decoder(&["a"]);
    assert_eq!(
        dec.event_time(br#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":[[[["#, None),
        Ok(1_714_564_800_000)
    );
    assert_eq!(
        dec.event_time(br#"{"features":{"a":1},"event_time":"2024-05-01T12:00:00Z"}"#, None),
        Ok(1_714_564_800_000)
    );
    assert_eq!(dec.event_time(br#"{"features":{"a":1}}"#, None).unwrap_err().reason(), DecodeReason::MissingEventTime);
    assert_eq!(dec.event_time(br#"{"event_time":"x"}"#, None).unwrap_err().reason(), DecodeReason::BadEventTime);
    assert_eq!(dec.event_time(br#"{"features":{"a":1},"#, None).unwrap_err().reason(), DecodeReason::InvalidJson);
}

#[test]
fn event_time_fast_path_agrees_with_the_walk() {
    let messages: &[&str] = &[
        r#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":1}}"#,
        r#" { "event_time" : "2024-05-01T12:00:00.123+02:00" , "features":{"a":[[[["#,
        "{\t\"event_time\"\n:\r\"2024-05-01T12:00:00Z\"}",
        r#"{"event_time":"2024-05-01T12:00:00Z""#,
        r#"{"event_time":"2024-05-01T12:00:00Z"#,
        r#"{"event_time":"2024-05-01T12:00:\u0030Z"}"#,
        "{\"event_time\":\"2024-05-01T12:00:00Z\u{1}\"}",
        r#"{"event_time":"x"}"#,
        r#"{"event_time":"1714564800"}"#,
        r#"{"event_time":1714564800}"#,
        r#"{"event_time":null}"#,
        r#"{"event_timeX":"2024-05-01T12:00:00Z","event_time":"2024-05-01T12:00:01Z"}"#,
        r#"{"event_tim":"2024-05-01T12:00:00Z"}"#,
        r#"{"features":{"a":1},"event_time":"2024-05-01T12:00:00Z"}"#,
        r#"["event_time","2024-05-01T12:00:00Z"]"#,
        r#"{"event_time""#,
        "",
    ];
    for format in [TimeFormat::Rfc3339, TimeFormat::EpochSeconds, TimeFormat::EpochMillis] {
        for pointer in ["/event_time", "/features/a", ""] {
            let dec = Decoder::new(
                spec(field(pointer, format), FeatureSpec::Object { pointer: "/features".into() }),
                names(&["a"]),
            )
            .unwrap();
            for message in messages {
                assert_eq!(
                    dec.event_time(message.as_bytes(), None),
                    dec.event_time_walk(message, None),
                    "{format:?} {pointer} {message}"
                );
            }
        }
    }
}

#[test]
fn hostile_messages() {
    let dec = default_decoder(&["a"]);
    // Deep nesting never overflows the stack (serde_json's recursion limit guards the visitors).
    for depth in [127, 128, 129, 100_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let _ = dec.decode(deep.as_bytes(), ctx());
        let inside = format!(
            r#"{{"event_time":"2024-05-01T12:00:00Z","features":{{"a":{}1{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let _ = dec.decode(inside.as_bytes(), ctx());
        let objects = format!("{}1{}", r#"{"features":"#.repeat(depth), "}".repeat(depth));
        let _ = dec.decode(objects.as_bytes(), ctx());
    }
    // Values off the pointers are skipped by serde_json's iterative skipper (no recursion):
    // deep nesting there is fine; in a monitored value it is a wrong type.
    let deep = |key: &str| {
        format!(
            r#"{{"event_time":"2024-05-01T12:00:00Z","features":{{"{key}":{}1{}}}}}"#,
            "[".repeat(50_000),
            "]".repeat(50_000)
        )
    };
    let d = dec.decode(deep("b").as_bytes(), ctx()).unwrap();
    assert_eq!((d.record.values, d.unknown_fields), (vec![Value::Missing], 1));
    assert_eq!(reason(&dec, deep("a").as_bytes()), "bad_features");
    assert_eq!(reason(&dec, deep("a").trim_end_matches('}').as_bytes()), "invalid_json");
    // 10 MB: rejected by size before parsing, or decoded when the limit allows it.
    let big = format!(r#"{{"event_time":"2024-05-01T12:00:00Z","features":{{"a":"{}"}}}}"#, "x".repeat(10 << 20));
    assert_eq!(reason(&dec, big.as_bytes()), "too_large");
    let roomy =
        Decoder::new(DecodeSpec { max_message_bytes: 16 << 20, ..DecodeSpec::default() }, names(&["a"])).unwrap();
    let d = roomy.decode(big.as_bytes(), ctx()).unwrap();
    assert!(matches!(&d.record.values[0], Value::Text(t) if t.len() == 10 << 20));
    // Numbers beyond the f64 range are infinite (non-finite for the monitor).
    let d = decode(&dec, r#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":-1e999}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Number(f64::NEG_INFINITY)]);
    assert_eq!(reason(&dec, br#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":1e}}"#), "invalid_json");
    assert_eq!(reason(&dec, br#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":.5}}"#), "invalid_json");
    // A lone surrogate escape is not a string a feature can hold; bad escapes are invalid JSON.
    assert_eq!(reason(&dec, br#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":"\ud800"}}"#), "bad_features");
    assert_eq!(reason(&dec, br#"{"event_time":"2024-05-01T12:00:00\udc00","features":{"a":1}}"#), "bad_event_time");
    assert_eq!(reason(&dec, br#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":"\q"}}"#), "invalid_json");
    let d = decode(&dec, r#"{"event_time":"2024-05-01T12:00:00Z","features":{"a":"\ud83d\ude00 \u00e9"}}"#).unwrap();
    assert_eq!(d.record.values, vec![Value::Text("\u{1f600} \u{e9}".into())]);
}

mod fast;
mod file;
mod fuzz;
