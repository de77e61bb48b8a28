"""Configured sources: `data/sources.toml` `[[sources]]` tables -> `Source` objects.

Validation is strict because staff edit this file by hand: an unknown key (say
`enable = false`) would otherwise silently leave a source switched on. Every
message names the file, the table's position and its name.

Kinds: "rss" (RSS/Atom, collectors.rss) and the list-page kinds "cnipa" and
"govlist" for sites without feeds (collectors.govsite). RSS URLs may be http(s),
file (a path relative to the sources file is allowed: `file:feeds/x.xml`), or
`rsshub:///route/...`, resolved against the office's RSSHub
(`Settings.rsshub_base`); list pages are http(s) only.

The dashboard's 信息源 page edits the file through `save_sources`, which writes
every source back in a fixed layout under a fixed header comment (other comments
are not kept) and refuses anything `load_sources` would refuse.
"""
from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import socket
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

import httpx

from collectors import govsite
from collectors.base import DEFAULT_PORTS, FetchResult
from collectors.reader import read_feed

KINDS = ("rss", *govsite.KINDS)
PLATFORMS = ("news", "government", "social", "forum", "wechat", "video")
# What staff read for each platform code (pages, briefings, exports).
PLATFORM_LABELS = {"news": "新闻网站", "government": "政务网站", "social": "社交媒体", "forum": "论坛",
                   "wechat": "微信公众号", "video": "视频平台", "rss": "RSS"}
REQUIRED = ("name", "url")
WEIGHT_PROBLEM = "权重应为不小于 0 的数（不能为负数或无穷大）"
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
                fetched_at: datetime | None = None, known: govsite.Known = frozenset()) -> FetchResult:
        """Read this source once; failures come back as `FetchResult.errors`.

        `known` holds (or looks up) canonical URLs already stored; list-page kinds skip fetching those
        articles (govsite.Known).
        """
        if self.kind == "rss":
            return read_feed(self.url, client=client, source=self.name, platform=self.platform,
                             etag=etag, last_modified=last_modified, fetched_at=fetched_at)
        return govsite.collect(self.kind, client, self.url, source=self.name, platform=self.platform,
                               link_pattern=self.link_pattern or None, max_items=self.max_items, known=known,
                               etag=etag, last_modified=last_modified, fetched_at=fetched_at)


_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "name": (str, "文字（加引号）"),
    "url": (str, "文字（加引号）"),
    "kind": (str, "文字（加引号）"),
    "platform": (str, "文字（加引号）"),
    "enabled": (bool, "true 或 false"),
    "region": (str, "文字（加引号）"),
    "interval_minutes": (int, "整数（分钟）"),
    "own": (bool, "true 或 false"),
    "always_relevant": (bool, "true 或 false"),
    "weight": ((int, float), "数字"),
    "notes": (str, "文字（加引号）"),
    "link_pattern": (str, "正则表达式（文字，加引号）"),
    "max_items": (int, "整数"),
}


def load_sources(path: str | Path, rsshub_base: str) -> list[Source]:
    """All sources in the file, enabled or not, in file order. Raises SourceConfigError."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceConfigError(f"找不到信息源配置文件：{path}") from None
    except UnicodeDecodeError as e:
        raise SourceConfigError(f"{path}：不是 UTF-8 编码的文本（第 {e.start} 字节：{e.reason}）") from None
    except tomllib.TOMLDecodeError as e:
        raise SourceConfigError(f"{path}：TOML 格式有误（{e}）") from None
    extra = set(doc) - {"sources"}
    if extra:
        raise SourceConfigError(f"{path}：不认识的顶层设置 {'、'.join(sorted(extra))}；"
                                f"每个信息源应写成一个 [[sources]] 表")
    tables = doc.get("sources", [])
    if not isinstance(tables, list):
        raise SourceConfigError(f"{path}：sources 应写成 [[sources]] 表")
    sources: list[Source] = []
    seen: set[str] = set()
    for i, table in enumerate(tables, start=1):
        source = _source(table, where=f"{path}：第 {i} 个信息源", base_dir=path.parent, rsshub_base=rsshub_base)
        if source.name in seen:
            raise SourceConfigError(f"{path}：第 {i} 个信息源：名称「{source.name}」重复；"
                                    f"采集记录按名称区分信息源，名称必须唯一")
        seen.add(source.name)
        sources.append(source)
    return sources


def _source(table: Any, *, where: str, base_dir: Path, rsshub_base: str) -> Source:
    if not isinstance(table, dict):
        raise SourceConfigError(f"{where}：应写成 [[sources]] 表")
    if isinstance(table.get("name"), str) and table["name"].strip():
        where = f"{where}（「{_shown_name(table['name'].strip())}」）"
    unknown = set(table) - set(_FIELDS)
    if unknown:
        raise SourceConfigError(f"{where}：不认识的设置 {'、'.join(sorted(unknown))}（可用：{'、'.join(_FIELDS)}）")
    missing = [k for k in REQUIRED if k not in table]
    if missing:
        raise SourceConfigError(f"{where}：缺少 {'、'.join(missing)}")
    for key, value in table.items():
        types, what = _FIELDS[key]
        # bool is an int in Python; a number field must not accept true/false.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            raise SourceConfigError(f"{where}：{key} 应为{what}，而不是 {value!r}")
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in table.items()}
    if not values["name"]:
        raise SourceConfigError(f"{where}：name（名称）是空的")
    if problem := name_problem(values["name"]):
        raise SourceConfigError(f"{where}：{problem}")
    kind = values.get("kind", "rss")
    if kind not in KINDS:
        raise SourceConfigError(f"{where}：不认识的类型 kind = {kind!r}（可用：{'、'.join(KINDS)}）")
    platform = values.get("platform", "news")
    if platform not in PLATFORMS:
        raise SourceConfigError(f"{where}：不认识的平台 platform = {platform!r}（可用：{'、'.join(PLATFORMS)}）")
    if values.get("interval_minutes", DEFAULT_INTERVAL_MINUTES) < 1:
        raise SourceConfigError(f"{where}：interval_minutes（采集间隔）至少为 1 分钟")
    if not 0 <= values.get("weight", 1.0) < math.inf:         # nan fails this too
        raise SourceConfigError(f"{where}：weight（权重）应为不小于 0 的数")
    if "max_items" in values and (kind == "rss" or values["max_items"] < 1):
        raise SourceConfigError(f"{where}：max_items 只用于 cnipa/govlist 信息源，且至少为 1")
    if "link_pattern" in values:
        if kind != "govlist":
            raise SourceConfigError(f"{where}：link_pattern 只用于 kind = \"govlist\" 的信息源")
        try:
            re.compile(values["link_pattern"])
        except re.error as e:
            raise SourceConfigError(f"{where}：link_pattern 不是有效的正则表达式（{e}）") from None
    values["weight"] = float(values.get("weight", 1.0))
    values["configured_url"] = values["url"]
    values["url"] = resolve_url(values["url"], base_dir=base_dir, rsshub_base=rsshub_base, where=where)
    if kind != "rss" and urlsplit(values["configured_url"]).scheme.lower() not in ("http", "https"):
        raise SourceConfigError(f"{where}：{kind} 类型的信息源需要 http(s) 网页地址")
    return Source(**values)


def resolve_url(url: str, *, base_dir: Path, rsshub_base: str, where: str = "source") -> str:
    """The address to fetch for a configured URL; raises SourceConfigError for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise SourceConfigError(f"{where}：地址 {url!r} 无法识别（{e}）") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise SourceConfigError(f"{where}：地址 {url!r} 缺少域名")
        if host_kind(parts.hostname) == "link-local":
            raise SourceConfigError(f"{where}：{LINK_LOCAL_PROBLEM}")
        return url
    if scheme == "file":
        p = Path(url2pathname(unquote(parts.path)))
        if parts.netloc and parts.netloc != "localhost":
            raise SourceConfigError(f"{where}：file 地址 {url!r} 不能写主机名；请写 file:///绝对路径 "
                                    f"或 file:相对路径")
        return (p if p.is_absolute() else base_dir / p).resolve().as_uri()
    if scheme == "rsshub":
        route = (parts.netloc + parts.path) if parts.netloc else parts.path
        route = "/" + route.lstrip("/")
        if route == "/":
            raise SourceConfigError(f"{where}：RSSHub 地址 {url!r} 缺少路由（例如 rsshub:///weibo/user/123）")
        base = urlsplit(rsshub_base)
        if base.scheme not in ("http", "https") or not base.hostname:
            raise SourceConfigError(f"{where}：RSSHub 服务地址 {rsshub_base!r} 应为 http(s) 地址"
                                    f"（OPINION_RSSHUB_BASE）")
        query = f"?{parts.query}" if parts.query else ""
        return rsshub_base.rstrip("/") + quote(route, safe=_PATH_SAFE) + query
    raise SourceConfigError(f"{where}：地址 {url!r} 应以 http://、https://、file: 或 rsshub:/// 开头")


def name_problem(name: str) -> str | None:
    """Why a source name cannot be used, or None. Control characters (a newline typed in a shell)
    would break the one-line listings, the runs history and the sources file's layout."""
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name):
        return "名称中不能有换行、制表符等控制字符"
    return None


def _shown_name(name: str) -> str:
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Zl", "Zp") else f"\\u{ord(ch):04x}" for ch in name)


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


# ---------------------------------------------------------------- writing the file (dashboard edits)

HEADER = """\
# 信息源配置 (sources for `python -m collectors run`)
#
# 本文件由看板“信息源”页保存（也可手工编辑）；保存时只保留本段说明，其余注释不保留。
# 每个 [[sources]] 表是一个信息源。必填：name（唯一，采集记录按它区分）、url。
# 可选：kind（rss / cnipa / govlist）、platform（news / government / social / forum / wechat / video）、
#       enabled（true/false，默认 true）、region（如 "安徽"、"安徽合肥"）、interval_minutes（采集间隔，默认 60）、
#       own（本局自有渠道）、always_relevant（该源内容全部与知识产权相关：全部保留，不经监测方案筛选）、
#       weight（权重，默认 1.0）、notes（备注）、link_pattern / max_items（列表页信息源，见 docs/sources.md）。
# url 可写 http(s) 地址、file: 本地文件，或 rsshub:///路由（按 OPINION_RSSHUB_BASE 指向的自建 RSSHub 解析）。
# 修改后运行 `python -m collectors sources` 检查配置是否有误。
"""
# URL schemes staff may give a new source from the dashboard (file: is for developers editing by hand).
FORM_URL_SCHEMES = ("http", "https", "rsshub")


def _toml_str(s: str) -> str:
    # A JSON string is a TOML basic string, except that TOML forbids a raw DEL character.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007F")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return _toml_str(str(value))


def source_table(source: Source) -> dict[str, Any]:
    """The keys to write for one source: required ones always, optional ones only when not the default."""
    table: dict[str, Any] = {
        "name": source.name, "url": source.configured_url or source.url, "kind": source.kind,
        "platform": source.platform, "enabled": source.enabled,
    }
    if source.region:
        table["region"] = source.region
    table["interval_minutes"] = source.interval_minutes
    if source.own:
        table["own"] = True
    if source.always_relevant:
        table["always_relevant"] = True
    if source.weight != 1.0:
        table["weight"] = float(source.weight)
    if source.notes:
        table["notes"] = source.notes
    if source.link_pattern:
        table["link_pattern"] = source.link_pattern
    if source.max_items is not None:
        table["max_items"] = source.max_items
    return table


def dumps_sources(sources: Sequence[Source]) -> str:
    parts = [HEADER]
    for source in sources:
        parts.append("\n[[sources]]\n")
        parts.extend(f"{k} = {_toml_value(v)}\n" for k, v in source_table(source).items())
    return "".join(parts)


def save_sources(path: str | Path, sources: Sequence[Source],
                 rsshub_base: str = "http://127.0.0.1:1200") -> list[Source]:
    """Replace the sources file atomically with these sources; returns them as read back.

    The new text is written to a temporary file beside the target and loaded with
    `load_sources` before it replaces the old file, so a source the collector would
    refuse is never saved (SourceConfigError) and a crash leaves the old file whole.
    """
    path = Path(path)
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise SourceConfigError(f"信息源名称「{dup}」重复，名称必须唯一")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sources-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(dumps_sources(sources))
            f.flush()
            os.fsync(f.fileno())
        saved = load_sources(tmp, rsshub_base)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return saved


LINK_LOCAL_PROBLEM = "不能使用链路本地地址（169.254.x.x、fe80::，云服务器的元数据接口就在这里）"
# Host names that are cloud metadata services whatever they resolve to.
METADATA_HOSTS = {"metadata", "metadata.google.internal", "metadata.azure.internal"}


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = host.strip("[]").lower()
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        # The resolver also reads 2130706433, 0x7f.1 and 127.1 as 127.0.0.1.
        if not re.fullmatch(r"[0-9a-fx.]+", host) or not any(c.isdigit() for c in host):
            return None
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def host_kind(host: str) -> str:
    """"link-local" (169.254.0.0/16, fe80::/10, cloud metadata names), "internal" (loopback, private,
    unspecified or reserved addresses, localhost) or "public". Judged from the written host only:
    a public name that resolves to an internal address is not caught here."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host in METADATA_HOSTS:
        return "link-local"
    if host == "localhost" or host.endswith(".localhost"):
        return "internal"
    ip = _ip(host)
    if ip is None:
        return "public"
    if ip.is_link_local:
        return "link-local"
    if ip.is_loopback or ip.is_private or ip.is_unspecified or ip.is_reserved or ip.is_multicast:
        return "internal"
    return "public"


def _host_port(parts) -> tuple[str, int | None]:
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme.lower())


def _listed(parts, rsshub_base: str, internal_hosts: Sequence[str]) -> bool:
    """True when an internal address is the RSSHub base (same host and port) or an administrator-listed
    host ("10.0.0.5" for any port, "10.0.0.5:8080" for that one)."""
    host, port = _host_port(parts)
    if rsshub_base:
        try:
            if _host_port(urlsplit(rsshub_base)) == (host, port):
                return True
        except ValueError:
            pass
    for entry in internal_hosts:
        try:
            listed = urlsplit("//" + entry.strip())
            if (listed.hostname or "").lower() == host and listed.port in (None, port):
                return True
        except ValueError:
            continue
    return False


def check_form_url(url: str, *, rsshub_base: str = "", internal_hosts: Sequence[str] = ()) -> str:
    """A source address typed into the dashboard or `intake source add`: http(s) with a host, or an
    rsshub:/// route (Chinese message).

    Staff type these and every role sees them, so an address with a user name or password is refused,
    a link-local one (cloud metadata) always, and a loopback or private one unless its host is the
    RSSHub base's or one of `internal_hosts` (Settings.internal_hosts, OPINION_INTERNAL_HOSTS): the
    server administrator decides which internal services the collector may read (docs/sources.md).
    """
    url = (url or "").strip()
    if not url:
        raise SourceConfigError("请填写地址")
    if any(ch.isspace() for ch in url):
        raise SourceConfigError("地址中不能有空格（关键词之间的空格请写成 +）")
    try:
        parts = urlsplit(url)
        parts.port                                    # an impossible port raises here
    except ValueError:
        raise SourceConfigError("地址无法识别（主机名或端口有误），例如 https://www.example.cn/rss.xml") from None
    scheme = parts.scheme.lower()
    if scheme not in FORM_URL_SCHEMES:
        raise SourceConfigError("地址必须以 http://、https:// 或 rsshub:/// 开头")
    if scheme in ("http", "https") and not parts.hostname:
        raise SourceConfigError("网址缺少域名，例如 https://www.example.cn/rss.xml")
    if scheme == "rsshub" and not (parts.netloc + parts.path).strip("/"):
        raise SourceConfigError("RSSHub 地址缺少路由，例如 rsshub:///weibo/user/1195230310")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise SourceConfigError("地址中不能包含用户名或密码（写成 https://用户:密码@… 的部分）；"
                                "需要登录的信息源请见 docs/sources.md")
    # Percent-escapes decoded first: %2e%2e is '..' to the server that receives it.
    route = unquote(parts.netloc + parts.path).replace("\\", "/")
    if scheme == "rsshub" and {"..", "."} & set(route.split("/")):
        raise SourceConfigError("RSSHub 路由中不能有 .. 或 .（只能指向 RSSHub 的路由）")
    if scheme in ("http", "https"):
        kind = host_kind(parts.hostname)
        if kind == "link-local":
            raise SourceConfigError(f"地址{LINK_LOCAL_PROBLEM}")
        if kind == "internal" and not _listed(parts, rsshub_base, internal_hosts):
            raise SourceConfigError(f"不能使用本机或内网地址（{parts.hostname}）；自建 RSSHub 请写 rsshub:///路由，"
                                    "其他内网服务须由管理员在 OPINION_INTERNAL_HOSTS 中登记")
    return url


def new_source(fields: Mapping[str, Any], existing: Sequence[Source], *, base_dir: Path,
               rsshub_base: str, internal_hosts: Sequence[str] = ()) -> Source:
    """Validate a source added from the dashboard; SourceConfigError in Chinese for the form's mistakes."""
    problems: list[str] = []
    values = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items() if v is not None}
    # Optional text left empty in the form means "not set", not an empty value.
    values = {k: v for k, v in values.items() if not (k in ("region", "notes", "link_pattern") and v == "")}
    name = values.get("name", "")
    if not name:
        problems.append("请填写名称")
    elif problem := name_problem(name):
        problems.append(problem)
    elif name in {s.name for s in existing}:
        problems.append(f"名称「{name}」已被使用，请换一个")
    try:
        values["url"] = check_form_url(values.get("url", ""), rsshub_base=rsshub_base,
                                       internal_hosts=internal_hosts)
    except SourceConfigError as e:
        problems.append(str(e))
    if values.get("kind", "rss") not in KINDS:
        problems.append(f"类型应为 {' / '.join(KINDS)} 之一")
    elif values.get("kind", "rss") != "rss" and urlsplit(values.get("url", "")).scheme.lower() == "rsshub":
        problems.append("列表页类型（cnipa / govlist）需要 http(s) 网址，不能用 RSSHub 路由")
    if values.get("platform", "news") not in PLATFORMS:
        problems.append(f"平台应为 {' / '.join(PLATFORMS)} 之一")
    if "interval_minutes" in values:
        values["interval_minutes"] = int(values["interval_minutes"])
        if values["interval_minutes"] < 1:
            problems.append("采集间隔至少 1 分钟")
    if "weight" in values:
        values["weight"] = float(values["weight"])
        if not 0 <= values["weight"] < math.inf:
            problems.append(WEIGHT_PROBLEM)
    if problems:
        raise SourceConfigError("；".join(problems))
    try:
        return _source(values, where="新信息源", base_dir=base_dir, rsshub_base=rsshub_base)
    except SourceConfigError as e:
        raise SourceConfigError(f"配置有误：{e}") from None


def changed_source(source: Source, *, enabled: bool | None = None, interval_minutes: int | None = None,
                   weight: float | None = None) -> Source:
    """The source with the dashboard's editable settings changed; SourceConfigError in Chinese."""
    problems = []
    if interval_minutes is not None and int(interval_minutes) < 1:
        problems.append("采集间隔至少 1 分钟")
    if weight is not None and not 0 <= float(weight) < math.inf:       # nan and inf fail this too
        problems.append(WEIGHT_PROBLEM)
    if problems:
        raise SourceConfigError("；".join(problems))
    return replace(
        source,
        enabled=source.enabled if enabled is None else bool(enabled),
        interval_minutes=source.interval_minutes if interval_minutes is None else int(interval_minutes),
        weight=source.weight if weight is None else float(weight))
