"""The long-running service: one APScheduler job per site, each at its own interval.

Jobs run in a small thread pool, each with its own SQLite connection. Notification delivery is
serialised by one lock so that two jobs never send the same outbox row at once. SIGTERM and
SIGINT stop the scheduler; jobs already running finish their current page loop and exit.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import Config, Site
from monitor.notify import deliver_pending
from monitor.scan import SiteReport, make_fetcher, scan_site, track_configured
from monitor.store import Store

log = logging.getLogger(__name__)


class Service:
    def __init__(self, cfg: Config, max_workers: int = 4) -> None:
        self.cfg = cfg
        self._deliver_lock = threading.Lock()
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )

    def track(self) -> None:
        with Store(self.cfg.database_path) as store, make_fetcher(self.cfg) as fetcher:
            n = track_configured(store, fetcher, self.cfg)
            log.info("tracking %d articles (%d new from config)", store.article_count(), n)

    def deliver(self, store: Store) -> None:
        if not self.cfg.notify:
            return
        with self._deliver_lock:
            sent, failed = deliver_pending(store, self.cfg.notify)
        if sent or failed:
            log.info("notifications: %d sent, %d failed", sent, failed)

    def run_site(self, site: Site) -> SiteReport:
        with Store(self.cfg.database_path) as store, make_fetcher(self.cfg) as fetcher:
            try:
                return scan_site(store, fetcher, self.cfg, site)
            finally:
                self.deliver(store)

    def _job(self, site: Site) -> None:
        try:
            self.run_site(site)
        except Exception:  # a job must never take the scheduler down with it
            log.exception("site %s: scan failed", site.name)

    def run_once(self) -> list[SiteReport]:
        self.track()
        return [self.run_site(site) for site in self.cfg.sites]

    def run_forever(self) -> None:
        self.track()
        now = datetime.now().astimezone()
        for i, site in enumerate(self.cfg.sites):
            self.scheduler.add_job(
                self._job, IntervalTrigger(seconds=site.interval_seconds), args=[site], id=site.name,
                name=f"scan {site.name}", next_run_time=now + timedelta(seconds=i),
            )

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, stopping", signal.Signals(signum).name)
            self.scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("provmon running: %d sites, database %s", len(self.cfg.sites), self.cfg.database_path)
        self.scheduler.start()
        log.info("provmon stopped")
