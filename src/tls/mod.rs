//! Server-side TLS with rustls: the configuration built from
//! `tls_certificate` / `tls_privatekey` (PEM), client certificates for
//! `tls_verify_hosts` / `tls_try_verify_hosts` against
//! `tls_verify_certificates`, and the facts Exim exposes as $tls_in_*.

pub mod dn;

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;

use crate::smtp::TlsInfo;

/// Debian's CA bundle, for `tls_verify_certificates = system`.
const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Server configurations, by how the client's certificate is treated.
pub struct TlsServer {
    /// Our certificate, PEM, for the -H file's -tls_ourcert.
    pub ourcert: String,
    pub no_client_cert: Arc<ServerConfig>,
    pub try_verify: Option<Arc<ServerConfig>>,
    pub verify: Option<Arc<ServerConfig>>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why a connection's TLS could not be set up: Exim answers STARTTLS
/// with 454 and logs it (Session::tls_setup).
#[derive(Debug, Clone)]
pub enum SetupError {
    /// `tls_certificate` or `tls_privatekey` failed to expand; the text
    /// is Exim's "expansion of ... failed: ...".
    Expansion(String),
    /// The certificate or key (as expanded) could not be used.
    Files { cert: String, key: String, reason: String },
}

/// `tls_verify_certificates`, where some host may be verified: client
/// certificates are asked for only then.
pub fn verify_certificates(cfg: &crate::smtp::SmtpConfig) -> Option<&str> {
    let wants_verify = cfg.tls_verify_hosts.is_some() || cfg.tls_try_verify_hosts.is_some();
    cfg.tls_verify_certificates.as_deref().filter(|_| wants_verify)
}

/// The server for one connection from the files its expansion of the
/// options named (`files`, as Session::tls_files gives them): those
/// files, or a self-signed certificate when none is named, as Exim.
pub fn for_session(
    files: Result<Option<(String, String)>, String>,
    cfg: &crate::smtp::SmtpConfig,
) -> Result<TlsServer, SetupError> {
    match files.map_err(SetupError::Expansion)? {
        Some((cert, key)) => load(&cert, &key, verify_certificates(cfg)).map_err(|reason| SetupError::Files { cert, key, reason }),
        None => self_signed(&cfg.primary_hostname).map_err(|reason| SetupError::Files {
            cert: String::new(),
            key: String::new(),
            reason,
        }),
    }
}

/// A PEM file's error; for a file that cannot be read, the system's text.
fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => crate::texts::errno_text(&e),
        other => other.to_string(),
    }
}

/// Load the certificate chain and key; the error text names the file.
pub fn load(cert: &str, key: &str, verify_certificates: Option<&str>) -> Result<TlsServer, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("tls_certificate file '{cert}': {}", pem_error(e)))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls_certificate file '{cert}': {}", pem_error(e)))?;
    if chain.is_empty() {
        return Err(format!("tls_certificate file '{cert}': no certificate found"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("tls_privatekey file '{key}': {}", pem_error(e)))?;
    from_der(chain, key_der, verify_certificates)
}

/// Exim without `tls_certificate` makes up a self-signed certificate, so
/// STARTTLS works with the default `tls_advertise_hosts = *`.
pub fn self_signed(hostname: &str) -> Result<TlsServer, String> {
    let mut params = rcgen::CertificateParams::new(vec![hostname.to_string()]).map_err(|e| e.to_string())?;
    params.distinguished_name.push(rcgen::DnType::CommonName, hostname);
    let key_pair = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.self_signed(&key_pair).map_err(|e| e.to_string())?;
    let chain = vec![cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(key_pair.serialize_der().into());
    from_der(chain, key, None)
}

fn from_der(
    chain: Vec<CertificateDer<'static>>,
    key_der: PrivateKeyDer<'static>,
    verify_certificates: Option<&str>,
) -> Result<TlsServer, String> {
    let build = |verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>| -> Result<Arc<ServerConfig>, String> {
        let b = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let b = match verifier {
            Some(v) => b.with_client_cert_verifier(v),
            None => b.with_no_client_auth(),
        };
        let c = b.with_single_cert(chain.clone(), key_der.clone_key()).map_err(|e| format!("TLS certificate/key: {e}"))?;
        Ok(Arc::new(c))
    };
    let no_client_cert = build(None)?;
    let (mut try_verify, mut verify) = (None, None);
    if let Some(ca) = verify_certificates {
        // "system": the distribution's bundle, as OpenSSL/GnuTLS builds use.
        let ca = if ca == "system" { SYSTEM_CA_BUNDLE } else { ca };
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(ca).map_err(|e| format!("tls_verify_certificates '{ca}': {e}"))? {
            let c = c.map_err(|e| format!("tls_verify_certificates '{ca}': {e}"))?;
            let _ = roots.add(c);
        }
        let roots = Arc::new(roots);
        let optional = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider())
            .allow_unauthenticated()
            .build()
            .map_err(|e| e.to_string())?;
        let required = WebPkiClientVerifier::builder_with_provider(roots, provider()).build().map_err(|e| e.to_string())?;
        try_verify = Some(build(Some(optional))?);
        verify = Some(build(Some(required))?);
    }
    Ok(TlsServer { ourcert: pem(&chain[0]), no_client_cert, try_verify, verify })
}

/// $tls_in_* after a handshake, with Exim's (OpenSSL-build) cipher text.
pub fn info(conn: &rustls::ServerConnection) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS1.2",
        _ => "TLS",
    };
    let suite = conn.negotiated_cipher_suite().map(|s| format!("{:?}", s.suite())).unwrap_or_default();
    let std_name = suite.trim_start_matches("TLS13_").to_string();
    let std_name = if suite.starts_with("TLS13_") { format!("TLS_{std_name}") } else { std_name };
    let bits = if suite.contains("AES_128") { 128 } else { 256 };
    let verified = conn.peer_certificates().is_some_and(|c| !c.is_empty());
    TlsInfo {
        cipher: Some(format!("{version}:{std_name}:{bits}")),
        cipher_std: Some(std_name),
        version: Some(version.to_string()),
        bits: Some(bits),
        peerdn: conn.peer_certificates().and_then(|c| c.first()).and_then(|c| dn::subject_dn(c.as_ref())),
        sni: conn.server_name().map(String::from),
        certificate_verified: verified,
        peercert: conn.peer_certificates().and_then(|c| c.first()).map(|c| pem(c)),
        ourcert: None,
    }
}

/// A certificate as PEM text, 64 base64 characters a line.
pub fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
