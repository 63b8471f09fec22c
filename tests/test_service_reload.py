"""SIGHUP applies a new config at once: added [[track]] sources are tracked, and a site whose schedule
changed runs by its new schedule from now, while the other sites keep their next run."""

from __future__ import annotations

import shutil
import signal
import time
from datetime import datetime
from pathlib import Path

from tests.conftest import REPO
from tests.test_reliability import Service, fast_config, query


def test_reload_tracks_added_sources(tmp_path: Path) -> None:
    cfg = fast_config(tmp_path)
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "svc.log")
    svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text())
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 1
    source = tmp_path / "night-in-shelter.html"
    shutil.copy(REPO / "data/demo/scraper/port-elling-night-in-shelter.html", source)
    cfg.write_text(cfg.read_text() + f'\n[[track]]\nsource = "{source}"\n')
    svc.proc.send_signal(signal.SIGHUP)
    svc.wait_for(lambda: "config reloaded" in svc.text())
    svc.wait_for(lambda: query(db, "SELECT count(*) FROM articles")[0][0] == 2)
    assert svc.stop() == 0
    assert "tracking 2 articles (1 new)" in svc.text()


def next_run(db: Path, site: str) -> float:
    (when,) = query(db, f"SELECT next_run FROM site_state WHERE site = '{site}'")[0]
    return datetime.fromisoformat(when).timestamp()


def test_reload_reschedules_a_site_whose_schedule_changed(tmp_path: Path) -> None:
    other = (f'\n[[sites]]\nname = "other"\nstart_urls = ["{REPO / "data/demo/scraper/about.html"}"]\n'
             'max_depth = 0\ninterval = "1d"\n')
    cfg = fast_config(tmp_path, interval="1d", extra=other)
    db = tmp_path / "provmon.db"
    svc = Service(cfg, tmp_path / "svc.log")
    svc.wait_for(lambda: "site demo-scraper: 6 pages" in svc.text() and "site other: 1 page," in svc.text())
    svc.wait_for(lambda: len(query(db, "SELECT 1 FROM site_state WHERE next_run IS NOT NULL")) == 2)
    assert next_run(db, "demo-scraper") - time.time() > 80000  # tomorrow
    other_next = next_run(db, "other")
    # The demo site now every 3 s (the first `interval = "1d"` is the demo site's); "other" is unchanged.
    cfg.write_text(cfg.read_text().replace('interval = "1d"', 'interval = "3s"', 1))
    svc.proc.send_signal(signal.SIGHUP)
    svc.wait_for(lambda: "config reloaded" in svc.text())
    svc.wait_for(lambda: svc.text().count("site demo-scraper: 6 pages") >= 2)  # it runs again, today
    assert "site demo-scraper: schedule changed" in svc.text()
    svc.wait_for(lambda: next_run(db, "demo-scraper") - time.time() < 60)
    assert next_run(db, "other") == other_next
    assert svc.text().count("site other: 1 page,") == 1
    assert "site other: schedule changed" not in svc.text()
    assert svc.stop() == 0
