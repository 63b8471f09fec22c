"""The long-running service: one APScheduler job per site, on its own interval or cron schedule.

- The plan survives restarts: after each run the site's next due time is written to the store, and at
  start a site that fell due while the service was down runs once (staggered), not once per missed slot.
- Jobs coalesce, never overlap (max_instances=1) and run late rather than not at all (misfire grace).
- A heartbeat job writes to the store and pings the systemd watchdog: if the scheduler hangs, both stop.
  It has an executor (thread) of its own, and the other housekeeping jobs (tracking, recheck, delivery,
  retention) share another: site jobs filling theirs cannot starve them.
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
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Config, ConfigError, Site, load_config, parse_interval
from monitor.fetch import Fetcher, tls_context
from monitor.notify import deliver_pending
from monitor.scan import (
    SiteReport,
    make_fetcher,
    make_verifier,
    recheck_alerts,
    scan_site,
    track_configured,
    track_publishers,
)
from monitor.sdnotify import sd_notify
from monitor.store import Store, StoreError

log = logging.getLogger(__name__)

HEARTBEAT_JOB = "_heartbeat"
PRUNE_JOB = "_prune"
TRACK_JOB = "_track"
TRACK_NOW_JOB = "_track_now"  # once, after a reload
RECHECK_JOB = "_recheck"
DELIVER_JOB = "_deliver"
STAGGER = timedelta(seconds=2)
HEARTBEAT_EXECUTOR = "heartbeat"
HOUSEKEEPING = "housekeeping"  # tracking, recheck, delivery, retention: one thread each, never a site's


class DatabaseGone(StoreError):
    """The database file was removed or replaced while the service ran (already logged)."""


def site_trigger(site: Site) -> BaseTrigger:
    zone = ZoneInfo(site.timezone)
    jitter = int(site.jitter_seconds) or None
    if site.cron:
        trigger = CronTrigger.from_crontab(site.cron, timezone=zone)
        trigger.jitter = jitter
        return trigger
    return IntervalTrigger(seconds=site.interval_seconds, timezone=zone, jitter=jitter)


def window_start(site: Site, now: datetime) -> datetime | None:
    """None when `now` is inside the site's active hours, else when the next window opens."""
    window = site.window
    if window is None:
        return None
    start, end = window
    local = now.astimezone(ZoneInfo(site.timezone))
    t = local.time()
    inside = start <= t <= end if start <= end else (t >= start or t <= end)  # a window may span midnight
    if inside:
        return None
    opens = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if opens <= local:
        opens += timedelta(days=1)
    return opens


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def when_key(site: Site) -> tuple[object, ...]:
    """What decides when a site runs: a reload that changes it reschedules the site from now."""
    return site.cron, site.interval_seconds, site.timezone, site.jitter_seconds, site.active_hours


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
        self._deliver_lock = threading.Lock()
        self._deliver_wanted = threading.Event()  # rows were queued: a delivery pass should (again) run
        self._track_lock = threading.Lock()
        self._track_wanted = threading.Event()  # a reload asked for the [[track]] sources to be tracked
        self._stop = threading.Event()
        self._db_identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the database at start
        self._fatal: str | None = None  # why the service must stop (the main loop acts on it)
        self._fatal_lock = threading.Lock()
        self._tls = tls_context()  # one for every fetcher of the service: each would load the CA bundle again
        self._executors = {"default": ThreadPoolExecutor(cfg.monitor.max_concurrent_sites),
                           HEARTBEAT_EXECUTOR: ThreadPoolExecutor(1),
                           HOUSEKEEPING: ThreadPoolExecutor(5)}  # _track, _track_now, _recheck, _deliver, _prune
        self.scheduler = BackgroundScheduler(
            executors=dict(self._executors),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=UTC,
        )

    # -- the work ----------------------------------------------------------------------------------
    def open_store(self) -> Store:
        """The service's database. Once the service has started (run_forever), only the file it opened then:
        if it was removed or replaced, DatabaseGone (and the service stops) rather than a new empty one."""
        self._check_database()  # before connecting: connecting to a missing file would create it
        store = Store(self.cfg.database_path)
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
                log.info("tracking %d articles (%d new)", store.article_count(), n)
        return errors

    def _track_job(self) -> list[str]:
        if self._stop.is_set():
            return []
        try:
            return self.track()
        except DatabaseGone as exc:
            return [str(exc)]
        except Exception as exc:
            log.exception("tracking the publishers' feeds failed")
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

    def run_site(self, site: Site, recorded: Callable[[Store], None] | None = None) -> SiteReport:
        """Scan a site, record the run, call `recorded` (with the store), then deliver. The run is on record
        before delivery: a slow channel or a kill during delivery does not lose it."""
        with self.open_store() as store, make_fetcher(self.cfg, self._tls) as fetcher:
            try:
                return self._scan(store, fetcher, site)
            finally:
                if recorded is not None:
                    recorded(store)
                self.deliver(store)

    def _scan(self, store: Store, fetcher: Fetcher, site: Site) -> SiteReport:
        store.run_started(site.name)
        try:
            report = scan_site(store, fetcher, self.cfg, site, stop=self._stop, verifier=self.verifier)
        except Exception as exc:
            store.run_finished(site.name, ok=False, error=f"{type(exc).__name__}: {exc}", pages=0, new_alerts=0)
            raise
        if not report.abandoned:
            ok = report.pages > 0 or not report.errors
            store.run_finished(site.name, ok=ok, error=None if ok else report.errors[0], pages=report.pages,
                               new_alerts=len(report.new_alerts))
        return report

    def run_once(self) -> tuple[list[str], list[SiteReport]]:
        """Track, scan every site once and notify: the [[track]] errors and a report per site."""
        track_errors = self._track_job()
        reports = []
        for site in self.cfg.sites:  # one site's failure is that site's error, not the end of the pass
            try:
                reports.append(self.run_site(site))
            except Exception as exc:
                log.exception("site %s: scan failed", site.name)
                reports.append(SiteReport(site.name, errors=[f"scan failed: {type(exc).__name__}: {exc}"]))
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
        try:
            with self.open_store() as store:
                store.beat(os.getpid())
        except DatabaseGone:
            return  # no watchdog ping either: the service is stopping with an error
        sd_notify("WATCHDOG=1")

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
            log.info("recheck: %d copies checked, %d gone, %d back, %d inconclusive", rep.checked,
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
        log.info("retention: removed %d page records and %d matches older than %d days, and %d replaced article "
                 "versions nothing refers to any more", removed["pages"], removed["matches"],
                 self.cfg.monitor.retention_days, removed["replaced_articles"])

    def schedule(self, retrigger: frozenset[str] = frozenset()) -> None:
        """(Re)build the jobs from self.cfg. A site keeps the next run time of its job (on a reload), else its
        stored one (at start); a site in `retrigger` (its schedule changed) runs next by its new trigger from
        now."""
        now = datetime.now(UTC)
        names = {s.name for s in self.cfg.sites}
        jobs = {job.id: job for job in self.scheduler.get_jobs()}
        for job in jobs.values():
            if not job.id.startswith("_") and job.id not in names:
                job.remove()
                log.info("site %s: removed from the schedule", job.id)
        with self.open_store() as store:
            stored = store.next_runs()
            due_slot = 0
            for site in self.cfg.sites:
                trigger = site_trigger(site)
                job = jobs.get(site.name)
                if site.name in retrigger:
                    when = trigger.get_next_fire_time(None, now)
                    log.info("site %s: schedule changed, next run at %s", site.name,
                             when.isoformat() if when else "never")
                    self._record_next_run(site.name, when, store)
                elif job is not None and job.next_run_time is not None:
                    when = job.next_run_time
                else:
                    when = parse_time(stored[site.name]) if site.name in stored else now
                    if when <= now:  # due (or never run): run soon, one after another rather than all at once
                        when = now + due_slot * STAGGER
                        due_slot += 1
                self.scheduler.add_job(self._site_job, trigger, args=[site.name], id=site.name,
                                       name=f"scan {site.name}", next_run_time=when, replace_existing=True)
        if self.cfg.publishers:  # new own articles are tracked as often as the most frequent site is scanned
            every = min((s.interval_seconds for s in self.cfg.sites), default=3600.0)
            self.scheduler.add_job(self._track_job, IntervalTrigger(seconds=every), id=TRACK_JOB,
                                   executor=HOUSEKEEPING, next_run_time=now + timedelta(seconds=every),
                                   replace_existing=True)
        elif self.scheduler.get_job(TRACK_JOB):
            self.scheduler.remove_job(TRACK_JOB)
        beat = parse_interval(self.cfg.monitor.heartbeat)
        self.scheduler.add_job(self._heartbeat, IntervalTrigger(seconds=beat), id=HEARTBEAT_JOB,
                               executor=HEARTBEAT_EXECUTOR, next_run_time=now, replace_existing=True)
        recheck = parse_interval(self.cfg.alerts.recheck_interval)
        self.scheduler.add_job(self._recheck, IntervalTrigger(seconds=recheck), id=RECHECK_JOB,
                               executor=HOUSEKEEPING, next_run_time=now + timedelta(seconds=min(600.0, recheck)),
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
        log.info("config reloaded from %s: %d sites", path, len(new.sites))
        self.track_soon()  # [[track]] entries added to the config are tracked now, not at the next start
        return True

    def shutdown(self) -> None:
        """Stop the jobs and return once every one of them has ended."""
        self._stop.set()  # first: running jobs stop fetching, retrying and delivering...
        # ...no job starts any more, and those running end with their jobs still in the store (a job about to
        # reschedule itself finds itself)...
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.pause()
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
            self.open_store().close()
            self._db_identity = file_identity(self.cfg.database_path)
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
                log.info("provmon running: %d sites, database %s", len(self.cfg.sites), self.cfg.database_path)
                sd_notify("READY=1")
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
