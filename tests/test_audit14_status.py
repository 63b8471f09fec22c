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
    assert code == 1 and out.startswith("service: never run; last heartbeat never\n"), out
    assert "STALLED" not in out and "problem: the service has never run (no heartbeat)" in out, out
