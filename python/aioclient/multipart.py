"""Multipart bodies (RFC 2046 §5.1, RFC 7578): MultipartWriter to send, MultipartReader
and BodyPartReader to read a response's, both streamed part by part.

A :class:`MultipartWriter` is itself a :class:`~aioclient.payload.Payload`: its size is
known when every part's is (then the request carries a Content-Length), and it streams
each part in turn, so a form with large files needs constant memory. The bytes match
aiohttp 3.14's writer for the same parts and boundary.

A :class:`MultipartReader` walks a multipart body as it arrives (from
``MultipartReader.from_response(resp)`` or ``MultipartReader(resp.headers, resp.content)``):
``next()`` gives a :class:`BodyPartReader` per part, or a nested reader for a
``multipart/*`` part, and None after the closing boundary. A part is read whole
(``read()``, ``text()``, ``json()``, ``form()``) or in bounded pieces (``read_chunk()``),
so a large part never needs to be held in memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import uuid
import zlib
from functools import cached_property
from typing import (
    Any,
    AsyncIterator,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
)
from urllib.parse import parse_qsl, urlencode

from multidict import CIMultiDict, CIMultiDictProxy

from .helpers import _disposition_filename, _is_token, parse_content_disposition, parse_mimetype
from .http_exceptions import BadHttpMessage, InvalidHeader, LineTooLong
from .payload import _DONE, CHUNK_SIZE, JsonPayload, Payload, StringPayload, _Done, _lookup, _split

__all__ = ("MultipartWriter", "MultipartReader", "BodyPartReader", "MultipartResponseWrapper")

# A boundary that is a token goes bare; otherwise it is quoted (RFC 9110 §5.6.4).
_TCHAR = re.compile(rb"\A[!#$%&'*+\-.^_`|~\w]+\Z")
_NOT_QDTEXT = re.compile(rb"[\x00-\x08\x0A-\x1F\x7F]")

# A part is (payload, Content-Encoding, Content-Transfer-Encoding); the encodings are
# only used in non-form-data bodies (RFC 7578 §4.7 and §4.8 forbid them in forms).
_Part = Tuple[Payload, Optional[str], Optional[str]]


class MultipartWriter(Payload):
    """A ``multipart/<subtype>`` body; ``subtype="form-data"`` for HTML-style forms."""

    __slots__ = ("_boundary", "_parts", "_is_form_data")

    def __init__(self, subtype: str = "mixed", boundary: Optional[str] = None) -> None:
        boundary = boundary if boundary is not None else uuid.uuid4().hex
        try:
            self._boundary = boundary.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("boundary should contain ASCII only chars") from None
        super().__init__(None, content_type=f"multipart/{subtype}; boundary={self._boundary_value}")
        self._parts: List[_Part] = []
        self._is_form_data = subtype == "form-data"

    @property
    def _boundary_value(self) -> str:
        value = self._boundary
        if _TCHAR.match(value):
            return value.decode("ascii")
        if _NOT_QDTEXT.search(value):
            raise ValueError("boundary value contains invalid characters")
        quoted = value.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        return '"' + quoted.decode("ascii") + '"'

    @property
    def boundary(self) -> str:
        """The boundary, unquoted."""
        return self._boundary.decode("ascii")

    def __enter__(self) -> "MultipartWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def __iter__(self) -> Iterator[_Part]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True

    # -- adding parts -------------------------------------------------------------------

    def append(self, obj: Any, headers: Optional[Mapping[str, str]] = None) -> Payload:
        """Add ``obj`` (a Payload, bytes, str, file, async iterable, or a nested writer)."""
        if isinstance(obj, Payload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        payload = _lookup(obj, headers=headers or CIMultiDict())
        if payload is None:
            raise TypeError(f"Cannot create payload from {obj!r}")
        return self.append_payload(payload)

    def append_payload(self, payload: Payload) -> Payload:
        """Add a ready-made payload as the next part."""
        headers = payload.headers
        encoding: Optional[str] = None
        te_encoding: Optional[str] = None
        if self._is_form_data:
            # RFC 7578 §4.7, §4.8: no Content-Encoding, Content-Length or
            # Content-Transfer-Encoding in form-data parts.
            for name in ("Content-Encoding", "Content-Length", "Content-Transfer-Encoding"):
                if name in headers:
                    raise ValueError(f"multipart/form-data parts must not have a {name} header")
            if "Content-Disposition" not in headers:
                payload.set_content_disposition("form-data", name=f"section-{len(self._parts)}")
        else:
            encoding = headers.get("Content-Encoding", "").lower() or None
            if encoding not in (None, "deflate", "gzip", "identity"):
                raise RuntimeError(f"unknown content encoding: {encoding}")
            if encoding == "identity":
                encoding = None
            te_encoding = headers.get("Content-Transfer-Encoding", "").lower() or None
            if te_encoding not in (None, "base64", "quoted-printable", "binary"):
                raise RuntimeError(f"unknown content transfer encoding: {te_encoding}")
            if te_encoding == "binary":
                te_encoding = None
            size = payload.size
            if size is not None and not (encoding or te_encoding):
                headers["Content-Length"] = str(size)
        self._parts.append((payload, encoding, te_encoding))
        return payload

    def append_json(self, obj: Any, headers: Optional[Mapping[str, str]] = None) -> Payload:
        """Add ``obj`` as an application/json part."""
        return self.append_payload(JsonPayload(obj, headers=headers or CIMultiDict()))

    def append_form(
        self,
        obj: Union[Sequence[Tuple[str, str]], Mapping[str, str]],
        headers: Optional[Mapping[str, str]] = None,
    ) -> Payload:
        """Add ``obj`` as an application/x-www-form-urlencoded part."""
        if isinstance(obj, Mapping):
            obj = list(obj.items())
        elif not isinstance(obj, Sequence):
            raise TypeError(f"append_form() takes a mapping or a sequence of pairs, got {type(obj)!r}")
        return self.append_payload(
            StringPayload(
                urlencode(obj, doseq=True),
                headers=headers or CIMultiDict(),
                content_type="application/x-www-form-urlencoded",
            )
        )

    # -- the Payload side ---------------------------------------------------------------

    @property
    def size(self) -> Optional[int]:
        """The body length, or None if a part's is unknown or a part is encoded."""
        total = 0
        for part, encoding, te_encoding in self._parts:
            part_size = part.size
            if encoding or te_encoding or part_size is None:
                return None
            # b"--" boundary b"\r\n" headers body b"\r\n"
            total += 2 + len(self._boundary) + 2 + len(part._binary_headers) + part_size + 2
        return total + 2 + len(self._boundary) + 4  # b"--" boundary b"--\r\n"

    @property
    def replayable(self) -> bool:
        return not self._consumed and all(part.replayable for part, _, _ in self._parts)

    @property
    def consumed(self) -> bool:
        return self._consumed or any(part.consumed for part, _, _ in self._parts)

    async def write(self, writer: Any, close_boundary: bool = True) -> None:
        """Write the body to ``writer`` (anything with ``async write(bytes)``), as aiohttp;
        without the closing boundary line for ``close_boundary=False``."""
        if close_boundary:
            await super().write(writer)
            return
        self._check_sendable()
        async for piece in self._pieces(close_boundary=False):
            if piece:
                await writer.write(piece)

    async def _pieces(self, close_boundary: bool = True) -> AsyncIterator[bytes]:
        boundary = self._boundary
        for part, encoding, te_encoding in self._parts:
            yield b"--" + boundary + b"\r\n" + part._binary_headers
            body = part.iter_chunks()
            if encoding or te_encoding:
                body = _encode(body, encoding, te_encoding)
            async for chunk in body:
                yield chunk
            yield b"\r\n"
        if close_boundary:
            yield b"--" + boundary + b"--\r\n"

    def _read_all(self) -> bytes:
        # The body as sent (every part read synchronously), for decode().
        self._check_sendable()
        boundary = self._boundary
        out = []
        for part, encoding, te_encoding in self._parts:
            out.append(b"--" + boundary + b"\r\n" + part._binary_headers)
            data = part._read_all()
            if encoding or te_encoding:
                data = _collect_ready(_encode(_one(data), encoding, te_encoding))
            out.append(data)
            out.append(b"\r\n")
        out.append(b"--" + boundary + b"--\r\n")
        return b"".join(out)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        # Small pieces (boundaries, headers, short fields) are gathered into one write.
        self._check_sendable()
        buf = bytearray()
        async for piece in self._pieces():
            for chunk in _split(piece):
                if buf and len(buf) + len(chunk) > CHUNK_SIZE:
                    yield bytes(buf)
                    buf.clear()
                if len(chunk) == CHUNK_SIZE:
                    yield chunk
                else:
                    buf += chunk
        if buf:
            yield bytes(buf)

    def close(self) -> _Done:
        """Close every part (their files), as aiohttp does once a request is done.

        The writer itself stays sendable: sent again, parts in memory (bytes, BytesIO)
        go out as before, and a closed file part fails with ``ValueError`` before
        anything is sent.
        """
        for part, _, _ in self._parts:
            part.close()
        return _DONE


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _collect_ready(body: AsyncIterator[bytes]) -> bytes:
    """Run an async iterator that never waits (its data is at hand) to the end, without
    an event loop."""
    out = []
    while True:
        step = body.__anext__()
        try:
            step.send(None)
        except StopIteration as done:
            out.append(done.value)
            continue
        except StopAsyncIteration:
            return b"".join(out)
        step.close()
        raise RuntimeError("the part's body is not at hand")


async def _encode(body: AsyncIterator[bytes], encoding: Optional[str], te_encoding: Optional[str]) -> AsyncIterator[bytes]:
    """Apply a part's Content-Encoding (deflate/gzip) then its Content-Transfer-Encoding
    (base64/quoted-printable), streaming, as aiohttp's MultipartPayloadWriter does."""
    compressor: Any = None
    if encoding == "gzip":
        compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # raw deflate, as aiohttp
    leftover = b""  # base64 works on 3-byte groups; the rest waits for the next chunk

    def transfer(data: bytes, last: bool) -> bytes:
        nonlocal leftover
        if te_encoding == "base64":
            data = leftover + data
            cut = len(data) if last else len(data) - len(data) % 3
            leftover = data[cut:]
            return base64.b64encode(data[:cut])
        if te_encoding == "quoted-printable":
            return binascii.b2a_qp(data)
        return data

    async for chunk in body:
        if compressor is not None:
            chunk = compressor.compress(chunk)
        if chunk:
            for piece in _split(transfer(chunk, False)):
                yield piece
    tail = compressor.flush() if compressor is not None else b""
    for piece in _split(transfer(tail, True)):
        yield piece


# -- reading ---------------------------------------------------------------------------

# What a base64 body is made of (padding included); anything else in it, such as line
# breaks, is skipped when it is decoded.
_BASE64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_NOT_BASE64 = bytes(c for c in range(256) if c not in _BASE64_CHARS)

# RFC 9110 §5.5: the control characters a field value must not hold (HTAB is fine).
_FORBIDDEN_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# Fields that may appear once in a header block; a repeat is an error, as in aiohttp's
# strict header parser.
_SINGLETON_FIELDS = frozenset(
    (
        "content-length",
        "content-location",
        "content-range",
        "content-type",
        "etag",
        "host",
        "max-forwards",
        "server",
        "transfer-encoding",
        "user-agent",
    )
)

# decode_iter() hands decompressed data over in pieces of at most this many bytes.
_DECOMPRESS_PIECE = 2**18

_Reader = Union["MultipartReader", "BodyPartReader"]


def _parse_part_headers(lines: List[bytes]) -> "CIMultiDictProxy[str]":
    """A part's header block (lines without their CRLF), read strictly: ``name: value``
    with a token name, no space before the colon, no obsolete line folding and no
    control characters in the value."""
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        raw_name, colon, raw_value = line.partition(b":")
        if not colon:
            raise InvalidHeader(line)
        if not raw_name:
            raise InvalidHeader(raw_name)
        if raw_name[0] in (0x20, 0x09) or raw_name[-1] in (0x20, 0x09):
            raise InvalidHeader(line)  # RFC 9112 §5.1 (a leading space is a folded line)
        name = raw_name.decode("utf-8", "surrogateescape")
        if not _is_token(name):
            raise InvalidHeader(raw_name)
        raw_value = raw_value.strip(b" \t")
        value = raw_value.decode("utf-8", "surrogateescape")
        if _FORBIDDEN_CTL.search(value):
            raise InvalidHeader(raw_value)
        if name in headers and name.lower() in _SINGLETON_FIELDS:
            raise BadHttpMessage(f"the part header {name!r} appears more than once")
        headers.add(name, value)
    return CIMultiDictProxy(headers)


def _whole_base64_groups(chunk: bytes) -> int:
    """How much of ``chunk`` to keep so that it holds whole 4-character base64 groups
    (line breaks do not count); all of it when it has no whole group at all."""
    extra = len(chunk.translate(None, _NOT_BASE64)) % 4
    cut = len(chunk)
    while extra:
        cut -= 1
        if chunk[cut] in _BASE64_CHARS:
            extra -= 1
    return cut or len(chunk)


def _inflate(data: Any, encoding: str, piece: int) -> Iterator[bytes]:
    """Decompress a gzip (concatenated members too) or raw deflate part body, in
    pieces of at most ``piece`` bytes. A truncated stream gives what it holds."""
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else -zlib.MAX_WBITS
    pending = data
    while True:
        inflater = zlib.decompressobj(wbits)
        while True:
            out = inflater.decompress(pending, piece)
            pending = inflater.unconsumed_tail
            if out:
                yield out
            if inflater.eof or not (out or pending):
                break
        if not inflater.eof:
            tail = inflater.flush()
            if tail:
                yield tail
            return
        pending = inflater.unused_data
        if encoding != "gzip" or not pending.startswith(b"\x1f\x8b"):
            return  # no further gzip member: what follows the stream is ignored


class BodyPartReader:
    """One part of a multipart body, read from the body's stream as it arrives.

    ``headers`` are the part's own. Its data ends where the next boundary begins, or,
    outside ``multipart/form-data`` (RFC 7578 §4.8), after ``Content-Length`` bytes
    when the part states one. Read it whole with :meth:`read` (or :meth:`text`,
    :meth:`json`, :meth:`form`), in bounded pieces with :meth:`read_chunk`, line by
    line with :meth:`readline`, or skip it with :meth:`release`; moving to the next
    part skips whatever was left unread.

    ``read(decode=True)`` and the helpers built on it undo the part's
    Content-Transfer-Encoding (base64, quoted-printable) and then its Content-Encoding
    (gzip, deflate, identity; ignored in form-data, as RFC 7578 §4.8 forbids it).
    """

    #: The piece size used by :meth:`read`, :meth:`readline` and :meth:`release`.
    chunk_size = 8192

    def __init__(
        self,
        boundary: bytes,
        headers: "CIMultiDictProxy[str]",
        content: Any,
        *,
        subtype: str = "mixed",
        default_charset: Optional[str] = None,
        max_decompress_size: int = _DECOMPRESS_PIECE,
        client_max_size: int = sys.maxsize,
        max_size_error_cls: Type[Exception] = ValueError,
    ) -> None:
        # ``boundary`` is the dash-boundary, ``b"--" + boundary``, as MultipartReader
        # passes it.
        self.headers = headers
        self._boundary = boundary
        self._delimiter = b"\r\n" + boundary
        self._content = content
        self._default_charset = default_charset
        self._is_form_data = subtype == "form-data"
        self._at_eof = False
        self._started = False
        length = None if self._is_form_data else headers.get("Content-Length")
        if length is not None and not (length.isascii() and length.isdigit()):
            # int() would take a sign, spaces or underscores; RFC 9110 §8.6 takes digits.
            raise ValueError(f"the part's Content-Length {length!r} is not a number")
        self._length = int(length) if length is not None else None
        self._read_bytes = 0
        self._max_decompress_size = max(1, max_decompress_size)
        self._client_max_size = client_max_size
        self._max_size_error_cls = max_size_error_cls

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.headers.get('Content-Type', '')!r}>"

    # -- iteration: the whole part, once ---------------------------------------------------

    def __aiter__(self) -> "BodyPartReader":
        return self

    async def __anext__(self) -> bytes:
        data = await self.next()
        if data is None:
            raise StopAsyncIteration
        return data

    async def next(self) -> Optional[bytes]:
        """The rest of the part (as :meth:`read`), or None when nothing is left."""
        data = await self.read()
        return data or None

    # -- reading -------------------------------------------------------------------------

    def at_eof(self) -> bool:
        """True once the part's data has all been read (its boundary was reached)."""
        return self._at_eof

    async def read(self, *, decode: bool = False) -> bytes:
        """The rest of the part, as a ``bytearray`` (``b""`` once it was read).

        With ``decode=True`` its Content-Transfer-Encoding and Content-Encoding are
        undone (see :meth:`decode`). More than ``client_max_size`` bytes (unlimited by
        default) raise ``max_size_error_cls``.
        """
        if self._at_eof:
            return b""
        data = bytearray()
        while not self._at_eof:
            data += await self._read_raw(self.chunk_size)
            if len(data) > self._client_max_size:
                raise self._max_size_error_cls(self._client_max_size)
        if not decode:
            return data
        decoded = bytearray()
        async for piece in self.decode_iter(data):
            decoded += piece
            if len(decoded) > self._client_max_size:
                raise self._max_size_error_cls(self._client_max_size)
        return decoded

    async def read_chunk(self, size: int = chunk_size) -> bytes:
        """Up to ``size`` bytes of the part as they arrive; ``b""`` once it is done.

        Only about ``size`` bytes (and the boundary's length) are held at a time,
        however large the part. Pieces of a base64 part end on whole 4-character
        groups, so each one can be given to :meth:`decode` alone. A body that ends
        before the part's boundary raises ``ValueError`` once its data is returned.
        """
        if self._at_eof:
            return b""
        if size < 1:
            raise ValueError(f"read_chunk() needs a positive size, got {size!r}")
        chunk = await self._read_raw(size)
        if chunk and not self._at_eof and self._transfer_encoding() == "base64":
            keep = _whole_base64_groups(chunk)
            if keep < len(chunk):
                self._unread(chunk[keep:])
                chunk = chunk[:keep]
        return chunk

    async def readline(self) -> bytes:
        """The next line of the part, ending with its ``\\n`` (the part's last line
        without one); ``b""`` once the part is done."""
        if self._at_eof:
            return b""
        limit = 2 * (getattr(self._content, "_limit", 0) or 2**16)
        line = bytearray()
        while not self._at_eof:
            chunk = await self._read_raw(self.chunk_size)
            newline = chunk.find(b"\n")
            if newline >= 0:
                self._unread(chunk[newline + 1 :])
                line += chunk[: newline + 1]
                break
            line += chunk
            if len(line) > limit:
                raise LineTooLong(bytes(line[:100]) + b"...", limit)
        return bytes(line)

    async def release(self) -> None:
        """Read the rest of the part and drop it."""
        while not self._at_eof:
            await self._read_raw(self.chunk_size)

    async def text(self, *, encoding: Optional[str] = None) -> str:
        """The part decoded (as ``read(decode=True)``) and read as text in ``encoding``,
        else its charset, else the form's ``_charset_``, else UTF-8."""
        data = await self.read(decode=True)
        return data.decode(encoding or self.get_charset(default="utf-8"))

    async def json(self, *, encoding: Optional[str] = None) -> Any:
        """The part decoded and parsed as JSON; None for an empty part."""
        data = await self.read(decode=True)
        if not data:
            return None
        return json.loads(data.decode(encoding or self.get_charset(default="utf-8")))

    async def form(self, *, encoding: Optional[str] = None) -> List[Tuple[str, str]]:
        """The part decoded and parsed as ``application/x-www-form-urlencoded``: the
        ``(name, value)`` pairs in order, empty values kept."""
        data = await self.read(decode=True)
        if not data:
            return []
        charset = encoding if encoding is not None else self.get_charset(default="utf-8")
        try:
            text = data.rstrip().decode(charset)
        except UnicodeDecodeError:
            raise ValueError(f"the form data is not valid {charset}") from None
        return parse_qsl(text, keep_blank_values=True, encoding=charset)

    # -- decoding ------------------------------------------------------------------------

    def _transfer_encoding(self) -> Optional[str]:
        value = self.headers.get("Content-Transfer-Encoding")
        return value.lower() if value is not None else None

    def _decode_transfer(self, data: Any) -> Any:
        encoding = self._transfer_encoding()
        if encoding is None or encoding in ("binary", "8bit", "7bit"):
            return data
        if encoding == "base64":
            return base64.b64decode(data)
        if encoding == "quoted-printable":
            return binascii.a2b_qp(data)
        raise RuntimeError(f"unknown content transfer encoding: {encoding}")

    def _content_encoding(self) -> Optional[str]:
        """The Content-Encoding to undo, lower-cased; None when there is none to undo."""
        if self._is_form_data:
            return None  # RFC 7578 §4.8: not used in form-data, so not honoured
        value = self.headers.get("Content-Encoding")
        if value is None:
            return None
        value = value.lower()
        if value == "identity":
            return None
        if value not in ("gzip", "deflate"):
            raise RuntimeError(f"unknown content encoding: {value}")
        return value

    def decode(self, data: Any) -> Any:
        """``data`` (this part's bytes) with its Content-Transfer-Encoding (base64,
        quoted-printable; binary, 8bit, 7bit as they are) and then its Content-Encoding
        (gzip, raw deflate, identity; not in form-data) undone.

        ``RuntimeError`` for an encoding not listed. ``data`` comes back as it is when
        there is nothing to undo.
        """
        data = self._decode_transfer(data)
        encoding = self._content_encoding()
        if encoding is None:
            return data
        return b"".join(_inflate(data, encoding, self._max_decompress_size))

    async def decode_iter(self, data: Any) -> AsyncIterator[bytes]:
        """As :meth:`decode`, handing a decompressed part over in pieces."""
        data = self._decode_transfer(data)
        encoding = self._content_encoding()
        if encoding is None:
            yield data
            return
        for piece in _inflate(data, encoding, self._max_decompress_size):
            yield piece

    def get_charset(self, default: str) -> str:
        """The ``charset`` of the part's Content-Type, else the form's ``_charset_``
        field, else ``default``."""
        mimetype = parse_mimetype(self.headers.get("Content-Type", ""))
        return mimetype.parameters.get("charset", self._default_charset or default)

    @cached_property
    def _disposition(self) -> Mapping[str, str]:
        return parse_content_disposition(self.headers.get("Content-Disposition")).parameters

    @cached_property
    def name(self) -> Optional[str]:
        """The ``name`` parameter of the part's Content-Disposition (a form field's name);
        None when it is absent or the header cannot be parsed."""
        return _disposition_filename(self._disposition, "name")

    @cached_property
    def filename(self) -> Optional[str]:
        """The ``filename`` of the part's Content-Disposition (``filename*`` preferred);
        None when it is absent or the header cannot be parsed."""
        return _disposition_filename(self._disposition, "filename")

    # -- the stream ----------------------------------------------------------------------

    async def _read_raw(self, size: int) -> bytes:
        if self._length is None:
            return await self._read_to_delimiter(size)
        return await self._read_counted(size)

    async def _read_to_delimiter(self, size: int) -> bytes:
        """Up to ``size`` bytes of a part that ends at its delimiter, CRLF ``--boundary``.

        Bytes are taken from the stream until they hold the delimiter, or hold more
        than a delimiter's length (then all but the last ``len(delimiter) - 1`` bytes
        are surely the part's), or the stream ends. What is not returned goes back to
        the stream, so nothing is held between calls.
        """
        content = self._content
        delimiter = self._delimiter
        if self._started:
            buf, start = b"", 0
        else:
            # The part may start right at the boundary, with no CRLF of its own before
            # it (an empty part after its header block): seen as if one were there.
            buf, start = b"\r\n", 2
            self._started = True
        want = start + size + len(delimiter)
        while True:
            piece = await content.read(want - len(buf))
            buf += piece
            found = buf.find(delimiter)
            if found >= 0 or not piece or len(buf) >= start + len(delimiter):
                break
        if found >= 0 and found - start <= size:
            # The part ends here; the CRLF before the boundary line belongs to it.
            content._unread_data(buf[found + 2 :])
            self._at_eof = True
            return buf[start:found]
        if found >= 0:
            end = start + size
        elif piece:
            end = min(start + size, len(buf) - len(delimiter) + 1)
        elif len(buf) > start:
            end = min(start + size, len(buf))  # the body ended: return what came first
        else:
            raise ValueError("the multipart body ended inside a part, before its boundary")
        content._unread_data(buf[end:])
        return buf[start:end]

    async def _read_counted(self, size: int) -> bytes:
        """Up to ``size`` bytes of a part with a Content-Length; the CRLF that must
        follow its last byte is checked and taken with it."""
        assert self._length is not None
        remaining = self._length - self._read_bytes
        chunk = b""
        if remaining:
            chunk = await self._content.read(min(size, remaining))
            if not chunk:
                raise ValueError("the multipart body ended inside a part, before its Content-Length")
            self._read_bytes += len(chunk)
            remaining -= len(chunk)
        if not remaining:
            self._at_eof = True
            tail = await self._content.read(2)
            if len(tail) == 1:
                tail += await self._content.read(1)
            if tail != b"\r\n":
                raise ValueError("the part's data does not end where its Content-Length says")
        return chunk

    def _unread(self, data: bytes) -> None:
        """Give back the end of what the last read returned, to be read again."""
        if not data:
            return
        if self._length is not None:
            self._read_bytes -= len(data)
        if self._at_eof:
            # The CRLF that ended the part was taken with the data: back it goes too.
            self._at_eof = False
            data += b"\r\n"
        self._content._unread_data(data)


class MultipartResponseWrapper:
    """What :meth:`MultipartReader.from_response` returns: the reader (``stream``) tied
    to its response (``resp``), which is released once the closing boundary is read."""

    def __init__(self, resp: Any, stream: "MultipartReader") -> None:
        self.resp = resp
        self.stream = stream

    def __aiter__(self) -> "MultipartResponseWrapper":
        return self

    async def __anext__(self) -> _Reader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True when the response body has all been read."""
        return bool(self.resp.content.at_eof())

    async def next(self) -> Optional[_Reader]:
        """The next part (see :meth:`MultipartReader.next`); the response is released
        after the last."""
        part = await self.stream.next()
        if self.stream.at_eof():
            await self.release()
        return part

    async def release(self) -> None:
        """Release the response (its connection is closed if the body is unread)."""
        await self.resp.release()


class MultipartReader:
    """Reads a multipart body (RFC 2046 §5.1) from a stream, one part at a time.

    ``headers`` must hold a ``multipart/*`` Content-Type with a boundary (else
    ``ValueError``); ``content`` is the body's stream, such as a response's
    ``content``. :meth:`next` returns a :class:`BodyPartReader` for each part, or a
    nested :class:`MultipartReader` for a ``multipart/*`` part, and None after the
    closing boundary; ``async for part in reader`` does the same. The preamble before
    the first boundary and the epilogue after the last are skipped.

    Part headers are limited to ``max_headers`` lines of ``max_field_size`` bytes;
    ``client_max_size`` bounds what a part's ``read()`` gathers.
    """

    #: The wrapper :meth:`from_response` returns.
    response_wrapper_cls: Type[MultipartResponseWrapper] = MultipartResponseWrapper
    #: The reader for nested ``multipart/*`` parts; None for this reader's own class.
    multipart_reader_cls: Optional[Type["MultipartReader"]] = None
    #: The reader for other parts.
    part_reader_cls: Type[BodyPartReader] = BodyPartReader

    def __init__(
        self,
        headers: Mapping[str, str],
        content: Any,
        *,
        client_max_size: int = sys.maxsize,
        max_field_size: int = 8190,
        max_headers: int = 128,
        max_size_error_cls: Type[Exception] = ValueError,
    ) -> None:
        self.headers = headers
        content_type = headers["Content-Type"]
        self._mimetype = parse_mimetype(content_type)
        if self._mimetype.type != "multipart":
            raise ValueError(f"a multipart/* Content-Type is needed to read parts, not {content_type!r}")
        boundary = self._mimetype.parameters.get("boundary")
        if boundary is None:
            raise ValueError(f"no boundary parameter in Content-Type: {content_type}")
        if len(boundary) > 70:
            raise ValueError(f"the boundary {boundary!r} is longer than 70 characters (RFC 2046 §5.1.1)")
        self._boundary = ("--" + boundary).encode()
        self._content = content
        self._client_max_size = client_max_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._max_size_error_cls = max_size_error_cls
        self._default_charset: Optional[str] = None
        self._last_part: Optional[_Reader] = None
        self._at_bof = True
        self._at_eof = False
        # Set on a reader for a nested part: its parent reads what follows its end.
        self._nested = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.headers.get('Content-Type')!r}>"

    @classmethod
    def from_response(cls, response: Any) -> MultipartResponseWrapper:
        """A reader for ``response``'s body, wrapped so that the response is released
        once the closing boundary has been read."""
        return cls.response_wrapper_cls(response, cls(response.headers, response.content))

    def __aiter__(self) -> "MultipartReader":
        return self

    async def __anext__(self) -> _Reader:
        part = await self.next()
        if part is None:
            raise StopAsyncIteration
        return part

    def at_eof(self) -> bool:
        """True once the closing boundary has been read."""
        return self._at_eof

    async def next(self) -> Optional[_Reader]:
        """The next part's reader, or None after the closing boundary.

        What the previous part left unread is skipped first. In
        ``multipart/form-data``, a ``_charset_`` field (RFC 7578 §4.6) is not returned:
        its value becomes the charset of the parts that follow it.
        """
        if self._at_eof:
            return None
        after_nested = isinstance(self._last_part, MultipartReader)
        await self._finish_last_part()
        if self._at_bof:
            await self._skip_preamble()
            self._at_bof = False
        else:
            await self._read_boundary(after_nested)
        if self._at_eof:
            return None
        part = await self.fetch_next_part()
        while self._mimetype.subtype == "form-data" and isinstance(part, BodyPartReader) and part.name == "_charset_":
            # The longest charset name in the WHATWG Encoding Standard is 19 characters.
            value = bytearray()
            while not part.at_eof() and len(value) < 32:
                value += await part.read_chunk(32)
            if len(value) > 31:
                raise RuntimeError("the _charset_ field is too long to be a charset name")
            self._default_charset = value.strip().decode()
            await part.release()
            await self._read_boundary(False)
            if self._at_eof:
                return None
            part = await self.fetch_next_part()
        self._last_part = part
        return part

    async def release(self) -> None:
        """Read the remaining parts, to the closing boundary, and drop them."""
        while not self._at_eof:
            part = await self.next()
            if part is None:
                break
            await part.release()

    async def fetch_next_part(self) -> _Reader:
        """Read the next part's header block and return its reader (the boundary line
        before it must have been read)."""
        return self._get_part_reader(await self._read_headers())

    def _get_part_reader(self, headers: "CIMultiDictProxy[str]") -> _Reader:
        """A nested reader for a ``multipart/*`` part, else a body part reader."""
        mimetype = parse_mimetype(headers.get("Content-Type", ""))
        if mimetype.type == "multipart":
            cls = self.multipart_reader_cls or type(self)
            reader = cls(
                headers,
                self._content,
                client_max_size=self._client_max_size,
                max_field_size=self._max_field_size,
                max_headers=self._max_headers,
                max_size_error_cls=self._max_size_error_cls,
            )
            reader._nested = True
            return reader
        return self.part_reader_cls(
            self._boundary,
            headers,
            self._content,
            subtype=self._mimetype.subtype,
            default_charset=self._default_charset,
            client_max_size=self._client_max_size,
            max_size_error_cls=self._max_size_error_cls,
        )

    async def _finish_last_part(self) -> None:
        part = self._last_part
        if part is not None:
            if not part.at_eof():
                await part.release()
            self._last_part = None

    async def _skip_preamble(self) -> None:
        """Skip the lines before the first boundary line (or the closing one)."""
        while True:
            line = await self._content.readline()
            if not line:
                raise ValueError(f"the body has no starting boundary {self._boundary!r}")
            line = line.rstrip()
            if line == self._boundary:
                return
            if line == self._boundary + b"--":
                self._at_eof = True
                return

    async def _read_boundary(self, after_nested: bool) -> None:
        """Read the boundary line that follows a part. After a nested multipart part,
        that part's epilogue comes first and is skipped."""
        while True:
            raw = await self._content.readline()
            line = raw.rstrip()
            if line == self._boundary:
                return
            if line == self._boundary + b"--":
                self._at_eof = True
                if not self._nested:
                    await self._drop_epilogue()
                return
            if not (after_nested and raw):
                raise ValueError(f"expected the boundary line {self._boundary!r}, got {line!r}")

    async def _drop_epilogue(self) -> None:
        """Read (at most two lines of) the text after the closing boundary, so that the
        body is usually read to its end; the text itself means nothing."""
        for _ in range(2):
            try:
                if not await self._content.readline():
                    return
            except LineTooLong:
                return

    async def _read_headers(self) -> "CIMultiDictProxy[str]":
        lines: List[bytes] = []
        while True:
            line = (await self._content.readline(max_line_length=self._max_field_size)).rstrip(b"\r\n")
            if not line:
                return _parse_part_headers(lines)
            lines.append(line)
            if len(lines) > self._max_headers:
                raise BadHttpMessage(f"a part has more than {self._max_headers} header lines")
