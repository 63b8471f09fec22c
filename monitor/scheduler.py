"""The long-running service: one APScheduler job per site, on its own interval or cron schedule.

- The plan survives restarts: after each run the site's next due time is written to the store, and at
  start a site that fell due while the service was down runs once (staggered), not once per missed slot.
- Jobs coalesce, never overlap (max_instances=1) and run late rather than not at all (misfire grace).
- A heartbeat job writes to the store and pings the systemd watchdog: if the scheduler hangs, both stop.
- SIGTERM/SIGINT: no new runs start; running site scans stop after the page in hand, without marking
  the run done, so its site is due again at the next start. SIGHUP reloads config.toml; an invalid new
  config is refused with a log line and the old one keeps running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
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
from monitor.fetch import tls_context
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
from monitor.store import Store

log = logging.getLogger(__name__)

HEARTBEAT_JOB = "_heartbeat"
PRUNE_JOB = "_prune"
TRACK_JOB = "_track"
RECHECK_JOB = "_recheck"
DELIVER_JOB = "_deliver"
STAGGER = timedelta(seconds=2)


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


class Service:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.verifier = make_verifier(cfg)  # [semantic]: one model for all site jobs, loaded on first use
        self._deliver_lock = threading.Lock()
        self._stop = threading.Event()
        self._tls = tls_context()  # one for every fetcher of the service: each would load the CA bundle again
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(cfg.monitor.max_concurrent_sites)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=UTC,
        )

    # -- the work ----------------------------------------------------------------------------------
    def open_store(self) -> Store:
        return Store(self.cfg.database_path)

    def track(self) -> list[str]:
        """[[track]] sources and new entries of the [[publishers]] feeds; before the first scan, then as a job.
        Returns the [[track]] sources that could not be read (logged as well)."""
        with self.open_store() as store, make_fetcher(self.cfg, self._tls) as fetcher:
            n, errors = track_configured(store, fetcher, self.cfg)
            n += track_publishers(store, fetcher, self.cfg)
            log.info("tracking %d articles (%d new)", store.article_count(), n)
        return errors

    def _track_job(self) -> list[str]:
        try:
            return self.track()
        except Exception as exc:
            log.exception("tracking the publishers' feeds failed")
            return [f"tracking failed: {type(exc).__name__}: {exc}"]

    def deliver(self, store: Store) -> None:
        if not self.cfg.notify:
            return
        with self._deliver_lock:
            sent, failed = deliver_pending(store, self.cfg.notify)
        if sent or failed:
            log.info("notifications: %d sent, %d failed", sent, failed)

    def run_site(self, site: Site) -> SiteReport:
        with self.open_store() as store, make_fetcher(self.cfg, self._tls) as fetcher:
            store.run_started(site.name)
            try:
                report = scan_site(store, fetcher, self.cfg, site, stop=self._stop, verifier=self.verifier)
            except Exception as exc:
                store.run_finished(site.name, ok=False, error=f"{type(exc).__name__}: {exc}", pages=0,
                                   new_alerts=0)
                raise
            finally:
                self.deliver(store)
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
        opens = window_start(site, datetime.now(UTC))
        if opens is not None:
            log.info("site %s: outside active hours %s, next run at %s", name, site.active_hours, opens.isoformat())
            self.scheduler.modify_job(name, next_run_time=opens)
            self._record_next_run(name, opens)
            return
        try:
            self.run_site(site)
        except Exception:  # a job must never take the scheduler down with it
            log.exception("site %s: scan failed", name)
        if not self._stop.is_set():
            job = self.scheduler.get_job(name)
            self._record_next_run(name, job.next_run_time if job else None)

    def _record_next_run(self, name: str, when: datetime | None) -> None:
        with self.open_store() as store:
            store.set_next_run(name, when.astimezone(UTC).isoformat(timespec="seconds") if when else None)

    def _heartbeat(self) -> None:
        with self.open_store() as store:
            store.beat(os.getpid())
        sd_notify("WATCHDOG=1")

    def _deliver_job(self) -> None:
        """Retries after backoff and digests fall due between site scans."""
        with self.open_store() as store:
            self.deliver(store)

    def _recheck(self) -> None:
        with self.open_store() as store, make_fetcher(self.cfg, self._tls) as fetcher:
            rep = recheck_alerts(store, fetcher, self.cfg, stop=self._stop, verifier=self.verifier)
            log.info("recheck: %d copies checked, %d gone, %d back, %d inconclusive", rep.checked,
                     len(rep.removed), len(rep.reopened), len(rep.inconclusive))
            self.deliver(store)

    def _prune(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(days=self.cfg.monitor.retention_days)
        with self.open_store() as store:
            removed = store.prune(cutoff.isoformat(timespec="seconds"), self.cfg.monitor.retention_max_pages)
        log.info("retention: removed %d page records and %d matches older than %d days, and %d replaced article "
                 "versions nothing refers to any more", removed["pages"], removed["matches"],
                 self.cfg.monitor.retention_days, removed["replaced_articles"])

    def schedule(self) -> None:
        """(Re)build the jobs from self.cfg, resuming each site's stored next due time."""
        with self.open_store() as store:
            stored = store.next_runs()
        now = datetime.now(UTC)
        names = {s.name for s in self.cfg.sites}
        for job in self.scheduler.get_jobs():
            if not job.id.startswith("_") and job.id not in names:
                job.remove()
                log.info("site %s: removed from the schedule", job.id)
        due_slot = 0
        for site in self.cfg.sites:
            when = parse_time(stored[site.name]) if site.name in stored else now
            if when <= now:  # due (or never run): run soon, one after another rather than all at once
                when = now + due_slot * STAGGER
                due_slot += 1
            self.scheduler.add_job(self._site_job, site_trigger(site), args=[site.name], id=site.name,
                                   name=f"scan {site.name}", next_run_time=when, replace_existing=True)
        if self.cfg.publishers:  # new own articles are tracked as often as the most frequent site is scanned
            every = min((s.interval_seconds for s in self.cfg.sites), default=3600.0)
            self.scheduler.add_job(self._track_job, IntervalTrigger(seconds=every), id=TRACK_JOB,
                                   next_run_time=now + timedelta(seconds=every), replace_existing=True)
        elif self.scheduler.get_job(TRACK_JOB):
            self.scheduler.remove_job(TRACK_JOB)
        beat = parse_interval(self.cfg.monitor.heartbeat)
        self.scheduler.add_job(self._heartbeat, IntervalTrigger(seconds=beat), id=HEARTBEAT_JOB,
                               next_run_time=now, replace_existing=True)
        recheck = parse_interval(self.cfg.alerts.recheck_interval)
        self.scheduler.add_job(self._recheck, IntervalTrigger(seconds=recheck), id=RECHECK_JOB,
                               next_run_time=now + timedelta(seconds=min(600.0, recheck)), replace_existing=True)
        if self.cfg.notify:
            every = parse_interval(self.cfg.alerts.delivery_interval)
            self.scheduler.add_job(self._deliver_job, IntervalTrigger(seconds=every), id=DELIVER_JOB,
                                   next_run_time=now + timedelta(seconds=every), replace_existing=True)
        self.scheduler.add_job(self._prune, IntervalTrigger(days=1), id=PRUNE_JOB,
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
        self.cfg = new
        self.schedule()
        log.info("config reloaded from %s: %d sites", path, len(new.sites))
        return True

    def run_forever(self) -> None:
        # The handlers only note the signal; this thread acts on it. Acting inside a handler interrupts
        # whatever the main thread holds (a thread pool's lock, say), and stopping the scheduler from there
        # can deadlock. A handler (not a blocked mask) also covers native threads that libraries start.
        received: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda signum, _frame: received.append(signum))
        try:
            # A failure is logged, not fatal: the sites are still scanned against what is tracked (with
            # [[publishers]] the track job tries again on its interval).
            self._track_job()
            self.schedule()
            self.scheduler.start()
            log.info("provmon running: %d sites, database %s", len(self.cfg.sites), self.cfg.database_path)
            sd_notify("READY=1")
            while True:
                while not received:
                    time.sleep(0.2)
                signum = received.pop(0)
                if signum == signal.SIGHUP:
                    log.info("received SIGHUP, reloading %s", self.cfg.path)
                    self.reload(self.cfg.path)
                    continue
                log.info("received %s, stopping", signal.Signals(signum).name)
                break
        finally:
            sd_notify("STOPPING=1")
            self._stop.set()
            with contextlib.suppress(SchedulerNotRunningError):
                self.scheduler.shutdown(wait=False)
        # The handlers stay: a second SIGTERM while running jobs finish changes nothing (systemd escalates
        # to SIGKILL after TimeoutStopSec).
        log.info("provmon stopped")
