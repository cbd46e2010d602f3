"""Proxies: the proxy URL of a request, from arguments or (with trust_env) the environment.

Opening the tunnel itself (CONNECT, TLS inside TLS) is the connector's job; this module
only decides which proxy a request uses and with which credentials.
"""

from __future__ import annotations

import ipaddress
import netrc
import os
import urllib.request
from pathlib import Path
from typing import Optional, Tuple

from yarl import URL

from .auth import BasicAuth, basic_auth_no_warn

__all__ = ("check_proxy_url", "proxy_from_env", "netrc_auth", "bypass_proxy")

_PROXY_SCHEMES = frozenset({"http", "https", "socks4", "socks4a", "socks5", "socks5h"})


def check_proxy_url(proxy: URL, proxy_auth: Optional[BasicAuth]) -> Tuple[URL, Optional[BasicAuth]]:
    """Validate ``proxy=``; credentials in its URL become ``proxy_auth`` unless
    ``proxy_auth`` is given, which wins (as in aiohttp).

    Raises ``ValueError`` for an unsupported scheme or a ``proxy_auth`` that is not a
    ``BasicAuth``.
    """
    if proxy.scheme not in _PROXY_SCHEMES:
        raise ValueError(
            f"Unsupported proxy scheme {proxy.scheme!r} ({proxy}): use http, https, socks4, socks4a, socks5 or socks5h"
        )
    if not proxy.host:
        raise ValueError(f"Invalid proxy URL {proxy}")
    if proxy_auth and not isinstance(proxy_auth, BasicAuth):
        raise ValueError("proxy_auth must be None or BasicAuth() tuple")
    url_auth = BasicAuth.from_url(proxy)
    if url_auth is not None:
        if proxy_auth is None:
            proxy_auth = url_auth
        proxy = proxy.with_user(None)
    return proxy, proxy_auth


def _no_proxy_entries() -> list:
    value = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def bypass_proxy(url: URL) -> bool:
    """True when NO_PROXY names the URL's host: exact names, domain suffixes (with or
    without a leading dot), ``*``, IP addresses, CIDR ranges, and optional ``:port``."""
    host = (url.raw_host or "").lower().strip("[]")
    port = url.port
    for entry in _no_proxy_entries():
        if entry == "*":
            return True
        entry = entry.lower()
        entry_port: Optional[int] = None
        if entry.startswith("["):
            addr, _, rest = entry[1:].partition("]")
            entry = addr
            if rest.startswith(":") and rest[1:].isdigit():
                entry_port = int(rest[1:])
        elif entry.count(":") == 1:
            name, _, p = entry.partition(":")
            if p.isdigit():
                entry, entry_port = name, int(p)
        if entry_port is not None and entry_port != port:
            continue
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.lstrip(".")
        if entry.startswith("*."):
            entry = entry[2:]
        if host == entry or host.endswith("." + entry):
            return True
    return False


def proxy_from_env(url: URL, proxy_auth: Optional[BasicAuth]) -> Tuple[Optional[URL], Optional[BasicAuth]]:
    """The proxy for ``url`` from HTTP_PROXY/HTTPS_PROXY/WS_PROXY/WSS_PROXY/ALL_PROXY.

    Lower case names win over upper case ones, as in ``urllib.request.getproxies``;
    hosts in NO_PROXY go direct. Proxy credentials come from the URL, else ``.netrc``.
    """
    if bypass_proxy(url):
        return None, None
    proxies = urllib.request.getproxies_environment()
    scheme = url.scheme
    value = proxies.get(scheme) or proxies.get("all")
    if not value:
        return None, None
    if "://" not in value:
        value = "http://" + value  # "host:port", as curl and requests read it
    proxy = URL(value)
    if proxy.scheme not in _PROXY_SCHEMES:
        return None, None  # an unknown scheme in ALL_PROXY: not ours to use
    proxy, auth = check_proxy_url(proxy, None)
    if auth is None:
        auth = netrc_auth(proxy.host or "")
    return proxy, auth if auth is not None else proxy_auth


def netrc_auth(host: str) -> Optional[BasicAuth]:
    """Credentials for exactly ``host`` from ``$NETRC`` or ``~/.netrc``, if any."""
    path = os.environ.get("NETRC")
    if path is None:
        try:
            path = str(Path.home() / ".netrc")
        except RuntimeError:
            return None
    if not os.path.isfile(path):
        return None
    try:
        parsed = netrc.netrc(path)
    except (netrc.NetrcParseError, OSError):
        return None
    # hosts, not authenticators(): the "default" entry would send these credentials
    # to any host at all.
    entry = parsed.hosts.get(host)
    if entry is None:
        return None
    login, account, password = entry
    return basic_auth_no_warn(login or account or "", password or "")
