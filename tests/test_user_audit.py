"""Defects a new-user audit found: an ignore that could not be undone, the same text tracked twice, webhook URL
secrets in messages, local paths in legal notices, config errors naming neither key nor file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config
from monitor.fingerprint import article_fingerprints_of
from monitor.notify import redacted_url
from monitor.store import Store
from tests.conftest import Served, Webhook, provmon, rows, write_config
from tests.test_alerts import SPUN, VERBATIM, by_page, copier_site


def test_ignore_list_and_undo(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    cfg, _, _ = copier_site(tmp_path, http_dir)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    db = tmp_path / "provmon.db"
    ids = {name: row["id"] for name, row in by_page(db).items()}
    assert provmon("--config", str(cfg), "ack", str(ids[VERBATIM])).code == 0
    before = {r["id"]: r["status"] for r in rows(db, "SELECT id, status FROM alerts")}

    r = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--site", "--note", "our partner")
    assert r.code == 0, r.err
    assert {row["status"] for row in rows(db, "SELECT status FROM alerts")} == {"ignored"}
    again = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--site")
    assert again.code == 0 and f"alert #{ids[SPUN]}: already ignored" in again.out
    assert "already ignored" in again.out.splitlines()[1] and len(rows(db, "SELECT id FROM ignore_rules")) == 1

    listed = provmon("--config", str(cfg), "ignore", "--list")
    assert listed.code == 0
    assert listed.out.startswith(f"rule #1: copies on site 'copier' (from alert #{ids[SPUN]}, itself ignored by id)"
                                 ), listed.out
    assert "1 other alert ignored by it; note: our partner" in listed.out

    undo = provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--undo")
    assert undo.code == 0, undo.err
    assert f"ignore rule #1 removed: copies on site 'copier' raise alerts again; no longer ignored: #{ids[VERBATIM]}" \
        in undo.out
    # Each alert is back in the state it was ignored from, and the change is an event.
    assert {r["id"]: r["status"] for r in rows(db, "SELECT id, status FROM alerts")} == before
    assert rows(db, "SELECT count(*) FROM ignore_rules")[0][0] == 0
    events = [e["event"] for e in rows(db, "SELECT event FROM alert_events WHERE alert_id = ? ORDER BY id",
                                          ids[VERBATIM])]
    assert events == ["detected", "acknowledged", "ignored", "unignored"]
    assert provmon("--config", str(cfg), "ignore", "--list").out.strip() == "no ignore rules"

    # --undo-rule removes one rule, keeping the alert it came from ignored; an unknown rule is an error.
    assert provmon("--config", str(cfg), "ignore", str(ids[SPUN]), "--pattern", "storm").code == 0
    assert by_page(db)[VERBATIM]["status"] == "acknowledged"
    r = provmon("--config", str(cfg), "ignore", "--undo-rule", "2")
    assert r.code == 0 and "ignore rule #2 removed" in r.out, r.out + r.err
    assert by_page(db)[SPUN]["status"] == "ignored"
    missing = provmon("--config", str(cfg), "ignore", "--undo-rule", "7")
    assert missing.code == 2 and "no ignore rule #7" in missing.err
    assert provmon("--config", str(cfg), "ignore").code == 2


STORY = ("Gulls nest on the ferry terminal roof in Brackwater\n\n"
         "Harbour staff in Brackwater have closed the upper deck of the ferry terminal after a colony of herring "
         "gulls built forty nests on its flat roof, the first time the birds have bred on the building since it "
         "opened in 1998.\n\n"
         "The port manager, Ilse Varden, said the deck would stay shut until the chicks fledge in late August, "
         "and that passengers could still board from the lower walkway without delay.\n\n"
         "A volunteer from the county bird group counted the nests on Tuesday morning and said the colony had "
         "moved from the old fish market, which was demolished in the spring to make room for new flats.\n")


def test_same_text_tracked_once_whitespace_aside(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    db = tmp_path / "provmon.db"
    variants = {
        "gulls.txt": STORY,
        "gulls-nl.txt": STORY + "\n\n",
        "gulls-crlf.txt": STORY.replace("\n", "\r\n"),
        "gulls-blank.txt": "  " + STORY.replace("\n\n", "\n\n\n\n").replace("gulls built", "gulls  built"),
    }
    for name, text in variants.items():
        (tmp_path / name).write_bytes(text.encode())
    first = provmon("--config", str(cfg), "track", str(tmp_path / "gulls.txt"))
    assert first.code == 0 and first.out.startswith("tracked #1"), first.out + first.err
    for name in list(variants)[1:]:
        r = provmon("--config", str(cfg), "track", str(tmp_path / name))
        assert r.code == 0 and r.out.startswith("already tracked #1"), (name, r.out, r.err)
    # The text stored is the file's own: .txt offsets count its characters.
    assert [r["text"] for r in rows(db, "SELECT text FROM articles")] == [STORY]
    # A text with one more word is another text.
    (tmp_path / "gulls-edit.txt").write_text(STORY.replace("forty nests", "forty-one nests"))
    assert provmon("--config", str(cfg), "track", str(tmp_path / "gulls-edit.txt")).out.startswith("tracked #2")


def test_store_rekeys_texts_of_an_older_store(tmp_path: Path) -> None:
    db = tmp_path / "provmon.db"
    with Store(db) as store:
        store.add_article("file:///a.txt", "a", STORY, article_fingerprints_of(STORY))
        store.db.execute("UPDATE articles SET sha256 = ?", [hashlib.sha256(STORY.encode()).hexdigest()])
        store.db.execute("DELETE FROM meta WHERE key = 'articles_text_key'")
    with Store(db) as store:
        crlf = STORY.replace("\n", "\r\n")
        assert store.add_article("file:///b.txt", "b", crlf, article_fingerprints_of(crlf)) == (1, False)


def story_as_txt_and_html(folder: Path) -> None:
    """STORY twice: gulls.txt as written, and gulls.html, its page with a headline, byline and site furniture."""
    (folder / "gulls.txt").write_text(STORY)
    paras = STORY.strip().split("\n\n")
    body = "".join(f"<p>{p}</p>" for p in paras[1:])
    (folder / "gulls.html").write_text(
        f"<!doctype html><html><head><title>{paras[0]} | Brackwater Bugle</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news/'>News</a></nav><article><h1>{paras[0]}</h1>"
        f"<p class='byline'>By Bugle staff, 4 May 2026</p>{body}</article>"
        "<footer>Copyright Brackwater Bugle. All rights reserved.</footer></body></html>")


def test_track_warns_of_a_near_duplicate_html_page(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    story_as_txt_and_html(tmp_path)
    assert provmon("--config", str(cfg), "track", str(tmp_path / "gulls.txt")).code == 0
    r = provmon("--config", str(cfg), "track", str(tmp_path / "gulls.html"), "--json")
    assert r.code == 0, r.err
    assert r.json_lines()[0]["created"] and r.json_lines()[0]["near_duplicate_of"] == 1
    assert "warning: #2 (file://" in r.err and "nearly the same text as #1" in r.err and "gulls.txt" in r.err
    # An unrelated text raises no warning.
    (tmp_path / "other.txt").write_text(
        "The Brackwater allotment society has voted to let members keep bees on six plots from next spring, after "
        "a trial on the north field produced forty jars of honey and no complaints from neighbouring gardens. "
        "Hives must stand two metres from any path and members must attend a training day first.\n")
    r = provmon("--config", str(cfg), "track", str(tmp_path / "other.txt"))
    assert r.code == 0 and "warning" not in r.err


def test_the_service_warns_of_near_duplicate_track_entries(tmp_path: Path) -> None:
    """[[track]] entries are tracked by the service, whose log is where the user looks: the same warning as
    `provmon track`'s, once, when the second text is tracked."""
    story_as_txt_and_html(tmp_path)
    cfg = write_config(tmp_path / "config.toml", f'[[track]]\nsource = "{tmp_path / "gulls.txt"}"\n\n'
                                                   f'[[track]]\nsource = "{tmp_path / "gulls.html"}"\n')
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    warnings = [line for line in r.err.splitlines() if "nearly the same text" in line]
    assert len(warnings) == 1, r.err
    assert "WARNING" in warnings[0] and "track: #2 (file://" in warnings[0], warnings[0]
    assert "gulls.html) is nearly the same text as #1" in warnings[0] and "gulls.txt), " in warnings[0], warnings[0]
    again = provmon("--config", str(cfg), "run", "--once")
    assert again.code == 0 and "nearly the same text" not in again.err, again.err
    # Where each was read from is recorded, as `provmon track` records it (schema 16).
    assert [r["source"] for r in rows(tmp_path / "provmon.db", "SELECT source FROM articles ORDER BY id")] == \
        [(tmp_path / "gulls.txt").as_uri(), (tmp_path / "gulls.html").as_uri()]


def test_redacted_url_hides_path_query_and_userinfo() -> None:
    assert redacted_url("https://hooks.example/hooks/T0/B0/SeCrEt?key=K") == "https://hooks.example/…"
    assert redacted_url("http://user:pw@127.0.0.1:8803/x?key=K#f") == "http://127.0.0.1:8803/…"
    assert redacted_url("https://hooks.example") == "https://hooks.example/"
    assert redacted_url("http://[::1]:99/a") == "http://[::1]:99/…"


def hook_config(tmp_path: Path, body: str) -> Path:
    return write_config(tmp_path / "config.toml", f'[[notify]]\ntype = "webhook"\nname = "slowhook"\n{body}\n')


def test_webhook_url_from_env_or_credential_and_never_shown(tmp_path: Path, webhook: Webhook) -> None:
    secret_url = webhook.url.replace("://", "://user:PaSsWoRd@") + "/T0/B0/SeCrEtPaThToKeN?key=SECRETKEY"
    webhook.status[0] = 500
    cfg = hook_config(tmp_path, 'url_env = "PROVMON_TEST_HOOK_URL"')
    r = provmon("--config", str(cfg), "notify", "--test", env={"PROVMON_TEST_HOOK_URL": secret_url})
    assert r.code == 1 and webhook.received, r.out + r.err
    assert webhook.received[0]["path"] == "/hook/T0/B0/SeCrEtPaThToKeN?key=SECRETKEY"  # the real URL was used
    shown = r.out + r.err
    assert f"slowhook: POST http://127.0.0.1:{webhook.served.server.server_address[1]}/…: HTTP 500" in shown
    for secret in ("SeCrEt", "SECRETKEY", "PaSsWoRd", "user"):
        assert secret not in shown, shown
    unset = provmon("--config", str(cfg), "notify", "--test")
    assert unset.code == 1 and "environment variable PROVMON_TEST_HOOK_URL (webhook URL) is not set" in unset.out
    # A systemd credential, as for the SMTP password; a URL in config.toml is shown redacted too.
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "hook-url").write_text(secret_url + "\n")
    cfg = hook_config(tmp_path, 'url_credential = "hook-url"')
    r = provmon("--config", str(cfg), "notify", "--test", env={"CREDENTIALS_DIRECTORY": str(creds)})
    assert r.code == 1 and len(webhook.received) == 2 and "SECRETKEY" not in r.out + r.err
    cfg = hook_config(tmp_path, f'url = "{secret_url}"')
    r = provmon("--config", str(cfg), "notify", "--test")
    assert r.code == 1 and "HTTP 500" in r.out and "SECRETKEY" not in r.out + r.err
    # Refused at load, naming the key and the file.
    for body, key, why in (
        ('url_env = "https://hooks.example/T0/B0/SECRETKEY"', "url_env", "must name an environment variable"),
        ('url = "http://a.example/x"\nurl_env = "HOOK_URL"', "url_env", "and notify[0].url cannot both be set"),
        ("", "url", "(or url_env, url_file, url_credential) is required for a webhook"),
    ):
        cfg = hook_config(tmp_path, body)
        r = provmon("--config", str(cfg), "notify", "--test")
        assert r.code == 2 and f"{cfg}: 'notify[0].{key}' {why}" in r.err, r.err
        assert "SECRETKEY" not in r.err


def gull_page(canonical: str, extra: str = "") -> str:
    paras = STORY.strip().split("\n\n")
    body = "".join(f"<p>{p}</p>" for p in paras[1:])
    return (f"<!doctype html><html><head><title>{paras[0]}</title><link rel=canonical href={canonical}></head>"
            f"<body><article><h1>{paras[0]}</h1>{body}{extra}</article></body></html>")


def test_file_original_is_tracked_under_its_public_canonical_url(tmp_path: Path,
                                                                 http_dir: Callable[[Path], Served]) -> None:
    # The publisher's site (its own page, as online) and a copier's, on loopback.
    pub_root, copier_root = tmp_path / "pubsite", tmp_path / "copier"
    (pub_root / "news").mkdir(parents=True)
    copier_root.mkdir()
    pub = http_dir(pub_root)
    public = f"{pub.base}/news/gulls.html"
    (pub_root / "news" / "gulls.html").write_text(gull_page(public))
    (pub_root / "index.html").write_text('<html><body><a href="news/gulls.html">gulls</a></body></html>')
    copier = http_dir(copier_root)
    (copier_root / "gulls.html").write_text(gull_page(f"{copier.base}/gulls.html",
                                                      f'<p>Source: <a href="{public}">the Bugle</a></p>'))
    (copier_root / "index.html").write_text('<html><body><a href="gulls.html">gulls</a></body></html>')
    local = tmp_path / "drafts" / "gulls.html"
    local.parent.mkdir()
    local.write_text(gull_page(public))
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0

[owner]
name = "Rosa Quill"
email = "rights@quill.example"
organisation = "Brackwater Bugle"

[[sites]]
name = "publisher"
start_urls = ["{pub.base}/index.html"]
allow_private = true

[[sites]]
name = "copier"
start_urls = ["{copier.base}/index.html"]
allow_private = true
""")
    r = provmon("--config", str(cfg), "track", str(local), "--json")
    assert r.code == 0, r.err
    line = r.json_lines()[0]
    assert line["article_url"] == public and line["source"] == local.as_uri() and line["created"]
    again = provmon("--config", str(cfg), "track", str(local), "--json").json_lines()[0]
    assert again["id"] == line["id"] and not again["created"]
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.out + r.err
    alerts = rows(tmp_path / "provmon.db", "SELECT id, site, credit, article_url FROM alerts")
    # The publisher's own page is the original; the copy linking the public URL is credited.
    assert [(a["site"], a["credit"], a["article_url"]) for a in alerts] == [("copier", "link", public)]
    notice = provmon("--config", str(cfg), "notice", str(alerts[0]["id"]))
    assert notice.code == 0, notice.err
    assert f"published by Brackwater Bugle at\n   {public}" in notice.out and "file://" not in notice.out


def test_notice_of_a_file_original_asks_for_its_public_url(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    copier_root = tmp_path / "copier"
    copier_root.mkdir()
    copier = http_dir(copier_root)
    (copier_root / "gulls.html").write_text(gull_page(f"{copier.base}/gulls.html"))
    (copier_root / "index.html").write_text('<html><body><a href="gulls.html">gulls</a></body></html>')
    (tmp_path / "gulls.txt").write_text(STORY)
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0

[owner]
name = "Rosa Quill"
email = "rights@quill.example"

[[track]]
source = "{tmp_path / 'gulls.txt'}"

[[sites]]
name = "copier"
start_urls = ["{copier.base}/index.html"]
allow_private = true
""")
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    notice = provmon("--config", str(cfg), "notice", "1")
    assert notice.code == 0, notice.err
    assert "published by Rosa Quill at\n   [FILL IN: the article's public URL" in notice.out
    assert "file://" not in notice.out

    # `track --url` gives the text its public address (a .txt names none): the notice cites it from then on, and the
    # [[track]] entry reading the same file at the next start keeps it.
    r = provmon("--config", str(cfg), "track", str(tmp_path / "gulls.txt"), "--url",
                "https://quill.example/2026/gulls?utm_source=rss")
    was = (tmp_path / "gulls.txt").as_uri()
    assert r.code == 0 and r.out.startswith("already tracked #1: ") and (
        f", public URL set (was {was})) https://quill.example/2026/gulls\n") in r.out, r.out
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    notice = provmon("--config", str(cfg), "notice", "1")
    assert "published by Rosa Quill at\n   https://quill.example/2026/gulls\n" in notice.out, notice.out
    assert "FILL IN: the article's public URL" not in notice.out and "file://" not in notice.out


def test_track_url_gives_a_text_file_its_public_address(tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    """A .txt tracked with --url is tracked under that address (without analytics parameters), keeps the file as its
    source, and the alert and the notice cite it. --url takes one source and an http(s) URL."""
    copier_root = tmp_path / "copier"
    copier_root.mkdir()
    copier = http_dir(copier_root)
    (copier_root / "gulls.html").write_text(gull_page(f"{copier.base}/gulls.html"))
    (copier_root / "index.html").write_text('<html><body><a href="gulls.html">gulls</a></body></html>')
    story = tmp_path / "gulls.txt"
    story.write_text(STORY)
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0

[owner]
name = "Rosa Quill"
email = "rights@quill.example"

[[sites]]
name = "copier"
start_urls = ["{copier.base}/index.html"]
allow_private = true
""")
    for bad in ("ftp://quill.example/gulls", "quill.example/gulls", "https:///gulls"):
        r = provmon("--config", str(cfg), "track", str(story), "--url", bad)
        assert r.code == 2 and f"argument --url: {bad!r} is not an http:// or https:// URL" in r.err, r.err
    (tmp_path / "other.txt").write_text("Another story\n\nIts text.\n")
    two = provmon("--config", str(cfg), "track", str(story), str(tmp_path / "other.txt"), "--url",
                  "https://quill.example/gulls")
    assert two.code == 2 and "--url names one article, but 2 sources were given" in two.err, two.err
    r = provmon("--config", str(cfg), "track", "--json", str(story), "--url", "https://quill.example/gulls?utm_medium=x")
    assert r.code == 0, r.err
    (line,) = r.json_lines()
    assert (line["article_url"], line["source"], line["created"]) == ("https://quill.example/gulls", story.as_uri(),
                                                                      True)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert [r["article_url"] for r in rows(tmp_path / "provmon.db", "SELECT article_url FROM alerts")] == [
        "https://quill.example/gulls"]
    notice = provmon("--config", str(cfg), "notice", "1")
    assert "published by Rosa Quill at\n   https://quill.example/gulls\n" in notice.out, notice.out


def test_config_errors_name_the_key_and_the_full_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad").mkdir()
    empty = tmp_path / "bad" / "config.toml"
    empty.write_text('[monitor]\ndatabase = ""\n')
    r = provmon("--config", str(empty), "status")
    assert r.code == 2 and f"{empty}: 'monitor.database' must not be empty" in r.err, r.err
    broken = tmp_path / "bad" / "broken.toml"
    broken.write_text("[monitor\n")
    monkeypatch.chdir(tmp_path)  # given relative, named in full as the other errors name it
    with pytest.raises(ConfigError, match=f"^{re.escape(str(broken))}: not valid TOML"):
        load_config("bad/broken.toml")


def test_track_entry_url_key_gives_a_text_file_its_public_address(tmp_path: Path) -> None:
    """A [[track]] entry's `url` (as track --url): the file is tracked under that address from the first start, a
    changed file replaces its article there (one article, not a second at the file's URL), and a bad one is refused
    at load naming the key."""
    story = tmp_path / "gulls.txt"
    story.write_text(STORY)
    body = f"""
[[track]]
source = "{story}"
url = "https://quill.example/2026/gulls?utm_source=rss"
"""
    cfg = write_config(tmp_path / "config.toml", body)
    db = tmp_path / "provmon.db"
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    assert [(r["id"], r["url"]) for r in rows(db, "SELECT id, url FROM articles")] == [
        (1, "https://quill.example/2026/gulls")]
    story.write_text(STORY + "\nA correction was added to this story on Tuesday.\n")
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    current = [(r["id"], r["url"]) for r in rows(db, "SELECT id, url FROM articles WHERE replaced_by IS NULL")]
    assert current == [(2, "https://quill.example/2026/gulls")], current
    assert {r["url"] for r in rows(db, "SELECT url FROM articles")} == {"https://quill.example/2026/gulls"}

    # The same file tracked before without the key keeps its article, now under the public address.
    plain = tmp_path / "plain"
    plain.mkdir()
    cfg2 = write_config(plain / "config.toml", f'[[track]]\nsource = "{story}"\n')
    assert provmon("--config", str(cfg2), "run", "--once").code == 0
    (plain / "config.toml").write_text((plain / "config.toml").read_text().replace(
        f'source = "{story}"', f'source = "{story}"\nurl = "https://quill.example/gulls-2"'))
    assert provmon("--config", str(cfg2), "run", "--once").code == 0
    assert [r["url"] for r in rows(plain / "provmon.db", "SELECT url FROM articles")] == ["https://quill.example/gulls-2"]

    for bad in ("ftp://quill.example/gulls", "quill.example/gulls"):
        write_config(tmp_path / "bad.toml", body.replace("https://quill.example/2026/gulls?utm_source=rss", bad))
        r = provmon("--config", str(tmp_path / "bad.toml"), "status")
        assert r.code == 2 and "'track[0].url'" in r.err and f"{bad!r} is not an http:// or https:// URL" in r.err, \
            r.err
