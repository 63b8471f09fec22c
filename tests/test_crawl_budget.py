"""A site with more pages than `max_pages`: successive runs reach every page (pages never fetched first, then those
fetched longest ago), what a run leaves is kept for the next one, and the log and the run summary say so.

Before: the budget went to the same first pages in the same order every run, unchanged pages included, and a
page found after them (or only behind them, a hub's articles) was never fetched, with no word about it."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Site
from monitor.crawl import backlog, crawl
from monitor.fetch import Fetcher
from monitor.politeness import PoliteSettings
from monitor.store import Store
from tests.conftest import DEMO, Served, provmon, serve, write_config
from tests.test_crawl import ARTICLE, Handler, Log, Route, Server, page

FAST = PoliteSettings(min_delay=0.0, max_per_host=4, backoff=0.01)


@pytest.fixture
def server() -> Iterator[Callable[[dict[str, Route]], Server]]:
    """A loopback server answering by route, logging every request (tests/test_crawl.py's)."""
    started: list[Served] = []

    def start(routes: dict[str, Route]) -> Server:
        log = Log()
        s = serve(type("H", (Handler,), {"routes": routes, "log": log}))
        started.append(s)
        return Server(s, log)

    yield start
    for s in started:
        s.stop()


def links(*paths: str) -> bytes:
    return ARTICLE + "".join(f'<a href="{p}">{p}</a>' for p in paths).encode()


def crawl_once(f: Fetcher, st: Site, store: Store) -> set[str]:
    """One run, as scan_site consumes it: the paths fetched."""
    return {item.url.split("/", 3)[-1] for item in crawl(f, st, list(st.start_urls), store=store, polite=FAST,
                                                          workers=2)}


def test_pages_behind_hubs_are_reached_over_successive_runs(server: Any, tmp_path: Path, caplog: Any) -> None:
    """An index of 12 hubs, each linking one article (depth 2): 25 pages, 5 a run. Every page is fetched within
    7 runs; before, the hubs took the whole budget in every run and no article behind them was ever fetched."""
    routes: dict[str, Route] = {"/": page(links(*(f"/h{i}" for i in range(12))))}
    for i in range(12):
        routes[f"/h{i}"] = page(links(f"/a{i}"))
        routes[f"/a{i}"] = page()
    s = server(routes)
    st = Site(name="hubs", start_urls=(s.base + "/",), allow_private=True, max_depth=2, max_pages=5)
    wanted = {"", *(f"h{i}" for i in range(12)), *(f"a{i}" for i in range(12))}
    reached: set[str] = set()
    with Fetcher("t (+https://x.test)") as f, Store(tmp_path / "db") as store:
        with caplog.at_level(logging.INFO, logger="monitor.crawl"):
            first = crawl_once(f, st, store)
        left = backlog(store, "hubs")
        reached |= first
        runs = 1
        while reached != wanted and runs < 7:
            reached |= crawl_once(f, st, store)
            runs += 1
        assert reached == wanted, f"after {runs} runs, never fetched: {sorted(wanted - reached)}"
        assert backlog(store, "hubs") is not None  # 25 pages, 5 a run: there is always more to do
    assert len(first) == 5 and "" in first
    # The first run: the index and 4 hubs; left: the 8 other hubs and the 4 articles those hubs link.
    said = "site hubs: max_pages (5) reached: 12 known URLs left for later runs, 12 of them never fetched"
    assert said in caplog.text
    assert left is not None and (left.left, left.never, left.max_pages) == (12, 12, 5) and len(left.tasks) == 12
    assert max(s.log.paths.count(p) for p in ("/h0", "/a0")) <= 2  # no page is fetched again and again meanwhile


def test_known_pages_take_turns_longest_ago_first(server: Any, tmp_path: Path) -> None:
    """Once every page was fetched, the budget goes to the pages fetched longest ago, so unchanged pages at the
    top of the index cannot keep the ones below from being looked at again."""
    routes: dict[str, Route] = {"/": page(links(*(f"/p{i}" for i in range(8))))}
    routes.update({f"/p{i}": page() for i in range(8)})
    s = server(routes)
    st = Site(name="rota", start_urls=(s.base + "/",), allow_private=True, max_depth=1, max_pages=3)
    with Fetcher("t (+https://x.test)") as f, Store(tmp_path / "db") as store:
        seen: list[set[str]] = [crawl_once(f, st, store) for _ in range(4)]
        assert set().union(*seen) == {"", *(f"p{i}" for i in range(8))}  # never-fetched pages first: 2 new a run
        left = backlog(store, "rota")
        assert left is not None and (left.left, left.never) == (6, 0)  # p0-p5, fetched before
        # As if the pages had been fetched at these times (oldest: p5, then p2): they go next.
        ages = {5: "2020-01-01T00:00:00+00:00", 2: "2020-01-02T00:00:00+00:00"}
        for i in range(8):
            store.db.execute("UPDATE pages SET fetched_at = ? WHERE url = ?",
                             [ages.get(i, f"2020-02-0{i + 1}T00:00:00+00:00"), f"{s.base}/p{i}"])
        assert crawl_once(f, st, store) == {"", "p5", "p2"}
        assert crawl_once(f, st, store) == {"", "p0", "p1"}  # p5 and p2 are now the most recent
        left = backlog(store, "rota")
        assert left is not None and left.left == 6


def test_new_sitemap_entries_still_go_newest_first_within_the_budget(server: Any, tmp_path: Path) -> None:
    """docs/crawling.md: sitemap entries newest lastmod first, so the budget goes to new articles."""
    entries = "".join(f"<url><loc>BASE/n{i}</loc><lastmod>2026-11-0{i + 1}</lastmod></url>" for i in range(5))
    sitemap = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    routes: dict[str, Route] = {"/": page(), "*": page()}
    s = server(routes)
    routes["/sitemap.xml"] = page(sitemap.replace("BASE", s.base).encode(), "application/xml")
    st = Site(name="maps", start_urls=(s.base + "/",), allow_private=True, max_depth=0, max_pages=3)
    with Fetcher("t (+https://x.test)") as f, Store(tmp_path / "db") as store:
        got = {item.url.split("/", 3)[-1] for item in crawl(f, st, list(st.start_urls), store=store, polite=FAST,
                                                             workers=1, sitemaps=[s.base + "/sitemap.xml"])}
    assert got == {"", "n4", "n3"}


def filler(n: int) -> str:
    return (f"<html><head><title>Notice {n}</title></head><body><article><h1>Parish notice {n}</h1>"
            f"<p>The allotment committee of Lower Brindle met on evening {n} to discuss the rota for the water "
            f"butts, the hedge along plot {n} and a complaint about a goat that wanders.</p>"
            f"<p>Minutes were read, tea was poured and plot {n} was told to mind its marrows.</p>"
            "</article></body></html>")


def test_a_copy_linked_after_the_budget_is_found_in_a_later_run_and_the_summary_says_so(
        http_dir: Any, tmp_path: Path) -> None:
    """The auditor's case in small: a site's index links 12 other pages and then the copy, max_pages = 5. Each
    `run --once` says how many known URLs it left; the copy is alerted by the fourth run. Before: 'no copies'
    forever, and nothing said why."""
    root = tmp_path / "site"
    root.mkdir()
    names = [f"notice-{i}.html" for i in range(12)] + ["sea-wall-gives-way.html"]
    for i, name in enumerate(names[:-1]):
        (root / name).write_text(filler(i), encoding="utf-8")
    shutil.copy(DEMO / "scraper" / "sea-wall-gives-way.html", root / names[-1])
    (root / "index.html").write_text("<html><body><h1>Notices</h1>" + "".join(
        f'<p><a href="{n}">{n}</a></p>' for n in names) + "</body></html>", encoding="utf-8")
    served = http_dir(root)
    cfg = write_config(tmp_path / "config.toml", f'[fetch]\nmin_delay = 0.0\n\n[[track]]\nsource = '
                       f'"{DEMO}/publisher/sea-wall-gives-way.html"\n\n[[sites]]\nname = "notices"\nstart_urls = '
                       f'["{served.base}/index.html"]\nallow_private = true\nmax_pages = 5\n')
    runs = []
    for _ in range(4):
        r = provmon("--config", str(cfg), "run", "--once")
        assert r.code == 0, r.out + r.err
        runs.append(r)
        if "ALERT #1" in r.out:
            break
    outs = [r.out for r in runs]
    assert len(outs) == 4 and "ALERT #1: verbatim copy" in outs[3], outs
    assert "site notices: 5 pages scanned, 0 copies" in outs[0], outs[0]
    assert "  max_pages (5) reached: 9 known URLs left for later runs, 9 of them never fetched" in outs[0], outs[0]
    assert "INFO monitor.crawl: site notices: max_pages (5) reached: 9 known URLs left" in runs[0].err, runs[0].err
    assert "  max_pages (5) reached: 9 known URLs left for later runs, 5 of them never fetched" in outs[1], outs[1]
    assert "site notices: 5 pages scanned (4 unchanged since last matched), 1 copy, 1 new alert" in outs[3], outs[3]


def test_a_private_host_without_allow_private_is_refused_as_such_not_blamed_on_robots(tmp_path: Path) -> None:
    """The address policy refuses the host before robots.txt is ever asked for: the error says so, and how to allow
    it, instead of "robots.txt unreachable"."""
    cfg = write_config(tmp_path / "config.toml", '[[sites]]\nname = "intranet"\n'
                                                  'start_urls = ["http://127.0.0.1:9/index.html"]\n')
    r = provmon("--config", str(cfg), "run", "--once")
    assert "http://127.0.0.1:9/index.html: refused: host is a private, loopback or link-local address (set " \
           "allow_private = true on the site to allow it); nothing is fetched from this host in this pass" \
        in r.out, r.out + r.err
    assert "robots.txt" not in r.out + r.err
