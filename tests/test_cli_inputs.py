"""`provmon track`/`check` inputs as a reviewer found them: byte order marks, missing files, symlinked
folders, an empty store, output redirected under a progress bar, and the JSON error key."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.store import Store
from tests.conftest import REPO, provmon, write_config
from tests.test_bad_input import unprivileged
from tests.test_index import article_text

TITLE = "Café owners on Quay Street count the cost of the “spring tide”"


def story(seed: int) -> str:
    """A title line and paragraphs of generated words, with accents and curly quotes (not ASCII-only)."""
    body = article_text(seed, 360).split(". ")
    paras = [". ".join(body[k:k + 6]) + "." for k in range(0, len(body), 6)]
    return TITLE + "\n\n" + "\n\n".join(paras).replace(" the ", " thé ", 3) + "\n"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", "")


# 1. Encoding comes from the byte order mark, for plain text as for HTML.

@pytest.mark.parametrize("codec,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                       ("utf-32-le", b"\xff\xfe\x00\x00"), ("utf-32-be", b"\x00\x00\xfe\xff")],
                         ids=["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_a_text_file_with_a_wide_bom_is_decoded_by_it(cfg: Path, tmp_path: Path, codec: str, bom: bytes) -> None:
    text = story(1)
    original = tmp_path / "original.txt"
    original.write_bytes(bom + text.encode(codec))
    r = provmon("--config", str(cfg), "track", "--json", str(original))
    assert r.code == 0, r.err
    (line,) = r.json_lines()
    assert line["title"] == TITLE and line["chars"] == len(text)

    copy = tmp_path / "copy.txt"  # the same words in UTF-8 are a verbatim copy of it
    copy.write_text("Reposted without permission.\n\n" + text, encoding="utf-8")
    r = provmon("--config", str(cfg), "check", "--json", str(copy))
    assert r.code == 0, r.err
    (found,) = r.json_lines()[0]["copies"]
    assert found["kind"] == "verbatim"
    for p in found["passages"]:  # article offsets count characters of the decoded original
        assert text[p["article_start"]:p["article_end"]] == p["article_text"]


def test_a_utf16_page_offsets_count_its_decoded_characters(cfg: Path, tmp_path: Path) -> None:
    text = story(2)
    (tmp_path / "original.txt").write_text(text, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    page = tmp_path / "page.txt"
    page.write_text("Reposted without permission.\n\n" + text, encoding="utf-16")  # BOM, then UTF-16 LE
    r = provmon("--config", str(cfg), "check", "--json", str(page))
    assert r.code == 0, r.err
    (found,) = r.json_lines()[0]["copies"]
    decoded = page.read_text(encoding="utf-16")
    assert found["passages"] and all(decoded[p["page_start"]:p["page_end"]] == p["page_text"]
                                     for p in found["passages"])


def test_a_utf16_html_page_is_still_extracted(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(f"<html><head><title>{TITLE}</title></head><body><article><p>{story(3)}</p></article>"
                     f"</body></html>".encode("utf-16"))
    r = provmon("extract", "--json", str(page))
    assert r.code == 0, r.err
    assert r.json_lines()[0]["title"] == TITLE


# 7. A UTF-8 BOM is not counted: offsets land on the copied text when the file is read as utf-8-sig.

def test_offsets_in_a_utf8_file_with_a_bom_count_characters_after_it(cfg: Path, tmp_path: Path) -> None:
    text = story(4)
    (tmp_path / "original.txt").write_text(text, encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    page = tmp_path / "page.txt"
    page.write_text("Reposted without permission.\n\n" + text, encoding="utf-8-sig")
    assert page.read_bytes().startswith(b"\xef\xbb\xbf")
    r = provmon("--config", str(cfg), "check", "--json", str(page))
    (found,) = r.json_lines()[0]["copies"]
    decoded = page.read_text(encoding="utf-8-sig")
    assert found["passages"] and all(decoded[p["page_start"]:p["page_end"]] == p["page_text"]
                                     for p in found["passages"])


# 3. A missing local file is named as missing, not as an HTTP status.

def test_a_missing_file_is_said_to_be_missing(cfg: Path, tmp_path: Path) -> None:
    (tmp_path / "original.txt").write_text(story(5), encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    missing = tmp_path / "no" / "such.txt"
    for command in (["track"], ["check"], ["extract"]):
        r = provmon("--config", str(cfg), *command, str(missing))
        assert r.code == 2, (command, r.err)
        assert f"cannot read {missing}: No such file or directory" in r.err, (command, r.err)
        assert "HTTP" not in r.err and "404" not in r.err


def test_an_unreadable_file_reads_like_a_missing_one(cfg: Path, tmp_path: Path) -> None:
    (tmp_path / "original.txt").write_text(story(6), encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    locked = tmp_path / "locked.txt"
    locked.write_text(story(7), encoding="utf-8")
    locked.chmod(0)
    p = subprocess.run(unprivileged(sys.executable, "-m", "monitor", "--config", str(cfg), "check", str(locked)),
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert p.returncode == 2
    assert f"{locked.as_uri()}: cannot read {locked}: Permission denied" in p.stderr, p.stderr


def test_a_binary_file_named_txt_is_refused_naming_it(cfg: Path, tmp_path: Path) -> None:
    """A .txt is taken as it is: one holding binary data (NULs past the first KB, which the quick sniff reads; random
    bytes, which decode as nothing) is refused, naming the file. A cp1252 text (invalid UTF-8) is text all the same."""
    (tmp_path / "original.txt").write_text(story(8), encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(tmp_path / "original.txt")).code == 0
    nul = tmp_path / "late-nul.txt"
    nul.write_bytes(story(9).encode() + b"\x00\x00\x00\x01\x02 trailer")
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes((i * 7919 + 13) % 255 + 1 for i in range(4000)))  # no NUL, mostly not text
    early = tmp_path / "early-nul.txt"  # caught by the quick sniff, which used to name the type its name suggests
    early.write_bytes(b"hello\x00world " + story(9).encode())
    pdf = tmp_path / "scan.txt"
    pdf.write_bytes(b"%PDF-1.7\n" + story(9).encode())
    for path, why in ((nul, "it holds NUL bytes"), (noise, "are control characters or bytes no text encoding"),
                      (early, "it holds NUL bytes"), (pdf, "it starts as a binary file does (PDF, image, archive)")):
        for command in ("track", "check"):
            r = provmon("--config", str(cfg), command, str(path))
            assert r.code == 2, (command, r.out, r.err)
            assert f"{path.as_uri()}: {path} is not a text file: " in r.err and why in r.err, (command, r.err)
            assert "not HTML or text" not in r.err, r.err
    with Store(tmp_path / "provmon.db") as store:
        assert store.article_count() == 1
    latin = tmp_path / "latin.txt"
    latin.write_bytes(story(10).encode("cp1252", "replace"))
    r = provmon("--config", str(cfg), "track", "--json", str(latin))
    assert r.code == 0 and r.json_lines()[0]["created"], r.err


# 4. Symlinked folders are followed (once), broken links are errors that name the link.

def test_symlinked_folders_are_followed_once_and_broken_links_reported(cfg: Path, tmp_path: Path) -> None:
    real, archive = tmp_path / "real2024", tmp_path / "archive"
    (real / "may").mkdir(parents=True)
    archive.mkdir()
    (archive / "top.txt").write_text(story(10), encoding="utf-8")
    (real / "jan.txt").write_text(story(11), encoding="utf-8")
    (real / "may" / "may.txt").write_text(story(12), encoding="utf-8")
    (archive / "2024").symlink_to("../real2024")
    (archive / "again").symlink_to("../real2024")  # the same folder twice
    (real / "may" / "up").symlink_to("../..")  # a loop back up the tree
    (archive / "jan-link.txt").symlink_to(real / "jan.txt")  # the same file again
    (archive / "broken.txt").symlink_to(tmp_path / "nonexistent.txt")
    (archive / "gone-folder").symlink_to(tmp_path / "nonexistent")
    (archive / "logo.png").symlink_to(tmp_path / "nonexistent.png")  # not a document: nothing to say

    r = provmon("--config", str(cfg), "track", "--json", str(archive))
    assert r.code == 2, r.err
    lines = r.json_lines()
    tracked = sorted(line["url"] for line in lines if "id" in line)
    # symlinked files are known by their target's URL, each read once
    assert tracked == sorted(p.as_uri() for p in (archive / "top.txt", real / "jan.txt", real / "may" / "may.txt"))
    errors = {line["url"]: line["error"] for line in lines if "error" in line}
    assert sorted(errors) == [(archive / "broken.txt").as_uri(), (archive / "gone-folder").as_uri()]
    assert f"{archive / 'broken.txt'}: broken symbolic link to {tmp_path / 'nonexistent.txt'}" in r.err
    assert "gone-folder: broken symbolic link" in r.err and "logo.png" not in r.err

    r = provmon("--config", str(cfg), "track", str(archive / "broken.txt"))  # given directly
    assert r.code == 2 and f"{archive / 'broken.txt'}: broken symbolic link" in r.err, r.err


# 5. Checking against an empty store says that nothing is tracked.

def test_check_with_nothing_tracked_says_so(cfg: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(story(20), encoding="utf-8")
    for json_flag in ([], ["--json"]):
        r = provmon("--config", str(cfg), "check", *json_flag, str(page))
        assert r.code == 2
        assert f"no articles are tracked in {tmp_path / 'provmon.db'}: run provmon track first" in r.err
        assert r.out == ""
        assert not (tmp_path / "provmon.db").exists()  # no empty database left behind
    provmon("--config", str(cfg), "init")  # an existing store with nothing in it says the same
    r = provmon("--config", str(cfg), "check", str(page))
    assert r.code == 2 and "no articles are tracked" in r.err


# 6. Errors carry the same key in `track --json` and `check --json`.

def test_json_errors_name_the_input_under_url_in_track_and_check(cfg: Path, tmp_path: Path) -> None:
    original = tmp_path / "original.txt"
    original.write_text(story(30), encoding="utf-8")
    missing = tmp_path / "missing.txt"
    r = provmon("--config", str(cfg), "track", "--json", str(original), str(missing))
    (track_error,), (tracked,) = ([line for line in r.json_lines() if ("error" in line) == e] for e in (True, False))
    assert tracked["url"] == tracked["source"] == original.as_uri()  # "source": the old name, still there
    assert track_error["url"] == missing.as_uri() and "missing.txt" in track_error["error"]
    r = provmon("--config", str(cfg), "check", "--json", str(missing))
    (check_error,) = r.json_lines()
    assert check_error["url"] == track_error["url"] and check_error["error"] == track_error["error"]
    (tmp_path / "empty").mkdir()  # an error found while listing a folder is keyed by its URL too
    for command in ("track", "check"):
        (line,) = provmon("--config", str(cfg), command, "--json", str(tmp_path / "empty")).json_lines()
        assert line["url"] == (tmp_path / "empty").as_uri() and "no .txt" in line["error"]


# 2. Result lines go to stdout when it is a file, even with the progress bar on a terminal.

def on_terminal(args: list[str], stdout: Path | None) -> tuple[int, str, str]:
    """Run provmon with stderr on a real pseudo-terminal and stdout into `stdout` (None: the same terminal);
    returns (status, what the terminal showed, the file)."""
    master, slave = pty.openpty()
    out = stdout.open("w") if stdout else None
    p = subprocess.Popen([sys.executable, "-m", "monitor", *args], stdout=out or slave, stderr=slave, cwd=REPO,
                         env={k: v for k, v in os.environ.items() if k != "PROVMON_CONFIG"})
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    break
                if not data:
                    break
                shown += data
            elif p.poll() is not None:
                break
        code = p.wait(timeout=30)
    finally:
        os.close(master)
        if out:
            out.close()
    return code, shown.decode(), stdout.read_text() if stdout else ""


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    originals, pages = tmp_path / "originals", tmp_path / "pages"
    originals.mkdir()
    pages.mkdir()
    for k in range(3):
        (originals / f"story-{k}.txt").write_text(story(40 + k), encoding="utf-8")
    (pages / "a-copy.txt").write_text("Reposted.\n\n" + story(41), encoding="utf-8")
    (pages / "b-other.txt").write_text(article_text(4000), encoding="utf-8")
    return originals, pages


def test_result_lines_reach_a_redirected_stdout_under_the_progress_bar(cfg: Path, tmp_path: Path) -> None:
    originals, pages = _folders(tmp_path)
    code, terminal, out = on_terminal(["--config", str(cfg), "track", str(originals)], tmp_path / "out.txt")
    assert code == 0
    assert "track [" in terminal and "3/3" in terminal  # the bar still shows on the terminal
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["tracked #1", "tracked #2", "tracked #3"]
    assert lines[-1].startswith("3 tracked, 0 already tracked, 0 errors")
    code, terminal, out = on_terminal(["--config", str(cfg), "check", str(pages)], tmp_path / "out2.txt")
    assert code == 0 and "check [" in terminal
    assert f"{(pages / 'a-copy.txt').as_uri()}: COPY (verbatim)" in out
    assert f"{(pages / 'b-other.txt').as_uri()}: no copy of a tracked article" in out
    assert out.splitlines()[-1] == "checked 2 pages: 1 copies a tracked article, 1 does not"


def test_on_one_terminal_the_bar_replaces_the_line_per_input(cfg: Path, tmp_path: Path) -> None:
    originals, pages = _folders(tmp_path)
    code, terminal, _ = on_terminal(["--config", str(cfg), "track", str(originals)], None)
    assert code == 0 and "track [" in terminal
    assert "tracked #" not in terminal and "3 tracked, 0 already tracked, 0 errors" in terminal
    code, terminal, _ = on_terminal(["--config", str(cfg), "check", str(pages)], None)
    assert code == 0 and "COPY (verbatim)" in terminal  # copies are still shown
    assert "no copy of a tracked article" not in terminal


def test_track_title_renames_an_article_tracked_before(cfg: Path, tmp_path: Path) -> None:
    """`track --title` on a text tracked before says, and stores, the new title (it said it and kept the old)."""
    original = tmp_path / "original.txt"
    original.write_text(story(7), encoding="utf-8")
    assert provmon("--config", str(cfg), "track", str(original)).code == 0
    r = provmon("--config", str(cfg), "track", "--title", "Renamed story", str(original))
    assert r.code == 0 and "already tracked #1: Renamed story" in r.out and f"renamed from {TITLE!r}" in r.out, r.out
    again = provmon("--config", str(cfg), "track", "--json", str(original)).json_lines()[0]
    assert again["title"] == "Renamed story" and not again["created"]


def test_extract_fetches_as_the_configured_monitor_does(tmp_path: Path) -> None:
    """`extract` shows what a scan sees, so it reads [fetch] (here max_bytes) from the config when one is given."""
    page = tmp_path / "page.html"
    page.write_text("<html><body><article>" + "<p>A paragraph of our own page, repeated.</p>" * 100
                    + "</article></body></html>")
    cfg = write_config(tmp_path / "config.toml", "[fetch]\nmax_bytes = 2000\n")
    r = provmon("--config", str(cfg), "extract", str(page))
    assert r.code == 2 and "exceeds fetch.max_bytes (2000)" in r.err, r.err
    (tmp_path / "elsewhere").mkdir()
    assert provmon("extract", str(page), cwd=tmp_path / "elsewhere").code == 0  # no config: the default cap


def test_an_empty_argument_is_refused_not_read_as_the_current_directory(cfg: Path, tmp_path: Path) -> None:
    """`track "$URL"` with URL unset: Path("") is ".", which would track every document under the cwd."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "page.txt").write_text(story(1), encoding="utf-8")
    for command in ("track", "check", "extract"):
        r = provmon("--config", str(cfg), command, "", cwd=work)
        assert r.code == 2, (command, r.out, r.err)
        assert "'': an empty argument names no file, directory or URL (an unset shell variable?)" in r.err, command
        assert "page.txt" not in r.out
    r = provmon("--config", str(cfg), "track", "--json", " ", str(work / "page.txt"), cwd=work)
    assert r.code == 2
    assert [x.get("created") for x in r.json_lines() if "error" not in x] == [True]  # the real one still tracked
    untrack = provmon("--config", str(cfg), "untrack", "", cwd=work)
    assert untrack.code == 2 and "an empty argument names no file" in untrack.err
    assert len(provmon("--config", str(cfg), "articles", "--json").json_lines()) == 1
