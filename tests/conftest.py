"""Shared fixtures: real loopback HTTP servers, a real SMTP server, real SQLite files."""

from __future__ import annotations

import compileall
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
DEMO = REPO / "data" / "demo"
# How often a loopback server's loop looks for shutdown(): the default 0.5 s made every server's teardown wait up
# to that long (about 30 s of the suite).
POLL = 0.02


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the package's bytecode once for the whole run.

    The tests start `python -m monitor` hundreds of times from the checkout. Where the environment sets
    PYTHONDONTWRITEBYTECODE, no run leaves its bytecode behind, and each one compiled every module again
    (about 0.15 s of each start). The files go where Python looks for them (`__pycache__`, ignored by git)."""
    compileall.compile_dir(REPO / "monitor", quiet=1)


def seed_text(prefix: str) -> str:
    files = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not files:
        pytest.skip(f"seed {prefix} not found under {SEEDS}")
    return files[0].read_text(encoding="utf-8")


@dataclass
class Served:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def serve(handler: type[BaseHTTPRequestHandler]) -> Served:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL}, daemon=True)
    thread.start()
    return Served(server, thread)


@pytest.fixture
def http_dir() -> Iterator[Callable[[Path], Served]]:
    """Serve a directory over real HTTP on 127.0.0.1."""
    started: list[Served] = []

    def start(directory: Path) -> Served:
        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *a: Any, **kw: Any) -> None:
                super().__init__(*a, directory=str(directory), **kw)

            def log_message(self, *args: Any) -> None:
                pass

        s = serve(Handler)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@dataclass
class Webhook:
    served: Served
    received: list[dict[str, Any]] = field(default_factory=list)
    status: list[int] = field(default_factory=lambda: [200])

    @property
    def url(self) -> str:
        return f"{self.served.base}/hook"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook receiver that records every POST (headers and body) and answers `status[0]`."""
    hook = Webhook(served=None)  # type: ignore[arg-type]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            hook.received.append({"path": self.path, "headers": headers, "body": body, "status": hook.status[0]})
            self.send_response(hook.status[0])
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    hook.served = serve(Handler)
    yield hook
    hook.served.stop()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)


def run_smtp(refuse: int = 0) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives; the first `refuse` messages are
    answered 451 (try again later)."""
    import socket
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    with socket.socket() as s:  # aiosmtpd probes its own port on start, so it cannot use port 0
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Mailbox("127.0.0.1", port)
    refused = [0]

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            if refused[0] < refuse:
                refused[0] += 1
                return "451 4.3.0 try again later"
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    yield from run_smtp()


def rows(db: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    """Rows of a query on a real SQLite file, by column name."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def old_database(db: Path, version: int) -> sqlite3.Connection:
    """A database as provmon's schema `version` made it (no rows), open for the test to add what an older
    provmon wrote; commit and close it before opening the Store."""
    from monitor.store import MIGRATIONS, _statements

    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:version]:
        for stmt in _statements(script):
            conn.execute(stmt)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])
    return conn


def write_config(path: Path, body: str, database: Path | None = None) -> Path:
    db = database or path.parent / "provmon.db"
    text = f'[monitor]\ndatabase = "{db}"\nlog_level = "info"\n\n' + body
    path.write_text(text, encoding="utf-8")
    return path


def demo_config(tmp_path: Path, extra: str = "") -> Path:
    """The shipped config.toml, pointed at the repo's demo data and a database in tmp_path."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace('database = "data/provmon.db"', f'database = "{tmp_path / "provmon.db"}"')
    text = text.replace('"data/demo/', f'"{DEMO}/')
    cfg = tmp_path / "config.toml"
    cfg.write_text(text + "\n" + extra, encoding="utf-8")
    return cfg


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def provmon(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120) -> Result:
    """Run the real command line in a subprocess (`python -m monitor`)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PROVMON_CONFIG", None) if env is None or "PROVMON_CONFIG" not in env else None
    p = subprocess.run([sys.executable, "-m", "monitor", *args], capture_output=True, text=True,
                       env=full_env, cwd=cwd or REPO, timeout=timeout)
    return Result(p.returncode, p.stdout, p.stderr)


def self_signed_cert(directory: Path, cn: str, san: str) -> tuple[Path, Path]:
    """A throwaway certificate and key made by the openssl CLI (the test skips without it)."""
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        f"/CN={cn}", "-addext", f"subjectAltName={san}", "-keyout", str(directory / "k.pem"),
                        "-out", str(directory / "c.pem")], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl not usable: {exc}")
    return directory / "c.pem", directory / "k.pem"
