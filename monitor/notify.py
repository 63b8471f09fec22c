"""Send alert notifications: notifiers registered under the `type` names config.toml uses.

Delivery reads the outbox (rows written in the transaction that changed the alert) and records each
result. A worker first claims a row with a lease, in a write transaction, so two processes (the service
and a `provmon run --once`) never send the same row at the same time; a claim lapses when the lease ends
or, at once, when the process holding it is gone. A row is marked sent only after the channel accepted
it, so a crash between the send and that mark means it is sent again: the one case where a message can
go out twice, and then it carries the same idempotency key. A failure is recorded with its reason and
retried after an exponential backoff (retry_base doubling up to retry_max), forever: nothing is dropped.
Per channel, an alert's events go out in the order they were recorded: a later one is not claimed while an
earlier one is unsent (Store.claim_notifications), and only that alert waits.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import logging
import os
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.alerts import (
    EVENT_TITLES,
    PAYLOAD_VERSION,
    credit_text,
    digest_subject,
    digest_text,
    email_subject,
    email_text,
    hidden_text,
    summary,
    webhook_payload,
)
from monitor.config import Channel, parse_interval
from monitor.display import percent, plural
from monitor.politeness import retry_after_seconds
from monitor.process import holder_alive, holder_id
from monitor.store import Notification, Store

log = logging.getLogger(__name__)


class NotifyError(Exception):
    """A channel refused or could not take a message; the text says which and why.

    `down`: the channel as a whole cannot take messages now (connection refused or timed out, an SMTP login
    refused, HTTP 429 or 5xx): its other messages are not tried in this pass, each would wait its timeout for the
    same answer. `retry_after`: the seconds the receiver asked for (HTTP Retry-After), the earliest next attempt.
    `local`: this process lacks what the channel needs (a secret's environment variable, file or credential not
    there: an operator's shell running `provmon recheck` has not the service's environment), so the message is
    due again at once, for a process that has it, rather than pushed back by the backoff."""

    def __init__(self, message: str, *, down: bool = False, retry_after: float | None = None,
                 local: bool = False) -> None:
        super().__init__(message)
        self.down = down
        self.retry_after = retry_after
        self.local = local


@dataclass(frozen=True)
class Outgoing:
    """One message, ready for any channel: people read subject/text/html, machines read payload."""

    key: str
    subject: str
    text: str
    html: str
    payload: dict[str, Any] = field(default_factory=dict)


Sender = Callable[[Channel, Outgoing, Mapping[str, str]], None]


def _secret(channel: Channel, var: str, env: Mapping[str, str], what: str) -> str:
    """The value of the environment variable `var` names. Unset and set-but-empty (`HOOKSECRET=` in an
    environment file) are the same failure: an empty signing secret would otherwise send unsigned webhooks,
    an empty Apprise URL or SMTP password only fails later with a vaguer reason."""
    if not var:
        return ""
    value = env.get(var)
    if value is None:
        raise NotifyError(f"{channel.label}: environment variable {var} ({what}) is not set", local=True)
    if not value:
        raise NotifyError(f"{channel.label}: environment variable {var} ({what}) is empty", local=True)
    return value


def _secret_from(channel: Channel, env: Mapping[str, str], what: str, var: str, file: str, credential: str) -> str:
    """A secret from the environment variable `var`, the file `file`, or the systemd credential `credential`
    ($CREDENTIALS_DIRECTORY/<name>, LoadCredential=); "" when none is configured. Missing or empty is an error
    naming where it was looked for."""
    if var:
        return _secret(channel, var, env, what)
    kind = "password" if what == "SMTP password" else "url"
    if credential:
        directory = env.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise NotifyError(f"{channel.label}: {kind}_credential {credential!r} needs "
                              f"$CREDENTIALS_DIRECTORY (systemd sets it for LoadCredential=)", local=True)
        path = Path(directory) / credential
    elif file:
        path = Path(file)
    else:
        return ""
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        hint = ""
        if credential and isinstance(exc, FileNotFoundError):
            # The names the unit gave (a LoadCredential= of a folder prefixes each file: <ID>_<file>).
            try:
                names = sorted(q.name for q in path.parent.iterdir())
            except OSError:
                names = []
            hint = (f" (the unit's LoadCredential= line sets the name; this directory holds "
                    f"{', '.join(names) if names else 'no credential'})")
        raise NotifyError(f"{channel.label}: cannot read the {what} from {path}: {exc.strerror}{hint}",
                          local=True) from None
    if not value:
        hint = (" (the file the unit's LoadCredential= line names is missing or empty)" if credential else "")
        raise NotifyError(f"{channel.label}: the {what} in {path} is empty{hint}", local=True)
    return value


def smtp_password(channel: Channel, env: Mapping[str, str]) -> str:
    """The SMTP password from the environment, a file, or a systemd credential (LoadCredential=)."""
    return _secret_from(channel, env, "SMTP password", channel.password_env, channel.password_file,
                        channel.password_credential)


def redacted_url(url: str) -> str:
    """A webhook URL as messages show it: scheme://host[:port]/… . Its path and query often are the credential
    (Slack-style /hooks/T0/B0/SECRET, ?key=…, ?token=…) and userinfo a password, so none of them is shown; the host
    tells which endpoint failed, and the channel's name which channel."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port: show nothing of it
        return "(a malformed URL)"
    if ":" in host:
        host = f"[{host}]"
    tail = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else "/"
    return f"{parts.scheme}://{host}{port}{tail}"


def _scrub(text: str, url: str) -> str:
    """`text` (an exception's message) with the URL and its secret-bearing parts replaced by redacted_url(url)."""
    parts = urlsplit(url)
    for secret in sorted({url, url.split("#")[0], parts.path + ("?" + parts.query if parts.query else ""),
                          parts.query, parts.password or "", parts.netloc if "@" in parts.netloc else ""},
                         key=len, reverse=True):
        if len(secret) > 1:
            text = text.replace(secret, redacted_url(url) if secret.startswith(parts.scheme) else "…")
    return text


def stranded_notes(store: Store, channels: Iterable[Channel], config: str) -> list[str]:
    """Unsent notifications kept under labels no channel of `config` has (a channel renamed or removed): never sent
    unless moved or dropped (`provmon notify --move`, `--drop`)."""
    labels = {c.label for c in channels}
    return [f"{plural(n, 'unsent notification')} for channel '{channel}', which is not in {config}, will never "
            f"be sent (renamed? provmon notify --move {channel} NEW gives them to a configured channel; "
            f"provmon notify --drop {channel} gives them up)"
            for channel, n in sorted(store.undelivered_by_channel().items()) if channel not in labels]


def redirected_host(location: str, url: str) -> str:
    """Where a redirect points, shown as redacted_url shows a webhook URL (its path may hold a token)."""
    return redacted_url(urljoin(url, location)) if location else "(no Location)"


def webhook_url(channel: Channel, env: Mapping[str, str]) -> str:
    """The webhook's URL: `url`, or from the environment variable `url_env`, the file `url_file` or the systemd
    credential `url_credential` (a tokenised URL is a secret: it need not live in config.toml)."""
    if channel.url:
        return channel.url
    url = _secret_from(channel, env, "webhook URL", channel.url_env, channel.url_file, channel.url_credential)
    if not url.startswith(("http://", "https://")):
        where = (f"environment variable {channel.url_env}" if channel.url_env
                 else f"credential {channel.url_credential!r}" if channel.url_credential else channel.url_file)
        raise NotifyError(f"{channel.label}: the webhook URL in {where} is not an http:// or https:// URL")
    return url


def email_html(alert: dict[str, Any], event: str = "copy_detected") -> str:
    esc = html.escape
    gone = alert.get("gone_from") or []
    rows = "".join(
        f"<tr><th align=left>{esc(k)}</th><td>{v}</td></tr>"
        for k, v in (
            ("Event", esc(EVENT_TITLES.get(event, event))),
            ("Article", f"<a href=\"{esc(alert['article_url'])}\">{esc(alert['article_title'])}</a>"),
            ("Copy", f"<a href=\"{esc(alert['copy_url'])}\">{esc(alert['copy_url'])}</a>"
                     + (" (no longer there)" if alert["copy_url"] in gone else "")),
            *([("Also at", "<br>".join(f"<a href=\"{esc(u)}\">{esc(u)}</a>" for u in alert["also_at"]))]
              if alert.get("also_at") else []),
            *([("Gone from", "<br>".join(esc(u) for u in gone if u != alert["copy_url"]))]
              if any(u != alert["copy_url"] for u in gone) else []),
            ("Site", esc(alert["site"])),
            ("Kind", esc(alert["kind"])),
            ("Coverage", f"{percent(alert['coverage'])} of the article"),
            ("Page", f"{percent(alert['page_share'])} of the page comes from the article"),
            *([("Grew", esc(f"{alert['grew']['detail']} ({alert['grew']['at']})"))] if alert.get("grew") else []),
            ("Credit", esc(credit_text(alert))),
            *([("Hidden", esc(hidden_text(alert)))] if alert.get("hidden") else []),
            ("Severity", esc(alert.get("severity") or "unknown")),
            ("Alert", esc(f"#{alert['id']} ({alert.get('status', 'new')})")),
        )
    )
    passages = "".join(
        f"<tr><td>{esc(p.get('article_text', ''))}</td><td>{esc(p.get('page_text', ''))}</td></tr>"
        for p in (alert.get("passages") or [])[:5]
    )
    return (f"<html><body><p>{esc(email_text(alert, event).splitlines()[0])}</p><table>{rows}</table>"
            f"<h3>Matching passages</h3><table border=1 cellpadding=4><tr><th>Article</th><th>Copy</th></tr>"
            f"{passages}</table></body></html>")


def outgoing_for(alert: dict[str, Any], event: str, key: str) -> Outgoing:
    return Outgoing(key, email_subject(alert, event), email_text(alert, event), email_html(alert, event),
                    webhook_payload(alert, event))


def outgoing_digest(items: list[tuple[str, dict[str, Any]]], key: str) -> Outgoing:
    text = digest_text(items)
    body = "<html><body><pre>" + html.escape(text) + "</pre></body></html>"
    return Outgoing(key, digest_subject(items), text, body,
                    {"version": PAYLOAD_VERSION, "event": "digest",
                     "alerts": [webhook_payload(a, ev)["alert"] | {"event": ev} for ev, a in items]})


def outgoing_test(key: str) -> Outgoing:
    text = ("This is a test message from Provenance Monitor (provmon notify --test).\n"
            "If you can read it, this channel works.\n")
    return Outgoing(key, "[provmon] test message", text, f"<html><body><p>{html.escape(text)}</p></body></html>",
                    {"version": PAYLOAD_VERSION, "event": "test", "message": text.strip()})


# -- the channels -------------------------------------------------------------------------------------
def send_email(channel: Channel, msg: Outgoing, env: Mapping[str, str]) -> None:
    password = smtp_password(channel, env)
    mail = EmailMessage()
    mail["Subject"] = msg.subject
    mail["From"] = channel.sender
    mail["To"] = ", ".join(channel.recipients)
    mail["Message-ID"] = f"<{msg.key}@provmon>"
    mail["Date"] = formatdate(usegmt=True)  # RFC 5322 requires it; the time of this attempt, in UTC
    mail.set_content(msg.text)
    mail.add_alternative(msg.html, subtype="html")
    try:
        # Certificates are verified either way (smtplib's own default context for SMTP_SSL would not).
        tls = ssl.create_default_context()
        smtp = (smtplib.SMTP_SSL(channel.host, channel.port, timeout=channel.timeout, context=tls) if channel.ssl
                else smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout))
        with smtp:
            if channel.starttls:
                smtp.starttls(context=tls)
            if channel.username:
                smtp.login(channel.username, password)
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        # Not reached, not answering, or refusing us: every message would meet the same. A refusal of this one
        # message (its recipients or data) is the message's.
        down = not isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError | smtplib.SMTPSenderRefused)
        raise NotifyError(f"{channel.label}: SMTP {channel.host}:{channel.port}: {exc}", down=down) from None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex; sent as X-Provmon-Signature: t=...,v1=..."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def send_webhook(channel: Channel, msg: Outgoing, env: Mapping[str, str]) -> None:
    secret = _secret(channel, channel.secret_env, env, "webhook signing secret")
    body = json.dumps(msg.payload, sort_keys=True).encode()
    headers = {"content-type": "application/json", "idempotency-key": msg.key, "user-agent": "provmon"}
    if secret:
        ts = int(time.time())
        headers["x-provmon-signature"] = f"t={ts},v1={sign(secret, ts, body)}"
    url = webhook_url(channel, env)
    try:
        resp = httpx.post(url, content=body, headers=headers, timeout=channel.timeout)
    except Exception as exc:  # httpx names the URL in some errors (InvalidURL, …): scrubbed like ours
        raise NotifyError(f"{channel.label}: POST {redacted_url(url)}: {type(exc).__name__}: "
                          f"{_scrub(str(exc), url)}", down=True) from None
    if 300 <= resp.status_code < 400:  # not followed: the signed body is for this receiver; the url is out of date
        where = redirected_host(resp.headers.get("location", ""), url)
        raise NotifyError(f"{channel.label}: POST {redacted_url(url)}: HTTP {resp.status_code}, a redirect to "
                          f"{where}: not followed; update the channel's url", down=True)
    if not 200 <= resp.status_code < 300:
        wait = retry_after_seconds(resp.headers.get("retry-after", "")) if resp.status_code in (429, 503) else None
        asked = f" (Retry-After: {wait:.0f}s)" if wait is not None else ""
        # 400, 413, 422: this message's body was refused; anything else (401, 404, 429, 5xx) every message meets.
        raise NotifyError(f"{channel.label}: POST {redacted_url(url)}: HTTP {resp.status_code}{asked}",
                          down=resp.status_code not in (400, 413, 422), retry_after=wait)


def send_apprise(channel: Channel, msg: Outgoing, env: Mapping[str, str]) -> None:
    """Slack, Discord, Telegram, ntfy, Matrix and the rest, through an Apprise URL (optional extra)."""
    try:
        import apprise
    except ImportError:
        raise NotifyError(f"{channel.label}: apprise is not installed "
                          f"(pip install 'provenance-monitor[apprise]')") from None
    url = channel.url or _secret(channel, channel.url_env, env, "Apprise URL")
    where = f"{urlsplit(url).scheme}://{urlsplit(url).hostname or ''}"  # the URL itself may hold a token
    sender = apprise.Apprise()
    if not sender.add(url):
        raise NotifyError(f"{channel.label}: not a usable Apprise URL ({where}…)")
    result = sender.notify(body=msg.text, title=msg.subject, body_format=apprise.NotifyFormat.TEXT,
                           timeout=channel.timeout)
    if not result:
        problems = [str(e.message) for e in _apprise_logs(result) if _is_warning(getattr(e, "level", 0))]
        raise NotifyError(f"{channel.label}: Apprise {where}…: " + ("; ".join(problems)[:500] or "not delivered"),
                          down=True)


def _apprise_logs(result: Any) -> list[Any]:
    logs = getattr(result, "logs", None)  # AppriseResult (apprise >= 1.9); older versions return a bool
    return list(logs()) if callable(logs) else []


def _is_warning(level: Any) -> bool:
    if isinstance(level, int):
        return level >= logging.WARNING
    return str(getattr(level, "name", level)).upper() in ("WARNING", "ERROR", "CRITICAL")


NOTIFIERS: Mapping[str, Sender] = {"email": send_email, "webhook": send_webhook, "apprise": send_apprise}


# -- delivery -----------------------------------------------------------------------------------------
def send(channel: Channel, msg: Outgoing, env: Mapping[str, str]) -> None:
    """Send one message on its channel. Any failure is a NotifyError naming the channel: an error a sender
    does not expect (smtplib raises UnicodeEncodeError for a non-ASCII password) must fail this row with a
    reason and a backoff, not the whole delivery pass with the row left claimed."""
    try:
        NOTIFIERS[channel.type](channel, msg, env)
    except NotifyError:
        raise
    except Exception as exc:
        raise NotifyError(f"{channel.label}: {type(exc).__name__}: {exc}") from exc


MAX_DOUBLINGS = 1000  # 2.0 ** 1024 overflows a float; past this many doublings any retry_base is past retry_max


def backoff(channel: Channel, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: retry_base doubling, capped at retry_max, at
    any number of attempts (a channel down for weeks reaches thousands)."""
    base, cap = parse_interval(channel.retry_base), parse_interval(channel.retry_max)
    return min(cap, base * 2.0 ** min(MAX_DOUBLINGS, max(0, attempts - 1)))


def lease_seconds(channel: Channel) -> float:
    # Longer than any send can take (SMTP spends a timeout on each of several steps).
    return max(60.0, 6 * channel.timeout)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def deliver_pending(store: Store, channels: tuple[Channel, ...], env: Mapping[str, str] | None = None,
                    now: Callable[[], datetime] | None = None,
                    stop: threading.Event | None = None) -> tuple[int, int]:
    """One delivery pass over the outbox; returns (sent, failed). Each channel is claimed from until none of
    its rows is due, so rows queued while the pass runs go out in it too (for a channel not yet finished).
    Once `stop` is set the pass returns before claiming the next message: a message that was sent is
    always recorded first, and nothing is claimed and left unsent.
    An error nobody expected (a message that cannot be built, a store error while recording) fails that row
    with its reason and a backoff like a refused send; should recording that fail too, the channel's claim is
    given back and the pass goes on with the next channel: one channel never keeps the others from theirs."""
    env = os.environ if env is None else env
    clock = now or (lambda: datetime.now(UTC))
    holder = holder_id()
    sent = failed = 0
    for channel in channels:
        if stop is not None and stop.is_set():
            break
        claimed: list[Notification] = []
        try:
            if channel.digest:
                s, f = _deliver_digest(store, channel, env, holder, clock, claimed)
                sent, failed = sent + s, failed + f
                continue
            while stop is None or not stop.is_set():
                claimed[:] = store.claim_notifications(channel.label, holder, lease_seconds(channel), clock(),
                                                       holder_alive=holder_alive)
                if not claimed:
                    break
                note = claimed[0]
                try:
                    alert = store.alert_as_of(note.alert_id, note.snapshot)
                    send(channel, outgoing_for(alert, note.event, note.idempotency_key), env)
                except Exception as exc:
                    _failed(store, channel, [note], _reason(channel, exc), holder, clock(), exc)
                    claimed.clear()
                    failed += 1
                    if isinstance(exc, NotifyError) and (exc.down or exc.local):
                        # The channel's other messages would meet the same: they wait for the next pass (a dead
                        # relay's timeout per message held up every channel after it).
                        log.info("%s: its other messages wait for the next delivery pass", channel.label)
                        break
                    continue
                store.mark_sent(note.id, note.alert_id, holder)
                claimed.clear()
                sent += 1
                log.info("notified %s (%s): %s", channel.label, note.event, summary(alert))
        except Exception:
            log.exception("delivery to %s failed; going on with the other channels", channel.label)
            for note in claimed:  # given back now rather than when the lease ends
                with contextlib.suppress(Exception):
                    store.release(note.id, holder)
            failed += len(claimed)
    return sent, failed


def _reason(channel: Channel, exc: Exception) -> str:
    """A failed row's reason: a NotifyError names its channel already; anything else is unexpected."""
    if isinstance(exc, NotifyError):
        return str(exc)
    log.error("notification to %s failed unexpectedly", channel.label, exc_info=exc)
    return f"{channel.label}: {type(exc).__name__}: {exc}"


def _failed(store: Store, channel: Channel, notes: list[Notification], error: str, holder: str,
            at: datetime, exc: Exception | None = None) -> None:
    """Record failed attempts: the next one after the backoff, or after the receiver's Retry-After when that is
    longer (up to retry_max); at once when only this process lacks what the channel needs (NotifyError.local)."""
    local = isinstance(exc, NotifyError) and exc.local
    asked = exc.retry_after if isinstance(exc, NotifyError) and exc.retry_after is not None else 0.0
    for note in notes:
        delay = 0.0 if local else max(backoff(channel, note.attempts + 1),
                                      min(asked, parse_interval(channel.retry_max)))
        store.mark_failed(note.id, error, None if local else _iso(at + timedelta(seconds=delay)), holder)
        log.warning("notification %s for alert %s failed (attempt %s, %s): %s", channel.label, note.alert_id,
                    note.attempts + 1, "due again for a process that has it" if local else f"next in {delay:.0f}s",
                    error)


def _deliver_digest(store: Store, channel: Channel, env: Mapping[str, str], holder: str,
                    clock: Callable[[], datetime], claimed: list[Notification]) -> tuple[int, int]:
    """At most one message per `digest` period, holding every due row of the channel. `claimed` holds the rows
    claimed and not yet recorded (the caller gives them back if recording fails)."""
    at = clock()
    notes = store.claim_notifications(channel.label, holder, lease_seconds(channel), at, limit=10_000,
                                      holder_alive=holder_alive,
                                      digest_since=at - timedelta(seconds=parse_interval(channel.digest)))
    if not notes:
        return 0, 0
    claimed[:] = notes
    try:
        items = [(n.event, store.alert_as_of(n.alert_id, n.snapshot)) for n in notes]
        key = f"provmon-digest-{channel.label}-{notes[0].id}-{notes[-1].id}"
        send(channel, outgoing_digest(items, key), env)
    except Exception as exc:
        _failed(store, channel, notes, _reason(channel, exc), holder, clock(), exc)
        claimed.clear()
        return 0, len(notes)
    for n in notes:
        store.mark_sent(n.id, n.alert_id, holder)
    claimed.clear()
    log.info("digest to %s: %s", channel.label, plural(len(notes), "alert update"))
    return len(notes), 0


@dataclass(frozen=True)
class TestResult:
    channel: str
    ok: bool
    detail: str


def send_test(channels: tuple[Channel, ...], env: Mapping[str, str] | None = None) -> list[TestResult]:
    """A test message to every channel, straight (not through the outbox); each channel's result."""
    env = os.environ if env is None else env
    # Unique per run: a receiver that drops repeated Message-IDs or idempotency keys must not drop a second test.
    key = f"provmon-test-{int(time.time())}-{uuid.uuid4().hex[:8]}"
    results = []
    for channel in channels:
        try:
            send(channel, outgoing_test(f"{key}-{channel.label}"), env)
        except NotifyError as exc:
            results.append(TestResult(channel.label, False, str(exc)))
            continue
        results.append(TestResult(channel.label, True, "accepted"))
    return results
