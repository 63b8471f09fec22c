"""Session 14's audit: `provmon status` says the same in text and JSON (F10), and its problem lines read right (F12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import build_parser, cmd_status
from monitor.config import load_config
from monitor.store import Store
from tests.conftest import write_config


def status(cfg: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`provmon status` in process: it only reads SQLite."""
    code = cmd_status(load_config(cfg), build_parser().parse_args(["status", *args]))
    return code, capsys.readouterr().out


def test_no_heartbeat_is_never_run_in_text_as_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """F10: with only `run --once` (no heartbeat) the text said `service: STALLED` where --json said `never-run`."""
    cfg = write_config(tmp_path / "c.toml", "")
    Store(tmp_path / "provmon.db").close()
    code, out = status(cfg, capsys, "--json")
    assert code == 1 and json.loads(out)["service"] == "never-run", out
    code, out = status(cfg, capsys)
    assert code == 1 and out.startswith("service: never run; last heartbeat never; no article tracked (provmon "
                                        "track)\n"), out
    assert "STALLED" not in out and "problem: the service has never run (no heartbeat)" in out, out


def test_every_site_failing_is_said_once_and_one_run_is_no_row() -> None:
    """F12: each of 3 failing sites' `problem:` lines ended with "(every site is failing: no site is being
    watched)", and each said "failing for 1 run in a row"."""
    from monitor.cli import _failing

    rows = [{"site": name, "health": "failing", "health_since": "2026-01-01T00:00:00+00:00", "health_failures": n,
             "health_reason": "HTTP 503"} for name, n in (("a", 1), ("b", 1), ("c", 4))]
    assert _failing(rows, "site", "every site is failing: no site is being watched") == [
        "every site is failing: no site is being watched",
        "site a failing for 1 run since 2026-01-01T00:00:00+00:00: HTTP 503",
        "site b failing for 1 run since 2026-01-01T00:00:00+00:00: HTTP 503",
        "site c failing for 4 runs in a row since 2026-01-01T00:00:00+00:00: HTTP 503"]
    rows[0].update(health="ok", health_failures=0)  # one site watched: only the one failing 3 runs or more
    assert _failing(rows, "site", "every site ...") == [
        "site c failing for 4 runs in a row since 2026-01-01T00:00:00+00:00: HTTP 503"]
