"""`provmon report ID`: one self-contained HTML page proving an alert — the article and the copy side by
side with the matching passages highlighted and linked to each other, and how the copy was fetched.

Self-contained means no network at all when opened: inline CSS, no script, no external images or fonts,
and a Content-Security-Policy that forbids loading anything.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from monitor.alerts import hidden_text
from monitor.display import percent, plural
from monitor.fetch import now_iso
from monitor.store import Store

esc = html.escape


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    number: int  # 1-based passage number, the same on both sides
    verbatim: bool


def highlight(text: str, spans: list[Span], side: str, other: str) -> str:
    """`text` as HTML with each span wrapped in a <mark> that links to the same passage on the other side.
    Overlapping or out-of-range spans are skipped rather than nested."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.start < pos or span.end > len(text) or span.start >= span.end:
            continue
        out.append(esc(text[pos:span.start]))
        cls = "v" if span.verbatim else "s"
        out.append(f'<mark id="{side}{span.number}" class="{cls} h{(span.number - 1) % 2}">'
                   f'<a class="n" href="#{other}{span.number}" title="passage {span.number}: jump to the '
                   f'{"copy" if side == "a" else "article"}">{span.number}</a>{esc(text[span.start:span.end])}</mark>')
        pos = span.end
    out.append(esc(text[pos:]))
    return "".join(out)


CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d1d1f;
background:#f6f6f4}
header{background:#1f2a44;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:21px}
header p{margin:0;opacity:.85}
main{padding:18px 28px}
.badges span{display:inline-block;border-radius:4px;padding:2px 9px;margin:6px 6px 0 0;font-weight:600;
font-size:13px;background:#e4e7ee;color:#1f2a44}
.badges .high{background:#c62828;color:#fff}.badges .medium{background:#ef6c00;color:#fff}
.badges .low{background:#2e7d32;color:#fff}
table.facts{border-collapse:collapse;margin:10px 0 18px;background:#fff}
table.facts th,table.facts td{border:1px solid #ddd;padding:5px 10px;text-align:left;vertical-align:top;
font-size:14px}table.facts th{background:#f0f0ee;white-space:nowrap}
td.mono,code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.col{background:#fff;border:1px solid #ddd;border-radius:6px;padding:0 16px 12px;min-width:0}
.col h2{font-size:16px;margin:12px 0 2px}.col .src{font-size:12px;color:#555;word-break:break-all;margin:0 0 8px}
.text{white-space:pre-wrap;font-family:Georgia,"DejaVu Serif",serif;font-size:15px;line-height:1.6}
mark{border-radius:3px;padding:1px 0}mark.h0{background:#ffe58a}mark.h1{background:#b9e3ff}
mark.v.h0{background:#ffd240}mark.v.h1{background:#86cdfc}mark:target{outline:3px solid #c62828}
a.n{display:inline-block;min-width:1.3em;text-align:center;font:700 11px/1.4 system-ui,sans-serif;
color:#fff;background:#1f2a44;border-radius:8px;margin-right:3px;text-decoration:none;vertical-align:1px}
.legend{font-size:13px;color:#444;margin:6px 0 14px}
.legend mark{padding:0 6px}
h3{margin:22px 0 6px;font-size:16px}
footer{padding:12px 28px 30px;font-size:12px;color:#555}
"""


def _facts(rows: list[tuple[str, str]], mono: tuple[str, ...] = ()) -> str:
    cells = "".join(
        f"<tr><th>{esc(k)}</th><td{' class=mono' if k in mono else ''}>{v}</td></tr>" for k, v in rows
    )
    return f"<table class=facts>{cells}</table>"


def _link(url: str) -> str:
    return f'<a href="{esc(url)}">{esc(url)}</a>' if url else "—"


def render(alert: dict[str, Any], article_text: str, evidence: list[dict[str, Any]],
           events: list[dict[str, Any]], notifications: list[dict[str, Any]]) -> str:
    """The evidence page for one alert (`alert` as Store.alert returns it)."""
    passages = alert.get("passages") or []
    # The capture the alert's match was made on (the passages' offsets point into its text): the detection, or the
    # capture of the copy grown since.
    shown = next((ev for ev in evidence if ev.get("match_id") == alert.get("match_id")),
                 evidence[0] if evidence else None)
    page_text = shown["page_text"] if shown else ""
    gone = alert.get("gone_from") or []
    gone_others = [u for u in gone if u != alert["copy_url"]]
    a_spans = [Span(p["article_start"], p["article_end"], i, bool(p.get("verbatim")))
               for i, p in enumerate(passages, 1)]
    p_spans = [Span(p["page_start"], p["page_end"], i, bool(p.get("verbatim"))) for i, p in enumerate(passages, 1)]
    sev = alert.get("severity") or "unknown"
    title = alert["article_title"] or alert["article_url"]
    badges = "".join(f"<span class='{esc(c)}'>{esc(t)}</span>" for c, t in (
        (sev, f"severity: {sev}"), ("", f"{alert['kind']} copy"), ("", f"{percent(alert['coverage'])} of the article"),
        ("", f"credit: {alert.get('credit') or 'unknown'}"),
        *([("high", "hidden from readers")] if alert.get("hidden") else []), ("", f"status: {alert['status']}")))
    summary = _facts([
        ("Article", f"{esc(title)}<br>{_link(alert['article_url'])}"),
        ("Copy", _link(alert["copy_url"]) + (" (no longer there when last fetched)"
                                             if alert["copy_url"] in gone else "")),
        *([("Also at", "<br>".join(_link(u) for u in alert["also_at"]))] if alert.get("also_at") else []),
        *([("No longer at", "<br>".join(_link(u) for u in gone_others) + " (seen there before; gone when last "
                                                                          "fetched)")] if gone_others else []),
        ("Site", esc(alert["site"])),
        ("Kind", esc(alert["kind"])
                 + (esc(f" (grew {alert['grew']['at']}: {alert['grew']['detail']})") if alert.get("grew") else "")),
        ("Coverage", f"{percent(alert['coverage'])} of the article is in the copy; "
                     f"{percent(alert['page_share'])} of the "
                     f"copy's text comes from the article; longest verbatim run "
                     f"{plural(alert.get('longest_run', 0), 'word')}"),
        ("Passages", f"{plural(len(passages), 'aligned passage')} "
                     f"({sum(1 for p in passages if p.get('verbatim'))} verbatim)"),
        ("Credit", f"<b>{esc(alert.get('credit') or 'unknown')}</b> — {esc(alert.get('credit_detail') or '')}"),
        *([("Hidden", esc(hidden_text(alert)))] if alert.get("hidden") else []),
        ("Severity", esc(sev)),
        ("Status", f"{esc(alert['status'])} (since {esc(alert.get('updated_at') or alert['created_at'])})"
                   + (f"; note: {esc(alert['note'])}" if alert.get("note") else "")),
        ("Last check", esc(f"{alert.get('last_checked_at') or 'never'} {alert.get('last_check') or ''}")),
        ("Alert", f"#{alert['id']} raised {esc(alert['created_at'])}"),
    ])
    fetch = "<p>No fetch evidence was stored for this alert (raised before evidence capture existed).</p>"
    if evidence:
        blocks = []
        for number, ev in enumerate(evidence, 1):
            headers = json.loads(ev["headers"] or "{}")
            header_rows = "".join(f"<tr><th>{esc(k)}</th><td class=mono>{esc(str(v))}</td></tr>"
                                  for k, v in sorted(headers.items()))
            raw = "kept (zlib-compressed)" if ev.get("raw_zlib") is not None else "pruned after retention"
            # --raw writes the newest capture; an older one is named by its number.
            choose = f" --capture {number}" if number < len(evidence) else ""
            which = f"capture {number} of {len(evidence)}, " if len(evidence) > 1 else ""
            blocks.append(_facts([
                ("Captured", f"{esc(ev['fetched_at'])} ({which}{esc(ev['reason'])})"),
                ("Requested URL", _link(ev["url"])),
                ("Final URL", _link(ev["final_url"])),
                ("HTTP status", str(ev["http_status"])),
                ("SHA-256 of the raw bytes", esc(ev["sha256"])),
                ("Raw HTML", f"{ev['raw_size']:,} bytes, {raw}; export: <code>provmon report {alert['id']} "
                             f"--raw copy.html{choose}</code>"),
            ], mono=("SHA-256 of the raw bytes",))
                + f"<details><summary>HTTP response headers ({len(headers)})</summary>"
                  f"<table class=facts>{header_rows}</table></details>")
        fetch = "".join(blocks)
    history = "".join(f"<tr><td>{esc(e['at'])}</td><td>{esc(e['event'])}</td><td>{esc(e['detail'])}</td></tr>"
                      for e in events)
    deliveries = "".join(
        f"<tr><td>{esc(n['channel'])}</td><td>{esc(n['event'])}</td><td>{esc(n['status'])}</td>"
        f"<td>{n['attempts']}</td><td>{esc(n['sent_at'] or '')}</td><td>{esc(n['last_error'] or '')}</td></tr>"
        for n in notifications)
    copy_col = (highlight(page_text, p_spans, "p", "a") if page_text else
                "".join(f"<p><mark id='p{i}' class='s h{(i - 1) % 2}'><a class=n href='#a{i}'>{i}</a>"
                        f"{esc(p.get('page_text', ''))}</mark></p>" for i, p in enumerate(passages, 1)))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence: alert #{alert['id']} — {esc(title)}</title>
<style>{CSS}</style></head>
<body>
<header><h1>Evidence for alert #{alert['id']}: {esc(alert['kind'])} copy of “{esc(title)}”</h1>
<p>{esc(alert['copy_url'])}</p><div class="badges">{badges}</div></header>
<main>
{summary}
<div class="legend">Matching passages carry the same number on both sides; click a number to jump to its
counterpart. <mark class="v h0">verbatim</mark> <mark class="s h0">reworded</mark> (two shades alternate so
neighbouring passages stay apart).</div>
<div class="cols">
<section class="col" id="article"><h2>The original article</h2><p class="src">{esc(alert['article_url'])}</p>
<div class="text">{highlight(article_text, a_spans, "a", "p")}</div></section>
<section class="col" id="copy"><h2>The copy</h2><p class="src">{esc(alert['copy_url'])}</p>
<div class="text">{copy_col}</div></section>
</div>
<h3>How the copy was fetched</h3>
{fetch}
<h3>History</h3>
<table class=facts><tr><th>When</th><th>Event</th><th>Detail</th></tr>{history}</table>
<h3>Notifications</h3>
<table class=facts><tr><th>Channel</th><th>Event</th><th>Status</th><th>Attempts</th><th>Sent</th><th>Last error</th>
</tr>{deliveries}</table>
</main>
<footer>Generated by Provenance Monitor (provmon report {alert['id']}) at {esc(now_iso())}. The copy's text is
what the monitor extracted from the raw page; the passages' offsets point into it. To check the raw page against
its SHA-256: <code>provmon report {alert['id']} --raw copy.html &amp;&amp; sha256sum copy.html</code>.</footer>
</body></html>
"""


def report_html(store: Store, alert_id: int) -> str:
    alert = store.alert(alert_id)
    article = store.article(alert["match_article_id"])  # the text the passages' offsets point into
    notes = [n for n in store.notifications() if n["alert_id"] == alert_id]
    return render(alert, article.text, store.evidence(alert_id), store.alert_events(alert_id), notes)
