"""Text normalisation shared by fingerprinting and matching.

Everything here keeps character offsets into the original text, so that evidence passages
point at the exact characters of the article and of the page.

Two tricks hide a verbatim copy from word-level matching without changing how it looks: invisible
characters inside words (soft hyphens from hyphenation plugins or `&shy;`, zero-width spaces and joiners,
word joiners, BOMs) and homoglyphs (Latin letters swapped for Cyrillic or Greek lookalikes). Both are undone
per word without moving any offset: WORD takes invisible characters between word characters into the word
(the token still spans the original characters), and `fold` drops them from the token's word and maps the
lookalikes of a word that mixes them with Latin letters to Latin (a whole Russian or Greek word is kept).

Combining marks (categories Mn, Mc, Me) are not word characters to Python's regular expressions, yet each is
part of the letter before it: the decomposed accents of NFD text (macOS and some CMSs write "é" as "e" + U+0301),
Indic vowel signs and viramas, Hebrew points, Arabic harakat, Thai vowels and tone marks. Cut at its marks, an
NFD copy of an NFC article shares few of its words and 3-grams, and a Hindi word falls into pieces. So WORD keeps
the marks after a word character inside the word (the token spans them, offsets do not move); `fold` drops them
from a word with Latin letters along with its accents (NFD and NFC "république" both read "republique") and
NFC-composes a word that keeps no ASCII letter, so the NFD and NFC spellings of a Hindi or Hebrew word are equal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
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

# The combining marks (Mn, Mc, Me) of Unicode 14.0 (Python 3.11) that are not IGNORABLE, as hex code point
# ranges. A constant rather than a scan of unicodedata at import: the scan costs ~20 ms at every start (it must
# cover planes 0, 1 and 14), parsing this ~0.2 ms. tests/test_text_marks.py checks it against a scan of every
# code point, so it cannot drift from this Python's unicodedata unnoticed; on a Python whose Unicode version
# differs the marks are scanned at import instead, so that WORD always agrees with that Python's `\w`, and that
# test fails until the constant is regenerated (a new Unicode version also moves `\w`: decide then whether
# NORMALISATION_VERSION must move).
_MARKS_UNICODE = "14.0.0"
_MARK_RANGES = """
    300-34e 350-36f 483-489 591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 610-61a 64b-65f 670 6d6-6dc 6df-6e4 6e7-6e8 6ea-6ed
    711 730-74a 7a6-7b0 7eb-7f3 7fd 816-819 81b-823 825-827 829-82d 859-85b 898-89f 8ca-8e1 8e3-903 93a-93c
    93e-94f 951-957 962-963 981-983 9bc 9be-9c4 9c7-9c8 9cb-9cd 9d7 9e2-9e3 9fe a01-a03 a3c a3e-a42 a47-a48
    a4b-a4d a51 a70-a71 a75 a81-a83 abc abe-ac5 ac7-ac9 acb-acd ae2-ae3 afa-aff b01-b03 b3c b3e-b44 b47-b48
    b4b-b4d b55-b57 b62-b63 b82 bbe-bc2 bc6-bc8 bca-bcd bd7 c00-c04 c3c c3e-c44 c46-c48 c4a-c4d c55-c56 c62-c63
    c81-c83 cbc cbe-cc4 cc6-cc8 cca-ccd cd5-cd6 ce2-ce3 d00-d03 d3b-d3c d3e-d44 d46-d48 d4a-d4d d57 d62-d63
    d81-d83 dca dcf-dd4 dd6 dd8-ddf df2-df3 e31 e34-e3a e47-e4e eb1 eb4-ebc ec8-ecd f18-f19 f35 f37 f39 f3e-f3f
    f71-f84 f86-f87 f8d-f97 f99-fbc fc6 102b-103e 1056-1059 105e-1060 1062-1064 1067-106d 1071-1074 1082-108d 108f
    109a-109d 135d-135f 1712-1715 1732-1734 1752-1753 1772-1773 17b4-17d3 17dd 1885-1886 18a9 1920-192b 1930-193b
    1a17-1a1b 1a55-1a5e 1a60-1a7c 1a7f 1ab0-1ace 1b00-1b04 1b34-1b44 1b6b-1b73 1b80-1b82 1ba1-1bad 1be6-1bf3
    1c24-1c37 1cd0-1cd2 1cd4-1ce8 1ced 1cf4 1cf7-1cf9 1dc0-1dff 20d0-20f0 2cef-2cf1 2d7f 2de0-2dff 302a-302f
    3099-309a a66f-a672 a674-a67d a69e-a69f a6f0-a6f1 a802 a806 a80b a823-a827 a82c a880-a881 a8b4-a8c5 a8e0-a8f1
    a8ff a926-a92d a947-a953 a980-a983 a9b3-a9c0 a9e5 aa29-aa36 aa43 aa4c-aa4d aa7b-aa7d aab0 aab2-aab4 aab7-aab8
    aabe-aabf aac1 aaeb-aaef aaf5-aaf6 abe3-abea abec-abed fb1e fe20-fe2f 101fd 102e0 10376-1037a 10a01-10a03
    10a05-10a06 10a0c-10a0f 10a38-10a3a 10a3f 10ae5-10ae6 10d24-10d27 10eab-10eac 10f46-10f50 10f82-10f85
    11000-11002 11038-11046 11070 11073-11074 1107f-11082 110b0-110ba 110c2 11100-11102 11127-11134 11145-11146
    11173 11180-11182 111b3-111c0 111c9-111cc 111ce-111cf 1122c-11237 1123e 112df-112ea 11300-11303 1133b-1133c
    1133e-11344 11347-11348 1134b-1134d 11357 11362-11363 11366-1136c 11370-11374 11435-11446 1145e 114b0-114c3
    115af-115b5 115b8-115c0 115dc-115dd 11630-11640 116ab-116b7 1171d-1172b 1182c-1183a 11930-11935 11937-11938
    1193b-1193e 11940 11942-11943 119d1-119d7 119da-119e0 119e4 11a01-11a0a 11a33-11a39 11a3b-11a3e 11a47
    11a51-11a5b 11a8a-11a99 11c2f-11c36 11c38-11c3f 11c92-11ca7 11ca9-11cb6 11d31-11d36 11d3a 11d3c-11d3d
    11d3f-11d45 11d47 11d8a-11d8e 11d90-11d91 11d93-11d97 11ef3-11ef6 16af0-16af4 16b30-16b36 16f4f 16f51-16f87
    16f8f-16f92 16fe4 16ff0-16ff1 1bc9d-1bc9e 1cf00-1cf2d 1cf30-1cf46 1d165-1d169 1d16d-1d172 1d17b-1d182
    1d185-1d18b 1d1aa-1d1ad 1d242-1d244 1da00-1da36 1da3b-1da6c 1da75 1da84 1da9b-1da9f 1daa1-1daaf 1e000-1e006
    1e008-1e018 1e01b-1e021 1e023-1e024 1e026-1e02a 1e130-1e136 1e2ae 1e2ec-1e2ef 1e8d0-1e8d6 1e944-1e94a
"""


def _scan_marks(spans: Iterable[tuple[int, int]] = ((0, 0x20000), (0xE0000, 0xE1000))) -> str:
    """The combining marks in the given code point spans (half-open) that are not IGNORABLE, as hex ranges in
    the format of _MARK_RANGES. Marks live only in planes 0, 1 and 14 (the default spans)."""
    ignorable = re.compile(f"[{IGNORABLE}]")
    ranges: list[list[int]] = []
    for lo, hi in spans:
        for c, cat in enumerate(map(unicodedata.category, map(chr, range(lo, hi))), lo):
            if cat[0] == "M" and not ignorable.match(chr(c)):
                if ranges and ranges[-1][1] == c - 1:
                    ranges[-1][1] = c
                else:
                    ranges.append([c, c])
    return " ".join(f"{a:x}" if a == b else f"{a:x}-{b:x}" for a, b in ranges)


def _char_classes(ranges: str) -> tuple[str, str]:
    """The bodies of two regex character classes for hex ranges "300-36f 5bf ...": the ranges below U+10000 and
    those above (the characters themselves: none of them is special in a class)."""
    out: tuple[list[str], list[str]] = ([], [])
    for r in ranges.split():
        lo, _, hi = r.partition("-")
        out[int(lo, 16) > 0xFFFF].append(chr(int(lo, 16)) + (f"-{chr(int(hi, 16))}" if hi else ""))
    return "".join(out[0]), "".join(out[1])


_BMP_MARKS, _ASTRAL_MARKS = _char_classes(_MARK_RANGES if unicodedata.unidata_version == _MARKS_UNICODE
                                          else _scan_marks())
MARKS = _BMP_MARKS + _ASTRAL_MARKS  # the body of a character class of every mark WORD takes into a word
# A class fails only after testing each of its ranges above U+FFFF in turn (109 for the marks), which a word
# pattern does at the end of every word; behind this lookahead only astral characters pay for them.
_ASTRAL = "(?=[\U00010000-\U0010ffff])"
MARK = f"(?:[{_BMP_MARKS}]|{_ASTRAL}[{_ASTRAL_MARKS}])"  # one mark, as a regex
_MARK = re.compile(MARK)
_MAYBE_MARK = re.compile(f"[{_BMP_MARKS}\U00010000-\U0010ffff]")  # a BMP mark or any astral character


def has_mark(text: str) -> bool:
    """Whether the text has a combining mark of MARKS (~8 us for 2,000 characters without any)."""
    return _MAYBE_MARK.search(text) is not None and _MARK.search(text) is not None


# A word: word characters, each possibly followed by combining marks, with invisible characters between them
# (never at its ends; a mark at the start of a word, after a space, is left out as before). Possessive: \w,
# MARKS and IGNORABLE are disjoint, so nothing is gained by backtracking. On accented French it cuts ~25% slower
# than the pattern without marks (~0.04 us a word; ~85% slower without the lookahead). None of the marks or
# invisible characters is ASCII, so an ASCII text (most normalised English text) is cut with the plain
# ASCII_WORD, which is ~20% faster.
_LETTERS = f"[\\w{_BMP_MARKS}]*+"  # more word characters and BMP marks
WORD = re.compile(rf"\w{_LETTERS}(?:{_ASTRAL}[{_ASTRAL_MARKS}]{_LETTERS}|[{IGNORABLE}]++\w{_LETTERS})*+")
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
            ("\u00a0", " "), ("\u2026", "."),
            ("\u0130", "i"))  # capital I with dot above: lower() makes it i + a combining dot, two characters


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
    Latin letters mapped to Latin, then accents and other combining marks stripped. A word that keeps no ASCII
    letter (Russian, Greek, Hindi, Hebrew) is kept, less its invisible characters, NFC-composed: its NFD and
    NFC spellings are one word."""
    if word.isascii():
        return word
    if _IGNORABLE.search(word):
        word = _IGNORABLE.sub("", word)
    if mixes_lookalikes(word):
        word = word.translate(_DECONFUSE)
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode() or unicodedata.normalize("NFC", word)


@dataclass(frozen=True, slots=True)
class Token:
    word: str  # lower-cased, folded (`fold`: invisible characters dropped, lookalikes, accents and marks folded)
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
