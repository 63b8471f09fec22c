"""A page that quotes the article itself: its quotation of the article's own telling is copied text, not a source
both quote (text.cited_spans, scan.citations). Texts written for these tests; everything in them is invented."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from monitor.config import MatchSettings
from monitor.extract import text_of
from monitor.match import Prepared, compare
from monitor.text import cited_spans
from tests.conftest import Served, provmon, rows, write_config

CFG = MatchSettings()
ARTICLE_URL = "https://dunmoreherald.example/news/bridge-closure"

ARTICLE = """Harbour bridge to close for six weeks of repairs

The Dunmore harbour bridge will close to all traffic for six weeks from the start of March while engineers replace \
its corroded bearings, the county council announced on Tuesday.

The 1962 structure carries about 14,000 vehicles a day between the town centre and the eastern estates, and drivers \
will be sent on a signed diversion of almost nine miles through Kelby and Arnton.

Inspectors found last autumn that four of the bridge's twelve steel bearings had rusted so badly that the deck was no \
longer resting evenly on its piers.

A temporary footbridge for pedestrians and cyclists will be lifted into place beside the road deck before the \
closure begins, and a free shuttle bus will run every twenty minutes at peak times.

Council leader Maureen Ashby said: "We know this will be hard for people who cross the bridge every day, but the \
alternative is a much longer closure later."

Businesses on Quay Street, which sits at the western end of the bridge, have asked for a cut in business rates while \
the work goes on, saying trade fell by a third during a shorter closure in 2019.

The council said it would consider the request at its February meeting but could not promise any relief.

The repairs are expected to cost £3.2 million, most of it paid for by a national fund for ageing road structures.
"""
PARAS = ARTICLE.split("\n\n")
OWN_OPENING = ("I have lived in the eastern estates for twenty years and I cross the harbour bridge twice a day, so "
               "the news this week hit home.")
OWN_CLOSE = ["Honestly, I am not surprised. The bridge has been creaking for years and everyone in our street has a "
             "story about the potholes on the eastern ramp.",
             "What worries me more is the diversion. My daughter's school run will take forty minutes instead of ten, "
             "and I doubt the shuttle bus will be of any use to us.",
             "I will be writing to my councillor about it this weekend, and I suggest you do the same if you live out "
             "this way."]
MORE_OWN = ["When the bridge shut for three weeks in 2019 I tried the bus, the train and finally my bike, and none of "
            "them got me to the industrial park before eight.",
            "The ferry that used to run from the slipway below the old customs house would have been the answer, but "
            "it stopped in the nineties and nobody has talked about bringing it back."]
EXCERPT = [PARAS[3], PARAS[4], PARAS[6]]  # three paragraphs, not in a row: a third of the article


def blog(lead_in: str, excerpt: list[str] = EXCERPT) -> str:
    """A blogger's post: their own opening, the lead-in, the excerpt pasted as a block, their own thoughts."""
    return "\n\n".join(["My thoughts on the bridge closure", OWN_OPENING, lead_in, *excerpt, *OWN_CLOSE])


def test_a_block_after_a_lead_in_naming_the_publication_is_cited() -> None:
    page = blog("The Dunmore Herald wrote on Tuesday:")
    (span,) = cited_spans(page, ["Dunmore Herald"])
    assert page[span[0]:span[1]] == EXCERPT[0]  # the block the lead-in quotes (block_quote_spans: one paragraph)
    assert cited_spans(page, ["Kelby Gazette"]) == [] and cited_spans(page) == []
    assert cited_spans(page, ["The Dunmore Herald"]) and cited_spans(page, ["dunmore herald"])  # a host: any case
    assert cited_spans(page, ["Dunmore herald"]) == [] and cited_spans(page, ["Heral"]) == []  # as written, whole


def test_a_cited_reading_keeps_the_plain_one_it_was_made_from() -> None:
    """The page read with its citations carries the plain reading (compare's fallback, the verifier's page), made
    from the same words: only the cited quotation reads otherwise. A plain reading of another text is not used."""
    page = blog("The Dunmore Herald wrote on Tuesday:")
    spans = cited_spans(page, ["Dunmore Herald"])
    plain = Prepared.of(page)
    cited = Prepared.of(page, spans, plain=plain)
    assert cited.plain is plain and plain.plain is plain and cited == Prepared.of(page, spans)
    inside = [a.start >= spans[0][0] and a.end <= spans[0][1] for a in plain.tokens]
    assert any(inside) and all(a.quoted for a, i in zip(plain.tokens, inside, strict=True) if i)
    assert [(a.start, a.quoted and not i) for a, i in zip(plain.tokens, inside, strict=True)] == \
        [(b.start, b.quoted) for b in cited.tokens]
    other = Prepared.of(blog("The Dunmore Herald wrote on Monday:"))
    assert Prepared.of(page, spans, plain=other).plain.text == page
    assert Prepared.of(page, spans, plain=cited).plain.cited == ()


def test_the_quoted_excerpt_is_a_copy_only_when_the_page_gives_it_to_the_article() -> None:
    article = Prepared.of(ARTICLE)
    page = blog("The Dunmore Herald wrote on Tuesday:")
    # Read as a quotation of a source (a statement both quote), the block is no copied telling: the pasted
    # paragraphs left are two, not in the article's order, and no copy.
    assert compare(article, Prepared.of(page), CFG) is None
    m = compare(article, Prepared.of(page, cited_spans(page, ["Dunmore Herald"])), CFG)
    assert m is not None and m.kind == "partial" and 0.35 < m.coverage < 0.5
    # Without the lead-in the same paste was always a copy: the citation only stops it hiding as quotation.
    assert compare(article, Prepared.of(blog("")), CFG) is not None


LEAD_INS = ["The Dunmore Herald has reported:", "The Dunmore Herald is reporting:", "Dunmore Herald:",
            "Here's what the Dunmore Herald had to say:", "Via the Dunmore Herald:", "THE DUNMORE HERALD WROTE:",
            "The Dunmore Herald's Sam Okafor writes:", "According to the Dunmore Herald:",
            "The Dunmore Herald reported this morning:", "As the Dunmore Herald put it:",
            "The Dunmore Herald has the story:", "Here's the story from the Dunmore Herald:",
            "The Dunmore Herald's chief reporter Sam Okafor wrote on Saturday:",
            "The Dunmore Herald reported (our translation):", "Sam Okafor wrote in the Dunmore Herald:",
            "The Dunmore Herald, our local paper, wrote on Tuesday:",  # an aside in commas
            "The Dunmore Herald's chief reporter, Sam Okafor, wrote:"]


def test_ways_of_giving_quoted_paragraphs_to_the_paper() -> None:
    article = Prepared.of(ARTICLE)
    quoted = [f"\u201c{p}\u201d" for p in EXCERPT]
    pages = {lead: [lead, *quoted] for lead in LEAD_INS}
    pages["signed in brackets"] = [*quoted, "(Dunmore Herald, Tuesday)"]
    pages["elided"] = ["The Dunmore Herald wrote:", quoted[0], "[...]", quoted[1], "[\u2026]", quoted[2]]
    pages["first on the lead-in's line"] = [f"The Dunmore Herald wrote: {quoted[0]}", *quoted[1:]]
    for after in ("(Emphasis mine.)", "---", "\u2014 Sam Okafor, chief reporter"):  # no signature of another's
        pages[after] = ["The Dunmore Herald wrote:", *quoted, after]
    for name, middle in pages.items():
        page = "\n\n".join(["My thoughts on the bridge closure", OWN_OPENING, *MORE_OWN, *middle, *OWN_CLOSE])
        spans = cited_spans(page, ["Dunmore Herald"])
        assert [page[a:b].strip("\u201c\u201d") for a, b in spans] == EXCERPT, name
        assert compare(article, Prepared.of(page), CFG) is None, name
        assert compare(article, Prepared.of(page, spans), CFG) is not None, name


def test_quoted_paragraphs_after_a_citing_line() -> None:
    article = Prepared.of(ARTICLE)
    q = ("\u201c", "\u201d")
    layouts = {
        # News style: a quote of several paragraphs opens each with a quotation mark and closes only the last.
        "open": [f"As the Dunmore Herald put it on Tuesday, {q[0]}{PARAS[3]}", f"{q[0]}{PARAS[4]}",
                 f"{q[0]}{PARAS[6]}{q[1]}"],
        # A blogger's: each pasted paragraph in quotation marks of its own, after a lead-in naming the paper.
        "closed": ["Here is the Dunmore Herald's story:", f"{q[0]}{PARAS[3]}{q[1]}", f"{q[0]}{PARAS[4]}{q[1]}",
                   f"{q[0]}{PARAS[6]}{q[1]}"],
        "from": ["From the Dunmore Herald on Tuesday:", *(f'"{p}"' for p in EXCERPT)],
    }
    for name, quoted in layouts.items():
        page = "\n\n".join(["My thoughts on the bridge closure", OWN_OPENING, *MORE_OWN, *quoted, *OWN_CLOSE])
        assert not Prepared.of(page).mostly_quoted  # a page mostly of quotation is read as the article's anyway
        spans = cited_spans(page, ["Dunmore Herald"])
        assert [page[a:b].strip("\u201c\u201d\"") for a, b in spans] == EXCERPT, name
        assert compare(article, Prepared.of(page), CFG) is None, name
        assert compare(article, Prepared.of(page, spans), CFG) is not None, name
    # Quotation in the paragraphs before the citing one is not the article's.
    before = page.replace("From the Dunmore Herald on Tuesday:", "More about the bridge below.")
    assert cited_spans(before + "\n\nFrom the Dunmore Herald on Tuesday.", ["Dunmore Herald"]) == []


def test_a_link_to_the_article_names_it_by_its_words() -> None:
    page = blog("Our local paper wrote on Tuesday:")
    assert cited_spans(page, [], [("Our local paper", "Our local paper wrote on Tuesday:")])
    assert cited_spans(page, [], [("I have lived", OWN_OPENING)]) == []  # a link in a paragraph quoting nothing
    # Bloggers link a speaker or a verb to the story they read it in: that names no paper, only a link's words that
    # name the paper ("paper", "story", a credit name, the site's name) do.
    assert cited_spans(page, [], [("wrote", "Our local paper wrote on Tuesday:")]) == []
    named = blog("The Dunmore Herald wrote on Tuesday:")
    assert cited_spans(named, [], [("The Dunmore Herald", "The Dunmore Herald wrote on Tuesday:")]) == []
    assert cited_spans(named, [], [("The Dunmore Herald", "The Dunmore Herald wrote on Tuesday:")],
                       host="dunmoreherald.example")
    speaker = blog("The council said in a statement on Tuesday:")
    assert cited_spans(speaker, [], [("The council", "The council said in a statement on Tuesday:")],
                       host="dunmoreherald.example") == []
    # A link on words that make the article no writer: "first reported" by someone, a verb passive.
    page = blog("The closure, first reported on Monday, was announced by the council:")
    assert cited_spans(page, [], [("first reported", page.split("\n\n")[2])]) == []


# An independent report that names the publisher (it followed the Herald's story up) but gives its quotes to the
# police and the council: the article carries the police release as its own opening. Those quotes stay quotation.
RELEASE = ["Officers were called to the junction of Hollin Road and Pike Street at around 4.40pm on Sunday following "
           "reports of a collision between a van and a motorcycle.",
           "The rider of the motorcycle, a 27-year-old man from Brantham, was taken to Westmere General Hospital with "
           "injuries described as life-changing.",
           "The driver of the van, a 51-year-old man, was arrested on suspicion of driving while unfit through drink "
           "and has since been released under investigation."]
CRASH = "\n\n".join(["Motorcyclist seriously hurt in Brantham crash", *RELEASE,
                     "Hollin Road was closed for more than five hours while collision investigators worked at the "
                     "scene.",
                     "Neighbours said the junction had seen several near misses since the bus lane was moved last "
                     "spring.",
                     "The force has asked anyone with dashcam footage to come forward, quoting incident 388 of 14 "
                     "September."])


def follow_up(*release: str) -> str:
    return "\n\n".join([
        "Calls for crossing after Brantham junction crash",
        "Residents of Pike Street have renewed calls for a pedestrian crossing after a motorcyclist was badly hurt at "
        "the Hollin Road junction on Sunday afternoon, as the Dunmore Herald first reported.",
        *release,
        "Margaret Oyelaran, who has lived on Pike Street for twenty years, said traffic now cut through the estate "
        "to avoid the lights. \u201cIt is only a matter of time before a child is hit,\u201d she said.",
        "Pike Street has no crossing between the school gates and the bus station, a stretch of almost half a mile, "
        "and parents say children cross between parked cars on the way to the shops.",
        "The county council said a review of the junction was already planned for the new year, and that it would "
        "consider the residents' petition, which has more than 600 signatures."])


BLOCK = " ".join(RELEASE)
L, R = "\u201c", "\u201d"
QUOTED = [f"{L}{r}{R}" for r in RELEASE]  # one paragraph each, in quotation marks
OTHERS = {  # the police's words, whoever else the paragraph names (a review's cases)
    "said": ["A spokesperson for Westmere Police said:", BLOCK],
    "told": ["A spokesperson for Westmere Police told the Dunmore Herald on Monday:", BLOCK],
    "published by": ["In a statement first published by the Dunmore Herald, police said:", BLOCK],
    "responding to": ["Responding to the Dunmore Herald's report, the force said:", BLOCK],
    "asked": ["The Dunmore Herald asked the force what had happened. It replied:", BLOCK],
    "reported that": ["The Dunmore Herald reported that a police spokesperson said:", BLOCK],
    "inline": [f"The crash, first reported by the Dunmore Herald, was confirmed by police on Monday: {L}{BLOCK}{R}"],
    "continued": [f"Police confirmed the crash to the Dunmore Herald, saying in a statement: {L}{RELEASE[0]}",
                  f"{L}{RELEASE[1]}", f"{L}{RELEASE[2]}{R}"],
    "closed quote": [f"The Dunmore Herald reported on Monday that residents were angry, and quoted one who called the "
                     f"junction {L}a death trap.{R}", f"{L}{RELEASE[0]} {RELEASE[1]}{R} a police spokesperson said. "
                     f"{L}{RELEASE[2]}{R}"],
    "another paper": ["A spokesperson for Westmere Police told the Kelby Herald:", BLOCK],
    # A clause gives only the quotation of its own sentence, or the one right after the colon that ends it.
    "sentence after": ["Residents first complained about the junction in 2022, the Dunmore Herald reported then. "
                       "Police released this statement on Monday:", *QUOTED],
    "according to, then": [f"According to the Dunmore Herald, the rider was 27. The police statement: {L}{BLOCK}{R}"],
    "wrote, then": [f"The Dunmore Herald wrote on Monday: {L}A man was hurt.{R} The police account: {L}{BLOCK}{R}"],
    "before, a sentence away": [f"Police said in a statement: {L}{BLOCK}{R} The Dunmore Herald reported on Monday that "
                                "the rider was from Brantham."],
    "citing": ["The Dunmore Herald reported, citing police:", *QUOTED],
    "statement read": ["The Dunmore Herald reported that the police statement read:", *QUOTED],
    "put to": ["The Dunmore Herald put the residents' claims to the force on Monday. Its response:", f"{L}{BLOCK}{R}"],
    "published in full": ["The Dunmore Herald published the police statement in full on Monday:", *QUOTED],
    "questions from": ["In response to questions from the Dunmore Herald, police issued this statement:", *QUOTED],
    "quoted in": ["The force, in a statement quoted in the Dunmore Herald, described the crash:", *QUOTED],
    # A word saying what is quoted says whose it is; a signature or a lead-in of someone else's bounds a quotation.
    "reported the appeal": ["The Dunmore Herald reported the force's appeal on Monday:", *QUOTED],
    "according to, what": ["According to the Dunmore Herald, the police statement showed:", *QUOTED],
    "editor said": ["The Dunmore Herald's editor said on Monday:", *QUOTED],
    "signed past a lead-in": ["A police spokesperson said on Monday:", *QUOTED,
                              f"{L}It is a dangerous junction.{R} \u2014 Dunmore Herald"],
    "signed by the police": [f"The Dunmore Herald reported on Monday: {L}Residents have asked for a crossing for "
                             "years.", *QUOTED, "\u2014 Westmere Police, Monday"],
    "said in": ["A police spokesperson said in the Dunmore Herald on Monday:", *QUOTED],
    "aside": ["The Dunmore Herald reported (quoting the police statement):", *QUOTED],
    # An aside in commas is passed over only when it describes: not when it speaks, or makes the paper an audience.
    "aside, contacted": ["The Dunmore Herald, contacted by us on Monday, said:", *QUOTED],
    "aside, another speaker": ["The Dunmore Herald, a police spokesperson said, reported:", *QUOTED],
    "aside, a list": ["The Dunmore Herald, the Kelby Gazette and the Westmere Post all reported:", *QUOTED],
    "aside, the editor": ["The Dunmore Herald's editor, Ruth Calder, said on Monday:", *QUOTED],
    "closed quote, others after": [f"Residents were, as the Dunmore Herald put it, {L}furious.{R}",
                                   *QUOTED],
}


def test_quotation_the_page_gives_to_someone_else_stays_quotation() -> None:
    crash = Prepared.of(CRASH)
    # The release pasted as the page's own text is a copy of the article's opening: only the quotation reading
    # keeps each page below from being one.
    assert compare(crash, Prepared.of(follow_up(BLOCK)), CFG) is not None
    for name, release in OTHERS.items():
        page = follow_up(*release)
        names = ["Dunmore Herald", "Herald"] if name == "another paper" else ["Dunmore Herald"]
        spans = cited_spans(page, names)
        assert all("Officers were called" not in page[a:b] for a, b in spans), name
        assert compare(crash, Prepared.of(page, spans), CFG) is None, name
        # A link on the paper's name in that paragraph reads the same; so do links on the speaker and the verb.
        paras = page.split("\n\n")
        linked = [(w, p) for p in paras for w in ("Dunmore Herald", "police", "Police", "said") if w in p]
        spans = cited_spans(page, [], linked, host="dunmoreherald.example")
        assert compare(crash, Prepared.of(page, spans), CFG) is None, name


def test_an_opening_quoted_from_the_article_is_no_feed_excerpt() -> None:
    """A press review quotes a paper's first two sentences by name: fair quotation, not the excerpt a scraper takes
    from a feed (match._lede_copied), which the same two sentences as the page's own text are."""
    article = Prepared.of(ARTICLE)
    lede = f"{PARAS[1]} {PARAS[2]}"
    own = ["What the papers say: Wednesday", "The harbour bridge dominates the local front pages this morning.",
           *MORE_OWN, "Elsewhere, the county's new recycling contract has been delayed until the summer, and the "
           "ferry campaign has a new chair."]
    page = "\n\n".join([*own[:2], f"The Dunmore Herald wrote on Tuesday: {L}{lede}{R}", *own[2:]])
    spans = cited_spans(page, ["Dunmore Herald"])
    assert spans and not Prepared.of(page).mostly_quoted
    assert compare(article, Prepared.of(page, spans), CFG) is None
    assert compare(article, Prepared.of("\n\n".join([*own[:2], lede, *own[2:]])), CFG) is not None


def render(title: str, paragraphs: list[str]) -> str:
    body = "".join(p if p.startswith("<") else f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>A bridge commuter's blog</footer></body></html>")


def blog_html(lead_in: str) -> str:
    quoted = "".join(f"<p>{html.escape(p)}</p>" for p in EXCERPT)
    return render("My thoughts on the bridge closure",
                  [OWN_OPENING, f"<p>{lead_in}</p>", f"<blockquote>{quoted}</blockquote>", *OWN_CLOSE])


def test_the_extractor_keeps_each_text_link_with_its_paragraph() -> None:
    page = text_of(blog_html(f"<a href='{ARTICLE_URL}'>Our local paper</a> wrote on Tuesday:").encode(), "text/html",
                   "https://blog.example/bridge")
    assert (ARTICLE_URL, "Our local paper", "Our local paper wrote on Tuesday:") in page.text_links
    assert all(u != "https://blog.example/" for u, _, _ in page.text_links)  # the navigation is not the text
    # A lead-in that is mostly its link is no navigation line: it stays in the text, with its link.
    short = text_of(blog_html(f"<a href='{ARTICLE_URL}'>The Dunmore Herald</a> wrote:").encode(), "text/html",
                    "https://blog.example/bridge")
    assert "\n\nThe Dunmore Herald wrote:\n\n" in short.text
    assert (ARTICLE_URL, "The Dunmore Herald", "The Dunmore Herald wrote:") in short.text_links
    # A link's words keep their spaces, whatever elements and line breaks they are split over.
    split = text_of(blog_html(f"<a href='{ARTICLE_URL}'><span>The</span> <span>Dunmore</span><br>Herald</a> wrote:")
                    .encode(), "text/html", "https://blog.example/bridge")
    assert [w for u, w, _ in split.text_links if u == ARTICLE_URL] == ["The Dunmore Herald"]
    # Two links to one address in a paragraph keep their own words.
    two = text_of(blog_html(f"The story <a href='{ARTICLE_URL}'>is here</a>; <a href='{ARTICLE_URL}'>the <b>local</b> "
                            "paper</a> wrote on Tuesday:").encode(), "text/html", "https://blog.example/bridge")
    assert [w for u, w, _ in two.text_links if u == ARTICLE_URL] == ["is here", "the local paper"]


def test_a_blog_quoting_the_article_it_links_to_raises_an_alert(tmp_path: Path,
                                                                 http_dir: Callable[[Path], Served]) -> None:
    original = tmp_path / "bridge.txt"
    original.write_text(ARTICLE, encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "linked.html").write_text(blog_html(f"<a href='{ARTICLE_URL}'>Our local paper</a> wrote on Tuesday:"))
    (site / "unlinked.html").write_text(blog_html("Our local paper wrote on Tuesday:"))
    (site / "index.html").write_text(render("Posts", ["<p><a href='linked.html'>One</a></p>",
                                                      "<p><a href='unlinked.html'>Two</a></p>"]))
    served = http_dir(site)
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
[[track]]
source = "{original}"
url = "{ARTICLE_URL}"
[[sites]]
name = "blog"
start_urls = ["{served.base}/index.html"]
allow_private = true
""")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    alerts = rows(tmp_path / "provmon.db", "SELECT copy_url, kind, credit, coverage FROM alerts")
    # The post that links to the article gives it the pasted paragraphs; the one that does not (and names no
    # publication of the owner's) is read as quoting a source, as an independent report would.
    assert [(Path(a["copy_url"]).name, a["kind"], a["credit"]) for a in alerts] == [("linked.html", "partial", "link")]
    assert 0.35 < alerts[0]["coverage"] < 0.5

    # `check` reads the same page the same way, and an owner's publication named in the lead-in does as a link does.
    (tmp_path / "named.html").write_text(blog_html("The Dunmore Herald wrote on Tuesday:"))
    named_cfg = tmp_path / "named.toml"
    named_cfg.write_text(cfg.read_text() + '\n[owner]\ncredit_names = ["Dunmore Herald"]\n')
    r = provmon("--config", str(named_cfg), "check", "--json", str(tmp_path / "named.html"), str(site / "linked.html"),
                str(site / "unlinked.html"))
    assert r.code == 0, r.err
    assert [len(x["copies"]) for x in r.json_lines()] == [1, 1, 0]


def test_a_quotation_signed_with_a_dash_is_the_papers() -> None:
    article = Prepared.of(ARTICLE)
    signed = [*(f"\u201c{p}\u201d" for p in EXCERPT), "\u2014 Dunmore Herald, Tuesday"]
    page = "\n\n".join(["My thoughts on the bridge closure", OWN_OPENING, *MORE_OWN, *signed, *OWN_CLOSE])
    spans = cited_spans(page, ["Dunmore Herald"])
    assert [page[a:b].strip("\u201c\u201d") for a, b in spans] == EXCERPT
    assert compare(article, Prepared.of(page), CFG) is None
    assert compare(article, Prepared.of(page, spans), CFG) is not None
    # The dash on the last quoted line signs the quoted lines above it as well.
    last = page.replace("\u201d\n\n\u2014 Dunmore Herald, Tuesday", "\u201d \u2014 Dunmore Herald, Tuesday")
    assert [last[a:b].strip("\u201c\u201d") for a, b in cited_spans(last, ["Dunmore Herald"])] == EXCERPT
    # On one line: the quotation right before the dash.
    inline = f"\u201c{PARAS[3]}\u201d \u2014 Dunmore Herald"
    (span,) = cited_spans(inline, ["Dunmore Herald"])
    assert inline[span[0]:span[1]].strip("\u201c\u201d") == PARAS[3]
    # A quoted paragraph with a speaker of its own in between stops the signature reaching further up.
    spoken = page.replace(f"\u201c{EXCERPT[1]}\u201d", "\u201cWe are sorry,\u201d the council said.")
    assert [spoken[a:b].strip("\u201c\u201d") for a, b in cited_spans(spoken, ["Dunmore Herald"])] == [EXCERPT[2]]


# A rival's explainer on a story the article broke, in its own words, quoting one paragraph of the article's by name
# (the council's guidance, which the article prints as its own text). Written for review 22 of this rule.
BINS = "\n\n".join([
    "Council suspends bin contractor after three weeks of missed collections",
    "Dunmore District Council has suspended its waste collection contract with Greyfield Environmental "
    "after more than 9,000 households in the north of the town went without a bin collection for up to "
    "three weeks.",
    "The council's cabinet took the decision at an emergency meeting on Thursday evening. From Monday, "
    "collections in the Northgate, Ashcombe and Millbrook wards will be carried out by the council's own "
    "crews, using lorries hired from the neighbouring Westmere authority.",
    "Greyfield Environmental has been given 28 days to show how it will meet the standards set out in its"
    " contract. If it cannot, the council will move to end the agreement, which has four years left to "
    "run and is worth about £4.1 million a year.",
    "Residents whose collections were missed are asked to put their bins out as normal on their usual "
    "day. Extra waste will be taken on the first collection after Monday, provided it is in tied bags and"
    " placed beside the bin. Garden waste collections will resume the following week, and no charge will "
    "be made for the missed rounds.",
    "The trouble began in the middle of February, when Greyfield withdrew six of its twelve collection "
    "lorries for repairs after they failed a roadside safety inspection. Crews were moved between rounds "
    "to cover the gaps, but by the end of the month whole streets had been missed two or three times in a"
    " row.",
    "Council leader Maureen Ashby said: \"People pay for a service and they have not been getting it. We "
    "have been patient with the company, but that patience has now run out.\"",
    "In Millbrook, residents said rubbish had piled up in back lanes and gulls had torn open bags left on"
    " the pavement. Pat Roarke, who lives on Tanner's Row, said her street had not seen a bin lorry since"
    " the ninth of February. \"The smell in the lane is awful, and the children walk past it on their way "
    "to school,\" she said.",
    "Environmental health officers visited two streets in the ward on Wednesday after complaints about "
    "rats, and the council has sent pest control teams to both.",
    "A spokesman for Greyfield Environmental said the company regretted the disruption and that four of "
    "its lorries had already returned to service. \"We are working closely with the council and are "
    "confident we can restore a reliable service within days,\" he said.",
    "Opposition councillors said the council should have acted sooner. Owen Partridge, who leads the "
    "Liberal Democrat group, said the missed collections had been raised at a scrutiny committee in "
    "January and nothing had been done. \"The warning signs were there six weeks ago, and the cabinet "
    "chose to look the other way,\" he said.",
    "Greyfield won the contract in 2021 after promising savings of almost £600,000 a year compared with "
    "the previous operator. It also collects waste for two other councils in the county, neither of which"
    " has reported similar problems.",
    "The council said it would publish a full report on the contract's performance at its April meeting. "
    "Missed collections can be reported on the council's website or by calling 01632 960 400. ",
])
EXPLAINER = "\n\n".join([
    "Thousands of households in the north of Dunmore have had missed bin collections since February. Here"
    " is what we know about the suspension of the Greyfield contract and what it means for you.",
    "What has the council decided?",
    "The cabinet suspended the contract with Greyfield Environmental on Thursday night. Council crews, in"
    " lorries borrowed from Westmere, take over the rounds in Northgate, Ashcombe and Millbrook from "
    "Monday.",
    "What should I do with my bin?",
    "The council has not yet put guidance on its website, but the Dunmore Herald reported: \"Residents "
    "whose collections were missed are asked to put their bins out as normal on their usual day. Extra "
    "waste will be taken on the first collection after Monday, provided it is in tied bags and placed "
    "beside the bin. Garden waste collections will resume the following week, and no charge will be made "
    "for the missed rounds.\"",
    "Why did it go wrong?",
    "Greyfield took lorries off the road for repairs in mid-February. The company says four were "
    "withdrawn as a precaution; the Herald put the figure at six. Either way, the remaining crews could "
    "not cover every round, and some streets were missed three times in a row.",
    "Could the contract be cancelled?",
    "Yes. Greyfield has 28 days to show it can do the job. If the council is not satisfied it can end the"
    " deal, which runs until 2028. Lawyers we spoke to said the council would have to show a serious and "
    "persistent breach, and that the company could challenge the decision.",
    "Who do I call?",
    "Report a missed collection on the council's website or on 01632 960 400. If you have rats, "
    "environmental health can be reached on the same number.",
])


def test_a_short_quote_by_name_does_not_seed_a_paraphrase_of_the_pages_own_reporting() -> None:
    """Read as the article's, the quoted paragraph aligned with the explainer's own one-line retellings of the facts
    around it into a paraphrase (27% of the article). A page quoting the article by name is read so only when the
    quoted text and what it copies word for word with it make the excerpt (match._excerpt_quoted)."""
    article = Prepared.of(BINS)
    spans = cited_spans(EXPLAINER, ["Dunmore Herald"])
    assert len(spans) == 1 and EXPLAINER[spans[0][0]:spans[0][1]].startswith("\"Residents whose")
    assert compare(article, Prepared.of(EXPLAINER), CFG) is None
    assert compare(article, Prepared.of(EXPLAINER, spans), CFG) is None


def test_naming_the_paper_never_hides_a_copy_the_plain_reading_finds() -> None:
    """A feed excerpt quoted whole on a page that is little else: read as the page's own, its opening is the lede a
    scraper takes (the plain reading flags it); read as quoted from the paper, that opening is a quotation. The page
    is a copy either way."""
    article = Prepared.of(ARTICLE)
    page = "\n\n".join(["Bridge news", "The Dunmore Herald reported on Tuesday:", f"{L}{PARAS[1]}{R}",
                        f"{L}{PARAS[2]}{R}"])
    spans = cited_spans(page, ["Dunmore Herald"])
    assert spans and compare(article, Prepared.of(page), CFG) is not None
    assert compare(article, Prepared.of(page, spans), CFG) is not None


def test_spans_names_and_link_words_read_loosely_written() -> None:
    page = blog("The Dunmore Herald wrote on Tuesday:")
    # Spans out of order or overlapping are merged.
    (a, b), = cited_spans(page, ["Dunmore Herald"])
    assert Prepared.of(page, [(a + 10, a + 20), (a, b)]).tokens == Prepared.of(page, [(a, b)]).tokens
    assert cited_spans(page, ["Dunmore  Herald"])  # spaces in a name as any space
    line = "The Dunmore Herald wrote on Tuesday:"
    # A link's words name the paper by a whole credit name or the site's own name, not by a piece of a word or a
    # subdomain: "Heraldry expert", "The mayor" on m.dunmoreherald.example, "UK police" on uk.reuters.example.
    assert cited_spans(page, ["Herald"], [("Dunmore Herald", line)]) == cited_spans(page, ["Dunmore Herald"])
    heraldry = blog("Heraldry expert Ann Cole wrote on Tuesday:")
    assert cited_spans(heraldry, [], [("Heraldry expert Ann Cole", "Heraldry expert Ann Cole wrote on Tuesday:")],
                       host="herald.example") == []
    mayor = blog("The mayor wrote on Tuesday:")
    assert cited_spans(mayor, [], [("The mayor", "The mayor wrote on Tuesday:")], host="m.dunmoreherald.example") == []
    assert cited_spans(page, [], [("The Dunmore Herald", line)], host="m.dunmoreherald.example")
    assert cited_spans(page, [], [("The Dunmore Herald", line)], host="www.dunmoreherald.co.uk")


def test_quotes_by_name_make_an_excerpt_in_a_stretch_or_at_the_issues_size() -> None:
    """A critics' round-up quotes a sentence here and there of a review by name; a blogger pastes a stretch.
    Scattered quotation is an excerpt at SCATTERED_EXCERPT of the article (match._excerpt_quoted)."""
    article = Prepared.of(ARTICLE)

    def page(*quoted: int) -> str:
        return "\n\n".join(["My thoughts on the bridge closure", OWN_OPENING, *MORE_OWN,
                             "The Dunmore Herald wrote on Tuesday:", *(f"{L}{PARAS[k]}{R}" for k in quoted),
                             *OWN_CLOSE])

    for quoted, copy in (((2, 6), False), ((6, 7, 8), True), ((2, 4, 6), True)):
        text = page(*quoted)
        assert compare(article, Prepared.of(text), CFG) is None, quoted
        m = compare(article, Prepared.of(text, cited_spans(text, ["Dunmore Herald"])), CFG)
        assert (m is not None) == copy, (quoted, m)
