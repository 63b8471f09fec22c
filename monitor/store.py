"""The SQLite store: tracked articles and their fingerprint index, fetched pages, matches,
alerts and the notification outbox. One file, WAL mode, written through sqlite-utils.

An alert and its pending notifications are written in one transaction, so a crash can never
leave an alert that nobody will be told about, nor a notification for an alert that is not there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import sqlite_utils

from monitor.display import percent
from monitor.evidence import Evidence
from monitor.fetch import now_iso
from monitor.fingerprint import (
    EXTRA_BELOW,
    EXTRA_VERSION,
    FINGERPRINT_VERSION,
    NORMALISATION_VERSION,
    article_fingerprints_of,
    extra_fingerprints_of,
    normalisation_changed,
    page_fingerprints_of,
)
from monitor.index import Index, IndexFileError, adopt, who
from monitor.process import holder_alive, holder_id

log = logging.getLogger(__name__)

SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fingerprints (
    hash INTEGER NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    PRIMARY KEY (hash, article_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    final_url TEXT,
    status INTEGER,
    content_sha256 TEXT,
    fetched_at TEXT NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    page_url TEXT NOT NULL,
    site TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    coverage REAL NOT NULL,
    page_share REAL NOT NULL,
    longest_run INTEGER NOT NULL,
    score REAL NOT NULL,
    passages TEXT NOT NULL,
    found_at TEXT NOT NULL,
    UNIQUE (article_id, page_url, content_sha256)
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles(id),
    article_title TEXT NOT NULL,
    article_url TEXT NOT NULL,
    copy_url TEXT NOT NULL,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    coverage REAL NOT NULL,
    page_share REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    match_id INTEGER REFERENCES matches(id),
    UNIQUE (article_id, copy_url)
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS alerts_created ON alerts(created_at);
CREATE VIEW IF NOT EXISTS alert_log AS
    SELECT a.id, a.created_at, a.status, a.kind, round(a.coverage * 100) AS coverage_pct, a.site, a.copy_url,
           a.article_title, a.article_url,
           (SELECT group_concat(n.channel || ':' || n.status, ', ') FROM notifications n WHERE n.alert_id = a.id)
               AS notifications
    FROM alerts a ORDER BY a.created_at DESC, a.id DESC;
CREATE INDEX IF NOT EXISTS notifications_pending ON notifications(status) WHERE status != 'sent';
"""

# Version 2: the scheduler's per-site state, so a restart resumes the plan and `provmon status` can tell.
SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS site_state (
    site TEXT PRIMARY KEY,
    next_run TEXT,
    last_start TEXT,
    last_end TEXT,
    last_result TEXT,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    runs INTEGER NOT NULL DEFAULT 0,
    pages_seen INTEGER NOT NULL DEFAULT 0,
    alerts_raised INTEGER NOT NULL DEFAULT 0
);
"""

# Version 3: learned site templates (monitor.templates.TemplateLearner state, one JSON object per site).
SCHEMA_V3 = """
CREATE TABLE IF NOT EXISTS templates (
    site TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# Version 4, crawl state: validators for conditional GET, the sitemap/feed date last acted on, the highest
# article id a page was matched against (a page is re-matched when articles were tracked since), and per-site health.
MIGRATION_CRAWL_STATE = """
ALTER TABLE pages ADD COLUMN http_etag TEXT;
ALTER TABLE pages ADD COLUMN http_last_modified TEXT;
ALTER TABLE pages ADD COLUMN lastmod TEXT;
ALTER TABLE pages ADD COLUMN checked_upto INTEGER;
CREATE TABLE IF NOT EXISTS site_health (
    site TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    reason TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    since TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

# Version 5 (alerts): the alert lifecycle, credit and severity, evidence for every alert, ignore rules,
# and an outbox with backoff and leases. Self-contained: only adds columns, tables, indexes and views.
SCHEMA_V5_ALERTS = """
ALTER TABLE alerts ADD COLUMN severity TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN credit TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE alerts ADD COLUMN credit_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN updated_at TEXT;
ALTER TABLE alerts ADD COLUMN last_checked_at TEXT;
ALTER TABLE alerts ADD COLUMN last_check TEXT;
ALTER TABLE alerts ADD COLUMN note TEXT;
UPDATE alerts SET updated_at = created_at WHERE updated_at IS NULL;
ALTER TABLE matches ADD COLUMN disposition TEXT NOT NULL DEFAULT 'alert';
ALTER TABLE notifications ADD COLUMN event TEXT NOT NULL DEFAULT 'copy_detected';
ALTER TABLE notifications ADD COLUMN event_id INTEGER;
ALTER TABLE notifications ADD COLUMN next_attempt_at TEXT;
ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
ALTER TABLE notifications ADD COLUMN claimed_until TEXT;
CREATE TABLE IF NOT EXISTS alert_events (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    match_id INTEGER REFERENCES matches(id),
    reason TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    url TEXT NOT NULL,
    final_url TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    raw_size INTEGER NOT NULL,
    raw_zlib BLOB,
    page_text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ignore_rules (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    site TEXT,
    url_pattern TEXT,
    from_alert INTEGER REFERENCES alerts(id),
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status);
CREATE INDEX IF NOT EXISTS alert_events_alert ON alert_events(alert_id);
CREATE INDEX IF NOT EXISTS evidence_alert ON evidence(alert_id);
DROP VIEW IF EXISTS alert_log;
CREATE VIEW alert_log AS
    SELECT a.id, a.created_at, a.status, a.severity, a.kind, round(a.coverage * 100) AS coverage_pct,
           a.credit, a.site, a.copy_url, a.article_title, a.article_url, a.updated_at, a.last_checked_at,
           a.last_check, a.note,
           (SELECT count(*) FROM json_each(m.passages)) AS passages,
           e.fetched_at, e.http_status, e.final_url, e.sha256 AS content_sha256,
           (SELECT group_concat(n.channel || ':' || n.event || ':' || n.status, ', ') FROM notifications n
             WHERE n.alert_id = a.id) AS notifications
    FROM alerts a
    LEFT JOIN matches m ON m.id = a.match_id
    LEFT JOIN evidence e ON e.id = (SELECT min(id) FROM evidence WHERE alert_id = a.id)
    ORDER BY a.created_at DESC, a.id DESC
"""

# Version 6 (candidate index, monitor.index): `fingerprints` becomes the index's recent segment with 32-bit
# hashes (the old 63-bit rows are dropped; the store re-indexes its articles on open), packed segments
# live in a file beside the database named in meta, removed articles leave a tombstone until compaction.
SCHEMA_V6_INDEX = """
CREATE TABLE IF NOT EXISTS index_removed (article_id INTEGER PRIMARY KEY);
DELETE FROM fingerprints;
DELETE FROM meta WHERE key IN ('index_segment', 'index_generation', 'index_fingerprints');
INSERT OR REPLACE INTO meta (key, value) VALUES ('index_recent', '0');
"""

# Version 7: tracking an archive asks "is this URL tracked?" once per article; without an index that is a
# scan of every article (quadratic over a 100k-article archive).
SCHEMA_V7_ARTICLE_URL = """
CREATE INDEX IF NOT EXISTS articles_url ON articles (url);
"""

# Version 8: one current article per URL. Tracking a URL again with another text (a correction, an edited
# file) replaces its article: the old one leaves the index and, when matches or alerts refer to it, stays as
# their record with `replaced_by` set and its sha256 prefixed "replaced:<id>:" (sha256 is UNIQUE, and the old
# text may come back). Stores from before keep their duplicates until opened (Store._retire_duplicate_urls).
SCHEMA_V8_ARTICLE_VERSIONS = """
ALTER TABLE articles ADD COLUMN replaced_by INTEGER;
CREATE INDEX IF NOT EXISTS articles_replaced ON articles (replaced_by) WHERE replaced_by IS NOT NULL;
"""

# Version 9: each reader's recent filter (monitor.index.RecentFilter) reads the recent rows of the articles added
# since it last looked (article_id above the ones it holds), and removing an article deletes its recent rows: both
# were scans of the recent table (up to 1M rows).
SCHEMA_V9_RECENT_BY_ARTICLE = """
CREATE INDEX IF NOT EXISTS fingerprints_article ON fingerprints (article_id);
"""

# Version 10: a short article is also indexed by its other 3-grams, as extra postings (monitor.fingerprint
# extra_fingerprints_of), which count towards its votes (its rank: what its sample would meet); the recent table
# marks them. Articles tracked before get theirs on open (Store._add_missing_extras).
SCHEMA_V10_EXTRA_POSTINGS = """
ALTER TABLE fingerprints ADD COLUMN extra INTEGER NOT NULL DEFAULT 0;
"""

# Version 11: `provmon ignore ID --site --pattern RE` recorded one rule needing both to match, while it said (and the
# docs said) that it records two: one for the site, one for the pattern. Each such rule becomes those two.
SCHEMA_V11_SPLIT_IGNORE_RULES = """
INSERT INTO ignore_rules (created_at, site, url_pattern, from_alert, note)
    SELECT created_at, NULL, url_pattern, from_alert, note FROM ignore_rules
    WHERE site IS NOT NULL AND url_pattern IS NOT NULL ORDER BY id;
UPDATE ignore_rules SET url_pattern = NULL WHERE site IS NOT NULL AND url_pattern IS NOT NULL;
"""

# Version 12: the share of an alert's copied text that the page hides when it loads (a copy kept in the markup for
# search engines and not shown to readers; docs/alerts.md, "Hidden copies"). Alerts raised before are 0: unknown.
SCHEMA_V12_HIDDEN = """
ALTER TABLE alerts ADD COLUMN hidden REAL NOT NULL DEFAULT 0;
DROP VIEW IF EXISTS alert_log;
CREATE VIEW alert_log AS
    SELECT a.id, a.created_at, a.status, a.severity, a.kind, round(a.coverage * 100) AS coverage_pct,
           a.credit, a.hidden, a.site, a.copy_url, a.article_title, a.article_url, a.updated_at, a.last_checked_at,
           a.last_check, a.note,
           (SELECT count(*) FROM json_each(m.passages)) AS passages,
           e.fetched_at, e.http_status, e.final_url, e.sha256 AS content_sha256,
           (SELECT group_concat(n.channel || ':' || n.event || ':' || n.status, ', ') FROM notifications n
             WHERE n.alert_id = a.id) AS notifications
    FROM alerts a
    LEFT JOIN matches m ON m.id = a.match_id
    LEFT JOIN evidence e ON e.id = (SELECT min(id) FROM evidence WHERE alert_id = a.id)
    ORDER BY a.created_at DESC, a.id DESC
"""

# Version 13: telling whether a match at a new address is the same copy as one of the site's alerts of the article
# compared it with every such alert by fingerprinting each alert's passages again (1.3 ms each: 1.3 s a new page at
# 1,300 alerts, inside the write transaction). An alert's match keeps its copy's 3-grams (copy_shingles), filled in on
# first use for alerts from before; and an address is looked up among the also_at events by an index.
SCHEMA_V13_COPY_SHINGLES = """
ALTER TABLE matches ADD COLUMN copy_shingles BLOB;
CREATE INDEX IF NOT EXISTS alert_events_also_at ON alert_events (detail) WHERE event = 'also_at';
"""

# Version 14: where an alert's copy is now. A notice must name the addresses that carry the copy, not every one it was
# ever seen at (a tag page drops a post as newer ones arrive), and a removed copy's addresses are fetched a few at a
# time rather than all at every recheck. One row per address whose state is known: `present` 0 once a recheck found the
# copy gone from it (1 again when a recheck or a scan finds it back), `since` when that last changed, `checked_at` and
# `probed` (the alert's recheck round) the last fetch. An address without a row carries the copy as far as is known.
# A removed alert's addresses are gone: the recheck that removed it found the copy at none of them.
SCHEMA_V14_ADDRESSES = """
CREATE TABLE IF NOT EXISTS alert_addresses (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    url TEXT NOT NULL,
    present INTEGER NOT NULL DEFAULT 1,
    since TEXT,
    checked_at TEXT,
    probed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_id, url)
) WITHOUT ROWID;
INSERT OR IGNORE INTO alert_addresses (alert_id, url, present, since, checked_at)
    SELECT id, copy_url, 0, updated_at, last_checked_at FROM alerts WHERE status = 'removed';
INSERT OR IGNORE INTO alert_addresses (alert_id, url, present, since, checked_at)
    SELECT a.id, e.detail, 0, a.updated_at, a.last_checked_at FROM alerts a JOIN alert_events e ON e.alert_id = a.id
    WHERE a.status = 'removed' AND e.event = 'also_at'
"""

# Version 15: a notification describes its event, not the alert as it is when the message goes out (a `copy_detected`
# sent after the copy grew would report the grown copy). `snapshot` holds, as JSON, what the alert said right after
# the event (Store._snapshot); rows queued by an older provmon have none and are sent with the alert as it is.
SCHEMA_V15_EVENT_SNAPSHOT = """
ALTER TABLE notifications ADD COLUMN snapshot TEXT
"""

# Version 16: where an article was read from (`source`: the file:// URL of a file, or the URL given), when it is not
# the address it is tracked under (an HTML file naming its public canonical, `track FILE --url URL`). `provmon check`
# of that file is the tracked article itself, not a copy of it, and tracking the edited file again replaces the
# article under its public address instead of adding a second one. Articles tracked from a file under its own file://
# URL read from there: the column is filled in for them; for the others the file is not known (tracking it again
# records it).
SCHEMA_V16_ARTICLE_SOURCE = """
ALTER TABLE articles ADD COLUMN source TEXT;
UPDATE articles SET source = url WHERE url LIKE 'file:%';
CREATE INDEX IF NOT EXISTS articles_source ON articles (source) WHERE source IS NOT NULL
"""

# Version 17: `alert_log.coverage_pct` is a whole number, as the README says (`64`, not `64.0`: SQLite's round() gives a
# REAL, which sqlite3 and sqlite-utils print with its `.0`). The same rule, round half up (monitor.display.percent).
SCHEMA_V17_WHOLE_PERCENT = """
DROP VIEW IF EXISTS alert_log;
CREATE VIEW alert_log AS
    SELECT a.id, a.created_at, a.status, a.severity, a.kind, CAST(round(a.coverage * 100) AS INTEGER) AS coverage_pct,
           a.credit, a.hidden, a.site, a.copy_url, a.article_title, a.article_url, a.updated_at, a.last_checked_at,
           a.last_check, a.note,
           (SELECT count(*) FROM json_each(m.passages)) AS passages,
           e.fetched_at, e.http_status, e.final_url, e.sha256 AS content_sha256,
           (SELECT group_concat(n.channel || ':' || n.event || ':' || n.status, ', ') FROM notifications n
             WHERE n.alert_id = a.id) AS notifications
    FROM alerts a
    LEFT JOIN matches m ON m.id = a.match_id
    LEFT JOIN evidence e ON e.id = (SELECT min(id) FROM evidence WHERE alert_id = a.id)
    ORDER BY a.created_at DESC, a.id DESC
"""

# Version 18: an article can stop being tracked (`provmon untrack`). It leaves the candidate index; its row stays,
# marked `untracked_at`, while matches or alerts refer to it (their record: text and offsets as found). Tracking its
# text again tracks it again, under the same id, so its alerts go on.
SCHEMA_V18_UNTRACKED = """
ALTER TABLE articles ADD COLUMN untracked_at TEXT
"""

# Version 19: ignore rule ids are never reused (add_ignore_rule keeps the highest id handed out in meta), but a
# database whose rules an older provmon made had no such mark: removing its highest rule freed that id for the next
# one, and `ignore rule #N` in events then named two rules. The mark starts at the highest rule there is.
SCHEMA_V19_RULE_IDS = """
INSERT OR REPLACE INTO meta (key, value) SELECT 'ignore_rules_high', CAST(max(
    coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'ignore_rules_high'), 0),
    coalesce((SELECT max(id) FROM ignore_rules), 0)) AS TEXT)
"""

# Version 20: reference texts (`provmon track --reference`, a [[track]] entry's `reference = true`): press releases,
# wire copy and other text the publisher's articles draw on but do not own. They stay in the index, so the text an
# article shares with one is no evidence of copying the article (scan.shared_sentences); a page copying a reference
# text is no alert.
SCHEMA_V20_REFERENCE = """
ALTER TABLE articles ADD COLUMN reference INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS articles_reference ON articles (id) WHERE reference = 1
"""

# MIGRATIONS[i] upgrades schema version i to i + 1. Append new ones; never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, MIGRATION_CRAWL_STATE, SCHEMA_V5_ALERTS, SCHEMA_V6_INDEX,
    SCHEMA_V7_ARTICLE_URL, SCHEMA_V8_ARTICLE_VERSIONS, SCHEMA_V9_RECENT_BY_ARTICLE, SCHEMA_V10_EXTRA_POSTINGS,
    SCHEMA_V11_SPLIT_IGNORE_RULES, SCHEMA_V12_HIDDEN, SCHEMA_V13_COPY_SHINGLES, SCHEMA_V14_ADDRESSES,
    SCHEMA_V15_EVENT_SNAPSHOT, SCHEMA_V16_ARTICLE_SOURCE, SCHEMA_V17_WHOLE_PERCENT,
    SCHEMA_V18_UNTRACKED, SCHEMA_V19_RULE_IDS, SCHEMA_V20_REFERENCE,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a migration script on the semicolons that end statements (views contain none inside)."""
    return [stmt for stmt in (part.strip() for part in script.split(";\n")) if stmt]


PAGE_UPSERT = (
    "INSERT INTO pages (url, site, final_url, status, content_sha256, fetched_at, error) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(url) DO UPDATE SET site = excluded.site, final_url = excluded.final_url, status = excluded.status, "
    "content_sha256 = excluded.content_sha256, fetched_at = excluded.fetched_at, error = excluded.error"
)


class StoreError(Exception):
    """The database cannot be used (newer schema, not a provmon database, unwritable path)."""


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | (os.X_OK if path.is_dir() else 0),
                     effective_ids=os.access in os.supports_effective_ids)


def readonly_reason(path: Path) -> str | None:
    """Why SQLite says "attempt to write a readonly database" when the database itself is fine: the file system does
    not let this user write the directory (where SQLite creates the -wal and -shm files) or one of the files."""
    user = f"the user provmon runs as ({who(os.geteuid())})"
    directory = path.parent
    if directory.is_dir() and not _writable(directory):
        return (f"{directory}: the database's directory is not writable by {user}; SQLite creates its journal "
                f"files there ({path.name}-wal, {path.name}-shm), so the directory must be writable by that user, "
                f"not just the database file (chown or chmod u+w the directory)")
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and not _writable(p):
            return (f"{p}: not writable by {user}; the database and its -wal and -shm files must be writable by "
                    f"that user (chown them to it, or chmod u+w)")
    return None


def _is_readonly(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY") or "readonly" in str(exc)


@dataclass(frozen=True)
class Article:
    id: int
    url: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class PageState:
    """What the last crawl saw of a URL."""

    status: int | None
    content_sha256: str | None
    etag: str | None
    last_modified: str | None
    lastmod: str | None
    checked_upto: int | None
    fetched_at: str | None = None  # when it was last fetched or seen unchanged (the crawl visits the oldest first)


@dataclass(frozen=True)
class Tracked:
    """What tracking one text did."""

    id: int
    created: bool  # False: this text was already tracked (under this URL or another)
    chars: int  # of the text tracked (what evidence offsets into the article count)
    replaces: int | None = None  # the URL's previous article, which this one replaced (its text changed)
    title: str = ""  # the article's title as stored (an article tracked before keeps its title)
    near_duplicate: tuple[int, float] | None = None  # (id, resemblance) of a nearly identical other article
    again: bool = False  # the text was untracked before (`replaces`: that article, whose alerts this one took over)


@dataclass(frozen=True)
class Untracked:
    """What untracking one article did."""

    id: int
    title: str
    url: str
    outcome: str  # "untracked", "untracked already" or "unknown" (no tracked article has this id)
    alerts: int = 0  # its alerts, which stay in the log
    open_alerts: int = 0  # of which open (new, notified, acknowledged): still rechecked
    removed_alerts: int = 0  # of which removed: still rechecked, to notice a copy back (then reopened)


@dataclass(frozen=True)
class SiteHealth:
    state: str  # "ok" or "failing"
    reason: str
    failures: int
    since: str


@dataclass(frozen=True)
class Notification:
    id: int
    alert_id: int
    channel: str
    attempts: int
    idempotency_key: str
    event: str = "copy_detected"
    snapshot: str | None = None  # the alert as the event left it (JSON, Store._snapshot); None from older rows


@dataclass(frozen=True)
class Address:
    """One address of an alert's copy and what is known of it (table alert_addresses; none there: carries it)."""

    url: str
    present: bool  # the copy was there when last seen (by a recheck or a scan), or nothing says otherwise
    since: str | None = None  # when `present` last changed
    checked_at: str | None = None  # the last recheck's fetch of it
    probed: int = 0  # the alert's recheck round of that fetch (0: never fetched by a recheck)


@dataclass(frozen=True)
class Probe:
    """What a recheck's fetch of one address of a copy found: `there`, `gone` or `inconclusive`, and why."""

    url: str
    state: str
    why: str = ""


# Alert lifecycle (docs/alerts.md): new -> notified -> acknowledged | ignored; any open state -> removed when
# the copy is gone; removed -> new again ("reopened") when it comes back.
ALERT_STATES = ("new", "notified", "acknowledged", "ignored", "removed")
OPEN_STATES = ("new", "notified", "acknowledged")
_OPEN_SQL = "(" + ", ".join(f"'{state}'" for state in OPEN_STATES) + ")"
# The articles tracked now: not replaced by a newer text of their URL, not untracked (rows kept for their alerts).
TRACKED = "replaced_by IS NULL AND untracked_at IS NULL"
# Lifecycle changes the user is told about, and the notification event each one sends.
NOTIFIED_EVENTS = {"removed": "copy_removed", "reopened": "copy_reopened"}
# A copy that grew (docs/alerts.md, "A copy that grows"): the match at its address covers at least this much more of
# the article than the alert says (30% -> 50%), or it is now verbatim and covers no less.
GREW_BY = 0.2


def grew(kind: str, coverage: float, new_kind: str, new_coverage: float) -> bool:
    """Whether a copy that was `kind` covering `coverage` of the article copies clearly more of it as `new_kind`
    covering `new_coverage`: GREW_BY more of the article, or word for word now what was an excerpt or a rewrite
    (partial or paraphrased -> verbatim) and no less of it. A copy that shrinks is not a change of the alert."""
    if round(new_coverage - coverage, 3) >= GREW_BY:
        return True
    return new_kind == "verbatim" and kind != "verbatim" and new_coverage >= coverage

# One copy, one alert (docs/alerts.md): a match at another address of a site is the same copy as an alert of the same
# article there when what the matcher saw copied is the same text. Two pages' copied text is compared as near-duplicate
# detection compares web pages (Broder's shingling): the Jaccard resemblance of their sets of content-word 3-grams,
# here of the passages' page-side text only (the rest of the page, a tag page's other posts included, plays no part),
# without the tokens a page changes from address to address or from fetch to fetch. At SAME_COPY or more it is one
# copy: a line with the page's own URL, a counter or an ad id inside the copied text costs a few 3-grams; another
# excerpt of the article, or another rewrite of it, shares far fewer.
SAME_COPY = 0.9
# Tokens holding a digit (counters, ids, times, dates), a URL or path, an e-mail address or a query, and very long
# ones (tokens, hashes): the furniture that differs between two addresses of one copy.
_VOLATILE = re.compile(r"\S*(?:\d|://|[/@=?&#])\S*|\S{25,}")


def text_key(text: str) -> str:
    """What makes two tracked texts the same text (articles.sha256, UNIQUE): the SHA-256 of its words joined by
    single spaces. Line endings (CRLF, CR), leading and trailing whitespace, runs of blank lines, and spaces or tabs
    inside lines do not count: detection reads words, and a file saved by another editor is not a second article.
    The text stored is the text as read (offsets into a .txt count its characters)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


# Two tracked texts this alike (copy_resemblance of their 3-grams) are one story twice: `provmon track` warns.
NEAR_DUPLICATE = 0.9


def copy_shingles(passages: Iterable[dict[str, Any]]) -> frozenset[int]:
    """What a copy is, to tell one copy from another: the content-word 3-grams (monitor.fingerprint) of its
    passages' page-side text, volatile tokens dropped. Empty when the passages carry no text."""
    text = "\n".join(p.get("page_text") or "" for p in passages)
    return frozenset(page_fingerprints_of(_VOLATILE.sub(" ", text)))


def copy_resemblance(a: frozenset[int], b: Collection[int]) -> float:
    """Jaccard resemblance of two copies' shingles (0 when either is empty); `b` holds each hash once."""
    if not a or not b:
        return 0.0
    shared = len(a.intersection(b))
    return shared / (len(a) + len(b) - shared)


# What the kept 3-grams were computed with (matches.copy_shingles starts with it): kept ones of another revision of the
# fingerprints or of the text normalisation (monitor.fingerprint) are computed again.
SHINGLES_VERSION = FINGERPRINT_VERSION * 1000 + NORMALISATION_VERSION * 10 + 1


def pack_shingles(shingles: frozenset[int]) -> bytes:
    """copy_shingles as kept in matches.copy_shingles: SHINGLES_VERSION, then the 32-bit hashes, little-endian."""
    return struct.pack(f"<I{len(shingles)}I", SHINGLES_VERSION, *sorted(shingles))


def unpack_shingles(blob: bytes | None) -> tuple[int, ...] | None:
    """The hashes pack_shingles kept, or None when there are none of this SHINGLES_VERSION."""
    if not blob or len(blob) % 4 or struct.unpack_from("<I", blob)[0] != SHINGLES_VERSION:
        return None
    return struct.unpack_from(f"<{len(blob) // 4 - 1}I", blob, 4)


# An alert's other addresses (its also_at events), each once, in the order found.
_ALSO_AT = ("SELECT detail FROM alert_events WHERE alert_id = {alert} AND event = 'also_at' GROUP BY detail "
            "ORDER BY min(id)")
# ...of them, those that carry the copy as far as is known (no recheck found it gone since, docs/alerts.md).
_ALSO_AT_NOW = ("SELECT detail FROM alert_events e WHERE e.alert_id = {alert} AND e.event = 'also_at' "
                "AND e.detail != {own} AND NOT EXISTS (SELECT 1 FROM alert_addresses x WHERE x.alert_id = e.alert_id "
                "AND x.url = e.detail AND x.present = 0) GROUP BY detail ORDER BY min(e.id)")
# Every address of an alert found not to carry the copy any more: its own address first, then in the order found.
_GONE_FROM = ("SELECT x.url, x.url != {own} AS other FROM alert_addresses x WHERE x.alert_id = {alert} "
              "AND x.present = 0 ORDER BY other, (SELECT min(e.id) FROM alert_events e WHERE e.alert_id = x.alert_id "
              "AND e.event = 'also_at' AND e.detail = x.url), x.url")
# The alert's latest growth (its `grew` event): when, and from what to what.
_GREW = ("SELECT json_object('at', at, 'detail', detail) FROM alert_events WHERE alert_id = {alert} AND event = 'grew' "
         "ORDER BY id DESC LIMIT 1")
# The rule an `ignored` event names (`ignore rule #N`, or `ignore rule #N: <state> -> ignored`).
_BY_RULE = re.compile(r"ignore rule #(\d+)(?::|$)")
# The columns of an alert that an event can change, kept with its notifications (Store._snapshot).
SNAPSHOT_FIELDS = ("status", "kind", "coverage", "page_share", "severity", "credit", "credit_detail", "hidden",
                   "match_id", "updated_at", "last_checked_at", "last_check")


class Store:
    def __init__(self, path: str | Path, *, service: bool = False) -> None:
        """Open (create, migrate) the database. `service`: opened by the service (`provmon run`), which migrates
        it even when a heartbeat says a service runs on it (its own, before a restart); any other command refuses
        to migrate under a live service (_refuse_live_migration)."""
        self.path = Path(path)
        self._service = service
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            why = "it is a directory (monitor.database names the SQLite file)" if self.path.is_dir() else exc
            raise StoreError(f"{self.path}: cannot open database: {why}") from None
        self.db = sqlite_utils.Database(conn)
        try:
            self.db.execute("PRAGMA busy_timeout = 30000")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_size_limit = 67108864")  # WAL shrinks back after a burst
            # In WAL mode NORMAL survives any process crash (kill -9 included); only a power cut can undo
            # the last commits, never corrupt. FULL would fsync every commit: the crawl's main cost.
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._refuse_foreign()  # before WAL: switching the journal mode changes another program's file
            self.db.enable_wal()
            self._migrate()
            self.index = Index(conn, self.path)
            self._reindex_if_stale()
            self._retire_duplicate_urls()
            self._rekey_texts()
            self._refingerprint_renormalised()
            self._add_missing_extras()
        except sqlite3.DatabaseError as exc:
            conn.close()
            if _is_readonly(exc) and (reason := readonly_reason(self.path)):
                raise StoreError(reason) from None
            raise StoreError(f"{self.path}: not a usable SQLite database: {exc}") from None
        except (IndexFileError, StoreError):
            conn.close()
            raise

    def close(self) -> None:
        self.index.close()
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- schema -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.db["meta"].exists():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _foreign_tables(self) -> list[str]:
        """The tables and views of a database that is not provmon's: it has some, but no schema version in meta
        (every provmon database has one from its first migration, written with its tables). Empty for a new or
        empty file, and for a provmon database of any version."""
        names = [name for (name,) in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        if "meta" in names:  # another program may have a `meta` table of its own, of other columns
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(meta)")}
            if {"key", "value"} <= columns and self.schema_version():
                return []
        return names

    def _refuse_foreign(self) -> None:
        """Refuse another program's database (a wrong monitor.database) rather than add provmon's tables to it.
        Read in one transaction: another process creating a new database meanwhile commits its tables and its
        schema version together."""
        self.db.execute("BEGIN")
        try:
            tables = self._foreign_tables()
        finally:
            with contextlib.suppress(sqlite3.Error):  # only a read: a failed ROLLBACK must not hide its error
                self.db.execute("ROLLBACK")
        if tables:
            self._foreign_error(tables)

    def _foreign_error(self, tables: list[str]) -> NoReturn:
        shown = ", ".join(tables[:10]) + (f" and {len(tables) - 10} more" if len(tables) > 10 else "")
        raise StoreError(f"{self.path} is not a provmon database (it has tables: {shown}); provmon opens only its "
                         f"own database or a new, empty file: check monitor.database in the config")

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: database schema version {version} is newer than this provmon "
                f"understands ({SCHEMA_VERSION}); upgrade provmon"
            )
        if version == SCHEMA_VERSION:
            return
        if version > 0:
            if not self._service:
                self._refuse_live_migration(version)
            self.backup(self.path.with_name(f"{self.path.name}.v{version}.bak"))
        else:
            # Only settable before the first table exists; lets prune() hand pages back to the OS.
            self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        split: list[tuple[int, str, str]] = []
        try:
            with self.transaction():
                version = self.schema_version()  # another process may have migrated meanwhile
                if version == 0 and (tables := self._foreign_tables()):
                    self._foreign_error(tables)
                if 5 <= version <= 10:  # schema 11 splits `--site --pattern` rules (5 made the table): said later
                    split = self.db.execute("SELECT id, site, url_pattern FROM ignore_rules WHERE site IS NOT NULL "
                                            "AND url_pattern IS NOT NULL ORDER BY id").fetchall()
                for v in range(version, SCHEMA_VERSION):
                    for stmt in _statements(MIGRATIONS[v]):
                        self.db.execute(stmt)
                self.db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: migration to schema {SCHEMA_VERSION} failed and was rolled back, "
                             f"the database is unchanged: {exc}") from None
        for rule_id, site, pattern in split:
            # Made by `ignore --site --pattern`, which said both would be ignored but stored a rule matching copies
            # on that site at such URLs only. Now two, as it said: the URL pattern on every site is the wider one.
            log.warning("%s: ignore rule #%d (copies on site '%s' at URLs matching '%s') is now two rules, as the "
                        "command that made it said: copies on site '%s', and copies at URLs matching '%s' on every "
                        "site; if you meant only the first, remove the second (provmon ignore --list, --undo-rule N)",
                        self.path, rule_id, site, pattern, site, pattern)

    def _refuse_live_migration(self, version: int) -> None:
        """A service of an older provmon running on this database (its heartbeat's pid alive on this host, beating
        within the last day, no clean stop since) would fail from the migration on: every heartbeat, scan and
        delivery (`schema version N is newer`). A newer provmon's `status` right after `pip install -U` did that."""
        beat = self.last_beat()
        if beat is None or self.last_stop() is not None or beat[1] == os.getpid():
            return
        try:
            age = (datetime.now(UTC) - datetime.fromisoformat(beat[0])).total_seconds()
        except ValueError:
            return
        if age > 86400:
            return
        try:
            os.kill(beat[1], 0)
        except ProcessLookupError:
            return  # gone: killed, or the machine restarted
        except (PermissionError, OSError):
            pass  # alive, another user's
        raise StoreError(
            f"{self.path}: a provmon service (pid {beat[1]}, last heartbeat {beat[0]}) runs on this database, "
            f"schema version {version}; this provmon would migrate it to {SCHEMA_VERSION} under that service, which "
            f"would then fail. Stop the service first (systemctl stop provmon), then start the new one: it "
            f"migrates the database (or run this command again)")

    def backup(self, dest: Path) -> Path:
        """A consistent copy of the database (SQLite's online backup), e.g. before a migration.

        Written to a new file of a random name (created here, O_EXCL) that then replaces `dest`: a name planted
        in the directory, a symbolic link say, is replaced, never written through (root runs migrations in a
        directory the service user owns)."""
        fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".tmp", dir=dest.parent)
        try:
            adopt(fd, self.path)  # a migration run by root leaves the copy to the database's owner
            os.close(fd)
            target = sqlite3.connect(tmp)
            try:
                self.db.conn.backup(target)
            finally:
                target.close()
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return dest

    # -- tracked articles ---------------------------------------------------------------------
    def add_article(self, url: str, title: str, text: str, fingerprints: Iterable[int]) -> tuple[int, bool]:
        """Track an article; returns (id, created). The same text is tracked once; a URL has one article."""
        t = self.track_articles([(url, title, text, fingerprints)])[0]
        return t.id, t.created

    def add_articles(self, items: Iterable[tuple[str, str, str, Iterable[int]]]) -> list[tuple[int, bool]]:
        """Track many articles (url, title, text, fingerprints) in one transaction; (id, created) each."""
        return [(t.id, t.created) for t in self.track_articles(items)]

    def track_articles(self, items: Iterable[tuple[str, str, str, Iterable[int]]],
                       near_duplicates: bool = False) -> list[Tracked]:
        """Track many articles (url, title, text, fingerprints) in one transaction. A text already tracked is
        not added again; a new text for a URL already tracked replaces that URL's article. With `near_duplicates`,
        each new one also names a nearly identical tracked article (`provmon track` warns; the check fingerprints
        the other text, ~1.5 ms an add, so only the command that reports it asks)."""
        with self.transaction():
            results = [self._add_article(*item, near_duplicates=near_duplicates) for item in items]
        self._maybe_compact()
        return results

    def tracked_with_text(self, text: str) -> tuple[int, str, str | None] | None:
        """(id, address, source) of the article tracked now with this text (whitespace aside), or None."""
        row = self.db.execute(f"SELECT id, url, source FROM articles WHERE sha256 = ? AND {TRACKED}",
                              [text_key(text)]).fetchone()
        return (int(row[0]), row[1], row[2]) if row else None

    def _add_article(self, url: str, title: str, text: str, fingerprints: Iterable[int],
                     near_duplicates: bool = False) -> Tracked:
        digest = text_key(text)
        row = self.db.execute("SELECT id, title, untracked_at FROM articles WHERE sha256 = ?", [digest]).fetchone()
        # An untracked article at the URL is replaced too: tracking the URL again tracks it, alerts and all.
        previous = [r[0] for r in self.db.execute(
            "SELECT id FROM articles WHERE url = ? AND replaced_by IS NULL ORDER BY id", [url])]
        fingerprints = set(fingerprints)
        untracked = None
        if row and row[2] is not None:
            # Untracked, and now tracked again: as a new article that takes its alerts over (_retire), under an id
            # above every site's checked_upto, so the pages a site scanned meanwhile are compared with it again.
            untracked = int(row[0])
            self.db.execute("UPDATE articles SET sha256 = 'replaced:' || id || ':' || sha256 WHERE id = ?", [untracked])
            previous = [a for a in previous if a != untracked] + [untracked]
            row = None
        if row:
            # The text is tracked already (under this URL or another): this URL's other text, if any, is gone.
            stale = [a for a in previous if a != row[0]]
            for old in stale:
                self._retire(old, int(row[0]))
            return Tracked(int(row[0]), False, len(text), stale[-1] if stale else None, row[1])
        # Before it is in the index itself.
        near = self._near_duplicate(text, fingerprints, previous) if near_duplicates else None
        article_id = self._insert_article(url, title, text, digest, fingerprints)
        for old in previous:
            self._retire(old, article_id)
        if untracked is not None:
            log.info("%s: tracked again: article #%d takes over #%d, untracked before", url, article_id, untracked)
            return Tracked(article_id, True, len(text), untracked, title, near, again=True)
        if previous:
            log.info("%s: its text changed; article #%d replaces #%s", url, article_id,
                     ", #".join(map(str, previous)))
        return Tracked(article_id, True, len(text), previous[-1] if previous else None, title, near)

    def set_url(self, article_id: int, url: str) -> None:
        """Give a tracked article the public address it is known by (`track --url` for a text tracked before from a
        file). Tracking its text for `url` (track_articles) has retired any other current article there already:
        one current article per URL (schema 8) holds."""
        with self.transaction():
            self.db.execute("UPDATE articles SET url = ? WHERE id = ?", [url, article_id])

    def set_sources(self, sources: Iterable[tuple[int, str, bool]]) -> None:
        """Record where articles were read from, (article id, source URL, created) each: the file an article was
        tracked from (its file:// URL), or the URL given. A new article (`created`) was read from there; one tracked
        before keeps the source it has (the same text in a second file: that file is a copy of it on disk) and gets
        this one only when it had none (tracked before schema 16, or by a [[track]] entry)."""
        with self.transaction():
            self.db.conn.executemany("UPDATE articles SET source = ? WHERE id = ? AND (? OR source IS NULL)",
                                [(source, article_id, created) for article_id, source, created in sources if source])

    def tracked_from(self, source: str) -> Article | None:
        """The current article read from `source` (a file's file:// URL), the newest when several were, else None."""
        row = self.db.execute(
            "SELECT id, url, title, text, sha256 FROM articles WHERE source = ? AND replaced_by IS NULL "
            "ORDER BY id DESC LIMIT 1", [source]).fetchone()
        return Article(*row) if row else None

    def articles_at(self, address: str) -> list[int]:
        """The articles, tracked or untracked, stored under `address` or read from it (their `source`)."""
        return [int(a) for (a,) in self.db.execute(
            "SELECT id FROM articles WHERE replaced_by IS NULL AND (url = ?1 OR source = ?1) ORDER BY id", [address])]

    def sources_of(self, article_ids: Iterable[int]) -> dict[int, str]:
        """The source each of these articles was read from, when known (schema 16; see set_sources)."""
        return {int(a): s for a, s in self.db.execute(
            "SELECT id, source FROM articles WHERE source IS NOT NULL AND id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(article_ids))])}

    def set_title(self, article_id: int, title: str) -> None:
        """Rename a tracked article (`track --title` or a [[track]] title given for a text tracked before)."""
        with self.transaction():
            self.db.execute("UPDATE articles SET title = ? WHERE id = ?", [title, article_id])
            # Its alerts cite the work by its title as it is now (the takedown notice, alerts, the report).
            self.db.execute("UPDATE alerts SET article_title = ? WHERE article_id = ?", [title, article_id])

    def _insert_article(self, url: str, title: str, text: str, sha256: str, fingerprints: Iterable[int]) -> int:
        """Inside a transaction: a new article row under a new id, and its postings."""
        article_id = self._next_article_id()
        self.db.execute("INSERT INTO articles (id, url, title, text, sha256, added_at) VALUES (?, ?, ?, ?, ?, ?)",
                        [article_id, url, title, text, sha256, now_iso()])
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('articles_high', ?)", [str(article_id)])
        fps = set(fingerprints)
        self.index.add(article_id, fps, extra_fingerprints_of(text, fps))
        return article_id

    def _retire(self, article_id: int, replaced_by: int) -> None:
        """Inside a transaction: the article leaves the index and its alerts follow the new one (a copy of the
        URL's article is one alert across corrections); its row goes too unless matches refer to it, in which
        case it stays as their record (text and offsets as they were found)."""
        self.index.remove(article_id)
        # OR IGNORE: a store from before schema 8 may hold an alert for the same copy on both versions.
        # The new version's title with it: the alerts cite the work as it is now.
        self.db.execute("UPDATE OR IGNORE alerts SET article_id = :new, article_title = COALESCE("
                        "(SELECT NULLIF(title, '') FROM articles WHERE id = :new), article_title) "
                        "WHERE article_id = :old",
                        {"new": replaced_by, "old": article_id})
        # Versions it replaced point to the current one: a replaced row always names a current article.
        self.db.execute("UPDATE articles SET replaced_by = ? WHERE replaced_by = ?", [replaced_by, article_id])
        # A new text of the URL was most likely read from where the old one was (the edited file): it is kept unless
        # the new version's own source is recorded (set_sources), so the file stays linked to its article.
        self.db.execute("UPDATE articles SET source = (SELECT source FROM articles WHERE id = ?) "
                        "WHERE id = ? AND source IS NULL", [article_id, replaced_by])
        referred = self.db.execute(
            "SELECT EXISTS (SELECT 1 FROM matches WHERE article_id = :a) OR "
            "EXISTS (SELECT 1 FROM alerts WHERE article_id = :a)", {"a": article_id}).fetchone()[0]
        if referred:
            # (An untracked one tracked again has its prefix already: _add_article freed its key for the new row.)
            self.db.execute("UPDATE articles SET replaced_by = ?, sha256 = CASE WHEN sha256 LIKE 'replaced:%' "
                            "THEN sha256 ELSE 'replaced:' || id || ':' || sha256 END WHERE id = ?",
                            [replaced_by, article_id])
        else:
            self.db.execute("DELETE FROM articles WHERE id = ?", [article_id])

    def _retire_duplicate_urls(self) -> None:
        """Once, for a store from before schema 8: a URL tracked with several texts keeps the last added."""
        if self.db.execute("SELECT 1 FROM meta WHERE key = 'articles_one_per_url'").fetchone():
            return
        with self.transaction():
            dups = self.db.execute(
                "SELECT url, group_concat(id) FROM (SELECT url, id FROM articles WHERE replaced_by IS NULL "
                "ORDER BY url, id) GROUP BY url HAVING count(*) > 1").fetchall()
            for url, ids in dups:
                *older, newest = sorted(int(i) for i in ids.split(","))
                for old in older:
                    self._retire(old, newest)
                log.warning("%s was tracked with %d texts: kept the last added, #%d (which text was tracked last is "
                            "not recorded before schema 8; tracking the URL again corrects it)", url, len(older) + 1,
                            newest)
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('articles_one_per_url', '1')")

    def _rekey_texts(self) -> None:
        """Once, for a store from before text_key: each article's sha256 becomes its text's key. A text tracked
        twice before (differing only in whitespace) keeps its old hash on the later copy, which is logged: the
        key is UNIQUE, and which of the two a person wants is theirs to say (track the file again to replace it)."""
        if self.db.execute("SELECT 1 FROM meta WHERE key = 'articles_text_key'").fetchone():
            return
        with self.transaction():
            # One text at a time (an archive's texts need not all be in memory at once).
            for (article_id,) in self.db.execute("SELECT id FROM articles ORDER BY id").fetchall():
                url, text, old = self.db.execute("SELECT url, text, sha256 FROM articles WHERE id = ?",
                                                 [article_id]).fetchone()
                prefix = old[:old.rindex(":") + 1] if old.startswith("replaced:") else ""
                key = prefix + text_key(text)
                if key == old:
                    continue
                twin = self.db.execute("SELECT id FROM articles WHERE sha256 = ?", [key]).fetchone()
                if twin:
                    log.warning("article #%d (%s) is the same text as #%d but for whitespace; both stay tracked "
                                "(provmon track of either file again keeps one)", article_id, url, twin[0])
                    continue
                self.db.execute("UPDATE articles SET sha256 = ? WHERE id = ?", [key, article_id])
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('articles_text_key', '1')")

    def _near_duplicate(self, text: str, fps: set[int], skip: Collection[int]) -> tuple[int, float] | None:
        """Another current article whose text is nearly this one's (a .txt and the HTML page of one story:
        headline lines, furniture): (its id, resemblance), the Jaccard of their content-word 3-grams
        (copy_resemblance, volatile tokens aside) when at least NEAR_DUPLICATE. Only articles sharing half of
        this one's sampled fingerprints are compared, so an archive's unrelated texts cost one index lookup."""
        found = [c for c, _ in self.candidates(fps, max(3, len(fps) // 2), 4) if c not in skip] if fps else []
        if not found:
            return None
        mine = frozenset(page_fingerprints_of(_VOLATILE.sub(" ", text)))
        best: tuple[int, float] | None = None
        for other in found:
            row = self.db.execute(f"SELECT text FROM articles WHERE id = ? AND {TRACKED}",
                                  [other]).fetchone()
            if row is None:
                continue
            r = copy_resemblance(mine, frozenset(page_fingerprints_of(_VOLATILE.sub(" ", row[0]))))
            if r >= NEAR_DUPLICATE and (best is None or r > best[1]):
                best = (other, r)
        return best

    def _next_article_id(self) -> int:
        """Ids are never reused (SQLite would hand the largest out again after a delete): a deleted article's
        postings stay in the packed index file, hidden by a tombstone, until a compaction, and one running now
        drops the recent rows of every id up to its snapshot's largest; an article under that id would inherit
        the old postings or lose its own."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'articles_high'").fetchone()
        high = int(row[0]) if row else self.index.max_article_id()  # a store from before the key
        top = self.db.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
        return max(high, top) + 1

    def delete_article(self, article_id: int) -> None:
        """Remove an article with nothing referring to it: it leaves the candidate index at once. Refused
        (sqlite3.IntegrityError) while matches or alerts refer to it; `untrack` keeps their record instead."""
        with self.transaction():
            self.index.remove(article_id)
            self.db.execute("DELETE FROM articles WHERE id = ?", [article_id])

    def reference_ids(self) -> frozenset[int]:
        """The articles tracked as reference texts (set_reference): used to discount shared text, never reported."""
        return frozenset(int(r[0]) for r in self.db.execute("SELECT id FROM articles WHERE reference = 1"))

    def set_reference(self, article_ids: Iterable[int], reference: bool = True) -> int:
        """Mark articles as reference texts (press releases, wire copy: text the publisher's articles draw on but do
        not own), or as the publisher's own again; returns how many changed."""
        ids = list(article_ids)
        with self.transaction():
            return sum(self.db.execute("UPDATE articles SET reference = ? WHERE id = ? AND reference != ?",
                                       [int(reference), i, int(reference)]).rowcount for i in ids)

    def untracked_ids(self) -> set[int]:
        """The articles untracked (`provmon untrack`) and kept for their alerts and matches."""
        return {int(r[0]) for r in self.db.execute("SELECT id FROM articles WHERE untracked_at IS NOT NULL")}

    def replaced_by(self, article_id: int) -> int | None:
        """The version that replaced this article in the end (its text changed, tracked again), or None when it was
        not replaced (or does not exist)."""
        current, seen = article_id, set()
        while current not in seen:
            seen.add(current)
            row = self.db.execute("SELECT replaced_by FROM articles WHERE id = ?", [current]).fetchone()
            if row is None or row[0] is None:
                break
            current = int(row[0])
        return current if current != article_id else None

    def untrack(self, article_ids: Iterable[int]) -> list[Untracked]:
        """Stop tracking articles (`provmon untrack`): each leaves the candidate index at once, so no page is compared
        with it again. One that matches or alerts refer to keeps its row, marked `untracked_at`, as their record
        (its alerts stay as they are, rechecked while open); one with none is deleted. Tracking its text again
        tracks it again. In one transaction; an id that is not a tracked article is reported, not an error."""
        now = now_iso()
        out = []
        with self.transaction():
            for article_id in article_ids:
                row = self.db.execute("SELECT title, url, replaced_by, untracked_at FROM articles WHERE id = ?",
                                      [article_id]).fetchone()
                if row is None or row[2] is not None:
                    out.append(Untracked(article_id, "", "", "unknown"))
                    continue
                if row[3] is not None:
                    out.append(Untracked(article_id, row[0], row[1], "untracked already"))
                    continue
                self.index.remove(article_id)
                total, open_, removed = self.db.execute(
                    f"SELECT count(*), coalesce(sum(status IN {_OPEN_SQL}), 0), coalesce(sum(status = 'removed'), 0) "
                    f"FROM alerts WHERE article_id = ?", [article_id]).fetchone()
                if total or self.db.execute("SELECT 1 FROM matches WHERE article_id = ?", [article_id]).fetchone():
                    self.db.execute("UPDATE articles SET untracked_at = ? WHERE id = ?", [now, article_id])
                else:
                    self.db.execute("DELETE FROM articles WHERE id = ?", [article_id])
                out.append(Untracked(article_id, row[0], row[1], "untracked", int(total), int(open_), int(removed)))
        return out

    def tracked_articles(self, *, search: str = "", untracked: bool = False,
                         limit: int | None = None) -> list[dict[str, Any]]:
        """Articles tracked now, newest first (with `untracked`: those untracked and kept for their alerts), with
        how many alerts they have and how many of those are open; `search`: only those whose title, address or
        source (the file or URL it was read from) holds it (any case)."""
        where = "untracked_at IS NOT NULL AND replaced_by IS NULL" if untracked else TRACKED
        params: list[Any] = []
        if search:
            where += (" AND (instr(lower(title), lower(?)) OR instr(lower(url), lower(?)) "
                      "OR instr(lower(coalesce(source, '')), lower(?)))")
            params += [search, search, search]
        rows = self.db.execute(
            "SELECT id, title, url, source, added_at, untracked_at, reference = 1 AS reference, "
            "length(text) AS chars, "
            "(SELECT count(*) FROM alerts WHERE article_id = articles.id) AS alerts, "
            f"(SELECT count(*) FROM alerts WHERE article_id = articles.id AND status IN {_OPEN_SQL}) AS open_alerts "
            f"FROM articles WHERE {where} ORDER BY id DESC" + (" LIMIT ?" if limit else ""),
            params + ([limit] if limit else []))
        names = [d[0] for d in rows.description]
        return [{**dict(zip(names, r, strict=True)), "reference": bool(r[names.index("reference")])} for r in rows]

    def _maybe_compact(self) -> None:
        # Another process compacting already merges (most of) our rows; the next add looks again.
        if self.index.needs_compaction():
            try:
                self.index.compact(wait=False, only_if_needed=True)
            except IndexFileError as exc:
                # What was added is committed and found (in the recent table); only the compaction waits, until the
                # file is fixed: said at every add, not a failure of the add.
                log.error("the index was not compacted: %s", exc)

    def _index_stale(self) -> str | None:
        if self.db.execute("SELECT value FROM meta WHERE key = 'index_fingerprints'").fetchone() != (
                str(FINGERPRINT_VERSION),):
            return "the fingerprint function changed"
        if self.index.segment_lost():
            return "its packed index file is not beside it (a copy or a restored backup?)"
        return None

    def _reindex_if_stale(self) -> None:
        """Fingerprint every tracked article again when the fingerprint function changed (schema 6 dropped the old
        hashes) or the packed index file is missing; articles hold the text that was fingerprinted."""
        if self._index_stale() is None:
            return
        with self.index.compaction_lock(wait=True):  # no compaction switches segments meanwhile
            why = self._index_stale()
            if why is None:  # another process did it, or a compaction had just switched files
                return
            if self.article_count():  # a new database has nothing to redo and nothing to warn about
                log.warning("%s: %s; fingerprinting its %d tracked articles again", self.path, why,
                            self.article_count())
            with self.transaction():
                self.index.reset()
                # One text in memory at a time (a 1M-article store holds gigabytes of text); rows go to another table.
                for article_id, text in self.db.execute(
                        f"SELECT id, text FROM articles WHERE {TRACKED} ORDER BY id"):
                    fps = article_fingerprints_of(text)
                    self.index.add(article_id, fps, extra_fingerprints_of(text, fps))
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_fingerprints', ?)",
                                [str(FINGERPRINT_VERSION)])
                self._set_normalisation()
                self._set_extras()
        self._maybe_compact()

    def _set_extras(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_extras', ?)", [str(EXTRA_VERSION)])

    def _add_missing_extras(self, batch: int = 2000) -> None:
        """Once, in a store whose short articles were indexed before extra postings existed: give them theirs.
        The short ones are found by counting each article's postings in the index (one pass over the packed
        ids), not by fingerprinting every text; those holding extras already are left alone (a run stopped
        half-way, another process). Extras are computed outside any transaction and added `batch` articles a
        transaction, each under the compaction lock (a compaction running meanwhile would delete rows of old ids
        it had not packed), with compactions in between, so writers are not held up for long."""
        def done() -> bool:
            return self.db.execute("SELECT value FROM meta WHERE key = 'index_extras'").fetchone() == (
                str(EXTRA_VERSION),)
        if done():
            return
        counts, extras = self.index.posting_counts()
        short = [a for (a,) in self.db.execute(f"SELECT id FROM articles WHERE {TRACKED} ORDER BY id")
                 if counts.get(a, 0) < EXTRA_BELOW and not extras.get(a)]
        del counts, extras
        added = 0
        for i in range(0, len(short), batch):
            todo = []
            for article_id in short[i: i + batch]:
                row = self.db.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
                xs = extra_fingerprints_of(row[0], article_fingerprints_of(row[0])) if row else set()
                if xs:
                    todo.append((article_id, xs))
            with self.index.compaction_lock(wait=True), self.transaction():
                if done():
                    return  # another process did it meanwhile
                # Still current (not deleted or replaced since they were read), and still without extras (another
                # process upgrading at the same time may have added and even packed them).
                live = {a for (a,) in self.db.execute(
                    f"SELECT id FROM articles WHERE {TRACKED} AND id IN (SELECT value FROM json_each(?))",
                    [json.dumps([a for a, _ in todo])])}
                added += self.index.add_extra((a, xs) for a, xs in todo
                                              if a in live and not self.index.holds_extras(a, xs))
            self._maybe_compact()
        with self.transaction():
            self._set_extras()
        if added:
            log.info("%s: %d extra postings added for the short articles indexed before they existed", self.path,
                     added)

    def _set_normalisation(self) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('index_normalisation', ?)",
                        [str(NORMALISATION_VERSION)])

    def _refingerprint_renormalised(self) -> None:
        """After a normalisation change that reads only some texts differently (monitor.fingerprint
        normalisation_changed: invisible characters inside words, mixed-script lookalikes), fingerprint just
        those articles again. An id's postings cannot be replaced in place (a tombstone hides every posting of
        its id), so each such article is tracked again under a new id, which its alerts follow, as when its
        text changes; the old row stays only as the record of its matches."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'index_normalisation'").fetchone()
        if row == (str(NORMALISATION_VERSION),):
            return
        with self.index.compaction_lock(wait=True), self.transaction():
            row = self.db.execute("SELECT value FROM meta WHERE key = 'index_normalisation'").fetchone()
            if row == (str(NORMALISATION_VERSION),):  # another process did it
                return
            renewed = []
            # The texts are read one at a time and only the ids kept: the loop below adds articles.
            changed = [article_id for article_id, text in self.db.execute(
                f"SELECT id, text FROM articles WHERE {TRACKED} ORDER BY id") if normalisation_changed(text)]
            for article_id in changed:
                url, title, text, sha = self.db.execute(
                    "SELECT url, title, text, sha256 FROM articles WHERE id = ?", [article_id]).fetchone()
                # The row exists before the old one's alerts move to it; its sha256 is free once that one retires.
                new_id = self._insert_article(url, title, text, f"renewing:{sha}", article_fingerprints_of(text))
                self._retire(article_id, new_id)
                self.db.execute("UPDATE articles SET sha256 = ? WHERE id = ?", [sha, new_id])
                renewed.append(f"#{article_id} -> #{new_id}")
            if renewed:
                log.warning("%s: %d articles fingerprinted again under new ids (their text has invisible characters, "
                            "lookalike letters or combining marks inside words): %s%s",
                            self.path, len(renewed), ", ".join(renewed[:20]),
                            f" and {len(renewed) - 20} more" if len(renewed) > 20 else "")
            self._set_normalisation()
        self._maybe_compact()

    def is_tracked_url(self, url: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE url = ? LIMIT 1", [url]).fetchone() is not None

    def article(self, article_id: int) -> Article:
        row = self.db.execute(
            "SELECT id, url, title, text, sha256 FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        if row is None:
            raise KeyError(article_id)
        return Article(*row)

    def article_count(self) -> int:
        """Tracked articles (replaced versions kept for their alerts are not counted)."""
        return int(self.db.execute(f"SELECT count(*) FROM articles WHERE {TRACKED}").fetchone()[0])

    def alert_count(self) -> int:
        """Alerts in the log, in every state."""
        return int(self.db.execute("SELECT count(*) FROM alerts").fetchone()[0])

    def candidates(self, hashes: Iterable[int], min_shared: int, limit: int) -> list[tuple[int, int]]:
        """Articles sharing at least `min_shared` fingerprints with a page, most shared first (monitor.index)."""
        return self.index.candidates(hashes, min_shared, limit)

    # -- pages ----------------------------------------------------------------------------------
    def record_page(self, url: str, site: str, final_url: str, status: int | None,
                    content_sha256: str | None, error: str | None = None) -> None:
        self.db.execute(PAGE_UPSERT, [url, site, final_url, status, content_sha256, now_iso(), error])

    # -- crawl state ------------------------------------------------------------------------------
    def page_states(self, urls: Iterable[str]) -> dict[str, PageState]:
        out: dict[str, PageState] = {}
        batch = list(urls)
        for i in range(0, len(batch), 500):
            part = batch[i:i + 500]
            rows = self.db.execute(
                "SELECT url, status, content_sha256, http_etag, http_last_modified, lastmod, checked_upto, fetched_at "
                "FROM pages "
                f"WHERE url IN ({','.join('?' * len(part))})", part).fetchall()
            out.update((r[0], PageState(*r[1:])) for r in rows)
        return out

    def save_page_states(self, site: str, states: Iterable[tuple[str, str | None, str | None, str | None, int]],
                         touched: Iterable[tuple[str, int]] = (),
                         pages: Iterable[tuple[str, str, int | None, str | None, str | None]] = ()) -> None:
        """In one transaction: (url, final_url, status, content_sha256, error) of pages visited, as record_page
        writes them; (url, etag, last_modified, lastmod, checked_upto) of pages just processed; and
        (url, status) of unchanged pages seen again."""
        now = now_iso()
        with self.transaction():
            self.db.conn.executemany(PAGE_UPSERT, ((url, site, final, status, sha, now, error)
                                                   for url, final, status, sha, error in pages))
            self.db.conn.executemany(
                "INSERT INTO pages (url, site, fetched_at, http_etag, http_last_modified, lastmod, checked_upto) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET http_etag = excluded.http_etag, "
                "http_last_modified = excluded.http_last_modified, "
                "lastmod = coalesce(excluded.lastmod, pages.lastmod), checked_upto = excluded.checked_upto",
                ((url, site, now, etag, lm, lastmod, upto) for url, etag, lm, lastmod, upto in states))
            # An unchanged page keeps its record's note (a page too big to search whole still is); only pages
            # fetched whole and matched are "unchanged", so it holds no fetch error.
            self.db.conn.executemany("UPDATE pages SET fetched_at = ?, status = ? WHERE url = ?",
                                     ((now, status, url) for url, status in touched))

    def rule_changed(self, key: str) -> int | None:
        """Record the rule pages are matched under (scan.rule_key). When it is not the one recorded (or none was:
        a database from before, or a new one), every page already seen is matched again at its next fetch, however
        unchanged (its checked_upto cleared): how many were so marked; None when the rule is the one recorded."""
        with self.transaction():
            row = self.db.execute("SELECT value FROM meta WHERE key = 'match_rule'").fetchone()
            if row is not None and row[0] == key:
                return None
            n = self.db.execute("UPDATE pages SET checked_upto = NULL WHERE checked_upto IS NOT NULL").rowcount
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('match_rule', ?)", [key])
        return n

    def max_article_id(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])

    def site_health(self, site: str) -> SiteHealth | None:
        row = self.db.execute("SELECT state, reason, failures, since FROM site_health WHERE site = ?",
                              [site]).fetchone()
        return SiteHealth(row[0], row[1] or "", int(row[2]), row[3]) if row else None

    def set_site_health(self, site: str, state: str, reason: str, failures: int, since: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO site_health (site, state, reason, failures, since, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", [site, state, reason, failures, since, now_iso()])

    # -- matches, alerts and the outbox -----------------------------------------------------------
    def record_alert(self, *, article: Article, site: str, page_url: str, content_sha256: str,
                     match: dict[str, Any], channels: Iterable[str], severity: str = "",
                     credit: str = "unknown", credit_detail: str = "", hidden: float = 0.0,
                     evidence: Evidence | None = None) -> tuple[int, bool]:
        """Store a match, its alert, its evidence and one pending notification per channel, atomically.

        Returns (alert id, created). A copy URL already alerted for this article gets the new match
        recorded but no second alert and no new notifications, unless the copy there grew (Store._grows): then the
        alert is updated in place, with a `grew` event, a capture and one `copy_grew` notification per channel.
        An address of an alert found carrying the copy again, after a recheck found it gone, is its address now again.
        """
        now = now_iso()
        with self.transaction():
            owner = self._current_id(article.id)
            if owner is None:
                # Replaced, and deleted, since the page was compared with it (a `provmon track` during the scan):
                # the match has no text to point into. Its replacement's id is above the sites' checked_upto,
                # so the next scan compares this page with it. Or untracked meanwhile (`provmon untrack`).
                log.info("%s: article #%d was replaced or untracked during the scan; no alert for %s", article.url,
                         article.id, page_url)
                return 0, False
            match_id = self._insert_match(article.id, page_url, site, content_sha256, match, "alert", now)
            existing = self._alert_at(owner, site, page_url)
            mine = copy_shingles(match["passages"])
            if existing is not None:
                alert_id, primary, status = existing
                # What is there may be another alert's copy, not removed: the copy posted again and alerted anew after
                # this one's removal, or another post that a page listing this copy (a tag page) now lists as well.
                # The page is then that alert's address too (an address belongs to the alert that recorded it last).
                other = self._alert_for_same_copy(owner, site, content_sha256, mine, exclude=alert_id) if (
                    status == "removed" or not primary) else None
                if other is not None:
                    self._add_address(other, page_url, now)
                    self._mark(other, page_url, True, now, "found by a scan")
                    alert_id, primary = other, False
                else:
                    self._mark(alert_id, page_url, True, now, "found by a scan")
                    if self._grows(alert_id, primary, match):
                        same = self._alert_for_same_copy(owner, site, content_sha256, mine, exclude=alert_id)
                        self._apply_growth(alert_id, page_url=page_url, match_id=match_id, match=match, mine=mine,
                                           severity=severity, credit=credit, credit_detail=credit_detail,
                                           hidden=hidden, evidence=evidence, channels=channels, same_as=same, now=now)
                        primary = True  # the alert's match now
                if not primary:  # an address the copy was seen at besides its own: still that copy's
                    self.db.execute("UPDATE matches SET disposition = 'duplicate' WHERE id = ?", [match_id])
                return alert_id, False
            same = self._alert_for_same_copy(owner, site, content_sha256, mine)
            if same is not None:
                # The same copy at another address of its site (a trailing slash, index.html, ?page=1, a tag page),
                # its bytes the same or not (the page prints its own URL, a token, a counter): one alert.
                self.db.execute("UPDATE matches SET disposition = 'duplicate' WHERE id = ?", [match_id])
                self._event(same, "also_at", page_url, now)
                return same, False
            cur = self.db.execute(
                "INSERT INTO alerts (created_at, article_id, article_title, article_url, copy_url, site, "
                "kind, coverage, page_share, status, match_id, severity, credit, credit_detail, hidden, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,'new',?,?,?,?,?,?)",
                [now, owner, article.title, article.url, page_url, site, match["kind"],
                 match["coverage"], match["page_share"], match_id, severity, credit, credit_detail, hidden, now],
            )
            alert_id = int(cur.lastrowid or 0)
            self.db.execute("UPDATE matches SET copy_shingles = ? WHERE id = ?", [pack_shingles(mine), match_id])
            self._event(alert_id, "detected", f"{match['kind']}, {percent(match['coverage'])} of the article", now)
            if evidence is not None:
                self._insert_evidence(alert_id, match_id, evidence)
            snapshot = self._snapshot(alert_id) if channels else None
            for channel in channels:
                self.db.execute(
                    "INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, snapshot) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [alert_id, channel, f"provmon-alert-{alert_id}-{channel}", now, snapshot],
                )
        return alert_id, True

    def _alert_at(self, article_id: int, site: str, page_url: str) -> tuple[int, bool, str] | None:
        """The alert of this article that `page_url` belongs to, whatever its state, whether it is the alert's own
        address (`copy_url`) rather than one it was also seen at (an `also_at` event on this site; the alert that
        recorded it last), and its state."""
        row = self.db.execute("SELECT id, status FROM alerts WHERE article_id = ? AND copy_url = ?",
                              [article_id, page_url]).fetchone()
        if row:
            return int(row[0]), True, row[1]
        row = self.db.execute(
            "SELECT a.id, a.status FROM alerts a JOIN alert_events e ON e.alert_id = a.id WHERE a.article_id = ? "
            "AND a.site = ? AND e.event = 'also_at' AND e.detail = ? ORDER BY e.id DESC LIMIT 1",
            [article_id, site, page_url]).fetchone()
        return (int(row[0]), False, row[1]) if row else None

    def _grows(self, alert_id: int, primary: bool, match: dict[str, Any]) -> bool:
        """Inside a transaction: whether `match`, made at an address of the alert (its own address when `primary`),
        is the alert's copy grown (rule `grew`). Only an open alert grows (a removed one is reopened by the recheck
        first; an ignored one stays as the person left it). The copy is read at the alert's own address; at another
        of its addresses only once the own one no longer carries it (a tag page lists several posts: a bigger match
        there may be another post's)."""
        row = self.db.execute("SELECT status, kind, coverage, copy_url FROM alerts WHERE id = ?", [alert_id]).fetchone()
        if row is None or row[0] not in OPEN_STATES or not grew(row[1], row[2], match["kind"], match["coverage"]):
            return False
        if primary:
            return True
        own = self.db.execute("SELECT present FROM alert_addresses WHERE alert_id = ? AND url = ?",
                              [alert_id, row[3]]).fetchone()
        return own is not None and not own[0]

    def _apply_growth(self, alert_id: int, *, page_url: str, match_id: int, match: dict[str, Any],
                      mine: frozenset[int], severity: str, credit: str, credit_detail: str, hidden: float,
                      evidence: Evidence | None, channels: Iterable[str], same_as: int | None, now: str) -> None:
        """Inside a transaction: the alert now stands for the bigger copy (kind, coverage, page share, its match and
        that match's 3-grams, severity, credit, hidden share), with a `grew` event, a capture and one `copy_grew`
        notification per channel. The earlier match stays with its capture, so the copy as first found is still
        recognised at a new address."""
        kind, coverage, own = self.db.execute("SELECT kind, coverage, copy_url FROM alerts WHERE id = ?",
                                              [alert_id]).fetchone()
        self.db.execute(
            "UPDATE alerts SET kind = ?, coverage = ?, page_share = ?, match_id = ?, severity = ?, credit = ?, "
            "credit_detail = ?, hidden = ?, updated_at = ? WHERE id = ?",
            [match["kind"], match["coverage"], match["page_share"], match_id, severity, credit, credit_detail,
             hidden, now, alert_id])
        self.db.execute("UPDATE matches SET copy_shingles = ?, disposition = 'alert' WHERE id = ?",
                        [pack_shingles(mine), match_id])
        detail = (f"{kind} {percent(coverage)} -> {match['kind']} {percent(match['coverage'])} of the article"
                  + (f" at {page_url}" if page_url != own else "")
                  + (f"; the same copy as alert #{same_as}" if same_as is not None else ""))
        event_id = self._event(alert_id, "grew", detail, now)
        if evidence is not None:
            self._insert_evidence(alert_id, match_id, replace(evidence, reason="grew"))
        self._queue(alert_id, "copy_grew", event_id, channels, now)
        log.info("alert #%d: the copy grew: %s", alert_id, detail)

    def grow(self, alert_id: int, *, article_id: int, page_url: str, content_sha256: str, match: dict[str, Any],
             severity: str, credit: str, credit_detail: str, hidden: float, evidence: Evidence | None,
             channels: Iterable[str]) -> bool:
        """A recheck found the copy at `page_url`, one of the alert's addresses, as `match` (made on the text of
        article `article_id`, the version its offsets point into): if that is the copy grown, update the alert as
        record_alert does, in one transaction; True then. Decided on the alert as it is in that transaction, so
        two processes finding the same growth record it once."""
        now = now_iso()
        with self.transaction():
            row = self.db.execute("SELECT article_id, site, copy_url FROM alerts WHERE id = ?", [alert_id]).fetchone()
            if row is None:
                raise KeyError(alert_id)
            primary = page_url == row[2]
            if not self._grows(alert_id, primary, match):
                return False
            mine = copy_shingles(match["passages"])
            other = self._alert_for_same_copy(int(row[0]), row[1], content_sha256, mine, exclude=alert_id)
            if other is not None and not primary:
                self._add_address(other, page_url, now)
                return False
            match_id = self._insert_match(article_id, page_url, row[1], content_sha256, match, "alert", now)
            self._apply_growth(alert_id, page_url=page_url, match_id=match_id, match=match, mine=mine,
                               severity=severity, credit=credit, credit_detail=credit_detail, hidden=hidden,
                               evidence=evidence, channels=channels, same_as=other, now=now)
        return True

    def _mark(self, alert_id: int, url: str, present: bool, now: str, why: str = "", event: bool = True) -> None:
        """Inside a transaction: whether the copy is at `url`, one of the alert's addresses; with `event`, a change is
        an event (`gone_from` or `back_at`, naming the address and why)."""
        row = self.db.execute("SELECT present FROM alert_addresses WHERE alert_id = ? AND url = ?",
                              [alert_id, url]).fetchone()
        if (row is None or bool(row[0])) == present:
            return
        self.db.execute(
            "INSERT INTO alert_addresses (alert_id, url, present, since) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (alert_id, url) DO UPDATE SET present = excluded.present, since = excluded.since",
            [alert_id, url, int(present), now])
        if event:
            self._event(alert_id, "back_at" if present else "gone_from", url + (f" ({why})" if why else ""), now)

    def _queue(self, alert_id: int, event: str, event_id: int, channels: Iterable[str], now: str) -> None:
        """Inside the transaction of the change: one pending notification of a later event per channel, keyed by
        the event (its delivery is deduplicated by that key, docs/alerts.md), with the alert as the event left it."""
        snapshot = None
        for channel in channels:
            snapshot = snapshot or self._snapshot(alert_id)
            self.db.execute(
                "INSERT INTO notifications (alert_id, channel, idempotency_key, created_at, event, event_id, "
                "snapshot) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [alert_id, channel, f"provmon-alert-{alert_id}-{event}-{event_id}-{channel}", now, event, event_id,
                 snapshot])

    def _snapshot(self, alert_id: int) -> str:
        """Inside the transaction of an event: what the alert says right after it (SNAPSHOT_FIELDS and its last
        `grew` event), as JSON, for the notifications of that event (Store.alert_as_of)."""
        row = self.db.execute(f"SELECT {', '.join(SNAPSHOT_FIELDS)}, ({_GREW.format(alert='alerts.id')}) FROM alerts "
                              f"WHERE id = ?", [alert_id]).fetchone()
        return json.dumps({**dict(zip(SNAPSHOT_FIELDS, row[:-1], strict=True)),
                           "grew": json.loads(row[-1]) if row[-1] else None}, separators=(",", ":"))

    def alert_as_of(self, alert_id: int, snapshot: str | None) -> dict[str, Any]:
        """The alert as a notification tells it: what its event left (`snapshot`: kind, coverage, severity,
        credit, status, the last check, the match and its passages), with the addresses known now (a message
        lists where the copy is when it is sent). Without a snapshot (a row queued by an older provmon), the alert
        as it is."""
        alert = self.alert(alert_id)
        if not snapshot:
            return alert
        then = json.loads(snapshot)
        if then["match_id"] != alert["match_id"] and (m := self.match(then["match_id"])) is not None:
            alert.update(passages=m["passages"], longest_run=m["longest_run"], match_article_id=m["article_id"])
        return {**alert, **then}

    def _add_address(self, alert_id: int, page_url: str, now: str) -> None:
        """Record `page_url` as an address of the alert's copy (an `also_at` event) unless it is one already."""
        if not self.db.execute(
                "SELECT 1 FROM alerts WHERE id = ? AND copy_url = ? UNION ALL SELECT 1 FROM alert_events WHERE "
                "alert_id = ? AND event = 'also_at' AND detail = ?", [alert_id, page_url, alert_id, page_url]
        ).fetchone():
            self._event(alert_id, "also_at", page_url, now)

    def alerted_anew(self, alert_id: int, page_url: str, content_sha256: str, match: dict[str, Any]) -> int | None:
        """For a removed alert whose copy a recheck finds at `page_url` (one of its addresses): another alert of its
        article and site, not removed, whose copy this is (Store._alert_for_same_copy): the copy was posted again
        after its removal and alerted anew, and `page_url`, a page listing it (a tag page), is now that alert's
        address too. None when there is none: the removed copy is back."""
        with self.transaction():
            row = self.db.execute("SELECT article_id, site FROM alerts WHERE id = ?", [alert_id]).fetchone()
            if row is None:
                raise KeyError(alert_id)
            twin = self._alert_for_same_copy(int(row[0]), row[1], content_sha256, copy_shingles(match["passages"]),
                                             exclude=alert_id)
            if twin is not None:
                now = now_iso()
                self._add_address(twin, page_url, now)
                self._mark(twin, page_url, True, now, "found by a recheck")
        return twin

    def _alert_for_same_copy(self, article_id: int, site: str, content_sha256: str,
                             mine: frozenset[int], exclude: int = 0) -> int | None:
        """An alert of this article and site, not removed (nor `exclude`), of the same copy as a match (`mine`: its
        copy_shingles): captured with exactly these bytes, or whose match copied the same text (copy_resemblance
        of at least SAME_COPY, the most alike first)."""
        row = self.db.execute(
            "SELECT a.id FROM alerts a WHERE a.article_id = ? AND a.site = ? AND a.status != 'removed' AND a.id != ? "
            "AND EXISTS (SELECT 1 FROM evidence e WHERE e.alert_id = a.id AND e.sha256 = ?) ORDER BY a.id LIMIT 1",
            [article_id, site, exclude, content_sha256]).fetchone()
        if row:
            return int(row[0])
        if not mine:
            return None
        # Each alert's detection match, and the match of every later capture (a copy back after its removal), with
        # the 3-grams kept with it (computed and kept now for a match from before they were).
        rows = self.db.execute(
            "SELECT a.id, m.id, m.copy_shingles FROM alerts a JOIN matches m ON m.id = a.match_id OR m.id IN "
            "(SELECT e.match_id FROM evidence e WHERE e.alert_id = a.id) "
            "WHERE a.article_id = ? AND a.site = ? AND a.status != 'removed' AND a.id != ? ORDER BY a.id, m.id",
            [article_id, site, exclude]).fetchall()
        best, best_id = SAME_COPY, None
        for alert_id, match_id, blob in rows:
            theirs = unpack_shingles(blob)
            if theirs is None:
                passages = self.db.execute("SELECT passages FROM matches WHERE id = ?", [match_id]).fetchone()[0]
                kept = copy_shingles(json.loads(passages))
                self.db.execute("UPDATE matches SET copy_shingles = ? WHERE id = ?", [pack_shingles(kept), match_id])
                theirs = tuple(kept)
            # A resemblance of `best` or more needs sets of sizes within that ratio of each other.
            if not theirs or min(len(mine), len(theirs)) < best * max(len(mine), len(theirs)):
                continue
            alike = copy_resemblance(mine, theirs)
            if alike >= best and (best_id is None or alike > best):
                best, best_id = alike, int(alert_id)
        return best_id

    def _insert_match(self, article_id: int, page_url: str, site: str, content_sha256: str,
                      match: dict[str, Any], disposition: str, now: str) -> int:
        self.db.execute(
            "INSERT OR IGNORE INTO matches (article_id, page_url, site, content_sha256, kind, coverage, "
            "page_share, longest_run, score, passages, found_at, disposition) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [article_id, page_url, site, content_sha256, match["kind"], match["coverage"],
             match["page_share"], match["longest_run"], match["score"],
             json.dumps(match["passages"]), now, disposition],
        )
        return int(self.db.execute(
            "SELECT id FROM matches WHERE article_id = ? AND page_url = ? AND content_sha256 = ?",
            [article_id, page_url, content_sha256],
        ).fetchone()[0])

    def _insert_evidence(self, alert_id: int, match_id: int | None, evidence: Evidence) -> int:
        row = {"alert_id": alert_id, "match_id": match_id, **evidence.row()}
        cols = ", ".join(row)
        cur = self.db.execute(f"INSERT INTO evidence ({cols}) VALUES ({', '.join('?' * len(row))})",
                              list(row.values()))
        return int(cur.lastrowid or 0)

    def _event(self, alert_id: int, event: str, detail: str, now: str) -> int:
        cur = self.db.execute("INSERT INTO alert_events (alert_id, at, event, detail) VALUES (?, ?, ?, ?)",
                              [alert_id, now, event, detail])
        return int(cur.lastrowid or 0)

    def record_licensed(self, *, article: Article, site: str, page_url: str, content_sha256: str,
                        match: dict[str, Any], disposition: str = "licensed") -> int:
        """A match that raises no alert (licensed syndication, or an ignore rule): logged in `matches` (not when
        the article was replaced and deleted meanwhile: 0)."""
        with self.transaction():
            if self._current_id(article.id) is None:
                return 0
            return self._insert_match(article.id, page_url, site, content_sha256, match, disposition, now_iso())

    def _current_id(self, article_id: int) -> int | None:
        """The article that stands for `article_id` now: itself, or what replaced it (a replaced row always names
        a current article, see _retire); None when its row is gone or that article is untracked."""
        row = self.db.execute(
            "SELECT c.id, c.untracked_at FROM articles a JOIN articles c ON c.id = coalesce(a.replaced_by, a.id) "
            "WHERE a.id = ?", [article_id]).fetchone()
        return None if row is None or row[1] is not None else int(row[0])

    def alerts(self, limit: int | None = None, since_id: int = 0, *, states: Iterable[str] = (),
               site: str = "", kind: str = "", severity: str = "", since: str = "",
               until: str = "", evidence: bool = False) -> list[dict[str, Any]]:
        """The alert log, newest first, filtered by state, site, kind, severity and creation time (ISO). Each alert
        carries `also_at`, its copy's other addresses that carry it (as far as is known), `gone_from`, its addresses
        found not to carry it any more, and `grew`, its latest growth ({at, detail}) or None. With `evidence`, each
        alert also carries its match's longest verbatim run and passages (offsets and texts)."""
        where, params = ["id > ?"], [since_id]
        wanted = list(states)
        if wanted:
            where.append(f"status IN ({','.join('?' * len(wanted))})")
            params += wanted
        for column, value in (("site", site), ("kind", kind), ("severity", severity)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if since:
            where.append("created_at >= ?")
            params.append(since)
        if until:
            where.append("created_at < ?")
            params.append(until)
        sql = ("SELECT id, created_at, article_id, article_title, article_url, copy_url, site, kind, coverage, "
               "page_share, status, severity, credit, credit_detail, hidden, updated_at, last_checked_at, last_check, "
               f"note, match_id FROM alerts WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        # Each alert's match, in the same query: the article its offsets point into, and the evidence.
        sql = ("SELECT a.*, coalesce(m.article_id, a.article_id) AS match_article_id, "
               "coalesce(m.longest_run, 0) AS m_run, m.passages AS m_passages, "
               f"(SELECT json_group_array(detail) FROM ({_ALSO_AT_NOW.format(alert='a.id', own='a.copy_url')})) "
               "AS m_also_at, "
               f"(SELECT json_group_array(url) FROM ({_GONE_FROM.format(alert='a.id', own='a.copy_url')})) "
               f"AS m_gone_from, ({_GREW.format(alert='a.id')}) AS m_grew "
               f"FROM ({sql}) a LEFT JOIN matches m ON m.id = a.match_id ORDER BY a.created_at DESC, a.id DESC")
        rows = list(self.db.query(sql, params))
        for row in rows:
            run, passages = row.pop("m_run"), row.pop("m_passages")
            row["also_at"] = json.loads(row.pop("m_also_at"))
            row["gone_from"] = json.loads(row.pop("m_gone_from"))
            grown = row.pop("m_grew")
            row["grew"] = json.loads(grown) if grown else None
            if evidence:
                row["longest_run"], row["passages"] = run, json.loads(passages) if passages else []
        return rows

    def alert(self, alert_id: int) -> dict[str, Any]:
        row = next(self.db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]), None)
        if row is None:
            raise KeyError(alert_id)
        m = next(self.db.query("SELECT * FROM matches WHERE id = ?", [row["match_id"]]), None)
        row["passages"] = json.loads(m["passages"]) if m else []
        row["longest_run"] = m["longest_run"] if m else 0
        # The passages' offsets point into the text the match was made with: after the URL's text changed, an
        # alert follows the new article while its match stays with the version it was found on.
        row["match_article_id"] = m["article_id"] if m else row["article_id"]
        # Where the copy is: its other addresses that carry it, and those found not to any more (docs/alerts.md).
        own = "(SELECT copy_url FROM alerts WHERE id = :a)"
        row["also_at"] = [r[0] for r in self.db.execute(_ALSO_AT_NOW.format(alert=":a", own=own), {"a": alert_id})]
        row["gone_from"] = [r[0] for r in self.db.execute(_GONE_FROM.format(alert=":a", own=own), {"a": alert_id})]
        grown = self.db.execute(_GREW.format(alert=":a"), {"a": alert_id}).fetchone()
        row["grew"] = json.loads(grown[0]) if grown else None
        return row

    def also_at(self, alert_id: int) -> list[str]:
        """The other addresses of the site the alert's copy was ever found at (its `also_at` events), in the order
        found, whether they carry it now or not (Store.alert's `also_at` holds only those that do). With `copy_url`
        first, these are every address of the copy (Store.addresses)."""
        return [r[0] for r in self.db.execute(_ALSO_AT.format(alert="?"), [alert_id])]

    def addresses(self, alert_id: int) -> list[str]:
        """Every address the alert's copy was found at: its own (`copy_url`) first, then the others (also_at)."""
        row = self.db.execute("SELECT copy_url FROM alerts WHERE id = ?", [alert_id]).fetchone()
        if row is None:
            raise KeyError(alert_id)
        return [row[0], *(u for u in self.also_at(alert_id) if u != row[0])]

    def evidence(self, alert_id: int) -> list[dict[str, Any]]:
        """Every capture for an alert, oldest (the detection) first."""
        return list(self.db.query("SELECT * FROM evidence WHERE alert_id = ? ORDER BY id", [alert_id]))

    def captured(self, alert_id: int, sha256: str, texts: Iterable[str]) -> bool:
        """Whether a capture of the alert holds these bytes (`sha256`) or one of these page texts: the page is as
        it was when the copy was found there."""
        texts = list(texts)
        marks = ", ".join("?" * len(texts)) or "NULL"
        return self.db.execute(
            f"SELECT 1 FROM evidence WHERE alert_id = ? AND (sha256 = ? OR page_text IN ({marks})) LIMIT 1",
            [alert_id, sha256, *texts]).fetchone() is not None

    def match(self, match_id: int) -> dict[str, Any] | None:
        """A recorded match (kind, coverage, page_share, longest_run, passages with their texts), or None."""
        row = next(self.db.query("SELECT * FROM matches WHERE id = ?", [match_id]), None)
        if row is not None:
            row["passages"] = json.loads(row["passages"])
        return row

    def alert_events(self, alert_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM alert_events WHERE alert_id = ? ORDER BY id", [alert_id]))

    def growths_since(self, site: str, since: str) -> list[tuple[int, str]]:
        """(alert id, detail) of each growth of a copy on `site` recorded at or after `since` (an ISO time)."""
        return [(int(r[0]), r[1]) for r in self.db.execute(
            "SELECT e.alert_id, e.detail FROM alert_events e JOIN alerts a ON a.id = e.alert_id "
            "WHERE a.site = ? AND e.event = 'grew' AND e.at >= ? ORDER BY e.id", [site, since])]

    # -- the lifecycle ------------------------------------------------------------------------------
    def set_state(self, alert_id: int, state: str, *, detail: str = "", note: str | None = None,
                  channels: Iterable[str] = (), evidence: Evidence | None = None,
                  match: dict[str, Any] | None = None, only_from: Iterable[str] | None = None,
                  page_url: str | None = None) -> bool:
        """Move an alert to `state`, logging the change; returns False when it already was there, or when
        `only_from` is given and the alert is in none of those states.

        `only_from` is checked in the same transaction as the change: a caller that decided on a status it
        read earlier (a recheck pass takes minutes) must not undo what a person or another process did
        since, e.g. mark removed, and notify about, an alert that was ignored meanwhile.
        `removed` and `reopened` (which lands in `new`) queue one notification per channel so the user
        is told, in the same transaction as the change. `evidence` adds a capture, and `match` the match made on
        it, at `page_url` (default the alert's `copy_url`; another of its addresses when the copy is back there).
        """
        if state not in ALERT_STATES and state != "reopened":
            raise ValueError(f"unknown alert state {state!r} (known: {', '.join(ALERT_STATES)})")
        now = now_iso()
        target = "new" if state == "reopened" else state
        with self.transaction():
            row = self.db.execute("SELECT status, copy_url, site, article_id FROM alerts WHERE id = ?",
                                  [alert_id]).fetchone()
            if row is None:
                raise KeyError(alert_id)
            if row[0] == target or (only_from is not None and row[0] not in only_from):
                return False
            self.db.execute("UPDATE alerts SET status = ?, updated_at = ?, note = coalesce(?, note) WHERE id = ?",
                            [target, now, note, alert_id])
            event_id = self._event(alert_id, state, detail or f"{row[0]} -> {target}", now)
            if evidence is not None:
                match_id = None
                if match is not None:
                    match_id = self._insert_match(row[3], page_url or row[1], row[2], evidence.sha256, match,
                                                  "alert", now)
                self._insert_evidence(alert_id, match_id, evidence)
            if state in NOTIFIED_EVENTS:
                self._queue(alert_id, NOTIFIED_EVENTS[state], event_id, channels, now)
            if target == "ignored":  # nobody needs telling about an alert a person chose to ignore
                self.db.execute("UPDATE notifications SET status = 'cancelled', claimed_by = NULL "
                                "WHERE alert_id = ? AND status IN ('pending', 'failed')", [alert_id])
        return True

    def record_check(self, alert_id: int, result: str, probes: Iterable[Probe] = (), round_: int = 0,
                     events: bool = True) -> None:
        """A recheck's result (`last_check`) and, in the same transaction, what each address it fetched showed
        (`probes`, in the alert's recheck round `round_`): the copy there or gone is recorded per address
        (Store._mark; `events`: a change is an event too, unless the alert's own `removed` or `reopened` says it);
        an inconclusive fetch changes nothing but the time and round of the last fetch."""
        now = now_iso()
        with self.transaction():
            self.db.execute("UPDATE alerts SET last_checked_at = ?, last_check = ? WHERE id = ?",
                            [now, result[:500], alert_id])
            for probe in probes:
                self.db.execute(
                    "INSERT INTO alert_addresses (alert_id, url, checked_at, probed) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (alert_id, url) DO UPDATE SET checked_at = excluded.checked_at, "
                    "probed = max(probed, excluded.probed)", [alert_id, probe.url, now, round_])
                if probe.state in ("there", "gone"):
                    self._mark(alert_id, probe.url, probe.state == "there", now, probe.why, events)

    def address_states(self, alert_id: int) -> list[Address]:
        """Every address of the alert's copy (Store.addresses: its own first) and what is known of each."""
        known = {r[0]: r[1:] for r in self.db.execute(
            "SELECT url, present, since, checked_at, probed FROM alert_addresses WHERE alert_id = ?", [alert_id])}
        out = []
        for url in self.addresses(alert_id):
            k = known.get(url)
            out.append(Address(url, bool(k[0]), k[1], k[2], int(k[3])) if k else Address(url, True))
        return out

    def add_ignore_rule(self, *, site: str = "", url_pattern: str = "", from_alert: int | None = None,
                        note: str = "") -> int:
        # Ids are never reused (SQLite would hand a deleted largest one out again): events name the rule that
        # ignored an alert (`ignore rule #N`), and `ignore --undo-rule N` must not reopen what a removed N ignored.
        with contextlib.nullcontext() if self.db.conn.in_transaction else self.transaction():
            high = self.db.execute(
                "SELECT max(coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'ignore_rules_high'), 0), "
                "coalesce((SELECT max(id) FROM ignore_rules), 0))").fetchone()[0]
            rule_id = int(high) + 1
            self.db.execute(
                "INSERT INTO ignore_rules (id, created_at, site, url_pattern, from_alert, note) "
                "VALUES (?, ?, ?, ?, ?, ?)", [rule_id, now_iso(), site or None, url_pattern or None, from_alert, note])
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('ignore_rules_high', ?)", [str(rule_id)])
        return rule_id

    def ignore_rules(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM ignore_rules ORDER BY id"))

    def open_copy_urls(self) -> list[tuple[int, str]]:
        """(id, copy URL) of every open alert (OPEN_STATES), oldest first."""
        marks = ", ".join("?" * len(OPEN_STATES))
        return [(int(i), u) for i, u in self.db.execute(
            f"SELECT id, copy_url FROM alerts WHERE status IN ({marks}) ORDER BY id", OPEN_STATES).fetchall()]

    def open_alerts_at(self, urls: Iterable[str]) -> list[dict[str, Any]]:
        """The open alerts (OPEN_STATES) whose copy is at one of `urls` (its `copy_url`), oldest first: id, status,
        article_id, and match_article_id, the version of the article its match was made with (an earlier version
        when the article was tracked again with a new text since)."""
        marks = ", ".join("?" * len(OPEN_STATES))
        return list(self.db.query(
            f"SELECT a.id, a.status, a.article_id, COALESCE(m.article_id, a.article_id) AS match_article_id "
            f"FROM alerts a LEFT JOIN matches m ON m.id = a.match_id WHERE a.status IN ({marks}) AND a.copy_url IN "
            f"(SELECT value FROM json_each(?)) ORDER BY a.id", [*OPEN_STATES, json.dumps(list(urls))]))

    def knows_site(self, site: str) -> bool:
        """Whether an alert (any state) was ever raised on a site of this name."""
        return self.db.execute("SELECT 1 FROM alerts WHERE site = ? LIMIT 1", [site]).fetchone() is not None

    def open_alerts_by_site(self) -> dict[str, int]:
        """How many open alerts (OPEN_STATES) each site name has."""
        marks = ", ".join("?" * len(OPEN_STATES))
        return dict(self.db.execute(f"SELECT site, count(*) FROM alerts WHERE status IN ({marks}) GROUP BY site",
                                    OPEN_STATES).fetchall())

    def remove_ignore_rule(self, rule_id: int) -> bool:
        """Delete an ignore rule (`provmon ignore --undo`); False when there is none with that id."""
        with self.transaction():
            return self.db.execute("DELETE FROM ignore_rules WHERE id = ?", [rule_id]).rowcount > 0

    def _rule_ignores(self) -> list[tuple[int, int | None]]:
        """Each `ignored` alert with the rule its latest ignore names (cmd_ignore records `ignore rule #N`, since
        `ignore --undo` `ignore rule #N: <state> -> ignored`), None when a person ignored it by hand."""
        rows = self.db.execute(
            "SELECT a.id, (SELECT e.detail FROM alert_events e WHERE e.alert_id = a.id AND e.event = 'ignored' "
            "ORDER BY e.id DESC LIMIT 1) FROM alerts a WHERE a.status = 'ignored' ORDER BY a.id")
        return [(int(r[0]), int(m[1]) if (m := _BY_RULE.match(r[1] or "")) else None) for r in rows]

    def ignored_by_rule(self, rule_id: int) -> list[int]:
        """The alerts still `ignored` whose latest ignore was this rule's."""
        return [a for a, rule in self._rule_ignores() if rule == rule_id]

    def ignored_by_removed_rules(self) -> dict[int, int]:
        """Alerts still `ignored` whose latest ignore was a rule that no longer exists, alert id -> that rule: what
        an undo left behind before the ignore moved to a rule still covering the alert (credit_ignore)."""
        rules = {int(r[0]) for r in self.db.execute("SELECT id FROM ignore_rules")}
        return {a: rule for a, rule in self._rule_ignores() if rule is not None and rule not in rules}

    def credit_ignore(self, alert_id: int, rule_id: int) -> bool:
        """Record that rule `rule_id` now keeps an ignored alert ignored (the rule that had ignored it is being
        removed, and this one still covers it): an `ignored` event `ignore rule #M: <state> -> ignored` keeping the
        state it was first ignored from, so that removing rule M reopens it and `ignore ID --undo` restores that
        state. False when the alert is not ignored any more."""
        with self.transaction():
            row = self.db.execute("SELECT status FROM alerts WHERE id = ?", [alert_id]).fetchone()
            if row is None or row[0] != "ignored":
                return False
            last = self.db.execute("SELECT detail FROM alert_events WHERE alert_id = ? AND event = 'ignored' "
                                   "ORDER BY id DESC LIMIT 1", [alert_id]).fetchone()
            found = re.search(r"(\w+) -> ignored$", last[0]) if last else None
            self._event(alert_id, "ignored", f"ignore rule #{rule_id}" + (f": {found[0]}" if found else ""), now_iso())
        return True

    def unignore(self, alert_id: int, why: str) -> str | None:
        """Undo the ignore of an alert: back to the state it was ignored from (read from its latest `ignored`
        event, `<state> -> ignored`; else `notified` when a message went out, `new` when none did), with an
        `unignored` event, and the notifications the ignore cancelled pending again. None when it is not ignored."""
        now = now_iso()
        with self.transaction():
            row = self.db.execute("SELECT status FROM alerts WHERE id = ?", [alert_id]).fetchone()
            if row is None:
                raise KeyError(alert_id)
            if row[0] != "ignored":
                return None
            last = self.db.execute("SELECT detail FROM alert_events WHERE alert_id = ? AND event = 'ignored' "
                                   "ORDER BY id DESC LIMIT 1", [alert_id]).fetchone()
            found = re.search(r"(\w+) -> ignored$", last[0]) if last else None
            target = found.group(1) if found and found.group(1) in ALERT_STATES and found.group(1) != "ignored" \
                else None
            if target is None:
                sent = self.db.execute("SELECT 1 FROM notifications WHERE alert_id = ? AND status = 'sent'",
                                       [alert_id]).fetchone()
                target = "notified" if sent else "new"
            self.db.execute("UPDATE alerts SET status = ?, updated_at = ? WHERE id = ?", [target, now, alert_id])
            self._event(alert_id, "unignored", f"ignored -> {target} ({why})", now)
            if target in OPEN_STATES:  # what the ignore cancelled is owed again (a removed copy owes nothing)
                self.db.execute("UPDATE notifications SET status = 'pending', next_attempt_at = NULL "
                                "WHERE alert_id = ? AND status = 'cancelled'", [alert_id])
        return target

    # -- delivery: claims with a lease, backoff -------------------------------------------------------
    def pending_notifications(self, channels: Iterable[str]) -> list[Notification]:
        names = list(channels)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        rows = self.db.execute(
            f"SELECT id, alert_id, channel, attempts, idempotency_key, event, snapshot FROM notifications "
            f"WHERE status IN ('pending', 'failed') AND channel IN ({marks}) ORDER BY id",
            names,
        ).fetchall()
        return [Notification(*r) for r in rows]

    def claim_notifications(self, channel: str, holder: str, lease_seconds: float, now: datetime,
                            limit: int = 1, holder_alive: Callable[[str], bool] | None = None,
                            digest_since: datetime | None = None) -> list[Notification]:
        """Take up to `limit` due notifications of a channel for `holder`, for `lease_seconds`.

        Claiming happens in one write transaction, so two processes never hold the same row. A claim
        lapses when its lease ends, or at once when `holder_alive` says its process is gone (kill -9).
        Per alert, rows go in the order they were recorded (by id): a row is not taken while an earlier row of
        its alert on this channel is unsent (pending, claimed by a live holder, or failed and in backoff) and
        not taken in this same batch; other alerts' rows are not held up by it. Rows `sent` or `cancelled`
        block nothing.
        With `digest_since` (a digest channel: one message per period) nothing is claimed when a row of
        the channel was sent after that time or another holder's digest is in flight; checked in the same
        transaction, so the service and a `provmon run --once` cannot both send one in a period.
        """
        stamp = now.astimezone(UTC).isoformat(timespec="seconds")
        until = (now + timedelta(seconds=lease_seconds)).astimezone(UTC).isoformat(timespec="seconds")
        with self.transaction():
            if digest_since is not None:
                last = self.db.execute("SELECT max(sent_at) FROM notifications WHERE channel = ?",
                                       [channel]).fetchone()[0]
                if last and datetime.fromisoformat(last) > digest_since:
                    return []
            # Every unsent row of the channel, due or not: one in backoff still holds back its alert's later rows.
            cursor = self.db.execute(
                "SELECT id, alert_id, channel, attempts, idempotency_key, event, claimed_by, claimed_until, "
                "next_attempt_at, snapshot FROM notifications WHERE channel = ? AND status IN ('pending', 'failed') "
                "ORDER BY id",
                [channel],
            )

            def held(r: tuple[Any, ...]) -> bool:
                return bool(r[6] and r[7] and r[7] > stamp and (holder_alive is None or holder_alive(r[6])))

            rows: Iterable[tuple[Any, ...]] = cursor
            if digest_since is not None:
                rows = cursor.fetchall()
                if any(held(r) for r in rows):
                    return []  # another process is sending this period's digest
            # Otherwise read lazily: a claim stops at its `limit`th row, so a pass over a long outbox (an outage's
            # backlog) does not read every row once per message sent.
            taken: list[Notification] = []
            waiting: set[int] = set()  # alerts with an earlier row that stays unsent: their later rows wait
            for r in rows:
                if len(taken) >= limit:
                    break
                if r[1] in waiting or (r[8] is not None and r[8] > stamp) or held(r):
                    waiting.add(r[1])
                    continue
                taken.append(Notification(*r[:6], snapshot=r[9]))
            cursor.close()
            self.db.conn.executemany("UPDATE notifications SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                                     [(holder, until, n.id) for n in taken])
        return taken

    def mark_sent(self, notification_id: int, alert_id: int, holder: str | None = None) -> bool:
        """Record a delivery once; with `holder`, only while that holder still has the claim."""
        with self.transaction():
            cur = self.db.execute(
                "UPDATE notifications SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                "last_error = NULL, claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL "
                "WHERE id = ? AND status != 'sent' AND (? IS NULL OR claimed_by = ?)",
                [now_iso(), notification_id, holder, holder],
            )
            self.db.execute("UPDATE alerts SET status = 'notified', updated_at = ? WHERE id = ? AND status = 'new'",
                            [now_iso(), alert_id])
        return cur.rowcount == 1

    def mark_failed(self, notification_id: int, error: str, next_attempt_at: str | None = None,
                    holder: str | None = None) -> None:
        """Record a failed attempt; also the channel's last failure (time and error) in meta
        (`notify_failure:<channel>`), which `provmon status` shows."""
        with self.transaction():
            cur = self.db.execute(
                "UPDATE notifications SET status = 'failed', attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL "
                "WHERE id = ? AND status != 'sent' AND (? IS NULL OR claimed_by = ?)",
                [error[:1000], next_attempt_at, notification_id, holder, holder],
            )
            if cur.rowcount == 1:
                self.db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) SELECT 'notify_failure:' || channel, "
                    "json_object('at', ?, 'error', ?) FROM notifications WHERE id = ?",
                    [now_iso(), error[:1000], notification_id])

    def failing_channels(self) -> list[dict[str, Any]]:
        """Channels with deliveries that failed and are not sent yet (status `failed`, retried with backoff): per
        channel `failing` (its unsent rows: those that failed and those waiting behind them, a pass stopping at a
        channel that is down), `oldest` (when the oldest of them was queued: undelivered since), `last_error` and
        `last_failed_at` (the channel's latest failed attempt), `next_attempt` (the earliest retry due, None when
        one is due now)."""
        rows = self.db.execute(
            "SELECT channel, count(*), min(created_at), min(next_attempt_at) FILTER (WHERE status = 'failed') "
            "FROM notifications WHERE status IN ('pending', 'failed') AND channel IN "
            "(SELECT channel FROM notifications WHERE status = 'failed') GROUP BY channel ORDER BY channel").fetchall()
        out = []
        for channel, n, oldest, next_attempt in rows:
            last = self.db.execute("SELECT value FROM meta WHERE key = ?", [f"notify_failure:{channel}"]).fetchone()
            if last:
                failure = json.loads(last[0])
            else:  # failed before provmon recorded failures in meta: the latest row's error
                r = self.db.execute("SELECT last_error FROM notifications WHERE channel = ? AND status = 'failed' "
                                    "ORDER BY id DESC LIMIT 1", [channel]).fetchone()
                failure = {"at": None, "error": r[0]}
            out.append({"channel": channel, "failing": n, "oldest": oldest, "last_error": failure["error"],
                        "last_failed_at": failure["at"], "next_attempt": next_attempt})
        return out

    def undelivered_by_channel(self) -> dict[str, int]:
        """How many notifications each channel label has queued and not sent (pending or failed)."""
        return dict(self.db.execute("SELECT channel, count(*) FROM notifications WHERE status IN ('pending', 'failed') "
                                    "GROUP BY channel").fetchall())

    def retry_now(self, channels: Iterable[str]) -> int:
        """Make the channels' failed notifications due now (the receiver is known to be back): how many."""
        names = list(channels)
        marks = ", ".join("?" * len(names)) or "NULL"
        with self.transaction():
            return self.db.execute(f"UPDATE notifications SET next_attempt_at = NULL WHERE status = 'failed' "
                                   f"AND channel IN ({marks})", names).rowcount

    def move_undelivered(self, old: str, new: str) -> tuple[int, int]:
        """Give channel `old`'s unsent notifications to channel `new` (a channel renamed in the config), as new ones
        (no attempts, due now; each keeps its idempotency key). A message `new` already has a row for (the same
        event of the same alert) is not queued twice: `old`'s row is dropped. Returns (moved, dropped)."""
        with self.transaction():
            dropped = self.db.execute(
                "UPDATE notifications SET status = 'dropped', claimed_by = NULL, claimed_until = NULL, "
                "last_error = ? WHERE channel = ? AND status IN ('pending', 'failed') AND EXISTS (SELECT 1 FROM "
                "notifications n WHERE n.channel = ? AND n.alert_id = notifications.alert_id AND n.event = "
                "notifications.event AND n.event_id IS notifications.event_id)",
                [f"dropped: {new} has this message already (provmon notify --move)", old, new]).rowcount
            moved = self.db.execute(
                "UPDATE notifications SET channel = ?, status = 'pending', attempts = 0, next_attempt_at = NULL, "
                "claimed_by = NULL, claimed_until = NULL, last_error = NULL "
                "WHERE channel = ? AND status IN ('pending', 'failed')", [new, old]).rowcount
        return moved, dropped

    def drop_undelivered(self, channel: str) -> int:
        """Give up channel `channel`'s unsent notifications (status `dropped`: kept, never sent). Returns how many."""
        with self.transaction():
            return self.db.execute(
                "UPDATE notifications SET status = 'dropped', claimed_by = NULL, claimed_until = NULL, "
                "last_error = 'dropped: provmon notify --drop' WHERE channel = ? AND status IN ('pending', 'failed')",
                [channel]).rowcount

    def release(self, notification_id: int, holder: str) -> None:
        """Give a claim back unsent (e.g. a digest that is not due yet)."""
        self.db.execute("UPDATE notifications SET claimed_by = NULL, claimed_until = NULL "
                        "WHERE id = ? AND claimed_by = ?", [notification_id, holder])

    def notifications(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM notifications ORDER BY id"))

    # -- scheduler state, heartbeat, retention ------------------------------------------------------
    def next_runs(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT site, next_run FROM site_state WHERE next_run IS NOT NULL")}

    def set_next_run(self, site: str, when: str | None) -> None:
        self.db.execute(
            "INSERT INTO site_state (site, next_run) VALUES (?, ?) "
            "ON CONFLICT(site) DO UPDATE SET next_run = excluded.next_run",
            [site, when],
        )

    def run_started(self, site: str) -> None:
        self.db.execute(
            "INSERT INTO site_state (site, last_start) VALUES (?, ?) "
            "ON CONFLICT(site) DO UPDATE SET last_start = excluded.last_start",
            [site, now_iso()],
        )

    def run_finished(self, site: str, *, ok: bool, error: str | None, pages: int, new_alerts: int) -> None:
        self.db.execute(
            "UPDATE site_state SET last_end = ?, last_result = ?, last_error = ?, runs = runs + 1, pages_seen = ?, "
            "alerts_raised = alerts_raised + ?, "
            "consecutive_failures = CASE WHEN ? THEN 0 ELSE consecutive_failures + 1 END WHERE site = ?",
            [now_iso(), "ok" if ok else "failed", error, pages, new_alerts, ok, site],
        )

    def site_states(self) -> list[dict[str, Any]]:
        """Each site's scheduler state. Its `alerts_raised` is counted from the alerts stored for it: a run killed
        before run_finished (kill -9, power loss) committed its alerts one by one but never added them to the
        column, which stays as the tally of finished runs only."""
        return list(self.db.query(
            "SELECT s.site, s.next_run, s.last_start, s.last_end, s.last_result, s.last_error, "
            "s.consecutive_failures, s.runs, s.pages_seen, "
            "(SELECT count(*) FROM alerts a WHERE a.site = s.site) AS alerts_raised "
            "FROM site_state s ORDER BY s.site"))

    def beat(self, pid: int) -> None:
        """The service's heartbeat, with the machine it runs on; it clears a stop marker (record_stop): the service
        runs again."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)",
                            [f"{now_iso()} {pid}"])
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat_holder', ?)",
                            [holder_id(pid)])
            self.db.execute("DELETE FROM meta WHERE key = 'stopped'")

    def beat_gone(self) -> bool:
        """Whether the last heartbeat's process is known to be gone (process.holder_alive: on this host and in this
        PID namespace, its pid no longer runs): a service killed, or crashed, before its heartbeat grows old."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'heartbeat_holder'").fetchone()
        return row is not None and self.last_beat() is not None and not holder_alive(row[0])

    def hold_host(self, host: str, until: float, reason: str) -> None:
        """A host (scheme://host[:port]) asked to be left alone until `until` (epoch seconds): crawls skip it until
        then (monitor.politeness, Retry-After beyond fetch.max_retry_after)."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [f"host_hold {host}", json.dumps({"until": until, "reason": reason})])

    def rechecked(self) -> None:
        """A recheck pass of every flagged copy has ended (recheck_alerts): when, for the service's next one."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_recheck', ?)", [now_iso()])

    def last_recheck(self) -> datetime | None:
        """When the last full recheck pass ended (`rechecked`), or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'last_recheck'").fetchone()
        try:
            return datetime.fromisoformat(row[0]) if row else None
        except ValueError:
            return None

    def crawl_backlog(self, site: str) -> dict[str, Any] | None:
        """What a site's last crawl left for later (monitor.crawl.Backlog, as a dict), or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [f"crawl_backlog {site}"]).fetchone()
        return json.loads(row[0]) if row else None

    def set_crawl_backlog(self, site: str, backlog: dict[str, Any] | None) -> None:
        """Keep (or, with None, forget) what a site's crawl left for its next run."""
        if backlog is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", [f"crawl_backlog {site}"])
        else:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [f"crawl_backlog {site}", json.dumps(backlog, separators=(",", ":"))])

    def host_holds(self, now: float | None = None) -> dict[str, str]:
        """Hosts held now, and why; holds that have ended are deleted."""
        at = datetime.now(UTC).timestamp() if now is None else now
        held, ended = {}, []
        for key, value in self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'host_hold %'"):
            hold = json.loads(value)
            if hold["until"] > at:
                held[key.split(" ", 1)[1]] = hold["reason"]
            else:
                ended.append(key)
        if ended:
            with self.transaction():
                self.db.conn.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in ended])
        return held

    def schedules(self) -> dict[str, str]:
        """Per site, the schedule its stored next run was planned by (the service's when-key, as text)."""
        rows = self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'schedule %'").fetchall()
        return {key.split(" ", 1)[1]: value for key, value in rows}

    def save_schedules(self, schedules: dict[str, str]) -> None:
        with self.transaction():
            self.db.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                     [(f"schedule {site}", text) for site, text in schedules.items()])

    def record_stop(self, pid: int) -> None:
        """The service stopped cleanly (call it after its last heartbeat): `provmon status` says stopped, not
        stalled, until the next heartbeat clears the mark."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('stopped', ?)", [f"{now_iso()} {pid}"])

    def last_stop(self) -> tuple[str, int] | None:
        """(time, pid) of the last clean stop not followed by a heartbeat, else None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'stopped'").fetchone()
        if not row:
            return None
        when, pid = row[0].split()
        return when, int(pid)

    def last_beat(self) -> tuple[str, int] | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
        if not row:
            return None
        when, pid = row[0].split()
        return when, int(pid)

    def prune(self, older_than: str, max_pages_per_site: int | None = None) -> dict[str, int]:
        """Drop fetched-page records and matches older than `older_than` (ISO time). Evidence behind an
        alert is kept; only alerts closed (ignored or removed) before `older_than` lose their raw HTML,
        keeping its SHA-256, the fetch details and the text. Returns what was removed, then gives free
        pages back to the file system."""
        with self.transaction():
            matches = self.db.execute(
                "DELETE FROM matches WHERE found_at < ? AND id NOT IN "
                "(SELECT match_id FROM alerts WHERE match_id IS NOT NULL) AND id NOT IN "
                "(SELECT match_id FROM evidence WHERE match_id IS NOT NULL)", [older_than]).rowcount
            # Replaced versions of articles kept only for matches that are now gone (a [[track]] source edited
            # often leaves one per edit).
            replaced = self.db.execute(
                "DELETE FROM articles WHERE replaced_by IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM matches m WHERE m.article_id = articles.id) "
                "AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.article_id = articles.id)").rowcount
            pages = self.db.execute("DELETE FROM pages WHERE fetched_at < ?", [older_than]).rowcount
            if max_pages_per_site is not None:  # by count too: a site that grows fast keeps its newest
                pages += self.db.execute(
                    "DELETE FROM pages WHERE url IN (SELECT url FROM (SELECT url, row_number() OVER "
                    "(PARTITION BY site ORDER BY fetched_at DESC) AS n FROM pages) WHERE n > ?)",
                    [max_pages_per_site]).rowcount
            raw = self.db.execute(
                "UPDATE evidence SET raw_zlib = NULL WHERE raw_zlib IS NOT NULL AND alert_id IN "
                "(SELECT id FROM alerts WHERE status IN ('ignored', 'removed') AND updated_at < ?)",
                [older_than]).rowcount
        self.db.execute("PRAGMA incremental_vacuum")
        return {"matches": matches, "pages": pages, "raw_evidence": raw, "replaced_articles": replaced}

    # -- site templates ------------------------------------------------------------------------------
    def template_state(self, site: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT state FROM templates WHERE site = ?", [site]).fetchone()
        return json.loads(row[0]) if row else None

    def save_template_state(self, site: str, state: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO templates (site, state, updated_at) VALUES (?, ?, ?)",
            [site, json.dumps(state, separators=(",", ":")), now_iso()],
        )

    def update_template_state(self, site: str, update: Callable[[dict[str, Any] | None], dict[str, Any]]) -> None:
        """Read, change and write a site's template state in one write transaction, so that two processes
        learning one site's template (the service and `provmon run --once`) cannot overwrite each other."""
        with self.transaction():
            self.save_template_state(site, update(self.template_state(site)))
