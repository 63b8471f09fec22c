"""The candidate index: a copy's source is a candidate, unrelated text is not, across the recent (SQLite) and
packed (file) segments, deletions, re-opening, other connections and the schema-6 re-index."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
from array import array
from itertools import pairwise
from pathlib import Path

import pytest

from monitor import index as index_mod
from monitor.fingerprint import article_fingerprints_of, extra_fingerprints_of, page_fingerprints, page_fingerprints_of
from monitor.store import SCHEMA_VERSION, Store
from monitor.text import tokens

VOCAB = [f"{a}{b}" for a in ("harb", "quill", "mont", "vess", "torr", "lumin", "gard", "pell", "rask", "ferr",
                              "ostl", "brev", "cald", "dun", "elv", "fint")
         for b in ("ane", "ory", "ist", "on", "ade", "ure", "ick", "ell", "ax", "ium", "ber", "ow")]
STOP = ["the", "of", "and", "to", "in", "was", "that", "with"]


def article_text(seed: int, words: int = 450) -> str:
    rnd = random.Random(seed)
    out = []
    for i in range(words):
        out.append(rnd.choice(STOP) if rnd.random() < 0.4 else rnd.choice(VOCAB))
        if i % 15 == 14:
            out[-1] += "."
    return " ".join(out)


def swapped(text: str, share: float, seed: int) -> str:
    rnd = random.Random(seed)
    return " ".join(rnd.choice(VOCAB) if rnd.random() < share else w for w in text.split())


def excerpt(text: str, share: float) -> str:
    words = text.split()
    start = len(words) // 3
    return " ".join(words[start: start + int(len(words) * share)])


def ids_of(store: Store, text: str) -> list[int]:
    return [a for a, _ in store.candidates(page_fingerprints_of(text), 3, 20)]


def track(store: Store, seeds: range) -> dict[int, int]:
    out = {}
    for s in seeds:
        text = article_text(s)
        out[s], _ = store.add_article(f"https://pub.example/{s}", "t", text, article_fingerprints_of(text))
    return out


def test_fast_text_path_equals_token_path() -> None:
    text = "The Mayor's “Café” plan: Ærø harbour walls were breached, officials said on Tuesday. " * 3
    assert page_fingerprints_of(text) == page_fingerprints(tokens(text))


def test_typography_does_not_change_fingerprints() -> None:
    plain = "The mayor's \"new\" plan - a sea wall... was approved on Tuesday, officials said. " * 4
    fancy = ("The mayor\u2019s \u201cnew\u201d plan \u2014 a sea\u00a0wall\u2026 was approved on Tuesday, "
             "officials said. ") * 4
    assert page_fingerprints_of(fancy) == page_fingerprints_of(plain)
    assert article_fingerprints_of(fancy) == article_fingerprints_of(plain)


@pytest.mark.parametrize("packed", [False, True])
def test_votes_count_every_shared_hash_once(tmp_path: Path, packed: bool) -> None:
    """Votes equal a brute-force count of shared hashes per article, whichever segment holds them."""
    rnd = random.Random(5)
    held = {}
    with Store(tmp_path / "s.db") as store:
        for i in range(60):
            hs = set(rnd.sample(range(1, 400), 40)) | {rnd.getrandbits(32) for _ in range(10)}
            held[store.add_article(f"u{i}", "t", f"text {i}", hs)[0]] = hs
        if packed:
            store.index.compact()
        for _ in range(20):
            page = set(rnd.sample(range(1, 400), 60))
            expected = {a: len(hs & page) for a, hs in held.items() if hs & page}
            assert dict(store.index.votes(page)) == expected


@pytest.mark.parametrize("packed", [False, True])
def test_copies_find_their_source_and_unrelated_text_finds_nothing(tmp_path: Path, packed: bool) -> None:
    with Store(tmp_path / "s.db") as store:
        ids = track(store, range(40))
        if packed:
            store.index.compact()
            assert store.index.stats()["recent_postings"] == 0
            assert store.index.stats()["packed_postings"] > 0
        for s in (3, 17, 39):
            text = article_text(s)
            assert ids_of(store, text)[0] == ids[s]
            assert ids_of(store, "Site menu and a cookie notice. " + excerpt(text, 0.3))[0] == ids[s]
            assert ids_of(store, swapped(text, 0.2, s))[0] == ids[s]
        assert ids_of(store, article_text(1000)) == []
        assert store.candidates([], 1, 5) == []


def test_candidates_are_ranked_and_limited(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        a, _ = store.add_article("u1", "t", "one", [10, 11, 12, 13])
        c, _ = store.add_article("u3", "t", "two", [12, 13, 14])
        store.index.compact()
        d, _ = store.add_article("u4", "t", "three", [10, 11, 12, 13, 14])
        assert store.candidates([10, 11, 12, 13, 14, 99], min_shared=2, limit=5) == [(d, 5), (a, 4), (c, 3)]
        assert store.candidates([10, 11, 12, 13, 14], min_shared=2, limit=1) == [(d, 5)]


def test_deleted_articles_leave_the_index_in_both_segments(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        ids = track(store, range(10))
        store.index.compact()
        more = track(store, range(10, 14))
        store.delete_article(ids[2])  # in the packed file: tombstoned
        store.delete_article(more[11])  # in the recent table: rows gone
        assert ids_of(store, article_text(2)) == []
        assert ids_of(store, article_text(11)) == []
        assert ids_of(store, article_text(5)) == [ids[5]]
        assert ids_of(store, article_text(12)) == [more[12]]
        store.index.compact()  # the tombstone's postings are dropped for good
        assert store.index.stats()["removed"] == 0
        assert ids_of(store, article_text(2)) == []
        assert ids_of(store, article_text(12)) == [more[12]]
        with pytest.raises(KeyError):
            store.article(ids[2])


def test_a_deleted_articles_id_is_not_given_to_a_new_one(tmp_path: Path) -> None:
    """SQLite hands the largest id out again after a delete; the packed file still holds the deleted article's
    postings under it (behind a tombstone), so a new article there would inherit them. Also across a reopen."""
    db = tmp_path / "s.db"
    with Store(db) as store:
        ids = track(store, range(5))
        store.index.compact()
        store.delete_article(ids[4])  # the largest id
        new = track(store, range(50, 51))
        assert new[50] > ids[4]
        assert ids_of(store, article_text(4)) == []
        assert ids_of(store, article_text(50)) == [new[50]]
        store.delete_article(new[50])
    with Store(db) as store:
        again = track(store, range(60, 61))
        assert again[60] > new[50]
        assert ids_of(store, article_text(50)) == []
    conn = sqlite3.connect(db)  # a store from before the high-water mark: the index still knows the ids
    conn.execute("DELETE FROM meta WHERE key = 'articles_high'")
    conn.commit()
    conn.close()
    with Store(db) as store:
        store.delete_article(again[60])
        assert track(store, range(70, 71))[70] > again[60]


def test_index_persists_across_reopen_and_is_seen_by_other_connections(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store(db) as writer, Store(db) as reader:
        ids = track(writer, range(20))
        assert ids_of(reader, article_text(7)) == [ids[7]]  # recent segment, other connection
        writer.index.compact()
        files = list(tmp_path.glob("s.db.idx-*"))
        assert len(files) == 1
        assert ids_of(reader, article_text(7)) == [ids[7]]  # reader switches to the new packed file
        writer.index.compact()
        current = writer.db.execute("SELECT value FROM meta WHERE key = 'index_segment'").fetchone()[0]
        assert [p.name for p in tmp_path.glob("s.db.idx-*")] == [current] != files[0].name  # old file removed
        assert ids_of(reader, article_text(8)) == [ids[8]]
        later = track(writer, range(20, 22))
    with Store(db) as store:
        assert ids_of(store, article_text(7)) == [ids[7]]
        assert ids_of(store, article_text(21)) == [later[21]]
        assert store.article_count() == 22


def test_compaction_runs_by_itself_when_the_recent_segment_grows(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_mod, "RECENT_MIN", 300)
    with Store(tmp_path / "s.db") as store:
        ids = track(store, range(30))
        stats = store.index.stats()
        assert stats["packed_postings"] > 0
        assert stats["recent_postings"] <= max(300, stats["packed_postings"] // 4)
        assert all(ids_of(store, article_text(s))[0] == ids[s] for s in range(30))


def test_stop_grams_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(tmp_path / "s.db") as store:
        common = [1, 2, 3]
        ids = [store.add_article(f"u{i}", "t", f"text {i}", [*common, 100 + i])[0] for i in range(6)]
        store.index.compact()
        store.index.df_cap = 5
        assert store.candidates(common, min_shared=1, limit=10) == []
        assert store.candidates([*common, 103], min_shared=1, limit=10) == [(ids[3], 1)]
        store.index.df_cap = 6
        assert len(store.candidates(common, min_shared=3, limit=10)) == 6


def test_schema_upgrade_reindexes_tracked_articles(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "s.db"
    with Store(db) as store:
        ids = track(store, range(3))
    conn = sqlite3.connect(db)  # make it look like a schema-5 store, before the index (old 63-bit fingerprints)
    conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.execute("DROP INDEX articles_reference")  # what schema 20 added
    conn.execute("ALTER TABLE articles DROP COLUMN reference")
    conn.execute("ALTER TABLE articles DROP COLUMN untracked_at")  # what schema 18 added
    conn.execute("DROP INDEX articles_source")  # what schema 16 added
    conn.execute("ALTER TABLE articles DROP COLUMN source")
    conn.execute("ALTER TABLE notifications DROP COLUMN snapshot")  # what schema 15 added
    conn.execute("DROP INDEX alert_events_also_at")  # what schema 13 added
    conn.execute("ALTER TABLE matches DROP COLUMN copy_shingles")
    conn.execute("DROP VIEW alert_log")  # what schema 12 added (the view is made again by schema 5 and 12)
    conn.execute("ALTER TABLE alerts DROP COLUMN hidden")
    conn.execute("ALTER TABLE fingerprints DROP COLUMN extra")  # what schema 10 added
    conn.execute("DROP INDEX fingerprints_article")  # what schema 9 added
    conn.execute("DROP INDEX articles_replaced")  # what schema 8 added
    conn.execute("ALTER TABLE articles DROP COLUMN replaced_by")
    conn.execute("DELETE FROM meta WHERE key LIKE 'index_%'")
    conn.execute("DELETE FROM fingerprints")
    conn.execute("DROP TABLE index_removed")
    conn.execute("INSERT INTO fingerprints VALUES (123456789012345, ?)", [ids[0]])
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING, logger="monitor.store"), Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert ids_of(store, article_text(1)) == [ids[1]]
        assert store.db.execute("SELECT count(*) FROM fingerprints WHERE hash > 4294967295").fetchone()[0] == 0
    assert "fingerprinting its 3 tracked articles again" in caplog.text


def test_a_new_database_opens_without_a_reindex_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A first `provmon run` creates the store: nothing was fingerprinted before, so nothing "changed"."""
    with caplog.at_level(logging.WARNING, logger="monitor.store"):
        with Store(tmp_path / "s.db") as store:
            track(store, range(2))
        with Store(tmp_path / "s.db") as store:
            assert store.article_count() == 2
    assert caplog.records == []


def test_articles_read_differently_by_a_new_normalisation_are_fingerprinted_again(tmp_path: Path) -> None:
    """Soft hyphens inside words split them before NORMALISATION_VERSION 2: an article stored then has postings
    of the split words, which a clean copy of it does not share; opening the store fingerprints it again."""
    db = tmp_path / "s.db"
    hyphenated = " ".join(w[:3] + "\u00ad" + w[3:] if len(w) > 6 else w for w in article_text(7).split())
    with Store(db) as store:
        plain_id, _ = store.add_article("https://pub.example/plain", "t", article_text(8),
                                        article_fingerprints_of(article_text(8)))
        old_id, _ = store.add_article("https://pub.example/shy", "t", hyphenated,
                                      article_fingerprints_of(hyphenated.replace("\u00ad", " ")))  # as v1 read it
        store.index.compact()  # its postings in the packed file: they cannot be replaced under the same id
        alert_id, _ = store.record_alert(article=store.article(old_id), site="s", page_url="https://c.example/x",
                                         content_sha256="h", match={"kind": "verbatim", "coverage": 1.0,
                                                                    "page_share": 1.0, "longest_run": 9, "score": 1.0,
                                                                    "passages": []}, channels=[])
        store.db.execute("DELETE FROM meta WHERE key = 'index_normalisation'")
        assert ids_of(store, article_text(7)) == []
    with Store(db) as store:
        (new_id,) = ids_of(store, article_text(7))
        assert new_id != old_id and store.article(new_id).text == hyphenated
        assert ids_of(store, article_text(8)) == [plain_id]  # an ASCII text keeps its id and postings
        assert store.alert(alert_id)["article_id"] == new_id
        assert store.article_count() == 2
    with Store(db) as store:  # once
        assert ids_of(store, article_text(7)) == [new_id]


def test_articles_in_nfd_fingerprinted_under_normalisation_2_are_fingerprinted_again(tmp_path: Path) -> None:
    """NORMALISATION_VERSION 2 cut words at combining marks: an article stored in NFD (accents as separate marks)
    has postings of the pieces, which its NFC copy does not share; opening the store fingerprints it again. An
    NFC article with accents reads the same in both versions and keeps its id."""
    import re
    import unicodedata

    from monitor.text import MARK

    db = tmp_path / "s.db"
    nfd = article_text(9).replace("a", "a\u0301").replace("o", "o\u0308")
    nfc = unicodedata.normalize("NFC", nfd)
    accented = unicodedata.normalize("NFC", article_text(10).replace("e", "e\u0300"))
    with Store(db) as store:
        accented_id, _ = store.add_article("https://pub.example/nfc", "t", accented, article_fingerprints_of(accented))
        old_id, _ = store.add_article("https://pub.example/nfd", "t", nfd,
                                      article_fingerprints_of(re.sub(MARK, " ", nfd)))  # as version 2 read it
        store.index.compact()
        store.db.execute("UPDATE meta SET value = '2' WHERE key = 'index_normalisation'")
        assert ids_of(store, nfc) == []
    with Store(db) as store:
        (new_id,) = ids_of(store, nfc)
        assert new_id != old_id and store.article(new_id).text == nfd
        assert ids_of(store, nfd) == [new_id]
        assert ids_of(store, accented) == [accented_id]
        assert store.article_count() == 2


def _track_and_compact(db: str, seeds: list[int], start: object) -> None:
    index_mod.RECENT_MIN = 1  # fork start: every add past a quarter of the packed segment compacts
    start.wait()  # type: ignore[attr-defined]
    with Store(db) as store:
        for s in seeds:
            text = article_text(s)
            store.add_article(f"https://pub.example/{s}", "t", text, article_fingerprints_of(text))


def test_processes_compacting_at_once_lose_no_article(tmp_path: Path) -> None:
    """The service and a `provmon track` may cross the compaction threshold together: one compacts, the
    other leaves it (a lock beside the database), so neither clobbers the other's segment or drops postings
    the other merged."""
    import multiprocessing

    db = tmp_path / "s.db"
    with Store(db) as store:
        track(store, range(4))
        store.index.compact()
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_track_and_compact, args=(str(db), list(range(k, 120, 3)), start))
             for k in range(4, 7)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with Store(db) as store:
        assert store.article_count() == 120
        by_url = {url: i for i, url in store.db.execute("SELECT id, url FROM articles")}
        missing = [s for s in range(120) if ids_of(store, article_text(s))[:1] != [by_url[f"https://pub.example/{s}"]]]
        assert missing == []
        assert [p.name for p in tmp_path.glob("s.db.idx-*")] == [store.index._segment_name]


def test_a_lookup_racing_a_compaction_still_finds_the_moved_articles(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's compaction commits between the packed lookup and the recent query: the articles it
    moved are in neither view the lookup read, so it looks again in the new segment."""
    db = tmp_path / "s.db"
    with Store(db) as writer, Store(db) as reader:
        ids = track(writer, range(10))
        assert ids_of(reader, article_text(3)) == [ids[3]]  # packed: none yet, recent: all
        real = reader.index.recent_postings
        raced = []

        def compact_first() -> int:  # called by the lookup right after the packed segment was read
            if not raced:
                raced.append(True)
                writer.index.compact()
            return real()

        monkeypatch.setattr(reader.index, "recent_postings", compact_first)
        assert ids_of(reader, article_text(3)) == [ids[3]]
        assert raced and reader.index.stats()["recent_postings"] == 0


def _brute(postings: set[tuple[int, int]]) -> tuple[list[int], list[int]]:
    ordered = sorted(postings)
    return [h for h, _ in ordered], [a for _, a in ordered]


def _check_segment(seg: index_mod.Segment, postings: set[tuple[int, int]]) -> None:
    assert (list(seg.keys), list(seg.ids)) == _brute(postings)
    d = seg.directory
    assert d[0] == 0 and d[len(d) - 1] == seg.n
    for b in range(len(d) - 1):  # every bucket holds exactly the postings whose top bits are b
        assert all(seg.keys[i] >> seg.shift == b for i in range(d[b], d[b + 1]))


def test_insert_places_recent_postings_among_packed_ones(tmp_path: Path) -> None:
    """The insertion path of compaction: new hashes, a hash the segment holds (ids of a hash stay sorted, also an
    id below the packed ones), a posting packed already (not doubled), tombstoned rows dropped."""
    rnd = random.Random(3)
    packed = {(rnd.getrandbits(32), rnd.randrange(10, 100)) for _ in range(3000)}
    packed |= {(77, a) for a in (20, 30, 40)}
    keys, ids = _brute(packed)
    path = tmp_path / "seg"
    index_mod.Segment.write(path, array("I", keys), array("I", ids), 100)
    seg = index_mod.Segment(path)
    recent = {(rnd.getrandbits(32), rnd.randrange(100, 200)) for _ in range(500)}
    recent |= {(77, 5), (77, 35), (77, 150), (keys[0], ids[0]), (keys[-1], 199), (0, 150), (2**32 - 1, 150)}
    out_keys, out_ids, directory = index_mod._insert(seg, sorted(recent | {(9, 6)}), removed={6})
    assert directory is not None
    out = tmp_path / "out"
    index_mod.Segment.write(out, out_keys, out_ids, 200, directory)
    _check_segment(index_mod.Segment(out), packed | recent)
    seg.close()


def test_compaction_inserts_into_the_packed_file_and_writes_what_a_full_merge_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compactions after the first insert the recent postings (no full rewrite) while no tombstone is packed;
    the packed file holds every posting, sorted, as the full merge would, also when the directory grows (the
    bucket count is kept while buckets stay small, then recomputed)."""
    monkeypatch.setattr(index_mod, "INSERT_RATIO", 1)  # insert batches as large as the packed file
    rnd = random.Random(11)
    held: set[tuple[int, int]] = set()
    inserted = []
    real_insert = index_mod._insert
    monkeypatch.setattr(index_mod, "_insert", lambda *a: inserted.append(1) or real_insert(*a))
    with Store(tmp_path / "s.db") as store:
        def add(n: int) -> None:
            for _ in range(n):
                hs = set(rnd.sample(range(1, 60), 5)) | {rnd.getrandbits(32) for _ in range(40)}
                aid, _ = store.add_article(f"u{rnd.getrandbits(64)}", "t", f"text {rnd.getrandbits(64)}", hs)
                held.update((h, aid) for h in hs)

        add(20)
        store.index.compact()
        assert inserted == []  # nothing packed yet: a full merge
        bits = [store.index.segment.bits]
        for n in (15, 30, 60, 120, 240):
            add(n)
            store.index.compact()
            bits.append(store.index.segment.bits)
            _check_segment(store.index.segment, held)
        assert len(inserted) == 5
        assert bits[-1] > bits[0] + 1 and any(a == b for a, b in pairwise(bits))
        gone = next(a for _, a in held)
        store.delete_article(gone)
        store.index.compact(merge=True)  # the full merge drops a tombstoned article's postings
        assert len(inserted) == 5
        _check_segment(store.index.segment, {(h, a) for h, a in held if a != gone})


def test_packed_tombstones_stay_through_inserts_until_a_full_merge(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-tracking a changed URL tombstones its old article: a few tombstones must not turn every compaction into a
    full rewrite of the packed file. The insert leaves their postings behind the tombstones, which stay (also for
    another connection); past the cap a full merge drops them all."""
    inserted = []
    real_insert = index_mod._insert
    monkeypatch.setattr(index_mod, "_insert", lambda *a: inserted.append(1) or real_insert(*a))
    monkeypatch.setattr(index_mod, "TOMBSTONE_MAX", 2)
    db = tmp_path / "s.db"
    with Store(db) as store:
        ids = track(store, range(60))
        store.index.compact()
        packed = store.index.segment.n
        store.delete_article(ids[3])
        more = track(store, range(60, 62))
        store.index.compact()
        assert inserted == [1]
        seg = store.index.segment
        assert ids[3] in set(seg.ids) and seg.n > packed
        assert store.index.stats()["removed"] == 1
        assert ids_of(store, article_text(3)) == []
        assert ids_of(store, article_text(61)) == [more[61]]
        with Store(db) as other:
            assert ids_of(other, article_text(3)) == []
            assert ids_of(other, article_text(5)) == [ids[5]]
        store.delete_article(ids[4])
        extra = track(store, range(62, 64))
        store.delete_article(extra[62])  # recent only: its rows go at once, its tombstone at the next compaction
        store.index.compact()
        assert inserted == [1, 1] and store.index.stats()["removed"] == 2
        assert extra[62] not in set(store.index.segment.ids)
        store.delete_article(ids[5])  # a third packed tombstone: over the cap
        store.index.compact()
        assert inserted == [1, 1]
        assert store.index.stats()["removed"] == 0
        assert not {ids[3], ids[4], ids[5]} & set(store.index.segment.ids)
        assert [ids_of(store, article_text(s)) for s in (3, 4, 5, 62)] == [[], [], [], []]
        assert ids_of(store, article_text(63)) == [extra[63]]
        assert ids_of(store, article_text(6)) == [ids[6]]


def test_the_recent_segment_stays_below_its_cap_on_a_large_index(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Past RECENT_MAX the recent table is compacted at a fixed size, not at a quarter of the packed file: lookups
    slow down as it grows. Those small compactions insert into the packed file rather than rewrite it."""
    monkeypatch.setattr(index_mod, "RECENT_MIN", 100)
    monkeypatch.setattr(index_mod, "RECENT_MAX", 400)
    inserted = []
    real_insert = index_mod._insert
    monkeypatch.setattr(index_mod, "_insert", lambda *a: inserted.append(1) or real_insert(*a))
    with Store(tmp_path / "s.db") as store:
        most = 0
        for s in range(150):
            track(store, range(s, s + 1))
            stats = store.index.stats()
            if stats["packed_postings"] // 4 > 1000:
                most = max(most, stats["recent_postings"])
        assert store.index.stats()["packed_postings"] > 8 * 400
        assert 0 < most <= 400
        assert len(inserted) >= 3
        assert all(ids_of(store, article_text(s))[0] for s in range(150))


def test_a_copy_of_the_database_builds_its_own_index(tmp_path: Path) -> None:
    """A backup (Store.backup, or the database file copied alone) names the original's packed file in meta: it
    must not read that file (the original's next compaction deletes it) but fingerprint its articles again."""
    with Store(tmp_path / "a.db") as store:
        ids = track(store, range(12))
        store.index.compact()
        store.backup(tmp_path / "b.db")
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    (elsewhere / "a.db").write_bytes((tmp_path / "a.db").read_bytes())  # the file alone, checkpointed
    with Store(tmp_path / "a.db") as original:
        track(original, range(12, 14))
        original.index.compact()  # unlinks a.db.idx-1
        assert ids_of(original, article_text(3)) == [ids[3]]
    for db in (tmp_path / "b.db", elsewhere / "a.db"):
        with Store(db) as copy:
            assert ids_of(copy, article_text(3)) == [ids[3]]
            assert ids_of(copy, article_text(13)) == []
            assert not copy.index.segment_lost()
            copy.index.compact()
            assert copy.index.segment.path.parent == db.parent
            assert ids_of(copy, article_text(7)) == [ids[7]]


def test_a_new_fingerprint_function_drops_the_packed_postings(tmp_path: Path) -> None:
    """Re-fingerprinting on open replaces every posting: the packed file holds hashes of the old function."""
    db = tmp_path / "s.db"
    with Store(db) as store:
        ids = track(store, range(6))
        store.index.compact()
        store.db.execute("UPDATE meta SET value = 'old' WHERE key = 'index_fingerprints'")
    with Store(db) as store:
        stats = store.index.stats()
        assert stats["packed_postings"] == 0 and stats["recent_postings"] > 0
        assert ids_of(store, article_text(4)) == [ids[4]]


def test_the_recent_posting_count_follows_adds_and_removals(tmp_path: Path) -> None:
    """meta.index_recent decides when to compact and how: it counts the rows really in the recent table."""
    with Store(tmp_path / "s.db") as store:
        def counted() -> tuple[int, int]:
            return store.index.recent_postings(), store.index.stats()["recent_postings"]

        a, _ = store.add_article("u1", "t", "one", [1, 2, 3, 3])
        store.add_article("u2", "t", "two", [2, 3, 4])
        assert counted() == (6, 6)
        with store.transaction():
            store.index.add(a, [1, 2, 9])  # two of them held already
        assert counted() == (7, 7)
        store.delete_article(a)
        assert counted() == (3, 3)
        store.index.compact()
        assert counted() == (0, 0)


def test_tombstones_are_read_again_only_when_they_change(tmp_path: Path) -> None:
    """Tombstones now stay across compactions (up to TOMBSTONE_MAX): a reader must not read them all again at every
    commit of another connection (the service's site jobs commit every few pages), only when they changed."""
    db = tmp_path / "s.db"
    with Store(db) as writer, Store(db) as reader:
        ids = track(writer, range(12))
        writer.index.compact()
        writer.delete_article(ids[1])
        statements: list[str] = []
        reader.db.conn.set_trace_callback(statements.append)
        assert ids_of(reader, article_text(1)) == []
        assert any("FROM index_removed" in s for s in statements)  # the first lookup reads them
        statements.clear()
        more = track(writer, range(20, 22))  # commits that leave the tombstones alone
        assert ids_of(reader, article_text(21)) == [more[21]]
        assert not any("FROM index_removed" in s for s in statements)
        writer.delete_article(ids[2])
        assert ids_of(reader, article_text(2)) == []  # seen at once
        assert any("FROM index_removed" in s for s in statements)
        writer.index.compact(merge=True)  # drops the tombstones with their postings
        assert reader.index.stats()["removed"] == 0
        assert ids_of(reader, article_text(3)) == [ids[3]]


def test_the_recent_filter_never_drops_a_hash_it_was_given() -> None:
    """A bitmap over the hashes' top bits: every hash added passes, and most others do not."""
    rnd = random.Random(3)
    held = [rnd.getrandbits(32) for _ in range(20_000)]
    f = index_mod.RecentFilter("1", len(held))
    f.add(held)
    assert f.select(held) == held
    others = [rnd.getrandbits(32) for _ in range(20_000)]
    assert len(f.select(others)) < 0.06 * len(others)  # ~1/FILTER_BITS of absent hashes pass


def recent_probes(store: Store, page: str) -> list[list[int]]:
    """The hashes each recent-table query of one lookup probes."""
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        store.candidates(page_fingerprints_of(page), 3, 20)
    finally:
        store.db.conn.set_trace_callback(None)
    return [json.loads(s.split("json_each('", 1)[1].split("')", 1)[0]) for s in statements if "json_each('" in s]


def test_lookups_probe_the_recent_table_only_for_hashes_it_may_hold(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        ids = track(store, range(5))
        unrelated = " ".join(f"zq{i} yv{i * 7} xw{i * 13}." for i in range(150))
        # A new connection probes every hash until that has cost about what reading the recent postings costs.
        assert sorted(recent_probes(store, unrelated)[0]) == sorted(set(page_fingerprints_of(unrelated)))
        assert store.index.recent_postings() < 3 * len(set(page_fingerprints_of(unrelated)))
        assert ids_of(store, article_text(3)) == [ids[3]]  # by now it has: the filter is built
        assert recent_probes(store, unrelated) == []  # no query at all
        copy = article_text(3)
        probes = recent_probes(store, copy)
        assert len(probes) == 1
        assert set(article_fingerprints_of(copy)) <= set(probes[0]) < set(page_fingerprints_of(copy))


def test_the_recent_filter_follows_other_connections_rollbacks_and_resets(tmp_path: Path) -> None:
    """Each connection's filter reads the rows of ids above those it holds: an id it read inside a transaction that
    rolled back comes again, and a reset brings old ids back; neither may be missed."""
    db = tmp_path / "s.db"
    with Store(db) as writer, Store(db) as reader:
        ids = track(writer, range(3))
        reader.index._probed = 10**9  # as if its probes had paid for the filter already
        assert ids_of(reader, article_text(1)) == [ids[1]]
        assert reader.index._filter is not None and reader.index._filter.high == ids[2]
        more = track(writer, range(3, 5))
        assert ids_of(reader, article_text(4)) == [more[4]]  # another connection's adds
        # The reader's own add, looked up inside its transaction, then rolled back: its id is given again.
        reader.db.execute("BEGIN IMMEDIATE")
        lost = reader._next_article_id()
        reader.db.execute("INSERT INTO articles (id, url, text, sha256, added_at) VALUES (?, 'u', 'x', 'x', 'x')",
                          [lost])
        reader.index.add(lost, article_fingerprints_of(article_text(50)))
        assert ids_of(reader, article_text(50)) == [lost]
        reader.db.execute("ROLLBACK")
        reader.index._changed()
        assert ids_of(reader, article_text(50)) == []
        again = track(writer, range(6, 7))
        assert again[6] == lost
        assert ids_of(reader, article_text(6)) == [lost]
        # A reset (a re-index) puts the same ids back with other hashes.
        with writer.transaction():
            writer.index.reset()
            writer.index.add(ids[0], article_fingerprints_of(article_text(60)))
        assert ids_of(reader, article_text(60)) == [ids[0]]
        assert ids_of(reader, article_text(0)) == []


def test_short_articles_indexed_before_extra_postings_get_them_on_open(tmp_path: Path) -> None:
    """A store from before extra postings (schema 10) gives its short articles theirs, once, found by counting each
    article's fingerprints in the index; a reader's recent filter sees them although their ids are old."""
    db = tmp_path / "s.db"
    brief, story = article_text(5, words=120), article_text(6)
    extra = extra_fingerprints_of(brief, article_fingerprints_of(brief))
    assert extra and not extra_fingerprints_of(story, article_fingerprints_of(story))
    with Store(db) as writer, Store(db) as reader:
        b, _ = writer.add_article("https://pub.example/b", "t", brief, article_fingerprints_of(brief))
        s, _ = writer.add_article("https://pub.example/s", "t", story, article_fingerprints_of(story))
        writer.db.execute("DELETE FROM fingerprints WHERE extra = 1")  # as an older provmon indexed them
        writer.db.execute("DELETE FROM meta WHERE key = 'index_extras'")
        writer.index.compact()
        later = article_text(7)
        writer.add_article("https://pub.example/later", "t", later, article_fingerprints_of(later))
        for _ in range(3):  # the reader builds its recent filter, holding ids up to the later article's
            assert reader.index.votes(extra) == {}
        assert reader.index._filter is not None
        with Store(db) as upgraded:
            assert upgraded.db.execute("SELECT article_id, count(*) FROM fingerprints WHERE extra = 1 "
                                       "GROUP BY 1").fetchall() == [(b, len(extra))]
        assert reader.index.votes(extra) == {b: len(extra)}
        assert reader.candidates(extra, 3, 20) == [(b, len(extra))]
        with Store(db) as again:  # once only
            assert again.db.execute("SELECT count(*) FROM fingerprints WHERE extra = 1").fetchone()[0] == len(extra)
        writer.index.compact()
        assert reader.index.votes(extra) == {b: len(extra)}  # packed now, with the EXTRA bit
        assert s not in reader.index.votes(extra)


def test_extra_postings_are_not_added_twice(tmp_path: Path) -> None:
    """The upgrade to extra postings leaves an article that holds them alone, packed or recent: a store whose
    meta lost the mark (a run stopped half-way, two processes upgrading at once) must not double its votes."""
    db = tmp_path / "s.db"
    brief = article_text(5, words=120)
    extra = extra_fingerprints_of(brief, article_fingerprints_of(brief))
    with Store(db) as store:
        b, _ = store.add_article("https://pub.example/b", "t", brief, article_fingerprints_of(brief))
    for packed in (False, True):
        with Store(db) as store:
            if packed:
                store.index.compact()
            store.db.execute("DELETE FROM meta WHERE key = 'index_extras'")
        with Store(db) as store:
            assert store.index.votes(extra) == {b: len(extra)}
            store.index.compact(merge=True)
            assert store.index.votes(extra) == {b: len(extra)}


def test_a_new_database_never_counts_postings_and_keeps_its_recent_index(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: index_mod.Index) -> None:
        raise AssertionError("a new store counted its postings")

    monkeypatch.setattr(index_mod.Index, "posting_counts", refuse)
    with Store(tmp_path / "s.db") as store:
        track(store, range(3))
        store.index.compact()
        assert store.db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'fingerprints_article'"
                                ).fetchone()[0] == 1  # dropped for the compaction's delete, and made again
    with Store(tmp_path / "s.db") as store:
        assert store.article_count() == 3


def test_a_packed_file_of_the_first_format_is_still_read(tmp_path: Path) -> None:
    """Files written before extra postings (PMIDX001) stay readable; new ones say PMIDX002, which a provmon from
    before refuses ("not a provmon index segment") rather than handing out ids with the EXTRA bit."""
    path = tmp_path / "s.idx-1"
    index_mod.Segment.write(path, array("I", [5, 9]), array("I", [1, 2]), 2)
    assert path.read_bytes()[:8] == b"PMIDX002"
    with open(path, "r+b") as f:
        f.write(b"PMIDX001")
    seg = index_mod.Segment(path)
    assert (list(seg.keys), list(seg.ids), seg.max_id) == ([5, 9], [1, 2], 2)
    seg.close()
    with open(path, "r+b") as f:
        f.write(b"PMIDX999")
    with pytest.raises(ValueError, match="not a provmon index segment"):
        index_mod.Segment(path)
