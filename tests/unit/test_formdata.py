"""FormData: urlencoded and multipart/form-data, byte for byte as aiohttp encodes them."""

from __future__ import annotations

import io
import os
import warnings
from typing import Any, Callable, List

import pytest
from multidict import MultiDict

from aioclient.formdata import FormData
from aioclient.multipart import MultipartWriter
from aioclient.payload import BytesPayload, Payload

aiohttp = pytest.importorskip("aiohttp")

BOUNDARY = "BOUNDARY"


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


def _fix_boundary(p: Any) -> None:
    """Give a form-data writer (ours or aiohttp's) a fixed boundary."""
    if p.content_type.startswith("multipart/"):
        p._boundary = BOUNDARY.encode()
        p.headers["Content-Type"] = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def files(tmp_path: Any) -> Any:
    class Files:
        png = tmp_path / "pic.png"
        txt = tmp_path / "ü note.txt"
        opened: List[Any] = []

        def open(self, path: Any, mode: str = "rb", **kw: Any) -> Any:
            f = open(path, mode, **kw)
            self.opened.append(f)
            return f

    Files.png.write_bytes(b"\x89PNG" * 10)
    Files.txt.write_bytes("héllo\nwörld\n".encode())
    fs = Files()
    yield fs
    for f in fs.opened:
        f.close()


def _with(*calls: Any, **form_kw: Any) -> Callable[[Any, Any], Any]:
    """A builder: FormData(**form_kw) then add_field(*args, **kw) for each call."""

    def build(cls: Any, files: Any) -> Any:
        form = cls(**form_kw)
        for args, kw in calls:
            args = tuple(a(files) if callable(a) else a for a in args)
            form.add_field(*args, **kw)
        return form

    return build


def _fields(fields: Any, **kw: Any) -> Callable[[Any, Any], Any]:
    return lambda cls, files: cls(fields() if callable(fields) else fields, **kw)


CASES = {
    "dict": _fields({"a": "1", "b": "x y&z=", "ü": "ß"}),
    "pairs_repeated": _fields([("a", "1"), ("a", "2"), ("n", 3)]),
    "list_value_doseq": _fields([("a", ["1", "2"])]),
    "multidict": _fields(MultiDict([("k", "1"), ("k", "2")])),
    "charset_latin1": _fields({"ü": "é"}, charset="latin-1"),
    "empty": _fields({}),
    "text_and_content_type": _with(
        (("t", "plain"), {}), (("j", '{"a":1}'), {"content_type": "application/json"})
    ),
    "unicode_quoted": _with((("имя", "значение"), {"filename": "файл.txt"})),
    "unicode_unquoted": _with((("имя", "значение"), {"filename": 'файл "x".txt'}), quote_fields=False),
    "quoted_name": _with((('a"b\\c', "v"), {}), default_to_multipart=True),
    "files": _with(
        (("f", lambda fs: fs.open(fs.png)), {}),
        (("g", lambda fs: fs.open(fs.txt)), {"filename": "other.bin", "content_type": "x/y"}),
        (("name", "v"), {}),
    ),
    "bytes_becomes_file": _fields({"b": b"\x00\x01raw"}),
    "bytes_with_content_type": _with((("b", b"abc"), {"content_type": "image/gif"})),
    "bytes_with_cte": _with((("b", b"abc"), {"content_transfer_encoding": "base64"})),
    "charset_multipart": _with(
        (("u", "é"), {}), (("f", b"b"), {"filename": "ü.bin"}), charset="latin-1", default_to_multipart=True
    ),
    "bytesio_field": _fields(lambda: [io.BytesIO(b"in memory")]),
    "stringio_field": _with((("s", lambda fs: io.StringIO("strio")), {})),
    "default_to_multipart": _fields({"a": "1"}, default_to_multipart=True),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_matches_aiohttp_byte_for_byte(name: str, files: Any) -> None:
    build = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # aiohttp's v4 notices
        theirs = build(aiohttp.FormData, files)
        theirs_payload = theirs()
    ours = build(FormData, files)
    assert ours.is_multipart == theirs.is_multipart
    ours_payload = ours()
    _fix_boundary(theirs_payload)
    _fix_boundary(ours_payload)
    expected = await theirs_bytes(theirs_payload)
    got = await ours_bytes(ours_payload)
    assert got == expected
    assert ours_payload.content_type == theirs_payload.content_type
    assert ours_payload.size == theirs_payload.size == len(got)


async def test_text_file_field_same_bytes_sent_chunked(files: Any) -> None:
    # aiohttp announces the size of a text file on disk; ours is unknown (chunked),
    # because decoding and re-encoding can change the length. The bytes are the same.
    theirs = aiohttp.FormData()
    theirs.add_field("f", files.open(files.txt, "r", encoding="utf-8"))
    ours = FormData()
    ours.add_field("f", files.open(files.txt, "r", encoding="utf-8"))
    tp, op = theirs(), ours()
    _fix_boundary(tp)
    _fix_boundary(op)
    assert await ours_bytes(op) == await theirs_bytes(tp)
    assert op.size is None


def test_urlencoded_payload_and_content_type() -> None:
    p = FormData({"a": "b c"})()
    assert isinstance(p, BytesPayload)
    assert p.content_type == "application/x-www-form-urlencoded"
    p = FormData({"a": "é"}, charset="cp1252")()
    assert p.content_type == "application/x-www-form-urlencoded; charset=cp1252"


def test_is_multipart_transitions(tmp_path: Any) -> None:
    form = FormData({"a": "1"})
    assert not form.is_multipart
    form.add_field("b", "2")
    assert not form.is_multipart
    form.add_field("c", "3", content_type="text/plain")
    assert form.is_multipart
    assert FormData([("f", io.BytesIO(b""))]).is_multipart
    assert FormData([("f", "v")], default_to_multipart=True).is_multipart
    form = FormData()
    form.add_field("x", "y", filename="y.txt")
    assert form.is_multipart
    assert isinstance(form(), MultipartWriter)


@pytest.mark.parametrize(
    "kwargs",
    [{"filename": 1}, {"content_type": 1}, {"content_transfer_encoding": 1}],
)
def test_add_field_type_errors(kwargs: Any) -> None:
    with pytest.raises(TypeError):
        FormData().add_field("a", "b", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{"name": "a\r\nX: y"}, {"filename": "a\nb"}, {"content_type": "text/plain\r\nX: y"}],
)
def test_add_field_rejects_header_injection(kwargs: Any) -> None:
    call = {"name": "a", "value": "b", **kwargs}
    with pytest.raises(ValueError, match="Forbidden control character"):
        FormData().add_field(call.pop("name"), call.pop("value"), **call)


@pytest.mark.parametrize("rec", [1, ("a", "b", "c"), "string", {"a": "b"}])
def test_add_fields_rejects(rec: Any) -> None:
    with pytest.raises(TypeError, match="Only io.IOBase, multidict and"):
        FormData().add_fields(rec)


def test_constructor_rejects_scalar() -> None:
    with pytest.raises(TypeError):
        FormData(42)  # type: ignore[arg-type]


def test_file_object_field_named_after_file(tmp_path: Any) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b")
    with open(path, "rb") as f:
        writer = FormData([f])()
        (part, _, _), = list(writer)  # type: ignore[call-overload]
        assert part.headers["Content-Disposition"] == 'form-data; name="report.csv"; filename="report.csv"'
        assert part.headers["Content-Type"] == "text/csv"


def test_unserializable_value_in_multipart_raises_type_error() -> None:
    form = FormData([("n", 1)], default_to_multipart=True)
    with pytest.raises(TypeError, match="Can not serialize value type"):
        form()
    assert FormData([("n", 1)])().size == 3  # urlencoded, str() applies


async def test_calling_twice_returns_the_same_writer() -> None:
    form = FormData({"a": "1"}, default_to_multipart=True)
    first = form()
    assert form() is first
    assert len(first) == 1


async def test_multipart_form_streams_file_in_bounded_pieces(tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(3 * 1024 * 1024)
    path.write_bytes(data)
    with open(path, "rb") as f:
        form = FormData()
        form.add_field("meta", "x")
        form.add_field("file", f)
        p = form()
        total = 0
        async for piece in p.iter_chunks():
            assert 0 < len(piece) <= 1 << 16
            total += len(piece)
        assert total == p.size
        assert p.replayable
