"""Optional second stage: a sentence-embedding verifier for spun copies that the lexical rule misses.

Only imported when `[semantic] enabled = true` (the core never needs it). When `compare()` rejects a
candidate the index found, both texts' sentences are embedded and aligned one to one by cosine
similarity, and the same kind of explicit copy rule as the core decides (docs/semantic.md):

1. Pairs: sentences with at least `min_words` content words; the highest-cosine pairs are taken first,
   each sentence at most once. A pair is strong at cosine >= `similarity`, weak at `weak_similarity`.
2. Passages: pairs that follow each other in the page, with at most `gap` unaligned page sentences
   between them; with `article_order`, also in the article (as the core does). A passage needs a strong
   pair (weak pairs only extend one). Without `article_order` a rewrite that retells the article's
   sentences in its own order still forms a run, which is what the lexical rule misses most.
3. Evidence: a passage holding >= `min_run` narrative article sentences. A pair is narrative by the core's
   rules (`narrative`, docs/detection.md step 3 and "Formulaic news"): strong, not mostly quotation (quotation
   marks, or a paragraph quoted as a block after a lead-in; on a page that is mostly quotation only the
   article's own quotes count), and not a lead-in, a line of data or two sentences stating other numbers.
   Independent reports of one topic say similar things one sentence at a time and share quotes, statements,
   official data and templates; copies reproduce ordered runs of narrative.
4. Decision: the evidence holds >= `min_passages` narrative sentences and covers >= `min_coverage` of
   the article (quoted sentences weigh `match.quote_weight`), or >= `min_page_share` of the page.

The model is loaded lazily, offline only (HF_HUB_OFFLINE=1, local_files_only), from an installed
package that ships it or from a local directory, and is held by the SemanticVerifier its caller owns.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from monitor.config import MatchSettings, SemanticSettings
from monitor.match import Match, Passage, Prepared, components, longest_run, own_telling, quoted_share
from monitor.text import Sentence

if TYPE_CHECKING:
    import numpy as np


class SemanticUnavailable(Exception):
    """[semantic] is enabled but its packages or its model cannot be loaded; the message says which key."""


class Embedder(Protocol):
    """Turns sentences into unit-length vectors (one row per sentence)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


# -- the model ---------------------------------------------------------------------------------------------
_MARKERS = ("modules.json", "config.json", "model.onnx")


def model_dir(model: str, base_dir: Path | None = None) -> Path:
    """The directory holding the model: `model` is a directory (relative to the config file) or the import
    name of an installed package that ships one (in the package folder or its `model/` subfolder).
    The package is located, never imported: its code is not needed to read its files."""
    path = Path(os.path.expanduser(model))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_dir():
        return path
    try:
        spec = importlib.util.find_spec(model) if model.isidentifier() else None
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SemanticUnavailable(f"'semantic.model' = {model!r} is neither a directory nor an installed package; "
                                  "install one (pip install 'provenance-monitor[semantic]') or set a directory")
    root = Path(next(iter(spec.submodule_search_locations)))
    for candidate in (root / "model", root):
        if any((candidate / m).exists() for m in _MARKERS):
            return candidate
    raise SemanticUnavailable(f"'semantic.model': package {model!r} ({root}) holds no model files")


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 and friends through sentence-transformers (PyTorch, CPU)."""

    def __init__(self, path: Path, batch_size: int = 32) -> None:
        # Offline only: never let transformers or the hub client reach for the network.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise SemanticUnavailable(f"'semantic.enabled' is true but sentence-transformers is not installed ({exc}); "
                                      "pip install torch==2.13.0 'provenance-monitor[semantic]'") from None
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)


class OnnxEmbedder:
    """The same kind of model exported to ONNX, run by onnxruntime with a tokenizers tokenizer.json: no PyTorch.
    Mean pooling over tokens, then unit length (what sentence-transformers does for MiniLM models)."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, batch_size: int = 32, max_tokens: int = 256) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise SemanticUnavailable(f"'semantic.backend' is onnx but a package is missing ({exc}); "
                                      "pip install onnxruntime tokenizers") from None
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = min(2, os.cpu_count() or 1)
        self.session = onnxruntime.InferenceSession(str(onnx_file), opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        out = []
        for k in range(0, len(texts), self.batch_size):
            enc = self.tokenizer.encode_batch(list(texts[k:k + self.batch_size]))
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, {n: v for n, v in feed.items() if n in self.inputs})[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)


def load_embedder(settings: SemanticSettings, base_dir: Path | None = None) -> Embedder:
    path = model_dir(settings.model, base_dir)
    if settings.backend == "onnx":
        onnx = path if path.is_file() else next(iter(sorted(path.glob("*.onnx"))), path / "model.onnx")
        tok = Path(os.path.expanduser(settings.tokenizer)) if settings.tokenizer else path
        if not tok.is_absolute() and base_dir is not None:
            tok = base_dir / tok
        if tok.is_dir():
            tok = tok / "tokenizer.json"
        if not onnx.exists() or not tok.exists():
            raise SemanticUnavailable(f"'semantic.model'/'semantic.tokenizer': need an .onnx file and tokenizer.json "
                                      f"(looked for {onnx} and {tok})")
        return OnnxEmbedder(onnx, tok)
    return SentenceTransformerEmbedder(path)


# -- the copy rule on embeddings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pair:
    i: int  # article sentence
    j: int  # page sentence
    sim: float
    strong: bool


def _content_words(s: Sentence) -> int:
    return sum(t.content for t in s.tokens)


def _pairs(sims: np.ndarray, a_ok: list[int], p_ok: list[int], cfg: SemanticSettings) -> list[_Pair]:
    """One-to-one: the most similar pairs first, each sentence used once (greedy matching)."""
    import numpy as np

    if not a_ok or not p_ok:
        return []
    sub = sims[np.ix_(a_ok, p_ok)]
    ii, jj = np.nonzero(sub >= cfg.weak_similarity)
    order = np.argsort(-sub[ii, jj], kind="stable")
    used_a: set[int] = set()
    used_p: set[int] = set()
    out = []
    for k in order:
        i, j = a_ok[ii[k]], p_ok[jj[k]]
        if i in used_a or j in used_p:
            continue
        used_a.add(i)
        used_p.add(j)
        sim = float(sub[ii[k], jj[k]])
        out.append(_Pair(i, j, sim, sim >= cfg.similarity))
    return out


def _groups(pairs: list[_Pair], gap: int, ordered: bool) -> list[list[_Pair]]:
    """Pairs that follow each other in the page (within `gap` skipped sentences) form a passage; with
    `ordered`, only when they also follow each other in the article. A passage needs a strong pair."""
    pairs = sorted(pairs, key=lambda p: (p.j, p.i))

    def links() -> Iterator[tuple[int, int]]:
        for k, p in enumerate(pairs):
            for q in range(k - 1, -1, -1):
                o = pairs[q]
                if p.j - o.j > gap + 1:
                    break
                if p.j > o.j and (not ordered or 0 < p.i - o.i <= gap + 1):
                    yield q, k

    return [g for g in components(pairs, links()) if any(p.strong for p in g)]


def narrative(article: Prepared, i: int, page: Prepared, j: int) -> bool:
    """Whether article sentence i and page sentence j, paired by their embeddings, are narrative by the core's rules
    (`match._narrative`, docs/detection.md step 3): what independent texts share for a reason of their own is none.

    The quotation rule is read per sentence, as the pair shares meaning rather than words: neither sentence is mostly
    quotation (`quoted_share`: quotation marks, or a paragraph quoted as a block after a lead-in); on a page that is
    mostly quotation (`Prepared.mostly_quoted`, QUOTED_PAGE) only the article's quotes count, or a spinner would hide
    a copy in quotation marks. The rest is the core's own readings: a lead-in naming who speaks, a line of data (a
    team sheet, a table row) and two sentences stating other numbers (another instance of a template) are no
    narrative. The core's NARRATIVE_WORDS (content words shared) is not asked: a paraphrase shares meaning, not
    words; `min_words` keeps short sentences out instead."""
    a, b = article.sentences[i], page.sentences[j]
    if quoted_share(a) >= 0.5 or (not page.mostly_quoted and quoted_share(b) >= 0.5):
        return False
    return not own_telling(article, i, page, j)


def decide(article: Prepared, page: Prepared, sims: np.ndarray, cfg: SemanticSettings,
           match_cfg: MatchSettings) -> Match | None:
    """The copy rule on a cosine matrix (article sentences x page sentences)."""
    a_s, p_s = article.sentences, page.sentences
    a_ok = [i for i, s in enumerate(a_s) if _content_words(s) >= cfg.min_words]
    p_ok = [j for j, s in enumerate(p_s) if _content_words(s) >= cfg.min_words]
    told_by: dict[tuple[int, int], bool] = {}

    def told(p: _Pair) -> bool:
        if (p.i, p.j) not in told_by:  # asked once per pair; the readings are memoised in each Prepared
            told_by[p.i, p.j] = p.strong and narrative(article, p.i, page, p.j)
        return told_by[p.i, p.j]

    groups = [g for g in _groups(_pairs(sims, a_ok, p_ok, cfg), cfg.gap, cfg.article_order)
              if len({p.i for p in g if told(p)}) >= cfg.min_run]
    told_sents = {p.i for g in groups for p in g if told(p)}
    if len(told_sents) < cfg.min_passages:
        return None

    def length(s: Sentence) -> int:
        return s.end - s.start

    def weight(s: Sentence) -> float:
        return length(s) * (1 - (1 - match_cfg.quote_weight) * quoted_share(s))

    a_idx = {p.i for g in groups for p in g}
    p_idx = {p.j for g in groups for p in g}
    cov = sum(weight(a_s[i]) for i in a_idx) / (sum(weight(s) for s in a_s) or 1.0)
    share = sum(weight(p_s[j]) for j in p_idx) / (sum(weight(s) for s in p_s) or 1.0)
    if cov < cfg.min_coverage and share < cfg.min_page_share:
        return None
    passages = sorted((Passage(
        article_start=min(a_s[p.i].start for p in g), article_end=max(a_s[p.i].end for p in g),
        page_start=min(p_s[p.j].start for p in g), page_end=max(p_s[p.j].end for p in g),
        score=round(sum(p.sim for p in g) / len(g), 3), verbatim=False) for g in groups), key=lambda x: x.page_start)
    pairs = [p for g in groups for p in g]
    return Match(
        kind="paraphrased",
        coverage=round(min(sum(length(a_s[i]) for i in a_idx) / article.chars, 1.0), 3),
        page_share=round(min(sum(length(p_s[j]) for j in p_idx) / page.chars, 1.0), 3),
        longest_run=longest_run(article, page, passages),
        score=round(sum(p.sim for p in pairs) / len(pairs), 3),
        passages=tuple(passages),
        weighted_coverage=round(min(cov, 1.0), 3),
        weighted_page_share=round(min(share, 1.0), 3),
    )


# -- the verifier the caller owns -------------------------------------------------------------------------
class SemanticVerifier:
    """Holds the (lazily loaded) model and a small cache of sentence embeddings; safe to share between threads."""

    def __init__(self, settings: SemanticSettings, match: MatchSettings, base_dir: Path | None = None,
                 embedder: Embedder | None = None, cache_size: int = 256) -> None:
        self.settings = settings
        self.match = match
        self.base_dir = base_dir
        self._embedder = embedder
        self._lock = threading.Lock()  # one encode at a time: the model already uses both cores
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self.load_seconds = 0.0

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                import time

                t = time.perf_counter()
                self._embedder = load_embedder(self.settings, self.base_dir)
                self.load_seconds = time.perf_counter() - t
            return self._embedder

    def embed(self, prepared: Prepared) -> np.ndarray:
        """Sentence vectors of a text, cached by its content (tracked articles are embedded once)."""
        key = hashlib.sha256(prepared.text.encode("utf-8", "surrogatepass")).hexdigest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        embedder = self.embedder
        texts = [" ".join(prepared.text[s.start:s.end].split()) for s in prepared.sentences]
        with self._lock:
            vecs = embedder.encode(texts)
            self._cache[key] = vecs
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vecs

    def verify(self, article: Prepared, page: Prepared) -> Match | None:
        """A paraphrased-copy match the embeddings support, or None."""
        if not article.sentences or not page.sentences:
            return None
        sims = self.embed(article) @ self.embed(page).T
        return decide(article, page, sims, self.settings, self.match)

