"""python -m briefing weekly|daily|template|list

    python -m briefing weekly --week 2026-W47 [--db PATH] --out FILE.docx
    python -m briefing weekly --from 2026-11-01 --to 2026-11-20 [--db PATH] --out FILE.docx
    python -m briefing daily --date 2026-11-20 [--db PATH] --out FILE.docx
    python -m briefing template [--out data/templates/briefing.docx]
    python -m briefing list [--year 2026] [--db PATH]

Exit codes: 0 done, 2 bad input (unknown week, reversed range, future period,
missing database, unwritable output) with a one-line reason on stderr; no
file is written then.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from briefing import issue
from briefing.build import DEFAULT_UNIT, EDITABLE
from briefing.docx import TEMPLATE, blank_template
from briefing.period import KIND_LABELS, PeriodError, date_range, day, week
from collectors.registry import SourceConfigError, load_sources
from monitor.briefing_store import BriefingStore
from monitor.cli import run_command
from monitor.queries import beijing_today, to_beijing_iso
from monitor.settings import Settings
from monitor.store import Store, StoreError


class CliError(Exception):
    """Bad input: printed as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise CliError(f"{self.prog}: {message}")


def _period(args: argparse.Namespace):
    today = beijing_today()
    try:
        if args.command == "daily":
            return day(args.date, today)
        if args.week and (args.start or args.end):
            raise CliError("give either --week or --from/--to, not both")
        if args.week:
            return week(args.week, today)
        if not (args.start and args.end):
            raise CliError("give --week YYYY-Www, or both --from YYYY-MM-DD and --to YYYY-MM-DD")
        return date_range(args.start, args.end, today)
    except PeriodError as e:
        raise CliError(str(e)) from None


def _edits(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CliError(f"cannot read --edits {path}: {e}") from None
    if not isinstance(data, dict) or set(data) - set(EDITABLE) or not all(
            isinstance(v, str) for v in data.values()):
        raise CliError(f"--edits must be a JSON object with text values for: {', '.join(EDITABLE)}")
    return data


def _sources(settings: Settings):
    try:
        return load_sources(settings.sources_file, settings.rsshub_base)
    except SourceConfigError as e:
        print(f"warning: source list not read ({e}); the appendix lists only sources that ran",
              file=sys.stderr)
        return None


def _store(settings: Settings) -> Store:
    if not settings.db_path.exists():
        raise CliError(f"database not found: {settings.db_path}")
    try:
        return Store(settings.db_path)
    except StoreError as e:
        raise CliError(str(e)) from None


def cmd_make(args: argparse.Namespace) -> int:
    period = _period(args)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"output folder does not exist: {out.parent}")
    if out.suffix.lower() != ".docx":
        raise CliError(f"--out must end in .docx, got {out.name!r}")
    edits = _edits(args.edits)
    settings = Settings.load(db=args.db, sources=args.sources)
    with _store(settings) as store:
        try:
            data = issue.make_file(store, period, out, sources=_sources(settings), unit=args.unit, edits=edits,
                                   record=not args.no_record)
        except OSError as e:
            raise CliError(f"cannot write {out} (no issue number taken): {e}") from None
    ov = data.overview
    print(f"{data.title} {data.issue_label}（{period.label}）：信息 {ov['total']} 条，负面 {ov['negative']} 条；"
          f"采集{'完整' if data.coverage.complete else '不完整'} → {out}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"output folder does not exist: {out.parent}")
    try:
        issue.write_file(out, blank_template())
    except OSError as e:
        raise CliError(f"cannot write {out}: {e}") from None
    print(f"wrote {out}")
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
    p = _Parser(prog="python -m briefing", description="舆情周报/日报 (Word, 公文格式)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sp):
        sp.add_argument("--db", help="database file (default: OPINION_DB or data/opinion.db)")
        sp.add_argument("--sources", help="sources file (default: OPINION_SOURCES or data/sources.toml)")
        sp.add_argument("--out", required=True, help="the .docx to write")
        sp.add_argument("--unit", default=DEFAULT_UNIT, help=f"编制单位 (default {DEFAULT_UNIT})")
        sp.add_argument("--edits", help="JSON file with staff texts: " + ", ".join(EDITABLE))
        sp.add_argument("--no-record", action="store_true", help="do not store the issue (期号 not taken)")
        sp.set_defaults(func=cmd_make)

    w = sub.add_parser("weekly", help="weekly briefing for an ISO week or any date range")
    w.add_argument("--week", help="ISO week, e.g. 2026-W47")
    w.add_argument("--from", dest="start", help="first day YYYY-MM-DD")
    w.add_argument("--to", dest="end", help="last day YYYY-MM-DD")
    common(w)
    d = sub.add_parser("daily", help="daily briefing")
    d.add_argument("--date", required=True, help="the day, YYYY-MM-DD")
    common(d)
    t = sub.add_parser("template", help="write the blank Word template staff can restyle")
    t.add_argument("--out", default=str(TEMPLATE))
    t.set_defaults(func=cmd_template)
    ls = sub.add_parser("list", help="issued briefings")
    ls.add_argument("--db")
    ls.add_argument("--year", type=int)
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        return run_command(args.func, args)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
