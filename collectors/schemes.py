"""Monitoring schemes (监测方案): which collected items are worth keeping.

A scheme has up to three word groups — subject (主体词), region (地域词) and
event (事件词) — plus exclusion words (排除词). A group matches when any of its
words occurs; a word entry may carry synonyms separated by "|" ("知识产权|知产").
Non-empty groups combine with AND (default) or OR; any exclusion word vetoes the
match. The scope says where to look: the title only (标题) or title and text (全文).

Schemes live in `data/schemes.toml` as `[[schemes]]` tables and are edited from
the dashboard, so `save_schemes` writes the same format back, in order, and both
directions validate with messages staff can act on.
"""
from __future__ import annotations

import os
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

GROUPS = ("subject", "region", "event")
GROUP_LABELS = {"subject": "主体词", "region": "地域词", "event": "事件词", "exclude": "排除词"}
COMBINE = ("and", "or")
# Staff may type the Chinese names; they are stored as the English codes.
SCOPE_ALIASES = {"title": "title", "标题": "title", "full": "full", "全文": "full", "text": "full"}
COMBINE_ALIASES = {"and": "and", "与": "and", "且": "and", "or": "or", "或": "or"}
KEYS = ("name", "enabled", "description", "combine", "scope", *GROUPS, "exclude")


class SchemeError(ValueError):
    """A scheme file or a scheme edited in the dashboard is not valid; the message lists every problem."""


def _norm(s: str) -> str:
    # NFKC folds full-width letters/digits (ＩＰ → IP); casefold makes "ip" match "IP".
    return unicodedata.normalize("NFKC", s or "").casefold()


@dataclass
class Scheme:
    name: str
    enabled: bool = True
    description: str = ""
    subject: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    event: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    combine: str = "and"
    scope: str = "full"

    def __post_init__(self) -> None:
        self._compiled: tuple | None = None

    def _compile(self) -> tuple:
        # Cached on first use; a dashboard edit builds a new Scheme, so the cache never goes stale.
        if self._compiled is None:
            def alts(words: Sequence[str]) -> list[tuple[str, ...]]:
                out = []
                for w in words:
                    parts = tuple(p for p in (_norm(x).strip() for x in w.split("|")) if p)
                    if parts:
                        out.append(parts)
                return out
            groups = [alts(getattr(self, g)) for g in GROUPS]
            self._compiled = ([g for g in groups if g], alts(self.exclude))
        return self._compiled

    def matches(self, title: str, text: str = "") -> bool:
        haystack = _norm(title) if self.scope == "title" else _norm(title) + "\n" + _norm(text)
        groups, exclude = self._compile()
        if not groups:
            return False

        def hit(entries: list[tuple[str, ...]]) -> bool:
            return any(alt in haystack for entry in entries for alt in entry)

        if hit(exclude):
            return False
        if self.combine == "or":
            return any(hit(g) for g in groups)
        return all(hit(g) for g in groups)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "enabled": self.enabled, "description": self.description,
            "combine": self.combine, "scope": self.scope,
            "subject": list(self.subject), "region": list(self.region), "event": list(self.event),
            "exclude": list(self.exclude),
        }


def _words(value: Any, where: str, label: str, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        # The dashboard may hand over one word per line or comma-separated text.
        value = [w for line in value.replace("，", ",").splitlines() for w in line.split(",")]
    if not isinstance(value, (list, tuple)):
        problems.append(f"{where}: {label}应为词语列表")
        return []
    out = []
    for w in value:
        if not isinstance(w, str):
            problems.append(f"{where}: {label}中的 {w!r} 不是文字")
            continue
        w = "|".join(p.strip() for p in w.split("|") if p.strip())
        if w:
            out.append(w)
    return out


def scheme_from_dict(d: Mapping[str, Any], position: int = 1) -> Scheme:
    """Validate one scheme given as a mapping (a TOML table or a dashboard form)."""
    problems: list[str] = []
    name = d.get("name")
    where = f"第{position}个方案" + (f"「{name}」" if isinstance(name, str) and name.strip() else "")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: 缺少方案名称 (name)")
        name = ""
    unknown = sorted(set(d) - set(KEYS))
    if unknown:
        problems.append(f"{where}: 不认识的字段 {', '.join(unknown)}（可用: {', '.join(KEYS)}）")
    enabled = d.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}: enabled 应为 true 或 false")
        enabled = True
    description = d.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{where}: description 应为文字")
        description = ""
    combine = COMBINE_ALIASES.get(str(d.get("combine", "and")).strip().lower())
    if combine is None:
        problems.append(f"{where}: combine 应为 and（同时满足）或 or（满足其一），而不是 {d.get('combine')!r}")
        combine = "and"
    scope = SCOPE_ALIASES.get(str(d.get("scope", "full")).strip().lower())
    if scope is None:
        problems.append(f"{where}: scope 应为 title（标题）或 full（全文），而不是 {d.get('scope')!r}")
        scope = "full"
    groups = {g: _words(d.get(g), where, GROUP_LABELS[g], problems) for g in GROUPS}
    exclude = _words(d.get("exclude"), where, GROUP_LABELS["exclude"], problems)
    if not any(groups.values()):
        problems.append(f"{where}: 主体词、地域词、事件词至少要填一组")
    if problems:
        raise SchemeError("\n".join(problems))
    return Scheme(name=name.strip(), enabled=enabled, description=description.strip(), combine=combine,
                  scope=scope, exclude=exclude, **groups)


def validate_schemes(items: Iterable[Mapping[str, Any] | Scheme]) -> list[Scheme]:
    """All schemes or one SchemeError naming every problem (so staff fix them in one go)."""
    schemes: list[Scheme] = []
    problems: list[str] = []
    for i, d in enumerate(items, 1):
        try:
            schemes.append(scheme_from_dict(d.to_dict() if isinstance(d, Scheme) else d, i))
        except SchemeError as e:
            problems.append(str(e))
    seen: set[str] = set()
    for s in schemes:
        if s.name in seen:
            problems.append(f"方案名称「{s.name}」重复，名称用来记录命中的方案，必须唯一")
        seen.add(s.name)
    if problems:
        raise SchemeError("\n".join(problems))
    return schemes


def load_schemes(path: str | os.PathLike) -> list[Scheme]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemeError(f"找不到监测方案文件 {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SchemeError(f"监测方案文件 {path} 格式有误: {e}") from None
    extra = sorted(set(data) - {"schemes"})
    if extra:
        raise SchemeError(f"监测方案文件 {path} 只应包含 [[schemes]] 表，多出了: {', '.join(extra)}")
    raw = data.get("schemes", [])
    if not isinstance(raw, list):
        raise SchemeError(f"监测方案文件 {path}: schemes 应写成 [[schemes]] 表")
    return validate_schemes(raw)


HEADER = """\
# Monitoring schemes (监测方案). Edited from the dashboard (监测方案 page) or by hand.
#   subject / region / event: 主体词 / 地域词 / 事件词; a group matches when any word occurs.
#   A word may list synonyms with "|", e.g. "知识产权|知产".
#   combine: "and" = every non-empty group must match; "or" = any one group is enough.
#   exclude: 排除词; any of them in the scope vetoes the match.
#   scope: "title" = 标题 only; "full" = 标题 and 正文.
# An item is kept when an enabled scheme matches or its source has always_relevant = true.
"""


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_list(words: Sequence[str]) -> str:
    if not words:
        return "[]"
    one_line = "[" + ", ".join(_toml_str(w) for w in words) + "]"
    if len(one_line) <= 80:
        return one_line
    return "[\n" + "".join(f"    {_toml_str(w)},\n" for w in words) + "]"


def dumps_schemes(schemes: Sequence[Scheme]) -> str:
    parts = [HEADER]
    for s in schemes:
        parts.append("\n[[schemes]]\n")
        parts.append(f"name = {_toml_str(s.name)}\n")
        parts.append(f"enabled = {'true' if s.enabled else 'false'}\n")
        if s.description:
            parts.append(f"description = {_toml_str(s.description)}\n")
        parts.append(f"combine = {_toml_str(s.combine)}\n")
        parts.append(f"scope = {_toml_str(s.scope)}\n")
        for g in (*GROUPS, "exclude"):
            parts.append(f"{g} = {_toml_list(getattr(s, g))}\n")
    return "".join(parts)


def save_schemes(path: str | os.PathLike, schemes: Iterable[Scheme | Mapping[str, Any]]) -> list[Scheme]:
    """Validate, then replace the file atomically (a crash leaves the old file, never half a new one)."""
    valid = validate_schemes(schemes)
    text = dumps_schemes(valid)
    # Reading back what we are about to write proves the writer and the reader agree.
    if validate_schemes(tomllib.loads(text)["schemes"] if valid else []) != valid:
        raise SchemeError("内部错误: 写出的方案与读回的不一致，未保存")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".schemes-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return valid


def matching_schemes(schemes: Iterable[Scheme], title: str, text: str = "") -> list[str]:
    """Names of the enabled schemes the item matches, in file order."""
    return [s.name for s in schemes if s.enabled and s.matches(title, text)]


def is_kept(item: Any, source_always_relevant: bool, schemes: Iterable[Scheme]) -> tuple[bool, list[str]]:
    """Keep an item when a scheme matches or its source is always relevant; names are recorded either way."""
    names = matching_schemes(schemes, getattr(item, "title", "") or "", getattr(item, "text", "") or "")
    return bool(source_always_relevant or names), names


def select_items(items: Iterable[Any], source_always_relevant: bool,
                 schemes: Sequence[Scheme]) -> tuple[list[tuple[Any, list[str]]], int]:
    """The items to store, each with its matched scheme names, and how many were left out."""
    kept: list[tuple[Any, list[str]]] = []
    dropped = 0
    for item in items:
        keep, names = is_kept(item, source_always_relevant, schemes)
        if keep:
            kept.append((item, names))
        else:
            dropped += 1
    return kept, dropped
