"""HTTP/1.1 end to end against aiohttp.web over real sockets."""

from __future__ import annotations

import asyncio
import errno
import gzip
import io
import json
import socket
import struct
import threading
import zlib

import brotlicffi
import pytest
import uvloop
from aiohttp import web
from multidict import CIMultiDictProxy

import aioclient
from aioclient.http_exceptions import ContentEncodingError, ContentLengthError, TransferEncodingError


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path_qs,
            "headers": {k: v for k, v in request.headers.items()},
            "body": body.decode("latin-1"),
            "chunked": request.headers.get("Transfer-Encoding") == "chunked",
        }
    )


def _app(**routes) -> web.Application:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", "/" + path.replace("__", "/"), handler)
    return app


async def test_get_text_and_both_call_styles(aiohttp_server) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello world")

    server = await aiohttp_server(_app(hello=hello))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/hello")) as resp:
            assert resp.status == 200
            assert resp.reason == "OK"
            assert resp.ok
            assert resp.version == (1, 1)
            assert resp.method == "GET"
            assert resp.url == server.make_url("/hello")
            assert await resp.text() == "hello world"
            assert resp.content_type == "text/plain"
            assert resp.charset == "utf-8"
            assert resp.content_length == 11
        resp = await session.get(server.make_url("/hello"))
        assert await resp.read() == b"hello world"
        resp.release()
        assert resp.history == ()


async def test_headers_are_case_insensitive_multidict(aiohttp_server) -> None:
    async def multi(request: web.Request) -> web.Response:
        resp = web.Response(text="x")
        resp.headers.add("X-Multi", "one")
        resp.headers.add("X-Multi", "two")
        return resp

    server = await aiohttp_server(_app(multi=multi))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/multi")) as resp:
            assert isinstance(resp.headers, CIMultiDictProxy)
            assert resp.headers.getall("x-multi") == ["one", "two"]
            assert resp.headers["CONTENT-TYPE"] == "text/plain; charset=utf-8"
            assert (b"X-Multi", b"one") in resp.raw_headers
            assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in resp.raw_headers)


async def test_default_and_request_headers(aiohttp_server) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    async with aioclient.ClientSession(headers={"Authorization": "Basic bG9naW46cGFzcw=="}) as session:
        session.headers["X-Later"] = "added"
        async with session.get(server.make_url("/echo"), headers={"X-One": "1"}) as r:
            seen = (await r.json())["headers"]
    assert seen["Authorization"] == "Basic bG9naW46cGFzcw=="
    assert seen["X-Later"] == "added"
    assert seen["X-One"] == "1"
    assert seen["Host"] == server.url.raw_authority
    assert "aioclient" in seen["User-Agent"]
    assert "gzip" in seen["Accept-Encoding"]


async def test_session_headers_are_a_copy(aiohttp_server) -> None:
    headers = {"X-A": "1"}
    async with aioclient.ClientSession(headers=headers) as session:
        headers["X-A"] = "2"
        assert session.headers["X-A"] == "1"


@pytest.mark.parametrize(
    ("kwargs", "body", "content_type"),
    [
        ({"data": b"GIF89a\x01\x00"}, "GIF89a\x01\x00", "application/octet-stream"),
        ({"data": "Привет, Мир!"}, "Привет, Мир!".encode().decode("latin-1"), "text/plain; charset=utf-8"),
        ({"json": {"example": "text"}}, '{"example": "text"}', "application/json"),
        ({"data": {"a": "1", "b": "x y"}}, "a=1&b=x+y", "application/x-www-form-urlencoded"),
        ({"data": [("a", "1"), ("a", "2")]}, "a=1&a=2", "application/x-www-form-urlencoded"),
    ],
)
async def test_request_bodies(aiohttp_server, kwargs, body, content_type) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/echo"), **kwargs) as r:
            seen = await r.json()
    assert seen["body"] == body
    assert seen["headers"]["Content-Type"] == content_type
    assert seen["headers"]["Content-Length"] == str(len(body.encode("latin-1")))


async def test_explicit_content_type_wins(aiohttp_server) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    payload = b"GIF89a\x01\x00\x01\x00\x00\xff\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00;"
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/echo"), data=payload, headers={"content-type": "image/gif"}) as r:
            seen = await r.json()
    assert seen["headers"]["Content-Type"] == "image/gif"
    assert seen["body"].encode("latin-1") == payload


async def test_data_and_json_is_value_error() -> None:
    async with aioclient.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.post("http://127.0.0.1:1/", data=b"x", json={})


async def test_unsupported_data_type_is_type_error() -> None:
    async with aioclient.ClientSession() as session:
        with pytest.raises(TypeError):
            await session.post("http://127.0.0.1:1/", data=object())


async def test_streamed_bodies_are_chunked(aiohttp_server, tmp_path) -> None:
    server = await aiohttp_server(_app(echo=_echo))

    async def gen():
        for i in range(5):
            yield f"part{i};".encode()

    big = tmp_path / "upload.bin"
    big.write_bytes(b"z" * 300_000)
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/echo"), data=gen()) as r:
            seen = await r.json()
        assert seen["body"] == "part0;part1;part2;part3;part4;"
        assert seen["chunked"]
        with open(big, "rb") as f:
            async with session.post(server.make_url("/echo"), data=f) as r:
                seen = await r.json()
        assert seen["body"] == "z" * 300_000
        async with session.post(server.make_url("/echo"), data=io.BytesIO(b"from-bytesio")) as r:
            assert (await r.json())["body"] == "from-bytesio"


async def test_pre_compressed_upload_is_sent_untouched(aiohttp_server) -> None:
    async def raw(request: web.Request) -> web.Response:
        # Read the wire bytes without the server decoding them.
        data = await request.content.read()
        return web.json_response(
            {"encoding": request.headers.get("Content-Encoding"), "hex": data.hex()}
        )

    server = await aiohttp_server(_app(raw=raw))
    original = b"my data" * 10
    compressed = zlib.compress(original)
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/raw"), data=compressed, headers={"Content-Encoding": "deflate"}) as r:
            seen = await r.json()
    assert seen["encoding"] == "deflate"
    # aiohttp.web inflates request bodies itself: getting the original back proves the
    # bytes went out exactly as given (neither re-compressed nor altered).
    assert bytes.fromhex(seen["hex"]) == original


async def test_compress_parameter(aiohttp_server) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/echo"), data=b"abc" * 1000, compress="gzip") as r:
            seen = await r.json()
    # aiohttp.web decodes the gzip body for the handler: the round trip proves the encoding.
    assert seen["body"] == "abc" * 1000
    assert seen["headers"]["Content-Encoding"] == "gzip"


async def test_params_and_base_url(aiohttp_server) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    async with aioclient.ClientSession(base_url=server.url) as session:
        async with session.get("/echo", params={"q": "a b", "n": "1"}) as r:
            seen = await r.json()
    assert seen["path"] == "/echo?q=a+b&n=1"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "raw-deflate", "deflate, gzip"])
async def test_decompression(aiohttp_server, encoding) -> None:
    original = json.dumps({"items": list(range(2000))}).encode()

    def encode(data: bytes, name: str) -> bytes:
        if name == "gzip":
            return gzip.compress(data)
        if name == "deflate":
            return zlib.compress(data)
        if name == "raw-deflate":
            c = zlib.compressobj(wbits=-15)
            return c.compress(data) + c.flush()
        if name == "br":
            return brotlicffi.compress(data)
        raise AssertionError(name)

    async def compressed(request: web.Request) -> web.Response:
        body = original
        for layer in [e.strip() for e in encoding.split(",")]:
            body = encode(body, layer)
        header = encoding.replace("raw-deflate", "deflate")
        return web.Response(body=body, headers={"Content-Encoding": header, "Content-Type": "application/json"})

    server = await aiohttp_server(_app(c=compressed))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/c")) as r:
            assert await r.json() == {"items": list(range(2000))}
        async with session.get(server.make_url("/c"), auto_decompress=False) as r:
            assert await r.read() != original


async def test_zstd_decompression(aiohttp_server) -> None:
    zstandard = pytest.importorskip("zstandard")
    original = b"zstd body " * 1000

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=zstandard.ZstdCompressor().compress(original), headers={"Content-Encoding": "zstd"})

    server = await aiohttp_server(_app(z=handler))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/z")) as r:
            assert await r.read() == original


async def test_corrupt_compressed_body_is_payload_error(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(b"x" * 10000)[:-20], headers={"Content-Encoding": "gzip"})

    server = await aiohttp_server(_app(bad=handler))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientPayloadError) as info:
            async with session.get(server.make_url("/bad")) as r:
                await r.read()
    assert isinstance(info.value.__cause__, ContentEncodingError)
    # aiohttp's wording for an error found while reading: str() of the cause.
    assert str(info.value) == str(info.value.__cause__)
    assert str(info.value).startswith("400, message:\n  Can not decode content-encoding: ")


async def test_max_decompressed_size(aiohttp_server) -> None:
    async def bomb(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(b"\0" * 5_000_000), headers={"Content-Encoding": "gzip"})

    server = await aiohttp_server(_app(bomb=bomb))
    async with aioclient.ClientSession(max_decompressed_size=1_000_000) as session:
        with pytest.raises(aioclient.ClientPayloadError):
            async with session.get(server.make_url("/bomb")) as r:
                await r.read()


async def test_json_content_type_check(aiohttp_server) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text='{"a": 1}', content_type="text/html")

    async def custom(request: web.Request) -> web.Response:
        return web.Response(text='{"a": 2}', content_type="application/vnd.custom-type+json")

    server = await aiohttp_server(_app(html=html, custom=custom))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/html")) as r:
            with pytest.raises(aioclient.ContentTypeError):
                await r.json()
            assert await r.json(content_type=None) == {"a": 1}
            assert await r.json(content_type="text/html") == {"a": 1}
        async with session.get(server.make_url("/custom")) as r:
            assert await r.json() == {"a": 2}


async def test_charset_detection(aiohttp_server) -> None:
    text = "café"

    async def latin(request: web.Request) -> web.Response:
        return web.Response(body=text.encode("windows-1252"), headers={"Content-Type": "text/plain"})

    server = await aiohttp_server(_app(latin=latin))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/latin")) as r:
            with pytest.raises(UnicodeDecodeError):
                await r.text()
            assert await r.text("windows-1252") == text
    calls = []

    def resolver(resp: aioclient.ClientResponse, body: bytes) -> str:
        calls.append((resp.url.host, body))
        return "windows-1252"

    async with aioclient.ClientSession(fallback_charset_resolver=resolver) as session:
        async with session.get(server.make_url("/latin")) as r:
            assert await r.text() == text
    assert calls == [("127.0.0.1", text.encode("windows-1252"))]


async def test_head_and_204_have_no_body(aiohttp_server) -> None:
    async def nobody(request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    server = await aiohttp_server(_app(nobody=nobody, hello=hello))
    async with aioclient.ClientSession() as session:
        async with session.head(server.make_url("/hello")) as r:
            assert r.status == 200
            assert r.content_length == 5
            assert await r.read() == b""
        async with session.get(server.make_url("/nobody")) as r:
            assert r.status == 204
            assert await r.read() == b""
        # The connection is still good for the next request.
        async with session.get(server.make_url("/hello")) as r:
            assert await r.text() == "hello"


async def test_chunked_response_and_stream_reader(aiohttp_server) -> None:
    async def lines(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for i in range(100):
            await resp.write(f"line {i}\n".encode())
        await resp.write_eof()
        return resp

    server = await aiohttp_server(_app(lines=lines))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/lines")) as r:
            assert await r.content.readline() == b"line 0\n"
            assert await r.content.readexactly(7) == b"line 1\n"
            assert await r.content.readuntil(b"\n") == b"line 2\n"
            rest = b""
            async for chunk in r.content.iter_chunked(10):
                assert len(chunk) <= 10
                rest += chunk
            assert rest.count(b"\n") == 97
            assert r.content.at_eof()


async def test_raise_for_status(aiohttp_server) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="nope")

    server = await aiohttp_server(_app(missing=missing))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/missing")) as r:
            assert r.status == 404
            with pytest.raises(aioclient.ClientResponseError) as info:
                r.raise_for_status()
            assert info.value.status == 404
            assert info.value.request_info.url == server.make_url("/missing")
        with pytest.raises(aioclient.ClientResponseError):
            await session.get(server.make_url("/missing"), raise_for_status=True)
    async with aioclient.ClientSession(raise_for_status=True) as session:
        with pytest.raises(aioclient.ClientResponseError) as info:
            async with session.get(server.make_url("/missing")):
                pass
        assert info.value.status == 404


@pytest.mark.parametrize(
    ("framing", "cause"), [("content-length", ContentLengthError), ("chunked", TransferEncodingError)]
)
async def test_body_cut_short_is_payload_error(aiohttp_server, framing: str, cause: type) -> None:
    async def short(request: web.Request) -> web.StreamResponse:
        if framing == "chunked":
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
        else:
            resp = web.StreamResponse(headers={"Content-Length": "1000"})
        await resp.prepare(request)
        await resp.write(b"only a little")
        await asyncio.sleep(0.05)
        request.transport.close()
        return resp

    server = await aiohttp_server(_app(short=short))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientPayloadError) as info:
            async with session.get(server.make_url("/short")) as r:
                await r.read()
    assert isinstance(info.value.__cause__, cause)  # as aiohttp chains it
    # ... and words it.
    if framing == "chunked":
        expected = "Not enough data to satisfy transfer length header."
    else:
        expected = "Not enough data to satisfy content length header (received 13 of 1000 bytes)."
    assert info.value.__cause__.message == expected
    assert str(info.value) == f"Response payload is not completed: <{cause.__name__}: 400, message={expected!r}>"


@pytest.mark.parametrize("iterator", ["iter_chunked", "iter_any"])
async def test_streamed_body_cut_short_yields_the_prefix_then_payload_error(aiohttp_server, iterator: str) -> None:
    sent = bytes(range(256)) * 1200  # 300 KiB of the 1 MB announced, in three writes

    async def short(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000000"})
        await resp.prepare(request)
        for start in range(0, len(sent), 100 * 1024):
            await resp.write(sent[start : start + 100 * 1024])
            await asyncio.sleep(0.01)
        request.transport.close()
        return resp

    server = await aiohttp_server(_app(short=short))
    received = []
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/short")) as r:
            chunks = r.content.iter_chunked(1000) if iterator == "iter_chunked" else r.content.iter_any()
            with pytest.raises(aioclient.ClientPayloadError):
                async for chunk in chunks:
                    received.append(chunk)
    # What came before the error is the body's start, in order (the last bytes may be
    # lost: as in aiohttp, a read after the error raises even with data buffered).
    got = b"".join(received)
    assert got and sent.startswith(got)
    assert iterator == "iter_any" or all(len(chunk) <= 1000 for chunk in received)


async def test_read_until_eof_false_ignores_an_unframed_body(aiohttp_server) -> None:
    # To an HTTP/1.0 request, aiohttp.web answers without length framing; force_close()
    # makes the connection's end the body's end.
    async def unframed(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.force_close()
        await resp.prepare(request)
        await resp.write(b"until the end")
        return resp

    server = await aiohttp_server(_app(unframed=unframed))
    async with aioclient.ClientSession(version=aioclient.HttpVersion10) as session:
        async with session.get(server.make_url("/unframed")) as r:
            assert r.headers.get("Content-Length") is None
            assert await r.read() == b"until the end"
        async with session.get(server.make_url("/unframed"), read_until_eof=False) as r:
            assert r.status == 200
            assert await r.read() == b""
        # The unread rest never becomes the next response.
        async with session.get(server.make_url("/unframed")) as r:
            assert await r.read() == b"until the end"


async def test_server_closes_before_answering(aiohttp_server) -> None:
    async def hangup(request: web.Request) -> web.Response:
        request.transport.close()
        await asyncio.sleep(0.1)
        return web.Response(text="never sent")

    server = await aiohttp_server(_app(hangup=hangup))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ServerDisconnectedError):
            await session.get(server.make_url("/hangup"))


async def test_timeouts(aiohttp_server) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    server = await aiohttp_server(_app(slow=slow))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.SocketTimeoutError):
            await session.get(server.make_url("/slow"), timeout=aioclient.ClientTimeout(sock_read=0.2))
        with pytest.raises(asyncio.TimeoutError):
            await session.get(server.make_url("/slow"), timeout=aioclient.ClientTimeout(total=0.2))
        assert issubclass(aioclient.SocketTimeoutError, aioclient.ServerTimeoutError)


async def test_sock_read_measures_the_server_not_a_slow_upload_or_reader(aiohttp_server) -> None:
    # sock_read is the longest silence from the server while a response is due: not the
    # time the client takes to send its body, nor the time its reader leaves a full
    # buffer unread (reading is paused then), as in aiohttp.
    async def upload(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    async def download(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (4 << 20))

    async def slow_body():
        for _ in range(4):
            await asyncio.sleep(0.15)
            yield b"y" * 1000

    server = await aiohttp_server(_app(upload=upload, download=download))
    timeout = aioclient.ClientTimeout(sock_read=0.3)
    async with aioclient.ClientSession(timeout=timeout) as session:
        async with session.post(server.make_url("/upload"), data=slow_body()) as resp:
            assert await resp.text() == "4000"
        async with session.get(server.make_url("/download")) as resp:
            first = await resp.content.read(65536)
            await asyncio.sleep(0.8)  # the server has sent it all; the reader is paused
            assert len(first) + len(await resp.read()) == 4 << 20


async def test_connection_refused_is_connector_error() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    assert info.value.port == port
    assert info.value.host == "127.0.0.1"


async def test_keep_alive_reuses_one_connection(aiohttp_server) -> None:
    peers = []

    async def who(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.Response(text="ok")

    server = await aiohttp_server(_app(who=who))
    async with aioclient.ClientSession() as session:
        for _ in range(5):
            async with session.get(server.make_url("/who")) as r:
                await r.read()
    assert len(set(peers)) == 1
    peers.clear()
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(force_close=True)) as session:
        for _ in range(3):
            async with session.get(server.make_url("/who")) as r:
                await r.read()
    assert len(set(peers)) == 3
    peers.clear()
    # keepalive_timeout=None: idle connections never expire (aiohttp), not "no pooling".
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(keepalive_timeout=None)) as session:
        for _ in range(3):
            async with session.post(server.make_url("/who")) as r:  # the general path too
                await r.read()
            async with session.get(server.make_url("/who")) as r:
                await r.read()
    assert len(set(peers)) == 1


@pytest.mark.parametrize(("limit", "limit_per_host", "expected"), [(3, 0, 3), (0, 2, 2), (10, 4, 4)])
async def test_pool_limits_seen_at_server(aiohttp_server, limit, limit_per_host, expected) -> None:
    active = set()
    most = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal most
        peer = request.transport.get_extra_info("peername")
        active.add(peer)
        most = max(most, len(active))
        await asyncio.sleep(0.05)
        active.discard(peer)
        return web.Response(text="ok")

    server = await aiohttp_server(_app(slow=slow))
    connector = aioclient.TCPConnector(limit=limit, limit_per_host=limit_per_host)
    assert connector.limit == limit and connector.limit_per_host == limit_per_host
    async with aioclient.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(server.make_url("/slow")) as r:
                assert await r.text() == "ok"

        await asyncio.gather(*(one() for _ in range(12)))
    assert most == expected


async def test_cancelling_half_of_200_requests_leaks_nothing(aiohttp_server) -> None:
    async def slowish(request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)
        return web.Response(text="ok")

    server = await aiohttp_server(_app(s=slowish))
    connector = aioclient.TCPConnector(limit=20)
    async with aioclient.ClientSession(connector=connector) as session:

        async def one() -> bytes:
            async with session.get(server.make_url("/s")) as r:
                return await r.read()

        tasks = [asyncio.ensure_future(one()) for _ in range(200)]
        await asyncio.sleep(0.02)
        for task in tasks[::2]:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert sum(isinstance(r, asyncio.CancelledError) for r in results) >= 90
        assert all(r == b"ok" for r in results if not isinstance(r, BaseException))
        assert connector._pool.in_use == 0
        assert not connector._pool.waiters
        # Every open connection is idle in the pool: none is lost.
        idle = sum(len(v) for v in connector._pool.idle.values())
        assert idle == len(connector._all) <= 20
        # And the pool still works.
        assert await one() == b"ok"


async def test_a_dead_connection_frees_its_pool_slot_though_its_response_is_never_released(aiohttp_server) -> None:
    async def cut(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "10"})
        await resp.prepare(request)
        await resp.write(b"abc")
        await asyncio.sleep(0.05)
        request.transport.close()  # the body never ends
        return resp

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    server = await aiohttp_server(_app(cut=cut, hello=hello))
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(limit=1)) as session:
        unreleased = await session.get(server.make_url("/cut"))  # kept, never released
        async with asyncio.timeout(5):
            async with session.get(server.make_url("/hello")) as resp:
                assert await resp.text() == "hello"
        with pytest.raises(aioclient.ClientPayloadError):
            await unreleased.read()


async def test_stale_pooled_connection_is_retried(aiohttp_server) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    server = await aiohttp_server(_app(hello=hello), keepalive_timeout=0.1)
    async with aioclient.ClientSession() as session:
        assert await (await session.get(server.make_url("/hello"))).text() == "hello"
        await asyncio.sleep(0.3)  # the server closes the idle connection meanwhile
        assert await (await session.get(server.make_url("/hello"))).text() == "hello"


async def test_a_fresh_connection_closed_before_the_head_is_retried_when_idempotent(aiohttp_server) -> None:
    # The server drops the first connection it gets without answering: as in aiohttp,
    # an idempotent request is sent once more on a new connection, a POST is not.
    hits = []

    async def handler(request: web.Request) -> web.Response:
        hits.append(request.method)
        if len(hits) % 2:
            request.transport.close()
        return web.Response(text="answered")

    server = await aiohttp_server(_app(x=handler))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/x")) as resp:
            assert await resp.text() == "answered"
    assert hits == ["GET", "GET"]
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ServerDisconnectedError):
            await session.post(server.make_url("/x"), data=b"once")
    assert hits == ["GET", "GET", "POST"]


# A request without arguments takes the fast path; headers={} forces the general one.
_BOTH_PATHS = pytest.mark.parametrize("kwargs", [{}, {"headers": {}}], ids=["fast", "general"])


@_BOTH_PATHS
async def test_a_request_sent_on_a_dead_pooled_connection_is_sent_once_more_only(aiohttp_server, kwargs) -> None:
    # Connections 0 and 1 answer one request each, then close on the next unanswered.
    requests_per_connection: dict = {}
    sends = []

    async def handler(request: web.Request) -> web.Response:
        index = requests_per_connection.setdefault(request.protocol, [len(requests_per_connection), 0])
        index[1] += 1
        if request.path == "/x":
            sends.append(index[0])
        if index[0] < 2 and index[1] > 1:
            request.transport.close()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:

        async def delete(path: str, **kw: object) -> bytes:
            async with session.request("DELETE", server.make_url(path), **kw) as resp:
                return await resp.read()

        await asyncio.gather(delete("/a"), delete("/b"))  # two pooled connections
        with pytest.raises(aioclient.ServerDisconnectedError):
            await delete("/x", **kwargs)
    assert len(sends) == 2  # as aiohttp: the request and one retry, never a third send


@_BOTH_PATHS
async def test_the_retry_on_a_new_connection_runs_within_the_same_total_timeout(aiohttp_server, kwargs) -> None:
    calls = []

    async def handler(request: web.Request) -> web.Response:
        calls.append(request.path)
        if len(calls) > 1:  # pooled, then unanswered: closed after 0.3 s
            await asyncio.sleep(0.3)
            request.transport.close()
        return web.Response(text="ok")

    server = await aiohttp_server(_app(x=handler))
    async with aioclient.ClientSession(timeout=aioclient.ClientTimeout(total=0.5)) as session:
        async with session.get(server.make_url("/x")) as resp:
            await resp.read()
        with pytest.raises(asyncio.TimeoutError):
            async with session.get(server.make_url("/x"), **kwargs) as resp:
                await resp.read()
    assert len(calls) == 3  # the second request was retried, and the retry timed out


async def test_a_response_before_the_whole_upload_keeps_the_connection_until_it_is_sent(aiohttp_server) -> None:
    # The server answers at once, without reading the body; the pool's one connection
    # must not serve the next request while the first one's body is still being written.
    async def early(request: web.Request) -> web.Response:
        return web.Response(text="early")

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def body():
        for i in range(10):
            yield b"%d" % i * 10_000
            await asyncio.sleep(0.02)

    server = await aiohttp_server(_app(early=early, hello=hello))
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(limit=1)) as session:

        async def upload() -> str:
            async with session.post(server.make_url("/early"), data=body()) as resp:
                return await resp.text()

        async def then_get() -> str:
            await asyncio.sleep(0.03)  # the early response has ended by now
            async with session.get(server.make_url("/hello")) as resp:
                return await resp.text()

        async with asyncio.timeout(10):
            assert await asyncio.gather(upload(), then_get()) == ["early", "hello"]


@pytest.mark.parametrize("body", ["bytes", "generator"])
async def test_a_response_before_the_upload_fails_is_the_answer(aiohttp_server, body) -> None:
    # The server refuses the upload without reading it and closes the connection (a
    # reset, with the body unread): the rest of the body cannot be written, but the
    # request returns the refusal, as aiohttp does.
    async def refuse(request: web.Request) -> web.StreamResponse:
        resp = web.Response(status=413, text="too big", headers={"Connection": "close"})
        await resp.prepare(request)
        await resp.write_eof()
        await asyncio.sleep(0.05)  # the response has reached the client
        request.transport.close()
        return resp

    async def chunks():
        for _ in range(480):
            yield b"x" * 65536

    server = await aiohttp_server(_app(refuse=refuse))
    async with aioclient.ClientSession() as session:
        for _ in range(3):
            data = b"x" * (30 << 20) if body == "bytes" else chunks()
            async with asyncio.timeout(10):
                async with session.post(server.make_url("/refuse"), data=data) as resp:
                    assert resp.status == 413
                    assert await resp.text() == "too big"


_SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


async def _pieces(data: bytes):
    yield data[:1]  # the limit falls inside the second piece
    yield data[1:]


@pytest.mark.parametrize("kind", ["bytes", "large_bytes", "bytearray", "bytesio", "file", "async_gen", "payload"])
async def test_no_byte_past_the_callers_content_length_is_sent(kind, tmp_path) -> None:
    # A Content-Length shorter than the body: exactly that many bytes go out (aiohttp's
    # write_with_length), never the rest, which the server would read as the start of
    # another request. A raw server counts every byte after the head until the client
    # closes the connection.
    declared = 70_000 if kind == "large_bytes" else 2  # large: past the inline-body size
    content = (b"x" * 70_000 if kind == "large_bytes" else b"ab") + _SMUGGLED
    if kind in ("bytes", "large_bytes"):
        data = content
    elif kind == "bytearray":
        data = bytearray(content)
    elif kind == "bytesio":
        data = io.BytesIO(content)
    elif kind == "file":
        path = tmp_path / "body.bin"
        path.write_bytes(content)
        data = open(path, "rb")  # closed by the request
    elif kind == "async_gen":
        data = _pieces(content)
    else:
        data = aioclient.payload.BytesPayload(content)
    received = bytearray()
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            received.extend(await reader.readexactly(declared))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            received.extend(await reader.read())  # all the rest, up to the client's close
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncio.timeout(10):
            async with aioclient.ClientSession() as session:
                headers = {"Content-Length": str(declared)}
                async with session.post(f"http://127.0.0.1:{port}/upload", data=data, headers=headers) as resp:
                    assert await resp.read() == b"ok"
            await done.wait()
    finally:
        server.close()
        await server.wait_closed()
    assert bytes(received) == content[:declared]


async def test_a_body_generator_is_closed_once_the_content_length_is_reached(aiohttp_server) -> None:
    # Reading stops at the caller's Content-Length, and the generator is closed then
    # (its finally runs), even one that would never end.
    closed = []

    async def endless():
        try:
            yield b"ab"
            while True:
                await asyncio.sleep(0)
                yield b"more"
        finally:
            closed.append(True)

    server = await aiohttp_server(_app(echo=_echo))
    async with aioclient.ClientSession() as session:
        async with asyncio.timeout(10):
            async with session.post(server.make_url("/echo"), data=endless(), headers={"Content-Length": "5"}) as resp:
                assert (await resp.json())["body"] == "abmor"
    assert closed == [True]


async def test_a_request_smuggled_past_the_content_length_never_reaches_the_server(aiohttp_server) -> None:
    seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        return web.Response(text="for " + request.path)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(limit=1)) as session:
        body = b"ab" + _SMUGGLED
        async with session.post(server.make_url("/upload"), data=body, headers={"Content-Length": "2"}) as resp:
            assert await resp.text() == "for /upload"
        # The same connection serves the next request: a smuggled one would come first.
        async with session.get(server.make_url("/second")) as resp:
            assert await resp.text() == "for /second"
    assert seen == [("POST", "/upload", b"ab"), ("GET", "/second", b"")]


async def test_file_bodies_are_closed_once_the_request_chain_ends(aiohttp_server, tmp_path) -> None:
    # As aiohttp: a file given as the body (directly, in a FormData or a MultipartWriter)
    # is closed when the request is over, after every redirect (a 307 sends it again)
    # and on failure too; sent again, it fails before anything goes out. A BytesIO
    # stays open and sendable.
    async def start(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=307, headers={"Location": "/final"})

    async def fail(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=500)

    finals = []

    async def final(request: web.Request) -> web.Response:
        finals.append(1)
        return await _echo(request)

    path = tmp_path / "upload.txt"
    path.write_bytes(b"file body")
    refusing = socket.socket()  # bound, never listening: connections to it are refused
    refusing.bind(("127.0.0.1", 0))
    server = await aiohttp_server(_app(start=start, fail=fail, final=final))
    async with aioclient.ClientSession() as session:
        f = open(path, "rb")
        async with session.post(server.make_url("/start"), data=f) as resp:
            assert [r.status for r in resp.history] == [307]
            assert (await resp.json())["body"] == "file body"  # replayed on the second hop
            assert "Content-Disposition" not in (await resp.json())["headers"]
        assert f.closed

        f = open(path, "rb")
        with pytest.raises(aioclient.ClientResponseError):
            await session.post(server.make_url("/fail"), data=f, raise_for_status=True)
        assert f.closed
        f = open(path, "rb")
        with pytest.raises(aioclient.ClientConnectorError):
            await session.post(f"http://127.0.0.1:{refusing.getsockname()[1]}/", data=f)
        assert f.closed

        in_form = open(path, "rb")
        form = aioclient.FormData()
        form.add_field("f", in_form)
        async with session.post(server.make_url("/final"), data=form) as resp:
            assert "file body" in (await resp.json())["body"]
        assert in_form.closed
        in_writer = open(path, "rb")
        writer = aioclient.MultipartWriter()
        writer.append(in_writer)
        async with session.post(server.make_url("/final"), data=writer) as resp:
            assert "file body" in (await resp.json())["body"]
        assert in_writer.closed

        sent = len(finals)
        for again in (f, form, writer):
            with pytest.raises(ValueError, match="closed file"):
                await session.post(server.make_url("/final"), data=again)
        assert len(finals) == sent  # nothing went out

        memory = io.BytesIO(b"in memory")
        for _ in range(2):
            async with session.post(server.make_url("/final"), data=memory) as resp:
                assert (await resp.json())["body"] == "in memory"
            assert not memory.closed
            memory.seek(0)  # a BytesIO body starts where it stands, as in aiohttp
    refusing.close()


async def test_an_upload_cut_short_after_an_early_response_is_not_pooled(aiohttp_server) -> None:
    # The body's own source fails (OSError) after the server answered: the response is
    # returned, but the connection, half a body sent, is never reused (the next
    # request's bytes would be read as the rest of that body).
    paths = []

    async def handler(request: web.Request) -> web.Response:
        paths.append(request.path)
        return web.Response(text="ok")

    async def body():
        yield b"12345"
        await asyncio.sleep(0.2)  # the server's answer arrives meanwhile
        raise OSError(5, "disk read failed")

    server = await aiohttp_server(_app(upload=handler, second=handler))
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/upload"), data=body(), headers={"Content-Length": "10"}) as resp:
            assert await resp.text() == "ok"
        async with asyncio.timeout(5):
            async with session.get(server.make_url("/second")) as resp:
                assert await resp.text() == "ok"
    assert paths == ["/upload", "/second"]


async def test_invalid_input_fails_before_connecting(aiohttp_server) -> None:
    hits = []

    async def hello(request: web.Request) -> web.Response:
        hits.append(1)
        return web.Response(text="hello")

    server = await aiohttp_server(_app(hello=hello))
    async with aioclient.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get(server.make_url("/hello"), headers={"X-Bad": "a\r\nInjected: 1"})
        with pytest.raises(ValueError):
            await session.get(server.make_url("/hello"), headers={"Bad Name": "x"})
        with pytest.raises(ValueError):
            await session.request("GE T", server.make_url("/hello"))
        with pytest.raises(aioclient.InvalidURL):
            await session.get("http://exa mple.com/")
        with pytest.raises(aioclient.InvalidURL):
            await session.get("/relative-without-base")
        for value in ("+3", "3 ", "-1", "0x3", "abc"):
            with pytest.raises(ValueError, match="Invalid Content-Length header"):
                await session.post(server.make_url("/hello"), data=b"abc", headers={"Content-Length": value})
    assert hits == []


async def test_header_limits(aiohttp_server) -> None:
    async def big(request: web.Request) -> web.Response:
        return web.Response(text="x", headers={"X-Big": "a" * 9000})

    async def many(request: web.Request) -> web.Response:
        return web.Response(text="x", headers={f"X-H{i}": "v" for i in range(200)})

    server = await aiohttp_server(_app(big=big, many=many))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientResponseError):
            await session.get(server.make_url("/big"))
        with pytest.raises(aioclient.ClientResponseError):
            await session.get(server.make_url("/many"))
        async with session.get(server.make_url("/big"), max_field_size=10000) as r:
            assert len(r.headers["X-Big"]) == 9000
    async with aioclient.ClientSession(max_headers=300) as session:
        async with session.get(server.make_url("/many")) as r:
            assert r.headers["X-H199"] == "v"


async def test_expect100(aiohttp_server) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/echo"), data=b"payload", expect100=True) as r:
            seen = await r.json()
    assert seen["body"] == "payload"
    assert seen["headers"]["Expect"] == "100-continue"


async def test_module_level_request(aiohttp_server) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="one shot")

    server = await aiohttp_server(_app(hello=hello))
    async with aioclient.request("GET", server.make_url("/hello")) as r:
        assert await r.text() == "one shot"


async def test_detach_and_closed(aiohttp_server) -> None:
    session = aioclient.ClientSession()
    connector = session.connector
    assert not session.closed
    session.detach()
    assert session.closed
    assert not connector.closed
    await connector.close()
    assert connector.closed


async def test_shared_connector_with_connector_owner_false(aiohttp_server) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    server = await aiohttp_server(_app(hello=hello))
    connector = aioclient.TCPConnector()
    async with aioclient.ClientSession(connector=connector, connector_owner=False) as s1:
        assert await (await s1.get(server.make_url("/hello"))).text() == "hi"
    assert not connector.closed
    async with aioclient.ClientSession(connector=connector, connector_owner=False) as s2:
        assert await (await s2.get(server.make_url("/hello"))).text() == "hi"
    await connector.close()


async def test_close_waits_for_transports(aiohttp_server) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    server = await aiohttp_server(_app(hello=hello))
    session = aioclient.ClientSession()
    resps = await asyncio.gather(*(session.get(server.make_url("/hello")) for _ in range(5)))
    for r in resps:
        await r.read()
    connector = session.connector
    protos = list(connector._all)
    assert protos
    await session.close()
    # No sleep needed: every transport is closed when close() returns.
    assert all(p.closed.done() for p in protos)


async def test_large_body_read_and_streamed(aiohttp_server) -> None:
    blob = bytes(range(256)) * 40000  # ~10 MB

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=blob)

    server = await aiohttp_server(_app(big=big))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/big")) as r:
            assert await r.read() == blob
        async with session.get(server.make_url("/big")) as r:
            total = 0
            async for chunk in r.content.iter_any():
                total += len(chunk)
            assert total == len(blob)


async def test_release_mid_body_closes_connection(aiohttp_server) -> None:
    blob = b"x" * 5_000_000

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=blob)

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    server = await aiohttp_server(_app(big=big, hello=hello))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/big")) as r:
            await r.content.read(10)
        # The unread rest must never be taken as the next response.
        async with session.get(server.make_url("/hello")) as r:
            assert await r.text() == "hello"


async def test_large_compressed_body_read_and_streamed(aiohttp_server) -> None:
    """Decoded output comes in bounded steps; read() and streaming both get all of it."""
    original = bytes(range(256)) * 80_000  # ~20 MB, compresses well

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(original, 1), headers={"Content-Encoding": "gzip"})

    server = await aiohttp_server(_app(big=big))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/big")) as r:
            assert await r.read() == original
        async with session.get(server.make_url("/big")) as r:
            total = 0
            most = 0
            async for chunk in r.content.iter_chunked(1 << 16):
                total += len(chunk)
                most = max(most, r.content._size)
            assert total == len(original)
            assert most < 8 << 20  # never the whole decoded body at once


@pytest.mark.parametrize("read", ["readexactly", "readline"])
async def test_reads_that_need_more_than_is_buffered_finish_on_a_highly_compressed_body(aiohttp_server, read: str) -> None:
    # One read decodes to far more than twice read_bufsize (the engine hands it over
    # 4 MiB at a time): the stream pauses while the reader still needs more. Resuming
    # fed data before the reader's waiter existed, and the read hung.
    original = b"\0" * 12_000_000

    async def zeros(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(original), headers={"Content-Encoding": "gzip"})

    server = await aiohttp_server(_app(zeros=zeros))
    async with aioclient.ClientSession(read_bufsize=65536) as session:
        async with asyncio.timeout(20), session.get(server.make_url("/zeros")) as resp:
            if read == "readline":
                assert await resp.content.readline(max_line_length=20_000_000) == original
            else:
                total = 0
                while total < len(original):
                    total += len(await resp.content.readexactly(200_000))
                assert total == len(original) and resp.content.at_eof()


async def test_two_readers_of_one_stream_name_the_method_in_the_error(aiohttp_server) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 2
        await resp.prepare(request)
        await asyncio.sleep(0.2)
        await resp.write(b"ok")
        return resp

    server = await aiohttp_server(_app(slow=slow))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/slow")) as resp:
            first = asyncio.ensure_future(resp.content.read())
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError, match=r"^readany\(\) called while another coroutine"):
                async for _ in resp.content.iter_any():
                    pass
            assert await first == b"ok"


# Requests without arguments on a session without middlewares, proxy or auth reuse a
# cached plan per URL once a pooled connection exists. These pin down that such
# requests behave exactly like the general ones.


async def _warm(session: aioclient.ClientSession, url) -> None:
    async with session.get(url) as resp:
        await resp.read()


async def test_changed_session_headers_apply_to_the_next_request(aiohttp_server) -> None:
    server = await aiohttp_server(_app(echo=_echo))
    url = server.make_url("/echo")
    async with aioclient.ClientSession(headers={"X-Token": "a"}) as session:
        for token in ("a", "b", None):
            if token is None:
                del session.headers["X-Token"]
            else:
                session.headers["X-Token"] = token
            async with session.get(url) as resp:
                sent = (await resp.json())["headers"]
            assert sent.get("X-Token") == token


async def test_redirect_chain_from_a_pooled_connection(aiohttp_server) -> None:
    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return web.Response(text="arrived")
        raise (web.HTTPFound if n % 2 else web.HTTPTemporaryRedirect)(f"/hop/{n - 1}")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.router.add_get("/hop/{n}", hop)
    app.router.add_get("/loop", loop)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        await _warm(session, server.make_url("/hop/0"))
        async with session.get(server.make_url("/hop/3")) as resp:
            assert await resp.text() == "arrived"
            assert [r.status for r in resp.history] == [302, 307, 302]
            assert resp.history[0].request_info.url == server.make_url("/hop/3")
            assert resp.url == server.make_url("/hop/0")
        with pytest.raises(aioclient.TooManyRedirects) as info:
            await session.get(server.make_url("/loop"))
        assert len(info.value.history) == 10
        async with session.get(server.make_url("/hop/1"), allow_redirects=False) as resp:
            assert resp.status == 302 and resp.history == ()


async def test_set_cookie_on_a_pooled_connection_is_sent_next(aiohttp_server) -> None:
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="set")
        response.set_cookie("flavour", "oat")
        return response

    server = await aiohttp_server(_app(set=set_cookie, echo=_echo))
    # unsafe=True: the server is an IP address, whose cookies a default jar refuses.
    async with aioclient.ClientSession(cookie_jar=aioclient.CookieJar(unsafe=True)) as session:
        await _warm(session, server.make_url("/echo"))
        await _warm(session, server.make_url("/set"))
        async with session.get(server.make_url("/echo")) as resp:
            assert (await resp.json())["headers"]["Cookie"] == "flavour=oat"


async def test_total_timeout_on_a_pooled_connection(aiohttp_server) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="quick")

    server = await aiohttp_server(_app(slow=slow, quick=quick))
    async with aioclient.ClientSession(timeout=aioclient.ClientTimeout(total=0.3)) as session:
        await _warm(session, server.make_url("/quick"))
        with pytest.raises(asyncio.TimeoutError):
            await session.get(server.make_url("/slow"))
        async with session.get(server.make_url("/quick")) as resp:  # the task was not left cancelled
            assert await resp.text() == "quick"


async def test_long_total_timeouts_end_on_a_whole_second(aiohttp_server) -> None:
    """Above ``ceil_threshold`` a total timeout is rounded up to a whole second, as
    aiohttp rounds it; requests ending on the same second share one timer."""
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="quick")

    server = await aiohttp_server(_app(slow=slow, quick=quick))
    timeout = aioclient.ClientTimeout(total=0.1, ceil_threshold=0.05)
    loop = asyncio.get_running_loop()
    async with aioclient.ClientSession(timeout=timeout) as session:
        await _warm(session, server.make_url("/quick"))
        started = loop.time()
        slow_ones = [asyncio.ensure_future(session.get(server.make_url("/slow"))) for _ in range(3)]
        async with session.get(server.make_url("/quick")) as resp:  # finishes before its timer
            assert await resp.text() == "quick"
        outcomes = await asyncio.gather(*slow_ones, return_exceptions=True)
        assert all(isinstance(o, asyncio.TimeoutError) for o in outcomes), outcomes
        ended = loop.time()
        assert ended - started >= 0.1
        assert ended - started < 3  # the next whole second, not some later one
        async with session.get(server.make_url("/quick")) as resp:
            assert await resp.text() == "quick"


async def test_a_long_total_timeout_covers_the_body_and_redirects_of_a_pooled_request(aiohttp_server) -> None:
    async def slow_body(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 10
        await resp.prepare(request)
        await resp.write(b"12345")
        await asyncio.sleep(5)
        await resp.write(b"67890")
        return resp

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/slow_body")

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="quick")

    server = await aiohttp_server(_app(slow_body=slow_body, hop=hop, quick=quick))
    timeout = aioclient.ClientTimeout(total=0.2, ceil_threshold=0.1)
    loop = asyncio.get_running_loop()
    async with aioclient.ClientSession(timeout=timeout) as session:
        for path in ("/slow_body", "/hop"):
            await _warm(session, server.make_url("/quick"))  # an idle connection: the fast path
            started = loop.time()
            with pytest.raises(asyncio.TimeoutError):
                async with session.get(server.make_url(path)) as resp:
                    await resp.read()
            assert loop.time() - started < 3  # the deadline's whole second, not the server's 5 s


async def test_response_details_from_a_pooled_connection(aiohttp_server) -> None:
    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no")

    server = await aiohttp_server(_app(echo=_echo, missing=missing))
    url = server.make_url("/echo").with_fragment("part")
    async with aioclient.ClientSession(headers={"X-Default": "1"}, raise_for_status=True) as session:
        await _warm(session, url)
        async with session.get(url) as resp:
            assert resp.url == server.make_url("/echo") and resp.real_url == url
            assert resp.request_info.method == "GET"
            assert resp.request_info.headers["X-Default"] == "1"
            assert (await resp.json())["path"] == "/echo"
        async with session.head(url) as resp:
            assert resp.status == 200 and await resp.read() == b""
        with pytest.raises(aioclient.ClientResponseError) as info:
            await session.get(server.make_url("/missing"))
        assert info.value.status == 404
        assert info.value.request_info.url == server.make_url("/missing")


async def test_large_body_read_whole_then_connection_reused(aiohttp_server) -> None:
    blob = bytes(range(256)) * 4096  # 1 MiB: read() receives it into one buffer
    peers = set()

    async def big(request: web.Request) -> web.StreamResponse:
        peers.add(request.transport.get_extra_info("peername"))
        resp = web.StreamResponse(headers={"Content-Length": str(len(blob))})
        await resp.prepare(request)
        for start in range(0, len(blob), 256 * 1024):  # in pieces, with pauses
            await resp.write(blob[start : start + 256 * 1024])
            await asyncio.sleep(0.01)
        return resp

    server = await aiohttp_server(_app(big=big))
    async with aioclient.ClientSession() as session:
        for _ in range(3):
            async with session.get(server.make_url("/big")) as r:
                assert await r.read() == blob
                assert r.content.total_bytes == len(blob)
    assert len(peers) == 1


async def test_large_body_cut_short_while_read_whole(aiohttp_server) -> None:
    async def short(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "2000000"})
        await resp.prepare(request)
        await resp.write(b"a" * 100_000)
        await asyncio.sleep(0.05)  # the client is in read() by now
        await resp.write(b"b" * 300_000)
        await asyncio.sleep(0.05)
        request.transport.close()
        return resp

    server = await aiohttp_server(_app(short=short))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientPayloadError):
            async with session.get(server.make_url("/short")) as r:
                await r.read()


async def test_read_after_a_cancelled_read_is_an_error_not_a_wait(aiohttp_server) -> None:
    # As in aiohttp: a cancelled read() closes the response; reading again raises.
    blob = bytes(range(256)) * 8192  # 2 MiB, sent in two halves

    async def halves(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": str(len(blob))})
        await resp.prepare(request)
        await resp.write(blob[: len(blob) // 2])
        await asyncio.sleep(0.3)
        await resp.write(blob[len(blob) // 2 :])
        return resp

    server = await aiohttp_server(_app(halves=halves))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/halves")) as r:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(r.read(), 0.1)
            with pytest.raises(aioclient.ClientConnectionError, match="Connection closed"):
                await r.read()


async def test_bytes_after_a_large_body_never_answer_the_next_request(aiohttp_server) -> None:
    blob = b"x" * (1 << 20)
    forged = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nFORGED"

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": str(len(blob))})
        await resp.prepare(request)
        await asyncio.sleep(0.05)  # the client is in read() by now
        request.transport.write(blob + forged)  # the body and, in the same burst, more
        return resp

    async def real(request: web.Request) -> web.Response:
        return web.Response(text="real")

    server = await aiohttp_server(_app(big=big, real=real))
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/big")) as r:
            assert await r.read() == blob
        async with session.get(server.make_url("/real")) as r:
            assert await r.text() == "real"


async def test_a_content_length_larger_than_what_comes_is_a_payload_error(aiohttp_server) -> None:
    async def liar(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": str(1 << 50)})
        await resp.prepare(request)
        await resp.write(b"only this")
        request.transport.close()
        return resp

    server = await aiohttp_server(_app(liar=liar))
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientPayloadError):
            async with session.get(server.make_url("/liar")) as r:
                await r.read()


def test_large_body_read_whole_under_uvloop() -> None:
    # uvloop holds a receive buffer until buffer_updated() returns, unlike asyncio.
    blob = bytes(range(256)) * 4096

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=blob)

    async def main() -> None:
        runner = web.AppRunner(_app(big=big), handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        try:
            async with aioclient.ClientSession() as session:
                for _ in range(3):
                    async with session.get(f"http://127.0.0.1:{sock.getsockname()[1]}/big") as r:
                        assert await r.read() == blob
        finally:
            await runner.cleanup()

    uvloop.run(main())


def test_large_post_under_uvloop_goes_out_with_its_head_and_whole() -> None:
    # uvloop gathers the head and a large body into one writev (no join): the server
    # must read exactly the body, on a connection that then carries the next request.
    blob = bytes(range(256)) * 2048  # 512 KiB: above the size sent inline with the head
    seen = []

    async def upload(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((request.headers["Content-Length"], body == blob))
        return web.Response(text=str(len(body)))

    async def main() -> None:
        runner = web.AppRunner(_app(upload=upload), handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        try:
            connector = aioclient.TCPConnector(limit=1)
            async with aioclient.ClientSession(connector=connector) as session:
                for data in (blob, bytearray(blob), blob):
                    async with session.post(f"http://127.0.0.1:{sock.getsockname()[1]}/upload", data=data) as r:
                        assert await r.text() == str(len(blob))
                assert len(connector._all) == 1  # one connection carried all three
        finally:
            await runner.cleanup()

    uvloop.run(main())
    assert seen == [(str(len(blob)), True)] * 3


async def test_a_body_ending_while_its_stream_is_paused_leaves_the_connection_readable(aiohttp_server) -> None:
    # The last part of the body arrives in one read that overfills the stream (which
    # pauses reading) and ends the response: the pooled connection must read again.
    rest = b"y" * 20_000  # one TCP segment on loopback: one read

    async def split(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 10 + len(rest)
        await resp.prepare(request)
        await resp.write(b"x" * 10)
        await asyncio.sleep(0.05)
        await resp.write(rest)
        await resp.write_eof()
        return resp

    server = await aiohttp_server(_app(split=split))
    connector = aioclient.TCPConnector(limit=1)
    async with aioclient.ClientSession(connector=connector, read_bufsize=1024) as session:
        async with asyncio.timeout(10):  # without the fix, the second request hangs
            for _ in range(3):
                async with session.get(server.make_url("/split")) as resp:
                    await asyncio.sleep(0.1)  # everything arrives; the body is left unread
                    assert resp.content.is_eof()
            async with session.get(server.make_url("/split")) as resp:
                assert await resp.read() == b"x" * 10 + rest
        assert len(connector._all) == 1  # one connection carried every request


async def test_read_bufsize_bounds_the_buffered_body(aiohttp_server) -> None:
    blob = b"z" * 300_000

    async def big(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = len(blob)
        await resp.prepare(request)
        await resp.write(blob)
        return resp

    server = await aiohttp_server(_app(big=big))
    async with aioclient.ClientSession(read_bufsize=8192) as session:
        async with session.get(server.make_url("/big")) as resp:
            await asyncio.sleep(0.1)
            # Reading paused at twice the limit: far from all 300 KB is buffered.
            assert resp.content._size < 150_000
            assert await resp.read() == blob


async def test_reading_after_release_follows_aiohttp(aiohttp_server) -> None:
    async def data(request: web.Request) -> web.Response:
        return web.Response(body=b"line1\nline2\n")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    server = await aiohttp_server(_app(data=data, empty=empty))
    url = server.make_url("/data")
    async with aioclient.ClientSession() as session:
        # A body that came whole with its head reads like any other.
        async with session.get(url) as resp:
            assert await resp.content.readline() == b"line1\n"
            assert await resp.read() == b"line2\n"
            assert resp.content.total_bytes == 12
        async with session.get(url) as resp:
            assert await resp.read() == b"line1\nline2\n"
            assert await resp.content.read() == b""  # read() took it
            assert resp.content.at_eof()
        # After release (or close), the body is gone: reading raises, text() of a
        # body read before still works.
        with pytest.raises(aioclient.ClientConnectionError, match="Connection closed"):
            await resp.read()
        assert await resp.text() == "line1\nline2\n"
        async with session.get(url) as resp:
            await asyncio.sleep(0.05)
        with pytest.raises(aioclient.ClientConnectionError):
            await resp.read()
        with pytest.raises(aioclient.ClientConnectionError):
            await resp.content.read()
        resp = await session.get(url)
        resp.close()
        with pytest.raises(aioclient.ClientConnectionError):
            await resp.read()
        async with session.get(server.make_url("/empty")) as resp:
            pass
        assert await resp.read() == b""  # no body: nothing was lost


async def test_loops_in_several_threads_get_their_own_bodies(aiohttp_server) -> None:
    # Connections of one thread share a read buffer; loops in other threads must not
    # see its bytes (bodies of different sizes, so reads interleave across threads).
    async def numbered(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(body=str(n).encode() * (1 + n * 997 % 40_000))

    app = web.Application()
    app.router.add_get("/n/{n}", numbered)
    server = await aiohttp_server(app)

    async def fetch_all(offset: int) -> list[bool]:
        async with aioclient.ClientSession() as session:

            async def one(n: int) -> bool:
                async with session.get(server.make_url(f"/n/{n}")) as resp:
                    return await resp.read() == str(n).encode() * (1 + n * 997 % 40_000)

            return list(await asyncio.gather(*(one(offset + i) for i in range(60))))

    in_threads = [asyncio.to_thread(asyncio.run, fetch_all(offset)) for offset in (1000, 2000)]
    results = await asyncio.gather(fetch_all(0), *in_threads)
    assert [all(r) for r in results] == [True, True, True]
    assert sum(len(r) for r in results) == 180


async def test_request_context_manager_awaited_or_dropped(aiohttp_server) -> None:
    import gc
    import warnings

    paths: list = []

    async def hello(request: web.Request) -> web.Response:
        paths.append(request.path)
        return web.Response(text="hi")

    server = await aiohttp_server(_app(hello=hello, unused=hello))
    async with aioclient.ClientSession() as session:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            session.get(server.make_url("/unused"))  # made, never awaited
            gc.collect()
        # Nothing was started: no request sent, no "never awaited" coroutine left over.
        assert [str(w.message) for w in caught] == []
        resp = await session.get(server.make_url("/hello"))
        assert await resp.text() == "hi"
        resp.release()
        async with session.get(server.make_url("/hello")) as resp:
            assert resp._in_context
            assert await resp.text() == "hi"
        assert not resp._in_context
        assert resp.closed
    assert paths == ["/hello", "/hello"]

async def test_a_loop_run_by_another_thread_keeps_its_own_read_buffer(aiohttp_server) -> None:
    # Loop L's connections are made in thread A; then thread B runs L while A runs a
    # loop of its own. Reads share a buffer per loop, never per thread: no mixing.
    patterns = {i: bytes([65 + i]) * (1 << 20) for i in range(2)}

    async def body(request: web.Request) -> web.Response:
        return web.Response(body=patterns[int(request.match_info["i"])])

    app = web.Application()
    app.router.add_get("/b/{i}", body)
    server = await aiohttp_server(app)

    async def fetch(session: aioclient.ClientSession, i: int) -> int:
        bad = 0
        for _ in range(15):
            async with session.get(server.make_url(f"/b/{i}")) as resp:
                async for chunk in resp.content.iter_chunked(1 << 16):
                    bad += bool(chunk.strip(bytes([65 + i])))
        return bad

    loop_l = asyncio.new_event_loop()
    holder: dict = {}
    warmed = threading.Event()

    def thread_a() -> None:
        async def warm() -> None:
            holder["session"] = aioclient.ClientSession()
            await asyncio.gather(fetch(holder["session"], 0), fetch(holder["session"], 0))

        loop_l.run_until_complete(warm())
        warmed.set()

        async def own() -> int:
            async with aioclient.ClientSession() as session:
                return sum(await asyncio.gather(fetch(session, 1), fetch(session, 1)))

        holder["a"] = asyncio.run(own())

    def thread_b() -> None:
        warmed.wait(10)

        async def on_l() -> int:
            session = holder["session"]
            try:
                return sum(await asyncio.gather(fetch(session, 0), fetch(session, 0)))
            finally:
                await session.close()

        holder["b"] = loop_l.run_until_complete(on_l())

    try:
        await asyncio.gather(asyncio.to_thread(thread_a), asyncio.to_thread(thread_b))
    finally:
        loop_l.close()
    assert (holder["a"], holder["b"]) == (0, 0)


async def test_a_tiny_read_bufsize_still_reads_in_large_pieces(aiohttp_server) -> None:
    blob = bytes(range(256)) * 4096  # 1 MiB

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=blob)

    server = await aiohttp_server(_app(big=big))
    async with aioclient.ClientSession(read_bufsize=1) as session:
        async with session.get(server.make_url("/big")) as resp:
            chunks = [chunk async for chunk in resp.content.iter_any()]
    assert b"".join(chunks) == blob
    # read_bufsize bounds what is buffered, not how the bytes are cut: not a bytes
    # object per byte (reads are at least 64 KiB).
    assert len(chunks) <= 2 * len(blob) // (64 * 1024) + 2


async def test_the_fast_plan_cache_is_bounded_across_methods(aiohttp_server) -> None:
    async def any_method(request: web.Request) -> web.Response:
        return web.Response(text=request.method)

    server = await aiohttp_server(_app(any=any_method))
    async with aioclient.ClientSession() as session:
        for method in ("GET", "DELETE", "OPTIONS", "POST", "PUT", "PATCH"):
            for i in range(60):  # 360 plans in all, 60 per method
                async with session.request(method, server.make_url(f"/any?i={i}")) as resp:
                    assert await resp.text() == method
        assert 0 < sum(map(len, session._fast_plans.values())) <= 256


@pytest.mark.parametrize("stage", ["head", "body"])
async def test_connection_reset_is_named_as_aiohttp_does(stage: str) -> None:
    """A reset (RST) before the response head is aiohttp's ClientOSError; during a body,
    the ClientPayloadError names it after the cause."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if stage == "body":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
            await writer.drain()
            await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aioclient.ClientSession() as session:
            if stage == "head":
                with pytest.raises(aioclient.ClientOSError) as info:
                    await session.get(f"http://127.0.0.1:{port}/")
                assert info.value.errno == errno.ECONNRESET
                assert isinstance(info.value.__cause__, ConnectionResetError)
            else:
                with pytest.raises(aioclient.ClientPayloadError) as info:
                    async with session.get(f"http://127.0.0.1:{port}/") as r:
                        await r.read()
                assert str(info.value) == (
                    "Response payload is not completed: <ContentLengthError: 400, message='Not enough data "
                    "to satisfy content length header (received 3 of 100 bytes).'>. "
                    "ConnectionResetError(104, 'Connection reset by peer')"
                )
    finally:
        server.close()
        await server.wait_closed()


async def test_malformed_response_error_holds_its_request_in_args() -> None:
    """The ClientResponseError for a response that does not parse: request_info in its
    args (so repr() and pickling show it) and an HttpProcessingError as its cause, as in
    aiohttp; on the fast path (a pooled connection) too."""
    from aioclient.http_exceptions import HttpProcessingError

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 abc OK\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        async with aioclient.ClientSession() as session:
            async with session.get(url) as r:
                assert await r.read() == b"ok"
            with pytest.raises(aioclient.ClientResponseError) as info:
                await session.get(url)  # the fast path, on the pooled connection
    finally:
        server.close()
        await server.wait_closed()
    exc = info.value
    assert exc.status == 400
    assert exc.request_info is not None and str(exc.request_info.url) == url
    assert exc.args == (exc.request_info, ())
    assert repr(exc).startswith("ClientResponseError(RequestInfo(url=URL(")
    assert isinstance(exc.__cause__, HttpProcessingError)
    assert exc.__cause__.code == 400 and exc.__cause__.message == exc.message


async def test_upload_cut_by_a_reset_is_client_os_error() -> None:
    """The server resets the connection while the body is still going out: aiohttp's
    ClientOSError (it was a ClientConnectionResetError('Connection lost'))."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.read(1000)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aioclient.ClientSession() as session:
            with pytest.raises(aioclient.ClientOSError) as info:
                await session.post(f"http://127.0.0.1:{port}/", data=b"x" * 20_000_000)
    finally:
        server.close()
        await server.wait_closed()
    assert info.value.errno == errno.ECONNRESET
    assert str(info.value) == "[Errno 104] Connection reset by peer"
