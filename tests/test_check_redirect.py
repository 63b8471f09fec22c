"""`provmon check` of an address that redirects to a tracked article is the article itself, not a copy of it."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.conftest import DEMO, provmon, serve, write_config

PAGES = {"/news/sea-wall.html": (DEMO / "publisher" / "sea-wall-gives-way.html").read_bytes(),
         "/grab/sea-wall.html": (DEMO / "scraper" / "sea-wall-gives-way.html").read_bytes()}


class Publisher(BaseHTTPRequestHandler):
    """The publisher's site, with an old address that moved (301) to the article, and a copier's page."""

    def do_GET(self) -> None:
        if self.path == "/to-original":
            self.send_response(301)
            self.send_header("location", "/news/sea-wall.html")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: Any) -> None:
        pass


def test_an_address_redirecting_to_the_tracked_article_is_no_copy_of_it(tmp_path: Path) -> None:
    """Before: `check http://host/to-original` printed "COPY (verbatim)" of the article it redirects to (exit 0),
    while a site scan of the same address and a check of the article's own URL rightly said no copy."""
    served = serve(Publisher)
    try:
        base = served.base
        cfg = write_config(tmp_path / "config.toml", "")
        assert provmon("--config", str(cfg), "track", f"{base}/news/sea-wall.html").code == 0
        r = provmon("--config", str(cfg), "check", f"{base}/to-original")
        assert r.code == 1, r.out + r.err
        assert (f"{base}/to-original: no copy of a tracked article (the tracked article #1 itself, at "
                f"{base}/news/sea-wall.html)") in r.out, r.out
        r = provmon("--config", str(cfg), "check", "--json", f"{base}/to-original")
        (line,) = r.json_lines()
        assert r.code == 1 and line["copies"] == [] and line["note"].startswith("the tracked article #1 itself")
        assert provmon("--config", str(cfg), "check", f"{base}/news/sea-wall.html").code == 1
        r = provmon("--config", str(cfg), "check", f"{base}/grab/sea-wall.html")  # a copy is still one
        assert r.code == 0 and "COPY (verbatim) of #1" in r.out, r.out
    finally:
        served.stop()
