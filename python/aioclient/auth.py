"""Authentication: BasicAuth credentials and the Digest (RFC 7616) middleware."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import time
import warnings
from typing import TYPE_CHECKING, Callable, Dict, List, NamedTuple, Optional

from yarl import URL

from .exceptions import ClientError

if TYPE_CHECKING:
    from .middleware import ClientHandlerType
    from .request import ClientRequest
    from .response import ClientResponse

__all__ = ("BasicAuth", "DigestAuthMiddleware", "encode_basic_auth")


class BasicAuth(NamedTuple("BasicAuth", [("login", str), ("password", str), ("encoding", str)])):
    """HTTP Basic credentials (RFC 7617)."""

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> "BasicAuth":
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        warnings.warn(
            "BasicAuth is deprecated, as in aiohttp 3.14; "
            "use aioclient.encode_basic_auth() with headers={'Authorization': ...} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> "BasicAuth":
        """Parse an ``Authorization: Basic ...`` value."""
        try:
            auth_type, encoded_credentials = auth_header.split(" ", 1)
        except ValueError:
            raise ValueError("Could not parse authorization header.") from None
        if auth_type.lower() != "basic":
            raise ValueError(f"Unknown authorization method {auth_type}")
        try:
            decoded = base64.b64decode(encoded_credentials.encode("ascii"), validate=True).decode(encoding)
        except binascii.Error:
            raise ValueError("Invalid base64 encoding.") from None
        try:
            username, password = decoded.split(":", 1)
        except ValueError:
            raise ValueError("Invalid credentials.") from None
        return basic_auth_no_warn(username, password, encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> Optional["BasicAuth"]:
        """Credentials from ``http://user:pass@host/``, or None."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.raw_user is None and url.raw_password is None:
            return None
        return basic_auth_no_warn(url.user or "", url.password or "", encoding)

    def encode(self) -> str:
        """The ``Authorization`` header value."""
        return encode_basic_auth(self.login, self.password, self.encoding)


def basic_auth_no_warn(login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
    """A ``BasicAuth`` made by the library itself (from a URL, a header, .netrc):
    no deprecation warning, as aiohttp makes its own."""
    return tuple.__new__(BasicAuth, (login, password, encoding))


def encode_basic_auth(login: str, password: str = "", encoding: str = "latin1") -> str:
    """``Basic base64(login:password)``; a ``:`` in ``login`` is a ``ValueError``."""
    if ":" in login:
        raise ValueError('A ":" is not allowed in login (RFC 7617#section-2)')
    creds = f"{login}:{password}".encode(encoding)
    return "Basic " + base64.b64encode(creds).decode(encoding)


# -- Digest (RFC 7616) --------------------------------------------------------------

_HASHES: Dict[str, Callable[[bytes], "hashlib._Hash"]] = {
    "MD5": hashlib.md5,
    "MD5-SESS": hashlib.md5,
    "SHA": hashlib.sha1,
    "SHA-SESS": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA256-SESS": hashlib.sha256,
    "SHA-256": hashlib.sha256,
    "SHA-256-SESS": hashlib.sha256,
    "SHA512": hashlib.sha512,
    "SHA512-SESS": hashlib.sha512,
    "SHA-512": hashlib.sha512,
    "SHA-512-SESS": hashlib.sha512,
}
SUPPORTED_ALGORITHMS = tuple(sorted(_HASHES))
_PARAM_RE = re.compile(r'\s*([a-zA-Z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')


def parse_challenge(header: str) -> Dict[str, str]:
    """The parameters of the Digest challenge in a WWW-Authenticate value ({} if none)."""
    match = re.search(r"(?:^|,\s*)digest\s+", header, re.IGNORECASE)
    if match is None:
        return {}
    params: Dict[str, str] = {}
    rest = header[match.end():]
    pos = 0
    while pos < len(rest):
        m = _PARAM_RE.match(rest, pos)
        if m is None or m.end() == pos:
            break
        key, value = m.group(1).lower(), m.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif re.match(r"\s*[a-zA-Z]+\s", rest[m.end():]) and "=" not in rest[m.end():].split(",")[0]:
            params[key] = value
            break  # the next challenge (another scheme) begins
        params[key] = value
        pos = m.end()
    return params


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class DigestAuthMiddleware:
    """HTTP Digest authentication as a client middleware (RFC 7616).

    On a 401 with a Digest challenge the request is sent again with credentials;
    later requests in the challenge's protection space (its ``domain`` URIs, else its
    origin) answer the last challenge at once (``preemptive=True``). MD5, SHA (SHA-1),
    SHA-256/SHA256 and SHA-512/SHA512 with their ``-sess`` variants; qop ``auth`` and
    ``auth-int`` (preferred when both are offered, as in aiohttp); ``userhash``;
    ``stale=true`` re-challenges. A server that keeps answering 401 gets at most two
    more attempts, then its 401 is returned.

    As in aiohttp the credentials are scoped to the origin of the first request the
    middleware handles; requests to other origins pass through untouched unless a
    challenge advertised them through ``domain``.
    """

    def __init__(self, login: str, password: str, preemptive: bool = True) -> None:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in username')
        self._login = login
        self._password = password
        self._preemptive = preemptive
        self._challenge: Dict[str, str] = {}
        self._protection_space: List[str] = []  # URL prefixes the challenge covers
        self._origin: Optional[URL] = None  # the origin the credentials are for: the first one seen
        self._last_nonce = ""
        self._nonce_count = 0

    async def _authorization(self, method: str, url: URL, body: object) -> str:
        challenge = self._challenge
        if "realm" not in challenge:
            raise ClientError("Malformed Digest auth challenge: Missing 'realm' parameter")
        if "nonce" not in challenge:
            raise ClientError("Malformed Digest auth challenge: Missing 'nonce' parameter")
        realm = challenge["realm"]
        nonce = challenge["nonce"]
        if not nonce:
            raise ClientError("Security issue: Digest auth challenge contains empty 'nonce' value")
        qop_raw = challenge.get("qop", "")
        algorithm = challenge.get("algorithm", "MD5").upper()
        opaque = challenge.get("opaque", "")

        def H(data: bytes) -> str:  # RFC 7616 §3.4.1
            return hash_fn(data).hexdigest()

        def KD(secret: str, data: str) -> str:
            return H(f"{secret}:{data}".encode())

        # Of "auth" and "auth-int" the stronger, auth-int, is chosen (as aiohttp).
        qop = ""
        if qop_raw:
            qops = {"auth", "auth-int"}.intersection(q.strip() for q in qop_raw.split(",") if q.strip())
            if not qops:
                raise ClientError(f"Digest auth error: Unsupported Quality of Protection (qop) value(s): {qop_raw}")
            qop = "auth-int" if "auth-int" in qops else "auth"
        hash_fn = _HASHES.get(algorithm)
        if hash_fn is None:
            raise ClientError(
                f"Digest auth error: Unsupported hash algorithm: {algorithm}. "
                f"Supported algorithms: {', '.join(SUPPORTED_ALGORITHMS)}"
            )
        userhash = challenge.get("userhash", "").lower() == "true"
        uri = url.raw_path_qs or "/"
        method = method.upper()

        if nonce == self._last_nonce:
            self._nonce_count += 1
        else:
            self._nonce_count = 1
            self._last_nonce = nonce
        nc = f"{self._nonce_count:08x}"
        cnonce = self._make_cnonce(nonce)

        a1 = f"{self._login}:{realm}:{self._password}"
        ha1 = H(a1.encode())
        if algorithm.endswith("-SESS"):
            ha1 = H(f"{ha1}:{nonce}:{cnonce}".encode())
        if qop == "auth-int":
            body_bytes = await _body_bytes(body)
            a2 = f"{method}:{uri}:{H(body_bytes)}"
        else:
            a2 = f"{method}:{uri}"
        ha2 = H(a2.encode())
        if qop:
            response = KD(ha1, f"{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
        else:
            response = KD(ha1, f"{nonce}:{ha2}")  # RFC 2069 compatibility

        username = H(f"{self._login}:{realm}".encode()) if userhash else self._login
        fields = [
            f"username={_quote(username)}",
            f"realm={_quote(realm)}",
            f"nonce={_quote(nonce)}",
            f"uri={_quote(uri)}",
            f"response={_quote(response)}",
            f"algorithm={challenge.get('algorithm', 'MD5')}",
        ]
        if opaque:
            fields.append(f"opaque={_quote(opaque)}")
        if qop:
            fields += [f"qop={qop}", f"nc={nc}", f"cnonce={_quote(cnonce)}"]
        if userhash:
            fields.append("userhash=true")
        return "Digest " + ", ".join(fields)

    def _make_cnonce(self, nonce: str) -> str:
        seed = f"{self._nonce_count}:{nonce}:{time.ctime()}".encode() + os.urandom(8)
        return hashlib.sha1(seed).hexdigest()[:16]

    def _in_protection_space(self, url: URL) -> bool:
        """RFC 7616 §3.3: is ``url`` under a URI of the last challenge's protection space?"""
        request = str(url)
        for space in self._protection_space:
            if not request.startswith(space):
                continue
            if len(request) == len(space) or space[-1] == "/" or request[len(space)] == "/":
                return True
        return False

    def _set_challenge(self, challenge: Dict[str, str], response_url: URL) -> None:
        """Adopt a challenge; its ``domain`` URIs (else its origin) are the protection space."""
        self._challenge = challenge
        origin = response_url.origin()
        space: List[str] = []
        for uri in challenge.get("domain", "").split():
            uri = uri.strip('"')
            if not uri:
                continue
            space.append(str(origin.join(URL(uri))) if uri.startswith("/") else str(URL(uri)))
        self._protection_space = space or [str(origin)]

    async def __call__(self, request: "ClientRequest", handler: "ClientHandlerType") -> "ClientResponse":
        """Send ``request``, answering Digest challenges (bounded retries).

        The credentials belong to the origin of the first request the middleware sees
        (as in aiohttp): a request to another origin, a redirect's included, passes
        through untouched unless a challenge from that origin's protection space named
        it in its ``domain``.
        """
        origin = request.url.origin()
        if self._origin is None:
            self._origin = origin
        elif origin != self._origin and not self._in_protection_space(request.url):
            return await handler(request)
        if self._preemptive and self._challenge and self._in_protection_space(request.url):
            request.headers["Authorization"] = await self._authorization(request.method, request.url, request.body)
        response = await handler(request)
        for _attempt in range(2):
            if response.status != 401:
                return response
            challenge = parse_challenge(", ".join(response.headers.getall("WWW-Authenticate", ())))
            if not challenge:
                return response
            stale = challenge.get("stale", "").lower() == "true"
            if "Authorization" in request.headers and not stale and _attempt > 0:
                return response  # wrong credentials: do not loop
            self._set_challenge(challenge, response.url)
            request.headers["Authorization"] = await self._authorization(request.method, request.url, request.body)
            response.release()
            response = await handler(request)
        return response


async def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    as_bytes = getattr(body, "as_bytes", None)
    if as_bytes is not None:
        return await as_bytes()
    raise ClientError("auth-int needs a body that can be read twice (bytes, str, JSON or a file)")
