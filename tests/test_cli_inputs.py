"""`provmon track`/`check` inputs as a reviewer found them: byte order marks, missing files, symlinked
folders, an empty store, output redirected under a progress bar, and the JSON error key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import provmon, write_config
from tests.test_index import article_text

TITLE = "Café owners on Quay Street count the cost of the “spring tide”"


def story(seed: int) -> str:
    """A title line and paragraphs of generated words, with accents and curly quotes (not ASCII-only)."""
    body = article_text(seed, 360).split(". ")
    paras = [". ".join(body[k:k + 6]) + "." for k in range(0, len(body), 6)]
    return TITLE + "\n\n" + "\n\n".join(paras).replace(" the ", " thé ", 3) + "\n"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", "")


# 1. Encoding comes from the byte order mark, for plain text as for HTML.

@pytest.mark.parametrize("codec,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                       ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff")],
                         ids=["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_a_text_file_with_a_wide_bom_is_decoded_by_it(cfg: Path, tmp_path: Path, codec: str, bom: bytes) -> None:
    text = story(1)
    original = tmp_path / "original.txt"
    original.write_bytes(bom + text.encode(codec))
    r = provmon("--config", str(cfg), "track", "--json", str(original))
    assert r.code == 0, r.err
    (line,) = r.json_lines()
    assert line["title"] == TITLE and line["chars"] == len(text)

    copy = tmp_path / "copy.txt"  # the same words in UTF-8 are a verbatim copy of it
    copy.write_text("Reposted without permission.\n\n" + text, encoding="utf-8")
    r = provmon("--config", str(cfg), "check", "--json", str(copy))
    assert r.code == 0, r.err
    (found,) = r.json_lines()[0]["copies"]
    assert found["kind"] == "verbatim"
    for p in found["passages"]:  # article offsets count characters of the decoded original
        assert text[p["article_start"]:p["article_end"]] == p["article_text"]


def test_a_utf16_page_offsets_count_its_decoded_characters(cfg: Path, tmp_path: Path) -> None:
    text = story(2)
    (tmp_path / "original.txt").write_text(text, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    page = tmp_path / "page.txt"
    page.write_text("Reposted without permission.\n\n" + text, encoding="utf-16")  # BOM, then UTF-16 LE
    r = provmon("--config", str(cfg), "check", "--json", str(page))
    assert r.code == 0, r.err
    (found,) = r.json_lines()[0]["copies"]
    decoded = page.read_text(encoding="utf-16")
    assert found["passages"] and all(decoded[p["page_start"]:p["page_end"]] == p["page_text"]
                                     for p in found["passages"])


def test_a_utf16_html_page_is_still_extracted(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(f"<html><head><title>{TITLE}</title></head><body><article><p>{story(3)}</p></article>"
                     f"</body></html>".encode("utf-16"))
    r = provmon("extract", "--json", str(page))
    assert r.code == 0, r.err
    assert r.json_lines()[0]["title"] == TITLE


# 7. A UTF-8 BOM is not counted: offsets land on the copied text when the file is read as utf-8-sig.

def test_offsets_in_a_utf8_file_with_a_bom_count_characters_after_it(cfg: Path, tmp_path: Path) -> None:
    text = story(4)
    (tmp_path / "original.txt").write_text(text, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    page = tmp_path / "page.txt"
    page.write_text("Reposted without permission.\n\n" + text, encoding="utf-8-sig")
    assert page.read_bytes().startswith(b"\xef\xbb\xbf")
    r = provmon("--config", str(cfg), "check", "--json", str(page))
    (found,) = r.json_lines()[0]["copies"]
    decoded = page.read_text(encoding="utf-8-sig")
    assert found["passages"] and all(decoded[p["page_start"]:p["page_end"]] == p["page_text"]
                                     for p in found["passages"])
