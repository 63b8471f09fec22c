"""Reference texts (`provmon track --reference`, a [[track]] entry's `reference = true`): press releases and wire copy
the publisher's articles draw on but do not own. Another outlet's report built from the same release shares its
paragraphs with the publisher's article and is no copy of it; a page copying the release is no copy either; a copy
of the article is still one. All texts are written for these tests."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import provmon, write_config

RELEASE = [
    "Northfield Water will invest eighteen million pounds over the next three years to replace ageing mains across "
    "the Calder valley, the company announced on Monday.",
    "\"These pipes were laid when our grandparents were children, and they have served the valley well, but they are "
    "at the end of their life,\" said chief executive Imogen Sallow. \"This programme will cut leaks by a third and "
    "make supply interruptions far rarer.\"",
    "Work will begin in Hebble Bridge in March and move east through Scarcote and Lowfold during the following two "
    "years. Residents will receive letters at least four weeks before work starts in their street.",
]

# Our report: the release's three paragraphs, with reporting of our own between them.
OURS = [
    "Water firm to spend £18m replacing Calder valley mains",
    RELEASE[0],
    "The announcement follows a summer in which hundreds of households in Hebble Bridge lost their supply for up to "
    "two days after a burst on Mill Lane, and a winter of repeated leaks in Scarcote that left roads closed for weeks.",
    RELEASE[1],
    "Local councillor Dev Aston said he welcomed the money but wanted the company to compensate traders on Mill Lane, "
    "several of whom closed for the days the road was dug up. \"A letter of apology does not pay the rent,\" he said.",
    RELEASE[2],
    "The regulator fined Northfield Water last year for missing its leakage target, and the company has promised to "
    "publish monthly figures for the valley while the work goes on.",
]

# Another outlet's report of the same release: its three paragraphs in a row, and lines of its own.
OTHER_OUTLET = [
    "£18 million pipe upgrade announced for Calder valley",
    *RELEASE,
    "Lowfold parish council chair Ben Ricketts said the village had waited years for the work. He asked the company "
    "to avoid the weeks of the Lowfold show in August, when the main road is busiest.",
    "Customers with questions can call the company's helpline, which is open seven days a week.",
]


def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, paras in (("release", RELEASE), ("ours", OURS), ("other", OTHER_OUTLET)):
        out[name] = tmp_path / f"{name}.txt"
        out[name].write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    out["copier"] = tmp_path / "copier.txt"
    out["copier"].write_text("\n\n".join([*OURS, "Leave a Reply. Your email address will not be published."]),
                             encoding="utf-8")
    return out


def test_a_report_from_the_same_release_is_no_copy_once_the_release_is_a_reference_text(tmp_path: Path) -> None:
    f = files(tmp_path)
    cfg = write_config(tmp_path / "c.toml", "")
    assert provmon("--config", str(cfg), "track", str(f["ours"])).code == 0
    # Without the release known, the other outlet's report shares three of our paragraphs, in order: a copy.
    before = provmon("--config", str(cfg), "check", str(f["other"]))
    assert before.code == 0 and "COPY (partial) of #1" in before.out, before.out
    r = provmon("--config", str(cfg), "track", "--reference", "--json", str(f["release"]))
    assert r.code == 0 and r.json_lines()[0]["reference"] is True
    after = provmon("--config", str(cfg), "check", str(f["other"]), str(f["release"]), str(f["copier"]))
    assert after.code == 0, after.out + after.err
    assert f"{f['other'].as_uri()}: no copy of a tracked article" in after.out
    assert f"{f['release'].as_uri()}: no copy of a tracked article" in after.out  # a copy of a reference: none
    assert f"{f['copier'].as_uri()}: COPY (verbatim) of #1" in after.out  # our article copied is still a copy
    listed = provmon("--config", str(cfg), "articles").out
    assert "[reference text]" in listed.splitlines()[0] and "[reference text]" not in listed.splitlines()[1]
    assert [a["reference"] for a in provmon("--config", str(cfg), "articles", "--json").json_lines()] == [True, False]


def test_a_reference_entry_of_the_config_raises_no_alert_for_pages_from_the_same_release(tmp_path: Path) -> None:
    f = files(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    for name in ("other", "copier"):
        body = "".join(f"<p>{p}</p>" for p in f[name].read_text(encoding="utf-8").split("\n\n"))
        (site / f"{name}.html").write_text(f"<html><head><title>{name}</title></head><body><article>{body}"
                                           f"</article></body></html>", encoding="utf-8")
    (site / "index.html").write_text('<html><body><a href="other.html">a</a> <a href="copier.html">b</a></body>'
                                     "</html>", encoding="utf-8")
    cfg = write_config(tmp_path / "c.toml", f"""
[[track]]
source = "{f['ours']}"

[[track]]
source = "{f['release']}"
reference = true

[[sites]]
name = "outlets"
start_urls = ["{(site / 'index.html').as_uri()}"]
""")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 0 and "1 new alert" in r.out, r.out + r.err
    assert "copier.html" in r.out and "other.html" not in r.out
