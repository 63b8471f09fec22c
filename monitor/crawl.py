"""Discover a site's pages and fetch the new or changed ones.

Sources: the start URLs, the site's sitemaps and feeds (and, if asked, the sitemaps its robots.txt names),
same-site links found on pages, up to `max_depth` hops, and what the last run had to leave; at most `max_pages`
fetches per run. Fetching and extraction run in a small thread pool under the per-host
rules of monitor.politeness; the caller consumes results in its own thread, where all store access
happens (SQLite connections are not shared between threads).

A page is unchanged, and not matched again, when the server answers 304 to our validators or the
body hashes the same as last time, provided no article was tracked since it was last matched.

`max_pages` bounds the requests of one run, 304s included, so a run must not take pages in the same order every
time: the budget would go to the same first pages and a page found after them never be asked for. The frontier is
a priority queue: the start URLs, then pages never fetched (and sitemap/feed entries whose lastmod is newer than
last time) in the order they were found, then pages fetched before, longest ago first. What a run had to leave is
kept for the next one with its depth (Backlog, a row of the store's meta table), so pages found only behind others
(a hub's articles) are reached too; a log line and the site's run summary say how much was left.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from queue import SimpleQueue
from urllib.parse import urlsplit

from monitor.config import FetchSettings, Site
from monitor.discover import DiscoveryError, Entry, parse
from monitor.display import plural
from monitor.extract import Extracted, text_of
from monitor.fetch import HTML_TYPES, XML_TYPES, Fetcher, FetchError, FetchResult, is_textual, now_iso, split_url
from monitor.politeness import Politeness, PoliteSettings
from monitor.store import PageState, Store
from monitor.urls import canonical

log = logging.getLogger(__name__)

SKIP_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".pdf", ".zip", ".mp3", ".mp4", ".css",
                 ".js", ".ico", ".xml", ".json")
CHALLENGE_MARKERS = (b"challenge-platform", b"cf-chl-", b"captcha", b"Just a moment...", b"Access denied")
MAX_SITEMAPS = 50  # sitemap files read per run, index children included
BLOCKING_STATUSES = {401, 403, 429}
FLUSH_EVERY = 50
# A page bigger than this is extracted while no other big page of the crawl is: a 5 MB table holds ~300 MB
# during extraction (bench/big_pages.py), so `workers` threads could otherwise hold several at once.
BIG_PAGE = 1_000_000
# URLs a run cut short by max_pages keeps for the next one, best first; the rest are found again through links.
MAX_BACKLOG = 10_000


@dataclass(frozen=True)
class Crawled:
    url: str
    depth: int
    result: FetchResult | None
    page: Extracted | None
    error: str = ""
    unchanged: bool = False  # 304, or the same content as last time with no article tracked since
    via: str = "link"  # start, link, sitemap, feed
    previous_sha256: str | None = None  # of the body at the last visit (with a store), None if never fetched


@dataclass(frozen=True)
class _Task:
    url: str
    depth: int
    via: str
    lastmod: str = ""
    state: PageState | None = None


@dataclass
class _Stats:
    fetched: int = 0
    ok: int = 0
    unchanged: int = 0
    blocked: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Backlog:
    """What a site's last run left for later when `max_pages` cut it short."""

    at: str  # when that run ended
    max_pages: int
    left: int  # known URLs it did not fetch (in scope, allowed by robots.txt)
    never: int  # ...of which never fetched
    tasks: tuple[tuple[str, int, str, str], ...] = ()  # (url, depth, via, lastmod), best first; MAX_BACKLOG at most

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, "max_pages": self.max_pages, "left": self.left, "never_fetched": self.never}

    def summary(self) -> str:
        return f"max_pages ({self.max_pages}) reached: {left_text(self.left, self.never)}"


def left_text(left: int, never: int) -> str:
    """What max_pages left of a site's known URLs for later runs (Backlog.summary, and `provmon status`)."""
    return f"{plural(left, 'known URL')} left for later runs, {never} of them never fetched"


def backlog(store: Store, site: str) -> Backlog | None:
    """The backlog a site's last run left (None: that run reached every page it knew of)."""
    data = store.crawl_backlog(site)
    if data is None:
        return None
    return Backlog(data["at"], int(data["max_pages"]), int(data["left"]), int(data["never_fetched"]),
                   tuple((str(u), int(d), str(v), str(m)) for u, d, v, m in data["tasks"]))


def _save_backlog(store: Store, site: str, kept: Backlog | None) -> None:
    store.set_crawl_backlog(site, None if kept is None else {**kept.to_dict(), "tasks": kept.tasks})


def polite_settings(fetch: FetchSettings) -> PoliteSettings:
    return PoliteSettings(min_delay=fetch.min_delay, max_per_host=fetch.max_per_host, obey_robots=fetch.obey_robots,
                          max_retries=fetch.max_retries, max_retry_after=fetch.max_retry_after)


def _scope(url: str) -> tuple[str, str, str]:
    """Same scheme and host; for file:// sources, the start file's directory."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return ("file", "", parts.path.rsplit("/", 1)[0] + "/")
    return (parts.scheme, (parts.hostname or "").lower(), "/")


def _follow_moved_start(site: Site, start: str, landed: str, scopes: list[tuple[str, str, str]]) -> None:
    """A start URL that redirects to another scheme or host (http to https, example.com to www.example.com, a site
    moved to a new domain): its links are followed there too, in this run. Until session 17 only the start URLs'
    own hosts were crawled, so such a site was scanned at its home page alone, run after run, with no error."""
    scope = _scope(landed)
    if scope in scopes or urlsplit(landed).scheme not in ("http", "https"):
        return
    scopes.append(scope)
    same = (urlsplit(start).hostname or "").removeprefix("www.") == (urlsplit(landed).hostname or "").removeprefix(
        "www.")
    log.log(logging.INFO if same else logging.WARNING,
            "site %s: start URL %s redirects to %s: its links there are followed too (put the address it lands on "
            "in start_urls to say so)", site.name, start, landed)


def in_scope(url: str, scopes: list[tuple[str, str, str]], site: Site) -> bool:
    try:
        parts = split_url(url)
    except FetchError:  # a malformed link or sitemap entry is not followed
        return False
    host = (parts.hostname or "").lower()
    if not any(parts.scheme == s and host == h and parts.path.startswith(p) for s, h, p in scopes):
        return False
    if parts.path.lower().endswith(SKIP_SUFFIXES):
        return False
    return not left_out(url, site)


def _leaving_rule(url: str, site: Site) -> str:
    """The site's rule that leaves `url` out, with its verb ("include rules leave", "exclude rule '…' leaves"), or
    "" when none does."""
    if site.include and not any(re.search(rx, url) for rx in site.include):
        return "include rules leave"
    rx = next((rx for rx in site.exclude if re.search(rx, url)), None)
    return f"exclude rule {rx!r} leaves" if rx is not None else ""


def left_out(url: str, site: Site) -> str:
    """Why the site's include/exclude rules leave `url` out ("" when they do not): the crawl, its redirects and the
    recheck of flagged copies keep to them alike."""
    rule = _leaving_rule(url, site)
    return f"the site's {rule} it out" if rule else ""


def redirect_excluded(result: FetchResult, site: Site) -> str:
    """Why a page reached through redirects is not the site's to scan ("" when it is): a hop to a URL the site's
    include/exclude rules leave out. A hop to another host is followed: example.com sends its pages to
    www.example.com, a scraper to its CDN, and the copy is what the site serves (every hop's address is checked
    by the fetcher as the first URL's is)."""
    for hop in result.hops:
        if rule := _leaving_rule(hop, site):
            return f"skipped: redirected to {hop}, which the site's {rule} out"
    return ""


def challenge_reason(result: FetchResult) -> str:
    """A block or bot challenge in place of the page ("" if none)."""
    if result.status not in BLOCKING_STATUSES | {503}:
        return ""
    if "cf-mitigated" in result.headers or any(m in result.body[:20_000] for m in CHALLENGE_MARKERS):
        return f"blocked: challenge page (HTTP {result.status})"
    return f"blocked: HTTP {result.status}" if result.status in BLOCKING_STATUSES else ""


def validators(state: PageState | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if state is not None and state.etag:
        headers["if-none-match"] = state.etag
    if state is not None and state.last_modified:
        headers["if-modified-since"] = state.last_modified
    return headers


def discover(polite: Politeness, site: Site, sitemaps: list[str], feeds: list[str],
             max_bytes: int = 50_000_000) -> tuple[list[tuple[Entry, str]], list[Crawled]]:
    """Entries of the site's sitemaps (index children followed) and feeds, with the errors met."""
    entries: list[tuple[Entry, str]] = []
    errors: list[Crawled] = []
    todo = deque([(u, "sitemap") for u in sitemaps] + [(u, "feed") for u in feeds])
    done: set[str] = set()
    while todo and len(done) < MAX_SITEMAPS:
        url, via = todo.popleft()
        if url in done:
            continue
        done.add(url)
        try:
            ok, why = polite.allowed(url, site.allow_private)
            if not ok:
                raise FetchError(url, why)
            r = polite.fetch(url, site.allow_private, accept=(*XML_TYPES, "text/html"))
            if not r.ok:
                raise FetchError(url, f"HTTP {r.status}{r.where}")
            if r.skipped:
                raise FetchError(url, r.skipped)
            found = parse(r.body, max_bytes)
        except (FetchError, DiscoveryError) as exc:
            reason = exc.reason if isinstance(exc, FetchError) else str(exc)
            errors.append(Crawled(url, 0, None, None, f"{via} {reason}", via=via))
            continue
        todo.extend((s.url, "sitemap") for s in found.sitemaps)
        entries.extend((e, via) for e in found.pages)
    # newest first, so the page budget goes to new articles
    entries.sort(key=lambda ev: ev[0].lastmod, reverse=True)
    return entries, errors


def held_politeness(fetcher: Fetcher, store: Store | None, user_agent: str, settings: PoliteSettings,
                    stop: threading.Event | None = None) -> Politeness:
    """Politeness for a run: hosts that asked an earlier run to stay away longer than it waited (Retry-After beyond
    fetch.max_retry_after) are skipped until then. Hand it to keep_holds when done. Every fetching pass of the
    service (crawl, recheck, publishers' feeds) goes through it, so no pass asks a held host."""
    return Politeness(fetcher, user_agent, settings, stop=stop, held=store.host_holds() if store else None)


def keep_holds(store: Store | None, politeness: Politeness) -> None:
    """Keep the holds hosts asked for in this run, for the runs after it."""
    if store is not None:
        for host, (until, why) in politeness.holds().items():
            store.hold_host(host, until, why)


def crawl(fetcher: Fetcher, site: Site, start_urls: list[str], *, store: Store | None = None,
          user_agent: str = "ProvenanceMonitor", polite: PoliteSettings | None = None, workers: int = 4,
          sitemaps: list[str] | None = None, feeds: list[str] | None = None,
          stop: threading.Event | None = None) -> Iterator[Crawled]:
    """Yield each page visited; with a store, only new or changed pages come with unchanged=False,
    and the site's health (failing / recovered) is updated and logged once per change. Once `stop` is set
    no new fetch starts and none is retried (Politeness): the pages in flight end with an error."""
    politeness = held_politeness(fetcher, store, user_agent, polite or PoliteSettings(), stop)
    health = store.site_health(site.name) if store else None
    quiet = health is not None and health.state == "failing"  # already reported: don't repeat each error
    upto = store.max_article_id() if store else 0
    stats = _Stats()
    invalid: dict[str, str] = {}
    for u in start_urls:
        try:
            split_url(u, strict=True)
        except FetchError as exc:
            invalid[u] = exc.reason
    scopes = [_scope(u) for u in start_urls if u not in invalid]

    def note(item: Crawled) -> Crawled:
        if item.error and not item.error.startswith("skipped"):
            stats.errors.append(f"{item.url}: {item.error}")
            log.log(logging.DEBUG if quiet else logging.WARNING, "site %s: %s: %s", site.name, item.url, item.error)
        return item

    # Page records and crawl state are written in batches: one transaction per FLUSH_EVERY pages instead of
    # one per page, each taking the database's write lock. Only pages the caller has finished processing
    # (matched, alerts raised) go into a batch, so losing one in a crash only means those pages are fetched
    # and matched again next run.
    rows: list[tuple[str, str, int | None, str | None, str | None]] = []
    marks: list[tuple[str, str | None, str | None, str | None, int]] = []
    touched: list[tuple[str, int]] = []

    def flush() -> None:
        if store is not None and (rows or marks or touched):
            store.save_page_states(site.name, marks, touched, rows)
        rows.clear()
        marks.clear()
        touched.clear()

    def processed(item: Crawled) -> None:
        """Record a page the caller is done with (unchanged pages are recorded as touched)."""
        r = item.result
        if item.unchanged:
            return
        if r is None or item.page is None:
            rows.append((item.url, r.final_url if r else item.url, r.status if r else None, None, item.error))
        else:  # a page cut before extraction keeps saying so in its record
            rows.append((item.url, r.final_url, r.status, r.sha256, item.page.warning or None))

    def states_of(urls: list[str]) -> dict[str, PageState]:
        return store.page_states(urls) if store is not None and urls else {}

    # The frontier: start URLs first, then pages never fetched (or whose sitemap/feed lastmod is newer than last
    # time) in the order found, then pages fetched before, longest ago first (module docstring).
    frontier: list[tuple[tuple[int, str, int], _Task]] = []
    order = itertools.count()

    def push(batch: list[_Task]) -> None:
        for t in batch:
            when = t.state.fetched_at if t.state is not None else None
            changed = bool(t.lastmod and t.state is not None and t.state.lastmod and t.lastmod > t.state.lastmod)
            rank = 0 if t.via == "start" else 1 if when is None or changed else 2
            heapq.heappush(frontier, ((rank, (when or "") if rank == 2 else "", next(order)), t))

    seen: set[str] = set()
    starts: list[_Task] = []
    start_states = states_of(start_urls)
    for u in start_urls:
        seen.update((u, canonical(u)))
        if u in invalid:  # recorded as this page's error; the site's other pages are still crawled
            item = note(Crawled(u, 0, None, None, invalid[u], via="start"))
            yield item
            processed(item)
            continue
        ok, why = politeness.allowed(u, site.allow_private)
        if ok:
            starts.append(_Task(u, 0, "start", state=start_states.get(u)))
        else:
            stats.blocked += 1
            item = note(Crawled(u, 0, None, None, why, via="start"))
            yield item
            processed(item)
    push(starts)
    maps = list(sitemaps or [])
    if site.robots_sitemaps:
        maps += [m for u in start_urls if u not in invalid for m in politeness.sitemaps(u, site.allow_private)]
    if maps or feeds:
        entries, errors = discover(politeness, site, list(dict.fromkeys(maps)), list(feeds or []),
                                   max_bytes=max(fetcher.max_bytes * 10, 50_000_000))
        for err in errors:
            yield note(err)
            processed(err)
        entries = [(replace(e, url=canonical(e.url)), via) for e, via in entries]
        fresh = [(e, via) for e, via in entries if e.url not in seen and in_scope(e.url, scopes, site)]
        states = states_of([e.url for e, _ in fresh])
        listed: list[_Task] = []
        for e, via in fresh:
            if e.url in seen:  # two entries for one page
                continue
            seen.add(e.url)
            st = states.get(e.url)
            if (st is not None and st.status == 200 and e.lastmod and st.lastmod and e.lastmod <= st.lastmod
                    and (st.checked_upto or 0) >= upto):
                stats.unchanged += 1  # lastmod says nothing new: not even a request
                continue
            listed.append(_Task(e.url, site.max_depth, via, e.lastmod, st))
        push(listed)  # newest lastmod first (discover), so among new pages the budget goes to new articles
    prior = backlog(store, site.name) if store is not None else None
    if prior is not None:  # what the last run had to leave, with the depth it was found at
        carried: list[tuple[str, int, str, str]] = []
        for url, depth, via, lastmod in prior.tasks:
            if url in seen or depth > site.max_depth or not in_scope(url, scopes, site):
                continue
            seen.add(url)
            if politeness.allowed(url, site.allow_private)[0]:
                carried.append((url, depth, "link" if via == "start" else via, lastmod))
        states = states_of([u for u, *_ in carried])
        push([_Task(u, d, v, m, states.get(u)) for u, d, v, m in carried])

    big_pages = threading.Lock()

    def visit(t: _Task) -> Crawled:
        fresh_check = t.state is not None and (t.state.checked_upto or 0) >= upto
        # Pages whose links we follow are fetched in full: a 304 would hide their links.
        headers = validators(t.state) if fresh_check and t.depth >= site.max_depth else {}
        try:
            result = politeness.fetch(t.url, site.allow_private, headers=headers, accept=HTML_TYPES)
        except FetchError as exc:
            return Crawled(t.url, t.depth, None, None, exc.reason, via=t.via)
        if result.not_modified:
            if headers:  # a 304 only means "unchanged" as the answer to our validators
                return Crawled(t.url, t.depth, result, None, unchanged=True, via=t.via)
            return Crawled(t.url, t.depth, result, None, "HTTP 304 to a request without validators", via=t.via)
        if not result.ok:
            return Crawled(t.url, t.depth, result, None,
                           (challenge_reason(result) or f"HTTP {result.status}") + result.where, via=t.via)
        excluded = redirect_excluded(result, site)
        if excluded:
            return Crawled(t.url, t.depth, result, None, excluded, via=t.via)
        if result.skipped:
            return Crawled(t.url, t.depth, result, None, result.skipped, via=t.via)
        if not is_textual(result.content_type, result.body):  # a PDF or image, sent untyped or as text/html
            ctype = result.content_type.split(";")[0].strip() or "none"
            return Crawled(t.url, t.depth, result, None, f"skipped: binary content (content type {ctype})",
                           via=t.via)
        same = fresh_check and t.state is not None and t.state.content_sha256 == result.sha256
        if same and t.depth >= site.max_depth:
            return Crawled(t.url, t.depth, result, None, unchanged=True, via=t.via)
        if len(result.body) > BIG_PAGE:  # one at a time: each costs up to ~60 MB per MB of markup while extracted
            with big_pages:
                page = text_of(result.body, result.content_type, result.final_url)
        else:
            page = text_of(result.body, result.content_type, result.final_url)
        return Crawled(t.url, t.depth, result, page, unchanged=same, via=t.via,
                       previous_sha256=t.state.content_sha256 if t.state is not None else None)

    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix=f"crawl-{site.name}")
    inflight: dict[Future[Crawled], _Task] = {}
    # Finished futures queue up here: waiting on one queue costs the same however many are in flight
    # (concurrent.futures.wait hooks into every pending future on each call).
    finished: SimpleQueue[Future[Crawled]] = SimpleQueue()
    try:
        while frontier or inflight:
            while (frontier and len(inflight) < 2 * workers and stats.fetched < site.max_pages
                   and (stop is None or not stop.is_set())):
                t = heapq.heappop(frontier)[1]
                stats.fetched += 1
                fut = pool.submit(visit, t)
                inflight[fut] = t
                fut.add_done_callback(finished.put)
            if not inflight:
                break
            fut = finished.get()
            t = inflight.pop(fut)
            item = note(fut.result())
            r = item.result
            if t.via == "start" and r is not None and r.ok and r.final_url != t.url:
                _follow_moved_start(site, t.url, r.final_url, scopes)
            answered = r is not None and (r.ok or (r.not_modified and item.unchanged))
            if answered:
                stats.ok += 1
            elif item.error.startswith(("blocked", "disallowed")):
                stats.blocked += 1
            if item.unchanged:
                stats.unchanged += 1
                touched.append((t.url, 200 if r is None or r.not_modified else r.status))
            yield item
            # Resumed: the caller has processed (matched, alerted) the page, so record it and mark it checked.
            processed(item)
            if r is not None and answered and not item.error:  # skipped pages are not marked checked
                marks.append((t.url, r.headers.get("etag") or _keep(t, "etag"),
                              r.headers.get("last-modified") or _keep(t, "last_modified"), t.lastmod or None, upto))
            if len(rows) + len(touched) >= FLUSH_EVERY:
                flush()
            if item.page is None or item.depth >= site.max_depth:
                continue
            links: list[str] = []
            for written in item.page.links:
                if written in seen:  # most links repeat (navigation): no parsing for them
                    continue
                link = canonical(written)  # one page, one fetch: not one per utm_source
                known = link in seen
                seen.update((written, link))
                if known or not in_scope(link, scopes, site):
                    continue
                ok, why = politeness.allowed(link, site.allow_private)
                if ok:
                    links.append(link)
                else:
                    log.debug("site %s: %s: %s", site.name, link, why)
            states = states_of(links)  # one query for the page's new links
            push([_Task(link, item.depth + 1, "link", state=states.get(link)) for link in links])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        flush()  # also when the caller stops early: the batch holds only pages it finished
        keep_holds(store, politeness)
    stopped = stop is not None and stop.is_set()
    log.info("site %s: %d fetched, %d unchanged, %s", site.name, stats.fetched, stats.unchanged,
             plural(len(stats.errors), "error"))
    left = None  # a run stopped at shutdown leaves no backlog of its own: it is due again as a whole
    if frontier and not stopped:
        best = heapq.nsmallest(MAX_BACKLOG, frontier)  # the keys are unique: tasks are never compared
        left = Backlog(now_iso(), site.max_pages, len(frontier), sum(t.state is None for _, t in frontier),
                       tuple((t.url, t.depth, t.via, t.lastmod) for _, t in best))
        log.info("site %s: %s (pages never fetched, then those fetched longest ago, go first)", site.name,
                 left.summary())
    if store is not None:
        if not stopped:
            _save_backlog(store, site.name, left)
        update_health(store, site.name, stats)


def _keep(t: _Task, name: str) -> str | None:
    return getattr(t.state, name) if t.state is not None else None


def update_health(store: Store, site: str, stats: _Stats) -> None:
    """Report a site once when it starts failing (with the reason) and once when it recovers."""
    attempts = stats.ok + len(stats.errors)
    failing = ""
    if stats.errors and stats.ok == 0:
        failing = stats.errors[0]
    elif stats.blocked >= 3 and stats.blocked * 2 >= attempts:
        failing = f"blocking most requests ({stats.blocked} of {attempts}), e.g. {stats.errors[0]}"
    record_health(store, site, failing, f"site {site}")


def record_health(store: Store, name: str, failing: str, shown: str) -> None:
    """Record a run of `name` (a site, or "publisher:<name>") in site_health: failing (`failing` says why) or not.
    The change is logged once, as `shown` (ERROR when it starts failing, WARNING when it recovers); the failing
    runs are counted (`provmon status` reports a site failing for several runs in a row)."""
    prev = store.site_health(name)
    if failing:
        if prev is None or prev.state != "failing":
            log.error("%s is FAILING: %s (reported once; logged again when it recovers)", shown, failing)
            store.set_site_health(name, "failing", failing, 1, now_iso())
        else:
            store.set_site_health(name, "failing", prev.reason, prev.failures + 1, prev.since)
    elif prev is not None and prev.state == "failing":
        log.warning("%s RECOVERED after %s since %s (was: %s)", shown, plural(prev.failures, "failed run"),
                    prev.since, prev.reason)
        store.set_site_health(name, "ok", "", 0, now_iso())
    elif prev is None:
        store.set_site_health(name, "ok", "", 0, now_iso())
