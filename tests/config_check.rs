//! `driftd check --config PATH`, run as a user would: exit codes, output, environment
//! interpolation (variables set in the child process only), and the bundled examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `driftd check --config <config>` from the repository root with exactly `vars` in the
/// environment.
fn check(config: &Path, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftd"));
    command.current_dir(repo()).env_clear().arg("check").arg("--config").arg(config);
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("run driftd")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8(output.stderr.clone()).unwrap().lines().map(str::to_string).collect()
}

/// 1-based (line, column) of the first occurrence of `needle` in `text`, found independently
/// of driftd's parser.
fn position(text: &str, needle: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            return (i + 1, line[..byte].chars().count() + 1);
        }
    }
    panic!("{needle:?} not found");
}

#[test]
fn the_bundled_examples_validate() {
    for example in ["examples/quickstart/driftd.yaml", "examples/kafka/driftd.yaml"] {
        let output = check(Path::new(example), &[]);
        let rules = if example.contains("quickstart") { "3 rules, 3 actions" } else { "0 rules, 0 actions" };
        assert_eq!(stdout(&output), format!("{example}: OK (1 monitor, {rules})\n"), "{:?}", stderr_lines(&output));
        assert!(output.stderr.is_empty());
        assert_eq!(output.status.code(), Some(0));
    }
}

#[test]
fn the_kafka_example_takes_its_brokers_from_the_environment() {
    let example = Path::new("examples/kafka/driftd.yaml");
    let output = check(example, &[("KAFKA_BROKERS", "kafka-1:9092,kafka-2:9092")]);
    assert_eq!(output.status.code(), Some(0), "{:?}", stderr_lines(&output));

    // A bad value from the environment is reported at the `${` that brought it in, quoted as
    // the reference, not the value.
    let output = check(example, &[("KAFKA_BROKERS", "no-port-here")]);
    let text = std::fs::read_to_string(repo().join(example)).unwrap();
    let (line, column) = position(&text, "${KAFKA_BROKERS");
    assert_eq!(
        stderr_lines(&output),
        [format!(
            "{}:{line}:{column}: kafka.brokers: invalid brokers \"${{KAFKA_BROKERS:-127.0.0.1:9092}}\": expected host:port[,host:port…]",
            example.display()
        )]
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn interpolation_in_the_child_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ref.json"), "{}").unwrap();
    let config = dir.path().join("driftd.yaml");
    let text = "\
monitors:
  - name: ${MONITOR:-m}
    reference: { profile: ref.json }
    window: { size: '${WINDOW}' }
    streams:
      inputs:
        source:
          kafka:
            topic: t
            brokers: ${BROKERS}
";
    std::fs::write(&config, text).unwrap();
    let output = check(&config, &[("WINDOW", "15m"), ("BROKERS", "b:9092")]);
    assert_eq!(
        stdout(&output),
        format!("{}: OK (1 monitor, 0 rules, 0 actions)\n", config.display()),
        "{:?}",
        stderr_lines(&output)
    );

    let output = check(&config, &[("MONITOR", "Not Valid")]);
    let file = config.display();
    assert_eq!(
        stderr_lines(&output),
        [
            // The value came from the environment: it is shown as the reference that brought it.
            format!("{file}:2:11: monitors[0].name: invalid monitor name \"${{MONITOR:-m}}\": use 1 to 64 of a-z, 0-9, _ and -"),
            format!("{file}:4:22: monitors[0].window.size: environment variable WINDOW is not set (write ${{WINDOW:-default}} to give a default)"),
            format!("{file}:10:22: monitors[0].streams.inputs.source.kafka.brokers: environment variable BROKERS is not set (write ${{BROKERS:-default}} to give a default)"),
        ]
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn every_problem_is_printed_one_per_line_and_the_exit_code_is_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftd.yaml");
    let text = "\
http: { listen: 'localhost' }
monitors:
  - name: credit
    reference: { profile: refs/missing.json }
    binning: evidently
    statistics: [psi, kolmogorov]
    window: { kind: sliding, size: 1h, slide: 7m, lateness: 5m }
    streams:
      inputs: { source: { kafka: { topic: credit-inputs } } }
";
    std::fs::write(&config, text).unwrap();
    let output = check(&config, &[]);
    let file = config.display();
    let at = |needle: &str| {
        let (line, column) = position(text, needle);
        format!("{file}:{line}:{column}")
    };
    let missing = dir.path().join("refs/missing.json");
    assert_eq!(
        stderr_lines(&output),
        [
            format!("{}: http.listen: invalid address \"localhost\": expected IP:PORT, such as 127.0.0.1:9464 or [::1]:9464", at("'localhost'")),
            format!(
                "{}: monitors[0].reference.profile: \"refs/missing.json\" (resolved against the configuration's directory: {}) does not exist",
                at("refs/missing.json"),
                missing.display()
            ),
            format!(
                "{}: monitors[0].binning: a profile reference brings its own frozen bin edges: remove `binning` (or fit the profile with `driftd reference fit --binning`)",
                at("evidently")
            ),
            format!("{}: monitors[0].statistics[1]: unknown value \"kolmogorov\", expected one of `psi`, `ks`, `chisquare`, `jensen_shannon`, `wasserstein`, `hellinger`, `kullback_leibler`, `missing_share`, `type_mismatch_share`, `out_of_range_share`, `unseen_category_share`", at("kolmogorov")),
            format!("{}: monitors[0].window.slide: the slide (7m) must divide the window size (1h)", at("7m")),
            format!("{}: monitors[0].window.lateness: unknown key `lateness` (expected one of: kind, size, slide, allowed_lateness, idle_timeout)", at("lateness")),
            format!("{}: monitors[0].streams.inputs.source.kafka: no brokers: add `brokers: host:port` here or in the top-level `kafka:` section", at("{ topic")),
        ]
    );
    assert!(output.stdout.is_empty());
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn unreadable_and_invalid_yaml_files() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.yaml");
    let output = check(&absent, &[]);
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with(&format!("{}: cannot read: ", absent.display())), "{lines:?}");
    assert_eq!(output.status.code(), Some(2));

    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "monitors:\n  - name: [credit\n").unwrap();
    let output = check(&broken, &[]);
    assert_eq!(stderr_lines(&output), [format!("{}:2:11: YAML syntax error: unclosed bracket '['", broken.display())]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_config_option_is_required() {
    let output = Command::new(env!("CARGO_BIN_EXE_driftd")).arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--config <PATH>"));
}

#[test]
fn a_rule_on_a_statistic_its_monitor_does_not_compute_is_refused_where_it_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let quickstart = repo().join("examples/quickstart");
    let config = dir.path().join("driftd.yaml");
    std::fs::write(
        &config,
        format!(
            "rules: [rules.yaml]
monitors:
  - name: credit-scoring
    reference: {{ dataset: {{ path: {reference:?} }} }}
    statistics: [psi, missing_share]
    window: {{ size: 1h }}
    streams:
      inputs:
        source: {{ file: {{ path: {inputs:?} }} }}
        event_time: {{ field: /ts }}
        features: \"*\"
",
            reference = repo().join("examples/data/credit_reference.csv").display().to_string(),
            inputs = quickstart.join("inputs.jsonl").display().to_string(),
        ),
    )
    .unwrap();
    let rules = "\
rules:
  - { name: missing, monitor: credit-scoring, when: { stat: missing_share, op: '>', value: 0.2 }, actions: [log] }
  - { name: shifted, monitor: credit-scoring, when: { stat: ks_p_value, op: '<', value: 0.01 }, actions: [log] }
actions:
  - { name: log, log: {} }
";
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();
    let output = check(&config, &[]);
    let (line, column) = position(rules, "ks_p_value");
    assert_eq!(
        stderr_lines(&output),
        [format!(
            "{}:{line}:{column}: rules[1].when.stat: monitor \"credit-scoring\" does not compute ks_p_value, so this \
             rule could never fire: add `ks` to its `statistics:` (it computes psi, missing_share)",
            dir.path().join("rules.yaml").display()
        )]
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_performance_example_validates_with_its_rule_on_roc_auc() {
    let example = "examples/quickstart/performance.yaml";
    let output = check(Path::new(example), &[]);
    assert_eq!(
        stdout(&output),
        format!("{example}: OK (1 monitor, 4 rules, 4 actions)\n"),
        "{:?}",
        stderr_lines(&output)
    );
}

#[test]
fn a_labels_stream_is_checked_where_each_problem_is() {
    let dir = tempfile::tempdir().unwrap();
    let quickstart = repo().join("examples/quickstart");
    let text = format!(
        "state: {{ path: {state} }}
monitors:
  - name: m
    reference: {{ dataset: {{ path: {data}, predictions: [score] }} }}
    window: {{ size: 1h }}
    streams:
      predictions:
        source: {{ file: {{ path: {predictions} }} }}
        event_time: {{ field: /ts }}
        prediction: {{ pointer: /score }}
      labels:
        source: {{ file: {{ path: {labels} }} }}
        event_time: {{ field: /ts }}
        key: request_id
        label: /default
        retention: 0s
        publish_at: [1.5]
        rules_at: 2.5
        task: regression
        threshold: 0.3
",
        state = dir.path().join("state").display(),
        data = repo().join("examples/data/credit_reference.csv").display(),
        predictions = quickstart.join("predictions.jsonl").display(),
        labels = quickstart.join("labels.jsonl").display(),
    );
    let config = dir.path().join("driftd.yaml");
    std::fs::write(&config, &text).unwrap();
    let output = check(&config, &[]);
    assert_eq!(output.status.code(), Some(2));
    let at = |needle: &str, message: &str| {
        let (line, column) = position(&text, needle);
        format!("{}:{line}:{column}: {message}", config.display())
    };
    let expected = [
        at("source: { file: { path", "monitors[0].streams.predictions: a `labels` stream is joined by key: add `key: /POINTER` (e.g. `/request_id`) to the predictions"),
        at("request_id", "monitors[0].streams.labels.key: invalid JSON pointer \"request_id\": it starts with '/', and '~' is written ~0, '/' in a name ~1 (did you mean \"/request_id\"?)"),
        at("0s", "monitors[0].streams.labels.retention: must be longer than 0"),
        at("1.5", "monitors[0].streams.labels.publish_at[0]: a labelled share must be in (0, 1]"),
        at("2.5", "monitors[0].streams.labels.rules_at: `final` or a labelled share in (0, 1]"),
        at("0.3", "monitors[0].streams.labels.threshold: `threshold` applies to `task: classification` only"),
    ];
    let lines = stderr_lines(&output);
    for line in &expected {
        assert!(lines.contains(line), "missing {line:?} in {lines:#?}");
    }
}
