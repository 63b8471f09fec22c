"""The pipeline, composed: track originals, check a text against them, scan a site.

sources -> fetch -> extract -> fingerprint and match -> store -> alerts. The CLI and the
scheduler call these functions; nothing below this module imports it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitor.alerts import raise_alert, summary
from monitor.config import Config, MatchSettings, Site
from monitor.crawl import crawl, polite_settings
from monitor.extract import Extracted, text_of
from monitor.fetch import Fetcher, FetchError
from monitor.fingerprint import article_fingerprints, page_fingerprints
from monitor.match import Match, Prepared, compare
from monitor.store import Article, Store
from monitor.templates import TemplateLearner, drop_template_blocks

log = logging.getLogger(__name__)


class SourceError(Exception):
    """A source to track or check could not be read or held no text."""


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
    abandoned: bool = False  # stopped early (shutdown); the run does not count as done


def make_fetcher(cfg: Config) -> Fetcher:
    return Fetcher(cfg.monitor.user_agent, cfg.fetch.timeout, cfg.fetch.max_bytes, cfg.fetch.max_redirects,
                   connect_timeout=cfg.fetch.connect_timeout, read_timeout=cfg.fetch.read_timeout)


def read_source(fetcher: Fetcher, url: str, allow_private: bool = True) -> Extracted:
    """Fetch and extract one page given on the command line or in [[track]]."""
    try:
        result = fetcher.fetch(url, allow_private=allow_private)
    except FetchError as exc:
        raise SourceError(str(exc)) from None
    if not result.ok:
        raise SourceError(f"{url}: HTTP {result.status}")
    page = text_of(result.body, result.content_type, result.final_url)
    if not page.text.strip():
        raise SourceError(f"{url}: no article text found")
    return page


def track_text(store: Store, url: str, title: str, text: str) -> tuple[int, bool]:
    """Track an original. Its site's template (blocks repeated across the originals of that site, once
    three or more are tracked) is dropped first, so it cannot make unrelated pages look alike."""
    key = track_key(url)
    learner = load_learner(store, key)
    if not store.is_tracked_url(url):  # each original counts once towards its site's template
        learner.observe(key, text.split("\n\n"))
        store.save_template_state(key, learner.to_dict())
    text = drop_template_blocks(text, learner.template_hashes(key))
    prepared = Prepared.of(text)
    return store.add_article(url, title, text, article_fingerprints(list(prepared.tokens)))


def find_copies(store: Store, text: str, cfg: MatchSettings, exclude_url: str = "") -> list[Found]:
    """Tracked articles that `text` copies, best coverage first."""
    page = Prepared.of(text)
    found: list[Found] = []
    for article_id, _shared in store.candidates(
        page_fingerprints(list(page.tokens)), cfg.candidate_min_shared, cfg.max_candidates
    ):
        article = store.article(article_id)
        if exclude_url and article.url == exclude_url:
            continue
        m = compare(Prepared.of(article.text), page, cfg)
        if m is not None:
            found.append(Found(article, m))
    found.sort(key=lambda f: f.match.coverage, reverse=True)
    return found


def track_configured(store: Store, fetcher: Fetcher, cfg: Config) -> int:
    """Track the [[track]] sources of the config (idempotent); returns how many were new."""
    new = 0
    for t in cfg.track:
        url = cfg.resolve_source(t.source)
        try:
            page = read_source(fetcher, url)
        except SourceError as exc:
            log.error("track: %s", exc)
            continue
        _, created = track_text(store, url, t.title or page.title, page.text)
        new += created
    return new


def load_learner(store: Store, key: str) -> TemplateLearner:
    state = store.template_state(key)
    return TemplateLearner.from_dict(state) if state else TemplateLearner()


def track_key(url: str) -> str:
    """Template learning groups tracked originals by their site (host; folder for files)."""
    parts = urlsplit(url)
    return "track:" + (parts.netloc or parts.path.rsplit("/", 1)[0])


def track_publishers(store: Store, fetcher: Fetcher, cfg: Config) -> int:
    from monitor.publishers import track_new_entries  # it uses this module's track_text

    return track_new_entries(store, fetcher, cfg)


def scan_site(store: Store, fetcher: Fetcher, cfg: Config, site: Site,
              stop: threading.Event | None = None) -> SiteReport:
    report = SiteReport(site.name)
    channels = [c.label for c in cfg.notify]
    track_publishers(store, fetcher, cfg)  # the user's own feeds first, so new articles are matched below
    learner = load_learner(store, site.name)
    try:
        _scan_pages(store, fetcher, cfg, site, stop, report, channels, learner)
    finally:
        store.save_template_state(site.name, learner.to_dict())
    log.info("site %s: %d pages, %d copies, %d new alerts, %d errors", site.name, report.pages,
             report.copies, len(report.new_alerts), len(report.errors))
    return report


def _scan_pages(store: Store, fetcher: Fetcher, cfg: Config, site: Site, stop: threading.Event | None,
                report: SiteReport, channels: list[str], learner: TemplateLearner) -> None:
    for item in crawl(fetcher, site, [cfg.resolve_source(u) for u in site.start_urls], store=store,
                      user_agent=cfg.monitor.user_agent, polite=polite_settings(cfg.fetch), workers=cfg.fetch.workers,
                      sitemaps=[cfg.resolve_source(u) for u in site.sitemaps],
                      feeds=[cfg.resolve_source(u) for u in site.feeds]):
        if stop is not None and stop.is_set():
            report.abandoned = True
            log.info("site %s: run abandoned at shutdown after %d pages", site.name, report.pages)
            break
        if item.unchanged:  # not modified since it was last matched; crawl has recorded the visit
            report.pages += 1
            continue
        if item.result is None or item.page is None:
            store.record_page(item.url, site.name, item.result.final_url if item.result else item.url,
                              item.result.status if item.result else None, None, item.error)
            if item.result is None or not item.result.ok:
                report.errors.append(f"{item.url}: {item.error}")
            continue
        report.pages += 1
        result, page = item.result, item.page
        seen_before = store.page_hash(item.url) == result.sha256
        store.record_page(item.url, site.name, result.final_url, result.status, result.sha256)
        if not seen_before:  # each version of a page counts once towards the site's template
            learner.observe(site.name, page.paragraphs)
        text = drop_template_blocks(page.text, learner.template_hashes(site.name))
        if not text:
            continue
        own = page.canonical_url or page.og_url
        for f in find_copies(store, text, cfg.match, exclude_url=result.final_url):
            if own and own == f.article.url:
                continue  # the original itself, served under another address
            report.copies += 1
            raised = raise_alert(store, article=f.article, match=f.match, page_text=text,
                                 site=site.name, page_url=result.final_url,
                                 content_sha256=result.sha256, channels=channels)
            if raised.created:
                report.new_alerts.append(raised.alert_id)
                log.info("ALERT #%d site %s: %s", raised.alert_id, site.name,
                         summary(store.alert(raised.alert_id)))
