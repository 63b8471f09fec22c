"""Randomized two-connection check of the candidate index's recent filter (monitor.index.RecentFilter).

A writer connection (and sometimes the reader itself) adds, re-tracks, deletes, compacts, resets (with other
hashes), rolls back; a reader connection looks up. Writer operations are also injected *between the reader's
statements* (through a proxy of the reader's sqlite3 connection), so they land between the statements of
_recent_filter, between the packed lookup and the recent probe, etc.

Invariant checked: an article committed (and still live, untouched) before a lookup started gets a vote for every
page hash it holds; an article deleted before the lookup started gets none.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from monitor import index as index_mod
from monitor.fingerprint import article_fingerprints_of, extra_fingerprints_of
from monitor.store import Store


class Rollback(Exception):
    pass


class HookConn:
    """Proxy of a sqlite3.Connection calling `hook(sql)` before each statement the Index runs."""

    def __init__(self, conn: sqlite3.Connection, hook) -> None:
        self._c = conn
        self.hook = hook

    @property
    def in_transaction(self) -> bool:
        return self._c.in_transaction

    def execute(self, sql, params=()):
        self.hook(sql)
        return self._c.execute(sql, params)

    def executemany(self, sql, params):
        self.hook(sql)
        return self._c.executemany(sql, params)

    def __getattr__(self, k):
        return getattr(self._c, k)


class World:
    def __init__(self, db: Path, rnd: random.Random, prebuilt: bool) -> None:
        self.rnd = rnd
        self.writer = Store(db)
        self.reader = Store(db)
        self.prebuilt = prebuilt  # the reader builds its filter as soon as it may
        self.live: dict[int, set[int]] = {}  # committed, live article id -> its postings
        self.dead: set[int] = set()  # committed, deleted (tombstoned) ids
        self.touched: set[int] = set()  # ids changed while a lookup runs
        self.seq = 0
        self.filtered = 0
        self.in_hook = False
        self.inject_p = 0.0
        self.log: list[str] = []
        self.reader.index.conn = HookConn(self.reader.index.conn, self.hook)

    def hashes(self) -> set[int]:
        r = self.rnd
        return {r.getrandbits(32) for _ in range(r.randrange(0, 40))} | {r.randrange(1, 50) for _ in range(3)}

    def text(self) -> str:
        """Mostly a few words (no 3-grams), sometimes a short text of made-up words, which gets extra postings."""
        if self.rnd.random() < 0.7:
            return f"text {self.seq}"
        return " ".join(f"w{self.rnd.randrange(400)}" for _ in range(self.rnd.randrange(5, 60)))

    def new_item(self):
        self.seq += 1
        hs, text = self.hashes(), self.text()
        # What the store indexes: the given fingerprints and, for a short text, its extra postings.
        return (f"u{self.seq}", "t", text, hs), hs | extra_fingerprints_of(text, hs)

    # -- operations (store: writer or reader) --------------------------------------------------------------
    def op_track(self, store: Store) -> None:
        items = [self.new_item() for _ in range(self.rnd.randrange(1, 4))]
        out = store.track_articles([i for i, _ in items])
        for t, (_, hs) in zip(out, items, strict=True):
            self.live[t.id] = set(hs)
            self.touched.add(t.id)
        self.log.append(f"track {[t.id for t in out]}")

    def op_retrack(self, store: Store) -> None:
        if not self.live:
            return
        old = self.rnd.choice(sorted(self.live))
        url = store.db.execute("SELECT url FROM articles WHERE id = ?", [old]).fetchone()[0]
        item, hs = self.new_item()
        t = store.track_articles([(url, *item[1:])])[0]
        assert t.replaces == old
        del self.live[old]
        self.dead.add(old)
        self.live[t.id] = hs
        self.touched |= {old, t.id}
        self.log.append(f"retrack {old}->{t.id}")

    def op_delete(self, store: Store) -> None:
        if not self.live:
            return
        a = self.rnd.choice(sorted(self.live))
        store.delete_article(a)
        del self.live[a]
        self.dead.add(a)
        self.touched.add(a)
        self.log.append(f"delete {a}")

    def op_rollback(self, store: Store) -> None:
        try:
            with store.transaction():
                for _ in range(self.rnd.randrange(1, 3)):
                    item, _ = self.new_item()
                    store._add_article(*item)
                if store is self.reader and not self.in_hook:
                    # a lookup inside the transaction (own uncommitted rows visible)
                    self.check(inside=True)
                raise Rollback
        except Rollback:
            pass
        self.log.append("rollback")

    def op_compact(self, store: Store) -> None:
        store.index.compact(merge=self.rnd.random() < 0.3)
        self.log.append("compact")

    def op_reset(self, store: Store) -> None:
        """A re-index with another fingerprint function: same ids, other hashes."""
        new = {a: self.hashes() for a in self.live}
        with store.index.compaction_lock(wait=True), store.transaction():
            store.index.reset()
            for a in sorted(new):
                store.index.add(a, new[a])
        self.live = new
        self.dead = set()  # reset dropped the tombstones; deleted ids have no postings anymore
        self.touched |= set(new)
        self.log.append("reset")

    def op_reindex_on_open(self, store: Store) -> None:
        """_reindex_if_stale, as another process opening the store after a fingerprint change."""
        store.db.execute("DELETE FROM meta WHERE key = 'index_fingerprints'")
        with Store(store.path):
            pass
        texts = {a: store.db.execute("SELECT text FROM articles WHERE id = ?", [a]).fetchone()[0] for a in self.live}
        self.live = {a: (fps := article_fingerprints_of(t)) | extra_fingerprints_of(t, fps) for a, t in texts.items()}
        self.dead = set()
        self.touched |= set(self.live)
        self.log.append("reindex-on-open")

    def random_op(self, store: Store) -> None:
        ops = [(self.op_track, 8), (self.op_retrack, 2), (self.op_delete, 2), (self.op_rollback, 2),
               (self.op_compact, 2), (self.op_reset, 1), (self.op_reindex_on_open, 0.3)]
        f = self.rnd.choices([o for o, _ in ops], [w for _, w in ops])[0]
        f(store)

    # -- injection -----------------------------------------------------------------------------------------
    def hook(self, sql: str) -> None:
        if self.in_hook or self.inject_p == 0 or self.reader.index.conn.in_transaction:
            return
        if self.rnd.random() < self.inject_p:
            self.in_hook = True
            try:
                self.log.append(f"  [injected before {sql[:40]!r}]")
                self.random_op(self.writer)
            finally:
                self.in_hook = False

    # -- the check -----------------------------------------------------------------------------------------
    def check(self, inside: bool = False) -> None:
        live = {a: set(h) for a, h in self.live.items()}
        dead = set(self.dead)
        if not live:
            return
        chosen = self.rnd.sample(sorted(live), min(len(live), self.rnd.randrange(1, 6)))
        page = set().union(*(live[a] for a in chosen)) | {self.rnd.getrandbits(32) for _ in range(30)}
        self.touched = set()
        self.inject_p = 0.0 if inside else 0.15
        if self.prebuilt:
            self.reader.index._probed = 10**12
        try:
            votes = self.reader.index.votes(page)
        finally:
            self.inject_p = 0.0
        if self.prebuilt and not inside and self.reader.index.recent_postings():
            self.filtered += self.reader.index._filter is not None
        for a in chosen:
            if a in self.touched:
                continue
            want = len(live[a] & page)
            f = self.reader.index._filter
            assert votes.get(a, 0) == want, (f"article {a} holds {want} page hashes, got {votes.get(a, 0)}; "
                                              f"filter={f and vars_of(f)}\nlog tail: {self.log[-25:]}")
        for a in dead - self.touched:
            assert a not in votes, f"deleted {a} voted\nlog tail: {self.log[-25:]}"


def vars_of(f: index_mod.RecentFilter) -> dict:
    return {"generation": f.generation, "high": f.high}


@pytest.mark.parametrize("prebuilt", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_random_interleavings_lose_no_committed_posting(tmp_path: Path, seed: int, prebuilt: bool) -> None:
    """Fails without the in-transaction rule, without reset's generation bump, with _changed() leaving the filter's
    data_version, without votes()'s generation check, or with the data_version read after the filter's rows."""
    rnd = random.Random(seed)
    w = World(tmp_path / "s.db", rnd, prebuilt)
    try:
        for _step in range(120):
            r = rnd.random()
            if r < 0.55:
                w.random_op(w.writer)
            elif r < 0.65:
                w.random_op(w.reader)  # the reader's own writes (data_version does not move for them)
            w.check()
            w.check()  # and again with nothing in between
        if prebuilt:
            assert w.filtered > 50  # most lookups went through a filter
    finally:
        w.writer.close()
        w.reader.close()
