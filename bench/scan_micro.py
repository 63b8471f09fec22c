"""The crawl farm's matching work on one thread, without the network: a steadier A/B than bench/crawl_farm.py.

Not a test: it measures. `python bench/scan_micro.py [--articles 5000] [--pages 2000] [--db PATH] [--profile N]`.

Tracks `--articles` of bench/crawl_farm.py's tracked articles (the farm with that many; `scan.track_texts` in batches
of 200, as `provmon track` does), then runs the first `--pages` farm pages (hosts in order) through
`extract.text_of` + `scan.find_copies`, as a site scan does for each page (the site template is not learned here).
Prints the tracking and scanning times (wall and CPU), peak RSS, and deterministic counts: pages with a candidate,
candidates (distinct articles), `compare()` calls, texts prepared (`match.Prepared.of`), copies found and a digest of
every match (page, article, kind, coverage, page share: equal digests, equal results). `--db PATH` keeps the
tracked store at PATH and reuses it when it exists (to time the scan alone: the store must come from the same
code). `--profile N`: cProfile of the scan, the top N functions by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.crawl_farm import Farm, build_site  # noqa: E402
from monitor import match, scan  # noqa: E402
from monitor.config import MatchSettings  # noqa: E402
from monitor.extract import text_of  # noqa: E402
from monitor.scan import PREPARED_CHARS, Original, PreparedCache, find_copies, track_texts  # noqa: E402
from monitor.store import Store  # noqa: E402


class Counts:
    def __init__(self) -> None:
        self.compare = 0
        self.prepared = 0
        self.candidates = 0
        self.with_candidates = 0
        self.distinct: set[int] = set()
        self.chars = 0  # text of the distinct candidate articles

    def install(self) -> None:
        orig_compare, orig_of, orig_candidates = match.compare, match.Prepared.of.__func__, scan.candidates_for

        def candidates_for(*a, **k):
            found = orig_candidates(*a, **k)
            self.candidates += len(found)
            self.with_candidates += bool(found)
            self.distinct.update(a for a, _ in found)
            return found

        def compare(*a, **k):
            self.compare += 1
            return orig_compare(*a, **k)

        def of(cls, text):
            self.prepared += 1
            return orig_of(cls, text)

        scan.candidates_for = candidates_for
        scan.compare = compare
        match.compare = compare
        match.Prepared.of = classmethod(of)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=5_000)
    ap.add_argument("--pages", type=int, default=2_000)
    ap.add_argument("--db", help="keep the tracked store here (reused when it exists)")
    ap.add_argument("--profile", type=int, default=0, help="profile the scan; print the top N by cumulative time")
    args = ap.parse_args()

    farm = Farm(50, 10_000, args.articles)
    texts = farm.texts()
    tracked = texts[0]
    per = farm.pages // farm.hosts
    pages: list[str] = []
    for host in range(farm.hosts):
        if len(pages) >= args.pages:
            break
        site = build_site(farm, host, texts)
        pages += [site[f"/a{n}"].decode() for n in range(per)]
    pages = pages[:args.pages]

    tmp = tempfile.TemporaryDirectory()
    db = Path(args.db) if args.db else Path(tmp.name) / "micro.db"
    track_s = 0.0
    if not db.exists():
        t0 = time.perf_counter()
        with Store(db) as store:
            originals = [Original(f"https://publisher.example/{i}", f"Tracked {i}", t) for i, t in enumerate(tracked)]
            for k in range(0, len(originals), 200):
                track_texts(store, originals[k:k + 200])
        track_s = time.perf_counter() - t0

    cfg = MatchSettings()
    counts = Counts()
    counts.install()
    with Store(db) as store:
        found: list[tuple[int, int, str, float, float]] = []
        cache = PreparedCache(PREPARED_CHARS)  # as the service holds one for its site scans
        prof = cProfile.Profile() if args.profile else None
        t0, c0 = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        for k, html in enumerate(pages):
            text = text_of(html.encode(), "text/html; charset=utf-8", f"http://farm.example/a{k}").text
            found += [(k, f.article.id, f.match.kind, f.match.coverage, f.match.page_share)
                      for f in find_copies(store, text, cfg, prepared=cache)]
        if prof:
            prof.disable()
        scan_s, scan_cpu = time.perf_counter() - t0, time.process_time() - c0
    digest = hashlib.sha256(repr(found).encode()).hexdigest()[:12]
    rows = [("tracked articles", f"{args.articles}" + (f" in {track_s:.1f} s" if track_s else f" (reused {db})")),
            ("pages", len(pages)), ("scan time (text_of + find_copies)", f"{scan_s:.2f} s"),
            ("scan CPU time (steadier on a busy machine)", f"{scan_cpu:.2f} s"),
            ("per page", f"{1000 * scan_s / len(pages):.2f} ms wall, {1000 * scan_cpu / len(pages):.2f} ms CPU"),
            ("pages with a candidate", counts.with_candidates),
            ("candidates (distinct articles)", f"{counts.candidates} ({len(counts.distinct)})"),
            ("compare() calls", counts.compare), ("Prepared.of calls", counts.prepared),
            ("copies found (digest of every match)", f"{len(found)} ({digest})"),
            ("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"),
            ("load average", " ".join(Path("/proc/loadavg").read_text().split()[:3]))]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
    tmp.cleanup()


if __name__ == "__main__":
    main()
