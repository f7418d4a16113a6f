//! A minimal HTTP/1.1 client for the command line's talks with a running daemon
//! (`driftd history`, `driftd silence`): one request over a TCP stream — or TLS, for an
//! `https://` address or when a CA file is given (`--ca-file`, [`CA_FILE_ENV`]) —
//! `Connection: close`, the body read to the end, chunked encoding understood. Nothing here is
//! on the daemon's hot path.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// The environment variable the command line takes the API's bearer token from.
pub const TOKEN_ENV: &str = "DRIFTD_API_TOKEN";
/// The environment variable naming the PEM file of the CA that signed the daemon's
/// certificate (`http.tls`); setting it makes the command line talk HTTPS.
pub const CA_FILE_ENV: &str = "DRIFTD_API_CA_FILE";
/// Why a request to the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot reach the daemon at {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("the daemon at {addr} answered {status}: {body}")]
    Status { addr: String, status: u16, body: String },
    #[error("the daemon at {addr} sent an invalid response: {message}")]
    Invalid { addr: String, message: String },
    #[error("TLS to the daemon at {addr}: {message}")]
    Tls { addr: String, message: String },
}

/// How to reach the daemon: its address (`HOST:PORT`, `http://HOST:PORT` or
/// `https://HOST:PORT`) and the CA file to trust for HTTPS (else [`CA_FILE_ENV`]'s).
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    pub addr: String,
    pub ca_file: Option<PathBuf>,
}

impl Endpoint {
    pub fn new(addr: &str, ca_file: Option<&Path>) -> Endpoint {
        Endpoint { addr: addr.to_string(), ca_file: ca_file.map(Path::to_path_buf) }
    }

    /// (`HOST:PORT`, the CA file when the endpoint is HTTPS). HTTPS without a CA file is an
    /// error: the daemon's certificate is usually from a private CA.
    fn resolve(&self) -> Result<(&str, Option<PathBuf>), HttpError> {
        let ca_file =
            self.ca_file.clone().or_else(|| std::env::var_os(CA_FILE_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
        if let Some(rest) = self.addr.strip_prefix("https://") {
            let ca_file = ca_file.ok_or_else(|| HttpError::Tls {
                addr: self.addr.clone(),
                message: format!("give the CA file of the daemon's certificate: --ca-file or {CA_FILE_ENV}"),
            })?;
            Ok((rest.trim_end_matches('/'), Some(ca_file)))
        } else if let Some(rest) = self.addr.strip_prefix("http://") {
            Ok((rest.trim_end_matches('/'), None))
        } else {
            Ok((self.addr.as_str(), ca_file))
        }
    }
}

/// [`request_json`] to an [`Endpoint`] (HTTPS when it says so).
pub fn request_json_to(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, HttpError> {
    let addr = endpoint.addr.as_str();
    let (status, text) = request_to(endpoint, method, path, body.map(Value::to_string).as_deref())?;
    if !(200..300).contains(&status) {
        return Err(HttpError::Status { addr: addr.into(), status, body: text.trim().to_string() });
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| HttpError::Invalid { addr: addr.into(), message: e.to_string() })
}

/// `METHOD path` with an optional JSON body; the JSON answer of a 2xx status.
pub fn request_json(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, HttpError> {
    request_json_to(&Endpoint::new(addr, None), method, path, body)
}

/// One request: (status, body).
pub fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), HttpError> {
    request_to(&Endpoint::new(addr, None), method, path, body)
}

/// One request to an [`Endpoint`]: (status, body).
pub fn request_to(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), HttpError> {
    let shown = endpoint.addr.as_str();
    let (addr, ca_file) = endpoint.resolve()?;
    let connect = |source| HttpError::Connect { addr: shown.into(), source };
    let invalid = |message: &str| HttpError::Invalid { addr: shown.into(), message: message.into() };
    let tcp = TcpStream::connect(addr).map_err(connect)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30))).map_err(connect)?;
    let mut stream: Box<dyn ReadWrite> = match ca_file {
        None => Box::new(tcp),
        Some(ca_file) => Box::new(tls_stream(shown, addr, &ca_file, tcp)?),
    };
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
    stream.flush().map_err(connect)?;
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => {}
        // A TLS peer that closes without close_notify: what arrived is parsed as usual.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(connect(e)),
    }
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

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A TLS client stream over `tcp` to `addr` (`HOST:PORT`; the certificate must name HOST, a
/// DNS name or an IP address), trusting `ca_file` only.
fn tls_stream(
    shown: &str,
    addr: &str,
    ca_file: &Path,
    tcp: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, HttpError> {
    let fail = |message: String| HttpError::Tls { addr: shown.into(), message };
    let config = crate::tls::client_config(ca_file).map_err(|e| fail(e.to_string()))?;
    let host = match addr.rsplit_once(':') {
        Some((host, _)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => addr,
    };
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| fail(format!("{host:?} is not a server name: {e}")))?;
    let connection = rustls::ClientConnection::new(config, name).map_err(|e| fail(e.to_string()))?;
    Ok(rustls::StreamOwned::new(connection, tcp))
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
