"""find_copies' shortcuts change no result: candidate articles prepared once (scan.prepared_article, keyed by the
text).

The texts are our own.
"""

from __future__ import annotations

from pathlib import Path

from monitor import scan
from monitor.config import MatchSettings
from monitor.scan import Original, PreparedCache, find_copies, track_text
from monitor.store import Store

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
    """The cache is shared by a process; article #1 of one database is not article #1 of another. A cache keyed by
    article id would compare store b's page with store a's text and miss the copy."""
    scan.prepared_article.clear()
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        ta = track_text(a, Original("https://pub.example/one", "a", STORY, plain=True))
        tb = track_text(b, Original("https://pub.example/one", "b", OTHER_STORY, plain=True))
        assert ta.id == tb.id
        assert [f.article.id for f in find_copies(a, STORY, CFG)] == [ta.id]
        assert [f.article.id for f in find_copies(b, OTHER_STORY, CFG)] == [tb.id]
        assert find_copies(b, STORY, CFG) == []


def test_a_retracked_or_removed_article_is_read_as_it_is_now(tmp_path: Path) -> None:
    scan.prepared_article.clear()
    with Store(tmp_path / "s.db") as store:
        first = track_text(store, Original("https://pub.example/story", "t", STORY, plain=True))
        assert [f.article.id for f in find_copies(store, STORY, CFG)] == [first.id]
        # The URL's text changes: its new article is compared with its new text.
        second = track_text(store, Original("https://pub.example/story", "t", OTHER_STORY, plain=True))
        assert second.replaces == first.id
        assert [f.article.id for f in find_copies(store, OTHER_STORY, CFG)] == [second.id]
        assert find_copies(store, STORY, CFG) == []
        store.delete_article(second.id)
        assert find_copies(store, OTHER_STORY, CFG) == []


