//! The lifecycle, as Prometheus-style timelines: one row per hourly window, the value in and
//! the expected state and notification out. Then grouping, cooldowns, corrections, reloads,
//! persistence, and a property: never firing before `for` has elapsed.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::load_str;
use crate::monitor::Stat;
use crate::record::Stream;
use crate::rules::*;

const HOUR: i64 = 3_600_000;

/// A PSI rule on feature `income` of monitor `m`, with `extra` lines appended to the rule, and
/// a `log` action.
fn psi_rules(extra: &str) -> RuleSet {
    let text = format!(
        "rules:\n  - name: psi\n    monitor: m\n    stream: inputs\n    when: {{ stat: psi, op: \">\", value: 0.25 }}\n    actions: [log]\n{extra}actions:\n  - name: log\n    log: {{}}\n"
    );
    load_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn feature(name: &str, n: u64, stat: Stat, value: f64) -> FeatureStats {
    FeatureStats {
        name: name.into(),
        n,
        n_ref: Some(5000),
        n_bins: Some(10),
        values: BTreeMap::from([(stat, value)]),
        drifted: false,
    }
}

/// Hourly window number `i` of monitor `m`'s inputs.
fn window(i: i64, features: Vec<FeatureStats>) -> WindowEvaluation {
    WindowEvaluation {
        monitor: "m".into(),
        stream: Stream::Inputs,
        window_start_ms: i * HOUR,
        window_end_ms: (i + 1) * HOUR,
        window_events: features.iter().map(|f| f.n).max().unwrap_or(0),
        features,
    }
}

fn status(engine: &Engine, rule: &str, feature: &str) -> &'static str {
    let key = AlertKey { rule: rule.into(), monitor: "m".into(), stream: Stream::Inputs, feature: feature.into() };
    engine.state().alerts.get(&key).map_or("inactive", |s| s.status.name())
}

/// Rows: (PSI of `income`, its n, expected state after the window, expected notification
/// status of the window: "" none, "firing", "resolved").
fn timeline(extra: &str, rows: &[(f64, u64, &str, &str)]) -> Vec<Evaluation> {
    let mut engine = Engine::new(psi_rules(extra), EngineState::default());
    let mut out = Vec::new();
    for (i, &(value, n, state, notified)) in rows.iter().enumerate() {
        let result = engine.evaluate(&window(i as i64, vec![feature("income", n, Stat::Psi, value)]));
        let got_state = status(&engine, "psi", "income");
        let got_notified: Vec<&str> = result.notifications.iter().map(|n| n.status.name()).collect();
        let expected_notified: Vec<&str> = if notified.is_empty() { vec![] } else { vec![notified] };
        assert_eq!(
            (got_state, got_notified),
            (state, expected_notified),
            "window {i} (value {value}, n {n}) with rule extras {extra:?}"
        );
        out.push(result);
    }
    out
}

#[test]
fn for_counts_consecutive_breaching_windows() {
    timeline(
        "    for: 3 windows\n",
        &[
            (0.10, 1000, "inactive", ""),
            (0.30, 1000, "pending", ""),
            (0.30, 1000, "pending", ""),
            (0.30, 1000, "firing", "firing"),
            (0.30, 1000, "firing", ""),
            (0.05, 1000, "resolved", "resolved"),
            (0.05, 1000, "inactive", ""),
            (0.30, 1000, "pending", ""),
            (0.05, 1000, "inactive", ""), // a pending alert that clears never fired: no message
            (0.30, 1000, "pending", ""),
            (0.30, 1000, "pending", ""),
            (0.30, 1000, "firing", "firing"),
        ],
    );
}

#[test]
fn without_for_the_first_breach_fires() {
    timeline(
        "",
        &[(0.30, 1000, "firing", "firing"), (0.20, 1000, "resolved", "resolved"), (0.30, 1000, "firing", "firing")],
    );
}

#[test]
fn for_in_event_time_counts_from_the_first_breaching_window_start() {
    // 2h from the start of the first breaching window: the end of the second one.
    timeline("    for: 2h\n", &[(0.3, 1000, "pending", ""), (0.3, 1000, "firing", "firing")]);
    timeline(
        "    for: 90m\n",
        &[(0.1, 1000, "inactive", ""), (0.3, 1000, "pending", ""), (0.3, 1000, "firing", "firing")],
    );
}

#[test]
fn hysteresis_holds_the_state_between_the_thresholds() {
    timeline(
        "    clear_when: { op: \"<\", value: 0.1 }\n",
        &[
            (0.30, 1000, "firing", "firing"),
            (0.20, 1000, "firing", ""), // between 0.1 and 0.25: still firing
            (0.26, 1000, "firing", ""),
            (0.24, 1000, "firing", ""),
            (0.09, 1000, "resolved", "resolved"),
            (0.20, 1000, "inactive", ""), // between, but not active: does not start anything
            (0.30, 1000, "firing", "firing"),
        ],
    );
    // Between the thresholds a pending alert keeps counting towards `for`.
    timeline(
        "    clear_when: { op: \"<\", value: 0.1 }\n    for: 3 windows\n",
        &[(0.30, 1000, "pending", ""), (0.20, 1000, "pending", ""), (0.20, 1000, "firing", "firing")],
    );
}

#[test]
fn a_value_oscillating_around_the_threshold_fires_once_with_hysteresis() {
    let values: Vec<f64> = (0..20).map(|i| if i % 2 == 0 { 0.27 } else { 0.23 }).collect();
    let firing_messages = |extra: &str| {
        let mut engine = Engine::new(psi_rules(extra), EngineState::default());
        let mut count = 0;
        for (i, v) in values.iter().enumerate() {
            let result = engine.evaluate(&window(i as i64, vec![feature("income", 1000, Stat::Psi, *v)]));
            count += result.notifications.iter().filter(|n| n.status == NotificationStatus::Firing).count();
        }
        count
    };
    assert_eq!(firing_messages("    clear_when: { op: \"<\", value: 0.1 }\n"), 1);
    assert_eq!(firing_messages(""), 10, "without hysteresis every crossing fires");
}

#[test]
fn keep_firing_for_holds_after_the_condition_clears() {
    timeline(
        "    keep_firing_for: 2 windows\n",
        &[
            (0.30, 1000, "firing", "firing"),
            (0.10, 1000, "firing", ""),
            (0.10, 1000, "firing", ""),
            (0.10, 1000, "resolved", "resolved"),
        ],
    );
    // A breach during the grace period restarts it, without a new message.
    timeline(
        "    keep_firing_for: 2h\n",
        &[
            (0.30, 1000, "firing", "firing"),
            (0.10, 1000, "firing", ""),
            (0.30, 1000, "firing", ""),
            (0.10, 1000, "firing", ""),
            (0.10, 1000, "firing", ""),
            (0.10, 1000, "resolved", "resolved"),
        ],
    );
}

#[test]
fn repeat_every_renotifies_while_firing_and_episodes_number_the_keys() {
    let results = timeline(
        "    repeat_every: 2h\n",
        &[
            (0.3, 1000, "firing", "firing"),
            (0.3, 1000, "firing", ""),
            (0.3, 1000, "firing", "firing"),
            (0.3, 1000, "firing", ""),
            (0.3, 1000, "firing", "firing"),
            (0.1, 1000, "resolved", "resolved"),
            (0.3, 1000, "firing", "firing"),
        ],
    );
    let keys: Vec<&str> =
        results.iter().flat_map(|r| r.notifications.iter().map(|n| n.idempotency_key.as_str())).collect();
    assert_eq!(
        keys,
        [
            "log/psi/m/monitor=m,rule=psi/1/0",
            "log/psi/m/monitor=m,rule=psi/1/1",
            "log/psi/m/monitor=m,rule=psi/1/2",
            "log/psi/m/monitor=m,rule=psi/1/3",
            "log/psi/m/monitor=m,rule=psi/2/0",
        ]
    );
}

#[test]
fn thin_windows_and_nan_give_no_verdict() {
    timeline(
        "    min_samples: 100\n    for: 2 windows\n",
        &[
            (0.30, 1000, "pending", ""),
            (0.05, 50, "pending", ""), // too few values: neither clears nor counts
            (0.30, 1000, "firing", "firing"),
            (0.05, 99, "firing", ""),
            (0.05, 100, "resolved", "resolved"),
        ],
    );
    timeline(
        "    for: 2 windows\n",
        &[
            (0.30, 1000, "pending", ""),
            (f64::NAN, 1000, "pending", ""),
            (0.30, 1000, "firing", "firing"),
            (f64::NAN, 1000, "firing", ""),
            (0.05, 1000, "resolved", "resolved"),
        ],
    );
}

#[test]
fn one_notification_per_action_and_group_with_rendered_annotations() {
    let text = "rules:
  - name: psi
    monitor: m
    when: { stat: psi, op: \">\", value: 0.25 }
    labels: { team: risk }
    annotations: { summary: \"{{ feature }}: PSI {{ value }} > {{ threshold }} ({{ labels.team }}, {{ window_end }}, n={{ n }})\" }
    actions: [log, mail]
actions:
  - name: log
    log: {}
  - name: mail
    email: { to: [a@example.com] }
";
    let mut engine = Engine::new(load_str(text).unwrap(), EngineState::default());
    let features = vec![
        feature("age", 500, Stat::Psi, 0.4),
        feature("income", 500, Stat::Psi, 0.31),
        feature("region", 500, Stat::Psi, 0.01),
        feature("debt", 500, Stat::Psi, 0.5),
    ];
    let result = engine.evaluate(&window(0, features.clone()));
    assert_eq!(result.transitions.len(), 3);
    assert_eq!(result.notifications.len(), 2, "one per action, not one per feature");
    let n = &result.notifications[0];
    assert_eq!((n.action.as_str(), n.status, n.episode, n.seq), ("log", NotificationStatus::Firing, 1, 0));
    assert_eq!(n.group, BTreeMap::from([("monitor".into(), "m".into()), ("rule".into(), "psi".into())]));
    let names: Vec<&str> = n.alerts.iter().map(|a| a.key.feature.as_str()).collect();
    assert_eq!(names, ["age", "debt", "income"]);
    assert_eq!(n.alerts[2].annotations["summary"], "income: PSI 0.31 > 0.25 (risk, 1970-01-01T01:00:00Z, n=500)");
    assert_eq!(n.alerts[2].labels["team"], "risk");
    assert_eq!((n.alerts[2].value, n.alerts[2].threshold), (Some(0.31), Some(0.25)));
    assert_eq!(result.notifications[1].action, "mail");
    // Notification templates (email subject, webhook body).
    let subject = Template::parse(
        "{{ status }}: {{ rule }} on {{ monitor }} ({{ alerts_count }}: {{ features }}; {{ labels.team }}) {{ idempotency_key }}",
        NOTIFICATION_VARIABLES,
        &["team"],
    )
    .unwrap();
    assert_eq!(n.render(&subject), "firing: psi on m (3: age, debt, income; risk) log/psi/m/monitor=m,rule=psi/1/0");
    let evidence: serde_json::Value = serde_json::from_str(&n.variable("evidence")).unwrap();
    assert_eq!(evidence["alerts"][2]["value"], 0.31);
    assert_eq!(evidence["idempotency_key"], "log/psi/m/monitor=m,rule=psi/1/0");
    // The outbox stores notifications as JSON and reads them back unchanged.
    let back: Notification = serde_json::from_str(&n.evidence_json()).unwrap();
    assert_eq!(&back, n);

    // Grouped by feature: one notification per feature and action.
    let by_feature = text.replace("    actions: [log, mail]", "    actions: [log]\n    group_by: [feature]");
    let mut engine = Engine::new(load_str(&by_feature).unwrap(), EngineState::default());
    let result = engine.evaluate(&window(0, features));
    let keys: Vec<&str> = result.notifications.iter().map(|n| n.idempotency_key.as_str()).collect();
    assert_eq!(keys, ["log/psi/m/feature=age/1/0", "log/psi/m/feature=debt/1/0", "log/psi/m/feature=income/1/0"]);
}

#[test]
fn retraining_triggers_respect_their_cooldown_and_ignore_resolutions() {
    let text = "rules:
  - name: share
    monitor: m
    when: { stat: share_drifted_features, op: \">=\", value: 0.5 }
    actions: [retrain, log]
actions:
  - name: retrain
    kind: retrain
    cooldown: 24h
    file: { path: retrain.jsonl }
  - name: log
    log: {}
";
    let mut engine = Engine::new(load_str(text).unwrap(), EngineState::default());
    let drifted = |i: i64, k: usize| {
        let features =
            (0..3).map(|j| FeatureStats { drifted: j < k, ..feature(&format!("f{j}"), 300, Stat::Psi, 0.0) }).collect();
        window(i, features)
    };
    let sent = |e: &Evaluation| -> Vec<String> {
        e.notifications.iter().map(|n| format!("{} {}", n.action, n.status.name())).collect()
    };
    let r = engine.evaluate(&drifted(0, 2));
    assert_eq!(sent(&r), ["retrain firing", "log firing"]);
    assert_eq!(r.notifications[0].alerts[0].key.feature, DATASET_FEATURE);
    assert_eq!(r.notifications[0].alerts[0].value, Some(2.0 / 3.0));
    let r = engine.evaluate(&drifted(1, 0));
    assert_eq!(sent(&r), ["log resolved"], "a retraining trigger is not told of resolutions");
    let r = engine.evaluate(&drifted(2, 3));
    assert_eq!(sent(&r), ["log firing"]);
    assert_eq!(r.suppressed.len(), 1);
    assert_eq!((r.suppressed[0].action.as_str(), r.suppressed[0].until_ms), ("retrain", HOUR + 24 * HOUR));
    engine.evaluate(&drifted(3, 0));
    // 25 h after the first trigger's window end: allowed again.
    let r = engine.evaluate(&drifted(25, 2));
    assert_eq!(sent(&r), ["retrain firing", "log firing"]);
}

#[test]
fn corrected_p_values_fire_only_the_rejected_features() {
    let rules = |method: &str| {
        load_str(&format!(
            "rules:\n  - name: ks\n    monitor: m\n    when: {{ stat: ks_p_value }}\n    correction: {{ method: {method}, alpha: 0.05 }}\n    min_samples: 100\n"
        ))
        .unwrap()
    };
    let features = vec![
        feature("a", 500, Stat::KsPValue, 0.01),
        feature("b", 500, Stat::KsPValue, 0.02),
        feature("c", 500, Stat::KsPValue, 0.04),
        feature("thin", 10, Stat::KsPValue, 0.0001), // below min_samples: outside the family
        feature("nan", 500, Stat::KsPValue, f64::NAN), // no verdict: outside the family
    ];
    // Bonferroni, m = 3: α/m = 0.0167 → only a.
    let mut engine = Engine::new(rules("bonferroni"), EngineState::default());
    let r = engine.evaluate(&window(0, features.clone()));
    let fired: Vec<&str> = r.transitions.iter().map(|t| t.key.feature.as_str()).collect();
    assert_eq!(fired, ["a"]);
    assert!((r.transitions[0].threshold.unwrap() - 0.05 / 3.0).abs() < 1e-15);
    // Benjamini–Hochberg, m = 3: 0.01 ≤ 0.0167, 0.02 ≤ 0.0333, 0.04 ≤ 0.05 → all three.
    let mut engine = Engine::new(rules("benjamini_hochberg"), EngineState::default());
    let r = engine.evaluate(&window(0, features));
    let fired: Vec<&str> = r.transitions.iter().map(|t| t.key.feature.as_str()).collect();
    assert_eq!(fired, ["a", "b", "c"]);
}

#[test]
fn sample_size_aware_psi_uses_each_windows_sizes() {
    let rules = load_str(
        "rules:\n  - name: psi\n    monitor: m\n    when: { stat: psi, op: \">\", value: { sample_size_aware: { alpha: 0.05 } } }\n",
    )
    .unwrap();
    let mut engine = Engine::new(rules, EngineState::default());
    // n_ref 5000, n 300, 10 bins: bound 0.059780387536325585 (tests/reference/rules_thresholds.py).
    let r = engine.evaluate(&window(0, vec![feature("x", 300, Stat::Psi, 0.06)]));
    assert_eq!(r.transitions.len(), 1);
    assert!((r.transitions[0].threshold.unwrap() - 0.059780387536325585).abs() < 1e-15);
    let r = engine.evaluate(&window(1, vec![feature("x", 300, Stat::Psi, 0.059)]));
    assert_eq!(r.transitions[0].to, AlertStatus::Resolved);
    // Without the reference size there is no bound: no verdict.
    let unknown = FeatureStats { n_ref: None, ..feature("x", 300, Stat::Psi, 0.5) };
    let r = engine.evaluate(&window(2, vec![unknown]));
    assert!(r.transitions.is_empty());
}

#[test]
fn replaying_a_window_changes_nothing() {
    let mut engine = Engine::new(psi_rules("    for: 2 windows\n"), EngineState::default());
    let w = window(0, vec![feature("income", 1000, Stat::Psi, 0.3)]);
    engine.evaluate(&w);
    let before = engine.state().clone();
    assert_eq!(engine.evaluate(&w), Evaluation::default());
    assert_eq!(engine.state(), &before);
}

#[test]
fn reload_keeps_the_states_of_unchanged_rules() {
    let text = |summary: &str, threshold: &str| {
        format!(
            "rules:
  - name: kept
    monitor: m
    when: {{ stat: psi, op: \">\", value: 0.25 }}
    annotations: {{ summary: \"{summary}\" }}
    actions: [log]
  - name: changed
    monitor: m
    when: {{ stat: psi, op: \">\", value: {threshold} }}
    actions: [log]
actions:
  - name: log
    log: {{}}
"
        )
    };
    let mut engine = Engine::new(load_str(&text("a", "0.25")).unwrap(), EngineState::default());
    let breach = |i| window(i, vec![feature("income", 1000, Stat::Psi, 0.4)]);
    assert_eq!(engine.evaluate(&breach(0)).notifications.len(), 2);
    engine.reload(load_str(&text("new text {{ value }}", "0.3")).unwrap());
    assert_eq!(status(&engine, "kept", "income"), "firing");
    assert_eq!(status(&engine, "changed", "income"), "inactive");
    let r = engine.evaluate(&breach(1));
    // `kept` goes on firing silently; `changed` starts a new episode.
    let rules: Vec<&str> = r.notifications.iter().map(|n| n.rule.as_str()).collect();
    assert_eq!(rules, ["changed"]);
    // A rule removed by a reload loses its state.
    engine.reload(load_str(&text("a", "0.3").replace("  - name: kept", "  - name: renamed")).unwrap());
    assert!(engine.state().alerts.keys().all(|k| k.rule != "kept"));
}

#[test]
fn states_survive_a_serde_round_trip_and_a_restart_changes_nothing() {
    let rules = psi_rules("    for: 2 windows\n    repeat_every: 2h\n    keep_firing_for: 1 window\n");
    let values = [0.3, 0.3, 0.3, f64::NAN, 0.1, 0.3, 0.1, 0.1, 0.3, 0.3];
    let windows: Vec<WindowEvaluation> = values
        .iter()
        .enumerate()
        .map(|(i, v)| window(i as i64, vec![feature("income", 1000, Stat::Psi, *v)]))
        .collect();

    let mut uninterrupted = Engine::new(rules.clone(), EngineState::default());
    let all: Vec<Evaluation> = windows.iter().map(|w| uninterrupted.evaluate(w)).collect();

    for cut in 1..windows.len() {
        let mut first = Engine::new(rules.clone(), EngineState::default());
        let mut got: Vec<Evaluation> = windows[..cut].iter().map(|w| first.evaluate(w)).collect();
        let json = serde_json::to_string(first.state()).unwrap();
        let restored: EngineState = serde_json::from_str(&json).unwrap();
        assert_eq!(&restored, first.state());
        let mut second = Engine::new(rules.clone(), restored);
        got.extend(windows[cut..].iter().map(|w| second.evaluate(w)));
        assert_eq!(got, all, "restart after window {cut}");
        assert_eq!(second.state(), uninterrupted.state());
    }
}

/// The oracle for the property: how long the condition has been latched, computed from the
/// values alone (breach > 0.25 starts a run; a clear value ends it; between values extend a
/// running one; NaN changes nothing).
struct Run {
    len: u32,
    start: Option<i64>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn never_firing_before_for_has_elapsed(
        values in prop::collection::vec(prop::sample::select(vec![0.05, 0.2, 0.3, f64::NAN]), 1..40),
        for_windows in 1u32..5,
        in_time in any::<bool>(),
        hysteresis in any::<bool>(),
        keep in 0u32..3,
    ) {
        let mut extra = if in_time { format!("    for: {for_windows}h\n") } else { format!("    for: {for_windows} windows\n") };
        if hysteresis {
            extra.push_str("    clear_when: { op: \"<\", value: 0.1 }\n");
        }
        if keep > 0 {
            extra.push_str(&format!("    keep_firing_for: {keep} windows\n"));
        }
        let mut engine = Engine::new(psi_rules(&extra), EngineState::default());
        let mut run = Run { len: 0, start: None };
        for (i, v) in values.iter().enumerate() {
            let w = window(i as i64, vec![feature("income", 1000, Stat::Psi, *v)]);
            if !v.is_nan() {
                let clear = if hysteresis { *v < 0.1 } else { *v <= 0.25 };
                if clear {
                    run = Run { len: 0, start: None };
                } else if *v > 0.25 || run.start.is_some() {
                    run.len += 1;
                    run.start.get_or_insert(w.window_start_ms);
                }
            }
            let result = engine.evaluate(&w);
            for t in result.transitions.iter().filter(|t| t.to == AlertStatus::Firing) {
                prop_assert!(run.start.is_some(), "fired without a breach at window {i}");
                if in_time {
                    let held = t.window_end_ms - run.start.unwrap_or(t.window_end_ms);
                    prop_assert!(held >= i64::from(for_windows) * HOUR, "fired after {held} ms at window {i}");
                } else {
                    prop_assert!(run.len >= for_windows, "fired after {} windows at window {i}", run.len);
                }
            }
        }
    }
}
