"""WebSocket client: the handshake over a session request, then the Rust frame codec."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
import json as _json
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Callable, Deque, Iterable, NamedTuple, Optional, Union

from multidict import CIMultiDict
from yarl import URL

from . import _core
from .exceptions import (
    ServerTimeoutError,
    WebSocketError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from .helpers import deadline, sentinel

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
    """``ws_receive``: longest wait in ``receive()``; ``ws_close``: for the close handshake."""

    ws_receive: Optional[float] = None
    ws_close: Optional[float] = 10.0


DEFAULT_WS_CLIENT_TIMEOUT = ClientWSTimeout()


class _Reader:
    """Fed by the protocol with the raw stream; decodes frames into a queue."""

    __slots__ = ("_codec", "_queue", "_loop", "_waiter", "_exception", "_eof")

    def __init__(self, codec: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._codec = codec
        self._queue: Deque[Any] = deque()
        self._loop = loop
        self._waiter: Optional[asyncio.Future[None]] = None
        self._exception: Optional[BaseException] = None
        self._eof = False

    def feed_data(self, data: bytes) -> None:
        items = self._codec.receive(data)
        if items:
            self._queue.extend(items)
            self._wake()

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()

    def set_exception(self, exc: BaseException, exc_cause: Any = None) -> None:
        if self._exception is None:  # the first cause wins (a heartbeat timeout, say)
            self._exception = exc
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read(self) -> Any:
        while not self._queue:
            if self._exception is not None:
                raise self._exception
            if self._eof:
                raise ConnectionResetError("WebSocket connection closed")
            self._waiter = self._loop.create_future()
            await self._waiter
        return self._queue.popleft()


class ClientWebSocketResponse:
    """An open WebSocket: send and receive messages, close with a handshake."""

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
        self._close_code: Optional[int] = None
        self._exception: Optional[BaseException] = None
        self._waiting = False
        self._heartbeat_handle: Optional[asyncio.TimerHandle] = None
        self._pong_handle: Optional[asyncio.TimerHandle] = None
        self._schedule_heartbeat()

    # -- heartbeat -------------------------------------------------------------

    def _schedule_heartbeat(self) -> None:
        if self._heartbeat is not None and not self._closed:
            if self._heartbeat_handle is not None:
                self._heartbeat_handle.cancel()
            self._heartbeat_handle = self._loop.call_later(self._heartbeat, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        self._heartbeat_handle = None
        if self._closed:
            return
        self._write(_core_op(WSMsgType.PING), b"")
        assert self._heartbeat is not None
        self._pong_handle = self._loop.call_later(self._heartbeat / 2, self._pong_not_received)

    def _pong_not_received(self) -> None:
        self._pong_handle = None
        if self._closed:
            return
        self._exception = ServerTimeoutError(f"No PONG received after {self._heartbeat / 2} seconds")  # type: ignore[operator]
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._set_closed()
        self._reader.set_exception(self._exception)

    def _got_pong(self) -> None:
        if self._pong_handle is not None:
            self._pong_handle.cancel()
            self._pong_handle = None
        self._schedule_heartbeat()

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
        """Transport information (peername, sslcontext, ...)."""
        transport = self._proto.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    def exception(self) -> Optional[BaseException]:
        """The error that ended the connection, if any."""
        return self._exception

    # -- sending ---------------------------------------------------------------

    def _write(self, opcode: int, payload: bytes, compress: Optional[bool] = None) -> None:
        proto = self._proto
        transport = proto.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        proto.send_raw(self._codec.encode(opcode, payload, True, bool(self._compress) if compress is None else compress))

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

    # -- closing ---------------------------------------------------------------

    def _set_closed(self) -> None:
        self._closed = True
        for handle in (self._heartbeat_handle, self._pong_handle):
            if handle is not None:
                handle.cancel()
        self._heartbeat_handle = self._pong_handle = None
        proto = self._proto
        if self._connector is not None:
            connector, self._connector = self._connector, None
            connector.release(proto, reusable=False)

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> bool:
        """Close: send Close, wait for the server's (``ws_close`` seconds), release."""
        if self._closed:
            return False
        if not self._closing:
            self._closing = True
            try:
                reason = message.decode("utf-8") if isinstance(message, bytes) else str(message)
                self._proto.send_raw(self._codec.encode_close(code, reason))
            except Exception as exc:
                self._exception = exc
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                self._set_closed()
                return True
        if self._waiting:
            # A receive() is running: it will see the server's Close.
            self._close_code = code
            self._set_closed()
            return True
        try:
            while True:
                async with deadline(self._timeout.ws_close):
                    item = await self._reader.read()
                if item[0] == WSMsgType.CLOSE:
                    self._close_code = item[2] if item[2] is not None else code
                    break
                if item[0] == -1:
                    break
        except asyncio.TimeoutError:
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        except Exception as exc:
            self._exception = exc
            self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        if self._close_code is None:
            self._close_code = code
        self._set_closed()
        return True

    # -- receiving -------------------------------------------------------------

    async def receive(self, timeout: Optional[float] = None) -> WSMessage:
        """The next message; CLOSED (then again CLOSED) once the connection is over."""
        receive_timeout = timeout if timeout is not None else self._timeout.ws_receive
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                return WS_CLOSED_MESSAGE
            if self._closing:
                await self.close()
                return WS_CLOSED_MESSAGE
            self._waiting = True
            try:
                if receive_timeout is not None:
                    async with deadline(receive_timeout):
                        item = await self._reader.read()
                else:
                    item = await self._reader.read()
            except ServerTimeoutError as exc:  # the heartbeat's (before TimeoutError: a subclass)
                self._exception = exc
                return WSMessage(WSMsgType.ERROR, exc, None)
            except asyncio.TimeoutError:
                raise
            except Exception as exc:
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                if self._exception is None and not isinstance(exc, ConnectionResetError):
                    self._exception = exc
                self._set_closed()
                return WS_CLOSED_MESSAGE
            finally:
                self._waiting = False
            if self._heartbeat is not None:
                self._schedule_heartbeat()
            opcode, data, extra = item
            if opcode == _TEXT:
                return WSMessage(WSMsgType.TEXT, data if self._decode_text else data.encode("utf-8"), None)
            if opcode == _BINARY:
                return WSMessage(WSMsgType.BINARY, data, None)
            if opcode == -1:
                error = WebSocketError(extra, data)
                self._exception = error
                self._close_code = extra
                try:
                    self._proto.send_raw(self._codec.encode_close(extra, ""))
                except Exception:
                    pass
                self._set_closed()
                return WSMessage(WSMsgType.ERROR, error, None)
            if opcode == WSMsgType.CLOSE:
                self._closing = True
                self._close_code = extra if extra is not None else WSCloseCode.OK
                if self._autoclose:
                    try:
                        self._proto.send_raw(self._codec.encode_close(self._close_code, ""))
                    except Exception:
                        pass
                    self._set_closed()
                return WSMessage(WSMsgType.CLOSE, self._close_code, data)
            if opcode == WSMsgType.PING:
                if self._autoping:
                    self._write(WSMsgType.PONG, data)
                    continue
                return WSMessage(WSMsgType.PING, data, None)
            if opcode == WSMsgType.PONG:
                self._got_pong()
                if self._autoping:
                    continue
                return WSMessage(WSMsgType.PONG, data, None)
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


def _core_op(t: WSMsgType) -> int:
    return int(t)


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
    compress: int = 15,
    max_msg_size: int = 4 * 1024 * 1024,
    decode_text: bool = True,
) -> ClientWebSocketResponse:
    """Open a WebSocket: the RFC 6455 handshake, then frames over the same connection."""
    if timeout is sentinel:
        ws_timeout = DEFAULT_WS_CLIENT_TIMEOUT
    elif isinstance(timeout, ClientWSTimeout):
        ws_timeout = timeout
    else:
        ws_timeout = ClientWSTimeout(ws_close=float(timeout))
    if receive_timeout is not None:
        ws_timeout = dataclasses.replace(ws_timeout, ws_receive=receive_timeout)
    real_headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
    key = _core.ws_handshake_key()
    real_headers.update(
        {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": key,
        }
    )
    protocols = tuple(protocols)
    if protocols:
        real_headers["Sec-WebSocket-Protocol"] = ",".join(protocols)
    if origin is not None:
        real_headers["Origin"] = origin
    if compress:
        real_headers["Sec-WebSocket-Extensions"] = _core.ws_deflate_offer(compress)

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
        allow_redirects=False,
        auto_decompress=False,
        read_until_eof=False,
        raise_for_status=False,
    )
    try:
        if resp.status != 101:
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid response status", status=resp.status, headers=resp.headers)
        if resp.headers.get("Upgrade", "").lower() != "websocket":
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid upgrade header", status=resp.status, headers=resp.headers)
        if "upgrade" not in resp.headers.get("Connection", "").lower():
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid connection header", status=resp.status, headers=resp.headers)
        if resp.headers.get("Sec-WebSocket-Accept", "") != _core.ws_accept_for(key):
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Invalid challenge response", status=resp.status, headers=resp.headers)
        protocol = None
        if protocols and "Sec-WebSocket-Protocol" in resp.headers:
            offered = [p.strip() for p in resp.headers["Sec-WebSocket-Protocol"].split(",")]
            protocol = next((p for p in offered if p in protocols), None)
        extension = resp.headers.get("Sec-WebSocket-Extensions")
        if extension and not compress:
            raise WSServerHandshakeError(resp.request_info, resp.history, message="Extension for deflate not supported", status=resp.status, headers=resp.headers)
        try:
            codec = _core.WebSocketCodec(max_msg_size, extension.encode() if extension else None)
        except ValueError as exc:
            raise WSServerHandshakeError(resp.request_info, resp.history, message=f"Invalid extension: {exc}", status=resp.status, headers=resp.headers) from exc
        negotiated = bool(extension and "permessage-deflate" in extension)
    except BaseException:
        resp.close()
        raise

    proto, connector = resp._proto, resp._connector
    resp._proto = resp._connector = None
    if proto is None:
        raise WSServerHandshakeError(resp.request_info, resp.history, message="Connection closed during handshake", status=resp.status, headers=resp.headers)
    reader = _Reader(codec, session._loop)
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
        compress=compress if negotiated else 0,
        client_notakeover=bool(extension and "client_no_context_takeover" in extension),
        decode_text=decode_text,
        loop=session._loop,
    )


class _WSRequestContextManager:
    """What ``session.ws_connect()`` returns: awaitable, and closes on ``async with`` exit."""

    __slots__ = ("_coro", "_ws")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._ws: Optional[ClientWebSocketResponse] = None

    def __await__(self) -> Any:
        return self._coro.__await__()

    async def __aenter__(self) -> ClientWebSocketResponse:
        self._ws = await self._coro
        return self._ws

    async def __aexit__(self, *exc: Any) -> None:
        assert self._ws is not None
        await self._ws.close()
