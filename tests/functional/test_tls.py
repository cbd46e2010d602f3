"""HTTPS against aiohttp.web with trustme certificates: the ssl= contract."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ssl

import pytest
import trustme
from aiohttp import web

import aioclient


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA, *names: str, **issue) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("localhost", "127.0.0.1")), **issue).configure_cert(ctx)
    return ctx


def _app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert")
        if request.query.get("version"):
            return web.Response(text=request.transport.get_extra_info("ssl_object").version())
        return web.json_response({"tls": request.secure, "client_cert": bool(peer)})

    app = web.Application()
    app.router.add_get("/", hello)
    return app


@pytest.fixture
def trust(ca, tmp_path, monkeypatch):
    """Point SSL_CERT_FILE at the test CA (the platform trust store honours it)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return path


async def test_default_verification_with_ssl_cert_file(aiohttp_server, ca, trust) -> None:
    server = await aiohttp_server(_app(), ssl_context=_server_context(ca))
    async with aioclient.ClientSession() as session:
        async with session.get(server.url) as r:
            assert await r.json() == {"tls": True, "client_cert": False}
        # The name in the URL is verified: "localhost" is in the certificate too.
        async with session.get(f"https://localhost:{server.url.port}/") as r:
            assert r.status == 200


async def test_untrusted_ca_is_certificate_error(aiohttp_server, trust) -> None:
    other = trustme.CA()
    server = await aiohttp_server(_app(), ssl_context=_server_context(other))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorCertificateError) as info:
            await session.get(server.url)
    err = info.value
    assert isinstance(err, ssl.CertificateError)
    assert isinstance(err, aioclient.ClientSSLError)
    assert isinstance(err, aioclient.ClientConnectorError)
    assert isinstance(err.certificate_error, ssl.CertificateError)
    assert err.host == "127.0.0.1" and err.port == server.url.port
    assert "127.0.0.1" in str(err)  # (the certificate error itself, as OpenSSL words it, does not name it)


async def test_spec_examples_expired_and_wrong_host(aiohttp_server, ca, trust) -> None:
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    expired = await aiohttp_server(
        _app(), ssl_context=_server_context(ca, "127.0.0.1", not_before=past - datetime.timedelta(days=30), not_after=past)
    )
    wrong_host = await aiohttp_server(_app(), ssl_context=_server_context(ca, "wrong.host.example"))
    async with aioclient.ClientSession() as session:
        try:
            await session.get(expired.url)
        except aioclient.ClientConnectorSSLError as e:
            assert isinstance(e, ssl.SSLError)
        else:
            raise AssertionError("expired certificate accepted")
        try:
            await session.get(wrong_host.url)
        except aioclient.ClientConnectorCertificateError as e:
            assert isinstance(e, ssl.CertificateError)
        else:
            raise AssertionError("wrong host accepted")
        for url in (expired.url, wrong_host.url):
            with pytest.raises(aioclient.ClientSSLError):
                await session.get(url)
        # certificate_error as Python's ssl (OpenSSL) reports it, what aiohttp users read.
        expected = [
            (expired.url, 10, "certificate has expired"),
            (wrong_host.url, 64, "IP address mismatch, certificate is not valid for '127.0.0.1'."),
            (wrong_host.url.with_host("localhost"), 62, "Hostname mismatch, certificate is not valid for 'localhost'."),
        ]
        for url, code, message in expected:
            with pytest.raises(aioclient.ClientConnectorCertificateError) as info:
                await session.get(url)
            error = info.value.certificate_error
            assert isinstance(error, ssl.SSLCertVerificationError)
            assert (error.verify_code, error.verify_message, error.reason) == (code, message, "CERTIFICATE_VERIFY_FAILED")


async def test_ssl_false_accepts_self_signed(aiohttp_server) -> None:
    server = await aiohttp_server(_app(), ssl_context=_server_context(trustme.CA()))
    async with aioclient.ClientSession() as session:
        async with session.get(server.url, ssl=False) as r:
            assert r.status == 200
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(ssl=False)) as session:
        async with session.get(server.url) as r:
            assert r.status == 200


def _device_context(tmp_path, key, name: str) -> ssl.SSLContext:
    """A server with a self-signed certificate of the kind old devices have."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "device")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / f"{name}.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL's default level refuses a 1024-bit key
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3  # P-521 needs TLS 1.3 (ring has no P-521 key exchange)
    ctx.load_cert_chain(str(path))
    return ctx


@pytest.mark.parametrize("kind", ["rsa1024", "p521"])
async def test_ssl_false_reaches_devices_with_old_certificates(aiohttp_server, tmp_path, kind) -> None:
    # ssl=False verifies nothing, handshake signatures included (aiohttp/OpenSSL connects
    # to these); webpki cannot check a 1024-bit RSA or a P-521 signature.
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = rsa.generate_private_key(65537, 1024) if kind == "rsa1024" else ec.generate_private_key(ec.SECP521R1())
    server = await aiohttp_server(_app(), ssl_context=_device_context(tmp_path, key, kind))
    async with aioclient.ClientSession() as session:
        async with session.get(server.url, ssl=False) as r:
            assert (await r.json())["tls"] is True


async def test_fingerprint_match_and_mismatch(aiohttp_server) -> None:
    other_ca = trustme.CA()
    cert = other_ca.issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server = await aiohttp_server(_app(), ssl_context=ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    good = hashlib.sha256(der).digest()
    async with aioclient.ClientSession() as session:
        async with session.get(server.url, ssl=aioclient.Fingerprint(good)) as r:
            assert r.status == 200
        bad_fp = b"0" * 32
        exc = None
        try:
            await session.get(server.url, ssl=aioclient.Fingerprint(bad_fp))
        except aioclient.FingerprintMismatch as e:
            exc = e
        assert exc is not None
        assert exc.expected == bad_fp
        assert exc.got == good
        assert exc.host == "127.0.0.1" and exc.port == server.url.port


def test_fingerprint_rejects_weak_digests() -> None:
    with pytest.raises(ValueError, match="insecure"):
        aioclient.Fingerprint(hashlib.md5(b"x").digest())
    with pytest.raises(ValueError, match="insecure"):
        aioclient.Fingerprint(hashlib.sha1(b"x").digest())
    with pytest.raises(ValueError):
        aioclient.Fingerprint(b"short")


async def test_ssl_context_with_client_certificate(aiohttp_server, ca, tmp_path) -> None:
    server_ctx = _server_context(ca)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_ctx)
    server = await aiohttp_server(_app(), ssl_context=server_ctx)
    client_cert = ca.issue_cert("client@example.org")
    cert_path = tmp_path / "client.pem"
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    ctx.load_cert_chain(str(cert_path))
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(ssl=ctx)) as session:
        async with session.get(server.url) as r:
            assert await r.json() == {"tls": True, "client_cert": True}
    # Without the client certificate the server refuses the handshake.
    plain = ssl.create_default_context()
    ca.configure_trust(plain)
    async with aioclient.ClientSession() as session:
        with pytest.raises((aioclient.ClientSSLError, aioclient.ClientOSError, aioclient.ServerDisconnectedError)):
            async with session.get(server.url, ssl=plain) as r:
                await r.read()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_tls_versions(aiohttp_server, ca, trust, version) -> None:
    ctx = _server_context(ca)
    ctx.minimum_version = version
    ctx.maximum_version = version
    server = await aiohttp_server(_app(), ssl_context=ctx)
    async with aioclient.ClientSession() as session:
        async with session.get(server.url.with_query(version="1")) as r:
            assert await r.text() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


async def test_server_hostname_override(aiohttp_server, ca, trust) -> None:
    server = await aiohttp_server(_app(), ssl_context=_server_context(ca, "service.internal"))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorCertificateError):
            await session.get(server.url)
        async with session.get(server.url, server_hostname="service.internal") as r:
            assert r.status == 200
        # A name that is no DNS name can match no certificate: a mismatch, as OpenSSL
        # reports it; without verification it is just not sent (no SNI), as in aiohttp.
        with pytest.raises(aioclient.ClientConnectorCertificateError) as info:
            await session.get(server.url, server_hostname="bad host")
        assert info.value.certificate_error.verify_code == 62
        async with session.get(server.url, server_hostname="bad host", ssl=False) as r:
            assert r.status == 200


async def test_an_empty_trust_store_is_a_certificate_error(aiohttp_server, ca, tmp_path, monkeypatch) -> None:
    # Nothing to verify with: aiohttp (OpenSSL) reports the issuer as unknown, not a
    # ValueError from deep inside.
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    server = await aiohttp_server(_app(), ssl_context=_server_context(ca))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorCertificateError) as info:
            await session.get(server.url)
    assert info.value.certificate_error.verify_code == 20


async def test_connections_are_pooled_per_tls_settings(aiohttp_server, ca, trust) -> None:
    peers = []

    async def who(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", who)
    server = await aiohttp_server(app, ssl_context=_server_context(ca))
    async with aioclient.ClientSession() as session:
        for ssl_value in (True, True, False, False, True):
            async with session.get(server.url, ssl=ssl_value) as r:
                await r.read()
    # One connection verified, one unverified: never shared between the settings.
    assert len(set(peers)) == 2
    assert peers[0] == peers[1] == peers[4]
    assert peers[2] == peers[3] != peers[0]


async def test_large_body_over_tls(aiohttp_server, ca, trust) -> None:
    blob = bytes(range(256)) * 20000

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=blob)

    app = web.Application()
    app.router.add_get("/", big)
    server = await aiohttp_server(app, ssl_context=_server_context(ca))
    async with aioclient.ClientSession() as session:
        async with session.post(server.url.with_path("/nothing"), data=b"x") as r:
            assert r.status == 404
        async with session.get(server.url) as r:
            assert await r.read() == blob


async def test_large_uploads_over_tls(aiohttp_server, ca, trust) -> None:
    # rustls takes 64 KiB of plaintext per write: larger bodies and chunks go in turns.
    blob = bytes(range(256)) * 4096  # 1 MiB

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def one_big_chunk():
        yield blob[:100_000]

    app = web.Application(client_max_size=4 << 20)
    app.router.add_post("/", echo)
    server = await aiohttp_server(app, ssl_context=_server_context(ca))
    async with aioclient.ClientSession() as session:
        for data, expected in ((blob, blob), (one_big_chunk(), blob[:100_000]), (blob[:65_536], blob[:65_536])):
            async with session.post(server.url, data=data) as r:
                assert await r.read() == expected


async def test_close_without_sleep_over_tls(aiohttp_server, ca, trust) -> None:
    server = await aiohttp_server(_app(), ssl_context=_server_context(ca))
    session = aioclient.ClientSession()
    async with session.get(server.url) as r:
        await r.read()
    protos = list(session.connector._all)
    await session.close()
    assert protos and all(p.closed.done() for p in protos)


async def test_close_drops_python_ssl_connections_without_waiting_for_the_peer(ca, trust) -> None:
    # As aiohttp (ssl_shutdown_timeout's default, 0): closing does not wait for the
    # peer's close_notify, here never coming (the server stops reading).
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.transport.pause_reading()
        transports.append(writer.transport)

    transports: list = []

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=_server_context(ca))
    port = server.sockets[0].getsockname()[1]
    client_context = ssl.create_default_context(cafile=str(trust))
    try:
        session = aioclient.ClientSession()
        async with session.get(f"https://127.0.0.1:{port}/", ssl=client_context) as r:
            assert await r.read() == b"ok"
        protos = list(session.connector._all)
        await session.close()
        assert protos and all(p.closed.done() for p in protos)
        with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout"):
            await aioclient.TCPConnector(ssl_shutdown_timeout=1.0).close()
        with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout"):
            await aioclient.ClientSession(connector=aioclient.TCPConnector(), ssl_shutdown_timeout=1.0).close()
    finally:
        for transport in transports:
            transport.abort()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports' connection_lost


async def test_close_delimited_body_cut_without_close_notify(aiohttp_server, ca, trust) -> None:
    """TLS: a close-delimited body ended by a TCP close without close_notify is not complete."""

    async def cut(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.force_close()
        await resp.prepare(request)  # HTTP/1.0 request: the body is close-delimited
        await resp.write(b"partial body")
        await asyncio.sleep(0.05)
        request.transport.abort()  # no close_notify
        return resp

    async def whole(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.force_close()
        await resp.prepare(request)
        await resp.write(b"complete body")
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/cut", cut)
    app.router.add_get("/whole", whole)
    server = await aiohttp_server(app, ssl_context=_server_context(ca))
    async with aioclient.ClientSession(version=aioclient.HttpVersion10) as session:
        async with session.get(server.make_url("/whole")) as r:
            assert r.content_length is None
            assert await r.read() == b"complete body"
        with pytest.raises(aioclient.ClientPayloadError):
            async with session.get(server.make_url("/cut")) as r:
                assert r.content_length is None
                await r.read()


# -- what the handshake negotiated: get_extra_info as on aiohttp's TLS transport ------


def _held_app(seen: dict) -> web.Application:
    """``/``: the first bytes of a body, the rest once the test is done looking at the
    connection (so that it is still held); records the server's view of the TLS."""

    async def held(request: web.Request) -> web.StreamResponse:
        ssl_object = request.transport.get_extra_info("ssl_object")
        seen["cipher"] = ssl_object.cipher()
        seen["version"] = ssl_object.version()
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"first")
        await seen.setdefault("done", asyncio.Event()).wait()
        await resp.write(b"rest")
        return resp

    app = web.Application()
    app.router.add_get("/", held)
    return app


async def _extra_info(client, url, **kwargs) -> dict:
    """What ``resp.connection.transport`` reports with ``client`` (aioclient or aiohttp)."""
    seen = kwargs.pop("seen")
    seen["done"] = asyncio.Event()
    async with client.ClientSession() as session:
        async with session.get(url, **kwargs) as r:
            assert await r.content.readexactly(5) == b"first"
            transport = r.connection.transport
            so = transport.get_extra_info("ssl_object")
            info = {
                "version": so.version(),
                "cipher": so.cipher(),
                "alpn": so.selected_alpn_protocol(),
                "dict": so.getpeercert(),
                "der": so.getpeercert(binary_form=True),
                "server_hostname": so.server_hostname,
                "compression": so.compression(),
                "peercert": transport.get_extra_info("peercert"),
                "extra_cipher": transport.get_extra_info("cipher"),
                "peername": transport.get_extra_info("peername"),
                "sslcontext": transport.get_extra_info("sslcontext"),
                "same": transport is r.connection.transport,
                "transport": transport,
            }
            seen["done"].set()
            assert await r.read() == b"rest"
    return info


@pytest.mark.parametrize("key_type", ["ECDSA", "RSA"])
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["TLSv1.2", "TLSv1.3"])
async def test_engine_tls_reports_what_was_negotiated(aiohttp_server, trust, tmp_path, monkeypatch, key_type, version) -> None:
    """ssl=True: ssl_object, peercert and cipher as aiohttp (Python's ssl) reports them
    for the same server; the cipher by OpenSSL's name, as the server sees it."""
    import tempfile

    import aiohttp

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the dict form is decoded

    kind = getattr(trustme.KeyType, key_type)
    ca = trustme.CA(key_type=kind)
    ca.cert_pem.write_to_path(str(trust))  # SSL_CERT_FILE: this test's CA
    cert = ca.issue_cert("localhost", "127.0.0.1", common_name="localhost", key_type=kind)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    seen: dict = {}
    server = await aiohttp_server(_held_app(seen), ssl_context=ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())

    got = await _extra_info(aioclient, server.url, seen=seen)
    name = "TLSv1.3" if version is ssl.TLSVersion.TLSv1_3 else "TLSv1.2"
    assert got["version"] == seen["version"] == name
    assert got["cipher"] == got["extra_cipher"] == seen["cipher"]
    assert got["cipher"][0] == ("TLS_AES_256_GCM_SHA384" if name == "TLSv1.3" else f"ECDHE-{key_type}-AES256-GCM-SHA384")
    assert got["alpn"] == "http/1.1"  # offered by the engine, chosen by the server
    assert got["der"] == der
    assert got["server_hostname"] == "127.0.0.1"
    assert got["compression"] is None
    assert got["sslcontext"] is None  # the engine's TLS has no ssl.SSLContext
    assert got["peername"][0] == "127.0.0.1"  # the rest is the TCP transport's
    assert got["same"] and isinstance(got["transport"], asyncio.Transport)

    assert list(scratch.iterdir()) == []  # decoding left nothing behind
    # The certificate dict is Python's own, field for field.
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    expected = await _extra_info(aiohttp, server.url, ssl=client_ctx, seen=seen)
    assert got["dict"] == got["peercert"] == expected["dict"] == expected["peercert"]
    assert got["dict"]["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"))
    assert got["dict"]["notAfter"] == expected["dict"]["notAfter"] == "Jan  1 00:00:00 3000 GMT"
    assert (("commonName", "localhost"),) in got["dict"]["subject"]
    assert (got["version"], got["cipher"], got["der"]) == (expected["version"], expected["cipher"], expected["der"])
    # An SSLContext keeps Python's own SSLObject.
    python_ssl = await _extra_info(aioclient, server.url, ssl=client_ctx, seen=seen)
    assert python_ssl["sslcontext"] is client_ctx and python_ssl["dict"] == got["dict"]


@pytest.mark.parametrize("setting", ["false", "fingerprint"])
async def test_unverified_engine_tls_has_an_empty_peercert(aiohttp_server, setting) -> None:
    """ssl=False / a fingerprint: getpeercert() is {} (as Python's ssl under CERT_NONE,
    what aiohttp gives), the DER form is still there."""
    import aiohttp

    cert = trustme.CA().issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    seen: dict = {}
    server = await aiohttp_server(_held_app(seen), ssl_context=ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    value = False if setting == "false" else aioclient.Fingerprint(hashlib.sha256(der).digest())
    got = await _extra_info(aioclient, server.url, ssl=value, seen=seen)
    assert got["dict"] == got["peercert"] == {}
    assert got["der"] == der
    assert got["version"] == "TLSv1.3" and got["cipher"] == seen["cipher"]
    expected = await _extra_info(aiohttp, server.url, ssl=False, seen=seen)
    assert expected["dict"] == expected["peercert"] == {}


async def test_websocket_get_extra_info_over_wss(aiohttp_server, ca, trust) -> None:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", echo)
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server = await aiohttp_server(app, ssl_context=ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    url = server.make_url("/ws").with_scheme("wss")
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            await ws.send_str("hi")
            assert await ws.receive_str() == "hi"
            so = ws.get_extra_info("ssl_object")
            assert so.version() == "TLSv1.3"
            assert so.getpeercert(True) == der
            assert ws.get_extra_info("cipher") == so.cipher() == ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256)
            assert ws.get_extra_info("peercert")["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"))
            assert ws.get_extra_info("sslcontext", "unset") is None
            assert ws.get_extra_info("peername")[0] == "127.0.0.1"
        async with session.ws_connect(url, ssl=False) as ws:
            assert ws.get_extra_info("peercert") == {}
            assert ws.get_extra_info("ssl_object").getpeercert(binary_form=True) == der
        assert ws.get_extra_info("ssl_object", "closed") == "closed"
