"""Running for months: the plan survives restarts, status tells when it stalls, SIGHUP reloads,
systemd is told how things are, and kill -9 at any point loses and doubles nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from monitor.sdnotify import watchdog_seconds
from tests.conftest import REPO, Webhook, demo_config, provmon


class Service:
    """`provmon run` in a subprocess, its log in a file."""

    def __init__(self, cfg: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._fh = log.open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
                                     stdout=self._fh, stderr=subprocess.STDOUT, cwd=REPO,
                                     env={**os.environ, **(env or {})})

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, cond: Callable[[], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, "timed out; log:\n" + self.text()
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal it (unless it has ended) and wait: a service still running after `timeout` is killed, with every
        thread's stack in the log, and fails the test."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)  # faulthandler: every thread's stack into the log
            time.sleep(1)
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"did not stop within {timeout:g} s; log and stacks:\n" + self.text()) from None
        finally:
            self._fh.close()
        return code


def query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def fast_config(tmp_path: Path, interval: str = "1h", extra: str = "") -> Path:
    cfg = demo_config(tmp_path, extra)
    text = cfg.read_text().replace('interval = "1h"', f'interval = "{interval}"')
    cfg.write_text(text.replace('heartbeat = "30s"', 'heartbeat = "1s"'))
    return cfg


def test_restart_resumes_the_plan(tmp_path: Path) -> None:
    cfg = fast_config(tmp_path)
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "1.log")
    svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
    svc.wait_for(lambda: bool(query(db, "SELECT next_run FROM site_state WHERE next_run IS NOT NULL")))
    assert svc.stop() == 0
    (next_run,) = query(db, "SELECT next_run FROM site_state")[0]
    ahead = datetime.fromisoformat(next_run).timestamp() - time.time()
    assert 3500 < ahead <= 3600  # stored: an hour after the run
    # Restart before it is due: the site is not scanned again, the heartbeat goes on.
    svc = Service(cfg, tmp_path / "2.log")
    beat0 = query(db, "SELECT value FROM meta WHERE key='heartbeat'")[0][0]
    svc.wait_for(lambda: query(db, "SELECT value FROM meta WHERE key='heartbeat'")[0][0] != beat0)
    time.sleep(1.5)
    assert "site demo-scraper:" not in svc.text()
    assert svc.stop() == 0
    # It fell due while the service was down: the next start runs it once, at once.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE site_state SET next_run = '2000-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()
    svc = Service(cfg, tmp_path / "3.log")
    svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
    time.sleep(1)
    assert svc.text().count("site demo-scraper: 6 pages") == 1
    assert svc.stop() == 0
    assert query(db, "SELECT count(*) FROM alerts")[0][0] == 2


def test_status_is_healthy_while_running_and_stalled_after_kill(tmp_path: Path) -> None:
    cfg = fast_config(tmp_path)
    svc = Service(cfg, tmp_path / "s.log")
    svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
    svc.wait_for(lambda: provmon("--config", str(cfg), "status").code == 0)
    r = provmon("--config", str(cfg), "status", "--json")
    status = json.loads(r.out)
    assert status["healthy"] is True
    (site,) = status["sites"]
    assert site["site"] == "demo-scraper" and site["last_result"] == "ok" and site["pages_seen"] == 6
    assert site["alerts_raised"] == 2 and site["consecutive_failures"] == 0 and site["next_run"]
    svc.stop(signal.SIGKILL)
    time.sleep(3.5)
    r = provmon("--config", str(cfg), "status")
    assert r.code == 1
    assert "STALLED" in r.out and "last heartbeat" in r.out


def test_sighup_reloads_and_refuses_a_bad_config(tmp_path: Path) -> None:
    cfg = fast_config(tmp_path)
    svc = Service(cfg, tmp_path / "h.log")
    svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
    good = cfg.read_text()
    cfg.write_text(good + '\n[[sites]]\nname = "second"\nstart_urls = ["' + str(REPO / "data/demo/scraper") +
                   '/about.html"]\nmax_depth = 0\n')
    svc.proc.send_signal(signal.SIGHUP)
    svc.wait_for(lambda: "config reloaded" in svc.text())
    svc.wait_for(lambda: "site second: 1 page," in svc.text())
    cfg.write_text(good + '\n[[sites]]\nname = "third"\nstart_urls = ["x"]\nbogus = 1\n')
    svc.proc.send_signal(signal.SIGHUP)
    svc.wait_for(lambda: "reload refused" in svc.text())
    assert "unknown key 'sites[1].bogus'" in svc.text()
    assert svc.proc.poll() is None  # still running on the old config
    assert svc.stop() == 0


def test_systemd_notify_ready_watchdog_stopping(tmp_path: Path) -> None:
    addr = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(addr)
    sock.settimeout(30)
    try:
        svc = Service(fast_config(tmp_path), tmp_path / "n.log", env={"NOTIFY_SOCKET": addr})
        got: list[str] = []
        while "WATCHDOG=1" not in got:
            got.append(sock.recv(256).decode())
        assert "READY=1" in got
        svc.proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in got:
            got.append(sock.recv(256).decode())
        assert svc.stop() == 0
    finally:
        sock.close()


def test_the_watchdog_is_pinged_within_its_period_whatever_the_heartbeat(tmp_path: Path) -> None:
    """WatchdogSec shorter than monitor.heartbeat would have systemd kill and restart the service over and over: the
    pings come at half the watchdog's period ($WATCHDOG_USEC), as systemd advises, with a warning naming both. A
    watchdog meant for another process ($WATCHDOG_PID) is not this one's."""
    cfg = demo_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('heartbeat = "30s"', 'heartbeat = "10m"'))
    addr = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(addr)
    sock.settimeout(30)
    try:
        svc = Service(cfg, tmp_path / "w.log", env={"NOTIFY_SOCKET": addr, "WATCHDOG_USEC": "1000000"})
        pings = 0
        while pings < 3:  # 10 minutes apart by the heartbeat alone: the test would time out after the first
            pings += sock.recv(256).decode() == "WATCHDOG=1"
        assert svc.stop() == 0
        assert "monitor.heartbeat (10m) is longer than half systemd's watchdog period (WatchdogSec=1s): the " \
               "heartbeat runs every 0.5s" in svc.text()
    finally:
        sock.close()
    assert watchdog_seconds({"WATCHDOG_USEC": "180000000"}) == 180
    assert watchdog_seconds({"WATCHDOG_USEC": "180000000", "WATCHDOG_PID": str(os.getpid())}) == 180
    assert watchdog_seconds({"WATCHDOG_USEC": "180000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({}) is None and watchdog_seconds({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "soon"}) is None


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    r = provmon("--config", str(demo_config(tmp_path)), "--log-format", "json", "run", "--once")
    assert r.code == 0
    events = [json.loads(line) for line in r.err.splitlines()]
    assert any("ALERT #1" in e["message"] for e in events)
    assert all({"time", "level", "logger", "message"} <= e.keys() for e in events)


def test_kill_9_at_random_points_loses_and_doubles_nothing(tmp_path: Path, webhook: Webhook) -> None:
    """Kill the service at random moments, many times; then let it finish. Every alert exists once,
    every notification is delivered, and a repeat delivery only happens for a kill after a send."""
    hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n'
    cfg = fast_config(tmp_path, interval="1s", extra=hook)
    db = tmp_path / "provmon.db"
    rng = random.Random(20261121)
    kills = 0
    for i in range(12):
        svc = Service(cfg, tmp_path / f"k{i}.log")
        time.sleep(rng.uniform(0.2, 2.5))
        if svc.proc.poll() is None:
            svc.stop(signal.SIGKILL)
            kills += 1
        assert query(db, "PRAGMA integrity_check")[0][0] == "ok" if db.exists() else True
    # A clean run to the end.
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert query(db, "PRAGMA integrity_check")[0][0] == "ok"
    alerts = query(db, "SELECT article_id, copy_url FROM alerts")
    assert len(alerts) == 2 and len(set(alerts)) == 2
    notes = query(db, "SELECT idempotency_key, status FROM notifications")
    assert len(notes) == 2 and all(status == "sent" for _, status in notes)
    per_key = Counter(req["headers"]["idempotency-key"] for req in webhook.received)
    assert set(per_key) == {key for key, _ in notes}
    # Repeats are possible only when a kill fell between a send and its record.
    assert sum(n - 1 for n in per_key.values()) <= kills


def test_cli_reads_while_the_service_writes(tmp_path: Path) -> None:
    """WAL and a busy timeout: readers never see "database is locked" while the service scans."""
    cfg = fast_config(tmp_path, interval="1s")
    svc = Service(cfg, tmp_path / "r.log")
    try:
        svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
        procs = [subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), cmd, "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
                 for _ in range(6) for cmd in ("alerts", "status")]
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode in (0, 1), err  # status may say 1 (stalled) only if the heartbeat is late
            assert "locked" not in err and "Traceback" not in err
            assert out.strip()
    finally:
        assert svc.stop() == 0
    assert "locked" not in svc.text()
