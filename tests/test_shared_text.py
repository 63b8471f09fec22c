"""Text the user's own tracked articles share (a publisher's "About us" paragraph) is not evidence of copying
either of them: a page carrying only that text is no copy, and a copy of one article is not also reported as a
partial copy of the other."""

from __future__ import annotations

from pathlib import Path

from monitor.config import MatchSettings
from monitor.scan import Original, find_copies, track_text
from monitor.store import Store
from tests.conftest import provmon, write_config
from tests.test_match import BREAD_FILLER, WATER_ARTICLE

ABOUT = ("About Brackwater Water. Brackwater Water supplies drinking water to 61,000 homes and businesses in the "
         "Brack valley and treats the waste water of the whole district. It is owned by the four councils of the "
         "valley and run by a board of nine members, three of them elected by customers every four years.")
RELEASE = [
    "Brackwater Water opens new treatment works at Sallow Ford",
    "Brackwater Water has opened a treatment works at Sallow Ford that will supply the growing villages on the "
    "eastern side of the valley. The works can clean eleven million litres a day, enough for about 20,000 homes.",
    "The plant draws from a borehole sunk last spring and uses ultraviolet light instead of chlorine for the "
    "final stage of cleaning, which the company says cuts its chemical bill by a third.",
    "Operations director Neville Amadi said the site had been finished two months early and under budget. "
    "Tours for local schools will start in the new year.",
]
WATER = "Water bills to rise by nine per cent\n\n" + "\n\n".join([*WATER_ARTICLE, ABOUT])
NEWS_RELEASE = "\n\n".join([*RELEASE, ABOUT])


def in_bread(*paragraphs: str) -> str:
    return "\n\n".join([" ".join(BREAD_FILLER[:6]), *paragraphs, " ".join(BREAD_FILLER[6:])])


def found(store: Store, text: str) -> list[tuple[str, str]]:
    return [(f.article.url, f.match.kind) for f in find_copies(store, text, MatchSettings())]


def test_text_shared_by_two_tracked_articles_is_not_evidence(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/water", "w", WATER, plain=True))
        track_text(store, Original("https://pub.example/release", "r", NEWS_RELEASE, plain=True))
        assert found(store, in_bread(ABOUT)) == []
        assert found(store, "Home | News\n\n" + WATER + "\n\nLeave a Reply") == [("https://pub.example/water",
                                                                                 "verbatim")]
        # Three paragraphs of the story are its copy; the About paragraph next to them adds nothing, for either.
        assert found(store, in_bread(WATER_ARTICLE[5], WATER_ARTICLE[6], WATER_ARTICLE[7], ABOUT)) == [
            ("https://pub.example/water", "partial")]
        # Its last two short paragraphs are not a copy on their own: with the About paragraph they are still not.
        assert found(store, in_bread(WATER_ARTICLE[10], WATER_ARTICLE[11], ABOUT)) == []
        # What the release says besides the shared paragraph is still its copy.
        assert found(store, in_bread(RELEASE[1], RELEASE[2], ABOUT)) == [("https://pub.example/release", "partial")]
        assert found(store, "Press desk\n\n" + NEWS_RELEASE) == [("https://pub.example/release", "verbatim")]


def test_the_same_paragraph_in_one_tracked_article_only_is_evidence(tmp_path: Path) -> None:
    """The rule needs a second tracked article holding the text: alone, the release's paragraphs are its copy. (The
    release's last paragraph has two sentences: a copy only with the About paragraph's two counted. Its
    "About Brackwater Water." shares two content words and is no narrative sentence since session 9.)"""
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/release", "r", NEWS_RELEASE, plain=True))
        assert found(store, in_bread(RELEASE[3], ABOUT)) == [("https://pub.example/release", "partial")]
        assert found(store, in_bread(RELEASE[3])) == []


def test_tracked_versions_of_one_story_are_not_each_others_boilerplate(tmp_path: Path) -> None:
    """The same story under two URLs with a different headline (an AMP page, an update): each holds all of the
    other, so a copy of it, whole or in part, is still found."""
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/water", "w", WATER, plain=True))
        track_text(store, Original("https://pub.example/water-amp", "w", "Bills up 9%\n\n" + WATER, plain=True))
        assert ("https://pub.example/water", "verbatim") in found(store, "Mirror\n\n" + WATER)
        part = in_bread(*WATER_ARTICLE[1:6])
        assert sorted(found(store, part)) == [("https://pub.example/water", "partial"),
                                              ("https://pub.example/water-amp", "partial")]


def test_overlapping_excerpts_of_one_text_are_not_each_others_boilerplate(tmp_path: Path) -> None:
    """Two tracked excerpts of one text overlapping by three quarters (paragraphs 0-7 and 2-9): a page copying what
    they share holds half of each one's rest or less, so each read the other as boilerplate and the page, a copy of
    both, was reported for neither. Each holds over half of the other: versions, nothing blanked (bench/crawl_farm.py:
    its tracked slices of the PAN sources overlap, and 14 of its 200 planted copies were missed this way)."""
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/part1", "1", "\n\n".join(WATER_ARTICLE[0:8]), plain=True))
        track_text(store, Original("https://pub.example/part2", "2", "\n\n".join(WATER_ARTICLE[2:10]), plain=True))
        assert sorted(found(store, in_bread(*WATER_ARTICLE[2:8]))) == [("https://pub.example/part1", "partial"),
                                                                       ("https://pub.example/part2", "verbatim")]
        assert sorted(found(store, in_bread(*WATER_ARTICLE[2:6]))) == [("https://pub.example/part1", "partial"),
                                                                       ("https://pub.example/part2", "partial")]


def test_a_shared_paragraph_longer_than_the_rest_of_a_short_release_is_still_no_evidence(tmp_path: Path) -> None:
    """A two-sentence release ending in the long About paragraph: the paragraph is most of it, yet a page carrying
    only that paragraph copies neither tracked article."""
    short = "\n\n".join([RELEASE[0], RELEASE[3], ABOUT])
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/water", "w", WATER, plain=True))
        track_text(store, Original("https://pub.example/short", "s", short, plain=True))
        assert len(ABOUT) > len(short) / 2
        assert found(store, in_bread(ABOUT)) == []
        assert found(store, "Press desk\n\n" + short) == [("https://pub.example/short", "verbatim")]


def test_check_does_not_report_a_page_of_shared_boilerplate(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.toml", "")
    (tmp_path / "water.txt").write_text(WATER, encoding="utf-8")
    (tmp_path / "release.txt").write_text(NEWS_RELEASE, encoding="utf-8")
    (tmp_path / "about.txt").write_text(in_bread(ABOUT), encoding="utf-8")
    r = provmon("--config", str(cfg), "track", str(tmp_path / "water.txt"), str(tmp_path / "release.txt"))
    assert r.code == 0, r.err
    r = provmon("--config", str(cfg), "check", str(tmp_path / "about.txt"))
    assert r.code == 1 and "no copy of a tracked article" in r.out, r.out  # 1: no copy found
