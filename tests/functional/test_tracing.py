"""TraceConfig against real servers: which signals fire, in which order, with what."""

from __future__ import annotations

import pytest
from aiohttp import web

import aioclient


async def _hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


def _recording_config(events: list) -> aioclient.TraceConfig:
    trace_config = aioclient.TraceConfig()

    async def on_start(session, ctx, params) -> None:
        events.append(("start", str(params.url)))

    async def on_headers(session, ctx, params) -> None:
        events.append(("headers_sent", str(params.url)))

    async def on_end(session, ctx, params) -> None:
        events.append(("end", str(params.url)))

    async def on_exception(session, ctx, params) -> None:
        events.append(("exception", str(params.url), type(params.exception).__name__))

    trace_config.on_request_start.append(on_start)
    trace_config.on_request_headers_sent.append(on_headers)
    trace_config.on_request_end.append(on_end)
    trace_config.on_request_exception.append(on_exception)
    return trace_config


async def test_a_frozen_trace_signal_refuses_every_change() -> None:
    # As aiohttp's (aiosignal) Signal: no list method changes a frozen signal.
    trace_config = aioclient.TraceConfig()

    @trace_config.on_request_start
    async def on_start(session, ctx, params) -> None:
        pass

    assert list(trace_config.on_request_start) == [on_start]
    assert repr(trace_config.on_request_end).startswith("<Signal owner=<aioclient.tracing.TraceConfig")
    assert repr(trace_config.on_request_end).endswith(", frozen=False, []>")
    async with aioclient.ClientSession(trace_configs=[trace_config]):
        pass
    signal = trace_config.on_request_start
    assert signal.frozen
    changes = [
        signal.clear,
        signal.pop,
        signal.reverse,
        signal.sort,
        lambda: signal.append(on_start),
        lambda: signal.extend([on_start]),
        lambda: signal.insert(0, on_start),
        lambda: signal.remove(on_start),
        lambda: signal.__iadd__([on_start]),
        lambda: signal.__imul__(2),
        lambda: signal.__setitem__(0, on_start),
        lambda: signal.__delitem__(0),
        lambda: signal(on_start),
    ]
    for change in changes:
        with pytest.raises(RuntimeError, match="Cannot modify frozen list."):
            change()
    assert list(signal) == [on_start]


async def test_request_start_sees_the_url_credentials_and_refused_urls_are_traced(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/", _hello)
    server = await aiohttp_server(app)
    port = server.url.port
    events: list = []
    async with aioclient.ClientSession(trace_configs=[_recording_config(events)]) as session:
        async with session.get(f"http://user:pw@127.0.0.1:{port}/") as resp:
            await resp.read()
        # As aiohttp: on_request_start has the URL as given, the rest the URL as sent.
        assert events == [
            ("start", f"http://user:pw@127.0.0.1:{port}/"),
            ("headers_sent", f"http://127.0.0.1:{port}/"),
            ("end", f"http://127.0.0.1:{port}/"),
        ]
        events.clear()
        with pytest.raises(ValueError, match="Cannot combine AUTH argument"):
            await session.get(f"http://user:pw@127.0.0.1:{port}/", auth=aioclient.BasicAuth("a", "b"))
        assert events == [
            ("start", f"http://user:pw@127.0.0.1:{port}/"),
            ("exception", f"http://127.0.0.1:{port}/", "ValueError"),
        ]
        events.clear()
        with pytest.raises(aioclient.InvalidUrlClientError):
            await session.get("http:///path")
        assert events == [("start", "http:///path"), ("exception", "http:///path", "InvalidUrlClientError")]
        events.clear()
        with pytest.raises(TypeError):
            await session.get(server.make_url("/"), data=object())
        assert [e[0] for e in events] == ["start", "exception"]
        events.clear()
        # json= is serialized before the request starts: nothing traced.
        with pytest.raises(TypeError):
            await session.get(server.make_url("/"), json=object())
        assert events == []
