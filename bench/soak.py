"""Soak: a simulated month of service runs against a loopback site farm, time compressed.

Each simulated day every site runs `--runs-per-day` times; every day each site publishes new pages and
drops old ones from its index (they then answer 404), and now and then a page is a copy of a tracked
article. The store's clock is simulated, so retention pruning (monitor.retention_days) acts as it would
over a month. Reported per day: RSS of this process and the database size (file + WAL), rows kept.
Both must level off: the bench compares the growth of the last week with that of the second.

    python bench/soak.py                 # 30 days, 5 sites, 8 runs a day (a few minutes)
    python bench/soak.py --days 10       # shorter

Writes bench/results/soak.json. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import shutil
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import monitor.fetch  # noqa: E402
import monitor.store  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.extract import extract  # noqa: E402
from monitor.scheduler import Service  # noqa: E402

PAN_SRC = REPO.parent / "shared" / "datasets" / "pan13-text-alignment-train" / "src"
SCRATCH = REPO / "bench" / "scratch" / "soak"
RESULTS = REPO / "bench" / "results" / "soak.json"


def sentence_pool(limit: int = 20000) -> list[str]:
    """Real sentences to build pages from: PAN sources if present, else the project's own demo texts."""
    texts: list[str] = []
    if PAN_SRC.is_dir():
        for f in sorted(PAN_SRC.glob("*.txt"))[:400]:
            texts.append(f.read_text(encoding="utf-8", errors="replace"))
    else:
        for f in (REPO / "data" / "demo").rglob("*.html"):
            texts.append(extract(f.read_bytes()).text)
    pool: list[str] = []
    for t in texts:
        pool += [s.strip() for s in re.split(r"(?<=[.!?])\s+", t) if 60 <= len(s.strip()) <= 300]
    return pool[:limit]


class Farm:
    """Sites on loopback ports; their pages change each simulated day."""

    def __init__(self, sites: int, pool: list[str], tracked: list[str], rng: random.Random) -> None:
        self.rng = rng
        self.pool = pool
        self.tracked = tracked
        self.pages: list[dict[str, str]] = [{} for _ in range(sites)]
        self.live: list[list[str]] = [[] for _ in range(sites)]
        self.counter = 0
        self.servers = [self._serve(i) for i in range(sites)]

    def _serve(self, index: int) -> ThreadingHTTPServer:
        farm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.strip("/") or "index.html"
                if name == "index.html":
                    links = "".join(f'<li><a href="/{p}">{p}</a></li>' for p in farm.live[index])
                    body = f"<html><body><nav><ul>{links}</ul></nav></body></html>"
                elif name in farm.live[index]:
                    body = farm.pages[index][name]
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.servers[index].server_address[1]}/index.html"

    def publish(self, per_site: int, keep: int, copy_chance: float) -> None:
        for i in range(len(self.servers)):
            for _ in range(per_site):
                self.counter += 1
                name = f"p{self.counter}.html"
                if self.rng.random() < copy_chance:
                    paras = self.rng.choice(self.tracked).split("\n\n")
                else:
                    paras = [" ".join(self.rng.sample(self.pool, 4)) for _ in range(6)]
                body = "".join(f"<p>{html.escape(p)}</p>" for p in paras)
                self.pages[i][name] = (f"<html><head><title>{name}</title></head><body><nav><a href='/'>Home</a>"
                                       f"</nav><article>{body}</article><footer>Site {i}</footer></body></html>")
                self.live[i].append(name)
            for old in self.live[i][:-keep]:
                self.pages[i].pop(old, None)
            self.live[i] = self.live[i][-keep:]

    def close(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def db_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists()) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--sites", type=int, default=5)
    ap.add_argument("--runs-per-day", type=int, default=8)
    ap.add_argument("--tracked", type=int, default=200)
    ap.add_argument("--retention-days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    pool = sentence_pool()
    if len(pool) < 100:
        print("not enough text to build pages; skipping")
        return 0
    tracked = ["\n\n".join(" ".join(rng.sample(pool, 4)) for _ in range(8)) for _ in range(args.tracked)]
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir(parents=True)
    farm = Farm(args.sites, pool, tracked, rng)
    sites = "".join(
        f'[[sites]]\nname = "s{i}"\nstart_urls = ["{farm.url(i)}"]\nmax_depth = 1\nallow_private = true\n\n'
        for i in range(args.sites))
    cfg_path = SCRATCH / "config.toml"
    # Time is compressed, so politeness delays are off (the crawl bench measures them).
    cfg_path.write_text(f'[monitor]\ndatabase = "provmon.db"\nlog_level = "warning"\n'
                        f"retention_days = {args.retention_days}\n\n[fetch]\nmin_delay = 0.0\n\n{sites}")
    cfg = load_config(cfg_path)
    db = cfg.database_path

    clock = [datetime(2026, 1, 1, tzinfo=UTC)]

    def sim_now() -> str:
        return clock[0].isoformat(timespec="seconds")

    monitor.store.now_iso = sim_now  # the store stamps rows with simulated time
    monitor.fetch.now_iso = sim_now
    service = Service(cfg)
    from monitor.scan import Original, track_text

    with service.open_store() as store:
        for k, text in enumerate(tracked):
            track_text(store, Original(f"https://publisher.example/a{k}", f"Article {k}", text))

    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    print(f"{'day':>4} {'rss MB':>8} {'db MB':>8} {'pages':>7} {'matches':>8} {'alerts':>7} {'pruned':>7} {'s':>6}")
    for day in range(1, args.days + 1):
        farm.publish(per_site=6, keep=30, copy_chance=0.03)
        for run in range(args.runs_per_day):
            clock[0] = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day - 1, hours=24 * run / args.runs_per_day)
            for site in cfg.sites:
                service.run_site(site)
        cutoff = (clock[0] - timedelta(days=args.retention_days)).isoformat(timespec="seconds")
        with service.open_store() as store:
            pruned = store.prune(cutoff)
            counts = {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("pages", "matches", "alerts")}
        row = {"day": day, "rss_mb": round(rss_mb(), 1), "db_mb": round(db_mb(db), 2), **counts,
               "pruned": pruned["pages"] + pruned["matches"], "elapsed_s": round(time.monotonic() - started, 1)}
        rows.append(row)
        print(f"{day:>4} {row['rss_mb']:>8} {row['db_mb']:>8} {row['pages']:>7} {row['matches']:>8} "
              f"{row['alerts']:>7} {row['pruned']:>7} {row['elapsed_s']:>6}")
    farm.close()

    def growth(key: str, first: int, last: int) -> float:
        return rows[last][key] - rows[first][key]

    verdict: dict[str, Any] = {}
    if len(rows) >= 21:
        for key in ("rss_mb", "db_mb", "pages"):
            second_week = growth(key, 7, 13)
            last_week = growth(key, len(rows) - 7, len(rows) - 1)
            verdict[key] = {"growth_week_2": round(second_week, 2), "growth_last_week": round(last_week, 2),
                            "levels_off": last_week <= max(second_week, 0) + 0.05 * rows[-1][key]}
        print("\nlevelling off (growth in the second week vs the last week):")
        for key, v in verdict.items():
            print(f"  {key:<7} {v['growth_week_2']:>8} -> {v['growth_last_week']:>8}  "
                  f"{'levels off' if v['levels_off'] else 'STILL GROWING'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "days": rows, "verdict": verdict}, indent=1) + "\n")
    print(f"\nwrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
