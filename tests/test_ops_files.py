"""Files beside the database and the users who run provmon: a `sudo provmon track` on the service user's database
leaves nothing that user cannot use, a file it cannot use is named with the fix, and a database directory that is
not writable is named as the problem (not "not a usable SQLite database")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, write_config
from tests.test_bad_input import run_unprivileged

SERVICE_UID = SERVICE_GID = 65534  # nobody:nogroup, standing in for the service's user
# Every `track` compacts the index (the threshold is 200,000 postings otherwise): the compaction is what takes the
# lock and writes a packed file beside the database.
FORCE_COMPACTION = """import sys
import monitor.index
monitor.index.RECENT_MIN = 0
from monitor.cli import main
sys.exit(main(sys.argv[1:]))
"""
STORIES = {
    "harbour.txt": "The harbour wall gave way on Tuesday night after weeks of storms battered the coast, and the "
                   "fishing fleet moved to the river mouth while engineers surveyed the damage to the old stones. ",
    "library.txt": "A library in the valley reopened its doors to readers this spring after two years of repairs "
                   "to a roof that had leaked onto the local history shelves every winter since the floods. ",
    "bridge.txt": "The council voted to rebuild the footbridge over the canal in timber rather than steel, after "
                  "residents asked that it match the lock keeper's cottage and the towpath railings beside it. ",
}


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A database directory owned by the service user, reachable by it (pytest's tmp_path is root's, mode 700)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to act as another user")
    top = Path(tempfile.mkdtemp(prefix="provmon-ops-"))
    try:
        top.chmod(0o755)
        db_dir = top / "db"
        db_dir.mkdir(mode=0o755)
        os.chown(db_dir, SERVICE_UID, SERVICE_GID)
        (top / "force.py").write_text(FORCE_COMPACTION)
        for name, text in STORIES.items():
            (top / name).write_text(text * 12)
            (top / f"copy-of-{name}").write_text(text * 12)  # a page that copies it (a file is not its own copy)
        write_config(top / "config.toml", "", database=db_dir / "provmon.db")
        for p in top.iterdir():
            if p.is_file():
                p.chmod(0o644)
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def provmon_as(top: Path, uid: int | None, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    """`provmon --config ... ARGS` with every track compacting, as `uid` (None: root, this process's user)."""
    user = [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={SERVICE_GID}", "--clear-groups"]
    env = {**{k: v for k, v in os.environ.items() if k != "PROVMON_CONFIG"}, "PYTHONPATH": str(REPO),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([*user, sys.executable, str(top / "force.py"), "--config", str(top / "config.toml"), *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env,
                          preexec_fn=lambda: os.umask(umask))


def owners(directory: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_uid, p.stat().st_gid) for p in directory.iterdir()}


def test_track_as_root_leaves_files_the_service_user_can_use(shared_dir: Path) -> None:
    db_dir = shared_dir / "db"
    r = provmon_as(shared_dir, SERVICE_UID, "track", str(shared_dir / "harbour.txt"))
    assert r.returncode == 0, r.stderr
    # The lock is made by whoever compacts first (here: root, as on a database restored without its lock file, or
    # whose lock an operator removed), with root's umask (sudo under a strict one).
    (db_dir / "provmon.db.idx.lock").unlink()
    r = provmon_as(shared_dir, None, "track", str(shared_dir / "library.txt"), umask=0o077)
    assert r.returncode == 0, r.stderr
    files = owners(db_dir)
    assert any(name.startswith("provmon.db.idx-") for name in files), files
    assert "provmon.db.idx.lock" in files, files
    assert set(files.values()) == {(SERVICE_UID, SERVICE_GID)}, files
    # The service user tracks (and compacts: takes the lock, reads the packed file, replaces it) and checks.
    r = provmon_as(shared_dir, SERVICE_UID, "track", str(shared_dir / "bridge.txt"))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    r = provmon_as(shared_dir, SERVICE_UID, "check", str(shared_dir / "copy-of-library.txt"))
    assert r.returncode == 0 and "library.txt" in r.stdout, r.stdout + r.stderr


def test_a_file_beside_the_database_the_user_cannot_use_is_named_with_the_fix(shared_dir: Path) -> None:
    db_dir = shared_dir / "db"
    db, lock = db_dir / "provmon.db", db_dir / "provmon.db.idx.lock"
    assert provmon_as(shared_dir, SERVICE_UID, "track", str(shared_dir / "harbour.txt")).returncode == 0
    # A lock root left behind (an older provmon run with sudo).
    os.chown(lock, 0, 0)
    r = provmon_as(shared_dir, SERVICE_UID, "track", str(shared_dir / "library.txt"))
    # The article is tracked (committed before the compaction, which only waits): the error is about the lock.
    assert r.returncode == 0 and "tracked #2" in r.stdout and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert "the index was not compacted" in r.stderr, r.stderr
    assert f"{lock}: permission denied" in r.stderr and f"chown --reference={db} {lock}" in r.stderr, r.stderr
    # A packed file the service user cannot read (root's, mode 600) is named too, by the commands that read it.
    os.chown(lock, SERVICE_UID, SERVICE_GID)
    (segment,) = db_dir.glob("provmon.db.idx-*")
    os.chown(segment, 0, 0)
    segment.chmod(0o600)
    r = provmon_as(shared_dir, SERVICE_UID, "check", str(shared_dir / "copy-of-harbour.txt"))
    assert r.returncode == 2 and f"{segment}: permission denied" in r.stderr and "Traceback" not in r.stderr, r.stderr
    # Root running provmon again gives such files back to the database's owner.
    os.chown(lock, 0, 0)
    assert provmon_as(shared_dir, None, "check", str(shared_dir / "copy-of-harbour.txt")).returncode == 0
    assert provmon_as(shared_dir, None, "track", str(shared_dir / "bridge.txt")).returncode == 0
    assert set(owners(db_dir).values()) == {(SERVICE_UID, SERVICE_GID)}, owners(db_dir)
    assert provmon_as(shared_dir, SERVICE_UID, "track", str(shared_dir / "library.txt")).returncode == 0


def test_a_read_only_database_directory_is_named(tmp_path: Path) -> None:
    """SQLite creates the -wal and -shm files beside the database: the directory must be writable, and the message
    says so instead of "not a usable SQLite database: attempt to write a readonly database"."""
    cfg = write_config(tmp_path / "config.toml", "")
    (tmp_path / "story.txt").write_text(STORIES["harbour.txt"] * 12)
    r = subprocess.run([sys.executable, "-m", "monitor", "--config", str(cfg), "init"], capture_output=True,
                       text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    tmp_path.chmod(0o555)
    try:
        for args in (["status"], ["track", str(tmp_path / "story.txt")]):
            code, _, err = run_unprivileged(tmp_path, "--config", str(cfg), *args)
            assert code == 2 and "Traceback" not in err, err
            assert f"{tmp_path}: the database's directory is not writable" in err, err
            assert "not a usable SQLite database" not in err, err
    finally:
        tmp_path.chmod(0o755)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: root handing files to the service user")
def test_root_never_gives_away_or_writes_through_a_planted_link(tmp_path: Path) -> None:
    """The service user owns the database's directory, and could plant links there: a symbolic link as the index
    lock, or as a migration's backup, must not make root hand the link's target to that user, or write it (a
    review found both: `sudo provmon status` gave away a root file through the lock)."""
    import sqlite3

    from monitor.index import IndexFileError
    from monitor.store import SCHEMA_VERSION, Store

    d = tmp_path / "db"
    d.mkdir()
    db = d / "provmon.db"
    Store(db).close()
    victim = tmp_path / "root-secret"
    victim.write_text("root secret\n")
    victim.chmod(0o600)
    # What the service user could do: make the index look stale (a compaction takes the lock) and link the lock to
    # a file of root's; link the name of a migration's backup to a path of root's.
    with sqlite3.connect(db) as c:
        c.execute("INSERT OR REPLACE INTO meta VALUES ('index_segment', 'provmon.db.idx-99')")
    lock = d / "provmon.db.idx.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(victim)
    bak_target = tmp_path / "not-to-be-created"
    bak = d / f"provmon.db.v{SCHEMA_VERSION - 1}.bak"
    bak.symlink_to(bak_target)
    for p in [d, *d.iterdir()]:
        os.lchown(p, SERVICE_UID, SERVICE_GID)
    with pytest.raises(IndexFileError, match="is a symbolic link"):
        Store(db).close()  # what `sudo provmon status` does first
    st = victim.stat()
    assert (st.st_uid, victim.read_text()) == (0, "root secret\n")
    lock.unlink()
    with Store(db) as store:
        store.backup(bak)  # as a migration does, first
    assert not bak_target.exists()  # the backup replaced the link instead of writing through it
    assert not bak.is_symlink() and (bak.stat().st_uid, bak.stat().st_gid) == (SERVICE_UID, SERVICE_GID)
