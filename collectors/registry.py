"""Configured sources: `data/sources.toml` `[[sources]]` tables -> `Source` objects.

Validation is strict because staff edit this file by hand: an unknown key (say
`enable = false`) would otherwise silently leave a source switched on. Every
message names the file, the table's position and its name.

Kinds: "rss" (RSS/Atom, collectors.rss) and the list-page kinds "cnipa" and
"govlist" for sites without feeds (collectors.govsite). RSS URLs may be http(s),
file (a path relative to the sources file is allowed: `file:feeds/x.xml`), or
`rsshub:///route/...`, resolved against the office's RSSHub
(`Settings.rsshub_base`); list pages are http(s) only.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Container
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

import httpx

from collectors import govsite
from collectors.base import FetchResult
from collectors.reader import read_feed

KINDS = ("rss", *govsite.KINDS)
PLATFORMS = ("news", "government", "social", "forum", "wechat", "video")
REQUIRED = ("name", "url")
DEFAULT_INTERVAL_MINUTES = 60
# Characters left as they are when a route is percent-encoded (RFC 3986 path characters).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class SourceConfigError(ValueError):
    """The sources file cannot be used as written; the message says where and why."""


@dataclass(frozen=True)
class Source:
    name: str
    url: str                          # resolved: what is fetched
    kind: str = "rss"
    platform: str = "news"            # one of PLATFORMS
    enabled: bool = True
    region: str = ""                  # where the source reports on, e.g. "安徽", "安徽合肥"
    interval_minutes: int = DEFAULT_INTERVAL_MINUTES
    own: bool = False                 # the office's own channel (its site or account)
    always_relevant: bool = False     # everything it publishes is on-topic (an IP-only channel or search)
    weight: float = 1.0               # how much one item from here counts in heat and alerts
    notes: str = ""
    link_pattern: str = ""            # govlist: regular expression an article link must match
    max_items: int | None = None      # cnipa/govlist: list entries (cnipa) or articles (govlist) per run
    configured_url: str = ""          # as written in the file, e.g. rsshub:///weibo/keyword/...

    def collect(self, client: httpx.Client, *, etag: str | None = None, last_modified: str | None = None,
                fetched_at: datetime | None = None, known: Container[str] = frozenset()) -> FetchResult:
        """Read this source once; failures come back as `FetchResult.errors`.

        `known` holds canonical URLs already stored; list-page kinds skip fetching those articles.
        """
        if self.kind == "rss":
            return read_feed(self.url, client=client, source=self.name, platform=self.platform,
                             etag=etag, last_modified=last_modified, fetched_at=fetched_at)
        return govsite.collect(self.kind, client, self.url, source=self.name, platform=self.platform,
                               link_pattern=self.link_pattern or None, max_items=self.max_items, known=known,
                               etag=etag, last_modified=last_modified, fetched_at=fetched_at)


_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "text"),
    "url": (str, "text"),
    "kind": (str, "text"),
    "platform": (str, "text"),
    "enabled": (bool, "true or false"),
    "region": (str, "text"),
    "interval_minutes": (int, "a whole number of minutes"),
    "own": (bool, "true or false"),
    "always_relevant": (bool, "true or false"),
    "weight": ((int, float), "a number"),
    "notes": (str, "text"),
    "link_pattern": (str, "a regular expression (text)"),
    "max_items": (int, "a whole number"),
}


def load_sources(path: str | Path, rsshub_base: str) -> list[Source]:
    """All sources in the file, enabled or not, in file order. Raises SourceConfigError."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceConfigError(f"sources file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise SourceConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise SourceConfigError(f"{path}: not valid TOML: {e}") from None
    extra = set(doc) - {"sources"}
    if extra:
        raise SourceConfigError(f"{path}: unknown top-level key(s) {sorted(extra)}; "
                                f"each source is a [[sources]] table")
    tables = doc.get("sources", [])
    if not isinstance(tables, list):
        raise SourceConfigError(f"{path}: 'sources' must be written as [[sources]] tables")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, table in enumerate(tables, start=1):
        source = _source(table, where=f"{path}: source #{i}", base_dir=path.parent, rsshub_base=rsshub_base)
        if source.name in seen:
            raise SourceConfigError(f"{path}: source #{i}: the name {source.name!r} is used twice; "
                                    f"names identify sources in the runs history")
        seen.add(source.name)
        sources.append(source)
    return sources


def _source(table: Any, *, where: str, base_dir: Path, rsshub_base: str) -> Source:
    if not isinstance(table, dict):
        raise SourceConfigError(f"{where}: must be a [[sources]] table")
    if isinstance(table.get("name"), str) and table["name"].strip():
        where = f"{where} ({table['name'].strip()!r})"
    unknown = set(table) - set(_FIELDS)
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(_FIELDS)}")
    missing = [k for k in REQUIRED if k not in table]
    if missing:
        raise SourceConfigError(f"{where}: missing key(s) {', '.join(missing)}")
    for key, value in table.items():
        types, what = _FIELDS[key]
        # bool is an int in Python; a number field must not accept true/false.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise SourceConfigError(f"{where}: {key} must be {what}, got {value!r}")
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in table.items()}
    if not values["name"]:
        raise SourceConfigError(f"{where}: name is empty")
    kind = values.get("kind", "rss")
    if kind not in KINDS:
        raise SourceConfigError(f"{where}: unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
    platform = values.get("platform", "news")
    if platform not in PLATFORMS:
        raise SourceConfigError(f"{where}: unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    if values.get("interval_minutes", DEFAULT_INTERVAL_MINUTES) < 1:
        raise SourceConfigError(f"{where}: interval_minutes must be at least 1")
    if values.get("weight", 1.0) < 0:
        raise SourceConfigError(f"{where}: weight must not be negative")
    if "max_items" in values and (kind == "rss" or values["max_items"] < 1):
        raise SourceConfigError(f"{where}: max_items is for cnipa/govlist sources and must be at least 1")
    if "link_pattern" in values:
        if kind != "govlist":
            raise SourceConfigError(f"{where}: link_pattern is only for kind = \"govlist\"")
        try:
            re.compile(values["link_pattern"])
        except re.error as e:
            raise SourceConfigError(f"{where}: link_pattern is not a valid regular expression: {e}") from None
    values["weight"] = float(values.get("weight", 1.0))
    values["configured_url"] = values["url"]
    values["url"] = resolve_url(values["url"], base_dir=base_dir, rsshub_base=rsshub_base, where=where)
    if kind != "rss" and urlsplit(values["configured_url"]).scheme.lower() not in ("http", "https"):
        raise SourceConfigError(f"{where}: a {kind} source needs an http(s) page address")
    return Source(**values)


def resolve_url(url: str, *, base_dir: Path, rsshub_base: str, where: str = "source") -> str:
    """The address to fetch for a configured URL; raises SourceConfigError for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise SourceConfigError(f"{where}: bad url {url!r}: {e}") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise SourceConfigError(f"{where}: url {url!r} has no host")
        return url
    if scheme == "file":
        p = Path(url2pathname(unquote(parts.path)))
        if parts.netloc and parts.netloc != "localhost":
            raise SourceConfigError(f"{where}: file url {url!r} names a host; write file:///absolute/path "
                                    f"or file:relative/path")
        return (p if p.is_absolute() else base_dir / p).resolve().as_uri()
    if scheme == "rsshub":
        route = (parts.netloc + parts.path) if parts.netloc else parts.path
        route = "/" + route.lstrip("/")
        if route == "/":
            raise SourceConfigError(f"{where}: rsshub url {url!r} has no route (e.g. rsshub:///weibo/user/123)")
        base = urlsplit(rsshub_base)
        if base.scheme not in ("http", "https") or not base.hostname:
            raise SourceConfigError(f"{where}: rsshub_base {rsshub_base!r} must be an http(s) address")
        query = f"?{parts.query}" if parts.query else ""
        return rsshub_base.rstrip("/") + quote(route, safe=_PATH_SAFE) + query
    raise SourceConfigError(f"{where}: url {url!r} must start with http://, https://, file: or rsshub:///")


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)
