"""StreamReader: the response body as it arrives, with aiohttp's reading methods.

Flow control: above ``2 * limit`` buffered bytes the protocol is asked to pause
reading; once reads bring the buffer under ``limit`` it is asked to resume.
"""

from __future__ import annotations

import asyncio
import collections
import warnings
from typing import Any, AsyncIterator, Callable, Deque, List, Optional, Tuple

from .http_exceptions import LineTooLong

__all__ = ("StreamReader", "EmptyStreamReader", "EMPTY_PAYLOAD")

DEFAULT_READ_BUFSIZE = 2**18
"""The default ``read_bufsize`` (256 KiB, as aiohttp's): a stream buffers up to twice
that before reading pauses, and ``readline()`` takes lines up to twice that."""


class _Iter:
    """The async iterators of a StreamReader: each step is one ``read`` (a ``b""`` or
    ``(b"", False)`` answer ends the iteration). ``piece`` says what a step takes when
    data is already buffered, without making the read's coroutine: ``n > 0`` up to n
    bytes, ``-1`` all that is buffered; None always goes through ``read``."""

    __slots__ = ("_reader", "_read", "_piece")

    def __init__(self, reader: "StreamReader", read: Callable[[], Any], piece: Optional[int] = None) -> None:
        self._reader = reader
        self._read = read
        self._piece = piece

    def __aiter__(self) -> "_Iter":
        return self

    async def __anext__(self) -> Any:
        reader = self._reader
        piece = self._piece
        if piece is not None:
            while reader._exception is None:
                if reader._buffer:
                    return reader._take(piece)
                if reader._eof:
                    raise StopAsyncIteration
                await reader._wait("read" if piece > 0 else "readany")
        value = await self._read()
        if value == b"" or value == (b"", False):
            raise StopAsyncIteration
        return value


class StreamReader:
    """The body of a response; read it with ``read()``, ``readline()``, iterators, ..."""

    __slots__ = (
        "_protocol",
        "_limit",
        "_loop",
        "_buffer",
        "_offset",
        "_size",
        "_eof",
        "_waiter",
        "_eof_waiter",
        "_exception",
        "_eof_callbacks",
        "_total_bytes",
        "_paused",
        "_reading_all",
        "_chunk_ends",
    )

    def __init__(
        self,
        protocol: Any,
        limit: int,
        *,
        loop: Optional[asyncio.AbstractEventLoop] = None,
        body: Optional[bytes] = None,
        body_ends_chunk: bool = False,
    ) -> None:
        # ``body``: the whole body, already received (the stream starts at its end);
        # ``body_ends_chunk``: it ends with the end of an HTTP chunk.
        self._protocol = protocol
        self._limit = limit
        self._loop = loop  # the running loop's, when None (needed only to wait)
        self._buffer: Deque[bytes] = collections.deque((body,) if body else ())
        self._offset = 0  # bytes of _buffer[0] already read
        self._size = len(body) if body else 0  # unread bytes in _buffer
        self._eof = body is not None
        self._waiter: Optional[asyncio.Future[None]] = None
        self._eof_waiter: Optional[asyncio.Future[None]] = None  # wait_eof()'s
        self._exception: Optional[BaseException] = None
        self._eof_callbacks: Optional[List[Callable[[], None]]] = None  # made on first use
        self._total_bytes = self._size
        self._paused = False
        self._reading_all = False
        # Where HTTP chunks of a chunked body ended, as offsets in the body (for
        # ``readchunk``); None until one has.
        self._chunk_ends: Optional[Deque[int]] = collections.deque((self._size,)) if body and body_ends_chunk else None

    def __repr__(self) -> str:
        info = [self.__class__.__name__]  # as aiohttp's
        if self._size:
            info.append(f"{self._size} bytes")
        if self._eof:
            info.append("eof")
        if self._limit != 2**16:  # as aiohttp's, whose default read_bufsize this was
            info.append(f"low={self._limit} high={2 * self._limit}")
        if self._waiter:
            info.append(f"w={self._waiter!r}")
        if self._exception:
            info.append(f"e={self._exception!r}")
        return f"<{' '.join(info)}>"

    @property
    def total_bytes(self) -> int:
        """Bytes fed so far."""
        return self._total_bytes

    def exception(self) -> Optional[BaseException]:
        """The error that ended the stream, if any."""
        return self._exception

    def set_exception(self, exc: BaseException, exc_cause: Any = None) -> None:
        """End the stream with an error: readers get ``exc``."""
        self._exception = exc
        self._eof_callbacks = None
        self._wake()
        waiter, self._eof_waiter = self._eof_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def on_eof(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once all data has been fed (now, if it already has)."""
        if self._eof:
            callback()
        elif self._eof_callbacks is None:
            self._eof_callbacks = [callback]
        else:
            self._eof_callbacks.append(callback)

    def feed_eof(self) -> None:
        """No more data will come."""
        self._eof = True
        self._wake()
        waiter, self._eof_waiter = self._eof_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        callbacks, self._eof_callbacks = self._eof_callbacks, None
        if callbacks:
            for callback in callbacks:
                callback()

    def is_eof(self) -> bool:
        """True once ``feed_eof`` was called."""
        return self._eof

    async def wait_eof(self) -> None:
        """Wait until all data has been fed (it stays readable); the stream's error if
        it ends with one."""
        if self._eof:
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        assert self._eof_waiter is None, "wait_eof() called while another coroutine waits for EOF"
        waiter = self._eof_waiter = self._loop.create_future()
        try:
            await waiter
        finally:
            self._eof_waiter = None

    def set_read_chunk_size(self, n: int) -> None:
        """Raise the buffer limits to a consumer's chunk size ``n`` (as ``read(n)``,
        ``readexactly(n)`` and ``iter_chunked(n)`` do), so that much can gather."""
        if n > self._limit:
            self._limit = n

    def get_read_buffer_limits(self) -> Tuple[int, int]:
        """``(low, high)``: reading pauses above ``high`` buffered bytes and resumes
        below ``low`` (``read_bufsize`` and twice that)."""
        return (self._limit, 2 * self._limit)

    def at_eof(self) -> bool:
        """True when all data was fed and read."""
        return self._eof and not self._buffer

    def feed_data(self, data: bytes) -> None:
        """Add body bytes (called by the protocol)."""
        if data:
            self._feed_pieces((data,), len(data))

    def _feed_pieces(self, pieces: Any, size: int) -> None:
        """Add the non-empty ``pieces`` of one read, ``size`` bytes in all."""
        self._buffer.extend(pieces)
        self._size += size
        self._total_bytes += size
        if self._reading_all:
            return  # read() takes everything at the end: no wake-ups, no pausing
        self._wake()
        if self._size > 2 * self._limit and not self._paused:
            self._paused = True
            self._protocol.pause_reading()

    def _feed_http_chunks(self, events: Any, size: int) -> None:
        """``_feed_pieces`` for a read of a chunked body: the pieces, with a marker where
        an HTTP chunk ended (``_core.ChunkEnd``), ``size`` bytes in all."""
        if self._reading_all:  # read() takes the whole body: no chunk is returned alone
            pieces = [event for event in events if event.__class__ is bytes]
            if len(pieces) > 1 and size < len(pieces) << 10:
                # Tiny chunks (a server flushing each line): one object for the read,
                # not one per chunk (each costs more than its bytes until the end).
                pieces = [b"".join(pieces)]
            self._feed_pieces(pieces, size)
            return
        ends = self._chunk_ends
        if ends is None:
            ends = self._chunk_ends = collections.deque()
        pieces = []
        at = self._total_bytes
        for event in events:
            if event.__class__ is bytes:
                pieces.append(event)
                at += len(event)
            elif at and (not ends or ends[-1] != at):
                ends.append(at)
        self._feed_pieces(pieces, size)  # (wakes a reader for a chunk's end alone too)

    def _end_http_chunk(self) -> None:
        """An HTTP chunk of the body ended here."""
        self._feed_http_chunks((None,), 0)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self, func_name: str) -> None:
        if self._waiter is not None:
            raise RuntimeError(f"{func_name}() called while another coroutine is already waiting for incoming data")
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        waiter = self._waiter = self._loop.create_future()
        try:
            if self._paused:
                # About to wait with data wanted: make sure the protocol reads. Resuming
                # may feed data at once (output the engine held back), which must find
                # the waiter in place, or nothing would ever wake it.
                self._paused = False
                self._protocol.resume_reading()
            await waiter
        finally:
            self._waiter = None

    def _take(self, n: int) -> bytes:
        """Up to ``n`` bytes from the buffer (n < 0: everything).

        A partly read first chunk is tracked by ``_offset`` rather than re-sliced, so
        reading a large chunk in small pieces copies each byte once.
        """
        buffer = self._buffer
        offset = self._offset
        if buffer and not offset and len(buffer[0]) == n:
            data = buffer.popleft()  # a piece of just the size asked (a stream's usual read)
        elif n < 0 or n >= self._size:
            if len(buffer) == 1:
                chunk = buffer.popleft()
                data = chunk[offset:] if offset else chunk
            else:
                if offset:
                    buffer[0] = buffer[0][offset:]
                data = b"".join(buffer)
                buffer.clear()
            self._offset = 0
        else:
            chunk = buffer[0]
            end = offset + n
            if end <= len(chunk):
                data = chunk[offset:end]
                if end == len(chunk):
                    buffer.popleft()
                    self._offset = 0
                else:
                    self._offset = end
            else:
                parts = []
                left = n
                while left:
                    chunk = buffer[0]
                    available = len(chunk) - self._offset
                    if available <= left:
                        parts.append(chunk[self._offset :] if self._offset else chunk)
                        buffer.popleft()
                        self._offset = 0
                        left -= available
                    else:
                        parts.append(chunk[self._offset : self._offset + left])
                        self._offset += left
                        left = 0
                data = b"".join(parts)
        self._size -= len(data)
        ends = self._chunk_ends
        if ends:
            read_to = self._total_bytes - self._size
            while ends and ends[0] < read_to:
                ends.popleft()  # read past by another method: no longer a boundary
        if self._paused and self._size < self._limit:
            self._paused = False
            self._protocol.resume_reading()
        return data

    def _unsplit_first(self) -> None:
        """Drop the read part of the first chunk (for methods that look at whole chunks)."""
        if self._offset:
            self._buffer[0] = self._buffer[0][self._offset :]
            self._offset = 0

    def _check(self) -> None:
        if self._exception is not None:
            raise self._exception

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes; ``n=-1`` reads to the end of the body."""
        if n < 0 and self._eof and len(self._buffer) == 1 and not self._offset and self._exception is None:
            # All received, in one piece (a small body): nothing to join or resume.
            self._size = 0
            return self._buffer.popleft()
        self._check()
        if n == 0:
            return b""
        if n < 0:
            if self._waiter is not None:
                raise RuntimeError("read() called while another coroutine is already waiting for incoming data")
            # Reading everything anyway: keep the socket flowing and sleep until EOF,
            # with the body going into one final buffer when the protocol can.
            if not self._eof and hasattr(self._protocol, "read_body_into_one_buffer"):
                self._protocol.read_body_into_one_buffer(self)
            self._reading_all = True
            try:
                while not self._eof:
                    self._check()
                    await self._wait("read")
            finally:
                self._reading_all = False
            self._check()
            return self._take(-1) if self._buffer else b""
        if n > self._limit:
            self.set_read_chunk_size(n)
        while not self._buffer and not self._eof:
            await self._wait("read")
            self._check()
        return self._take(n)

    async def readany(self) -> bytes:
        """Whatever is buffered (waiting for some if none); ``b""`` at the end."""
        self._check()
        while not self._buffer and not self._eof:
            await self._wait("readany")
            self._check()
        return self._take(-1) if self._buffer else b""

    async def readchunk(self) -> Tuple[bytes, bool]:
        """The next piece as received, as ``(data, end_of_http_chunk)``.

        For a chunked body, ``end_of_http_chunk`` is True when ``data`` ends where an
        HTTP chunk ended (``(b"", True)`` when that end comes after its data was
        returned); otherwise, and for other bodies, False. ``(b"", False)`` at the end.
        """
        while True:
            self._check()
            ends = self._chunk_ends
            while ends:
                end = ends.popleft()
                read_to = self._total_bytes - self._size
                if end == read_to:
                    return (b"", True)
                if end > read_to:
                    return (self._take(end - read_to), True)
            if self._buffer:
                self._unsplit_first()
                return (self._take(len(self._buffer[0])), False)
            if self._eof:
                return (b"", False)
            await self._wait("readchunk")

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or ``asyncio.IncompleteReadError`` at an early end."""
        self._check()
        if n <= 0:
            return b""  # as aiohttp, for a negative count too
        if n > self._limit:
            self.set_read_chunk_size(n)
        while self._size < n and not self._eof:
            await self._wait("readexactly")
            self._check()
        if self._size < n:
            partial = self._take(-1) if self._buffer else b""
            raise asyncio.IncompleteReadError(partial, n)
        return self._take(n)

    async def readline(self, *, max_line_length: Optional[int] = None) -> bytes:
        """One line, with its ``\\n`` (``LineTooLong`` beyond ``max_line_length``,
        by default twice the buffer size ``read_bufsize``)."""
        return await self.readuntil(b"\n", max_size=max_line_length)

    async def readuntil(self, separator: bytes = b"\n", *, max_size: Optional[int] = None) -> bytes:
        """Bytes up to and including ``separator`` (or to the end of the body);
        ``LineTooLong`` beyond ``max_size`` bytes (by default twice ``read_bufsize``).

        As aiohttp's: the data is taken a received piece at a time (to the separator
        in the piece that has it), and a line too long is consumed up to the piece that
        made it too long, so the next read goes on from there."""
        seplen = len(separator)
        if not seplen:
            raise ValueError("Separator should be at least one-byte string")
        limit = max_size or 2 * self._limit
        self._check()
        parts: List[bytes] = []
        size = 0
        tail = b""  # the last seplen - 1 bytes taken: a separator may start there
        while True:
            while self._buffer:
                first = self._buffer[0]
                offset = self._offset
                n = -1  # the bytes of this piece up to the separator's end, if in it
                if tail:
                    # Shorter than the separator each: a match spans both.
                    index = (tail + first[offset : offset + seplen - 1]).find(separator)
                    if index >= 0:
                        n = index + seplen - len(tail)
                if n < 0:
                    index = first.find(separator, offset)
                    if index >= 0:
                        n = index - offset + seplen
                data = self._take(n if n >= 0 else len(first) - offset)
                parts.append(data)
                size += len(data)
                if size > limit:
                    raise LineTooLong(b"".join(parts)[:100] + b"...", limit)
                if n >= 0:
                    return data if len(parts) == 1 else b"".join(parts)
                if seplen > 1:
                    tail = (tail + data)[1 - seplen :]
            if self._eof:
                return b"".join(parts)
            await self._wait("readuntil")
            self._check()

    def read_nowait(self, n: int = -1) -> bytes:
        """Buffered bytes without waiting."""
        self._check()
        if self._waiter is not None:
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        return self._take(n) if self._buffer else b""

    def unread_data(self, data: bytes) -> None:
        """Put ``data`` back at the front of the buffer (deprecated, as in aiohttp)."""
        warnings.warn(
            "unread_data() is deprecated, as in aiohttp",
            DeprecationWarning,
            stacklevel=2,
        )
        self._unread_data(data)

    def _unread_data(self, data: bytes) -> None:
        """``unread_data`` without its warning (for the multipart reader)."""
        if data:
            self._unsplit_first()
            self._buffer.appendleft(data)
            self._size += len(data)

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Iterate in pieces of at most ``n`` bytes."""
        self.set_read_chunk_size(n)
        return _Iter(self, lambda: self.read(n), n if n > 0 else None)  # type: ignore[return-value]

    def iter_any(self) -> AsyncIterator[bytes]:
        """Iterate over pieces as they arrive."""
        return _Iter(self, self.readany, -1)  # type: ignore[return-value]

    def iter_chunks(self) -> AsyncIterator[Tuple[bytes, bool]]:
        """Iterate over ``(data, end_of_chunk)`` pairs."""
        return _Iter(self, self.readchunk)  # type: ignore[return-value]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _Iter(self, self.readline)  # type: ignore[return-value]


class EmptyStreamReader(StreamReader):
    """The body of a response without one: always at its end, never changed (so one
    instance, ``EMPTY_PAYLOAD``, serves every response)."""

    def __init__(self) -> None:
        self._protocol = None
        self._limit = 0
        self._buffer = collections.deque()
        self._offset = 0
        self._size = 0
        self._eof = True
        self._waiter = None
        self._eof_waiter = None
        self._exception = None
        self._eof_callbacks = None
        self._total_bytes = 0
        self._paused = False
        self._reading_all = False
        self._chunk_ends = None

    def __repr__(self) -> str:
        return "<EmptyStreamReader>"

    def set_exception(self, exc: BaseException, exc_cause: Any = None) -> None:
        pass

    def feed_data(self, data: bytes) -> None:
        pass

    def feed_eof(self) -> None:
        pass

    def _unread_data(self, data: bytes) -> None:
        pass

    def set_read_chunk_size(self, n: int) -> None:
        pass


EMPTY_PAYLOAD = EmptyStreamReader()
