"""One benchmark measurement in this process: ``python clients.py CLIENT SCENARIO BASE_URL``.

Prints one JSON line: {"value": ..., "unit": ..., "peak_rss_mb": ...}. Every response
is checked (status and size), so a client that cuts corners fails instead of winning.
Loops are bounded by a request count and a time limit.
"""

from __future__ import annotations

import asyncio
import collections
import ctypes
import importlib
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


def current_rss_kb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024


# -- the floor: no features at all ---------------------------------------------------


def _page_aligned(size: int) -> memoryview:
    """A read buffer of ``size`` bytes starting on a page boundary, as aioclient's: the
    kernel's copy from page-aligned socket buffers into a large bytearray (an mmap, its
    data 16 bytes into a page) ran several times slower here."""
    raw = bytearray(size + 4096)
    start = -ctypes.addressof(ctypes.c_char.from_buffer(raw)) % 4096
    return memoryview(raw)[start : start + size]


class _FloorProto(asyncio.BufferedProtocol):
    """Keep-alive connection sending one pre-built request, naive Content-Length scan.

    A buffered protocol reading into one reused buffer: a plain ``Protocol`` under the
    default loop gets a fresh 256 KiB ``bytes`` per read, which glibc may serve with
    mmap/munmap each time; that is allocator noise, not the loop's cost.
    """

    def __init__(self) -> None:
        self.read_buffer = _page_aligned(1 << 16)
        self.buf = b""
        self.waiter: asyncio.Future | None = None
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.buf += self.read_buffer[:nbytes]
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        i = self.buf.find(b"Content-Length: ")
        length = int(self.buf[i + 16 : self.buf.find(b"\r\n", i)])
        if len(self.buf) >= end + 4 + length:
            body = bytes(self.buf[end + 4 : end + 4 + length])
            self.buf = self.buf[end + 4 + length :]
            self.waiter.set_result(body)


class _FloorStreamProto(asyncio.BufferedProtocol):
    """A download with no features: reads of 128 KiB (aioclient's default read size)
    into one reused buffer, each copied out as 64 KiB ``bytes`` for the consumer, the
    head skipped by a naive Content-Length scan. Reading pauses above a read's worth
    unconsumed, as aioclient's does by default: uvloop (libuv) reads up to 32 times per wake-up, and without a pause the
    pieces piled up to 4 MB, out of cache, and made the floor slower than the clients."""

    def __init__(self) -> None:
        self.read_buffer = _page_aligned(1 << 17)
        self.pieces: collections.deque = collections.deque()
        self.head = b""
        self.left = 0  # body bytes still to come
        self.paused = False
        self.waiter: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = self.read_buffer[:nbytes]
        if not self.left:  # a head, whole in the first read
            end = bytes(data).find(b"\r\n\r\n")
            i = bytes(data).find(b"Content-Length: ")
            self.left = int(bytes(data[i + 16 : bytes(data).find(b"\r\n", i)]))
            data = data[end + 4 :]
        for start in range(0, len(data), 1 << 16):
            self.pieces.append(bytes(data[start : start + (1 << 16)]))
        self.left -= len(data)
        if len(self.pieces) > 2 and not self.paused:
            self.paused = True
            self.transport.pause_reading()
        if self.waiter is not None:
            self.waiter.set_result(None)
            self.waiter = None


class Floor:
    def __init__(self, base: str, concurrency: int) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.request = f"GET /small HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        self.pool: list = []
        self.concurrency = concurrency

    async def setup(self) -> None:
        # Kept: asyncio.get_running_loop() costs a getpid() system call per request.
        loop = self.loop = asyncio.get_running_loop()
        for _ in range(self.concurrency):
            _, proto = await loop.create_connection(_FloorProto, self.host, self.port)
            self.pool.append(proto)

    async def get_small(self) -> bytes:
        proto = self.pool.pop()
        proto.waiter = self.loop.create_future()
        proto.transport.write(self.request)
        body = await proto.waiter
        self.pool.append(proto)
        return body

    async def stream(self, url: str) -> int:
        if not self.pool:
            _, proto = await self.loop.create_connection(_FloorStreamProto, self.host, self.port)
            self.pool.append(proto)
        proto = self.pool[0]
        path = url.split(str(self.port), 1)[1]
        proto.transport.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        total = 0
        while True:
            while proto.pieces:
                total += len(proto.pieces.popleft())
            if proto.paused:
                proto.paused = False
                proto.transport.resume_reading()
            if not proto.left and total:
                return total
            proto.waiter = self.loop.create_future()
            await proto.waiter

    async def close(self) -> None:
        for proto in self.pool:
            proto.transport.close()


# -- clients -----------------------------------------------------------------------
#
# Each peer behind one small interface: get(url) -> body bytes, stream(url) -> bytes
# counted over 64 KiB chunks, post(url, data), get_json(url), close(). Every call checks
# the status, so a client that fails a request cannot look fast.


class AiohttpStyle:
    """aioclient and aiohttp: the same API."""

    def __init__(self, module, concurrency: int, tls: bool, force_close: bool) -> None:
        kwargs = {"limit": concurrency, "force_close": force_close}
        if tls and module.__name__ == "aiohttp":
            kwargs["ssl"] = ssl.create_default_context(cafile=os.environ["BENCH_CA"])
        self.session = module.ClientSession(connector=module.TCPConnector(**kwargs))

    async def get(self, url: str) -> bytes:
        async with self.session.get(url) as r:
            assert r.status == 200, r.status
            return await r.read()

    async def stream(self, url: str) -> int:
        total = 0
        async with self.session.get(url) as r:
            assert r.status == 200, r.status
            async for chunk in r.content.iter_chunked(1 << 16):
                total += len(chunk)
        return total

    async def post(self, url: str, data: bytes) -> None:
        async with self.session.post(url, data=data) as r:
            assert r.status == 200, r.status
            await r.read()

    async def get_json(self, url: str):
        async with self.session.get(url) as r:
            assert r.status == 200 and r.headers.get("Content-Encoding") == "gzip"
            return await r.json()

    async def close(self) -> None:
        await self.session.close()


class Httpx:
    def __init__(self, concurrency: int, tls: bool, force_close: bool) -> None:
        import httpx

        verify = ssl.create_default_context(cafile=os.environ["BENCH_CA"]) if tls else True
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0 if force_close else None)
        self.client = httpx.AsyncClient(limits=limits, verify=verify)

    async def get(self, url: str) -> bytes:
        r = await self.client.get(url)
        assert r.status_code == 200, r.status_code
        return r.content

    async def stream(self, url: str) -> int:
        total = 0
        async with self.client.stream("GET", url) as r:
            assert r.status_code == 200
            async for chunk in r.aiter_bytes(1 << 16):
                total += len(chunk)
        return total

    async def post(self, url: str, data: bytes) -> None:
        r = await self.client.post(url, content=data)
        assert r.status_code == 200

    async def get_json(self, url: str):
        r = await self.client.get(url)
        assert r.status_code == 200
        return r.json()

    async def close(self) -> None:
        await self.client.aclose()


class Pyreqwest:
    def __init__(self, concurrency: int, tls: bool, force_close: bool) -> None:
        from pyreqwest.client import ClientBuilder

        builder = ClientBuilder().max_connections(concurrency)
        if tls:
            with open(os.environ["BENCH_CA"], "rb") as f:
                builder = builder.add_root_certificate_pem(f.read())
        if force_close:
            builder = builder.pool_max_idle_per_host(0)
        self.client = builder.build()

    async def get(self, url: str) -> bytes:
        r = await self.client.get(url).build().send()
        assert r.status == 200, r.status
        return bytes(await r.bytes())

    async def stream(self, url: str) -> int:
        total = 0
        async with self.client.get(url).build_streamed() as r:
            assert r.status == 200
            while (chunk := await r.body_reader.read(1 << 16)) is not None:
                total += len(chunk)
        return total

    async def post(self, url: str, data: bytes) -> None:
        r = await self.client.post(url).body_bytes(data).build().send()
        assert r.status == 200

    async def get_json(self, url: str):
        r = await self.client.get(url).build().send()
        assert r.status == 200
        return await r.json()

    async def close(self) -> None:
        await self.client.close()


class Rnet:
    def __init__(self, concurrency: int, tls: bool, force_close: bool) -> None:
        import rnet
        from pathlib import Path

        kwargs = {"pool_max_size": concurrency, "no_keepalive": force_close or None}
        if tls:
            kwargs["verify"] = Path(os.environ["BENCH_CA"])
        self.client = rnet.Client(**kwargs)

    async def get(self, url: str) -> bytes:
        r = await self.client.get(url)
        assert r.status == 200, r.status
        return bytes(await r.bytes())

    async def stream(self, url: str) -> int:
        total = 0
        r = await self.client.get(url)
        assert r.status == 200
        async with r.stream() as streamer:
            async for chunk in streamer:
                total += len(chunk)
        return total

    async def post(self, url: str, data: bytes) -> None:
        r = await self.client.post(url, body=data)
        assert r.status == 200
        await r.bytes()

    async def get_json(self, url: str):
        r = await self.client.get(url)
        assert r.status == 200
        return await r.json()

    async def close(self) -> None:
        pass  # rnet has no close; its pool ends with the process


class Aiosonic:
    def __init__(self, concurrency: int, tls: bool, force_close: bool) -> None:
        import aiosonic
        from aiosonic.pools import PoolConfig

        pool = PoolConfig(size=concurrency, max_conn_requests=1 if force_close else None)
        self.client = aiosonic.HTTPClient(connector=aiosonic.TCPConnector(pool_configs={":default": pool}))
        self.ssl = ssl.create_default_context(cafile=os.environ["BENCH_CA"]) if tls else None

    async def get(self, url: str) -> bytes:
        r = await self.client.get(url, ssl=self.ssl)
        assert r.status_code == 200, r.status_code
        return await r.content()

    async def stream(self, url: str) -> int:
        total = 0
        r = await self.client.get(url)
        assert r.status_code == 200
        async for chunk in r.iter_bytes():
            total += len(chunk)
        return total

    async def post(self, url: str, data: bytes) -> None:
        r = await self.client.post(url, data=data)
        assert r.status_code == 200
        await r.content()

    async def get_json(self, url: str):
        r = await self.client.get(url)
        assert r.status_code == 200
        return await r.json()

    async def close(self) -> None:
        await self.client.connector.cleanup()


def make_client(client: str, concurrency: int, tls: bool, force_close: bool = False):
    if client in ("aioclient", "aiohttp"):
        return AiohttpStyle(importlib.import_module(client), concurrency, tls, force_close)
    peers = {"httpx": Httpx, "pyreqwest": Pyreqwest, "rnet": Rnet, "aiosonic": Aiosonic}
    if client not in peers:
        raise SystemExit(f"unknown client {client}")
    return peers[client](concurrency, tls, force_close)


async def run_requests(client: str, base: str, concurrency: int, tls: bool) -> dict:
    url = base + "small"
    if client == "floor":
        floor = Floor(base, concurrency)
        await floor.setup()
        get = floor.get_small
    else:
        peer = make_client(client, concurrency, tls)

        async def get() -> bytes:
            return await peer.get(url)

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

    start, cpu_start = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    await (floor.close() if client == "floor" else peer.close())
    # CPU per request (user + system, this process): the client's own cost, which a
    # sequential rate (mostly waiting) hides.
    return {"value": done / elapsed, "unit": "req/s", "cpu": round(cpu / done * 1e6, 1)}


async def _repeat(call, check) -> float:
    """Run ``call`` until DURATION is over (bounded); calls per second."""
    n = 0
    start = time.perf_counter()
    deadline = start + DURATION
    while time.perf_counter() < deadline and n < 100_000:
        check(await call())
        n += 1
    return n / (time.perf_counter() - start)


async def run_handshakes(client: str, base: str) -> dict:
    """New HTTPS connections per second: one TLS handshake per request."""
    peer = make_client(client, 1, True, force_close=True)
    rate = await _repeat(lambda: peer.get(base + "small"), lambda body: _expect(len(body), SMALL_SIZE))
    await peer.close()
    return {"value": rate, "unit": "handshakes/s"}


async def run_stream(client: str, base: str) -> dict:
    """100 MB downloads streamed in 64 KiB chunks, repeated for the duration (one
    download alone is over in well under a second, too short to measure)."""
    if client == "floor":
        peer = Floor(base, 0)
        await peer.setup()
    else:
        peer = make_client(client, 1, False)
    downloads = 0

    async def download() -> int:
        nonlocal downloads
        downloads += 1
        return await peer.stream(base + "100mb.bin")

    cpu_start = time.process_time()
    rate = await _repeat(download, lambda total: _expect(total, 100 * MB))
    cpu = time.process_time() - cpu_start
    await peer.close()
    # CPU per 100 MB (user + system, this process): steadier than the rate on a noisy
    # machine, and the client's own cost where the rate also waits for the server.
    return {"value": rate * 100, "unit": "MB/s", "cpu": round(cpu / downloads * 1000, 1)}


async def run_read_1mb(client: str, base: str) -> dict:
    peer = make_client(client, 1, False)
    _expect(len(await peer.get(base + "1mb.bin")), MB)  # warm: the pool, imports, allocator
    before = peak_rss_mb()
    rate = await _repeat(lambda: peer.get(base + "1mb.bin"), lambda body: _expect(len(body), MB))
    await peer.close()
    # How far the peak grew beyond one warm request; the body itself is 1 MB.
    return {"value": rate, "unit": "MB/s", "peak_growth_mb": round(peak_rss_mb() - before, 2)}


async def run_idle(client: str, base: str, connections: int) -> dict:
    """Memory per idle pooled connection: open ``connections`` at once, then let them idle."""
    import gc

    peer = make_client(client, connections, False)
    _expect(len(await peer.get(base + "small")), SMALL_SIZE)  # imports and first allocations
    gc.collect()
    before = current_rss_kb()
    bodies = await asyncio.gather(*(peer.get(base + "small") for _ in range(connections)))
    for body in bodies:
        _expect(len(body), SMALL_SIZE)
    del bodies
    gc.collect()
    per_connection = (current_rss_kb() - before) / connections
    await peer.close()
    return {"value": per_connection, "unit": "KB per idle connection"}


async def run_post_1mb(client: str, base: str) -> dict:
    payload = os.urandom(MB)
    peer = make_client(client, 1, False)
    rate = await _repeat(lambda: peer.post(base + "upload", payload), lambda _: None)
    await peer.close()
    return {"value": rate, "unit": "MB/s"}


async def run_gzip_json(client: str, base: str) -> dict:
    peer = make_client(client, 1, False)
    rate = await _repeat(lambda: peer.get_json(base + "data.json"), lambda data: _expect(len(data["items"]), 2000))
    await peer.close()
    return {"value": rate, "unit": "req/s"}


def _expect(got: int, wanted: int) -> None:
    if got != wanted:
        raise AssertionError(f"expected {wanted}, got {got}")


async def main(client: str, scenario: str, base: str) -> dict:
    if scenario == "seq":
        return await run_requests(client, base, 1, False)
    if scenario.startswith("idle"):
        return await run_idle(client, base, int(scenario[4:].replace("k", "000")))
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
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # idle10k, conc1000
    result = asyncio.run(main(client, scenario, base))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result), flush=True)
    os._exit(0)  # some peers crash in interpreter finalisation; the result is out
