"""Shared fixtures: real servers on 127.0.0.1 with ephemeral ports.

aiohttp appears here only as a *server* (aiohttp.web); the library never imports it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, AsyncIterator, Awaitable, Callable, Iterator, List

import pytest
from aiohttp import web
from yarl import URL


class ServerHandle:
    """A running aiohttp.web server: its base URL and its runner."""

    def __init__(self, runner: web.AppRunner, url: URL) -> None:
        self.runner = runner
        self.url = url

    def make_url(self, path: str) -> URL:
        """An absolute URL for ``path`` on this server."""
        return self.url.join(URL(path))


@pytest.fixture
async def aiohttp_server() -> AsyncIterator[Callable[..., Awaitable[ServerHandle]]]:
    """Start aiohttp.web apps on 127.0.0.1; all are stopped at teardown."""
    runners: List[web.AppRunner] = []

    async def start(app: web.Application, *, ssl_context=None, path: str | None = None, **kwargs) -> ServerHandle:
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5, **kwargs)
        await runner.setup()
        runners.append(runner)
        if path is not None:
            site: web.BaseSite = web.UnixSite(runner, path)
            await site.start()
            return ServerHandle(runner, URL("http://unix-socket"))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        site = web.SockSite(runner, sock, ssl_context=ssl_context)
        await site.start()
        scheme = "https" if ssl_context is not None else "http"
        return ServerHandle(runner, URL(f"{scheme}://127.0.0.1:{port}/"))

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
def threaded_server() -> Iterator[Callable[..., URL]]:
    """Start aiohttp.web apps on their own loop in another thread, for tests that block
    the client's loop (to make events land in one loop iteration); stopped at teardown."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runners: List[web.AppRunner] = []

    async def serve(app: web.Application, ssl_context: Any) -> URL:
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return URL(f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}/")

    def start(app: web.Application, *, ssl_context: Any = None) -> URL:
        return asyncio.run_coroutine_threadsafe(serve(app, ssl_context), loop).result(10)

    yield start

    async def stop() -> None:
        for runner in reversed(runners):
            await runner.cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()
