"""The database file removed or replaced under a running service: it stops with an error (systemd restarts
it) instead of carrying on with a new, empty database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_reliability import Service, fast_config


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_database_gone_stops_the_service_with_an_error(tmp_path: Path, how: str) -> None:
    cfg = fast_config(tmp_path, interval="2s")
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "svc.log")
    try:
        svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
        if how == "removed":
            for f in (db, db.with_name("provmon.db-wal"), db.with_name("provmon.db-shm")):
                f.unlink(missing_ok=True)
        else:  # e.g. a backup restored over it: another file (inode) at the same path
            shutil.copy(db, tmp_path / "restored.db")
            os.replace(tmp_path / "restored.db", db)
            inode = db.stat().st_ino
        code = svc.proc.wait(timeout=60)  # the heartbeat (1 s) or the next scan notices
    except subprocess.TimeoutExpired:
        raise AssertionError("still running with its database gone; log:\n" + svc.text()) from None
    finally:
        svc.stop()
    text = svc.text()
    assert code != 0, text
    assert f"ERROR monitor.scheduler: database {db} was {'removed' if how == 'removed' else 'replaced'}" in text
    assert "provmon stopped with an error" in text
    assert "Traceback" not in text
    if how == "removed":
        assert not db.exists()  # no new empty database made mid-run
    else:
        assert db.stat().st_ino == inode
