"""The shipped config.toml and demo site, end to end through the real command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.store import SCHEMA_VERSION
from tests.conftest import demo_config, provmon

VERBATIM = "sea-wall-gives-way.html"
SPUN = "storm-marren-seawall-collapse.html"


def alerts(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM alerts ORDER BY id").fetchall()
    finally:
        conn.close()


def test_run_once_alerts_on_the_two_copies_only(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    rows = alerts(tmp_path / "provmon.db")
    by_page = {Path(row["copy_url"]).name: row for row in rows}
    assert set(by_page) == {VERBATIM, SPUN}
    assert by_page[VERBATIM]["kind"] == "verbatim"
    assert by_page[VERBATIM]["coverage"] >= 0.95
    assert by_page[SPUN]["kind"] == "paraphrased"
    assert 0.3 <= by_page[SPUN]["coverage"] <= 0.9
    for row in rows:
        assert row["article_title"].startswith("Sea wall gives way in Port Elling")
        # the demo file names its public address (rel=canonical): the article is tracked under it
        assert row["article_url"] == "https://harbour-herald.example/2026/11/sea-wall-gives-way"
        assert row["site"] == "demo-scraper"
        assert row["status"] == "new"
    assert "2 new alerts" in r.out
    assert "ALERT #" in r.out


def test_second_run_adds_no_alert(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert "0 new alerts" in r.out
    assert "(2 alerts in all)" in r.out
    assert len(alerts(tmp_path / "provmon.db")) == 2


def test_alerts_command_lists_newest_first_and_json(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    provmon("--config", str(cfg), "run", "--once")
    r = provmon("--config", str(cfg), "alerts", "--json")
    assert r.code == 0, r.err
    rows = r.json_lines()
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    assert {row["kind"] for row in rows} == {"verbatim", "paraphrased"}
    human = provmon("--config", str(cfg), "alerts")
    assert SPUN in human.out and VERBATIM in human.out


def test_alert_log_is_readable_with_plain_sqlite(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    provmon("--config", str(cfg), "run", "--once")
    conn = sqlite3.connect(tmp_path / "provmon.db")
    cols = [c[1] for c in conn.execute("PRAGMA table_info(alerts)")]
    for col in ("created_at", "article_title", "article_url", "copy_url", "site", "kind", "coverage", "status"):
        assert col in cols
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    pages = conn.execute("SELECT url, status, content_sha256 FROM pages").fetchall()
    assert len(pages) == 6 and all(p[1] == 200 and len(p[2]) == 64 for p in pages)
    conn.close()


def test_demo_over_real_http(tmp_path: Path, http_dir) -> None:  # type: ignore[no-untyped-def]
    """The same demo pages served by a loopback HTTP server go through the same pipeline."""
    from tests.conftest import DEMO

    served = http_dir(DEMO)
    extra = f"""
[[sites]]
name = "demo-over-http"
start_urls = ["{served.base}/scraper/index.html"]
allow_private = true
"""
    cfg = demo_config(tmp_path, extra)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    http_rows = [row for row in alerts(tmp_path / "provmon.db") if row["site"] == "demo-over-http"]
    assert sorted(Path(row["copy_url"]).name for row in http_rows) == sorted([VERBATIM, SPUN])
    assert all(row["copy_url"].startswith(served.base) for row in http_rows)


def test_loopback_refused_unless_allowed(tmp_path: Path, http_dir) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import DEMO

    served = http_dir(DEMO)
    extra = f"""
[[sites]]
name = "private"
start_urls = ["{served.base}/scraper/index.html"]
"""
    cfg = demo_config(tmp_path, extra)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert "private, loopback or link-local" in r.out
    assert "site demo-scraper: 6 pages scanned" in r.out  # the other site is unaffected
