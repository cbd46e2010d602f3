"""WebSocket client against aiohttp.web and the websockets package's server."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl

import pytest
import trustme
from aiohttp import WSMsgType as ServerMsgType
from aiohttp import web

import aioclient
from aioclient import WSMsgType


def _ws_url(server, path: str = "/ws") -> str:
    url = server.make_url(path)
    return str(url.with_scheme("wss" if url.scheme == "https" else "ws"))


def _echo_app(**ws_kwargs) -> web.Application:
    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(**ws_kwargs)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == ServerMsgType.TEXT:
                if msg.data == "close-me":
                    await ws.close(code=4001, message=b"bye")
                    break
                await ws.send_str(msg.data)
            elif msg.type == ServerMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    return app


@pytest.mark.parametrize("compress", [15, 0])
async def test_echo_text_and_binary(aiohttp_server, compress) -> None:
    server = await aiohttp_server(_echo_app(protocols=("chat",), max_msg_size=32 << 20))
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server), compress=compress, protocols=("chat", "other"), max_msg_size=32 << 20) as ws:
            assert ws.protocol == "chat"
            assert ws.compress == compress
            await ws.send_str("hello")
            assert await ws.receive_str() == "hello"
            await ws.send_json({"a": 1})
            assert await ws.receive_json() == {"a": 1}
            for size in (0, 125, 126, 65536, 16 << 20):
                blob = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
                await ws.send_bytes(blob)
                assert await ws.receive_bytes() == blob
        assert ws.closed
        assert ws.close_code == 1000


async def test_server_initiated_close(aiohttp_server) -> None:
    server = await aiohttp_server(_echo_app())
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server))
        await ws.send_str("close-me")
        msg = await ws.receive()
        assert msg.type is WSMsgType.CLOSE
        assert msg.data == 4001
        assert msg.extra == "bye"
        assert ws.closed
        assert (await ws.receive()).type is WSMsgType.CLOSED
        async for _ in ws:
            raise AssertionError("no messages after close")


async def test_ping_pong(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.ping(b"server-ping")
        seen = set()
        while seen != {"pong", "ping"}:  # in either order
            msg = await ws.receive()
            if msg.type == ServerMsgType.PONG and msg.data == b"server-ping":
                seen.add("pong")
            elif msg.type == ServerMsgType.PING:
                seen.add("ping")
                await ws.pong(msg.data)
        await ws.send_str("done")
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server)) as ws:
            await ws.ping(b"client-ping")
            assert await ws.receive_str() == "done"  # autoping answered, pong swallowed
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server), autoping=False) as ws:
            msg = await ws.receive()
            assert msg.type is WSMsgType.PING and msg.data == b"server-ping"
            await ws.pong(msg.data)
            await ws.ping(b"client-ping")
            msg = await ws.receive()
            assert msg.type is WSMsgType.PONG and msg.data == b"client-ping"
            assert await ws.receive_str() == "done"


async def test_heartbeat_timeout(aiohttp_server) -> None:
    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await asyncio.sleep(2)  # never answers pings
        return ws

    app = web.Application()
    app.router.add_get("/ws", silent)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server), heartbeat=0.1)
        msg = await ws.receive()
        assert msg.type in (WSMsgType.ERROR, WSMsgType.CLOSED)
        assert isinstance(ws.exception(), aioclient.ServerTimeoutError)
        assert ws.close_code == 1006
        assert ws.closed


async def test_oversized_message_is_rejected(aiohttp_server) -> None:
    async def big(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_bytes(b"x" * 5000)
        await ws.receive()
        return ws

    app = web.Application()
    app.router.add_get("/ws", big)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server), max_msg_size=1000)
        msg = await ws.receive()
        assert msg.type is WSMsgType.ERROR
        assert isinstance(msg.data, aioclient.WebSocketError)
        assert ws.close_code == 1009


async def test_handshake_failure(aiohttp_server) -> None:
    server = await aiohttp_server(web.Application())
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.WSServerHandshakeError) as info:
            await session.ws_connect(_ws_url(server, "/missing"))
    assert info.value.status == 404


async def test_websockets_server_fragments_and_invalid_utf8() -> None:
    from websockets.asyncio.server import serve

    async def handler(connection) -> None:
        async for message in connection:
            if message == "fragments":
                await connection.send(["frag", "mented", " message"])
            elif message == "bad-utf8":
                # A text frame with invalid UTF-8, written below the library's API.
                from websockets.frames import Frame, Opcode

                connection.protocol.send_frame(Frame(Opcode.TEXT, b"\xff\xfe"))
                connection.send_data()
            else:
                await connection.send(message)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with aioclient.ClientSession() as session:
            async with session.ws_connect(f"ws://127.0.0.1:{port}/") as ws:
                await ws.send_str("fragments")
                assert await ws.receive_str() == "fragmented message"
                await ws.send_bytes(b"\x00\x01")
                assert await ws.receive_bytes() == b"\x00\x01"
                await ws.send_str("bad-utf8")
                msg = await ws.receive()
                assert msg.type is WSMsgType.ERROR
                assert ws.close_code == 1007


async def test_wss(aiohttp_server) -> None:
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    server = await aiohttp_server(_echo_app(), ssl_context=ctx)
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server), ssl=False) as ws:
            await ws.send_str("secure")
            assert await ws.receive_str() == "secure"


async def test_thousand_concurrent_connections(aiohttp_server) -> None:
    server = await aiohttp_server(_echo_app())
    url = _ws_url(server)
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(limit=0)) as session:

        async def one(i: int) -> None:
            async with session.ws_connect(url, compress=0) as ws:
                for j in range(3):
                    await ws.send_str(f"{i}:{j}")
                    assert await ws.receive_str() == f"{i}:{j}"

        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(1000))), 60)


# -- parity with aiohttp's client: each test names the behaviour it pins ---------------


def _app(handler, path: str = "/ws") -> web.Application:
    app = web.Application()
    app.router.add_get(path, handler)
    return app


def _closing_server(code: int, close_codes: asyncio.Queue) -> web.Application:
    """Sends "hello", closes with ``code``; queues the code of the client's reply."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=5)
        await ws.prepare(request)
        await ws.send_str("hello")
        await ws.close(code=code, message=b"bye")
        close_codes.put_nowait(ws.close_code)
        return ws

    return _app(handler)


async def test_heartbeat_kept_alive_while_client_is_busy(aiohttp_server) -> None:
    """A pong (or any data) resets the heartbeat even when nobody is inside receive()."""

    async def chatty(request: web.Request) -> web.WebSocketResponse:
        # autoping off: it never answers pings, but sends data every 30 ms.
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        for i in range(15):
            await ws.send_str(f"m{i}")
            await asyncio.sleep(0.03)
        return ws

    app = _echo_app()  # autoping on: answers pings with pongs
    app.router.add_get("/chatty", chatty)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server), heartbeat=0.1) as ws:
            await asyncio.sleep(0.4)  # busy: no receive() for four heartbeats
            assert not ws.closed
            assert ws.exception() is None
            await ws.send_str("still here")
            assert await ws.receive_str(timeout=1) == "still here"
        async with session.ws_connect(_ws_url(server, "/chatty"), heartbeat=0.1) as ws:
            await asyncio.sleep(0.35)
            assert not ws.closed
            assert ws.exception() is None


async def test_autoclose_false_close_replies_at_once(aiohttp_server) -> None:
    close_codes: asyncio.Queue = asyncio.Queue()
    server = await aiohttp_server(_closing_server(4000, close_codes))
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server), autoclose=False)
        assert await ws.receive_str() == "hello"
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4000, "bye")
        assert not ws.closed
        assert await asyncio.wait_for(ws.close(code=4005, message=b"ack"), 1) is True
        assert ws.close_code == 4000  # the server's
        assert ws.exception() is None
        assert await asyncio.wait_for(close_codes.get(), 1) == 4005

        ws = await session.ws_connect(_ws_url(server), autoclose=False)
        assert await ws.receive_str() == "hello"
        assert (await ws.receive()).type is WSMsgType.CLOSE
        assert (await asyncio.wait_for(ws.receive(), 1)).type is WSMsgType.CLOSED
        assert ws.close_code == 4000
        assert await asyncio.wait_for(close_codes.get(), 1) == 1000


async def test_server_close_is_answered_with_1000(aiohttp_server) -> None:
    close_codes: asyncio.Queue = asyncio.Queue()
    server = await aiohttp_server(_closing_server(4000, close_codes))
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server))
        assert await ws.receive_str() == "hello"
        msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4000, "bye")
        assert ws.closed and ws.close_code == 4000
        assert await asyncio.wait_for(close_codes.get(), 1) == 1000
        async with session.ws_connect(_ws_url(server)) as ws:
            assert [msg.data async for msg in ws] == ["hello"]
            assert ws.close_code == 4000
        assert await asyncio.wait_for(close_codes.get(), 1) == 1000


async def test_compress_is_off_by_default_and_reported_as_aiohttp_does(aiohttp_server) -> None:
    offers: list = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        offers.append((request.headers.get("Sec-WebSocket-Extensions"), ws.compress))
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        for compress, reported in ((None, 0), (15, 15), (9, 15)):
            kwargs = {} if compress is None else {"compress": compress}
            async with session.ws_connect(_ws_url(server), **kwargs) as ws:
                assert ws.compress == reported
                await ws.send_str("a" * 5000)
                assert await ws.receive_str() == "a" * 5000
        with pytest.raises(ValueError):
            await session.ws_connect(_ws_url(server), compress=8)
    assert offers == [
        (None, 0),
        ("permessage-deflate; client_max_window_bits", 15),
        ("permessage-deflate; client_max_window_bits; server_max_window_bits=9", 9),
    ]


async def test_redirects_are_followed_and_raise_for_status_applies(aiohttp_server) -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/ws")

    async def not_ws(request: web.Request) -> web.Response:
        return web.Response(text="plain")

    app = _echo_app()
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/plain", not_ws)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server, "/redirect")) as ws:
            await ws.send_str("via redirect")
            assert await ws.receive_str() == "via redirect"
    async with aioclient.ClientSession(raise_for_status=True) as session:
        with pytest.raises(aioclient.ClientResponseError) as info:
            await session.ws_connect(_ws_url(server, "/missing"))
        assert type(info.value) is aioclient.ClientResponseError
        assert info.value.status == 404
        with pytest.raises(aioclient.WSServerHandshakeError) as handshake:
            await session.ws_connect(_ws_url(server, "/plain"))
        assert handshake.value.status == 200


async def test_send_after_close_raises_client_connection_reset(aiohttp_server) -> None:
    server = await aiohttp_server(_echo_app())
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server))
        assert ws.get_extra_info("peername")[0] == "127.0.0.1"
        await ws.close()
        assert ws.get_extra_info("peername", "gone") == "gone"
        sends = (ws.send_str("x"), ws.send_bytes(b"x"), ws.send_json(1), ws.ping(), ws.pong())
        for send in sends:
            with pytest.raises(aioclient.ClientConnectionResetError, match="Cannot write to closing transport"):
                await send
    assert issubclass(aioclient.ClientConnectionResetError, ConnectionResetError)


async def test_close_while_another_task_receives(aiohttp_server) -> None:
    close_codes: asyncio.Queue = asyncio.Queue()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data)
        close_codes.put_nowait(ws.close_code)
        return ws

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server))
        receiver = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0.05)
        assert await asyncio.wait_for(ws.close(code=4002, message=b"cc"), 1) is True
        assert (await asyncio.wait_for(receiver, 1)).type is WSMsgType.CLOSING
        assert ws.closed and ws.close_code == 1000  # the server's reply
        assert (await ws.receive()).type is WSMsgType.CLOSED
        assert await asyncio.wait_for(close_codes.get(), 1) == 4002

        ws = await session.ws_connect(_ws_url(server))

        async def iterate() -> list:
            return [msg.data async for msg in ws]

        iterator = asyncio.ensure_future(iterate())
        await ws.send_str("a")
        await asyncio.sleep(0.05)
        await asyncio.wait_for(ws.close(), 1)
        assert await asyncio.wait_for(iterator, 1) == ["a"]
        assert ws.close_code == 1000
        assert await asyncio.wait_for(close_codes.get(), 1) == 1000


async def test_exception_after_protocol_error_drop_and_close_timeout(aiohttp_server) -> None:
    release = asyncio.Event()

    async def bad_utf8(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_frame(b"\xff\xfe", ServerMsgType.TEXT)
        await ws.receive(timeout=1)
        return ws

    async def drop(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("one")
        await asyncio.sleep(0.05)
        request.transport.close()  # no Close frame
        return ws

    async def deaf(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await asyncio.wait_for(release.wait(), 1)  # never reads the client's Close
        return ws

    app = _app(bad_utf8, "/bad_utf8")
    app.router.add_get("/drop", drop)
    app.router.add_get("/deaf", deaf)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server, "/bad_utf8"))
        msg = await asyncio.wait_for(ws.receive(), 1)
        assert msg.type is WSMsgType.ERROR and msg.data.code == 1007
        assert ws.exception() is None
        assert ws.close_code == 1007
        assert not issubclass(aioclient.WebSocketError, aioclient.ClientError)

        ws = await session.ws_connect(_ws_url(server, "/drop"))
        assert await ws.receive_str() == "one"
        assert (await asyncio.wait_for(ws.receive(), 1)).type is WSMsgType.CLOSED
        assert isinstance(ws.exception(), aioclient.ClientConnectionResetError)
        assert ws.close_code == 1006

        ws = await session.ws_connect(_ws_url(server, "/deaf"), timeout=aioclient.ClientWSTimeout(ws_close=0.1))
        assert await asyncio.wait_for(ws.close(), 1) is True
        assert isinstance(ws.exception(), asyncio.TimeoutError)
        assert ws.close_code == 1006
        release.set()


async def test_receive_timeout_sets_close_code_1006(aiohttp_server) -> None:
    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive(timeout=1)
        return ws

    server = await aiohttp_server(_app(silent))
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server)) as ws:
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive(timeout=0.05)
            assert ws.close_code == 1006
            assert not ws.closed


async def test_message_extra_is_empty_string(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        await ws.send_str("t")
        await ws.send_bytes(b"b")
        await ws.ping(b"p")
        await ws.pong(b"q")
        await ws.close(code=4000, message=b"reason")
        return ws

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server), autoping=False) as ws:
            messages = [await asyncio.wait_for(ws.receive(), 1) for _ in range(5)]
    assert [(m.type, m.extra) for m in messages] == [
        (WSMsgType.TEXT, ""),
        (WSMsgType.BINARY, ""),
        (WSMsgType.PING, ""),
        (WSMsgType.PONG, ""),
        (WSMsgType.CLOSE, "reason"),
    ]


def _rewrite_handshake(header: str, value: str):
    """An on_response_prepare hook: changes one header of the server's 101 answer."""

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        if response.status == 101:
            response.headers[header] = value

    return hook


@pytest.mark.parametrize(
    ("compress", "header", "value", "error"),
    [
        # Not offered, so ignored (aiohttp does not check it either).
        (0, "Sec-WebSocket-Extensions", "permessage-deflate", None),
        # Not checked by aiohttp's client; we inflate with the largest window anyway.
        (15, "Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=20", None),
        (15, "Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits=20", "Invalid window size"),
        (15, "Sec-WebSocket-Extensions", "permessage-deflate; x=1", "Extension for deflate not supported; x=1"),
        # aiohttp wants exactly "Upgrade".
        (0, "Connection", "keep-alive, Upgrade", "Invalid connection header"),
    ],
)
async def test_handshake_leniency_as_aiohttp(aiohttp_server, compress, header, value, error) -> None:
    app = _echo_app()
    app.on_response_prepare.append(_rewrite_handshake(header, value))
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        if error is not None:
            with pytest.raises(aioclient.WSServerHandshakeError) as info:
                await session.ws_connect(_ws_url(server), compress=compress)
            assert info.value.message == error
            return
        async with session.ws_connect(_ws_url(server), compress=compress) as ws:
            assert ws.compress == compress
            await ws.send_str("b" * 3000)
            assert await ws.receive_str() == "b" * 3000


async def test_closing_the_session_under_a_receive_reports_as_aiohttp(aiohttp_server) -> None:
    server = await aiohttp_server(_echo_app())
    session = aioclient.ClientSession()
    ws = await session.ws_connect(_ws_url(server))
    receiving = asyncio.ensure_future(ws.receive())
    await asyncio.sleep(0.05)
    await session.close()
    msg = await asyncio.wait_for(receiving, 5)
    assert msg.type == aioclient.WSMsgType.CLOSED
    assert (ws.closed, ws.close_code) == (True, 1006)
    assert isinstance(ws.exception(), aioclient.ClientConnectionResetError)


async def test_reading_pauses_while_messages_wait_for_receive(aiohttp_server) -> None:
    """A server flooding a client that does not call receive() is held back by TCP: the
    client stops reading from the socket once enough messages wait in its queue."""
    count, size = 128, 64 * 1024  # 8 MiB: far more than the buffers on the way can hold
    sent = 0
    all_sent = asyncio.Event()

    async def flood(request: web.Request) -> web.WebSocketResponse:
        nonlocal sent
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        # Small kernel buffers on both ends (set on the client below), so what TCP can
        # hold does not depend on the machine's autotuning (up to 32 MiB on Linux).
        request.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        for i in range(count):
            await ws.send_bytes(i.to_bytes(4, "big") * (size // 4))
            sent += 1
        all_sent.set()
        await ws.receive(timeout=10)  # the client's Close
        return ws

    server = await aiohttp_server(_app(flood))
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server)) as ws:
            ws.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            # Not reading: the server's send_bytes() must block (without flow control the
            # client took all 8 MiB into memory in a fraction of this wait).
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(2):
                    await all_sent.wait()
            assert sent < count
            # Reading resumes the socket: every message arrives, whole and in order.
            async with asyncio.timeout(30):
                for i in range(count):
                    assert await ws.receive_bytes() == i.to_bytes(4, "big") * (size // 4)
                await all_sent.wait()


@pytest.mark.parametrize("code", [1006, 1012, 1013, 1014, 3000, 4999, 5000])
async def test_close_codes_accepted_as_aiohttp_does(aiohttp_server, code) -> None:
    close_codes: asyncio.Queue = asyncio.Queue()
    server = await aiohttp_server(_closing_server(code, close_codes))
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server))
        assert await ws.receive_str() == "hello"
        async with asyncio.timeout(5):
            msg = await ws.receive()
            assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, code, "bye")
            assert ws.close_code == code
            assert await close_codes.get() == 1000  # our reply: not a protocol error (1002)


async def test_two_closes_while_another_task_receives(aiohttp_server) -> None:
    server = await aiohttp_server(_echo_app())
    async with aioclient.ClientSession() as session:
        ws = await session.ws_connect(_ws_url(server))
        receiver = asyncio.ensure_future(ws.receive())
        await asyncio.sleep(0)  # the receiver is waiting
        async with asyncio.timeout(5):  # (ws_close is 10 s: one close() waited for it)
            results = await asyncio.gather(ws.close(), ws.close())
            assert sorted(results) == [False, True]
            assert (await receiver).type is WSMsgType.CLOSED
        assert (ws.closed, ws.close_code, ws.exception()) == (True, 1000, None)


async def test_decode_text_false_hands_over_text_as_bytes(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("h\u00e9llo")
        await ws.send_frame(b"\xff\xferaw", ServerMsgType.TEXT)  # not UTF-8: not checked
        await ws.send_str('{"a": 1}')
        await ws.receive(timeout=5)
        return ws

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        async with session.ws_connect(_ws_url(server), decode_text=False) as ws:
            async with asyncio.timeout(5):
                msg = await ws.receive()
                assert (msg.type, msg.data) == (WSMsgType.TEXT, "h\u00e9llo".encode())
                assert await ws.receive_str() == b"\xff\xferaw"
                assert await ws.receive_json() == {"a": 1}
            assert ws.close_code is None


async def _raw_ws_server(script):
    """A WebSocket server that misbehaves: the handshake, then ``script(reader, writer)``."""
    import base64
    import hashlib

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        try:
            await script(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"


async def test_close_message_carries_the_servers_code_when_the_reply_fails() -> None:
    async def close_and_drop(reader, writer) -> None:
        writer.write(b"\x88\x0a" + (4001).to_bytes(2, "big") + b"shutdown")  # then TCP closes

    server, url = await _raw_ws_server(close_and_drop)
    async with server, aioclient.ClientSession() as session:
        ws = await session.ws_connect(url)
        async with asyncio.timeout(5):
            while ws.get_extra_info("peername") is not None:  # until the connection is gone
                await asyncio.sleep(0.01)
            msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4001, "shutdown")
        assert ws.close_code == 1006  # our reply could not be sent (as in aiohttp)


async def test_empty_close_payload_is_close_message_with_code_0() -> None:
    async def empty_close(reader, writer) -> None:
        writer.write(b"\x88\x00")
        await asyncio.wait_for(reader.read(), 5)  # the client's reply, then its close

    server, url = await _raw_ws_server(empty_close)
    async with server, aioclient.ClientSession() as session:
        ws = await session.ws_connect(url)
        async with asyncio.timeout(5):
            msg = await ws.receive()
        assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 0, "")
        assert ws.closed


async def test_ws_connect_runs_as_a_task(aiohttp_server) -> None:
    server = await aiohttp_server(_echo_app())
    async with aioclient.ClientSession() as session:
        async with asyncio.timeout(5):
            ws = await asyncio.create_task(session.ws_connect(_ws_url(server)))
            await ws.send_str("task")
            assert await ws.receive_str() == "task"
            await ws.close()


async def test_ws_timeouts_as_aiohttp(aiohttp_server) -> None:
    assert aioclient.ClientWSTimeout() == aioclient.ClientWSTimeout(ws_receive=None, ws_close=None)
    from aioclient.websocket import DEFAULT_WS_CLIENT_TIMEOUT

    assert DEFAULT_WS_CLIENT_TIMEOUT == aioclient.ClientWSTimeout(ws_receive=None, ws_close=10.0)
    server = await aiohttp_server(_echo_app())
    async with aioclient.ClientSession() as session:
        async with asyncio.timeout(5):
            async with session.ws_connect(_ws_url(server), timeout=None) as ws:
                await ws.send_str("no timeout")
                assert await ws.receive_str() == "no timeout"
            assert ws.close_code == 1000


async def test_close_reason_cut_at_a_character_and_bytes_sent_as_given(aiohttp_server) -> None:
    received: asyncio.Queue = asyncio.Queue()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        msg = await ws.receive(timeout=5)
        received.put_nowait((msg.type, msg.data, msg.extra))
        return ws

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session:
        async with asyncio.timeout(5):
            # 122 bytes, then a 2-byte character across the 123 bytes a reason has room for.
            ws = await session.ws_connect(_ws_url(server))
            assert await ws.close(message=("a" * 122 + "\u00e9\u00e9").encode()) is True
            assert await received.get() == (ServerMsgType.CLOSE, 1000, "a" * 122)
            assert (ws.close_code, ws.exception()) == (1000, None)
            # Not UTF-8: sent anyway (the server answers it with 1007, as aiohttp's does).
            ws = await session.ws_connect(_ws_url(server))
            assert await ws.close(message=b"\xff\xfe") is True
            kind, error, _ = await received.get()
            assert kind is ServerMsgType.ERROR and error.code == 1007
            assert ws.exception() is None


async def test_callers_handshake_headers_are_kept(aiohttp_server) -> None:
    seen: asyncio.Queue = asyncio.Queue()

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.put_nowait({name: request.headers.get(name) for name in ("Connection", "Upgrade", "Sec-WebSocket-Version", "Sec-WebSocket-Key")})
        if request.headers.get("Sec-WebSocket-Version") != "13":
            return web.Response(status=426, headers={"Sec-WebSocket-Version": "13"})
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str(msg.data)
        return ws

    server = await aiohttp_server(_app(handler))
    async with aioclient.ClientSession() as session, asyncio.timeout(5):
        headers = {"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket", "Sec-WebSocket-Key": "bWluZQ=="}
        async with session.ws_connect(_ws_url(server), headers=headers) as ws:
            await ws.send_str("kept")
            assert await ws.receive_str() == "kept"
        got = await seen.get()
        assert (got["Connection"], got["Upgrade"], got["Sec-WebSocket-Version"]) == ("keep-alive, Upgrade", "WebSocket", "13")
        assert got["Sec-WebSocket-Key"] != "bWluZQ=="  # ours, always
        with pytest.raises(aioclient.WSServerHandshakeError) as info:
            await session.ws_connect(_ws_url(server), headers={"Sec-WebSocket-Version": "8"})
        assert info.value.status == 426
        assert (await seen.get())["Sec-WebSocket-Version"] == "8"


async def test_send_json_bytes_and_lowercase_message_types(aiohttp_server) -> None:
    assert WSMsgType.text is WSMsgType.TEXT and WSMsgType.binary is WSMsgType.BINARY
    assert WSMsgType.closed is WSMsgType.CLOSED and WSMsgType.error is WSMsgType.ERROR
    server = await aiohttp_server(_echo_app())
    async with aioclient.ClientSession() as session, asyncio.timeout(5):
        async with session.ws_connect(_ws_url(server)) as ws:
            await ws.send_json_bytes({"a": 1}, dumps=lambda data: json.dumps(data).encode())
            msg = await ws.receive()
            assert (msg.type, msg.data) == (WSMsgType.BINARY, b'{"a": 1}')
            assert msg.json() == {"a": 1}
