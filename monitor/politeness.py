"""Politeness towards the hosts we crawl: robots.txt (Protego), Crawl-delay, a minimum delay and a
concurrency limit per host, Retry-After on 429/503, and exponential backoff with full jitter on
transient errors. One Politeness object lives for one crawl run; it holds no global state.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from protego import Protego

from monitor.fetch import Fetcher, FetchError, FetchResult

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ROBOTS_BYTES = 500_000  # Google's limit is 500 KiB; anything past it is ignored


@dataclass(frozen=True)
class PoliteSettings:
    min_delay: float = 1.0          # seconds between request starts to one host
    max_per_host: int = 2           # requests in flight to one host
    obey_robots: bool = True
    max_crawl_delay: float = 30.0   # a larger robots.txt Crawl-delay is capped to this
    max_retries: int = 2            # retries of a 429/5xx or a transient network error
    backoff: float = 1.0            # first backoff step in seconds; doubles per retry, with full jitter
    max_retry_after: float = 300.0  # a longer Retry-After makes us give up on the host for this run


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against ("ProvenanceMonitor/0.1 (+…)" -> name)."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


def retry_after_seconds(value: str, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    robots_lock: threading.Lock = field(default_factory=threading.Lock)  # one robots.txt fetch per host
    next_start: float = 0.0
    delay: float = 0.0
    robots: Protego | None = None
    robots_error: str = ""
    robots_loaded: bool = False
    gave_up: str = ""  # set when the host told us to go away for longer than we wait


class HostBlocked(FetchError):
    """The host asked us to stay away (Retry-After beyond our limit, robots.txt unreachable)."""


class Politeness:
    def __init__(self, fetcher: Fetcher, user_agent: str, settings: PoliteSettings, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        self.fetcher = fetcher
        self.token = agent_token(user_agent)
        self.settings = settings
        self._clock, self._sleep = clock, sleep
        self._rng = rng or random.Random()
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, url: str) -> _Host:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._lock:
            h = self._hosts.get(key)
            if h is None:
                h = self._hosts[key] = _Host(threading.BoundedSemaphore(max(1, self.settings.max_per_host)),
                                             delay=self.settings.min_delay)
            return h

    # -- robots.txt -------------------------------------------------------------------------------
    def robots(self, url: str, allow_private: bool) -> Protego | None:
        """The host's parsed robots.txt, fetched once per run (None: no rules, everything allowed)."""
        if urlsplit(url).scheme not in {"http", "https"} or not self.settings.obey_robots:
            return None
        h = self._host(url)
        with h.robots_lock:
            if not h.robots_loaded:
                self._load_robots(h, url, allow_private)
                h.robots_loaded = True
        return h.robots

    def _load_robots(self, h: _Host, url: str, allow_private: bool) -> None:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            with self._slot(h):
                r = self.fetcher.fetch(robots_url, allow_private=allow_private)
        except FetchError as exc:
            h.robots_error = f"robots.txt unreachable ({exc.reason})"
            return
        if r.ok:
            h.robots = Protego.parse(r.body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace"))
            delay = h.robots.crawl_delay(self.token)
            if delay:
                h.delay = max(h.delay, min(float(delay), self.settings.max_crawl_delay))
        elif r.status == 429 or r.status >= 500:
            # RFC 9309 2.3.1.4: an unreachable robots.txt means assume complete disallow
            h.robots_error = f"robots.txt unreachable (HTTP {r.status})"
        # any other status (404, 403...): no rules, everything allowed

    def allowed(self, url: str, allow_private: bool) -> tuple[bool, str]:
        """(allowed, reason if not)."""
        rp = self.robots(url, allow_private)
        h = self._host(url)
        if h.robots_error:
            return False, f"{h.robots_error}; not crawling this host this run"
        if rp is not None and not rp.can_fetch(url, self.token):
            return False, f"disallowed by robots.txt for {self.token}"
        return True, ""

    def sitemaps(self, url: str, allow_private: bool) -> list[str]:
        rp = self.robots(url, allow_private)
        return list(rp.sitemaps) if rp is not None else []

    # -- pacing -----------------------------------------------------------------------------------
    @contextmanager
    def _slot(self, h: _Host) -> Iterator[None]:
        with h.slots:
            # Callers queue on the host's lock and each waits out the delay from the previous caller's
            # actual start (measured after its wait), not from a start reserved in advance: a caller
            # that woke late would otherwise let the next one follow it too closely.
            with h.lock:
                wait = h.next_start - self._clock()
                if wait > 0:
                    self._sleep(wait)
                h.next_start = self._clock() + h.delay
            yield

    def _push_back(self, h: _Host, seconds: float) -> None:
        with h.lock:
            h.next_start = max(h.next_start, self._clock() + seconds)

    def fetch(self, url: str, allow_private: bool, *, headers: Mapping[str, str] | None = None,
              accept: Iterable[str] | None = None) -> FetchResult:
        """A polite GET: paced, limited per host, retried with backoff; 429/503 Retry-After honoured."""
        accept = tuple(accept) if accept is not None else None
        if urlsplit(url).scheme == "file":  # local files: no host to be polite to
            return self.fetcher.fetch(url, allow_private, headers=headers, accept=accept)
        h = self._host(url)
        attempt = 0
        while True:
            if h.gave_up:
                raise HostBlocked(url, h.gave_up)
            try:
                with self._slot(h):
                    result = self.fetcher.fetch(url, allow_private, headers=headers, accept=accept)
            except FetchError as exc:
                if not exc.transient or attempt >= self.settings.max_retries:
                    raise
                pause = self._backoff(attempt)
                log.info("%s: %s; retrying in %.1fs", url, exc.reason, pause)
                self._push_back(h, pause)
                attempt += 1
                continue
            if result.status not in RETRY_STATUSES:
                return result
            wait = retry_after_seconds(result.headers.get("retry-after", ""))
            if wait is not None and result.status in {429, 503}:
                if wait > self.settings.max_retry_after:
                    h.gave_up = (f"HTTP {result.status} with Retry-After {wait:.0f}s (more than "
                                 f"{self.settings.max_retry_after:.0f}s); host skipped for this run")
                    raise HostBlocked(url, h.gave_up)
                self._push_back(h, wait)  # every request to this host waits, not just this one
            else:
                wait = self._backoff(attempt)
                self._push_back(h, wait)
            if attempt >= self.settings.max_retries:
                return result
            log.info("%s: HTTP %d; retrying in %.1fs", url, result.status, wait)
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        # full jitter: spreads retries out so that many workers do not hit the host in step
        return self._rng.uniform(0, self.settings.backoff * 2 ** attempt) + self.settings.backoff / 10
