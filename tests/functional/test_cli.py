"""The command-line client against a real server, run as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from aiohttp import web


async def _run(*args: str, raw: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aioclient", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=None if env is None else dict(os.environ, **env),
    )
    out, err = await proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out if raw else out.decode(), err.decode())


async def test_cli_get_post_and_save(aiohttp_server, tmp_path) -> None:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"method": request.method, "x": request.headers.get("X-Test"), "body": body.decode()})

    async def big(request: web.Response) -> web.Response:
        return web.Response(body=b"z" * 300_000)

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/big", big)
    server = await aiohttp_server(app)
    result = await _run(str(server.make_url("/echo")), "-H", "X-Test: yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP/1.1 200 OK\n")
    body = result.stdout.split("\n\n", 1)[1]
    assert json.loads(body) == {"method": "GET", "x": "yes", "body": ""}
    assert '\n  "method": "GET"' in body  # pretty-printed
    result = await _run("POST", str(server.make_url("/echo")), "--json", '{"a": 1}')
    assert json.loads(result.stdout.split("\n\n", 1)[1])["body"] == '{"a": 1}'
    out = tmp_path / "big.bin"
    result = await _run(str(server.make_url("/big")), "-o", str(out))
    assert result.returncode == 0
    assert out.read_bytes() == b"z" * 300_000
    assert "100%" in result.stderr


async def test_cli_error_is_one_line() -> None:
    result = await _run("http://127.0.0.1:1/")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("aioclient: error: ClientConnectorError")


async def test_cli_stops_quietly_when_its_reader_goes_away(aiohttp_server) -> None:
    import asyncio

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"line\n" * 200_000)

    app = web.Application()
    app.router.add_get("/big", big)
    server = await aiohttp_server(app)

    def into_closed_pipe(unbuffered: bool) -> subprocess.CompletedProcess:
        # Buffered output (no PYTHONUNBUFFERED) fails only when flushed at the end.
        env = dict(os.environ, PYTHONUNBUFFERED="1") if unbuffered else {
            k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "aioclient", str(server.make_url("/big"))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before anything is written (`| true`)
        with proc.stderr:
            err = proc.stderr.read().decode()
        return subprocess.CompletedProcess(proc.args, proc.wait(timeout=30), "", err)

    for unbuffered in (True, False):
        result = await asyncio.to_thread(into_closed_pipe, unbuffered)
        assert result.stderr == ""
        assert result.returncode == 141  # 128 + SIGPIPE, as Unix tools end


async def test_cli_exit_status_follows_the_http_status(aiohttp_server) -> None:
    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="body\n")

    app = web.Application()
    app.router.add_get("/{code}", status)
    server = await aiohttp_server(app)
    for code, expected in ((200, 0), (204, 0), (304, 3), (404, 4), (418, 4), (500, 5), (503, 5)):
        result = await _run(str(server.make_url(f"/{code}")))
        assert result.returncode == expected, (code, result.stderr)
        assert result.stdout.startswith(f"HTTP/1.1 {code} ")  # printed all the same
        assert result.stderr == ""
    result = await _run(str(server.make_url("/404")), "-o", os.devnull)
    assert result.returncode == 4
    result = await _run(f"127.0.0.1:{server.url.port}/200")  # no scheme: http://, as curl
    assert (result.returncode, result.stdout.split("\n")[0]) == (0, "HTTP/1.1 200 OK")


async def test_cli_prints_any_body_without_a_traceback(aiohttp_server) -> None:
    async def odd_charset(request: web.Request) -> web.Response:
        return web.Response(body="caf\u00e9\n".encode(), headers={"Content-Type": "text/plain; charset=x-unknown"})

    async def binary(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n\x00\xff\xfe", content_type="image/png")

    async def latin1(request: web.Request) -> web.Response:
        return web.Response(body="caf\u00e9".encode("latin-1"), content_type="text/plain", charset="latin-1")

    app = web.Application()
    app.router.add_get("/odd", odd_charset)
    app.router.add_get("/bin", binary)
    app.router.add_get("/latin1", latin1)
    server = await aiohttp_server(app)
    result = await _run(str(server.make_url("/odd")))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith("\n\ncaf\u00e9\n")  # an unknown charset is read as UTF-8
    result = await _run(str(server.make_url("/bin")), raw=True)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith(b"\n\n\x89PNG\r\n\x1a\n\x00\xff\xfe")  # the bytes as received
    result = await _run(str(server.make_url("/latin1")))
    assert result.stdout.endswith("\n\ncaf\u00e9\n")
    # An output that cannot hold the text (an ASCII terminal) gets it escaped, not a failure.
    result = await _run(str(server.make_url("/latin1")), env={"PYTHONIOENCODING": "ascii"})
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith("\n\ncaf\\xe9\n")


async def test_cli_bad_arguments_are_usage_errors() -> None:
    url = "http://127.0.0.1:1/"  # never reached: the arguments are checked first
    for args, message in (
        ((url, "-H", "no colon"), "invalid header 'no colon'"),
        ((url, "-H", ": value"), "invalid header ': value'"),
        (("POST", url, "--json", "{bad"), "--json: not valid JSON"),
        (("FETCH", url), "unknown method 'FETCH'"),
        ((url, "--timeout", "-1"), "--timeout: must be 0"),
    ):
        result = await _run(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("usage: aioclient [METHOD] URL"), result.stderr
        assert f"aioclient: error: {message}" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


async def test_cli_timeout_says_what_timed_out(aiohttp_server) -> None:
    import asyncio

    async def never(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError  # pragma: no cover

    app = web.Application()
    app.router.add_get("/never", never)
    server = await aiohttp_server(app)
    result = await _run(str(server.make_url("/never")), "--timeout", "0.2")
    assert result.returncode == 1
    assert result.stderr == "aioclient: error: TimeoutError: no complete response within the --timeout of 0.2 s\n"
