"""The held-out corpus: 10 tracked articles and 80 pages that copy one of them or not, checked through the CLI.

    PYTHONPATH=. python bench/heldout.py

All texts were written for this project in session 9 (2026-11-21) for evaluation only and were never used to
tune the detection (bench/heldout_corpus/README.md). The originals are tracked into a temporary store with
`provmon track --json orig/`, the case directory is checked with `provmon check --json cases/` (the commands a
user runs, in a subprocess, with this tree on PYTHONPATH), and each answer is compared with
bench/heldout_corpus/expected.toml: the one tracked original the page copies, or "not". Prints a summary by kind
of case (found with the right original, missed, false alarms, match kinds, coverage and page share ranges), the
candidate-index votes of each missed copy, and a closeness table: how close each kind of text is to its original
on measures the copy rule does not use directly, next to the audit corpus (bench/audit_corpus) and, when
../shared/datasets is present, BASIL's real same-event pairs. That table is the anchor: it shows the held-out
"independent reports" are far closer to their originals than real independent reports. Writes
bench/results/heldout.json.
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DATASETS,
    ROOT,
    case_results,
    closeness_table,
    corpus_cases,
    kind_summary,
    read_text,
    table,
    totals,
    track_and_check,
    write,
)

sys.path.insert(0, str(ROOT))

from monitor import match as M
from monitor.config import MatchSettings
from monitor.fingerprint import article_fingerprints_of, page_fingerprints_of

CORPUS = Path(__file__).resolve().parent / "heldout_corpus"
AUDIT = Path(__file__).resolve().parent / "audit_corpus"
BASIL = DATASETS / "basil-same-event-news" / "articles"
# the case file's first letter: (kind, is a copy)
KINDS = {"a": ("paraphrase", True), "b": ("heavy rewrite", True), "c": ("excerpt in blog", True),
         "d": ("spun", True), "e": ("independent report", False), "f": ("brief", False),
         "g": ("follow-up", False), "h": ("opinion", False)}


def present(path: Path) -> bool:
    """As _common.need, without ending the run: the rest of the bench goes on when a dataset is absent."""
    if not path.exists():
        print(f"skipped: {path} is absent")
        return False
    return True


def excerpt_page(blog: Path, original: Path) -> str:
    """The c_excerpt case as it was made: blog/hNN.txt's first line '#EXCERPT i-j' names body paragraphs of the
    original (1-based, headline excluded), pasted verbatim in place of {{EXCERPT}} in the rest of the file."""
    body = [p.strip() for p in original.read_text(encoding="utf-8").split("\n\n") if p.strip()][1:]
    head, rest = blog.read_text(encoding="utf-8").split("\n", 1)
    m = re.match(r"#EXCERPT (\d+)-(\d+)", head)
    if not m:
        sys.exit(f"{blog}: the first line is not '#EXCERPT i-j'")
    i, j = map(int, m.groups())
    return rest.replace("{{EXCERPT}}", "\n\n".join(body[i - 1:j]))




# ---- closeness (the measures of /tmp/heldout/closeness.py, default match settings as the CLI run uses)


def words(t: str) -> list[str]:
    return re.findall(r"[\w£$%.,'-]+", t.lower())


def measures(article: str, page: str, mc: MatchSettings) -> tuple[float, int, float, bool]:
    """Share of the page's word 3-grams found in the article, longest common word run, share of page sentences in
    a strong sentence pair (monitor.match._pairs), and whether compare() alone (no candidate index) flags it."""
    a, p = words(article), words(page)
    grams = {tuple(a[i:i + 3]) for i in range(len(a) - 2)}
    page_grams = [tuple(p[i:i + 3]) for i in range(len(p) - 2)]
    tri = sum(g in grams for g in page_grams) / max(len(page_grams), 1)
    run = SequenceMatcher(None, a, p, autojunk=False).find_longest_match(0, len(a), 0, len(p)).size
    A, P = M.Prepared.of(article), M.Prepared.of(page)
    strong = {x.j for x in M._pairs(A, P, mc) if x.strong}
    return tri, run, len(strong) / max(len(P.sentences), 1), M.compare(A, P, mc) is not None


def closeness_row(name: str, rows: list[tuple[float, int, float, bool]]) -> dict:
    t, r, s, f = zip(*rows, strict=True)

    def stats(v: tuple) -> dict:
        return {"median": statistics.median(v), "min": min(v), "max": max(v)}

    return {"texts": name, "n": len(rows), "trigram_share": stats(t), "longest_run": stats(r),
            "strong_sentences": stats(s), "compare_flags": sum(f)}


def rounded(x: object) -> object:
    """Floats to 4 decimals for the JSON file (the tables are printed from the unrounded values)."""
    if isinstance(x, float):
        return round(x, 4)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    return [rounded(v) for v in x] if isinstance(x, list) else x


def closeness(originals: dict[str, Path], files: dict[str, Path], mc: MatchSettings) -> list[dict]:
    out = []
    for letter in "adbefgh":  # not c: verbatim paragraphs in a blog post
        name = KINDS[letter][0]
        rows = [measures(originals[case.split("/")[1]].read_text(encoding="utf-8"),
                         path.read_text(encoding="utf-8"), mc)
                for case, path in sorted(files.items()) if Path(case).name.startswith(letter + "_")]
        out.append(closeness_row(f"held-out {letter} {name}", rows))
    for kind in ("n_independent", "n_brief", "c_paraphrase"):
        rows = []
        for f in sorted((AUDIT / "cases").glob(f"*/{kind}.txt")):
            orig = sorted((AUDIT / "orig").glob(f"{f.parent.name}_*.txt"))
            if orig:
                rows.append(measures(orig[0].read_text(encoding="utf-8"), f.read_text(encoding="utf-8"), mc))
        if rows:
            out.append(closeness_row(f"audit corpus {kind}", rows))
    if present(BASIL):
        events: dict[str, list[str]] = {}
        for f in sorted(BASIL.glob("*/*.json")):
            d = json.loads(read_text(f))
            events.setdefault(d["triplet-uuid"], []).append("\n\n".join(" ".join(p) for p in d["body-paragraphs"]))
        rows = [measures(a, p, mc) for arts in events.values() for a, p in itertools.permutations(arts, 2)]
        if rows:
            out.append(closeness_row("BASIL same-event pairs (real outlets, both directions)", rows))
    return out


def votes(original: Path, page: Path, mc: MatchSettings) -> dict:
    """The candidate index's view of a page: the tracked article's fingerprints it holds against the threshold its
    length implies, and what compare() says when the article is handed to it directly."""
    art, text = original.read_text(encoding="utf-8"), page.read_text(encoding="utf-8")
    ph = page_fingerprints_of(text)
    got = len(article_fingerprints_of(art) & ph)
    needed = mc.candidate_min_shared_short if len(ph) < mc.candidate_short_page else mc.candidate_min_shared
    m = M.compare(M.Prepared.of(art), M.Prepared.of(text), mc)
    return {"page_3grams": len(ph), "votes": got, "needed": needed, "proposed": got >= needed,
            "direct_compare": None if m is None else {"kind": m.kind, "coverage": round(m.coverage, 3),
                                                      "page_share": round(m.page_share, 3)}}


# ---- the run


def main() -> None:
    t_start = time.perf_counter()
    expected, originals, files = corpus_cases(CORPUS)
    stale = [c for c, p in files.items() if p.name == "c_excerpt.txt" and p.read_text(encoding="utf-8")
             != excerpt_page(CORPUS / "blog" / f"{p.parent.name}.txt", originals[p.parent.name])]
    if stale:
        print(f"warning: stored excerpt cases differ from blog/ + orig/: {stale}")

    article, answers, check_seconds = track_and_check(CORPUS, len(originals), files)

    results = case_results(expected, answers, article, KINDS)
    summary = kind_summary(results, KINDS, originals)
    print(f"check --json cases/: {len(answers)} pages in {check_seconds:.2f} s (process start included)\n")
    print("By kind of case (found: matched to the right original and no other; ranges over the matches reported)")
    print(table([[s["kind"], s["case"], f"{s['found']}/{s['files']}" if s["case"] == "copy" else "-",
                  s["missed"] if s["case"] == "copy" else "-",
                  f"{s['false_alarms']}/{s['files']}" if s["case"] == "not" else "-", s["wrong_matches"],
                  ", ".join(f"{n} {k}" for k, n in s["match_kinds"].items()) or "-", s["coverage"], s["page_share"]]
                 for s in summary],
                ["kind", "case", "found", "missed", "false alarms", "wrong matches", "kinds reported", "coverage",
                 "page share"]))
    summary_totals = totals(results)
    for r in results:
        if r["verdict"] != "ok":
            got = "; ".join(f"{m['original']} {m['kind']} {m['coverage']:.2f}/{m['page_share']:.2f}"
                            for m in r["matches"])
            print(f"  {r['verdict']}: {r['file']}" + (f" ({got})" if got else ""))

    mc = MatchSettings()
    misses = {r["file"]: votes(originals[r["file"].split("/")[1]], files[r["file"]], mc)
              for r in results if r["verdict"] == "MISSED"}
    if misses:
        print("\nMissed copies: candidate votes (the article's fingerprints the page holds) and compare() given the "
              "article directly")
        print(table([[f, v["page_3grams"], v["votes"], v["needed"], "yes" if v["proposed"] else "NO",
                      (f"{v['direct_compare']['kind']} {v['direct_compare']['coverage']:.2f}/"
                       f"{v['direct_compare']['page_share']:.2f}") if v["direct_compare"] else "-"]
                     for f, v in misses.items()],
                    ["missed copy", "page 3-grams", "votes", "needed", "proposed", "direct compare()"]))

    print("\nCloseness to the original (median, range; default match settings)")
    close = closeness(originals, files, mc)
    print(closeness_table(close))
    out = write("heldout.json", {"totals": summary_totals, "by_kind": summary, "check_seconds": round(check_seconds, 2),
                                 "missed_votes": misses, "closeness": rounded(close), "cases": results})
    print(f"\nwrote {out.relative_to(ROOT)} ({time.perf_counter() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
