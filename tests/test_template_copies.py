"""A site's template is its furniture, never a tracked article's text.

On a small copier site the paragraphs of a copied article can be on most of its pages (the post and a second and third
copy of it), which is what the template learner counts as the site's boilerplate. A page that pastes those paragraphs
beside other text must still be found to copy them: before, they were dropped as template before matching, the
excerpt was never alerted, and once the full copies were taken down the recheck called the copy gone while the
excerpt stayed online."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.store import Store
from tests.conftest import Served, provmon, rows, write_config

FERRY = [
    "The Kessock ferry will run again from the first of June, eleven years after the last crossing, the harbour "
    "trust said on Tuesday after its board approved a two-year trial.",
    "A restored boat, the Marie Dunlin, will make eight return trips a day between the north slip and the town pier, "
    "carrying up to forty foot passengers and twelve bicycles on each crossing.",
    "Trust chair Aileen Moffat said the service had been the most requested change in three public surveys, and that "
    "the trial would be judged on passenger numbers rather than on profit.",
    "Tickets will cost three pounds for adults, with children under twelve travelling free; a book of twenty crossings "
    "will be sold at the harbour office for forty-five pounds.",
    "Residents of the north shore currently face a fourteen-mile drive round the firth to reach the town, and the "
    "nearest bus runs only twice a day outside school terms.",
    "The trust expects the first summer to show whether a year-round timetable is possible, and will publish the "
    "trial's passenger counts each quarter on its website.",
]
ORCHARD = [
    "A community orchard planted on the old bowling green in Dunmore Street produced its first real harvest this "
    "autumn, four seasons after volunteers dug in sixty saplings donated by a nursery that was closing down.",
    "The growers picked more than three hundred kilograms of apples and pears over two weekends in October, most of "
    "it shared among the households who had turned up to help with pruning and mulching through the year.",
    "Organiser Tomasz Rybak said the surplus went to the food bank on Kirk Lane and to the primary school, whose "
    "pupils pressed it into juice on a borrowed hand press during an afternoon of lessons about local food.",
    "The group now wants to add a hedge of hazel and damson along the railings, and has asked the council for a water "
    "connection so that the youngest trees no longer depend on cans carried from the library tap next door.",
    "A plaque listing the varieties, some of them old local apples rescued from cuttings, is to be unveiled at a "
    "blossom day next spring, when the orchard will also host a grafting class for anyone who wants to learn.",
    "Anyone wishing to join can come to the work mornings held on the first Saturday of each month from nine, and "
    "gloves, tools and tea are provided by the group.",
]


def html(title: str, paragraphs: list[str], extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}{extra}"
            "</article><footer>Copyright Daily Scrape. Leave a reply below.</footer></body></html>")


def index(*pages: str) -> str:
    return "<html><body>" + "".join(f"<a href='/{p}'>{p}</a> " for p in pages) + "</body></html>"


def ferry_addresses(db: Path, article_id: int) -> dict[str, str]:
    """Each address of an alert of the ferry story that carries its copy, and that alert's status."""
    with Store(db) as store:
        return {a.url.rsplit("/", 1)[1]: alert["status"]
                for alert in rows(db, "SELECT id, status FROM alerts WHERE article_id = ?", article_id)
                for a in store.address_states(alert["id"]) if a.present}


def test_an_excerpt_on_a_small_copier_site_is_found_though_its_paragraphs_recur(
        tmp_path: Path, http_dir: Callable[[Path], Served]) -> None:
    originals = tmp_path / "originals"
    originals.mkdir()
    (originals / "ferry.txt").write_text("Ferry returns to the firth\n\n" + "\n\n".join(FERRY) + "\n")
    (originals / "orchard.txt").write_text("Orchard's first harvest\n\n" + "\n\n".join(ORCHARD) + "\n")
    site = tmp_path / "site"
    site.mkdir()
    for name in ("a.html", "b.html", "c.html"):  # the story three times: its paragraphs are on 3 of the 4 pages
        (site / name).write_text(html("Ferry is back", FERRY))
    (site / "index.html").write_text(index("a.html", "b.html", "c.html"))
    served = http_dir(site)
    cfg = write_config(tmp_path / "config.toml", f"""
[fetch]
min_delay = 0.0
max_retries = 0

[[track]]
source = "{originals / 'ferry.txt'}"

[[track]]
source = "{originals / 'orchard.txt'}"

[[sites]]
name = "scrape"
start_urls = ["{served.base}/index.html"]
allow_private = true
""")
    db = tmp_path / "provmon.db"
    first = provmon("--config", str(cfg), "run", "--once")
    assert first.code == 0, first.err
    assert ferry_addresses(db, 1) == {"a.html": "new", "b.html": "new", "c.html": "new"}

    # A digest page: four of the ferry story's paragraphs (now the site's template) beside the orchard story's.
    (site / "digest.html").write_text(html("Weekend digest", FERRY[:4] + ORCHARD[:4]))
    (site / "index.html").write_text(index("a.html", "b.html", "c.html", "digest.html"))
    second = provmon("--config", str(cfg), "run", "--once")
    assert second.code == 0, second.err
    assert ferry_addresses(db, 1).get("digest.html") == "new", second.err
    assert [r["page_url"].rsplit("/", 1)[1] for r in rows(db, "SELECT page_url FROM matches WHERE article_id = 2")] \
        == ["digest.html"]

    # The full copies are taken down; the digest stays online (edited): the ferry story is still copied there.
    for name in ("a.html", "b.html", "c.html"):
        (site / name).unlink()
    (site / "digest.html").write_text(html("Weekend digest", FERRY[:4] + ORCHARD[:4], "<p>Updated at noon.</p>"))
    (site / "index.html").write_text(index("digest.html"))
    assert provmon("--config", str(cfg), "recheck").code == 0
    third = provmon("--config", str(cfg), "run", "--once")
    assert third.code == 0, third.err
    assert ferry_addresses(db, 1) == {"digest.html": "new"}, third.err
