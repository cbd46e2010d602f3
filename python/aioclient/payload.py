"""Request bodies that are not plain ``bytes``: what they are, how big, how they stream.

A :class:`Payload` tells the request writer three things before anything is sent: the
default ``Content-Type`` (:attr:`~Payload.content_type`), the length (:attr:`~Payload.size`;
``None`` means unknown, so the body goes out with ``Transfer-Encoding: chunked``) and
whether it can be sent again (:attr:`~Payload.replayable`, needed to follow a 307/308
redirect or to retry from a middleware). Then :meth:`~Payload.iter_chunks` yields the
body in pieces of at most :data:`CHUNK_SIZE` bytes; files are read in a worker thread,
one piece at a time, so memory stays constant whatever their size.

:func:`get_payload` turns a ``data=`` argument into a payload the way aiohttp 3.14 does,
including its fallback: anything it does not recognise is handed to
:class:`~aioclient.formdata.FormData` (dicts, lists of pairs, multidicts), which raises
``TypeError`` for what it cannot encode either.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import mimetypes
import os
import re
import stat
import sys
from collections.abc import AsyncIterable
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Mapping, Optional, Tuple, Union
from urllib.parse import quote

from multidict import CIMultiDict

__all__ = (
    "CHUNK_SIZE",
    "Payload",
    "BytesPayload",
    "StringPayload",
    "StringIOPayload",
    "JsonPayload",
    "JsonBytesPayload",
    "IOBasePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "TextIOPayload",
    "AsyncIterablePayload",
    "get_payload",
    "content_disposition_header",
)

CHUNK_SIZE = 1 << 16
"""The largest piece :meth:`Payload.iter_chunks` yields (64 KiB)."""

# A text file is read this many characters at a time: at most 4 bytes each in UTF-8, so a
# piece usually fits CHUNK_SIZE once encoded (longer encodings are split afterwards).
_TEXT_CHARS = CHUNK_SIZE // 4

_HeadersArg = Union[Mapping[str, str], Iterable[Tuple[str, str]], None]

# Header values must not smuggle CR/LF or other controls (HTAB is allowed): RFC 9110 §5.5.
_FORBIDDEN_HEADER_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# RFC 2616 §2.2 token characters, used to validate Content-Disposition names (RFC 2183).
_TOKEN = frozenset(chr(c) for c in range(33, 127)) - frozenset('()<>@,;:\\"/[]?={} ')
# RFC 5322 quoted-string: what may appear, and what must be backslash-escaped.
_QCONTENT = frozenset(chr(c) for c in range(0x20, 0x7F)) | {"\t"}
_NOT_QTEXT = re.compile(r"[^\041\043-\133\135-\176]")


def _safe_header(value: str) -> str:
    if _FORBIDDEN_HEADER_CHARS.search(value) is not None:
        raise ValueError("Forbidden control character detected in headers. Potential header injection attack.")
    return value


def content_disposition_header(disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str) -> str:
    """Build a MIME ``Content-Disposition`` value (RFC 2183, RFC 7578 §4.2), as aiohttp does.

    With ``quote_fields`` a filename is percent-encoded inside quotes and another
    parameter that is not 7-bit becomes ``key*=charset''percent-encoded`` (RFC 5987);
    without it values are only backslash-escaped (for recipients that take 8-bit names).
    """
    if not disptype or not _TOKEN.issuperset(disptype):
        raise ValueError(f"bad content disposition type {disptype!r}")
    pairs = [disptype]
    for key, val in params.items():
        if not key or not _TOKEN.issuperset(key):
            raise ValueError(f"bad content disposition parameter {key!r}={val!r}")
        if not quote_fields:
            escaped = val.replace("\\", "\\\\").replace('"', '\\"')
            pairs.append(f'{key}="{escaped}"')
        elif key.lower() == "filename":
            pairs.append(f'{key}="{quote(val, "", encoding=_charset)}"')
        elif _QCONTENT.issuperset(val):
            quoted = _NOT_QTEXT.sub(lambda m: "\\" + m.group(0), val)
            pairs.append(f'{key}="{quoted}"')
        else:
            pairs.append(f"{key}*={_charset}''{quote(val, '', encoding=_charset)}")
    return "; ".join(pairs)


def _charset_of(content_type: str) -> Optional[str]:
    """The ``charset`` parameter of a media type, or None."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip(' "')
    return None


def _guess_content_type(filename: str) -> Optional[str]:
    if sys.version_info >= (3, 13):
        return mimetypes.guess_file_type(filename)[0]
    return mimetypes.guess_type(filename)[0]


def _guess_filename(obj: Any, default: Optional[str] = None) -> Optional[str]:
    """The base name of ``obj.name`` unless it is a pseudo name such as ``<stdin>``."""
    name = getattr(obj, "name", None)
    if name and isinstance(name, str) and name[0] != "<" and name[-1] != ">":
        return os.path.basename(name)
    return default


def _split(chunk: bytes) -> Iterator[bytes]:
    """``chunk`` in pieces of at most CHUNK_SIZE; never an empty piece (it would end a
    chunked body early)."""
    if len(chunk) <= CHUNK_SIZE:
        if chunk:
            yield chunk
        return
    for start in range(0, len(chunk), CHUNK_SIZE):
        yield chunk[start : start + CHUNK_SIZE]


class _Done:
    """What ``close()`` returns: the work is already done, and awaiting it is a no-op, so
    both ``payload.close()`` and aiohttp's ``await payload.close()`` work."""

    __slots__ = ()

    def __await__(self) -> Iterator[None]:
        return iter(())


_DONE = _Done()


class _QueueWriter:
    """The stream writer an aiohttp-style ``Payload.write(writer)`` is given: each
    ``write`` waits until the previous piece has been taken."""

    __slots__ = ("_queue",)

    def __init__(self, queue: "asyncio.Queue[Any]") -> None:
        self._queue = queue

    async def write(self, chunk: Any) -> None:
        """Hand ``chunk`` (bytes-like) to the request."""
        if chunk:
            await self._queue.put(bytes(chunk))

    async def write_eof(self, chunk: Any = b"") -> None:
        """Hand the last ``chunk``; the body ends when ``write()`` returns."""
        await self.write(chunk)

    async def drain(self) -> None:
        """Nothing to wait for: ``write`` already waits for its piece to be taken."""


class Payload:
    """A request body: default Content-Type, size, part headers and its bytes, streamed.

    ``headers`` holds the part headers a multipart body writes before this part
    (Content-Type first, then Content-Disposition and any given ones); for a whole
    request body only ``content_type`` and ``size`` matter.
    """

    __slots__ = ("_value", "_headers", "_filename", "_encoding", "_size", "_consumed")

    _default_content_type = "application/octet-stream"

    def __init__(
        self,
        value: Any,
        headers: _HeadersArg = None,
        content_type: Optional[str] = None,
        filename: Optional[str] = None,
        encoding: Optional[str] = None,
    ) -> None:
        self._value = value
        self._filename = filename
        self._encoding = encoding
        self._size: Optional[int] = None
        self._consumed = False
        self._headers: CIMultiDict[str] = CIMultiDict()
        if content_type is None and filename is not None:
            content_type = _guess_content_type(filename)
        self._headers["Content-Type"] = content_type or self._default_content_type
        if headers:
            self._headers.update(headers)

    # -- what the request writer reads -------------------------------------------------

    @property
    def content_type(self) -> Optional[str]:
        """The Content-Type to send unless the request sets one."""
        return self._headers.get("Content-Type")

    @content_type.setter
    def content_type(self, value: Optional[str]) -> None:
        if value is None:
            self._headers.popall("Content-Type", None)
        else:
            self._headers["Content-Type"] = value

    @property
    def size(self) -> Optional[int]:
        """Length in bytes as sent, or None when unknown (then the body is chunked)."""
        return self._size

    @property
    def headers(self) -> CIMultiDict[str]:
        """Part headers (used when this payload is a part of a multipart body)."""
        return self._headers

    @property
    def filename(self) -> Optional[str]:
        """The file name, when there is one."""
        return self._filename

    @property
    def encoding(self) -> Optional[str]:
        """The text encoding used to turn the value into bytes, if any."""
        return self._encoding

    @property
    def replayable(self) -> bool:
        """True if the body can be sent again (a 307/308 redirect, a middleware retry)."""
        return True

    @property
    def consumed(self) -> bool:
        """True once the payload can no longer be sent (read once, or closed)."""
        return self._consumed

    def set_content_disposition(self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str) -> None:
        """Set the part's ``Content-Disposition`` header (see :func:`content_disposition_header`)."""
        self._headers["Content-Disposition"] = content_disposition_header(
            disptype, quote_fields=quote_fields, _charset=_charset, **params
        )

    @property
    def _binary_headers(self) -> bytes:
        """The part headers as written in a multipart body, blank line included."""
        lines = "".join(f"{_safe_header(k)}: {_safe_header(v)}\r\n" for k, v in self._headers.items())
        return (lines + "\r\n").encode("utf-8")

    # -- the bytes ---------------------------------------------------------------------

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield the body in non-empty pieces of at most :data:`CHUNK_SIZE` bytes.

        A subclass written for aiohttp, with ``async def write(self, writer)`` instead,
        works as it is: what it writes is yielded piece by piece, and it waits for each
        piece to be taken (constant memory, as with aiohttp's stream writer).
        """
        if type(self).write is Payload.write:
            raise NotImplementedError(f"{type(self).__name__} must define iter_chunks() or aiohttp's write(writer)")
        queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=1)
        end = object()

        async def produce() -> None:
            try:
                await self.write(_QueueWriter(queue))
            finally:
                await queue.put(end)

        task = asyncio.ensure_future(produce())
        try:
            while True:
                data = await queue.get()
                if data is end:
                    break
                for piece in _split(data):
                    yield piece
            await task  # the payload's own error, if it failed
        finally:
            if not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    async def write(self, writer: Any) -> None:
        """Write the body to ``writer`` (anything with ``async write(bytes)``), as
        aiohttp's ``Payload.write`` does: to serialise a payload by hand."""
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: Any, content_length: Optional[int]) -> None:
        """Write at most ``content_length`` bytes of the body to ``writer`` (all of it
        for None), as aiohttp's ``Payload.write_with_length``."""
        chunks = self.iter_chunks()
        try:
            async for chunk in chunks:
                if content_length is not None:
                    chunk = chunk[:content_length]
                    content_length -= len(chunk)
                if chunk:
                    await writer.write(chunk)
                if content_length == 0:
                    break
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text (a logging middleware's ``request.body.decode()``), as aiohttp.

        A file is read here, blocking (as in aiohttp: not for the event loop with large
        files), and rewound when sent. ``TypeError`` for a payload that cannot be
        replayed: reading it here would leave nothing to send.
        """
        return self._read_all().decode(encoding, errors)

    def _read_all(self) -> bytes:
        """The whole body at once, synchronously."""
        raise TypeError(
            f"Unable to decode {type(self).__name__}: it cannot be read in advance without consuming it"
        )

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body at once (for digest ``auth-int``, or a test); the arguments
        are aiohttp's, and a body is already bytes.

        Raises ``TypeError`` for a payload that cannot be replayed: reading it here
        would leave nothing to send.
        """
        if not self.replayable:
            raise TypeError(
                f"{type(self).__name__} cannot be read in advance without consuming it; "
                "pass bytes or a seekable file instead"
            )
        return b"".join([chunk async for chunk in self.iter_chunks()])

    def close(self) -> _Done:
        """Release what the payload holds (a file). Can be awaited, as in aiohttp."""
        self._consumed = True
        return _DONE

    def _check_sendable(self) -> None:
        if self._consumed and not self.replayable:
            raise RuntimeError(f"{type(self).__name__} has already been consumed and cannot be sent again")

    def __repr__(self) -> str:
        try:
            size: Any = self.size
        except ValueError:  # a closed file
            size = "closed"
        return f"<{type(self).__name__} content_type={self.content_type!r} size={size!r}>"


class BytesPayload(Payload):
    """``bytes``, ``bytearray`` or ``memoryview`` (copied to ``bytes`` once)."""

    __slots__ = ()

    def __init__(self, value: Union[bytes, bytearray, memoryview], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"value argument must be byte-ish, not {type(value)!r}")
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value if type(value) is bytes else bytes(value), *args, **kwargs)
        self._size = len(self._value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text."""
        return self._value.decode(encoding, errors)  # type: ignore[no-any-return]

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        for piece in _split(self._value):
            yield piece

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._value  # type: ignore[no-any-return]

    def _read_all(self) -> bytes:
        return self._value  # type: ignore[no-any-return]

    def close(self) -> _Done:
        return _DONE  # nothing held; stays sendable, as in aiohttp


class StringPayload(BytesPayload):
    """A ``str``: UTF-8 as ``text/plain; charset=utf-8`` unless told otherwise.

    The encoding is ``encoding=``, else the ``charset`` of a given ``content_type``,
    else UTF-8.
    """

    __slots__ = ()

    def __init__(
        self,
        value: str,
        *args: Any,
        encoding: Optional[str] = None,
        content_type: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            if content_type is None:
                encoding = "utf-8"
                content_type = "text/plain; charset=utf-8"
            else:
                encoding = _charset_of(content_type) or "utf-8"
        elif content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value.encode(encoding), *args, encoding=encoding, content_type=content_type, **kwargs)


class StringIOPayload(StringPayload):
    """An ``io.StringIO``: its remaining text, read at once (it is in memory already)."""

    __slots__ = ()

    def __init__(self, value: io.StringIO, *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class JsonPayload(BytesPayload):
    """A value serialised with ``dumps`` (``json.dumps`` by default) as application/json."""

    __slots__ = ()

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str] = json.dumps,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value).encode(encoding), *args, content_type=content_type, encoding=encoding, **kwargs)


class JsonBytesPayload(BytesPayload):
    """A value serialised by a ``dumps`` that returns bytes (orjson and the like)."""

    __slots__ = ()

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(dumps(value), *args, content_type=content_type, **kwargs)


class IOBasePayload(Payload):
    """A binary file object, read in a worker thread one piece at a time.

    The position at creation is where the body starts; every send seeks back there, so
    the payload replays (redirects, retries) as long as the file is seekable. The size
    is known for regular files (``fstat``) and fixed at creation: exactly that many bytes
    are sent even if the file grows, and a file that shrank raises ``OSError`` rather
    than leaving the server waiting for bytes that never come.
    """

    __slots__ = ("_start",)

    def __init__(self, value: Any, disposition: Optional[str] = "attachment", *args: Any, **kwargs: Any) -> None:
        if "filename" not in kwargs:
            kwargs["filename"] = _guess_filename(value)
        super().__init__(value, *args, **kwargs)
        if self._filename is not None and disposition is not None and "Content-Disposition" not in self._headers:
            self.set_content_disposition(disposition, filename=self._filename)
        try:
            self._start: Optional[int] = value.tell()
        except (OSError, AttributeError, ValueError):
            self._start = None  # a pipe or socket: one pass only
        self._size = self._measure()

    def _measure(self) -> Optional[int]:
        if self._start is None:
            return None
        try:
            st = os.fstat(self._value.fileno())
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            return None
        # st_size means nothing for pipes, sockets and devices (often 0).
        if not stat.S_ISREG(st.st_mode):
            return None
        return max(st.st_size - self._start, 0)

    @property
    def size(self) -> Optional[int]:
        """Length in bytes as sent, or None when unknown; ``ValueError`` for a closed
        file (as aiohttp: a body sent once is closed, and cannot be sent again)."""
        if getattr(self._value, "closed", False):
            raise ValueError("I/O operation on closed file")
        return self._size

    @property
    def replayable(self) -> bool:
        return self._start is not None and not self._consumed

    def _rewind(self) -> None:
        if self._start is not None:
            self._value.seek(self._start)
        else:
            self._consumed = True  # it cannot be rewound: this is its only pass

    def _read(self, n: int) -> bytes:
        data = self._value.read(n)
        return b"" if data is None else bytes(data)

    def _read_all(self) -> bytes:
        if self._consumed:
            raise RuntimeError(f"{type(self).__name__} has been consumed or closed and cannot be sent again")
        self._rewind()
        remaining = self._size
        chunks = []
        while remaining is None or remaining > 0:
            chunk = self._read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            chunks.append(chunk)
        return b"".join(chunks)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError(f"{type(self).__name__} has been consumed or closed and cannot be sent again")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._rewind)
        remaining = self._size
        while remaining is None or remaining > 0:
            want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = await loop.run_in_executor(None, self._read, want)
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk
        if remaining:
            raise OSError(f"{self._filename or 'file'} ended {remaining} bytes before its size when the request started")

    def close(self) -> _Done:
        """Close the file (as aiohttp does once the request is done)."""
        self._consumed = True
        self._value.close()  # idempotent
        return _DONE


class BufferedReaderPayload(IOBasePayload):
    """A file opened in binary mode (``io.BufferedReader`` / ``io.BufferedRandom``)."""

    __slots__ = ()


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO``: in memory, so read in place without a worker thread."""

    __slots__ = ()

    def _measure(self) -> Optional[int]:
        with self._value.getbuffer() as buf:
            return max(len(buf) - (self._start or 0), 0)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("BytesIOPayload has been closed and cannot be sent again")
        self._rewind()
        remaining = self._size or 0
        while remaining > 0:
            chunk = self._value.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk

    def close(self) -> _Done:
        return _DONE  # aiohttp leaves a BytesIO open and sendable


class TextIOPayload(IOBasePayload):
    """A file opened in text mode, encoded as it is read (UTF-8 unless told otherwise).

    Its size is unknown, so it is sent chunked: a text file's length on disk is not its
    length once decoded (newline translation) and re-encoded (another charset).
    """

    __slots__ = ()

    def __init__(
        self,
        value: Any,
        *args: Any,
        encoding: Optional[str] = None,
        content_type: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            if content_type is None:
                encoding = "utf-8"
                content_type = "text/plain; charset=utf-8"
            else:
                encoding = _charset_of(content_type) or "utf-8"
        elif content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value, *args, content_type=content_type, encoding=encoding, **kwargs)

    def _measure(self) -> Optional[int]:
        return None

    def _read(self, n: int) -> bytes:
        text = self._value.read(_TEXT_CHARS)
        return text.encode(self._encoding or "utf-8") if text else b""

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        async for chunk in super().iter_chunks():
            for piece in _split(chunk):
                yield piece


class AsyncIterablePayload(Payload):
    """An async iterable or async generator of bytes: size unknown, one pass only."""

    __slots__ = ()

    def __init__(self, value: AsyncIterable[Any], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                f"value argument must support collections.abc.AsyncIterable interface, got {type(value)!r}"
            )
        kwargs.setdefault("content_type", "application/octet-stream")
        super().__init__(value, *args, **kwargs)

    @property
    def replayable(self) -> bool:
        return False

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        self._check_sendable()
        self._consumed = True  # once started, what was read is gone
        value = self._value
        try:
            async for chunk in value:
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise TypeError(f"an async iterable request body must yield bytes, got {type(chunk)!r}")
                for piece in _split(bytes(chunk)):
                    yield piece
        except GeneratorExit:
            # Closed before the end (the caller's Content-Length was reached, or the
            # request failed): an async generator is closed too, so its ``finally``
            # and ``with`` blocks run now.
            if inspect.isasyncgen(value):
                await value.aclose()
            raise


def _lookup(data: Any, disposition: Optional[str] = "attachment", **kwargs: Any) -> Optional[Payload]:
    """The payload for ``data``'s type, in aiohttp's registry order, or None.

    ``disposition`` is the Content-Disposition type a named file gets; None for none
    (a request body: aiohttp sends no Content-Disposition for ``data=open(...)``).
    """
    if isinstance(data, Payload):
        return data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return BytesPayload(data, **kwargs)
    if isinstance(data, str):
        return StringPayload(data, **kwargs)
    if isinstance(data, io.StringIO):
        return StringIOPayload(data, **kwargs)
    if isinstance(data, io.TextIOBase):
        return TextIOPayload(data, disposition, **kwargs)
    if isinstance(data, io.BytesIO):
        return BytesIOPayload(data, disposition, **kwargs)
    if isinstance(data, (io.BufferedReader, io.BufferedRandom)):
        return BufferedReaderPayload(data, disposition, **kwargs)
    if isinstance(data, io.IOBase):
        return IOBasePayload(data, disposition, **kwargs)
    iter_any = getattr(data, "iter_any", None)
    if iter_any is not None and isinstance(data, AsyncIterable):
        # A response's StreamReader: its own __aiter__ yields lines; send raw chunks.
        return AsyncIterablePayload(iter_any(), **kwargs)
    if isinstance(data, AsyncIterable):
        return AsyncIterablePayload(data, **kwargs)
    return None


def get_payload(
    data: Any,
    *,
    content_type: Optional[str] = None,
    headers: _HeadersArg = None,
    **kwargs: Any,
) -> Payload:
    """The :class:`Payload` for a request's ``data=``.

    A Payload is returned as it is. bytes-like, ``str``, file objects and async iterables
    get their payload class; a :class:`~aioclient.formdata.FormData` is encoded; anything
    else (a dict, a list of ``(name, value)`` pairs, a multidict) is encoded as a form,
    exactly as aiohttp does, and raises ``TypeError`` if it is not one. Further keywords
    (``encoding``, ``filename``, ``disposition`` for files) go to the payload class.
    """
    if content_type is not None:
        kwargs["content_type"] = content_type
    if headers is not None:
        kwargs["headers"] = headers
    payload = _lookup(data, **kwargs)
    if payload is not None:
        return payload
    from .formdata import FormData  # formdata builds on this module

    if isinstance(data, FormData):
        return data()
    return FormData(data)()
