"""Digest authentication (RFC 7616) against httpbin and an aiohttp.web handler."""

from __future__ import annotations

import hashlib

import pytest
from aiohttp import web

from aioclient import ClientSession, DigestAuthMiddleware
from aioclient.auth import parse_challenge

from .httpbin_server import httpbin_url  # noqa: F401  (fixture)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "SHA-512"])
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
async def test_httpbin_digest(httpbin_url, algorithm, qop) -> None:  # noqa: F811
    digest_auth = DigestAuthMiddleware(login="user", password="passwd")
    async with ClientSession(middlewares=(digest_auth,)) as session:
        url = f"{httpbin_url}/digest-auth/{qop}/user/passwd/{algorithm}"
        async with session.get(url) as resp:
            assert resp.status == 200, await resp.text()
            assert await resp.json() == {"authenticated": True, "user": "user"}
        # The next request answers the known challenge at once, counting the nonce.
        async with session.get(url) as resp:
            assert resp.status == 200


async def test_httpbin_wrong_password_is_bounded(httpbin_url) -> None:  # noqa: F811
    digest_auth = DigestAuthMiddleware(login="user", password="wrong")
    async with ClientSession(middlewares=(digest_auth,)) as session:
        async with session.get(f"{httpbin_url}/digest-auth/auth/user/passwd/MD5") as resp:
            assert resp.status == 401


def _H(algorithm: str, data: str) -> str:
    name = {"MD5": "md5", "SHA": "sha1", "SHA-256": "sha256", "SHA-512": "sha512", "SHA256": "sha256", "SHA512": "sha512"}[
        algorithm.upper().replace("-SESS", "")
    ]
    return hashlib.new(name, data.encode()).hexdigest()


def _digest_app(algorithm: str, *, userhash: bool = False, stale_first: bool = False, record: list) -> web.Application:
    """A strict RFC 7616 verifier for the variants httpbin lacks."""
    state = {"stale_sent": False, "nonce": 0}

    async def protected(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        body = await request.read()
        state["nonce"] += 0
        nonce = f"n{state['nonce']}"
        challenge = f'Digest realm="test", nonce="{nonce}", qop="auth,auth-int", algorithm={algorithm}, opaque="op"'
        if userhash:
            challenge += ", userhash=true"
        if not auth.startswith("Digest "):
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        params = parse_challenge(auth)
        record.append(params)
        if stale_first and not state["stale_sent"]:
            state["stale_sent"] = True
            state["nonce"] += 1
            return web.Response(status=401, headers={"WWW-Authenticate": f'Digest realm="test", nonce="n{state["nonce"]}", qop="auth", algorithm={algorithm}, opaque="op", stale=true'})
        user = params["username"]
        if userhash:
            assert params.get("userhash") == "true"
            assert user == _H(algorithm, "alice:test")
        else:
            assert user == "alice"
        assert params["opaque"] == "op"
        ha1 = _H(algorithm, "alice:test:secret")
        if algorithm.upper().endswith("-SESS"):
            ha1 = _H(algorithm, f"{ha1}:{params['nonce']}:{params['cnonce']}")
        if params["qop"] == "auth-int":
            ha2 = _H(algorithm, f"{request.method}:{params['uri']}:{_H(algorithm, body.decode('latin-1'))}")
        else:
            ha2 = _H(algorithm, f"{request.method}:{params['uri']}")
        expected = _H(algorithm, f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}")
        if params["response"] != expected:
            return web.Response(status=401, headers={"WWW-Authenticate": challenge})
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/p", protected)
    return app


@pytest.mark.parametrize(
    "algorithm",
    ["MD5", "MD5-sess", "SHA", "SHA-sess", "SHA-256", "SHA-256-sess", "SHA-512", "SHA-512-sess",
     "SHA256", "SHA512", "SHA256-SESS", "SHA512-SESS"],
)
async def test_every_algorithm(aiohttp_server, algorithm) -> None:
    record: list = []
    server = await aiohttp_server(_digest_app(algorithm, record=record))
    async with ClientSession(middlewares=(DigestAuthMiddleware("alice", "secret"),)) as session:
        async with session.post(server.make_url("/p"), data=b"body") as r:
            assert r.status == 200
        async with session.get(server.make_url("/p")) as r:
            assert r.status == 200
    assert [p["nc"] for p in record] == ["00000001", "00000002"]


async def test_userhash_and_stale(aiohttp_server) -> None:
    record: list = []
    server = await aiohttp_server(_digest_app("SHA-256", userhash=True, record=record))
    async with ClientSession(middlewares=(DigestAuthMiddleware("alice", "secret"),)) as session:
        async with session.get(server.make_url("/p")) as r:
            assert r.status == 200
    record.clear()
    server = await aiohttp_server(_digest_app("MD5", stale_first=True, record=record))
    async with ClientSession(middlewares=(DigestAuthMiddleware("alice", "secret"),)) as session:
        async with session.get(server.make_url("/p")) as r:
            assert r.status == 200
    assert [p["nonce"] for p in record] == ["n0", "n1"]


async def test_server_that_always_answers_401(aiohttp_server) -> None:
    calls = []

    async def never(request: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=401, headers={"WWW-Authenticate": f'Digest realm="x", nonce="{len(calls)}", qop="auth", stale=true'})

    app = web.Application()
    app.router.add_get("/", never)
    server = await aiohttp_server(app)
    async with ClientSession(middlewares=(DigestAuthMiddleware("a", "b"),)) as session:
        async with session.get(server.url) as r:
            assert r.status == 401
    assert len(calls) <= 3


async def test_auth_int_is_chosen_when_both_are_offered(aiohttp_server) -> None:
    record: list = []
    server = await aiohttp_server(_digest_app("SHA-256", record=record))
    async with ClientSession(middlewares=(DigestAuthMiddleware("alice", "secret"),)) as session:
        async with session.post(server.make_url("/p"), data=b"entity") as r:  # the verifier hashes the body
            assert r.status == 200
        async with session.put(server.make_url("/p"), json={"k": "v"}) as r:
            assert r.status == 200
    assert [p["qop"] for p in record] == ["auth-int", "auth-int"]


def _challenging_app(seen: list, *, domain: str = "") -> web.Application:
    """Asks for Digest credentials on every path and records what it was sent."""

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("Authorization")))
        if request.path.startswith("/go"):
            raise web.HTTPFound(request.query["to"])
        if "Authorization" in request.headers:
            return web.Response(text="ok")
        challenge = 'Digest realm="r", nonce="n1", qop="auth"' + (f', domain="{domain}"' if domain else "")
        return web.Response(status=401, headers={"WWW-Authenticate": challenge})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def test_credentials_stay_with_the_first_origin(aiohttp_server) -> None:
    trusted_seen: list = []
    other_seen: list = []
    trusted = await aiohttp_server(_challenging_app(trusted_seen))
    other = await aiohttp_server(_challenging_app(other_seen))
    async with ClientSession(middlewares=(DigestAuthMiddleware("user", "secret"),)) as session:
        async with session.get(trusted.make_url("/")) as r:
            assert r.status == 200
        async with session.get(other.make_url("/x")) as r:  # challenges: not answered
            assert r.status == 401
        async with session.get(trusted.make_url("/go").with_query(to=str(other.make_url("/y")))) as r:
            assert r.status == 401  # nor after a redirect
        async with session.get(trusted.make_url("/again")) as r:
            assert r.status == 200
    assert other_seen == [("/x", None), ("/y", None)]
    assert [auth is not None for _, auth in trusted_seen] == [False, True, True, True]


async def test_challenge_domain_widens_the_protection_space(aiohttp_server) -> None:
    other_seen: list = []
    other = await aiohttp_server(_challenging_app(other_seen))
    trusted = await aiohttp_server(_challenging_app([], domain=f"/ {other.make_url('/shared')}"))
    async with ClientSession(middlewares=(DigestAuthMiddleware("user", "secret"),)) as session:
        async with session.get(trusted.make_url("/")) as r:
            assert r.status == 200
        async with session.get(other.make_url("/shared/a")) as r:  # named by domain=
            assert r.status == 200
        async with session.get(other.make_url("/sharedx")) as r:
            assert r.status == 401
    assert [(path, auth is not None) for path, auth in other_seen] == [("/shared/a", True), ("/sharedx", False)]
