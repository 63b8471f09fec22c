"""The pipeline, composed: track originals, check a text against them, scan a site.

sources -> fetch -> extract -> fingerprint and match -> store -> alerts. The CLI and the
scheduler call these functions; nothing below this module imports it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from monitor.alerts import (
    assess_credit,
    hidden_share,
    ignore_rule_for,
    is_licensed,
    raise_alert,
    severity,
    summary,
)
from monitor.config import Config, MatchSettings, Site
from monitor.crawl import crawl, held_politeness, keep_holds, left_out, polite_settings
from monitor.display import alike, percent, plural
from monitor.evidence import Evidence
from monitor.extract import Extracted, text_of
from monitor.fetch import Fetcher, FetchError, FetchResult, binary_reason, file_path, is_textual, shown_path
from monitor.fingerprint import article_fingerprints_of, page_fingerprints_of
from monitor.match import Match, NearMiss, Prepared, compare, content_keys, explain, may_copy, rule_order
from monitor.politeness import Politeness
from monitor.store import OPEN_STATES, Address, Article, Probe, Store, Tracked, grew, text_key
from monitor.templates import TemplateLearner, block_hash, drop_template_blocks
from monitor.text import cited_spans
from monitor.urls import canonical, host_of, on_site_of, same_page

if TYPE_CHECKING:  # the optional [semantic] stage is imported only when enabled
    from monitor.semantic import SemanticVerifier

log = logging.getLogger(__name__)


class SourceError(Exception):
    """A source to track or check could not be read or held no text."""


class NoText(SourceError):
    """The source was read but holds no article text (an index page, an empty file)."""


@dataclass(frozen=True)
class Found:
    article: Article
    match: Match


@dataclass
class SiteReport:
    site: str
    pages: int = 0
    errors: list[str] = field(default_factory=list)
    new_alerts: list[int] = field(default_factory=list)
    copies: int = 0
    licensed: int = 0  # copies on alerts.licensed_domains (or covered by an ignore rule): logged, not alerted
    unchanged: int = 0  # of `pages`, those not modified since they were last matched: not matched again
    abandoned: bool = False  # stopped early (shutdown); the run does not count as done


F = TypeVar("F", bound=Fetcher)


def make_fetcher(cfg: Config, tls: ssl.SSLContext | None = None, kind: type[F] = Fetcher) -> F:  # type: ignore[assignment]
    """`tls`: a verifying context to share (building one loads the CA bundle: ~15 ms of CPU per fetcher). `kind`: a
    Fetcher subclass to build with the same settings."""
    return kind(cfg.monitor.user_agent, cfg.fetch.timeout, cfg.fetch.max_bytes, cfg.fetch.max_redirects,
                connect_timeout=cfg.fetch.connect_timeout, read_timeout=cfg.fetch.read_timeout,
                verify=tls if tls is not None else True)


def read_source(fetcher: Fetcher, url: str, allow_private: bool = True) -> Extracted:
    """Fetch and extract one page given on the command line or in [[track]]."""
    try:
        result = fetcher.fetch(url, allow_private=allow_private)
    except FetchError as exc:
        raise SourceError(str(exc)) from None
    local = result.final_url.startswith("file:")
    if not result.ok:
        # The file transport answers 404 for a missing file, as a web server would (the crawler reads that as
        # "gone"); a source the user named is said to be missing.
        if local and not os.path.lexists(path := file_path(url)):
            raise SourceError(f"{url}: cannot read {shown_path(path)}: {os.strerror(errno.ENOENT)}")
        raise SourceError(f"{url}: HTTP {result.status}{result.where}")
    # A local file's type is a guess from its name (none for `notes`): there only the bytes decide.
    if not is_textual("" if local else result.content_type, result.body):
        if local:  # the type guessed from its name (text/plain for a .txt) would contradict the refusal
            why = "it holds NUL bytes" if b"\x00" in result.body[:1024] else \
                "it starts as a binary file does (PDF, image, archive)"
            raise SourceError(f"{url}: {shown_path(file_path(result.final_url))} is not a text file: {why}")
        raise SourceError(f"{url}: not HTML or text ({result.content_type or 'binary content'})")
    page = text_of(result.body, result.content_type, result.final_url)
    # A .txt is taken as it is, so binary bytes in one (NULs past the first KB, random bytes) would be tracked as text.
    if page.plain and (why := binary_reason(page.text)):
        where = shown_path(file_path(result.final_url)) if local else url
        raise SourceError(f"{url}: {where} is not a text file: {why}")
    if page.warning:  # on stderr for the command line: only part of the page was searched
        log.warning("%s: %s", url, page.warning)
    if not page.text.strip():
        raise NoText(f"{url}: no article text found{' in the part searched' if page.truncated else ''}")
    return page


@dataclass(frozen=True)
class Original:
    """A text to track, as read from its source."""

    url: str  # the address it is tracked under (tracked_url)
    title: str
    text: str
    plain: bool = False  # a plain-text file: tracked as it is, so evidence offsets count its characters
    source: str = ""  # the source as given, when not `url`

    @classmethod
    def of(cls, url: str, page: Extracted, title: str = "") -> Original:
        return cls(tracked_url(url, page), title or page.title, page.text, page.plain, source=url)


def tracked_url(url: str, page: Extracted) -> str:
    """The address an original is tracked under: the canonical address its page names on its own site (an AMP,
    mobile or feed-tagged URL is one article with its canonical one, not a second) or, for a file, the http(s)
    canonical address it names, else the URL read, without tracking parameters (monitor.urls.canonical)."""
    named = page.canonical_url
    # A file has no site: an HTML original read from disk that names its public address is that article
    # (notices cite it, a copy crediting it is credited, the publisher's page there is the original).
    if named and urlsplit(named).scheme in ("http", "https") and (
            on_site_of(url, named) or urlsplit(url).scheme == "file"):
        return canonical(named)
    return canonical(url)


def track_text(store: Store, original: Original, near_duplicates: bool = False) -> Tracked:
    """Track an original. Unless it is plain text, its site's template (blocks repeated across the originals of
    that site, once three or more are tracked) is dropped first, so it cannot make unrelated pages look alike.
    A new text for a URL already tracked replaces that URL's article (Store.track_articles)."""
    return track_texts(store, [original], near_duplicates)[0]


def near_duplicate_warning(store: Store, tracked: Tracked, url: str) -> str | None:
    """What to tell the user when a newly tracked text is nearly another tracked one's (a .txt and the HTML page of
    one story: headline lines, furniture): every copy would raise an alert for each. Versions of a story are
    legitimately tracked, so it is said, not refused; None when there is nothing to say."""
    if tracked.near_duplicate is None:
        return None
    other_id, resemblance = tracked.near_duplicate
    other = store.article(other_id)
    warning = (f"#{tracked.id} ({url}) is nearly the same text as #{other.id} {other.title!r} ({other.url}), "
               f"{alike(resemblance)} alike: a copy of it will raise an alert for each; if they are one article, "
               f"track one of them")
    if url.startswith("file:") and not other.url.startswith("file:") and other_id not in store.sources_of([other_id]):
        # Tracked under a public URL before schema 16 recorded the file it was read from: its edited file is not
        # known to be it, and became a second article. The way to make it the new text of that article, said.
        warning += (f"; if this file is #{other.id}'s edited text (tracked before provmon recorded which file an "
                    f"article came from), run provmon untrack {tracked.id}, then provmon track "
                    f"{shown_path(file_path(url))} --url {other.url}: it replaces #{other.id} there")
    return warning


def track_texts(store: Store, items: Sequence[Original], near_duplicates: bool = False) -> list[Tracked]:
    """Track many originals, the articles in one transaction, each exactly as track_text would in turn: a
    publisher's archive is tracked in batches, its site's template state loaded and saved once a batch. With
    `near_duplicates`, each new article names a nearly identical tracked one (Store.track_articles)."""
    learners: dict[str, TemplateLearner] = {}
    seen: set[str] = set()
    seen_texts: set[str] = set()
    rows = []
    for url, title, text, plain in ((o.url, o.title, o.text, o.plain) for o in items):
        if plain:  # taken as it is (a folder of .txt files shares no site furniture to learn)
            rows.append((url, title, text, article_fingerprints_of(text)))
            continue
        key = track_key(url)
        learner = learners.get(key)
        if learner is None:
            learner = learners[key] = load_learner(store, key)
        paragraphs = text.split("\n\n")
        hashes = [block_hash(p) for p in paragraphs]
        digest = text_key(text)  # the same text as the store decides it (whitespace aside)
        # Each original counts once towards its template: one URL once, and one text once (an article and its
        # AMP and print versions are the same text, not three pages that share every paragraph).
        if url not in seen and digest not in seen_texts and not store.is_tracked_url(url):
            learner.observe_hashes(key, hashes)
        seen.add(url)
        seen_texts.add(digest)
        # A text made only of template blocks is not the template's fault to erase: keep it whole.
        text = learner.drop(key, text, paragraphs, hashes) or text
        rows.append((url, title, text, article_fingerprints_of(text)))
    for key, learner in learners.items():
        store.update_template_state(key, learner.merged_with)
    return store.track_articles(rows, near_duplicates=near_duplicates)


def make_verifier(cfg: Config) -> SemanticVerifier | None:
    """The [semantic] second stage when enabled (its model loads on first use), else None."""
    if not cfg.semantic.enabled:
        return None
    from monitor.semantic import SemanticVerifier

    return SemanticVerifier(cfg.semantic, cfg.match, cfg.base_dir)


# Raise when a change to extraction or detection should judge again the pages already scanned (rule_key).
DETECTION_VERSION = 1


def rule_key(cfg: Config) -> str:
    """What a page's verdict depends on besides its bytes and the tracked articles: the copy rule ([match]), the
    verifier ([semantic], when on) and the code's DETECTION_VERSION. Store.rule_changed compares it."""
    rule = {"version": DETECTION_VERSION, "match": asdict(cfg.match),
            "semantic": asdict(cfg.semantic) if cfg.semantic.enabled else None}
    return hashlib.sha256(json.dumps(rule, sort_keys=True, default=str).encode()).hexdigest()


def decide(article: Prepared, page: Prepared, cfg: MatchSettings,
           verifier: SemanticVerifier | None = None) -> Match | None:
    """The copy rule; a candidate it rejects goes to the embedding verifier when one is configured."""
    m = compare(article, page, cfg)
    if m is not None or verifier is None:
        return m
    # The verifier reads the page's quotation as quotation: the copy rule alone decides what a page quoting the
    # article by name copies of it (match._excerpt_quoted).
    return verifier.verify(article, page.plain)


def min_shared_for(page_hashes: int, cfg: MatchSettings) -> int:
    """Fingerprints an article must share with a page of `page_hashes` distinct 3-grams to be compared with it.

    An article is indexed by about 2/9 of its 3-grams (winnowing), so a page must share ~14 scattered 3-grams
    with it to expect `candidate_min_shared` (3) votes. A rewrite keeps some share of its own 3-grams: a
    600-gram page reaches 14 at 2.3%, a 140-gram one (a 300-word answer) only at 10%, about what a heavy rewrite
    keeps. Chance votes grow with the length of the page, so a short page is held to
    `candidate_min_shared_short` for little extra work (docs/detection.md, "Candidates for short pages")."""
    if page_hashes < cfg.candidate_short_page:
        return min(cfg.candidate_min_shared, cfg.candidate_min_shared_short)
    return cfg.candidate_min_shared


def candidates_for(store: Store, text: str, cfg: MatchSettings) -> list[tuple[int, int]]:
    """The tracked articles (id, shared fingerprints) that `text` is compared with, most shared first."""
    hashes = page_fingerprints_of(text)
    return store.candidates(hashes, min_shared_for(len(hashes), cfg), cfg.max_candidates)


class PreparedCache:
    """Tracked articles cut into sentences (`Prepared.of`), the most recently used first, at most `max_chars` of
    text in all; safe to share between threads. Keyed by the text itself, so an entry is right for any store
    and any article id that holds that text, and never stale: a text changed (re-tracked: a new article id) is
    another key, a removed article is no longer a candidate, and its entry ages out."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[str, Prepared] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def __call__(self, text: str) -> Prepared:
        with self._lock:
            prepared = self._items.get(text)
            if prepared is not None:
                self._items.move_to_end(text)
                return prepared
        prepared = Prepared.of(text)  # outside the lock: two threads may both prepare a text, either copy is right
        with self._lock:
            if text not in self._items and len(text) <= self.max_chars:
                self._items[text] = prepared
                self._chars += len(text)
                while self._chars > self.max_chars:
                    self._chars -= len(self._items.popitem(last=False)[0])
        return prepared


# A candidate article was prepared again for every page it was compared with: Prepared.of costs ~0.6 ms for a
# 1,500-character brief, and the few articles that unrelated pages keep meeting are met again and again (the crawl
# farm: 5,149 candidates of 819 articles on 10,000 pages). ~50 bytes of memory per character of text: ~20 MB. The
# service holds one cache for all its site scans, `provmon check` one for its pages (`find_copies(prepared=...)`).
PREPARED_CHARS = 400_000


# Per tracked article and page text, the page's quotation that the page gives to that article (`citations`).
Cited = Callable[[Article, str], list[tuple[int, int]]]


def citations(page: Extracted, names: Sequence[str]) -> Cited:
    """The quotation a page gives to each tracked article as its writer (text.cited_spans), named by the text of a
    link to the article, one of `names` (the user's publications, `[owner] credit_names`) or the article's site."""
    def spans(article: Article, text: str) -> list[tuple[int, int]]:
        linked = [(words, p) for url, words, p in page.text_links if same_page(url, article.url)]
        host = host_of(article.url)
        return cited_spans(text, [*names, host] if host else names, linked, host)
    return spans


def find_copies(store: Store, text: str, cfg: MatchSettings, exclude_url: str = "",
                verifier: SemanticVerifier | None = None, prepared: PreparedCache | None = None,
                cited: Cited | None = None) -> list[Found]:
    """Tracked articles that `text` copies, best coverage first. `cited`: the quotation the page gives to each
    article (`citations`), which is read as that article's words."""
    # Most pages copy nothing: candidates come from hashes taken straight from the text, and the page is
    # cut into tokens and sentences (most of the cost of a page) only when some article might match.
    candidates = candidates_for(store, text, cfg)
    if not candidates:
        return []
    page: Prepared | None = None
    keys: frozenset[str] | None = None
    grams = _Grams(store, text)
    found: list[Found] = []
    references = store.reference_ids()  # not the publisher's: they discount shared text, and are never a copy's
    cited_pages: dict[tuple[tuple[int, int], ...], Prepared] = {}
    for article_id, _shared in candidates:
        if article_id in references:
            continue
        article = store.article(article_id)
        if exclude_url and article.url == exclude_url:
            continue
        original = prepared(article.text) if prepared is not None else Prepared.of(article.text)
        # Most candidates of a short page share a few 3-grams with it and nothing like a copied sentence: read from
        # the page's words alone, they cannot pass the copy rule (match.may_copy, exact), and the page is cut into
        # sentences only for one that may. The embedding verifier reads the page whatever the copy rule says.
        if verifier is None:
            if keys is None:
                keys = content_keys(text)
            if not may_copy(original, keys, cfg):
                continue
        spans = cited(article, text) if cited is not None else []
        if spans:  # the page's quotation of this article is the article's words: a page of its own for it
            key = tuple(spans)
            if key not in cited_pages:  # the same for every article the page names by a credit name
                if page is None:
                    page = Prepared.of(text)
                cited_pages[key] = Prepared.of(text, spans, plain=page)
            seen = cited_pages[key]
        else:
            if page is None:
                page = Prepared.of(text)
            seen = page
        m = decide(original, seen, cfg, verifier)
        if m is not None:
            shared = shared_sentences(store, article, seen, m, cfg, grams)
            if shared:  # the copy rule alone decides again, on the page without them (blanked: the offsets stay)
                m = compare(original, Prepared.of(blank(text, shared), spans), cfg)
        if m is not None:
            found.append(Found(article, m))
    found.sort(key=lambda f: f.match.coverage, reverse=True)
    return found


# How many of a page's candidates (most fingerprints shared first) `closest` explains.
CLOSEST_CANDIDATES = 5
# Closest.near.step when the page's only candidates are reference texts.
REFERENCE = "reference text"


@dataclass(frozen=True)
class Closest:
    """The tracked article a page that copies none came closest to copying (`closest`), and why it is no copy."""

    article: Article
    near: NearMiss
    # The copy rule took the page for a copy, and then for none once the text it shares with other tracked texts (a
    # reference text, the publisher's own stock paragraph) was left out (`shared_sentences`): `near` is that reading.
    discounted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"article": {"id": self.article.id, "title": self.article.title, "url": self.article.url},
                **self.near.to_dict(), "discounted": self.discounted}


def closest(store: Store, text: str, cfg: MatchSettings, exclude: Sequence[int] = (),
            prepared: PreparedCache | None = None, cited: Cited | None = None) -> Closest | None:
    """For a page that copies no tracked article (`find_copies`), the candidate that came closest and the step of the
    copy rule it fails (`match.explain`), among the CLOSEST_CANDIDATES that share the most fingerprints with it
    (articles in `exclude` and reference texts left out); a reference text the index proposes, with step REFERENCE,
    when it proposes no other; None when it proposes none. The closest is the one that gets furthest through the
    rule, then the one with most of its own telling aligned."""
    page: Prepared | None = None
    references = store.reference_ids()
    best: Closest | None = None
    considered = 0
    reference: int | None = None  # the first reference text proposed: said when no article of the user's is
    for article_id, _shared in candidates_for(store, text, cfg):
        if article_id in references and reference is None:
            reference = article_id
        if article_id in references or article_id in exclude:
            continue
        considered += 1
        if considered > CLOSEST_CANDIDATES:
            break
        article = store.article(article_id)
        original = prepared(article.text) if prepared is not None else Prepared.of(article.text)
        if page is None:
            page = Prepared.of(text)
        spans = cited(article, text) if cited is not None else []
        seen = Prepared.of(text, spans, plain=page) if spans else page
        near, discounted = explain(original, seen, cfg), False
        if near is None:  # a copy by the rule that find_copies dropped: it shares its text with other tracked texts
            m = compare(original, seen, cfg)
            shared = shared_sentences(store, article, seen, m, cfg, _Grams(store, text)) if m is not None else []
            near = explain(original, Prepared.of(blank(text, shared), spans), cfg) if shared else None
            discounted = True
        if near is None:
            continue
        here = Closest(article, near, discounted)
        if best is None or _closer(here.near, best.near):
            best = here
    if best is None and reference is not None:
        article = store.article(reference)
        original = prepared(article.text) if prepared is not None else Prepared.of(article.text)
        return _reference_closest(article, original, page or Prepared.of(text), cfg)
    return best


def _reference_closest(article: Article, original: Prepared, page: Prepared, cfg: MatchSettings) -> Closest:
    """A page whose only candidate is a reference text (`track --reference`; `original`, its text cut into
    sentences): its words are another source's, which the publisher's articles quote; no page is a copy of one
    (find_copies never proposes them)."""
    near = explain(original, page, cfg)
    why = "it is a reference text (tracked with --reference), whose words no page is a copy of"
    if near is not None:
        return Closest(article, replace(near, step=REFERENCE, reason=f"{why}; and by the copy rule: {near.reason}"))
    m = compare(original, page, cfg)
    copied = f"; the page holds {percent(m.coverage)} of it" if m is not None else ""
    return Closest(article, NearMiss(step=REFERENCE, reason=why + copied, aligned_sentences=0, narrative_sentences=0,
                                     narrative_run=0, coverage=m.coverage if m else 0.0,
                                     longest_run=m.longest_run if m else 0))


def _closer(a: NearMiss, b: NearMiss) -> bool:
    return ((rule_order(a.step), a.narrative_sentences, a.coverage)
            > (rule_order(b.step), b.narrative_sentences, b.coverage))


class _Grams:
    """Content-word 3-gram sets of a page and of the tracked articles it is checked against, each computed once."""

    def __init__(self, store: Store, page_text: str) -> None:
        self.store = store
        self._page_text = page_text
        self._articles: dict[int, set[int]] = {}

    @cached_property
    def page(self) -> set[int]:  # only once some candidate matched: most never do
        return page_fingerprints_of(self._page_text)

    def of(self, article_id: int, text: str | None = None) -> set[int]:
        if article_id not in self._articles:
            if text is None:
                text = self.store.article(article_id).text
            self._articles[article_id] = page_fingerprints_of(text)
        return self._articles[article_id]


# Fewer 3-grams of an article than this left outside the page: the page holds (nearly) all of it, and whether
# another tracked article is a version of it or only shares a paragraph with it cannot be told.
_REST_MIN = 20


def _versions(a: set[int], b: set[int]) -> bool:
    """Whether two tracked texts are versions of one text: each holds at least half of the other's 3-grams. Then
    neither's text is the other's boilerplate, whatever part of them a page holds: two overlapping excerpts of one
    source (or a story and its rewrite) each raise their alert for the text the page copies, instead of each
    blanking the other's and the page raising none."""
    both = len(a & b)
    return 2 * both >= len(a) and 2 * both >= len(b)


def shared_sentences(store: Store, article: Article, page: Prepared, m: Match, cfg: MatchSettings,
                     grams: _Grams) -> list[tuple[int, int]]:
    """Page spans (sentences inside the passages of `m`) whose words another tracked article holds as well as
    `article` does, that article not being a version of this one: text the user's own articles share (a
    publisher's "About us" paragraph, an author's bio), which a page may carry without copying either.

    Another article is a *version* of this one (an update under a new URL, a syndicated copy the publisher
    tracks) when it holds at least half of this article's 3-grams the page does not, or when the two hold at least
    half of each other's 3-grams (`_versions`: overlapping excerpts of one text): then nothing is blanked, and
    a partial copy of the story is reported for both. When the page holds nearly all of this article, that
    cannot be told, and nothing is blanked either."""
    text = page.text
    mine_all = grams.of(article.id, article.text)
    rest = mine_all - grams.page
    if len(rest) < _REST_MIN:
        return []
    spans: list[tuple[int, int]] = []
    for p in m.passages:
        passage = page_fingerprints_of(text[p.page_start:p.page_end])
        mine = passage & mine_all
        if len(mine) < cfg.candidate_min_shared:
            continue
        holders = []
        for other, _ in store.candidates(passage, 2, cfg.max_candidates):
            if other == article.id:
                continue
            theirs = grams.of(other)
            if (len(mine & theirs) >= cfg.candidate_min_shared and 2 * len(rest & theirs) < len(rest)
                    and not _versions(mine_all, theirs)):
                holders.append(theirs)
        if not holders:
            continue
        for sent in page.sentences:
            if sent.end <= p.page_start or sent.start >= p.page_end:
                continue
            start, end = max(sent.start, p.page_start), min(sent.end, p.page_end)
            held = page_fingerprints_of(text[start:end]) & mine_all
            if len(held) >= 2 and any(3 * len(held & theirs) >= 2 * len(held) for theirs in holders):
                spans.append((start, end))
    return spans


def blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with `spans` (start, end) turned to spaces (line breaks kept, so offsets and paragraphs stay)."""
    chars = list(text)
    for start, end in spans:
        for k in range(start, end):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def track_configured(store: Store, fetcher: Fetcher, cfg: Config,
                     stop: threading.Event | None = None) -> tuple[int, list[str]]:
    """Track the [[track]] sources of the config (idempotent); returns how many were new, and the sources that
    could not be read (each error names its source). A `title` given in the config is the article's title, a `url`
    its public address (as `provmon track --url`). Once `stop` is set no further source is read (the rest is tracked
    at the next start)."""
    new, errors = 0, []
    for t in cfg.track:
        if stop is not None and stop.is_set():
            break
        url = cfg.resolve_source(t.source)
        try:
            page = read_source(fetcher, url)
        except SourceError as exc:
            log.error("track: %s", exc)
            errors.append(str(exc))
            continue
        original = Original.of(url, page, t.title)
        public = canonical(t.url) if t.url else ""
        tracked = track_text(store, replace(original, url=public) if public else original, near_duplicates=True)
        store.set_sources([(tracked.id, url, tracked.created)])  # `check` of that file is the article itself
        new += tracked.created
        if warning := near_duplicate_warning(store, tracked, public or url):
            log.warning("track: %s", warning)
        if t.title and tracked.title != t.title:
            store.set_title(tracked.id, t.title)
        if public and store.article(tracked.id).url != public:  # the text was tracked before under its file
            store.set_url(tracked.id, public)
        store.set_reference([tracked.id], t.reference)  # the entry says which it is, each start
    return new, errors


def load_learner(store: Store, key: str) -> TemplateLearner:
    state = store.template_state(key)
    return TemplateLearner.from_dict(state) if state else TemplateLearner()


def track_key(url: str) -> str:
    """Template learning groups tracked originals by their site (host; folder for files)."""
    parts = urlsplit(url)
    return "track:" + (parts.netloc or parts.path.rsplit("/", 1)[0])


def track_publishers(store: Store, fetcher: Fetcher, cfg: Config, stop: threading.Event | None = None) -> int:
    from monitor.publishers import track_new_entries  # it uses this module's track_text

    return track_new_entries(store, fetcher, cfg, stop=stop)


def scan_site(store: Store, fetcher: Fetcher, cfg: Config, site: Site,
              stop: threading.Event | None = None, verifier: SemanticVerifier | None = None,
              prepared: PreparedCache | None = None) -> SiteReport:
    """One run of a site. `prepared`: tracked articles already cut into sentences, to share between scans (the
    service's); by default one for this scan."""
    report = SiteReport(site.name)
    channels = [c.label for c in cfg.notify]
    learner = load_learner(store, site.name)
    if prepared is None:
        prepared = PreparedCache(PREPARED_CHARS)
    try:
        _scan_pages(store, fetcher, cfg, site, stop, report, channels, learner, verifier, prepared)
    finally:
        store.update_template_state(site.name, learner.merged_with)
    log.info("site %s: %s, %s, %s, %d licensed or ignored, %s", site.name, plural(report.pages, "page"),
             plural(report.copies, "copy", "copies"), plural(len(report.new_alerts), "new alert"), report.licensed,
             plural(len(report.errors), "error"))
    return report


def _template_is_tracked_text(store: Store, cfg: MatchSettings, learner: TemplateLearner, site: str,
                              paragraphs: list[str], hashes: list[str], known: dict[tuple[str, ...], bool]) -> bool:
    """Do the site's template blocks on this page share text with a tracked article?

    Then they are not the site's furniture. On a small copier site an article's paragraphs can be on enough of its
    pages (the post, its AMP version, another copy, a page pasting an excerpt beside other text) to be learned as
    its template, and dropped, they would hide the excerpt from the scan for good. `known` holds the answer per set
    of dropped blocks for the scan: a footer is looked up once, not once a page."""
    dropped = [(p, h) for p, h in zip(paragraphs, hashes, strict=True) if learner.is_template_hash(site, h)]
    blocks = tuple(h for _, h in dropped)
    if blocks not in known:
        known[blocks] = bool(candidates_for(store, "\n\n".join(p for p, _ in dropped), cfg))
    return known[blocks]


def _scan_pages(store: Store, fetcher: Fetcher, cfg: Config, site: Site, stop: threading.Event | None,
                report: SiteReport, channels: list[str], learner: TemplateLearner,
                verifier: SemanticVerifier | None, prepared: PreparedCache) -> None:
    tracked_blocks: dict[tuple[str, ...], bool] = {}  # _template_is_tracked_text's answers in this scan
    for item in crawl(fetcher, site, [cfg.resolve_source(u) for u in site.start_urls], store=store,
                      user_agent=cfg.monitor.user_agent, polite=polite_settings(cfg.fetch), workers=cfg.fetch.workers,
                      sitemaps=[cfg.resolve_source(u) for u in site.sitemaps],
                      feeds=[cfg.resolve_source(u) for u in site.feeds], stop=stop):
        if stop is not None and stop.is_set():
            report.abandoned = True
            log.info("site %s: run abandoned at shutdown after %s", site.name, plural(report.pages, "page"))
            break
        if item.unchanged:  # not modified since it was last matched; crawl has recorded the visit
            report.pages += 1
            report.unchanged += 1
            continue
        if item.result is None or item.page is None:  # crawl records the page with its error
            if item.result is None or not item.result.ok:
                report.errors.append(f"{item.url}: {item.error}")
            continue
        report.pages += 1
        result, page = item.result, item.page
        if page.warning:  # searched only in part: said in the run's report, and kept in the page's record (crawl)
            report.errors.append(f"{item.url}: {page.warning}")
            log.warning("site %s: %s: %s", site.name, item.url, page.warning)
        seen_before = item.previous_sha256 == result.sha256
        paragraphs = page.paragraphs
        hashes = [block_hash(p) for p in paragraphs]
        if not seen_before:  # each version of a page counts once towards the site's template
            learner.observe_hashes(site.name, hashes)
        text = learner.drop(site.name, page.text, paragraphs, hashes)
        if text != page.text and _template_is_tracked_text(store, cfg.match, learner, site.name, paragraphs, hashes,
                                                           tracked_blocks):
            text = page.text
        if not text:
            continue
        page_url = canonical(result.final_url)  # one page, one alert: not one per utm_source
        for f in find_copies(store, text, cfg.match, exclude_url=result.final_url, verifier=verifier,
                             prepared=prepared, cited=citations(page, cfg.owner.credit_names)):
            if same_page(page_url, f.article.url) or own_version(page_url, page, f.article.url):
                # The original itself, under another address of its own site: said, so a skipped page is traceable.
                log.info("site %s: %s is the original of #%d (%s), not a copy", site.name, page_url, f.article.id,
                         f.article.url)
                continue
            report.copies += 1
            if _not_to_alert(store, cfg, site.name, page_url, result.sha256, f, text):
                report.licensed += 1
                continue
            raised = raise_alert(store, article=f.article, match=f.match, page_text=text,
                                 site=site.name, page_url=page_url,
                                 content_sha256=result.sha256, channels=channels,
                                 credit=assess_credit(page, f.article.url, cfg.owner.credit_names),
                                 hidden=page.hidden, evidence=Evidence.of(result, text))
            if raised.created:
                report.new_alerts.append(raised.alert_id)
                log.info("ALERT #%d site %s: %s", raised.alert_id, site.name,
                         summary(store.alert(raised.alert_id)))


# -- alerts: copies that raise none, and re-checking flagged copies ------------------------------------
def _not_to_alert(store: Store, cfg: Config, site: str, url: str, sha256: str, f: Found, text: str) -> bool:
    """Licensed syndication (alerts.licensed_domains) and copies an ignore rule covers are logged in
    `matches` with their disposition, never alerted."""
    domain = is_licensed(url, cfg.alerts.licensed_domains)
    rule = None if domain else ignore_rule_for(store.ignore_rules(), site, url)
    if not domain and rule is None:
        return False
    match = f.match.to_dict(f.article.text, text)
    store.record_licensed(article=f.article, site=site, page_url=url, content_sha256=sha256, match=match,
                          disposition="licensed" if domain else "ignored")
    why = f"licensed ({domain} is in alerts.licensed_domains)" if domain else f"ignored (rule #{rule['id']})"
    log.info("site %s: %s copy of #%d at %s: %s, no alert", site, f.match.kind, f.article.id, url, why)
    return True


@dataclass
class RecheckReport:
    checked: int = 0
    removed: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)
    grew: list[int] = field(default_factory=list)


# Addresses known not to carry a copy any more, fetched at each recheck of its alert to notice the copy back there: the
# least recently fetched first, so each is fetched again within ceil(n / GONE_PROBES) rechecks (docs/alerts.md).
GONE_PROBES = 3


def recheck_plan(addresses: Sequence[Address]) -> list[str]:
    """The addresses of a copy (Store.address_states, its own first) a recheck fetches, in order: its own address,
    every other one that carries the copy as far as is known (a takedown notice names them, so each is confirmed at
    every recheck), then up to GONE_PROBES of those found not to carry it, the least recently fetched first (in the
    order found among equals). A removed copy's addresses are all of the last kind: it costs 1 + GONE_PROBES fetches
    a recheck however many addresses it had, not one each."""
    own, *others = addresses
    gone = sorted((a for a in others if not a.present), key=lambda a: a.probed)  # stable
    return [own.url, *(a.url for a in others if a.present), *(a.url for a in gone[:GONE_PROBES])]


def recheck_alerts(store: Store, fetcher: Fetcher, cfg: Config, stop: threading.Event | None = None,
                   alert_ids: list[int] | None = None, verifier: SemanticVerifier | None = None) -> RecheckReport:
    """Fetch every flagged copy (open or removed) again, at the addresses recheck_plan picks, and record what each
    showed (the notice names the addresses that carry the copy). An open copy found at none of them is fetched at its
    other addresses too: gone from all (404/410, a page that no longer copies the article, or the original's site
    answering) makes the alert `removed`; a removed copy back at any address fetched is reopened. Both queue a
    notification. A fetch error or another HTTP status proves nothing: a copy gone from some addresses and not known
    at the others changes nothing. A copy found grown at its address updates its open alert (Store.grow)."""
    report = RecheckReport()
    channels = [c.label for c in cfg.notify]
    sites = {s.name: s for s in cfg.sites}
    # Copies of one site are usually on one host: paced and retried like the crawl.
    polite = held_politeness(fetcher, store, cfg.monitor.user_agent, polite_settings(cfg.fetch), stop)
    templates: dict[str, frozenset[str]] = {}  # per site, loaded once for all its alerts
    for alert in store.alerts(states=("new", "notified", "acknowledged", "removed")):
        if stop is not None and stop.is_set():
            break
        if alert_ids is not None and alert["id"] not in alert_ids:
            continue
        report.checked += 1
        aid, url = alert["id"], alert["copy_url"]
        if alert["site"] not in templates:
            templates[alert["site"]] = load_learner(store, alert["site"]).template_hashes(alert["site"])
        removed = alert["status"] == "removed"
        addresses = store.address_states(aid)
        round_ = 1 + max(a.probed for a in addresses)
        checks: list[tuple[str, _Check]] = []
        probe = _Prober(store, polite, alert, sites.get(alert["site"]), templates[alert["site"]], cfg, verifier)
        back = probe.fetch(recheck_plan(addresses), checks)  # the match of a removed copy found again
        if not removed and all(c.state == "gone" for _, c in checks):
            # Gone from every address fetched: the others are fetched too before the copy is called gone.
            fetched = {u for u, _ in checks}
            probe.fetch([a.url for a in addresses if a.url not in fetched], checks)
        there = [(u, c) for u, c in checks if c.state == "there"]
        address, found = there[0] if there else next(((u, c) for u, c in checks if c.state == "inconclusive"),
                                                     checks[0])
        # What was seen, said where: the address that decides first, then what the others answered.
        said = [(u, c) for u, c in checks if u != address]
        why = found.why + (f" at {address}" if address != url else "") + "".join(f"; {u}: {c.why}" for u, c in said)
        probes = [Probe(u, c.state, c.why) for u, c in checks]
        if found.state == "inconclusive":  # gone from every other address perhaps, but not known to be gone here
            store.record_check(aid, f"inconclusive: {why}", probes, round_)
            report.inconclusive.append(f"#{aid} {address}: {found.why}")
            continue
        gone = found.state == "gone"  # from every address
        # Each address's change is an event of its own unless the alert's removal or return (naming them) is.
        store.record_check(aid, why, probes, round_, events=gone == removed)
        # The status may have changed since the list was read (ignored by a person, reopened by another
        # recheck): each change applies only from the states it was decided for.
        if gone and not removed:
            if store.set_state(aid, "removed", detail=why, channels=channels, only_from=OPEN_STATES):
                report.removed.append(aid)
                log.info("alert #%d: copy gone (%s): %s", aid, why, url)
        elif not gone and removed:
            assert found.result is not None and back is not None
            if store.set_state(aid, "reopened", detail=why, channels=channels, only_from=("removed",),
                               evidence=Evidence.of(found.result, found.text, "reopened"), match=back,
                               page_url=address):
                report.reopened.append(aid)
                log.info("alert #%d: copy is back (%s): %s", aid, why, address)
        if not gone and _grew_at(store, cfg, alert, checks, channels, reopened=address if removed else None):
            report.grew.append(aid)
    keep_holds(store, polite)
    if alert_ids is None and not (stop is not None and stop.is_set()):  # a full pass: the service's next is timed by it
        store.rechecked()
    return report


@dataclass(frozen=True)
class _Prober:
    """Fetches addresses of one flagged copy (the alert as the recheck read it) and says what each serves."""

    store: Store
    polite: Politeness
    alert: dict[str, Any]
    site: Site | None
    template: frozenset[str]
    cfg: Config
    verifier: SemanticVerifier | None

    def fetch(self, urls: Sequence[str], checks: list[tuple[str, _Check]]) -> dict[str, Any] | None:
        """Fetch `urls` in turn, adding (address, check) to `checks`. A removed copy stops at the first address that
        carries it, unless what is there is the copy of another alert, posted again since its removal (then that
        alert's address: Store.alerted_anew); its match (as a dict) is returned."""
        removed = self.alert["status"] == "removed"
        for address in urls:
            check = _check_address(self.store, self.polite, self.alert, address, self.site, self.template, self.cfg,
                                   self.verifier)
            if check.state == "there" and removed:
                assert check.result is not None and check.match is not None and check.article is not None
                back = check.match.to_dict(check.article.text, check.text)
                twin = self.store.alerted_anew(self.alert["id"], address, check.result.sha256, back)
                if twin is None:
                    checks.append((address, check))
                    return back
                # Not this copy back: one posted again since, alerted as #twin.
                check = _Check("gone", f"the copy there is alert #{twin}'s, posted again after this one's removal")
            checks.append((address, check))
        return None


def _grew_at(store: Store, cfg: Config, alert: dict[str, Any], checks: Sequence[tuple[str, _Check]],
             channels: list[str], reopened: str | None) -> bool:
    """Whether the copy found at one of its addresses grew (Store.grow decides, on the alert as it is now); the first
    address that shows it wins, so the same growth at two addresses is one. The address a removed copy was reopened at
    has its capture already (`reopened`)."""
    for address, check in checks:
        if check.state != "there" or check.match is None:
            continue
        if not grew(alert["kind"], alert["coverage"], check.match.kind, check.match.coverage):
            continue  # most rechecks: nothing to build a match for (Store.grow decides again, in its transaction)
        assert check.result is not None and check.article is not None and check.page is not None
        credit = assess_credit(check.page, alert["article_url"], cfg.owner.credit_names)
        if store.grow(alert["id"], article_id=check.article.id, page_url=address,
                      content_sha256=check.result.sha256, match=check.match.to_dict(check.article.text, check.text),
                      severity=severity(check.match.kind, check.match.coverage, credit.grade), credit=credit.grade,
                      credit_detail=credit.detail, hidden=hidden_share(check.match, check.text, check.page.hidden),
                      evidence=None if address == reopened else Evidence.of(check.result, check.text, "grew"),
                      channels=channels):
            return True
    return False


@dataclass(frozen=True)
class _Check:
    """What one address of a flagged copy serves now: the copy (`there`, with the fetch, the match, the page text
    it was made on, the article and the page as extracted), not the copy (`gone`), or nothing proven
    (`inconclusive`); and why."""

    state: str
    why: str
    result: FetchResult | None = None
    match: Match | None = None
    text: str = ""
    article: Article | None = None
    page: Extracted | None = None


def _check_address(store: Store, polite: Politeness, alert: dict[str, Any], url: str, site: Site | None,
                   template: frozenset[str], cfg: Config, verifier: SemanticVerifier | None) -> _Check:
    # An operator who excludes a path (its owner asked) stops every request to it, rechecks included.
    if site is not None and (why := left_out(url, site)):
        return _Check("inconclusive", f"not fetched: {why}")
    try:
        allowed, why = polite.allowed(url, site.allow_private if site else False)
        if not allowed:  # robots.txt rules a recheck as it does the crawl (an alert is no licence to fetch)
            return _Check("inconclusive", f"not fetched: {why}")
        result = polite.fetch(url, allow_private=site.allow_private if site else False)
    except FetchError as exc:
        return _Check("inconclusive", exc.reason)
    if result.status in (404, 410):
        return _Check("gone", f"HTTP {result.status}{result.where}")
    if not result.ok:
        return _Check("inconclusive", f"HTTP {result.status}{result.where}")
    page = text_of(result.body, result.content_type, result.final_url)
    m, text, article = _still_copies(store, alert, page.text, template, cfg, verifier,
                                     citations(page, cfg.owner.credit_names))
    if _is_the_original(url, result.final_url, page, article.url):
        return _Check("gone", f"it is now the original's site: {result.final_url}")
    if m is None:
        if store.captured(alert["id"], result.sha256, {page.text, drop_template_blocks(page.text, template)}):
            # The very page the copy was found on: only the rule changed ([match] tightened, a new version of the
            # article tracked). Calling it gone would tell the channels a copy still online was taken down.
            return _Check("inconclusive", "the page is unchanged since the copy was found there, but the current "
                                          "match rule no longer calls it a copy ([match] changed?)")
        return _Check("gone", "the page no longer copies the article")
    return _Check("there", f"still there: {m.kind}, {percent(m.coverage)} of the article", result, m, text, article,
                  page)


def own_version(url: str, page: Extracted, original_url: str) -> bool:
    """A page of the original's own site (its host or a subdomain: amp., m.) that names the original as its
    canonical address (rel=canonical, or og:url, relative or not): an AMP, mobile or tracking-tagged version."""
    if not on_site_of(url, original_url):
        return False
    return any(same_page(urljoin(url, named), original_url) for named in (page.canonical_url, page.og_url) if named)


def _is_the_original(copy_url: str, final_url: str, page: Extracted, original_url: str) -> bool:
    """The copy's address now serves the original: redirected to it or to another page of its site (the usual
    remedy), or the original's own site answering there with its canonical address."""
    if same_page(final_url, original_url) or own_version(final_url, page, original_url):
        return True
    return on_site_of(final_url, original_url) and not on_site_of(copy_url, original_url)


def _still_copies(store: Store, alert: dict[str, Any], page_text: str, template: frozenset[str], cfg: Config,
                  verifier: SemanticVerifier | None, cited: Cited | None = None) -> tuple[Match | None, str, Article]:
    """Does the page still copy the alert's article? The match, the page text it was found in, and the article.

    The URL's current article is tried, then (its text changed since) the version the copy was found on: a copy
    of the old text is still a copy. The page without its site's template first, as the scan saw it; then whole,
    since the template learned since the scan may hold the copied paragraphs (the same article at several
    addresses of the site), and a copy still online must not be called removed."""
    texts = list(dict.fromkeys(t for t in (drop_template_blocks(page_text, template), page_text) if t))
    articles = [store.article(i) for i in dict.fromkeys((alert["article_id"], alert["match_article_id"]))]
    originals = [(a, Prepared.of(a.text)) for a in articles] if texts else []  # each prepared once, for both texts
    for text in texts:
        page = Prepared.of(text)
        for article, original in originals:
            spans = cited(article, text) if cited is not None else []
            m = decide(original, Prepared.of(text, spans, plain=page) if spans else page, cfg.match, verifier)
            if m is not None:
                return m, text, article
    return None, texts[0] if texts else "", articles[0]
