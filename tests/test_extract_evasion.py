"""A copier hiding a copy from the extractor while a browser still shows it: hidden decoy text inside the copy,
aria-hidden paragraphs, reversed text under a bidi override, content in elements that used to be dropped,
<br>-wrapped lines, control characters, and a JavaScript page whose text is only in its JSON data.

All fixture text is written for these tests."""

from __future__ import annotations

import json

import pytest

from monitor.extract import extract
from monitor.text import sentences

COPY = [
    "The volunteers of the Fenwick Lane allotments counted forty-two kinds of bee in their plots this summer, "
    "nearly twice the number they found when they first kept records six years ago.",
    "Most of the new arrivals were solitary bees that nest in bare soil, which the gardeners put down to a "
    "decision to leave the paths between the beds unweeded and unmown from April to September.",
    "The society's chair, Maren Holloway, said the survey would continue next year with help from pupils of "
    "the primary school across the road, who have built nesting boxes out of hollow stems.",
    "A report on the count will be posted on the noticeboard by the main gate and read aloud at the autumn "
    "meeting, where members will also vote on whether to plant a wildflower strip along the fence.",
]
DECOYS = [
    "The bakery on the corner sold out of rye loaves before nine o'clock on Saturday.",
    "A blue bicycle was left chained to the railings outside the library for a week.",
    "The swimming pool will open an hour later on Mondays while the boiler is repaired.",
]


def page(body: str, head: str = "") -> str:
    return (f"<html><head><title>Bees at the allotments</title>{head}</head><body><header><a href='/'>Home</a>"
            f"</header><main><article><h1>Bees at the allotments</h1>{body}</article></main>"
            "<footer><a href='/about'>About</a></footer></body></html>")


def paras(wrap: str = "<p>{}</p>") -> str:
    return "".join(wrap.format(p) for p in COPY)


def interleave(hide: str) -> str:
    """Each copied paragraph with decoy sentences hidden (by the opening tag `hide`) between its sentences."""
    close = "</" + hide[1:].split()[0].rstrip(">") + ">"
    out = []
    for p in COPY:
        first, rest = p.split(", ", 1)
        out.append(f"<p>{first}, {hide}{' '.join(DECOYS)}{close} {rest}</p>")
    return "".join(out)


# --- 1. hidden inline elements -------------------------------------------------------------------------------------

@pytest.mark.parametrize("hide", [
    '<span style="display:none">', '<span style="DISPLAY: none !important">', "<span hidden>",
    '<span style="visibility:hidden">', '<span style="font-size:0">', '<span style="font-size:0px">',
    '<span style="font-size:0em">', '<span style="font-size: 0rem">', '<span style="font:0/0 a">',
    '<span style="opacity:0">', '<span style="opacity:0.0">',
    '<span style="position:absolute;left:-9999px">', '<span style="position:fixed; top:-2000px">',
    '<span style="position:absolute;right:-100em">',
    '<span style="position:absolute;clip:rect(0 0 0 0);width:1px;height:1px;overflow:hidden">',
    '<span style="position:absolute;clip:rect(1px, 1px, 1px, 1px)">', '<span style="clip-path:inset(50%)">',
    '<span style="color:transparent">', '<span style="color:rgba(0,0,0,0)">', '<span style="color: rgb(0 0 0 / 0%)">',
    '<span style="-webkit-text-fill-color:#ffffff00">', '<span style="transform:scale(0)">',
    '<span style="display:inline-block;text-indent:-9999px">',
    '<span style="display:inline-block;height:0;overflow:hidden">',
])
def test_hidden_inline_decoys_between_sentences_are_left_out(hide: str) -> None:
    out = extract(page(interleave(hide)))
    assert out.paragraphs == COPY


@pytest.mark.parametrize("tag", ["rp", "noembed", "noframes"])
def test_elements_browsers_never_show_are_left_out(tag: str) -> None:
    out = extract(page(interleave(f"<{tag}>")))
    assert out.paragraphs == COPY


def test_hidden_letters_and_spaces_inside_words() -> None:
    def split(text: str) -> str:
        words = []
        for i, w in enumerate(text.split(" ")):
            if len(w) > 3:
                hide = "<span style='display:none'>q</span>" if i % 2 else "<b hidden> </b>"
                w = w[:2] + hide + w[2:]
            words.append(w)
        return " ".join(words)
    out = extract(page("".join(f"<p>{split(p)}</p>" for p in COPY)))
    assert out.paragraphs == COPY


def test_hidden_decoy_words_between_every_word() -> None:
    body = "".join("<p>" + " ".join(f"{w} <span style='font-size:0'>pebble{i}</span>"
                                    for i, w in enumerate(p.split())) + "</p>" for p in COPY)
    assert extract(page(body)).paragraphs == COPY


@pytest.mark.parametrize("sheet,hide", [
    (".q7{display:none}", '<span class="q7">'),
    ("#x, .y {visibility:hidden}", '<span class="a y b">'),
    ("#x, .y {visibility:hidden}", '<span id="x">'),
    ("span.q{font-size:0}", '<span class="q">'),
    ("/* decoys */ i { opacity: 0 }", "<i>"),
    ("@import url(x.css); .q7 {display:none}", '<span class="q7">'),
    (".q7{display:inline} .q7{display:none}", '<span class="q7">'),  # the later rule wins
    (".q7{display:none!important} .q8{display:inline}", '<span class="q8 q7">'),  # !important wins
    ("#x{display:none} .q8{display:inline}", '<span class="q8" id="x">'),  # an id rule beats a class rule
])
def test_style_sheet_rules_that_hide_a_class_or_id(sheet: str, hide: str) -> None:
    out = extract(page(interleave(hide), head=f"<style>{sheet}</style>"))
    assert out.paragraphs == COPY


@pytest.mark.parametrize("head,hide", [
    ("<style>@media (max-width: 10px) { .q7 {display:none} }</style>", '<span class="q7">'),
    ("<style>.q7{display:none} .q7{display:inline}</style>", '<span class="q7">'),
    ("<style>.q7{display:none}</style>", '<span class="q7" style="display:inline">'),
    ("<style>div .q7{display:none} .q7:hover{display:none} [class=q7]{display:none}</style>", '<span class="q7">'),
    ("<style media='print'>.q7{display:none}</style>", '<span class="q7">'),
    ("<meta name='x' content='<style>.q7{display:none}</style>'>", '<span class="q7">'),
    ("<noscript><style>.q7{display:none}</style></noscript>", '<span class="q7">'),
])
def test_rules_that_do_not_apply_hide_nothing(head: str, hide: str) -> None:
    """@media rules, rules a later one overrides, complex selectors, print sheets and a "<style>" that is no
    style sheet (in an attribute value, in <noscript>) leave the text shown: here the "decoys" are visible."""
    out = extract(page(interleave(hide), head=head))
    assert all(d in out.text for d in DECOYS)


def test_a_style_sheet_in_a_textarea_applies_to_nothing() -> None:
    out = extract(page("<textarea><style>.c{display:none}</style></textarea>" + paras("<p class='c'>{}</p>")))
    assert out.paragraphs[-len(COPY):] == COPY
    assert "style" not in out.text


def test_a_descendant_can_show_again_what_visibility_or_font_size_hid() -> None:
    body = "".join(
        f"<p><span style='visibility:hidden'>{DECOYS[0]} <b style='visibility:visible'>{p}</b></span>"
        f" <span style='font-size:0'>{DECOYS[1]} <i style='font-size:16px'>extra words here</i></span></p>"
        for p in COPY)
    out = extract(page(body))
    assert out.paragraphs == [f"{p} extra words here" for p in COPY]


@pytest.mark.parametrize("hide,show", [
    ("font-size:0", "font-size:16px"), ("color:transparent", "color:#222"), ("visibility:hidden", "visibility:visible"),
])
def test_blocks_whose_hidden_text_has_shown_children_keep_what_is_shown(hide: str, show: str) -> None:
    """A copier hides each paragraph and shows only the copy inside it: the copy stays. (For visibility, the
    paragraph's own hidden text stays too: a block marked hidden is kept whole once something in it is shown.)"""
    body = "".join(f"<p style='{hide}'>{DECOYS[0]} <span style='{show}'>{p}</span> {DECOYS[1]}</p>" for p in COPY)
    out = extract(page(body))
    assert all(p in out.text for p in COPY)
    if "visibility" not in hide:
        assert out.paragraphs == COPY


def test_zero_font_size_containers_of_inline_blocks_are_shown() -> None:
    """The lay-out trick: font-size:0 on a row removes the gaps between its inline-block columns, which set
    their own size (here through a style sheet)."""
    body = f"<div class='row'>{paras('<div class=col>{}</div>')}</div>"
    head = "<style>.row{font-size:0} .col{display:inline-block;font-size:1rem}</style>"
    assert extract(page(body, head=head)).paragraphs == COPY


@pytest.mark.parametrize("hide", ["display:none", "visibility:hidden", "opacity:0"])
def test_a_hidden_block_holding_most_of_the_page_is_still_kept(hide: str) -> None:
    """Content revealed by JavaScript: left as it was (the _choose rule)."""
    out = extract(page(f"<div style='{hide}'>{paras()}</div><p>Loading the story, one moment please.</p>"))
    assert all(p in out.paragraphs for p in COPY)


@pytest.mark.parametrize(("hide", "head"), [
    ("hidden", ""), ("style='display:none'", ""), ("style='visibility:hidden'", ""),
    ("class='seo'", "<style>.seo{position:absolute;left:-9999px}</style>"),
    ("id='cloak'", "<style>#cloak{display:none}</style>"),
])
def test_a_copy_hidden_from_readers_is_read_and_recorded_as_hidden(hide: str, head: str) -> None:
    """A copy kept in the markup for search engines and not shown to readers: read, and its paragraphs named in
    `hidden` (a visible paragraph is not)."""
    out = extract(page(f"<p>{DECOYS[0]} {DECOYS[2]}</p><div {hide}>{paras()}</div>", head=head))
    assert all(p in out.paragraphs for p in COPY)
    assert out.hidden == tuple(COPY)
    assert out.to_dict()["hidden"] == COPY


@pytest.mark.parametrize("body", [
    paras(),
    # a fade-in theme: animated, so not hidden; shown again by a descendant
    f"<div style='opacity:0;animation:fade 1s forwards'>{paras()}</div>",
    f"<div style='visibility:hidden'><div style='visibility:visible'>{paras()}</div></div>",
])
def test_a_copy_readers_see_is_not_recorded_as_hidden(body: str) -> None:
    out = extract(page(body))
    assert all(p in out.paragraphs for p in COPY)
    assert out.hidden == ()


def test_hidden_records_only_the_hidden_part_of_a_copy() -> None:
    body = f"<p>{COPY[0]}</p><p>{COPY[1]}</p><div hidden><p>{COPY[2]}</p><p>{COPY[3]}</p></div>"
    out = extract(page(body))
    assert out.paragraphs == COPY
    assert out.hidden == tuple(COPY[2:])


def test_hidden_blocks_beside_a_visible_copy_are_dropped() -> None:
    body = "".join(f"<p>{p}</p><div class='x1'>{DECOYS[0]} {DECOYS[1]}</div>" for p in COPY)
    out = extract(page(body, head="<style>.x1{display:none}</style>"))
    assert out.paragraphs == COPY


# --- 2. aria-hidden ------------------------------------------------------------------------------------------------

def test_aria_hidden_paragraphs_are_shown_text() -> None:
    own = "".join(f"<p>{d} {d}</p>" for d in DECOYS)
    out = extract(page(own + paras('<p aria-hidden="true">{}</p>')))
    assert all(p in out.paragraphs for p in COPY)


# --- 3. text shown reversed ----------------------------------------------------------------------------------------

def rev(text: str) -> str:
    return text[::-1]


def test_bdo_rtl_paragraphs_read_in_the_order_shown() -> None:
    out = extract(page("".join(f'<p><bdo dir="rtl">{rev(p)}</bdo></p>' for p in COPY)))
    assert out.paragraphs == COPY


def test_bdo_rtl_per_word_and_css_override_class() -> None:
    per_word = "".join("<p>" + " ".join(f'<bdo dir="rtl">{rev(w)}</bdo>' for w in p.split()) + "</p>" for p in COPY)
    assert extract(page(per_word)).paragraphs == COPY
    sheet = "<style>.r{unicode-bidi:bidi-override;direction:rtl}</style>"
    per_word = "".join("<p>" + " ".join(f'<i class="r">{rev(w)}</i>' for w in p.split()) + "</p>" for p in COPY)
    assert extract(page(per_word, head=sheet)).paragraphs == COPY


def test_inline_style_override_on_a_paragraph_and_inherited_direction() -> None:
    body = "".join(f'<p style="direction:rtl; unicode-bidi:bidi-override">{rev(p)}</p>' for p in COPY)
    assert extract(page(body)).paragraphs == COPY
    body = "".join(f'<p dir="rtl"><span style="unicode-bidi:bidi-override">{rev(p)}</span></p>' for p in COPY)
    assert extract(page(body)).paragraphs == COPY


def test_inline_markup_inside_an_override_is_reversed_with_it() -> None:
    def marked(p: str) -> str:
        r = rev(p)
        return f"{r[:10]}<b>{r[10:30]}</b><a href='/x'>{r[30:50]}</a>{r[50:]}"
    out = extract(page("".join(f"<p><bdo dir='rtl'>{marked(p)}</bdo></p>" for p in COPY)))
    assert out.paragraphs == COPY


def test_an_isolate_inside_an_override_keeps_its_own_order() -> None:
    """<bdo dir=rtl>: the words outside the isolate are shown reversed, the isolate (dir=ltr) as written."""
    first, rest = COPY[0].split(" ", 1)
    html = page(f'<p><bdo dir="rtl"><span dir="ltr">{rest}</span> {rev(first)}</bdo></p>' + paras())
    assert extract(html).paragraphs[0] == f"{first} {rest}"


def test_hebrew_in_an_rtl_override_is_not_reversed() -> None:
    hebrew = "שלום לכולם, זהו משפט ארוך מספיק בעברית כדי להיחשב לפסקה של ממש בעמוד הזה."
    out = extract(page(f'<p><bdo dir="rtl">{hebrew}</bdo></p>' + paras()))
    assert hebrew in out.paragraphs


def test_ltr_override_and_plain_rtl_direction_change_nothing() -> None:
    assert extract(page(paras('<p><bdo dir="ltr">{}</bdo></p>'))).paragraphs == COPY
    assert extract(page(paras('<p dir="rtl">{}</p>'))).paragraphs == COPY


def test_deeply_nested_overrides_stay_linear() -> None:
    html = "<p>" + "<bdo dir=rtl>ab " * 5000 + "</p>"
    out = extract(html)
    assert len(out.text) > 10_000


# --- 4. content a browser shows that used to be dropped -----------------------------------------------------------

def test_open_dialog_is_shown_a_closed_one_is_not() -> None:
    assert extract(page(f"<dialog open>{paras()}</dialog>")).paragraphs == COPY
    out = extract(page(paras() + f"<dialog><p>{' '.join(DECOYS)}</p></dialog>"))
    assert out.paragraphs == COPY


def test_object_fallback_content_is_read() -> None:
    html = page(f'<object data="gone.swf" type="application/x-shockwave-flash"><param name="q" value="1">'
                f"{paras()}</object>")
    assert extract(html).paragraphs == COPY


def test_buttons_holding_prose_are_read_other_buttons_are_not() -> None:
    body = "<button>Share</button>" + paras("<button style='all:unset;display:block'>{}</button>")
    body += "<button>Load more comments</button><button>Reset all of the settings to their defaults</button>"
    assert extract(page(body)).paragraphs == COPY


def test_declarative_shadow_root_is_read_a_plain_template_is_not() -> None:
    html = page(f'<div><template shadowrootmode="open">{paras()}</template>'
                f"<p>{DECOYS[0]} Light children are not shown without a slot.</p></div>")
    assert extract(html).paragraphs == COPY
    html = page(f"<p>{DECOYS[0]} {DECOYS[1]}</p><template>{paras()}</template>")
    assert not any(p in extract(html).text for p in COPY)
    inside = f"<template shadowrootmode=closed>{paras()}<button>Share</button><dialog><p>{DECOYS[2]}</p></dialog>"
    assert extract(page(f"<div><div>{inside}</template></div></div>")).paragraphs == COPY


def test_textarea_is_read_like_pre() -> None:
    out = extract(page("<textarea readonly>" + "\n\n".join(COPY) + "</textarea>"))
    assert out.paragraphs == COPY


def test_iframe_srcdoc_is_extracted_in_its_place() -> None:
    doc = f"<html><head><style>.d{{display:none}}</style></head><body>{interleave('<span class=d>')}</body></html>"
    html = page(f'<iframe srcdoc="{doc.replace(chr(34), "&quot;")}"></iframe>')
    assert extract(html).paragraphs == COPY
    hidden = page(f"<p>{DECOYS[0]} {DECOYS[1]}</p><iframe style='display:none' srcdoc='{paras()}'></iframe>"
                  + "".join(f"<p>{d} {d}</p>" for d in DECOYS))
    assert not any(p in extract(hidden).text for p in COPY)


def test_srcdoc_inside_srcdoc_is_not_followed() -> None:
    inner = paras().replace('"', "&quot;")
    outer = f'<iframe srcdoc="{inner}"></iframe><p>{DECOYS[0]} {DECOYS[1]}</p>'.replace("&", "&amp;")
    out = extract(page(f'<iframe srcdoc="{outer.replace(chr(34), "&quot;")}"></iframe>'))
    assert not any(p in out.text for p in COPY)


# --- 5. <br> ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("every", [3, 4, 7])
def test_hard_wrapped_paragraphs_stay_whole(every: int) -> None:
    def wrap(p: str) -> str:
        words = p.split(" ")
        return "<br>\n".join(" ".join(words[i:i + every]) for i in range(0, len(words), every))
    out = extract(page("".join(f"<p>{wrap(p)}</p>" for p in COPY)))
    assert out.paragraphs == COPY
    assert len(sentences(out.text)) == len(sentences("\n\n".join(COPY)))


def test_two_br_in_a_row_still_separate_paragraphs() -> None:
    html = page("<div>" + "<br><br>".join(COPY) + "</div>")
    assert extract(html).paragraphs == COPY
    html = page("<div>" + "<br>\n&nbsp;<br>\n".join(COPY) + "</div>")
    assert extract(html).paragraphs == COPY


def test_br_inside_pre_is_a_newline() -> None:
    out = extract(page(paras() + "<pre>Line one.<br>Line two.</pre>"))
    assert out.paragraphs[-1] == "Line one.\nLine two."


def test_hidden_br_breaks_nothing() -> None:
    body = "".join("<p>" + p.replace(" ", " <span style='display:none'><br><br></span>", 3) + "</p>" for p in COPY)
    assert extract(page(body)).paragraphs == COPY


# --- 6. control characters ----------------------------------------------------------------------------------------

def test_control_characters_do_not_reach_the_text() -> None:
    body = "".join(f"<p>{p[:20]}\x1b[31m\x01{p[20:40]}\x7f\x85\x9b{p[40:]}&#1;&#x1F;</p>" for p in COPY)
    out = extract(page(body).replace("<title>Bees", "<title>\x1b]0;Bees"))
    assert out.paragraphs == [p[:20] + "[31m" + p[20:] for p in COPY]
    assert out.title == "Bees at the allotments"
    assert not any((0 < ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f for c in out.text)


# --- 7. JavaScript pages carrying their text in JSON data ---------------------------------------------------------

def next_page(data: object, body: str = '<div id="__next"></div>') -> str:
    return (f"<html><head><title>Bees</title></head><body>{body}<script id='__NEXT_DATA__' "
            f"type='application/json'>{json.dumps(data)}</script></body></html>")


def test_next_data_html_body_is_the_fallback() -> None:
    data = {"props": {"pageProps": {"post": {"title": "Bees", "excerpt": COPY[0][:80],
                                             "body": "".join(f"<p>{p}</p>" for p in COPY)},
                                    "related": [{"title": d, "summary": d} for d in DECOYS]}}}
    out = extract(next_page(data))
    assert out.method == "json"
    assert out.paragraphs == COPY


def test_json_blocks_of_paragraphs_are_the_fallback() -> None:
    data = {"article": {"blocks": [{"type": "paragraph", "children": [{"text": p}]} for p in COPY]},
            "nav": ["Home", "News", "Sport"]}
    out = extract(next_page(data).replace("__NEXT_DATA__", "__NUXT_DATA__"))
    assert out.paragraphs == COPY


def test_json_data_is_not_used_when_the_markup_has_the_text() -> None:
    data = {"story": " ".join(DECOYS * 10)}
    out = extract(next_page(data, body=f"<article>{paras()}</article>"))
    assert (out.method, out.paragraphs) == ("dom", COPY)


@pytest.mark.parametrize("blob", ["{", "[" * 100_000, '"just a string"', "null", '{"a": "x"}'])
def test_broken_or_empty_json_data_gives_nothing(blob: str) -> None:
    html = f"<body><div id=app></div><script type='application/json'>{blob}</script></body>"
    assert extract(html).text == ""
