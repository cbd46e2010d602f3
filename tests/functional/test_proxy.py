"""Proxies: proxy.py (a real proxy we did not write) in front of aiohttp.web origins."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import pytest
import trustme
from aiohttp import web

import aioclient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(name: str, cmd: list[str], port: int) -> subprocess.Popen:
    """Start a server process and wait until it accepts on ``port``; its stderr is
    kept so that a server that dies at start-up says why."""
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
    end = time.monotonic() + 15.0
    while time.monotonic() < end:
        if proc.poll() is not None:
            stderr.seek(0)
            output = stderr.read().decode(errors="replace")
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                stderr.close()
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not start listening on port {port}")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _start_proxy(*args: str) -> tuple:
    port = _free_port()
    cmd = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port),
           "--num-workers", "1", "--num-acceptors", "1", *args]
    return _spawn("proxy.py", cmd, port), port


# Proxies are per test: stopping proxy.py first closes its upstream connections before
# the origin servers shut down, so no server-side socket outlives its test.
@pytest.fixture
def plain_proxy():
    proc, port = _start_proxy()
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def auth_proxy():
    proc, port = _start_proxy("--basic-auth", "user:secret")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def tls_proxy(ca, tmp_path_factory):
    folder = tmp_path_factory.mktemp("proxy-tls")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    proc, port = _start_proxy("--cert-file", str(folder / "cert.pem"), "--key-file", str(folder / "key.pem"))
    yield f"https://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def trust(ca_file, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _origin_app(seen: list) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"secure": request.secure, "path": request.path_qs})

    app = web.Application()
    app.router.add_get("/{tail:.*}", echo)
    return app


async def _origins(aiohttp_server, ca, seen):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    http = await aiohttp_server(_origin_app(seen))
    https = await aiohttp_server(_origin_app(seen), ssl_context=ctx)
    return http, https


@pytest.mark.parametrize("proxy_kind", ["plain_proxy", "tls_proxy"])
@pytest.mark.parametrize("target", ["http", "https"])
async def test_every_proxy_target_combination(request, aiohttp_server, ca, trust, proxy_kind, target) -> None:
    proxy = request.getfixturevalue(proxy_kind)
    seen: list = []
    http, https = await _origins(aiohttp_server, ca, seen)
    origin = http if target == "http" else https
    async with aioclient.ClientSession() as session:
        async with session.get(origin.make_url("/hello?x=1"), proxy=proxy) as r:
            assert r.status == 200
            assert await r.json() == {"secure": target == "https", "path": "/hello?x=1"}
    assert seen and "Proxy-Authorization" not in seen[0]


async def test_ssl_context_through_plain_proxy_and_socks(aiohttp_server, ca, ca_file, plain_proxy, socks_server, tmp_path) -> None:
    """``ssl=SSLContext`` runs Python's ssl inside a CONNECT tunnel or over a SOCKS
    socket; a context that does not trust the origin fails as a certificate error."""
    seen: list = []
    _, https = await _origins(aiohttp_server, ca, seen)
    trusting = ssl.create_default_context(cafile=ca_file)
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    untrusting = ssl.create_default_context(cafile=str(tmp_path / "other-ca.pem"))
    socks = f"socks5://{socks_server('socks5')}"
    url = https.make_url("/ctx").with_host("localhost")
    async with aioclient.ClientSession() as session:
        for proxy in (plain_proxy, socks):
            for _ in range(2):  # the second request reuses the pooled connection
                async with session.get(url, proxy=proxy, ssl=trusting) as r:
                    assert await r.json() == {"secure": True, "path": "/ctx"}
            with pytest.raises(aioclient.ClientConnectorCertificateError):
                await session.get(url, proxy=proxy, ssl=untrusting)
    assert len(seen) == 4


async def test_ssl_context_through_https_proxy(aiohttp_server, ca, ca_file, tls_proxy, tmp_path) -> None:
    """The spec: a custom SSLContext is used for the TLS tunnel to the https:// proxy as
    well as for the origin (TLS inside TLS, both Python's ssl)."""
    seen: list = []
    _, https = await _origins(aiohttp_server, ca, seen)
    trusting = ssl.create_default_context(cafile=ca_file)  # the proxy's and the origin's CA
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    untrusting = ssl.create_default_context(cafile=str(tmp_path / "other-ca.pem"))
    # An origin whose certificate the context does not trust (the proxy's it does).
    other_ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other_ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    stranger = await aiohttp_server(_origin_app([]), ssl_context=server_ctx)
    http, _ = await _origins(aiohttp_server, ca, seen)
    async with aioclient.ClientSession() as session:
        for _ in range(2):  # the second request reuses the pooled tunnel
            async with session.get(https.make_url("/ctx"), proxy=tls_proxy, ssl=trusting) as r:
                assert await r.json() == {"secure": True, "path": "/ctx"}
        # The context (or ssl=False) secures the proxy's TLS for a plain-http target too.
        for setting in (trusting, False):
            async with session.get(http.make_url("/plain"), proxy=tls_proxy, ssl=setting) as r:
                assert await r.json() == {"secure": False, "path": "/plain"}
        with pytest.raises(aioclient.ClientConnectorCertificateError):  # at the proxy
            await session.get(https.make_url("/ctx"), proxy=tls_proxy, ssl=untrusting)
        with pytest.raises(aioclient.ClientConnectorCertificateError):  # inside the tunnel
            await session.get(stranger.make_url("/ctx"), proxy=tls_proxy, ssl=trusting)
    assert len(seen) == 4


async def test_engine_tls_through_https_proxy_reports_the_origin(aiohttp_server, ca, trust, tls_proxy) -> None:
    """TLS inside TLS on the engine: ``ssl_object`` is the origin's session (its
    certificate, not the proxy's), as aiohttp's transport is the origin's TLS."""
    release = asyncio.Event()

    async def held(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"first")
        await release.wait()
        return resp

    app = web.Application()
    app.router.add_get("/", held)
    cert = ca.issue_cert("127.0.0.1", common_name="origin")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    origin = await aiohttp_server(app, ssl_context=ctx)
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    async with aioclient.ClientSession() as session:
        async with session.get(origin.url, proxy=tls_proxy) as r:
            assert await r.content.readexactly(5) == b"first"
            so = r.connection.transport.get_extra_info("ssl_object")
            assert so.getpeercert(binary_form=True) == der
            assert (("commonName", "origin"),) in so.getpeercert()["subject"]
            assert so.version() == "TLSv1.3"
            release.set()
            await r.read()


async def test_proxy_auth_never_reaches_origin(aiohttp_server, ca, trust, auth_proxy) -> None:
    """Through a CONNECT tunnel the origin cannot see Proxy-Authorization.

    (For http:// targets the header goes to the proxy with the request itself;
    whether the proxy strips it before forwarding is the proxy's business: proxy.py
    does not, so that case is covered by the 407 test instead.)
    """
    seen: list = []
    _, origin = await _origins(aiohttp_server, ca, seen)
    async with aioclient.ClientSession() as session:
        async with session.get(origin.url, proxy=auth_proxy, proxy_auth=aioclient.BasicAuth("user", "secret")) as r:
            assert r.status == 200
        creds_in_url = auth_proxy.replace("http://", "http://user:secret@")
        async with session.get(origin.url, proxy=creds_in_url) as r:
            assert r.status == 200
        # proxy_auth wins over credentials in the proxy URL, as in aiohttp.
        wrong_in_url = auth_proxy.replace("http://", "http://user:wrong@")
        async with session.get(origin.url, proxy=wrong_in_url, proxy_auth=aioclient.BasicAuth("user", "secret")) as r:
            assert r.status == 200
        # ... and over a Proxy-Authorization in proxy_headers: one header is sent, not two.
        wrong_header = {"Proxy-Authorization": aioclient.BasicAuth("user", "wrong").encode()}
        secret = aioclient.BasicAuth("user", "secret")
        plain, _ = await _origins(aiohttp_server, ca, [])
        for url in (origin.url, plain.url):  # on the CONNECT, and with a plain-http request
            async with session.get(url, proxy=auth_proxy, proxy_auth=secret, proxy_headers=wrong_header) as r:
                assert r.status == 200
    assert len(seen) == 4
    assert all("Proxy-Authorization" not in h for h in seen)


async def test_wrong_proxy_credentials(aiohttp_server, ca, trust, auth_proxy) -> None:
    seen: list = []
    http, https = await _origins(aiohttp_server, ca, seen)
    async with aioclient.ClientSession() as session:
        async with session.get(http.url, proxy=auth_proxy, proxy_auth=aioclient.BasicAuth("user", "wrong")) as r:
            assert r.status == 407
        with pytest.raises(aioclient.ClientHttpProxyError) as info:
            await session.get(https.url, proxy=auth_proxy, proxy_auth=aioclient.BasicAuth("user", "wrong"))
        assert info.value.status == 407
        request_info = info.value.request_info  # the CONNECT, as aiohttp reports it
        assert request_info.method == "CONNECT"
        assert (request_info.url.host, request_info.url.port) == (https.url.host, https.url.port)
        assert str(request_info.real_url) == auth_proxy
        assert request_info.headers["Proxy-Authorization"] == aioclient.BasicAuth("user", "wrong").encode()
    assert seen == []


async def test_session_default_proxy(aiohttp_server, ca, trust, auth_proxy) -> None:
    seen: list = []
    http, _ = await _origins(aiohttp_server, ca, seen)
    async with aioclient.ClientSession(proxy=auth_proxy, proxy_auth=aioclient.BasicAuth("user", "secret")) as session:
        async with session.get(http.url) as r:
            assert r.status == 200


async def test_environment_and_no_proxy(aiohttp_server, ca, trust, auth_proxy, monkeypatch) -> None:
    seen: list = []
    http, _ = await _origins(aiohttp_server, ca, seen)
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.replace("http://", "http://user:secret@"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # Without trust_env the environment is not read: the origin is reached directly.
    async with aioclient.ClientSession() as session:
        async with session.get(http.url) as r:
            assert r.status == 200
    # With trust_env the request goes through the proxy: wrong env credentials show it.
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.replace("http://", "http://user:wrong@"))
    async with aioclient.ClientSession(trust_env=True) as session:
        async with session.get(http.url) as r:
            assert r.status == 407
        # A proxy given as host:port (no scheme) is an http:// proxy, as curl reads it.
        monkeypatch.setenv("HTTP_PROXY", auth_proxy.replace("http://", "user:wrong@"))
        async with session.get(http.url) as r:
            assert r.status == 407
        monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
        async with session.get(http.url) as r:
            assert r.status == 200


def test_no_proxy_rules(monkeypatch) -> None:
    from yarl import URL

    from aioclient.proxy import bypass_proxy

    monkeypatch.setenv("NO_PROXY", "example.com,.internal,10.0.0.0/8,host.test:8080,[::1]")
    assert bypass_proxy(URL("http://example.com/"))
    assert bypass_proxy(URL("http://api.example.com/"))
    assert bypass_proxy(URL("http://svc.internal/"))
    assert bypass_proxy(URL("http://10.1.2.3/"))
    assert bypass_proxy(URL("http://host.test:8080/"))
    assert not bypass_proxy(URL("http://host.test:9090/"))
    assert not bypass_proxy(URL("http://notexample.com/"))
    assert bypass_proxy(URL("http://[::1]:80/"))


async def test_netrc_for_the_exact_host_only(aiohttp_server, tmp_path, monkeypatch) -> None:
    seen: list = []
    server = await aiohttp_server(_origin_app(seen))
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login alice password wonderland\ndefault login bob password builder\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    async with aioclient.ClientSession(trust_env=True) as session:
        async with session.get(server.url) as r:
            assert r.status == 200
    assert seen[-1]["Authorization"] == aioclient.BasicAuth("alice", "wonderland").encode()
    async with aioclient.ClientSession() as session:  # no trust_env: not read
        async with session.get(server.url) as r:
            assert r.status == 200
    assert "Authorization" not in seen[-1]
    async with aioclient.ClientSession(trust_env=True) as session:  # "default" is not for any host
        async with session.get(f"http://localhost:{server.url.port}/") as r:
            assert r.status == 200
    assert "Authorization" not in seen[-1]


def _ws_echo_app() -> web.Application:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str("echo:" + msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    return app


@pytest.mark.parametrize("proxy_kind", ["plain_proxy", "tls_proxy"])
@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_websocket_through_proxies(request, aiohttp_server, ca, trust, proxy_kind, scheme) -> None:
    proxy = request.getfixturevalue(proxy_kind)
    ctx = None
    if scheme == "wss":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(ctx)
    server = await aiohttp_server(_ws_echo_app(), ssl_context=ctx)
    url = str(server.make_url("/ws").with_scheme(scheme))
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(url, proxy=proxy) as ws:
            await ws.send_str("hi")
            assert await ws.receive_str() == "echo:hi"


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_websocket_proxy_from_environment(aiohttp_server, ca, trust, auth_proxy, monkeypatch, scheme) -> None:
    ctx = None
    if scheme == "wss":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(ctx)
    server = await aiohttp_server(_ws_echo_app(), ssl_context=ctx)
    url = str(server.make_url("/ws").with_scheme(scheme))
    variable = f"{scheme.upper()}_PROXY"
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv(variable, auth_proxy.replace("http://", "http://user:wrong@"))
    async with aioclient.ClientSession(trust_env=True) as session:
        with pytest.raises(aioclient.ClientHttpProxyError):
            await session.ws_connect(url)  # the proxy refuses: it was used
        monkeypatch.setenv(variable, auth_proxy.replace("http://", "http://user:secret@"))
        async with session.ws_connect(url) as ws:
            await ws.send_str("env")
            assert await ws.receive_str() == "echo:env"


# pproxy's command line installs uvloop when it is importable, then calls
# asyncio.get_event_loop(), which uvloop refuses outside a running loop; the launcher
# hides uvloop so pproxy runs on the standard loop whatever else is installed.
_PPROXY = "import sys; sys.modules['uvloop'] = None; from pproxy.server import main; main()"


@pytest.fixture
def socks_server():
    """pproxy (a real SOCKS4/5 server from PyPI) on 127.0.0.1, with and without a login."""
    procs = []

    def start(scheme: str, auth: str = "") -> str:
        port = _free_port()
        listen = f"{scheme}://127.0.0.1:{port}" + (f"#{auth}" if auth else "")
        procs.append(_spawn("pproxy", [sys.executable, "-c", _PPROXY, "-l", listen], port))
        return f"127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


# socks4a is not here: pproxy's SOCKS4 server reads only an IPv4 address, not 4a names.
@pytest.mark.parametrize("scheme", ["socks5", "socks5h", "socks4"])
@pytest.mark.parametrize("target", ["http", "https"])
async def test_socks_proxies(aiohttp_server, ca, trust, socks_server, scheme, target) -> None:
    server_scheme = "socks5" if scheme.startswith("socks5") else "socks4"
    address = socks_server(server_scheme)
    seen: list = []
    http, https = await _origins(aiohttp_server, ca, seen)
    origin = http if target == "http" else https
    url = origin.make_url("/via-socks").with_host("localhost")
    async with aioclient.ClientSession() as session:
        async with session.get(url, proxy=f"{scheme}://{address}") as r:
            assert await r.json() == {"secure": target == "https", "path": "/via-socks"}
    assert len(seen) == 1


async def test_socks5_login(aiohttp_server, ca, trust, socks_server) -> None:
    address = socks_server("socks5", "user:pass")
    seen: list = []
    http, _ = await _origins(aiohttp_server, ca, seen)
    async with aioclient.ClientSession() as session:
        # Wrong login first: pproxy remembers a successful login per client address.
        with pytest.raises(aioclient.ClientProxyConnectionError):
            await session.get(http.url, proxy=f"socks5://user:wrong@{address}")
        async with session.get(http.url, proxy=f"socks5://user:pass@{address}") as r:
            assert r.status == 200
    assert len(seen) == 1


async def test_connect_refused_and_pool_separation(aiohttp_server, ca, trust, plain_proxy) -> None:
    seen: list = []
    http, https = await _origins(aiohttp_server, ca, seen)
    closed_port = _free_port()
    async with aioclient.ClientSession() as session:
        # The proxy cannot reach the target: its error status surfaces, no hang.
        with pytest.raises(aioclient.ClientHttpProxyError) as info:
            await session.get(f"https://127.0.0.1:{closed_port}/", proxy=plain_proxy, timeout=aioclient.ClientTimeout(total=20))
        assert info.value.status >= 400
        for proxy in (plain_proxy, None, plain_proxy, None):
            async with session.get(https.url, proxy=proxy) as r:
                assert r.status == 200
        keys = {(k.proxy is not None) for k in session.connector._pool.idle}
        assert keys == {True, False}  # direct and proxied connections never mixed
        assert sum(len(v) for v in session.connector._pool.idle.values()) == 2


async def test_unreachable_proxy_is_named_in_the_error() -> None:
    port = _free_port()
    async with aioclient.ClientSession() as session:
        for scheme, target in [("http", "http://origin.invalid/"), ("http", "https://origin.invalid/"),
                               ("socks5", "http://origin.invalid/")]:
            with pytest.raises(aioclient.ClientProxyConnectionError) as info:
                await session.get(target, proxy=f"{scheme}://127.0.0.1:{port}")
            assert (info.value.host, info.value.port) == ("127.0.0.1", port)
            assert f"127.0.0.1:{port}" in str(info.value)
