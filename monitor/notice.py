"""`provmon notice ID`: a DMCA takedown notice drafted from an alert's evidence and the [owner] details in
config.toml, for a person to review, sign and send. It carries the six elements 17 U.S.C. 512(c)(3)(A)
requires; it is a draft, not legal advice, and provmon never sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from monitor.config import OwnerSettings
from monitor.display import percent, plural, safe, shown_url
from monitor.store import Store
from monitor.urls import same_page

# Why each capture was made (evidence.reason), as the notice says it.
CAPTURE_REASONS = {"detected": "when the copy was found",
                   "reopened": "when the copy was back online after it had been removed"}


class NoticeError(Exception):
    """A notice cannot be drafted; the message names what is missing and where to set it."""


def missing_owner_keys(owner: OwnerSettings) -> list[str]:
    missing = [] if owner.name.strip() else ["owner.name"]
    if not (owner.email.strip() or owner.address.strip()):
        missing.append("owner.email (or owner.address)")
    return missing


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _why(capture: dict[str, Any]) -> str:
    return CAPTURE_REASONS.get(capture["reason"], capture["reason"])


def _capture_text(captures: Sequence[dict[str, Any]]) -> str:
    """The newest capture (the copy as it is online now), and the earlier ones by number and hash."""
    ev, n = captures[-1], len(captures)
    text = (f"   The page was retrieved on {ev['fetched_at']} (HTTP {ev['http_status']}, final URL "
            f"{shown_url(ev['final_url'])}); SHA-256 of the page as served: {ev['sha256']}.")
    if n > 1:
        earlier = "".join(f"\n   - capture {i}, {c['fetched_at']} ({_why(c)}): SHA-256 {c['sha256']}"
                          for i, c in enumerate(captures[:-1], 1))
        text += f"\n   This is capture {n} of {n}, the newest, made {_why(ev)}. The earlier ones:{earlier}"
    return text


def _urls(urls: Sequence[str]) -> str:
    return "".join(f"\n   {shown_url(url)}" for url in urls)


def _carrying(alert: dict[str, Any]) -> list[str]:
    """The addresses that carry the copy as far as the last rechecks know, its `copy_url` first when it does."""
    gone = alert.get("gone_from") or []
    return [u for u in (alert["copy_url"], *(alert.get("also_at") or [])) if u not in gone]


def _where(alert: dict[str, Any]) -> str:
    """The copy's location: the addresses that carry it, as far as the last rechecks know (each is to be named to be
    taken down), then, apart, those it was seen at before and that no longer carried it when last fetched."""
    gone = list(alert.get("gone_from") or [])
    current = _carrying(alert)
    if not current:
        return ("   The copy was published at the following addresses of the site; none of them carried it when last "
                "fetched:" + _urls(gone or [alert["copy_url"]]))
    where = f"   {shown_url(current[0])}"
    if len(current) > 1:  # one copy at several addresses of the site
        where += "\n   The same copy is also published on the site at:" + _urls(current[1:])
    if gone:
        where += ("\n   It was published at these addresses too, which no longer carried it when last fetched "
                  "(listed for the record, not for removal):" + _urls(gone))
    return where


def _published_at(url: str, now: str = "") -> str:
    """Where the work is published, for the notice: the article's address when the alert was raised, else the one it
    has now (`track --url` gave it one since). An article tracked from a local file (without a public canonical
    address in it, nor a --url) has only a path on the publisher's machine, which is no place of publication: the
    person completing the draft fills the public URL in, as they do the recipient."""
    for address in (url, now):
        if urlsplit(address).scheme in ("http", "https"):
            return shown_url(address)
    return "[FILL IN: the article's public URL (it was tracked from a local file)]"


def draft(alert: dict[str, Any], article: dict[str, Any], captures: Sequence[dict[str, Any]], owner: OwnerSettings,
          config_path: str, today: datetime | None = None, match: dict[str, Any] | None = None) -> str:
    """The notice for an alert, citing its newest capture (`captures`, oldest first, as Store.evidence lists
    them) and quoting `match` (the match made on that capture; default the alert's own). It names where the copy is
    (`copy_url` and `also_at` less `gone_from`, as Store.alert gives them), and apart where it was before. Every
    character a terminal or editor would act on is shown escaped (monitor.display): the text quotes hostile pages."""
    missing = missing_owner_keys(owner)
    if missing:
        raise NoticeError(f"{config_path}: set {', '.join(missing)} in [owner] to draft a takedown notice "
                          f"(the notice must carry the contact details and signature of an authorised person)")
    day = (today or datetime.now(UTC)).strftime("%Y-%m-%d")
    holder = owner.organisation or owner.name
    host = urlsplit(alert["copy_url"]).hostname or alert["copy_url"]
    found = match or alert
    covered = percent(found["coverage"])
    if match is not None and percent(alert["coverage"]) != covered:  # the newest capture's share is not the alert's
        covered += f" as last captured ({percent(alert['coverage'])} in alert #{alert['id']}'s record)"
    passages = found.get("passages") or []
    examples = []
    for i, p in enumerate(passages[:3], 1):
        examples += [f"   ({i}) Original: \"{_excerpt(p.get('article_text', ''))}\"",
                     f"       Copy:     \"{_excerpt(p.get('page_text', ''))}\""]
    if captures:
        capture = _capture_text(captures)
    else:
        capture = f"   The copy was found on {alert['created_at']}."
    where = _where(alert)
    # What the quotes and the share below describe: the newest capture. When the copy has moved since (the address
    # named first is another), that is said, with what the last recheck found there: the notice states no share for
    # a page it never captured.
    listed = _carrying(alert)
    captured_at = captures[-1]["url"] if captures else alert["copy_url"]
    if listed and not same_page(listed[0], captured_at):
        this_page = f"The copy as captured at {shown_url(captured_at)} (below) reproduced"
        if alert.get("last_check"):
            where += f"\n   When last checked ({alert.get('last_checked_at')}): {alert['last_check']}."
    else:
        this_page = "This page reproduces"
    if (alert.get("hidden") or 0) >= 0.5:  # the recipient opening the page would not see it
        where += ("\n   Most of the copied text is in the page's HTML but hidden from view when the page loads; "
                  "the page\n   source (view-source:) shows it.")
    credit = alert.get("credit") or "unknown"
    credit_line = ""
    if credit in ("canonical", "link", "credit_line"):
        credit_line = (f"   The page credits the original ({alert.get('credit_detail')}); crediting the source does "
                       f"not license the copying.\n")
    contact = [owner.name + (f", {owner.role}" if owner.role else ""), owner.organisation, owner.address,
               f"Email: {owner.email}" if owner.email else "", f"Telephone: {owner.phone}" if owner.phone else ""]
    contact_text = "\n".join(f"   {line}" for line in contact if line)
    warnings = []
    if alert["status"] in ("removed", "ignored"):
        warnings.append(f"This alert is {alert['status']}: check that the copy is still online before sending.")
        if alert.get("last_check"):  # e.g. the copy reposted at another address, alert #N's now: said, not left out
            warnings.append(f"Its last recheck ({alert.get('last_checked_at')}): {alert['last_check']}")
    return safe(f"""\
=== DRAFT: review every line before sending. Prepared by Provenance Monitor from alert #{alert['id']}. ===
=== This is not legal advice. Before sending, consider whether the use could be fair use or licensed   ===
=== (a notice requires a good-faith belief that it is not), and complete the recipient and signature.   ===
{''.join(f"=== NOTE: {w}{chr(10)}" for w in warnings)}
To:      Designated copyright agent for {host}
         [FILL IN: the agent listed in the U.S. Copyright Office DMCA directory
         (https://www.copyright.gov/dmca-directory/), the site's terms, or its hosting provider's abuse contact]
From:    {owner.name}{f", {owner.role}" if owner.role else ""}{f", {owner.organisation}" if owner.organisation else ""}
Date:    {day}
Subject: Notice of claimed copyright infringement (17 U.S.C. § 512(c)(3))

Dear Designated Agent,

I write on behalf of {holder}, the owner of the copyright in the work identified below, to notify you of
material on your service that infringes it, and to ask that you remove it or disable access to it expeditiously.

1. The copyrighted work (§ 512(c)(3)(A)(ii))
   "{alert['article_title'] or article['title']}", published by {holder} at
   {_published_at(alert['article_url'], article.get('url', ''))}

2. The infringing material and its location (§ 512(c)(3)(A)(iii))
{where}
   {this_page} about {covered} of the work's text without authorisation ({found['kind']} copy,
   {plural(len(passages), 'corresponding passage')}). For example:
{chr(10).join(examples) if examples else "   (no passages recorded)"}
{capture}
{credit_line}
3. Contact information (§ 512(c)(3)(A)(iv))
{contact_text}

4. Good-faith statement (§ 512(c)(3)(A)(v))
   I have a good faith belief that use of the material in the manner complained of is not authorized by the
   copyright owner, its agent, or the law.

5. Accuracy and authority (§ 512(c)(3)(A)(vi))
   The information in this notification is accurate, and under penalty of perjury, I am authorized to act on
   behalf of the owner of an exclusive right that is allegedly infringed.

6. Signature (§ 512(c)(3)(A)(i))
   [SIGN: type "/s/ {owner.name}" as an electronic signature, or sign by hand]

   ______________________________
   {owner.name}{f", {owner.role}" if owner.role else ""}
   {day}
""")


def notice_text(store: Store, alert_id: int, owner: OwnerSettings, config_path: str) -> str:
    """The notice for an alert; it cites the newest capture, and quotes the match made on it."""
    alert = store.alert(alert_id)
    article = store.article(alert["article_id"])
    captures = store.evidence(alert_id)
    match = store.match(captures[-1]["match_id"]) if captures and captures[-1]["match_id"] else None
    return draft(alert, {"title": article.title, "url": article.url}, captures, owner, config_path, match=match)
