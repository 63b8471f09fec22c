"""Why a page is no copy: `match.explain` names the step of the copy rule a page fails, `scan.closest` the tracked
article it came closest to copying, and `provmon check` prints both for one page (or every page with --why)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import match as M
from monitor.config import MatchSettings
from tests.conftest import provmon, write_config

# A tracked article of twenty narrative sentences, written for this test.
SENTENCES = [
    "The Harrowgate public library reopened on Monday after an eighteen month renovation of its old reading room.",
    "Builders replaced the leaking glass roof, rewired every floor and uncovered a mosaic hidden under old carpet.",
    "Volunteers spent the final week carrying forty thousand books back from a borrowed warehouse near the canal.",
    "The children's section moved downstairs into the former boiler house, which now has a reading garden outside.",
    "Council engineers had warned three winters ago that the roof timbers were rotting above the main staircase.",
    "A campaign led by retired teachers raised most of the money through jumble sales, sponsored walks and auctions.",
    "The heritage lottery fund paid for the mosaic to be cleaned and for new oak shelving along the gallery.",
    "Opening hours return to six days a week, with late evenings on Thursdays for students preparing for exams.",
    "Local historians found letters from the library's first librarian tucked behind a loose panel in the attic.",
    "Those letters describe queues of mill workers waiting outside before dawn to borrow novels on their day off.",
    "A small exhibition of the letters fills the entrance hall until the end of the summer holidays this year.",
    "The computer room now holds twenty new machines, and printing is free for anyone looking for work.",
    "Wheelchair users can reach every floor for the first time, thanks to a lift built into the old coal chute.",
    "The café by the front door is run by a social enterprise that trains young people leaving care.",
    "Several regular readers arrived before the doors opened and applauded when the head librarian cut the ribbon.",
    "One pensioner returned a book he had borrowed in nineteen seventy, apologising for the very late fine.",
    "Staff waived the fine and put the battered volume on display beside the first librarian's letters.",
    "The renovation finished under budget, and the spare money will buy audiobooks for the housebound service.",
    "Next spring the library hopes to restore the clock tower, which stopped during a storm a decade ago.",
    "Anyone who wants to help can sign up at the front desk or join the friends of the library group.",
]
ARTICLE = "Library reopens after renovation\n\n" + "\n\n".join(
    " ".join(SENTENCES[k:k + 2]) for k in range(0, len(SENTENCES), 2))
OWN = ("Our town's market square will be closed to traffic on Saturday for the annual cheese fair. Stallholders come "
       "from four counties and bring goat, sheep and cow's milk cheeses. Parking is available at the rugby club, with "
       "a free shuttle bus every twenty minutes. The fair opens at nine in the morning and closes at five. Last year "
       "more than three thousand visitors came, and organisers expect more this time. A brass band plays at noon "
       "outside the town hall. Children can try making butter at a stall run by the young farmers. Dogs on leads are "
       "welcome, but organisers ask owners to keep them away from the food tents.")


def page_with(*indices: int) -> str:
    """Our own text with the article's sentences `indices`, word for word, pasted in the middle."""
    half = OWN.split(". ")
    return ". ".join(half[:4]) + ". " + " ".join(SENTENCES[k] for k in indices) + " " + ". ".join(half[4:])


def near(page: str) -> M.NearMiss | None:
    return M.explain(M.Prepared.of(ARTICLE), M.Prepared.of(page), MatchSettings())


def test_explain_says_nothing_of_a_copy() -> None:
    copy = page_with(*range(12))
    assert M.compare(M.Prepared.of(ARTICLE), M.Prepared.of(copy), MatchSettings()) is not None
    assert near(copy) is None


def test_an_unrelated_page_has_nothing_aligned() -> None:
    n = near(OWN)
    assert n is not None and n.step == M.NOTHING_ALIGNED
    assert (n.aligned_sentences, n.narrative_sentences, n.longest_run) == (0, 0, 0)


def test_one_sentence_copied_is_no_evidence_and_says_what_a_copy_needs() -> None:
    n = near(page_with(8))
    assert n is not None and n.step == M.NO_EVIDENCE
    assert (n.aligned_sentences, n.narrative_sentences, n.narrative_run) == (1, 1, 1)
    assert n.longest_run == len(SENTENCES[8].split())
    assert "at most 1 sentence of the article's own telling in a row" in n.reason
    assert "match.min_run = 2" in n.reason


def test_two_sentences_in_a_row_mid_article_are_too_few() -> None:
    n = near(page_with(8, 9))
    assert n is not None and n.step == M.TOO_FEW
    assert n.narrative_run == 2
    assert "2 sentences of the article's own telling in the evidence" in n.reason
    assert "match.min_passages = 3" in n.reason


def test_three_sentences_of_twenty_are_too_little_of_the_article() -> None:
    n = near(page_with(8, 9, 10))
    assert n is not None and n.step == M.TOO_LITTLE
    assert n.narrative_sentences == 3 and 0.1 < n.coverage < 0.2
    assert "match.min_coverage = 0.2" in n.reason and "match.min_page_share = 0.5" in n.reason


def test_the_settings_named_are_the_ones_in_force() -> None:
    page = M.Prepared.of(page_with(8, 9, 10))
    n = M.explain(M.Prepared.of(ARTICLE), page, MatchSettings(min_coverage=0.4, min_page_share=0.9))
    assert n is not None and "match.min_coverage = 0.4" in n.reason and "match.min_page_share = 0.9" in n.reason
    assert M.explain(M.Prepared.of(ARTICLE), page, MatchSettings(min_coverage=0.1)) is None  # a copy then


@pytest.fixture
def tracked(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path / "config.toml", "")
    (tmp_path / "library.txt").write_text(ARTICLE, encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(tmp_path / "library.txt"))
    assert r.code == 0, r.err
    return cfg


def test_check_of_one_page_names_the_closest_article_and_why(tracked: Path, tmp_path: Path) -> None:
    page = tmp_path / "fair.txt"
    page.write_text(page_with(8, 9, 10), encoding="utf-8")
    r = provmon("--config", str(tracked), "check", str(page))
    assert r.code == 1, r.err  # no copy
    lines = r.out.splitlines()
    assert lines[0].endswith("fair.txt: no copy of a tracked article")
    assert lines[1].startswith('  closest: #1 "Library reopens after renovation"')
    assert "3 sentences of it aligned" in lines[1] and "3 of them its own telling" in lines[1]
    assert lines[2].startswith("  not a copy: the evidence is ") and "match.min_coverage = 0.2" in lines[2]

    (result,) = provmon("--config", str(tracked), "check", "--json", str(page)).json_lines()
    assert result["copies"] == []
    c = result["closest"]
    assert c["article"]["id"] == 1 and c["step"] == M.TOO_LITTLE and c["narrative_sentences"] == 3
    assert c["discounted"] is False and c["reason"] in r.out


def test_check_says_when_no_article_is_close(tracked: Path, tmp_path: Path) -> None:
    page = tmp_path / "own.txt"
    page.write_text(OWN, encoding="utf-8")
    r = provmon("--config", str(tracked), "check", str(page))
    assert "no tracked article shares enough of its wording to be compared with it" in r.out
    (result,) = provmon("--config", str(tracked), "check", "--json", str(page)).json_lines()
    assert result["closest"] is None


def test_many_pages_explain_only_with_why(tracked: Path, tmp_path: Path) -> None:
    for name, page in (("a.txt", page_with(8)), ("b.txt", page_with(*range(12)))):
        (tmp_path / name).write_text(page, encoding="utf-8")
    pages = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    plain = provmon("--config", str(tracked), "check", "--json", *pages).json_lines()
    assert all("closest" not in r for r in plain)
    why = {Path(r["url"]).name: r for r in provmon("--config", str(tracked), "check", "--json", "--why",
                                                   *pages).json_lines()}
    assert why["a.txt"]["closest"]["step"] == M.NO_EVIDENCE
    assert "closest" not in why["b.txt"] and why["b.txt"]["copies"]  # a copy has its evidence, no near miss
    r = provmon("--config", str(tracked), "check", "--why", *pages)
    assert "  not a copy: at most 1 sentence" in r.out


def test_a_page_whose_only_candidate_is_a_reference_text_says_so(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    (tmp_path / "release.txt").write_text(ARTICLE, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", "--reference", str(tmp_path / "release.txt")).code == 0
    page = tmp_path / "page.txt"
    page.write_text(page_with(*range(12)), encoding="utf-8")
    r = provmon("--config", str(cfg), "check", str(page))
    assert r.code == 1
    assert '  closest: #1 "Library reopens after renovation"' in r.out
    assert "  not a copy: it is a reference text (tracked with --reference), whose words no page is a copy of; " \
           "the page holds" in r.out
    (result,) = provmon("--config", str(cfg), "check", "--json", str(page)).json_lines()
    assert result["closest"]["step"] == "reference text" and result["closest"]["article"]["id"] == 1


def test_a_share_just_under_its_threshold_never_reads_as_reaching_it() -> None:
    why = M._Rejected(M.TOO_LITTLE, [], [], (0.1999, 0.4996))
    n = M._near_miss(why, M.Prepared.of(ARTICLE), M.Prepared.of(OWN), MatchSettings())
    assert "the evidence is 19.9% of the article and 49.9% of the page" in n.reason


def test_a_weak_pair_joined_only_through_a_loose_one_leaves_with_it() -> None:
    """Past a verbatim edge, the copier's own lines: the loose pair goes, and a weak one linked to the passage only
    through it goes too (a review found it kept, the passage still running over the copier's lines)."""
    own = OWN.split(". ")
    lines = [own[0] + ".", *SENTENCES[0:4], own[2] + ".", own[3] + ".",
             "Lottery money paid for work on the mosaic and the gallery.",
             "From now on opening hours return to normal, and pupils revising can stay late.", own[5]]
    article = M.Prepared.of("\n\n".join(SENTENCES[:12]))
    m = M.compare(article, M.Prepared.of("\n\n".join(lines)), MatchSettings())
    assert m is not None
    (passage,) = m.passages
    assert passage.verbatim and passage.article_end == article.sentences[3].end
