"""Big pages: time, peak memory and whether the article is found, for synthetic pages up to fetch.max_bytes.

Each page is extracted in its own forked process (fastest of 3 calls; that process's peak RSS), as the service
would (default `MAX_CHARS`), and against the anchor of the same run: the page cut at 1,500,000 characters of raw
markup before extraction, as every page was until session 9. Pages are generated here (our own words).

    PYTHONPATH=. python bench/big_pages.py          # writes bench/results/big_pages.json
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import table, write
from monitor.extract import extract

MB = 1_000_000
OLD_CAP = 1_500_000
ART_P = "<p>The lighthouse keeper logged forty ships in the fog that week, and wrote each name by hand.</p>\n"
P = "<p>The harbour committee met again on Tuesday to weigh the cost of dredging the eastern channel.</p>\n"
ART = "<article><h1>Dredging</h1>" + ART_P * 20 + "</article>"


def pad(n: int, unit: str) -> str:
    return unit * (n // len(unit))


PAGES: dict[str, Callable[[], str]] = {
    "5 MB of paragraphs": lambda: "<body>" + pad(5 * MB - 20, P) + "</body>",
    "5 MB inline <style>, article after": lambda: "<head><style>" + pad(5 * MB - 3000, ".c{color:red;margin:0 1px}\n")
    + "</style></head><body>" + ART,
    "5 MB inline <script>, article after": lambda: "<head><script>" + pad(5 * MB - 3000, "var x=[1,2,3];f(x);\n")
    + "</script></head><body>" + ART,
    "4 MB <svg> icons + 1 MB data: URI, article after": lambda: "<body>"
    + pad(4 * MB, '<svg><path d="M0 0L10 10"/></svg>') + '<img src="data:image/png;base64,' + "A" * (MB - 3000)
    + '">' + ART,
    "5 MB table (78k rows), article after": lambda: "<body><table>"
    + pad(5 * MB - 3000, "<tr><td>cell one</td><td>cell two, longer</td><td>3</td></tr>\n") + "</table>" + ART,
    "5 MB of unclosed nested tables": lambda: "<body>" + pad(5 * MB, "<table><tr><td>x "),
    "3.2 MB of link boxes, article in the middle": lambda: "<body>"
    + pad(1_600_000, '<div class="nav"><a href="/x">link</a></div>\n') + ART
    + pad(1_600_000, '<div class="nav"><a href="/y">link</a></div>\n'),
    "5 MB of unclosed <style> openers": lambda: pad(5 * MB, "<style>x"),
}
HAS_ARTICLE = {name for name in PAGES if "article" in name}


def measure(name: str, old: bool) -> dict:
    """In a forked child: extract the page 3 times, report the best time and the child's peak RSS."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        html = PAGES[name]()
        data = (html[:OLD_CAP] if old else html).encode()
        best = 1e9
        for _ in range(3):
            t = time.perf_counter()
            res = extract(data, "http://example.test/a", "text/html; charset=utf-8")
            best = min(best, time.perf_counter() - t)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        found = "lighthouse keeper" in res.text
        os.write(w, repr((best, rss, found, res.truncated, len(html))).encode())
        os._exit(0)
    os.close(w)
    out = b""
    while chunk := os.read(r, 4096):
        out += chunk
    os.waitpid(pid, 0)
    best, rss, found, truncated, size = eval(out.decode())  # our own child's repr of a tuple of numbers
    return {"seconds": round(best, 3), "peak_rss_mb": rss, "article_found": found if name in HAS_ARTICLE else None,
            "truncated": truncated, "chars": size}


def main() -> None:
    results, rows = {}, []
    for name in PAGES:
        before, after = measure(name, old=True), measure(name, old=False)
        results[name] = {"cut at 1.5M raw (until session 9)": before, "now": after}

        def cell(m: dict) -> str:
            found = "" if m["article_found"] is None else (", found" if m["article_found"] else ", NOT found")
            return f"{m['seconds']:.2f} s, {m['peak_rss_mb']} MB{found}"
        rows.append([name, cell(before), cell(after), "yes" if after["truncated"] else "no"])
    print(table(rows, ["page", "anchor: cut at 1.5M raw chars", "now", "cut now"]))
    print(f"load average at the end: {os.getloadavg()}")
    write("big_pages.json", {"pages": results, "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()})


if __name__ == "__main__":
    main()
