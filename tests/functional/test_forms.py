"""Forms and multipart bodies, read back by aiohttp.web's own form parser."""

from __future__ import annotations

import io

from aiohttp import web

import aioclient


async def _form_app() -> web.Application:
    async def form(request: web.Request) -> web.Response:
        data = await request.post()
        out = {}
        for name, value in data.items():
            if isinstance(value, web.FileField):
                out[name] = {"filename": value.filename, "type": value.content_type, "body": value.file.read().decode()}
            elif isinstance(value, (bytes, bytearray)):
                out[name] = bytes(value).decode()  # a part with a non-text content type
            else:
                out[name] = value
        return web.json_response({"content_type": request.content_type, "chunked": request.headers.get("Transfer-Encoding"), "fields": out})

    app = web.Application()
    app.router.add_post("/form", form)
    return app


async def test_formdata_urlencoded_and_multipart(aiohttp_server, tmp_path) -> None:
    server = await aiohttp_server(await _form_app())
    upload = tmp_path / "report.csv"
    upload.write_text("a,b\n1,2\n")
    async with aioclient.ClientSession() as session:
        form = aioclient.FormData({"name": "Zoë", "n": "1"})
        async with session.post(server.make_url("/form"), data=form) as r:
            seen = await r.json()
        assert seen["content_type"] == "application/x-www-form-urlencoded"
        assert seen["fields"] == {"name": "Zoë", "n": "1"}

        form = aioclient.FormData()
        form.add_field("title", "quarterly")
        with open(upload, "rb") as f:
            form.add_field("file", f, filename="report.csv", content_type="text/csv")
            form.add_field("inline", io.BytesIO(b"bytes here"), filename="b.bin")
            async with session.post(server.make_url("/form"), data=form) as r:
                seen = await r.json()
        assert seen["content_type"] == "multipart/form-data"
        assert seen["fields"]["title"] == "quarterly"
        assert seen["fields"]["file"] == {"filename": "report.csv", "type": "text/csv", "body": "a,b\n1,2\n"}
        assert seen["fields"]["inline"]["body"] == "bytes here"


async def test_multipart_writer(aiohttp_server) -> None:
    server = await aiohttp_server(await _form_app())
    async with aioclient.ClientSession() as session:
        with aioclient.MultipartWriter("form-data") as mp:
            part = mp.append("value")
            part.set_content_disposition("form-data", name="field")
            part = mp.append_json({"k": 1})
            part.set_content_disposition("form-data", name="doc")
            async with session.post(server.make_url("/form"), data=mp) as r:
                seen = await r.json()
    assert seen["fields"]["field"] == "value"
    assert seen["fields"]["doc"] == '{"k": 1}'


async def test_a_middleware_can_decode_any_replayable_body(aiohttp_server, tmp_path) -> None:
    # A logging middleware's ``request.body.decode()`` (aiohttp's Payload.decode) works
    # for files, forms and multipart bodies, and what it reads is what the server gets.
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/echo", echo)
    server = await aiohttp_server(app)
    upload = tmp_path / "notes.txt"
    upload.write_text("line one\nline two\n")
    logged = []

    async def log_body(request: aioclient.ClientRequest, handler):
        logged.append(request.body.decode("latin-1"))  # the deflated part is not UTF-8
        return await handler(request)

    def bodies():
        yield open(upload, "rb")
        yield io.BytesIO(b"in memory")
        form = aioclient.FormData({"a": "1"})
        form.add_field("file", open(upload, "rb"))
        yield form
        writer = aioclient.MultipartWriter("mixed")
        writer.append("plain")
        writer.append("encoded", {"Content-Transfer-Encoding": "base64"})
        writer.append(io.BytesIO(b"zz"), {"Content-Encoding": "deflate"})
        nested = aioclient.MultipartWriter("related")
        nested.append_json({"k": "v"})
        writer.append(nested)
        yield writer

    async with aioclient.ClientSession(middlewares=(log_body,)) as session:
        for data in bodies():
            async with session.post(server.make_url("/echo"), data=data) as r:
                received = await r.read()
            assert logged.pop() == received.decode("latin-1")
        assert b'{"k": "v"}' in received  # the last body was the whole writer, nested one included

        async def stream():
            yield b"once"

        try:
            async with session.post(server.make_url("/echo"), data=stream()):
                raise AssertionError("decode() of a one-pass body must fail")
        except TypeError as exc:
            assert "Unable to decode AsyncIterablePayload" in str(exc)


async def test_a_payload_subclass_written_for_aiohttp_is_sent(aiohttp_server) -> None:
    # aiohttp's Payload subclasses implement ``async def write(self, writer)``; one ported
    # as it is streams its writes, alone or as a multipart part.
    async def echo(request: web.Request) -> web.Response:
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            part = await reader.next()
            return web.json_response({"type": part.headers["Content-Type"], "body": (await part.read()).decode()})
        return web.json_response({"type": request.content_type, "body": (await request.read()).decode()})

    app = web.Application()
    app.router.add_post("/echo", echo)
    server = await aiohttp_server(app)

    class Lines(aioclient.payload.Payload):
        def __init__(self, lines, fail: bool = False) -> None:
            super().__init__(lines, content_type="text/x-lines")
            self.fail = fail

        async def write(self, writer) -> None:
            for line in self._value:
                await writer.write(line.encode() + b"\n")
                if self.fail:
                    raise RuntimeError("the source broke")
            await writer.write_eof(b"end\n")

    lines = [f"line {i}" * 1000 for i in range(20)]  # over a megabyte, in 20 writes
    expected = "".join(f"{line}\n" for line in lines) + "end\n"
    async with aioclient.ClientSession() as session:
        async with session.post(server.make_url("/echo"), data=Lines(lines)) as r:
            assert await r.json() == {"type": "text/x-lines", "body": expected}
        writer = aioclient.MultipartWriter("mixed")
        writer.append(Lines(lines))
        async with session.post(server.make_url("/echo"), data=writer) as r:
            assert await r.json() == {"type": "text/x-lines", "body": expected}
        try:
            async with session.post(server.make_url("/echo"), data=Lines(lines, fail=True)):
                raise AssertionError("a failing payload must fail the request")
        except aioclient.ClientConnectionError as exc:
            assert "the source broke" in str(exc)


async def test_a_body_serialised_by_hand_with_aiohttps_write(aiohttp_server) -> None:
    # aiohttp code serialises a payload itself with ``await payload.write(writer)`` (or
    # ``write_with_length``, ``as_bytes(encoding, errors)``), e.g. to sign it first.
    server = await aiohttp_server(await _form_app())

    class Sink:
        def __init__(self) -> None:
            self.data = bytearray()

        async def write(self, chunk: bytes) -> None:
            self.data += chunk

    form = aioclient.FormData()
    form.add_field("title", "signed")
    form.add_field("file", io.BytesIO(b"file body"), filename="f.txt", content_type="text/plain")
    writer = form()
    sink = Sink()
    await writer.write(sink)
    assert bytes(sink.data) == await writer.as_bytes("utf-8", "strict")
    unclosed = Sink()
    await writer.write(unclosed, close_boundary=False)
    assert bytes(sink.data) == bytes(unclosed.data) + f"--{writer.boundary}--\r\n".encode()
    head = Sink()
    await aioclient.payload.BytesPayload(b"0123456789").write_with_length(head, 4)
    assert bytes(head.data) == b"0123"
    async with aioclient.ClientSession() as session:
        headers = {"Content-Type": writer.content_type}
        async with session.post(server.make_url("/form"), data=bytes(sink.data), headers=headers) as r:
            seen = await r.json()
    assert seen["fields"] == {"title": "signed", "file": {"filename": "f.txt", "type": "text/plain", "body": "file body"}}
