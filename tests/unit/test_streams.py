"""StreamReader's reading methods over chunks split at every kind of boundary."""

from __future__ import annotations

import asyncio

import pytest

from aioclient.http_exceptions import LineTooLong

from aioclient.streams import StreamReader


class _Flow:
    """Counts the reader's flow-control calls (the protocol side of a StreamReader)."""

    def __init__(self) -> None:
        self.paused = 0
        self.resumed = 0

    def pause_reading(self) -> None:
        self.paused += 1

    def resume_reading(self) -> None:
        self.resumed += 1


def _reader(*chunks: bytes, limit: int = 2**16) -> StreamReader:
    reader = StreamReader(_Flow(), limit, loop=asyncio.get_running_loop())
    for chunk in chunks:
        reader.feed_data(chunk)
    reader.feed_eof()
    return reader


async def test_small_reads_from_large_chunks_return_every_byte_in_order() -> None:
    data = bytes(range(256)) * 3000
    reader = _reader(data[:300_000], data[300_000:500_000], data[500_000:])
    pieces = [piece async for piece in reader.iter_chunked(65_536)]
    assert b"".join(pieces) == data
    assert all(len(p) == 65_536 for p in pieces[:-1])
    assert reader.at_eof()


@pytest.mark.parametrize("n", [1, 7, 100, 4096, 65_535])
async def test_reads_across_chunk_boundaries(n: int) -> None:
    data = bytes(range(256)) * 64
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    reader = _reader(*chunks)
    out = []
    while piece := await reader.read(n):
        assert len(piece) <= n
        out.append(piece)
    assert b"".join(out) == data


async def test_line_and_exact_reads_after_a_partial_read() -> None:
    reader = _reader(b"abcdef\nghi", b"jkl\nmnop", b"qrstuvwxyz")
    assert await reader.read(2) == b"ab"
    assert await reader.readline() == b"cdef\n"
    assert await reader.readexactly(3) == b"ghi"
    assert await reader.readuntil(b"\n") == b"jkl\n"
    assert await reader.read(1) == b"m"
    with pytest.warns(DeprecationWarning):
        reader.unread_data(b"M")
    assert await reader.readchunk() == (b"M", False)
    assert await reader.read(3) == b"nop"
    assert await reader.readany() == b"qrstuvwxyz"
    assert await reader.read() == b""
    assert await reader.read(5) == b""
    assert await reader.readexactly(0) == b""
    assert await reader.readchunk() == (b"", False)
    with pytest.raises(asyncio.IncompleteReadError):
        await _reader(b"abc").readexactly(4)


async def test_readchunk_gives_the_unread_rest_of_a_partly_read_piece() -> None:
    reader = _reader(b"abcdef", b"ghi")
    assert await reader.read(2) == b"ab"
    assert await reader.readchunk() == (b"cdef", False)
    assert await reader.readchunk() == (b"ghi", False)
    assert reader.at_eof() and reader._size == 0


async def test_flow_control_pauses_above_twice_the_limit_and_resumes_below_it() -> None:
    reader = StreamReader(_Flow(), 100, loop=asyncio.get_running_loop())
    reader.feed_data(b"x" * 150)
    assert reader._protocol.paused == 0
    reader.feed_data(b"x" * 100)
    assert reader._protocol.paused == 1
    await reader.read(100)
    assert reader._protocol.resumed == 0  # 150 left: still above the limit
    await reader.read(100)
    assert reader._protocol.resumed == 1


async def test_line_length_limits_default_to_twice_the_buffer_size() -> None:
    line = b"a" * 150 + b"\n"
    assert await _reader(line, limit=100).readline() == line  # under 2 * limit
    # aiohttp's LineTooLong, which is also the ValueError raised before.
    with pytest.raises(LineTooLong, match="Got more than 200 bytes when reading"):
        await _reader(b"a" * 250 + b"\n", limit=100).readline()
    with pytest.raises(ValueError):
        await _reader(line, limit=100).readline(max_line_length=100)
    assert await _reader(b"xx;yy", limit=100).readuntil(b";", max_size=3) == b"xx;"


async def test_a_complete_body_reads_like_a_fed_one() -> None:
    loop = asyncio.get_running_loop()
    whole = StreamReader(_Flow(), 2**16, loop=loop, body=b"abc\ndef")
    assert whole.is_eof() and whole.total_bytes == 7
    assert await whole.readline() == b"abc\n"
    assert await whole.read() == b"def"
    assert whole.at_eof()
    empty = StreamReader(_Flow(), 2**16, loop=loop, body=b"")
    assert empty.is_eof() and await empty.read() == b""


async def test_repr_says_what_aiohttps_says() -> None:
    reader = _reader(b"abc", b"de")
    assert repr(reader) == "<StreamReader 5 bytes eof>"
    await reader.read()
    assert repr(reader) == "<StreamReader eof>"
    reader = StreamReader(_Flow(), 1024, loop=asyncio.get_running_loop())
    assert repr(reader) == "<StreamReader low=1024 high=2048>"
    reader.set_exception(ValueError("x"))
    assert repr(reader) == "<StreamReader low=1024 high=2048 e=ValueError('x')>"


async def test_a_line_too_long_is_taken_a_received_piece_at_a_time() -> None:
    # As aiohttp: the error takes the pieces read up to the one that made the line too
    # long (to the separator, if that piece has it); reading goes on from there.
    reader = _reader(b"yxy\rb", b"a\r\n\ryz\n", b"xayx")
    with pytest.raises(LineTooLong, match=r"Got more than 3 bytes when reading: b'yxy\\rb\.\.\.'"):
        await reader.readline(max_line_length=3)
    assert await reader.readuntil(b"\n") == b"a\r\n"
    assert await reader.readuntil(b"\n") == b"\ryz\n"
    assert reader.read_nowait(4) == b"xayx"
    # A separator across pieces, and a line too long at its separator.
    reader = _reader(b"xa", b"b", b"cyy\n", b"long line\nz")
    assert await reader.readuntil(b"abc") == b"xabc"
    assert await reader.readchunk() == (b"yy\n", False)  # pieces stay as received
    with pytest.raises(LineTooLong, match="long line"):
        await reader.readline(max_line_length=5)
    assert await reader.read() == b"z"


async def test_reads_larger_than_the_buffer_raise_its_limits() -> None:
    reader = _reader(b"x" * 100, limit=16)
    assert reader.get_read_buffer_limits() == (16, 32)
    await reader.read(8)
    assert reader.get_read_buffer_limits() == (16, 32)
    await reader.readexactly(20)
    assert reader.get_read_buffer_limits() == (20, 40)
    reader.iter_chunked(30)
    assert reader.get_read_buffer_limits() == (30, 60)
    # readline's bound (twice the low mark) follows
    with pytest.raises(LineTooLong, match="Got more than 60 bytes"):
        await reader.readline()


async def test_the_shared_empty_stream_keeps_its_limits() -> None:
    from aioclient.streams import EMPTY_PAYLOAD

    assert [piece async for piece in EMPTY_PAYLOAD.iter_chunked(1000)] == []
    assert await EMPTY_PAYLOAD.read(1000) == b""
    assert EMPTY_PAYLOAD.get_read_buffer_limits() == (0, 0)
