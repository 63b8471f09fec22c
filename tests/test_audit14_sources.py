"""Session 14's audit, F3, F4 and F7: where a tracked article was read from is kept (articles.source, schema 16).

F3: `check` of the file an article was tracked from, or of a page of its own site naming it as canonical, said
"COPY (verbatim)" of the article itself. F4: after `track FILE --url URL`, tracking the edited file again added a
second article (two alerts per copy). F7: "already tracked" and `article_url` named the input, not the address the
article is stored under."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from monitor.store import SCHEMA_VERSION, Store
from tests.conftest import DEMO, Served, demo_config, old_database, provmon, rows, write_config
from tests.test_match import ARTICLE, PARAGRAPHS
from tests.test_user_audit import STORY

PUBLIC = "https://herald.example/news/harborton-fire"


def html_page(canonical: str, paragraphs: list[str], title: str = "Fire at the grain terminal") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><title>{title}</title><link rel=\"canonical\" href=\"{canonical}\">"
            f"</head><body><nav><a href=\"/\">Home</a></nav><article><h1>{title}</h1>{body}</article></body></html>")


def test_check_of_the_file_an_article_was_tracked_from_is_that_article(tmp_path: Path) -> None:
    """Before: `provmon track DIR && provmon check DIR/page.html` called the HTML original a verbatim COPY of itself
    (exit 0), and so for a .txt tracked with --url."""
    orig = tmp_path / "orig"
    orig.mkdir()
    (orig / "page.html").write_text(html_page(PUBLIC, PARAGRAPHS))
    cfg = write_config(tmp_path / "c.toml", "")
    assert provmon("--config", str(cfg), "track", str(orig)).code == 0
    # The same page saved from a copier's site keeps the original's canonical tag: still a copy.
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "grabbed.html").write_text(html_page(PUBLIC, PARAGRAPHS, "Grabbed"))

    r = provmon("--config", str(cfg), "check", "--json", str(orig / "page.html"), str(saved / "grabbed.html"))
    own, grabbed = r.json_lines()
    assert own["copies"] == [] and own["note"] == f"the tracked article #1 itself, at {PUBLIC}", r.out
    assert [c["article"]["id"] for c in grabbed["copies"]] == [1], r.out
    r = provmon("--config", str(cfg), "check", str(orig / "page.html"))
    assert r.code == 1 and f"no copy of a tracked article (the tracked article #1 itself, at {PUBLIC})" in r.out, \
        r.out + r.err

    # A .txt given its public address: it is the article at that address, not a copy of it.
    txt = tmp_path / "fire.txt"
    txt.write_text(ARTICLE.replace("HARBORTON", "HARBOURTON"))
    cfg2 = write_config(tmp_path / "c2.toml", "", database=tmp_path / "two.db")
    assert provmon("--config", str(cfg2), "track", str(txt), "--url", PUBLIC).code == 0
    r = provmon("--config", str(cfg2), "check", str(txt))
    assert r.code == 1 and "(the tracked article #1 itself, at https://herald.example/news/harborton-fire)" in r.out, \
        r.out + r.err


def test_check_of_a_tracked_source_given_a_url_in_the_config_and_of_the_sites_own_page(
        tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    """A [[track]] entry's file with a `url`, and a page of the publisher's site whose canonical is the article
    (a feed's copy of it), as the site scan already decides."""
    site = tmp_path / "pub"
    site.mkdir()
    served = http_dir(site)
    (site / "fire.html").write_text(html_page(f"{served.base}/fire.html", PARAGRAPHS))
    (site / "fire-feed.html").write_text(html_page(f"{served.base}/fire.html", PARAGRAPHS, "From the feed"))
    txt = tmp_path / "gulls.txt"
    txt.write_text(STORY)
    cfg = write_config(tmp_path / "c.toml", f"""
[[track]]
source = "{txt}"
url = "{PUBLIC}"
[[track]]
source = "{served.base}/fire.html"
""")
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    r = provmon("--config", str(cfg), "check", "--json", str(txt), f"{served.base}/fire-feed.html")
    mine, feed = r.json_lines()
    assert r.code == 1, r.out + r.err
    assert mine["copies"] == [] and mine["note"].endswith(f"itself, at {PUBLIC}"), mine
    assert feed["copies"] == [] and feed["note"].endswith(f"itself, at {served.base}/fire.html"), feed


def test_an_edited_file_tracked_again_replaces_its_article_at_its_public_url(tmp_path: Path) -> None:
    """Before: `track FILE --url URL`, edit FILE, `track FILE` made a second current article under the file's
    URL (each copy then raised two alerts), with a "100% alike" warning."""
    cfg = write_config(tmp_path / "c.toml", "")
    db = tmp_path / "provmon.db"
    txt = tmp_path / "fire.txt"
    txt.write_text(ARTICLE)
    first = provmon("--config", str(cfg), "track", "--json", str(txt), "--url", PUBLIC + "?utm_source=x")
    assert first.code == 0 and first.json_lines()[0]["article_url"] == PUBLIC, first.out + first.err
    txt.write_text(ARTICLE.replace("about 300 residents", "about 320 residents"))
    again = provmon("--config", str(cfg), "track", "--json", str(txt))
    (line,) = again.json_lines()
    assert again.code == 0 and line["created"] and line["replaces"] == 1, again.out + again.err
    assert line["article_url"] == PUBLIC and line["source"] == txt.resolve().as_uri(), line
    assert "nearly the same text" not in again.err, again.err
    current = rows(db, "SELECT id, url, source FROM articles WHERE replaced_by IS NULL")
    assert [(r["id"], r["url"], r["source"]) for r in current] == [(2, PUBLIC, txt.resolve().as_uri())]

    # F7: tracking it once more names the address it is stored under, not the file's.
    plain = provmon("--config", str(cfg), "track", str(txt))
    assert plain.out.startswith("already tracked #2: ") and plain.out.rstrip().endswith(f") {PUBLIC}"), plain.out

    # A file a [[track]] entry gives a url is tracked there by `provmon track FILE` too, not under its file URL.
    gulls = tmp_path / "gulls.txt"
    gulls.write_text(STORY)
    cfg2 = write_config(tmp_path / "c2.toml", f'[[track]]\nsource = "{gulls}"\nurl = "https://quill.example/gulls"\n',
                        database=tmp_path / "two.db")
    r = provmon("--config", str(cfg2), "track", "--json", str(gulls))
    assert r.json_lines()[0]["article_url"] == "https://quill.example/gulls", r.out + r.err


def test_already_tracked_names_the_address_it_is_stored_under(tmp_path: Path,
                                                              http_dir: Callable[[Path], Served]) -> None:
    """Before: `"article_url"` was the input's address after canonicalisation (`.../feed.html`), though the
    article lives at the address the first read named."""
    site = tmp_path / "pub"
    site.mkdir()
    served = http_dir(site)
    (site / "fire.html").write_text(html_page(PUBLIC, PARAGRAPHS))
    (site / "copy-of-file.html").write_text(html_page(f"{served.base}/copy-of-file.html", PARAGRAPHS))
    cfg = write_config(tmp_path / "c.toml", "")
    local = tmp_path / "fire.html"
    local.write_text(html_page(PUBLIC, PARAGRAPHS))
    assert provmon("--config", str(cfg), "track", str(local)).code == 0
    r = provmon("--config", str(cfg), "track", "--json", f"{served.base}/copy-of-file.html?utm_source=x")
    (line,) = r.json_lines()
    assert not line["created"] and line["article_url"] == PUBLIC, line
    assert line["url"] == line["source"] == f"{served.base}/copy-of-file.html?utm_source=x"


def test_schema_16_records_the_file_of_articles_tracked_under_it(tmp_path: Path) -> None:
    """An article tracked from a file under its file:// URL before schema 16 gets that file as its source; one
    given a public URL cannot be traced to its file, and gets it when the file is tracked again."""
    db = tmp_path / "old.db"
    conn = old_database(db, 15)
    conn.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) VALUES "
                 "(1, 'file:///srv/fire.txt', 'T', 'a', 'h1', '2026-01-01'), "
                 "(2, 'https://herald.example/b', 'B', 'b', 'h2', '2026-01-01')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.sources_of([1, 2]) == {1: "file:///srv/fire.txt"}
        assert store.tracked_from("file:///srv/fire.txt").id == 1  # type: ignore[union-attr]
        store.set_sources([(2, "file:///srv/b.txt", False), (1, "file:///elsewhere.txt", False)])
        assert store.sources_of([1, 2]) == {1: "file:///srv/fire.txt", 2: "file:///srv/b.txt"}
        assert store.schema_version() == SCHEMA_VERSION


def test_json_and_text_agree_on_the_stored_address(tmp_path: Path) -> None:
    """The text line and --json give the same address for a text tracked before from another file."""
    cfg = write_config(tmp_path / "c.toml", "")
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(ARTICLE)
    b.write_text(ARTICLE)
    assert provmon("--config", str(cfg), "track", str(a)).code == 0
    r = provmon("--config", str(cfg), "track", "--json", str(b))
    line = json.loads(r.out)
    assert line["article_url"] == a.resolve().as_uri() and line["source"] == b.resolve().as_uri(), line
    text = provmon("--config", str(cfg), "track", str(b)).out
    assert text.startswith("already tracked #1: ") and text.rstrip().endswith(f") {a.resolve().as_uri()}"), text


def test_check_of_a_tracked_html_source_of_the_config_is_that_article(tmp_path: Path) -> None:
    """The shipped demo's [[track]] page (an HTML file naming its public canonical): `check` of it after `run --once`
    said COPY (verbatim) of itself; the service does not record where it read a [[track]] source."""
    cfg = demo_config(tmp_path)
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    page = DEMO / "publisher" / "sea-wall-gives-way.html"
    r = provmon("--config", str(cfg), "check", str(page), str(DEMO / "scraper" / "sea-wall-gives-way.html"))
    assert r.code == 0, r.out + r.err
    assert f"{page.as_uri()}: no copy of a tracked article (the tracked article #1 itself, at https://" in r.out, r.out
    assert "scraper/sea-wall-gives-way.html: COPY (verbatim) of #1" in r.out, r.out
