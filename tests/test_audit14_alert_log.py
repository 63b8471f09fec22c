"""Session 14's audit, F14: `alert_log.coverage_pct` is a whole number (schema 17), as the README says.

Before: the view gave SQLite's round(), a REAL: `sqlite3` printed `64.0`, sqlite-utils `"coverage_pct": 64.0`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.store import SCHEMA_VERSION, Store
from tests.conftest import old_database


@pytest.mark.parametrize("version", [0, 16])
def test_coverage_pct_is_an_integer_rounded_half_up(tmp_path: Path, version: int) -> None:
    """A new database and one of schema 16 (the view before) upgraded: the same whole numbers."""
    db = tmp_path / "p.db"
    if version:
        conn = old_database(db, version)
        conn.commit()
        conn.close()
    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        store.db.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) "
                         "VALUES (1, 'https://pub.example/a', 'A', 'text', 'h', '2026-01-01')")
        for i, coverage in enumerate((0.865, 0.64, 1.0, 0.004), start=1):
            store.db.execute("INSERT INTO alerts (id, created_at, article_id, article_title, article_url, copy_url, "
                             "site, kind, coverage, page_share) VALUES (?, '2026-01-01', 1, 'A', 'u', ?, 's', "
                             "'partial', ?, 0.5)", [i, f"https://copy.example/{i}", coverage])
    conn = sqlite3.connect(db)
    got = conn.execute("SELECT id, coverage_pct, typeof(coverage_pct) FROM alert_log ORDER BY id").fetchall()
    conn.close()
    assert got == [(1, 87, "integer"), (2, 64, "integer"), (3, 100, "integer"), (4, 0, "integer")]
