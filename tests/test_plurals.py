"""Counts in text for people agree with their nouns: "1 passage", "1 new alert", "checked 2 pages: 1 copies a
tracked article, 1 does not"; JSON keeps its bare numbers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from monitor.alerts import digest_subject, digest_text, email_text
from monitor.display import plural
from monitor.store import Store
from tests.conftest import DEMO, provmon, write_config


def test_plural() -> None:
    assert [plural(n, "page") for n in (0, 1, 2)] == ["0 pages", "1 page", "2 pages"]
    assert plural(1, "copy", "copies") == "1 copy" and plural(3, "copy", "copies") == "3 copies"


def test_a_count_of_one_is_singular_in_human_output(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(DEMO / "scraper" / "sea-wall-gives-way.html", site / "copy.html")
    shutil.copy(DEMO / "scraper" / "plant-garlic-in-autumn.html", site / "other.html")
    cfg = write_config(tmp_path / "config.toml", f"""
[[track]]
source = "{DEMO / 'publisher' / 'sea-wall-gives-way.html'}"

[[sites]]
name = "one"
start_urls = ["{site / 'copy.html'}"]
max_depth = 0

[owner]
name = "A. Writer"
email = "writer@example.org"
""")
    run = provmon("--config", str(cfg), "run", "--once")
    assert run.code == 0, run.err
    assert "site one: 1 page scanned, 1 copy, 1 new alert, 0 errors\n" in run.out, run.out
    assert "(1 alert in all)" in run.out, run.out

    one = provmon("--config", str(cfg), "check", str(site / "copy.html"))
    assert re.search(r"longest verbatim run \d+ words; 1 passage$", one.out, re.M), one.out
    two = provmon("--config", str(cfg), "check", str(site / "copy.html"), str(site / "other.html"))
    assert two.out.splitlines()[-1] == "checked 2 pages: 1 copies a tracked article, 1 does not", two.out
    assert (provmon("--config", str(cfg), "check", "--json", str(site / "copy.html")).json_lines()[0]
            ["copies"][0]["passages"].__len__() == 1)  # the JSON is unchanged: a list, no words

    assert "rechecked 1 copy: " in provmon("--config", str(cfg), "recheck").out
    notice = provmon("--config", str(cfg), "notice", "1")
    assert "verbatim copy,\n   1 corresponding passage)" in notice.out, notice.out

    with Store(tmp_path / "provmon.db") as store:
        alert = store.alert(1)
    assert "Matching passages (1; article then copy):" in email_text(alert)
    assert digest_subject([("copy_detected", alert)]).startswith("[provmon] digest: 1 alert update on one")
    assert digest_text([("copy_detected", alert)]).startswith("Provenance Monitor: 1 alert update since")
