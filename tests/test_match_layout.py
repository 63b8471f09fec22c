# ruff: noqa: E501  (long lines are paragraphs of test text)
"""Layout and the copy rule: headline lines, paragraph breaks and furniture lines between copied paragraphs."""

from __future__ import annotations

from monitor.config import MatchSettings
from monitor.match import Prepared, _pairs, compare
from tests.test_match import ARTICLE as FIRE_ARTICLE
from tests.test_match import INDEPENDENT

CFG = MatchSettings()

HEADLINE = "Storm floods Millbrook valley as river bursts its banks"
BODY = [
    "MILLBROOK — The River Ashby burst its banks early on Sunday after two days of torrential rain, flooding more than 200 homes in the Millbrook valley and cutting the main road to the coast.",
    "Emergency crews used boats to reach families trapped on the upper floors of houses along Mill Lane, where the water rose to almost two metres within a few hours. The county fire service said it had carried out 43 rescues by midday, including an elderly couple lifted from a bedroom window.",
    "“I have lived here for fifty years and I have never seen the river come up this fast,” said Harold Pemberton, a retired teacher whose ground floor was under water.",
    "The Environment Agency had issued a severe flood warning on Saturday evening, but residents said the alert reached many of them only after the water was already in the streets. Several complained that the sirens installed after the floods of 2007 did not sound at all.",
    "Council leader Priya Raman said the authority would review how the warning had been passed on. She opened the town hall and two schools as rest centres, where about 350 people spent Sunday night on camp beds provided by the Red Cross.",
    "“Our first priority is keeping people safe, and the questions about the warning system will be answered,” Ms Raman said.",
    "Engineers warned that the old stone bridge at Ashby Cross had been damaged by debris carried downstream and would stay closed until divers could inspect its foundations. The closure adds a detour of around twenty miles for drivers heading to the coast.",
    "Farmers in the lower valley said thousands of acres of winter wheat had been lost and that livestock had to be moved to higher ground in the dark. The National Farmers Union estimated the damage to crops at several million pounds.",
    "Shopkeepers on the high street spent Monday morning shovelling mud out of their doorways and throwing away stock that had been soaked overnight. The owner of a hardware store said she had sold out of sandbags within an hour of opening on Saturday.",
    "Schools across the valley will remain closed for the rest of the week, the county council said, and bus services have been suspended on the routes that use the flooded roads.",
    "Forecasters expect the rain to ease by Tuesday, although river levels downstream are likely to keep rising for another day as water drains from the hills. Residents were told not to return to their homes until the electricity supply had been checked.",
    "The government said it would consider emergency funding once the full cost of the damage was known.",
]
ARTICLE = HEADLINE + "\n\n" + "\n\n".join(BODY)
FURNITURE = ["Related: Council approves budget for new leisure centre", "ADVERTISEMENT", "ADVERTISEMENT"]


def run(article: str, page: str):
    return compare(Prepared.of(article), Prepared.of(page), CFG)


def with_furniture(paragraphs: list[str], sep: str = "\n\n") -> str:
    return sep.join(x for para in paragraphs for x in (para, *FURNITURE))


def test_a_replaced_headline_is_not_counted_as_copied():
    """The lede is not the second half of a sentence split from the headline: the original headline, which
    is not on the page, is in no passage and not in the coverage."""
    page = "Council announces new parking charges for the town centre\n\n" + "\n\n".join(BODY)
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "verbatim"
    assert all(p.article_start >= len(HEADLINE) for p in m.passages)
    article = Prepared.of(ARTICLE)
    body_chars = sum(s.end - s.start for s in article.sentences[1:])
    assert m.coverage == round(body_chars / article.chars, 3) < 1.0
    [p] = m.passages
    assert p.verbatim
    assert ARTICLE[p.article_start:p.article_end] == "\n\n".join(BODY)
    assert page[p.page_start:p.page_end] == "\n\n".join(BODY)


def test_a_byte_exact_copy_is_one_verbatim_passage():
    """The headline aligns with itself only, not also with the lede below it."""
    m = run(ARTICLE, ARTICLE)
    assert m is not None and m.kind == "verbatim" and m.coverage == 1.0
    [p] = m.passages
    assert p.verbatim
    assert (p.article_start, p.article_end, p.page_start, p.page_end) == (0, len(ARTICLE), 0, len(ARTICLE))


def test_an_excerpt_below_another_headline_does_not_cover_the_original_headline():
    excerpt = "\n\n".join(BODY[:4])
    page = "Weekend weather: what to expect\n\n" + excerpt
    m = run(ARTICLE, page)
    assert m is not None
    assert all(p.article_start >= len(HEADLINE) for p in m.passages)


def test_a_headline_is_not_the_first_half_of_its_lede_but_a_flattened_heading_is():
    """Across a paragraph end or out of a heading line, halves are joined only when each brings words of the
    whole that the other lacks: a headline restating its lede brings none; a heading run together with the
    line below it on the page (layout flattened) does."""
    lede_only = Prepared.of("Sport\n\n" + BODY[0])
    pairs = {(p.i, p.j): p for p in _pairs(Prepared.of(ARTICLE), lede_only, CFG)}
    assert set(pairs) == {(1, 1)} and pairs[1, 1].sim == 1.0
    heading = "Inquiry promised into flood alerts"
    article = Prepared.of(heading + "\n\n" + BODY[4])
    flattened = Prepared.of(heading + " " + BODY[4])
    pairs = {(p.i, p.j): p for p in _pairs(article, flattened, CFG)}
    assert {(0, 0), (1, 0)} <= set(pairs) and pairs[0, 0].strong and pairs[0, 0].sim > 0.9


def test_furniture_lines_between_copied_paragraphs_leave_a_verbatim_copy():
    """Three short lines ("Related: ...", "ADVERTISEMENT" twice) after every paragraph: they are not skipped
    sentences of the copy, so one-sentence paragraphs (the lede, the quotes) stay in the evidence."""
    lede = ARTICLE.index(BODY[0]), ARTICLE.index(BODY[0]) + len(BODY[0])
    for sep in ("\n\n", "\n"):
        page = with_furniture([HEADLINE, *BODY], sep)
        m = run(ARTICLE, page)
        assert m is not None and m.kind == "verbatim"
        assert m.coverage >= 0.95
        assert any(p.article_start <= lede[0] and lede[1] <= p.article_end for p in m.passages)
        assert all(p.verbatim for p in m.passages)


def test_short_furniture_lines_with_a_full_stop_are_furniture_too():
    """"Advertisement." and "Continue reading below." after every paragraph, three lines: lines of at most
    FURNITURE_WORDS words are not skipped sentences of the copy, final punctuation or not."""
    furniture = ["Advertisement.", "Continue reading below.", "Advertisement."]
    for sep in ("\n\n", "\n"):
        page = sep.join(x for para in [HEADLINE, *BODY] for x in (para, *furniture))
        m = run(ARTICLE, page)
        assert m is not None and m.kind == "verbatim" and m.coverage >= 0.95


def test_furniture_lines_in_an_independent_report_do_not_make_it_a_copy():
    page = with_furniture(INDEPENDENT.split("\n\n"))
    assert run(FIRE_ARTICLE, page) is None
    page = "\n\n".join(x for para in INDEPENDENT.split("\n\n") for x in (para, "Advertisement.", "Read more."))
    assert run(FIRE_ARTICLE, page) is None
    assert run(FIRE_ARTICLE, INDEPENDENT) is None
