"""`provmon track` and `provmon check` on the seeds and the demo pages."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from tests.conftest import DEMO, SEEDS, provmon, seed_text, write_config


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", "")


def seed_path(prefix: str) -> Path:
    seed_text(prefix)  # skips when absent
    return sorted(SEEDS.glob(f"{prefix}_*.txt"))[0]


def render(text: str, furniture_footer: str) -> str:
    """A seed as a scraper's page: nav, the paragraphs, share bar, footer."""
    paras = "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
    return (f"<html><head><title>Copy</title></head><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
            f"<article class='post'><div class='entry-content'>{paras}</div></article>"
            f"<div class='share'>Share this: Facebook Twitter</div>{furniture_footer}"
            f"<footer>© 2026 A Scraper. All rights reserved.</footer></body></html>")


def test_seed_001_is_a_paraphrased_copy_of_seed_000(cfg: Path) -> None:
    r = provmon("--config", str(cfg), "track", str(seed_path("000")))
    assert r.code == 0, r.err
    assert "tracked #1" in r.out
    r = provmon("--config", str(cfg), "check", str(seed_path("001")))
    assert r.code == 0, r.err + r.out
    assert "COPY (paraphrased)" in r.out
    r = provmon("--config", str(cfg), "check", "--json", str(seed_path("001")))
    (result,) = r.json_lines()
    (copy,) = result["copies"]
    assert copy["kind"] == "paraphrased"
    assert copy["coverage"] >= 0.5
    assert copy["longest_run"] < 30  # spun: no long verbatim stretch


def test_check_offsets_point_into_the_files(cfg: Path) -> None:
    provmon("--config", str(cfg), "track", str(seed_path("000")))
    r = provmon("--config", str(cfg), "check", "--json", str(seed_path("001")))
    (copy,) = r.json_lines()[0]["copies"]
    original = seed_text("000")
    page = seed_text("001")
    assert len(copy["passages"]) >= 2
    for p in copy["passages"]:
        assert original[p["article_start"]:p["article_end"]] == p["article_text"]
        assert page[p["page_start"]:p["page_end"]] == p["page_text"]
        assert 0 < p["score"] <= 1
    assert any("Pompeo" in p["page_text"] for p in copy["passages"])


def test_seed_000_rendered_with_furniture_is_verbatim(cfg: Path, tmp_path: Path) -> None:
    provmon("--config", str(cfg), "track", str(seed_path("000")))
    page = tmp_path / "copy.html"
    page.write_text(render(seed_text("000"), ""), encoding="utf-8")
    r = provmon("--config", str(cfg), "check", "--json", str(page))
    assert r.code == 0, r.err
    (copy,) = r.json_lines()[0]["copies"]
    assert copy["kind"] == "verbatim"
    assert copy["coverage"] >= 0.9


def test_seed_001_rendered_with_comment_form_is_paraphrased(cfg: Path, tmp_path: Path) -> None:
    provmon("--config", str(cfg), "track", str(seed_path("000")))
    form = ("<div id='respond' class='comment-respond'><h3>Leave A Reply</h3><form>"
            "<p>Your email address will not be published.</p><textarea></textarea></form></div>")
    page = tmp_path / "spun.html"
    page.write_text(render(seed_text("001"), form), encoding="utf-8")
    r = provmon("--config", str(cfg), "check", "--json", str(page))
    (copy,) = r.json_lines()[0]["copies"]
    assert copy["kind"] == "paraphrased"


def test_independent_and_unrelated_pages_are_not_copies(cfg: Path) -> None:
    provmon("--config", str(cfg), "track", str(DEMO / "publisher" / "sea-wall-gives-way.html"))
    for name in ("port-elling-night-in-shelter.html", "plant-garlic-in-autumn.html", "about.html"):
        r = provmon("--config", str(cfg), "check", str(DEMO / "scraper" / name))
        assert r.code == 1, (name, r.out, r.err)
        assert "no copy of a tracked article" in r.out


def test_check_exit_status_and_several_inputs(cfg: Path) -> None:
    provmon("--config", str(cfg), "track", str(DEMO / "publisher" / "sea-wall-gives-way.html"))
    both = [str(DEMO / "scraper" / "plant-garlic-in-autumn.html"), str(DEMO / "scraper" / "sea-wall-gives-way.html")]
    r = provmon("--config", str(cfg), "check", "--json", *both)
    assert r.code == 0
    lines = r.json_lines()
    assert [len(line["copies"]) for line in lines] == [0, 1]
    assert lines[1]["copies"][0]["kind"] == "verbatim"
    r = provmon("--config", str(cfg), "check", str(DEMO / "scraper" / "missing.html"))
    assert r.code == 2
    assert "missing.html: No such file or directory" in r.err and "404" not in r.err


def test_track_is_idempotent(cfg: Path) -> None:
    src = str(DEMO / "publisher" / "sea-wall-gives-way.html")
    assert "tracked #1" in provmon("--config", str(cfg), "track", src).out
    assert "already tracked #1" in provmon("--config", str(cfg), "track", src).out


def test_extract_prints_clean_text_and_metadata() -> None:
    r = provmon("extract", "--json", str(DEMO / "scraper" / "sea-wall-gives-way.html"))
    assert r.code == 0, r.err
    (page,) = r.json_lines()
    assert page["title"].startswith("Sea wall gives way")
    assert page["credits"] == ["Orignially published in Harbour Herald."]
    for furniture in ("Leave A Reply", "Content is protected", "Share this", "Recent Posts", "Powered by",
                      "Daily Coast Digest", "Photo: Harbour Herald"):
        assert furniture not in page["text"]
    assert page["text"].startswith("PORT ELLING")
    assert page["text"].rstrip().endswith("worked under floodlights.")


def _archive(root: Path) -> tuple[Path, Path]:
    """Originals in nested folders, and a folder of pages: two copies, one unrelated, furniture to skip."""
    from tests.test_index import article_text

    originals, pages = root / "originals", root / "pages"
    for k in range(6):
        d = originals / f"2026-{k % 2 + 1:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"story-{k}.txt").write_text(article_text(100 + k), encoding="utf-8")
    (originals / ".drafts").mkdir()
    (originals / ".drafts" / "draft.txt").write_text(article_text(999), encoding="utf-8")
    (originals / "logo.png").write_bytes(b"\x89PNG\r\n")
    pages.mkdir()
    (pages / "a-copy.html").write_text(f"<html><body><article><p>{article_text(101)}</p></article></body></html>",
                                       encoding="utf-8")
    (pages / "b-copy.txt").write_text(article_text(104)[:1500], encoding="utf-8")
    (pages / "c-other.txt").write_text(article_text(5000), encoding="utf-8")
    (pages / "d-index.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>",
                                        encoding="utf-8")
    return originals, pages


def test_track_and_check_whole_directories(cfg: Path, tmp_path: Path) -> None:
    originals, pages = _archive(tmp_path)
    r = provmon("--config", str(cfg), "track", "--json", str(originals))
    assert r.code == 0, r.err
    tracked = r.json_lines()
    assert len(tracked) == 6  # the hidden folder and the image are not documents
    assert all(t["created"] for t in tracked) and all(t["source"].startswith("file://") for t in tracked)
    assert [Path(t["source"]).name for t in tracked] == [f"story-{k}.txt" for k in (0, 2, 4, 1, 3, 5)]
    r = provmon("--config", str(cfg), "track", str(originals))
    assert r.code == 0
    assert r.out.strip().splitlines()[-1].startswith("0 tracked, 6 already tracked, 0 errors")

    r = provmon("--config", str(cfg), "check", "--json", str(pages))
    assert r.code == 0, r.err
    by_name = {Path(line["url"]).name: line for line in r.json_lines()}
    assert sorted(by_name) == ["a-copy.html", "b-copy.txt", "c-other.txt", "d-index.html"]
    assert by_name["a-copy.html"]["copies"][0]["article"]["url"].endswith("story-1.txt")
    assert by_name["a-copy.html"]["copies"][0]["kind"] == "verbatim"
    assert by_name["b-copy.txt"]["copies"][0]["article"]["url"].endswith("story-4.txt")
    assert by_name["c-other.txt"]["copies"] == [] and by_name["d-index.html"]["copies"] == []
    r = provmon("--config", str(cfg), "check", str(pages))
    assert r.out.strip().splitlines()[-1] == "checked 4 pages: 2 copy a tracked article, 2 do not"


def test_track_rejects_a_title_for_many_sources_and_reports_bad_sources(cfg: Path, tmp_path: Path) -> None:
    originals, _ = _archive(tmp_path)
    r = provmon("--config", str(cfg), "track", "--title", "One", str(originals))
    assert r.code == 2 and "--title" in r.err
    (tmp_path / "empty").mkdir()
    r = provmon("--config", str(cfg), "track", "--json", str(tmp_path / "empty"), str(tmp_path / "missing.txt"),
                str(originals / "2026-01" / "story-0.txt"))
    assert r.code == 2
    lines = r.json_lines()
    assert "no .txt" in lines[0]["error"] and "empty" in lines[0]["error"]
    assert "missing.txt: No such file or directory" in lines[1]["error"]
    assert lines[2]["created"] is True


def test_progress_bar_only_on_a_terminal(cfg: Path, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    originals, _ = _archive(tmp_path)
    master, slave = pty.openpty()
    p = subprocess.run([sys.executable, "-m", "monitor", "--config", str(cfg), "track", str(originals)],
                       stdout=subprocess.PIPE, stderr=slave, text=True, timeout=120)
    os.close(slave)
    err = os.read(master, 65536).decode()
    os.close(master)
    assert p.returncode == 0
    assert "track [" in err and "6/6" in err  # the bar, on the terminal
    assert p.stdout.count("tracked #") == 6  # stdout is not that terminal: a line per article still goes there
    assert p.stdout.splitlines()[-1].startswith("6 tracked, 0 already tracked, 0 errors")
    assert "track [" not in provmon("--config", str(cfg), "track", str(originals)).err  # not on a pipe
