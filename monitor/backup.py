"""Backups of the database: made daily by the collector service and on demand, checked, kept, restored.

Everything staff built up lives in one SQLite file (items, corrections, 负面处置 records, cases, briefings,
accounts, the audit log), on one office server. A backup is a self-contained copy of that file, made with
SQLite's online backup while the collector keeps writing (`monitor.backup_store`), checked with
`PRAGMA integrity_check` before it gets its final name, so a half-written or damaged copy never looks
like a backup. The newest `keep` are kept; older ones are deleted. A backup on the same disk guards against
mistakes and a damaged file, not against losing the disk: docs/operations.md says how to copy them away.

Restoring takes the collector's lock (the collector service must be stopped), checks the backup, first
saves the current database as a backup of its own (nothing is lost by restoring the wrong file), then copies
the backup over the live file and applies any newer migrations.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from monitor import backup_store, users
from monitor.migrations import MIGRATIONS
from monitor.pipeline import CollectorBusy, collection_lock, lock_path_for
from monitor.store import DatabaseError, Store, StoreError

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
DEFAULT_KEEP = 14                       # two weeks of daily backups
KEEP_BEFORE_RESTORE = 3                 # copies of what a restore replaced, kept apart from the daily ones
EVERY = timedelta(hours=24)             # the collector service makes one when the newest is this old
STALE = timedelta(hours=48)             # the dashboard warns admins past this
SPACE_MARGIN = 1.2                      # free space a backup needs, as a multiple of the database's size
LOW_SPACE = 3                           # the page warns when fewer than this many more backups would fit
_NAME = re.compile(r"^opinion-(\d{8}-\d{6})(?:-(\d+))?(-before-restore)?\.db$")
PARTIAL = ".partial"


class BackupError(Exception):
    """A backup could not be made, read or restored; the message is for staff."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime                  # Beijing time, from the file name
    size: int
    before_restore: bool = False
    counts: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def _parse(path: Path) -> Backup | None:
    m = _NAME.match(path.name)
    if not m:
        return None
    try:
        taken = datetime.strptime(m.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=BEIJING)
        size = path.stat().st_size
    except (ValueError, OSError):
        return None
    return Backup(path, taken, size, before_restore=bool(m.group(3)))


def list_backups(folder: Path) -> list[Backup]:
    """Backups in `folder`, newest first (none when the folder does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [b for p in folder.iterdir() if p.is_file() and (b := _parse(p)) is not None]
    return sorted(found, key=lambda b: (b.taken_at, b.name), reverse=True)


def latest(folder: Path) -> Backup | None:
    found = list_backups(folder)
    return found[0] if found else None


def is_due(folder: Path, now: datetime, every: timedelta = EVERY) -> bool:
    newest = latest(folder)
    return newest is None or now - newest.taken_at >= every


def _target(folder: Path, now: datetime, before_restore: bool) -> Path:
    stamp = now.astimezone(BEIJING).strftime("%Y%m%d-%H%M%S")
    tail = "-before-restore" if before_restore else ""
    path, n = folder / f"opinion-{stamp}{tail}.db", 1
    while path.exists() or path.with_name(path.name + PARTIAL).exists():
        n += 1
        path = folder / f"opinion-{stamp}-{n}{tail}.db"
    return path


def create(db_path: Path, folder: Path, now: datetime, *, keep: int = DEFAULT_KEEP, progress=None,
           before_restore: bool = False, actor: users.User | str | None = None) -> Backup:
    """Copy the database into `folder` as a new, checked backup; then keep only the newest `keep`.
    With `actor` (someone asked for it), the backup is recorded in the audit log."""
    db_path, folder = Path(db_path), Path(folder)
    if keep < 1:
        raise BackupError("至少保留 1 份备份")
    if not db_path.is_file():
        raise BackupError(f"没有数据库文件：{db_path}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BackupError(f"无法创建备份目录 {folder}：{e.strerror or e}") from e
    need, free = db_path.stat().st_size, free_space(folder)
    if free is not None and free < need * SPACE_MARGIN:
        raise BackupError(f"备份目录所在磁盘空间不足：需要约 {size_text(int(need * SPACE_MARGIN))}，"
                          f"只剩 {size_text(free)}（可减少保留份数或换一个备份目录）")
    final = _target(folder, now, before_restore)
    partial = final.with_name(final.name + PARTIAL)
    try:
        backup_store.copy_out(db_path, partial, progress)
        found = backup_store.inspect(partial)
        if not found["ok"]:
            raise BackupError(f"备份副本未通过完整性检查：{'; '.join(found['problems'][:3])}")
        os.replace(partial, final)
    except StoreError as e:
        raise BackupError(f"无法读取数据库：{e}") from e
    except (OSError, DatabaseError) as e:
        raise BackupError(f"无法写入备份 {final}：{getattr(e, 'strerror', None) or e}（请检查目录权限和磁盘空间）") from e
    finally:
        partial.unlink(missing_ok=True)
    prune(folder, keep, spare=final)
    made = _parse(final)
    assert made is not None
    if actor is not None:
        with Store(db_path) as store:
            users.audit(store, actor, "db.backup", made.name, {"file": str(made.path)}, now)
    return Backup(made.path, made.taken_at, made.size, made.before_restore, found["counts"])


def prune(folder: Path, keep: int, spare: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` backups (and KEEP_BEFORE_RESTORE copies made by restores; never
    `spare`) and the leftovers of interrupted ones."""
    removed = []
    found = list_backups(folder)
    for b in ([b for b in found if not b.before_restore][keep:] +
              [b for b in found if b.before_restore][KEEP_BEFORE_RESTORE:]):
        if b.path != spare:
            b.path.unlink(missing_ok=True)
            removed.append(b.path)
    hour_ago = datetime.now().timestamp() - 3600
    for p in Path(folder).glob(f"opinion-*.db{PARTIAL}"):
        if p.stat().st_mtime < hour_ago:          # not one being written right now by another process
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def check(path: Path) -> Backup:
    """A backup file read back: refused unless it is an intact database of this program, not newer."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"没有备份文件：{path}")
    try:
        found = backup_store.inspect(path)
    except StoreError:
        raise BackupError(f"{path.name} 不是可读的数据库文件") from None
    if not found["ok"]:
        raise BackupError(f"{path.name} 已损坏，未通过完整性检查：{'; '.join(found['problems'][:3])}")
    known = [name for name, _ in MIGRATIONS]
    if "items" not in found["counts"] or not found["migrations"]:
        raise BackupError(f"{path.name} 不是本系统的数据库")
    newer = [m for m in found["migrations"] if m not in known]
    if newer:
        raise BackupError(f"{path.name} 来自更新版本的程序（{newer[0]}），请先升级程序再恢复")
    parsed = _parse(path)
    taken = parsed.taken_at if parsed else datetime.fromtimestamp(path.stat().st_mtime, BEIJING)
    return Backup(path, taken, path.stat().st_size, bool(parsed and parsed.before_restore), found["counts"])


def restore(backup: Path, db_path: Path, folder: Path, now: datetime, *, actor: str, keep: int = DEFAULT_KEEP,
            progress=None) -> tuple[Backup, Backup | None]:
    """Replace the live database with `backup`. Returns (the backup restored, the copy of what it replaced)."""
    db_path = Path(db_path)
    source = check(backup)
    try:
        with collection_lock(lock_path_for(db_path)):
            saved = None
            if db_path.is_file():   # the restored file may be the wrong one: what it replaces is kept
                saved = create(db_path, folder, now, keep=keep, before_restore=True)
            db_path.parent.mkdir(parents=True, exist_ok=True)
            backup_store.copy_in(source.path, db_path, progress)
            with Store(db_path) as store:          # opening applies migrations the backup predates
                users.end_all_sessions(store)
                users.audit(store, actor, "db.restore", source.name,
                            {"taken_at": source.taken_at.isoformat(timespec="seconds"),
                             "saved_as": saved.name if saved else ""}, now)
    except CollectorBusy:
        raise BackupError("采集服务正在运行：请先停止采集服务（如 systemctl stop opinion-collector），"
                          "恢复后再启动") from None
    except (OSError, DatabaseError) as e:
        raise BackupError(f"恢复失败：{getattr(e, 'strerror', None) or e}") from e
    return source, saved


def maybe_create(db_path: Path, folder: Path, now: datetime, *, keep: int = DEFAULT_KEEP,
                 every: timedelta = EVERY) -> Backup | None:
    """For the collector service after each pass: a backup when the newest is older than `every`."""
    if not is_due(folder, now, every):
        return None
    return create(db_path, folder, now, keep=keep)


def free_space(folder: Path) -> int | None:
    """Free bytes on the disk that holds `folder` (or the nearest existing parent); None when unknown."""
    p = Path(folder).resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def overview(folder: Path, now: datetime, db_path: Path | None = None) -> dict:
    """For the 数据备份 page: the newest backup, whether it is too old, whether the disk is filling up, and
    every backup as a table row."""
    found = list_backups(folder)
    newest = next((b for b in found if not b.before_restore), None)
    free = free_space(folder)
    size = db_path.stat().st_size if db_path is not None and Path(db_path).is_file() else 0
    return {
        "latest": newest, "age": age_text(newest, now),
        "stale": newest is None or now - newest.taken_at > STALE,
        "free": free, "db_size": size,
        "low_space": bool(size and free is not None and free < size * SPACE_MARGIN * LOW_SPACE),
        "rows": [{"备份时间": f"{b.taken_at:%Y-%m-%d %H:%M:%S}", "大小": size_text(b.size),
                  "类型": "恢复前的数据库" if b.before_restore else "备份", "文件": b.name} for b in found],
    }


def size_text(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, n // 1024)} KB"


def counts_text(counts: dict) -> str:
    """'441 条信息，3 条处置记录 …' for the tables a backup is described by."""
    return "，".join(f"{counts[t]} {unit}" for t, unit in backup_store.COUNTED.items() if counts.get(t)) or "空数据库"


def age_text(b: Backup | None, now: datetime) -> str:
    """How old the newest backup is, for staff: '今天 03:00', '3 天前' ..."""
    if b is None:
        return "尚无备份"
    hours = (now - b.taken_at).total_seconds() / 3600
    when = b.taken_at.strftime("%Y-%m-%d %H:%M")
    if hours < 24:
        return f"{when}（{max(0, int(hours))} 小时前）"
    return f"{when}（{int(hours // 24)} 天前）"
