//! Checks and resolution of a monitor's streams: sources, event time, features, prediction,
//! dead-letter topics and message sizes, with their defaults. Everything checked is listed
//! on `Checker::inputs` and in docs/config.md, "Validation".

use std::collections::BTreeMap;

use super::error::KeyPath;
use super::model::*;
use super::schema;
use super::validate::{Checker, StreamContext, DEFAULT_MAX_MESSAGE_BYTES};
use crate::dataset::Format;
use crate::record::Stream;

/// librdkafka properties driftd sets itself, and what to use instead.
const MANAGED_PROPERTIES: [(&str, &str); 5] = [
    ("bootstrap.servers", "use `brokers`"),
    ("metadata.broker.list", "use `brokers`"),
    ("group.id", "use `group_id`"),
    ("group.instance.id", "use `kafka.instance_id` (each stream's consumer needs its own member id)"),
    ("enable.auto.commit", "driftd commits offsets itself, after each checkpoint"),
];

/// Largest accepted `max_message_bytes`.
const MAX_MESSAGE_BYTES_LIMIT: u64 = 1 << 30;
/// Largest accepted `max_features`: past this a stream is a key-value store, not features.
const MAX_FEATURES_LIMIT: u64 = 100_000;

/// The parts shared by both stream kinds, resolved.
struct Common {
    source: SourceConfig,
    event_time: EventTimeConfig,
    dead_letter_topic: Option<String>,
    max_message_bytes: usize,
}

impl Checker<'_> {
    /// Check and resolve an `inputs` stream (and, through the shared parts, a `predictions`
    /// one). Checked for streams: a Kafka source has brokers (its own or `kafka.brokers`), each
    /// `host:port`; topic and dead-letter topic names are valid Kafka topic names; librdkafka
    /// properties do not set what driftd manages (`bootstrap.servers`, `group.id`,
    /// `enable.auto.commit`) and take passwords and secrets from the environment; a file
    /// source's file exists and is JSON Lines, CSV or Parquet; `kafka_timestamp` only for Kafka;
    /// time windows only on streams with an event time; JSON pointers are RFC 6901 pointers;
    /// feature names are unique and not empty; `classes` exactly for `probabilities`, unique;
    /// dead-letter topics only for Kafka; `max_message_bytes` from 1 byte to 1 GiB.
    pub(super) fn inputs(&mut self, path: &KeyPath, s: schema::InputsStream, cx: &StreamContext<'_>) -> StreamConfig {
        let common =
            self.common(path, Stream::Inputs, &s.source, s.event_time, s.dead_letter_topic, s.max_message_bytes, cx);
        let tabular = matches!(&common.source, SourceConfig::File(f) if f.format != Format::JsonLines);
        let features = self.features(&path.key("features"), s.features.unwrap_or(schema::Features::All), tabular);
        let max_features = s.max_features.unwrap_or(super::model::DEFAULT_MAX_FEATURES as u64);
        if !(1..=MAX_FEATURES_LIMIT).contains(&max_features) {
            self.error(&path.key("max_features"), format!("must be from 1 to {MAX_FEATURES_LIMIT}"));
        }
        let mut stream = self.stream(common, StreamValues::Features(features));
        stream.max_features = usize::try_from(max_features).unwrap_or(usize::MAX);
        stream
    }

    pub(super) fn predictions(
        &mut self,
        path: &KeyPath,
        s: schema::PredictionsStream,
        cx: &StreamContext<'_>,
    ) -> StreamConfig {
        let common = self.common(
            path,
            Stream::Predictions,
            &s.source,
            s.event_time,
            s.dead_letter_topic,
            s.max_message_bytes,
            cx,
        );
        let at = path.key("prediction");
        self.pointer(&at.key("pointer"), &s.prediction.pointer, false);
        let kind = s.prediction.kind.unwrap_or(PredictionKind::Score);
        let classes = s.prediction.classes.unwrap_or_default();
        let kind_ok = !self.has_problem(&at.key("kind"));
        match (kind, classes.is_empty()) {
            _ if !kind_ok => {}
            (PredictionKind::Probabilities, true) => {
                self.error(&at, "`probabilities` needs `classes`: the class of each element of the array, in order")
            }
            (PredictionKind::Probabilities, false) => {
                for (i, class) in classes.iter().enumerate() {
                    if class.is_empty() {
                        self.error(&at.key("classes").index(i), "the class name is empty");
                    } else if classes[..i].contains(class) {
                        self.error(&at.key("classes").index(i), format!("class {class:?} is listed twice"));
                    }
                }
            }
            (_, false) => self.error(&at.key("classes"), "`classes` applies to `kind: probabilities` only"),
            (_, true) => {}
        }
        let prediction = PredictionConfig { pointer: s.prediction.pointer, kind, classes };
        if let Some(key) = &s.key {
            self.pointer(&path.key("key"), key, false);
        }
        let mut stream = self.stream(common, StreamValues::Prediction(prediction));
        stream.key = s.key;
        stream
    }

    /// Check and resolve a `labels` stream: the shared parts as for `inputs`; `key` and `label`
    /// are JSON pointers; a time window (the join is by event time); `threshold` finite,
    /// classification only; `retention` a duration > 0; `max_pending` and
    /// `max_pairs_per_window` ≥ 1; `publish_at` and a `rules_at` share in (0, 1].
    /// `prediction` is how the predictions stream's value is used (its `kind`).
    pub(super) fn labels(
        &mut self,
        path: &KeyPath,
        s: schema::LabelsStream,
        cx: &StreamContext<'_>,
        prediction: crate::labels::PredictionUse,
    ) -> StreamConfig {
        use crate::labels::{JoinSettings, RulesAt, Task};
        let common =
            self.common(path, Stream::Labels, &s.source, s.event_time, s.dead_letter_topic, s.max_message_bytes, cx);
        self.pointer(&path.key("key"), &s.key, false);
        self.pointer(&path.key("label"), &s.label, false);
        if matches!(cx.window, Some(WindowConfig { size: WindowSize::Events(_), .. })) {
            self.error(path, "labels are joined to predictions by event time: the monitor needs a time window");
        }
        let task = match s.task.unwrap_or(schema::LabelTask::Classification) {
            schema::LabelTask::Classification => {
                let threshold = s.threshold.unwrap_or(crate::stats::performance::DEFAULT_THRESHOLD);
                if !threshold.is_finite() {
                    self.error(&path.key("threshold"), "must be a finite number");
                }
                Task::Classification { threshold }
            }
            schema::LabelTask::Regression => {
                if s.threshold.is_some() {
                    self.error(&path.key("threshold"), "`threshold` applies to `task: classification` only");
                }
                Task::Regression
            }
        };
        let retention = match s.retention.as_deref().map(super::duration::parse_duration) {
            None => crate::labels::DEFAULT_RETENTION_MS,
            Some(Ok(d)) if !d.is_zero() => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Some(Ok(_)) => {
                self.error(&path.key("retention"), "must be longer than 0");
                1
            }
            Some(Err(message)) => {
                self.error(&path.key("retention"), message);
                1
            }
        };
        let mut count = |key: &str, value: Option<u64>, default: usize| match value {
            None => default,
            Some(0) => {
                self.error(&path.key(key), "must be at least 1");
                default
            }
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let max_pending = count("max_pending", s.max_pending, crate::labels::DEFAULT_MAX_PENDING);
        let max_pairs =
            count("max_pairs_per_window", s.max_pairs_per_window, crate::labels::DEFAULT_MAX_PAIRS_PER_WINDOW);
        let mut publish_at = s.publish_at.unwrap_or_default();
        for (i, share) in publish_at.iter().enumerate() {
            if !(*share > 0.0 && *share <= 1.0) {
                self.error(&path.key("publish_at").index(i), "a labelled share must be in (0, 1]");
            }
        }
        publish_at.sort_by(f64::total_cmp);
        publish_at.dedup();
        let rules_at = match s.rules_at {
            None | Some(schema::RulesAt::Word(schema::RulesAtWord::Final)) => RulesAt::Final,
            Some(schema::RulesAt::Share(share)) => {
                if !(share > 0.0 && share <= 1.0) {
                    self.error(&path.key("rules_at"), "`final` or a labelled share in (0, 1]");
                }
                RulesAt::Share(share)
            }
        };
        let settings = JoinSettings {
            task,
            prediction,
            retention_ms: retention,
            max_pending,
            max_pairs_per_window: max_pairs,
            publish_at,
            rules_at,
        };
        let mut stream =
            self.stream(common, StreamValues::Label(super::model::LabelConfig { pointer: s.label, settings }));
        stream.key = Some(s.key);
        stream
    }

    fn stream(&mut self, common: Common, values: StreamValues) -> StreamConfig {
        StreamConfig {
            source: common.source,
            event_time: common.event_time,
            values,
            dead_letter_topic: common.dead_letter_topic,
            max_message_bytes: common.max_message_bytes,
            max_features: super::model::DEFAULT_MAX_FEATURES,
            key: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn common(
        &mut self,
        path: &KeyPath,
        stream: Stream,
        source: &schema::Source,
        event_time: Option<schema::EventTime>,
        dead_letter_topic: Option<String>,
        max_message_bytes: Option<u64>,
        cx: &StreamContext<'_>,
    ) -> Common {
        let source_ok = !self.has_problem(&path.key("source"));
        let source = self.source(&path.key("source"), source, stream, cx);
        let is_kafka = matches!(source, SourceConfig::Kafka(_));
        let time_path = path.key("event_time");
        let event_time = match event_time {
            None if is_kafka => EventTimeConfig::KafkaTimestamp,
            None => EventTimeConfig::None,
            Some(schema::EventTime::KafkaTimestamp) => {
                if !is_kafka && source_ok {
                    self.error(
                        &time_path,
                        "only Kafka messages have a timestamp: name a field, `{field: /ts, format: rfc3339}`",
                    );
                }
                EventTimeConfig::KafkaTimestamp
            }
            Some(schema::EventTime::Field(field)) => {
                self.pointer(&time_path.key("field"), &field.field, false);
                EventTimeConfig::Field { pointer: field.field, format: field.format.unwrap_or(TimeFormat::Rfc3339) }
            }
        };
        if event_time == EventTimeConfig::None
            && source_ok
            && matches!(cx.window, Some(WindowConfig { size: WindowSize::Time(_), .. }))
        {
            self.error(
                &path.key("source"),
                "time windows need an event time, and file sources have none of their own: add `event_time: {field: /COLUMN, format: …}` or count events (`size: 10000 events`)",
            );
        }
        if let Some(topic) = &dead_letter_topic {
            let at = path.key("dead_letter_topic");
            if is_kafka {
                self.topic(&at, topic);
            } else if source_ok {
                self.error(&at, "dead-letter topics apply to Kafka sources only");
            }
        }
        let max = max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES);
        if !(1..=MAX_MESSAGE_BYTES_LIMIT).contains(&max) {
            self.error(&path.key("max_message_bytes"), format!("must be from 1 to {MAX_MESSAGE_BYTES_LIMIT} (1 GiB)"));
        }
        Common { source, event_time, dead_letter_topic, max_message_bytes: usize::try_from(max).unwrap_or(usize::MAX) }
    }

    fn source(
        &mut self,
        path: &KeyPath,
        source: &schema::Source,
        stream: Stream,
        cx: &StreamContext<'_>,
    ) -> SourceConfig {
        match source {
            schema::Source::Kafka(k) => {
                let at = path.key("kafka");
                self.topic(&at.key("topic"), &k.topic);
                let brokers = match (&k.brokers, &cx.kafka.brokers) {
                    (Some(own), _) => {
                        self.brokers(&at.key("brokers"), own);
                        own.clone()
                    }
                    (None, Some(shared)) => shared.clone(),
                    (None, None) => {
                        self.error(
                            &at,
                            "no brokers: add `brokers: host:port` here or in the top-level `kafka:` section",
                        );
                        String::new()
                    }
                };
                let group_id = k.group_id.clone().unwrap_or_else(|| format!("driftd-{}-{stream}", cx.monitor));
                if group_id.trim().is_empty() {
                    self.error(&at.key("group_id"), "the group id is empty");
                }
                let mut properties: BTreeMap<String, String> = cx.kafka.properties.clone().unwrap_or_default();
                if let Some(own) = &k.properties {
                    self.properties(&at.key("properties"), own);
                    properties.extend(own.iter().map(|(key, value)| (key.clone(), value.clone())));
                }
                let format = Box::new(self.message_format(&at, k));
                SourceConfig::Kafka(KafkaSourceConfig {
                    format,
                    brokers,
                    topic: k.topic.clone(),
                    group_id,
                    start: k.start.unwrap_or(StartPosition::Committed),
                    group_instance_id: cx.kafka.instance_id.as_ref().map(|id| format!("{id}-{}-{stream}", cx.monitor)),
                    properties,
                })
            }
            schema::Source::File(f) => {
                let at = path.key("file");
                let resolved = self.existing_file(&at.key("path"), &f.path);
                let format = self.format(
                    &at,
                    &resolved,
                    f.format.as_deref(),
                    &[Format::JsonLines, Format::Csv, Format::Parquet],
                );
                SourceConfig::File(FileSourceConfig { path: resolved, format })
            }
        }
    }

    /// `host:port[,host:port…]`.
    pub(super) fn brokers(&mut self, path: &KeyPath, text: &str) {
        let valid = |item: &str| {
            item.rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0))
        };
        let bad: Vec<&str> = text.split(',').map(str::trim).filter(|item| !valid(item)).collect();
        if !bad.is_empty() {
            self.error(path, format!("invalid brokers {text:?}: expected host:port[,host:port…]"));
        }
    }

    /// librdkafka properties: nothing driftd manages, secrets from the environment.
    pub(super) fn properties(&mut self, path: &KeyPath, properties: &BTreeMap<String, String>) {
        for (key, value) in properties {
            let at = path.key(key);
            if let Some((_, instead)) = MANAGED_PROPERTIES.iter().find(|(name, _)| name == key) {
                self.error(&at, format!("`{key}` is set by driftd: {instead}"));
            }
            let lower = key.to_ascii_lowercase();
            // Passwords, secrets, and private keys given inline (`ssl.key.pem`).
            let secret = lower.contains("password")
                || lower.contains("secret")
                || (lower.contains("key") && lower.ends_with(".pem"));
            if secret && !value.is_empty() && !self.interpolated(&at) {
                self.error(&at, "secrets must come from the environment: write `${VARIABLE}` instead of the value");
            } else if secret && !value.is_empty() && !self.wholly_from_environment(&at) {
                self.error(
                    &at,
                    "secrets must come wholly from the environment: write `${VARIABLE}` alone (a default \
                     `${VARIABLE:-value}` or text around it keeps the secret in the file)",
                );
            }
        }
    }

    /// A Kafka topic name: 1–249 of `A-Za-z0-9._-`, not `.` or `..`.
    fn topic(&mut self, path: &KeyPath, topic: &str) {
        let valid = (1..=249).contains(&topic.len())
            && topic.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && topic != "."
            && topic != "..";
        if !valid {
            self.error(path, format!("invalid topic name {topic:?}: use 1 to 249 of A-Z, a-z, 0-9, '.', '_' and '-'"));
        }
    }

    /// An RFC 6901 JSON pointer (`""` is the whole message, allowed only where `whole_ok`).
    fn pointer(&mut self, path: &KeyPath, pointer: &str, whole_ok: bool) {
        if pointer.is_empty() {
            if !whole_ok {
                self.error(path, "the JSON pointer is empty: point at a field, such as /score");
            }
            return;
        }
        let escapes_ok = pointer.split('~').skip(1).all(|part| part.starts_with('0') || part.starts_with('1'));
        if !pointer.starts_with('/') || !escapes_ok {
            let hint =
                if pointer.starts_with('/') { String::new() } else { format!(" (did you mean \"/{pointer}\"?)") };
            self.error(path, format!("invalid JSON pointer {pointer:?}: it starts with '/', and '~' is written ~0, '/' in a name ~1{hint}"));
        }
    }

    fn features(&mut self, path: &KeyPath, features: schema::Features, tabular: bool) -> FeatureSelection {
        match features {
            schema::Features::All => FeatureSelection::All,
            schema::Features::Object(pointer) => {
                self.pointer(&path.key("object"), &pointer, true);
                FeatureSelection::Object { pointer }
            }
            schema::Features::List(list) => {
                if list.is_empty() {
                    self.error(path, "the feature list is empty (write \"*\" for every feature)");
                }
                let mut fields: Vec<FeatureField> = Vec::with_capacity(list.len());
                for (i, entry) in list.into_iter().enumerate() {
                    let at = path.index(i);
                    let (name, pointer) = match entry {
                        schema::FeatureRef::Name(name) => (name, None),
                        schema::FeatureRef::Spec(spec) => (spec.name, spec.pointer),
                    };
                    if name.is_empty() {
                        self.error(&at, "the feature name is empty");
                    } else if fields.iter().any(|f| f.name == name) {
                        self.error(&at, format!("feature {name:?} is listed twice"));
                    }
                    let pointer = match pointer {
                        Some(pointer) => {
                            self.pointer(&at.key("pointer"), &pointer, false);
                            pointer
                        }
                        None => {
                            let escaped = name.replace('~', "~0").replace('/', "~1");
                            if tabular {
                                format!("/{escaped}")
                            } else {
                                format!("/features/{escaped}")
                            }
                        }
                    };
                    fields.push(FeatureField { name, pointer });
                }
                FeatureSelection::List(fields)
            }
        }
    }
}
