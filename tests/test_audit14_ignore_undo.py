"""Session 14's audit, F5: undoing ignore rules never leaves an alert ignored with no rule behind it.

Before: undoing rule #1 kept the alerts that rule #2 also covered ignored, but they stayed rule #1's, so removing
rule #2 reopened none of them; at the end there were no rules and the alerts were still ignored, and only
`ignore ID --undo`, one alert at a time, got them back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.cli import build_parser, cmd_ignore
from monitor.config import load_config
from monitor.store import Store
from tests.conftest import Served, provmon, rows
from tests.test_alerts import SPUN, VERBATIM, by_page, copier_site


def ignore(cfg: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """`provmon ignore ...` in process (the command only touches SQLite: no subprocess needed)."""
    assert cmd_ignore(load_config(cfg), build_parser().parse_args(["ignore", *args])) == 0
    return capsys.readouterr().out


def test_an_alert_kept_ignored_by_another_rule_is_reopened_with_that_rule(
        tmp_path: Path, http_dir: Callable[[Path], Served], capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}
    a, b = ids[VERBATIM], ids[SPUN]

    ignore(cfg, capsys, str(a), "--site")  # rule #1: a by hand, b by the rule
    out = ignore(cfg, capsys, str(b), "--pattern", "storm-")  # rule #2 covers b too
    assert "rule #2" in out and {r["status"] for r in rows(db, "SELECT status FROM alerts")} == {"ignored"}

    out = ignore(cfg, capsys, str(a), "--undo")
    assert f"alert #{a}: no longer ignored" in out, out
    assert f"still ignored by rule #2, which covers them too: #{b}" in out, out
    assert by_page(db)[SPUN]["status"] == "ignored"
    listed = ignore(cfg, capsys, "--list")
    assert listed.startswith("rule #2: ") and f"(from alert #{b}, itself ignored by it)" in listed, listed
    assert "0 other alerts ignored by it" in listed, listed

    out = ignore(cfg, capsys, "--undo-rule", "2")
    assert f"no longer ignored: #{b}" in out, out
    assert {r["status"] for r in rows(db, "SELECT status FROM alerts")} == {"new"}
    assert ignore(cfg, capsys, "--list").strip() == "no ignore rules"


def test_alerts_left_ignored_by_a_removed_rule_are_listed_and_reopened(
        tmp_path: Path, http_dir: Callable[[Path], Served], capsys: pytest.CaptureFixture[str]) -> None:
    """A store where an earlier provmon left alerts ignored by a rule that is gone: `--list` says so, and the next
    rule undone reopens them (or hands them to a rule that still covers them)."""
    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}
    with Store(db) as store:
        store.set_state(ids[SPUN], "ignored", detail="ignore rule #9: new -> ignored")  # rule #9 is gone
    out = ignore(cfg, capsys, "--list")
    assert f"still ignored by rules removed since: #{ids[SPUN]} (rule #9)" in out, out
    ignore(cfg, capsys, str(ids[VERBATIM]), "--pattern", "no-such-page")
    out = ignore(cfg, capsys, "--undo-rule", "1")
    assert f"no longer ignored: #{ids[SPUN]}" in out, out
    assert by_page(db)[SPUN]["status"] == "new" and by_page(db)[VERBATIM]["status"] == "ignored"


def test_the_list_says_which_rule_keeps_a_rules_origin_ignored(
        tmp_path: Path, http_dir: Callable[[Path], Served], capsys: pytest.CaptureFixture[str]) -> None:
    """A rule made from an alert another rule had ignored: the list names that rule, not "ignored by id"."""
    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    ids = {name: row["id"] for name, row in by_page(tmp_path / "provmon.db").items()}
    a, b = ids[VERBATIM], ids[SPUN]
    ignore(cfg, capsys, str(a), "--site")  # rule #1: a by its id, b by the rule
    ignore(cfg, capsys, str(b), "--pattern", "storm-")  # rule #2 made from b, which rule #1 ignores
    lines = ignore(cfg, capsys, "--list").splitlines()
    assert f"(from alert #{a}, itself ignored by id)" in lines[0] and "1 other alert ignored by it" in lines[0], lines
    assert f"(from alert #{b}, itself ignored by rule #1)" in lines[1] and "0 other alerts" in lines[1], lines
