//! Alert rules inside `driftd run`, end to end over the quick start (examples/quickstart:
//! hourly windows, drift from noon, the rules of examples/quickstart/rules.yaml): which alerts
//! fire, the alert metrics and API, exactly one retraining trigger across a `kill -9` and a
//! restart, and silences added through the HTTP API and the CLI.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{get, get_json, quickstart_config, sample, wait_until, Daemon, TEST_DEADLINE};
use serde_json::Value;

fn ready(daemon: &mut Daemon, deadline: Instant) -> String {
    let addr = daemon.wait_for_log("Listening.", deadline)["addr"].as_str().unwrap().to_string();
    wait_until(deadline, "/readyz", || (get(&addr, "/readyz").0 == 200).then_some(()));
    addr
}

/// The `Notification produced.` log lines of `action`.
fn produced<'a>(lines: &'a [String], action: &str) -> Vec<&'a String> {
    let needle = format!(r#""action":"{action}""#);
    lines.iter().filter(|l| l.contains(r#""message":"Notification produced.""#) && l.contains(&needle)).collect()
}

#[test]
fn the_quickstart_drift_fires_its_alerts_and_one_retraining_trigger() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let mut daemon = Daemon::start(&config, &["--serve-after-exhausted"]);
    let addr = ready(&mut daemon, deadline);
    wait_until(deadline, "every window closed", || {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        streams.iter().all(|s| s["exhausted"] == true).then_some(())
    });

    // Firing at the end: the two drifted inputs, the retraining rule, the score.
    let alerts = get_json(&addr, "/api/v1/alerts");
    let mut firing: Vec<(String, String)> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "firing")
        .map(|a| (a["rule"].as_str().unwrap().to_string(), a["feature"].as_str().unwrap().to_string()))
        .collect();
    firing.sort();
    let expected: Vec<(String, String)> = [
        ("input_psi_high", "income"),
        ("input_psi_high", "loan_purpose"),
        ("retrain_on_input_drift", "*"),
        ("score_psi_high", "score"),
    ]
    .iter()
    .map(|(r, f)| (r.to_string(), f.to_string()))
    .collect();
    assert_eq!(firing, expected, "{alerts}");
    // Fired in the 13:00–14:00 window: pending at 13:00 (`for: 2 windows`).
    let income = alerts["alerts"].as_array().unwrap().iter().find(|a| a["feature"] == "income").unwrap();
    assert_eq!(income["active_since"], "2026-11-01T12:00:00Z");
    assert_eq!(income["fired_at"], "2026-11-01T14:00:00Z");

    let (_, metrics) = get(&addr, "/metrics");
    let gauge = |rule: &str, state: &str| {
        sample(&metrics, &format!(r#"driftd_alerts{{rule="{rule}",monitor="credit-scoring",state="{state}"}}"#))
    };
    assert_eq!(gauge("input_psi_high", "firing"), Some(2.0), "{metrics}");
    assert_eq!(gauge("retrain_on_input_drift", "firing"), Some(1.0), "{metrics}");
    assert_eq!(gauge("input_psi_high", "pending"), Some(0.0), "{metrics}");

    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));
    let lines = daemon.rest();
    // One retraining trigger for the whole episode (the action's cooldown is a day), one
    // grouped `log` notification per rule firing (not one per feature).
    assert_eq!(produced(&lines, "retrain").len(), 1, "{lines:#?}");
    let transitions = lines.iter().filter(|l| l.contains(r#""message":"Alert state changed.""#)).count();
    assert!(transitions >= 8, "{transitions}");
}

#[test]
fn kill_9_after_a_retraining_trigger_does_not_send_it_again() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    // Paced, so the kill lands mid-run (the trigger comes at the 14:00 window, row ~4,200).
    let mut first = Daemon::start(&config, &["--max-rate", "1500"]);
    loop {
        let fields = first.wait_for_log("Notification produced.", deadline);
        if fields["action"] == "retrain" {
            break;
        }
    }
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(10));
    let before = first.rest();
    assert_eq!(produced(&before, "retrain").len(), 1);

    let mut second = Daemon::start(&config, &[]);
    assert_eq!(second.wait_exit(TEST_DEADLINE), Some(0), "{}", second.rest().join("\n"));
    let after = second.rest();
    assert!(after.iter().any(|l| l.contains("Resumed from the checkpoint.")), "{after:#?}");
    assert_eq!(produced(&after, "retrain").len(), 0, "{after:#?}");
    // The alerts kept firing across the restart: no new pending → firing for income.
    let refired = after
        .iter()
        .filter(|l| {
            l.contains(r#""to":"firing""#) && l.contains(r#""feature":"income""#) && l.contains("input_psi_high")
        })
        .count();
    assert_eq!(refired, 0, "{after:#?}");
}

#[test]
fn silenced_alerts_are_tracked_but_not_notified() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    // A first, slow run only to add the silence through the CLI; it is stored with the state.
    let mut first = Daemon::start(&config, &["--max-rate", "100"]);
    let addr = ready(&mut first, deadline);
    let driftd = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_driftd")).args(args).output().unwrap();
    let added = driftd(&[
        "silence",
        "add",
        "--addr",
        &addr,
        "--matcher",
        "rule=input_psi_high",
        "--matcher",
        "feature=loan_*",
        "--duration",
        "1h",
        "--comment",
        "known: new loan purpose launched",
    ]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("s1 (until "));
    let bad = driftd(&["silence", "add", "--addr", &addr, "--matcher", "rule=x", "--duration", "0s"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("400"), "{}", String::from_utf8_lossy(&bad.stderr));
    first.signal("TERM");
    assert_eq!(first.wait_exit(Duration::from_secs(10)), Some(0));

    let mut second = Daemon::start(&config, &["--serve-after-exhausted"]);
    let addr = ready(&mut second, deadline);
    let listed = driftd(&["silence", "list", "--addr", &addr]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(listed.starts_with("s1\tactive\t") && listed.contains("feature=loan_*,rule=input_psi_high"), "{listed}");
    wait_until(deadline, "every window closed", || {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        streams.iter().all(|s| s["exhausted"] == true).then_some(())
    });
    // Still tracked: loan_purpose fires.
    let alerts = get_json(&addr, "/api/v1/alerts");
    assert!(
        alerts["alerts"].as_array().unwrap().iter().any(|a| a["feature"] == "loan_purpose" && a["status"] == "firing"),
        "{alerts}"
    );
    let (_, metrics) = get(&addr, "/metrics");
    assert!(sample(&metrics, "driftd_alerts_silenced_total").unwrap_or(0.0) >= 1.0, "{metrics}");
    let expired = driftd(&["silence", "expire", "--addr", &addr, "s1"]);
    assert!(expired.status.success());
    let listed: Value = get_json(&addr, "/api/v1/silences");
    assert_eq!(listed["silences"][0]["active"], false);
    second.signal("TERM");
    assert_eq!(second.wait_exit(Duration::from_secs(10)), Some(0));
    let lines = second.rest();
    assert!(lines.iter().any(|l| l.contains(r#""message":"Alerts silenced.""#)), "{lines:#?}");
}

#[test]
fn sighup_reloads_the_rules_and_keeps_the_states_of_unchanged_rules() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let mut daemon = Daemon::start(&config, &["--max-rate", "500", "--serve-after-exhausted"]);
    let addr = ready(&mut daemon, deadline);
    // Wait until income fires (the 14:00 window), then edit the rules: a new annotation on
    // input_psi_high (not part of its identity: its states stay) and another bound on
    // score_psi_high (a changed rule: its states start over).
    loop {
        let fields = daemon.wait_for_log("Alert state changed.", deadline);
        if fields["feature"] == "income" && fields["to"] == "firing" {
            break;
        }
    }
    let rules = dir.path().join("rules.yaml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let edited = text
        .replace(
            "severity: warning\n    labels: { team: risk }",
            "severity: warning\n    labels: { team: risk }\n    # edited",
        )
        .replace("summary: \"PSI {{ value }}", "summary: \"(reloaded) PSI {{ value }}")
        .replace("sample_size_aware: { alpha: 0.001 }", "sample_size_aware: { alpha: 0.0001 }");
    assert_ne!(edited, text);
    std::fs::write(&rules, edited).unwrap();
    daemon.signal("HUP");
    daemon.wait_for_log("Rules reloaded (SIGHUP).", deadline);
    wait_until(deadline, "every window closed", || {
        let status = get_json(&addr, "/api/v1/monitors");
        let streams = status["monitors"][0]["streams"].as_array().unwrap().clone();
        streams.iter().all(|s| s["exhausted"] == true).then_some(())
    });
    let alerts = get_json(&addr, "/api/v1/alerts");
    let income = alerts["alerts"].as_array().unwrap().iter().find(|a| a["feature"] == "income").cloned().unwrap();
    assert_eq!(income["fired_at"], "2026-11-01T14:00:00Z", "kept across the reload: {alerts}");

    // A broken file is reported and the rules in force stay.
    std::fs::write(&rules, "rules: [ {name: broken").unwrap();
    daemon.signal("HUP");
    let refused =
        daemon.wait_for_log("Rules not reloaded: the files have problems; the rules in force stay.", deadline);
    assert!(refused["problems"].as_str().unwrap().contains("rules.yaml:1:"), "{refused}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));
    let lines = daemon.rest();
    let reload_at = lines.iter().position(|l| l.contains("Rules reloaded (SIGHUP).")).unwrap();
    let after = &lines[reload_at..];
    let income_restarted = after.iter().any(|l| {
        l.contains(r#""message":"Alert state changed.""#)
            && l.contains(r#""feature":"income""#)
            && l.contains(r#""from":"inactive""#)
    });
    assert!(!income_restarted, "{after:#?}");
}

/// The API behind a token (`http.token_env`): a mutating request without it is refused (401),
/// the CLI sends it from DRIFTD_API_TOKEN; a request naming another Host (DNS rebinding) and a
/// body-less POST without the JSON content type (a cross-site form) are refused even with it.
#[test]
fn the_api_requires_its_token_for_changes_and_refuses_foreign_hosts() {
    let deadline = Instant::now() + TEST_DEADLINE;
    let dir = tempfile::tempdir().unwrap();
    let config = quickstart_config(dir.path(), "127.0.0.1:0");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:0\n  token_env: DRIFTD_TEST_API_TOKEN");
    assert!(text.contains("token_env"));
    std::fs::write(&config, text).unwrap();
    let mut daemon =
        Daemon::start_with_env(&config, &["--serve-after-exhausted"], &[("DRIFTD_TEST_API_TOKEN", "t0ken-42")]);
    let addr = ready(&mut daemon, deadline);

    let body = r#"{"matchers": {"rule": "*"}, "duration": "1h"}"#;
    let (status, answer) = driftd::http_client::request(&addr, "POST", "/api/v1/silences", Some(body)).unwrap();
    assert_eq!(status, 401, "{answer}");
    let driftd = |args: &[&str], token: &str| {
        Command::new(env!("CARGO_BIN_EXE_driftd")).args(args).env("DRIFTD_API_TOKEN", token).output().unwrap()
    };
    let add = ["silence", "add", "--addr", &addr, "--matcher", "rule=x", "--duration", "1h"];
    let refused = driftd(&add, "wrong");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"), "{}", String::from_utf8_lossy(&refused.stderr));
    let added = driftd(&add, "t0ken-42");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // Reads stay open (auth: mutating, the default).
    assert_eq!(get_json(&addr, "/api/v1/silences")["silences"].as_array().unwrap().len(), 1);

    let raw = |request: String| {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let rebound = raw(format!(
        "GET /api/v1/alerts HTTP/1.1\r\nHost: evil.example:{}\r\nConnection: close\r\n\r\n",
        addr.rsplit_once(':').unwrap().1
    ));
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    let form = raw(format!(
        "POST /api/v1/notifications/failed?key=k HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer t0ken-42\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    assert!(form.starts_with("HTTP/1.1 415"), "{form}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(Duration::from_secs(10)), Some(0));
}
