//! The reader task of a Kafka stream ([`spawn`]): messages from its consumer decoded into
//! batches of records for the monitor task (bad ones as `Item::Bad`, dead-lettered), until
//! `driftd run` stops. It never stops on a bad message or broker error and never commits
//! offsets (the monitor task does, after the checkpoint). Inputs, outputs and invariants on
//! [`KafkaReader`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::KafkaSourceConfig;
use super::{connect, KafkaConsumer, RevokeHook};
use crate::record::{Position, Record, Stream};
use crate::source::discover::Discovery;
use crate::source::error_log::ErrorLog;
use crate::source::format::Translator;
use crate::source::task::{Consumed, Item, SourceContext, SourceObserver, BATCH_RECORDS};
use crate::source::{DecodeContext, DecodeSpec, Decoder};

/// How long a partial batch waits for more records before it is sent.
pub const BATCH_LINGER: Duration = Duration::from_millis(20);
/// How long the revoke hook waits for the monitor task to checkpoint and commit.
pub const REVOKE_DEADLINE: Duration = Duration::from_secs(10);
/// How long forwarding one message to the dead-letter topic may take.
const DEAD_LETTER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one metadata request may take while waiting for the broker.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// How a Kafka stream's messages are decoded.
pub enum KafkaDecoding {
    /// With the reference's feature list.
    Ready(Decoder, Option<Arc<Translator>>),
    /// The feature list is discovered first ([`crate::source::discover`]): the reader holds
    /// the first `messages` messages back (or, with `idle`, fewer once no message came for
    /// that long), discovers their features, then builds the decoder.
    Discover { spec: DecodeSpec, messages: u64, idle: Option<Duration>, translator: Option<Arc<Translator>> },
}

/// Connects a Kafka stream's consumer — positioned at `resume` (the checkpoint's next offset
/// per partition), its revocations routed through the monitor task — and spawns its reader
/// on `ctx.tracker`. The consumer is returned for the monitor task's offset commits.
pub fn spawn(
    ctx: SourceContext,
    source: &KafkaSourceConfig,
    decoding: KafkaDecoding,
    dead_letter_topic: Option<String>,
    resume: BTreeMap<i32, i64>,
) -> Result<Arc<KafkaConsumer>, String> {
    let SourceContext { monitor, monitor_index, stream, tx, stop, tracker, observer } = ctx;
    let label = format!("{monitor}-{stream}");
    let consumer = Arc::new(connect(source, label, resume, observer.clone()).map_err(|e| e.to_string())?);
    consumer.context().on_revoke(revoke_hook(tx.downgrade(), stream));
    let dead_letter = dead_letter_topic.map(|topic| DeadLetter::new(source, topic)).transpose()?;
    observer.connecting();
    let reader = KafkaReader {
        observer,
        monitor_index,
        monitor,
        stream,
        topic: source.topic.clone(),
        consumer: consumer.clone(),
        decoding: Some(decoding),
        decoder: None,
        dead_letter,
    };
    tracker.spawn(reader.run(tx, stop));
    Ok(consumer)
}

/// The revoke hook of a Kafka stream: hands the monitor task an [`Item::Revoked`] (after every
/// item already sent) and waits for its acknowledgement, so the partitions are given up only
/// once checkpointed and committed. Runs inside the consumer's poll (a runtime thread: the
/// wait is moved off it with `block_in_place`) or its close (a blocking thread).
fn revoke_hook(tx: mpsc::WeakSender<Item>, stream: Stream) -> RevokeHook {
    Box::new(move |partitions| {
        let Some(tx) = tx.upgrade() else { return };
        let wait = || {
            let (ack, acknowledged) = std::sync::mpsc::channel();
            if tx.blocking_send(Item::Revoked { stream, ack }).is_ok()
                && acknowledged.recv_timeout(REVOKE_DEADLINE).is_err()
            {
                warn!(stream = %stream, partitions = ?partitions, "Revoked partitions were not checkpointed in time.");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    })
}

/// Where undecodable messages go.
pub struct DeadLetter {
    producer: FutureProducer,
    topic: String,
}

impl DeadLetter {
    /// A producer with the source's brokers and properties.
    pub fn new(source: &KafkaSourceConfig, topic: String) -> Result<DeadLetter, String> {
        let mut config = ClientConfig::new();
        // Room for a message refused as too large, unless the properties say otherwise.
        config.set("message.max.bytes", "100000000");
        for (key, value) in &source.properties {
            config.set(key, value);
        }
        let producer = config
            .set("bootstrap.servers", &source.brokers)
            .set("message.timeout.ms", "30000")
            .create()
            .map_err(|e| format!("dead-letter topic {topic}: cannot create the producer: {e}"))?;
        Ok(DeadLetter { producer, topic })
    }
}

/// What the reader of one stream needs.
///
/// The reader task of a Kafka stream: messages from the stream's consumer, decoded into
/// batches of records for the monitor task, until `driftd run` stops.
///
/// Inputs: the connected [`KafkaConsumer`] (positioned by its rebalance callback), the
/// stream's [`Decoder`] (or, for a reference captured from the stream, the spec whose features
/// are discovered from the first messages, held back meanwhile and announced with
/// [`Item::Discovered`] before they are decoded), an optional dead-letter topic. Outputs: [`Item`]s on the monitor's
/// bounded channel — a batch is sent when it holds [`BATCH_RECORDS`] records or
/// [`BATCH_LINGER`] after its first record, so a quiet topic still reaches the windows
/// promptly; a message that does not decode is sent as [`Item::Bad`] with its partition and
/// offset (after being forwarded to the dead-letter topic with the error in its headers).
///
/// Invariants: nothing here stops on a bad message or a broker error (librdkafka reconnects
/// by itself; errors are logged at most every [`ERROR_LOG_INTERVAL`]); the reader never
/// commits offsets — the monitor task does, after the checkpoint that covers them.
struct KafkaReader {
    observer: Arc<dyn SourceObserver>,
    monitor_index: usize,
    monitor: String,
    stream: Stream,
    topic: String,
    consumer: Arc<KafkaConsumer>,
    /// How messages are decoded (taken into `decoder` when the reader starts).
    decoding: Option<KafkaDecoding>,
    /// The decoder once the features are known.
    decoder: Option<Decoder>,
    dead_letter: Option<DeadLetter>,
}

/// Messages held back while a stream's features are discovered.
struct Discovering {
    found: Discovery,
    spec: DecodeSpec,
    target: u64,
    /// End early after this long without a message (trailing references).
    idle: Option<Duration>,
    held: Vec<OwnedMessage>,
}

/// The records decoded and not yet sent, and when they must go.
struct Batch {
    items: Vec<Record>,
    deadline: Option<tokio::time::Instant>,
}

impl KafkaReader {
    /// Reads until `stop`; then sends [`Item::End`] (not exhausted: a topic never is).
    async fn run(mut self, tx: mpsc::Sender<Item>, stop: CancellationToken) {
        self.wait_for_broker(&stop).await;
        let mut out = Batch { items: Vec::with_capacity(BATCH_RECORDS), deadline: None };
        let mut errors = ErrorLog::default();
        // Feature discovery (captured and trailing references): the first messages are held
        // back until their features are known, then decoded like every later one.
        let mut translator = None;
        let mut discovery = match self.decoding.take() {
            Some(KafkaDecoding::Ready(decoder, format)) => {
                self.decoder = Some(decoder);
                translator = format;
                None
            }
            None => None,
            Some(KafkaDecoding::Discover { spec, messages, idle, translator: format }) => {
                translator = format;
                info!(monitor = %self.monitor, stream = %self.stream, messages, "Discovering the stream's features.");
                Some(Discovering { found: Discovery::new(&spec), spec, target: messages, idle, held: Vec::new() })
            }
        };
        loop {
            // A trailing reference's discovery ends early on a quiet topic.
            let quiet = discovery
                .as_ref()
                .filter(|d| !d.held.is_empty())
                .and_then(|d| d.idle)
                .map(|idle| tokio::time::Instant::now() + idle);
            let received = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = sleep_until(out.deadline) => {
                    out.deadline = None;
                    if !send_batch(&tx, &mut out.items).await { return self.release() }
                    continue;
                }
                () = sleep_until(quiet) => None,
                received = self.consumer.recv() => Some(received),
            };
            let message = match received {
                Some(Ok(message)) => Some(message),
                None => None,
                Some(Err(err)) => {
                    if let Some(suppressed) = errors.allow() {
                        warn!(monitor = %self.monitor, stream = %self.stream, error = %err, suppressed, "Kafka receive error.");
                    }
                    continue;
                }
            };
            let Some(discovering) = discovery.as_mut() else {
                if let Some(message) = message {
                    if !self.take(&message, || message.detach(), translator.as_deref(), &mut out, &tx).await {
                        return self.release();
                    }
                }
                continue;
            };
            if let Some(message) = message {
                let payload = message.payload().unwrap_or_default();
                match &translator {
                    // One that does not translate is dead-lettered when it is taken below.
                    Some(t) => discovering.found.observe(&t.to_json(payload).await.unwrap_or_default()),
                    None => discovering.found.observe(payload),
                }
                discovering.held.push(message.detach());
                if (discovering.held.len() as u64) < discovering.target {
                    continue;
                }
            }
            let Some(Discovering { found, spec, held, .. }) = discovery.take() else { continue };
            if found.dropped() > 0 {
                warn!(
                    monitor = %self.monitor,
                    stream = %self.stream,
                    reason = "too_many_features",
                    kept = spec.max_features,
                    left_out = found.dropped(),
                    "More distinct feature names than the cap: the first ones are kept, the others are unknown fields."
                );
            }
            let features = found.finish();
            let decoder = match Discovery::decoder(spec, &features) {
                Ok(decoder) => decoder,
                Err(err) => {
                    error!(monitor = %self.monitor, stream = %self.stream, error = %err, "The discovered features cannot be decoded; the stream stops.");
                    break;
                }
            };
            info!(monitor = %self.monitor, stream = %self.stream, features = features.len(), messages = held.len(), "Features discovered.");
            self.decoder = Some(decoder);
            if tx.send(Item::Discovered { stream: self.stream, features }).await.is_err() {
                return self.release();
            }
            for message in &held {
                if !self.take(message, || message.clone(), translator.as_deref(), &mut out, &tx).await {
                    return self.release();
                }
            }
        }
        debug!(monitor = %self.monitor, stream = %self.stream, "Kafka source stopped.");
        if send_batch(&tx, &mut out.items).await {
            let _ = tx.send(Item::End { stream: self.stream, exhausted: false }).await;
        }
        self.release();
    }

    /// Decodes one message into the batch (sent when full, or [`BATCH_LINGER`] after its
    /// first record), or forwards and reports it as bad. False when the monitor is gone.
    async fn take<M: Message>(
        &self,
        message: &M,
        detach: impl FnOnce() -> OwnedMessage,
        translator: Option<&Translator>,
        out: &mut Batch,
        tx: &mpsc::Sender<Item>,
    ) -> bool {
        let Some(decoder) = &self.decoder else { return true };
        let (partition, offset) = (message.partition(), message.offset());
        let context = DecodeContext {
            monitor: self.monitor_index,
            stream: self.stream,
            position: Position::Kafka { topic: self.topic.clone(), partition, offset },
            kafka_timestamp_ms: message.timestamp().to_millis(),
        };
        let payload = message.payload().unwrap_or_default();
        let decoded = match translator {
            None => decoder.decode(payload, context),
            Some(t) => match t.to_json(payload).await {
                Ok(json) => decoder.decode_translated(&json, context),
                Err(error) => Err(error),
            },
        };
        match decoded {
            Ok(decoded) => {
                out.items.push(decoded.record);
                if out.items.len() == BATCH_RECORDS {
                    out.deadline = None;
                    return send_batch(tx, &mut out.items).await;
                }
                if out.deadline.is_none() {
                    out.deadline = Some(tokio::time::Instant::now() + BATCH_LINGER);
                }
                true
            }
            Err(error) => {
                let owned = detach();
                out.deadline = None;
                if !send_batch(tx, &mut out.items).await {
                    return false;
                }
                let reason = error.reason().as_str();
                let text = format!("{}[{partition}]@{offset}: {error}", self.topic);
                if let Some(dead_letter) = &self.dead_letter {
                    self.forward(dead_letter, &owned, reason, &text).await;
                }
                let bad =
                    Item::Bad { stream: self.stream, at: Consumed::Kafka { partition, offset }, reason, message: text };
                tx.send(bad).await.is_ok()
            }
        }
    }

    /// Until the topic's metadata can be read (or `stop`): then the source counts as connected
    /// for `/readyz`.
    async fn wait_for_broker(&self, stop: &CancellationToken) {
        let mut errors = ErrorLog::default();
        loop {
            let consumer = self.consumer.clone();
            let topic = self.topic.clone();
            let fetched = tokio::task::spawn_blocking(move || {
                consumer.fetch_metadata(Some(&topic), METADATA_TIMEOUT).map(|m| {
                    m.topics().first().map(|t| (t.partitions().len(), t.error().is_none())).unwrap_or((0, false))
                })
            });
            let outcome = tokio::select! {
                () = stop.cancelled() => break,
                outcome = fetched => outcome,
            };
            match outcome {
                Ok(Ok((partitions, true))) if partitions > 0 => {
                    info!(monitor = %self.monitor, stream = %self.stream, topic = %self.topic, partitions, "Kafka source connected.");
                    break;
                }
                Ok(Ok(_)) => {
                    if let Some(suppressed) = errors.allow() {
                        warn!(monitor = %self.monitor, stream = %self.stream, topic = %self.topic, suppressed, "The topic does not exist (yet); waiting.");
                    }
                }
                Ok(Err(err)) => {
                    if let Some(suppressed) = errors.allow() {
                        warn!(monitor = %self.monitor, stream = %self.stream, error = %err, suppressed, "Cannot reach the Kafka brokers; retrying.");
                    }
                }
                Err(err) => {
                    error!(error = %err, "The metadata task failed.");
                    break;
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
        self.observer.connected();
    }

    /// Forwards an undecodable message: same key and payload, the error in headers.
    async fn forward(
        &self,
        dead_letter: &DeadLetter,
        message: &rdkafka::message::OwnedMessage,
        reason: &str,
        text: &str,
    ) {
        let source = format!("{}/{}/{}", self.topic, message.partition(), message.offset());
        let headers = OwnedHeaders::new()
            .insert(Header { key: "driftd-error", value: Some(text) })
            .insert(Header { key: "driftd-reason", value: Some(reason) })
            .insert(Header { key: "driftd-source", value: Some(&source) });
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&dead_letter.topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        match dead_letter.producer.send(record, DEAD_LETTER_TIMEOUT).await {
            Ok(_) => {
                self.observer.dead_lettered();
            }
            Err((err, _)) => {
                error!(monitor = %self.monitor, stream = %self.stream, topic = %dead_letter.topic, error = %err, "Cannot forward to the dead-letter topic.")
            }
        }
    }

    /// Drops this task's handle on the consumer outside the runtime (librdkafka's destroy
    /// blocks, and can hang if run on a runtime thread).
    fn release(self) {
        let consumer = self.consumer;
        tokio::task::spawn_blocking(move || drop(consumer));
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sends the batch if it is not empty; false when the monitor is gone.
async fn send_batch(tx: &mpsc::Sender<Item>, batch: &mut Vec<Record>) -> bool {
    if batch.is_empty() {
        return true;
    }
    let records = std::mem::replace(batch, Vec::with_capacity(BATCH_RECORDS));
    tx.send(Item::Records { first: 0, records }).await.is_ok()
}
