//! Checks and resolution of the daemon's servers and peers: `smtp:` (the email actions' relay:
//! credentials never in plain text off this machine, a CA file that exists) and `http:` (TLS
//! files that load as a chain and its key, a bounded request timeout).

use std::time::Duration;

use super::error::KeyPath;
use super::model::*;
use super::schema;
use super::validate::{Checker, DEFAULT_REQUEST_TIMEOUT};

impl Checker<'_> {
    pub(super) fn smtp(&mut self, path: &KeyPath, smtp: schema::Smtp) -> SmtpConfig {
        let tls = smtp.tls.unwrap_or(SmtpTls::Starttls);
        let port = smtp.port.unwrap_or(match tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        if smtp.host.trim().is_empty() {
            self.error(&path.key("host"), "the host is empty");
        }
        if !smtp.from.contains('@') {
            self.error(&path.key("from"), format!("{:?} is not an email address", smtp.from));
        }
        for (key, value) in [("username_env", &smtp.username_env), ("password_env", &smtp.password_env)] {
            if let Some(name) = value {
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.error(&path.key(key), format!("{name:?} is not an environment variable name"));
                }
            }
        }
        let loopback = smtp.host == "localhost"
            || smtp.host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if tls == SmtpTls::None && !loopback && (smtp.username_env.is_some() || smtp.password_env.is_some()) {
            self.error(
                &path.key("tls"),
                format!(
                    "credentials would cross the network in plain text to {}: use `tls: starttls` or `tls: tls` \
                     (`none` is for a relay on this machine)",
                    smtp.host
                ),
            );
        }
        let ca_file = smtp.ca_file.as_deref().map(|text| self.existing_file(&path.key("ca_file"), text));
        let timeout = match &smtp.timeout {
            None => Duration::from_secs(30),
            Some(text) => match super::duration::parse_duration(text) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => {
                    self.error(&path.key("timeout"), "the timeout must be positive");
                    Duration::from_secs(30)
                }
                Err(message) => {
                    self.error(&path.key("timeout"), message);
                    Duration::from_secs(30)
                }
            },
        };
        SmtpConfig {
            host: smtp.host,
            port,
            tls,
            username_env: smtp.username_env,
            password_env: smtp.password_env,
            from: smtp.from,
            timeout,
            ca_file,
        }
    }

    /// `http.tls`: both files exist and load as a certificate chain and its key (the error
    /// names the field at fault).
    pub(super) fn http_tls(&mut self, path: &KeyPath, tls: schema::HttpTls) -> HttpTlsConfig {
        let (cert_path, key_path) = (path.key("cert_file"), path.key("key_file"));
        let cert_file = self.existing_file(&cert_path, &tls.cert_file);
        let key_file = self.existing_file(&key_path, &tls.key_file);
        if !self.has_problem(&cert_path) && !self.has_problem(&key_path) {
            match crate::tls::server_config(&cert_file, &key_file) {
                Ok(_) => {}
                Err(crate::tls::TlsError::Cert(message)) => self.error(&cert_path, message),
                Err(crate::tls::TlsError::Key(message)) => self.error(&key_path, message),
            }
        }
        HttpTlsConfig { cert_file, key_file }
    }

    /// `http.request_timeout`: positive, at most an hour (default [`DEFAULT_REQUEST_TIMEOUT`]).
    pub(super) fn http_timeout(&mut self, path: &KeyPath, text: &Option<String>) -> Duration {
        let Some(text) = text else { return DEFAULT_REQUEST_TIMEOUT };
        match super::duration::parse_duration(text) {
            Ok(d) if !d.is_zero() && d <= Duration::from_secs(3600) => d,
            Ok(_) => {
                self.error(path, "must be positive and at most 1h");
                DEFAULT_REQUEST_TIMEOUT
            }
            Err(message) => {
                self.error(path, message);
                DEFAULT_REQUEST_TIMEOUT
            }
        }
    }
}
