"""Alerts a publisher can act on: credit and severity, licensed and ignored copies, the lifecycle (ack,
ignore, removed and reopened by the recheck), filters; against a real loopback site and real SQLite."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from monitor.alerts import assess_credit, email_text, ignore_rule_for, is_licensed, severity
from monitor.display import percent
from monitor.extract import Extracted
from monitor.store import Store
from tests.conftest import DEMO, Served, Webhook, demo_config, old_database, provmon, rows, write_config

ORIGINAL = "https://herald.example/news/sea-wall"
VERBATIM = "sea-wall-gives-way.html"
SPUN = "storm-marren-seawall-collapse.html"


def page(**kw: object) -> Extracted:
    return Extracted(title="t", text="x", **kw)  # type: ignore[arg-type]


def test_credit_grades_strongest_signal_first() -> None:
    assert assess_credit(page(canonical_url="http://www.herald.example/news/sea-wall/"), ORIGINAL, []).grade \
        == "canonical"
    assert assess_credit(page(og_url=ORIGINAL), ORIGINAL, []).grade == "canonical"
    assert assess_credit(page(links=("https://herald.example/news/sea-wall#top",)), ORIGINAL, []).grade == "link"
    named = page(credits=("Originally published in the Harbour Herald.",))
    assert assess_credit(named, ORIGINAL, ["Harbour Herald"]).grade == "credit_line"
    assert assess_credit(named, ORIGINAL, []).grade == "none"  # names nobody we know
    assert assess_credit(page(credits=("Source: herald.example",)), ORIGINAL, []).grade == "credit_line"
    # A link elsewhere on the publisher's site is not a link to the original.
    assert assess_credit(page(links=("https://herald.example/news/other",)), ORIGINAL, []).grade == "none"


def test_severity_rule() -> None:
    assert severity("verbatim", 1.0, "none") == "high"
    assert severity("verbatim", 1.0, "canonical") == "medium"
    assert severity("paraphrased", 0.55, "none") == "high"
    assert severity("paraphrased", 0.55, "link") == "medium"
    assert severity("partial", 0.3, "credit_line") == "low"
    assert severity("partial", 0.3, "none") == "medium"


def test_licensed_domains_and_ignore_rules() -> None:
    assert is_licensed("https://news.partner.example/a", ["partner.example"]) == "partner.example"
    assert is_licensed("https://notpartner.example/a", ["partner.example"]) == ""
    rules = [{"id": 1, "site": "s1", "url_pattern": None}, {"id": 2, "site": None, "url_pattern": r"/tag/"}]
    assert ignore_rule_for(rules, "s1", "https://a.example/x")["id"] == 1  # type: ignore[index]
    assert ignore_rule_for(rules, "s2", "https://a.example/tag/x")["id"] == 2  # type: ignore[index]
    assert ignore_rule_for(rules, "s2", "https://a.example/x") is None


def copier_site(tmp_path: Path, http_dir: Callable[[Path], Served], extra: str = "") -> tuple[Path, Path, Served]:
    """The demo scraper site served over loopback HTTP from a folder the test can change."""
    site = tmp_path / "site"
    shutil.copytree(DEMO / "scraper", site)
    served = http_dir(site)
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0

[owner]
credit_names = ["Harbour Herald"]

[[track]]
source = "{DEMO}/publisher/sea-wall-gives-way.html"

[[sites]]
name = "copier"
start_urls = ["{served.base}/index.html"]
allow_private = true
{extra}""")
    return cfg, site, served


def by_page(db: Path) -> dict[str, sqlite3.Row]:
    return {Path(r["copy_url"]).name: r for r in rows(db, "SELECT * FROM alerts")}


def test_alert_records_credit_severity_and_evidence(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _, served = copier_site(tmp_path, http_dir)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    db = tmp_path / "provmon.db"
    alerts = by_page(db)
    assert set(alerts) == {VERBATIM, SPUN}
    # The verbatim copy says "Orignially published in Harbour Herald."; the spun one credits nobody.
    assert alerts[VERBATIM]["credit"] == "credit_line" and "Harbour Herald" in alerts[VERBATIM]["credit_detail"]
    assert alerts[SPUN]["credit"] == "none"
    assert alerts[VERBATIM]["severity"] == "high" and alerts[SPUN]["severity"] == "high"
    ev = rows(db, "SELECT * FROM evidence WHERE alert_id = ?", alerts[VERBATIM]["id"])[0]
    raw = (tmp_path / "site" / VERBATIM).read_bytes()
    import hashlib
    import zlib

    assert zlib.decompress(ev["raw_zlib"]) == raw
    assert ev["sha256"] == hashlib.sha256(raw).hexdigest() and ev["raw_size"] == len(raw)
    assert ev["http_status"] == 200 and ev["final_url"] == f"{served.base}/{VERBATIM}"
    assert "text/html" in json.loads(ev["headers"])["content-type"] and ev["fetched_at"]
    assert "sea wall that has guarded" in ev["page_text"]
    # The alert_log view reads in one row: state, severity, credit, fetch, delivery.
    log = rows(db, "SELECT * FROM alert_log WHERE id = ?", alerts[VERBATIM]["id"])[0]
    assert (log["status"], log["severity"], log["credit"], log["http_status"]) == ("new", "high", "credit_line", 200)
    assert log["content_sha256"] == ev["sha256"] and log["passages"] >= 1


def test_licensed_domain_is_logged_not_alerted(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _, _ = copier_site(tmp_path, http_dir, '\n[alerts]\nlicensed_domains = ["127.0.0.1"]\n')
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    db = tmp_path / "provmon.db"
    assert rows(db, "SELECT count(*) FROM alerts")[0][0] == 0
    assert sorted(r["disposition"] for r in rows(db, "SELECT disposition FROM matches")) == ["licensed"] * 2
    assert "licensed (127.0.0.1 is in alerts.licensed_domains)" in r.err
    assert "2 copies (2 licensed or ignored: logged, no alert), 0 new alerts" in r.out, r.out


def test_ack_ignore_and_filters(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, site, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}

    r = provmon("--config", str(cfg), "ack", str(ids[VERBATIM]), "--note", "legal is on it")
    assert r.code == 0 and "acknowledged" in r.out
    listed = provmon("--config", str(cfg), "alerts", "--json", "--state", "acknowledged").json_lines()
    assert [a["id"] for a in listed] == [ids[VERBATIM]] and listed[0]["note"] == "legal is on it"
    # The evidence, as check --json shows it: offsets into both texts and the texts they cover.
    assert listed[0]["longest_run"] > 0 and listed[0]["passages"]
    assert {"article_start", "article_end", "page_start", "page_end", "score", "article_text", "page_text"} <= set(
        listed[0]["passages"][0])
    assert [a["id"] for a in provmon("--config", str(cfg), "alerts", "--json", "--kind", "paraphrased")
            .json_lines()] == [ids[SPUN]]
    assert provmon("--config", str(cfg), "alerts", "--json", "--site", "nope").json_lines() == []
    assert provmon("--config", str(cfg), "alerts", "--json", "--since", "2999-01-01").json_lines() == []
    assert len(provmon("--config", str(cfg), "alerts", "--json", "--since", "1d").json_lines()) == 2
    assert len(provmon("--config", str(cfg), "alerts", "--json", "--until", "2999-01-01").json_lines()) == 2
    bad = provmon("--config", str(cfg), "alerts", "--since", "last tuesday")
    assert bad.code == 2 and "neither an ISO date" in bad.err
    missing = provmon("--config", str(cfg), "ack", "999")
    assert missing.code == 2 and "no alert #999" in missing.err

    # Ignore the spun copy and, from now on, every copy on its site.
    r = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--site")
    assert r.code == 0, r.err
    assert "copies on site 'copier' raise no more alerts" in r.out
    assert f"#{ids[VERBATIM]}" in r.out  # the other open alert on that site is ignored with it
    assert {row["status"] for row in rows(db, "SELECT status FROM alerts")} == {"ignored"}
    # A new copy on that site raises nothing; the match is logged as ignored.
    shutil.copy(site / VERBATIM, site / "again.html")
    index = (site / "index.html").read_text()
    (site / "index.html").write_text(index.replace("</body>", '<a href="again.html">again</a></body>'))
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0 and "0 new alerts" in r.out, r.out + r.err
    assert rows(db, "SELECT disposition FROM matches WHERE page_url LIKE '%again.html'")[0][0] == "ignored"
    events = [e["event"] for e in rows(db, "SELECT event FROM alert_events WHERE alert_id = ? ORDER BY id",
                                          ids[VERBATIM])]
    assert events == ["detected", "acknowledged", "ignored"]


def test_recheck_removes_and_reopens(tmp_path: Path, http_dir: Callable[[Path], Served], webhook: Webhook) -> None:
    hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n'
    cfg, site, served = copier_site(tmp_path, http_dir, hook)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}
    assert len(webhook.received) == 2

    # Nothing changed: nothing happens.
    r = provmon("--config", str(cfg), "recheck")
    assert "rechecked 2 copies: 0 gone, 0 back" in r.out, r.out + r.err
    assert len(webhook.received) == 2

    # The verbatim copy is taken down (404); the spun page is replaced by an unrelated article.
    saved = (site / VERBATIM).read_bytes()
    (site / VERBATIM).unlink()
    shutil.copy(site / "plant-garlic-in-autumn.html", site / SPUN)
    r = provmon("--config", str(cfg), "recheck")
    assert "2 gone" in r.out, r.out + r.err
    alerts = by_page(db)
    assert alerts[VERBATIM]["status"] == "removed" and alerts[VERBATIM]["last_check"] == "HTTP 404"
    assert alerts[SPUN]["status"] == "removed" and "no longer copies" in alerts[SPUN]["last_check"]
    removed = [json.loads(req["body"]) for req in webhook.received[2:]]
    assert sorted(p["alert"]["id"] for p in removed) == sorted(ids.values())
    assert {p["event"] for p in removed} == {"copy_removed"}
    assert all(p["alert"]["status"] == "removed" for p in removed)

    # A site that does not answer proves nothing: no state changes.
    served.stop()
    r = provmon("--config", str(cfg), "recheck")
    assert "2 inconclusive" in r.out
    assert {row["status"] for row in rows(db, "SELECT status FROM alerts")} == {"removed"}

    # The copy comes back: reopened, told, and fresh evidence captured.
    served2 = http_dir(site)
    (site / VERBATIM).write_bytes(saved)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE alerts SET copy_url = replace(copy_url, ?, ?)", [served.base, served2.base])
    conn.commit()
    conn.close()
    r = provmon("--config", str(cfg), "recheck")
    assert "1 back" in r.out and f"REOPENED #{ids[VERBATIM]}" in r.out, r.out + r.err
    assert by_page(db)[VERBATIM]["status"] == "notified"  # reopened as new, then delivered
    back = json.loads(webhook.received[-1]["body"])
    assert back["event"] == "copy_reopened" and back["alert"]["id"] == ids[VERBATIM]
    keys = [req["headers"]["idempotency-key"] for req in webhook.received]
    assert len(keys) == len(set(keys)) == 5  # every event its own key
    reasons = [e["reason"] for e in rows(db, "SELECT reason FROM evidence WHERE alert_id = ? ORDER BY id",
                                         ids[VERBATIM])]
    assert reasons == ["detected", "reopened"]
    events = [e["event"] for e in rows(db, "SELECT event FROM alert_events WHERE alert_id = ? ORDER BY id",
                                          ids[VERBATIM])]
    assert events == ["detected", "removed", "reopened"]


def test_a_tightened_rule_does_not_call_an_unchanged_copy_gone(tmp_path: Path, http_dir: Callable[[Path], Served],
                                                                webhook: Webhook) -> None:
    hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n'
    cfg, site, _ = copier_site(tmp_path, http_dir, hook)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    assert len(webhook.received) == 2
    # The operator raises the bar: the spun copy no longer passes it, but its page is the one it was found on.
    strict = tmp_path / "strict.toml"
    strict.write_text(cfg.read_text() + "\n[match]\nmin_coverage = 0.99\nmin_page_share = 0.99\n")
    r = provmon("--config", str(strict), "recheck")
    assert r.code == 0 and "0 gone" in r.out and "1 inconclusive" in r.out, r.out + r.err
    alerts = by_page(db)
    assert alerts[SPUN]["status"] == "notified"
    assert "unchanged since the copy was found there" in alerts[SPUN]["last_check"]
    assert alerts[VERBATIM]["last_check"].startswith("still there")
    assert len(webhook.received) == 2  # nobody told a copy still online was taken down
    # A page that really changed is still called gone under that rule.
    shutil.copy(site / "plant-garlic-in-autumn.html", site / SPUN)
    r = provmon("--config", str(strict), "recheck")
    assert "1 gone" in r.out, r.out + r.err
    assert by_page(db)[SPUN]["status"] == "removed"


def test_a_loosened_rule_matches_pages_already_scanned_again(tmp_path: Path,
                                                              http_dir: Callable[[Path], Served]) -> None:
    cfg, _, _ = copier_site(tmp_path, http_dir)
    default = cfg.read_text()
    cfg.write_text(default + "\n[match]\nmin_coverage = 0.99\nmin_page_share = 0.99\n")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0 and set(by_page(tmp_path / "provmon.db")) == {VERBATIM}, r.out + r.err
    cfg.write_text(default)  # the rule back to the defaults: the spun copy, unchanged on its site, is one again
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0 and "1 new alert" in r.out, r.out + r.err
    assert "already seen will be matched again at their next fetch" in r.err
    assert set(by_page(tmp_path / "provmon.db")) == {VERBATIM, SPUN}
    r = provmon("--config", str(cfg), "run", "--once")  # the same rule: unchanged pages are not matched again
    assert "0 new alerts" in r.out and "matched again" not in r.err, r.out + r.err
    assert "6 pages scanned (6 unchanged since last matched), 0 copies" in r.out, r.out  # not "the site has none"


def test_the_recheck_keeps_to_the_site_s_exclude_rules_and_robots_txt(tmp_path: Path,
                                                                       http_dir: Callable[[Path], Served]) -> None:
    cfg, site, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    # The site's owner asks us to keep off one page (exclude) and their robots.txt forbids the other.
    excluded = 'allow_private = true\nexclude = ["sea-wall-gives"]'
    cfg.write_text(cfg.read_text().replace("allow_private = true", excluded))
    (site / "robots.txt").write_text(f"User-agent: *\nDisallow: /{SPUN}\n")
    r = provmon("--config", str(cfg), "recheck")
    assert r.code == 0 and "2 inconclusive" in r.out and "0 gone" in r.out, r.out + r.err
    alerts = by_page(db)
    assert alerts[VERBATIM]["last_check"] == ("inconclusive: not fetched: the site's exclude rule 'sea-wall-gives' "
                                              "leaves it out")
    assert alerts[SPUN]["last_check"] == "inconclusive: not fetched: disallowed by robots.txt for ProvenanceMonitor"
    assert {a["status"] for a in alerts.values()} == {"new"}


def test_a_domain_licensed_after_its_alerts_is_pointed_out(tmp_path: Path,
                                                            http_dir: Callable[[Path], Served]) -> None:
    cfg, _, served = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    ids = sorted(row["id"] for row in by_page(tmp_path / "provmon.db").values())
    licensed = tmp_path / "licensed.toml"
    licensed.write_text(cfg.read_text() + '\n[alerts]\nlicensed_domains = ["127.0.0.1"]\n')
    notes = provmon("--config", str(licensed), "status", "--json").json_lines()[0]["notes"]
    assert [n for n in notes if n.startswith(f"2 open alerts (#{ids[0]}, #{ids[1]}) copy on a domain now in "
                                              f"alerts.licensed_domains of {licensed}")], notes
    assert not [n for n in provmon("--config", str(cfg), "status", "--json").json_lines()[0]["notes"]
                if "licensed" in n]
    # check: a copy the monitor would only log is a copy still, and says why it raises no alert.
    page = f"{served.base}/{VERBATIM}"
    r = provmon("--config", str(licensed), "check", page)
    assert r.code == 0 and "licensed: 127.0.0.1 is in alerts.licensed_domains of" in r.out, r.out
    assert provmon("--config", str(licensed), "check", "--json", page).json_lines()[0]["licensed"] == "127.0.0.1"
    assert "licensed" not in provmon("--config", str(cfg), "check", "--json", page).json_lines()[0]


def test_a_site_whose_start_url_moved_to_another_host_is_crawled_where_it_landed(
        tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    """The watched site moved (every address answers 301 to the new host): its links are followed there, not only
    the home page it lands on (which was scanned alone, run after run, with no error)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cfg, _, served = copier_site(tmp_path, http_dir)

    class Moved(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(301)
            self.send_header("Location", served.base + self.path)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    old = ThreadingHTTPServer(("127.0.0.2", 0), Moved)
    threading.Thread(target=old.serve_forever, daemon=True).start()
    try:
        moved = f"http://127.0.0.2:{old.server_address[1]}/index.html"
        cfg.write_text(cfg.read_text().replace(f"{served.base}/index.html", moved))
        r = provmon("--config", str(cfg), "run", "--once")
        assert r.code == 0 and "2 new alerts" in r.out, r.out + r.err
        assert f"start URL {moved} redirects to {served.base}/index.html: its links there are followed" in r.err
    finally:
        old.shutdown()
        old.server_close()


def test_a_renamed_site_s_rules_and_open_alerts_are_pointed_out(tmp_path: Path,
                                                                  http_dir: Callable[[Path], Served]) -> None:
    """A site's name is its identity: alerts and ignore rules keep the old one. Renaming the site in the config
    leaves them behind, and every place an operator looks says so."""
    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    ids = {name: row["id"] for name, row in by_page(tmp_path / "provmon.db").items()}
    renamed = tmp_path / "renamed.toml"
    renamed.write_text(cfg.read_text().replace('name = "copier"', 'name = "copier-news"'))
    status = provmon("--config", str(renamed), "status", "--json").json_lines()[0]
    assert [n for n in status["notes"] if "2 open alerts on site 'copier'" in n and str(renamed) in n], status
    assert provmon("--config", str(cfg), "status", "--json").json_lines()[0]["notes"] == []

    assert provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--site").code == 0  # both ignored, rule #1
    listed = provmon("--config", str(renamed), "ignore", "--list")
    assert "rule #1: copies on site 'copier'" in listed.out
    assert f"warning: site 'copier' is not in {renamed}: this rule ignores no new copy" in listed.out
    assert "warning" not in provmon("--config", str(cfg), "ignore", "--list").out
    r = provmon("--config", str(renamed), "run", "--once")
    assert r.code == 0 and "note: ignore rule #1 (copies on site 'copier') names a site that is not in" in r.out, r.out
    assert "open alert" not in r.out  # both are ignored: nothing open is left behind
    text = provmon("--config", str(renamed), "status").out
    assert "  note: ignore rule #1" in text


def test_migration_upgrades_a_v3_alert_log_in_place(tmp_path: Path) -> None:
    """An alert raised before lifecycle/evidence existed survives the upgrade and reads in alert_log."""
    from monitor.store import Store

    db = tmp_path / "old.db"
    conn = old_database(db, 3)
    conn.execute("INSERT INTO articles VALUES (1, 'https://a.example/x', 'T', 'text', 'h', '2026-01-01')")
    conn.execute("INSERT INTO alerts (id, created_at, article_id, article_title, article_url, copy_url, site, kind, "
                 "coverage, page_share, status) VALUES (1, '2026-01-02T00:00:00+00:00', 1, 'T', 'https://a.example/x', "
                 "'https://c.example/y', 's', 'verbatim', 1.0, 0.9, 'notified')")
    conn.execute("INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, status) "
                 "VALUES (1, 'email', 'provmon-alert-1-email', '2026-01-02', 'failed')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        alert = store.alert(1)
        assert (alert["status"], alert["credit"], alert["updated_at"]) == ("notified", "unknown", alert["created_at"])
        (note,) = store.pending_notifications(["email"])
        assert note.event == "copy_detected"
        log = store.db.execute("SELECT status, notifications FROM alert_log").fetchone()
        assert log == ("notified", "email:copy_detected:failed")
    assert (tmp_path / "old.db.v3.bak").exists()


def test_new_config_keys_are_validated_with_named_errors(tmp_path: Path) -> None:
    from monitor.config import ConfigError, parse_config

    def err(data: dict[str, object]) -> str:
        try:
            parse_config(data, tmp_path / "c.toml")
        except ConfigError as exc:
            return str(exc)
        raise AssertionError("accepted")

    hook = {"type": "webhook", "url": "http://127.0.0.1/"}
    assert "'notify[0].digest' is for email and apprise" in err({"notify": [{**hook, "digest": "1d"}]})
    assert "'notify[0].retry_max' must not be shorter" in err({"notify": [{**hook, "retry_base": "1h",
                                                                           "retry_max": "1m"}]})
    assert "'notify[0].url' or url_env" in err({"notify": [{"type": "apprise"}]})
    mail = {"type": "email", "host": "h", "sender": "s", "recipients": ["r"], "username": "u"}
    assert "'notify[0].password_file' and notify[0].password_env cannot both" in err(
        {"notify": [{**mail, "password_env": "X", "password_file": "f"}]})
    assert "'alerts.licensed_domains[0]' must be a lower-case host name" in err(
        {"alerts": {"licensed_domains": ["https://partner.example/"]}})
    assert "'alerts.recheck_interval'" in err({"alerts": {"recheck_interval": "daily"}})
    assert "unknown key 'owner.mail'" in err({"owner": {"mail": "x"}})
    cfg = parse_config({"notify": [{**mail, "password_file": "secrets/pw"}]}, tmp_path / "c.toml")
    assert cfg.notify[0].password_file == str(tmp_path / "secrets/pw")  # relative to the config file


def test_recheck_does_not_undo_a_change_made_while_it_runs(tmp_path: Path, http_dir: Callable[[Path], Served],
                                                           webhook: Webhook) -> None:
    """A recheck pass reads the alerts, then fetches each copy (minutes, paced). A person who ignores an
    alert meanwhile has the last word: the copy's 404 must not turn `ignored` into `removed` nor notify."""
    from http.server import BaseHTTPRequestHandler

    from monitor.store import Store
    from tests.conftest import serve

    hook = f'\n[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n'
    cfg, _site, served = copier_site(tmp_path, http_dir, hook)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}
    sent = len(webhook.received)

    class Gone(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.endswith(VERBATIM):  # the person acts while the pass is fetching this copy
                with Store(db) as other:
                    other.set_state(ids[VERBATIM], "ignored", note="licensed after all")
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    gone = serve(Gone)
    try:
        conn = sqlite3.connect(db)
        conn.execute("UPDATE alerts SET copy_url = replace(copy_url, ?, ?)", [served.base, gone.base])
        conn.commit()
        conn.close()
        r = provmon("--config", str(cfg), "recheck")
    finally:
        gone.stop()
    assert "1 gone" in r.out and f"REMOVED #{ids[SPUN]}" in r.out, r.out + r.err
    alerts = by_page(db)
    assert alerts[VERBATIM]["status"] == "ignored" and alerts[VERBATIM]["note"] == "licensed after all"
    assert alerts[SPUN]["status"] == "removed"
    told = [json.loads(req["body"])["alert"]["id"] for req in webhook.received[sent:]]
    assert told == [ids[SPUN]]
    events = [e["event"] for e in rows(db, "SELECT event FROM alert_events WHERE alert_id = ? ORDER BY id",
                                          ids[VERBATIM])]
    assert events[-1] == "ignored"


def test_recheck_after_the_original_changed_keeps_a_copy_of_the_old_text(tmp_path: Path,
                                                                         http_dir: Callable[[Path], Served]) -> None:
    """The publisher rewrites the original (tracked again: a new article for its URL); the copies online still
    copy the text they were found on, and are not "removed" (review)."""
    from monitor.store import Store

    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    with Store(db) as store:
        (url,) = {a["article_url"] for a in store.alerts()}
        other = (DEMO / "scraper" / "plant-garlic-in-autumn.html").read_text()  # an unrelated text, as the new one
        t = store.track_articles([(url, "Rewritten", other, [1, 2, 3])])[0]
        assert t.replaces is not None and {a["article_id"] for a in store.alerts()} == {t.id}
    r = provmon("--config", str(cfg), "recheck")
    assert "rechecked 2 copies: 0 gone, 0 back" in r.out, r.out + r.err
    assert {row["status"] for row in rows(db, "SELECT status FROM alerts")} == {"new"}


def test_alerts_and_the_alert_log_view_round_a_coverage_alike(tmp_path: Path) -> None:
    """One rounding rule, half up on the stored share (the view's round(coverage * 100)): 0.865 is 87% in the view, in
    `provmon alerts` and in messages (Python's `:.0%` said 86%)."""
    with sqlite3.connect(":memory:") as conn:
        for i in range(1001):
            share = round(i / 1000, 3)  # coverages are stored to three places
            assert f"{conn.execute('SELECT round(? * 100)', [share]).fetchone()[0]:.0f}%" == percent(share), share
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE alerts SET coverage = 0.865 WHERE id = 1")
    conn.close()
    assert rows(db, "SELECT coverage_pct FROM alert_log WHERE id = 1")[0][0] == 87
    line = next(x for x in provmon("--config", str(cfg), "alerts").out.splitlines() if x.startswith("#1 "))
    assert "  87%  credit:" in line, line
    with Store(db) as store:
        assert "Coverage:  87% of the article" in email_text(store.alert(1))
