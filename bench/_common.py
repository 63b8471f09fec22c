"""Shared helpers for the detection quality benches (datasets are read in place, never copied)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
NOT = "not"  # the expected answer of a non-copy in the audit and held-out corpora


BASIL = DATASETS / "basil-same-event-news" / "articles"


def basil_articles() -> list[tuple[str, str, str]]:
    """(file URI, triplet id, body) of each BASIL article, paragraphs separated by blank lines (as
    bench/detect_quality.py reads them)."""
    out = []
    for f in sorted(BASIL.glob("*/*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        body = "\n\n".join(" ".join(p) for p in d["body-paragraphs"])
        out.append((f.resolve().as_uri(), d["triplet-uuid"], body))
    return out


def need(path: Path) -> None:
    """Exit cleanly with a message when a dataset is absent."""
    if not path.exists():
        print(f"skipped: {path} is absent")
        sys.exit(0)


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def table(rows: list[list[object]], header: list[str]) -> str:
    cells = [[str(c) for c in header]] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def write(name: str, data: dict, missing: list[str] | None = None) -> Path:
    """bench/results/`name` holds `data`; when parts of the run were left out (`missing`: what, e.g. a dataset
    that is absent), the results go to `name` with a `.partial` suffix, so a run without ../shared/datasets, or a
    narrowed one, does not overwrite the committed numbers of a full run."""
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / name
    if missing:
        out = out.with_suffix(".partial" + out.suffix)
        print(f"not a full run (left out: {', '.join(missing)}): results written to {out}, not {RESULTS / name}")
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    return out


def provmon(config: Path, *args: str) -> list[dict]:
    """Run the CLI of this tree, as a user would; its JSON lines (exits on a failure, naming the command)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    if proc.returncode not in ((0, 1) if args[0] == "check" else (0,)):
        sys.exit(f"provmon {args[0]} failed with status {proc.returncode}:\n{proc.stderr}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def verdict(expected: str, got: list[str]) -> str:
    """One case of a corpus with expected answers: `expected` is an original's file name or NOT, `got` the
    originals the check matched."""
    if expected == NOT:
        return "ok" if not got else "FALSE ALARM"
    if not got:
        return "MISSED"
    if set(got) == {expected}:
        return "ok"
    return "EXTRA MATCH" if expected in got else "WRONG ARTICLE"


def totals(results: list[dict]) -> dict:
    """The counts over all cases (each a dict with "expected" and "verdict"), printed as one line."""
    count = Counter(r["verdict"] for r in results)
    copies = [r for r in results if r["expected"] != NOT]
    t = {"files": len(results), "right": count["ok"], "copies": len(copies),
         "copies_found": sum(r["verdict"] == "ok" for r in copies), "missed": count["MISSED"],
         "non_copies": len(results) - len(copies), "false_alarms": count["FALSE ALARM"],
         "wrong_matches": count["EXTRA MATCH"] + count["WRONG ARTICLE"], "errors": count["ERROR"]}
    print(f"\n{t['right']} of {t['files']} files right: {t['copies_found']} of {t['copies']} copies found "
          f"({t['missed']} missed), {t['false_alarms']} false alarms in {t['non_copies']} non-copies, "
          f"{t['wrong_matches']} wrong or extra matches, {t['errors']} errors")
    return t


def misnamed(expected: dict[str, str], kinds: dict[str, tuple[str, bool]], kind_of: Callable[[str], str]) -> list[str]:
    """Case files whose name does not say their kind, or says a kind of copy for a non-copy (or the reverse)."""
    return [c for c in expected if kind_of(c) not in kinds or kinds[kind_of(c)][1] != (expected[c] != NOT)]


def closeness_table(close: list[dict]) -> str:
    """The table of bench/heldout.py's closeness measures, one row per kind of text (heldout.closeness_row)."""
    rng = "{median:.2f} ({min:.2f}-{max:.2f})"
    return table([[c["texts"], c["n"], rng.format(**c["trigram_share"]),
                   f"{c['longest_run']['median']:.0f} ({c['longest_run']['min']}-{c['longest_run']['max']})",
                   rng.format(**c["strong_sentences"]), c["compare_flags"]] for c in close],
                 ["texts", "n", "page 3-grams in article", "longest common run, words",
                  "page sentences strongly aligned", "compare() flags"])


def corpus_cases(corpus: Path) -> tuple[dict[str, str], dict[str, Path], dict[str, Path]]:
    """A corpus laid out as orig/, cases/ and expected.toml (the held-out and hard corpora): each case's expected
    answer, each original by its id (the file name's part before "_"), and each case file by its name under the
    corpus; exits naming what disagrees."""
    expected: dict[str, str] = tomllib.loads((corpus / "expected.toml").read_text(encoding="utf-8"))["cases"]
    originals = {p.name.split("_")[0]: p for p in sorted((corpus / "orig").glob("*.txt"))}
    names = {p.name for p in originals.values()}
    if bad := {c: e for c, e in expected.items() if e != NOT and e not in names}:
        sys.exit(f"expected.toml names originals that are not in orig/: {bad}")
    files = {p.relative_to(corpus).as_posix(): p for p in sorted((corpus / "cases").rglob("*")) if p.is_file()}
    if set(files) != set(expected):
        sys.exit(f"expected.toml and the corpus disagree: no answer for {sorted(set(files) - set(expected))}, "
                 f"no file for {sorted(set(expected) - set(files))}")
    return expected, originals, files


def track_and_check(corpus: Path, originals: int, files: dict[str, Path],
                    config_extra: str = "", references: list[Path] | None = None) -> tuple[dict[int, str], dict, float]:
    """As a user runs them, in a temporary store: `provmon track --json` of corpus/orig, then `provmon check --json`
    of corpus/cases, with `config_extra` (TOML sections, e.g. [semantic]) in the config; `references` are tracked
    first with `provmon track --reference`. The tracked articles' file names by id, each case's answer by its name
    (the keys of `files`), and the seconds the check took."""
    with tempfile.TemporaryDirectory(prefix=f"provmon-{corpus.name}-") as tmp:
        work = Path(tmp)
        config = work / "config.toml"
        config.write_text(f"[monitor]\ndatabase = {json.dumps(str(work / 'bench.db'))}\n\n{config_extra}",
                          encoding="utf-8")
        if references:
            provmon(config, "track", "--json", "--reference", *map(str, references))
        tracked = provmon(config, "track", "--json", str(corpus / "orig"))
        article = {t["id"]: Path(t["url"]).name for t in tracked if "id" in t}  # the url's last segment: file name
        if len(article) != originals:
            sys.exit(f"tracked {len(article)} articles from {originals} originals: {tracked}")
        t0 = time.perf_counter()
        checked = provmon(config, "check", "--json", str(corpus / "cases"))
        seconds = time.perf_counter() - t0
    by_url = {p.resolve().as_uri(): c for c, p in files.items()}
    return article, {by_url.get(r["url"], r["url"]): r for r in checked}, seconds


def span(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def case_results(expected: dict[str, str], answers: dict, article: dict[int, str],
                 kinds: dict[str, tuple[str, bool]]) -> list[dict]:
    """Each case's verdict from `check --json`'s answers (track_and_check), its kind named by the first letter of
    its file name (`kinds`: letter -> (kind, is a copy)), with the matches reported (original, kind, shares)."""
    results = []
    for case in sorted(expected):
        exp, r = expected[case], answers.get(case, {"error": "no answer"})
        matches = [{"original": article[c["article"]["id"]], "kind": c["kind"], "coverage": c["coverage"],
                    "page_share": c["page_share"], "longest_run": c["longest_run"], "passages": len(c["passages"])}
                   for c in r.get("copies", [])]
        v = "ERROR" if "error" in r else verdict(exp, [m["original"] for m in matches])
        results.append({"file": case, "expected": exp, "kind": kinds[Path(case).name[0]][0], "matches": matches,
                        "verdict": v, **({"error": r["error"]} if "error" in r else {})})
    return results


def kind_table(summary: list[dict]) -> str:
    """kind_summary's rows as the table the blind and genre benches print."""
    return table([[s["kind"], s["case"], f"{s['found']}/{s['files']}" if s["case"] == "copy" else "-",
                   f"{s['false_alarms']}/{s['files']}" if s["case"] == "not" else "-", s["wrong_matches"],
                   ", ".join(f"{n} {k}" for k, n in s["match_kinds"].items()) or "-", s["coverage"], s["page_share"]]
                  for s in summary],
                 ["kind", "case", "found", "false alarms", "wrong matches", "kinds reported", "coverage", "page share"])


def kind_summary(results: list[dict], kinds: dict[str, tuple[str, bool]], originals: dict[str, Path]) -> list[dict]:
    """Per kind of case: found (a copy matched to its original and no other), missed, false alarms, wrong matches,
    and the kinds and share ranges of the matches to the page's own original (cases/<original id>/FILE)."""
    summary = []
    for letter, (name, is_copy) in kinds.items():
        rs = [r for r in results if r["kind"] == name]
        count = Counter(r["verdict"] for r in rs)
        own = [m for r in rs for m in r["matches"] if m["original"] == originals[r["file"].split("/")[1]].name]
        summary.append({"kind": f"{letter} {name}", "case": "copy" if is_copy else "not", "files": len(rs),
                        "found": count["ok"] if is_copy else None, "missed": count["MISSED"],
                        "false_alarms": count["FALSE ALARM"], "wrong_matches": count["EXTRA MATCH"]
                        + count["WRONG ARTICLE"], "errors": count["ERROR"],
                        "match_kinds": dict(sorted(Counter(m["kind"] for m in own).items())),
                        "coverage": span([m["coverage"] for m in own]),
                        "page_share": span([m["page_share"] for m in own])})
    return summary
