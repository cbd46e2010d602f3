"""TLS settings: normalises the ``ssl=`` argument and builds engine configurations.

``ssl=True`` (verify against the platform trust store), ``ssl=False`` (encrypt, verify
nothing) and ``ssl=Fingerprint(...)`` (pin the server certificate) run on the Rust TLS
engine. ``ssl=<ssl.SSLContext>`` uses Python's ``ssl`` module through asyncio: the
compatibility path for client certificates and custom verification.
"""

from __future__ import annotations

import asyncio
import os
import ssl as _ssl
import tempfile
import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _core

__all__ = ("Fingerprint", "SSLSettings", "TlsInfo", "normalize_ssl", "merge_ssl_params")


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
        "ssl should be SSLContext, bool, Fingerprint or None, "
        f"got {value!r} instead."
    )


_EXCLUSIVE = "verify_ssl, ssl_context, fingerprint and ssl parameters are mutually exclusive"


def merge_ssl_params(ssl: Any, verify_ssl: Optional[bool], ssl_context: Optional[_ssl.SSLContext], fingerprint: Optional[bytes]) -> SSLSettings:
    """``ssl=`` and its deprecated spellings (``verify_ssl=False``, ``ssl_context=``,
    ``fingerprint=``) as one setting, as aiohttp merges them: each deprecated one warns,
    and giving two is a ``ValueError``."""
    if ssl is None:
        ssl = True
    if verify_ssl is not None and not verify_ssl:
        warnings.warn("verify_ssl is deprecated, use ssl=False instead", DeprecationWarning, stacklevel=3)
        if ssl is not True:
            raise ValueError(_EXCLUSIVE)
        ssl = False
    if ssl_context is not None:
        warnings.warn("ssl_context is deprecated, use ssl=context instead", DeprecationWarning, stacklevel=3)
        if ssl is not True:
            raise ValueError(_EXCLUSIVE)
        ssl = ssl_context
    if fingerprint is not None:
        warnings.warn(
            "fingerprint is deprecated, use ssl=Fingerprint(fingerprint) instead", DeprecationWarning, stacklevel=3
        )
        if ssl is not True:
            raise ValueError(_EXCLUSIVE)
        ssl = Fingerprint(fingerprint)
    return normalize_ssl(ssl)


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


def _decode_certificate(der: bytes) -> Dict[str, Any]:
    """``der`` as ``SSLSocket.getpeercert()`` gives a verified certificate.

    CPython's own decoder (the one ``getpeercert()`` runs) reads only files: the
    certificate goes through a private temporary file (``mkstemp``: created exclusively,
    mode 0600) removed at once. A certificate holds nothing secret either way.
    """
    fd, path = tempfile.mkstemp(prefix="aioclient-peercert-", suffix=".pem")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(_ssl.DER_cert_to_PEM_cert(der))
        return _ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined,no-any-return]
    finally:
        os.unlink(path)


class TlsInfo:
    """What the engine's TLS handshake negotiated, read as ``ssl.SSLObject`` is read.

    This is what ``get_extra_info("ssl_object")`` returns for a connection whose TLS
    runs in the Rust engine (``ssl=True``, ``ssl=False``, ``ssl=Fingerprint(...)``); an
    ``ssl.SSLContext`` gives Python's own ``SSLObject``. Read-only: it describes the
    connection, it does not drive it. ``context`` is None: no ``ssl.SSLContext`` exists.
    """

    __slots__ = ("_version", "_cipher", "_alpn", "_chain", "_verified", "_server_hostname", "_peercert")

    server_side = False
    context = None
    session = None
    session_reused = False

    def __init__(self, handshake: Any, *, server_hostname: Optional[str], verified: bool) -> None:
        self._version: Optional[str] = handshake.version
        self._cipher: Optional[Tuple[str, str, int]] = handshake.cipher
        alpn = handshake.alpn
        self._alpn = alpn.decode("ascii", "replace") if alpn is not None else None
        self._chain: List[bytes] = list(handshake.peer_chain)
        self._verified = verified
        self._server_hostname = server_hostname
        self._peercert: Optional[Dict[str, Any]] = None

    def __repr__(self) -> str:
        name = self._cipher[0] if self._cipher else None
        return f"<TlsInfo {self._version} {name} server_hostname={self._server_hostname!r}>"

    @property
    def server_hostname(self) -> Optional[str]:
        """The name the certificate was checked against (and sent as SNI, for a name)."""
        return self._server_hostname

    def version(self) -> Optional[str]:
        """The protocol version: ``'TLSv1.3'`` or ``'TLSv1.2'``."""
        return self._version

    def cipher(self) -> Optional[Tuple[str, str, int]]:
        """``(name, protocol, secret bits)`` in OpenSSL's naming, as ``SSLObject.cipher()``:
        ``('TLS_AES_256_GCM_SHA384', 'TLSv1.3', 256)``,
        ``('ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2', 128)``."""
        return self._cipher

    def shared_ciphers(self) -> None:
        """None, as Python's ssl answers on a client connection."""
        return None

    def compression(self) -> None:
        """None: TLS compression is never used."""
        return None

    def selected_alpn_protocol(self) -> Optional[str]:
        """The protocol the server chose by ALPN (``'http/1.1'``), None if it chose none."""
        return self._alpn

    def selected_npn_protocol(self) -> None:
        """None: NPN is not offered."""
        return None

    def pending(self) -> int:
        """0: decrypted bytes are handed on as soon as they are decrypted."""
        return 0

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The server's certificate.

        ``binary_form=True``: its DER bytes, whether or not it was verified. Otherwise
        the dict ``SSLSocket.getpeercert()`` gives (subject, issuer, notAfter,
        subjectAltName, ...) when the certificate was verified (``ssl=True``), and
        ``{}`` when it was not (``ssl=False``, a fingerprint), as Python's ssl answers
        under ``CERT_NONE``. The dict is decoded on first use only.
        """
        if binary_form:
            return self._chain[0] if self._chain else None
        if not self._verified or not self._chain:
            return {}
        if self._peercert is None:
            self._peercert = _decode_certificate(self._chain[0])
        return dict(self._peercert)

    def get_unverified_chain(self) -> List[bytes]:
        """The chain as the server sent it, DER, its own certificate first (as Python
        3.13's ``get_unverified_chain()``)."""
        return list(self._chain)

    def extra(self, name: str) -> Tuple[bool, Any]:
        """``(True, value)`` for the TLS entries of ``get_extra_info``, as asyncio's TLS
        transport has them; ``(False, None)`` for any other name. ``sslcontext`` is
        None: the engine's TLS has no ``ssl.SSLContext``."""
        if name == "ssl_object":
            return True, self
        if name == "peercert":
            return True, self.getpeercert()
        if name == "cipher":
            return True, self._cipher
        if name in ("sslcontext", "compression"):
            return True, None
        return False, None


class EngineTlsTransport(asyncio.Transport):
    """The transport of a connection whose TLS runs in the engine, as
    ``ClientResponse.connection.transport`` gives it (aiohttp gives asyncio's TLS
    transport): ``get_extra_info`` answers ``ssl_object`` (a ``TlsInfo``), ``peercert``,
    ``cipher``, ``compression`` and ``sslcontext`` (None: there is no ``ssl.SSLContext``);
    the rest is the TCP transport's. Writes go through TLS and ``close()`` sends
    close_notify first, as on asyncio's TLS transport."""

    __slots__ = ("_transport", "_protocol", "_tls")

    def __init__(self, transport: asyncio.Transport, protocol: Any, tls: TlsInfo) -> None:
        super().__init__()
        self._transport = transport
        self._protocol = protocol
        self._tls = tls

    def __repr__(self) -> str:
        return f"<EngineTlsTransport {self._tls!r} over {self._transport!r}>"

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        known, value = self._tls.extra(name)
        return value if known else self._transport.get_extra_info(name, default)

    def write(self, data: Any) -> None:
        self._protocol.send_raw(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise NotImplementedError("TLS does not support half-closes")

    def close(self) -> None:
        self._protocol.close()

    def abort(self) -> None:
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> Tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: Optional[int] = None, low: Optional[int] = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in self.__slots__:
            raise AttributeError(name)
        return getattr(self._transport, name)
