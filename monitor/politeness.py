"""Politeness towards the hosts we crawl: robots.txt (Protego), Crawl-delay, a minimum delay and a
concurrency limit per host, Retry-After on 429/503, and exponential backoff with full jitter on
transient errors. One Politeness object lives for one crawl run; it holds no global state.
Given a stop event (the service is shutting down), it sends no further request and retries nothing:
its waits are waits on that event, so setting it ends them at once.

The limits hold as the host sees them, by construction rather than by timing (docs/crawling.md,
"Politeness"): a request to a host is sent only once the host has answered the previous one (its
response headers are in, or it failed) and the delay has passed since that answer. The host read the
previous request before it answered, so the next one reaches it at least the delay later however late
our threads run. A request holds one of the host's `max_per_host` slots from before it is sent until
its response is read, a superset of the time the host spends on it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

from protego import Protego

from monitor.fetch import Answered, Fetcher, FetchError, FetchResult, split_url

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ROBOTS_BYTES = 500_000  # Google's limit is 500 KiB; anything past it is ignored


@dataclass(frozen=True)
class PoliteSettings:
    min_delay: float = 1.0          # seconds from a host's answer to the next request to it
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
    """Retry-After as seconds: either delta-seconds or an HTTP date. An HTTP date is GMT (RFC 9110, 5.6.7),
    whether it says so ("GMT"), says "-0000", or says nothing (the asctime form): never local time."""
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # str.isdigit() is also true for "²" and other non-ASCII digits
        return float(value)
    try:
        date = parsedate_to_datetime(value)
        if date.tzinfo is None:  # "-0000" and the asctime form: a naive result would be read as local time
            date = date.replace(tzinfo=UTC)
        when = date.timestamp()
    except (TypeError, ValueError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass
class _Host:
    slots: threading.BoundedSemaphore
    turn: threading.Condition = field(default_factory=threading.Condition)  # guards ready_at and awaiting
    robots_lock: threading.Lock = field(default_factory=threading.Lock)  # one robots.txt fetch per host
    ready_at: float = 0.0  # no request is sent before this (clock time): last answer + delay, Retry-After, backoff
    awaiting: bool = False  # a request is out and not answered yet, so its arrival time is unknown
    delay: float = 0.0
    robots: Protego | None = None
    robots_error: str = ""
    robots_loaded: bool = False
    gave_up: str = ""  # set when the host told us to go away for longer than we wait
    key: str = ""  # scheme://host[:port]


class HostBlocked(FetchError):
    """The host asked us to stay away (Retry-After beyond our limit, robots.txt unreachable)."""


@dataclass
class _Attempt:
    """One try of a polite fetch: its number (for the backoff) and how long its answer held the host back."""

    number: int
    pause: float = 0.0


STOPPING = "not fetched: stopping (the service is shutting down)"
MAX_HOLD = 7 * 86400.0  # a Retry-After further away than this is held to it (a typo of a year is not obeyed)


class Politeness:
    def __init__(self, fetcher: Fetcher, user_agent: str, settings: PoliteSettings, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], object] | None = None,
                 rng: random.Random | None = None, stop: threading.Event | None = None,
                 held: Mapping[str, str] | None = None) -> None:
        """`held`: hosts (scheme://host[:port]) that asked an earlier run to stay away for longer than it waited,
        and why: skipped from the start. Those this run is told to leave are `holds()`."""
        self.fetcher = fetcher
        self._held = dict(held or {})
        self._new_holds: dict[str, tuple[float, str]] = {}
        self.token = agent_token(user_agent)
        self.settings = settings
        self._stop = stop if stop is not None else threading.Event()
        # A pause is a wait on the stop event: a shutdown does not sit out a Crawl-delay or a backoff.
        self._clock, self._sleep = clock, sleep if sleep is not None else self._stop.wait
        self._rng = rng or random.Random()
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, url: str) -> _Host:  # an invalid URL raises FetchError (split_url)
        parts = split_url(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._lock:
            h = self._hosts.get(key)
            if h is None:
                h = self._hosts[key] = _Host(threading.BoundedSemaphore(max(1, self.settings.max_per_host)),
                                             delay=self.settings.min_delay, gave_up=self._held.get(key, ""), key=key)
            return h

    def holds(self) -> dict[str, tuple[float, str]]:
        """Hosts that answered this run with a Retry-After longer than `max_retry_after`: until when (epoch
        seconds) and why. The caller keeps them, so that later runs skip the host until then too."""
        with self._lock:
            return dict(self._new_holds)

    # -- robots.txt -------------------------------------------------------------------------------
    def robots(self, url: str, allow_private: bool) -> Protego | None:
        """The host's parsed robots.txt, fetched once per run (None: no rules, everything allowed)."""
        if split_url(url).scheme not in {"http", "https"} or not self.settings.obey_robots:
            return None
        h = self._host(url)
        if h.gave_up:  # the host asked us to stay away: not even for its robots.txt
            return None
        with h.robots_lock:
            if not h.robots_loaded:
                self._load_robots(h, url, allow_private)
                h.robots_loaded = True
        return h.robots

    def _load_robots(self, h: _Host, url: str, allow_private: bool) -> None:
        parts = split_url(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        try:
            r = self.fetcher.fetch(robots_url, allow_private=allow_private, pace=self._pacer(_Attempt(0)))
        except FetchError as exc:
            # The address policy refusing the host is no fault of its robots.txt: it refuses every page the same way.
            refused = exc.reason.startswith("refused: host is")
            h.robots_error = exc.reason if refused else f"robots.txt unreachable ({exc.reason})"
            return
        if r.ok:
            h.robots = Protego.parse(r.body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace"))
            delay = h.robots.crawl_delay(self.token)
            if delay:
                h.delay = max(h.delay, min(float(delay), self.settings.max_crawl_delay))
                self._hold(h, h.delay)  # robots.txt was a request too: the first page waits the Crawl-delay
        elif r.status == 429 or r.status >= 500:
            # RFC 9309 2.3.1.4: an unreachable robots.txt means assume complete disallow
            h.robots_error = f"robots.txt unreachable (HTTP {r.status})"
        # any other status (404, 403...): no rules, everything allowed

    def allowed(self, url: str, allow_private: bool) -> tuple[bool, str]:
        """(allowed, reason if not); an invalid URL raises FetchError."""
        rp = self.robots(url, allow_private)
        h = self._host(url)
        if h.gave_up:
            return False, h.gave_up
        if h.robots_error:
            return False, f"{h.robots_error}; nothing is fetched from this host in this pass"
        if rp is not None and not rp.can_fetch(url, self.token):
            return False, f"disallowed by robots.txt for {self.token}"
        return True, ""

    def sitemaps(self, url: str, allow_private: bool) -> list[str]:
        rp = self.robots(url, allow_private)
        return list(rp.sitemaps) if rp is not None else []

    # -- pacing -----------------------------------------------------------------------------------
    def _pacer(self, attempt: _Attempt) -> Callable[[str], AbstractContextManager[Answered]]:
        return lambda url: self._turn(url, attempt)

    @contextmanager
    def _turn(self, url: str, attempt: _Attempt) -> Iterator[Answered]:
        """Held around one request to url's host: takes one of the host's slots, waits for its turn, and
        yields the function the fetcher calls when the answer's headers arrive."""
        if split_url(url).scheme not in {"http", "https"}:
            yield lambda status, headers: None
            return
        h = self._host(url)
        with h.slots:
            self._wait_turn(h, url)
            answered = False

            def answer(status: int, headers: Mapping[str, str]) -> None:
                nonlocal answered
                if not answered:
                    answered = True
                    self._answered(h, attempt, status, headers)

            try:
                yield answer
            except FetchError as exc:
                if exc.transient:  # back off: the whole host waits, not just this request
                    attempt.pause = self._backoff(attempt.number)
                    if answered:  # failed while reading the body; the turn has already passed on
                        self._hold(h, attempt.pause)
                raise
            finally:
                if not answered:  # no answer (refused, timed out): the delay runs from the failure
                    self._release(h, attempt.pause)

    def _wait_turn(self, h: _Host, url: str) -> None:
        with h.turn:
            while True:
                if self._stop.is_set():  # not transient: nothing retries it
                    raise FetchError(url, STOPPING)
                if h.gave_up:  # said as not fetched: the answer that held the host was another URL's
                    raise HostBlocked(url, f"not fetched, the host is held: {h.gave_up}")
                if h.awaiting:  # the previous request's arrival is not known until its answer is in
                    h.turn.wait()
                    continue
                wait = h.ready_at - self._clock()
                if wait <= 0:
                    break
                # Sleep without the lock (an answer may push ready_at further meanwhile), then look again.
                h.turn.release()
                try:
                    self._sleep(wait)
                finally:
                    h.turn.acquire()
            # Without a delay there is nothing to space, and requests go out side by side (up to the slots).
            h.awaiting = h.delay > 0

    def _answered(self, h: _Host, attempt: _Attempt, status: int, headers: Mapping[str, str]) -> None:
        """The host answered: the next request may go `delay` from now, or later if the answer says so."""
        if status in RETRY_STATUSES:
            wait = retry_after_seconds(headers.get("retry-after", "")) if status in {429, 503} else None
            if wait is not None and wait > self.settings.max_retry_after:
                until = time.time() + min(wait, MAX_HOLD)
                h.gave_up = (f"HTTP {status} with Retry-After {wait:.0f}s (more than "
                             f"{self.settings.max_retry_after:.0f}s); host skipped until "
                             f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(until))}")
                with self._lock:
                    self._new_holds[h.key] = (until, h.gave_up)
            attempt.pause = wait if wait is not None else self._backoff(attempt.number)
        self._release(h, attempt.pause)

    def _release(self, h: _Host, pause: float) -> None:
        """The request out has been answered (or failed): the next one may go after the delay or `pause`."""
        with h.turn:
            h.awaiting = False
            h.ready_at = max(h.ready_at, self._clock() + max(h.delay, pause))
            h.turn.notify_all()

    def _hold(self, h: _Host, pause: float) -> None:
        with h.turn:
            h.ready_at = max(h.ready_at, self._clock() + pause)

    def fetch(self, url: str, allow_private: bool, *, headers: Mapping[str, str] | None = None,
              accept: Iterable[str] | None = None) -> FetchResult:
        """A polite GET: paced, limited per host, retried with backoff; 429/503 Retry-After honoured."""
        accept = tuple(accept) if accept is not None else None
        if split_url(url).scheme == "file":  # local files: no host to be polite to
            return self.fetcher.fetch(url, allow_private, headers=headers, accept=accept)
        attempt = _Attempt(0)
        while True:
            try:
                result = self.fetcher.fetch(url, allow_private, headers=headers, accept=accept,
                                            pace=self._pacer(attempt))
            except HostBlocked:
                raise
            except FetchError as exc:
                if not exc.transient or attempt.number >= self.settings.max_retries or self._stop.is_set():
                    raise
                log.info("%s: %s; retrying in %.1fs", url, exc.reason, attempt.pause)
                attempt = _Attempt(attempt.number + 1)
                continue
            if result.status not in RETRY_STATUSES:
                return result
            gave_up = self._host(result.final_url).gave_up
            if gave_up and result.status in {429, 503}:
                raise HostBlocked(url, gave_up)
            if attempt.number >= self.settings.max_retries or self._stop.is_set():
                return result
            log.info("%s: HTTP %d; retrying in %.1fs", url, result.status, attempt.pause)
            attempt = _Attempt(attempt.number + 1)

    def _backoff(self, attempt: int) -> float:
        # full jitter: spreads retries out so that many workers do not hit the host in step
        return self._rng.uniform(0, self.settings.backoff * 2 ** attempt) + self.settings.backoff / 10
