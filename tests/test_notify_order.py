"""Per channel, the events of one alert reach a receiver in the order they were recorded: a later event of an
alert is not claimed while an earlier one of the same alert on the same channel is unsent (pending, claimed
or in backoff), and other alerts are not held up by it. Digests keep that order too. Against the real command
line, a real loopback site, a real webhook receiver and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.store import Store
from tests.conftest import Mailbox, Served, provmon, run_smtp, serve
from tests.test_alerts import SPUN, VERBATIM, copier_site


def write(db: Path, sql: str, *params: object) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def query(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def backoff_over(db: Path) -> None:
    """The retry time of every failed row has come (as if the backoff had been waited out)."""
    write(db, "UPDATE notifications SET next_attempt_at = '2000-01-01T00:00:00+00:00' WHERE status = 'failed'")


@dataclass
class FlakyHook:
    """Answers 500 to the first request about a copy whose URL ends in `fail_first_for`, 200 to the rest;
    records (status, event, copy page) in arrival order."""

    served: Served | None = None
    fail_first_for: str = VERBATIM
    received: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.served is not None
        return f"{self.served.base}/hook"

    def ok(self) -> list[tuple[str, str]]:
        return [(event, page) for status, event, page in self.received if status == 200]


@pytest.fixture
def flaky_hook() -> Iterator[FlakyHook]:
    hook = FlakyHook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            page = Path(payload["alert"]["copy_url"]).name
            failed_before = any(p == page for _, _, p in hook.received)
            status = 500 if page == hook.fail_first_for and not failed_before else 200
            hook.received.append((status, payload["event"], page))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook.served = serve(Handler)
    yield hook
    hook.served.stop()


def test_a_later_event_waits_for_the_earlier_one_in_backoff(tmp_path: Path, http_dir: Callable[[Path], Served],
                                                             flaky_hook: FlakyHook) -> None:
    """The user's report: the hook answers 500 to alert V's detection; then V's copy is deleted and the recheck
    marks it removed. The receiver must get V's copy_detected before its copy_removed; the other alert's
    removal is not held up meanwhile."""
    hook = f'\n[[notify]]\ntype = "webhook"\nname = "hook"\nurl = "{flaky_hook.url}"\nretry_base = "1h"\n'
    cfg, site, _ = copier_site(tmp_path, http_dir, hook)
    db = tmp_path / "provmon.db"
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    # A 500 is the receiver's trouble: the pass stops at it, the other detection waits for the next pass (unless
    # it went first).
    assert flaky_hook.ok() in ([], [("copy_detected", SPUN)])
    assert "notification hook for alert" in r.err and "failed (attempt 1, next in 3600s)" in r.err

    (site / VERBATIM).unlink()  # V's copy is taken down; the spun page is replaced by an unrelated article
    shutil.copy(site / "plant-garlic-in-autumn.html", site / SPUN)
    r = provmon("--config", str(cfg), "recheck")
    assert "2 gone" in r.out, r.out + r.err
    # The spun copy's removal goes out at once; V's waits behind V's detection, which is in backoff.
    assert flaky_hook.ok() == [("copy_detected", SPUN), ("copy_removed", SPUN)]
    rows = query(db, "SELECT event, status, attempts, claimed_by FROM notifications WHERE alert_id = "
                     "(SELECT id FROM alerts WHERE copy_url LIKE ?) ORDER BY id", f"%/{VERBATIM}")
    assert rows == [("copy_detected", "failed", 1, None), ("copy_removed", "pending", 0, None)]

    # Still in backoff: another pass sends nothing.
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert len(flaky_hook.ok()) == 2

    backoff_over(db)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    # One pass delivers both, in the order they were recorded.
    assert [(e, p) for e, p in flaky_hook.ok() if p == VERBATIM] == [("copy_detected", VERBATIM),
                                                                     ("copy_removed", VERBATIM)]
    assert {s for (s,) in query(db, "SELECT status FROM notifications")} == {"sent"}


def test_claims_follow_each_alerts_order(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    """The rule at the store: an earlier row of the alert that is claimed by a live holder, in backoff or merely
    pending blocks a later one; cancelled and sent ones do not; a batch (digest) may take several events of one
    alert, in order, when it takes the earlier ones too."""
    hook = '\n[[notify]]\ntype = "webhook"\nname = "hook"\nurl = "http://127.0.0.1:9/hook"\nretry_base = "1h"\n'
    cfg, _, _ = copier_site(tmp_path, http_dir, hook)
    db = tmp_path / "provmon.db"
    assert provmon("--config", str(cfg), "run", "--once").code == 0  # port 9: refused, the pass stops at the first
    # ...and the second detection is put in backoff as well, as a later pass would.
    write(db, "UPDATE notifications SET status = 'failed', attempts = 1, next_attempt_at = '2999-01-01T00:00:00+00:00'")
    a, b = (aid for (aid,) in query(db, "SELECT id FROM alerts ORDER BY id"))
    for aid in (a, b):
        write(db, "INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, event) "
                  "VALUES (?, 'hook', ?, '2026-01-01T00:00:00+00:00', 'copy_removed')", aid, f"removed-{aid}")
    now = datetime.now(UTC)

    def claim(limit: int = 10, holder: str = "h", **kw: Any) -> list[tuple[int, str]]:
        with Store(db) as store:
            taken = store.claim_notifications("hook", holder, 60, now, limit=limit, **kw)
            for n in taken:
                store.release(n.id, holder)
        return [(n.alert_id, n.event) for n in taken]

    assert claim() == []  # both detections in backoff: neither alert's removal may go first
    write(db, "UPDATE notifications SET next_attempt_at = NULL, claimed_by = 'other', "
              "claimed_until = '2999-01-01T00:00:00+00:00' WHERE alert_id = ? AND event = 'copy_detected'", a)
    backoff_over(db)
    # a's detection is being sent by a live holder: a's removal waits; b is not held up, and in one batch its
    # removal may follow its detection.
    assert claim(holder_alive=lambda h: True) == [(b, "copy_detected"), (b, "copy_removed")]
    assert claim(limit=1, holder_alive=lambda h: True) == [(b, "copy_detected")]
    # The holder is gone: a's rows are free again, in order.
    assert claim(holder_alive=lambda h: False) == [(a, "copy_detected"), (b, "copy_detected"),
                                                   (a, "copy_removed"), (b, "copy_removed")]
    write(db, "UPDATE notifications SET status = 'sent', claimed_by = NULL WHERE alert_id = ? "
              "AND event = 'copy_detected'", a)
    write(db, "UPDATE notifications SET status = 'cancelled' WHERE alert_id = ? AND event = 'copy_detected'", b)
    assert claim(limit=1) == [(a, "copy_removed")]
    assert claim() == [(a, "copy_removed"), (b, "copy_removed")]


@pytest.fixture
def flaky_smtp() -> Iterator[Mailbox]:
    """aiosmtpd that answers 451 (try again later) to the first message and accepts the rest."""
    yield from run_smtp(refuse=1)


def test_a_digest_keeps_each_alerts_order(tmp_path: Path, http_dir: Callable[[Path], Served],
                                          flaky_smtp: Mailbox) -> None:
    """An email digest that failed holds both detections in backoff; the removal recorded meanwhile is not sent
    in a digest of its own ahead of them, but in the next one, after the detection it follows."""
    mail = (f'\n[[notify]]\ntype = "email"\nname = "mail"\nhost = "{flaky_smtp.host}"\nport = {flaky_smtp.port}\n'
            f'sender = "provmon@localhost"\nrecipients = ["editor@localhost"]\ndigest = "1h"\nretry_base = "1h"\n')
    cfg, site, _ = copier_site(tmp_path, http_dir, mail)
    db = tmp_path / "provmon.db"
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert flaky_smtp.messages == []  # refused: both detections failed, in backoff
    (site / VERBATIM).unlink()
    r = provmon("--config", str(cfg), "recheck")
    assert "1 gone" in r.out, r.out + r.err
    assert flaky_smtp.messages == []  # no digest holding only the removal
    backoff_over(db)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert len(flaky_smtp.messages) == 1
    (v,) = query(db, "SELECT id FROM alerts WHERE copy_url LIKE ?", f"%/{VERBATIM}")[0]
    lines = [line for line in flaky_smtp.messages[0].get_body(("plain",)).get_content().splitlines()
             if line.startswith(f"#{v} ")]
    assert [line.split(":")[0] for line in lines] == [f"#{v} copy found", f"#{v} copy gone"]
    assert {s for (s,) in query(db, "SELECT status FROM notifications")} == {"sent"}
