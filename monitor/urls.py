"""The address a page is known by, so that one page is one page: crawled once, tracked once, alerted once.

`canonical` changes only what cannot name another page: the case of the scheme and host (RFC 3986), a default
port, the fragment (never sent to the server), and the query parameters that analytics add to links and that
servers ignore by convention (`utm_*`, `fbclid`, `gclid` and the like). A trailing slash or `index.html` can
name another resource, so they are kept: one page served at such addresses is recognised by its content instead
(the alert log: docs/alerts.md). `same_page` is the looser comparison used where a page points at an original
(rel=canonical, og:url): scheme, "www." and a trailing slash do not matter there.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# Query parameters that tag a link for analytics and ads, and never select content.
TRACKING = re.compile(r"utm_[a-z0-9_]*|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid"
                      r"|mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|wickedid|ref_src",
                      re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical(url: str) -> str:
    """`url` without what cannot make it another page (module docstring); any other URL (file:, a malformed
    one) as it is."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username or parts.password:  # kept as given: a rare, explicit choice of the link's writer
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    query = "&".join(p for p in parts.query.split("&") if p and not TRACKING.fullmatch(p.split("=", 1)[0]))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def host_of(url: str) -> str:
    """The host, in lower case and without "www."; "" when there is none (file: URLs)."""
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def same_page(a: str, b: str) -> bool:
    """Whether two URLs name one page, scheme, "www.", a trailing slash and tracking parameters aside."""
    return bool(a) and bool(b) and _loose(a) == _loose(b)


def _loose(url: str) -> str:
    parts = urlsplit(canonical(url))
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


def on_site_of(url: str, original: str) -> bool:
    """Whether `url` is on the original's site: its host, or a subdomain of it (amp., m.)."""
    host, home = host_of(url), host_of(original)
    return bool(home) and (host == home or host.endswith("." + home))
