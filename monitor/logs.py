"""Logging set-up: one event per line, as text for journald or as JSON for machines."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

from monitor.display import json_text, safe

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json_text(event)


class OneLineFormatter(logging.Formatter):
    """Tracebacks folded onto the event's line, so one event is one journald entry. Messages carry URLs and
    text from pages anyone can write: control and bidi characters are shown escaped (monitor.display.safe), so
    a log read in a terminal cannot be rewritten by them."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record).replace("\n", " | "))


def setup_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else OneLineFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
