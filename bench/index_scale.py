"""Candidate index at scale: build rate, size, page-check latency and recall of planted copies, compared in the
same run with datasketch MinHashLSH (128 permutations, threshold 0.5) and with the previous design (a plain
winnowed-fingerprint table in SQLite, 63-bit hashes, window 4).

    PYTHONPATH=. python bench/index_scale.py --sizes 10000,100000,1000000

Tracked articles are generated from the PAN-13 source documents, read in place at run time: each article
stitches three runs of consecutive real sentences (400-800 words, paragraphs of four sentences) and replaces
half of its content words by words drawn from the corpus (so 1M articles are distinct although the corpus
has only 2.3M words: a corpus 3-gram survives in one article in eight). Planted copies of `--queries`
random tracked articles are embedded in page furniture: verbatim; a contiguous 30% excerpt; 20% of words
swapped for random corpus words. Unrelated pages are generated articles that are not tracked.

Page-check latency = fingerprinting the page text + the index lookup returning candidates (min_shared 3,
limit 20), one page at a time on one core; the verifier (monitor.match.compare) is not run. The queries run
twice: p50/p99 are the second pass (a running service's steady state); the first pass after opening the
store is reported beside them (it pays for reading the packed file and SQLite pages in when the OS page
cache does not hold them, and for filling the word-hash caches). Recall = the
planted source is among the returned candidates. The row "recent segment full" checks the same pages with the
recent segment filled to the compaction threshold: its first pass is a connection that has just met the full
table (at 10k, where the threshold is 200k postings, it builds its recent filter within that pass); its p50/p99
are a long-lived connection's, once it has built its recent filter. The filling postings have ids far above the
articles' (FILL_ID); a compaction always follows them before any real add.

Everything built is cached under bench/scratch/ (gitignored); a build resumes where it stopped (articles are
committed in batches), so an interrupted 1M run can be restarted with the same command.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import json
import random
import re
import resource
import sqlite3
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DATASETS, need, read_text, table, write
from monitor import index as index_mod
from monitor.fingerprint import article_fingerprints_of, page_fingerprints_of, text_content_words
from monitor.store import Store, text_key
from monitor.text import STOPWORDS

SRC = DATASETS / "pan13-text-alignment-train" / "src"
SCRATCH = Path(__file__).resolve().parent / "scratch" / "index"
MIN_SHARED, LIMIT = 3, 20
FILL_ID = 20_000_000  # ids of the postings that fill the recent segment (no such articles)
TOMBSTONED = 100  # packed articles tombstoned (as replaced) for the compaction that carries their tombstones
MAX_FILL = 100_000  # more articles than a fill ever takes (RECENT_MAX postings, ~66 an article)
SUBSTITUTE = 0.5
HEAD = "Home | World | Business | Sport | Opinion\n\nSubscribe to our newsletter for the day's headlines.\n\n"
FOOT = "\n\nShare this article. Comments are closed on this story.\n\n© 2026 Example Media. All rights reserved."


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


class Corpus:
    def __init__(self) -> None:
        self.docs: list[list[list[str]]] = []
        for p in sorted(SRC.glob("*.txt")):
            sents = [s.split() for s in re.split(r"(?<=[.!?])\s+", " ".join(read_text(p).split()))]
            sents = [s for s in sents if 5 <= len(s) <= 60]
            if len(sents) >= 10:
                self.docs.append(sents)
        self.words = [w for d in self.docs for s in d for w in s]

    def article(self, i: int) -> str:
        rnd = random.Random(i * 7919 + 17)
        target = rnd.randint(400, 800)
        sents: list[str] = []
        got = 0
        for part in range(3):
            doc = self.docs[rnd.randrange(len(self.docs))]
            k = rnd.randrange(len(doc))
            while got < target * (part + 1) / 3:
                words = [w if w.lower() in STOPWORDS or rnd.random() >= SUBSTITUTE
                         else self.words[rnd.randrange(len(self.words))] for w in doc[k % len(doc)]]
                sents.append(" ".join(words))
                got += len(words)
                k += 1
        return "\n\n".join(" ".join(sents[j: j + 4]) for j in range(0, len(sents), 4))

    def unrelated(self, i: int) -> str:
        return self.article(10_000_000 + i)

    def copies(self, text: str, i: int) -> dict[str, str]:
        rnd = random.Random(i)
        words = text.split()
        k = int(0.3 * len(words))
        s = rnd.randrange(len(words) - k)
        swapped = " ".join(self.words[rnd.randrange(len(self.words))] if rnd.random() < 0.2 else w for w in words)
        filler = " ".join(self.unrelated(i).split()[:80])
        return {
            "verbatim": HEAD + text + FOOT,
            "excerpt30": HEAD + filler + "\n\n" + " ".join(words[s: s + k]) + FOOT,
            "swap20": HEAD + swapped + FOOT,
        }


# -- ours: monitor.store / monitor.index -------------------------------------------------------------------
def build_ours(corpus: Corpus, n: int, batch: int = 1000) -> dict:
    d = SCRATCH / f"n{n}"
    d.mkdir(parents=True, exist_ok=True)
    state_path = d / "build.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {"done": 0, "seconds": 0.0}
    if state.get("complete"):
        return state
    with Store(d / "ours.db") as store:
        done = store.article_count()
        state["done"] = done
        while done < n:
            t0 = time.perf_counter()
            items = []
            for i in range(done, min(n, done + batch)):
                text = corpus.article(i)
                items.append((f"gen://{i}", f"article {i}", text, article_fingerprints_of(text)))
            store.add_articles(items)
            done += len(items)
            state["seconds"] += time.perf_counter() - t0
            state["done"] = done
            state_path.write_text(json.dumps(state))
            if done % (20 * batch) == 0 or done == n:
                print(f"  ours n={n}: {done} articles, {state['seconds']:.0f} s, "
                      f"{done / state['seconds']:.0f}/s", flush=True)
        t0 = time.perf_counter()
        if store.index.stats()["recent_postings"]:
            store.index.compact()
        state["seconds"] += time.perf_counter() - t0
        state["complete"] = True
    state_path.write_text(json.dumps(state))
    return state


def disk_bytes(db: Path, tables: list[str], files: list[Path]) -> int:
    conn = sqlite3.connect(db)
    marks = ",".join("?" * len(tables))
    pages = conn.execute(f"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ({marks})", tables).fetchone()
    conn.close()
    return int(pages[0]) + sum(f.stat().st_size for f in files)


def run_queries(check, pages: list[tuple[str, str, int]]) -> tuple[dict[str, float], list[float], float]:
    """check(text) -> candidate ids. Returns recall per kind, latencies (ms), mean candidates of unrelated."""
    hits: dict[str, list[int]] = {}
    lat: list[float] = []
    false = []
    for kind, text, source in pages:
        t0 = time.perf_counter()
        cands = check(text)
        lat.append((time.perf_counter() - t0) * 1000)
        if kind == "unrelated":
            false.append(len(cands))
        else:
            hits.setdefault(kind, []).append(source in cands)
    recall = {k: sum(v) / len(v) for k, v in hits.items()}
    return recall, lat, sum(false) / max(1, len(false))


def fill_recent(store: Store, corpus: Corpus, n: int) -> tuple[list[int], int, float]:
    """Fill the recent segment with generated articles' postings up to the compaction threshold (a quarter of the
    packed ones, within RECENT_MIN..RECENT_MAX): the most it holds before an add compacts. The articles are not
    in `articles` (the caller turns foreign keys off). Returns (their ids, postings, seconds)."""
    target = store.index.threshold()
    rows, j, t0 = 0, 0, time.perf_counter()
    store.db.execute("BEGIN IMMEDIATE")
    while rows < target:
        hashes = sorted(set(article_fingerprints_of(corpus.article(70_000_000 + n + j))))
        store.db.conn.executemany("INSERT OR IGNORE INTO fingerprints (hash, article_id) VALUES (?, ?)",
                                  ((h, FILL_ID + j) for h in hashes))
        rows, j = rows + len(hashes), j + 1
    store.db.execute("UPDATE meta SET value = ? WHERE key = 'index_recent'", [str(rows)])
    store.db.execute("COMMIT")
    store.index._changed()
    return [FILL_ID + i for i in range(j)], rows, time.perf_counter() - t0


def timed_compaction(store: Store) -> tuple[float, str]:
    """Run the compaction the next add would run: its seconds, and whether it inserted or fully merged."""
    inserted = []
    real_insert = index_mod._insert
    index_mod._insert = lambda *a: inserted.append(1) or real_insert(*a)
    try:
        t0 = time.perf_counter()
        store.index.compact()
        return time.perf_counter() - t0, "insert" if inserted else "full merge"
    finally:
        index_mod._insert = real_insert


def untombstone(store: Store, marker: Path) -> None:
    """Take back the tombstones of real articles listed in `marker` (their postings stayed packed: an insert)."""
    store.db.execute("DELETE FROM index_removed WHERE article_id IN (SELECT value FROM json_each(?))",
                     [marker.read_text()])
    store.index._changed(removed=True)
    marker.unlink()


def measure_ours(corpus: Corpus, n: int, pages: list[tuple[str, str, int]], build: dict, adds: int) -> list[dict]:
    d = SCRATCH / f"n{n}"
    gc.collect()
    before = rss()
    store = Store(d / "ours.db")
    pending = d / "fill.pending"  # written before the recent segment is filled, removed once it is cleaned up
    marker = d / "tombstoned.pending"  # the real articles tombstoned for one compaction, until taken back
    if marker.exists():
        untombstone(store, marker)
    if pending.exists():  # a run stopped in between: drop the filling postings, wherever they are now
        store.db.conn.executemany("INSERT OR IGNORE INTO index_removed (article_id) VALUES (?)",
                                  ((a,) for a in range(FILL_ID, FILL_ID + MAX_FILL)))
        store.db.execute("DELETE FROM fingerprints WHERE article_id >= ?", [FILL_ID])
        store.index._changed(removed=True)
        store.index.compact(merge=True)
        pending.unlink()

    def check(text: str) -> set[int]:
        return {a for a, _ in store.candidates(page_fingerprints_of(text), MIN_SHARED, LIMIT)}

    ids = {}  # the source's id, by the key of its text (the store's articles.sha256)
    for kind, _text, source in pages:
        if kind == "verbatim" and source not in ids:
            digest = text_key(corpus.article(source))
            ids[source] = store.db.execute("SELECT id FROM articles WHERE sha256 = ?", [digest]).fetchone()[0]
    pages = [(k, t, ids.get(s, -1)) for k, t, s in pages]
    # The first pass after opening pays for what is not in memory yet: the packed file when the OS page
    # cache does not hold it (MAP_POPULATE reads it in), SQLite pages, the word-hash caches. A service
    # pays that once; the second pass is its steady state. Both are reported.
    _, cold, _ = run_queries(check, pages)
    recall, lat, false = run_queries(check, pages)
    after = rss()
    stats = store.index.stats()
    files = list(d.glob("ours.db.idx-*"))
    disk = disk_bytes(d / "ours.db", ["fingerprints", "fingerprints_article", "index_removed"], files)
    # The recent segment at the compaction threshold, committed: lookups at their slowest between compactions, then
    # the compaction the next add would run. The filling articles do not exist; tombstoned, a second compaction
    # (a full merge: packed postings are dropped) leaves the cached build as it was.
    store.db.execute("PRAGMA foreign_keys = OFF")
    pending.touch()
    fill_ids, postings, fill_s = fill_recent(store, corpus, n)
    print(f"  recent segment filled: {postings} postings in {fill_s:.0f} s", flush=True)
    # First the pages as a connection that has just met the full recent table checks them (it probes the table for
    # every page hash), then as a long-lived one does: once its probes have cost what reading the recent postings
    # costs, it builds the recent filter (monitor.index.RecentFilter) and probes only the hashes that may be there.
    _, f_cold, _ = run_queries(check, pages)
    warmup = 0
    while store.index._filter is None and warmup < 10:
        run_queries(check, pages)
        warmup += 1
    filter_built = store.index._filter is not None
    f_recall, f_lat, f_false = run_queries(check, pages)
    # What building the filter costs a connection (reading every recent posting): built again on this one (a second
    # Store would map the packed file again and count it in this process's peak RSS).
    store.index._filter, store.index._probed = None, postings
    t0 = time.perf_counter()
    store.index._recent_filter(store.index.recent_postings())
    filter_build_s = time.perf_counter() - t0
    threshold_s, threshold_path = timed_compaction(store)
    store.db.execute("INSERT INTO index_removed (article_id) SELECT value FROM json_each(?)", [json.dumps(fill_ids)])
    store.index._changed(removed=True)
    t0 = time.perf_counter()
    store.index.compact(merge=True)
    full_s = time.perf_counter() - t0
    pending.unlink()
    store.db.execute("PRAGMA foreign_keys = ON")
    full = {"method": "ours, recent segment full (at compaction threshold)", "n": n,
            "build_per_s": build["done"] / build["seconds"],
            "disk_bytes_per_article": None, "rss_bytes_per_article": 0, "p50_ms": pct(f_lat, 0.5),
            "p99_ms": pct(f_lat, 0.99), "first_pass_p50_ms": pct(f_cold, 0.5), "first_pass_p99_ms": pct(f_cold, 0.99),
            "recall": f_recall, "unrelated_candidates": f_false, "recent_postings": postings,
            "passes_before_the_filter": 1 + warmup, "filter_built": filter_built, "filter_build_s": filter_build_s}
    # Adding one article at a time (its own transaction, committed): fingerprinting, then the store insert.
    fp_ms, add_ms, added = [], [], []
    for j in range(adds):
        text = corpus.article(50_000_000 + n + j)
        t0 = time.perf_counter()
        fps = article_fingerprints_of(text)
        t1 = time.perf_counter()
        added.append(store.add_article(f"gen://extra-{j}", "extra", text, fps)[0])
        t2 = time.perf_counter()
        fp_ms.append((t1 - t0) * 1000)
        add_ms.append((t2 - t1) * 1000)
    # The index's own share of an add (inside an open transaction, before the commit and its WAL fsync).
    idx_ms = []
    store.db.execute("BEGIN IMMEDIATE")
    for j in range(adds):
        fps = article_fingerprints_of(corpus.article(60_000_000 + n + j))
        aid = store.db.execute("INSERT INTO articles (url, text, sha256, added_at) VALUES ('x', 'x', ?, 'x')",
                               [f"x{j}"]).lastrowid
        t0 = time.perf_counter()
        store.index.add(aid, fps)
        idx_ms.append((time.perf_counter() - t0) * 1000)
    store.db.execute("ROLLBACK")
    store.index._changed()
    # A compaction after articles were replaced (re-tracking a changed URL tombstones the old version): the added
    # articles' postings with TOMBSTONED packed articles' tombstones, carried by the insert (their postings stay),
    # not a full merge. The tombstones are then taken back: the build keeps every article.
    # Only when the compaction can be an insert: a full merge would drop these articles' postings for good.
    seg = store.index.segment
    tombstoned_s, tombstoned_path = None, None
    if seg is not None and store.index.recent_postings() * index_mod.INSERT_RATIO <= seg.n \
            and min(index_mod.TOMBSTONE_MAX, seg.n // index_mod.TOMBSTONE_SHARE) >= TOMBSTONED:
        packed_ids = [r[0] for r in store.db.execute("SELECT id FROM articles ORDER BY id LIMIT ?", [TOMBSTONED])]
        marker.write_text(json.dumps(packed_ids))  # a run stopped in between takes them back when it starts
        store.db.conn.executemany("INSERT INTO index_removed (article_id) VALUES (?)", ((a,) for a in packed_ids))
        store.index._changed(removed=True)
        tombstoned_s, tombstoned_path = timed_compaction(store)
        untombstone(store, marker)
    for aid in added:  # leave the cached build as it was
        store.delete_article(aid)
    store.index.compact(merge=True)
    store.close()
    return [r for r in ({
        "method": "ours (packed mmap + recent SQLite)", "n": n,
        "build_per_s": build["done"] / build["seconds"], "disk_bytes_per_article": disk / n,
        "rss_bytes_per_article": (after - before) / n, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
        "first_pass_p50_ms": pct(cold, 0.5), "first_pass_p99_ms": pct(cold, 0.99),
        "recall": recall, "unrelated_candidates": false, "postings_per_article": stats["packed_postings"] / n,
        "add_p50_ms": pct(add_ms, 0.5), "add_p99_ms": pct(add_ms, 0.99), "add_fingerprint_p50_ms": pct(fp_ms, 0.5),
        "compaction_s": full_s, "threshold_compaction_s": threshold_s,
        "threshold_compaction_path": threshold_path,
        "tombstoned_compaction_s": tombstoned_s,
        "tombstoned_compaction_path": tombstoned_path,
        "tombstoned_articles": TOMBSTONED,
        "index_add_p50_ms": pct(idx_ms, 0.5), "index_add_p99_ms": pct(idx_ms, 0.99),
    }, full) if r]


# -- the previous design: one SQLite table of 63-bit winnowed (window 4) hashes ------------------------------
def _old_hash(gram: str) -> int:
    return struct.unpack("<q", hashlib.blake2b(gram.encode(), digest_size=8).digest())[0] & (2**63 - 1)


def _old_grams(text: str) -> list[int]:
    w = text_content_words(text)
    return [_old_hash(" ".join(w[i: i + 3])) for i in range(len(w) - 2)]


def _old_winnow(hs: list[int], window: int = 4) -> set[int]:
    if len(hs) <= window:
        return set(hs)
    return {min(hs[i: i + window]) for i in range(len(hs) - window + 1)}


def measure_table(corpus: Corpus, n: int, pages: list[tuple[str, str, int]]) -> dict:
    d = SCRATCH / f"n{n}"
    path = d / "table.db"
    done_mark = d / "table.json"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS fingerprints (hash INTEGER NOT NULL, article_id INTEGER NOT NULL, "
                 "PRIMARY KEY (hash, article_id)) WITHOUT ROWID")
    state = json.loads(done_mark.read_text()) if done_mark.exists() else {"done": 0, "seconds": 0.0}
    while state["done"] < n:
        t0 = time.perf_counter()
        hi = min(n, state["done"] + 1000)
        conn.execute("BEGIN")
        for i in range(state["done"], hi):
            conn.executemany("INSERT OR IGNORE INTO fingerprints VALUES (?, ?)",
                             ((h, i) for h in _old_winnow(_old_grams(corpus.article(i)))))
        conn.execute("COMMIT")
        state["seconds"] += time.perf_counter() - t0
        state["done"] = hi
        done_mark.write_text(json.dumps(state))
        if hi % 20000 == 0 or hi == n:
            print(f"  table n={n}: {hi} articles, {state['seconds']:.0f} s", flush=True)
    conn.execute("CREATE TEMP TABLE q (hash INTEGER PRIMARY KEY)")

    def check(text: str) -> set[int]:
        conn.execute("DELETE FROM q")
        conn.executemany("INSERT OR IGNORE INTO q VALUES (?)", ((h,) for h in set(_old_grams(text))))
        # CROSS JOIN keeps q outside: with a plain JOIN (the query as shipped in store.py) SQLite's planner scans
        # the whole fingerprints table per page (17.7 ms at 2k articles, linear in the index).
        rows = conn.execute("SELECT f.article_id, count(*) AS c FROM q CROSS JOIN fingerprints f ON f.hash = q.hash "
                            "GROUP BY f.article_id HAVING c >= ? ORDER BY c DESC LIMIT ?", [MIN_SHARED, LIMIT])
        return {r[0] for r in rows}

    before = rss()
    _, cold, _ = run_queries(check, pages)  # first pass and steady state, as for ours
    recall, lat, false = run_queries(check, pages)
    after = rss()
    conn.close()
    return {
        "method": "previous: SQLite table (63-bit, w=4, probed)", "n": n, "build_per_s": n / state["seconds"],
        "disk_bytes_per_article": disk_bytes(path, ["fingerprints"], []) / n,
        "rss_bytes_per_article": (after - before) / n, "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99),
        "first_pass_p50_ms": pct(cold, 0.5), "first_pass_p99_ms": pct(cold, 0.99),
        "recall": recall, "unrelated_candidates": false,
    }


# -- datasketch MinHashLSH ---------------------------------------------------------------------------------------
def measure_lsh(corpus: Corpus, n: int, pages: list[tuple[str, str, int]]) -> dict:
    from datasketch import MinHash, MinHashLSH

    def minhash(hashes: set[int]) -> MinHash:
        m = MinHash(num_perm=128)
        m.update_batch([h.to_bytes(4, "little") for h in hashes])
        return m

    gc.collect()
    before = rss()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    t0 = time.perf_counter()
    for i in range(n):
        lsh.insert(i, minhash(page_fingerprints_of(corpus.article(i))), check_duplication=False)
        if (i + 1) % 100_000 == 0:
            print(f"  lsh n={n}: {i + 1} articles, {time.perf_counter() - t0:.0f} s", flush=True)
    seconds = time.perf_counter() - t0
    gc.collect()
    after = rss()

    def check(text: str) -> set[int]:
        return set(lsh.query(minhash(page_fingerprints_of(text))))

    recall, lat, false = run_queries(check, pages)
    lsh = None
    gc.collect()
    return {
        "method": "datasketch MinHashLSH (128, 0.5)", "n": n, "build_per_s": n / seconds,
        "disk_bytes_per_article": None, "rss_bytes_per_article": (after - before) / n,
        "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "recall": recall, "unrelated_candidates": false,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=300, help="planted copies of each kind, and unrelated pages")
    ap.add_argument("--adds", type=int, default=200, help="single articles added after the build (timed)")
    ap.add_argument("--lsh-max", type=int, default=1_000_000, help="largest size datasketch is built for")
    ap.add_argument("--table-max", type=int, default=100_000, help="largest size the previous design is built for")
    ap.add_argument("--out", default="index_scale.json")
    args = ap.parse_args()
    need(SRC)
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(n <= args.lsh_max for n in sizes) and importlib.util.find_spec("datasketch") is None:
        # Said before the build, not after an hour of it.
        sys.exit("datasketch is not installed (pip install -e '.[bench]'), or pass --lsh-max 0 to leave it out")
    corpus = Corpus()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"corpus: {len(corpus.docs)} documents, {len(corpus.words)} words; load average {load}")
    rows, results = [], []
    for n in sizes:
        rnd = random.Random(n)
        pages: list[tuple[str, str, int]] = []
        for q in range(args.queries):
            i = rnd.randrange(n)
            for kind, text in corpus.copies(corpus.article(i), i).items():
                pages.append((kind, text, i))
            pages.append(("unrelated", HEAD + corpus.unrelated(q) + FOOT, -1))
        build = build_ours(corpus, n)
        found = measure_ours(corpus, n, pages, build, args.adds)
        if n <= args.table_max:
            found.append(measure_table(corpus, n, pages))
        if n <= args.lsh_max:
            found.append(measure_lsh(corpus, n, pages))
        for r in found:
            r["load_avg"] = Path("/proc/loadavg").read_text().split()[:3]
            r["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            results.append(r)
            rows.append([n, r["method"], round(r["build_per_s"]),
                         "-" if r["disk_bytes_per_article"] is None else round(r["disk_bytes_per_article"]),
                         round(r["rss_bytes_per_article"]), round(r["p50_ms"], 2), round(r["p99_ms"], 2),
                         f'{r["first_pass_p50_ms"]:.2f} / {r["first_pass_p99_ms"]:.2f}' if "first_pass_p50_ms" in r
                         else "-",
                         r["recall"]["verbatim"], r["recall"]["excerpt30"], r["recall"]["swap20"],
                         round(r["unrelated_candidates"], 2),
                         round(r["add_p50_ms"], 2) if "add_p50_ms" in r else "-"])
            print(json.dumps(r), flush=True)
            if "filter_build_s" in r:
                print("  recent filter: " + (f"built in pass {r['passes_before_the_filter']}" if r["filter_built"]
                                               else "NOT BUILT: the measured pass probed every hash")
                      + f"; building it takes {r['filter_build_s']:.2f} s", flush=True)
            if "threshold_compaction_s" in r:
                print(f"  compaction at the threshold ({r['threshold_compaction_path']}): "
                      f"{r['threshold_compaction_s']:.1f} s; full merge: {r['compaction_s']:.1f} s; "
                      f"{r['tombstoned_articles']} packed articles tombstoned ({r['tombstoned_compaction_path']}): "
                      + ("not measured (it would be a full merge)" if r["tombstoned_compaction_s"] is None
                         else f"{r['tombstoned_compaction_s']:.1f} s"), flush=True)
    header = ["n", "method", "build art/s", "disk B/art", "RSS B/art", "p50 ms", "p99 ms", "1st pass p50/p99",
              "verbatim", "excerpt30",
              "swap20", "cands/unrelated", "add p50 ms"]
    print(table(rows, header))
    out = write(args.out, {"command": "PYTHONPATH=. python bench/index_scale.py " + " ".join(sys.argv[1:]),
                           "queries_per_kind": args.queries, "results": results})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
