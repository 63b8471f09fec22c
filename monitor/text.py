"""Text normalisation shared by fingerprinting and matching.

Everything here keeps character offsets into the original text, so that evidence passages
point at the exact characters of the article and of the page.

Two tricks hide a verbatim copy from word-level matching without changing how it looks: invisible
characters inside words (soft hyphens from hyphenation plugins or `&shy;`, zero-width spaces and joiners,
word joiners, BOMs) and homoglyphs (Latin letters swapped for Cyrillic or Greek lookalikes). Both are undone
per word without moving any offset: WORD takes invisible characters between word characters into the word
(the token still spans the original characters), and `fold` drops them from the token's word and maps the
lookalikes of a word that mixes them with Latin letters to Latin (a whole Russian or Greek word is kept).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Invisible characters that may sit inside a word without splitting it: every format character (category Cf:
# soft hyphen U+00AD, U+200B-U+200F, U+202A-U+202E, U+2060-U+2064, U+2066-U+206F, U+FEFF, ... as of Unicode
# 14) and the invisible combining marks \w does not take (combining grapheme joiner, variation selectors).
IGNORABLE = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
             "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
             "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
             "\u034f\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef")
_IGNORABLE = re.compile(f"[{IGNORABLE}]+")
# A word: word characters, possibly with invisible characters between them (never at its ends). Possessive:
# the two classes are disjoint, so nothing is gained by backtracking. None of these characters is ASCII, so an
# ASCII text (most normalised English text) is cut with the plain ASCII_WORD, which is ~20% faster.
WORD = re.compile(rf"\w++(?:[{IGNORABLE}]++\w++)*+", re.UNICODE)
ASCII_WORD = re.compile(r"\w+")


def word_pattern(norm: str) -> re.Pattern[str]:
    """The word pattern for a normalised text: WORD, or the equivalent, faster ASCII_WORD for ASCII text."""
    return ASCII_WORD if norm.isascii() else WORD


# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# or at a paragraph break.
SENT_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|\n\s*\n|\n(?=\s*[A-Z“\"])")
ABBREV = frozenset(
    "mr mrs ms dr prof sr jr st mt gen gov sen rep lt col sgt capt cmdr adm maj pres "
    "jan feb mar apr jun jul aug sep sept oct nov dec no vs etc inc ltd co corp dept est fig "
    "u.s u.k u.n e.g i.e a.m p.m".split()
)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves also said says say told tell mr mrs ms""".split()
)
# One character for one, so offsets do not move. str.replace per character rather than str.translate with a
# dict: translate looks every character up in the dict (~0.15 us each, half the cost of fingerprinting a page).
_REPLACE = (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"), ("\u2014", "-"),
            ("\u00a0", " "), ("\u2026", "."))


def normalize(text: str) -> str:
    """Unicode-fold text without changing its length (NFKC may change length, so only per char)."""
    if not text.isascii():
        for a, b in _REPLACE:
            if a in text:
                text = text.replace(a, b)
    return text.lower()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light suffix stripper: enough to meet 'killing'/'killed', cheap, no deps."""
    w = word
    if len(w) <= 3 or w.isdigit():
        return w
    for suffix, keep in (("ational", "ate"), ("ization", "ize"), ("iness", "y"), ("ies", "y"),
                         ("ingly", ""), ("edly", ""), ("ing", ""), ("ed", ""), ("ly", ""),
                         ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + keep
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


# British spellings folded to American ones, so that a respelled copy (harbour/harbor, centre/center,
# organise/organize, analyse/analyze, catalogue/catalog; travelled/traveled is met in key()) still shares
# its words. Folding is applied to both texts, so an over-eager rule only hurts if it merges two different
# words; the rules are restricted to suffixes (and lengths) where that does not happen in practice.
_SPELLING = (
    (re.compile(r"^(\w{2,}[^aeiou\W]|\w{2,}i)our(s|ed|ing|ite|ites|able|ably|er|ers|hood|hoods|less|ful)?$"),
     r"\1or\2"),  # colour, harbour, behaviour; not four/your/hour/tour
    (re.compile(r"^(\w{2,}[tb])re(s?)$"), r"\1er\2"),  # centre(s), metre, fibre; not genre/acre
    (re.compile(r"^(\w{2,}[tb])red$"), r"\1ered"),  # centred
    (re.compile(r"^(\w{3,})is(e|es|ed|ing|ation|ations|er|ers)$"), r"\1iz\2"),  # organise, realisation
    (re.compile(r"^(\w{2,})ys(e|es|ed|ing|er|ers)$"), r"\1yz\2"),  # analyse, paralysed
    (re.compile(r"^(\w{3,})logue(s)?$"), r"\1log\2"),  # catalogue, dialogue
)
_SPELLING_WORDS = {"programme": "program", "programmes": "programs", "grey": "gray", "tyre": "tire",
                   "tyres": "tires", "cheque": "check", "cheques": "checks", "aluminium": "aluminum",
                   "defence": "defense", "offence": "offense", "licence": "license", "practise": "practice",
                   "plough": "plow", "ageing": "aging", "judgement": "judgment", "enrol": "enroll",
                   "manoeuvre": "maneuver", "manoeuvres": "maneuvers", "sceptical": "skeptical",
                   "mould": "mold", "storey": "story", "kerb": "curb", "pyjamas": "pajamas"}


@lru_cache(maxsize=65536)
def spelling(word: str) -> str:
    """The American spelling of a British-spelled word (or the word itself)."""
    if word in _SPELLING_WORDS:
        return _SPELLING_WORDS[word]
    if len(word) < 5 or word.isdigit():
        return word
    for pattern, repl in _SPELLING:
        new = pattern.sub(repl, word)
        if new != word:
            return new
    return word


@lru_cache(maxsize=65536)
def key(word: str) -> str:
    """The form two words must share to count as the same word when matching: spelling folded, stemmed."""
    w = stem(spelling(word))
    if len(w) >= 6 and w.endswith("ll"):
        w = w[:-1]  # travell(ed)/travel(ed), modell(ing)/model(ing)
    return w


# Lower-case Cyrillic and Greek letters that look like a Latin letter (in some case: texts are lower-cased
# before they are folded, so Cyrillic в, н, м, т and Greek η, μ stand for their capitals B, H, M, T, H, M).
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ү": "y", "ѵ": "v",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
}
_DECONFUSE = str.maketrans(_LOOKALIKES)
_LOOKALIKE = re.compile(f"[{''.join(_LOOKALIKES)}]")
_LATIN = re.compile("[a-z]")


def mixes_lookalikes(word: str) -> bool:
    """True when a (lower-cased) word has Latin letters and Cyrillic/Greek lookalikes: a homoglyph swap."""
    return _LOOKALIKE.search(word) is not None and _LATIN.search(unicodedata.normalize("NFKD", word)) is not None


def fold(word: str) -> str:
    """A word's comparable form: invisible characters dropped, the lookalikes of a word that mixes them with
    Latin letters mapped to Latin, then accents stripped. A word that keeps no ASCII letter (Russian, Greek)
    is kept as it is, less its invisible characters."""
    if word.isascii():
        return word
    if _IGNORABLE.search(word):
        word = _IGNORABLE.sub("", word)
    if mixes_lookalikes(word):
        word = word.translate(_DECONFUSE)
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or word


@dataclass(frozen=True, slots=True)
class Token:
    word: str  # lower-cased, folded (`fold`: invisible characters dropped, lookalikes and accents folded)
    stem: str  # light stem (fingerprints)
    key: str  # matching form: spelling folded, stemmed (sentence similarity)
    start: int
    end: int
    quoted: bool

    @property
    def content(self) -> bool:
        return self.word not in STOPWORDS


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Character spans inside quotation marks, paragraph by paragraph.

    Curly quotes say which way they face; a straight quote opens after a space or at the start.
    News style leaves a quote open at the end of a paragraph that the next one continues, and
    a closing quote with no opener in its paragraph closes a quote begun in an earlier one.
    """
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        start = None
        for m in re.finditer(r'["“”«»]', para.group()):
            ch = m.group()
            pos = para.start() + m.start()
            prev = text[pos - 1] if pos > para.start() else " "
            opener = ch in "“«" or (ch == '"' and (prev.isspace() or prev in "([—–-"))
            if opener:
                if start is None:
                    start = pos
            else:
                spans.append((para.start() if start is None else start, pos + 1))
                start = None
        if start is not None:
            spans.append((start, para.end()))
    return spans


def tokens(text: str) -> list[Token]:
    norm = normalize(text)
    spans = quoted_spans(text)
    out: list[Token] = []
    si = 0
    for m in word_pattern(norm).finditer(norm):
        while si < len(spans) and spans[si][1] <= m.start():
            si += 1
        inside = si < len(spans) and spans[si][0] <= m.start()
        w = fold(m.group())
        out.append(Token(w, stem(w), key(w), m.start(), m.end(), inside))
    return out


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    tokens: tuple[Token, ...]

    @property
    def content(self) -> frozenset[str]:
        return frozenset(t.key for t in self.tokens if t.content)


def _is_abbrev(text: str, dot: int) -> bool:
    m = re.search(r"([\w.]+)\.$", text[max(0, dot - 12): dot + 1])
    if not m:
        return False
    word = m.group(1).lower()
    return word in ABBREV or len(word) == 1 or bool(re.fullmatch(r"(?:\w\.)+\w", word))


def sentences(text: str, toks: list[Token] | None = None) -> list[Sentence]:
    """Split text into sentences with character offsets, each with its tokens."""
    toks = tokens(text) if toks is None else toks
    bounds: list[int] = []
    for m in SENT_END.finditer(text):
        if text[m.start()] == "." and _is_abbrev(text, m.start()):
            continue
        bounds.append(m.end())
    bounds.append(len(text))
    out: list[Sentence] = []
    start = 0
    ti = 0
    for end in bounds:
        if end <= start:
            continue
        group: list[Token] = []
        while ti < len(toks) and toks[ti].start < end:
            group.append(toks[ti])
            ti += 1
        if group:
            s = group[0].start
            e = max(group[-1].end, min(end, len(text)))
            # Keep trailing punctuation/quotes in the span but not whitespace.
            while e > s and text[e - 1].isspace():
                e -= 1
            out.append(Sentence(s, e, tuple(group)))
        start = end
    return out
