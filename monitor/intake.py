"""What staff feed in by hand from the dashboard: imports, manual items, source and scheme edits.

One function per page action. Each validates with the collectors' own rules
(collectors.imports, collectors.registry, collectors.schemes), stores through
monitor.pipeline.store_items or the collectors' atomic file writers, and, when
a user is given, refuses what that user's role may not do and records the write
with monitor.users.audit. Bad input comes back as a report with Chinese
messages (imports, manual entry) or as the validator's exception (sources,
schemes); nothing is saved in either case.

The scheme and mapping files live beside the sources file, so a test or a
second installation that points OPINION_SOURCES elsewhere keeps all three together.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from collectors import imports, registry, schemes
from collectors.base import Item
from collectors.registry import Source, SourceConfigError
from collectors.schemes import Scheme, SchemeError
from monitor import users
from monitor.pipeline import Judge, store_items
from monitor.settings import Settings
from monitor.store import Store
from monitor.users import User

# Who may add items (issue 6: handlers triage, editors write cases and briefings from them).


def schemes_path(settings: Settings) -> Path:
    return Path(settings.sources_file).with_name("schemes.toml")


def mappings_path(settings: Settings) -> Path:
    return Path(getattr(settings, "import_mappings_file", None)
                or Path(settings.sources_file).with_name("import_mappings.toml"))


def may_import(user: User | None) -> bool:
    return users.can(user, "import_items")


def _require(user: User | str | None, allowed, what: str) -> None:
    """Refuse a dashboard user whose role may not do this. A text actor ("cli:alice") is someone
    with a shell on the server, who could edit the files anyway; it is only recorded."""
    if isinstance(user, User) and not allowed(user):
        raise users.UserError(f"当前账号（{user.label}）无权{what}。")


def _may(action: str):
    return lambda user: users.can(user, action)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


@dataclass
class IntakeReport:
    """What one import or manual entry did; `ok` is False when nothing could be stored."""
    ok: bool
    new: int = 0
    duplicate: int = 0
    updated: int = 0
    read: int = 0
    errors: list[str] = field(default_factory=list)      # rows skipped, or why nothing was stored
    warnings: list[str] = field(default_factory=list)    # stored anyway (e.g. schemes file broken)
    # Rows imported with the import time as their date (no usable date), marked estimated.
    estimated: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not self.ok:
            return "未导入：" + "；".join(self.errors[:3])
        updated = f"，更新 {self.updated} 条" if self.updated else ""
        skipped = f"；跳过 {len(self.errors)} 处（未导入）" if self.errors else ""
        estimated = (f"；{len(self.estimated)} 条已导入，但发布时间无法使用，按导入时间记录（标为估计）"
                     if self.estimated else "")
        return f"读取 {self.read} 条，新增 {self.new} 条，重复 {self.duplicate} 条{updated}{estimated}{skipped}。"


# -- schemes ------------------------------------------------------------------------------------

def load_scheme_list(settings: Settings) -> tuple[list[Scheme], str | None]:
    """The monitoring schemes and, if the file cannot be used, why. A missing file means no schemes yet."""
    path = schemes_path(settings)
    if not path.exists():
        return [], None
    try:
        return schemes.load_schemes(path), None
    except SchemeError as e:
        return [], str(e)


def _label(items: Sequence[Item], settings: Settings, warnings: list[str]) -> list[Item]:
    """Record matched schemes on items staff chose (they are kept whatever matches)."""
    found, problem = load_scheme_list(settings)
    if problem:
        warnings.append(f"监测方案文件有误，本次未标注命中的方案：{problem}")
    if not found:
        return list(items)
    return [replace(it, schemes=tuple(schemes.matching_schemes(found, it.title, it.text))) for it in items]


def save_scheme_list(store: Store | None, settings: Settings, scheme_list: Iterable[Scheme | Mapping[str, Any]],
                     *, user: User | str | None = None, now: datetime | None = None) -> list[Scheme]:
    """Validate and write all schemes (SchemeError lists every problem; the file is then unchanged)."""
    _require(user, _may("edit_schemes"), "修改监测方案")
    before = {s.name for s in load_scheme_list(settings)[0]}
    saved = schemes.save_schemes(schemes_path(settings), list(scheme_list))
    if user is not None and store is not None:
        after = {s.name for s in saved}
        users.audit(store, user, "scheme.save", "、".join(sorted(after - before)) or f"{len(saved)} 个方案",
                    {"schemes": [s.name for s in saved], "added": sorted(after - before),
                     "removed": sorted(before - after)}, _now(now))
    return saved


def _current_schemes(settings: Settings) -> list[Scheme]:
    current, problem = load_scheme_list(settings)
    if problem:
        raise SchemeError(f"监测方案文件有误，请先手工修正：{problem}")
    return current


def _named(current: Sequence[Scheme], name: str) -> int:
    for i, s in enumerate(current):
        if s.name == name:
            return i
    raise SchemeError(f"方案「{name}」已被他人删除或改名，没有保存；请刷新页面后再编辑。")


def save_scheme(store: Store | None, settings: Settings, edited: Mapping[str, Any], *, replaces: str | None = None,
                user: User | str | None = None, now: datetime | None = None) -> list[Scheme]:
    """Add a scheme, or put `edited` in place of the scheme named `replaces`. The file is read again at the
    moment of saving and the scheme found by name, so an edit another admin saved since the form opened is
    kept (by position, a deletion in between made this save overwrite the next scheme)."""
    current = _current_schemes(settings)
    items: list[Scheme | Mapping[str, Any]] = list(current)
    if replaces is None:
        items.append(dict(edited))
    else:
        items[_named(current, replaces)] = dict(edited)
    return save_scheme_list(store, settings, items, user=user, now=now)


def delete_scheme(store: Store | None, settings: Settings, name: str, *, user: User | str | None = None,
                  now: datetime | None = None) -> list[Scheme]:
    current = _current_schemes(settings)
    del current[_named(current, name)]
    return save_scheme_list(store, settings, current, user=user, now=now)


# -- imports ------------------------------------------------------------------------------------

def preview_file(settings: Settings, name: str, data: bytes) -> imports.ExportPreview:
    """Headers, sample rows and the mapping an import would use; raises imports.NotAnExport."""
    return imports.preview_export(name, data=data, mappings_path=mappings_path(settings))


def _store(store: Store, judge: Judge, items: Sequence[Item], report: IntakeReport) -> IntakeReport:
    counts = store_items(store, judge, items)
    report.new, report.duplicate, report.updated = counts.new, counts.duplicate, counts.updated
    return report


def import_file(store: Store, judge: Judge, name: str, data: bytes, mapping: Mapping[str, str] | None,
                remember: bool, settings: Settings, *, user: User | str | None = None, platform: str = "news",
                now: datetime | None = None) -> IntakeReport:
    """Read an export (CSV/XLSX/JSON/JSONL) with this column mapping and store every readable row.

    `mapping` None uses the remembered or detected mapping; `remember` saves the
    given one for this header layout. Rows that cannot be used are reported and
    skipped; a file that is not an export stores nothing.
    """
    _require(user, may_import, "导入信息")
    mapping = {k: v for k, v in (mapping or {}).items() if v} or None
    try:
        result = imports.read_export(name, mapping=mapping, mappings_path=mappings_path(settings),
                                     remember=bool(remember and mapping), platform=platform, data=data, now=now)
    except ValueError as e:   # the remembered-mappings file is broken: it is not overwritten
        return IntakeReport(ok=False, errors=[str(e)])
    if not result.readable:
        return IntakeReport(ok=False, errors=list(result.errors) or ["文件里没有可导入的条目"])
    rows = [w for w in result.warnings if imports.is_row_message(w)]
    report = IntakeReport(ok=True, read=len(result.items), errors=list(result.errors), estimated=rows,
                          warnings=[w for w in result.warnings if not imports.is_row_message(w)])
    _store(store, judge, _label(result.items, settings, report.warnings), report)
    if user is not None:
        users.audit(store, user, "import.file", name,
                    {"read": report.read, "new": report.new, "duplicate": report.duplicate,
                     "skipped": len(report.errors), "estimated": len(report.estimated),
                     "mapping": dict(mapping or {}), "remembered": bool(remember)},
                    _now(now))
    return report


def add_manual_item(store: Store, judge: Judge, fields: Mapping[str, Any], settings: Settings, *,
                    user: User | str | None = None, now: datetime | None = None) -> IntakeReport:
    """One item typed in by staff: url, title, text, time, platform, source (collectors.imports.manual_item)."""
    _require(user, may_import, "录入信息")
    known = ("url", "title", "text", "time", "platform", "source", "author")
    try:
        item = imports.manual_item(**{k: fields[k] for k in known if k in fields}, now=now)
    except imports.ManualEntryError as e:
        return IntakeReport(ok=False, errors=[str(e)])
    if stored := store.stored_titles([item]).get(item.key):
        # Typed-in fields are few (no text, a default source): storing them over a collected item would
        # blank what it had. An item is corrected in 信息流 instead.
        return IntakeReport(ok=False, duplicate=1, errors=[f"该链接已在库中（「{stored[:40]}」），没有改动；"
                                                           "如需更正研判结果，请在信息流中打开该条"])
    report = IntakeReport(ok=True, read=1)
    _store(store, judge, _label([item], settings, report.warnings), report)
    if user is not None:
        users.audit(store, user, "import.manual", item.url, {"title": item.title, "new": report.new}, _now(now))
    return report


# -- sources ------------------------------------------------------------------------------------

def load_source_list(settings: Settings) -> list[Source]:
    """All configured sources; raises SourceConfigError when the file cannot be used (then nothing is edited)."""
    return registry.load_sources(settings.sources_file, settings.rsshub_base)


def update_source(store: Store | None, settings: Settings, name: str, *, enabled: bool | None = None,
                  interval_minutes: int | None = None, weight: float | None = None,
                  user: User | str | None = None, now: datetime | None = None) -> Source:
    """Change a source's switch, interval or weight and rewrite the sources file."""
    _require(user, _may("edit_sources"), "修改信息源")
    sources = load_source_list(settings)
    old = next((s for s in sources if s.name == name), None)
    if old is None:
        raise SourceConfigError(f"没有名为「{name}」的信息源（文件可能刚被修改，请刷新页面）")
    new = registry.changed_source(old, enabled=enabled, interval_minutes=interval_minutes, weight=weight)
    registry.save_sources(settings.sources_file, [new if s.name == name else s for s in sources],
                          settings.rsshub_base)
    if user is not None and store is not None:
        changes = {k: [getattr(old, k), getattr(new, k)] for k in ("enabled", "interval_minutes", "weight")
                   if getattr(old, k) != getattr(new, k)}
        users.audit(store, user, "source.update", name, changes, _now(now))
    return new


def set_source_enabled(store: Store | None, settings: Settings, name: str, enabled: bool, *,
                       user: User | str | None = None, now: datetime | None = None) -> Source:
    return update_source(store, settings, name, enabled=enabled, user=user, now=now)


def add_source(store: Store | None, settings: Settings, fields: Mapping[str, Any], *,
               user: User | str | None = None, now: datetime | None = None) -> Source:
    """Append a new source (validated: http(s) or rsshub:/// address, unique name) to the sources file."""
    _require(user, _may("edit_sources"), "新增信息源")
    sources = load_source_list(settings)
    source = registry.new_source(fields, sources, base_dir=Path(settings.sources_file).parent,
                                 rsshub_base=settings.rsshub_base, internal_hosts=settings.internal_hosts)
    registry.save_sources(settings.sources_file, [*sources, source], settings.rsshub_base)
    if user is not None and store is not None:
        users.audit(store, user, "source.add", source.name, registry.source_table(source), _now(now))
    return source
