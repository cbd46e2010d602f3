"""Shared fixtures: real servers on 127.0.0.1 with ephemeral ports.

aiohttp appears here only as a *server* (aiohttp.web); the library never imports it.
"""

from __future__ import annotations

import socket
from typing import AsyncIterator, Awaitable, Callable, List

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
