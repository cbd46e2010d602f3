"""WebSocket client against aiohttp.web and the websockets package's server."""

from __future__ import annotations

import asyncio
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
