"""Response header parsing over real sockets, matched to what aiohttp 3.14.5's client gives.

The server is aiohttp.web; each handler sends the header under test as written.
"""

from __future__ import annotations

from typing import List, Tuple

import pytest
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

import aioclient
from aioclient import hdrs
from aioclient.helpers import BadContentDispositionHeader


def _app(headers: List[Tuple[str, str]], echo_cookie: bool = False) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        body = request.headers.get(hdrs.COOKIE, "") if echo_cookie else ""
        return web.Response(body=body.encode(), headers=CIMultiDict(headers))

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def _get(aiohttp_server, headers: List[Tuple[str, str]]) -> aioclient.ClientResponse:
    server = await aiohttp_server(_app(headers))
    timeout = aioclient.ClientTimeout(total=5)
    async with aioclient.ClientSession(timeout=timeout) as session:
        async with session.get(server.make_url("/")) as resp:
            await resp.read()
    return resp


async def test_content_disposition_rfc5987_filename(aiohttp_server) -> None:
    resp = await _get(aiohttp_server, [(hdrs.CONTENT_DISPOSITION, "attachment; filename*=UTF-8''%e2%82%ac%20rates.txt")])
    cd = resp.content_disposition
    assert cd is not None
    assert (cd.type, dict(cd.parameters), cd.filename) == ("attachment", {"filename*": "€ rates.txt"}, "€ rates.txt")


async def test_content_disposition_extended_filename_wins(aiohttp_server) -> None:
    header = "attachment; filename=\"fallback.txt\"; filename*=UTF-8''real.txt"
    resp = await _get(aiohttp_server, [(hdrs.CONTENT_DISPOSITION, header)])
    cd = resp.content_disposition
    assert cd is not None
    assert dict(cd.parameters) == {"filename": "fallback.txt", "filename*": "real.txt"}
    assert cd.filename == "real.txt"


@pytest.mark.parametrize("header", ["attachment; filename=", "attachment; filename=foo bar.txt"])
async def test_malformed_content_disposition_warns(aiohttp_server, header) -> None:
    resp = await _get(aiohttp_server, [(hdrs.CONTENT_DISPOSITION, header)])
    with pytest.warns(BadContentDispositionHeader):
        cd = resp.content_disposition
    assert cd is not None
    assert (cd.type, dict(cd.parameters), cd.filename) == (None, {}, None)


async def test_links_comma_inside_quoted_parameter(aiohttp_server) -> None:
    resp = await _get(aiohttp_server, [(hdrs.LINK, '<http://e.com/p2>; title="a, b"; rel="next"')])
    links = {rel: dict(link) for rel, link in resp.links.items()}
    assert links == {"next": {"title": "a, b", "rel": "next", "url": URL("http://e.com/p2")}}


async def test_set_cookie_non_ascii_and_comma_values(aiohttp_server) -> None:
    server = await aiohttp_server(_app([(hdrs.SET_COOKIE, "name=café; Path=/"), (hdrs.SET_COOKIE, "a=1, b=2; Path=/")], True))
    jar = aioclient.CookieJar(unsafe=True)  # the server is 127.0.0.1
    async with aioclient.ClientSession(cookie_jar=jar, timeout=aioclient.ClientTimeout(total=5)) as session:
        async with session.get(server.make_url("/first")) as resp:
            assert {k: m.value for k, m in resp.cookies.items()} == {"name": "café", "a": "1, b=2"}
        assert sorted((m.key, m.value) for m in jar) == [("a", "1, b=2"), ("name", "café")]
        async with session.get(server.make_url("/second")) as resp:
            sent = await resp.text()
    # Quoted by the SimpleCookie rules, as aiohttp sends them (aiohttp orders by name).
    assert sorted(sent.split("; ")) == ['a="1\\054 b=2"', 'name="caf\\351"']


@pytest.mark.parametrize(
    "header, content_type, charset",
    [
        ("weird", "application/octet-stream", None),
        ("text/html; charset=", "text/html", None),
        ("application/ld+json; charset=UTF-8", "application/ld+json", "UTF-8"),
    ],
)
async def test_content_type_and_charset(aiohttp_server, header, content_type, charset) -> None:
    resp = await _get(aiohttp_server, [(hdrs.CONTENT_TYPE, header)])
    assert (resp.content_type, resp.charset) == (content_type, charset)
