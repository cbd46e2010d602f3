"""Small shared pieces: ClientTimeout, the sentinel, media type and header parsing."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import warnings
from types import MappingProxyType
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import unquote

from multidict import MultiDict, MultiDictProxy
from yarl import URL

__all__ = (
    "ClientTimeout",
    "DEFAULT_TIMEOUT",
    "sentinel",
    "MimeType",
    "parse_mimetype",
    "parse_content_type",
    "ContentDisposition",
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
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


# RFC 9110 §5.6.2: the characters of a token.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_WHITESPACE_RE = re.compile(r"\s")


def _is_token(text: str) -> bool:
    return bool(text) and _TCHAR.issuperset(text)


def _is_quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] == '"'


def _unescape(text: str) -> str:
    """The content of a quoted-string with its quoted-pairs resolved (RFC 9110 §5.6.4)."""
    return _QUOTED_PAIR_RE.sub(r"\1", text) if "\\" in text else text


def split_unquoted(text: str, sep: str, *, brackets: bool = False) -> List[str]:
    """Split ``text`` at ``sep``, except inside quoted-strings (and ``<...>`` with ``brackets``).

    A parameter such as ``title="a, b"`` or ``filename="a;b.txt"`` is one piece.
    """
    if '"' not in text and not (brackets and "<" in text):
        return text.split(sep)
    parts: List[str] = []
    start = 0
    quoted = escaped = in_brackets = False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif in_brackets:
            in_brackets = char != ">"
        elif char == '"':
            quoted = True
        elif char == "<" and brackets:
            in_brackets = True
        elif char == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


_MIME_CACHE: Dict[str, MimeType] = {}


def parse_mimetype(mimetype: str) -> MimeType:
    """Split ``type/subtype+suffix; k=v`` into its parts (lower-cased, cached).

    Parameter names are lower-cased, quoted values unquoted; the first of repeated
    parameters is the one ``parameters.get`` returns.
    """
    cached = _MIME_CACHE.get(mimetype)
    if cached is not None:
        return cached
    if not mimetype:
        result = MimeType("", "", "", MultiDictProxy(MultiDict()))
    else:
        parts = split_unquoted(mimetype, ";")
        params: MultiDict[str] = MultiDict()
        for item in parts[1:]:
            key, _, value = item.partition("=")
            key = key.strip().lower()
            if not key:
                continue
            value = value.strip()
            if value[:1] == '"':  # a quoted-string; an unclosed one runs to the end
                value = _unescape(value[1:-1] if _is_quoted(value) else value[1:])
            params.add(key, value)
        fulltype = parts[0].strip().lower()
        if fulltype == "*":
            fulltype = "*/*"
        mtype, _, stype = fulltype.partition("/")
        stype, _, suffix = stype.partition("+")
        result = MimeType(mtype, stype, suffix, MultiDictProxy(params))
    if len(_MIME_CACHE) < 256:
        _MIME_CACHE[mimetype] = result
    return result


def parse_content_type(raw: str) -> Tuple[str, "MultiDictProxy[str]"]:
    """Content-Type as ``ClientResponse`` reports it: the media type and its parameters.

    The media type is ``type/subtype`` lower-cased (suffix kept: ``application/ld+json``),
    or ``application/octet-stream`` when the header is absent or is not two tokens around
    one ``/`` (RFC 9110 §8.3.1; a recipient may then assume octet-stream, as aiohttp does).
    """
    essence = raw.partition(";")[0].strip().lower()
    mtype, slash, subtype = essence.partition("/")
    if not (slash and _is_token(mtype) and _is_token(subtype)):
        essence = "application/octet-stream"
    return essence, parse_mimetype(raw).parameters


class BadContentDispositionHeader(RuntimeWarning):
    """Warned when a Content-Disposition header cannot be parsed; the whole header is ignored."""


class BadContentDispositionParam(RuntimeWarning):
    """Warned when one Content-Disposition parameter cannot be parsed; only it is dropped."""


class ContentDisposition(NamedTuple):
    """A parsed Content-Disposition header."""

    type: Optional[str]
    parameters: "MappingProxyType[str, str]"
    filename: Optional[str]


# RFC 2231 §3: a continued parameter, ``name*0``, ``name*1*``, ...
_CONTINUATION_RE = re.compile(r"[^*]+\*[0-9]+\*?")


def parse_content_disposition(header: Optional[str]) -> ContentDisposition:
    """Parse Content-Disposition (RFC 6266) as aiohttp's ``ClientResponse`` does.

    Parameter names are lower-cased. An extended ``name*`` parameter (RFC 8187, formerly
    RFC 5987: ``charset'lang'percent-encoded``) is decoded in its declared charset and
    kept under its own key. ``filename`` is ``filename*`` if present, else ``filename``,
    else the joined RFC 2231 continuations ``filename*0``, ``filename*1``...

    A header that cannot be parsed gives type None and no parameters, with a
    :class:`BadContentDispositionHeader` warning; an undecodable parameter alone is dropped
    with a :class:`BadContentDispositionParam` warning.
    """
    problems: List[Warning] = []
    disptype, params = _parse_disposition(header or "", problems)
    for problem in problems:
        # stacklevel 3: the code that read ``ClientResponse.content_disposition``.
        warnings.warn(problem, stacklevel=3)
    return ContentDisposition(disptype, MappingProxyType(params), _disposition_filename(params, "filename"))


def _parse_disposition(header: str, problems: List[Warning]) -> Tuple[Optional[str], Dict[str, str]]:
    """The disposition type (lower case) and parameters, or (None, {}) if malformed."""
    if not header:
        return None, {}
    bad_header = BadContentDispositionHeader(header)
    disptype, *items = split_unquoted(header, ";")
    disptype = disptype.strip()
    if not _is_token(disptype):
        problems.append(bad_header)
        return None, {}
    params: Dict[str, str] = {}
    for item in items:
        if not item:  # an empty parameter (";;" or a trailing ";") is skipped
            problems.append(bad_header)
            continue
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if not eq or key in params:  # RFC 6266 §4.1: no bare word, no repeated parameter
            problems.append(bad_header)
            return None, {}
        if not _is_token(key):
            problems.append(BadContentDispositionParam(item))
            continue
        if _CONTINUATION_RE.fullmatch(key):
            # Decoded once all segments are joined (see _disposition_filename).
            if _is_quoted(value):
                value = _unescape(value[1:-1])
            elif not _is_token(value):
                problems.append(BadContentDispositionParam(item))
                continue
        elif key.endswith("*"):
            decoded = _decode_ext_value(value)
            if decoded is None:
                problems.append(BadContentDispositionParam(item))
                continue
            value = decoded
        elif _is_quoted(value):
            # Leading path separators are dropped so a filename cannot point elsewhere.
            value = _unescape(value[1:-1]).lstrip("\\/")
        elif not _is_token(value):
            problems.append(bad_header)
            return None, {}
        params[key] = value
    return disptype.lower(), params


def _decode_ext_value(value: str) -> Optional[str]:
    """RFC 8187 ``charset'language'pct-encoded`` decoded, or None if it is not one."""
    if not _is_token(value) or value.count("'") != 2:
        return None
    charset, _language, text = value.split("'")
    try:
        return unquote(text, charset or "utf-8", "strict")
    except (LookupError, UnicodeDecodeError):  # unknown charset, or bytes not in it
        return None


def _disposition_filename(params: Mapping[str, str], name: str) -> Optional[str]:
    """``name*`` (the encoded form wins, RFC 6266 §4.3), ``name``, or its continuations."""
    if name + "*" in params:
        return params[name + "*"]
    if name in params:
        return params[name]
    pieces: List[str] = []
    extended = False
    while True:
        key = f"{name}*{len(pieces)}"
        if key in params:
            pieces.append(params[key])
        elif key + "*" in params:
            extended = extended or not pieces  # the charset is on the first segment only
            pieces.append(params[key + "*"])
        else:
            break
    if not pieces:
        return None
    value = "".join(pieces)
    if extended and value.count("'") >= 2:
        charset, _language, text = value.split("'", 2)
        try:
            return unquote(text, charset or "utf-8", "strict")
        except (LookupError, UnicodeDecodeError):
            return None
    return value


def parse_links(values: Iterable[str], base: URL) -> "MultiDictProxy[MultiDictProxy[Any]]":
    """The Link header (RFC 8288) as rel → {params..., url}, as aiohttp's ``links``.

    Links are separated by commas outside ``<...>`` and quoted-strings; a link without
    ``rel`` is keyed by its URL; ``url`` is resolved against ``base``. Parameters without
    a value (``; crossorigin``) or with an unquoted value holding spaces are skipped.
    """
    links: MultiDict[MultiDictProxy[Any]] = MultiDict()
    for value in values:
        for item in split_unquoted(value, ",", brackets=True):
            item = item.strip()
            if item[:1] != "<" or ">" not in item:
                continue
            url, _, rest = item[1:].partition(">")
            link: MultiDict[Any] = MultiDict()
            for param in split_unquoted(rest, ";")[1:]:
                key, eq, param_value = param.partition("=")
                key = key.strip()
                param_value = param_value.strip()
                if not eq or not key or _WHITESPACE_RE.search(key):
                    continue
                if _is_quoted(param_value):
                    param_value = _unescape(param_value[1:-1])
                elif len(param_value) >= 2 and param_value[0] == param_value[-1] == "'":
                    param_value = param_value[1:-1]  # not RFC 8288, but aiohttp accepts it
                elif _WHITESPACE_RE.search(param_value):
                    continue
                link.add(key, param_value)
            rel = link.get("rel", url)
            link.add("url", base.join(URL(url)))
            links.add(str(rel), MultiDictProxy(link))
    return MultiDictProxy(links)


class deadline:
    """``async with deadline(seconds):`` raises ``asyncio.TimeoutError`` when it passes.

    ``asyncio.timeout`` for Python 3.10 as well; ``None``, 0 or less means no deadline
    (a zero ``ClientTimeout`` field disables it, as in aiohttp).
    """

    __slots__ = ("_delay", "_handle", "_task", "_expired", "_cancelling")

    def __init__(self, delay: Optional[float]) -> None:
        self._delay = delay
        self._handle: Optional[asyncio.TimerHandle] = None
        self._task: Optional["asyncio.Task[Any]"] = None
        self._expired = False
        self._cancelling = 0

    async def __aenter__(self) -> None:
        if self._delay is not None and self._delay > 0:
            task = self._task = asyncio.current_task()
            cancelling = getattr(task, "cancelling", None)  # Python 3.11+
            self._cancelling = cancelling() if cancelling is not None else 0
            self._handle = asyncio.get_running_loop().call_later(self._delay, self._expire)

    def _expire(self) -> None:
        self._expired = True
        if self._task is not None:
            self._task.cancel()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if not self._expired:
            return
        # As asyncio.timeout: take back our cancellation whatever ended the block (an
        # inner deadline that fired at the same time may have turned it into its
        # TimeoutError), and turn it into TimeoutError only if it is the one pending.
        uncancel = getattr(self._task, "uncancel", None)
        if uncancel is None:  # Python 3.10
            if exc_type is asyncio.CancelledError:
                raise asyncio.TimeoutError from exc
            return
        if uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise asyncio.TimeoutError from exc


class CoroutineWrapper:
    """An awaitable that is also a coroutine (``send``/``throw``/``close``), so that
    ``asyncio.create_task()`` accepts it, as aiohttp's request and ``ws_connect``
    results are; it drives ``self._coro``."""

    __slots__ = ("_coro",)

    def send(self, arg: None) -> Any:
        return self._coro.send(arg)

    def throw(self, *args: Any, **kwargs: Any) -> Any:
        return self._coro.throw(*args, **kwargs)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Any:
        return self._coro.__await__()

    def __iter__(self) -> Any:
        return self.__await__()
