"""One alert's life, told by where its copy is: a copy that grows (an excerpt becomes the whole article) updates its
alert and says so once; the notice names the addresses that carry the copy now; a removed copy's addresses are
fetched a few at a time, and one back at any of them still reopens it. Against a real loopback copier site, real
SQLite files and the real command line (docs/alerts.md, "A copy that grows", "Where the copy is")."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts import email_text
from monitor.notify import email_html
from monitor.store import SCHEMA_VERSION, Address, Probe, Store, grew
from tests.conftest import DEMO, Served, Webhook, old_database, provmon, rows, serve, write_config

ORIGINAL = DEMO / "publisher" / "sea-wall-gives-way.html"
COPY = (DEMO / "scraper" / "sea-wall-gives-way.html").read_text(encoding="utf-8")
PARAGRAPHS = re.findall(r" *<p>.*?</p>\n", COPY.split('<div class="entry-content">')[1].split("</div>")[0])
UNRELATED = (DEMO / "scraper" / "plant-garlic-in-autumn.html").read_text(encoding="utf-8")  # not tracked here
STORY = "/story/sea-wall/"
TAG = "/tag/harbour/"


def excerpt(paragraphs: int = 4) -> str:
    """The copier's post with only its first paragraphs of the article: a partial copy (about 30% at four)."""
    page = COPY
    for p in PARAGRAPHS[paragraphs:]:
        page = page.replace(p, "", 1)
    return page


def listing(name: str) -> str:
    """A tag page of the copier: the post in full under the tag's own heading, with a teaser of another post."""
    heading = '<h1 class="entry-title">'
    return (COPY.replace(heading, f'<p class="tag">Posts tagged {name}</p>{heading}')
            .replace("</article>", "</article><article><h2>Harbour cats of Quay Street</h2><p>The harbour cats "
                                   f"have a fan club now, and the {name} page lists their portraits by the week.</p>"
                                   "</article>"))


def other_post(i: int) -> str:
    """One of the copier's other posts, nothing to do with the article (a real site has more than one post: on a
    three-page site the template learner takes what two of its pages share for furniture)."""
    lines = [f"Week {i} at the Larch Lane allotments began with frost on the water butts and a fox in the compost.",
             f"Plot {i + 3} tried a new way with broad beans this year, sowing them in paper tubes on a windowsill.",
             f"The committee asked for volunteers to mend the gate by the {['north', 'east', 'west'][i % 3]} path.",
             f"Someone left {i + 2} marrows on the bench by the shed with a note asking for recipes in return."]
    return ("<html><head><title>Allotment diary</title></head><body><article><h1>Allotment diary, week "
            f"{i}</h1>" + "".join(f"<p>{line}</p>" for line in lines) + "</article></body></html>")


@dataclass
class Copier:
    """A copier site: `pages` maps a path to its HTML, or to an HTTP status to answer; any other path is 404.
    `hits` counts the requests for each path."""

    served: Served = field(init=False)
    pages: dict[str, str | int] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.served.base + path

    def answer(self, path: str) -> tuple[int, str]:
        with self.lock:
            self.hits[path] += 1
            if path == "/":
                linked = [p for p, v in self.pages.items() if isinstance(v, str)]
                return 200, "<html><body>" + "".join(f"<a href='{p}'>{p}</a> " for p in linked) + "</body></html>"
            page = self.pages.get(path, 404)
        return (page, "no such page") if isinstance(page, int) else (200, page)


@pytest.fixture
def copier() -> Iterator[Copier]:
    site = Copier()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = site.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    site.served = serve(Handler)
    site.pages.update({f"/diary/{i}/": other_post(i) for i in range(6)})
    yield site
    site.served.stop()


def config(tmp_path: Path, copier: Copier, webhook: Webhook | None = None) -> Path:
    hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n' if webhook else ""
    return write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
obey_robots = false
max_retries = 0

[[track]]
source = "{ORIGINAL}"

[[sites]]
name = "copier"
start_urls = ["{copier.served.base}/"]
allow_private = true
max_depth = 1

[owner]
name = "Ada Marsh"
email = "rights@herald.example"
{hook}""")


def run(cfg: Path) -> str:
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err
    return r.out


def recheck(cfg: Path, *ids: int) -> str:
    r = provmon("--config", str(cfg), "recheck", *map(str, ids))
    assert r.code == 0, r.out + r.err
    return r.out


def events(db: Path, alert_id: int) -> list[tuple[str, str]]:
    return [(e["event"], e["detail"]) for e in rows(db, "SELECT event, detail FROM alert_events WHERE alert_id = ? "
                                                        "ORDER BY id", alert_id)]


def sent(webhook: Webhook) -> list[tuple[str, dict[str, Any], str]]:
    """(event, alert, idempotency key) of every webhook request received."""
    out = []
    for req in webhook.received:
        body = json.loads(req["body"])
        out.append((body["event"], body["alert"], req["headers"]["idempotency-key"]))
    return out


def alert_json(cfg: Path) -> list[dict[str, Any]]:
    r = provmon("--config", str(cfg), "alerts", "--json")
    assert r.code == 0, r.err
    return r.json_lines()


def location(cfg: Path, alert_id: int) -> str:
    """Section 2 of the takedown draft: the infringing material and where it is."""
    r = provmon("--config", str(cfg), "notice", str(alert_id))
    assert r.code == 0, r.err
    return r.out.split("2. The infringing material")[1].split("3. Contact")[0]


# -- 1. a copy that grows -----------------------------------------------------------------------------------------
def test_the_rule_for_a_copy_that_grew() -> None:
    assert grew("partial", 0.30, "verbatim", 1.0)  # the excerpt became the whole article
    assert grew("partial", 0.30, "partial", 0.50)  # twenty points more of it
    assert grew("partial", 0.79, "verbatim", 0.80)  # word for word now, across the verbatim threshold
    assert grew("paraphrased", 0.64, "verbatim", 0.64)  # the rewrite replaced by the text itself
    assert not grew("partial", 0.30, "partial", 0.45)  # a paragraph more: the same excerpt, about
    assert not grew("paraphrased", 0.64, "paraphrased", 0.80)
    assert not grew("verbatim", 1.0, "partial", 0.30)  # shrinking never downgrades
    assert not grew("verbatim", 0.9, "verbatim", 1.0)
    assert not grew("paraphrased", 0.70, "verbatim", 0.60)


def test_an_excerpt_that_becomes_the_whole_article_is_one_alert_updated_and_told_once(
        tmp_path: Path, copier: Copier, webhook: Webhook) -> None:
    copier.pages[STORY] = excerpt()
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    (first,) = rows(db, "SELECT * FROM alerts")
    assert (first["kind"], round(first["coverage"], 1), first["severity"]) == ("partial", 0.3, "medium"), dict(first)

    # The post now carries the whole article, at the same address: the alert says so, with the new evidence.
    copier.pages[STORY] = COPY
    out = run(cfg)
    assert "0 new alerts" in out
    (now,) = rows(db, "SELECT * FROM alerts")
    assert (now["id"], now["kind"], now["coverage"], now["severity"]) == (first["id"], "verbatim", 1.0, "high")
    assert f"  GREW #{now['id']}: the copy grew: partial 30% -> verbatim 100% of the article\n" in out
    assert now["match_id"] != first["match_id"]
    grown = rows(db, "SELECT * FROM matches WHERE id = ?", now["match_id"])[0]
    assert (grown["kind"], grown["disposition"], grown["page_url"]) == ("verbatim", "alert", copier.url(STORY))
    assert grown["copy_shingles"] is not None  # kept now, as for a detection: the tag page below is compared with it
    captures = rows(db, "SELECT reason, match_id, url FROM evidence WHERE alert_id = ? ORDER BY id", now["id"])
    assert [(c["reason"], c["match_id"]) for c in captures] == [("detected", first["match_id"]),
                                                                ("grew", now["match_id"])]
    assert events(db, now["id"])[-1] == ("grew", "partial 30% -> verbatim 100% of the article")
    told = sent(webhook)
    assert [e for e, _, _ in told] == ["copy_detected", "copy_grew"]
    _, payload, key = told[1]
    assert (payload["kind"], payload["coverage"], payload["severity"]) == ("verbatim", 1.0, "high")
    assert payload["grew"]["detail"] == "partial 30% -> verbatim 100% of the article"
    grew_event = rows(db, "SELECT id FROM alert_events WHERE event = 'grew'")[0]["id"]
    assert key == f"provmon-alert-{now['id']}-copy_grew-{grew_event}-webhook"
    # The evidence page shows the copy as it is now: the grown capture's text, its passages highlighted in it.
    report = tmp_path / "report.html"
    assert provmon("--config", str(cfg), "report", str(now["id"]), "-o", str(report)).code == 0
    html = report.read_text(encoding="utf-8")
    assert "partial 30% -&gt; verbatim 100%" in html and html.count('<mark id="p') == len(json.loads(grown["passages"]))

    # The whole copy shows up on a tag page of the site: the same copy, so an address of the one alert (before, its
    # 3-grams were compared with the excerpt's and it became a second alert).
    copier.pages[TAG] = listing("harbour")
    assert "0 new alerts" in run(cfg)
    (now,) = rows(db, "SELECT * FROM alerts")
    with Store(db) as store:
        assert store.addresses(now["id"]) == [copier.url(STORY), copier.url(TAG)]

    # Scanned again (every page fetched anew): the same growth is not told twice; and a copy cut back to an excerpt
    # does not downgrade the alert, nor tell anyone.
    out = run(cfg)
    assert "0 new alerts" in out and "GREW" not in out
    copier.pages[STORY] = excerpt()
    assert "0 new alerts" in run(cfg)
    (now,) = rows(db, "SELECT * FROM alerts")
    assert (now["kind"], now["coverage"]) == ("verbatim", 1.0)
    assert [e for e, _, _ in sent(webhook)] == ["copy_detected", "copy_grew"]
    assert [e for e, _ in events(db, now["id"])].count("grew") == 1


def test_a_recheck_finds_a_grown_copy_too(tmp_path: Path, copier: Copier, webhook: Webhook) -> None:
    """A copy whose page the scans no longer reach (out of the crawl's bounds) grows under the recheck's eyes."""
    copier.pages[STORY] = excerpt()
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    (alert,) = rows(db, "SELECT id FROM alerts")
    copier.pages[STORY] = COPY
    out = recheck(cfg)
    assert "0 gone, 0 back, 0 inconclusive, 1 grew" in out and f"GREW #{alert['id']}" in out, out
    (now,) = rows(db, "SELECT kind, coverage, severity FROM alerts")
    assert tuple(now) == ("verbatim", 1.0, "high")
    assert [r["reason"] for r in rows(db, "SELECT reason FROM evidence ORDER BY id")] == ["detected", "grew"]
    # Again: nothing more grew, nobody is told again, and a scan now agrees.
    assert "0 grew" in recheck(cfg)
    assert "0 new alerts" in run(cfg)
    assert [e for e, _, _ in sent(webhook)] == ["copy_detected", "copy_grew"]


def test_each_message_tells_its_own_event_though_sent_after_the_copy_grew(
        tmp_path: Path, copier: Copier, webhook: Webhook) -> None:
    """The channel is down when the excerpt is found, and still down when it has grown: the detection, sent once it is
    back, reports the excerpt that was found (not the grown copy, which its own `copy_grew` message reports)."""
    copier.pages[STORY] = excerpt()
    webhook.status[0] = 503
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    copier.pages[STORY] = COPY
    assert "0 new alerts" in run(cfg)
    db = tmp_path / "provmon.db"
    assert [n["event"] for n in rows(db, "SELECT event FROM notifications WHERE status != 'sent' ORDER BY id")] == [
        "copy_detected", "copy_grew"]
    webhook.status[0] = 200
    conn = sqlite3.connect(db)  # the failed send's backoff is over
    with conn:
        conn.execute("UPDATE notifications SET next_attempt_at = NULL")
    conn.close()
    run(cfg)
    told = [(json.loads(r["body"]), r["headers"]["idempotency-key"]) for r in webhook.received if r["status"] == 200]
    (found, _), (grown, _) = told
    assert found["event"] == "copy_detected" and grown["event"] == "copy_grew"
    first, now = found["alert"], grown["alert"]
    assert (first["kind"], round(first["coverage"], 1), first["severity"], first["grew"], first["status"]) == (
        "partial", 0.3, "medium", None, "new")
    assert (now["kind"], now["coverage"], now["severity"]) == ("verbatim", 1.0, "high") and now["grew"]
    assert len(first["passages"]) < len(now["passages"]) or \
        sum(len(p["page_text"]) for p in first["passages"]) < sum(len(p["page_text"]) for p in now["passages"])
    with Store(db) as store:  # an email made from the same rows says the same
        (n_found, n_grown) = [(n["alert_id"], n["snapshot"]) for n in store.notifications()]
        assert "Kind:      partial" in email_text(store.alert_as_of(*n_found))
        assert "Grew:" not in email_text(store.alert_as_of(*n_found))
        assert "Kind:      verbatim" in email_text(store.alert_as_of(*n_grown), "copy_grew")


def test_a_message_queued_before_the_upgrade_tells_the_alert_as_it_is(tmp_path: Path, webhook: Webhook) -> None:
    """A notification queued by schema 14 (no snapshot of its event) is still sent after the upgrade, with the alert
    as it is then (what that provmon would have sent)."""
    db = tmp_path / "old.db"
    conn = old_database(db, 14)
    conn.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) VALUES "
                 "(1, 'https://herald.example/crane', 'Crane', 'Some text.', 'h1', '2026-01-01T00:00:00+00:00')")
    conn.execute("INSERT INTO matches (id, article_id, page_url, site, content_sha256, kind, coverage, page_share, "
                 "longest_run, score, passages, found_at) VALUES (1, 1, 'https://c.example/a/', 'copier', 's1', "
                 "'verbatim', 1.0, 0.9, 30, 0.9, ?, '2026-01-02T00:00:00+00:00')",
                 [json.dumps(text_match(FULL_TEXT, "verbatim", 1.0)["passages"])])
    conn.execute("INSERT INTO alerts (id, created_at, article_id, article_title, article_url, copy_url, site, kind, "
                 "coverage, page_share, status, match_id, severity, credit, updated_at) VALUES (1, "
                 "'2026-01-02T00:00:00+00:00', 1, 'Crane', 'https://herald.example/crane', 'https://c.example/a/', "
                 "'copier', 'verbatim', 1.0, 0.9, 'new', 1, 'high', 'none', '2026-01-02T00:00:00+00:00')")
    conn.execute("INSERT INTO notifications (alert_id, channel, idempotency_key, created_at) "
                 "VALUES (1, 'webhook', 'provmon-alert-1-webhook', '2026-01-02T00:00:00+00:00')")
    conn.commit()
    conn.close()
    from monitor.config import Channel
    from monitor.notify import deliver_pending

    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert [n["snapshot"] for n in store.notifications()] == [None]
        assert deliver_pending(store, (Channel(type="webhook", name="webhook", url=webhook.url),)) == (1, 0)
    (sent_,) = sent(webhook)
    assert sent_[0] == "copy_detected" and (sent_[1]["kind"], sent_[1]["coverage"]) == ("verbatim", 1.0)
    assert sent_[1]["passages"][0]["page_text"] == FULL_TEXT and sent_[2] == "provmon-alert-1-webhook"
    assert (tmp_path / "old.db.v14.bak").exists()


def text_match(text: str, kind: str, coverage: float) -> dict[str, Any]:
    """A match as Match.to_dict gives it, its page side being `text`."""
    return {"kind": kind, "coverage": coverage, "page_share": 0.9, "longest_run": 30, "score": 0.9,
            "passages": [{"article_start": 0, "article_end": 100, "page_start": 0, "page_end": len(text),
                          "score": 0.9, "verbatim": kind != "paraphrased", "article_text": "x", "page_text": text}]}


EXCERPT_TEXT = ("The harbour board of Wendlecombe met on a wet Thursday to hear why the old crane on the east quay had "
                "stopped turning, and the engineer told them the bearings had rusted through after forty winters. ")
FULL_TEXT = EXCERPT_TEXT + (
    "Members asked whether the crane could be saved for the museum, and the engineer said it could, at a price. "
    "The chair proposed a public appeal, the treasurer warned about the cost of scaffolding on a tidal quay, and "
    "in the end the board agreed to ask the county for a survey before anyone climbed the rusted jib again. "
    "Fishermen who use the quay said they would miss the sound of it swinging over the boats at dawn.")


def test_a_bigger_match_on_a_page_listing_another_alerts_copy_does_not_grow_this_one(tmp_path: Path) -> None:
    """A tag page of the excerpt's alert that now lists another post, the whole article copied, as well: that post's
    alert gets the address; the excerpt's alert stays as it is. Once the excerpt's own address no longer carries it,
    a bigger copy at one of its other addresses is the copy grown."""
    with Store(tmp_path / "provmon.db") as store:
        aid, _ = store.add_article("https://herald.example/crane", "Crane", "Some text.", [1, 2, 3])
        article = store.article(aid)

        def record(url: str, sha: str, text: str, kind: str, coverage: float) -> tuple[int, bool]:
            return store.record_alert(article=article, site="copier", page_url=url, content_sha256=sha,
                                      match=text_match(text, kind, coverage), channels=["hook"])

        a, b, tag = "https://copier.example/a/", "https://copier.example/b/", "https://copier.example/tag/"
        assert record(a, "a1", EXCERPT_TEXT, "partial", 0.3) == (1, True)
        assert record(tag, "t1", EXCERPT_TEXT, "partial", 0.3) == (1, False)  # listed on the tag page
        assert record(b, "b1", FULL_TEXT, "verbatim", 1.0) == (2, True)  # another post: the whole article
        assert record(tag, "t2", FULL_TEXT, "verbatim", 1.0) == (2, False)  # the tag page lists it too
        one = store.alert(1)
        assert (one["kind"], one["coverage"]) == ("partial", 0.3) and "grew" not in [
            e["event"] for e in store.alert_events(1)]
        assert store.addresses(2) == [b, tag]
        assert [n["event"] for n in store.notifications()] == ["copy_detected", "copy_detected"]

    with Store(tmp_path / "second.db") as store:
        aid, _ = store.add_article("https://herald.example/crane", "Crane", "Some text.", [1, 2, 3])
        article = store.article(aid)
        assert store.record_alert(article=article, site="copier", page_url=a, content_sha256="a1",
                                  match=text_match(EXCERPT_TEXT, "partial", 0.3), channels=["hook"]) == (1, True)
        store.record_alert(article=article, site="copier", page_url=tag, content_sha256="t1",
                           match=text_match(EXCERPT_TEXT, "partial", 0.3), channels=["hook"])
        # The whole article on the tag page while the post still carries its excerpt: not the post grown.
        store.record_alert(article=article, site="copier", page_url=tag, content_sha256="t2",
                           match=text_match(FULL_TEXT, "verbatim", 1.0), channels=["hook"])
        assert store.alert(1)["kind"] == "partial"
        # The post is gone (a recheck said so); the tag page carries the copy, now whole: grown there.
        store.record_check(1, "still there at the tag page", [Probe(a, "gone", "HTTP 404"), Probe(tag, "there")], 1)
        store.record_alert(article=article, site="copier", page_url=tag, content_sha256="t3",
                           match=text_match(FULL_TEXT + " Seen 3 times.", "verbatim", 1.0), channels=["hook"])
        grown = store.alert(1)
        assert (grown["kind"], grown["coverage"], grown["gone_from"], grown["also_at"]) == (
            "verbatim", 1.0, [a], [tag])
        assert grown["grew"]["detail"] == f"partial 30% -> verbatim 100% of the article at {tag}"
        assert [n["event"] for n in store.notifications()] == ["copy_detected", "copy_grew"]


def test_a_growth_is_recorded_whole_or_not_at_all_and_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The alert's update, its event, its capture and its notifications are one transaction; two processes that see
    the same growth (the service's scan and a `provmon run --once`, or a recheck) record it once."""
    from monitor.evidence import Evidence

    db = tmp_path / "provmon.db"
    post = "https://copier.example/a/"

    def evidence(body: bytes) -> Evidence:
        return Evidence("2026-11-20T10:00:00+00:00", post, post, 200, {}, "sha", body, "text")

    with Store(db) as store:
        aid, _ = store.add_article("https://herald.example/crane", "Crane", "Some text.", [1, 2, 3])
        article = store.article(aid)
        store.record_alert(article=article, site="copier", page_url=post, content_sha256="a1",
                           match=text_match(EXCERPT_TEXT, "partial", 0.3), channels=["mail", "hook"],
                           severity="medium", evidence=evidence(b"<p>excerpt</p>"))
        before = dict(store.alert(1))
        counts = {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("matches", "evidence", "alert_events", "notifications")}

        def crash(*args: Any, **kw: Any) -> int:
            raise OSError("disk full")

        real = Store._insert_evidence
        monkeypatch.setattr(Store, "_insert_evidence", crash)
        with pytest.raises(OSError):
            store.record_alert(article=article, site="copier", page_url=post, content_sha256="a2",
                               match=text_match(FULL_TEXT, "verbatim", 1.0), channels=["mail", "hook"],
                               severity="high", evidence=evidence(b"<p>whole</p>"))
        assert dict(store.alert(1)) == before
        assert counts == {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in counts}
        monkeypatch.setattr(Store, "_insert_evidence", real)

    # Two processes, each with its own connection, see the grown copy: one growth, one message per channel.
    with Store(db) as one, Store(db) as two:
        for store, sha in ((one, "a2"), (two, "a3")):
            store.record_alert(article=article, site="copier", page_url=post, content_sha256=sha,
                               match=text_match(FULL_TEXT, "verbatim", 1.0), channels=["mail", "hook"],
                               severity="high", evidence=evidence(b"<p>whole</p>"))
        assert not two.grow(1, article_id=aid, page_url=post, content_sha256="a4",
                            match=text_match(FULL_TEXT, "verbatim", 1.0), severity="high", credit="none",
                            credit_detail="", hidden=0.0, evidence=None, channels=["mail", "hook"])
        assert [e["event"] for e in one.alert_events(1)] == ["detected", "grew"]
        grew_rows = [(n["channel"], n["event"]) for n in one.notifications() if n["event"] == "copy_grew"]
        assert grew_rows == [("mail", "copy_grew"), ("hook", "copy_grew")]
        assert one.alert(1)["severity"] == "high"


# -- 2. where the copy is now -------------------------------------------------------------------------------------
def test_the_notice_names_where_the_copy_is_now(tmp_path: Path, copier: Copier, webhook: Webhook) -> None:
    coast = "/tag/coast/"
    copier.pages.update({STORY: COPY, TAG: listing("harbour"), coast: listing("coast")})
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    (alert,) = rows(db, "SELECT id FROM alerts")
    aid = alert["id"]
    with Store(db) as store:
        addresses = store.addresses(aid)
    assert sorted(addresses) == sorted(copier.url(p) for p in (STORY, TAG, coast))
    # Its own address (the page the scan met first: pages are fetched in parallel) and two others, the first of which
    # will be dropped from the page (as a tag page drops a post).
    own, tag, other = addresses
    own_path, tag_path, other_path = (u.removeprefix(copier.served.base) for u in addresses)

    # Newer posts pushed it off one of those pages: the alert stays open, and the page is no longer named as a place
    # the copy is, only apart, as where it was.
    copier.pages[tag_path] = other_post(7)
    assert "0 gone, 0 back" in recheck(cfg)
    (row,) = alert_json(cfg)
    assert (row["status"], row["also_at"], row["gone_from"]) == ("notified", [other], [tag])
    assert events(db, aid)[-1] == ("gone_from", f"{tag} (the page no longer copies the article)")
    where = location(cfg, aid)
    now, before = where.split("no longer carried it")
    assert own in now and other in now and tag not in now, where
    assert tag in before
    with Store(db) as store:
        mail = store.alert(aid)
    assert f"Also at:   {other}" in email_text(mail) and f"Gone from: {tag}" in email_text(mail)
    assert "<th align=left>Gone from</th><td>" + tag in email_html(mail)
    report = tmp_path / "report.html"
    assert provmon("--config", str(cfg), "report", str(aid), "-o", str(report)).code == 0
    facts = report.read_text(encoding="utf-8").split("<th>Also at</th>")[1].split("<th>Site</th>")[0]
    assert other in facts.split("No longer at")[0] and tag in facts.split("No longer at")[1]

    # Back on that page: named again. The check fetches every address that is said to carry the copy.
    copier.pages[tag_path] = COPY if tag_path == STORY else listing(tag_path)
    copier.hits.clear()
    assert "0 gone, 0 back" in recheck(cfg)
    assert {p: copier.hits[p] for p in (STORY, TAG, coast)} == {STORY: 1, TAG: 1, coast: 1}
    (row,) = alert_json(cfg)
    assert (row["also_at"], row["gone_from"]) == ([tag, other], [])
    assert events(db, aid)[-1] == ("back_at", f"{tag} (still there: verbatim, 100% of the article)")

    # Taken down at its own address, still at the two others: open, and the notice names those two only.
    del copier.pages[own_path]
    assert "0 gone, 0 back" in recheck(cfg)
    (row,) = alert_json(cfg)
    assert (row["status"], row["also_at"], row["gone_from"]) == ("notified", [tag, other], [own])
    now, before = location(cfg, aid).split("no longer carried it")
    assert tag in now and other in now and own not in now and own in before

    # Gone from every address: removed, and the message says where it is gone from.
    del copier.pages[tag_path], copier.pages[other_path]
    assert "1 gone" in recheck(cfg)
    (row,) = alert_json(cfg)
    assert (row["status"], row["also_at"], row["gone_from"]) == ("removed", [], [own, tag, other])
    event, payload, _ = sent(webhook)[-1]
    assert event == "copy_removed" and payload["also_at"] == [] and payload["gone_from"] == [own, tag, other]
    where = location(cfg, aid)
    assert "none of them carried it" in where and all(u in where for u in (own, tag, other))
    assert [e for e, _, _ in sent(webhook)] == ["copy_detected", "copy_removed"]  # an address's change tells nobody


# -- 3. a removed copy is rechecked a few addresses at a time ------------------------------------------------------
def test_the_recheck_plan() -> None:
    from monitor.scan import GONE_PROBES, recheck_plan

    own = Address("https://c.example/a", present=False, probed=4)
    gone = [Address(f"https://c.example/t{i}", present=False, probed=p) for i, p in enumerate([4, 3, 3, 4, 0, 3])]
    there = Address("https://c.example/amp", present=True, probed=4)
    plan = recheck_plan([own, gone[0], there, *gone[1:]])
    # Its own address, every address said to carry it, then the gone ones fetched least recently (in the order found).
    assert GONE_PROBES == 3
    assert plan == [own.url, there.url, gone[4].url, gone[1].url, gone[2].url]
    assert recheck_plan([own]) == [own.url]


def test_a_removed_copy_costs_a_few_fetches_a_recheck_and_is_still_found_back_anywhere(
        tmp_path: Path, copier: Copier, webhook: Webhook) -> None:
    tags = [f"/tag/t{i}/" for i in range(1, 8)]
    copier.pages[STORY] = COPY
    copier.pages.update({t: listing(t) for t in tags})
    cfg = config(tmp_path, copier, webhook)
    assert "1 new alert," in run(cfg)
    db = tmp_path / "provmon.db"
    (alert,) = rows(db, "SELECT id, copy_url FROM alerts")
    aid = alert["id"]
    with Store(db) as store:
        addresses = store.addresses(aid)
    assert sorted(addresses) == sorted(copier.url(t) for t in [STORY, *tags])
    paths = [u.removeprefix(copier.served.base) for u in addresses]  # its own address first

    # Taken down everywhere: every address is fetched once to say so.
    for p in paths:
        del copier.pages[p]
    copier.hits.clear()
    assert "1 gone" in recheck(cfg)
    assert {p: copier.hits[p] for p in paths} == dict.fromkeys(paths, 1)

    # Then each recheck fetches its own address and three others, in turn; the copy back at the address fetched last
    # is found within ceil(7 / 3) = 3 rechecks.
    last = paths[-1]
    copier.pages[last] = listing(last)
    fetched = []
    attempt = 0
    while attempt < 3:
        attempt += 1
        copier.hits.clear()
        out = recheck(cfg)
        fetched.append(sorted(p for p in paths if copier.hits[p]))
        assert sum(copier.hits[p] for p in paths) == len(fetched[-1]) <= 4, fetched
        if "1 back" in out:
            break
    assert "1 back" in out and attempt == 3, (attempt, fetched)
    assert all(paths[0] in f for f in fetched)
    assert sorted({p for f in fetched for p in f}) == sorted(paths)  # every address, none twice in a row
    (row,) = alert_json(cfg)
    assert (row["status"], row["also_at"]) == ("notified", [copier.url(last)])
    assert set(row["gone_from"]) == {copier.url(p) for p in paths[:-1]}
    assert events(db, aid)[-2][0] == "removed" and events(db, aid)[-1][0] == "reopened"

    # Removed again; back at another tag page that a scan reaches: the scan marks it, the next recheck fetches it first.
    del copier.pages[last]
    assert "1 gone" in recheck(cfg)
    middle = paths[3]
    copier.pages[middle] = listing(f"{middle} (page 2)")  # not the bytes last matched there: the crawl skips those
    assert "0 new alerts" in run(cfg)
    assert events(db, aid)[-1] == ("back_at", f"{copier.url(middle)} (found by a scan)")
    copier.hits.clear()
    assert "1 back" in recheck(cfg)
    assert [p for p in paths if copier.hits[p]] == [paths[0], middle]
    assert [e for e, _, _ in sent(webhook)] == ["copy_detected", "copy_removed", "copy_reopened", "copy_removed",
                                                 "copy_reopened"]


# -- the upgrade ----------------------------------------------------------------------------------------------------
def test_the_upgrade_keeps_every_alert_and_marks_the_removed_ones_addresses_gone(tmp_path: Path) -> None:
    """A database as schema 13 (the release before) wrote it: an open alert at three addresses, a removed one at two,
    an ignored one. Every alert reads the same after the upgrade; the removed copy's addresses are gone (its recheck
    fetched them all and found it at none), the open one's are where it is."""
    db = tmp_path / "old.db"
    conn = old_database(db, 13)
    conn.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) VALUES "
                 "(1, 'https://herald.example/crane', 'Crane', 'Some text.', 'h1', '2026-01-01T00:00:00+00:00')")
    passages = json.dumps(text_match(FULL_TEXT, "verbatim", 1.0)["passages"])
    for mid, url in enumerate(("https://c.example/a/", "https://c.example/b/", "https://c.example/c/"), 1):
        conn.execute("INSERT INTO matches (id, article_id, page_url, site, content_sha256, kind, coverage, page_share, "
                     "longest_run, score, passages, found_at) VALUES (?, 1, ?, 'copier', ?, 'verbatim', 1.0, 0.9, 30, "
                     "0.9, ?, '2026-01-02T00:00:00+00:00')", [mid, url, f"s{mid}", passages])
    for aid, url, status in ((1, "https://c.example/a/", "notified"), (2, "https://c.example/b/", "removed"),
                             (3, "https://c.example/c/", "ignored")):
        conn.execute("INSERT INTO alerts (id, created_at, article_id, article_title, article_url, copy_url, site, "
                     "kind, coverage, page_share, status, match_id, severity, credit, updated_at, last_checked_at, "
                     "last_check) VALUES (?, '2026-01-02T00:00:00+00:00', 1, 'Crane', 'https://herald.example/crane', "
                     "?, 'copier', 'verbatim', 1.0, 0.9, ?, ?, 'high', 'none', '2026-01-03T00:00:00+00:00', "
                     "'2026-01-03T00:00:00+00:00', 'HTTP 404')", [aid, url, status, aid])
    also = [(1, "https://c.example/a/amp"), (1, "https://c.example/tag/x/"), (2, "https://c.example/tag/y/")]
    conn.executemany("INSERT INTO alert_events (alert_id, at, event, detail) VALUES (?, '2026-01-02T01:00:00+00:00', "
                     "'also_at', ?)", also)
    conn.execute("INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, status) "
                 "VALUES (1, 'hook', 'provmon-alert-1-hook', '2026-01-02', 'sent')")
    conn.commit()
    before = [dict(r) for r in rows(db, "SELECT * FROM alerts ORDER BY id")]
    conn.close()

    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        after = [dict(r) for r in rows(db, "SELECT * FROM alerts ORDER BY id")]
        assert after == before
        assert [(a["id"], a["also_at"], a["gone_from"]) for a in reversed(store.alerts())] == [
            (1, ["https://c.example/a/amp", "https://c.example/tag/x/"], []),
            (2, [], ["https://c.example/b/", "https://c.example/tag/y/"]),
            (3, [], [])]
        assert [a.present for a in store.address_states(2)] == [False, False]
        assert store.db.execute("SELECT count(*) FROM alert_log").fetchone()[0] == 3
    assert (tmp_path / "old.db.v13.bak").exists()
    # Only the removed copy's addresses needed a row: an address without one carries the copy as far as is known.
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM alert_addresses").fetchone()[0] == 2
    conn.close()
