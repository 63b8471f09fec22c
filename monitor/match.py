"""Decide whether a page copies an article, how, and with which passages as evidence.

How detection works (the copy rule; thresholds in [match], see docs/detection.md):

1. Both texts are cut into sentences. A page sentence and an article sentence *align strongly*
   when their sets of content words (stop words dropped, lightly stemmed) have a Dice score of at
   least `sentence_similarity` and share at least three content words (a short sentence aligns
   only when copied word for word). They *align weakly* at `weak_similarity` (two short sentences
   sharing two words: at `sentence_similarity`). A pair is kept only
   when it is nearly (`best_ratio`) the best for both its sentences, and a sentence's second
   partner must sit next to its best one (a split sentence): alignment is one to one, and a line
   repeated in a text aligns where its neighbours do.
   A sentence split in two (or two merged into one) aligns as a whole when each half comes mostly
   from the other sentence (`merge_sentences`); across a paragraph end or out of a heading line only
   when each half adds words the other lacks (a headline is not the first half of its lede). Words
   are compared by `monitor.text.key`: spelling variants folded (harbour/harbor), lightly stemmed.
2. Aligned pairs that follow each other in both texts, with at most `gap` unaligned sentences
   between them on either side, are linked into *passages* (connected components). An unaligned page
   line without sentence-final punctuation ("ADVERTISEMENT", "Related: ..."), or of at most three words
   ("Advertisement."), is furniture, not a gap.
   A passage must contain a strong pair; weak pairs only extend passages (hysteresis, so a spun
   sentence next to copied ones counts, but weak overlaps alone never start one). Passages may come
   in any order, so moved paragraphs still count; inside a passage the text is reproduced in the
   article's order. On the page a passage starts at the first copied word of its first sentence and
   ends at the last copied word of its last: copied text often runs into the page's own words with no
   sentence break.
3. A passage is *evidence* when it holds at least `min_run` narrative sentences in a row in
   either text (a sentence split in two counts as two), or one
   sentence of at least `long_sentence_words` words: isolated similar sentences (a shared fact,
   a name and a number) are what independent reports of one event have in common; runs of
   consecutive sentences in the same order are what copies have. A pair is *narrative* when it is
   strong, shares at least NARRATIVE_WORDS content words, and is none of what independent texts share
   for another reason: mostly quotation in either text (in quotation marks, or in a paragraph quoted
   as a block after a lead-in such as "Police said:", `text.block_quote_spans`), a lead-in itself, a
   line of data (a team sheet, a table row: `is_data`), two sentences stating other numbers (another
   instance of a template: `_other_numbers`), or an article's subheading (`Prepared.subheading`: a label
   such as "Step 1: Install restic" that texts of one template or house style share).
4. The page is a copy when the evidence holds at least `min_passages` narrative (not mostly
   quoted) article sentences and covers at least `min_coverage` of the article, or at least
   `min_page_share` of the page (an excerpt of a long article embedded in a short page).
   Sentences that are mostly quotation count only `quote_weight` towards both shares:
   independent reports of one event share quotes, not the narrative around them (a quote copied word
   for word inside a verbatim run of `min_run` narrative sentences came with that narrative: it counts
   in full). A match reports both: the raw shares (`coverage`, `page_share`) and the weighted ones the
   rule decided on (`weighted_coverage`, `weighted_page_share`).
5. Kind: pairs whose word 3-grams are at least `verbatim_similarity` shared are verbatim. When
   most of the evidence is verbatim the copy is `verbatim` if it covers `verbatim_coverage` of
   the article, else `partial`; otherwise it is `paraphrased`.

`align()` exposes steps 1-2 alone (every passage, before the copy rule): it is what the PAN
passage-alignment benchmark scores, with `PAN_ALIGN`, modelled on Sanchez-Perez, Sidorov & Gelbukh
(PAN 2014): wider gaps, local reordering allowed (PAN's random obfuscation shuffles sentences), far
article jumps between strong pairs, passages under 150 article characters dropped, validation (the
two sides of a passage must be similar as wholes: tf-idf cosine) and a summary mode (a passage
whose article side is several times its page side is linked with no limit on the article gap, so
it spans all it condenses).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from difflib import SequenceMatcher
from functools import cached_property
from typing import Any, TypeVar

from monitor.config import MatchSettings
from monitor.display import plural
from monitor.text import (
    STOPWORDS,
    Sentence,
    Token,
    fold,
    is_lead_in,
    key,
    merge_spans,
    normalize,
    sentences,
    tokens,
    word_pattern,
)
from monitor.text import numbers as numbers_in

T = TypeVar("T")

_FINAL = (".", "!", "?", "\u2026")
FURNITURE_WORDS = 3  # an unaligned line of its own this short is page furniture, final punctuation or not
NARRATIVE_WORDS = 3  # content words a pair must share to be narrative (as many as a reworded strong pair)
DATA_SHARE = 2 / 3  # names and numbers making up this share of a sentence's words make it data (is_data)
# A page whose content words are this share quotation or more is not quoting its sources: only the article's own
# quotation counts there (_narrative), or a copier would hide a copy by putting each paragraph in quotation marks.
QUOTED_PAGE = 0.5
SCATTERED_EXCERPT = 0.3  # of an article, quoted by name a sentence here and there: an excerpt (_excerpt_quoted)
_CLOSERS = "\"'\u201d\u2019\u00bb)] \t"
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


@dataclass(frozen=True)
class AlignParams:
    """How aligned sentence pairs are linked into passages (sentence similarity comes from MatchSettings)."""

    gap: int = 2  # unaligned page sentences allowed between two pairs of one passage
    article_gap: int = 2  # unaligned article sentences allowed (wider lets a summary span its source)
    min_chars: int = 0  # drop passages shorter than this in the article (the page side may be condensed)
    ordered: bool = True  # link pairs only when they follow each other in both texts
    # Validation: drop a passage whose two sides, as tf-idf vectors, have a cosine below this (0: off).
    min_similarity: float = 0.0
    # Summary mode (0: off): pairs are also linked with no limit on the article gap; a passage so formed
    # whose article side is at least this many times its page side is a summary, and replaces the passages
    # it contains (a summary draws its sentences from all over the stretch it condenses).
    summary_ratio: float = 0.0
    # False: a loose pair (weak for its similarity, no word 3-gram shared) past a passage's first or last strong
    # pair, where that pair was copied word for word, is left out (`_bridged`). The copy rule's; PAN keeps them.
    weak_edges: bool = True

    @classmethod
    def of(cls, cfg: MatchSettings) -> AlignParams:
        """The copy rule's linking: `gap` on both sides, in order, no weak pair past a verbatim edge."""
        return cls(gap=cfg.gap, article_gap=cfg.gap, weak_edges=False)


# The PAN text-alignment setting, after Sanchez-Perez, Sidorov & Gelbukh (PAN 2014): the same engine, a gap of
# 4 sentences, far article jumps between strong pairs, validation, summary mode, passages >= 150 article chars.
PAN_ALIGN = AlignParams(gap=4, article_gap=20, min_chars=150, ordered=False, min_similarity=0.34, summary_ratio=3.0)


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
    # The shares the copy rule decided on: `coverage` and `page_share` with quotation weighed `quote_weight`
    # (docs/detection.md, step 4). The raw shares above say how much text is reproduced; these why it is a copy.
    weighted_coverage: float | None = None
    weighted_page_share: float | None = None

    def to_dict(self, article_text: str | None = None, page_text: str | None = None) -> dict[str, Any]:
        """As a dict; given both texts, each passage also carries the text it points at."""
        d = asdict(self)
        d["passages"] = [asdict(p) for p in self.passages]
        if article_text is not None and page_text is not None:
            for p in d["passages"]:
                p["article_text"] = article_text[p["article_start"]:p["article_end"]]
                p["page_text"] = page_text[p["page_start"]:p["page_end"]]
        return d


def _inside(spans: tuple[tuple[int, int], ...], at: int) -> bool:
    k = bisect.bisect_right(spans, (at, math.inf)) - 1
    return k >= 0 and at < spans[k][1]


@dataclass(frozen=True)
class Prepared:
    """A text cut into sentences once, so it can be compared with many others."""

    text: str
    tokens: tuple[Token, ...]
    sentences: tuple[Sentence, ...]
    # Spans of quotation that are the article's words by the page's own account (`text.cited_spans`), sorted: read
    # as the page's own telling rather than as quotation (`of`), but no feed excerpt or quoted stretch (`lifted`).
    cited: tuple[tuple[int, int], ...] = ()
    # With `cited`, the same text read without it: `compare` falls back to it and the verifier reads it.
    _plain: Prepared | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, text: str, cited: Sequence[tuple[int, int]] = (), plain: Prepared | None = None) -> Prepared:
        """`text` cut into sentences; `cited`: its quotation that is the article's (`text.cited_spans`, sorted).
        `plain`: `text` already prepared without `cited`, whose tokens are then not cut again."""
        spans = tuple(merge_spans(list(cited)))  # sorted and joined, as `_inside` reads them
        if not spans:
            toks = tokens(text)
            return cls(text, tuple(toks), tuple(sentences(text, toks)))
        if plain is None or plain.text != text or plain.cited:
            plain = cls.of(text)
        toks = [t._replace(quoted=False) if t.quoted and _inside(spans, t.start) else t for t in plain.tokens]
        return cls(text, tuple(toks), tuple(sentences(text, toks)), spans, plain)

    @property
    def plain(self) -> Prepared:
        """The text read without `cited`: this one when it has none."""
        return self._plain if self._plain is not None else self

    def lifted(self, k: int) -> bool:
        """Whether sentence k is quotation the page gives to the article (`cited`): its middle is (a sentence is
        quoted whole or not at all, near enough, and a quotation starting or ending inside it is its edge)."""
        if not self.cited:
            return False
        s = self.sentences[k]
        return _inside(self.cited, (s.start + s.end) // 2)

    @property
    def chars(self) -> int:
        return sum(s.end - s.start for s in self.sentences) or 1

    @cached_property
    def contents(self) -> tuple[frozenset[str], ...]:
        """Each sentence's content keys."""
        return tuple(s.content for s in self.sentences)

    @cached_property
    def own_lines(self) -> tuple[bool, ...]:
        """Whether each sentence is a whole line of its own."""
        text = self.text
        out = []
        for s in self.sentences:
            a, b = s.start, s.end
            while a > 0 and text[a - 1] in " \t":
                a -= 1
            while b < len(text) and text[b] in " \t\r":
                b += 1
            out.append((a == 0 or text[a - 1] == "\n") and (b == len(text) or text[b] == "\n")
                       and "\n" not in text[s.start:s.end])
        return tuple(out)

    @cached_property
    def headings(self) -> tuple[bool, ...]:
        """Whether each sentence is a line of its own without sentence-final punctuation: a headline, a
        subheading, or page furniture ("ADVERTISEMENT", "Related: ...", "Share on Facebook")."""
        text = self.text
        return tuple(own and not text[s.start:s.end].rstrip(_CLOSERS).endswith(_FINAL)
                     for s, own in zip(self.sentences, self.own_lines, strict=True))

    @cached_property
    def _first_prose(self) -> int:
        return next((k for k, head in enumerate(self.headings) if not head), len(self.headings))

    def subheading(self, k: int) -> bool:
        """Whether sentence k is a label below the text's first prose sentence: a heading line not ending in a colon
        ("Step 1: Install restic", "Where to eat", a config line "WantedBy=timers.target"). Texts of one template or
        house style share their labels, not their narrative. Not the headline above it (a spun copy keeps its
        headline's words), nor a line that introduces what follows ("Politics Daily recently reported:", "Create
        /etc/systemd/system/x.service:"), which the lead-in rules read (`lead_in`)."""
        if not self.headings[k] or k <= self._first_prose:
            return False
        s = self.sentences[k]
        return not self.text[s.start:s.end].rstrip(_CLOSERS).endswith(":")

    @cached_property
    def furniture(self) -> tuple[bool, ...]:
        """Lines that are no gap between copied sentences when unaligned: the headings, and lines of at most
        FURNITURE_WORDS words even with a full stop ("Advertisement.", "Continue reading below.")."""
        return tuple(head or (own and len(s.tokens) <= FURNITURE_WORDS)
                     for s, own, head in zip(self.sentences, self.own_lines, self.headings, strict=True))

    @cached_property
    def paragraph_ends(self) -> tuple[bool, ...]:
        """Whether a paragraph ends after each sentence: a blank line follows, or a line break after
        sentence-final punctuation (one paragraph per line), or a heading line on either side."""
        text, sents, heads = self.text, self.sentences, self.headings
        out = []
        for k, s in enumerate(sents):
            if k + 1 == len(sents):
                out.append(True)
                continue
            between = text[s.end:sents[k + 1].start]
            ends = text[s.start:s.end].rstrip(_CLOSERS).endswith(_FINAL)
            out.append(_BLANK_LINE.search(between) is not None or ("\n" in between and ends)
                       or heads[k] or heads[k + 1])
        return tuple(out)

    @cached_property
    def mostly_quoted(self) -> bool:
        """Whether QUOTED_PAGE of the text's content words or more are inside quotation marks (or a quoted block)."""
        content = [t for t in self.tokens if t.content]
        return bool(content) and sum(t.quoted for t in content) >= QUOTED_PAGE * len(content)

    @cached_property
    def _per_sentence(self) -> dict[tuple[str, int], Any]:
        return {}

    def _once(self, what: str, k: int, read: Callable[[Sentence], T]) -> T:
        """`read` of sentence k, worked out the first time it is asked for (only strong pairs ask)."""
        key = (what, k)
        if key not in self._per_sentence:
            self._per_sentence[key] = read(self.sentences[k])
        return self._per_sentence[key]

    def lead_in(self, k: int) -> bool:
        """Whether sentence k only introduces a quotation ("In a statement, Sergeant Lucy Brennan said:"): it ends with
        a colon and has a verb of saying (`text.is_lead_in`). It names who speaks; what it introduces is theirs."""
        return self._once("lead_in", k, lambda s: is_lead_in(self.text[s.start:s.end]))

    def data_line(self, k: int) -> bool:
        """Whether sentence k is a line of data rather than prose (`is_data`): a team sheet, a table row, a result
        line ("Booked: Hughes, Irving.", "Graham Fell (Progress Party) 11,907")."""
        return self._once("data", k, lambda s: is_data(self.text, s))

    def numbers(self, k: int) -> frozenset[str]:
        """The numbers sentence k states, formats normalised (`text.numbers`)."""
        return self._once("numbers", k, lambda s: numbers_in(self.text[s.start:s.end], (t.word for t in s.tokens)))

    @cached_property
    def sentence_df(self) -> Counter[str]:
        """In how many sentences each content key occurs."""
        df: Counter[str] = Counter()
        for c in self.contents:
            df.update(c)
        return df


@dataclass(frozen=True)
class _Pair:
    i: int  # article sentence
    j: int  # page sentence
    sim: float
    exact: float
    strong: bool


@dataclass
class _Group:
    pairs: list[_Pair]

    @property
    def article_sents(self) -> set[int]:
        return {p.i for p in self.pairs}

    @property
    def page_sents(self) -> set[int]:
        return {p.j for p in self.pairs}


def _trigrams(s: Sentence) -> set[tuple[str, ...]]:
    w = [t.word for t in s.tokens]
    if len(w) < 3:
        return {tuple(w)} if w else set()
    return {tuple(w[k: k + 3]) for k in range(len(w) - 2)}


_LIST_MARK = re.compile(r"[\d:;,|(\t]")


def is_data(text: str, s: Sentence) -> bool:
    """Whether a sentence is a line of data (a team sheet, a table row, a line of results) rather than prose.

    At least DATA_SHARE of its words are names or numbers (a word written with a capital letter, or starting with a
    digit: "14", "23rd", not "storyw12"), at most one word in four is a stop word (prose is held together by them),
    no stop word after the first word is capitalised (a headline in title case capitalises every word, so its names
    cannot be told), and it has a digit or a list mark (a colon, semicolon, comma, bracket, tab or bar): "Booked:
    Hughes, Irving.", "Maria Costanza (Civic Alliance) 14,382", "Fenwick Athletic: W W L D W". Not "Joe Biden knew
    Lloyd Bentsen." (no list), nor a headline in title case."""
    toks = s.tokens
    if not toks:
        return False
    stop = sum(t.word in STOPWORDS for t in toks)
    if 4 * stop > len(toks):
        return False
    named = 0
    for k, t in enumerate(toks):
        cap = text[t.start].isupper()
        if k and cap and t.word in STOPWORDS:
            return False
        named += cap or text[t.start].isdigit()
    return named >= DATA_SHARE * len(toks) and _LIST_MARK.search(text, s.start, s.end) is not None


def quoted_share(s: Sentence) -> float:
    """The share of a sentence's content words that are inside quotation marks."""
    content = [t for t in s.tokens if t.content]
    return sum(t.quoted for t in content) / len(content) if content else 0.0


class _Weights:
    """Inverse document frequency of words over the sentences of both texts (smoothed), for validation."""

    def __init__(self, article: Prepared, page: Prepared) -> None:
        self.df_a, self.df_p = article.sentence_df, page.sentence_df
        self.n = len(article.sentences) + len(page.sentences) + 1
        self._cache: dict[str, float] = {}

    def __call__(self, word: str) -> float:
        w = self._cache.get(word)
        if w is None:
            w = self._cache[word] = math.log(self.n / (1 + self.df_a.get(word, 0) + self.df_p.get(word, 0)))
        return w


def _merged(found: dict[tuple[int, int], _Pair], article: Prepared, page: Prepared, a_tri: Any, p_tri: Any,
            cfg: MatchSettings) -> None:
    """A sentence split in two (or two merged into one): two aligned neighbours against one sentence.

    When sentences k and k+1 of one text are each mostly made of the words of sentence s of the other
    (containment >= `sentence_similarity`) and together align strongly with it, both pairs become strong
    with the similarity of the merged pair, so neither is dropped as second best.

    A spinner splits a sentence into two sentences of one paragraph. Across a paragraph end or out of a
    heading line, the halves are joined only when each brings words of the whole that the other lacks (the
    merged pair aligns better than either half alone): a text whose layout was flattened (a heading and
    the line below it run together into one sentence) still aligns, but a headline, which restates its
    lede's words, is not taken for the first half of the lede.
    """
    a_sets, p_sets = article.contents, page.contents
    a_ends, p_ends = article.paragraph_ends, page.paragraph_ends
    for i, j in sorted(found):
        for (i2, j2), merged_a in (((i + 1, j), True), ((i, j + 1), False)):
            if (i2, j2) not in found:
                continue
            halves = (a_sets[i], a_sets[i2]) if merged_a else (p_sets[j], p_sets[j2])
            whole = p_sets[j] if merged_a else a_sets[i]
            if any(len(h & whole) < cfg.sentence_similarity * len(h) for h in halves):
                continue
            both = halves[0] | halves[1]
            n = len(both & whole)
            sim = 2 * n / (len(both) + len(whole))
            parts = (found[i, j], found[i2, j2])
            if n < 3 or sim < cfg.sentence_similarity or all(p.strong and p.sim >= sim for p in parts):
                continue
            if (a_ends[i] if merged_a else p_ends[j]) and any(p.sim >= sim for p in parts):
                continue  # across a paragraph end: one half alone aligns as well as both together
            for p in parts:
                at = a_tri(p.i)
                tri = p_tri(p.j) if merged_a else p_tri(j) | p_tri(j2)
                exact = len(at & tri) / len(at) if at else 0.0
                found[p.i, p.j] = _Pair(p.i, p.j, max(sim, p.sim), max(exact, p.exact), True)


def _other_numbers(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two sentences both state numbers and fewer than half of the numbers of the one stating fewer are in
    the other (formats normalised, `text.numbers`): they report other facts, whatever words they share."""
    return bool(a) and bool(b) and 2 * len(a & b) < min(len(a), len(b))


def _pairs(article: Prepared, page: Prepared, cfg: MatchSettings) -> list[_Pair]:
    a_sets, p_sets = article.contents, page.contents
    a_tris: dict[int, set[tuple[str, ...]]] = {}
    by_word: dict[str, list[int]] = {}
    for i, ws in enumerate(a_sets):
        for w in ws:
            by_word.setdefault(w, []).append(i)
    weak = cfg.weak_similarity
    floor = min(weak, cfg.sentence_similarity)
    p_tris: dict[int, set[tuple[str, ...]]] = {}

    def a_tri(i: int) -> set[tuple[str, ...]]:
        if i not in a_tris:
            a_tris[i] = _trigrams(article.sentences[i])
        return a_tris[i]

    def p_tri(j: int) -> set[tuple[str, ...]]:
        if j not in p_tris:
            p_tris[j] = _trigrams(page.sentences[j])
        return p_tris[j]

    found: dict[tuple[int, int], _Pair] = {}
    for j, pw in enumerate(p_sets):
        shared: dict[int, int] = {}
        for w in pw:
            for i in by_word.get(w, ()):
                shared[i] = shared.get(i, 0) + 1
        for i, n in shared.items():
            if n < 2:
                continue
            sim = 2 * n / (len(a_sets[i]) + len(pw))
            if sim < floor:
                continue
            at = a_tri(i)
            exact = len(at & p_tri(j)) / len(at) if at else 0.0
            # Short sentences ("Both will take time.") align strongly only when copied word for word;
            # two sharing just two words at `sentence_similarity` align weakly (they extend a passage).
            strong = sim >= cfg.sentence_similarity and (n >= 3 or exact >= cfg.verbatim_similarity)
            if strong or sim >= (weak if n >= 3 else cfg.sentence_similarity):
                found[i, j] = _Pair(i, j, sim, exact, strong)
    if cfg.merge_sentences:
        _merged(found, article, page, a_tri, p_tri, cfg)
    return _one_origin(list(found.values()), cfg)


def _one_origin(pairs: list[_Pair], cfg: MatchSettings) -> list[_Pair]:
    """Keep the pairs that are (nearly) the best of both their sentences, one origin per sentence.

    A pair is kept when it is at least `best_ratio` of the best pair of both its sentences, and when its
    partner is the best partner or next to it (a sentence split in two has two neighbouring origins):
    a copied sentence comes from one place, so a second, distant partner (the same phrase elsewhere in
    the text, a repeated line) is noise that would stretch the passage. When a sentence has several
    equally good partners (a line repeated word for word), the one in line with its neighbours' wins.
    """
    best_i: dict[int, float] = {}
    best_j: dict[int, float] = {}
    for p in pairs:
        best_i[p.i] = max(best_i.get(p.i, 0.0), p.sim)
        best_j[p.j] = max(best_j.get(p.j, 0.0), p.sim)
    kept = [p for p in pairs if p.sim >= cfg.best_ratio * max(best_i[p.i], best_j[p.j])]
    top_i: dict[int, list[int]] = {}  # article sentence -> its best page sentences
    top_j: dict[int, list[int]] = {}  # page sentence -> its best article sentences
    for p in kept:
        if p.sim >= best_i[p.i]:
            top_i.setdefault(p.i, []).append(p.j)
        if p.sim >= best_j[p.j]:
            top_j.setdefault(p.j, []).append(p.i)
    _in_line(top_i)
    _in_line(top_j)
    return [p for p in kept if any(abs(p.j - j) <= 1 for j in top_i.get(p.i, ()))
            and any(abs(p.i - i) <= 1 for i in top_j.get(p.j, ()))]


def _in_line(top: dict[int, list[int]]) -> None:
    """A sentence with several equally good partners keeps those in line with its nearest unambiguous neighbour."""
    unique = sorted(k for k, v in top.items() if len(v) == 1)
    if not unique:
        return
    for k, partners in top.items():
        if len(partners) < 2:
            continue
        pos = bisect.bisect_left(unique, k)
        ref = min((unique[x] for x in (pos - 1, pos) if 0 <= x < len(unique)), key=lambda u: abs(u - k))
        expected = top[ref][0] + (k - ref)
        nearest = min(abs(c - expected) for c in partners)
        top[k] = [c for c in partners if abs(c - expected) == nearest]


def components(items: list[T], links: Iterable[tuple[int, int]]) -> list[list[T]]:
    """The connected components of `items` under `links` (index pairs), each in the items' order."""
    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    comps: dict[int, list[T]] = {}
    for k, item in enumerate(items):
        comps.setdefault(find(k), []).append(item)
    return list(comps.values())


def _positions(page: Prepared, aligned: set[int]) -> list[int]:
    """Each page sentence's position counted in sentences that count towards a gap: an unaligned heading
    line (furniture such as "ADVERTISEMENT" or "Related: ..." between copied paragraphs) does not separate
    the sentences around it. Only on the page: the article is the tracked text, and its own unaligned
    heading lines (a subheading the copy left out) still count."""
    pos, n = [], 0
    for k, furniture in enumerate(page.furniture):
        pos.append(n)
        if not furniture or k in aligned:
            n += 1
    return pos


def _groups(pairs: list[_Pair], params: AlignParams, p_pos: list[int]) -> list[_Group]:
    """Link pairs that follow each other in both texts (within `gap` skipped sentences) into passages.

    Page distances are in `_positions`: furniture lines between two pairs are not skipped sentences."""
    pairs = sorted(pairs, key=lambda p: (p.i, p.j))
    gap, ordered = params.gap, params.ordered

    def links() -> Iterator[tuple[int, int]]:
        # Pairs sorted by article sentence: only those within article_gap+1 article sentences can link.
        lo = 0
        for k, p in enumerate(pairs):
            while pairs[lo].i < p.i - params.article_gap - 1:
                lo += 1
            for q in range(lo, k):
                o = pairs[q]
                di, dj = p.i - o.i, p_pos[p.j] - p_pos[o.j]
                # Far jumps in the article (a summary skipping sentences) only between strong pairs.
                near = di <= gap + 1 or (p.strong and o.strong)
                if near and (dj >= 0 if ordered else -gap - 1 <= dj) and dj <= gap + 1 and (di > 0 or dj != 0):
                    yield q, k

    return [_Group(ps) for ps in components(pairs, links()) if any(p.strong for p in ps)]


def _bridged(pairs: list[_Pair], cfg: MatchSettings) -> list[_Pair]:
    """A passage without the loose pairs past its first or last strong pair (in either text), where the strong pair
    at that end was copied word for word: a copy pasted word for word ends where the words stop matching, and a
    sentence after it sharing four loose words with the article's next paragraph (the copier's own closing line)
    is no copying. A loose pair is weak for its similarity (under `sentence_similarity`) and shares no word
    3-gram. A short sentence reworded ("Schools remained shut Wednesday."), weak only for sharing two words, stays;
    so does a weak pair at the edge of a reworded passage, the reworded sentence it looks like."""
    loose = [p for p in pairs if not p.strong and p.exact == 0 and p.sim < cfg.sentence_similarity]
    if not loose:
        return pairs
    strong = sorted((p for p in pairs if p.strong), key=lambda p: (p.j, p.i))
    first, last = strong[0], strong[-1]
    i0, i1 = min(p.i for p in strong), max(p.i for p in strong)
    cut_before, cut_after = first.exact >= cfg.verbatim_similarity, last.exact >= cfg.verbatim_similarity
    out = {id(p) for p in loose if (cut_before and (p.j < first.j or p.i < i0))
           or (cut_after and (p.j > last.j or p.i > i1))}
    return [p for p in pairs if id(p) not in out]


def _passage(group: _Group, article: Prepared, page: Prepared, cfg: MatchSettings) -> Passage:
    a, p = article.sentences, page.sentences
    ps = group.pairs
    j0, j1 = min(g.j for g in ps), max(g.j for g in ps)
    return Passage(
        article_start=min(a[g.i].start for g in ps),
        article_end=max(a[g.i].end for g in ps),
        page_start=_edge(p[j0], _near(article, (g.i for g in ps if g.j == j0)), True, page.text),
        page_end=_edge(p[j1], _near(article, (g.i for g in ps if g.j == j1)), False, page.text),
        score=round(sum(g.sim for g in ps) / len(ps), 3),
        verbatim=all(g.exact >= cfg.verbatim_similarity for g in ps) and _same_gaps(group, article, page),
    )


def _same_gaps(group: _Group, article: Prepared, page: Prepared) -> bool:
    """Whether the sentences a passage skips inside its span are the same words on both sides (a short
    "He declined." that pairs with nothing, copied too), page furniture aside: a passage spanning a paragraph
    the page inserted (a second article interleaved, the copier's own words) or one it left out is not
    verbatim, however exactly its paired sentences were copied."""
    def skipped(prep: Prepared, paired: set[int], furniture: bool) -> Counter[tuple[str, ...]]:
        return Counter(tuple(t.word for t in prep.sentences[k].tokens) for k in range(min(paired), max(paired) + 1)
                       if k not in paired and not (furniture and prep.furniture[k]))

    return skipped(article, group.article_sents, False) == skipped(page, group.page_sents, True)


def _near(article: Prepared, partners: Iterable[int]) -> frozenset[str]:
    """The words of an edge sentence's partners and of their neighbours (a merged sentence's other half)."""
    n = len(article.sentences)
    return frozenset(t.key for i in partners for k in range(max(0, i - 1), min(n, i + 2))
                     for t in article.sentences[k].tokens)


def _clitic(t: Token, text: str) -> bool:
    """Whether a word is the tail of a word cut at its apostrophe: the "s" of "Borough's", the "t" of "don't"."""
    return t.start >= 2 and text[t.start - 1] in "'\u2019" and text[t.start - 2].isalnum()


def _edge(s: Sentence, partner_words: frozenset[str], start: bool, text: str) -> int:
    """Where the copied part of a page's first (or last) sentence of a passage starts (or ends).

    Copied text pasted into a page often runs into the page's own words with no sentence break
    between them, so a passage starts at the first content word found in the partner sentences or
    their neighbours (plus the words before it found there too) and ends likewise: the page's own
    words around a copied sentence are not part of the copy. The tail of a word cut at its apostrophe
    (the "s" of "Borough's") is part of its word: found in the partners (any possessive has one) it is
    no copied word, so a passage neither starts inside a word nor ends before its tail.
    """
    toks = s.tokens if start else s.tokens[::-1]
    k = next((n for n, t in enumerate(toks) if t.content and t.key in partner_words and not _clitic(t, text)), 0)
    while k > 0 and toks[k - 1].key in partner_words:
        k -= 1
    if start:
        while k + 1 < len(toks) and _clitic(toks[k], text):
            k += 1
    elif k > 0 and _clitic(toks[k - 1], text):
        k -= 1
    # Words out of text order are a right-to-left override run read as displayed (text.normalize): an edge
    # inside it would cut the run mid-way, so the passage keeps the whole sentence.
    if k == 0 or any(a.start > b.start for a, b in zip(s.tokens, s.tokens[1:], strict=False)):
        return s.start if start else s.end
    return toks[k].start if start else toks[k].end


def _span(g: _Group, sents: tuple[Sentence, ...], article: bool) -> int:
    idx = [p.i if article else p.j for p in g.pairs]
    return sents[max(idx)].end - sents[min(idx)].start


def _aligned(article: Prepared, page: Prepared, cfg: MatchSettings, params: AlignParams) -> list[_Group]:
    if not article.sentences or not page.sentences:
        return []
    pairs = _pairs(article, page, cfg)
    p_pos = _positions(page, {p.j for p in pairs})
    groups = _groups(pairs, params, p_pos)
    if not params.weak_edges:  # linked again: a weak pair joined only through a pair left out goes with it
        groups = _groups([p for g in groups for p in _bridged(g.pairs, cfg)], params, p_pos)
    if not params.summary_ratio:
        return groups
    # Summary mode: linked with no limit on the article gap, a summary's sentences (close together on
    # the page, drawn from all over the article) form one passage; it replaces the passages it contains.
    summaries = [g for g in _groups(pairs, replace(params, article_gap=len(article.sentences)), p_pos)
                 if _span(g, article.sentences, True) >= params.summary_ratio * _span(g, page.sentences, False)]
    taken = {(p.i, p.j) for g in summaries for p in g.pairs}
    return summaries + [g for g in groups if not any((p.i, p.j) in taken for p in g.pairs)]


def _cosine(article: Prepared, page: Prepared, g: _Group, weights: _Weights, summary: bool) -> float:
    """Cosine of the tf-idf vectors of a passage's two sides: every sentence in its span on the page; in
    the article the same, or for a summary only the sentences it draws on (it skips the rest by design)."""
    def vector(sents: tuple[Sentence, ...], idx: Iterable[int]) -> dict[str, float]:
        counts = Counter(t.key for k in idx for t in sents[k].tokens if t.content)
        return {w: c * weights(w) for w, c in counts.items()}

    a_idx = sorted({p.i for p in g.pairs})
    p_idx = [p.j for p in g.pairs]
    va = vector(article.sentences, a_idx if summary else range(a_idx[0], a_idx[-1] + 1))
    vp = vector(page.sentences, range(min(p_idx), max(p_idx) + 1))
    dot = sum(x * vp[w] for w, x in va.items() if w in vp)
    norm = math.sqrt(sum(x * x for x in va.values()) * sum(x * x for x in vp.values()))
    return dot / norm if norm else 0.0


def align(article: Prepared, page: Prepared, cfg: MatchSettings, params: AlignParams = PAN_ALIGN) -> list[Passage]:
    """Every aligned passage between the two texts, before the copy rule decides anything."""
    weights = _Weights(article, page)
    out = []
    for g in _aligned(article, page, cfg, params):
        ps = _passage(g, article, page, cfg)
        if ps.article_end - ps.article_start < params.min_chars:
            continue
        summary = bool(params.summary_ratio) and (_span(g, article.sentences, True)
                                                  >= params.summary_ratio * _span(g, page.sentences, False))
        # Validation (Sanchez-Perez et al.): the two sides of a passage must be similar as wholes, not
        # only in the sentence pairs that link them.
        if params.min_similarity and _cosine(article, page, g, weights, summary) < params.min_similarity:
            continue
        out.append(ps)
    return sorted(out, key=lambda x: (x.page_start, x.article_start))


def longest_run(article: Prepared, page: Prepared, passages: list[Passage]) -> int:
    """The longest run of identical words inside any one passage (both sides), in words as written: the tokens of
    "forty-one" or "children's" are one word ("wc -w" of the run), so a whole text copied is its word count."""
    best = 0
    for ps in passages:
        toks = [t for t in article.tokens if ps.article_start <= t.start < ps.article_end]
        a = [t.word for t in toks]
        b = [t.word for t in page.tokens if ps.page_start <= t.start < ps.page_end]
        m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
        run = toks[m.a:m.a + m.size]
        text = article.text
        words = sum(k == 0 or any(c.isspace() for c in text[run[k - 1].end:t.start]) for k, t in enumerate(run))
        best = max(best, words)
    return best


def _quoted_stems(s: Sentence) -> frozenset[str]:
    return frozenset(t.key for t in s.tokens if t.content and t.quoted)


def _narrative(p: _Pair, article: Prepared, page: Prepared) -> bool:
    """A strong pair sharing at least NARRATIVE_WORDS content words, mostly not quotation (in either text; in the
    article's only, on a page that is mostly quotation), whose article sentence is no subheading. A
    shorter sentence copied word for word ("About Corvane Analytics", "Nobody was hurt.") is strong, but it is
    no narrative: press releases end with the same "About" heading, reports with the same stock line."""
    if not p.strong or article.subheading(p.i):
        return False
    a, b = article.sentences[p.i], page.sentences[p.j]
    shared = a.content & b.content
    if len(shared) < NARRATIVE_WORDS:
        return False
    # On a page that is mostly quotation, only the article's quotes are quotes: a page that puts the article's own
    # narrative in quotation marks at that length is copying it, not quoting a speaker the article quotes too.
    quoted = shared & (_quoted_stems(a) if page.mostly_quoted else _quoted_stems(a) | _quoted_stems(b))
    if 2 * len(quoted) >= len(shared):
        return False
    return not own_telling(article, p.i, page, p.j)


def own_telling(article: Prepared, i: int, page: Prepared, j: int) -> bool:
    """Whether article sentence i and page sentence j are each writer's own telling, which independent texts share
    for a reason of their own: a lead-in naming who speaks, a line of data, or a frame stating other figures (the
    narrative rule of both the core and the embedding verifier)."""
    return (article.lead_in(i) or page.lead_in(j) or article.data_line(i) or page.data_line(j)
            or _other_numbers(article.numbers(i), page.numbers(j)))


def _run(pairs: list[_Pair]) -> int:
    """Sentences in a run of pairs, counted on either side: a sentence split in two is two sentences in a row."""
    return max(len({p.i for p in pairs}), len({p.j for p in pairs}))


def _is_evidence(group: _Group, article: Prepared, page: Prepared, cfg: MatchSettings) -> bool:
    narrative = [p for p in group.pairs if _narrative(p, article, page)]
    if _run(narrative) >= cfg.min_run:
        return True
    return any(len(article.sentences[p.i].tokens) >= cfg.long_sentence_words for p in narrative)


def _verbatim_run(group: _Group, article: Prepared, page: Prepared, cfg: MatchSettings) -> bool:
    """Whether a passage holds `min_run` narrative sentences copied word for word."""
    return _run([p for p in group.pairs
                 if p.exact >= cfg.verbatim_similarity and _narrative(p, article, page)]) >= cfg.min_run


def _lede_copied(groups: list[_Group], article: Prepared, page: Prepared, cfg: MatchSettings) -> bool:
    """Whether the evidence holds the article's first `min_run` sentences (headings aside), narrative and copied
    word for word: the excerpt a scraper republishes from a feed. Two sentences that independent reports share
    word for word (a police appeal, a statement, a forecaster's warning, a disclaimer) are seldom both the
    article's opening, so this is not a general two-sentence rule (docs/detection.md, step 4). An opening the page
    quotes as the article's (`Prepared.lifted`: a press review) is a quotation, not a feed excerpt."""
    body = [k for k, head in enumerate(article.headings) if not head]
    lede = set(body[:cfg.min_run])
    if len(lede) < cfg.min_run:
        return False
    copied = {p.i for g in groups for p in g.pairs
              if p.i in lede and p.exact >= cfg.verbatim_similarity and _narrative(p, article, page)
              and not page.lifted(p.j)}
    return copied == lede


def _verbatim_block(groups: list[_Group], article: Prepared, page: Prepared, cfg: MatchSettings) -> bool:
    """Whether a passage holds a stretch of the article copied whole: consecutive article sentences copied word for
    word, in order on the page, `min_passages` of them narrative or quotation and `min_run` narrative. News is
    quote-heavy, so a third of an article is often a narrative sentence, the quote it leads to and the next
    narrative sentence: two narrative sentences where `min_passages` asks three. Independent reports share the
    quote, not the words around it. Headings and stock lines in the stretch count for nothing: two press releases
    end with the same "About" heading and two sentences (docs/detection.md, step 4)."""
    for g in groups:
        last: _Pair | None = None
        narrative = counted = 0  # of the stretch ending at `last`
        for p in sorted((p for p in g.pairs if p.exact >= cfg.verbatim_similarity), key=lambda p: (p.i, p.j)):
            if last is not None and (p.i != last.i + 1 or p.j <= last.j):
                narrative = counted = 0
            last = p
            if page.lifted(p.j):  # quoted from the article by name: a quotation, not a stretch reproduced
                continue
            told = _narrative(p, article, page)
            narrative += told
            counted += told or quoted_share(article.sentences[p.i]) >= 0.5
            if narrative >= cfg.min_run and counted >= cfg.min_passages:
                return True
    return False


def _excerpt_quoted(groups: list[_Group], article: Prepared, page: Prepared, cfg: MatchSettings) -> bool:
    """On a page that gives quotation to the article (`Prepared.cited`), whether the evidence holds the excerpt that
    reading is for: the quoted sentences and the ones copied word for word with them cover `min_coverage` of the
    article, in a stretch (or SCATTERED_EXCERPT of it). Evidence without a quoted sentence needs no such reading
    (True). A rival's explainer quoting two or three of the article's sentences by name, among its own retelling of
    the same facts, holds no such excerpt: its quotation is read as quotation again (`compare`), or the quote would
    seed a paraphrase of its own reporting."""
    pairs = [p for g in groups for p in g.pairs]
    if not any(page.lifted(p.j) for p in pairs):
        return True
    taken = {p.i for p in pairs if page.lifted(p.j) or p.exact >= cfg.verbatim_similarity}
    share = sum(article.sentences[i].end - article.sentences[i].start for i in taken) / article.chars
    if share < cfg.min_coverage:
        return False
    # An excerpt is a stretch of the article, `min_run` of its sentences in a row, or as much as the excerpts the
    # issue names (SCATTERED_EXCERPT). A critics' round-up quoting three sentences here and there of one review (the
    # director, the script, the lead: a fifth of it) is quoting it.
    return share >= SCATTERED_EXCERPT or any(all(i + d in taken for d in range(cfg.min_run)) for i in taken)


def _verbatim_chain(groups: list[_Group], article: Prepared, page: Prepared, cfg: MatchSettings) -> list[_Group]:
    """The passages holding the longest chain of narrative sentences copied word for word in the article's order,
    however far apart on the page, when it has `min_passages` of them (and at least `min_run`), else none. A
    copier who puts sentences of their own between the copied ones ("sandwiching") breaks every run; independent
    reports seldom share one narrative sentence word for word, let alone several in the same order. Coverage is
    still required."""
    exact = sorted((p for g in groups for p in g.pairs
                    if p.exact >= cfg.verbatim_similarity and _narrative(p, article, page)), key=lambda p: (p.j, p.i))
    need = max(cfg.min_passages, cfg.min_run)
    if len(exact) < need:
        return []
    # Longest chain increasing in both texts (quadratic in the few exact pairs there are).
    best: list[int] = [1] * len(exact)
    back: list[int] = [-1] * len(exact)
    for k, p in enumerate(exact):
        for q in range(k):
            if exact[q].i < p.i and exact[q].j < p.j and best[q] + 1 > best[k]:
                best[k], back[k] = best[q] + 1, q
    end = max(range(len(exact)), key=best.__getitem__)
    if best[end] < need:
        return []
    chain = set()
    while end >= 0:
        chain.add((exact[end].i, exact[end].j))
        end = back[end]
    return [g for g in groups if any((p.i, p.j) in chain for p in g.pairs)]


def content_keys(text: str) -> frozenset[str]:
    """The content keys of a text, `{t.key for t in tokens(text) if t.content}`, read without building tokens or
    sentences (the words as monitor.fingerprint reads them): about a fifth of the cost of `Prepared.of`."""
    norm = normalize(text)
    out = set()
    for w in set(word_pattern(norm).findall(norm)):
        w = fold(w)
        if w not in STOPWORDS:
            out.add(key(w))
    return frozenset(out)


def may_copy(article: Prepared, page_keys: frozenset[str], cfg: MatchSettings) -> bool:
    """False when no page whose content keys are `page_keys` (`content_keys`) can be a copy of `article` by
    `compare`: a cheap check before the page is cut into sentences (`find_copies`), exact, never a miss.

    compare() needs, whatever else, `min(min_passages, min_run)` article sentences in narrative pairs (`min_passages`
    of them, or a lede or a stretch copied whole: `min_run`). A narrative pair (i, j) shares NARRATIVE_WORDS content
    keys, all of them on the page; and it is strong, so n shared keys give a Dice score 2n / (|A_i| + |P_j|) of at
    least `sentence_similarity` (s), with n <= m = |A_i & page_keys| and n <= |P_j|: 2m / (|A_i| + m) >= s too. A half
    of a split sentence made strong by `_merged` holds s of its keys in the whole, which gives the same for s <= 1.
    So an article with fewer sentences than that meeting both (m >= NARRATIVE_WORDS, 2m >= s (|A_i| + m)) is no
    match, whatever the page's sentences are. (Not the embedding verifier's rule: `decide` asks it only when this
    says a copy may be.)"""
    need = min(cfg.min_passages, cfg.min_run)
    if need < 1:  # a copy rule that asks for no narrative sentence: nothing to check cheaply
        return True
    s = cfg.sentence_similarity
    found = 0
    for c in article.contents:
        m = len(c & page_keys)
        # The slack only widens the test (a float rounding of s * (...) must not turn a pair away).
        if m >= NARRATIVE_WORDS and 2 * m >= s * (len(c) + m) - 1e-9:
            found += 1
            if found >= need:
                return True
    return False


def findable(article: Prepared, cfg: MatchSettings) -> bool:
    """Whether some page can be a copy of `article` by `compare`: `may_copy` given the article's own words, so
    False for a text with fewer than `min(min_passages, min_run)` sentences of NARRATIVE_WORDS content words."""
    return may_copy(article, frozenset().union(*article.contents), cfg)


def compare(article: Prepared, page: Prepared, cfg: MatchSettings) -> Match | None:
    """The match between one article and one page, or None when the page is not a copy. A page with quotation it
    gives to the article (`Prepared.cited`) is read so first, then as it reads without: naming the paper never hides
    a copy the plain reading finds (a feed excerpt quoted in full, on a page that is mostly quotation)."""
    m = _judge(article, page, cfg)
    if not isinstance(m, Match) and page.cited:
        m = _judge(article, page.plain, cfg)
    return m if isinstance(m, Match) else None


# The steps of the copy rule a page can fail, in the order `_judge` takes them (NearMiss.step).
NOTHING_ALIGNED, NO_EVIDENCE, TOO_FEW, QUOTED, TOO_LITTLE = (
    "nothing aligned", "no evidence", "too few sentences", "quoted", "too little")
_STEPS = (NOTHING_ALIGNED, NO_EVIDENCE, TOO_FEW, QUOTED, TOO_LITTLE)


@dataclass(frozen=True)
class _Rejected:
    step: str
    aligned: list[_Group]
    evidence: list[_Group] = field(default_factory=list)  # TOO_FEW and after: the passages taken as evidence
    weighted: tuple[float, float] = (0.0, 0.0)  # TOO_LITTLE: the evidence's weighted coverage and page share


@dataclass(frozen=True)
class NearMiss:
    """Why a page is no copy of an article (`explain`): how close it came, and the first step of the copy rule
    (docs/detection.md, step 4) that it fails, said in `reason` with the settings that decide it."""

    step: str  # one of _STEPS (scan.closest adds "reference text")
    reason: str
    aligned_sentences: int  # article sentences aligned with a page sentence
    narrative_sentences: int  # of them, in narrative pairs: the article's own telling, not quotes or stock lines
    narrative_run: int  # the most narrative sentences in a row in one passage
    coverage: float  # share of the article's text in the aligned passages
    longest_run: int  # longest verbatim run in the aligned passages, in words

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain(article: Prepared, page: Prepared, cfg: MatchSettings) -> NearMiss | None:
    """Why `page` is no copy of `article` by `compare` (None when it is one): the numbers of the closest reading
    (a page that gives quotation to the article is read both ways, as compare does) and the step it fails."""
    first = _judge(article, page, cfg)
    if isinstance(first, Match):
        return None
    why, read = first, page
    if page.cited:
        plain = _judge(article, page.plain, cfg)
        if isinstance(plain, Match):
            return None
        if rule_order(plain.step) > rule_order(why.step):
            why, read = plain, page.plain
    return _near_miss(why, article, read, cfg)


def _near_miss(why: _Rejected, article: Prepared, page: Prepared, cfg: MatchSettings) -> NearMiss:
    pairs = [p for g in why.aligned for p in g.pairs]
    narrative = [p for p in pairs if _narrative(p, article, page)]
    aligned = {p.i for p in pairs}
    run = max((_run([p for p in g.pairs if _narrative(p, article, page)]) for g in why.aligned), default=0)
    coverage = sum(article.sentences[i].end - article.sentences[i].start for i in aligned) / (article.chars or 1)
    words = longest_run(article, page, [_passage(g, article, page, cfg) for g in why.aligned])
    told = len({p.i for p in narrative})
    if why.step == NOTHING_ALIGNED:
        reason = "no sentence of the page is close to one of the article's"
    elif why.step == NO_EVIDENCE and not told:
        reason = (f"{plural(len(aligned), 'sentence')} of the article aligned, none of them its own telling: "
                  "quotation, headings, stock lines, a lead-in naming who speaks, a line of data or a sentence "
                  "stating other figures, which independent texts share")
    elif why.step == NO_EVIDENCE:
        reason = (f"at most {plural(run, 'sentence')} of the article's own telling in a row, and a copy needs "
                  f"match.min_run = {cfg.min_run} in a row, or one of match.long_sentence_words = "
                  f"{cfg.long_sentence_words} words or more, or match.min_passages = {cfg.min_passages} copied word "
                  "for word in order")
    elif why.step == TOO_FEW:
        evidence = len({p.i for g in why.evidence for p in g.pairs if _narrative(p, article, page)})
        reason = (f"{plural(evidence, 'sentence')} of the article's own telling in the evidence, and a copy needs "
                  f"match.min_passages = {cfg.min_passages}, or its opening or a stretch of it copied word for word")
    elif why.step == QUOTED:
        reason = ("the page quotes the article by name, and what it quotes is no excerpt of it: less than "
                  f"match.min_coverage = {cfg.min_coverage:g} of the article, or no match.min_run = {cfg.min_run} "
                  "of its sentences in a row")
    else:
        cov, share = why.weighted
        # Rounded down: a share just under its threshold must not read as reaching it (0.4996 as "50.0%").
        cov_text, share_text = (f"{math.floor(x * 1000) / 10:.1f}%" for x in (cov, share))
        reason = (f"the evidence is {cov_text} of the article and {share_text} of the page (quotes weighed "
                  f"match.quote_weight = {cfg.quote_weight:g}), and a copy needs match.min_coverage = "
                  f"{cfg.min_coverage:g} of the article or match.min_page_share = {cfg.min_page_share:g} of the page")
    return NearMiss(step=why.step, reason=reason, aligned_sentences=len(aligned), narrative_sentences=told,
                    narrative_run=run, coverage=round(min(coverage, 1.0), 3), longest_run=words)


def rule_order(step: str) -> int:
    """How far through the copy rule a page failing at `step` got (0: nothing aligned)."""
    return _STEPS.index(step)


def _judge(article: Prepared, page: Prepared, cfg: MatchSettings) -> Match | _Rejected:
    """The match, or the step of the copy rule the page fails (with what was aligned, for `explain`)."""
    aligned = _aligned(article, page, cfg, AlignParams.of(cfg))
    if not aligned:
        return _Rejected(NOTHING_ALIGNED, aligned)
    groups = [g for g in aligned if _is_evidence(g, article, page, cfg)]
    chained = _verbatim_chain(aligned, article, page, cfg)
    groups += [g for g in chained if not any(g is e for e in groups)]
    if not groups:
        return _Rejected(NO_EVIDENCE, aligned)
    a_idx = sorted(set().union(*(g.article_sents for g in groups)))
    p_idx = sorted(set().union(*(g.page_sents for g in groups)))
    narrative = {p.i for g in groups for p in g.pairs if _narrative(p, article, page)}
    if (len(narrative) < cfg.min_passages and not _lede_copied(groups, article, page, cfg)
            and not _verbatim_block(groups, article, page, cfg)):
        return _Rejected(TOO_FEW, aligned, groups)
    if page.cited and not _excerpt_quoted(groups, article, page, cfg):
        return _Rejected(QUOTED, aligned, groups)  # read as quotation again (`compare`)

    def length(s: Sentence) -> int:
        return s.end - s.start

    def weight(s: Sentence) -> float:
        return length(s) * (1 - (1 - cfg.quote_weight) * quoted_share(s))

    # Quotes are discounted because independent reports share them, not the narrative around them. A quote copied
    # word for word inside a verbatim run of `min_run` narrative sentences was taken with that narrative: it
    # counts in full (in the total as well, so a share stays at most 1).
    full = [p for g in groups if _verbatim_run(g, article, page, cfg) for p in g.pairs
            if p.exact >= cfg.verbatim_similarity]
    a_full, p_full = {p.i for p in full}, {p.j for p in full}

    def share(sents: tuple[Sentence, ...], covered: list[int], whole: set[int]) -> float:
        def w(k: int) -> float:
            return length(sents[k]) if k in whole else weight(sents[k])
        total = sum(weight(s) for s in sents) + sum(length(sents[k]) - weight(sents[k]) for k in whole)
        return sum(w(k) for k in covered) / (total or 1.0)

    weighted_cov = share(article.sentences, a_idx, a_full)
    weighted_share = share(page.sentences, p_idx, p_full)
    if weighted_cov < cfg.min_coverage and weighted_share < cfg.min_page_share:
        return _Rejected(TOO_LITTLE, aligned, groups, (weighted_cov, weighted_share))
    pairs = [p for g in groups for p in g.pairs]
    a_len = {i: length(article.sentences[i]) for i in a_idx}
    coverage = sum(a_len.values()) / article.chars
    page_share = sum(length(page.sentences[j]) for j in p_idx) / page.chars
    verbatim_chars = sum(a_len[i] for i in {p.i for p in pairs if p.exact >= cfg.verbatim_similarity})
    verbatim_share = verbatim_chars / (sum(a_len.values()) or 1)
    if verbatim_share >= 0.5:
        kind = "verbatim" if coverage >= cfg.verbatim_coverage else "partial"
    else:
        kind = "paraphrased"
    passages = sorted((_passage(g, article, page, cfg) for g in groups), key=lambda x: x.page_start)
    return Match(
        kind=kind,
        coverage=round(min(coverage, 1.0), 3),
        page_share=round(min(page_share, 1.0), 3),
        longest_run=longest_run(article, page, passages),
        score=round(sum(p.sim for p in pairs) / len(pairs), 3),
        passages=tuple(passages),
        weighted_coverage=round(min(weighted_cov, 1.0), 3),
        weighted_page_share=round(min(weighted_share, 1.0), 3),
    )
