"""httpbin (a real server we did not write) under waitress, in a thread, on 127.0.0.1."""

from __future__ import annotations

import socket
import threading

import pytest


@pytest.fixture(scope="module")
def httpbin_url():
    from httpbin import app
    from waitress.server import create_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    thread.join(5)
