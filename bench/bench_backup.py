"""Benchmark: database backups (`python -m monitor backup create | restore`) on a synthetic database.

The database is made by bench/loaddata.py (SYNTHETIC items recombined from real public texts, marked as
sample) in a temporary folder, unless --db names an existing one.

Measures, on one machine, in one run:
  1. baseline   a plain file copy (shutil.copyfile) of the checkpointed database: what `cp` costs
  2. create     monitor.backup.create: SQLite's online backup, journal switch, PRAGMA integrity_check
  3. check      monitor.backup.check: reading a backup back (what `list --check` and restore do first)
  4. restore    monitor.backup.restore: check, save the current database, copy pages in, reopen
The ratios to the baseline are what the safety costs; the machine's noise cancels in them.

Usage: python bench/bench_backup.py [--items 50000] [--db EXISTING.db]
Figures go to docs/benchmarks.md (by hand, with date and machine).
"""
from __future__ import annotations

import argparse
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import backup  # noqa: E402


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=50_000)
    p.add_argument("--db", help="an existing database to back up (default: build one with loaddata.py)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "opinion.db"
        if args.db:
            shutil.copyfile(args.db, db)
        else:
            subprocess.run([sys.executable, str(ROOT / "bench" / "loaddata.py"), "--db", str(db),
                            "--items", str(args.items)], check=True, capture_output=True)
        with sqlite3.connect(db) as c:          # everything in the main file, so `cp` copies it all
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = db.stat().st_size
        now = datetime.now(timezone.utc)
        base, _ = timed(lambda: shutil.copyfile(db, work / "plain-copy.db"))
        made_s, made = timed(lambda: backup.create(db, work / "backups", now))
        check_s, _ = timed(lambda: backup.check(made.path))
        restore_s, _ = timed(lambda: backup.restore(made.path, db, work / "backups", now + timedelta(hours=1),
                                                    actor="bench"))
    mb = size / 1_048_576
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"database: {mb:.1f} MB, {made.counts.get('items', 0):,} items")
    print(f"baseline  file copy   {base:7.2f} s  {mb / base:8.0f} MB/s")
    for name, s in (("create", made_s), ("check", check_s), ("restore", restore_s)):
        print(f"{name:9} {'':11} {s:7.2f} s  {mb / s:8.0f} MB/s  ×{s / base:.1f} the copy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
