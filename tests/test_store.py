"""The SQLite store: schema version, one alert per copy, the outbox written with the alert."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.store import SCHEMA_VERSION, Store, StoreError, Tracked
from tests.conftest import old_database, provmon, write_config

MATCH = {"kind": "verbatim", "coverage": 1.0, "page_share": 0.9, "longest_run": 50, "score": 1.0,
         "passages": [{"article_start": 0, "article_end": 10, "page_start": 5, "page_end": 15, "score": 1.0,
                       "verbatim": True}]}


def test_alert_and_outbox_are_written_together_once(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        aid, created = store.add_article("https://pub.example/a", "A title", "some text", [1, 2, 3])
        assert created
        article = store.article(aid)
        first = store.record_alert(article=article, site="s", page_url="https://copy.example/x",
                                   content_sha256="h1", match=MATCH, channels=["email", "hook"])
        assert first[1] is True
        # The page changed (new hash) but it is the same copy URL: new match row, no second alert.
        again = store.record_alert(article=article, site="s", page_url="https://copy.example/x",
                                   content_sha256="h2", match=MATCH, channels=["email", "hook"])
        assert again == (first[0], False)
        notes = store.notifications()
        assert [(n["channel"], n["status"]) for n in notes] == [("email", "pending"), ("hook", "pending")]
        assert store.db.execute("SELECT count(*) FROM matches").fetchone()[0] == 2
        alert = store.alert(first[0])
        assert alert["passages"][0]["page_start"] == 5
        store.mark_sent(notes[0]["id"], first[0])
        assert [n.channel for n in store.pending_notifications(["email", "hook"])] == ["hook"]
        assert store.alert(first[0])["status"] == "notified"


def test_same_text_tracked_once_and_candidates(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        a, _ = store.add_article("u1", "t", "text one", [10, 11, 12, 13])
        b, created = store.add_article("u2", "t", "text one", [10, 11, 12, 13])
        assert (b, created) == (a, False)
        c, _ = store.add_article("u3", "t", "text two", [12, 13, 14])
        assert store.candidates([10, 11, 12, 13, 99], min_shared=2, limit=5) == [(a, 4), (c, 2)]
        assert store.candidates([14], min_shared=2, limit=5) == []
        assert store.candidates([], min_shared=1, limit=5) == []


def test_a_url_tracked_again_with_new_text_has_one_article(tmp_path: Path) -> None:
    """A corrected article (or an edited file) replaces the URL's article: copies are then found once, not once
    per version (one alert each)."""
    with Store(tmp_path / "s.db") as store:
        first = store.track_articles([("https://pub.example/a", "t", "version one", [10, 11, 12, 13])])[0]
        second = store.track_articles([("https://pub.example/a", "t", "version two", [10, 11, 12, 14])])[0]
        assert (second.created, second.replaces) == (True, first.id)
        assert store.article_count() == 1
        assert store.candidates([10, 11, 12, 13, 14], min_shared=1, limit=5) == [(second.id, 4)]
        with pytest.raises(KeyError):  # nothing referred to it: gone
            store.article(first.id)
        # The same text again is not a change; the text under another URL is the same article.
        assert store.track_articles([("https://pub.example/a", "t", "version two", [1])])[0] == Tracked(
            second.id, False, len("version two"), title="t")
        assert store.add_article("https://mirror.example/a", "t", "version two", [1]) == (second.id, False)


def test_a_replaced_article_with_alerts_stays_as_their_record(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        old_id, _ = store.add_article("https://pub.example/a", "t", "version one", [10, 11, 12, 13])
        alert_id, _ = store.record_alert(article=store.article(old_id), site="s", page_url="https://c.example/x",
                                         content_sha256="h1", match=MATCH, channels=[])
        new = store.track_articles([("https://pub.example/a", "t", "version two", [20, 21, 22, 23])])[0]
        assert new.replaces == old_id
        alert = store.alert(alert_id)
        # The alert follows the URL's article (the same copy found again is not a second alert) ...
        assert alert["article_id"] == new.id
        again = store.record_alert(article=store.article(new.id), site="s", page_url="https://c.example/x",
                                   content_sha256="h2", match=MATCH, channels=[])
        assert again == (alert_id, False)
        # ... and the first match keeps the text its offsets point into.
        first_match = store.db.execute("SELECT min(id) FROM matches").fetchone()[0]
        assert store.db.execute("SELECT article_id FROM matches WHERE id = ?", [first_match]).fetchone()[0] == old_id
        assert store.article(old_id).text == "version one"
        assert store.alert(alert_id)["match_article_id"] == old_id  # what `provmon report` slices
        listed = store.alerts(evidence=True)[0]  # and what `alerts --json` tells a script to slice
        assert (listed["article_id"], listed["match_article_id"]) == (new.id, old_id)
        assert store.candidates([10, 11, 12, 13], min_shared=1, limit=5) == []
        assert store.article_count() == 1
        # The old text back (a correction undone): tracked again under a new id, not refused as a duplicate.
        back = store.track_articles([("https://pub.example/a", "t", "version one", [10, 11, 12, 13])])[0]
        assert back.created and back.replaces == new.id and back.id not in (old_id, new.id)
        assert store.candidates([10, 11, 12, 13], min_shared=1, limit=5) == [(back.id, 4)]
        assert store.article_count() == 1


def test_an_alert_for_an_article_replaced_during_the_scan(tmp_path: Path) -> None:
    """A `provmon track` replaces the URL's article between a scan's comparison and its alert (review)."""
    db = tmp_path / "s.db"
    with Store(db) as scan, Store(db) as cli:
        first, _ = scan.add_article("https://pub.example/a", "t", "version one", [1, 2, 3])
        compared = scan.article(first)
        cli.add_article("https://pub.example/a", "t", "version two", [4, 5, 6])  # #1 had no match: deleted
        assert scan.record_alert(article=compared, site="s", page_url="https://c.example/x", content_sha256="h",
                                 match=MATCH, channels=["email"]) == (0, False)  # not a foreign-key error
        assert scan.notifications() == [] and scan.record_licensed(
            article=compared, site="s", page_url="https://c.example/y", content_sha256="h", match=MATCH) == 0
        # Kept for its match, a replaced version hands the alert to the current article: one alert a copy.
        second = cli.article(cli.add_article("https://pub.example/a", "t", "version two", [4, 5, 6])[0])
        cli.record_licensed(article=second, site="s", page_url="https://c.example/z", content_sha256="h",
                            match=MATCH)
        cli.track_articles([("https://pub.example/a", "t", "version three", [7])])  # replaces #2, kept
        current = cli.track_articles([("https://pub.example/a", "t", "version four", [8])])[0]  # #3 deleted
        alert_id, created = scan.record_alert(article=second, site="s", page_url="https://c.example/x",
                                              content_sha256="h", match=MATCH, channels=[])
        assert created and scan.alert(alert_id)["article_id"] == current.id
        assert scan.alert(alert_id)["match_article_id"] == second.id
        again = scan.record_alert(article=scan.article(current.id), site="s", page_url="https://c.example/x",
                                  content_sha256="h2", match=MATCH, channels=[])
        assert again == (alert_id, False)


def test_a_urls_text_already_tracked_under_another_url_retires_its_own(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        a, _ = store.add_article("https://pub.example/a", "t", "text a", [1, 2, 3])
        b, _ = store.add_article("https://pub.example/b", "t", "text b", [4, 5, 6])
        t = store.track_articles([("https://pub.example/a", "t", "text b", [4, 5, 6])])[0]
        assert (t.id, t.created, t.replaces) == (b, False, a)
        assert store.article_count() == 1 and store.candidates([1, 2, 3], 1, 5) == []


def test_prune_drops_replaced_versions_nothing_refers_to(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        old, _ = store.add_article("https://pub.example/a", "t", "version one", [1, 2, 3])
        store.record_licensed(article=store.article(old), site="s", page_url="https://c.example/x",
                              content_sha256="h", match=MATCH)
        new = store.track_articles([("https://pub.example/a", "t", "version two", [4])])[0]
        assert store.article(old).text == "version one"  # kept for its match
        removed = store.prune("2999-01-01")
        assert removed["matches"] == 1 and removed["replaced_articles"] == 1
        with pytest.raises(KeyError):
            store.article(old)
        assert store.article(new.id).text == "version two"


def test_a_store_with_duplicate_urls_keeps_the_newest_once(tmp_path: Path) -> None:
    """Before schema 8 every changed text of a URL was one more article."""
    db = tmp_path / "s.db"
    with Store(db) as store:
        a, _ = store.add_article("https://pub.example/a", "t", "version one", [10, 11, 12, 13])
        b, _ = store.add_article("https://pub.example/b", "t", "other", [30, 31, 32])
    conn = sqlite3.connect(db)  # what an older provmon wrote: a second row for the same URL
    conn.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) "
                 "VALUES (3, 'https://pub.example/a', 't', 'version two', 'x', '2026-01-01')")
    conn.execute("INSERT INTO fingerprints (hash, article_id) VALUES (20, 3)")
    conn.execute("DELETE FROM meta WHERE key = 'articles_one_per_url'")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.article_count() == 2
        assert store.candidates([10, 11, 12, 13, 20, 30], min_shared=1, limit=5) == [(b, 1), (3, 1)]
        with pytest.raises(KeyError):
            store.article(a)
    with Store(db) as store:  # once
        assert store.article_count() == 2


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this provmon understands"):
        Store(db)
    cfg = write_config(tmp_path / "c.toml", "", database=db)
    r = provmon("--config", str(cfg), "alerts")
    assert r.code == 2 and "schema version" in r.err and str(db) in r.err


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "junk.db"
    db.write_bytes(b"this is not sqlite" * 100)
    cfg = write_config(tmp_path / "c.toml", "", database=db)
    r = provmon("--config", str(cfg), "init")
    assert r.code == 2 and "junk.db" in r.err and "not a usable SQLite database" in r.err


def test_init_creates_database(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "", database=tmp_path / "state" / "p.db")
    r = provmon("--config", str(cfg), "init")
    assert r.code == 0, r.err
    assert "database ready" in r.out and (tmp_path / "state" / "p.db").exists()


def test_migration_takes_a_backup_and_runs_in_a_transaction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.store as store_mod

    db = tmp_path / "m.db"
    with Store(db) as store:
        store.add_article("u", "t", "kept text", [1])
    v1 = store_mod.SCHEMA_VERSION
    # A migration that fails half-way leaves the database as it was.
    broken = "ALTER TABLE pages ADD COLUMN etag TEXT;\nTHIS IS NOT SQL;\n"
    monkeypatch.setattr(store_mod, "MIGRATIONS", (*store_mod.MIGRATIONS, broken))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", v1 + 1)
    with pytest.raises(StoreError, match="failed and was rolled back"):
        Store(db)
    conn = sqlite3.connect(db)
    assert "etag" not in [c[1] for c in conn.execute("PRAGMA table_info(pages)")]
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(v1)
    conn.close()
    # A good one upgrades, after copying the old file aside.
    good = "ALTER TABLE pages ADD COLUMN etag TEXT;\n"
    monkeypatch.setattr(store_mod, "MIGRATIONS", (*store_mod.MIGRATIONS[:-1], good))
    with Store(db) as store:
        assert store.schema_version() == v1 + 1
        assert store.article(1).text == "kept text"
    backup = tmp_path / f"m.db.v{v1}.bak"
    assert backup.exists()
    old = sqlite3.connect(backup)
    assert old.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(v1)
    old.close()


def test_prune_by_age_and_count_keeps_alert_evidence(tmp_path: Path) -> None:
    import monitor.store as store_mod

    clock = ["2026-01-01T00:00:00+00:00"]
    real = store_mod.now_iso
    store_mod.now_iso = lambda: clock[0]
    try:
        with Store(tmp_path / "p.db") as store:
            aid, _ = store.add_article("u", "t", "text", [1])
            article = store.article(aid)
            for day in range(1, 6):
                clock[0] = f"2026-01-0{day}T00:00:00+00:00"
                for k in range(3):
                    store.record_page(f"https://s.example/{day}-{k}", "s", f"https://s.example/{day}-{k}", 200, "h")
            clock[0] = "2026-01-01T00:00:00+00:00"
            store.record_alert(article=article, site="s", page_url="https://s.example/1-0", content_sha256="h",
                               match=MATCH, channels=[])
            store.record_licensed(article=article, site="s", page_url="https://s.example/1-1", content_sha256="h",
                                  match=MATCH, disposition="licensed")
            removed = store.prune("2026-01-03T00:00:00+00:00", max_pages_per_site=4)
            urls = [u for (u,) in store.db.execute("SELECT url FROM pages ORDER BY url")]
            # Days 1-2 are older than the cutoff; of the 9 left, the 4 newest are kept.
            days = [u.rsplit("/", 1)[1].split("-")[0] for u in urls]
            assert len(urls) == 4 and days.count("5") == 3 and days.count("4") == 1
            assert removed["pages"] == 11
            assert removed["matches"] == 1  # the licensed match; the alert's match stays
            assert store.db.execute("SELECT count(*) FROM matches").fetchone()[0] == 1
    finally:
        store_mod.now_iso = real


def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """A wrong monitor.database pointing at some other SQLite file: refused by name, no provmon table added, its
    journal mode not switched to WAL, no file made beside it."""
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE foo (x)")
    conn.execute("INSERT INTO foo VALUES ('kept')")
    conn.commit()
    conn.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    cfg = write_config(tmp_path / "c.toml", "", database=db)
    for command in (["alerts"], ["init"], ["status"]):
        r = provmon("--config", str(cfg), *command)
        assert r.code == 2 and f"{db} is not a provmon database (it has tables: foo)" in r.err, r.err
        assert "Traceback" not in r.err
    with pytest.raises(StoreError, match="is not a provmon database"):
        Store(db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("foo",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("SELECT x FROM foo").fetchall() == [("kept",)]
    finally:
        conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "c.toml"])


def test_a_meta_table_of_another_program_is_not_provmons(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE meta (name TEXT)")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"\(it has tables: meta, notes\)"):
        Store(db)


def test_an_empty_file_is_initialised(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    cfg = write_config(tmp_path / "c.toml", "", database=db)
    r = provmon("--config", str(cfg), "init")
    assert r.code == 0 and f"schema {SCHEMA_VERSION}" in r.out, r.err


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_older_schema_is_still_opened_and_upgraded(tmp_path: Path, version: int) -> None:
    """The refusal of other programs' databases does not catch provmon's own of any older version."""
    db = tmp_path / "old.db"
    conn = old_database(db, version)
    conn.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) "
                 "VALUES (1, 'https://pub.example/a', 'T', 'an old text', 'h', '2026-01-01')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.article(1).text == "an old text"
    assert (tmp_path / f"old.db.v{version}.bak").exists()


def test_an_ignore_rule_for_a_site_and_a_pattern_becomes_the_two_rules_it_said(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Before schema 11, `ignore --site --pattern` stored one rule matching only both at once."""
    from monitor.alerts import ignore_rule_for

    db = tmp_path / "old.db"
    conn = old_database(db, 10)
    conn.execute("INSERT INTO ignore_rules (created_at, site, url_pattern, note) "
                 "VALUES ('2026-01-01T00:00:00+00:00', 'copier', 'print/', 'both'), "
                 "('2026-01-02T00:00:00+00:00', 'other', NULL, 'site only')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        rules = store.ignore_rules()
        assert [(r["site"], r["url_pattern"], r["note"]) for r in rules] == [
            ("copier", None, "both"), ("other", None, "site only"), (None, "print/", "both")]
        # The widening is said, with the way back.
        assert [r.getMessage() for r in caplog.records if "is now two rules" in r.getMessage()] == [
            f"{db}: ignore rule #1 (copies on site 'copier' at URLs matching 'print/') is now two rules, as the "
            f"command that made it said: copies on site 'copier', and copies at URLs matching 'print/' on every "
            f"site; if you meant only the first, remove the second (provmon ignore --list, --undo-rule N)"]
        # Each half now ignores on its own, as the command said.
        assert ignore_rule_for(rules, "copier", "https://copier.example/a") is not None
        assert ignore_rule_for(rules, "elsewhere", "https://x.example/print/a") is not None
        assert ignore_rule_for(rules, "elsewhere", "https://x.example/a") is None


def test_rule_ids_an_older_provmon_handed_out_are_not_reused_after_the_upgrade(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = old_database(db, 18)  # its rules were made without the high-water mark in meta
    conn.execute("INSERT INTO ignore_rules (id, created_at, site, url_pattern, note) "
                 "VALUES (1, '2026-01-01T00:00:00+00:00', 'copier', NULL, '')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.remove_ignore_rule(1)
        assert store.add_ignore_rule(site="mirror") == 2


def test_no_command_but_the_service_migrates_under_a_live_service(tmp_path: Path) -> None:
    """`pip install -U`, then `provmon status` before restarting the unit: the older service still running on the
    database must not have its schema changed under it."""
    db = tmp_path / "old.db"
    conn = old_database(db, 18)
    service = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # stands for the old service
    try:
        conn.execute("INSERT INTO meta (key, value) VALUES ('heartbeat', ?)",
                     [f"{datetime.now(UTC).isoformat(timespec='seconds')} {service.pid}"])
        conn.commit()
        conn.close()
        cfg = write_config(tmp_path / "c.toml", "", database=db)
        r = provmon("--config", str(cfg), "status")
        assert r.code == 2, r.out + r.err
        assert f"a provmon service (pid {service.pid}, last heartbeat " in r.err and "Stop the service first" in r.err
        assert not list(tmp_path.glob("old.db.v*.bak"))
        check = sqlite3.connect(db)
        assert check.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "18"
        check.close()
        with Store(db, service=True) as store:  # the new service itself migrates it (its old self is stopping)
            assert store.schema_version() == SCHEMA_VERSION
    finally:
        service.kill()
        service.wait()


def test_a_dead_service_s_heartbeat_does_not_hold_the_migration_back(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = old_database(db, 18)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # killed -9, say: its pid is free
    conn.execute("INSERT INTO meta (key, value) VALUES ('heartbeat', ?)",
                 [f"{datetime.now(UTC).isoformat(timespec='seconds')} {gone.pid}"])
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
