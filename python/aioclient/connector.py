"""Connectors: the connection pool, its limits, DNS caching and opening connections.

Pool decisions (which idle connection to reuse, whether a new one may be opened, which
waiter to wake) are plain bookkeeping in ``_Pool``; the awaits live in the connector.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import socket
import ssl as _ssl
import sys
import warnings
from collections import deque
from contextlib import contextmanager
from time import monotonic
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Deque,
    Dict,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Set,
    Tuple,
)

from .exceptions import (
    ClientConnectionError,
    ClientConnectionResetError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientProxyConnectionError,
    ClientOSError,
    ConnectionTimeoutError,
    InvalidUrlClientError,
    ServerDisconnectedError,
    ServerFingerprintMismatch,
    UnixClientConnectorError,
)
from .helpers import deadline
from .protocol import ResponseHandler
from .resolver import AbstractResolver, DefaultResolver, ResolveResult
from .socks import SOCKS_SCHEMES, socks_handshake
from .tls import SSLSettings, TlsInfo, engine_config, merge_ssl_params

if TYPE_CHECKING:
    from .auth import BasicAuth
    from .tracing import Trace
    from yarl import URL

__all__ = (
    "BaseConnector",
    "Connection",
    "TCPConnector",
    "UnixConnector",
    "NamedPipeConnector",
    "ConnectionKey",
    "SocketFactoryType",
)

SocketFactoryType = Callable[[Tuple[Any, ...]], socket.socket]

# The URL schemes a connector accepts (aiohttp's ``allowed_protocol_schema_set``).
HIGH_LEVEL_SCHEMA_SET = frozenset({"", "http", "https", "ws", "wss"})


class Connection:
    """The connection a response's body still arrives on, as ``ClientResponse.connection``
    gives it (aiohttp's ``Connection``): its ``transport`` and ``protocol``, and
    ``release()`` (back to the pool if it can carry another request) or ``close()``."""

    __slots__ = ("_connector", "_protocol", "_lease")

    def __init__(self, connector: "BaseConnector", protocol: ResponseHandler) -> None:
        self._connector = connector
        self._protocol: Optional[ResponseHandler] = protocol
        self._lease = protocol.lease  # the hold this view is about (see release)

    def __repr__(self) -> str:
        return f"Connection<{self._protocol.key if self._protocol is not None else None}>"

    @property
    def protocol(self) -> Optional[ResponseHandler]:
        """The connection's protocol (None once released or closed)."""
        proto = self._protocol
        held = proto is not None and proto.acquired and proto.lease == self._lease
        return proto if held else None

    @property
    def transport(self) -> Optional[asyncio.Transport]:
        """The connection's transport (None once released, closed or lost).

        With the engine's TLS (``ssl=True``, ``False``, a ``Fingerprint``) it is a view
        of the TCP transport whose ``get_extra_info`` answers ``ssl_object`` (a
        :class:`~aioclient.tls.TlsInfo`), ``peercert``, ``cipher`` and ``sslcontext``
        (None: no ``ssl.SSLContext`` exists), as aiohttp's TLS transport does."""
        proto = self.protocol
        return None if proto is None else proto.user_transport()

    @property
    def closed(self) -> bool:
        """True once released, closed or lost."""
        proto = self.protocol
        return proto is None or proto.transport is None

    def release(self) -> None:
        """Give the connection up: pooled when it can carry another request."""
        proto, self._protocol = self._protocol, None
        if proto is not None:
            self._connector.release(proto, lease=self._lease)

    def close(self) -> None:
        """Close the connection."""
        proto, self._protocol = self._protocol, None
        if proto is not None:
            self._connector.release(proto, reusable=False, lease=self._lease)


class ConnectionKey(NamedTuple):
    """What a pooled connection is good for.

    Two requests share a connection only when every field is equal: the TLS settings
    are part of the key so that a connection verified under one ``ssl=`` is never
    reused by a request that asked for other checks, and proxy fields keep tunnelled
    and direct connections apart.
    """

    host: str
    port: Optional[int]
    is_ssl: bool
    ssl: SSLSettings
    proxy: Optional["URL"]
    proxy_auth: Optional["BasicAuth"]
    proxy_headers_hash: Optional[int]
    server_hostname: Optional[str] = None  # per-request SNI/verification name override
    tunnel: bool = False  # CONNECT through an HTTP proxy although the target is not TLS (ws://)
    proxy_headers: Optional[Tuple[Tuple[str, str], ...]] = None  # sent with the CONNECT

    @property
    def target_port(self) -> int:
        """The port to connect to: the URL's, else the scheme's default."""
        return self.port if self.port is not None else (443 if self.is_ssl else 80)

    def __repr__(self) -> str:
        # aiohttp's fields, as its connection errors show them; ours only when set.
        text = (
            "ConnectionKey(host={!r}, port={!r}, is_ssl={!r}, ssl={!r}, proxy={!r}, "
            "proxy_auth={!r}, proxy_headers_hash={!r}, server_hostname={!r}".format(*self[:8])
        )
        if self.tunnel:
            text += ", tunnel=True"
        if self.proxy_headers is not None:
            text += f", proxy_headers={self.proxy_headers!r}"
        return text + ")"


def tls_exception(key: Optional[ConnectionKey], event: Any) -> BaseException:
    """Map an engine TLS failure to aiohttp's exception for it."""
    kind = event.kind
    host = key.host if key is not None else ""
    port = key.port if key is not None else 0
    if kind == "fingerprint_mismatch":
        return ServerFingerprintMismatch(event.expected, event.got, host, port)
    message = f"Cannot connect to host {host}:{port}: {event.message}"
    if kind == "certificate":
        return ClientConnectorCertificateError(key, _verify_error(event.verify_code, event.verify_message))  # type: ignore[arg-type]
    return ClientConnectorSSLError(key, _ssl.SSLError(1, message))  # type: ignore[arg-type]


def _verify_error(code: int, message: str) -> _ssl.SSLCertVerificationError:
    """A refused certificate as Python's ssl (OpenSSL) reports it: aiohttp users read
    ``verify_code`` and ``verify_message``."""
    error = _ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    error.verify_code = code  # type: ignore[attr-defined]
    error.verify_message = message  # type: ignore[attr-defined]
    error.reason = "CERTIFICATE_VERIFY_FAILED"  # type: ignore[attr-defined]
    error.library = "SSL"  # type: ignore[attr-defined]
    return error


@contextmanager
def _map_ssl_errors(key: ConnectionKey) -> Iterator[None]:
    """Python's ssl errors during a handshake as aiohttp's connector exceptions."""
    try:
        yield
    except _ssl.SSLCertVerificationError as exc:
        raise ClientConnectorCertificateError(key, exc) from exc  # type: ignore[arg-type]
    except _ssl.SSLError as exc:
        raise ClientConnectorSSLError(key, exc) from exc  # type: ignore[arg-type]


async def _handshake(proto: ResponseHandler, key: ConnectionKey, ssl: SSLSettings, server_hostname: str, *, tunnel: bool) -> None:
    """The engine's TLS handshake on ``proto``; the peer going away meanwhile is a
    ``ClientConnectorError`` for ``key`` (opening the connection failed), as in aiohttp."""
    try:
        try:
            config = engine_config(ssl)
        except ValueError as exc:  # no trust store could be loaded: nothing can verify
            message = f"unable to get local issuer certificate ({exc})"
            raise ClientConnectorCertificateError(key, _verify_error(20, message)) from exc  # type: ignore[arg-type]
        done = await proto.start_tls(config, server_hostname, tunnel=tunnel)
        proto.tls_info = TlsInfo(done, server_hostname=server_hostname, verified=ssl is True)
    except ClientConnectorError:  # certificate, fingerprint and handshake errors
        proto.abort()
        raise
    except (ServerDisconnectedError, ClientConnectionResetError, ClientOSError) as exc:  # the peer left
        proto.abort()
        errno = getattr(exc, "errno", None) or 0
        raise ClientConnectorError(key, OSError(errno, str(exc) or "Connection closed during the TLS handshake")) from exc
    except BaseException:
        proto.abort()
        raise


# asyncio leaks closed SSL transports only on these Pythons (cpython#118960): elsewhere
# enable_cleanup_closed has nothing to do, and aiohttp warns that it is ignored.
_NEEDS_CLEANUP_CLOSED = (3, 13, 0) <= sys.version_info < (3, 13, 1) or sys.version_info < (3, 12, 8)


class _Pool:
    """Idle connections, limits and waiters: bookkeeping only, no I/O."""

    __slots__ = ("limit", "limit_per_host", "idle", "in_use", "in_use_per_key", "waiters")

    def __init__(self, limit: int, limit_per_host: int) -> None:
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.idle: Dict[ConnectionKey, List[ResponseHandler]] = {}
        self.in_use = 0
        self.in_use_per_key: Dict[ConnectionKey, int] = {}
        self.waiters: Deque[Tuple[ConnectionKey, asyncio.Future[None]]] = deque()

    def has_room(self, key: ConnectionKey) -> bool:
        if self.limit and self.in_use >= self.limit:
            return False
        if self.limit_per_host and self.in_use_per_key.get(key, 0) >= self.limit_per_host:
            return False
        return True

    def acquire(self, key: ConnectionKey) -> None:
        self.in_use += 1
        if self.limit_per_host:  # counted per key only when a per-key limit needs it
            self.in_use_per_key[key] = self.in_use_per_key.get(key, 0) + 1

    def release(self, key: ConnectionKey, idle: Optional[ResponseHandler] = None) -> None:
        """A connection for ``key`` is no longer in use; ``idle``: it is kept for reuse."""
        self.in_use -= 1
        if self.limit_per_host:
            count = self.in_use_per_key[key] - 1
            if count:
                self.in_use_per_key[key] = count
            else:
                del self.in_use_per_key[key]
        if idle is not None:
            conns = self.idle.get(key)
            if conns is None:
                self.idle[key] = [idle]
            else:
                conns.append(idle)

    def someone_waits_for_room(self) -> bool:
        """True when an earlier waiter could take a free slot (FIFO fairness)."""
        return any(not w.done() and self.has_room(k) for k, w in self.waiters)

    def next_waiter(self) -> Optional[asyncio.Future[None]]:
        """The first waiter (FIFO) whose key now has room."""
        for index, (key, waiter) in enumerate(self.waiters):
            if waiter.done():
                continue
            if self.has_room(key):
                del self.waiters[index]
                return waiter
        return None

    def expired(self, now: float, keepalive: float) -> List[ResponseHandler]:
        """Remove and return idle connections that outlived ``keepalive`` or died."""
        out: List[ResponseHandler] = []
        for key in list(self.idle):
            conns = self.idle[key]
            alive = [p for p in conns if p.reusable and now - p.idle_since < keepalive]
            out.extend(p for p in conns if p not in alive)
            if alive:
                self.idle[key] = alive
            else:
                del self.idle[key]
        return out


_sentinel: Any = object()


def _abandon(sock: socket.socket, made: List[ResponseHandler]) -> None:
    """After ``create_connection(sock=sock)`` failed or was cancelled. Once asyncio has
    made the protocol, its transport owns the socket and closes it (an SSL transport by
    a TLS shutdown that may wait for the peer): closing the socket here would pull it
    from under a live transport, whose file descriptor number the next socket then
    reuses. A connection that completed gets aborted; only a socket that no transport
    took is closed here."""
    if not made:
        sock.close()
    elif made[0].transport is not None:
        made[0].transport.abort()


class BaseConnector:
    """The pool and its limits; subclasses open the connections.

    ``limit`` caps connections in use at once (0: no cap), ``limit_per_host`` caps them
    per (host, port, TLS settings); idle keep-alive connections are kept
    ``keepalive_timeout`` seconds and reused most-recent first; ``force_close`` closes
    every connection after its response.
    """

    _abort_ssl_on_close = True  # see TCPConnector's ssl_shutdown_timeout

    #: The URL schemes requests through this connector may use.
    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET

    _closed = True  # while __init__ has not finished, __del__ has nothing to do

    def __init__(
        self,
        *,
        keepalive_timeout: Any = _sentinel,
        force_close: bool = False,
        limit: Optional[int] = 100,
        limit_per_host: Optional[int] = 0,
        enable_cleanup_closed: bool = False,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not _sentinel:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
        elif keepalive_timeout is _sentinel:
            keepalive_timeout = 15.0
        # None means no limit, as 0 does (aiohttp accepts both, and reports what it got).
        self._limits_given = (limit, limit_per_host)
        limit = limit or 0
        limit_per_host = limit_per_host or 0
        if limit < 0 or limit_per_host < 0:
            raise ValueError("limit and limit_per_host must be >= 0")
        self._loop = loop or asyncio.get_running_loop()
        # None: an idle connection never expires (as in aiohttp); force_close: none is kept.
        if keepalive_timeout is _sentinel:
            keepalive_timeout = 0.0
        self._keepalive_timeout = math.inf if keepalive_timeout is None else keepalive_timeout
        self._force_close = force_close
        self._pool = _Pool(limit, limit_per_host)
        self._all: Set[ResponseHandler] = set()
        self._closing: Set[ResponseHandler] = set()  # see _close_connection
        self._cleanup_handle: Optional[asyncio.TimerHandle] = None
        if enable_cleanup_closed and not _NEEDS_CLEANUP_CLOSED:
            warnings.warn(
                "enable_cleanup_closed ignored because "
                "https://github.com/python/cpython/pull/118960 is fixed "
                f"in Python version {sys.version_info}",
                DeprecationWarning,
                stacklevel=2,
            )
            enable_cleanup_closed = False
        self._cleanup_closed = enable_cleanup_closed  # kept for API compatibility
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._closed = False

    def __del__(self, _warnings: Any = None) -> None:
        if self._closed or not self._all:
            return
        import warnings

        warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self, stacklevel=2)
        loop = self._loop
        if loop.is_closed():
            return  # its transports went with the loop
        loop.call_exception_handler({"connector": self, "message": "Unclosed connector"})
        for proto in list(self._all):
            proto.abort()

    def __enter__(self) -> "BaseConnector":
        warnings.warn(
            '"with Connector():" is deprecated, use "async with Connector():" instead',
            DeprecationWarning,
            stacklevel=2,
        )
        return self

    def __exit__(self, *exc: Any) -> None:
        self._close()

    async def __aenter__(self) -> "BaseConnector":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- properties ----------------------------------------------------------

    @property
    def limit(self) -> Optional[int]:
        """Connections allowed in use at once (0 or None: no limit), as given."""
        return self._limits_given[0]

    @property
    def limit_per_host(self) -> Optional[int]:
        """Connections allowed in use at once per endpoint (0 or None: no limit), as given."""
        return self._limits_given[1]

    @property
    def force_close(self) -> bool:
        """True when connections are closed after each response."""
        return self._force_close

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._closed

    # -- acquiring -----------------------------------------------------------

    async def connect(self, key: ConnectionKey, traces: Optional[List["Trace"]], timeout: Any) -> ResponseHandler:
        """A connection for ``key``: pooled if one is idle, else newly opened.

        Waits (FIFO) while the limits are reached; ``timeout.connect`` bounds the wait
        and the opening together. The caller gives it back with ``release`` (the
        response does that when its body ends).
        """
        limit = timeout.connect if timeout is not None else None
        if limit is None or limit <= 0:  # 0 (or less) disables it, as in aiohttp
            return await self._acquire(key, traces, timeout)
        if not traces and not self._closed:
            proto = self._take_idle(key)  # nothing to wait for: no timer needed
            if proto is not None:
                return proto
        try:
            async with deadline(limit):
                return await self._acquire(key, traces, timeout)
        except asyncio.TimeoutError as exc:
            if isinstance(exc, (ClientConnectorError, ConnectionTimeoutError)):
                raise
            if key.proxy is not None:
                raise ConnectionTimeoutError(f"Connection timeout to proxy {key.proxy}") from exc
            port = key.target_port
            raise ConnectionTimeoutError(f"Connection timeout to host {key.host}:{port}") from exc

    async def _acquire(self, key: ConnectionKey, traces: Optional[List["Trace"]], timeout: Any) -> ResponseHandler:
        if self._closed:
            raise ClientConnectorError(key, OSError(0, "Connector is closed."))  # type: ignore[arg-type]
        pool = self._pool
        woken = False
        while True:
            if pool.idle.get(key):
                proto = self._take_idle(key)
                if proto is not None:
                    if traces:
                        try:
                            for trace in traces:
                                await trace.send_connection_reuseconn()
                        except BaseException:  # a failing callback, or the connect timeout
                            self.release(proto)
                            raise
                    return proto
            # FIFO: a newcomer does not overtake earlier waiters; a woken waiter goes.
            if pool.has_room(key) and (woken or not pool.someone_waits_for_room()):
                break
            await self._wait_for_room(key, traces)
            woken = True
        pool.acquire(key)
        opened: Optional[ResponseHandler] = None
        try:
            if traces:
                for trace in traces:
                    await trace.send_connection_create_start()
            proto = opened = await self._create_connection(key, traces, timeout)
            if traces:
                for trace in traces:
                    await trace.send_connection_create_end()
        except BaseException:
            if opened is not None:  # a trace callback failed (or timed out) after the opening
                opened.close()
            pool.release(key)
            self._wake_waiter()
            raise
        if self._closed:
            pool.release(key)
            proto.close()
            raise ClientConnectorError(key, OSError(0, "Connector is closed."))  # type: ignore[arg-type]
        proto.key = key
        proto.acquired = True
        proto.lease += 1
        self._all.add(proto)
        proto.closed.add_done_callback(lambda _: self._lost(proto))
        return proto

    def _lost(self, proto: ResponseHandler) -> None:
        """A connection closed: if a request or response still held it, its pool slot is
        free now (a response dropped unread and unreleased would hold it forever)."""
        if proto.acquired:
            self.release(proto, reusable=False)

    def _take_idle(self, key: ConnectionKey) -> Optional[ResponseHandler]:
        """The most recently used live idle connection for ``key``, acquired; ``None``
        if there is none. Stale ones found on the way are closed.

        An emptied list stays in the pool's ``idle`` (the key is likely used again
        soon); ``_Pool.expired`` drops it.
        """
        pool = self._pool
        conns = pool.idle.get(key)
        while conns:
            proto = conns.pop()
            if proto.reusable and monotonic() - proto.idle_since < self._keepalive_timeout:
                pool.in_use += 1  # pool.acquire(key), inline: this is every pooled request
                if pool.limit_per_host:
                    pool.in_use_per_key[key] = pool.in_use_per_key.get(key, 0) + 1
                proto.acquired = True
                proto.lease += 1
                return proto
            self._close_connection(proto)
        return None

    async def _wait_for_room(self, key: ConnectionKey, traces: Optional[List["Trace"]]) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._pool.waiters.append((key, waiter))
        try:
            if traces:
                for trace in traces:
                    await trace.send_connection_queued_start()
            await waiter
            if traces:
                for trace in traces:
                    await trace.send_connection_queued_end()
        except BaseException:  # cancelled, timed out, or a trace callback failed
            try:
                self._pool.waiters.remove((key, waiter))
            except ValueError:
                pass
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # We were woken but are leaving: pass the turn on.
                self._wake_waiter()
            raise

    def _wake_waiter(self) -> None:
        if self._pool.waiters:
            waiter = self._pool.next_waiter()
            if waiter is not None:
                waiter.set_result(None)

    def release(self, proto: ResponseHandler, *, reusable: bool = True, lease: Optional[int] = None) -> None:
        """Give a connection back: pooled when it can carry another request.

        ``reusable=False``: closed, its response abandoned. ``lease``: the request's
        ``proto.lease``; nothing happens if the connection has been acquired since (its
        response ended and returned it to the pool, where another request took it).
        """
        key = proto.key
        if key is None or not proto.acquired or (lease is not None and proto.lease != lease):
            return  # released already (e.g. its response ended, then its task was cancelled)
        if not reusable:
            proto.on_message_complete = None  # what still arrives is no response of ours
        if proto.sending_body and reusable:
            # The response ended before the request's body was written: pooled now, the
            # next request's bytes would land in the middle of that body.
            proto.release_when_sent = True
            return
        proto.acquired = False
        proto.release_when_sent = False
        keep = (
            reusable
            and not self._closed
            and not self._force_close
            and self._keepalive_timeout > 0
            and proto in self._all
            and proto.reusable
        )
        pool = self._pool
        if keep:
            proto.idle_since = monotonic()
            pool.release(key, proto)
            if self._cleanup_handle is None and self._keepalive_timeout != math.inf:
                self._cleanup_handle = self._loop.call_later(self._keepalive_timeout, self._cleanup)
        else:
            pool.release(key)
            self._close_connection(proto)
        if pool.waiters:
            self._wake_waiter()

    def _close_connection(self, proto: ResponseHandler) -> None:
        """Close a connection the pool gives up: out of the pool's sight, but kept until
        its transport has closed, so that ``close()`` waits for it too (a TLS close waits
        for the peer's close_notify; a loop closed before would leave the socket open)."""
        self._all.discard(proto)
        closed = proto.closed
        if not closed.done():
            self._closing.add(proto)
            closed.add_done_callback(lambda _: self._closing.discard(proto))
        proto.close()

    def _cleanup(self) -> None:
        self._cleanup_handle = None
        for proto in self._pool.expired(monotonic(), self._keepalive_timeout):
            self._close_connection(proto)
        if self._pool.idle:
            self._cleanup_handle = self._loop.call_later(self._keepalive_timeout, self._cleanup)

    async def _create_connection(self, key: ConnectionKey, traces: Optional[List["Trace"]], timeout: Any) -> ResponseHandler:
        raise NotImplementedError

    def _protocol_factory(self) -> ResponseHandler:
        return ResponseHandler(self._loop)

    # -- closing -------------------------------------------------------------

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close every connection and return once their transports are closed.

        ``abort_ssl``: drop TLS connections without the close_notify exchange."""
        waiters = self._close(abort_ssl=abort_ssl)
        if waiters:
            # Bounded: a peer that never finishes the TLS close cannot hold us here.
            await asyncio.wait(waiters, timeout=2.0)

    def _close(self, *, abort_ssl: bool = False) -> List["asyncio.Future[None]"]:
        if self._closed:
            return []
        self._closed = True
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        waiting = []
        for proto in list(self._all):
            # A request still using its connection learns why it ended, as in aiohttp
            # (a WebSocket keeps reporting its own way: code 1006 and a reset).
            in_use = proto.acquired and not proto.upgraded
            error = ClientConnectionError("Connector is closed.") if in_use else None
            transport = proto.transport
            abort = abort_ssl or self._abort_ssl_on_close
            if abort and transport is not None and transport.get_extra_info("sslcontext") is not None:
                proto.close(error, abort=True)
            else:
                proto.close(error)
            if not proto.closed.done():
                waiting.append(proto.closed)
        self._all.clear()
        waiting.extend(proto.closed for proto in self._closing if not proto.closed.done())
        self._pool.idle.clear()
        for key, waiter in self._pool.waiters:
            if not waiter.done():
                waiter.set_exception(ClientConnectorError(key, OSError(0, "Connector is closed.")))
                waiter.exception()
        self._pool.waiters.clear()
        return waiting


def _retrieve(task: "asyncio.Task[Any]") -> None:
    """Mark a shared task's outcome as seen: its error reaches whoever awaits it, and no
    one may be left to (each waiter was cancelled)."""
    if not task.cancelled():
        task.exception()


class _DNSCache:
    """Resolved addresses per (host, port) with a TTL and a size bound."""

    __slots__ = ("_entries", "_ttl", "_max_size")

    def __init__(self, ttl: Optional[float], max_size: int) -> None:
        self._entries: Dict[Tuple[str, int], Tuple[List[ResolveResult], float]] = {}
        self._ttl = ttl
        self._max_size = max_size

    def get(self, key: Tuple[str, int], now: float) -> Optional[List[ResolveResult]]:
        entry = self._entries.get(key)
        if entry is None:
            return None
        addrs, stamp = entry
        if self._ttl is not None and now - stamp >= self._ttl:
            del self._entries[key]
            return None
        return addrs

    def add(self, key: Tuple[str, int], addrs: List[ResolveResult], now: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (addrs, now)
        while len(self._entries) > self._max_size:
            del self._entries[next(iter(self._entries))]  # oldest first

    def clear(self, host: Optional[str] = None, port: Optional[int] = None) -> None:
        if host is None or port is None:
            self._entries.clear()
        else:
            self._entries.pop((host, port), None)


def _interleave(addrs: List[ResolveResult], interleave: int) -> List[ResolveResult]:
    """RFC 8305 §4: alternate address families, ``interleave`` of the first family first."""
    by_family: Dict[int, List[ResolveResult]] = {}
    for a in addrs:
        by_family.setdefault(a["family"], []).append(a)
    if len(by_family) < 2:
        return addrs
    first_family = addrs[0]["family"]
    first = by_family.pop(first_family)
    rest = [a for fam in by_family.values() for a in fam]
    out = first[:interleave]
    first = first[interleave:]
    while first or rest:
        if rest:
            out.append(rest.pop(0))
        if first:
            out.append(first.pop(0))
    return out


class TCPConnector(BaseConnector):
    """Connections over TCP, with optional TLS (``ssl=``) and a DNS cache."""

    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET | frozenset({"tcp"})

    def __init__(
        self,
        *,
        ssl: Any = True,
        verify_ssl: bool = True,
        fingerprint: Optional[bytes] = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: Optional[int] = 10,
        dns_cache_max_size: int = 1000,
        family: socket.AddressFamily = socket.AddressFamily.AF_UNSPEC,
        ssl_context: Optional[_ssl.SSLContext] = None,
        local_addr: Optional[Tuple[str, int]] = None,
        resolver: Optional[AbstractResolver] = None,
        keepalive_timeout: Any = _sentinel,
        force_close: bool = False,
        limit: Optional[int] = 100,
        limit_per_host: Optional[int] = 0,
        enable_cleanup_closed: bool = False,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: Optional[float] = 0.25,
        interleave: Optional[int] = None,
        socket_factory: Optional[SocketFactoryType] = None,
        ssl_shutdown_timeout: Any = _sentinel,
    ) -> None:
        if ssl_shutdown_timeout is not _sentinel:
            warnings.warn(
                "The ssl_shutdown_timeout parameter is deprecated, as in aiohttp 3.14",
                DeprecationWarning,
                stacklevel=2,
            )
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._ssl: SSLSettings = merge_ssl_params(ssl, verify_ssl, ssl_context, fingerprint)
        # As aiohttp: closing drops Python-ssl connections without waiting for the
        # peer's close_notify, unless a (deprecated) ssl_shutdown_timeout asks to wait.
        self._abort_ssl_on_close = ssl_shutdown_timeout is _sentinel or not ssl_shutdown_timeout
        self._resolver: AbstractResolver = resolver if resolver is not None else DefaultResolver()
        self._resolver_owner = resolver is None
        self._use_dns_cache = use_dns_cache
        self._dns_cache = _DNSCache(ttl_dns_cache, dns_cache_max_size)
        # Lookups in flight, each in a task of its own that the requests for the host share.
        self._resolving: Dict[Tuple[str, int], asyncio.Task[List[ResolveResult]]] = {}
        self._family = family
        self._local_addr = local_addr
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave
        self._socket_factory = socket_factory

    @property
    def family(self) -> int:
        """The address family used (AF_UNSPEC: both)."""
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        """True if resolved addresses are cached."""
        return self._use_dns_cache

    @property
    def ssl(self) -> SSLSettings:
        """The default TLS settings of this connector."""
        return self._ssl

    def clear_dns_cache(self, host: Optional[str] = None, port: Optional[int] = None) -> None:
        """Forget cached addresses: all of them, or those of one (host, port)."""
        if (host is None) != (port is None):
            raise ValueError("either both host and port or none of them are allowed")
        self._dns_cache.clear(host, port)

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close every connection, lookups in flight, and the resolver if this connector
        made it; ``abort_ssl``: drop TLS connections without the close_notify exchange."""
        for lookup in list(self._resolving.values()):
            lookup.cancel()
        await super().close(abort_ssl=abort_ssl)
        if self._resolver_owner:
            await self._resolver.close()

    # -- resolving -----------------------------------------------------------

    async def _resolve_host(self, host: str, port: int, traces: Optional[List["Trace"]]) -> List[ResolveResult]:
        if ":" not in host and host.replace(".", "").isdigit() and not _is_canonical_ipv4(host):
            # As aiohttp: 2130706433, 127.1 or 0177.0.0.1 would reach an address that a
            # policy looking at the host as written would not recognise.
            raise InvalidUrlClientError(host, "is not a canonical IPv4 address")
        if _is_ip(host):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            return [ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)]
        if not self._use_dns_cache:
            return await self._resolve_traced(host, port, traces)
        key = (host, port)
        cached = self._dns_cache.get(key, self._loop.time())
        if cached is not None:
            if traces:
                for trace in traces:
                    await trace.send_dns_cache_hit(host)
            return cached
        if traces:
            for trace in traces:
                await trace.send_dns_cache_miss(host)
        lookup = self._resolving.get(key)
        if lookup is None:
            # One query for everyone asking meanwhile. It runs in its own task, as in
            # aiohttp: a request that is cancelled stops waiting for the answer, it does
            # not cancel the lookup the others wait for (the answer still fills the cache).
            lookup = self._resolving[key] = self._loop.create_task(self._resolve_into_cache(key, traces))
            lookup.add_done_callback(_retrieve)
        return await asyncio.shield(lookup)

    async def _resolve_into_cache(self, key: Tuple[str, int], traces: Optional[List["Trace"]]) -> List[ResolveResult]:
        try:
            addrs = await self._resolve_traced(key[0], key[1], traces)
        finally:
            del self._resolving[key]
        self._dns_cache.add(key, addrs, self._loop.time())
        return addrs

    async def _resolve_traced(self, host: str, port: int, traces: Optional[List["Trace"]]) -> List[ResolveResult]:
        if traces:
            for trace in traces:
                await trace.send_dns_resolvehost_start(host)
        addrs = await self._resolver.resolve(host, port, family=self._family)
        if traces:
            for trace in traces:
                await trace.send_dns_resolvehost_end(host)
        return addrs

    # -- connecting ----------------------------------------------------------

    async def _create_connection(self, key: ConnectionKey, traces: Optional[List["Trace"]], timeout: Any) -> ResponseHandler:
        limit = timeout.sock_connect if timeout is not None else None  # ``connect`` is the caller's
        host = key.host
        port = key.target_port
        if key.proxy is not None:
            try:
                if limit is not None:
                    async with deadline(limit):
                        return await self._open_via_proxy(key, traces)
                return await self._open_via_proxy(key, traces)
            except asyncio.TimeoutError as exc:
                if isinstance(exc, ClientConnectorError):
                    raise
                raise ConnectionTimeoutError(f"Connection timeout to proxy {key.proxy}") from exc
        try:
            addrs = await self._resolve_host(host, port, traces)
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        except asyncio.CancelledError:
            raise
        try:
            if limit is not None:
                async with deadline(limit):
                    return await self._open(key, addrs)
            return await self._open(key, addrs)
        except asyncio.TimeoutError as exc:
            if isinstance(exc, ClientConnectorError):
                raise
            raise ConnectionTimeoutError(f"Connection timeout to host {host}:{port}") from exc

    async def _open_via_proxy(self, key: ConnectionKey, traces: Optional[List["Trace"]]) -> ResponseHandler:
        """Connect to the proxy (over TLS for https:// proxies); tunnel if the target is TLS
        or a WebSocket.

        For an https target the tunnel is ``CONNECT host:port`` and then TLS to the
        origin inside it: inside the proxy's TLS session too when the proxy is https.
        Each TLS layer is verified against its own settings. ws:// targets are tunnelled
        too, as RFC 6455 §4.1 asks: proxies rarely forward an Upgrade in absolute form.
        """
        proxy = key.proxy
        assert proxy is not None
        if proxy.scheme in SOCKS_SCHEMES:
            return await self._open_via_socks(key, traces)
        # An ssl.SSLContext is used for the https:// proxy too (the spec: "it will be used
        # ... to establish a TLS tunnel to the HTTPS proxy"): Python's ssl runs both
        # layers. ssl=False skips verifying the proxy too, as in aiohttp; a Fingerprint
        # pins the origin only.
        proxy_ssl = key.ssl if isinstance(key.ssl, _ssl.SSLContext) or key.ssl is False else True
        proxy_key = ConnectionKey(
            proxy.raw_host or "", proxy.port, proxy.scheme == "https", proxy_ssl, None, None, None
        )
        # Failing to reach the proxy names the proxy (host, port, message), as in aiohttp;
        # failing to resolve its name is a ClientConnectorDNSError there too.
        try:
            addrs = await self._resolve_host(proxy_key.host, proxy.port or 80, traces)
        except OSError as exc:
            raise ClientConnectorDNSError(proxy_key, exc) from exc  # type: ignore[arg-type]
        try:
            proto = await self._open(proxy_key, addrs)
        except ClientConnectorError as exc:
            if isinstance(exc, (ClientConnectorSSLError, ClientConnectorCertificateError)):
                raise
            raise ClientProxyConnectionError(proxy_key, exc.os_error) from exc  # type: ignore[arg-type]
        proto.key = key
        if not key.is_ssl and not key.tunnel:
            return proto  # plain target: absolute-form requests go through as they are
        try:
            await self._connect_tunnel(proto, key)
        except BaseException:
            proto.abort()
            raise
        return proto

    async def _open_via_socks(self, key: ConnectionKey, traces: Optional[List["Trace"]]) -> ResponseHandler:
        """TCP to the SOCKS proxy, its handshake on the raw socket, then TLS/HTTP as usual."""
        proxy = key.proxy
        assert proxy is not None
        port = key.target_port
        proxy_key = ConnectionKey(proxy.raw_host or "", proxy.port or 1080, False, True, None, None, None)
        try:
            proxy_addrs = await self._resolve_host(proxy_key.host, proxy_key.target_port, traces)
            sock = await self._connect_socket(key, proxy_addrs)
        except OSError as exc:
            raise ClientProxyConnectionError(proxy_key, exc) from exc  # type: ignore[arg-type]
        try:
            resolved = None
            if proxy.scheme in ("socks4", "socks5"):
                # These send an address: resolve the target here (socks4a/5h leave it to the proxy).
                family = socket.AF_INET if proxy.scheme == "socks4" else self._family
                addrs = await self._resolve_host(key.host, port, traces)
                candidates = [a for a in addrs if family == socket.AF_UNSPEC or a["family"] == family]
                if not candidates:
                    raise OSError(0, f"no usable address for {key.host}")
                resolved = candidates[0]["host"]
            auth = key.proxy_auth
            await socks_handshake(
                self._loop, sock, proxy.scheme, key.host, port,
                auth.login if auth is not None else None, auth.password if auth is not None else None, resolved,
            )
        except OSError as exc:
            sock.close()
            if isinstance(exc, ClientConnectorError):
                raise
            raise ClientProxyConnectionError(key, exc) from exc  # type: ignore[arg-type]
        except BaseException:
            sock.close()
            raise
        return await self._start_connection(key, sock)

    async def _connect_tunnel(self, proto: ResponseHandler, key: ConnectionKey) -> None:
        from . import _core
        from .exceptions import ClientHttpProxyError, RequestInfo
        from multidict import CIMultiDict, CIMultiDictProxy

        authority = f"{key.host}:{key.port}" if ":" not in key.host else f"[{key.host}]:{key.port}"
        headers: List[Tuple[bytes, bytes]] = [(b"Host", authority.encode("ascii"))]
        for name, value in key.proxy_headers or ():
            if name.lower() == "host" or (key.proxy_auth is not None and name.lower() == "proxy-authorization"):
                continue  # ours: one Host, and proxy_auth= wins over a header (as aiohttp)
            headers.append((name.encode("latin-1"), value.encode("utf-8")))
        if key.proxy_auth is not None:
            headers.append((b"Proxy-Authorization", key.proxy_auth.encode().encode("latin-1")))
        head = _core.encode_head(b"CONNECT", authority.encode("ascii"), headers, 1)
        waiter = proto.send_request(
            head, None, no_body=False, connect=True, chunked=False, decompress=False,
            max_decompressed_size=None,
        )
        response_head, _payload = await waiter
        proto.payload = None
        if not 200 <= response_head.status < 300:
            response_headers = CIMultiDictProxy(
                CIMultiDict(
                    (k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape"))
                    for k, v in response_head.headers
                )
            )
            # As aiohttp: the CONNECT (its headers), for the target, through the proxy.
            from yarl import URL

            target = URL.build(scheme="https" if key.is_ssl else "http", host=key.host, port=key.port)
            sent = CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers)
            info = RequestInfo(target, "CONNECT", CIMultiDictProxy(sent), key.proxy)  # type: ignore[arg-type]
            raise ClientHttpProxyError(
                info,
                (),
                status=response_head.status,
                message=response_head.reason.decode("utf-8", "surrogateescape"),
                headers=response_headers,
            )
        if not key.is_ssl:
            proto.enter_plain_tunnel()  # ws://: the request goes inside as it is
            return
        ssl = key.ssl
        server_hostname = key.server_hostname or key.host.rstrip(".")
        if not isinstance(ssl, _ssl.SSLContext):
            await _handshake(proto, key, ssl, server_hostname, tunnel=True)
            return
        # Through an https:// proxy the transport is Python's ssl already (see
        # _open_via_proxy): start_tls nests the origin's TLS inside it (Python 3.11+).
        assert proto.transport is not None
        if sys.version_info < (3, 11) and proto.transport.get_extra_info("sslcontext") is not None:
            raise ClientConnectorSSLError(
                key,  # type: ignore[arg-type]
                _ssl.SSLError(1, "TLS inside TLS with an ssl.SSLContext needs Python 3.11 or later"),
            )
        proto.enter_plain_tunnel()
        try:
            with _map_ssl_errors(key):
                try:
                    transport = await self._loop.start_tls(
                        proto.transport, proto, ssl, server_hostname=server_hostname  # type: ignore[arg-type]
                    )
                except TypeError as exc:
                    # CPython before 3.11.8/3.12.2 (gh-113214): a failed nested handshake
                    # surfaces as a TypeError raised while reporting the real error.
                    if isinstance(exc.__context__, OSError):
                        raise exc.__context__ from None
                    raise
        except ClientConnectorError:
            raise
        except OSError as exc:  # the tunnel closed or the handshake timed out
            raise ClientConnectorError(key, exc) from exc  # type: ignore[arg-type]
        proto.transport = transport  # type: ignore[assignment]

    async def _open(self, key: ConnectionKey, addrs: List[ResolveResult]) -> ResponseHandler:
        sock = await self._connect_socket(key, addrs)
        return await self._start_connection(key, sock)

    async def _start_connection(self, key: ConnectionKey, sock: socket.socket) -> ResponseHandler:
        """The protocol on a connected socket, with TLS to ``key``'s host when it is https:
        Python's ssl for an ``SSLContext``, the engine's rustls otherwise."""
        ssl = key.ssl if key.is_ssl else None
        server_hostname = key.server_hostname or key.host.rstrip(".")
        proto: ResponseHandler
        made: List[ResponseHandler] = []  # the protocol, once asyncio has asked for it

        def factory() -> ResponseHandler:
            made.append(self._protocol_factory())
            return made[0]

        try:
            with _map_ssl_errors(key):
                if isinstance(ssl, _ssl.SSLContext):
                    _, proto = await self._loop.create_connection(
                        factory, sock=sock, ssl=ssl, server_hostname=server_hostname
                    )
                else:
                    _, proto = await self._loop.create_connection(factory, sock=sock)
        except OSError as exc:
            _abandon(sock, made)
            if isinstance(exc, ClientConnectorError):
                raise
            raise ClientConnectorError(key, exc) from exc  # type: ignore[arg-type]
        except BaseException:
            _abandon(sock, made)
            raise
        proto.key = key
        if ssl is not None and not isinstance(ssl, _ssl.SSLContext):
            await _handshake(proto, key, ssl, server_hostname, tunnel=False)
        return proto

    async def _connect_socket(self, key: ConnectionKey, addrs: List[ResolveResult]) -> socket.socket:
        """Happy Eyeballs (RFC 8305): staggered attempts across the addresses."""
        if self._interleave is not None or self._happy_eyeballs_delay is not None:
            addrs = _interleave(addrs, self._interleave or 1)
        delay = self._happy_eyeballs_delay
        errors: List[OSError] = []
        if delay is None or len(addrs) == 1:
            for addr in addrs:
                try:
                    return await self._connect_one(addr)
                except OSError as exc:
                    errors.append(exc)
            error = _connect_error(key, errors)
            raise error from error.os_error
        return await self._staggered(key, addrs, delay, errors)

    async def _staggered(self, key: ConnectionKey, addrs: List[ResolveResult], delay: float, errors: List[OSError]) -> socket.socket:
        loop = self._loop
        tasks: Set[asyncio.Task[socket.socket]] = set()
        pending = list(addrs)
        winner: Optional[socket.socket] = None
        try:
            while pending or tasks:
                if pending:
                    tasks.add(loop.create_task(self._connect_one(pending.pop(0))))
                done, _ = await asyncio.wait(
                    tasks,
                    timeout=delay if pending else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done:
                    tasks.discard(task)
                    exc = task.exception()
                    if exc is None:
                        winner = task.result()
                        return winner
                    errors.append(exc)  # type: ignore[arg-type]
            error = _connect_error(key, errors)
            raise error from error.os_error
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                try:
                    sock = await task
                except BaseException:
                    continue
                if sock is not winner:
                    sock.close()

    async def _connect_one(self, addr: ResolveResult) -> socket.socket:
        family = addr["family"]
        host, port = addr["host"], addr["port"]
        address: Tuple[Any, ...]
        if family == socket.AF_INET6:
            address = (host, port, 0, 0)
            if "%" in host:
                infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
                address = infos[0][4]
        else:
            address = (host, port)
        addr_info = (family, socket.SOCK_STREAM, addr["proto"], "", address)
        if self._socket_factory is not None:
            sock = self._socket_factory(addr_info)
        else:
            sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=addr["proto"])
        try:
            sock.setblocking(False)
            if self._local_addr is not None:
                self._bind_local(sock, family)
            await self._loop.sock_connect(sock, address)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except BaseException:
            sock.close()
            raise

    def _bind_local(self, sock: socket.socket, family: int) -> None:
        """Bind to ``local_addr`` before connecting; its failure reads as aiohttp's."""
        local = self._local_addr
        assert local is not None
        local_family = socket.AF_INET6 if ":" in local[0] else socket.AF_INET
        if local_family != family:  # a local address of the other family is no use here
            raise OSError(f"no matching local address with {family=} found")
        if local_family == socket.AF_INET6:
            local = (local[0], local[1], *local[2:4], 0, 0)[:4]  # type: ignore[assignment]
        try:
            sock.bind(local)
        except OSError as exc:
            message = f"error while attempting to bind on address {local!r}: {(exc.strerror or '').lower()}"
            raise OSError(exc.errno, message) from None


def _connect_error(key: ConnectionKey, errors: List[OSError]) -> ClientConnectorError:
    if len(errors) == 1 or len({str(e) for e in errors}) == 1:
        return ClientConnectorError(key, errors[0])  # type: ignore[arg-type]
    model = str(errors[0])
    return ClientConnectorError(
        key,  # type: ignore[arg-type]
        OSError(errors[0].errno, "Multiple exceptions: " + ", ".join(str(e) for e in errors) if model else model),
    )


def _is_canonical_ipv4(host: str) -> bool:
    """True for a dotted quad of decimal octets without leading zeros."""
    parts = host.split(".")
    return len(parts) == 4 and all(
        1 <= len(part) <= 3 and part.isascii() and part.isdigit() and (part == "0" or part[0] != "0") and int(part) <= 255
        for part in parts
    )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class _PathConnector(BaseConnector):
    """A connector to a filesystem path (Unix socket, named pipe): no DNS, no TLS."""

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: Any = _sentinel,
        limit: Optional[int] = 100,
        limit_per_host: Optional[int] = 0,
        loop: Optional[asyncio.AbstractEventLoop] = None,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        self._path = path
        self._ssl: SSLSettings = True

    @property
    def path(self) -> str:
        """The socket's (or pipe's) path."""
        return self._path


class UnixConnector(_PathConnector):
    """HTTP over a Unix domain socket at ``path`` (the URL's host is only sent as Host)."""

    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET | frozenset({"unix"})

    async def _create_connection(self, key: ConnectionKey, traces: Optional[List["Trace"]], timeout: Any) -> ResponseHandler:
        limit = timeout.sock_connect if timeout is not None else None
        try:
            if limit is not None:
                async with deadline(limit):
                    _, proto = await self._loop.create_unix_connection(self._protocol_factory, self._path)
            else:
                _, proto = await self._loop.create_unix_connection(self._protocol_factory, self._path)
        except asyncio.TimeoutError as exc:
            raise ConnectionTimeoutError(f"Connection timeout to unix socket {self._path}") from exc
        except OSError as exc:
            raise UnixClientConnectorError(self._path, key, exc) from exc  # type: ignore[arg-type]
        return proto


class NamedPipeConnector(_PathConnector):
    """HTTP over a Windows named pipe; needs the Proactor event loop."""

    allowed_protocol_schema_set = HIGH_LEVEL_SCHEMA_SET | frozenset({"npipe"})

    def __init__(self, path: str, *args: Any, loop: Optional[asyncio.AbstractEventLoop] = None, **kwargs: Any) -> None:
        loop = loop or asyncio.get_running_loop()
        if sys.platform != "win32" or not isinstance(loop, getattr(asyncio, "ProactorEventLoop", ())):
            raise RuntimeError(
                "Named Pipes only available in proactor loop under windows "
                "(NamedPipeConnector needs Windows and asyncio.ProactorEventLoop)"
            )
        super().__init__(path, *args, loop=loop, **kwargs)

    async def _create_connection(self, key: ConnectionKey, traces: Optional[List["Trace"]], timeout: Any) -> ResponseHandler:  # pragma: no cover - Windows only
        try:
            _, proto = await self._loop.create_pipe_connection(  # type: ignore[attr-defined]
                self._protocol_factory, self._path
            )
        except OSError as exc:
            raise ClientConnectorError(key, exc) from exc  # type: ignore[arg-type]
        return proto
