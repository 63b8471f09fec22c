"""Discovery from XML: sitemaps (urlset, sitemap index, gzip) and RSS 1.0/2.0 and Atom feeds.

Parsed with the standard library's ElementTree through defusedxml, which refuses DTDs, entity
expansion and external entities (billion-laughs, XXE). We only need links and dates from these
documents, so a full feed library (feedparser: HTML sanitising, dozens of dialects) is not worth its
weight; see docs/crawling.md.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException


class DiscoveryError(ValueError):
    """A sitemap or feed that cannot be parsed."""


@dataclass(frozen=True)
class Entry:
    url: str
    lastmod: str = ""  # ISO 8601 UTC, "" when the document gives none or an unreadable one
    title: str = ""


@dataclass(frozen=True)
class Discovered:
    kind: str  # "urlset", "sitemapindex", "rss", "atom"
    pages: tuple[Entry, ...] = ()
    sitemaps: tuple[Entry, ...] = ()  # children of a sitemap index


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(el: Element, name: str) -> Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: Element, name: str) -> str:
    c = _child(el, name)
    return (c.text or "").strip() if c is not None else ""


def normalise_date(value: str) -> str:
    """W3C datetime (sitemaps, Atom) or RFC 822 (RSS) as ISO 8601 UTC; "" if unreadable or not representable
    in UTC (0001-01-01T00:00:00+01:00, .NET's DateTime.MinValue with an offset, is before year 1 in UTC)."""
    value = value.strip()
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError, IndexError):
            return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC).isoformat(timespec="seconds")
    except OverflowError:
        return ""


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Sitemaps may be .xml.gz files (not a Content-Encoding); inflate them with a hard output cap."""
    z = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = z.decompress(data, limit + 1)
    except zlib.error as exc:
        raise DiscoveryError(f"corrupt gzip: {exc}") from None
    if len(out) > limit:
        raise DiscoveryError(f"decompressed sitemap exceeds {limit} bytes (decompression bomb?)")
    return out


def parse(body: bytes, max_bytes: int = 50_000_000) -> Discovered:
    """Parse a sitemap, sitemap index, RSS or Atom document (gzip-compressed or not)."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip_capped(body, max_bytes)
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise DiscoveryError(f"refused unsafe XML: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise DiscoveryError(f"not well-formed XML: {exc}") from None
    kind = _local(root.tag)
    if kind == "urlset":
        return Discovered(kind, pages=tuple(_loc_entries(root, "url")))
    if kind == "sitemapindex":
        return Discovered(kind, sitemaps=tuple(_loc_entries(root, "sitemap")))
    if kind in {"rss", "RDF"}:
        items = [el for el in root.iter() if _local(el.tag) == "item"]
        return Discovered("rss", pages=tuple(e for e in map(_rss_entry, items) if e.url))
    if kind == "feed":
        entries = [el for el in root if _local(el.tag) == "entry"]
        return Discovered("atom", pages=tuple(e for e in map(_atom_entry, entries) if e.url))
    raise DiscoveryError(f"not a sitemap or feed (root element <{kind}>)")


def _loc_entries(root: Element, name: str) -> list[Entry]:
    out = []
    for el in root:
        if _local(el.tag) == name and (loc := _text(el, "loc")):
            out.append(Entry(loc, normalise_date(_text(el, "lastmod"))))
    return out


def _rss_entry(item: Element) -> Entry:
    url = _text(item, "link")
    guid = _child(item, "guid")
    if not url and guid is not None and guid.get("isPermaLink", "true") == "true":
        url = (guid.text or "").strip()
    date = _text(item, "pubDate") or _text(item, "date")  # RSS 2.0, or Dublin Core in RSS 1.0
    return Entry(url, normalise_date(date), _text(item, "title"))


def _atom_entry(entry: Element) -> Entry:
    url = ""
    for link in entry:
        if _local(link.tag) == "link" and link.get("rel", "alternate") == "alternate" and link.get("href"):
            url = link.get("href", "").strip()
            break
    date = _text(entry, "updated") or _text(entry, "published")
    return Entry(url, normalise_date(date), _text(entry, "title"))
