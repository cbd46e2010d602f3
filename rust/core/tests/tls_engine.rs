//! The sans-I/O TLS session against rustls's own server side, in memory.

use std::io::{Read, Write};
use std::sync::Arc;

use aioclient_core::tls::{TlsConfig, TlsError, TlsSession, Verify};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

const CA: &[u8] = include_bytes!("data/ca.pem");
const OTHER_CA: &[u8] = include_bytes!("data/other-ca.pem");
const CERT: &[u8] = include_bytes!("data/server.pem");
const KEY: &[u8] = include_bytes!("data/server.key");
const EXPIRED: &[u8] = include_bytes!("data/expired.pem");
const EXPIRED_KEY: &[u8] = include_bytes!("data/expired.key");

fn server_config(
    cert: &[u8],
    key: &[u8],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(key).unwrap();
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn server() -> ServerConnection {
    ServerConnection::new(server_config(
        CERT,
        KEY,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    ))
    .unwrap()
}

/// Move bytes server → client until neither side has anything to say.
fn pump(
    client: &mut TlsSession,
    server: &mut ServerConnection,
    mut to_server: Vec<u8>,
) -> Result<Vec<u8>, TlsError> {
    let mut plaintext = Vec::new();
    for _ in 0..20 {
        if !to_server.is_empty() {
            server.read_tls(&mut &to_server[..]).unwrap();
            if server.process_new_packets().is_err() {
                let mut alert = Vec::new();
                server.write_tls(&mut alert).ok();
                client.receive(&alert, &mut plaintext, &mut Vec::new())?;
                return Err(TlsError::Handshake {
                    reason: "server refused".into(),
                });
            }
            to_server.clear();
        }
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).unwrap();
        }
        if to_client.is_empty() {
            break;
        }
        client.receive(&to_client, &mut plaintext, &mut to_server)?;
    }
    Ok(plaintext)
}

fn handshake(
    verify: Verify,
    name: &str,
    mut server: ServerConnection,
) -> Result<(TlsSession, ServerConnection), TlsError> {
    let config = TlsConfig::new(verify)?;
    let (mut client, hello) = TlsSession::new(&config, name)?;
    pump(&mut client, &mut server, hello)?;
    assert!(!client.is_handshaking());
    Ok((client, server))
}

#[test]
fn handshake_and_data_both_ways() {
    let (mut client, mut server) =
        handshake(Verify::CaPem(CA.to_vec()), "localhost", server()).unwrap();
    assert_eq!(client.alpn().as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(server.server_name(), Some("localhost"));
    let mut out = Vec::new();
    client.send(b"GET / HTTP/1.1\r\n\r\n", &mut out).unwrap();
    server.read_tls(&mut &out[..]).unwrap();
    server.process_new_packets().unwrap();
    let mut got = vec![0; 64];
    let n = server.reader().read(&mut got).unwrap();
    assert_eq!(&got[..n], b"GET / HTTP/1.1\r\n\r\n");
    server
        .writer()
        .write_all(b"HTTP/1.1 200 OK\r\n\r\n")
        .unwrap();
    let plaintext = pump(&mut client, &mut server, Vec::new()).unwrap();
    assert_eq!(plaintext, b"HTTP/1.1 200 OK\r\n\r\n");
}

#[test]
fn large_writes_are_sent_whole() {
    // rustls buffers 64 KiB of plaintext at a time: a 1 MiB write goes in turns.
    let (mut client, mut server) =
        handshake(Verify::CaPem(CA.to_vec()), "localhost", server()).unwrap();
    let body: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    client.send(&body, &mut out).unwrap();
    let mut received = Vec::new();
    let mut records = &out[..];
    while !records.is_empty() {
        server.read_tls(&mut records).unwrap();
        server.process_new_packets().unwrap();
        let mut piece = vec![0; 1 << 16];
        while let Ok(n) = server.reader().read(&mut piece) {
            if n == 0 {
                break;
            }
            received.extend_from_slice(&piece[..n]);
        }
    }
    assert_eq!(received, body);
}

#[test]
fn certificate_failures() {
    let untrusted = handshake(Verify::CaPem(OTHER_CA.to_vec()), "localhost", server())
        .err()
        .unwrap();
    assert_eq!(untrusted.kind(), "certificate");
    // OpenSSL's verify codes and wording, as Python's ssl reports them.
    let code = |e: &TlsError| match e {
        TlsError::Certificate { code, .. } => *code,
        other => panic!("{other:?}"),
    };
    assert_eq!(code(&untrusted), 20);
    let wrong_name = handshake(Verify::CaPem(CA.to_vec()), "wrong.example", server())
        .err()
        .unwrap();
    assert_eq!(wrong_name.kind(), "certificate");
    assert_eq!(code(&wrong_name), 62);
    assert_eq!(
        wrong_name.to_string(),
        "certificate verify failed: Hostname mismatch, certificate is not valid for 'wrong.example'."
    );
    let expired_server = ServerConnection::new(server_config(
        EXPIRED,
        EXPIRED_KEY,
        &[&rustls::version::TLS13],
    ))
    .unwrap();
    let expired = handshake(Verify::CaPem(CA.to_vec()), "localhost", expired_server)
        .err()
        .unwrap();
    assert_eq!(expired.kind(), "certificate");
    assert_eq!(code(&expired), 10);
    assert!(
        expired.to_string().contains("certificate has expired"),
        "{expired}"
    );
}

#[test]
fn no_verify_accepts_any_chain() {
    handshake(Verify::NoVerify, "wrong.example", server()).unwrap();
}

#[test]
fn fingerprint_pinning() {
    let der = CertificateDer::pem_slice_iter(CERT)
        .next()
        .unwrap()
        .unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    let pin: [u8; 32] = digest.as_ref().try_into().unwrap();
    let (client, _) = handshake(Verify::Fingerprint(pin), "anything", server()).unwrap();
    assert_eq!(client.peer_cert_sha256(), Some(pin));
    let err = handshake(Verify::Fingerprint([0; 32]), "localhost", server())
        .err()
        .unwrap();
    assert_eq!(
        err,
        TlsError::FingerprintMismatch {
            expected: [0; 32],
            got: pin
        }
    );
}

#[test]
fn protocol_versions() {
    for (version, name) in [
        (&rustls::version::TLS12, "TLSv1.2"),
        (&rustls::version::TLS13, "TLSv1.3"),
    ] {
        let server = ServerConnection::new(server_config(CERT, KEY, &[version])).unwrap();
        let (client, _) = handshake(Verify::CaPem(CA.to_vec()), "localhost", server).unwrap();
        assert_eq!(client.tls_version(), Some(name));
    }
}

#[test]
fn negotiated_parameters_as_openssl_names_them() {
    let der = CertificateDer::pem_slice_iter(CERT)
        .next()
        .unwrap()
        .unwrap();
    for (version, suite, name, protocol, bits) in [
        (
            &rustls::version::TLS13,
            rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384,
            "TLS_AES_256_GCM_SHA384",
            "TLSv1.3",
            256,
        ),
        (
            &rustls::version::TLS13,
            rustls::crypto::ring::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLSv1.3",
            256,
        ),
        (
            &rustls::version::TLS12,
            rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "TLSv1.2",
            128,
        ),
    ] {
        // A server that accepts this one suite only.
        let mut provider = rustls::crypto::ring::default_provider();
        provider.cipher_suites = vec![suite];
        let certs = vec![der.clone()];
        let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[version])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let server = ServerConnection::new(Arc::new(config)).unwrap();
        let (client, _) = handshake(Verify::CaPem(CA.to_vec()), "localhost", server).unwrap();
        let cipher = client.cipher().unwrap();
        assert_eq!(
            (cipher.name, cipher.protocol, cipher.bits),
            (name, protocol, bits)
        );
        assert_eq!(client.tls_version(), Some(protocol));
        assert_eq!(client.alpn().as_deref(), Some(&b"http/1.1"[..]));
        assert_eq!(client.peer_chain(), vec![der.as_ref().to_vec()]);
    }
    // Nothing negotiated yet.
    let config = TlsConfig::new(Verify::NoVerify).unwrap();
    let (client, _) = TlsSession::new(&config, "localhost").unwrap();
    assert!(client.cipher().is_none());
    assert!(client.peer_chain().is_empty());
}

#[test]
fn no_sni_for_ip_addresses() {
    let (_, server) = handshake(Verify::CaPem(CA.to_vec()), "127.0.0.1", server()).unwrap();
    assert_eq!(server.server_name(), None);
}

#[test]
fn close_notify_and_truncation() {
    let (mut client, mut server) =
        handshake(Verify::CaPem(CA.to_vec()), "localhost", server()).unwrap();
    assert_eq!(client.receive_eof(), Err(TlsError::Truncated));
    server.send_close_notify();
    pump(&mut client, &mut server, Vec::new()).unwrap();
    assert!(client.peer_closed());
    assert_eq!(client.receive_eof(), Ok(()));
}

#[test]
fn tls_inside_tls() {
    // Outer: client ↔ proxy. Inner: client ↔ origin, carried as the outer plaintext.
    let config = TlsConfig::new(Verify::CaPem(CA.to_vec())).unwrap();
    let mut proxy = server();
    let (mut outer, hello) = TlsSession::new(&config, "proxy.test").unwrap();
    pump(&mut outer, &mut proxy, hello).unwrap();
    let mut origin = server();
    let (mut inner, inner_hello) = TlsSession::new(&config, "origin.test").unwrap();

    // Everything the inner session writes goes through the outer session.
    let mut wire = Vec::new();
    outer.send(&inner_hello, &mut wire).unwrap();
    let mut response = Vec::new();
    for _ in 0..20 {
        // Proxy: decrypt the outer layer and forward the plaintext to the origin.
        if !wire.is_empty() {
            proxy.read_tls(&mut &wire[..]).unwrap();
            proxy.process_new_packets().unwrap();
            wire.clear();
            let mut forwarded = Vec::new();
            proxy.reader().read_to_end(&mut forwarded).ok();
            if !forwarded.is_empty() {
                origin.read_tls(&mut &forwarded[..]).unwrap();
                origin.process_new_packets().unwrap();
                let mut got = Vec::new();
                origin.reader().read_to_end(&mut got).ok();
                if got == b"ping" {
                    origin.writer().write_all(b"pong").unwrap();
                }
            }
            let mut back = Vec::new();
            while origin.wants_write() {
                origin.write_tls(&mut back).unwrap();
            }
            if !back.is_empty() {
                proxy.writer().write_all(&back).unwrap();
            }
        }
        let mut to_client = Vec::new();
        while proxy.wants_write() {
            proxy.write_tls(&mut to_client).unwrap();
        }
        if to_client.is_empty() {
            if !inner.is_handshaking() && response.is_empty() {
                let mut inner_out = Vec::new();
                inner.send(b"ping", &mut inner_out).unwrap();
                outer.send(&inner_out, &mut wire).unwrap();
                continue;
            }
            break;
        }
        let mut outer_plain = Vec::new();
        let mut outer_out = Vec::new();
        outer
            .receive(&to_client, &mut outer_plain, &mut outer_out)
            .unwrap();
        wire.extend(outer_out);
        let mut inner_out = Vec::new();
        inner
            .receive(&outer_plain, &mut response, &mut inner_out)
            .unwrap();
        if !inner_out.is_empty() {
            outer.send(&inner_out, &mut wire).unwrap();
        }
    }
    assert!(!inner.is_handshaking());
    assert_eq!(origin.server_name(), Some("origin.test"));
    assert_eq!(proxy.server_name(), Some("proxy.test"));
    assert_eq!(response, b"pong");
}
