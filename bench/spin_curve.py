"""How much spinning a copy survives: recall against the share of its words swapped, on real news.

    python bench/spin_curve.py [--rates 0,0.1,...] [--no-distractors]

Originals: the BASIL articles (real news, ../shared/datasets/basil-same-event-news, read in place, used for
evaluation only), tracked in a real Store in a temporary directory, with the PAN 2013 source documents as
distractors (3,230 more articles in the index) unless --no-distractors. Each original gets spun copies at each
rate r: a share r of its lowercase content words (not stop words; names, numbers and capitalised words stay,
as a synonym spinner leaves them) is replaced by other words drawn from the other articles' vocabulary. For a
lexical detector a swap is a swap: which word replaces another does not matter, only that it differs (the
replacement never has the same stem). Three families of copy:

* `swap`: the whole article, words swapped;
* `swap + restructure`: paragraphs shuffled, a quarter of them (at least one) dropped, a new headline line and
  a site footer added;
* `swap, 30% excerpt`: consecutive paragraphs holding about 30% of the words, swapped, pasted into the middle of
  an article about another event.

Measured per family and rate: compare() given the article (the copy rule alone), and end to end through the
store (scan.find_copies: the candidate index, then compare(); found = the original is among its answers).
Anchor, in the same run: datasketch MinHash (128 permutations) of word 3-gram shingles, flagged at estimated
Jaccard >= 0.5, the threshold of the MinHashLSH baseline named in the detection issue.

Negatives in the same run, which nothing may flag: BASIL's same-event ordered pairs (270), by compare(), by the
store (each article checked with its own address excluded: any article found is an alert) and by the anchor.
Nothing here was tuned: the rates and families were fixed before the first run. Writes
bench/results/spin_curve.json.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from datasketch import MinHash

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BASIL, DATASETS, ROOT, basil_articles, need, read_text, table, write

sys.path.insert(0, str(ROOT))

from monitor.config import MatchSettings
from monitor.match import Prepared, compare
from monitor.scan import Original, find_copies, track_texts
from monitor.store import Store
from monitor.text import STOPWORDS, stem

PAN_SRC = DATASETS / "pan13-text-alignment-train" / "src"
CFG = MatchSettings()
RATES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FAMILIES = ("swap", "swap + restructure", "swap, 30% excerpt")
WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
FOOTER = "Share this story. Follow us for more news every day. All rights reserved."


def swappable(word: str) -> bool:
    return word.islower() and len(word) > 2 and word not in STOPWORDS


def spin(text: str, rate: float, pool: list[str], rng: random.Random) -> str:
    """`text` with a share `rate` of its swappable words replaced by pool words of another stem."""
    spots = [m for m in WORD.finditer(text) if swappable(m.group())]
    chosen = sorted(rng.sample(range(len(spots)), round(rate * len(spots))))
    out, at = [], 0
    for k in chosen:
        m = spots[k]
        word = rng.choice(pool)
        while stem(word) == stem(m.group()):
            word = rng.choice(pool)
        out += [text[at:m.start()], word]
        at = m.end()
    return "".join(out) + text[at:]


def restructure(paras: list[str], rng: random.Random) -> str:
    kept = paras[:]
    rng.shuffle(kept)
    kept = kept[: max(1, len(kept) - max(1, len(kept) // 4))] if len(kept) > 1 else kept
    return "\n\n".join(["A story everyone is talking about today", *kept, FOOTER])


def excerpt(paras: list[str], rng: random.Random) -> list[str]:
    """Consecutive paragraphs holding about 30% of the words, from a random start."""
    total = sum(len(p.split()) for p in paras)
    start = rng.randrange(len(paras))
    while start > 0 and sum(len(p.split()) for p in paras[start:]) < 0.3 * total:
        start -= 1
    taken, words = [], 0
    for p in paras[start:]:
        taken.append(p)
        words += len(p.split())
        if words >= 0.3 * total:
            break
    return taken


def shingles(text: str) -> set[str]:
    words = [w.lower() for w in WORD.findall(text)]
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


def minhash(text: str) -> MinHash:
    m = MinHash(num_perm=128, seed=1)
    for s in shingles(text):
        m.update(s.encode())
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default=",".join(str(r) for r in RATES))
    ap.add_argument("--no-distractors", action="store_true")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    need(BASIL)
    rates = [float(r) for r in args.rates.split(",")]
    arts = basil_articles()
    pool = sorted({w for _, _, body in arts for w in WORD.findall(body) if swappable(w)})
    started = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "spin.db")
        items = [Original(url, event, body, plain=True) for url, event, body in arts]
        distractors = not args.no_distractors and PAN_SRC.exists()
        if distractors:
            items += [Original(p.resolve().as_uri(), p.stem, read_text(p), plain=True)
                      for p in sorted(PAN_SRC.glob("*.txt"))]
        for i in range(0, len(items), 200):
            track_texts(store, items[i: i + 200])
        ids = dict(store.db.execute("SELECT url, id FROM articles").fetchall())
        print(f"tracked {store.article_count()} articles ({len(arts)} BASIL originals) "
              f"in {time.perf_counter() - started:.0f} s")

        rows, results = [], []
        for family, rate in itertools.product(FAMILIES, rates):
            n = by_compare = by_store = by_anchor = 0
            for k, (url, event, body) in enumerate(arts):
                paras = [p for p in body.split("\n\n") if p.strip()]
                # The copy's shape (order, dropped paragraphs, excerpt, host) depends on the article alone, the
                # swapped words on the rate too: each rate spins the same copies.
                shape, r = random.Random(f"{args.seed}-{family}-{k}"), random.Random(f"{args.seed}-{family}-{rate}-{k}")
                if family == "swap":
                    page, part = spin(body, rate, pool, r), body
                elif family == "swap + restructure":
                    page, part = restructure(spin(body, rate, pool, r).split("\n\n"), shape), body
                else:
                    others = [b for _, e, b in arts if e != event]
                    taken = excerpt(paras, shape)
                    hp = others[shape.randrange(len(others))].split("\n\n")
                    mid = len(hp) // 2
                    page = "\n\n".join(hp[:mid] + [spin(p, rate, pool, r) for p in taken] + hp[mid:])
                    part = "\n\n".join(taken)
                n += 1
                by_compare += compare(Prepared.of(body), Prepared.of(page), CFG) is not None
                by_store += any(f.article.id == ids[url] for f in find_copies(store, page, CFG))
                by_anchor += minhash(part).jaccard(minhash(page)) >= 0.5
            row = {"family": family, "rate": rate, "copies": n, "compare": by_compare / n,
                   "store": by_store / n, "minhash_0.5": by_anchor / n}
            results.append(row)
            rows.append([family, f"{rate:.0%}", n, f"{row['compare']:.3f}", f"{row['store']:.3f}",
                         f"{row['minhash_0.5']:.3f}"])
            print(rows[-1], flush=True)

        events: dict[str, list[tuple[str, str]]] = {}
        for url, event, body in arts:
            events.setdefault(event, []).append((url, body))
        pairs = neg_compare = neg_anchor = 0
        for group in events.values():
            for (_, a), (_, p) in itertools.permutations(group, 2):
                pairs += 1
                neg_compare += compare(Prepared.of(a), Prepared.of(p), CFG) is not None
                neg_anchor += minhash(a).jaccard(minhash(p)) >= 0.5
        neg_store = sum(len(find_copies(store, body, CFG, exclude_url=url)) for url, _, body in arts)

    print("\nRecall of spun copies of real news (BASIL articles), by share of content words swapped")
    print(table(rows, ["copy", "swapped", "copies", "compare()", "through the store", "MinHash J>=0.5"]))
    print(f"\nSame-event negatives: compare() {neg_compare} of {pairs} ordered pairs, "
          f"MinHash J>=0.5 {neg_anchor} of {pairs}; through the store {neg_store} alert(s) "
          f"for {len(arts)} articles checked against all others")
    left_out = [what for what, out in (("distractors", not distractors), ("some rates", tuple(rates) != RATES)) if out]
    write("spin_curve.json", {"rates": rates, "families": list(FAMILIES), "seed": args.seed,
                              "distractors": distractors,
                              "recall": results,
                              "negatives": {"pairs": pairs, "compare": neg_compare, "minhash_0.5": neg_anchor,
                                            "store_alerts": neg_store, "articles": len(arts)},
                              "seconds": round(time.perf_counter() - started, 1)}, missing=left_out)


if __name__ == "__main__":
    main()
