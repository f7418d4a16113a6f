//! Tests of the whole pipeline (text → Config or problems): a full configuration and what it
//! resolves to, the bundled examples, reading files, and properties (no input panics). The
//! per-rule tests, with the positions of their problems, are in `rules.rs`.

use crate::stats::statistic::Statistic;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::stats::binning::Binning;

mod formats;
mod rules;

/// A directory with the files the configurations below name.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        for file in ["refs/credit.json", "data/train.csv", "inputs.jsonl", "rows.csv", "events.bin", "preds.parquet"] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        Dir { dir }
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("driftd.yaml")
    }

    fn load(&self, text: &str) -> Result<Config, ConfigErrors> {
        from_str(text, &self.config_path(), &env)
    }

    /// The problems as `line:column: path: message`, without the file name.
    fn problems(&self, text: &str) -> Vec<String> {
        let prefix = format!("{}:", self.config_path().display());
        match self.load(text) {
            Ok(_) => panic!("expected problems in:\n{text}"),
            Err(errors) => errors.iter().map(|e| e.to_string().strip_prefix(&prefix).unwrap().to_string()).collect(),
        }
    }
}

fn env(name: &str) -> Option<OsString> {
    match name {
        "BROKERS" => Some("kafka-1:9092,kafka-2:9092".into()),
        "PASSWORD" => Some("hunter2".into()),
        "EMPTY" => Some("".into()),
        _ => None,
    }
}

const FULL: &str = "\
http:
  listen: 0.0.0.0:9500
kafka:
  brokers: ${BROKERS}
  properties: { security.protocol: SASL_SSL, sasl.password: '${PASSWORD}' }
monitors:
  - name: credit-scoring
    model_version: 2026-11-01
    reference: { profile: refs/credit.json }
    statistics: [psi, ks]
    window: { kind: sliding, size: 1h, slide: 15m, allowed_lateness: 5m }
    streams:
      inputs:
        source:
          kafka: { topic: credit-inputs, properties: { security.protocol: SSL } }
        event_time: { field: /ts, format: epoch_ms }
        features: [income, { name: age, pointer: /applicant/age }]
        dead_letter_topic: credit-dlq
      predictions:
        source: { kafka: { topic: credit-predictions, brokers: 'k:1', group_id: g, start: earliest } }
        prediction: { pointer: /p, kind: probabilities, classes: [good, bad] }
  - name: replay
    reference: { dataset: { path: data/train.csv, predictions: [score], exclude: [id] } }
    binning: equal-width:5
    window: { size: 1000 events }
    ks_sample_cap: 5000
    streams:
      inputs: { source: { file: { path: rows.csv } }, features: [income] }
      predictions:
        source: { file: { path: inputs.jsonl } }
        event_time: { field: /ts }
        prediction: { pointer: /score }
";

#[test]
fn a_full_configuration_resolves_with_defaults_and_relative_paths() {
    let dir = Dir::new();
    let config = dir.load(FULL).unwrap();
    assert_eq!(config.http.listen, "0.0.0.0:9500".parse().unwrap());
    assert_eq!(config.state.path, dir.dir.path().join("driftd-state"));
    assert_eq!(config.monitors.len(), 2);

    let credit = config.monitor("credit-scoring").unwrap();
    assert_eq!(credit.model_version.as_deref(), Some("2026-11-01"));
    assert_eq!(credit.reference, ReferenceConfig::Profile { path: dir.dir.path().join("refs/credit.json") });
    assert_eq!(credit.binning, None);
    let selected = |s| credit.statistics.contains(s);
    assert!(selected(Statistic::Psi) && selected(Statistic::Ks) && !selected(Statistic::Chisquare));
    assert_eq!(
        credit.window,
        WindowConfig {
            kind: WindowKind::Sliding,
            size: WindowSize::Time(Duration::from_secs(3600)),
            slide: WindowSize::Time(Duration::from_secs(900)),
            allowed_lateness: Duration::from_secs(300),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
        }
    );
    assert_eq!(credit.ks_sample_cap, 100_000);
    let inputs = credit.inputs.as_ref().unwrap();
    let SourceConfig::Kafka(kafka) = &inputs.source else { panic!("{inputs:?}") };
    assert_eq!(kafka.brokers, "kafka-1:9092,kafka-2:9092");
    assert_eq!(kafka.group_id, "driftd-credit-scoring-inputs");
    assert_eq!(kafka.start, StartPosition::Committed);
    // The source's property overrides the default one; the others are inherited.
    assert_eq!(kafka.properties.get("security.protocol").map(String::as_str), Some("SSL"));
    assert_eq!(kafka.properties.get("sasl.password").map(String::as_str), Some("hunter2"));
    assert_eq!(inputs.event_time, EventTimeConfig::Field { pointer: "/ts".into(), format: TimeFormat::EpochMs });
    assert_eq!(
        inputs.values,
        StreamValues::Features(FeatureSelection::List(vec![
            FeatureField { name: "income".into(), pointer: "/features/income".into() },
            FeatureField { name: "age".into(), pointer: "/applicant/age".into() },
        ]))
    );
    assert_eq!(inputs.dead_letter_topic.as_deref(), Some("credit-dlq"));
    assert_eq!(inputs.max_message_bytes, 1 << 20);
    assert_eq!(inputs.max_features, 1000, "the default cap on discovered features");
    let predictions = credit.predictions.as_ref().unwrap();
    let SourceConfig::Kafka(kafka) = &predictions.source else { panic!("{predictions:?}") };
    assert_eq!((kafka.brokers.as_str(), kafka.group_id.as_str(), kafka.start), ("k:1", "g", StartPosition::Earliest));
    assert_eq!(predictions.event_time, EventTimeConfig::KafkaTimestamp);
    assert_eq!(
        predictions.values,
        StreamValues::Prediction(PredictionConfig {
            pointer: "/p".into(),
            kind: PredictionKind::Probabilities,
            classes: vec!["good".into(), "bad".into()]
        })
    );

    let replay = config.monitor("replay").unwrap();
    assert_eq!(
        replay.reference,
        ReferenceConfig::Dataset {
            path: dir.dir.path().join("data/train.csv"),
            format: crate::dataset::Format::Csv,
            predictions: vec!["score".into()],
            exclude: vec!["id".into()],
        }
    );
    assert_eq!(replay.binning, Some(Binning::EqualWidth { bins: 5 }));
    assert_eq!(replay.statistics, crate::stats::statistic::Statistics::DEFAULT);
    assert_eq!(replay.window.size, WindowSize::Events(1000));
    assert_eq!(replay.window.slide, WindowSize::Events(1000));
    assert_eq!(replay.window.idle_timeout, None);
    assert_eq!(replay.ks_sample_cap, 5000);
    let inputs = replay.inputs.as_ref().unwrap();
    assert_eq!(inputs.event_time, EventTimeConfig::None);
    // A CSV row is a flat object: a listed feature is the column of that name.
    assert_eq!(
        inputs.values,
        StreamValues::Features(FeatureSelection::List(vec![FeatureField {
            name: "income".into(),
            pointer: "/income".into()
        }]))
    );
    let SourceConfig::File(file) = &inputs.source else { panic!("{inputs:?}") };
    assert_eq!((file.path.clone(), file.format), (dir.dir.path().join("rows.csv"), crate::dataset::Format::Csv));
    let predictions = replay.predictions.as_ref().unwrap();
    assert_eq!(predictions.event_time, EventTimeConfig::Field { pointer: "/ts".into(), format: TimeFormat::Rfc3339 });
    let names: Vec<_> = replay.streams().map(|(stream, _)| stream.name()).collect();
    assert_eq!(names, ["inputs", "predictions"]);
}

/// A valid monitor to embed, with `{}` replaced by extra lines (4-space indented keys).
fn monitor(extra: &str) -> String {
    format!(
        "monitors:\n  - name: m\n    reference: {{ profile: refs/credit.json }}\n    window: {{ size: 1h }}\n    streams:\n      inputs: {{ source: {{ kafka: {{ topic: t, brokers: 'b:1' }} }} }}\n{extra}"
    )
}

#[test]
fn devices_and_fifos_are_refused_without_reading_them() {
    let dir = Dir::new();
    let err = load(Path::new("/dev/zero")).unwrap_err().to_string();
    assert_eq!(err, "/dev/zero: is not a regular file");
    let fifo = dir.dir.path().join("config.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Nothing writes to it: reading would block forever.
    let err = load(&fifo).unwrap_err().to_string();
    assert!(err.ends_with(": is not a regular file"), "{err}");
}

#[test]
fn reading_the_file() {
    let dir = Dir::new();
    let missing = dir.dir.path().join("absent.yaml");
    let errors = load(&missing).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors.to_string().starts_with(&format!("{}: cannot read:", missing.display())), "{errors}");
    assert!(load(dir.dir.path()).unwrap_err().to_string().ends_with(": is a directory, not a configuration file"));
    let binary = dir.dir.path().join("binary.yaml");
    std::fs::write(&binary, b"a: \xff\n").unwrap();
    assert!(load(&binary).unwrap_err().to_string().ends_with("not UTF-8 text (invalid byte at offset 3)"));
    std::fs::write(dir.config_path(), format!("\u{feff}{}", monitor(""))).unwrap();
    assert_eq!(load(&dir.config_path()).unwrap().monitors[0].name, "m");
}

#[test]
fn a_path_without_directory_resolves_against_the_working_directory() {
    let config =
        from_str(&monitor("").replace("refs/credit.json", "Cargo.toml"), Path::new("driftd.yaml"), &env).unwrap();
    assert_eq!(config.monitors[0].reference, ReferenceConfig::Profile { path: PathBuf::from("Cargo.toml") });
}

mod properties {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// No text makes loading panic, and a failure always lists at least one problem.
        #[test]
        fn loading_never_panics(text in "[a-z_:{}\\[\\], \\-\\n'\"$&*!|>#.0-9]{0,200}") {
            let result = super::from_str(&text, std::path::Path::new("x.yaml"), &super::env);
            if let Err(errors) = result {
                prop_assert!(!errors.is_empty());
            }
        }

        /// Mutations of a valid configuration never panic either.
        #[test]
        fn mutating_a_valid_file_never_panics(at in 0usize..1200, insert in "[a-z{}\\[\\]:,\\n -]{0,6}") {
            let text = super::FULL;
            let at = (0..=at.min(text.len())).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let mutated = format!("{}{}{}", &text[..at], insert, &text[at..]);
            let _ = super::from_str(&mutated, std::path::Path::new("x.yaml"), &super::env);
        }
    }
}

#[test]
fn the_bundled_examples_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let quickstart = root.join("examples/quickstart/driftd.yaml");
    let config = load_with_env(&quickstart, &|_| None).unwrap();
    let monitor = &config.monitors[0];
    assert_eq!(monitor.name, "credit-scoring");
    let ReferenceConfig::Dataset { path, predictions, .. } = &monitor.reference else {
        panic!("{:?}", monitor.reference)
    };
    assert_eq!(path.canonicalize().unwrap(), root.join("examples/data/credit_reference.csv").canonicalize().unwrap());
    assert_eq!(predictions, &["score"]);
    assert_eq!(monitor.window.size, WindowSize::Time(Duration::from_secs(3600)));
    assert_eq!(monitor.window.allowed_lateness, Duration::from_secs(60));
    let inputs = monitor.inputs.as_ref().unwrap();
    assert_eq!(inputs.values, StreamValues::Features(FeatureSelection::All));
    assert_eq!(inputs.event_time, EventTimeConfig::Field { pointer: "/ts".into(), format: TimeFormat::Rfc3339 });
    let SourceConfig::File(file) = &inputs.source else { panic!("{inputs:?}") };
    assert!(file.path.is_file() && file.format == crate::dataset::Format::JsonLines);
    let predictions = monitor.predictions.as_ref().unwrap();
    assert_eq!(
        predictions.values,
        StreamValues::Prediction(PredictionConfig {
            pointer: "/score".into(),
            kind: PredictionKind::Score,
            classes: vec![]
        })
    );

    let config = load_with_env(&root.join("examples/kafka/driftd.yaml"), &|_| None).unwrap();
    assert_eq!(config.http.listen, DEFAULT_LISTEN.parse().unwrap());
    let monitor = &config.monitors[0];
    assert_eq!(monitor.window.kind, WindowKind::Sliding);
    assert_eq!(monitor.window.size, WindowSize::Time(Duration::from_secs(120)));
    assert_eq!(monitor.window.slide, WindowSize::Time(Duration::from_secs(30)));
    for (_, stream) in monitor.streams() {
        let SourceConfig::Kafka(kafka) = &stream.source else { panic!("{stream:?}") };
        assert_eq!(kafka.brokers, "127.0.0.1:9092");
        assert_eq!(kafka.group_id, "driftd-credit");
        assert_eq!(kafka.start, StartPosition::Earliest);
        assert_eq!(stream.event_time, EventTimeConfig::Field { pointer: "/ts".into(), format: TimeFormat::Rfc3339 });
    }

    let config = load_with_env(&root.join("examples/kafka-avro/driftd.yaml"), &|_| None).unwrap();
    for (_, stream) in config.monitors[0].streams() {
        let SourceConfig::Kafka(kafka) = &stream.source else { panic!("{stream:?}") };
        assert_eq!(kafka.format.format, crate::source::format::MessageFormat::Avro);
        assert_eq!(kafka.format.registry.as_ref().unwrap().url, "http://127.0.0.1:8081");
    }
}

#[test]
fn http_request_timeout_and_tls_files_are_checked() {
    let dir = Dir::new();
    let config = dir.load(FULL).unwrap();
    assert_eq!((config.http.request_timeout, config.http.tls.as_ref()), (Duration::from_secs(30), None));
    let text = FULL.replace(
        "  listen: 0.0.0.0:9500\n",
        "  listen: 0.0.0.0:9500\n  request_timeout: 2h\n  tls: { cert_file: nope.pem, key_file: refs/credit.json }\n",
    );
    let problems = dir.problems(&text);
    assert!(
        problems.iter().any(|p| p.ends_with("http.request_timeout: must be positive and at most 1h")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("http.tls.cert_file: \"nope.pem\"") && p.ends_with("does not exist")),
        "{problems:?}"
    );
    // Not PEM at all: the certificate file is named (the key is not looked at before it).
    let text = FULL.replace(
        "  listen: 0.0.0.0:9500\n",
        "  listen: 0.0.0.0:9500\n  tls: { cert_file: rows.csv, key_file: rows.csv }\n",
    );
    let problems = dir.problems(&text);
    assert!(
        problems.iter().any(|p| p.contains("http.tls.cert_file: ") && p.contains("no CERTIFICATE")),
        "{problems:?}"
    );
    let text = FULL.replace("  listen: 0.0.0.0:9500\n", "  listen: 0.0.0.0:9500\n  request_timeout: 5s\n");
    assert_eq!(dir.load(&text).unwrap().http.request_timeout, Duration::from_secs(5));
}
