//! The Kafka side of the integration tests: a real tansu broker per test (started on a free
//! loopback port with in-memory storage, stopped with SIGINT), topic creation, a producer, the
//! group's committed offsets, and the quick start's traffic by event-time hour.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;

use super::{get, get_json, repo, wait_until, Daemon, TEST_DEADLINE};

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

/// The monitor of every Kafka test configuration.
pub const MONITOR: &str = "credit-scoring";

/// A driftd configuration reading `topics` from `broker` with `group`, hourly windows, no
/// idle advance (so observations depend on the data only).
pub fn kafka_config(dir: &Path, broker: &Broker, topics: &Topics, group: &str, state: &str) -> PathBuf {
    let reference = repo().join("examples/data/credit_reference.csv");
    let text = format!(
        r#"
http: {{ listen: 127.0.0.1:0 }}
state: {{ path: {state} }}
kafka:
  brokers: {brokers}
  # A killed member's partitions move on after 6 s instead of librdkafka's 45 s.
  properties: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "1000" }}
monitors:
  - name: {MONITOR}
    model_version: "2026-11-01"
    reference:
      dataset: {{ path: {reference}, predictions: [score] }}
    binning: quantile
    statistics: [psi, ks, chisquare, jensen_shannon, wasserstein, hellinger, missing_share]  # the quickstart's
    window: {{ kind: tumbling, size: 1h, allowed_lateness: 1m, idle_timeout: 0s }}
    streams:
      inputs:
        source:
          kafka: {{ topic: {inputs}, group_id: {group}, start: earliest }}
        event_time: {{ field: /ts, format: rfc3339 }}
        features: "*"
        dead_letter_topic: {inputs}-dlq
      predictions:
        source:
          kafka: {{ topic: {predictions}, group_id: {group}, start: earliest }}
        event_time: {{ field: /ts, format: rfc3339 }}
        prediction: {{ pointer: /score, kind: score }}
"#,
        brokers = broker.address(),
        reference = reference.display(),
        inputs = topics.inputs,
        predictions = topics.predictions,
    );
    let path = dir.join(format!("{state}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `driftd replay` of the same messages from files: the observations an uninterrupted
/// consumer must publish (sorted lines).
pub fn replayed(dir: &Path, inputs: &[String], predictions: &[String]) -> Vec<String> {
    let reference = format!("path: {}", repo().join("examples/data/credit_reference.csv").display());
    replayed_with(dir, inputs, predictions, ("path: ../data/credit_reference.csv", &reference))
}

/// As [`replayed`], with one replacement in the quickstart's configuration.
pub fn replayed_with(dir: &Path, inputs: &[String], predictions: &[String], replace: (&str, &str)) -> Vec<String> {
    let quickstart = repo().join("examples/quickstart");
    std::fs::write(dir.join("inputs.jsonl"), inputs.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("predictions.jsonl"), predictions.join("\n") + "\n").unwrap();
    let text = std::fs::read_to_string(quickstart.join("driftd.yaml")).unwrap();
    assert!(text.contains(replace.0));
    let text = text.replace(replace.0, replace.1);
    super::copy_quickstart_rules(dir);
    let config = dir.join("replay.yaml");
    std::fs::write(&config, text).unwrap();
    let output = dir.join("replayed.jsonl");
    let status = Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(["replay", "--config", config.to_str().unwrap(), "--output", output.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    sorted_lines(&output)
}

pub fn sorted_lines(path: &Path) -> Vec<String> {
    // Complete lines only: a test polling the file while driftd appends to it may read the
    // last line half written.
    let text = std::fs::read(path).unwrap_or_default();
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut lines: Vec<String> = String::from_utf8_lossy(&text[..complete]).lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// Lines of windows that start before `hours` hours into 2026-11-01.
pub fn before_hour(lines: &[String], hours: i64) -> Vec<String> {
    // 2026-11-01T00:00:00Z.
    let limit = 1_793_491_200_000 + hours * 3_600_000;
    lines
        .iter()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["window"]["start_ms"].as_i64().unwrap() < limit)
        .cloned()
        .collect()
}

/// The HTTP address the daemon logged, once it is ready.
pub fn ready(daemon: &mut Daemon, deadline: Instant) -> String {
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    wait_until(deadline, "/readyz", || (get(&addr, "/readyz").0 == 200).then_some(()));
    addr
}

/// The monitor's stream status of `stream`.
pub fn stream_status(addr: &str, stream: &str) -> Value {
    let status = get_json(addr, "/api/v1/monitors");
    let streams = status["monitors"][0]["streams"].as_array().unwrap();
    streams.iter().find(|s| s["stream"] == stream).unwrap().clone()
}

/// Waits until both streams have closed `windows` windows.
pub fn wait_windows(addr: &str, windows: u64, deadline: Instant) {
    wait_until(deadline, &format!("{windows} windows per stream"), || {
        let done = ["inputs", "predictions"].iter().all(|s| stream_status(addr, s)["windows_closed"] == windows);
        done.then_some(())
    });
}

/// Observations per window and stream (the same for every window of this configuration),
/// averaged over the streams: lines / distinct (stream, window).
pub fn lines_per_window(lines: &[String]) -> usize {
    let windows: BTreeSet<(String, i64)> = lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["stream"].as_str().unwrap().to_string(), v["window"]["start_ms"].as_i64().unwrap())
        })
        .collect();
    if windows.is_empty() {
        usize::MAX
    } else {
        lines.len() / windows.len()
    }
}
