"""Defects a new-user audit found: an ignore that could not be undone, the same text tracked twice, webhook URL
secrets in messages, local paths in legal notices, config errors naming neither key nor file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Served, provmon, rows
from tests.test_alerts import SPUN, VERBATIM, by_page, copier_site


def test_ignore_list_and_undo(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}
    assert provmon("--config", str(cfg), "ack", str(ids[VERBATIM])).code == 0
    before = {r["id"]: r["status"] for r in rows(db, "SELECT id, status FROM alerts")}

    r = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--site", "--note", "our partner")
    assert r.code == 0, r.err
    assert {row["status"] for row in rows(db, "SELECT status FROM alerts")} == {"ignored"}
    again = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--site")
    assert again.code == 0 and f"alert #{ids[SPUN]}: already ignored" in again.out
    assert "already ignored" in again.out.splitlines()[1] and len(rows(db, "SELECT id FROM ignore_rules")) == 1

    listed = provmon("--config", str(cfg), "ignore", "--list")
    assert listed.code == 0
    assert listed.out.startswith(f"rule #1: copies on site 'copier' (from alert #{ids[SPUN]})"), listed.out
    assert "1 alerts ignored by it; note: our partner" in listed.out

    undo = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--undo")
    assert undo.code == 0, undo.err
    assert f"ignore rule #1 removed: copies on site 'copier' raise alerts again; no longer ignored: #{ids[VERBATIM]}" \
        in undo.out
    # Each alert is back in the state it was ignored from, and the change is an event.
    assert {r["id"]: r["status"] for r in rows(db, "SELECT id, status FROM alerts")} == before
    assert rows(db, "SELECT count(*) FROM ignore_rules")[0][0] == 0
    events = [e["event"] for e in rows(db, "SELECT event FROM alert_events WHERE alert_id = ? ORDER BY id",
                                          ids[VERBATIM])]
    assert events == ["detected", "acknowledged", "ignored", "unignored"]
    assert provmon("--config", str(cfg), "ignore", "--list").out.strip() == "no ignore rules"

    # --undo-rule removes one rule, keeping the alert it came from ignored; an unknown rule is an error.
    assert provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--pattern", "storm").code == 0
    assert by_page(db)[VERBATIM]["status"] == "acknowledged"
    r = provmon("--config", str(cfg), "ignore", "--undo-rule", "2")
    assert r.code == 0 and "ignore rule #2 removed" in r.out, r.out + r.err
    assert by_page(db)[SPUN]["status"] == "ignored"
    missing = provmon("--config", str(cfg), "ignore", "--undo-rule", "7")
    assert missing.code == 2 and "no ignore rule #7" in missing.err
    assert provmon("--config", str(cfg), "ignore").code == 2
