"""Combining marks stay inside the word whose letters they follow.

Text in NFD (decomposed accents: "e" + U+0301 for "é", as macOS and some CMSs write it) is cut into the same
words as the same text in NFC, so an NFD copy of an NFC article (or the reverse) is the same words, the same
fingerprints and a verbatim copy, with evidence offsets into the original strings. Scripts whose letters carry
marks (Devanagari vowel signs and viramas, Hebrew points, Arabic harakat, Thai vowels and tones) are a word
per word, not a piece per mark. The texts are our own.
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest

from monitor.config import MatchSettings
from monitor.fingerprint import (
    article_fingerprints_of,
    normalisation_changed,
    page_fingerprints,
    page_fingerprints_of,
    text_content_words,
)
from monitor.match import Prepared, compare
from monitor.scan import Original, candidates_for, find_copies, track_text
from monitor.store import Store
from monitor.text import IGNORABLE, STOPWORDS, WORD, fold, normalize, tokens

CFG = MatchSettings()

ARTICLE = """Le traversier entre Beaulieu-sur-Loire et l'île de Marlève a repris du service lundi matin, après sept \
semaines passées en cale sèche, où les mécaniciens ont remplacé les deux arbres d'hélice et refait le gouvernail.

Le navire, qui peut transporter quatre cents passagers et soixante véhicules, avait été retiré au début du \
printemps, lorsque les inspecteurs ont découvert des fissures dans un palier pendant une visite de routine. Les \
insulaires ont dû se contenter d'un bateau affrété, plus petit, qui ne pouvait pas embarquer de camions, et \
plusieurs commerçants de Marlève ont expliqué que leurs livraisons de produits frais avaient été retardées de \
plusieurs jours.

La compagnie, Armement Côtier de l'Ouest, a précisé que les réparations ont coûté près de deux millions \
d'euros, pris en charge par ses assureurs. Sa directrice générale, Hélène Dufresne, a présenté ses excuses aux \
voyageurs et remercié les équipes du port, qui ont maintenu le service de remplacement malgré les tempêtes d'avril.

Selon les horaires publiés sur le site de la compagnie, le traversier retrouvera son programme d'été complet, \
soit onze rotations par jour, dès le premier week-end de juin. Les départs très matinaux transporteront de \
nouveau le car scolaire, contraint jusqu'ici à un long détour par la chaussée submersible à marée basse.

Les élus locaux ont salué la nouvelle mais réitéré leur demande d'un second navire basé à Beaulieu, estimant \
qu'une seule panne ne devrait pas isoler une communauté de trois mille habitants. Une concertation sur l'avenir \
de la liaison doit s'ouvrir à l'automne, et la préfecture a promis de publier le rapport technique en entier.

Au port, les pêcheurs disent n'avoir jamais connu de semaines aussi calmes. Un patron de pêche, José García, \
installé à Marlève depuis trente ans, a confié que l'île lui avait semblé plus éloignée du continent qu'à aucun \
moment depuis des décennies, et que de nombreux vacanciers avaient annulé leur séjour.

Le bateau de remplacement restera dans la zone jusqu'à la fin du mois, par précaution, au cas où de nouvelles \
avaries apparaîtraient pendant les premières semaines d'exploitation. Des ingénieurs du chantier naval \
effectueront plusieurs traversées pour mesurer les vibrations des nouveaux arbres et régler la direction.
"""
NFD = unicodedata.normalize("NFD", ARTICLE)


def is_mark(c: str) -> bool:
    return unicodedata.category(c)[0] == "M"


def test_an_nfd_text_is_cut_into_the_words_of_its_nfc_form() -> None:
    assert unicodedata.is_normalized("NFC", ARTICLE) and unicodedata.normalize("NFC", NFD) == ARTICLE
    assert len(NFD) - len(ARTICLE) == sum(map(is_mark, NFD)) > 80  # the texts differ in decomposition only
    a, b = tokens(ARTICLE), tokens(NFD)
    assert [(t.word, t.stem, t.key, t.quoted) for t in a] == [(t.word, t.stem, t.key, t.quoted) for t in b]
    assert [t.word for t in tokens("re\u0301publique")] == [t.word for t in tokens("république")] == ["republique"]
    assert [t.word for t in tokens("Jose\u0301 Garci\u0301a")] == ["jose", "garcia"]
    assert text_content_words(NFD) == text_content_words(ARTICLE)


def test_an_nfd_text_has_the_fingerprints_of_its_nfc_form() -> None:
    assert article_fingerprints_of(NFD) == article_fingerprints_of(ARTICLE)
    assert page_fingerprints_of(NFD) == page_fingerprints_of(ARTICLE) == page_fingerprints(tokens(NFD))
    assert len(article_fingerprints_of(ARTICLE)) > 50


def test_tokens_of_an_nfd_text_span_their_marks() -> None:
    a, b = tokens(ARTICLE), tokens(NFD)
    for ta, tb in zip(a, b, strict=True):
        assert unicodedata.normalize("NFC", NFD[tb.start:tb.end]) == ARTICLE[ta.start:ta.end]
    helene = next(t for t in b if t.word == "helene")
    assert NFD[helene.start:helene.end] == "He\u0301le\u0300ne"
    ile = next(t for t in b if t.word == "ile")
    assert NFD[ile.start:ile.end] == "i\u0302le"
    inside = {i for t in b for i in range(t.start, t.end)}
    assert all(i in inside for i, c in enumerate(NFD) if is_mark(c))  # every mark of the text is in a word
    # A mark ending a word is in its span too (and folds away with the accents).
    text = "Un cafe\u0301, un the\u0301 vert."
    assert [(t.word, text[t.start:t.end]) for t in tokens(text)] == [
        ("un", "Un"), ("cafe", "cafe\u0301"), ("un", "un"), ("the", "the\u0301"), ("vert", "vert")]


@pytest.mark.parametrize(("article", "page"), [(ARTICLE, NFD), (NFD, ARTICLE)], ids=["nfd-page", "nfd-article"])
def test_an_nfd_copy_of_an_nfc_article_is_verbatim(article: str, page: str) -> None:
    itself = compare(Prepared.of(article), Prepared.of(article), CFG)
    m = compare(Prepared.of(article), Prepared.of(page), CFG)
    assert itself is not None and m is not None
    assert m.kind == "verbatim" and m.coverage > 0.95 and m.page_share > 0.95, m
    assert (m.coverage, m.longest_run, len(m.passages)) == (itself.coverage, itself.longest_run, len(itself.passages))
    for p in m.passages:  # the evidence points at the same characters of both strings
        assert (unicodedata.normalize("NFC", article[p.article_start:p.article_end])
                == unicodedata.normalize("NFC", page[p.page_start:p.page_end]))
    assert min(p.article_start for p in m.passages) == 0 and min(p.page_start for p in m.passages) == 0


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(tmp_path / "provmon.db")
    yield s
    s.close()


@pytest.mark.parametrize(("tracked", "page"), [(ARTICLE, NFD), (NFD, ARTICLE)], ids=["nfd-page", "nfd-article"])
def test_the_index_proposes_the_article_for_its_other_form(store: Store, tracked: str, page: str) -> None:
    ferry = track_text(store, Original("file:///originals/traversier.txt", "Traversier", tracked)).id
    track_text(store, Original("file:///originals/passerelle.txt", "Passerelle",
               "Une passerelle au-dessus de la rivière a été inaugurée samedi, avec deux ans de retard et un budget "
               "largement dépassé. Des promeneurs l'ont traversée tout l'après-midi pendant qu'une fanfare jouait "
               "sur la rive sud. La mairie a indiqué que l'éclairage serait installé cet hiver."))
    assert article_fingerprints_of(tracked) <= page_fingerprints_of(page)
    assert [a for a, _ in candidates_for(store, page, CFG)] == [ferry]
    found = find_copies(store, page, CFG)
    assert [f.article.title for f in found] == ["Traversier"]
    assert found[0].match.kind == "verbatim"


@pytest.mark.parametrize("word", [
    "हिन्दी",  # Devanagari: vowel signs (Mc) and a virama (Mn)
    "किसानों",
    "שָׁלוֹם",  # Hebrew with points
    "كَتَبَ",  # Arabic with harakat
    "น้ำ",  # Thai: a tone mark between two letters
    "நன்றி",  # Tamil: virama and vowel sign
])
def test_a_word_with_marks_between_its_letters_is_one_token(word: str) -> None:
    assert any(is_mark(c) for c in word[1:-1])
    text = f"({word}) {word}."
    assert [(t.word, text[t.start:t.end]) for t in tokens(text)] == [(word, word), (word, word)]
    assert normalisation_changed(text)  # version 2 cut it at its marks


@pytest.mark.parametrize("text", [
    "Το πλοίο επέστρεψε στη γραμμή μετά από επτά εβδομάδες",  # Greek, accented
    "Паром вернулся в строй, ещё раз: йод",  # Cyrillic й and ё decompose
    "한국어 신문 기사가 오늘 다시 나왔다",  # Hangul: NFD is conjoining jamo, letters, no marks
    # Devanagari qa: U+0958 (which NFC decomposes) or ka + nukta
    "\u0958\u093e\u0928\u0942\u0928 \u0921\u093c\u0930 \u0915\u093c\u093e\u0928\u0942\u0928 \u0921\u0930",
])
def test_the_nfd_and_nfc_spellings_of_a_word_without_ascii_letters_are_one_word(text: str) -> None:
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert len({text, nfc, nfd}) > 1
    words = [t.word for t in tokens(nfc)]
    assert not any(w.isascii() for w in words)
    assert words == [t.word for t in tokens(nfd)] == [t.word for t in tokens(text)]
    assert all(unicodedata.is_normalized("NFC", w) for w in words)
    assert page_fingerprints_of(nfd) == page_fingerprints_of(nfc) == page_fingerprints_of(text)
    assert len(page_fingerprints_of(nfc)) >= 2


def test_a_mark_ending_a_latin_word_folds_away_as_before() -> None:
    """The claim behind normalisation_changed: version 2 ended a word at a mark and dropped the mark; version 3
    keeps it in the word, and the fold drops it with the accents. It holds for every mark: none has an ASCII
    character in its decomposition. A word that keeps no ASCII letter keeps its marks: it did change."""
    from monitor.text import MARKS

    mark = re.compile(f"[{MARKS}]")
    marks = [chr(c) for c in range(0x110000) if mark.fullmatch(chr(c))]
    assert len(marks) > 2000
    for m in marks:
        assert fold("cafe" + m) == fold("cafe" + m + m) == "cafe", hex(ord(m))
    text = "Un cafe\u0301 noir et un the\u0301 vert, Jose\u0301."
    assert [t.word for t in tokens(text)] == "un cafe noir et un the vert jose".split()
    assert not normalisation_changed(text)
    assert normalisation_changed("किसान की बात")  # ki: ka + a vowel sign at the word's end (version 2: ka)
    assert normalisation_changed("שלום\u05bc")  # a point at the end of a Hebrew word


def test_normalisation_changed_names_the_texts_with_marks_inside_words() -> None:
    assert normalisation_changed(NFD)
    assert normalisation_changed("Jose\u0301 Garci\u0301a")
    assert normalisation_changed("re\u0301\u00adpublique")  # a mark, then a soft hyphen
    assert normalisation_changed(unicodedata.normalize("NFD", "한국어"))  # jamo: now composed
    assert normalisation_changed("İstanbul")  # lower-cased to i + a combining dot before
    assert not normalisation_changed(ARTICLE)  # NFC: precomposed accents, no marks
    assert not normalisation_changed("The ferry returned to service on Monday after seven weeks.")
    assert not normalisation_changed("Паром вернулся в строй. 한국어 신문. Το πλοίο.")
    assert not normalisation_changed("Un cafe\u0301 \u0301noir")  # marks after a word or a space


# The word readings of normalisation versions 1 and 2, as they were written (monitor/text.py at c419207^ and at
# the commit before version 3): what a store at either version has fingerprinted.
_I = f"[{IGNORABLE}]"
_WORD_V1 = re.compile(r"\w+")
_WORD_V2 = re.compile(rf"\w++(?:{_I}++\w++)*+")
_LOOKALIKES = {"а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
               "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
               "ԝ": "w", "ӏ": "l", "ү": "y", "ѵ": "v", "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i",
               "κ": "k", "μ": "m", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c",
               "ϳ": "j"}


def _normalize_v2(text: str) -> str:
    for a, b in (("\u2018", "'"), ("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"),
                 ("\u2014", "-"), ("\u00a0", " "), ("\u2026", ".")):
        text = text.replace(a, b)
    return text.lower()


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


def _fold_v2(word: str) -> str:
    word = re.sub(_I, "", word)
    if re.search(f"[{''.join(_LOOKALIKES)}]", word) and re.search("[a-z]", unicodedata.normalize("NFKD", word)):
        word = word.translate(str.maketrans(_LOOKALIKES))
    return _ascii(word) or word


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def _read_v1(text: str) -> list[str]:
    return _content([_ascii(w) or w for w in _WORD_V1.findall(_normalize_v2(text))])


def _read_v2(text: str) -> list[str]:
    return _content([_fold_v2(w) for w in _WORD_V2.findall(_normalize_v2(text))])


def _fold_v3(word: str) -> str:
    word = re.sub(_I, "", word)
    if re.search(f"[{''.join(_LOOKALIKES)}]", word) and re.search("[a-z]", unicodedata.normalize("NFKD", word)):
        word = word.translate(str.maketrans(_LOOKALIKES))
    return _ascii(word) or unicodedata.normalize("NFC", word)


def _read_v3(text: str) -> list[str]:
    """Version 3: WORD (as now) on the typography-folded, lower-cased text; Cyrillic/Greek lookalikes of a word with
    Latin letters read as Latin (not after NFKD), no other lookalike, no override."""
    norm = _normalize_v2(text.replace("\u0130", "i"))
    return _content([_fold_v3(w) for w in WORD.findall(norm)])


def _read_now(text: str) -> list[str]:
    return [t.word for t in tokens(text) if t.content]


def test_normalisation_changed_misses_no_text_that_versions_1_2_or_3_read_differently() -> None:
    """Random texts of letters, marks, invisible characters, lookalikes, letter symbols, right-to-left overrides and
    precomposed letters: whenever the content words differ from version 1's, 2's or 3's, normalisation_changed says
    so (it may say so more often)."""
    alphabet = ["a", "e", "t", "é", "ï", "\u0301", "\u0308", "\u0327", "\u00ad", "\u200b", "\ufe0f", " ", " ", ".",
                "-", "а", "е", "р", "й", "и", "\u0306", "α", "ά", "\u1f71", "क", "ि", "\u094d", "ש", "\u05bc",
                "\ufb2a", "\u1100", "\u1161", "가", "\uf900", "İ", "I", "\U00011003", "\U00011038", "\u20dd", "1",
                # version 4: lookalikes, letter symbols, overrides, lines
                "ᴀ", "ʜ", "ⓐ", "Ⓑ", "⒞", "\U0001f130", "օ", "Ս", "ı", "ɑ", "ӑ", "ѡ", "γ", "µ", "б", "λ", "o", "b",
                "\u202e", "\u202c", "\u202b", "\n"]
    rnd = random.Random(20250613)
    changed_from_v2 = changed_from_v3 = 0
    for _ in range(30_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12)))
        now = _read_now(text)
        if now != _read_v1(text) or now != _read_v2(text) or now != _read_v3(text):
            assert normalisation_changed(text), ascii(text)
        changed_from_v2 += now != _read_v2(text)
        changed_from_v3 += now != _read_v3(text)
    assert changed_from_v2 > 1000 and changed_from_v3 > 1000  # the sample exercises what versions 3 and 4 changed


def test_normalize_keeps_the_length_of_every_character() -> None:
    chars = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert len(normalize(chars)) == len(chars)
    text = "İstanbul'da İZMİR"
    assert [(t.word, text[t.start:t.end]) for t in tokens(text)] == [
        ("istanbul", "İstanbul"), ("da", "da"), ("izmir", "İZMİR")]


def test_word_is_the_plain_pattern_it_was_sped_up_from() -> None:
    """WORD keeps astral marks behind a lookahead (a failing class tests its astral ranges one by one); it cuts
    exactly as the plain pattern: word characters and marks, invisible characters only between them."""
    from monitor.text import MARKS

    plain = re.compile(rf"\w[\w{MARKS}]*+(?:[{IGNORABLE}]++\w[\w{MARKS}]*+)*+")
    alphabet = ["a", "é", "\u0301", "\u00ad", "\u200b", " ", ".", "\U00011003", "\U00011038", "\U000110bd", "\ufe0f",
                "\u034f", "\U000e0100", "क", "\u093f", "\u094d", "\u20dd", "_", "-", "\U0001d165", "\U0001d173"]
    rnd = random.Random(7)
    for _ in range(30_000):
        s = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        assert [m.span() for m in WORD.finditer(s)] == [m.span() for m in plain.finditer(s)], ascii(s)


def test_long_runs_of_marks_and_invisible_characters_cut_in_linear_time() -> None:
    n = 100_000
    for s, words in (("a\u0301" * n, ["a\u0301" * n]),
                     ("a\u0301\u00ad" * n, ["a\u0301\u00ad" * (n - 1) + "a\u0301"]),
                     ("a" + "\u0301" * n + "\u00ad" * n + "b", ["a" + "\u0301" * n + "\u00ad" * n + "b"]),
                     ("a" + "\u0301" * n + "\u00ad" * n, ["a" + "\u0301" * n]),
                     ("\u00ad\u0301" * n, []),
                     ("a\u00ad\u0301" * n, ["a"] * n),
                     ("\U00011003\U00011038" * n + "!", ["\U00011003\U00011038" * n])):
        assert WORD.findall(s) == words


def test_the_marks_are_this_pythons_combining_marks() -> None:
    """MARKS is a constant for Unicode 14.0; a Python with another Unicode version scans unicodedata at import
    and fails here until _MARK_RANGES is regenerated with _scan_marks(((0, 0x110000),))."""
    from monitor import text

    assert unicodedata.unidata_version == text._MARKS_UNICODE
    everything = text._scan_marks(((0, 0x110000),))
    assert text._scan_marks() == everything == " ".join(text._MARK_RANGES.split())
    mark = re.compile(f"[{text.MARKS}]")
    marks = [chr(c) for c in range(0x110000) if mark.fullmatch(chr(c))]
    ignorable = re.compile(f"[{IGNORABLE}]")
    assert marks == [chr(c) for c in range(0x110000)
                     if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me") and not ignorable.match(chr(c))]
    assert not any(re.match(r"\w", c) for c in marks)  # disjoint from \w (and from IGNORABLE): WORD is possessive
