//! `driftd run --config PATH` as a user runs it, over real HTTP: the quickstart served on an
//! ephemeral port, polled until every window is closed, its `/metrics` and `/api/v1` checked
//! against each other, then SIGTERM and a clean exit. Every wait has a deadline, and a
//! watchdog kills the daemon if a test overruns.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a test may take, start-up (fitting the reference in a debug build) included.
const TEST_DEADLINE: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The quickstart configuration with absolute paths and `listen`, written into `dir`.
fn quickstart_config(dir: &Path, listen: &str) -> PathBuf {
    let quickstart = repo().join("examples/quickstart");
    let text = std::fs::read_to_string(quickstart.join("driftd.yaml")).unwrap();
    let text = text
        .replace("listen: 127.0.0.1:9464", &format!("listen: {listen}"))
        .replace("path: inputs.jsonl", &format!("path: {}", quickstart.join("inputs.jsonl").display()))
        .replace("path: predictions.jsonl", &format!("path: {}", quickstart.join("predictions.jsonl").display()))
        .replace(
            "path: ../data/credit_reference.csv",
            &format!("path: {}", quickstart.join("../data/credit_reference.csv").display()),
        );
    assert!(text.contains(&format!("listen: {listen}")));
    let path = dir.join("driftd.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The daemon, killed when dropped (a failed assertion never leaves it running).
struct Daemon {
    child: Child,
    /// Its stderr, line by line, read by a thread.
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Daemon {
    fn start(config: &Path, extra: &[&str]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftd"))
            .args(["run", "--config", config.to_str().unwrap(), "--log-format", "json"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start driftd");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // The watchdog: the hard timeout of the test, whatever it is blocked on.
        let pid = child.id();
        std::thread::spawn(move || {
            std::thread::sleep(TEST_DEADLINE + Duration::from_secs(10));
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        });
        Daemon { child, lines, seen: Vec::new() }
    }

    /// Waits for a JSON log line whose message is `message`; returns its fields.
    fn wait_for_log(&mut self, message: &str, deadline: Instant) -> Value {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {message:?} log line before the deadline:\n{}", self.seen.join("\n"));
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    let parsed: Value =
                        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    if parsed["fields"]["message"] == message {
                        return parsed["fields"].clone();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("driftd ended before logging {message:?}:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    /// Waits for the exit; its status code.
    fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "driftd did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// The rest of stderr (after the exit).
    fn rest(&mut self) -> Vec<String> {
        self.seen.extend(self.lines.iter());
        self.seen.clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` over HTTP/1.1: (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.into() };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

fn get_json(addr: &str, path: &str) -> Value {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The value of the sample named exactly `series` (name and labels) in a metrics text.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn run_serves_metrics_and_history_of_the_quickstart_and_stops_on_sigterm() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let mut daemon = Daemon::start(&config, &["--serve-after-exhausted"]);
    let listening = daemon.wait_for_log("Listening.", deadline);
    let addr = listening["addr"].as_str().expect("an addr field").to_string();
    assert_eq!(get(&addr, "/healthz"), (200, "ok".to_string()));

    // Ready, then every window of both streams closed.
    while get(&addr, "/readyz").0 != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = loop {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        if streams.len() == 2 && streams.iter().all(|s| s["windows_closed"] == 24 && s["exhausted"] == true) {
            break status;
        }
        assert!(Instant::now() < deadline, "windows not all closed before the deadline: {status}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let monitor = &status["monitors"][0];
    assert_eq!(monitor["name"], "credit-scoring");
    for stream in monitor["streams"].as_array().unwrap() {
        assert_eq!(stream["records_received"], 7200, "{stream}");
        assert_eq!(stream["records_invalid"], 0, "{stream}");
        assert_eq!(stream["last_window"]["start"], "2026-11-01T23:00:00Z", "{stream}");
        assert!(!stream["last_window"]["drifted"].as_array().unwrap().is_empty(), "{stream}");
    }

    // History: 24 windows per stream, drift from noon and not before.
    let history = get_json(&addr, "/api/v1/monitors/credit-scoring/history");
    let windows = history["windows"].as_array().unwrap();
    for (stream, flagged) in [("inputs", "income"), ("predictions", "score")] {
        let of_stream: Vec<&Value> = windows.iter().filter(|w| w["stream"] == stream).collect();
        assert_eq!(of_stream.len(), 24, "{stream}");
        for w in &of_stream {
            let start = w["start"].as_str().unwrap();
            let drifted: Vec<&str> =
                w["drifted"].as_array().unwrap().iter().map(|d| d["feature"].as_str().unwrap()).collect();
            if start < "2026-11-01T12:00:00Z" {
                assert!(drifted.is_empty(), "{stream} {start}: {drifted:?}");
            } else {
                assert!(drifted.contains(&flagged), "{stream} {start}: {drifted:?}");
            }
        }
    }
    let only_inputs = get_json(&addr, "/api/v1/monitors/credit-scoring/history?stream=inputs&limit=1");
    assert_eq!(only_inputs["windows"].as_array().unwrap().len(), 1);
    let last_psi = only_inputs["windows"][0]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["feature"] == "income" && o["stat"] == "psi")
        .and_then(|o| o["value"].as_f64())
        .expect("the income PSI of the last window");
    let (code, body) = get(&addr, "/api/v1/monitors/no-such-monitor/history");
    assert_eq!(code, 404, "{body}");

    // Metrics agree with the history.
    let (code, metrics) = get(&addr, "/metrics");
    assert_eq!(code, 200);
    let psi =
        sample(&metrics, r#"driftd_statistic{monitor="credit-scoring",stream="inputs",feature="income",stat="psi"}"#)
            .unwrap_or_else(|| panic!("no income psi in\n{metrics}"));
    assert_eq!(psi, last_psi);
    for stream in ["inputs", "predictions"] {
        let labels = format!(r#"{{monitor="credit-scoring",stream="{stream}"}}"#);
        assert_eq!(sample(&metrics, &format!("driftd_records_received_total{labels}")), Some(7200.0), "{metrics}");
        assert_eq!(sample(&metrics, &format!("driftd_windows_closed_total{labels}")), Some(24.0), "{metrics}");
        assert_eq!(sample(&metrics, &format!("driftd_records_late_total{labels}")), Some(0.0), "{metrics}");
        assert_eq!(sample(&metrics, &format!("driftd_window_events{labels}")), Some(300.0), "{metrics}");
        let invalid = format!(
            r#"driftd_records_invalid_total{{monitor="credit-scoring",stream="{stream}",reason="invalid_json"}}"#
        );
        assert_eq!(sample(&metrics, &invalid), Some(0.0), "pre-registered at 0: {metrics}");
    }

    // SIGTERM: ordered shutdown, exit 0 within 10 s.
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    let lines = daemon.rest();
    let closed = lines.iter().filter(|l| l.contains(r#""message":"Window closed.""#)).count();
    assert_eq!(closed, 48, "one log line per closed window");
}

#[test]
fn run_ends_by_itself_when_the_files_are_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let mut daemon = Daemon::start(&config, &[]);
    assert_eq!(daemon.wait_exit(TEST_DEADLINE), Some(0), "{}", daemon.rest().join("\n"));
    let lines = daemon.rest();
    assert!(lines.iter().any(|l| l.contains("Every source is exhausted and every window flushed.")), "{lines:?}");
}

#[test]
fn a_kafka_source_is_not_yet_supported_and_exits_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_driftd"))
        .current_dir(repo())
        .args(["run", "--config", "examples/kafka/driftd.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("Kafka sources are not yet supported by `driftd run`"), "{stderr}");
}
