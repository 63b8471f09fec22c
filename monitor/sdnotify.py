"""Tell systemd how the service is doing (sd_notify protocol): READY, WATCHDOG pings, STOPPING.

A no-op outside systemd (no $NOTIFY_SOCKET). Written out because the protocol is one datagram and a
dependency for it would be larger than this file.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def sd_notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1") to the service manager; True when it was sent."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr.startswith("@"):  # abstract namespace socket
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(addr)
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """systemd's watchdog period for this process (WatchdogSec=, passed as $WATCHDOG_USEC), or None when no watchdog
    is on or it is another process's ($WATCHDOG_PID names another): sd_watchdog_enabled()'s rules."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 1_000_000
