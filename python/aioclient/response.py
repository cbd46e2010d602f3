"""ClientResponse: status, headers, cookies and the body of one HTTP response."""

from __future__ import annotations

import codecs
import json as _json
import re
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple, Union

from multidict import CIMultiDict, CIMultiDictProxy, MultiDictProxy
from yarl import URL

from .cookies import parse_set_cookie_headers
from .exceptions import (
    ClientConnectionError,
    ClientResponseError,
    ContentTypeError,
    RequestInfo,
)
from .helpers import ContentDisposition, parse_content_disposition, parse_content_type, parse_links, parse_mimetype
from .streams import DEFAULT_READ_BUFSIZE, EMPTY_PAYLOAD, StreamReader

if TYPE_CHECKING:
    from .connector import BaseConnector, Connection
    from .protocol import ResponseHandler
    from .session import ClientSession
    from .tracing import Trace

__all__ = ("ClientResponse", "HttpVersion", "HttpVersion10", "HttpVersion11")

from typing import NamedTuple


class HttpVersion(NamedTuple):
    """An HTTP version as (major, minor)."""

    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)

_JSON_RE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")
_EMPTY_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())


def _default_charset_resolver(response: "ClientResponse", body: bytes) -> str:
    return "utf-8"


class ClientResponse:
    """The response to a request.

    Headers arrive from the engine as raw byte pairs and become a
    ``CIMultiDictProxy`` only when first read. The connection goes back to the pool
    as soon as the whole body has been received (it is buffered in ``content``), or is
    closed if the response is released before that.
    """

    # No __slots__: most attributes keep these class-level defaults, so a response
    # costs only the stores that differ (the fast path builds one per request).
    status = 0
    reason: Optional[str] = None
    version: Optional[HttpVersion] = None
    _raw_headers: Optional[Tuple[Tuple[bytes, bytes], ...]] = None  # made on first use
    _headers: Optional[CIMultiDictProxy[str]] = None
    _head: Any = None
    # The body stream, or the whole body as bytes until a stream is asked for.
    _content: Union[StreamReader, bytes] = EMPTY_PAYLOAD
    _read_bufsize = DEFAULT_READ_BUFSIZE
    _body: Optional[bytes] = None
    _cookies: Optional[SimpleCookie] = None
    _history: Tuple["ClientResponse", ...] = ()
    _request: Any = None  # request_info is built from it on first use
    _proto: Optional["ResponseHandler"] = None
    _connector: Optional["BaseConnector"] = None
    _traces: Optional[List["Trace"]] = None
    _released = False
    _closed = False
    _in_context = False
    _on_release: Optional[Callable[[], None]] = None
    _session: Optional["ClientSession"] = None

    def __init__(
        self,
        method: str,
        url: URL,
        request_info: Optional[RequestInfo] = None,
        request: Any = None,
        session: Optional["ClientSession"] = None,
        traces: Optional[List["Trace"]] = None,
    ) -> None:
        # Keywords as in aiohttp; positional too.
        self.method = method
        self._real_url = url
        self.url = url.with_fragment(None) if url.raw_fragment else url
        self._request_info = request_info
        if request is not None:
            self._request = request
        if session is not None:
            self._session = session
        if traces is not None:
            self._traces = traces

    def _start(self, head: Any, payload: Union[StreamReader, bytes], proto: "ResponseHandler", connector: "BaseConnector") -> None:
        """Take the parsed head and the body (a stream, or the whole body as bytes)
        from the connection."""
        self._head = head
        self.status = head.status
        self.reason = head.reason.decode("utf-8", "surrogateescape")
        self.version = HttpVersion11 if head.version_minor == 1 else HttpVersion10
        self._content = payload
        if payload.__class__ is bytes:  # complete: the connection is back in the pool
            self._read_bufsize = proto._read_bufsize
        elif not payload._eof:  # type: ignore[union-attr]
            self._proto = proto
            self._connector = connector
            payload.on_eof(self._finish)

    def _finish(self) -> None:
        """The body has been received: the connection is already back in the pool."""
        self._proto = None
        self._connector = None
        on_release, self._on_release = self._on_release, None
        if on_release is not None:
            on_release()

    @property
    def content(self) -> StreamReader:
        """The body as a stream (``read()``, ``readline()``, ``iter_chunked()``, ...)."""
        content = self._content
        if content.__class__ is bytes:
            # The body came whole with the head: its stream is made on first use.
            if not content and self._bodiless():
                # As in aiohttp, the shared empty stream, which release() leaves readable.
                self._content = EMPTY_PAYLOAD
                return EMPTY_PAYLOAD
            # A whole chunked body that came in one read was a single HTTP chunk.
            stream = StreamReader(None, self._read_bufsize, body=content, body_ends_chunk=self._head.chunked)  # type: ignore[arg-type]
            if self._body is not None:
                stream.read_nowait()  # read() has taken the body already
            if self._released:  # an empty body too, as in aiohttp
                stream.set_exception(ClientConnectionError("Connection closed"))
            content = self._content = stream
        return content  # type: ignore[return-value]

    @content.setter
    def content(self, value: StreamReader) -> None:
        self._content = value

    def _bodiless(self) -> bool:
        """No body by definition: 1xx, 204, 304, or the answer to HEAD."""
        return self.status in (204, 304) or self.status < 200 or self.method == "HEAD"

    # -- head ------------------------------------------------------------------

    @property
    def real_url(self) -> URL:
        """The URL requested, fragment included."""
        return self._real_url

    @property
    def host(self) -> str:
        """The host of the URL."""
        return self._real_url.host or ""

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """Response headers: case-insensitive, multi-valued, decoded UTF-8 (surrogateescape)."""
        headers = self._headers
        if headers is None:
            head = self._head
            pairs = head.decoded_headers() if head is not None else None
            headers = CIMultiDictProxy(CIMultiDict(pairs)) if pairs else _EMPTY_HEADERS
            self._headers = headers
        return headers

    @property
    def raw_headers(self) -> Tuple[Tuple[bytes, bytes], ...]:
        """The headers as received: ``((name, value), ...)`` in bytes."""
        raw = self._raw_headers
        if raw is None:
            head = self._head
            raw = self._raw_headers = tuple(head.headers) if head is not None else ()
        return raw

    @property
    def ok(self) -> bool:
        """True when the status is below 400."""
        return self.status < 400

    @property
    def request_info(self) -> RequestInfo:
        """The URL, method and headers of the request that got this response."""
        info = self._request_info
        if info is None:
            info = self._request_info = self._request.request_info
        return info

    @property
    def history(self) -> Tuple["ClientResponse", ...]:
        """Earlier responses of a redirect chain, oldest first."""
        return self._history

    @property
    def cookies(self) -> SimpleCookie:
        """Cookies set by this response (its ``Set-Cookie`` headers only)."""
        cookies = self._cookies
        if cookies is None:
            cookies = SimpleCookie()
            if self._head is None or self._head.has_set_cookie:
                # One cookie per field, as the jar reads them; the last of a name wins.
                dict.update(cookies, parse_set_cookie_headers(self.headers.getall("Set-Cookie", ())))
            self._cookies = cookies
        return cookies

    @property
    def content_type(self) -> str:
        """The media type, lower case, without parameters (application/octet-stream when
        Content-Type is absent or not ``type/subtype``)."""
        return parse_content_type(self._content_type_header())[0]

    @property
    def charset(self) -> Optional[str]:
        """The ``charset`` parameter of Content-Type; None if absent or empty."""
        raw = self._content_type_header()
        if not raw:
            return None
        return parse_mimetype(raw).parameters.get("charset") or None

    def _content_type_header(self) -> str:
        head = self._head
        if head is not None:
            value = head.content_type
            # decoded as the headers are (what aiohttp reads it from)
            return value.decode("utf-8", "surrogateescape") if value is not None else ""
        return self.headers.get("Content-Type", "")

    @property
    def content_length(self) -> Optional[int]:
        """The Content-Length header as an int, if present."""
        head = self._head
        if head is not None and head.content_length is not None:
            return head.content_length
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def content_disposition(self) -> Optional[ContentDisposition]:
        """The parsed Content-Disposition header, if present."""
        value = self.headers.get("Content-Disposition")
        if value is None:
            return None
        return parse_content_disposition(value)

    @property
    def links(self) -> "MultiDictProxy[MultiDictProxy[Any]]":
        """The Link header parsed into relation name → link parameters (RFC 8288)."""
        return parse_links(self.headers.getall("Link", ()), self.url)

    @property
    def connection(self) -> Optional["Connection"]:
        """The connection still carrying this response's body, if any (None once the
        body has arrived, or the response was released)."""
        proto = self._proto
        if proto is None or self._connector is None:
            return None
        from .connector import Connection  # the connector owns connections

        return Connection(self._connector, proto)

    @property
    def closed(self) -> bool:
        """True once the whole body has arrived (the connection is back in the pool)
        or the response was closed or released, as in aiohttp."""
        content = self._content
        return self._closed or self._released or content.__class__ is bytes or content._eof  # type: ignore[union-attr]

    def __repr__(self) -> str:
        """As aiohttp's: the status line, then the headers, each on its own line."""
        reason = self.reason.encode("ascii", "backslashreplace").decode("ascii") if self.reason else "None"
        return f"<ClientResponse({self.url}) [{self.status} {reason}]>\n{self.headers!s}\n"

    # -- body ------------------------------------------------------------------

    async def read(self) -> bytes:
        """Read the whole body (decoded per Content-Encoding unless disabled)."""
        body = self._body
        if body is None:
            content = self._content
            if content.__class__ is bytes:
                if self._released and (content or not self._bodiless()):
                    raise ClientConnectionError("Connection closed")  # as aiohttp, empty or not
                body = content  # the body came whole with the head
            else:
                try:
                    body = await content.read()  # type: ignore[union-attr]
                except BaseException:
                    self.close()
                    raise
            self._body = body  # type: ignore[assignment]
            traces = self._traces
            if traces:
                for trace in traces:
                    await trace.send_response_chunk_received(self.method, self.url, body)
        elif self._released:
            raise ClientConnectionError("Connection closed")  # as aiohttp: read before release
        return body

    def get_encoding(self) -> str:
        """The charset for ``text()``: Content-Type's, UTF-8 for JSON, else the resolver's."""
        ctype = self._content_type_header().lower()
        mimetype = parse_mimetype(ctype)
        encoding = mimetype.parameters.get("charset")
        if encoding:
            try:
                return codecs.lookup(encoding).name
            except (LookupError, ValueError):  # unknown, or not encodable (a stray byte)
                pass
        if mimetype.type == "application" and mimetype.subtype in ("json", "rdap"):
            return "utf-8"  # RFC 8259 §8.1 (and RFC 9083 for rdap)
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        session = self._session
        resolve = session._resolve_charset if session is not None else _default_charset_resolver
        return resolve(self, self._body)

    async def text(self, encoding: Optional[str] = None, errors: str = "strict") -> str:
        """Read the body and decode it (``encoding`` overrides the detected charset)."""
        if self._body is None:
            await self.read()
        if encoding is None:
            encoding = self.get_encoding()
        return self._body.decode(encoding, errors=errors)  # type: ignore[union-attr]

    async def json(
        self,
        *,
        encoding: Optional[str] = None,
        loads: Callable[[str], Any] = _json.loads,
        content_type: Optional[str] = "application/json",
    ) -> Any:
        """Read the body as JSON; ``content_type=None`` skips the Content-Type check."""
        if self._body is None:
            await self.read()
        if content_type:
            ctype = self._content_type_header().lower()
            if content_type == "application/json":
                expected = _JSON_RE.match(ctype) is not None
            else:
                expected = content_type in ctype
            if not expected:
                raise ContentTypeError(
                    self.request_info,
                    self.history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {ctype}",
                    headers=self.headers,
                )
        stripped = self._body.strip()  # type: ignore[union-attr]
        if not stripped:
            return None
        if encoding is None:
            encoding = self.get_encoding()
        return loads(stripped.decode(encoding))

    def raise_for_status(self) -> None:
        """Raise ``ClientResponseError`` for a status of 400 or more."""
        if self.status >= 400:
            if not self._in_context:
                self.release()
            raise ClientResponseError(
                self.request_info,
                self.history,
                status=self.status,
                message=self.reason or "",
                headers=self.headers,
            )

    # -- lifetime --------------------------------------------------------------

    def release(self) -> Any:
        """Stop using the response: the connection is closed if its body is unread.
        Reading the body afterwards raises ``ClientConnectionError``, as in aiohttp."""
        if not self._released:
            self._released = True
            if self._proto is not None or self._on_release is not None:
                self._drop_connection()
            if self._content.__class__ is not bytes:
                self._close_content()
        return _NOOP_AWAITABLE

    def close(self) -> None:
        """Close the response and its connection if the body is still arriving."""
        if not self._closed:
            self._closed = True
            self._released = True
            self._drop_connection()
            if self._content.__class__ is not bytes:
                self._close_content()

    def _close_content(self) -> None:
        content = self._content
        if content.exception() is None:  # type: ignore[union-attr]
            content.set_exception(ClientConnectionError("Connection closed"))  # type: ignore[union-attr]

    def _drop_connection(self) -> None:
        proto, connector = self._proto, self._connector
        self._proto = self._connector = None
        if proto is not None and connector is not None:
            # Mid-body: the rest of the response would be read by the next request.
            proto.payload = None
            connector.release(proto, reusable=False)
            # What was not received never will be: readers get an error, not a wait
            # (the first error stays: a timeout that closed the response says so).
            self._close_content()
        on_release, self._on_release = self._on_release, None
        if on_release is not None:
            on_release()

    async def wait_for_close(self) -> None:
        """Release the response, as aiohttp does once its request is sent (ours is, by
        the time there is a response): a body still arriving is not waited for."""
        self.release()

    async def __aenter__(self) -> "ClientResponse":
        self._in_context = True
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._in_context = False
        self.release()


class _noop_awaitable(tuple):  # type: ignore[type-arg]
    """What ``release()`` returns, so ``await resp.release()`` works as in aiohttp.

    An empty tuple whose ``__await__`` is the tuple's own (C) iterator: awaiting it
    finishes at once without running any Python code."""

    __slots__ = ()
    __await__ = tuple.__iter__


_NOOP_AWAITABLE = _noop_awaitable()
