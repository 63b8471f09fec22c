"""Mends of the hidden-text reading (docs/extraction.md, "Hidden, reversed and revealed text"): linear CSS parsing,
themes whose style sheets hide whole articles until scripts or animations show them, page furniture in elements
that used to be dropped, the JSON data fallback, bidi, zero-size frames and <br> lines.

All fixture text is written for these tests."""

from __future__ import annotations

import pytest

from monitor.extract import _declarations, _parse_sheet, extract

ART = [
    "The ferry between the two harbour towns ran on its winter timetable for the first time this week, with three "
    "crossings a day instead of the six that passengers had grown used to over the summer months.",
    "Skippers said the change followed a fall in bookings after the school holidays, and that the boat would be "
    "taken out of the water in February for its annual inspection and a fresh coat of paint.",
    "Shopkeepers on the quay asked the operator to keep a late crossing on Fridays, when visitors come over for "
    "the market, and a decision on that request is expected before the end of the month.",
]
DECOY = "The lighthouse keeper's cat was seen asleep on the warm roof of the ticket office again."


def page(body: str, css: str = "") -> str:
    head = f"<style>{css}</style>" if css else ""
    return (f"<html><head><title>Winter ferry timetable</title>{head}</head><body><main><article>"
            f"<h1>Winter ferry timetable</h1>{body}</article></main></body></html>")


def paras(wrap: str = "<p>{}</p>") -> str:
    return "".join(wrap.format(p) for p in ART)


def text_of(html: str) -> str:
    return extract(html).text


def has_article(text: str) -> bool:
    return all(p in text for p in ART)


# --- 1. Linear CSS parsing (inputs that took minutes when parsing was quadratic) ---

BIG = 200_000


@pytest.mark.parametrize("style", [
    "a" * BIG,  # a long run of letters without ":"
    "display:none" + " !" * (BIG // 2) + "x",  # "!" and spaces without "important" at the end
    "color:red" + " " * BIG + "! important x",
    ";" * BIG,
    ":" * BIG,
])
def test_long_style_attributes_parse_in_linear_time(style: str) -> None:
    text = text_of(page(f'<div style="{style}">{paras()}</div>'))
    assert has_article(text)


def test_important_is_read_with_string_operations() -> None:
    assert _declarations("display : none !important; color:red") == {"display": ("none", True), "color": ("red", False)}
    assert _declarations("display:none ! IMPORTANT;display:block") == {"display": ("none", True)}
    assert _declarations("a" * BIG) == {}


@pytest.mark.parametrize("junk", [
    "}" * BIG,  # stray closing braces
    "a;" * (BIG // 2),  # a long selector of statements
    ".a " * (BIG // 3),  # a long selector without a block
    "@media x{" * 1000 + ".b{color:red}",  # deep unclosed at-rules
])
def test_style_sheet_junk_parses_in_linear_time_and_later_rules_still_apply(junk: str) -> None:
    css = junk + "}" * 1000 + ".decoy{display:none}"
    text = text_of(page(f'<p>{ART[0]} <span class="decoy">{DECOY}</span></p>{"".join(f"<p>{p}</p>" for p in ART[1:])}',
                        css))
    assert has_article(text)
    assert DECOY not in text


def test_a_sheet_of_many_rules_parses_in_linear_time() -> None:
    sheet = _parse_sheet(".x{display:none}" * (BIG // 16) + "{" * BIG)
    assert sheet is not None and sheet.rules[".x"]["display"][3] == "none"
