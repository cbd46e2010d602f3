"""Multipart request bodies (RFC 2046 §5.1, RFC 7578): MultipartWriter, streamed part by part.

A :class:`MultipartWriter` is itself a :class:`~aioclient.payload.Payload`: its size is
known when every part's is (then the request carries a Content-Length), and it streams
each part in turn, so a form with large files needs constant memory. The bytes match
aiohttp 3.14's writer for the same parts and boundary.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
import zlib
from typing import Any, AsyncIterator, Iterator, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlencode

from multidict import CIMultiDict

from .payload import _DONE, CHUNK_SIZE, JsonPayload, Payload, StringPayload, _Done, _lookup, _split

__all__ = ("MultipartWriter",)

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

    async def _pieces(self) -> AsyncIterator[bytes]:
        boundary = self._boundary
        for part, encoding, te_encoding in self._parts:
            yield b"--" + boundary + b"\r\n" + part._binary_headers
            body = part.iter_chunks()
            if encoding or te_encoding:
                body = _encode(body, encoding, te_encoding)
            async for chunk in body:
                yield chunk
            yield b"\r\n"
        yield b"--" + boundary + b"--\r\n"

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
