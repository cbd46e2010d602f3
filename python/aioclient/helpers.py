"""Small shared pieces: ClientTimeout, the sentinel, media type and header parsing."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from email.message import Message
from typing import Any, Dict, Iterable, NamedTuple, Optional
from urllib.parse import unquote

from multidict import MultiDict, MultiDictProxy
from yarl import URL

__all__ = (
    "ClientTimeout",
    "DEFAULT_TIMEOUT",
    "sentinel",
    "MimeType",
    "parse_mimetype",
    "ContentDisposition",
    "parse_content_disposition",
    "parse_links",
    "deadline",
)


class _Sentinel:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<sentinel>"


sentinel: Any = _Sentinel()


@dataclasses.dataclass(frozen=True)
class ClientTimeout:
    """Timeouts in seconds (None or 0: no limit), with aiohttp's meaning.

    ``total`` covers the whole request including reading the body; ``connect`` getting
    a connection (pool wait included); ``sock_connect`` one TCP connect; ``sock_read``
    the longest gap between two reads.
    """

    total: Optional[float] = None
    connect: Optional[float] = None
    sock_read: Optional[float] = None
    sock_connect: Optional[float] = None
    ceil_threshold: float = 5


DEFAULT_TIMEOUT = ClientTimeout(total=5 * 60, sock_connect=30)


class MimeType(NamedTuple):
    """A parsed media type."""

    type: str
    subtype: str
    suffix: str
    parameters: "MultiDictProxy[str]"


_MIME_CACHE: Dict[str, MimeType] = {}


def parse_mimetype(mimetype: str) -> MimeType:
    """Split ``type/subtype+suffix; k=v`` into its parts (lower-cased, cached)."""
    cached = _MIME_CACHE.get(mimetype)
    if cached is not None:
        return cached
    if not mimetype:
        result = MimeType("", "", "", MultiDictProxy(MultiDict()))
    else:
        parts = mimetype.split(";")
        params: MultiDict[str] = MultiDict()
        for item in parts[1:]:
            if not item:
                continue
            key, _, value = item.partition("=")
            params.add(key.lower().strip(), value.strip(' "'))
        fulltype = parts[0].strip().lower()
        if fulltype == "*":
            fulltype = "*/*"
        mtype, _, stype = fulltype.partition("/")
        stype, _, suffix = stype.partition("+")
        result = MimeType(mtype, stype, suffix, MultiDictProxy(params))
    if len(_MIME_CACHE) < 256:
        _MIME_CACHE[mimetype] = result
    return result


class ContentDisposition(NamedTuple):
    """A parsed Content-Disposition header."""

    type: Optional[str]
    parameters: "MultiDictProxy[str]"
    filename: Optional[str]


def parse_content_disposition(header: str) -> ContentDisposition:
    """Parse Content-Disposition (RFC 6266), ``filename*`` (RFC 5987) winning."""
    message = Message()
    message["content-disposition"] = header
    params = message.get_params(header="content-disposition") or []
    if not params:
        return ContentDisposition(None, MultiDictProxy(MultiDict()), None)
    disptype = params[0][0].lower()
    values: MultiDict[str] = MultiDict()
    for key, value in params[1:]:
        if isinstance(value, tuple):  # RFC 2231 / 5987 encoded value
            charset, _lang, text = value
            value = unquote(text, encoding=charset or "utf-8")
        values.add(key.lower(), value)
    filename = values.get("filename*") or values.get("filename")
    return ContentDisposition(disptype, MultiDictProxy(values), filename)


_LINK_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_PARAM_RE = re.compile(r";\s*([^=;\s]+)\s*=\s*(\"[^\"]*\"|[^;,\s]*)")


def parse_links(values: Iterable[str], base: URL) -> "MultiDictProxy[MultiDictProxy[Any]]":
    """The Link header (RFC 8288) as rel → {url, params...}, as aiohttp's ``links``."""
    links: MultiDict[MultiDictProxy[Any]] = MultiDict()
    for value in values:
        for match in _LINK_RE.finditer(value):
            url, params_text = match.groups()
            link: MultiDict[Any] = MultiDict()
            for key, param in _PARAM_RE.findall(params_text):
                link.add(key, param.strip('"'))
            key = link.get("rel", url)
            link.add("url", base.join(URL(url)))
            links.add(str(key), MultiDictProxy(link))
    return MultiDictProxy(links)


class deadline:
    """``async with deadline(seconds):`` raises ``asyncio.TimeoutError`` when it passes.

    ``asyncio.timeout`` for Python 3.10 as well; ``None``, 0 or less means no deadline
    (a zero ``ClientTimeout`` field disables it, as in aiohttp).
    """

    __slots__ = ("_delay", "_handle", "_task", "_expired")

    def __init__(self, delay: Optional[float]) -> None:
        self._delay = delay
        self._handle: Optional[asyncio.TimerHandle] = None
        self._task: Optional["asyncio.Task[Any]"] = None
        self._expired = False

    async def __aenter__(self) -> None:
        if self._delay is not None and self._delay > 0:
            self._task = asyncio.current_task()
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._expire)

    def _expire(self) -> None:
        self._expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired and exc_type is asyncio.CancelledError:
            uncancel = getattr(self._task, "uncancel", None)
            if uncancel is not None:  # Python 3.11+
                uncancel()
            raise asyncio.TimeoutError from exc
