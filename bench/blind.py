"""The blind corpus: 10 tracked news articles, their copies, and reports of the same events written blind.

    PYTHONPATH=. python bench/blind.py
    PYTHONPATH=. python bench/blind.py --references
    PYTHONPATH=. /work/.venv-sem/bin/python bench/blind.py --semantic --tokenizer FILE [--model NAME]

Written for this project in session 18 (2026-11-22) for measurement only, and used to tune nothing
(bench/blind_corpus/README.md). Unlike the held-out corpus, whose "independent" reports were written by the writer
of the originals from a list of the originals' facts, here a fact sheet of each fictional event came first
(facts/), and three writers who never saw each other's work each wrote a story from it: the tracked original
(orig/), an agency's wire story (cases/bNN/e_wire.txt) and a local weekly's story (cases/bNN/f_local.txt). The
three were written from the sheet's names, numbers, quotes and official statement, as real same-event reports are,
and from nothing else. Two more writers, given only the originals, made the copies: a spinner's synonym swap, a
content farm's rewrite, a round-trip translation and a blog post embedding about 30% of the article.

The originals are tracked into a temporary store with `provmon track --json orig/` and the cases checked with
`provmon check --json cases/`, as a user runs them; each answer is compared with expected.toml. Then every ordered
pair of the three blind reports of one event (original, wire, local: 6 per event) goes to the copy rule directly
(compare(), and with --semantic the verifier behind it, as scan.decide does), since any of them could be the
tracked one. The closeness table compares the blind reports with real same-event reports (BASIL, when
../shared/datasets is present) and with the held-out corpus's "independent" reports: the anchor that says
whether these are realistic. Writes bench/results/blind.json (blind_semantic.json with --semantic,
blind_references.json with --references, which tracks the fact sheets as reference texts first).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BASIL,
    ROOT,
    case_results,
    kind_summary,
    kind_table,
    read_text,
    table,
    totals,
    write,
)
from hardnon import run_corpus, semantic_checked, semantic_options
from heldout import closeness_row, measures, present, rounded, words

sys.path.insert(0, str(ROOT))

from monitor import match as M
from monitor.config import MatchSettings, parse_config
from monitor.scan import decide, make_verifier
from monitor.text import quoted_spans

if TYPE_CHECKING:
    from monitor.semantic import SemanticVerifier

CORPUS = Path(__file__).resolve().parent / "blind_corpus"
HELDOUT = Path(__file__).resolve().parent / "heldout_corpus"
# the case file's first letter: (kind, is a copy)
KINDS = {"a": ("spun (synonyms)", True), "b": ("rewrite", True), "c": ("round-trip translation", True),
         "d": ("30% excerpt in a blog post", True), "e": ("wire story, written blind", False),
         "f": ("local story, written blind", False)}
BLIND = {"orig": "original", "e": "wire", "f": "local"}


def kind_of(case: str) -> str:
    return Path(case).name[0]


def event_of(case: str) -> str:
    return case.split("/")[1]


def blind_reports(originals: dict[str, Path], files: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Each event's three blind reports by who wrote them: original, wire, local."""
    out: dict[str, dict[str, str]] = {}
    for event, orig in originals.items():
        out[event] = {"original": orig.read_text(encoding="utf-8")}
    for case, path in files.items():
        if kind_of(case) in ("e", "f"):
            out[event_of(case)][BLIND[kind_of(case)]] = path.read_text(encoding="utf-8")
    return out


def pairwise(reports: dict[str, dict[str, str]], mc: MatchSettings,
             verifier: SemanticVerifier | None = None) -> list[dict]:
    """Every ordered pair of one event's blind reports through the copy rule (and the verifier behind it)."""
    out = []
    for event, texts in sorted(reports.items()):
        prepared = {who: M.Prepared.of(t) for who, t in texts.items()}
        for a, p in itertools.permutations(sorted(prepared), 2):
            m = decide(prepared[a], prepared[p], mc, verifier)
            core = M.compare(prepared[a], prepared[p], mc) is not None if verifier is not None else m is not None
            out.append({"event": event, "article": a, "page": p, "flagged": m is not None,
                        "by": None if m is None else ("copy rule" if core else "verifier"),
                        **({"kind": m.kind, "coverage": round(m.coverage, 3), "page_share": round(m.page_share, 3),
                            "longest_run": m.longest_run} if m is not None else {})})
    return out


def unquoted(text: str) -> str:
    """`text` without what is inside quotation marks (monitor.text.quoted_spans): the writer's own words."""
    for start, end in reversed(quoted_spans(text)):
        text = text[:start] + " " + text[end:]
    return text


def trigrams(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + 3]) for i in range(len(w) - 2)}


def narrative_share(article: str, page: str) -> float:
    """Share of the page's word 3-grams outside quotation marks found in the article outside quotation marks: how
    much of its own telling the page shares with the article, the quotes that independent reports share left out."""
    grams, p = trigrams(unquoted(article)), words(unquoted(page))
    page_grams = [tuple(p[i:i + 3]) for i in range(len(p) - 2)]
    return sum(g in grams for g in page_grams) / max(len(page_grams), 1)


def closeness(originals: dict[str, Path], files: dict[str, Path], mc: MatchSettings) -> list[dict]:
    """heldout.py's closeness measures, and the share of the page's own telling (outside quotation marks) that the
    article has too, for each kind of blind text and for the anchors: the held-out corpus's independent reports and
    BASIL's real same-event pairs."""
    def row(name: str, pairs: list[tuple[str, str]]) -> dict:
        own = [narrative_share(a, p) for a, p in pairs]
        return {**closeness_row(name, [measures(a, p, mc) for a, p in pairs]),
                "outside_quotes_trigram_share": {"median": statistics.median(own), "min": min(own), "max": max(own)}}

    def text(path: Path) -> str:
        return path.read_text(encoding="utf-8")

    out = []
    for letter in "abcef":  # not d: verbatim paragraphs in a blog post
        out.append(row(f"blind {letter} {KINDS[letter][0]}", [(text(originals[event_of(case)]), text(path))
                                                           for case, path in sorted(files.items())
                                                           if kind_of(case) == letter]))
    out.append(row("blind wire -> local (neither the original)",
                   [(text(path), text(files[case.replace("e_wire", "f_local")])) for case, path in sorted(files.items())
                    if kind_of(case) == "e" and case.replace("e_wire", "f_local") in files]))
    held = sorted((HELDOUT / "cases").glob("*/e_independent.txt"))
    if held:
        out.append(row("held-out e independent (not blind)",
                       [(text(next((HELDOUT / "orig").glob(f"{f.parent.name}_*.txt"))), text(f)) for f in held]))
    if present(BASIL):
        events: dict[str, list[str]] = {}
        for f in sorted(BASIL.glob("*/*.json")):
            d = json.loads(read_text(f))
            events.setdefault(d["triplet-uuid"], []).append("\n\n".join(" ".join(p) for p in d["body-paragraphs"]))
        pairs = [(a, p) for arts in events.values() for a, p in itertools.permutations(arts, 2)]
        if pairs:
            out.append(row("BASIL same-event pairs (real outlets, both directions)", pairs))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    semantic_options(ap)
    ap.add_argument("--references", action="store_true", help="track the fact sheets (facts/) as reference texts "
                    "first (`provmon track --reference`): the source material every story of an event was written from")
    args = ap.parse_args()
    semantic_checked(ap, args)
    t_start = time.perf_counter()
    refs = sorted((CORPUS / "facts").glob("*.md")) if args.references else None
    expected, originals, files, article, answers, check_seconds = run_corpus(
        args, CORPUS, KINDS, kind_of, "a-d copies, e-f non-copies", references=refs)
    mc = MatchSettings()

    results = case_results(expected, answers, article, KINDS)
    summary = kind_summary(results, KINDS, originals)
    mode = ("copy rule + embedding verifier" if args.semantic else "copy rule") + (
        ", fact sheets tracked as references" if args.references else "")
    print(f"{mode}; check --json cases/: {len(answers)} pages in {check_seconds:.2f} s (process start included)\n")
    print(kind_table(summary))
    summary_totals = totals(results)
    for r in results:
        if r["verdict"] != "ok":
            got = "; ".join(f"{m['original']} {m['kind']} {m['coverage']:.2f}/{m['page_share']:.2f}"
                            for m in r["matches"])
            print(f"  {r['verdict']}: {r['file']}" + (f" ({got})" if got else ""))

    verifier = None
    if args.semantic:
        cfg = parse_config({"semantic": {"enabled": True, "backend": "onnx", "model": args.model,
                                         "tokenizer": str(Path(args.tokenizer).resolve())}}, ROOT / "blind.toml")
        verifier = make_verifier(cfg)
    # compare() and the verifier alone: a reference text discounts shared sentences in the store's find_copies only
    pairs = [] if args.references else pairwise(blind_reports(originals, files), mc, verifier)
    flagged = [p for p in pairs if p["flagged"]]
    if pairs:
        print(f"\nBlind reports of one event against each other (original, wire, local; every ordered pair, {mode}): "
              f"{len(flagged)} of {len(pairs)} flagged")
    for p in flagged:
        print(f"  {p['event']}: {p['page']} as a copy of {p['article']} ({p['by']}): {p['kind']} "
              f"{p['coverage']:.2f} of the article, {p['page_share']:.2f} of the page, longest run {p['longest_run']}")

    print("\nCloseness to the original (median, range; default match settings)")
    close = closeness(originals, files, mc)
    rng = "{median:.2f} ({min:.2f}-{max:.2f})"
    print(table([[c["texts"], c["n"], rng.format(**c["trigram_share"]),
                  f"{c['longest_run']['median']:.0f} ({c['longest_run']['min']}-{c['longest_run']['max']})",
                  rng.format(**c["outside_quotes_trigram_share"]), rng.format(**c["strong_sentences"]),
                  c["compare_flags"]] for c in close],
                ["texts", "n", "page 3-grams in article", "longest common run, words", "the same outside quotes",
                 "page sentences strongly aligned", "compare() flags"]))
    from_sheet = {}
    for letter in "ef":  # the writers' shared telling: how much of it is the fact sheet's own words
        shares = []
        for case, path in sorted(files.items()):
            if kind_of(case) == letter:
                a, p = (trigrams(unquoted(text)) for text in (originals[event_of(case)].read_text(encoding="utf-8"),
                                                               path.read_text(encoding="utf-8")))
                sheet = trigrams((CORPUS / "facts" / f"{event_of(case)}.md").read_text(encoding="utf-8"))
                shares.append(len(a & p & sheet) / max(len(a & p), 1))
        from_sheet[KINDS[letter][0]] = {"median": statistics.median(shares), "min": min(shares), "max": max(shares)}
        print(f"{KINDS[letter][0]}: of the distinct 3-grams it shares with the original outside quotation marks, "
              f"{statistics.median(shares):.2f} (median; {min(shares):.2f}-{max(shares):.2f}) are in the fact sheet")
    out = write("blind" + ("_semantic" if args.semantic else "") + ("_references" if args.references else "") + ".json",
                {"mode": mode, "totals": summary_totals, "by_kind": summary, "check_seconds": round(check_seconds, 2),
                 "blind_pairs": {"pairs": len(pairs), "flagged": len(flagged), "details": flagged},
                 "closeness": rounded(close), "shared_telling_in_fact_sheet": rounded(from_sheet), "cases": results})
    print(f"\nwrote {out.relative_to(ROOT)} ({time.perf_counter() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
