"""Ordered word overlap: does "how much of the page follows the article's word order" separate the Clough &
Stevenson copies that compare() misses from independent writing on the same subject?

    PYTHONPATH=. python bench/ordered_overlap.py

A study, not a rule the engine uses (docs/detection.md, "Tried and rejected"). For each (article, page) pair:
the longest common subsequence of the two texts' unquoted content-word keys (monitor.text: stop words and
words inside quotation marks dropped, spellings folded, light stemming), minus its mean over three random
shuffles of the page's words (what shared vocabulary alone gives), as a share of the page's words (`excess`).
A copy keeps the article's order; a text on the same subject shares words in any order.

Groups: Clough answers against their task's source, split by whether compare() flags them; the 270 ordered
BASIL same-event pairs; the 1,000 PAN-13 no-plagiarism pairs; our own INDEPENDENT report (tests/test_match.py)
against ARTICLE, whole and as every brief of 2+ of its paragraphs with 30+ content words. Writes
bench/results/ordered_overlap.json.
"""

from __future__ import annotations

import csv
import itertools
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATASETS, read_text, table, write

from monitor.config import MatchSettings
from monitor.match import Prepared, compare
from monitor.text import tokens

SHUFFLES = 3


def keys(text: str) -> list[str]:
    return [t.key for t in tokens(text) if t.content and not t.quoted]


def lcs(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (bit-parallel, Hyyro 2004)."""
    masks: dict[str, int] = {}
    for i, x in enumerate(a):
        masks[x] = masks.get(x, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for y in b:
        m = masks.get(y)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def excess(article: str, page: str, rng: random.Random) -> dict[str, float]:
    a, p = keys(article), keys(page)
    n = lcs(a, p)
    chance = 0.0
    for _ in range(SHUFFLES):
        q = p[:]
        rng.shuffle(q)
        chance += lcs(a, q) / SHUFFLES
    return {"excess": (n - chance) / max(1, len(p)), "lcs_share": n / max(1, len(p)), "page_words": len(p)}


def main() -> None:
    rng = random.Random(1)
    cfg = MatchSettings()
    rows: list[dict] = []
    clough = DATASETS / "clough-stevenson-plagiarism"
    if clough.exists():
        corpus = clough / "corpus-20090418"
        src = {t: read_text(corpus / f"orig_task{t}.txt") for t in "abcde"}
        for r in csv.DictReader((clough / "file_list.csv").open(encoding="utf-8")):
            page = read_text(corpus / r["File"])
            cat = r["Category"]
            if cat != "non":
                cat += " flagged" if compare(Prepared.of(src[r["Task"]]), Prepared.of(page), cfg) else " MISSED"
            rows.append({"group": f"Clough {cat}", "pair": r["File"], **excess(src[r["Task"]], page, rng)})
    basil = DATASETS / "basil-same-event-news" / "articles"
    if basil.exists():
        events: dict[str, list[tuple[str, str]]] = {}
        for f in sorted(basil.glob("*/*.json")):
            d = json.loads(f.read_text(encoding="utf-8"))
            body = "\n\n".join(" ".join(p) for p in d["body-paragraphs"])
            events.setdefault(d["triplet-uuid"], []).append((d["source"].lower(), body))
        for ev, arts in sorted(events.items()):
            for (sa, at), (sp, pt) in itertools.permutations(arts, 2):
                rows.append({"group": "BASIL same event", "pair": f"{ev[:8]} {sa}->{sp}", **excess(at, pt, rng)})
    pan = DATASETS / "pan13-text-alignment-train"
    if (pan / "01-no-plagiarism" / "pairs").exists():
        for line in (pan / "01-no-plagiarism" / "pairs").read_text().split("\n"):
            if line.strip():
                susp, source = line.split()
                rows.append({"group": "PAN no plagiarism", "pair": susp,
                             **excess(read_text(pan / "src" / source), read_text(pan / "susp" / susp), rng)})
    import test_match as ours  # our own texts (tests/test_match.py)

    rows.append({"group": "ours INDEPENDENT", "pair": "whole", **excess(ours.ARTICLE, ours.INDEPENDENT, rng)})
    paras = [p for p in ours.INDEPENDENT.split("\n\n") if p.strip()]
    for k in range(2, len(paras)):
        for c in itertools.combinations(range(len(paras)), k):
            brief = "\n\n".join(paras[i] for i in c)
            if len(keys(brief)) >= 30:
                rows.append({"group": "ours INDEPENDENT briefs", "pair": str(c), **excess(ours.ARTICLE, brief, rng)})
    rows.append({"group": "ours SPUN (a copy)", "pair": "whole", **excess(ours.ARTICLE, ours.SPUN, rng)})

    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    out = []
    for g, rs in sorted(groups.items()):
        ex = [r["excess"] for r in rs]
        out.append([g, len(rs), min(ex), statistics.median(ex), max(ex)])
    print("Order beyond shared vocabulary (excess: LCS of unquoted content words minus its shuffled mean, "
          "share of the page)")
    print(table(out, ["group", "pairs", "min", "median", "max"]))
    negative = [r for r in rows if r["group"].startswith(("Clough non", "BASIL", "PAN", "ours INDEPENDENT"))]
    missed = sorted((r for r in rows if r["group"].endswith("MISSED")), key=lambda r: -r["excess"])
    top = max(negative, key=lambda r: r["excess"])
    print(f"\nhighest negative: {top['group']} {top['pair']} {top['excess']:.3f}")
    print(table([[r["pair"], r["group"], r["excess"], r["lcs_share"], r["page_words"]] for r in missed],
                ["missed answer", "group", "excess", "lcs_share", "page_words"]))
    above = [r["pair"] for r in missed if r["excess"] > top["excess"]]
    print(f"missed answers above every negative: {len(above)} {above}")
    # What a threshold fitted to Clough alone would cost: just above every `non` answer, it takes every missed
    # light and heavy answer; count the other negatives it would flag.
    clough_non = max((r["excess"] for r in rows if r["group"] == "Clough non"), default=0.0)
    reachable = [r for r in missed if not r["group"].startswith("Clough cut")]
    low = min((r["excess"] for r in reachable), default=0.0)
    cost = {g: sum(r["excess"] > clough_non for r in rs) for g, rs in groups.items()
            if not g.startswith("Clough") and "SPUN" not in g}
    print(f"Clough alone separates: 'non' at most {clough_non:.3f}, missed light/heavy answers from {low:.3f}; "
          f"a threshold at {clough_non:.3f} would also flag {cost}")
    # PAN's 1,000 rows are kept as counts only (groups, highest_negative).
    write("ordered_overlap.json", {"shuffles": SHUFFLES, "groups": {g: len(rs) for g, rs in groups.items()},
                                   "highest_negative": top, "missed": missed, "above_every_negative": above,
                                   "clough_non_max": clough_non, "flagged_at_clough_non_max": cost,
                                   "rows": [r for r in rows if not r["group"].startswith("PAN")]})


if __name__ == "__main__":
    main()
