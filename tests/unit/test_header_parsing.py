"""Header-value parsers behind ClientResponse (Content-Disposition, Link, Content-Type).

Expected values are what aiohttp 3.14.5's client gives, except where noted as a deliberate
difference (an aiohttp defect); no sockets here.
"""

from __future__ import annotations

import warnings

import pytest
from yarl import URL

from aioclient.helpers import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    parse_content_disposition,
    parse_content_type,
    parse_links,
    parse_mimetype,
)


def _disposition(header):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cd = parse_content_disposition(header)
    return (cd.type, dict(cd.parameters), cd.filename), [(type(w.message), str(w.message)) for w in caught]


@pytest.mark.parametrize(
    "header, expected",
    [
        # RFC 5987/8187: percent-decoded in the declared charset, kept under "filename*".
        ("attachment; filename*=UTF-8''%e2%82%ac%20rates.txt",
         ("attachment", {"filename*": "€ rates.txt"}, "€ rates.txt")),
        ("attachment; filename*=iso-8859-1''%e9.txt", ("attachment", {"filename*": "é.txt"}, "é.txt")),
        ("attachment; Filename*=UTF-8'en'%c3%a9", ("attachment", {"filename*": "é"}, "é")),
        # filename* wins over filename (RFC 6266 §4.3); both stay in the parameters.
        ("attachment; filename=\"fallback.txt\"; filename*=UTF-8''real.txt",
         ("attachment", {"filename": "fallback.txt", "filename*": "real.txt"}, "real.txt")),
        ('ATTACHMENT; FileName="x.txt"', ("attachment", {"filename": "x.txt"}, "x.txt")),
        ('inline; filename="a"; size=10', ("inline", {"filename": "a", "size": "10"}, "a")),
        ('attachment; filename="a;b.txt"', ("attachment", {"filename": "a;b.txt"}, "a;b.txt")),
        ('attachment; filename="a\\"b.txt"', ("attachment", {"filename": 'a"b.txt'}, 'a"b.txt')),
        ('attachment; filename="/etc/passwd"', ("attachment", {"filename": "etc/passwd"}, "etc/passwd")),
        ('attachment; filename="café.txt"', ("attachment", {"filename": "café.txt"}, "café.txt")),
        ('attachment; filename=""', ("attachment", {"filename": ""}, "")),
        ("attachment", ("attachment", {}, None)),
        ("", (None, {}, None)),
        # RFC 2231 continuations, joined in order and decoded once.
        ('attachment; filename*0="foo"; filename*1="bar"',
         ("attachment", {"filename*0": "foo", "filename*1": "bar"}, "foobar")),
        ("attachment; filename*0*=UTF-8''%e2%82%ac; filename*1*=%20x",
         ("attachment", {"filename*0*": "UTF-8''%e2%82%ac", "filename*1*": "%20x"}, "€ x")),
        ("attachment; filename*0=a; filename*2=c", ("attachment", {"filename*0": "a", "filename*2": "c"}, "a")),
        # Deliberate differences from aiohttp, which rejects the first two and raises on
        # the third: ";" in a quoted value, space before ";", an apostrophe in a segment.
        ('attachment; filename="a;b;c.txt"', ("attachment", {"filename": "a;b;c.txt"}, "a;b;c.txt")),
        ("attachment; filename=x.txt ; size=1", ("attachment", {"filename": "x.txt", "size": "1"}, "x.txt")),
        ("attachment; filename*0=\"it's\"; filename*1=x",
         ("attachment", {"filename*0": "it's", "filename*1": "x"}, "it'sx")),
    ],
)
def test_content_disposition(header, expected) -> None:
    assert _disposition(header) == (expected, [])


@pytest.mark.parametrize(
    "header",
    [
        "attachment; filename=",
        "attachment; filename=foo bar.txt",
        "attachment; filename=café.txt",
        "attachment; filename=a; filename=b",
        "attachment; x",
        "attach ment; filename=x",
        'attachment; filename="abc',
        "  ",
    ],
)
def test_malformed_content_disposition_is_ignored_with_a_warning(header) -> None:
    assert _disposition(header) == ((None, {}, None), [(BadContentDispositionHeader, header)])


@pytest.mark.parametrize(
    "header, param",
    [
        ("attachment; filename*=UTF-8''%e9.txt", " filename*=UTF-8''%e9.txt"),  # not UTF-8
        ("attachment; filename*=''%e9.txt", " filename*=''%e9.txt"),  # no charset: UTF-8
        ("attachment; filename*=nosuchcharset''%e9", " filename*=nosuchcharset''%e9"),
        ("attachment; filename*=a.txt", " filename*=a.txt"),
        ("attachment; file name=x", " file name=x"),
        ("attachment; filename*0=a b", " filename*0=a b"),
    ],
)
def test_bad_content_disposition_param_is_dropped_with_a_warning(header, param) -> None:
    assert _disposition(header) == (("attachment", {}, None), [(BadContentDispositionParam, param)])


def test_empty_content_disposition_params_warn_but_are_skipped() -> None:
    header = 'attachment; filename="x";;'
    assert _disposition(header) == (
        ("attachment", {"filename": "x"}, "x"),
        [(BadContentDispositionHeader, header), (BadContentDispositionHeader, header)],
    )
    assert issubclass(BadContentDispositionHeader, RuntimeWarning)
    assert issubclass(BadContentDispositionParam, RuntimeWarning)


BASE = URL("http://base.example/dir/page")


def _links(*values):
    return [(rel, dict(link)) for rel, link in parse_links(values, BASE).items()]


@pytest.mark.parametrize(
    "values, expected",
    [
        (['<http://e.com/p2>; title="a, b"; rel="next"'],
         [("next", {"title": "a, b", "rel": "next", "url": URL("http://e.com/p2")})]),
        (['<http://e.com/p2>; rel="next", <http://e.com/p1>; rel=prev'],
         [("next", {"rel": "next", "url": URL("http://e.com/p2")}),
          ("prev", {"rel": "prev", "url": URL("http://e.com/p1")})]),
        (["<http://e.com/p2>; rel=next", '</p3>; rel="last"'],
         [("next", {"rel": "next", "url": URL("http://e.com/p2")}),
          ("last", {"rel": "last", "url": URL("http://base.example/p3")})]),
        (["<http://e.com/a,b>; rel=next"], [("next", {"rel": "next", "url": URL("http://e.com/a,b")})]),
        (['<http://e.com/a>; title="a, <b>"; rel=next'],
         [("next", {"title": "a, <b>", "rel": "next", "url": URL("http://e.com/a")})]),
        (["<http://e.com/a>; rel='next'"], [("next", {"rel": "next", "url": URL("http://e.com/a")})]),
        (["<http://e.com/a>; rel = next; crossorigin"], [("next", {"rel": "next", "url": URL("http://e.com/a")})]),
        (["<http://e.com/a>; REL=next"], [("http://e.com/a", {"REL": "next", "url": URL("http://e.com/a")})]),
        (["<rel>"], [("rel", {"url": URL("http://base.example/dir/rel")})]),
        (["garbage", ""], []),
        # Deliberate differences from aiohttp: ";" inside a quoted value and quoted-pairs
        # (RFC 9110 §5.6.4) are honoured; aiohttp gives '"x' and 'q\\"x'.
        (['<http://e.com/a>; title="x; y"; rel=next'],
         [("next", {"title": "x; y", "rel": "next", "url": URL("http://e.com/a")})]),
        (['<http://e.com/a>;rel=next;title="q\\"x"'],
         [("next", {"rel": "next", "title": 'q"x', "url": URL("http://e.com/a")})]),
    ],
)
def test_links(values, expected) -> None:
    assert _links(*values) == expected


@pytest.mark.parametrize(
    "raw, content_type, charset",
    [
        ("", "application/octet-stream", None),
        ("weird", "application/octet-stream", None),
        ("weird; charset=utf-8", "application/octet-stream", "utf-8"),
        ("*", "application/octet-stream", None),
        ("a/b/c", "application/octet-stream", None),
        ("text/html; charset=", "text/html", ""),
        ("TEXT/HTML; Charset=UTF-8", "text/html", "UTF-8"),
        ('text/html;charset="utf-8"', "text/html", "utf-8"),
        ("text/html; charset = utf-8", "text/html", "utf-8"),
        ("text/html ; charset=utf-8; charset=latin-1", "text/html", "utf-8"),
        ("application/ld+json; charset=utf-8", "application/ld+json", "utf-8"),
        ('multipart/form-data; boundary="--a;b"', "multipart/form-data", None),
        ("*/*", "*/*", None),
    ],
)
def test_content_type(raw, content_type, charset) -> None:
    ctype, params = parse_content_type(raw)
    assert (ctype, params.get("charset")) == (content_type, charset)


def test_mimetype_parameters_respect_quotes() -> None:
    assert parse_mimetype('multipart/form-data; boundary="--a;b"').parameters["boundary"] == "--a;b"
    assert parse_mimetype('text/plain; title="a\\"b"').parameters["title"] == 'a"b'
    assert parse_mimetype('text/plain; charset="utf-8').parameters["charset"] == "utf-8"
