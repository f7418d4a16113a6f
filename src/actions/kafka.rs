//! Kafka delivery: the JSON document produced to the action's topic, keyed by monitor (so one
//! monitor's events stay in order on one partition), with the idempotency key as a header.
//!
//! One producer per broker list, created on first use and kept. A producer that cannot be
//! created (bad configuration) is a permanent error; a message not acknowledged within the
//! timeout is retryable.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use super::document::document_bytes;
use super::outbox::OutboxEntry;
use super::DeliveryError;

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

    pub(crate) async fn deliver(&self, brokers: &str, topic: &str, entry: &OutboxEntry) -> Result<(), DeliveryError> {
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
