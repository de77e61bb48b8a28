"""Copies of the whole database file, made and read with SQLite's own online backup: the storage half of
`monitor.backup` (which names, keeps and restores them).

SQLite's backup API copies a consistent snapshot while the collector and the dashboard keep writing and
reading (WAL), page by page, so a progress bar can follow it. Copying the file with `cp` would not: the
newest pages may still sit in the -wal file, and a copy taken mid-write may be torn.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Callable

from monitor.store import BUSY_TIMEOUT_MS, StoreError

# Tables whose row counts describe a backup to staff (what would come back on restore).
COUNTED = {"items": "条信息", "handling_events": "条处置记录", "cases": "个案例", "briefings": "期简报",
           "users": "个账号", "audit_log": "条操作日志"}
PAGES_PER_STEP = 2048          # ~8 MB at the default page size: progress moves, writers are not starved
BUSY_GIVE_UP_S = 60            # Python's backup() retries a locked database forever; a restore must not hang
SQLITE_HEADER = b"SQLite format 3\x00"
Progress = Callable[[int, int], None]   # (pages copied, pages in all)
_BUSY = {getattr(sqlite3, "SQLITE_BUSY", 5), getattr(sqlite3, "SQLITE_LOCKED", 6)}


class DatabaseBusy(sqlite3.OperationalError):
    """Another connection kept the database locked past BUSY_GIVE_UP_S; the copy was abandoned."""


def looks_like_sqlite(path: Path) -> bool:
    """A cheap look at the file's first bytes: a SQLite database, not an empty or foreign file."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_HEADER
    except OSError:
        return False


def _uri(path: Path, *, immutable: bool = False) -> str:
    # as_uri() percent-escapes '#', '?' and '%': pasted into "file:..." they would name another file.
    return Path(path).resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")


def _connect_ro(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(_uri(path, immutable=immutable), uri=True)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _copy(src: sqlite3.Connection, dest: sqlite3.Connection, progress: Progress | None) -> None:
    busy_since: list[float] = []

    def step(status: int, remaining: int, total: int) -> None:
        if status in _BUSY:
            busy_since.append(busy_since[0] if busy_since else time.monotonic())
            if time.monotonic() - busy_since[0] > BUSY_GIVE_UP_S:
                raise DatabaseBusy("database is locked by another process")
        else:
            busy_since.clear()
        if progress is not None:
            progress(total - remaining, total)

    src.backup(dest, pages=PAGES_PER_STEP, progress=step)


def copy_out(db_path: Path, dest: Path, progress: Progress | None = None) -> None:
    """Write a self-contained copy of `db_path` to `dest` (a new file): no -wal beside it.

    StoreError when the database itself cannot be read; sqlite3/OS errors are the copy's (the folder)."""
    if not looks_like_sqlite(db_path):
        raise StoreError(f"{db_path} is not a SQLite database (or is empty)")
    try:
        src = _connect_ro(db_path)
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as e:
        raise StoreError(f"cannot read {db_path}: {e}") from e
    try:
        out = sqlite3.connect(dest, isolation_level=None)
        try:
            _copy(src, out, progress)
            # The copy inherits WAL mode from its source; a backup should be one file that opens anywhere.
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
    finally:
        src.close()


def copy_in(backup: Path, db_path: Path, progress: Progress | None = None) -> None:
    """Overwrite the live database `db_path` with `backup`, page by page, under SQLite's locks: other open
    connections see the restored content on their next read instead of a file swapped under them. When it
    stops part way (DatabaseBusy, a full disk), SQLite rolls the live file back: it is unchanged."""
    src = _connect_ro(backup, immutable=True)
    try:
        live = sqlite3.connect(db_path, isolation_level=None)
        try:
            live.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            _copy(src, live, progress)
        finally:
            live.close()
    finally:
        src.close()


def inspect(path: Path) -> dict:
    """What a backup file holds, without changing it or leaving files beside it: integrity, applied
    migrations, row counts.

    Raises StoreError when it is not a SQLite database; `ok` is False (with SQLite's findings in
    `problems`) when it is one but damaged."""
    if not looks_like_sqlite(path):
        raise StoreError(f"{path} is not a SQLite database (or is empty)")
    try:
        conn = _connect_ro(path, immutable=True)
        try:
            found = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            migrations = ([r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY rowid")]
                          if "schema_migrations" in tables else [])
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED if t in tables}
        finally:
            conn.close()
    except sqlite3.Error as e:
        raise StoreError(f"{path} is not a readable SQLite database: {e}") from e
    return {"ok": found == ["ok"], "problems": [] if found == ["ok"] else found, "migrations": migrations,
            "counts": counts}
