"""python -m briefing weekly|daily|template|list

    python -m briefing weekly --week 2026-W47 [--db PATH] --out FILE.docx
    python -m briefing weekly --from 2026-11-01 --to 2026-11-20 [--db PATH] --out FILE.docx
    python -m briefing daily --date 2026-11-20 [--db PATH] --out FILE.docx
    python -m briefing template [--out data/templates/briefing.docx]
    python -m briefing list [--year 2026] [--db PATH]

Exit codes: 0 done, 2 bad input (unknown week, reversed range, future period,
missing database, unwritable output, a mistyped command line) with a one-line
reason in Chinese on stderr ("错误：…"); no file is written then.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from briefing import issue
from monitor.cli_parser import EXIT_USAGE, ChineseArgumentParser
from briefing.build import DEFAULT_UNIT, EDITABLE
from briefing.docx import TEMPLATE, blank_template
from briefing.period import KIND_LABELS, PeriodError, date_range, day, week
from collectors.registry import SourceConfigError, load_sources
from monitor.briefing_store import BriefingStore
from monitor.cli import REASONS, run_command
from monitor.queries import beijing_today, to_beijing_iso
from monitor.settings import Settings
from monitor.store import Store, StoreError


class CliError(Exception):
    """Bad input: printed as one line, exit 2."""


def _reason(e: OSError) -> str:
    return REASONS.get(e.errno, e.strerror or str(e))


def _period(args: argparse.Namespace):
    today = beijing_today()
    try:
        if args.command == "daily":
            return day(args.date, today)
        if args.week and (args.start or args.end):
            raise CliError("--week 与 --from/--to 只能二选一")
        if args.week:
            return week(args.week, today)
        if not (args.start and args.end):
            raise CliError("请给出 --week YYYY-Www，或同时给出 --from YYYY-MM-DD 和 --to YYYY-MM-DD")
        return date_range(args.start, args.end, today)
    except PeriodError as e:
        raise CliError(str(e)) from None


def _edits(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise CliError(f"无法读取 --edits 文件 {path}：{_reason(e)}") from None
    except UnicodeDecodeError:
        raise CliError(f"无法读取 --edits 文件 {path}：不是 UTF-8 编码的文本") from None
    except json.JSONDecodeError as e:
        raise CliError(f"无法读取 --edits 文件 {path}：JSON 格式有误（第 {e.lineno} 行第 {e.colno} 列）") from None
    if not isinstance(data, dict) or set(data) - set(EDITABLE) or not all(
            isinstance(v, str) for v in data.values()):
        raise CliError(f"--edits 文件应为 JSON 对象，键只能是 {'、'.join(EDITABLE)}，值为文本")
    return data


def _sources(settings: Settings):
    try:
        return load_sources(settings.sources_file, settings.rsshub_base)
    except SourceConfigError as e:
        print(f"警告：未能读取信息源配置（{e}），附录只列出本期运行过的信息源", file=sys.stderr)
        return None


def _store(settings: Settings) -> Store:
    if not settings.db_path.exists():
        raise CliError(f"数据库不存在：{settings.db_path}")
    if settings.db_path.is_dir():
        raise CliError(f"{settings.db_path} 是文件夹，不是数据库文件")
    try:
        return Store(settings.db_path)
    except StoreError as e:
        raise CliError(f"数据库无法打开：{e}") from None


def cmd_make(args: argparse.Namespace) -> int:
    period = _period(args)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"输出文件夹不存在：{out.parent}")
    if out.suffix.lower() != ".docx":
        raise CliError(f"--out 应以 .docx 结尾，收到 {out.name!r}")
    edits = _edits(args.edits)
    settings = Settings.load(db=args.db, sources=args.sources)
    with _store(settings) as store:
        try:
            data = issue.make_file(store, period, out, sources=_sources(settings), unit=args.unit, edits=edits,
                                   record=not args.no_record)
        except OSError as e:
            raise CliError(f"无法写入 {out}（未占用期号）：{_reason(e)}") from None
    ov = data.overview
    print(f"{data.title} {data.issue_label}（{period.label}）：信息 {ov['total']} 条，负面 {ov['negative']} 条；"
          f"采集{'完整' if data.coverage.complete else '不完整'} → {out}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"输出文件夹不存在：{out.parent}")
    try:
        issue.write_file(out, blank_template())
    except OSError as e:
        raise CliError(f"无法写入 {out}：{_reason(e)}") from None
    print(f"已写入空白模板：{out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    settings = Settings.load(db=args.db)
    with _store(settings) as store:
        rows = BriefingStore(store).issued(year=args.year)
    for r in rows:
        print(f"{KIND_LABELS.get(r['kind'], r['kind'])} {r['year']}年第{r['number']}期 "
              f"{r['period_start']}~{r['period_end']} 签发于 {to_beijing_iso(r['issued_at'])}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = ChineseArgumentParser(prog="python -m briefing", description="舆情周报/日报/专报（Word，公文格式）")
    sub = p.add_subparsers(dest="command", required=True, metavar="{weekly,daily,template,list}")

    def common(sp):
        sp.add_argument("--db", help="数据库文件（默认：环境变量 OPINION_DB，否则 data/opinion.db）")
        sp.add_argument("--sources", help="信息源配置文件（默认：环境变量 OPINION_SOURCES，否则 data/sources.toml）")
        sp.add_argument("--out", required=True, help="要写入的 .docx 文件")
        sp.add_argument("--unit", default=DEFAULT_UNIT, help=f"编制单位（默认：{DEFAULT_UNIT}）")
        sp.add_argument("--edits", help="工作人员修改的文字（JSON 文件，键：" + "、".join(EDITABLE) + "）")
        sp.add_argument("--no-record", action="store_true", help="只出草稿，不登记期号")
        sp.set_defaults(func=cmd_make)

    w = sub.add_parser("weekly", help="周报（ISO 周）或任意时段的专报",
                       description="周报：--week YYYY-Www；专报：--from/--to 任意时段（含两端）")
    w.add_argument("--week", metavar="YYYY-Www", help="ISO 周次，如 2026-W47")
    w.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="开始日期（含当天）")
    w.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="结束日期（含当天）")
    common(w)
    d = sub.add_parser("daily", help="日报", description="日报：--date YYYY-MM-DD")
    d.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="日报的日期")
    common(d)
    t = sub.add_parser("template", help="写出可在 Word 中修改样式的空白模板", description="写出空白模板")
    t.add_argument("--out", default=str(TEMPLATE), help=f"模板文件（默认：{TEMPLATE}）")
    t.set_defaults(func=cmd_template)
    ls = sub.add_parser("list", help="已签发的简报", description="列出已签发的简报")
    ls.add_argument("--db", help="数据库文件（默认：环境变量 OPINION_DB，否则 data/opinion.db）")
    ls.add_argument("--year", type=int, help="只列出该年度，如 2026")
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a mistyped command line (2, message already printed)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    try:
        return run_command(args.func, args)
    except CliError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
