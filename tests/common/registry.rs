//! The schema registry of the format tests: tests/registry/schema_registry.py, a small
//! Confluent-API-compatible stand-in (Confluent's own needs a JVM, not installable here),
//! and producers that write through confluent-kafka's real serializers
//! (tests/registry/produce.py), so messages carry the real Confluent wire format.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::kafka::{watchdog, Broker};
use super::repo;

/// The registry on a loopback port, killed when dropped; its schemas are kept in a file
/// under the test's directory, so [`SchemaRegistry::restart`] keeps them.
pub struct SchemaRegistry {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl SchemaRegistry {
    pub fn start(dir: &Path) -> SchemaRegistry {
        let mut registry = SchemaRegistry { port: 0, store: dir.join("registry.json"), child: None };
        registry.launch();
        registry
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/registry/schema_registry.py"))
            .args(["--port", &self.port.to_string(), "--store", self.store.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/registry/schema_registry.py");
        watchdog(child.id());
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("registry said {line:?}"));
        self.port = port.parse().unwrap();
        self.child = Some(child);
    }

    /// Kills the registry (its port is then refused).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, with the schemas it had.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for SchemaRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Produces `events` (JSON lines) to `topic` as Avro of `schema` (a file of
/// tests/registry/) with confluent-kafka's AvroSerializer, registering the schema.
pub fn produce_avro(
    dir: &Path,
    broker: &Broker,
    registry: &SchemaRegistry,
    topic: &str,
    schema: &str,
    events: &[String],
) {
    let file = dir.join(format!("{topic}.events.jsonl"));
    std::fs::write(&file, events.join("\n") + "\n").unwrap();
    let output = Command::new("python3")
        .arg(repo().join("tests/registry/produce.py"))
        .args(["--brokers", &broker.address(), "--registry", &registry.url(), "--topic", topic])
        .arg("--schema")
        .arg(repo().join("tests/registry").join(schema))
        .arg(&file)
        .output()
        .expect("run tests/registry/produce.py");
    assert!(
        output.status.success(),
        "produce.py failed (pip install 'confluent-kafka[avro]', see .ci/run): {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
