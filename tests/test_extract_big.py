"""Big pages: every page the fetcher accepts (fetch.max_bytes) is searched for copies, and a page too big to
search whole says so instead of passing as clean (docs/extraction.md, "Big pages")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor.extract import MAX_CHARS, _strip_bulk, extract
from tests.conftest import provmon, write_config

# Written for these tests.
ARTICLE = "\n\n".join([
    'The ferry to the outer island stopped running in March, and the village has been counting the cost since.',
    'Fishermen who sold their catch on the mainland each morning now drive three hours round the bay, '
    'and two of them have given up the trade.',
    'The council says a new operator will be chosen by the autumn, but the last tender drew a single '
    'bid, withdrawn a week later.',
    'At the school, the headteacher keeps a spare bed in the staff room for the visiting nurse, who can '
    'no longer make the return crossing in a day.',
    'Older residents remember the winter of the great storm, when the island was cut off for nineteen '
    'days and the lifeboat brought bread.',
    'The harbour master believes the slipway could take a smaller vessel, if anyone would pay to dredge '
    'the silt that has built up along the wall.',
])

STYLE = ".c{color:#123456;margin:0 1px;padding:2px}\n"
ASIDE = '<div class="nav"><a href="/elsewhere">Another story</a></div>\n'


def article_html(text: str = ARTICLE) -> str:
    paras = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return f"<article><h1>The ferry</h1>{paras}</article>"


def style_page(size: int = 1_900_000) -> str:
    """A page whose <head> holds `size` characters of inline CSS, the article after it."""
    return (f"<html><head><title>Ferry</title><style>{STYLE * (size // len(STYLE))}</style></head>"
            f"<body>{article_html()}</body></html>")


def middle_page(size: int = 3_200_000) -> str:
    """`size` characters of link boxes, the article in the middle."""
    half = ASIDE * (size // 2 // len(ASIDE))
    return f"<html><body>{half}{article_html()}{half}</body></html>"


@pytest.fixture
def tracked(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path / "config.toml", "[fetch]\nmax_bytes = 7000000\n")
    original = tmp_path / "original.txt"
    original.write_text("The ferry\n\n" + ARTICLE, encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(original))
    assert r.code == 0, r.err
    return cfg


def test_megabytes_of_inline_style_do_not_hide_the_article() -> None:
    out = extract(style_page().encode(), "https://x.example/a", "text/html; charset=utf-8")
    assert "nineteen days" in out.text
    assert not out.truncated and not out.warning


def test_json_ld_survives_the_removal_of_scripts() -> None:
    page = ('<html><head><script>var a = "</p>";</script><script type="application/ld+json">'
            '{"@type": "NewsArticle", "author": {"name": "R. Quay"}}</script></head>'
            f"<body><!-- <style> -->{article_html()}<svg><text>icon</text></svg></body></html>")
    out = extract(page)
    assert out.author == "R. Quay"
    assert "nineteen days" in out.text and "icon" not in out.text


@pytest.mark.parametrize("page", [style_page, middle_page], ids=["1.9MB-style-head", "3.2MB-article-in-middle"])
def test_check_finds_the_copy_on_a_big_page(tracked: Path, tmp_path: Path, page: object) -> None:
    path = tmp_path / "page.html"
    path.write_text(page(), encoding="utf-8")  # type: ignore[operator]
    r = provmon("--config", str(tracked), "check", "--json", str(path))
    assert r.code == 0, r.err + r.out
    (result,) = r.json_lines()
    (copy,) = result["copies"]
    assert copy["kind"] == "verbatim"
    assert "too big" not in r.err


def too_big_page() -> str:
    """The article first, then more markup than MAX_CHARS (one long attribute: cheap to parse)."""
    return (f"<html><body>{article_html()}<div data-blob=\"{'x' * (MAX_CHARS + 100_000)}\"></div>"
            "<p>A last paragraph that nobody will read because the page is cut before it.</p></body></html>")


def test_page_beyond_the_cap_is_searched_in_part_and_says_so() -> None:
    out = extract(too_big_page().encode())
    assert out.truncated
    assert "nineteen days" in out.text
    assert f"only the first {MAX_CHARS:,} characters" in out.warning


def test_check_says_when_a_page_was_searched_only_in_part(tracked: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text(too_big_page(), encoding="utf-8")
    r = provmon("--config", str(tracked), "check", str(path))
    assert r.code == 0, r.err + r.out
    assert "COPY" in r.out
    assert f"{path.as_uri()}: page too big to search whole: only the first {MAX_CHARS:,} characters" in r.err


def test_site_scan_reports_and_records_a_page_searched_only_in_part(http_dir: object, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text('<html><body><a href="big.html">big</a> <a href="style.html">s</a>'
                                     "</body></html>", encoding="utf-8")
    (site / "big.html").write_text(too_big_page(), encoding="utf-8")
    (site / "style.html").write_text(style_page(), encoding="utf-8")
    served = http_dir(site)  # type: ignore[operator]
    cfg = write_config(tmp_path / "config.toml",
                       "[fetch]\nmax_bytes = 7000000\nmin_delay = 0\n\n"
                       f'[[sites]]\nname = "big"\nstart_urls = ["{served.base}/"]\nallow_private = true\n')
    original = tmp_path / "original.txt"
    original.write_text("The ferry\n\n" + ARTICLE, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(original)).code == 0
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert "2 copies" in r.out  # the page behind its style sheet, and the start of the one too big to search
    assert f"{served.base}/big.html: page too big to search whole" in r.out
    with sqlite3.connect(tmp_path / "provmon.db") as db:
        rows = dict(db.execute("SELECT url, error FROM pages WHERE site = 'big'").fetchall())
    assert rows[f"{served.base}/big.html"].startswith("page too big to search whole")
    assert rows[f"{served.base}/style.html"] is None
    # Seen again unchanged, it is still only partly searched: the record keeps saying so.
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    with sqlite3.connect(tmp_path / "provmon.db") as db:
        again = dict(db.execute("SELECT url, error FROM pages WHERE site = 'big'").fetchall())
    assert again[f"{served.base}/big.html"] == rows[f"{served.base}/big.html"]


@pytest.mark.parametrize("html,left", [
    ("<p>a</p><!-- c --><p>b</p>", "<p>a</p><p>b</p>"),
    ("<p>a</p><!--><p>b</p>", "<p>a</p><p>b</p>"),  # an empty comment as the tokenizer reads it
    ("<script>var x = '<!--';</script><p>b</p>", "<p>b</p>"),  # a comment opener inside a script is script
    ("<!-- <style> -->p<style>x</style>", "p"),  # a style opener inside a comment is comment
    ("<STYLE media=x>p{}</Style ><p>b</p>", "<p>b</p>"),
    ("<svg><svg><g/></svg></svg><p>b</p>", "<p>b</p>"),  # a nested SVG goes with its parent
    ("<svg/><p>b</p>", "<p>b</p>"),
    ("<scripts>x</scripts>", "<scripts>x</scripts>"),  # not a script
    ("<p>a</p><style>never closed <p>b</p>", "<p>a</p><style>never closed <p>b</p>"),
], ids=["comment", "empty-comment", "comment-in-script", "style-in-comment", "case", "nested-svg", "empty-svg",
        "not-a-script", "unclosed"])
def test_bulk_markup_is_removed_as_the_tokenizer_reads_it(html: str, left: str) -> None:
    assert _strip_bulk(html) == left


@pytest.mark.parametrize("unit", ["<style>x", "<!--x", "<script>x", "<svg>x"])
def test_a_page_of_unclosed_openers_is_left_as_it_is(unit: str) -> None:
    """200,000 openers never closed: left as they are, in one pass (a pattern from each opener to its end took
    11.6 s for 20,000 of them and grew with their square, so this page would hold a site job for a quarter of an
    hour)."""
    html = unit * 200_000
    assert _strip_bulk(html) == html


def test_big_pages_of_a_crawl_are_extracted_one_at_a_time(http_dir: object, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Four pages over crawl.BIG_PAGE fetched by four workers: never two of them in extraction at once (each can
    hold hundreds of MB there); the small start page is not held up by them."""
    import threading
    import time

    import monitor.crawl as crawl_mod
    from monitor.config import Site
    from monitor.fetch import Fetcher
    from monitor.politeness import PoliteSettings

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body>" + "".join(f'<a href="b{k}.html">{k}</a> ' for k in range(4))
                                     + "</body></html>", encoding="utf-8")
    for k in range(4):
        (site / f"b{k}.html").write_text(middle_page(1_200_000), encoding="utf-8")
    served = http_dir(site)  # type: ignore[operator]
    lock, inside, most = threading.Lock(), [0], [0]
    real = crawl_mod.text_of

    def counting(body: bytes, content_type: str, url: str):  # type: ignore[no-untyped-def]
        big = len(body) > crawl_mod.BIG_PAGE
        with lock:
            inside[0] += big
            most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.2 if big else 0)  # long enough for the other workers to arrive
            return real(body, content_type, url)
        finally:
            with lock:
                inside[0] -= big

    monkeypatch.setattr(crawl_mod, "text_of", counting)
    s = Site(name="big", start_urls=(served.base + "/",), allow_private=True)
    with Fetcher("provmon-test", max_bytes=7_000_000) as f:
        items = list(crawl_mod.crawl(f, s, [served.base + "/"], workers=4,
                                     polite=PoliteSettings(min_delay=0.0, obey_robots=False, max_per_host=4)))
    assert sum(1 for i in items if i.page is not None and "ferry" in i.page.text) == 4
    assert most[0] == 1
