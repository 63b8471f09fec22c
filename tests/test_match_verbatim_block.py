"""A stretch of a quote-heavy article copied whole: two narrative sentences and the quotes between them.

News quotes people at length, so a third of an article is often a narrative sentence, the quote paragraph it
leads to and the next narrative sentence: two narrative sentences, where `min_passages` asks for three. Copied
word for word and in order, that is a copy of the stretch (monitor.match._verbatim_block); independent reports
share the quote, not the sentences around it. Found by bench/spin_curve.py on real news (30% excerpts, 0.919 ->
0.978). Texts written for these tests.
"""

from __future__ import annotations

import dataclasses

from monitor.config import MatchSettings
from monitor.match import Prepared, compare

CFG = MatchSettings()

FERRY = [
    "Ferry operator cuts winter sailings to Skarholm",
    "The Skarholm ferry will run only twice a week from December after its operator, Nordwake Lines, cut the "
    "winter timetable to save fuel.",
    "The island's six hundred residents learned of the change in a letter delivered on Monday, three weeks before "
    "the first cancelled sailing.",
    "\"We know this is hard news for the island, and we did not take the decision lightly,\" said Nordwake's "
    "managing director, Freya Lindqvist. \"Every empty crossing costs us more than a full one earns.\"",
    "The council's harbour committee will meet on Thursday to discuss whether it can pay for a third weekly "
    "sailing out of its own reserves.",
    "\"People here need the boat for hospital appointments, for school, for the shop,\" said the island's "
    "councillor, Arne Holm. \"Twice a week is not a service, it is a gesture.\"",
    "The crossing takes fifty minutes and carried forty-one thousand passengers last year, a quarter fewer than "
    "before the pandemic.",
    "Nordwake said the full timetable would return in April.",
]
ARTICLE = "\n\n".join(FERRY)

BLOG = [
    "Notes from the north coast",
    "I spent most of October walking the cliff paths between the fishing villages, and the weather was kinder "
    "than any forecast promised. The heather had gone brown but the bracken was copper, and on clear mornings you "
    "could see the outer islands as a row of grey backs on the horizon.",
    "Someone in the campsite kitchen passed round a news story this week that has the whole coast talking:",
    "Whatever the rights and wrongs, it made me think about how much the small places here depend on one road, "
    "one bus or one boat. I will be back in spring with better boots and a lighter pack, and I hope the timetable "
    "is kinder by then.",
]


def blog_with(paragraphs: list[str]) -> str:
    return "\n\n".join(BLOG[:3] + paragraphs + BLOG[3:])


def test_a_stretch_with_its_quotes_copied_whole_into_a_blog_is_a_partial_copy() -> None:
    page = blog_with(FERRY[4:7])  # narrative, the councillor's two quoted sentences, narrative
    m = compare(Prepared.of(ARTICLE), Prepared.of(page), CFG)
    assert m is not None and m.kind == "partial", m
    assert m.coverage >= CFG.min_coverage and m.page_share < CFG.min_page_share
    # It is the block that decides: two narrative sentences are under min_passages, and with a block asked to be
    # longer than the stretch, or to hold three narrative sentences, the page is no copy.
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), dataclasses.replace(CFG, min_passages=5)) is None
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), dataclasses.replace(CFG, min_run=3)) is None


def test_the_same_stretch_with_its_narrative_reworded_is_not_a_copy() -> None:
    """The quote paragraph word for word, the sentences around it in the page's own words: what an independent
    report of the meeting looks like."""
    page = blog_with([
        "On Thursday the harbour committee of the council meets to weigh paying for a third sailing each week from "
        "its reserves.",
        FERRY[5],
        "The fifty-minute crossing had forty-one thousand passengers last year, down a quarter on the years before "
        "the pandemic.",
    ])
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), CFG) is None


def test_a_shared_quote_and_one_sentence_word_for_word_are_not_a_copy() -> None:
    """Three sentences in a row word for word, but only one of them narrative: a report that took the quote and
    a stock figure, as outlets covering one event do."""
    page = blog_with([FERRY[5], FERRY[6]])
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), CFG) is None


def test_two_narrative_sentences_around_a_quote_out_of_order_are_not_a_block() -> None:
    """The same three paragraphs, the last first: no stretch of the article in its order."""
    page = blog_with([FERRY[6], FERRY[4], FERRY[5]])
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), CFG) is None
