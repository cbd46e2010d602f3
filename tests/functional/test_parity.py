"""Edge cases the spec leaves open, matched to what aiohttp 3.14.5 does as a client."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest
from aiohttp import web
from yarl import URL

import aioclient


async def _echo_framing(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "content_length": request.headers.get("Content-Length"),
            "transfer_encoding": request.headers.get("Transfer-Encoding"),
            "body": body.decode(),
        }
    )


def _app(handler) -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def _gen() -> AsyncIterator[bytes]:
    yield b"hello "
    yield b"world"


async def test_stream_body_with_callers_content_length_is_not_chunked(aiohttp_server) -> None:
    server = await aiohttp_server(_app(_echo_framing))
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/"), data=_gen(), headers={"Content-Length": "11"}) as resp:
            assert await resp.json() == {"content_length": "11", "transfer_encoding": None, "body": "hello world"}
        async with session.post(server.make_url("/"), data=_gen()) as resp:
            assert await resp.json() == {"content_length": None, "transfer_encoding": "chunked", "body": "hello world"}
        async with session.post(server.make_url("/"), chunked=True) as resp:
            assert await resp.json() == {"content_length": None, "transfer_encoding": "chunked", "body": ""}


async def _recording_server(aiohttp_server) -> tuple:
    """A server that answers 200 and lists the paths it was asked for."""
    seen: list = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response()

    return await aiohttp_server(_app(handler)), seen


async def test_conflicting_framing_is_a_value_error_before_sending(aiohttp_server) -> None:
    server, seen = await _recording_server(aiohttp_server)
    async with aioclient.ClientSession() as session:
        with pytest.raises(ValueError, match="Content-Length"):
            await session.post(server.make_url("/a"), data=b"x", chunked=True, headers={"Content-Length": "1"})
        with pytest.raises(ValueError, match="Transfer-Encoding"):
            await session.post(server.make_url("/b"), data=b"x", chunked=True, headers={"Transfer-Encoding": "chunked"})
        with pytest.raises(ValueError, match="Content-Encoding"):
            await session.post(server.make_url("/c"), data=b"x", compress="gzip", headers={"Content-Encoding": "br"})
    assert seen == []


async def test_connect_timeout_covers_waiting_for_a_pool_slot(aiohttp_server) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="done")

    server = await aiohttp_server(_app(slow))
    connector = aioclient.TCPConnector(limit=1)
    async with aioclient.ClientSession(connector=connector) as session:
        first = asyncio.ensure_future(session.get(server.make_url("/first")))
        await asyncio.sleep(0.05)
        timeout = aioclient.ClientTimeout(connect=0.2)
        with pytest.raises(aioclient.ConnectionTimeoutError):
            await session.get(server.make_url("/second"), timeout=timeout)
        release.set()
        async with await first as resp:
            assert await resp.text() == "done"
        # The slot the timed-out waiter queued for is not lost.
        async with session.get(server.make_url("/third"), timeout=timeout) as resp:
            assert await resp.text() == "done"


async def test_trace_headers_sent_lists_every_header_before_the_body(aiohttp_server) -> None:
    server = await aiohttp_server(_app(_echo_framing))
    events = []
    trace_config = aioclient.TraceConfig()

    async def on_headers(session, ctx, params) -> None:
        events.append(("headers", dict(params.headers)))

    async def on_chunk(session, ctx, params) -> None:
        events.append(("chunk", params.chunk))

    trace_config.on_request_headers_sent.append(on_headers)
    trace_config.on_request_chunk_sent.append(on_chunk)
    async with aioclient.ClientSession(trace_configs=[trace_config]) as session:
        async with session.post(server.make_url("/"), data=b"abc", headers={"X-Mine": "1"}) as resp:
            await resp.read()
    assert [name for name, _ in events] == ["headers", "chunk"]
    headers = events[0][1]
    assert headers["Host"] == f"127.0.0.1:{server.url.port}"
    assert headers["X-Mine"] == "1"
    assert headers["Content-Length"] == "3"
    assert headers["Content-Type"] == "application/octet-stream"
    assert {"Accept", "Accept-Encoding", "User-Agent"} <= set(headers)
    assert events[1] == ("chunk", b"abc")


async def _cookie_echo(request: web.Request) -> web.Response:
    if request.path == "/set":
        resp = web.Response(text="set")
        resp.headers.add("Set-Cookie", "pl=a,b")
        resp.headers.add("Set-Cookie", 'qt="kept as sent"')
        return resp
    return web.Response(text=request.headers.get("Cookie", ""))


@pytest.mark.parametrize(
    ("quote", "expected"),
    [(True, 'mine="x y"; pl="a\\054b"; qt="kept as sent"'), (False, "mine=x y; pl=a,b; qt=kept as sent")],
)
async def test_quote_cookie_governs_jar_and_request_cookies(aiohttp_server, quote, expected) -> None:
    server = await aiohttp_server(_app(_cookie_echo))
    jar = aioclient.CookieJar(unsafe=True, quote_cookie=quote)
    async with aioclient.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.make_url("/set")) as resp:
            await resp.read()
        async with session.get(server.make_url("/echo"), cookies={"mine": "x y"}) as resp:
            assert await resp.text() == expected
        async with session.get(server.make_url("/echo"), cookies={"pl": "over"}) as resp:
            sent = (await resp.text()).split("; ")
            assert sent[0] == "pl=over" and len(sent) == 2  # a request cookie replaces the jar's


async def test_host_only_cookie_shows_its_host_as_domain(aiohttp_server) -> None:
    server = await aiohttp_server(_app(_cookie_echo))
    jar = aioclient.CookieJar(unsafe=True)
    async with aioclient.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.make_url("/set")) as resp:
            await resp.read()
    assert {m.key: m["domain"] for m in jar} == {"pl": "127.0.0.1", "qt": "127.0.0.1"}


async def test_middleware_retry_keeps_only_the_final_responses_cookies(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "yes":
            resp = web.Response(status=401)
            resp.set_cookie("attempt", "1")
            return resp
        resp = web.Response(text="ok")
        resp.set_cookie("final", "2")
        return resp

    async def authorize(req: aioclient.ClientRequest, handler) -> aioclient.ClientResponse:
        resp = await handler(req)
        if resp.status == 401:
            resp.release()
            req.headers["Authorization"] = "yes"
            resp = await handler(req)
        return resp

    server = await aiohttp_server(_app(handler))
    jar = aioclient.CookieJar(unsafe=True)
    async with aioclient.ClientSession(cookie_jar=jar, middlewares=(authorize,)) as session:
        async with session.get(server.make_url("/")) as resp:
            assert await resp.text() == "ok"
    assert [m.key for m in jar] == ["final"]


async def test_middleware_rewriting_the_url_keeps_the_callers_url_on_the_response(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=request.path_qs)

    async def rewrite(req: aioclient.ClientRequest, handler) -> aioclient.ClientResponse:
        req.url = req.url.with_path("/rewritten")
        return await handler(req)

    server = await aiohttp_server(_app(handler))
    asked = server.make_url("/asked?x=1#frag")
    async with aioclient.ClientSession(middlewares=(rewrite,)) as session:
        async with session.get(asked) as resp:
            assert await resp.text() == "/rewritten"  # yarl: with_path drops the query
            assert resp.url == asked.with_fragment(None)
            assert resp.real_url == asked
            assert resp.request_info.url == server.make_url("/rewritten")
            assert resp.request_info.real_url == asked


async def test_response_is_closed_once_its_body_has_arrived(aiohttp_server) -> None:
    big = b"x" * 5_000_000

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=big if request.path == "/big" else b"hi")

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        resp = await session.get(server.make_url("/small"))
        assert resp.closed  # the body came with the head
        assert await resp.read() == b"hi"
        resp = await session.get(server.make_url("/big"))
        assert not resp.closed and resp.connection is not None
        # aiohttp's Connection: the transport (peer address), a bool `closed`.
        connection = resp.connection
        assert connection.transport.get_extra_info("peername")[1] == server.make_url("/").port
        assert connection.protocol is not None and connection.closed is False
        assert await resp.read() == big
        assert resp.closed and resp.connection is None
        assert connection.closed is True and connection.transport is None  # back in the pool
        resp = await session.get(server.make_url("/big"))
        resp.connection.close()  # given up mid-body: the body never completes
        with pytest.raises(aioclient.ClientPayloadError):
            await resp.read()
        resp = await session.get(server.make_url("/big"))
        received = 0
        async for chunk in resp.content.iter_chunked(1 << 20):
            received += len(chunk)
        assert received == len(big) and resp.closed
        resp = await session.get(server.make_url("/big"))
        resp.release()
        assert resp.closed


async def test_auth_arguments_must_be_basic_auth(aiohttp_server) -> None:
    server, seen = await _recording_server(aiohttp_server)
    async with aioclient.ClientSession() as session:
        with pytest.raises(TypeError, match="BasicAuth"):
            await session.get(server.make_url("/a"), auth=("user", "pass"))
        with pytest.raises(ValueError, match="proxy_auth"):
            await session.get(server.make_url("/b"), proxy=str(server.url), proxy_auth=("user", "pass"))
    assert seen == []


@pytest.mark.parametrize("resolver_class", ["ThreadedResolver", "AsyncResolver"])
async def test_resolver_results_carry_numeric_addrinfo_flags(resolver_class) -> None:
    import socket

    resolver = getattr(aioclient, resolver_class)()
    try:
        results = await resolver.resolve("localhost", 8080)
    finally:
        await resolver.close()
    assert results
    for result in results:
        assert result["hostname"] == "localhost"
        assert result["host"] in ("127.0.0.1", "::1")
        assert result["port"] == 8080
        assert result["flags"] == socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


async def test_expect100_refused_connection_is_not_reused(aiohttp_server) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401, text="go away")

    async def accept(request: web.Request) -> web.Response:
        return web.Response(text=f"got {len(await request.read())}")

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="plain")

    async def body() -> AsyncIterator[bytes]:
        yield b"0123456789"

    app = web.Application()
    app.router.add_route("PUT", "/refuse", accept, expect_handler=refuse)
    app.router.add_get("/plain", plain)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(timeout=aioclient.ClientTimeout(total=5)) as session:
        for data in (b"0123456789", body()):
            async with session.put(server.make_url("/refuse"), data=data, expect100=True) as resp:
                assert (resp.status, await resp.text()) == (401, "go away")
            # The refused body was never sent: the next request needs a fresh connection.
            async with session.get(server.make_url("/plain")) as resp:
                assert (resp.status, await resp.text()) == (200, "plain")


async def _echo_content_headers(request: web.Request) -> web.Response:
    return web.json_response({k: request.headers.get(k) for k in ("Content-Type", "Content-Length")})


@pytest.mark.parametrize(
    ("method", "kwargs", "content_type", "length"),
    [
        ("POST", {}, "application/octet-stream", "0"),
        ("PUT", {}, "application/octet-stream", "0"),
        ("POST", {"data": b""}, "application/octet-stream", "0"),
        ("DELETE", {"data": b""}, "application/octet-stream", "0"),
        ("DELETE", {}, None, "0"),
        ("GET", {}, None, None),
        ("POST", {"data": ""}, "text/plain; charset=utf-8", "0"),
        ("POST", {"headers": {"Content-Type": "x/y"}}, "x/y", "0"),
    ],
)
async def test_empty_bodies_are_labelled_as_aiohttp_labels_them(aiohttp_server, method, kwargs, content_type, length) -> None:
    server = await aiohttp_server(_app(_echo_content_headers))
    async with aioclient.ClientSession() as session:
        async with session.request(method, server.make_url("/"), **kwargs) as resp:
            assert await resp.json() == {"Content-Type": content_type, "Content-Length": length}


async def test_a_failing_body_iterator_is_a_client_connection_error(aiohttp_server) -> None:
    server = await aiohttp_server(_app(_echo_framing))

    async def broken() -> AsyncIterator[bytes]:
        yield b"start"
        raise ValueError("the source broke")

    async def not_bytes() -> AsyncIterator[bytes]:
        yield "text"  # type: ignore[misc]

    async with aioclient.ClientSession() as session:
        for body, cause in ((broken(), ValueError), (not_bytes(), TypeError)):
            with pytest.raises(aioclient.ClientConnectionError) as info:
                await session.post(server.make_url("/"), data=body)
            assert isinstance(info.value.__cause__, cause)
        async with session.post(server.make_url("/"), data=b"after") as resp:  # the session still works
            assert (await resp.json())["body"] == "after"


async def test_response_error_code_is_a_deprecated_alias_of_status(aiohttp_server) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404)

    server = await aiohttp_server(_app(missing))
    async with aioclient.ClientSession(raise_for_status=True) as session:
        with pytest.raises(aioclient.ClientResponseError) as info:
            await session.get(server.make_url("/"))
    with pytest.warns(DeprecationWarning, match="use status instead"):
        assert info.value.code == 404


async def test_iter_chunks_ends_at_the_end_of_the_body(aiohttp_server) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for piece in (b"hello", b" world"):
            await resp.write(piece)
        await resp.write_eof()
        return resp

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/empty", empty)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/chunked")) as resp:
            pieces = [data async for data, _ in resp.content.iter_chunks()]
            assert b"".join(pieces) == b"hello world"
            assert await resp.content.readchunk() == (b"", False)
        async with session.get(server.make_url("/empty")) as resp:
            assert [item async for item in resp.content.iter_chunks()] == []


@pytest.mark.parametrize("pause", [0, 0.02])
async def test_iter_chunks_marks_the_end_of_each_http_chunk(aiohttp_server, pause) -> None:
    # aiohttp's documented use: gather data until end_of_http_chunk, one message per
    # HTTP chunk, whether the chunks come one per read (pause) or several in one.
    messages = [b"first", b"second message", b"x" * 70_000, b"last"]

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for message in messages:
            await resp.write(message)
            await asyncio.sleep(pause)
        await resp.write_eof()
        return resp

    async def one_chunk(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'{"a": 1}')
        await resp.write_eof()
        return resp

    async def not_chunked(request: web.Request) -> web.Response:
        return web.Response(body=b"not chunked")

    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/one", one_chunk)
    app.router.add_get("/length", not_chunked)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/chunked")) as resp:
            received, buffer = [], b""
            async for data, end_of_http_chunk in resp.content.iter_chunks():
                buffer += data
                if end_of_http_chunk:
                    received.append(buffer)
                    buffer = b""
            assert received == messages and buffer == b""
        async with session.get(server.make_url("/one")) as resp:  # whole in one read
            assert [item async for item in resp.content.iter_chunks()] == [(b'{"a": 1}', True)]
        async with session.get(server.make_url("/one")) as resp:
            assert await resp.read() == b'{"a": 1}'
        async with session.get(server.make_url("/length")) as resp:
            assert [item async for item in resp.content.iter_chunks()] == [(b"not chunked", False)]


async def test_a_101_nobody_asked_for_ends_the_response_at_its_head() -> None:
    # A server switching protocols unasked (no Upgrade in the request): as aiohttp, the
    # response is the 101 without a body, at once; unlike aiohttp, its connection is
    # not reused (what follows is no HTTP).
    connections = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if len(connections) == 1:
                writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\nRAW")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aioclient.ClientSession() as session:
            async with asyncio.timeout(5):
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    assert resp.status == 101
                    assert await resp.read() == b""
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    assert await resp.read() == b"ok"
        assert len(connections) == 2
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_read_of_a_body_of_tiny_chunks_stays_small_in_memory() -> None:
    # A server flushing a byte at a time: read() must not hold an object per chunk
    # (aiohttp's read() joins what each read brought, so stays near the body's size).
    import tracemalloc

    chunks = 100_000
    wire = b"1\r\nx\r\n" * chunks + b"0\r\n\r\n"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in range(0, len(wire), 1 << 16):
            writer.write(wire[start : start + (1 << 16)])
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aioclient.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as resp:
                tracemalloc.start()
                try:
                    body = await resp.read()
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
        assert body == b"x" * chunks
        # One object per chunk held until the end was ~13 MB here; what stays is one
        # read's worth of pieces in flight (~2.4 MB).
        assert peak < 5_000_000
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_stream_delivers_each_flushed_message_at_once(aiohttp_server, encoding) -> None:
    # The server flushes its compressor after each message and sends the next one only
    # once the client has read it: a decoder holding output back would hang here.
    import zlib

    read_first = asyncio.Event()

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Encoding": encoding})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        compressor = zlib.compressobj(wbits=31 if encoding == "gzip" else 15)
        await resp.write(compressor.compress(b'{"n": 1}\n' * 500) + compressor.flush(zlib.Z_SYNC_FLUSH))
        await asyncio.wait_for(read_first.wait(), 5)
        await resp.write(compressor.compress(b'{"n": 2}\n') + compressor.flush())
        await resp.write_eof()
        return resp

    server = await aiohttp_server(_app(stream))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as resp:
            async with asyncio.timeout(3):
                for _ in range(500):
                    assert await resp.content.readline() == b'{"n": 1}\n'
            read_first.set()
            assert await resp.content.read() == b'{"n": 2}\n'


async def test_request_info_lists_the_headers_sent(aiohttp_server) -> None:
    async def teapot(request: web.Request) -> web.Response:
        return web.Response(status=418)

    server = await aiohttp_server(_app(teapot))
    async with aioclient.ClientSession() as session:
        for kwargs in ({}, {"headers": {"X-Mine": "1"}, "data": b"abc", "cookies": {"c": "v"}}):
            async with session.post(server.make_url("/x#frag"), **kwargs) as resp:
                info = resp.request_info
                assert info.url == server.make_url("/x") and info.real_url == server.make_url("/x#frag")
                assert {"Host", "Accept", "Accept-Encoding", "User-Agent", "Content-Length"} <= set(info.headers)
                assert info.headers["Host"] == f"127.0.0.1:{server.url.port}"
            if kwargs:
                assert info.headers["X-Mine"] == "1" and info.headers["Cookie"] == "c=v"
        # The plain fast path (a GET without arguments) says the same.
        async with session.get(server.make_url("/y")) as resp:
            assert {"Host", "Accept", "User-Agent"} <= set(resp.request_info.headers)
        with pytest.raises(aioclient.ClientResponseError) as err:
            async with session.get(server.make_url("/z"), raise_for_status=True):
                pass
        assert "Host" in err.value.request_info.headers


@pytest.mark.parametrize(
    "timeout",
    [
        aioclient.ClientTimeout(connect=0),
        aioclient.ClientTimeout(sock_connect=0),
        aioclient.ClientTimeout(sock_read=0),
        aioclient.ClientTimeout(total=0),
        aioclient.ClientTimeout(total=-1, connect=-1),
    ],
)
async def test_zero_timeouts_are_disabled(aiohttp_server, timeout) -> None:
    async def slowish(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        return web.Response(text="ok")

    server = await aiohttp_server(_app(slowish))
    async with aioclient.ClientSession(timeout=timeout) as session:
        async with session.get(server.make_url("/")) as resp:
            assert await resp.text() == "ok"


async def test_request_header_edge_cases(aiohttp_server) -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"cookie": request.headers.getall("Cookie", []), "host": request.headers.get("Host")})

    server = await aiohttp_server(_app(echo))
    jar = aioclient.CookieJar(unsafe=True)
    jar.update_cookies({"jar": "1"})
    async with aioclient.ClientSession(cookie_jar=jar) as session:
        # One Cookie line: the caller's header merged with the jar's cookies.
        async with session.get(server.make_url("/"), headers={"Cookie": "explicit=2"}) as resp:
            assert (await resp.json())["cookie"] == ["explicit=2; jar=1"]
        # A name given twice is sent once: the cookies= value replaces the header's.
        async with session.get(server.make_url("/"), headers={"Cookie": "a=1; c=3"}, cookies={"a": "2"}) as resp:
            assert (await resp.json())["cookie"] == ["a=2; c=3; jar=1"]
        async with session.get(server.make_url("/"), headers={"Cookie": 'q="x;b=1"; b=2'}, cookies={"b": "3"}) as resp:
            assert (await resp.json())["cookie"] == ['b=3; jar=1; q="x;b=1"']  # ";" inside quotes kept
        # Sorted by name, as aiohttp sends them.
        async with session.get(server.make_url("/"), headers={"Cookie": "yy=5; aa=6"}, cookies={"mid": "3"}) as resp:
            assert (await resp.json())["cookie"] == ["aa=6; jar=1; mid=3; yy=5"]
        # Host is always sent (HTTP/1.1 requires it), as aiohttp does.
        async with session.get(server.make_url("/"), skip_auto_headers=["Host"]) as resp:
            assert (await resp.json())["host"] == f"127.0.0.1:{server.url.port}"
        with pytest.raises(TypeError):
            await session.get(server.make_url("/"), headers={"X-Number": 1})


@pytest.mark.parametrize("url", ["mailto:someone@example.com", "file:///etc/hosts", "data:text/plain,hi", "unix:/tmp/x"])
async def test_non_http_schemes_are_named_as_such(url) -> None:
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.NonHttpUrlClientError):
            await session.get(url)


async def test_port_zero_is_not_the_default_port() -> None:
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorError) as info:
            await session.get("http://127.0.0.1:0/")
    assert info.value.port == 0


@pytest.mark.parametrize("reset", [True, False])
async def test_peer_leaving_during_the_tls_handshake_is_a_connector_error(reset) -> None:
    import socket
    import struct

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # the ClientHello has started
        sock = writer.get_extra_info("socket")
        if reset:  # RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aioclient.ClientSession() as session:
            with pytest.raises(aioclient.ClientConnectorError) as info:
                await session.get(f"https://127.0.0.1:{port}/")
        assert (info.value.host, info.value.port) == ("127.0.0.1", port)
        assert not isinstance(info.value, aioclient.ClientSSLError)
    finally:
        server.close()
        await server.wait_closed()


async def test_tracing_of_requests_that_fail_on_their_response(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.path == "/loop":
            raise web.HTTPFound("/loop")
        return web.Response(status=503)

    server = await aiohttp_server(_app(handler))
    events = []
    trace_config = aioclient.TraceConfig()
    for name in ("on_request_end", "on_request_exception", "on_request_redirect"):
        async def record(session, ctx, params, name=name) -> None:
            events.append((name, type(getattr(params, "exception", None)).__name__))

        getattr(trace_config, name).append(record)
    async with aioclient.ClientSession(trace_configs=[trace_config]) as session:
        with pytest.raises(aioclient.ClientResponseError):
            await session.get(server.make_url("/down"), raise_for_status=True)
        assert events == [("on_request_exception", "ClientResponseError")]
        events.clear()
        with pytest.raises(aioclient.TooManyRedirects):
            await session.get(server.make_url("/loop"), max_redirects=3)
        assert events == [("on_request_redirect", "NoneType")] * 3 + [("on_request_exception", "TooManyRedirects")]


async def test_request_cookie_morsels_keep_their_attributes(aiohttp_server) -> None:
    from http.cookies import SimpleCookie

    server = await aiohttp_server(_app(_cookie_echo))
    cookies = SimpleCookie()
    cookies["plain"] = "1"
    cookies["sec"] = "2"
    cookies["sec"]["secure"] = True
    cookies["elsewhere"] = "3"
    cookies["elsewhere"]["path"] = "/other"
    cookies["foreign"] = "4"
    cookies["foreign"]["domain"] = "example.com"
    cookies["gone"] = "5"
    cookies["gone"]["max-age"] = "0"
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/echo"), cookies=cookies) as resp:
            assert await resp.text() == "plain=1"
        async with session.get(server.make_url("/other/x"), cookies=cookies) as resp:
            assert sorted((await resp.text()).split("; ")) == ["elsewhere=3", "plain=1"]


async def test_jar_cookie_given_a_domain_without_a_response_url_keeps_it(aiohttp_server) -> None:
    from http.cookies import SimpleCookie

    server = await aiohttp_server(_app(_cookie_echo))
    scoped = SimpleCookie()
    scoped["scoped"] = "1"
    scoped["scoped"]["domain"] = "example.com"
    jar = aioclient.CookieJar(unsafe=True)
    jar.update_cookies(scoped)
    jar.update_cookies({"shared": "2"})
    async with aioclient.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.make_url("/echo")) as resp:
            assert await resp.text() == "shared=2"
    assert jar.filter_cookies(URL("http://www.example.com/"))["scoped"].value == "1"


async def test_force_close_says_connection_close(aiohttp_server) -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("Connection", "-"))

    server = await aiohttp_server(_app(echo))
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(force_close=True)) as session:
        for _ in range(2):  # the fast path too
            async with session.get(server.make_url("/")) as resp:
                assert await resp.text() == "close"
                assert resp.request_info.headers["Connection"] == "close"
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as resp:
            assert await resp.text() == "-"


async def test_connector_limits_of_none_mean_no_limit(aiohttp_server) -> None:
    server = await aiohttp_server(_app(_echo_framing))
    connector = aioclient.TCPConnector(limit=None, limit_per_host=None)
    assert (connector.limit, connector.limit_per_host) == (None, None)  # as given, as aiohttp
    async with aioclient.ClientSession(connector=connector) as session:
        # No limit: more requests in flight than the default limit of 100.
        statuses = await asyncio.gather(*(session.get(server.make_url("/")) for _ in range(120)))
        assert [r.status for r in statuses] == [200] * 120
        for resp in statuses:
            resp.release()
    default = aioclient.TCPConnector()
    assert (default.limit, default.limit_per_host) == (100, 0)
    await default.close()


async def test_unclosed_session_is_reported_to_the_loop(aiohttp_server) -> None:
    import gc

    loop = asyncio.get_running_loop()
    reported = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda loop, context: reported.append(context["message"]))
    try:
        with pytest.warns(ResourceWarning, match="Unclosed client session"):
            session = aioclient.ClientSession(connector=aioclient.TCPConnector(), connector_owner=False)
            connector = session.connector
            del session
            gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert reported == ["Unclosed client session"]
    await connector.close()


async def test_closing_the_connector_fails_queued_and_running_requests(aiohttp_server) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    server = await aiohttp_server(_app(slow))
    connector = aioclient.TCPConnector(limit=1)
    session = aioclient.ClientSession(connector=connector)
    running = asyncio.ensure_future(session.get(server.make_url("/running")))
    await asyncio.sleep(0.05)
    queued = asyncio.ensure_future(session.get(server.make_url("/queued")))
    await asyncio.sleep(0.05)
    await session.close()
    release.set()
    with pytest.raises(aioclient.ClientConnectorError) as info:
        await queued
    assert (info.value.host, info.value.port) == ("127.0.0.1", server.url.port)
    # As aiohttp: not ServerDisconnectedError (the server did nothing).
    with pytest.raises(aioclient.ClientConnectionError, match="Connector is closed.") as running_info:
        await running
    assert type(running_info.value) is aioclient.ClientConnectionError


@pytest.mark.parametrize("fields", [{"connect": 0.2}, {"sock_connect": 0.2}, {"connect": 0.2, "sock_connect": 0.2}])
async def test_connect_timeouts_against_a_host_that_never_answers(fields) -> None:
    import socket

    # A listener whose accept queue is full: further SYNs go unanswered (Linux).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        async with aioclient.ClientSession(timeout=aioclient.ClientTimeout(**fields)) as session:
            with pytest.raises(aioclient.ConnectionTimeoutError):
                await session.get(f"http://127.0.0.1:{port}/")
        # Nested deadlines that fire together leave no cancellation pending on the task.
        assert asyncio.current_task().cancelling() == 0
    finally:
        for sock in (*fillers, listener):
            sock.close()


async def test_failures_after_a_connection_is_taken_give_it_back(aiohttp_server) -> None:
    big = b"x" * 3_000_000

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=big if request.path == "/big" else b"ok")

    server = await aiohttp_server(_app(handler))

    async def refuse(resp: aioclient.ClientResponse) -> None:
        raise RuntimeError("not this one")

    timeout = aioclient.ClientTimeout(total=5, connect=0.2)
    slow_reuse = aioclient.TraceConfig()

    async def stall(session, ctx, params) -> None:
        if ctx.trace_request_ctx == "stall":
            await asyncio.sleep(1)

    slow_reuse.on_connection_reuseconn.append(stall)
    connector = aioclient.TCPConnector(limit=1)
    async with aioclient.ClientSession(connector=connector, timeout=timeout, trace_configs=[slow_reuse]) as session:
        # A raise_for_status callable that raises while the body is still coming.
        with pytest.raises(RuntimeError):
            await session.get(server.make_url("/big"), raise_for_status=refuse)
        async with session.get(server.make_url("/small")) as resp:
            assert await resp.read() == b"ok"
        # The connect timeout firing inside a connection trace callback.
        with pytest.raises(aioclient.ConnectionTimeoutError):
            await session.get(server.make_url("/small"), trace_request_ctx="stall")
        async with session.get(server.make_url("/small")) as resp:
            assert await resp.read() == b"ok"


async def test_request_cookies_are_all_sent_and_judged_like_the_jar(aiohttp_server) -> None:
    from http.cookies import SimpleCookie

    server = await aiohttp_server(_app(_cookie_echo))
    many = {f"c{i}": str(i) for i in range(60)}
    scoped = SimpleCookie()
    scoped["ip"] = "1"
    scoped["ip"]["domain"] = "127.0.0.1"
    async with aioclient.ClientSession(cookie_jar=aioclient.CookieJar(unsafe=True)) as session:
        async with session.get(server.make_url("/echo"), cookies=many) as resp:
            assert len((await resp.text()).split("; ")) == 60  # no per-response cap on what the caller gives
        async with session.get(server.make_url("/echo"), cookies=scoped) as resp:
            assert await resp.text() == "ip=1"  # the session jar's unsafe=True applies


async def test_a_failing_queue_trace_does_not_block_the_pool(aiohttp_server) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/hold":
            await release.wait()
        return web.Response(text=request.path)

    server = await aiohttp_server(_app(handler))
    broken = aioclient.TraceConfig()

    async def fail(session, ctx, params) -> None:
        raise RuntimeError("trace callback failed")

    broken.on_connection_queued_start.append(fail)
    connector = aioclient.TCPConnector(limit=1)
    timeout = aioclient.ClientTimeout(total=5)
    async with aioclient.ClientSession(connector=connector, timeout=timeout) as plain, \
            aioclient.ClientSession(connector=connector, connector_owner=False, trace_configs=[broken]) as traced:
        holder = asyncio.ensure_future(plain.get(server.make_url("/hold")))
        await asyncio.sleep(0.05)
        with pytest.raises(RuntimeError):
            await traced.get(server.make_url("/traced"))
        queued = asyncio.ensure_future(plain.get(server.make_url("/after")))
        await asyncio.sleep(0.05)
        release.set()
        async with await holder as resp:
            assert await resp.text() == "/hold"
        async with await queued as resp:  # gets the slot: the failed waiter left the queue
            assert await resp.text() == "/after"


async def test_expect_header_trailing_dot_and_abc_names(aiohttp_server) -> None:
    from aioclient.abc import AbstractCookieJar, AbstractResolver, ResolveResult

    assert AbstractResolver is aioclient.resolver.AbstractResolver
    assert AbstractCookieJar is aioclient.AbstractCookieJar and ResolveResult

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=417, text="no")

    async def accept(request: web.Request) -> web.Response:
        return web.Response(text=f"{request.host}|{len(await request.read())}")

    class Local(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = 0) -> list:
            return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": 2, "proto": 0, "flags": 0}]

        async def close(self) -> None:
            pass

    app = web.Application()
    app.router.add_route("PUT", "/up", accept, expect_handler=refuse)
    app.router.add_route("GET", "/host", accept)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(resolver=Local())) as session:
        # A caller's own Expect header waits for 100 Continue like expect100=True.
        async with session.put(server.make_url("/up"), data=b"x" * 1000, headers={"Expect": "100-continue"}) as resp:
            assert (resp.status, await resp.text()) == (417, "no")
        # "example.com." is sent as Host: example.com.
        async with session.get(f"http://example.com.:{server.url.port}/host") as resp:
            assert await resp.text() == f"example.com:{server.url.port}|0"


async def test_empty_body_with_a_content_encoding_reads_empty(aiohttp_server) -> None:
    async def empty(request: web.Request) -> web.Response:
        encoding = request.query["ce"]
        return web.Response(status=201, body=b"", headers={"Content-Encoding": encoding})

    server = await aiohttp_server(_app(empty))
    async with aioclient.ClientSession() as session:
        for encoding in ("gzip", "br", "deflate", "zstd"):
            async with session.post(server.make_url(f"/?ce={encoding}")) as resp:
                assert (resp.status, await resp.read()) == (201, b"")


async def test_small_session_api_details() -> None:
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.InvalidUrlClientError) as info:
            await session.get("/relative/path")
        assert info.value.url == URL("/relative/path")  # a yarl URL, as in aiohttp
        with pytest.warns(DeprecationWarning, match=r"^session.requote_redirect_url modification is deprecated #2778$"):
            session.requote_redirect_url = False
        assert session.requote_redirect_url is False



@pytest.mark.parametrize(
    ("method", "status", "readable_after_release"),
    [("GET", 204, True), ("GET", 304, True), ("HEAD", 200, True), ("GET", 200, False)],
)
async def test_the_stream_of_a_response_without_a_body_stays_readable_after_release(
    aiohttp_server, method: str, status: int, readable_after_release: bool
) -> None:
    # aiohttp gives 204, 304 and HEAD responses its shared empty stream, which release()
    # leaves readable; an empty 200 body gets a stream of its own, closed on release.
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=b"")

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        async with session.request(method, server.make_url("/")) as resp:
            assert await resp.content.read(3) == b""
        if readable_after_release:
            assert await resp.read() == b""
            assert await resp.content.read() == b""
        else:
            with pytest.raises(aioclient.ClientConnectionError):
                await resp.read()


@pytest.mark.parametrize("kwargs", [{}, {"headers": {}}], ids=["fast", "general"])
async def test_a_custom_jar_is_asked_for_cookies_even_when_empty(aiohttp_server, kwargs) -> None:
    # aiohttp calls filter_cookies() on every request; a jar of the caller's may find
    # cookies elsewhere while holding none itself.
    class InjectingJar(aioclient.CookieJar):
        def filter_cookies(self, request_url):
            cookies = super().filter_cookies(request_url)
            cookies["injected"] = "1"
            return cookies

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("Cookie", ""))

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession(cookie_jar=InjectingJar(unsafe=True)) as session:
        for _ in range(3):  # the later ones find a pooled connection
            async with session.get(server.make_url("/"), **kwargs) as resp:
                assert await resp.text() == "injected=1"


async def test_readexactly_of_a_negative_count_is_empty(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1000)

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as resp:
            assert await resp.content.readexactly(-1) == b""  # as aiohttp
            assert await resp.read() == b"x" * 1000


async def test_a_body_read_before_release_leaves_its_stream_at_eof(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as resp:
            assert await resp.read() == b"hello"
        assert resp.content.at_eof()  # as aiohttp; reading it still raises
        with pytest.raises(aioclient.ClientConnectionError):
            await resp.content.read()
        assert await resp.text() == "hello"


@pytest.mark.parametrize("value", ["a\x01b", "a\x1b[31mb", "a\x7fb", "a\x08b", "a\x1fb", "a\x0bb", "a\x0cb"])
async def test_control_characters_in_header_values_fail_before_sending(aiohttp_server, value) -> None:
    # aiohttp refuses every control character but HTAB in a header value (header
    # injection, terminal escapes); nothing is sent.
    server, seen = await _recording_server(aiohttp_server)
    async with aioclient.ClientSession() as session:
        with pytest.raises(ValueError, match="control character"):
            await session.get(server.make_url("/value"), headers={"X-A": value})
        with pytest.raises(ValueError):
            await session.get(server.make_url("/name"), headers={"X" + value: "v"})
    assert seen == []


async def test_a_tab_and_non_ascii_text_in_a_header_value_are_sent(aiohttp_server) -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"x": request.headers["X-A"]})

    server = await aiohttp_server(_app(echo))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/"), headers={"X-A": "a\tb ~"}) as resp:
            assert await resp.json() == {"x": "a\tb ~"}


async def _echo_all_headers(request: web.Request) -> web.Response:
    return web.json_response({"headers": dict(request.headers), "body": (await request.read()).decode("latin-1")})


async def test_a_payloads_own_headers_go_with_the_request(aiohttp_server) -> None:
    # As aiohttp (ClientRequest.update_body_from_data): a payload's headers are sent
    # unless the request sets them or skips them; the framing stays the request's own.
    import gzip

    server = await aiohttp_server(_app(_echo_all_headers))
    async with aioclient.ClientSession() as session:
        body = aioclient.payload.BytesPayload(
            gzip.compress(b'{"a":1}'),
            content_type="application/json",
            headers={"Content-Encoding": "gzip", "X-Checksum": "abc", "X-Skipped": "1", "X-Mine": "payload"},
        )
        async with session.post(
            server.make_url("/"), data=body, headers={"X-Mine": "request"}, skip_auto_headers=["X-Skipped"]
        ) as resp:
            headers = (await resp.json())["headers"]
        assert headers["Content-Type"] == "application/json"
        assert headers["Content-Encoding"] == "gzip"
        assert headers["X-Checksum"] == "abc"
        assert headers["X-Mine"] == "request"
        assert "X-Skipped" not in headers
        framed = aioclient.payload.BytesPayload(b"abc", headers={"Content-Length": "1", "Transfer-Encoding": "gzip"})
        async with session.post(server.make_url("/"), data=framed) as resp:
            echoed = await resp.json()
        assert echoed["body"] == "abc"
        assert echoed["headers"]["Content-Length"] == "3"
        assert "Transfer-Encoding" not in echoed["headers"]

        writer = aioclient.MultipartWriter("form-data", boundary="b")
        writer.append("x")
        writer.headers["X-Writer"] = "1"
        async with session.post(server.make_url("/"), data=writer) as resp:
            headers = (await resp.json())["headers"]
        assert headers["X-Writer"] == "1"
        assert headers["Content-Type"] == "multipart/form-data; boundary=b"


async def test_a_file_body_carries_a_content_disposition_only_when_its_payload_is_given(aiohttp_server, tmp_path) -> None:
    # data=open(...) has none (aiohttp builds that payload with disposition=None); a
    # payload built by the caller keeps its "attachment" one, which is then sent.
    path = tmp_path / "f.txt"
    path.write_bytes(b"hello")
    server = await aiohttp_server(_app(_echo_all_headers))
    async with aioclient.ClientSession() as session:
        with open(path, "rb") as f:
            async with session.post(server.make_url("/"), data=f) as resp:
                assert "Content-Disposition" not in (await resp.json())["headers"]
        with open(path, "rb") as f:
            body = aioclient.payload.BufferedReaderPayload(f)
            async with session.post(server.make_url("/"), data=body) as resp:
                assert (await resp.json())["headers"]["Content-Disposition"] == 'attachment; filename="f.txt"'


async def test_json_serialize_bytes_serialises_json_bodies(aiohttp_server) -> None:
    # aiohttp 3.14: a dumps that returns bytes (orjson's) wins over json_serialize.
    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"type": request.content_type, "body": (await request.read()).decode()})

    def dumps_bytes(obj) -> bytes:
        return b'{"via":"bytes"}'

    server = await aiohttp_server(_app(echo))
    async with aioclient.ClientSession(json_serialize_bytes=dumps_bytes, json_serialize=lambda o: '{"via":"str"}') as session:
        async with session.post(server.make_url("/"), json={"a": 1}) as resp:
            assert await resp.json() == {"type": "application/json", "body": '{"via":"bytes"}'}
        async with session.post(server.make_url("/"), data=b"raw") as resp:
            assert (await resp.json())["body"] == "raw"


async def test_chunked_replaces_a_callers_other_transfer_encoding(aiohttp_server) -> None:
    # chunked=True (or a body of unknown size) with "Transfer-Encoding: gzip": one TE
    # line, "chunked", as aiohttp's update_transfer_encoding sets it.
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {"te": request.headers.getall("Transfer-Encoding", []), "body": (await request.read()).decode()}
        )

    server = await aiohttp_server(_app(echo))
    async with aioclient.ClientSession() as session:
        for kwargs in ({"data": b"abc", "chunked": True}, {"data": _gen()}, {"chunked": True}):
            async with session.post(server.make_url("/"), headers={"Transfer-Encoding": "gzip"}, **kwargs) as resp:
                echoed = await resp.json()
            assert echoed["te"] == ["chunked"]
            assert echoed["body"] in ("abc", "hello world", "")
