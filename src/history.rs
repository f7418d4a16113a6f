//! `driftd history`: a monitor's drift history read from a running daemon's HTTP API
//! (`GET /api/v1/monitors/{name}/history`), printed as one line per closed window.
//!
//! Input: the daemon's address and the query. Output: the API's JSON, or a text table
//! (window start and end, stream, events, drifted features with their PSI). A minimal
//! HTTP/1.1 client over a TCP stream (the endpoint is on loopback or a private network; no TLS):
//! one request, `Connection: close`, body read to the end, chunked encoding understood.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// Why the history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot reach the daemon at {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("the daemon at {addr} answered {status}: {body}")]
    Status { addr: String, status: u16, body: String },
    #[error("the daemon at {addr} sent an invalid response: {message}")]
    Invalid { addr: String, message: String },
}

/// The history of `monitor` (optionally one stream, the last `limit` windows) as the API's JSON.
pub fn fetch(addr: &str, monitor: &str, stream: Option<&str>, limit: Option<usize>) -> Result<Value, HistoryError> {
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
    let (status, body) = get(addr, &path)?;
    if status != 200 {
        return Err(HistoryError::Status { addr: addr.into(), status, body: body.trim().to_string() });
    }
    serde_json::from_str(&body).map_err(|e| HistoryError::Invalid { addr: addr.into(), message: e.to_string() })
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

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET path` over HTTP/1.1: (status, body).
fn get(addr: &str, path: &str) -> Result<(u16, String), HistoryError> {
    let connect = |source| HistoryError::Connect { addr: addr.into(), source };
    let invalid = |message: &str| HistoryError::Invalid { addr: addr.into(), message: message.into() };
    let mut stream = TcpStream::connect(addr).map_err(connect)?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(connect)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\r\n")
        .map_err(connect)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(connect)?;
    let response = String::from_utf8(response).map_err(|_| invalid("the response is not UTF-8"))?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| invalid("no end of headers"))?;
    let status =
        head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| invalid("no status code"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(body).ok_or_else(|| invalid("bad chunked encoding"))? } else { body.to_string() };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_reassembled() {
        assert_eq!(dechunk("4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\n\r\n").as_deref(), Some("Wikipedia"));
        assert_eq!(dechunk("4\r\nWi"), None);
    }

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
