"""aiohttp's low-level HTTP exceptions, for code that catches them by name.

A truncated or malformed body raises ``ClientPayloadError`` whose ``__cause__`` is one
of the payload errors below; ``StreamReader.readline()``/``readuntil()`` raise
``LineTooLong`` (also a ``ValueError``, which they raised before).
"""

from __future__ import annotations

from typing import Optional, Union

from multidict import CIMultiDict

__all__ = (
    "HttpProcessingError",
    "BadHttpMessage",
    "PayloadEncodingError",
    "ContentEncodingError",
    "TransferEncodingError",
    "ContentLengthError",
    "LineTooLong",
    "InvalidHeader",
)


class HttpProcessingError(Exception):
    """An HTTP error with a status ``code``, a ``message`` and optional ``headers``."""

    code = 0
    message = ""
    headers: Optional[CIMultiDict[str]] = None

    def __init__(self, *, code: Optional[int] = None, message: str = "", headers: Optional[CIMultiDict[str]] = None) -> None:
        if code is not None:
            self.code = code
        self.headers = headers
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}, message:\n  {self.message}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.code}, message={self.message!r}>"


class BadHttpMessage(HttpProcessingError):
    """A message that breaks HTTP/1.1 (status 400)."""

    code = 400
    message = "Bad Request"

    def __init__(self, message: str, *, headers: Optional[CIMultiDict[str]] = None) -> None:
        super().__init__(message=message, headers=headers)
        self.args = (message,)


class PayloadEncodingError(BadHttpMessage):
    """The body is not what its framing or encoding promised."""


class ContentEncodingError(PayloadEncodingError):
    """The body could not be decoded (gzip, deflate, br, zstd)."""


class TransferEncodingError(PayloadEncodingError):
    """The chunked framing is broken or cut short."""


class ContentLengthError(PayloadEncodingError):
    """Fewer bytes arrived than Content-Length announced."""


class LineTooLong(BadHttpMessage, ValueError):
    """A line longer than allowed."""

    def __init__(self, line: Union[str, bytes], limit: Union[str, int] = "Unknown", actual_size: str = "Unknown") -> None:
        super().__init__(f"Got more than {limit} bytes when reading: {line!r}.")
        self.args = (line, limit, actual_size)


class InvalidHeader(BadHttpMessage):
    """A header line that is not ``name: value`` with a token name and a clean value
    (raised for the part headers of a multipart body)."""

    def __init__(self, hdr: Union[bytes, str]) -> None:
        text = hdr.decode("utf-8", "backslashreplace") if isinstance(hdr, bytes) else hdr
        super().__init__(f"Invalid HTTP header: {hdr!r}")
        self.hdr = text
        self.args = (hdr,)
