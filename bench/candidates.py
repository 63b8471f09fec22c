"""The candidate stage end to end: what the fingerprint index proposes, and what the service then flags.

    PYTHONPATH=. python bench/candidates.py [--answers] [--keep DIR] [--packed FILE]

A real Store is built in a temporary directory (or DIR, reused when it already holds the articles) and
tracks, through scan.track_texts: the 5 Clough & Stevenson sources, as distractors the PAN 2013 training
source documents (pan13-text-alignment-train/src), and the BASIL same-event articles. Then, for each setting
of the candidate rule (`match.candidate_*`):

* every Clough answer goes through scan.candidates_for and scan.find_copies (the path of `provmon check` and
  of a site scan): *proposed* = its task's source is among the candidates, *flagged* = find_copies returns
  that source; `compare()` alone (the source given) is the ceiling;
* every BASIL article is checked against the store with its own URL excluded, as `provmon check` does: any
  article found is an alert (same event or not); must stay 0;
* unrelated pages count the candidates a page gets, i.e. compare() calls: the PAN training suspicious
  documents that hold no plagiarism in any pair ("PAN no-plag. susp", same web domain as the distractors), BASIL
  articles (candidates outside their own event) and both cut into short pages of 150 content words;
* index work per page, the latency proxy (not timed): hashes looked up and postings touched (the sum of the
  votes), which the rule does not change, only how many candidates pass.

`--packed FILE` also counts candidates of the unrelated pages, and of the 300 generated unrelated pages of
bench/index_scale.py, in an existing packed index segment (e.g. bench/scratch/index/n1000000/ours.db.idx-N,
built by bench/index_scale.py), read-only, with the recent segment ignored. Datasets are read in place from
../shared/datasets; parts whose dataset is absent are skipped. Writes bench/results/candidates.json.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import statistics
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from itertools import chain
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BASIL, DATASETS, basil_articles, need, read_text, table, write

from monitor.config import MatchSettings
from monitor.fingerprint import page_fingerprints_of, text_content_words
from monitor.match import Prepared, compare
from monitor.scan import Original, candidates_for, find_copies, min_shared_for, track_texts
from monitor.store import Store

CLOUGH = DATASETS / "clough-stevenson-plagiarism"
PAN = DATASETS / "pan13-text-alignment-train"
DEFAULT = MatchSettings()
# Settings compared: the rule before this change (3 everywhere), short-page cut-offs, 2 everywhere.
VARIANTS = {
    "before: 3 everywhere": dataclasses.replace(DEFAULT, candidate_short_page=0),
    "2 below 150 grams": dataclasses.replace(DEFAULT, candidate_short_page=150),
    "2 below 200 grams": dataclasses.replace(DEFAULT, candidate_short_page=200),
    "2 below 300 grams (default)": DEFAULT,
    "2 everywhere": dataclasses.replace(DEFAULT, candidate_min_shared=2),
}
SHORT_WORDS = 150  # content words per short unrelated page


@dataclasses.dataclass
class Page:
    kind: str
    text: str
    url: str = ""  # excluded from its own check (a tracked BASIL article)
    own: frozenset[int] = frozenset()  # tracked ids it may legitimately share text with (its BASIL event)


def clean_pan_susp() -> list[Path]:
    """Suspicious documents that appear only in the no-plagiarism pairs: no copied passage of any source."""
    folders = sorted(p for p in PAN.iterdir() if p.is_dir() and p.name[:2].isdigit())
    neg = {line.split()[0] for line in (PAN / "01-no-plagiarism" / "pairs").read_text().splitlines()}
    pos = {line.split()[0] for d in folders if not d.name.startswith("01")
           for line in (d / "pairs").read_text().splitlines()}
    return [PAN / "susp" / name for name in sorted(neg - pos)]


def short_pages(text: str, n: int = SHORT_WORDS, most: int = 4) -> list[str]:
    """Up to `most` consecutive pieces of `text` holding `n` content words each."""
    out, cur, count = [], [], 0
    for w in text.split():
        cur.append(w)
        count += len(text_content_words(w))
        if count >= n:
            out.append(" ".join(cur))
            cur, count = [], 0
            if len(out) == most:
                break
    return out


def build(path: Path) -> tuple[Store, dict[str, int]]:
    store = Store(path)
    if store.article_count() == 0:
        t = time.perf_counter()
        corpus = CLOUGH / "corpus-20090418"
        # .txt files are tracked as they are, as `provmon track` takes them
        items = [Original((corpus / f"orig_task{x}.txt").resolve().as_uri(), f"Clough task {x}",
                          read_text(corpus / f"orig_task{x}.txt"), plain=True) for x in "abcde"]
        if (PAN / "src").exists():
            items += [Original(p.resolve().as_uri(), p.stem, read_text(p), plain=True)
                      for p in sorted((PAN / "src").glob("*.txt"))]
        else:
            print(f"PAN distractors: skipped, {PAN / 'src'} is absent")
        if BASIL.exists():
            items += [Original(url, event, body) for url, event, body in basil_articles()]
        else:
            print(f"BASIL: skipped, {BASIL} is absent")
        for i in range(0, len(items), 200):
            track_texts(store, items[i: i + 200])
        print(f"tracked {store.article_count()} articles in {time.perf_counter() - t:.1f} s")
    ids = dict(store.db.execute("SELECT url, id FROM articles").fetchall())
    return store, ids


def clough_pages() -> list[tuple[dict[str, str], str]]:
    corpus = CLOUGH / "corpus-20090418"
    return [(row, read_text(corpus / row["File"]))
            for row in csv.DictReader((CLOUGH / "file_list.csv").open(encoding="utf-8"))]


def unrelated_pages(ids: dict[str, int]) -> list[Page]:
    pages: list[Page] = []
    if PAN.exists():
        for p in clean_pan_susp():
            text = read_text(p)
            pages.append(Page("PAN no-plag. susp", text))
            pages += [Page(f"PAN no-plag. susp, {SHORT_WORDS} words", s) for s in short_pages(text)]
    if BASIL.exists():
        arts = basil_articles()
        events: dict[str, set[int]] = {}
        for url, event, _ in arts:
            events.setdefault(event, set()).add(ids[url])
        for url, event, body in arts:
            own = frozenset(events[event])
            pages.append(Page("BASIL", body, url, own))
            pages += [Page(f"BASIL, {SHORT_WORDS} words", s, url, own) for s in short_pages(body)]
    return pages


def mean(xs: list[int] | list[float]) -> float:
    return statistics.fmean(xs) if xs else 0.0


def run_clough(store: Store, ids: dict[str, int]) -> dict:
    corpus = CLOUGH / "corpus-20090418"
    source_url = {x: (corpus / f"orig_task{x}.txt").resolve().as_uri() for x in "abcde"}
    prepared = {x: Prepared.of(read_text(corpus / f"orig_task{x}.txt")) for x in "abcde"}
    pages = clough_pages()
    all_grams = {x: page_fingerprints_of(read_text(corpus / f"orig_task{x}.txt")) for x in "abcde"}
    ceiling: Counter[str] = Counter()
    direct, detail = {}, []
    for row, text in pages:
        m = compare(prepared[row["Task"]], Prepared.of(text), DEFAULT)
        direct[row["File"]] = m is not None
        ceiling[row["Category"]] += m is not None
        hashes = page_fingerprints_of(text)
        votes = store.index.votes(hashes)
        # Fingerprints shared with the source (what the index counts), all 3-grams shared with it (before the
        # article side's winnowing), and the most fingerprints shared with one of the other four sources.
        detail.append({"file": row["File"], "category": row["Category"], "compare_only": m is not None,
                       "page_grams": len(hashes), "source_votes": votes.get(ids[source_url[row["Task"]]], 0),
                       "source_grams": len(hashes & all_grams[row["Task"]]),
                       "other_sources_votes": max(votes.get(ids[source_url[x]], 0) for x in "abcde"
                                                  if x != row["Task"])})
    out: dict = {"compare_only": dict(ceiling), "answers": detail, "variants": {}}
    for name, cfg in VARIANTS.items():
        per: dict[str, Counter[str]] = {}
        proposed: list[str] = []
        flagged: list[str] = []
        for row, text in pages:
            src = ids[source_url[row["Task"]]]
            cands = candidates_for(store, text, cfg)
            votes = dict(cands)
            found = [f.article.id for f in find_copies(store, text, cfg)]
            c = per.setdefault(row["Category"], Counter())
            c["answers"] += 1
            c["proposed"] += src in votes
            c["flagged"] += src in found
            c["candidates"] += len(cands)
            c["other flagged"] += sum(a != src for a in found)
            if src in votes:
                proposed.append(row["File"])
            if src in found:
                flagged.append(row["File"])
        out["variants"][name] = {"per_category": {k: dict(v) for k, v in per.items()},
                                 "proposed": proposed, "flagged": flagged}
    return out


def run_unrelated(store: Store, pages: list[Page]) -> dict:
    out: dict = {"work": {}, "variants": {}}
    work: dict[str, list[tuple[int, int]]] = {}
    for p in pages:
        hashes = page_fingerprints_of(p.text)
        votes = store.index.votes(hashes)
        work.setdefault(p.kind, []).append((len(hashes), sum(votes.values())))
    for kind, xs in work.items():
        out["work"][kind] = {"pages": len(xs), "hashes_per_page": mean([h for h, _ in xs]),
                             "postings_per_page": mean([n for _, n in xs])}
    first: dict[str, set[tuple[int, int]]] = {}
    for name, cfg in VARIANTS.items():
        per: dict[str, dict] = {}
        for i, p in enumerate(pages):
            n_hashes = len(page_fingerprints_of(p.text))
            cands = [a for a, _ in candidates_for(store, p.text, cfg)]
            d = per.setdefault(p.kind, {"pages": 0, "candidates": [], "at2": 0, "alerts": set(), "same_event": 0})
            d["pages"] += 1
            # Candidates that are not the page itself or its own event's articles: compare() calls spent on
            # unrelated articles (a tracked BASIL article checked against the store finds itself).
            d["candidates"].append(sum(a not in p.own for a in cands))
            d["at2"] += min_shared_for(n_hashes, cfg) <= 2
            for f in find_copies(store, p.text, cfg, exclude_url=p.url):
                d["alerts"].add((i, f.article.id))
                d["same_event"] += f.article.id in p.own
        out["variants"][name] = {}
        for k, d in per.items():
            before = first.setdefault(k, d["alerts"])  # the first variant is the rule before this change
            out["variants"][name][k] = {
                "pages": d["pages"], "pages_at_2": d["at2"], "candidates_per_page": mean(d["candidates"]),
                "max_candidates": max(d["candidates"]), "pages_with_candidates": sum(c > 0 for c in d["candidates"]),
                "alerts": len(d["alerts"]), "alerts_new": len(d["alerts"] - before),
                "alerts_same_event": d["same_event"]}
    return out


def run_packed(path: Path, pages: list[Page]) -> dict:
    """Candidates of the unrelated pages in an existing packed segment (read-only; recent segment ignored)."""
    from monitor.index import DF_CAP, Segment

    seg = Segment(path)
    directory, keys, ids, shift = seg.directory, seg.keys, seg.ids, seg.shift

    def votes(hs: set[int]) -> Counter[int]:
        hits = []
        for h in hs:
            b = h >> shift
            lo, hi = directory[b], directory[b + 1]
            i = bisect_left(keys, h, lo, hi)
            if i < hi and keys[i] == h:
                j = bisect_right(keys, h, i, hi)
                if j - i <= DF_CAP:
                    hits.append(ids[i:j])
        return Counter(chain.from_iterable(hits))

    out: dict = {"segment": str(path), "postings": seg.n, "pages": {}}
    for p in pages:
        hs = page_fingerprints_of(p.text)
        v = votes(hs)
        d = out["pages"].setdefault(p.kind, {"pages": 0, "postings": [], **{name: [] for name in VARIANTS}})
        d["pages"] += 1
        d["postings"].append(sum(v.values()))
        for name, cfg in VARIANTS.items():
            need_ = min_shared_for(len(hs), cfg)
            d[name].append(min(cfg.max_candidates, sum(n >= need_ for n in v.values())))
    for d in out["pages"].values():
        for k in ["postings", *VARIANTS]:
            d[k] = mean(d[k])
    seg.close()
    return out


def report(clough: dict, unrelated: dict, packed: dict | None, answers: bool) -> None:
    cats = ["cut", "light", "heavy", "non"]
    if answers:
        print("\nClough answers: fingerprints shared with the source (votes), all 3-grams shared with it, most votes "
              "from another source, compare() alone against the source")
        print(table([[a["file"], a["category"], a["page_grams"], a["source_votes"], a["source_grams"],
                      a["other_sources_votes"], "yes" if a["compare_only"] else "-"] for a in clough["answers"]],
                    ["answer", "category", "page grams", "votes", "shared grams", "other sources", "compare()"]))
    print("\nClough & Stevenson through the store (proposed / flagged per category; compare() alone: "
          + ", ".join(f"{c} {clough['compare_only'].get(c, 0)}" for c in cats) + ")")
    rows = []
    for name, v in clough["variants"].items():
        pc = v["per_category"]
        rows.append([name] + [f"{pc[c]['proposed']} / {pc[c]['flagged']}" for c in cats]
                    + [sum(pc[c]["candidates"] for c in cats) / sum(pc[c]["answers"] for c in cats),
                       sum(pc[c]["other flagged"] for c in cats)])
    print(table(rows, ["rule", *[f"{c} /19" if c != "non" else "non /38" for c in cats],
                       "candidates/answer", "other article flagged"]))
    if unrelated["work"]:
        print("\nIndex work per page (the same under every rule): hashes looked up, postings touched")
        print(table([[k, w["pages"], w["hashes_per_page"], w["postings_per_page"]]
                     for k, w in unrelated["work"].items()], ["pages", "n", "hashes", "postings"]))
        print("\nUnrelated pages: pages held to 2 shared fingerprints, candidates per page (compare() calls, the "
              "page's own BASIL event not counted), alerts (new = not raised by the rule before)")
        rows = []
        for name, v in unrelated["variants"].items():
            for kind, d in v.items():
                rows.append([name, kind, d["pages"], d["pages_at_2"], d["candidates_per_page"], d["max_candidates"],
                             d["pages_with_candidates"], d["alerts"], d["alerts_new"], d["alerts_same_event"]])
        print(table(rows, ["rule", "pages", "n", "at 2", "cands/page", "max", "pages with cands", "alerts",
                           "new alerts", "same-event alerts"]))
    if packed:
        print(f"\nPacked segment {packed['segment']} ({packed['postings']} postings): candidates per unrelated page "
              "(capped at max_candidates)")
        names = list(VARIANTS)
        print(table([[k, d["pages"], d["postings"], *[d[n] for n in names]] for k, d in packed["pages"].items()],
                    ["pages", "n", "postings", *names]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", type=Path, help="build (or reuse) the store in this directory")
    ap.add_argument("--packed", type=Path, help="also count candidates in this packed index segment (read-only)")
    ap.add_argument("--answers", action="store_true", help="print every Clough answer's shared fingerprints")
    args = ap.parse_args()
    need(CLOUGH)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        store, ids = build(root / "provmon.db")
        try:
            clough = run_clough(store, ids)
            pages = unrelated_pages(ids)
            unrelated = run_unrelated(store, pages)
        finally:
            store.close()
    packed = None
    if args.packed:
        if (PAN / "src").exists():  # the unrelated pages of bench/index_scale.py, generated the same way
            from index_scale import Corpus

            corpus = Corpus()
            pages += [Page("index_scale unrelated", corpus.unrelated(q)) for q in range(300)]
        packed = run_packed(args.packed, pages)
    report(clough, unrelated, packed, args.answers)
    write("candidates.json", {"clough": clough, "unrelated": unrelated, "packed": packed},
          missing=[str(p) for p in (PAN / "src", BASIL) if not p.exists()])


if __name__ == "__main__":
    main()
