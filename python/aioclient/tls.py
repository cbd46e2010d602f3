"""TLS settings: normalises the ``ssl=`` argument and builds engine configurations.

``ssl=True`` (verify against the platform trust store), ``ssl=False`` (encrypt, verify
nothing) and ``ssl=Fingerprint(...)`` (pin the server certificate) run on the Rust TLS
engine. ``ssl=<ssl.SSLContext>`` uses Python's ``ssl`` module through asyncio: the
compatibility path for client certificates and custom verification.
"""

from __future__ import annotations

import os
import ssl as _ssl
from typing import Any, Union

from . import _core

__all__ = ("Fingerprint", "SSLSettings", "normalize_ssl")


class Fingerprint:
    """Pin a server certificate by the SHA-256 digest of its DER encoding.

    As in aiohttp, the chain and the host name are not checked when a fingerprint is
    given, but the handshake signatures are (otherwise the pin would prove nothing).
    """

    __slots__ = ("_fingerprint",)

    def __init__(self, fingerprint: bytes) -> None:
        if not isinstance(fingerprint, (bytes, bytearray)):
            raise TypeError("fingerprint must be bytes")
        length = len(fingerprint)
        if length in (16, 20):
            raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
        if length != 32:
            raise ValueError("fingerprint has invalid length")
        self._fingerprint = bytes(fingerprint)

    @property
    def fingerprint(self) -> bytes:
        """The pinned SHA-256 digest (32 bytes)."""
        return self._fingerprint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return f"<Fingerprint {self._fingerprint.hex()}>"


SSLSettings = Union[bool, Fingerprint, _ssl.SSLContext]

# Engine configurations are costly to build (the trust store is parsed): one per
# distinct setting, shared by every connection that uses it.
_config_cache: dict[Any, Any] = {}


def normalize_ssl(value: Any) -> SSLSettings:
    """Check an ``ssl=`` argument and return it in canonical form.

    ``None`` means the default (verify), as aiohttp accepts it.
    """
    if value is None or value is True:
        return True
    if value is False:
        return False
    if isinstance(value, (Fingerprint, _ssl.SSLContext)):
        return value
    raise TypeError(
        "ssl should be SSLContext, Fingerprint, or bool, "
        f"got {value!r} instead."
    )


def engine_config(ssl: SSLSettings) -> Any:
    """The Rust engine's TLS configuration for ``ssl`` (not for an ``SSLContext``).

    The platform trust store honours ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``; the key
    includes them so that a changed environment is seen by new sessions.
    """
    if ssl is True:
        key: Any = (True, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    elif ssl is False:
        key = False
    else:
        assert isinstance(ssl, Fingerprint)
        key = ssl.fingerprint
    config = _config_cache.get(key)
    if config is None:
        if ssl is True:
            config = _core.TlsConfig("platform")
        elif ssl is False:
            config = _core.TlsConfig("none")
        else:
            config = _core.TlsConfig("fingerprint", fingerprint=key)
        _config_cache[key] = config
    return config
