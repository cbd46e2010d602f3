"""The response body API (``ClientResponse`` and its ``content`` stream) matched to
aiohttp 3.14.5 as a client."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import AsyncIterator, Awaitable, Callable, Dict

import pytest
from aiohttp import web

import aioclient
from aioclient.http_exceptions import ContentLengthError, LineTooLong

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _raw_server(routes: Dict[str, Serve]) -> AsyncIterator[str]:
    """A socket server answering each request with ``routes[path]``; yields its base URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await routes[head.split(b" ")[1].decode()](reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def cut_short_server() -> AsyncIterator[str]:
    async def length(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello")
        await writer.drain()

    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello")
        await writer.drain()
        await asyncio.sleep(0.05)  # the head is read before the reset
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async for url in _raw_server({"/length": length, "/chunked": chunked, "/reset": reset}):
        yield url


async def test_a_body_cut_short_is_reported_in_aiohttps_words(cut_short_server: str) -> None:
    async with aioclient.ClientSession() as session:
        async with session.get(cut_short_server + "/length") as resp:
            with pytest.raises(aioclient.ClientPayloadError) as info:
                await resp.read()
        assert str(info.value) == (
            "Response payload is not completed: <ContentLengthError: 400, message="
            "'Not enough data to satisfy content length header (received 5 of 100 bytes).'>"
        )
        assert isinstance(info.value.__cause__, ContentLengthError)

        async with session.get(cut_short_server + "/chunked") as resp:
            with pytest.raises(aioclient.ClientPayloadError) as info:
                await resp.content.read()
        assert str(info.value) == (
            "Response payload is not completed: <TransferEncodingError: 400, message="
            "'Not enough data to satisfy transfer length header.'>"
        )

        # A connection reset rather than closed: the reset is named after the cause.
        async with session.get(cut_short_server + "/reset") as resp:
            with pytest.raises(aioclient.ClientPayloadError) as info:
                await resp.read()
        message = str(info.value)
        assert message.startswith(
            "Response payload is not completed: <ContentLengthError: 400, message="
            "'Not enough data to satisfy content length header (received 5 of 100 bytes).'>. "
            "ConnectionResetError("
        ), message


async def test_repr_shows_the_status_line_then_the_headers(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        reason = "Nicht gefunden \u00fc" if request.path == "/accent" else None
        return web.Response(status=404, reason=reason, text="x", headers={"X-A": "1"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/plain")) as resp:
            assert repr(resp) == (
                f"<ClientResponse({resp.url}) [404 Not Found]>\n{resp.headers!r}\n"
            )
            assert "'X-A': '1'" in repr(resp)
        async with session.get(server.make_url("/accent")) as resp:
            # the reason made ASCII with backslash escapes, as aiohttp does
            assert repr(resp).startswith(f"<ClientResponse({resp.url}) [404 Nicht gefunden \\xfc]>\n")


@pytest.fixture
async def lines_server() -> AsyncIterator[str]:
    def body(data: bytes) -> Serve:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
            await writer.drain()

        return serve

    async for url in _raw_server({"/lines": body(b"short\nmuch too long\nlast"), "/eof": body(b"ok\ntoo long")}):
        yield url


async def test_a_line_too_long_is_consumed_by_its_error(lines_server: str) -> None:
    # As aiohttp: LineTooLong takes the line with it, so reading goes on past it.
    async with aioclient.ClientSession() as session:
        async with session.get(lines_server + "/lines") as resp:
            assert await resp.content.readline(max_line_length=6) == b"short\n"
            with pytest.raises(LineTooLong) as info:
                await resp.content.readline(max_line_length=6)
            assert "Got more than 6 bytes when reading: b'much too long\\n...'" in str(info.value)
            assert await resp.content.readuntil(b"st") == b"last"
        async with session.get(lines_server + "/eof") as resp:
            assert await resp.content.readuntil(b"\n", max_size=3) == b"ok\n"
            with pytest.raises(LineTooLong, match="too long..."):
                await resp.content.readuntil(b"\n", max_size=3)  # to the end of the body
            assert await resp.content.read() == b""
            assert resp.content.at_eof()


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
        await writer.drain()
        await reader.read(1)  # until the client closes: the rest never comes

    async def slow_then_rest(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"world")
        await writer.drain()

    async for url in _raw_server({"/slow": slow, "/rest": slow_then_rest}):
        yield url


async def test_stream_helpers_wait_eof_buffer_limits_and_unread_data(slow_server: str) -> None:
    async with aioclient.ClientSession(read_bufsize=2**18) as session:
        async with session.get(slow_server + "/rest") as resp:
            content = resp.content
            assert content.get_read_buffer_limits() == (2**18, 2**19)
            await content.wait_eof()
            assert content.is_eof() and not content.at_eof()  # the data stays readable
            assert await content.read(3) == b"hel"
            with pytest.warns(DeprecationWarning, match=r"unread_data\(\) is deprecated"):
                content.unread_data(b"HE")
            assert await content.read() == b"HEloworld"
            await content.wait_eof()  # at once, once at the end
        async with session.get(slow_server + "/slow") as resp:
            waiting = asyncio.ensure_future(resp.content.wait_eof())
            await asyncio.sleep(0.01)
            assert not waiting.done()
            resp.release()  # the body ends with an error: so does the wait
            with pytest.raises(aioclient.ClientConnectionError, match="Connection closed"):
                await waiting


async def test_content_type_is_decoded_as_the_headers_are() -> None:
    async def stray_byte(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=caf\xc3\xa9\xff\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async for url in _raw_server({"/": stray_byte}):
        async with aioclient.ClientSession() as session:
            async with session.get(url + "/") as resp:
                assert resp.charset == "caf\u00e9\udcff"
                assert resp.charset in resp.headers["Content-Type"]
                # no such charset (nor one a codec name can be): the fallback, UTF-8
                assert await resp.text() == "ok"
                assert resp.get_encoding() == "utf-8"


async def test_wait_for_close_releases_without_waiting_for_the_body(slow_server: str) -> None:
    # As aiohttp: it waits for the request to be sent, not for the body to arrive.
    async with aioclient.ClientSession() as session:
        resp = await session.get(slow_server + "/slow")
        await asyncio.wait_for(resp.wait_for_close(), 5)
        assert resp.closed and resp.connection is None
        with pytest.raises(aioclient.ClientConnectionError, match="Connection closed"):
            await resp.read()


async def test_an_empty_body_released_unread_is_closed_as_any_other(aiohttp_server) -> None:
    # As aiohttp: after release(), reading a 200's body raises even when it is empty
    # (Content-Length: 0, or a chunked body of nothing); a 204's has no body to close.
    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"")

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write_eof()
        return resp

    async def no_content(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/empty", empty)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/204", no_content)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        for path in ("/empty", "/chunked"):
            for read in ("read", "text", "content"):
                r = await session.get(server.make_url(path))
                r.release()
                with pytest.raises(aioclient.ClientConnectionError, match="Connection closed"):
                    if read == "content":
                        await r.content.read()
                    else:
                        await getattr(r, read)()
        r = await session.get(server.make_url("/204"))
        r.release()
        assert await r.read() == b""
        assert await r.content.read() == b""


async def test_the_default_read_bufsize_is_aiohttps(aiohttp_server) -> None:
    # 256 KiB, as aiohttp 3.14.5's: readline() takes a line of up to twice that (an
    # NDJSON record of 300 KB), and the stream buffers that much before pausing.
    line = b"x" * 300_000 + b"\n"

    async def ndjson(request: web.Request) -> web.Response:
        return web.Response(body=line + b"{}\n")

    app = web.Application()
    app.router.add_get("/", ndjson)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as r:
            assert r.content.get_read_buffer_limits() == (2**18, 2**19)
            assert await r.content.readline() == line
            assert await r.content.readline() == b"{}\n"
