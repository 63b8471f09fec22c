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
    assert "missing.html" in r.err and "404" in r.err


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
