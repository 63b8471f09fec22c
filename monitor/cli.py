"""The `provmon` command.

Exit status: 0 success (for `check`: a copy was found), 1 `check` found no copy or `status` found a
problem (the service stalled or stopped, a site overdue or failing, a publisher's feed failing, a notification
channel failing), 2 bad input (config, source, a [[publishers]] feed in `run --once`, database, a `check` with
nothing tracked), 130 interrupted, 141 the output was cut (its reader went away) while the command ran, so its
result is unknown; cut only after the command finished, its own status.
"""

from __future__ import annotations

import argparse
import errno
import faulthandler
import logging
import os
import re
import shutil
import signal
import sqlite3
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.alerts import (
    hidden_share,
    hidden_text,
    ignore_rule_for,
    is_licensed,
    licensed_open_note,
    rule_text,
    unwatched_site_notes,
    webhook_payload,
)
from monitor.config import (
    CONFIG_ENV,
    URL_SCHEME,
    Config,
    ConfigError,
    IntervalTooLong,
    Site,
    load_config,
    parse_interval,
    public_url_problem,
    to_url,
)
from monitor.crawl import backlog as crawl_backlog
from monitor.crawl import left_text
from monitor.display import json_text, percent, plural, safe
from monitor.extract import Extracted
from monitor.fetch import Fetcher, FetchResult, file_path, now_iso, shown_path
from monitor.index import IndexFileError
from monitor.logs import setup_logging
from monitor.match import NARRATIVE_WORDS, Prepared, findable
from monitor.notify import deliver_pending, send_test, stranded_notes
from monitor.progress import Progress, same_terminal
from monitor.publishers import publisher_label
from monitor.scan import (
    PREPARED_CHARS,
    REFERENCE,
    Closest,
    Found,
    NoText,
    Original,
    PreparedCache,
    SourceError,
    citations,
    closest,
    find_copies,
    make_fetcher,
    make_verifier,
    near_duplicate_warning,
    own_version,
    read_source,
    recheck_alerts,
    track_texts,
    tracked_url,
)
from monitor.scheduler import Service, site_period
from monitor.store import ALERT_STATES, OPEN_STATES, Article, Store, StoreError, readonly_reason
from monitor.urls import canonical, same_page

log = logging.getLogger("monitor")

EXIT_OK, EXIT_NO_COPY, EXIT_USAGE = 0, 1, 2
EXIT_PIPE = 141  # output cut while the command ran: what a shell reports for a command ended by SIGPIPE (128 + 13)
TRACK_BATCH = 200  # articles per transaction when tracking many


DOCUMENT_SUFFIXES = (".txt", ".text", ".html", ".htm", ".xhtml")


def echo(text: str = "", *, err: bool = False, end: str = "\n") -> None:
    """Print a line for people (to stderr with `err`). Page text, titles, URLs and error messages come from pages
    anyone can write: control characters and bidi overrides in them are shown escaped (monitor.display), never
    sent to the terminal. JSON output goes through monitor.display.json_text, which writes them as \\u escapes."""
    print(safe(text), end=end, file=sys.stderr if err else sys.stdout)


def _path_url(path: str | Path) -> str:
    """A file:// URL for a path as given, symbolic links not followed (for errors about the link itself)."""
    return Path(os.path.abspath(path)).as_uri()


def expand_sources(args: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """URLs and files as given, directories as the documents under them (.txt and .html, recursively, in
    name order, hidden ones skipped, symlinked directories followed); returns (urls, [(url, error message)]).

    A file is known by its resolved path, so one reached twice (two links, a folder and a file in it) is
    read once."""
    urls: list[str] = []
    errors: list[tuple[str, str]] = []
    for a in args:
        path = Path(a)
        if not a.strip():  # Path("") is ".": an unset shell variable would name every document under the cwd
            errors.append((a, f"{a!r}: an empty argument names no file, directory or URL (an unset shell variable?); "
                              "write . for the current directory"))
        elif URL_SCHEME.match(a):
            urls.append(a)
        elif path.is_dir():
            before = len(errors)
            files = _documents(path, errors)
            if not files and len(errors) == before:
                errors.append((_path_url(a), f"{a}: no {', '.join(DOCUMENT_SUFFIXES)} files in this directory"))
            urls.extend(p.resolve().as_uri() for p in files)
        elif why := _broken_link(path):
            errors.append((_path_url(a), why))
        else:
            urls.append(to_url(a, Path.cwd()))
    return list(dict.fromkeys(urls)), errors


def _broken_link(path: Path) -> str:
    """Why `path` is a symbolic link that leads nowhere (a missing target, a loop); "" when it is not one."""
    try:
        os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            return f"{shown_path(path)}: broken symbolic link to {os.readlink(path)}: {exc.strerror}"
    return ""


def _documents(root: Path, errors: list[tuple[str, str]]) -> list[Path]:
    """The documents under `root`, hidden files and directories skipped; a directory that cannot be read,
    or a link that leads nowhere, is an error naming it (a glob would pass over both without a word).
    Symlinked directories are followed, each directory once (by device and inode), so a link back up the
    tree is no loop."""
    def unreadable(exc: OSError) -> None:
        errors.append((_path_url(exc.filename), f"{exc.filename}: cannot read this directory: {exc.strerror}"))

    seen: set[tuple[int, int]] = set()
    found = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError as exc:  # gone since it was listed
            unreadable(exc)
            st = None
        if st is None or (st.st_dev, st.st_ino) in seen:
            dirnames.clear()
            continue
        seen.add((st.st_dev, st.st_ino))
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            p = Path(dirpath, name)
            suffix = p.suffix.lower()
            if suffix in DOCUMENT_SUFFIXES and p.is_file():
                found.append(p)
            # a broken link named like a document, or with no suffix (it may have led to a directory)
            elif (not suffix or suffix in DOCUMENT_SUFFIXES) and (why := _broken_link(p)):
                errors.append((_path_url(p), why))
    return sorted(found)


def _progress(args: argparse.Namespace, total: int, label: str) -> Progress:
    return Progress(total, label, sys.stderr, enabled=sys.stderr.isatty() and not args.json)


def _stdout_under_bar(progress: Progress) -> bool:
    """Whether stdout is the terminal the bar is drawn on: there a line per input would scroll it away, so
    only copies and errors are printed (clearing the bar first). Into a file or a pipe every line goes."""
    return progress.enabled and same_terminal(sys.stdout, progress.stream)


def side_by_side(left: str, right: str, width: int) -> str:
    col = max(20, (width - 3) // 2)
    a = textwrap.wrap(left, col) or [""]
    b = textwrap.wrap(right, col) or [""]
    n = max(len(a), len(b))
    a += [""] * (n - len(a))
    b += [""] * (n - len(b))
    return "\n".join(f"{x:<{col}} | {y}" for x, y in zip(a, b, strict=True))


def cmd_init(cfg: Config, args: argparse.Namespace) -> int:
    with Store(cfg.database_path) as store:
        echo(f"database ready: {cfg.database_path} (schema {store.schema_version()}, "
             f"{plural(store.article_count(), 'tracked article')})")
    return EXIT_OK


def configured_addresses(cfg: Config) -> dict[str, str]:
    """The [[track]] sources, as the file:// URL (or URL) read -> the public address its `url` gives ("" for none:
    then it is tracked where its page says, scan.tracked_url)."""
    return {cfg.resolve_source(t.source): canonical(t.url) if t.url else "" for t in cfg.track}


def _known_address(configured: dict[str, str], store: Store, source: str) -> str:
    """The address the article read from `source` is tracked under when that is not the source itself: its [[track]]
    entry's `url`, else where the store's current article read from it lives (`track FILE --url URL` before); ""
    when neither says."""
    if public := configured.get(source):
        return public
    article = store.tracked_from(source)
    return article.url if article is not None and article.url != source else ""


def cmd_track(cfg: Config, args: argparse.Namespace) -> int:
    sources, errors = expand_sources(args.sources)
    for option, value in (("--title", args.title), ("--url", args.url)):
        if value and len(sources) > 1:
            echo(f"error: {option} names one article, but {len(sources)} sources were given", err=True)
            return EXIT_USAGE
    public = canonical(args.url) if args.url else ""
    configured = configured_addresses(cfg)
    progress = _progress(args, len(sources), "track")
    quiet = _stdout_under_bar(progress)
    counts = {"tracked": 0, "already tracked": 0, "errors": len(errors)}

    def say(line: str, obj: dict[str, Any], err: bool = False) -> None:
        if args.json:
            # "url" as in check and extract; "source" is its old name here, kept for existing scripts
            print(json_text({"url": obj["source"], **obj}), flush=True)
        if err:
            progress.clear()
            echo(f"error: {line}", err=True)
        elif not args.json and not quiet:
            echo(line)

    for source, e in errors:
        say(e, {"source": source, "error": e}, err=True)
    batch: list[Original] = []

    def flush() -> None:
        tracked = track_texts(store, batch, near_duplicates=True)
        # Where each was read from (schema 16): `check` of that file is the article itself, and the file tracked
        # again after an edit replaces this article wherever it is tracked (its public URL). Recorded just after
        # the articles (track_texts commits them itself); lost only to a crash in between, and tracking the file
        # again records it then.
        store.set_sources((t.id, o.source or o.url, t.created) for o, t in zip(batch, tracked, strict=True))
        if args.reference:
            store.set_reference(t.id for t in tracked)
        for o, t in zip(batch, tracked, strict=True):
            state = "tracked" if t.created else "already tracked"
            counts[state] += 1
            again = (f", tracked again: takes over #{t.replaces}, untracked before, and its alerts" if t.again else
                     f", replaces #{t.replaces}: its text changed" if t.replaces else "")
            title = t.title
            if args.title and title != args.title:  # --title renames an article tracked before
                store.set_title(t.id, args.title)
                again += f", renamed from {title!r}"
                title = args.title
            if public and (was := store.article(t.id).url) != public:  # the text was tracked before, at its file
                store.set_url(t.id, public)
                again += f", public URL set (was {was})"
            # The address the article is stored under, which for a text tracked before is not the input's own (its
            # first file, its public URL): the one notices cite and `alerts` shows. A new one is stored under o.url.
            stored = o.url if t.created else store.article(t.id).url
            read_from = o.source or o.url
            near = t.near_duplicate
            kind = "reference text " if args.reference else ""
            # The stored text's length: a file tracked before with other line ends or spacing is the same article
            chars = t.chars if t.created else len(store.article(t.id).text)
            say(f"{state} {kind}#{t.id}: {title or stored} ({plural(chars, 'char')}{again}) {stored}",
                {"source": read_from, "id": t.id, "created": t.created, "replaces": t.replaces,
                 "title": title, "chars": chars, "article_url": stored, "reference": args.reference,
                 **({"near_duplicate_of": near[0]} if near else {}), **({"again": True} if t.again else {})})
            if warning := near_duplicate_warning(store, t, stored):
                progress.clear()
                echo(f"warning: {warning}", err=True)
            if (t.created and not args.reference and len(o.text) < SHORT_TEXT
                    and not findable(Prepared.of(o.text), cfg.match)):
                progress.clear()
                need, key = min((cfg.match.min_run, "match.min_run"), (cfg.match.min_passages, "match.min_passages"))
                echo(f"warning: #{t.id} is too short to be found in a copy: a copy needs {need} of its sentences "
                     f"with {NARRATIVE_WORDS} or more words that are not stop words ({key}), and it has fewer",
                     err=True)
        progress.advance(len(batch))
        batch.clear()

    with Store(cfg.database_path) as store, make_fetcher(cfg) as fetcher:
        for url in sources:
            try:
                page = read_source(fetcher, url)
            except SourceError as exc:
                counts["errors"] += 1
                say(str(exc), {"source": url, "error": str(exc)}, err=True)
                progress.advance()
                continue
            original = Original.of(url, page, args.title)
            # A file names no public address (a .txt cannot): --url gives the one notices cite and copies credit.
            # Without it, a file that names none is tracked where it was before (`track FILE --url URL`, or a
            # [[track]] url): its edited text replaces that article rather than becoming a second one.
            address = public or (_known_address(configured, store, url) if original.url == canonical(url) else "")
            batch.append(replace(original, url=address) if address else original)
            if len(batch) >= TRACK_BATCH:
                flush()
        flush()
    progress.close()
    if len(sources) > 1 and not args.json:
        echo(f"{counts['tracked']} tracked, {counts['already tracked']} already tracked, "
             f"{plural(counts['errors'], 'error')} "
             f"({cfg.database_path})")
    return EXIT_USAGE if counts["errors"] else EXIT_OK


def cmd_articles(cfg: Config, args: argparse.Namespace) -> int:
    with Store(cfg.database_path) as store:
        rows = store.tracked_articles(search=args.search or "", untracked=args.untracked, limit=args.limit)
    if args.json:
        for row in rows:
            print(json_text(row))
        return EXIT_OK
    if not rows:
        what = "untracked articles kept for their alerts" if args.untracked else "tracked articles"
        echo(f"no {what}" + (f" matching {args.search!r}" if args.search else ""))
        return EXIT_OK
    for r in rows:
        when = f"untracked {r['untracked_at'][:10]}" if args.untracked else f"added {r['added_at'][:10]}"
        read_from = f"  (from {r['source']})" if r["source"] and r["source"] != r["url"] else ""
        ref = "  [reference text]" if r["reference"] else ""
        echo(f"#{r['id']:<5} {when}  {plural(r['alerts'], 'alert'):>9}, {r['open_alerts']} open  "
             f"{r['title'] or '(no title)'}  <{r['url']}>{read_from}{ref}")
    return EXIT_OK


def _article_inputs(store: Store, inputs: Sequence[str], fetcher: Fetcher | None = None,
                    notes: list[tuple[str, str]] | None = None) -> tuple[list[int], list[tuple[str, str]]]:
    """The article ids `untrack` is given: ids (`12` or `#12`), the address an article is stored under, or the URL,
    file or directory it was tracked from; returns (ids, [(input, error)]). With `fetcher`, a file nothing was
    tracked from whose text is a tracked article's (`track` said "already tracked #N": tracked from another file)
    is a note in `notes`, not an error: untracking the directory `track` was given undoes it."""
    ids: list[int] = []
    errors: list[tuple[str, str]] = []
    for given in inputs:
        if re.fullmatch(r"#?[0-9]+", given):
            ids.append(int(given.lstrip("#")))
            continue
        if re.match(r"#[0-9]", given):  # meant as an id ("#1x"), not a file under the cwd ("#draft.txt" is one)
            errors.append((given, f"{given!r} is not an article id (a whole number, 12 or #12; provmon articles "
                                  "lists them)"))
            continue
        urls, unreadable = expand_sources([given])
        errors += unreadable
        for url in urls:
            found = store.articles_at(url) or store.articles_at(canonical(url))
            twin = _tracked_elsewhere(store, fetcher, url) if not found and fetcher is not None else None
            if twin is not None and notes is not None:
                notes.append((url, f"{url}: its text is #{twin[0]}'s, tracked from {twin[2] or twin[1]}, not from "
                                   f"this file: left tracked (untrack #{twin[0]} to stop tracking it)"))
            elif not found:
                errors.append((url, f"{url}: no article is tracked under or from this address "
                                    "(provmon articles lists them)"))
            ids += found
    return list(dict.fromkeys(ids)), errors


def _tracked_elsewhere(store: Store, fetcher: Fetcher, url: str) -> tuple[int, str, str | None] | None:
    """The tracked article whose text a local file holds (read as `track` reads it), or None."""
    if not url.startswith("file:"):
        return None
    try:
        return store.tracked_with_text(read_source(fetcher, url).text)
    except (NoText, SourceError):
        return None


def cmd_untrack(cfg: Config, args: argparse.Namespace) -> int:
    configured = configured_addresses(cfg)
    failed = False
    notes: list[tuple[str, str]] = []
    with Store(cfg.database_path) as store, make_fetcher(cfg) as fetcher:
        ids, errors = _article_inputs(store, args.articles, fetcher, notes)
        for given, note in notes:
            if args.json:
                print(json_text({"url": given, "outcome": "tracked from elsewhere", "note": note}), flush=True)
            else:
                echo(note)
        for given, why in errors:
            failed = True
            echo(f"error: {why}", err=True)
            if args.json:
                print(json_text({"url": given, "error": why}), flush=True)
        sources = store.sources_of(ids)  # before untrack deletes the rows of articles that have no alerts
        done = store.untrack(ids)
        newer = {u.id: n for u in done if u.outcome == "unknown" and (n := store.replaced_by(u.id)) is not None}
    public = {v for v in configured.values() if v}  # the [[track]] entries' `url`s ("" for none)
    for u in done:
        if args.json:
            print(json_text({"id": u.id, "outcome": u.outcome, "title": u.title, "url": u.url, "alerts": u.alerts,
                             "open_alerts": u.open_alerts, "removed_alerts": u.removed_alerts}), flush=True)
        if u.outcome == "unknown":
            failed = True
            if u.id in newer:  # the id a message named, before the text changed
                echo(f"error: {cfg.database_path}: #{u.id} was replaced by #{newer[u.id]} when its text changed: "
                     f"untrack #{newer[u.id]}", err=True)
            else:
                echo(f"error: {cfg.database_path}: no tracked article #{u.id} (provmon articles lists them)",
                     err=True)
            continue
        if not args.json:
            kept = ""
            if u.alerts:
                # Rechecks go on for open and removed alerts (a removed copy back is reopened and told): said, with
                # the way to stop them.
                still = [f"{u.open_alerts} open" if u.open_alerts else "",
                         f"{u.removed_alerts} removed" if u.removed_alerts else ""]
                watched = " and ".join(w for w in still if w)
                kept = (f" ({plural(u.alerts, 'alert')} kept in the log"
                        + (f", {watched}: still rechecked (a removed copy back is reopened and notified) until "
                           f"ignored" if watched else "") + ")")
            echo(f"{u.outcome} #{u.id}: {u.title or u.url}{kept} {u.url}")
        if u.outcome == "untracked" and (sources.get(u.id) in configured or u.url in configured or u.url in public):
            echo(f"warning: #{u.id} is a [[track]] entry of {cfg.path}: the service and provmon run track it "
                 "again unless the entry is removed from the config", err=True)
    return EXIT_USAGE if failed else EXIT_OK


def _found_dict(url: str, found: list[Any], hidden: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "url": url,
        "copies": [
            {"article": {"id": f.article.id, "title": f.article.title, "url": f.article.url},
             **f.match.to_dict(f.article.text, found_text), "hidden": hidden_share(f.match, found_text, hidden)}
            for f, found_text in found
        ],
    }


def _print_copy(url: str, f: Found, text: str, width: int, detail: bool, hidden: Sequence[str] = ()) -> None:
    m = f.match
    echo(f"{url}: COPY ({m.kind}) of #{f.article.id} \"{f.article.title}\" {f.article.url}")
    echo(f"  covers {percent(m.coverage)} of the article; {percent(m.page_share)} of the page comes from it; "
         f"longest verbatim run {plural(m.longest_run, 'word')}; {plural(len(m.passages), 'passage')}")
    share = hidden_share(m, text, hidden)
    if share:
        echo(f"  {hidden_text({'hidden': share})}")
    if not detail:
        return
    echo()
    echo(side_by_side("TRACKED ARTICLE", "THIS PAGE", width))
    echo("-" * width)
    for p in m.passages:
        # Escaped before wrapping, so the columns are measured on what is shown.
        echo(side_by_side(safe(f.article.text[p.article_start:p.article_end]), safe(text[p.page_start:p.page_end]),
                          width))
        echo(side_by_side(f"[{p.article_start}:{p.article_end}]",
                           f"[{p.page_start}:{p.page_end}] score {p.score:.2f}{' verbatim' if p.verbatim else ''}",
                           width))
        echo()


def _held_text(alert: dict[str, Any]) -> str:
    """Why an open alert holds a page `check` finds no copy on (Store.open_alerts_at)."""
    if alert["match_article_id"] != alert["article_id"]:
        return (f"it copies an earlier version of #{alert['article_id']} (#{alert['match_article_id']}), which its "
                "rechecks still find: a copy of the old text is still a copy")
    return f"found as a copy of #{alert['article_id']} by a site scan; provmon recheck {alert['id']} looks again"


def _print_closest(near: Closest | None) -> None:
    if near is None:
        echo("  no tracked article shares enough of its wording to be compared with it")
        return
    n, a = near.near, near.article
    if n.step == REFERENCE:
        echo(f"  closest: #{a.id} \"{safe(a.title)}\" {safe(a.url)}")
        echo(f"  not a copy: {n.reason}")
        return
    echo(f"  closest: #{a.id} \"{safe(a.title)}\" {safe(a.url)}: {plural(n.aligned_sentences, 'sentence')} of it "
         f"aligned ({percent(n.coverage)} of the article), {n.narrative_sentences} of them its own telling; longest "
         f"verbatim run {plural(n.longest_run, 'word')}")
    shared = " once the text it shares with other tracked texts is left out" if near.discounted else ""
    echo(f"  not a copy{shared}: {n.reason}")


class _Landing(Fetcher):
    """A fetcher that remembers where each URL it fetched landed after redirects. `check` needs it to tell the
    tracked article itself, reached through a redirect (http://host/to-original -> the tracked URL), from a copy of
    it: read_source gives the page only. Built by make_fetcher."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.landed: dict[str, str] = {}

    def fetch(self, url: str, allow_private: bool = False, **kw: Any) -> FetchResult:
        result = super().fetch(url, allow_private, **kw)
        self.landed[url] = result.final_url
        return result


def _is_the_article(url: str, landed: str, page: Extracted, article: Article, source: str | None,
                    configured: dict[str, str]) -> bool:
    """Whether the page read from `url` (landing at `landed` after redirects) is the tracked article itself, not a
    copy of it, as the site scan decides: its address or one redirecting to it, a page of its own site naming it as
    canonical (AMP, mobile, a feed-tagged URL: scan.own_version), or the file it was tracked from (its recorded
    source, or a [[track]] entry's file, tracked under its `url` or the address its page names). A file elsewhere
    that names the article's address as canonical stays a copy: a copier's page saved to disk may keep the
    original's canonical tag."""
    if same_page(landed, article.url) or same_page(url, article.url) or own_version(landed, page, article.url):
        return True
    if source and source in (url, landed):
        return True
    # A [[track]] source the service tracked before it recorded where it read each one from (scan.track_configured).
    return any(u in configured and same_page(configured[u] or tracked_url(u, page), article.url) for u in (url, landed))


def cmd_check(cfg: Config, args: argparse.Namespace) -> int:
    sources, errors = expand_sources(args.sources)
    width = min(shutil.get_terminal_size((120, 24)).columns, 160)
    verifier = make_verifier(cfg)
    prepared = PreparedCache(PREPARED_CHARS)  # the articles many pages meet, cut into sentences once
    progress = _progress(args, len(sources), "check")
    quiet = _stdout_under_bar(progress)
    # One page: every passage side by side. Many: a line per copy, and per page unless under the bar.
    detail, per_page = len(sources) == 1, not quiet
    copies = pages = 0
    failed = bool(errors)
    for source, e in errors:
        echo(f"error: {e}", err=True)
        if args.json:
            print(json_text({"url": source, "error": e}))
    untracked = f"error: no articles are tracked in {cfg.database_path}: run provmon track first"
    if not cfg.database_path.exists():  # a wrong --config or cwd: say so, and leave no empty database behind
        echo(untracked, err=True)
        return EXIT_USAGE
    configured = configured_addresses(cfg)
    with Store(cfg.database_path) as store, make_fetcher(cfg, kind=_Landing) as fetcher:
        if not store.article_count():  # every page would be "no copy": say why instead
            echo(untracked, err=True)
            return EXIT_USAGE
        open_urls = {u for _, u in store.open_copy_urls()}  # read once: most pages checked have no alert
        for url in sources:
            progress.advance()
            try:
                page = read_source(fetcher, url)
            except NoText as exc:  # not a copy of anything, not bad input: a directory holds index pages too
                pages += 1
                if args.json:
                    print(json_text({"url": url, "copies": [], "note": "no article text"}), flush=True)
                elif per_page:
                    echo(f"{exc}: no copy")
                continue
            except SourceError as exc:
                progress.clear()
                echo(f"error: {exc}", err=True)
                if args.json:
                    print(json_text({"url": url, "error": str(exc)}))
                failed = True
                continue
            landed = fetcher.landed.get(url, url)
            found: list[Found] = []
            itself = ""  # the tracked article itself, reached through a redirect or another form of its address
            copies_found = find_copies(store, page.text, cfg.match, verifier=verifier, prepared=prepared,
                                       cited=citations(page, cfg.owner.credit_names))
            read_from = store.sources_of(f.article.id for f in copies_found)
            for f in copies_found:
                if _is_the_article(url, landed, page, f.article, read_from.get(f.article.id), configured):
                    itself = itself or f"the tracked article #{f.article.id} itself, at {f.article.url}"
                else:
                    found.append(f)
            pages += 1
            copies += bool(found)
            near: Closest | None = None
            why = not found and not itself and (args.why or detail)
            if why:  # the same candidates again, read for the step that turned each away: only when asked for
                near = closest(store, page.text, cfg.match, prepared=prepared,
                               cited=citations(page, cfg.owner.credit_names))
            # An open alert for this page says otherwise: said, so the two answers are not left to contradict.
            held = (store.open_alerts_at(dict.fromkeys((url, landed)))
                    if not found and not itself and (url in open_urls or landed in open_urls) else [])
            # A copy the monitor would only log, never alert (its landing page's domain is allow-listed): said.
            licensed = is_licensed(landed, cfg.alerts.licensed_domains) if found else ""
            if args.json:
                note = {"note": itself} if itself and not found else {}
                print(json_text({**_found_dict(url, [(f, page.text) for f in found], page.hidden), **note,
                                 **({"licensed": licensed} if licensed else {}),
                                 **({"closest": near.to_dict() if near else None} if why else {}),
                                 **({"open_alerts": [{"id": h["id"], "status": h["status"], "article": h["article_id"],
                                                     "earlier_version": h["match_article_id"] != h["article_id"]}
                                                    for h in held]} if held else {})}), flush=True)
                continue
            if quiet and (found or why):
                progress.clear()
            if not found and (per_page or why):
                echo(f"{url}: no copy of a tracked article" + (f" ({itself})" if itself else ""))
                if why:
                    _print_closest(near)
                for h in held:
                    echo(f"  note: alert #{h['id']} ({h['status']}) is open for this page: {_held_text(h)}")
            for f in found:
                _print_copy(url, f, page.text, width, detail, page.hidden)
                if licensed:
                    echo(f"  licensed: {licensed} is in alerts.licensed_domains of {cfg.path} (the monitor logs "
                         f"such a copy and raises no alert)")
    progress.close()
    if len(sources) > 1 and not args.json:
        bad = len(sources) - pages + len(errors)
        echo(f"checked {plural(pages, 'page')}: {copies} {'copies' if copies == 1 else 'copy'} a tracked article, "
             f"{pages - copies} {'does' if pages - copies == 1 else 'do'} not"
             f"{f', {bad} could not be read' if bad else ''}")
    if failed:
        return EXIT_USAGE
    return EXIT_OK if copies else EXIT_NO_COPY


# `track` warns when a text this short can never be found in a copy (match.findable). Longer ones are not checked:
# cutting a text into sentences costs ~0.5 ms per 1,500 characters, and an archive of 100k articles is tracked at once.
SHORT_TEXT = 1_000

ID_HELP = "an alert id, 12 or #12 (provmon alerts lists them)"


def alert_id_arg(text: str) -> int:
    """An alert id: a positive integer that SQLite can hold, written `12` or `#12` (as lists show it)."""
    try:
        value = int(text.removeprefix("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an alert id (a whole number)") from None
    if not 0 < value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not an alert id (ids start at 1)")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 < value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not 1 or more")
    return value


def when_arg(text: str, now: datetime | None = None) -> str:
    """--since/--until: an ISO date or time (UTC unless it says otherwise), or an age such as 7d or 12h."""
    now = now or datetime.now(UTC)
    try:
        return (now - timedelta(seconds=parse_interval(text))).isoformat(timespec="seconds")
    except IntervalTooLong as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither an ISO date/time nor an age like 7d") from None
    try:
        return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds")
    except OverflowError:  # 0001-01-01T00:00+05:00 is in year 0 in UTC, which datetime cannot hold
        raise argparse.ArgumentTypeError(f"{text!r} is out of range: in UTC it falls before the year 1 or after "
                                         f"9999") from None


def public_url_arg(text: str) -> str:
    """--url: an article's public address, http(s) with a host."""
    if why := public_url_problem(text):
        raise argparse.ArgumentTypeError(f"{text!r} {why}")
    return text


def path_arg(text: str) -> str:
    """A file to write: an empty path names none (and would otherwise be taken as "not given")."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path names no file")
    return text


def cmd_alerts(cfg: Config, args: argparse.Namespace) -> int:
    with Store(cfg.database_path) as store:
        rows = store.alerts(limit=args.limit, states=args.state or (), site=args.site or "",
                            kind=args.kind or "", severity=args.severity or "", since=args.since or "",
                            until=args.until or "", evidence=args.json)
        untracked = store.untracked_ids()
        # A site name neither the config nor the log knows (a typo, a renamed site): said when nothing is listed.
        unknown = bool(args.site and not rows and args.site not in {s.name for s in cfg.sites}
                       and not store.knows_site(args.site))
    if args.json:
        for row in rows:
            # The webhook's `article` object besides the flat article_* keys (kept for existing scripts), so a
            # script reads the article of an alert here as in a webhook message (docs/alerts.md, "Webhook payload").
            print(json_text({**row, "article": webhook_payload(row)["alert"]["article"]}))
        return EXIT_OK
    if not rows:
        echo("no alerts" + (f" (no [[sites]] entry of {cfg.path} is named {args.site!r}, and no alert was ever "
                            f"raised on a site of that name)" if unknown else ""))
        return EXIT_OK
    for r in rows:
        echo(f"#{r['id']:<4} {r['created_at']}  {r['status']:<12} {r['severity'] or '-':<6} {r['kind']:<11} "
             f"{percent(r['coverage']):>4}  credit:{r['credit']:<11} {r['site']}  {r['copy_url']}"
             + (f"  [{percent(r['hidden'])} hidden from readers]" if r.get("hidden") else "") + "\n"
             f"      copies: {r['article_title']} <{r['article_url']}>"
             + (" (untracked)" if r["article_id"] in untracked else ""))
    return EXIT_OK


def _alert_or_error(store: Store, alert_id: int) -> dict[str, Any] | None:
    try:
        return store.alert(alert_id)
    except KeyError:
        echo(f"error: {store.path}: no alert #{alert_id} (provmon alerts lists them)", err=True)
        return None


def cmd_ack(cfg: Config, args: argparse.Namespace) -> int:
    status = EXIT_OK
    with Store(cfg.database_path) as store:
        for alert_id in args.ids:
            alert = _alert_or_error(store, alert_id)
            if alert is None:
                status = EXIT_USAGE
                continue
            if alert["status"] in ("ignored", "removed"):
                echo(f"error: alert #{alert_id} is {alert['status']}; only open alerts can be acknowledged",
                     err=True)
                status = EXIT_USAGE
                continue
            if store.set_state(alert_id, "acknowledged", note=args.note, only_from=("new", "notified")):
                echo(f"alert #{alert_id}: acknowledged")
            elif (now := store.alert(alert_id)["status"]) == "acknowledged":
                echo(f"alert #{alert_id}: already acknowledged")
            else:  # ignored or removed between the read above and the change
                echo(f"error: alert #{alert_id} is {now}; only open alerts can be acknowledged", err=True)
                status = EXIT_USAGE
    return status


def _undo_rule(store: Store, rule: dict[str, Any]) -> tuple[list[int], dict[int, list[int]]]:
    """Remove an ignore rule and reopen the alerts it ignored; (those reopened, {rule: the alerts it keeps}).

    An alert another rule still covers stays ignored, and is from now on that rule's (Store.credit_ignore): removing
    that one later reopens it. Alerts left ignored by a rule removed before this was so are dealt with the same way
    now, so no alert stays ignored with no rule behind it."""
    ignored = [*store.ignored_by_rule(rule["id"]), *store.ignored_by_removed_rules()]
    store.remove_ignore_rule(rule["id"])
    rest = store.ignore_rules()
    reopened: list[int] = []
    kept: dict[int, list[int]] = {}
    for alert_id in sorted(set(ignored)):
        a = store.alert(alert_id)
        other = ignore_rule_for(rest, a["site"], a["copy_url"])
        if other is not None:
            if store.credit_ignore(alert_id, other["id"]):
                kept.setdefault(other["id"], []).append(alert_id)
        elif store.unignore(alert_id, f"ignore rule #{rule['id']} undone"):
            reopened.append(alert_id)
    return reopened, kept


def _ignore_list(cfg: Config, store: Store) -> int:
    rules = store.ignore_rules()
    if not rules:
        echo("no ignore rules")
    unwatched = unwatched_site_notes(store, [s.name for s in cfg.sites], str(cfg.path))
    ignored_by = {rule["id"]: store.ignored_by_rule(rule["id"]) for rule in rules}
    for rule in rules:
        note = f"; note: {rule['note']}" if rule["note"] else ""
        src, by_rule = "", ignored_by[rule["id"]]
        if origin := rule["from_alert"]:  # ignored by its id when the rule was made, or by a rule since
            try:
                ignored = store.alert(origin)["status"] == "ignored"
            except KeyError:  # pruned by retention
                ignored = False
            other = next((r for r, alerts in ignored_by.items() if origin in alerts), None)
            how = (", itself ignored by it" if other == rule["id"] else f", itself ignored by rule #{other}" if other
                   else ", itself ignored by id" if ignored else "")
            src = f" (from alert #{origin}{how})"
            by_rule = [a for a in by_rule if a != origin]
        stale = f"\n  warning: site '{rule['site']}' is not in {cfg.path}: this rule ignores no new copy" if (
            rule["id"] in unwatched) else ""
        echo(f"rule #{rule['id']}: {rule_text(rule)}{src}, since {rule['created_at']}; "
             f"{plural(len(by_rule), 'other alert' if rule['from_alert'] else 'alert')} "
             f"ignored by it{note}{stale}")
    # Left by an undo before such alerts moved to the rule still covering them: said, with the way out.
    if orphans := store.ignored_by_removed_rules():
        listed = ", ".join(f"#{a} (rule #{r})" for a, r in orphans.items())
        echo(f"still ignored by rules removed since: {listed}; provmon ignore ID --undo reopens each")
    return EXIT_OK


def _ignore_undo(store: Store, args: argparse.Namespace) -> int:
    """`ignore ID --undo`: the alert back to its state before, and its rules gone (reopening what they ignored);
    `ignore --undo-rule N`: that rule only."""
    if args.undo_rule is not None:
        rules = [r for r in store.ignore_rules() if r["id"] == args.undo_rule]
        if not rules:
            echo(f"error: {store.path}: no ignore rule #{args.undo_rule} (provmon ignore --list lists them)", err=True)
            return EXIT_USAGE
    else:
        if _alert_or_error(store, args.id) is None:
            return EXIT_USAGE
        rules = [r for r in store.ignore_rules() if r["from_alert"] == args.id]
        state = store.unignore(args.id, "provmon ignore --undo")
        echo(f"alert #{args.id}: " + (f"no longer ignored, {state} again" if state else "was not ignored"))
    for rule in rules:
        reopened, kept = _undo_rule(store, rule)
        listed = ", ".join(f"#{i}" for i in reopened)
        echo(f"ignore rule #{rule['id']} removed: {rule_text(rule)} raise alerts again"
             + (f"; no longer ignored: {listed}" if reopened else ""))
        for other, ids in kept.items():
            echo(f"  still ignored by rule #{other}, which covers them too: {', '.join(f'#{i}' for i in ids)} "
                 f"(ignore --undo-rule {other} reopens them)")
    return EXIT_OK


def cmd_ignore(cfg: Config, args: argparse.Namespace) -> int:
    undo = args.undo or args.undo_rule is not None
    if args.list or args.undo_rule is not None:
        if args.list and undo:
            echo("error: ignore --list and --undo/--undo-rule N are two commands: give one", err=True)
            return EXIT_USAGE
        if args.id is not None or args.site or args.pattern is not None:
            echo("error: ignore --list and --undo-rule N take no alert ID nor --site/--pattern", err=True)
            return EXIT_USAGE
    elif args.id is None:
        echo("error: ignore needs an alert ID (or --list, or --undo-rule N)", err=True)
        return EXIT_USAGE
    elif args.undo and (args.site or args.pattern is not None):
        echo("error: ignore ID --undo undoes the ignore and every rule made with it; it takes no --site/--pattern",
             err=True)
        return EXIT_USAGE
    if args.pattern is not None:
        if not args.pattern:
            echo("error: --pattern is empty: it would match every copy URL (--site ignores a whole site)", err=True)
            return EXIT_USAGE
        try:
            re.compile(args.pattern)
        except re.error as exc:  # the regex as typed: a repr would double its backslashes
            echo(f"error: --pattern '{args.pattern}' is not a regular expression: {exc}", err=True)
            return EXIT_USAGE
    with Store(cfg.database_path) as store:
        if args.list:
            return _ignore_list(cfg, store)
        if undo:
            return _ignore_undo(store, args)
        alert = _alert_or_error(store, args.id)
        if alert is None:
            return EXIT_USAGE
        # The state it leaves is in the event (`notified -> ignored`): `ignore --undo` goes back to it.
        if store.set_state(args.id, "ignored", note=args.note):
            echo(f"alert #{args.id}: ignored")
        else:
            echo(f"alert #{args.id}: already ignored")
        # One rule each (docs/alerts.md): --site ignores the whole site and --pattern those URLs on any site;
        # a single rule naming both would ignore only the URLs matching on that site.
        wanted: list[tuple[str, str, str]] = []  # (what it covers, site, url_pattern)
        if args.site:
            wanted.append((f"copies on site '{alert['site']}'", alert["site"], ""))
        if args.pattern:
            wanted.append((f"copies at URLs matching '{args.pattern}'", "", args.pattern))
        existing = {(r["site"] or "", r["url_pattern"] or ""): r["id"] for r in store.ignore_rules()}
        for what, site, pattern in wanted:
            if (site, pattern) in existing:
                echo(f"ignore rule #{existing[site, pattern]}: {what}: already ignored")
        wanted = [w for w in wanted if (w[1], w[2]) not in existing]
        rule_ids: list[int] = []
        if wanted:
            with store.transaction():  # both rules, or neither
                rule_ids = [store.add_ignore_rule(site=site, url_pattern=pattern, from_alert=args.id,
                                                  note=args.note or "") for _, site, pattern in wanted]
        for rule_id, (what, site, pattern) in zip(rule_ids, wanted, strict=True):
            rule = {"site": site or None, "url_pattern": pattern or None}
            # Removed copies too: one that comes back is reopened, and the rule says it should not be.
            others = [(a["id"], a["status"]) for a in store.alerts(states=(*OPEN_STATES, "removed"))
                      if ignore_rule_for([rule], a["site"], a["copy_url"])]
            for other, status in others:  # the state left is in the detail: `--undo` restores it
                store.set_state(other, "ignored", detail=f"ignore rule #{rule_id}: {status} -> ignored",
                                note=args.note)
            listed = ", ".join(f"#{i}" for i, _ in others)
            echo(f"ignore rule #{rule_id}: {what} raise no more alerts"
                 + (f"; also ignored {plural(len(others), 'other alert')} (new, notified, acknowledged or "
                    f"removed): {listed}" if others else ""))
    return EXIT_OK


# The states scan.recheck_alerts fetches copies of (an ignored alert's copy is nobody's concern).
RECHECKED = (*OPEN_STATES, "removed")


def cmd_recheck(cfg: Config, args: argparse.Namespace) -> int:
    status = EXIT_OK
    with Store(cfg.database_path) as store:
        ids: list[int] | None = None  # None: every alert in a rechecked state
        if args.ids:
            # Unknown ids and alerts not rechecked are said here: scan.recheck_alerts passes over them in silence.
            ids = []
            for alert_id in dict.fromkeys(args.ids):
                alert = _alert_or_error(store, alert_id)
                if alert is None:
                    status = EXIT_USAGE
                elif alert["status"] not in RECHECKED:
                    echo(f"skipped #{alert_id}: it is {alert['status']}; only {', '.join(RECHECKED[:-1])} or "
                         f"{RECHECKED[-1]} alerts are rechecked")
                else:
                    ids.append(alert_id)
            if not ids:  # nothing left to fetch (and an empty list must not become "all")
                return status
        with make_fetcher(cfg) as fetcher:
            rep = recheck_alerts(store, fetcher, cfg, alert_ids=ids, verifier=make_verifier(cfg))
        sent, failed = deliver_pending(store, cfg.notify) if cfg.notify else (0, 0)
    echo(f"rechecked {plural(rep.checked, 'copy', 'copies')}: {len(rep.removed)} gone, {len(rep.reopened)} back, "
         f"{len(rep.inconclusive)} inconclusive, {len(rep.grew)} grew; notifications {sent} sent, {failed} failed")
    for aid in rep.removed:
        echo(f"  REMOVED #{aid}: the copy is gone")
    for aid in rep.reopened:
        echo(f"  REOPENED #{aid}: the copy is back")
    for aid in rep.grew:
        echo(f"  GREW #{aid}: the copy now copies more of the article (provmon alerts shows it)")
    for line in rep.inconclusive:
        echo(f"  inconclusive {line}")
    return status


def _write(path: Path, data: bytes) -> bool:
    try:
        path.write_bytes(data)
    except OSError as exc:
        echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
        return False
    return True


def cmd_report(cfg: Config, args: argparse.Namespace) -> int:
    from monitor.evidence import raw_bytes
    from monitor.report import report_html

    if args.capture is not None and args.raw is None:
        echo("error: --capture chooses the capture --raw writes: give --raw PATH too", err=True)
        return EXIT_USAGE
    with Store(cfg.database_path) as store:
        if _alert_or_error(store, args.id) is None:
            return EXIT_USAGE
        evidence = store.evidence(args.id)
        if args.capture is not None and args.capture > len(evidence):
            echo(f"error: --capture {args.capture}: alert #{args.id} has {plural(len(evidence), 'capture')}",
                 err=True)
            return EXIT_USAGE
        page = report_html(store, args.id)
    out = Path(args.output or f"alert-{args.id}.html")
    if not _write(out, page.encode("utf-8")):
        return EXIT_USAGE
    echo(f"evidence page for alert #{args.id}: {out}")
    if args.raw is not None:
        # The newest capture by default: after a copy was removed and came back, the page as it is online now.
        number = args.capture or len(evidence)
        ev = evidence[number - 1] if evidence else None
        try:
            raw = raw_bytes(ev) if ev else None
        except ValueError as exc:  # the stored bytes do not match their hash: not written as evidence
            echo(f"error: alert #{args.id}: {exc}", err=True)
            return EXIT_USAGE
        if ev is None or raw is None:
            echo(f"error: alert #{args.id} has no raw page stored (none captured, or pruned after retention)",
                 err=True)
            return EXIT_USAGE
        if not _write(Path(args.raw), raw):
            return EXIT_USAGE
        which = f"capture {number} of {len(evidence)}, {ev['reason']} {ev['fetched_at']}; "
        echo(f"raw page as fetched ({which}{plural(len(raw), 'byte')}, SHA-256 {ev['sha256']}): {args.raw}")
    return EXIT_OK


def cmd_notice(cfg: Config, args: argparse.Namespace) -> int:
    from monitor.notice import NoticeError, notice_text

    with Store(cfg.database_path) as store:
        if _alert_or_error(store, args.id) is None:
            return EXIT_USAGE
        try:
            text = notice_text(store, args.id, cfg.owner, str(cfg.path))
        except NoticeError as exc:
            echo(f"error: {exc}", err=True)
            return EXIT_USAGE
    if args.output:
        if not _write(Path(args.output), text.encode("utf-8")):
            return EXIT_USAGE
        echo(f"takedown notice draft for alert #{args.id}: {args.output} (review it before sending)")
    else:
        echo(text, end="")
    return EXIT_OK


def cmd_notify(cfg: Config, args: argparse.Namespace) -> int:
    if args.move or args.drop:
        return _notify_outbox(cfg, args)
    if args.retry is not None:
        return _notify_retry(cfg, args.retry)
    if not args.test:
        echo("error: nothing to do: use provmon notify --test (or --retry, --move OLD NEW, --drop CHANNEL)",
             err=True)
        return EXIT_USAGE
    if not cfg.notify:
        echo(f"error: {cfg.path}: no [[notify]] channels configured", err=True)
        return EXIT_USAGE
    results = send_test(cfg.notify)
    for r in results:
        echo(f"{r.channel}: {'ok' if r.ok else 'FAILED'}: {r.detail}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_NO_COPY


def _notify_retry(cfg: Config, wanted: list[str]) -> int:
    """`notify --retry [CHANNEL...]`: the receiver is back; its failed notifications are made due and sent now
    (the backoff would hold them for up to retry_max). Exit 1 when some still failed."""
    labels = [c.label for c in cfg.notify]
    if not labels:
        echo(f"error: {cfg.path}: no [[notify]] channels configured", err=True)
        return EXIT_USAGE
    if unknown := [w for w in wanted if w not in labels]:
        echo(f"error: {cfg.path}: no [[notify]] channel named {', '.join(repr(u) for u in unknown)} "
             f"(configured: {', '.join(labels)})", err=True)
        return EXIT_USAGE
    channels = tuple(c for c in cfg.notify if not wanted or c.label in wanted)
    with Store(cfg.database_path) as store:
        due = store.retry_now(c.label for c in channels)
        sent, failed = deliver_pending(store, channels)
    echo(f"{plural(due, 'failed notification')} due now; {sent} sent, {failed} failed")
    return EXIT_NO_COPY if failed else EXIT_OK


def _notify_outbox(cfg: Config, args: argparse.Namespace) -> int:
    """`notify --move OLD NEW`: a renamed channel's unsent messages to its new name; `notify --drop CHANNEL`: give
    a channel's unsent messages up. Outbox rows are kept under the channel's label (`name`, else its type)."""
    labels = [c.label for c in cfg.notify]
    with Store(cfg.database_path) as store:
        queued = store.undelivered_by_channel()
        channel = args.move[0] if args.move else args.drop
        if not queued.get(channel):
            known = ", ".join(f"{c} ({n})" for c, n in sorted(queued.items())) or "none"
            echo(f"error: {cfg.database_path}: no unsent notifications for channel '{channel}' "
                 f"(channels with unsent ones: {known})", err=True)
            return EXIT_USAGE
        if args.drop:
            n = store.drop_undelivered(channel)
            echo(f"dropped {plural(n, 'unsent notification')} for channel '{channel}': they will not be sent")
            return EXIT_OK
        new = args.move[1]
        if new not in labels:
            echo(f"error: {cfg.path}: no [[notify]] channel named '{new}' (configured: "
                 f"{', '.join(labels) or 'none'})", err=True)
            return EXIT_USAGE
        if new == channel:
            echo(f"error: --move {channel} {new}: the same channel", err=True)
            return EXIT_USAGE
        moved, dropped = store.move_undelivered(channel, new)
    also = f" ({plural(dropped, 'message')} '{new}' already had: dropped)" if dropped else ""
    echo(f"moved {plural(moved, 'unsent notification')} from '{channel}' to '{new}'{also}; they go out at the next "
         f"delivery (the service's, or provmon run --once)")
    return EXIT_OK


def cmd_extract(cfg: Config | None, args: argparse.Namespace) -> int:
    """What the monitor sees of each input, as `check` reads them: directories expanded to their documents, an input
    that cannot be read an error line (`{"url", "error"}` in --json) and the rest still shown, exit 2 at the end.
    A page with no article text (an index page, which a directory often holds) says so and is no error."""
    sources, errors = expand_sources(args.sources)
    several = len(sources) + len(errors) > 1
    failed = bool(errors)
    for source, e in errors:
        echo(f"error: {e}", err=True)
        if args.json:
            print(json_text({"url": source, "error": e}))
    # With a config, the fetch is the monitor's own ([fetch] max_bytes, timeouts): it shows what a scan sees.
    with (make_fetcher(cfg) if cfg else Fetcher("ProvenanceMonitor")) as fetcher:
        for url in sources:
            try:
                page = read_source(fetcher, url)
            except NoText as exc:
                if args.json:
                    print(json_text({"url": url, "text": "", "note": "no article text found"}), flush=True)
                else:
                    echo(f"{exc}\n")
                continue
            except SourceError as exc:
                echo(f"error: {exc}", err=True)
                if args.json:
                    print(json_text({"url": url, "error": str(exc)}), flush=True)
                failed = True
                continue
            if args.json:
                print(json_text({"url": url, **page.to_dict()}), flush=True)
            else:  # of several pages, each says which it is
                echo(f"# {page.title}\n" + (f"{url}\n" if several else "") + f"\n{page.text}\n")
    return EXIT_USAGE if failed else EXIT_OK


# A crawl error about a local page the file transport answered 404, as the crawler records it ("URL: HTTP 404").
LOCAL_404 = re.compile(r"(file://\S+): HTTP 404$")


def site_error(error: str) -> str:
    """A site's error as people read it: a local start URL (or page) that does not exist is said to be missing, not
    "HTTP 404" (the file transport answers 404 for it, as a web server would, so the crawler takes it as gone).
    The store keeps the error as recorded; a file that exists by now keeps its recorded 404."""
    m = LOCAL_404.fullmatch(error)
    if m is None or os.path.lexists(path := file_path(m[1])):
        return error
    return f"{m[1]}: cannot read {shown_path(path)}: {os.strerror(errno.ENOENT)}"


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    service = Service(cfg)
    if not args.once:
        service.run_forever()
        return EXIT_OK
    started = now_iso()
    track_errors, reports = service.run_once()
    with Store(cfg.database_path) as store:
        for err in track_errors:
            echo(f"track: error: {err}")
        failing = [(r["publisher"], r["health_reason"]) for r in publisher_rows(cfg, store)
                   if r["health"] == "failing"]
        for pub, why in failing:
            echo(f"publisher {pub}: error: {why} (its new articles are not being tracked)")
        for rep in reports:
            quiet = f" ({rep.licensed} licensed or ignored: logged, no alert)" if rep.licensed else ""
            # Copies are counted on the pages matched in this run: unchanged ones keep their earlier verdict.
            same = f" ({rep.unchanged} unchanged since last matched)" if rep.unchanged else ""
            echo(f"site {rep.site}: {plural(rep.pages, 'page')} scanned{same}, "
                 f"{plural(rep.copies, 'copy', 'copies')}{quiet}, {plural(len(rep.new_alerts), 'new alert')}, "
                 f"{plural(len(rep.errors), 'error')}")
            for err in rep.errors:
                echo(f"  error: {site_error(err)}")
            left = crawl_backlog(store, rep.site)
            if left is not None and left.at >= started:
                echo(f"  {left.summary()}")
            for alert_id in rep.new_alerts:
                a = store.alert(alert_id)
                echo(f"  ALERT #{a['id']}: {a['kind']} copy ({percent(a['coverage'])} of the article) "
                     f"of \"{a['article_title']}\" at {a['copy_url']} [{a['severity']}; credit: {a['credit']}]")
            for alert_id, detail in store.growths_since(rep.site, started):  # told to the channels as copy_grew
                echo(f"  GREW #{alert_id}: the copy grew: {detail}")
        for note in unwatched_site_notes(store, [s.name for s in cfg.sites], str(cfg.path)).values():
            echo(f"note: {note}")
        for problem in stranded_notes(store, cfg.notify, str(cfg.path)):
            echo(f"warning: {problem}")
        echo(f"alert log: {cfg.database_path} ({plural(store.alert_count(), 'alert')} in all)")
    # A [[track]] source or a [[publishers]] feed that cannot be read is bad input, as it is for `provmon track`;
    # a site that cannot be fetched is the site's state (printed above, and `provmon status`), not the run's.
    return EXIT_USAGE if track_errors or failing else EXIT_OK


RUN_TOLERANCE = 300.0  # seconds a site's last run may seem to lie in the future (clocks disagree a little)
LONGEST_SCAN = 6 * 3600.0  # a scan running longer than this, or than two periods if longer, is reported
# A site (or a publisher's feeds) failing this many runs in a row is a problem; one failed run may be a blip. Every
# site failing (nothing is watched) or every publisher failing (nothing new is tracked) is one at once.
FAILING_RUNS = 3


def health(cfg: Config, store: Store, now: datetime) -> tuple[list[str], list[dict[str, Any]]]:
    """What is wrong (empty when healthy): the service stalled, stopped or never run, a heartbeat or a site's run
    from the future (the clock moved back), a site overdue or its scan running implausibly long, sites or
    publishers' feeds failing (FAILING_RUNS), a notification channel failing; and the per-site state."""
    problems: list[str] = []
    beat = store.last_beat()
    stop = store.last_stop()
    limit = 3 * parse_interval(cfg.monitor.heartbeat)
    if stop is not None:
        problems.append(f"the service is stopped (clean shutdown at {stop[0]}, pid {stop[1]})")
    elif beat is None:
        problems.append("the service has never run (no heartbeat)")
    else:
        age = (now - datetime.fromisoformat(beat[0])).total_seconds()
        if age > limit:
            problems.append(f"last heartbeat {age:.0f}s ago (pid {beat[1]}), more than {limit:.0f}s")
        elif age >= -limit and store.beat_gone():
            problems.append(f"last heartbeat {age:.0f}s ago (pid {beat[1]}), whose process is gone from this "
                            "machine: the service stopped without a clean shutdown (killed, or crashed)")
        elif age < -limit:  # written while the clock was ahead: whether the service still runs cannot be told
            problems.append(f"last heartbeat {-age:.0f}s in the future, at {beat[0]} (pid {beat[1]}): the clock "
                            f"moved back? A running service writes a new one within {limit / 3:.0f}s")
    states = {row["site"]: row for row in store.site_states()}
    rows = []
    for site in cfg.sites:
        row = {"site": site.name, **{k: v for k, v in states.get(site.name, {}).items() if k != "site"}}
        if row.get("last_error"):
            row["last_error"] = site_error(row["last_error"])
        health_row = store.site_health(site.name)
        if health_row is not None:  # failing or blocking sites, as the crawler last judged them
            row["health"] = health_row.state
            row["health_reason"] = site_error(health_row.reason)
            row["health_since"] = health_row.since
            row["health_failures"] = health_row.failures
        left = crawl_backlog(store, site.name)
        row["left_for_later"] = left.to_dict() if left is not None else None
        rows.append(row)
        problems.extend(_site_problems(site, row, now, max(limit, RUN_TOLERANCE)))
    problems.extend(_failing(rows, "site", "every site is failing: no site is being watched"))
    problems.extend(_failing(publisher_rows(cfg, store), "publisher",
                             "every publisher's feeds are failing: no new article is being tracked"))
    problems.extend(_notification_problem(n) for n in failing_notifications(cfg, store) if n["configured"])
    problems.extend(stranded_notes(store, cfg.notify, str(cfg.path)))
    return problems, rows


def _failing_runs(row: dict[str, Any]) -> int:
    """Runs in a row a site (or publisher) has failed: as the crawler judged them (site_health), or as the
    scheduler recorded them (a scan that raised, or reached no page)."""
    judged = row.get("health_failures", 0) if row.get("health") == "failing" else 0
    return max(judged, row.get("consecutive_failures") or 0)


def _failing(rows: list[dict[str, Any]], what: str, every_note: str) -> list[str]:
    """Problems for failing sites or publishers (`what`): one failing FAILING_RUNS runs in a row, or every one
    of them failing, even once; then `every_note` is a problem of its own, said once (not on each line)."""
    failing = [r for r in rows if _failing_runs(r)]
    every = bool(rows) and len(failing) == len(rows)
    problems = [every_note] if every else []
    for r in failing:
        runs = _failing_runs(r)
        if runs < FAILING_RUNS and not every:
            continue
        since = f" since {r['health_since']}" if r.get("health") == "failing" else ""
        why = r.get("health_reason") or r.get("last_error") or "unknown error"
        # "for 1 run", "for 3 runs in a row": one run is no row
        problems.append(f"{what} {r[what]} failing for {plural(runs, 'run')}{' in a row' if runs > 1 else ''}"
                        f"{since}: {why}")
    return problems


def publisher_rows(cfg: Config, store: Store) -> list[dict[str, Any]]:
    """Per [[publishers]] entry, its feeds and the health of its last pass (none before the first)."""
    rows = []
    for pub in cfg.publishers:
        row: dict[str, Any] = {"publisher": pub.name, "feeds": list(pub.feeds), "sitemaps": list(pub.sitemaps),
                               "health": None}
        h = store.site_health(publisher_label(pub.name))
        if h is not None:
            row.update(health=h.state, health_reason=h.reason, health_since=h.since, health_failures=h.failures)
        rows.append(row)
    return rows


def _site_problems(site: Site, row: dict[str, Any], now: datetime, tolerance: float) -> list[str]:
    """A site's run from the future, its scan running implausibly long, or the site overdue. A scan that is
    running (started after the last one ended) is not overdue: a slow site's scan may outlast its period."""
    problems = []
    for key, what in (("last_start", "started"), ("last_end", "ended")):
        if row.get(key) and (ahead := (datetime.fromisoformat(row[key]) - now).total_seconds()) > tolerance:
            problems.append(f"site {site.name}: its last run {what} at {row[key]}, {ahead:.0f}s in the future: "
                            f"the clock moved back?")
    start, end = row.get("last_start"), row.get("last_end")
    if start and (not end or datetime.fromisoformat(start) > datetime.fromisoformat(end)):
        since = datetime.fromisoformat(start)
        running = (now - since).total_seconds()
        longest = max(LONGEST_SCAN, 2 * site_period(site, since))
        if running > longest:
            problems.append(f"site {site.name}: scan running for {running:.0f}s (since {start}), more than "
                            f"{longest:.0f}s")
    elif row.get("next_run"):
        due = datetime.fromisoformat(row["next_run"])
        late = (now - due).total_seconds()
        if late > max(3600.0, 2 * site_period(site, due)):
            problems.append(f"site {site.name} is overdue by {late:.0f}s")
    return problems


def failing_notifications(cfg: Config, store: Store) -> list[dict[str, Any]]:
    """Channels with failed, undelivered notifications (Store.failing_channels), each marked `configured`."""
    labels = {c.label for c in cfg.notify}
    return [{**n, "configured": n["channel"] in labels} for n in store.failing_channels()]


def _notification_problem(n: dict[str, Any]) -> str:
    last = f" at {n['last_failed_at']}" if n["last_failed_at"] else ""
    upcoming = f"next attempt at {n['next_attempt']}" if n["next_attempt"] else "due again now"
    return (f"notifications to {n['channel']} failing: {n['failing']} undelivered, the oldest queued at "
            f"{n['oldest']}; last error{last}: {n['last_error']}; {upcoming} (provmon notify --retry "
            f"{n['channel']} sends them now)")


def service_state(store: Store, problems: list[str]) -> str:
    """running (heartbeat fresh), stopped (clean shutdown, no heartbeat since), stalled, or never-run."""
    if store.last_stop() is not None:
        return "stopped"
    if store.last_beat() is None:
        return "never-run"
    return "stalled" if any(p.startswith("last heartbeat") for p in problems) else "running"


def cmd_status(cfg: Config, args: argparse.Namespace) -> int:
    if not cfg.database_path.exists():  # a health check creates no empty database at a mistyped path
        problem = (f"no database at {cfg.database_path} (monitor.database of {cfg.path}): nothing has run with "
                   f"this config yet (provmon run creates it), or the path is not the deployment's")
        if args.json:
            print(json_text({"healthy": False, "service": "never-run", "problems": [problem], "notes": [],
                             "heartbeat": None, "stopped": None, "tracked_articles": 0, "failing_notifications": [],
                             "sites": [], "publishers": []}))
        else:
            echo(f"service: never run\n  problem: {problem}")
        return EXIT_NO_COPY
    with Store(cfg.database_path) as store:
        problems, rows = health(cfg, store, datetime.now(UTC))
        beat = store.last_beat()
        stop = store.last_stop()
        state = service_state(store, problems)
        failing = failing_notifications(cfg, store)
        publishers = publisher_rows(cfg, store)
        tracked = store.article_count()
        notes = list(unwatched_site_notes(store, [s.name for s in cfg.sites], str(cfg.path)).values())
        if licensed := licensed_open_note(store, cfg.alerts.licensed_domains, str(cfg.path)):
            notes.append(licensed)
    if args.json:
        print(json_text({"healthy": not problems, "service": state, "problems": problems, "notes": notes,
                          "heartbeat": beat[0] if beat else None,
                          "stopped": {"at": stop[0], "pid": stop[1]} if stop else None, "tracked_articles": tracked,
                          "failing_notifications": failing, "sites": rows, "publishers": publishers}))
    else:
        # The --json words, as people read them: `ok` when running, `STALLED` shouted (something is wrong), and no
        # heartbeat at all is `never run` (only `run --once`, from cron, has used this database), not a stall.
        shown = {"running": "ok", "stopped": "stopped", "never-run": "never run"}.get(state, "STALLED")
        echo(f"service: {shown}; last heartbeat {beat[0] if beat else 'never'}; "
             + (f"tracking {plural(tracked, 'article')}" if tracked else "no article tracked (provmon track)"))
        for p in problems:
            echo(f"  problem: {p}")
        for note in notes:
            echo(f"  note: {note}")
        echo(f"{'site':<20} {'last run':<26} {'result':<7} {'next run':<26} {'fails':>5} {'pages':>6} {'alerts':>6}")
        for r in rows:
            echo(f"{r['site']:<20} {r.get('last_end') or '-':<26} {r.get('last_result') or '-':<7} "
                 f"{r.get('next_run') or '-':<26} {r.get('consecutive_failures', 0):>5} "
                 f"{r.get('pages_seen', 0):>6} {r.get('alerts_raised', 0):>6}")
            start, end = r.get("last_start"), r.get("last_end")
            if start and (not end or start > end) and state == "running":  # its next run is set when it ends
                echo(f"    scan running since {start}")
            if r.get("last_error") and not (r.get("health") not in (None, "ok") and r["last_error"] == r.get(
                    "health_reason")):  # said once, on the failing line below
                echo(f"    last error: {r['last_error']}")
            if r.get("health") and r["health"] != "ok":
                runs = r["health_failures"]
                echo(f"    site {r['health']} since {r['health_since']} ({plural(runs, 'run')}): "
                     f"{r['health_reason']}")
            if r["left_for_later"]:
                left = r["left_for_later"]
                echo(f"    last run: max_pages ({left['max_pages']}) reached: "
                     f"{left_text(left['left'], left['never_fetched'])}")
        for p in publishers:
            if p["health"] is None:
                echo(f"publisher {p['publisher']}: feeds not read yet")
            elif p["health"] == "ok":
                echo(f"publisher {p['publisher']}: ok")
            else:
                runs = p["health_failures"]
                echo(f"publisher {p['publisher']}: FAILING since {p['health_since']} "
                     f"({plural(runs, 'pass', 'passes')}): {p['health_reason']}")
    return EXIT_OK if not problems else EXIT_NO_COPY


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="provmon",
        description="Provenance Monitor: find republished and spun copies of your articles.",
        epilog=f"Exit status: 0 ok (check: copy found), 1 check found no copy / status found a problem, 2 bad input, "
               f"141 output cut before the result. Config: --config, else ${CONFIG_ENV}, else ./config.toml.",
    )
    parser.add_argument("--config", help="config file (default: $PROVMON_CONFIG or ./config.toml)")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="override monitor.log_level")
    parser.add_argument("--log-format", choices=["text", "json"], help="override monitor.log_format")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the database")
    sources_help = ("URLs, files or directories (their .txt and .html files, recursively); .txt is taken as it "
                    "is, HTML goes through the extractor")
    p = sub.add_parser("track", help="track originals (URLs, files, directories)")
    p.add_argument("sources", nargs="+", help=sources_help)
    p.add_argument("--title", help="title to record for a single source (default: the page's own)")
    p.add_argument("--url", type=public_url_arg,
                   help="the public http(s) address of a single source read from a file (a .txt has no canonical "
                        "link): it is tracked under it, notices cite it, a copy linking it is credited")
    p.add_argument("--reference", action="store_true",
                   help="reference texts, not your own (press releases, wire copy your articles draw on): the text an "
                        "article shares with one is no evidence of copying it, and a page copying one is no copy")
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    p = sub.add_parser("articles", help="list the tracked articles, newest first, with their alerts")
    p.add_argument("--search", metavar="TEXT",
                   help="only those whose title, address or source (the file or URL read) holds TEXT (any case)")
    p.add_argument("--untracked", action="store_true",
                   help="list the untracked articles kept for their alerts instead")
    p.add_argument("--limit", type=_positive_int, default=None, help="at most this many (1 or more)")
    p.add_argument("--json", action="store_true", help="one JSON object per article")
    p = sub.add_parser("untrack", help="stop tracking articles: by id, address, or the file or directory they were "
                                       "tracked from; their alerts stay")
    p.add_argument("articles", nargs="+", metavar="ARTICLE",
                   help="an article id (12 or #12), the address it is tracked under, or the URL, file or directory "
                        "it was tracked from")
    p.add_argument("--json", action="store_true", help="one JSON object per article (JSON Lines)")
    p = sub.add_parser("check", help="do these pages copy a tracked article?")
    p.add_argument("sources", nargs="+", help=sources_help)
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines), passages with offsets")
    p.add_argument("--why", action="store_true",
                   help="for every page that copies nothing, the tracked article it came closest to copying and the "
                        "step of the copy rule it fails (always so when one page is checked)")
    p = sub.add_parser("alerts", help="list the alert log, newest first")
    p.add_argument("--json", action="store_true", help="one JSON object per alert")
    p.add_argument("--limit", type=_positive_int, default=None, help="at most this many alerts (1 or more)")
    p.add_argument("--state", action="append", choices=ALERT_STATES, help="only this state (repeatable)")
    p.add_argument("--site", help="only this site (its [[sites]] name)")
    p.add_argument("--kind", choices=["verbatim", "partial", "paraphrased"])
    p.add_argument("--severity", choices=["high", "medium", "low"])
    p.add_argument("--since", type=when_arg, help="raised at or after: ISO date/time, or an age like 7d")
    p.add_argument("--until", type=when_arg, help="raised before: ISO date/time, or an age like 1d")
    p = sub.add_parser("ack", help="acknowledge alerts: seen, being handled")
    p.add_argument("ids", type=alert_id_arg, nargs="+", metavar="ID", help=ID_HELP)
    p.add_argument("--note", help="why, for the log")
    p = sub.add_parser("ignore", help="ignore an alert; optionally every copy on its site or matching a URL regex; "
                                      "--list the rules, --undo an ignore")
    p.add_argument("id", type=alert_id_arg, metavar="ID", nargs="?", help=ID_HELP)
    p.add_argument("--site", action="store_true",
                   help="also ignore every copy on this alert's site: a rule that ignores the site's other alerts now "
                        "(new, notified, acknowledged or removed) and raises no alert for its later copies")
    p.add_argument("--pattern", metavar="REGEX",
                   help="also ignore every copy whose URL matches this regex, on any site: a rule that ignores such "
                        "alerts now (new, notified, acknowledged or removed) and raises none for later copies")
    p.add_argument("--note", help="why, for the log")
    p.add_argument("--list", action="store_true", help="list the ignore rules (id, what they cover, from which alert)")
    p.add_argument("--undo", action="store_true",
                   help="with ID: undo its ignore (back to its state before) and remove the rules made with it, "
                        "reopening the alerts they ignored")
    p.add_argument("--undo-rule", metavar="N", type=_positive_int,
                   help="remove ignore rule N only, reopening the alerts it ignored (those another rule covers stay "
                        "ignored, by that rule; the alert it came from stays ignored)")
    p = sub.add_parser("recheck", help="fetch flagged copies again now: gone ones are marked removed, returns reopen")
    p.add_argument("ids", type=alert_id_arg, nargs="*", metavar="ID", help="only these alerts")
    p = sub.add_parser("report", help="write the self-contained HTML evidence page of an alert")
    p.add_argument("id", type=alert_id_arg, metavar="ID", help=ID_HELP)
    p.add_argument("-o", "--output", type=path_arg, help="file to write (default: alert-ID.html)")
    p.add_argument("--raw", metavar="PATH", type=path_arg,
                   help="also write the copy's raw page exactly as fetched (its newest capture)")
    p.add_argument("--capture", metavar="N", type=_positive_int,
                   help="with --raw: write capture N instead (1 is the detection; a copy back after it was "
                        "removed adds one)")
    p = sub.add_parser("notice", help="draft a DMCA takedown notice for an alert, to review and send yourself")
    p.add_argument("id", type=alert_id_arg, metavar="ID", help=ID_HELP)
    p.add_argument("-o", "--output", type=path_arg, help="file to write (default: print it)")
    p = sub.add_parser("notify", help="notification channels: --test sends a test message to each; --move and "
                                      "--drop deal with the unsent messages of a renamed or removed channel")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--test", action="store_true", help="send a test message to every channel, report each result")
    action.add_argument("--retry", nargs="*", metavar="CHANNEL",
                        help="the receiver is back: send the failed notifications of these channels (default: all) "
                             "now instead of after their backoff; exit 1 if some still fail")
    action.add_argument("--move", nargs=2, metavar=("OLD", "NEW"),
                        help="give channel OLD's unsent notifications to the configured channel NEW (OLD renamed)")
    action.add_argument("--drop", metavar="CHANNEL",
                        help="give up CHANNEL's unsent notifications: they are kept in the log, never sent")
    p = sub.add_parser("extract", help="print what the monitor sees of pages: their clean text")
    p.add_argument("sources", nargs="+", help=sources_help)
    p.add_argument("--json", action="store_true",
                   help="text and metadata as JSON, one object per input (JSON Lines); an input that could not be "
                        "read is {\"url\", \"error\"}")
    p = sub.add_parser("status", help="per-site state, service health, publishers' feeds and failing notifications; "
                                      "exit 1 on any problem (stalled, stopped, a site overdue or failing, a "
                                      "publisher's feeds failing, a channel failing)")
    p.add_argument("--json", action="store_true", help="one JSON object: healthy, service, problems, notes, sites, "
                                                       "publishers, failing notifications")
    p = sub.add_parser("run", help="run the monitor service (or one pass with --once)")
    p.add_argument("--once", action="store_true", help="track, scan every site once, notify, and exit")
    return parser


COMMANDS = {"init": cmd_init, "track": cmd_track, "articles": cmd_articles, "untrack": cmd_untrack,
            "check": cmd_check, "alerts": cmd_alerts, "run": cmd_run, "status": cmd_status, "ack": cmd_ack,
            "ignore": cmd_ignore, "recheck": cmd_recheck, "report": cmd_report, "notice": cmd_notice,
            "notify": cmd_notify}


def main(argv: Sequence[str] | None = None) -> int:
    # `kill -USR1 <pid>` prints every thread's stack to stderr (the journal): how to see where a hang is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    args = build_parser().parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        if args.command == "extract" and args.config is None:
            cfg = None  # extract needs no config
        else:
            echo(f"error: {exc}", err=True)
            return EXIT_USAGE
    setup_logging(args.log_level or (cfg.monitor.log_level if cfg else "warning"),
                  args.log_format or (cfg.monitor.log_format if cfg else "text"))
    try:
        if args.command == "extract":
            status = cmd_extract(cfg, args)
        else:
            assert cfg is not None
            status = COMMANDS[args.command](cfg, args)
    except (StoreError, IndexFileError) as exc:
        echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    except sqlite3.OperationalError as exc:  # read-only, locked past the busy timeout, disk full
        reason = readonly_reason(Path(cfg.database_path)) if cfg and "readonly" in str(exc) else None
        where = cfg.database_path if cfg else "database"
        echo(f"error: {reason or f'{where}: {exc}'}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `provmon alerts | head`: the reader left while the command ran, its result unknown
        return _output_cut(EXIT_PIPE)
    try:  # what is still buffered; a reader gone now missed only output written after the result was decided
        sys.stdout.flush()
    except BrokenPipeError:
        return _output_cut(status)
    return status


def _output_cut(status: int) -> int:
    """The reader of our output went away: `status` it is. What is still buffered goes nowhere, so that Python's
    flush at exit neither fails again nor turns the status into 120."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # a stdout without a descriptor (replaced, as under pytest)
        pass
    return status


if __name__ == "__main__":
    sys.exit(main())
