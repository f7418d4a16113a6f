//! Helpers shared by the integration tests that run `driftd run`: the daemon as a child
//! process (stderr read line by line, killed on drop, a watchdog past the test deadline), a
//! minimal HTTP/1.1 GET, and Prometheus text lookups.
#![allow(dead_code)]

pub mod kafka;
pub mod registry;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a test may take, start-up (fitting the reference in a debug build) included.
pub const TEST_DEADLINE: Duration = Duration::from_secs(120);

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `driftd <args>` (RUST_LOG=info, stdout and stderr piped), with a watchdog that SIGKILLs it
/// once `deadline` has passed.
pub fn spawn_driftd(args: &[&str], deadline: Duration) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start driftd");
    let pid = child.id();
    std::thread::spawn(move || {
        std::thread::sleep(deadline);
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    });
    child
}

/// Copies the quickstart's rule file beside a configuration written into `dir` (its
/// `rules: [rules.yaml]` is relative; its file actions then write under `dir`).
pub fn copy_quickstart_rules(dir: &Path) {
    std::fs::copy(repo().join("examples/quickstart/rules.yaml"), dir.join("rules.yaml")).unwrap();
}

/// The quickstart configuration with absolute paths and `listen`, written into `dir`.
pub fn quickstart_config(dir: &Path, listen: &str) -> PathBuf {
    let quickstart = repo().join("examples/quickstart");
    let text = std::fs::read_to_string(quickstart.join("driftd.yaml")).unwrap();
    copy_quickstart_rules(dir);
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

/// The messages tests/actions/smtp_server.py wrote into `dir` (one JSON file each), in order.
pub fn smtp_messages(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
}

/// Polls `check` every 50 ms until it returns `Some`, failing with `what` at `deadline`.
pub fn wait_until<T>(deadline: Instant, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The daemon, killed when dropped (a failed assertion never leaves it running).
pub struct Daemon {
    child: Child,
    /// Its stderr, line by line, read by a thread.
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Daemon {
    pub fn start(config: &Path, extra: &[&str]) -> Daemon {
        Daemon::start_with_env(config, extra, &[])
    }

    /// As [`Daemon::start`], with extra environment variables.
    pub fn start_with_env(config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_driftd"))
            .args(["run", "--config", config.to_str().unwrap(), "--log-format", "json"])
            .args(extra)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start driftd");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // DRIFTD_TEST_ECHO=1 echoes the daemon's log (debugging a failing test).
            let echo = std::env::var_os("DRIFTD_TEST_ECHO").is_some();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if echo {
                    eprintln!("driftd: {line}");
                }
                if tx.send(line).is_err() && !echo {
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
    pub fn wait_for_log(&mut self, message: &str, deadline: Instant) -> Value {
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
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "driftd did not exit within {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit status, if the daemon has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// The rest of stderr (after the exit).
    pub fn rest(&mut self) -> Vec<String> {
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

/// `METHOD path` (no body) over HTTP/1.1: (status, body).
pub fn request(addr: &str, method: &str, path: &str) -> (u16, String) {
    driftd::http_client::request(addr, method, path, None).expect("an HTTP response")
}

/// `GET path` over HTTP/1.1: (status, body).
pub fn get(addr: &str, path: &str) -> (u16, String) {
    request(addr, "GET", path)
}

pub fn get_json(addr: &str, path: &str) -> Value {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Sets `pid`'s soft file-size limit (`RLIMIT_FSIZE`), keeping its hard limit.
pub fn set_file_size_limit(pid: u32, soft: libc::rlim_t) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: prlimit reads `new` and writes `old`, both valid for the call.
    let read = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, std::ptr::null(), &mut old) };
    assert_eq!(read, 0, "prlimit: {}", std::io::Error::last_os_error());
    let new = libc::rlimit { rlim_cur: soft.min(old.rlim_max), rlim_max: old.rlim_max };
    // SAFETY: as above.
    let set = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &new, std::ptr::null_mut()) };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// The value of the sample named exactly `series` (name and labels) in a metrics text.
pub fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// A command's stderr as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 2 with exactly one line on stderr that contains every `needles`, and no panic: how
/// every command reports bad input.
pub fn assert_input_error(out: &std::process::Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected, got: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} not in {err:?}");
    }
}
