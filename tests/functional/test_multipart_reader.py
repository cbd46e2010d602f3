"""MultipartReader / BodyPartReader on real responses from an aiohttp.web server.

Bodies are built by aiohttp's own MultipartWriter, or written by hand (sent in small
pieces, so boundaries and delimiters fall across network reads). Where it helps, the
same reading code also runs with aiohttp as the client; every assertion is on the
values the body holds.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import io
import json
import random
import zlib
from typing import Any, Callable, Dict, List, Tuple

import aiohttp
import pytest
from aiohttp import web

import aioclient
from aioclient.http_exceptions import BadHttpMessage, InvalidHeader

BOUNDARY = "frontier"
MIXED = f"multipart/mixed; boundary={BOUNDARY}"

BINARY = bytes(range(256)) * 40  # 10 KiB, every byte value
QP_TEXT = "Grüße, naïve café = 100% ✓ " * 20
GZIP_TEXT = b"compressible line of text\r\n" * 2000


def _writer_body() -> aiohttp.MultipartWriter:
    """A multipart/mixed body as aiohttp writes it: plain, JSON, form, binary, base64,
    quoted-printable, gzip, deflate and a nested multipart/related part."""
    mp = aiohttp.MultipartWriter("mixed", boundary=BOUNDARY)
    mp.append("plain text", {"Content-Type": "text/plain; charset=utf-8"})
    mp.append_json({"answer": 42, "list": [1, "two"]})
    mp.append_form([("a", "1"), ("b", "é & ü"), ("empty", "")])
    part = mp.append(io.BytesIO(BINARY), {"Content-Type": "application/octet-stream"})
    part.set_content_disposition("attachment", filename="data.bin")
    mp.append(BINARY, {"Content-Transfer-Encoding": "base64", "Content-Type": "application/octet-stream"})
    mp.append(QP_TEXT, {"Content-Transfer-Encoding": "quoted-printable"})
    mp.append(GZIP_TEXT, {"Content-Encoding": "gzip", "Content-Type": "text/plain"})
    mp.append(b"deflated " * 100, {"Content-Encoding": "deflate"})
    inner = aiohttp.MultipartWriter("related", boundary="inner-boundary")
    inner.append("first inner")
    inner.append_json({"inner": True})
    mp.append(inner)
    mp.append("after the nested part")
    return mp


def _pieces(body: bytes, size: int) -> List[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


async def _send_in_pieces(request: web.Request, body: bytes, content_type: str, size: int = 7) -> web.StreamResponse:
    """Answer with ``body`` written ``size`` bytes at a time, letting the loop run in
    between, so that the client sees it in many reads."""
    resp = web.StreamResponse(headers={"Content-Type": content_type})
    resp.content_length = len(body)
    await resp.prepare(request)
    for piece in _pieces(body, size):
        await resp.write(piece)
        await asyncio.sleep(0.001)
    await resp.write_eof()
    return resp


RAW: Dict[str, Tuple[str, bytes]] = {
    # A preamble, CRLF line ends, an epilogue; transport padding after a boundary.
    "preamble": (
        MIXED,
        b"This is the preamble; it is ignored.\r\n"
        b"--frontier  \r\n"
        b"Content-Type: text/plain\r\n"
        b"X-Index: 1\r\n"
        b"\r\n"
        b"first part\r\n"
        b"--frontier\r\n"
        b"\r\n"
        b"line one\r\nline two\n\r\n"
        b"--frontier--\r\n"
        b"This is the epilogue.\r\nIt is ignored too.\r\n",
    ),
    # The data holds things that look like the delimiter but are not: a bare CRLF,
    # the boundary without its CRLF, a longer boundary word after CRLF "--".
    "lookalikes": (
        MIXED,
        b"--frontier\r\n\r\n"
        b"\r\n--front\r\n--frontie--frontier\r\n-\r\n\r\n"
        b"\r\n--frontier\r\n\r\n"
        b"\r\n--frontier--\r\n",
    ),
    # An empty part written with no CRLF after its header block, then an empty one
    # written properly.
    "empty_parts": (
        MIXED,
        b"--frontier\r\nX-Part: a\r\n\r\n--frontier\r\nX-Part: b\r\n\r\n\r\n--frontier--",
    ),
    # Content-Length: the part's data is exactly that many bytes, even when they hold
    # the delimiter.
    "content_length": (
        MIXED,
        b"--frontier\r\nContent-Length: 18\r\n\r\nab\r\n--frontier\r\ncd\r\n--frontier--\r\n",
    ),
    "content_length_too_short": (
        MIXED,
        b"--frontier\r\nContent-Length: 3\r\n\r\nabcdef\r\n--frontier--\r\n",
    ),
    # The body ends inside the second part: no delimiter, no closing boundary.
    "truncated": (
        MIXED,
        b"--frontier\r\n\r\ncomplete\r\n--frontier\r\nContent-Type: text/plain\r\n\r\ncut off in the mid",
    ),
    # The last delimiter but no closing boundary line.
    "no_close": (MIXED, b"--frontier\r\n\r\nonly part\r\n--frontier\r\n"),
    "no_start": (MIXED, b"no boundary at all\r\nin this body\r\n"),
    "bad_boundary_line": (MIXED, b"--frontier\r\n\r\ndata\r\n--frontierX\r\n\r\nmore\r\n--frontier--\r\n"),
    "lf_only": (MIXED, b"--frontier\nX: 1\n\ndata\n--frontier--\n"),
    "bad_header": (MIXED, b"--frontier\r\nNo colon here\r\n\r\ndata\r\n--frontier--\r\n"),
    "folded_header": (MIXED, b"--frontier\r\nX-A: 1\r\n continued\r\n\r\ndata\r\n--frontier--\r\n"),
    "duplicate_content_type": (
        MIXED,
        b"--frontier\r\nContent-Type: a/b\r\nContent-Type: a/c\r\n\r\ndata\r\n--frontier--\r\n",
    ),
    # A nested body whose epilogue is two lines (RFC 2046 allows any text there).
    "nested_epilogue": (
        MIXED,
        b"--frontier\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n"
        b"--alt\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
        b"--alt\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
        b"--alt--\r\ninner epilogue 1\r\ninner epilogue 2\r\n"
        b"--frontier\r\n\r\nouter\r\n--frontier--\r\n",
    ),
    # A form whose _charset_ field names the charset of the fields after it.
    "form_charset": (
        "multipart/form-data; boundary=frontier",
        b"--frontier\r\nContent-Disposition: form-data; name=\"_charset_\"\r\n\r\niso-8859-1\r\n"
        b"--frontier\r\nContent-Disposition: form-data; name=\"city\"\r\n\r\nK\xf6ln\r\n"
        b"--frontier\r\nContent-Disposition: form-data; name=\"utf\"\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nK\xc3\xb6ln\r\n--frontier--\r\n",
    ),
    "encodings": (
        MIXED,
        b"--frontier\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n"
        b"--frontier\r\nContent-Encoding: br\r\n\r\nxyz\r\n"
        b"--frontier\r\nContent-Encoding: IDENTITY\r\nContent-Transfer-Encoding: 7BIT\r\n\r\nas is\r\n"
        b"--frontier\r\nContent-Disposition: attachment; name=\"doc\"; filename=\"old.txt\"; "
        b"filename*=UTF-8''r%C3%A9sum%C3%A9.txt\r\n\r\n\r\n--frontier--\r\n",
    ),
    "no_boundary_param": ("multipart/mixed", b"--frontier\r\n\r\nx\r\n--frontier--\r\n"),
    "long_boundary": ("multipart/mixed; boundary=" + "b" * 71, b""),
}

SPLIT_BODY = (
    b"--frontier\r\nX-N: 1\r\n\r\nhello\r\n--frontier\r\nContent-Length: 5\r\n\r\nworld\r\n"
    b"--frontier\r\n\r\nlast\r\n--frontier--\r\n"
)

BIG_SIZE = 5 * 1024 * 1024
BIG_DATA = random.Random(5).randbytes(BIG_SIZE // 2) + (b"\r\n--frontie\r\n-" * 200_000)[: BIG_SIZE - BIG_SIZE // 2]


def _app(big_gate: asyncio.Event | None = None) -> web.Application:
    async def writer(request: web.Request) -> web.Response:
        mp = _writer_body()
        return web.Response(body=mp)

    async def form(request: web.Request) -> web.Response:
        mp = aiohttp.MultipartWriter("form-data", boundary=BOUNDARY)
        mp.append("value one").set_content_disposition("form-data", name="field")
        mp.append(b"a,b\r\n1,2\r\n", {"Content-Type": "text/csv"}).set_content_disposition(
            "form-data", name="upload", filename="tableau é.csv"
        )
        return web.Response(body=mp)

    async def raw(request: web.Request) -> web.StreamResponse:
        content_type, body = RAW[request.match_info["case"]]
        return await _send_in_pieces(request, body, content_type)

    async def big(request: web.Request) -> web.StreamResponse:
        # A 5 MiB part with no Content-Length, chunked. After the first MiB the server
        # waits until the client has read a piece of the part (or gives up after 10 s),
        # so the part cannot have been gathered whole before the first piece was read.
        resp = web.StreamResponse(headers={"Content-Type": MIXED})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b"--frontier\r\nContent-Type: application/octet-stream\r\n\r\n")
        for i, piece in enumerate(_pieces(BIG_DATA, 64 * 1024)):
            if i == 16 and big_gate is not None:
                await asyncio.wait_for(big_gate.wait(), 10)
            await resp.write(piece)
        await resp.write(b"\r\n--frontier\r\nContent-Type: text/plain\r\n\r\nsmall after big\r\n--frontier--\r\n")
        await resp.write_eof()
        return resp

    async def split(request: web.Request) -> web.StreamResponse:
        # SPLIT_BODY in two writes, cut at the given offset, a pause in between: the
        # client gets the two pieces in separate reads.
        cut = int(request.match_info["cut"])
        resp = web.StreamResponse(headers={"Content-Type": MIXED})
        resp.content_length = len(SPLIT_BODY)
        await resp.prepare(request)
        await resp.write(SPLIT_BODY[:cut])
        await asyncio.sleep(0.02)
        await resp.write(SPLIT_BODY[cut:])
        return resp

    app = web.Application()
    app.router.add_get("/split/{cut}", split)
    app.router.add_get("/writer", writer)
    app.router.add_get("/form", form)
    app.router.add_get("/raw/{case}", raw)
    app.router.add_get("/big", big)
    return app


async def _read_all(reader: Any, part_types: Tuple[type, type]) -> List[Any]:
    """Every part: (headers, decoded bytes) for a body part, a list for a nested one."""
    multipart_cls, _ = part_types
    out: List[Any] = []
    async for part in reader:
        if isinstance(part, multipart_cls):
            out.append(await _read_all(part, part_types))
        else:
            out.append((dict(part.headers), bytes(await part.read(decode=True))))
    return out


def _expected_writer_parts() -> List[Any]:
    gz_headers = {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    return [
        ({"Content-Type": "text/plain; charset=utf-8", "Content-Length": "10"}, b"plain text"),
        ({"Content-Type": "application/json", "Content-Length": "34"}, b'{"answer": 42, "list": [1, "two"]}'),
        (
            {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "30"},
            b"a=1&b=%C3%A9+%26+%C3%BC&empty=",
        ),
        (
            {
                "Content-Type": "application/octet-stream",
                "Content-Disposition": 'attachment; filename="data.bin"',
                "Content-Length": str(len(BINARY)),
            },
            BINARY,
        ),
        ({"Content-Type": "application/octet-stream", "Content-Transfer-Encoding": "base64"}, BINARY),
        (
            {"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": "quoted-printable"},
            QP_TEXT.encode(),
        ),
        (gz_headers, GZIP_TEXT),
        ({"Content-Type": "application/octet-stream", "Content-Encoding": "deflate"}, b"deflated " * 100),
        [
            ({"Content-Type": "text/plain; charset=utf-8", "Content-Length": "11"}, b"first inner"),
            ({"Content-Type": "application/json", "Content-Length": "15"}, b'{"inner": true}'),
        ],
        ({"Content-Type": "text/plain; charset=utf-8", "Content-Length": "21"}, b"after the nested part"),
    ]


async def test_body_from_aiohttp_writer_read_part_by_part(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    expected = _expected_writer_parts()

    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/writer")) as resp:
            assert resp.content_type == "multipart/mixed"
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            ours = await _read_all(reader, (aioclient.MultipartReader, aioclient.BodyPartReader))
            assert reader.at_eof()
            assert await reader.next() is None
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/writer")) as resp:
            reader = aiohttp.MultipartReader(resp.headers, resp.content)
            theirs = await _read_all(reader, (aiohttp.MultipartReader, aiohttp.BodyPartReader))
    assert ours == expected
    assert theirs == expected


async def test_part_helpers_text_json_form_and_raw_bytes(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/writer")) as resp:
            reader = aioclient.MultipartReader.from_response(resp)
            assert isinstance(reader.stream, aioclient.MultipartReader)

            part = await reader.next()
            assert isinstance(part, aioclient.BodyPartReader)
            assert part.get_charset("latin-1") == "utf-8"
            assert part.name is None and part.filename is None
            assert not part.at_eof()
            assert await part.text() == "plain text"
            assert part.at_eof()
            assert await part.read() == b""  # nothing left

            part = await reader.next()
            assert await part.json() == {"answer": 42, "list": [1, "two"]}

            part = await reader.next()
            assert await part.form() == [("a", "1"), ("b", "é & ü"), ("empty", "")]

            part = await reader.next()
            assert part.filename == "data.bin"
            assert part.get_charset("latin-1") == "latin-1"  # no charset in its Content-Type
            assert await part.read() == BINARY

            part = await reader.next()  # base64: raw, then decoded by decode()
            raw = await part.read()
            assert raw == base64.b64encode(BINARY)
            assert part.decode(raw) == BINARY

            part = await reader.next()  # quoted-printable
            raw = bytes(await part.read())
            assert b"=C3=BC" in raw and b"=3D" in raw
            assert part.decode(raw) == QP_TEXT.encode()

            part = await reader.next()  # gzip: read() gives it compressed
            raw = bytes(await part.read())
            assert raw[:2] == b"\x1f\x8b"
            assert gzip.decompress(raw) == GZIP_TEXT
            assert part.decode(raw) == GZIP_TEXT
            assert b"".join([piece async for piece in part.decode_iter(raw)]) == GZIP_TEXT

            part = await reader.next()  # raw deflate, as aiohttp writes it
            raw = bytes(await part.read())
            assert zlib.decompress(raw, -zlib.MAX_WBITS) == b"deflated " * 100
            assert await part.read(decode=True) == b""  # already read

            nested = await reader.next()
            assert isinstance(nested, aioclient.MultipartReader)
            assert nested.headers["Content-Type"] == "multipart/related; boundary=inner-boundary"
            # Left unread: the next part comes after the whole nested body.
            part = await reader.next()
            assert await part.text() == "after the nested part"

            assert await reader.next() is None
            assert reader.stream.at_eof()
            assert reader.at_eof()  # the response body was read to its end
            assert resp.closed  # and the response released


async def test_base64_part_read_in_chunks_decodes_chunk_by_chunk(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/writer")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            for _ in range(5):
                part = await reader.next()
            assert part.headers["Content-Transfer-Encoding"] == "base64"
            decoded = bytearray()
            sizes = []
            for _ in range(10_000):
                chunk = await part.read_chunk(101)
                sizes.append(len(chunk))
                decoded += part.decode(chunk)  # each piece holds whole base64 groups
                if part.at_eof():
                    break
            assert bytes(decoded) == BINARY
            assert max(sizes) <= 101
            assert len(sizes) > 100
            await reader.release()
            assert reader.at_eof()


async def test_form_data_names_filenames_and_charset(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/form")) as resp:
            reader = aioclient.MultipartReader.from_response(resp)
            fields = []
            async for part in reader:
                fields.append((part.name, part.filename, part.headers.get("Content-Type"), await part.text()))
    assert fields == [
        ("field", None, "text/plain; charset=utf-8", "value one"),
        # aiohttp's writer percent-encodes a quoted filename; the reader leaves it so.
        ("upload", "tableau%20%C3%A9.csv", "text/csv", "a,b\r\n1,2\r\n"),
    ]


async def test_form_charset_field_sets_the_default_charset(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/raw/form_charset")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            city = await reader.next()  # the _charset_ field itself is not returned
            assert city.name == "city"
            assert city.get_charset("utf-8") == "iso-8859-1"
            assert await city.text() == "Köln"
            utf = await reader.next()
            assert utf.get_charset("ascii") == "utf-8"  # its own charset wins
            assert await utf.text() == "Köln"
            assert await reader.next() is None


async def _run_raw(session_cls: Callable[[], Any], reader_cls: Any, url: Any) -> List[Any]:
    """Read every part of a hand-written body; the error, if one is raised, ends the list."""
    out: List[Any] = []
    async with session_cls() as session:
        async with session.get(url) as resp:
            try:
                reader = reader_cls(resp.headers, resp.content)
                async for part in reader:
                    if isinstance(part, reader_cls):
                        inner = []
                        async for sub in part:
                            inner.append((dict(sub.headers), bytes(await sub.read())))
                        out.append(inner)
                    else:
                        out.append((dict(part.headers), bytes(await part.read())))
            except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
                out.append(type(exc).__name__)
    return out


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("preamble", [({"Content-Type": "text/plain", "X-Index": "1"}, b"first part"), ({}, b"line one\r\nline two\n")]),
        ("lookalikes", [({}, b"\r\n--front\r\n--frontie--frontier\r\n-\r\n\r\n"), ({}, b"")]),
        ("empty_parts", [({"X-Part": "a"}, b""), ({"X-Part": "b"}, b"")]),
        ("content_length", [({"Content-Length": "18"}, b"ab\r\n--frontier\r\ncd")]),
        ("content_length_too_short", ["ValueError"]),
        ("truncated", [({}, b"complete"), "ValueError"]),
        ("no_close", [({}, b"only part"), "ValueError"]),
        ("no_start", ["ValueError"]),
        ("bad_boundary_line", [({}, b"data"), "ValueError"]),
        ("lf_only", ["ValueError"]),
        ("bad_header", ["InvalidHeader"]),
        ("folded_header", ["InvalidHeader"]),
        ("duplicate_content_type", ["BadHttpMessage"]),
        ("no_boundary_param", ["ValueError"]),
        ("long_boundary", ["ValueError"]),
    ],
)
async def test_hand_written_bodies_match_aiohttp(aiohttp_server, case: str, expected: List[Any]) -> None:
    server = await aiohttp_server(_app())
    url = server.make_url(f"/raw/{case}")
    assert await _run_raw(aioclient.ClientSession, aioclient.MultipartReader, url) == expected
    assert await _run_raw(aiohttp.ClientSession, aiohttp.MultipartReader, url) == expected


@pytest.mark.parametrize("cut", range(20, 50))
async def test_delimiter_and_headers_split_across_reads(aiohttp_server, cut: int) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url(f"/split/{cut}")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            got = []
            async for part in reader:
                data = bytearray()
                for _ in range(100):
                    data += await part.read_chunk(3)
                    if part.at_eof():
                        break
                got.append((dict(part.headers), bytes(data)))
    assert got == [({"X-N": "1"}, b"hello"), ({"Content-Length": "5"}, b"world"), ({}, b"last")]


async def test_errors_are_the_documented_classes(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/raw/bad_header")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            with pytest.raises(InvalidHeader) as info:
                await reader.next()
            assert info.value.args == (b"No colon here",)
            assert isinstance(info.value, BadHttpMessage)
        async with session.get(server.make_url("/raw/no_boundary_param")) as resp:
            with pytest.raises(ValueError, match="boundary"):
                aioclient.MultipartReader(resp.headers, resp.content)
            with pytest.raises(ValueError, match="multipart"):
                aioclient.MultipartReader({"Content-Type": "text/plain"}, resp.content)
        async with session.get(server.make_url("/raw/truncated")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            assert await (await reader.next()).read() == b"complete"
            part = await reader.next()
            # read_chunk hands over what arrived, then reports the missing boundary.
            got = bytearray()
            with pytest.raises(ValueError):
                for _ in range(100):
                    got += await part.read_chunk(8)
            assert got == b"cut off in the mid"
            assert not part.at_eof()


async def test_unknown_encodings_and_extended_filename(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/raw/encodings")) as resp:
            reader = aioclient.MultipartReader.from_response(resp)
            part = await reader.next()
            with pytest.raises(RuntimeError, match="x-uuencode"):
                await part.read(decode=True)
            part = await reader.next()
            assert await part.read() == b"xyz"  # undecoded, it reads fine
            with pytest.raises(RuntimeError, match="br"):
                part.decode(b"xyz")
            part = await reader.next()
            assert await part.read(decode=True) == b"as is"
            part = await reader.next()
            assert (part.name, part.filename) == ("doc", "résumé.txt")  # filename* wins
            assert await part.read() == b""
            assert await reader.next() is None
            assert reader.at_eof()


async def test_release_skips_the_remaining_parts(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/writer")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            part = await reader.next()
            assert await part.read_chunk(5) == b"plain"
            await reader.release()  # the rest of this part, every other part, the nested body
            assert reader.at_eof()
            assert await reader.next() is None
            assert resp.content.at_eof()


async def test_nested_multipart_with_an_epilogue(aiohttp_server) -> None:
    # aiohttp 3.14.5 raises ValueError on an inner epilogue of more than one line;
    # RFC 2046 allows any text there, and aioclient skips it.
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/raw/nested_epilogue")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            alternative = await reader.next()
            assert isinstance(alternative, aioclient.MultipartReader)
            plain = await alternative.next()
            assert (plain.headers["Content-Type"], await plain.text()) == ("text/plain", "plain")
            html = await alternative.next()
            assert (html.headers["Content-Type"], await html.text()) == ("text/html", "<p>html</p>")
            assert await alternative.next() is None
            assert alternative.at_eof() and not reader.at_eof()
            outer = await reader.next()
            assert await outer.text() == "outer"
            assert await reader.next() is None


async def test_readline_and_part_iteration(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/raw/preamble")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            first = await reader.next()
            assert [chunk async for chunk in first] == [b"first part"]
            second = await reader.next()
            lines = [await second.readline() for _ in range(4)]
            assert lines == [b"line one\r\n", b"line two\n", b"", b""]
            assert second.at_eof()
            assert await reader.next() is None


async def test_five_megabyte_part_streamed_in_chunks(aiohttp_server) -> None:
    gate = asyncio.Event()
    server = await aiohttp_server(_app(gate))
    size = 64 * 1024
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/big")) as resp:
            reader = aioclient.MultipartReader.from_response(resp)
            part = await reader.next()
            assert part.headers["Content-Type"] == "application/octet-stream"
            digest = hashlib.sha256()
            total = 0
            largest = 0
            for _ in range(10 * BIG_SIZE // size):
                chunk = await part.read_chunk(size)
                gate.set()  # the server sends the rest only after a piece was read
                digest.update(chunk)
                total += len(chunk)
                largest = max(largest, len(chunk))
                if part.at_eof():
                    break
            assert total == BIG_SIZE
            assert digest.digest() == hashlib.sha256(BIG_DATA).digest()
            assert largest <= size
            # The stream itself holds no more than its flow-control window meanwhile.
            after = await reader.next()
            assert await after.text() == "small after big"
            assert await reader.next() is None


async def test_five_megabyte_part_skipped_and_read_whole(aiohttp_server) -> None:
    server = await aiohttp_server(_app())
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/big")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            await reader.next()  # not read: next() skips it
            after = await reader.next()
            assert await after.read() == b"small after big"
        async with session.get(server.make_url("/big")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            data = await (await reader.next()).read()
            assert len(data) == BIG_SIZE and bytes(data) == BIG_DATA
            await reader.release()
            assert reader.at_eof()


async def test_decode_of_a_large_gzip_part_is_whole(aiohttp_server) -> None:
    text = b"".join(b"line %d of a long document\n" % i for i in range(40_000))  # ~1 MiB
    assert len(text) > 1024 * 1024

    async def handler(request: web.Request) -> web.Response:
        mp = aiohttp.MultipartWriter("mixed", boundary="z")
        mp.append(io.BytesIO(text), {"Content-Encoding": "gzip"})
        return web.Response(body=mp)

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            part = await reader.next()
            raw = bytes(await part.read())
            assert len(raw) < len(text) // 4
            assert part.decode(raw) == text  # aiohttp 3.14.5 stops at 256 KiB here
            pieces = [piece async for piece in part.decode_iter(raw)]
            assert b"".join(pieces) == text and max(map(len, pieces)) <= 256 * 1024


async def test_json_part_from_a_small_writer(aiohttp_server) -> None:
    async def handler(request: web.Request) -> web.Response:
        mp = aiohttp.MultipartWriter("mixed", boundary="j")
        mp.append(json.dumps({"k": "vé"}).encode("utf-16"), {"Content-Type": "application/json; charset=utf-16"})
        mp.append(b"", {"Content-Type": "application/json"})
        return web.Response(body=mp)

    app = web.Application()
    app.router.add_get("/", handler)
    server = await aiohttp_server(app)
    async with aioclient.ClientSession() as session:
        async with session.get(server.make_url("/")) as resp:
            reader = aioclient.MultipartReader(resp.headers, resp.content)
            assert await (await reader.next()).json() == {"k": "vé"}
            assert await (await reader.next()).json() is None  # an empty part
            assert await reader.next() is None
