"""Crawl a loopback site farm end to end and report pages per second and peak memory.

Not a test: it measures. `python bench/crawl_farm.py [--hosts 50] [--pages 10000] [--articles 10000] [--polite]`.

The farm is one asyncio HTTP/1.1 server process listening on `--hosts` ports of 127.0.0.1 (loopback only).
Each host has a robots.txt, a sitemap, an index page, section pages and its share of article pages.
Texts come from the PAN13 source documents under ../shared/datasets (read at run time, never copied
into the repo), else from generated words. 10,000 tracked articles are slices of that text; about 2% of
the farm's articles copy one of them (verbatim or partly), the rest are generated from the same vocabulary.
The monitor tracks the articles (timed separately), then scans every host as the service does
(scheduler.Service.run_site: discovery from robots.txt, sitemap and links, fetch, extract, match, store),
`monitor.max_concurrent_sites` sites at once. Every setting is the service's default except the ones the
bench states: `fetch.min_delay = 0` (politeness delays off), or with `--polite` `fetch.min_delay = 0.05` and
`fetch.max_per_host = 2`; `--site-workers` and `--workers` set `monitor.max_concurrent_sites` and
`fetch.workers` when given. The server counts, per host, requests in progress and when each request was
read, so `--polite` shows whether the per-host limits held as the servers saw them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.config import FetchSettings, MonitorSettings, parse_config  # noqa: E402
from monitor.scan import Original, track_text  # noqa: E402
from monitor.scheduler import Service  # noqa: E402
from monitor.store import Store  # noqa: E402

PAN_SRC = REPO.parent / "shared" / "datasets" / "pan13-text-alignment-train" / "src"
SECTIONS = 10


# -- text -------------------------------------------------------------------------------------------------


def corpus_sentences(limit_chars: int) -> tuple[list[str], str]:
    """Sentences of the PAN13 sources (or generated ones), and where they came from."""
    sentences: list[str] = []
    total = 0
    if PAN_SRC.is_dir():
        for path in sorted(PAN_SRC.glob("*.txt")):
            text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
            for s in text.replace("? ", "?\n").replace("! ", "!\n").replace(". ", ".\n").split("\n"):
                if 40 <= len(s) <= 400:
                    sentences.append(s)
                    total += len(s)
            if total >= limit_chars:
                break
        if sentences:
            return sentences, f"PAN13 sources ({PAN_SRC})"
    rng = random.Random(7)
    words = ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(1, 4)))
             for _ in range(20_000)]
    while total < limit_chars:
        s = " ".join(rng.choice(words) for _ in range(rng.randint(8, 25))).capitalize() + "."
        sentences.append(s)
        total += len(s)
    return sentences, "generated words"


@dataclass(frozen=True)
class Farm:
    hosts: int
    pages: int
    articles: int
    seed: int = 1

    def texts(self) -> tuple[list[str], dict[int, tuple[int, str]], list[str], str]:
        """(tracked articles, copies planted: page index -> (article index, kind), filler vocabulary, source)."""
        sentences, source = corpus_sentences(self.articles * 2_500)
        rng = random.Random(self.seed)
        tracked = []
        for i in range(self.articles):
            start = (i * 12) % max(1, len(sentences) - 12)
            tracked.append(" ".join(sentences[start:start + 12]))
        planted: dict[int, tuple[int, str]] = {}
        for p in rng.sample(range(self.pages), max(1, self.pages // 50)):
            planted[p] = (rng.randrange(self.articles), rng.choice(["verbatim", "partial"]))
        vocab = sorted({w for s in sentences[:20_000] for w in s.split()})
        return tracked, planted, vocab, source


def article_html(title: str, body: str) -> bytes:
    paras = "".join(f"<p>{p}</p>" for p in body.split(". ") if p)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<header><nav><a href='/'>Home</a> <a href='/s0'>News</a></nav></header>"
            f"<article><h1>{title}</h1>{paras}</article>"
            f"<footer>Copyright the farm. <a href='/about'>About</a></footer></body></html>").encode()


def build_site(farm: Farm, host: int, texts: tuple[list[str], dict[int, tuple[int, str]], list[str], str]
               ) -> dict[str, bytes]:
    """Every path of one host, rendered."""
    tracked, planted, vocab, _ = texts
    rng = random.Random(farm.seed * 1_000 + host)
    per = farm.pages // farm.hosts
    first = host * per
    pages: dict[str, bytes] = {}
    locs = []
    for n in range(per):
        idx = first + n
        if idx in planted:
            art, kind = planted[idx]
            sents = tracked[art].split(". ")
            body = ". ".join(sents if kind == "verbatim" else sents[: max(4, len(sents) // 2)])
        else:
            body = ". ".join(" ".join(rng.choice(vocab) for _ in range(rng.randint(10, 22)))
                             for _ in range(rng.randint(8, 16)))
        pages[f"/a{n}"] = article_html(f"Article {idx}", body)
        locs.append(f"<url><loc>BASE/a{n}</loc><lastmod>2026-11-{1 + n % 28:02d}</lastmod></url>")
    for s in range(SECTIONS):
        links = "".join(f"<li><a href='/a{n}'>Article {first + n}</a></li>" for n in range(s, per, SECTIONS))
        pages[f"/s{s}"] = f"<html><body><h1>Section {s}</h1><ul>{links}</ul></body></html>".encode()
    pages["/"] = ("<html><body><h1>Farm host</h1>"
                  + "".join(f"<a href='/s{s}'>Section {s}</a>" for s in range(SECTIONS)) + "</body></html>").encode()
    pages["/robots.txt"] = b"User-agent: *\nDisallow: /private\nSitemap: BASE/sitemap.xml\n"
    pages["/sitemap.xml"] = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                             + "".join(locs) + "</urlset>").encode()
    return pages


# -- the farm server (a child process) -------------------------------------------------------------------


@dataclass
class HostCount:
    """One host's requests as the server saw them: each stamped when its head was read, in progress from
    then until just before the answer is written (the client cannot act on the answer any earlier)."""

    requests: int = 0
    inflight: int = 0
    max_inflight: int = 0
    last_start: float = 0.0
    min_gap: float = float("inf")
    starts: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Gaps between arrivals (smallest, 1st percentile, median) and the most arrivals within 1 s."""
        gaps = sorted(b - a for a, b in zip(self.starts, self.starts[1:], strict=False))
        window, lo = 0, 0
        for hi, t in enumerate(self.starts):
            while t - self.starts[lo] >= 1.0:
                lo += 1
            window = max(window, hi - lo + 1)
        def pct(q):
            return (gaps[min(len(gaps) - 1, int(q * len(gaps)))] if gaps else 0.0)
        return {"requests": self.requests, "max_inflight": self.max_inflight, "min_gap": self.min_gap,
                "gap_p1": pct(0.01), "gap_p50": pct(0.5), "max_requests_in_1s": window}


def serve_farm(farm: Farm, ports: Any, ready: Any) -> None:
    texts = farm.texts()
    sites = [build_site(farm, h, texts) for h in range(farm.hosts)]
    counts = [HostCount() for _ in range(farm.hosts)]

    async def handle(host: int, base: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c = counts[host]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                now = time.monotonic()
                if path != "/__stats":
                    if c.requests:
                        c.min_gap = min(c.min_gap, now - c.last_start)
                    c.requests += 1
                    c.last_start = now
                    c.starts.append(now)
                    c.inflight += 1
                    c.max_inflight = max(c.max_inflight, c.inflight)
                    await asyncio.sleep(0)  # let other requests to this host in, so overlap would show
                    c.inflight -= 1
                if path == "/__stats":
                    body, ctype = json.dumps([x.summary() for x in counts]).encode(), b"application/json"
                elif path in sites[host]:
                    body = sites[host][path].replace(b"BASE", base)
                    ctype = (b"text/plain" if path.endswith(".txt") else b"application/xml"
                             if path.endswith(".xml") else b"text/html; charset=utf-8")
                else:
                    body, ctype = b"not found", b"text/plain"
                status = b"200 OK" if path in sites[host] or path == "/__stats" else b"404 Not Found"
                writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: " + ctype + b"\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = []
        for h in range(farm.hosts):
            srv = await asyncio.start_server(lambda r, w, h=h: None, "127.0.0.1", 0)  # reserve a port
            port = srv.sockets[0].getsockname()[1]
            srv.close()
            await srv.wait_closed()
            base = f"http://127.0.0.1:{port}".encode()
            srv = await asyncio.start_server(lambda r, w, h=h, b=base: handle(h, b, r, w), "127.0.0.1", port)
            servers.append(srv)
            ports.append(port)
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the run ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    hosts: int
    pages_in_farm: int
    tracked_articles: int
    text_source: str
    polite: bool
    site_workers: int = 0  # monitor.max_concurrent_sites
    fetch_workers: int = 0  # fetch.workers
    loadavg_start: str = ""
    loadavg_end: str = ""
    track_seconds: float = 0.0
    crawl_seconds: float = 0.0
    crawl_cpu_seconds: float = 0.0  # the crawler process's CPU time (all its threads) over the crawl
    crawl_system_seconds: float = 0.0  # the part of it spent in the kernel (sockets, futexes of thread hand-offs)
    crawl_context_switches: int = 0  # voluntary + involuntary, all threads
    crawl_voluntary_switches: int = 0  # a thread blocked: thread hand-offs, GIL waits, I/O
    pages_scanned: int = 0
    requests_served: int = 0
    pages_per_second: float = 0.0
    copies_planted: int = 0
    planted_detected: int = 0
    alerts: int = 0
    alerted_pages_not_planted: int = 0
    errors: int = 0
    peak_rss_mb: float = 0.0
    max_inflight_per_host: int = 0
    min_gap_per_host_s: float = 0.0
    gap_p1_per_host_s: float = 0.0
    max_requests_in_1s_per_host: int = 0
    settings_set: dict[str, Any] = field(default_factory=dict)  # everything else is the service's default


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds() -> float:
    """CPU time of this process, every thread (user + system): per page, steadier than pages/s on a busy machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def kernel_use() -> tuple[float, int, int]:
    """System CPU time, context switches and the voluntary ones of this process so far (every thread). Involuntary
    ones are mostly other processes' doing on a shared machine; voluntary ones are this process's blocking waits."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_stime, r.ru_nvcsw + r.ru_nivcsw, r.ru_nvcsw


def stats(port: int) -> list[dict[str, Any]]:
    import httpx

    return httpx.get(f"http://127.0.0.1:{port}/__stats", timeout=10).json()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--pages", type=int, default=10_000, help="article pages in the farm (hubs come on top)")
    ap.add_argument("--articles", type=int, default=10_000, help="tracked articles")
    ap.add_argument("--polite", action="store_true", help="politeness on: min_delay and max_per_host below")
    ap.add_argument("--min-delay", type=float, default=0.05)
    ap.add_argument("--max-per-host", type=int, default=2)
    ap.add_argument("--site-workers", type=int, help="monitor.max_concurrent_sites (default: the service's, "
                                                      f"{MonitorSettings().max_concurrent_sites})")
    ap.add_argument("--workers", type=int, help=f"fetch.workers (default: the service's, {FetchSettings().workers})")
    ap.add_argument("--out", help="results file (default bench/results/crawl_farm[_polite].json)")
    args = ap.parse_args()
    if args.out is None:
        args.out = str(REPO / "bench" / "results" / ("crawl_farm_polite.json" if args.polite else "crawl_farm.json"))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    farm = Farm(args.hosts, args.pages, args.articles)
    ctx = mp.get_context("fork")
    ports = ctx.Manager().list()
    ready = ctx.Event()
    server = ctx.Process(target=serve_farm, args=(farm, ports, ready), daemon=True)
    server.start()
    tracked, planted, _, source = farm.texts()
    if not ready.wait(600):
        raise SystemExit("farm server did not start")
    ports = list(ports)

    fetch: dict[str, Any] = {"min_delay": args.min_delay if args.polite else 0.0}
    if args.polite:
        fetch["max_per_host"] = args.max_per_host
    if args.workers is not None:
        fetch["workers"] = args.workers
    monitor: dict[str, Any] = {}
    if args.site_workers is not None:
        monitor["max_concurrent_sites"] = args.site_workers
    res = Result(args.hosts, len(ports) * (args.pages // args.hosts), args.articles, source, args.polite,
                 copies_planted=len(planted), settings_set={"fetch": fetch, "monitor": monitor})
    with tempfile.TemporaryDirectory() as tmp:
        data = {
            "monitor": {"database": f"{tmp}/farm.db", "user_agent": "ProvenanceMonitor/0.1 (+https://example.org/bot)",
                        **monitor},
            "fetch": fetch,
            "sites": [{"name": f"host{i}", "start_urls": [f"http://127.0.0.1:{p}/"], "allow_private": True,
                       "sitemaps": [f"http://127.0.0.1:{p}/sitemap.xml"], "max_depth": 2, "max_pages": 400}
                      for i, p in enumerate(ports)],
        }
        cfg = parse_config(data, Path(tmp) / "config.toml")
        res.site_workers, res.fetch_workers = cfg.monitor.max_concurrent_sites, cfg.fetch.workers
        t0 = time.perf_counter()
        with Store(cfg.database_path) as store:
            for i, text in enumerate(tracked):
                track_text(store, Original(f"https://publisher.example/{i}", f"Tracked {i}", text))
        res.track_seconds = time.perf_counter() - t0

        # What the scheduler does with each due site, on an executor of max_concurrent_sites threads.
        service = Service(cfg)
        res.loadavg_start = loadavg()
        t0, c0, (s0, x0, v0) = time.perf_counter(), cpu_seconds(), kernel_use()
        with ThreadPoolExecutor(cfg.monitor.max_concurrent_sites) as pool:
            for rep in pool.map(service.run_site, cfg.sites):
                res.pages_scanned += rep.pages
                res.alerts += len(rep.new_alerts)
                res.errors += len(rep.errors)
        res.crawl_seconds, res.crawl_cpu_seconds = time.perf_counter() - t0, cpu_seconds() - c0
        s1, x1, v1 = kernel_use()
        res.crawl_system_seconds, res.crawl_context_switches, res.crawl_voluntary_switches = s1 - s0, x1 - x0, v1 - v0
        res.loadavg_end = loadavg()
        per = args.pages // args.hosts
        planted_urls = {f"http://127.0.0.1:{ports[i // per]}/a{i % per}" for i in planted}
        with Store(cfg.database_path) as store:
            alerted = {r[0] for r in store.db.execute("SELECT DISTINCT copy_url FROM alerts").fetchall()}
        res.planted_detected = len(alerted & planted_urls)
        res.alerted_pages_not_planted = len(alerted - planted_urls)
    counts = stats(ports[0])
    server.kill()
    res.requests_served = sum(c["requests"] for c in counts)
    res.pages_per_second = res.pages_scanned / res.crawl_seconds
    res.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res.max_inflight_per_host = max(c["max_inflight"] for c in counts)
    res.min_gap_per_host_s = min(c["min_gap"] for c in counts)
    res.gap_p1_per_host_s = min(c["gap_p1"] for c in counts)
    res.max_requests_in_1s_per_host = max(c["max_requests_in_1s"] for c in counts)

    rows = [("hosts", res.hosts), ("article pages in farm", res.pages_in_farm), ("tracked articles", args.articles),
            ("text", source),
            ("sites at once / fetch workers per site", f"{res.site_workers} / {res.fetch_workers}"),
            ("settings set by the bench (the rest: service defaults)", json.dumps(res.settings_set)),
            ("politeness", "on" if args.polite else "delays off"),
            ("load average before / after the crawl", f"{res.loadavg_start} / {res.loadavg_end}"),
            ("tracking time", f"{res.track_seconds:.1f} s"), ("pages scanned", res.pages_scanned),
            ("requests served", res.requests_served), ("crawl time", f"{res.crawl_seconds:.1f} s"),
            ("pages per second", f"{res.pages_per_second:.0f}"),
            ("crawler CPU time per page (all threads)", f"{1000 * res.crawl_cpu_seconds / res.pages_scanned:.2f} ms"),
            ("  of which in the kernel", f"{1000 * res.crawl_system_seconds / res.pages_scanned:.2f} ms"),
            ("context switches per page (all threads), voluntary",
             f"{res.crawl_context_switches / res.pages_scanned:.1f}, "
             f"{res.crawl_voluntary_switches / res.pages_scanned:.1f}"),
            ("copies planted / detected", f"{res.copies_planted} / {res.planted_detected}"),
            ("alerts (a copy may match overlapping tracked texts)", res.alerts),
            ("alerted pages that were not planted copies", res.alerted_pages_not_planted), ("errors", res.errors),
            ("peak RSS (crawler process)", f"{res.peak_rss_mb:.0f} MB"),
            ("max requests in flight, any host", res.max_inflight_per_host),
            ("min gap between request arrivals, any host", f"{res.min_gap_per_host_s * 1000:.1f} ms"),
            ("1st percentile of gaps, worst host", f"{res.gap_p1_per_host_s * 1000:.1f} ms"),
            ("max requests in any 1 s, any host", res.max_requests_in_1s_per_host)]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(asdict(res), indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
