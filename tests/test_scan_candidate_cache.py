"""find_copies' shortcuts change no result: candidate articles prepared once (scan.PreparedCache, keyed by the
text), and a candidate that provably cannot pass the copy rule skipped before the page is cut into sentences
(match.may_copy, from the page's content keys, match.content_keys).

The texts are our own: the in-repo corpora under bench/ (written for this project) and the ones below.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor import match, scan
from monitor.config import MatchSettings
from monitor.match import Match, Prepared, compare, content_keys, may_copy
from monitor.scan import PREPARED_CHARS, Original, PreparedCache, find_copies, track_text
from monitor.store import Store
from monitor.text import tokens

CFG = MatchSettings()
BENCH = Path(__file__).resolve().parents[1] / "bench"

STORY = """The harbour board at Kelsby voted on Monday to dredge the inner basin for the first time in thirty years.
Silt has narrowed the channel so much that the ferry to Orrin Island can only leave at high tide.
Fishing crews say they have lost two hours a day waiting for enough water under their keels.
The work will cost four million pounds and is to be paid for by a levy on every vessel using the port.
Dredgers are expected to arrive in September, and the spoil will be spread on the salt marsh to the south.
Conservation groups warned that the marsh birds nest until late summer and asked for the work to wait.
The board said it would survey the nesting sites before any spoil is moved.
"""

OTHER_STORY = """A bakery on Tanner Street in Wollam has won the regional prize for its rye loaf for the third year.
The owners, two sisters who took over from their father, still bake every loaf in a wood-fired oven.
Judges praised the crust and the sour tang that comes from a starter kept alive since the nineteen fifties.
The prize brings a grant that the sisters plan to spend on a second oven and an apprentice baker.
Queues formed outside the shop before dawn on Saturday as word of the win spread through the town.
"""


def _corpus_pairs() -> list[tuple[str, str]]:
    """(original, page) for every page of the in-repo corpora against every original of its corpus."""
    pairs = []
    for corpus in ("audit_corpus", "hardnon_corpus", "heldout_corpus"):
        root = BENCH / corpus
        origs = sorted((root / "orig").glob("*.txt")) + sorted((root / "edge").glob("*_orig.txt"))
        pages = [p for p in sorted(root.rglob("*.txt"))
                 if p not in origs and p.name != "README.md" and "filler" not in p.parts]
        texts = [o.read_text(encoding="utf-8") for o in origs]
        pairs += [(o, p.read_text(encoding="utf-8")) for p in pages for o in texts]
    return pairs


def test_content_keys_are_the_token_path_keys() -> None:
    rlo, pdf = "\u202e", "\u202c"
    texts = [
        STORY,
        "The Mayor's \u201cCaf\u00e9\u201d plan: \u00c6r\u00f8 harbour walls were breached, officials said. " * 3,
        "Ce\u0301dric a visite\u0301 l'i\u0302le de Marle\u0300ve lundi matin.",  # NFD accents
        "pas\u00adsen\u200bger ferry harbour colour organise analyse catalogue grey tyres travelled",
        f"The word {rlo}regnessap{pdf} is read as it displays, the rest as written.",
        "\u0420\u043e\u0441\u0441\u0438\u044f and Latin w\u043erds with C\u0443rillic lookalikes.",  # Cyrillic o, y
        "",
    ]
    for text in texts:
        assert content_keys(text) == {t.key for t in tokens(text) if t.content}, text


def _variants() -> list[MatchSettings]:
    return [CFG, dataclasses.replace(CFG, sentence_similarity=0.35, min_run=1),
            dataclasses.replace(CFG, min_passages=1, sentence_similarity=0.7),
            dataclasses.replace(CFG, merge_sentences=False, min_passages=2)]


def test_may_copy_never_turns_away_a_copy_compare_finds() -> None:
    """Every page of the in-repo corpora against every original of its corpus, under the default copy rule and three
    others: a pair may_copy turns away is no copy by compare(). And it turns most pairs away, and no copy."""
    pairs = _corpus_pairs()
    assert len(pairs) > 1000
    prepared: dict[str, Prepared] = {}

    def of(text: str) -> Prepared:
        if text not in prepared:
            prepared[text] = Prepared.of(text)
        return prepared[text]

    for cfg in _variants():
        turned_away = copies = 0
        for orig, page_text in pairs:
            article = of(orig)
            if not may_copy(article, content_keys(page_text), cfg):
                turned_away += 1
                assert compare(article, of(page_text), cfg) is None, (cfg, orig[:60], page_text[:60])
            elif cfg is CFG:
                copies += compare(article, of(page_text), cfg) is not None
        assert turned_away > 500, cfg
        if cfg is CFG:
            assert copies > 50 and turned_away > len(pairs) // 2


def test_may_copy_on_the_edges_of_the_rule() -> None:
    article = Prepared.of(STORY)
    # A copy of two sentences (min_run) is what the lede rule can take: may_copy cannot turn it away.
    lede = "\n".join(STORY.splitlines()[:2])
    assert compare(article, Prepared.of(lede), CFG) is not None
    assert may_copy(article, content_keys(lede), CFG)
    # One sentence of it is not enough for any rule (min(min_passages, min_run) = 2 sentences).
    one = STORY.splitlines()[1]
    assert not may_copy(article, content_keys(one), CFG)
    assert compare(article, Prepared.of(one), CFG) is None
    # Unrelated text with the same few words scattered: turned away.
    assert not may_copy(article, content_keys(OTHER_STORY + " The harbour ferry channel levy."), CFG)
    # Sentences of NARRATIVE_WORDS content words each, copied word for word: the fewest shared words a copy can have.
    terse = Prepared.of("Gales closed roads.\nFloods swamped farms.\nCrews cleared debris.\nSchools stayed shut.\n"
                        "Trains resumed Friday.\nMarkets reopened slowly.\n")
    copied = "Gales closed roads.\nFloods swamped farms.\nCrews cleared debris.\n"
    assert compare(terse, Prepared.of(copied), CFG) is not None
    assert may_copy(terse, content_keys(copied), CFG)
    # A copy rule that asks for no narrative sentence at all is not second-guessed.
    assert may_copy(article, frozenset(), dataclasses.replace(CFG, min_run=0))


def test_the_cache_is_keyed_by_text_and_bounded() -> None:
    cache = PreparedCache(max_chars=len(STORY) + len(OTHER_STORY))
    a = cache(STORY)
    assert cache(STORY) is a  # prepared once
    assert cache(STORY[:-1]) is not a  # another text is another entry
    b = cache(OTHER_STORY)
    # At most max_chars of text: the least recently used went first.
    assert sum(len(t) for t in cache._items) <= cache.max_chars
    assert cache(OTHER_STORY) is b
    assert STORY not in cache._items or STORY[:-1] not in cache._items
    # A text longer than the whole budget is prepared and not kept.
    assert cache("x " * cache.max_chars).text and ("x " * cache.max_chars) not in cache._items


def test_two_stores_with_the_same_article_ids_are_not_confused(tmp_path: Path) -> None:
    """One cache may serve several stores (the service's serves every site job); article #1 of one database is not
    article #1 of another. A cache keyed by article id would compare store b's page with store a's text and miss the
    copy."""
    cache = PreparedCache(PREPARED_CHARS)
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        ta = track_text(a, Original("https://pub.example/one", "a", STORY, plain=True))
        tb = track_text(b, Original("https://pub.example/one", "b", OTHER_STORY, plain=True))
        assert ta.id == tb.id
        assert [f.article.id for f in find_copies(a, STORY, CFG, prepared=cache)] == [ta.id]
        assert [f.article.id for f in find_copies(b, OTHER_STORY, CFG, prepared=cache)] == [tb.id]
        assert find_copies(b, STORY, CFG, prepared=cache) == []


def test_a_retracked_or_removed_article_is_read_as_it_is_now(tmp_path: Path) -> None:
    cache = PreparedCache(PREPARED_CHARS)
    with Store(tmp_path / "s.db") as store:
        first = track_text(store, Original("https://pub.example/story", "t", STORY, plain=True))
        assert [f.article.id for f in find_copies(store, STORY, CFG, prepared=cache)] == [first.id]
        # The URL's text changes: its new article is compared with its new text.
        second = track_text(store, Original("https://pub.example/story", "t", OTHER_STORY, plain=True))
        assert second.replaces == first.id
        assert [f.article.id for f in find_copies(store, OTHER_STORY, CFG, prepared=cache)] == [second.id]
        assert find_copies(store, STORY, CFG, prepared=cache) == []
        store.delete_article(second.id)
        assert find_copies(store, OTHER_STORY, CFG, prepared=cache) == []


def test_the_embedding_verifier_still_sees_every_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """may_copy reads the core copy rule only: with a verifier, a candidate the rule turns away still goes to it."""
    with Store(tmp_path / "s.db") as store:
        tracked = track_text(store, Original("https://pub.example/story", "t", STORY, plain=True))
        page = STORY.splitlines()[1] + "\n" + OTHER_STORY  # one sentence of the story: a candidate, no copy
        assert scan.candidates_for(store, page, CFG)
        assert find_copies(store, page, CFG) == []
        seen = []

        class Verifier:
            def verify(self, article: Prepared, page: Prepared) -> Match | None:
                seen.append(article.text)
                return Match("paraphrased", 0.5, 0.5, 0, 0.9, ())

        monkeypatch.setattr(scan, "shared_sentences", lambda *a, **k: [])
        found = find_copies(store, page, CFG, verifier=Verifier())  # type: ignore[arg-type]
        assert seen == [STORY] and [f.article.id for f in found] == [tracked.id]


def test_find_copies_cuts_the_page_into_sentences_only_for_a_candidate_that_may_match(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(tmp_path / "s.db") as store:
        track_text(store, Original("https://pub.example/story", "t", STORY, plain=True))
        page = STORY.splitlines()[1] + "\n" + OTHER_STORY
        assert scan.candidates_for(store, page, CFG)
        prepared = []
        real = match.Prepared.of.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(match.Prepared, "of", classmethod(lambda cls, t: prepared.append(t) or real(cls, t)))
        assert find_copies(store, page, CFG) == []
        assert prepared == [STORY]  # the article (for may_copy), not the page
