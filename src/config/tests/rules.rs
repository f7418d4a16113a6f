//! One or more tests per rule of `validate*.rs` and per kind of structural problem, each
//! asserting the exact messages and the line and column they are reported at (columns were
//! checked by hand against the YAML text).

use std::path::PathBuf;

use super::{monitor, Dir};
use crate::config::SourceConfig;

#[test]
fn the_helper_monitor_is_valid() {
    let dir = Dir::new();
    assert!(dir.load(&monitor("")).is_ok());
}

#[test]
fn syntax_errors_stop_with_one_positioned_problem() {
    let dir = Dir::new();
    assert_eq!(dir.problems("monitors:\n  - name: [a\n"), ["2:11: YAML syntax error: unclosed bracket '['"]);
    let problems = dir.problems("a: 1\n b: 2\n");
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("2:"), "{problems:?}");
}

#[test]
fn unknown_keys_at_every_level_are_all_reported_with_hints() {
    let dir = Dir::new();
    let text = "htp: {}\nmonitors:\n  - name: m\n    reference: { profile: refs/credit.json }\n    window: { size: 1h, slid: 5m }\n    streams:\n      inputs: { source: { kafka: { topic: t, brokers: 'b:1', group: g } } }\n    colour: red\n";
    assert_eq!(
        dir.problems(text),
        [
            "1:1: htp: unknown key `htp`; did you mean `http`?",
            "5:25: monitors[0].window.slid: unknown key `slid`; did you mean `slide`?",
            "7:62: monitors[0].streams.inputs.source.kafka.group: unknown key `group` (expected one of: topic, brokers, group_id, start, properties, format, schema, message, registry)",
            "8:5: monitors[0].colour: unknown key `colour` (expected one of: name, model_version, reference, binning, statistics, window, ks_sample_cap, streams)",
        ]
    );
}

#[test]
fn wrong_types_missing_keys_and_nulls_are_reported_once_each() {
    let dir = Dir::new();
    let text = "monitors:\n  - name:\n    reference: { profile: refs/credit.json }\n    window: [1h]\n    ks_sample_cap: lots\n    statistics: psi\n    streams: {}\n  - reference: { profile: refs/credit.json }\n    window: { size: 1h }\n    streams: { inputs: { source: { kafka: { brokers: 'b:1' } } } }\n";
    assert_eq!(
        dir.problems(text),
        [
            "2:9: monitors[0].name: expected a string, found null",
            "4:13: monitors[0].window: expected a mapping, found a list",
            "5:20: monitors[0].ks_sample_cap: expected a whole number from 0 to 18446744073709551615, found \"lots\"",
            "6:17: monitors[0].statistics: expected a list, found \"psi\"",
            "7:14: monitors[0].streams: a monitor needs at least one stream: `inputs`, `predictions` or both",
            "8:5: monitors[1].name: missing required key `name`",
            "10:43: monitors[1].streams.inputs.source.kafka.topic: missing required key `topic`",
        ]
    );
}

#[test]
fn enum_problems_name_the_choices() {
    let dir = Dir::new();
    let text = monitor("    statistics: [psi, kss]\n")
        .replace("window: { size: 1h }", "window: { size: 1h, kind: tumbled }")
        .replace(
            "reference: { profile: refs/credit.json }",
            "reference: { profile: refs/credit.json, capture: { events: 5 } }",
        )
        .replace("source: { kafka:", "source: { kafka2:");
    assert_eq!(
        dir.problems(&text),
        [
            "3:16: monitors[0].reference: expected exactly one of `profile`, `dataset`, `capture`, `trailing`, found profile, capture",
            "4:31: monitors[0].window.kind: unknown value \"tumbled\", expected one of `tumbling`, `sliding`",
            "6:27: monitors[0].streams.inputs.source: unknown key `kafka2`, expected one of `kafka`, `file`; did you mean `kafka`?",
            "7:23: monitors[0].statistics[1]: unknown value \"kss\", expected one of `psi`, `ks`, `chisquare`, `jensen_shannon`, `wasserstein`, `hellinger`, `kullback_leibler`, `missing_share`, `type_mismatch_share`, `out_of_range_share`, `unseen_category_share`; did you mean `ks`?",
        ]
    );
    let text = monitor("").replace("reference: { profile: refs/credit.json }", "reference: profile");
    assert_eq!(dir.problems(&text), ["3:16: monitors[0].reference: `profile` needs a value: write `profile: …`"]);
    let text = monitor("").replace("{ profile: refs/credit.json }", "{}");
    assert_eq!(
        dir.problems(&text),
        ["3:16: monitors[0].reference: expected exactly one of `profile`, `dataset`, `capture`, `trailing`, found an empty mapping"]
    );
}

#[test]
fn interpolation_uses_the_environment_and_reports_unset_variables_where_they_are_named() {
    let dir = Dir::new();
    let text = monitor("").replace("brokers: 'b:1'", "brokers: '${BROKERS}'");
    let config = dir.load(&(text.clone() + "state: { path: \"${STATE:-/var/lib/driftd}\" }\n")).unwrap();
    let SourceConfig::Kafka(kafka) = &config.monitors[0].inputs.as_ref().unwrap().source else { panic!() };
    assert_eq!(kafka.brokers, "kafka-1:9092,kafka-2:9092");
    assert_eq!(config.state.path, PathBuf::from("/var/lib/driftd"));

    let text = monitor("").replace("brokers: 'b:1'", "brokers: 'x:1,${NOPE}'").replace("name: m", "name: ${NAME:-m}")
        + "http: { listen: \"${HOST}:${PORT:-1}\" }\n";
    assert_eq!(
        dir.problems(&text),
        [
            "6:60: monitors[0].streams.inputs.source.kafka.brokers: environment variable NOPE is not set (write ${NOPE:-default} to give a default)",
            "7:18: http.listen: environment variable HOST is not set (write ${HOST:-default} to give a default)",
        ]
    );
}

#[test]
fn values_from_the_environment_never_appear_in_messages() {
    let dir = Dir::new();
    let text =
        monitor("").replace("brokers: 'b:1'", "brokers: '${PASSWORD}'").replace("size: 1h", "size: '${PASSWORD}'");
    assert_eq!(
        dir.problems(&text),
        [
            "4:21: monitors[0].window.size: invalid size \"${PASSWORD}\": expected a duration (ms, s, m, h, d), such as `1h`, or `N events`",
            "6:55: monitors[0].streams.inputs.source.kafka.brokers: invalid brokers \"${PASSWORD}\": expected host:port[,host:port…]",
        ]
    );
    // Partly interpolated, and a type error rather than a check.
    let text = monitor("    ks_sample_cap: x${PASSWORD}\n").replace("brokers: 'b:1'", "brokers: 'b:1,${PASSWORD}'");
    let problems = dir.problems(&text).join("\n");
    assert!(problems.contains("invalid brokers \"b:1,${PASSWORD}\""), "{problems}");
    assert!(problems.contains("found \"x${PASSWORD}\""), "{problems}");
    assert!(!problems.contains("hunter2"), "{problems}");
}

#[test]
fn secrets_must_be_interpolated_and_managed_properties_are_refused() {
    let dir = Dir::new();
    let text = "kafka:\n  properties:\n    sasl.password: hunter2\n    ssl.key.password: ${PASSWORD}\n    enable.auto.commit: true\n"
        .to_string()
        + &monitor("");
    assert_eq!(
        dir.problems(&text),
        [
            "3:20: kafka.properties.\"sasl.password\": secrets must come from the environment: write `${VARIABLE}` instead of the value",
            "5:25: kafka.properties.\"enable.auto.commit\": `enable.auto.commit` is set by driftd: driftd commits offsets itself, after each checkpoint",
        ]
    );
}

#[test]
fn window_rules() {
    let dir = Dir::new();
    let cases = [
        ("{ size: 1h, slide: 15m }", "4:32: monitors[0].window.slide: only sliding windows have a slide (set `kind: sliding`, or remove `slide`)"),
        ("{ kind: sliding, size: 1h }", "4:13: monitors[0].window: sliding windows need `slide`"),
        ("{ kind: sliding, size: 1h, slide: 7m }", "4:47: monitors[0].window.slide: the slide (7m) must divide the window size (1h)"),
        ("{ kind: sliding, size: 1h, slide: 2h }", "4:47: monitors[0].window.slide: the slide (2h) is longer than the window (1h)"),
        (
            "{ kind: sliding, size: 100 events, slide: 1m }",
            "4:55: monitors[0].window.slide: the slide must be in the unit of `size` (both durations, or both counts of events)",
        ),
        (
            "{ kind: sliding, size: 1d, slide: 1m }",
            "4:47: monitors[0].window.slide: windows of 1d every 1m keep 1440 windows open; at most 1000",
        ),
        (
            "{ size: 10 events, allowed_lateness: 1m }",
            "4:50: monitors[0].window.allowed_lateness: `allowed_lateness` applies to time windows only (this window counts events)",
        ),
        ("{ size: 1.5h }", "4:21: monitors[0].window.size: invalid size \"1.5h\": expected a duration (ms, s, m, h, d), such as `1h`, or `N events`"),
        ("{ size: 500 }", "4:21: monitors[0].window.size: \"500\" needs a unit: a duration such as `1h`, or a count such as `500 events`"),
        (
            "{ size: 1h, idle_timeout: soon }",
            "4:39: monitors[0].window.idle_timeout: invalid duration \"soon\": expected a whole number and a unit (ms, s, m, h, d), such as 30s, 15m or 1h30m",
        ),
    ];
    for (window, expected) in cases {
        let text = monitor("").replace("{ size: 1h }", window);
        assert_eq!(dir.problems(&text), [expected], "{window}");
    }
    let config = dir.load(&monitor("").replace("{ size: 1h }", "{ size: 1h, idle_timeout: 0s }")).unwrap();
    assert_eq!(config.monitors[0].window.idle_timeout, None);
}

#[test]
fn reference_binning_and_statistics_rules() {
    let dir = Dir::new();
    let text = monitor("    binning: quantile:20\n    statistics: [psi, psi]\n    ks_sample_cap: 0\n");
    assert_eq!(
        dir.problems(&text),
        [
            "7:14: monitors[0].binning: a profile reference brings its own frozen bin edges: remove `binning` (or fit the profile with `driftd reference fit --binning`)",
            "8:23: monitors[0].statistics[1]: listed twice",
            "9:20: monitors[0].ks_sample_cap: must be at least 1",
        ]
    );
    let capture = monitor("    binning: evidently\n    statistics: []\n")
        .replace("{ profile: refs/credit.json }", "{ capture: { events: 0 } }");
    assert_eq!(
        dir.problems(&capture),
        [
            "3:37: monitors[0].reference.capture.events: must be at least 1",
            "7:14: monitors[0].binning: `evidently` binning depends on each window's values; the daemon needs frozen edges: quantile[:N], equal-width:N or edges:a,b,…",
            "8:17: monitors[0].statistics: list at least one statistic (or leave the key out for all of them)",
        ]
    );
    let trailing =
        monitor("    binning: quantile:1\n").replace("{ profile: refs/credit.json }", "{ trailing: { windows: 0 } }");
    assert_eq!(
        dir.problems(&trailing),
        [
            "3:39: monitors[0].reference.trailing.windows: must be at least 1",
            "7:14: monitors[0].binning: bin count in \"quantile:1\" must be an integer between 2 and 10000",
        ]
    );
}

#[test]
fn files_must_exist_relative_to_the_configuration() {
    let dir = Dir::new();
    let base = dir.dir.path().display().to_string();
    let text = monitor("")
        .replace("refs/credit.json", "refs/missing.json")
        .replace("{ kafka: { topic: t, brokers: 'b:1' } }", "{ file: { path: events.bin } }")
        .replace("size: 1h", "size: 10 events")
        + "      predictions:\n        source: { file: { path: refs } }\n        prediction: { pointer: /s }\n";
    assert_eq!(
        dir.problems(&text),
        [
            format!("3:27: monitors[0].reference.profile: \"refs/missing.json\" (resolved against the configuration's directory: {base}/refs/missing.json) does not exist"),
            "6:41: monitors[0].streams.inputs.source.file.path: cannot tell the format from the file name: add `format:` (jsonl, csv, parquet)".to_string(),
            format!("8:33: monitors[0].streams.predictions.source.file.path: \"refs\" (resolved against the configuration's directory: {base}/refs) is a directory, not a file"),
        ]
    );
    // A dataset reference with a predictions stream needs its prediction columns.
    let text = monitor("")
        .replace("{ profile: refs/credit.json }", "{ dataset: { path: data/train.csv, format: arrow } }")
        .replace("inputs: {", "predictions: { prediction: { pointer: /s },");
    assert_eq!(
        dir.problems(&text),
        ["3:27: monitors[0].reference.dataset: the `predictions` stream needs the dataset's prediction columns: add `predictions: [COLUMN, …]`"]
    );
    let text = monitor("")
        .replace("{ kafka: { topic: t, brokers: 'b:1' } }", "{ file: { path: preds.parquet, format: xml } }");
    assert_eq!(
        dir.problems(&text),
        [
            "6:25: monitors[0].streams.inputs.source: time windows need an event time, and file sources have none of their own: add `event_time: {field: /COLUMN, format: …}` or count events (`size: 10000 events`)",
            "6:64: monitors[0].streams.inputs.source.file.format: unknown format \"xml\": expected one of jsonl, csv, parquet",
        ]
    );
}

#[test]
fn stream_rules() {
    let dir = Dir::new();
    let text = "\
monitors:
  - name: m
    reference: { profile: refs/credit.json }
    window: { size: 1h }
    streams:
      inputs:
        source: { file: { path: inputs.jsonl } }
        event_time: kafka_timestamp
        features: [income, income, { name: x, pointer: features/x }]
        dead_letter_topic: dlq
        max_message_bytes: 0
        max_features: 0
      predictions:
        source: { kafka: { topic: 'bad topic' } }
        prediction: { pointer: /p, kind: label, classes: [a] }
";
    assert_eq!(
        dir.problems(text),
        [
            "8:21: monitors[0].streams.inputs.event_time: only Kafka messages have a timestamp: name a field, `{field: /ts, format: rfc3339}`",
            "9:28: monitors[0].streams.inputs.features[1]: feature \"income\" is listed twice",
            "9:56: monitors[0].streams.inputs.features[2].pointer: invalid JSON pointer \"features/x\": it starts with '/', and '~' is written ~0, '/' in a name ~1 (did you mean \"/features/x\"?)",
            "10:28: monitors[0].streams.inputs.dead_letter_topic: dead-letter topics apply to Kafka sources only",
            "11:28: monitors[0].streams.inputs.max_message_bytes: must be from 1 to 1073741824 (1 GiB)",
            "12:23: monitors[0].streams.inputs.max_features: must be from 1 to 100000",
            "14:26: monitors[0].streams.predictions.source.kafka: no brokers: add `brokers: host:port` here or in the top-level `kafka:` section",
            "14:35: monitors[0].streams.predictions.source.kafka.topic: invalid topic name \"bad topic\": use 1 to 249 of A-Z, a-z, 0-9, '.', '_' and '-'",
            "15:58: monitors[0].streams.predictions.prediction.classes: `classes` applies to `kind: probabilities` only",
        ]
    );
    let text = monitor("").replace("{ kafka: { topic: t, brokers: 'b:1' } }", "{ file: { path: rows.csv } }");
    assert_eq!(
        dir.problems(&text),
        ["6:25: monitors[0].streams.inputs.source: time windows need an event time, and file sources have none of their own: add `event_time: {field: /COLUMN, format: …}` or count events (`size: 10000 events`)"]
    );
}

#[test]
fn document_level_rules() {
    let dir = Dir::new();
    assert_eq!(dir.problems("monitors: []\n"), ["1:11: monitors: at least one monitor is needed"]);
    assert_eq!(dir.problems(""), ["1:1: monitors: missing required key `monitors`"]);
    assert_eq!(dir.problems("- a\n"), ["1:1: expected a mapping, found a list"]);
    let text = monitor("") + "  - name: m\n    reference: { capture: { events: 1 } }\n    window: { size: 1h }\n    streams: { inputs: { source: { kafka: { topic: t } } } }\nhttp: { listen: 'localhost:80' }\nkafka: { brokers: 'nohost' }\n";
    assert_eq!(
        dir.problems(&text),
        [
            "7:11: monitors[1].name: monitor name \"m\" is already used by monitors[0] (line 2)",
            "11:17: http.listen: invalid address \"localhost:80\": expected IP:PORT, such as 127.0.0.1:9464 or [::1]:9464",
            "12:19: kafka.brokers: invalid brokers \"nohost\": expected host:port[,host:port…]",
        ]
    );
    assert_eq!(
        dir.problems(&monitor("").replace("name: m", "name: Credit Scoring")),
        ["2:11: monitors[0].name: invalid monitor name \"Credit Scoring\": use 1 to 64 of a-z, 0-9, _ and -"]
    );
}

#[test]
fn many_problems_come_out_together_in_file_order() {
    let dir = Dir::new();
    let text = "\
http: { listen: nowhere }
monitors:
  - name: a
    reference: { profile: nope.json }
    window: { kind: sliding, size: 1h, slide: 7m, lateness: 1m }
    streams:
      inputs: { source: { kafka: { topic: t, brokers: '${UNSET}' } } }
    statistics: [psi, wat]
    monitors: duplicate key below
    monitors: again
";
    let problems = dir.problems(text);
    let positions: Vec<&str> = problems.iter().map(|p| p.split(": ").next().unwrap()).collect();
    assert_eq!(positions, ["1:17", "4:27", "5:47", "5:51", "7:56", "8:23", "9:5", "10:5"], "{problems:#?}");
    assert!(problems[4].contains("UNSET is not set"));
    assert!(problems[7].contains("duplicate key `monitors` (first defined at line 9)"));
}

#[test]
fn a_type_error_does_not_cascade_into_checks_below_it() {
    let dir = Dir::new();
    // `window.size` of the wrong type: one problem, not another about the unparsable placeholder.
    let text = monitor("").replace("{ size: 1h }", "{ size: [1h], slide: 5m }");
    assert_eq!(dir.problems(&text), ["4:21: monitors[0].window.size: expected a string, found a list"]);
    // A misspelt reference kind: one problem, no "file does not exist" for the placeholder.
    let text = monitor("").replace("{ profile: refs/credit.json }", "{ profiel: x }");
    assert_eq!(
        dir.problems(&text),
        ["3:18: monitors[0].reference: unknown key `profiel`, expected one of `profile`, `dataset`, `capture`, `trailing`; did you mean `profile`?"]
    );
}

#[test]
fn rules_paths_and_the_smtp_section_are_checked() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.dir.path().join("rules")).unwrap();
    let text = format!(
        "{}rules: [rules, missing.yaml]\nsmtp:\n  host: mail.example.com\n  from: driftd\n  tls: tls\n  password_env: 'SMTP PASS'\n  timeout: 0s\n",
        monitor("")
    );
    let problems = dir.problems(&text);
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].starts_with("7:16: rules[1]: \"missing.yaml\" does not exist"), "{problems:#?}");
    assert_eq!(problems[1], "10:9: smtp.from: \"driftd\" is not an email address");
    assert_eq!(problems[2], "12:17: smtp.password_env: \"SMTP PASS\" is not an environment variable name");
    assert_eq!(problems[3], "13:12: smtp.timeout: the timeout must be positive");

    let good = format!(
        "{}rules: [rules]\nsmtp: {{ host: mail.example.com, from: driftd@example.com, tls: tls }}\n",
        monitor("")
    );
    let config = dir.load(&good).unwrap();
    assert_eq!(config.rules, [dir.dir.path().join("rules")]);
    let smtp = config.smtp.unwrap();
    assert_eq!(
        (smtp.port, smtp.tls, smtp.timeout),
        (465, crate::config::SmtpTls::Tls, std::time::Duration::from_secs(30))
    );
}

#[test]
fn static_membership_names_each_streams_member_and_is_checked() {
    let dir = Dir::new();
    let config = dir.load(&("kafka:\n  instance_id: pod-0\n".to_string() + &monitor(""))).unwrap();
    let inputs = config.monitors[0].inputs.as_ref().unwrap();
    let crate::config::SourceConfig::Kafka(kafka) = &inputs.source else { panic!("{inputs:?}") };
    assert_eq!(kafka.group_instance_id.as_deref(), Some("pod-0-m-inputs"));

    let text = "kafka:\n  instance_id: 'pod 0'\n  properties:\n    group.instance.id: x\n".to_string() + &monitor("");
    let problems = dir.problems(&text);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("kafka.instance_id: invalid instance id \"pod 0\""), "{problems:?}");
    assert!(problems[1].contains("`group.instance.id` is set by driftd: use `kafka.instance_id`"), "{problems:?}");
}

#[test]
fn a_secret_with_a_default_or_an_inline_private_key_is_refused() {
    let dir = Dir::new();
    let text = "kafka:\n  properties:\n    sasl.password: '${DRIFTD_TEST_UNSET_PW:-hunter2}'\n    ssl.key.pem: '-----BEGIN PRIVATE KEY-----'\n    ssl.keystore.password: '${DRIFTD_TEST_UNSET_PW:-}'\n"
        .to_string()
        + &monitor("");
    let problems = dir.problems(&text);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("\"sasl.password\": secrets must come wholly from the environment"), "{problems:?}");
    assert!(!problems.join(" ").contains("hunter2"), "the secret is not repeated: {problems:?}");
    assert!(problems[1].contains("\"ssl.key.pem\": secrets must come from the environment"), "{problems:?}");
}

#[test]
fn smtp_credentials_never_go_out_in_plain_text_and_a_ca_file_is_taken() {
    let dir = Dir::new();
    let smtp = |extra: &str| {
        format!("smtp:\n  host: {extra}\n  from: driftd@example.com\n  username_env: U\n  password_env: P\n")
            + &monitor("")
    };
    let problems = dir.problems(&smtp("mail.example.com\n  tls: none"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("smtp.tls: credentials would cross the network in plain text"), "{problems:?}");
    assert!(dir.load(&smtp("127.0.0.1\n  tls: none")).is_ok());
    assert!(dir.load(&smtp("localhost\n  tls: none")).is_ok());
    std::fs::write(dir.dir.path().join("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    let config = dir.load(&smtp("mail.example.com\n  ca_file: ca.pem")).unwrap();
    assert_eq!(config.smtp.unwrap().ca_file, Some(dir.dir.path().join("ca.pem")));
    let problems = dir.problems(&smtp("mail.example.com\n  ca_file: missing.pem"));
    assert!(problems.len() == 1 && problems[0].contains("does not exist"), "{problems:?}");
}
