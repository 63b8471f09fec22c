"""Text from web pages made safe to show in a terminal or a plain-text document.

Page text, titles, credit lines, URLs and error messages come from pages anyone can write. Printed raw, an
ESC sequence retitles or clears the terminal or hides the lines after it, a carriage return overwrites a line,
a C1 control (U+009B is a one-character CSI) does the same, and a bidi override makes a URL or a sentence read
differently from what it is. `safe` shows each such character as a Python-style escape instead (ESC as
`\\x1b`, U+009B as `\\x9b`, U+202E as `\\u202e`), so it is visible and nothing is acted on; the stored data
is never changed. JSON output goes through `json_text`: json.dumps escapes C0 controls itself but, with
`ensure_ascii=False`, writes DEL, C1 controls and bidi characters raw, and `--json` output is read in terminals too.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import quote

# C0 controls but tab and newline, DEL, C1 controls, the bidi embeddings and overrides (U+202A-U+202E) and
# isolates (U+2066-U+2069).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# Characters a URL carries as they are (RFC 3986 reserved and unreserved ones, and % of an escape already made).
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """`text` with every control character but tab and newline, and every bidi override or isolate, shown as
    an escape (`\\x1b`, `\\x9b`, `\\u202e`); printable text is unchanged."""
    return UNSAFE.sub(_escape, text)


def shown_url(url: str) -> str:
    """A URL holding such characters, percent-encoded as a request sends it (what the server received);
    any other URL as it is."""
    return quote(url, safe=URL_SAFE) if UNSAFE.search(url) else url


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def json_text(obj: Any) -> str:
    """`obj` as one line of JSON, non-ASCII text as it is but DEL, C1 controls and bidi overrides and isolates
    written as \\u escapes: the same value to any JSON reader, and inert in a terminal (json.dumps escapes only
    C0 controls). Outside strings JSON holds none of these characters, so only string contents change."""
    return UNSAFE.sub(_json_escape, json.dumps(obj, ensure_ascii=False))


def plural(count: int, noun: str, nouns: str = "") -> str:
    """`count` and `noun` agreeing in number, for text people read ("1 passage", "2 passages", "0 copies");
    `nouns` is the plural when adding "s" does not make it. JSON output keeps its numbers bare."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def percent(share: float) -> str:
    """A share (0.865) as a whole percentage ("87%"), rounded half up: the alert_log view's rule,
    round(coverage * 100), so `provmon alerts`, messages and SQL agree. Python's `:.0%` gives 86% here: it
    rounds the binary value 0.86499999... and ties to even."""
    return f"{math.floor(share * 100 + 0.5)}%"


def alike(share: float) -> str:
    """How alike two texts that are not the same are (a resemblance, 0.97): as `percent`, except that one rounding to
    100% reads "over 99%". Two near-duplicate articles can share every 3-gram once figures are set aside (85,000 and
    86,000 pounds), and "100% alike" would say they are the same text, which would have been "already tracked"."""
    shown = percent(share)
    return "over 99%" if shown == "100%" else shown
