"""Delivery that loses nothing and never doubles: leases between processes, kill -9 around a send,
backoff, digests, SMTP login from a systemd credential, Apprise, `provmon notify --test`.
Real processes, a real SMTP server (aiosmtpd), real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Channel
from monitor.notify import backoff
from tests.conftest import REPO, Mailbox, Served, Webhook, demo_config, provmon, rows, serve
from tests.test_reliability import Service, fast_config, query


@dataclass
class Receiver:
    """A webhook receiver that can answer slowly, or hold a request until released."""

    served: Served | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    hold: threading.Event | None = None
    hold_first_only: bool = False  # hold the first request only; the later ones are answered at once
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.served is not None
        return f"{self.served.base}/hook"

    def ok_keys(self) -> Counter[str]:
        return Counter(r["key"] for r in self.received if r["status"] == 200)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            status = rec.status
            rec.received.append({"key": self.headers.get("idempotency-key"), "body": body, "status": status})
            rec.arrived.set()
            if rec.hold is not None and (len(rec.received) == 1 or not rec.hold_first_only):
                rec.hold.wait(30)
            time.sleep(rec.delay)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    rec.served = serve(Handler)
    yield rec
    if rec.hold is not None:
        rec.hold.set()
    rec.served.stop()


def hook(url: str, extra: str = "") -> str:
    return f'\n[[notify]]\ntype = "webhook"\nurl = "{url}"\n{extra}\n'


def write(db: Path, sql: str, *params: object) -> None:
    """One statement from outside provmon, committed (a person or another tool changing the database)."""
    conn = sqlite3.connect(db)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def queue_update(db: Path, alert_id: int, channel: str) -> None:
    """A 'copy removed' update of an alert, queued for a digest channel."""
    write(db, "INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, event) "
              "VALUES (?, ?, 'k-extra', '2026-01-01T00:00:00+00:00', 'copy_removed')", alert_id, channel)


def outbox(db: Path) -> list[tuple]:
    return query(db, "SELECT idempotency_key, status, attempts, last_error FROM notifications ORDER BY id")


def test_backoff_doubles_up_to_the_cap() -> None:
    ch = Channel(type="webhook", url="http://127.0.0.1/", retry_base="1m", retry_max="6h")
    assert [backoff(ch, n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(ch, 30) == 6 * 3600


def test_two_processes_never_send_the_same_row(tmp_path: Path, receiver: Receiver) -> None:
    """The service and a `run --once` deliver at the same time; claims keep each row to one of them."""
    cfg = demo_config(tmp_path, hook(receiver.url, 'retry_base = "1s"'))
    receiver.status = 503
    assert provmon("--config", str(cfg), "run", "--once").code == 0  # two alerts, two failed rows
    receiver.received.clear()
    receiver.status, receiver.delay = 200, 1.0
    time.sleep(1.2)  # the backoff has passed: both rows are due for both processes
    procs = [subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run", "--once"],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(60) for p in procs] == [0, 0]
    assert sorted(receiver.ok_keys().values()) == [1, 1]
    assert all(status == "sent" for _, status, _, _ in outbox(tmp_path / "provmon.db"))


def test_kill_9_between_send_and_record_repeats_with_the_same_key(tmp_path: Path, receiver: Receiver) -> None:
    receiver.hold = threading.Event()
    cfg = fast_config(tmp_path, extra=hook(receiver.url))
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "svc.log")
    assert receiver.arrived.wait(30), svc.text()  # the first notification is on the wire, not yet answered
    svc.stop(signal.SIGKILL)
    first_key = receiver.received[0]["key"]
    receiver.hold.set()  # the receiver got it (answers a dead socket): it counts as delivered once
    assert [s for k, s, _, _ in outbox(db) if k == first_key] == ["pending"]  # never recorded as sent
    receiver.hold = None
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert all(status == "sent" for _, status, _, _ in outbox(db))
    per_key = receiver.ok_keys()
    assert set(per_key) == {k for k, _, _, _ in outbox(db)}
    # The one documented duplicate: the message in flight at the kill, repeated with its key.
    assert per_key[first_key] == 2 and sum(per_key.values()) == 3


def test_channel_down_through_kills_then_up_delivers_each_once(tmp_path: Path, receiver: Receiver) -> None:
    receiver.status = 503
    cfg = fast_config(tmp_path, extra=hook(receiver.url, 'retry_base = "1s"\nretry_max = "2s"'))
    cfg.write_text(cfg.read_text().replace('delivery_interval = "30s"', 'delivery_interval = "1s"'))
    db = tmp_path / "provmon.db"
    for i in range(3):  # the service retries against a dead channel and is killed, three times
        svc = Service(cfg, tmp_path / f"d{i}.log")
        svc.wait_for(lambda n=2 * (i + 1): len(receiver.received) >= n, timeout=30)
        svc.stop(signal.SIGKILL)
    rows = outbox(db)
    # A 503 is the channel's: each pass stops at the first failure, so the other row may not have been tried yet
    # (it waits behind the outage, charged nothing).
    assert len(rows) == 2 and rows[0][1] == "failed" and rows[0][2] >= 2 and "HTTP 503" in rows[0][3], rows
    assert rows[1][1] in ("pending", "failed"), rows
    receiver.status = 200
    time.sleep(2.2)
    svc = Service(cfg, tmp_path / "up.log")
    svc.wait_for(lambda: all(s == "sent" for _, s, _, _ in outbox(db)), timeout=30)
    assert svc.stop() == 0
    assert sorted(receiver.ok_keys().values()) == [1, 1]


@dataclass
class AuthMailbox(Mailbox):
    logins: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
def smtp_auth() -> Iterator[AuthMailbox]:
    """aiosmtpd that requires AUTH (plain text allowed on loopback) and accepts provmon/hunter2."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = AuthMailbox("127.0.0.1", port)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"provmon", b"hunter2")
        if isinstance(data, LoginPassword):
            box.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=ok, handled=False)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    yield box
    controller.stop()


def email_channel(box: Mailbox, extra: str) -> str:
    return (f'\n[[notify]]\ntype = "email"\nhost = "{box.host}"\nport = {box.port}\nsender = "provmon@localhost"\n'
            f'recipients = ["editor@localhost"]\n{extra}\n')


def test_smtp_login_from_a_systemd_credential(tmp_path: Path, smtp_auth: AuthMailbox) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp-password").write_text("hunter2\n")
    cfg = demo_config(tmp_path, email_channel(smtp_auth, 'username = "provmon"\npassword_credential = "smtp-password"'))
    r = provmon("--config", str(cfg), "run", "--once", env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert r.code == 0, r.err
    assert len(smtp_auth.messages) == 2 and smtp_auth.logins[0] == ("provmon", "hunter2")
    # Without the credentials directory the failure says what is missing.
    (tmp_path / "provmon.db").unlink()
    r = provmon("--config", str(cfg), "run", "--once")
    errors = [e for _, _, _, e in outbox(tmp_path / "provmon.db")]
    assert len(errors) == 2 and "$CREDENTIALS_DIRECTORY" in errors[0] and errors[1] is None  # the other waits


def test_smtp_wrong_password_file_is_a_recorded_failure(tmp_path: Path, smtp_auth: AuthMailbox) -> None:
    (tmp_path / "pw").write_text("wrong")
    cfg = demo_config(tmp_path, email_channel(smtp_auth, 'username = "provmon"\npassword_file = "pw"'))
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert smtp_auth.messages == [] and smtp_auth.logins[0] == ("provmon", "wrong")
    rows = outbox(tmp_path / "provmon.db")
    assert [(s, n) for _, s, n, _ in rows] == [("failed", 1), ("pending", 0)] and "535" in rows[0][3]


def test_email_digest_at_most_one_per_period(tmp_path: Path, smtp_server: Mailbox) -> None:
    cfg = demo_config(tmp_path, email_channel(smtp_server, 'digest = "1h"'))
    db = tmp_path / "provmon.db"
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert len(smtp_server.messages) == 1  # both alerts in one mail
    msg = smtp_server.messages[0]
    text = msg.get_body(("plain",)).get_content()
    assert "digest: 2 alert updates" in msg["Subject"] and text.count("copy found") == 2
    # Another update within the hour waits for the next digest.
    write(db, "UPDATE alerts SET status = 'notified'")
    assert provmon("--config", str(cfg), "recheck").code == 0  # nothing gone: no update
    (aid,) = query(db, "SELECT min(id) FROM alerts")[0]
    queue_update(db, aid, "email")
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert len(smtp_server.messages) == 1
    write(db, "UPDATE notifications SET sent_at = '2000-01-01T00:00:00+00:00' WHERE status = 'sent'")
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert len(smtp_server.messages) == 2 and "copy gone" in smtp_server.messages[1].get_body(("plain",)).get_content()


def test_run_once_sends_one_digest_for_all_its_sites(tmp_path: Path, smtp_server: Mailbox) -> None:
    """Two sites with copies in one `run --once` and a daily digest: one mail holding every site's alerts (it used
    to go out after the first site, and the second site's alerts waited a day)."""
    mirror = tmp_path / "mirror"
    shutil.copytree(REPO / "data" / "demo" / "scraper", mirror)
    site = f'\n[[sites]]\nname = "mirror"\nstart_urls = ["{mirror / "index.html"}"]\n'
    cfg = demo_config(tmp_path, site + email_channel(smtp_server, 'digest = "1d"'))
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert {row[0] for row in query(tmp_path / "provmon.db", "SELECT site FROM alerts")} == {"demo-scraper", "mirror"}
    assert len(smtp_server.messages) == 1, [m["Subject"] for m in smtp_server.messages]
    msg = smtp_server.messages[0]
    assert "digest: 4 alert updates on demo-scraper, mirror" in msg["Subject"], msg["Subject"]
    assert msg.get_body(("plain",)).get_content().count("copy found") == 4


def test_apprise_url_to_a_loopback_receiver(tmp_path: Path, webhook: Webhook) -> None:
    pytest.importorskip("apprise")
    url = webhook.url.replace("http://", "json://")
    cfg = demo_config(tmp_path, f'\n[[notify]]\ntype = "apprise"\nname = "chat"\nurl = "{url}"\n')
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert len(webhook.received) == 2
    bodies = [json.loads(req["body"]) for req in webhook.received]
    assert all("copy on demo-scraper" in b["title"] and "Coverage:" in b["message"] for b in bodies)
    assert all(s == "sent" for _, s, _, _ in outbox(tmp_path / "provmon.db"))


def test_apprise_failure_is_recorded_with_a_reason(tmp_path: Path, webhook: Webhook) -> None:
    pytest.importorskip("apprise")
    webhook.status[0] = 500
    url = webhook.url.replace("http://", "json://")
    cfg = demo_config(tmp_path, f'\n[[notify]]\ntype = "apprise"\nurl = "{url}"\n')
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    rows = outbox(tmp_path / "provmon.db")
    assert [(s, n) for _, s, n, _ in rows] == [("failed", 1), ("pending", 0)]
    assert "json://127.0.0.1" in rows[0][3] and "500" in rows[0][3]


def test_notify_test_reports_each_channel(tmp_path: Path, webhook: Webhook) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    cfg = demo_config(tmp_path, hook(webhook.url) + email_channel(Mailbox("127.0.0.1", dead), ""))
    r = provmon("--config", str(cfg), "notify", "--test")
    assert r.code == 1
    assert "webhook: ok" in r.out and f"email: FAILED: email: SMTP 127.0.0.1:{dead}" in r.out
    assert json.loads(webhook.received[0]["body"])["event"] == "test"
    assert not (tmp_path / "provmon.db").exists() or query(tmp_path / "provmon.db",
                                                           "SELECT count(*) FROM notifications")[0][0] == 0


def _unshare_pid() -> bool:
    try:
        return subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _unshare_pid(), reason="needs unshare --pid (util-linux, root or user namespaces)")
def test_a_claim_held_from_another_pid_namespace_is_not_taken(tmp_path: Path, receiver: Receiver) -> None:
    """Two containers can share a host name but not each other's pids: a delivery pass that cannot see the
    claimant's pid must wait for its lease, not send the claimed message a second time."""
    receiver.hold, receiver.hold_first_only = threading.Event(), True  # the service's first message stays on the wire
    cfg = demo_config(tmp_path, hook(receiver.url))
    service = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run", "--once"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert receiver.arrived.wait(60)
    other = subprocess.run(["unshare", "--pid", "--fork", sys.executable, "-m", "monitor", "--config", str(cfg),
                            "run", "--once"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    receiver.hold.set()
    assert service.wait(60) == 0
    keys = [r["key"] for r in receiver.received]
    assert sorted(Counter(keys).values()) == [1, 1], keys
    assert all(status == "sent" for _, status, _, _ in outbox(tmp_path / "provmon.db"))


def test_an_unexpected_sender_error_fails_its_row_not_the_pass(tmp_path: Path, smtp_auth: AuthMailbox,
                                                               webhook: Webhook) -> None:
    """smtplib raises UnicodeEncodeError for a non-ASCII password: that row fails with the reason and a
    backoff, and the channels after it are still served."""
    (tmp_path / "pw").write_text("pässword")
    cfg = demo_config(tmp_path, email_channel(smtp_auth, 'username = "provmon"\npassword_file = "pw"')
                      + f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n')
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert len(webhook.received) == 2
    rows = query(tmp_path / "provmon.db", "SELECT channel, status, attempts, last_error, claimed_by, "
                 "next_attempt_at FROM notifications ORDER BY id")
    email = [row for row in rows if row[0].startswith("email")]
    assert len(email) == 2
    assert all(s == "failed" and n == 1 and "UnicodeEncodeError" in e and c is None and nxt
               for _, s, n, e, c, nxt in email)
    r = provmon("--config", str(cfg), "notify", "--test")
    assert "UnicodeEncodeError" in r.out + r.err and "Traceback" not in r.err


def test_no_second_digest_while_one_is_in_flight(tmp_path: Path, receiver: Receiver) -> None:
    """The service is sending this period's digest when a `provmon run --once` finds a newer update: it
    waits for the next period instead of sending a second digest in this one."""
    pytest.importorskip("apprise")
    receiver.hold, receiver.hold_first_only = threading.Event(), True  # the service's digest stays on the wire
    url = receiver.url.replace("http://", "json://")
    cfg = demo_config(tmp_path, f'\n[[notify]]\ntype = "apprise"\nname = "chat"\nurl = "{url}"\n'
                                f'digest = "1h"\ntimeout = 60\n')
    db = tmp_path / "provmon.db"
    service = subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(cfg), "run", "--once"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert receiver.arrived.wait(60)
    (aid,) = query(db, "SELECT min(id) FROM alerts")[0]
    queue_update(db, aid, "chat")
    other = provmon("--config", str(cfg), "run", "--once")
    assert other.code == 0, other.err
    receiver.hold.set()
    assert service.wait(60) == 0
    assert len(receiver.received) == 1
    assert [s for k, s, _, _ in outbox(db) if k == "k-extra"] == ["pending"]  # the next period's digest


def test_a_renamed_channel_s_unsent_messages_are_moved_not_stranded(tmp_path: Path, webhook: Webhook) -> None:
    """Outbox rows are kept under the channel's label: renamed, its unsent messages would wait for ever.
    status and run --once say so; notify --move gives them to the new name, notify --drop gives them up."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"  # nothing listens: every delivery fails
    cfg = demo_config(tmp_path, f'[[notify]]\ntype = "webhook"\nurl = "{down}"\nretry_base = "1s"\n')
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    assert [r[0] for r in rows(db, "SELECT status FROM notifications ORDER BY id")] == ["failed", "pending"]
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(cfg.read_text().replace(f'url = "{down}"', f'name = "newsroom"\nurl = "{webhook.url}"'))
    r = provmon("--config", str(renamed), "run", "--once")
    assert not webhook.received  # the rows are the label "webhook"'s, and no channel has it now
    assert "warning: 2 unsent notifications for channel 'webhook', which is not in" in r.out, r.out
    status = provmon("--config", str(renamed), "status", "--json")
    assert status.code == 1
    assert any("provmon notify --move webhook NEW" in p for p in status.json_lines()[0]["problems"])

    bad = provmon("--config", str(renamed), "notify", "--move", "webhook", "newsrom")
    assert bad.code == 2 and "no [[notify]] channel named 'newsrom' (configured: newsroom)" in bad.err
    r = provmon("--config", str(renamed), "notify", "--move", "webhook", "newsroom")
    assert r.code == 0 and "moved 2 unsent notifications from 'webhook' to 'newsroom'" in r.out, r.out + r.err
    assert provmon("--config", str(renamed), "run", "--once").code == 0
    assert len(webhook.received) == 2
    assert {r[0] for r in rows(db, "SELECT DISTINCT channel || ':' || status FROM notifications")} == {"newsroom:sent"}
    assert not [p for p in provmon("--config", str(renamed), "status", "--json").json_lines()[0]["problems"]
                if "notification" in p]

    # A channel removed for good: its messages are given up, kept in the log as `dropped`.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE alerts SET status = 'new'")  # two alerts owed again, to both channels
    conn.execute("INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, event) "
                 "SELECT id, 'old-hook', 'k' || id, created_at, 'copy_detected' FROM alerts")
    conn.commit()
    conn.close()
    assert provmon("--config", str(renamed), "notify", "--drop", "nope").code == 2
    r = provmon("--config", str(renamed), "notify", "--drop", "old-hook")
    assert r.code == 0 and "dropped 2 unsent notifications for channel 'old-hook'" in r.out, r.out + r.err
    assert [r[0] for r in rows(db, "SELECT status FROM notifications WHERE channel = 'old-hook'")] == ["dropped"] * 2
