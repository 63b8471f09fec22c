"""Send alert notifications: notifiers registered under the `type` names config.toml uses.

Delivery reads the outbox (pending rows written with the alert) and records each result. A
notification is marked sent only after the channel accepted it, so a crash before that means it
is sent again on the next pass: the one case where a message can go out twice. Webhooks carry an
`Idempotency-Key` header, the same on every retry, so receivers can drop the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any

import httpx

from monitor.alerts import email_subject, email_text, summary, webhook_payload
from monitor.config import Channel
from monitor.store import Store

log = logging.getLogger(__name__)


class NotifyError(Exception):
    """A channel refused or could not take a message; the text says which and why."""


Sender = Callable[[Channel, dict[str, Any], str, Mapping[str, str]], None]


def _secret(channel: Channel, var: str, env: Mapping[str, str], what: str) -> str:
    if not var:
        return ""
    value = env.get(var)
    if value is None:
        raise NotifyError(f"{channel.label}: environment variable {var} ({what}) is not set")
    return value


def email_html(alert: dict[str, Any]) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><th align=left>{esc(k)}</th><td>{v}</td></tr>"
        for k, v in (
            ("Article", f"<a href=\"{esc(alert['article_url'])}\">{esc(alert['article_title'])}</a>"),
            ("Copy", f"<a href=\"{esc(alert['copy_url'])}\">{esc(alert['copy_url'])}</a>"),
            ("Site", esc(alert["site"])),
            ("Kind", esc(alert["kind"])),
            ("Coverage", f"{alert['coverage']:.0%} of the article"),
        )
    )
    passages = "".join(
        f"<tr><td>{esc(p.get('article_text', ''))}</td><td>{esc(p.get('page_text', ''))}</td></tr>"
        for p in (alert.get("passages") or [])[:5]
    )
    return (f"<html><body><p>Provenance Monitor found a copy of a tracked article.</p><table>{rows}</table>"
            f"<h3>Matching passages</h3><table border=1 cellpadding=4><tr><th>Article</th><th>Copy</th></tr>"
            f"{passages}</table></body></html>")


def send_email(channel: Channel, alert: dict[str, Any], key: str, env: Mapping[str, str]) -> None:
    password = _secret(channel, channel.password_env, env, "SMTP password")
    msg = EmailMessage()
    msg["Subject"] = email_subject(alert)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.recipients)
    msg["Message-ID"] = f"<{key}@provmon>"
    msg.set_content(email_text(alert))
    msg.add_alternative(email_html(alert), subtype="html")
    try:
        smtp_cls = smtplib.SMTP_SSL if channel.ssl else smtplib.SMTP
        with smtp_cls(channel.host, channel.port, timeout=channel.timeout) as smtp:
            if channel.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if channel.username:
                smtp.login(channel.username, password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"{channel.label}: SMTP {channel.host}:{channel.port}: {exc}") from None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex; sent as X-Provmon-Signature: t=...,v1=..."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def send_webhook(channel: Channel, alert: dict[str, Any], key: str, env: Mapping[str, str]) -> None:
    secret = _secret(channel, channel.secret_env, env, "webhook signing secret")
    body = json.dumps(webhook_payload(alert), sort_keys=True).encode()
    headers = {"content-type": "application/json", "idempotency-key": key, "user-agent": "provmon"}
    if secret:
        ts = int(time.time())
        headers["x-provmon-signature"] = f"t={ts},v1={sign(secret, ts, body)}"
    try:
        resp = httpx.post(channel.url, content=body, headers=headers, timeout=channel.timeout)
    except httpx.HTTPError as exc:
        raise NotifyError(f"{channel.label}: POST {channel.url}: {type(exc).__name__}: {exc}") from None
    if not 200 <= resp.status_code < 300:
        raise NotifyError(f"{channel.label}: POST {channel.url}: HTTP {resp.status_code}")


NOTIFIERS: Mapping[str, Sender] = {"email": send_email, "webhook": send_webhook}


def deliver_pending(store: Store, channels: tuple[Channel, ...],
                    env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """One delivery pass over the outbox; returns (sent, failed)."""
    env = os.environ if env is None else env
    by_label = {c.label: c for c in channels}
    sent = failed = 0
    for note in store.pending_notifications(by_label):
        channel = by_label[note.channel]
        alert = store.alert(note.alert_id)
        try:
            NOTIFIERS[channel.type](channel, alert, note.idempotency_key, env)
        except NotifyError as exc:
            failed += 1
            store.mark_failed(note.id, str(exc))
            log.warning("notification %s for alert %s failed (attempt %s): %s",
                        note.channel, note.alert_id, note.attempts + 1, exc)
            continue
        store.mark_sent(note.id, note.alert_id)
        sent += 1
        log.info("notified %s: %s", note.channel, summary(alert))
    return sent, failed
