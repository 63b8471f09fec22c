# ruff: noqa: E501  (long lines are paragraphs of test text)
"""Behaviour of the copy rule on texts written for these tests, and on the seeds when present."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from monitor import match as M
from monitor.config import MatchSettings
from monitor.fingerprint import article_fingerprints, page_fingerprints
from monitor.match import PAN_ALIGN, AlignParams, Prepared, align, compare

CFG = MatchSettings()
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

PARAGRAPHS = [
    "HARBORTON — A fire swept through the old grain terminal on the Harborton waterfront on Tuesday night, "
    "destroying two warehouses and forcing the evacuation of about 300 residents from nearby apartment blocks. "
    "Nobody was killed, but four firefighters were treated for smoke inhalation.",
    "The blaze was first reported shortly after 9 p.m. by a ferry captain who saw flames rising from the roof of "
    "the eastern warehouse. Within an hour the fire had jumped a narrow service road and reached the second "
    "building, where sacks of fertiliser were stored.",
    "Fire Chief Dana Okafor said crews from six neighbouring towns were called in to help contain the flames. "
    "Strong winds off the bay made the work slower and more dangerous than usual, she added.",
    "“We were fighting the wind as much as the fire,” Chief Okafor told reporters at a briefing on Wednesday "
    "morning.",
    "The terminal, built in 1911, had been empty for most of the last decade while the city argued over plans "
    "to turn it into a market hall. Preservation groups had warned repeatedly that the wooden structures were "
    "a fire risk and asked the council to install sprinklers.",
    "Mayor Luis Carvalho said an independent inquiry would examine why the sprinkler work, approved by the "
    "council in 2019, had never been carried out. He promised that its findings would be published in full.",
    "Residents who were evacuated spent the night in a school gymnasium on Bellamy Street, where volunteers "
    "from the Red Cross handed out blankets and hot meals. Most were allowed to return home by Wednesday "
    "afternoon after air quality tests came back clear.",
    "Investigators have not yet determined the cause of the fire. Police said there was no immediate evidence "
    "of arson but that they had not ruled anything out and were reviewing footage from harbour cameras.",
    "Local business owners said the loss of the terminal was a blow to a neighbourhood that had been counting "
    "on the market hall project to bring visitors back to the waterfront after years of decline.",
    "The council is expected to hold an emergency session on Friday to discuss the site's future and the cost "
    "of clearing the debris, which engineers estimate at more than two million dollars.",
]
ARTICLE = "\n\n".join(PARAGRAPHS)

# A spun copy: synonyms swapped, clauses rephrased, one paragraph dropped, headline changed.
SPUN = """Massive Blaze Wrecks Historic Harborton Terminal

HARBORTON – A fire tore through the old grain terminal on the Harborton harbourfront on Tuesday evening, wrecking two warehouses and forcing the evacuation of roughly 300 residents from adjacent apartment blocks. No one died, but four firefighters were treated for smoke inhalation.

The fire was first spotted shortly after 9 p.m. by a ferry skipper who noticed flames rising from the roof of the eastern warehouse. Within an hour the blaze had crossed a narrow service road and reached the second building, where bags of fertiliser were kept.

Fire Chief Dana Okafor said teams from six nearby towns were summoned to help contain the flames. Powerful winds off the bay made the job slower and more hazardous than normal, she added.

The terminal, constructed in 1911, had been vacant for most of the past decade while the city quarrelled over plans to convert it into a market hall. Heritage groups had cautioned repeatedly that the wooden structures were a fire hazard and urged the council to fit sprinklers.

Mayor Luis Carvalho said an independent inquiry would investigate why the sprinkler work, approved by the council in 2019, had never been done. He pledged that its conclusions would be released in full.

Investigators have not yet established the cause of the blaze. Police said there was no immediate sign of arson but that they had not excluded anything and were examining footage from harbour cameras.

The council is due to hold an emergency meeting on Friday to discuss the site's future and the cost of removing the debris, which engineers put at more than two million dollars.

Leave a Reply
Your email address will not be published."""

# Another outlet's own report of the same fire: same names, numbers and one shared quote.
INDEPENDENT = """Flames destroy derelict Harborton grain terminal

Two derelict warehouses at Harborton's grain terminal burned to the ground late Tuesday as firefighters from six towns battled gusting winds for most of the night.

About 300 people living in flats near the waterfront were moved to a school on Bellamy Street as a precaution. Four firefighters needed treatment for smoke inhalation, according to the fire department.

"We were fighting the wind as much as the fire," Fire Chief Dana Okafor said on Wednesday.

The 1911 terminal has stood unused for years. A plan to turn it into a market hall stalled amid disputes between the council and developers, and campaigners have long complained that nothing was done to protect the timber buildings.

Mayor Luis Carvalho faced questions on Wednesday about sprinklers that the council approved in 2019 but never installed. He said an inquiry would look into the delay.

Shop owners on nearby Quay Lane said they feared the waterfront would now struggle to attract visitors. "It was our best hope," said Mirela Santos, who runs a bakery two streets away.

Police are reviewing camera footage but say they have no evidence the fire was started deliberately. Clearing the site could cost more than two million dollars, engineers say, and councillors will meet on Friday."""

UNRELATED = """The city library will extend its opening hours from next month, staying open until 9 p.m. on weekdays.
Librarians said demand for study space had grown sharply since the university closed its own reading rooms
for renovation. A new children's corner with picture books in twelve languages will open in the spring, and
the library is looking for volunteers to run weekend storytelling sessions. Membership remains free for all
residents, and visitors can now borrow e-readers for up to three weeks at a time."""

FILLER = " ".join(
    f"Paragraph {k} of the host page talks about gardening, seasonal vegetables and the weather this spring, "
    f"with tips on watering tomatoes number {k} and keeping slugs away from lettuce bed {k}."
    for k in range(12)
)


def run(article: str, page: str, cfg: MatchSettings = CFG):
    return compare(Prepared.of(article), Prepared.of(page), cfg)


def check_offsets(m, article: str, page: str) -> None:
    """Every passage points at real text: both slices share most of their words."""
    for p in m.passages:
        assert 0 <= p.article_start < p.article_end <= len(article)
        assert 0 <= p.page_start < p.page_end <= len(page)
        a = set(re.findall(r"\w+", article[p.article_start:p.article_end].lower()))
        b = set(re.findall(r"\w+", page[p.page_start:p.page_end].lower()))
        assert len(a & b) >= 0.3 * min(len(a), len(b))
        assert 0 < p.score <= 1


def test_verbatim_copy_with_boilerplate_and_new_headline():
    page = ("Latest news | Subscribe | Login\n\nHuge fire on the waterfront\n\n" + ARTICLE
            + "\n\nOrignially published elsewhere. error: Content is protected !!\n\nShare on Facebook")
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "verbatim"
    assert m.coverage > 0.95 and m.page_share > 0.8
    assert m.longest_run > 300
    check_offsets(m, ARTICLE, page)


def test_the_longest_run_counts_words_as_written():
    """"forty-one" and "children's" are two tokens each but one word: a text copied whole has a run of its word
    count, not more (a blind review read 646 for a 644-word essay)."""
    article = ("Rafe learned to swim at forty-one, in the children's pool of the leisure centre on Cobb Street. "
               "His instructor, a retired lifeguard, kept the lessons short and the water warm. By the spring he could "
               "swim a length without stopping, and he booked a week by the sea to prove it to himself.")
    page = "Reader stories\n\n" + article + "\n\nShare this story"
    m = run(article, page)
    assert m is not None and m.longest_run == len(article.split())


def test_unicode_punctuation_changes_stay_verbatim_and_offsets_index_the_original():
    page = (ARTICLE.replace("“", '"').replace("”", '"').replace("—", "--").replace("'", "’")
            .replace(" ", "\u00a0", 40))
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "verbatim"
    check_offsets(m, ARTICLE, page)
    d = m.to_dict(ARTICLE, page)
    for p in d["passages"]:
        assert p["page_text"] == page[p["page_start"]:p["page_end"]]
        assert p["article_text"] == ARTICLE[p["article_start"]:p["article_end"]]


def test_excerpt_of_a_third_embedded_in_other_text_is_partial():
    excerpt = "\n\n".join(PARAGRAPHS[4:7])
    page = FILLER + "\n\n" + excerpt + "\n\n" + FILLER
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "partial"
    assert 0.2 < m.coverage < 0.45
    assert m.page_share < 0.5
    [p] = m.passages
    assert page[p.page_start:p.page_end] == excerpt
    assert ARTICLE[p.article_start:p.article_end] == excerpt


def test_spun_copy_is_paraphrased():
    m = run(ARTICLE, SPUN)
    assert m is not None and m.kind == "paraphrased"
    assert m.coverage > 0.5
    assert m.longest_run < 40
    check_offsets(m, ARTICLE, SPUN)


def test_reordered_paragraphs_are_still_a_copy():
    order = [5, 6, 0, 1, 2, 9, 8, 3, 4, 7]
    page = "\n\n".join(PARAGRAPHS[k] for k in order)
    m = run(ARTICLE, page)
    # Every moved run of two or more sentences counts; a lone moved sentence (here the one-line
    # quote paragraph and one other) does not, as isolated similar sentences are not evidence.
    assert m is not None and m.kind in ("verbatim", "partial") and m.coverage > 0.75
    assert len(m.passages) >= 3


def test_dropped_paragraphs_keep_a_copy_partial():
    page = "\n\n".join(PARAGRAPHS[k] for k in (0, 1, 2, 5, 7))
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "partial"
    assert 0.4 < m.coverage < 0.7 and m.page_share > 0.95


def test_independent_report_of_the_same_event_is_not_a_copy():
    assert run(ARTICLE, INDEPENDENT) is None
    assert run(INDEPENDENT, ARTICLE) is None


def test_a_short_independent_brief_dense_in_shared_facts_is_not_a_copy():
    """Four paragraphs of INDEPENDENT, nothing from ARTICLE: most of this short page is sentences that each
    align with an article sentence, one at a time (more of it than of some spun copies), so the share of
    the page does not tell copying from independent reporting (docs/detection.md, "Tried and rejected")."""
    paragraphs = INDEPENDENT.split("\n\n")
    brief = "\n\n".join(paragraphs[k] for k in (0, 2, 5, 7))
    assert run(ARTICLE, brief) is None
    isolated = run(ARTICLE, brief, dataclasses.replace(CFG, min_run=1))  # isolated pairs as evidence
    assert isolated is not None and isolated.page_share > 0.7


def test_independent_report_with_a_loose_rule_would_fire():
    """The rule is what keeps it out: dropping the run and coverage requirements lets shared facts through."""
    loose = dataclasses.replace(CFG, sentence_similarity=0.2, min_coverage=0.0, min_passages=1)
    assert run(ARTICLE, INDEPENDENT, loose) is not None


def test_unrelated_and_empty_texts_are_not_copies():
    assert run(ARTICLE, UNRELATED) is None
    assert run(ARTICLE, FILLER) is None
    assert run(ARTICLE, "") is None
    assert run("", ARTICLE) is None


def test_one_shared_quote_is_not_a_copy():
    page = FILLER + "\n\n" + PARAGRAPHS[3] + "\n\n" + FILLER
    assert run(ARTICLE, page) is None


def test_min_coverage_is_configurable():
    page = FILLER + "\n\n" + "\n\n".join(PARAGRAPHS[4:7]) + "\n\n" + FILLER
    assert run(ARTICLE, page, dataclasses.replace(CFG, min_coverage=0.5)) is None


def test_copies_share_candidate_fingerprints():
    a = article_fingerprints(list(Prepared.of(ARTICLE).tokens))
    assert len(a & page_fingerprints(list(Prepared.of(SPUN).tokens))) >= CFG.candidate_min_shared
    excerpt = FILLER + "\n\n" + "\n\n".join(PARAGRAPHS[4:7])
    assert len(a & page_fingerprints(list(Prepared.of(excerpt).tokens))) >= CFG.candidate_min_shared


def test_align_reports_passages_without_deciding():
    page = FILLER + "\n\n" + PARAGRAPHS[5] + " " + PARAGRAPHS[6] + "\n\n" + FILLER
    passages = align(Prepared.of(ARTICLE), Prepared.of(page), CFG, PAN_ALIGN)
    assert len(passages) == 1
    p = passages[0]
    assert page[p.page_start:p.page_end] == PARAGRAPHS[5] + " " + PARAGRAPHS[6]


def _seeds() -> tuple[str, str]:
    files = sorted(SEEDS.glob("00[01]_*.txt"))
    if len(files) < 2:
        pytest.skip("../shared/seeds is absent")
    return files[0].read_text(encoding="utf-8"), files[1].read_text(encoding="utf-8")


def test_seed_spun_copy_is_paraphrased():
    tracked, spun = _seeds()
    m = run(tracked, spun)
    assert m is not None and m.kind == "paraphrased"
    assert m.coverage > 0.5


def test_seed_verbatim_against_itself_with_furniture():
    tracked, _ = _seeds()
    page = "Home | World | Politics\n\n" + tracked + "\n\nLeave A Reply\n\nYour email address will not be published."
    m = run(tracked, page)
    assert m is not None and m.kind == "verbatim"
    assert m.coverage > 0.95


def test_a_repeated_line_is_matched_where_its_neighbours_are():
    """A line found twice in the article aligns with the occurrence next to the rest of the copy, so the
    passage does not stretch to the other occurrence (one origin per sentence)."""
    line = "Residents were told to keep their windows closed until the smoke had cleared."
    paragraphs = [*PARAGRAPHS[:2], PARAGRAPHS[2] + " " + line, *PARAGRAPHS[3:], line]
    article = "\n\n".join(paragraphs)
    excerpt = paragraphs[2] + "\n\n" + paragraphs[3]
    page = FILLER + "\n\n" + excerpt + "\n\n" + FILLER
    [p] = align(Prepared.of(article), Prepared.of(page), CFG, PAN_ALIGN)
    assert article[p.article_start:p.article_end] == excerpt
    assert page[p.page_start:p.page_end] == excerpt


def test_a_short_reworded_sentence_extends_a_passage_but_does_not_start_one():
    """Two short sentences sharing two words align weakly: next to copied sentences they belong to
    the passage; alone they are not evidence."""
    short_article, short_page = "The schools stayed closed on Wednesday.", "Schools remained shut Wednesday."
    article = PARAGRAPHS[0] + " " + short_article + "\n\n" + PARAGRAPHS[8]
    page = FILLER + "\n\n" + PARAGRAPHS[0] + " " + short_page + "\n\n" + FILLER
    [p] = align(Prepared.of(article), Prepared.of(page), CFG, AlignParams.of(CFG))
    assert page[p.page_start:p.page_end].endswith(short_page)
    assert article[p.article_start:p.article_end].endswith(short_article)
    assert align(Prepared.of(article), Prepared.of(FILLER + " " + short_page), CFG, AlignParams.of(CFG)) == []


def test_passage_edges_stop_where_the_copied_words_stop():
    """Copied text run into the page's own words with no sentence break: the passage is the copied words."""
    copied = PARAGRAPHS[5] + " " + PARAGRAPHS[6].rstrip(".")
    page = (FILLER + "\n\nOur partners sent the following report about it: " + copied
            + " - share this story with your friends and family on social media\n\n" + FILLER)
    [p] = align(Prepared.of(ARTICLE), Prepared.of(page), CFG, AlignParams.of(CFG))
    assert page[p.page_start:p.page_end] == copied
    assert ARTICLE[p.article_start:p.article_end] == PARAGRAPHS[5] + "\n\n" + PARAGRAPHS[6]


# A summary of ARTICLE: four sentences, each condensing a sentence from a different part of it.
SUMMARY = ("A fire swept through the old Harborton grain terminal on Tuesday night, destroying two warehouses. "
           "The terminal, built in 1911, had stood empty while the city argued over a market hall. "
           "Mayor Luis Carvalho promised an independent inquiry into the sprinkler work approved in 2019. "
           "Clearing the debris will cost more than two million dollars, engineers estimate.")


def test_summary_mode_spans_what_a_summary_condenses():
    page = FILLER + "\n\n" + SUMMARY + "\n\n" + FILLER
    a, p = Prepared.of(ARTICLE), Prepared.of(page)
    assert len(align(a, p, CFG, AlignParams(gap=4))) == 3  # without it: fragments
    for params in (AlignParams(gap=4, summary_ratio=3.0), PAN_ALIGN):
        [ps] = align(a, p, CFG, params)
        assert page[ps.page_start:ps.page_end] == SUMMARY
        assert (ps.article_start, ps.article_end) == (0, len(ARTICLE))


def test_validation_drops_a_passage_whose_sides_differ_as_wholes():
    """Two copied sentences linked across unrelated text on both sides: similar pairs, dissimilar passage."""
    a = Prepared.of(ARTICLE)
    first, second = (ARTICLE[a.sentences[k].start:a.sentences[k].end] for k in (1, 6))
    between = ("Gardeners in the valley have started planting early potatoes and onions this week. Seed merchants "
               "report strong demand for heritage tomato varieties and climbing beans. Volunteers at the allotments "
               "will hold a seed swap on Saturday morning. Bring labelled envelopes, a pencil and your spare "
               "seedlings, the organisers ask.")
    p = Prepared.of(FILLER + "\n\n" + first + " " + between + " " + second + "\n\n" + FILLER)
    linked = AlignParams(gap=4, article_gap=4)
    assert len(align(a, p, CFG, linked)) == 1
    assert align(a, p, CFG, dataclasses.replace(linked, min_similarity=0.34)) == []


def test_a_sentence_split_in_two_is_a_run_of_two():
    """A run counts sentences on either side: one article sentence rewritten as two page sentences."""
    split = ("A fire swept through the old grain terminal on the Harborton waterfront on Tuesday night. It destroyed "
             "two warehouses and forced the evacuation of about 300 residents from nearby apartment blocks.")
    cfg = dataclasses.replace(CFG, min_passages=1)
    m = run(ARTICLE, split, cfg)
    assert m is not None and m.page_share == 1.0
    assert run(ARTICLE, split, dataclasses.replace(cfg, min_run=3)) is None


# A water-board story for the quote-weight tests: narrative with two quoted paragraphs, and unrelated baking text.
WATER_ARTICLE = [
    "Brackwater's water board voted on Thursday to raise household bills by nine per cent from April, the largest rise in the utility's forty-year history.",
    "The board said the increase would pay for replacing 38 kilometres of cast-iron mains under the old town, where leaks now lose almost a fifth of the water the treatment works produce each day.",
    "The vote was six to three. The three members who voted against had asked for the rise to be spread over two years, arguing that families already struggling with energy costs could not absorb it at once.",
    "The most disputed part of the plan is a new standing charge of £48 a year for every connected property, whether or not it uses any water. Pensioners' groups said the charge would fall hardest on people living alone.",
    "Board chair Ingrid Haldane defended the charge at a public meeting in the Corn Exchange. \"The pipes do not care how much water you use, they cost the same to keep in the ground,\" she said. \"If we do not fix them now, every household will pay far more when they fail in the middle of a winter night.\"",
    "Engineers told the meeting that the oldest mains were laid in 1887 and had burst 212 times in the last twelve months, more than twice the rate recorded five years ago.",
    "Opposition member Tomasz Wrona said the board had known about the state of the network for a decade. \"This is the bill for ten years of doing nothing,\" he said, \"and it is being handed to the people least able to pay it.\"",
    "The board will offer a reduced tariff to households receiving pension credit or housing support, which it estimates will cover about 6,400 properties.",
    "Work on the first section of mains, under Quay Street and Tanner's Row, is due to begin in May and will close parts of both streets for up to eleven weeks.",
    "A consultation on the reduced tariff opens next month and runs until the end of February.",
    "The board's accounts show it spent £3.1 million on emergency repairs last year, against a budget of £1.4 million.",
    "Customers can find out how the change affects their bill on the board's website or by calling its helpline.",
]
BREAD_FILLER = [
    "Making a good loaf at home needs less equipment than most people think.",
    "A large bowl, a wooden spoon and a baking tin are enough for a first attempt, and a cheap kitchen scale helps more than any gadget.",
    "Start with strong white flour, which has more protein than plain flour and gives the dough its stretch.",
    "Mix five hundred grams of it with a teaspoon of salt, a sachet of dried yeast and about three hundred and thirty millilitres of warm water.",
    "Knead the dough on a clean worktop for ten minutes, until it feels smooth and springs back when you press it with a finger.",
    "Leave it in the bowl under a damp cloth until it has doubled in size, which takes about an hour in a warm kitchen and longer in a cold one.",
    "Knock the air out, shape it into a fat sausage and drop it into the greased tin, seam side down.",
    "Let it rise again for forty minutes while the oven heats to its hottest setting.",
    "Bake for thirty minutes, then tip the loaf out and tap the bottom: it should sound hollow.",
    "Cool it on a rack for at least an hour before cutting, however tempting the smell.",
    "Once that works, try swapping a third of the flour for wholemeal, or adding seeds to the dough.",
    "A loaf keeps best wrapped in a cloth rather than in plastic, which makes the crust soft.",
    "Stale bread is not wasted: it makes breadcrumbs, croutons and the best bread-and-butter pudding.",
]


def test_quotes_copied_inside_a_verbatim_run_count_in_full():
    """Two paragraphs copied word for word into another text, one of them mostly quotation: the quotes came with
    the narrative around them, so they count in full (discounted, the excerpt fell under min_coverage)."""
    article = "Water bills to rise by nine per cent\n\n" + "\n\n".join(WATER_ARTICLE)
    page = "\n\n".join([" ".join(BREAD_FILLER[:4]), " ".join(BREAD_FILLER[4:7]), WATER_ARTICLE[3],
                         WATER_ARTICLE[4], " ".join(BREAD_FILLER[7:10]), " ".join(BREAD_FILLER[10:])])
    m = compare(Prepared.of(article), Prepared.of(page), CFG)
    assert m is not None and m.kind == "partial" and 0.2 <= m.coverage < 0.3
    assert compare(Prepared.of(article), Prepared.of(page), dataclasses.replace(CFG, quote_weight=1.0)) is not None


def test_quotes_next_to_a_reworded_narrative_run_stay_discounted():
    """The quote paragraph copied word for word after a reworded version of the paragraph before it: the passage is
    evidence, but its narrative is not copied word for word, so the quotes weigh quote_weight and the page stays
    under min_coverage (counted in full it would be a copy: the rule needs the verbatim run, not just a verbatim
    quote)."""
    article = "Water bills to rise by nine per cent\n\n" + "\n\n".join(WATER_ARTICLE)
    reworded = ("The most disputed element of the plan is a new standing charge of £48 each year for every connected "
                "home, whether or not it uses any water. Groups for pensioners said the charge would fall hardest on "
                "people who live alone.")
    page = "\n\n".join([" ".join(BREAD_FILLER[:7]), reworded, WATER_ARTICLE[4], " ".join(BREAD_FILLER[7:])])
    assert compare(Prepared.of(article), Prepared.of(page), CFG) is None
    full = compare(Prepared.of(article), Prepared.of(page), dataclasses.replace(CFG, quote_weight=1.0))
    assert full is not None and full.coverage >= CFG.min_coverage



SHORT_NOTE = "More on this story as it develops."


def test_the_opening_copied_word_for_word_on_a_short_page_is_a_partial_copy():
    """The article's first paragraph (two narrative sentences) word for word, with one line of the page's own: the
    excerpt a scraper republishes from a feed. Two sentences are under min_passages, but the article's opening
    copied word for word is enough (Clough & Stevenson's g0pE_taskb is such a page)."""
    page = PARAGRAPHS[0] + "\n\n" + SHORT_NOTE
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "partial" and m.page_share >= CFG.min_page_share
    assert m.longest_run >= 30
    check_offsets(m, ARTICLE, page)
    # The article's headline is no part of its opening: the same with a headline above the article.
    assert run("Harborton terminal destroyed by fire\n\n" + ARTICLE, page) is not None


def test_two_sentences_copied_word_for_word_elsewhere_in_the_article_need_min_passages():
    """Two sentences outside the opening, word for word on a short page, are what independent reports of one
    event share (a police appeal, a statement, a forecaster's warning): still under min_passages."""
    page = PARAGRAPHS[1] + "\n\n" + SHORT_NOTE
    assert run(ARTICLE, page) is None
    assert run(ARTICLE, page, dataclasses.replace(CFG, min_passages=2)) is not None


def test_the_opening_reworded_on_a_short_page_is_not_a_copy():
    """The opening as SPUN rewords it: a run of two strong narrative pairs, but not word for word."""
    spun = SPUN.split("\n\n")[1]
    assert spun.startswith("HARBORTON – A fire tore through")
    page = spun + "\n\n" + SHORT_NOTE
    assert run(ARTICLE, page) is None
    assert run(ARTICLE, page, dataclasses.replace(CFG, min_passages=2)) is not None


def test_the_opening_copied_word_for_word_inside_a_long_page_is_not_a_copy():
    """The opening still has to be min_page_share of the page or min_coverage of the article."""
    page = FILLER + "\n\n" + PARAGRAPHS[0] + "\n\n" + FILLER
    assert run(ARTICLE, page) is None
    assert run(ARTICLE, page, dataclasses.replace(CFG, min_coverage=0.05)) is not None


APPEAL = ("Officers are particularly keen to speak to the driver of a dark blue hatchback seen travelling towards "
          "Bramfield shortly before the crash. Anyone with information or dashcam footage should call Eastshire "
          "Police on 101, quoting incident 412 of 14 May.")


def test_two_briefs_pasting_the_same_police_appeal_are_not_copies():
    """Each outlet pastes the police's two-sentence appeal under its own report (texts from a review)."""
    article = ("A 34-year-old man was taken to hospital with serious injuries after a crash on the A614 near Bramfield "
               "on Tuesday evening.\n\nThe collision, involving a grey van and a motorcycle, happened shortly after "
               "6pm close to the junction with Mill Lane.\n\nThe road was closed for several hours while collision "
               "investigators examined the scene.\n\n" + APPEAL)
    page = ("Emergency services were called to Mill Lane in Bramfield on Tuesday after a motorcyclist and a van "
            "collided.\n\nThe motorcyclist, who is in his thirties, suffered what police described as serious "
            "injuries and was flown to the regional trauma centre.\n\nDiversions stayed in place until late in the "
            "evening, and the van driver was unhurt.\n\n" + APPEAL)
    assert run(article, page) is None
    assert run(page, article) is None


def test_one_sentence_broken_across_two_lines_is_not_the_opening():
    """One long article sentence that the page breaks at a line end is a run of two page sentences, but one
    article sentence: not the article's first two sentences (a review found the first version counted it)."""
    article = ("Residents of Carnforth Road were evacuated overnight after a gas leak.\nEngineers from Northgrid said "
               "the leak, which was caused by a contractor drilling through a main while installing fibre broadband "
               "cables for Openreach outside number 42, had been made safe by 3am and that homes would be "
               "reconnected during the day.\nNobody was hurt.")
    page = ("Broadband works blamed for overnight evacuation\nFamilies spent the night in a church hall after a main "
            "was damaged.\nEngineers from Northgrid said the leak, which was caused by a contractor drilling through "
            "a main while installing fibre broadband cables for\nOpenreach outside number 42, had been made safe by "
            "3am and that homes would be reconnected during the day.\nResidents said they were woken by firefighters "
            "knocking on doors.")
    assert run(article, page) is None


def test_a_shared_heading_is_no_narrative_sentence():
    """Two press releases of one company end with the same "About" heading and paragraph: the heading line is not
    narrative, so the two sentences below it stay under min_passages (counted, it made a third; texts from a
    review)."""
    about = ("About Corvane Analytics\nCorvane Analytics builds machine learning tools that help banks and building "
             "societies detect payment fraud in real time. Founded in 2014 and headquartered in Manchester, the "
             "company serves more than 120 financial institutions across the UK and Ireland.")
    article = ("Corvane Analytics today announced the opening of a new engineering office in Leeds, creating 60 jobs "
               "over the next two years.\n\nThe office will focus on the company's fraud detection platform for "
               "regional banks.\n\nChief executive Dana Whitlow said the city's universities made it a natural "
               "choice.\n\n" + about)
    page = ("Corvane Analytics has appointed Priya Mendes as chief financial officer, effective 1 September.\n\n"
            "Mendes joins from a listed payments group where she led investor relations for six years.\n\n" + about)
    assert run(article, page) is None
    assert run(article, page, dataclasses.replace(CFG, min_passages=2)) is not None


OWN_LINES = [
    "Our allotment society meets on Thursdays in the church hall behind the library.",
    "Seed potatoes should be chitted on a cool windowsill for six weeks before planting.",
    "The bus timetable for the valley changes again at the start of next month.",
    "A reader from Thornby writes that her tomatoes split after the heavy rain.",
    "Bread at the corner bakery now costs more than it did at Christmas.",
    "The choir is looking for tenors and rehearses every Monday evening at seven.",
]


def sandwich(sentences: list[str], own: int) -> str:
    """The sentences in their order, each followed by `own` sentences of the page's own."""
    lines = []
    for k, s in enumerate(sentences):
        lines.append(s)
        lines.extend(f"{OWN_LINES[(k * own + n) % len(OWN_LINES)]} Note {k}.{n}." for n in range(own))
    return " ".join(lines)


def sentences_of(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?”])\s+", text.replace("\n\n", " ")) if s]


def test_a_copy_sandwiched_between_sentences_of_the_page_s_own_is_a_copy():
    """Every sentence of the article word for word, in order, with three of the page's own after each: no two copied
    sentences are in a row, but a chain of narrative sentences copied word for word in the article's order is a
    copy whatever lies between them."""
    page = sandwich(sentences_of(ARTICLE), 3)
    m = run(ARTICLE, page)
    assert m is not None and m.coverage >= 0.8 and m.page_share < 0.5
    check_offsets(m, ARTICLE, page)


def test_a_chain_of_copied_sentences_still_needs_coverage_and_order():
    """Three of the article's sentences word for word, far apart in a long page, cover too little of it; the same
    sentences in the reverse order are no chain."""
    chosen = [s for s in sentences_of(ARTICLE) if "“" not in s][1:8:3]
    assert len(chosen) == 3
    spread = f"{FILLER} {chosen[0]} {FILLER} {chosen[1]} {FILLER} {chosen[2]} {FILLER}"
    assert run(ARTICLE, spread) is None
    assert run(ARTICLE, spread, dataclasses.replace(CFG, min_coverage=0.05)) is not None
    reversed_ = f"{FILLER} {chosen[2]} {FILLER} {chosen[1]} {FILLER} {chosen[0]} {FILLER}"
    assert run(ARTICLE, reversed_, dataclasses.replace(CFG, min_coverage=0.05)) is None


# --- A passage is verbatim only when the stretch it spans is the same words on both sides ---

def test_a_byte_exact_copy_is_verbatim_passage_by_passage_even_where_short_sentences_pair_with_nothing():
    article = ARTICLE.replace("she added.", "she added. She declined.")  # one content word: it pairs with nothing
    m = run(article, "Huge fire\n\n" + article + "\n\nADVERTISEMENT\n\nShare on Facebook")
    assert m is not None and m.kind == "verbatim"
    assert m.passages and all(p.verbatim for p in m.passages)


def test_a_passage_spanning_a_paragraph_the_page_inserted_is_not_verbatim():
    inserted = ("Elsewhere in the county, the library service announced shorter opening hours at nine branches "
                "from January, citing a budget gap of several hundred thousand pounds.")
    page = "\n\n".join([*PARAGRAPHS[:3], inserted, *PARAGRAPHS[3:]])
    m = run(ARTICLE, page)
    assert m is not None and m.kind == "verbatim"  # the copy is still word for word: the kind stays
    at = page.index(inserted)
    spanning = [p for p in m.passages if p.page_start < at < p.page_end]
    assert spanning and not any(p.verbatim for p in spanning)
    assert all(p.verbatim for p in m.passages if p not in spanning)


def test_a_passage_spanning_a_sentence_the_page_left_out_is_not_verbatim():
    dropped = "Nobody was killed, but four firefighters were treated for smoke inhalation."
    page = ARTICLE.replace(" " + dropped, "")
    m = run(ARTICLE, page)
    assert m is not None
    at = ARTICLE.index(dropped)
    assert not any(p.verbatim for p in m.passages if p.article_start < at < p.article_end)


# The copier's own closing line after paragraphs pasted word for word: it shares four loose words (council, carried
# out, sprinkler work) with the article's next paragraph, a weak pair (found by an end-to-end review, where such a
# line raised the reported coverage from 58% to 73% and cleared the passage's verbatim flag).
OWN_CLOSING = ("Honestly, the council should have carried out that sprinkler work years ago, and nobody will "
               "convince me otherwise.")


def test_a_copiers_own_closing_line_is_no_part_of_a_verbatim_passage() -> None:
    pasted = "\n\n".join(PARAGRAPHS[:5])
    page = pasted + "\n\n" + OWN_CLOSING
    cfg = MatchSettings()
    article, prepared = Prepared.of(ARTICLE), Prepared.of(page)
    weak = [p for g in M._groups(M._pairs(article, prepared, cfg), M.AlignParams.of(cfg),
                                 M._positions(prepared, set()))
            for p in g.pairs if not p.strong]
    assert [(p.i, p.exact) for p in weak] == [(9, 0.0)]  # the line does align weakly with the next paragraph
    m = compare(article, prepared, cfg)
    alone = compare(article, Prepared.of(pasted), cfg)
    assert m is not None and alone is not None
    assert (m.coverage, m.kind) == (alone.coverage, alone.kind)
    (passage,) = m.passages
    assert passage.verbatim and passage.page_end <= len(pasted)
    assert OWN_CLOSING not in page[passage.page_start:passage.page_end]


def test_a_weak_pair_at_the_edge_of_a_reworded_passage_stays() -> None:
    """Past a reworded pair, a weak pair is the reworded sentence it looks like: it still extends the passage."""
    cfg = MatchSettings()
    pairs = [M._Pair(0, 0, 0.7, 0.2, True), M._Pair(1, 1, 0.8, 0.3, True), M._Pair(2, 2, 0.35, 0.0, False)]
    assert M._bridged(pairs, cfg) == pairs
    verbatim = [M._Pair(0, 0, 1.0, 1.0, True), M._Pair(1, 1, 1.0, 1.0, True), M._Pair(2, 2, 0.35, 0.0, False),
                M._Pair(3, 3, 0.4, 0.1, False)]
    assert M._bridged(verbatim, cfg) == [*verbatim[:2], verbatim[3]]
    short = [*verbatim[:2], M._Pair(2, 2, 0.67, 0.0, False)]  # weak only for sharing two words
    assert M._bridged(short, cfg) == short
