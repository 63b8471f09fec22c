"""A small copier site: the same article at several of its addresses is not that site's template, and a recheck
calls a copy removed only when it is: not while it is still online, and when its address now serves the original."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.templates import TemplateLearner, block_hash, drop_template_blocks
from tests.conftest import DEMO, POLL, Served, provmon, rows, write_config

ORIGINAL = DEMO / "publisher" / "sea-wall-gives-way.html"
COPY = (DEMO / "scraper" / "sea-wall-gives-way.html").read_text(encoding="utf-8")
OWN = ("<html><head><title>Allotment diary</title></head><body><article><h1>Allotment diary</h1>"
       "<p>The broad beans went in on a grey Saturday, two rows of them beside the shed, with a net over the top "
       "against the pigeons that had stripped last year's crop to the stalks within a week.</p>"
       "<p>Next month the onion sets follow, and after them whatever the seed swap at the village hall brings.</p>"
       "</article></body></html>")


def test_blocks_that_are_most_of_a_page_are_kept() -> None:
    learner = TemplateLearner()
    copy = ["First paragraph of an article, long enough to be prose.", "Second paragraph, as long as the first."]
    footer = "Thanks for reading our digest."
    for i in range(3):
        learner.observe("s", [*copy, footer, f"own text {i}"])
    paragraphs = [*copy, footer]
    text = "\n\n".join(paragraphs)
    # Every block is template now, but they are the page: kept whole, by both ways of dropping.
    assert learner.drop("s", text, paragraphs, [block_hash(p) for p in paragraphs]) == text
    assert drop_template_blocks(text, learner.template_hashes("s")) == text
    # Furniture beside a page's own text is still dropped.
    own = "A page of its own, with a paragraph much longer than the footer that the site puts under every page."
    page = [own, footer]
    assert learner.drop("s", "\n\n".join(page), page, [block_hash(p) for p in page]) == own


@pytest.fixture
def copier(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A copier site on 127.0.0.1 whose answers a test can change ({"path": html, or ("redirect", url)}), and the
    original's site on 127.0.0.2 (another host), with a config that tracks the original by its URL."""
    pages: dict[str, Any] = {"/index.html": "", "/original.html": ORIGINAL.read_bytes().decode("utf-8")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages.get(self.path)
            if isinstance(page, tuple):
                self.send_response(301)
                self.send_header("Location", page[1])
                self.end_headers()
                return
            if page is None:
                self.send_error(404)
                return
            body = page.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    started = []
    for host in ("127.0.0.1", "127.0.0.2"):
        server = ThreadingHTTPServer((host, 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True)
        thread.start()
        started.append(Served(server, thread))
    copier_base, original_base = (s.base for s in started)
    pages["copier"], pages["original"] = copier_base, f"{original_base}/original.html"
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
obey_robots = false
max_retries = 0

[[track]]
source = "{original_base}/original.html"

[[sites]]
name = "copier"
start_urls = ["{copier_base}/index.html"]
allow_private = true
""")
    yield cfg, pages
    for s in started:
        s.stop()


def link_all(pages: dict[str, Any], names: list[str]) -> None:
    pages["/index.html"] = "<html><body>" + "".join(f"<a href='{n}'>{n}</a> " for n in names) + "</body></html>"


def test_the_same_article_at_three_addresses_of_a_small_site(tmp_path: Path,
                                                             copier: tuple[Path, dict[str, Any]]) -> None:
    cfg, pages = copier
    names = ["copy-a.html", "copy-b.html", "copy-c.html"]
    for name in names:  # the bytes differ (as an AMP or print version's do), the text is the same
        pages[f"/{name}"] = COPY.replace("</body>", f"<!-- {name} --></body>")
    link_all(pages, names)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    # Its paragraphs are on every article page of the site: learned as template, yet the copy at each address
    # is found (before: the third page, scanned once they were template, was not). One copy at three addresses:
    # one alert, the two other addresses recorded against it (docs/alerts.md, "One copy, one alert").
    assert "3 copies, 1 new alert," in r.out, r.out + r.err
    db = tmp_path / "provmon.db"
    (alert,) = rows(db, "SELECT id, copy_url FROM alerts")
    also = [e["detail"] for e in rows(db, "SELECT detail FROM alert_events WHERE event = 'also_at'")]
    assert sorted(u.rsplit("/", 1)[1] for u in [alert["copy_url"], *also]) == names
    # Nothing changed: the copy is still there (before: the recheck dropped the template and called it gone).
    r = provmon("--config", str(cfg), "recheck")
    assert "rechecked 1 copy: 0 gone, 0 back" in r.out, r.out + r.err
    assert {a["status"] for a in rows(db, "SELECT status FROM alerts")} == {"new"}


def test_a_copy_redirected_to_the_original_is_removed_and_not_reopened(
        tmp_path: Path, copier: tuple[Path, dict[str, Any]]) -> None:
    cfg, pages = copier
    pages["/copy.html"], pages["/garden.html"] = COPY, OWN
    link_all(pages, ["copy.html", "garden.html"])
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    (alert,) = rows(db, "SELECT id, status FROM alerts")
    # The copier takes it down by sending its readers to the original: the copy is gone, not "still there".
    pages["/copy.html"] = ("redirect", pages["original"])
    r = provmon("--config", str(cfg), "recheck")
    assert "1 gone" in r.out, r.out + r.err
    (row,) = rows(db, "SELECT status, last_check FROM alerts")
    assert row["status"] == "removed" and "original's site" in row["last_check"], dict(row)
    # Removed, then 404, then the redirect again: never reopened (before: the original itself reopened it, with a
    # capture of the owner's page as the copy's evidence).
    pages.pop("/copy.html")
    provmon("--config", str(cfg), "recheck")
    pages["/copy.html"] = ("redirect", pages["original"])
    r = provmon("--config", str(cfg), "recheck")
    assert "0 back" in r.out, r.out + r.err
    assert rows(db, "SELECT status FROM alerts")[0]["status"] == "removed"
    assert [e["reason"] for e in rows(db, "SELECT reason FROM evidence")] == ["detected"]
    # Redirected to another page of its own site, a copy that is still a copy is still there.
    pages["/moved.html"] = COPY
    pages["/copy.html"] = ("redirect", f"{pages['copier']}/moved.html")
    r = provmon("--config", str(cfg), "recheck")
    assert "1 back" in r.out, r.out + r.err
    assert alert["id"] == rows(db, "SELECT id FROM alerts WHERE status = 'new'")[0]["id"]


def test_a_copy_still_online_is_not_removed_when_its_paragraphs_became_template(
        tmp_path: Path, copier: tuple[Path, dict[str, Any]]) -> None:
    """The recheck drops the site's template as the scan did, but a template learned since the scan can hold the
    copied paragraphs (the article pasted across the site's pages): a copy still on its page is still there."""
    from monitor.extract import extract
    from monitor.store import Store

    cfg, pages = copier
    diary = ["Our allotment diary goes on at length, week by week, about beans, onions, pigeons and the weather, "
             f"and this is entry number {i} of it, longer than the article beside it." for i in range(12)]
    pages["/copy.html"] = COPY.replace("</body>", "".join(f"<p>{d}</p>" for d in diary) + "</body>")
    link_all(pages, ["copy.html"])
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    assert len(rows(db, "SELECT id FROM alerts")) == 1
    # The site then shows the article's paragraphs on three pages of four.
    learner = TemplateLearner()
    article = extract(ORIGINAL.read_bytes()).paragraphs
    for i in range(4):
        learner.observe("copier", article if i < 3 else [f"other page {i}"])
    with Store(db) as store:
        store.update_template_state("copier", lambda _state: learner.to_dict())
    r = provmon("--config", str(cfg), "recheck")
    assert "rechecked 1 copy: 0 gone" in r.out, r.out + r.err
    assert rows(db, "SELECT status FROM alerts")[0]["status"] == "new"
