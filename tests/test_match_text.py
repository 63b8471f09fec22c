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
