"""Side-by-side benchmark: aioclient against aiohttp (and other installed clients).

    python benches/run.py [--rounds 3] [--seconds 2] [--scenarios seq,conc100,...] [--uvloop]

Starts nginx (Debian's, one worker pinned to CPU 1) on 127.0.0.1 with generated files,
runs each (client, scenario) in its own process pinned to CPU 0, interleaving clients
over several rounds, and prints medians with the ratio to aiohttp. ``wrk`` (if
installed) gives the C limit for the request scenarios, curl for the download. Needs: nginx, taskset; the
``bench`` extra (aiohttp, trustme for HTTPS).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = {
    "seq": "sequential GET, 100 B (req/s)",
    "conc10": "10 in flight, 100 B (req/s)",
    "conc100": "100 in flight, 100 B (req/s)",
    "conc1000": "1000 in flight, 100 B (req/s)",
    "https100": "100 in flight over HTTPS, 100 B (req/s)",
    "https_new": "new HTTPS connections (handshakes/s)",
    "stream": "100 MB streamed download (MB/s)",
    "read1mb": "GET 1 MB, read() (MB/s)",
    "post1mb": "POST 1 MB body (MB/s)",
    "gzipjson": "GET gzip JSON + json() (req/s)",
    "idle10k": "10,000 idle pooled connections (KB each, lower is better)",
}
# Run by default; the rest (the in-flight curve, idle memory) on request.
DEFAULT_SCENARIOS = ("seq", "conc100", "https100", "https_new", "stream", "read1mb", "post1mb", "gzipjson")
PEERS = ("aioclient", "aiohttp", "pyreqwest", "rnet", "aiosonic", "httpx")
# Request scenarios, with a wrk figure: (connections in flight).
REQUEST_SCENARIOS = {"seq": 1, "conc10": 10, "conc100": 100, "conc1000": 1000}
# Scenarios the featureless floor client runs.
FLOOR_SCENARIOS = (*REQUEST_SCENARIOS, "stream")
NGINX_CONF = """
worker_processes 1;
worker_rlimit_nofile 30000;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log crit;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_max_body_size 4m;
    client_body_buffer_size 2m;
    sendfile on;
    tcp_nodelay on;
    server {{
        listen 127.0.0.1:{port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {root}/server.pem;
        ssl_certificate_key {root}/server.key;
        root {root}/www;
        location = /small {{ default_type text/plain; return 200 "{small}"; }}
        location = /upload {{ default_type text/plain; return 200 "ok"; }}
        location = /data.json {{ default_type application/json; add_header Content-Encoding gzip; try_files /data.json.gz =404; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(root: Path) -> dict:
    www = root / "www"
    www.mkdir()
    (www / "1mb.bin").write_bytes(os.urandom(1 << 20))
    with open(www / "100mb.bin", "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(100):
            f.write(block)
    data = json.dumps({"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(2000)]}).encode()
    (www / "data.json.gz").write_bytes(gzip.compress(data))
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(root / "server.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    # nginx workers run unprivileged: let them read the files.
    for path in [root, www, *www.iterdir()]:
        path.chmod(0o755)
    port, tls_port = free_port(), free_port()
    conf = NGINX_CONF.format(root=root, port=port, tls_port=tls_port, small="x" * 100)
    (root / "nginx.conf").write_text(conf)
    return {"port": port, "tls_port": tls_port, "ca": str(root / "ca.pem")}


def start_nginx(root: Path) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(["taskset", "-c", "1", nginx, "-c", str(root / "nginx.conf"), "-p", str(root)])
    time.sleep(0.5)
    if proc.poll() is not None:
        raise SystemExit("nginx did not start: " + (root / "error.log").read_text())
    return proc


def run_one(client: str, scenario: str, info: dict, seconds: float, uvloop: bool) -> dict | None:
    tls = scenario.startswith("https")
    base = f"https://127.0.0.1:{info['tls_port']}/" if tls else f"http://127.0.0.1:{info['port']}/"
    env = dict(os.environ, BENCH_SECONDS=str(seconds), BENCH_CA=info["ca"], SSL_CERT_FILE=info["ca"])
    if uvloop:
        env["BENCH_UVLOOP"] = "1"
    cmd = ["taskset", "-c", "0", sys.executable, str(HERE / "clients.py"), client, scenario, base]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        print(f"  ! {client} {scenario} failed: {out.stderr.strip().splitlines()[-1:]} ", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def wrk_rate(info: dict, connections: int, seconds: float) -> float | None:
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    url = f"http://127.0.0.1:{info['port']}/small"
    out = subprocess.run(
        ["taskset", "-c", "0", wrk, "-t1", f"-c{connections}", f"-d{max(1, int(seconds))}s", url],
        capture_output=True, text=True, timeout=120,
    )
    for line in out.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


def curl_rate(info: dict) -> float | None:
    """curl's rate for the 100 MB download (MB/s), pinned like the clients."""
    curl = shutil.which("curl")
    if not curl:
        return None
    url = f"http://127.0.0.1:{info['port']}/100mb.bin"
    # Ten downloads over one connection, like the clients' repeated streams.
    out = subprocess.run(
        ["taskset", "-c", "0", curl, "-s", "-w", "%{speed_download}\\n", *["-o", "/dev/null", url] * 10],
        capture_output=True, text=True, timeout=120,
    )
    if out.returncode != 0:
        return None
    return statistics.median(float(line) for line in out.stdout.split()) / (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS), help="any of: " + ",".join(SCENARIOS))
    parser.add_argument("--clients", default="")
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c != "floor"] if args.clients else [
        c for c in PEERS if importlib.util.find_spec(c)
    ]  # the floor runs in every scenario it has (FLOOR_SCENARIOS) anyway
    scenarios = args.scenarios.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        info = prepare(root)
        nginx = start_nginx(root)
        try:
            results: dict = {}
            rss: dict = {}
            growth: dict = {}
            cpu: dict = {}
            c_rates: dict = {}
            for rnd in range(args.rounds):
                for scenario in scenarios:
                    names = list(clients) + (["floor"] if scenario in FLOOR_SCENARIOS else [])
                    order = names if rnd % 2 == 0 else list(reversed(names))
                    # The C limit is measured in every round too, interleaved like the
                    # clients, so that drift in the machine's speed hits all alike.
                    if scenario in REQUEST_SCENARIOS:
                        c_rate = wrk_rate(info, REQUEST_SCENARIOS[scenario], args.seconds)
                    elif scenario == "stream":
                        c_rate = curl_rate(info)
                    else:
                        c_rate = None
                    if c_rate:
                        c_rates.setdefault(scenario, []).append(c_rate)
                    for client in order:
                        r = run_one(client, scenario, info, args.seconds, args.uvloop)
                        if r:
                            results.setdefault((scenario, client), []).append(r["value"])
                            rss.setdefault((scenario, client), []).append(r["peak_rss_mb"])
                            if "cpu" in r:
                                cpu.setdefault((scenario, client), []).append(r["cpu"])
                            if "peak_growth_mb" in r:
                                growth.setdefault(client, []).append(r["peak_growth_mb"])
            c_limit = {scenario: statistics.median(rates) for scenario, rates in c_rates.items()}
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    loop = "uvloop" if args.uvloop else "asyncio"
    print(f"\nmedians of {args.rounds} interleaved rounds, {args.seconds}s each, {loop} loop")
    peers = [c for c in clients if c not in ("aioclient", "aiohttp")]
    header = ["scenario"] + clients + ["floor", "wrk / curl (C)", "aioclient/aiohttp"] + (["aioclient/best peer"] if peers else [])
    print(" | ".join(header))
    for scenario in scenarios:
        row = [SCENARIOS.get(scenario, scenario)]
        med = {c: statistics.median(results[(scenario, c)]) for c in clients + ["floor"] if (scenario, c) in results}
        for c in clients + ["floor"]:
            row.append(f"{med[c]:,.0f}" if c in med else "-")
        row.append(f"{c_limit[scenario]:,.0f}" if c_limit.get(scenario) else "-")
        if "aioclient" in med and "aiohttp" in med:
            row.append(f"{med['aioclient'] / med['aiohttp']:.2f}x")
        else:
            row.append("-")
        if peers:
            # The strongest other client: highest rate, or least memory for idle10k.
            others = [med[c] for c in clients if c != "aioclient" and c in med]
            best = (min if scenario.startswith("idle") else max)(others, default=None)
            row.append(f"{med['aioclient'] / best:.2f}x" if best and "aioclient" in med else "-")
        print(" | ".join(row))
    ceilings = [
        f"{scenario} {statistics.median(results[(scenario, 'floor')]) / statistics.median(results[(scenario, 'aiohttp')]):.2f}x"
        for scenario in scenarios
        if (scenario, "floor") in results and (scenario, "aiohttp") in results
    ]
    if ceilings:
        # A client with no cost of its own would reach this ratio: the bound on any target.
        print("floor/aiohttp (the ratio a client of zero cost would reach): " + ", ".join(ceilings))
    for scenario in scenarios:
        if any(key[0] == scenario for key in cpu):
            unit = "ms per 100 MB" if scenario == "stream" else "µs per request"
            print(f"client CPU, {scenario} ({unit}): " + ", ".join(
                f"{c} {statistics.median(cpu[(scenario, c)]):.1f}" for c in clients + ["floor"] if (scenario, c) in cpu
            ))
    if growth:
        print("peak RSS growth over a warm request, GET 1 MB read() (MB): " + ", ".join(
            f"{c} {statistics.median(v):.2f}" for c, v in growth.items()
        ))
    if "stream" in scenarios:
        print("peak RSS, streamed download (MB): " + ", ".join(
            f"{c} {statistics.median(rss[('stream', c)]):.0f}" for c in clients if ("stream", c) in rss
        ))


if __name__ == "__main__":
    main()
