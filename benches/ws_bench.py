"""WebSocket round trips per second: aioclient against aiohttp's client, one run.

    python benches/ws_bench.py [--rounds 3] [--seconds 2] [--size 100]
                               [--server picows|aiohttp] [--connections 50]

The echo server (not ours) runs in its own process pinned to CPU 1: picows (a Cython
WebSocket library, the default when installed) or aiohttp.web. Each client runs in its
own process pinned to CPU 0 with ``--connections`` WebSocket connections, each sending a
text message and awaiting its echo (checked) as many times as it can. Prints medians,
the ratio to aiohttp and each client's CPU time per round trip.

Why picows by default: with one connection a round trip is client time plus server
time, and aiohttp.web's server costs about as much per message as a whole client, so
it hides most of the difference between clients. With many connections the client's
core saturates first and the rate measures the client itself.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import socket
import statistics
import subprocess
import sys
import time

AIOHTTP_SERVER = """
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

PICOWS_SERVER = """
import asyncio, sys
from picows import WSListener, WSMsgType, ws_create_server
class Echo(WSListener):
    def on_ws_frame(self, transport, frame):
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
            transport.send(frame.msg_type, frame.get_payload_as_bytes())
async def main():
    server = await ws_create_server(lambda request: Echo(), "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
"""

CLIENT = """
import asyncio, json, sys, time
client, url, seconds, size, connections = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
payload = "x" * size
async def main():
    lib = __import__(client)
    count = 0
    async with lib.ClientSession() as session:
        sockets = [await session.ws_connect(url, compress=0, max_msg_size=0) for _ in range(connections)]
        start = time.perf_counter()
        cpu = time.process_time()
        async def talk(ws):
            nonlocal count
            while time.perf_counter() - start < seconds and count < 5_000_000:
                await ws.send_str(payload)
                msg = await ws.receive()
                assert msg.data == payload, msg
                count += 1
        await asyncio.gather(*(talk(ws) for ws in sockets))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        for ws in sockets:
            await ws.close()
    return {"value": count / elapsed, "cpu_us": cpu / count * 1e6}
print(json.dumps(asyncio.run(main())))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--server", choices=("picows", "aiohttp"),
                        default="picows" if importlib.util.find_spec("picows") else "aiohttp")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = PICOWS_SERVER if args.server == "picows" else AIOHTTP_SERVER
    server = subprocess.Popen(["taskset", "-c", "1", sys.executable, "-c", code, str(port)])
    results: dict = {"aioclient": [], "aiohttp": []}
    cpu: dict = {"aioclient": [], "aiohttp": []}
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        url = f"ws://127.0.0.1:{port}/ws"
        for rnd in range(args.rounds):
            for client in (["aioclient", "aiohttp"] if rnd % 2 == 0 else ["aiohttp", "aioclient"]):
                out = subprocess.run(
                    ["taskset", "-c", "0", sys.executable, "-c", CLIENT, client, url,
                     str(args.seconds), str(args.size), str(args.connections)],
                    capture_output=True, text=True, timeout=120,
                )
                if out.returncode == 0:
                    result = json.loads(out.stdout)
                    results[client].append(result["value"])
                    cpu[client].append(result["cpu_us"])
                else:
                    print(f"{client} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(10)
    med = {c: statistics.median(v) for c, v in results.items() if v}
    print(f"WebSocket round trips/s ({args.size} B text, {args.connections} connection(s), "
          f"{args.server} server, medians of {args.rounds} rounds):")
    for c, v in med.items():
        print(f"  {c}: {v:,.0f}  ({statistics.median(cpu[c]):.1f} µs client CPU per round trip)")
    if len(med) == 2:
        print(f"  aioclient/aiohttp: {med['aioclient'] / med['aiohttp']:.2f}x")


if __name__ == "__main__":
    main()
