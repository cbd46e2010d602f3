"""ClientSession arguments and per-request arguments, matched to aiohttp 3.14.5."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import List

import pytest
from aiohttp import web

import aioclient


def _app(handler) -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def _recording_server(aiohttp_server) -> tuple:
    """A server that answers 200 with the request's Connection header and lists the
    paths it was asked for."""
    seen: List[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text=request.headers.get("Connection", "-"))

    return await aiohttp_server(_app(handler)), seen


async def test_a_rejected_timeout_leaves_no_unclosed_session() -> None:
    loop = asyncio.get_running_loop()
    reported: list = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context["message"]))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="timeout parameter cannot be of <class 'int'> type"):
                aioclient.ClientSession(timeout=5)
            gc.collect()
    finally:
        loop.set_exception_handler(None)
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert reported == []


async def test_deprecated_read_timeout_and_conn_timeout() -> None:
    with pytest.warns(DeprecationWarning, match="read_timeout is deprecated"):
        session = aioclient.ClientSession(read_timeout=3)
    assert session.timeout == aioclient.ClientTimeout(total=3, sock_connect=30)
    await session.close()
    with pytest.warns(DeprecationWarning, match="conn_timeout is deprecated"):
        session = aioclient.ClientSession(conn_timeout=2)
    assert session.timeout == aioclient.ClientTimeout(total=300, connect=2, sock_connect=30)
    await session.close()
    with pytest.raises(ValueError, match="read_timeout and timeout parameters conflict"):
        aioclient.ClientSession(read_timeout=3, timeout=aioclient.ClientTimeout())
    with pytest.raises(ValueError, match="conn_timeout and timeout parameters conflict"):
        aioclient.ClientSession(conn_timeout=3, timeout=aioclient.ClientTimeout())


async def test_deprecations_warn_as_in_aiohttp(aiohttp_server) -> None:
    server, _ = await _recording_server(aiohttp_server)
    with pytest.warns(DeprecationWarning, match="BasicAuth is deprecated"):
        auth = aioclient.BasicAuth("user", "pass")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # made by the library: no warning
        assert aioclient.BasicAuth.decode(auth.encode()) == auth
        assert aioclient.BasicAuth.from_url(server.url.with_user("user").with_password("pass")) == auth
    with pytest.warns(DeprecationWarning, match="The 'auth' parameter is deprecated"):
        session = aioclient.ClientSession(auth=auth)
    with pytest.warns(DeprecationWarning, match="The 'proxy_auth' parameter is deprecated"):
        other = aioclient.ClientSession(proxy_auth=auth, connector=session.connector, connector_owner=False)
    await other.close()
    async with session:
        with pytest.warns(DeprecationWarning, match="client.loop property is deprecated"):
            assert session.loop is asyncio.get_running_loop()
        with pytest.warns(DeprecationWarning, match="modification is deprecated #2778"):
            session.requote_redirect_url = False
        with pytest.warns(DeprecationWarning, match="The 'auth' parameter is deprecated"):
            async with session.get(server.make_url("/"), auth=auth) as resp:
                assert resp.status == 200
        with pytest.warns(DeprecationWarning, match="Chunk size is deprecated"):
            async with session.post(server.make_url("/"), data=b"x", chunked=1024) as resp:
                assert resp.status == 200
    with pytest.warns(DeprecationWarning, match="Inheritance class MySession from ClientSession is discouraged"):

        class MySession(aioclient.ClientSession):
            pass

    with pytest.raises(ValueError, match='A ":" is not allowed in login'):
        aioclient.encode_basic_auth("a:b", "c")


async def test_deprecated_ssl_arguments_warn_and_exclude_each_other(aiohttp_server) -> None:
    server, seen = await _recording_server(aiohttp_server)
    async with aioclient.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated, use ssl=False instead"):
            async with session.get(server.make_url("/"), verify_ssl=False) as resp:
                assert resp.status == 200
        with pytest.warns(DeprecationWarning, match="fingerprint is deprecated"):
            with pytest.raises(ValueError, match="verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"):
                await session.get(server.make_url("/x"), ssl=False, fingerprint=b"\0" * 32)
        with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated"):
            with pytest.raises(ValueError, match="mutually exclusive"):
                await session.get(server.make_url("/x"), ssl=False, verify_ssl=False)
        with pytest.raises(TypeError, match="ssl should be SSLContext, bool, Fingerprint or None, got 'x' instead."):
            await session.get(server.make_url("/x"), ssl="x")
    assert seen == ["/"]


@pytest.mark.parametrize("version", [aioclient.HttpVersion10, aioclient.HttpVersion11])
async def test_force_close_connection_header_per_http_version(aiohttp_server, version) -> None:
    # As aiohttp: a connector that closes every connection sends "close" in HTTP/1.1 and
    # nothing in HTTP/1.0 (whose default is to close), never "keep-alive".
    server, _ = await _recording_server(aiohttp_server)
    connector = aioclient.TCPConnector(force_close=True)
    async with aioclient.ClientSession(connector=connector, version=version) as session:
        for _ in range(2):  # the fast path too
            async with session.get(server.make_url("/")) as resp:
                assert await resp.text() == ("close" if version == aioclient.HttpVersion11 else "-")
    async with aioclient.request("GET", server.make_url("/"), version=version) as resp:
        assert await resp.text() == ("close" if version == aioclient.HttpVersion11 else "-")
    async with aioclient.ClientSession(version=version) as session:
        async with session.get(server.make_url("/")) as resp:
            assert await resp.text() == ("keep-alive" if version == aioclient.HttpVersion10 else "-")


async def test_invalid_methods_and_header_values_fail_as_in_aiohttp(aiohttp_server) -> None:
    server, seen = await _recording_server(aiohttp_server)
    async with aioclient.ClientSession() as session:
        for method, found in [("G ET", " "), ("GET\r\n", "\r"), ("GÉT", "É"), ("A:B", ":")]:
            message = f"Method cannot contain non-token characters {method!r} (found at least {found!r})"
            with pytest.raises(ValueError) as info:
                await session.request(method, server.make_url("/"))
            assert str(info.value) == message
        for value in (None, 1, b"x"):
            with pytest.raises(TypeError) as info:
                await session.get(server.make_url("/"), headers={"X-Value": value})
            assert str(info.value) == f"Cannot serialize non-str key {value!r}"
        async with session.request("propfind", server.make_url("/ok")) as resp:
            assert resp.method == "PROPFIND"
    assert seen == ["/ok"]


@pytest.mark.parametrize(("compress", "encoding"), [(1, "deflate"), (True, "deflate"), ("GZIP", "GZIP"), ("gzip", "gzip")])
async def test_compress_names_as_in_aiohttp(aiohttp_server, compress, encoding) -> None:
    # Any true value that is not a name means deflate; content codings are case-insensitive.
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()  # aiohttp.web decodes it per Content-Encoding
        return web.json_response({"encoding": request.headers.get("Content-Encoding"), "body": body.decode()})

    server = await aiohttp_server(_app(echo))
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/"), data=b"hello world", compress=compress) as resp:
            assert await resp.json() == {"encoding": encoding, "body": "hello world"}


async def test_connector_deprecated_ssl_arguments_warn_and_exclude_each_other() -> None:
    with pytest.warns(DeprecationWarning, match="verify_ssl is deprecated"):
        connector = aioclient.TCPConnector(verify_ssl=False)
    await connector.close()
    with pytest.warns(DeprecationWarning, match="fingerprint is deprecated"):
        with pytest.raises(ValueError, match="mutually exclusive"):
            aioclient.TCPConnector(ssl=False, fingerprint=b"\0" * 32)
