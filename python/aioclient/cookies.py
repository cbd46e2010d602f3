"""Cookie jars and Set-Cookie parsing: RFC 6265 storage and matching, with bounds against cookie floods."""

from __future__ import annotations

import calendar
import email.utils
import ipaddress
import json
import os
import re
import sys
import time
from abc import ABC, abstractmethod
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

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
    """The cookie jar interface a session uses."""

    @property
    @abstractmethod
    def quote_cookie(self) -> bool:
        """True if cookie values are quoted when sent."""

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


class _Cookie:
    """One stored cookie with the RFC 6265 §5.3 attributes we keep."""

    __slots__ = ("name", "value", "domain", "host_only", "path", "secure", "http_only", "expires", "same_site", "created", "coded")

    def __init__(self, name: str, value: str, coded: str, domain: str, host_only: bool, path: str,
                 secure: bool, http_only: bool, expires: Optional[float], same_site: str, created: float) -> None:
        self.name = name
        self.value = value
        self.coded = coded
        self.domain = domain
        self.host_only = host_only
        self.path = path
        self.secure = secure
        self.http_only = http_only
        self.expires = expires
        self.same_site = same_site
        self.created = created

    def key(self) -> Tuple[str, str, str]:
        return (self.domain, self.path, self.name)

    def morsel(self) -> "Morsel[str]":
        m = make_morsel(self.name, self.value, self.coded)
        m["domain"] = self.domain  # a host-only cookie shows its host, as in aiohttp
        m["path"] = self.path
        if self.secure:
            m["secure"] = True
        if self.http_only:
            m["httponly"] = True
        if self.same_site:
            m["samesite"] = self.same_site
        if self.expires is not None:
            m["expires"] = email.utils.formatdate(self.expires, usegmt=True)
        return m

    def to_json(self) -> Dict[str, Any]:
        return {s: getattr(self, s) for s in self.__slots__}


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


def _path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4."""
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def _default_path(url: URL) -> str:
    path = url.path
    if not path.startswith("/") or path.count("/") <= 1:
        return "/"
    return path[: path.rfind("/")]


def _parse_expires(value: str) -> Optional[float]:
    try:
        parsed = email.utils.parsedate_tz(value)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None:
        return None
    try:
        return float(calendar.timegm(parsed[:9]) - (parsed[9] or 0))
    except (OverflowError, ValueError):
        return None


class CookieJar(AbstractCookieJar):
    """The default cookie jar (RFC 6265).

    ``unsafe=True`` accepts cookies from IP-address hosts; ``quote_cookie=False``
    sends values unquoted; ``treat_as_secure_origin`` lists origins (besides https/wss
    ones) that get Secure cookies. ``save``/``load`` use JSON (aiohttp's pickle files
    are not read: unpickling a file is running code from it).
    """

    # Bounds on what a server can make us store and send (see the module constants).
    _max_per_request = MAX_COOKIES_PER_REQUEST
    _max_header_bytes = MAX_COOKIE_HEADER_BYTES

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: Union[str, URL, List[Union[str, URL]], None] = None,
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
        self._secure_origins = frozenset(origins)
        self._cookies: Dict[Tuple[str, str, str], _Cookie] = {}
        self._clock: Callable[[], float] = time.time

    @property
    def quote_cookie(self) -> bool:
        """True if values are sent quoted (the SimpleCookie routine)."""
        return self._quote_cookie

    def __len__(self) -> int:
        return len(self._cookies)

    def __iter__(self) -> Iterator["Morsel[str]"]:
        self._expire()
        return iter([c.morsel() for c in self._cookies.values()])

    def _expire(self) -> None:
        now = self._clock()
        dead = [k for k, c in self._cookies.items() if c.expires is not None and c.expires <= now]
        for k in dead:
            del self._cookies[k]

    def clear(self, predicate: Optional[Callable[["Morsel[str]"], bool]] = None) -> None:
        """Remove every cookie, or those ``predicate(morsel)`` returns True for."""
        if predicate is None:
            self._cookies.clear()
            return
        for key, cookie in list(self._cookies.items()):
            if predicate(cookie.morsel()):
                del self._cookies[key]

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and its subdomains."""
        domain = domain.lower()
        for key, cookie in list(self._cookies.items()):
            if _domain_match(cookie.domain, domain):
                del self._cookies[key]

    def update_cookies(self, cookies: LooseCookies, response_url: URL = URL()) -> None:
        """Store cookies set by ``response_url`` (a Mapping, pairs or a BaseCookie)."""
        host = (response_url.raw_host or "").lower()
        if not self._unsafe and host and _is_ip(host):
            return  # RFC 2109 §4.3.2: no cookies from IP-address hosts
        now = self._clock()
        items = cookies.items() if isinstance(cookies, (Mapping, BaseCookie)) else cookies
        for name, value in items:
            if isinstance(value, Morsel):
                morsel = value
            else:
                morsel = SimpleCookie()  # type: ignore[assignment]
                morsel[name] = value  # type: ignore[index]
                morsel = morsel[name]  # type: ignore[index]
            self._store(name, morsel, host, response_url, now)
        self._enforce_bounds()

    def _store(self, name: str, morsel: "Morsel[str]", host: str, url: URL, now: float) -> None:
        if _CTL_RE.search(name) or _CTL_RE.search(morsel.value or ""):
            return
        domain = (morsel.get("domain") or "").lower().lstrip(".")
        host_only = not domain and bool(host)
        if not host:
            pass  # no response URL (cookies=, update_cookies): the Domain given, or every host
        elif host_only:
            domain = host
        else:
            if domain in _PUBLIC_SUFFIXES or ("." not in domain and domain != host):
                return  # a public suffix cannot scope a cookie (RFC 6265 §5.3 step 5)
            if host and not _domain_match(host, domain):
                return
        path = morsel.get("path") or ""
        if not path.startswith("/"):
            path = _default_path(url)
        expires: Optional[float] = None
        max_age = morsel.get("max-age")
        if max_age:
            try:
                delta = int(max_age)
            except ValueError:
                delta = None  # type: ignore[assignment]
            if delta is not None:
                expires = now + delta if delta > 0 else 0.0
        if expires is None and morsel.get("expires"):
            expires = _parse_expires(morsel["expires"])
        key = (domain, path, name)
        if expires is not None and expires <= now:
            self._cookies.pop(key, None)  # an expired Set-Cookie deletes (§5.3 step 11)
            return
        old = self._cookies.pop(key, None)
        self._cookies[key] = _Cookie(
            name, morsel.value, morsel.coded_value, domain, host_only, path,
            bool(morsel.get("secure")), bool(morsel.get("httponly")), expires,
            morsel.get("samesite") or "", old.created if old else now,
        )

    def _enforce_bounds(self) -> None:
        if len(self._cookies) <= MAX_COOKIES and len(self._cookies) <= MAX_COOKIES_PER_DOMAIN:
            return
        self._expire()
        per_domain: Dict[str, List[Tuple[str, str, str]]] = {}
        for key in self._cookies:  # insertion order: oldest first
            per_domain.setdefault(key[0], []).append(key)
        for keys in per_domain.values():
            for key in keys[: max(0, len(keys) - MAX_COOKIES_PER_DOMAIN)]:
                del self._cookies[key]
        while len(self._cookies) > MAX_COOKIES:
            del self._cookies[next(iter(self._cookies))]

    def filter_cookies(self, request_url: URL) -> "BaseCookie[str]":
        """The cookies for ``request_url`` (RFC 6265 §5.4), most specific path first."""
        result: SimpleCookie = SimpleCookie()
        if not self._cookies:
            return result
        self._expire()
        host = (request_url.raw_host or "").lower()
        secure_ok = request_url.scheme in _SECURE_SCHEMES or request_url.origin() in self._secure_origins \
            if request_url.absolute else False
        path = request_url.path or "/"
        matched: List[_Cookie] = []
        ip_host = _is_ip(host)
        for cookie in self._cookies.values():
            if cookie.domain == "":
                pass  # shared cookie
            elif ip_host and not self._unsafe:
                continue
            elif cookie.host_only:
                if host != cookie.domain:
                    continue
            elif not _domain_match(host, cookie.domain):
                continue
            if not _path_match(path, cookie.path):
                continue
            if cookie.secure and not secure_ok:
                continue
            matched.append(cookie)
        matched.sort(key=lambda c: (-len(c.path), c.created))
        size = 0
        for cookie in matched[: self._max_per_request]:
            if cookie.name in result:
                continue
            coded = wire_value(cookie.value, cookie.coded, self._quote_cookie)
            size += len(cookie.name) + len(coded) + 2
            if size > self._max_header_bytes:
                break
            dict.__setitem__(result, cookie.name, make_morsel(cookie.name, cookie.value, coded))
        return result

    def save(self, file_path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the cookies to ``file_path`` as JSON, readable by the owner only
        (0o600 on creation, as aiohttp: the file may hold session tokens)."""
        self._expire()
        with open(file_path, "w", encoding="utf-8", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
            json.dump({"version": 1, "cookies": [c.to_json() for c in self._cookies.values()]}, f)

    def load(self, file_path: Union[str, "os.PathLike[str]"]) -> None:
        """Read cookies written by ``save`` (host-only scope and expiry kept)."""
        with open(file_path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError(f"{file_path}: not a cookie file written by CookieJar.save()")
        for item in data["cookies"]:
            cookie = _Cookie(**{k: item[k] for k in _Cookie.__slots__})
            self._cookies[cookie.key()] = cookie
        self._expire()
        self._enforce_bounds()


class _RequestCookieJar(CookieJar):
    """The jar of one request's ``cookies=``: what the caller gives is sent, unbounded."""

    _max_per_request = _max_header_bytes = sys.maxsize

    def _enforce_bounds(self) -> None:
        pass


def request_cookie_jar(session_jar: AbstractCookieJar) -> CookieJar:
    """A jar for per-request ``cookies=`` that judges them as ``session_jar`` would
    (quoting, ``unsafe``, secure origins) but never drops any for size."""
    if isinstance(session_jar, CookieJar):
        jar = _RequestCookieJar(quote_cookie=session_jar.quote_cookie, unsafe=session_jar._unsafe)
        jar._secure_origins = session_jar._secure_origins
        return jar
    return _RequestCookieJar(quote_cookie=session_jar.quote_cookie)


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: no cookie is ever sent from it."""

    def __init__(self, *, loop: Any = None) -> None:
        pass

    @property
    def quote_cookie(self) -> bool:
        """Always True."""
        return True

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
