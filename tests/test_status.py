"""`provmon status` tells which sites are failing, and why, as the crawler last judged them."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.conftest import demo_config, provmon, serve


class Forbidden(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(403)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>Access denied</body></html>")

    def log_message(self, *args: Any) -> None:
        pass


def test_status_shows_a_blocking_site_and_its_reason(tmp_path: Path) -> None:
    served = serve(Forbidden)
    try:
        extra = f'\n[[sites]]\nname = "blocker"\nstart_urls = ["{served.base}/"]\nallow_private = true\n'
        cfg = demo_config(tmp_path, extra)
        assert provmon("--config", str(cfg), "run", "--once").code == 0
        status = json.loads(provmon("--config", str(cfg), "status", "--json").out)
        sites = {s["site"]: s for s in status["sites"]}
        assert sites["blocker"]["health"] == "failing"
        assert "403" in sites["blocker"]["health_reason"]
        assert sites["demo-scraper"].get("health", "ok") == "ok"
        human = provmon("--config", str(cfg), "status").out
        assert "site failing since" in human and "403" in human
    finally:
        served.stop()
