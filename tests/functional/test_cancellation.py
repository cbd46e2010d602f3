"""Requests cancelled at the moment their response completes: the connection they gave
back to the pool may already belong to another request, which must not lose it."""

from __future__ import annotations

import asyncio
import ssl
import time

import pytest
import trustme
from aiohttp import web

import aioclient


def _app() -> web.Application:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(int(request.query["ms"]) / 1000)
        return web.Response(text="slow")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def fast(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/fast", fast)
    app.router.add_post("/echo", echo)
    return app


@pytest.mark.parametrize("kwargs", [{}, {"headers": {}}], ids=["fast", "general"])
async def test_a_request_cancelled_after_its_response_leaves_the_next_owner_its_connection(
    threaded_server, kwargs
) -> None:
    # A times out just as its whole response arrives; in the same loop iteration B's
    # response arrives too, and B at once takes A's pooled connection for a POST. A's
    # clean-up must not close a connection that is back in the pool (and now B's).
    base = threaded_server(_app())
    async with aioclient.ClientSession(connector=aioclient.TCPConnector(limit=10)) as session:
        for _ in range(5):
            await asyncio.gather(*(session.get(base / "fast") for _ in range(2)))  # two pooled

            async def a() -> None:
                async with asyncio.timeout(0.02):
                    async with session.get(base.with_path("/slow").with_query(ms=40), **kwargs) as resp:
                        await resp.read()

            async def b() -> bytes:
                async with session.get(base.with_path("/slow").with_query(ms=25), **kwargs) as resp:
                    await resp.read()
                async with session.post(base / "echo", data=b"payload") as resp:
                    return await resp.read()

            task_a, task_b = asyncio.create_task(a()), asyncio.create_task(b())
            await asyncio.sleep(0.005)  # both requests are out
            time.sleep(0.15)  # both responses arrive and A's timeout is due, all at once
            result_a, result_b = await asyncio.gather(task_a, task_b, return_exceptions=True)
            assert isinstance(result_a, TimeoutError), result_a
            assert result_b == b"payload"
        connector = session.connector
        assert connector is not None and connector._pool.in_use == 0


async def test_a_connection_cancelled_as_its_tls_handshake_completes_leaves_no_transport_behind(
    threaded_server,
) -> None:
    # ssl=SSLContext (Python's ssl): cancelled in the loop iteration where the handshake
    # completes, asyncio closes its transport and owns the socket. Closing the socket
    # too left a live transport on a dead descriptor, whose number the next socket
    # reused: "File descriptor N is used by transport".
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    base = threaded_server(_app(), ssl_context=server_context)
    loop = asyncio.get_running_loop()
    connector = aioclient.TCPConnector(ssl=client_context, force_close=True)
    async with aioclient.ClientSession(connector=connector) as session:
        for steps in range(1, 12):  # one of these lands between ClientHello and answer
            task = asyncio.create_task(session.get(base / "fast"))
            for _ in range(steps):
                await asyncio.sleep(0)
            loop.call_later(0.001, task.cancel)  # due with the server's handshake answer
            time.sleep(0.1)
            try:
                (await task).release()  # cancelled too late: the request went through
            except asyncio.CancelledError:
                pass
            async with asyncio.timeout(5):  # a new socket, likely on the freed number
                async with session.get(base / "fast") as resp:
                    assert await resp.text() == "ok"
