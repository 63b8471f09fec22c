"""Evidence: the HTML report (self-contained, passages linked, renders in a real headless chromium), the
takedown notice draft, retention keeping open alerts' evidence, and the Datasette metadata."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from monitor.store import Store
from tests.conftest import REPO, demo_config, provmon

OWNER = {"name": "Ada Marsh", "role": "Rights manager", "organisation": "Harbour Herald Ltd",
         "address": "1 Quay Street, Port Elling", "email": "rights@herald.example", "phone": "+44 100 000 000"}


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    cfg = demo_config(tmp_path)
    text = cfg.read_text()
    for key, value in OWNER.items():  # fill in the shipped config's empty [owner] keys
        text = re.sub(rf'^{key} = ""', f'{key} = "{value}"', text, count=1, flags=re.M)
    cfg.write_text(text)
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0, r.err
    return cfg


def alert_id(cfg: Path, kind: str) -> int:
    return next(a["id"] for a in provmon("--config", str(cfg), "alerts", "--json").json_lines() if a["kind"] == kind)


def test_report_is_self_contained_with_linked_passages(demo: Path, tmp_path: Path) -> None:
    aid = alert_id(demo, "paraphrased")
    out, raw = tmp_path / "r.html", tmp_path / "raw.html"
    r = provmon("--config", str(demo), "report", str(aid), "-o", str(out), "--raw", str(raw))
    assert r.code == 0, r.err
    page = out.read_text()
    tree = LexborHTMLParser(page)
    # Nothing is loaded from anywhere: no scripts, images, stylesheets or frames, and a CSP that says so.
    assert not tree.css("script, img, link, iframe, object, embed")
    assert "src=" not in page and "default-src 'none'" in page
    a_marks = {m.attributes["id"] for m in tree.css("mark[id^=a]")}
    p_marks = {m.attributes["id"] for m in tree.css("mark[id^=p]")}
    assert a_marks and {i[1:] for i in a_marks} == {i[1:] for i in p_marks}
    ids = {node.attributes["id"] for node in tree.css("[id]")}
    for link in tree.css("mark a.n"):  # each passage number jumps to its counterpart
        assert link.attributes["href"].lstrip("#") in ids
    text = tree.body.text() if tree.body else ""
    assert "paraphrased copy" in text and "credit: none" in text and "severity: high" in text
    # The raw page exported is the bytes fetched, and the report states their SHA-256.
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    assert digest in text and raw.read_bytes() == (REPO / "data/demo/scraper/storm-marren-seawall-collapse.html"
                                                   ).read_bytes()
    assert "HTTP status" in text and "content-type" in text
    assert provmon("--config", str(demo), "report", "99").code == 2


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit, non-interlaced RGB/RGBA PNG (what chromium writes) into rows of pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 4
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0
            bpp = 3 if color == 2 else 4
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


def _count(width: int, bpp: int, rows: list[bytes], rgb: tuple[int, int, int]) -> int:
    want = bytes(rgb)
    return sum(1 for row in rows for x in range(0, width * bpp, bpp) if row[x:x + 3] == want)


def test_report_renders_in_headless_chromium(demo: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    aid = alert_id(demo, "paraphrased")
    out = tmp_path / "report.html"
    assert provmon("--config", str(demo), "report", str(aid), "-o", str(out)).code == 0
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        f"--user-data-dir={profile}", "--hide-scrollbars", "--window-size=1400,1400",
                        f"--screenshot={shot}", out.as_uri()], capture_output=True, timeout=120, check=True)
    width, bpp, rows = _png_pixels(shot.read_bytes())
    assert width == 1400
    # The header band and the highlighted passages are actually painted, in their colours.
    assert _count(width, bpp, rows, (0x1F, 0x2A, 0x44)) > 20_000  # header background
    assert _count(width, bpp, rows, (0xFF, 0xE5, 0x8A)) > 20_000  # passage 1 highlight (reworded, first shade)
    assert _count(width, bpp, rows, (0xC6, 0x28, 0x28)) > 300     # the "severity: high" badge


def test_notice_has_the_512c3_elements(demo: Path, tmp_path: Path) -> None:
    aid = alert_id(demo, "verbatim")
    r = provmon("--config", str(demo), "notice", str(aid))
    assert r.code == 0, r.err
    text = r.out
    alert = next(a for a in provmon("--config", str(demo), "alerts", "--json").json_lines() if a["id"] == aid)
    for needle in (
        "DRAFT", "§ 512(c)(3)(A)(i)", "§ 512(c)(3)(A)(ii)", "§ 512(c)(3)(A)(iii)", "§ 512(c)(3)(A)(iv)",
        "§ 512(c)(3)(A)(v)", "§ 512(c)(3)(A)(vi)",
        "I have a good faith belief that use of the material in the manner complained of is not authorized by the\n"
        "   copyright owner, its agent, or the law.",
        "under penalty of perjury, I am authorized to act on\n   behalf of the owner of an exclusive right",
        alert["copy_url"], alert["article_url"], "Ada Marsh, Rights manager", "rights@herald.example",
        "1 Quay Street", "Harbour Herald Ltd", "/s/ Ada Marsh", "SHA-256", "fair use",
        "credits the original",  # the verbatim copy names the Herald in a credit line
    ):
        assert needle in text, needle
    no_owner = demo.read_text().replace('name = "Ada Marsh"', "")
    demo.write_text(no_owner)
    r = provmon("--config", str(demo), "notice", str(aid))
    assert r.code == 2 and "owner.name" in r.err and str(demo) in r.err


def test_prune_keeps_evidence_of_open_alerts(demo: Path, tmp_path: Path) -> None:
    db = tmp_path / "provmon.db"
    keep, drop = alert_id(demo, "verbatim"), alert_id(demo, "paraphrased")
    assert provmon("--config", str(demo), "ignore", str(drop)).code == 0
    with Store(db) as store:
        removed = store.prune("2999-01-01T00:00:00+00:00")  # everything is "old"
        assert removed["raw_evidence"] == 1
        assert store.evidence(keep)[0]["raw_zlib"] is not None
        assert store.evidence(drop)[0]["raw_zlib"] is None and store.evidence(drop)[0]["sha256"]
        assert store.alert(keep)["passages"] and store.alert(drop)["passages"]  # their matches survive
    r = provmon("--config", str(demo), "report", str(drop), "-o", str(tmp_path / "d.html"), "--raw",
                str(tmp_path / "d.raw"))
    assert r.code == 2 and "pruned" in r.err
    assert "pruned after retention" in (tmp_path / "d.html").read_text()


def test_run_once_applies_retention(demo: Path, tmp_path: Path) -> None:
    """From cron, `run --once` is all the service there is: old page records and matches no alert needs go."""
    db = tmp_path / "provmon.db"
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO pages (url, site, final_url, status, content_sha256, fetched_at, error) VALUES "
                 "('https://gone.example/old', 'scraper', 'https://gone.example/old', 200, 'x', "
                 "'2020-01-01T00:00:00+00:00', NULL)")
    match = conn.execute("SELECT * FROM matches WHERE id IN (SELECT match_id FROM alerts) LIMIT 1").fetchone()
    names = [d[0] for d in conn.execute("SELECT * FROM matches LIMIT 0").description]
    old = dict(zip(names, match, strict=True)) | {"id": None, "page_url": "https://gone.example/old",
                                                  "disposition": "duplicate", "found_at": "2020-01-01T00:00:00+00:00"}
    conn.execute(f"INSERT INTO matches ({', '.join(old)}) VALUES ({', '.join('?' * len(old))})", list(old.values()))
    conn.commit()
    alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    conn.close()
    r = provmon("--config", str(demo), "run", "--once")
    assert r.code == 0, r.err
    assert rows_of(db, "SELECT count(*) FROM pages WHERE url = 'https://gone.example/old'") == 0
    assert rows_of(db, "SELECT count(*) FROM matches WHERE page_url = 'https://gone.example/old'") == 0
    assert rows_of(db, "SELECT count(*) FROM alerts") == alerts
    assert rows_of(db, "SELECT count(*) FROM matches WHERE id IN (SELECT match_id FROM alerts)") == alerts


def rows_of(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_datasette_metadata_names_what_exists(demo: Path, tmp_path: Path) -> None:
    meta = json.loads((REPO / "data/datasette-metadata.json").read_text())
    conn = sqlite3.connect(tmp_path / "provmon.db")
    try:
        for table, spec in meta["databases"]["provmon"]["tables"].items():
            cols = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            assert cols, f"{table} does not exist"
            named = set(spec.get("facets", [])) | set(spec.get("columns", {}))
            named |= {spec[k] for k in ("label_column", "sort_desc") if k in spec}
            assert named <= cols, (table, named - cols)
        log_row = conn.execute("SELECT * FROM alert_log LIMIT 1").fetchone()
        assert log_row is not None
    finally:
        conn.close()
    try:
        import datasette  # noqa: F401
    except ImportError:
        return
    from datasette.app import Datasette

    Datasette([str(tmp_path / "provmon.db")], metadata=meta)  # accepts the metadata


def test_a_notice_for_a_copy_that_moved_says_where_its_evidence_was_captured() -> None:
    """The copy left its first address and is now at another, never captured there: the notice names the new
    address, and says the share and the quotes are the capture's, at the old one (a second end-to-end review: it
    said "This page reproduces about 96%" of a page it never fetched)."""
    from monitor.config import OwnerSettings
    from monitor.notice import draft

    old, new = "https://copier.example/ferry-news", "https://copier.example/ferry-news-2"
    alert = {"id": 2, "status": "notified", "copy_url": new, "also_at": [], "gone_from": [old],
             "article_title": "Ferry returns", "article_url": "https://herald.example/ferry", "coverage": 0.96,
             "kind": "verbatim", "passages": [], "created_at": "2026-11-20T10:00:00+00:00", "credit": "none",
             "last_checked_at": "2026-11-23T09:00:00+00:00",
             "last_check": f"still there: verbatim, 84% of the article at {new}"}
    capture = {"url": old, "final_url": old, "fetched_at": "2026-11-20T10:00:00+00:00", "http_status": 200,
               "sha256": "ab" * 32, "reason": "detected"}
    owner = OwnerSettings(name="Ada Marsh", email="rights@herald.example")
    text = draft(alert, {"url": "https://herald.example/ferry", "title": "Ferry returns"}, [capture], owner, "c.toml")
    assert f"\n   {new}\n" in text
    assert f"The copy as captured at {old} (below) reproduced about 96%" in text
    assert "This page reproduces" not in text
    assert f"When last checked (2026-11-23T09:00:00+00:00): still there: verbatim, 84% of the article at {new}." in text
    alert.update(copy_url=old, gone_from=[])  # still where it was captured: as before
    assert "This page reproduces about 96%" in draft(alert, {"url": "", "title": ""}, [capture], owner, "c.toml")


def test_a_notice_quoting_a_newer_capture_says_its_share_is_not_the_alerts() -> None:
    """The copy came back changed: the notice quotes its newest capture (69%) while the alert, as listed, records the
    share it was found with (65%); both are said, so a reader sees why two numbers differ (an end-to-end review)."""
    from monitor.config import OwnerSettings
    from monitor.notice import draft

    url = "https://copier.example/ferry-news"
    alert = {"id": 3, "status": "new", "copy_url": url, "also_at": [], "gone_from": [], "article_title": "Ferry",
             "article_url": "https://herald.example/ferry", "coverage": 0.65, "kind": "paraphrased", "passages": [],
             "created_at": "2026-11-20T10:00:00+00:00", "credit": "none"}
    capture = {"url": url, "final_url": url, "fetched_at": "2026-11-22T10:00:00+00:00", "http_status": 200,
               "sha256": "cd" * 32, "reason": "reopened"}
    owner = OwnerSettings(name="Ada Marsh", email="rights@herald.example")
    newer = {"coverage": 0.69, "kind": "paraphrased", "passages": []}
    text = draft(alert, {"url": "", "title": ""}, [capture], owner, "c.toml", match=newer)
    assert "This page reproduces about 69% as last captured (65% in alert #3's record) of the work's text" in text
    same = draft(alert, {"url": "", "title": ""}, [capture], owner, "c.toml", match={**newer, "coverage": 0.65})
    assert "This page reproduces about 65% of the work's text" in same


def test_a_notice_for_a_removed_alert_gives_its_last_recheck() -> None:
    """A removed copy reposted elsewhere is another alert's now: the notice's note says what the recheck found."""
    from monitor.config import OwnerSettings
    from monitor.notice import draft

    url = "https://copier.example/ferry-news"
    alert = {"id": 6, "status": "removed", "copy_url": url, "also_at": [], "gone_from": [url],
             "article_title": "Ferry", "article_url": "https://herald.example/ferry", "coverage": 0.9,
             "kind": "verbatim", "passages": [], "created_at": "2026-11-20T10:00:00+00:00", "credit": "none",
             "last_checked_at": "2026-11-23T09:00:00+00:00",
             "last_check": "gone from every address; the copy there is alert #30's"}
    text = draft(alert, {"url": "", "title": ""}, [], OwnerSettings(name="A", email="a@b.example"), "c.toml")
    assert "=== NOTE: This alert is removed: check that the copy is still online before sending." in text
    assert ("=== NOTE: Its last recheck (2026-11-23T09:00:00+00:00): gone from every address; the copy there is "
            "alert #30's") in text
