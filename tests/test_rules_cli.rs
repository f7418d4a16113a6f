//! `driftd test-rules FILE`, run as a user would: the bundled rule tests pass (exit 0), a
//! wrong expectation fails with its diff (exit 1), a malformed test file or rule file is
//! reported at file:line:column (exit 2).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn test_rules(file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_driftd"))
        .current_dir(repo())
        .env_clear()
        .arg("test-rules")
        .arg(file)
        .output()
        .expect("run driftd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The bundled test file with its rule file named absolutely, so a copy can live elsewhere.
fn bundled_test_text() -> String {
    let original = std::fs::read_to_string(repo().join("tests/rules/credit.test.yaml")).unwrap();
    let rules = repo().join("rules/credit.yaml");
    let replaced = original.replace("[../../rules/credit.yaml]", &format!("[{:?}]", rules.display().to_string()));
    assert_ne!(replaced, original, "the bundled test names ../../rules/credit.yaml");
    replaced
}

#[test]
fn the_bundled_rule_tests_pass() {
    let output = test_rules(Path::new("tests/rules/credit.test.yaml"));
    assert_eq!(output.status.code(), Some(0), "{}{}", text(&output.stdout), text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok    ")).count(), 5, "{stdout}");
    assert!(stdout.ends_with("tests/rules/credit.test.yaml: 5 passed, 0 failed\n"), "{stdout}");
    assert!(output.stderr.is_empty());
}

#[test]
fn a_wrong_expectation_fails_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.test.yaml");
    // After window 2 the PSI alert fires; expect it pending and a notification to `log` only.
    let original = bundled_test_text();
    let wrong = original
        .replacen(
            "      - after: 2\n        alerts:\n          - { rule: credit_psi_high, feature: income, state: firing }",
            "      - after: 2\n        alerts:\n          - { rule: credit_psi_high, feature: income, state: pending }",
            1,
        )
        .replacen(
            "          - { action: alerts-file, rule: credit_psi_high, status: firing, features: [income] }\n",
            "",
            1,
        );
    assert_ne!(wrong, original);
    std::fs::write(&file, wrong).unwrap();
    let output = test_rules(&file);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}{}", text(&output.stderr));
    let expected = "\
FAIL  input PSI with hysteresis fires once and resolves after keep_firing_for
  alerts after window 2 (- expected, + got):
    + {rule: credit_psi_high, stream: inputs, feature: income, state: firing}
    - {rule: credit_psi_high, stream: inputs, feature: income, state: pending}
  notifications after window 2 (- expected, + got):
    + {action: alerts-file, rule: credit_psi_high, status: firing, features: [income]}
      {action: log, rule: credit_psi_high, status: firing, features: [income]}
ok    retraining trigger after two hours of drift, at most once a day
";
    assert!(stdout.starts_with(expected), "got:\n{stdout}");
    assert!(stdout.ends_with(&format!("{}: 4 passed, 1 failed\n", file.display())), "{stdout}");
}

#[test]
fn a_bad_test_file_is_reported_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.test.yaml");
    std::fs::write(
        &file,
        "rule_files: [rules.yaml]\ntests:\n  - name: t\n    windows:\n      - features: { x: { n: 10, pssi: 0.3 } }\n    expect:\n      - after: 3\n",
    )
    .unwrap();
    let output = test_rules(&file);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    let shown = file.display();
    assert_eq!(
        text(&output.stderr),
        format!(
            "{shown}:5:9: tests[0].windows[0]: no monitor: set `monitor` on the test or the window\n\
             {shown}:5:33: tests[0].windows[0].features.x.pssi: unknown key `pssi`; did you mean `psi`?\n\
             {shown}:7:16: tests[0].expect[0].after: window 3 does not exist: the test has 1 window (numbered from 1)\n"
        )
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_bad_rule_file_is_reported_with_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "rules:\n  - name: r\n    monitor: m\n    when: { stat: psi, op: \">\", value: 0.2 }\n    actions: [lgo]\nactions:\n  - name: log\n    log: {}\n",
    )
    .unwrap();
    let file = dir.path().join("t.test.yaml");
    std::fs::write(&file, "rule_files: [rules.yaml]\ntests: []\n").unwrap();
    let output = test_rules(&file);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
    assert_eq!(
        text(&output.stderr),
        format!(
            "{}:5:15: rules[0].actions[0]: unknown action \"lgo\"; did you mean `log`?\n",
            dir.path().join("rules.yaml").display()
        )
    );
}
