"""WebSocket client: the handshake over a session request, then the Rust frame codec."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
import json as _json
import re
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Callable, Deque, Iterable, List, NamedTuple, Optional, Tuple, Union

from multidict import CIMultiDict
from yarl import URL

from . import _core
from .exceptions import (
    ClientConnectionResetError,
    ClientError,
    ServerDisconnectedError,
    ServerTimeoutError,
    WebSocketError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from .helpers import CoroutineWrapper, deadline, sentinel

if TYPE_CHECKING:
    from .session import ClientSession

__all__ = (
    "WSMsgType",
    "WSMessage",
    "WSCloseCode",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "ws_connect",
)


class WSMsgType(IntEnum):
    """Message types, as aiohttp's."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # aiohttp's lowercase aliases
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSCloseCode(IntEnum):
    """Close codes (RFC 6455 §7.4.1)."""

    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMessage(NamedTuple):
    """A received message: type, data and extra (close reason, ...)."""

    type: WSMsgType
    data: Any
    extra: Optional[str]

    def json(self, *, loads: Callable[[Any], Any] = _json.loads) -> Any:
        """Parse the data as JSON."""
        return loads(self.data)


WS_CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
# Plain ints for the per-message paths (enum attribute lookups cost more).
_TEXT, _BINARY = int(WSMsgType.TEXT), int(WSMsgType.BINARY)
WS_CLOSING_MESSAGE = WSMessage(WSMsgType.CLOSING, None, None)


@dataclasses.dataclass(frozen=True)
class ClientWSTimeout:
    """``ws_receive``: longest wait in ``receive()``; ``ws_close``: for the close handshake.

    None: no limit (both default to None, as in aiohttp; ``ws_connect()`` without a
    ``timeout`` uses ``DEFAULT_WS_CLIENT_TIMEOUT``, 10 seconds for the close).
    """

    ws_receive: Optional[float] = None
    ws_close: Optional[float] = None


DEFAULT_WS_CLIENT_TIMEOUT = ClientWSTimeout(ws_receive=None, ws_close=10.0)

# Read flow control, as aiohttp's WebSocketDataQueue (limit 2**16): the socket is paused
# while more than 2 * _READ_LIMIT bytes of messages wait for receive(), and resumed once
# they are read below _READ_LIMIT. Each message counts _MSG_OVERHEAD bytes more, so a
# flood of tiny messages is bounded too.
_READ_LIMIT = 2**16
_MSG_OVERHEAD = 128


class _Reader:
    """Fed by the protocol with the raw stream; decodes frames into a queue.

    Items are the codec's ``(opcode, data, extra)`` tuples, plus the CLOSING and
    ERROR items the WebSocket itself puts in to wake a waiting ``receive()``.
    The codec's items are counted (``_size``) for read flow control.
    """

    __slots__ = ("_codec", "_queue", "_loop", "_protocol", "_waiters", "_exception", "_eof", "_size", "_paused", "on_data")

    def __init__(self, codec: Any, loop: asyncio.AbstractEventLoop, protocol: Any) -> None:
        self._codec = codec
        self._queue: Deque[Any] = deque()
        self._loop = loop
        self._protocol = protocol
        # Usually one reader waits; close() may read while a woken receive() has yet to run.
        self._waiters: List[asyncio.Future[None]] = []
        self._exception: Optional[BaseException] = None
        self._eof = False
        self._size = 0
        self._paused = False  # (also read by the protocol: the consumer paused reading)
        # Called on every read from the server (the heartbeat's proof of life), or None.
        self.on_data: Optional[Callable[[], None]] = None

    def feed_data(self, data: bytes) -> None:
        if self.on_data is not None:
            self.on_data()
        items = self._codec.receive(data)
        if items:
            self._queue.extend(items)
            size = self._size + _MSG_OVERHEAD * len(items)
            for item in items:
                size += len(item[1])
            self._size = size
            self._wake()
            if size > 2 * _READ_LIMIT and not self._paused:
                self._paused = True
                self._protocol.pause_reading()

    def _feed_pieces(self, pieces: Any, size: int) -> None:
        """The pieces of one read (the handler's call, as for a StreamReader)."""
        for piece in pieces:
            self.feed_data(piece)

    def put(self, item: Any) -> None:
        """Queue an item of our own after what was received (not counted)."""
        self._queue.append(item)
        self._wake()

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()

    def set_exception(self, exc: BaseException, exc_cause: Any = None) -> None:
        if self._exception is None:  # the first cause wins
            self._exception = exc
        self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        if waiters:
            self._waiters = []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _resume(self) -> None:
        self._paused = False
        self._protocol.resume_reading()

    async def read(self) -> Any:
        """The next item; None when woken for an item another reader took first."""
        queue = self._queue
        if not queue:
            if self._exception is not None:
                raise self._exception
            if self._eof:
                raise ServerDisconnectedError()
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            try:
                if self._paused:
                    # Waiting with nothing queued: the socket must be read. (Resuming may
                    # feed data at once, which must find the waiter in place.)
                    self._resume()
                await waiter
            finally:
                if not waiter.done() or waiter.cancelled():
                    try:
                        self._waiters.remove(waiter)
                    except ValueError:
                        pass
            if not queue:
                if self._exception is not None:
                    raise self._exception
                if self._eof:
                    raise ServerDisconnectedError()
                return None
        item = queue.popleft()
        if item[0] < 0x100:  # the codec's: counted
            self._size -= len(item[1]) + _MSG_OVERHEAD
            if self._paused and self._size < _READ_LIMIT:
                self._resume()
        return item


# Items the WebSocket queues itself (the codec's opcodes are 0..10, -1 for its errors).
_CLOSING_ITEM = (int(WSMsgType.CLOSING), None, None)
_ERROR = int(WSMsgType.ERROR)


class ClientWebSocketResponse:
    """An open WebSocket: send and receive messages, close with a handshake.

    States, as in aiohttp: open; *closing* once a Close arrived from the server (or
    ``close()`` interrupts a waiting ``receive()``); *closed* once our Close was sent
    or the connection failed. The connection is released (closed) when the close
    handshake ends; ``close_code`` is the server's code when it sent one.
    """

    def __init__(
        self,
        proto: Any,
        connector: Any,
        reader: _Reader,
        codec: Any,
        response: Any,
        protocol: Optional[str],
        *,
        timeout: ClientWSTimeout,
        autoclose: bool,
        autoping: bool,
        heartbeat: Optional[float],
        compress: int,
        client_notakeover: bool,
        decode_text: bool,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._proto = proto
        self._connector = connector
        self._reader = reader
        self._codec = codec
        self._response = response
        self._protocol = protocol
        self._timeout = timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._compress = compress
        self._client_notakeover = client_notakeover
        self._decode_text = decode_text
        self._loop = loop
        self._closed = False
        self._closing = False
        self._released = False
        self._close_code: Optional[int] = None
        self._exception: Optional[BaseException] = None
        self._waiting = False
        self._close_wait: Optional[asyncio.Future[None]] = None
        self._heartbeat_handle: Optional[asyncio.TimerHandle] = None
        self._pong_handle: Optional[asyncio.TimerHandle] = None
        self._next_ping_at = 0.0
        if heartbeat is not None:
            reader.on_data = self._on_data_received
            self._on_data_received()

    # -- heartbeat -------------------------------------------------------------
    # Any bytes from the server prove the connection alive, whether or not the
    # application is inside receive(): they push the next ping back and cancel the
    # wait for a PONG. A ping unanswered (by anything) for heartbeat/2 closes it.

    def _on_data_received(self) -> None:
        if self._pong_handle is not None:
            self._pong_handle.cancel()
            self._pong_handle = None
        assert self._heartbeat is not None
        self._next_ping_at = self._loop.time() + self._heartbeat
        # One timer at a time: it moves itself to _next_ping_at if it fires early.
        if self._heartbeat_handle is None and not self._closing and not self._closed:
            self._heartbeat_handle = self._loop.call_at(self._next_ping_at, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        self._heartbeat_handle = None
        if self._closing or self._closed:
            return
        now = self._loop.time()
        if now < self._next_ping_at:
            self._heartbeat_handle = self._loop.call_at(self._next_ping_at, self._send_heartbeat)
            return
        try:
            self._write(_PING, b"")
        except Exception as exc:
            self._heartbeat_failed(exc)
            return
        assert self._heartbeat is not None
        self._pong_handle = self._loop.call_at(now + self._heartbeat / 2, self._pong_not_received)

    def _pong_not_received(self) -> None:
        self._pong_handle = None
        assert self._heartbeat is not None
        self._heartbeat_failed(ServerTimeoutError(f"No PONG received after {self._heartbeat / 2} seconds"))

    def _heartbeat_failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._set_closed()
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._exception = exc
        self._release()
        if self._waiting and not self._closing:
            self._reader.put((_ERROR, exc, None))

    def _cancel_heartbeat(self) -> None:
        for handle in (self._heartbeat_handle, self._pong_handle):
            if handle is not None:
                handle.cancel()
        self._heartbeat_handle = self._pong_handle = None

    # -- attributes ------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._closed

    @property
    def close_code(self) -> Optional[int]:
        """The close code, once closed."""
        return self._close_code

    @property
    def protocol(self) -> Optional[str]:
        """The negotiated subprotocol."""
        return self._protocol

    @property
    def compress(self) -> int:
        """The deflate window bits in use (0: no compression)."""
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        """True when our compressor resets per message."""
        return self._client_notakeover

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Transport information (peername, ssl_object, peercert, cipher, ...);
        ``default`` once closed. Over the engine's TLS ``ssl_object`` is a
        :class:`~aioclient.tls.TlsInfo` and ``sslcontext`` is None."""
        transport = self._proto.user_transport()
        if transport is None or self._released:
            return default
        return transport.get_extra_info(name, default)

    def exception(self) -> Optional[BaseException]:
        """The error that ended the connection, if any (not the server's protocol errors)."""
        return self._exception

    # -- sending ---------------------------------------------------------------

    def _write(self, opcode: int, payload: bytes, compress: Optional[bool] = None) -> None:
        proto = self._proto
        transport = proto.transport
        if self._closed or transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        proto.send_raw(self._codec.encode(opcode, payload, True, bool(self._compress) if compress is None else compress))

    def _send_close(self, code: int, message: Union[bytes, str]) -> None:
        transport = self._proto.transport
        if transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        # Bytes go as given (aiohttp does not check them); the codec cuts a long reason
        # at a character boundary.
        reason = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        self._proto.send_raw(self._codec.encode_close(code, reason))

    async def send_frame(self, message: bytes, opcode: int, compress: Optional[int] = None) -> None:
        """Send one frame of any opcode."""
        self._write(opcode, message, None if compress is None else bool(compress))
        if self._proto._writing_paused:
            await self._proto.drain()

    async def ping(self, message: bytes = b"") -> None:
        """Send a ping."""
        await self.send_frame(message, WSMsgType.PING)

    async def pong(self, message: bytes = b"") -> None:
        """Send a pong."""
        await self.send_frame(message, WSMsgType.PONG)

    async def send_str(self, data: str, compress: Optional[int] = None) -> None:
        """Send a text message."""
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        self._write(_TEXT, data.encode("utf-8"), None if compress is None else bool(compress))
        if self._proto._writing_paused:
            await self._proto.drain()

    async def send_bytes(self, data: Union[bytes, bytearray, memoryview], compress: Optional[int] = None) -> None:
        """Send a binary message."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        self._write(_BINARY, bytes(data), None if compress is None else bool(compress))
        if self._proto._writing_paused:
            await self._proto.drain()

    async def send_json(self, data: Any, compress: Optional[int] = None, *, dumps: Callable[[Any], str] = _json.dumps) -> None:
        """Send ``dumps(data)`` as a text message."""
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self, data: Any, compress: Optional[int] = None, *, dumps: Callable[[Any], Union[bytes, bytearray, memoryview]]
    ) -> None:
        """Send ``dumps(data)`` (an encoder that returns bytes, like orjson's) as a binary message."""
        await self.send_bytes(dumps(data), compress=compress)

    # -- closing ---------------------------------------------------------------

    def _set_closing(self) -> None:
        self._closing = True
        self._cancel_heartbeat()

    def _set_closed(self) -> None:
        self._closed = True
        self._cancel_heartbeat()

    def _release(self) -> None:
        """The connection is done: close it (an upgraded connection is never reused)."""
        self._released = True
        if self._connector is not None:
            connector, self._connector = self._connector, None
            connector.release(self._proto, reusable=False)
        else:
            self._proto.close()

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        """Close: send Close, wait for the server's (``ws_close`` seconds), release.

        Returns False when already closed. A ``receive()`` running in another task
        first gets a CLOSING message.
        """
        if self._waiting and not self._closing:
            # Break the receive() of another task first; it resolves _close_wait.
            self._close_wait = self._loop.create_future()
            self._set_closing()
            self._reader.put(_CLOSING_ITEM)
            await self._close_wait
        if self._closed:
            return False
        self._set_closed()
        try:
            self._send_close(code, message)
        except Exception as exc:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
            self._exception = exc
            self._release()
            return True
        if self._close_code is not None:  # the server's Close came first: ours was the reply
            self._release()
            return True
        while True:
            try:
                async with deadline(self._timeout.ws_close):
                    item = await self._reader.read()
            except asyncio.CancelledError:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._release()
                raise
            except Exception as exc:  # the ws_close timeout, or the connection dropped
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._exception = exc
                self._release()
                return True
            if item is None:
                continue
            opcode, data, extra = item
            if opcode == WSMsgType.CLOSE:
                self._close_code = extra if extra is not None else code
                self._release()
                return True
            if opcode == -1:  # a protocol error instead of the server's Close
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._exception = WebSocketError(extra, data)
                self._release()
                return True

    # -- receiving -------------------------------------------------------------

    async def receive(self, timeout: Optional[float] = None) -> WSMessage:
        """The next message; CLOSED (then again CLOSED) once the connection is over."""
        receive_timeout = timeout or self._timeout.ws_receive
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                return WS_CLOSED_MESSAGE
            if self._closing:
                await self.close()
                return WS_CLOSED_MESSAGE
            try:
                self._waiting = True
                try:
                    if receive_timeout:
                        async with deadline(receive_timeout):
                            item = await self._reader.read()
                    else:
                        item = await self._reader.read()
                finally:
                    self._waiting = False
                    close_wait = self._close_wait
                    if close_wait is not None and not close_wait.done():
                        close_wait.set_result(None)  # a close() waits for this read to end
            except (asyncio.CancelledError, asyncio.TimeoutError):
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                raise
            except ServerDisconnectedError:
                # The stream ended without a Close: try to send ours, which fails and
                # records why (close code 1006), as aiohttp does.
                self._close_code = WSCloseCode.OK
                await self.close()
                return WS_CLOSED_MESSAGE
            except ClientError:  # the connection was reset
                self._set_closed()
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._release()
                return WS_CLOSED_MESSAGE
            except Exception as exc:
                self._exception = exc
                self._set_closing()
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                await self.close()
                return WSMessage(WSMsgType.ERROR, exc, None)
            if item is None:
                # Woken for an item that a close() in another task took: it closes.
                continue
            opcode, data, extra = item
            if opcode == _TEXT:  # (bytes when decode_text is off: the codec left it undecoded)
                return WSMessage(WSMsgType.TEXT, data, "")
            if opcode == _BINARY:
                return WSMessage(WSMsgType.BINARY, data, "")
            if opcode == -1:
                # The server broke the protocol: answer with the code it deserves.
                # exception() stays None, as in aiohttp; the message carries the error.
                error = WebSocketError(extra, data)
                self._close_code = extra
                await self.close(code=extra)
                return WSMessage(WSMsgType.ERROR, error, None)
            if opcode == WSMsgType.CLOSE:
                self._set_closing()
                self._close_code = extra if extra is not None else WSCloseCode.OK
                if self._autoclose:
                    await self.close()  # replies 1000, keeps the server's code (1006 if that fails)
                # The server's code, whatever the reply did to close_code; 0 for a Close
                # without one, as in aiohttp.
                return WSMessage(WSMsgType.CLOSE, extra if extra is not None else 0, data)
            if opcode == WSMsgType.PING:
                if self._autoping:
                    await self.pong(data)
                    continue
                return WSMessage(WSMsgType.PING, data, "")
            if opcode == WSMsgType.PONG:
                if self._autoping:
                    continue
                return WSMessage(WSMsgType.PONG, data, "")
            if opcode == WSMsgType.CLOSING:
                self._set_closing()
                return WS_CLOSING_MESSAGE
            if opcode == _ERROR:  # the heartbeat closed the connection
                return WSMessage(WSMsgType.ERROR, data, None)
            raise AssertionError(f"unexpected opcode {opcode}")  # pragma: no cover - the codec emits no other

    async def receive_str(self, *, timeout: Optional[float] = None) -> str:
        """The next message, which must be text."""
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.TEXT:
            raise WSMessageTypeError(f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT")
        return msg.data  # type: ignore[no-any-return]

    async def receive_bytes(self, *, timeout: Optional[float] = None) -> bytes:
        """The next message, which must be binary."""
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.BINARY:
            raise WSMessageTypeError(f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY")
        return msg.data  # type: ignore[no-any-return]

    async def receive_json(self, *, loads: Callable[[Any], Any] = _json.loads, timeout: Optional[float] = None) -> Any:
        """The next text message, parsed as JSON."""
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> "ClientWebSocketResponse":
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> "ClientWebSocketResponse":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


_PING = int(WSMsgType.PING)

# The server's permessage-deflate answer, parsed as aiohttp's client parses it
# (aiohttp/_websocket/helpers.py): the parameters of the first permessage-deflate.
_DEFLATE_SPLIT = re.compile(r"permessage-deflate([^,]+)?")
_DEFLATE_PARAMS = re.compile(
    r"^(?:;\s*(?:"
    r"(server_no_context_takeover)|"
    r"(client_no_context_takeover)|"
    r"(server_max_window_bits(?:=(\d+))?)|"
    r"(client_max_window_bits(?:=(\d+))?)))*$"
)


def _deflate_offer(compress: int) -> str:
    """The Sec-WebSocket-Extensions offer for ``compress`` (the server's window bits)."""
    if not 9 <= compress <= 15:
        raise ValueError("Compress wbits must between 9 and 15, zlib does not support wbits=8")
    offer = "permessage-deflate; client_max_window_bits"
    return offer if compress == 15 else f"{offer}; server_max_window_bits={compress}"


def _parse_deflate_answer(header: str) -> Tuple[int, bool, Optional[str]]:
    """``(window bits, client_no_context_takeover, codec header)`` from the server's answer.

    Accepts what aiohttp accepts: ``server_max_window_bits`` is not checked (we
    inflate with the largest window, which reads any smaller one); an out-of-range
    ``client_max_window_bits`` or an unknown parameter raises ``ValueError``. The
    codec header is the answer normalised for the Rust codec; None: no deflate.
    """
    found = _DEFLATE_SPLIT.search(header)
    if found is None:
        return 0, False, None
    params = _DEFLATE_PARAMS.match(found.group(1) or "")
    if params is None:
        raise ValueError("Extension for deflate not supported" + (found.group(1) or ""))
    bits = int(params.group(6)) if params.group(6) else 15
    if not 9 <= bits <= 15:
        raise ValueError("Invalid window size")
    notakeover = bool(params.group(2))
    codec_header = f"permessage-deflate; client_max_window_bits={bits}"
    if notakeover:
        codec_header += "; client_no_context_takeover"
    if params.group(1):
        codec_header += "; server_no_context_takeover"
    return bits, notakeover, codec_header


async def ws_connect(
    session: "ClientSession",
    url: Union[str, URL],
    *,
    method: str = "GET",
    protocols: Iterable[str] = (),
    timeout: Any = sentinel,
    receive_timeout: Optional[float] = None,
    autoclose: bool = True,
    autoping: bool = True,
    heartbeat: Optional[float] = None,
    auth: Any = None,
    origin: Optional[str] = None,
    params: Any = None,
    headers: Any = None,
    proxy: Any = None,
    proxy_auth: Any = None,
    ssl: Any = True,
    verify_ssl: Optional[bool] = None,
    fingerprint: Optional[bytes] = None,
    ssl_context: Any = None,
    server_hostname: Optional[str] = None,
    proxy_headers: Any = None,
    compress: int = 0,
    max_msg_size: int = 4 * 1024 * 1024,
    decode_text: bool = True,
) -> ClientWebSocketResponse:
    """Open a WebSocket: the RFC 6455 handshake, then frames over the same connection.

    As in aiohttp: redirects are followed, the session's ``raise_for_status``
    applies, and ``compress`` (the server's window bits, 9 to 15) offers
    permessage-deflate only when set.
    """
    if timeout is sentinel:
        ws_timeout = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, ClientWSTimeout):
        ws_timeout = timeout
    else:
        ws_timeout = ClientWSTimeout(ws_close=None if timeout is None else float(timeout))
    if receive_timeout is not None:
        ws_timeout = dataclasses.replace(ws_timeout, ws_receive=receive_timeout)
    real_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
    # The caller's Upgrade, Connection and Sec-WebSocket-Version are kept, as in aiohttp.
    for name, value in (("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")):
        real_headers.setdefault(name, value)
    key = _core.ws_handshake_key()
    real_headers["Sec-WebSocket-Key"] = key
    protocols = tuple(protocols)
    if protocols:
        real_headers["Sec-WebSocket-Protocol"] = ",".join(protocols)
    if origin is not None:
        real_headers["Origin"] = origin
    if compress:
        real_headers["Sec-WebSocket-Extensions"] = _deflate_offer(compress)

    resp = await session._request(
        method,
        url,
        params=params,
        headers=real_headers,
        auth=auth,
        proxy=proxy,
        proxy_auth=proxy_auth,
        ssl=ssl,
        verify_ssl=verify_ssl,
        fingerprint=fingerprint,
        ssl_context=ssl_context,
        server_hostname=server_hostname,
        proxy_headers=proxy_headers,
        auto_decompress=False,
        read_until_eof=False,
    )
    try:
        if resp.status != 101:
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid response status", status=resp.status, headers=resp.headers)
        if resp.headers.get("Upgrade", "").lower() != "websocket":
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid upgrade header", status=resp.status, headers=resp.headers)
        if resp.headers.get("Connection", "").lower() != "upgrade":
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid connection header", status=resp.status, headers=resp.headers)
        if resp.headers.get("Sec-WebSocket-Accept", "") != _core.ws_accept_for(key):
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid challenge response", status=resp.status, headers=resp.headers)
        protocol = None
        if protocols and "Sec-WebSocket-Protocol" in resp.headers:
            offered = [p.strip() for p in resp.headers["Sec-WebSocket-Protocol"].split(",")]
            protocol = next((p for p in offered if p in protocols), None)
        # Without an offer, an extension in the answer is ignored (as aiohttp does).
        extension = resp.headers.get("Sec-WebSocket-Extensions") if compress else None
        try:
            window_bits, notakeover, codec_header = _parse_deflate_answer(extension) if extension else (0, False, None)
            codec = _core.WebSocketCodec(max_msg_size, codec_header.encode() if codec_header else None, decode_text)
        except ValueError as exc:
            raise WSServerHandshakeError(resp.request_info, resp.history, message=str(exc), status=resp.status, headers=resp.headers) from exc
    except BaseException:
        resp.close()
        raise

    proto, connector = resp._proto, resp._connector
    resp._proto = resp._connector = None
    if proto is None:
        raise WSServerHandshakeError(resp.request_info, resp.history, message="Connection closed during handshake", status=resp.status, headers=resp.headers)
    reader = _Reader(codec, session._loop, proto)
    leftover = resp.content.read_nowait() if not resp.content.at_eof() else b""
    proto.payload = reader
    proto.set_read_timeout(None)
    proto.start_raw_pipe()
    if leftover:
        reader.feed_data(leftover)
    resp._finish()  # the HTTP exchange is over: stop its total timeout
    return ClientWebSocketResponse(
        proto,
        connector,
        reader,
        codec,
        resp,
        protocol,
        timeout=ws_timeout,
        autoclose=autoclose,
        autoping=autoping,
        heartbeat=heartbeat,
        compress=window_bits,
        client_notakeover=notakeover,
        decode_text=decode_text,
        loop=session._loop,
    )


class _WSRequestContextManager(CoroutineWrapper):
    """What ``session.ws_connect()`` returns: a coroutine (awaitable, and accepted by
    ``asyncio.create_task()``), and an async context manager that closes on exit."""

    __slots__ = ("_ws",)

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._ws: Optional[ClientWebSocketResponse] = None

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._ws = await self._coro
        return self._ws

    async def __aexit__(self, *exc: Any) -> None:
        assert self._ws is not None
        await self._ws.close()
