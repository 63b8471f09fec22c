"""Which process holds something (a notification claim, the service's heartbeat), and whether it is gone.

A holder is "host:pid-namespace:pid:token". A process counts as gone only when it was on this host *and* in this PID
namespace and its pid no longer runs: two containers can share a host name but not each other's pids.
"""

from __future__ import annotations

import os
import socket
import uuid


def _pid_namespace() -> str:
    """The PID namespace we live in (Linux), or "" where that cannot be told."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def holder_id(pid: int | None = None) -> str:
    """Who holds a claim: host, PID namespace and pid (default this process's), so a claim of a dead process can be
    told apart, plus a token."""
    return f"{socket.gethostname()}:{_pid_namespace()}:{os.getpid() if pid is None else pid}:{uuid.uuid4().hex[:8]}"


def holder_alive(holder: str) -> bool:
    """Whether the process behind a holder may still run. It counts as dead only when it is on this host *and* in
    this PID namespace and its pid is gone; anything else (another machine or container, an older "host:pid:token"
    holder) may be alive."""
    try:
        host, pidns, pid_text, _ = holder.split(":")
        pid = int(pid_text)
    except ValueError:
        return True
    ours = _pid_namespace()
    if host != socket.gethostname() or not ours or pidns != ours or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
