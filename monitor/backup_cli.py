"""Command line for database backups: `python -m monitor backup …` (wired in monitor/__main__.py).

  backup create [--db PATH] [--dir DIR] [--keep N]       a checked copy now; keeps the newest N ($OPINION_BACKUP_KEEP
                                                         or 14)
  backup list [--db PATH] [--dir DIR] [--check]           backups, newest first; --check reads each one back
  backup restore FILE [--db PATH] [--dir DIR] [--yes]     replace the database with FILE (collector stopped)

The folder is --dir, else $OPINION_BACKUP_DIR, else `backups` beside the database. The collector service
(`python -m collectors run --every …`) makes one a day by itself. Exit codes: 0 done, 2 refused or failed,
with a one-line reason on stderr.
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from monitor import backup
from monitor.backup import BackupError
from monitor.cli import cli_actor
from monitor.settings import Settings


def _settings(args: argparse.Namespace) -> tuple[Settings, Path]:
    s = Settings.load(db=args.db)
    return s, Path(args.dir) if args.dir else s.backups


def _progress(label: str):
    """Percent steps on stderr (a copy of a large database takes a while)."""
    shown = [-1]

    def report(done: int, total: int) -> None:
        pct = 100 * done // max(total, 1)
        if pct // 10 > shown[0] // 10 or pct == 100 and shown[0] != 100:
            shown[0] = pct
            print(f"{label} {pct}%", file=sys.stderr, flush=True)
    return report


def cmd_create(args: argparse.Namespace) -> int:
    s, folder = _settings(args)
    made = backup.create(s.db_path, folder, datetime.now(timezone.utc), keep=args.keep or s.backup_keep,
                         progress=_progress("备份"), actor=cli_actor())
    print(f"已备份到 {made.path}（{backup.size_text(made.size)}；{backup.counts_text(made.counts)}）")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    _, folder = _settings(args)
    found = backup.list_backups(folder)
    if not found:
        print(f"{folder} 中没有备份", file=sys.stderr)
        return 0
    bad = 0
    for b in found:
        line = f"{b.taken_at:%Y-%m-%d %H:%M:%S}\t{backup.size_text(b.size)}\t{b.path}"
        if not b.valid:
            line += "\t（不是数据库，未计入）"
        elif b.taken_at > datetime.now(timezone.utc) + backup.FUTURE_SLACK:
            line += "\t（日期在未来，未计入）"
        elif b.before_restore:
            line += "\t（恢复前的数据库）"
        if args.check:
            try:
                line += f"\t完好：{backup.counts_text(backup.check(b.path).counts)}"
            except BackupError as e:
                line += f"\t不可用：{e}"
                bad += 1
        print(line)
    return 2 if bad else 0


def cmd_restore(args: argparse.Namespace) -> int:
    s, folder = _settings(args)
    source = backup.check(Path(args.file))         # refuse a bad file before asking anything
    print(f"将用备份 {source.path.name}（{source.taken_at:%Y-%m-%d %H:%M}；{backup.counts_text(source.counts)}）"
          f"替换数据库 {s.db_path}；当前数据库先另存到 {folder}。", file=sys.stderr)
    if not args.yes:
        if not sys.stdin.isatty():
            raise BackupError("恢复会替换整个数据库：确认无误后加 --yes 再运行")
        if input("输入 yes 确认恢复：").strip().lower() != "yes":
            print("已取消", file=sys.stderr)
            return 2
    # restore() reads the file back once more (about 1 s per 100 MB): it may have changed while the prompt waited
    restored, saved = backup.restore(source.path, s.db_path, folder, datetime.now(timezone.utc),
                                     actor=cli_actor(), progress=_progress("恢复"))
    if saved is not None:
        print(f"原数据库已另存为 {saved.path}")
    print(f"已从 {restored.path.name} 恢复数据库 {s.db_path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `backup create | list | restore` to `python -m monitor`."""
    def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="SQLite file (default: $OPINION_DB or data/opinion.db)")
        p.add_argument("--dir", help="backup folder (default: $OPINION_BACKUP_DIR or backups/ beside the database)")
        return p

    b = subparsers.add_parser("backup", help="数据库备份：create | list | restore")
    bs = b.add_subparsers(dest="action", required=True)
    c = common(bs.add_parser("create", help="make a checked backup now"))
    c.add_argument("--keep", type=_keep, default=None,
                   help="how many daily backups to keep (default: $OPINION_BACKUP_KEEP or 14)")
    c.set_defaults(func=_guarded(cmd_create))
    ls = common(bs.add_parser("list", help="backups, newest first"))
    ls.add_argument("--check", action="store_true", help="read every backup back and check it")
    ls.set_defaults(func=_guarded(cmd_list))
    r = common(bs.add_parser("restore", help="replace the database with a backup (stop the collector first)"))
    r.add_argument("file")
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=_guarded(cmd_restore))


def _keep(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"须为正整数：{value!r}") from None
    if not 1 <= n <= 10_000:
        raise argparse.ArgumentTypeError("须在 1 到 10000 之间")
    return n


def _guarded(fn):
    """BackupError is a refusal with a reason for staff: one line, exit 2."""
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except BackupError as e:
            print(f"错误：{e}", file=sys.stderr)
            return 2
    return run
