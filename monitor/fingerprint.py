"""Fingerprints used to find candidate articles for a page.

An article is indexed by a winnowed sample of hashed content-word 3-grams (stop words dropped,
words lightly stemmed), so that spun copies, which keep most content words in order but swap
some, still share many fingerprints. A page is looked up with all of its 3-grams: robust winnowing
guarantees that any run of `WINDOW + NGRAM - 1` shared content words hits at least one indexed hash.

Hashes are 32-bit (they key the compact index in monitor.index): each content word is hashed once
(cached) and a 3-gram's hash mixes its three word hashes, so a page is fingerprinted straight from
its text in a fraction of a millisecond. `text_content_words` yields exactly the stems of the
content tokens of monitor.text.tokens, so both paths give the same hashes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from monitor.text import (
    IGNORABLE,
    MARK,
    STOPWORDS,
    WORD,
    Token,
    fold,
    fold_typography,
    has_mark,
    mixes_lookalikes,
    normalize,
    stem,
    word_pattern,
)

NGRAM = 3
# Winnowing window for articles: density about 2 / (WINDOW + 1) of the 3-grams (~22%), and any shared run
# of WINDOW + 2 = 10 content words (about one sentence) is guaranteed to share a fingerprint.
WINDOW = 8
FINGERPRINT_VERSION = 2  # bump when hashes change: the store re-indexes its articles
# The revision of the text normalisation (monitor.text) that fingerprints are computed with. A revision that
# changes the words of only some texts leaves FINGERPRINT_VERSION alone (re-fingerprinting every article of a
# large store takes many minutes); `normalisation_changed(text)` says which texts it changed instead.
#   1: words split at any non-word character, mixed-script letters dropped by the accent fold.
#   2: invisible characters (format characters, variation selectors) inside a word neither split nor stay in
#      it; Cyrillic/Greek lookalikes in a word with Latin letters are read as the Latin letters.
#   3: combining marks (monitor.text.MARKS: NFD accents, Indic vowel signs, Hebrew points, ...) after a word
#      character stay in the word instead of ending it; a word that keeps no ASCII letter is NFC-composed; a
#      capital I with a dot above is lower-cased to "i" (it was "i" + a combining dot, which split the word).
#   4: lookalikes of Latin letters read as them (monitor.text.normalize and fold): small capitals, circled,
#      parenthesized and squared letters, the Latin alpha, script g, dotless i and j everywhere; Armenian and more
#      Cyrillic/Greek lookalikes (accented ones too) in a word with Latin letters; a word of lookalikes only in a line
#      of Latin text; the run of a right-to-left override (RLO) read backwards, as it displays.
NORMALISATION_VERSION = 4

_MASK = (1 << 64) - 1
_K1, _K2, _MIX = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0xBF58476D1CE4E5B9
_CACHE_MAX = 200_000  # words per cache: ~370 B a word with both caches, so at most ~75 MB
_ABSENT: Any = object()
# Per-process caches of pure functions (like functools.lru_cache, but a bare dict lookup is what makes a page
# cost a fraction of a millisecond): a stem's hash terms, and a raw word's terms (None for a stop word).
_STEM_TERMS: dict[str, tuple[int, int, int]] = {}
_WORD_TERMS: dict[str, tuple[int, int, int] | None] = {}


def _terms(word_stem: str) -> tuple[int, int, int]:
    """The stem's 64-bit hash h and its two multiples used by the 3-gram mix (precomputed once per word)."""
    t = _STEM_TERMS.get(word_stem)
    if t is None:
        h = int.from_bytes(hashlib.blake2b(word_stem.encode(), digest_size=8).digest(), "little")
        t = ((h * _K1) & _MASK, (h * _K2) & _MASK, h)
        if len(_STEM_TERMS) < _CACHE_MAX:
            _STEM_TERMS[word_stem] = t
    return t


def _word_terms(word: str) -> tuple[int, int, int] | None:
    w = word if word.isascii() else fold(word)
    t = None if w in STOPWORDS else _terms(stem(w))
    if len(_WORD_TERMS) < _CACHE_MAX:
        _WORD_TERMS[word] = t
    return t


def _mix(terms: list[tuple[int, int, int]]) -> list[int]:
    """32-bit hashes of consecutive 3-grams: h0*K1 + h1*K2 + h2 (mod 2^64), then a splitmix finaliser."""
    xs = [(a[0] + b[1] + c[2]) & _MASK for a, b, c in zip(terms, terms[1:], terms[2:], strict=False)]
    return [(((x ^ (x >> 31)) * _MIX) & _MASK) >> 32 for x in xs]


def _gram_hashes(words: list[str]) -> list[int]:
    return _mix([_terms(w) for w in words])


def _text_terms(text: str) -> list[tuple[int, int, int]]:
    get = _WORD_TERMS.get
    out = []
    norm = normalize(text)
    for w in word_pattern(norm).findall(norm):
        t = get(w, _ABSENT)
        if t is _ABSENT:
            t = _word_terms(w)
        if t is not None:
            out.append(t)
    return out


_INSIDE_WORD = re.compile(rf"\w[{IGNORABLE}]+\w")  # version 1 split the word there
_MARK_INSIDE_WORD = re.compile(rf"\w{MARK}++[{IGNORABLE}]*+\w")  # version 2 split the word there
_MARK_AFTER_WORD = re.compile(rf"\w{MARK}")
_INVISIBLE = re.compile(f"[{IGNORABLE}]+")


def normalisation_changed(text: str) -> bool:
    """Whether NORMALISATION_VERSION 4 may read this text's words differently from version 1, 2 or 3.

    True when version 1 or 2 cut a word of the text elsewhere or folded it otherwise; for every text where it is
    False the fingerprints are bit-for-bit those of versions 1 and 2. Version 1 -> 2: an invisible character
    (monitor.text.IGNORABLE) between two word characters, a word mixing Latin letters with Cyrillic/Greek
    lookalikes. Version 2 -> 3: a combining mark (monitor.text.MARKS) between two word characters, possibly
    followed by invisible characters; a word that keeps no ASCII letter (Hindi, Hebrew, Greek, ...) and ends in
    a mark or is not in NFC; a capital I with a dot above. The test is a superset, never a miss: a word whose
    marks all fall away (an accented Latin word in NFD, "cafe" + U+0301) reads the same in every version, but a
    mark between its letters is enough for True, and so is a mixed-script word whose fold is in fact unchanged
    Version 3 -> 4: `normalize` changed a character (a lookalike read as its Latin letter, an override run
    reversed), or a word mixes Latin letters with lookalikes (monitor.text.mixes_lookalikes: more of them now, found
    after NFKD too; a superset of version 2's mixed words).
    (tests/test_text_marks.py checks it against the readings of versions 1, 2 and 3 on random texts).
    A store whose articles were fingerprinted under an older NORMALISATION_VERSION re-fingerprints
    (article_fingerprints_of) just the articles for which this is true. ASCII texts are answered at once (False).
    """
    if text.isascii():
        return False
    if "\u0130" in text:
        return True
    norm = normalize(text)
    if norm != fold_typography(text):  # version 3's normalize: lookalikes and override runs are read otherwise now
        return True
    if norm.isascii():  # only typography (curly quotes, dashes) was not ASCII
        return False
    marks = has_mark(norm)
    if _INSIDE_WORD.search(norm) or (marks and _MARK_INSIDE_WORD.search(norm)):
        return True
    # Without marks inside words a version-3 word is the version-2 word plus the marks after it. Those marks fold
    # away with the accents of a word that keeps an ASCII letter; a word that keeps none is NFC-composed now.
    composed = (marks and _MARK_AFTER_WORD.search(norm) is not None) or not unicodedata.is_normalized("NFC", norm)
    for w in WORD.findall(norm):
        if w.isascii():
            continue
        if mixes_lookalikes(w):
            return True
        if composed:
            folded = fold(w)
            if not folded.isascii() and (folded != _INVISIBLE.sub("", w) or _MARK_AFTER_WORD.search(w)):
                return True
    return False


def content_words(toks: list[Token]) -> list[str]:
    return [t.stem for t in toks if t.content]


def text_content_words(text: str) -> list[str]:
    """The stems of the content tokens of `text`, without building Token objects (the fast path)."""
    out = []
    norm = normalize(text)
    for w in word_pattern(norm).findall(norm):
        if not w.isascii():
            w = fold(w)
        if w not in STOPWORDS:
            out.append(stem(w))
    return out


def content_ngrams(toks: list[Token], n: int = NGRAM) -> list[int]:
    assert n == NGRAM
    return _gram_hashes(content_words(toks))


def winnow(hashes: list[int], window: int = WINDOW) -> set[int]:
    """Robust winnowing (Schleimer et al. 2003): the minimum of every window of hashes."""
    if len(hashes) <= window:
        return set(hashes)
    out = set()
    lo = -1  # position of the current window's minimum (rightmost on ties)
    for end in range(window - 1, len(hashes)):
        start = end - window + 1
        if lo < start:
            lo = start
            for j in range(start + 1, end + 1):
                if hashes[j] <= hashes[lo]:
                    lo = j
        elif hashes[end] <= hashes[lo]:
            lo = end
        out.add(hashes[lo])
    return out


def article_fingerprints(toks: list[Token]) -> set[int]:
    return winnow(content_ngrams(toks))


def page_fingerprints(toks: list[Token]) -> set[int]:
    return set(content_ngrams(toks))


def article_fingerprints_of(text: str) -> set[int]:
    return winnow(_mix(_text_terms(text)))


def page_fingerprints_of(text: str) -> set[int]:
    return set(_mix(_text_terms(text)))


# An article with fewer window-WINDOW fingerprints than this (about 180 content-word 3-grams: a brief of up to
# ~350 words) is also indexed by all of its other 3-grams, as *extra* postings: a spun copy of a 150-word brief
# keeps a few of its ~130 3-grams and meets its ~13 fingerprints once or not at all (docs/index.md). Extra
# postings count towards a candidate's votes; its rank is what its window-8 sample would meet among them
# (monitor.index.Index.candidates), so dense briefs do not push long articles out of the top `max_candidates`.
EXTRA_BELOW = 40
# At most this many postings in all for a short article (~800 B): past it the extras are the 3-grams with the
# smallest hashes (a bottom-k sample, the same for every text, as winnowing is), so an article just under
# EXTRA_BELOW (~175 3-grams) keeps ~55% of them rather than all.
EXTRA_TOTAL = 100
EXTRA_VERSION = 1  # the store has given its short articles their extras (changing what they are needs a re-index)


def extra_fingerprints_of(text: str, fingerprints: set[int] | frozenset[int]) -> set[int]:
    """The extra postings of an article whose fingerprints are `fingerprints` (empty unless it is short)."""
    if len(fingerprints) >= EXTRA_BELOW:
        return set()
    rest = page_fingerprints_of(text) - fingerprints
    room = EXTRA_TOTAL - len(fingerprints)
    return rest if len(rest) <= room else set(sorted(rest)[:room])
