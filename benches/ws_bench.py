"""WebSocket round trips per second: aioclient against aiohttp's client, one run.

    python benches/ws_bench.py [--rounds 3] [--seconds 2] [--size 100]

The echo server is aiohttp.web (not ours) in its own process pinned to CPU 1; each
client runs in its own process pinned to CPU 0, sending a message and awaiting its echo
(checked) as many times as it can. Prints medians and the ratio to aiohttp.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time

SERVER = """
import sys
from aiohttp import web
async def ws(request):
    r = web.WebSocketResponse(max_msg_size=0)
    await r.prepare(request)
    async for msg in r:
        if msg.type == web.WSMsgType.TEXT:
            await r.send_str(msg.data)
        else:
            await r.send_bytes(msg.data)
    return r
app = web.Application()
app.router.add_get("/ws", ws)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""

CLIENT = """
import asyncio, json, sys, time
client, url, seconds, size = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
payload = "x" * size
async def main():
    if client == "aioclient":
        import aioclient as lib
    else:
        import aiohttp as lib
    async with lib.ClientSession() as session:
        async with session.ws_connect(url, compress=0, max_msg_size=0) as ws:
            n = 0
            start = time.perf_counter()
            while time.perf_counter() - start < seconds and n < 5_000_000:
                await ws.send_str(payload)
                msg = await ws.receive()
                assert msg.data == payload
                n += 1
            return n / (time.perf_counter() - start)
print(json.dumps({"value": asyncio.run(main())}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=100)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(["taskset", "-c", "1", sys.executable, "-c", SERVER, str(port)])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"ws://127.0.0.1:{port}/ws"
        results: dict = {"aioclient": [], "aiohttp": []}
        for rnd in range(args.rounds):
            for client in (["aioclient", "aiohttp"] if rnd % 2 == 0 else ["aiohttp", "aioclient"]):
                out = subprocess.run(
                    ["taskset", "-c", "0", sys.executable, "-c", CLIENT, client, url, str(args.seconds), str(args.size)],
                    capture_output=True, text=True, timeout=120,
                )
                if out.returncode == 0:
                    results[client].append(json.loads(out.stdout)["value"])
                else:
                    print(f"{client} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(10)
    med = {c: statistics.median(v) for c, v in results.items() if v}
    print(f"WebSocket round trips/s ({args.size} B text, medians of {args.rounds} rounds):")
    for c, v in med.items():
        print(f"  {c}: {v:,.0f}")
    if len(med) == 2:
        print(f"  aioclient/aiohttp: {med['aioclient'] / med['aiohttp']:.2f}x")


if __name__ == "__main__":
    main()
