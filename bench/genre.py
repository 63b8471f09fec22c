"""The genre corpus: 8 tracked texts that are not news (a recipe, a tutorial, a review, a travel guide, a column, a
local history feature, a health explainer, a gardening how-to), their copies, and the non-copies each genre meets.

    python bench/genre.py
    /work/.venv-sem/bin/python bench/genre.py --semantic --tokenizer FILE [--model NAME]   (the ONNX environment of
                                                                            docs/semantic.md)

Written for this project in session 23 (2026-11-23) for measurement only, and used to tune nothing
(bench/genre_corpus/README.md). Every other corpus here is news, whose non-copies are other reports of one event.
A publisher of recipes, tutorials, reviews or guides meets other non-copies: another writer's text on the same
subject, written from the same facts (the same ingredients and oven times, the same commands, the same
specifications), and the publisher's own other texts in the same house template, whose fixed lines (headings,
a standfirst, a sign-off, a disclaimer) are word for word the same on every page. Both were written blind, from a
brief (briefs/), by writers who never saw the tracked text; a third non-copy, a response that quotes the tracked
text briefly with credit, was written by one who did. The copies are a scraper's verbatim republication in its own
page furniture, a spinner's synonym swap, a content farm's rewrite, a round-trip translation and another writer's
post pasting about 30% of the text in unmarked.

The originals are tracked into a temporary store with `provmon track --json orig/` and the cases checked with
`provmon check --json cases/`, as a user runs them; each answer is compared with expected.toml. Prints a table by
kind of case and by genre, then the evidence of every false alarm and what compare() makes of every missed copy
(bench/hardnon.py's diagnosis). Writes bench/results/genre.json (genre_semantic.json with --semantic).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    NOT,
    ROOT,
    case_results,
    closeness_table,
    kind_summary,
    kind_table,
    table,
    totals,
    write,
)
from hardnon import pairs_of, print_miss, print_pairs, run_corpus, semantic_checked, semantic_options, wrapped
from heldout import closeness_row, measures, rounded

sys.path.insert(0, str(ROOT))

from monitor.config import MatchSettings

CORPUS = Path(__file__).resolve().parent / "genre_corpus"
# the case file's first letter: (kind, is a copy)
KINDS = {"a": ("scraped whole, in a scraper's page", True), "b": ("spun (synonyms)", True), "c": ("rewrite", True),
         "d": ("round-trip translation", True), "e": ("30% pasted into another post", True),
         "f": ("other writer, same subject, written blind", False),
         "g": ("same house template, other subject, written blind", False),
         "h": ("a response quoting it briefly, with credit", False)}


def kind_of(case: str) -> str:
    return Path(case).name[0]


def genre_of(case: str) -> str:
    return case.split("/")[1]


def closeness(originals: dict[str, Path], files: dict[str, Path], mc: MatchSettings) -> list[dict]:
    """bench/heldout.py's closeness measures per kind of case, against the page's own original."""
    out = []
    for letter, (name, _) in KINDS.items():
        rows = [measures(originals[genre_of(case)].read_text(encoding="utf-8"), path.read_text(encoding="utf-8"), mc)
                for case, path in sorted(files.items()) if kind_of(case) == letter]
        if rows:
            out.append(closeness_row(f"{letter} {name}", rows))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    semantic_options(ap)
    args = ap.parse_args()
    semantic_checked(ap, args)
    t_start = time.perf_counter()
    expected, originals, files, article, answers, check_seconds = run_corpus(
        args, CORPUS, KINDS, kind_of, "a-e copies, f-h non-copies")
    mc = MatchSettings()

    results = case_results(expected, answers, article, KINDS)
    summary = kind_summary(results, KINDS, originals)
    mode = "copy rule + embedding verifier" if args.semantic else "copy rule"
    print(f"{mode}; check --json cases/: {len(answers)} pages in {check_seconds:.2f} s (process start included)\n")
    print(kind_table(summary))
    by_genre = []
    for key, path in originals.items():
        rs = [r for r in results if genre_of(r["file"]) == key]
        copies = [r for r in rs if r["expected"] != NOT]
        by_genre.append({"original": path.name, "copies": len(copies),
                         "copies_found": sum(r["verdict"] == "ok" for r in copies),
                         "missed": sorted(Path(r["file"]).stem for r in copies if r["verdict"] != "ok"),
                         "non_copies": len(rs) - len(copies),
                         "false_alarms": sorted(Path(r["file"]).stem for r in rs if r["expected"] == NOT
                                                and r["verdict"] != "ok")})
    print("\nBy genre")
    print(table([[g["original"], f"{g['copies_found']}/{g['copies']}", ", ".join(g["missed"]) or "-",
                  f"{len(g['false_alarms'])}/{g['non_copies']}", ", ".join(g["false_alarms"]) or "-"]
                 for g in by_genre], ["original", "copies found", "missed", "false alarms", "non-copies flagged"]))
    summary_totals = totals(results)

    diagnosis: dict[str, dict] = {}
    for r in results:
        if r["verdict"] == "ok":
            continue
        page = files[r["file"]].read_text(encoding="utf-8")
        art = originals[genre_of(r["file"])].read_text(encoding="utf-8")
        print(f"\n=== {r['verdict']}: {r['file']} (expected: {r['expected']})")
        if r["verdict"] == "MISSED":
            diagnosis[r["file"]] = print_miss(art, page, mc)
            continue
        for m in r["matches"]:
            print(f"  reported: {m['kind']} copy of {m['original']}, coverage {m['coverage']:.3f}, page share "
                  f"{m['page_share']:.3f}, longest verbatim run {m['longest_run']} words")
            other = (CORPUS / "orig" / m["original"]).read_text(encoding="utf-8")
            passages = pairs_of(other, page, mc)
            diagnosis.setdefault(r["file"], {})[m["original"]] = {
                "evidence": [ps for ps in passages if ps["evidence"] or ps["in_verbatim_chain"]]}
            print("  the sentence pairs of the evidence (compare() on the two texts directly):")
            print_pairs(passages, only_evidence=True)
            if not passages:
                print(wrapped("  page:", page[:400]))

    print("\nCloseness to the page's own original (median, range; default match settings; bench/heldout.py's "
          "measures)")
    close = closeness(originals, files, mc)
    print(closeness_table(close))
    by_kind_count = Counter(kind_of(c) for c in expected)
    out = write("genre" + ("_semantic" if args.semantic else "") + ".json",
                {"mode": mode, "totals": summary_totals, "by_kind": summary, "by_genre": by_genre,
                 "files_per_kind": dict(sorted(by_kind_count.items())), "check_seconds": round(check_seconds, 2),
                 "closeness": rounded(close), "cases": results, "diagnosis": diagnosis})
    print(f"\nwrote {out.relative_to(ROOT)} ({time.perf_counter() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
