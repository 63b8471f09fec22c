"""SIGTERM while a page's body stalls: the fetch in hand ends at its timeout, and it is not retried."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.fetch import FetchError, FetchResult
from monitor.politeness import STOPPING, Politeness, PoliteSettings
from tests.conftest import Served, serve, write_config
from tests.test_reliability import Service


@pytest.fixture
def stalling() -> Iterator[tuple[Served, Counter[str], threading.Event]]:
    """/stall.html sends half its body, then nothing until released; everything else is 404."""
    hits: Counter[str] = Counter()
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[self.path] += 1
            if self.path != "/stall.html":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", "20000")
            self.end_headers()
            self.wfile.write(b"<html><body><p>" + b"half a page " * 800)
            self.wfile.flush()
            release.wait(120)

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(Handler)
    yield served, hits, release
    release.set()
    served.stop()


def test_sigterm_does_not_retry_a_stalled_page(tmp_path: Path, stalling: tuple[Served, Counter[str],
                                                                                  threading.Event]) -> None:
    served, hits, _ = stalling
    cfg = write_config(tmp_path / "config.toml",
                       '[fetch]\nread_timeout = 3.0\ntimeout = 10.0\nmax_retries = 5\nmin_delay = 0.0\n\n'
                       f'[[sites]]\nname = "stalls"\nstart_urls = ["{served.base}/stall.html"]\n'
                       'allow_private = true\nmax_depth = 0\n')
    svc = Service(cfg, tmp_path / "svc.log")
    try:
        svc.wait_for(lambda: hits["/stall.html"] == 1)
        svc.proc.send_signal(signal.SIGTERM)
        code = svc.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("did not stop; log:\n" + svc.text()) from None
    finally:
        svc.stop()
    text = svc.text()
    assert code == 0, text
    assert hits["/stall.html"] == 1, text  # the stalled request ended at its timeout, and was not sent again
    assert "retrying" not in text[text.index("received SIGTERM"):]
    assert text.rindex("provmon stopped") > text.index("received SIGTERM")


class _Failing:
    """A fetcher whose every request times out (after taking its turn, as the real one does)."""

    max_bytes = 1_000_000

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.calls = 0
        self.stop = stop

    def fetch(self, url: str, allow_private: bool, *, pace: Any = None, **_: Any) -> FetchResult:
        with pace(url):
            self.calls += 1
            if self.stop is not None:
                self.stop.set()  # the service stops while this request is out
            raise FetchError(url, "timed out", transient=True)


def test_politeness_retries_nothing_once_stopping() -> None:
    stop = threading.Event()
    fetcher = _Failing(stop)
    polite = Politeness(fetcher, "t", PoliteSettings(min_delay=0, max_retries=5, backoff=0.01, obey_robots=False),
                        stop=stop)
    with pytest.raises(FetchError, match="timed out"):
        polite.fetch("http://127.0.0.1:9/a", True)
    assert fetcher.calls == 1
    with pytest.raises(FetchError) as caught:  # and no new request goes out
        polite.fetch("http://127.0.0.1:9/b", True)
    assert caught.value.reason == STOPPING and not caught.value.transient and fetcher.calls == 1


def test_politeness_pause_ends_when_stopping() -> None:
    """A host's delay (or backoff) is waited on the stop event: setting it ends the wait."""
    stop = threading.Event()
    fetcher = _Failing()
    polite = Politeness(fetcher, "t", PoliteSettings(min_delay=600, max_retries=0, obey_robots=False), stop=stop)
    with pytest.raises(FetchError, match="timed out"):
        polite.fetch("http://127.0.0.1:9/a", True)
    errors: list[FetchError] = []

    def second() -> None:
        try:
            polite.fetch("http://127.0.0.1:9/b", True)  # its turn is 600 s away
        except FetchError as exc:
            errors.append(exc)

    t = threading.Thread(target=second, daemon=True)
    t.start()
    stop.set()
    t.join(60)
    assert not t.is_alive()
    assert [e.reason for e in errors] == [STOPPING] and fetcher.calls == 1

@pytest.fixture
def busy_feed() -> Iterator[tuple[Served, Counter[str], dict[str, int]]]:
    """A publisher's feed listing `entries["n"]` articles, each answering 503 with Retry-After 20 (within
    max_retry_after: waited for and retried); the requests per path."""
    hits: Counter[str] = Counter()
    entries = {"n": 5}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[self.path] += 1
            if self.path == "/feed.xml":
                items = "".join(f"<item><title>a{i}</title><link>{served.base}/a{i}</link></item>"
                                for i in range(entries["n"]))
                body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
                self._send(200, body.encode(), {"content-type": "application/rss+xml"})
            elif self.path.startswith("/a"):
                self._send(503, b"busy", {"retry-after": "20"})
            else:
                self._send(404, b"")

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(Handler)
    yield served, hits, entries
    served.stop()


def publisher_config(tmp_path: Path, served: Served) -> Path:
    return write_config(tmp_path / "config.toml",
                        f'[[publishers]]\nname = "me"\nfeeds = ["{served.base}/feed.xml"]\nallow_private = true\n')



def test_shutdown_ends_while_a_job_calls_the_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A site job past its stop check when the service stops, about to reschedule itself (outside its active
    hours): the shutdown still ends (APScheduler's shutdown(wait=True) waited for it holding the lock the job
    needed; a review found it)."""
    from datetime import UTC, datetime, timedelta

    import monitor.scheduler as sch
    from monitor.config import load_config

    (tmp_path / "p.html").write_text("<html><body><p>x</p></body></html>", encoding="utf-8")
    cfg = load_config(write_config(tmp_path / "config.toml", f'[[sites]]\nname = "s"\nstart_urls = '
                                   f'["{tmp_path}/p.html"]\ninterval = "1h"\nactive_hours = "03:00-03:01"\n'))
    svc = sch.Service(cfg)
    entered = threading.Event()

    def window_start(site: Any, now: Any) -> Any:  # the job is past its stop check, then the service stops
        entered.set()
        svc._stop.wait(30)
        threading.Event().wait(0.5)  # ...and the shutdown has begun
        return datetime.now(UTC) + timedelta(hours=5)

    monkeypatch.setattr(sch, "window_start", window_start)
    svc.open_store().close()
    svc.schedule()
    svc.scheduler.start()
    assert entered.wait(20)
    done = threading.Thread(target=svc.shutdown, daemon=True)
    done.start()
    done.join(30)
    assert not done.is_alive(), "the shutdown waits forever for the job"
    assert "scan failed" not in caplog.text  # the job found itself to reschedule (it was removed under it)


def test_sigterm_stops_tracking_a_publishers_feed(
        tmp_path: Path, busy_feed: tuple[Served, Counter[str], dict[str, int]]) -> None:
    """The publishers' feed entries answer 503 with Retry-After 20 (waited and retried): SIGTERM during that
    tracking ends the service well within systemd's TimeoutStopSec (60 s), with no further retry (it went on
    retrying: a review found it)."""
    served, hits, entries = busy_feed
    entries["n"] = 0
    svc = Service(publisher_config(tmp_path, served), tmp_path / "svc.log")
    try:
        svc.wait_for(lambda: "provmon running" in svc.text(), 60)
        entries["n"] = 5
        svc.proc.send_signal(signal.SIGHUP)  # a reload tracks the feed again, now with five entries
        svc.wait_for(lambda: "retrying in" in svc.text(), 60)
        asked = sum(n for path, n in hits.items() if path.startswith("/a"))
    finally:
        svc.stop(timeout=50)  # SIGTERM
    assert sum(n for path, n in hits.items() if path.startswith("/a")) <= asked + 1
    assert "provmon stopped" in svc.text()


def test_sigterm_while_tracking_at_start_stops_the_service(
        tmp_path: Path, busy_feed: tuple[Served, Counter[str], dict[str, int]]) -> None:
    """The first tracking runs before the scheduler starts; a SIGTERM during it (the feed's entries waited for and
    retried) stops the service too (the main thread did not look at signals then; a review found it)."""
    served, _, _ = busy_feed
    svc = Service(publisher_config(tmp_path, served), tmp_path / "svc.log")
    try:
        svc.wait_for(lambda: "retrying in" in svc.text(), 60)
        assert "provmon running" not in svc.text()
    finally:
        svc.stop(timeout=50)  # SIGTERM
    assert svc.proc.returncode == 0
    assert "received SIGTERM while tracking at start, stopping" in svc.text()
    assert "provmon stopped" in svc.text() and "provmon running" not in svc.text()


def test_publisher_tracking_does_not_ask_a_held_host(tmp_path: Path) -> None:
    """A host held by a crawl's Retry-After is not asked by the publishers' feed tracking either (only the crawl
    respected holds; a review found recheck and feeds asking)."""
    import time

    from monitor.config import load_config
    from monitor.fetch import Fetcher
    from monitor.publishers import track_new_entries
    from monitor.store import Store

    hits: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[self.path] += 1
            self.send_error(404)

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(Handler)
    try:
        cfg = load_config(write_config(tmp_path / "config.toml", f'[[publishers]]\nname = "me"\nfeeds = '
                                       f'["{served.base}/feed.xml"]\nallow_private = true\n'))
        with Store(tmp_path / "provmon.db") as store, Fetcher("provmon-test") as f:
            store.hold_host(served.base, time.time() + 3600, "HTTP 503 with Retry-After 3600s; held")
            assert track_new_entries(store, f, cfg) == 0
        assert sum(hits.values()) == 0
    finally:
        served.stop()
