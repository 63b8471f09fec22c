"""PAN 2013 text alignment (training corpus): plagdet per folder and overall.

    PYTHONPATH=. python bench/detect_pan.py [--sample N] [--workers 2]

The tracked article is the source document, the page is the suspicious document. Detections are
`monitor.match.align()` with `PAN_ALIGN`: the engine's passages before the copy rule. Scored with
plagdet (Potthast et al., COLING 2010): character-level macro precision and recall over all
detections and cases of the corpus, granularity, plagdet = F1 / log2(1 + granularity).
Writes bench/results/detect_pan.json (detect_pan_sample.json with --sample).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import xml.etree.ElementTree as ET
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATASETS, need, table, write

from monitor.config import MatchSettings
from monitor.match import PAN_ALIGN, Prepared, align

ROOT = DATASETS / "pan13-text-alignment-train"
FOLDERS = ["01-no-plagiarism", "02-no-obfuscation", "03-random-obfuscation",
           "04-translation-obfuscation", "05-summary-obfuscation"]
ANCHOR = {"02-no-obfuscation": 0.900, "03-random-obfuscation": 0.884, "04-translation-obfuscation": 0.887,
          "05-summary-obfuscation": 0.561, "overall": 0.878}
CFG = MatchSettings()

# An annotation: (susp, src, this_offset, this_length, source_offset, source_length)
Ann = tuple[str, str, int, int, int, int]


@lru_cache(maxsize=64)
def _prepared(path: str) -> Prepared:
    return Prepared.of(Path(path).read_text(encoding="utf-8"))


def detect(pair: tuple[str, str]) -> list[Ann]:
    susp, src = pair
    page, article = _prepared(str(ROOT / "susp" / susp)), _prepared(str(ROOT / "src" / src))
    return [(susp, src, p.page_start, p.page_end - p.page_start, p.article_start, p.article_end - p.article_start)
            for p in align(article, page, CFG, PAN_ALIGN)]


def truth(folder: str, susp: str, src: str) -> list[Ann]:
    xml = ROOT / folder / f"{susp[:-4]}-{src[:-4]}.xml"
    out = []
    for f in ET.parse(xml).getroot().iter("feature"):
        if f.get("name") == "plagiarism":
            out.append((susp, src, int(f.get("this_offset")), int(f.get("this_length")),
                        int(f.get("source_offset")), int(f.get("source_length"))))
    return out


def _chars(a: Ann) -> set[tuple[int, int]]:
    """Characters of an annotation in both documents: (0, offset) in the page, (1, offset) in the source."""
    return {(0, k) for k in range(a[2], a[2] + a[3])} | {(1, k) for k in range(a[4], a[4] + a[5])}


def _overlaps(a: Ann, b: Ann) -> bool:
    return (a[0] == b[0] and a[1] == b[1] and a[2] < b[2] + b[3] and b[2] < a[2] + a[3]
            and a[4] < b[4] + b[5] and b[4] < a[4] + a[5])


def plagdet(cases: list[Ann], dets: list[Ann]) -> dict[str, float]:
    by_pair: dict[tuple[str, str], list[Ann]] = {}
    for d in dets:
        by_pair.setdefault(d[:2], []).append(d)
    cases_by_pair: dict[tuple[str, str], list[Ann]] = {}
    for c in cases:
        cases_by_pair.setdefault(c[:2], []).append(c)

    def macro(xs: list[Ann], index: dict[tuple[str, str], list[Ann]]) -> float:
        total = 0.0
        for x in xs:
            xc = _chars(x)
            hit: set[tuple[int, int]] = set()
            for y in index.get(x[:2], []):
                if _overlaps(x, y):
                    hit |= xc & _chars(y)
            total += len(hit) / len(xc)
        return total / len(xs)

    if not cases and not dets:
        rec = prec = 1.0
    elif not cases or not dets:
        rec = prec = 0.0
    else:
        rec, prec = macro(cases, by_pair), macro(dets, cases_by_pair)
    detected = [sum(_overlaps(c, d) for d in by_pair.get(c[:2], [])) for c in cases]
    detected = [n for n in detected if n]
    gran = sum(detected) / len(detected) if detected else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"plagdet": f1 / math.log2(1 + gran), "precision": prec, "recall": rec, "granularity": gran,
            "cases": len(cases), "detections": len(dets)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=0, help="pairs per folder (0 = all)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    need(ROOT)
    rng = random.Random(13)
    jobs: list[tuple[str, str, str]] = []
    for folder in FOLDERS:
        pairs = [tuple(line.split()) for line in (ROOT / folder / "pairs").read_text().splitlines() if line.strip()]
        if args.sample:
            pairs = rng.sample(pairs, min(args.sample, len(pairs)))
        jobs += [(folder, s, r) for s, r in sorted(pairs)]
    t0 = time.perf_counter()
    with Pool(args.workers) as pool:
        found = pool.map(detect, [(s, r) for _, s, r in jobs], chunksize=16)
    elapsed = time.perf_counter() - t0
    results, all_cases, all_dets = {}, [], []
    for folder in FOLDERS:
        cases, dets = [], []
        for (f, s, r), d in zip(jobs, found, strict=True):
            if f == folder:
                cases += truth(folder, s, r)
                dets += d
        all_cases += cases
        all_dets += dets
        results[folder] = plagdet(cases, dets)
    results["overall"] = plagdet(all_cases, all_dets)
    rows = []
    for k, v in results.items():
        anchor = ANCHOR.get(k)
        rows.append([k, v["plagdet"], v["precision"], v["recall"], v["granularity"], v["cases"], v["detections"],
                     "-" if anchor is None else f"{anchor:.3f}"])
    print(f"PAN 2013 text alignment, training corpus: {len(jobs)} pairs in {elapsed:.0f} s, "
          f"{args.workers} worker(s)")
    print("(01-no-plagiarism has no cases: its plagdet is 1 only with zero detections)")
    print(table(rows, ["folder", "plagdet", "precision", "recall", "granularity", "cases", "detections",
                       "anchor (best PAN'13 test)"]))
    name = "detect_pan_sample.json" if args.sample else "detect_pan.json"
    write(name, {"pairs": len(jobs), "sample_per_folder": args.sample, "seconds": round(elapsed, 1),
                 "align": PAN_ALIGN.__dict__, "results": results, "anchors": ANCHOR})


if __name__ == "__main__":
    main()
