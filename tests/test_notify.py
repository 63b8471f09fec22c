"""Email and webhook notifications against a real SMTP server and a real webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.conftest import Mailbox, Webhook, demo_config, provmon

SECRET = "s3cret-for-tests"


def channels(hook: Webhook, box: Mailbox) -> str:
    return f"""
[[notify]]
type = "webhook"
url = "{hook.url}"
secret_env = "PROVMON_TEST_HOOK_SECRET"

[[notify]]
type = "email"
host = "{box.host}"
port = {box.port}
sender = "provmon@localhost"
recipients = ["editor@localhost", "legal@localhost"]
"""


ENV = {"PROVMON_TEST_HOOK_SECRET": SECRET}


def outbox(db: Path) -> list[tuple[str, str, int, str | None]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT channel, status, attempts, last_error FROM notifications ORDER BY id").fetchall()
    finally:
        conn.close()


def test_each_new_alert_is_mailed_and_posted_once(tmp_path: Path, webhook: Webhook, smtp_server: Mailbox) -> None:
    cfg = demo_config(tmp_path, channels(webhook, smtp_server))
    r = provmon("--config", str(cfg), "run", "--once", env=ENV)
    assert r.code == 0, r.err
    assert len(webhook.received) == 2
    assert len(smtp_server.messages) == 2
    # A second pass finds the same copies: no new alert, nothing sent again.
    provmon("--config", str(cfg), "run", "--once", env=ENV)
    assert len(webhook.received) == 2
    assert len(smtp_server.messages) == 2
    assert all(status == "sent" and attempts == 1 for _, status, attempts, _ in outbox(tmp_path / "provmon.db"))

    kinds = set()
    for req in webhook.received:
        body = req["body"]
        payload = json.loads(body)
        assert payload["version"] == 1 and payload["event"] == "copy_detected"
        alert = payload["alert"]
        kinds.add(alert["kind"])
        assert alert["article"]["title"].startswith("Sea wall gives way")
        assert alert["passages"] and "page_text" in alert["passages"][0]
        sig = req["headers"]["x-provmon-signature"]
        ts, v1 = (part.split("=", 1)[1] for part in sig.split(","))
        expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(v1, expected)
        assert req["headers"]["idempotency-key"] == f"provmon-alert-{alert['id']}-webhook"
    assert kinds == {"verbatim", "paraphrased"}

    msg = smtp_server.messages[0]
    assert msg["To"] == "editor@localhost, legal@localhost"
    assert "[provmon]" in msg["Subject"] and "copy on demo-scraper" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "Coverage:" in text and "Copy:" in text
    html_part = msg.get_body(("html",))
    assert html_part is not None
    # The HTML part says what the text part says: the page's share, and the credit with what it rests on.
    body = html_part.get_content()
    credit = next(line for line in text.splitlines() if line.startswith("Credit:")).split(None, 1)[1]
    page = next(line for line in text.splitlines() if line.startswith("Page:")).split(None, 1)[1]
    assert f"<th align=left>Credit</th><td>{html.escape(credit)}</td>" in body, (credit, body)
    assert f"<th align=left>Page</th><td>{page}</td>" in body


def test_failed_webhook_is_recorded_and_retried(tmp_path: Path, webhook: Webhook, smtp_server: Mailbox) -> None:
    webhook.status[0] = 503
    cfg = demo_config(tmp_path, channels(webhook, smtp_server).replace(
        'secret_env = "PROVMON_TEST_HOOK_SECRET"', 'secret_env = "PROVMON_TEST_HOOK_SECRET"\nretry_base = "4s"'))
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    rows = outbox(tmp_path / "provmon.db")
    hooks = [row for row in rows if row[0] == "webhook"]
    # A 503 is the channel's, not the message's: the other message is not tried in this pass (it waits, unharmed).
    assert [(s, n) for _, s, n, _ in hooks] == [("failed", 1), ("pending", 0)] and "HTTP 503" in hooks[0][3]
    assert len(webhook.received) == 1
    assert len(smtp_server.messages) == 2  # email is unaffected by the webhook outage
    webhook.status[0] = 200
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    # The untried message goes out; the failed one backs off: not retried before retry_base has passed.
    assert [r["status"] for r in webhook.received] == [503, 200]
    time.sleep(4.2)
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    ok = [r for r in webhook.received if r["status"] == 200]
    assert len(ok) == 2
    # The retry repeats the same idempotency key as the failed attempt.
    keys_failed = {r["headers"]["idempotency-key"] for r in webhook.received if r["status"] == 503}
    assert len(keys_failed) == 1 and keys_failed < {r["headers"]["idempotency-key"] for r in ok}
    assert all(status == "sent" for _, status, _, _ in outbox(tmp_path / "provmon.db"))
    assert len(smtp_server.messages) == 2


def test_smtp_down_then_up(tmp_path: Path, webhook: Webhook) -> None:
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    box = Mailbox("127.0.0.1", dead_port)
    cfg = demo_config(tmp_path, channels(webhook, box))
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    mails = [row for row in outbox(tmp_path / "provmon.db") if row[0] == "email"]
    # Refused: the first message is a recorded failure; the other is not sent into the same wall in this pass.
    assert [(s, n) for _, s, n, _ in mails] == [("failed", 1), ("pending", 0)]
    assert f"127.0.0.1:{dead_port}" in mails[0][3]
    assert len(webhook.received) == 2  # the webhook after it is not held up


def test_missing_secret_is_a_named_failure(tmp_path: Path, webhook: Webhook, smtp_server: Mailbox) -> None:
    cfg = demo_config(tmp_path, channels(webhook, smtp_server))
    assert provmon("--config", str(cfg), "run", "--once").code == 0  # PROVMON_TEST_HOOK_SECRET unset
    assert webhook.received == []
    hooks = [row for row in outbox(tmp_path / "provmon.db") if row[0] == "webhook"]
    assert [(s, n) for _, s, n, _ in hooks] == [("failed", 1), ("pending", 0)]
    assert "PROVMON_TEST_HOOK_SECRET" in hooks[0][3]
    assert len(smtp_server.messages) == 2
    # Only this process lacked the secret (an operator's shell): no backoff, a process that has it sends at once.
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    assert len(webhook.received) == 2
    assert {s for _, s, _, _ in outbox(tmp_path / "provmon.db")} == {"sent"}


def test_every_mail_carries_a_date(tmp_path: Path, smtp_server: Mailbox) -> None:
    """RFC 5322 requires a Date: header: alert mails, digests and test mails all have one, in UTC, now."""
    from datetime import UTC, datetime, timedelta

    mail = (f'\n[[notify]]\ntype = "email"\nname = "{{name}}"\nhost = "{smtp_server.host}"\nport = {smtp_server.port}\n'
            f'sender = "provmon@localhost"\nrecipients = ["editor@localhost"]\n')
    cfg = demo_config(tmp_path, mail.format(name="mail") + mail.format(name="daily") + 'digest = "1d"\n')
    start = datetime.now(UTC).replace(microsecond=0)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    r = provmon("--config", str(cfg), "notify", "--test")
    assert r.code == 0, r.out + r.err
    subjects = sorted(m["Subject"].split(":")[0] for m in smtp_server.messages)
    assert len(subjects) == 5 and sum("digest" in s for s in subjects) == 1
    assert subjects.count("[provmon] test message") == 2
    for msg in smtp_server.messages:
        assert len(msg.get_all("Date")) == 1, msg["Subject"]
        sent = msg["Date"].datetime
        assert sent.utcoffset() == timedelta(0)  # UTC (the email package writes it +0000)
        assert start <= sent <= datetime.now(UTC) + timedelta(seconds=1), (msg["Subject"], msg["Date"])


def test_an_empty_secret_is_a_named_failure(tmp_path: Path, webhook: Webhook, smtp_server: Mailbox) -> None:
    """HOOKSECRET= (set but empty) is refused like an unset variable: no unsigned webhook goes out, and the
    reason names the variable and the channel; the same for an empty SMTP password variable."""
    empty = {"PROVMON_TEST_HOOK_SECRET": "", "PROVMON_TEST_SMTP_PASSWORD": ""}
    cfg = demo_config(tmp_path, channels(webhook, smtp_server).replace(
        'type = "webhook"', 'type = "webhook"\nname = "hook"')
        + 'username = "provmon"\npassword_env = "PROVMON_TEST_SMTP_PASSWORD"\n')
    r = provmon("--config", str(cfg), "notify", "--test", env=empty)
    assert r.code == 1
    assert ("hook: FAILED: hook: environment variable PROVMON_TEST_HOOK_SECRET (webhook signing secret) is empty"
            in r.out), r.out
    assert "email: FAILED: email: environment variable PROVMON_TEST_SMTP_PASSWORD (SMTP password) is empty" in r.out
    assert webhook.received == [] and smtp_server.messages == []
    # Through the outbox: failed with the reason, retried later (a secret filled in then is used).
    assert provmon("--config", str(cfg), "run", "--once", env=empty).code == 0
    assert webhook.received == [] and smtp_server.messages == []
    rows = outbox(tmp_path / "provmon.db")
    for name in ("hook", "email"):
        mine = [row for row in rows if row[0] == name]
        assert [(s, n) for _, s, n, _ in mine] == [("failed", 1), ("pending", 0)] and "is empty" in mine[0][3]
    r = provmon("--config", str(cfg), "notify", "--test", env={"PROVMON_TEST_HOOK_SECRET": SECRET})
    assert "hook: ok" in r.out and webhook.received[0]["headers"]["x-provmon-signature"].startswith("t=")


# -- the SMTP password as the shipped systemd unit hands it over ------------------------------------------------
UNIT = Path(__file__).resolve().parents[1] / "systemd" / "provmon.service"


def credentials_as_the_unit_loads_them(etc: Path, into: Path) -> None:
    """Lay out $CREDENTIALS_DIRECTORY as systemd does for the shipped unit, with `etc` standing for /etc/provmon:
    LoadCredential=ID:FILE gives the file as ID; LoadCredential=ID:FOLDER gives each file in it as ID_<name>; a
    missing file takes the SetCredential= value of its ID (C escapes), and without one the unit would not start."""
    text = UNIT.read_text()
    defaults = {i: v.encode().decode("unicode_escape")
                for i, v in re.findall(r"^SetCredential=([^:\n]+):(.*)$", text, re.M)}
    for ident, source in re.findall(r"^LoadCredential=([^:\n]+):(.+)$", text, re.M):
        path = etc / Path(source).relative_to("/etc/provmon")
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
                (into / f"{ident}_{f.name}").write_bytes(f.read_bytes())
        elif path.is_file():
            (into / ident).write_bytes(path.read_bytes())
        else:
            assert ident in defaults, f"systemd would not start the unit: {source} is missing"
            (into / ident).write_text(defaults[ident])


def test_the_documented_smtp_credential_is_read_as_the_unit_exposes_it(tmp_path: Path) -> None:
    """README and docs/alerts.md: the password in /etc/provmon/credentials/smtp-password, and in config.toml
    password_credential = "smtp-password" (the name the code reads under $CREDENTIALS_DIRECTORY)."""
    from monitor.config import Channel
    from monitor.notify import NotifyError, smtp_password

    for doc in ("README.md", "docs/alerts.md"):
        text = (UNIT.parents[1] / doc).read_text()
        assert 'password_credential = "smtp-password"' in text and "/etc/provmon/credentials/smtp-password" in text, doc
    etc, creds = tmp_path / "etc-provmon", tmp_path / "run-credentials"
    (etc / "credentials").mkdir(parents=True)
    creds.mkdir()
    (etc / "credentials" / "smtp-password").write_text("hunter2\n")
    credentials_as_the_unit_loads_them(etc, creds)
    channel = Channel(type="email", host="127.0.0.1", username="provmon", password_credential="smtp-password",
                      sender="provmon@localhost", recipients=("editor@localhost",))
    assert smtp_password(channel, {"CREDENTIALS_DIRECTORY": str(creds)}) == "hunter2"
    # Without the file the service still starts (a server without SMTP login needs none); a channel that uses it
    # fails, saying so.
    (etc / "credentials" / "smtp-password").unlink()
    shutil.rmtree(creds)
    creds.mkdir()
    credentials_as_the_unit_loads_them(etc, creds)
    with pytest.raises(NotifyError, match=r"smtp-password is empty \(the file the unit's LoadCredential= line names"):
        smtp_password(channel, {"CREDENTIALS_DIRECTORY": str(creds)})
    # A name the unit does not load is a failure that lists the names it does load.
    with pytest.raises(NotifyError, match=r"No such file or directory \(.*this directory holds smtp-password\)"):
        smtp_password(Channel(type="email", password_credential="smtp-pass"), {"CREDENTIALS_DIRECTORY": str(creds)})


def test_notify_retry_sends_now_what_waits_out_its_backoff(tmp_path: Path, webhook: Webhook,
                                                           smtp_server: Mailbox) -> None:
    """The relay was down for hours (backoff in hours) and is fixed: status says when the next attempt is, and
    notify --retry sends the queued messages now instead."""
    webhook.status[0] = 502
    cfg = demo_config(tmp_path, channels(webhook, smtp_server).replace(
        'secret_env = "PROVMON_TEST_HOOK_SECRET"', 'secret_env = "PROVMON_TEST_HOOK_SECRET"\nretry_base = "2h"'))
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    (problem,) = [p for p in provmon("--config", str(cfg), "status", "--json").json_lines()[0]["problems"]
                  if "notifications to webhook" in p]
    assert "failing: 2 undelivered" in problem and "next attempt at 20" in problem, problem
    assert "provmon notify --retry webhook sends them now" in problem
    webhook.status[0] = 200
    assert provmon("--config", str(cfg), "run", "--once", env=ENV).code == 0
    assert [r["status"] for r in webhook.received] == [502, 200]  # the one in backoff waits its 2 hours
    bad = provmon("--config", str(cfg), "notify", "--retry", "hook", env=ENV)
    assert bad.code == 2 and "no [[notify]] channel named 'hook' (configured: webhook, email)" in bad.err
    r = provmon("--config", str(cfg), "notify", "--retry", "webhook", env=ENV)
    assert r.code == 0 and "1 failed notification due now; 1 sent, 0 failed" in r.out, r.out + r.err
    assert [r["status"] for r in webhook.received] == [502, 200, 200]
    assert {s for _, s, _, _ in outbox(tmp_path / "provmon.db")} == {"sent"}
    assert not [p for p in provmon("--config", str(cfg), "status", "--json").json_lines()[0]["problems"]
                if "notification" in p]


def test_a_rate_limited_webhook_is_retried_after_its_retry_after(tmp_path: Path, smtp_server: Mailbox) -> None:
    """HTTP 429 with Retry-After: 120 (chat gateways answer so, and may ban clients that ignore it): the next attempt
    is no sooner, though retry_base is 1 s, and the channel's other message is not sent into the limit meanwhile."""
    from datetime import UTC, datetime, timedelta
    from http.server import BaseHTTPRequestHandler
    from typing import Any

    from tests.conftest import serve

    hits: list[str] = []

    class Limited(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            hits.append(self.headers.get("idempotency-key", ""))
            self.send_response(429)
            self.send_header("Retry-After", "120")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(Limited)
    try:
        hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{served.base}/hook"\nretry_base = "1s"\n'
        cfg = demo_config(tmp_path, hook)
        before = datetime.now(UTC)
        assert provmon("--config", str(cfg), "run", "--once").code == 0
        assert len(hits) == 1
        conn = sqlite3.connect(tmp_path / "provmon.db")
        rows = conn.execute("SELECT status, next_attempt_at, last_error FROM notifications ORDER BY id").fetchall()
        conn.close()
        assert [r[0] for r in rows] == ["failed", "pending"]
        assert datetime.fromisoformat(rows[0][1]) >= before + timedelta(seconds=119)
        assert "HTTP 429 (Retry-After: 120s)" in rows[0][2]
        time.sleep(1.1)  # retry_base has passed, Retry-After has not
        assert provmon("--config", str(cfg), "run", "--once").code == 0
        assert len(hits) == 2 and hits[1] != hits[0]  # only the untried message, once, and the limit holds again
    finally:
        served.stop()


def test_a_webhook_that_redirects_says_so(tmp_path: Path, webhook: Webhook) -> None:
    """The receiver moved (308 to its new address): not followed with the signed body, and said plainly."""
    from http.server import BaseHTTPRequestHandler
    from typing import Any

    from tests.conftest import serve

    class Moved(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(308)
            self.send_header("Location", webhook.url + "/token-abc")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(Moved)
    try:
        cfg = demo_config(tmp_path, f'\n[[notify]]\ntype = "webhook"\nurl = "{served.base}/hook"\n')
        r = provmon("--config", str(cfg), "notify", "--test")
        assert r.code == 1 and webhook.received == []
        assert (f"HTTP 308, a redirect to {webhook.served.base}/…: not followed; update the channel's url"
                in r.out), r.out
        assert "token-abc" not in r.out
    finally:
        served.stop()
