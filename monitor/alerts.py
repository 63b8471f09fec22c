"""What an alert says: raising one from a match (credit, severity, licensed and ignored copies), and
rendering it for people and machines. The lifecycle and the severity rule are in docs/alerts.md."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.display import percent, plural
from monitor.evidence import Evidence
from monitor.extract import Extracted
from monitor.match import Match
from monitor.store import Article, Store
from monitor.urls import host_of, same_page

PAYLOAD_VERSION = 1

# Credit grades, strongest first. `canonical`: the copy's rel=canonical or og:url names the original (search
# engines then credit the original); `link`: it links to the original; `credit_line`: a credit line names the
# owner or the original's site; `none`: nothing.
CREDIT_GRADES = ("canonical", "link", "credit_line", "none")
EVENT_TITLES = {"copy_detected": "copy found", "copy_removed": "copy gone", "copy_reopened": "copy is back",
                "copy_grew": "copy grew", "test": "test message"}


@dataclass(frozen=True)
class Credit:
    grade: str
    detail: str


@dataclass(frozen=True)
class Raised:
    alert_id: int
    created: bool


def assess_credit(page: Extracted, article_url: str, credit_names: Sequence[str]) -> Credit:
    """How the copy credits the original: the strongest of the signals the extractor found."""
    for label, value in (("rel=canonical", page.canonical_url), ("og:url", page.og_url)):
        if same_page(value, article_url):
            return Credit("canonical", f"{label} points at the original")
    for link in (*page.credit_links, *page.links):
        if same_page(link, article_url):
            return Credit("link", f"links to the original: {link}")
    names = [n for n in credit_names if n.strip()]
    site = host_of(article_url)
    if site:
        names.append(site)
    for line in page.credits:
        for name in names:
            if name.lower() in line.lower():
                return Credit("credit_line", f"credit line names {name!r}: {line[:200]}")
    return Credit("none", "no canonical, link or credit line naming the original")


def severity(kind: str, coverage: float, credit: str) -> str:
    """high, medium or low from kind, coverage and credit (documented in docs/alerts.md):

    points = kind (verbatim 2, paraphrased 2 — spinning is deliberate —, partial 1)
           + coverage (>= 80% 2, >= 50% 1, else 0)
           + credit (none 1, credit_line or link 0, canonical -1)
    high >= 4, medium 2-3, low <= 1.
    """
    points = {"verbatim": 2, "paraphrased": 2, "partial": 1}.get(kind, 1)
    points += 2 if coverage >= 0.8 else 1 if coverage >= 0.5 else 0
    points += {"none": 1, "canonical": -1}.get(credit, 0)
    return "high" if points >= 4 else "medium" if points >= 2 else "low"


def is_licensed(url: str, licensed_domains: Iterable[str]) -> str:
    """The allow-listed domain `url` is on (itself or a subdomain; "www." on either side does not matter),
    else ""."""
    host = host_of(url)
    for domain in licensed_domains:
        bare = domain.lower().removeprefix("www.")
        if host == bare or host.endswith("." + bare):
            return domain
    return ""


def ignore_rule_for(rules: Iterable[dict[str, Any]], site: str, url: str) -> dict[str, Any] | None:
    """The first ignore rule covering a copy on `site` at `url` (a rule names a site, a URL regex or both)."""
    for rule in rules:
        if rule["site"] and rule["site"] != site:
            continue
        if rule["url_pattern"] and not re.search(rule["url_pattern"], url):
            continue
        if rule["site"] or rule["url_pattern"]:
            return rule
    return None


def rule_text(rule: dict[str, Any]) -> str:
    """What an ignore rule covers, in words."""
    if rule["site"] and rule["url_pattern"]:
        return f"copies on site '{rule['site']}' at URLs matching '{rule['url_pattern']}'"
    return f"copies on site '{rule['site']}'" if rule["site"] else f"copies at URLs matching '{rule['url_pattern']}'"


def unwatched_site_notes(store: Store, site_names: Collection[str], config: str) -> dict[int | str, str]:
    """What the alert log keeps under site names `config` no longer has (a site renamed or removed: a site's name is
    its identity), keyed by ignore rule id or site name: rules that ignore no new copy any more, and open alerts
    (still rechecked, with the default fetch settings)."""
    names = set(site_names)
    notes: dict[int | str, str] = {}
    for rule in store.ignore_rules():
        if rule["site"] and rule["site"] not in names:
            notes[rule["id"]] = (
                f"ignore rule #{rule['id']} ({rule_text(rule)}) names a site that is not in {config}: it ignores no "
                f"new copy (the site renamed? provmon ignore --undo-rule {rule['id']}, then ignore an alert of the "
                f"new name with --site)")
    for site, n in sorted(store.open_alerts_by_site().items()):
        if site not in names:
            notes[site] = (f"{plural(n, 'open alert')} on site '{site}', which is not in {config}: still rechecked, "
                           f"with the default fetch settings (the site renamed or removed? provmon alerts --site "
                           f"'{site}' lists them, provmon ignore ID closes one)")
    return notes


def licensed_open_note(store: Store, licensed_domains: Sequence[str], config: str) -> str:
    """Open alerts whose copy is on a domain `config` now licenses (added to alerts.licensed_domains after they were
    raised): they stay open and rechecked until a person closes them; "" when there are none."""
    if not licensed_domains:
        return ""
    ids = [f"#{i}" for i, url in store.open_copy_urls() if is_licensed(url, licensed_domains)]
    if not ids:
        return ""
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    return (f"{plural(len(ids), 'open alert')} ({shown}) copy on a domain now in alerts.licensed_domains of {config}: "
            f"raised before it was added, they stay open and rechecked (provmon ignore ID closes one)")


def hidden_share(match: Match, page_text: str, hidden: Sequence[str]) -> float:
    """The share of the copied text (the match's passages, page side) that lies in `hidden` paragraphs of
    `page_text` (Extracted.hidden: in the markup, not shown when the page loads)."""
    if not hidden or not match.passages:
        return 0.0
    # Where each hidden paragraph is, as a whole paragraph of the text. Paragraphs are joined by a blank line, and one
    # of preformatted text (<pre>) can hold blank lines itself: it is looked for where its first piece is.
    by_first: dict[str, list[str]] = {}
    for para in set(hidden):
        by_first.setdefault(para.split("\n\n", 1)[0], []).append(para)
    spans: list[tuple[int, int]] = []
    at = 0
    for piece in page_text.split("\n\n"):
        for para in by_first.get(piece, ()):
            end = at + len(para)
            if page_text.startswith(para, at) and (end == len(page_text) or page_text.startswith("\n\n", end)):
                if spans and at <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], end))
                else:
                    spans.append((at, end))
        at += len(piece) + 2
    copied = inside = 0
    for p in match.passages:
        copied += p.page_end - p.page_start
        inside += sum(max(0, min(p.page_end, end) - max(p.page_start, start)) for start, end in spans)
    return round(inside / copied, 3) if copied else 0.0


def raise_alert(store: Store, *, article: Article, match: Match, page_text: str, site: str,
                page_url: str, content_sha256: str, channels: Iterable[str], credit: Credit | None = None,
                hidden: Sequence[str] = (), evidence: Evidence | None = None) -> Raised:
    """Record the match and, the first time this copy URL is seen for this article, an alert with its
    evidence and one pending notification per channel (all in one transaction). `hidden`: the page's paragraphs
    that are hidden when it loads (Extracted.hidden); the alert records the share of the copy they hold."""
    credit = credit or Credit("unknown", "")
    alert_id, created = store.record_alert(
        article=article, site=site, page_url=page_url, content_sha256=content_sha256,
        match=match.to_dict(article.text, page_text), channels=channels,
        severity=severity(match.kind, match.coverage, credit.grade), credit=credit.grade,
        credit_detail=credit.detail, hidden=hidden_share(match, page_text, hidden), evidence=evidence,
    )
    return Raised(alert_id, created)


def hidden_text(alert: dict[str, Any]) -> str:
    """How much of the copy the page hides from readers, in words; empty when none of it."""
    share = alert.get("hidden") or 0.0
    if share <= 0:
        return ""
    return (f"{percent(share)} of the copied text is hidden when the page loads: it is in the page's HTML, which "
            "search engines read, but not shown to a reader (unless a script reveals it). Look at the page source to "
            "see it.")


def summary(alert: dict[str, Any]) -> str:
    more = len(alert.get("also_at") or ())
    return (f"{alert['kind']} copy of \"{alert['article_title'] or alert['article_url']}\" "
            f"({percent(alert['coverage'])} of the article) at {alert['copy_url']}"
            + (f" (and {plural(more, 'other address', 'other addresses')})" if more else ""))


def email_subject(alert: dict[str, Any], event: str = "copy_detected") -> str:
    title = alert["article_title"] or alert["article_url"]
    if event == "copy_removed":
        return f"[provmon] copy gone from {alert['site']}: {title}"
    if event == "copy_reopened":
        return f"[provmon] copy is back on {alert['site']}: {title}"
    if event == "copy_grew":
        return f"[provmon] copy grew to {alert['kind']} ({percent(alert['coverage'])}) on {alert['site']}: {title}"
    sev = f"{alert['severity']} " if alert.get("severity") else ""
    return f"[provmon] {sev}{alert['kind']} copy on {alert['site']}: {title}"


def credit_text(alert: dict[str, Any]) -> str:
    """The credit grade and what it rests on: `none (no canonical, link or credit line)`."""
    grade = alert.get("credit") or "unknown"
    detail = alert.get("credit_detail") or ""
    return f"{grade}" + (f" ({detail})" if detail else "")


def email_text(alert: dict[str, Any], event: str = "copy_detected") -> str:
    head = {
        "copy_detected": "Provenance Monitor found a copy of a tracked article.",
        "copy_removed": "A copy Provenance Monitor flagged is gone (the page is gone or no longer has it).",
        "copy_reopened": "A copy Provenance Monitor flagged earlier, then saw removed, is back.",
        "copy_grew": "A copy Provenance Monitor flagged now copies more of the article (an excerpt or a rewrite "
                     "became a fuller copy).",
    }.get(event, "Provenance Monitor")
    gone = alert.get("gone_from") or ()
    lines = [
        head,
        "",
        f"Article:   {alert['article_title']}",
        f"           {alert['article_url']}",
        f"Copy:      {alert['copy_url']}" + (" (no longer there)" if alert["copy_url"] in gone else ""),
        *(f"Also at:   {url}" for url in alert.get("also_at") or ()),
        *(f"Gone from: {url}" for url in gone if url != alert["copy_url"]),
        f"Site:      {alert['site']}",
        f"Kind:      {alert['kind']}",
        f"Coverage:  {percent(alert['coverage'])} of the article",
        *([f"Grew:      {alert['grew']['detail']} ({alert['grew']['at']})"] if alert.get("grew") else []),
        f"Page:      {percent(alert['page_share'])} of the page comes from the article",
        f"Credit:    {credit_text(alert)}",
        *([f"Hidden:    {hidden_text(alert)}"] if alert.get("hidden") else []),
        f"Severity:  {alert.get('severity') or 'unknown'}",
        f"Alert:     #{alert['id']} at {alert['created_at']}, {alert.get('status', 'new')} after this event",
    ]
    if alert.get("last_check") and event != "copy_detected":
        lines.append(f"Checked:   {alert.get('last_checked_at')}: {alert['last_check']}")
    passages = alert.get("passages") or []
    if passages and event != "copy_removed":
        shown = "article then copy" if len(passages) <= 5 else "the first five, article then copy"
        lines += ["", f"Matching passages ({len(passages)}; {shown}):"]
        for p in passages[:5]:
            lines += ["", f"  article: {p.get('article_text', '')[:400]}",
                      f"  copy:    {p.get('page_text', '')[:400]}"]
    lines += ["", f"Evidence page: provmon report {alert['id']}    Takedown draft: provmon notice {alert['id']}",
              f"Acknowledge: provmon ack {alert['id']}    Ignore: provmon ignore {alert['id']}"]
    return "\n".join(lines) + "\n"


def digest_subject(alerts: Sequence[tuple[str, dict[str, Any]]]) -> str:
    sites = sorted({a["site"] for _, a in alerts})
    return f"[provmon] digest: {plural(len(alerts), 'alert update')} on {', '.join(sites)}"


def digest_text(alerts: Sequence[tuple[str, dict[str, Any]]]) -> str:
    lines = [f"Provenance Monitor: {plural(len(alerts), 'alert update')} since the last digest.", ""]
    for event, a in alerts:
        lines.append(f"#{a['id']} {EVENT_TITLES.get(event, event)}: {a.get('severity') or '?'} {summary(a)}"
                     f" [credit: {a.get('credit') or 'unknown'}]"
                     + (" [hidden from readers]" if a.get("hidden") else ""))
    lines += ["", "Details: provmon report ID; the alert log: provmon alerts"]
    return "\n".join(lines) + "\n"


def webhook_payload(alert: dict[str, Any], event: str = "copy_detected") -> dict[str, Any]:
    """The documented, versioned JSON body of a webhook notification (docs/alerts.md, "Webhook payload").
    Fields are only ever added within a version; a rename or removal bumps `version`."""
    return {
        "version": PAYLOAD_VERSION,
        "event": event,
        "alert": {
            "id": alert["id"],
            "created_at": alert["created_at"],
            "status": alert.get("status", "new"),
            "severity": alert.get("severity", ""),
            "site": alert["site"],
            "copy_url": alert["copy_url"],
            "also_at": list(alert.get("also_at") or []),
            "gone_from": list(alert.get("gone_from") or []),
            "kind": alert["kind"],
            "coverage": alert["coverage"],
            "page_share": alert["page_share"],
            "longest_run": alert.get("longest_run", 0),
            "credit": {"grade": alert.get("credit") or "unknown", "detail": alert.get("credit_detail") or ""},
            "hidden": alert.get("hidden") or 0.0,
            "grew": alert.get("grew"),
            "last_check": {"at": alert.get("last_checked_at"), "result": alert.get("last_check")},
            "article": {"id": alert["article_id"], "title": alert["article_title"],
                        "url": alert["article_url"]},
            "passages": alert.get("passages", []),
        },
    }
