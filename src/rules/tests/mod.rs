//! Loading rule files: the bundled example, every problem at once with its position, typo
//! suggestions, thresholds against scipy, corrections against hand computations.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::threshold::{benjamini_hochberg, bonferroni, yurdakul_psi_threshold};
use super::*;
use crate::actions::{File, Target};
use crate::monitor::Stat;
use crate::record::Stream;

fn no_env(_: &str) -> Option<std::ffi::OsString> {
    None
}

/// The quick start's monitor: the inputs' features are listed, the predictions' are not.
pub(super) fn credit_known() -> Known {
    let inputs = [
        "age",
        "income",
        "debt_ratio",
        "credit_lines",
        "months_employed",
        "loan_amount",
        "region",
        "employment_type",
        "loan_purpose",
    ];
    let mut streams = KnownStreams::new();
    streams.insert(Stream::Inputs, Some(inputs.iter().map(|s| s.to_string()).collect()));
    streams.insert(Stream::Predictions, None);
    Known::new(BTreeMap::from([("credit-scoring".to_string(), streams)]))
}

pub(super) fn load_str(text: &str) -> Result<RuleSet, ConfigErrors> {
    from_sources(&[(Path::new("rules/test.yaml"), text)], &Known::unchecked(), &no_env)
}

fn errors(text: &str, known: &Known) -> Vec<String> {
    match from_sources(&[(Path::new("r.yaml"), text)], known, &no_env) {
        Ok(_) => panic!("expected problems"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_bundled_rules_load_against_the_quickstart_monitor() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    let set = load_with_env(&[dir], &credit_known(), &no_env).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = set.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["credit_psi_high", "credit_retrain", "credit_ks_shift", "credit_score_psi", "credit_inputs_missing"]
    );
    let psi = set.rule("credit_psi_high").unwrap();
    assert_eq!(psi.streams, [Stream::Inputs]);
    assert!(psi.features.matches("income") && !psi.features.matches("months_employed"));
    assert_eq!(psi.for_, Some(Span::Windows(2)));
    assert_eq!(psi.keep_firing_for, Some(Span::Windows(1)));
    assert_eq!(psi.repeat_every, Some(Duration::from_secs(6 * 3600)));
    assert_eq!(psi.group_by, ["monitor", "rule"]);
    match psi.trigger {
        Trigger::Threshold { when, clear_when: Some(clear) } => {
            assert_eq!(
                (when.stat, when.op, when.threshold),
                (RuleStat::Feature(Stat::Psi), Op::Gt, Threshold::Fixed(0.25))
            );
            assert_eq!(
                (clear.stat, clear.op, clear.threshold),
                (RuleStat::Feature(Stat::Psi), Op::Lt, Threshold::Fixed(0.1))
            );
        }
        other => panic!("{other:?}"),
    }
    let retrain = &set.actions["retrain-credit"];
    assert_eq!((retrain.kind, retrain.cooldown), (ActionKind::Retrain, Some(Duration::from_secs(86_400))));
    match &retrain.target {
        Target::Webhook(w) => {
            assert_eq!(w.url, "http://127.0.0.1:8080/retrain");
            assert_eq!(w.method, "POST");
            assert_eq!(w.secret_env.as_deref(), Some("RETRAIN_HMAC_KEY"));
            assert_eq!(w.bearer_token_env.as_deref(), Some("RETRAIN_TOKEN"));
            assert_eq!((w.timeout, w.max_attempts), (Duration::from_secs(5), 8));
        }
        other => panic!("{other:?}"),
    }
    // Relative file paths are taken from the rule file's directory.
    match &set.actions["alerts-file"].target {
        Target::File(File { path }) => assert!(path.ends_with("rules/../driftd-alerts.jsonl"), "{}", path.display()),
        other => panic!("{other:?}"),
    }
    let corrected = set.rule("credit_ks_shift").unwrap();
    assert_eq!(
        corrected.trigger,
        Trigger::Corrected {
            stat: RuleStat::Feature(Stat::KsPValue),
            correction: Correction { method: CorrectionMethod::BenjaminiHochberg, alpha: 0.01 },
            clear_when: None
        }
    );
}

#[test]
fn every_problem_is_reported_at_once_with_its_position() {
    let text = r#"rules:
  - name: a
    monitor: credit-scorin
    when: { stat: pssi, op: ">", value: 0.2 }
    actions: [oncal]
  - name: b
    monitor: credit-scoring
    stream: inputs
    features: [incme, "loan_*", "zz_*"]
    when: { stat: psi, op: ">", value: 0.25 }
    clear_when: { op: "<", value: 0.3 }
    for: 3 widows
    annotations: { summary: "{{ feture }} {{ labels.tem }}" }
    labels: { team: risk }
    group_by: [feature, teem]
    severty: critical
  - name: b
    monitor: credit-scoring
    when: { stat: ks_statistic, op: ">", value: { sample_size_aware: {} } }
actions:
  - name: oncall
    webhook:
      url: ftp://x
      headers: { Authorization: "Bearer abc" }
      secret_env: "not a var"
  - name: two
    log: {}
    file: { path: x }
"#;
    let got = errors(text, &credit_known());
    let stats = "`psi`, `ks_statistic`, `ks_p_value`, `chisquare_statistic`, `chisquare_p_value`, `jensen_shannon`, \
                 `wasserstein`, `wasserstein_normalized`, `hellinger`, `kullback_leibler`, `missing_share`, `type_mismatch_share`, `out_of_range_share`, `unseen_category_share`, `accuracy`, `precision`, `recall`, `f1`, `f1_macro`, `roc_auc`, `log_loss`, `brier`, `ece`, `mae`, `rmse`, `mape`, `r2`, `labelled_share`, `share_drifted_features`, `window_events`";
    let variables =
        "rule, monitor, stream, feature, stat, value, threshold, window_start, window_end, n, severity, labels.NAME";
    let features =
        "age, credit_lines, debt_ratio, employment_type, income, loan_amount, loan_purpose, months_employed, region";
    let expected = [
        "r.yaml:3:14: rules[0].monitor: unknown monitor \"credit-scorin\"; did you mean `credit-scoring`?".to_string(),
        format!("r.yaml:4:19: rules[0].when.stat: unknown value \"pssi\", expected one of {stats}; did you mean `psi`?"),
        "r.yaml:5:15: rules[0].actions[0]: unknown action \"oncal\"; did you mean `oncall`?".into(),
        "r.yaml:9:16: rules[1].features[0]: unknown feature \"incme\"; did you mean `income`?".into(),
        format!("r.yaml:9:33: rules[1].features[2]: \"zz_*\" matches no feature of the monitor (features: {features})"),
        "r.yaml:11:35: rules[1].clear_when.value: clear_when (< 0.3) overlaps when (> 0.25): a value could both fire and clear the alert".into(),
        "r.yaml:12:10: rules[1].for: invalid span \"3 widows\": expected `N windows` (such as `3 windows`) or a duration (such as 2h)".into(),
        format!("r.yaml:13:29: rules[1].annotations.summary: unknown template variable `feture`; did you mean `feature`? (variables: {variables})"),
        "r.yaml:15:25: rules[1].group_by[1]: unknown label `teem`; did you mean `team`?".into(),
        "r.yaml:16:5: rules[1].severty: unknown key `severty`; did you mean `severity`?".into(),
        "r.yaml:17:11: rules[2].name: duplicate rule name \"b\" (first defined at line 6)".into(),
        "r.yaml:19:49: rules[2].when.value: `sample_size_aware` is a threshold for psi, not ks_statistic".into(),
        "r.yaml:23:12: actions[0].webhook.url: \"ftp://x\" is not an http:// or https:// URL".into(),
        "r.yaml:24:33: actions[0].webhook.headers.Authorization: header \"Authorization\" looks secret: secrets never go in rule files; name an environment variable with `headers_env: {Authorization: VAR}` or `bearer_token_env: VAR`".into(),
        "r.yaml:25:19: actions[0].webhook.secret_env: \"not a var\" is not an environment variable name (the value is read from the environment at delivery; write the variable's name)".into(),
        "r.yaml:26:5: actions[1]: an action needs exactly one of email, webhook, kafka, command, log, file; found log, file".into(),
    ];
    assert_eq!(got, expected);
    // The secret itself is never quoted back.
    assert!(!got.join("\n").contains("Bearer abc"));
    let lines: Vec<u32> = got.iter().map(|l| l.split(':').nth(1).unwrap().parse().unwrap()).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn conditions_are_checked_for_their_statistic() {
    let cases = [
        ("when: { stat: psi, op: \">\" }", "rules[0].when.value: missing required key `value`"),
        (
            "when: { stat: psi, op: \">\", value: 0.2 }\n    clear_when: { op: \">\", value: 0.1 }",
            "rules[0].clear_when.op: clear_when must compare in the opposite direction of `when` (>): use `<` or `<=`",
        ),
        (
            "when: { stat: psi, op: \">\", value: 0.2 }\n    clear_when: { stat: ks_statistic, op: \"<\", value: 0.1 }",
            "rules[0].clear_when.stat: clear_when must compare the statistic of `when` (psi), not ks_statistic",
        ),
        (
            "when: { stat: psi }\n    correction: { method: bonferroni }",
            "rules[0].when.stat: `correction` applies to p-values (ks_p_value, chisquare_p_value), not psi",
        ),
        (
            "when: { stat: ks_p_value, op: \"<\", value: 0.05 }\n    correction: { method: bonferroni }",
            "rules[0].when.op: with `correction`, `when` names only the statistic",
        ),
        (
            "when: { stat: ks_p_value }\n    correction: { method: holm }",
            "rules[0].correction.method: unknown value \"holm\", expected one of `bonferroni`, `benjamini_hochberg`",
        ),
        (
            "when: { stat: psi, op: \">\", value: { sample_size_aware: { alpha: 1.5 } } }",
            "rules[0].when.value.sample_size_aware.alpha: alpha must be between 0 and 1 (exclusive), not 1.5",
        ),
        ("when: { stat: psi, op: \"=>\", value: 0.2 }", "rules[0].when.op: unknown value \"=>\""),
        (
            "when: { stat: psi, op: \"<\", value: { sample_size_aware: {} } }",
            "rules[0].when.op: a `sample_size_aware` threshold needs `>` or `>=`",
        ),
        (
            "when: { stat: psi, op: \">\", value: 0.2 }\n    repeat_every: 0s",
            "rules[0].repeat_every: repeat_every must be longer than 0",
        ),
        (
            "when: { stat: window_events, op: \"<\", value: 10 }\n    features: [age]",
            "rules[0].features: `window_events` is a statistic of the whole window",
        ),
    ];
    for (condition, expected) in cases {
        let text = format!("rules:\n  - name: r\n    monitor: m\n    {condition}\n");
        let got = errors(&text, &Known::unchecked());
        assert_eq!(got.len(), 1, "{condition}: {got:?}");
        assert!(got[0].contains(expected), "{condition}:\n got {}\nwant {expected}", got[0]);
    }
}

#[test]
fn known_names_come_from_the_configuration() {
    let config =
        crate::config::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/driftd.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
    let known = Known::from_config(&config);
    let monitors = known.monitors().unwrap();
    // `features: "*"` and the predictions stream: known only once data arrives.
    assert_eq!(monitors["credit-scoring"], KnownStreams::from([(Stream::Inputs, None), (Stream::Predictions, None)]));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rules");
    assert!(load_with_env(&[dir], &known, &no_env).is_ok());
    let text = "rules:\n  - name: r\n    monitor: credit\n    when: { stat: psi, op: \">\", value: 0.2 }\n";
    assert_eq!(
        errors(text, &known),
        ["r.yaml:3:14: rules[0].monitor: unknown monitor \"credit\" (known: credit-scoring)"]
    );
}

#[test]
fn streams_follow_the_monitor() {
    let text = "rules:\n  - name: r\n    monitor: credit-scoring\n    stream: predictions\n    when: { stat: psi, op: \">\", value: 0.2 }\n";
    let mut known = credit_known();
    assert!(from_sources(&[(Path::new("r.yaml"), text)], &known, &no_env).is_ok());
    // Without a predictions stream, naming it is an error and `both` means inputs only.
    let mut streams = KnownStreams::new();
    streams.insert(Stream::Inputs, None);
    known = Known::new(BTreeMap::from([("credit-scoring".to_string(), streams)]));
    let got = errors(text, &known);
    assert_eq!(got, ["r.yaml:4:13: rules[0].stream: monitor \"credit-scoring\" has no predictions stream"]);
    let both = text.replace("    stream: predictions\n", "");
    let set = from_sources(&[(Path::new("r.yaml"), &both)], &known, &no_env).unwrap();
    assert_eq!(set.rules[0].streams, [Stream::Inputs]);
}

#[test]
fn names_resolve_across_files_and_duplicates_name_the_first_file() {
    let rules =
        "rules:\n  - name: r\n    monitor: m\n    when: { stat: psi, op: \">\", value: 0.2 }\n    actions: [page]\n";
    let actions = "actions:\n  - name: page\n    command: { argv: [/bin/true], timeout: 5s }\n";
    let set =
        from_sources(&[(Path::new("a.yaml"), rules), (Path::new("b.yaml"), actions)], &Known::unchecked(), &no_env)
            .unwrap();
    assert_eq!(set.rules[0].actions, ["page"]);
    let err = from_sources(
        &[(Path::new("a.yaml"), rules), (Path::new("b.yaml"), &format!("{actions}{rules}"))],
        &Known::unchecked(),
        &no_env,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "b.yaml:5:11: rules[0].name: duplicate rule name \"r\" (first defined at a.yaml:2)");
}

#[test]
fn a_syntax_error_is_one_problem_with_its_position_and_other_files_still_report() {
    let err = from_sources(
        &[(Path::new("a.yaml"), "rules: [\n"), (Path::new("b.yaml"), "rulez: []\n")],
        &Known::unchecked(),
        &no_env,
    )
    .unwrap_err();
    let lines: Vec<String> = err.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("a.yaml:"), "{lines:?}");
    assert_eq!(lines[1], "b.yaml:1:1: rulez: unknown key `rulez`; did you mean `rules`?");
}

#[test]
fn environment_references_are_interpolated_and_secrets_stay_out() {
    let text = "actions:\n  - name: hook\n    webhook: { url: '${HOOK_URL}', headers_env: { X-Api-Key: API_KEY } }\n";
    let env = |name: &str| (name == "HOOK_URL").then(|| std::ffi::OsString::from("https://ci.example.com/x"));
    let set = from_sources(&[(Path::new("r.yaml"), text)], &Known::unchecked(), &env).unwrap();
    match &set.actions["hook"].target {
        Target::Webhook(w) => {
            assert_eq!(w.url, "https://ci.example.com/x");
            assert_eq!(w.headers_env, BTreeMap::from([("X-Api-Key".to_string(), "API_KEY".to_string())]));
        }
        other => panic!("{other:?}"),
    }
    let err = from_sources(&[(Path::new("r.yaml"), text)], &Known::unchecked(), &no_env).unwrap_err();
    assert_eq!(err.to_string(), "r.yaml:3:22: actions[0].webhook.url: environment variable HOOK_URL is not set (write ${HOOK_URL:-default} to give a default)");
}

#[test]
fn spans_and_globs() {
    assert_eq!(parse_span("3 windows"), Ok(Span::Windows(3)));
    assert_eq!(parse_span("1 window"), Ok(Span::Windows(1)));
    assert_eq!(parse_span("2h"), Ok(Span::Duration(Duration::from_secs(7200))));
    assert!(parse_span("-1 windows").is_err());
    assert!(glob_match("loan_*", "loan_amount") && glob_match("*", "") && glob_match("a?c*", "abcdef"));
    assert!(!glob_match("loan_*", "region") && !glob_match("a?c", "ac") && !glob_match("*x", "xy"));
}

/// Literals printed by `python3 tests/reference/rules_thresholds.py` (scipy `chi2.ppf`).
#[test]
fn yurdakul_threshold_matches_scipy() {
    let cases = [
        // (alpha, bins, n_ref, n_cur, chi2.ppf(1 - alpha, bins - 1) * (1/n_ref + 1/n_cur))
        (0.05, 10, 5000, 300, 0.059780387536325585),
        (0.001, 10, 5000, 300, 0.09849931587843988),
        (0.05, 5, 1000, 1000, 0.01897545807356231),
    ];
    for (alpha, bins, n_ref, n_cur, expected) in cases {
        let got = yurdakul_psi_threshold(alpha, bins, n_ref, n_cur).unwrap();
        assert!((got - expected).abs() <= 1e-12 * expected, "{alpha} {bins}: {got} vs {expected}");
    }
    assert_eq!(yurdakul_psi_threshold(0.05, 1, 10, 10), None);
    assert_eq!(yurdakul_psi_threshold(0.05, 10, 0, 10), None);
    assert_eq!(yurdakul_psi_threshold(1.0, 10, 10, 10), None);
}

/// Bonferroni: reject p_i ≤ α/m.
#[test]
fn bonferroni_by_hand() {
    // α = 0.05, m = 3: α/m = 0.016666…; only 0.01 is rejected.
    let got = bonferroni(&[0.01, 0.02, 0.04], 0.05);
    assert_eq!(got.iter().map(|c| c.rejected).collect::<Vec<_>>(), [true, false, false]);
    assert!(got.iter().all(|c| (c.threshold - 0.05 / 3.0).abs() < 1e-15));
}

/// Benjamini–Hochberg: k = max{i : p_(i) ≤ i/m·α}, reject the k smallest.
#[test]
fn benjamini_hochberg_by_hand() {
    // m = 3, critical values 0.01667, 0.03333, 0.05: every p_(i) is below its own → k = 3,
    // where Bonferroni rejects only 0.01.
    let got = benjamini_hochberg(&[0.04, 0.01, 0.02], 0.05);
    assert_eq!(got.iter().map(|c| c.rejected).collect::<Vec<_>>(), [true, true, true]);
    assert!((got[0].threshold - 0.05).abs() < 1e-15);
    // m = 4, critical values 0.0125, 0.025, 0.0375, 0.05: 0.001 ≤ 0.0125, 0.03 > 0.025,
    // 0.04 > 0.0375, 0.2 > 0.05 → k = 1.
    let got = benjamini_hochberg(&[0.2, 0.03, 0.001, 0.04], 0.05);
    assert_eq!(got.iter().map(|c| c.rejected).collect::<Vec<_>>(), [false, false, true, false]);
    assert!((got[0].threshold - 0.0125).abs() < 1e-15);
    // Step-up: p_(1) = 0.04 > 0.0125, yet p_(4) = 0.043 ≤ 0.05, so k = 4 and all are rejected.
    let got = benjamini_hochberg(&[0.04, 0.041, 0.042, 0.043], 0.05);
    assert!(got.iter().all(|c| c.rejected));
    // Nothing below its critical value: nothing rejected, threshold α/m.
    let got = benjamini_hochberg(&[0.5, 0.9], 0.05);
    assert!(got.iter().all(|c| !c.rejected && (c.threshold - 0.025).abs() < 1e-15));
    assert!(benjamini_hochberg(&[], 0.05).is_empty());
}

#[test]
fn rule_hash_ignores_texts_and_receivers_but_not_conditions() {
    let base = "rules:\n  - name: r\n    monitor: m\n    when: { stat: psi, op: \">\", value: 0.2 }\n    annotations: { summary: a }\n";
    let hash = |text: &str| load_str(text).unwrap().rules[0].hash();
    let h = hash(base);
    assert_eq!(h, hash(base), "stable");
    assert_eq!(h.len(), 32);
    assert_eq!(h, hash(&base.replace("summary: a", "summary: b")));
    assert_eq!(h, hash(&format!("{base}    repeat_every: 1h\n")));
    assert_ne!(h, hash(&base.replace("0.2", "0.3")));
    assert_ne!(h, hash(&format!("{base}    for: 2 windows\n")));
    assert_ne!(h, hash(&format!("{base}    labels: {{ team: x }}\n")));
}

mod engine;
