//! TLS for the API (`http.tls`): the listener's certificate chain and private key read from PEM
//! files into a rustls server configuration, and the command line's client configuration
//! trusting a CA file (`--ca-file`, `DRIFTD_API_CA_FILE`). Both use rustls' ring provider, as
//! reqwest and lettre do in this daemon, so there is one TLS stack. `driftd check` builds the
//! server configuration too, so a bad file, a key that is not the certificate's or a PEM
//! without the expected block is reported against its field before the daemon starts.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why a TLS configuration cannot be built, by the field it comes from.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `http.tls.cert_file` (or the CA file of the client).
    #[error("{0}")]
    Cert(String),
    /// `http.tls.key_file`.
    #[error("{0}")]
    Key(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file (at least one).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Cert(format!("{shown}: not a PEM file of certificates: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Cert(format!("{shown}: no CERTIFICATE block in the PEM file")));
    }
    Ok(certs)
}

/// The server configuration of the API listener: `cert_file` holds the certificate chain (the
/// server's first), `key_file` its private key (PKCS#8, PKCS#1 or SEC1), both PEM.
pub fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = certificates(cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| TlsError::Key(format!("{}: no private key in the PEM file: {e}", key_file.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Cert(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            TlsError::Key(format!(
                "{} does not go with the certificate in {}: {e}",
                key_file.display(),
                cert_file.display()
            ))
        })?;
    Ok(Arc::new(config))
}

/// A client configuration trusting the certificate authorities of `ca_file` (PEM) only.
pub fn client_config(ca_file: &Path) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(ca_file)? {
        roots.add(cert).map_err(|e| TlsError::Cert(format!("{}: {e}", ca_file.display())))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Cert(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Installs rustls' ring provider as the process default, once. reqwest and lettre are built
/// without a provider of their own (keeping aws-lc and OpenSSL out of the build), so one must
/// be installed before the first TLS connection; a provider already installed (by another
/// part of the daemon, or a test) is fine.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
