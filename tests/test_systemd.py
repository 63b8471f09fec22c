"""The shipped unit runs `provmon run`, verifies, and is hardened (real systemd-analyze where present)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

UNIT = REPO / "systemd" / "provmon.service"
needs_systemd = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")


def local_unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at this environment's provmon, since verify checks the binary exists."""
    exe = Path(sys.executable).parent / "provmon"
    if not exe.exists():
        pytest.skip("provmon console script not installed in this environment")
    unit = tmp_path / "provmon.service"
    unit.write_text(UNIT.read_text().replace("/opt/provmon/bin/provmon", str(exe)))
    return unit


def test_unit_runs_the_service_command() -> None:
    text = UNIT.read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", text, re.M)
    assert exec_start.split()[0].endswith("/provmon")
    assert exec_start.split()[-1] == "run"
    for directive in ("DynamicUser=yes", "StateDirectory=provmon", "NoNewPrivileges=yes", "ProtectSystem=strict",
                      "Restart=on-failure", "KillSignal=SIGTERM"):
        assert directive in text


@needs_systemd
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = local_unit(tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # A line systemd cannot parse is only a warning ("Invalid syntax, ignoring"), and verify still exits 0.
    assert str(unit) not in r.stderr, r.stderr


def test_the_smtp_credential_is_loaded_under_its_own_name() -> None:
    """config.toml's password_credential = "smtp-password" reads $CREDENTIALS_DIRECTORY/smtp-password: the unit
    loads the file under that name (not a folder, whose files would be named <ID>_<file>), with a default so that
    a missing file does not stop the service from starting (tests/test_notify.py reads it as laid out)."""
    text = UNIT.read_text()
    assert re.findall(r"^LoadCredential=(.*)$", text, re.M) == ["smtp-password:/etc/provmon/credentials/smtp-password"]
    assert re.findall(r"^SetCredential=smtp-password:(.+)$", text, re.M) == ["\\n"]


@needs_systemd
def test_security_exposure_is_ok(tmp_path: Path) -> None:
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(local_unit(tmp_path))],
                       capture_output=True, text=True)
    if r.returncode != 0 and "offline" in r.stderr:
        pytest.skip("this systemd-analyze has no --offline")
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0


def test_the_webhook_url_credential_example_verifies_and_reads_as_documented(tmp_path: Path) -> None:
    """The unit carries, commented, the LoadCredential= line a webhook's url_credential needs (docs/alerts.md says to
    add one). Uncommented it is a valid unit, and the credential it lays out is what the channel reads: the URL, or,
    with the SetCredential= default of a missing file, the documented "is empty" failure."""
    from monitor.config import Channel
    from monitor.notify import NotifyError, webhook_url

    text = UNIT.read_text()
    example = re.findall(r"^#((?:Load|Set)Credential=webhook-url:.*)$", text, re.M)
    assert example == ["LoadCredential=webhook-url:/etc/provmon/credentials/webhook-url",
                       "SetCredential=webhook-url:\\n"]
    assert 'url_credential = "webhook-url"' in text
    channel = Channel(type="webhook", name="hook", url_credential="webhook-url")
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "webhook-url").write_text("https://hooks.example/T0/B0/SECRET\n")
    assert webhook_url(channel, {"CREDENTIALS_DIRECTORY": str(creds)}) == "https://hooks.example/T0/B0/SECRET"
    (creds / "webhook-url").write_text("\n")  # what SetCredential=webhook-url:\n gives when the file is missing
    with pytest.raises(NotifyError, match=r"the webhook URL in .*/webhook-url is empty"):
        webhook_url(channel, {"CREDENTIALS_DIRECTORY": str(creds)})
    if shutil.which("systemd-analyze") is None:
        return
    unit = local_unit(tmp_path)
    unit.write_text("".join(line[1:] if line.startswith("#LoadCredential=") or line.startswith("#SetCredential=")
                            else line for line in unit.read_text().splitlines(keepends=True)))
    assert "\nLoadCredential=webhook-url:" in unit.read_text()
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert r.returncode == 0 and str(unit) not in r.stderr, r.stderr
