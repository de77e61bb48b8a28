"""Command line for the dashboard's 导入 and 信息源 actions: `python -m monitor.intake_cli …`.

Can be wired into monitor/__main__.py with one call, `intake_cli.register(sub)`.

  add-item --url URL --title TITLE [--text T] [--time T] [--platform P] [--source S]
  import FILE [--map FIELD=COLUMN ...] [--remember] [--platform P] [--json]
  source enable NAME | source disable NAME
  source set NAME [--interval MINUTES] [--weight W]
  source add --name NAME --url URL [--kind K] [--platform P] [--region R] [--interval M] [--weight W]
             [--disabled] [--always-relevant] [--own] [--notes TEXT]

(`python -m collectors ingest FILE` also imports exports; this command adds
column mappings and records the import in the audit log.) Every write is
recorded in the audit log as `cli:<system user>`. Exit codes: 0 done,
2 bad input with a one-line reason on stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from monitor.cli_parser import ChineseArgumentParser
from collectors.imports import FIELDS
from collectors.registry import SourceConfigError
from monitor import intake
from monitor.cli import cli_actor, os_error_message, run_command
from monitor.settings import Settings
from monitor.store import Store, StoreError


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 2


def _mapping(pairs: list[str]) -> dict[str, str] | None:
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field.strip() not in FIELDS:
            raise ValueError(f"--map 应写成 字段=列名，字段为 {', '.join(FIELDS)} 之一，而不是 {pair!r}")
        mapping[field.strip()] = column.strip()
    return mapping or None


def _report(report: intake.IntakeReport, as_json: bool) -> int:
    for w in report.warnings:
        print(f"警告：{w}", file=sys.stderr)
    if as_json:
        print(json.dumps({"ok": report.ok, "new": report.new, "duplicate": report.duplicate,
                          "errors": report.errors, "estimated": report.estimated}, ensure_ascii=False))
    else:
        for e in report.errors if report.ok else []:
            print(f"跳过：{e}", file=sys.stderr)
        for e in report.estimated:
            print(f"时间按导入时间记录：{e}", file=sys.stderr)
        # A refusal is an error message (stderr, exit 2); stdout carries only what was done.
        print(report.summary if report.ok else f"错误：{report.summary}", file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 2


def run(args: argparse.Namespace) -> int:
    settings = Settings.load(db=args.db, sources=args.sources)
    actor = cli_actor()
    try:
        if args.intake_cmd in ("add-item", "import"):
            from sentiment import load_judge   # imported late: only item commands need the model
            with Store(settings.db_path) as store:
                if args.intake_cmd == "add-item":
                    fields = {"url": args.url, "title": args.title, "text": args.text, "time": args.time,
                              "platform": args.platform, "source": args.source}
                    return _report(intake.add_manual_item(store, load_judge(), fields, settings, user=actor), False)
                path = Path(args.file)
                report = intake.import_file(store, load_judge(), path.name, path.read_bytes(), _mapping(args.map),
                                            args.remember, settings, user=actor, platform=args.platform)
                return _report(report, args.json)
        with Store(settings.db_path) as store:
            if args.source_cmd in ("enable", "disable"):
                s = intake.set_source_enabled(store, settings, args.name, args.source_cmd == "enable", user=actor)
            elif args.source_cmd == "set":
                s = intake.update_source(store, settings, args.name, interval_minutes=args.interval,
                                         weight=args.weight, user=actor)
            else:
                fields = {"name": args.name, "url": args.url, "kind": args.kind, "platform": args.platform,
                          "region": args.region, "interval_minutes": args.interval, "weight": args.weight,
                          "enabled": not args.disabled, "always_relevant": args.always_relevant, "own": args.own,
                          "notes": args.notes}
                s = intake.add_source(store, settings, fields, user=actor)
        print(f"{s.name}：{'启用' if s.enabled else '停用'}，间隔 {s.interval_minutes} 分钟，权重 {s.weight:g}")
        return 0
    except OSError as e:
        return _fail(os_error_message(e))
    except (SourceConfigError, ValueError, StoreError) as e:
        return _fail(str(e))


def register(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("intake", help="手工录入、导入导出文件、启用/停用/新增信息源")
    p.add_argument("--db", help="数据库文件（默认 OPINION_DB 或 data/opinion.db）")
    p.add_argument("--sources", help="信息源文件（默认 OPINION_SOURCES 或 data/sources.toml）")
    cmds = p.add_subparsers(dest="intake_cmd", required=True)
    a = cmds.add_parser("add-item", help="录入一条信息")
    a.add_argument("--url", required=True)
    a.add_argument("--title", required=True)
    a.add_argument("--text", default="")
    a.add_argument("--time", default=None, help="发布时间，如 2025-04-26 10:30")
    a.add_argument("--platform", default="news")
    a.add_argument("--source", default="手工录入")
    i = cmds.add_parser("import", help="导入 CSV / XLSX / JSON / JSONL 导出文件")
    i.add_argument("file")
    i.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help=f"列对应关系，字段为 {', '.join(FIELDS)}")
    i.add_argument("--remember", action="store_true", help="记住此格式的列对应关系")
    i.add_argument("--platform", default="news")
    i.add_argument("--json", action="store_true")
    s = cmds.add_parser("source", help="修改信息源")
    scmds = s.add_subparsers(dest="source_cmd", required=True)
    for name in ("enable", "disable"):
        scmds.add_parser(name).add_argument("name")
    st = scmds.add_parser("set")
    st.add_argument("name")
    st.add_argument("--interval", type=int)
    st.add_argument("--weight", type=float)
    ad = scmds.add_parser("add")
    ad.add_argument("--name", required=True)
    ad.add_argument("--url", required=True)
    ad.add_argument("--kind", default="rss")
    ad.add_argument("--platform", default="news")
    ad.add_argument("--region", default="")
    ad.add_argument("--interval", type=int, default=60)
    ad.add_argument("--weight", type=float, default=1.0)
    ad.add_argument("--disabled", action="store_true")
    ad.add_argument("--always-relevant", action="store_true")
    ad.add_argument("--own", action="store_true")
    ad.add_argument("--notes", default="")
    p.set_defaults(func=run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = ChineseArgumentParser(prog="python -m monitor.intake_cli")
    register(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(argv)
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
