"""Article-extraction benchmark: our extractor against trafilatura, resiliparse and bare selectolax.

Run from the repository root:

    PYTHONPATH=$PWD .venv/bin/python bench/extract_bench.py [--dataset DIR] [--repeat N] [--only NAME]

Dataset: ../shared/datasets/article-extraction-benchmark (html/<id>.html.gz + ground-truth.json).
Measure (the benchmark's own): tokens are \\w+, each text is a multiset of consecutive 4-token
shingles, per-page TP/FP/FN are scaled to sum to 1, precision and recall are averaged over pages
and F1 is the harmonic mean of the two averages. Time is the median wall-clock ms per page for
one call on already decoded HTML, in this one process. Competitors that are not installed are
skipped (pip install -e '.[bench]'). Writes bench/results/extract.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATASET = ROOT.parent / "shared" / "datasets" / "article-extraction-benchmark"
RESULTS = ROOT / "bench" / "results" / "extract.json"
TOKEN = re.compile(r"\w+")
# Furniture phrases that must not leak into the output when the ground truth lacks them.
LEAKS = ("leave a reply", "subscribe", "all rights reserved")


@dataclass
class Score:
    name: str
    precision: float
    recall: float
    f1: float
    median_ms: float
    pages: int
    empty: int
    leaks: dict[str, int]


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text)
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def page_prf(truth: str, pred: str) -> tuple[float, float]:
    """Per-page precision and recall from the normalised shingle TP/FP/FN."""
    t, p = shingles(truth), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    if s == 0:  # both empty: a perfect answer
        return 1.0, 1.0
    tp, fp, fn = tp / s, fp / s, fn / s
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def load(dataset: Path) -> list[tuple[str, str, str, str]]:
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for pid in sorted(truth):
        path = dataset / "html" / f"{pid}.html.gz"
        if path.exists():
            html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
            pages.append((pid, truth[pid].get("url", ""), html, truth[pid].get("articleBody") or ""))
    return pages


def extractors() -> dict[str, Callable[[str, str], str]]:
    from selectolax.lexbor import LexborHTMLParser

    from monitor.extract import extract

    found: dict[str, Callable[[str, str], str]] = {"monitor": lambda html, url: extract(html, url=url).text}
    try:
        import trafilatura

        found["trafilatura"] = lambda html, url: trafilatura.extract(html) or ""
        # The setting trafilatura's own evaluation uses; the published 0.960 anchor matches it.
        found["trafilatura -comm"] = lambda html, url: trafilatura.extract(html, include_comments=False) or ""
    except ImportError:
        print("trafilatura not installed: skipped", file=sys.stderr)
    try:
        from resiliparse.extract.html2text import extract_plain_text

        found["resiliparse"] = lambda html, url: extract_plain_text(html, main_content=True)
    except ImportError:
        print("resiliparse not installed: skipped", file=sys.stderr)

    def bare(html: str, url: str) -> str:
        tree = LexborHTMLParser(html)
        body = tree.body
        if body is None:
            return ""
        for tag in ("script", "style", "nav", "header", "footer", "aside", "form"):
            for node in body.css(tag):
                node.decompose()
        return body.text(separator="\n")

    found["selectolax (bare)"] = bare
    return found


def run(name: str, fn: Callable[[str, str], str], pages: list[tuple[str, str, str, str]], repeat: int) -> Score:
    ps, rs, times = [], [], []
    empty = 0
    leaks = dict.fromkeys(LEAKS, 0)
    for _pid, url, html, truth in pages:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn(html, url)
            best = min(best, time.perf_counter() - t0)
        times.append(best * 1000)
        p, r = page_prf(truth, out)
        ps.append(p)
        rs.append(r)
        empty += not out.strip()
        low_out, low_truth = out.lower(), truth.lower()
        for phrase in LEAKS:
            if phrase in low_out and phrase not in low_truth:
                leaks[phrase] += 1
    precision, recall = statistics.fmean(ps), statistics.fmean(rs)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(name, round(precision, 4), round(recall, 4), round(f1, 4),
                 round(statistics.median(times), 3), len(pages), empty, leaks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per page; the fastest counts")
    parser.add_argument("--only", help="run only this extractor")
    parser.add_argument("--per-page", action="store_true", help="print our per-page scores, worst first")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results/extract.json")
    args = parser.parse_args(argv)
    if not (args.dataset / "ground-truth.json").exists():
        print(f"dataset not found at {args.dataset}: benchmark skipped")
        return 0
    sys.path.insert(0, str(ROOT))
    pages = load(args.dataset)
    scores = []
    for name, fn in extractors().items():
        if args.only and name != args.only:
            continue
        for _pid, url, html, _truth in pages[:5]:  # warm-up: imports, caches
            fn(html, url)
        scores.append(run(name, fn, pages, args.repeat))
    if args.per_page:
        from monitor.extract import extract

        rows = []
        for pid, url, html, truth in pages:
            p, r = page_prf(truth, extract(html, url=url).text)
            rows.append((2 * p * r / (p + r) if p + r else 0.0, p, r, pid[:12], url))
        for row in sorted(rows)[:25]:
            print(f"{row[0]:.3f}  P {row[1]:.3f}  R {row[2]:.3f}  {row[3]}  {row[4]}")
    header = (f"{'extractor':<20}{'precision':>10}{'recall':>8}{'F1':>8}{'ms/page':>9}{'empty':>7}"
              "  leaks (reply/subscribe/rights)")
    print(f"{len(pages)} pages from {args.dataset}")
    print(header)
    print("-" * len(header))
    for s in scores:
        leak = "/".join(str(s.leaks[k]) for k in LEAKS)
        print(f"{s.name:<20}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.median_ms:>9.2f}{s.empty:>7}  {leak}")
    if not args.no_write and not args.only:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({
            "dataset": str(args.dataset.name),
            "pages": len(pages),
            "measure": "4-token \\w+ shingle multisets, per-page normalised TP/FP/FN, macro P and R, F1 of averages",
            "timing": f"median over pages of the fastest of {args.repeat} calls, ms, decoded HTML, one process",
            "results": [asdict(s) for s in scores],
        }, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
