//! `format`, `schema`, `message` and `registry` of a Kafka source (validate_format.rs): each
//! problem at its line, column and key.

use std::time::Duration;

use super::Dir;
use crate::config::SourceConfig;
use crate::source::format::{MessageFormat, RegistryAuth};

/// A monitor whose inputs come from Kafka with `kafka` as the source's extra keys.
fn with_kafka(kafka: &str) -> String {
    format!(
        "monitors:\n  - name: m\n    reference: {{ profile: refs/credit.json }}\n    window: {{ size: 1h }}\n    streams:\n      inputs:\n        source:\n          kafka: {{ topic: t, brokers: 'b:1', {kafka} }}\n"
    )
}

const SCHEMA: &str = r#"{"type": "record", "name": "E", "fields": [{"name": "ts", "type": "long"}]}"#;

#[test]
fn an_avro_source_with_a_registry_and_a_local_schema_resolves() {
    let dir = Dir::new();
    std::fs::write(dir.dir.path().join("e.avsc"), SCHEMA).unwrap();
    let text = with_kafka(
        "format: avro, schema: e.avsc, registry: { url: 'http://reg:8081/', username_env: U, password_env: P, retry_for: 3s }",
    );
    let config = dir.load(&text).unwrap();
    let SourceConfig::Kafka(kafka) = &config.monitors[0].inputs.as_ref().unwrap().source else { panic!() };
    assert_eq!(kafka.format.format, MessageFormat::Avro);
    assert_eq!(kafka.format.subject, "t-value");
    assert_eq!(kafka.format.schema_file, Some(dir.dir.path().join("e.avsc")));
    let registry = kafka.format.registry.as_ref().unwrap();
    assert_eq!(registry.url, "http://reg:8081");
    assert_eq!(registry.retry_for, Duration::from_secs(3));
    assert_eq!(registry.auth, RegistryAuth::Basic { username_env: "U".into(), password_env: "P".into() });
    // JSON stays the default.
    let config = dir.load(&with_kafka("start: earliest")).unwrap();
    let SourceConfig::Kafka(kafka) = &config.monitors[0].inputs.as_ref().unwrap().source else { panic!() };
    assert_eq!(kafka.format.format, MessageFormat::Json);
}

#[test]
fn format_problems_name_line_column_and_key() {
    let dir = Dir::new();
    std::fs::write(dir.dir.path().join("bad.avsc"), r#"{"type": "record", "name": "E"}"#).unwrap();
    let at = "8:18: monitors[0].streams.inputs.source.kafka";
    assert_eq!(
        dir.problems(&with_kafka("format: avro")),
        [format!("{at}: `format: avro` needs `schema: FILE.avsc` or `registry: {{url: …}}`")]
    );
    assert_eq!(
        dir.problems(&with_kafka("schema: e.avsc")),
        ["8:54: monitors[0].streams.inputs.source.kafka.schema: applies to `format: avro` only"]
    );
    assert_eq!(
        dir.problems(&with_kafka("format: protobuf, schema: e.proto, message: m.E")),
        ["8:54: monitors[0].streams.inputs.source.kafka.format: `protobuf` is not supported yet: use `avro` or `json`"]
    );
    let problems = dir.problems(&with_kafka("format: avro, schema: bad.avsc"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("8:68: monitors[0].streams.inputs.source.kafka.schema: "), "{problems:?}");
    assert!(problems[0].contains("bad.avsc: not an Avro schema"), "{problems:?}");
    let problems = dir.problems(&with_kafka(
        "format: avro, registry: { url: 'ftp://r', token_env: 'a token', username_env: U, retry_for: soon }",
    ));
    assert_eq!(
        problems,
        [
            "8:77: monitors[0].streams.inputs.source.kafka.registry.url: \"ftp://r\" is not an http:// or https:// URL",
            "8:99: monitors[0].streams.inputs.source.kafka.registry.token_env: \"a token\" is not an environment \
             variable name (write the variable's name, not the secret)",
            "8:138: monitors[0].streams.inputs.source.kafka.registry.retry_for: invalid duration \"soon\": expected a \
             whole number and a unit (ms, s, m, h, d), such as 30s, 15m or 1h30m",
        ],
        "{problems:?}"
    );
}
