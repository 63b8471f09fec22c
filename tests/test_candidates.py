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
from monitor.fingerprint import (
    EXTRA_BELOW,
    EXTRA_TOTAL,
    article_fingerprints_of,
    extra_fingerprints_of,
    page_fingerprints_of,
)
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


def _filler(words: int, stem: str = "zorvex") -> str:
    """Our own unrelated text: sentences of made-up content words, each word used once."""
    tokens = [f"{stem}{k}" for k in range(words)]
    return " ".join(" ".join(tokens[i:i + 10]) + "." for i in range(0, words, 10))


# ARTICLE is a short article, which the index also holds by its other 3-grams (extra postings); the short-page
# rule is about articles that only keep their window-8 sample, so these tests track it with a tail of filler.
LONG_ARTICLE = ARTICLE + "\n" + _filler(300, "quelbrin")


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(tmp_path / "provmon.db")
    track_text(s, Original("file:///originals/library.txt", "Library", LONG_ARTICLE))
    track_text(s, Original("file:///originals/ferry.txt", "Ferry", OTHER))
    yield s
    s.close()


def test_the_rewrite_shares_two_indexed_fingerprints_and_is_a_copy():
    assert len(article_fingerprints_of(LONG_ARTICLE)) >= EXTRA_BELOW  # no extra postings
    shared = article_fingerprints_of(LONG_ARTICLE) & page_fingerprints_of(REWRITE)
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


# -- extra postings of short articles ------------------------------------------------------------------------

BRIEF = """Marrowby's county library will close for six weeks from March while builders fit a solar roof on the
old reading rooms, the council said on Friday.
Volunteers have already packed forty thousand books into crates and stored them in the grain hall on Mill Lane.
Heating the building cost more last winter than the whole book budget, a survey for the council found.
While the library is closed, a mobile van will call at Hesket, Lowmoor and Brantwell twice a week, and
readers can borrow electronic books on the library website with their usual card.
The head librarian, Agnes Tolley, said the reopening fair is planned for the first Saturday in May.
"""

# A spun copy of BRIEF: 5 of its 66 content-word 3-grams survive, 1 of them in its window-8 sample.
BRIEF_SPUN = """The county library of Marrowby is set to shut for six weeks starting in March as workmen install a solar
roof over its old reading rooms, council officials announced on Friday.
Helpers have now boxed up forty thousand volumes in crates and put them in the Mill Lane grain store.
Last winter heating the premises was more costly than the entire book budget, according to a survey for the council.
During the closure a mobile van is going to stop at Brantwell, Hesket and Lowmoor two times a week, and
members may still borrow e-books via the library's website using their normal card.
Agnes Tolley, the chief librarian, said a reopening fair is scheduled for the first Saturday in May.
"""


def test_a_short_article_is_also_indexed_by_its_other_3_grams(tmp_path: Path):
    fps = article_fingerprints_of(ARTICLE)
    assert len(fps) < EXTRA_BELOW
    extra = extra_fingerprints_of(ARTICLE, fps)
    assert extra and not extra & fps and extra | fps == page_fingerprints_of(ARTICLE)
    assert extra_fingerprints_of(LONG_ARTICLE, article_fingerprints_of(LONG_ARTICLE)) == set()
    with Store(tmp_path / "s.db") as s:
        a = track_text(s, Original("file:///a.txt", "Library", ARTICLE)).id
        rows = dict(s.db.execute("SELECT extra, count(*) FROM fingerprints WHERE article_id = ? GROUP BY 1", [a]))
        assert rows == {0: len(fps), 1: len(extra)}


def test_an_article_just_under_the_cut_keeps_the_smallest_of_its_other_3_grams():
    text = _filler(170)
    fps = article_fingerprints_of(text)
    assert len(fps) < EXTRA_BELOW
    extra = extra_fingerprints_of(text, fps)
    rest = page_fingerprints_of(text) - fps
    assert len(fps) + len(extra) == EXTRA_TOTAL < len(page_fingerprints_of(text))
    assert extra == set(sorted(rest)[:len(extra)])  # the same sample for every text holding these 3-grams


@pytest.mark.parametrize("packed", [False, True])
def test_a_spun_copy_of_a_brief_is_proposed_through_its_extra_postings(tmp_path: Path, packed: bool):
    with Store(tmp_path / "s.db") as s:
        a = track_text(s, Original("file:///brief.txt", "Brief", BRIEF)).id
        track_text(s, Original("file:///ferry.txt", "Ferry", OTHER))
        if packed:
            s.index.compact()
        shared_fps = article_fingerprints_of(BRIEF) & page_fingerprints_of(BRIEF_SPUN)
        assert len(shared_fps) < min_shared_for(len(page_fingerprints_of(BRIEF_SPUN)), CFG)  # not without extras
        assert [i for i, _ in candidates_for(s, BRIEF_SPUN, CFG)] == [a]
        assert [f.article.title for f in find_copies(s, BRIEF_SPUN, CFG)] == ["Brief"]
        s.delete_article(a)  # its extra postings go with it, recent or packed
        assert candidates_for(s, BRIEF_SPUN, CFG) == []
        s.index.compact(merge=True)
        assert s.db.execute("SELECT count(*) FROM fingerprints").fetchone()[0] == 0
        assert candidates_for(s, BRIEF_SPUN, CFG) == []


def test_extra_votes_let_a_brief_pass_but_do_not_rank_it_above_long_articles(tmp_path: Path):
    """Twenty-five briefs repeat the first third of a story; a page that rewrites the story and copies a stretch of
    its tail shares more postings with each brief (all of whose 3-grams are indexed) than with the story's
    window-8 sample. Ranked by raw counts the briefs would push the story out of max_candidates (20)."""
    background = " ".join(ARTICLE.split()[:60])
    with Store(tmp_path / "s.db") as s:
        sid = track_text(s, Original("file:///story.txt", "Story", LONG_ARTICLE)).id
        for k in range(25):
            track_text(s, Original(f"file:///brief{k}.txt", f"Brief {k}",
                                   f"Brief number {k} on the works. " + background + "\n" + _filler(15, f"b{k}x")))
        page = REWRITE + "\n" + _filler(30, "quelbrin")
        hashes = page_fingerprints_of(page)
        votes = s.index.votes(hashes)
        assert sum(n > votes[sid] for a, n in votes.items() if a != sid) > CFG.max_candidates
        assert s.candidates(hashes, 3, CFG.max_candidates)[0][0] == sid


def test_whole_briefs_copied_with_a_passage_of_a_long_story_leave_the_story_a_candidate(tmp_path: Path):
    """A roundup page copies a 150-word passage of a 600-word story and 20 whole 100-word briefs. Each brief meets
    all its 3-grams; were its extra votes added to its fingerprint votes (or counted raw), the 20 briefs would all
    rank above the story, push it out of max_candidates and its copy would never be compared."""
    story = _filler(600, "storyw")
    briefs = [_filler(100, f"brief{k}w") for k in range(20)]
    page = " ".join(story.split()[:150]) + "\n" + "\n".join(briefs)
    with Store(tmp_path / "s.db") as s:
        sid = track_text(s, Original("file:///story.txt", "Story", story)).id
        for k, b in enumerate(briefs):
            track_text(s, Original(f"file:///b{k}.txt", f"Brief {k}", b))
        votes = s.index.votes(page_fingerprints_of(page))
        assert sum(n > votes[sid] for a, n in votes.items() if a != sid) == 20
        ranked = [a for a, _ in candidates_for(s, page, CFG)]
        assert len(ranked) == CFG.max_candidates and sid in ranked
        assert "Story" in [f.article.title for f in find_copies(s, page, CFG)]
