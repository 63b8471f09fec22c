"""What is kept to prove a copy later: the fetch (time, URLs, status, headers), the raw bytes compressed
with their SHA-256, and the text the passages' offsets point into."""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from monitor.fetch import FetchResult


@dataclass(frozen=True)
class Evidence:
    fetched_at: str
    url: str
    final_url: str
    http_status: int
    headers: dict[str, str]
    sha256: str
    raw: bytes = field(repr=False)
    page_text: str = field(repr=False)
    reason: str = "detected"

    @classmethod
    def of(cls, result: FetchResult, page_text: str, reason: str = "detected") -> Evidence:
        return cls(result.fetched_at, result.url, result.final_url, result.status, dict(result.headers),
                   hashlib.sha256(result.body).hexdigest(), result.body, page_text, reason)

    def row(self) -> dict[str, Any]:
        """The columns of the `evidence` table (raw HTML zlib-compressed: pages shrink 4-8x)."""
        return {"reason": self.reason, "fetched_at": self.fetched_at, "url": self.url, "final_url": self.final_url,
                "http_status": self.http_status, "headers": json.dumps(self.headers, sort_keys=True),
                "sha256": self.sha256, "raw_size": len(self.raw), "raw_zlib": zlib.compress(self.raw, 9),
                "page_text": self.page_text}


def raw_bytes(row: dict[str, Any]) -> bytes | None:
    """The raw page of an evidence row, checked against its SHA-256 (None once pruned)."""
    if row.get("raw_zlib") is None:
        return None
    raw = zlib.decompress(row["raw_zlib"])
    if hashlib.sha256(raw).hexdigest() != row["sha256"]:
        raise ValueError(f"evidence #{row['id']}: stored bytes do not match their SHA-256 {row['sha256']}")
    return raw
