"""Redirects: history, method rewriting, credential rules, against aiohttp.web."""

from __future__ import annotations

import pytest
from aiohttp import web
from yarl import URL

import aioclient


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "path": request.path_qs,
            "headers": dict(request.headers),
            "body": body.decode("latin-1"),
        }
    )


def _redirect(status: int, location: str):
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, headers={"Location": location}, body=b"\x1f\x8bnot really gzip", content_type="text/plain")

    return handler


async def test_history(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/some/redirect/", _redirect(301, "/some/other/url/"))
    app.router.add_get("/some/other/url/", _echo)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        resp = await session.get(server.make_url("/some/redirect/"))
        assert resp.status == 200
        assert resp.url == server.make_url("/some/other/url/")
        assert len(resp.history) == 1
        assert resp.history[0].status == 301
        assert resp.history[0].url == server.make_url("/some/redirect/")
        resp.release()
        resp = await session.get(server.make_url("/some/redirect/"), allow_redirects=False)
        assert resp.status == 301
        assert resp.history == ()
        resp.release()


@pytest.mark.parametrize(("status", "method", "expected"), [
    (301, "POST", "GET"), (302, "POST", "GET"), (303, "POST", "GET"), (303, "PUT", "GET"),
    (301, "PUT", "PUT"), (302, "DELETE", "DELETE"), (307, "POST", "POST"), (308, "PUT", "PUT"),
])
async def test_method_and_body_rules(aiohttp_server, status, method, expected) -> None:
    app = web.Application()
    app.router.add_route("*", "/from", _redirect(status, "/to"))
    app.router.add_route("*", "/to", _echo)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.request(method, server.make_url("/from"), data=b"payload", headers={"Content-Type": "text/plain"}) as r:
            seen = await r.json()
    assert seen["method"] == expected
    if expected == "GET":
        assert seen["body"] == ""
        # As aiohttp: the body's framing goes with it; the caller's Content-Type stays.
        assert seen["headers"]["Content-Type"] == "text/plain"
        assert "Content-Length" not in seen["headers"]
        assert "Transfer-Encoding" not in seen["headers"]
    else:
        assert seen["body"] == "payload"
        assert seen["headers"]["Content-Type"] == "text/plain"


async def test_307_with_stream_body_is_clear_error(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_route("*", "/from", _redirect(307, "/to"))
    app.router.add_route("*", "/to", _echo)
    server = await aiohttp_server(app)

    async def gen():
        yield b"once"

    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientPayloadError) as info:
            await session.post(server.make_url("/from"), data=gen())
    assert str(info.value) == (
        "Cannot follow redirect with a consumed request body. Use bytes, a "
        "seekable file-like object, or set allow_redirects=False."
    )


async def test_consumed_body_is_checked_before_the_location(aiohttp_server) -> None:
    # aiohttp checks the body before looking for a Location: a 307 without one fails too.
    async def no_location(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=307, text="no location")

    app = web.Application()
    app.router.add_post("/from", no_location)
    server = await aiohttp_server(app)

    async def gen():
        yield b"once"

    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.ClientPayloadError, match="consumed request body"):
            await session.post(server.make_url("/from"), data=gen())
        async with session.post(server.make_url("/from"), data=gen(), allow_redirects=False) as r:
            assert r.status == 307


async def test_too_many_redirects(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/loop", _redirect(302, "/loop"))
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.TooManyRedirects) as info:
            await session.get(server.make_url("/loop"), max_redirects=3)
    assert len(info.value.history) == 3


async def test_relative_and_protocol_relative_locations(aiohttp_server) -> None:
    app = web.Application()
    server_holder = {}

    async def protocol_relative(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": f"//{server_holder['authority']}/target?x=1"})

    app.router.add_get("/a/b", _redirect(302, "../target"))
    app.router.add_get("/pr", protocol_relative)
    app.router.add_get("/target", _echo)
    server = await aiohttp_server(app)
    server_holder["authority"] = server.url.raw_authority
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/a/b")) as r:
            assert (await r.json())["path"] == "/target"
        async with session.get(server.make_url("/pr")) as r:
            assert (await r.json())["path"] == "/target?x=1"


async def test_a_location_with_the_current_scheme_and_no_authority_is_relative(aiohttp_server) -> None:
    # "http:/final" and "http:final" name a path on the current server, as browsers and
    # aiohttp read them; another scheme without an authority is no URL to follow.
    app = web.Application()
    app.router.add_get("/dir/abs", _redirect(302, "http:/final"))
    app.router.add_get("/dir/rel", _redirect(302, "http:final?x=1"))
    app.router.add_get("/dir/other", _redirect(302, "https:/final"))
    app.router.add_get("/final", _echo)
    app.router.add_get("/dir/final", _echo)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/dir/abs")) as r:
            assert r.url == server.make_url("/final")
            assert (await r.json())["path"] == "/final"
        async with session.get(server.make_url("/dir/rel")) as r:
            assert (await r.json())["path"] == "/dir/final?x=1"
            assert len(r.history) == 1
        with pytest.raises(aioclient.InvalidUrlRedirectClientError):
            await session.get(server.make_url("/dir/other"))


async def test_bad_locations(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/ftp", _redirect(302, "ftp://example.com/file"))
    app.router.add_get("/bad", _redirect(302, "http://[bad"))
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.NonHttpUrlRedirectClientError):
            await session.get(server.make_url("/ftp"))
        with pytest.raises(aioclient.InvalidUrlRedirectClientError):
            await session.get(server.make_url("/bad"))


async def test_a_host_no_request_can_have_is_a_redirect_error_on_both_paths(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/space", _redirect(302, "http://exa mple.com/"))
    app.router.add_get("/ok", _echo)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/ok")) as r:  # a pooled connection for the fast path
            await r.read()
        for kwargs in ({}, {"headers": {"X": "general path"}}):
            with pytest.raises(aioclient.InvalidUrlRedirectClientError) as info:
                await session.get(server.make_url("/space"), **kwargs)
            assert str(info.value) == "http://exa mple.com/ - Invalid character in host"


async def test_an_unquoted_location_that_cannot_be_sent_is_a_redirect_error(aiohttp_server) -> None:
    # requote_redirect_url=False sends the Location as given: one with a space or a
    # control character cannot be a request target. The server chose it, so it is a
    # ClientError (aiohttp sends the broken request line), not the ValueError a
    # caller's own bad URL gets.
    app = web.Application()
    app.router.add_get("/space", _redirect(302, "/x y"))
    app.router.add_get("/ok", _echo)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(requote_redirect_url=False) as session:
        with pytest.raises(aioclient.InvalidUrlRedirectClientError, match="x y"):
            await session.get(server.make_url("/space"))
    async with aioclient.ClientSession() as session:  # requoted: it is /x%20y
        async with session.get(server.make_url("/space")) as r:
            assert r.status == 404 and r.url.raw_path == "/x%20y"


async def test_redirect_without_location_is_returned(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        headers = {"Location": ""} if "empty" in request.query else {}
        return web.Response(status=302, text="no location", headers=headers)

    app = web.Application()
    app.router.add_get("/x", handler)
    app.router.add_get("/hop", _redirect(301, "/x"))
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        for path in ("/x", "/x?empty=1", "/x"):  # the third one on the fast path
            async with session.get(server.make_url(path)) as r:
                assert r.status == 302
                assert await r.text() == "no location"
                # As aiohttp: the response counts as a redirect, in its own history.
                assert r.history == (r,)
        async with session.get(server.make_url("/hop"), headers={"X": "general path"}) as r:
            assert [h.status for h in r.history] == [301, 302]
            assert r.history[-1] is r
            assert await r.text() == "no location"
        # And it counts against max_redirects.
        with pytest.raises(aioclient.TooManyRedirects) as info:
            await session.get(server.make_url("/hop"), max_redirects=2)
        assert [h.status for h in info.value.history] == [301, 302]


async def test_redirect_url_errors_name_the_parsed_url(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/https", _redirect(302, "https:"))
    app.router.add_get("/empty-host", _redirect(302, "http:///path"))
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        with pytest.raises(aioclient.InvalidUrlRedirectClientError) as info:
            await session.get(server.make_url("/https"))
        # As aiohttp: the URL as parsed, not the Location as sent.
        assert info.value.url == URL("https://")
        assert str(info.value) == "https:// - Invalid redirect URL origin"
        with pytest.raises(aioclient.InvalidUrlRedirectClientError) as info:
            await session.get(server.make_url("/empty-host"))
        assert info.value.url == URL("http:///path")
        assert info.value.description == "Invalid redirect URL origin"


async def test_credentials_dropped_across_origins_and_not_restored(aiohttp_server) -> None:
    """A→B→A: Authorization and Cookie set for A never reach B, nor come back for A."""
    a_app, b_app = web.Application(), web.Application()
    seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.host, request.path, request.headers.get("Authorization"), request.headers.get("Cookie")))
        return web.json_response({})

    holder = {}

    async def a_start(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=302, headers={"Location": str(holder["b"].make_url("/hop"))})

    async def b_hop(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=302, headers={"Location": str(holder["a"].make_url("/end"))})

    a_app.router.add_get("/start", a_start)
    a_app.router.add_get("/end", record)
    b_app.router.add_get("/hop", b_hop)
    holder["a"] = await aiohttp_server(a_app)
    holder["b"] = await aiohttp_server(b_app)
    async with aioclient.ClientSession() as session:
        async with session.get(
            holder["a"].make_url("/start"),
            headers={"Authorization": "Bearer secret"},
            cookies={"sid": "abc"},
        ) as r:
            assert r.status == 200
            assert len(r.history) == 2
    assert seen[0][2:] == ("Bearer secret", "sid=abc")
    assert seen[1][2:] == (None, None)
    assert seen[2][2:] == (None, None)


async def test_auth_dropped_on_other_port_kept_on_same_origin(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/from", _redirect(302, "/to"))
    app.router.add_get("/to", _echo)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/from"), auth=aioclient.BasicAuth("u", "p")) as r:
            seen = await r.json()
    assert seen["headers"]["Authorization"] == aioclient.BasicAuth("u", "p").encode()


async def test_credentials_in_redirect_url_supersede(aiohttp_server) -> None:
    app = web.Application()
    holder = {}

    async def start(request: web.Request) -> web.Response:
        url = holder["s"].make_url("/to").with_user("other_user").with_password("pw2")
        return web.Response(status=302, headers={"Location": str(url)})

    app.router.add_get("/from", start)
    app.router.add_get("/to", _echo)
    holder["s"] = server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        url = server.make_url("/from").with_user("user").with_password("pw1")
        async with session.get(url) as r:
            seen = await r.json()
    assert seen["headers"]["Authorization"] == aioclient.BasicAuth("other_user", "pw2").encode()


async def test_auth_and_url_credentials_is_value_error() -> None:
    async with aioclient.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get("http://user:pass@127.0.0.1:1/", auth=aioclient.BasicAuth("a", "b"))


async def test_session_cookie_sharing_like_the_spec(aiohttp_server) -> None:
    async def set_cookie(request: web.Request) -> web.Response:
        resp = web.Response(status=302, headers={"Location": "/cookies"})
        resp.set_cookie("my_cookie", request.query["my_cookie"])
        return resp

    async def cookies(request: web.Request) -> web.Response:
        return web.json_response({"cookies": dict(request.cookies)})

    app = web.Application()
    app.router.add_get("/cookies/set", set_cookie)
    app.router.add_get("/cookies", cookies)
    server = await aiohttp_server(app)
    jar = aioclient.CookieJar(unsafe=True)  # the test server is an IP address
    async with aioclient.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.make_url("/cookies/set?my_cookie=my_value"), allow_redirects=False) as resp:
            assert resp.cookies["my_cookie"].value == "my_value"
        async with session.get(server.make_url("/cookies")) as r:
            json_body = await r.json()
            assert json_body["cookies"]["my_cookie"] == "my_value"
    # The default jar refuses cookies from IP-address hosts (RFC 2109).
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/cookies/set?my_cookie=v"), allow_redirects=False):
            pass
        async with session.get(server.make_url("/cookies")) as r:
            assert (await r.json())["cookies"] == {}


async def test_session_cookies_seed_the_jar(aiohttp_server) -> None:
    async def cookies(request: web.Request) -> web.Response:
        return web.json_response({"cookies": dict(request.cookies)})

    app = web.Application()
    app.router.add_get("/cookies", cookies)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(cookies={"cookies_are": "working"}) as session:
        async with session.get(server.make_url("/cookies")) as resp:
            assert await resp.json() == {"cookies": {"cookies_are": "working"}}


async def test_response_cookies_are_last_hop_only(aiohttp_server) -> None:
    async def first(request: web.Request) -> web.Response:
        resp = web.Response(status=302, headers={"Location": "/second"})
        resp.set_cookie("first", "1")
        return resp

    async def second(request: web.Request) -> web.Response:
        resp = web.Response(text="done")
        resp.set_cookie("second", "2")
        return resp

    app = web.Application()
    app.router.add_get("/first", first)
    app.router.add_get("/second", second)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(cookie_jar=aioclient.CookieJar(unsafe=True)) as session:
        async with session.get(server.make_url("/first")) as r:
            assert set(r.cookies) == {"second"}
        names = {c.key for c in session.cookie_jar}
        assert names == {"first", "second"}


async def test_dummy_cookie_jar_stores_nothing(aiohttp_server) -> None:
    async def setc(request: web.Request) -> web.Response:
        resp = web.Response(text="x")
        resp.set_cookie("a", "1")
        return resp

    app = web.Application()
    app.router.add_get("/set", setc)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession(cookie_jar=aioclient.DummyCookieJar()) as session:
        async with session.get(server.make_url("/set")) as r:
            assert r.cookies["a"].value == "1"
        assert len(session.cookie_jar) == 0


async def test_session_auth_follows_a_redirect_to_another_origin(aiohttp_server) -> None:
    """As aiohttp: a hop to another origin drops the request's credentials, then the
    session's auth applies to it as to any request (not outside ``base_url``)."""
    seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({})

    holder = {}

    async def start(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(status=302, headers={"Location": str(holder["b"].make_url("/end"))})

    a_app, b_app = web.Application(), web.Application()
    a_app.router.add_get("/start", start)
    b_app.router.add_get("/end", record)
    holder["a"] = a = await aiohttp_server(a_app)
    holder["b"] = await aiohttp_server(b_app)
    session_auth = aioclient.BasicAuth("session", "s")
    request_auth = aioclient.BasicAuth("request", "r")
    async with aioclient.ClientSession(auth=session_auth) as session:
        async with session.get(a.make_url("/start")):
            pass
        async with session.get(a.make_url("/start"), auth=request_auth):
            pass
    assert seen == [session_auth.encode(), session_auth.encode(), request_auth.encode(), session_auth.encode()]
    seen.clear()
    async with aioclient.ClientSession(str(a.url), auth=session_auth) as session:
        async with session.get("/start"):
            pass
    assert seen == [session_auth.encode(), None]


async def test_netrc_is_read_for_each_hop(aiohttp_server, tmp_path, monkeypatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost\nlogin nu\npassword np\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    holder = {}

    async def start(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": str(holder["to"])})

    app = web.Application()
    app.router.add_get("/start", start)
    app.router.add_get("/end", _echo)
    server = await aiohttp_server(app)
    holder["to"] = server.make_url("/end").with_host("localhost")
    async with aioclient.ClientSession(trust_env=True) as session:
        async with session.get(server.make_url("/start")) as r:
            seen = await r.json()
    assert seen["headers"]["Authorization"] == aioclient.BasicAuth("nu", "np").encode()


async def test_authorization_header_and_redirect_url_credentials_is_value_error(aiohttp_server) -> None:
    holder = {}

    async def start(request: web.Request) -> web.Response:
        url = holder["s"].make_url("/to").with_user("other_user").with_password("pw2")
        return web.Response(status=302, headers={"Location": str(url)})

    app = web.Application()
    app.router.add_get("/from", start)
    app.router.add_get("/to", _echo)
    holder["s"] = server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        with pytest.raises(ValueError, match="Cannot combine AUTHORIZATION header"):
            await session.get(server.make_url("/from"), headers={"Authorization": "Bearer x"})
