"""Session 14's audit: help, README and output agree with what the commands do (F9)."""

from __future__ import annotations

import pytest

from monitor.cli import build_parser


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_ignore_help_says_site_and_pattern_ignore_existing_alerts_too(capsys: pytest.CaptureFixture[str]) -> None:
    """F9: `--site` said "also ignore this alert's site from now on", but it also ignores the site's existing
    alerts, acknowledged ones included (as docs/alerts.md says)."""
    text = help_of(capsys, "ignore")
    assert "from now on" not in text, text
    assert "every copy on this alert's site: a rule that ignores the site's other alerts now (new, notified, " \
           "acknowledged or removed)" in text, text
    assert "every copy whose URL matches this regex, on any site" in text, text
