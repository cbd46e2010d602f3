"""Redirects: where the next hop goes, with which method, body and credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, NamedTuple, Optional

from multidict import CIMultiDict
from yarl import URL

from .exceptions import (
    ClientPayloadError,
    InvalidUrlClientError,
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
    TooManyRedirects,
)
from .request import validate_url

if TYPE_CHECKING:
    from .request import ClientRequest
    from .response import ClientResponse

__all__ = ("RedirectDecision", "next_hop", "REDIRECT_STATUSES")

_HTTP_AND_EMPTY = frozenset({"http", "https", ""})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that describe the body (session defaults with these take the general path).
BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding")
# The body's framing: dropped with the body when a redirect turns into GET.
FRAMING_HEADERS = ("Content-Length", "Transfer-Encoding")
# Credentials that must not follow a redirect to another origin (RFC 9110 §15.4).
CREDENTIAL_HEADERS = ("Authorization", "Cookie", "Proxy-Authorization")


# URL parsers strip leading and trailing C0 controls and spaces, and drop tabs and
# newlines, before splitting a URL (WHATWG URL), as aiohttp does here.
_C0_CONTROL_OR_SPACE = "".join(map(chr, range(0x21)))
_REMOVE_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")


def _has_no_authority(location: str, scheme: str) -> bool:
    """True if ``location`` (which starts with ``scheme:``) has no ``//`` after it;
    a backslash counts as a slash there, as browsers read it for http(s)."""
    location = location.strip(_C0_CONTROL_OR_SPACE).translate(_REMOVE_TAB_OR_NEWLINE)
    rest = location[len(scheme) + 1 : len(scheme) + 3]
    return rest[:1] not in ("/", "\\") or rest[1:] not in ("/", "\\")


class RedirectDecision(NamedTuple):
    """The next request of a redirect chain."""

    method: str
    url: URL
    body: Any
    headers: CIMultiDict[str]
    drop_credentials: bool


def next_hop(
    resp: "ClientResponse",
    req: "ClientRequest",
    history: List["ClientResponse"],
    max_redirects: int,
    requote: bool,
) -> Optional[RedirectDecision]:
    """Decide the hop after redirect ``resp``; ``None`` when it has no Location.

    Appends ``resp`` to ``history`` and, when there is a hop, releases it (its body is
    never read or decoded). The checks run in aiohttp's order: ``TooManyRedirects``
    past ``max_redirects``, then a body that cannot be sent again, then the Location.
    Without a Location, ``resp`` is returned to the caller as it is, with itself in its
    ``history`` (as aiohttp returns it). Raises the redirect URL errors for a Location
    that is not a URL or not http(s).
    """
    history.append(resp)
    if max_redirects and len(history) >= max_redirects:
        resp.release()
        raise TooManyRedirects(history[0].request_info, tuple(history))

    method = req.method
    body = req._body
    headers = CIMultiDict(req.headers)
    if (resp.status == 303 and method != "HEAD") or (resp.status in (301, 302) and method == "POST"):
        # RFC 9110 §15.4.2-4 (and aiohttp, browsers): a 303 turns any request into GET;
        # a 301/302 only a POST. The body goes away with its framing headers; the
        # others (Content-Type...) stay, as aiohttp keeps them.
        method = "GET"
        body = b""
        for name in FRAMING_HEADERS:
            headers.popall(name, None)
    elif body and not getattr(body, "replayable", True):
        resp.release()
        raise ClientPayloadError(
            "Cannot follow redirect with a consumed request body. Use bytes, a "
            "seekable file-like object, or set allow_redirects=False."
        )

    location = resp.headers.get("Location") or resp.headers.get("URI")
    if location is None:
        resp._history = tuple(history)  # the caller returns it (the fast path too)
        return None
    resp.release()
    try:
        target = URL(location, encoded=not requote)
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(
            location, "Server attempted redirecting to a location that does not look like a URL"
        ) from exc
    if target.scheme not in _HTTP_AND_EMPTY:
        raise NonHttpUrlRedirectClientError(location)
    if not target.scheme or (target.scheme == req.url.scheme and _has_no_authority(location, target.scheme)):
        # Relative and protocol-relative (RFC 3986 §5.2); "http:/path" and "http:path"
        # (the current scheme, no authority) too, as browsers and aiohttp resolve them.
        target = req.url.join(target)
    try:
        new_origin = target.origin()
    except ValueError as exc:
        # The URL as parsed (and joined), as aiohttp reports it.
        raise InvalidUrlRedirectClientError(target, "Invalid redirect URL origin") from exc
    if not target.raw_host:
        raise InvalidUrlRedirectClientError(target)
    if not requote and any(c <= " " or c == "\x7f" for c in target.raw_path_qs):
        # Sent as given, this could not be a request target (the engine refuses
        # spaces and control characters): the server's error, not the caller's.
        raise InvalidUrlRedirectClientError(location, "Location cannot be sent as a request target")
    try:
        validate_url(target)  # a host no request can have, as for the first URL
    except InvalidUrlClientError as exc:
        raise InvalidUrlRedirectClientError(*exc.args) from None

    drop = req.url.origin() != new_origin
    if drop:
        for name in CREDENTIAL_HEADERS:
            headers.popall(name, None)
    return RedirectDecision(method, target, body, headers, drop)
