"""The public surface: aioclient exports aiohttp's client names (and only real objects)."""

import aiohttp

import aioclient

# aiohttp names that are not part of a client API (server workers, internal queues,
# streaming helpers), or that we deliberately leave out. (aiohttp's
# parse_content_disposition returns a (type, params) pair; ours, in aioclient.helpers,
# is the ContentDisposition of ClientResponse.content_disposition.)
NOT_CLIENT = {
    "GunicornUVLoopWebWorker",
    "GunicornWebWorker",
    "DataQueue",
    "FlowControlDataQueue",
    "EofStream",
    "ChainMapProxy",
    "content_disposition_filename",
    "parse_content_disposition",
    "streamer",
    "payload_type",
    "PAYLOAD_REGISTRY",
    "set_zlib_backend",
    "ETag",
    "AddrInfoType",
    "StringIOPayload",
    "UploadTracker",
    "UploadAbortedError",
}


def test_every_aiohttp_client_name_is_exported() -> None:
    missing = sorted(set(aiohttp.__all__) - NOT_CLIENT - set(aioclient.__all__))
    assert missing == []


def test_all_names_resolve() -> None:
    for name in aioclient.__all__:
        assert getattr(aioclient, name) is not None, name


def test_spec_names() -> None:
    assert aioclient.FingerprintMismatch is aioclient.ServerFingerprintMismatch
    assert issubclass(aioclient.ClientConnectorCertificateError, aioclient.ClientConnectorSSLError)
    from aioclient.resolver import AsyncResolver  # noqa: F401  (the spec's import path)


def test_hdrs_matches_aiohttp() -> None:
    from multidict import CIMultiDict, istr

    from aioclient import hdrs

    theirs = {name: getattr(aiohttp.hdrs, name) for name in dir(aiohttp.hdrs) if name.isupper()}
    ours = {name: getattr(hdrs, name) for name in dir(hdrs) if name.isupper()}
    assert ours == theirs
    assert {name for name, value in ours.items() if isinstance(value, istr)} == {
        name for name, value in theirs.items() if isinstance(value, istr)
    }
    assert hdrs.METH_ALL == {"CONNECT", "HEAD", "GET", "DELETE", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
    assert CIMultiDict({"content-type": "text/plain"})[hdrs.CONTENT_TYPE] == "text/plain"
    assert aioclient.hdrs is hdrs


def test_the_abc_module_is_reachable_from_the_package() -> None:
    # aiohttp users write custom resolvers and jars as ``aiohttp.abc.AbstractResolver``.
    assert aioclient.abc.AbstractResolver is aioclient.resolver.AbstractResolver
    assert aioclient.abc.AbstractCookieJar is aioclient.AbstractCookieJar
