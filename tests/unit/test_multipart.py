"""MultipartWriter: bytes as aiohttp writes them, sizes, boundaries, streaming."""

from __future__ import annotations

import asyncio
import io
import os
from typing import Any, AsyncIterator

import pytest

from aioclient.multipart import MultipartWriter
from aioclient.payload import CHUNK_SIZE, BytesPayload, Payload, StringPayload, get_payload

aiohttp = pytest.importorskip("aiohttp")


async def ours_bytes(p: Payload) -> bytes:
    return b"".join([c async for c in p.iter_chunks()])


class _Sink:
    def __init__(self) -> None:
        self.buf = bytearray()

    async def write(self, data: bytes) -> None:
        self.buf += data


async def theirs_bytes(p: Any) -> bytes:
    sink = _Sink()
    await p.write(sink)
    return bytes(sink.buf)


def _build_mixed(cls: Any) -> Any:
    w = cls("mixed", boundary="b:o u\"n")
    w.append("hello")
    w.append(b"bin", {"X-Foo": "bar"})
    w.append_json({"a": [1, 2]})
    w.append_form({"x": "1", "y": "ü"})
    w.append_form([("p", "1"), ("p", "2")])
    w.append(io.BytesIO(b"0123456789" * 1000), {"Content-Encoding": "gzip"})
    w.append(io.BytesIO(b"0123456789\xff" * 1000), {"Content-Transfer-Encoding": "base64"})
    w.append("qp ünïcode text = here", {"Content-Transfer-Encoding": "quoted-printable"})
    w.append(b"z" * 5000, {"Content-Encoding": "deflate", "Content-Transfer-Encoding": "base64"})
    w.append(b"id", {"Content-Encoding": "identity", "Content-Transfer-Encoding": "binary"})
    inner = cls("related", boundary="inner")
    inner.append("nested")
    w.append(inner)
    return w


async def test_mixed_matches_aiohttp() -> None:
    theirs, ours = _build_mixed(aiohttp.MultipartWriter), _build_mixed(MultipartWriter)
    assert await ours_bytes(ours) == await theirs_bytes(theirs)
    assert ours.content_type == theirs.content_type == 'multipart/mixed; boundary="b:o u\\"n"'
    assert ours.size is None and theirs.size is None  # encoded parts: length unknown


def _build_sized(cls: Any, png: Any) -> Any:
    w = cls("mixed", boundary="xyz")
    w.append("hello")
    w.append(open(png, "rb"))
    w.append_json([1])
    w.append(b"bytes", {"Content-Type": "image/gif"})
    return w


async def test_sized_matches_aiohttp(tmp_path: Any) -> None:
    png = tmp_path / "pic.png"
    png.write_bytes(b"\x89PNG" * 100)
    theirs, ours = _build_sized(aiohttp.MultipartWriter, png), _build_sized(MultipartWriter, png)
    try:
        got = await ours_bytes(ours)
        assert got == await theirs_bytes(theirs)
        assert ours.size == theirs.size == len(got)
        assert [list(p.headers.items()) for p, _, _ in ours] == [list(p.headers.items()) for p, _, _ in theirs]
    finally:
        ours.close()
        await theirs.close()


async def test_form_data_default_section_names_match_aiohttp() -> None:
    def build(cls: Any) -> Any:
        w = cls("form-data", boundary="fb")
        w.append("one")
        w.append(b"two")
        return w

    theirs, ours = build(aiohttp.MultipartWriter), build(MultipartWriter)
    got = await ours_bytes(ours)
    assert got == await theirs_bytes(theirs)
    assert b'name="section-0"' in got and b'name="section-1"' in got
    assert b"Content-Length" not in got  # RFC 7578 §4.8
    assert ours.size == len(got)


@pytest.mark.parametrize("boundary", ["simple-123", "with space", "colon:", 'q"uote', "back\\slash", "x" * 70])
def test_boundary_quoting_matches_aiohttp(boundary: str) -> None:
    assert MultipartWriter(boundary=boundary).content_type == aiohttp.MultipartWriter(boundary=boundary).content_type
    assert MultipartWriter(boundary=boundary).boundary == boundary


@pytest.mark.parametrize("boundary", ["bad\nline", "nul\x00", "ünicode"])
def test_bad_boundaries_rejected(boundary: str) -> None:
    with pytest.raises(ValueError):
        MultipartWriter(boundary=boundary)


def test_default_boundary_is_random_token() -> None:
    a, b = MultipartWriter(), MultipartWriter("form-data")
    assert a.boundary != b.boundary and len(a.boundary) == 32
    assert a.content_type == f"multipart/mixed; boundary={a.boundary}"
    assert b.content_type.startswith("multipart/form-data; boundary=")


async def _agen() -> AsyncIterator[bytes]:
    for part in (b"a", b"b"):
        await asyncio.sleep(0)
        yield part


async def test_size_unknown_with_async_part_and_not_replayable() -> None:
    w = MultipartWriter(boundary="B")
    w.append(b"known")
    assert w.size is not None and w.replayable
    w.append(_agen())
    assert w.size is None
    assert not w.replayable
    with pytest.raises(TypeError):
        await w.as_bytes()
    data = await ours_bytes(w)
    assert data.endswith(b"\r\n\r\nab\r\n--B--\r\n")
    assert w.consumed
    with pytest.raises(RuntimeError):
        await ours_bytes(w)


async def test_empty_writer() -> None:
    w = MultipartWriter(boundary="B")
    assert await ours_bytes(w) == b"--B--\r\n"
    assert w.size == 7
    assert len(w) == 0 and bool(w)


async def test_streams_large_file_in_bounded_pieces_and_replays(tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(5 * 1024 * 1024)
    path.write_bytes(data)
    with open(path, "rb") as f:
        w = MultipartWriter("form-data", boundary="B")
        w.append("field")
        w.append(f)
        for _ in range(2):
            total = 0
            async for piece in w.iter_chunks():
                assert 0 < len(piece) <= CHUNK_SIZE
                total += len(piece)
            assert total == w.size
        whole = await w.as_bytes()
        assert data in whole and len(whole) == w.size


async def test_small_parts_are_gathered_into_one_write() -> None:
    w = MultipartWriter(boundary="B")
    for i in range(10):
        w.append(str(i))
    pieces = [c async for c in w.iter_chunks()]
    assert len(pieces) == 1 and len(pieces[0]) == w.size


async def test_form_data_rejects_encoding_headers() -> None:
    w = MultipartWriter("form-data")
    for name in ("Content-Length", "Content-Encoding", "Content-Transfer-Encoding"):
        with pytest.raises(ValueError, match=name):
            w.append(b"x", {name: "1"})


@pytest.mark.parametrize("headers", [{"Content-Encoding": "br"}, {"Content-Transfer-Encoding": "uuencode"}])
def test_unknown_part_encodings_rejected(headers: Any) -> None:
    with pytest.raises(RuntimeError, match="unknown content"):
        MultipartWriter().append(b"x", headers)


@pytest.mark.parametrize("obj", [1, {"a": "b"}, [("a", "b")], None])
def test_append_unsupported_type(obj: Any) -> None:
    with pytest.raises(TypeError, match="Cannot create payload"):
        MultipartWriter().append(obj)


def test_append_payload_keeps_object_and_adds_headers() -> None:
    w = MultipartWriter()
    p = StringPayload("x")
    assert w.append(p, {"X-A": "1"}) is p
    assert p.headers["X-A"] == "1"
    assert p.headers["Content-Length"] == "1"


async def test_close_closes_file_parts(tmp_path: Any) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    f = open(path, "rb")
    w = MultipartWriter()
    w.append(f)
    w.append(b"y")
    w.close()
    assert f.closed
    assert w.consumed
    await w.close()


async def test_a_closed_writer_of_parts_in_memory_is_sent_again(tmp_path: Any) -> None:
    # As aiohttp: closing (at the end of a request) closes the files; a writer without
    # one is sent again whole, one with a closed file fails before anything is written.
    w = MultipartWriter(boundary="b")
    w.append(b"x")
    w.append(io.BytesIO(b"y"))
    first = await ours_bytes(w)
    w.close()
    assert not w.consumed
    assert await ours_bytes(w) == first
    path = tmp_path / "f.bin"
    path.write_bytes(b"z")
    with open(path, "rb") as f:
        w.append(f)
    with pytest.raises(ValueError, match="closed file"):
        _ = w.size


def test_multipart_is_a_payload() -> None:
    w = MultipartWriter()
    assert isinstance(w, Payload)
    assert get_payload(w) is w
    assert isinstance(w.append(b"x"), BytesPayload)
