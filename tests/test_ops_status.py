"""`provmon status` sees failing notification channels, and tells a cleanly stopped service from a stalled one."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from monitor.store import Store
from tests.conftest import demo_config, provmon, write_config


def refused_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then closed): connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def set_heartbeat(db: Path, when: str, pid: int) -> None:
    with Store(db) as store:
        store.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)", [f"{when} {pid}"])


def test_status_reports_channels_whose_deliveries_fail(tmp_path: Path) -> None:
    hook = f'\n[[notify]]\ntype = "webhook"\nname = "newsroom"\nurl = "http://127.0.0.1:{refused_port()}/hook"\n'
    cfg = demo_config(tmp_path, hook)
    assert provmon("--config", str(cfg), "run", "--once").code == 0  # 2 alerts, each failing on the webhook
    with Store(tmp_path / "provmon.db") as store:
        store.beat(os.getpid())  # the service is alive: failing notifications are the only problem
        queued = min(n["created_at"] for n in store.notifications())
    r = provmon("--config", str(cfg), "status", "--json")
    assert r.code == 1, r.out + r.err
    status = json.loads(r.out)
    assert status["healthy"] is False and status["service"] == "running"
    (failing,) = status["failing_notifications"]
    assert (failing["channel"], failing["failing"], failing["oldest"], failing["configured"]) == (
        "newsroom", 2, queued, True)
    assert "refused" in failing["last_error"].lower() and failing["last_failed_at"], failing
    assert len(status["problems"]) == 1 and "notifications to newsroom failing: 2 undelivered" in status["problems"][0]
    r = provmon("--config", str(cfg), "status")
    assert r.code == 1 and "service: ok" in r.out, r.out
    assert f"problem: notifications to newsroom failing: 2 undelivered, the oldest queued at {queued}" in r.out, r.out
    assert "last error at " in r.out and "refused" in r.out.lower(), r.out
    # Delivered at last (the receiver is back; here: marked sent), the channel is no longer a problem.
    with Store(tmp_path / "provmon.db") as store:
        for n in store.notifications():
            store.mark_sent(n["id"], n["alert_id"])
    r = provmon("--config", str(cfg), "status", "--json")
    assert r.code == 0 and json.loads(r.out)["failing_notifications"] == [], r.out


def test_a_clean_stop_is_stopped_not_stalled_until_the_next_heartbeat(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    db = tmp_path / "provmon.db"
    assert provmon("--config", str(cfg), "init").code == 0
    set_heartbeat(db, "2024-01-01T00:00:00+00:00", 4242)  # long ago: without the stop mark, STALLED
    r = provmon("--config", str(cfg), "status")
    assert r.code == 1 and "service: STALLED" in r.out, r.out
    with Store(db) as store:
        store.record_stop(4242)
        stop = store.last_stop()
    assert stop is not None and stop[1] == 4242
    r = provmon("--config", str(cfg), "status")
    assert r.code == 1 and "service: stopped" in r.out and "STALLED" not in r.out, r.out
    assert f"problem: the service is stopped (clean shutdown at {stop[0]}, pid 4242)" in r.out, r.out
    assert "last heartbeat 2024-01-01T00:00:00+00:00" in r.out and "s ago" not in r.out, r.out
    status = json.loads(provmon("--config", str(cfg), "status", "--json").out)
    assert (status["service"], status["stopped"], status["healthy"]) == (
        "stopped", {"at": stop[0], "pid": 4242}, False)
    # The service starts again: its first heartbeat clears the mark.
    with Store(db) as store:
        store.beat(os.getpid())  # a service running again (this process: alive)
        assert store.last_stop() is None
    r = provmon("--config", str(cfg), "status", "--json")
    status = json.loads(r.out)
    assert r.code == 0 and (status["service"], status["stopped"], status["healthy"]) == ("running", None, True), r.out


def test_status_of_a_missing_database_says_so_and_creates_none(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "", database=tmp_path / "moved.db")  # a typo, say
    r = provmon("--config", str(cfg), "status")
    assert r.code == 1 and f"problem: no database at {tmp_path / 'moved.db'} (monitor.database of {cfg})" in r.out
    assert not (tmp_path / "moved.db").exists()
    status = provmon("--config", str(cfg), "status", "--json").json_lines()[0]
    assert status["healthy"] is False and status["service"] == "never-run" and len(status["problems"]) == 1


def test_a_heartbeat_whose_process_is_gone_is_a_stall_at_once(tmp_path: Path) -> None:
    """kill -9: no clean stop is recorded and the heartbeat is fresh for up to three periods; its pid no longer runs
    on this machine, which says it already (a second end-to-end review)."""
    import subprocess
    import sys

    cfg = write_config(tmp_path / "c.toml", "")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid that ran and is gone
    with Store(tmp_path / "provmon.db") as store:
        store.beat(child.pid)
    r = provmon("--config", str(cfg), "status", "--json")
    status = json.loads(r.out)
    assert r.code == 1 and status["service"] == "stalled", r.out
    assert any(f"(pid {child.pid}), whose process is gone from this machine" in p for p in status["problems"])
    with Store(tmp_path / "provmon.db") as store:  # the same pid, written on another machine
        store.db.execute("UPDATE meta SET value = 'elsewhere.example' || substr(value, instr(value, ':')) "
                         "WHERE key = 'heartbeat_holder'")
    status = json.loads(provmon("--config", str(cfg), "status", "--json").out)
    assert status["service"] == "running"  # another machine's process: not known to be gone
