"""Instructions per sequential small GET, counted by callgrind (stable where timings are not).

    python benches/icount.py [--clients aioclient,aiohttp,floor] [--uvloop]

Starts nginx as ``run.py`` does, then runs each client under valgrind's callgrind twice
(1,000 and 3,000 sequential GETs of a 100 B body) and prints the difference divided by
2,000: the instructions one request costs, imports and warm-up excluded. The floor is
the no-feature client of ``clients.py``; a client's distance from it is its own cost.
Needs valgrind (``apt-get install -y valgrind``); takes about a minute per client.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (the nginx set-up of the side-by-side benchmark)

CLIENT_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {here!r})
import clients
N, NAME, BASE = int(sys.argv[1]), sys.argv[2], sys.argv[3]

async def main():
    if NAME == "floor":
        floor = clients.Floor(BASE, 1)
        await floor.setup()
        get, close = floor.get_small, floor.close
    else:
        peer = clients.AiohttpStyle(__import__(NAME), 1, False, False)
        async def get():
            return await peer.get(BASE + "small")
        async def close():
            await peer.session.close()
    for _ in range(N):
        assert len(await get()) == 100
    await close()

if {uvloop!r}:
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
"""


def instructions(script: Path, n: int, client: str, base: str) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, str(script), str(n), client, base],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"no callgrind total for {client}: {out.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="aioclient,aiohttp,floor")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        info = run.prepare(root)
        nginx = run.start_nginx(root)
        try:
            script = root / "seq_client.py"
            script.write_text(CLIENT_SCRIPT.format(here=str(HERE), uvloop=args.uvloop))
            base = f"http://127.0.0.1:{info['port']}/"
            results = {}
            for client in args.clients.split(","):
                small, large = (instructions(script, n, client, base) for n in (1000, 3000))
                results[client] = (large - small) / 2000
                print(f"{client}: {results[client]:,.0f} instructions per request", flush=True)
            if "floor" in results:
                for client, count in results.items():
                    if client != "floor":
                        print(f"{client} above the floor: {count - results['floor']:,.0f}")
        finally:
            nginx.terminate()
            nginx.wait()


if __name__ == "__main__":
    main()
