"""The audit corpus: 16 tracked articles and 146 pages that copy one of them or not, checked through the CLI.

    PYTHONPATH=. python bench/audit.py [--variants DIR]

All texts were written for this project (bench/audit_corpus/README.md). The hand-written ones are stored in
bench/audit_corpus/; the mechanical copies a scraper or spinner makes (the article under site furniture, in
a site's HTML, split by inline markup, with a new headline, with paragraphs dropped and reordered, synonym
spins, typographic quotes and invisible spaces, excerpts inside an unrelated text) are generated here at run
time, deterministically, into a temporary directory (or DIR, kept for inspection). The originals are tracked
into a temporary store with `provmon track --json`, every case is checked with `provmon check --json` (the
commands a user runs, in a subprocess, with this tree on PYTHONPATH), and each answer is compared with
bench/audit_corpus/expected.toml: the one tracked original the page copies, or "not". A copy matched to no
article is a miss, a non-copy matched to any is a false alarm, a copy also (or only) matched to another
article a wrong match. Prints one row per case and a summary by kind of case; writes bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import sys
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import NOT, ROOT, provmon, table, totals, verdict, write

CORPUS = Path(__file__).resolve().parent / "audit_corpus"

# ---- the mechanical variants: the audit's generator, ported unchanged in its output (the sha256 in
# ---- expected.toml pins it; the run warns when the variants differ)

# Synonyms of a crude article spinner. A word listed twice takes its last entry.
_SYN = """said:stated|told:informed|after:following|before:prior to|about:around|around:roughly|more:additional|
than:compared with|people:individuals|year:twelvemonth|years:years|first:initial|last:final|new:fresh|
would:might|could:might|also:additionally|been:remained|had:possessed|has:has got|many:numerous|several:various|
large:big|largest:biggest|small:little|big:large|very:extremely|help:assist|start:begin|began:commenced|
begin:commence|show:demonstrate|shown:demonstrated|found:discovered|find:discover|expected:anticipated|
expect:anticipate|money:cash|cut:reduction|cuts:reductions|rise:increase|rose:climbed|raised:lifted|
fell:dropped|fallen:dropped|told:advised|asked:requested|ask:request|want:wish|need:require|needs:requires|
needed:required|use:utilise|using:utilising|used:utilised|make:create|made:created|keep:retain|keeps:retains|
still:nevertheless|however:nonetheless|main:principal|major:significant|important:vital|quickly:rapidly|
quick:rapid|slowly:gradually|nearly:almost|almost:practically|around:approximately|only:merely|home:residence|
house:dwelling|houses:dwellings|car:vehicle|cars:vehicles|children:kids|family:relatives|families:households|
woman:lady|man:gentleman|old:aged|elderly:older|worked:laboured|work:labour|working:labouring|job:position|
jobs:positions|company:firm|companies:firms|business:enterprise|group:organisation|plan:scheme|plans:schemes|
report:account|reports:accounts|reported:stated|meeting:session|members:participants|money:funds|pay:compensate|
paid:compensated|cost:expense|costs:expenses|price:cost|increase:boost|problem:issue|fault:defect|damage:harm|
damaged:harmed|destroyed:wrecked|broken:smashed|broke:smashed|hit:struck|left:departed|leave:depart|
week:seven days|weeks:weeks|day:day|early:premature|late:belated|later:subsequently|next:following|
previous:prior|former:ex|local:regional|across:throughout|between:amid|within:inside|outside:exterior to|
near:close to|because:since|while:whilst|during:throughout|despite:in spite of|against:versus|every:each|
whole:entire|total:complete|full:complete|likely:probable|unusual:uncommon|difficult:hard|hard:tough|
good:decent|great:terrific|best:finest|better:superior|worse:poorer|strong:powerful|weak:feeble|high:elevated|
low:reduced|long:lengthy|short:brief|different:distinct|similar:comparable|same:identical|other:additional|
own:personal|able:capable|unable:incapable|believe:think|believed:thought|think:believe|thought:believed|
know:realise|knew:realised|seemed:appeared|seems:appears|look:glance|looked:appeared|saw:observed|see:observe|
heard:listened to|move:shift|moved:shifted|moves:shifts|travel:journey|reached:arrived at|return:come back|
returned:came back|stop:halt|stopped:halted|close:shut|closed:shut|open:accessible|opened:launched|
agreed:consented|approved:endorsed|accepted:acknowledged|warned:cautioned|added:included|described:portrayed|
explained:clarified|suggested:proposed|argued:contended|claimed:asserted|noted:observed|welcomed:applauded|
criticised:condemned|accused:charged|proposed:suggested|considered:weighed|decided:determined|allowed:permitted|
received:got|recovered:regained|affected:impacted|injured:hurt|hurt:harmed|treated:handled|tried:attempted|
try:attempt|supply:provide|supplied:provided|provide:furnish|provided:furnished|produce:generate|create:produce|
created:produced|build:construct|built:constructed|rebuilt:reconstructed|led:headed|leading:heading|run:operate|
ran:operated|team:squad|study:research|research:investigation|scientists:researchers|researchers:investigators|
evidence:proof|result:outcome|results:outcomes|effect:impact|number:quantity|level:degree|share:portion|
part:portion|area:region|region:area|town:township|village:hamlet|building:structure|road:street|roads:streets|
shop:store|shops:stores|school:academy|court:tribunal|police:law enforcement|judge:justice|deal:agreement|
merger:combination|shares:stocks|shareholders:stockholders|storm:tempest|weather:conditions|hot:scorching|
warm:mild|cold:chilly|wind:breeze|rain:downpour|crops:harvests|crop:harvest|trees:trees|fruit:produce|
minutes:mins|hours:hrs|goal:score|goals:scores|match:game|game:contest|shot:strike|won:triumphed in|win:triumph|
beat:defeated|lost:forfeited|final:decider|died:passed away|death:passing|life:existence|lives:existences|
wife:spouse|husband:spouse|daughter:girl|son:boy|friends:pals|married:wed|career:profession"""

SYN = dict(x.split(":") for x in _SYN.replace("\n", "").split("|"))
SITE = "Daily Buzz Hub"
FURNITURE_TOP = "DailyBuzzHub.net\nHome | News | Sport | Celebs | Contact\nYou are here: Home > News\n\n"
FURNITURE_END = (
    "\n\nShare this:\nFacebook\nTwitter\nWhatsApp\n\nRelated Posts\n10 celebrities who lost weight fast\n\n"
    "Leave a Reply\nYour email address will not be published. Required fields are marked *\nComment\nName *\n"
    "Email *\nPost Comment\n\nCopyright 2024 DailyBuzzHub. All rights reserved.\n"
)
HEADLINE = "You Won't Believe What Happened Next: The Full Story"
AD = '<div class="ad-slot"><span>ADVERTISEMENT</span><p>Get 50% off premium VPN today only!</p></div>'
READ_MORE = '<p><strong>READ MORE:</strong> <a href="/x">Ten things you did not know about bread</a></p>'
COMMENTS = (
    '<section class="comments"><h3>3 Comments</h3><div class="comment"><b>Jake99</b><p>This is a disgrace, '
    'somebody should do something about it.</p></div><div class="comment"><b>Marie L</b><p>Great article thanks '
    'for sharing.</p></div><div class="comment"><b>bob</b><p>first!!</p></div></section>'
)
# c_excerpt15, made for two articles only: the 3rd and 4th paragraphs of the body (despite the name, about a
# quarter of its words) inside this filler
EXCERPT15 = {"a1": "f1_garden.txt", "a5": "f2_travel.txt"}


def spin(text: str, rate: float, seed: str) -> str:
    """Replace each word that has a synonym with probability `rate` (the same draws for the same seed)."""
    rnd = random.Random(seed)

    def rep(m: re.Match) -> str:
        w = m.group(0)
        s = SYN.get(w.lower())
        if s is not None and rnd.random() < rate:
            return s.capitalize() if w[0].isupper() else s
        return w

    return re.sub(r"[A-Za-z]+", rep, text)


def paras(text: str) -> list[str]:
    return text.strip().split("\n\n")


def curly(t: str) -> str:
    """Typographic quotes, apostrophes and dashes, no-break spaces, a zero-width space after each pound sign."""
    t = re.sub(r'"(\S)', "\u201c\\1", t)
    t = t.replace('"', "\u201d")
    t = t.replace("'", "\u2019").replace(" - ", " \u2014 ")
    t = re.sub(r"(\d) (per|million|billion|litre|metres|minutes|votes|hours)", "\\1\u00a0\\2", t)
    t = re.sub(r"(£)(\d)", "\\1\u200b\\2", t)
    return t.replace(", ", ",\u00a0", 3)


def esc(s: str) -> str:
    return html.escape(s, quote=False)


def site_page(title: str, body_html: str, site: str = SITE) -> str:
    """A content-farm page around `body_html`: menu, share buttons, related posts, comment form, sidebar, footer."""
    t = html.escape(title)
    return "\n".join([
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{t} | {site}</title></head><body>',
        f'<header><div class="logo">{site}</div><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News'
        '</a></li><li><a href="/sport">Sport</a></li><li><a href="/celebs">Celebs</a></li><li><a href="/contact">'
        'Contact</a></li></ul></nav></header>',
        f'<div class="wrap"><main><article class="post"><h1 class="entry-title">{t}</h1><div class="meta">'
        'Posted by admin on March 3 | 0 comments</div>',
        f'<div class="entry-content">{body_html}</div></article>',
        '<div class="share">Share this: <a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">WhatsApp</a>'
        '</div>',
        '<section class="related"><h3>Related Posts</h3><ul><li><a href="/a">10 celebrities who lost weight fast'
        '</a></li><li><a href="/b">Crypto prices today: what you need to know</a></li><li><a href="/c">Best budget '
        'phones of the year</a></li></ul></section>',
        '<div id="comments"><h3>Leave a Reply</h3><p>Your email address will not be published. Required fields are '
        'marked *</p><form><textarea name="comment"></textarea><input name="author" placeholder="Name*"><input '
        'name="email" placeholder="Email*"><button>Post Comment</button></form></div></main>',
        '<aside class="sidebar"><div class="widget"><h4>Trending</h4><ul><li><a href="/t1">You won\'t believe '
        'what this actor looks like now</a></li><li><a href="/t2">Doctors hate this one simple trick</a></li></ul>'
        '</div><div class="widget ad">Advertisement<br>Buy cheap watches online, free shipping worldwide!</div>'
        '</aside></div>',
        f'<footer><p>Copyright 2024 {site}. All rights reserved.</p><p><a href="/privacy">Privacy Policy</a> | '
        '<a href="/dmca">DMCA</a> | <a href="/about">About Us</a></p></footer></body></html>',
    ])


def split_page(head: str, body: list[str], glued: bool) -> str:
    """Sentences alternately in <span> and <em>, a tag link mid-paragraph, ads and a READ MORE between
    paragraphs, reader comments. `glued`: the link's opening tag follows the previous word with no space."""
    parts = []
    for i, p in enumerate(body):
        sents = re.split(r"(?<=[.!?\"”]) (?=[A-Z\"“])", p)
        ph = "".join(f'<span class="s{j}">{esc(s)} </span>' if j % 2 == 0 else f"<em>{esc(s)}</em> "
                     for j, s in enumerate(sents))
        ws = ph.split(" ")
        k = len(ws) // 2
        link = '<a href="/tag/news">' if glued else ' <a href="/tag/news">'
        parts.append(f"<p>{' '.join(ws[:k]) + link + ws[k] + '</a> ' + ' '.join(ws[k + 1:])}</p>")
        if i % 2 == 1:
            parts.append(AD)
        if i == 3:
            parts.append(READ_MORE)
    return site_page(head, "\n".join(parts)).replace('<div id="comments">', COMMENTS + '<div id="comments">')


def excerpt(body: list[str], share: float) -> list[str]:
    """Paragraphs from the third one on, until they hold `share` of the body's words."""
    words = sum(len(p.split()) for p in body)
    acc, out = 0, []
    for p in body[2:]:
        out.append(p)
        acc += len(p.split())
        if acc >= share * words:
            break
    return out


def embed(filler: str, paragraphs: list[str]) -> str:
    """`paragraphs` between the two halves of the filler text's paragraphs."""
    fil = paras(filler)
    mid = len(fil) // 2
    return "\n\n".join(fil[:mid] + paragraphs + fil[mid:]) + "\n"


def variants(original: Path) -> dict[str, str]:
    """The mechanical copies of one original (orig/aN_*.txt), by file name."""
    a = original.name.split("_")[0]
    t = original.read_text(encoding="utf-8")
    head, *body = paras(t)
    keep = [p for i, p in enumerate(body) if i % 3 != 1]  # a third of the paragraphs dropped, the rest shuffled
    random.Random(a).shuffle(keep)
    filler = (CORPUS / "filler" / ("f1_garden.txt" if int(a[1:]) % 2 else "f2_travel.txt")).read_text(encoding="utf-8")
    out = {
        "c_verbatim_furniture.txt": FURNITURE_TOP + t.strip() + FURNITURE_END,
        "c_verbatim_site.html": site_page(head, "".join(f"<p>{esc(p)}</p>\n" for p in body)),
        "c_headline.txt": HEADLINE + "\n\n" + "\n\n".join(body) + "\n",
        "c_dropreorder.txt": head + "\n\n" + "\n\n".join(keep) + "\n",
        "c_synonym_light.txt": spin(t, 0.5, a + "c_synonym_light"),
        "c_synonym_heavy.txt": spin(t, 1.0, a + "c_synonym_heavy"),
        "c_unicode.txt": curly(t),
        "c_excerpt30.txt": embed(filler, excerpt(body, 0.3)),
        "c_html_split.html": split_page(head, body, glued=False),
        "c_html_glued.html": split_page(head, body, glued=True),
    }
    if a in EXCERPT15:
        out["c_excerpt15.txt"] = embed((CORPUS / "filler" / EXCERPT15[a]).read_text(encoding="utf-8"), body[2:4])
    return out


def generate(out: Path) -> dict[str, Path]:
    """Write every mechanical variant under out/cases/aN/; their paths by case name (cases/aN/FILE)."""
    written = {}
    for original in sorted((CORPUS / "orig").glob("a*.txt")):
        a = original.name.split("_")[0]
        for name, text in variants(original).items():
            path = out / "cases" / a / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            written[f"cases/{a}/{name}"] = path
    return written


def digest(paths: dict[str, Path]) -> str:
    h = hashlib.sha256()
    for name in sorted(paths):
        h.update(name.encode() + b"\0" + paths[name].read_bytes() + b"\0")
    return h.hexdigest()


# ---- the run



def kind_of(case: str, expected: str) -> tuple[str, str]:
    """(kind of case, "copy" or "not"): cases/a1/c_synonym_light.txt -> ("synonym_light", "copy"); edge files
    are one kind."""
    stem = Path(case).stem
    kind = "edge" if case.startswith("edge/") else stem.split("_", 1)[1]
    return kind, ("not" if expected == NOT else "copy")



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", type=Path, help="write the generated variants into this directory and keep them")
    args = ap.parse_args()
    spec = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
    expected: dict[str, str] = spec["cases"]
    originals = sorted((CORPUS / "orig").glob("*.txt")) + sorted((CORPUS / "edge").glob("*_orig.txt"))
    names = {p.name for p in originals}
    if bad := {c: e for c, e in expected.items() if e != NOT and e not in names}:
        sys.exit(f"expected.toml names originals that are not in orig/ or edge/: {bad}")
    with tempfile.TemporaryDirectory(prefix="provmon-audit-") as tmp:
        work = Path(tmp)
        out = args.variants.resolve() if args.variants else work / "variants"
        generated = generate(out)
        stored = {p.relative_to(CORPUS).as_posix(): p
                  for p in sorted((CORPUS / "cases").rglob("*")) + sorted((CORPUS / "edge").glob("*"))
                  if p.is_file() and not p.name.endswith("_orig.txt")}
        files = {**stored, **generated}
        if set(files) != set(expected) or set(stored) & set(generated):
            sys.exit(f"expected.toml and the corpus disagree: no answer for {sorted(set(files) - set(expected))}, "
                     f"no file for {sorted(set(expected) - set(files))}, "
                     f"both stored and generated: {sorted(set(stored) & set(generated))}")
        gen_digest = digest(generated)
        if gen_digest != spec.get("generated", {}).get("sha256"):
            print(f"warning: the generated variants differ from those expected.toml pins (sha256 {gen_digest})")
        config = work / "config.toml"
        config.write_text(f"[monitor]\ndatabase = {json.dumps(str(work / 'audit.db'))}\n", encoding="utf-8")
        tracked = provmon(config, "track", "--json", *map(str, originals))
        article = {t["id"]: Path(t["url"]).name for t in tracked if "id" in t}  # the url's last segment: file name
        if len(article) != len(originals):
            sys.exit(f"tracked {len(article)} articles from {len(originals)} originals: {tracked}")
        cases = sorted(expected)
        by_url = {files[c].resolve().as_uri(): c for c in cases}
        checked = provmon(config, "check", "--json", *(str(files[c]) for c in cases))
        answers = {by_url.get(r["url"], r["url"]): r for r in checked}
    results, rows = [], []
    for case in cases:
        exp, r = expected[case], answers.get(case, {"error": "no answer"})
        matches = [{"original": article[c["article"]["id"]], "kind": c["kind"], "coverage": c["coverage"],
                    "page_share": c["page_share"], "longest_run": c["longest_run"], "passages": len(c["passages"])}
                   for c in r.get("copies", [])]
        v = "ERROR" if "error" in r else verdict(exp, [m["original"] for m in matches])
        kind = kind_of(case, exp)[0]
        results.append({"file": case, "expected": exp, "generated": case in generated, "kind": kind,
                        "matches": matches, "verdict": v, **({"error": r["error"]} if "error" in r else {})})
        got = "; ".join(f"{m['original']} {m['kind']} {m['coverage']:.2f}/{m['page_share']:.2f}" for m in matches)
        rows.append([case, exp, got or "-", v])
    print(table(rows, ["file", "expected", "got: original kind coverage/page share", "verdict"]))

    groups: dict[tuple[str, str], Counter] = {}
    for r in results:
        g = groups.setdefault(kind_of(r["file"], r["expected"]), Counter())
        g["files"] += 1
        g["generated"] += r["generated"]
        g[r["verdict"]] += 1
    summary = [{"kind": k, "case": w, "files": g["files"], "generated": g["generated"], "right": g["ok"],
                "missed": g["MISSED"], "false_alarms": g["FALSE ALARM"],
                "wrong_matches": g["EXTRA MATCH"] + g["WRONG ARTICLE"], "errors": g["ERROR"]}
               for (k, w), g in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0] == "edge", kv[0][0]))]
    print("\nBy kind of case (generated: files made by this script, the rest are hand-written)")
    print(table([[s["kind"], s["case"], s["files"], s["generated"], s["right"], s["missed"], s["false_alarms"],
                  s["wrong_matches"], s["errors"]] for s in summary],
                ["kind", "case", "files", "generated", "right", "missed", "false alarms", "wrong matches", "errors"]))
    summary_totals = totals(results)
    for r in results:
        if r["verdict"] != "ok":
            print(f"  {r['verdict']}: {r['file']} (expected {r['expected']})")
    out = write("audit.json", {"totals": summary_totals, "by_kind": summary, "generated_sha256": gen_digest,
                               "cases": results})
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
