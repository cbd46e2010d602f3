"""CookieJar rules (RFC 6265), without sockets."""

from __future__ import annotations

import json
import os
import stat
from http.cookies import SimpleCookie
from types import MappingProxyType

import pytest
from yarl import URL

from aioclient import CookieJar, DummyCookieJar
from aioclient.cookies import parse_set_cookie, parse_set_cookie_headers


def _jar(**kwargs) -> CookieJar:
    jar = CookieJar(**kwargs)
    jar._clock = lambda: 1_000_000.0  # a fixed "now"
    return jar


def _set(jar: CookieJar, header: str, url: str) -> None:
    jar.update_cookies_from_headers([header], URL(url))


def _sent(jar: CookieJar, url: str) -> dict:
    return {k: m.value for k, m in jar.filter_cookies(URL(url)).items()}


def test_host_only_vs_domain_cookies() -> None:
    jar = _jar()
    _set(jar, "host=1", "http://example.com/")
    _set(jar, "dom=2; Domain=example.com", "http://example.com/")
    assert _sent(jar, "http://example.com/") == {"host": "1", "dom": "2"}
    assert _sent(jar, "http://sub.example.com/") == {"dom": "2"}  # host-only never widened
    assert _sent(jar, "http://other.com/") == {}


def test_domain_must_match_and_not_be_public_suffix() -> None:
    jar = _jar()
    _set(jar, "a=1; Domain=other.com", "http://example.com/")
    _set(jar, "b=1; Domain=com", "http://example.com/")
    _set(jar, "c=1; Domain=co.uk", "http://example.co.uk/")
    assert len(jar) == 0


def test_path_matching_and_default_path() -> None:
    jar = _jar()
    _set(jar, "root=1; Path=/", "http://e.com/a/b")
    _set(jar, "dflt=1", "http://e.com/docs/page")  # default-path /docs
    assert _sent(jar, "http://e.com/docs") == {"root": "1", "dflt": "1"}
    assert _sent(jar, "http://e.com/docs/x") == {"root": "1", "dflt": "1"}
    assert _sent(jar, "http://e.com/docsx") == {"root": "1"}


def test_secure_cookies_only_over_https_or_trusted_origin() -> None:
    jar = _jar()
    _set(jar, "s=1; Secure", "https://e.com/")
    assert _sent(jar, "http://e.com/") == {}
    assert _sent(jar, "https://e.com/") == {"s": "1"}
    jar = _jar(treat_as_secure_origin="http://e.com")
    _set(jar, "s=1; Secure", "http://e.com/")
    assert _sent(jar, "http://e.com/") == {"s": "1"}


def test_expiry() -> None:
    jar = _jar()
    _set(jar, "gone=1; Max-Age=0", "http://e.com/")
    _set(jar, "old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://e.com/")
    _set(jar, "short=1; Max-Age=10", "http://e.com/")
    _set(jar, "wins=1; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://e.com/")
    assert _sent(jar, "http://e.com/") == {"short": "1", "wins": "1"}
    jar._clock = lambda: 1_000_050.0
    assert _sent(jar, "http://e.com/") == {"wins": "1"}
    _set(jar, "wins=1; Max-Age=-1", "http://e.com/")  # deletes
    assert len(jar) == 0


def test_ip_hosts_need_unsafe() -> None:
    jar = _jar()
    _set(jar, "a=1", "http://127.0.0.1/")
    assert len(jar) == 0
    jar = _jar(unsafe=True)
    _set(jar, "a=1", "http://127.0.0.1/")
    assert _sent(jar, "http://127.0.0.1/") == {"a": "1"}


def test_control_bytes_and_bounds() -> None:
    jar = _jar()
    _set(jar, "bad=a\x01b", "http://e.com/")
    assert len(jar) == 0
    jar.update_cookies_from_headers([f"c{i}=v" for i in range(80)], URL("http://e.com/"))
    assert len(jar) == 50  # at most 50 Set-Cookie per response
    jar = _jar()
    for batch in range(5):
        jar.update_cookies_from_headers([f"c{batch}_{i}=v" for i in range(50)], URL("http://e.com/"))
    assert len(jar) == 180  # per-domain bound
    assert len(jar.filter_cookies(URL("http://e.com/"))) == 150  # per-request bound
    jar = _jar()
    jar.update_cookies_from_headers([f"big{i}={'x' * 1000}" for i in range(20)], URL("http://e.com/"))
    header = "; ".join(f"{k}={m.coded_value}" for k, m in jar.filter_cookies(URL("http://e.com/")).items())
    assert len(header) <= 8190


def test_quoting() -> None:
    jar = _jar()
    jar.update_cookies({"q": "a b,c"}, URL("http://e.com/"))
    assert jar.filter_cookies(URL("http://e.com/"))["q"].coded_value == '"a b\\054c"'
    jar = _jar(quote_cookie=False)
    jar.update_cookies({"q": "a b,c"}, URL("http://e.com/"))
    assert jar.filter_cookies(URL("http://e.com/"))["q"].coded_value == "a b,c"


def test_shared_cookies_without_url() -> None:
    jar = _jar()
    jar.update_cookies({"shared": "1"})
    assert _sent(jar, "http://anything.example/") == {"shared": "1"}


def test_clear_clear_domain_iter_len() -> None:
    jar = _jar()
    _set(jar, "a=1; Domain=e.com", "http://e.com/")
    _set(jar, "b=1", "http://x.org/")
    assert {m.key for m in jar} == {"a", "b"}
    jar.clear_domain("e.com")
    assert {m.key for m in jar} == {"b"}
    jar.clear(lambda m: m.key == "b")
    assert len(jar) == 0


def test_save_and_load_keep_scope(tmp_path) -> None:
    jar = _jar()
    _set(jar, "host=1", "http://e.com/")
    _set(jar, "dom=1; Domain=e.com; Secure; HttpOnly; SameSite=Lax; Max-Age=100", "https://e.com/")
    path = tmp_path / "cookies.json"
    jar.save(path)
    assert path.read_text().startswith("{")  # JSON, not pickle
    loaded = _jar()
    loaded.load(path)
    assert _sent(loaded, "https://sub.e.com/") == {"dom": "1"}
    assert _sent(loaded, "https://e.com/") == {"host": "1", "dom": "1"}
    morsel = next(m for m in loaded if m.key == "dom")
    assert morsel["samesite"] == "Lax" and morsel["httponly"]
    with pytest.raises(ValueError):
        (tmp_path / "bad.json").write_text("[]")
        loaded.load(tmp_path / "bad.json")


def test_dummy_jar() -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"}, URL("http://e.com/"))
    assert len(jar) == 0
    assert jar.filter_cookies(URL("http://e.com/")) == SimpleCookie()


@pytest.mark.parametrize(
    "field, expected",
    [
        # (name, value, coded_value, attributes set); one cookie per Set-Cookie field.
        ("name=café", ("name", "café", "café", {})),
        ("a=1, b=2; Path=/", ("a", "1, b=2", "1, b=2", {"path": "/"})),
        ('a="x;y"; Path=/p', ("a", "x;y", '"x;y"', {"path": "/p"})),
        ('a="caf\\351"', ("a", "café", '"caf\\351"', {})),
        (" a = b ", ("a", "b", "b", {})),
        ("a=", ("a", "", "", {})),
        ("a[1]=2", ("a[1]", "2", "2", {})),
        ("path=1; Path=/x", ("path", "1", "1", {"path": "/x"})),
        ("a=1; Secure=false; HttpOnly; Foo=bar", ("a", "1", "1", {"secure": True, "httponly": True})),
        ("a=1; Path=/a; Path=/b", ("a", "1", "1", {"path": "/b"})),
        ("a=1;Max-Age=10;Expires=Wed, 21 Oct 2015 07:28:00 GMT;SameSite=Lax",
         ("a", "1", "1", {"max-age": "10", "expires": "Wed, 21 Oct 2015 07:28:00 GMT", "samesite": "Lax"})),
    ],
)
def test_parse_set_cookie(field, expected) -> None:
    morsel = parse_set_cookie(field)
    assert morsel is not None
    attrs = {k: v for k, v in morsel.items() if v}
    assert (morsel.key, morsel.value, morsel.coded_value, attrs) == expected


@pytest.mark.parametrize(
    "field",
    ["", "novalue", "=x", "a b=1", "a,b=1", 'a"b=1', "a=b\tc", "a=\x01", 'a="\\012"', "a=" + "x" * 5000],
)
def test_parse_set_cookie_ignores(field) -> None:
    assert parse_set_cookie(field) is None


def test_non_ascii_and_comma_values_are_stored_and_sent_back_quoted() -> None:
    jar = _jar()
    jar.update_cookies_from_headers(["name=café; Path=/", "a=1, b=2; Path=/"], URL("http://e.com/x"))
    assert sorted((m.key, m.value) for m in jar) == [("a", "1, b=2"), ("name", "café")]
    sent = jar.filter_cookies(URL("http://e.com/y"))
    # SimpleCookie quoting, as aiohttp sends them: octal escapes for "é" and ",".
    assert {k: m.coded_value for k, m in sent.items()} == {"name": '"caf\\351"', "a": '"1\\054 b=2"'}
    jar = _jar(quote_cookie=False)
    jar.update_cookies_from_headers(["name=café"], URL("http://e.com/"))
    assert jar.filter_cookies(URL("http://e.com/"))["name"].coded_value == "café"


def test_cookie_names_simplecookie_refuses_are_kept() -> None:
    jar = _jar()
    jar.update_cookies_from_headers(["a[1]=2", "path=3", "x=1; Path=/"], URL("http://e.com/"))
    assert _sent(jar, "http://e.com/") == {"a[1]": "2", "path": "3", "x": "1"}
    assert parse_set_cookie_headers([f"c{i}=v" for i in range(60)])[-1][0] == "c49"


# -- parity with aiohttp's CookieJar -----------------------------------------------


def _header(jar: CookieJar, url: str) -> str:
    return "; ".join(f"{k}={m.coded_value}" for k, m in jar.filter_cookies(URL(url)).items())


def test_save_creates_an_owner_only_file(tmp_path) -> None:
    jar = _jar()
    _set(jar, "session=SECRET", "https://e.com/")
    old = os.umask(0o022)
    try:
        jar.save(tmp_path / "cookies.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "cookies.json").st_mode) == 0o600


def test_update_cookies_keeps_more_than_fifty() -> None:
    jar = _jar()
    jar.update_cookies({f"c{i:02d}": "v" for i in range(60)})
    assert len(jar) == 60
    assert len(jar.filter_cookies(URL("http://e.com/"))) == 60
    # A response still sets at most 50 (RFC 6265 §6.1, as aiohttp).
    jar.update_cookies_from_headers([f"r{i}=v" for i in range(60)], URL("http://e.com/"))
    assert len(jar) == 110


def test_trailing_dot_domain_makes_a_host_only_cookie() -> None:
    jar = _jar()
    _set(jar, "a=1; Domain=example.com.", "http://example.com/")
    assert _sent(jar, "http://example.com/") == {"a": "1"}
    assert _sent(jar, "http://sub.example.com/") == {}
    assert jar.host_only_cookies == {("example.com", "", "a")}


def test_same_name_the_host_cookie_wins_over_a_parent_domain_long_path() -> None:
    jar = _jar()
    _set(jar, "n=domain; Domain=example.com; Path=/a", "http://sub.example.com/a/b")
    _set(jar, "n=host; Path=/", "http://sub.example.com/a/b")
    assert _header(jar, "http://sub.example.com/a/b") == "n=host"


def test_cookie_header_order_is_aiohttps() -> None:
    jar = _jar()
    jar.update_cookies_from_headers(["x=1; Path=/", "y=2; Path=/a", "z=3; Path=/a/b", "w=4; Path=/"],
                                    URL("http://example.com/a/b"))
    assert _header(jar, "http://example.com/a/b/c") == "x=1; w=4; y=2; z=3"
    jar = _jar()
    jar.update_cookies_from_headers(["a=1", "b=2; Path=/a", "c=3; Path=/a/"], URL("http://example.com/a/b/c"))
    assert _header(jar, "http://example.com/a") == "b=2"  # Path=/a/ is not for /a
    assert _header(jar, "http://example.com/a/b") == "b=2; c=3; a=1"


def test_path_with_and_without_trailing_slash_is_one_cookie() -> None:
    jar = _jar()
    _set(jar, "a=1; Path=/foo/", "http://example.com/")
    _set(jar, "a=2; Path=/foo", "http://example.com/")
    assert len(jar) == 1
    assert _sent(jar, "http://example.com/foo/bar") == {"a": "2"}


@pytest.mark.parametrize(
    "expires, kept",
    [
        ("Wed, 01-Jan-69 00:00:00 GMT", True),  # 2069
        ("Fri, 01-Jan-38 00:00:00 GMT", True),  # 2038
        ("Friday, 02-Jan-70 00:00:00 GMT", False),  # 1970
        ("Thu, 32 Jan 1970 00:00:00 GMT", True),  # no such day: ignored
        ("Tue, 01 Jan 1600 00:00:00 GMT", True),  # before 1601: ignored
        ("Sun, 06 Nov 1994 08:49:37 GMT", False),
        ("Thu, 01 Jan 1970 00:00:00 GMT", False),  # the usual way to delete a cookie
    ],
)
def test_expires_dates_are_read_as_aiohttp_reads_them(expires, kept) -> None:
    jar = CookieJar()  # now, not 1970
    _set(jar, f"a=1; Expires={expires}", "http://example.com/")
    assert _sent(jar, "http://example.com/") == ({"a": "1"} if kept else {})


def test_invalid_max_age_is_dropped_and_expires_not_consulted() -> None:
    jar = _jar()
    _set(jar, "a=1; Max-Age=abc; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "http://example.com/")
    assert _sent(jar, "http://example.com/") == {"a": "1"}
    assert next(iter(jar))["max-age"] == ""


def test_jar_properties_and_filter_cookies_default() -> None:
    jar = CookieJar(unsafe=True, treat_as_secure_origin="http://example.com")
    assert jar.unsafe is True and jar.quote_cookie is True
    assert jar.treat_as_secure_origin == frozenset({URL("http://example.com")})
    assert dict(jar.cookies) == {} and jar.host_only_cookies == frozenset()
    view = jar.cookies
    jar.update_cookies({"shared": "1"})
    jar.update_cookies_from_headers(["h=2; Path=/p/"], URL("http://example.com/"))
    assert set(view) == {("", ""), ("example.com", "/p")}  # a live view, keyed as aiohttp's
    assert view[("example.com", "/p")]["h"].value == "2"
    assert jar.host_only_cookies == frozenset({("example.com", "/p", "h")})
    assert list(jar.filter_cookies()) == ["shared"]
    assert isinstance(jar.cookies, MappingProxyType)
    dummy = DummyCookieJar()
    assert dummy.unsafe is False and dummy.treat_as_secure_origin == frozenset()
    assert dict(dummy.cookies) == {} and dummy.host_only_cookies == frozenset()


def test_iteration_keeps_the_attributes_as_received() -> None:
    jar = _jar()
    _set(jar, "a=1; Max-Age=100; HttpOnly; SameSite=Lax", "https://example.com/x")
    morsel = next(iter(jar))
    assert {k: v for k, v in morsel.items() if v} == {
        "path": "/", "domain": "example.com", "max-age": "100", "httponly": True, "samesite": "Lax"
    }


def test_load_replaces_the_contents(tmp_path) -> None:
    jar = _jar()
    _set(jar, "a=1", "http://example.com/")
    jar.save(tmp_path / "c.json")
    other = _jar()
    other.update_cookies({"stale": "x"})
    view = other.cookies
    other.load(tmp_path / "c.json")
    assert sorted(m.key for m in other) == ["a"]
    assert set(view) == {("example.com", "")}
    (tmp_path / "bad.json").write_text('{"x": 1}')
    with pytest.raises(ValueError):
        other.load(tmp_path / "bad.json")
    assert sorted(m.key for m in other) == ["a"]  # unchanged
    (tmp_path / "pickle").write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="pickle"):
        other.load(tmp_path / "pickle")


async def test_files_interoperate_with_aiohttp(tmp_path) -> None:
    aiohttp = pytest.importorskip("aiohttp")
    headers = ["host=1; Max-Age=1000", "dom=2; Domain=example.com; Path=/p; Secure; HttpOnly", "old=3"]
    ours = CookieJar()
    ours.update_cookies_from_headers(headers, URL("https://example.com/"))
    theirs = aiohttp.CookieJar()
    theirs.update_cookies_from_headers(headers, URL("https://example.com/"))
    ours.save(tmp_path / "ours.json")
    theirs.save(tmp_path / "theirs.json")
    assert json.loads((tmp_path / "ours.json").read_text()).keys() == json.loads((tmp_path / "theirs.json").read_text()).keys()
    for url in ("https://example.com/p/q", "https://sub.example.com/p", "http://example.com/"):
        from_theirs, from_ours = CookieJar(), aiohttp.CookieJar()
        from_theirs.load(tmp_path / "theirs.json")
        from_ours.load(tmp_path / "ours.json")
        expected = _header(theirs, url)
        assert _header(from_theirs, url) == expected
        assert "; ".join(f"{k}={m.coded_value}" for k, m in from_ours.filter_cookies(URL(url)).items()) == expected
