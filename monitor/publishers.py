"""Track the user's own new articles automatically, from the feeds and sitemaps of [[publishers]].

Each entry URL is read once: after that it is in the pages table under the site name
"publisher:<name>" and skipped. Entries are taken newest first, at most `max_new` per run.

A feed or sitemap that cannot be read means its new articles are never tracked and their copies never found, with
nothing else to show for it. So each pass is recorded in site_health under the same label, as a site's run is:
failing (logged once, at ERROR) when a feed or sitemap could not be read, or when new entries were tried and none
could be fetched. `provmon status` and `provmon run --once` report it.
"""

from __future__ import annotations

import logging
import threading

from monitor.config import Config, Site
from monitor.crawl import discover, held_politeness, keep_holds, polite_settings, record_health
from monitor.display import plural
from monitor.extract import text_of
from monitor.fetch import HTML_TYPES, Fetcher, FetchError, is_textual
from monitor.scan import Original, near_duplicate_warning, track_text
from monitor.store import Store

log = logging.getLogger(__name__)


def publisher_label(name: str) -> str:
    """The name a publisher's pages and health are kept under (pages.site, site_health.site)."""
    return f"publisher:{name}"


def track_new_entries(store: Store, fetcher: Fetcher, cfg: Config, stop: threading.Event | None = None) -> int:
    """Returns how many articles were newly tracked. Once `stop` is set nothing more is fetched or retried (the
    entries left are tracked by a later run: they are not on record as fetched)."""
    new = 0
    for pub in cfg.publishers:
        if stop is not None and stop.is_set():
            break
        label = publisher_label(pub.name)
        sitemaps = [cfg.resolve_source(u) for u in pub.sitemaps]
        feeds = [cfg.resolve_source(u) for u in pub.feeds]
        site = Site(name=label, start_urls=tuple(sitemaps + feeds), allow_private=pub.allow_private)
        polite = held_politeness(fetcher, store, cfg.monitor.user_agent, polite_settings(cfg.fetch), stop)
        entries, errors = discover(polite, site, sitemaps, feeds)
        health = store.site_health(label)
        quiet = health is not None and health.state == "failing"  # already reported: don't repeat each error
        level = logging.DEBUG if quiet else logging.WARNING
        failed = [f"{err.url}: {err.error}" for err in errors]
        for why in failed:
            log.log(level, "%s: %s", label, why)
        urls = list(dict.fromkeys(e.url for e, _ in entries))
        known = store.page_states(urls)
        todo = [u for u in urls if u not in known or known[u].status != 200][:pub.max_new]
        fetched = 0  # entries answered (with a page, or with one holding no article text)
        unread: list[str] = []
        for url in todo:
            if stop is not None and stop.is_set():
                break
            try:
                ok, why = polite.allowed(url, pub.allow_private)
                if not ok:
                    raise FetchError(url, why)
                r = polite.fetch(url, pub.allow_private, accept=HTML_TYPES)
            except FetchError as exc:
                log.log(level, "%s: %s", label, exc)
                store.record_page(url, label, url, None, None, exc.reason)
                unread.append(f"{url}: {exc.reason}")
                continue
            textual = r.ok and not r.skipped and is_textual(r.content_type, r.body)
            page = text_of(r.body, r.content_type, r.final_url) if textual else None
            if r.ok:
                fetched += 1
            else:
                unread.append(f"{url}: HTTP {r.status}{r.where}")
            if page is None or not page.text.strip():
                reason = r.skipped or (f"HTTP {r.status}{r.where}" if not r.ok else
                                       "no article text found" if textual else "not HTML or text")
                log.log(level, "%s: %s: %s", label, url, reason)
                store.record_page(url, label, r.final_url, r.status if not r.ok else None, None, reason)
                continue
            tracked = track_text(store, Original.of(url, page), near_duplicates=True)
            store.record_page(url, label, r.final_url, r.status, r.sha256)
            if tracked.created:
                new += 1
                log.info("%s: tracking new article %r <%s>", label, page.title, url)
            if warning := near_duplicate_warning(store, tracked, url):
                log.warning("%s: %s", label, warning)
        keep_holds(store, polite)
        if stop is not None and stop.is_set():
            continue  # cut short at shutdown: what failed may be the stop itself, not the feed
        if failed:
            more = plural(len(failed) - 1, "more feed or sitemap", "more feeds or sitemaps")
            failing = failed[0] + (f" (and {more})" if len(failed) > 1 else "")
        elif unread and not fetched:
            failing = f"none of {len(unread)} new entries could be fetched, e.g. {unread[0]}"
        else:
            failing = ""
        record_health(store, label, failing, label)
    return new
