"""Session 14's audit, F15: `alerts --json` and the webhook describe an alert in the same fields, but for the two
documented differences, and `alerts --json` carries the webhook's `article` object too.

Before: a script reading both had to know that the article was `article_id`/`article_title`/`article_url` in one
and `article: {id, title, url}` in the other; nothing said which fields differed."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Webhook, demo_config, provmon


def test_alerts_json_has_the_webhook_fields_but_for_credit_and_last_check(tmp_path: Path, webhook: Webhook) -> None:
    cfg = demo_config(tmp_path, f'[[notify]]\ntype = "webhook"\nname = "hook"\nurl = "{webhook.url}"\n')
    assert provmon("--config", str(cfg), "run", "--once").code == 0
    sent = {m["alert"]["id"]: m["alert"] for m in (json.loads(r["body"]) for r in webhook.received)}
    listed = {a["id"]: a for a in provmon("--config", str(cfg), "alerts", "--json").json_lines()}
    assert sent.keys() == listed.keys() and len(sent) == 2
    for alert_id, hook in sent.items():
        line = listed[alert_id]
        assert line["article"] == hook["article"] == {"id": line["article_id"], "title": line["article_title"],
                                                      "url": line["article_url"]}
        # The two documented differences (README "Commands", docs/alerts.md "Webhook payload"): flat strings here.
        assert hook["credit"] == {"grade": line["credit"], "detail": line["credit_detail"]}
        assert hook["last_check"] == {"at": line["last_checked_at"], "result": line["last_check"]}
        # status: the webhook tells the alert as its event left it (new); it is notified once delivered.
        assert hook["status"] == "new" and line["status"] == "notified"
        same = set(hook) - {"credit", "last_check", "status"}
        assert same <= set(line) and {k: line[k] for k in same} == {k: hook[k] for k in same}, alert_id
