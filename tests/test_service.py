"""`provmon run` as a long-lived service: scheduled jobs fire, SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

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
