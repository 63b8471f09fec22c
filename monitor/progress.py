"""A one-line progress bar on a terminal, for commands that take many inputs (`track`, `check`).

Written to stderr and only when stderr is a terminal, so pipes, files and `--json` output stay clean.
Result lines go to stdout; only when stdout is that same terminal do the commands hold back the lines that
would scroll the bar away (`same_terminal`).
"""

from __future__ import annotations

import os
import time
from typing import TextIO


def same_terminal(a: TextIO, b: TextIO) -> bool:
    """Whether both streams write to one terminal, so that a line on one breaks a bar drawn on the other."""
    try:
        return a.isatty() and b.isatty() and os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (OSError, ValueError):  # a stream without a file descriptor (replaced, closed)
        return False


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO, enabled: bool) -> None:
        self.total, self.label, self.stream = total, label, stream
        self.enabled = enabled and total > 1
        self.done = 0
        self._start = time.monotonic()
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= 0.1 or self.done == self.total):
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0.0
        width = 30
        full = width * self.done // max(self.total, 1)
        bar = "#" * full + "-" * (width - full)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:,.0f}/s "
                          f"{_clock(elapsed)} elapsed, {_clock(left)} left ")
        self.stream.flush()

    def clear(self) -> None:
        """Wipe the bar so that a line can be printed (it is redrawn on the next advance)."""
        if self.enabled and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = 0.0

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
