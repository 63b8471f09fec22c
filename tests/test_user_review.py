"""Small behaviours an end-to-end review of session 23 asked for: the stored length of a text tracked again, a
text too short ever to be found, a database path that is a directory, and test notifications that differ."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DEMO, Webhook, demo_config, provmon, write_config
from tests.test_match import ARTICLE
from tests.test_untrack import PUBLIC


def test_already_tracked_says_the_stored_texts_length(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "crlf.txt").write_bytes(ARTICLE.replace("\n", "\r\n").encode() + b"\r\n\r\n")
    first = provmon("--config", str(cfg), "track", "--json", str(tmp_path / "a.txt")).json_lines()[0]
    again = provmon("--config", str(cfg), "track", "--json", str(tmp_path / "crlf.txt")).json_lines()[0]
    assert (again["id"], again["created"]) == (first["id"], False)
    assert again["chars"] == first["chars"] == len(ARTICLE)
    text = provmon("--config", str(cfg), "track", str(tmp_path / "crlf.txt")).out
    assert f"({len(ARTICLE):,} chars)" in text or f"({len(ARTICLE)} chars)" in text, text


def test_a_text_too_short_to_be_found_is_tracked_with_a_warning(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    (tmp_path / "short.txt").write_text("Short.\n", encoding="utf-8")
    (tmp_path / "two.txt").write_text("The old mill burned down on Tuesday night.\n\nFirefighters saved the "
                                      "miller's cottage beside the river.\n", encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(tmp_path / "short.txt"), str(tmp_path / "two.txt"))
    assert r.code == 0, r.err
    assert r.err.strip() == ("warning: #1 is too short to be found in a copy: a copy needs 2 of its sentences with 3 "
                             "or more words that are not stop words (match.min_run), and it has fewer")


def test_a_database_path_that_is_a_directory_is_named_so(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    cfg = write_config(tmp_path / "c.toml", "", database=tmp_path / "db")
    r = provmon("--config", str(cfg), "status")
    assert r.code == 2
    why = "cannot open database: it is a directory (monitor.database names the SQLite file)"
    assert f"{tmp_path / 'db'}: {why}" in r.err, r.err


def test_two_test_notifications_never_share_a_key(tmp_path: Path, webhook: Webhook) -> None:
    """A receiver that drops repeated idempotency keys (or Message-IDs) must not drop the second of two tests sent
    within one second."""
    cfg = write_config(tmp_path / "c.toml", f'[[notify]]\ntype = "webhook"\nurl = "{webhook.url}"\n')
    for _ in range(2):
        r = provmon("--config", str(cfg), "notify", "--test")
        assert r.code == 0, r.out + r.err
    keys = [h["headers"]["idempotency-key"] for h in webhook.received]
    assert len(keys) == 2 and keys[0] != keys[1] and all(k.startswith("provmon-test-") for k in keys)


def test_alerts_and_the_notice_cite_the_work_by_its_title_as_it_is_now(tmp_path: Path) -> None:
    """A title corrected after the alert (track --title), or a new version of the article: its alerts follow."""
    cfg = demo_config(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('name = ""', 'name = "Rosa Quill"', 1)
                   .replace('email = ""', 'email = "rights@quill.example"', 1), encoding="utf-8")
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    alerts = provmon("--config", str(cfg), "alerts", "--json").json_lines()
    assert alerts and all(a["article"]["id"] == 1 for a in alerts)
    source = DEMO / "publisher" / "sea-wall-gives-way.html"
    renamed = "Sea wall gives way at Marren after the storm"
    assert provmon("--config", str(cfg), "track", str(source), "--title", renamed).code == 0
    assert {a["article"]["title"] for a in provmon("--config", str(cfg), "alerts", "--json").json_lines()} == {renamed}
    notice = provmon("--config", str(cfg), "notice", str(alerts[0]["id"]))
    assert notice.code == 0, notice.err
    assert f'"{renamed}"' in notice.out

    # A new version of the article (its text edited, tracked again under its address): the alerts move to it and
    # take its title.
    edited = tmp_path / "edited.html"
    edited.write_text(source.read_text(encoding="utf-8").replace(
        "within three days", "within four days, the board said on Wednesday after a second inspection,"),
                      encoding="utf-8")
    newer = "Sea wall gives way: an update"
    r = provmon("--config", str(cfg), "track", str(edited), "--url", PUBLIC, "--title", newer, "--json")
    assert r.code == 0, r.err
    (tracked,) = r.json_lines()
    assert tracked["created"] and tracked["replaces"] == 1, tracked
    listed = provmon("--config", str(cfg), "alerts", "--json").json_lines()
    assert {(a["article"]["id"], a["article"]["title"]) for a in listed} == {(tracked["id"], newer)}


def test_check_names_the_open_alert_of_a_page_it_finds_no_copy_on(tmp_path: Path) -> None:
    """The article was tracked again with a new text: a page copying the old one is no copy of the new (check), while
    its alert stays open (the recheck matches the old version too). check says so instead of contradicting it."""
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    alerts = provmon("--config", str(cfg), "alerts", "--json").json_lines()
    page = alerts[0]["copy_url"]
    newer = tmp_path / "newer.txt"
    newer.write_text(ARTICLE, encoding="utf-8")  # another story under the same address: a new version of #1
    (tracked,) = provmon("--config", str(cfg), "track", "--json", str(newer), "--url", PUBLIC).json_lines()
    assert tracked["replaces"] == 1
    r = provmon("--config", str(cfg), "check", page)
    assert r.code == 1, r.out + r.err
    assert (f"  note: alert #{alerts[0]['id']} ({alerts[0]['status']}) is open for this page: it copies an earlier "
            f"version of #{tracked['id']} (#1), which its rechecks still find") in r.out, r.out
    (result,) = provmon("--config", str(cfg), "check", "--json", page).json_lines()
    assert result["copies"] == [] and result["open_alerts"] == [
        {"id": alerts[0]["id"], "status": alerts[0]["status"], "article": tracked["id"], "earlier_version": True}]


def test_alerts_of_a_site_nobody_knows_says_so(tmp_path: Path) -> None:
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    r = provmon("--config", str(cfg), "alerts", "--site", "demo-scrapper")
    assert r.code == 0
    assert r.out.strip() == (f"no alerts (no [[sites]] entry of {cfg} is named 'demo-scrapper', and no alert was ever "
                             "raised on a site of that name)")
    known = provmon("--config", str(cfg), "alerts", "--site", "demo-scraper", "--state", "ignored")
    assert known.out.strip() == "no alerts"
