"""The engine's response head as Python sees it (sans-I/O: bytes in, events out)."""

from aioclient import _core


def _head_of(wire: bytes):
    conn = _core.Connection()
    conn.send_request(_core.encode_head(b"GET", b"/", [(b"Host", b"example")], 1), None, False, False, False, True, None)
    events, _ = conn.receive(wire)
    return events


def test_headers_keep_bytes_order_and_decode_like_surrogateescape() -> None:
    events = _head_of(
        b"HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nX-B: \xff\xfeok\r\nx-a: second\r\nContent-Length: 0\r\n\r\n"
    )
    head = events[0]
    assert head.headers == [(b"X-A", b"caf\xc3\xa9"), (b"X-B", b"\xff\xfeok"), (b"x-a", b"second"), (b"Content-Length", b"0")]
    expected = [(k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")) for k, v in head.headers]
    assert head.decoded_headers() == expected
    assert expected[1] == ("X-B", "\udcff\udcfeok")


def test_trailers_of_a_chunked_body() -> None:
    events = _head_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 1\r\n\r\n")
    assert events[1] == b"hi"
    assert events[-1].trailers == [(b"X-Sum", b"1")]


def test_page_start_finds_the_first_page_boundary() -> None:
    # Reads go into a buffer from its first page boundary: a copy from the kernel's
    # page-aligned socket buffers to an address 16 bytes into a page ran several
    # times slower.
    import ctypes

    for size in (100, 5000, 300_000):
        buffer = bytearray(size)
        start = _core.page_start(buffer)
        address = ctypes.addressof((ctypes.c_char * 1).from_buffer(buffer))
        if start:
            assert (address + start) % 4096 == 0 and start < 4096
        else:
            assert address % 4096 == 0 or size <= 4096 - address % 4096
