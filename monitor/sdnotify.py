"""Tell systemd how the service is doing (sd_notify protocol): READY, WATCHDOG pings, STOPPING.

A no-op outside systemd (no $NOTIFY_SOCKET). Written out because the protocol is one datagram and a
dependency for it would be larger than this file.
"""

from __future__ import annotations

import os
import socket


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
