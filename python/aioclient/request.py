"""ClientRequest: the mutable request a middleware sees, and how it is written out."""

from __future__ import annotations

import asyncio
import re
import sys
import zlib
from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Tuple, Union

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import _core
from .exceptions import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientError,
    ClientOSError,
    InvalidUrlClientError,
    ServerDisconnectedError,
)
from .helpers import split_unquoted
from .payload import BytesPayload, Payload, get_payload
from .streams import DEFAULT_READ_BUFSIZE

if TYPE_CHECKING:
    from .auth import BasicAuth
    from .protocol import ResponseHandler
    from .session import ClientSession

__all__ = ("ClientRequest", "RequestInfo", "DEFAULT_ACCEPT_ENCODING", "USER_AGENT")

from .exceptions import RequestInfo  # noqa: E402  (the exception module owns it)

__version__ = "0.1.0"
USER_AGENT = f"Python/{sys.version_info[0]}.{sys.version_info[1]} aioclient/{__version__}"
DEFAULT_ACCEPT_ENCODING = "gzip, deflate, br, zstd"

# Methods that carry no body by default: no "Content-Length: 0" for them (as aiohttp).
_GET_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "CONNECT", "TRACE"})
_POST_METHODS = frozenset({"PATCH", "POST", "PUT"})  # given a Content-Type even when empty
# Methods safe to resend when a pooled connection turned out closed (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_SMALL_BODY = 1 << 16  # bodies up to this size go out with the head in one write
_DIGITS = re.compile(r"\d+", re.ASCII)  # a valid Content-Length (as aiohttp checks it)
# A payload's headers that are not copied onto the request: its Content-Type is handled
# with the request's own, and the framing is decided from the body's size.
_PAYLOAD_HEADERS_NOT_COPIED = frozenset({"content-type", "content-length", "transfer-encoding"})


class ClientRequest:
    """An outgoing request: what middlewares read and change before it is sent.

    Everything here stays mutable until ``handler(request)`` sends it: ``method``,
    ``url``, ``headers`` (a ``CIMultiDict``), ``body`` and ``auth``. ``session`` is the
    session that makes the request, for middlewares that need requests of their own
    (pass ``middlewares=()`` to those, or they recurse into the same middleware).
    """

    __slots__ = (
        "method",
        "url",
        "original_url",
        "headers",
        "skip_auto_headers",
        "_body",
        "auth",
        "session",
        "chunked",
        "compress",
        "expect100",
        "proxy",
        "proxy_auth",
        "proxy_headers",
        "ssl",
        "server_hostname",
        "version",
        "auto_decompress",
        "read_until_eof",
        "max_line_size",
        "max_field_size",
        "max_headers",
        "read_bufsize",
        "trace_request_ctx",
        "_cookie_header",
        "_sent_header_pairs",
        "_body_limit",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        headers: CIMultiDict[str],
        body: Any = None,
        session: "ClientSession",
        skip_auto_headers: Optional[Iterable[str]] = None,
        auth: Optional["BasicAuth"] = None,
        chunked: Optional[bool] = None,
        compress: Union[str, bool, None] = None,
        expect100: bool = False,
        proxy: Optional[URL] = None,
        proxy_auth: Optional["BasicAuth"] = None,
        proxy_headers: Optional[CIMultiDict[str]] = None,
        ssl: Any = True,
        server_hostname: Optional[str] = None,
        version: Tuple[int, int] = (1, 1),
        auto_decompress: bool = True,
        read_until_eof: bool = True,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        read_bufsize: int = DEFAULT_READ_BUFSIZE,
    ) -> None:
        self.method = method
        self.url = url
        self.original_url = url
        self.headers = headers
        self.skip_auto_headers = frozenset(h.lower() for h in skip_auto_headers) if skip_auto_headers else frozenset()
        self._body = body
        self.auth = auth
        self.session = session
        self.chunked = chunked
        self.compress = compress
        # A caller's own "Expect: 100-continue" waits for 100 Continue too, as in aiohttp.
        self.expect100 = expect100 or (
            headers is not None and headers.get("Expect", "").lower() == "100-continue"
        )
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        self.proxy_headers = proxy_headers
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.version = version
        self.auto_decompress = auto_decompress
        self.read_until_eof = read_until_eof
        self.max_line_size = max_line_size
        self.max_field_size = max_field_size
        self.max_headers = max_headers
        self.read_bufsize = read_bufsize
        self._cookie_header: Optional[str] = None
        self._sent_header_pairs: List[Tuple[str, str]] = []  # set by encode_head
        self._body_limit: Optional[int] = None  # the caller's Content-Length (encode_head)

    @property
    def body(self) -> Any:
        """The body as aiohttp gives it: a :class:`~aioclient.payload.Payload` (bytes
        given as ``data=`` read as a ``BytesPayload``), or ``b""`` for none."""
        body = self._body
        if body.__class__ is bytes and body:
            return BytesPayload(body)  # a view: the bytes themselves are what is sent
        return body

    @body.setter
    def body(self, value: Any) -> None:
        if value is None or isinstance(value, (bytes, Payload)):
            self._body = b"" if value is None else value
        else:
            self._body = get_payload(value, disposition=None)  # no Content-Disposition, as aiohttp

    @property
    def host(self) -> str:
        """The URL's host."""
        return self.url.raw_host or ""

    @property
    def port(self) -> Optional[int]:
        """The URL's port (the scheme's default when absent)."""
        return self.url.port

    @property
    def is_ssl(self) -> bool:
        """True for https and wss URLs."""
        return self.url.scheme in ("https", "wss")

    @property
    def proxy_forwarded(self) -> bool:
        """True when an HTTP proxy receives this request itself (absolute form), rather
        than a CONNECT tunnel carrying it: plain http:// targets only."""
        return self.proxy is not None and self.url.scheme == "http" and self.proxy.scheme in ("http", "https")

    @property
    def request_info(self) -> RequestInfo:
        """The request as seen by exceptions and ``ClientResponse.request_info``: once
        it is encoded, with every header it carries (Host, User-Agent, Cookie, ...)."""
        pairs = self._sent_header_pairs
        headers = CIMultiDict(pairs) if pairs else self.headers
        url = self.url
        if url.raw_fragment:
            url = url.with_fragment(None)
        return RequestInfo(url, self.method, CIMultiDictProxy(headers), self.original_url)

    def __repr__(self) -> str:
        return f"<ClientRequest({self.method} {self.url})>"

    # -- serialisation ---------------------------------------------------------

    def _target(self) -> str:
        url = self.url
        if self.method == "CONNECT":
            return f"{url.raw_host}:{url.port}"
        if self.proxy_forwarded:
            # Absolute form for a plain HTTP proxy (RFC 9112 §3.2.2); SOCKS is a tunnel.
            return str(url.with_fragment(None))
        return url.raw_path_qs or "/"

    def _host_header(self) -> str:
        url = self.url
        host = (url.raw_host or "").rstrip(".")  # "example.com." is sent as example.com (aiohttp)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        if url.explicit_port is not None and not url.is_default_port():
            return f"{host}:{url.port}"
        return host

    def encode_head(self, body: Any) -> Tuple[bytes, bool]:
        """Validate and encode the request head; return it and whether it is chunked.

        Runs before a connection is taken, so a header value with a control character
        (CR, LF, NUL, DEL, ...; HTAB is allowed), a bad header name or method, or an
        invalid Content-Length fails with ``ValueError`` before anything is opened or
        written.
        """
        headers = self.headers
        skip = self.skip_auto_headers
        pairs: List[Tuple[str, str]] = []
        if "Host" not in headers:  # never skipped: HTTP/1.1 requires it (aiohttp sends it too)
            pairs.append(("Host", self._host_header()))
        pairs.extend(headers.items())
        if "Accept" not in headers and "accept" not in skip:
            pairs.append(("Accept", "*/*"))
        if "Accept-Encoding" not in headers and "accept-encoding" not in skip:
            pairs.append(("Accept-Encoding", DEFAULT_ACCEPT_ENCODING))
        if "User-Agent" not in headers and "user-agent" not in skip:
            pairs.append(("User-Agent", USER_AGENT))
        if self._cookie_header is not None:
            if "Cookie" in headers:
                # One Cookie line (RFC 6265 §5.4): the caller's cookies, ours overriding
                # those of the same name (as aiohttp merges them).
                index = next(i for i, (name, _) in enumerate(pairs) if name.lower() == "cookie")
                pairs[index] = (pairs[index][0], _merge_cookie_lines(pairs[index][1], self._cookie_header))
            else:
                pairs.append(("Cookie", self._cookie_header))
        if self.auth is not None and "Authorization" not in headers:
            pairs.append(("Authorization", self.auth.encode()))
        if self.proxy_forwarded:
            # Plain target through a proxy: these go to the proxy with the request itself
            # (through a tunnel they go with CONNECT and never reach the origin).
            if self.proxy_auth is not None:
                pairs.append(("Proxy-Authorization", self.proxy_auth.encode()))
            if self.proxy_headers:
                # proxy_auth= wins over a Proxy-Authorization here (as aiohttp): one line.
                pairs.extend(
                    (name, value)
                    for name, value in self.proxy_headers.items()
                    if self.proxy_auth is None or name.lower() != "proxy-authorization"
                )
        if self.expect100 and "Expect" not in headers:
            pairs.append(("Expect", "100-continue"))
        if "Connection" not in headers:
            # As aiohttp: a connector that closes every connection says so in HTTP/1.1
            # (HTTP/1.0 closes by default); otherwise HTTP/1.0 asks for keep-alive.
            if self.session is not None and getattr(self.session.connector, "force_close", False):
                if self.version == (1, 1):
                    pairs.append(("Connection", "close"))
            elif self.version == (1, 0):
                pairs.append(("Connection", "keep-alive"))

        # Body framing follows aiohttp: a caller's Content-Length or chunked
        # Transfer-Encoding is kept as given; otherwise a known size is sent as
        # Content-Length and an unknown one (or compress=/chunked=) as chunked.
        has_body = isinstance(body, Payload) or bool(body)
        compress = self.compress if has_body else None
        te_chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        if compress and headers.get("Content-Encoding"):
            raise ValueError("compress can not be set if Content-Encoding header is set")
        if self.chunked or compress:
            if te_chunked:
                raise ValueError('chunked can not be set if "Transfer-Encoding: chunked" header is set')
            if "Content-Length" in headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
        chunked = te_chunked
        self._body_limit = None
        if has_body:
            if isinstance(body, Payload):
                content_type, size = body.content_type, body.size
            else:
                content_type, size = "application/octet-stream", len(body)
            if content_type is not None and "Content-Type" not in headers and "content-type" not in skip:
                pairs.append(("Content-Type", content_type))
            if "Content-Length" in headers:
                # The caller's length is what the server reads: no byte past it is
                # written (more would reach the server as the start of another request).
                value = headers["Content-Length"]
                if not _DIGITS.fullmatch(value):
                    raise ValueError(f"Invalid Content-Length header: {value!r}")
                self._body_limit = int(value)
            elif te_chunked:
                pass  # framed by the caller
            elif compress or self.chunked or size is None:
                _set_chunked(pairs)
                chunked = True
            else:
                pairs.append(("Content-Length", str(size)))
        elif self.method not in _GET_METHODS and "Content-Length" not in headers and not te_chunked:
            if self.method in _POST_METHODS and "Content-Type" not in headers and "content-type" not in skip:
                pairs.append(("Content-Type", "application/octet-stream"))  # as aiohttp
            if self.chunked:
                _set_chunked(pairs)
                chunked = True
            else:
                pairs.append(("Content-Length", "0"))
        if compress:
            pairs.append(("Content-Encoding", _compress_name(compress)))
        if isinstance(body, Payload):
            # The payload's own headers (a Content-Encoding, a checksum, a multipart
            # writer's extras) go with the request unless it has them or skips them,
            # as aiohttp copies them; framing is ours to decide.
            present = {name.lower() for name, _ in pairs}
            extra: dict = {}
            for name, value in body.headers.items():
                lower = name.lower()
                if lower not in _PAYLOAD_HEADERS_NOT_COPIED and lower not in present and lower not in skip:
                    extra[lower] = (name, value)  # the last of a repeated name, as aiohttp
            pairs.extend(extra.values())
        self._sent_header_pairs = pairs
        try:
            head = _core.encode_head(
                self.method.encode("ascii"),
                self._target().encode("utf-8", "surrogateescape"),
                [(k.encode("latin-1"), v.encode("utf-8", "surrogateescape")) for k, v in pairs],
                self.version[1],
            )
        except (ValueError, AttributeError) as exc:  # UnicodeEncodeError is a ValueError
            _raise_invalid_head(self.method, pairs, exc)
        return head, chunked

    async def send(
        self,
        proto: "ResponseHandler",
        head: bytes,
        chunked: bool,
        body: Any,
        max_decompressed_size: Optional[int],
        on_chunk_sent: Any = None,
        on_headers_sent: Any = None,
    ) -> "asyncio.Future[Any]":
        """Write the request on ``proto``; return the future of the response head.

        ``on_headers_sent()`` is awaited once the head is written, ``on_chunk_sent(chunk)``
        after each piece of the body (both for tracing).
        """
        small = body if isinstance(body, bytes) else b""
        limit = self._body_limit
        if limit is not None and len(small) > limit:
            small = small[:limit]  # never past the caller's Content-Length
        if self.compress and small:
            small = _compress(self.compress, small)
        # Bytes written at once (a Payload streams; 100 Continue makes the body wait):
        # a small one in the head's write, a larger one with it (``first_piece``).
        at_once = not self.expect100 and not isinstance(body, Payload)
        inline = at_once and not chunked and len(small) <= _SMALL_BODY
        large = small if at_once and small and not inline else None
        waiter = proto.send_request(
            head,
            small if inline and small else None,
            no_body=self.method == "HEAD",
            connect=self.method == "CONNECT",
            chunked=chunked,
            decompress=self.auto_decompress,
            max_decompressed_size=max_decompressed_size,
            read_until_eof=self.read_until_eof,
            expect_continue=self.expect100,
            body_follows=not inline,
            upgrade="Upgrade" in self.headers,
            first_piece=large,
        )
        if on_headers_sent is not None:
            await on_headers_sent()
        if inline:
            if on_chunk_sent is not None and small:
                await on_chunk_sent(small)
            return waiter
        if self.expect100:
            continue_waiter = proto.continue_waiter
            if continue_waiter is not None:
                await continue_waiter
            if waiter.done():
                proto.start_read_timer()
                return waiter  # a final response came instead of 100 Continue
        try:
            if isinstance(body, Payload):
                await self._send_payload(proto, body, chunked, on_chunk_sent, limit)
            else:
                # A large bytes body, sent with the head (``large``) or after 100
                # Continue in one write (the transport buffers what the socket cannot
                # take at once); then wait for the buffer to drain.
                if small and large is None:
                    proto.write_body(small)
                if small and on_chunk_sent is not None:
                    await on_chunk_sent(small)
                proto.write_body(b"", last=True)
                await proto.drain()
        except (ClientOSError, ClientConnectionResetError, ServerDisconnectedError):
            # A server may answer before reading the whole body (413, 401) and close
            # the connection: the write fails, but the response is the answer, as in
            # aiohttp. Without a response, the failure is.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # The body was cut short: the connection never carries another request
                # (its next bytes would land inside this body).
                proto._body_withheld = True
                proto.start_read_timer()
                return waiter
            raise
        proto.start_read_timer()
        return waiter

    async def _send_payload(
        self, proto: "ResponseHandler", body: Payload, chunked: bool, on_chunk_sent: Any, limit: Optional[int] = None
    ) -> None:
        # ``limit``: the caller's Content-Length; writing stops there (aiohttp's
        # write_with_length), whatever the payload has left.
        compressor = _compressor(self.compress) if self.compress else None
        chunks = body.iter_chunks()
        try:
            async for chunk in chunks:
                if limit is not None:
                    if len(chunk) >= limit:
                        chunk, limit = chunk[:limit], 0
                    else:
                        limit -= len(chunk)
                if compressor is not None:
                    chunk = compressor.compress(chunk)
                if chunk:
                    proto.write_body(chunk)
                    if on_chunk_sent is not None:
                        await on_chunk_sent(chunk)
                    await proto.drain()
                if limit == 0:
                    break
            if compressor is not None:
                tail = compressor.flush()
                if tail:
                    proto.write_body(tail)
        except ClientError:
            raise
        except OSError as exc:
            raise ClientOSError(exc.errno or 0, f"Can not write request body for {self.url}: {exc}") from exc
        except Exception as exc:
            # The body's own iterator failed (raised, or yielded something not bytes):
            # the request is cut short, as aiohttp reports it.
            raise ClientConnectionError(f"Failed to send the request body for {self.url}: {exc!r}") from exc
        finally:
            # Stopped at the limit (or by an error): the payload's generator is closed
            # now, not whenever it is collected (a file or an async generator is let go).
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        proto.write_body(b"", last=True)


_NON_TOKEN = re.compile(r"[^-!#$%&'*+.^_`|~0-9a-zA-Z]")


def _raise_invalid_head(method: str, pairs: List[Tuple[str, str]], exc: Exception) -> None:
    """Raise what aiohttp raises for a head that cannot be encoded: a method with a
    character outside the token set, or a header name or value that is not a str."""
    if isinstance(method, str):
        found = _NON_TOKEN.search(method)
        if found is not None:
            raise ValueError(
                f"Method cannot contain non-token characters {method!r} (found at least {found.group()!r})"
            ) from None
    for name, value in pairs:
        for item in (name, value):
            if not isinstance(item, str):
                raise TypeError(f"Cannot serialize non-str key {item!r}") from None
    if isinstance(exc, UnicodeEncodeError):
        raise ValueError(f"Invalid characters in request method or header names: {exc}") from exc
    if isinstance(exc, AttributeError):
        raise TypeError(f"Request method, header names and values must be str: {exc}") from exc
    raise exc


def _set_chunked(pairs: List[Tuple[str, str]]) -> None:
    """Frame the body as chunked: a caller's other Transfer-Encoding (``gzip``) is
    replaced, as aiohttp replaces it, so a single TE line describes the body."""
    index = None
    for i in range(len(pairs) - 1, -1, -1):
        if pairs[i][0].lower() == "transfer-encoding":
            index = i
            del pairs[i]
    if index is None:
        pairs.append(("Transfer-Encoding", "chunked"))
    else:
        pairs.insert(index, ("Transfer-Encoding", "chunked"))


def _merge_cookie_lines(first: str, second: str) -> str:
    """Two ``Cookie`` header values as one; a name in ``second`` replaces it in ``first``."""
    merged: dict = {}
    for line in (first, second):
        for item in split_unquoted(line, ";"):
            item = item.strip()
            name = item.partition("=")[0].strip()
            if name:
                merged[name] = item
    return "; ".join(merged[name] for name in sorted(merged))  # by name, as aiohttp


def _compress_name(compress: Union[str, bool]) -> str:
    """The Content-Encoding for ``compress=``: a name as given, ``deflate`` for any
    other true value (``True``, ``1``), as aiohttp."""
    return compress if isinstance(compress, str) else "deflate"


def _compressor(compress: Union[str, bool]) -> Any:
    name = _compress_name(compress).lower()  # content codings are case-insensitive
    if name == "gzip":
        return zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.compressobj(wbits=zlib.MAX_WBITS)
    raise ValueError(f"compress must be 'deflate' or 'gzip', got {compress!r}")


def _compress(compress: Union[str, bool], data: bytes) -> bytes:
    c = _compressor(compress)
    return c.compress(data) + c.flush()


def build_body(data: Any, json: Any, json_serialize: Any, json_serialize_bytes: Any = None) -> Any:
    """The request body for ``data=``/``json=``: ``b""``, bytes, or a Payload.

    ``json_serialize_bytes`` (a ``dumps`` returning bytes, such as orjson's) wins over
    ``json_serialize``, as in aiohttp.
    """
    if json is not None:
        if data is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        from .payload import JsonBytesPayload, JsonPayload

        if json_serialize_bytes is not None:
            return JsonBytesPayload(json, dumps=json_serialize_bytes)
        return JsonPayload(json, dumps=json_serialize)
    if data is None:
        return b""
    if type(data) is bytes and data:
        return data  # the common case stays a plain bytes object (no Payload)
    # A file gets no Content-Disposition as a request body (aiohttp: disposition=None).
    return get_payload(data, disposition=None)


_VALID_HOSTS: set = set()  # hosts already checked (bounded below)


def validate_url(url: URL) -> None:
    """Raise ``InvalidURL`` for URLs that cannot be requested (checked before DNS)."""
    host = url.raw_host
    if not url.absolute or not host:
        raise InvalidUrlClientError(url)
    if host in _VALID_HOSTS:
        return
    for ch in host:
        if ch in ' \t\r\n\x00/\\?#@"<>^`{|}' or ord(ch) < 0x21 or ord(ch) == 0x7F:
            raise InvalidUrlClientError(url, "Invalid character in host")
    if len(_VALID_HOSTS) < 1024:
        _VALID_HOSTS.add(host)
