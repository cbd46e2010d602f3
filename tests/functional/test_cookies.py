"""The session's cookie jar against an aiohttp.web server."""

from __future__ import annotations

from aiohttp import web

from aioclient import ClientSession


async def _echo_cookie(request: web.Request) -> web.Response:
    return web.json_response({"cookie": request.headers.get("Cookie")})


async def test_session_cookies_are_all_sent(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/", _echo_cookie)
    server = await aiohttp_server(app)
    cookies = {f"c{i:02d}": "v" for i in range(60)}
    async with ClientSession(cookies=cookies) as session:
        assert len(session.cookie_jar) == 60
        async with session.get(server.url) as resp:
            sent = (await resp.json())["cookie"].split("; ")
    assert sorted(sent) == sorted(f"{k}=v" for k in cookies)
