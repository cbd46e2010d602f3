"""The exception classes against aiohttp's: constructors, attributes, str() and pickling."""

from __future__ import annotations

import pickle

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import aioclient


def _request_info() -> aioclient.RequestInfo:
    return aioclient.RequestInfo(URL("http://h/p"), "GET", CIMultiDictProxy(CIMultiDict()), URL("http://h/p#f"))


def test_client_response_error_takes_the_deprecated_code() -> None:
    with pytest.warns(DeprecationWarning, match="code argument is deprecated"):
        exc = aioclient.ClientResponseError(_request_info(), (), code=500)
    assert exc.status == 500
    assert str(exc) == "500, message='', url='http://h/p#f'"
    with pytest.raises(ValueError, match="Both code and status arguments are provided"):
        aioclient.ClientResponseError(_request_info(), (), code=500, status=404)
    with pytest.warns(DeprecationWarning, match="code property is deprecated"):
        exc.code = 502
    assert exc.status == 502


@pytest.mark.parametrize(
    "exc",
    [
        aioclient.ServerDisconnectedError(),
        aioclient.ClientPayloadError("Response payload is not completed"),
        aioclient.InvalidUrlRedirectClientError(URL("https://"), "Invalid redirect URL origin"),
        aioclient.NonHttpUrlRedirectClientError("ftp://x"),
        aioclient.ServerFingerprintMismatch(b"a", b"b", "h", 443),
        aioclient.SocketTimeoutError("Timeout on reading data from socket"),
    ],
)
def test_pickling_keeps_type_and_text(exc: Exception) -> None:
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert (str(copy), copy.args) == (str(exc), exc.args)


def test_connection_key_repr_shows_aiohttps_fields() -> None:
    """Connection errors show their ConnectionKey in repr() and args: aiohttp's fields,
    and ours (tunnel, proxy_headers) only when they are set."""
    from aioclient.connector import ConnectionKey

    key = ConnectionKey("h", 80, False, True, None, None, None)
    exc = aioclient.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert repr(exc) == (
        "ClientConnectorError(ConnectionKey(host='h', port=80, is_ssl=False, ssl=True, proxy=None, "
        "proxy_auth=None, proxy_headers_hash=None, server_hostname=None), ConnectionRefusedError(111, 'refused'))"
    )
    tunnelled = key._replace(tunnel=True, proxy_headers=(("X", "1"),))
    assert repr(tunnelled).endswith("server_hostname=None, tunnel=True, proxy_headers=(('X', '1'),))")
