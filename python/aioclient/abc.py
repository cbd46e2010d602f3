"""The client's abstract interfaces under aiohttp's module name (``aiohttp.abc``), so
that custom resolvers and cookie jars written against it keep their imports."""

from __future__ import annotations

from .cookies import AbstractCookieJar
from .resolver import AbstractResolver, ResolveResult

__all__ = ("AbstractCookieJar", "AbstractResolver", "ResolveResult")
