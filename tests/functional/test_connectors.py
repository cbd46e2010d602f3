"""Connectors, DNS, Unix sockets and tracing against real servers."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
import sys
import threading
import warnings
from types import SimpleNamespace

import pytest
from aiohttp import web

import aioclient
from aioclient.abc import AbstractResolver
from aioclient.resolver import AsyncResolver


async def _hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


@pytest.fixture
def dns_server():
    """dnslib's DNS server on 127.0.0.1 answering A records and counting queries."""
    from dnslib import QTYPE, RR, A
    from dnslib.server import BaseResolver, DNSServer

    class Resolver(BaseResolver):
        def __init__(self) -> None:
            self.queries: list = []
            self.lock = threading.Lock()

        def resolve(self, request, handler):
            reply = request.reply()
            qname = str(request.q.qname).rstrip(".")
            with self.lock:
                self.queries.append((qname, QTYPE[request.q.qtype]))
            if qname.endswith(".test") and request.q.qtype == QTYPE.A:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("127.0.0.1"), ttl=0))  # ttl 0: c-ares must not cache
            elif not qname.endswith(".test"):
                reply.header.rcode = 3  # NXDOMAIN
            return reply

    resolver = Resolver()
    for attempt in range(5):  # the free port found may be taken before DNSServer binds it
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            server = DNSServer(resolver, port=port, address="127.0.0.1")
            break
        except OSError:
            if attempt == 4:
                raise
    server.start_thread()
    yield SimpleNamespace(port=port, resolver=resolver)
    server.stop()
    server.server.server_close()


def _a_queries(dns, name: str) -> int:
    return sum(1 for q, t in dns.resolver.queries if q == name and t == "A")


async def test_async_resolver_and_dns_cache_ttl(aiohttp_server, dns_server) -> None:
    server = await aiohttp_server(_app())
    port = server.url.port
    resolver = AsyncResolver(nameservers=[f"127.0.0.1:{dns_server.port}"])
    connector = aioclient.TCPConnector(resolver=resolver, ttl_dns_cache=0.5, family=socket.AF_INET, force_close=True)
    async with aioclient.ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get(f"http://svc.test:{port}/") as r:
                assert await r.text() == "hello"
        assert _a_queries(dns_server, "svc.test") == 1  # cached
        await asyncio.sleep(0.6)
        async with session.get(f"http://svc.test:{port}/") as r:
            await r.read()
        assert _a_queries(dns_server, "svc.test") == 2  # TTL expired
        connector.clear_dns_cache("svc.test", port)
        async with session.get(f"http://svc.test:{port}/") as r:
            await r.read()
        assert _a_queries(dns_server, "svc.test") == 3
        # Concurrent lookups of one host share one query.
        connector.clear_dns_cache()
        await asyncio.gather(*(session.get(f"http://svc.test:{port}/") for _ in range(5)))
        assert _a_queries(dns_server, "svc.test") == 4
    await resolver.close()


async def test_no_dns_cache_resolves_every_connection(aiohttp_server, dns_server) -> None:
    server = await aiohttp_server(_app())
    port = server.url.port
    resolver = AsyncResolver(nameservers=[f"127.0.0.1:{dns_server.port}"])
    connector = aioclient.TCPConnector(resolver=resolver, use_dns_cache=False, family=socket.AF_INET, force_close=True)
    async with aioclient.ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get(f"http://nocache.test:{port}/") as r:
                await r.read()
    assert _a_queries(dns_server, "nocache.test") == 3
    await resolver.close()


async def test_failed_lookup_is_dns_error(dns_server) -> None:
    resolver = AsyncResolver(nameservers=[f"127.0.0.1:{dns_server.port}"])
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(resolver=resolver)) as session:
        with pytest.raises(aioclient.ClientConnectorDNSError) as info:
            await session.get("http://missing.invalid/")
    assert "missing.invalid" in str(info.value)
    await resolver.close()


async def test_custom_resolver_object(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    asked = []

    class Fixed(aioclient.ThreadedResolver):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            asked.append(host)
            return await super().resolve("127.0.0.1", port, family)

    async with aioclient.ClientSession(connector=aioclient.TCPConnector(resolver=Fixed())) as session:
        async with session.get(f"http://anything.example:{server.url.port}/") as r:
            assert await r.text() == "hello"
    assert asked == ["anything.example"]


async def test_cancelling_one_request_does_not_cancel_a_lookup_others_share(aiohttp_server, dns_server) -> None:
    server = await aiohttp_server(_app())
    resolver = AsyncResolver(nameservers=[f"127.0.0.1:{dns_server.port}"])

    class Slow(AbstractResolver):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            await asyncio.sleep(0.05)
            return await resolver.resolve(host, port, family)

        async def close(self) -> None:
            await resolver.close()

    url = f"http://shared.test:{server.url.port}/"
    connector = aioclient.TCPConnector(resolver=Slow(), family=socket.AF_INET)
    async with aioclient.ClientSession(connector=connector) as session:

        async def get() -> str:
            async with session.get(url) as r:
                return await r.text()

        first, second = asyncio.create_task(get()), asyncio.create_task(get())
        await asyncio.sleep(0.01)  # both wait for the one lookup
        first.cancel()
        assert await second == "hello"  # as in aiohttp: the lookup went on for it
        assert first.cancelled()
    assert _a_queries(dns_server, "shared.test") == 1


async def test_socket_factory_and_local_addr(aiohttp_server) -> None:
    made = []
    peers = []

    async def who(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[0])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", who)
    server = await aiohttp_server(app)

    def socket_factory(addr_info):
        family, type_, proto, _, _ = addr_info
        sock = socket.socket(family=family, type=type_, proto=proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, True)
        made.append(sock)
        return sock

    connector = aioclient.TCPConnector(socket_factory=socket_factory, local_addr=("127.0.0.2", 0))
    async with aioclient.ClientSession(connector=connector) as session:
        async with session.get(server.url) as r:
            assert await r.text() == "ok"
    assert len(made) == 1
    assert peers == ["127.0.0.2"]


async def test_happy_eyeballs_falls_back_to_a_working_address(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    port = server.url.port
    # A closed port first, the server second.
    with socket.socket() as s:
        s.bind(("127.0.0.3", 0))
        dead_port = s.getsockname()[1]

    class TwoAddresses(aioclient.ThreadedResolver):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            return [
                {"hostname": host, "host": "127.0.0.3", "port": dead_port, "family": socket.AF_INET, "proto": 0, "flags": 0},
                {"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0},
            ]

    connector = aioclient.TCPConnector(resolver=TwoAddresses(), happy_eyeballs_delay=0.05)
    async with aioclient.ClientSession(connector=connector) as session:
        async with session.get(f"http://multi.example:{port}/") as r:
            assert await r.text() == "hello"


async def test_unix_connector(aiohttp_server, tmp_path) -> None:
    path = str(tmp_path / "s.sock")
    await aiohttp_server(_app(), path=path)
    connector = aioclient.UnixConnector(path=path)
    assert connector.path == path
    async with aioclient.ClientSession(connector=connector) as session:
        async with session.get("http://localhost/") as r:
            assert await r.text() == "hello"


@pytest.mark.skipif(sys.platform == "win32", reason="the error is for non-Windows platforms")
async def test_named_pipe_connector_explains_itself() -> None:
    with pytest.raises(RuntimeError, match="Windows"):
        aioclient.NamedPipeConnector(path=r"\\.\pipe\x")


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", _hello)
    return app


async def test_a_cancelled_request_is_traced_as_an_exception(aiohttp_server) -> None:
    # Tracers that count requests in flight need an end for each start (as in aiohttp).
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response()

    app = web.Application()
    app.router.add_get("/slow", slow)
    server = await aiohttp_server(app)
    events = []

    async def on_start(session, ctx, params) -> None:
        events.append("start")

    async def on_exception(session, ctx, params) -> None:
        events.append(type(params.exception).__name__)

    trace_config = aioclient.TraceConfig()
    trace_config.on_request_start.append(on_start)
    trace_config.on_request_exception.append(on_exception)
    async with aioclient.ClientSession(trace_configs=[trace_config]) as session:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(session.get(server.make_url("/slow")), 0.2)
    assert events == ["start", "CancelledError"]


async def test_tracing_signals_in_order(aiohttp_server) -> None:
    async def start(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/end"})

    app = web.Application()
    app.router.add_get("/start", start)
    app.router.add_post("/start", start)
    app.router.add_get("/end", _hello)
    server = await aiohttp_server(app)
    events = []
    trace_config = aioclient.TraceConfig()

    def record(name):
        async def handler(session, ctx, params):
            events.append((name, type(params).__name__))
            assert ctx.trace_request_ctx == {"foo": "bar"}

        return handler

    for name in (
        "on_request_start", "on_request_chunk_sent", "on_response_chunk_received",
        "on_request_end", "on_request_exception", "on_request_redirect", "on_request_headers_sent",
        "on_connection_queued_start", "on_connection_queued_end", "on_connection_create_start",
        "on_connection_create_end", "on_connection_reuseconn", "on_dns_resolvehost_start",
        "on_dns_resolvehost_end", "on_dns_cache_hit", "on_dns_cache_miss",
    ):
        getattr(trace_config, name).append(record(name))
    async with aioclient.ClientSession(trace_configs=[trace_config]) as session:
        url = f"http://localhost:{server.url.port}/start"
        async with session.get(url, trace_request_ctx={"foo": "bar"}) as r:
            await r.read()
    names = [e[0] for e in events]
    assert names == [
        "on_request_start",
        "on_connection_create_start",
        "on_dns_cache_miss",
        "on_dns_resolvehost_start",
        "on_dns_resolvehost_end",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_request_redirect",
        "on_connection_reuseconn",
        "on_request_headers_sent",
        "on_request_end",
        "on_response_chunk_received",
    ]
    assert events[0][1] == "TraceRequestStartParams"
    events.clear()
    async with aioclient.ClientSession(trace_configs=[trace_config]) as session:
        with pytest.raises(aioclient.ClientConnectorError):
            await session.get("http://127.0.0.1:1/", trace_request_ctx={"foo": "bar"})
    assert [e[0] for e in events][-1] == "on_request_exception"


# -- aiohttp parity: constructor arguments, methods, errors -----------------------


async def test_deprecated_ssl_spellings_warn_and_exclude_each_other() -> None:
    exclusive = "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"
    with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated, use ssl=False instead"):
        connector = aioclient.TCPConnector(verify_ssl=False)
    assert connector.ssl is False
    await connector.close()
    with pytest.warns(DeprecationWarning, match="fingerprint is deprecated"):
        connector = aioclient.TCPConnector(fingerprint=b"\0" * 32)
    await connector.close()
    with pytest.warns(DeprecationWarning, match="ssl_context is deprecated, use ssl=context instead"):
        connector = aioclient.TCPConnector(ssl_context=ssl.create_default_context())
    await connector.close()
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=exclusive):
        aioclient.TCPConnector(verify_ssl=False, ssl=False)
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=exclusive):
        aioclient.TCPConnector(ssl_context=ssl.create_default_context(), fingerprint=b"\0" * 32)
    with pytest.raises(TypeError, match=r"^ssl should be SSLContext, bool, Fingerprint or None, got 'yes' instead\.$"):
        aioclient.TCPConnector(ssl="yes")
    # The same rules per request.
    async with aioclient.ClientSession() as session:
        with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match=exclusive):
            await session.get("http://127.0.0.1:1/", verify_ssl=False, ssl=False)


async def test_clear_dns_cache_takes_host_and_port_together() -> None:
    connector = aioclient.TCPConnector()
    message = "either both host and port or none of them are allowed"
    with pytest.raises(ValueError, match=message):
        connector.clear_dns_cache("localhost")
    with pytest.raises(ValueError, match=message):
        connector.clear_dns_cache(port=80)
    connector.clear_dns_cache("localhost", 80)
    connector.clear_dns_cache()
    await connector.close()


async def test_connector_close_abort_ssl_sync_with_and_schemes(tmp_path) -> None:
    connector = aioclient.TCPConnector()
    await connector.close(abort_ssl=True)
    assert connector.closed
    with pytest.warns(DeprecationWarning, match='"with Connector\\(\\):" is deprecated'):
        with aioclient.TCPConnector() as connector:
            assert not connector.closed
    assert connector.closed
    assert aioclient.BaseConnector.allowed_protocol_schema_set == {"", "http", "https", "ws", "wss"}
    assert aioclient.TCPConnector.allowed_protocol_schema_set == {"", "http", "https", "ws", "wss", "tcp"}
    assert aioclient.UnixConnector.allowed_protocol_schema_set == {"", "http", "https", "ws", "wss", "unix"}
    # Python versions without the asyncio SSL transport leak: the option does nothing.
    needed = (3, 13, 0) <= sys.version_info < (3, 13, 1) or sys.version_info < (3, 12, 8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        connector = aioclient.TCPConnector(enable_cleanup_closed=True)
    await connector.close()
    ignored = [w for w in caught if "enable_cleanup_closed ignored" in str(w.message)]
    assert len(ignored) == (0 if needed else 1)


async def test_a_connector_may_allow_more_url_schemes(aiohttp_server, tmp_path) -> None:
    path = str(tmp_path / "s.sock")
    await aiohttp_server(_app(), path=path)
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession(connector=aioclient.UnixConnector(path)) as session:
        async with session.get("unix://localhost/") as r:
            assert await r.text() == "hello"
        with pytest.raises(aioclient.NonHttpUrlClientError):
            await session.get(f"tcp://127.0.0.1:{server.url.port}/")
    async with aioclient.ClientSession() as session:
        async with session.get(f"tcp://127.0.0.1:{server.url.port}/") as r:
            assert await r.text() == "hello"
        with pytest.raises(aioclient.NonHttpUrlClientError):
            await session.get(f"ftp://127.0.0.1:{server.url.port}/")


@pytest.mark.parametrize("host", ["127.1", "2130706433", "127.0.0.01", "0177.0.0.1"])
async def test_non_canonical_ipv4_hosts_are_refused(aiohttp_server, host) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.InvalidUrlClientError) as info:
            await session.get(f"http://{host}:{server.url.port}/")
    assert str(info.value) == f"{host} - is not a canonical IPv4 address"


async def test_connect_errors_name_their_cause() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: refused
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    assert isinstance(info.value.os_error, ConnectionRefusedError)
    assert info.value.__cause__ is info.value.os_error
    assert str(info.value) == f"Cannot connect to host 127.0.0.1:{port} ssl:default [Connect call failed ('127.0.0.1', {port})]"


async def test_local_addr_that_cannot_be_bound(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    connector = aioclient.TCPConnector(local_addr=("192.0.2.1", 0))  # TEST-NET-1: not ours
    async with aioclient.ClientSession(connector=connector) as session:
        with pytest.raises(aioclient.ClientConnectorError) as info:
            await session.get(server.url)
    error = info.value.os_error
    assert error.errno == errno.EADDRNOTAVAIL
    assert error.strerror == "error while attempting to bind on address ('192.0.2.1', 0): cannot assign requested address"


async def test_connection_timeout_names_the_url(aiohttp_server) -> None:
    server = await aiohttp_server(_app())

    class Stuck(AbstractResolver):
        async def resolve(self, host, port=0, family=socket.AF_INET):
            await asyncio.Event().wait()

        async def close(self) -> None:
            pass

    url = f"http://stuck.example:{server.url.port}/path?q=1"
    timeout = aioclient.ClientTimeout(connect=0.1)
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(resolver=Stuck()), timeout=timeout) as session:
        with pytest.raises(aioclient.ConnectionTimeoutError) as info:
            await session.get(url + "#fragment")
    assert str(info.value) == f"Connection timeout to host {url}"
    assert isinstance(info.value.__cause__, asyncio.TimeoutError)
    # Waiting for a free connection too.
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", slow)
    busy = await aiohttp_server(app)
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(limit=1)) as session:
        first = asyncio.ensure_future(session.get(busy.url))
        await asyncio.sleep(0.05)
        with pytest.raises(aioclient.ConnectionTimeoutError) as info:
            await session.get(busy.url, timeout=timeout)
        assert str(info.value) == f"Connection timeout to host {busy.url}"
        release.set()
        (await first).release()


async def test_async_resolver_failures_carry_no_errno(dns_server) -> None:
    resolver = AsyncResolver(asyncio.get_running_loop(), nameservers=[f"127.0.0.1:{dns_server.port}"])
    with pytest.raises(OSError) as info:
        await resolver.resolve("missing.invalid", 80)
    assert type(info.value) is OSError
    assert info.value.errno is None  # as aiohttp: c-ares' codes are not getaddrinfo's
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(resolver=resolver)) as session:
        with pytest.raises(aioclient.ClientConnectorDNSError) as dns_info:
            await session.get("http://missing.invalid/")
    assert dns_info.value.errno is None
    assert dns_info.value.os_error is dns_info.value.__cause__
    assert str(dns_info.value) == f"Cannot connect to host missing.invalid:80 ssl:default [{info.value.strerror}]"
    await resolver.close()


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
async def test_ipv6_literal_urls_and_local_addr_of_the_other_family() -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=f"{request.host} {request.remote}")

    app = web.Application()
    app.router.add_get("/", echo)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "::1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aioclient.ClientSession() as session:
            async with session.get(f"http://[::1]:{port}/") as r:
                assert await r.text() == f"[::1]:{port} ::1"
                assert r.host == "::1"
                assert str(r.url) == f"http://[::1]:{port}/"
        connector = aioclient.TCPConnector(local_addr=("127.0.0.1", 0))
        async with aioclient.ClientSession(connector=connector) as session:
            with pytest.raises(aioclient.ClientConnectorError) as info:
                await session.get(f"http://[::1]:{port}/")
        assert str(info.value.os_error) == "no matching local address with family=<AddressFamily.AF_INET6: 10> found"
        assert (info.value.host, info.value.port) == ("::1", port)
    finally:
        await runner.cleanup()
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorError) as refused:
            await session.get(f"http://[::1]:{port}/")
    assert str(refused.value) == f"Cannot connect to host ::1:{port} ssl:default [Connect call failed ('::1', {port}, 0, 0)]"


async def test_a_proxy_name_that_does_not_resolve_is_a_dns_error(dns_server) -> None:
    resolver = AsyncResolver(nameservers=[f"127.0.0.1:{dns_server.port}"])
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(resolver=resolver)) as session:
        for target in ("http://origin.invalid/", "https://origin.invalid/"):
            with pytest.raises(aioclient.ClientConnectorDNSError) as info:  # as aiohttp
                await session.get(target, proxy="http://proxy.invalid:3128")
            assert (info.value.host, info.value.port) == ("proxy.invalid", 3128)
            assert str(info.value).startswith("Cannot connect to host proxy.invalid:3128 ssl:default [")
    await resolver.close()
