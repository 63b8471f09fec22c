"""Command-line mends from an audit: `ignore --site --pattern` records two rules, the takedown notice and
`report --raw` use the newest capture of a copy that came back, `recheck` names unknown and skipped ids, and
text from hostile pages reaches the terminal (and a notice file) escaped, never as control sequences. Each
against a real loopback site and a real SQLite file."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from monitor.display import safe, shown_url
from tests.conftest import DEMO, Served, provmon, rows, write_config

VERBATIM = "sea-wall-gives-way.html"
SPUN = "storm-marren-seawall-collapse.html"
OWNER = """
[fetch]
min_delay = 0.0

[owner]
credit_names = ["Harbour Herald"]
name = "Rosa Quill"
email = "rights@quill.example"
"""


def copier_sites(tmp_path: Path, http_dir: Callable[[Path], Served],
                 names: tuple[str, ...]) -> tuple[Path, dict[str, Path]]:
    """The demo scraper site served as each of `names`, each over its own loopback server and folder."""
    sites, body = {}, ""
    for name in names:
        folder = tmp_path / name
        shutil.copytree(DEMO / "scraper", folder)
        sites[name] = folder
        body += (f'\n[[sites]]\nname = "{name}"\nstart_urls = ["{http_dir(folder).base}/index.html"]\n'
                 f"allow_private = true\n")
    cfg = write_config(tmp_path / "config.toml", f'{OWNER}\n[[track]]\nsource = "{DEMO}/publisher/{VERBATIM}"\n'
                       + body)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err
    return cfg, sites


def alert_ids(db: Path) -> dict[tuple[str, str], int]:
    return {(r["site"], Path(r["copy_url"]).name): r["id"] for r in rows(db, "SELECT id, site, copy_url FROM alerts")}


def status_of(db: Path, alert_id: int) -> str:
    return str(rows(db, "SELECT status FROM alerts WHERE id = ?", alert_id)[0][0])


# -- 1: ignore --site --pattern is two rules ------------------------------------------------------------------

def test_ignore_site_and_pattern_records_two_rules(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _ = copier_sites(tmp_path, http_dir, ("copier", "mirror"))
    db = tmp_path / "provmon.db"
    ids = alert_ids(db)
    assert len(ids) == 4
    pattern = r"gives-way\.html$"
    r = provmon("--config", str(cfg), "ignore", str(ids["copier", SPUN]), "--site", "--pattern", pattern)
    assert r.code == 0, r.err
    # As documented: one rule for the site, one for the URLs matching the regex (on any site).
    rules = [(row["site"], row["url_pattern"]) for row in rows(db, "SELECT * FROM ignore_rules ORDER BY id")]
    assert rules == [("copier", None), (None, pattern)]
    assert status_of(db, ids["copier", VERBATIM]) == "ignored"  # by the site rule
    assert status_of(db, ids["mirror", VERBATIM]) == "ignored"  # by the URL rule, on another site
    assert status_of(db, ids["mirror", SPUN]) != "ignored"  # neither covers it
    # The confirmation names each rule, the regex as it was typed (no doubled backslash).
    assert "copies on site 'copier' raise no more alerts" in r.out
    assert f"copies at URLs matching '{pattern}' raise no more alerts" in r.out and "\\\\" not in r.out
    bad = provmon("--config", str(cfg), "ignore", str(ids["mirror", SPUN]), "--pattern", r"a\.(b")
    assert bad.code == 2 and r"--pattern 'a\.(b' is not a regular expression" in bad.err
    empty = provmon("--config", str(cfg), "ignore", str(ids["mirror", SPUN]), "--pattern", "")
    assert empty.code == 2 and "--pattern is empty" in empty.err
    assert status_of(db, ids["mirror", SPUN]) != "ignored"


# -- 4: recheck names unknown ids and skips alerts it does not recheck ----------------------------------------

def test_recheck_names_unknown_ids_and_skipped_states(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _ = copier_sites(tmp_path, http_dir, ("copier",))
    db = tmp_path / "provmon.db"
    ids = alert_ids(db)
    assert provmon("--config", str(cfg), "ignore", str(ids["copier", SPUN])).code == 0

    r = provmon("--config", str(cfg), "recheck", "999")
    assert r.code == 2 and "no alert #999" in r.err and "copies:" not in r.out, r.out + r.err
    r = provmon("--config", str(cfg), "recheck", str(ids["copier", SPUN]))
    assert r.code == 0, r.err
    assert f"skipped #{ids['copier', SPUN]}: it is ignored" in r.out and "copies:" not in r.out
    # Known, open ids are still rechecked alongside; the unknown one makes the exit status 2.
    r = provmon("--config", str(cfg), "recheck", "999", str(ids["copier", VERBATIM]), str(ids["copier", SPUN]))
    assert r.code == 2 and "no alert #999" in r.err
    assert "rechecked 1 copy: 0 gone, 0 back" in r.out and f"skipped #{ids['copier', SPUN]}" in r.out
    assert rows(db, "SELECT last_check FROM alerts WHERE id = ?", ids["copier", SPUN])[0][0] is None


# -- 2: a copy that came back: the notice and report --raw use its newest capture -----------------------------

def test_notice_and_raw_export_use_the_newest_capture(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, sites = copier_sites(tmp_path, http_dir, ("copier",))
    db = tmp_path / "provmon.db"
    aid = alert_ids(db)["copier", VERBATIM]
    page = sites["copier"] / VERBATIM
    first = page.read_bytes()
    page.unlink()
    r = provmon("--config", str(cfg), "recheck", str(aid))
    assert f"REMOVED #{aid}" in r.out, r.out + r.err
    # Back, as another page (a new footer): the takedown must cite this one, the copy as it is online now.
    back = first.replace(b"</body>", b"<footer><p>Reposted by the copier team.</p></footer></body>")
    assert back != first
    page.write_bytes(back)
    r = provmon("--config", str(cfg), "recheck", str(aid))
    assert f"REOPENED #{aid}" in r.out, r.out + r.err
    old_sha, new_sha = hashlib.sha256(first).hexdigest(), hashlib.sha256(back).hexdigest()

    r = provmon("--config", str(cfg), "notice", str(aid))
    assert r.code == 0, r.err
    assert f"SHA-256 of the page as served: {new_sha}." in r.out
    assert "This is capture 2 of 2, the newest, made when the copy was back online" in r.out
    assert "capture 1, " in r.out and f"(when the copy was found): SHA-256 {old_sha}" in r.out

    raw = tmp_path / "raw.html"
    r = provmon("--config", str(cfg), "report", str(aid), "-o", str(tmp_path / "r.html"), "--raw", str(raw))
    assert r.code == 0, r.err
    assert raw.read_bytes() == back and "capture 2 of 2" in r.out and new_sha in r.out
    r = provmon("--config", str(cfg), "report", str(aid), "-o", str(tmp_path / "r.html"), "--raw", str(raw),
                "--capture", "1")
    assert r.code == 0 and raw.read_bytes() == first, r.err
    report = (tmp_path / "r.html").read_text()
    assert "--raw copy.html --capture 1" in report and "capture 2 of 2" in report

    r = provmon("--config", str(cfg), "report", str(aid), "--raw", str(raw), "--capture", "3")
    assert r.code == 2 and "--capture 3: alert" in r.err and "has 2 captures" in r.err
    r = provmon("--config", str(cfg), "report", str(aid), "--capture", "1")
    assert r.code == 2 and "give --raw PATH too" in r.err


def test_an_empty_output_path_is_an_error(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", OWNER)
    for args in (["report", "1", "--raw", ""], ["report", "1", "-o", ""], ["notice", "1", "-o", ""]):
        r = provmon("--config", str(cfg), *args)
        assert r.code == 2 and "an empty path names no file" in r.err and "Traceback" not in r.err, (args, r.err)
    assert not (tmp_path / "alert-1.html").exists()


# -- 6: hostile page text is shown escaped on the terminal and in the notice -----------------------------------

ARTICLE = [
    "The clock on the Tollgate market hall stopped at twenty past four on Sunday, and it has not moved since.",
    "Volunteers from the horology club climbed the tower on Monday and found a snapped pendulum rod in the case.",
    "The mechanism was made by a foundry in the valley in 1887 and has been wound by hand every week since then.",
    "A retired engineer who has wound it for thirty years said the rod had been cracked for as long as he knew it.",
    "The town council has asked a workshop on the coast to forge a new rod from the original drawings it keeps.",
    "Until the repair is done the four faces will be covered with canvas so that nobody reads the wrong time.",
    "Market traders said the square felt strange without the chimes that mark each quarter of the hour for them.",
    "The club hopes to have the clock running again before the autumn fair, when the square fills with stalls.",
]
ESC, BEL, CSI1, RLO, LRI = "\x1b", "\x07", "\x9b", "\u202e", "\u2066"
HOSTILE_NAME = f"news{CSI1}2J{RLO}lmth.html"
RAW_CONTROLS = (ESC, BEL, CSI1, RLO, LRI, "\r")


def hostile_site(tmp_path: Path, http_dir: Callable[[Path], Served]) -> tuple[Path, Served, str]:
    source = tmp_path / "clock.txt"
    source.write_text("\n\n".join(ARTICLE) + "\n", encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    paras = list(ARTICLE)
    paras[1] = paras[1].replace("pendulum", f"pendulum {ESC}]0;owned{BEL}{ESC}[2J{ESC}[8m")
    paras[4] = paras[4].replace("forge", f"forge {RLO}wen a{LRI} \rhidden")
    body = "".join(f"<p>{p}</p>" for p in paras)
    title = f"Clock {ESC}]0;title{BEL} stops"
    credit = f"<p>Source: Tollgate Courier {ESC}[1;31mTHIS NOTICE IS VOID{ESC}[0m</p>"
    (site / HOSTILE_NAME).write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}{credit}</article></body></html>", encoding="utf-8")
    (site / "index.html").write_text(f"<html><body><a href='{HOSTILE_NAME}'>news</a></body></html>",
                                     encoding="utf-8")
    served = http_dir(site)
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0

[owner]
credit_names = ["Tollgate Courier"]
name = "Rosa Quill"
email = "rights@quill.example"

[[track]]
source = "{source}"
title = "Clock stops"

[[sites]]
name = "hostile"
start_urls = ["{served.base}/index.html"]
allow_private = true
""")
    return cfg, served, f"{served.base}/{HOSTILE_NAME}"


def assert_clean(text: str) -> None:
    for ch in RAW_CONTROLS:
        assert ch not in text, (repr(ch), text)


def test_safe_escapes_controls_and_bidi_only() -> None:
    assert safe(f"a{ESC}[2Jb{BEL}\r\x00\x7f{CSI1}{RLO}{LRI}\u2069") == \
        "a\\x1b[2Jb\\x07\\x0d\\x00\\x7f\\x9b\\u202e\\u2066\\u2069"
    kept = "tab\there\nnew line, café, 東京, “quotes”, emoji 🙂, \u200d"
    assert safe(kept) == kept
    assert shown_url(f"http://127.0.0.1:8/{HOSTILE_NAME}") == "http://127.0.0.1:8/news%C2%9B2J%E2%80%AElmth.html"
    plain = "https://a.example/b?c=1&d=%20#e"
    assert shown_url(plain) == plain


def test_hostile_page_text_reaches_the_terminal_escaped(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _, url = hostile_site(tmp_path, http_dir)
    db = tmp_path / "provmon.db"
    run = provmon("--config", str(cfg), "run", "--once")
    assert run.code == 0 and "1 new alert," in run.out, run.out + run.err
    assert_clean(run.out)
    assert "ALERT #1" in run.out and "news\\x9b2J\\u202elmth.html" in run.out
    # The stored URL is as fetched: only its display is escaped. (Control characters in page text never reach the
    # store: the extractor drops them, as a browser shows none; bidi characters stay, and are escaped on display.)
    (stored,) = rows(db, "SELECT copy_url, credit_detail FROM alerts")
    assert stored["copy_url"] == url and "Tollgate Courier [1;31mTHIS" in stored["credit_detail"]
    assert ESC not in stored["credit_detail"]

    listed = provmon("--config", str(cfg), "alerts")
    assert listed.code == 0 and "news\\x9b2J\\u202elmth.html" in listed.out
    assert_clean(listed.out)
    # JSON is unchanged: it carries the values as stored.
    (obj,) = provmon("--config", str(cfg), "alerts", "--json").json_lines()
    assert obj["copy_url"] == url and obj["credit_detail"] == stored["credit_detail"]

    notice = provmon("--config", str(cfg), "notice", "1")
    assert notice.code == 0, notice.err
    assert_clean(notice.out)
    # The copy's URL as the server received it; the quoted text and credit line escaped.
    assert "http://127.0.0.1:" in notice.out and "/news%C2%9B2J%E2%80%AElmth.html" in notice.out
    assert "pendulum ]0;owned[2J[8m" in notice.out
    assert "Tollgate Courier [1;31mTHIS NOTICE IS VOID[0m" in notice.out
    out = tmp_path / "notice.txt"
    assert provmon("--config", str(cfg), "notice", "1", "-o", str(out)).code == 0
    assert out.read_text(encoding="utf-8") == notice.out

    check = provmon("--config", str(cfg), "check", url)
    assert check.code == 0 and "COPY (verbatim)" in check.out, check.out + check.err
    assert_clean(check.out)
    assert "\\u202ewen a\\u2066" in check.out  # the passages, side by side

    extract = provmon("--config", str(cfg), "extract", url)
    assert extract.code == 0, extract.err
    assert_clean(extract.out)
    assert "# Clock ]0;title stops" in extract.out
    extracted = provmon("--config", str(cfg), "extract", "--json", url)
    (page,) = extracted.json_lines()
    assert page["title"] == "Clock ]0;title stops"  # the controls were dropped by the extractor, not the display
    assert "\u202e" in page["text"]  # --json: a bidi character is the value itself...
    assert_clean(extracted.out)  # ...written as an escape, inert in a terminal
    assert "\\u202ewen a\\u2066" in extracted.out

    checked = provmon("--config", str(cfg), "check", "--json", url)
    (found,) = checked.json_lines()
    assert found["copies"] and "\u202e" in found["copies"][0]["passages"][0]["page_text"], found
    assert_clean(checked.out)

    missing = provmon("--config", str(cfg), "extract", url.replace("lmth", f"{ESC}[2J"))
    assert missing.code == 2 and "error:" in missing.err
    assert_clean(missing.err)


def test_text_logs_escape_what_pages_put_in_messages() -> None:
    """A URL or error from a hostile page, logged: the text log line shows its control and bidi characters
    escaped (a carriage return could overwrite the line, an ESC sequence retitle the terminal)."""
    import logging

    from monitor.logs import TEXT_FORMAT, JsonFormatter, OneLineFormatter

    record = logging.LogRecord("monitor.crawl", logging.WARNING, __file__, 1, "site s: %s: %s", (
        f"http://x.example/a{ESC}]0;owned{BEL}\u009b2J", "HTTP 404\rall fine\u202e"), None)
    line = OneLineFormatter(TEXT_FORMAT).format(record)
    assert "a\\x1b]0;owned\\x07\\x9b2J: HTTP 404\\x0dall fine\\u202e" in line
    assert_clean(line)

    line = JsonFormatter().format(record)
    assert json.loads(line)["message"] == record.getMessage()  # the same value, to any JSON reader
    assert_clean(line)
