"""extract() never raises: random bytes, tag soup, and real pages cut, spliced and corrupted."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.extract import Extracted, decode_html, extract, text_of

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
PAGES = [p.read_bytes() for p in sorted(DEMO.rglob("*.html"))]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = st.sampled_from([
    "<p>", "</p>", "<div class='content'>", "</div>", "<br>", "<a href='/x'>", "</a>", "<nav>", "<form>", "</form>",
    "<script>", "</script>", "<style>", "<table><tr><td>", "</td>", "<pre>", "<!--", "-->", "<![CDATA[", "]]>",
    "<meta charset='", "utf-16", "'>", "<h1>", "</h1>", "&amp;", "&#0;", "&#xD800;", "&nbsp;", "<", ">", "\x00",
    "\ufeff", "<script type='application/ld+json'>", '{"@type":"Article","articleBody":', '"x"}', "[ad_1]",
    "Leave A Reply", "Source link", "The quick brown fox jumps over the lazy dog again and again. ", "<html lang=",
    "<link rel=canonical href=", "<body>", "</body>", "<template>", "<svg>", "<math>", "<select><option>",
    # hidden, reversed and revealed content (tests/test_extract_evasion.py)
    "<span style='display:none'>", "<b hidden>", "</span>", "<bdo dir=rtl>", "</bdo>", "<i style='direction:rtl;"
    "unicode-bidi:bidi-override'>", "<span dir=ltr>", "<style>.q{display:none} #x,i{font-size:0}@media{", "}",
    "<p class=q>", "<template shadowrootmode=open>", "<slot>", "</template>", "<iframe srcdoc='<p>x", "'>",
    "<dialog open>", "<button>", "<textarea>", "<object>", "<rp>", "<noembed>", "<br>", "\x01\x1b[0m\x85",
    "<script type='application/json'>", '{"body":"<p>', "The slow green river runs past the old mill. ", '"}',
])


def _ok(out: Extracted) -> None:
    assert isinstance(out, Extracted)
    assert isinstance(out.text, str) and isinstance(out.title, str)
    assert all(isinstance(c, str) for c in out.credits)
    out.to_dict()


@FUZZ
@given(st.binary(max_size=4000),
       st.sampled_from(["", "text/html", "text/html; charset=utf-16", "text/html; charset=bogus"]))
def test_random_bytes(data: bytes, ctype: str) -> None:
    _ok(extract(data, content_type=ctype))
    assert isinstance(decode_html(data, ctype), str)
    _ok(text_of(data, ctype, "https://x.example/a"))


@FUZZ
@given(st.lists(st.one_of(TOKENS, st.text(max_size=30)), max_size=200))
def test_tag_soup(parts: list[str]) -> None:
    _ok(extract("".join(parts), url="https://x.example/a/b"))


@FUZZ
@given(st.sampled_from(range(len(PAGES))), st.data())
def test_mutated_real_pages(index: int, data: st.DataObject) -> None:
    page = bytearray(PAGES[index])
    for _ in range(data.draw(st.integers(0, 8))):
        op = data.draw(st.sampled_from(["cut", "dup", "flip", "insert", "truncate"]))
        n = len(page)
        a = data.draw(st.integers(0, max(n - 1, 0)))
        b = data.draw(st.integers(a, n))
        if op == "cut":
            del page[a:b]
        elif op == "dup":
            page[a:a] = page[a:b]
        elif op == "flip" and n:
            page[a] ^= data.draw(st.integers(1, 255))
        elif op == "insert":
            junk = [b"<div>", b"</div></body>", b"<p", b"\xff\xfe", b"<!--", b"<script>"]
            page[a:a] = data.draw(st.sampled_from(junk))
        else:
            page = page[:b]
    _ok(extract(bytes(page), url="https://x.example/p", content_type="text/html"))


def test_pathological_shapes() -> None:
    deep = "<div>" * 5000 + "text " * 50 + "</div>" * 5000
    wide = "<p>word</p>" * 20000
    for page in (deep, wide, "", "   ", "<html>", "</html></body>", "<body><p>x", "\x00" * 100):
        _ok(extract(page))
    _ok(extract(b"<p>" + b"a" * 3_000_000, max_chars=100_000))
