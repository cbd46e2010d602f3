"""One benchmark measurement in this process: ``python clients.py CLIENT SCENARIO BASE_URL``.

Prints one JSON line: {"value": ..., "unit": ..., "peak_rss_mb": ...}. Every response
is checked (status and size), so a client that cuts corners fails instead of winning.
Loops are bounded by a request count and a time limit.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import ssl
import sys
import time

DURATION = float(os.environ.get("BENCH_SECONDS", "2.0"))
SMALL_SIZE = 100
MB = 1 << 20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the floor: no features at all ---------------------------------------------------


class _FloorProto(asyncio.Protocol):
    """Keep-alive connection sending one pre-built request, naive Content-Length scan."""

    def __init__(self) -> None:
        self.buf = b""
        self.waiter: asyncio.Future | None = None
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        i = self.buf.find(b"Content-Length: ")
        length = int(self.buf[i + 16 : self.buf.find(b"\r\n", i)])
        if len(self.buf) >= end + 4 + length:
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            self.waiter.set_result(body)


class Floor:
    def __init__(self, base: str, concurrency: int) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.request = f"GET /small HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        self.pool: list = []
        self.concurrency = concurrency

    async def setup(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.concurrency):
            _, proto = await loop.create_connection(_FloorProto, self.host, self.port)
            self.pool.append(proto)

    async def get_small(self) -> bytes:
        proto = self.pool.pop()
        proto.waiter = asyncio.get_running_loop().create_future()
        proto.transport.write(self.request)
        body = await proto.waiter
        self.pool.append(proto)
        return body

    async def close(self) -> None:
        for proto in self.pool:
            proto.transport.close()


# -- clients -----------------------------------------------------------------------


def make_session(client: str, concurrency: int, tls: bool, force_close: bool = False):
    ctx = None
    if tls:
        ctx = ssl.create_default_context(cafile=os.environ["BENCH_CA"])
    if client == "aioclient":
        import aioclient

        connector = aioclient.TCPConnector(limit=concurrency, force_close=force_close)
        return aioclient.ClientSession(connector=connector), None
    if client == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=concurrency, ssl=ctx if ctx else True, force_close=force_close)
        return aiohttp.ClientSession(connector=connector), None
    if client == "httpx":
        import httpx

        return httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency), verify=ctx if ctx else True), None
    raise SystemExit(f"unknown client {client}")


async def _get_bytes(client: str, session, url: str) -> bytes:
    if client == "httpx":
        r = await session.get(url)
        assert r.status_code == 200
        return r.content
    async with session.get(url) as r:
        assert r.status == 200, r.status
        return await r.read()


async def run_requests(client: str, base: str, concurrency: int, tls: bool) -> dict:
    url = base + "small"
    if client == "floor":
        floor = Floor(base, concurrency)
        await floor.setup()
        get = floor.get_small
    else:
        session, _ = make_session(client, concurrency, tls)

        async def get() -> bytes:
            return await _get_bytes(client, session, url)

    for _ in range(concurrency * 2):  # warm up the pool
        assert len(await get()) == SMALL_SIZE
    done = 0
    deadline = time.perf_counter() + DURATION
    limit = 2_000_000

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline and done < limit:
            body = await get()
            if len(body) != SMALL_SIZE:
                raise AssertionError(f"bad body size {len(body)}")
            done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    if client == "floor":
        await floor.close()
    elif client == "httpx":
        await session.aclose()
    else:
        await session.close()
    return {"value": done / elapsed, "unit": "req/s"}


async def run_handshakes(client: str, base: str) -> dict:
    """New HTTPS connections per second: one TLS handshake per request."""
    url = base + "small"
    session, _ = make_session(client, 1, True, force_close=True)
    n = 0
    start = time.perf_counter()
    deadline = start + DURATION
    while time.perf_counter() < deadline and n < 100_000:
        assert len(await _get_bytes(client, session, url)) == SMALL_SIZE
        n += 1
    elapsed = time.perf_counter() - start
    await (session.aclose() if client == "httpx" else session.close())
    return {"value": n / elapsed, "unit": "handshakes/s"}


async def run_stream(client: str, base: str) -> dict:
    url = base + "100mb.bin"
    session, _ = make_session(client, 1, False)
    total = 0
    start = time.perf_counter()
    if client == "httpx":
        async with session.stream("GET", url) as r:
            async for chunk in r.aiter_bytes(1 << 16):
                total += len(chunk)
        await session.aclose()
    else:
        async with session.get(url) as r:
            async for chunk in r.content.iter_chunked(1 << 16):
                total += len(chunk)
        await session.close()
    elapsed = time.perf_counter() - start
    assert total == 100 * MB, total
    return {"value": total / MB / elapsed, "unit": "MB/s"}


async def run_read_1mb(client: str, base: str) -> dict:
    url = base + "1mb.bin"
    session, _ = make_session(client, 1, False)
    n = 0
    start = time.perf_counter()
    deadline = start + DURATION
    while time.perf_counter() < deadline and n < 100_000:
        body = await _get_bytes(client, session, url)
        assert len(body) == MB
        n += 1
    elapsed = time.perf_counter() - start
    await (session.aclose() if client == "httpx" else session.close())
    return {"value": n * 1.0 / elapsed, "unit": "MB/s"}


async def run_post_1mb(client: str, base: str) -> dict:
    url = base + "upload"
    payload = os.urandom(MB)
    session, _ = make_session(client, 1, False)
    n = 0
    start = time.perf_counter()
    deadline = start + DURATION
    while time.perf_counter() < deadline and n < 100_000:
        if client == "httpx":
            r = await session.post(url, content=payload)
            assert r.status_code == 200
        else:
            async with session.post(url, data=payload) as r:
                assert r.status == 200
                await r.read()
        n += 1
    elapsed = time.perf_counter() - start
    await (session.aclose() if client == "httpx" else session.close())
    return {"value": n * 1.0 / elapsed, "unit": "MB/s"}


async def run_gzip_json(client: str, base: str) -> dict:
    url = base + "data.json"
    session, _ = make_session(client, 1, False)
    n = 0
    start = time.perf_counter()
    deadline = start + DURATION
    while time.perf_counter() < deadline and n < 100_000:
        if client == "httpx":
            r = await session.get(url)
            data = r.json()
        else:
            async with session.get(url) as r:
                assert r.headers.get("Content-Encoding") == "gzip"
                data = await r.json()
        assert len(data["items"]) == 2000
        n += 1
    elapsed = time.perf_counter() - start
    await (session.aclose() if client == "httpx" else session.close())
    return {"value": n / elapsed, "unit": "req/s"}


async def main(client: str, scenario: str, base: str) -> dict:
    if scenario == "seq":
        return await run_requests(client, base, 1, False)
    if scenario.startswith("conc"):
        return await run_requests(client, base, int(scenario[4:] or 100), False)
    if scenario == "https100":
        return await run_requests(client, base, 100, True)
    if scenario == "https_new":
        return await run_handshakes(client, base)
    if scenario == "stream":
        return await run_stream(client, base)
    if scenario == "read1mb":
        return await run_read_1mb(client, base)
    if scenario == "post1mb":
        return await run_post_1mb(client, base)
    if scenario == "gzipjson":
        return await run_gzip_json(client, base)
    raise SystemExit(f"unknown scenario {scenario}")


if __name__ == "__main__":
    client, scenario, base = sys.argv[1:4]
    if os.environ.get("BENCH_UVLOOP"):
        import uvloop

        uvloop.install()
    result = asyncio.run(main(client, scenario, base))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))
