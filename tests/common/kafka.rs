//! The Kafka side of the integration tests: a real tansu broker per test (started on a free
//! loopback port with in-memory storage, stopped with SIGINT), topic creation, a producer, the
//! group's committed offsets, and the quick start's traffic by event-time hour.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

use super::{repo, wait_until, TEST_DEADLINE};

/// The tansu binary: `$TANSU`, else `tansu` on the PATH or in ~/.cargo/bin.
pub fn tansu() -> PathBuf {
    if let Some(path) = std::env::var_os("TANSU") {
        return path.into();
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let cached = home.join(TANSU_CACHE).join("bin/tansu");
    let on_path = std::iter::once(cached)
        .chain(
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .chain([home.join(".cargo/bin")])
                .map(|dir| dir.join("tansu")),
        )
        .find(|p| p.is_file());
    on_path.expect(
        "the Kafka tests need the tansu broker with the in-memory and SQLite storage engines: \
         `cargo install tansu --version 0.6.0 --locked --features dynostore,libsql --root ~/.cache/driftd/tansu-0.6.0-dynostore-libsql` \
         (bash .ci/run does it), or set TANSU=/path/to/tansu",
    )
}

/// Where `.ci/run` installs tansu (under `$HOME`), built with both storage engines the tests use.
pub const TANSU_CACHE: &str = ".cache/driftd/tansu-0.6.0-dynostore-libsql";

/// A tansu broker on a free loopback port, stopped (SIGINT, then SIGKILL) when dropped.
pub struct Broker {
    port: u16,
    /// `memory://tansu/`, or `sqlite://…` for a broker that keeps its topics across a restart.
    storage: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Broker {
    pub fn start(dir: &Path) -> Broker {
        Broker::with_storage(dir, "memory://tansu/")
    }

    /// A broker storing its topics in SQLite under `dir`: they survive [`Broker::restart`].
    pub fn start_persistent(dir: &Path) -> Broker {
        Broker::with_storage(dir, "sqlite://tansu.db")
    }

    fn with_storage(dir: &Path, storage: &str) -> Broker {
        let mut broker = Broker { port: 0, storage: storage.into(), child: None, log: dir.join("tansu.log") };
        // The port is free when asked for, but another process (any test's outgoing connection)
        // may take it before tansu binds it: then tansu exits, and we try another port.
        for _attempt in 0..5 {
            broker.port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            if broker.launch() {
                return broker;
            }
        }
        panic!("tansu did not start on any of 5 ports; see {}", broker.log.display());
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts tansu on `self.port`; false if it exited before listening (the port was taken).
    fn launch(&mut self) -> bool {
        let url = format!("tcp://{}", self.address());
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(tansu())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", &self.storage])
            .current_dir(self.log.parent().unwrap())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start tansu");
        watchdog(child.id());
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let exited = wait_until(deadline, "the broker to listen", || {
            let child = self.child.as_mut().unwrap();
            if child.try_wait().unwrap().is_some() {
                return Some(true);
            }
            TcpStream::connect(self.address()).ok().map(|_| false)
        });
        if exited {
            self.child = None;
            return false;
        }
        true
    }

    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // tansu stops on SIGINT (SIGTERM was seen not to stop it).
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops and starts the broker on the same port (in memory: the topics are gone; SQLite:
    /// they are kept).
    pub fn restart(&mut self) {
        self.stop();
        assert!(self.launch(), "tansu did not restart on port {}; see {}", self.port, self.log.display());
    }

    pub fn create_topic(&self, name: &str, partitions: u32) {
        let status = Command::new(tansu())
            .args(["topic", "create", "--broker", &format!("tcp://{}", self.address())])
            .args(["--partitions", &partitions.to_string(), name])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "tansu topic create {name}");
    }

    pub fn producer(&self) -> ThreadedProducer<DefaultProducerContext> {
        ClientConfig::new()
            .set("bootstrap.servers", self.address())
            .set("message.max.bytes", "20000000")
            // One message per record batch: tansu 0.6 answers a fetch from an offset inside a
            // batch with the next batch (the rest of the batch is skipped), which a restart
            // resuming mid-batch would hit; Kafka returns the containing batch.
            .set("batch.num.messages", "1")
            .set("linger.ms", "0")
            .create()
            .expect("a producer")
    }

    /// Sends `(partition, payload)` messages in order and waits until all are delivered.
    pub fn produce(&self, topic: &str, messages: &[(i32, Vec<u8>)]) {
        let producer = self.producer();
        for (partition, payload) in messages {
            let mut record = BaseRecord::<[u8], [u8]>::to(topic).payload(payload).partition(*partition);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((err, back)) => {
                        // Only a full local queue is retried, after a flush.
                        assert!(
                            matches!(err.rdkafka_error_code(), Some(rdkafka::types::RDKafkaErrorCode::QueueFull)),
                            "{err}"
                        );
                        producer.flush(Duration::from_secs(10)).unwrap();
                        record = back;
                    }
                }
            }
        }
        producer.flush(Duration::from_secs(30)).expect("every message delivered");
    }

    /// The group's committed next offset per partition of `topic`.
    pub fn committed(&self, group: &str, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
        let consumer: BaseConsumer =
            ClientConfig::new().set("bootstrap.servers", self.address()).set("group.id", group).create().unwrap();
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p);
        }
        let committed = consumer.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
        committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition(), o)),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills `pid` once the test deadline has passed (a hung test never outlives it).
pub fn watchdog(pid: u32) {
    std::thread::spawn(move || {
        std::thread::sleep(TEST_DEADLINE + Duration::from_secs(10));
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    });
}

/// The quickstart's messages of `stream` whose event time is in `[from_hour, to_hour)` of
/// 2026-11-01 (half hours allowed), in file order.
pub fn traffic(stream: &str, from_hour: f64, to_hour: f64) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(format!("examples/quickstart/{stream}.jsonl"))).unwrap();
    text.lines()
        .filter(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let ts = v["ts"].as_str().unwrap();
            let hour: f64 = ts[11..13].parse::<f64>().unwrap() + ts[14..16].parse::<f64>().unwrap() / 60.0;
            assert!(ts.starts_with("2026-11-01T"));
            hour >= from_hour && hour < to_hour
        })
        .map(str::to_string)
        .collect()
}

/// Topic names, unique per test.
pub struct Topics {
    pub inputs: String,
    pub predictions: String,
}

impl Topics {
    pub fn new(test: &str) -> Topics {
        Topics { inputs: format!("{test}-inputs"), predictions: format!("{test}-predictions") }
    }
}

/// A temporary directory, a broker in it, and the topics of test `name` (inputs and
/// predictions with `partitions` partitions, the inputs' dead-letter topic with one).
pub fn setup(name: &str, partitions: u32) -> (tempfile::TempDir, Broker, Topics) {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(dir.path());
    let topics = Topics::new(name);
    for topic in [&topics.inputs, &topics.predictions] {
        broker.create_topic(topic, partitions);
    }
    broker.create_topic(&format!("{}-dlq", topics.inputs), 1);
    (dir, broker, topics)
}
