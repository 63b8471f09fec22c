"""The service delivering a backlog to a slow channel: the heartbeat is not starved, a site job does not wait
for another's delivery, a site's run is on record before its alerts are sent, and SIGTERM stops delivery
between two messages. Real `provmon run` subprocesses, a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Served, provmon, serve, write_config
from tests.test_reliability import Service, query


def copies_site(root: Path, name: str, articles: range) -> tuple[str, str]:
    """Originals (made-up words, one article each) and a folder `name` holding a verbatim copy of each: one
    alert per article. Returns the [[track]] entries and the [[sites]] entry."""
    rng = random.Random(f"{name}-{articles.start}")
    words = ["".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
             for _ in range(3000)]
    (root / "orig").mkdir(exist_ok=True)
    (root / name).mkdir()
    track, links = [], []
    for i in articles:
        sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(12, 20))).capitalize() + "."
                     for _ in range(10)]
        body = "".join(f"<p>{s}</p>" for s in sentences)
        for path, title in ((root / "orig" / f"a{i}.html", f"Story {i}"), (root / name / f"c{i}.html", f"Copy {i}")):
            path.write_text(f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}"
                            "</article></body></html>")
        track.append(f'[[track]]\nsource = "{root / "orig" / f"a{i}.html"}"\n')
        links.append(f'<a href="c{i}.html">copy {i}</a>')
    (root / name / "index.html").write_text("<html><body>" + "".join(links) + "</body></html>")
    site = f'[[sites]]\nname = "{name}"\nstart_urls = ["{root / name / "index.html"}"]\ninterval = "1h"\n'
    return "".join(track), site


@dataclass
class Hook:
    """A webhook receiver: answers after `delay` seconds, or holds every request until `release` is set."""

    served: Served | None = None
    keys: list[str] = field(default_factory=list)
    delay: float = 0.0
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.served is not None
        return f"{self.served.base}/hook"

    def count(self) -> int:
        with self.lock:
            return len(self.keys)


@pytest.fixture
def hook() -> Iterator[Hook]:
    rec = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            with rec.lock:
                rec.keys.append(self.headers.get("idempotency-key", ""))
            if rec.hold:
                rec.release.wait(120)
            time.sleep(rec.delay)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    rec.served = serve(Handler)
    yield rec
    rec.release.set()
    rec.served.stop()


def config(tmp_path: Path, hook_url: str, sites: dict[str, range]) -> Path:
    tracks, entries = zip(*(copies_site(tmp_path, name, r) for name, r in sites.items()), strict=True)
    body = ("".join(tracks) + "".join(entries) +
            # a held message must not time out (and fail, and let the next one go) while the test looks on
            f'[[notify]]\ntype = "webhook"\nurl = "{hook_url}"\ntimeout = 120.0\n'
            # only the site jobs deliver here (the periodic delivery job would come too late to matter)
            '[alerts]\ndelivery_interval = "1h"\n')
    cfg = write_config(tmp_path / "config.toml", "")
    text = cfg.read_text().replace('log_level = "info"\n', 'log_level = "info"\nheartbeat = "2s"\n'
                                   'max_concurrent_sites = 2\n')
    cfg.write_text(text + "\n" + body)
    return cfg


def beat(db: Path) -> str:
    rows = query(db, "SELECT value FROM meta WHERE key = 'heartbeat'")
    return rows[0][0] if rows else ""


def site_state(db: Path, site: str) -> tuple | None:
    rows = query(db, f"SELECT last_result, alerts_raised FROM site_state WHERE site = '{site}' AND runs > 0")
    return rows[0] if rows else None


def test_slow_delivery_starves_nothing_and_records_the_run_first(tmp_path: Path, hook: Hook) -> None:
    """Delivery of site one's alerts hangs on the channel. Meanwhile: the heartbeat goes on (`status` is ok),
    site one's run is on record with all its alerts, site two's job finishes rather than waiting for the
    delivery lock, and once the channel answers, the running pass also sends site two's alerts."""
    hook.hold = True
    cfg = config(tmp_path, hook.url, {"one": range(0, 12), "two": range(12, 20)})
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "svc.log")
    try:
        svc.wait_for(lambda: hook.count() >= 1, timeout=60)  # site one's first message, held by the channel
        svc.wait_for(lambda: site_state(db, "one") == ("ok", 12), timeout=30)
        svc.wait_for(lambda: site_state(db, "two") == ("ok", 8), timeout=60)
        assert hook.count() == 1  # all of this while the first message is still unanswered
        beats: set[str] = set()

        def beating() -> bool:
            beats.add(beat(db))
            return len(beats) >= 3  # two beats more while the channel holds the delivery

        svc.wait_for(beating, timeout=30)
        status = provmon("--config", str(cfg), "status")
        assert status.code == 0 and "service: ok" in status.out, status.out
        hook.release.set()
        svc.wait_for(lambda: hook.count() >= 20, timeout=90)
        svc.wait_for(lambda: query(db, "SELECT count(*) FROM notifications WHERE status = 'sent'")[0][0] == 20)
    finally:
        hook.release.set()
        assert svc.stop() == 0
    assert sorted(hook.keys) == sorted(k for (k,) in query(db, "SELECT idempotency_key FROM notifications"))
    text = svc.text()
    assert "maximum number of running instances" not in text
    assert "Traceback" not in text


def test_sigterm_stops_delivery_between_messages(tmp_path: Path, hook: Hook) -> None:
    """40 alerts queued for a channel that takes 0.5 s a message: SIGTERM ends the pass after the message in
    flight (sent and recorded), and "provmon stopped" comes after the last send."""
    hook.delay = 0.5
    cfg = config(tmp_path, hook.url, {"one": range(0, 40)})
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "svc.log")
    try:
        svc.wait_for(lambda: hook.count() >= 2, timeout=60)
        at_signal = hook.count()
        svc.proc.send_signal(signal.SIGTERM)
        code = svc.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        svc.proc.kill()
        raise
    finally:
        svc.stop()
    assert code == 0
    assert hook.count() <= at_signal + 1 < 40  # at most the message already on its way
    sent = {k for (k,) in query(db, "SELECT idempotency_key FROM notifications WHERE status = 'sent'")}
    assert sent == set(hook.keys)  # every message sent is recorded as sent: none cut between the two
    text = svc.text()
    assert text.rindex("provmon stopped") > max(text.rindex("notified"), text.rindex("received SIGTERM"))
    assert "Traceback" not in text
