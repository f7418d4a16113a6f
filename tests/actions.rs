//! Delivery against real peers: an axum HTTP server receiving webhooks, a real SMTP server
//! (aiosmtpd, `tests/actions/smtp_server.py`), real processes and files. Every wait polls
//! with a deadline; nothing sleeps to let a race settle.

mod common;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use driftd::actions::{
    sign, Command, DeliveryMetrics, Dispatcher, Email, File, Kafka, Log, Outbox, OutboxEntry, RetryPolicy,
    SmtpSettings, SmtpTls, Target, Webhook, DEFAULT_SUBJECT, PAYLOAD_SCHEMA,
};
use driftd::record::Stream;
use driftd::rules::{
    Action, ActionKind, AlertKey, AlertStatus, AlertSummary, Notification, NotificationStatus, Severity, Template,
    NOTIFICATION_VARIABLES,
};
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(30);

fn notification(action: &str, seq: u64) -> Notification {
    let alert = |feature: &str, value: f64| AlertSummary {
        key: AlertKey {
            rule: "psi_high".into(),
            monitor: "credit".into(),
            stream: Stream::Inputs,
            feature: feature.into(),
        },
        status: AlertStatus::Firing,
        stat: "psi".into(),
        value: Some(value),
        threshold: Some(0.25),
        op: ">".into(),
        n: 300,
        severity: Severity::Critical,
        labels: BTreeMap::new(),
        annotations: BTreeMap::from([("summary".to_string(), format!("PSI {value} on {feature}"))]),
        active_since_ms: Some(1_764_000_000_000),
        fired_at_ms: Some(1_764_003_600_000),
    };
    Notification {
        action: action.into(),
        action_kind: ActionKind::Retrain,
        rule: "psi_high".into(),
        monitor: "credit".into(),
        stream: Stream::Inputs,
        severity: Severity::Critical,
        group: BTreeMap::new(),
        group_key: "credit,psi_high".into(),
        status: NotificationStatus::Firing,
        episode: 1,
        seq,
        idempotency_key: format!("{action}/psi_high/credit/credit,psi_high/1/{seq}"),
        window_start_ms: 1_764_000_000_000,
        window_end_ms: 1_764_003_600_000,
        window_events: 300,
        alerts: vec![alert("age", 0.27), alert("income", 0.41)],
    }
}

fn evidence() -> Value {
    json!({
        "model_version": "credit-v7",
        "reference_version": "2026-11-01",
        "window": {"start": "2025-11-24T16:00:00Z", "end": "2025-11-24T17:00:00Z", "events": 300,
                   "offsets": {"inputs": {"0": [1200, 1500]}}},
        "top_features": [{
            "feature": "income", "stream": "inputs", "stat": "psi", "value": 0.41,
            "bins": [
                {"label": "(-inf, 20000]", "reference": 0.1, "current": 0.35, "contribution": 0.3132},
                {"label": "(20000, 50000]", "reference": 0.5, "current": 0.45, "contribution": 0.0053},
                {"label": "(50000, +inf)", "reference": 0.4, "current": 0.2, "contribution": 0.1386}
            ]
        }]
    })
}

fn entry(action: &str, seq: u64) -> OutboxEntry {
    OutboxEntry::new(notification(action, seq), evidence(), now_ms())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy { base: Duration::from_millis(50), max: Duration::from_millis(400), ..RetryPolicy::default() }
}

fn action(name: &str, target: Target) -> Action {
    Action { name: name.into(), kind: ActionKind::Retrain, cooldown: None, target }
}

fn webhook(url: String, secret_env: Option<&str>, timeout: Duration, max_attempts: u32) -> Webhook {
    Webhook {
        url,
        method: "POST".into(),
        headers: BTreeMap::new(),
        headers_env: BTreeMap::new(),
        bearer_token_env: None,
        secret_env: secret_env.map(str::to_string),
        body: None,
        timeout,
        max_attempts,
    }
}

/// A database file and its outbox.
struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    outbox: Outbox,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints.redb");
        let db = redb::Database::create(&path).unwrap();
        Fixture { _dir: dir, path, outbox: Outbox::new(Arc::new(db)).unwrap() }
    }

    fn dir(&self) -> &Path {
        self._dir.path()
    }
}

/// A dispatcher running in a task.
struct Running {
    wake: Arc<Notify>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

fn start(dispatcher: Dispatcher) -> Running {
    let (wake, stop) = (Arc::new(Notify::new()), CancellationToken::new());
    let task = tokio::spawn(dispatcher.run(wake.clone(), stop.clone()));
    Running { wake, stop, task }
}

impl Running {
    async fn stop(self) {
        self.stop.cancel();
        tokio::time::timeout(DEADLINE, self.task).await.expect("the dispatcher stops").unwrap();
    }
}

fn dispatcher(
    actions: Vec<Action>,
    outbox: &Outbox,
    metrics: DeliveryMetrics,
    smtp: Option<SmtpSettings>,
) -> Dispatcher {
    let actions = actions.into_iter().map(|a| (a.name.clone(), a)).collect();
    Dispatcher::new(actions, smtp, outbox.clone(), metrics, None).unwrap().with_retry_policy(fast_policy())
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------- webhook receiver

#[derive(Clone, Copy)]
enum Reply {
    Status(u16),
    /// Never answer (the client times out).
    Hang,
}

#[derive(Default)]
struct Receiver {
    /// Replies to the next requests, then 200.
    script: VecDeque<Reply>,
    /// While set, every request gets a 500 (after the script).
    failing: bool,
    /// (idempotency key, signature verified, status given) per request.
    requests: Vec<(String, bool, u16)>,
    /// Accepted bodies by idempotency key: the receiver's deduplication.
    accepted: HashMap<String, Vec<Value>>,
    secret: Option<String>,
    /// The headers of the last request.
    last_headers: HeaderMap,
}

type Shared = Arc<Mutex<Receiver>>;

async fn receive(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let reply = {
        let mut r = state.lock().unwrap();
        let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let signed = match (&r.secret, headers.get("x-driftd-signature")) {
            (Some(secret), Some(sig)) => sig.to_str().unwrap() == sign(secret.as_bytes(), &body),
            (None, None) => true,
            _ => false,
        };
        let reply = r.script.pop_front().unwrap_or(if r.failing { Reply::Status(500) } else { Reply::Status(200) });
        let status = match reply {
            Reply::Status(s) => s,
            Reply::Hang => 0,
        };
        r.requests.push((key.clone(), signed, status));
        r.last_headers = headers.clone();
        if status == 200 && signed {
            let doc: Value = serde_json::from_slice(&body).unwrap();
            // A receiver that deduplicates: a repeated key is acknowledged and ignored.
            r.accepted.entry(key).or_default().push(doc);
        }
        reply
    };
    match reply {
        Reply::Status(s) => StatusCode::from_u16(s).unwrap(),
        Reply::Hang => std::future::pending().await,
    }
}

async fn serve_webhooks(receiver: Receiver) -> (SocketAddr, Shared) {
    let state = Arc::new(Mutex::new(receiver));
    let app = Router::new().route("/hook", post(receive)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, state)
}

// ---------------------------------------------------------------- webhook tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_500_three_times_then_200_is_delivered_once_signed() {
    std::env::set_var("DRIFTD_TEST_HOOK_SECRET_A", "it is a secret");
    std::env::set_var("DRIFTD_TEST_HOOK_TOKEN_A", "tok-123");
    std::env::set_var("DRIFTD_TEST_HOOK_TENANT_A", "acme");
    let receiver = Receiver {
        script: VecDeque::from([Reply::Status(500), Reply::Status(502), Reply::Status(503)]),
        secret: Some("it is a secret".into()),
        ..Receiver::default()
    };
    let (addr, state) = serve_webhooks(receiver).await;
    let fx = Fixture::new();
    let mut registry = Registry::default();
    let metrics = DeliveryMetrics::register(&mut registry);
    let mut hook =
        webhook(format!("http://{addr}/hook"), Some("DRIFTD_TEST_HOOK_SECRET_A"), Duration::from_secs(5), 10);
    hook.bearer_token_env = Some("DRIFTD_TEST_HOOK_TOKEN_A".into());
    hook.headers_env = BTreeMap::from([("X-Tenant".to_string(), "DRIFTD_TEST_HOOK_TENANT_A".to_string())]);
    hook.headers = BTreeMap::from([("X-Team".to_string(), "risk".to_string())]);
    let d = dispatcher(vec![action("retrain", Target::Webhook(hook))], &fx.outbox, metrics.clone(), None);
    let e = entry("retrain", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    running.wake.notify_one();
    wait_until("the webhook is delivered", || fx.outbox.was_sent(&e.key).unwrap()).await;
    wait_until("the pending gauge drops to 0", || metrics.pending("retrain") == 0).await;
    running.stop().await;

    let r = state.lock().unwrap();
    let statuses: Vec<u16> = r.requests.iter().map(|q| q.2).collect();
    assert_eq!(statuses, [500, 502, 503, 200]);
    assert!(r.requests.iter().all(|(key, signed, _)| key == &e.key && *signed), "same key, valid signature");
    assert_eq!(r.accepted.len(), 1);
    assert_eq!(r.last_headers["authorization"], "Bearer tok-123");
    assert_eq!(r.last_headers["x-tenant"], "acme");
    assert_eq!(r.last_headers["x-team"], "risk");
    assert_eq!(r.last_headers["content-type"], "application/json");
    let doc = &r.accepted[&e.key][0];
    assert_eq!(doc["schema"], PAYLOAD_SCHEMA);
    assert_eq!(doc["idempotency_key"], e.key.as_str());
    assert_eq!(doc["evidence"]["top_features"][0]["bins"][0]["contribution"], 0.3132);
    assert!(fx.outbox.pending().unwrap().is_empty() && fx.outbox.failed().unwrap().is_empty());
    assert_eq!((metrics.outcome("retrain", "retry"), metrics.outcome("retrain", "sent")), (3, 1));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(text.contains("driftd_notifications_total{action=\"retrain\",outcome=\"retry\"} 3"), "{text}");
    assert!(text.contains("driftd_notifications_pending{action=\"retrain\"} 0"), "{text}");
    assert!(text.contains("driftd_notification_delivery_seconds_count{action=\"retrain\"} 1"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_400_is_reported_failed_and_not_retried() {
    let (addr, state) =
        serve_webhooks(Receiver { script: VecDeque::from([Reply::Status(400)]), ..Receiver::default() }).await;
    let fx = Fixture::new();
    let metrics = DeliveryMetrics::unregistered();
    let hook = webhook(format!("http://{addr}/hook"), None, Duration::from_secs(5), 10);
    let d = dispatcher(vec![action("retrain", Target::Webhook(hook))], &fx.outbox, metrics.clone(), None);
    let e = entry("retrain", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("the entry is failed", || !fx.outbox.failed().unwrap().is_empty()).await;
    // Another enqueue of the key and a wake-up do not bring it back.
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    running.wake.notify_one();
    running.stop().await;

    let failed = fx.outbox.failed().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].entry.key.as_str(), failed[0].attempts, failed[0].retryable), (e.key.as_str(), 1, false));
    assert!(failed[0].error.contains("400"), "{}", failed[0].error);
    assert!(fx.outbox.pending().unwrap().is_empty());
    assert_eq!(state.lock().unwrap().requests.len(), 1);
    assert_eq!((metrics.outcome("retrain", "failed"), metrics.outcome("retrain", "retry")), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_webhook_times_out_and_is_retried() {
    let (addr, state) = serve_webhooks(Receiver { script: VecDeque::from([Reply::Hang]), ..Receiver::default() }).await;
    let fx = Fixture::new();
    let metrics = DeliveryMetrics::unregistered();
    let hook = webhook(format!("http://{addr}/hook"), None, Duration::from_millis(300), 10);
    let d = dispatcher(vec![action("retrain", Target::Webhook(hook))], &fx.outbox, metrics.clone(), None);
    let e = entry("retrain", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("the webhook is delivered", || fx.outbox.was_sent(&e.key).unwrap()).await;
    running.stop().await;
    let r = state.lock().unwrap();
    assert_eq!(r.requests.iter().map(|q| q.2).collect::<Vec<_>>(), [0, 200]);
    assert_eq!(r.accepted[&e.key].len(), 1);
    assert_eq!((metrics.outcome("retrain", "retry"), metrics.outcome("retrain", "sent")), (1, 1));
}

/// A webhook URL carries its secret in its path or query (Slack-style): the errors recorded
/// for a timed-out and a refused attempt (what the log and `/api/v1/notifications` show) name
/// only scheme, host and port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_errors_do_not_show_the_secret_part_of_the_url() {
    let (addr, _state) =
        serve_webhooks(Receiver { script: VecDeque::from([Reply::Hang, Reply::Status(400)]), ..Receiver::default() })
            .await;
    let fx = Fixture::new();
    let hook = webhook(format!("http://{addr}/hook?token=T0PSECRET"), None, Duration::from_millis(300), 10);
    let d =
        dispatcher(vec![action("retrain", Target::Webhook(hook))], &fx.outbox, DeliveryMetrics::unregistered(), None);
    for expected in ["timed out", "400"] {
        let err = d.attempt(&entry("retrain", 0)).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("T0PSECRET") && !err.contains("/hook"), "{err}");
        assert!(err.contains(&format!("http://{addr}/…")), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_entries_survive_a_dropped_dispatcher_and_are_delivered_once() {
    let (addr, state) = serve_webhooks(Receiver { failing: true, ..Receiver::default() }).await;
    let fx = Fixture::new();
    let hook = webhook(format!("http://{addr}/hook"), None, Duration::from_secs(5), 1000);
    let actions = vec![action("retrain", Target::Webhook(hook))];
    let entries: Vec<OutboxEntry> = (0..3).map(|seq| entry("retrain", seq)).collect();
    fx.outbox.enqueue(&entries).unwrap();

    let first = start(dispatcher(actions.clone(), &fx.outbox, DeliveryMetrics::unregistered(), None));
    wait_until("every entry was attempted", || {
        fx.outbox.pending().unwrap().iter().all(|p| p.attempts >= 1 && p.last_error.is_some())
    })
    .await;
    // A crash: the task is dropped mid-way, nothing is shut down in order.
    first.task.abort();
    let _ = first.task.await;
    state.lock().unwrap().failing = false;

    // The restarted daemon reopens the same file.
    let Fixture { _dir, path, outbox } = fx;
    drop(outbox);
    // The aborted tasks release their handles on the database as they unwind (a blocking
    // outbox write already started runs to its end): reopen once they are all gone.
    let reopening = Instant::now();
    let db = loop {
        match redb::Database::create(&path) {
            Ok(db) => break db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) if reopening.elapsed() < DEADLINE => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(e) => panic!("reopen the database: {e}"),
        }
    };
    let outbox = Outbox::new(Arc::new(db)).unwrap();
    assert_eq!(outbox.pending().unwrap().len(), 3);
    let second = start(dispatcher(actions, &outbox, DeliveryMetrics::unregistered(), None));
    wait_until("the entries are delivered", || outbox.pending().unwrap().is_empty()).await;
    second.stop().await;
    let r = state.lock().unwrap();
    assert_eq!(r.accepted.len(), 3);
    for e in &entries {
        assert_eq!(r.accepted[&e.key].len(), 1, "{} delivered once", e.key);
        assert!(outbox.was_sent(&e.key).unwrap());
    }
}

// ---------------------------------------------------------------- SMTP

/// The aiosmtpd server of `tests/actions/smtp_server.py`, killed on drop.
struct SmtpServer {
    child: Child,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A Python that imports aiosmtpd and cryptography: Debian's packages install them for the system interpreter,
/// which a pyenv or virtualenv `python3` earlier in PATH does not see.
fn aiosmtpd_python() -> String {
    let candidates =
        [std::env::var("DRIFTD_TEST_PYTHON").ok(), Some("/usr/bin/python3".into()), Some("python3".into())];
    candidates
        .into_iter()
        .flatten()
        .find(|python| {
            std::process::Command::new(python)
                .args(["-c", "import aiosmtpd, cryptography"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .expect("no python3 with aiosmtpd: apt-get install -y python3-aiosmtpd python3-cryptography")
}

async fn start_smtp(port: u16, out: &Path) -> SmtpServer {
    start_smtp_with(port, out, &[]).await
}

async fn start_smtp_with(port: u16, out: &Path, options: &[&str]) -> SmtpServer {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/actions/smtp_server.py");
    let mut child = std::process::Command::new(aiosmtpd_python())
        .arg(script)
        .arg(port.to_string())
        .arg(out)
        .args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = child.stdout.take().unwrap();
    let server = SmtpServer { child };
    // The line is read on a blocking thread so the deadline holds even if Python hangs.
    let ready = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    });
    let line = tokio::time::timeout(DEADLINE, ready).await.expect("aiosmtpd starts").unwrap().unwrap();
    assert_eq!(line.trim(), "ready", "aiosmtpd failed to start (is python3-aiosmtpd installed?)");
    server
}

fn smtp(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username_env: None,
        password_env: None,
        from: "driftd <driftd@example.com>".into(),
        timeout: Duration::from_secs(5),
        ca_file: None,
    }
}

fn email_action() -> Action {
    let subject = Template::parse(DEFAULT_SUBJECT, NOTIFICATION_VARIABLES, &[]).unwrap();
    action("oncall", Target::Email(Email { to: vec!["ml-oncall@example.com".into()], subject }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_has_subject_text_and_html_with_evidence() {
    let fx = Fixture::new();
    let mail = fx.dir().join("mail");
    std::fs::create_dir(&mail).unwrap();
    let port = free_port();
    let _server = start_smtp(port, &mail).await;
    let d = dispatcher(vec![email_action()], &fx.outbox, DeliveryMetrics::unregistered(), Some(smtp(port)));
    let e = entry("oncall", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("the email is delivered", || fx.outbox.was_sent(&e.key).unwrap()).await;
    running.stop().await;

    let got = common::smtp_messages(&mail);
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m["subject"], "[driftd] firing: psi_high on credit");
    assert_eq!(m["to"], json!(["ml-oncall@example.com"]));
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(m["idempotency_key"], e.key.as_str());
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("PSI 0.41 on income"), "{text}");
    assert!(text.contains("reference_version: 2026-11-01"), "{text}");
    let html = m["html"].as_str().unwrap();
    assert!(html.contains(">income</td>") && html.contains(">0.41</td>") && html.contains(">&gt; 0.25</td>"), "{html}");
    assert!(html.contains("Reference vs current") && html.contains("(-inf, 20000]"), "{html}");
    // 0.35 of the 240 px bar.
    assert!(html.contains("width=\"84\""), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_waits_for_the_smtp_server_and_is_delivered_once() {
    let fx = Fixture::new();
    let mail = fx.dir().join("mail");
    std::fs::create_dir(&mail).unwrap();
    let port = free_port();
    let metrics = DeliveryMetrics::unregistered();
    let d = dispatcher(vec![email_action()], &fx.outbox, metrics.clone(), Some(smtp(port)));
    let e = entry("oncall", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("two attempts failed", || fx.outbox.get(&e.key).unwrap().is_some_and(|p| p.attempts >= 2)).await;
    let error = fx.outbox.get(&e.key).unwrap().unwrap().last_error.unwrap();
    assert!(error.contains(&port.to_string()), "{error}");

    let _server = start_smtp(port, &mail).await;
    wait_until("the email is delivered", || fx.outbox.was_sent(&e.key).unwrap()).await;
    running.stop().await;
    assert_eq!(common::smtp_messages(&mail).len(), 1);
    assert!(metrics.outcome("oncall", "retry") >= 2);
    assert_eq!(metrics.outcome("oncall", "sent"), 1);
}

// ---------------------------------------------------------------- command and file

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_gets_json_on_stdin_and_context_in_env_and_is_retried_on_failure() {
    let fx = Fixture::new();
    let (marker, out) = (fx.dir().join("marker"), fx.dir().join("out.json"));
    // Fails the first time (exit 3), then saves its stdin and environment.
    let script = r#"if [ -e "$1" ]; then cat > "$2.tmp"; env | grep '^DRIFTD_' | sort > "$2.env"; mv "$2.tmp" "$2";
                    else touch "$1"; echo 'not yet' >&2; exit 3; fi"#;
    let argv = ["sh", "-c", script, "sh", marker.to_str().unwrap(), out.to_str().unwrap()].map(String::from).to_vec();
    let metrics = DeliveryMetrics::unregistered();
    let target = Target::Command(Command { argv, timeout: Duration::from_secs(10), env: Vec::new() });
    let d = dispatcher(vec![action("cmd", target)], &fx.outbox, metrics.clone(), None);
    let e = entry("cmd", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("the command succeeded", || fx.outbox.was_sent(&e.key).unwrap()).await;
    running.stop().await;

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["idempotency_key"], e.key.as_str());
    assert_eq!(doc["evidence"]["model_version"], "credit-v7");
    let env = std::fs::read_to_string(out.with_extension("json.env")).unwrap();
    for line in [
        "DRIFTD_RULE=psi_high",
        "DRIFTD_MONITOR=credit",
        "DRIFTD_STATUS=firing",
        "DRIFTD_ACTION_KIND=retrain",
        "DRIFTD_FEATURES=age,income",
        &format!("DRIFTD_IDEMPOTENCY_KEY={}", e.key),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing from\n{env}");
    }
    assert_eq!((metrics.outcome("cmd", "retry"), metrics.outcome("cmd", "sent")), (1, 1));
}

/// A command that writes 1 MB to stderr before it reads its input (more than any pipe holds)
/// is delivered, not deadlocked into a timeout; a failing one reports the start of its stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_writing_megabytes_to_stderr_before_reading_stdin_does_not_deadlock() {
    let fx = Fixture::new();
    let out = fx.dir().join("stdin.json");
    let script =
        r#"head -c 1000000 /dev/zero | tr '\0' x >&2; cat > "$1"; [ "$2" = ok ] || { echo failed >&2; exit 4; }"#;
    let run = |verdict: &str| {
        let argv = ["sh", "-c", script, "sh", out.to_str().unwrap(), verdict].map(String::from).to_vec();
        Target::Command(Command { argv, timeout: Duration::from_secs(20), env: Vec::new() })
    };
    let d = dispatcher(vec![action("chatty", run("ok"))], &fx.outbox, DeliveryMetrics::unregistered(), None);
    d.attempt(&entry("chatty", 0)).await.unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["evidence"]["model_version"], "credit-v7", "the whole document was read");

    let d = dispatcher(vec![action("chatty", run("fail"))], &fx.outbox, DeliveryMetrics::unregistered(), None);
    let err = d.attempt(&entry("chatty", 0)).await.unwrap_err().to_string();
    assert!(
        err.contains("exited with") && err.contains("xxxx") && !err.contains("timed out"),
        "{}",
        &err[..200.min(err.len())]
    );
    assert!(err.len() < 5000, "at most the first 4096 bytes of stderr are kept: {}", err.len());
}

/// The Kafka action's producer gets `kafka.properties` (TLS, SASL … as the consumers): a
/// property librdkafka refuses makes the producer fail to be created, naming the property —
/// without the properties the same action would simply try the (unreachable) broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_action_producers_take_the_configured_librdkafka_properties() {
    let fx = Fixture::new();
    let target = Target::Kafka(Kafka { topic: "alerts".into(), brokers: Some("127.0.0.1:1".into()) });
    let properties = BTreeMap::from([("compression.type".to_string(), "no-such-codec".to_string())]);
    let d = dispatcher(vec![action("k", target)], &fx.outbox, DeliveryMetrics::unregistered(), None)
        .with_kafka_properties(properties);
    let err = d.attempt(&entry("k", 0)).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string().contains("cannot create a Kafka producer") && err.to_string().contains("compression.type"),
        "{err}"
    );
}

/// driftd's own environment (its secrets) does not reach a command: only PATH, the action's
/// `env:` allow-list and the DRIFTD_* context.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_environment_is_cleared_but_for_path_the_allow_list_and_the_context() {
    std::env::set_var("DRIFTD_TEST_CMD_SECRET", "hunter2");
    std::env::set_var("DRIFTD_TEST_CMD_ALLOWED", "visible");
    let fx = Fixture::new();
    let out = fx.dir().join("env.txt");
    let argv = ["sh", "-c", r#"env > "$1""#, "sh", out.to_str().unwrap()].map(String::from).to_vec();
    let target = Target::Command(Command {
        argv,
        timeout: Duration::from_secs(10),
        env: vec!["DRIFTD_TEST_CMD_ALLOWED".into()],
    });
    let d = dispatcher(vec![action("cmd", target)], &fx.outbox, DeliveryMetrics::unregistered(), None);
    d.attempt(&entry("cmd", 0)).await.unwrap();
    let env = std::fs::read_to_string(&out).unwrap();
    assert!(!env.contains("hunter2"), "{env}");
    assert!(env.lines().any(|l| l == "DRIFTD_TEST_CMD_ALLOWED=visible"), "{env}");
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
    assert!(env.lines().any(|l| l == "DRIFTD_RULE=psi_high"), "{env}");
    let names: Vec<&str> = env.lines().filter_map(|l| l.split_once('=')).map(|(k, _)| k).collect();
    let unexpected: Vec<&&str> = names
        .iter()
        .filter(|k| !(k.starts_with("DRIFTD_") || ["PATH", "PWD", "SHLVL", "_", "OLDPWD"].contains(k)))
        .collect();
    assert!(unexpected.is_empty(), "variables from driftd's environment: {unexpected:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_timeout_kills_it_and_spent_attempts_are_failed() {
    let fx = Fixture::new();
    let argv = vec!["sleep".to_string(), "30".to_string()];
    let target = Target::Command(Command { argv, timeout: Duration::from_millis(200), env: Vec::new() });
    let actions: BTreeMap<String, Action> = [("slow".to_string(), action("slow", target))].into();
    let policy = RetryPolicy { default_max_attempts: 2, ..fast_policy() };
    let d = Dispatcher::new(actions, None, fx.outbox.clone(), DeliveryMetrics::unregistered(), None)
        .unwrap()
        .with_retry_policy(policy);
    let e = entry("slow", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let started = Instant::now();
    let running = start(d);
    wait_until("the entry failed", || !fx.outbox.failed().unwrap().is_empty()).await;
    running.stop().await;
    let failed = &fx.outbox.failed().unwrap()[0];
    assert_eq!((failed.attempts, failed.retryable), (2, true));
    assert!(failed.error.contains("timed out"), "{}", failed.error);
    assert!(started.elapsed() < Duration::from_secs(10), "the sleeps were killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_action_appends_one_json_line_per_notification() {
    let fx = Fixture::new();
    let path = fx.dir().join("alerts.jsonl");
    let d = dispatcher(
        vec![action("file", Target::File(File { path: path.clone() })), action("log", Target::Log(Log))],
        &fx.outbox,
        DeliveryMetrics::unregistered(),
        None,
    );
    let entries = vec![entry("file", 0), entry("file", 1), entry("log", 0)];
    fx.outbox.enqueue(&entries).unwrap();
    let running = start(d);
    wait_until("everything is delivered", || fx.outbox.pending().unwrap().is_empty()).await;
    running.stop().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let mut keys: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["idempotency_key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, [entries[0].key.clone(), entries[1].key.clone()]);
    assert!(fx.outbox.failed().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_action_and_missing_env_fail_permanently() {
    let fx = Fixture::new();
    let mut hook = webhook("http://127.0.0.1:9/hook".into(), None, Duration::from_secs(1), 10);
    hook.bearer_token_env = Some("DRIFTD_TEST_TOKEN_NEVER_SET".into());
    let d = dispatcher(vec![action("hook", Target::Webhook(hook))], &fx.outbox, DeliveryMetrics::unregistered(), None);
    let handle = d.actions_handle();
    fx.outbox.enqueue(&[entry("hook", 0), entry("gone", 0)]).unwrap();
    let running = start(d);
    wait_until("both failed", || fx.outbox.failed().unwrap().len() == 2).await;
    // A reload brings a working definition; a failed entry requeued by an operator is delivered.
    handle.reload(BTreeMap::from([("gone".to_string(), action("gone", Target::Log(Log)))]));
    assert!(fx.outbox.requeue_failed(&entry("gone", 0).key).unwrap());
    running.wake.notify_one();
    wait_until("the requeued entry is delivered", || fx.outbox.was_sent(&entry("gone", 0).key).unwrap()).await;
    running.stop().await;
    let failed = fx.outbox.failed().unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].error.contains("DRIFTD_TEST_TOKEN_NEVER_SET"), "{}", failed[0].error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_a_delivery_in_flight_keeps_the_entry_pending() {
    let (addr, state) = serve_webhooks(Receiver { script: VecDeque::from([Reply::Hang]), ..Receiver::default() }).await;
    let fx = Fixture::new();
    let hook = webhook(format!("http://{addr}/hook"), None, Duration::from_secs(60), 10);
    let actions: BTreeMap<String, Action> = [("retrain".to_string(), action("retrain", Target::Webhook(hook)))].into();
    let policy = RetryPolicy { shutdown_grace: Duration::from_millis(200), ..fast_policy() };
    let d = Dispatcher::new(actions, None, fx.outbox.clone(), DeliveryMetrics::unregistered(), None)
        .unwrap()
        .with_retry_policy(policy);
    let e = entry("retrain", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("the request is in flight", || state.lock().unwrap().requests.len() == 1).await;
    let stopping = Instant::now();
    running.stop().await;
    assert!(stopping.elapsed() < Duration::from_secs(10), "the grace period bounds the stop");
    let pending = fx.outbox.get(&e.key).unwrap().expect("still pending");
    assert_eq!(pending.attempts, 0);
    assert!(!fx.outbox.was_sent(&e.key).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_over_starttls_with_credentials_from_the_environment() {
    std::env::set_var("DRIFTD_TEST_SMTP_USER", "driftd");
    std::env::set_var("DRIFTD_TEST_SMTP_PASSWORD", "pw-from-env");
    let fx = Fixture::new();
    let mail = fx.dir().join("mail");
    std::fs::create_dir(&mail).unwrap();
    let port = free_port();
    let _server =
        start_smtp_with(port, &mail, &["--tls", "starttls", "--user", "driftd", "--password", "pw-from-env"]).await;
    let settings = SmtpSettings {
        tls: SmtpTls::Starttls,
        username_env: Some("DRIFTD_TEST_SMTP_USER".into()),
        password_env: Some("DRIFTD_TEST_SMTP_PASSWORD".into()),
        ca_file: Some(mail.join("ca.pem")),
        ..smtp(port)
    };
    // A rejected password is an SMTP 5xx: permanent, not retried.
    std::env::set_var("DRIFTD_TEST_SMTP_PASSWORD_BAD", "wrong");
    let wrong = SmtpSettings { password_env: Some("DRIFTD_TEST_SMTP_PASSWORD_BAD".into()), ..settings.clone() };
    let d = dispatcher(vec![email_action()], &fx.outbox, DeliveryMetrics::unregistered(), Some(wrong));
    let err = d.attempt(&entry("oncall", 9)).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");

    let d = dispatcher(vec![email_action()], &fx.outbox, DeliveryMetrics::unregistered(), Some(settings));
    let e = entry("oncall", 0);
    fx.outbox.enqueue(std::slice::from_ref(&e)).unwrap();
    let running = start(d);
    wait_until("the email is delivered", || {
        fx.outbox.was_sent(&e.key).unwrap() || !fx.outbox.failed().unwrap().is_empty()
    })
    .await;
    running.stop().await;
    assert!(fx.outbox.failed().unwrap().is_empty(), "{:?}", fx.outbox.failed().unwrap());
    let got = common::smtp_messages(&mail);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0]["tls"].as_bool(), got[0]["auth"].as_str()), (Some(true), Some("driftd")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_over_implicit_tls_and_an_untrusted_certificate() {
    let fx = Fixture::new();
    let mail = fx.dir().join("mail");
    std::fs::create_dir(&mail).unwrap();
    let port = free_port();
    let _server = start_smtp_with(port, &mail, &["--tls", "tls"]).await;
    let trusted = SmtpSettings { tls: SmtpTls::Tls, ca_file: Some(mail.join("ca.pem")), ..smtp(port) };
    // Without the CA the certificate is not trusted: the attempt fails (and is retried).
    let untrusted = SmtpSettings { tls: SmtpTls::Tls, ..smtp(port) };
    let d = dispatcher(vec![email_action()], &fx.outbox, DeliveryMetrics::unregistered(), Some(untrusted));
    let err = d.attempt(&entry("oncall", 0)).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(common::smtp_messages(&mail).is_empty());

    let d = dispatcher(vec![email_action()], &fx.outbox, DeliveryMetrics::unregistered(), Some(trusted));
    let e = entry("oncall", 0);
    d.attempt(&e).await.unwrap();
    let got = common::smtp_messages(&mail);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0]["tls"].as_bool(), got[0]["subject"].as_str()),
        (Some(true), Some("[driftd] firing: psi_high on credit"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_larger_than_the_concurrency_is_delivered_once_each() {
    // Every third request fails, so retries interleave with the backlog.
    let script = (0..60).map(|i| if i % 3 == 0 { Reply::Status(503) } else { Reply::Status(200) });
    let (addr, state) = serve_webhooks(Receiver { script: script.collect(), ..Receiver::default() }).await;
    let fx = Fixture::new();
    let hook = webhook(format!("http://{addr}/hook"), None, Duration::from_secs(5), 10);
    let actions: BTreeMap<String, Action> = [("retrain".to_string(), action("retrain", Target::Webhook(hook)))].into();
    let policy = RetryPolicy { concurrency: 2, ..fast_policy() };
    let metrics = DeliveryMetrics::unregistered();
    let d = Dispatcher::new(actions, None, fx.outbox.clone(), metrics.clone(), None).unwrap().with_retry_policy(policy);
    let entries: Vec<OutboxEntry> = (0..40).map(|seq| entry("retrain", seq)).collect();
    fx.outbox.enqueue(&entries).unwrap();
    let running = start(d);
    wait_until("the backlog is delivered", || fx.outbox.pending().unwrap().is_empty()).await;
    running.stop().await;
    let r = state.lock().unwrap();
    assert_eq!(r.accepted.len(), 40);
    assert!(r.accepted.values().all(|docs| docs.len() == 1), "each key accepted once");
    assert_eq!(r.requests.iter().filter(|q| q.2 == 200).count(), 40, "no request beyond the retries");
    assert_eq!(metrics.outcome("retrain", "sent"), 40);
    assert!(fx.outbox.failed().unwrap().is_empty());
}
