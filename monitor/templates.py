"""Learn a site's template: text blocks that recur across many of its pages.

A scraper site pastes the same footer, newsletter pitch or signature under every article it
copies. Such a block is boilerplate of that site even when it sits inside the article container
and looks like prose. `TemplateLearner` is fed each page's text blocks per site, counts on how
many distinct pages each normalised block occurs, and reports the blocks seen on enough pages.
It is pure (no I/O); `to_dict`/`from_dict` give JSON-safe state for the store to persist.
`monitor.extract.extract(..., template_hashes=learner.template_hashes(site))` drops them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")

# Furniture is a minority of a page. Blocks that make up more of it than this are the content the page shares
# with other pages of its site (one article at several addresses, a scraper's partial copies of one article on a
# small site), learned as template only because the site is small: they are kept.
MAX_TEMPLATE_SHARE = 0.5


def normalise_block(text: str) -> str:
    r"""Case, punctuation, spacing and numbers (years, counts) do not make a block different, nor NFD against NFC
    (combining marks are not word characters to `\W`: a decomposed "é" would split its word)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return _NON_WORD.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def block_hash(text: str) -> str:
    """A short stable hash of a block's normalised text ("" for blocks with no words)."""
    norm = normalise_block(text)
    if not norm:
        return ""
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class SiteCounts:
    pages: int = 0
    blocks: dict[str, int] = field(default_factory=dict)


@dataclass
class TemplateLearner:
    """Counts, per site, on how many pages each block hash occurs.

    A block is template when it was seen on at least `min_pages` pages and on at least
    `min_share` of the site's pages. Pages must be fed once each (the caller knows which URLs
    it has already fed); a block repeated within one page counts once.
    `max_blocks` bounds memory per site: when exceeded, blocks seen on one page only are
    forgotten first (a template block recurs, so it survives pruning).
    """

    min_pages: int = 3
    min_share: float = 0.5
    max_blocks: int = 20_000
    sites: dict[str, SiteCounts] = field(default_factory=dict)
    # What was observed since the state was loaded (or last merged): counts only add up, so a learner can be
    # saved over state another process changed meanwhile without losing either's pages (merged_with).
    fresh: dict[str, SiteCounts] = field(default_factory=dict, compare=False)

    def observe(self, site: str, blocks: Iterable[str]) -> None:
        self.observe_hashes(site, [block_hash(b) for b in blocks])

    def observe_hashes(self, site: str, hashes: Iterable[str]) -> None:
        """`observe` for blocks already hashed with `block_hash`."""
        unique = set(hashes) - {""}
        for counts in (self.sites.setdefault(site, SiteCounts()), self.fresh.setdefault(site, SiteCounts())):
            counts.pages += 1
            for h in unique:
                counts.blocks[h] = counts.blocks.get(h, 0) + 1
            self._prune(counts)  # `fresh` too: a long scan must not hold every block it met

    def _prune(self, counts: SiteCounts) -> None:
        if len(counts.blocks) > self.max_blocks:
            counts.blocks = {h: n for h, n in counts.blocks.items() if n > 1}

    def merged_with(self, stored: dict[str, Any] | None) -> dict[str, Any]:
        """The state to save: `stored` (the state as it is now in the store, perhaps changed by another
        process since this learner loaded it) plus this learner's fresh observations. This learner takes
        that state on and starts counting fresh observations again."""
        base = TemplateLearner.from_dict(stored) if stored else TemplateLearner(
            self.min_pages, self.min_share, self.max_blocks)
        for site, new in self.fresh.items():
            counts = base.sites.setdefault(site, SiteCounts())
            counts.pages += new.pages
            for h, n in new.blocks.items():
                counts.blocks[h] = counts.blocks.get(h, 0) + n
            base._prune(counts)
        self.sites, self.fresh = base.sites, {}
        return base.to_dict()

    def _threshold(self, counts: SiteCounts) -> float:
        return max(self.min_pages, self.min_share * counts.pages)

    def template_hashes(self, site: str) -> frozenset[str]:
        counts = self.sites.get(site)
        if counts is None:
            return frozenset()
        need = self._threshold(counts)
        return frozenset(h for h, n in counts.blocks.items() if n >= need)

    def is_template(self, site: str, text: str) -> bool:
        return self.is_template_hash(site, block_hash(text))

    def is_template_hash(self, site: str, h: str) -> bool:
        counts = self.sites.get(site)
        return counts is not None and bool(h) and counts.blocks.get(h, 0) >= self._threshold(counts)

    def drop(self, site: str, text: str, paragraphs: list[str], hashes: list[str]) -> str:
        """`text` (cut into `paragraphs`, with their `block_hash`es) without the site's template blocks, as
        drop_template_blocks(text, template_hashes(site)) gives it, but with one lookup per paragraph
        instead of a pass over every block the site has shown, which grows with the site."""
        keep = [not self.is_template_hash(site, h) for h in hashes]
        if all(keep):
            return text
        return _kept(text, [p for p, k in zip(paragraphs, keep, strict=True) if k])

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "min_pages": self.min_pages,
            "min_share": self.min_share,
            "max_blocks": self.max_blocks,
            "sites": {s: {"pages": c.pages, "blocks": dict(c.blocks)} for s, c in self.sites.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemplateLearner:
        sites = {
            str(s): SiteCounts(int(c.get("pages", 0)), {str(h): int(n) for h, n in c.get("blocks", {}).items()})
            for s, c in data.get("sites", {}).items()
        }
        return cls(
            min_pages=int(data.get("min_pages", 3)),
            min_share=float(data.get("min_share", 0.5)),
            max_blocks=int(data.get("max_blocks", 20_000)),
            sites=sites,
        )


def drop_template_blocks(text: str, hashes: frozenset[str]) -> str:
    """The text without its paragraphs that are template blocks (paragraphs are separated by blank lines)."""
    if not hashes:
        return text
    return _kept(text, [p for p in text.split("\n\n") if p and block_hash(p) not in hashes])


def _kept(text: str, kept: list[str]) -> str:
    """The kept paragraphs, or the whole text when the template would take more than MAX_TEMPLATE_SHARE of it."""
    if sum(map(len, kept)) < (1 - MAX_TEMPLATE_SHARE) * len(text):
        return text
    return "\n\n".join(kept)
