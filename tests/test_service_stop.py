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
