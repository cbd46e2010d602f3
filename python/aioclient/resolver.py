"""Name resolution: the resolver interface, the threaded default and the aiodns one."""

from __future__ import annotations

import asyncio
import socket
from abc import ABC, abstractmethod
from typing import Any, List, Optional, TypedDict

__all__ = (
    "AbstractResolver",
    "ResolveResult",
    "ThreadedResolver",
    "AsyncResolver",
    "DefaultResolver",
)

# getnameinfo flags: turn an address into text without a reverse lookup.
_NAME_FLAGS = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
# The ``flags`` of each result, as in aiohttp: the host is an address, the port a number.
_RESULT_FLAGS = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV


class ResolveResult(TypedDict):
    """One address for a host, as aiohttp's resolvers return it."""

    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class AbstractResolver(ABC):
    """The interface a ``resolver=`` object provides (the same as aiohttp's)."""

    @abstractmethod
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> List[ResolveResult]:
        """Return the addresses of ``host``; raise ``OSError`` when there are none."""

    @abstractmethod
    async def close(self) -> None:
        """Release the resolver's resources."""


class ThreadedResolver(AbstractResolver):
    """``getaddrinfo`` run in the loop's default executor (the default resolver)."""

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None) -> None:
        self._loop = loop

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> List[ResolveResult]:
        loop = self._loop or asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        results: List[ResolveResult] = []
        for fam, _, proto, _, address in infos:
            if fam == socket.AF_INET6:
                if len(address) < 3:
                    continue  # IPv6 is not supported by this Python build
                if address[3]:
                    # A link-local address needs its scope id kept, in textual form.
                    resolved_host, _port = socket.getnameinfo(address, _NAME_FLAGS)
                    port_number = int(_port)
                else:
                    resolved_host, port_number = address[:2]
            else:
                assert fam == socket.AF_INET
                resolved_host, port_number = address  # type: ignore[misc]
            results.append(
                ResolveResult(
                    hostname=host,
                    host=resolved_host,
                    port=port_number,
                    family=fam,
                    proto=proto,
                    flags=_RESULT_FLAGS,
                )
            )
        if not results:
            raise OSError(socket.EAI_NONAME, f"Could not resolve host {host!r}")
        return results

    async def close(self) -> None:
        """Nothing to release."""


class AsyncResolver(AbstractResolver):
    """Resolution through c-ares (``aiodns``), with optional custom nameservers.

    Install it with ``pip install aioclient[speedups]``.
    """

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop] = None, *args: Any, **kwargs: Any) -> None:
        """``loop`` first, as in aiohttp; the other arguments (``nameservers=``, ...)
        go to ``aiodns.DNSResolver``."""
        try:
            import aiodns
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "AsyncResolver needs aiodns: pip install 'aioclient[speedups]'"
            ) from exc
        if loop is not None:
            kwargs["loop"] = loop
        self._resolver = aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> List[ResolveResult]:
        import aiodns

        try:
            answer = await self._resolver.getaddrinfo(
                host, port=port, type=socket.SOCK_STREAM, family=family,
                flags=socket.AI_ADDRCONFIG,
            )
        except aiodns.error.DNSError as exc:
            # As aiohttp: c-ares' message, no errno (its codes are not getaddrinfo's).
            message = exc.args[1] if len(exc.args) >= 2 else "DNS lookup failed"
            raise OSError(None, message) from exc
        results: List[ResolveResult] = []
        for node in answer.nodes:
            address: Any = node.addr
            if node.family == socket.AF_INET6 and len(address) > 3 and address[3]:
                resolved_host, _port = socket.getnameinfo(address, _NAME_FLAGS)
                port_number = int(_port)
            else:
                resolved_host = address[0].decode() if isinstance(address[0], bytes) else address[0]
                port_number = address[1]
            results.append(
                ResolveResult(
                    hostname=host,
                    host=resolved_host,
                    port=port_number,
                    family=node.family,
                    proto=0,
                    flags=_RESULT_FLAGS,
                )
            )
        if not results:
            raise OSError(None, "DNS lookup failed")
        return results

    async def close(self) -> None:
        """Cancel outstanding queries and free the channel."""
        close = getattr(self._resolver, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        else:  # older aiodns
            self._resolver.cancel()


DefaultResolver = ThreadedResolver
