"""Session 14's audit, F6: `extract` reads its inputs as `check` does.

Before: the first input that could not be read (or held no article text) ended the command, so the others were
never shown; `--json` wrote nothing for it; and a directory read as "no article text found"."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import provmon
from tests.test_match import PARAGRAPHS

INDEX = "<html><head><title>Home</title></head><body><ul><li><a href='a.html'>A</a></li></ul></body></html>"


def article_page(title: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:4]) + "</article></body></html>")


def test_extract_goes_on_after_a_bad_input_and_expands_directories(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(INDEX)
    (site / "fire.html").write_text(article_page("Fire at the terminal"))
    missing = tmp_path / "nope.html"

    r = provmon("extract", "--json", str(missing), str(site))
    lines = r.json_lines()
    assert r.code == 2, r.out + r.err
    assert [line["url"] for line in lines] == [missing.as_uri(), (site / "fire.html").as_uri(),
                                               (site / "index.html").as_uri()], r.out
    assert lines[0]["error"] == f"{missing.as_uri()}: cannot read {missing}: No such file or directory"
    assert lines[1]["title"] == "Fire at the terminal" and lines[1]["text"].startswith("HARBORTON")
    assert lines[2]["text"] == "" and lines[2]["note"] == "no article text found"
    assert f"error: {missing.as_uri()}: cannot read" in r.err

    r = provmon("extract", str(site / "index.html"), str(missing), str(site / "fire.html"))
    assert r.code == 2 and "cannot read" in r.err, r.out + r.err
    assert f"{(site / 'index.html').as_uri()}: no article text found" in r.out
    assert f"# Fire at the terminal\n{(site / 'fire.html').as_uri()}\n\nHARBORTON" in r.out, r.out
