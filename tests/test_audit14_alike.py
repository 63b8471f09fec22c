"""Session 14's audit, F17: two tracked texts that differ never read "100% alike".

Before: a file whose only change was a figure (85,000 -> 86,000 pounds: figures are set aside in the 3-grams) was
tracked with `warning: ... nearly the same text as #1 ..., 100% alike`, which reads as identical."""

from __future__ import annotations

from pathlib import Path

from monitor.display import alike
from tests.conftest import provmon, write_config
from tests.test_match import ARTICLE


def test_alike_never_shows_a_difference_as_100_percent() -> None:
    assert alike(1.0) == alike(0.996) == "over 99%"
    assert alike(0.994) == "99%" and alike(0.9) == "90%"


def test_a_near_duplicate_differing_in_a_figure_is_over_99_percent_alike(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "c.toml", "")
    first, second = tmp_path / "fire.txt", tmp_path / "fire-corrected.txt"
    first.write_text(ARTICLE)
    second.write_text(ARTICLE.replace("about 300 residents", "about 320 residents"))
    assert provmon("--config", str(cfg), "track", str(first)).code == 0
    r = provmon("--config", str(cfg), "track", str(second))
    assert r.code == 0 and "warning: #2 (" in r.err and "is nearly the same text as #1" in r.err, r.err
    assert ", over 99% alike: a copy of it will raise an alert for each" in r.err and "100%" not in r.err, r.err
