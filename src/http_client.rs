//! A minimal HTTP/1.1 client for the command line's talks with a running daemon
//! (`driftd history`, `driftd silence`): one request over a TCP stream, `Connection: close`,
//! the body read to the end, chunked encoding understood. The daemon's API is on loopback or a
//! private network, without TLS; nothing here is on the daemon's hot path.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// The environment variable the command line takes the API's bearer token from.
pub const TOKEN_ENV: &str = "DRIFTD_API_TOKEN";

/// Why a request to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot reach the daemon at {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("the daemon at {addr} answered {status}: {body}")]
    Status { addr: String, status: u16, body: String },
    #[error("the daemon at {addr} sent an invalid response: {message}")]
    Invalid { addr: String, message: String },
}

/// `METHOD path` with an optional JSON body; the JSON answer of a 2xx status.
pub fn request_json(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, HttpError> {
    let (status, text) = request(addr, method, path, body.map(Value::to_string).as_deref())?;
    if !(200..300).contains(&status) {
        return Err(HttpError::Status { addr: addr.into(), status, body: text.trim().to_string() });
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| HttpError::Invalid { addr: addr.into(), message: e.to_string() })
}

/// One request: (status, body).
pub fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), HttpError> {
    let connect = |source| HttpError::Connect { addr: addr.into(), source };
    let invalid = |message: &str| HttpError::Invalid { addr: addr.into(), message: message.into() };
    let mut stream = TcpStream::connect(addr).map_err(connect)?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(connect)?;
    let body = body.unwrap_or("");
    // The daemon's `http.token_env` token, when the caller has it in DRIFTD_API_TOKEN.
    let authorization = std::env::var(TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty() && !t.contains(['\r', '\n']))
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\n{authorization}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
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
}
