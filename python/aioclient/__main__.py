"""Command-line client: ``python -m aioclient [METHOD] URL [options]`` (also ``aioclient``).

Prints the status line, the headers and the body (JSON pretty-printed; a body that is not
text is written as it is, or summed up on a terminal); with ``-o FILE`` the body is
streamed to the file with a progress bar on stderr. Exit status: 0 for a 1xx/2xx
response, 3, 4 or 5 for a 3xx, 4xx or 5xx one (the response is printed all the same),
1 when no response came (one line on stderr), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import List, Optional, Sequence

from . import ClientSession, ClientTimeout

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


_EPILOG = (
    "exit status: 0 for a 1xx or 2xx response; 3, 4 or 5 for a 3xx, 4xx or 5xx one (the response "
    "is printed all the same); 1 when no response came (connection, TLS, timeout, invalid URL); "
    "2 for bad arguments"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aioclient",
        usage="%(prog)s [METHOD] URL [-H 'Name: value'] [--json TEXT | --data TEXT] [-o FILE] [--timeout SECONDS] [-k]",
        description="Make one HTTP request and print the response.",
        epilog=_EPILOG,
    )
    parser.add_argument("words", nargs="+", metavar="[METHOD] URL", help="HTTP method (default GET, or POST with a body) and URL")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'", help="request header (repeatable)")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--json", metavar="TEXT", help="send TEXT (which must be JSON) as application/json")
    body.add_argument("--data", metavar="TEXT", help="send TEXT as the request body")
    parser.add_argument("-o", "--output", metavar="FILE", help="save the body to FILE instead of printing it")
    parser.add_argument(
        "--timeout", type=float, default=300.0, metavar="SECONDS", help="total timeout in seconds (default 300, 0 for none)"
    )
    parser.add_argument("-k", "--insecure", action="store_true", help="do not verify TLS certificates")
    return parser


def _split_words(parser: argparse.ArgumentParser, words: List[str], has_body: bool) -> tuple:
    if len(words) == 1:
        return ("POST" if has_body else "GET"), words[0]
    if len(words) == 2:
        if words[0].upper() in _METHODS:
            return words[0].upper(), words[1]
        parser.error(f"unknown method {words[0]!r}: expected one of {', '.join(_METHODS)}")
    parser.error("expected [METHOD] URL")
    raise AssertionError  # pragma: no cover


def _progress(done: int, total: Optional[int]) -> None:
    if total:
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done * 100 // total:3d}% {done:,}/{total:,} bytes")
    else:
        sys.stderr.write(f"\r{done:,} bytes")
    sys.stderr.flush()


def _request_kwargs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
    """The request's headers and body from the arguments; a bad one is a usage error."""
    headers = []
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            parser.error(f"invalid header {line!r}: expected 'Name: value'")
        headers.append((name.strip(), value.strip()))
    kwargs: dict = {"headers": headers}
    if args.json is not None:
        try:
            kwargs["json"] = json.loads(args.json)
        except ValueError as exc:
            parser.error(f"--json: not valid JSON: {exc}")
    elif args.data is not None:
        kwargs["data"] = args.data.encode()
    if args.timeout < 0:
        parser.error("--timeout: must be 0 (no timeout) or more")
    return kwargs


def _exit_status(status: int) -> int:
    """0 for 1xx/2xx; 3, 4, 5 for 3xx, 4xx, 5xx (as httpie's --check-status)."""
    return status // 100 if 300 <= status < 600 else 0


def _write_body(body: bytes, charset: Optional[str]) -> None:
    """Text in its charset (UTF-8 when none or unknown); anything else as raw bytes, or a
    one-line summary on a terminal, where raw bytes would garble the screen."""
    try:
        text = body.decode(charset or "utf-8")
    except LookupError:  # a charset Python does not know: try UTF-8
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    except UnicodeDecodeError:
        text = None
    if text is not None:
        sys.stdout.write(text)
        if text and not text.endswith("\n"):
            sys.stdout.write("\n")
    elif sys.stdout.isatty():
        sys.stdout.write(f"[{len(body):,} bytes of binary data: save them with -o FILE]\n")
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(body)


async def _run(args: argparse.Namespace, method: str, url: str, kwargs: dict) -> int:
    if args.insecure:
        kwargs["ssl"] = False
    async with ClientSession(timeout=ClientTimeout(total=args.timeout)) as session:
        async with session.request(method, url, **kwargs) as resp:
            print(f"HTTP/{resp.version.major}.{resp.version.minor} {resp.status} {resp.reason}")
            for name, value in resp.headers.items():
                print(f"{name}: {value}")
            print()
            if args.output:
                total = resp.content_length
                done = 0
                with open(args.output, "wb") as out:
                    async for chunk in resp.content.iter_chunked(1 << 16):
                        out.write(chunk)
                        done += len(chunk)
                        _progress(done, total)
                sys.stderr.write("\n")
                print(f"saved {done:,} bytes to {args.output}")
            elif method != "HEAD":
                body = await resp.read()
                if resp.content_type == "application/json" or resp.content_type.endswith("+json"):
                    try:
                        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
                        return _exit_status(resp.status)
                    except ValueError:
                        pass
                _write_body(body, resp.charset)
            return _exit_status(resp.status)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``aioclient`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    method, url = _split_words(parser, args.words, args.json is not None or args.data is not None)
    kwargs = _request_kwargs(parser, args)
    if "://" not in url:
        url = "http://" + url  # `aioclient localhost:8080/x`, as curl and httpie read it
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        # Text the output's encoding cannot hold (a header's raw bytes, "é" on an ASCII
        # terminal) is escaped, not a failure halfway through the response.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        status = asyncio.run(_run(args, method, url, kwargs))
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader went away (`aioclient URL | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a failure is one line on stderr, never a traceback
        message = str(exc)
        if not message and isinstance(exc, asyncio.TimeoutError):
            message = f"no complete response within the --timeout of {args.timeout:g} s"
        message = message or type(exc).__name__
        sys.stderr.write(f"aioclient: error: {type(exc).__name__}: {message}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
