"""Command-line client: ``python -m aioclient [METHOD] URL [options]`` (also ``aioclient``).

Prints the status line, the headers and the body (JSON pretty-printed); with ``-o FILE``
the body is streamed to the file with a progress bar on stderr. Failures print one line
to stderr and exit with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import List, Optional, Sequence

from . import ClientError, ClientSession, ClientTimeout

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aioclient", description="Make one HTTP request and print the response.")
    parser.add_argument("words", nargs="+", metavar="[METHOD] URL", help="HTTP method (default GET, or POST with a body) and URL")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'Name: value'", help="request header (repeatable)")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--json", metavar="TEXT", help="send TEXT (which must be JSON) as application/json")
    body.add_argument("--data", metavar="TEXT", help="send TEXT as the request body")
    parser.add_argument("-o", "--output", metavar="FILE", help="save the body to FILE instead of printing it")
    parser.add_argument("--timeout", type=float, default=300.0, help="total timeout in seconds (default 300)")
    parser.add_argument("-k", "--insecure", action="store_true", help="do not verify TLS certificates")
    return parser


def _split_words(parser: argparse.ArgumentParser, words: List[str], has_body: bool) -> tuple:
    if len(words) == 1:
        return ("POST" if has_body else "GET"), words[0]
    if len(words) == 2 and words[0].upper() in _METHODS:
        return words[0].upper(), words[1]
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


async def _run(args: argparse.Namespace, method: str, url: str) -> int:
    headers = []
    for line in args.header:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"invalid header {line!r}: expected 'Name: value'")
        headers.append((name.strip(), value.strip()))
    kwargs: dict = {"headers": headers}
    if args.json is not None:
        kwargs["json"] = json.loads(args.json)
    elif args.data is not None:
        kwargs["data"] = args.data.encode()
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
                        return 0
                    except ValueError:
                        pass
                sys.stdout.write(body.decode(resp.charset or "utf-8", "replace"))
                if body and not body.endswith(b"\n"):
                    sys.stdout.write("\n")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``aioclient`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    method, url = _split_words(parser, args.words, args.json is not None or args.data is not None)
    try:
        status = asyncio.run(_run(args, method, url))
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader went away (`aioclient URL | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 128 + signal.SIGPIPE
    except (ClientError, ValueError, OSError, asyncio.TimeoutError) as exc:
        message = str(exc) or type(exc).__name__
        sys.stderr.write(f"aioclient: error: {type(exc).__name__}: {message}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
