"""Tracking a publisher's archive in one command: `provmon track DIR` on N plain-text articles, then
`provmon check DIR` on N/10 pages, timed end to end (process start, reading, extracting, fingerprinting, store).

    python bench/track_archive.py [--articles 10000]

The articles are generated as in bench/index_scale.py from the PAN-13 source documents (read in place
under ../shared/datasets, written to bench/scratch/, which git ignores). It times the commands; it is not a
detection measure: the "unrelated" pages are generated from the same corpus sentences, so a few of them
really do share passages with archived articles and are reported as copies.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import need, table, write
from bench.index_scale import SRC, Corpus

SCRATCH = Path(__file__).resolve().parent / "scratch" / "archive"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    args = ap.parse_args()
    need(SRC)
    shutil.rmtree(SCRATCH, ignore_errors=True)
    docs, pages = SCRATCH / "docs", SCRATCH / "pages"
    docs.mkdir(parents=True)
    pages.mkdir()
    corpus = Corpus()
    # A few PAN source documents hold NUL bytes, which a text file does not: provmon refuses such a file as
    # binary, so they are dropped from the generated ones (index_scale.py keeps its corpus as it is).
    for i in range(args.articles):
        (docs / f"a{i:06d}.txt").write_text(corpus.article(2_000_000 + i).replace("\x00", ""), encoding="utf-8")
    for i in range(args.articles // 10):  # every other page copies an archived article, the rest are unrelated
        text = corpus.article(2_000_000 + i * 7 if i % 2 else 9_000_000 + i)
        (pages / f"p{i:05d}.txt").write_text(text.replace("\x00", ""), encoding="utf-8")
    config = SCRATCH / "config.toml"
    config.write_text('[monitor]\ndatabase = "archive.db"\n', encoding="utf-8")
    rows, results = [], {}
    for cmd, target, n in (("track", docs, args.articles), ("check", pages, args.articles // 10)):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), cmd, str(target)],
                           capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        summary = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr.strip()
        results[cmd] = {"inputs": n, "seconds": seconds, "per_second": n / seconds, "exit": p.returncode,
                        "summary": summary}
        rows.append([cmd, n, round(seconds, 1), round(n / seconds), summary])
    print(table(rows, ["command", "inputs", "seconds", "per s", "its summary line"]))
    load = Path("/proc/loadavg").read_text().split()[:3]
    out = write("track_archive.json", {"command": "python bench/track_archive.py " + " ".join(sys.argv[1:]),
                                       "load_avg": load, **results})
    print(f"load average {load}; wrote {out}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
