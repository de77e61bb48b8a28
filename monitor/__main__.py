"""python -m monitor export | sample build | sample load | sample remove

Exit codes: 0 done, 2 bad input (bad date, missing database or file) with a
one-line reason on stderr.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from monitor import queries
from monitor.sample import SampleError, build_sample_file, load_sample, remove_sample
from monitor.settings import Settings
from monitor.store import Store, StoreError


class CliError(Exception):
    """Bad input from the command line; printed as one line, exit 2."""


def _open(settings: Settings, must_exist: bool) -> Store:
    if must_exist and not settings.db_path.exists():
        raise CliError(f"database not found: {settings.db_path}")
    try:
        return Store(settings.db_path)
    except StoreError as e:
        raise CliError(str(e)) from None


def cmd_export(args: argparse.Namespace) -> int:
    since = None
    if args.since is not None:
        try:
            since = queries.parse_day(args.since)
        except queries.QueryError:
            raise CliError(f"--since must be a date YYYY-MM-DD, got {args.since!r}") from None
    settings = Settings.load(db=args.db)
    with _open(settings, must_exist=True) as store:
        n = queries.export_jsonl(store, sys.stdout, since)
    sys.stdout.flush()
    logging.getLogger("monitor.export").info("exported %d items", n)
    return 0


def cmd_sample_build(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else Settings.load().sample_file
    try:
        n = build_sample_file(Path(args.src), out)
    except SampleError as e:
        raise CliError(str(e)) from None
    print(f"wrote {n} sample items to {out}")
    return 0


def cmd_sample_load(args: argparse.Namespace) -> int:
    settings = Settings.load(db=args.db)
    path = Path(args.file) if args.file else settings.sample_file
    if not path.exists():
        raise CliError(f"sample file not found: {path}")
    # Imported here: the judge loads model files, which export and remove never need.
    from sentiment import load_judge
    judge = load_judge()
    with _open(settings, must_exist=False) as store:
        try:
            counts = load_sample(store, judge, path)
        except SampleError as e:
            raise CliError(str(e)) from None
        total = store.count_items(sample=True)
    print(f"示例数据已载入：新增 {counts.new} 条，重复 {counts.duplicate} 条，库中示例数据共 {total} 条")
    return 0


def cmd_sample_remove(args: argparse.Namespace) -> int:
    settings = Settings.load(db=args.db)
    if not settings.db_path.exists():
        print("示例数据已清除：0 条（数据库不存在）")
        return 0
    with _open(settings, must_exist=True) as store:
        n = remove_sample(store)
        left = store.count_items()
    print(f"示例数据已清除：{n} 条，库中剩余 {left} 条")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m monitor", description="舆情监测：导出与示例数据")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="write stored items as JSON Lines to stdout")
    e.add_argument("--db", help="SQLite file (default: $OPINION_DB or data/opinion.db)")
    e.add_argument("--since", help="only items published from this Beijing day on (YYYY-MM-DD)")
    e.set_defaults(func=cmd_export)

    s = sub.add_parser("sample", help="the bundled sample corpus")
    ssub = s.add_subparsers(dest="action", required=True)
    b = ssub.add_parser("build", help="build data/sample/ from the development set")
    b.add_argument("--from", dest="src", required=True, help="ip_opinion_dev.jsonl")
    b.add_argument("--out", help="output file (default: data/sample/ip_opinion_sample.jsonl)")
    b.set_defaults(func=cmd_sample_build)
    ld = ssub.add_parser("load", help="judge and store the sample items, marked as sample")
    ld.add_argument("--db")
    ld.add_argument("--file", help="sample file (default: data/sample/ip_opinion_sample.jsonl)")
    ld.set_defaults(func=cmd_sample_load)
    rm = ssub.add_parser("remove", help="delete every sample item")
    rm.add_argument("--db")
    rm.set_defaults(func=cmd_sample_remove)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
