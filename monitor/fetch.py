"""Download one page: httpx for http(s), a small transport for file:// sources.

Both schemes go through the same client and the same checks (size cap, redirect limit, address
policy), so a local demo site exercises the code a real site does. For http(s) the host is resolved
once, every address is checked, and the connection goes to the checked address (Host header and TLS
SNI keep the name), so a DNS answer that changes between check and connect cannot slip a private
address in. Bodies are read raw and decompressed here, with a cap on the decompressed size, so a
gzip bomb costs at most `max_bytes` of memory.
"""

from __future__ import annotations

import hashlib
import ipaddress
import mimetypes
import os
import re
import socket
import ssl
import stat
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, unquote_to_bytes, urljoin, urlsplit

import httpx

REDIRECT_CODES = {301, 302, 303, 307, 308}
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
XML_TYPES = ("application/xml", "text/xml", "application/rss+xml", "application/atom+xml",
             "application/x-gzip", "application/gzip", "application/octet-stream", "text/plain")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Starts of files that are never an article whatever the server says: PDF, PNG, GIF, JPEG, WebP/RIFF, ZIP
# (also docx/epub), gzip.
BINARY_SIGNATURES = (b"%PDF-", b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"RIFF", b"PK\x03\x04",
                     b"\x1f\x8b")
# UTF-16 and UTF-32 text is full of NUL bytes (UTF-32 LE's mark starts with UTF-16 LE's)
WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")

# Told the status and headers of a response as soon as they are in (before its body is read).
Answered = Callable[[int, Mapping[str, str]], None]
# Paces requests: called with the URL of each request (redirect hops included), it returns a context that is
# entered before the request is sent and left once its response was read (or failed); the function it yields
# must be called when the response's headers arrive. monitor.politeness provides one.
Pacer = Callable[[str], AbstractContextManager[Answered]]


def is_textual(content_type: str, body: bytes) -> bool:
    """Whether a response can be an article (HTML or text) rather than a binary file (PDF, image...).

    `content_type` is the Content-Type value as received (parameters allowed, "" when there was none):
    it must be text/*, application/xhtml+xml, application/xml or application/*+xml. The body's first KB
    must not look binary either: no NUL byte (unless it starts with a UTF-16 or UTF-32 byte order mark) and no
    PDF/image/archive signature, which catches binaries sent as text/html or without a content type."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype and not (ctype.startswith("text/") or ctype in {"application/xhtml+xml", "application/xml"}
                      or (ctype.startswith("application/") and ctype.endswith("+xml"))):
        return False
    head = body[:1024]
    if head.startswith(BINARY_SIGNATURES):
        return False
    return head.startswith(WIDE_BOMS) or b"\x00" not in head


# Characters no text file holds in any number: C0 controls but tab, newlines, vertical tab and form feed; DEL and
# the C1 controls; U+FFFD, what an undecodable byte becomes. A few may be stray; binary data is full of them.
NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
NOT_TEXT_SHARE = 0.01


def binary_reason(text: str) -> str:
    """Why decoded plain text is binary data rather than text ("" when it is text): a NUL anywhere (is_textual reads
    only the first KB), or more than 1% of its characters controls or undecodable bytes. Text in cp1252 or
    another 8-bit encoding is not invalid UTF-8 to be refused: it decodes (monitor.extract.decode_html)."""
    if "\x00" in text:
        return "it holds NUL bytes"
    bad = len(NOT_TEXT.findall(text))
    if bad > NOT_TEXT_SHARE * len(text):
        return f"{bad} of its {len(text)} characters are control characters or bytes no text encoding decodes"
    return ""


@contextmanager
def unpaced(url: str) -> Iterator[Answered]:
    yield lambda status, headers: None


class FetchError(Exception):
    """A page that could not be fetched; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str, transient: bool = False) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.transient = transient  # worth retrying later (timeouts, connection errors)


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str = ""
    skipped: str = ""  # why the body was not read (e.g. a content type not asked for)
    hops: tuple[str, ...] = ()  # the URLs redirects led to, in order (the last is final_url)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def where(self) -> str:
        """Where the answer came from, for messages about it: "" when it is the URL asked for, else
        " at FINAL_URL (after N redirects)" (a 404 after a redirect is not the first URL's 404)."""
        return redirected(self.final_url, len(self.hops))

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @cached_property
    def sha256(self) -> str:  # asked for several times per page (crawl state, store, alerts)
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def redirected(url: str, hops: int) -> str:
    """" at URL (after N redirects)", or "" when no redirect was followed."""
    return f" at {url} (after {hops} redirect{'s' if hops != 1 else ''})" if hops else ""


def tls_context() -> ssl.SSLContext:
    """The verifying context a Fetcher builds by default (certifi's CAs; the environment is ignored, as the
    Fetcher ignores it), made once to share: building one costs ~15 ms of CPU."""
    return httpx.create_ssl_context(trust_env=False)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LocalFileError(Exception):
    """A local file that exists but cannot be read; the message names the path and the OS error."""


def shown_path(path: Path) -> str:
    """A path for messages: bytes that are not UTF-8 (kept by os.fsdecode as surrogates) shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _file_path(raw_path: bytes | str) -> Path:
    # unquoted to bytes, so that a file name that is not UTF-8 (%FF) reaches the file system as the same bytes
    path = Path(os.fsdecode(unquote_to_bytes(raw_path)))
    return path / "index.html" if path.is_dir() else path


def file_path(url: str) -> Path:
    """The file a file:// URL reads (for a directory, its index.html), for messages about it."""
    return _file_path(urlsplit(url).path)


class _FileStream(httpx.SyncByteStream):
    """A file's body read in chunks as the fetcher asks for them, so a size cap stops it early."""

    def __init__(self, fh: BinaryIO, path: Path) -> None:
        self._fh, self._path = fh, path

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self._fh.read(65_536):
                yield chunk
        except OSError as exc:
            raise LocalFileError(f"cannot read {shown_path(self._path)}: {exc.strerror or exc}") from None

    def close(self) -> None:
        self._fh.close()


class FileTransport(httpx.BaseTransport):
    """Serves file:// URLs from disk (a directory serves its index.html, at its address with the final slash).

    The size comes from the file system and goes out as Content-Length, and the body is read lazily, so
    the fetcher's size cap refuses a huge file without reading it. A missing file is a 404 (callers treat
    that as "gone", as for a web page; the command line names it missing, see `file_path`); any other OS
    error raises LocalFileError with the path and the reason (permission denied, is a directory...), not a
    made-up HTTP status."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw, _, query = request.url.raw_path.partition(b"?")
        if not raw.endswith(b"/") and Path(os.fsdecode(unquote_to_bytes(raw))).is_dir():
            # As a web server does: a folder's address ends in "/", so that the links of its index.html resolve
            # inside it (file:///site/s would read s/index.html and take its "copy.html" for /site/copy.html).
            location = raw + b"/" + (b"?" + query if query else b"")
            return httpx.Response(301, headers={"location": location.decode("ascii")},
                                  stream=httpx.ByteStream(b""), request=request)
        path = _file_path(raw)
        try:
            # O_NONBLOCK: opening a FIFO must not hang the fetch (no effect on regular files)
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return httpx.Response(404, stream=httpx.ByteStream(f"not found: {shown_path(path)}".encode()),
                                  request=request)
        except OSError as exc:
            raise LocalFileError(f"cannot read {shown_path(path)}: {exc.strerror or exc}") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            kind = "is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise LocalFileError(f"cannot read {shown_path(path)}: {kind}")
        fh = os.fdopen(fd, "rb")
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8" if path.suffix in {".html", ".htm", ".txt"} else ""
        # a stream, not content=, so the body is read raw like any network response
        return httpx.Response(200, stream=_FileStream(fh, path), request=request,
                              headers={"content-type": ctype, "content-length": str(st.st_size)})


def split_url(url: str, strict: bool = False) -> SplitResult:
    """urlsplit, with a URL it cannot take (`https://[example.com/`) reported as a FetchError naming it
    rather than a ValueError. `strict` also asks httpx (a control character...); that costs ~30 us, so it
    is done once per request, not for every link a page holds."""
    if strict:
        return _checked_url(url)[0]
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise FetchError(url, f"invalid URL: {exc}") from None


def _checked_url(url: str) -> tuple[SplitResult, httpx.URL]:
    """split_url(url, strict=True), and the httpx.URL it checks the URL with: the request reuses it (each parse costs
    ~20 us of the ~0.5 ms of CPU a fetch takes)."""
    try:
        parts = urlsplit(url)
        checked = httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise FetchError(url, f"invalid URL: {exc}") from None
    return parts, checked


def _is_public(addr: str) -> bool:
    return ipaddress.ip_address(addr.split("%")[0]).is_global


def resolve_checked(url: str, host: str, port: int, allow_private: bool) -> str:
    """The address to connect to: every address of the host must pass the policy (not just the first)."""
    try:
        ipaddress.ip_address(host)
        addrs = [host]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError(url, f"DNS lookup of {host!r} failed: {exc.strerror}") from None
        addrs = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private and not all(_is_public(a) for a in addrs):
        raise FetchError(url, "refused: host is a private, loopback or link-local address "
                              "(set allow_private = true on the site to allow it)")
    return addrs[0]


class _Decoder:
    """Content-Encoding decoding with a hard cap on the output, fed the raw body chunk by chunk."""

    def __init__(self, url: str, encoding: str, max_bytes: int) -> None:
        self.url, self.max_bytes, self.size = url, max_bytes, 0
        enc = [e.strip() for e in encoding.lower().split(",") if e.strip() and e.strip() != "identity"]
        if len(enc) > 1 or (enc and enc[0] not in {"gzip", "x-gzip", "deflate"}):
            raise FetchError(url, f"unsupported content-encoding {encoding!r}")
        self.kind = enc[0] if enc else ""
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 32) if self.kind else None  # 32: gzip or zlib header
        self._raw_deflate_tried = False

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data, len(data))
        out: list[bytes] = []
        while data:
            room = self.max_bytes - self.size + 1
            try:
                piece = self._z.decompress(data, room)
            except zlib.error as exc:
                if self.kind == "deflate" and not self._raw_deflate_tried and self.size == 0:
                    self._raw_deflate_tried = True  # some servers send raw deflate without the zlib header
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchError(self.url, f"corrupt {self.kind} body: {exc}") from None
            out.append(self._count(piece, len(data)))
            data = self._z.unconsumed_tail
        return b"".join(out)

    def _count(self, piece: bytes, raw: int) -> bytes:
        self.size += len(piece)
        if self.size > self.max_bytes:
            what = "decompressed response" if self.kind else "response"
            hint = " (decompression bomb?)" if self.kind else ""
            raise FetchError(self.url, f"{what} exceeds fetch.max_bytes ({self.max_bytes}){hint}")
        return piece


class Fetcher:
    """One httpx client with the monitor's limits; use as a context manager. Safe to share between threads."""

    def __init__(
        self,
        user_agent: str,
        timeout: float = 20.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_connections: int = 100,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.timeout = timeout  # the whole request, redirects and body included
        self._client = httpx.Client(
            headers={"user-agent": user_agent, "accept-encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout or timeout, timeout),
                                  read=min(read_timeout or timeout, timeout)),
            follow_redirects=False,
            mounts={"file://": FileTransport()},
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            verify=verify,
            trust_env=False,  # an environment proxy would defeat the address check
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str, allow_private: bool = False, *, headers: Mapping[str, str] | None = None,
              accept: Iterable[str] | None = None, pace: Pacer = unpaced) -> FetchResult:
        """GET `url`. `headers` (e.g. If-None-Match) go with the first hop; with `accept`, a body of
        another content type is not read and the result says so in `skipped`. Every request, redirect
        hops included, is made inside `pace(its url)`."""
        deadline = time.monotonic() + self.timeout
        accepted = tuple(accept) if accept is not None else None
        current = url
        hops: list[str] = []
        for _ in range(self.max_redirects + 1):
            parts, checked = _checked_url(current)
            if parts.scheme not in {"http", "https", "file"}:
                raise FetchError(current, f"unsupported URL scheme {parts.scheme!r}")
            if current != url and parts.scheme == "file" and split_url(url).scheme != "file":
                # a web server must not make us read local files
                raise FetchError(url, f"refused: redirect to a local file ({current})")
            queued = time.monotonic()
            try:
                with pace(current) as answered:
                    deadline += time.monotonic() - queued  # waiting for the host's turn is not the request's time
                    status, hdrs, body, skipped = self._get(current, allow_private, headers, accepted, deadline,
                                                            answered, checked)
            except FetchError as exc:
                if not hops:
                    raise
                # named by the URL asked for, and where it failed: a refused or dead redirect target is not the
                # first URL's fault
                raise type(exc)(url, exc.reason + redirected(current, len(hops)), exc.transient) from None
            if status in REDIRECT_CODES and "location" in hdrs:
                try:
                    current = urljoin(current, hdrs["location"])
                    split_url(current, strict=True)
                except (ValueError, FetchError) as exc:
                    why = exc.reason if isinstance(exc, FetchError) else str(exc)
                    raise FetchError(url, f"redirect to an invalid URL {hdrs['location']!r}: {why}") from None
                hops.append(current)
                headers = None  # validators belong to the first URL only
                continue
            return FetchResult(url, current, status, body, hdrs, now_iso(), skipped, tuple(hops))
        # Name where the chain went: a loop (a URL met twice) or the last hop, so the user can see which server.
        looped = next((u for k, u in enumerate(hops) if u in hops[:k] or u == url), None)
        where = f"a loop through {looped}" if looped else f"the last to {current}"
        raise FetchError(url, f"more than {self.max_redirects} redirects ({where}; fetch.max_redirects)")

    def _get(self, url: str, allow_private: bool, headers: Mapping[str, str] | None,
             accept: tuple[str, ...] | None, deadline: float,
             answered: Answered, checked: httpx.URL) -> tuple[int, dict[str, str], bytes, str]:
        """One request. `checked`: httpx's parse of `url` (_checked_url)."""
        parts = urlsplit(url)
        extra = dict(headers or {})
        extensions: dict[str, str] = {}
        if parts.scheme == "file":
            # httpx drops the scheme of a host-less URL (file:///x), so give it an explicit host.
            target: httpx.URL | str = "file://localhost/" + url[len("file:///"):] if url.startswith(
                "file:///") else url
        else:
            host = parts.hostname or ""
            try:
                port = parts.port or DEFAULT_PORTS[parts.scheme]
            except ValueError:
                raise FetchError(url, "invalid port") from None
            ip = resolve_checked(url, host, port, allow_private)
            # Connect to the address just checked; the name travels in Host and in TLS SNI.
            target = checked.copy_with(host=ip)
            extra["host"] = parts.netloc.rsplit("@", 1)[-1]
            if parts.scheme == "https":
                extensions["sni_hostname"] = host
        try:
            with self._client.stream("GET", target, headers=extra, extensions=extensions) as resp:
                rh = dict(resp.headers)
                answered(resp.status_code, rh)
                ctype = rh.get("content-type", "").split(";")[0].strip().lower()
                if accept is not None and resp.status_code == 200 and ctype and ctype not in accept:
                    return resp.status_code, rh, b"", f"skipped content type {ctype}"
                declared = rh.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(url, f"response of {declared} bytes exceeds fetch.max_bytes "
                                          f"({self.max_bytes})")
                decoder = _Decoder(url, rh.get("content-encoding", ""), self.max_bytes)
                chunks: list[bytes] = []
                raw = 0
                for chunk in resp.iter_raw():
                    raw += len(chunk)
                    if raw > self.max_bytes:
                        raise FetchError(url, f"response exceeds fetch.max_bytes ({self.max_bytes})")
                    chunks.append(decoder.feed(chunk))
                    if time.monotonic() > deadline:  # a server trickling bytes never trips the read timeout
                        # not transient: a server that trickles will trickle again
                        raise FetchError(url, f"timed out: whole request took longer than {self.timeout:g}s")
                # the body is decoded here, so callers must not see the encoding header any more
                rh.pop("content-encoding", None)
                return resp.status_code, rh, b"".join(chunks), ""
        except LocalFileError as exc:
            raise FetchError(url, str(exc)) from None
        except httpx.ConnectTimeout:
            raise FetchError(url, "timed out connecting", transient=True) from None
        except httpx.TimeoutException:
            raise FetchError(url, "timed out", transient=True) from None
        except httpx.ConnectError as exc:
            reason = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate" in reason.lower():
                raise FetchError(url, f"TLS certificate verification failed: {reason}") from None
            raise FetchError(url, f"ConnectError: {reason}", transient=True) from None
        except httpx.RemoteProtocolError as exc:
            if str(exc).startswith("Invalid URL in location header"):  # httpx parses Location itself
                # not transient: the server will send the same Location again
                raise FetchError(url, f"redirect to an invalid URL: {exc}") from None
            raise FetchError(url, f"RemoteProtocolError: {exc}", transient=True) from None
        except httpx.TransportError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}", transient=True) from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from None
