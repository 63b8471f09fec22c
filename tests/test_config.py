from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config, parse_interval
from tests.conftest import REPO, provmon, write_config


def test_shipped_config_loads_and_documents_every_key() -> None:
    cfg = load_config(REPO / "config.toml")
    assert cfg.sites and cfg.track
    text = (REPO / "config.toml").read_text()
    for section in ("monitor", "fetch", "match"):
        for key in getattr(cfg, section).__dataclass_fields__:
            assert f"{key} =" in text, f"config.toml does not show [{section}] {key}"
    for key in cfg.sites[0].__dataclass_fields__:
        assert f"{key} =" in text, f"config.toml does not show [[sites]] {key}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[fetch]\ntimeout_s = 3\n", "unknown key 'fetch.timeout_s'"),
        ("[fetch]\ntimeout = \"soon\"\n", "'fetch.timeout' must be float"),
        ("[[sites]]\nname = \"a\"\n", "missing required key 'sites[0].start_urls'"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\"]\ninterval = \"often\"\n", "'sites[0].interval'"),
        ("[[sites]]\nname = \"a\"\nstart_urls = \"http://x\"\n", "'sites[0].start_urls' must be a list"),
        ("[match]\nmin_coverage = 2\n", "'match.min_coverage' must be between 0 and 1"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\"]\ninclude = [\"(\"]\n",
         "'sites[0].include[0]' is not a regular expression"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\"]\ninclude = [\"a\"]\nexclude = [\"b\", \"[\"]\n",
         "'sites[0].exclude[1]' is not a regular expression"),
        ("[[notify]]\ntype = \"pager\"\n", "'notify[0].type' must be one of"),
        ("[[notify]]\ntype = \"webhook\"\nurl = \"ftp://x\"\n", "'notify[0].url'"),
        ("[[notify]]\ntype = \"email\"\nhost = \"h\"\nsender = \"a@b\"\n", "'notify[0].recipients'"),
        ("[bogus]\n", "unknown key 'bogus'"),
        ("[fetch\n", "not valid TOML"),
        # Found by review: each used to pass the load and fail later, with a traceback or a dead service.
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\"]\ntimezone = \"Europe\"\n",
         "'sites[0].timezone' is not a known time zone: 'Europe'"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"https://[example.com/\"]\n",
         "'sites[0].start_urls[0]' = 'https://[example.com/' is not a valid URL"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\"]\nfeeds = [\"http://x:99999/f\"]\n",
         "'sites[0].feeds[0]'"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"ftp://x/\"]\n", "has scheme 'ftp'; only http, https, file"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"https:///path\"]\n", "has no host name"),
        ("[[track]]\nsource = \"gopher://x/1\"\n", "'track[0].source'"),
        ("[[publishers]]\nname = \"p\"\nfeeds = [\"http://[::1/f\"]\n", "'publishers[0].feeds[0]'"),
        ("[fetch]\ntimeout = nan\n", "'fetch.timeout' must be a finite number"),
        ("[fetch]\nmin_delay = inf\n", "'fetch.min_delay' must be a finite number"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\"]\ninterval = \"9999999999d\"\n",
         "is longer than 3650 days"),
        ("retention_days = 99999999\n", "'monitor.retention_days' must be between 1 and 3650"),
        ("[[sites]]\nname = \"a\"\nstart_urls = [\"http://x\", \" \"]\n",
         "'sites[0].start_urls[1]' must not be empty: a URL or a path"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path: Path, body: str, expected: str) -> None:
    cfg = write_config(tmp_path / "bad.toml", body)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert expected in str(err.value)
    assert str(cfg.resolve()) in str(err.value) or str(cfg) in str(err.value)


def test_cli_exits_2_with_key_and_file(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "bad.toml", "[fetch]\nmax_byte = 1\n")
    r = provmon("--config", str(cfg), "alerts")
    assert r.code == 2
    assert "fetch.max_byte" in r.err and "bad.toml" in r.err


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    r = provmon("--config", str(tmp_path / "nope.toml"), "init")
    assert r.code == 2
    assert "nope.toml" in r.err and "not found" in r.err


def test_config_from_environment(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "env.toml", "")
    r = provmon("init", env={"PROVMON_CONFIG": str(cfg)}, cwd=tmp_path)
    assert r.code == 0, r.err
    assert (tmp_path / "provmon.db").exists()


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    cfg_path = tmp_path / "sub" / "c.toml"
    cfg_path.write_text('[monitor]\ndatabase = "state/x.db"\n[[track]]\nsource = "a.html"\n')
    cfg = load_config(cfg_path)
    assert cfg.database_path == (tmp_path / "sub" / "state" / "x.db").resolve()
    assert cfg.resolve_source("a.html") == (tmp_path / "sub" / "a.html").resolve().as_uri()
    assert cfg.resolve_source("https://example.org/a") == "https://example.org/a"


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    site = '[[sites]]\nname = "a"\nstart_urls = ["http://x"]\n'
    with pytest.raises(ConfigError, match="repeats the site name"):
        load_config(write_config(tmp_path / "c.toml", site + site))
    hook = '[[notify]]\ntype = "webhook"\nurl = "http://127.0.0.1/h"\n'
    with pytest.raises(ConfigError, match="repeats the channel name"):
        load_config(write_config(tmp_path / "d.toml", hook + hook))


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400),
                                                ("0.5h", 1800)])
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "-1m", "0s"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_a_track_source_that_is_a_folder_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    """A folder of articles as a [[track]] source: refused at load naming the key, the file and the command that
    tracks a folder, rather than failing at track time on an index.html nobody named. A folder with an index.html
    is that page (a static site's), as the file transport reads it."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "one.txt").write_text("A headline\n\nSome text.\n", encoding="utf-8")
    for source in ("articles", articles.as_uri() + "/", str(articles)):
        cfg = write_config(tmp_path / "config.toml", f'[[track]]\nsource = "{source}"\n')
        with pytest.raises(ConfigError) as err:
            load_config(cfg)
        assert str(err.value) == (
            f"{cfg}: 'track[0].source' = {source!r} is a directory ({articles}) with no index.html: a [[track]] "
            f"entry is one file or URL. Track the files in it with `provmon track {articles}`, or give each its own "
            f"[[track]] entry")
    r = provmon("--config", str(cfg), "run", "--once")
    assert r.code == 2 and "is a directory" in r.err and "index.html: No such file" not in r.err + r.out
    (articles / "index.html").write_text("<html><body><p>The page.</p></body></html>", encoding="utf-8")
    assert load_config(cfg).track[0].source == str(articles)
