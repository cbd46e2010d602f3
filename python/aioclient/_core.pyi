"""Types of the native module: the Rust engine's bindings (rust/python/src/lib.rs)."""

from typing import Any, Callable, Optional, TypeAlias, final

Headers: TypeAlias = list[tuple[bytes, bytes]]

@final
class ResponseHead:
    """The head of a final response and the framing facts parsed from it."""

    status: int
    reason: bytes
    version_minor: int
    content_length: Optional[int]
    chunked: bool
    keep_alive: bool
    content_type: Optional[bytes]
    content_encoding: Optional[bytes]
    location: Optional[bytes]
    has_set_cookie: bool
    @property
    def headers(self) -> Headers:
        """The headers as received (a new list on each access)."""
    def decoded_headers(self) -> list[tuple[str, str]]:
        """The headers decoded as UTF-8 with surrogateescape."""

@final
class Informational:
    """A 1xx response seen before the final one."""

    status: int
    headers: Headers

@final
class EndOfMessage:
    """The end of a response body."""

    @property
    def trailers(self) -> Headers: ...

@final
class ChunkEnd:
    """The end of an HTTP chunk of a chunked body (after its bytes in the events)."""

@final
class HandshakeDone:
    """The innermost TLS handshake completed."""

    alpn: Optional[bytes]
    version: Optional[str]
    peer_sha256: Optional[bytes]
    cipher: Optional[tuple[str, str, int]]  # (name, protocol, bits) as OpenSSL names it
    peer_chain: list[bytes]  # DER, the server's own certificate first

@final
class ProtocolError:
    """A protocol or TLS failure; always the last event of its batch."""

    kind: str
    message: str
    expected: Optional[bytes]
    got: Optional[bytes]
    verify_code: Optional[int]  # a refused certificate: OpenSSL's code and message
    verify_message: Optional[str]

Event: TypeAlias = ResponseHead | Informational | bytes | ChunkEnd | EndOfMessage | HandshakeDone | ProtocolError

@final
class TlsConfig:
    """TLS settings shared by connections: verify is platform, none, fingerprint or ca."""

    def __new__(
        cls, verify: str, *, fingerprint: Optional[bytes] = None, ca_pem: Optional[bytes] = None
    ) -> TlsConfig: ...

def encode_head(
    method: bytes, target: bytes, headers: Headers, version_minor: int
) -> bytes:
    """Validate and encode a request head; ValueError for CR/LF/NUL or bad tokens."""

def page_start(buffer: bytearray) -> int:
    """Bytes of ``buffer`` to skip for reads to start on a page boundary (0 when the
    buffer holds no boundary)."""

@final
class Connection:
    """One connection: HTTP/1.1 under zero, one or two TLS layers."""

    def __new__(
        cls, max_line_size: int = 8190, max_field_size: int = 8190, max_headers: int = 128
    ) -> Connection: ...
    def set_limits(self, max_line_size: int, max_field_size: int, max_headers: int) -> None:
        """Head size limits for the next response."""
    def start_tls(self, config: TlsConfig, server_name: str, tunnel: bool = False) -> bytes | ProtocolError:
        """Add a TLS layer (inside the others if tunnel); returns the ClientHello to write,
        or the failure event for a name no certificate can match."""
    def send_request(
        self,
        head: bytes,
        body: Optional[bytes],
        no_body: bool,
        connect: bool,
        chunked: bool,
        decompress: bool,
        max_decompressed_size: Optional[int],
        read_until_eof: bool = True,
        upgrade: bool = False,
    ) -> bytes:
        """Bytes to write for a request head (from encode_head) and small body.

        With ``read_until_eof=False`` a response framed by neither Content-Length nor
        chunked coding has an empty body and closes the connection. Only with
        ``upgrade`` (the request carries Upgrade) does a 101 switch protocols."""
    def send_body(self, data: bytes, last: bool = False) -> bytes:
        """Bytes to write for a piece of a streamed body."""
    def send_raw(self, data: bytes) -> bytes:
        """Bytes to write for an upgraded connection's stream."""
    def enter_plain_tunnel(self) -> None:
        """After a 2xx to CONNECT: a fresh HTTP/1.1 exchange inside the tunnel."""
    def close_tls(self) -> bytes:
        """close_notify for every TLS layer."""
    def receive(self, data: bytes, /) -> tuple[list[Event], bytes]:
        """Feed bytes read from the socket: every event produced and bytes to write."""
    def receive_eof(self) -> list[Event]:
        """The peer closed the stream."""
    @property
    def reusable(self) -> bool: ...
    @property
    def has_pending(self) -> bool: ...
    @property
    def body_remaining(self) -> int | None:
        """Bytes left of a plain Content-Length body the caller may read itself."""
    def consume_body(self, n: int) -> list[Event]:
        """Account for ``n`` body bytes read by the caller; the events that completes."""
    @property
    def is_upgraded(self) -> bool: ...
    @property
    def handshaking(self) -> bool: ...

class HandlerBase:
    """Base of ``protocol.ResponseHandler``: its hot state and per-read methods.

    Subclassed in Python; the attributes below are stored in Rust."""

    _loop: Any
    _conn: Optional[Connection]
    transport: Any
    head_waiter: Any
    continue_waiter: Any
    payload: Any
    on_message_complete: Optional[Callable[[Any], None]]
    _exception: Optional[BaseException]
    @property
    def _read_timeout(self) -> Optional[float]: ...
    _read_timer: Any
    _read_bufsize: int
    _head_limits: tuple[int, int, int]
    _request_chunked: bool
    _pending_hold: bool
    _raw_pipe: bool
    _body_withheld: bool
    _read_buffer: Optional[bytearray]
    def __new__(cls, *args: Any, **kwargs: Any) -> HandlerBase: ...
    @property
    def reusable(self) -> bool: ...
    def prepare(self, read_timeout: Optional[float], read_bufsize: int, head_limits: tuple[int, int, int]) -> None:
        """Settings for the next response (``sock_read``, buffer size, head limits)."""
    def set_read_timeout(self, timeout: Optional[float]) -> None:
        """``sock_read``: the longest gap allowed between two reads (0 or None: none)."""
    def get_buffer(self, sizehint: int) -> memoryview:
        """The shared read buffer, up to twice ``_read_bufsize`` (asyncio.BufferedProtocol)."""
    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` were read into the buffer: one call into the engine."""
    def data_received(self, data: bytes) -> None:
        """The same for bytes handed over as an object."""
    def send_plain(
        self,
        head: bytes,
        no_body: bool,
        decompress: bool,
        max_decompressed_size: Optional[int],
        read_timeout: Optional[float],
        read_bufsize: int,
        head_limits: tuple[int, int, int],
        on_message_complete: Callable[[Any], None],
    ) -> Any:
        """Send a request without a body; returns the future of ``(head, body)``."""

@final
class WebSocketCodec:
    """RFC 6455 client codec with permessage-deflate."""

    def __new__(cls, max_msg_size: int, deflate_header: Optional[bytes] = None, decode_text: bool = True) -> WebSocketCodec: ...
    def encode(self, opcode: int, payload: bytes, fin: bool = True, compress: bool = True) -> bytes: ...
    def encode_close(self, code: Optional[int] = None, reason: Optional[bytes] = None) -> bytes: ...
    def receive(self, data: bytes) -> list[tuple[int, object, object]]:
        """(opcode, data, extra) per message; (-1, message, close_code) for an error, last."""

def ws_handshake_key() -> str: ...
def ws_accept_for(key: str) -> str: ...

@final
class BodyBuffer:
    """A ``bytes`` of a known length, filled by copies, handed over only when full."""

    def __new__(cls, len: int) -> BodyBuffer: ...
    @property
    def filled(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    def write(self, data: bytes) -> None:
        """Copy ``data`` in after what is filled."""
    def write_from(self, source: bytearray, n: int) -> None:
        """Copy the first ``n`` bytes of ``source`` in after what is filled."""
    def finish(self) -> bytes:
        """The full bytes; ValueError until every byte is written."""
