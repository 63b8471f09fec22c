"""The candidate stage: which tracked articles a page is compared with (scan.candidates_for).

The texts are our own. REWRITE is a short heavy rewrite of ARTICLE: compare() flags it, yet it shares only
13 content-word 3-grams with the article, and the winnowed sample the index holds keeps 2 of them (the
situation of the Clough & Stevenson heavy answer g2pA_taskb, which the index lost at 3).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.config import ConfigError, MatchSettings, load_config
from monitor.fingerprint import article_fingerprints_of, page_fingerprints_of
from monitor.match import Prepared, compare
from monitor.scan import Original, candidates_for, find_copies, min_shared_for, track_text
from monitor.store import Store
from tests.conftest import write_config

CFG = MatchSettings()

ARTICLE = """The county library in Marrowby will close for six weeks from March while builders fit a solar roof.
Volunteers packed forty thousand books into crates last weekend and stored them in the old grain hall.
The council approved the project after a survey found that heating the reading rooms cost more than the
whole book budget. Panels on the south slope should supply most of the power the building uses in summer.
Spare electricity will be sold to the grid, and the income is promised to the children's reading club.
During the closure a mobile van will visit the villages of Hesket, Lowmoor and Brantwell twice a week.
Readers can still borrow electronic books through the library website with their usual card number.
The head librarian, Agnes Tolley, said staff would use the quiet weeks to repair damaged maps and catalogue
the local history collection. A reopening fair with music and a plant sale is planned for the first Saturday in May.
"""

REWRITE = """For six weeks starting in March, builders will be fitting a solar roof, so Marrowby's county
library is closing.
Last weekend forty thousand books were packed by volunteers into crates, which were stored in the old grain hall.
A survey found that heating the reading rooms cost more than the library's whole book budget, and the council
approved the project.
In summer most of the power used by the building should come from panels on the south slope.
The grid will buy spare electricity, and the reading club for children has been promised the income.
While it is closed, the villages of Brantwell, Hesket and Lowmoor get a visit from a mobile van twice a week.
"""

OTHER = """A ferry linking Callow Point and the island of Sennick was withdrawn on Tuesday after its engine overheated
in a strong swell. Passengers were taken off by the lifeboat crew and no one was hurt. The operator said a
replacement vessel would sail from Thursday, although freight bookings may be delayed until next month.
"""


def _filler(words: int) -> str:
    """Our own unrelated text: sentences of made-up content words, each word used once."""
    tokens = [f"zorvex{k}" for k in range(words)]
    return " ".join(" ".join(tokens[i:i + 10]) + "." for i in range(0, words, 10))


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(tmp_path / "provmon.db")
    track_text(s, Original("file:///originals/library.txt", "Library", ARTICLE))
    track_text(s, Original("file:///originals/ferry.txt", "Ferry", OTHER))
    yield s
    s.close()


def test_the_rewrite_shares_two_indexed_fingerprints_and_is_a_copy():
    shared = article_fingerprints_of(ARTICLE) & page_fingerprints_of(REWRITE)
    assert len(shared) == 2 < CFG.candidate_min_shared
    assert len(page_fingerprints_of(REWRITE)) < CFG.candidate_short_page
    m = compare(Prepared.of(ARTICLE), Prepared.of(REWRITE), CFG)
    assert m is not None and m.kind == "paraphrased"


def test_a_short_rewrite_sharing_two_fingerprints_is_compared_and_found(store: Store):
    assert [n for _, n in candidates_for(store, REWRITE, CFG)] == [2]
    found = find_copies(store, REWRITE, CFG)
    assert [f.article.title for f in found] == ["Library"]


def test_without_the_short_page_rule_the_rewrite_is_missed(store: Store):
    off = dataclasses.replace(CFG, candidate_short_page=0)
    assert candidates_for(store, REWRITE, off) == []
    assert find_copies(store, REWRITE, off) == []


def test_a_long_page_still_needs_candidate_min_shared(store: Store):
    page = REWRITE + "\n\n" + _filler(400)
    assert len(page_fingerprints_of(page)) >= CFG.candidate_short_page
    assert candidates_for(store, page, CFG) == []
    # At 3 shared fingerprints a long page is compared as before.
    assert candidates_for(store, page, dataclasses.replace(CFG, candidate_min_shared=2)) != []


def test_unrelated_short_page_gets_no_candidate(store: Store):
    page = "The allotment society met on Friday to share out seed potatoes and plan the summer show."
    assert candidates_for(store, page, CFG) == []


def test_min_shared_for_page_length():
    assert min_shared_for(0, CFG) == 2
    assert min_shared_for(CFG.candidate_short_page - 1, CFG) == 2
    assert min_shared_for(CFG.candidate_short_page, CFG) == CFG.candidate_min_shared == 3
    # The short-page rule only ever lowers the threshold.
    assert min_shared_for(10, dataclasses.replace(CFG, candidate_min_shared=1)) == 1
    assert min_shared_for(10, dataclasses.replace(CFG, candidate_min_shared_short=5)) == 3
    assert min_shared_for(10, dataclasses.replace(CFG, candidate_short_page=0)) == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[match]\ncandidate_min_shared_short = 0\n", "'match.candidate_min_shared_short' must be at least 1"),
        ("[match]\ncandidate_short_page = -1\n", "'match.candidate_short_page' must not be negative"),
        ("[match]\ncandidate_short_page = \"short\"\n", "'match.candidate_short_page' must be int"),
    ],
)
def test_candidate_keys_are_validated(tmp_path: Path, body: str, expected: str):
    with pytest.raises(ConfigError, match=expected):
        load_config(write_config(tmp_path / "config.toml", body))


def test_candidate_keys_load(tmp_path: Path):
    body = "[match]\ncandidate_short_page = 0\ncandidate_min_shared_short = 3\n"
    cfg = load_config(write_config(tmp_path / "config.toml", body))
    assert (cfg.match.candidate_short_page, cfg.match.candidate_min_shared_short) == (0, 3)
