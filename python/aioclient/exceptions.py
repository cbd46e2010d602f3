"""The client exception tree: aiohttp's names, bases, constructors and messages.

Two deliberate additions for the spec: ``ClientConnectorCertificateError`` is also a
``ClientConnectorSSLError`` (so ``except ClientConnectorSSLError`` catches a wrong host
name too), and ``FingerprintMismatch`` is another name of ``ServerFingerprintMismatch``.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, Tuple, Union

from multidict import CIMultiDictProxy, MultiMapping
from yarl import URL

if TYPE_CHECKING:
    from .connector import ConnectionKey
    from .response import ClientResponse

__all__ = (
    "RequestInfo",
    "ClientError",
    "ClientConnectionError",
    "ClientConnectionResetError",
    "ClientOSError",
    "ClientConnectorError",
    "ClientConnectorDNSError",
    "ClientProxyConnectionError",
    "ClientSSLError",
    "ClientConnectorSSLError",
    "ClientConnectorCertificateError",
    "ConnectionTimeoutError",
    "SocketTimeoutError",
    "ServerConnectionError",
    "ServerTimeoutError",
    "ServerDisconnectedError",
    "ServerFingerprintMismatch",
    "FingerprintMismatch",
    "ClientResponseError",
    "ClientHttpProxyError",
    "WSServerHandshakeError",
    "ContentTypeError",
    "ClientPayloadError",
    "InvalidURL",
    "InvalidUrlClientError",
    "RedirectClientError",
    "NonHttpUrlClientError",
    "InvalidUrlRedirectClientError",
    "NonHttpUrlRedirectClientError",
    "UnixClientConnectorError",
    "TooManyRedirects",
    "WSMessageTypeError",
    "WebSocketError",
    "UploadAbortedError",
)


class RequestInfo(NamedTuple):
    """The request a response or an error belongs to."""

    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL


class ClientError(Exception):
    """Base class of every client error."""


class ClientResponseError(ClientError):
    """An error about a response: status, message, headers, request and history."""

    def __init__(
        self,
        request_info: RequestInfo,
        history: Tuple["ClientResponse", ...],
        *,
        code: Optional[int] = None,
        status: Optional[int] = None,
        message: str = "",
        headers: Optional[MultiMapping[str]] = None,
    ) -> None:
        self.request_info = request_info
        if code is not None:  # the deprecated name of status, as in aiohttp
            if status is not None:
                raise ValueError(
                    "Both code and status arguments are provided; code is deprecated, use status instead"
                )
            warnings.warn("code argument is deprecated, use status instead", DeprecationWarning, stacklevel=2)
            status = code
        self.status = status if status is not None else 0
        self.message = message
        self.headers = headers
        self.history = history
        self.args = (request_info, history)

    @property
    def request_info(self) -> RequestInfo:
        """The request the response belongs to."""
        return self._request_info

    @request_info.setter
    def request_info(self, value: RequestInfo) -> None:
        # Set after construction for a response that failed to parse: ``args`` (and so
        # repr() and pickling) follow, as they hold it from the start in aiohttp.
        self._request_info = value
        self.args = (value, *self.args[1:])

    @property
    def code(self) -> int:
        """Deprecated alias of ``status`` (kept, with its warning, as in aiohttp)."""
        warnings.warn("code property is deprecated, use status instead", DeprecationWarning, stacklevel=2)
        return self.status

    @code.setter
    def code(self, value: int) -> None:
        """Deprecated: sets ``status``."""
        warnings.warn("code property is deprecated, use status instead", DeprecationWarning, stacklevel=2)
        self.status = value

    def __str__(self) -> str:
        url = self.request_info.real_url if self.request_info is not None else None
        return f"{self.status}, message={self.message!r}, url={str(url)!r}"

    def __repr__(self) -> str:
        args = f"{self.request_info!r}, {self.history!r}"
        if self.status != 0:
            args += f", status={self.status!r}"
        if self.message != "":
            args += f", message={self.message!r}"
        if self.headers is not None:
            args += f", headers={self.headers!r}"
        return f"{type(self).__name__}({args})"


class ContentTypeError(ClientResponseError):
    """``json()`` found an unexpected Content-Type."""


class WSServerHandshakeError(ClientResponseError):
    """The WebSocket handshake failed."""


class ClientHttpProxyError(ClientResponseError):
    """The proxy answered CONNECT with a non-2xx status."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects``."""


class ClientConnectionError(ClientError):
    """Base class of connection errors."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset."""


class ClientOSError(ClientConnectionError, OSError):
    """An OSError while talking to the server."""


class ClientConnectorError(ClientOSError):
    """A connection could not be opened."""

    def __init__(self, connection_key: "ConnectionKey", os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        """The underlying OSError."""
        return self._os_error

    @property
    def host(self) -> str:
        """Host of the connection."""
        return self._conn_key.host if self._conn_key is not None else ""

    @property
    def port(self) -> Optional[int]:
        """Port of the connection."""
        return self._conn_key.port if self._conn_key is not None else None

    @property
    def ssl(self) -> Any:
        """TLS settings of the connection."""
        return self._conn_key.ssl if self._conn_key is not None else True

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to host {self.host}:{self.port} ssl:{ssl_text} [{self.strerror}]"

    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """Name resolution failed."""


class ClientProxyConnectionError(ClientConnectorError):
    """The proxy could not be reached."""


class UnixClientConnectorError(ClientConnectorError):
    """The Unix socket could not be connected."""

    def __init__(self, path: str, connection_key: "ConnectionKey", os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)

    @property
    def path(self) -> str:
        """The socket's path."""
        return self._path

    def __str__(self) -> str:
        ssl_text = "default" if self.ssl is True else self.ssl
        return f"Cannot connect to unix socket {self.path} ssl:{ssl_text} [{self.strerror}]"


class ServerConnectionError(ClientConnectionError):
    """Base class of errors on an established connection."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection."""

    def __init__(self, message: Optional[str] = None) -> None:
        if message is None:
            message = "Server disconnected"
        self.args = (message,)
        self.message = message


class ServerTimeoutError(ServerConnectionError, asyncio.TimeoutError):
    """A timeout while talking to the server."""


class ConnectionTimeoutError(ServerTimeoutError):
    """Connecting took longer than ``connect`` / ``sock_connect``."""


class SocketTimeoutError(ServerTimeoutError):
    """No data for longer than ``sock_read``."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server certificate's SHA-256 differs from the pinned one."""

    def __init__(self, expected: bytes, got: bytes, host: str, port: int) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        self.args = (expected, got, host, port)

    def __repr__(self) -> str:
        return (
            f"<{self.__class__.__name__} expected={self.expected!r} got={self.got!r} "
            f"host={self.host!r} port={self.port!r}>"
        )


FingerprintMismatch = ServerFingerprintMismatch


class ClientPayloadError(ClientError):
    """The response body is broken: cut short, badly framed or badly encoded."""


class UploadAbortedError(ClientError):
    """A request body upload was aborted."""


class InvalidURL(ClientError, ValueError):
    """A URL that cannot be requested."""

    def __init__(self, url: Union[str, URL], description: Optional[str] = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Union[str, URL]:
        """The URL."""
        return self._url

    @property
    def description(self) -> Optional[str]:
        """Why it is invalid."""
        return self._description

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} {self}>"

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)


class InvalidUrlClientError(InvalidURL):
    """An invalid URL given to the client."""


class RedirectClientError(ClientError):
    """Base class of redirect errors."""


class NonHttpUrlClientError(ClientError):
    """A URL whose scheme is not http or https."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect to an invalid URL."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect to a URL whose scheme is not http or https."""


class ClientSSLError(ClientConnectorError):
    """Base class of TLS errors."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed."""


class ClientConnectorCertificateError(ClientConnectorSSLError, ssl.CertificateError):
    """The server certificate was refused (untrusted, expired, wrong host name)."""

    def __init__(self, connection_key: "ConnectionKey", certificate_error: Exception) -> None:
        if isinstance(certificate_error, OSError):
            os_error = certificate_error
        else:
            os_error = OSError()
        super().__init__(connection_key, os_error)
        self._certificate_error = certificate_error
        self.args = (connection_key, certificate_error)

    @property
    def certificate_error(self) -> Exception:
        """The verification error."""
        return self._certificate_error

    @property
    def ssl(self) -> bool:  # type: ignore[override]
        """True: the connection used TLS."""
        return self._conn_key.is_ssl if self._conn_key is not None else True

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self.ssl} "
            f"[{self.certificate_error.__class__.__name__}: {self.certificate_error.args}]"
        )


class WSMessageTypeError(TypeError):
    """A WebSocket message of an unexpected type."""


class WebSocketError(Exception):
    """A WebSocket protocol error, with the close code to send.

    Not a ClientError: as in aiohttp, it is the frame parser's error, delivered in an
    ERROR message rather than raised by the client.
    """

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])
