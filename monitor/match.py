"""Decide whether a page copies an article, how, and with which passages as evidence.

The copy rule (configurable in [match], documented in README "How detection works"):
1. Both texts are cut into sentences. A page sentence and an article sentence are *aligned* when
   their content words (stop words dropped, lightly stemmed) overlap with a Dice score of at
   least `sentence_similarity` and share at least three content words.
2. The evidence is the best *ordered* chain of aligned pairs (both texts read forward), found by
   dynamic programming. Moved paragraphs outside the chain do not count.
3. The page is a copy when the chain has at least `min_passages` pairs and covers at least
   `min_coverage` of the article's characters. Sentences that are mostly quotation count only
   `quote_weight` towards that coverage: independent reports of one event share quotes, names and
   numbers, but not the narrative around them in the same order.
4. Kind: pairs whose word 3-grams are at least `verbatim_similarity` shared are verbatim. When most
   of the chain is verbatim the copy is `verbatim` if it covers `verbatim_coverage` of the article,
   else `partial`; otherwise it is `paraphrased`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from typing import Any

from monitor.config import MatchSettings
from monitor.text import Sentence, Token, sentences, tokens


@dataclass(frozen=True)
class Passage:
    """One aligned stretch: character offsets into the article and into the page."""

    article_start: int
    article_end: int
    page_start: int
    page_end: int
    score: float
    verbatim: bool


@dataclass(frozen=True)
class Match:
    kind: str  # verbatim | partial | paraphrased
    coverage: float  # share of the article's text reproduced
    page_share: float  # share of the page's text that comes from the article
    longest_run: int  # longest verbatim run, in words
    score: float  # mean similarity of the aligned sentences
    passages: tuple[Passage, ...]

    def to_dict(self, article_text: str | None = None, page_text: str | None = None) -> dict[str, Any]:
        """As a dict; given both texts, each passage also carries the text it points at."""
        d = asdict(self)
        d["passages"] = [asdict(p) for p in self.passages]
        if article_text is not None and page_text is not None:
            for p in d["passages"]:
                p["article_text"] = article_text[p["article_start"]:p["article_end"]]
                p["page_text"] = page_text[p["page_start"]:p["page_end"]]
        return d


@dataclass(frozen=True)
class Prepared:
    """A text cut into sentences once, so it can be compared with many others."""

    text: str
    tokens: tuple[Token, ...]
    sentences: tuple[Sentence, ...]

    @classmethod
    def of(cls, text: str) -> Prepared:
        toks = tokens(text)
        return cls(text, tuple(toks), tuple(sentences(text, toks)))

    @property
    def chars(self) -> int:
        return sum(s.end - s.start for s in self.sentences) or 1


@dataclass(frozen=True)
class _Pair:
    i: int  # article sentence
    j: int  # page sentence
    sim: float
    exact: float


def _trigrams(s: Sentence) -> set[tuple[str, ...]]:
    w = [t.word for t in s.tokens]
    if len(w) < 3:
        return {tuple(w)} if w else set()
    return {tuple(w[k: k + 3]) for k in range(len(w) - 2)}


def _content_seq(s: Sentence) -> list[str]:
    return [t.stem for t in s.tokens if t.content]


def _ordered_dice(a: list[str], b: list[str]) -> float:
    """Dice coefficient over the longest common subsequence of content words: in-order overlap."""
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return 2 * prev[-1] / (len(a) + len(b))


def _quoted_share(s: Sentence) -> float:
    content = [t for t in s.tokens if t.content]
    return sum(t.quoted for t in content) / len(content) if content else 0.0


def _pairs(article: Prepared, page: Prepared, cfg: MatchSettings) -> list[_Pair]:
    a_sets = [s.content for s in article.sentences]
    p_sets = [s.content for s in page.sentences]
    a_seqs = [_content_seq(s) for s in article.sentences]
    p_seqs = [_content_seq(s) for s in page.sentences]
    by_word: dict[str, list[int]] = {}
    for i, ws in enumerate(a_sets):
        for w in ws:
            by_word.setdefault(w, []).append(i)
    pairs: list[_Pair] = []
    for j, pw in enumerate(p_sets):
        shared: dict[int, int] = {}
        for w in pw:
            for i in by_word.get(w, ()):
                shared[i] = shared.get(i, 0) + 1
        for i, n in shared.items():
            if n < 2 or 2 * n / (len(a_sets[i]) + len(pw)) < cfg.sentence_similarity:
                continue
            sim = _ordered_dice(a_seqs[i], p_seqs[j])
            if sim < cfg.sentence_similarity:
                continue
            at = _trigrams(article.sentences[i])
            exact = len(at & _trigrams(page.sentences[j])) / len(at) if at else 0.0
            # Short sentences ("Both will take time.") align only when copied word for word.
            if n >= 3 or exact >= cfg.verbatim_similarity:
                pairs.append(_Pair(i, j, sim, exact))
    return pairs


def _chain(pairs: list[_Pair], weight: list[float]) -> list[_Pair]:
    """Heaviest chain of pairs increasing in both texts (one sentence may pair with a split half)."""
    if not pairs:
        return []
    pairs = sorted(pairs, key=lambda p: (p.j, p.i))
    best = [0.0] * len(pairs)
    prev = [-1] * len(pairs)
    for k, p in enumerate(pairs):
        gain = weight[p.i] * p.sim
        best[k] = gain
        for q in range(k):
            o = pairs[q]
            forward = (o.i < p.i and o.j <= p.j) or (o.i <= p.i and o.j < p.j)
            if forward:
                g = best[q] + (gain if o.i != p.i else 0.0)
                if g > best[k]:
                    best[k], prev[k] = g, q
    k = max(range(len(pairs)), key=best.__getitem__)
    chain: list[_Pair] = []
    while k >= 0:
        chain.append(pairs[k])
        k = prev[k]
    return chain[::-1]


def _passages(chain: list[_Pair], article: Prepared, page: Prepared) -> list[Passage]:
    out: list[Passage] = []
    group: list[_Pair] = []

    def close() -> None:
        if not group:
            return
        a = article.sentences
        p = page.sentences
        out.append(Passage(
            article_start=min(a[g.i].start for g in group),
            article_end=max(a[g.i].end for g in group),
            page_start=min(p[g.j].start for g in group),
            page_end=max(p[g.j].end for g in group),
            score=round(sum(g.sim for g in group) / len(group), 3),
            verbatim=all(g.exact >= 0.9 for g in group),
        ))
        group.clear()

    for pair in chain:
        if group and (pair.i - group[-1].i > 1 or pair.j - group[-1].j > 1
                      or (pair.exact >= 0.9) != (group[-1].exact >= 0.9)):
            close()
        group.append(pair)
    close()
    return out


def _longest_run(article: Prepared, page: Prepared, passages: list[Passage]) -> int:
    best = 0
    for ps in passages:
        a = [t.word for t in article.tokens if ps.article_start <= t.start < ps.article_end]
        b = [t.word for t in page.tokens if ps.page_start <= t.start < ps.page_end]
        m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
        best = max(best, m.size)
    return best


def compare(article: Prepared, page: Prepared, cfg: MatchSettings) -> Match | None:
    """The match between one article and one page, or None when the page is not a copy."""
    if not article.sentences or not page.sentences:
        return None
    a_len = [s.end - s.start for s in article.sentences]
    quoted = [_quoted_share(s) for s in article.sentences]
    weight = [n * (1 - (1 - cfg.quote_weight) * q) for n, q in zip(a_len, quoted, strict=True)]
    chain = _chain(_pairs(article, page, cfg), weight)
    a_idx = sorted({p.i for p in chain})
    narrative = [i for i in a_idx if quoted[i] < 0.5]
    if len(narrative) < cfg.min_passages:
        return None
    weighted_cov = sum(weight[i] for i in a_idx) / (sum(weight) or 1)
    if weighted_cov < cfg.min_coverage:
        return None
    coverage = sum(a_len[i] for i in a_idx) / article.chars
    page_idx = sorted({p.j for p in chain})
    page_share = sum(page.sentences[j].end - page.sentences[j].start for j in page_idx) / page.chars
    verbatim_chars = sum(a_len[i] for i in {p.i for p in chain if p.exact >= cfg.verbatim_similarity})
    verbatim_share = verbatim_chars / (sum(a_len[i] for i in a_idx) or 1)
    if verbatim_share >= 0.5:
        kind = "verbatim" if coverage >= cfg.verbatim_coverage else "partial"
    else:
        kind = "paraphrased"
    passages = _passages(chain, article, page)
    return Match(
        kind=kind,
        coverage=round(min(coverage, 1.0), 3),
        page_share=round(min(page_share, 1.0), 3),
        longest_run=_longest_run(article, page, passages),
        score=round(sum(p.sim for p in chain) / len(chain), 3),
        passages=tuple(passages),
    )
