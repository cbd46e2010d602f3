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
