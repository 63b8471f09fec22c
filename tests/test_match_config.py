"""The copy rule's knobs live in MatchSettings ([match] in config.toml) and are validated there."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.config import ConfigError, MatchSettings, load_config
from monitor.match import AlignParams, Prepared, compare
from tests.conftest import write_config
from tests.test_match import ARTICLE, PARAGRAPHS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[match]\nweak_similarity = 1.5\n", "'match.weak_similarity' must be between 0 and 1"),
        ("[match]\nweak_similarity = 0.6\nsentence_similarity = 0.5\n", "'match.weak_similarity' must not be greater"),
        ("[match]\nbest_ratio = -0.1\n", "'match.best_ratio' must be between 0 and 1"),
        ("[match]\nmin_page_share = 2\n", "'match.min_page_share' must be between 0 and 1"),
        ("[match]\ngap = -1\n", "'match.gap' must not be negative"),
        ("[match]\nmin_run = 0\n", "'match.min_run' must be at least 1"),
        ("[match]\nlong_sentence_words = 0\n", "'match.long_sentence_words' must be at least 1"),
        ("[match]\ngap = 1.5\n", "'match.gap' must be int"),
    ],
)
def test_bad_match_settings_name_key_and_file(tmp_path: Path, body: str, expected: str) -> None:
    cfg = write_config(tmp_path / "bad.toml", body)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert expected in str(err.value)
    assert str(cfg.resolve()) in str(err.value) or str(cfg) in str(err.value)


def test_compare_reads_the_knobs_from_settings() -> None:
    """A lone two-sentence excerpt is evidence at min_run 2, not at min_run 3."""
    page = PARAGRAPHS[5] + "\n\n" + "The weather was fine for the rest of the week."
    cfg = dataclasses.replace(MatchSettings(), min_passages=2)
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), cfg) is not None
    assert compare(Prepared.of(ARTICLE), Prepared.of(page), dataclasses.replace(cfg, min_run=3)) is None
    assert AlignParams.of(dataclasses.replace(cfg, gap=5)).gap == 5
