"""One page is one page: fetched once, tracked once, alerted once, whatever spelling of its address a link uses;
and the publisher's own versions of an article (AMP, mobile, feed-tagged) are not copies of it."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from monitor.alerts import assess_credit, is_licensed
from monitor.extract import Extracted
from monitor.scan import own_version, tracked_url
from monitor.urls import canonical, on_site_of, same_page
from tests.conftest import DEMO, Served, provmon, write_config

COPY = DEMO / "scraper" / "sea-wall-gives-way.html"
ORIGINAL = DEMO / "publisher" / "sea-wall-gives-way.html"


def test_canonical_drops_only_what_names_no_other_page() -> None:
    assert canonical("HTTPS://News.Example.COM:443/a/B?utm_source=rss&id=7&fbclid=x#top") == \
        "https://news.example.com/a/B?id=7"
    assert canonical("http://example.com:8080") == "http://example.com:8080/"
    assert canonical("http://example.com/a/?UTM_Medium=feed") == "http://example.com/a/"
    # A trailing slash, index.html, the order of real parameters and a path's case can name other pages: kept.
    assert canonical("http://example.com/a/index.html?b=1&a=2") == "http://example.com/a/index.html?b=1&a=2"
    assert canonical("http://[::1]:80/x") == "http://[::1]/x"
    for other in ("file:///srv/a.html", "mailto:x@example.com", "http://[bad", "not a url"):
        assert canonical(other) == other


def test_same_page_and_own_site() -> None:
    assert same_page("https://www.example.com/news/a/", "http://example.com/news/a?utm_campaign=x")
    assert not same_page("https://example.com/news/a", "https://example.com/news/b")
    assert not same_page("", "")
    assert on_site_of("https://amp.example.com/a", "https://www.example.com/a")
    assert not on_site_of("https://notexample.com/a", "https://example.com/a")
    assert not on_site_of("file:///a.html", "file:///a.html")


def test_licensed_domains_written_with_www_cover_the_domain() -> None:
    assert is_licensed("https://partner.example/a", ["www.partner.example"]) == "www.partner.example"
    assert is_licensed("https://news.partner.example/a", ["www.partner.example"]) == "www.partner.example"
    assert is_licensed("https://www.partner.example/a", ["partner.example"]) == "partner.example"
    assert is_licensed("https://otherpartner.example/a", ["partner.example"]) == ""


def test_the_publishers_own_versions_are_recognised() -> None:
    original = "https://www.pub.example/news/ferry.html"
    amp = Extracted("t", "x", canonical_url="https://pub.example/news/ferry.html")
    assert own_version("https://amp.pub.example/news/ferry.html", amp, original)
    assert own_version("https://pub.example/news/ferry.html?utm_source=home", amp, original)
    relative = Extracted("t", "x", og_url="/news/ferry.html")  # og:url as some sites write it
    assert own_version("https://pub.example/news/ferry.html?from=home", relative, original)
    # A copier naming the original as its canonical address is still a copier.
    assert not own_version("https://copier.example/ferry.html", amp, original)
    assert assess_credit(Extracted("t", "x", canonical_url="http://pub.example/news/ferry.html/"), original,
                         []).grade == "canonical"


def test_an_original_is_tracked_under_the_canonical_address_of_its_own_site() -> None:
    page = Extracted("t", "x", canonical_url="https://pub.example/news/ferry.html")
    assert tracked_url("https://pub.example/news/ferry.html?utm_source=rss", page) == \
        "https://pub.example/news/ferry.html"
    assert tracked_url("https://amp.pub.example/ferry", page) == "https://pub.example/news/ferry.html"
    # A canonical address on another site is not the publisher's to claim; tracking tags still go.
    assert tracked_url("https://copier.example/f?utm_medium=x", page) == "https://copier.example/f"
    # A file has no site: the public address it names is the article's (a path is no place of publication).
    assert tracked_url("file:///srv/ferry.html", page) == "https://pub.example/news/ferry.html"
    assert tracked_url("file:///srv/ferry.html", Extracted("t", "x", canonical_url="ftp://pub.example/f")) == \
        "file:///srv/ferry.html"


def test_one_copy_linked_under_four_addresses_is_one_alert(tmp_path: Path,
                                                          http_dir: Callable[[Path], Served]) -> None:
    site = tmp_path / "site"
    (site / "stories" / "wall").mkdir(parents=True)
    shutil.copy(COPY, site / "stories" / "wall" / "index.html")
    served = http_dir(site)
    links = ["stories/wall", "stories/wall/", "stories/wall/index.html", "stories/wall/?utm_source=twitter",
             f"{served.base}/stories/wall/#comments"]
    (site / "index.html").write_text("<html><body>" + "".join(f"<a href='{u}'>{k}</a> " for k, u in
                                                              enumerate(links)) + "</body></html>")
    # One fetch at a time: which of the two addresses of the same bytes is met first (and raises the alert) is
    # then the links' order, not a race between requests (CI once met index.html first).
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
obey_robots = false
workers = 1

[[track]]
source = "{ORIGINAL}"

[[sites]]
name = "copier"
start_urls = ["{served.base}/index.html"]
allow_private = true
max_depth = 1
""")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert "1 new alert," in r.out, r.out + r.err
    conn = sqlite3.connect(tmp_path / "provmon.db")
    (alert_id, url), = conn.execute("SELECT id, copy_url FROM alerts").fetchall()
    assert url == f"{served.base}/stories/wall/"
    # The same bytes at index.html: recorded against the alert, as a duplicate match and an event.
    also = conn.execute("SELECT detail FROM alert_events WHERE alert_id = ? AND event = 'also_at'",
                        [alert_id]).fetchall()
    assert also == [(f"{served.base}/stories/wall/index.html",)]
    dispositions = dict(conn.execute("SELECT page_url, disposition FROM matches").fetchall())
    assert dispositions == {url: "alert", also[0][0]: "duplicate"}
    # Fetched once per address that can differ: the tracking-tagged and fragment links are the same page.
    fetched = {u for (u,) in conn.execute("SELECT url FROM pages")}
    assert not any("utm_" in u or "#" in u for u in fetched), fetched
    # Run again: nothing new.
    r = provmon("--config", str(cfg), "run", "--once")
    assert "0 new alerts" in r.out, r.out + r.err
    assert conn.execute("SELECT count(*) FROM alert_events WHERE event = 'also_at'").fetchone() == (1,)


def test_a_feed_tagged_address_and_the_clean_one_are_one_article(tmp_path: Path,
                                                                 http_dir: Callable[[Path], Served]) -> None:
    pub = tmp_path / "pub"
    pub.mkdir()
    served = http_dir(pub)
    html = ORIGINAL.read_text(encoding="utf-8")
    clean = f"{served.base}/ferry.html"
    (pub / "ferry.html").write_text(html.replace("</head>", f'<link rel="canonical" href="{clean}"></head>'))
    cfg = write_config(tmp_path / "config.toml", "[fetch]\nmin_delay = 0.0\nobey_robots = false\n")
    r = provmon("--config", str(cfg), "track", "--json", f"{clean}?utm_source=rss&utm_medium=feed")
    assert r.code == 0, r.err
    (line,) = r.json_lines()
    assert line["created"] and line["article_url"] == clean and line["source"].endswith("utm_medium=feed")
    r = provmon("--config", str(cfg), "track", "--json", clean)
    (again,) = r.json_lines()
    assert not again["created"] and again["id"] == line["id"], json.dumps(again)
    conn = sqlite3.connect(tmp_path / "provmon.db")
    assert conn.execute("SELECT url FROM articles").fetchall() == [(clean,)]
