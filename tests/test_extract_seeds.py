"""The two seed copies, rendered as the pages they were scraped from, with their furniture.

The seed text is read at run time from ../shared/seeds (never copied into the repository); the
test splits each seed into article paragraphs and the boilerplate lines the scraper added, builds
a realistic page around them, and checks the extractor returns every article paragraph and none
of the furniture, with the credit line reported as a credit.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.extract import extract

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _seed(prefix: str) -> list[str]:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not files:
        pytest.skip(f"seed {prefix} not found under {SEEDS}")
    return [line.strip() for line in files[0].read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Seed:
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)
    caption: str = ""
    caption_credit: str = ""
    credit: str = ""
    site_name: str = ""
    notice: str = ""
    reply_title: str = ""
    reply_note: str = ""
    caption_at: int = -1  # index of the paragraph the figure follows


def _split(lines: list[str], headline: bool) -> Seed:
    """Sort a seed's lines into article paragraphs and the scraper's additions, by their form."""
    seed = Seed()
    if headline:
        seed.title, lines = lines[0], lines[1:]
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("Image") and nxt.startswith("Credit"):
            seed.caption, seed.caption_credit = line.removeprefix("Image"), nxt
            seed.caption_at = len(seed.paragraphs)
            i += 2
            continue
        if re.search(r"\bpublished in\b", line, re.I) and len(line) < 80:
            seed.credit = line
        elif line.lower().startswith("error:"):
            seed.notice = line
        elif line.lower().startswith("leave a"):
            seed.reply_title = line
        elif line.lower().startswith("your email address"):
            seed.reply_note = line
        elif len(line) < 40 and not re.search(r"[.!?”\"]$", line):
            seed.site_name = line
        else:
            seed.paragraphs.append(line)
        i += 1
    return seed


def _page(seed: Seed, site: str, *, classes: bool = True) -> str:
    """A WordPress-style scraper page. With classes=False the furniture carries no class hints."""
    e = html.escape
    c = (lambda name: f' class="{name}"') if classes else (lambda name: "")
    body = []
    for i, p in enumerate(seed.paragraphs):
        body.append(f"<p>{e(p)}</p>")
        if i + 1 == seed.caption_at:
            body.append(
                f'<figure{c("wp-block-image")}><span{c("visually-hidden")}>Image</span><img src="kabul.jpg" alt="">'
                f"<figcaption><span>{e(seed.caption)}</span> <span{c('credit')}>{e(seed.caption_credit)}</span>"
                "</figcaption></figure>"
            )
    if seed.credit:
        body.append(f"<p>{e(seed.credit)}</p>")
    if seed.site_name:
        body.append(f"<p><strong>{e(seed.site_name)}</strong></p>")
    reply = ""
    if seed.reply_title:
        reply = (
            f'<div id="respond"{c("comment-respond")}><h3 id="reply-title">{e(seed.reply_title)}</h3>'
            f'<form action="/wp-comments-post.php" method="post"><p>{e(seed.reply_note)}</p>'
            '<p><label for="comment">Comment</label><textarea id="comment" name="comment"></textarea></p>'
            '<p><input type="text" name="author"><input type="submit" value="Post Comment"></p></form></div>'
        )
    notice = f'<div id="wpcp-error-message"{c("msgmsg-box-wpcp hideme")}><span>error: </span>' \
             "Content is protected !!</div>" if seed.notice else ""
    h1 = f"<h1{c('entry-title')}>{e(seed.title)}</h1>" if seed.title else ""
    return f"""<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">
<title>{e(seed.title or "News")} – {e(site)}</title></head>
<body><div id="page">
<header{c("site-header")}><p{c("site-title")}><a href="/">{e(site)}</a></p>
<nav{c("main-navigation")}><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/about">About</a></li></ul></nav></header>
<div{c("site-content")}><main>
<article{c("post type-post")}>
<header{c("entry-header")}>{h1}<div{c("entry-meta")}>Posted on <time datetime="2020-11-21">November 21, 2020</time>
by admin</div></header>
<div{c("sharedaddy sd-sharing")}><h3>Share this:</h3><ul><li><a href="https://facebook.com/sharer">Facebook</a></li>
<li><a href="https://twitter.com/intent">Twitter</a></li></ul></div>
<div{c("entry-content")}>
{chr(10).join(body)}
</div>
<div{c("jp-relatedposts")}><h3>Related</h3><ul>
<li><a href="/a">Markets slip as oil prices rise again</a></li>
<li><a href="/b">Ten tips for a better garden</a></li></ul></div>
</article>
{reply}
</main>
<aside{c("widget-area")}><section><h2>Recent Posts</h2><ul><li><a href="/c">Stocks rally on earnings</a></li>
<li><a href="/d">New phone launched this week</a></li></ul></section>
<section><h2>Subscribe</h2><p>Get our newsletter every morning in your inbox.</p></section></aside>
</div>
<footer{c("site-footer")}><p>Copyright © 2020 {e(site)}. All rights reserved.</p></footer>
</div>{notice}</body></html>"""


def _norm(text: str) -> str:
    return " ".join(text.split())


def _check(seed: Seed, page: str, furniture: list[str]) -> None:
    out = extract(page.encode("utf-8"), url="https://scraper.example/news/kabul")
    got = [_norm(p) for p in out.paragraphs]
    assert got == [_norm(p) for p in seed.paragraphs]  # every paragraph, in order, and nothing else
    for line in furniture:
        assert line and _norm(line) not in _norm(out.text), line
    if seed.credit:
        assert seed.credit in out.credits
    if seed.title:
        assert out.title == seed.title


@pytest.mark.parametrize("classes", [True, False], ids=["themed", "bare-markup"])
def test_verbatim_seed_keeps_article_drops_furniture(classes: bool) -> None:
    seed = _split(_seed("000"), headline=False)
    assert seed.caption and seed.credit and seed.site_name and seed.notice  # the seed is as documented
    page = _page(seed, seed.site_name, classes=classes)
    _check(seed, page, [seed.caption, seed.caption_credit, seed.credit, seed.site_name, seed.notice,
                        "Share this", "Recent Posts", "Subscribe", "All rights reserved", "Posted on"])


@pytest.mark.parametrize("classes", [True, False], ids=["themed", "bare-markup"])
def test_spun_seed_keeps_article_drops_comment_form(classes: bool) -> None:
    seed = _split(_seed("001"), headline=True)
    assert seed.title and seed.reply_title and seed.reply_note
    page = _page(seed, "World News Daily", classes=classes)
    _check(seed, page, [seed.reply_title, seed.reply_note, "Post Comment", "Share this", "Related",
                        "Subscribe", "All rights reserved", "World News Daily"])


def test_seed_footer_pasted_as_plain_paragraphs() -> None:
    """A scraper that pastes its footer lines as plain paragraphs inside the article body."""
    seed = _split(_seed("000"), headline=False)
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in seed.paragraphs)
    tail = "".join(f"<p>{html.escape(x)}</p>" for x in (seed.credit, seed.site_name, seed.notice))
    page = f"<html><body><div><div>{paras}{tail}</div></div></body></html>"
    out = extract(page)
    assert [_norm(p) for p in out.paragraphs] == [_norm(p) for p in seed.paragraphs]
    assert out.credits == (seed.credit,)
