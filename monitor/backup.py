"""Backups of the database: made daily by the collector service and on demand, checked, kept, restored.

Everything staff built up lives in one SQLite file (items, corrections, 负面处置 records, cases, briefings,
accounts, the audit log), on one office server. A backup is a self-contained copy of that file, made with
SQLite's online backup while the collector keeps writing (`monitor.backup_store`), checked with
`PRAGMA integrity_check` before it gets its final name, so a half-written or damaged copy never looks
like a backup. The newest `keep` are kept; older ones are deleted. Nothing else in the folder is ever
deleted: copies saved by restores, files with a date in the future or that are not databases are left
alone (and left out of "newest"). A backup on the same disk guards against mistakes and a damaged file,
not against losing the disk: docs/operations.md says how to copy them away.

Restoring takes the collector's lock (the collector service must be stopped), checks the backup, first
saves the current database as a backup of its own (nothing is lost by restoring the wrong file), then copies
the backup over the live file and applies any newer migrations. It deletes nothing. When it cannot finish,
SQLite rolls the live file back and the message says the database is unchanged.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from monitor import backup_store, users
from monitor.cli import REASONS
from monitor.migrations import MIGRATIONS
from monitor.pipeline import CollectorBusy, collection_lock, lock_path_for
from monitor.store import DatabaseError, Store, StoreError

try:
    import fcntl
except ImportError:        # not on Windows: backups there are not serialised between processes
    fcntl = None

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
DEFAULT_KEEP = 14                       # two weeks of daily backups
EVERY = timedelta(hours=24)             # the collector service makes one when the newest is this old
STALE = timedelta(hours=48)             # the dashboard warns admins past this
FUTURE_SLACK = timedelta(minutes=10)    # a file named later than now + this was made under a wrong clock
SPACE_MARGIN = 1.2                      # free space a backup needs, as a multiple of the database's size
LOW_SPACE = 3                           # the page warns when fewer than this many more backups would fit
_NAME = re.compile(r"^opinion-(\d{8}-\d{6})(?:-(\d+))?(-before-restore)?\.db$")
PARTIAL = ".partial"
LOCK_FILE = ".backup.lock"
# SQLite's own words for what went wrong with a file, as staff read them.
SQLITE_REASONS = {"database or disk is full": "磁盘已满", "attempt to write a readonly database": "只读，不能写入",
                  "unable to open database file": "无法打开文件（文件夹不存在或没有权限）",
                  "disk I/O error": "磁盘读写错误", "database is locked": "数据库正被其他程序占用"}


class BackupError(Exception):
    """A backup could not be made, read or restored; the message is for staff."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime                  # Beijing time, from the file name
    size: int
    before_restore: bool = False
    counts: dict = field(default_factory=dict)
    seq: int = 1                        # -2, -3 … for backups made within the same second
    valid: bool = True                  # starts like a SQLite database (a cheap look, not a check)

    @property
    def name(self) -> str:
        return self.path.name

    def usable(self, now: datetime) -> bool:
        """Counts as a daily backup: made by `create` (not a restore), looks like a database, and not
        dated after now (a clock set wrong once must not stop the daily backups until that date)."""
        return not self.before_restore and self.valid and self.taken_at <= now + FUTURE_SLACK


def why(e: BaseException) -> str:
    """The reason in an OS or SQLite error, in Chinese where it is a common one."""
    if isinstance(e, OSError) and e.errno in REASONS:
        return REASONS[e.errno]
    text = getattr(e, "strerror", None) or str(e)
    return next((zh for en, zh in SQLITE_REASONS.items() if en in text), text)


def _parse(path: Path) -> Backup | None:
    m = _NAME.match(path.name)
    if not m:
        return None
    try:
        taken = datetime.strptime(m.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=BEIJING)
        size = path.stat().st_size
    except (ValueError, OSError):
        return None
    return Backup(path, taken, size, before_restore=bool(m.group(3)), seq=int(m.group(2) or 1),
                  valid=size > 0 and backup_store.looks_like_sqlite(path))


def list_backups(folder: Path) -> list[Backup]:
    """Files named like backups in `folder`, newest first (none when the folder does not exist)."""
    folder = Path(folder)
    try:
        if not folder.is_dir():
            return []
        found = [b for p in folder.iterdir() if p.is_file() and (b := _parse(p)) is not None]
    except OSError as e:
        raise BackupError(f"无法读取备份目录 {folder}：{why(e)}") from e
    return sorted(found, key=lambda b: (b.taken_at, b.seq), reverse=True)


def latest(folder: Path, now: datetime) -> Backup | None:
    """The newest daily backup (see `Backup.usable`)."""
    return next((b for b in list_backups(folder) if b.usable(now)), None)


def is_due(folder: Path, now: datetime, every: timedelta = EVERY) -> bool:
    newest = latest(folder, now)
    return newest is None or now - newest.taken_at >= every


def _target(folder: Path, now: datetime, before_restore: bool) -> Path:
    stamp = now.astimezone(BEIJING).strftime("%Y%m%d-%H%M%S")
    tail = "-before-restore" if before_restore else ""
    path, n = folder / f"opinion-{stamp}{tail}.db", 1
    while path.exists() or path.with_name(path.name + PARTIAL).exists():
        n += 1
        path = folder / f"opinion-{stamp}-{n}{tail}.db"
    return path


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One backup at a time per folder (the daily one and an admin's click): naming and pruning of one
    must not race the other's."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise BackupError(f"无法写入备份目录 {folder}：{why(e)}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _ensure_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"备份目录 {folder} 是一个文件，不是文件夹")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BackupError(f"无法创建备份目录 {folder}：{why(e)}") from e


def create(db_path: Path, folder: Path, now: datetime, *, keep: int = DEFAULT_KEEP, progress=None,
           before_restore: bool = False, actor: users.User | str | None = None, prune_old: bool = True) -> Backup:
    """Copy the database into `folder` as a new, checked backup; then keep only the newest `keep`.
    With `actor` (someone asked for it), the backup is recorded in the audit log."""
    db_path, folder = Path(db_path), Path(folder)
    if keep < 1:
        raise BackupError("至少保留 1 份备份")
    if not db_path.is_file():
        raise BackupError(f"没有数据库文件：{db_path}")
    _ensure_folder(folder)
    need, free = db_path.stat().st_size, free_space(folder)
    if free is not None and free < need * SPACE_MARGIN:
        raise BackupError(f"备份目录所在磁盘空间不足：需要约 {size_text(int(need * SPACE_MARGIN))}，"
                          f"只剩 {size_text(free)}（可减少保留份数或换一个备份目录）")
    with _folder_lock(folder):
        final = _target(folder, now, before_restore)
        partial = final.with_name(final.name + PARTIAL)
        try:
            backup_store.copy_out(db_path, partial, progress)
            found = backup_store.inspect(partial)
            if not found["ok"]:
                raise BackupError(f"备份副本未通过完整性检查：{'; '.join(found['problems'][:3])}")
            if not found["migrations"]:
                raise BackupError(f"{db_path} 不是本系统的数据库，未备份")
            os.replace(partial, final)
        except StoreError as e:
            raise BackupError(f"数据库 {db_path} 无法读取或已损坏，未备份（{e}）") from e
        except (OSError, DatabaseError) as e:
            raise BackupError(f"无法写入备份 {final.name}：{why(e)}（请检查备份目录的权限和磁盘空间）") from e
        finally:
            with contextlib.suppress(OSError):     # never hide the real error behind a failed clean-up
                partial.unlink(missing_ok=True)
        if prune_old:
            prune(folder, keep, now, spare=final)
    made = _parse(final)
    assert made is not None
    if actor is not None:
        with Store(db_path) as store:
            users.audit(store, actor, "db.backup", made.name, {"file": str(made.path)}, now)
    return Backup(made.path, made.taken_at, made.size, made.before_restore, found["counts"], made.seq)


def prune(folder: Path, keep: int, now: datetime, spare: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` daily backups (never `spare`), and the leftovers of copies
    interrupted over an hour ago. Copies saved by restores and files that are not usable backups stay."""
    removed = []
    daily = [b for b in list_backups(folder) if b.usable(now)]
    for b in daily[keep:]:
        if b.path != spare:
            with contextlib.suppress(OSError):
                b.path.unlink(missing_ok=True)
                removed.append(b.path)
    hour_ago = datetime.now().timestamp() - 3600
    for p in Path(folder).glob(f"opinion-*.db{PARTIAL}"):
        with contextlib.suppress(OSError):
            if p.is_file() and p.stat().st_mtime < hour_ago:   # not one another process is writing now
                p.unlink()
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


def restore(backup: Path, db_path: Path, folder: Path, now: datetime, *, actor: str,
            progress=None) -> tuple[Backup, Backup | None]:
    """Replace the live database with `backup`. Returns (the backup restored, the copy of what it replaced).
    Deletes nothing: the copy it saves first is not pruned, nor is any backup."""
    db_path = Path(db_path)
    source = check(backup)
    if db_path.exists() and source.path.resolve() == db_path.resolve():
        raise BackupError("这就是当前数据库，无需恢复")
    unchanged = "数据库未改动"
    try:
        with collection_lock(lock_path_for(db_path)):
            saved = None
            if db_path.is_file():   # the restored file may be the wrong one: what it replaces is kept
                try:
                    saved = create(db_path, folder, now, before_restore=True, prune_old=False)
                except BackupError as e:
                    raise BackupError(f"恢复未进行，{unchanged}：无法先另存当前数据库（{e}）") from e
            db_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                backup_store.copy_in(source.path, db_path, progress)
            except backup_store.DatabaseBusy:
                raise BackupError(f"数据库正被其他程序写入，等待 {backup_store.BUSY_GIVE_UP_S} 秒后放弃；"
                                  f"恢复未进行，{unchanged}。请关闭其他写入数据库的程序后重试") from None
            except (OSError, DatabaseError) as e:
                raise BackupError(f"恢复失败，{unchanged}：{why(e)}") from e
            with Store(db_path) as store:          # opening applies migrations the backup predates
                users.end_all_sessions(store)
                users.audit(store, actor, "db.restore", source.name,
                            {"taken_at": source.taken_at.isoformat(timespec="seconds"),
                             "saved_as": saved.name if saved else ""}, now)
    except CollectorBusy:
        raise BackupError("采集服务正在运行：请先停止采集服务（如 systemctl stop opinion-collector），"
                          f"恢复后再启动。{unchanged}") from None
    except OSError as e:
        raise BackupError(f"恢复未进行，{unchanged}：{why(e)}") from e
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
    """For the 数据备份 page: the newest backup, whether it is too old, whether the disk is filling up,
    files that look like backups but are not counted, and every file as a table row."""
    try:
        found, problem = list_backups(folder), ""
    except BackupError as e:
        found, problem = [], str(e)
    newest = next((b for b in found if b.usable(now)), None)
    odd = [b.name for b in found if not b.valid or b.taken_at > now + FUTURE_SLACK]
    free = free_space(folder)
    size = db_path.stat().st_size if db_path is not None and Path(db_path).is_file() else 0
    return {
        "latest": newest, "age": age_text(newest, now),
        "when": f"{newest.taken_at:%Y-%m-%d %H:%M}" if newest else "",
        "stale": newest is None or now - newest.taken_at > STALE,
        "free": free, "db_size": size, "problem": problem, "odd": odd,
        "low_space": bool(size and free is not None and free < size * SPACE_MARGIN * LOW_SPACE),
        "rows": [{"备份时间": f"{b.taken_at:%Y-%m-%d %H:%M:%S}", "大小": size_text(b.size),
                  "类型": _kind(b, now), "文件": b.name} for b in found],
    }


def _kind(b: Backup, now: datetime) -> str:
    if not b.valid:
        return "不是数据库（未计入）"
    if b.taken_at > now + FUTURE_SLACK:
        return "日期在未来（未计入）"
    return "恢复前的数据库" if b.before_restore else "备份"


def size_text(n: int) -> str:
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GB"
    if n >= 1_048_576:
        return f"{n / 1_048_576:.1f} MB"
    return f"{n // 1024} KB" if n >= 1024 or n == 0 else "1 KB"


def counts_text(counts: dict) -> str:
    """'441 条信息，3 条处置记录 …' for the tables a backup is described by."""
    return "，".join(f"{counts[t]} {unit}" for t, unit in backup_store.COUNTED.items() if counts.get(t)) or "空数据库"


def age_text(b: Backup | None, now: datetime) -> str:
    """How old the newest backup is, for staff: '刚刚', '3 小时前', '2 天前' (short: it fits a metric)."""
    if b is None:
        return "尚无备份"
    hours = (now - b.taken_at).total_seconds() / 3600
    if hours < 1:
        return "刚刚"
    return f"{int(hours)} 小时前" if hours < 24 else f"{int(hours // 24)} 天前"
