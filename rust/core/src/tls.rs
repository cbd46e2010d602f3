//! Sans-I/O TLS client sessions over rustls (ring provider).
//!
//! Ciphertext in, plaintext out, and the reverse: no socket is touched, so a session
//! can run inside another one's plaintext (HTTPS through an HTTPS proxy). This is the
//! only file that names rustls 0.23's `ClientConnection` I/O API (`read_tls`,
//! `process_new_packets`, `reader`, `writer`, `write_tls`), which later rustls versions
//! change: the dependency is pinned to 0.23 for it.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};

/// How the server is authenticated.
#[derive(Debug, Clone)]
pub enum Verify {
    /// The platform trust store (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else /etc/ssl/certs).
    Platform,
    /// These PEM certificates as the only trust anchors.
    CaPem(Vec<u8>),
    /// Encrypt without authenticating (`ssl=False`); handshake signatures still checked.
    NoVerify,
    /// Accept exactly the end-entity certificate with this DER SHA-256.
    Fingerprint([u8; 32]),
}

/// A TLS failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsError {
    /// The certificate was refused: untrusted, expired, wrong name, ...
    Certificate {
        /// OpenSSL's verify code for it (10 expired, 20 unknown issuer, 62 wrong name,
        /// ...), what Python's `SSLCertVerificationError.verify_code` reports.
        code: u32,
        /// OpenSSL's wording of it (`verify_message`).
        reason: String,
    },
    /// The pinned fingerprint does not match.
    FingerprintMismatch {
        /// The pinned digest.
        expected: [u8; 32],
        /// The server certificate's digest.
        got: [u8; 32],
    },
    /// Any other handshake or record failure (alerts included).
    Handshake {
        /// What rustls said.
        reason: String,
    },
    /// The stream ended without close_notify.
    Truncated,
    /// Bad settings (unparsable CA file, invalid server name).
    Config(String),
}

impl TlsError {
    /// A stable snake_case name.
    pub fn kind(&self) -> &'static str {
        match self {
            TlsError::Certificate { .. } => "certificate",
            TlsError::FingerprintMismatch { .. } => "fingerprint_mismatch",
            TlsError::Handshake { .. } => "handshake",
            TlsError::Truncated => "truncated",
            TlsError::Config(_) => "config",
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Certificate { reason, .. } => {
                write!(f, "certificate verify failed: {reason}")
            }
            TlsError::FingerprintMismatch { expected, got } => {
                write!(
                    f,
                    "fingerprint mismatch: expected {}, got {}",
                    hex(expected),
                    hex(got)
                )
            }
            TlsError::Handshake { reason } => write!(f, "TLS handshake failed: {reason}"),
            TlsError::Truncated => write!(f, "TLS stream ended without close_notify"),
            TlsError::Config(why) => write!(f, "invalid TLS settings: {why}"),
        }
    }
}

impl std::error::Error for TlsError {}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug)]
struct Mismatch {
    got: [u8; 32],
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate fingerprint {} is not the pinned one",
            hex(&self.got)
        )
    }
}

impl std::error::Error for Mismatch {}

fn from_rustls(err: rustls::Error, pinned: Option<[u8; 32]>) -> TlsError {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            match (other.0.downcast_ref::<Mismatch>(), pinned) {
                (Some(m), Some(expected)) => TlsError::FingerprintMismatch {
                    expected,
                    got: m.got,
                },
                _ => TlsError::Certificate {
                    code: 1,
                    reason: other.0.to_string(),
                },
            }
        }
        rustls::Error::InvalidCertificate(e) => {
            let (code, reason) = openssl_verify_error(&e);
            TlsError::Certificate { code, reason }
        }
        other => TlsError::Handshake {
            reason: other.to_string(),
        },
    }
}

/// OpenSSL's verify code and message for a refused certificate: what aiohttp users read
/// from `certificate_error.verify_code` / `verify_message`.
fn openssl_verify_error(e: &CertificateError) -> (u32, String) {
    let (code, message) = match e {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            (10, "certificate has expired")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            (9, "certificate is not yet valid")
        }
        CertificateError::UnknownIssuer => (20, "unable to get local issuer certificate"),
        CertificateError::Revoked => (23, "certificate revoked"),
        CertificateError::BadSignature => (7, "certificate signature failure"),
        CertificateError::UnhandledCriticalExtension => (34, "unhandled critical extension"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            (26, "unsupported certificate purpose")
        }
        CertificateError::NotValidForNameContext { expected, .. } => {
            return match expected {
                ServerName::IpAddress(ip) => (
                    64,
                    format!(
                        "IP address mismatch, certificate is not valid for '{}'.",
                        std::net::IpAddr::from(*ip)
                    ),
                ),
                name => (
                    62,
                    format!(
                        "Hostname mismatch, certificate is not valid for '{}'.",
                        name.to_str()
                    ),
                ),
            };
        }
        CertificateError::NotValidForName => (62, "Hostname mismatch"),
        other => return (1, format!("certificate verify failed ({other:?})")),
    };
    (code, message.to_string())
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Parsing the trust store is the costly part: one per (SSL_CERT_FILE, SSL_CERT_DIR).
fn platform_roots() -> Result<Arc<RootCertStore>, TlsError> {
    type Cache = Mutex<HashMap<(Option<String>, Option<String>), Arc<RootCertStore>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (
        std::env::var("SSL_CERT_FILE").ok(),
        std::env::var("SSL_CERT_DIR").ok(),
    );
    let cache = CACHE.get_or_init(Default::default);
    if let Some(roots) = cache.lock().expect("cache lock").get(&key) {
        return Ok(roots.clone());
    }
    let mut roots = RootCertStore::empty();
    let (file, dir) = &key;
    let mut add_file = |path: &Path| {
        if let Ok(iter) = CertificateDer::pem_file_iter(path) {
            roots.add_parsable_certificates(iter.flatten());
        }
    };
    match (file, dir) {
        (None, None) => {
            for path in [
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/cert.pem",
            ] {
                if Path::new(path).exists() {
                    add_file(Path::new(path));
                    break;
                }
            }
        }
        _ => {
            if let Some(file) = file {
                add_file(Path::new(file));
            }
            if let Some(dir) = dir {
                for d in dir.split(':') {
                    if let Ok(entries) = std::fs::read_dir(d) {
                        for entry in entries.flatten() {
                            if entry.path().is_file() {
                                add_file(&entry.path());
                            }
                        }
                    }
                }
            }
        }
    }
    if roots.is_empty() {
        return Err(TlsError::Config(
            "no trusted certificates found (set SSL_CERT_FILE)".into(),
        ));
    }
    let roots = Arc::new(roots);
    cache.lock().expect("cache lock").insert(key, roots.clone());
    Ok(roots)
}

/// Accepts the chain without checking it (NoVerify) or by its pin (Fingerprint).
///
/// With a pin, the handshake signatures are verified with the certificate's key: that
/// is what proves the server holds the pinned certificate. Without one (`ssl=False`)
/// anyone may present any certificate, so a signature proves nothing and is not
/// checked: that lets `ssl=False` reach what aiohttp (OpenSSL) reaches, devices with
/// X.509 v1, RSA-1024 or P-521 certificates, which webpki cannot verify.
#[derive(Debug)]
struct PinningVerifier {
    pin: Option<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(pin) = self.pin {
            let got = sha256(end_entity);
            if got != pin {
                return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    rustls::OtherError(Arc::new(Mismatch { got })),
                )));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if self.pin.is_none() {
            return Ok(HandshakeSignatureValid::assertion());
        }
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if self.pin.is_none() {
            return Ok(HandshakeSignatureValid::assertion());
        }
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        if self.pin.is_none() {
            // Whatever the server's key: nothing is verified with it (see above).
            return vec![
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PSS_SHA384,
                SignatureScheme::RSA_PSS_SHA512,
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::ECDSA_NISTP521_SHA512,
                SignatureScheme::ED25519,
                SignatureScheme::ED448,
                SignatureScheme::RSA_PKCS1_SHA256,
                SignatureScheme::RSA_PKCS1_SHA384,
                SignatureScheme::RSA_PKCS1_SHA512,
                SignatureScheme::RSA_PKCS1_SHA1,
                SignatureScheme::ECDSA_SHA1_Legacy,
            ];
        }
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Client TLS settings, built once and shared (cloning is cheap).
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ClientConfig>,
    pin: Option<[u8; 32]>,
    /// The certificate must be valid for the server's name (Platform, CaPem).
    verifies_name: bool,
}

impl TlsConfig {
    /// Settings for `verify`: TLS 1.2 and 1.3, ALPN `http/1.1`.
    pub fn new(verify: Verify) -> Result<TlsConfig, TlsError> {
        Self::with_alpn(verify, &[b"http/1.1"])
    }

    /// Settings with the given ALPN protocols (none for WebSocket-only use is fine too).
    pub fn with_alpn(verify: Verify, alpn: &[&[u8]]) -> Result<TlsConfig, TlsError> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let pin = if let Verify::Fingerprint(p) = verify {
            Some(p)
        } else {
            None
        };
        let verifies_name = matches!(verify, Verify::Platform | Verify::CaPem(_));
        let mut config = match verify {
            Verify::Platform => builder
                .with_root_certificates(platform_roots()?)
                .with_no_client_auth(),
            Verify::CaPem(pem) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| TlsError::Config(format!("bad CA PEM: {e:?}")))?;
                    roots
                        .add(cert)
                        .map_err(|e| TlsError::Config(e.to_string()))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Verify::NoVerify | Verify::Fingerprint(_) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinningVerifier { pin, provider }))
                .with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(TlsConfig {
            config: Arc::new(config),
            pin,
            verifies_name,
        })
    }
}

/// A negotiated cipher suite, named as OpenSSL (and so Python's `ssl`) names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherInfo {
    /// OpenSSL's name: `TLS_AES_256_GCM_SHA384`, `ECDHE-RSA-AES128-GCM-SHA256`, ...
    /// (the IANA name for a suite OpenSSL does not name).
    pub name: &'static str,
    /// The protocol version the suite belongs to: `TLSv1.3` or `TLSv1.2`.
    pub protocol: &'static str,
    /// The secret key bits (256 for AES-256 and ChaCha20, 128 for AES-128).
    pub bits: u32,
}

impl CipherInfo {
    fn of(suite: rustls::CipherSuite) -> CipherInfo {
        use rustls::CipherSuite as S;
        let (name, protocol, bits) = match suite {
            S::TLS13_AES_128_GCM_SHA256 => ("TLS_AES_128_GCM_SHA256", "TLSv1.3", 128),
            S::TLS13_AES_256_GCM_SHA384 => ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256),
            S::TLS13_CHACHA20_POLY1305_SHA256 => ("TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", 256),
            S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => {
                ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", 128)
            }
            S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => {
                ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2", 256)
            }
            S::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
                ("ECDHE-ECDSA-CHACHA20-POLY1305", "TLSv1.2", 256)
            }
            S::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => {
                ("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", 128)
            }
            S::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => {
                ("ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.2", 256)
            }
            S::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => {
                ("ECDHE-RSA-CHACHA20-POLY1305", "TLSv1.2", 256)
            }
            // Not offered by the ring provider: the IANA name, bits unknown.
            other => {
                let name = other.as_str().unwrap_or("unknown");
                let protocol = if name.starts_with("TLS13_") {
                    "TLSv1.3"
                } else {
                    "TLSv1.2"
                };
                (name, protocol, 0)
            }
        };
        CipherInfo {
            name,
            protocol,
            bits,
        }
    }
}

/// One TLS client session, bytes in and bytes out.
pub struct TlsSession {
    conn: ClientConnection,
    pin: Option<[u8; 32]>,
    peer_closed: bool,
}

impl TlsSession {
    /// Start a session; returns it and the ClientHello to send. SNI is sent for DNS
    /// names only, never for IP addresses (RFC 6066 §3).
    ///
    /// A name that is no DNS name or IP address ("bad host", "foo.123") can match no
    /// certificate: refused as a name mismatch when the name is verified (what OpenSSL
    /// reports for it), sent without SNI when it is not (`ssl=False`, a pin).
    pub fn new(config: &TlsConfig, server_name: &str) -> Result<(TlsSession, Vec<u8>), TlsError> {
        let name = match ServerName::try_from(
            server_name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        ) {
            Ok(name) => name,
            Err(_) if config.verifies_name => {
                return Err(TlsError::Certificate {
                    code: 62,
                    reason: format!(
                        "Hostname mismatch, certificate is not valid for '{server_name}'."
                    ),
                })
            }
            Err(_) => ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()),
        };
        let conn = ClientConnection::new(config.config.clone(), name)
            .map_err(|e| from_rustls(e, config.pin))?;
        let mut session = TlsSession {
            conn,
            pin: config.pin,
            peer_closed: false,
        };
        let mut hello = Vec::new();
        session.flush(&mut hello);
        Ok((session, hello))
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            if self.conn.write_tls(out).is_err() {
                break;
            }
        }
    }

    /// Ciphertext from the peer: decrypted bytes go to `plaintext`, records to send
    /// back (handshake, alerts) to `out`.
    pub fn receive(
        &mut self,
        mut ciphertext: &[u8],
        plaintext: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<(), TlsError> {
        while !ciphertext.is_empty() {
            match self.conn.read_tls(&mut ciphertext) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    return Err(TlsError::Handshake {
                        reason: e.to_string(),
                    })
                }
            }
            let state = match self.conn.process_new_packets() {
                Ok(state) => state,
                Err(e) => {
                    self.flush(out); // the alert telling the peer why
                    return Err(from_rustls(e, self.pin));
                }
            };
            let pending = state.plaintext_bytes_to_read();
            if pending > 0 {
                let start = plaintext.len();
                plaintext.resize(start + pending, 0);
                let n = self
                    .conn
                    .reader()
                    .read(&mut plaintext[start..])
                    .unwrap_or(0);
                plaintext.truncate(start + n);
            }
            if state.peer_has_closed() {
                self.peer_closed = true;
            }
        }
        self.flush(out);
        Ok(())
    }

    /// Encrypt `plaintext` into `out`. rustls takes at most its buffer limit (64 KiB) at
    /// a time, so larger writes go in turns, each turn's records moved to `out`. Before
    /// the handshake has completed nothing can be moved, and a write beyond the limit is
    /// an error (requests are sent after the handshake).
    pub fn send(&mut self, mut plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), TlsError> {
        while !plaintext.is_empty() {
            let taken = self
                .conn
                .writer()
                .write(plaintext)
                .map_err(|e| TlsError::Handshake {
                    reason: e.to_string(),
                })?;
            self.flush(out);
            if taken == 0 {
                return Err(TlsError::Handshake {
                    reason: "more data than TLS buffers before the handshake completes".into(),
                });
            }
            plaintext = &plaintext[taken..];
        }
        Ok(())
    }

    /// True until the handshake has completed.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// True once the peer's close_notify arrived.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Queue our close_notify into `out`.
    pub fn close(&mut self, out: &mut Vec<u8>) {
        self.conn.send_close_notify();
        self.flush(out);
    }

    /// SHA-256 of the server's end-entity certificate.
    pub fn peer_cert_sha256(&self) -> Option<[u8; 32]> {
        self.conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| sha256(c))
    }

    /// The negotiated ALPN protocol.
    pub fn alpn(&self) -> Option<Vec<u8>> {
        self.conn.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// "TLSv1.2" or "TLSv1.3" once negotiated.
    pub fn tls_version(&self) -> Option<&'static str> {
        self.conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
            _ => "unknown",
        })
    }

    /// The negotiated cipher suite as OpenSSL names it (what Python's
    /// `SSLSocket.cipher()` reports): name, protocol version, secret bits.
    pub fn cipher(&self) -> Option<CipherInfo> {
        self.conn
            .negotiated_cipher_suite()
            .map(|s| CipherInfo::of(s.suite()))
    }

    /// The server's certificate chain as it was sent (DER, end-entity first); empty
    /// before the handshake has completed.
    pub fn peer_chain(&self) -> Vec<Vec<u8>> {
        self.conn
            .peer_certificates()
            .map(|chain| chain.iter().map(|c| c.as_ref().to_vec()).collect())
            .unwrap_or_default()
    }

    /// The TCP stream ended: fine after close_notify, `Truncated` otherwise.
    pub fn receive_eof(&mut self) -> Result<(), TlsError> {
        if self.peer_closed {
            Ok(())
        } else {
            Err(TlsError::Truncated)
        }
    }
}
