//! The whole product against real peers: drifted traffic on a real Kafka-protocol broker
//! (tansu) → `driftd run` → alert rules → exactly one email on a real SMTP server (aiosmtpd,
//! tests/actions/smtp_server.py) and exactly one signed retraining webhook on a real HTTP
//! server (axum, in this test), both carrying the evidence; and nothing at all for a second
//! monitor whose traffic does not drift.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::kafka::{setup, traffic, Broker};
use common::{get, repo, wait_until, Daemon, TEST_DEADLINE};
use serde_json::Value;

/// A received webhook: its headers (lower-case names) and body, and the status answered.
type Received = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// An HTTP server on 127.0.0.1:0 recording every POST that it answers 200; runs on its own
/// thread and runtime until the test process ends.
fn webhook_receiver() -> (String, Received) {
    let (addr, received, _) = webhook_receiver_answering(200);
    (addr, received)
}

/// As [`webhook_receiver`], answering the status in the returned cell (POSTs answered with
/// another status are not recorded).
fn webhook_receiver_answering(status: u16) -> (String, Received, Arc<std::sync::atomic::AtomicU16>) {
    let received: Received = Arc::default();
    let answer = Arc::new(std::sync::atomic::AtomicU16::new(status));
    let (tx, rx) = std::sync::mpsc::channel();
    let store = received.clone();
    let answer_of = answer.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().to_string()).unwrap();
            let app = axum::Router::new().route(
                "/retrain",
                axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                    let (store, answer) = (store.clone(), answer_of.clone());
                    async move {
                        let status = answer.load(std::sync::atomic::Ordering::SeqCst);
                        if status == 200 {
                            let headers = headers
                                .iter()
                                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect();
                            store.lock().unwrap().push((headers, body));
                        }
                        axum::http::StatusCode::from_u16(status).unwrap()
                    }
                }),
            );
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv_timeout(Duration::from_secs(10)).unwrap(), received, answer)
}

/// aiosmtpd writing each message as JSON into `out`; killed on drop.
struct Smtp {
    child: Child,
    port: u16,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp(out: &Path) -> Smtp {
    let python = [std::env::var("DRIFTD_TEST_PYTHON").ok(), Some("/usr/bin/python3".into()), Some("python3".into())]
        .into_iter()
        .flatten()
        .find(|p| {
            Command::new(p).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
        })
        .expect("no python3 with aiosmtpd: apt-get install -y python3-aiosmtpd python3-cryptography");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(python)
        .arg(repo().join("tests/actions/smtp_server.py"))
        .arg(port.to_string())
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    Smtp { child, port }
}

fn config(dir: &Path, broker: &Broker, drifted: &str, stable: &str, smtp: u16, webhook: &str) -> std::path::PathBuf {
    let reference = repo().join("examples/data/credit_reference.csv");
    let monitor = |name: &str, topic: &str| {
        format!(
            r#"
  - name: {name}
    reference:
      dataset: {{ path: {reference}, predictions: [score] }}
    window: {{ kind: tumbling, size: 1h, allowed_lateness: 1m, idle_timeout: 0s }}
    streams:
      inputs:
        source:
          kafka: {{ topic: {topic}, group_id: driftd-{name}, start: earliest }}
        event_time: {{ field: /ts, format: rfc3339 }}
        features: "*""#,
            reference = reference.display()
        )
    };
    let text = format!(
        "http: {{ listen: 127.0.0.1:0 }}\nstate: {{ path: state }}\nkafka:\n  brokers: {}\nrules: [rules.yaml]\n\
         smtp: {{ host: 127.0.0.1, port: {smtp}, tls: none, from: driftd@example.com }}\nmonitors:{}{}\n",
        broker.address(),
        monitor("credit-scoring", drifted),
        monitor("credit-stable", stable)
    );
    let rules = format!(
        r#"
rules:
  - name: input_drift
    monitor: credit-scoring
    stream: inputs
    when: {{ stat: psi, op: ">", value: 0.25 }}
    clear_when: {{ op: "<", value: 0.1 }}
    min_samples: 100
    for: 2 windows
    severity: critical
    annotations:
      summary: "PSI {{{{ value }}}} on {{{{ feature }}}}"
    actions: [oncall, retrain]
  - name: stable_drift
    monitor: credit-stable
    stream: inputs
    when: {{ stat: psi, op: ">", value: 0.25 }}
    min_samples: 100
    for: 2 windows
    actions: [oncall, retrain]
actions:
  - name: oncall
    email: {{ to: [ml-oncall@example.com] }}
  - name: retrain
    kind: retrain
    cooldown: 24h
    webhook:
      url: http://{webhook}/retrain
      secret_env: E2E_RETRAIN_KEY
      timeout: 5s
"#
    );
    std::fs::write(dir.join("rules.yaml"), rules).unwrap();
    let path = dir.join("driftd.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn drifted_traffic_sends_one_email_and_one_retraining_webhook_with_the_evidence() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let (dir, broker, topics) = setup("e2e-alerts", 1);
    let stable_topic = "e2e-alerts-stable";
    broker.create_topic(stable_topic, 1);
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(&mail).unwrap();
    let smtp = start_smtp(&mail);
    let (webhook, received) = webhook_receiver();
    let config = config(dir.path(), &broker, &topics.inputs, stable_topic, smtp.port, &webhook);

    let as_messages =
        |lines: Vec<String>| -> Vec<(i32, Vec<u8>)> { lines.into_iter().map(|l| (0, l.into_bytes())).collect() };
    // Drift from noon on the first monitor's topic (hours 8–18); hours 0–10 on the other.
    broker.produce(&topics.inputs, &as_messages(traffic("inputs", 8.0, 18.0)));
    broker.produce(stable_topic, &as_messages(traffic("inputs", 0.0, 10.0)));

    let mut daemon = Daemon::start_with_env(&config, &[], &[("E2E_RETRAIN_KEY", "s3cret")]);
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    wait_until(deadline, "both monitors' windows closed", || {
        let status: Value = serde_json::from_str(&get(&addr, "/api/v1/monitors").1).ok()?;
        let closed: Vec<u64> = status["monitors"]
            .as_array()?
            .iter()
            .map(|m| m["streams"][0]["windows_closed"].as_u64().unwrap_or(0))
            .collect();
        (closed == [9, 9]).then_some(())
    });
    wait_until(deadline, "one email and one webhook", || {
        (common::smtp_messages(&mail).len() == 1 && received.lock().unwrap().len() == 1).then_some(())
    });
    // The outbox empties: nothing pending, nothing failed. (A delivery is removed from the
    // outbox after the peer has it, so the email can be on disk a moment before.)
    wait_until(deadline, "an empty outbox", || {
        let outbox: Value = serde_json::from_str(&get(&addr, "/api/v1/notifications").1).ok()?;
        let empty = serde_json::json!([]);
        (outbox["pending"] == empty && outbox["failed"] == empty && outbox["pending_total"] == 0).then_some(())
    });
    assert_eq!(common::smtp_messages(&mail).len(), 1, "one email, not more");
    let (status, _) = common::request(&addr, "POST", "/api/v1/notifications/failed?key=nope");
    assert_eq!(status, 404);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));

    // Exactly one of each (the dispatcher had drained when it stopped), none for the stable monitor.
    let emails = common::smtp_messages(&mail);
    assert_eq!(emails.len(), 1, "{emails:#?}");
    let email = &emails[0];
    assert_eq!(email["to"], serde_json::json!(["ml-oncall@example.com"]));
    let subject = email["subject"].as_str().unwrap();
    assert!(subject.contains("input_drift") && subject.contains("credit-scoring"), "{subject}");
    let html = email["html"].as_str().unwrap();
    assert!(html.contains("income") && html.contains("loan_purpose"), "{html}");
    assert!(!subject.contains("credit-stable"));

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["monitor"], "credit-scoring", "{payload:#}");
    assert_eq!(payload["rule"], "input_drift");
    let evidence = &payload["evidence"];
    assert_eq!(evidence["window"]["start"], "2026-11-01T13:00:00Z", "{evidence:#}");
    assert_eq!(evidence["window"]["first"]["kafka"]["topic"], topics.inputs.as_str(), "{evidence:#}");
    let loan = evidence["top_features"].as_array().unwrap().iter().find(|f| f["feature"] == "loan_purpose").unwrap();
    // Per-bin evidence: the contributions add up to the PSI.
    let bins = loan["bins"].as_array().unwrap();
    assert!(bins.len() >= 2, "{loan:#}");
    let total: f64 = bins.iter().map(|b| b["contribution"].as_f64().unwrap()).sum();
    let psi = loan["statistics"]["psi"].as_f64().unwrap();
    assert!((total - psi).abs() < 1e-12 * psi.max(1.0), "{total} vs {psi}");
    assert!(html.contains(bins[0]["label"].as_str().unwrap()), "the email's chart names the bins");
    assert_eq!(header("idempotency-key").as_deref(), payload["idempotency_key"].as_str());
    let expected = driftd::actions::sign(b"s3cret", body.as_bytes());
    assert_eq!(header("x-driftd-signature"), Some(expected));
}

#[test]
fn kill_9_with_a_notification_pending_delivers_it_once_after_the_restart() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = common::quickstart_config(dir.path(), "127.0.0.1:0");
    let (webhook, received, answer) = webhook_receiver_answering(503);
    // The quick start's rules, with the retraining trigger sent to the receiver.
    let rules = std::fs::read_to_string(dir.path().join("rules.yaml")).unwrap().replace(
        "    file: { path: driftd-state/retrain.jsonl }",
        &format!("    webhook: {{ url: 'http://{webhook}/retrain', timeout: 2s }}"),
    );
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();

    // The receiver is down (503): the trigger stays in the outbox, retried with backoff.
    let mut first = Daemon::start(&config, &["--serve-after-exhausted"]);
    let addr = first.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    wait_until(deadline, "a failed attempt of the trigger", || {
        let (_, metrics) = get(&addr, "/metrics");
        let retries = metrics
            .lines()
            .find(|l| l.starts_with(r#"driftd_notifications_total{action="retrain",outcome="retry"}"#))?;
        (retries.split_whitespace().last()?.parse::<f64>().ok()? >= 1.0).then_some(())
    });
    let outbox: Value = serde_json::from_str(&get(&addr, "/api/v1/notifications").1).unwrap();
    let pending: Vec<&Value> =
        outbox["pending"].as_array().unwrap().iter().filter(|p| p["action"] == "retrain").collect();
    assert_eq!(pending.len(), 1, "{outbox:#}");
    let key = pending[0]["key"].as_str().unwrap().to_string();
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));

    // Back up: the restart delivers it, once, with the same idempotency key.
    answer.store(200, std::sync::atomic::Ordering::SeqCst);
    let mut second = Daemon::start(&config, &[]);
    assert_eq!(second.wait_exit(TEST_DEADLINE), Some(0), "{}", second.rest().join("\n"));
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:#?}");
    let (headers, _) = &received[0];
    assert!(headers.iter().any(|(k, v)| k == "idempotency-key" && *v == key), "{headers:?}");
}
