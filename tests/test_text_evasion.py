"""Invisible characters and homoglyphs inside words do not hide a verbatim copy.

Soft hyphens (hyphenation plugins, `&shy;`), zero-width spaces and word joiners inside words, and Latin letters
swapped for Cyrillic lookalikes leave a copy looking exactly like the article; the copy is still flagged
verbatim, its source is still proposed by the index, and evidence offsets still point into the original
strings. Genuine Cyrillic and Greek words keep their letters. The article text is our own.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from monitor.config import MatchSettings
from monitor.extract import text_of
from monitor.fingerprint import (
    article_fingerprints_of,
    normalisation_changed,
    page_fingerprints,
    page_fingerprints_of,
)
from monitor.match import Match, Prepared, compare
from monitor.scan import Original, candidates_for, find_copies, track_text
from monitor.store import Store
from monitor.text import IGNORABLE, fold, tokens

CFG = MatchSettings()

ARTICLE = """The passenger ferry between Caldwick and the island of Merrow returned to service on Monday after seven \
weeks in dry dock, where engineers replaced both propeller shafts and rebuilt the steering gear.

The vessel, which carries up to four hundred passengers and sixty vehicles, was withdrawn in early spring when \
inspectors found cracks in a bearing housing during a routine survey. Islanders had to rely on a smaller chartered \
boat that could not take lorries, and several shopkeepers on Merrow said deliveries of fresh produce had been \
delayed by days at a time.

The operator, Northsound Shipping, said the repairs cost about two million pounds and were paid for by its \
insurers. Its managing director, Helen Prowse, apologised to travellers and thanked the harbour crews who had \
kept the temporary service running through storms in April.

Timetables published on the company website show the ferry returning to its full summer schedule of eleven \
crossings a day from the first weekend of June. Early morning sailings will again carry the school bus, which \
had been forced to take a long detour across the causeway at low tide.

Local councillors welcomed the news but repeated their call for a second vessel to be based at Caldwick, \
arguing that a single breakdown should not cut off a community of three thousand people. A consultation on \
the future of the route is expected to open in the autumn, and the regional transport authority has promised \
to publish the engineering report in full.

Fishermen in the harbour said the weeks without the ferry had been quieter than any they could remember. One \
skipper, who has worked from Merrow for thirty years, said the island felt further from the mainland than it \
had in decades, and that visitors had cancelled holidays in large numbers.

The chartered replacement boat will stay in the area until the end of the month as a reserve, the operator said, \
in case further faults appear during the first weeks of regular sailing. Engineers from the shipyard will travel \
on several crossings to monitor vibration in the new shafts and adjust the steering system where necessary.
"""

CYRILLIC = str.maketrans("aeopcxyijs", "аеорсхуіјѕ")  # Latin -> Cyrillic lookalikes
LATIN = str.maketrans("аеорсхуіјѕ", "aeopcxyijs")


def soft_hyphenated(text: str, mark: str = "\u00ad") -> str:
    """The audit's repro: a mark after the third letter of every word of six letters or more."""
    return re.sub(r"\w{6,}", lambda m: m[0][:3] + mark + m[0][3:], text)


def homoglyphed(text: str) -> str:
    """Every third word (two letters or more) with its Latin letters swapped for Cyrillic lookalikes, keeping at
    least one Latin letter in it (a word of lookalikes only is indistinguishable from a Cyrillic word)."""
    k = 0

    def swap(m: re.Match[str]) -> str:
        nonlocal k
        k += 1
        word = m[0]
        if k % 3:
            return word
        new = word.translate(CYRILLIC)
        if not re.search("[a-zA-Z]", new):  # keep the first letter Latin
            new = word[0] + new[1:]
        return new

    return re.sub(r"[A-Za-z]{2,}", swap, text)


def verbatim(page: str) -> Match:
    m = compare(Prepared.of(ARTICLE), Prepared.of(page), CFG)
    assert m is not None, "no copy"
    assert m.kind == "verbatim" and m.coverage > 0.95, m
    return m


def check_passages(m: Match, page: str, undo) -> None:
    """Each passage's page slice, with the disguise undone, is the article's slice (or contains it)."""
    assert m.passages
    for p in m.passages:
        a = ARTICLE[p.article_start:p.article_end]
        b = undo(page[p.page_start:p.page_end])
        assert a and b
        assert a in b or b in a, (a[:80], b[:80])
    # The whole article is covered, on both sides.
    assert min(p.article_start for p in m.passages) == 0
    assert undo(page[min(p.page_start for p in m.passages):]).startswith("The passenger ferry")


def strip_ignorable(s: str) -> str:
    return re.sub(f"[{IGNORABLE}]", "", s)


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(tmp_path / "provmon.db")
    s.ferry_id = track_text(s, Original("file:///originals/ferry.txt", "Ferry", ARTICLE)).id  # type: ignore[attr-defined]
    track_text(s, Original("file:///originals/other.txt", "Other",
               "A new footbridge over the river Lune opened on Saturday, two years late and well over budget. "
               "Walkers crossed it all afternoon while a brass band played on the south bank. The council said "
               "lighting would be added in the winter and that the old ford would remain closed to cars."))
    yield s
    s.close()


def assert_found(store: Store, page: str) -> None:
    assert article_fingerprints_of(ARTICLE) <= page_fingerprints_of(page)  # every indexed hash is on the page
    assert [a for a, _ in candidates_for(store, page, CFG)] == [store.ferry_id]  # type: ignore[attr-defined]
    found = find_copies(store, page, CFG)
    assert [f.article.title for f in found] == ["Ferry"]
    assert found[0].match.kind == "verbatim"


@pytest.mark.parametrize("mark", ["\u00ad", "\u200b", "\u2060", "\ufeff", "\u200d\u00ad"])
def test_invisible_marks_inside_words_are_a_verbatim_copy(store: Store, mark: str) -> None:
    page = soft_hyphenated(ARTICLE, mark)
    assert page.count(mark) > 100
    m = verbatim(page)
    check_passages(m, page, strip_ignorable)
    assert_found(store, page)


def test_token_offsets_point_at_the_hyphenated_words() -> None:
    page = soft_hyphenated(ARTICLE)
    a, b = tokens(ARTICLE), tokens(page)
    assert [t.word for t in a] == [t.word for t in b]
    for ta, tb in zip(a, b, strict=True):
        assert strip_ignorable(page[tb.start:tb.end]) == ARTICLE[ta.start:ta.end]
    ship = next(t for t in b if t.word == "passenger")
    assert page[ship.start:ship.end] == "pas\u00adsenger"


def test_shy_entities_in_html_are_a_verbatim_copy(store: Store) -> None:
    paras = [p for p in ARTICLE.split("\n\n") if p.strip()]
    body = "".join("<p>" + re.sub(r"\w{6,}", lambda m: m[0][:3] + "&shy;" + m[0][3:], p) + "</p>"
                   for p in paras)
    html = (f"<html><head><title>Ferry back</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Ferry back</h1>{body}</article><footer>A scraper</footer></body></html>")
    assert "<p>The pas&shy;senger ferry" in html
    page = text_of(html.encode(), "text/html; charset=utf-8", "https://scraper.example/ferry").text
    assert "pas\u00adsenger" in page
    m = verbatim(page)
    check_passages(m, page, strip_ignorable)
    assert_found(store, page)


def test_cyrillic_lookalikes_in_a_third_of_the_words_are_a_verbatim_copy(store: Store) -> None:
    page = homoglyphed(ARTICLE)
    changed = sum(a != b for a, b in zip(ARTICLE.split(), page.split(), strict=True))
    assert changed > 0.25 * len(ARTICLE.split())
    assert page != ARTICLE and page.translate(LATIN) == ARTICLE
    m = verbatim(page)
    check_passages(m, page, lambda s: s.translate(LATIN))
    assert_found(store, page)
    for ta, tb in zip(tokens(ARTICLE), tokens(page), strict=True):
        assert (ta.word, ta.start, ta.end) == (tb.word, tb.start, tb.end)


def test_greek_lookalikes_in_latin_words_are_folded() -> None:
    page = "Τhe pαssenger ferry returned tο service οn Μonday"  # Greek T, alpha, omicron, capital Mu
    assert [t.word for t in tokens(page)] == "the passenger ferry returned to service on monday".split()


def test_genuine_cyrillic_and_greek_words_keep_their_letters() -> None:
    russian = "Паром между островом и материком вернулся в строй после семи недель ремонта."
    greek = "Το πλοίο επέστρεψε στη γραμμή μετά από επτά εβδομάδες επισκευών."
    for text in (russian, greek):
        words = [t.word for t in tokens(text)]
        assert words == re.findall(r"\w+", text.lower())
        assert not any(w.isascii() for w in words)
        assert not normalisation_changed(text)
    # Invisible marks inside a Russian word are dropped, the letters stay.
    assert [t.word for t in tokens("Па\u00adром вер\u200bнулся")] == ["паром", "вернулся"]
    # A word of lookalike letters only (Russian "рос", "сор") is a Cyrillic word, not a swap.
    assert fold("рос") == "рос" and fold("сор") == "сор"


def test_every_format_character_is_ignored_inside_words() -> None:
    """IGNORABLE lists category Cf as of this Python's Unicode; a newer Unicode that adds some fails here."""
    cf = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
    assert len(cf) > 150
    for c in cf:
        assert [t.word for t in tokens(f"pas{c}{PDF if c == RLO else ''}senger")] == ["passenger"], hex(ord(c))
    # ...but a right-to-left override that nothing ends shows the rest of its line backwards.
    assert [t.word for t in tokens(f"pas{RLO}senger")] == ["pasregnes"]


def test_marks_between_words_still_separate_them() -> None:
    assert [t.word for t in tokens("one \u200btwo\u00ad three\u2060 four")] == ["one", "two", "three", "four"]


def test_fast_fingerprint_path_equals_token_path_on_disguised_text() -> None:
    for page in (soft_hyphenated(ARTICLE), soft_hyphenated(ARTICLE, "\u200b"), homoglyphed(ARTICLE)):
        assert page_fingerprints_of(page) == page_fingerprints(tokens(page)) == page_fingerprints_of(ARTICLE)


def test_normalisation_changed_names_exactly_the_texts_whose_words_changed() -> None:
    assert normalisation_changed(soft_hyphenated(ARTICLE))
    assert normalisation_changed(soft_hyphenated(ARTICLE, "\u2060"))
    assert normalisation_changed(homoglyphed(ARTICLE))
    assert normalisation_changed("A Greek beta in 1βfor.")
    assert not normalisation_changed(ARTICLE)
    fancy = "The mayor\u2019s \u201cnew\u201d plan \u2014 a sea\u00a0wall\u2026 caf\u00e9 na\u00efve \ufeff \u200b x"
    assert not normalisation_changed(fancy)  # typography, accents, marks between words: words unchanged


# --- Latin lookalikes that are no Cyrillic or Greek: small capitals, letter symbols, Armenian, Latin letters ---

SMALL_CAPITALS = dict(zip("abcdefghijklmnopqrstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ", strict=True))  # no small x


def small_capitals(text: str) -> str:
    """The audit's disguise: each word's first letter as written, its other (lower-case) letters small capitals."""
    return re.sub(r"[A-Za-z]+", lambda m: m[0][0] + "".join(SMALL_CAPITALS.get(c, c) for c in m[0][1:]), text)


def circled(text: str) -> str:
    """Every letter circled: Ⓐ-Ⓩ, ⓐ-ⓩ (symbols, category So: not word characters to `\\w`)."""
    return re.sub("[A-Za-z]", lambda m: chr((0x24B6 - 65) + ord(m[0]) if m[0].isupper() else 0x24D0 - 97 + ord(m[0])),
                  text)


def parenthesized(text: str) -> str:
    """Every letter parenthesized: 🄐-🄩 for capitals, ⒜-⒵ for small letters (one character each)."""
    return re.sub("[A-Za-z]", lambda m: chr(0x1F110 - 65 + ord(m[0]) if m[0].isupper() else 0x249C - 97 + ord(m[0])),
                  text)


def swapped(table: str):
    """A disguise swapping the Latin letters of `table` ("ab" pairs: Latin letter, lookalike) in every word."""
    trans = str.maketrans(table[0::2], table[1::2])
    return lambda text: text.translate(trans)


ARMENIAN = swapped("oօuս")  # the audit's page 41: o and u as Armenian oh and seh
ARMENIAN_ALL = swapped("oօuսnոhհaɑgɡ")  # page 41d: Armenian o, u, n, h and Latin alpha and script g
DOTLESS = swapped("iıjȷ")  # page 41b: dotless i (and j)
ALPHA_SCRIPT_G = swapped("aɑgɡ")  # page 41c
# Every Latin letter that has a Cyrillic lookalike swapped for it (the audit's page 04): short words ("a", "is",
# "said", "each") are then made of Cyrillic letters only.
ALL_CYRILLIC = swapped("aаcсdԁeеhһiіjјlӏoоpрqԛsѕwԝxхyу")
DISGUISES = {"small capitals": small_capitals, "circled": circled, "parenthesized": parenthesized,
             "armenian o u": ARMENIAN, "armenian and latin": ARMENIAN_ALL, "dotless i": DOTLESS,
             "alpha and script g": ALPHA_SCRIPT_G, "all cyrillic lookalikes": ALL_CYRILLIC}
LATIN_OF = {"small capitals": {v: k for k, v in SMALL_CAPITALS.items()}}


def undo(page: str) -> str:
    """The Latin letters a reader sees (NFKC maps the letter symbols; the tables the rest)."""
    out = unicodedata.normalize("NFKC", page)
    out = re.sub(r"\((\w)\)", r"\1", out)
    back = {**{v: k for k, v in SMALL_CAPITALS.items()},
            **dict(zip("օսոհɑɡıȷасԁеһіјӏорԛѕԝху", "ounhagijacdehijlopqswxy", strict=True))}
    return out.translate(str.maketrans(back))


@pytest.mark.parametrize("name", DISGUISES)
def test_latin_lookalikes_are_a_verbatim_copy(store: Store, name: str) -> None:
    """Copies whose letters are small capitals, circled or parenthesized letters, Armenian letters or the Latin
    alpha, script g and dotless i read as the article's words, at the article's offsets (one character for one),
    and are a verbatim copy found through the index (before: not found, or `paraphrased`)."""
    page = DISGUISES[name](ARTICLE)
    assert page != ARTICLE and len(page) == len(ARTICLE) and undo(page) == ARTICLE
    m = verbatim(page)
    check_passages(m, page, undo)
    assert_found(store, page)
    assert [(t.word, t.start, t.end) for t in tokens(page)] == [(t.word, t.start, t.end) for t in tokens(ARTICLE)]


@pytest.mark.parametrize(("word", "latin"), [
    ("ᴘᴏʟɪᴄᴇ", "police"), ("Ⓟⓞⓛⓘⓒⓔ", "police"), ("⒫⒪⒧⒤⒞⒠", "police"), ("🄿🄾🄻🄸🄲🄴", "police"),
    ("🅟🅞🅛🅘🅒🅔", "police"), ("🅿🅾🅻🅸🅲🅴", "police"), ("pօlicе", "police"), ("hօսse", "house"), ("ɑnɡle", "angle"),
    ("ınȷury", "injury"), ("ɩsland", "island"), ("ǀake", "lake"), ("fеrrу", "ferry"), ("ηοtеԁ", "hoted"),
])
def test_each_kind_of_lookalike_reads_as_its_latin_letter(word: str, latin: str) -> None:
    text = f"The {word} said so."
    assert [t.word for t in tokens(text)] == ["the", latin, "said", "so"]
    assert [text[t.start:t.end] for t in tokens(text)] == ["The", word, "said", "so"]


def test_the_lookalikes_read_everywhere_are_derived_from_unicodedata() -> None:
    """The table of lookalikes read as Latin everywhere holds, by this Python's unicodedata: every small capital of one
    letter ("LATIN LETTER SMALL CAPITAL A"), every letter symbol that NFKC maps to one letter or one parenthesized
    letter and is no word character, every negative circled or squared letter (no NFKC); and six Latin letters
    from Unicode's confusables, by name. Nothing else."""
    from monitor.text import _LATIN_ANYWHERE, normalize

    named = re.compile(r"LATIN LETTER SMALL CAPITAL (.)|(?:NEGATIVE )?(?:CIRCLED|SQUARED|PARENTHESIZED)"
                       r"(?: ITALIC)? LATIN (?:CAPITAL|SMALL) LETTER (.)")
    confusable = {"LATIN SMALL LETTER ALPHA": "a", "LATIN SMALL LETTER SCRIPT G": "g",
                  "LATIN SMALL LETTER DOTLESS I": "i", "LATIN SMALL LETTER DOTLESS J": "j",
                  "LATIN SMALL LETTER IOTA": "i", "LATIN LETTER DENTAL CLICK": "l"}
    derived: dict[str, str] = {}
    for c in map(chr, range(0x110000)):
        name = unicodedata.name(c, "")
        nfkc = unicodedata.normalize("NFKC", c).lower()
        if m := named.fullmatch(name):
            derived[c] = (m[1] or m[2]).lower()
        elif not re.match(r"\w", c) and not c.isascii() and re.fullmatch(r"[a-z]|\([a-z]\)", nfkc):
            derived[c] = nfkc.strip("()")
        elif name in confusable:
            derived[c] = confusable[name]
    assert len(derived) == 25 + 185 + 6
    assert derived == _LATIN_ANYWHERE
    for c, latin in derived.items():
        assert normalize(c) == latin and normalize(c.upper()) == latin, (c, latin)


# --- Words made entirely of lookalikes: Latin in Latin text, kept in Russian and Greek text ---

def test_a_word_made_entirely_of_lookalikes_reads_latin_in_latin_text() -> None:
    text = "The роӏісе said а ѕmall boat ԝаѕ seen near the harbour."  # "police", "a", "was": Cyrillic only
    assert [t.word for t in tokens(text)] == "the police said a small boat was seen near the harbour".split()
    assert [text[t.start:t.end] for t in tokens(text)][1] == "роӏісе"
    # A line of lookalikes only (a heading) goes by the whole text, here English.
    heading = "Роӏісе\n\nThe police said a small boat was seen near the harbour."
    assert next(t.word for t in tokens(heading)) == "police"


RUSSIAN = """Паром снова вышел в море. На острове все рады: он вернулся в срок, и сосна у причала всё так же стоит.

Капитан сказал, что новый винт работает хорошо, а старый уже не нужен. Он ждёт весны."""
GREEK = """Το πλοίο και το πλήρωμα είναι έτοιμα με την άνοιξη. Ο καπετάνιος είπε ότι το νέο πηδάλιο δουλεύει καλά.

Οι κάτοικοι του νησιού περίμεναν επτά εβδομάδες."""


@pytest.mark.parametrize("text", [RUSSIAN, GREEK], ids=["russian", "greek"])
def test_genuine_russian_and_greek_words_of_lookalike_letters_stay(text: str) -> None:
    """"на", "все", "он", "в", "а" and "сосна" (Russian) and "το", "και", "με", "ο" (Greek) are made of letters
    that look Latin; in Russian or Greek text they are words of that language, kept as they are."""
    words = [t.word for t in tokens(text)]
    assert words == re.findall(r"\w+", unicodedata.normalize("NFC", text.lower()))
    assert not any(w.isascii() for w in words)
    assert {"на", "все", "он", "сосна"} <= set(words) or {"το", "και", "με"} <= set(words)
    # ...also beside an English paragraph, or with an English name in the paragraph.
    mixed = "The ferry is back: a small boat was seen near the harbour.\n\n" + text + " Caldwick Ferry Company."
    assert [t.word for t in tokens(mixed)][12:12 + len(words)] == words
    assert [t.word for t in tokens(mixed)][:12] == "the ferry is back a small boat was seen near the harbour".split()


def test_english_and_russian_paragraphs_of_one_text_each_keep_their_script() -> None:
    english = "Тhе роӏісе said а ѕmall boat ԝаѕ seen."  # Cyrillic lookalikes, "police", "a", "was" entirely
    text = english + "\n\n" + RUSSIAN
    words = [t.word for t in tokens(text)]
    assert words[:8] == "the police said a small boat was seen".split()
    assert words[8:] == [t.word for t in tokens(RUSSIAN)]


# --- Right-to-left override: a reversed run displayed the right way round ---

RLO, PDF = "\u202e", "\u202c"


def overridden_paragraphs(text: str) -> str:
    """Each paragraph written backwards between RLO and PDF: it displays as the article (the audit's page 33)."""
    return "\n\n".join(RLO + p[::-1] + PDF for p in text.rstrip("\n").split("\n\n")) + "\n"


def overridden_words(text: str) -> str:
    """Each word written backwards between RLO and PDF, punctuation and spaces outside (the audit's page 33c)."""
    return re.sub(r"\w+", lambda m: RLO + m[0][::-1] + PDF, text)


def overridden_lines(text: str) -> str:
    """Each line backwards after an RLO that no PDF closes: the override ends with the line."""
    return "\n".join(RLO + line[::-1] if line else line for line in text.split("\n"))


def displayed(text: str) -> str:
    """What a browser shows: each override run reversed, its control characters gone."""
    return re.sub(f"{RLO}([^{PDF}\n]*){PDF}?", lambda m: m[1][::-1], text)


OVERRIDES = {"paragraphs": overridden_paragraphs, "words": overridden_words, "lines": overridden_lines}


@pytest.mark.parametrize("name", OVERRIDES)
def test_right_to_left_override_of_reversed_text_is_a_verbatim_copy(store: Store, name: str) -> None:
    page = OVERRIDES[name](ARTICLE)
    assert displayed(page) == ARTICLE and page.count(RLO) >= 7
    m = verbatim(page)
    check_passages(m, page, displayed)
    assert_found(store, page)
    # Each word points at its own characters of the page, written backwards there.
    a, b = tokens(ARTICLE), tokens(page)
    assert [t.word for t in a] == [t.word for t in b]
    for ta, tb in zip(a, b, strict=True):
        assert strip_ignorable(page[tb.start:tb.end])[::-1] == ARTICLE[ta.start:ta.end]


def test_a_reversed_run_reads_in_display_order() -> None:
    from monitor.text import normalize, sentences

    # Brackets are mirrored in a right-to-left run: "(" written shows as ")".
    assert normalize(f"{RLO}(yrref eht) no{PDF} today") == f"{RLO}on (the ferry){PDF} today"
    # The override ends at its PDF, or at the end of the line; nested embeddings end with their own PDF.
    assert normalize(f"{RLO}eno{PDF} two {RLO}eerht\nfour") == f"{RLO}one{PDF} two {RLO}three\nfour"
    assert normalize(f"{RLO}a \u202b{PDF}b{PDF}c") == f"{RLO}b{PDF}\u202b a{PDF}c"
    # Hebrew or Arabic in the run is left alone: it is written in its own order.
    assert normalize(f"{RLO}שלום abc{PDF}") == f"{RLO}שלום abc{PDF}"
    # A sentence of a reversed run spans the run, its RLO included: its slice of the text displays as the copy.
    text = f"Before it.\n\n{RLO}.owt ecnetnes dnA .eno ecnetneS{PDF}\n\nAfter it."
    spans = [(text[s.start:s.end], [t.word for t in s.tokens]) for s in sentences(text)]
    run = text[text.index(RLO):text.index(PDF)]
    assert spans == [("Before it.", ["before", "it"]), (run, ["sentence", "one"]), (run, ["and", "sentence", "two"]),
                     ("After it.", ["after", "it"])]


def test_articles_read_otherwise_by_normalisation_4_are_fingerprinted_again(tmp_path: Path) -> None:
    """Version 3 dropped a dotless i from its word ("caldwıck" read "caldwck"): an article stored then has postings
    a copy in plain letters does not share. Opening the store fingerprints it again; a Russian article, which
    version 4 reads as version 3 did, keeps its id."""
    db = tmp_path / "s.db"
    dotless = DOTLESS(ARTICLE)
    with Store(db) as store:
        old_id, _ = store.add_article("https://pub.example/dotless", "t", dotless,
                                      article_fingerprints_of(dotless.replace("ı", "").replace("ȷ", "")))  # v3
        russian_id, _ = store.add_article("https://pub.example/ru", "t", RUSSIAN * 8, article_fingerprints_of(
            RUSSIAN * 8))
        store.index.compact()
        store.db.execute("UPDATE meta SET value = '3' WHERE key = 'index_normalisation'")
        assert [a for a, _ in store.candidates(page_fingerprints_of(ARTICLE), 3, 20)] == []
    with Store(db) as store:
        (new_id,) = [a for a, _ in store.candidates(page_fingerprints_of(ARTICLE), 3, 20)]
        assert new_id != old_id and store.article(new_id).text == dotless
        assert [a for a, _ in store.candidates(page_fingerprints_of(RUSSIAN * 8), 3, 20)] == [russian_id]
    assert normalisation_changed(dotless) and not normalisation_changed(RUSSIAN) and not normalisation_changed(GREEK)
