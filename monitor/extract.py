"""Turn a page's HTML into its article text, title and provenance metadata.

How the main text is found (selectolax, one parse, one walk):
1. Page furniture is removed by tag (nav, header, footer, aside, forms with fields, figcaption...)
   and by class/id words (comment, share, related, sidebar, cookie, subscribe...).
2. The remaining body is cut into text blocks (paragraphs, headings, list items, bare text
   between <br>s), each remembering the elements it sits in.
3. The article container is the deepest element that holds most of the page's "good" text
   (long blocks with few links). Blocks outside it are dropped.
4. Inside it, blocks made mostly of links and known furniture lines ("Leave A Reply",
   "error: Content is protected !!", "[ad_1]") are dropped, and credit lines ("Originally
   published in ...", "Source link", "via ...") are reported as credits, not as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

REMOVE_TAGS = (
    "script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
    "nav", "header", "footer", "aside", "figcaption", "button", "select", "textarea", "input",
    "label", "dialog", "menu",
)
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
    "ol", "dl", "dt", "dd", "blockquote", "pre", "table", "thead", "tbody", "tr", "td", "th",
    "figure", "hr", "br", "address", "center", "details", "summary", "form", "fieldset", "body",
})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Words in class or id that mark page furniture. Matched as whole words inside the attribute.
FURNITURE_ATTR = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-?(?:form|respond|list)|respond|reply|share|sharing|sharedaddy|"
    r"social|related|sidebar|widget|cookie|consent|gdpr|subscribe|subscription|newsletter|signup|"
    r"advert|advertisement|ads?|ad-?slot|promo|sponsor(?:ed)?|breadcrumbs?|menu|navbar|nav|"
    r"footer|masthead|popup|modal|outbrain|taboola|jp-relatedposts|wp-caption-text|caption|"
    r"credits?|byline|author-bio|tags|tag-?list|post-?meta|entry-?meta|pagination|pager|skip-link)"
    r"(?:$|[\s_-])",
    re.I,
)
KEEP_TAGS = frozenset({"html", "body", "main", "article"})
FURNITURE_LINE = re.compile(
    r"^(?:leave a (?:reply|comment)|post a comment|add a comment|\d+ comments?|comments?|"
    r"your email address will not be published.*|required fields are marked.*|"
    r"error: content is protected.*|\[ad_\d+\]|advertisement|sponsored( content)?|"
    r"share( this( article| story| post)?)?:?|share on \w+|tweet|email|print|"
    r"follow us.*|subscribe.*|sign up for .*newsletter.*|"
    r"related( posts| articles| stories)?:?|read more:?|you may also like:?|more from .*|"
    r"all rights reserved.*|(?:©|\(c\)|copyright) .*|click here to .*|"
    r"(?:image|photo|picture)(?: credit)?:.*|credit\s*(?:…|\.\.\.|:).*|tags?:.*|filed under:?.*|"
    r"posted in:?.*|previous (?:post|article)|next (?:post|article))$",
    re.I,
)
CREDIT_LINE = re.compile(
    r"^(?:(?:originally|orignially|originaly|first) (?:published|posted|appeared)\b.*|"
    r"(?:this|the) (?:article|story|post) (?:was |first |originally )+(?:published|appeared)\b.*|"
    r"source(?: link)?\b.*|via\b.*|courtesy(?: of)?\b.*|reprinted\b.*|republished\b.*)$",
    re.I,
)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
WS = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


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

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["credits"] = list(self.credits)
        d["credit_links"] = list(self.credit_links)
        d["links"] = list(self.links)
        return d


@dataclass
class _Block:
    text: str
    tag: str
    link_chars: int
    ancestors: tuple[int, ...]
    links: list[str]


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode page bytes: HTTP charset, then <meta charset>, then UTF-8, then cp1252."""
    candidates: list[str] = []
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type or "", re.I)
    if m:
        candidates.append(m.group(1))
    if body.startswith(b"\xef\xbb\xbf"):
        candidates.insert(0, "utf-8-sig")
    m2 = META_CHARSET.search(body[:4096])
    if m2:
        candidates.append(m2.group(1).decode("ascii", "ignore"))
    candidates += ["utf-8", "cp1252"]
    for enc in candidates:
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


def clean_ws(text: str) -> str:
    return WS.sub(" ", text).strip()


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
            data = json.loads(node.text() or "")
        except ValueError:
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
                if any(isinstance(k, str) and k.endswith(("Article", "BlogPosting", "Report"))
                       for k in kinds):
                    return item
    return {}


def _ld_author(ld: dict[str, Any]) -> str:
    author = ld.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    if isinstance(author, dict):
        author = author.get("name")
    return author.strip() if isinstance(author, str) else ""


def _is_furniture(node: LexborNode) -> bool:
    if node.tag in KEEP_TAGS:
        return False
    attrs = node.attributes
    role = (attrs.get("role") or "").lower()
    if role in {"navigation", "banner", "contentinfo", "complementary", "search", "dialog"}:
        return True
    if (attrs.get("aria-hidden") or "").lower() == "true" or "hidden" in attrs:
        return True
    style = (attrs.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    marker = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    return bool(marker.strip()) and FURNITURE_ATTR.search(marker) is not None


def _strip_furniture(body: LexborNode) -> None:
    for tag in REMOVE_TAGS:
        for node in body.css(tag):
            node.decompose()
    # A form with fields (comment form, search, newsletter) is furniture; a page-wide ASP.NET form
    # that wraps the whole article is not, so only forms that hold little text go.
    total = len(body.text(separator=" ", strip=True)) or 1
    for form in body.css("form"):
        if len(form.text(separator=" ", strip=True)) < 0.5 * total:
            form.decompose()
    for node in body.css("[class], [id], [role], [style], [aria-hidden], [hidden]"):
        if _is_furniture(node):
            node.decompose()


def _blocks(root: LexborNode) -> list[_Block]:
    blocks: list[_Block] = []
    buf: list[str] = []
    link_chars = 0
    links: list[str] = []
    stack: list[int] = []
    tag_stack: list[str] = []

    def flush() -> None:
        nonlocal link_chars
        text = clean_ws("".join(buf))
        if text:
            tag = next((t for t in reversed(tag_stack) if t in BLOCK_TAGS), "div")
            blocks.append(_Block(text, tag, link_chars, tuple(stack), list(links)))
        buf.clear()
        links.clear()
        link_chars = 0

    def walk(node: LexborNode, in_link: bool) -> None:
        nonlocal link_chars
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                t = child.text_content or ""
                buf.append(t)
                if in_link:
                    link_chars += len(t.strip())
                continue
            if tag in ("-comment", None):
                continue
            is_block = tag in BLOCK_TAGS
            if is_block:
                flush()
            stack.append(child.mem_id)
            tag_stack.append(tag)
            if tag == "a":
                href = child.attributes.get("href")
                if href:
                    links.append(href)
            walk(child, in_link or tag == "a")
            if is_block:
                flush()
            stack.pop()
            tag_stack.pop()

    stack.append(root.mem_id)
    tag_stack.append(root.tag or "body")
    walk(root, False)
    flush()
    return blocks


def _container(blocks: list[_Block], share: float = 0.6) -> int | None:
    """The deepest element holding at least `share` of the page's good text."""
    weight: dict[int, int] = {}
    depth: dict[int, int] = {}
    total = 0
    for b in blocks:
        n = len(b.text)
        if n < 40 or b.link_chars > 0.3 * n or b.tag in HEADINGS:
            continue
        total += n
        for d, anc in enumerate(b.ancestors):
            weight[anc] = weight.get(anc, 0) + n
            depth[anc] = d
    if not total:
        return None
    best = [a for a, w in weight.items() if w >= share * total]
    return max(best, key=lambda a: depth[a]) if best else None


def _title(tree: LexborHTMLParser, ld: dict[str, Any]) -> str:
    for value in (
        _meta(tree, 'meta[property="og:title"]', 'meta[name="twitter:title"]'),
        ld.get("headline") if isinstance(ld.get("headline"), str) else "",
    ):
        if value:
            return clean_ws(value)
    h1 = tree.css_first("h1")
    if h1 is not None and h1.text(strip=True):
        return clean_ws(h1.text(separator=" "))
    t = tree.css_first("title")
    return clean_ws(t.text()) if t is not None else ""


def extract(html: str | bytes, url: str = "", content_type: str = "") -> Extracted:
    """Extract article text and metadata. Never raises on bad markup; empty text if none found."""
    if isinstance(html, bytes):
        html = decode_html(html, content_type)
    html = html.replace("\x00", "")
    tree = LexborHTMLParser(html)
    ld = _json_ld(tree)
    root = tree.root
    lang = (root.attributes.get("lang") or "").strip() if root is not None else ""
    canonical = _meta(tree, 'link[rel="canonical"]', attr="href")
    og_url = _meta(tree, 'meta[property="og:url"]')
    author = _meta(tree, 'meta[name="author"]', 'meta[property="article:author"]') or _ld_author(ld)
    published = _meta(
        tree, 'meta[property="article:published_time"]', 'meta[name="date"]', 'meta[itemprop="datePublished"]'
    ) or (ld.get("datePublished") if isinstance(ld.get("datePublished"), str) else "")
    if not published:
        published = _meta(tree, "time[datetime]", attr="datetime")
    title = _title(tree, ld)

    body = tree.body
    all_links: list[str] = []
    paragraphs: list[str] = []
    credits: list[str] = []
    credit_links: list[str] = []
    if body is not None:
        for a in body.css("a[href]"):
            href = (a.attributes.get("href") or "").strip()
            if href and not href.startswith(("javascript:", "mailto:", "#")):
                all_links.append(urldefrag(urljoin(url, href))[0] if url else href)
        _strip_furniture(body)
        blocks = _blocks(body)
        box = _container(blocks)
        inside = [i for i, b in enumerate(blocks) if box is None or box in b.ancestors]
        # Credit lines often sit just after the article container.
        tail = range(inside[-1] + 1, min(inside[-1] + 4, len(blocks))) if inside else range(0)
        for i in [*inside, *tail]:
            b = blocks[i]
            text = b.text
            if CREDIT_LINE.match(text) and len(text) < 300:
                credits.append(text)
                credit_links += [urljoin(url, h) if url else h for h in b.links]
                continue
            if i not in inside:
                continue
            if len(text) < 200 and FURNITURE_LINE.match(text):
                continue
            if b.link_chars > 0.5 * len(text):
                continue
            if b.tag in HEADINGS and text == title:
                continue
            paragraphs.append(text)
        # A scraper's site name or signature often trails the article: short lines, no sentence.
        while paragraphs and len(paragraphs[-1]) < 50 and not re.search(r"[.!?\"”’)]$", paragraphs[-1]):
            paragraphs.pop()
    if not paragraphs and isinstance(ld.get("articleBody"), str):
        paragraphs = [clean_ws(p) for p in re.split(r"\n\s*\n|\r?\n", ld["articleBody"]) if p.strip()]
    return Extracted(
        title=title,
        text="\n\n".join(paragraphs),
        canonical_url=urljoin(url, canonical) if canonical and url else canonical,
        og_url=og_url,
        author=clean_ws(author),
        published=published,
        language=lang,
        credits=tuple(credits),
        credit_links=tuple(dict.fromkeys(credit_links)),
        links=tuple(dict.fromkeys(all_links)),
    )


def text_of(body: bytes, content_type: str, url: str) -> Extracted:
    """Plain-text files are taken as they are (offsets count their characters); HTML is extracted."""
    ctype = content_type.lower()
    if ctype.startswith("text/plain") or (not ctype and url.lower().endswith(".txt")):
        text = decode_html(body, content_type)
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return Extracted(title=first if len(first) <= 120 else first[:119] + "…", text=text)
    return extract(body, url=url, content_type=content_type)
