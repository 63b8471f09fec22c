"""What the recent-segment cap costs a bulk build: the same articles tracked under both compaction policies, in
one run.

    PYTHONPATH=. python bench/index_build.py --n 300000

* `cap` (monitor.index as shipped): compact when the recent segment holds a quarter of the packed postings, at
  most RECENT_MAX; a small recent segment is inserted into the packed file.
* `quarter` (the policy before the cap): compact at a quarter, always by a full merge.

Articles are generated and fingerprinted as in bench/index_scale.py once, before either build (so neither
pays for warming the word-hash caches), then added in batches of 1,000 (Store.add_articles), as `provmon
track` of an archive does. Reported: articles stored per second over the whole build (the store and the
index only, fingerprinting excluded), seconds spent compacting, number of compactions. Builds go to
bench/scratch/build/ and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import need, table, write
from bench.index_scale import SRC, Corpus
from monitor import index as index_mod
from monitor.fingerprint import article_fingerprints_of
from monitor.store import Store

SCRATCH = Path(__file__).resolve().parent / "scratch" / "build"


def build(items: list[tuple[str, str, str, list[int]]], policy: str, batch: int = 1000) -> dict:
    n = len(items)
    d = SCRATCH / policy
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    saved = index_mod.RECENT_MAX, index_mod.INSERT_RATIO, index_mod.Index._compact
    compactions: list[float] = []

    def timed(self: index_mod.Index) -> None:
        t0 = time.perf_counter()
        saved[2](self)
        compactions.append(time.perf_counter() - t0)

    if policy == "quarter":
        index_mod.RECENT_MAX, index_mod.INSERT_RATIO = 2**62, 0
    index_mod.Index._compact = timed
    try:
        t0 = time.perf_counter()
        with Store(d / "s.db") as store:
            for start in range(0, n, batch):
                store.add_articles(items[start: start + batch])
                if (start + batch) % 50_000 == 0:
                    print(f"  {policy}: {start + batch} articles, {time.perf_counter() - t0:.0f} s, "
                          f"{len(compactions)} compactions ({sum(compactions):.0f} s)", flush=True)
            seconds = time.perf_counter() - t0
            stats = store.index.stats()
    finally:
        index_mod.RECENT_MAX, index_mod.INSERT_RATIO, index_mod.Index._compact = saved
        shutil.rmtree(d, ignore_errors=True)
    return {"policy": policy, "n": n, "seconds": seconds, "articles_per_s": n / seconds,
            "compactions": len(compactions), "compaction_s": sum(compactions),
            "longest_compaction_s": max(compactions, default=0.0), "recent_postings_left": stats["recent_postings"],
            "load_avg": Path("/proc/loadavg").read_text().split()[:3]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300_000)
    args = ap.parse_args()
    need(SRC)
    corpus = Corpus()
    items = []
    for i in range(args.n):
        text = corpus.article(i)
        items.append((f"gen://{i}", f"article {i}", text, article_fingerprints_of(text)))
    print(f"{args.n} articles generated", flush=True)
    results = [build(items, policy) for policy in ("cap", "quarter")]
    print(table([[r["policy"], r["n"], round(r["articles_per_s"]), r["compactions"], round(r["compaction_s"], 1),
                  round(r["longest_compaction_s"], 1), r["recent_postings_left"]] for r in results],
                ["policy", "articles", "articles/s", "compactions", "compacting s", "longest s", "recent left"]))
    out = write("index_build.json", {"command": "PYTHONPATH=. python bench/index_build.py " + " ".join(sys.argv[1:]),
                                     "results": results})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
