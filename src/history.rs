//! `driftd history`: a monitor's drift history read from a running daemon's HTTP API
//! (`GET /api/v1/monitors/{name}/history`), printed as one line per closed window.
//!
//! Input: the daemon's address and the query. Output: the API's JSON, or a text table
//! (window start and end, stream, events, drifted features with their PSI). HTTP through
//! [`crate::http_client`].

use std::fmt::Write as _;

use serde_json::Value;

use crate::http_client::{request_json_to, Endpoint, HttpError};

/// The history of `monitor` (optionally one stream, the last `limit` windows) as the API's JSON.
pub fn fetch(daemon: &Endpoint, monitor: &str, stream: Option<&str>, limit: Option<usize>) -> Result<Value, HttpError> {
    let mut path = format!("/api/v1/monitors/{}/history", percent_encode(monitor));
    let mut query = Vec::new();
    if let Some(stream) = stream {
        query.push(format!("stream={}", percent_encode(stream)));
    }
    if let Some(limit) = limit {
        query.push(format!("limit={limit}"));
    }
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    request_json_to(daemon, "GET", &path, None)
}

/// One line per window: `start  end  stream  events  drifted (feature psi, …)`.
pub fn render(history: &Value) -> String {
    let mut out = String::new();
    let windows = history["windows"].as_array().map(Vec::as_slice).unwrap_or_default();
    let _ = writeln!(out, "{:<24} {:<24} {:<12} {:>8}  drifted (PSI)", "start", "end", "stream", "events");
    for w in windows {
        let drifted: Vec<String> = w["drifted"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|d| format!("{} {:.3}", d["feature"].as_str().unwrap_or("?"), d["psi"].as_f64().unwrap_or(f64::NAN)))
            .collect();
        let _ = writeln!(
            out,
            "{:<24} {:<24} {:<12} {:>8}  {}",
            w["start"].as_str().unwrap_or("?"),
            w["end"].as_str().unwrap_or("?"),
            w["stream"].as_str().unwrap_or("?"),
            w["events"].as_u64().unwrap_or(0),
            if drifted.is_empty() { "-".to_string() } else { drifted.join(", ") }
        );
    }
    let _ = writeln!(out, "{} window(s)", windows.len());
    out
}

pub(crate) fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(percent_encode("credit-scoring_v2"), "credit-scoring_v2");
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn the_table_has_a_line_per_window() {
        let history = serde_json::json!({"monitor": "m", "windows": [
            {"start": "2026-11-01T12:00:00Z", "end": "2026-11-01T13:00:00Z", "stream": "inputs", "events": 300,
             "drifted": [{"feature": "income", "psi": 0.30462}]},
            {"start": "2026-11-01T13:00:00Z", "end": "2026-11-01T14:00:00Z", "stream": "inputs", "events": 299,
             "drifted": []}
        ]});
        let text = render(&history);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[1].ends_with("income 0.305"), "{text}");
        assert!(lines[2].ends_with(" -"), "{text}");
        assert_eq!(lines[3], "2 window(s)");
    }
}
