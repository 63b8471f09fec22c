"""One copy, one alert, at however many addresses of a site it is served, although the bytes differ at each (the
page prints its own URL, a canonical tag, a CSRF token, a view counter, an ad id, the time): against a real loopback
copier site and a real SQLite file, through the real command line."""

from __future__ import annotations

import json
import random
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts import email_text
from monitor.store import Store
from tests.conftest import DEMO, Served, Webhook, provmon, rows, serve, write_config

ORIGINAL = DEMO / "publisher" / "sea-wall-gives-way.html"
COPY = (DEMO / "scraper" / "sea-wall-gives-way.html").read_text(encoding="utf-8")
SPUN = (DEMO / "scraper" / "storm-marren-seawall-collapse.html").read_text(encoding="utf-8")
GARLIC = DEMO / "scraper" / "plant-garlic-in-autumn.html"
STORY = "/story/sea-wall/"
AMP = "/story/sea-wall/?amp=1"  # not an analytics parameter: another address of the page


@dataclass
class Copier:
    """A copier site whose every answer differs: its pages print their own address (canonical tag and a line inside
    the copied text), a fresh CSRF token and ad id, a view counter and the time. `pages` maps a path (with its query)
    to the page it serves ("copy", "spun", "garlic"; "down" answers 503); a path not there answers 404."""

    served: Served = field(init=False)
    pages: dict[str, str] = field(default_factory=dict)
    views: int = 0

    @property
    def base(self) -> str:
        return self.served.base

    def url(self, path: str) -> str:
        return self.base + path

    def html(self, path: str) -> str | None:
        if path == "/":
            return "<html><body>" + "".join(f"<a href='{p}'>{p}</a> " for p in self.pages) + "</body></html>"
        kind = self.pages.get(path)
        if kind is None:
            return None
        self.views += 1
        url, token = self.url(path), secrets.token_hex(16)
        page = {"copy": COPY, "spun": SPUN, "garlic": GARLIC.read_text(encoding="utf-8")}[kind]
        page = page.replace("</head>", f'<link rel="canonical" href="{url}"><meta name="csrf-token" '
                                       f'content="{token}"></head>')
        # Inside the copied text, where the matcher's passage spans it.
        page = page.replace("<p>No deaths were reported", f"<p>Read this story at {url} (viewed {self.views} times, "
                                                          f"ad slot {token[:10]})</p>\n<p>No deaths were reported")
        return page.replace("</body>", f"<form><input type=hidden name=csrf value='{token}'></form>"
                                       f"<p>Page generated at {time.time_ns()}.</p></body>")


@pytest.fixture
def copier() -> Iterator[Copier]:
    site = Copier()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if site.pages.get(self.path) == "down":
                self.send_response(503)
                self.end_headers()
                return
            body = site.html(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: Any) -> None:
            pass

    site.served = serve(Handler)
    yield site
    site.served.stop()


def config(tmp_path: Path, copier: Copier, webhook: Webhook | None = None, extra: str = "") -> Path:
    hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n' if webhook else ""
    (tmp_path / "pub").mkdir(exist_ok=True)
    garlic = tmp_path / "pub" / "garlic.html"  # a second tracked article
    garlic.write_bytes(GARLIC.read_bytes())
    return write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
obey_robots = false
max_retries = 0

[[track]]
source = "{ORIGINAL}"

[[track]]
source = "{garlic}"

[[sites]]
name = "copier"
start_urls = ["{copier.base}/"]
allow_private = true
max_depth = 1

[owner]
name = "Ada Marsh"
email = "rights@herald.example"
{hook}{extra}""")


def run(cfg: Path) -> str:
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err
    return r.out


def sea_wall_alerts(db: Path) -> list[sqlite3.Row]:
    return rows(db, "SELECT * FROM alerts WHERE article_url LIKE '%sea-wall%' ORDER BY id")


def addresses(db: Path, alert_id: int) -> list[str]:
    with Store(db) as store:
        return store.addresses(alert_id)


def test_one_copy_whose_bytes_differ_at_each_address_is_one_alert(tmp_path: Path, copier: Copier,
                                                                  webhook: Webhook) -> None:
    copier.pages.update({STORY: "copy", AMP: "copy", "/story/storm/": "spun", "/story/garlic/": "garlic"})
    cfg = config(tmp_path, copier, webhook)
    out = run(cfg)
    db = tmp_path / "provmon.db"
    # The copy at two addresses: one alert; the spun rewrite on another page is another copy of the article, and
    # the other article's copy its own alert.
    assert "3 new alerts" in out, out
    verbatim = [a for a in sea_wall_alerts(db) if a["kind"] == "verbatim"]
    assert len(verbatim) == 1, [dict(a) for a in sea_wall_alerts(db)]
    alert = verbatim[0]
    both = {copier.url(STORY), copier.url(AMP)}
    assert set(addresses(db, alert["id"])) == both and alert["copy_url"] in both
    other = (both - {alert["copy_url"]}).pop()
    assert [r["detail"] for r in rows(db, "SELECT detail FROM alert_events WHERE event = 'also_at'")] == [other]
    assert {r["page_url"]: r["disposition"] for r in rows(db, "SELECT page_url, disposition FROM matches "
                                                              "WHERE article_id = ?", alert["article_id"])
            if r["page_url"] in both} == {alert["copy_url"]: "alert", other: "duplicate"}
    kinds = sorted((a["kind"], a["copy_url"]) for a in rows(db, "SELECT kind, copy_url FROM alerts"))
    assert kinds == sorted([("verbatim", alert["copy_url"]), ("paraphrased", copier.url("/story/storm/")),
                            ("verbatim", copier.url("/story/garlic/"))]), kinds

    # One notification per alert, none for the other address; it names every address known when it went out.
    detected = [json.loads(r["body"]) for r in webhook.received]
    assert sorted(p["alert"]["id"] for p in detected) == sorted(r["id"] for r in rows(db, "SELECT id FROM alerts"))
    (mine,) = [p for p in detected if p["alert"]["id"] == alert["id"]]
    assert mine["alert"]["copy_url"] == alert["copy_url"] and mine["alert"]["also_at"] == [other]

    # Run again (every byte differs again): nothing new, no second also_at, nobody told anything.
    out = run(cfg)
    assert "0 new alerts" in out, out
    assert rows(db, "SELECT count(*) AS n FROM alert_events WHERE event = 'also_at'")[0]["n"] == 1
    assert len(webhook.received) == 3

    # The takedown draft and the evidence page name both addresses.
    r = provmon("--config", str(cfg), "notice", str(alert["id"]))
    assert r.code == 0, r.err
    section = r.out.split("2. The infringing material")[1].split("3. Contact")[0]
    assert alert["copy_url"] in section and other in section, section
    r = provmon("--config", str(cfg), "report", str(alert["id"]), "-o", str(tmp_path / "report.html"))
    assert r.code == 0, r.err
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Also at" in page and f'href="{other}"' in page


def test_recheck_keeps_a_copy_while_any_of_its_addresses_carries_it(tmp_path: Path, copier: Copier,
                                                                     webhook: Webhook) -> None:
    copier.pages.update({STORY: "copy", AMP: "copy"})
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    (alert,) = sea_wall_alerts(db)
    own = alert["copy_url"].removeprefix(copier.base)
    other = STORY if own == AMP else AMP
    assert len(webhook.received) == 1

    # Gone from its own address, still at the other: not removed, and the check says where it still is.
    del copier.pages[own]
    r = provmon("--config", str(cfg), "recheck")
    assert "0 gone, 0 back" in r.out, r.out + r.err
    (now,) = sea_wall_alerts(db)
    assert now["status"] == "notified", dict(now)
    assert now["last_check"].startswith(f"still there: verbatim, 100% of the article at {copier.url(other)}")
    assert "HTTP 404" in now["last_check"]
    assert len(webhook.received) == 1

    # Gone from its own address, and the other does not answer: that proves nothing, nothing changes.
    copier.pages[other] = "down"
    r = provmon("--config", str(cfg), "recheck")
    assert "0 gone, 0 back, 1 inconclusive" in r.out, r.out + r.err
    (now,) = sea_wall_alerts(db)
    assert now["status"] == "notified" and now["last_check"].startswith("inconclusive: HTTP 503"), dict(now)
    assert len(webhook.received) == 1

    # Gone from both: removed, told once.
    del copier.pages[other]
    r = provmon("--config", str(cfg), "recheck")
    assert "1 gone" in r.out, r.out + r.err
    (now,) = sea_wall_alerts(db)
    assert now["status"] == "removed" and now["last_check"].count("HTTP 404") == 2, dict(now)
    assert [json.loads(x["body"])["event"] for x in webhook.received] == ["copy_detected", "copy_removed"]

    # Back at the other address only: reopened, with a capture of that address.
    copier.pages[other] = "copy"
    r = provmon("--config", str(cfg), "recheck")
    assert "1 back" in r.out, r.out + r.err
    (now,) = sea_wall_alerts(db)
    assert now["status"] == "notified"
    captures = rows(db, "SELECT reason, url, match_id FROM evidence WHERE alert_id = ? ORDER BY id", alert["id"])
    assert [(c["reason"], c["url"]) for c in captures] == [("detected", alert["copy_url"]),
                                                           ("reopened", copier.url(other))]
    assert rows(db, "SELECT page_url FROM matches WHERE id = ?", captures[1]["match_id"])[0]["page_url"] == \
        copier.url(other)
    assert json.loads(webhook.received[-1]["body"])["event"] == "copy_reopened"
    # A scan meanwhile: the address belongs to the alert, so no second alert for it.
    assert "0 new alerts" in run(cfg)
    assert len(sea_wall_alerts(db)) == 1


def test_an_address_of_a_removed_copy_that_comes_back_is_that_copys(tmp_path: Path, copier: Copier) -> None:
    """The scan does not raise a second alert for an address of a removed copy; the recheck reopens it."""
    copier.pages.update({STORY: "copy", AMP: "copy"})
    cfg = config(tmp_path, copier)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    copier.pages.clear()
    assert "1 gone" in provmon("--config", str(cfg), "recheck").out
    (alert,) = sea_wall_alerts(db)
    other = next(u for u in addresses(db, alert["id"]) if u != alert["copy_url"])
    copier.pages[other.removeprefix(copier.base)] = "copy"
    assert "0 new alerts" in run(cfg)
    assert len(sea_wall_alerts(db)) == 1
    assert "1 back" in provmon("--config", str(cfg), "recheck").out


def test_what_counts_as_the_same_copy() -> None:
    """The copied text without its volatile tokens, compared as near-duplicates: a per-address line inside a passage
    does not make another copy; another excerpt of the article or another rewrite does."""
    from monitor.store import SAME_COPY, copy_resemblance, copy_shingles

    text = ("The sea wall that has guarded the old harbor district of Port Elling for almost ninety years gave way "
            "before dawn on Tuesday, sending a surge of storm water through the narrow streets of the lower town. "
            "The breach opened shortly after 4 a.m., when gusts from the autumn storm known locally as Marren pushed "
            "the tide nearly two meters above its usual height. Emergency crews said the water reached the steps of "
            "the town hall within forty minutes, and the fire service used flat-bottomed boats to reach families. ")

    def passages(*texts: str) -> list[dict[str, Any]]:
        return [{"page_text": t} for t in texts]

    here = copy_shingles(passages(text + "Read it at https://copier.example/a/ (viewed 12 times, ad 9f8e7d6c5b)."))
    there = copy_shingles(passages(text + "Read it at https://copier.example/a/?amp=1 (viewed 1,313 times, "
                                          "ad 0a1b2c3d4e). csrf_Zm9vYmFyYmF6cXV4cXV1eGZvb2Jh"))
    assert copy_resemblance(here, there) == 1.0
    excerpt = copy_shingles(passages(text.split(" The breach")[0], text.split("height. ")[1]))  # two of three
    assert copy_resemblance(here, excerpt) < SAME_COPY
    rewrite = copy_shingles(passages(text.replace("sea wall", "seawall").replace("gave way", "collapsed")
                                     .replace("narrow streets", "tight lanes").replace("storm water", "floodwater")
                                     .replace("Emergency crews", "Rescuers").replace("town hall", "city hall")))
    assert copy_resemblance(copy_shingles(passages(text)), rewrite) < SAME_COPY
    assert copy_resemblance(frozenset(), frozenset()) == 0.0


def test_the_same_copy_on_another_site_or_of_another_article_is_another_alert(tmp_path: Path) -> None:
    """Store.record_alert: a new address of an alerted copy, its bytes differing, joins the alert (no notification);
    the same text on another site, or copied from another article, raises its own."""
    text = ("The sea wall that has guarded the old harbor district of Port Elling for almost ninety years gave way "
            "before dawn on Tuesday, sending a surge of storm water through the narrow streets of the lower town.")

    def match(url: str) -> dict[str, Any]:
        return {"kind": "verbatim", "coverage": 1.0, "page_share": 0.9, "longest_run": 40, "score": 1.0,
                "passages": [{"article_start": 0, "article_end": len(text), "page_start": 0,
                              "page_end": len(text) + 40, "score": 1.0, "verbatim": True, "article_text": text,
                              "page_text": f"{text} Read it at {url}"}]}

    with Store(tmp_path / "provmon.db") as store:
        (one, created), (two, _) = (store.add_article(u, "Sea wall", t, [1, 2, 3]) for u, t in
                                    (("https://herald.example/a", text), ("https://herald.example/b", text + " Two.")))
        assert created
        first = store.article(one)
        a = "https://copier.example/a/"
        assert store.record_alert(article=first, site="copier", page_url=a, content_sha256="sha-a",
                                  match=match(a), channels=["hook"]) == (1, True)
        b = "https://copier.example/a/index.html"
        assert store.record_alert(article=first, site="copier", page_url=b, content_sha256="sha-b",
                                  match=match(b), channels=["hook"]) == (1, False)
        assert store.addresses(1) == [a, b] and store.alert(1)["also_at"] == [b]
        assert [x["also_at"] for x in store.alerts()] == [[b]]
        assert f"Also at:   {b}" in email_text(store.alert(1))
        assert [n["alert_id"] for n in store.notifications()] == [1]
        c = "https://mirror.example/a"
        assert store.record_alert(article=first, site="mirror", page_url=c, content_sha256="sha-c",
                                  match=match(c), channels=["hook"]) == (2, True)
        assert store.record_alert(article=store.article(two), site="copier", page_url=b, content_sha256="sha-b",
                                  match=match(b), channels=["hook"]) == (3, True)
        assert [n["alert_id"] for n in store.notifications()] == [1, 2, 3]


def test_a_copy_posted_again_after_its_removal_is_one_alert_whatever_old_address_lists_it(
        tmp_path: Path, copier: Copier, webhook: Webhook) -> None:
    """Taken down, then posted again at a new address (a new alert, as documented) that a page of the old copy's, a tag
    page, lists again: the tag page is the new alert's address now, and the recheck does not reopen the old alert for
    the new copy (one repost, one alert, one message)."""
    tag = "/tag/sea/"
    copier.pages.update({STORY: "copy", tag: "copy"})
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    (old,) = sea_wall_alerts(db)
    assert set(addresses(db, old["id"])) == {copier.url(STORY), copier.url(tag)}
    copier.pages.clear()  # the takedown
    assert "1 gone" in provmon("--config", str(cfg), "recheck").out
    again = "/story/sea-wall-again/"
    copier.pages.update({again: "copy", tag: "copy"})  # posted again, listed on the tag page again
    assert "1 new alert," in run(cfg)
    r = provmon("--config", str(cfg), "recheck")
    assert "0 back" in r.out, r.out + r.err
    first, new = sea_wall_alerts(db)
    assert first["status"] == "removed" and new["status"] == "notified", (dict(first), dict(new))
    assert set(addresses(db, new["id"])) == {copier.url(again), copier.url(tag)}
    assert [(json.loads(x["body"])["event"], json.loads(x["body"])["alert"]["id"]) for x in webhook.received] == [
        ("copy_detected", old["id"]), ("copy_removed", old["id"]), ("copy_detected", new["id"])]
    # Gone again from the new address but still on the tag page: the new alert keeps it, the old one stays removed.
    del copier.pages[again]
    r = provmon("--config", str(cfg), "recheck")
    assert "0 gone, 0 back" in r.out, r.out + r.err
    assert [a["status"] for a in sea_wall_alerts(db)] == ["removed", "notified"]
    assert "0 new alerts" in run(cfg) and len(webhook.received) == 3


def test_telling_a_new_address_from_many_copies_reads_each_copy_once(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A site with many alerts of one article (a farm of rewrites): a new address is compared with each of them, from
    3-grams kept with the alert's match, not by fingerprinting every alert's passages again on every new page (1.3 s
    a page at 1,300 alerts, inside the write transaction). A store from before (none kept) computes each once."""
    import monitor.store as store_mod

    words = [a + b for a in ("har", "tid", "stor", "wal", "bre", "cre", "wat", "shel", "coun", "eng", "rep", "fam")
             for b in ("bor", "ment", "ling", "ster", "gate", "wick", "ford", "mere", "holt", "by", "thorpe", "stead")]

    def rewrite(i: int) -> str:  # a text of its own for each page
        return " ".join(random.Random(i).choices(words, k=150))

    def match(text: str) -> dict[str, Any]:
        return {"kind": "paraphrased", "coverage": 0.6, "page_share": 0.8, "longest_run": 4, "score": 0.5,
                "passages": [{"article_start": 0, "article_end": 10, "page_start": 0, "page_end": len(text),
                              "score": 0.5, "verbatim": False, "article_text": "x", "page_text": text}]}

    calls = []
    real = store_mod.page_fingerprints_of
    monkeypatch.setattr(store_mod, "page_fingerprints_of", lambda text: calls.append(1) or real(text))
    db = tmp_path / "provmon.db"
    with Store(db) as store:
        aid, _ = store.add_article("https://herald.example/a", "Sea wall", "Some text.", [1, 2, 3])
        article = store.article(aid)
        for i in range(30):
            url = f"https://farm.example/p{i}"
            store.record_alert(article=article, site="farm", page_url=url, content_sha256=f"sha{i}",
                               match=match(rewrite(i)), channels=[])
        assert len(store.alerts()) == 30
        calls.clear()
        new = store.record_alert(article=article, site="farm", page_url="https://farm.example/new",
                                 content_sha256="sha-new", match=match(rewrite(1000)), channels=[])
        assert new == (31, True) and len(calls) == 1, len(calls)  # the new page's, once
        # The same copy as #5 at another address (its bytes differ): found among them all.
        calls.clear()
        assert store.record_alert(article=article, site="farm", page_url="https://farm.example/p5?amp=1",
                                  content_sha256="sha-amp", match=match(rewrite(5) + " viewed 12 times"),
                                  channels=[]) == (6, False)
        assert len(calls) == 1
    # A store from before keeps no 3-grams: each alert's are computed once, then kept.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE matches SET copy_shingles = NULL")
    conn.commit()
    conn.close()
    with Store(db) as store:
        calls.clear()
        assert store.record_alert(article=article, site="farm", page_url="https://farm.example/new2",
                                  content_sha256="sha-new2", match=match(rewrite(2000)), channels=[])[1]
        assert len(calls) == 32, len(calls)  # 31 alerts' matches and the new page's
        calls.clear()
        assert store.record_alert(article=article, site="farm", page_url="https://farm.example/p7/",
                                  content_sha256="sha-7b", match=match(rewrite(7)), channels=[]) == (8, False)
        assert len(calls) == 1
