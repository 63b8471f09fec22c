"""`provmon status` tells which sites are failing, and why, as the crawler last judged them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.conftest import DEMO, REPO, demo_config, provmon, rows, serve, write_config


class Forbidden(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(403)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>Access denied</body></html>")

    def log_message(self, *args: Any) -> None:
        pass


def test_status_shows_a_blocking_site_and_its_reason(tmp_path: Path) -> None:
    served = serve(Forbidden)
    try:
        extra = f'\n[[sites]]\nname = "blocker"\nstart_urls = ["{served.base}/"]\nallow_private = true\n'
        cfg = demo_config(tmp_path, extra)
        assert provmon("--config", str(cfg), "run", "--once").code == 0
        status = json.loads(provmon("--config", str(cfg), "status", "--json").out)
        sites = {s["site"]: s for s in status["sites"]}
        assert sites["blocker"]["health"] == "failing"
        assert "403" in sites["blocker"]["health_reason"]
        assert sites["demo-scraper"].get("health", "ok") == "ok"
        human = provmon("--config", str(cfg), "status").out
        assert "site failing since" in human and "403" in human
    finally:
        served.stop()


def test_status_counts_the_alerts_of_a_run_killed_before_it_ended(tmp_path: Path) -> None:
    """A run is recorded as finished (site_state) only at its end, but each alert is committed when raised: after a
    kill -9 mid-run, status counts the site's alerts from the alert log, not from the finished runs' tally."""
    copy = (DEMO / "scraper" / "sea-wall-gives-way.html").read_bytes()
    release = threading.Event()

    class CopyThenHang(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/hang":  # holds the run open until the test ends
                release.wait(30)
            body = (b"<html><body><a href='/copy'>a</a> <a href='/hang'>b</a></body></html>"
                    if self.path == "/" else copy)
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(CopyThenHang)
    db = tmp_path / "provmon.db"
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
obey_robots = false

[[track]]
source = "{DEMO / 'publisher' / 'sea-wall-gives-way.html'}"

[[sites]]
name = "copier"
start_urls = ["{served.base}/"]
allow_private = true
max_depth = 1
""", db)
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run", "--once"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (db.exists() and _alerts(db)):
            assert proc.poll() is None and time.monotonic() < deadline, "no alert was raised"
            time.sleep(0.05)
        proc.kill()  # SIGKILL: the run never reaches run_finished
        proc.wait(10)
    finally:
        release.set()
        served.stop()
    (state,) = rows(db, "SELECT runs, alerts_raised, last_end FROM site_state")
    assert tuple(state) == (0, 0, None)  # the run did not finish
    status = json.loads(provmon("--config", str(cfg), "status", "--json").out)
    assert status["sites"][0]["alerts_raised"] == 1, status
    human = provmon("--config", str(cfg), "status").out
    assert human.splitlines()[-1].split()[-1] == "1", human


def _alerts(db: Path) -> int:
    try:
        return rows(db, "SELECT count(*) FROM alerts")[0][0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def test_a_missing_local_start_url_is_said_to_be_missing_not_http_404(tmp_path: Path) -> None:
    """The file transport answers 404 for a missing file (the crawler reads that as "gone"); where a site's error is
    shown to people (run --once, status, status --json) a missing local start URL is said not to exist."""
    missing = tmp_path / "no" / "such" / "dir"
    cfg = write_config(tmp_path / "config.toml", f"""
[[track]]
source = "{DEMO / 'publisher' / 'sea-wall-gives-way.html'}"

[[sites]]
name = "local"
start_urls = ["{missing.as_uri()}/"]
""")
    said = f"{missing.as_uri()}/: cannot read {missing}: No such file or directory"
    run = provmon("--config", str(cfg), "run", "--once")
    assert f"  error: {said}\n" in run.out and "HTTP 404" not in run.out, run.out
    human = provmon("--config", str(cfg), "status").out
    # said once, on the failing line (the same text as the last error)
    assert "last error:" not in human and f"(1 run): {said}" in human and "HTTP 404" not in human, human
    status = json.loads(provmon("--config", str(cfg), "status", "--json").out)
    (site,) = status["sites"]
    assert site["last_error"] == said and site["health_reason"] == said
    assert any(said in p for p in status["problems"]), status["problems"]


def test_a_scan_under_way_is_said_to_be_running(tmp_path: Path) -> None:
    """While a site's scan runs, its stored next run is the one it started for (earlier than its start): status
    says the scan is running instead of leaving the two times to contradict each other (an end-to-end review)."""
    import os

    from monitor.store import Store

    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    with Store(tmp_path / "provmon.db") as store:
        store.beat(os.getpid())  # a service running
        time.sleep(1.1)  # a start after the last end, to the second
        store.run_started("demo-scraper")
        start = store.site_states()[0]["last_start"]
    out = provmon("--config", str(cfg), "status").out
    assert f"    scan running since {start}" in out, out
