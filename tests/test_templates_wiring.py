"""Site templates learned from fetched pages are dropped before matching, on both sides."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.extract import extract
from tests.conftest import DEMO, demo_config, provmon, write_config

# A scraper's signature paragraph: ordinary prose that only repetition across pages gives away.
PITCH = ("Daily Coast Digest collects stories from across the web for readers who value their time, "
         "and we thank every writer whose work we feature on these pages.")
GARDEN = [
    "Tomatoes want full sun, steady water and a stake put in at planting time, not after the plant has flopped.",
    "Leeks are sown in spring, moved to deep holes in summer and lifted through the winter as they are needed.",
    "A compost heap needs air as much as it needs greens and browns, so turn it once a month with a fork.",
    "Rhubarb crowns can be divided in late autumn, each piece with a bud, and replanted in rich soil.",
]


def page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title></head><body><nav><a href='index.html'>Home</a></nav>"
            f"<article><h1>{title}</h1><div class='entry-content'>{body}<p>{PITCH}</p></div></article>"
            f"<footer>Scraper</footer></body></html>")


def test_scraper_footer_is_learned_and_kept_out_of_matches(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    original = extract((DEMO / "publisher" / "sea-wall-gives-way.html").read_bytes()).paragraphs
    names = []
    for i, text in enumerate(GARDEN):
        names.append(f"g{i}.html")
        (site / names[-1]).write_text(page(f"Garden note {i}", [text] * 3))
    links = "".join(f"<li><a href='{n}'>{n}</a></li>" for n in names)
    (site / "index.html").write_text(f"<html><body><ul>{links}</ul></body></html>")
    cfg = demo_config(tmp_path)
    cfg.write_text(cfg.read_text().replace(f'start_urls = ["{DEMO}/scraper/index.html"]',
                                           f'start_urls = ["{site}/index.html"]'))
    # A first run learns the site from its pages; the copy appears on the site later.
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    (site / "copy.html").write_text(page("Copied", original))
    (site / "index.html").write_text(f"<html><body><ul>{links}<li><a href='copy.html'>c</a></li></ul></body></html>")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    conn = sqlite3.connect(tmp_path / "provmon.db")
    (passages, page_share) = conn.execute(
        "SELECT m.passages, m.page_share FROM alerts a JOIN matches m ON m.id = a.match_id").fetchone()
    assert "Daily Coast Digest" not in passages
    assert page_share >= 0.99  # the pitch no longer counts as page text that is not from the article
    (state,) = conn.execute("SELECT state FROM templates WHERE site = 'demo-scraper'").fetchone()
    assert '"pages":7' in state  # the index (twice: it changed) and five articles


def test_publisher_template_kept_out_of_tracked_articles(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    files = []
    for i, text in enumerate(GARDEN):
        f = tmp_path / f"orig{i}.html"
        f.write_text(page(f"Garden note {i}", [text, f"{text} Again, for emphasis."]))
        files.append(str(f))
    r = provmon("--config", str(cfg), "track", *files)
    assert r.code == 0, r.err
    conn = sqlite3.connect(tmp_path / "provmon.db")
    texts = [t for (t,) in conn.execute("SELECT text FROM articles ORDER BY id")]
    assert len(texts) == 4
    # Learned once it recurs on three originals: from the third on, the pitch is not tracked text.
    assert [PITCH in t for t in texts] == [True, True, False, False]
    # Tracking them again adds no article: a URL keeps one (the first two, read again now that the pitch is
    # learned, lose it and replace their articles; before, each was tracked a second time).
    r = provmon("--config", str(cfg), "track", *files)
    assert r.code == 0, r.err
    assert "replaces #1" in r.out and "replaces #2" in r.out and r.out.count("already tracked #") == 2
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 4


def test_plain_text_originals_are_tracked_as_they_are(tmp_path: Path) -> None:
    """A .txt file is taken as it is, shared paragraphs and all: evidence offsets count its characters."""
    cfg = write_config(tmp_path / "c.toml", "")
    files = []
    for i, text in enumerate(GARDEN):
        f = tmp_path / f"orig{i}.txt"
        f.write_text(f"{text}\n\n{text} Again, for emphasis.\n\n{PITCH}\n")
        files.append(f)
    r = provmon("--config", str(cfg), "track", *map(str, files))
    assert r.code == 0, r.err
    conn = sqlite3.connect(tmp_path / "provmon.db")
    texts = [t for (t,) in conn.execute("SELECT text FROM articles ORDER BY id")]
    assert texts == [f.read_text() for f in files]
    assert f"({len(texts[3])} chars)" in r.out
    r = provmon("--config", str(cfg), "track", *map(str, files))
    assert r.out.count("already tracked #") == 4


def test_two_processes_learning_one_site_keep_each_others_pages(tmp_path: Path) -> None:
    """The service and a `provmon run --once` scan one site at once: each loads the state, observes its pages
    and saves; the second save must add to the first, not overwrite it."""
    from monitor.scan import load_learner
    from monitor.store import Store
    from monitor.templates import block_hash

    db = tmp_path / "s.db"
    with Store(db) as a, Store(db) as b:
        first, second = load_learner(a, "copier"), load_learner(b, "copier")
        for k in range(3):
            first.observe_hashes("copier", [block_hash(PITCH), block_hash(GARDEN[k])])
        for word in ("alpha", "beta", "gamma"):
            second.observe_hashes("copier", [block_hash(PITCH), block_hash(f"{GARDEN[3]} {word}")])
        a.update_template_state("copier", first.merged_with)
        b.update_template_state("copier", second.merged_with)
        merged = load_learner(a, "copier")
    assert merged.sites["copier"].pages == 6
    assert merged.sites["copier"].blocks[block_hash(PITCH)] == 6
    assert merged.template_hashes("copier") == {block_hash(PITCH)}
    assert second.sites == merged.sites and second.fresh == {}  # the learner goes on from the merged state
