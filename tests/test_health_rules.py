"""What the service says about its own state: a [[publishers]] feed that cannot be read, sites that keep failing
(`provmon status`, text, JSON and exit status, and `run --once`), and the exit status of a command whose output
reader went away."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from monitor.store import Store
from tests.conftest import DEMO, REPO, demo_config, provmon, write_config
from tests.test_ops_status import refused_port

ORIGINAL = DEMO / "publisher" / "sea-wall-gives-way.html"


def no_retries(cfg: Path) -> Path:
    """The shipped config (demo_config) without retries: a dead host fails at once."""
    text = cfg.read_text(encoding="utf-8")
    assert "max_retries = 2" in text
    cfg.write_text(text.replace("max_retries = 2", "max_retries = 0", 1), encoding="utf-8")
    return cfg


def alive(db: Path) -> None:
    """A heartbeat, as the running service writes: the service itself is no problem."""
    with Store(db) as store:
        store.beat(os.getpid())


def status(cfg: Path) -> tuple[int, dict[str, Any], str]:
    r = provmon("--config", str(cfg), "status", "--json")
    return r.code, json.loads(r.out), provmon("--config", str(cfg), "status").out


def test_a_broken_publisher_feed_is_reported_by_run_once_and_status_until_it_is_mended(
        http_dir: Any, tmp_path: Path) -> None:
    """A [[publishers]] feed URL with a typo (404): before, a WARNING on stderr only, `run --once` exit 0, and
    `status` healthy with no word about publishers, while no new article of theirs was tracked."""
    root = tmp_path / "www"
    root.mkdir()
    served = http_dir(root)
    extra = f'\n[[publishers]]\nname = "courier"\nfeeds = ["{served.base}/feed.xml"]\nallow_private = true\n'
    cfg = no_retries(demo_config(tmp_path, extra))
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 2, r.out + r.err
    assert (f"publisher courier: error: {served.base}/feed.xml: feed HTTP 404 (its new articles are not being "
            "tracked)") in r.out, r.out
    assert "site demo-scraper: 6 pages scanned, 2 copies" in r.out  # the sites are scanned all the same
    assert "ERROR monitor.crawl: publisher:courier is FAILING" in r.err, r.err
    alive(tmp_path / "provmon.db")
    code, js, text = status(cfg)
    assert code == 1 and js["healthy"] is False, js
    (pub,) = js["publishers"]
    assert (pub["publisher"], pub["health"], pub["health_failures"]) == ("courier", "failing", 1), pub
    assert "feed HTTP 404" in pub["health_reason"] and pub["feeds"] == [f"{served.base}/feed.xml"]
    assert any(p.startswith("publisher courier failing for 1 run since ") and "feed HTTP 404" in p
               for p in js["problems"]), js["problems"]
    assert f"publisher courier: FAILING since {pub['health_since']} (1 pass): " in text, text
    # Mended (the feed is there now, listing the publisher's article): tracked, and healthy again.
    shutil.copy(ORIGINAL, root / "sea-wall.html")
    (root / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>The Courier</title><item><title>Sea wall</title>'
        f'<link>{served.base}/sea-wall.html</link><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>'
        '</channel></rss>', encoding="utf-8")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0 and "publisher courier" not in r.out, r.out
    assert "publisher:courier RECOVERED after 1 failed run since" in r.err, r.err
    code, js, text = status(cfg)
    assert code == 0 and js["healthy"] is True and js["publishers"][0]["health"] == "ok", js
    assert "publisher courier: ok" in text, text


def test_every_site_failing_is_a_problem_at_once(http_dir: Any, tmp_path: Path) -> None:
    """The audit's case: one site on a dead port, one whose start URL is a 404. Before, `status` printed "failing
    since" for each and exited 0, `--json` healthy with no problem: a monitor that watches nothing."""
    served = http_dir(tmp_path)  # nothing at /missing.html
    sites = (f'[fetch]\nmax_retries = 0\nmin_delay = 0.0\n\n'
             f'[[sites]]\nname = "down"\nstart_urls = ["http://127.0.0.1:{refused_port()}/index.html"]\n'
             f'allow_private = true\n\n'
             f'[[sites]]\nname = "gone"\nstart_urls = ["{served.base}/missing.html"]\nallow_private = true\n')
    cfg = write_config(tmp_path / "config.toml", sites)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err  # a site's failure is its state, not the run's (README)
    alive(tmp_path / "provmon.db")
    code, js, text = status(cfg)
    assert code == 1 and js["healthy"] is False, js
    # The "every site" problem once, on a line of its own (it was repeated at the end of each site's), and one failed
    # run is "for 1 run", not "1 run in a row" (audit 14, F12).
    assert len(js["problems"]) == 3 and js["problems"][0] == "every site is failing: no site is being watched", \
        js["problems"]
    for name, why in (("down", "robots.txt unreachable"), ("gone", "HTTP 404")):
        (p,) = [p for p in js["problems"] if p.startswith(f"site {name} ")]
        assert p.startswith(f"site {name} failing for 1 run since ") and why in p and "every site" not in p, p
    assert "problem: site down failing for 1 run since" in text and text.count("every site is failing") == 1, text


def test_one_failing_site_among_good_ones_is_a_problem_from_its_third_failed_run(tmp_path: Path) -> None:
    """The rule: a site failing FAILING_RUNS (3) runs in a row is a problem; a single failed run, while other sites
    are watched, is shown but not a problem (a blip must not page anyone)."""
    dead = f'\n[[sites]]\nname = "down"\nstart_urls = ["http://127.0.0.1:{refused_port()}/"]\nallow_private = true\n'
    cfg = no_retries(demo_config(tmp_path, dead))
    for run in (1, 2, 3):
        assert provmon("--config", str(cfg), "run", "--once").code == 0
        alive(tmp_path / "provmon.db")
        code, js, text = status(cfg)
        sites = {s["site"]: s for s in js["sites"]}
        assert (sites["down"]["health"], sites["down"]["health_failures"]) == ("failing", run), sites["down"]
        assert f"site failing since {sites['down']['health_since']} ({run} run" in text, text
        if run < 3:
            assert code == 0 and js["healthy"] is True and js["problems"] == [], js
    assert code == 1 and js["healthy"] is False, js
    (p,) = js["problems"]
    assert p.startswith("site down failing for 3 runs in a row since ") and "every site" not in p, p


def closed_pipe_run(*args: str, unbuffered: bool) -> subprocess.CompletedProcess[str]:
    """`provmon ARGS` with its stdout a pipe whose reader has already gone (as `provmon ... | true` can be)."""
    read, write = os.pipe()
    os.close(read)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PROVMON_CONFIG")}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"  # every print reaches the pipe at once: the break shows while the command runs
    try:
        return subprocess.run([sys.executable, "-m", "monitor", *args], stdout=write, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=REPO, timeout=120)
    finally:
        os.close(write)


def test_a_closed_output_pipe_never_turns_the_result_into_success(tmp_path: Path) -> None:
    """Before, `except BrokenPipeError: return EXIT_OK`: `provmon check <not a copy> | true` said 0, "a copy was
    found". Now: cut after the command decided, its own status; cut while it ran, 141 (as a shell reports a command
    ended by SIGPIPE); never 0 for a page that copies nothing, and no "Exception ignored" on stderr."""
    cfg = write_config(tmp_path / "config.toml", "")
    assert provmon("--config", str(cfg), "track", str(ORIGINAL)).code == 0
    not_a_copy = str(DEMO / "scraper" / "plant-garlic-in-autumn.html")
    copy = str(DEMO / "scraper" / "sea-wall-gives-way.html")
    r = closed_pipe_run("--config", str(cfg), "check", not_a_copy, unbuffered=False)
    assert (r.returncode, r.stderr) == (1, ""), r.stderr  # its one line was still buffered when it decided
    r = closed_pipe_run("--config", str(cfg), "check", copy, unbuffered=False)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    r = closed_pipe_run("--config", str(cfg), "check", not_a_copy, unbuffered=True)
    assert (r.returncode, r.stderr) == (141, ""), r.stderr  # cut before the result
    big = tmp_path / "long.txt"
    big.write_text("The tide tables for the harbour were pinned to the chandlery door again.\n\n" * 2000,
                   encoding="utf-8")
    r = closed_pipe_run("--config", str(cfg), "extract", str(big), unbuffered=False)  # more than a buffer's worth
    assert (r.returncode, r.stderr) == (141, ""), r.stderr
    # An open pipe: the statuses as ever.
    assert provmon("--config", str(cfg), "check", not_a_copy).code == 1
    assert provmon("--config", str(cfg), "extract", str(big)).code == 0
