"""The fast paths of extraction decide as the patterns they stand for (monitor.extract._furniture_line, _pitch)."""

from __future__ import annotations

import random

from monitor import extract as E

WORDS = ("all", "rights", "reserved", "subscribe", "sign", "up", "signup", "join", "our", "newsletter", "newsletters",
         "inbox", "e-mail", "emails", "mail", "briefing", "copyright", "©", "2024", "share", "comments", "3", "the",
         "news", "daily", "photo:", "credit:", "read", "more", "\n", "ALL", "RIGHTS", "Reserved.", "Subscribe",
         "JOIN", "Newsletter", "İnbox", "joın", "ſubscribe", "reſerved", "rıghts", "E-MAİL", "brıefing", "Kelvin",
         "café", "“quoted”", "—", "updated", "posted", "Posted:")


def _old(text: str) -> bool:
    return bool(E.FURNITURE_LINE.match(text) or E.PITCH.match(text))


def _new(text: str) -> bool:
    return E._furniture_line(text) or E._pitch(text)


def test_furniture_and_pitch_fast_paths_decide_as_the_patterns() -> None:
    rng = random.Random(14)
    texts = ["All Rights Reserved", "© 2024 The Daily. All rights reserved.", "x" * 70 + " all rights reserved",
             "x" * 90 + " all rights reserved", "Sign up for our newsletter", "Join our e-mail briefing today",
             "Subscribe\nto our newsletter", "ALL RİGHTS RESERVED", "all rıghts reſerved", "Joın our newsletter",
             "ſubscribe to the inbox", "Share this article:", "3 comments", "", "\n", "plain prose, nothing else."]
    rights = ("all rights reserved", "All Rights Reserved.", "ALL RİGHTS RESERVED", "all rıghts reſerved",
              "all rights  reserved", "xall rights reserved")
    for _ in range(20_000):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 12))]
        if rng.random() < 0.2:
            words.insert(rng.randint(0, len(words)), rng.choice(rights))
        texts.append(" ".join(words))
    for text in texts:
        assert _new(text) == _old(text), text
        assert E._furniture_line(text) == bool(E.FURNITURE_LINE.match(text)), text
        assert E._pitch(text) == bool(E.PITCH.match(text)), text
    # The random texts reach both patterns, and the all-rights alternative, with and without odd letters.
    assert sum(bool(E.PITCH.match(t)) for t in texts if t.isascii()) > 500
    assert sum(bool(E._RIGHTS_LINE.match(t)) and not E._FURNITURE_START.match(t) for t in texts if t.isascii()) > 50
    assert sum(bool(E._RIGHTS_LINE.match(t)) for t in texts if E._case_odd(t)) > 50
