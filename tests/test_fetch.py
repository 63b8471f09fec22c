"""The fetcher and crawler against real loopback servers that misbehave."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Site
from monitor.crawl import crawl
from monitor.fetch import Fetcher, FetchError
from monitor.politeness import Politeness, PoliteSettings, retry_after_seconds
from tests.conftest import POLL, Served, serve

ARTICLE = "<html><body><article>" + "<p>A paragraph of ordinary article text that goes on for a while.</p>" * 5


class Misbehaving(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {"content-type": "text/html; charset=utf-8"}).items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up first (timeout tests)
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/ok":
            links = '<a href="/missing">x</a><a href="/boom">y</a>'
            self._send(200, (ARTICLE + links + "</article></body></html>").encode())
        elif path == "/missing":
            self._send(404, b"gone")
        elif path == "/boom":
            self._send(500, b"error")
        elif path == "/huge-declared":
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(50_000_000))
            self.end_headers()
        elif path == "/endless":
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            try:
                for _ in range(10_000):
                    self.wfile.write(b"<p>" + b"x" * 1000 + b"</p>")
            except OSError:
                pass
        elif path == "/slow":
            time.sleep(3)
            self._send(200, b"late")
        elif path == "/to-file":
            self._send(302, b"", {"location": "file:///etc/hostname"})
        elif path.startswith("/loop"):
            self._send(302, b"", {"location": "/loop" + str(len(path))})
        elif path.startswith("/chain"):  # every hop a new URL
            self._send(302, b"", {"location": f"/chain{int(path[6:] or 0) + 1}"})
        elif path == "/empty":
            self._send(200, b"")
        elif path == "/cp1252":
            self._send(200, ARTICLE.replace("ordinary", "café “quoted”").encode("cp1252") + b"</article>",
                       {"content-type": "text/html"})
        elif path == "/429-superscript":
            self._send(429, b"", {"retry-after": "\u00b2"})
        elif path == "/bad-location":
            self._send(302, b"", {"location": "http://[::1"})
        elif path == "/redir-missing":
            self._send(302, b"", {"location": "/missing"})
        elif path == "/redir-twice":
            self._send(301, b"", {"location": "/redir-missing"})
        elif path == "/redir-ok":
            self._send(302, b"", {"location": "/ok"})
        elif path == "/redir-other-host":
            port = self.server.server_address[1]
            self._send(302, b"", {"location": f"http://127.0.0.2:{port}/ok"})
        elif path == "/image":
            self._send(200, b"\x89PNG....", {"content-type": "image/png"})
        else:
            self._send(404, b"")


@pytest.fixture
def bad_server() -> Iterator[Served]:
    s = serve(Misbehaving)
    yield s
    s.stop()


def fetcher(**kw: Any) -> Fetcher:
    return Fetcher("provmon-test", timeout=kw.pop("timeout", 1.0), max_bytes=kw.pop("max_bytes", 100_000), **kw)


def test_ok_page(bad_server: Served) -> None:
    with fetcher() as f:
        r = f.fetch(bad_server.base + "/ok", allow_private=True)
    assert r.ok and r.status == 200 and len(r.sha256) == 64


def test_declared_size_over_cap(bad_server: Served) -> None:
    with fetcher() as f, pytest.raises(FetchError, match=r"exceeds fetch\.max_bytes") as e:
        f.fetch(bad_server.base + "/huge-declared", allow_private=True)
    assert "/huge-declared" in str(e.value)


def test_endless_stream_is_cut_at_cap(bad_server: Served) -> None:
    with fetcher() as f, pytest.raises(FetchError, match=r"exceeds fetch\.max_bytes"):
        f.fetch(bad_server.base + "/endless", allow_private=True)


def test_slow_server_times_out(bad_server: Served) -> None:
    with fetcher(timeout=0.5) as f, pytest.raises(FetchError, match="timed out"):
        f.fetch(bad_server.base + "/slow", allow_private=True)


def test_redirect_loop_is_bounded(bad_server: Served) -> None:
    """The error names where the chain went: its last hop, or the URL a loop comes back to, and the key."""
    with fetcher(max_redirects=3) as f, pytest.raises(FetchError) as loop:
        f.fetch(bad_server.base + "/loop", allow_private=True)  # /loop, /loop5, /loop6, /loop6, ...
    assert f"more than 3 redirects (a loop through {bad_server.base}/loop6; fetch.max_redirects)" in str(loop.value)
    with fetcher(max_redirects=3) as f, pytest.raises(FetchError) as chain:
        f.fetch(bad_server.base + "/chain", allow_private=True)
    assert f"more than 3 redirects (the last to {bad_server.base}/chain4; fetch.max_redirects)" in str(chain.value)


def test_redirect_to_a_local_file_is_refused(bad_server: Served) -> None:
    with fetcher() as f, pytest.raises(FetchError, match=r"refused: redirect to a local file \(file:///etc/hostname\)"):
        f.fetch(bad_server.base + "/to-file", allow_private=True)


def test_private_address_refused_by_default(bad_server: Served) -> None:
    with fetcher() as f, pytest.raises(FetchError, match="private, loopback or link-local"):
        f.fetch(bad_server.base + "/ok")


def test_unsupported_scheme() -> None:
    with fetcher() as f, pytest.raises(FetchError, match="unsupported URL scheme 'ftp'"):
        f.fetch("ftp://127.0.0.1/x", allow_private=True)


def test_crawl_reports_errors_and_keeps_going(bad_server: Served) -> None:
    site = Site(name="bad", start_urls=(bad_server.base + "/ok",), allow_private=True)
    with fetcher() as f:
        items = {i.url.rsplit("/", 1)[1]: i for i in crawl(f, site, [bad_server.base + "/ok",
                                                                      bad_server.base + "/cp1252",
                                                                      bad_server.base + "/empty",
                                                                      bad_server.base + "/image",
                                                                      bad_server.base + "/endless"],
                                                          polite=PoliteSettings(min_delay=0))}
    assert items["ok"].page is not None and "ordinary article text" in items["ok"].page.text
    assert items["missing"].error == "HTTP 404"
    assert items["boom"].error == "HTTP 500"
    assert "café “quoted”" in items["cp1252"].page.text  # no charset given: sniffed as cp1252
    assert items["empty"].page is not None and items["empty"].page.text == ""
    assert items["image"].page is None and "content type image/png" in items["image"].error
    assert "exceeds" in items["endless"].error


def test_file_urls(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>hello</p>")
    with fetcher() as f:
        assert f.fetch((tmp_path / "a.html").as_uri()).body == b"<p>hello</p>"
        assert f.fetch((tmp_path / "nope.html").as_uri()).status == 404


def test_retry_after_with_a_non_ascii_digit_is_ignored() -> None:
    assert "²".isdigit()  # str.isdigit() says yes; float() says no
    assert retry_after_seconds("²") is None
    assert retry_after_seconds("٣") is None  # Arabic-Indic three
    assert retry_after_seconds(" 7 ") == 7.0


def test_429_with_a_non_ascii_retry_after_is_retried(bad_server: Served) -> None:
    with fetcher() as f:
        r = Politeness(f, "t", PoliteSettings(min_delay=0, max_retries=1, backoff=0.01)).fetch(
            bad_server.base + "/429-superscript", allow_private=True)
    assert r.status == 429


@pytest.mark.parametrize("url", ["https://[example.com/", "http://[::1", "http://[::1/x",
                                 "http://127.0.0.1:9/a\nb", "http://ex\x00ample.com/"])
def test_malformed_url_is_a_fetch_error_naming_it(url: str) -> None:
    with fetcher() as f, pytest.raises(FetchError) as e:
        f.fetch(url, allow_private=True)
    assert e.value.url == url and str(e.value).startswith(url + ": ") and "invalid URL" in e.value.reason


def test_redirect_to_a_malformed_url_is_a_fetch_error(bad_server: Served) -> None:
    with fetcher() as f, pytest.raises(FetchError, match=r"redirect to an invalid URL") as e:
        f.fetch(bad_server.base + "/bad-location", allow_private=True)
    assert not e.value.transient  # the server would send the same Location again: not worth retrying


def test_crawl_records_a_malformed_start_url_and_goes_on(bad_server: Served) -> None:
    site = Site(name="bad", start_urls=("https://[example.com/",), allow_private=True)
    with fetcher() as f:
        items = {i.url: i for i in crawl(f, site, ["https://[example.com/", bad_server.base + "/ok"],
                                          polite=PoliteSettings(min_delay=0))}
    assert "invalid URL" in items["https://[example.com/"].error
    assert items[bad_server.base + "/ok"].page is not None


def test_huge_local_file_is_refused_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.html"
    with big.open("wb") as fh:
        fh.truncate(3 * 1024 ** 3)  # sparse: 3 GB that take no disk
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read the whole file"))
    with fetcher(max_bytes=100_000) as f, pytest.raises(FetchError) as e:
        f.fetch(big.as_uri())
    assert "exceeds fetch.max_bytes (100000)" in e.value.reason and "big.html" in str(e.value)


def test_local_file_at_the_limit_is_read(tmp_path: Path) -> None:
    exact = tmp_path / "exact.html"
    exact.write_bytes(b"x" * 100_000)
    with fetcher(max_bytes=100_000) as f:
        assert f.fetch(exact.as_uri()).body == b"x" * 100_000


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_local_file_reports_the_os_error(tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("<p>x</p>")
    secret.chmod(0)
    with fetcher() as f, pytest.raises(FetchError) as e:
        f.fetch(secret.as_uri())
    assert "HTTP" not in str(e.value) and "permission denied" in e.value.reason.lower()
    assert str(secret) in e.value.reason


def test_local_symlink_loop_reports_the_os_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.html"
    loop.symlink_to(loop)  # an OS error even root gets
    with fetcher() as f, pytest.raises(FetchError) as e:
        f.fetch(loop.as_uri())
    assert "HTTP" not in str(e.value) and e.value.reason == f"cannot read {loop}: Too many levels of symbolic links"


def test_local_directory_without_index_reports_the_os_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "index.html").mkdir()  # exists but cannot be read as a file
    with fetcher() as f, pytest.raises(FetchError) as e:
        f.fetch((tmp_path / "d").as_uri())
    assert "HTTP" not in str(e.value) and "is a directory" in e.value.reason.lower()


def test_local_file_name_that_is_not_utf8_is_read(tmp_path: Path) -> None:
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/odd\xff.html"))
    try:
        odd.write_text("<p>odd</p>")
    except (OSError, UnicodeEncodeError):
        pytest.skip("file system refuses non-UTF-8 names")
    with fetcher() as f:
        r = f.fetch(odd.as_uri())
    assert r.status == 200 and r.body == b"<p>odd</p>"


def test_missing_local_file_is_still_404_naming_it(tmp_path: Path) -> None:
    with fetcher() as f:
        r = f.fetch((tmp_path / "nope.html").as_uri())
    assert r.status == 404 and str(tmp_path / "nope.html") in r.body.decode()


@pytest.mark.parametrize(("ctype", "body", "textual"), [
    ("text/html; charset=utf-8", b"<p>x</p>", True),
    ("application/xhtml+xml", b"<p>x</p>", True),
    ("text/plain", b"words", True),
    ("application/rss+xml", b"<rss/>", True),
    ("image/svg+xml", b"<svg/>", False),
    ("", b"<p>x</p>", True),
    ("", b"\x89PNG\r\n\x1a\n\x00\x00", False),
    ("text/html", b"%PDF-1.4\n\x00\x01", False),
    ("text/html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", False),  # a PDF's first KB may hold no NUL
    ("application/pdf", b"%PDF-1.4\n", False),
    ("image/png", b"", False),
    ("application/octet-stream", b"<p>x</p>", False),
    ("text/html", b"<p>x</p>" * 200 + b"\x00", True),
    ("text/html; charset=utf-16", "\ufeff<p>x</p>".encode("utf-16-le"), True),
    ("TEXT/HTML; charset=utf-8", b"<p>x</p>", True),  # a NUL after the first KB is not looked at
])
def test_is_textual(ctype: str, body: bytes, textual: bool) -> None:
    from monitor.fetch import is_textual

    assert is_textual(ctype, body) is textual


# -- redirects: the error names where it happened, and every hop is held to the site's rules ---------------

def test_failed_redirect_names_the_url_that_failed(bad_server: Served, tmp_path: Path) -> None:
    from monitor.scan import SourceError, read_source

    base = bad_server.base
    with fetcher() as f:
        r = f.fetch(base + "/redir-twice", allow_private=True)
        assert (r.status, r.final_url, r.hops) == (404, base + "/missing", (base + "/redir-missing", base + "/missing"))
        assert r.where == f" at {base}/missing (after 2 redirects)"
        with pytest.raises(SourceError) as err:
            read_source(f, base + "/redir-missing")
    assert str(err.value) == f"{base}/redir-missing: HTTP 404 at {base}/missing (after 1 redirect)"
    items = {i.url: i for i in crawl(Fetcher("provmon-test"), Site(name="r", start_urls=(base + "/redir-missing",),
                                                                    allow_private=True), [base + "/redir-missing"],
                                      polite=PoliteSettings(min_delay=0.0, obey_robots=False))}
    assert items[base + "/redir-missing"].error == f"HTTP 404 at {base}/missing (after 1 redirect)"


@pytest.fixture
def second_host() -> Iterator[Served]:
    """The same handler on 127.0.0.2 (another host on the loopback network), on a free port."""
    import threading
    from http.server import ThreadingHTTPServer

    try:
        server = ThreadingHTTPServer(("127.0.0.2", 0), Misbehaving)
    except OSError as exc:
        pytest.skip(f"cannot listen on 127.0.0.2: {exc}")
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True)
    thread.start()
    s = Served(server, thread)
    yield s
    s.stop()


def test_redirect_to_a_private_address_names_both_urls(bad_server: Served, second_host: Served,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The address guard runs on every hop: 127.0.0.1 stands for a public host here, 127.0.0.2 for a private one."""
    import monitor.fetch as fetch_mod

    monkeypatch.setattr(fetch_mod, "_is_public", lambda addr: addr == "127.0.0.1")
    target = f"http://127.0.0.2:{second_host.server.server_address[1]}/ok"

    class ToSecond(Misbehaving):
        def do_GET(self) -> None:
            self._send(302, b"", {"location": target})

    first = serve(ToSecond)
    try:
        with fetcher() as f, pytest.raises(FetchError) as err:
            f.fetch(first.base + "/page", allow_private=False)
    finally:
        first.stop()
    assert err.value.url == first.base + "/page"
    assert err.value.reason.startswith("refused: host is a private, loopback or link-local address")
    assert err.value.reason.endswith(f" at {target} (after 1 redirect)")


def test_crawl_follows_redirects_to_another_host_but_not_into_excluded_urls(second_host: Served) -> None:
    """A page that redirects to another host (example.com to www.example.com) is scanned where it lands; one that
    redirects to a URL the site excludes is not."""
    other = f"http://127.0.0.2:{second_host.server.server_address[1]}/ok"

    class Start(Misbehaving):
        def do_GET(self) -> None:
            if self.path == "/":
                links = "".join(f'<a href="/{p}">{p}</a>' for p in ("away", "to-excluded", "to-ok"))
                self._send(200, (ARTICLE + links + "</article></body></html>").encode())
            elif self.path == "/away":
                self._send(302, b"", {"location": other})
            elif self.path == "/to-excluded":
                self._send(302, b"", {"location": "/kept-out"})
            elif self.path == "/to-ok":
                self._send(302, b"", {"location": "/fine"})
            else:
                self._send(200, (ARTICLE + "</article></body></html>").encode())

    start = serve(Start)
    try:
        s = Site(name="r", start_urls=(start.base + "/",), allow_private=True, exclude=(r"/kept-out$",))
        with Fetcher("provmon-test") as f:
            items = {i.url.rsplit("/", 1)[-1]: i for i in
                     crawl(f, s, [start.base + "/"], polite=PoliteSettings(min_delay=0.0, obey_robots=False))}
    finally:
        start.stop()
    assert items["away"].page is not None and not items["away"].error
    assert items["away"].result is not None and items["away"].result.final_url == other
    assert items["to-excluded"].page is None
    assert items["to-excluded"].error == (f"skipped: redirected to {start.base}/kept-out, which the site's exclude "
                                          "rule '/kept-out$' leaves out")
    assert items["to-ok"].page is not None and not items["to-ok"].error


def test_a_local_folder_without_its_slash_redirects_to_it_as_a_web_server_does(tmp_path: Path) -> None:
    """file:///site/s reads s/index.html at file:///site/s/, so its links resolve inside s/ (a [[sites]] start URL
    written "s/" became file:///site/s, and a copy linked as "copy.html" was looked for in /site)."""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "index.html").write_text('<a href="copy.html">the copy</a>', encoding="utf-8")
    (folder / "copy.html").write_text("<p>the copy</p>", encoding="utf-8")
    with fetcher() as f:
        r = f.fetch(folder.as_uri())
        assert (r.status, r.final_url, r.body) == (200, folder.as_uri() + "/", b'<a href="copy.html">the copy</a>')
        assert f.fetch(folder.as_uri() + "/").hops == ()  # with its slash: no redirect
    site = Site(name="s", start_urls=(folder.as_uri(),))
    items = {i.url: i for i in crawl(Fetcher("provmon-test"), site, [folder.as_uri()],
                                     polite=PoliteSettings(min_delay=0.0, obey_robots=False))}
    copy = items[(folder / "copy.html").as_uri()]
    assert copy.error == "" and copy.result is not None and copy.result.body == b"<p>the copy</p>"
    assert not any(i.error for i in items.values()), {u: i.error for u, i in items.items()}
