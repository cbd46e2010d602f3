"""Client tracing: TraceConfig signals and the per-request Trace that sends them.

A session with no trace configs creates no Trace objects: every send site is guarded
by one ``if traces:``.
"""

from __future__ import annotations

import dataclasses
import operator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Generic, List, Optional, TypeVar

from multidict import CIMultiDict
from yarl import URL

if TYPE_CHECKING:
    from .response import ClientResponse
    from .session import ClientSession

__all__ = (
    "TraceConfig",
    "Trace",
    "make_traces",
    "TraceRequestStartParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestChunkSentParams",
    "TraceResponseChunkReceivedParams",
    "TraceRequestRedirectParams",
    "TraceRequestHeadersSentParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionCreateEndParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsResolveHostStartParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
)

_T = TypeVar("_T")


class Signal(List[Callable[..., Awaitable[None]]], Generic[_T]):
    """A list of async receivers, frozen by ``freeze()``: then every change raises
    ``RuntimeError("Cannot modify frozen list.")``, as aiohttp's (aiosignal) Signal."""

    __slots__ = ("_frozen", "_owner")

    def __init__(self, owner: Any = None) -> None:
        super().__init__()
        self._frozen = False
        self._owner = owner

    def __repr__(self) -> str:
        return f"<Signal owner={self._owner}, frozen={self._frozen}, {list(self)!r}>"

    def __call__(self, func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """Decorator: append ``func`` to this signal and return it."""
        self.append(func)
        return func

    @property
    def frozen(self) -> bool:
        """True once frozen: no more changes."""
        return self._frozen

    def freeze(self) -> None:
        """Forbid further changes."""
        self._frozen = True

    def _check(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    def append(self, receiver: Callable[..., Awaitable[None]]) -> None:  # type: ignore[override]
        self._check()
        super().append(receiver)

    def extend(self, receivers: Any) -> None:  # type: ignore[override]
        self._check()
        super().extend(receivers)

    def insert(self, index: Any, receiver: Any) -> None:  # type: ignore[override]
        self._check()
        super().insert(index, receiver)

    def remove(self, receiver: Any) -> None:  # type: ignore[override]
        self._check()
        super().remove(receiver)

    def pop(self, index: Any = -1) -> Any:  # type: ignore[override]
        self._check()
        return super().pop(index)

    def clear(self) -> None:
        self._check()
        super().clear()

    def reverse(self) -> None:
        self._check()
        super().reverse()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        self._check()
        super().sort(*args, **kwargs)

    def __iadd__(self, receivers: Any) -> "Signal[_T]":  # type: ignore[override]
        self._check()
        return super().__iadd__(receivers)  # type: ignore[return-value]

    def __imul__(self, n: Any) -> "Signal[_T]":  # type: ignore[override]
        self._check()
        return super().__imul__(n)  # type: ignore[return-value]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check()
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self._check()
        super().__delitem__(index)

    async def send(self, *args: Any) -> None:
        """Await every receiver in order."""
        for receiver in self:
            await receiver(*args)


@dataclasses.dataclass(frozen=True)
class TraceRequestStartParams:
    """Parameters of ``on_request_start``."""

    method: str
    url: URL
    headers: "CIMultiDict[str]"


@dataclasses.dataclass(frozen=True)
class TraceRequestChunkSentParams:
    """Parameters of ``on_request_chunk_sent``."""

    method: str
    url: URL
    chunk: bytes


@dataclasses.dataclass(frozen=True)
class TraceResponseChunkReceivedParams:
    """Parameters of ``on_response_chunk_received``."""

    method: str
    url: URL
    chunk: bytes


@dataclasses.dataclass(frozen=True)
class TraceRequestEndParams:
    """Parameters of ``on_request_end``."""

    method: str
    url: URL
    headers: "CIMultiDict[str]"
    response: "ClientResponse"


@dataclasses.dataclass(frozen=True)
class TraceRequestExceptionParams:
    """Parameters of ``on_request_exception``."""

    method: str
    url: URL
    headers: "CIMultiDict[str]"
    exception: BaseException


@dataclasses.dataclass(frozen=True)
class TraceRequestRedirectParams:
    """Parameters of ``on_request_redirect``."""

    method: str
    url: URL
    headers: "CIMultiDict[str]"
    response: "ClientResponse"


@dataclasses.dataclass(frozen=True)
class TraceRequestHeadersSentParams:
    """Parameters of ``on_request_headers_sent``."""

    method: str
    url: URL
    headers: "CIMultiDict[str]"


@dataclasses.dataclass(frozen=True)
class TraceConnectionQueuedStartParams:
    """Parameters of ``on_connection_queued_start``."""


@dataclasses.dataclass(frozen=True)
class TraceConnectionQueuedEndParams:
    """Parameters of ``on_connection_queued_end``."""


@dataclasses.dataclass(frozen=True)
class TraceConnectionCreateStartParams:
    """Parameters of ``on_connection_create_start``."""


@dataclasses.dataclass(frozen=True)
class TraceConnectionCreateEndParams:
    """Parameters of ``on_connection_create_end``."""


@dataclasses.dataclass(frozen=True)
class TraceConnectionReuseconnParams:
    """Parameters of ``on_connection_reuseconn``."""


@dataclasses.dataclass(frozen=True)
class TraceDnsResolveHostStartParams:
    """Parameters of ``on_dns_resolvehost_start``."""

    host: str


@dataclasses.dataclass(frozen=True)
class TraceDnsResolveHostEndParams:
    """Parameters of ``on_dns_resolvehost_end``."""

    host: str


@dataclasses.dataclass(frozen=True)
class TraceDnsCacheHitParams:
    """Parameters of ``on_dns_cache_hit``."""

    host: str


@dataclasses.dataclass(frozen=True)
class TraceDnsCacheMissParams:
    """Parameters of ``on_dns_cache_miss``."""

    host: str


_SIGNALS = (
    "on_request_start",
    "on_request_chunk_sent",
    "on_response_chunk_received",
    "on_request_end",
    "on_request_exception",
    "on_request_redirect",
    "on_request_headers_sent",
    "on_connection_queued_start",
    "on_connection_queued_end",
    "on_connection_create_start",
    "on_connection_create_end",
    "on_connection_reuseconn",
    "on_dns_resolvehost_start",
    "on_dns_resolvehost_end",
    "on_dns_cache_hit",
    "on_dns_cache_miss",
)


def _signal(name: str, when: str) -> property:
    """A read-only ``on_*`` attribute of TraceConfig: the Signal of that name."""
    return property(operator.attrgetter("_" + name), doc=f"Signal sent when {when}.")


class TraceConfig:
    """Signals to follow a request's life: append async handlers to ``on_*`` lists.

    Every handler is called as ``handler(session, trace_config_ctx, params)``;
    ``trace_config_ctx`` is made per request by ``trace_config_ctx_factory`` (a
    ``SimpleNamespace`` by default) with ``trace_request_ctx=`` the request's value.
    """

    def __init__(self, trace_config_ctx_factory: Callable[..., Any] = SimpleNamespace) -> None:
        self._trace_config_ctx_factory = trace_config_ctx_factory
        for name in _SIGNALS:
            setattr(self, "_" + name, Signal(self))

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> Any:
        """A new context object for one request."""
        return self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        """Forbid further changes to the signals (done by the session)."""
        for name in _SIGNALS:
            getattr(self, "_" + name).freeze()

    on_request_start = _signal("on_request_start", "a request starts (TraceRequestStartParams)")
    on_request_chunk_sent = _signal("on_request_chunk_sent", "a piece of the request body was sent (TraceRequestChunkSentParams)")
    on_response_chunk_received = _signal("on_response_chunk_received", "a piece of the response body was read (TraceResponseChunkReceivedParams)")
    on_request_end = _signal("on_request_end", "a response arrived (TraceRequestEndParams)")
    on_request_exception = _signal("on_request_exception", "a request failed (TraceRequestExceptionParams)")
    on_request_redirect = _signal("on_request_redirect", "a redirect is followed (TraceRequestRedirectParams)")
    on_request_headers_sent = _signal("on_request_headers_sent", "the request head was sent (TraceRequestHeadersSentParams)")
    on_connection_queued_start = _signal("on_connection_queued_start", "the request waits for room in the pool (TraceConnectionQueuedStartParams)")
    on_connection_queued_end = _signal("on_connection_queued_end", "the wait for room in the pool ended (TraceConnectionQueuedEndParams)")
    on_connection_create_start = _signal("on_connection_create_start", "a new connection is being opened (TraceConnectionCreateStartParams)")
    on_connection_create_end = _signal("on_connection_create_end", "a new connection is open (TraceConnectionCreateEndParams)")
    on_connection_reuseconn = _signal("on_connection_reuseconn", "a pooled connection is reused (TraceConnectionReuseconnParams)")
    on_dns_resolvehost_start = _signal("on_dns_resolvehost_start", "a host name lookup starts (TraceDnsResolveHostStartParams)")
    on_dns_resolvehost_end = _signal("on_dns_resolvehost_end", "a host name lookup ended (TraceDnsResolveHostEndParams)")
    on_dns_cache_hit = _signal("on_dns_cache_hit", "a host name was found in the DNS cache (TraceDnsCacheHitParams)")
    on_dns_cache_miss = _signal("on_dns_cache_miss", "a host name was not in the DNS cache (TraceDnsCacheMissParams)")


class Trace:
    """One TraceConfig's signals for one request."""

    __slots__ = ("_session", "_config", "_ctx")

    def __init__(self, session: "ClientSession", trace_config: TraceConfig, trace_config_ctx: Any) -> None:
        self._session = session
        self._config = trace_config
        self._ctx = trace_config_ctx

    async def _send(self, signal: Signal[Any], params: Any) -> None:
        await signal.send(self._session, self._ctx, params)

    async def send_request_start(self, method: str, url: URL, headers: "CIMultiDict[str]") -> None:
        await self._send(self._config.on_request_start, TraceRequestStartParams(method, url, headers))

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        await self._send(self._config.on_request_chunk_sent, TraceRequestChunkSentParams(method, url, chunk))

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        await self._send(
            self._config.on_response_chunk_received, TraceResponseChunkReceivedParams(method, url, chunk)
        )

    async def send_request_end(self, method: str, url: URL, headers: "CIMultiDict[str]", response: "ClientResponse") -> None:
        await self._send(self._config.on_request_end, TraceRequestEndParams(method, url, headers, response))

    async def send_request_exception(
        self, method: str, url: URL, headers: "CIMultiDict[str]", exception: BaseException
    ) -> None:
        await self._send(
            self._config.on_request_exception, TraceRequestExceptionParams(method, url, headers, exception)
        )

    async def send_request_redirect(
        self, method: str, url: URL, headers: "CIMultiDict[str]", response: "ClientResponse"
    ) -> None:
        await self._send(self._config.on_request_redirect, TraceRequestRedirectParams(method, url, headers, response))

    async def send_request_headers(self, method: str, url: URL, headers: "CIMultiDict[str]") -> None:
        await self._send(self._config.on_request_headers_sent, TraceRequestHeadersSentParams(method, url, headers))

    async def send_connection_queued_start(self) -> None:
        await self._send(self._config.on_connection_queued_start, TraceConnectionQueuedStartParams())

    async def send_connection_queued_end(self) -> None:
        await self._send(self._config.on_connection_queued_end, TraceConnectionQueuedEndParams())

    async def send_connection_create_start(self) -> None:
        await self._send(self._config.on_connection_create_start, TraceConnectionCreateStartParams())

    async def send_connection_create_end(self) -> None:
        await self._send(self._config.on_connection_create_end, TraceConnectionCreateEndParams())

    async def send_connection_reuseconn(self) -> None:
        await self._send(self._config.on_connection_reuseconn, TraceConnectionReuseconnParams())

    async def send_dns_resolvehost_start(self, host: str) -> None:
        await self._send(self._config.on_dns_resolvehost_start, TraceDnsResolveHostStartParams(host))

    async def send_dns_resolvehost_end(self, host: str) -> None:
        await self._send(self._config.on_dns_resolvehost_end, TraceDnsResolveHostEndParams(host))

    async def send_dns_cache_hit(self, host: str) -> None:
        await self._send(self._config.on_dns_cache_hit, TraceDnsCacheHitParams(host))

    async def send_dns_cache_miss(self, host: str) -> None:
        await self._send(self._config.on_dns_cache_miss, TraceDnsCacheMissParams(host))


def make_traces(session: "ClientSession", trace_configs: List[TraceConfig], trace_request_ctx: Optional[Any]) -> List[Trace]:
    """One Trace per config for a new request, each with its own context object."""
    return [Trace(session, config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx)) for config in trace_configs]
