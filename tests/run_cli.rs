//! `driftd run --config PATH` as a user runs it, over real HTTP: the quickstart served on an
//! ephemeral port, polled until every window is closed, its `/metrics` and `/api/v1` checked
//! against each other, then SIGTERM and a clean exit. Every wait has a deadline, and a
//! watchdog kills the daemon if a test overruns.

mod common;

use std::time::{Duration, Instant};

use common::{get, get_json, quickstart_config, sample, set_file_size_limit, wait_until, Daemon, TEST_DEADLINE};
use serde_json::Value;

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

    // The same history on the command line.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(["history", "credit-scoring", "--addr", &addr, "--stream", "inputs", "--limit", "2"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 4, "{table}");
    assert!(rows[2].starts_with("2026-11-01T23:00:00Z") && rows[2].contains("income"), "{table}");
    assert_eq!(rows[3], "2 window(s)");
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(["history", "no-such-monitor", "--addr", &addr])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("answered 404"));

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

/// A corrupt state database (the audit: redb panicked "internal error", and `--reset-state`
/// could not recover because the file was opened first) is one clear error naming the file and
/// the fix; `--reset-state` moves it aside — kept, renamed — and starts over.
#[test]
fn a_corrupt_state_database_is_one_clear_error_and_reset_state_moves_it_aside() {
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let state = dir.path().join("driftd-state");
    std::fs::create_dir_all(&state).unwrap();
    // Not a redb file: a header-sized block of garbage, as a truncated or overwritten file.
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(state.join("checkpoints.redb"), &garbage).unwrap();

    let mut refused = Daemon::start(&config, &[]);
    let code = refused.wait_exit(TEST_DEADLINE);
    assert!(code.is_some_and(|c| c != 0), "{code:?}");
    let log = refused.rest().join("\n");
    assert!(log.contains("cannot open the state database") && log.contains("--reset-state"), "{log}");
    assert!(log.contains("checkpoints.redb"), "{log}");
    assert!(!log.contains("please report this bug"), "{log}");

    let mut reset = Daemon::start(&config, &["--reset-state"]);
    assert_eq!(reset.wait_exit(TEST_DEADLINE), Some(0), "{}", reset.rest().join("\n"));
    let aside: Vec<_> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("checkpoints.redb.unusable-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(state.join(&aside[0])).unwrap(), garbage, "the old file is kept as it was");
}

/// Connections that send half a request (the audit: held forever; 60 of them made /healthz time
/// out, one made SIGTERM take 10 s and exit 2): past the connection cap a new connection is
/// closed at once, a held one is closed after the header-read timeout, and SIGTERM with held
/// connections exits 0 promptly.
#[test]
fn half_open_connections_are_capped_timed_out_and_do_not_hold_the_shutdown() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let mut daemon = Daemon::start(&config, &["--serve-after-exhausted"]);
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    wait_until(deadline, "/readyz", || (get(&addr, "/readyz").0 == 200).then_some(()));

    let half_open = || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n").as_bytes()).unwrap();
        s
    };
    let held: Vec<TcpStream> = (0..driftd::api::serve::MAX_CONNECTIONS).map(|_| half_open()).collect();
    // One more: closed by the server at once (end of stream), not left hanging.
    let mut extra = TcpStream::connect(&addr).unwrap();
    extra.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 64];
    let over = extra.read(&mut buf);
    assert!(
        matches!(over, Ok(0)) || over.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the connection over the cap is closed, not left hanging: {over:?}"
    );
    // A held connection is dropped after the header-read timeout.
    let mut first = held.into_iter().next().unwrap();
    first.set_read_timeout(Some(driftd::api::serve::HEADER_READ_TIMEOUT * 3)).unwrap();
    let closed = first.read(&mut buf);
    let by_server = closed.is_ok() || closed.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset);
    assert!(by_server, "closed by the server, not by our read timeout: {closed:?}");
    // Once the held ones are reaped, the API answers again.
    wait_until(deadline, "/healthz after the reaping", || {
        driftd::http_client::request(&addr, "GET", "/healthz", None).ok().filter(|(s, _)| *s == 200)
    });

    let _more: Vec<TcpStream> = (0..5).map(|_| half_open()).collect();
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(5)), Some(0), "{}", daemon.rest().join("\n"));
}

/// Responses that grow with the state are capped: the history gives the most recent 100
/// windows unless `limit` asks for more (at most 1000), the notifications list likewise with
/// its totals.
#[test]
fn growing_responses_are_capped() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    // 10-minute windows: 144 a stream, 288 in the history.
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("size: 1h"));
    std::fs::write(&config, text.replace("size: 1h", "size: 10m")).unwrap();
    let mut daemon = Daemon::start(&config, &["--serve-after-exhausted"]);
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    wait_until(deadline, "every window closed", || {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        streams.iter().all(|s| s["exhausted"] == true).then_some(())
    });
    let count = |path: &str| get_json(&addr, path)["windows"].as_array().unwrap().len();
    assert_eq!(count("/api/v1/monitors/credit-scoring/history"), 100);
    assert_eq!(count("/api/v1/monitors/credit-scoring/history?limit=500"), 288);
    let history = get_json(&addr, "/api/v1/monitors/credit-scoring/history");
    assert_eq!(history["windows"][99]["end"], "2026-11-02T00:00:00Z", "the most recent ones");
    let outbox = get_json(&addr, "/api/v1/notifications?limit=1");
    assert!(outbox["pending"].as_array().unwrap().len() <= 1 && outbox["pending_total"].is_u64(), "{outbox}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));
}

/// The idempotency keys of the `Notification produced.` lines of a JSON log.
fn produced_keys(lines: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "Notification produced.")
        .map(|l| l["fields"]["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}

fn sorted_lines(path: &std::path::Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect();
    lines.sort();
    lines
}

/// A full disk mid-run (the audit: "Checkpoint failed" logged while windows that were never
/// checkpointed kept being published). With the file-size limit lowered under the running
/// daemon (writes fail with EFBIG; SIGXFSZ is ignored), its checkpoints fail: `/readyz` says
/// so, the history and metrics stop, nothing is queued, and redb — which refuses everything
/// after an I/O error — is reopened on retry. Once the limit is raised every window is
/// published and every notification queued exactly once, as in a run without the limit, and
/// the run ends with 0.
#[test]
fn a_failing_checkpoint_holds_publication_until_space_returns_then_nothing_is_lost() {
    disk_full_mid_run(false);
}

/// The same with an observations file, whose append fails first: the windows are held the
/// same way, and the file ends with every observation once.
#[test]
fn a_failing_observations_file_holds_publication_and_loses_nothing() {
    disk_full_mid_run(true);
}

fn disk_full_mid_run(with_observations: bool) {
    let deadline = Instant::now() + TEST_DEADLINE;
    // The reference: the same run without a limit.
    let baseline_dir = tempfile::tempdir().unwrap();
    let baseline_config = quickstart_config(baseline_dir.path(), "127.0.0.1:0");
    let baseline_observations = baseline_dir.path().join("observations.jsonl");
    let mut baseline = Daemon::start(&baseline_config, &["--observations", baseline_observations.to_str().unwrap()]);
    assert_eq!(baseline.wait_exit(TEST_DEADLINE), Some(0), "{}", baseline.rest().join("\n"));
    let baseline_keys = produced_keys(&baseline.rest());
    assert!(!baseline_keys.is_empty(), "the quickstart produces notifications");

    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let observations = dir.path().join("observations.jsonl");
    // Read slowly enough (a window per ~0.5 s) for the limit to land early in the day, before
    // the drift from noon produces notifications.
    let mut args = vec!["--serve-after-exhausted", "--max-rate", "600"];
    if with_observations {
        args.extend(["--observations", observations.to_str().unwrap()]);
    }
    let mut daemon = Daemon::start(&config, &args);
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    let windows = |addr: &str| {
        get_json(addr, "/api/v1/monitors/credit-scoring/history?limit=1000")["windows"].as_array().unwrap().len()
    };
    let observation_lines =
        || std::fs::read_to_string(&observations).map(|text| text.lines().count()).unwrap_or_default();
    wait_until(deadline, "a first window published", || (windows(&addr) >= 1).then_some(()));
    // Any write past the first 4 KiB of a file now fails: the database's pages, the
    // observations file.
    set_file_size_limit(daemon.pid(), 4096);

    let reason = wait_until(deadline, "/readyz not ready", || {
        let (code, body) = get(&addr, "/readyz");
        (code == 503).then_some(body)
    });
    assert!(reason.contains("checkpoint failing for credit-scoring/") && reason.contains("File too large"), "{reason}");
    let held = windows(&addr);
    let held_lines = observation_lines();
    // Retries happen and fail, and nothing moves meanwhile.
    daemon.wait_for_log("Checkpoint failed again.", deadline);
    daemon.wait_for_log("Checkpoint failed again.", deadline);
    assert_eq!(windows(&addr), held, "no window published without its checkpoint");
    assert!(held < 24, "the limit landed before the end: {held}");
    let (_, metrics) = get(&addr, "/metrics");
    let closed: f64 = ["inputs", "predictions"]
        .iter()
        .map(|s| {
            let series = format!(r#"driftd_windows_closed_total{{monitor="credit-scoring",stream="{s}"}}"#);
            sample(&metrics, &series).unwrap()
        })
        .sum();
    assert_eq!(closed as usize, held, "{metrics}");
    let failures: f64 = ["inputs", "predictions"]
        .iter()
        .filter_map(|s| {
            sample(&metrics, &format!(r#"driftd_checkpoint_failures_total{{monitor="credit-scoring",stream="{s}"}}"#))
        })
        .sum();
    assert!(failures >= 3.0, "the first failure and two retries counted: {metrics}");
    assert_eq!(observation_lines(), held_lines);
    assert_eq!(get(&addr, "/readyz").0, 503);

    // Space returns.
    set_file_size_limit(daemon.pid(), libc::RLIM_INFINITY);
    if !with_observations {
        daemon.wait_for_log("State database reopened after the failure.", deadline);
    }
    daemon.wait_for_log("Checkpoint saved; publishing resumes.", deadline);
    wait_until(deadline, "every window closed", || {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        streams.iter().all(|s| s["exhausted"] == true && s["windows_closed"] == 24).then_some(())
    });
    assert_eq!(get(&addr, "/readyz"), (200, "ready".to_string()));
    let history = get_json(&addr, "/api/v1/monitors/credit-scoring/history?limit=1000");
    let mut seen: Vec<(String, String)> = history["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["stream"].as_str().unwrap().to_string(), w["start"].as_str().unwrap().to_string()))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 48, "each window of each stream once");
    wait_until(deadline, "the outbox delivered", || {
        let outbox = get_json(&addr, "/api/v1/notifications");
        (outbox["pending_total"] == 0 && outbox["failed_total"] == 0).then_some(())
    });
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
    let lines = daemon.rest();
    let published = lines.iter().filter(|l| l.contains(r#""message":"Window closed.""#)).count();
    assert_eq!(published, 48, "one log line per window");
    assert_eq!(produced_keys(&lines), baseline_keys, "every notification queued once, as without the limit");
    if with_observations {
        assert_eq!(sorted_lines(&observations), sorted_lines(&baseline_observations), "every observation once");
    }
    // The database the daemon reopened is sound: a restart finds every stream finished.
    let mut restart = Daemon::start(&config, &args[1..]);
    assert_eq!(restart.wait_exit(TEST_DEADLINE), Some(0), "{}", restart.rest().join("\n"));
    let lines = restart.rest();
    assert!(!lines.iter().any(|l| l.contains(r#""message":"Window closed.""#)), "nothing closed twice: {lines:?}");
}

/// A request whose body trickles in (the audit: only the headers were bounded) is answered 408
/// at `http.request_timeout` and its connection closed by the server; nothing is applied and
/// the API goes on answering.
#[test]
fn a_slow_request_body_is_cut_off_at_the_request_timeout() {
    use std::io::{Read, Write};
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("  listen: 127.0.0.1:0\n", "  listen: 127.0.0.1:0\n  request_timeout: 1s\n"))
        .unwrap();
    let mut daemon = Daemon::start(&config, &["--serve-after-exhausted"]);
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();

    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "POST /api/v1/silences HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    );
    slow.write_all(head.as_bytes()).unwrap();
    slow.write_all(br#"{"matchers": {"rule": "#).unwrap();
    // Far beyond the server's 1 s: the end of stream must come from the server.
    slow.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).expect("closed by the server, not by our read timeout");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.to_ascii_lowercase().contains("connection: close"), "{response}");

    assert_eq!(get(&addr, "/healthz"), (200, "ok".to_string()));
    let silences = get_json(&addr, "/api/v1/silences");
    assert_eq!(silences["silences"].as_array().map(Vec::len), Some(0), "{silences}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
}

/// The test certificates of tests/tls/certificates.py written into `dir` (a Python with
/// python3-cryptography: `DRIFTD_TEST_PYTHON`, else the system's, as tests/actions.rs).
fn tls_files(dir: &std::path::Path) {
    let script = common::repo().join("tests/tls/certificates.py");
    let candidates =
        [std::env::var("DRIFTD_TEST_PYTHON").ok(), Some("/usr/bin/python3".into()), Some("python3".into())];
    let made = candidates
        .into_iter()
        .flatten()
        .any(|python| std::process::Command::new(python).arg(&script).arg(dir).status().is_ok_and(|s| s.success()));
    assert!(made, "no python3 with cryptography: apt-get install -y python3-cryptography");
}

/// `driftd <args>` with extra environment variables: (exit code, stdout, stderr).
fn driftd_cli(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(args)
        .env_remove("DRIFTD_API_CA_FILE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code(), text(output.stdout), text(output.stderr))
}

/// `http.tls`: `check` names the field of a bad certificate or key; the listener speaks TLS
/// only (a plain request gets no HTTP answer); a client trusting the daemon's CA gets its
/// answers, one trusting another CA is refused; `driftd silence` and `driftd history` talk
/// HTTPS with `--ca-file` or `DRIFTD_API_CA_FILE`, and say what is missing without either.
#[test]
fn the_api_serves_https_and_the_command_line_trusts_a_ca_file() {
    use driftd::http_client::{request_to, Endpoint};
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    tls_files(dir.path());
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let text = std::fs::read_to_string(&config).unwrap();
    let with_tls = |cert: &str, key: &str| {
        let http = format!(
            "  listen: 127.0.0.1:0\n  token_env: DRIFTD_TEST_TOKEN\n  tls: {{ cert_file: {cert}, key_file: {key} }}\n"
        );
        std::fs::write(&config, text.replace("  listen: 127.0.0.1:0\n", &http)).unwrap();
    };

    // check: each field with its own problem.
    let check = || driftd_cli(&["check", "--config", config.to_str().unwrap()], &[("DRIFTD_TEST_TOKEN", "t")]);
    with_tls("server.pem", "other.key");
    let (code, _, stderr) = check();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("http.tls.key_file") && stderr.contains("does not go with the certificate"), "{stderr}");
    with_tls("server.key", "server.key");
    let (code, _, stderr) = check();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("http.tls.cert_file") && stderr.contains("no CERTIFICATE"), "{stderr}");
    with_tls("server.pem", "missing.key");
    let (code, _, stderr) = check();
    assert!(code == Some(2) && stderr.contains("http.tls.key_file") && stderr.contains("does not exist"), "{stderr}");
    with_tls("server.pem", "server.key");
    let (code, _, stderr) = check();
    assert_eq!(code, Some(0), "{stderr}");

    let mut daemon = Daemon::start_with_env(&config, &["--serve-after-exhausted"], &[("DRIFTD_TEST_TOKEN", "t0ken")]);
    let listening = daemon.wait_for_log("Listening.", deadline);
    assert_eq!(listening["tls"], true, "{listening}");
    let addr = listening["addr"].as_str().unwrap().to_string();
    let https = format!("https://{addr}");
    let trusted = Endpoint::new(&https, Some(&dir.path().join("ca.pem")));
    let healthz = |endpoint: &Endpoint| request_to(endpoint, "GET", "/healthz", None);

    assert_eq!(healthz(&trusted).unwrap(), (200, "ok".to_string()));
    wait_until(deadline, "/readyz over TLS", || {
        (request_to(&trusted, "GET", "/readyz", None).unwrap().0 == 200).then_some(())
    });
    let plain = driftd::http_client::request(&addr, "GET", "/healthz", None);
    assert!(plain.as_ref().map_or(true, |(status, _)| *status != 200), "plain HTTP answered: {plain:?}");
    let untrusted = healthz(&Endpoint::new(&https, Some(&dir.path().join("other-ca.pem"))));
    let refused = untrusted.as_ref().expect_err("a certificate from an untrusted CA is refused").to_string();
    assert!(refused.to_ascii_lowercase().contains("certificate"), "{refused}");

    // The command line: --ca-file, or the variable (which also makes a bare HOST:PORT HTTPS).
    let token = ("DRIFTD_API_TOKEN", "t0ken");
    let ca = file("ca.pem");
    let (code, stdout, stderr) = driftd_cli(
        &["silence", "add", "--addr", &https, "--ca-file", &ca, "--matcher", "rule=x", "--duration", "1h"],
        &[token],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("s1 (until "), "{stdout}");
    let (code, stdout, stderr) = driftd_cli(&["silence", "list", "--addr", &addr], &[("DRIFTD_API_CA_FILE", &ca)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("s1\tactive"), "{stdout}");
    let (code, stdout, stderr) =
        driftd_cli(&["history", "credit-scoring", "--addr", &https, "--ca-file", &ca, "--limit", "1"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.ends_with("1 window(s)\n"), "{stdout}");
    let (code, _, stderr) = driftd_cli(&["history", "credit-scoring", "--addr", &https], &[]);
    assert!(code == Some(2) && stderr.contains("--ca-file or DRIFTD_API_CA_FILE"), "{code:?} {stderr}");

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0), "{}", daemon.rest().join("\n"));
}

/// The same with the daemon's log on the limited file too (stderr to a file): lines are lost
/// while writes fail, never the daemon. (Before, tracing-subscriber's report of the failed
/// write — an `eprintln!` — panicked in the monitor task, which the run took for the end of its
/// sources.)
#[test]
fn a_log_file_that_cannot_be_written_loses_lines_not_the_daemon() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let log = dir.path().join("driftd.log");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(["run", "--config", config.to_str().unwrap(), "--log-format", "json"])
        .args(["--serve-after-exhausted", "--max-rate", "600"])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut daemon = Killed(child);
    let pid = daemon.0.id();
    let addr = wait_until(deadline, "the Listening. line", || {
        let text = std::fs::read_to_string(&log).ok()?;
        let line = text.lines().find(|l| l.contains(r#""message":"Listening.""#))?;
        let parsed: Value = serde_json::from_str(line).ok()?;
        Some(parsed["fields"]["addr"].as_str()?.to_string())
    });
    // Past 4 KiB of log, every further line fails to be written once the limit is set.
    wait_until(deadline, "4 KiB of log", || (std::fs::metadata(&log).ok()?.len() > 4096).then_some(()));
    set_file_size_limit(pid, 4096);
    wait_until(deadline, "/readyz not ready", || (get(&addr, "/readyz").0 == 503).then_some(()));
    wait_until(deadline, "three failed attempts", || {
        let (_, metrics) = get(&addr, "/metrics");
        let failures: f64 = ["inputs", "predictions"]
            .iter()
            .filter_map(|s| {
                let series = format!(r#"driftd_checkpoint_failures_total{{monitor="credit-scoring",stream="{s}"}}"#);
                sample(&metrics, &series)
            })
            .sum();
        (failures >= 3.0).then_some(())
    });
    assert!(daemon.0.try_wait().unwrap().is_none(), "the daemon is alive");

    set_file_size_limit(pid, libc::RLIM_INFINITY);
    wait_until(deadline, "every window closed", || {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        streams.iter().all(|s| s["exhausted"] == true && s["windows_closed"] == 24).then_some(())
    });
    assert_eq!(get(&addr, "/readyz").0, 200);
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let code = wait_until(deadline, "the exit", || daemon.0.try_wait().unwrap().map(|s| s.code()));
    assert_eq!(code, Some(0), "{}", std::fs::read_to_string(&log).unwrap_or_default());
}
