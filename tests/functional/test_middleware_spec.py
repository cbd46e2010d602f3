"""The spec's middleware examples, run against aiohttp.web."""

from __future__ import annotations

import hashlib

from aiohttp import web

from aioclient import ClientHandlerType, ClientRequest, ClientResponse, ClientSession


async def test_onion_order_and_per_request_override(aiohttp_server) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app = web.Application()
    app.router.add_get("/", hello)
    server = await aiohttp_server(app)
    order = []

    def make(name):
        async def mw(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            order.append(f"enter {name}")
            resp = await handler(request)
            order.append(f"exit {name}")
            return resp

        return mw

    async with ClientSession(middlewares=(make("m1"), make("m2"))) as session:
        async with session.get(server.url) as r:
            assert await r.text() == "hi"
        assert order == ["enter m1", "enter m2", "exit m2", "exit m1"]
        order.clear()
        async with session.get(server.url, middlewares=(make("only"),)):
            pass
        assert order == ["enter only", "exit only"]
        order.clear()
        async with session.get(server.url, middlewares=()):
            pass
        assert order == []


async def test_auth_retry_middleware_from_spec(aiohttp_server) -> None:
    calls = []

    async def protected(request: web.Request) -> web.Response:
        calls.append(dict(request.headers))
        if "X-Signature" in request.headers:
            return web.Response(text="ok")
        return web.Response(status=401)

    app = web.Application()
    app.router.add_get("/api/data", protected)
    server = await aiohttp_server(app)

    async def auth_retry_middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        for attempt in range(3):
            if attempt == 0:
                request.headers["X-API-Key"] = "my-api-key"
            elif attempt == 1:
                request.headers["Authorization"] = "Bearer fallback-token"
            else:
                secret_key = "my-secret-key"
                url_path = str(request.url.path)
                signature = hashlib.sha256(f"{url_path}{secret_key}".encode()).hexdigest()
                request.headers["X-Signature"] = signature
            response = await handler(request)
            if response.status != 401:
                return response
        return response

    async with ClientSession(middlewares=(auth_retry_middleware,)) as session:
        async with session.get(server.make_url("/api/data")) as r:
            assert r.status == 200
            assert await r.text() == "ok"
    assert len(calls) == 3
    assert calls[0]["X-API-Key"] == "my-api-key"
    assert calls[1]["Authorization"] == "Bearer fallback-token"
    assert calls[2]["X-Signature"] == hashlib.sha256(b"/api/datamy-secret-key").hexdigest()


async def test_retry_class_middleware_and_inner_requests(aiohttp_server) -> None:
    attempts = {"n": 0}
    logged = []

    async def flaky(request: web.Request) -> web.Response:
        attempts["n"] += 1
        return web.Response(status=503 if attempts["n"] < 3 else 200, text="x")

    async def log(request: web.Request) -> web.Response:
        logged.append(await request.json())
        return web.Response(text="logged")

    app = web.Application()
    app.router.add_get("/flaky", flaky)
    app.router.add_post("/log", log)
    server = await aiohttp_server(app)

    class RetryMiddleware:
        def __init__(self, max_retries: int = 3):
            self.max_retries = max_retries

        async def __call__(self, request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            retry_count = 0
            while retry_count <= self.max_retries:
                response = await handler(request)
                if 200 <= response.status < 400 or retry_count >= self.max_retries:
                    return response
                if response.status in (401, 429, 500, 502, 503, 504):
                    retry_count += 1
                    continue
                return response
            return response

    async def log_middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        async with request.session.post(
            server.make_url("/log"), json={"url": str(request.url)}, middlewares=()
        ) as resp:
            assert resp.status == 200
        return await handler(request)

    async with ClientSession(middlewares=(log_middleware, RetryMiddleware())) as session:
        async with session.get(server.make_url("/flaky")) as r:
            assert r.status == 200
    assert attempts["n"] == 3
    assert logged == [{"url": str(server.make_url("/flaky"))}]


async def test_middleware_runs_on_each_redirect_hop(aiohttp_server) -> None:
    async def start(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/end"})

    async def end(request: web.Request) -> web.Response:
        return web.Response(text=request.headers.get("X-Hop", ""))

    app = web.Application()
    app.router.add_get("/start", start)
    app.router.add_get("/end", end)
    server = await aiohttp_server(app)
    seen = []

    async def content_type_middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        seen.append(request.url.path)
        request.headers["X-Hop"] = request.url.path
        if request.method == "POST":
            request.headers["X-Request-ID"] = f"post-{id(request)}"
        return await handler(request)

    async with ClientSession(middlewares=(content_type_middleware,)) as session:
        async with session.get(server.make_url("/start")) as r:
            assert await r.text() == "/end"
    assert seen == ["/start", "/end"]


async def test_a_middleware_reads_the_body_as_a_payload(aiohttp_server) -> None:
    # A signing middleware, as written for aiohttp: request.body is a Payload (b"" when
    # there is none), read with as_bytes(); the body sent is unchanged.
    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=f"{request.headers.get('X-Digest')} {await request.text()}")

    async def sign(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        body = request.body
        data = b"" if body == b"" else await body.as_bytes()
        request.headers["X-Digest"] = hashlib.sha256(data).hexdigest()[:8]
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/", echo)
    server = await aiohttp_server(app)
    async with ClientSession(middlewares=(sign,)) as session:
        async with session.post(server.make_url("/"), data=b"payload") as resp:
            assert await resp.text() == f"{hashlib.sha256(b'payload').hexdigest()[:8]} payload"
        async with session.get(server.make_url("/")) as resp:
            assert await resp.text() == f"{hashlib.sha256(b'').hexdigest()[:8]} "
