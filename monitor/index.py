"""The candidate index: which tracked articles could this page copy?

Two segments, both owned by the store:

* the *packed segment*, a read-only file beside the database (``<db>.idx-<generation>``), memory-mapped:
  all postings sorted by (32-bit hash, article id) as two uint32 arrays, with a directory of offsets
  keyed by the hash's top bits, so finding a hash's postings is one directory read and a bisect in a
  bucket of ~8 entries. 8 bytes per posting and nothing else: no B-tree pages, no per-row headers.
* the *recent segment*, the SQLite table ``fingerprints(hash, article_id)`` (WITHOUT ROWID), where
  new articles go, so adding one is a handful of small inserts in the store's transaction.

``compact()`` merges the recent segment into a new packed file (written aside, fsynced, renamed), then
in one short transaction points ``meta.index_segment`` at it and drops the merged rows. It runs by
itself when the recent segment outgrows a quarter of the packed one (at least RECENT_MIN postings, at most
RECENT_MAX: a large recent table slows every lookup). A small recent segment is inserted into the packed
file (the packed postings copied as bytes between insertion points), and tombstoned packed postings stay
behind their tombstones; a large one, or more tombstones than TOMBSTONE_SHARE/TOMBSTONE_MAX allow, make it a
full merge of both, which drops them. One process compacts at a time: it holds
an exclusive lock on ``<db>.idx.lock`` (the service and a ``provmon track`` can cross the threshold
together; two compactions would each build a file from their own snapshot and the later rename would
drop the other's postings), and only the holder creates or removes packed files, so it also removes
files a crash left behind. Removed articles leave a tombstone in
``index_removed`` until a full merge drops their postings. Readers in other processes notice
a new segment through ``PRAGMA data_version`` and reopen it; the old file is unlinked (an open mmap
keeps working).

A lookup counts, for each article, how many of the page's hashes it holds (votes). Hashes held by
more than ``df_cap`` articles (stop-grams: stock phrases) are skipped; they say nothing about a copy
and cost the most. A short article's *extra* postings (monitor.fingerprint.extra_fingerprints_of) carry the
EXTRA bit in their article id (packed) or `extra = 1` (recent): they count towards its votes; its rank is what
its window-8 sample would meet among them (SAMPLE_SHARE).
The recent table is probed only for the page hashes that a bitmap of its hashes
(``RecentFilter``, one per connection, brought up to date from the rows of articles added since) may hold:
a B-tree probe per page hash was half the page check at the compaction threshold.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import mmap
import os
import sqlite3
import stat
import struct
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import accumulate, chain
from operator import add
from pathlib import Path

# Version 2 may hold extra postings (ids with the EXTRA bit). A provmon from before reads only version 1 and stops at a
# version-2 file ("not a provmon index segment") instead of handing out flagged ids or dropping their bit.
MAGIC = b"PMIDX002"
READABLE = (b"PMIDX001", MAGIC)
HEADER = struct.Struct("<8sIIQQ")  # magic, directory bits, reserved, postings, max article id
RECENT_MIN = 200_000  # postings in the recent segment before a compaction is considered
# ...and at most this many (~15k articles): every lookup queries the table, one B-tree probe per page hash, and
# that slows as it grows (page check p50 at 1M articles just before a compaction: 1.64 ms at 16.5M recent
# postings, 1.02 ms at 2M, docs/index.md).
RECENT_MAX = 1_000_000
# Compaction inserts the recent postings into the packed file (Python work per recent posting, the packed ones
# copied as bytes) when they are at most 1/INSERT_RATIO of it; otherwise it merges everything, Python work per
# posting of both (at 1M articles, 1M recent postings: 3.3-5.6 s inserted, 19.4-21.5 s merged; docs/index.md).
INSERT_RATIO = 8
# Tombstoned articles whose postings an insert leaves in the packed file (hidden by their tombstones, which stay)
# rather than forcing a full merge (at 1M articles 21.5 s instead of 3.3 s), now that re-tracking a changed URL
# tombstones its old article: at most one in TOMBSTONE_SHARE packed postings (~1/8 of the articles, at ~66
# postings each) and at most TOMBSTONE_MAX (each reader holds the set, read again when meta.index_removed_gen moves).
TOMBSTONE_SHARE = 512
TOMBSTONE_MAX = 10_000
DF_CAP = 1000  # hashes held by more articles than this are stop-grams
# The bit of a packed article id that marks an extra posting (article ids stay below it).
EXTRA = 1 << 31
# A window-8 sample holds ~2/9 of an article's 3-grams: a short article's rank is what its sample alone would meet
# among all the shared 3-grams it is indexed by (fingerprints and extras), never less than its fingerprint votes.
SAMPLE_SHARE = 2 / 9
# Bits of the recent filter per recent posting (at the compaction threshold): ~3% of the hashes the recent table
# does not hold pass, so a news page's ~500 hashes make ~15 needless probes instead of ~500.
FILTER_BITS = 32
_UNKNOWN = "?"  # a tombstone generation no meta value has: read them
# The recent rows by article (schema 9): the rows of ids above those a recent filter holds, and one article's rows.
RECENT_BY_ARTICLE = "CREATE INDEX IF NOT EXISTS fingerprints_article ON fingerprints (article_id)"
# What a lookup reads before and after its votes, each in one statement (Index._lookup).
_STATE_BEFORE = "SELECT (SELECT value FROM meta WHERE key = 'index_generation'), data_version FROM pragma_data_version"
_STATE_AFTER = ("SELECT (SELECT value FROM meta WHERE key = 'index_segment'), "
                "(SELECT value FROM meta WHERE key = 'index_generation')")


class IndexFileError(Exception):
    """A file of the index beside the database cannot be used by this user (one root left behind, say)."""


def who(uid: int, gid: int | None = None) -> str:
    try:
        import pwd

        name = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        name = str(uid)
    if gid is None:
        return f"{name} (uid {uid})"
    try:
        import grp

        group = grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        group = str(gid)
    return f"{name}:{group}"


def permission_problem(path: Path, db_path: Path) -> str:
    """What to tell the operator when `path`, a file beside the database (or to be created there), is not usable."""
    user = who(os.geteuid())
    try:
        st = os.stat(path)
    except OSError:  # not there: it could not be created, the directory is the problem
        return (f"{path.parent}: cannot create {path.name} there: the database's directory must be writable by "
                f"the user provmon runs as ({user})")
    return (f"{path}: permission denied for {user}: this file beside the database belongs to "
            f"{who(st.st_uid, st.st_gid)} (left by provmon run as another user, e.g. root?); every file beside "
            f"the database must be usable by the user provmon runs as: give it the database's owner "
            f"(sudo chown --reference={db_path} {path}) or remove it")


def adopt(file: int | Path, db_path: Path) -> None:
    """As root, give a file created (or opened for writing) beside the database the database file's owner and group,
    as SQLite does for its -wal and -shm files: a `sudo provmon track` on the service's database must not leave a
    lock or a packed file that the service user cannot open (it would fail every later compaction).

    Only a regular file with one link is given away, and a path is never followed: the service user owns the
    directory, and a symbolic or hard link it planted there must not make root hand it some other file. Pass an
    open descriptor where there is one (what was opened is what is changed)."""
    if os.geteuid() != 0:
        return
    try:
        db = os.stat(db_path)
    except OSError:
        return
    if db.st_uid == 0 and db.st_gid == 0:  # SQLite's rule too: a root-owned database needs nothing
        return
    with contextlib.suppress(OSError):  # as SQLite: a file system that refuses (read-only, no owners) is left be
        st = os.fstat(file) if isinstance(file, int) else os.lstat(file)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or (st.st_uid, st.st_gid) == (db.st_uid, db.st_gid):
            return
        if isinstance(file, int):
            os.fchown(file, db.st_uid, db.st_gid)
        else:
            os.chown(file, db.st_uid, db.st_gid, follow_symlinks=False)


def open_beside(path: Path, db_path: Path, flags: int) -> int:
    """Open (or create) a file beside the database without following a symbolic link (a planted link is an error
    naming it, not a way to make root write elsewhere); as root it gets the database's owner (adopt)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IndexFileError(f"{path}: is a symbolic link; a file beside the database must be a plain file "
                                 f"(remove it)") from None
        raise
    adopt(fd, db_path)
    return fd


class Segment:
    """A packed, memory-mapped, read-only posting file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            # MAP_POPULATE (Linux) maps every page at open: ~15 ms for a 1M-article file in the page cache, one
            # sequential read when it is not, instead of faults scattered over the first thousands of lookups
            # (the page-check p99 at 1M: 1.8-2.2 ms without, 1.5 ms with, in a fresh process).
            flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
            self._mm = mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
        magic, bits, _, n, max_id = HEADER.unpack_from(self._mm, 0)
        if magic not in READABLE:
            raise ValueError(f"{path}: not a provmon index segment")
        self.bits, self.n, self.max_id = bits, n, max_id
        self.shift = 32 - bits
        view = memoryview(self._mm)
        off = HEADER.size
        dsize = ((1 << bits) + 1) * 4
        self.directory = view[off: off + dsize].cast("I")
        off += dsize
        self.keys = view[off: off + 4 * n].cast("I")
        off += 4 * n
        self.ids = view[off: off + 4 * n].cast("I")

    def close(self) -> None:
        for v in (self.directory, self.keys, self.ids):
            v.release()
        with contextlib.suppress(BufferError):
            self._mm.close()

    @staticmethod
    def bits_for(n: int) -> int:
        return max(8, min(26, (n // 8).bit_length()))  # >= 8: _merge slices by the top byte

    @staticmethod
    def write(path: Path, keys: array, ids: array, max_id: int, directory: array | None = None,
              db_path: Path | None = None) -> None:
        """Write a packed file. `directory` (bucket offsets) is computed, for bits_for(len(keys)), when not given;
        with `db_path`, the file gets the database's owner when written by root (adopt)."""
        n = len(keys)
        bits = Segment.bits_for(n) if directory is None else (len(directory) - 1).bit_length() - 1
        if directory is None:
            shift = 32 - bits
            counts = [0] * ((1 << bits) + 1)
            for k in keys:
                counts[(k >> shift) + 1] += 1
            directory = array("I", accumulate(counts))
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)  # one a crash left, maybe another user's: a new file, ours
        with open(tmp, "xb") as f:
            if db_path is not None:
                adopt(f.fileno(), db_path)
            f.write(HEADER.pack(MAGIC, bits, 0, n, max_id))
            directory.tofile(f)
            keys.tofile(f)
            ids.tofile(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        # The rename must be on disk before meta names the file and the old one is unlinked: a power cut
        # could otherwise leave meta naming a file the directory does not hold.
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RecentFilter:
    """Which hashes the recent table may hold: a bitmap over the hashes' top bits (false positives only), with
    the postings of articles up to `high` in it, for one `generation` of the index (a compaction or a reset
    starts a new one; rows of a generation only ever come with higher article ids, or leave)."""

    __slots__ = ("_bits", "_shift", "generation", "high")

    def __init__(self, generation: str | None, postings: int) -> None:
        k = max(20, min(27, (postings * FILTER_BITS - 1).bit_length()))  # 128 KB .. 16 MB
        self.generation = generation
        self.high = 0
        self._bits = bytearray(1 << (k - 3))
        self._shift = 32 - k

    def add(self, hashes: Iterable[int]) -> None:
        bits, s = self._bits, self._shift
        for h in hashes:
            i = h >> s
            bits[i >> 3] |= 1 << (i & 7)

    def select(self, hashes: Iterable[int]) -> list[int]:
        """The hashes the recent table may hold."""
        bits, s, s3 = self._bits, self._shift, self._shift + 3
        return [h for h in hashes if bits[h >> s3] >> ((h >> s) & 7) & 1]


class Index:
    """The candidate index of one store (its SQLite connection and the files beside it)."""

    def __init__(self, conn: sqlite3.Connection, db_path: Path, df_cap: int = DF_CAP) -> None:
        self.conn = conn
        self.db_path = db_path
        self.df_cap = df_cap
        self.segment: Segment | None = None
        self._segment_name: str | None = None
        self._removed: set[int] = set()
        self._removed_gen: str | None = _UNKNOWN  # meta.index_removed_gen the set was read at
        self._data_version: int | None = None
        self._filter: RecentFilter | None = None
        self._filter_version: int | None = None  # data_version the filter was brought up to date at
        self._probed = 0  # hashes looked up in the recent table without the filter

    # -- state ------------------------------------------------------------------------------------
    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def _refresh(self, dv: int | None = None) -> None:
        """Pick up a new segment or tombstones written by this or another connection; `dv`: PRAGMA data_version,
        when the caller has just read it."""
        if dv is None:
            dv = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if dv == self._data_version:
            return
        name = self._meta("index_segment")
        if name != self._segment_name:
            if self.segment is not None:
                self.segment.close()
                self.segment, self._segment_name = None, None
            for _ in range(5):
                try:
                    self.segment = Segment(self.db_path.with_name(name)) if name else None
                    if self.segment is not None:
                        adopt(self.segment.path, self.db_path)  # root heals one an older provmon left root's
                    break
                except PermissionError:
                    raise IndexFileError(permission_problem(self.db_path.with_name(name), self.db_path)) from None
                except FileNotFoundError:
                    # A compaction switched segments and unlinked this one between our read and the open.
                    name = self._meta("index_segment")
            else:
                raise FileNotFoundError(f"{self.db_path}: index segment {name} keeps disappearing")
            self._segment_name = name
        # Tombstones (up to TOMBSTONE_MAX, carried across compactions) are read again only when their generation
        # moved, not at every commit of another connection (the service's site jobs commit every few pages).
        gen = self._meta("index_removed_gen")
        if gen != self._removed_gen:
            self._removed = {r[0] for r in self.conn.execute("SELECT article_id FROM index_removed")}
            self._removed_gen = gen
        self._data_version = dv

    def _changed(self, removed: bool = False) -> None:
        """After our own writes (which do not move data_version); `removed`: the tombstones changed too."""
        self._data_version = None
        self._filter_version = None
        if removed:
            self._removed_gen = _UNKNOWN

    def _tombstones_changed(self) -> None:
        """Inside the writing transaction: other connections read the tombstones again."""
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('index_removed_gen', '1') ON CONFLICT (key) "
                          "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        self._changed(removed=True)

    def _new_generation(self) -> None:
        """Inside the writing transaction: rows came back or were added under old ids, which recent filters (which
        read only ids above those they hold) would miss; they start again. Compactions move the generation too."""
        self.conn.execute("INSERT INTO meta (key, value) VALUES ('index_generation', '1') ON CONFLICT (key) "
                          "DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def close(self) -> None:
        if self.segment is not None:
            self.segment.close()
            self.segment = None
            self._segment_name = None

    def segment_lost(self) -> bool:
        """Whether meta names a packed file this store does not have beside it: the database was copied or
        restored without it, or under another name (the file named then belongs to the original)."""
        name = self._meta("index_segment")
        if not name:
            return False
        return not name.startswith(f"{self.db_path.name}.idx-") or not self.db_path.with_name(name).is_file()

    def reset(self) -> None:
        """Forget every posting, packed and recent (inside the caller's transaction, under the compaction lock);
        the caller adds them again. A packed file of this store is left to the next compaction's clean-up."""
        self.conn.execute("DELETE FROM fingerprints")
        self.conn.execute("DELETE FROM index_removed")
        self.conn.execute("DELETE FROM meta WHERE key = 'index_segment'")
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_recent', '0')")
        self._new_generation()  # the same ids come back, which readers' recent filters would not read again
        self._tombstones_changed()

    def max_article_id(self) -> int:
        """The largest article id the index has ever held (packed, recent or tombstoned)."""
        self._refresh()
        row = self.conn.execute("SELECT max(article_id) FROM fingerprints UNION ALL "
                                "SELECT max(article_id) FROM index_removed").fetchall()
        return max([self.segment.max_id if self.segment else 0] + [r[0] or 0 for r in row])

    def recent_postings(self) -> int:
        return int(self._meta("index_recent") or 0)

    def stats(self) -> dict[str, int]:
        """Sizes: postings and bytes of the packed file; postings of the recent table."""
        self._refresh()
        seg = self.segment
        return {
            "packed_postings": seg.n if seg else 0,
            "packed_bytes": seg.path.stat().st_size if seg else 0,
            "recent_postings": int(self.conn.execute("SELECT count(*) FROM fingerprints").fetchone()[0]),
            "removed": len(self._removed),
        }

    def posting_counts(self) -> tuple[Counter[int], Counter[int]]:
        """Fingerprints and extra postings held per article id, packed and recent, tombstoned ids included: one
        pass over the packed ids (a few seconds at 1M articles)."""
        self._refresh()
        counts: Counter[int] = Counter()
        if self.segment is not None:
            counts.update(self.segment.ids)
        extras: Counter[int] = Counter({a ^ EXTRA: counts.pop(a) for a in [a for a in counts if a >= EXTRA]})
        for a, extra, n in self.conn.execute("SELECT article_id, extra, count(*) FROM fingerprints GROUP BY 1, 2"):
            (extras if extra else counts)[a] += n
        return counts, extras

    def holds_extras(self, article_id: int, hashes: Iterable[int]) -> bool:
        """Whether the index holds an extra posting of this article for any of `hashes` (packed or recent)."""
        self._refresh()
        hs = list(hashes)
        seg = self.segment
        if seg is not None:
            keys, ids, packed = seg.keys, seg.ids, article_id | EXTRA
            for h in hs:
                b = h >> seg.shift
                lo, hi = seg.directory[b], seg.directory[b + 1]
                i = bisect_left(keys, h, lo, hi)
                j = bisect_right(keys, h, i, hi)
                k = bisect_left(ids, packed, i, j)
                if k < j and ids[k] == packed:
                    return True
        return self.conn.execute("SELECT EXISTS (SELECT 1 FROM fingerprints WHERE article_id = ? AND extra = 1)",
                                 [article_id]).fetchone()[0] == 1

    # -- writes (inside the caller's transaction) -------------------------------------------------------
    def add(self, article_id: int, hashes: Iterable[int], extra: Iterable[int] = ()) -> None:
        """A new article's postings, and its extra ones (a short article's other 3-grams): its id is above every id
        the index held since the last reset() (readers' recent filters read only the rows of ids above those they
        hold; add_extra() is the exception, and starts a new generation)."""
        hs = set(hashes)
        added = self.conn.executemany("INSERT OR IGNORE INTO fingerprints (hash, article_id) VALUES (?, ?)",
                                      ((h, article_id) for h in sorted(hs))).rowcount  # ignored rows not counted
        xs = set(extra) - hs
        if xs:
            added += self.conn.executemany(
                "INSERT OR IGNORE INTO fingerprints (hash, article_id, extra) VALUES (?, ?, 1)",
                ((h, article_id) for h in sorted(xs))).rowcount
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'index_recent'", [added])
        self._changed()

    def add_extra(self, extras: Iterable[tuple[int, Iterable[int]]]) -> int:
        """Extra postings for articles the index already holds (a store upgraded to extras): (article id, hashes),
        the article's own fingerprints left out by the caller. Starts a new generation, since these ids are not
        new; returns the postings added."""
        added = 0
        for article_id, hashes in extras:
            added += self.conn.executemany(
                "INSERT OR IGNORE INTO fingerprints (hash, article_id, extra) VALUES (?, ?, 1)",
                ((h, article_id) for h in sorted(set(hashes)))).rowcount
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'index_recent'", [added])
        self._new_generation()
        self._changed()
        return added

    def remove(self, article_id: int) -> None:
        gone = self.conn.execute("DELETE FROM fingerprints WHERE article_id = ?", [article_id]).rowcount
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) - ? WHERE key = 'index_recent'", [gone])
        self.conn.execute("INSERT OR IGNORE INTO index_removed (article_id) VALUES (?)", [article_id])
        self._tombstones_changed()

    def threshold(self) -> int:
        """Recent postings above which an add compacts: a quarter of the packed ones, within RECENT_MIN..RECENT_MAX."""
        self._refresh()
        packed = self.segment.n if self.segment else 0
        return max(RECENT_MIN, min(packed // 4, RECENT_MAX))

    def needs_compaction(self) -> bool:
        return self.recent_postings() > self.threshold()

    @contextlib.contextmanager
    def compaction_lock(self, wait: bool) -> Iterator[bool]:
        """Exclusive across processes (flock on ``<db>.idx.lock``); yields False when not waiting and taken."""
        path = self.db_path.with_name(self.db_path.name + ".idx.lock")
        try:
            fd = open_beside(path, self.db_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        except PermissionError:
            raise IndexFileError(permission_problem(path, self.db_path)) from None
        with os.fdopen(fd, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def compact(self, wait: bool = True, only_if_needed: bool = False, merge: bool = False) -> bool:
        """Merge the recent segment (and tombstones) into a new packed file. Readers are never blocked,
        writers only for the final short transaction. Returns whether it compacted: not when another
        process is compacting and `wait` is False, nor when `only_if_needed` and that process already did.
        `merge` rewrites the whole file, dropping every tombstoned posting, where an insert would do."""
        with self.compaction_lock(wait) as held:
            if not held:
                return False
            self._drop_orphans()
            if only_if_needed and not self.needs_compaction():
                return False
            self._compact(merge)
            return True

    def _compact(self, merge: bool = False) -> None:
        self._refresh()
        old = self.segment
        conn = self.conn
        conn.execute("BEGIN")  # a read snapshot: adds meanwhile stay in the recent table
        try:
            row = conn.execute("SELECT max(article_id) FROM fingerprints").fetchone()
            max_id = max(row[0] or 0, old.max_id if old else 0)
            removed = {r[0] for r in conn.execute("SELECT article_id FROM index_removed")}
            # Packed ids carry the EXTRA bit; the order is (hash, packed id), which the primary key's is not once
            # a hash has extra rows: read in key order (NOT INDEXED: never through fingerprints_article, which
            # would sort every row), SQLite sorts the rows of each hash only.
            recent = conn.execute("SELECT hash, article_id | (extra << 31) AS packed FROM fingerprints NOT INDEXED "
                                  "WHERE article_id <= ? ORDER BY hash, packed", [max_id])
            directory = None
            # Tombstones of ids the packed file may hold; the others' postings left with their recent rows.
            packed_removed = {a for a in removed if old is not None and a <= old.max_id}
            hidden = removed | {a | EXTRA for a in removed}  # their extra postings go with them
            if (not merge and old is not None and self.recent_postings() * INSERT_RATIO <= old.n
                    and len(packed_removed) <= min(TOMBSTONE_MAX, old.n // TOMBSTONE_SHARE)):
                keys, ids, directory = _insert(old, recent, hidden)
                dropped = removed - packed_removed  # the packed ones' postings stay, so their tombstones do
            else:
                keys, ids = _merge(old, recent, hidden)
                dropped = removed
        finally:
            conn.execute("COMMIT")
        generation = int(self._meta("index_generation") or 0) + 1
        name = f"{self.db_path.name}.idx-{generation}"
        try:
            Segment.write(self.db_path.with_name(name), keys, ids, max_id, directory, self.db_path)
        except PermissionError as exc:
            raise IndexFileError(permission_problem(Path(exc.filename or name), self.db_path)) from None
        del keys, ids, directory
        conn.execute("BEGIN IMMEDIATE")
        try:
            if self._meta("index_segment") != (old.path.name if old else None):
                # Only a compactor that ignores the lock (an older provmon) gets here; its file stands.
                raise RuntimeError(f"{self.db_path}: the index segment changed during compaction")
            # The merged rows are nearly all of the table. Deleted through fingerprints_article (which SQLite
            # picks), each goes from a random leaf of the primary key: 4.7 s of this transaction, writers waiting,
            # at 1M recent postings against 0.6 s with the index dropped first and made again for the rows left.
            conn.execute("DROP INDEX IF EXISTS fingerprints_article")
            conn.execute("DELETE FROM fingerprints WHERE article_id <= ?", [max_id])
            conn.execute(RECENT_BY_ARTICLE)
            conn.execute("DELETE FROM index_removed WHERE article_id IN (SELECT value FROM json_each(?))",
                         [json.dumps(sorted(dropped))])
            left = conn.execute("SELECT count(*) FROM fingerprints").fetchone()[0]
            if dropped:
                self._tombstones_changed()
            for key, value in (("index_segment", name), ("index_generation", generation), ("index_recent", left)):
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, str(value)])
        except BaseException:
            conn.execute("ROLLBACK")
            self.db_path.with_name(name).unlink(missing_ok=True)
            raise
        conn.execute("COMMIT")
        self._changed()
        self._refresh()
        if old is not None:
            old.path.unlink(missing_ok=True)

    def drop_files(self) -> None:
        """Remove every packed file of this store except the current one (left over by a crash)."""
        with self.compaction_lock(wait=True):
            self._drop_orphans()

    def _drop_orphans(self) -> None:
        """Under the compaction lock: no other process is writing a packed file."""
        self._data_version = None
        self._refresh()
        for p in self.db_path.parent.glob(f"{self.db_path.name}.idx-*"):
            if p.name != self._segment_name:
                p.unlink(missing_ok=True)

    # -- lookup -----------------------------------------------------------------------------------------
    def votes(self, hashes: Iterable[int]) -> dict[int, int]:
        """For each article holding any of `hashes` (stop-grams skipped), how many it holds (extra postings too)."""
        votes, extra = self._lookup(hashes)
        for a, n in extra.items():
            votes[a] = votes.get(a, 0) + n
        return votes

    def _lookup(self, hashes: Iterable[int]) -> tuple[dict[int, int], dict[int, int]]:
        """Votes from fingerprints and from extra postings, each by article id."""
        hs = hashes if isinstance(hashes, (set, frozenset)) else set(hashes)
        conn = self.conn
        for _ in range(5):
            # The state is read in one statement before the votes and one after (it was two each): every statement
            # hands the interpreter to another thread while SQLite runs it (the sqlite3 module releases the GIL), and
            # in a service every page of every site scan is looked up while other threads wait for the GIL.
            generation, dv = conn.execute(_STATE_BEFORE).fetchone()
            self._refresh(dv)
            votes = self._votes(hs)
            # A compaction committed between the packed lookup and the recent query moved postings out of
            # the recent table into a segment we did not read (or a reset put rows back that our recent filter
            # does not hold): look again.
            segment, now = conn.execute(_STATE_AFTER).fetchone()
            if segment == self._segment_name and now == generation:
                return votes
            self._data_version = None
        return votes

    def _recent_filter(self, recent: int) -> RecentFilter | None:
        """The recent filter, brought up to date with the committed recent table (of `recent` postings); None
        before it pays, and inside a transaction, whose own rows may yet roll back and their ids be given again."""
        if self.conn.in_transaction:
            return None
        f = self._filter
        if f is not None and self._filter_version == self._data_version:
            return f
        while True:
            generation = self._meta("index_generation")
            if f is None or f.generation != generation:
                if f is not None:  # a compaction or a reset: the new generation's table must pay for itself too
                    self._filter, self._probed = None, 0
                f = None
                # Building it reads every recent posting (~0.4 us each: 0.4 s at 1M), about what probing costs a
                # hash: a connection builds it once its probes have cost that much (a one-page `check` of a full
                # table never does, a long-lived process soon does), so it pays at most twice the cheaper of the two.
                if self._probed < recent:
                    return None
                f = RecentFilter(generation, max(self.threshold(), recent))
            # Ids only grow within a generation: the rows above `high`, up to the largest committed one, are all
            # that is new. Rows committed after these statements are read at the next lookup.
            top = self.conn.execute("SELECT max(article_id) FROM fingerprints").fetchone()[0] or 0
            if top > f.high:
                f.add(h for (h,) in self.conn.execute(
                    "SELECT hash FROM fingerprints WHERE article_id > ? AND article_id <= ?", [f.high, top]))
                f.high = top
            if self._meta("index_generation") == generation:
                self._filter, self._filter_version = f, self._data_version
                return f

    def _votes(self, hs: set[int] | frozenset[int]) -> tuple[dict[int, int], dict[int, int]]:
        votes: Counter[int] = Counter()
        seg = self.segment
        if seg is not None:
            directory, keys, ids, shift, cap = seg.directory, seg.keys, seg.ids, seg.shift, self.df_cap
            # Postings are gathered as slices of the mapped ids and counted by Counter.update in one C loop:
            # a Python loop over ids costs ~60 ns a posting, and at 1M articles a page meets thousands.
            hits = []
            for h in hs:
                b = h >> shift
                lo, hi = directory[b], directory[b + 1]
                if lo == hi:
                    continue
                i = bisect_left(keys, h, lo, hi)
                if i == hi or keys[i] != h:
                    continue
                j = bisect_right(keys, h, i, hi)
                if j - i <= cap:
                    hits.append(ids[i:j])
            votes.update(chain.from_iterable(hits))
        recent = self.recent_postings()
        if recent:
            f = self._recent_filter(recent)
            if f is None:
                probe = list(hs)
                self._probed += len(probe)
            else:
                probe = f.select(hs)
            rows = self.conn.execute(
                # One B-tree probe per hash (CROSS JOIN forces that order: never a scan of the table), without
                # the ephemeral table IN (...) builds: ~14% less time at 1M recent postings. `hs` is a set: no hash
                # is counted twice.
                "SELECT f.article_id | (f.extra << 31), count(*) FROM json_each(?) j CROSS JOIN fingerprints f "
                "ON f.hash = j.value GROUP BY 1", [json.dumps(probe)]) if probe else ()
            for a, n in rows:
                votes[a] = votes.get(a, 0) + n
        extra = {}
        if votes and max(votes) >= EXTRA:  # max() is a C loop: most pages meet no extra posting
            extra = {a ^ EXTRA: votes.pop(a) for a in [a for a in votes if a >= EXTRA]}
        removed = self._removed
        if removed:  # up to TOMBSTONE_MAX of them: walk the smaller side
            for d in (votes, extra):
                for a in (removed.intersection(d) if len(removed) > len(d) else removed):
                    d.pop(a, None)
        return votes, extra

    def candidates(self, hashes: Iterable[int], min_shared: int, limit: int) -> list[tuple[int, int]]:
        """Articles sharing at least `min_shared` postings with a page (fingerprints and extra postings), at most
        `limit`, ranked by their fingerprint votes, or by SAMPLE_SHARE of all their votes when that is more (what a
        window-8 sample would meet among them: dense briefs do not outrank long articles); (id, postings) each."""
        votes, extra = self._lookup(hashes)
        # (-rank, -postings, id), sorted as tuples. Most voted articles hold no extra postings; those that do (a few
        # per page) are ranked apart.
        best = [(-n, -n, a) for a, n in votes.items() if n >= min_shared and a not in extra]
        for a, x in extra.items():
            v = votes.get(a, 0)
            if v + x >= min_shared:
                best.append((-max(v, SAMPLE_SHARE * (v + x)), -(v + x), a))
        best.sort()
        return [(a, -n) for _, n, a in best[:limit]]


def _insert(old: Segment, recent: Iterable[tuple[int, int]], removed: set[int]) -> tuple[array, array, array | None]:
    """The old segment's postings with the recent rows (sorted by hash, id) inserted, and the new directory when
    the old one's bucket count still fits (None: compute it). Python work is per recent posting: the old
    postings between two insertion points are copied as bytes. Only when no tombstone can hide in `old`."""
    okeys, oids, odir, shift = old.keys, old.ids, old.directory, old.shift
    keys, ids = array("I"), array("I")
    key_bytes, id_bytes = okeys.cast("B"), oids.cast("B")  # slices of these extend an array as one memcpy
    add_keys, add_ids, put_key, put_id = keys.frombytes, ids.frombytes, keys.append, ids.append
    counts = [0] * len(odir)  # counts[b + 1]: recent postings inserted in bucket b
    prev = 0
    for h, a in recent:
        if a in removed:
            continue
        b = h >> shift
        lo, hi = odir[b], odir[b + 1]
        i = bisect_left(okeys, h, prev if prev > lo else lo, hi)
        if i < hi and okeys[i] == h:  # the hash is packed already: place the id among its ids
            j = bisect_right(okeys, h, i, hi)
            i = bisect_left(oids, a, i, j)
            if i < j and oids[i] == a:
                continue
        if i > prev:
            add_keys(key_bytes[4 * prev: 4 * i])
            add_ids(id_bytes[4 * prev: 4 * i])
            prev = i
        put_key(h)
        put_id(a)
        counts[b + 1] += 1
    add_keys(key_bytes[4 * prev:])
    add_ids(id_bytes[4 * prev:])
    # Buckets of up to ~16 postings (bits_for aims at 4-8) cost one more bisect step; a new bit means a full pass.
    if Segment.bits_for(len(keys)) > old.bits + 1:
        return keys, ids, None
    return keys, ids, array("I", map(add, odir, accumulate(counts)))


def _merge(old: Segment | None, recent: Iterable[tuple[int, int]], removed: set[int]) -> tuple[array, array]:
    """All postings of the old segment and the recent rows, sorted by (hash, id), tombstoned ids dropped.

    Works in 256 slices of the hash space so that only one slice is ever held as Python ints."""
    by_slice: list[list[int]] = [[] for _ in range(256)]
    for h, a in recent:
        if a not in removed:
            by_slice[h >> 24].append(h << 32 | a)
    keys, ids = array("I"), array("I")
    for s in range(256):
        packed = by_slice[s]
        by_slice[s] = []
        if old is not None:
            lo = old.directory[(s << 24) >> old.shift]
            hi = old.directory[((s + 1) << 24) >> old.shift]
            ok, oi = old.keys[lo:hi], old.ids[lo:hi]
            if removed:
                packed.extend(k << 32 | a for k, a in zip(ok, oi, strict=True) if a not in removed)
            else:
                packed.extend(k << 32 | a for k, a in zip(ok, oi, strict=True))
        packed.sort()
        keys.extend(p >> 32 for p in packed)
        ids.extend(p & 0xFFFFFFFF for p in packed)
    return keys, ids
