"""Matching keys: spelling variants and inflections meet, different words stay apart."""

from __future__ import annotations

import pytest

from monitor.text import key, spelling


@pytest.mark.parametrize(("british", "american"), [
    ("harbour", "harbor"), ("colours", "colors"), ("neighbourhood", "neighborhood"), ("behaviour", "behavior"),
    ("centre", "center"), ("centred", "centered"), ("metres", "meters"), ("fibre", "fiber"),
    ("organised", "organized"), ("optimisation", "optimization"), ("analyse", "analyze"),
    ("catalogue", "catalog"), ("travelled", "traveled"), ("modelling", "modeling"), ("defence", "defense"),
])
def test_spelling_variants_share_a_key(british: str, american: str) -> None:
    assert key(british) == key(american)


@pytest.mark.parametrize("word", ["four", "your", "hour", "tour", "flour", "genre", "acre", "rise", "wise",
                                  "basis", "crisis"])
def test_short_and_lookalike_words_are_left_alone(word: str) -> None:
    assert spelling(word) == word


def test_different_words_keep_different_keys() -> None:
    assert key("install") == key("installed") != key("instant")
    assert key("killing") == key("killed") != key("killer")
    assert key("four") != key("for")


def test_a_sentence_split_in_two_aligns_as_a_whole() -> None:
    import dataclasses

    from monitor.config import MatchSettings
    from monitor.match import Prepared, _pairs

    article = Prepared.of("The old grain terminal on the waterfront burned on Tuesday night, destroying two "
                          "warehouses and forcing hundreds of residents from nearby apartment blocks.")
    page = Prepared.of("The old grain terminal on the waterfront burned on Tuesday night. The fire destroyed "
                       "two warehouses and forced hundreds of residents from nearby apartment blocks.")
    cfg = MatchSettings()
    pairs = _pairs(article, page, cfg)
    assert {(p.i, p.j) for p in pairs} == {(0, 0), (0, 1)} and all(p.strong for p in pairs)
    assert all(p.sim > 0.9 for p in pairs)  # each half alone: about 0.6-0.7
    unmerged = _pairs(article, page, dataclasses.replace(cfg, merge_sentences=False))
    assert all(p.sim < 0.75 for p in unmerged)
