//! Unit tests of the pure parts of delivery: signature, backoff, document, bodies, outbox
//! transitions, request building. Targets against real peers are in `tests/actions.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::record::Stream;
use crate::rules::{
    Action, ActionKind, AlertKey, AlertStatus, AlertSummary, Notification, NotificationStatus, Severity, Template,
    NOTIFICATION_VARIABLES,
};

pub(crate) fn notification(action: &str, seq: u64) -> Notification {
    let key = AlertKey {
        rule: "psi_high".into(),
        monitor: "credit".into(),
        stream: Stream::Inputs,
        feature: "income".into(),
    };
    let alert = AlertSummary {
        key,
        status: AlertStatus::Firing,
        stat: "psi".into(),
        value: Some(0.31),
        threshold: Some(0.25),
        op: ">".into(),
        n: 300,
        severity: Severity::Warning,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        active_since_ms: Some(0),
        fired_at_ms: Some(3_600_000),
    };
    Notification {
        action: action.into(),
        action_kind: ActionKind::Alert,
        rule: "psi_high".into(),
        monitor: "credit".into(),
        stream: Stream::Inputs,
        severity: Severity::Warning,
        group: BTreeMap::new(),
        group_key: "credit,psi_high".into(),
        status: NotificationStatus::Firing,
        episode: 1,
        seq,
        idempotency_key: format!("{action}/psi_high/credit/credit,psi_high/1/{seq}"),
        window_start_ms: 0,
        window_end_ms: 3_600_000,
        window_events: 300,
        alerts: vec![alert],
    }
}

fn evidence() -> serde_json::Value {
    json!({
        "model_version": "v7",
        "reference_version": "ref-2026-11-01",
        "top_features": [{
            "feature": "income", "stat": "psi", "value": 0.31,
            "bins": [
                {"label": "(-inf, 1000]", "reference": 0.1, "current": 0.4, "contribution": 0.4159},
                {"label": "(1000, +inf) <b>", "reference": 0.9, "current": 0.6, "contribution": 0.1216}
            ]
        }]
    })
}

fn entry(action: &str, seq: u64) -> OutboxEntry {
    OutboxEntry::new(notification(action, seq), evidence(), 1_000)
}

fn database() -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let db = redb::Database::create(dir.path().join("state.redb")).unwrap();
    (dir, Outbox::new(Arc::new(db)).unwrap())
}

#[test]
fn signature_matches_python_hmac() {
    // python3 -c "import hmac,hashlib; print(hmac.new(b'key',
    //   b'The quick brown fox jumps over the lazy dog', hashlib.sha256).hexdigest())"
    assert_eq!(
        sign(b"key", b"The quick brown fox jumps over the lazy dog"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let policy = RetryPolicy { base: Duration::from_secs(1), max: Duration::from_secs(300), ..RetryPolicy::default() };
    let delays: Vec<u64> = (1..=11).map(|n| policy.delay(n).as_secs()).collect();
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    assert_eq!(policy.delay(u32::MAX), Duration::from_secs(300));
}

#[test]
fn document_has_the_notification_fields_and_the_evidence() {
    let doc = document(&entry("hook", 0));
    assert_eq!(doc["schema"], PAYLOAD_SCHEMA);
    assert_eq!(doc["idempotency_key"], "hook/psi_high/credit/credit,psi_high/1/0");
    assert_eq!(doc["rule"], "psi_high");
    assert_eq!(doc["status"], "firing");
    assert_eq!(doc["alerts"][0]["key"]["feature"], "income");
    assert_eq!(doc["evidence"]["model_version"], "v7");
    assert_eq!(doc["summary"], "firing: psi_high on credit/inputs: income psi=0.31 > 0.25 (n=300)");
}

#[test]
fn email_bodies_carry_the_evidence_and_escape_it() {
    let e = entry("mail", 0);
    let text = email_text(&e);
    assert!(text.contains("income psi=0.31 > 0.25 (n=300)"), "{text}");
    assert!(text.contains("reference_version: ref-2026-11-01"), "{text}");
    assert!(text.contains("10.0% ->   40.0%  0.4159"), "{text}");
    let html = email_html(&e);
    assert!(html.contains("<td style=\"padding:4px 8px;border:1px solid #ddd;text-align:left\">income</td>"));
    // Proportions as fixed-width cells: 0.4 × 240 px = 96 px.
    assert!(html.contains("width=\"96\""), "{html}");
    assert!(html.contains("(1000, +inf) &lt;b&gt;"));
    assert!(!html.contains("<b>\""));
    assert!(!html.contains("<img"));
}

#[test]
fn enqueue_is_idempotent_and_outcomes_move_entries() {
    let (_dir, outbox) = database();
    let (a, b) = (entry("hook", 0), entry("hook", 1));
    outbox.enqueue(&[a.clone(), b.clone()]).unwrap();
    outbox.enqueue(std::slice::from_ref(&a)).unwrap();
    assert_eq!(outbox.pending().unwrap().len(), 2);

    assert_eq!(outbox.record_attempt(&a.key, "HTTP 500", 10, 1010).unwrap(), Some(1));
    let p = outbox.get(&a.key).unwrap().unwrap();
    assert_eq!((p.attempts, p.next_attempt_ms, p.last_error.as_deref()), (1, 1010, Some("HTTP 500")));

    assert!(outbox.mark_sent(&a.key, 20).unwrap().is_some());
    assert!(outbox.was_sent(&a.key).unwrap());
    // A delivered key enqueued again (a replayed window) is not delivered again.
    outbox.enqueue(std::slice::from_ref(&a)).unwrap();
    assert_eq!(outbox.pending().unwrap().len(), 1);

    let failed = outbox.mark_failed(&b.key, "HTTP 400", false, 30).unwrap().unwrap();
    assert_eq!((failed.attempts, failed.retryable), (1, false));
    outbox.enqueue(std::slice::from_ref(&b)).unwrap();
    assert!(outbox.pending().unwrap().is_empty());
    assert_eq!(outbox.failed().unwrap().len(), 1);
    assert!(outbox.requeue_failed(&b.key).unwrap());
    assert_eq!(outbox.pending().unwrap()[0].attempts, 0);

    assert_eq!(outbox.prune_sent(21).unwrap(), 1);
    assert!(!outbox.was_sent(&a.key).unwrap());
}

#[test]
fn enqueue_commits_with_the_callers_transaction() {
    let (_dir, outbox) = database();
    let txn = outbox.database().unwrap().begin_write().unwrap();
    enqueue_in(&txn, &[entry("hook", 0)]).unwrap();
    txn.abort().unwrap();
    assert!(outbox.pending().unwrap().is_empty());
    let txn = outbox.database().unwrap().begin_write().unwrap();
    enqueue_in(&txn, &[entry("hook", 0)]).unwrap();
    txn.commit().unwrap();
    assert_eq!(outbox.pending().unwrap().len(), 1);
}

fn hook() -> Webhook {
    Webhook {
        url: "http://127.0.0.1:9/x".into(),
        method: "post".into(),
        headers: BTreeMap::from([("X-Team".to_string(), "risk".to_string())]),
        headers_env: BTreeMap::new(),
        bearer_token_env: None,
        secret_env: Some("DRIFTD_UNIT_TEST_SECRET".into()),
        body: None,
        timeout: Duration::from_secs(1),
        max_attempts: 3,
    }
}

#[test]
fn webhook_request_is_signed_and_keyed() {
    // The variable is unique to this test; tests in this process never remove it.
    std::env::set_var("DRIFTD_UNIT_TEST_SECRET", "s3cret");
    let e = entry("hook", 0);
    let request = webhook::build(&hook(), &e).unwrap();
    assert_eq!(request.method, reqwest::Method::POST);
    assert_eq!(request.headers["idempotency-key"], e.key.as_str());
    assert_eq!(request.headers["x-team"], "risk");
    assert_eq!(request.headers["x-driftd-signature"], sign(b"s3cret", &request.body).as_str());
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body, document(&e));

    let mut templated = hook();
    templated.body = Some(
        Template::parse(
            r#"{"conf": {"key": "{{ idempotency_key }}", "doc": {{ evidence }}}}"#,
            NOTIFICATION_VARIABLES,
            &[],
        )
        .unwrap(),
    );
    let request = webhook::build(&templated, &e).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["conf"]["key"], e.key.as_str());
    assert_eq!(body["conf"]["doc"]["evidence"]["model_version"], "v7");
}

#[test]
fn missing_environment_is_a_permanent_error() {
    let mut h = hook();
    h.secret_env = None;
    h.bearer_token_env = Some("DRIFTD_UNIT_TEST_NEVER_SET".into());
    let err = webhook::build(&h, &entry("hook", 0)).err().unwrap();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("DRIFTD_UNIT_TEST_NEVER_SET"), "{err}");
}

#[test]
fn command_environment_names_the_notification() {
    let env: BTreeMap<&str, String> = command::environment(&entry("cmd", 2)).into_iter().collect();
    assert_eq!(env["DRIFTD_RULE"], "psi_high");
    assert_eq!(env["DRIFTD_MONITOR"], "credit");
    assert_eq!(env["DRIFTD_STATUS"], "firing");
    assert_eq!(env["DRIFTD_IDEMPOTENCY_KEY"], "cmd/psi_high/credit/credit,psi_high/1/2");
    assert_eq!(env["DRIFTD_FEATURES"], "income");
    assert_eq!(env["DRIFTD_WINDOW_END"], "1970-01-01T01:00:00Z");
}

#[test]
fn attempts_follow_the_action() {
    let policy = RetryPolicy::default();
    let action = |target| Action { name: "a".into(), kind: ActionKind::Alert, cooldown: None, target };
    assert_eq!(policy.max_attempts(&action(Target::Webhook(hook()))), 3);
    assert_eq!(policy.max_attempts(&action(Target::Log(Log))), policy.default_max_attempts);
}

/// The `actions:` YAML blocks of `docs/actions.md`.
fn documented_action_blocks() -> Vec<String> {
    let doc = include_str!("../../docs/actions.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                if block.starts_with("actions:") {
                    blocks.push(block.clone());
                }
                current = None;
            }
            (Some(block), text) => {
                block.push_str(text);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn documented_recipes_load_and_render_valid_json() {
    let blocks = documented_action_blocks();
    assert_eq!(blocks.len(), 4, "Airflow, GitHub Actions, Argo, Kubeflow");
    for block in blocks {
        let path = std::path::Path::new("docs/actions.md");
        let set = crate::rules::from_sources(&[(path, block.as_str())], &crate::rules::Known::unchecked(), &|_| None)
            .unwrap_or_else(|e| panic!("{e}\n{block}"));
        let (name, action) = set.actions.iter().next().unwrap();
        assert_eq!(action.kind, ActionKind::Retrain, "{name}");
        let Target::Webhook(hook) = &action.target else { panic!("{name} is not a webhook") };
        assert!(hook.body.is_some(), "{name}");
        // The environment is read at delivery: leave it out of this check.
        let mut hook = hook.clone();
        hook.headers_env.clear();
        hook.bearer_token_env = None;
        hook.secret_env = None;
        let request = webhook::build(&hook, &entry(name, 0)).unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&request.body).unwrap_or_else(|e| panic!("{name}: {e}\n{block}"));
        let text = body.to_string();
        assert!(text.contains(&entry(name, 0).key), "{name} carries the idempotency key: {text}");
    }
}

#[test]
fn an_unreadable_entry_does_not_hold_up_the_others() {
    let (_dir, outbox) = database();
    outbox.enqueue(&[entry("hook", 0)]).unwrap();
    let txn = outbox.database().unwrap().begin_write().unwrap();
    txn.open_table(OUTBOX).unwrap().insert("hook/bad", b"{not json".as_slice()).unwrap();
    txn.commit().unwrap();
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].entry.key, entry("hook", 0).key);
}

/// The audit: a feature name or label holding `"` or a line break broke out of a JSON string in
/// a webhook body template (an extra key in a signed body) and a line break in an email subject
/// would start a new header. Bodies escape every variable as JSON string content; subjects
/// replace control characters.
#[test]
fn templated_values_are_escaped_for_json_bodies_and_subjects() {
    let mut n = notification("hook", 0);
    let hostile = "income\", \"injected\": \"yes\\\n";
    n.alerts[0].key.feature = hostile.to_string();
    let entry = OutboxEntry::new(n, evidence(), 1_000);
    let template = Template::parse(
        r#"{"text": "drift on {{ features }}", "evidence": {{ evidence }}}"#,
        NOTIFICATION_VARIABLES,
        &[],
    )
    .unwrap();
    let hook = Webhook {
        url: "http://127.0.0.1:1/hook".into(),
        method: "POST".into(),
        headers: BTreeMap::new(),
        headers_env: BTreeMap::new(),
        bearer_token_env: None,
        secret_env: None,
        body: Some(template),
        timeout: Duration::from_secs(1),
        max_attempts: 1,
    };
    let request = super::webhook::build(&hook, &entry).unwrap();
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("the body is valid JSON");
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["evidence", "text"], "no injected key");
    assert_eq!(body["text"], format!("drift on {hostile}"), "the value itself is kept");
    assert_eq!(body["evidence"]["evidence"]["model_version"], "v7");

    let subject = Template::parse("[driftd] {{ features }}", NOTIFICATION_VARIABLES, &[]).unwrap();
    let text = super::document::render(&subject, &entry, "{}");
    assert!(!text.contains('\n') && !text.contains('\r'), "{text:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

    /// Whatever a feature name or label holds (quotes, backslashes, control characters,
    /// non-ASCII), a JSON body template renders to valid JSON that says exactly that text.
    #[test]
    fn json_bodies_stay_valid_for_any_feature_name_or_label(
        feature in "\\PC{0,30}|[\"\\\\\\x00-\\x1f{}\\[\\]:, ]{0,30}",
        team in "\\PC{0,20}",
    ) {
        let mut n = notification("hook", 0);
        n.alerts[0].key.feature = feature.clone();
        n.group.insert("team".into(), team.clone());
        let entry = OutboxEntry::new(n, evidence(), 1_000);
        let template = Template::parse(
            r#"{"text": "drift on {{ features }}", "team": "<{{ labels.team }}>", "doc": {{ evidence }}}"#,
            NOTIFICATION_VARIABLES,
            &["team"],
        )
        .unwrap();
        let body = super::document::render_json(&template, &entry, &String::from_utf8(super::document::document_bytes(&entry)).unwrap());
        let parsed: serde_json::Value = serde_json::from_str(&body).map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}: {body}")))?;
        proptest::prop_assert_eq!(parsed["text"].as_str().unwrap(), format!("drift on {feature}"));
        proptest::prop_assert_eq!(parsed["team"].as_str().unwrap(), format!("<{team}>"));
        proptest::prop_assert_eq!(parsed.as_object().unwrap().len(), 3);
    }
}
