"""The site-template learner: recurring blocks per site, serialisable state."""

from __future__ import annotations

import json
import unicodedata

from monitor.extract import extract
from monitor.templates import TemplateLearner, block_hash, drop_template_blocks, normalise_block

FOOTER = "Small Site News brings you the stories that matter. Follow us for more!"


def test_normalisation_ignores_case_punctuation_numbers() -> None:
    assert normalise_block("© 2024 Foo  News!") == normalise_block("© 2025 foo news")
    assert block_hash("Hello, world") == block_hash("hello world")
    assert block_hash("...") == ""
    nfc = "Abonnez-vous à la lettre du Café de la République, chaque été."
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc and block_hash(nfd) == block_hash(nfc)  # a site's footer typed on a Mac and on Windows


def test_recurring_block_becomes_template() -> None:
    learner = TemplateLearner(min_pages=3, min_share=0.5)
    stories = ["Harbour wall fails", "Garlic in autumn", "Election night", "New ferry route"]
    for story in stories:
        learner.observe("site.example", [story, FOOTER, FOOTER])
    assert learner.is_template("site.example", FOOTER)
    assert not learner.is_template("site.example", stories[1])
    assert not learner.is_template("other.example", FOOTER)
    assert block_hash(FOOTER) in learner.template_hashes("site.example")
    assert learner.template_hashes("nowhere.example") == frozenset()


def test_too_few_pages_is_not_template() -> None:
    learner = TemplateLearner(min_pages=3)
    learner.observe("s", [FOOTER])
    learner.observe("s", [FOOTER])
    assert not learner.is_template("s", FOOTER)


def test_rare_block_on_a_big_site_is_not_template() -> None:
    learner = TemplateLearner(min_pages=3, min_share=0.5)
    for i in range(20):
        learner.observe("s", [f"unique text {'x' * i}", *(["Quote of the week"] if i < 4 else [])])
    assert not learner.is_template("s", "Quote of the week")


def test_state_round_trips_through_json() -> None:
    learner = TemplateLearner()
    for i in range(3):
        learner.observe("s", [FOOTER, f"page {i}"])
    clone = TemplateLearner.from_dict(json.loads(json.dumps(learner.to_dict())))
    assert clone.template_hashes("s") == learner.template_hashes("s") != frozenset()
    assert clone == learner


def test_memory_bound_prunes_singletons() -> None:
    learner = TemplateLearner(max_blocks=50)
    for i in range(200):
        learner.observe("s", [f"block {'y' * i}", FOOTER])
    assert len(learner.sites["s"].blocks) <= 51
    assert learner.is_template("s", FOOTER)


def test_learned_templates_feed_extract() -> None:
    para = ("Residents gathered outside the shelter on Tuesday, angry that repairs recommended last spring "
            "had been postponed until the next budget cycle.")
    places = ["Port Elling", "Marren Bay", "Quay Street"]
    pages = [f"<html><body><article><p>In {p}: {para}</p><p>{para} Said {p}.</p><p>{FOOTER}</p></article></body></html>"
             for p in places]
    learner = TemplateLearner()
    for page in pages:
        learner.observe("s", extract(page).paragraphs)
    out = extract(pages[0], template_hashes=learner.template_hashes("s"))
    assert FOOTER not in out.text
    assert len(out.paragraphs) == 2


def test_drop_per_paragraph_equals_dropping_the_template_set() -> None:
    learner = TemplateLearner()
    for i in range(6):
        learner.observe("s", [FOOTER, f"story {'z' * i}", "Quote of the week" if i < 2 else "other"])
    story = "A story of its own, long enough that the footer the site puts under it is the smaller part of the page."
    text = f"{story}\n\n{FOOTER}\n\nQuote of the week"
    paragraphs = text.split("\n\n")
    hashes = [block_hash(p) for p in paragraphs]
    assert learner.drop("s", text, paragraphs, hashes) == drop_template_blocks(text, learner.template_hashes("s"))
    assert learner.drop("s", text, paragraphs, hashes) == f"{story}\n\nQuote of the week"
    # A template that would be most of the page is kept (templates.MAX_TEMPLATE_SHARE), both ways.
    short = f"A story.\n\n{FOOTER}"
    assert learner.drop("s", short, short.split("\n\n"), [block_hash(p) for p in short.split("\n\n")]) == short
    assert drop_template_blocks(short, learner.template_hashes("s")) == short
    assert learner.drop("other", text, paragraphs, hashes) == text
