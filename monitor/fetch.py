"""Download one page: httpx for http(s), a small transport for file:// sources.

Both schemes go through the same client and the same checks (size cap, redirect limit,
address policy), so a local demo site exercises the code a real site does.
"""

from __future__ import annotations

import hashlib
import ipaddress
import mimetypes
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx

REDIRECT_CODES = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """A page that could not be fetched; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FileTransport(httpx.BaseTransport):
    """Serves file:// URLs from disk (a directory serves its index.html)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = Path(unquote(request.url.path))
        if path.is_dir():
            path = path / "index.html"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return httpx.Response(404, text="not found", request=request)
        except OSError as exc:
            return httpx.Response(403, text=str(exc), request=request)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8" if path.suffix in {".html", ".htm", ".txt"} else ""
        return httpx.Response(200, content=data, headers={"content-type": ctype}, request=request)


def is_public_host(host: str) -> bool:
    """True when every address the host resolves to is a public one."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return True  # let the request itself fail with the DNS error
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if not addr.is_global:
            return False
    return True


class Fetcher:
    """One httpx client with the monitor's limits; use as a context manager."""

    def __init__(
        self,
        user_agent: str,
        timeout: float = 20.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._client = httpx.Client(
            headers={"user-agent": user_agent},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            mounts={"file://": FileTransport()},
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, allow_private: bool = False) -> FetchResult:
        current = url
        for _ in range(self.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in {"http", "https", "file"}:
                raise FetchError(current, f"unsupported URL scheme {parts.scheme!r}")
            if parts.scheme != "file" and not allow_private and not is_public_host(parts.hostname or ""):
                raise FetchError(current, "refused: host is a private, loopback or link-local address "
                                          "(set allow_private = true on the site to allow it)")
            status, headers, body = self._get(current)
            if status in REDIRECT_CODES and "location" in headers:
                current = urljoin(current, headers["location"])
                continue
            return FetchResult(url, current, status, body, headers, now_iso())
        raise FetchError(url, f"more than {self.max_redirects} redirects")

    def _get(self, url: str) -> tuple[int, dict[str, str], bytes]:
        # httpx drops the scheme of a host-less URL (file:///x), so give it an explicit host.
        target = "file://localhost/" + url[len("file:///"):] if url.startswith("file:///") else url
        try:
            with self._client.stream("GET", target) as resp:
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(url, f"response of {declared} bytes exceeds fetch.max_bytes "
                                          f"({self.max_bytes})")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(url, f"response exceeds fetch.max_bytes ({self.max_bytes})")
                    chunks.append(chunk)
                return resp.status_code, dict(resp.headers), b"".join(chunks)
        except httpx.TimeoutException:
            raise FetchError(url, "timed out") from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from None
