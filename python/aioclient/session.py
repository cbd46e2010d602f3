"""ClientSession: defaults, URL building, the redirect loop and the request context.

The request path, in order: ``request()`` merges defaults → the redirect loop
(``_request``) → the middleware chain, built per hop → ``_send``, which takes a
connection from the connector, writes the request and returns the response.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json as _json
import math
import sys
import traceback
import warnings
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    Generator,
    Iterable,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, getversion
from yarl import URL

from .auth import BasicAuth
from .connector import BaseConnector, ConnectionKey, TCPConnector
from .cookies import AbstractCookieJar, CookieJar, DummyCookieJar, request_cookie_jar
from .exceptions import (
    ClientConnectionResetError,
    ClientResponseError,
    ClientOSError,
    ConnectionTimeoutError,
    InvalidURL,
    InvalidUrlClientError,
    NonHttpUrlClientError,
    ServerDisconnectedError,
)
from .helpers import DEFAULT_TIMEOUT, ClientTimeout, CoroutineWrapper, sentinel
from .middleware import build_client_middlewares
from .payload import Payload
from .redirects import BODY_HEADERS, CREDENTIAL_HEADERS, REDIRECT_STATUSES, next_hop
from .request import IDEMPOTENT_METHODS, ClientRequest, RequestInfo, build_body, validate_url
from .response import _NOOP_AWAITABLE, ClientResponse, HttpVersion11
from .streams import DEFAULT_READ_BUFSIZE
from .tls import merge_ssl_params

__all__ = ("ClientSession", "request")

_HTTP_SCHEMES = frozenset({"http", "https"})
_WS_SCHEMES = frozenset({"ws", "wss"})
_DEFAULT_SCHEMES = _HTTP_SCHEMES | _WS_SCHEMES


class _Deadline:
    """The ``total`` timeout of one request, including reading its body."""

    __slots__ = ("task", "expired", "response", "when", "_handle", "_bucket")

    def __init__(self, when: float, handle: Optional[asyncio.TimerHandle], bucket: Optional[Set["_Deadline"]]) -> None:
        self.task = asyncio.current_task()
        self.expired = False
        self.response: Optional[ClientResponse] = None
        self.when = when
        self._handle = handle
        self._bucket = bucket

    def _expire(self) -> None:
        self.expired = True
        response = self.response
        if response is None:
            if self.task is not None:
                self.task.cancel()
        elif not response.content.is_eof():
            response.content.set_exception(asyncio.TimeoutError())
            response.close()

    def cancel(self) -> None:
        if self._bucket is not None:
            self._bucket.discard(self)
        elif self._handle is not None:
            self._handle.cancel()

    def on_error(self, exc: BaseException) -> Optional[BaseException]:
        """Stop the timer after ``exc``; a ``TimeoutError`` to raise instead if it fired."""
        self.cancel()
        if self.expired and isinstance(exc, asyncio.CancelledError):
            task = asyncio.current_task()
            if task is not None and sys.version_info >= (3, 11):
                task.uncancel()
            return asyncio.TimeoutError()
        return None

    def watch(self, resp: ClientResponse) -> None:
        """The head is in: keep running until the body has been received."""
        content = resp._content
        if content.__class__ is bytes or content._eof:  # type: ignore[union-attr]
            self.cancel()
        else:
            self.response = resp
            resp._on_release = self.cancel


class _Deadlines:
    """Starts the ``total`` timeouts of a session's requests.

    A timeout above ``ceil_threshold`` ends on a whole second, as aiohttp rounds it; the
    requests whose deadline falls on the same second share one loop timer, so a busy
    session arms about one timer per second instead of one per request. A second's
    bucket holds ``_Deadline`` objects and, for the fast path, the futures of requests
    waiting for a response head (see ``head_bucket``).
    """

    __slots__ = ("_loop", "_buckets")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buckets: Dict[float, Tuple[Set[Any], asyncio.TimerHandle]] = {}

    def start(self, timeout: ClientTimeout) -> Optional[_Deadline]:
        total = timeout.total
        if not total or total < 0:  # 0 (or less) disables it, as in aiohttp
            return None
        when = self._loop.time() + total
        if total <= timeout.ceil_threshold:
            deadline = _Deadline(when, None, None)
            deadline._handle = self._loop.call_at(when, deadline._expire)
            return deadline
        return self.start_at(float(math.ceil(when)))

    def start_at(self, when: float) -> _Deadline:
        """A deadline for the current task at ``when``, a whole second."""
        bucket = self._bucket(when)
        deadline = _Deadline(when, None, bucket)
        bucket.add(deadline)
        return deadline

    def head_bucket(self, total: float) -> Tuple[float, Set[Any]]:
        """For a ``total`` above ``ceil_threshold``: its whole-second end and the set to
        put the head's future in while waiting for it. At that second, a future still
        there fails with ``TimeoutError``: no per-request object, no task lookup."""
        when = float(math.ceil(self._loop.time() + total))
        entry = self._buckets.get(when)
        if entry is None:
            return when, self._bucket(when)
        return when, entry[0]

    def _bucket(self, when: float) -> Set[Any]:
        entry = self._buckets.get(when)
        if entry is None:
            entry = self._buckets[when] = (set(), self._loop.call_at(when, self._fire, when))
        return entry[0]

    def _fire(self, when: float) -> None:
        entry = self._buckets.pop(when, None)
        if entry is not None:
            for item in list(entry[0]):
                if item.__class__ is _Deadline:
                    item._expire()
                elif not item.done():
                    item.set_exception(asyncio.TimeoutError())


class _FastPlan:
    """What never changes between two plain requests to one URL: the parsed URL, the
    pool key, the encoded head and the request info (see ``_fast_request``)."""

    __slots__ = ("url", "key", "head", "request_info", "headers_version", "no_body")

    def __init__(self, url: URL, key: ConnectionKey, head: bytes, request_info: RequestInfo, headers_version: int, no_body: bool) -> None:
        self.url = url
        self.key = key
        self.head = head
        self.request_info = request_info
        self.headers_version = headers_version
        self.no_body = no_body


_AUTH_DEPRECATED = (
    "The 'auth' parameter is deprecated, as in aiohttp 3.14;"
    " pass headers={'Authorization': aioclient.encode_basic_auth(login, password)} instead"
)
_PROXY_AUTH_DEPRECATED = (
    "The 'proxy_auth' parameter is deprecated, as in aiohttp 3.14;"
    " pass proxy_headers={'Proxy-Authorization': aioclient.encode_basic_auth(login, password)} instead"
)


def _session_timeout(timeout: Any, read_timeout: Any, conn_timeout: Optional[float]) -> ClientTimeout:
    """The session's ``ClientTimeout`` from ``timeout=`` and the deprecated
    ``read_timeout=`` / ``conn_timeout=``, checked as aiohttp checks them."""
    if timeout is sentinel or timeout is None:
        result = DEFAULT_TIMEOUT
        if read_timeout is not sentinel:
            warnings.warn("read_timeout is deprecated, use timeout argument instead", DeprecationWarning, stacklevel=3)
            result = dataclasses.replace(result, total=read_timeout)
        if conn_timeout is not None:
            result = dataclasses.replace(result, connect=conn_timeout)
            warnings.warn("conn_timeout is deprecated, use timeout argument instead", DeprecationWarning, stacklevel=3)
        return result
    if not isinstance(timeout, ClientTimeout):
        raise ValueError(
            f"timeout parameter cannot be of {type(timeout)} type, please use 'timeout=ClientTimeout(...)'"
        )
    if read_timeout is not sentinel:
        raise ValueError("read_timeout and timeout parameters conflict, please setup timeout.read")
    if conn_timeout is not None:
        raise ValueError("conn_timeout and timeout parameters conflict, please setup timeout.connect")
    return timeout


_MAX_FAST_PLANS = 256
# Session defaults that a redirect may have to remove: such sessions take the general path.
_UNPLANNED_HEADERS = (*BODY_HEADERS, *CREDENTIAL_HEADERS)


class ClientSession:
    """The entry point for requests: holds the connection pool, cookie jar and defaults.

    Use it as ``async with ClientSession() as session:`` and share one session across
    many requests; ``await session.close()`` returns once every connection is closed.
    """

    _connector: Optional[BaseConnector] = None  # read by __del__ even if __init__ failed
    _source_traceback: Optional[traceback.StackSummary] = None  # set in debug mode

    def __init_subclass__(cls) -> None:
        warnings.warn(f"Inheritance class {cls.__name__} from ClientSession is discouraged", DeprecationWarning, stacklevel=2)

    def __init__(
        self,
        base_url: Union[str, URL, None] = None,
        *,
        connector: Optional[BaseConnector] = None,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        cookies: Any = None,
        headers: Any = None,
        proxy: Union[str, URL, None] = None,
        proxy_auth: Optional[BasicAuth] = None,
        skip_auto_headers: Optional[Iterable[str]] = None,
        auth: Optional[BasicAuth] = None,
        json_serialize: Callable[[Any], str] = _json.dumps,
        json_serialize_bytes: Optional[Callable[[Any], bytes]] = None,
        request_class: Any = ClientRequest,
        response_class: Any = ClientResponse,
        ws_response_class: Any = None,
        version: Tuple[int, int] = HttpVersion11,
        cookie_jar: Optional[AbstractCookieJar] = None,
        connector_owner: bool = True,
        raise_for_status: Union[bool, Callable[[ClientResponse], Awaitable[None]]] = False,
        read_timeout: Any = sentinel,
        conn_timeout: Optional[float] = None,
        timeout: Any = sentinel,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: Optional[List[Any]] = None,
        read_bufsize: int = DEFAULT_READ_BUFSIZE,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        fallback_charset_resolver: Callable[[ClientResponse, bytes], str] = lambda r, b: "utf-8",
        middlewares: Sequence[Any] = (),
        max_decompressed_size: Optional[int] = None,
        ssl_shutdown_timeout: Any = sentinel,
    ) -> None:
        if loop is None and connector is not None:
            loop = connector._loop
        self._loop = loop or asyncio.get_running_loop()
        self._deadlines = _Deadlines(self._loop)
        if base_url is None or isinstance(base_url, URL):
            self._base_url: Optional[URL] = base_url
        else:
            self._base_url = URL(base_url)
        if self._base_url is not None:
            if not self._base_url.absolute:
                raise ValueError("Only absolute URLs are supported")
            if self._base_url.path and not self._base_url.path.endswith("/"):
                raise ValueError("base_url must have a trailing '/'")
        # The timeouts are checked before a connector is made: a session that fails
        # here leaves nothing to close (no "Unclosed client session" later).
        self._timeout = _session_timeout(timeout, read_timeout, conn_timeout)
        if ssl_shutdown_timeout is not sentinel:
            warnings.warn(
                "The ssl_shutdown_timeout parameter is deprecated, as in aiohttp 3.14",
                DeprecationWarning,
                stacklevel=2,
            )
        if connector is None:
            if ssl_shutdown_timeout is not sentinel:
                with warnings.catch_warnings():  # said once, above
                    warnings.simplefilter("ignore", DeprecationWarning)
                    connector = TCPConnector(loop=self._loop, ssl_shutdown_timeout=ssl_shutdown_timeout)
            else:
                connector = TCPConnector(loop=self._loop)
        if connector._loop is not self._loop:
            raise RuntimeError("Session and connector has to use same event loop")
        if self._loop.get_debug():  # where an unclosed session was made (as aiohttp)
            self._source_traceback = traceback.extract_stack(sys._getframe(1))
        if auth is not None:
            warnings.warn(_AUTH_DEPRECATED, DeprecationWarning, stacklevel=2)
        if proxy_auth is not None:
            warnings.warn(_PROXY_AUTH_DEPRECATED, DeprecationWarning, stacklevel=2)
        self._connector = connector
        self._connector_owner = connector_owner
        self._cookie_jar = cookie_jar if cookie_jar is not None else CookieJar(loop=self._loop)
        # Our own jars have no cookies to give when empty; a jar of the caller's class is
        # asked on every request (its filter_cookies may find cookies elsewhere).
        self._empty_jar_gives_none = type(self._cookie_jar) in (CookieJar, DummyCookieJar)
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._skip_auto_headers = frozenset(skip_auto_headers) if skip_auto_headers else frozenset()
        self._default_auth = auth
        self._default_proxy = URL(proxy) if isinstance(proxy, str) else proxy
        self._default_proxy_auth = proxy_auth
        self._json_serialize = json_serialize
        self._json_serialize_bytes = json_serialize_bytes  # wins over json_serialize (aiohttp)
        self._request_class = request_class
        self._response_class = response_class
        self._ws_response_class = ws_response_class
        self._version = version
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        self._requote_redirect_url = requote_redirect_url
        self._trace_configs = list(trace_configs or ())
        for trace_config in self._trace_configs:
            trace_config.freeze()
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._head_limits = (max_line_size, max_field_size, max_headers)
        self._resolve_charset = fallback_charset_resolver
        self._middlewares = tuple(middlewares)
        self._max_decompressed_size = max_decompressed_size
        # Sessions whose requests need no per-request decisions beyond the URL may
        # take the fast path (``_fast_request``) for requests without arguments.
        self._plain = (
            not self._middlewares
            and self._default_proxy is None
            and not trust_env
            and auth is None
            and request_class is ClientRequest
            and response_class is ClientResponse
            and raise_for_status in (False, True)
            # The fast path takes pooled connections itself: not for connectors with
            # their own connect().
            and type(self._connector).connect is BaseConnector.connect
        )
        self._fast_plans: Dict[str, Dict[Any, _FastPlan]] = {}  # method -> URL as given -> plan

    # -- lifetime --------------------------------------------------------------

    def __del__(self, _warnings: Any = warnings) -> None:
        # As aiohttp: a warning, and the loop's exception handler (visible by default).
        if getattr(self, "_connector", None) is not None and not self.closed:
            _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
            loop = getattr(self, "_loop", None)
            if loop is not None and not loop.is_closed():
                context: Dict[str, Any] = {"client_session": self, "message": "Unclosed client session"}
                if self._source_traceback is not None:
                    context["source_traceback"] = self._source_traceback
                loop.call_exception_handler(context)

    def __enter__(self) -> None:
        raise TypeError("Use async with instead")

    def __exit__(self, *args: Any) -> None:  # pragma: no cover - __enter__ raises
        pass

    async def __aenter__(self) -> "ClientSession":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connector (if owned); returns once every transport is closed."""
        if not self.closed:
            if self._connector is not None and self._connector_owner:
                await self._connector.close()
            self._connector = None

    @property
    def closed(self) -> bool:
        """True once the session is closed or detached."""
        return self._connector is None or self._connector.closed

    def detach(self) -> None:
        """Forget the connector without closing it; the session counts as closed."""
        self._connector = None

    # -- attributes ------------------------------------------------------------

    @property
    def connector(self) -> Optional[BaseConnector]:
        """The connector (connection pool) of this session."""
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        """The session's cookie jar."""
        return self._cookie_jar

    @property
    def headers(self) -> CIMultiDict[str]:
        """Default headers: a mutable copy made at construction."""
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset:
        """Headers not added automatically."""
        return self._skip_auto_headers

    @property
    def auth(self) -> Optional[BasicAuth]:
        """Default Basic credentials."""
        return self._default_auth

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        """The function that serialises ``json=`` bodies."""
        return self._json_serialize

    @property
    def version(self) -> Tuple[int, int]:
        """The HTTP version sent."""
        return self._version

    @property
    def timeout(self) -> ClientTimeout:
        """The default timeouts."""
        return self._timeout

    @property
    def raise_for_status(self) -> Any:
        """Whether (or how) responses are checked for error statuses."""
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        """True when bodies are decoded per Content-Encoding."""
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        """True when proxy settings and .netrc are read from the environment."""
        return self._trust_env

    @property
    def requote_redirect_url(self) -> bool:
        """True when redirect URLs are re-quoted."""
        return self._requote_redirect_url

    @requote_redirect_url.setter
    def requote_redirect_url(self, value: bool) -> None:
        """Deprecated (as in aiohttp): pass ``requote_redirect_url=`` to the session."""
        warnings.warn(
            "session.requote_redirect_url modification is deprecated #2778", DeprecationWarning, stacklevel=2
        )
        self._requote_redirect_url = value

    @property
    def trace_configs(self) -> List[Any]:
        """The tracing configurations."""
        return self._trace_configs

    @property
    def connector_owner(self) -> bool:
        """True when closing the session closes the connector."""
        return self._connector_owner

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop (deprecated, with aiohttp's warning)."""
        warnings.warn("client.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    # -- requests --------------------------------------------------------------

    def request(self, method: str, url: Union[str, URL], **kwargs: Any) -> "_RequestContextManager":
        """Make a request: ``await`` it, or use it with ``async with``."""
        if not kwargs and self._plain and not self._trace_configs:
            return _FastRequestContextManager(self, method.upper(), url, True)
        return _RequestContextManager(self._request(method, url, **kwargs))

    def get(self, url: Union[str, URL], *, allow_redirects: bool = True, **kwargs: Any) -> "_RequestContextManager":
        """GET ``url``."""
        if not kwargs and self._plain and not self._trace_configs:
            return _FastRequestContextManager(self, "GET", url, allow_redirects)
        return _RequestContextManager(self._request("GET", url, allow_redirects=allow_redirects, **kwargs))

    def options(self, url: Union[str, URL], *, allow_redirects: bool = True, **kwargs: Any) -> "_RequestContextManager":
        """OPTIONS ``url``."""
        return _RequestContextManager(self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs))

    def head(self, url: Union[str, URL], *, allow_redirects: bool = False, **kwargs: Any) -> "_RequestContextManager":
        """HEAD ``url`` (redirects not followed by default, as aiohttp)."""
        if not kwargs and self._plain and not self._trace_configs:
            return _FastRequestContextManager(self, "HEAD", url, allow_redirects)
        return _RequestContextManager(self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs))

    def post(self, url: Union[str, URL], *, data: Any = None, **kwargs: Any) -> "_RequestContextManager":
        """POST ``data`` (or ``json=``) to ``url``."""
        return _RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(self, url: Union[str, URL], *, data: Any = None, **kwargs: Any) -> "_RequestContextManager":
        """PUT ``data`` to ``url``."""
        return _RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(self, url: Union[str, URL], *, data: Any = None, **kwargs: Any) -> "_RequestContextManager":
        """PATCH ``url`` with ``data``."""
        return _RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: Union[str, URL], **kwargs: Any) -> "_RequestContextManager":
        """DELETE ``url``."""
        return _RequestContextManager(self._request("DELETE", url, **kwargs))

    def _build_url(self, str_or_url: Union[str, URL]) -> URL:
        url = str_or_url if isinstance(str_or_url, URL) else URL(str_or_url)
        if self._base_url is not None and not url.absolute:
            return self._base_url.join(url)
        return url

    def _prepare_headers(self, headers: Any) -> CIMultiDict[str]:
        """Session defaults overlaid by per-request headers (repeated names kept)."""
        result: CIMultiDict[str] = CIMultiDict(self._default_headers)
        if headers:
            if not isinstance(headers, (MultiDictProxy, MultiDict, CIMultiDictProxy, CIMultiDict)):
                headers = CIMultiDict(headers)
            added: set = set()
            for key, value in headers.items():
                if key in added:
                    result.add(key, value)
                else:
                    result[key] = value
                    added.add(key)
        return result

    async def _request(
        self,
        method: str,
        str_or_url: Union[str, URL],
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Optional[Iterable[str]] = None,
        auth: Optional[BasicAuth] = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: Union[str, bool, None] = None,
        chunked: Optional[bool] = None,
        expect100: bool = False,
        raise_for_status: Any = None,
        read_until_eof: bool = True,
        proxy: Union[str, URL, None] = None,
        proxy_auth: Optional[BasicAuth] = None,
        timeout: Any = sentinel,
        verify_ssl: Optional[bool] = None,
        fingerprint: Optional[bytes] = None,
        ssl_context: Any = None,
        ssl: Any = True,
        server_hostname: Optional[str] = None,
        proxy_headers: Any = None,
        trace_request_ctx: Any = None,
        read_bufsize: Optional[int] = None,
        auto_decompress: Optional[bool] = None,
        max_line_size: Optional[int] = None,
        max_field_size: Optional[int] = None,
        max_headers: Optional[int] = None,
        middlewares: Optional[Sequence[Any]] = None,
        max_decompressed_size: Any = sentinel,
        _history: Optional[List[ClientResponse]] = None,
        _deadline: Optional[_Deadline] = None,
        _retried: bool = False,
    ) -> ClientResponse:
        # _deadline: the total timeout already running (a chain the fast path began).
        # _retried: the fast path already sent this request once on a pooled connection
        # the server had closed; the first send here is then the one retry.
        if self.closed:
            raise RuntimeError("Session is closed")
        method = method.upper()
        ssl = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        if auth is not None:
            warnings.warn(_AUTH_DEPRECATED, DeprecationWarning, stacklevel=3)
        if proxy_auth is not None:
            warnings.warn(_PROXY_AUTH_DEPRECATED, DeprecationWarning, stacklevel=3)
        if data is not None and json is not None:
            raise ValueError("data and json parameters can not be used at the same time")
        if chunked is not None and not isinstance(chunked, bool):
            warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=3)
        try:
            url = self._build_url(str_or_url)
        except ValueError as exc:
            raise InvalidUrlClientError(str_or_url) from exc
        allowed = getattr(self._connector, "allowed_protocol_schema_set", _DEFAULT_SCHEMES)
        if url.scheme and url.scheme not in allowed:
            # mailto:, file:, ... (before the host check, as aiohttp); a connector may
            # allow more (UnixConnector: unix://, TCPConnector: tcp://), as in aiohttp.
            raise NonHttpUrlClientError(url)
        if timeout is sentinel:
            real_timeout = self._timeout
        elif timeout is None:
            real_timeout = ClientTimeout()
        elif isinstance(timeout, ClientTimeout):
            real_timeout = timeout
        else:
            real_timeout = ClientTimeout(total=timeout)
        # As aiohttp: json= is serialized before the request is traced, data= after.
        body = None if json is None else build_body(data, json, self._json_serialize, self._json_serialize_bytes)
        if params:
            url = url.extend_query(params)
        headers = self._prepare_headers(headers)
        traces = None
        if self._trace_configs:
            from .tracing import make_traces

            # As aiohttp: traced from here, so a URL or argument refused below is an
            # on_request_exception, and on_request_start sees the URL's credentials.
            traces = make_traces(self, self._trace_configs, trace_request_ctx)
            for trace in traces:
                await trace.send_request_start(method, url, headers)
        try:
            if not url.absolute or not url.raw_host:
                raise InvalidUrlClientError(url)
            validate_url(url)
            if ssl is True:
                ssl = getattr(self._connector, "_ssl", True)

            url_auth = BasicAuth.from_url(url)
            if url_auth is not None:
                url = url.with_user(None)
                if auth is not None:
                    raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
                auth = url_auth
            auth = await self._auth_for(url, auth, headers)

            if max_decompressed_size is sentinel:
                max_decompressed_size = self._max_decompressed_size

            if proxy is None:
                proxy = self._default_proxy
                if proxy_auth is None:
                    proxy_auth = self._default_proxy_auth
            proxy_url = URL(proxy) if isinstance(proxy, str) else proxy
            if proxy_url is not None:
                from .proxy import check_proxy_url

                proxy_url, proxy_auth = check_proxy_url(proxy_url, proxy_auth)
            elif self._trust_env:
                from .proxy import proxy_from_env

                proxy_url, proxy_auth = proxy_from_env(url, proxy_auth)
            proxy_headers_multi = CIMultiDict(proxy_headers) if proxy_headers else None

            if body is None:
                body = build_body(data, None, self._json_serialize, self._json_serialize_bytes)
            # Payloads to close once the chain is over (a file given as data= among them).
            bodies: List[Any] = [body] if isinstance(body, Payload) else []
            chain_middlewares = self._middlewares if middlewares is None else tuple(middlewares)
            # Per-request cookies= go through a jar of their own (never the session's), so
            # Morsel attributes (secure, domain, path, max-age) apply as in aiohttp.
            request_jar: Optional[CookieJar] = None
            if cookies:
                request_jar = request_cookie_jar(self._cookie_jar)
                request_jar.update_cookies(cookies)
            request_origin = url.origin() if request_jar is not None else None
        except BaseException as exc:
            if traces:
                for trace in traces:
                    await trace.send_request_exception(method, url, headers, exc)
            raise
        history: List[ClientResponse] = _history if _history is not None else []
        credentials_dropped = False
        # Started last, right before the try that stops it on any error.
        deadline = _deadline if _deadline is not None else self._deadlines.start(real_timeout)
        resp: Optional[ClientResponse] = None
        may_retry = not _retried
        try:
            while True:
                req = self._request_class(
                    method,
                    url,
                    headers=headers,
                    body=body,
                    session=self,
                    skip_auto_headers=(
                        self._skip_auto_headers | frozenset(skip_auto_headers)
                        if skip_auto_headers
                        else self._skip_auto_headers
                    ),
                    auth=auth,
                    chunked=chunked,
                    compress=compress,
                    expect100=expect100,
                    proxy=proxy_url,
                    proxy_auth=proxy_auth,
                    proxy_headers=proxy_headers_multi,
                    ssl=ssl,
                    server_hostname=server_hostname,
                    version=self._version,
                    auto_decompress=self._auto_decompress if auto_decompress is None else auto_decompress,
                    read_until_eof=read_until_eof,
                    max_line_size=max_line_size or self._max_line_size,
                    max_field_size=max_field_size or self._max_field_size,
                    max_headers=max_headers or self._max_headers,
                    read_bufsize=read_bufsize or self._read_bufsize,
                )
                # Per-request cookies stay with the origin they were given for.
                own_cookies = None
                if request_jar is not None and not credentials_dropped and url.origin() == request_origin:
                    own_cookies = [(name, m.coded_value) for name, m in request_jar.filter_cookies(url).items()]
                req._cookie_header = self._cookie_header(url, own_cookies)
                send = _Sender(self, real_timeout, traces, max_decompressed_size, may_retry)
                may_retry = True
                handler = build_client_middlewares(send, chain_middlewares) if chain_middlewares else send
                resp = await handler(req)
                if isinstance(req._body, Payload) and not any(req._body is b for b in bodies):
                    bodies.append(req._body)  # set by a middleware
                # Cookies come from the response the middlewares settled on, not from
                # the attempts they made on the way (as in aiohttp).
                head = getattr(resp, "_head", None)
                if head is None or head.has_set_cookie:
                    self._cookie_jar.update_cookies_from_headers(resp.headers.getall("Set-Cookie", ()), resp.url)
                if not allow_redirects or resp.status not in REDIRECT_STATUSES:
                    break
                if traces:  # before the hop is checked (the last one of too many too), as aiohttp
                    for trace in traces:
                        await trace.send_request_redirect(method, url, headers, resp)
                hop = next_hop(resp, req, history, max_redirects, self._requote_redirect_url)
                if hop is None:
                    break  # a redirect status without Location: return it as is
                method, url, body, headers, drop = hop.method, hop.url, hop.body, hop.headers, hop.drop_credentials
                url_auth = BasicAuth.from_url(url)
                if url_auth is not None:
                    # Credentials in the redirect URL supersede earlier ones (the spec).
                    auth = url_auth
                    url = url.with_user(None)
                elif drop:
                    auth = None
                # As aiohttp, per hop: the session's auth (or .netrc's) for the new URL
                # when the request has none left.
                auth = await self._auth_for(url, auth, headers)
                if drop:
                    # Proxy-Authorization stays: the proxy is the same for every hop.
                    credentials_dropped = True
            resp._history = tuple(history)
            # raise_for_status fails the request: traced as its exception, not its end.
            check = self._raise_for_status if raise_for_status is None else raise_for_status
            if check is True:
                resp.raise_for_status()
            elif check:
                await check(resp)
            if traces:
                for trace in traces:
                    await trace.send_request_end(method, url, headers, resp)
        except BaseException as exc:
            if resp is not None:
                resp.close()  # failed after a response came (raise_for_status, a callback): free its connection
            timed_out = deadline.on_error(exc) if deadline is not None else None
            if timed_out is not None:
                if traces:
                    for trace in traces:
                        await trace.send_request_exception(method, url, headers, timed_out)
                raise timed_out from None
            if traces:  # a cancelled request too: tracers count requests in flight
                for trace in traces:
                    await trace.send_request_exception(method, url, headers, exc)
            raise
        finally:
            # As aiohttp: the body is closed once the whole chain is over (every
            # redirect followed, or failed), so a 307/308 could send it again; a file
            # is closed, a BytesIO or bytes stays usable.
            for payload in bodies:
                closed = payload.close()
                if inspect.isawaitable(closed):
                    await closed
        if deadline is not None:
            deadline.watch(resp)
        return resp

    async def _auth_for(self, url: URL, auth: Optional[BasicAuth], headers: CIMultiDict[str]) -> Optional[BasicAuth]:
        """The credentials for a request (or redirect hop) to ``url``: ``auth``, else the
        session's (for URLs under ``base_url``), else ``.netrc``'s with ``trust_env``.
        ``ValueError`` if an Authorization header is there too, as aiohttp."""
        if auth is None and (self._base_url is None or self._base_url.origin() == url.origin()):
            auth = self._default_auth
        if auth is not None and not isinstance(auth, BasicAuth):
            raise TypeError("BasicAuth() tuple is required instead")
        if auth is None and self._trust_env and "Authorization" not in headers and url.host:
            from .proxy import netrc_auth

            auth = await self._loop.run_in_executor(None, netrc_auth, url.host)
        if auth is not None and "Authorization" in headers:
            raise ValueError(
                "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
            )
        return auth

    async def _fast_request(
        self, method: str, str_or_url: Union[str, URL], allow_redirects: bool, context: Optional["_RequestContextManager"] = None
    ) -> ClientResponse:
        """A request with no arguments on a plain session, to an idle pooled connection.

        Everything that depends only on the URL (parsing, validation, the pool key, the
        encoded head) comes from a cached ``_FastPlan``; what the general path would
        decide per request (auth, proxy, cookies, middlewares, traces) is known to be
        absent. Anything else — no idle connection, cookies in the jar, a URL the
        general path must reject — goes to ``_request``, which behaves the same, only
        slower. A redirect is followed by ``_request`` from the second hop on.
        ``context``: the ``async with`` that awaits this directly (it gets the response).
        """
        connector = self._connector
        if connector is None or connector._closed:
            raise RuntimeError("Session is closed")
        plans = self._fast_plans.get(method)
        plan = None if plans is None else plans.get(str_or_url)
        if plan is None or plan.headers_version != getversion(self._default_headers):
            plan = self._make_fast_plan(method, str_or_url)
        proto = None
        if plan is not None and self._empty_jar_gives_none and not len(self._cookie_jar):
            proto = connector._take_idle(plan.key)
        if proto is None:
            return _entered(context, await self._request(method, str_or_url, allow_redirects=allow_redirects))
        lease = proto.lease

        timeout = self._timeout
        total = timeout.total
        deadline: Optional[_Deadline] = None
        heads: Optional[Set[Any]] = None  # the total timeout's bucket, while waiting for the head
        if total and total > timeout.ceil_threshold:
            when, heads = self._deadlines.head_bucket(total)
        else:
            deadline = self._deadlines.start(timeout)
        try:
            waiter = None
            try:
                waiter = proto.send_plain(
                    plan.head,
                    plan.no_body,
                    self._auto_decompress,
                    self._max_decompressed_size,
                    timeout.sock_read,
                    self._read_bufsize,
                    self._head_limits,
                    connector.release,
                )
                if heads is not None:
                    heads.add(waiter)
                head, payload = await waiter
            except BaseException as exc:
                if heads is not None:
                    heads.discard(waiter)
                connector.release(proto, reusable=False, lease=lease)
                if (
                    isinstance(exc, (ServerDisconnectedError, ClientConnectionResetError, ClientOSError))
                    and method in IDEMPOTENT_METHODS
                ):
                    # The connection closed before the response head (the server dropped
                    # it as we sent): send once more on another connection, as the
                    # general path does, within the same total.
                    if heads is not None:
                        deadline = self._deadlines.start_at(when)
                    redone = await self._request(
                        method, str_or_url, allow_redirects=allow_redirects, _deadline=deadline, _retried=True
                    )
                    return _entered(context, redone)
                if isinstance(exc, ClientResponseError) and exc.request_info is None:
                    exc.request_info = plan.request_info
                raise
            if heads is not None:
                heads.discard(waiter)
            resp = ClientResponse(method, plan.url, plan.request_info, None, self)
            resp._start(head, payload, proto, connector)
            redirect = allow_redirects and resp.status in REDIRECT_STATUSES
            if heads is not None and (redirect or (payload.__class__ is not bytes and not payload._eof)):
                # The body (or the redirect chain) still runs under the same total.
                deadline = self._deadlines.start_at(when)
            if head.has_set_cookie:
                self._cookie_jar.update_cookies_from_headers(resp.headers.getall("Set-Cookie", ()), plan.url)
            if redirect:
                redirected = await self._follow_from_fast(method, plan, resp, deadline)
                if redirected is not None:
                    return _entered(context, redirected)
        except BaseException as exc:
            timed_out = deadline.on_error(exc) if deadline is not None else None
            if timed_out is not None:
                raise timed_out from None
            raise
        if deadline is not None:
            deadline.watch(resp)
        if self._raise_for_status:
            resp.raise_for_status()
        if context is not None:  # _entered(context, resp), inline: this is every request
            context._resp = resp
            resp._in_context = True
        return resp

    async def _follow_from_fast(self, method: str, plan: _FastPlan, resp: ClientResponse, deadline: Optional[_Deadline]) -> Optional[ClientResponse]:
        """The first hop of a redirect taken by the fast path: the rest of the chain is
        the general path's, with this response as its history. ``None``: not a hop."""
        history: List[ClientResponse] = []
        hop = next_hop(resp, self._plan_request(method, plan.url), history, 10, self._requote_redirect_url)
        if hop is None:
            return None
        # The rest of the chain runs under the same ``total`` deadline.
        return await self._request(hop.method, hop.url, _history=history, _deadline=deadline)

    def _plan_request(self, method: str, url: URL) -> ClientRequest:
        """The ClientRequest that ``_request`` would build for a request without arguments."""
        req = ClientRequest(
            method,
            url,
            headers=CIMultiDict(self._default_headers),
            body=b"",
            session=self,
            skip_auto_headers=self._skip_auto_headers,
            ssl=getattr(self._connector, "_ssl", True),
            version=self._version,
            auto_decompress=self._auto_decompress,
            max_line_size=self._max_line_size,
            max_field_size=self._max_field_size,
            max_headers=self._max_headers,
            read_bufsize=self._read_bufsize,
        )
        req._cookie_header = None
        return req

    def _make_fast_plan(self, method: str, str_or_url: Union[str, URL]) -> Optional[_FastPlan]:
        """Build (and cache) the plan for ``method`` on ``str_or_url``; ``None`` when
        the request needs the general path (which also raises any error for it)."""
        headers = self._default_headers
        if method == "CONNECT" or any(name in headers for name in _UNPLANNED_HEADERS):
            return None
        try:
            url = self._build_url(str_or_url)
            if url.scheme not in _HTTP_SCHEMES or url.raw_user is not None:
                return None
            validate_url(url)
            req = self._plan_request(method, url)
            head, chunked = req.encode_head(b"")
        except (ValueError, InvalidURL):
            return None
        if chunked:
            return None
        plan = _FastPlan(url, connection_key(req), head, req.request_info, getversion(headers), method == "HEAD")
        if sum(map(len, self._fast_plans.values())) >= _MAX_FAST_PLANS:
            self._fast_plans.clear()  # a bound on all of them, whatever the methods
        self._fast_plans.setdefault(method, {})[str_or_url] = plan
        return plan

    def _cookie_header(self, url: URL, request_cookies: Optional[List[Tuple[str, str]]]) -> Optional[str]:
        """The Cookie header for ``url``: jar cookies plus per-request ones."""
        jar = self._cookie_jar
        if self._empty_jar_gives_none and not len(jar):
            if not request_cookies:
                return None
            morsels = None
        else:
            morsels = jar.filter_cookies(url)
        values: Dict[str, str] = {}
        if morsels:
            for name, morsel in morsels.items():
                values[name] = morsel.coded_value
        if request_cookies:
            values.update(request_cookies)  # the request's own win over the jar's
        # Sorted by name, as aiohttp sends them (SimpleCookie's output order).
        return "; ".join(f"{name}={values[name]}" for name in sorted(values)) if values else None

    # -- websocket -------------------------------------------------------------

    def ws_connect(self, url: Union[str, URL], **kwargs: Any) -> Any:
        """Open a WebSocket connection (see :mod:`aioclient.websocket`)."""
        from .websocket import _WSRequestContextManager, ws_connect

        return _WSRequestContextManager(ws_connect(self, url, **kwargs))


def connection_key(req: ClientRequest) -> ConnectionKey:
    """The pool key of the connection ``req`` needs."""
    is_ssl = req.is_ssl
    # ssl= matters for a TLS target, and for an https:// proxy (see _open_via_proxy).
    tls_proxy = req.proxy is not None and req.proxy.scheme == "https"
    proxy_headers = tuple(req.proxy_headers.items()) if req.proxy_headers and req.proxy else None
    return ConnectionKey(
        req.url.raw_host or "",
        req.url.port,
        is_ssl,
        req.ssl if is_ssl or tls_proxy else True,
        req.proxy,
        req.proxy_auth,
        hash(proxy_headers) if proxy_headers else None,
        req.server_hostname if is_ssl else None,
        req.url.scheme == "ws" and req.proxy is not None,
        proxy_headers,
    )


class _Sender:
    """The innermost handler: one request on one connection, to its response head.

    An idempotent request whose connection the server closed before the whole response
    head came (an idle pooled connection it dropped as we sent, or a server restarting)
    is sent once more on a new connection, as aiohttp does (RFC 9112 §9.3.1).
    """

    __slots__ = ("_session", "_timeout", "_traces", "_max_decompressed_size", "_may_retry")

    def __init__(
        self, session: ClientSession, timeout: ClientTimeout, traces: Any, max_decompressed_size: Optional[int], may_retry: bool = True
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._traces = traces
        self._max_decompressed_size = max_decompressed_size
        self._may_retry = may_retry  # False: this request was sent once already

    async def __call__(self, req: ClientRequest) -> ClientResponse:
        session = self._session
        connector = session._connector
        if connector is None:
            raise RuntimeError("Session is closed")
        if req.url.scheme in _WS_SCHEMES and req.method != "GET":
            raise NonHttpUrlClientError(req.url)
        body = req._body  # bytes as given (the fast writes), or a Payload
        head, chunked = req.encode_head(body)  # validation happens here, before connecting
        key = connection_key(req)
        for attempt in (0, 1):
            proto = await self._connect(connector, key, req)
            try:
                return await self._exchange(proto, connector, req, head, chunked, body)
            except (ServerDisconnectedError, ClientConnectionResetError, ClientOSError):
                if (
                    attempt == 0
                    and self._may_retry
                    and req.method in IDEMPOTENT_METHODS
                    and (isinstance(body, bytes) or getattr(body, "replayable", False))
                ):
                    continue  # the connection closed before the response head: retry
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self, connector: BaseConnector, key: ConnectionKey, req: ClientRequest) -> Any:
        timeout = self._timeout
        try:
            return await connector.connect(key, self._traces, timeout)
        except ConnectionTimeoutError as exc:
            # As aiohttp: whatever timed out (the pool wait, DNS, the TCP connect, a
            # proxy, a Unix socket), the message names the request's URL.
            url = req.url.with_fragment(None) if req.url.raw_fragment else req.url
            raise ConnectionTimeoutError(f"Connection timeout to host {url}") from (exc.__cause__ or exc)

    async def _exchange(self, proto: Any, connector: BaseConnector, req: ClientRequest, head: bytes, chunked: bool, body: Any) -> ClientResponse:
        session = self._session
        traces = self._traces
        proto.prepare(self._timeout.sock_read, req.read_bufsize, (req.max_line_size, req.max_field_size, req.max_headers))
        proto.on_message_complete = connector.release
        lease = proto.lease
        try:
            on_chunk = on_head = None
            if traces:
                on_chunk = _chunk_sent_notifier(traces, req.method, req.url)
                on_head = _headers_sent_notifier(traces, req)
            proto.sending_body = True
            try:
                waiter = await req.send(proto, head, chunked, body, self._max_decompressed_size, on_chunk, on_head)
            finally:
                proto.sending_body = False
            if proto.release_when_sent:  # the response came and ended while the body went
                connector.release(proto)
            head_event, payload = await waiter
        except BaseException as exc:
            connector.release(proto, reusable=False, lease=lease)
            if isinstance(exc, ClientResponseError) and exc.request_info is None:
                exc.request_info = req.request_info  # a malformed response to this request
            raise
        resp = session._response_class(
            req.method,
            req.original_url,  # what the caller asked for, whatever a middleware sent
            request=req,
            session=session,
            traces=traces,
        )
        resp._start(head_event, payload, proto, connector)
        return resp


def _chunk_sent_notifier(traces: Any, method: str, url: URL) -> Callable[[bytes], Awaitable[None]]:
    async def notify(chunk: bytes) -> None:
        for trace in traces:
            await trace.send_request_chunk_sent(method, url, chunk)

    return notify


def _headers_sent_notifier(traces: Any, req: ClientRequest) -> Callable[[], Awaitable[None]]:
    async def notify() -> None:
        headers = CIMultiDict(req._sent_header_pairs)  # every header on the wire, auto ones too
        for trace in traces:
            await trace.send_request_headers(req.method, req.url, headers)

    return notify


class _RequestContextManager(CoroutineWrapper):
    """What ``session.get()`` returns: awaitable, and an async context manager."""

    __slots__ = ("_resp",)

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse]) -> None:
        self._coro = coro
        self._resp: Optional[ClientResponse] = None

    async def __aenter__(self) -> ClientResponse:
        resp = self._resp = await self._coro
        if type(resp) is ClientResponse:  # its __aenter__, without a coroutine
            resp._in_context = True
            return resp
        return await resp.__aenter__()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        resp = self._resp
        assert resp is not None
        if type(resp) is ClientResponse:  # its __aexit__, without a coroutine
            resp._in_context = False
            resp.release()
        else:
            await resp.__aexit__(exc_type, exc, tb)


def _entered(context: Optional[_RequestContextManager], resp: ClientResponse) -> ClientResponse:
    """``resp`` handed to the ``async with`` that awaits the fast path (if one does)."""
    if context is not None:
        context._resp = resp
        resp._in_context = True
    return resp


class _FastRequestContextManager(_RequestContextManager):
    """``_RequestContextManager`` for the fast path: ``async with`` awaits the request's
    coroutine itself (no ``__aenter__`` coroutine around it) and leaving needs none
    either; the coroutine is made when first needed."""

    __slots__ = ("_session", "_method", "_url", "_allow_redirects", "_made")

    def __init__(self, session: ClientSession, method: str, url: Union[str, URL], allow_redirects: bool) -> None:
        self._session = session
        self._method = method
        self._url = url
        self._allow_redirects = allow_redirects
        self._resp = None
        self._made: Optional[Coroutine[Any, Any, ClientResponse]] = None

    @property  # type: ignore[override]
    def _coro(self) -> Coroutine[Any, Any, ClientResponse]:
        """The request's coroutine when awaited or driven by hand (send/throw/close)."""
        if self._made is None:
            self._made = self._session._fast_request(self._method, self._url, self._allow_redirects)
        return self._made

    def __aenter__(self) -> Coroutine[Any, Any, ClientResponse]:  # type: ignore[override]
        return self._session._fast_request(self._method, self._url, self._allow_redirects, self)

    def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:  # type: ignore[override]
        resp = self._resp
        assert resp is not None
        resp._in_context = False
        resp.release()
        return _NOOP_AWAITABLE


class _SessionRequestContextManager:
    """``aioclient.request()``: a one-shot session closed with the response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._resp: Optional[ClientResponse] = None
        self._session = session

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._resp is not None
        self._resp.close()
        await self._session.close()

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        raise TypeError("aioclient.request() must be used as 'async with aioclient.request(...)'")


def request(
    method: str,
    url: Union[str, URL],
    *,
    version: Tuple[int, int] = HttpVersion11,
    connector: Optional[BaseConnector] = None,
    loop: Optional[asyncio.AbstractEventLoop] = None,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """One request with a throw-away session: ``async with aioclient.request("GET", url) as r:``."""
    connector_owner = False
    if connector is None:
        connector_owner = True
        connector = TCPConnector(loop=loop, force_close=True)
    session_kwargs = {}
    for name in ("cookies", "timeout", "trust_env", "raise_for_status", "auto_decompress", "read_bufsize", "max_line_size", "max_field_size", "max_headers", "middlewares"):
        if name in kwargs:
            session_kwargs[name] = kwargs.pop(name)
    session = ClientSession(
        loop=loop,
        version=version,
        connector=connector,
        connector_owner=connector_owner,
        **session_kwargs,
    )
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
