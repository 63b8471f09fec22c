"""Bad input from the command line and the filesystem: a clear error that names what and where, exit status 2,
never a traceback (each case was found by review; each used to end in a traceback or a silent skip)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEMO, demo_config, provmon, write_config

ARTICLE = "\n\n".join(
    f"Paragraph {w} of a story about the harbour wall, written for this test, with enough words to count."
    for w in ("one", "two", "three", "four", "five"))


def unprivileged(*args: str) -> list[str]:
    """Run as root without the capabilities that let root read and write anything (so file modes count)."""
    if os.geteuid() != 0:
        return list(args)
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop root's file capabilities")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *args]


def run_unprivileged(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    p = subprocess.run(unprivileged(sys.executable, "-m", "monitor", *args), capture_output=True, text=True,
                       timeout=120, cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "PROVMON_CONFIG"})
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("command", [["ack"], ["ignore"], ["report"], ["notice"], ["recheck"]])
def test_alert_ids_out_of_range_are_usage_errors(tmp_path: Path, command: list[str]) -> None:
    cfg = demo_config(tmp_path)
    r = provmon("--config", str(cfg), *command, "99999999999999999999")
    assert r.code == 2 and "is not an alert id" in r.err and "Traceback" not in r.err


def test_an_absurd_age_is_a_usage_error(tmp_path: Path) -> None:
    r = provmon("--config", str(demo_config(tmp_path)), "alerts", "--since", "3000000d")
    assert r.code == 2 and "'3000000d' is longer than 3650 days" in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("option, when", [("--since", "0001-01-01T00:00:00+05:00"),
                                          ("--until", "9999-12-31T23:00:00-05:00")])
def test_a_time_that_leaves_the_calendar_in_utc_is_a_usage_error(tmp_path: Path, option: str, when: str) -> None:
    r = provmon("--config", str(demo_config(tmp_path)), "alerts", option, when)
    assert r.code == 2 and f"argument {option}: '{when}' is out of range" in r.err and "Traceback" not in r.err, r.err


def test_unwritable_report_and_raw_paths_are_named(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    for args in (["-o", str(tmp_path / "no" / "such" / "r.html")], ["-o", str(tmp_path)],
                 ["-o", str(tmp_path / "r.html"), "--raw", str(tmp_path / "none" / "raw.bin")]):
        r = provmon("--config", str(cfg), "report", "1", *args)
        assert r.code == 2 and "error: cannot write" in r.err and "Traceback" not in r.err, r.err


def test_a_read_only_database_is_named_not_a_traceback(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    assert provmon("--config", str(cfg), "init").code == 0
    (tmp_path / "story.txt").write_text(ARTICLE)
    (tmp_path / "provmon.db").chmod(0o444)  # opens (reading works), fails at the first write
    code, _, err = run_unprivileged(tmp_path, "--config", str(cfg), "track", str(tmp_path / "story.txt"))
    assert code == 2 and str(tmp_path / "provmon.db") in err and "Traceback" not in err, err


def test_an_unreadable_directory_in_a_tree_is_reported(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "open.txt").write_text(ARTICLE)
    (docs / "locked" / "hidden.txt").write_text(ARTICLE.replace("harbour", "river"))
    (docs / "locked").chmod(0)
    try:
        code, out, err = run_unprivileged(tmp_path, "--config", str(cfg), "track", str(docs))
    finally:
        (docs / "locked").chmod(0o755)
    assert code == 2 and f"{docs / 'locked'}: cannot read this directory" in err, err
    assert "1 tracked" in out or "tracked #1" in out, out + err


def test_a_symlink_loop_is_an_error_for_that_source(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    r = provmon("--config", str(cfg), "check", str(tmp_path / "a.txt"))
    assert r.code == 2 and "a.txt" in r.err and "Traceback" not in r.err, r.err


def test_the_same_text_at_three_urls_is_tracked_whole(tmp_path: Path) -> None:
    """An article and its AMP and print versions are one text: not three pages whose every paragraph is
    template (the third used to be stored empty)."""
    cfg = write_config(tmp_path / "config.toml", "")
    names = []
    for name in ("story.txt", "story-amp.txt", "story-print.txt"):
        (tmp_path / name).write_text(ARTICLE)
        names.append(str(tmp_path / name))
    r = provmon("--config", str(cfg), "track", "--json", *names)
    assert r.code == 0, r.err
    import sqlite3

    conn = sqlite3.connect(tmp_path / "provmon.db")
    lengths = [n for (n,) in conn.execute("SELECT length(text) FROM articles")]
    conn.close()
    assert lengths == [len(ARTICLE)]


def test_one_broken_site_does_not_stop_run_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A site whose scan fails (an unforeseen bug, injected here) is that site's error: the next site is
    still scanned and its alerts raised."""
    import monitor.scheduler as scheduler
    from monitor.config import load_config

    cfg = load_config(write_config(tmp_path / "config.toml", f'''
[[track]]
source = "{DEMO}/publisher/sea-wall-gives-way.html"

[[sites]]
name = "broken"
start_urls = ["{DEMO}/scraper/index.html"]

[[sites]]
name = "demo-scraper"
start_urls = ["{DEMO}/scraper/index.html"]
'''))
    real = scheduler.scan_site

    def scan(store, fetcher, cfg, site, **kw):  # type: ignore[no-untyped-def]
        if site.name == "broken":
            raise OverflowError("date value out of range")
        return real(store, fetcher, cfg, site, **kw)

    monkeypatch.setattr(scheduler, "scan_site", scan)
    _, reports = scheduler.Service(cfg).run_once()
    assert [r.site for r in reports] == ["broken", "demo-scraper"]
    assert reports[0].errors == ["scan failed: OverflowError: date value out of range"]
    assert len(reports[1].new_alerts) == 2


def test_binary_files_and_responses_are_not_tracked(tmp_path: Path) -> None:
    """A PDF, an image or random bytes are not articles: each is an error naming it, nothing is tracked."""
    from http.server import BaseHTTPRequestHandler

    from tests.conftest import serve

    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, body = {"/report.pdf": ("application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8),
                          "/photo": ("text/html", b"\x89PNG\r\n\x1a\n" + bytes(2000))}[self.path]
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    served = serve(Files)
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "notes").write_text(ARTICLE)  # a text file without an extension is still text
    cfg = write_config(tmp_path / "config.toml", "")
    try:
        r = provmon("--config", str(cfg), "track", f"{served.base}/report.pdf", f"{served.base}/photo",
                    str(tmp_path / "random.bin"), str(tmp_path / "notes"))
    finally:
        served.stop()
    assert r.code == 2, r.out + r.err
    assert f"{served.base}/report.pdf: not HTML or text (application/pdf)" in r.err
    assert f"{served.base}/photo: not HTML or text" in r.err
    assert f"random.bin: {tmp_path / 'random.bin'} is not a text file: it holds NUL bytes" in r.err, r.err
    assert "tracked #1" in r.out and r.out.count("tracked #") == 1, r.out


def test_a_missing_track_source_in_the_config_is_said_to_be_missing(tmp_path: Path) -> None:
    """A [[track]] file that is not there is not "HTTP 404" (the file transport's answer for the crawler)."""
    cfg = write_config(tmp_path / "c.toml", f'''
[[track]]
source = "{tmp_path}/gone.txt"
''')
    r = provmon("--config", str(cfg), "run", "--once")
    assert f"cannot read {tmp_path}/gone.txt: No such file or directory" in r.err, r.err
    assert "HTTP 404" not in r.err
    # ...and it fails the run as it fails `provmon track`: in the summary and the exit status, not only the log.
    assert r.code == 2
    assert "track: error: " in r.out and f"cannot read {tmp_path}/gone.txt: No such file or directory" in r.out, r.out


def test_a_track_title_in_the_config_renames_an_article_tracked_before(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A story of its own, told in a few plain sentences. " * 20, encoding="utf-8")
    cfg = write_config(tmp_path / "c.toml", f'[[track]]\nsource = "{tmp_path}/a.txt"\n')
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    write_config(cfg, f'[[track]]\nsource = "{tmp_path}/a.txt"\ntitle = "The library story"\n')
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    r = provmon("--config", str(cfg), "track", "--json", str(tmp_path / "a.txt"))
    assert r.json_lines()[0]["title"] == "The library story"


@pytest.mark.parametrize("value", ["0", "-1", "ten"])
def test_an_alerts_limit_under_one_is_a_usage_error(tmp_path: Path, value: str) -> None:
    r = provmon("--config", str(demo_config(tmp_path)), "alerts", "--limit", value)
    assert r.code == 2 and "--limit" in r.err and "Traceback" not in r.err, r.err
