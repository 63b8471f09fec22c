"""One article per URL: tracking a file or page again after its text changed replaces its article, so a copy
is reported once and not once per version."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import provmon, write_config
from tests.test_match import ARTICLE, PARAGRAPHS


def test_an_edited_original_replaces_its_article(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    original = tmp_path / "fire.txt"
    original.write_text(ARTICLE)
    first = provmon("--config", str(cfg), "track", "--json", str(original))
    assert first.code == 0, first.err
    first_id = json.loads(first.out)["id"]
    # A correction: one paragraph reworded, a sentence added at the end.
    edited = ARTICLE.replace("Nobody was killed", "No one was killed") + "\n\nThis article was corrected."
    original.write_text(edited)
    again = provmon("--config", str(cfg), "track", "--json", str(original))
    assert again.code == 0, again.err
    row = json.loads(again.out)
    assert row["created"] and row["replaces"] == first_id and row["chars"] == len(edited)
    plain = provmon("--config", str(cfg), "track", str(original))
    assert f"already tracked #{row['id']}" in plain.out
    conn = sqlite3.connect(tmp_path / "provmon.db")
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1  # nothing refers to the first
    page = tmp_path / "copy.txt"
    page.write_text("Reposted from elsewhere\n\n" + "\n\n".join(PARAGRAPHS[:6]))
    check = provmon("--config", str(cfg), "check", "--json", str(page))
    found = json.loads(check.out)
    assert [c["article"]["id"] for c in found["copies"]] == [row["id"]], check.out
