//! The `kafka` action against a real Kafka-protocol broker (tansu 0.6, started by the test as
//! in `tests/kafka.rs`, tests/common/kafka.rs): the document is produced keyed by monitor, with the idempotency key
//! as a header, once.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kafka::Broker;

use driftd::actions::{DeliveryMetrics, Dispatcher, Kafka, Outbox, OutboxEntry, RetryPolicy, Target};
use driftd::record::Stream;
use driftd::rules::{Action, ActionKind, Notification, NotificationStatus, Severity};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(60);

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
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    broker.create_topic("driftd-events", 1);
    let db = redb::Database::create(dir.path().join("state.redb")).unwrap();
    let outbox = Outbox::new(Arc::new(db)).unwrap();
    // No brokers on the action: the daemon's default brokers apply.
    let target = Target::Kafka(Kafka { topic: "driftd-events".into(), brokers: None });
    let action = Action { name: "events".into(), kind: ActionKind::Retrain, cooldown: None, target };
    let policy =
        RetryPolicy { base: Duration::from_millis(100), max: Duration::from_secs(1), ..RetryPolicy::default() };
    let dispatcher = Dispatcher::new(
        [("events".to_string(), action)].into(),
        None,
        outbox.clone(),
        DeliveryMetrics::unregistered(),
        Some(broker.address()),
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

    let address = broker.address();
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
