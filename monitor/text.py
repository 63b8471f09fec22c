"""Text normalisation shared by fingerprinting and matching.

Everything here keeps character offsets into the original text, so that evidence passages
point at the exact characters of the article and of the page.

Three tricks hide a verbatim copy from word-level matching without changing how it looks: invisible
characters inside words (soft hyphens from hyphenation plugins or `&shy;`, zero-width spaces and joiners,
word joiners, BOMs), homoglyphs (Latin letters swapped for lookalikes: small capitals, circled or squared
letters, the Latin alpha or dotless i, Cyrillic, Greek or Armenian letters) and text written backwards inside a
right-to-left override. All are undone without moving any offset. WORD takes invisible characters between word
characters into the word (the token still spans the original characters), and `fold` drops them from the
token's word. `normalize` reads each lookalike as its letter, one character for one: the Latin ones and the
letter symbols everywhere, the Cyrillic, Greek and Armenian ones in a word of lookalikes only when its line is
Latin text (a Russian or Greek text keeps its words); `fold` maps those of a word that mixes them with Latin
letters. `normalize` also puts the run of each right-to-left override in display order; a word there spans its
own characters of the text (written backwards), and a sentence there spans the whole run (`sentences`).

Combining marks (categories Mn, Mc, Me) are not word characters to Python's regular expressions, yet each is
part of the letter before it: the decomposed accents of NFD text (macOS and some CMSs write "é" as "e" + U+0301),
Indic vowel signs and viramas, Hebrew points, Arabic harakat, Thai vowels and tone marks. Cut at its marks, an
NFD copy of an NFC article shares few of its words and 3-grams, and a Hindi word falls into pieces. So WORD keeps
the marks after a word character inside the word (the token spans them, offsets do not move); `fold` drops them
from a word with Latin letters along with its accents (NFD and NFC "république" both read "republique") and
NFC-composes a word that keeps no ASCII letter, so the NFD and NFC spellings of a Hindi or Hebrew word are equal.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

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

# Lookalikes: characters a reader takes for a Latin letter, one character for one, so that a copy written in them
# reads as the article's words. Chosen from Unicode's confusables for the letters a-z (by hand, single characters
# only, no file copied) and from unicodedata: NFKC, and the character names of the small capitals and letter
# symbols (tests/test_text_evasion.py checks these tables against this Python's unicodedata). Keys are lower-cased:
# texts are lower-cased before they are read. Two kinds:
#
# 1. Read as Latin everywhere (normalize): Latin letters that NFKD leaves alone (so the accent fold dropped them)
#    and letter symbols that are no word characters to `\w` (category So, so WORD cut the word at each of them).
_LATIN_ANYWHERE = {
    # "LATIN LETTER SMALL CAPITAL X" for one letter X (there is no small capital X)
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k",
    "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ꞯ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    # Latin letters confusable with a-z: alpha, script g, dotless i and j, iota, dental click (an l or I)
    "ɑ": "a", "ɡ": "g", "ı": "i", "ȷ": "j", "ɩ": "i", "ǀ": "l",
}
# The letter symbols, as runs of the alphabet from a first code point: parenthesized small letters (NFKC "(a)"),
# circled capitals and small letters (NFKC "A", "a"; lower() maps the capitals to the small ones), parenthesized,
# squared, negative circled and negative squared capitals (no lower case; NFKC "(A)", "A", none for the negative
# ones), and three stragglers: circled italic C and R, negative squared small d.
for _first, _letters in ((0x249C, "abcdefghijklmnopqrstuvwxyz"), (0x24B6, "abcdefghijklmnopqrstuvwxyz"),
                         (0x24D0, "abcdefghijklmnopqrstuvwxyz"), (0x1F110, "abcdefghijklmnopqrstuvwxyz"),
                         (0x1F130, "abcdefghijklmnopqrstuvwxyz"), (0x1F150, "abcdefghijklmnopqrstuvwxyz"),
                         (0x1F170, "abcdefghijklmnopqrstuvwxyz"), (0x1F12B, "cr"), (0x1F1A5, "d")):
    _LATIN_ANYWHERE.update((chr(_first + _k), _c) for _k, _c in enumerate(_letters))
del _first, _letters
# A class with ranges above U+FFFF is tested range by range (~20 ns a character for these) unless it has one range
# of them at most: so one range for the astral symbols, and the table says which of its characters are letters.
_ANYWHERE = re.compile(f"[{''.join(c for c in _LATIN_ANYWHERE if c < chr(0x10000))}\U0001f110-\U0001f1a5]")

# 2. Letters of Cyrillic, Greek and Armenian, scripts written on their own: read as Latin inside a word with Latin
#    letters ("pаssеnger"), and in a word of lookalikes only ("роӏісе") when its line is Latin text (the rule is in
#    _latin_words); a Russian, Greek or Armenian word in Russian, Greek or Armenian text keeps its letters. Some
#    stand for a capital: Cyrillic в, н, м, т and Greek η, μ are lower-cased B, H, M, T, H, M. Matched after NFKD,
#    so an accented one (ё, ά) is its base letter.
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ү": "y", "ѵ": "v", "ѡ": "w",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Armenian (օ, ս, լ also for the capitals Օ, Ս, Լ)
    "օ": "o", "ս": "u", "ո": "n", "հ": "h", "ց": "g", "զ": "q", "լ": "l", "ա": "w",
}
_DECONFUSE = str.maketrans(_LOOKALIKES)
_LOOKALIKE = re.compile(f"[{''.join(_LOOKALIKES)}]")
_LATIN = re.compile("[a-z]")
_ANY_LOOKALIKE = re.compile(f"[{_ANYWHERE.pattern[1:-1]}{''.join(_LOOKALIKES)}]")
# A word of lookalikes only (with marks and invisible characters inside): no word character, mark or invisible
# character before it (an invisible character at its start is taken in), no word character after it. (BMP marks and
# invisible characters only: see _ANYWHERE.)
_BMP_IGNORABLE = re.sub("[\U00010000-\U0010ffff](?:-[\U00010000-\U0010ffff])?", "", IGNORABLE)
_LOOKALIKE_WORD = re.compile(f"(?<![\\w{_BMP_MARKS}{_BMP_IGNORABLE}])[{_BMP_IGNORABLE}]*+[{''.join(_LOOKALIKES)}]"
                             f"[{''.join(_LOOKALIKES)}{_BMP_MARKS}{_BMP_IGNORABLE}]*+(?!\\w)")
# Letters of the Latin script (lower case, with the small capitals); a word with one is a Latin word, a word with a
# letter of another script that is no lookalike is a foreign word (Russian "что", Greek "είναι"); a word of
# lookalikes only is neither, and so is one of mathematical letters or other characters above U+FFFF.
_LATIN_RANGES = ("a-z\u00aa\u00b5\u00ba\u00df-\u00f6\u00f8-\u024f\u0250-\u02af\u1d00-\u1dbf\u1e00-\u1eff"
                 "\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\uff41-\uff5a")
_LATIN_LETTER = re.compile(f"[{_LATIN_RANGES}]")
_LATIN_WORD = re.compile(f"[{_LATIN_RANGES}]\\w*+")  # one match a word, from its first Latin letter
_FOREIGN_WORD = re.compile(f"(?![{_LATIN_RANGES}{''.join(_LOOKALIKES)}\\U00010000-\\U0010ffff])[^\\W\\d_]\\w*+")


def _latin_line(line: str) -> bool | None:
    """Whether a (lower-cased) line is Latin text: it has more Latin words than foreign ones (None: neither)."""
    latin = len(_LATIN_WORD.findall(line))
    if not latin:  # most lines of a Russian or Greek text
        return False if _FOREIGN_WORD.search(line) else None
    # Not Latin as soon as as many foreign words as Latin ones are found (a Russian line with an English name).
    return all(k < latin for k, _ in enumerate(_FOREIGN_WORD.finditer(line), 1))


def _latin_word(m: re.Match[str]) -> str:
    return m.group().translate(_DECONFUSE)


def _latin_words(text: str) -> str:
    """The (lower-cased) text with its words of lookalikes only read as Latin, in the lines that are Latin text.

    A line (a paragraph, in most texts) is Latin text when it has more words with a Latin letter than words with a
    letter that can only be read as another script (б, д, л, я; γ, λ, π, ά), words of lookalikes only aside: a copy
    whose every Latin letter with a Cyrillic lookalike was swapped keeps a Latin letter in most words, and most words
    of a Russian or Greek line have a letter that looks like no Latin one, an English name in it or not. A line with
    neither (a heading of lookalikes only) goes by the whole text."""
    if _LATIN_LETTER.search(text) is None:  # no line is Latin text (a Russian or Greek text)
        return text
    lines = text.split("\n")
    whole: bool | None = None
    changed = False
    for k, line in enumerate(lines):
        if _LOOKALIKE.search(line) is None:  # the lines of an English text without lookalikes
            continue
        latin = _latin_line(line)
        if latin is None:
            if _LOOKALIKE_WORD.search(line) is None:
                continue
            if whole is None:
                whole = bool(_latin_line(text))
            latin = whole
        if latin:
            new = _LOOKALIKE_WORD.sub(_latin_word, line)
            if new != line:
                lines[k], changed = new, True
    return "\n".join(lines) if changed else text


# Right-to-left override (U+202E RLO, up to its U+202C PDF or the end of the line) displays the characters of its
# run in reverse order: a copy may be written backwards inside one ("\u202e" + "yrref" + "\u202c" shows "ferry").
# The run is read in display order: reversed, with its mirrored brackets swapped (an RLO run shows "(" as ")").
_RLO, _PDF = "\u202e", "\u202c"
_EMBEDDING = "\u202a\u202b\u202d\u202e"  # LRE, RLE, LRO, RLO: each ends at its own PDF
_BIDI_STOP = re.compile("[\n\r\x1c-\x1e\x85\u2029\u202a-\u202e]")  # paragraph separators, embeddings, PDF
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\U00010800-\U00010fff\U0001e800-\U0001efff]")
_MIRRORED = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")


def override_runs(text: str) -> list[tuple[int, int]]:
    """The runs of right-to-left overrides that are read backwards, as (start, end) offsets of the characters
    between an RLO and its PDF (or the end of the line: a paragraph separator ends every override). A run with a
    right-to-left letter (Hebrew, Arabic, ...) is left as it is: those are stored in reading order already."""
    runs: list[tuple[int, int]] = []
    i = text.find(_RLO)
    while i >= 0:
        depth, end = 0, len(text)
        for m in _BIDI_STOP.finditer(text, i + 1):
            c = m.group()
            if c in _EMBEDDING:
                depth += 1
            elif c != _PDF or depth == 0:
                end = m.start()
                break
            else:
                depth -= 1
        if end > i + 1 and not _RTL_LETTER.search(text, i + 1, end):
            runs.append((i + 1, end))
        i = text.find(_RLO, end)
    return runs


def _display(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text in display order (its override runs reversed: the same length, each run on its own characters),
    and the runs."""
    if _RLO not in text:
        return text, []
    runs = override_runs(text)
    if not runs:
        return text, runs
    parts, done = [], 0
    for a, b in runs:
        parts += (text[done:a], text[a:b][::-1].translate(_MIRRORED))
        done = b
    parts.append(text[done:])
    return "".join(parts), runs


def _run_of(runs: list[tuple[int, int]], i: int) -> int:
    """The index of the run holding offset i, or -1."""
    k = bisect.bisect_right(runs, (i, 1 << 62)) - 1
    return k if k >= 0 and i < runs[k][1] else -1


def _source(runs: list[tuple[int, int]], i: int) -> int:
    """The offset in the text of the character at offset i of its display order (and the reverse: a run is its own
    mirror image)."""
    k = _run_of(runs, i)
    return i if k < 0 else runs[k][0] + runs[k][1] - 1 - i


def _source_span(runs: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """The characters of the text that a span of the display order shows: the same span outside runs (or across
    whole runs), its mirror image inside one run (one character for one), and the smallest span holding them all
    when it crosses the edge of a run (its mirror image is not contiguous with the rest)."""
    k, j = _run_of(runs, start), _run_of(runs, end - 1)
    if k == j:
        if k < 0:
            return start, end
        a, b = runs[k]
        return a + b - end, a + b - start
    where = [_source(runs, i) for i in range(start, end)]
    return min(where), max(where) + 1


def fold_typography(text: str) -> str:
    """Curly quotes, dashes, no-break spaces and ellipses to ASCII, then lower case: `normalize` without lookalikes
    and overrides (all it did up to NORMALISATION_VERSION 3 of monitor.fingerprint)."""
    if not text.isascii():
        for a, b in _REPLACE:
            if a in text:
                text = text.replace(a, b)
    return text.lower()


def _normalized(shown: str) -> str:
    """normalize() of a text in display order."""
    text = fold_typography(shown)
    if text.isascii():
        return text
    try:
        text.encode("latin-1")  # ~2 us for 100 KB: no lookalike is in Latin-1 (a regex scan costs ~0.3 ms)
        return text
    except UnicodeEncodeError:
        pass
    if _ANY_LOOKALIKE.search(text) is None:
        return text
    for c in set(_ANYWHERE.findall(text)):
        if c in _LATIN_ANYWHERE:
            text = text.replace(c, _LATIN_ANYWHERE[c])
    if _LOOKALIKE.search(text):
        text = _latin_words(text)
    return text


def normalize(text: str) -> str:
    """Unicode-fold text without changing its length (NFKC may change length, so only per char): typography (curly
    quotes, dashes, no-break spaces) to ASCII, lower case, lookalikes of Latin letters to them (everywhere, or in
    Latin text), right-to-left override runs in display order."""
    if text.isascii():
        return text.lower()
    return _normalized(_display(text)[0])


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


def mixes_lookalikes(word: str) -> bool:
    """True when a (lower-cased) word has Latin letters and Cyrillic/Greek/Armenian lookalikes (after NFKD, so an
    accented one counts): a homoglyph swap."""
    d = unicodedata.normalize("NFKD", word)
    return _LOOKALIKE.search(d) is not None and _LATIN.search(d) is not None


def fold(word: str) -> str:
    """A word's comparable form: invisible characters dropped, compatibility forms decomposed (NFKD: fullwidth and
    mathematical letters, ligatures), the lookalikes of a word that mixes them with Latin letters mapped to Latin,
    then accents and other combining marks stripped. A word that keeps no ASCII letter (Russian, Greek, Hindi,
    Hebrew) is kept, less its invisible characters, NFC-composed: its NFD and NFC spellings are one word. (The
    lookalikes read as Latin everywhere, and words of lookalikes only in Latin text, are read by `normalize`.)"""
    if word.isascii():
        return word
    if _IGNORABLE.search(word):
        word = _IGNORABLE.sub("", word)
    d = unicodedata.normalize("NFKD", word)
    if _LOOKALIKE.search(d) is not None and _LATIN.search(d) is not None:
        d = d.translate(_DECONFUSE)
    return d.encode("ascii", "ignore").decode() or unicodedata.normalize("NFC", word)


class Token(NamedTuple):
    """A word of a text. A named tuple rather than a frozen dataclass: a page or article has hundreds of words, and a
    frozen dataclass's __init__ (one object.__setattr__ per field) made building them a third of `tokens`' time.
    Immutable and hashed by its fields, as before."""

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


# Verbs that introduce someone else's words: a line ending in a colon whose last sentence has one of them among its last
# LEAD_IN_WORDS words ("It says:", "Police said in a statement after the hearing:", "The notice reads:") is a lead-in,
# and the paragraph after it is what it quotes. Forms that are as often nouns or imperatives ("states" in "United
# States:", "note", "comment", "read more:", "add to basket:") are left out.
SPEECH_VERBS = frozenset(
    """said says saying added adds stated reads wrote writes told tells warned warns explained explains announced
    announces declared declares continued commented noted remarked insisted urged tweeted posted replied responded
    answered asked asks concluded acknowledged admitted confirmed confirms claimed argued advised advises pleaded
    appealed""".split())
LEAD_IN_WORDS = 7
_LINE = re.compile(r"[^\n]*\S[^\n]*")
_LAST_SENTENCE = re.compile(r"(?:.*[.!?][\"'”’»)\]]*\s+)?(.*)", re.S)
_LEAD_IN_END = re.compile(r":[\"'”’»)\]]*\s*$")
_PARA_END = re.compile(r"[.!?…][\"'”’»)\]]*\s*$")
BLOCK_SHARE = 0.5  # blocks making up this share of a text's words or more are not read as quotation


def is_lead_in(sentence: str) -> bool:
    """Whether a sentence introduces a quotation: it ends with a colon, and one of its last LEAD_IN_WORDS words is a
    verb of saying (SPEECH_VERBS)."""
    if not _LEAD_IN_END.search(sentence):
        return False
    return any(w in SPEECH_VERBS for w in re.findall(r"\w+", sentence.lower())[-LEAD_IN_WORDS:])


def block_quote_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs quoted without quotation marks: a line of prose right after a lead-in line (one ending in a colon
    whose last sentence has a verb of saying, `is_lead_in`), as a statement, warning or notice quoted as a block
    reads once its blockquote has lost its markup in extraction. One paragraph per lead-in: where a block ends is
    not marked, and the next paragraph is as likely the writer's own. A text whose blocks make up BLOCK_SHARE of its
    words or more is not quoting a statement: it is one (or a copy dressed as quotation), and none is read."""
    if ":" not in text:
        return []
    lines = list(_LINE.finditer(text))
    spans = []
    for k in range(len(lines) - 1):
        line = lines[k].group()
        if not _LEAD_IN_END.search(line):
            continue
        last = _LAST_SENTENCE.match(line.strip())
        if last is None or not is_lead_in(last.group(1)):
            continue
        block = lines[k + 1]
        if _PARA_END.search(block.group()) and not _LEAD_IN_END.search(block.group()):
            spans.append(block.span())
    if spans:
        quoted = sum(len(re.findall(r"\w+", text[a:b])) for a, b in spans)
        if quoted >= BLOCK_SHARE * len(re.findall(r"\w+", text)):
            return []
    return spans


# A publication quoted as a writer is the subject of one of these ("The Herald wrote:", "..., the Herald reported.").
# ("put" only as "put it", and nothing that a paper does to another's words: "published the statement in full".)
_WRITER_VERBS = frozenset("""wrote writes writing reported reports reporting said says say explained explains noted
    notes added adds described describes summed sums continued continues""".split())
_WRITING = frozenset("wrote writes writing reported reports reporting".split())  # what the paper's people do in it
_PERSON_WORDS = frozenset("editor writer critic chief correspondent reporter reporters journalist columnist".split())
# Words that may stand between a publication and its verb: its piece, a time, an auxiliary ("The Herald's report on
# Tuesday said", "The Herald has reported", "what the Herald had to say").
_BETWEEN_WORDS = frozenset("""on in its a an the this that last earlier late early yesterday today tonight week month
    year morning afternoon evening night weekend report story article piece editorial feature website site account
    coverage reporter reporters journalist columnist correspondent editor writer critic chief senior deputy political
    business football sports health science education crime arts also then first recently previously originally
    online print edition has have had is was are were been will would now to monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september october november
    december""".split())
# A word before the publication that makes it another's audience or source, not the writer quoted: "told the Herald",
# "first reported by the Herald", "responding to the Herald's report", "asked by the Herald".
_NOT_WRITER = frozenset("told tell tells telling to by asked asks for with contacted approached against".split())
_OPENERS = frozenset("from via in".split())  # opening the sentence: "From the Herald:", "In the Herald's words:"
# Words that may stand between a writer clause and the quotation it gives besides `_BETWEEN_WORDS` ("The Herald put it
# as follows:"). Any other word names what is quoted, and so whose it is: "reported the club's announcement:",
# "reported that police said:", "According to the Herald, the results showed:".
_AS_WORDS = frozenset("it as follows".split())
_ASIDE_WORDS = frozenset("our my translation translated paywall paywalled emphasis mine added".split())
# Words of a link that make it a link naming the publication or its piece (with the site's name or a credit name).
_PIECE_WORDS = frozenset("paper newspaper story report article piece coverage reporting editorial column".split())
_CLOSES = "\"”»"
_WORD_OR_MARK = re.compile(r"[\w’'-]+|[^\w\s]")
_SIGN = r"\s*(?:[—–(]|--)"  # a dash or bracket that signs a quotation: '"..." — Dunmore Herald', "(Herald, Tuesday)"
_SIGNED = re.compile(_SIGN + r"\s*(?:the\s+)?$", re.I)
_ELIDED = re.compile(r"\s*[\[(]?(?:\.\s?){3}[\])]?\s*|\s*[\[(]?…[\])]?\s*")  # a line "[...]" between quoted ones
_SENTENCE_END = re.compile(r"[.!?]")
_LOOK_BACK = 160  # characters read before a name for the words that make it a writer (a clause's opening is near)
_GAP_WORDS = 6  # words of time, kind or tense between a paper and its verb ("on Tuesday", "has been", "'s report")
_NAME_WORDS = 3  # words of a writer's name after the paper's possessive ("the Herald's Sam Okafor writes")
_ASIDE_LEN = 6  # words of an aside in commas after the paper or its writer ("The Herald, our local paper, wrote")


def _writer_clauses(text: str, start: int, end: int, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Clauses of text[start:end] (a line) in which a publication named at one of `spans` is the writer quoted: it
    is the subject of a verb of writing (`_WRITER_VERBS`, a few words of time or kind between: "The Herald wrote on
    Tuesday", "the Herald's report said", "The Herald has reported", "the Herald's Sam Okafor writes"; "..., the Herald
    put it"; an aside in commas that only describes: "The Herald, our local paper, wrote"), it follows "according
    to", or "from" or "in" opening the sentence ("From the Herald on Tuesday:", "In the Herald's words:"), a dash or
    bracket signing a quotation ("— Dunmore Herald", "(Dunmore Herald, Tuesday)"), it opens a line with a colon
    ("Dunmore Herald: ..."), or its piece ends a lead-in ("Here is the Herald's story:"). Not when it is someone's
    audience or source ("told the Herald", "first reported by the Herald": `_NOT_WRITER`), part of a longer name ("the
    Kelby Herald"), or its verb is passive ("reported by")."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        # The words before it in its sentence: the last few are enough (a sentence that opens further back is not one
        # it opens), and a line of many names stays linear.
        head = text[max(start, s - _LOOK_BACK):s]
        cut = max(head.rfind(c) for c in ".!?:;\"“”«»")
        if cut < 0 and s - _LOOK_BACK > start:
            head = "x " + head  # not the sentence's opening
        before = [w.lower() for w in re.findall(r"[\w’']+", head[cut + 1:])]
        if before and before[-1] == "the":
            before.pop()
        if (_SIGNED.search(head) or before[-2:] == ["according", "to"] or (len(before) == 1 and before[0] in _OPENERS)
                or (len(before) >= 2 and before[-1] == "from" and before[-2] in _PIECE_WORDS)  # "the story from"
                or (len(before) >= 2 and before[-1] == "in" and before[-2] in ("wrote", "writes", "writing"))):
            # "Sam Okafor wrote in the Herald:", "Writing in the Herald, Sam Okafor said": its writer's words
            m = re.match(r"[’']s\s+\w+", text[e:end])
            out.append((s, e + (m.end() if m else 0)))
            continue
        if before and before[-1] in _NOT_WRITER:
            continue
        # A capitalised word just before it, not opening the sentence, makes it part of another name: "the Kelby
        # Herald" is not "Herald".
        m = re.search(r"(\w[\w’'-]*)\s+$", head[cut + 1:])
        if m and m.group(1)[0].isupper() and m.group(1) not in ("The", "THE") and head[cut + 1:m.start()].strip():
            continue
        clause_end = None
        seen = 0
        possessive = piece = person = False
        names = 0
        aside = -1  # words read of an aside in commas; -1: none yet, -2: closed (one is read)
        for m in _WORD_OR_MARK.finditer(text, e, end):
            word = m.group()
            w = word.lower()
            if aside >= 0:  # words that describe, not another speaker or the paper's audience ("contacted by us")
                if w == ",":
                    aside = -2
                    continue
                if (aside == _ASIDE_LEN or w in SPEECH_VERBS or w in _WRITER_VERBS or w in _NOT_WRITER
                        or not (w[0].isalnum() or w in "'’-")):
                    break
                aside += 1
                continue
            if w == "," and aside == -1:
                aside = 0
                continue
            if w in ("’s", "'s", "’", "'") and seen == 0:
                possessive = True
                continue
            if w == ":":  # "Here is the Herald's story:", "The Herald has the story:", a line opening "Dunmore Herald:"
                clause_end = m.start() if possessive or piece or (not before and seen == 0) else None
                break
            if w == "put":  # "as the Herald put it"
                nxt = _WORD_OR_MARK.search(text, m.end(), end)
                clause_end = nxt.end() if nxt is not None and nxt.group().lower() == "it" else None
                break
            if w in _WRITER_VERBS:
                # The paper's people write the article; what they say is theirs ("the Herald's editor said:").
                clause_end = m.end() if not person or w in _WRITING else None
                break
            if possessive and word[0].isupper() and w not in _BETWEEN_WORDS and names < _NAME_WORDS:
                # its own writer, by name and title ("the Herald's chief reporter Sam Okafor"; not "on Saturday")
                names += 1
                person = True
                continue
            person = person or (possessive and w in _PERSON_WORDS)
            piece = piece or w in _PIECE_WORDS
            if not (w in _BETWEEN_WORDS or w in _PIECE_WORDS or w.isdigit()) or seen == _GAP_WORDS:
                break
            seen += 1
        if clause_end is None or re.match(r"\s+by\b", text[clause_end:end]):
            continue
        out.append((s, clause_end))
    return out


def _gives(between: str) -> bool:
    """Whether text between a writer clause and a quotation leaves the quotation the writer's: within the clause's
    sentence, nothing but words of time or kind, "that", commas and an aside in brackets ("The Herald wrote on
    Tuesday that", "The Herald reported (our translation):"). A word that says what is quoted says whose it is."""
    if _SENTENCE_END.search(between):
        return False
    # An aside goes unread when its words are all of this kind too, or a translator's or a paywall's note.
    words = re.findall(r"[\w’']+", between.lower())
    return all(w in _BETWEEN_WORDS or w in _AS_WORDS or w in _ASIDE_WORDS or w.isdigit() for w in words)


def _nearest(starts: list[int], ends: list[int], a: int, b: int) -> tuple[int | None, int | None]:
    """The end of the nearest clause before `a` and the start of the nearest after `b` (both lists sorted)."""
    k = bisect.bisect_right(ends, a)
    m = bisect.bisect_left(starts, b)
    return (ends[k - 1] if k else None), (starts[m] if m < len(starts) else None)


def _given_after_colon(text: str, a: int, starts: list[int], ends: list[int]) -> bool:
    """Whether the quotation at `a` follows its clause's colon ("The Dunmore Herald wrote: “..."): a blogger's first
    pasted paragraph on the lead-in's line, the next ones below it."""
    before, _ = _nearest(starts, ends, a, a)
    return before is not None and text[before:a].rstrip().endswith(":")


def _given(text: str, a: int, b: int, starts: list[int], ends: list[int]) -> bool:
    """Whether the quotation text[a:b] is the writer clauses': after one in its sentence (`_gives`), or right before
    one ('"...," the Herald wrote', '"..." — Dunmore Herald'; not a quotation ending a sentence before "The Herald")."""
    # The nearest clause on either side decides: one further off has that one's words (its verb) between.
    before, after = _nearest(starts, ends, a, b)
    return (before is not None and _gives(text[before:a].rstrip().removesuffix(":"))) or (after is not None and bool(
        _SIGNED.fullmatch(text[b:after]) or (re.fullmatch(r"[\s,]*(?:the\s+)?", text[b:after])
                                             and text[a:b].rstrip(_CLOSES + " ")[-1:] not in ".!?")))


_SECOND_LEVEL = frozenset("co com org net ac gov ltd plc".split())  # "herald.co.uk": the name is before these
_SITE_NAME_CHARS = 5  # a site's name shorter than this ("sky", "bbc") is inside too many words to go by


def _site_name(host: str) -> str:
    """The name part of a host, without subdomains or suffixes: "m.dunmoreherald.example" -> "dunmoreherald"."""
    labels = host.lower().split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


def _link_names(words: str, patterns: list[re.Pattern[str]], host: str) -> bool:
    """Whether a link's words name the publication or its piece: a credit name (`patterns`, as `cited_spans` matches
    them), the site's name ("The Dunmore Herald" for dunmoreherald.example), or a word for a piece ("this story", "the
    paper's report"). A speaker or a verb linked to the story where the blogger read it ("<a>The fire service</a>
    said") names neither."""
    if any(p.search(words) for p in patterns) or (_PIECE_WORDS & set(re.findall(r"\w+", words.lower()))):
        return True
    site = _site_name(host) if host else ""
    squashed = re.sub(r"\W+", "", words.lower()).removeprefix("the")
    # The link's words, run together, are the site's name or a part of it ("Herald" for dunmoreherald), not more
    # ("Heraldry expert" is no link to herald.example's name).
    return len(site) >= _SITE_NAME_CHARS and len(squashed) >= _SITE_NAME_CHARS and squashed in site


def cited_spans(text: str, names: Iterable[str] = (), anchors: Iterable[tuple[str, str]] = (),
                host: str = "") -> list[tuple[int, int]]:
    """The quotation of a page that, by the page's own account, is the words of the article it cites: quotation the
    page gives to the article's publication as its writer (`_writer_clauses`), named as one of `names` (the user's
    publications, matched as written or in capitals, whole words, a leading "The" in any case; a name in lower case,
    such as a site's host, in any case) or by a link to the article (`anchors`: (link text, its paragraph), from the
    extractor) whose words name the publication or its piece (`_link_names`; `host`: the article's site). In a line
    with such a clause, the spans in quotation marks after it in its sentence (or right after the colon that ends it),
    with nothing between but words of time or kind (`_gives`: "The Herald reported that police said:" gives the
    quote to the police), or right before it ("...," the Herald wrote; "..." — Dunmore Herald); a quotation it ends
    the line with that is still open, or that follows its colon, carried on by the next lines that are wholly
    quotation (news style for a quote of several paragraphs; a line "[...]" between them), unless someone else signs
    them; and when the line is a lead-in naming it as the writer ("The Dunmore Herald wrote on Tuesday:"), the block
    it introduces (`block_quote_spans`) and the wholly quoted lines after. A line that signs a quotation with a dash
    ("— Dunmore Herald, Tuesday", alone or after a paragraph-long quotation) gives it the wholly quoted lines right
    above, unless a line ending in a colon introduced them.

    A quotation is discounted because independent reports quote the same sources; this one's source is the
    article, so what it quotes of the article's own telling is copied text (match.Prepared.of, `cited`). A quotation
    the page gives to anyone else (the police, a forecaster, a release) stays a quotation, even where the article
    carries the same words as its own and the page names or links the article elsewhere."""
    patterns = []
    keep = [n.strip() for n in names if n.strip()]
    for n in keep:
        bare = re.sub(r"(?i)^the\s+", "", n)
        forms = [bare] if n == n.lower() else [bare, bare.upper()]
        body = "|".join(r"\s+".join(map(re.escape, f.split())) for f in forms)
        patterns.append(re.compile(r"(?<!\w)(?:" + body + r")(?!\w)", re.I if n == n.lower() else 0))
    linked: dict[str, set[str]] = {}  # a line of a linked paragraph: the words of links in it that name the paper
    for words, paragraph in anchors:
        words = words.strip()
        if words and _link_names(words, patterns, host):
            for ln in paragraph.split("\n"):
                if words in ln:
                    linked.setdefault(ln.strip(), set()).add(words)
    if not patterns and not linked:
        return []
    lines = list(_LINE.finditer(text))
    blocks = dict(block_quote_spans(text))
    quotes = quoted_spans(text)
    spans: list[tuple[int, int]] = []

    def quotation_in(line: re.Match[str]) -> list[tuple[int, int]]:
        k = bisect.bisect_left(quotes, (line.start(), -1))
        while k > 0 and quotes[k - 1][1] > line.start():
            k -= 1
        out = []
        while k < len(quotes) and quotes[k][0] < line.end():
            a, b = quotes[k]
            if b > line.start():
                out.append((max(a, line.start()), min(b, line.end())))
            k += 1
        return out

    def wholly_quoted(line: re.Match[str]) -> tuple[int, int] | None:
        inside = quotation_in(line)
        body = line.group()
        first = line.start() + len(body) - len(body.lstrip())
        last = line.start() + len(body.rstrip())
        return inside[0] if len(inside) == 1 and inside[0][0] == first and inside[0][1] >= last else None

    floor = 0  # lines before this one were read already, forwards or backwards: each line is walked once

    def names_paper(line: re.Match[str]) -> bool:
        return any(p.search(text, *line.span()) for p in patterns) or any(
            w in line.group() for w in linked.get(line.group().strip(), ()))

    def signed_by_other(line: re.Match[str]) -> bool:
        """Whether a line signs the quotation above it for someone else: "— Dunmore Town FC", or a quotation ending
        so."""
        body = line.group().strip()
        inside = quotation_in(line)
        tail = body if not inside else text[inside[-1][1]:line.end()].strip()
        # A dash and a name: not a rule ("---"), not a note in brackets ("(Emphasis mine.)"), not the paper's own
        # writer's byline ("— Sam Okafor, chief football writer").
        if not re.match(r"(?:[—–]|--)(?!-)\s*\w", tail):
            return False
        return not names_paper(line) and not (_PERSON_WORDS & set(re.findall(r"\w+", tail.lower())))

    def lift_above(k: int) -> None:
        """The wholly quoted lines right above line k, which signs them: unless a lead-in above introduced them (its
        speaker's), or they were read already."""
        nonlocal floor
        run = []
        above = k - 1
        while above >= floor and (whole := wholly_quoted(lines[above])) is not None:
            run.append(whole)
            above -= 1
        # A line ending in a colon above them introduced them: whose they are it says, not the signature below
        # ("The club put this out at 9.14:"; a blogger's "Here it is:" is lost with it).
        if not (above >= 0 and lines[above].group().rstrip().endswith(":")):
            spans.extend(run)
        floor = max(floor, k)

    k = 0
    while k < len(lines):
        line = lines[k]
        a0, b0 = line.span()
        k += 1
        found = {m.span() for p in patterns for m in p.finditer(text, a0, b0)}
        for words in linked.get(line.group().strip(), ()):
            found |= {m.span() for m in re.compile(r"(?<!\w)" + re.escape(words) + r"(?!\w)").finditer(text, a0, b0)}
        if not found:
            continue
        clauses = _writer_clauses(text, a0, b0, sorted(found))
        if not clauses:
            continue
        body = line.group().rstrip()
        first = line.start() + len(line.group()) - len(line.group().lstrip())
        if body.lstrip().startswith(("—", "–", "--", "(")) and not quotation_in(line):
            lift_above(k - 1)  # a signature line ("— Dunmore Herald, Tuesday") signs the quoted lines above
            continue
        starts, ends = sorted(cs for cs, _ in clauses), sorted(ce for _, ce in clauses)
        lifted = [(a, b) for a, b in quotation_in(line) if _given(text, a, b, starts, ends)]
        spans += lifted
        if lifted and lifted[0][0] == first and re.match(_SIGN, text[lifted[0][1]:b0]):
            lift_above(k - 1)  # a paragraph-long quotation signed with a dash signs the quoted lines above it too
        rest = k
        if body.endswith(":") and any(_gives(text[ce:b0].rstrip().removesuffix(":")) for _, ce in clauses):
            if rest < len(lines) and lines[rest].start() in blocks:  # it introduces the quotation
                spans.append((lines[rest].start(), blocks[lines[rest].start()]))
                rest += 1
        elif not (lifted and lifted[-1][1] >= line.start() + len(body)
                  and (body[-1] not in _CLOSES or _given_after_colon(text, lifted[-1][0], starts, ends))):
            continue  # the line does not end in its quotation, still open or introduced with a colon
        # The quotation goes on in the lines after that are wholly quotation, unless someone else signs them.
        run = []
        while rest < len(lines):
            whole = wholly_quoted(lines[rest])
            if whole is None and not _ELIDED.fullmatch(lines[rest].group()):
                break
            if whole is not None:
                run.append(whole)
            rest += 1
        if not (rest < len(lines) and signed_by_other(lines[rest])):
            spans.extend(run)
        k = floor = max(k, rest)
    return merge_spans(spans)


# A number as written in news: digits with thousands separators, a decimal point or comma, or a time's colon
# ("3,000", "2.5", "4,25", "7:15"), then perhaps "am"/"pm" and a multiplier ("2.5m", "2.5 million", "£3bn"). Not
# inside a word ("BK1701": a model number is a name), and an ordinal's or a unit's letters ("23rd", "80mph") are left.
_NUMBER = re.compile(r"(?<![\w.,:])(\d+(?:[.,:]\d+)*)(?:\s?([ap])\.?m\b\.?)?"
                     r"(?:\s?(thousand|million|billion|trillion|bn|tn|m|k)\b)?", re.I | re.A)
_MULTIPLIERS = {"thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6, "billion": 10**9, "bn": 10**9,
                "trillion": 10**12, "tn": 10**12}
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen").split()
_ORDINAL_UNITS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                  "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_NUMBERS = {w: k for k, w in enumerate(_UNITS)} | {w: k for k, w in enumerate(_ORDINAL_UNITS)} \
    | {w: 20 + 10 * k for k, w in enumerate(_TENS)} | {w[:-1] + "ieth": 20 + 10 * k for k, w in enumerate(_TENS)} \
    | {"hundred": 100}
_UNIT_WORDS = frozenset(_UNITS[1:10] + _ORDINAL_UNITS[1:10])
_SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9}
_SCALES |= {w + "s": v for w, v in _SCALES.items()}  # "forty-eight millions of pounds" (a translation)
_LETTERS_ASCII = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"[0-9]")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _plain(number: str) -> str:
    """A decimal without leading zeros in its whole part or trailing zeros in its fraction: "06.50" -> "6.5"."""
    whole, _, frac = number.partition(".")
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def numbers(text: str, words: Iterable[str] | None = None) -> frozenset[str]:
    """The numbers a text states, each in the forms it may be written in elsewhere, so that two texts stating the
    same number share a form: thousands separators dropped ("3,000" and "3000"), a decimal comma read as a point,
    a time's colon as a point ("7.15am" and "7:15"), an afternoon hour in 24 hours ("3.30pm" and "15:30"), and a
    multiplied number in both forms ("2.5m", "2.5 million" and "2,500,000"). Leading and trailing zeros dropped.
    Number words up to ninety-nine, cardinal and ordinal, are read as their numbers ("three", "eighth",
    "twenty-one", "two hundred"), so that "four" and "4" are one number; "one" alone is not (a pronoun or an
    article as often as a number: "one of the", "no one"). `words`: the text's words lower-cased, when known."""
    out: set[str] = set()
    words = [w.lower() for w in _LETTERS_ASCII.findall(text)] if words is None else list(words)
    k = 0
    while k < len(words):
        word = words[k]
        k += 1
        value = _WORD_NUMBERS.get(word)
        if value is None:
            continue
        if word in _TENS and k < len(words) and words[k] in _UNIT_WORDS:  # "twenty-five", "forty first"
            value += _WORD_NUMBERS[words[k]]
            k += 1
        if k < len(words) and words[k] in _SCALES:  # "two hundred", "one million": in both forms, as "2.5m"
            out.add(str(value))
            value *= _SCALES[words[k]]
            k += 1
        elif word == "one":
            continue  # a pronoun or an article as often as a number ("one of the", "no one")
        out.add(str(value))
    if _DIGIT.search(text) is None:
        return frozenset(out)
    for m in _NUMBER.finditer(text):
        g = m.group(1)
        if _THOUSANDS.fullmatch(g):
            g = g.replace(",", "")
        parts = g.replace(",", ".").replace(":", ".").split(".")
        if len(parts) > 2:  # a date or a version ("18.11.2024"): each part as written
            out.add(".".join(p.lstrip("0") or "0" for p in parts))
            continue
        core = _plain(".".join(parts))
        if m.group(2) and m.group(2).lower() == "p" and len(parts[0]) <= 2 and 1 <= int(parts[0]) < 12:
            core = _plain(f"{int(parts[0]) + 12}.{parts[1]}" if len(parts) == 2 else str(int(parts[0]) + 12))
        out.add(core)
        if m.group(3):
            whole, _, frac = core.partition(".")
            scale = _MULTIPLIERS[m.group(3).lower()]
            value = int(whole) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
            out.add(str(value))
    return frozenset(out)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character spans sorted, overlapping and touching ones joined."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def tokens(text: str) -> list[Token]:
    """The words of a text in reading order, each with its offsets in the text. A word inside a right-to-left
    override run is read in display order and spans its own characters, written backwards there. A word is
    `quoted` inside quotation marks and inside a paragraph quoted as a block after a lead-in (`block_quote_spans`)."""
    shown, runs = _display(text)
    norm = _normalized(shown)
    spans = quoted_spans(shown)
    blocks = block_quote_spans(shown)
    if blocks:
        spans = merge_spans(spans + blocks)
    out: list[Token] = []
    append = out.append
    # tuple.__new__ builds the named tuple without the Python-level __new__ namedtuple generates (same object);
    # this loop runs once per word of every page that is compared with an article.
    new = tuple.__new__
    si, n = 0, len(spans)
    for m in word_pattern(norm).finditer(norm):
        start, end = m.span()
        while si < n and spans[si][1] <= start:
            si += 1
        w = m.group()
        if not w.isascii():  # fold() leaves an ASCII word as it is
            w = fold(w)
        if runs:
            append(new(Token, (w, stem(w), key(w), *_source_span(runs, start, end), si < n and spans[si][0] <= start)))
        else:
            append(new(Token, (w, stem(w), key(w), start, end, si < n and spans[si][0] <= start)))
    return out


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    tokens: tuple[Token, ...]

    @property
    def content(self) -> frozenset[str]:
        return frozenset([t.key for t in self.tokens if t.word not in STOPWORDS])  # Token.content, inlined


def _is_abbrev(text: str, dot: int) -> bool:
    m = re.search(r"([\w.]+)\.$", text[max(0, dot - 12): dot + 1])
    if not m:
        return False
    word = m.group(1).lower()
    return word in ABBREV or len(word) == 1 or bool(re.fullmatch(r"(?:\w\.)+\w", word))


def _sentence_ends(text: str) -> list[int]:
    """Where the sentences of `text` end (an abbreviation's full stop is no end), and the text's end."""
    ends = [m.end() for m in SENT_END.finditer(text) if not (text[m.start()] == "." and _is_abbrev(text, m.start()))]
    ends.append(len(text))
    return ends


def sentences(text: str, toks: list[Token] | None = None) -> list[Sentence]:
    """Split text into sentences with character offsets, each with its tokens."""
    toks = tokens(text) if toks is None else toks
    shown, runs = _display(text)
    if runs:
        return _sentences_shown(shown, runs, toks)
    bounds = _sentence_ends(text)
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


def _sentences_shown(shown: str, runs: list[tuple[int, int]], toks: list[Token]) -> list[Sentence]:
    """`sentences` of a text with right-to-left override runs, cut in display order (`shown`). Sentences follow
    one another in reading order, and so must their spans: a sentence that has characters of a run spans the whole
    run, from its RLO (the span displays as the copy does), and the sentences of one run share its span."""
    bounds = _sentence_ends(shown)
    where = [_source_span(runs, t.start, t.end) for t in toks]  # each word's span in display order
    out: list[Sentence] = []
    start = 0
    ti = 0
    for end in bounds:
        if end <= start:
            continue
        first = ti
        while ti < len(toks) and where[ti][0] < end:
            ti += 1
        if ti > first:
            s = where[first][0]
            e = max(where[ti - 1][1], min(end, len(shown)))
            while e > s and shown[e - 1].isspace():
                e -= 1
            for a, b in runs:
                if a < e and s < b:
                    s, e = min(s, a - 1), max(e, b)
            while shown[e - 1] == _PDF:  # the PDF that ends a run ends no sentence: each of the run's spans the same
                e -= 1
            out.append(Sentence(s, e, tuple(toks[first:ti])))
        start = end
    return out
