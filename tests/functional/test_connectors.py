"""Connectors, DNS, Unix sockets and tracing against real servers."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
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
