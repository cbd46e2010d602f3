"""The asyncio protocol of one connection: feeds socket bytes to the Rust engine.

Each read is one call into Rust (``_core.HandlerBase.buffer_updated``, which calls
``Connection.receive``): it returns every event the bytes produced plus any bytes to
write back (TLS handshake records). A whole small response is delivered to its waiter
there; this module handles the other events (streams fed, errors, timers, flow
control). It knows nothing about sessions, redirects or cookies.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import _core
from .exceptions import (
    ClientConnectionResetError,
    ClientOSError,
    ClientPayloadError,
    ClientResponseError,
    ServerDisconnectedError,
    SocketTimeoutError,
)
from .http_exceptions import ContentEncodingError, ContentLengthError, HttpProcessingError, TransferEncodingError
from .streams import DEFAULT_READ_BUFSIZE, StreamReader
from .tls import EngineTlsTransport, TlsInfo

if TYPE_CHECKING:
    from .connector import ConnectionKey

__all__ = ("ResponseHandler",)

_ResponseHead = _core.ResponseHead
_EndOfMessage = _core.EndOfMessage
_ChunkEnd = _core.ChunkEnd
_Informational = _core.Informational
_HandshakeDone = _core.HandshakeDone
_ProtocolError = _core.ProtocolError

# The transport reads into one buffer per event loop (``get_buffer``): a loop handles
# each read before the next one starts and runs in one thread at a time, so its
# connections can share it. Reads then allocate nothing. (asyncio's own reads make a
# 256 KiB ``bytes`` each time, which glibc may serve with mmap, mremap and munmap plus
# page faults, depending on the heap.)
_READ_BUFFER_SIZE = 128 * 1024  # the largest read (MAX_READ in handler.rs)
# Read buffers are a page larger: reads start on a page boundary (``_core.page_start``).
_PAGE = 4096
_read_buffers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, bytearray]" = weakref.WeakKeyDictionary()
_read_buffers_lock = threading.Lock()


def _loop_read_buffer(loop: asyncio.AbstractEventLoop) -> bytearray:
    """The read buffer of ``loop``'s connections."""
    with _read_buffers_lock:
        try:
            buffer = _read_buffers.get(loop)
            if buffer is None:
                buffer = _read_buffers[loop] = bytearray(_READ_BUFFER_SIZE + _PAGE)
        except TypeError:  # a loop that cannot be weakly referenced: a buffer of its own
            buffer = bytearray(64 * 1024 + _PAGE)
    return buffer


def _gathers(transport: Any) -> bool:
    """Whether ``transport.writelines`` sends its buffers without joining them first
    (uvloop's writev, asyncio's sendmsg from Python 3.12); the base class joins."""
    return type(transport).writelines is not asyncio.WriteTransport.writelines


# Engine error kinds that mean "the body is not what the server promised".
_PAYLOAD_ERRORS = frozenset(
    {
        "incomplete_body",
        "incomplete_chunked_body",
        "invalid_chunk",
        "decode_error",
        "decompressed_too_large",
        "too_many_encodings",
        "truncated",
    }
)

# A body cut short: aiohttp's message names the cause by its repr.
_INCOMPLETE = frozenset({"incomplete_body", "incomplete_chunked_body"})

# The aiohttp exception each one is chained to (``ClientPayloadError.__cause__``).
_PAYLOAD_CAUSES = {
    "incomplete_body": ContentLengthError,
    "incomplete_chunked_body": TransferEncodingError,
    "invalid_chunk": TransferEncodingError,
    "truncated": ContentLengthError,
}


class ResponseHandler(_core.HandlerBase, asyncio.BufferedProtocol):  # type: ignore[misc]
    """One TCP (or Unix) connection driven through a ``_core.Connection``.

    One request at a time: ``send_request`` writes it, ``head_waiter`` resolves with
    ``(ResponseHead, StreamReader)``, the body is fed to that stream, and
    ``on_message_complete`` runs when the response ends (the connector uses it to put
    the connection back in the pool). A response that arrived whole resolves the
    waiter with ``(ResponseHead, bytes)`` instead: the complete body.
    """

    # The rest of the state (``_conn``, ``transport``, ``head_waiter``, ``payload``, ...)
    # lives in ``_core.HandlerBase``, where ``data_received`` and ``send_plain`` run.
    __slots__ = (
        "key",
        "closed",
        "tls_waiter",
        "_reading_paused",
        "_drain_waiter",
        "_writing_paused",
        "idle_since",
        "acquired",
        "lease",
        "sending_body",
        "release_when_sent",
        "_tls",
        "tls_info",
        "_tls_transport",
        "_lost_with",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        read_bufsize: int = DEFAULT_READ_BUFSIZE,
    ) -> None:
        self._loop = loop
        self._conn = _core.Connection(max_line_size, max_field_size, max_headers)
        self._read_buffer = _loop_read_buffer(loop)
        self._head_limits = (max_line_size, max_field_size, max_headers)
        self.transport: Optional[asyncio.Transport] = None
        self.key: Optional[ConnectionKey] = None
        self.closed: asyncio.Future[None] = loop.create_future()
        self.head_waiter: Optional[asyncio.Future[Any]] = None
        self.continue_waiter: Optional[asyncio.Future[None]] = None
        self.tls_waiter: Optional[asyncio.Future[Any]] = None
        self.payload: Optional[StreamReader] = None
        self.on_message_complete: Optional[Callable[[ResponseHandler], None]] = None
        self._read_bufsize = read_bufsize
        self._reading_paused = False
        self._drain_waiter: Optional[asyncio.Future[None]] = None
        self._writing_paused = False
        self._exception: Optional[BaseException] = None
        self._read_timer: Optional[asyncio.TimerHandle] = None
        self.idle_since = 0.0
        self.acquired = False  # held by a request (the connector's bookkeeping)
        # Counts acquisitions: a request still holds the connection while the count is
        # the one it acquired (a response that ended put it back in the pool, where
        # another request may have taken it).
        self.lease = 0
        # A request body is being written; a response that ends meanwhile (the server
        # answered early) leaves the connection with its request until the body is out.
        self.sending_body = False
        self.release_when_sent = False
        self._tls = False
        # What the engine's last TLS handshake negotiated (the origin's, through a
        # proxy), and the transport view that reports it (made when first asked for).
        self.tls_info: Optional[TlsInfo] = None
        self._tls_transport: Optional[EngineTlsTransport] = None
        self._request_chunked = False
        self._pending_hold = False
        self._raw_pipe = False
        # The request body was not all sent (a final response came instead of 100
        # Continue, or the upload broke off after an early response), so the server
        # may still be waiting for the rest of it. Never reused.
        self._body_withheld = False
        # The error the connection was lost with (for the body error it causes).
        self._lost_with: Optional[BaseException] = None

    # -- state ---------------------------------------------------------------

    @property
    def upgraded(self) -> bool:
        """True after a 101 response or a 2xx answer to CONNECT: a raw byte pipe now."""
        return self._conn.is_upgraded

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._cancel_read_timer()
        transport, self.transport = self.transport, None
        if self._exception is None:
            self._lost_with = exc
            try:
                events = self._conn.receive_eof()
            except Exception as e:  # pragma: no cover - engine misuse
                events = []
                self._fail(ClientOSError(str(e)))
            if events:
                self._dispatch(events)
        if exc is not None and self._exception is None:
            if isinstance(exc, ConnectionResetError):
                self._fail(ClientConnectionResetError(str(exc) or "Connection reset by peer"))
            else:
                self._fail(ClientOSError(getattr(exc, "errno", None) or 0, str(exc)))
        # Whatever still waits learns the connection is gone.
        self._fail(ServerDisconnectedError())
        if self._drain_waiter is not None and not self._drain_waiter.done():
            # An upload cut by a reset fails as aiohttp's does: the ClientOSError above.
            error = self._exception
            if not isinstance(error, ClientOSError):
                error = ClientConnectionResetError("Connection lost")
            self._drain_waiter.set_exception(error)
        if not self.closed.done():
            self.closed.set_result(None)
        del transport

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _hold_for_pending(self) -> None:
        """The engine capped its decoded output: read no more until it is drained.

        What happens next depends on the consumer: if its buffer is full it will call
        ``resume_reading`` when it has room; otherwise we continue on the next loop
        iteration, after it had a chance to run. Memory stays bounded either way.
        """
        self._pending_hold = True
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
            self._cancel_read_timer()  # not reading: the peer is not late
        if not self._consumer_paused():
            self._loop.call_soon(self._continue_pending)

    def _release_pending_hold(self) -> None:
        """The engine's held-back output is drained: read again unless the consumer
        paused reading itself."""
        self._pending_hold = False
        if not self._consumer_paused():
            self._resume_transport()

    def _engine_failed(self, exc: BaseException) -> None:
        """The engine refused a read (a bug, not the peer's doing): fail and close."""
        self._fail(ClientOSError(str(exc)))
        self.close()

    def _consumer_paused(self) -> bool:
        payload = self.payload
        return payload is not None and payload._paused

    def _continue_pending(self) -> None:
        if self._conn.has_pending and self.transport is not None and not self._consumer_paused():
            self.data_received(b"")

    def _resume_transport(self) -> None:
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
            if self._read_timeout is not None:
                self._reschedule_read_timer()  # (only while a response is due)

    def eof_received(self) -> bool:
        # Let asyncio close the transport; connection_lost reports the end of stream.
        return False

    # -- events --------------------------------------------------------------

    def _dispatch(self, events: list[Any]) -> None:
        payload = self.payload
        for event in events:
            kind = type(event)
            if kind is bytes:
                if payload is not None:
                    payload.feed_data(event)
            elif kind is _ResponseHead:
                payload = self._on_head(event)
            elif kind is _ChunkEnd:
                if payload is not None:
                    payload._end_http_chunk()
            elif kind is _EndOfMessage:
                self._on_end()
                payload = None
            elif kind is _Informational:
                waiter = self.continue_waiter
                if event.status == 100 and waiter is not None and not waiter.done():
                    waiter.set_result(None)
            elif kind is _HandshakeDone:
                waiter = self.tls_waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(event)
            elif kind is _ProtocolError:
                self._on_protocol_error(event)
                return

    def _on_head(self, head: Any) -> Optional[StreamReader]:
        waiter = self.head_waiter
        self.head_waiter = None
        payload = StreamReader(self, self._read_bufsize, loop=self._loop)
        self.payload = payload
        if self.continue_waiter is not None:
            self._final_answer_came()
        if waiter is not None and not waiter.done():
            waiter.set_result((head, payload))
        if self._conn.is_upgraded:
            # The body of an upgraded connection is the raw stream: whoever asked for
            # the upgrade reads it; the HTTP exchange itself is over.
            self._cancel_read_timer()
        return payload

    def _final_answer_came(self) -> None:
        """A final response while the request waits for 100 Continue: its body is not
        sent (RFC 9110 §10.1.1), and the server may still expect it, so the connection
        is never reused."""
        continue_waiter = self.continue_waiter
        if continue_waiter is not None and not continue_waiter.done():
            self._body_withheld = True
            continue_waiter.set_result(None)

    def _on_end(self) -> None:
        payload, self.payload = self.payload, None
        self._cancel_read_timer()
        if payload is not None:
            payload.feed_eof()
            if payload._paused:
                # The stream that paused reading has all it will get: the connection
                # reads again (the next response on it must not wait for this one).
                payload._paused = False
                self._resume_transport()
        callback = self.on_message_complete
        if callback is not None:
            self.on_message_complete = None
            callback(self)

    def _on_protocol_error(self, event: Any) -> None:
        self._fail(self._exception_for(event))
        self.close()

    def _exception_for(self, event: Any) -> BaseException:
        from .connector import tls_exception  # the connector owns connection errors

        kind = event.kind
        lost = self._lost_with
        if kind in _PAYLOAD_ERRORS and self.payload is not None:
            cause = _PAYLOAD_CAUSES.get(kind, ContentEncodingError)(event.message)
            if kind in _INCOMPLETE:
                # as aiohttp: a body cut short names the parser's error by its repr
                detail = repr(cause)
                if self._lost_with is not None:
                    detail = f"{detail}. {self._lost_with!r}"  # not a clean close (a reset)
                error = ClientPayloadError(f"Response payload is not completed: {detail}")
            elif kind == "truncated":
                error = ClientPayloadError(f"Response payload is not completed: {event.message}")
            else:
                # found while reading (bad chunk, undecodable content): str() of the
                # cause, as aiohttp words it
                error = ClientPayloadError(str(cause))
            error.__cause__ = cause
            return error
        if kind == "closed_before_response":
            if isinstance(lost, OSError):
                # Reset (or another socket error) before the head: aiohttp's ClientOSError.
                error = ClientOSError(*lost.args)
                error.__cause__ = lost
                return error
            return ServerDisconnectedError()
        if kind in ("certificate", "fingerprint_mismatch", "handshake"):
            return tls_exception(self.key, event)
        if kind == "truncated":
            return ServerDisconnectedError("TLS stream ended without close_notify")
        if kind == "decode_error" or kind in _PAYLOAD_ERRORS:
            return ClientPayloadError(event.message)
        error = ClientResponseError(
            None,  # type: ignore[arg-type]
            (),
            status=400,
            message=f"{event.message} ({kind})",
        )
        error.__cause__ = HttpProcessingError(code=400, message=error.message)  # as aiohttp chains it
        return error

    def _fail(self, exc: BaseException) -> None:
        """Deliver ``exc`` to whoever waits on this connection; first error wins."""
        if self._exception is None:
            self._exception = exc
        exc = self._exception
        for name in ("head_waiter", "continue_waiter", "tls_waiter"):
            waiter = getattr(self, name)
            if waiter is not None:
                setattr(self, name, None)
                if not waiter.done():
                    waiter.set_exception(exc)
                    waiter.exception()  # retrieved: no "never retrieved" noise if abandoned
        payload, self.payload = self.payload, None
        if payload is not None:
            payload.set_exception(exc)
        self.on_message_complete = None

    # -- request side --------------------------------------------------------

    def enter_plain_tunnel(self) -> None:
        """A CONNECT tunnel without TLS inside is open: HTTP starts afresh through it."""
        self._conn.enter_plain_tunnel()

    @property
    def tls(self) -> bool:
        """True when the engine runs a TLS session on this connection (rustls)."""
        return self._tls

    def user_transport(self) -> Optional[asyncio.Transport]:
        """The transport as users see it (``Connection.transport``): with the engine's
        TLS, a view whose ``get_extra_info`` reports it (``ssl_object``, ``peercert``,
        ``cipher``, ...), as asyncio's TLS transport does; else the transport itself."""
        transport = self.transport
        tls = self.tls_info
        if transport is None or tls is None:
            return transport
        view = self._tls_transport
        if view is None or view._transport is not transport or view._tls is not tls:
            view = self._tls_transport = EngineTlsTransport(transport, self, tls)
        return view

    def start_tls(self, config: Any, server_name: str, *, tunnel: bool = False) -> asyncio.Future[Any]:
        """Start a TLS layer (inside the previous one if ``tunnel``); resolves on handshake."""
        waiter = self._loop.create_future()
        self.tls_waiter = waiter
        self._tls = True
        hello = self._conn.start_tls(config, server_name, tunnel)
        if hello.__class__ is bytes:
            self.transport.write(hello)  # type: ignore[union-attr]
        else:
            self._dispatch([hello])  # refused at once (a name no certificate can match)
        return waiter

    def send_request(
        self,
        head: bytes,
        body: Optional[bytes],
        *,
        no_body: bool,
        connect: bool,
        chunked: bool,
        decompress: bool,
        max_decompressed_size: Optional[int],
        expect_continue: bool = False,
        read_until_eof: bool = True,
        body_follows: bool = False,
        upgrade: bool = False,
        first_piece: Optional[bytes] = None,
    ) -> asyncio.Future[Any]:
        """Write a pre-encoded request head (and small body); return the head waiter.

        ``body_follows``: the body is written next (``write_body``); ``sock_read`` starts
        once it is all sent (``start_read_timer``), as in aiohttp: a slow upload is
        not a silent server. ``first_piece``: the body's first piece, written as
        ``write_body`` would, with the head in one system call where the transport
        gathers buffers without copying them (uvloop; Python 3.12+): the server gets
        the head and the body together, as aiohttp sends them. ``upgrade``: the request
        carries ``Upgrade`` (only then does a 101 switch the connection to another
        protocol)."""
        if self._exception is not None:
            raise self._exception
        waiter = self._loop.create_future()
        self.head_waiter = waiter
        if expect_continue:
            self.continue_waiter = self._loop.create_future()
        self._request_chunked = chunked
        data = self._conn.send_request(
            head, body, no_body, connect, chunked, decompress, max_decompressed_size, read_until_eof, upgrade
        )
        transport = self.transport
        if first_piece and not self._tls and not chunked and _gathers(transport):
            transport.writelines((data, first_piece))  # type: ignore[union-attr]
        else:
            transport.write(data)  # type: ignore[union-attr]
            if first_piece:
                self.write_body(first_piece)
        if self._read_timeout is not None and not body_follows:
            self._reschedule_read_timer()
        return waiter

    def start_read_timer(self) -> None:
        """The request is all sent: ``sock_read`` runs from now while a response is due."""
        if self._read_timeout is not None and not self._reading_paused:
            self._reschedule_read_timer()

    def write_body(self, chunk: bytes, last: bool = False) -> None:
        """Send a piece of a streamed request body (framed by the engine)."""
        if not self._tls and not self._request_chunked:
            # Nothing to frame or encrypt: the caller's bytes go out as they are.
            if chunk and self.transport is not None:
                self.transport.write(chunk)
            return
        data = self._conn.send_body(chunk, last)
        if data and self.transport is not None:
            self.transport.write(data)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        if self._exception is not None:
            raise self._exception
        if not self._writing_paused:
            return
        if self._drain_waiter is None:
            self._drain_waiter = self._loop.create_future()
        await asyncio.shield(self._drain_waiter)

    def start_raw_pipe(self) -> None:
        """After an upgrade on a connection without our TLS: skip the engine both ways."""
        if not self._tls and self._conn.is_upgraded:
            self._raw_pipe = True

    def send_raw(self, data: bytes) -> None:
        """Write bytes through the TLS layers (an upgraded connection's stream)."""
        if self._raw_pipe:
            if self.transport is not None:
                self.transport.write(data)
            return
        out = self._conn.send_raw(data)
        if out and self.transport is not None:
            self.transport.write(out)

    # -- whole-body reads (called by StreamReader.read()) ---------------------

    def read_body_into_one_buffer(self, payload: StreamReader) -> bool:
        """``read()`` wants the whole body: receive the rest straight into one buffer.

        For a plain Content-Length body of ``_DIRECT_BODY_MIN`` to ``_DIRECT_BODY_MAX``
        bytes still to come, the transport switches to a ``_DirectBody`` buffered
        protocol: the socket reads into one reused buffer and each read is copied
        straight into the final ``bytes`` (a ``_core.BodyBuffer``): no per-read objects,
        no join, fewer and larger reads. (The upper bound keeps a lying Content-Length
        from reserving memory the server never sends.) Returns False (nothing changed)
        when that does not apply.
        """
        transport = self.transport
        if transport is None or payload is not self.payload:
            return False
        if transport.get_protocol() is not self:
            return True  # an earlier read() switched already (and was cancelled)
        remaining = self._conn.body_remaining
        if remaining is None or not _DIRECT_BODY_MIN <= remaining <= _DIRECT_BODY_MAX:
            return False
        already = payload._take(-1) if payload._buffer else b""
        payload._total_bytes -= len(already)  # fed again with the whole body
        body = _core.BodyBuffer(len(already) + remaining)
        if already:
            body.write(already)
        transport.set_protocol(_DirectBody(self, body))
        self._resume_transport()
        return True

    def _direct_body_done(self, body: bytes, events: list[Any], after: bytes) -> None:
        """The body read by ``_DirectBody`` is complete: deliver it, then the events;
        ``after`` is what the same read brought past the body's end."""
        payload = self.payload
        if payload is not None:
            payload.feed_data(body)
        self._dispatch(events)
        if after:
            # Bytes after a complete response: the engine marks the connection unusable.
            self.data_received(after)

    # -- flow control (called by StreamReader) -------------------------------

    def pause_reading(self) -> None:
        """The body's reader is full: read no more, and stop ``sock_read`` meanwhile
        (a slow reader is not a silent server), as aiohttp does."""
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
            self._cancel_read_timer()

    def resume_reading(self) -> None:
        if self._conn.has_pending and self.transport is not None:
            # Decoded output held back by the engine's per-call cap comes first.
            self.data_received(b"")
            return
        self._resume_transport()

    # -- timers --------------------------------------------------------------

    def _reschedule_read_timer(self) -> None:
        timeout = self._read_timeout
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        if timeout is not None and (self.head_waiter is not None or self.payload is not None):
            self._read_timer = self._loop.call_later(timeout, self._on_read_timeout)

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _on_read_timeout(self) -> None:
        self._read_timer = None
        self._fail(SocketTimeoutError("Timeout on reading data from socket"))
        self.close()

    # -- teardown ------------------------------------------------------------

    def close(self, exc: Optional[BaseException] = None, *, abort: bool = False) -> None:
        """Close the transport now (``abort``: drop it, see ``abort``). Pending reads fail
        with ``exc`` if given, else with the error already seen, else with
        ``ServerDisconnectedError``."""
        if exc is not None:
            self._fail(exc)
        if abort:
            self.abort()
            return
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None:
            if self._tls and not transport.is_closing():
                try:
                    # close_notify (RFC 8446 §6.1): the peer can tell our close from a cut.
                    transport.write(self._conn.close_tls())
                except Exception:
                    pass
            transport.close()

    def abort(self) -> None:
        """Drop the connection without a TLS close_notify or flushing."""
        self._cancel_read_timer()
        transport = self.transport
        if transport is not None:
            transport.abort()


# Below this many outstanding body bytes, switching protocols costs more than it saves.
_DIRECT_BODY_MIN = 1 << 16
_DIRECT_BODY_MAX = 1 << 25
_DIRECT_READ_SIZE = 1 << 18


class _DirectBody(asyncio.BufferedProtocol):
    """The transport's protocol while the rest of a body goes into one buffer.

    The socket reads into a reused scratch buffer; the body's part of each read is
    copied into the ``BodyBuffer`` and the engine is told how many body bytes arrived
    (so it still frames the message and decides reuse). When the body is complete, the
    connection's ``ResponseHandler`` gets the transport back, the body as one
    ``bytes``, and whatever the last read brought after the body (which makes the
    connection unusable, as on the normal path). EOF, loss and write flow control are
    the handler's business and are passed on.
    """

    __slots__ = ("_handler", "_body", "_scratch", "_view")

    def __init__(self, handler: ResponseHandler, body: Any) -> None:
        self._handler = handler
        self._body = body
        self._scratch = bytearray(_DIRECT_READ_SIZE + _PAGE)
        start = _core.page_start(self._scratch)  # where write_from takes the reads from
        self._view = memoryview(self._scratch)[start : start + _DIRECT_READ_SIZE]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        handler = self._handler
        body = self._body
        take = min(nbytes, body.remaining)
        body.write_from(self._scratch, take)
        events = handler._conn.consume_body(take)
        if handler._read_timer is not None:
            handler._reschedule_read_timer()
        if body.remaining:
            return
        transport = handler.transport
        if transport is not None:
            transport.set_protocol(handler)
        after = bytes(self._view[take:nbytes]) if nbytes > take else b""
        handler._direct_body_done(body.finish(), events, after)

    def eof_received(self) -> bool:
        return self._handler.eof_received()

    def connection_lost(self, exc: Optional[BaseException]) -> None:
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()
