"""Turn a page's HTML into its article text, title and provenance metadata.

How the main text is found (selectolax/lexbor, one parse, one walk; details in docs/extraction.md):
1. Elements that never hold readable text are dropped in C, and small nav/aside subtrees pruned; what a
   browser shows of elements that would be dropped (open dialogs, buttons holding prose, declarative shadow
   roots, <iframe srcdoc> documents) is put into the document first.
2. One walk cuts the body into text blocks (paragraphs, headings, list items, cells, bare text
   between <br><br>s), each with its element (whose ancestors are kept as parent links, so any
   nesting depth costs linear time and memory) and link-text share. Elements whose tag, role or
   class/id words say "furniture", and hidden elements (attribute, inline style or a simple rule of the
   page's style sheets), are marked; a mark is overruled when the element holds most of
   the page's prose (a theme's "content-sidebar-wrap" is the page, not a sidebar). The text of hidden
   inline elements is left out of its paragraph, and text under a right-to-left bidi override is read in
   the order a browser shows it.
3. The container starts as the deepest element holding 60% of the unmarked prose, then climbs to
   the ancestor with the best prose-minus-junk score (joins articles split into chunks).
4. Inside it, furniture, link lists, known furniture lines, bylines, template blocks and a trailing
   site-name line are dropped; credit lines inside or just after it become credits.
5. If the DOM gives little and JSON-LD carries a longer articleBody, that is used; if the DOM gives
   almost nothing, the prose of the page's JSON data scripts (__NEXT_DATA__...) is.
"""

from __future__ import annotations

import contextlib
import html as htmllib
import json
import re
import unicodedata
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.templates import block_hash

# Markup that never holds article text is removed before anything is parsed or cut (_strip_bulk): comments,
# <script> (JSON-LD kept), <style>, <svg> and long data: URIs. A page whose remaining markup is longer than
# MAX_CHARS characters is cut there, and says so (Extracted.truncated and .warning): the bound on parse and walk
# time for pages fetch.max_bytes lets through (docs/extraction.md, "Big pages"). Callers may raise it.
MAX_CHARS = 5_000_000

# Dropped with their content. Browsers never show noembed/noframes content, nor <rp> next to ruby text; ruby
# annotations (<rt>, <rtc>: readings set small above the text) are not the running text, and a copy glossing every
# word with one hid among them (one decoy a word). Shown, so
# not here: an open <dialog> (a closed one is dropped before), <object> fallback content, a <button> holding prose
# (other buttons are dropped before), <textarea> (read like <pre>), declarative shadow roots (<template
# shadowrootmode>, unwrapped before); an <iframe srcdoc> is extracted as its own page and put in its place.
DROP_TAGS = [
    "script", "style", "noscript", "template", "svg", "math", "iframe", "embed", "canvas", "noembed", "noframes",
    "rp", "rt", "rtc", "select", "input", "option", "datalist", "video", "audio", "map",
]
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
    "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
    "figure", "figcaption", "hr", "address", "center", "details", "summary", "form", "fieldset",
    "body", "header", "footer", "nav", "aside", "caption", "legend", "menu", "hgroup", "picture", "dialog",
    "textarea", "button",
})
PRE_TAGS = frozenset({"pre", "textarea"})
PRUNE_SELECTOR = (
    "nav, aside, menu, [role=navigation], [role=complementary], [role=search], [role=menu], [role=menubar]"
)
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Tags that are furniture wherever they are (overruled only when they hold most of the prose).
FURNITURE_TAGS = frozenset({
    "nav", "aside", "footer", "header", "form", "figure", "figcaption", "menu", "label", "address", "picture",
    "dialog",
})
FURNITURE_ROLES = frozenset({
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog", "menu",
    "menubar", "toolbar", "tablist", "form",
})
# Words in class or id that mark page furniture. Class strings are split into words at anything
# that is not a letter or digit; a word, or two neighbours run together ("post-meta" -> "postmeta"),
# is looked up here. A set lookup, since one big regex costs ~15 us per class string.
FURNITURE_WORDS = frozenset("""
comment comments commentlist commentform commentrespond commentlist commentarea respond replies disqus
share shares sharing sharedaddy sharethis addthis sharebar social socials related relatedposts recommended
recirc sidebar widget widgets cookie cookies consent gdpr subscribe subscription newsletter signup paywall
advert advertisement ad ads adslot adunit dfp promo promos sponsor sponsored breadcrumb breadcrumbs
menu navbar nav navigation footer masthead topbar toolbar popup modal overlay outbrain taboola
caption captions wpcaptiontext credit credits byline bylines authorbio authorbox authorinfo aboutauthor
tags taglist tagcloud postmeta entrymeta articlemeta metadata pagination pager skiplink
screenreadertext sronly visuallyhidden hidden hide printonly mostpopular popular trending readmore
morestories nextpost prevpost postnav postnavigation timestamp dateline rating subnav login signin
banner alert toc print email whatsapp facebook twitter linkedin pinterest reddit
""".split())
# Furniture marks that prose never overrules: a long comment thread is still comments.
HARD_FURNITURE_WORDS = frozenset("comment comments commentlist commentform commentrespond commentarea respond "
                                 "replies disqus".split())
_ATTR_SEPARATORS = str.maketrans(dict.fromkeys("-_:./#[]()0123456789", " "))
FURNITURE_LINE = re.compile(
    r"^(?:leave a (?:reply|comment)|post a comment|add a comment|add comment|\d+ comments?|comments?|"
    r"your email address will not be published.*|required fields are marked.*|cancel reply|"
    r"error: content is protected.*|\[ad_\d+\]|advertisements?|sponsored( content)?|ad|"
    r"share( this| the)?( article| story| post| page)?:?|share on \w+|tweet|e-?mail|print|whatsapp|"
    r"follow us.*|subscribe.*|sign up for .*|get our .*newsletter.*|"
    r"related( posts| articles| stories| content| coverage)?:?|read more:?|read next:?|"
    r"you (?:may|might) also like:?|more from .*|recommended( for you)?:?|trending( now)?:?|"
    r"all rights reserved.*|.{0,80}\ball rights reserved.*|(?:©|\(c\)|copyright) .*|click here to .*|"
    r"(?:image|photo|picture|video|graphic)(?: credit| source)?\s*:.*|credits?\s*(?:…|\.\.\.|:).*|"
    r"tags?:.*|filed under:?.*|posted in:?.*|categories:?.*|topics?:.*|"
    r"previous (?:post|article|story)|next (?:post|article|story)|back to top|skip to (?:main )?content|"
    r"(?:this|the) (?:article|story) (?:is|was) (?:updated|corrected).{0,40}|loading\.*|"
    r"(?:we|this (?:site|website)) uses? cookies.*|accept( all)?( cookies)?|"
    r"(?:updated|published|posted|last updated):?\s.{0,60})$",
    re.I,
)
# Newsletter and subscription pitches, wherever they sit in a short block.
PITCH = re.compile(
    r"(?=.*\b(?:subscribe|sign up|signup|join)\b)(?=.*\b(?:newsletters?|inbox|e-?mails?|briefing)\b)", re.I
)
DATELINE = re.compile(
    r"^(?:(?:updated|published|posted)(?: on)?:?\s*)?(?:\w+,? )?(?:\d{1,2} )?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}\b.{0,40}$"
    r"|^\d{4}-\d\d-\d\d\b.{0,30}$",
    re.I,
)
BYLINE = re.compile(r"^(?:by|written by|words by|reporting by|photos? by|von|par|por)\s+\S.{0,80}$", re.I)
LEAD_IN_CHARS = 200  # a line introducing a quotation is a sentence of a few words, as a credit line is
CREDIT_LINE = re.compile(
    r"^(?:(?:originally|orignially|originaly|orginally|first) (?:published|posted|appeared)\b.*|"
    r"(?:this|the) (?:article|story|post|piece) (?:was |first |originally |previously )+(?:published|appeared)\b.*|"
    r"(?:this|the) (?:article|story|post) (?:is )?(?:republished|reprinted|reproduced) .*|"
    r"source(?: link)?\s*(?::.*)?|source: .*|via\b.*|h/t\b.*|hat tip\b.*|courtesy(?: of)?\b.*|"
    r"reprinted\b.*|republished\b.*|(?:read|see) (?:the )?original (?:article|story|post)\b.*)$",
    re.I,
)
SENTENCE_END = re.compile(r"[.!?…\"”’»)\]:]$")
# FURNITURE_LINE and PITCH are tried on nearly every short block of an article, and fail on nearly all of them; the
# two parts that cost the most (PITCH's look-aheads scan the whole line; FURNITURE_LINE's one alternative that is not
# held to the line's start is tried at up to 81 places) are tried only on a block that holds their words in some
# case, which a substring test of its lower-cased text tells. The same blocks match (see _furniture_line, _pitch).
_RIGHTS = r".{0,80}\ball rights reserved.*|"
_FURNITURE_START = re.compile(FURNITURE_LINE.pattern.replace(_RIGHTS, "", 1), re.I)
_RIGHTS_LINE = re.compile(r"^(?:" + _RIGHTS[:-1] + r")$", re.I)
# The only characters that re.IGNORECASE matches with an ASCII letter although str.lower() does not give that
# letter: the dotted capital I (lower() makes it "i" + U+0307) and the dotless i (both match "i"), the long s ("s").
_CASE_ODD = ("\u0130", "\u0131", "\u017f")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""")
PRE_WS = re.compile(r"[ \t\r\f\v\u00a0]+")

# Control characters are invisible in a browser and are terminal escape sequences when printed: C0 controls other
# than tab, newline, carriage return and form feed (HTML whitespace), DEL and the C1 controls are removed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# --- What a browser does not show, and text it shows reversed (docs/extraction.md, "Hidden and reversed text") ---
# Why an element's text is not shown, as bits. A descendant can show again what its ancestor hid by visibility,
# font size or colour (visibility:visible, font-size:14px, color:black), never what display:none & co. hid.
HIDE_HARD, HIDE_VISIBILITY, HIDE_FONT, HIDE_COLOR = 1, 2, 4, 8
# Properties read from inline styles and simple style-sheet rules.
CSS_PROPS = frozenset({
    "display", "visibility", "opacity", "font-size", "font", "position", "left", "top", "right", "clip",
    "clip-path", "text-indent", "height", "max-height", "width", "max-width", "overflow", "overflow-x",
    "overflow-y", "transform", "color", "-webkit-text-fill-color", "background-clip", "-webkit-background-clip",
    "text-shadow", "unicode-bidi", "direction", "animation", "animation-name", "-webkit-animation",
    "-webkit-animation-name", "transition", "-webkit-transition", "-webkit-text-stroke", "-webkit-text-stroke-width",
})
# Read by the lenient look (_Looker, strict=False): the hiding a page had before style sheets and the newer CSS
# signals were read (the `hidden` attribute, inline display:none and visibility:hidden) and the bidi properties.
_LENIENT_INLINE = frozenset({"display", "visibility", "unicode-bidi", "direction"})
_LENIENT_SHEET = frozenset({"unicode-bidi", "direction"})
_BLOCKY_DISPLAY = frozenset({"block", "inline-block", "flex", "inline-flex", "grid", "inline-grid", "list-item",
                             "table", "flow-root", "table-cell"})
_FONT_KEYWORDS = frozenset({"xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large"})
_ABSOLUTE_UNITS = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 37.8, "mm": 3.78, "q": 0.945,
                   "rem": 16.0, "vw": 12.8, "vh": 8.0, "vmin": 8.0, "vmax": 12.8}
_LENGTH = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))([a-z%]*)")
_BRACE = re.compile(r"[{}]")
# A selector list with at least one simple selector (tag, .class, #id, tag.class, tag#id) in it, searched in the
# list with a "," put in front (a literal first character and possessive quantifiers keep the search fast).
_HAS_SIMPLE = re.compile(r",\s*+(?:[a-zA-Z][-\w]*+)?(?:[.#][-\w]++)?\s*+(?:,|\Z)")
_SIMPLE_SELECTOR = re.compile(r"([a-zA-Z][a-zA-Z0-9-]*)?(?:([.#])(-?[_a-zA-Z\u00a0-\uffff][-\w\u00a0-\uffff]*))?")
# Style sheets with none of these cannot hide or reverse anything: they are not parsed at all.
_SHEET_HINTS = ("none", "hidden", "collapse", "opacity", "font", "-", "clip", "transparent", "rgb", "hsl", "#",
                "scale", "bidi", "rtl", "height", "width")
# A page's style sheets are read up to this many characters (the 5,000,000-character markup cap allows 5 MB of CSS).
MAX_CSS = 500_000
SHEET_ATTR = "data-provmon-sheet"  # _strip_bulk leaves <style data-provmon-sheet=N></style> for style sheet N
_SHEET_PLACEHOLDER = re.compile(r"<style " + SHEET_ATTR + r"=(\d+)></style>")
# Past this many nested bidi overrides/isolates, deeper ones are read as they are (a bound on the walk's work).
MAX_BIDI_DEPTH = 32


def _length(value: str) -> tuple[float, str] | None:
    """(number, unit) of a CSS length such as "-9999px", "0", "1.5em"; None for anything else (calc(), keywords)."""
    m = _LENGTH.fullmatch(value.strip())
    return (float(m.group(1)), m.group(2)) if m else None


def _is_zero(value: str | None) -> bool:
    n = _length(value) if value else None
    return n is not None and n[0] == 0


def _far_negative(value: str | None, limit: float) -> bool:
    """A length of at most -limit pixels (em and rem as 16 px; a percentage of at most -100)."""
    n = _length(value) if value else None
    if n is None:
        return False
    num, unit = n
    if unit == "%":
        return num <= -100
    scale = 16.0 if unit == "em" else _ABSOLUTE_UNITS.get(unit or "px")
    return scale is not None and num * scale <= -limit


def _transparent(value: str) -> bool:
    """A colour with alpha 0: transparent, rgba(0,0,0,0), rgb(0 0 0 / 0), hsla(...,0), #rgb0, #rrggbb00."""
    v = value.strip()
    if v == "transparent":
        return True
    m = re.fullmatch(r"(?:rgba?|hsla?)\((.*)\)", v)
    if m:
        args = [a for a in re.split(r"[\s,/]+", m.group(1)) if a]
        return len(args) == 4 and _is_zero(args[3].rstrip("%"))
    return bool(re.fullmatch(r"#(?:[0-9a-f]{3}0|[0-9a-f]{6}00)", v))


def _declarations(style: str) -> dict[str, tuple[str, bool]]:
    """The properties of CSS_PROPS in a declaration block: name -> (lower-cased value, !important); last one wins.

    Split at ";" and ":" with string operations only (a regex over a long run of letters without ":" was quadratic:
    a 100,000-letter style attribute took 68 s)."""
    out: dict[str, tuple[str, bool]] = {}
    for piece in style.split(";"):
        name, colon, value = piece.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        if name not in CSS_PROPS:
            continue
        value = value.strip().lower()
        important = False
        if value.endswith("important"):
            head = value[:-9].rstrip()
            if head.endswith("!"):
                value, important = head[:-1].rstrip(), True
        if not important and out.get(name, ("", False))[1]:
            continue  # an earlier !important declaration wins
        out[name] = (value, important)
    return out


def _look(tag: str, props: dict[str, str]) -> tuple[int, int, int, int]:
    """(hide bits set, hide bits cleared, bidi, direction) of an element from its computed properties.

    bidi: 0 normal, 1 override (its inline text is laid out in `direction` regardless of the letters), 2 isolate or
    embed (a unit inside an override). direction: 0 inherited, 1 ltr, 2 rtl."""
    sets = clears = 0
    get = props.get
    display = get("display")
    if display == "none":
        sets |= HIDE_HARD
    blocky = tag in BLOCK_TAGS or display in _BLOCKY_DISPLAY
    # An element that is animated or has a transition is the start of a fade-in (a theme's `.fade-in{opacity:0;
    # animation:...}`): its opacity, visibility and scale do not hide it.
    animated = any(get(a, "none") not in ("none", "") for a in (
        "animation", "animation-name", "-webkit-animation", "-webkit-animation-name", "transition",
        "-webkit-transition"))
    visibility = get("visibility")
    if visibility in ("hidden", "collapse") and not animated:
        sets |= HIDE_VISIBILITY
    elif visibility == "visible":
        clears |= HIDE_VISIBILITY
    opacity = get("opacity")
    if opacity is not None and _is_zero(opacity.rstrip("%")) and not animated:
        sets |= HIDE_HARD
    size = get("font-size")
    font = get("font")
    if size is None and font:  # the shorthand: "0/0 a", "bold 0 sans-serif" hide; "400 1rem/1.5 Inter" sets a size
        size = "0" if any(_is_zero(w.split("/")[0]) for w in font.split()) else font
    if size is not None:
        if _is_zero(size):
            sets |= HIDE_FONT
        elif size not in ("inherit", "unset"):  # any other size (var(), clamp(), calc(), initial...) shows again
            clears |= HIDE_FONT
    position = get("position")
    if position in ("absolute", "fixed", "relative"):
        if any(_far_negative(get(side), 1000) for side in ("left", "top", "right")):
            sets |= HIDE_HARD
        clip = get("clip")
        if position != "relative" and clip and clip.startswith("rect("):
            sizes = [_length(x) for x in re.split(r"[,\s]+", clip[5:].rstrip(")").strip()) if x]
            if sizes and all(x is not None and abs(x[0]) <= 1 for x in sizes):
                sets |= HIDE_HARD
    clip_path = get("clip-path")
    if clip_path:
        m = re.match(r"inset\(\s*(\d+(?:\.\d+)?)%", clip_path)
        if (m and float(m.group(1)) >= 50) or re.match(r"circle\(\s*0(?:px|%)?[\s)]", clip_path):
            sets |= HIDE_HARD
    if blocky:
        if _far_negative(get("text-indent"), 999):
            sets |= HIDE_HARD
        if "hidden" in (get("overflow") or "") + (get("overflow-y") or "") + (get("overflow-x") or "") and (
                _is_zero(get("height")) or _is_zero(get("max-height")) or _is_zero(get("width"))
                or _is_zero(get("max-width"))):
            sets |= HIDE_HARD
    transform = get("transform")
    if transform and not animated and re.search(r"scale[xy]?\(\s*0(?:\.0*)?\s*[,)]", transform):
        sets |= HIDE_HARD
    colour = get("-webkit-text-fill-color") or get("color")
    if colour and colour not in ("inherit", "currentcolor", "unset", "initial"):
        if not _transparent(colour):
            clears |= HIDE_COLOR
        elif "text" not in (get("background-clip") or "") + (get("-webkit-background-clip") or "") and (
                get("text-shadow") or "none") == "none" and not _stroked(props):
            sets |= HIDE_COLOR
    bidi = get("unicode-bidi") or ""
    direction = get("direction")
    return (sets, clears, 1 if "override" in bidi else 2 if bidi in ("isolate", "embed", "plaintext") else 0,
            2 if direction == "rtl" else 1 if direction == "ltr" else 0)


def _stroked(props: dict[str, str]) -> bool:
    """Outlined text (`-webkit-text-stroke: 1px #000` with a transparent fill) is shown."""
    stroke = props.get("-webkit-text-stroke-width") or props.get("-webkit-text-stroke") or ""
    width = stroke.split()[0] if stroke.split() else ""
    return bool(width) and width not in ("none", "initial", "unset", "inherit") and not _is_zero(width)


@dataclass
class _Sheet:
    """Rules of a page's style sheets whose selector is simple (tag, .class, #id, tag.class, tag#id): selector ->
    property -> (important, specificity, order, value). Rules inside @media, @supports and the like are ignored."""

    rules: dict[str, dict[str, tuple[bool, int, int, str]]]
    tags: frozenset[str]
    classes: frozenset[str]
    ids: frozenset[str]

    def props(self, tag: str, classes: Collection[str], id_: str) -> dict[str, tuple[bool, int, int, str]]:
        keys = [tag]
        for c in classes:
            keys += ("." + c, tag + "." + c)
        if id_:
            keys += ("#" + id_, tag + "#" + id_)
        won: dict[str, tuple[bool, int, int, str]] = {}
        for key in keys:
            for prop, decl in self.rules.get(key, {}).items():
                if prop not in won or decl > won[prop]:
                    won[prop] = decl
        return won


def _strip_css_comments(css: str) -> str:
    if "/*" not in css:
        return css
    parts, pos = [], 0
    while (start := css.find("/*", pos)) >= 0:
        parts.append(css[pos:start])
        end = css.find("*/", start + 2)
        if end < 0:
            pos = len(css)
            break
        pos = end + 2
    parts.append(css[pos:])
    return " ".join(parts)


def _parse_sheet(css: str) -> _Sheet | None:
    """The simple rules of `css` that can hide or reverse text, or None. One pass over its braces: each character
    is looked at a bounded number of times (stray "}"s, unclosed blocks and long selectors cost linear time)."""
    css = css[:MAX_CSS]
    low = css.lower()
    if not any(hint in low for hint in _SHEET_HINTS):
        return None
    css = _strip_css_comments(css)
    rules: dict[str, dict[str, tuple[bool, int, int, str]]] = {}
    shown: dict[str, int] = {}  # class -> order of the last rule of any kind that shows it (see _cancel_hides)
    order = 0
    start = 0  # where the current prelude or declaration block starts
    stack: list[list[Any]] = []  # open blocks: [prelude, holds a nested block]
    for brace in _BRACE.finditer(css):
        at = brace.start()
        if brace.group() == "{":
            prelude = css[start:at]
            semi = prelude.rfind(";")  # an at-rule statement (@import ...;) or a declaration before a nested rule
            if semi >= 0:
                prelude = prelude[semi + 1:]
            if stack:
                stack[-1][1] = True
            stack.append([prelude.strip(), False])
        elif stack:
            prelude, nested = stack.pop()
            if not nested:  # a rule with declarations and no nested block
                order += 1
                block = css[start:at]
                outer = not stack and "@" not in prelude
                if outer and _HAS_SIMPLE.search("," + prelude):
                    _add_rule(rules, prelude, block, order)
                if ("@" not in prelude and ("display" in block or "visib" in block or "opacity" in block)
                        and not any("print" in frame[0].lower() for frame in stack)):
                    _note_shown(shown, prelude, block, order)
        start = brace.end()  # a stray "}" is skipped
    _cancel_hides(rules, shown)
    if not rules:
        return None
    tags, classes, ids = set(), set(), set()
    for key in rules:
        tag, sep, name = key.partition(".") if "." in key else key.partition("#")
        if not sep:
            tags.add(tag)
        else:
            (classes if sep == "." else ids).add(name)
    return _Sheet(rules, frozenset(tags), frozenset(classes), frozenset(ids))


_CLASS_IN_SELECTOR = re.compile(r"\.(-?[_a-zA-Z\u00a0-\uffff][-\w\u00a0-\uffff]*)")
_COMBINATOR = re.compile(r"[\s>+~]+")


def _note_shown(shown: dict[str, int], selectors: str, block: str, order: int) -> None:
    """Record the classes of the subject (last compound selector) of a rule that sets display, visibility or opacity
    to a visible value: `.collapse.in{display:block}`, `.loaded .lazy{opacity:1}`, a rule inside @media."""
    decls = _declarations(block)
    display = decls.get("display", ("", False))[0]
    visibility = decls.get("visibility", ("", False))[0]
    opacity = decls.get("opacity", ("", False))[0]
    if not ((display and display != "none") or visibility == "visible"
            or (opacity and not _is_zero(opacity.rstrip("%")))):
        return
    for sel in selectors.split(","):
        subject = _COMBINATOR.split(sel.strip())[-1]
        if ":" not in subject:  # not :hover, :focus...: shown only while the reader points at it
            for name in _CLASS_IN_SELECTOR.findall(subject):
                shown[name] = order


def _cancel_hides(rules: dict[str, dict[str, tuple[bool, int, int, str]]], shown: dict[str, int]) -> None:
    """A class that a later rule of any kind shows again (a compound, descendant or @media rule; a state class or
    a wider screen) is not hidden by its simple rule: the reader sees it when the page is used."""
    if not shown:
        return
    for key, held in rules.items():
        name = key.partition(".")[2]
        later = shown.get(name) if name else None
        if later is None:
            continue
        for prop in ("display", "visibility", "opacity"):
            decl = held.get(prop)
            if decl is not None and decl[2] < later and (
                    decl[3] in ("none", "hidden", "collapse") or (prop == "opacity" and _is_zero(decl[3].rstrip("%")))):
                del held[prop]


def _add_rule(rules: dict[str, dict[str, tuple[bool, int, int, str]]], selectors: str, block: str,
              order: int) -> None:
    keys = []
    for sel in selectors.split(","):
        sel = sel.strip()
        if not sel or " " in sel or ":" in sel or "[" in sel or ">" in sel:
            continue
        m = _SIMPLE_SELECTOR.fullmatch(sel)
        if m is None or not (m.group(1) or m.group(2)):
            continue  # not a simple selector: descendant, attribute, pseudo-class... (ignored)
        tag = (m.group(1) or "").lower()
        if m.group(2):
            keys.append((tag + m.group(2) + m.group(3), (100 if m.group(2) == "#" else 10) + (1 if tag else 0)))
        else:
            keys.append((tag, 1))
    if not keys:
        return
    decls = _declarations(block)
    if not decls:
        return
    for key, specificity in keys:
        held = rules.setdefault(key, {})
        for prop, (value, important) in decls.items():
            decl = (important, specificity, order, value)
            if prop not in held or decl > held[prop]:
                held[prop] = decl


def _mostly_rtl(text: str) -> bool:
    """Whether the letters of `text` are mostly right-to-left ones (Hebrew, Arabic...): shown in an override they
    read in their own order, so only left-to-right text is reversed."""
    if not text or max(text) < "\u0590":
        return False
    rtl = ltr = 0
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            rtl += 1
        elif kind == "L":
            ltr += 1
    return rtl > ltr


def _joins(ch: str) -> bool:
    """A character shown as part of the one before it: a combining mark, a variation selector, an emoji modifier."""
    return (unicodedata.category(ch) in ("Mn", "Mc", "Me") or "\ufe00" <= ch <= "\ufe0f"
            or "\U0001f3fb" <= ch <= "\U0001f3ff")


def _reverse(text: str) -> str:
    """`text` reversed by the units a reader sees: a base character keeps its combining marks, and characters joined
    by a zero-width joiner (emoji sequences) stay together ("e\u0301fac" reads "cafe\u0301")."""
    if max(text, default=" ") < "\u0300":
        return text[::-1]
    units: list[str] = []
    glue = False  # the last unit ended with a zero-width joiner
    for ch in text:
        if units and (glue or ch == "\u200d" or _joins(ch)):
            units[-1] += ch
        else:
            units.append(ch)
        glue = ch == "\u200d"
    return "".join(reversed(units))


@dataclass(frozen=True)
class Extracted:
    """What the monitor sees of a page."""

    title: str
    text: str
    canonical_url: str = ""
    og_url: str = ""
    author: str = ""
    published: str = ""
    language: str = ""
    credits: tuple[str, ...] = ()
    credit_links: tuple[str, ...] = ()
    links: tuple[str, ...] = field(default=(), repr=False)
    # The links inside the text's paragraphs: (URL, the link's text, its paragraph). A page quoting the article
    # it links to, with the link as who wrote it ("<a>The Herald</a> wrote:"), quotes the article (text.cited_spans).
    text_links: tuple[tuple[str, str, str], ...] = field(default=(), repr=False)
    plain: bool = False  # a plain-text file, taken as it is: offsets into `text` count its characters
    # How the text was found: "dom", "json-ld", "json" (data scripts), "noscript" or "" (nothing); and whether the
    # input was cut, and if so `warning` says where (callers show it: only part of the page was searched).
    method: str = ""
    truncated: bool = False
    warning: str = ""
    # Paragraphs of `text` that are in the markup but hidden when the page loads (the `hidden` attribute, a
    # display:none or visibility:hidden element, or a style-sheet rule that hides it): read because they hold
    # most of the page's prose, which is how a copy shown to search engines and not to readers looks. (Script
    # may reveal them later: a collapsed "read more" looks the same.) A paragraph also shown elsewhere on the page
    # is not one of them. (One of a <pre> can hold blank lines: look for it whole, not in `text` split at them.)
    hidden: tuple[str, ...] = field(default=(), repr=False)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["credits"] = list(self.credits)
        d["credit_links"] = list(self.credit_links)
        d["links"] = list(self.links)
        d["text_links"] = [list(x) for x in self.text_links]
        d["hidden"] = list(self.hidden)
        return d


@dataclass(slots=True)
class _Block:
    text: str
    tag: str
    link_chars: int
    node: int  # mem_id of its block element; its ancestors are found through _Walk.up
    links: list[str]
    anchors: list[tuple[str, str]]  # each link with text: (href, its words), the words a page names a source with


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode page bytes: BOM, HTTP charset, <meta charset>/XML declaration, then UTF-8, then cp1252.

    A byte order mark settles the encoding (the WHATWG rule) for HTML and plain text alike; the BOM itself
    is dropped, so text offsets count characters after it."""
    # UTF-32 LE first: its BOM starts with UTF-16 LE's.
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                     (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if body.startswith(bom):
            return body.decode(enc, "replace")  # a cut-off last character: U+FFFD, not cp1252 mojibake
    candidates: list[str] = []
    m = HEADER_CHARSET.search(content_type or "")
    if m:
        candidates.append(m.group(1))
    head = body[:8192]
    for pattern in (META_CHARSET, XML_ENCODING):
        m2 = pattern.search(head)
        if m2:
            candidates.append(m2.group(1).decode("ascii", "ignore"))
    # A page that declares Latin-1 is in practice cp1252 (the WHATWG rule), which also decodes 0x80-0x9f.
    candidates = ["cp1252" if c.lower() in {"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"} else c
                  for c in candidates]
    candidates += ["utf-8", "cp1252"]
    for enc in candidates:
        try:
            text = body.decode(enc)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
        if enc.lower().replace("_", "-").startswith("utf-16") and "<" not in text[:2000]:
            continue  # a declared UTF-16 without a BOM is often wrong: then the text has no markup at all
        return text
    return body.decode("utf-8", "replace")


def clean_ws(text: str) -> str:
    return " ".join(text.split())


def _clean(text: str) -> str:
    """`text` without control characters or style-sheet placeholders, its whitespace collapsed."""
    if "<style " in text:
        text = _SHEET_PLACEHOLDER.sub("", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def _meta(tree: LexborHTMLParser, *selectors: str, attr: str = "content") -> str:
    for sel in selectors:
        node = tree.css_first(sel)
        if node is not None:
            value = (node.attributes.get(attr) or "").strip()
            if value:
                return value
    return ""


def _json_ld(tree: LexborHTMLParser) -> dict[str, Any]:
    """The first JSON-LD object that looks like an article, or {}."""
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text() or "", strict=False)
        except (ValueError, RecursionError):
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.append(item["@graph"])
                kind = item.get("@type", "")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and k.endswith(("Article", "BlogPosting", "Report", "Posting"))
                       for k in kinds):
                    return item
    return {}


def _ld_str(ld: dict[str, Any], key: str) -> str:
    value = ld.get(key)
    return value.strip() if isinstance(value, str) else ""


def _ld_author(ld: dict[str, Any]) -> str:
    author = ld.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    if isinstance(author, dict):
        author = author.get("name")
    return author.strip() if isinstance(author, str) else ""


def _word_mark(marker: str) -> int:
    """Furniture mark of a class or id value: 0 none, 1 soft, 2 hard."""
    words = marker.lower().translate(_ATTR_SEPARATORS).split()
    if len(words) > 1:
        words += [a + b for a, b in pairwise(words)]
    hits = FURNITURE_WORDS.intersection(words)
    if not hits:
        return 0
    return 1 if HARD_FURNITURE_WORDS.isdisjoint(hits) else 2


def _prune(body: LexborNode, share: float = 0.3) -> list[str]:
    """Remove, in C, navigation and complementary elements that hold little of the page's text.

    The walk would mark and drop them anyway; removing them first saves walking their many
    small nodes. An element holding `share` of the text or more is left for the walk to judge.
    Returns the hrefs of the removed links: the crawler still wants them in Extracted.links.
    """
    hrefs: list[str] = []
    cands = body.css(PRUNE_SELECTOR)
    if not cands:
        return hrefs
    total = len(body.text())
    # Decomposing frees a node's subtree, so nesting is worked out before anything is removed.
    # Whether an element has a candidate at or above it is remembered for every element a climb
    # passes, so no element is climbed past twice (a climb to the root per candidate is
    # quadratic when candidates sit under thousands of unclosed <div>s).
    ids = {n.mem_id for n in cands}
    covered: dict[int, bool] = {}
    outer = []
    for node in cands:
        passed: list[int] = []
        parent = node.parent
        found = False
        while parent is not None:
            pid = parent.mem_id
            if pid in ids:
                found = True
                break
            known = covered.get(pid)
            if known is not None:
                found = known
                break
            passed.append(pid)
            parent = parent.parent
        covered.update(dict.fromkeys(passed, found))
        if not found:
            outer.append(node)
    for node in outer:
        if len(node.text()) < share * total:
            hrefs.extend(a.attributes.get("href") or "" for a in node.css("a[href]"))
            node.decompose()
    return hrefs


@dataclass
class _Walk:
    """The body cut into blocks, with the furniture mark of each marked element."""

    blocks: list[_Block]
    marks: dict[int, int]
    hrefs: list[str]  # every link's href, in page order
    # Parent links of the elements blocks can sit under (block elements, marked elements, the
    # body, which maps to None), in page order, so every parent comes before its children. A
    # block's ancestor chain is its node followed up these links. Sums over a chain are done once
    # per element (children before parents) rather than once per block and ancestor, which would
    # be quadratic in the nesting depth: 15,000 unclosed <div>s took 32 s and 1.8 GB that way.
    up: dict[int, int | None]
    soft: bool = False  # style sheets or the newer CSS signals hid something (see _Looker)
    hidden: set[int] = field(default_factory=set)  # elements marked because they are hidden when the page loads


def _under(up: dict[int, int | None], tops: Collection[int]) -> set[int]:
    """The elements of `up` that are in `tops` or below one of them (one pass, parents first)."""
    below: set[int] = set()
    for nid, parent in up.items():
        if nid in tops or parent in below:
            below.add(nid)
    return below


def _role_mark(attrs: dict[str, str | None]) -> int:
    """1 when the ARIA role says the element is not article content. (aria-hidden is not a mark: it hides
    nothing on screen, and a copier can put it on every paragraph of a copy.)"""
    role = attrs.get("role")
    return 1 if role and role.lower() in FURNITURE_ROLES else 0


_NO_LOOK = (0, 0, 0, 0)


class _Looker:
    """Works out, per element, what hides or reverses its text: the `hidden` attribute, its inline style and the
    simple rules of the page's style sheets (the winner per property by !important, specificity and order, as the
    cascade picks it; an inline declaration beats a sheet's unless that is !important), `dir`, <bdo> and <bdi>.
    Pages repeat the same few tag/class/style combinations, so each is worked out once.

    Not `strict`: the lenient look, which reads only the hiding pages had before (the `hidden` attribute, inline
    display:none and visibility:hidden) and bidi; the safety net in _extract uses it when the strict one would
    remove most of a page's prose. `soft` tells whether the strict look hid anything the lenient one does not."""

    def __init__(self, sheet: _Sheet | None, strict: bool = True) -> None:
        self.sheet = sheet
        self.strict = strict
        self.soft = False
        self.memo: dict[tuple[str, str | None, str | None, str | None, bool, str | None],
                        tuple[int, int, int, int]] = {}
        self.class_memo: dict[str, tuple[str, ...]] = {}

    def classes(self, value: str) -> tuple[str, ...]:
        """The classes of a class attribute that the style sheets have rules for."""
        hit = self.class_memo.get(value)
        if hit is None:
            hit = () if self.sheet is None else tuple(c for c in value.split() if c in self.sheet.classes)
            self.class_memo[value] = hit
        return hit

    def look(self, tag: str, attrs: dict[str, str | None]) -> tuple[int, int, int, int]:
        style, cls, id_, dir_ = attrs.get("style"), attrs.get("class"), attrs.get("id"), attrs.get("dir")
        # hidden="until-found": collapsed, shown by find-in-page or a link to it (an accordion), like a closed
        # <details>, which is read too; any other hidden value hides.
        hidden = "hidden" in attrs and (attrs["hidden"] or "").strip().lower() != "until-found"
        key = (tag, cls, id_, style, hidden, dir_)
        got = self.memo.get(key)
        if got is not None:
            return got
        props: dict[str, str] = {}
        lenient: dict[str, str] = {}
        important: set[str] = set()
        if self.sheet is not None:
            for prop, decl in self.sheet.props(tag, self.classes(cls) if cls else (), id_ or "").items():
                props[prop] = decl[3]
                if decl[0]:
                    important.add(prop)
                if prop in _LENIENT_SHEET:
                    lenient[prop] = decl[3]
        if style:
            for prop, (value, imp) in _declarations(style).items():
                if imp or prop not in important:
                    props[prop] = value
                if prop in _LENIENT_INLINE:
                    lenient[prop] = value
        mild = _look(tag, lenient) if lenient else _NO_LOOK
        if self.strict:
            sets, clears, bidi, direction = _look(tag, props) if props else _NO_LOOK
            if sets & ~mild[0]:
                self.soft = True
        else:
            sets, clears, bidi, direction = mild
        if hidden:
            sets |= HIDE_HARD
        if dir_ is not None:  # the dir attribute sets the direction and isolates the element
            d = dir_.strip().lower()
            direction = 2 if d == "rtl" else 1 if d in ("ltr", "auto") else direction
            bidi = bidi or 2
        if tag == "bdo":
            bidi = 1
        elif tag == "bdi":
            bidi = bidi or 2
        got = self.memo[key] = (sets, clears, bidi, direction)
        return got


def _walk(body: LexborNode, sheet: _Sheet | None = None, strict: bool = True) -> _Walk:
    """Cut the body into blocks in one pass over lexbor's node iterator.

    Per element we keep (tail, block, href, hide, bidi context, rtl, vh): the innermost block or marked element at
    or above it (the end of its ancestor chain), the nearest block element (whose text it belongs to), the href of
    the link it sits in (None outside links), why its text is hidden (HIDE_* bits, 0: shown), the innermost bidi
    override or isolate its text is laid out in (0: none), whether its direction is right-to-left, and the
    innermost block above it marked only for visibility:hidden (0: none).
    Inline elements share their parent's tail unless marked, which keeps this loop cheap. Each block or marked
    element records only its parent's tail in `up`, so deep nesting costs O(1) per element.

    Hidden elements are marked like furniture (so a hidden block is dropped unless it holds most of the page's
    prose), and the text of a hidden inline element is left out of its paragraph, as is text hidden by a zero font
    size or a transparent colour (which a descendant can undo, on blocks too). A single <br> is a line break
    inside the paragraph (a space), two or more in a row end it. The text of a right-to-left override (<bdo
    dir=rtl>, unicode-bidi:bidi-override with direction:rtl) is read in the order it is shown.
    """
    blocks: list[_Block] = []
    marks: dict[int, int] = {}
    memo: dict[str, int] = {}
    hrefs: list[str] = []
    body_id = body.mem_id
    up: dict[int, int | None] = {body_id: None}
    info: dict[int, tuple[int, int, str | None, int, int, bool, int]] = {
        body_id: (body_id, body_id, None, 0, 0, False, 0)}
    block_tag: dict[int, str] = {body_id: "body"}
    pre_blocks: set[int] = set()  # block elements inside a <pre>
    looker = _Looker(sheet, strict)
    class_memo: dict[str, int] = {}
    vis_marked: set[int] = set()  # blocks marked only for visibility:hidden (vh: the innermost one above)
    hidden: set[int] = set()
    sheet_classes = sheet.classes if sheet is not None else frozenset()
    sheet_ids = sheet.ids if sheet is not None else frozenset()
    sheet_tags = sheet.tags if sheet is not None else frozenset()

    buf: list[str] = []
    link_chars = 0
    links: list[str] = []
    anchors: list[tuple[str, list[str]]] = []  # the links of the block so far: (href, pieces of its words)
    anchor_open = False  # the last text read was inside the last of them
    cur_block = body_id
    in_pre = False
    after_br = False  # nothing but whitespace since the last <br> of this paragraph
    # Bidi contexts: per override/isolate element, its parent context, whether it reverses, its depth. The open
    # ones form a stack of (id, reverses, [(text, is a unit)...]) from the outermost down.
    ctx_parent: dict[int, int] = {}
    ctx_rev: dict[int, bool] = {}
    ctx_depth: dict[int, int] = {0: 0}
    stack: list[tuple[int, bool, list[tuple[str, bool]]]] = []
    open_ctx: set[int] = set()

    def fold() -> None:
        """Close the innermost open context: its pieces in the order they are shown go to its parent as one unit."""
        cid, rev, parts = stack.pop()
        open_ctx.discard(cid)
        if rev and not _mostly_rtl("".join(p for p, _ in parts)):
            text = "".join(p if unit else _reverse(p) for p, unit in reversed(parts))
        else:
            text = "".join(p for p, _ in parts)
        if stack:
            stack[-1][2].append((text, True))
        else:
            buf.append(text)

    def enter(ctx: int) -> None:
        """Make `ctx` the innermost open context, closing those it is not inside and opening its missing parents."""
        missing = []
        c = ctx
        while c and c not in open_ctx:
            missing.append(c)
            c = ctx_parent[c]
        while stack and stack[-1][0] != c:
            fold()
        for c in reversed(missing):
            stack.append((c, ctx_rev[c], []))
            open_ctx.add(c)

    def flush() -> None:
        nonlocal link_chars, after_br, anchor_open
        while stack:
            fold()
        raw = "".join(buf)
        if "<style " in raw:
            raw = _SHEET_PLACEHOLDER.sub("", raw)
        if _CONTROL.search(raw):
            raw = _CONTROL.sub("", raw)
        if in_pre:
            text = "\n".join(PRE_WS.sub(" ", ln).rstrip() for ln in raw.strip("\n").split("\n"))
        elif _LINE in raw:
            text = _lines(raw)
        else:
            text = " ".join(raw.split())
        if text:
            blocks.append(_Block(text, block_tag[cur_block], link_chars, cur_block, list(links),
                                 [(h, " ".join("".join(ts).split())) for h, ts in anchors]))
        buf.clear()
        links.clear()
        anchors.clear()
        anchor_open = False
        link_chars = 0
        after_br = False

    for node in body.traverse(include_text=True):
        tag = node.tag
        if tag == "-text":
            t = node.text_content
            if not t:
                continue
            space = t.isspace()
            if space and not buf and not stack:
                continue
            parent = node.parent
            if parent is None:
                continue
            pinfo = info.get(parent.mem_id)
            if pinfo is None:
                continue
            _, blk, href, hide, ctx, _rtl, _vh = pinfo
            if hide:
                continue
            if space and not ctx:
                if buf or stack:  # whitespace between inline elements still separates words
                    while stack:  # every open context ends before it (one fold left "XtwoDelta")
                        fold()
                    buf.append(" ")
                    if anchor_open and href and anchors and anchors[-1][0] == href:  # a link's words too
                        anchors[-1][1].append(" ")
                continue
            if blk != cur_block:
                if buf or stack:
                    flush()
                cur_block = blk
                in_pre = blk in pre_blocks
            if ctx:
                if not stack or stack[-1][0] != ctx:
                    enter(ctx)
                stack[-1][2].append((" " if space else t, False))
            else:
                while stack:
                    fold()
                buf.append(t)
            if not space:
                after_br = False
                if href is not None:
                    link_chars += len(t.strip())
                if href:
                    if anchor_open and anchors and anchors[-1][0] == href:
                        anchors[-1][1].append(" " if space else t)
                    else:
                        anchors.append((href, [t]))
                anchor_open = bool(href)
            continue
        if tag is None or tag[0] == "-":
            continue
        parent = node.parent
        if parent is None:
            continue
        pinfo = info.get(parent.mem_id)
        if pinfo is None:
            continue
        tail, blk, href, hide, ctx, rtl, vh = pinfo
        if tag == "br":
            if hide:
                continue
            if blk != cur_block:
                if buf or stack:
                    flush()
                cur_block = blk
                in_pre = blk in pre_blocks
            while stack:
                fold()
            if anchor_open and anchors:
                anchors[-1][1].append(" ")
            if in_pre:
                buf.append("\n")
            elif after_br:
                if buf:
                    flush()  # two or more <br> in a row: a paragraph break
            elif buf:
                buf.append(_LINE)  # one <br>: a line break inside the paragraph (see _lines)
                after_br = True
            continue
        nid = node.mem_id
        mark = 1 if tag in FURNITURE_TAGS else 0
        attrs = node.attributes
        styled = False
        if attrs:
            # Pages repeat the same few class strings: judge each value once (its furniture mark, plus 4 when the
            # style sheets have a rule for one of its classes).
            value = attrs.get("class")
            if value:
                m = class_memo.get(value)
                if m is None:
                    m = class_memo[value] = _word_mark(value) + (
                        4 if sheet_classes and not sheet_classes.isdisjoint(value.split()) else 0)
                if m >= 4:
                    styled = True
                    m -= 4
                mark = m if m > mark else mark
            value = attrs.get("id")
            if value:
                m = memo.get(value)
                if m is None:
                    m = memo[value] = _word_mark(value)
                mark = m if m > mark else mark
                styled = styled or value in sheet_ids
            if not mark and "role" in attrs:
                mark = _role_mark(attrs)
            if tag == "a":
                href = attrs.get("href") or ""
                if href:
                    if not hide:
                        links.append(href)
                    hrefs.append(href)
        elif tag == "a":
            href = ""
        if (styled or tag in sheet_tags or tag == "bdo" or tag == "bdi"
                or (attrs and ("style" in attrs or "hidden" in attrs or "dir" in attrs))):
            sets, clears, bidi, direction = looker.look(tag, attrs or {})
            if direction:
                rtl = direction == 2
            if clears & HIDE_VISIBILITY and vh in vis_marked:
                del marks[vh]  # visible text inside a block marked for visibility:hidden: it is shown after all
                vis_marked.discard(vh)
                hidden.discard(vh)
            hide = (hide & ~clears) | sets
            if sets & (HIDE_HARD | HIDE_VISIBILITY):
                # Hidden: dropped like furniture unless it holds most of the page's prose (JavaScript reveals it).
                if tag in BLOCK_TAGS:
                    hide = 0  # the mark decides for all of its text
                    if not mark and not sets & HIDE_HARD:
                        vis_marked.add(nid)
                        vh = nid
                mark = mark or 1
                hidden.add(nid)
            if tag in BLOCK_TAGS:
                ctx = 0  # an ancestor's override does not reach into a block
            if bidi and (ctx or (bidi == 1 and rtl)) and ctx_depth[ctx] < MAX_BIDI_DEPTH:
                ctx_parent[nid] = ctx
                ctx_rev[nid] = bidi == 1 and rtl
                ctx_depth[nid] = ctx_depth[ctx] + 1
                ctx = nid
        if mark:
            marks[nid] = mark
        if tag in BLOCK_TAGS:
            up[nid] = tail
            # A hidden block is marked, so only a zero font size or a transparent colour (which a descendant can
            # undo, and which lay-outs use on containers) hides its text; only an override on the block itself
            # applies to its text, not one of an ancestor.
            info[nid] = (nid, nid, href, hide & (HIDE_FONT | HIDE_COLOR), ctx if ctx == nid else 0, rtl, vh)
            block_tag[nid] = tag
            if buf or stack:
                flush()
            else:
                links.clear()
                anchors.clear()
                after_br = False
            cur_block = nid
            in_pre = tag in PRE_TAGS or blk in pre_blocks
            if in_pre:
                pre_blocks.add(nid)
        elif mark:
            up[nid] = tail
            info[nid] = (nid, blk, href, hide, ctx, rtl, vh)
        else:
            info[nid] = (tail, blk, href, hide, ctx, rtl, vh)
    if buf or stack:
        flush()
    return _Walk(blocks, marks, hrefs, up, looker.soft, hidden)


_LINE = "\ufdd0"  # a single <br> in a paragraph's text while it is gathered (a noncharacter: never shown)
_LINE_END = re.compile(r"[.!?…;:][\"'”’»)\]]*$")
MAX_VERSE_LINE = 80


def _lines(raw: str) -> str:
    """A paragraph's text whose lines were ended by single <br>s: joined with newlines when it is verse, an address
    or a list of lines (3 or more lines, each at most MAX_VERSE_LINE characters, starting with a capital or a digit
    and not ending a sentence, the last aside), so monitor/text.py sees the line ends; otherwise with spaces (a
    prose paragraph hard-wrapped every few words reads as its sentences)."""
    lines = [ln for ln in (" ".join(part.split()) for part in raw.split(_LINE)) if ln]
    if len(lines) >= 3 and all(
            len(ln) <= MAX_VERSE_LINE and (ln[0].isupper() or ln[0].isdigit()) for ln in lines) and not any(
            _LINE_END.search(ln) for ln in lines[:-1]):
        return "\n".join(lines)
    return " ".join(lines)


def _is_prose(b: _Block, linked: bool = False) -> bool:
    """A block of prose: 25+ characters, under 30 % link text (`linked`: or a long linked paragraph), not a heading
    (unless one holds a paragraph)."""
    n = len(b.text)
    return (n >= 25 and (b.link_chars <= 0.3 * n or (linked and _linked_prose(b))) and " " in b.text
            and (b.tag not in HEADINGS or _heading_prose(b.text)))


LINKED_PROSE_WORDS = 40  # a linked block this long that ends a sentence is a paragraph, not a link list's item


def _linked_prose(b: _Block) -> bool:
    """A paragraph that is (mostly) one link: a copy with every paragraph wrapped in an <a> read as link lists and
    gave no text. Link lists hold titles and one-line teasers, shorter than this. Read only on a page that gives no
    text otherwise (_extract): on others, cards of related stories whose summaries are links cost precision."""
    words = b.text.split()
    return len(words) >= LINKED_PROSE_WORDS and bool(_SENTENCE_END.search(words[-1]))


HEADING_PROSE_WORDS = 20  # a heading this long that ends a sentence is a paragraph set as a heading


def _heading_prose(text: str) -> bool:
    """A heading element holding a paragraph (a copy set in <h3>s styled as body text), not a headline: real
    headlines, standfirsts aside, are shorter and seldom end with a full stop."""
    words = text.split()
    return len(words) >= HEADING_PROSE_WORDS and bool(_SENTENCE_END.search(words[-1]))


def _choose(walk: _Walk, share: float = 0.6, junk_weight: float = 3.0,
            linked: bool = False) -> tuple[int | None, set[int]]:
    """The article container and the set of elements that are furniture or inside furniture.

    First the deepest element holding `share` of the page's prose (long blocks, few links, not
    furniture). Then, since articles are often cut into sibling chunks by ads or widgets, its
    ancestors are tried: each scores its prose minus `junk_weight` times its non-prose (link
    lists, furniture, short lines), and the best-scoring one wins. Climbing pays off only when the
    prose a parent adds clearly outweighs the junk it brings.

    Each block adds its numbers to its own element; they are then summed up the parent links,
    children before parents, so an element's totals cover the blocks below it (its chain).
    """
    up = walk.up
    marks = walk.marks
    below = list(up.items())[::-1]  # children before parents
    raw: dict[int, int] = dict.fromkeys(up, 0)  # prose held by each element
    total = 0
    for b in walk.blocks:
        if _is_prose(b, linked):
            n = len(b.text)
            total += n
            raw[b.node] += n
    for nid, parent in below:
        if parent is not None:
            raw[parent] += raw[nid]
    # Marked elements that hold most of the prose are the page, not furniture.
    furniture = {nid for nid, mark in marks.items() if mark == 2 or raw.get(nid, 0) < 0.5 * total}
    in_furniture = _under(up, furniture)
    weight: dict[int, int] = dict.fromkeys(up, 0)
    score: dict[int, float] = dict.fromkeys(up, 0.0)
    kept = 0
    for b in walk.blocks:
        n = len(b.text)
        if _is_prose(b, linked) and b.node not in in_furniture:
            n = n * 2 if n > 150 else n  # long paragraphs are stronger evidence than short teasers
            kept += n
            weight[b.node] += n
            score[b.node] += n
        else:
            score[b.node] -= junk_weight * n
    if not kept:
        return None, in_furniture
    for nid, parent in below:
        if parent is not None:
            weight[parent] += weight[nid]
            score[parent] += score[nid]
    depth: dict[int, int] = {}
    for nid, parent in up.items():
        depth[nid] = 0 if parent is None else depth[parent] + 1
    # Prose blocks are 25+ characters, so weight > 0 exactly for elements above a kept block.
    box = max((nid for nid, w in weight.items() if w > 0 and w >= share * kept), key=depth.__getitem__)
    path = []
    anc: int | None = box
    while anc is not None:
        path.append(anc)
        anc = up[anc]
    return max(path, key=lambda a: (score[a], depth[a])), in_furniture


def _origin(url: str) -> str:
    """scheme://host of an http(s) URL, or ""."""
    m = re.match(r"https?://[^/?#]+", url)
    return m.group(0) if m else ""


def _absolute(base: str, href: str, origin: str = "") -> str:
    """href made absolute against base, fragment dropped. urljoin is slow, so the common
    absolute and root-relative forms are handled directly."""
    if href.startswith(("http://", "https://")) or not base:
        pass
    elif origin and href.startswith("/") and not href.startswith("//") and "/." not in href:
        href = origin + href
    else:
        href = urljoin(base, href)
    return href.split("#", 1)[0] if "#" in href else href


def _title(tree: LexborHTMLParser, ld: dict[str, Any]) -> str:
    for value in (
        _meta(tree, 'meta[property="og:title"]', 'meta[name="twitter:title"]'),
        _ld_str(ld, "headline"),
    ):
        if value:
            return _clean(value)
    t = tree.css_first("title")
    page_title = _clean(t.text()) if t is not None else ""
    h1s = [h for h in tree.css("h1") if h.text(strip=True)]
    if not h1s:
        return page_title
    chrome = [_within(h, _SITE_CHROME, unless=_CONTENT) for h in h1s]
    # A headline in the page's own content; failing that, the first outside the site's header, nav and footer.
    pick = next((h for h, c in zip(h1s, chrome, strict=True) if not c), None)
    if pick is not None:
        return _clean(pick.text(separator=" "))
    # Every h1 is in the site's header, nav or footer: it is most likely the site's name, as "The Harbour Herald"
    # on every page of its site, and <title> the headline. An h1 that is <title>'s longest part is the headline.
    first = _clean(h1s[0].text(separator=" "))
    parts = [x for x in _TITLE_SEPARATORS.split(page_title) if x.strip()]
    if not parts:
        return first
    longest = max(parts, key=len).strip()
    return first if first.lower() == longest.lower() else longest


# An h1 inside these (and not inside _CONTENT) is the site's furniture, often its name; <title> parts are split on
# the separators sites put between a headline and their name ("Headline | The Harbour Herald").
_SITE_CHROME = ("header", "nav", "footer")
_CONTENT = ("article", "main")
_TITLE_SEPARATORS = re.compile(r"\s+[|\-\u2013\u2014\u00b7]{1,2}\s+")


def _within(node: LexborNode, tags: tuple[str, ...], unless: tuple[str, ...] = ()) -> bool:
    """Whether `node` has an ancestor of one of `tags` and none of `unless` (an article's own <header> is content)."""
    found, parent = False, node.parent
    while parent is not None:
        if parent.tag in unless:
            return False
        found = found or parent.tag in tags
        parent = parent.parent
    return found


def _same_heading(text: str, title: str) -> bool:
    a, b = text.lower().strip(" .:"), title.lower()
    return bool(a) and (a == b or (len(a) > 15 and (b.startswith(a) or a in b)))


# Block containers nested this deep are no real page (browsers stop nesting at 512): the parser's time grows
# with the square of the depth (40,000 unclosed <div>s: 3.5 s; the 5M-character cap allows 1,000,000).
MAX_NESTING = 5_000
NESTING_TAGS = ("div", "section", "article", "main", "aside", "nav", "header", "footer", "ul", "ol", "dl", "table",
                "blockquote", "form", "fieldset", "center", "details", "figure", "address", "menu", "dir")
_NESTING_TAG = re.compile(r"<(/?)(?:" + "|".join(NESTING_TAGS) + r")\b[^>]*>", re.I)


def nesting_depth(html: str) -> int:
    """The deepest nesting of block containers (NESTING_TAGS) in `html`, counting unclosed ones."""
    depth = deepest = 0
    for m in _NESTING_TAG.finditer(html):
        if m.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _flatten_deep(html: str) -> str:
    """`html`, or when its block containers nest deeper than MAX_NESTING, `html` without those container
    tags: the text and its paragraphs stay, the parse stays linear."""
    if html.count("<") <= MAX_NESTING or nesting_depth(html) <= MAX_NESTING:  # a cheap bound first
        return html
    return _NESTING_TAG.sub(" ", html)


# Markup that never holds article text, met left to right as the HTML tokenizer meets it (a "<style>" inside a
# comment is comment, a "<!--" inside a script is script): comments, scripts other than JSON-LD (which the metadata
# reads), style sheets, and SVG images (nested ones with them). Each is found by its opener and then its own end,
# never by a pattern spanning both: a page of unclosed "<style>"s made that quadratic (160 KB: 11.6 s).
_BULK_OPEN = re.compile(r"<(?:!--|(script|style|svg)(?=[\s>/]))", re.I)
_BULK_CLOSE = {"script": re.compile(r"</script\s*>", re.I), "style": re.compile(r"</style\s*>", re.I)}
_SVG_TAG = re.compile(r"<(/?)svg(?=[\s>/])[^>]*>", re.I)
# An inline image or font (base64 in src, srcset, style url(...)): kept as a bare "data:".
_DATA_URI = re.compile(r"data:[^\"'\s>)]{256,}", re.I)


def _bulk_end(html: str, m: re.Match[str]) -> tuple[int, bool, int]:
    """Where the bulk element opened at `m` ends (-1: never closed), whether it is kept (JSON-LD), and where its
    content ends (its closing tag's start; the content begins after the opener's ">")."""
    name = (m.group(1) or "").lower()
    if not name:  # a comment; "<!-->" and "<!--->" are empty ones
        end = html.find("-->", m.start() + 2)
        return (end + 3 if end >= 0 else -1), False, end
    if name == "svg":
        depth = 0
        for t in _SVG_TAG.finditer(html, m.start()):
            if not t.group(0).endswith("/>"):
                depth += -1 if t.group(1) else 1
            if depth <= 0:
                return t.end(), False, t.start()
        return -1, False, -1
    tag_end = html.find(">", m.end())
    close = _BULK_CLOSE[name].search(html, tag_end) if tag_end >= 0 else None
    if close is None:
        return -1, False, -1
    return close.end(), name == "script" and "ld+json" in html[m.start():tag_end].lower(), close.start()


_SVG_TEXT = re.compile(r"<text\b[^>]*>(.*?)</text\s*>", re.I | re.S)
_ANY_TAG = re.compile(r"<[^>]*>")
SVG_PROSE_WORDS = 25  # an SVG's text this long with a sentence end is prose set as a picture, not labels


def _svg_prose(html: str, start: int, end: int) -> str:
    """The text of an inline SVG's <text> elements, one after the other, when it reads as prose ("" otherwise): a
    copy set line by line in an SVG shows as text on screen. Chart labels, icons and logos are short or end no
    sentence, and stay dropped with the rest of the SVG."""
    svg = html[start:end]
    if "<text" not in svg and "<TEXT" not in svg:
        return ""
    lines = [" ".join(htmllib.unescape(_ANY_TAG.sub(" ", t)).split()) for t in _SVG_TEXT.findall(svg)]
    text = " ".join(line for line in lines if line)
    if len(text.split()) < SVG_PROSE_WORDS or not re.search(r"[.!?…][\"'”’»)\]]*(?:\s|$)", text):
        return ""
    return text


_MEDIA = re.compile(r"""\bmedia\s*=\s*["']?([^"'>]*)""", re.I)
# Scripts whose content is data a JavaScript page renders from (its article text, on some sites): JSON scripts
# (Next.js's __NEXT_DATA__, Nuxt's __NUXT_DATA__, SvelteKit's fetched data, a store's initial state...) and
# inline scripts that assign a JSON literal to a name (window.__APOLLO_STATE__ = {...}, Remix's
# window.__remixContext, var state = JSON.parse("...")). Read only when the markup gives nearly nothing.
_DATA_SCRIPT = re.compile(r"""\btype\s*=\s*["']?application/(?:[\w.-]+\+)?json\b|"""
                          r"""\bid\s*=\s*["']?(?:__NEXT_DATA__|__NUXT_DATA__|__NUXT__)\b""", re.I)
_STATE_ASSIGNMENT = re.compile(
    r"""\s*(?:(?:window|self|globalThis)\s*\.\s*|(?:var|let|const)\s+)?[A-Za-z_$][\w$]*"""
    r"""(?:\s*\.\s*[A-Za-z_$][\w$]*|\[\s*"[^"\n]{1,100}"\s*\])*\s*=\s*(?:JSON\.parse\(\s*)?(?=["{\[])""")
MAX_DATA = 5_000_000  # characters of such scripts kept for the fallback


def _strip_bulk(html: str, sheets: list[str] | None = None, data: list[str] | None = None) -> str:
    """`html` without the markup that never holds text (comments, scripts, styles, SVG; long data: URIs).

    Done before the size cap, so megabytes of inline CSS, scripts or icons cannot push the article past it, and
    before parsing, which then has less to do. One pass, linear in the page: an element never closed is where it
    stops (for the tokenizer the rest of the page is inside it anyway).

    With `sheets`, each style sheet for the screen is appended to it and left as an empty
    `<style data-provmon-sheet=N></style>`: once parsed, only those that are elements of the document apply (not
    a "<style>" in an attribute value or a <textarea>). With `data`, the content of data scripts (_DATA_SCRIPT:
    JSON ones; from the value on, scripts assigning a JSON literal to a name) is appended to it."""
    if "<" in html:
        parts, pos = [], 0
        kept = css_kept = 0
        while (m := _BULK_OPEN.search(html, pos)) is not None:
            end, keep, content_end = _bulk_end(html, m)
            if end < 0:
                break
            parts.append(html[pos:end] if keep else html[pos:m.start()])
            pos = end
            name = (m.group(1) or "").lower()
            if name == "svg" and (prose := _svg_prose(html, m.start(), end)):
                parts.append(f"<div>{htmllib.escape(prose)}</div>")
            if keep or name not in ("style", "script") or (sheets is None and data is None):
                continue
            tag_end = html.find(">", m.end())
            opener = html[m.start():tag_end]
            if name == "style" and sheets is not None:
                media = _MEDIA.search(opener)
                if (media is None or not media.group(1).strip()
                        or re.search(r"\b(?:all|screen)\b", media.group(1), re.I)):
                    parts.append(f"<style {SHEET_ATTR}={len(sheets)}></style>")
                    sheets.append(html[tag_end + 1:min(content_end, tag_end + 1 + max(0, MAX_CSS - css_kept))])
                    css_kept += len(sheets[-1])
            elif name == "script" and data is not None and kept < MAX_DATA:
                start = tag_end + 1
                if not _DATA_SCRIPT.search(opener):
                    state = _STATE_ASSIGNMENT.match(html, start, content_end)
                    if state is None:
                        continue
                    start = state.end()
                data.append(html[start:content_end])
                kept += content_end - start
        parts.append(html[pos:])
        html = "".join(parts)
    if "data:" in html:
        html = _DATA_URI.sub("data:", html)
    return html


# What DROP_TAGS would drop although a browser shows it (_reveal).
MAX_SRCDOC = 10  # <iframe srcdoc> documents extracted per page
MAX_SHADOW_ROUNDS = 8  # shadow roots nested in shadow roots are unwrapped this deep
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


def _prose_button(text: str) -> bool:
    """A <button> holding prose (a copy wrapped in buttons styled as text), not a control's label."""
    words = text.split()
    return len(words) >= 15 or (len(words) >= 8 and bool(_SENTENCE_END.search(words[-1])))


def _reveal(tree: LexborHTMLParser, url: str, limit: int, nested: bool, sheets: list[str]) -> None:
    """Put into the document what a browser shows of elements DROP_TAGS drops: the content of declarative shadow
    roots (<template shadowrootmode>; the host's own children go when the shadow root has no <slot> for them),
    the article text of <iframe srcdoc> documents (extracted as pages of their own, not in a nested one), and
    leave open dialogs and buttons holding prose (closed dialogs and other buttons are removed here)."""
    if tree.css_first("template[shadowrootmode]") is not None:  # first: its content may hold all of the rest
        _unwrap_shadow_roots(tree)
    nodes = tree.css("iframe[srcdoc], dialog, button, object, textarea")
    frames = [n for n in nodes if n.tag == "iframe"][:0 if nested else MAX_SRCDOC]
    frame_ids = {n.mem_id for n in frames}
    # Buttons holding prose are read only when together they hold most of the page's text (a copy split into
    # buttons); otherwise they are "Show all 48 comments...", "Continue reading..." and the like.
    buttons = [n for n in nodes if n.tag == "button"]
    button_text = sum(len(t) for n in buttons if _prose_button(t := n.text()))
    body = tree.body
    keep_buttons = bool(button_text) and body is not None and button_text >= 0.5 * len(body.text())
    # Last first: removing an element frees its subtree, so what is inside it is done before it.
    for node in reversed(nodes):
        tag = node.tag
        if tag == "dialog":
            if "open" not in node.attributes:
                node.decompose()
        elif tag == "button":
            if not keep_buttons or not _prose_button(node.text()):
                node.decompose()
        elif tag == "object":
            if _renders(node.attributes):
                node.decompose()  # the embed is shown, not its fallback content
        elif tag == "textarea":
            if _MARKUP.search(node.text()):
                node.decompose()  # code or markup to copy ("embed this"), not prose
        elif node.mem_id in frame_ids:
            _inline_srcdoc(node, url, limit, sheets)


_MARKUP = re.compile(r"<[a-zA-Z!/]")
_RENDERED_TYPES = ("application/pdf", "image/", "video/", "audio/", "text/", "application/xhtml")
_RENDERED_FILES = re.compile(r"\.(?:pdf|svg|png|jpe?g|gif|webp|html?|mp4|webm|mp3|ogg)(?:[?#]|$)", re.I)


def _renders(attrs: dict[str, str | None]) -> bool:
    """Whether a browser shows an <object>'s resource (a PDF, an image, a page...) rather than its fallback."""
    kind = (attrs.get("type") or "").strip().lower()
    if kind:
        return kind.startswith(_RENDERED_TYPES)
    return bool(_RENDERED_FILES.search((attrs.get("data") or "").strip()))


def _inline_srcdoc(node: LexborNode, url: str, limit: int, sheets: list[str]) -> None:
    """Replace an <iframe srcdoc> by the article text of its document (one <p> per paragraph), keeping the
    iframe's attributes that can hide it."""
    attrs = node.attributes
    doc = attrs.get("srcdoc") or ""
    if not doc.strip() or _zero_size(attrs):
        node.decompose()  # not shown (the walk would drop the iframe anyway)
        return
    if "<style " in doc:  # _strip_bulk took the style sheets of a srcdoc written with bare "<": put them back

        def sheet(m: re.Match[str]) -> str:
            n = int(m.group(1))
            return f"<style>{sheets[n]}</style>" if n < len(sheets) else ""

        doc = _SHEET_PLACEHOLDER.sub(sheet, doc)
    paragraphs = _extract(doc, url, "", (), limit, nested=True).paragraphs
    if not paragraphs:
        return
    keep = "".join(f' {a}="{htmllib.escape(v or "", quote=True)}"' for a, v in attrs.items()
                   if a in ("style", "class", "id", "hidden", "role", "dir"))
    box = LexborHTMLParser(f"<div{keep}>" + "".join(f"<p>{htmllib.escape(p)}</p>" for p in paragraphs)
                           + "</div>").body
    if box is not None and box.child is not None:
        node.replace_with(box.child)


def _tiny(value: str | None) -> bool:
    """A length of at most 1 pixel ("0", "1", "0px", "1px", "0%")."""
    n = _length(value) if value else None
    return n is not None and (n[0] == 0 or (n[1] in ("", "px") and abs(n[0]) <= 1))


def _zero_size(attrs: dict[str, str | None]) -> bool:
    """Whether an iframe is 1 pixel or less wide or high (its width/height attributes or its inline style)."""
    if _tiny(attrs.get("width")) or _tiny(attrs.get("height")):
        return True
    style = attrs.get("style")
    if not style:
        return False
    decls = _declarations(style)
    return any(_tiny(decls.get(p, ("", False))[0]) for p in ("width", "height", "max-width", "max-height"))


def _unwrap_shadow_roots(tree: LexborHTMLParser) -> None:
    for _ in range(MAX_SHADOW_ROUNDS):
        found = [t for t in tree.css("template[shadowrootmode]")
                 if (t.attributes.get("shadowrootmode") or "").lower() in ("open", "closed")]
        if not found:
            return
        hosts: set[int] = set()
        first = []  # only a host's first shadow root is attached; a later one stays a (dropped) template
        for t in found:
            host = t.parent
            if host is not None and host.mem_id not in hosts:
                hosts.add(host.mem_id)
                first.append(t)
        # Nothing here frees an element that holds others (which would leave a later one dangling): the host's own
        # children are hidden, not removed (only its bare text is), and a template holds nothing once emptied.
        for tmpl in first:
            fragments = tmpl.template_fragments()
            host = tmpl.parent
            if not fragments or host is None:
                continue
            content = fragments[0]
            if content.css_first("slot") is None:  # nowhere to show the host's own children: not shown
                child = host.child
                while child is not None:
                    after = child.next
                    if child.is_text_node:
                        child.decompose()
                    elif child.is_element_node and child.mem_id != tmpl.mem_id:
                        child.attrs["hidden"] = ""
                    child = after
            kids = []
            child = content.child
            while child is not None:
                kids.append(child)
                child = child.next
            for kid in kids:
                tmpl.insert_before(kid, move=True)
            tmpl.decompose()


def _sheet_of(tree: LexborHTMLParser, sheets: list[str]) -> _Sheet | None:
    """The rules of the page's style sheets that apply: those left as <style> elements of the document (see
    _strip_bulk), not inside <noscript>, in document order, up to MAX_CSS characters."""
    if not sheets:
        return None
    nodes = tree.css(f"style[{SHEET_ATTR}]")
    if not nodes:
        return None
    unused = {n.mem_id for n in tree.css(f"noscript style[{SHEET_ATTR}]")}
    texts: list[str] = []
    size = 0
    for node in nodes:
        if node.mem_id in unused:
            continue
        try:
            text = sheets[int(node.attributes.get(SHEET_ATTR) or "")]
        except (ValueError, IndexError):
            continue
        texts.append(text)
        size += len(text)
        if size >= MAX_CSS:
            break
    return _parse_sheet("\n".join(texts)) if texts else None


# JavaScript pages: when the markup gives under DATA_FALLBACK_BELOW characters of text (nearly nothing), the prose
# in the page's data script (see _strip_bulk) is used if it is more than DATA_FALLBACK_TIMES as long (plus 200).
DATA_FALLBACK_BELOW = 80
DATA_FALLBACK_TIMES = 3
DATA_MIN_WORDS = 12  # shorter strings are UI strings (labels, messages, teasers), not prose
MAX_DATA_HTML = 200  # HTML strings in JSON data extracted per page
_HTML_IN_STRING = re.compile(r"<(?:p|br|div|h[1-6]|li|blockquote|section|article)\b", re.I)


_JSON = json.JSONDecoder(strict=False)


def _data_prose(blobs: list[str], url: str, limit: int) -> list[str]:
    """The article paragraphs of JSON data: its prose strings (HTML ones extracted as pages), then, as for the
    DOM, the deepest object or array holding 60 % of that prose; its prose strings in order. [] when none."""
    best: list[str] = []
    budget = [MAX_DATA_HTML]
    decode_budget = MAX_DATA  # characters of JSON kept as strings in the data decoded again
    for blob in blobs:
        try:  # the value the blob starts with: the rest of an assigning script (";", more code) is not JSON
            obj = _JSON.raw_decode(blob.lstrip())[0]
        except (ValueError, RecursionError):
            continue
        parents: list[int] = []
        depth: list[int] = []
        leaves: dict[int, list[str]] = {}
        stack: list[tuple[Any, int]] = [(obj, -1)]
        while stack:
            item, parent = stack.pop()
            if isinstance(item, str) and item[:1] in "{[" and item[-1:] in "}]" and len(item) <= decode_budget:
                # JSON kept as text (JSON.parse("...") state, a fetched response's body): its data, when it parses
                decode_budget -= len(item)
                with contextlib.suppress(ValueError, RecursionError):
                    item = _JSON.decode(item)
            if isinstance(item, str):
                paras = _prose_string(item, url, limit, budget)
                if not paras:
                    continue
                leaves[len(parents)] = paras
            elif isinstance(item, dict | list):
                values = list(item.values() if isinstance(item, dict) else item)
                stack.extend((v, len(parents)) for v in reversed(values))
            else:
                continue
            depth.append(depth[parent] + 1 if parent >= 0 else 0)
            parents.append(parent)
        if not leaves:
            continue
        weight = [0] * len(parents)
        size = [1] * len(parents)
        for i, paras in leaves.items():
            weight[i] = sum(len(p) for p in paras)
        for i in range(len(parents) - 1, 0, -1):  # children after parents (preorder)
            p = parents[i]
            weight[p] += weight[i]
            size[p] += size[i]
        total = weight[0]
        box = max((i for i in range(len(parents)) if weight[i] >= 0.6 * total), key=depth.__getitem__)
        found = [p for i in range(box, box + size[box]) for p in leaves.get(i, ())]
        found = list(dict.fromkeys(found))
        if sum(len(p) for p in found) > sum(len(p) for p in best):
            best = found
    return best


def _prose_string(text: str, url: str, limit: int, budget: list[int]) -> list[str]:
    """The paragraphs of a JSON string that reads as prose: DATA_MIN_WORDS words or more and a sentence end; HTML
    is extracted (up to budget[0] strings per page). [] otherwise."""
    if len(text) < 60 or text.count(" ") < DATA_MIN_WORDS - 1 or text.startswith(("http://", "https://", "/")):
        return []
    if len(text.split()) < DATA_MIN_WORDS:
        return []
    if "<" in text and _HTML_IN_STRING.search(text):
        if budget[0] <= 0:
            return []
        budget[0] -= 1
        return _extract(text, url, "", (), limit, nested=True).paragraphs
    if not re.search(r"[.!?…][\"'”’»)\]]*(?:\s|$)", text):
        return []
    return [p for p in (_clean(p) for p in text.split("\n")) if p]


def extract(
    html: str | bytes,
    url: str = "",
    content_type: str = "",
    *,
    template_hashes: Collection[str] = (),
    max_chars: int | None = None,
) -> Extracted:
    """Extract article text and metadata. Never raises on bad markup; empty text if none found.

    `template_hashes` are monitor.templates.block_hash values of blocks the site repeats on many
    pages (its template); such blocks are dropped. Markup that never holds text is removed first; what is left
    beyond `max_chars` (default MAX_CHARS) characters is cut, and the result's `truncated` and `warning` say so.
    """
    return _extract(html, url, content_type, template_hashes, max_chars, nested=False)


def _extract(html: str | bytes, url: str, content_type: str, template_hashes: Collection[str],
             max_chars: int | None, nested: bool) -> Extracted:
    """extract(); `nested` for a document inside the page (an <iframe srcdoc>, HTML in JSON data, <noscript>
    content), whose own iframes, JSON data and <noscript> are not read."""
    limit = MAX_CHARS if max_chars is None else max_chars
    cut_bytes = 0
    if isinstance(html, bytes):
        if len(html) > 4 * limit:  # decoding more would only cost memory: this is cut anyway
            cut_bytes = len(html)
            html = html[: 4 * limit]
        html = decode_html(html, content_type)
    size = len(html)
    sheets: list[str] = []
    data: list[str] = []
    html = _strip_bulk(html.replace("\x00", ""), sheets, None if nested else data)
    truncated = bool(cut_bytes) or len(html) > limit
    warning = ""
    if truncated:
        whole = (f"{cut_bytes:,} bytes, of which the first {4 * limit:,} were read" if cut_bytes
                 else f"{len(html):,} such characters, {size:,} in all")
        warning = (f"page too big to search whole: only the first {min(len(html), limit):,} characters of its "
                   f"markup were searched for copies (the limit is {limit:,}, counted after scripts, styles, SVG "
                   f"and comments are removed; the page has {whole})")
        html = html[:limit]
    tree = LexborHTMLParser(_flatten_deep(html))
    ld = _json_ld(tree)
    root = tree.root
    lang = (root.attributes.get("lang") or "").strip() if root is not None and root.tag == "html" else ""
    lang = lang or _meta(tree, 'meta[http-equiv="content-language" i]', 'meta[property="og:locale"]')
    canonical = _meta(tree, 'link[rel="canonical"]', attr="href")
    og_url = _meta(tree, 'meta[property="og:url"]')
    author = (_meta(tree, 'meta[name="author"]', 'meta[property="article:author"]', 'meta[name="byl"]')
              or _ld_author(ld))
    if author.startswith(("http://", "https://")):
        author = _ld_author(ld) or ""
    published = (_meta(tree, 'meta[property="article:published_time"]', 'meta[name="date"]',
                       'meta[itemprop="datePublished"]', 'meta[name="pubdate"]', 'meta[name="publish-date"]')
                 or _ld_str(ld, "datePublished")
                 or _meta(tree, "time[datetime]", attr="datetime"))
    title = _title(tree, ld)

    body = tree.body
    all_links: list[str] = []
    paragraphs: list[str] = []
    hidden: list[str] = []
    credits: list[str] = []
    credit_links: list[str] = []
    text_links: list[tuple[str, str, str]] = []
    noscript: list[str] = []
    templates = frozenset(template_hashes)
    if body is not None:
        sheet = _sheet_of(tree, sheets)
        _reveal(tree, url, limit, nested, sheets)
        if not nested:  # what the page shows without JavaScript, for the fallback below
            noscript = [_inner_html(n) for n in tree.css("body noscript")]
        tree.strip_tags(DROP_TAGS)
        pruned = _prune(body)
        walk = _walk(body, sheet)
        origin = _origin(url)
        for href in dict.fromkeys(pruned + walk.hrefs):
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
                all_links.append(_absolute(url, href, origin))
        nodes: list[int] = []
        paragraphs, credits, credit_links, text_links = _select(walk, title, url, templates, nodes)
        chosen = walk
        if walk.soft:
            # The safety net: hiding read from style sheets and the newer CSS signals (opacity, font-size:0,
            # transparent colour, clip, off-screen...) hides decoys between a copy's words and sentences; a theme
            # that fades in, lazy-loads or collapses the whole article hides its paragraphs. When the paragraphs it
            # removes whole hold most of the prose the page shows without it, it is not applied to this page.
            # (Paragraphs that keep some text count whole: decoys inside a copied paragraph, however long, never
            # make the net give way.)
            mild_nodes: list[int] = []
            mild_walk = _walk(body, sheet, strict=False)
            mild = _select(mild_walk, title, url, templates, mild_nodes)
            kept = set(nodes)
            total = sum(map(len, mild[0]))
            shown = sum(len(p) for p, n in zip(mild[0], mild_nodes, strict=True) if n in kept)
            if shown < 0.5 * total:
                paragraphs, credits, credit_links, text_links = mild
                chosen, nodes = mild_walk, mild_nodes
        if not paragraphs:  # no text at all: paragraphs that are links, if any (a copy wrapped in <a>s)
            linked_nodes: list[int] = []
            paragraphs, credits, credit_links, text_links = _select(chosen, title, url, templates, linked_nodes,
                                                                    linked=True)
            nodes = linked_nodes
        if chosen.hidden:
            # A paragraph the page also shows elsewhere (a "read more" teaser above the whole text, hidden) is read.
            under = _under(chosen.up, chosen.hidden)
            shown = {p for p, n in zip(paragraphs, nodes, strict=True) if n not in under}
            hidden = [p for p, n in zip(paragraphs, nodes, strict=True) if n in under and p not in shown]
    method = "dom" if paragraphs else ""
    ld_body = _ld_str(ld, "articleBody")
    dom_chars = sum(len(p) for p in paragraphs)
    if ld_body and len(ld_body) > 2 * dom_chars + 200:
        paragraphs = [p for p in (_clean(p) for p in re.split(r"\n\s*\n|\r?\n", ld_body)) if p]
        method = "json-ld"
        hidden = []
    elif dom_chars < DATA_FALLBACK_BELOW and (data or any(noscript)):
        found, how = _data_prose(data, url, limit), "json"
        if any(noscript):
            shown = _extract("".join(f"<div>{h}</div>" for h in noscript), url, "", (), limit, nested=True)
            if sum(map(len, shown.paragraphs)) > sum(map(len, found)):
                found, how = shown.paragraphs, "noscript"
        if sum(len(p) for p in found) > DATA_FALLBACK_TIMES * dom_chars + 200:
            paragraphs = found
            method = how
            hidden = []
    return Extracted(
        title=title,
        text="\n\n".join(paragraphs),
        canonical_url=urljoin(url, canonical) if canonical and url else canonical,
        og_url=og_url,
        author=_clean(author),
        published=published,
        language=lang,
        credits=tuple(dict.fromkeys(credits)),
        credit_links=tuple(dict.fromkeys(credit_links)),
        links=tuple(dict.fromkeys(all_links)),
        text_links=tuple(dict.fromkeys(text_links)) if method == "dom" else (),
        method=method,
        truncated=truncated,
        warning=warning,
        hidden=tuple(dict.fromkeys(hidden)),
    )


def _inner_html(node: LexborNode) -> str:
    """The markup inside `node` (selectolax gives the element's own)."""
    outer = node.html or ""
    return outer[outer.find(">") + 1:outer.rfind("<")] if outer.endswith(">") and "</" in outer else ""


def _case_odd(text: str) -> bool:
    """Whether a substring test on text.lower() could miss an IGNORECASE match of ASCII words (_CASE_ODD)."""
    return not text.isascii() and any(c in text for c in _CASE_ODD)


def _furniture_line(text: str) -> bool:
    """FURNITURE_LINE.match(text), with its all-rights-reserved alternative tried only where those words are."""
    if _FURNITURE_START.match(text):
        return True
    if "all rights reserved" not in text.lower() and not _case_odd(text):
        return False
    return _RIGHTS_LINE.match(text) is not None


def _pitch(text: str) -> bool:
    """PITCH.match(text), tried only on a block holding one of its first words (subscribe, sign up, signup, join)
    and one of its second ones (newsletter, inbox, e-mail, briefing) in some case."""
    if not _case_odd(text):
        low = text.lower()
        if not (("subscribe" in low or "sign" in low or "join" in low)
                and ("newsletter" in low or "inbox" in low or "mail" in low or "briefing" in low)):
            return False
    return PITCH.match(text) is not None


def _select(walk: _Walk, title: str, url: str, templates: frozenset[str],
            nodes: list[int] | None = None, linked: bool = False
            ) -> tuple[list[str], list[str], list[str], list[tuple[str, str, str]]]:
    """The article's paragraphs, credit lines, credit links, and the links in its paragraphs with their paragraph;
    with `nodes`, each paragraph's block element is appended to it. `linked`: long paragraphs that are links are
    prose (_linked_prose)."""
    box, in_furniture = _choose(walk, linked=linked)
    blocks = walk.blocks
    if box is None:
        return [], [], [], []
    in_box = _under(walk.up, (box,))
    inside = [i for i, b in enumerate(blocks) if b.node in in_box]
    paragraphs: list[str] = []
    credits: list[str] = []
    credit_links: list[str] = []
    text_links: list[tuple[str, str, str]] = []
    if not inside:
        return [], [], [], []
    # Credit lines often sit just after the article container.
    tail = range(inside[-1] + 1, min(inside[-1] + 4, len(blocks)))
    seen_prose = False
    for i in [*inside, *tail]:
        b = blocks[i]
        text = b.text
        if len(text) < 250 and CREDIT_LINE.match(text):
            credits.append(text)
            credit_links.extend(_absolute(url, h) for h in b.links)
            continue
        if i > inside[-1] or b.node in in_furniture:
            continue
        n = len(text)
        if n < 200 and (_furniture_line(text) or _pitch(text)):
            continue
        # A line mostly of links is navigation, not one of a few words that introduces a quotation naming its
        # source by a link ("<a>The Dunmore Herald</a> wrote on Friday:", text.cited_spans).
        if b.link_chars > 0.5 * n and not (linked and _linked_prose(b)) and not (
                n < LEAD_IN_CHARS and text.rstrip().endswith(":") and " " in text.strip()):
            continue
        if b.tag in HEADINGS and _same_heading(text, title):
            continue
        if not seen_prose and n < 100 and (BYLINE.match(text) or DATELINE.match(text)):
            continue  # bylines and datelines above the first paragraph
        if templates and block_hash(text) in templates:
            continue
        seen_prose = seen_prose or _is_prose(b, linked)
        paragraphs.append(text)
        text_links.extend((_absolute(url, h), words, text) for h, words in b.anchors)
        if nodes is not None:
            nodes.append(b.node)
    # A scraper's site name or signature often trails the article: short lines, no sentence.
    while paragraphs and len(paragraphs[-1]) < 60 and not SENTENCE_END.search(paragraphs[-1]):
        paragraphs.pop()
        if nodes is not None:
            nodes.pop()
    return paragraphs, credits, credit_links, text_links


def text_of(body: bytes, content_type: str, url: str) -> Extracted:
    """Plain-text files are taken as they are (offsets count their characters); HTML is extracted."""
    ctype = content_type.lower()
    if ctype.startswith("text/plain") or (not ctype and url.lower().endswith(".txt")):
        text = decode_html(body, content_type)
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return Extracted(title=first if len(first) <= 120 else first[:119] + "…", text=text, plain=True)
    return extract(body, url=url, content_type=content_type)
