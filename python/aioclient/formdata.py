"""HTML form bodies: FormData, encoded urlencoded or multipart/form-data as aiohttp does.

A form stays ``application/x-www-form-urlencoded`` while every field is a plain value;
a file, bytes, a filename or a content type turns it into ``multipart/form-data``
(RFC 7578). Both encodings match aiohttp 3.14 byte for byte.
"""

from __future__ import annotations

import io
from typing import Any, Iterable, List, Optional, Tuple
from urllib.parse import urlencode

from multidict import MultiDict, MultiDictProxy

from .multipart import MultipartWriter
from .payload import BytesPayload, Payload, _guess_filename, _lookup, _safe_header

__all__ = ("FormData",)


class FormData:
    """Fields of a form, encoded when called: ``FormData(...)()`` is the request payload.

    ``fields`` is a dict, a multidict, a list of ``(name, value)`` pairs, or file objects
    (named after the file). ``quote_fields=False`` writes non-ASCII names unescaped;
    ``charset`` is the text encoding (UTF-8 by default).
    """

    __slots__ = ("_writer", "_fields", "_is_multipart", "_quote_fields", "_charset")

    def __init__(
        self,
        fields: Iterable[Any] = (),
        quote_fields: bool = True,
        charset: Optional[str] = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        self._writer = MultipartWriter("form-data")
        self._fields: List[Tuple[MultiDict[str], dict[str, str], Any]] = []
        self._is_multipart = default_to_multipart
        self._quote_fields = quote_fields
        self._charset = charset
        if isinstance(fields, dict):
            fields = list(fields.items())
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        """True if the form will be encoded as multipart/form-data."""
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: Optional[str] = None,
        filename: Optional[str] = None,
        content_transfer_encoding: Optional[str] = None,
    ) -> None:
        """Add one field; a file, bytes, ``filename`` or ``content_type`` makes the form multipart."""
        if isinstance(value, io.IOBase):
            self._is_multipart = True
        elif isinstance(value, (bytes, bytearray, memoryview)):
            # aiohttp sends raw bytes as a file named after the field.
            if filename is None and content_transfer_encoding is None:
                filename = name
        _safe_header(name)
        type_options: MultiDict[str] = MultiDict({"name": name})
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"filename must be an instance of str. Got: {filename}")
        if filename is None and isinstance(value, io.IOBase):
            filename = _guess_filename(value, name)
        if filename is not None:
            _safe_header(filename)
            type_options["filename"] = filename
            self._is_multipart = True
        headers: dict[str, str] = {}
        if content_type is not None:
            if not isinstance(content_type, str):
                raise TypeError(f"content_type must be an instance of str. Got: {content_type}")
            _safe_header(content_type)
            headers["Content-Type"] = content_type
            self._is_multipart = True
        if content_transfer_encoding is not None:
            if not isinstance(content_transfer_encoding, str):
                raise TypeError(
                    f"content_transfer_encoding must be an instance of str. Got: {content_transfer_encoding}"
                )
            # Accepted for compatibility; like aiohttp, it only makes the form multipart
            # (RFC 7578 §4.7 deprecates Content-Transfer-Encoding in form-data).
            self._is_multipart = True
        self._fields.append((type_options, headers, value))

    def add_fields(self, *fields: Any) -> None:
        """Add files, multidicts and ``(name, value)`` pairs."""
        to_add = list(fields)
        while to_add:
            rec = to_add.pop(0)
            if isinstance(rec, io.IOBase):
                self.add_field(_guess_filename(rec, "unknown"), rec)  # type: ignore[arg-type]
            elif isinstance(rec, (MultiDictProxy, MultiDict)):
                to_add.extend(rec.items())
            elif isinstance(rec, (list, tuple)) and len(rec) == 2:
                name, value = rec
                self.add_field(name, value)
            else:
                raise TypeError(
                    "Only io.IOBase, multidict and (name, file) pairs allowed, "
                    f"use .add_field() for passing more complex parameters, got {rec!r}"
                )

    def _gen_form_urlencoded(self) -> BytesPayload:
        charset = self._charset if self._charset is not None else "utf-8"
        data = [(options["name"], value) for options, _, value in self._fields]
        if charset == "utf-8":
            content_type = "application/x-www-form-urlencoded"
        else:
            content_type = f"application/x-www-form-urlencoded; charset={charset}"
        return BytesPayload(urlencode(data, doseq=True, encoding=charset).encode(), content_type=content_type)

    def _gen_form_data(self) -> MultipartWriter:
        for options, headers, value in self._fields:
            try:
                part = _lookup(
                    value,
                    headers=headers,
                    encoding=self._charset,
                    **({"content_type": headers["Content-Type"]} if "Content-Type" in headers else {}),
                )
            except Exception as exc:
                raise TypeError(
                    f"Can not serialize value type: {type(value)!r}\n headers: {headers!r}\n value: {value!r}"
                ) from exc
            if part is None:
                raise TypeError(f"Can not serialize value type: {type(value)!r}\n headers: {headers!r}\n value: {value!r}")
            part.set_content_disposition("form-data", quote_fields=self._quote_fields, **options)
            part.headers.popall("Content-Length", None)
            self._writer.append_payload(part)
        # As in aiohttp, the fields move into the writer: calling again returns it as is.
        self._fields.clear()
        return self._writer

    def __call__(self) -> Payload:
        """The request payload: urlencoded bytes, or a multipart/form-data writer."""
        if self._is_multipart:
            return self._gen_form_data()
        return self._gen_form_urlencoded()
