//! The `kafka` action against a real Kafka-protocol broker (tansu 0.6, started by the test as
//! in `tests/kafka.rs`): the document is produced keyed by monitor, with the idempotency key
//! as a header, once.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use driftd::actions::{DeliveryMetrics, Dispatcher, Outbox, OutboxEntry, RetryPolicy};
use driftd::record::Stream;
use driftd::rules::{Action, ActionKind, Notification, NotificationStatus, Severity, Target};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(60);

/// The tansu binary: `$TANSU`, else `tansu` on the PATH or in ~/.cargo/bin.
fn tansu() -> PathBuf {
    if let Some(path) = std::env::var_os("TANSU") {
        return path.into();
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin")))
        .map(|dir| dir.join("tansu"))
        .find(|p| p.is_file())
        .expect("the Kafka tests need tansu 0.6 (bash .ci/run installs it), or set TANSU")
}

/// A tansu broker with in-memory storage on a free port, killed when dropped.
struct Broker {
    address: String,
    child: Child,
}

impl Broker {
    fn start() -> Broker {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let child = Command::new(tansu())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tansu");
        let broker = Broker { address, child };
        let start = Instant::now();
        while TcpStream::connect(&broker.address).is_err() {
            assert!(start.elapsed() < DEADLINE, "tansu did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        broker
    }

    fn create_topic(&self, name: &str) {
        let status = Command::new(tansu())
            .args(["topic", "create", "--broker", &format!("tcp://{}", self.address), "--partitions", "1", name])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "tansu topic create {name}");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notification() -> Notification {
    Notification {
        action: "events".into(),
        action_kind: ActionKind::Retrain,
        rule: "psi_high".into(),
        monitor: "credit".into(),
        stream: Stream::Inputs,
        severity: Severity::Warning,
        group: Default::default(),
        group_key: "credit,psi_high".into(),
        status: NotificationStatus::Firing,
        episode: 2,
        seq: 0,
        idempotency_key: "events/psi_high/credit/credit,psi_high/2/0".into(),
        window_start_ms: 0,
        window_end_ms: 3_600_000,
        window_events: 10,
        alerts: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_action_produces_the_document_keyed_by_monitor() {
    let broker = Broker::start();
    broker.create_topic("driftd-events");
    let dir = tempfile::tempdir().unwrap();
    let db = redb::Database::create(dir.path().join("state.redb")).unwrap();
    let outbox = Outbox::new(Arc::new(db)).unwrap();
    // No brokers on the action: the daemon's default brokers apply.
    let target = Target::Kafka { topic: "driftd-events".into(), brokers: None };
    let action = Action { name: "events".into(), kind: ActionKind::Retrain, cooldown: None, target };
    let policy =
        RetryPolicy { base: Duration::from_millis(100), max: Duration::from_secs(1), ..RetryPolicy::default() };
    let dispatcher = Dispatcher::new(
        [("events".to_string(), action)].into(),
        None,
        outbox.clone(),
        DeliveryMetrics::unregistered(),
        Some(broker.address.clone()),
    )
    .unwrap()
    .with_retry_policy(policy);
    let entry = OutboxEntry::new(notification(), json!({"model_version": "v3"}), 0);
    outbox.enqueue(std::slice::from_ref(&entry)).unwrap();
    let (wake, stop) = (Arc::new(Notify::new()), CancellationToken::new());
    let task = tokio::spawn(dispatcher.run(wake, stop.clone()));
    let start = Instant::now();
    while !outbox.was_sent(&entry.key).unwrap() {
        assert!(start.elapsed() < DEADLINE, "not delivered: {:?} {:?}", outbox.get(&entry.key), outbox.failed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    task.await.unwrap();

    let address = broker.address.clone();
    let messages = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &address)
            .set("group.id", "actions-test")
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("driftd-events", 0, Offset::Beginning).unwrap();
        consumer.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let start = Instant::now();
        // One message is expected; keep reading a little after it to see no second one.
        let mut quiet_since: Option<Instant> = None;
        while start.elapsed() < DEADLINE && quiet_since.is_none_or(|t| t.elapsed() < Duration::from_secs(1)) {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
                    let payload: Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
                    let header = m
                        .headers()
                        .and_then(|h| h.iter().find(|h| h.key == "idempotency-key"))
                        .and_then(|h| h.value.map(|v| String::from_utf8(v.to_vec()).unwrap()));
                    out.push((key, payload, header));
                    quiet_since = Some(Instant::now());
                }
                Some(Err(e)) => panic!("consume: {e}"),
                None => {}
            }
        }
        out
    })
    .await
    .unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (key, payload, header) = &messages[0];
    assert_eq!(key, "credit");
    assert_eq!(header.as_deref(), Some(entry.key.as_str()));
    assert_eq!(payload["idempotency_key"], entry.key.as_str());
    assert_eq!(payload["evidence"]["model_version"], "v3");
}
