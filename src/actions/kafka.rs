//! The `kafka` action: its settings (`topic`, `brokers`), their validation, and delivery of
//! the JSON document to the topic, keyed by monitor (one monitor's events stay in order on one
//! partition), with the idempotency key as a header. One producer per broker list, kept; a
//! producer that cannot be created is a permanent error, an unacknowledged message retryable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::document::document_bytes;
use super::outbox::OutboxEntry;
use super::DeliveryError;
use crate::config::KeyPath;
use crate::notification::Checker;

/// `kafka:`
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaDoc {
    pub topic: String,
    /// `host:port[,host:port…]`. Default: the main configuration's `kafka.brokers`.
    pub brokers: Option<String>,
}

/// A `kafka` action, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Kafka {
    pub topic: String,
    /// `None`: the main configuration's `kafka.brokers`.
    pub brokers: Option<String>,
}

impl KafkaDoc {
    /// The validated settings; problems are reported below `path` (the action's `kafka`).
    pub(crate) fn validate(self, checker: &mut Checker<'_>, path: &KeyPath) -> Kafka {
        if self.topic.trim().is_empty() {
            checker.error(&path.key("topic"), "the topic is empty");
        }
        if let Some(brokers) = &self.brokers {
            if brokers
                .split(',')
                .any(|b| b.trim().rsplit_once(':').is_none_or(|(h, port)| h.is_empty() || port.parse::<u16>().is_err()))
            {
                checker.error(&path.key("brokers"), format!("{brokers:?}: expected host:port[,host:port…]"));
            }
        }
        Kafka { topic: self.topic, brokers: self.brokers }
    }
}

impl Kafka {
    /// One attempt, to the action's brokers or else the daemon's.
    pub(crate) async fn deliver(
        &self,
        producers: &Producers,
        default_brokers: Option<&str>,
        entry: &OutboxEntry,
    ) -> Result<(), DeliveryError> {
        let Some(brokers) = self.brokers.as_deref().or(default_brokers) else {
            return Err(DeliveryError::permanent("Kafka action without brokers (and no kafka.brokers)"));
        };
        producers.deliver(brokers, &self.topic, entry).await
    }
}

/// How long librdkafka may try to deliver one message (one attempt of the dispatcher).
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Default)]
pub(crate) struct Producers {
    by_brokers: Mutex<HashMap<String, FutureProducer>>,
    /// `kafka.properties` (TLS, SASL …), as the consumers get them.
    properties: std::collections::BTreeMap<String, String>,
}

impl Producers {
    fn get(&self, brokers: &str) -> Result<FutureProducer, DeliveryError> {
        let mut map = self.by_brokers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get(brokers) {
            return Ok(p.clone());
        }
        let mut config = ClientConfig::new();
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        let producer: FutureProducer = config
            .set("bootstrap.servers", brokers)
            .set("message.timeout.ms", MESSAGE_TIMEOUT.as_millis().to_string())
            .create()
            .map_err(|e| DeliveryError::permanent(format!("cannot create a Kafka producer for {brokers}: {e}")))?;
        map.insert(brokers.to_string(), producer.clone());
        Ok(producer)
    }

    /// Producers created with these librdkafka properties (driftd's own settings win).
    pub(crate) fn with_properties(properties: std::collections::BTreeMap<String, String>) -> Producers {
        Producers { by_brokers: Mutex::default(), properties }
    }

    async fn deliver(&self, brokers: &str, topic: &str, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let producer = self.get(brokers)?;
        let payload = document_bytes(entry);
        let headers = OwnedHeaders::new().insert(Header { key: "idempotency-key", value: Some(entry.key.as_bytes()) });
        let record =
            FutureRecord::to(topic).key(entry.notification.monitor.as_bytes()).payload(&payload).headers(headers);
        match producer.send(record, MESSAGE_TIMEOUT).await {
            Ok(_) => Ok(()),
            Err((e, _)) => Err(DeliveryError::retryable(format!("Kafka produce to {topic} at {brokers}: {e}"))),
        }
    }
}
