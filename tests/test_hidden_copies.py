"""A copy kept in a page's markup for search engines and hidden from readers when the page loads: found like any
copy, and its alert says how much of it is hidden, in the log, the listing, the email, the webhook, the report and the
takedown draft (a person opening the page would otherwise see no copy and think the alert wrong). Against a real
loopback copier site, a real webhook receiver and a real SQLite file, through the real command line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from monitor.alerts import email_text
from monitor.store import Store
from tests.conftest import DEMO, Mailbox, Served, Webhook, old_database, provmon, rows, serve, write_config

ORIGINAL = DEMO / "publisher" / "sea-wall-gives-way.html"
GARLIC = DEMO / "scraper" / "plant-garlic-in-autumn.html"
COPY = (DEMO / "scraper" / "sea-wall-gives-way.html").read_text(encoding="utf-8")
OWN = ("<p>Our kitchen column this week is about soups for cold evenings, with three recipes that use what is left "
       "in the vegetable drawer at the end of the week.</p>")


def cloaked(how: str) -> str:
    """The scraper's copy of the sea-wall story with its article body hidden `how`, after a visible paragraph."""
    return COPY.replace('<div class="entry-content">', f'<div class="entry-content">{OWN}<div {how}>', 1).replace(
        "<p><strong>Daily Coast Digest</strong></p>", "<p><strong>Daily Coast Digest</strong></p></div>", 1)


@pytest.fixture
def site() -> Iterator[tuple[Served, dict[str, str]]]:
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/":
                body: str | None = "<html><body>" + "".join(f"<a href='{p}'>{p}</a> " for p in pages) + "</body></html>"
            else:
                body = pages.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode())

        def log_message(self, *args: Any) -> None:
            pass

    served = serve(Handler)
    yield served, pages
    served.stop()


def config(tmp_path: Path, base: str, webhook: Webhook) -> Path:
    (tmp_path / "pub").mkdir()
    garlic = tmp_path / "pub" / "garlic.html"  # a second tracked article, copied as it is
    garlic.write_bytes(GARLIC.read_bytes())
    return write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
obey_robots = false
max_retries = 0

[[track]]
source = "{ORIGINAL}"

[[track]]
source = "{garlic}"

[[sites]]
name = "copier"
start_urls = ["{base}/"]
allow_private = true
max_depth = 1

[owner]
name = "Ada Marsh"
email = "rights@herald.example"

[[notify]]
type = "webhook"
url = "{webhook.url}"
""")


@pytest.mark.parametrize("how", ["hidden", "style='display:none'", "class='seo-only'"])
def test_a_hidden_copy_is_alerted_and_says_it_is_hidden(tmp_path: Path, site: tuple[Served, dict[str, str]],
                                                        webhook: Webhook, how: str) -> None:
    served, pages = site
    page = cloaked(how)
    if "seo-only" in how:
        page = page.replace("</head>", "<style>.seo-only{position:absolute;left:-10000px}</style></head>", 1)
    pages["/cloaked/"] = page
    pages["/garlic/"] = GARLIC.read_text(encoding="utf-8")
    cfg = config(tmp_path, served.base, webhook)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err
    db = tmp_path / "provmon.db"
    by_page = {row["copy_url"].rsplit("/", 2)[-2]: row for row in rows(db, "SELECT * FROM alerts")}
    assert set(by_page) == {"cloaked", "garlic"}
    assert by_page["cloaked"]["hidden"] > 0.9  # the whole copy is in the hidden block
    assert by_page["garlic"]["hidden"] == 0  # a copy readers see
    cloak_id = by_page["cloaked"]["id"]
    assert rows(db, "SELECT hidden FROM alert_log WHERE id = ?", cloak_id)[0]["hidden"] > 0.9

    sent = {m["alert"]["id"]: m["alert"] for m in (json.loads(r["body"]) for r in webhook.received)}
    assert sent[cloak_id]["hidden"] > 0.9 and sent[by_page["garlic"]["id"]]["hidden"] == 0

    listing = provmon("--config", str(cfg), "alerts").out
    assert listing.count("hidden from readers") == 1
    assert json.loads(provmon("--config", str(cfg), "alerts", "--json").out.splitlines()[-1])["hidden"] >= 0
    with Store(db) as store:
        text = email_text({**store.alert(cloak_id), "passages": []})
        plain = email_text({**store.alert(by_page["garlic"]["id"]), "passages": []})
    assert "Hidden:" in text and "not shown to a reader" in text
    assert "Hidden:" not in plain
    notice = provmon("--config", str(cfg), "notice", str(cloak_id)).out
    assert "hidden from view when the page loads" in notice
    assert "hidden from view" not in provmon("--config", str(cfg), "notice", str(by_page["garlic"]["id"])).out
    report = tmp_path / "report.html"
    assert provmon("--config", str(cfg), "report", str(cloak_id), "--output", str(report)).code == 0
    assert "hidden from readers" in report.read_text(encoding="utf-8")


def test_alerts_raised_before_hidden_was_recorded_read_as_not_hidden(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = old_database(db, 11)
    conn.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) VALUES "
                 "(1, 'https://herald.example/a', 'A', 'Some text.', 'x', '2026-01-01T00:00:00Z')")
    conn.execute("INSERT INTO alerts (created_at, article_id, article_title, article_url, copy_url, site, kind, "
                 "coverage, page_share) VALUES ('2026-01-02T00:00:00Z', 1, 'A', 'https://herald.example/a', "
                 "'https://copier.example/a', 'copier', 'verbatim', 1.0, 1.0)")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.alert(1)["hidden"] == 0
    assert rows(db, "SELECT hidden FROM alert_log")[0]["hidden"] == 0


def test_check_says_how_much_of_a_copy_is_hidden(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", f'[[track]]\nsource = "{ORIGINAL}"\n')
    assert provmon("--config", str(cfg), "track", str(ORIGINAL)).code == 0
    page, shown = tmp_path / "cloaked.html", tmp_path / "shown.html"
    page.write_text(cloaked("hidden"), encoding="utf-8")
    shown.write_text(COPY, encoding="utf-8")
    out = [json.loads(line) for line in provmon("--config", str(cfg), "check", "--json", str(page), str(shown)).out
           .splitlines()]
    assert [c["hidden"] for o in out for c in o["copies"]] == [pytest.approx(1.0, abs=0.05), 0.0]
    text = provmon("--config", str(cfg), "check", str(page)).out
    assert "hidden when the page loads" in text
    assert "hidden when the page loads" not in provmon("--config", str(cfg), "check", str(shown)).out


def test_the_email_a_mail_client_shows_says_where_and_how_hidden(tmp_path: Path, site: tuple[Served, dict[str, str]],
                                                                 webhook: Webhook, smtp_server: Mailbox) -> None:
    """Mail clients show the HTML part of the message: it has the hidden share and every address too, as the
    plain-text part does."""
    served, pages = site
    pages["/cloaked/"] = pages["/cloaked/index.html"] = cloaked("hidden")  # one copy at two addresses
    cfg = config(tmp_path, served.base, webhook)
    with cfg.open("a", encoding="utf-8") as f:
        f.write(f'\n[[notify]]\ntype = "email"\nhost = "{smtp_server.host}"\nport = {smtp_server.port}\n'
                f'sender = "provmon@localhost"\nrecipients = ["editor@localhost"]\n')
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err
    (alert,) = rows(tmp_path / "provmon.db", "SELECT * FROM alerts")
    other = next(served.base + p for p in ("/cloaked/", "/cloaked/index.html") if served.base + p != alert["copy_url"])
    (msg,) = smtp_server.messages
    text, page = msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()
    assert f"Also at:   {other}" in text and "Hidden:" in text
    assert "Also at" in page and f'href="{other}"' in page, page
    assert "Hidden" in page and "hidden when the page loads" in page, page


def _paragraphs_of_the_copy() -> list[str]:
    body = COPY.split('<div class="entry-content">', 1)[1].split("<p><strong>Daily Coast Digest</strong></p>", 1)[0]
    return [p + "</p>" for p in body.split("</p>") if "<p>" in p]


def test_what_a_reader_sees_elsewhere_on_the_page_is_not_hidden(tmp_path: Path) -> None:
    """A "read more" page: the first half of the copy shown, the whole copy (the first half again) in a hidden block.
    A paragraph shown somewhere on the page is read, whichever of its two places the passages point into: about
    half of the copy is hidden, not all of it."""
    cfg = write_config(tmp_path / "config.toml", f'[[track]]\nsource = "{ORIGINAL}"\n')
    assert provmon("--config", str(cfg), "track", str(ORIGINAL)).code == 0
    paras = _paragraphs_of_the_copy()
    half = len(paras) // 2
    page = tmp_path / "read-more.html"
    page.write_text(f"<html><head><title>Sea wall</title></head><body><div class='entry'>{''.join(paras[:half])}"
                    f"<button>Read more</button><div hidden>{''.join(paras)}</div></div></body></html>",
                    encoding="utf-8")
    (out,) = provmon("--config", str(cfg), "check", "--json", str(page)).json_lines()
    (copy,) = out["copies"]
    assert copy["kind"] == "verbatim"
    assert 0.3 < copy["hidden"] < 0.6, copy["hidden"]
    shown = provmon("--config", str(cfg), "extract", "--json", str(page)).json_lines()[0]
    assert all(p not in shown["hidden"] for p in shown["text"].split("\n\n")[:half])  # shown above: not hidden


def test_a_hidden_block_of_preformatted_text_is_hidden(tmp_path: Path) -> None:
    """A copy hidden in a <pre> (or <textarea>) keeps its blank lines: one paragraph of the text holding several,
    still counted as hidden."""
    cfg = write_config(tmp_path / "config.toml", f'[[track]]\nsource = "{ORIGINAL}"\n')
    assert provmon("--config", str(cfg), "track", str(ORIGINAL)).code == 0
    plain = "\n\n".join(re.sub(r"<[^>]+>", "", p) for p in _paragraphs_of_the_copy())
    for tag in ("pre", "textarea"):
        page = tmp_path / f"{tag}.html"
        page.write_text(f"<html><body>{OWN}<div hidden><{tag}>{plain}</{tag}></div></body></html>", encoding="utf-8")
        (out,) = provmon("--config", str(cfg), "check", "--json", str(page)).json_lines()
        (copy,) = out["copies"]
        assert copy["hidden"] > 0.9, (tag, copy["hidden"])
