"""Discover a site's pages: a bounded breadth-first crawl of same-site links from its start URLs."""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.config import Site
from monitor.extract import Extracted, text_of
from monitor.fetch import Fetcher, FetchError, FetchResult

log = logging.getLogger(__name__)

SKIP_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".pdf", ".zip", ".mp3", ".mp4", ".css",
                 ".js", ".ico", ".xml", ".json")


@dataclass(frozen=True)
class Crawled:
    url: str
    depth: int
    result: FetchResult | None
    page: Extracted | None
    error: str = ""


def _scope(url: str) -> tuple[str, str, str]:
    """Same scheme and host; for file:// sources, the start file's directory."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return ("file", "", parts.path.rsplit("/", 1)[0] + "/")
    return (parts.scheme, (parts.hostname or "").lower(), "/")


def in_scope(url: str, scopes: list[tuple[str, str, str]], site: Site) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not any(parts.scheme == s and host == h and parts.path.startswith(p) for s, h, p in scopes):
        return False
    if parts.path.lower().endswith(SKIP_SUFFIXES):
        return False
    if site.include and not any(re.search(rx, url) for rx in site.include):
        return False
    return not any(re.search(rx, url) for rx in site.exclude)


def crawl(fetcher: Fetcher, site: Site, start_urls: list[str]) -> Iterator[Crawled]:
    scopes = [_scope(u) for u in start_urls]
    queue: deque[tuple[str, int]] = deque((u, 0) for u in start_urls)
    seen = set(start_urls)
    fetched = 0
    while queue and fetched < site.max_pages:
        url, depth = queue.popleft()
        fetched += 1
        try:
            result = fetcher.fetch(url, allow_private=site.allow_private)
        except FetchError as exc:
            log.warning("site %s: %s", site.name, exc)
            yield Crawled(url, depth, None, None, exc.reason)
            continue
        if not result.ok:
            log.warning("site %s: %s: HTTP %s", site.name, url, result.status)
            yield Crawled(url, depth, result, None, f"HTTP {result.status}")
            continue
        ctype = result.content_type.lower()
        if ctype and not ctype.startswith(("text/html", "application/xhtml", "text/plain")):
            yield Crawled(url, depth, result, None, f"skipped content type {ctype}")
            continue
        page = text_of(result.body, result.content_type, result.final_url)
        yield Crawled(url, depth, result, page)
        if depth >= site.max_depth:
            continue
        for link in page.links:
            if link not in seen and in_scope(link, scopes, site):
                seen.add(link)
                queue.append((link, depth + 1))
