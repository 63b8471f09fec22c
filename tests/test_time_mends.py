"""Time handling, from the time audit: backoff at any attempt count and one failing channel never stopping the
others; the heartbeat by the monotonic clock; plans from a clock that was ahead, or by a changed schedule,
brought back; runs missed by a suspend run once; jitter that does not drift; DST days; Retry-After dates
without a zone; `provmon status` on runs from the future, running scans and cron periods.

The wall clock the scheduler and the service see is shifted by patching `datetime` in their modules (as an NTP
step or a suspend does); the monotonic clock is not. Nothing here waits for a schedule's real time."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import apscheduler.triggers.interval
import pytest

import monitor.cli
import monitor.fetch
import monitor.notify as notify
import monitor.scheduler as sch
from monitor.cli import health, service_state
from monitor.config import Channel, Config, Site, load_config
from monitor.politeness import retry_after_seconds
from monitor.store import Store
from tests.conftest import write_config

UTC = dt.UTC


# -- a wall clock that can be stepped ------------------------------------------------------------------
class WallClock:
    """Shifts datetime.now() in APScheduler's and provmon's modules; time.monotonic() is left alone."""

    MODULES = (apscheduler.schedulers.base, apscheduler.executors.base, apscheduler.triggers.interval,
               sch, monitor.fetch, monitor.cli)

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        clock = self

        class Shifted(dt.datetime):
            @classmethod
            def now(cls, tz: dt.tzinfo | None = None) -> Any:
                return dt.datetime.now(tz) + dt.timedelta(seconds=clock.offset)

        for module in self.MODULES:
            monkeypatch.setattr(module, "datetime", Shifted)

    def shift(self, seconds: float) -> None:
        self.offset += seconds

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC) + dt.timedelta(seconds=self.offset)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> WallClock:
    return WallClock(monkeypatch)


def wait_until(cond: Callable[[], bool], timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def site_config(tmp_path: Path, schedule: str, heartbeat: str = "30s") -> Config:
    (tmp_path / "p.html").write_text("<html><body><p>x</p></body></html>", encoding="utf-8")
    body = f'[[sites]]\nname = "s"\nstart_urls = ["{tmp_path}/p.html"]\n{schedule}\n'
    path = write_config(tmp_path / "config.toml", body)
    path.write_text(path.read_text().replace('log_level = "info"', f'log_level = "info"\nheartbeat = "{heartbeat}"'))
    return load_config(path)


@pytest.fixture
def services() -> Iterator[list[sch.Service]]:
    started: list[sch.Service] = []
    yield started
    for svc in started:
        svc.shutdown()


def service(cfg: Config, started: list[sch.Service], runs: list[str] | None = None) -> sch.Service:
    """A Service whose site scans only record that they ran (and the plan, as a real run does)."""
    svc = sch.Service(cfg)
    started.append(svc)

    def run_site(site: Site, recorded: Callable[[Store], None] | None = None) -> None:
        if runs is not None:
            runs.append(site.name)
        with svc.open_store() as store:
            if recorded is not None:
                recorded(store)

    svc.run_site = run_site  # type: ignore[method-assign]
    svc.open_store().close()
    return svc


def stored_next_run(cfg: Config) -> dt.datetime | None:
    """The site's plan on record; None while none is (the scheduler moves a job, then records it: a test polling
    for the record can look in between)."""
    with Store(cfg.database_path) as store:
        when = store.next_runs().get("s")
    return dt.datetime.fromisoformat(when) if when else None


# -- 1. notification backoff and delivery -----------------------------------------------------------------
def test_backoff_is_capped_at_any_number_of_attempts() -> None:
    ch = Channel(type="webhook", url="http://127.0.0.1:9/", retry_base="1m", retry_max="1m")
    assert [notify.backoff(ch, a) for a in (0, 1, 1024, 1025, 10**6)] == [60.0] * 5  # 1025: OverflowError
    default = Channel(type="webhook", url="http://127.0.0.1:9/")
    assert notify.backoff(default, 1) == 60.0 and notify.backoff(default, 3) == 240.0
    assert notify.backoff(default, 1025) == notify.backoff(default, 10**9) == 6 * 3600.0


def two_channel_outbox(tmp_path: Path, attempts: int = 0) -> Store:
    store = Store(tmp_path / "n.db")
    aid, _ = store.add_article("http://orig.example/a", "A", "some text " * 50, [1, 2, 3])
    match = {"kind": "verbatim", "coverage": 1.0, "page_share": 1.0, "longest_run": 5, "score": 1.0, "passages": []}
    store.record_alert(article=store.article(aid), site="x", page_url="http://copy.example/a", content_sha256="0" * 64,
                       match=match, channels=["down", "up"])
    if attempts:
        store.db.execute("UPDATE notifications SET status = 'failed', attempts = ? WHERE channel = 'down'",
                         [attempts])
    return store


DOWN = Channel(type="webhook", name="down", url="http://127.0.0.1:9/hook", retry_base="1m", retry_max="1m")
UP = Channel(type="webhook", name="up", url="http://127.0.0.1:9/hook")


def fake_webhook(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The "down" channel refuses every message; the "up" one takes it (no network)."""
    got: list[str] = []

    def send(channel: Channel, msg: notify.Outgoing, env: Any) -> None:
        if channel.label == "down":
            raise notify.NotifyError(f"{channel.label}: connection refused")
        got.append(channel.label)

    monkeypatch.setitem(notify.NOTIFIERS, "webhook", send)  # type: ignore[index]
    return got


def rows(store: Store) -> dict[str, dict[str, Any]]:
    return {r["channel"]: r for r in store.notifications()}


def test_a_channel_failing_for_the_1025th_time_does_not_stop_the_next_one(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    got = fake_webhook(monkeypatch)
    with two_channel_outbox(tmp_path, attempts=1024) as store:  # ~17 h of 1-minute retries
        assert notify.deliver_pending(store, (DOWN, UP)) == (1, 1)  # raised OverflowError
        assert got == ["up"]
        down = rows(store)["down"]
        assert (down["status"], down["attempts"], down["claimed_by"]) == ("failed", 1025, None)
        assert down["next_attempt_at"] is not None


def test_an_unexpected_error_in_one_channel_spares_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Recording the failure itself fails (a store error nobody expected): the channel's claim is given back
    and the pass goes on with the next channel, instead of raising out of the pass before it."""
    got = fake_webhook(monkeypatch)
    real = Store.mark_failed

    def mark_failed(self: Store, *args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "mark_failed", mark_failed)
    with two_channel_outbox(tmp_path) as store:
        sent, failed = notify.deliver_pending(store, (DOWN, UP))
        assert (sent, failed) == (1, 1) and got == ["up"]
        assert rows(store)["down"]["claimed_by"] is None  # given back, not held until the lease ends
        assert "delivery to down failed; going on with the other channels" in caplog.text
        monkeypatch.setattr(Store, "mark_failed", real)


def test_a_message_that_cannot_be_built_fails_its_row_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    got = fake_webhook(monkeypatch)

    def outgoing_for(alert: Any, event: str, key: str) -> notify.Outgoing:
        raise KeyError("article_title")

    monkeypatch.setattr(notify, "outgoing_for", outgoing_for)
    with two_channel_outbox(tmp_path) as store:
        assert notify.deliver_pending(store, (UP,)) == (0, 1)
        up = rows(store)["up"]
        assert (up["status"], up["claimed_by"]) == ("failed", None)
        assert "KeyError" in up["last_error"] and got == []


# -- 7. Retry-After -----------------------------------------------------------------------------------------
@pytest.fixture
def local_time_not_utc() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "America/New_York")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("local_time_not_utc")
@pytest.mark.parametrize("form", ["%a, %d %b %Y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y", "%a, %d %b %Y %H:%M:%S -0000"])
def test_retry_after_http_date_is_gmt_whatever_its_form(form: str) -> None:
    now = 1_800_000_000.0
    value = time.strftime(form, time.gmtime(now + 3600))
    assert retry_after_seconds(value, now) == 3600.0  # the asctime and -0000 forms were read as local time


# -- 3. active_hours ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("hours", ["07:00-07:00", "00:00-00:00", "23:59-23:59"])
def test_an_empty_active_hours_window_is_refused(tmp_path: Path, hours: str) -> None:
    """Accepted before, and then the site never ran and nothing said so."""
    from monitor.config import ConfigError

    path = write_config(tmp_path / "config.toml", f'[[sites]]\nname = "s"\nstart_urls = ["http://x.example/"]\n'
                                                  f'active_hours = "{hours}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"'sites[0].active_hours' = '{hours}' is an empty window" in str(err.value)
    assert str(path.resolve()) in str(err.value)
    path.write_text(path.read_text().replace(hours, "00:00-24:00"))
    assert load_config(path).sites[0].window is not None  # the whole day is written so


# -- 6. jitter ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("interval", "jitter"), [("1h", "30m"), ("1h", "1h"), ("10m", "1h")])
def test_jitter_delays_each_run_without_drifting_the_schedule(interval: str, jitter: str) -> None:
    """Driven as APScheduler's _process_jobs drives a trigger: next = get_next_fire_time(previous run time)."""
    random.seed(1)
    site = Site(name="s", start_urls=("http://x/",), interval=interval, jitter=jitter)
    trigger = sch.site_trigger(site)
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    t: dt.datetime | None = start  # the first run (as if the plan said so); the rest by the trigger
    runs = []
    while t is not None and t < start + dt.timedelta(days=30):
        runs.append(t)
        t = trigger.get_next_fire_time(t, t)
    per_day = 86400 / site.interval_seconds
    assert abs(len(runs) - 30 * per_day) <= site.jitter_seconds / site.interval_seconds + 1  # was 19 of 24 a day
    for k, run in enumerate(runs):  # each run within its slot's jitter: no drift
        slot = runs[0] + dt.timedelta(seconds=k * site.interval_seconds)
        assert dt.timedelta(0) <= run - slot + dt.timedelta(seconds=site.jitter_seconds) <= \
            dt.timedelta(seconds=2 * site.jitter_seconds)


def test_cron_jitter_keeps_the_cron_times() -> None:
    random.seed(2)
    trigger = sch.site_trigger(Site(name="s", start_urls=("http://x/",), cron="0 * * * *", jitter="50m"))
    t = trigger.get_next_fire_time(None, dt.datetime(2026, 1, 1, tzinfo=UTC))
    hours = []
    for _ in range(48):
        assert t is not None
        hours.append(t.replace(minute=0, second=0, microsecond=0))
        t = trigger.get_next_fire_time(t, t)
    assert hours == [dt.datetime(2026, 1, 1, h % 24, tzinfo=UTC) + dt.timedelta(days=h // 24) for h in range(48)]


# -- 10. DST -----------------------------------------------------------------------------------------------
def fire_times(cron: str, zone: str, start: dt.datetime, n: int) -> list[str]:
    trigger = sch.site_trigger(Site(name="s", start_urls=("http://x/",), cron=cron, timezone=zone))
    t = trigger.get_next_fire_time(None, start)
    out = []
    for _ in range(n):
        assert t is not None
        out.append(t.astimezone(UTC).strftime("%m-%d %H:%M"))
        t = trigger.get_next_fire_time(t, t)
    return out


def test_a_fixed_hour_cron_runs_once_on_the_fall_back_day() -> None:
    autumn = dt.datetime(2025, 10, 25, 12, tzinfo=UTC)  # Europe/London falls back on 26 October, 02:00 BST
    assert fire_times("30 1 * * *", "Europe/London", autumn, 3) == ["10-26 00:30", "10-27 01:30", "10-28 01:30"]
    assert fire_times("*/20 1 * * *", "Europe/London", autumn, 4) == [
        "10-26 00:00", "10-26 00:20", "10-26 00:40", "10-27 01:00"]
    # ...while an hourly one runs every hour, the repeated one too (as cron does)
    assert fire_times("0 * * * *", "Europe/London", dt.datetime(2025, 10, 25, 23, 30, tzinfo=UTC), 3) == [
        "10-26 00:00", "10-26 01:00", "10-26 02:00"]


def test_a_cron_time_skipped_by_spring_forward_fires_at_the_jump() -> None:
    spring = dt.datetime(2025, 3, 8, 12, tzinfo=UTC)  # America/New_York: 02:00 EST -> 03:00 EDT on 9 March
    assert fire_times("30 2 * * *", "America/New_York", spring, 3) == ["03-09 07:00", "03-10 06:30", "03-11 06:30"]


def test_a_window_starting_in_the_skipped_hour_opens_at_the_jump() -> None:
    site = Site(name="s", start_urls=("http://x/",), active_hours="01:30-03:00", timezone="Europe/London")
    opens = sch.window_start(site, dt.datetime(2026, 3, 29, 0, 10, tzinfo=UTC))  # 00:10 GMT; at 01:00 UTC, 02:00 BST
    assert opens is not None and opens.astimezone(UTC) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # was 01:30
    assert sch.window_start(site, opens.astimezone(UTC) + dt.timedelta(seconds=1)) is None
    normal = sch.window_start(site, dt.datetime(2026, 3, 30, 0, 10, tzinfo=UTC))
    assert normal == dt.datetime(2026, 3, 30, 1, 30, tzinfo=ZoneInfo("Europe/London"))


# -- 2, 4: plans from a clock that was ahead, or by a changed schedule ------------------------------------
@pytest.mark.parametrize(("hours", "now_utc", "want_utc"), [
    ("00:00-01:30", (0, 45), (1, 0)),  # 01:45 BST, past the window: at 01:00 GMT the wall clock is inside again
    ("01:30-01:50", (0, 55), (1, 30)),  # 01:55 BST: the window's start comes round again at 01:30 GMT
    ("22:00-01:15", (0, 30), (1, 0)),  # a window over midnight
    ("03:00-04:00", (0, 45), (3, 0)),  # the repeated hour is not in the window: the next opening, as on any day
])
def test_the_repeated_hour_of_a_fall_back_reopens_a_window_it_is_in(hours: str, now_utc: tuple[int, int],
                                                                       want_utc: tuple[int, int]) -> None:
    site = Site(name="s", start_urls=("http://x/",), active_hours=hours, timezone="Europe/London")
    now = dt.datetime(2026, 10, 25, *now_utc, tzinfo=UTC)  # 02:00 BST becomes 01:00 GMT at 01:00 UTC
    opens = sch.window_start(site, now)
    assert opens is not None and opens.astimezone(UTC) == dt.datetime(2026, 10, 25, *want_utc, tzinfo=UTC)
    assert sch.window_start(site, opens.astimezone(UTC) + dt.timedelta(seconds=1)) is None


def test_a_stored_plan_more_than_a_period_ahead_is_brought_back_at_start(tmp_path: Path,
                                                                         services: list[sch.Service]) -> None:
    cfg = site_config(tmp_path, 'interval = "1h"')
    now = dt.datetime.now(UTC)
    with Store(cfg.database_path) as store:  # planned while the clock was a day ahead
        store.set_next_run("s", (now + dt.timedelta(days=1)).isoformat(timespec="seconds"))
    svc = service(cfg, services)
    svc.schedule()
    job = svc.scheduler.get_job("s")
    assert now < job.next_run_time <= now + dt.timedelta(hours=1, seconds=5)  # was a day ahead
    assert stored_next_run(cfg) == job.next_run_time.replace(microsecond=0)


def test_a_plan_within_its_period_is_kept(tmp_path: Path, services: list[sch.Service]) -> None:
    cfg = site_config(tmp_path, 'interval = "1h"\nactive_hours = "03:00-04:00"')
    svc = service(cfg, services)
    now = dt.datetime.now(UTC)
    opens = sch.window_start(cfg.sites[0], now)
    planned = opens if opens is not None else now + dt.timedelta(minutes=50)  # waiting for its window, or not
    with Store(cfg.database_path) as store:
        store.set_next_run("s", planned.astimezone(UTC).isoformat(timespec="seconds"))
    svc.schedule()
    assert svc.scheduler.get_job("s").next_run_time == planned.replace(microsecond=0)


def test_a_schedule_changed_while_the_service_was_down_is_applied_from_now(tmp_path: Path,
                                                                           services: list[sch.Service]) -> None:
    """Hourly, due in 30 min; the config now says daily at 03:00. A SIGHUP would reschedule from now; a restart
    did not (the stored next run was kept), and a clamp alone would not either: 30 min is within a day."""
    cfg = site_config(tmp_path, 'interval = "1h"')
    service(cfg, services).schedule()  # the service ran with the hourly schedule: it is on record
    planned = dt.datetime.now(UTC) + dt.timedelta(minutes=30)
    with Store(cfg.database_path) as store:
        store.set_next_run("s", planned.isoformat(timespec="seconds"))
    cfg.path.write_text(cfg.path.read_text().replace('interval = "1h"', 'cron = "0 3 * * *"'))
    new = load_config(cfg.path)
    svc = service(new, services)
    svc.schedule()
    when = svc.scheduler.get_job("s").next_run_time
    assert (when.hour, when.minute) == (3, 0) and when > dt.datetime.now(UTC)
    assert stored_next_run(new) == when
    again = service(new, services)  # and once on record, a restart keeps it
    again.schedule()
    assert again.scheduler.get_job("s").next_run_time == when


def test_weekly_cron_changed_to_hourly_across_a_restart(tmp_path: Path, services: list[sch.Service]) -> None:
    """The audit's case, on a database without the schedule on record: the plan six days ahead is brought
    back to one hour from now."""
    cfg = site_config(tmp_path, 'interval = "1h"')
    now = dt.datetime.now(UTC)
    with Store(cfg.database_path) as store:
        store.set_next_run("s", (now + dt.timedelta(days=6)).isoformat(timespec="seconds"))
    svc = service(cfg, services)
    svc.schedule()
    assert svc.scheduler.get_job("s").next_run_time <= now + dt.timedelta(hours=1, seconds=5)


def beat_pings(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pings: list[float] = []
    monkeypatch.setattr(sch, "sd_notify", lambda msg: pings.append(time.monotonic()) if msg == "WATCHDOG=1" else None)
    return pings


def test_a_backward_clock_step_delays_neither_heartbeat_nor_watchdog(tmp_path: Path, wall: WallClock,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     services: list[sch.Service]) -> None:
    """The heartbeat was an interval job of the wall-clock scheduler: a step back of N s delayed it N s
    (systemd's WatchdogSec=180 killed the service after a step of ~150 s). A step back of an hour here."""
    pings = beat_pings(monkeypatch)
    cfg = site_config(tmp_path, 'interval = "1d"', heartbeat="0.05s")
    svc = service(cfg, services)
    svc.schedule()
    svc.scheduler.start()
    svc.start_heartbeat()
    assert wait_until(lambda: len(pings) >= 2)
    wall.shift(-3600)
    stepped = time.monotonic()
    assert wait_until(lambda: sum(p > stepped for p in pings) >= 5), "no watchdog ping after the step back"
    with Store(cfg.database_path) as store:  # and the heartbeat on record is the corrected time
        assert wait_until(lambda: abs((dt.datetime.fromisoformat(store.last_beat()[0]) - wall.now()).total_seconds())
                          < 5)


def test_a_backward_step_brings_plans_back_within_a_period(tmp_path: Path, wall: WallClock,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           services: list[sch.Service]) -> None:
    """The clock was a day ahead while the site ran (so it planned its next run a day ahead), then NTP corrected
    it: the site ran next a day later. Noticed by the heartbeat (the wall clock moved back against the monotonic
    one), the plan is brought back to one period from now, in the scheduler and on record."""
    pings = beat_pings(monkeypatch)
    cfg = site_config(tmp_path, 'interval = "1h"', heartbeat="0.05s")
    svc = service(cfg, services)
    svc.schedule()
    ahead = wall.now() + dt.timedelta(days=1, minutes=30)  # as planned by a run while the clock was ahead
    svc.scheduler.modify_job("s", next_run_time=ahead)
    svc.scheduler.modify_job(sch.PRUNE_JOB, next_run_time=ahead)
    svc.scheduler.start()
    svc.start_heartbeat()
    # The heartbeat reads the clocks before its first beat: the step must come after that reading (a fixed sleep
    # was not always long enough on a loaded machine).
    assert wait_until(lambda: pings)
    wall.shift(-60)  # the heartbeat compares clocks between beats: a step of more than CLOCK_STEP
    assert wait_until(lambda: svc.scheduler.get_job("s").next_run_time < ahead - dt.timedelta(hours=20))
    when = svc.scheduler.get_job("s").next_run_time
    assert wall.now() < when <= wall.now() + dt.timedelta(hours=1)
    assert wait_until(lambda: stored_next_run(cfg) == when.replace(microsecond=0))
    assert svc.scheduler.get_job(sch.PRUNE_JOB).next_run_time <= wall.now() + dt.timedelta(days=1)  # daily


def test_a_heartbeat_stops_when_the_scheduler_thread_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             services: list[sch.Service],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    pings = beat_pings(monkeypatch)
    svc = service(site_config(tmp_path, 'interval = "1d"'), services)
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    monkeypatch.setattr(svc.scheduler, "_thread", dead, raising=False)
    svc._heartbeat()
    assert pings == [] and "the scheduler's thread has ended" in caplog.text


# -- 5. suspend and resume ---------------------------------------------------------------------------------
def test_a_run_missed_by_hours_runs_once_on_resume_and_the_plan_follows(tmp_path: Path,
                                                                        services: list[sch.Service]) -> None:
    """Daily at 06:00; the machine slept from 05:00 to 09:00. The run missed by three hours used to be dropped
    (misfire grace one hour), the stored plan left at 06:00 (status: overdue all day) until the next day."""
    runs: list[str] = []
    cfg = site_config(tmp_path, 'cron = "0 6 * * *"')
    svc = service(cfg, services, runs)
    svc.schedule()
    svc.scheduler.modify_job("s", next_run_time=dt.datetime.now(UTC) - dt.timedelta(hours=3))
    svc.scheduler.start()
    assert wait_until(lambda: runs == ["s"]), "the missed run was dropped"
    time.sleep(0.2)
    assert runs == ["s"]  # once, not once per missed slot
    when = svc.scheduler.get_job("s").next_run_time
    assert (when.hour, when.minute) == (6, 0) and when > dt.datetime.now(UTC)
    assert wait_until(lambda: stored_next_run(cfg) == when)


def test_after_a_resume_due_jobs_run_at_once(tmp_path: Path, wall: WallClock, monkeypatch: pytest.MonkeyPatch,
                                             services: list[sch.Service]) -> None:
    """The scheduler sleeps by the monotonic clock, which stands still in a suspend: after resuming past a job's
    time it slept on for as long as the suspend lasted. The heartbeat notices the jump and wakes it."""
    beat_pings(monkeypatch)
    runs: list[str] = []
    cfg = site_config(tmp_path, 'interval = "1h"', heartbeat="0.05s")
    svc = service(cfg, services, runs)
    svc.schedule()
    svc.scheduler.modify_job("s", next_run_time=wall.now() + dt.timedelta(hours=1))
    svc.scheduler.start()
    svc.start_heartbeat()
    time.sleep(0.2)
    assert runs == []
    wall.shift(70 * 60)  # suspended for 70 minutes: the job is 10 minutes late
    assert wait_until(lambda: runs == ["s"], timeout=10), "the scheduler slept on after the resume"


# -- status ------------------------------------------------------------------------------------------------
def status_config(tmp_path: Path, schedule: str = 'interval = "1h"') -> Config:
    return site_config(tmp_path, schedule)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def test_status_calls_a_heartbeat_from_the_future_a_problem(tmp_path: Path) -> None:
    cfg = status_config(tmp_path)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    with Store(cfg.database_path) as store:
        store.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)",
                         [f"{iso(now + dt.timedelta(days=1))} 4242"])
        problems, _ = health(cfg, store, now)
        assert any("last heartbeat 86400s in the future" in p and "clock moved back?" in p for p in problems)
        assert service_state(store, problems) == "stalled"  # it was "ok"
        problems, _ = health(cfg, store, now + dt.timedelta(days=1, seconds=30))  # a fresh one: healthy
        assert problems == []


def test_status_calls_a_run_from_the_future_a_problem(tmp_path: Path) -> None:
    cfg = status_config(tmp_path)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    with Store(cfg.database_path) as store:
        store.beat(1)
        store.db.execute("INSERT INTO site_state (site, next_run, last_start, last_end) VALUES ('s', ?, ?, ?)",
                         [iso(now + dt.timedelta(minutes=5)), iso(now + dt.timedelta(hours=2)),
                          iso(now + dt.timedelta(hours=2, minutes=1))])
        problems, _ = health(cfg, store, now)
        assert [p for p in problems if "in the future" in p] == [
            f"site s: its last run started at {iso(now + dt.timedelta(hours=2))}, 7200s in the future: "
            f"the clock moved back?",
            f"site s: its last run ended at {iso(now + dt.timedelta(hours=2, minutes=1))}, 7260s in the future: "
            f"the clock moved back?"]


def test_status_does_not_call_a_running_scan_overdue(tmp_path: Path) -> None:
    cfg = status_config(tmp_path)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    with Store(cfg.database_path) as store:
        store.db.execute("INSERT INTO site_state (site, next_run, last_start, last_end) VALUES ('s', ?, ?, ?)",
                         [iso(now - dt.timedelta(hours=2, minutes=30)), iso(now - dt.timedelta(hours=2, minutes=30)),
                          iso(now - dt.timedelta(hours=3, minutes=30))])
        store.beat(1)
        assert health(cfg, store, now)[0] == []  # "site s is overdue by 9000s", 2.5 h into a slow scan
        problems, _ = health(cfg, store, now + dt.timedelta(hours=4))  # 6.5 h: implausibly long
        assert problems[-1].startswith("site s: scan running for 23400s (since ")
        # finished: the plan is what counts again
        store.db.execute("UPDATE site_state SET last_end = ?", [iso(now - dt.timedelta(hours=2, minutes=29))])
        assert health(cfg, store, now)[0] == ["site s is overdue by 9000s"]


def test_status_overdue_by_the_crons_own_period(tmp_path: Path) -> None:
    """A cron every 10 minutes that also carries an (ignored) interval of a day: 20 h without a scan is overdue."""
    cfg = status_config(tmp_path, 'interval = "1d"\ncron = "*/10 * * * *"')
    now = dt.datetime.now(UTC).replace(microsecond=0)
    with Store(cfg.database_path) as store:
        store.beat(1)
        store.set_next_run("s", iso(now - dt.timedelta(hours=20)))
        assert health(cfg, store, now)[0] == ["site s is overdue by 72000s"]
        store.set_next_run("s", iso(now - dt.timedelta(minutes=50)))
        assert health(cfg, store, now)[0] == []  # within max(1 h, two periods)


def test_the_recheck_is_timed_by_the_last_full_pass_not_by_each_start(tmp_path: Path,
                                                                       services: list[sch.Service]) -> None:
    """A service restarted more often than min(600 s, recheck_interval) never rechecked: each start planned the pass
    that long ahead again (an end-to-end review's kill loop). It is planned from the last full pass now."""
    cfg = site_config(tmp_path, 'interval = "1h"')
    never = service(cfg, services)
    never.schedule()
    now = dt.datetime.now(UTC)
    first = never.scheduler.get_job(sch.RECHECK_JOB).next_run_time
    assert now + dt.timedelta(seconds=590) <= first <= now + dt.timedelta(seconds=605)  # none on record: as before

    with Store(cfg.database_path) as store:  # a pass two days ago (recheck_interval 1d): due
        store.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_recheck', ?)",
                         [(now - dt.timedelta(days=2)).isoformat(timespec="seconds")])
    due = service(cfg, services)
    due.schedule()
    when = due.scheduler.get_job(sch.RECHECK_JOB).next_run_time
    assert now + dt.timedelta(seconds=10) <= when <= now + dt.timedelta(seconds=sch.RECHECK_AFTER_START + 5)
    due.schedule()  # a reload keeps the plan
    assert due.scheduler.get_job(sch.RECHECK_JOB).next_run_time == when

    with Store(cfg.database_path) as store:  # a pass a minute ago: the next one a day after it, at most 10 min ahead
        store.rechecked()
        assert store.last_recheck() is not None
    recent = service(cfg, services)
    recent.schedule()
    later = recent.scheduler.get_job(sch.RECHECK_JOB).next_run_time
    assert later >= dt.datetime.now(UTC) + dt.timedelta(seconds=590)
