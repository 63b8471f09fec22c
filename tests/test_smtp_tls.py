"""Email over STARTTLS and implicit TLS against a real aiosmtpd server with a certificate made here;
an untrusted certificate is a recorded failure, never a silent plain-text fallback."""

from __future__ import annotations

import socket
import sqlite3
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import demo_config, provmon, self_signed_cert


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("smtp-tls"), "127.0.0.1", "IP:127.0.0.1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Box:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.tls.append(session.ssl is not None)
        return "250 OK"


@pytest.fixture(params=["starttls", "ssl"])
def tls_smtp(request: pytest.FixtureRequest, cert: tuple[Path, Path]) -> Iterator[tuple[str, int, Box]]:
    from aiosmtpd.controller import Controller

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    box = Box()
    port = free_port()
    if request.param == "starttls":
        controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True)
    else:
        controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=ctx)
    try:
        controller.start()
    except Exception as exc:  # aiosmtpd's start-up probe may not speak implicit TLS in some versions
        pytest.skip(f"aiosmtpd could not start a {request.param} server: {exc}")
    yield request.param, port, box
    controller.stop()


def channel(mode: str, port: int) -> str:
    return f"""
[[notify]]
type = "email"
host = "127.0.0.1"
port = {port}
{mode} = true
sender = "provmon@localhost"
recipients = ["editor@localhost"]
"""


def test_mail_goes_over_tls_when_the_certificate_is_trusted(tmp_path: Path, tls_smtp: tuple[str, int, Box],
                                                            cert: tuple[Path, Path]) -> None:
    mode, port, box = tls_smtp
    cfg = demo_config(tmp_path, channel(mode, port))
    r = provmon("--config", str(cfg), "run", "--once", env={"SSL_CERT_FILE": str(cert[0])})
    assert r.code == 0, r.err
    assert len(box.messages) == 2
    if mode == "starttls":  # the server refuses mail before STARTTLS (require_starttls)
        assert box.tls == [True, True]
    # In "ssl" mode the server's socket speaks only TLS, so a delivered message went over TLS.


def test_untrusted_certificate_is_a_recorded_failure(tmp_path: Path, tls_smtp: tuple[str, int, Box]) -> None:
    mode, port, box = tls_smtp
    cfg = demo_config(tmp_path, channel(mode, port))
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    assert box.messages == []
    conn = sqlite3.connect(tmp_path / "provmon.db")
    rows = conn.execute("SELECT status, last_error FROM notifications").fetchall()
    conn.close()
    assert [s for s, _ in rows] == ["failed", "pending"], rows  # the channel's trouble: the other message waits
    assert "CERTIFICATE_VERIFY_FAILED" in rows[0][1], rows
