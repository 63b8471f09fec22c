"""Invisible characters and homoglyphs inside words do not hide a verbatim copy.

Soft hyphens (hyphenation plugins, `&shy;`), zero-width spaces and word joiners inside words, and Latin letters
swapped for Cyrillic lookalikes leave a copy looking exactly like the article; the copy is still flagged
verbatim, its source is still proposed by the index, and evidence offsets still point into the original
strings. Genuine Cyrillic and Greek words keep their letters. The article text is our own.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from monitor.config import MatchSettings
from monitor.extract import text_of
from monitor.fingerprint import (
    article_fingerprints_of,
    normalisation_changed,
    page_fingerprints,
    page_fingerprints_of,
)
from monitor.match import Match, Prepared, compare
from monitor.scan import Original, candidates_for, find_copies, track_text
from monitor.store import Store
from monitor.text import IGNORABLE, fold, tokens

CFG = MatchSettings()

ARTICLE = """The passenger ferry between Caldwick and the island of Merrow returned to service on Monday after seven \
weeks in dry dock, where engineers replaced both propeller shafts and rebuilt the steering gear.

The vessel, which carries up to four hundred passengers and sixty vehicles, was withdrawn in early spring when \
inspectors found cracks in a bearing housing during a routine survey. Islanders had to rely on a smaller chartered \
boat that could not take lorries, and several shopkeepers on Merrow said deliveries of fresh produce had been \
delayed by days at a time.

The operator, Northsound Shipping, said the repairs cost about two million pounds and were paid for by its \
insurers. Its managing director, Helen Prowse, apologised to travellers and thanked the harbour crews who had \
kept the temporary service running through storms in April.

Timetables published on the company website show the ferry returning to its full summer schedule of eleven \
crossings a day from the first weekend of June. Early morning sailings will again carry the school bus, which \
had been forced to take a long detour across the causeway at low tide.

Local councillors welcomed the news but repeated their call for a second vessel to be based at Caldwick, \
arguing that a single breakdown should not cut off a community of three thousand people. A consultation on \
the future of the route is expected to open in the autumn, and the regional transport authority has promised \
to publish the engineering report in full.

Fishermen in the harbour said the weeks without the ferry had been quieter than any they could remember. One \
skipper, who has worked from Merrow for thirty years, said the island felt further from the mainland than it \
had in decades, and that visitors had cancelled holidays in large numbers.

The chartered replacement boat will stay in the area until the end of the month as a reserve, the operator said, \
in case further faults appear during the first weeks of regular sailing. Engineers from the shipyard will travel \
on several crossings to monitor vibration in the new shafts and adjust the steering system where necessary.
"""

CYRILLIC = str.maketrans("aeopcxyijs", "аеорсхуіјѕ")  # Latin -> Cyrillic lookalikes
LATIN = str.maketrans("аеорсхуіјѕ", "aeopcxyijs")


def soft_hyphenated(text: str, mark: str = "\u00ad") -> str:
    """The audit's repro: a mark after the third letter of every word of six letters or more."""
    return re.sub(r"\w{6,}", lambda m: m[0][:3] + mark + m[0][3:], text)


def homoglyphed(text: str) -> str:
    """Every third word (two letters or more) with its Latin letters swapped for Cyrillic lookalikes, keeping at
    least one Latin letter in it (a word of lookalikes only is indistinguishable from a Cyrillic word)."""
    k = 0

    def swap(m: re.Match[str]) -> str:
        nonlocal k
        k += 1
        word = m[0]
        if k % 3:
            return word
        new = word.translate(CYRILLIC)
        if not re.search("[a-zA-Z]", new):  # keep the first letter Latin
            new = word[0] + new[1:]
        return new

    return re.sub(r"[A-Za-z]{2,}", swap, text)


def verbatim(page: str) -> Match:
    m = compare(Prepared.of(ARTICLE), Prepared.of(page), CFG)
    assert m is not None, "no copy"
    assert m.kind == "verbatim" and m.coverage > 0.95, m
    return m


def check_passages(m: Match, page: str, undo) -> None:
    """Each passage's page slice, with the disguise undone, is the article's slice (or contains it)."""
    assert m.passages
    for p in m.passages:
        a = ARTICLE[p.article_start:p.article_end]
        b = undo(page[p.page_start:p.page_end])
        assert a and b
        assert a in b or b in a, (a[:80], b[:80])
    # The whole article is covered, on both sides.
    assert min(p.article_start for p in m.passages) == 0
    assert undo(page[min(p.page_start for p in m.passages):]).startswith("The passenger ferry")


def strip_ignorable(s: str) -> str:
    return re.sub(f"[{IGNORABLE}]", "", s)


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(tmp_path / "provmon.db")
    s.ferry_id = track_text(s, Original("file:///originals/ferry.txt", "Ferry", ARTICLE)).id  # type: ignore[attr-defined]
    track_text(s, Original("file:///originals/other.txt", "Other",
               "A new footbridge over the river Lune opened on Saturday, two years late and well over budget. "
               "Walkers crossed it all afternoon while a brass band played on the south bank. The council said "
               "lighting would be added in the winter and that the old ford would remain closed to cars."))
    yield s
    s.close()


def assert_found(store: Store, page: str) -> None:
    assert article_fingerprints_of(ARTICLE) <= page_fingerprints_of(page)  # every indexed hash is on the page
    assert [a for a, _ in candidates_for(store, page, CFG)] == [store.ferry_id]  # type: ignore[attr-defined]
    found = find_copies(store, page, CFG)
    assert [f.article.title for f in found] == ["Ferry"]
    assert found[0].match.kind == "verbatim"


@pytest.mark.parametrize("mark", ["\u00ad", "\u200b", "\u2060", "\ufeff", "\u200d\u00ad"])
def test_invisible_marks_inside_words_are_a_verbatim_copy(store: Store, mark: str) -> None:
    page = soft_hyphenated(ARTICLE, mark)
    assert page.count(mark) > 100
    m = verbatim(page)
    check_passages(m, page, strip_ignorable)
    assert_found(store, page)


def test_token_offsets_point_at_the_hyphenated_words() -> None:
    page = soft_hyphenated(ARTICLE)
    a, b = tokens(ARTICLE), tokens(page)
    assert [t.word for t in a] == [t.word for t in b]
    for ta, tb in zip(a, b, strict=True):
        assert strip_ignorable(page[tb.start:tb.end]) == ARTICLE[ta.start:ta.end]
    ship = next(t for t in b if t.word == "passenger")
    assert page[ship.start:ship.end] == "pas\u00adsenger"


def test_shy_entities_in_html_are_a_verbatim_copy(store: Store) -> None:
    paras = [p for p in ARTICLE.split("\n\n") if p.strip()]
    body = "".join("<p>" + re.sub(r"\w{6,}", lambda m: m[0][:3] + "&shy;" + m[0][3:], p) + "</p>"
                   for p in paras)
    html = (f"<html><head><title>Ferry back</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Ferry back</h1>{body}</article><footer>A scraper</footer></body></html>")
    assert "<p>The pas&shy;senger ferry" in html
    page = text_of(html.encode(), "text/html; charset=utf-8", "https://scraper.example/ferry").text
    assert "pas\u00adsenger" in page
    m = verbatim(page)
    check_passages(m, page, strip_ignorable)
    assert_found(store, page)


def test_cyrillic_lookalikes_in_a_third_of_the_words_are_a_verbatim_copy(store: Store) -> None:
    page = homoglyphed(ARTICLE)
    changed = sum(a != b for a, b in zip(ARTICLE.split(), page.split(), strict=True))
    assert changed > 0.25 * len(ARTICLE.split())
    assert page != ARTICLE and page.translate(LATIN) == ARTICLE
    m = verbatim(page)
    check_passages(m, page, lambda s: s.translate(LATIN))
    assert_found(store, page)
    for ta, tb in zip(tokens(ARTICLE), tokens(page), strict=True):
        assert (ta.word, ta.start, ta.end) == (tb.word, tb.start, tb.end)


def test_greek_lookalikes_in_latin_words_are_folded() -> None:
    page = "Τhe pαssenger ferry returned tο service οn Μonday"  # Greek T, alpha, omicron, capital Mu
    assert [t.word for t in tokens(page)] == "the passenger ferry returned to service on monday".split()


def test_genuine_cyrillic_and_greek_words_keep_their_letters() -> None:
    russian = "Паром между островом и материком вернулся в строй после семи недель ремонта."
    greek = "Το πλοίο επέστρεψε στη γραμμή μετά από επτά εβδομάδες επισκευών."
    for text in (russian, greek):
        words = [t.word for t in tokens(text)]
        assert words == re.findall(r"\w+", text.lower())
        assert not any(w.isascii() for w in words)
        assert not normalisation_changed(text)
    # Invisible marks inside a Russian word are dropped, the letters stay.
    assert [t.word for t in tokens("Па\u00adром вер\u200bнулся")] == ["паром", "вернулся"]
    # A word of lookalike letters only (Russian "рос", "сор") is a Cyrillic word, not a swap.
    assert fold("рос") == "рос" and fold("сор") == "сор"


def test_every_format_character_is_ignored_inside_words() -> None:
    """IGNORABLE lists category Cf as of this Python's Unicode; a newer Unicode that adds some fails here."""
    cf = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert len(cf) > 150
    for c in cf:
        assert [t.word for t in tokens(f"pas{c}senger")] == ["passenger"], hex(ord(c))


def test_marks_between_words_still_separate_them() -> None:
    assert [t.word for t in tokens("one \u200btwo\u00ad three\u2060 four")] == ["one", "two", "three", "four"]


def test_fast_fingerprint_path_equals_token_path_on_disguised_text() -> None:
    for page in (soft_hyphenated(ARTICLE), soft_hyphenated(ARTICLE, "\u200b"), homoglyphed(ARTICLE)):
        assert page_fingerprints_of(page) == page_fingerprints(tokens(page)) == page_fingerprints_of(ARTICLE)


def test_normalisation_changed_names_exactly_the_texts_whose_words_changed() -> None:
    assert normalisation_changed(soft_hyphenated(ARTICLE))
    assert normalisation_changed(soft_hyphenated(ARTICLE, "\u2060"))
    assert normalisation_changed(homoglyphed(ARTICLE))
    assert normalisation_changed("A Greek beta in 1βfor.")
    assert not normalisation_changed(ARTICLE)
    fancy = "The mayor\u2019s \u201cnew\u201d plan \u2014 a sea\u00a0wall\u2026 caf\u00e9 na\u00efve \ufeff \u200b x"
    assert not normalisation_changed(fancy)  # typography, accents, marks between words: words unchanged
