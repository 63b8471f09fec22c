"""Mends of the hidden-text reading (docs/extraction.md, "Hidden, reversed and revealed text"): linear CSS parsing,
themes whose style sheets hide whole articles until scripts or animations show them, page furniture in elements
that used to be dropped, the JSON data fallback, bidi, zero-size frames and <br> lines.

All fixture text is written for these tests."""

from __future__ import annotations

import json

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


# --- 2. Themes that hide the whole article until a script or an animation shows it ---

@pytest.mark.parametrize("css,wrap", [
    # a pure-CSS fade-in per paragraph
    ("@keyframes f{from{opacity:0}to{opacity:1}}.fade-in{opacity:0;animation:f .6s forwards}",
     '<p class="fade-in">{}</p>'),
    (".rise{opacity:0;transform:scale(0);transition:all .4s}", '<p class="rise">{}</p>'),
    # WOW.js: hidden until its script runs
    (".wow{visibility:hidden}", '<p class="wow fadeInUp">{}</p>'),
    # lazy blocks shown once the page has loaded
    (".lazy{opacity:0}.loaded .lazy{opacity:1}", '<p class="lazy">{}</p>'),
    (".reveal{opacity:0}", '<div class="reveal"><p>{}</p></div>'),  # no rule shows it: the safety net
    (".offstage{position:absolute;left:-10000px}", '<p class="offstage">{}</p>'),
    # outlined text
    (".outline{color:transparent;-webkit-text-stroke:1px #000}", '<p class="outline">{}</p>'),
    (".outline{color:transparent;-webkit-text-stroke-width:2px}", '<p class="outline">{}</p>'),
])
def test_themes_hiding_every_paragraph_keep_the_article(css: str, wrap: str) -> None:
    text = text_of(page(paras(wrap), css))
    assert has_article(text)


@pytest.mark.parametrize("size", [
    "var(--text-md, 1rem)", "clamp(1rem, 2vw, 1.25rem)", "calc(1rem + 2px)", "initial", "revert", "1.1em", "100%",
])
def test_font_size_zero_rows_whose_columns_set_any_size_are_shown(size: str) -> None:
    css = f".row{{font-size:0}}.col{{display:inline-block;width:100%;font-size:{size}}}"
    text = text_of(page('<div class="row">' + paras('<div class="col"><p>{}</p></div>') + "</div>", css))
    assert has_article(text)


@pytest.mark.parametrize("font", ["400 1rem/1.5 Inter,sans-serif", "bold 16px Georgia", "italic 600 1.2em serif"])
def test_the_font_shorthand_with_a_weight_first_sets_a_size(font: str) -> None:
    css = f".row{{font-size:0}}.col{{display:inline-block;font:{font}}}"
    text = text_of(page('<div class="row">' + paras('<div class="col"><p>{}</p></div>') + "</div>", css))
    assert has_article(text)


@pytest.mark.parametrize("css,cls", [
    (".collapse{display:none}.collapse.in{display:block}", "collapse in"),
    (".more{display:none}@media (min-width:600px){.more{display:block}}", "more"),
    (".lazy{opacity:0}.loaded .lazy{opacity:1}", "lazy"),
    (".tab{visibility:hidden}.tabs > .tab{visibility:visible}", "tab"),
])
def test_a_later_rule_that_shows_a_class_again_cancels_the_hide(css: str, cls: str) -> None:
    """Only two of the three paragraphs are in the shown-again element: the safety net alone would not keep them."""
    body = f'<p>{ART[0]}</p><div class="{cls}"><p>{ART[1]}</p><p>{ART[2]}</p></div>'
    assert has_article(text_of(page(body, css)))


@pytest.mark.parametrize("css", [
    ".d{display:none}.d:hover{display:inline}",
    ".d{display:none}@media print{.d{display:inline}}",
    ".d{display:none}.x .d{color:red}",
])
def test_hover_print_and_other_rules_do_not_show_a_hidden_class(css: str) -> None:
    body = "".join(f'<p>{p} <span class="d">{DECOY}</span></p>' for p in ART)
    text = text_of(page(body, css))
    assert has_article(text) and DECOY not in text


@pytest.mark.parametrize("hide", [
    'class="d"', 'style="opacity:0"', 'style="font-size:0"', 'style="color:transparent"',
    'style="position:absolute;left:-9999px"',
])
def test_decoys_between_copied_sentences_are_still_hidden(hide: str) -> None:
    """The copier's trick hides a minority of the text: the safety net does not undo it."""
    body = "".join(f'<p>{p} <span {hide}>{DECOY}</span></p>' for p in ART)
    text = text_of(page(body, ".d{opacity:0}"))
    assert has_article(text) and DECOY not in text


def test_the_safety_net_leaves_the_hidden_attribute_and_inline_display_none_alone() -> None:
    """Most of the page hidden with `hidden` or inline display:none stays hidden (as before this change): only
    the visible paragraph and nothing of the hidden spans."""
    body = (f"<p>{ART[0]}</p>" + "".join(f'<p hidden>{DECOY} {p}</p>' for p in ART[1:])
            + "".join(f'<p>{ART[0][:60]} <span style="display:none">{DECOY * 3}</span></p>' for _ in range(2)))
    text = text_of(page(body))
    assert DECOY not in text and ART[1] not in text


# --- 3. Furniture in elements a browser shows ---

COOKIE = ("This website stores small files on your device to remember your choices and to measure how visitors "
          "use the pages, as described in our privacy notice.")


def test_an_open_dialog_beside_the_article_is_furniture() -> None:
    body = paras() + f"<dialog open><p>{COOKIE}</p><p>{COOKIE.replace('small', 'tiny')}</p><button>OK</button></dialog>"
    out = extract(page(body))
    assert out.paragraphs == ART


def test_an_open_dialog_holding_the_article_is_read() -> None:
    assert extract(page(f"<dialog open>{paras()}</dialog><p>{COOKIE}</p>")).paragraphs[:3] == ART


@pytest.mark.parametrize("label", [
    "Show all 48 comments from readers who have joined the discussion on this story so far.",
    "Continue reading the rest of this story about the harbour ferry and its new winter timetable…",
    "Listen to this article, read aloud by our narrator in about four minutes and a half.",
])
def test_prose_buttons_beside_an_article_are_dropped(label: str) -> None:
    out = extract(page(paras() + f"<button type=button>{label}</button>"))
    assert out.paragraphs == ART


def test_a_copy_split_into_buttons_is_read() -> None:
    out = extract(page(paras("<button style='all:unset;display:block'>{}</button>") + "<button>Share</button>"))
    assert out.paragraphs == ART


@pytest.mark.parametrize("attrs", [
    'data="/files/report.pdf" type="application/pdf"', 'data="/files/report.pdf"', 'type="image/svg+xml" data="x"',
    'data="map.html" type="text/html"',
])
def test_object_fallback_of_a_shown_embed_is_dropped(attrs: str) -> None:
    fallback = "<p>Your browser cannot show this document here, so please download the file to read it offline.</p>"
    out = extract(page(paras() + f"<object {attrs}>{fallback}</object>"))
    assert out.paragraphs == ART


def test_a_textarea_of_markup_is_dropped() -> None:
    embed = '<textarea readonly><iframe src="https://example.org/embed/ferry" width="560"></iframe>' \
            " Copy this code to show the timetable on your own site, it updates itself every week.</textarea>"
    out = extract(page(paras() + embed))
    assert out.paragraphs == ART


# --- 4. The JSON data fallback is for pages whose markup is empty ---

SHORT = "Our photographer caught the ferry leaving the quay at dusk on Friday, as crowds gathered on the pier."


def data_page(data: object, body: str, script_id: str = "__NEXT_DATA__") -> str:
    return (f"<html><head><title>Ferry</title></head><body>{body}<script id='{script_id}' "
            f"type='application/json'>{json.dumps(data)}</script></body></html>")


def test_a_short_article_is_not_replaced_by_an_i18n_bundle() -> None:
    bundle = {"messages": {
        "comments.policy": "Comments are moderated and will appear after review. Please keep the discussion civil "
                           "and on topic, and thank you for taking part.",
        "paywall.body": "You have reached your limit of free stories this month. Subscribe today for unlimited "
                        "access to all of our journalism on every device you own.",
    }}
    for script_id in ("i18n", "__NEXT_DATA__"):
        out = extract(data_page(bundle, f"<main><article><h1>Ferry</h1><p>{SHORT}</p></article></main>", script_id))
        assert (out.method, out.paragraphs) == ("dom", [SHORT])


def test_related_story_teasers_do_not_replace_a_short_article() -> None:
    data = {"props": {"pageProps": {"related": [{"summary": p} for p in ART * 3]}}}
    out = extract(data_page(data, f"<main><article><p>{SHORT}</p></article></main>"))
    assert (out.method, out.paragraphs) == ("dom", [SHORT])


def test_json_scripts_of_any_id_are_read_when_the_markup_is_empty() -> None:
    data = {"store": {"story": {"42": {"blocks": [{"type": "para", "text": p} for p in ART]}}}}
    out = extract(data_page(data, "<div id=app></div>", script_id="initial-state"))
    assert (out.method, out.paragraphs) == ("json", ART)
    # ...but not over a short article in the markup (an i18n bundle or settings script is no article either)
    out = extract(data_page(data, f"<main><article><h1>Ferry</h1><p>{SHORT}</p></article></main>", "settings"))
    assert (out.method, out.paragraphs) == ("dom", [SHORT])


def state_page(script: str, body: str = "<div id=root></div>") -> str:
    return f"<html><head><title>Ferry</title></head><body>{body}<script>{script}</script></body></html>"


STATE = {"apollo": {"Story:7": {"__typename": "Story", "body": "".join(f"<p>{p}</p>" for p in ART)}},
         "teasers": [{"title": "More news", "blurb": "Short."}]}


@pytest.mark.parametrize("script", [
    f"window.__APOLLO_STATE__ = {json.dumps(STATE)};",
    f"window.__remixContext = {json.dumps(STATE)};__remixContext.p = null; console.log('{{}}');",
    f"\n  var state={json.dumps(STATE)}\n;window.app && window.app.boot(state);",
    f'self["__STORE__"] = {json.dumps(STATE)}',
    f"window.__INITIAL_STATE__ = JSON.parse({json.dumps(json.dumps(STATE))});",
])
def test_inline_scripts_assigning_json_state_are_read_when_the_markup_is_empty(script: str) -> None:
    out = extract(state_page(script))
    assert (out.method, out.paragraphs) == ("json", ART)


def test_json_kept_as_a_string_inside_json_data_is_decoded() -> None:
    fetched = {"status": 200, "body": json.dumps({"post": {"content": "\n".join(ART)}})}
    out = extract(data_page(fetched, "<div id=app></div>", script_id="sveltekit-fetched"))
    assert (out.method, out.paragraphs) == ("json", ART)


@pytest.mark.parametrize("script", [
    f"console.log({json.dumps(STATE)});",  # a call, not data assigned to a name
    f"if (ready) {{ window.x = {json.dumps(STATE)}; }}",  # assigned inside code
    "window.__NUXT__=(function(a,b){return {story: a}}(" + json.dumps("\n".join(ART)) + ", 1));",
])
def test_scripts_that_run_code_are_not_read(script: str) -> None:
    assert extract(state_page(script)).text == ""


def test_noscript_content_is_read_when_the_markup_is_empty() -> None:
    body = f"<div id=app></div><noscript><h1>Ferry</h1>{paras()}<p>Enable JavaScript to comment.</p></noscript>"
    out = extract(state_page("", body))
    assert out.method == "noscript"
    assert out.paragraphs[:3] == ART


def test_noscript_content_is_not_read_beside_an_article() -> None:
    body = f"<main><article><h1>Ferry</h1><p>{SHORT}</p></article></main><noscript>{paras()}</noscript>"
    out = extract(state_page("", body))
    assert (out.method, out.paragraphs) == ("dom", [SHORT])


def test_ui_strings_under_twelve_words_are_not_prose() -> None:
    data = {"ui": {f"k{i}": f"Something went wrong while loading page {i}. Please try again." for i in range(40)}}
    assert extract(data_page(data, "<div id=app></div>")).text == ""


# --- 5. Bidi ---

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of three joined by zero-width joiners

def test_words_after_a_nested_override_stay_apart() -> None:
    body = f"<p>Alpha <bdo dir=rtl>owt<bdi>X</bdi></bdo> <b>Delta</b> makes a sentence of prose here.</p>{paras()}"
    assert extract(page(body)).paragraphs[0] == "Alpha Xtwo Delta makes a sentence of prose here."


@pytest.mark.parametrize("shown,stored", [
    ("I went to the cafe\u0301 today", "yadot e\u0301fac eht ot tnew I"),
    (f"a family {FAMILY} walked by", f"yb deklaw {FAMILY} ylimaf a"),
    ("a wave \U0001f44b\U0001f3fd from the quay", "yauq eht morf \U0001f44b\U0001f3fd evaw a"),
])
def test_reversed_text_keeps_combining_marks_and_joined_emoji_with_their_base(shown: str, stored: str) -> None:
    out = extract(page(f"<p><bdo dir=rtl>{stored}</bdo>, said the ferry's skipper on the quay.</p>{paras()}"))
    assert out.paragraphs[0] == f"{shown}, said the ferry's skipper on the quay."


# --- 6. Zero-size frames ---

@pytest.mark.parametrize("attrs", [
    'style="width:0;height:0;border:0"', 'width="1" height="1"', 'style="height:1px"', "width=0", 'height="0px"',
    'style="max-width:0"',
])
def test_a_zero_size_iframe_srcdoc_stays_hidden(attrs: str) -> None:
    srcdoc = f"&lt;p&gt;{DECOY} It is injected into the page text by a frame nobody sees.&lt;/p&gt;"
    text = text_of(page(paras() + f'<iframe {attrs} srcdoc="{srcdoc}"></iframe>'))
    assert has_article(text) and "lighthouse" not in text


def test_a_visible_iframe_srcdoc_is_still_read() -> None:
    srcdoc = "".join(f"&lt;p&gt;{p}&lt;/p&gt;" for p in ART)
    assert has_article(text_of(page(f'<iframe width="600" height="400" srcdoc="{srcdoc}"></iframe>')))


# --- 7. Lines ended by single <br>s ---

def test_verse_and_addresses_keep_their_line_ends() -> None:
    poem = ["The ferry leaves the harbour wall", "Grey water folding at the bow", "Gulls behind it, one and all",
            "Winter timetable now"]
    address = ["Harbour Ferry Office", "12 Quay Street", "Eastport", "EP1 4QA"]
    body = paras() + "<p>" + "<br>".join(address) + "</p><p>" + "<br>\n".join(poem) + "</p>"
    out = extract(page(body))
    assert "\n".join(poem) in out.paragraphs
    assert "\n".join(address) in out.text


def test_hard_wrapped_prose_and_two_lines_still_read_as_sentences() -> None:
    words = ART[0].split()
    wrapped = "<br>".join(" ".join(words[i:i + 5]) for i in range(0, len(words), 5))
    out = extract(page(f"<p>{wrapped}</p><p>Ferry Office<br>Quay Street</p>" + "".join(f"<p>{p}</p>" for p in ART[1:])))
    assert out.paragraphs[0] == ART[0]
    assert "Ferry Office Quay Street" in out.text or "Ferry Office" not in out.text


# --- 8. Paragraphs set as headings, ruby glosses ---

def test_paragraphs_set_as_headings_are_read() -> None:
    out = extract(page(paras("<h3 class=body>{}</h3>")))
    assert out.paragraphs == ART


def test_a_long_headline_without_a_full_stop_is_still_no_paragraph() -> None:
    headline = ("Ferry operator cuts winter crossings to three a day as bookings fall and the boat goes in for its "
                "annual inspection")
    out = extract("<html><body><main><section><h2>" + headline + "</h2></section>"
                  "<aside><h3>" + headline + "</h3></aside></main></body></html>")
    assert out.paragraphs == []


def test_ruby_annotations_are_not_read_into_the_text() -> None:
    glossed = "".join("<p>" + " ".join(f"<ruby>{w}<rp>(</rp><rt>{DECOY.split()[k % 5]}</rt><rp>)</rp></ruby>"
                                       for k, w in enumerate(p.split())) + "</p>" for p in ART)
    assert extract(page(glossed)).paragraphs == ART


# --- 9. Text set in an inline SVG ---

def test_a_copy_set_line_by_line_in_an_svg_is_read() -> None:
    words = " ".join(ART).split()
    lines = [" ".join(words[i:i + 9]) for i in range(0, len(words), 9)]
    svg = ("<svg width='700' height='900'>" + "".join(
        f"<text x='0' y='{20 * (k + 1)}'>{line.replace('the', '<tspan>the</tspan>', 1)}</text>"
        for k, line in enumerate(lines)) + "</svg>")
    assert extract(page(svg)).text == " ".join(ART)


def test_chart_labels_in_an_svg_stay_out_of_the_text() -> None:
    chart = ("<svg viewBox='0 0 400 200'><g>" + "".join(f"<text x='{k * 30}' y='190'>{m}</text>" for k, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]))
             + "<text x='0' y='10'>Crossings per month, 2025 (source: ferry operator)</text></g></svg>")
    assert extract(page(paras() + chart)).paragraphs == ART


# --- 10. Paragraphs wrapped in links; hidden="until-found" ---

LONG = [p + " " + p for p in ART]  # paragraphs of 60+ words


def test_a_copy_with_every_paragraph_a_link_is_read() -> None:
    out = extract(page("".join(f"<p><a href='/p{i}'>{p}</a></p>" for i, p in enumerate(LONG))))
    assert out.paragraphs == LONG


def test_a_list_of_linked_teasers_stays_no_text() -> None:
    teasers = "".join(f"<li><a href='/s{i}'>{p.split(',')[0]}.</a></li>" for i, p in enumerate(ART * 3))
    assert extract(page(f"<ul>{teasers}</ul>")).text == ""


def test_linked_paragraphs_beside_an_article_stay_out() -> None:
    related = "".join(f"<div class='card'><a href='/r{i}'>{p}</a></div>" for i, p in enumerate(LONG))
    out = extract(page(paras() + f"<section>{related}</section>"))
    assert out.paragraphs == ART


@pytest.mark.parametrize("value,shown", [("until-found", True), ("", False), ("hidden", False)])
def test_hidden_until_found_is_shown_text_like_a_closed_details(value: str, shown: bool) -> None:
    """hidden="until-found" is an accordion's collapsed text (find-in-page shows it): the page's text, not a copy
    kept out of readers' sight, which is read too but named in Extracted.hidden."""
    out = extract(page(f"<p>{ART[0]}</p><div hidden='{value}'><p>{ART[1]}</p><p>{ART[2]}</p></div>"))
    assert out.paragraphs == ART
    assert list(out.hidden) == ([] if shown else ART[1:])
