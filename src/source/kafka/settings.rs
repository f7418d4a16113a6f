//! A Kafka source's settings as the configuration resolved them (`config::load` builds this
//! from the `source: {kafka: …}` block). Owned here, by the source that uses them, so the
//! source depends on nothing of `config`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::source::format::FormatSpec;

/// Where a Kafka consumer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartPosition {
    Committed,
    Earliest,
    Latest,
}

/// A Kafka topic, with everything needed to consume it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSourceConfig {
    /// Bootstrap brokers (the source's, else `kafka.brokers`), `host:port[,host:port…]`.
    pub brokers: String,
    pub topic: String,
    /// The source's group id, or `driftd-<monitor>-<stream>`.
    pub group_id: String,
    pub start: StartPosition,
    /// Static membership: `<kafka.instance_id>-<monitor>-<stream>`, when `instance_id` is set.
    pub group_instance_id: Option<String>,
    /// `kafka.properties` overridden by the source's own, for librdkafka as they are. Never
    /// contains `bootstrap.servers`, `group.id` or `enable.auto.commit`.
    pub properties: BTreeMap<String, String>,
    /// The message format and where its schema comes from (JSON by default).
    pub format: Box<FormatSpec>,
}
