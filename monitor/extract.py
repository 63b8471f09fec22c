"""Turn a page's HTML into its article text, title and provenance metadata.

How the main text is found (selectolax/lexbor, one parse, one walk; details in docs/extraction.md):
1. Elements that never hold readable text are dropped in C, and small nav/aside subtrees pruned.
2. One walk cuts the body into text blocks (paragraphs, headings, list items, cells, bare text
   between <br>s), each with its element (whose ancestors are kept as parent links, so any
   nesting depth costs linear time and memory) and link-text share. Elements whose tag, role or
   class/id words say "furniture" are marked; a mark is overruled when the element holds most of
   the page's prose (a theme's "content-sidebar-wrap" is the page, not a sidebar).
3. The container starts as the deepest element holding 60% of the unmarked prose, then climbs to
   the ancestor with the best prose-minus-junk score (joins articles split into chunks).
4. Inside it, furniture, link lists, known furniture lines, bylines, template blocks and a trailing
   site-name line are dropped; credit lines inside or just after it become credits.
5. If the DOM gives little and JSON-LD carries a longer articleBody, that is used.
"""

from __future__ import annotations

import json
import re
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

DROP_TAGS = [
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "canvas",
    "button", "select", "textarea", "input", "option", "datalist", "dialog", "video", "audio", "map",
]
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
    "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
    "figure", "figcaption", "hr", "br", "address", "center", "details", "summary", "form", "fieldset",
    "body", "header", "footer", "nav", "aside", "caption", "legend", "menu", "hgroup", "picture",
})
PRUNE_SELECTOR = (
    "nav, aside, menu, [role=navigation], [role=complementary], [role=search], [role=menu], [role=menubar]"
)
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Tags that are furniture wherever they are (overruled only when they hold most of the prose).
FURNITURE_TAGS = frozenset({
    "nav", "aside", "footer", "header", "form", "figure", "figcaption", "menu", "label", "address", "picture",
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
CREDIT_LINE = re.compile(
    r"^(?:(?:originally|orignially|originaly|orginally|first) (?:published|posted|appeared)\b.*|"
    r"(?:this|the) (?:article|story|post|piece) (?:was |first |originally |previously )+(?:published|appeared)\b.*|"
    r"(?:this|the) (?:article|story|post) (?:is )?(?:republished|reprinted|reproduced) .*|"
    r"source(?: link)?\s*(?::.*)?|source: .*|via\b.*|h/t\b.*|hat tip\b.*|courtesy(?: of)?\b.*|"
    r"reprinted\b.*|republished\b.*|(?:read|see) (?:the )?original (?:article|story|post)\b.*)$",
    re.I,
)
SENTENCE_END = re.compile(r"[.!?…\"”’»)\]:]$")
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""")
PRE_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


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
    plain: bool = False  # a plain-text file, taken as it is: offsets into `text` count its characters
    # How the text was found: "dom", "json-ld" or "" (nothing); and whether the input was cut, and if so
    # `warning` says where (callers show it: only part of the page was searched).
    method: str = ""
    truncated: bool = False
    warning: str = ""

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["credits"] = list(self.credits)
        d["credit_links"] = list(self.credit_links)
        d["links"] = list(self.links)
        return d


@dataclass(slots=True)
class _Block:
    text: str
    tag: str
    link_chars: int
    node: int  # mem_id of its block element; its ancestors are found through _Walk.up
    links: list[str]


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


def _state_mark(attrs: dict[str, str | None]) -> int:
    """1 when role, hidden flags or inline style say the element is not article content."""
    role = attrs.get("role")
    if role and role.lower() in FURNITURE_ROLES:
        return 1
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").lower() == "true":
        return 1
    style = attrs.get("style")
    if style:
        style = style.replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return 1
    return 0


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


def _under(up: dict[int, int | None], tops: Collection[int]) -> set[int]:
    """The elements of `up` that are in `tops` or below one of them (one pass, parents first)."""
    below: set[int] = set()
    for nid, parent in up.items():
        if nid in tops or parent in below:
            below.add(nid)
    return below


def _walk(body: LexborNode) -> _Walk:
    """Cut the body into blocks in one pass over lexbor's node iterator.

    Per element we keep (tail, block, href): the innermost block or marked element at or above
    it (the end of its ancestor chain), the nearest block element (whose text it belongs to) and
    the href of the link it sits in (None outside links). Inline elements share their parent's
    tail unless marked, which keeps this loop cheap. Each block or marked element records only
    its parent's tail in `up`, so deep nesting costs O(1) per element.
    """
    blocks: list[_Block] = []
    marks: dict[int, int] = {}
    memo: dict[str, int] = {}
    hrefs: list[str] = []
    body_id = body.mem_id
    up: dict[int, int | None] = {body_id: None}
    info: dict[int, tuple[int, int, str | None]] = {body_id: (body_id, body_id, None)}
    block_tag: dict[int, str] = {body_id: "body"}
    pre_blocks: set[int] = set()  # block elements inside a <pre>

    buf: list[str] = []
    link_chars = 0
    links: list[str] = []
    cur_block = body_id
    in_pre = False

    def flush() -> None:
        nonlocal link_chars
        raw = "".join(buf)
        if in_pre:
            text = "\n".join(PRE_WS.sub(" ", ln).rstrip() for ln in raw.strip("\n").split("\n"))
        else:
            text = " ".join(raw.split())
        if text:
            blocks.append(_Block(text, block_tag[cur_block], link_chars, cur_block, list(links)))
        buf.clear()
        links.clear()
        link_chars = 0

    for node in body.traverse(include_text=True):
        tag = node.tag
        if tag == "-text":
            t = node.text_content
            if not t or t.isspace():
                if buf:  # whitespace between inline elements still separates words
                    buf.append(" ")
                continue
            parent = node.parent
            if parent is None:
                continue
            pinfo = info.get(parent.mem_id)
            if pinfo is None:
                continue
            _, blk, href = pinfo
            if blk != cur_block:
                if buf:
                    flush()
                cur_block = blk
                in_pre = blk in pre_blocks
            buf.append(t)
            if href is not None:
                link_chars += len(t.strip())
            continue
        if tag is None or tag[0] == "-":
            continue
        parent = node.parent
        if parent is None:
            continue
        pinfo = info.get(parent.mem_id)
        if pinfo is None:
            continue
        tail, blk, href = pinfo
        nid = node.mem_id
        mark = 1 if tag in FURNITURE_TAGS else 0
        attrs = node.attributes
        if attrs:
            # Pages repeat the same few class strings: judge each value once.
            value = attrs.get("class")
            if value:
                m = memo.get(value)
                if m is None:
                    m = memo[value] = _word_mark(value)
                mark = m if m > mark else mark
            value = attrs.get("id")
            if value:
                m = memo.get(value)
                if m is None:
                    m = memo[value] = _word_mark(value)
                mark = m if m > mark else mark
            if not mark and ("role" in attrs or "style" in attrs or "hidden" in attrs or "aria-hidden" in attrs):
                mark = _state_mark(attrs)
            if tag == "a":
                href = attrs.get("href") or ""
                if href:
                    links.append(href)
                    hrefs.append(href)
        elif tag == "a":
            href = ""
        if mark:
            marks[nid] = mark
        if tag in BLOCK_TAGS:
            up[nid] = tail
            info[nid] = (nid, nid, href)
            block_tag[nid] = tag
            if buf:
                flush()
            else:
                links.clear()
            cur_block = nid
            in_pre = tag == "pre" or blk in pre_blocks
            if in_pre:
                pre_blocks.add(nid)
        elif mark:
            up[nid] = tail
            info[nid] = (nid, blk, href)
        else:
            info[nid] = (tail, blk, href)
    if buf:
        flush()
    return _Walk(blocks, marks, hrefs, up)


def _is_prose(b: _Block) -> bool:
    n = len(b.text)
    return n >= 25 and b.link_chars <= 0.3 * n and b.tag not in HEADINGS and " " in b.text


def _choose(walk: _Walk, share: float = 0.6, junk_weight: float = 3.0) -> tuple[int | None, set[int]]:
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
        if _is_prose(b):
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
        if _is_prose(b) and b.node not in in_furniture:
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
            return clean_ws(value)
    h1 = tree.css_first("h1")
    if h1 is not None and h1.text(strip=True):
        return clean_ws(h1.text(separator=" "))
    t = tree.css_first("title")
    return clean_ws(t.text()) if t is not None else ""


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


def _bulk_end(html: str, m: re.Match[str]) -> tuple[int, bool]:
    """Where the bulk element opened at `m` ends (-1: never closed), and whether it is kept (JSON-LD)."""
    name = (m.group(1) or "").lower()
    if not name:  # a comment; "<!-->" and "<!--->" are empty ones
        end = html.find("-->", m.start() + 2)
        return (end + 3 if end >= 0 else -1), False
    if name == "svg":
        depth = 0
        for t in _SVG_TAG.finditer(html, m.start()):
            if not t.group(0).endswith("/>"):
                depth += -1 if t.group(1) else 1
            if depth <= 0:
                return t.end(), False
        return -1, False
    tag_end = html.find(">", m.end())
    close = _BULK_CLOSE[name].search(html, tag_end) if tag_end >= 0 else None
    if close is None:
        return -1, False
    return close.end(), name == "script" and "ld+json" in html[m.start():tag_end].lower()


def _strip_bulk(html: str) -> str:
    """`html` without the markup that never holds text (comments, scripts, styles, SVG; long data: URIs).

    Done before the size cap, so megabytes of inline CSS, scripts or icons cannot push the article past it, and
    before parsing, which then has less to do. One pass, linear in the page: an element never closed is where it
    stops (for the tokenizer the rest of the page is inside it anyway)."""
    if "<" in html:
        parts, pos = [], 0
        while (m := _BULK_OPEN.search(html, pos)) is not None:
            end, keep = _bulk_end(html, m)
            if end < 0:
                break
            parts.append(html[pos:end] if keep else html[pos:m.start()])
            pos = end
        parts.append(html[pos:])
        html = "".join(parts)
    if "data:" in html:
        html = _DATA_URI.sub("data:", html)
    return html


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
    limit = MAX_CHARS if max_chars is None else max_chars
    cut_bytes = 0
    if isinstance(html, bytes):
        if len(html) > 4 * limit:  # decoding more would only cost memory: this is cut anyway
            cut_bytes = len(html)
            html = html[: 4 * limit]
        html = decode_html(html, content_type)
    size = len(html)
    html = _strip_bulk(html.replace("\x00", ""))
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
    credits: list[str] = []
    credit_links: list[str] = []
    templates = frozenset(template_hashes)
    if body is not None:
        tree.strip_tags(DROP_TAGS)
        pruned = _prune(body)
        walk = _walk(body)
        origin = _origin(url)
        for href in dict.fromkeys(pruned + walk.hrefs):
            href = href.strip()
            if href and not href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
                all_links.append(_absolute(url, href, origin))
        paragraphs, credits, credit_links = _select(walk, title, url, templates)
    method = "dom" if paragraphs else ""
    ld_body = _ld_str(ld, "articleBody")
    if ld_body and len(ld_body) > 2 * sum(len(p) for p in paragraphs) + 200:
        paragraphs = [clean_ws(p) for p in re.split(r"\n\s*\n|\r?\n", ld_body) if p.strip()]
        method = "json-ld"
    return Extracted(
        title=title,
        text="\n\n".join(paragraphs),
        canonical_url=urljoin(url, canonical) if canonical and url else canonical,
        og_url=og_url,
        author=clean_ws(author),
        published=published,
        language=lang,
        credits=tuple(dict.fromkeys(credits)),
        credit_links=tuple(dict.fromkeys(credit_links)),
        links=tuple(dict.fromkeys(all_links)),
        method=method,
        truncated=truncated,
        warning=warning,
    )


def _select(walk: _Walk, title: str, url: str, templates: frozenset[str]) -> tuple[list[str], list[str], list[str]]:
    box, in_furniture = _choose(walk)
    blocks = walk.blocks
    if box is None:
        return [], [], []
    in_box = _under(walk.up, (box,))
    inside = [i for i, b in enumerate(blocks) if b.node in in_box]
    paragraphs: list[str] = []
    credits: list[str] = []
    credit_links: list[str] = []
    if not inside:
        return [], [], []
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
        if n < 200 and (FURNITURE_LINE.match(text) or PITCH.match(text)):
            continue
        if b.link_chars > 0.5 * n:
            continue
        if b.tag in HEADINGS and _same_heading(text, title):
            continue
        if not seen_prose and n < 100 and (BYLINE.match(text) or DATELINE.match(text)):
            continue  # bylines and datelines above the first paragraph
        if templates and block_hash(text) in templates:
            continue
        seen_prose = seen_prose or _is_prose(b)
        paragraphs.append(text)
    # A scraper's site name or signature often trails the article: short lines, no sentence.
    while paragraphs and len(paragraphs[-1]) < 60 and not SENTENCE_END.search(paragraphs[-1]):
        paragraphs.pop()
    return paragraphs, credits, credit_links


def text_of(body: bytes, content_type: str, url: str) -> Extracted:
    """Plain-text files are taken as they are (offsets count their characters); HTML is extracted."""
    ctype = content_type.lower()
    if ctype.startswith("text/plain") or (not ctype and url.lower().endswith(".txt")):
        text = decode_html(body, content_type)
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return Extracted(title=first if len(first) <= 120 else first[:119] + "…", text=text, plain=True)
    return extract(body, url=url, content_type=content_type)
