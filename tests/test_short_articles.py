"""A short article is indexed by a denser sample of its 3-grams, so that a spun copy of a brief is proposed for
comparison; a store sampled before that adds the missing fingerprints once, under the same ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from monitor import fingerprint
from monitor.config import MatchSettings
from monitor.fingerprint import WINDOW, article_fingerprints_of, article_grams_of, page_fingerprints_of, winnow
from monitor.scan import Original, find_copies, track_text
from monitor.store import Store
from tests.test_index import article_text

BRIEF = ("Ferry service to Inchmore suspended\n\n"
         "The ferry between Port Aske and the island of Inchmore will not sail for at least three weeks after its "
         "only vessel, the Marram, failed a hull inspection on Monday. Inspectors found corrosion around the "
         "propeller shaft that must be repaired in dry dock at Carrow. About 240 islanders rely on the crossing for "
         "supplies, school and hospital visits. The operator has chartered a smaller passenger boat, which will run "
         "twice a day from Thursday but cannot carry vehicles or freight. Island councillor Moira Fenwick said shops "
         "on Inchmore had enough stock for ten days and asked the government to pay for a cargo barge until the "
         "Marram returns.")
# A spinner's rewrite: every sentence reworded, 4 of the brief's 66 content-word 3-grams left.
SPUN = ("Inchmore ferry off for three weeks\n\n"
        "The ferry linking Port Aske with Inchmore island is not going to sail for three weeks or more, after the "
        "Marram, its only vessel, failed an inspection of its hull on Monday. The inspectors discovered corrosion "
        "next to the propeller shaft, which has to be fixed in the Carrow dry dock. Some 240 residents of the island "
        "rely on the boat for their shopping, for school and for hospital appointments. The operator has hired a "
        "smaller passenger boat that will sail two times a day from Thursday, but it cannot take vehicles or "
        "freight. Moira Fenwick, an island councillor, said the shops on Inchmore had stock for ten days, and she "
        "called on the government to fund a cargo barge until the Marram is back.")


def test_a_short_article_keeps_a_denser_sample_and_a_long_one_the_usual() -> None:
    grams = article_grams_of(BRIEF)
    dense = article_fingerprints_of(BRIEF)
    assert len(grams) < 100 and len(dense) >= fingerprint.MIN_SAMPLE
    assert winnow(grams, WINDOW) < dense  # the narrower window's sample holds the usual one
    long_text = article_text(1)
    assert article_fingerprints_of(long_text) == winnow(article_grams_of(long_text), WINDOW)
    assert [fingerprint.window_for(n) for n in (10, 59, 60, 100, 179, 180, 1000)] == [1, 1, 2, 4, 7, 8, 8]


def test_a_spun_copy_of_a_brief_is_found(tmp_path: Path) -> None:
    assert len(winnow(article_grams_of(BRIEF), WINDOW) & page_fingerprints_of(SPUN)) < 2  # too few to propose
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/ferry", "Ferry", BRIEF, plain=True))
        (found,) = find_copies(store, SPUN, MatchSettings())
        assert found.article.url == "https://pub.example/ferry" and found.match.kind == "paraphrased"


def test_a_store_sampled_before_adds_its_short_articles_fingerprints_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    with monkeypatch.context() as m:
        m.setattr(fingerprint, "MIN_SAMPLE", 1)  # window 8 for every article, as before
        with Store(db) as store:
            brief = track_text(store, Original("https://pub.example/ferry", "Ferry", BRIEF, plain=True)).id
            other = track_text(store, Original("https://pub.example/long", "Long", article_text(1), plain=True)).id
            store.index.compact()
            assert store.candidates(page_fingerprints_of(SPUN), 2, 5) == []
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM meta WHERE key = 'index_sample'")
    conn.commit()
    conn.close()
    with Store(db) as store:
        grams = article_grams_of(BRIEF)
        assert store.index.stats()["recent_postings"] == len(article_fingerprints_of(BRIEF) - winnow(grams, WINDOW))
        assert [a for a, _ in store.candidates(page_fingerprints_of(SPUN), 2, 5)] == [brief]
        store.index.compact(merge=True)
        seg = store.index.segment
        postings = list(zip(seg.keys, seg.ids, strict=True))
        assert len(postings) == len(set(postings))  # nothing doubled by the packed and the added postings
        assert {h for h, a in postings if a == brief} == article_fingerprints_of(BRIEF)
        assert {h for h, a in postings if a == other} == article_fingerprints_of(article_text(1))
    with Store(db) as store:  # once
        assert store.index.stats()["recent_postings"] == 0
