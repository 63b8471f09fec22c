"""`provmon articles` lists what is tracked; `provmon untrack` stops tracking an article (no page is compared with
it again) and keeps its alerts; tracking its text again takes them over."""

from __future__ import annotations

import html
import shutil
import sqlite3
from pathlib import Path

from monitor.extract import text_of
from monitor.fingerprint import article_fingerprints_of, page_fingerprints_of
from monitor.store import Store
from tests.conftest import DEMO, demo_config, provmon, rows, write_config
from tests.test_match import ARTICLE, PARAGRAPHS
from tests.test_store import MATCH

PUBLIC = "https://harbour-herald.example/2026/11/sea-wall-gives-way"  # the demo article's canonical address


def two_articles(tmp_path: Path) -> tuple[Path, Path]:
    cfg = write_config(tmp_path / "c.toml", "")
    (tmp_path / "fire.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "gardens.txt").write_text("Allotment holders in Wexbridge voted on Monday to keep the plots open "
                                          "through the winter, after a season of record harvests.\n\n" * 3,
                                          encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(tmp_path / "fire.txt"), str(tmp_path / "gardens.txt"))
    assert r.code == 0, r.err
    page = tmp_path / "copy.txt"
    page.write_text("Reposted from elsewhere\n\n" + "\n\n".join(PARAGRAPHS[:6]), encoding="utf-8")
    return cfg, page


def test_articles_lists_newest_first_and_searches(tmp_path: Path) -> None:
    cfg, _ = two_articles(tmp_path)
    r = provmon("--config", str(cfg), "articles")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert [line.split()[0] for line in lines] == ["#2", "#1"]
    assert "0 alerts, 0 open" in lines[0] and (tmp_path / "gardens.txt").as_uri() in lines[0]
    js = provmon("--config", str(cfg), "articles", "--json", "--search", "HARBORTON").json_lines()
    assert [(a["id"], a["url"], a["alerts"], a["open_alerts"], a["untracked_at"]) for a in js] == [
        (1, (tmp_path / "fire.txt").as_uri(), 0, 0, None)]
    assert js[0]["chars"] == len(ARTICLE)
    assert [a["id"] for a in provmon("--config", str(cfg), "articles", "--json", "--limit", "1").json_lines()] == [2]
    none = provmon("--config", str(cfg), "articles", "--search", "no such words")
    assert (none.code, none.out.strip()) == (0, "no tracked articles matching 'no such words'")


def test_untracked_article_is_no_longer_compared(tmp_path: Path) -> None:
    cfg, page = two_articles(tmp_path)
    assert provmon("--config", str(cfg), "check", str(page)).code == 0  # a copy of #1
    r = provmon("--config", str(cfg), "untrack", str(tmp_path / "fire.txt"))
    assert r.code == 0, r.err
    assert r.out.startswith("untracked #1: HARBORTON") and "kept in the log" not in r.out
    after = provmon("--config", str(cfg), "check", str(page))
    assert after.code == 1 and "no copy" in after.out, after.out
    assert [a["id"] for a in provmon("--config", str(cfg), "articles", "--json").json_lines()] == [2]
    # Nothing referred to it: nothing is kept.
    assert provmon("--config", str(cfg), "articles", "--untracked").out.strip() == \
        "no untracked articles kept for their alerts"
    assert [r["id"] for r in rows(tmp_path / "provmon.db", "SELECT id FROM articles")] == [2]
    # Tracked again, it is compared again.
    again = provmon("--config", str(cfg), "track", str(tmp_path / "fire.txt"))
    assert again.out.startswith("tracked #3"), again.out
    assert provmon("--config", str(cfg), "check", str(page)).code == 0


def test_untrack_reports_each_input(tmp_path: Path) -> None:
    cfg, _ = two_articles(tmp_path)
    r = provmon("--config", str(cfg), "untrack", "#2", "99", str(tmp_path / "nothing.txt"))
    assert r.code == 2
    assert r.out.startswith("untracked #2: Allotment holders")
    assert f"error: {tmp_path / 'provmon.db'}: no tracked article #99 (provmon articles lists them)" in r.err
    assert f"error: {(tmp_path / 'nothing.txt').as_uri()}: no article is tracked under or from this address" in r.err
    js = provmon("--config", str(cfg), "untrack", "--json", "2", "1").json_lines()
    assert [(o["id"], o["outcome"]) for o in js] == [(2, "unknown"), (1, "untracked")]  # #2 had nothing kept


def site_config(tmp_path: Path) -> tuple[Path, Path]:
    """The demo's publisher and copier folders in tmp_path (so a test can add a page), watched by a config with no
    [[track]] entry."""
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo)
    cfg = write_config(tmp_path / "c.toml",
                       f'[[sites]]\nname = "scraper"\nstart_urls = ["{demo}/scraper/index.html"]\n')
    return cfg, demo


def test_untrack_keeps_alerts_and_tracking_again_takes_them_over(tmp_path: Path) -> None:
    cfg, demo = site_config(tmp_path)
    original = demo / "publisher" / "sea-wall-gives-way.html"
    assert provmon("--config", str(cfg), "track", str(original)).code == 0
    first = provmon("--config", str(cfg), "run", "--once")
    assert "2 new alerts" in first.out, first.out + first.err
    r = provmon("--config", str(cfg), "untrack", str(original))
    assert r.code == 0 and "warning" not in r.err, r.err
    assert r.out.strip() == ("untracked #1: Sea wall gives way in Port Elling, forcing 1,200 from their homes "
                             "(2 alerts kept in the log, 2 open: still rechecked (a removed copy back is reopened "
                             "and notified) until ignored) "
                             + PUBLIC)
    kept = provmon("--config", str(cfg), "articles", "--untracked", "--json").json_lines()
    assert [(a["id"], a["alerts"], a["open_alerts"], a["source"]) for a in kept] == [(1, 2, 2, original.as_uri())]
    assert provmon("--config", str(cfg), "articles").out.strip() == "no tracked articles"
    listed = provmon("--config", str(cfg), "alerts").out
    assert listed.count(f"<{PUBLIC}> (untracked)") == 2, listed  # the alert log says whose article stopped
    # A new copy on the watched site, while the article is untracked: no alert.
    paragraphs = text_of(original.read_bytes(), "text/html", original.as_uri()).text.split("\n\n")
    excerpt = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:6])
    (demo / "scraper" / "reposted.html").write_text(
        f"<html><head><title>Coastal news</title></head><body><article>{excerpt}</article></body></html>",
        encoding="utf-8")
    index = demo / "scraper" / "index.html"
    index.write_text(index.read_text(encoding="utf-8").replace("</body>", '<a href="reposted.html">more</a></body>'),
                     encoding="utf-8")
    quiet = provmon("--config", str(cfg), "run", "--once")
    assert quiet.code == 0 and "0 new alerts" in quiet.out, quiet.out + quiet.err
    recheck = provmon("--config", str(cfg), "recheck")
    assert "rechecked 2 copies: 0 gone" in recheck.out, recheck.out + recheck.err
    # Tracked again: a new article that takes the alerts over; the page scanned meanwhile is compared with it.
    again = provmon("--config", str(cfg), "track", "--json", str(original)).json_lines()[0]
    assert (again["id"], again["created"], again["replaces"], again.get("again")) == (2, True, 1, True)
    text = provmon("--config", str(cfg), "track", str(original))
    assert text.out.startswith("already tracked #2"), text.out
    last = provmon("--config", str(cfg), "run", "--once")
    assert "1 new alert," in last.out, last.out + last.err
    found = rows(tmp_path / "provmon.db", "SELECT id, article_id, copy_url FROM alerts ORDER BY id")
    assert {(a["article_id"], Path(a["copy_url"]).name) for a in found} == {
        (2, "storm-marren-seawall-collapse.html"), (2, "sea-wall-gives-way.html"), (2, "reposted.html")}
    assert Path(found[-1]["copy_url"]).name == "reposted.html"


def test_untracking_a_track_entry_warns_that_the_service_tracks_it_again(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    r = provmon("--config", str(cfg), "untrack", "1")
    assert r.code == 0, r.err
    assert r.err.strip() == (f"warning: #1 is a [[track]] entry of {cfg}: the service and provmon run "
                             "track it again unless the entry is removed from the config")
    status = provmon("--config", str(cfg), "status", "--json").json_lines()[0]
    assert status["tracked_articles"] == 0
    run = provmon("--config", str(cfg), "run", "--once")
    assert "0 new alerts" in run.out and "(2 alerts in all)" in run.out, run.out
    assert "; tracking 1 article\n" in provmon("--config", str(cfg), "status").out
    assert [(a["id"], a["alerts"]) for a in provmon("--config", str(cfg), "articles", "--json").json_lines()] == [
        (2, 2)]


def test_an_untracked_article_stays_out_of_the_index(tmp_path: Path) -> None:
    """Nothing that rebuilds the index brings it back, and a scan that compared a page with it before it was
    untracked raises no alert."""
    db = tmp_path / "s.db"
    other = "Allotment holders in Wexbridge voted on Monday to keep the plots open through the winter. " * 8
    with Store(db) as store:
        kept = store.track_articles([("https://pub.example/a", "A", other, article_fingerprints_of(other))])[0].id
        gone = store.track_articles([("https://pub.example/b", "B", ARTICLE, article_fingerprints_of(ARTICLE))])[0].id
        page = page_fingerprints_of(ARTICLE + "\n\n" + other)
        assert {a for a, _ in store.candidates(page, min_shared=1, limit=5)} == {kept, gone}
        article = store.article(gone)
        store.record_alert(article=article, site="s", page_url="https://copy.example/1", content_sha256="h",
                           match=MATCH, channels=[])
        assert [u.outcome for u in store.untrack([gone, gone])] == ["untracked", "untracked already"]
        assert store.article_count() == 1
        assert [a for a, _ in store.candidates(page, min_shared=1, limit=5)] == [kept]
        # A page compared with it before: no alert now.
        assert store.record_alert(article=article, site="s", page_url="https://copy.example/2",
                                  content_sha256="h2", match=MATCH, channels=[]) == (0, False)
        store.db.execute("UPDATE meta SET value = 'old' WHERE key = 'index_fingerprints'")
    with Store(db) as store:  # fingerprints every tracked article again
        assert [a for a, _ in store.candidates(page, min_shared=1, limit=5)] == [kept]
        assert store.alert_count() == 1


def test_untrack_says_removed_alerts_are_still_rechecked(tmp_path: Path) -> None:
    """A removed copy's alert is rechecked for its return (then reopened and notified), untracked or not: said."""
    cfg, demo = site_config(tmp_path)
    original = demo / "publisher" / "sea-wall-gives-way.html"
    assert provmon("--config", str(cfg), "track", str(original)).code == 0
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    conn = sqlite3.connect(tmp_path / "provmon.db")
    conn.execute("UPDATE alerts SET status = 'removed' WHERE id = (SELECT max(id) FROM alerts)")
    conn.commit()
    conn.close()
    assert provmon("--config", str(cfg), "ack", "#1").code == 0  # an id as lists print it
    r = provmon("--config", str(cfg), "untrack", "--json", "#1")
    assert [(d["alerts"], d["open_alerts"], d["removed_alerts"]) for d in r.json_lines()] == [(2, 1, 1)]
    assert provmon("--config", str(cfg), "track", str(original)).code == 0
    r = provmon("--config", str(cfg), "untrack", str(original))
    assert "(2 alerts kept in the log, 1 open and 1 removed: still rechecked (a removed copy back is reopened and " \
           "notified) until ignored)" in r.out, r.out


def test_articles_search_finds_an_article_by_the_file_it_was_read_from(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    story = tmp_path / "harbour-fire.txt"
    story.write_text(ARTICLE, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(story), "--url", "https://herald.example/news/fire").code == 0
    found = provmon("--config", str(cfg), "articles", "--json", "--search", "harbour-fire.txt").json_lines()
    assert [a["url"] for a in found] == ["https://herald.example/news/fire"]
    assert provmon("--config", str(cfg), "articles", "--search", "no-such-file.txt").out.startswith("no tracked")
    both = provmon("--config", str(cfg), "ignore", "--list", "--undo-rule", "1")
    assert both.code == 2 and "are two commands: give one" in both.err


def test_untracking_a_directory_leaves_texts_tracked_from_elsewhere_without_an_error(tmp_path: Path) -> None:
    """`track DIR` said "already tracked #1" for a file holding #1's text; `untrack DIR` undoes what it did and
    says why it leaves #1 alone, with no error."""
    cfg = write_config(tmp_path / "c.toml", "")
    first = tmp_path / "fire.txt"
    first.write_text(ARTICLE, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(first)).code == 0
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "fire-again.txt").write_text(ARTICLE, encoding="utf-8")
    own = "A closing paragraph of our own, written for this archive only, on the harbour's plans for next summer."
    (archive / "other.txt").write_text("\n\n".join([*PARAGRAPHS[:4], own]), encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(archive))
    assert r.code == 0 and "already tracked #1" in r.out, r.out + r.err
    r = provmon("--config", str(cfg), "untrack", str(archive))
    assert r.code == 0, r.out + r.err
    assert f"{(archive / 'fire-again.txt').as_uri()}: its text is #1's, tracked from {first.as_uri()}, not from " \
           f"this file: left tracked (untrack #1 to stop tracking it)" in r.out
    assert "untracked #2" in r.out
    assert [a["id"] for a in provmon("--config", str(cfg), "articles", "--json").json_lines()] == [1]


def test_untrack_of_a_replaced_version_names_the_article_that_replaced_it(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    story = tmp_path / "fire.txt"
    story.write_text(ARTICLE, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(story)).code == 0
    with Store(tmp_path / "provmon.db") as store:  # an alert names #1: its row stays when it is replaced
        store.record_alert(article=store.article(1), site="s", page_url="https://copy.example/1",
                           content_sha256="h", match=MATCH, channels=[])
    story.write_text(ARTICLE.replace("four firefighters", "five firefighters"), encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(story))
    assert r.code == 0 and "replaces #1" in r.out, r.out + r.err
    r = provmon("--config", str(cfg), "untrack", "1")
    assert r.code == 2 and "#1 was replaced by #2 when its text changed: untrack #2" in r.err, r.err
    assert "no tracked article #7" in provmon("--config", str(cfg), "untrack", "7").err


def test_an_edited_file_of_an_article_tracked_before_schema_16_says_how_to_make_it_that_article(
        tmp_path: Path) -> None:
    """Before schema 16 an article tracked with `track FILE --url URL` did not record its file: the edited file
    tracked again is a second article. The near-duplicate warning says how to make it the first one's new text,
    and that way works."""
    import sqlite3

    cfg = write_config(tmp_path / "c.toml", "")
    story = tmp_path / "fire.txt"
    story.write_text(ARTICLE, encoding="utf-8")
    public = "https://herald.example/news/fire"
    assert provmon("--config", str(cfg), "track", str(story), "--url", public).code == 0
    conn = sqlite3.connect(tmp_path / "provmon.db")
    conn.execute("UPDATE articles SET source = NULL")  # as the schema-16 upgrade left it
    conn.commit()
    conn.close()
    story.write_text(ARTICLE.replace("four firefighters", "five firefighters"), encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(story))
    assert (f"if this file is #1's edited text (tracked before provmon recorded which file an article came from), "
            f"run provmon untrack 2, then provmon track {story} --url {public}: it replaces #1 there") in r.err, r.err
    assert provmon("--config", str(cfg), "untrack", "2").code == 0
    r = provmon("--config", str(cfg), "track", str(story), "--url", public)
    assert r.code == 0 and "replaces #1: its text changed" in r.out, r.out + r.err
    assert [a["url"] for a in provmon("--config", str(cfg), "articles", "--json").json_lines()] == [public]


def test_untracking_a_track_entry_with_no_alerts_warns_too(tmp_path: Path) -> None:
    """Its row is deleted (no alerts keep it), so where it was read from is read before: the warning still comes."""
    (tmp_path / "extra.txt").write_text(ARTICLE, encoding="utf-8")
    cfg = write_config(tmp_path / "c.toml", '[[track]]\nsource = "extra.txt"\n')
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    (entry,) = provmon("--config", str(cfg), "articles", "--json").json_lines()
    assert entry["alerts"] == 0
    r = provmon("--config", str(cfg), "untrack", str(entry["id"]))
    assert r.code == 0, r.err
    assert r.err.strip() == (f"warning: #{entry['id']} is a [[track]] entry of {cfg}: the service and provmon run "
                             "track it again unless the entry is removed from the config")
    assert "warning" not in provmon("--config", str(cfg), "untrack", str(entry["id"])).err  # gone already


def test_an_id_with_junk_is_no_file_name(tmp_path: Path) -> None:
    cfg, _ = two_articles(tmp_path)
    r = provmon("--config", str(cfg), "untrack", "#1x")
    assert r.code == 2
    assert "error: '#1x' is not an article id (a whole number, 12 or #12" in r.err
    assert len(provmon("--config", str(cfg), "articles", "--json").json_lines()) == 2
