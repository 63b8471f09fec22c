"""`provmon run` as a long-lived service: scheduled jobs fire, SIGTERM stops it cleanly."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, demo_config, provmon


def count_alerts(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_service_runs_jobs_and_stops_on_sigterm(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('interval = "1h"', 'interval = "2s"'))
    log = (tmp_path / "service.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while count_alerts(tmp_path / "provmon.db") < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "service.log").read_text()
            time.sleep(0.2)
        assert count_alerts(tmp_path / "provmon.db") == 2
        # Let the interval fire again: the same copies must not raise new alerts.
        runs_before = (tmp_path / "service.log").read_text().count("site demo-scraper:")
        deadline = time.monotonic() + 30
        while (tmp_path / "service.log").read_text().count("site demo-scraper:") <= runs_before:
            assert time.monotonic() < deadline, "the interval job did not fire again"
            time.sleep(0.2)
        assert count_alerts(tmp_path / "provmon.db") == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    text = (tmp_path / "service.log").read_text()
    assert "received SIGTERM, stopping" in text
    assert "provmon stopped" in text
    assert "Traceback" not in text
    # A clean stop is on record: status says so instead of "STALLED" (and exits 1: nothing is watching).
    r = provmon("--config", str(cfg), "status")
    assert r.code == 1 and "service: stopped" in r.out, r.out


def test_a_locked_database_while_tracking_is_said_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """Another process holding a write transaction past the 30 s busy timeout (a real one would make this test
    wait 30 s: the store's own error is raised here instead): one line naming the database and the cause, not a
    traceback blaming the publishers' feeds."""
    from monitor.config import load_config
    from monitor.scheduler import Service

    cfg = load_config(demo_config(tmp_path))
    service = Service(cfg)

    def locked() -> list[str]:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(service, "track", locked)
    with caplog.at_level(logging.ERROR):
        errors = service._track_job()
    assert errors == [f"tracking failed: {cfg.database_path}: database is locked: another process has held a write "
                      f"transaction on it for more than 30 s"]
    (record,) = caplog.records
    assert record.exc_info is None and "[[publishers]] feeds failed" in record.getMessage()
