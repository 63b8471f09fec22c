"""The long-running service: one APScheduler job per site, on its own interval or cron schedule.

- The plan survives restarts: after each run the site's next due time is written to the store, and at
  start a site that fell due while the service was down runs once (staggered), not once per missed slot.
- Jobs coalesce, never overlap (max_instances=1), and a run missed by any margin (a suspend and resume, a busy
  pool) runs once, late, rather than not at all (no misfire grace): the stored plan then moves on with it.
- A site's jitter is a random delay drawn for each run that never shifts the schedule: the next run is
  computed from the previous scheduled time (SiteTrigger). A cron with fixed hours does not fire twice in the
  hour a fall-back repeats.
- A heartbeat thread writes to the store and pings the systemd watchdog every monitor.heartbeat by the
  monotonic clock, so a wall-clock step neither delays nor hurries it; it stops if the scheduler's thread
  ends or hangs holding its job store. It also notices wall-clock steps (the wall clock moving by more than
  the monotonic one): after a step back, a plan further ahead than one period is brought back to one period
  from now. And it wakes the scheduler at every beat: the scheduler sleeps by the monotonic clock, which
  stands still in a suspend, so after a resume what fell due runs within a beat.
- At start a stored next run further ahead than one period (planned while the clock was ahead, or by a
  schedule since changed) is brought back the same way, and a site whose schedule changed in the config
  while the service was down is rescheduled from now (the schedule each plan was made by is kept in meta).
- Housekeeping jobs (tracking, recheck, delivery, retention) share an executor of their own: site jobs
  filling theirs cannot starve them.
- A site's run is recorded before its new alerts are delivered. Only one delivery pass runs at a time; a
  job that finds one running leaves its rows to it (the pass goes round again until nothing new was
  queued meanwhile) instead of waiting.
- The database file is the one the service opened at start: removed or replaced while running, the
  service logs an error and exits non-zero (systemd restarts it) instead of creating an empty one.
- SIGTERM/SIGINT: no new runs start; running site scans stop after the page in hand, without marking
  the run done, so its site is due again at the next start. No fetch is retried or paced any longer, and
  delivery stops before its next message. "provmon stopped" is logged once every job has ended.
- SIGHUP reloads config.toml; an invalid new config is refused with a log line and the old one keeps
  running. A good one is applied at once: its [[track]] sources are tracked (a job, soon after), and a site
  whose schedule changed is rescheduled from now by its new one; the other sites keep their next run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.alerts import unwatched_site_notes
from monitor.config import Config, ConfigError, Site, load_config, parse_interval
from monitor.display import plural
from monitor.fetch import Fetcher, tls_context
from monitor.notify import deliver_pending, stranded_notes
from monitor.scan import (
    PREPARED_CHARS,
    PreparedCache,
    SiteReport,
    make_fetcher,
    make_verifier,
    recheck_alerts,
    rule_key,
    scan_site,
    track_configured,
    track_publishers,
)
from monitor.sdnotify import sd_notify, watchdog_seconds
from monitor.store import Store, StoreError

log = logging.getLogger(__name__)

PRUNE_JOB = "_prune"
TRACK_JOB = "_track"
TRACK_NOW_JOB = "_track_now"  # once, after a reload
RECHECK_JOB = "_recheck"
# A recheck that is due when the service starts runs this long after it (the sites' scans start first).
RECHECK_AFTER_START = 15.0
DELIVER_JOB = "_deliver"
STAGGER = timedelta(seconds=2)
CLOCK_STEP = 5.0  # seconds the wall clock may move apart from the monotonic one between beats, unremarked
HOUSEKEEPING = "housekeeping"  # tracking, recheck, delivery, retention: one thread each, never a site's


class DatabaseGone(StoreError):
    """The database file was removed or replaced while the service ran (already logged)."""


def _repeated_wall_time(when: datetime) -> bool:
    """`when` is the second occurrence of a wall time that a fall-back repeats (01:30 GMT after 01:30 BST)."""
    return when.fold == 1 and when.replace(fold=0).utcoffset() != when.utcoffset()


class SiteTrigger(BaseTrigger):
    """A site's schedule: its interval or cron, and its jitter as a random delay drawn for each run.

    APScheduler computes a job's next run from its previous run time, and with the triggers' own jitter that
    time is the jittered one, so the delays add up: `interval = "1h"` with `jitter = "30m"` ran about 19 times
    a day instead of 24. Here the next run is computed from the previous *scheduled* time (the one the jitter
    was drawn for), so the schedule keeps its rate and phase whatever the jitter.
    A cron with fixed hours (not `*` in the hour field) does not fire again at the second occurrence of a wall
    time a fall-back repeats: `30 1 * * *` runs once on that day, as cron does. A cron time that a
    spring-forward skips fires at the jump (`30 1 * * *` in Europe/London at 02:00 BST that day), not as much
    later as the jump (APScheduler's 02:30 BST).
    """

    def __init__(self, base: IntervalTrigger | CronTrigger, jitter: float, skip_repeated: bool = False) -> None:
        self.base = base
        self.jitter = jitter
        self.skip_repeated = skip_repeated
        self._drawn: dict[float, datetime] = {}  # a jittered run time (epoch) -> the scheduled time it was drawn for
        self._lock = threading.Lock()  # the scheduler's thread and a reload or clamp may ask at once

    def scheduled(self, previous: datetime | None, now: datetime) -> datetime | None:
        """The next scheduled (un-jittered) time after `previous` (a scheduled time), or from `now`."""
        when = self.base.get_next_fire_time(previous, now)
        for _ in range(1000):  # at most an hour's worth of a cron's times are skipped; the bound is a safety net
            if when is None or not (self.skip_repeated and _repeated_wall_time(when)):
                break
            when = self.base.get_next_fire_time(when, when)
        if when is not None and isinstance(self.base, CronTrigger):
            when = _first_instant_at(when)
        return when

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        previous = None
        if previous_fire_time is not None:
            with self._lock:
                previous = self._drawn.get(previous_fire_time.timestamp(), previous_fire_time)
        when = self.scheduled(previous, now)
        if when is None or not self.jitter:
            return when
        fired = when + timedelta(seconds=random.uniform(0, self.jitter))
        with self._lock:
            self._drawn[fired.timestamp()] = when
            while len(self._drawn) > 64:  # the scheduler asks about the last few only
                del self._drawn[next(iter(self._drawn))]
        return fired

    def __str__(self) -> str:
        return f"{self.base}" + (f", jitter {self.jitter:g}s" if self.jitter else "")

    def __repr__(self) -> str:
        return f"<SiteTrigger ({self})>"


def site_trigger(site: Site) -> SiteTrigger:
    zone = ZoneInfo(site.timezone)
    if site.cron:
        cron = CronTrigger.from_crontab(site.cron, timezone=zone)
        hour = next(f for f in cron.fields if f.name == "hour")
        return SiteTrigger(cron, site.jitter_seconds, skip_repeated=str(hour) != "*")
    return SiteTrigger(IntervalTrigger(seconds=site.interval_seconds, timezone=zone), site.jitter_seconds)


def site_period(site: Site, at: datetime) -> float:
    """Seconds between a site's two scheduled runs after `at`: its interval, or for a cron the gap between its
    next two times (a cron's `interval` key is ignored by the schedule, and so here)."""
    if not site.cron:
        return site.interval_seconds
    trigger = site_trigger(site)
    first = trigger.scheduled(None, at)
    second = trigger.scheduled(first, first) if first is not None else None
    if first is None or second is None:
        return site.interval_seconds
    return (second - first).total_seconds()


def latest_next_run(site: Site, trigger: SiteTrigger, now: datetime) -> datetime:
    """The furthest a site's next run can rightly be from `now`: one period (its interval, or its cron's next
    time) plus its jitter, or the next opening of its active hours if that is later. A plan further ahead was
    made while the wall clock was ahead, or by a schedule that has changed since."""
    if site.cron:
        nearest = trigger.scheduled(None, now) or now
    else:
        nearest = now + timedelta(seconds=site.interval_seconds)
    latest = nearest + timedelta(seconds=site.jitter_seconds)
    opens = window_start(site, now)
    return max(latest, opens) if opens is not None else latest


def window_start(site: Site, now: datetime) -> datetime | None:
    """None when `now` is inside the site's active hours, else when the next window opens."""
    window = site.window
    if window is None:
        return None
    start, end = window
    local = now.astimezone(ZoneInfo(site.timezone))
    t = local.time()
    if _inside(t, start, end):
        return None
    opens = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if opens <= local:
        opens += timedelta(days=1)
    opens = _first_instant_at(opens)
    again = _repeated_opening(now, opens, start, end)
    return again if again is not None else opens


def _inside(t: clock, start: clock, end: clock) -> bool:
    return start <= t <= end if start <= end else (t >= start or t <= end)  # a window may span midnight


def _repeated_opening(now: datetime, opens: datetime, start: clock, end: clock) -> datetime | None:
    """Before `opens`, a fall-back that sets the wall clock back into the window (01:45 BST is past a window of
    00:00-01:30, and 15 minutes later it is 01:00 GMT): the first instant the wall clock is inside it again."""
    tz = opens.tzinfo
    t, stop = now.astimezone(UTC), opens.astimezone(UTC)
    while t < stop:  # offsets are looked at hourly: no zone changes its offset twice in an hour
        step = min(t + timedelta(hours=1), stop)
        if step.astimezone(tz).utcoffset() < t.astimezone(tz).utcoffset():  # type: ignore[operator]
            lo, hi = t, step
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset() else (lo, mid)
            turn = lo.replace(microsecond=0) + timedelta(seconds=1)  # time zones change at whole seconds
            back = turn.astimezone(tz)  # the wall clock just set back (01:00 GMT)
            before = (turn - timedelta(seconds=1)).astimezone(tz)  # and where it was (01:59:59 BST)
            if _inside(back.time(), start, end):
                return back
            wall = back.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
            if back.time() < start <= before.time() and wall.date() == back.date():
                # The start, the second time round: counted in UTC, as wall-clock arithmetic would drop the fold.
                later = wall.replace(tzinfo=None) - back.replace(tzinfo=None)
                return (turn + later).astimezone(tz)
        t = step
    return None


def _first_instant_at(wall: datetime) -> datetime:
    """The first instant whose wall time is `wall` or later: `wall` itself, unless a spring-forward skips it.
    Then it is the jump (02:00 BST for 01:30 in Europe/London), where zoneinfo would read the missing wall
    time with the offset before the jump, as much later as the jump (02:30 BST)."""
    before = wall.replace(fold=0).astimezone(UTC)  # a skipped wall time read with the offset before the jump
    after = wall.replace(fold=1).astimezone(UTC)  # ...and with the one after it: an earlier instant
    if after >= before:
        return wall  # a wall time that exists (once, or twice in a fall-back)
    naive = wall.replace(tzinfo=None, fold=0)
    lo, hi = after, before  # the wall time is before `naive` at lo and at or past it at hi: the jump is between
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(wall.tzinfo).replace(tzinfo=None, fold=0) >= naive:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0).astimezone(wall.tzinfo)  # time zones jump at whole seconds


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def when_key(site: Site) -> tuple[object, ...]:
    """What decides when a site runs: a reload that changes it reschedules the site from now."""
    return site.cron, site.interval_seconds, site.timezone, site.jitter_seconds, site.active_hours


def schedule_text(site: Site) -> str:
    """The schedule (when_key, as JSON) a site's stored next run is planned by (Store.schedules)."""
    return json.dumps(when_key(site))


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class Service:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.verifier = make_verifier(cfg)  # [semantic]: one model for all site jobs, loaded on first use
        self.prepared = PreparedCache(PREPARED_CHARS)  # tracked articles cut into sentences, for all site jobs
        self._deliver_lock = threading.Lock()
        self._deliver_wanted = threading.Event()  # rows were queued: a delivery pass should (again) run
        self._track_lock = threading.Lock()
        self._track_wanted = threading.Event()  # a reload asked for the [[track]] sources to be tracked
        self._stop = threading.Event()
        self._db_identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the database at start
        self._serving = False  # run_forever: the service, which migrates the database even under a heartbeat
        self._fatal: str | None = None  # why the service must stop (the main loop acts on it)
        self._fatal_lock = threading.Lock()
        self._tls = tls_context()  # one for every fetcher of the service: each would load the CA bundle again
        self._executors = {"default": ThreadPoolExecutor(cfg.monitor.max_concurrent_sites),
                           HOUSEKEEPING: ThreadPoolExecutor(5)}  # _track, _track_now, _recheck, _deliver, _prune
        # misfire_grace_time None: a run missed by however much (a suspend, a pool busy for hours) runs once,
        # late (coalesce), instead of being dropped while its stored next run stays in the past.
        self.scheduler = BackgroundScheduler(
            executors=dict(self._executors),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._beat_thread: threading.Thread | None = None
        self._scheduler_dead = False  # logged once

    # -- the work ----------------------------------------------------------------------------------
    def open_store(self) -> Store:
        """The service's database. Once the service has started (run_forever), only the file it opened then:
        if it was removed or replaced, DatabaseGone (and the service stops) rather than a new empty one."""
        self._check_database()  # before connecting: connecting to a missing file would create it
        store = Store(self.cfg.database_path, service=self._serving)
        try:
            self._check_database()  # removed between the check and the connect
        except DatabaseGone:
            store.close()
            raise
        return store

    def _check_database(self) -> None:
        if self._db_identity is None:
            return
        path = self.cfg.database_path
        now = file_identity(path)
        if now == self._db_identity:
            return
        what = "was removed" if now is None else "was replaced by another file"
        self._fail(f"database {path} {what} while the service was running; stopping without creating a new "
                   f"one (started again, the service opens what is at {path} then)")
        raise DatabaseGone(f"{path}: {what} while the service was running")

    def _fail(self, reason: str) -> None:
        """Stop the service with an error exit: jobs stop as at SIGTERM, the main loop exits non-zero."""
        with self._fatal_lock:
            if self._fatal is not None:
                return
            self._fatal = reason
        log.error("%s", reason)
        self._stop.set()

    def track(self) -> list[str]:
        """[[track]] sources and new entries of the [[publishers]] feeds; before the first scan, then as a job.
        Returns the [[track]] sources that could not be read (logged as well)."""
        with self._track_lock:  # the periodic job and the one after a reload take turns
            cfg = self.cfg
            with self.open_store() as store, make_fetcher(cfg, self._tls) as fetcher:
                n, errors = track_configured(store, fetcher, cfg, stop=self._stop)
                n += track_publishers(store, fetcher, cfg, stop=self._stop)
                log.info("tracking %s (%d new)", plural(store.article_count(), "article"), n)
        return errors

    def _track_job(self) -> list[str]:
        if self._stop.is_set():
            return []
        try:
            return self.track()
        except DatabaseGone as exc:
            return [str(exc)]
        except sqlite3.OperationalError as exc:
            # Busy for longer than the store's 30 s busy timeout: another process holds a write transaction (a
            # sqlite3 shell left in BEGIN IMMEDIATE, say). Nothing is lost: the next pass tracks them.
            why = (f"{self.cfg.database_path}: {exc}: another process has held a write transaction on it for more "
                   f"than 30 s" if "locked" in str(exc) or "busy" in str(exc) else f"{self.cfg.database_path}: {exc}")
            log.error("tracking the [[track]] sources and [[publishers]] feeds failed: %s", why)
            return [f"tracking failed: {why}"]
        except Exception as exc:
            log.exception("tracking the [[track]] sources and [[publishers]] feeds failed")
            return [f"tracking failed: {type(exc).__name__}: {exc}"]

    def _track_now_job(self) -> None:
        """After a reload: the new config's [[track]] sources, once (again if another reload came meanwhile)."""
        while self._track_wanted.is_set() and not self._stop.is_set():
            self._track_wanted.clear()
            self._track_job()

    def track_soon(self) -> None:
        self._track_wanted.set()
        # A date job with no date runs at once, in the housekeeping executor (not in the signal's thread).
        # Were the previous one still running, this one is skipped, and that one goes round again.
        self.scheduler.add_job(self._track_now_job, id=TRACK_NOW_JOB, executor=HOUSEKEEPING, replace_existing=True)

    def deliver(self, store: Store) -> None:
        """Deliver what is due, unless another job is delivering: then it is left to that job, whose pass goes
        round again (the flag below) and so sends what was queued while it ran. Never waits for a delivery."""
        if not self.cfg.notify:
            return
        self._deliver_wanted.set()  # before trying the lock: whoever holds it looks at the flag after release
        while self._deliver_wanted.is_set() and not self._stop.is_set():
            if not self._deliver_lock.acquire(blocking=False):
                return
            try:
                self._deliver_wanted.clear()
                sent, failed = deliver_pending(store, self.cfg.notify, stop=self._stop)
            finally:
                self._deliver_lock.release()
            if sent or failed:
                log.info("notifications: %d sent, %d failed", sent, failed)

    def run_site(self, site: Site, recorded: Callable[[Store], None] | None = None, deliver: bool = True) -> SiteReport:
        """Scan a site, record the run, call `recorded` (with the store), then deliver (unless not `deliver`). The
        run is on record before delivery: a slow channel or a kill during delivery does not lose it."""
        with self.open_store() as store, make_fetcher(self.cfg, self._tls) as fetcher:
            try:
                return self._scan(store, fetcher, site)
            finally:
                if recorded is not None:
                    recorded(store)
                if deliver:
                    self.deliver(store)

    def _scan(self, store: Store, fetcher: Fetcher, site: Site) -> SiteReport:
        store.run_started(site.name)
        try:
            report = scan_site(store, fetcher, self.cfg, site, stop=self._stop, verifier=self.verifier,
                               prepared=self.prepared)
        except Exception as exc:
            store.run_finished(site.name, ok=False, error=f"{type(exc).__name__}: {exc}", pages=0, new_alerts=0)
            raise
        if not report.abandoned:
            ok = report.pages > 0 or not report.errors
            store.run_finished(site.name, ok=ok, error=None if ok else report.errors[0], pages=report.pages,
                               new_alerts=len(report.new_alerts))
        return report

    def run_once(self) -> tuple[list[str], list[SiteReport]]:
        """Track, scan every site once, notify, then prune (retention): the [[track]] errors and a report per site.
        Rechecks of flagged copies are `provmon recheck`'s (a cron line of its own). Delivery waits
        for the last site, so a digest channel sends one message for the whole pass (delivering after each site,
        the first site's digest went out and the other sites' alerts waited a whole period)."""
        self.note_rule()
        track_errors = self._track_job()
        reports = []
        for site in self.cfg.sites:  # one site's failure is that site's error, not the end of the pass
            try:
                reports.append(self.run_site(site, deliver=False))
            except Exception as exc:
                log.exception("site %s: scan failed", site.name)
                reports.append(SiteReport(site.name, errors=[f"scan failed: {type(exc).__name__}: {exc}"]))
        with self.open_store() as store:
            self.deliver(store)
        self._prune()  # a pass from cron is all the service there is: retention is its job too
        return track_errors, reports

    # -- scheduled jobs ------------------------------------------------------------------------------
    def _site(self, name: str) -> Site | None:
        return next((s for s in self.cfg.sites if s.name == name), None)

    def _site_job(self, name: str) -> None:
        site = self._site(name)
        if site is None or self._stop.is_set():
            return
        try:
            opens = window_start(site, datetime.now(UTC))
            if opens is not None:
                log.info("site %s: outside active hours %s, next run at %s", name, site.active_hours,
                         opens.isoformat())
                self.scheduler.modify_job(name, next_run_time=opens)
                self._record_next_run(name, opens)
                return

            def recorded(store: Store) -> None:
                if not self._stop.is_set():
                    job = self.scheduler.get_job(name)
                    self._record_next_run(name, job.next_run_time if job else None, store)

            self.run_site(site, recorded)
        except DatabaseGone:
            return  # logged once, and the service is stopping
        except Exception:  # a job must never take the scheduler down with it
            log.exception("site %s: scan failed", name)

    def _record_next_run(self, name: str, when: datetime | None, store: Store | None = None) -> None:
        if store is None:
            with self.open_store() as own:
                self._record_next_run(name, when, own)
            return
        store.set_next_run(name, when.astimezone(UTC).isoformat(timespec="seconds") if when else None)

    def _heartbeat(self) -> None:
        if not self._scheduler_alive():
            return  # no heartbeat, no watchdog ping: systemd restarts the service (WatchdogSec)
        try:
            with self.open_store() as store:
                store.beat(os.getpid())
        except DatabaseGone:
            return  # no watchdog ping either: the service is stopping with an error
        sd_notify("WATCHDOG=1")

    def _scheduler_alive(self) -> bool:
        """The scheduler's thread runs, and its job store answers: get_jobs() waits while the scheduler holds
        the store's lock, so a scheduler hung there stops the heartbeat with it."""
        thread = getattr(self.scheduler, "_thread", None)  # BackgroundScheduler's; None once it is shut down
        if thread is not None and not thread.is_alive():
            if not self._scheduler_dead:
                self._scheduler_dead = True
                log.error("the scheduler's thread has ended: no more heartbeats (systemd's watchdog restarts "
                          "the service)")
            return False
        self.scheduler.get_jobs()
        return True

    @staticmethod
    def _clocks() -> tuple[float, float]:
        """(wall clock, monotonic clock) in seconds."""
        return datetime.now(UTC).timestamp(), time.monotonic()

    def _heartbeat_loop(self) -> None:
        """The heartbeat, every monitor.heartbeat by the monotonic clock (Event.wait): a wall-clock step, which
        delays every job of the wall-clock scheduler by as much, neither delays nor hurries it. Between beats it
        compares how far the two clocks moved, to notice a wall-clock step or a suspend, and wakes the
        scheduler."""
        wall, mono = self._clocks()
        watchdog = watchdog_seconds(os.environ)
        warned = False
        while not self._stop.is_set():
            try:
                self._heartbeat()
            except Exception:  # the thread must go on: a missed beat is what status and the watchdog are for
                log.exception("heartbeat failed")
            period = parse_interval(self.cfg.monitor.heartbeat)
            if watchdog is not None and period > watchdog / 2:
                # A ping later than WatchdogSec gets the service killed and restarted, over and over; systemd's
                # advice is to ping at half the period.
                if not warned:
                    log.warning("monitor.heartbeat (%s) is longer than half systemd's watchdog period (WatchdogSec="
                                "%gs): the heartbeat runs every %gs", self.cfg.monitor.heartbeat, watchdog,
                                watchdog / 2)
                    warned = True
                period = watchdog / 2
            if self._stop.wait(period):
                return
            now_wall, now_mono = self._clocks()
            step = (now_wall - wall) - (now_mono - mono)
            wall, mono = now_wall, now_mono
            if abs(step) > CLOCK_STEP:
                try:
                    self._clock_stepped(step)
                except DatabaseGone:
                    return
                except Exception:
                    log.exception("could not adjust the schedule to the wall clock's step")
            # The scheduler sleeps until its next job by the monotonic clock, which stands still during a
            # suspend: woken at every beat, it runs what fell due by the wall clock at the latest a beat late.
            self.scheduler.wakeup()

    def start_heartbeat(self) -> None:
        self._beat_thread = threading.Thread(target=self._heartbeat_loop, name="provmon-heartbeat", daemon=True)
        self._beat_thread.start()

    def _clock_stepped(self, seconds: float) -> None:
        """The wall clock moved `seconds` more (or, negative, less) than the monotonic clock since the last beat:
        a clock step (NTP, a bad RTC corrected), or a suspend and resume (forward)."""
        log.warning("the wall clock moved %s by %.0fs (a clock step, or a suspend and resume)",
                    "forward" if seconds > 0 else "back", abs(seconds))
        if seconds < 0:
            self.clamp_jobs(datetime.now(UTC))

    def clamp_jobs(self, now: datetime) -> None:
        """Bring back every job planned further ahead than one period from `now` (the wall clock was ahead
        when it was planned) to its next time from now; a site's new plan is stored."""
        for job in self.scheduler.get_jobs():
            when = job.next_run_time
            if when is None:
                continue
            site = self._site(job.id) if not job.id.startswith("_") else None
            if site is not None and isinstance(job.trigger, SiteTrigger):
                if when <= latest_next_run(site, job.trigger, now):
                    continue
                new = job.trigger.get_next_fire_time(now, now)  # one period from now
                log.warning("site %s: next run %s is more than one period ahead (planned while the wall clock was "
                            "ahead), moved to %s", site.name, when.isoformat(), new.isoformat() if new else "never")
                with contextlib.suppress(JobLookupError):
                    self.scheduler.modify_job(job.id, next_run_time=new)
                    self._record_next_run(site.name, new)
            elif isinstance(job.trigger, IntervalTrigger) and when > now + job.trigger.interval:
                with contextlib.suppress(JobLookupError):
                    self.scheduler.modify_job(job.id, next_run_time=now + job.trigger.interval)

    def _deliver_job(self) -> None:
        """Retries after backoff and digests fall due between site scans."""
        if self._stop.is_set():
            return
        with contextlib.suppress(DatabaseGone), self.open_store() as store:
            self.deliver(store)

    def _recheck(self) -> None:
        if self._stop.is_set():
            return
        with contextlib.suppress(DatabaseGone), self.open_store() as store, \
                make_fetcher(self.cfg, self._tls) as fetcher:
            rep = recheck_alerts(store, fetcher, self.cfg, stop=self._stop, verifier=self.verifier)
            log.info("recheck: %s checked, %d gone, %d back, %d inconclusive", plural(rep.checked, "copy", "copies"),
                     len(rep.removed), len(rep.reopened), len(rep.inconclusive))
            self.deliver(store)

    def _prune(self) -> None:
        if self._stop.is_set():
            return
        cutoff = datetime.now(UTC) - timedelta(days=self.cfg.monitor.retention_days)
        try:
            with self.open_store() as store:
                removed = store.prune(cutoff.isoformat(timespec="seconds"), self.cfg.monitor.retention_max_pages)
        except DatabaseGone:
            return
        log.log(logging.INFO if any(removed.values()) else logging.DEBUG,  # quiet when a pass from cron prunes nothing
                "retention: removed %s and %s older than %s, and %s nothing refers to any more",
                plural(removed["pages"], "page record"), plural(removed["matches"], "match", "matches"),
                plural(self.cfg.monitor.retention_days, "day"),
                plural(removed["replaced_articles"], "replaced article version"))

    def schedule(self, retrigger: frozenset[str] = frozenset()) -> None:
        """(Re)build the jobs from self.cfg. A site keeps the next run time of its job (on a reload), else its
        stored one (at start); a site in `retrigger` (its schedule changed), or whose schedule changed while the
        service was down, runs next by its new trigger from now. A next run further ahead than one period (the
        wall clock was ahead when it was planned) is brought back to one period from now."""
        now = datetime.now(UTC)
        names = {s.name for s in self.cfg.sites}
        jobs = {job.id: job for job in self.scheduler.get_jobs()}
        for job in jobs.values():
            if not job.id.startswith("_") and job.id not in names:
                job.remove()
                log.info("site %s: removed from the schedule", job.id)
        with self.open_store() as store:
            stored = store.next_runs()
            planned_by = store.schedules()
            last_recheck = store.last_recheck()
            due_slot = 0
            for site in self.cfg.sites:
                job = jobs.get(site.name)
                # A reload keeps an unchanged site's trigger: it knows the scheduled time behind the jittered one.
                keep = job is not None and site.name not in retrigger and isinstance(job.trigger, SiteTrigger)
                trigger = job.trigger if keep else site_trigger(site)
                if site.name in retrigger:
                    when = self._retrigger(site, trigger, now, store, "schedule changed")
                elif job is not None and job.next_run_time is not None:
                    when = self._clamped(site, trigger, job.next_run_time, now, store)
                else:
                    when = parse_time(stored[site.name]) if site.name in stored else now
                    if when <= now:  # due (or never run): run soon, one after another rather than all at once
                        when = now + due_slot * STAGGER
                        due_slot += 1
                    elif planned_by.get(site.name, schedule_text(site)) != schedule_text(site):
                        when = self._retrigger(site, trigger, now, store,
                                               "schedule changed while the service was not running")
                    else:
                        when = self._clamped(site, trigger, when, now, store)
                self.scheduler.add_job(self._site_job, trigger, args=[site.name], id=site.name,
                                       name=f"scan {site.name}", next_run_time=when, replace_existing=True)
            store.save_schedules({s.name: schedule_text(s) for s in self.cfg.sites})
        if self.cfg.publishers:  # new own articles are tracked as often as the most frequent site is scanned
            every = min((s.interval_seconds for s in self.cfg.sites), default=3600.0)
            self.scheduler.add_job(self._track_job, IntervalTrigger(seconds=every), id=TRACK_JOB,
                                   executor=HOUSEKEEPING, next_run_time=now + timedelta(seconds=every),
                                   replace_existing=True)
        elif self.scheduler.get_job(TRACK_JOB):
            self.scheduler.remove_job(TRACK_JOB)
        recheck = parse_interval(self.cfg.alerts.recheck_interval)
        self.scheduler.add_job(self._recheck, IntervalTrigger(seconds=recheck), id=RECHECK_JOB,
                               executor=HOUSEKEEPING, next_run_time=self._first_recheck(last_recheck, now, recheck),
                               replace_existing=True)
        if self.cfg.notify:
            every = parse_interval(self.cfg.alerts.delivery_interval)
            self.scheduler.add_job(self._deliver_job, IntervalTrigger(seconds=every), id=DELIVER_JOB,
                                   executor=HOUSEKEEPING, next_run_time=now + timedelta(seconds=every),
                                   replace_existing=True)
        elif self.scheduler.get_job(DELIVER_JOB):
            self.scheduler.remove_job(DELIVER_JOB)
        self.scheduler.add_job(self._prune, IntervalTrigger(days=1), id=PRUNE_JOB, executor=HOUSEKEEPING,
                               next_run_time=now + timedelta(minutes=5), replace_existing=True)

    def _first_recheck(self, last: datetime | None, now: datetime, every: float) -> datetime:
        """When the recheck runs next: a reload keeps its job's time (for the same interval); at a start, one interval
        after the last full pass (`last`, Store.last_recheck), at least RECHECK_AFTER_START from now so the scans start
        first, at most min(600 s, interval) from now. A service restarted more often than that (a crash loop, a
        supervisor's retries) still rechecks: the plan no longer begins again at each start."""
        job = self.scheduler.get_job(RECHECK_JOB)
        if (job is not None and job.next_run_time is not None and isinstance(job.trigger, IntervalTrigger)
                and job.trigger.interval.total_seconds() == every):
            return job.next_run_time
        latest = now + timedelta(seconds=min(600.0, every))
        if last is None:
            return latest
        due = last + timedelta(seconds=every)
        return max(now + timedelta(seconds=min(RECHECK_AFTER_START, every)), min(latest, due))

    def _retrigger(self, site: Site, trigger: SiteTrigger, now: datetime, store: Store, why: str) -> datetime | None:
        when = trigger.get_next_fire_time(None, now)
        log.info("site %s: %s, next run at %s", site.name, why, when.isoformat() if when else "never")
        self._record_next_run(site.name, when, store)
        return when

    def _clamped(self, site: Site, trigger: SiteTrigger, when: datetime, now: datetime,
                 store: Store) -> datetime | None:
        """`when`, or the site's next time from now if `when` is further ahead than one period."""
        if when <= latest_next_run(site, trigger, now):
            return when
        return self._retrigger(site, trigger, now, store, f"next run {when.isoformat()} is more than one period "
                                                           f"ahead (planned while the clock was ahead?)")

    def reload(self, path: Path) -> bool:
        try:
            new = load_config(path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running config: %s", exc)
            return False
        if new.database_path != self.cfg.database_path:
            log.error("reload refused: monitor.database cannot change while running (restart instead)")
            return False
        if new.semantic != self.cfg.semantic or new.match != self.cfg.match:
            self.verifier = make_verifier(new)
        before = {s.name: when_key(s) for s in self.cfg.sites}
        self.cfg = new
        self.schedule(frozenset(s.name for s in new.sites if s.name in before and before[s.name] != when_key(s)))
        log.info("config reloaded from %s: %s", path, plural(len(new.sites), "site"))
        self.note_rule()
        self.warn_unwatched()
        self.track_soon()  # [[track]] entries added to the config are tracked now, not at the next start
        return True

    def note_rule(self) -> None:
        """A copy rule ([match], [semantic]) or detection code other than the last scan's: every page already seen
        is matched again at its next fetch, so a loosened rule finds the copies a stricter one let pass."""
        try:
            with self.open_store() as store:
                marked = store.rule_changed(rule_key(self.cfg))
        except DatabaseGone:
            return
        if marked:
            log.info("the copy rule or the detection changed since the last scan: %s already seen will be matched "
                     "again at their next fetch", plural(marked, "page"))

    def warn_unwatched(self) -> None:
        """Log what the store keeps under names the config no longer has: sites' ignore rules and open alerts, and
        channels' unsent notifications (never sent under a label no channel has)."""
        try:
            with self.open_store() as store:
                notes = [*unwatched_site_notes(store, [s.name for s in self.cfg.sites], str(self.cfg.path)).values(),
                         *stranded_notes(store, self.cfg.notify, str(self.cfg.path))]
        except DatabaseGone:
            return
        for note in notes:
            log.warning("%s", note)

    def shutdown(self) -> None:
        """Stop the jobs and return once every one of them has ended."""
        self._stop.set()  # first: running jobs stop fetching, retrying and delivering...
        # ...no job starts any more, and those running end with their jobs still in the store (a job about to
        # reschedule itself finds itself)...
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.pause()
        if self._beat_thread is not None:
            self._beat_thread.join(timeout=60)  # its last beat before a clean stop is recorded, not after
        for executor in self._executors.values():
            executor.shutdown(wait=True)
        # ...and only then the scheduler, which removes them. Not shutdown(wait=True) first: APScheduler waits
        # holding its job-store lock, and a job between its stop check and a scheduler call (modify_job,
        # get_job) would wait for that lock forever.
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=False)

    def run_forever(self) -> None:
        # The handlers only note the signal; this thread acts on it. Acting inside a handler interrupts
        # whatever the main thread holds (a thread pool's lock, say), and stopping the scheduler from there
        # can deadlock. A handler (not a blocked mask) also covers native threads that libraries start.
        received: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda signum, _frame: received.append(signum))
        try:
            # The database is created (if new) now, and only now: from here on the service works on this
            # very file, and stops if it is removed or replaced (open_store).
            self._serving = True
            self.open_store().close()
            self._db_identity = file_identity(self.cfg.database_path)
            self.note_rule()
            # A failure is logged, not fatal: the sites are still scanned against what is tracked (with
            # [[publishers]] the track job tries again on its interval). It runs in a thread of its own so that
            # this one keeps answering signals: a SIGTERM here stops its fetching and retrying as in a job.
            starter = threading.Thread(target=self._track_job, name="provmon-track-at-start")
            starter.start()
            while starter.is_alive():
                starter.join(0.2)
                if not self._stop.is_set() and any(s != signal.SIGHUP for s in received):
                    self._stop.set()
            stopping = next((s for s in received if s != signal.SIGHUP), None)
            if stopping is not None:
                log.info("received %s while tracking at start, stopping", signal.Signals(stopping).name)
            else:
                self.schedule()
                self.scheduler.start()
                log.info("provmon running: %s, database %s", plural(len(self.cfg.sites), "site"),
                         self.cfg.database_path)
                self.warn_unwatched()
                sd_notify("READY=1")
                self.start_heartbeat()
            while self._fatal is None and stopping is None:
                while not received and self._fatal is None:
                    time.sleep(0.2)
                if self._fatal is not None:
                    break
                signum = received.pop(0)
                if signum == signal.SIGHUP:
                    log.info("received SIGHUP, reloading %s", self.cfg.path)
                    self.reload(self.cfg.path)
                    continue
                log.info("received %s, stopping", signal.Signals(signum).name)
                break
        finally:
            sd_notify("STOPPING=1")
            self.shutdown()
        # The handlers stay: a second SIGTERM while running jobs finish changes nothing (systemd escalates
        # to SIGKILL after TimeoutStopSec).
        # Shutdown is complete here: no job runs any more. Reached only without an exception; self._fatal tells an
        # error stop from a clean one.
        if self._fatal is not None:
            log.error("provmon stopped with an error: %s", self._fatal)
            raise DatabaseGone(self._fatal)  # provmon exits non-zero (cli: "error: ..."), systemd restarts it
        # After the last heartbeat (a later one would clear it): `provmon status` says "stopped", not STALLED.
        try:
            with self.open_store() as store:
                store.record_stop(os.getpid())
        except Exception:  # the stop itself is done; status will say STALLED instead of stopped
            log.warning("could not record the clean stop in the database", exc_info=True)
        log.info("provmon stopped")
