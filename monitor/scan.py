"""The pipeline, composed: track originals, check a text against them, scan a site.

sources -> fetch -> extract -> fingerprint and match -> store -> alerts. The CLI and the
scheduler call these functions; nothing below this module imports it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from monitor.alerts import raise_alert, summary
from monitor.config import Config, MatchSettings, Site
from monitor.crawl import crawl, polite_settings
from monitor.extract import Extracted, text_of
from monitor.fetch import Fetcher, FetchError
from monitor.fingerprint import article_fingerprints, page_fingerprints
from monitor.match import Match, Prepared, compare
from monitor.store import Article, Store

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


def track_publishers(store: Store, fetcher: Fetcher, cfg: Config) -> int:
    from monitor.publishers import track_new_entries  # it uses this module's track_text

    return track_new_entries(store, fetcher, cfg)


def scan_site(store: Store, fetcher: Fetcher, cfg: Config, site: Site) -> SiteReport:
    report = SiteReport(site.name)
    channels = [c.label for c in cfg.notify]
    track_publishers(store, fetcher, cfg)  # the user's own feeds first, so new articles are matched below
    for item in crawl(fetcher, site, [cfg.resolve_source(u) for u in site.start_urls], store=store,
                      user_agent=cfg.monitor.user_agent, polite=polite_settings(cfg.fetch), workers=cfg.fetch.workers,
                      sitemaps=[cfg.resolve_source(u) for u in site.sitemaps],
                      feeds=[cfg.resolve_source(u) for u in site.feeds]):
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
        store.record_page(item.url, site.name, result.final_url, result.status, result.sha256)
        if not page.text:
            continue
        own = page.canonical_url or page.og_url
        for f in find_copies(store, page.text, cfg.match, exclude_url=result.final_url):
            if own and own == f.article.url:
                continue  # the original itself, served under another address
            report.copies += 1
            raised = raise_alert(store, article=f.article, match=f.match, page_text=page.text,
                                 site=site.name, page_url=result.final_url,
                                 content_sha256=result.sha256, channels=channels)
            if raised.created:
                report.new_alerts.append(raised.alert_id)
                log.info("ALERT #%d site %s: %s", raised.alert_id, site.name,
                         summary(store.alert(raised.alert_id)))
    log.info("site %s: %d pages, %d copies, %d new alerts, %d errors", site.name, report.pages,
             report.copies, len(report.new_alerts), len(report.errors))
    return report
