"""Cookie jars and Set-Cookie parsing: RFC 6265 storage and matching, with bounds against cookie floods."""

from __future__ import annotations

import calendar
import datetime
import ipaddress
import json
import math
import os
import re
import sys
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from types import MappingProxyType
from typing import (
    Any, Callable, DefaultDict, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple,
    Union,
)

from yarl import URL

__all__ = ("AbstractCookieJar", "CookieJar", "DummyCookieJar", "parse_set_cookie", "parse_set_cookie_headers")

# RFC 6265 §6.1 recommends at least these; we hold no more than them.
MAX_SET_COOKIES_PER_RESPONSE = 50
MAX_COOKIES_PER_DOMAIN = 180
MAX_COOKIES = 3300
MAX_COOKIES_PER_REQUEST = 150
MAX_COOKIE_HEADER_BYTES = 8190

# Public suffixes a Domain attribute may not name. The full Public Suffix List is not
# shipped; single-label domains and these common multi-label suffixes are refused.
_PUBLIC_SUFFIXES = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "com.au", "net.au", "org.au",
        "co.jp", "ne.jp", "or.jp", "co.nz", "com.br", "com.cn", "com.mx", "co.in",
        "github.io", "herokuapp.com", "blogspot.com", "appspot.com", "cloudfront.net",
        "azurewebsites.net", "s3.amazonaws.com", "pages.dev", "vercel.app", "netlify.app",
    }
)
_CTL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SECURE_SCHEMES = frozenset({"https", "wss"})
_VALUE_ENCODER = SimpleCookie()

# Set-Cookie parsing (RFC 6265 §5.2), one cookie per field, with aiohttp's leniency.
# A cookie-name is a token in RFC 6265, but servers send names such as "a[1]" or "{x}":
# any visible ASCII is accepted except the characters that would break a Cookie header.
_COOKIE_NAME_RE = re.compile(r'[!#-+\--:<-\[\]-~]+')
# A first pair whose quoted value holds ";": name="a;b" ends at the closing quote.
_QUOTED_PAIR_RE = re.compile(r'([^=;]*)=[ \t]*("(?:[^"\\]|\\.)*")[ \t]*(?:;|$)')
_UNQUOTE_RE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))")
_ANY_CTL_RE = re.compile(r"[\x00-\x1f\x7f]")
_FLAGS = frozenset({"secure", "httponly", "partitioned"})
MAX_COOKIE_PAIR_BYTES = 4096  # RFC 6265 §6.1
MAX_ATTRIBUTE_VALUE_BYTES = 1024  # RFC 6265bis §5.6
MAX_ATTRIBUTES = 32


def _utf8_length(text: str) -> Optional[int]:
    """The UTF-8 length of ``text``; None if it holds undecodable bytes (surrogates)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def _unquote(coded: str) -> str:
    """A cookie value without its double quotes, ``\\ooo`` and ``\\x`` escapes resolved.

    The inverse of the SimpleCookie quoting we send with (``"caf\\351"`` is ``café``).
    """
    if len(coded) < 2 or coded[0] != '"' or coded[-1] != '"':
        return coded
    return _UNQUOTE_RE.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], coded[1:-1])


def make_morsel(name: str, value: str, coded: str) -> "Morsel[str]":
    """A Morsel holding exactly these three strings.

    ``Morsel.set`` rejects names SimpleCookie would not write (``a[1]``, or ``path``,
    which is an attribute name), yet servers send them and aiohttp keeps them; the
    pickling hook sets the fields without that check. (Pythons with the control-character
    fix still raise CookieError for those; our callers have refused them already.)
    """
    morsel: Morsel[str] = Morsel()
    morsel.__setstate__({"key": name, "value": value, "coded_value": coded})  # type: ignore[attr-defined]
    return morsel


def parse_set_cookie(field: str) -> Optional["Morsel[str]"]:
    """One ``Set-Cookie`` field value as a Morsel, or None if it is to be ignored.

    RFC 6265 §5.2: the name-value pair runs to the first ``;`` (a quoted value may hold
    ``;``) and splits at its first ``=``; so ``a=1, b=2`` is one cookie ``a`` worth
    ``1, b=2``, and non-ASCII values (``name=café``) are kept. The Morsel's value is
    unquoted, its ``coded_value`` is what the server sent. Ignored: fields with control
    characters, no ``=``, an empty or unusable name, or a pair over 4096 bytes.
    """
    if not field or _CTL_RE.search(field):
        return None
    match = _QUOTED_PAIR_RE.match(field) if '"' in field else None
    if match is not None:
        name, coded = match[1], match[2]
        attributes = field[match.end():]
    else:
        pair, _, attributes = field.partition(";")
        name, eq, coded = pair.partition("=")
        if not eq:
            return None
    name = name.strip(" \t")
    coded = coded.strip(" \t")
    if not _COOKIE_NAME_RE.fullmatch(name):
        return None
    size = _utf8_length(name + coded)
    if size is None or size > MAX_COOKIE_PAIR_BYTES:
        return None
    value = _unquote(coded)
    if _ANY_CTL_RE.search(value):
        return None
    try:
        morsel = make_morsel(name, value, coded)
    except CookieError:
        return None
    _apply_attributes(morsel, attributes)
    return morsel


def _apply_attributes(morsel: "Morsel[str]", attributes: str) -> None:
    """Set the known cookie-attributes (RFC 6265 §5.2.1-6); the last of a name wins."""
    for item in attributes.split(";")[:MAX_ATTRIBUTES]:
        key, _, value = item.partition("=")
        key = key.strip(" \t").lower()
        if key not in morsel:  # unknown attributes are ignored (§5.2 step 6)
            continue
        if key in _FLAGS:
            dict.__setitem__(morsel, key, True)  # a flag's value is ignored, as browsers do
            continue
        value = _unquote(value.strip(" \t"))
        size = _utf8_length(value)
        if size is not None and size <= MAX_ATTRIBUTE_VALUE_BYTES and not _ANY_CTL_RE.search(value):
            dict.__setitem__(morsel, key, value)


def parse_set_cookie_headers(headers: Iterable[str]) -> List[Tuple[str, "Morsel[str]"]]:
    """The cookies of ``Set-Cookie`` field values, in order, at most 50 (RFC 6265 §6.1)."""
    cookies: List[Tuple[str, Morsel[str]]] = []
    for field in headers:
        morsel = parse_set_cookie(field)
        if morsel is not None:
            cookies.append((morsel.key, morsel))
            if len(cookies) >= MAX_SET_COOKIES_PER_RESPONSE:
                break
    return cookies


def wire_value(value: str, coded: str, quote: bool) -> str:
    """A cookie value as written in a ``Cookie`` header.

    With ``quote`` a value the server sent quoted is kept exactly as sent and any other
    is quoted by the ``SimpleCookie`` rules (``a,b`` becomes ``"a\\054b"``); without
    it the plain value goes out as is.
    """
    if not quote:
        return value
    if coded[:1] == '"':
        return coded
    return _VALUE_ENCODER.value_encode(value)[1]


LooseCookies = Union[Mapping[str, Union[str, "Morsel[str]"]], Iterable[Tuple[str, Union[str, "Morsel[str]"]]], BaseCookie]


class AbstractCookieJar(ABC):
    """The cookie jar interface a session uses (aiohttp's ``AbstractCookieJar``)."""

    @property
    @abstractmethod
    def unsafe(self) -> bool:
        """True if cookies are taken from and sent to IP-address hosts."""

    @property
    @abstractmethod
    def quote_cookie(self) -> bool:
        """True if cookie values are quoted when sent."""

    @property
    def treat_as_secure_origin(self) -> FrozenSet[URL]:
        """Origins that get Secure cookies although their scheme is not https/wss."""
        return frozenset()

    @property
    @abstractmethod
    def cookies(self) -> "MappingProxyType[Tuple[str, str], SimpleCookie]":
        """The stored cookies: a SimpleCookie per ``(domain, path)``."""

    @property
    @abstractmethod
    def host_only_cookies(self) -> FrozenSet[Tuple[str, str, str]]:
        """The ``(domain, path, name)`` of the host-only cookies."""

    @abstractmethod
    def clear(self, predicate: Optional[Callable[["Morsel[str]"], bool]] = None) -> None:
        """Remove all cookies, or those ``predicate`` returns True for."""

    @abstractmethod
    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and its subdomains."""

    @abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = URL()) -> None:
        """Store cookies received from ``response_url``."""

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` header values (one cookie per value)."""
        cookies = parse_set_cookie_headers(headers)
        if cookies:
            self.update_cookies(cookies, response_url)

    @abstractmethod
    def filter_cookies(self, request_url: URL) -> "BaseCookie[str]":
        """The cookies to send to ``request_url``."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def __iter__(self) -> Iterator["Morsel[str]"]: ...


_CookieKey = Tuple[str, str, str]  # (domain, path without trailing "/", name)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _domain_match(host: str, domain: str) -> bool:
    """RFC 6265 §5.1.3."""
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip(host)


def _default_path(url: URL) -> str:
    """RFC 6265 §5.1.4 default-path of a response URL."""
    path = url.path
    if not path.startswith("/") or path.count("/") <= 1:
        return "/"
    return path[: path.rfind("/")]


def _domains_of(host: str) -> List[str]:
    """``host`` and its parent domains, shortest first (``com``, ``e.com``, ``a.e.com``)."""
    result: List[str] = []
    acc: Optional[str] = None
    for label in reversed(host.split(".")):  # as aiohttp: "example.com." gives "com.", ...
        acc = label if acc is None else f"{label}.{acc}"
        if acc:
            result.append(acc)
    return result


def _paths_of(path: str) -> List[str]:
    """The jar paths that can hold cookies for ``path``, shortest first (as aiohttp)."""
    result: List[str] = []
    acc = ""
    for i, segment in enumerate(path.split("/")):
        acc = segment if i == 0 else f"{acc}/{segment}"
        result.append(acc)
    return result


# calendar.timegm() fails past datetime.max (less one: timestamp() loses precision).
try:
    _MAX_TIME = int(datetime.datetime.max.replace(tzinfo=datetime.timezone.utc).timestamp()) - 1
    calendar.timegm(time.gmtime(_MAX_TIME))
except (OSError, OverflowError, ValueError):  # Windows' or a 32-bit platform's limit
    _MAX_TIME = 2**31 - 1

_DATE_TOKENS_RE = re.compile(r"[\x09\x20-\x2F\x3B-\x40\x5B-\x60\x7B-\x7E]*(?P<token>[\x00-\x08\x0A-\x1F\d:a-zA-Z\x7F-\xFF]+)")
_DATE_HMS_TIME_RE = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})")
_DATE_DAY_OF_MONTH_RE = re.compile(r"(\d{1,2})")
_DATE_MONTH_RE = re.compile("(jan)|(feb)|(mar)|(apr)|(may)|(jun)|(jul)|(aug)|(sep)|(oct)|(nov)|(dec)", re.I)
_DATE_YEAR_RE = re.compile(r"(\d{2,4})")


def parse_cookie_date(date_str: str) -> Optional[int]:
    """An ``Expires`` value as a POSIX time (RFC 6265 §5.1.1, as aiohttp), or None.

    The time zone is ignored (UTC); a two-digit year 70-99 is 19xx and 00-69 is 20xx.
    """
    if not date_str:
        return None
    found_time = found_day = found_month = found_year = False
    hour = minute = second = day = month = year = 0
    for token_match in _DATE_TOKENS_RE.finditer(date_str):
        token = token_match.group("token")
        if not found_time:
            time_match = _DATE_HMS_TIME_RE.match(token)
            if time_match:
                found_time = True
                hour, minute, second = (int(s) for s in time_match.groups())
                continue
        if not found_day:
            day_match = _DATE_DAY_OF_MONTH_RE.match(token)
            if day_match:
                found_day = True
                day = int(day_match.group())
                continue
        if not found_month:
            month_match = _DATE_MONTH_RE.match(token)
            if month_match:
                found_month = True
                assert month_match.lastindex is not None
                month = month_match.lastindex
                continue
        if not found_year:
            year_match = _DATE_YEAR_RE.match(token)
            if year_match:
                found_year = True
                year = int(year_match.group())
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    if not (found_day and found_month and found_year and found_time):
        return None
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    return calendar.timegm((year, month, day, hour, minute, second, -1, -1, -1))


# Not saved: the absolute deadline is ("expires_timestamp").
_RELATIVE_EXPIRY_ATTRS = frozenset(("max-age", "expires"))


class CookieJar(AbstractCookieJar):
    """The default cookie jar (RFC 6265), storing cookies as aiohttp's does.

    ``unsafe=True`` accepts cookies from IP-address hosts; ``quote_cookie=False``
    sends values unquoted; ``treat_as_secure_origin`` lists origins (besides https/wss
    ones) that get Secure cookies. ``save``/``load`` use aiohttp's JSON format (aiohttp's
    legacy pickle files are not read: unpickling a file is running code from it).
    """

    # Bounds on what a server can make us store and send (see the module constants).
    _limits_enabled = True
    _max_per_request = MAX_COOKIES_PER_REQUEST
    _max_header_bytes = MAX_COOKIE_HEADER_BYTES

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: Union[str, URL, Iterable[Union[str, URL]], None] = None,
        loop: Any = None,
    ) -> None:
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        if treat_as_secure_origin is None:
            origins: List[URL] = []
        elif isinstance(treat_as_secure_origin, (str, URL)):
            origins = [URL(str(treat_as_secure_origin)).origin()]
        else:
            origins = [URL(str(u)).origin() for u in treat_as_secure_origin]
        self._treat_as_secure_origin: FrozenSet[URL] = frozenset(origins)
        self._loop = loop
        # (domain, path without its trailing "/") -> the cookies there, as in aiohttp.
        self._cookies: DefaultDict[Tuple[str, str], SimpleCookie] = defaultdict(SimpleCookie)
        self._host_only_cookies: Set[_CookieKey] = set()
        self._expirations: Dict[_CookieKey, float] = {}
        self._order: Dict[_CookieKey, None] = {}  # last stored last: evicted first
        self._domain_counts: Dict[str, int] = {}
        self._clock: Callable[[], float] = time.time

    @property
    def unsafe(self) -> bool:
        """True if IP-address hosts may set and get cookies."""
        return self._unsafe

    @property
    def quote_cookie(self) -> bool:
        """True if values are sent quoted (the SimpleCookie routine)."""
        return self._quote_cookie

    @property
    def treat_as_secure_origin(self) -> FrozenSet[URL]:
        """Origins considered secure even over cleartext connections."""
        return self._treat_as_secure_origin

    @property
    def cookies(self) -> "MappingProxyType[Tuple[str, str], SimpleCookie]":
        """A live read-only view: ``(domain, path)`` to the SimpleCookie stored there."""
        return MappingProxyType(self._cookies)

    @property
    def host_only_cookies(self) -> FrozenSet[_CookieKey]:
        """The ``(domain, path, name)`` of the host-only cookies."""
        return frozenset(self._host_only_cookies)

    def __len__(self) -> int:
        return len(self._order)

    def __iter__(self) -> Iterator["Morsel[str]"]:
        self._expire()
        return iter([morsel for bucket in self._cookies.values() for morsel in bucket.values()])

    def _expire(self) -> None:
        if not self._expirations:
            return
        now = self._clock()
        dead = [key for key, when in self._expirations.items() if when <= now]
        if dead:
            self._delete(dead)

    def _delete(self, keys: Iterable[_CookieKey]) -> None:
        for key in keys:
            domain, path, name = key
            self._host_only_cookies.discard(key)
            self._expirations.pop(key, None)
            if key in self._order:
                del self._order[key]
                count = self._domain_counts[domain] - 1
                if count:
                    self._domain_counts[domain] = count
                else:
                    del self._domain_counts[domain]
            bucket = self._cookies.get((domain, path))
            if bucket is not None:
                bucket.pop(name, None)
                if not bucket:
                    del self._cookies[(domain, path)]

    def clear(self, predicate: Optional[Callable[["Morsel[str]"], bool]] = None) -> None:
        """Remove every cookie, or the expired ones and those ``predicate(morsel)`` is True for."""
        if predicate is None:
            self._cookies.clear()
            self._host_only_cookies.clear()
            self._expirations.clear()
            self._order.clear()
            self._domain_counts.clear()
            return
        self._expire()
        self._delete([
            (domain, path, name)
            for (domain, path), bucket in list(self._cookies.items())
            for name, morsel in list(bucket.items())
            if predicate(morsel)
        ])

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and its subdomains."""
        domain = domain.lower()
        self.clear(lambda m: _domain_match(m["domain"], domain))

    def update_cookies(self, cookies: LooseCookies, response_url: URL = URL()) -> None:
        """Store cookies set by ``response_url`` (a Mapping, pairs or a BaseCookie)."""
        self._update(cookies, response_url, copy=True)

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of raw ``Set-Cookie`` values (at most 50 per response)."""
        host = response_url.raw_host or ""
        if not self._unsafe and host and _is_ip(host):
            return
        cookies = parse_set_cookie_headers(headers) if headers else None
        if cookies:
            self._update(cookies, response_url, copy=False)

    def _update(self, cookies: LooseCookies, response_url: URL, *, copy: bool) -> None:
        host = (response_url.raw_host or "").lower()
        if not self._unsafe and host and _is_ip(host):
            return  # RFC 2109 §4.3.2: no cookies from IP-address hosts
        now = self._clock()
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, Morsel):
                morsel = value.copy() if copy else value
            else:
                tmp: SimpleCookie = SimpleCookie()
                tmp[name] = value
                morsel = tmp[name]
            self._store(name, morsel, host, response_url, now)
        self._enforce_bounds()

    def _store(self, name: str, morsel: "Morsel[str]", host: str, url: URL, now: float,
               expiration: Optional[float] = None) -> None:
        if _CTL_RE.search(name) or _CTL_RE.search(morsel.value or ""):
            return
        domain = str(morsel.get("domain") or "").lower()
        if domain.endswith("."):
            domain = ""  # a trailing dot makes the Domain attribute void (as aiohttp)
        elif domain.startswith("."):
            domain = domain[1:]
        host_only = not domain and bool(host)
        if host_only:
            domain = host
        elif domain and host:
            if domain in _PUBLIC_SUFFIXES or ("." not in domain and domain != host):
                return  # a public suffix cannot scope a cookie (RFC 6265 §5.3 step 5)
            if not _domain_match(host, domain):
                return
        # Without a response URL (cookies=, update_cookies) the Domain given, or every host.
        path = str(morsel.get("path") or "")
        if not path.startswith("/"):
            path = _default_path(url)
        dict.__setitem__(morsel, "path", path)
        dict.__setitem__(morsel, "domain", domain)

        deadline: Optional[float] = None
        if expiration is not None:
            deadline = expiration  # from a saved jar: the absolute deadline
        elif morsel.get("max-age"):
            try:
                delta = int(morsel["max-age"])
            except (TypeError, ValueError):
                dict.__setitem__(morsel, "max-age", "")  # ignored, and so is Expires (as aiohttp)
            else:
                deadline = 0.0 if delta <= 0 else min(now + min(delta, _MAX_TIME), _MAX_TIME)
        elif morsel.get("expires"):
            when = parse_cookie_date(str(morsel["expires"]))
            if when is None:
                dict.__setitem__(morsel, "expires", "")
            else:
                deadline = when  # 1 Jan 1970 deletes too (aiohttp takes 0 for "no date")

        key = (domain, path.rstrip("/"), name)  # Path=/foo/ and Path=/foo are one cookie
        if deadline is not None and deadline <= now:
            self._delete([key])  # an expired Set-Cookie deletes (§5.3 step 11)
            return
        if host_only:
            self._host_only_cookies.add(key)
        else:
            self._host_only_cookies.discard(key)
        if deadline is not None:
            self._expirations[key] = deadline
        else:
            self._expirations.pop(key, None)  # a replacement does not inherit expiry
        if key in self._order:
            del self._order[key]
        else:
            self._domain_counts[domain] = self._domain_counts.get(domain, 0) + 1
        self._order[key] = None
        dict.__setitem__(self._cookies[(domain, key[1])], name, morsel)

    def _enforce_bounds(self) -> None:
        if not self._limits_enabled:
            return
        if len(self._order) <= MAX_COOKIES and max(self._domain_counts.values(), default=0) <= MAX_COOKIES_PER_DOMAIN:
            return
        self._expire()
        for domain, count in list(self._domain_counts.items()):
            if count > MAX_COOKIES_PER_DOMAIN:
                oldest = [k for k in self._order if k[0] == domain][: count - MAX_COOKIES_PER_DOMAIN]
                self._delete(oldest)
        if len(self._order) > MAX_COOKIES:
            self._delete(list(self._order)[: len(self._order) - MAX_COOKIES])

    def filter_cookies(self, request_url: URL = URL()) -> "BaseCookie[str]":
        """The cookies for ``request_url`` (RFC 6265 §5.4), in aiohttp's order.

        Cookies of parent domains come before the host's, shorter paths before longer;
        of two cookies with one name the later (more specific) one is sent.
        """
        result: BaseCookie[str] = BaseCookie()
        if not self._cookies:
            return result
        self._expire()
        host = (request_url.raw_host or "").lower()
        is_not_secure = request_url.scheme not in _SECURE_SCHEMES
        if is_not_secure and self._treat_as_secure_origin:
            try:
                is_not_secure = request_url.origin() not in self._treat_as_secure_origin
            except ValueError:
                pass
        if not host:
            domains = [""]
        elif _is_ip(host):
            domains = ["", host] if self._unsafe else [""]
        else:
            domains = ["", *_domains_of(host)]
        path = request_url.path or "/"
        path_len = len(path)
        paths = _paths_of(path)
        selected: Dict[str, "Morsel[str]"] = {}
        for domain in domains:
            for jar_path in paths:
                bucket = self._cookies.get((domain, jar_path))
                if not bucket:
                    continue
                for name, cookie in bucket.items():
                    if domain != host and (domain, jar_path, name) in self._host_only_cookies:
                        continue
                    if len(cookie["path"]) > path_len:
                        continue  # Path=/a/ is not for /a
                    if is_not_secure and cookie["secure"]:
                        continue
                    selected.pop(name, None)  # re-inserted: the order tracks specificity
                    selected[name] = cookie
        sizes = {}
        for name, cookie in selected.items():
            coded = wire_value(cookie.value, cookie.coded_value, self._quote_cookie)
            sizes[name] = (make_morsel(name, cookie.value, coded), _utf8_length(f"{name}={coded}") or 0)
        total = len("Cookie: ") - 2 + sum(2 + size for _, size in sizes.values())
        if len(sizes) <= self._max_per_request and total <= self._max_header_bytes:
            dict.update(result, {name: m for name, (m, _) in sizes.items()})
            return result
        # Over a bound: the most specific cookies first, so a host's own cookies win.
        total = len("Cookie: ") - 2
        admitted: List[Tuple[str, "Morsel[str]"]] = []
        for name, (morsel, size) in reversed(sizes.items()):
            if len(admitted) >= self._max_per_request:
                break
            if total + 2 + size > self._max_header_bytes:
                continue
            total += 2 + size
            admitted.append((name, morsel))
        dict.update(result, reversed(admitted))
        return result

    def save(self, file_path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the cookies to ``file_path`` in aiohttp's JSON format, readable by the
        owner only (0o600 on creation: the file may hold session tokens)."""
        self._expire()
        data: Dict[str, Dict[str, Dict[str, Any]]] = {}
        for (domain, path), bucket in self._cookies.items():
            entry = data[f"{domain}|{path}"] = {}
            for name, morsel in bucket.items():
                item: Dict[str, Any] = {"key": morsel.key, "value": morsel.value, "coded_value": morsel.coded_value}
                for attr in morsel._reserved:  # type: ignore[attr-defined]
                    if attr not in _RELATIVE_EXPIRY_ATTRS and morsel.get(attr):
                        item[attr] = morsel[attr]
                key = (domain, path, name)
                if key in self._host_only_cookies:
                    item["host_only"] = True
                if key in self._expirations:
                    item["expires_timestamp"] = self._expirations[key]
                entry[name] = item
        with open(file_path, "w", encoding="utf-8", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            json.dump(data, f, indent=2)

    def load(self, file_path: Union[str, "os.PathLike[str]"]) -> None:
        """Replace the jar's contents with the cookies of a file ``save`` wrote (here or
        by aiohttp). The cookies pass the rules of ``update_cookies``; a malformed file
        raises ValueError and leaves the jar unchanged. Pickle files are not read."""
        try:
            with open(file_path, encoding="utf-8") as f:
                data = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{file_path}: not a JSON cookie file (pickled cookie jars are not read)") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{file_path}: not a cookie file written by CookieJar.save()")
        loaded = self._new_loading_jar()
        try:
            loaded._load_records(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{file_path}: not a cookie file written by CookieJar.save(): {exc!r}") from exc
        self._replace_contents(loaded)

    def _new_loading_jar(self) -> "CookieJar":
        jar = CookieJar(unsafe=self._unsafe, quote_cookie=self._quote_cookie,
                        treat_as_secure_origin=list(self._treat_as_secure_origin), loop=self._loop)
        jar._clock = self._clock
        return jar

    def _load_records(self, data: Dict[str, Any]) -> None:
        now = self._clock()
        for compound_key, cookies in data.items():
            domain, _path = compound_key.split("|", 1)
            for name, record in cookies.items():
                expiration: Optional[float] = None
                if record.get("expires_timestamp") is not None:
                    expiration = float(record["expires_timestamp"])
                    if not math.isfinite(expiration):
                        raise ValueError(f"cookie {name!r}: expiration timestamp must be a finite number")
                morsel = make_morsel(str(record["key"]), str(record["value"]), str(record["coded_value"]))
                for attr in morsel._reserved:  # type: ignore[attr-defined]
                    if attr in record and attr not in ("key", "value", "coded_value"):
                        morsel[attr] = record[attr]
                if record.get("host_only"):
                    morsel["domain"] = ""  # so that it is host-only again
                url = URL.build(scheme="https", host=domain) if domain else URL()
                self._store(name, morsel, url.raw_host or "", url, now, expiration)
        self._enforce_bounds()

    def _replace_contents(self, loaded: "CookieJar") -> None:
        # Refill the same mapping, so views from the ``cookies`` property stay live.
        self._cookies.clear()
        self._cookies.update(loaded._cookies)
        self._host_only_cookies = loaded._host_only_cookies
        self._expirations = loaded._expirations
        self._order = loaded._order
        self._domain_counts = loaded._domain_counts


class _RequestCookieJar(CookieJar):
    """The jar of one request's ``cookies=``: what the caller gives is sent, unbounded."""

    _limits_enabled = False
    _max_per_request = _max_header_bytes = sys.maxsize


def request_cookie_jar(session_jar: AbstractCookieJar) -> CookieJar:
    """A jar for per-request ``cookies=`` that judges them as ``session_jar`` would
    (quoting, ``unsafe``, secure origins) but never drops any for size."""
    return _RequestCookieJar(
        quote_cookie=session_jar.quote_cookie,
        unsafe=bool(getattr(session_jar, "unsafe", False)),
        treat_as_secure_origin=list(getattr(session_jar, "treat_as_secure_origin", ())),
    )


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: no cookie is ever sent from it."""

    def __init__(self, *, loop: Any = None) -> None:
        self._loop = loop

    @property
    def unsafe(self) -> bool:
        """Always False."""
        return False

    @property
    def quote_cookie(self) -> bool:
        """Always True."""
        return True

    @property
    def cookies(self) -> "MappingProxyType[Tuple[str, str], SimpleCookie]":
        """An empty mapping."""
        return MappingProxyType({})

    @property
    def host_only_cookies(self) -> FrozenSet[_CookieKey]:
        """An empty frozenset."""
        return frozenset()

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator["Morsel[str]"]:
        return iter(())

    def clear(self, predicate: Optional[Callable[["Morsel[str]"], bool]] = None) -> None:
        """Nothing to clear."""

    def clear_domain(self, domain: str) -> None:
        """Nothing to clear."""

    def update_cookies(self, cookies: LooseCookies, response_url: URL = URL()) -> None:
        """Ignore the cookies."""

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Ignore the cookies."""

    def filter_cookies(self, request_url: URL) -> "BaseCookie[str]":
        """No cookies."""
        return SimpleCookie()
