"""Fingerprints used to find candidate articles for a page.

An article is indexed by a winnowed sample of hashed content-word 3-grams (stop words dropped,
words lightly stemmed), so that spun copies, which keep most content words in order but swap
some, still share many fingerprints. A page is looked up with all of its 3-grams: winnowing
guarantees that any run of `window + 2` shared content words hits at least one indexed hash.
"""

from __future__ import annotations

import hashlib
import struct

from monitor.text import Token

NGRAM = 3
WINDOW = 4


def _hash(gram: str) -> int:
    # 63-bit so it fits SQLite's signed INTEGER.
    return struct.unpack("<q", hashlib.blake2b(gram.encode(), digest_size=8).digest())[0] & (2**63 - 1)


def content_ngrams(toks: list[Token], n: int = NGRAM) -> list[int]:
    words = [t.stem for t in toks if t.content]
    return [_hash(" ".join(words[i: i + n])) for i in range(len(words) - n + 1)]


def winnow(hashes: list[int], window: int = WINDOW) -> set[int]:
    """Robust winnowing (Schleimer et al. 2003): the minimum of every window of hashes."""
    if len(hashes) <= window:
        return set(hashes)
    return {min(hashes[i: i + window]) for i in range(len(hashes) - window + 1)}


def article_fingerprints(toks: list[Token]) -> set[int]:
    return winnow(content_ngrams(toks))


def page_fingerprints(toks: list[Token]) -> set[int]:
    return set(content_ngrams(toks))
