"""Request body payloads: types, sizes, bounded streaming, replay, and aiohttp parity."""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
from typing import Any, AsyncIterator, List

import pytest
from multidict import CIMultiDict, MultiDict

from aioclient import payload as pl
from aioclient.formdata import FormData
from aioclient.multipart import MultipartWriter
from aioclient.payload import (
    CHUNK_SIZE,
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonBytesPayload,
    JsonPayload,
    Payload,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    content_disposition_header,
    get_payload,
)


async def chunks(p: Payload) -> List[bytes]:
    return [c async for c in p.iter_chunks()]


async def body(p: Payload) -> bytes:
    return b"".join(await chunks(p))


@pytest.fixture
def big_file(tmp_path: Any) -> str:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(5 * 1024 * 1024 + 123))
    return str(path)


# -- in-memory payloads ----------------------------------------------------------------


@pytest.mark.parametrize("value", [b"abc", bytearray(b"abc"), memoryview(b"abc")])
async def test_bytes_like(value: Any) -> None:
    p = get_payload(value)
    assert type(p) is BytesPayload
    assert p.content_type == "application/octet-stream"
    assert p.size == 3
    assert p.replayable
    assert await body(p) == b"abc"
    assert await p.as_bytes() == b"abc"
    assert type(await p.as_bytes()) is bytes


async def test_bytes_copied_so_later_mutation_does_not_change_size() -> None:
    data = bytearray(b"abc")
    p = get_payload(data)
    data += b"def"
    assert p.size == 3 and await body(p) == b"abc"


async def test_large_bytes_in_bounded_pieces() -> None:
    data = os.urandom(3 * CHUNK_SIZE + 7)
    p = get_payload(memoryview(data))
    pieces = await chunks(p)
    assert [len(c) for c in pieces] == [CHUNK_SIZE] * 3 + [7]
    assert b"".join(pieces) == data
    assert await body(p) == data  # replays


async def test_empty_bytes_yield_no_piece() -> None:
    p = BytesPayload(b"")
    assert p.size == 0
    assert await chunks(p) == []


async def test_string_default_utf8() -> None:
    p = get_payload("héllo")
    assert type(p) is StringPayload
    assert p.content_type == "text/plain; charset=utf-8"
    assert p.encoding == "utf-8"
    assert p.size == len("héllo".encode())
    assert await body(p) == "héllo".encode()


async def test_string_honours_charset_in_content_type() -> None:
    p = get_payload("héllo", content_type="text/html; charset=latin-1")
    assert p.content_type == "text/html; charset=latin-1"
    assert await body(p) == "héllo".encode("latin-1")
    assert p.size == 5


async def test_string_content_type_without_charset_is_utf8() -> None:
    p = get_payload("é", content_type="application/xml")
    assert p.content_type == "application/xml"
    assert await body(p) == "é".encode()


async def test_string_explicit_encoding() -> None:
    p = get_payload("é", encoding="cp1252")
    assert p.content_type == "text/plain; charset=cp1252"
    assert await body(p) == b"\xe9"


async def test_stringio() -> None:
    s = io.StringIO("skip-é")
    s.seek(5)
    p = get_payload(s)
    assert type(p) is StringIOPayload
    assert p.content_type == "text/plain; charset=utf-8"
    assert await body(p) == "é".encode()


async def test_json_payload() -> None:
    p = JsonPayload({"a": [1, "é"]})
    assert p.content_type == "application/json"
    assert await body(p) == json.dumps({"a": [1, "é"]}).encode()
    custom = JsonPayload({"a": 1}, dumps=lambda v: json.dumps(v, separators=(",", ":")))
    assert await body(custom) == b'{"a":1}'
    assert custom.size == 7


async def test_json_bytes_payload() -> None:
    p = JsonBytesPayload([1], dumps=lambda v: b"[1]")
    assert p.content_type == "application/json" and await body(p) == b"[1]"


async def test_headers_argument_and_content_type_override() -> None:
    p = get_payload(b"x", content_type="image/gif", headers={"X-Part": "1"})
    assert p.content_type == "image/gif"
    assert isinstance(p.headers, CIMultiDict)
    assert list(p.headers.items()) == [("Content-Type", "image/gif"), ("X-Part", "1")]
    p.content_type = "text/css"
    assert p.headers["content-type"] == "text/css"


def test_payload_has_slots() -> None:
    p = BytesPayload(b"x")
    with pytest.raises(AttributeError):
        p.anything = 1  # type: ignore[attr-defined]


# -- file payloads ---------------------------------------------------------------------


async def test_file_streams_in_bounded_pieces_and_replays(big_file: str) -> None:
    with open(big_file, "rb") as f:
        expected = f.read()
    with open(big_file, "rb") as f:
        p = get_payload(f)
        assert type(p) is BufferedReaderPayload
        assert p.size == len(expected)
        assert p.replayable
        for _ in range(2):  # the second pass is a replay (redirect, retry)
            total = 0
            count = 0
            digest = bytearray()
            async for piece in p.iter_chunks():
                assert 0 < len(piece) <= CHUNK_SIZE
                total += len(piece)
                count += 1
                digest += piece[:1]
            assert total == len(expected)
            assert count >= len(expected) // CHUNK_SIZE
        assert await p.as_bytes() == expected


class _SpyReader(io.BufferedReader):
    """Records the size asked of each read and the thread it ran on."""

    def __init__(self, raw: Any) -> None:
        super().__init__(raw)
        self.calls: List[Any] = []

    def read(self, n: Any = -1) -> bytes:  # type: ignore[override]
        self.calls.append((n, threading.current_thread()))
        return super().read(n)


async def test_file_read_off_loop_in_bounded_reads(big_file: str) -> None:
    f = _SpyReader(io.FileIO(big_file, "rb"))
    try:
        p = get_payload(f)
        assert type(p) is BufferedReaderPayload
        n = 0
        async for piece in p.iter_chunks():
            n += len(piece)
        assert n == os.path.getsize(big_file)
        assert f.calls
        assert all(0 < size <= CHUNK_SIZE for size, _ in f.calls)
        assert all(thread is not threading.main_thread() for _, thread in f.calls)
    finally:
        f.close()


async def test_file_starts_at_position_at_creation(tmp_path: Any) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        f.seek(4)
        p = get_payload(f)
        assert p.size == 6
        assert await body(p) == b"456789"
        f.seek(0)  # moved by someone else: a replay still starts at 4
        assert await body(p) == b"456789"


async def test_file_content_type_filename_and_disposition(tmp_path: Any) -> None:
    png = tmp_path / "pic.png"
    png.write_bytes(b"\x89PNG")
    other = tmp_path / "blob.unknownext"
    other.write_bytes(b"x")
    with open(png, "rb") as f, open(other, "rb") as g:
        p = get_payload(f)
        assert p.content_type == "image/png"
        assert p.filename == "pic.png"
        assert p.headers["Content-Disposition"] == 'attachment; filename="pic.png"'
        q = get_payload(g, disposition=None)
        assert q.content_type == "application/octet-stream"
        assert "Content-Disposition" not in q.headers
        r = get_payload(f, content_type="x/y")
        assert r.content_type == "x/y"


async def test_file_that_grows_sends_only_its_size(tmp_path: Any) -> None:
    path = tmp_path / "grow.bin"
    path.write_bytes(b"a" * 100)
    with open(path, "rb") as f:
        p = get_payload(f)
        with open(path, "ab") as w:
            w.write(b"b" * 100)
        assert await body(p) == b"a" * 100


async def test_file_that_shrinks_raises(tmp_path: Any) -> None:
    path = tmp_path / "shrink.bin"
    path.write_bytes(b"a" * 100)
    with open(path, "rb") as f:
        p = get_payload(f)
        with open(path, "wb") as w:
            w.write(b"a" * 10)
        with pytest.raises(OSError, match="90 bytes"):
            await body(p)


async def test_pipe_is_one_pass_with_unknown_size() -> None:
    r, w = os.pipe()
    os.write(w, b"through a pipe")
    os.close(w)
    with open(r, "rb") as f:
        p = get_payload(f)
        assert p.size is None  # fstat of a pipe says 0: not a length
        assert not p.replayable
        with pytest.raises(TypeError):
            await p.as_bytes()
        assert await body(p) == b"through a pipe"
        with pytest.raises(RuntimeError):
            await body(p)


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self._data.readinto(b)

    def tell(self) -> int:
        raise OSError("unseekable")


async def test_unseekable_file_not_replayable() -> None:
    src = _Unseekable(b"x" * (CHUNK_SIZE + 10))
    p = get_payload(src)
    assert type(p) is IOBasePayload
    assert p.size is None
    assert not p.replayable
    with pytest.raises(TypeError, match="consuming"):
        await p.as_bytes()
    assert [len(c) for c in await chunks(p)] == [CHUNK_SIZE, 10]
    assert p.consumed
    with pytest.raises(RuntimeError):
        await body(p)
    p.close()
    assert src.closed


async def test_text_file_encoded_chunked_and_replayable(tmp_path: Any) -> None:
    path = tmp_path / "notes.txt"
    text = "ünïcødé line\n" * 20000  # > 64 KiB once encoded
    path.write_text(text, encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        p = get_payload(f)
        assert type(p) is TextIOPayload
        assert p.content_type == "text/plain; charset=utf-8"
        assert p.size is None  # length on disk is not length once re-encoded
        pieces = await chunks(p)
        assert all(0 < len(c) <= CHUNK_SIZE for c in pieces)
        assert b"".join(pieces) == text.encode()
        assert await body(p) == text.encode()
    with open(path, encoding="utf-8") as f:
        p = get_payload(f, encoding="utf-16-le")
        assert p.content_type == "text/plain; charset=utf-16-le"
        assert await p.as_bytes() == text.encode("utf-16-le")


async def test_bytesio(tmp_path: Any) -> None:
    b = io.BytesIO(b"head" + b"x" * (CHUNK_SIZE * 2))
    b.seek(4)
    p = get_payload(b)
    assert type(p) is BytesIOPayload
    assert p.size == CHUNK_SIZE * 2
    assert [len(c) for c in await chunks(p)] == [CHUNK_SIZE, CHUNK_SIZE]
    assert await body(p) == b"x" * (CHUNK_SIZE * 2)
    p.close()
    assert not b.closed and p.replayable  # in memory: like aiohttp, left open


async def test_close_closes_file_and_is_awaitable(tmp_path: Any) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    f = open(path, "rb")
    p = get_payload(f)
    p.close()
    assert f.closed and p.consumed and not p.replayable
    with pytest.raises(RuntimeError):
        await body(p)
    await p.close()  # aiohttp code awaits close(); a second close is a no-op
    await BytesPayload(b"x").close()


# -- async iterables -------------------------------------------------------------------


async def _agen(parts: List[Any]) -> AsyncIterator[Any]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


async def test_async_generator_one_pass() -> None:
    p = get_payload(_agen([b"a", b"", bytearray(b"b"), b"c" * (CHUNK_SIZE + 1)]))
    assert type(p) is AsyncIterablePayload
    assert p.size is None
    assert not p.replayable
    assert p.content_type == "application/octet-stream"
    with pytest.raises(TypeError, match="consuming"):
        await p.as_bytes()
    pieces = await chunks(p)  # as_bytes() did not consume it
    assert pieces == [b"a", b"b", b"c" * CHUNK_SIZE, b"c"]
    assert p.consumed
    with pytest.raises(RuntimeError, match="consumed"):
        await body(p)


async def test_async_iterable_class() -> None:
    class Source:
        def __aiter__(self) -> AsyncIterator[bytes]:
            return _agen([b"1", b"2"])

    p = get_payload(Source())
    assert await body(p) == b"12"


async def test_async_iterable_non_bytes_chunk() -> None:
    with pytest.raises(TypeError, match="must yield bytes"):
        await body(get_payload(_agen(["text"])))


async def test_stream_reader_like_uses_iter_any() -> None:
    class Reader:  # the shape of a response's StreamReader: __aiter__ yields lines
        def __aiter__(self) -> AsyncIterator[bytes]:
            return _agen([b"line\n"])

        def iter_any(self) -> AsyncIterator[bytes]:
            return _agen([b"raw", b"bytes"])

    assert await body(get_payload(Reader())) == b"rawbytes"


# -- dispatch --------------------------------------------------------------------------


async def test_payload_passes_through() -> None:
    p = BytesPayload(b"x")
    assert get_payload(p) is p


async def test_forms_become_formdata() -> None:
    for data in ({"a": "1", "b": "é"}, [("a", "1"), ("b", "é")], MultiDict([("a", "1"), ("b", "é")])):
        p = get_payload(data)
        assert p.content_type == "application/x-www-form-urlencoded"
        assert await body(p) == b"a=1&b=%C3%A9"
        assert p.size == 12
    form = FormData({"k": "v"})
    assert await body(get_payload(form)) == b"k=v"
    files = get_payload({"f": io.BytesIO(b"data")})
    assert isinstance(files, MultipartWriter)
    assert files.content_type.startswith("multipart/form-data; boundary=")


@pytest.mark.parametrize("value", [1, 1.5, object(), None, [b"a", b"b"], iter([b"a"]), {1, 2}])
def test_unsupported_types_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        get_payload(value)


# -- Content-Disposition, compared with aiohttp's helper ---------------------------------

_DISPOSITIONS = [
    ("form-data", True, {"name": "field"}),
    ("form-data", True, {"name": 'a"b\\c'}),
    ("form-data", True, {"name": "имя"}),
    ("form-data", True, {"name": "f", "filename": "файл 1.txt"}),
    ("form-data", False, {"name": "имя", "filename": 'a "b".txt'}),
    ("attachment", True, {"filename": "a;b=c.txt"}),
    ("inline", True, {}),
]


@pytest.mark.parametrize("disptype,quote_fields,params", _DISPOSITIONS)
def test_content_disposition_matches_aiohttp(disptype: str, quote_fields: bool, params: Any) -> None:
    helpers = pytest.importorskip("aiohttp.helpers")
    expected = helpers.content_disposition_header(disptype, quote_fields=quote_fields, **params)
    assert content_disposition_header(disptype, quote_fields=quote_fields, **params) == expected


@pytest.mark.parametrize("disptype,params", [("", {}), ("bad type", {}), ("form-data", {"bad key": "v"})])
def test_content_disposition_rejects_bad_tokens(disptype: str, params: Any) -> None:
    with pytest.raises(ValueError):
        content_disposition_header(disptype, **params)


def test_header_injection_rejected_when_encoding_headers() -> None:
    p = BytesPayload(b"x", headers={"X-Bad": "a\r\nInjected: 1"})
    with pytest.raises(ValueError, match="Forbidden control character"):
        _ = p._binary_headers


# -- parity with aiohttp's payload classes ------------------------------------------------


class _Sink:
    def __init__(self) -> None:
        self.buf = bytearray()

    async def write(self, data: bytes) -> None:
        self.buf += data


@pytest.mark.parametrize(
    "value,kwargs",
    [
        (b"bytes", {}),
        ("text é", {}),
        ("text é", {"content_type": "text/csv; charset=latin-1"}),
        ("text é", {"encoding": "utf-16"}),
        (bytearray(b"ba"), {"content_type": "image/png"}),
    ],
)
async def test_in_memory_payloads_match_aiohttp(value: Any, kwargs: Any) -> None:
    apl = pytest.importorskip("aiohttp.payload")
    theirs = apl.get_payload(value, **kwargs)
    ours = get_payload(value, **kwargs)
    sink = _Sink()
    await theirs.write(sink)
    assert await body(ours) == bytes(sink.buf)
    assert ours.content_type == theirs.content_type
    assert ours.size == theirs.size
    assert list(ours.headers.items()) == list(theirs.headers.items())


async def test_file_payload_headers_match_aiohttp(tmp_path: Any) -> None:
    apl = pytest.importorskip("aiohttp.payload")
    for name in ("photo.jpeg", "notes.txt", "archive.tar.gz", "noext"):
        path = tmp_path / name
        path.write_bytes(b"content")
        with open(path, "rb") as f:
            theirs = apl.get_payload(f)
            ours = get_payload(f)
            assert list(ours.headers.items()) == list(theirs.headers.items())
            assert ours.size == theirs.size
            assert ours.filename == theirs.filename


def test_modules_never_import_aiohttp_or_native_core() -> None:
    import re

    import aioclient.formdata
    import aioclient.multipart

    for module in (pl, aioclient.formdata, aioclient.multipart):
        with open(module.__file__ or "", encoding="utf-8") as fh:
            source = fh.read()
        imports = re.findall(r"^\s*(?:from|import)\s+(\S+)", source, re.M)
        for name in imports:
            assert "aiohttp" not in name
            assert name.lstrip(".") not in ("_core", "session", "request", "connector")
