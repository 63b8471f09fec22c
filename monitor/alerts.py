"""What an alert says: raising one from a match, and rendering it for people and machines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from monitor.match import Match
from monitor.store import Article, Store

PAYLOAD_VERSION = 1


@dataclass(frozen=True)
class Raised:
    alert_id: int
    created: bool


def raise_alert(store: Store, *, article: Article, match: Match, page_text: str, site: str,
                page_url: str, content_sha256: str, channels: Iterable[str]) -> Raised:
    """Record the match and, the first time this copy URL is seen for this article, an alert with
    one pending notification per channel (all in one transaction)."""
    alert_id, created = store.record_alert(
        article=article, site=site, page_url=page_url, content_sha256=content_sha256,
        match=match.to_dict(article.text, page_text), channels=channels,
    )
    return Raised(alert_id, created)


def summary(alert: dict[str, Any]) -> str:
    return (f"{alert['kind']} copy of \"{alert['article_title'] or alert['article_url']}\" "
            f"({alert['coverage']:.0%} of the article) at {alert['copy_url']}")


def email_subject(alert: dict[str, Any]) -> str:
    return f"[provmon] {alert['kind']} copy on {alert['site']}: {alert['article_title'] or alert['article_url']}"


def email_text(alert: dict[str, Any]) -> str:
    lines = [
        "Provenance Monitor found a copy of a tracked article.",
        "",
        f"Article:   {alert['article_title']}",
        f"           {alert['article_url']}",
        f"Copy:      {alert['copy_url']}",
        f"Site:      {alert['site']}",
        f"Kind:      {alert['kind']}",
        f"Coverage:  {alert['coverage']:.0%} of the article",
        f"Page:      {alert['page_share']:.0%} of the page comes from the article",
        f"Alert:     #{alert['id']} at {alert['created_at']}",
    ]
    passages = alert.get("passages") or []
    if passages:
        lines += ["", f"Matching passages ({len(passages)}; the first five, article then copy):"]
        for p in passages[:5]:
            lines += ["", f"  article: {p.get('article_text', '')[:400]}",
                      f"  copy:    {p.get('page_text', '')[:400]}"]
    return "\n".join(lines) + "\n"


def webhook_payload(alert: dict[str, Any]) -> dict[str, Any]:
    """The documented, versioned JSON body of a webhook notification (README "Webhook payload")."""
    return {
        "version": PAYLOAD_VERSION,
        "event": "copy_detected",
        "alert": {
            "id": alert["id"],
            "created_at": alert["created_at"],
            "site": alert["site"],
            "copy_url": alert["copy_url"],
            "kind": alert["kind"],
            "coverage": alert["coverage"],
            "page_share": alert["page_share"],
            "longest_run": alert.get("longest_run", 0),
            "article": {"id": alert["article_id"], "title": alert["article_title"],
                        "url": alert["article_url"]},
            "passages": alert.get("passages", []),
        },
    }
