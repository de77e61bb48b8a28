"""python -m monitor export | sample build | sample load | sample remove | search | reindex | rebuild-bands | rejudge | handle

Exit codes: 0 done, 2 bad input (bad date, missing database or file) with a
one-line reason on stderr.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from monitor import queries, users
from monitor.cli import cli_actor, run_command
from monitor.cli_parser import ChineseArgumentParser
from monitor.sample import SampleError, build_sample_file, load_sample, remove_sample
from monitor.settings import Settings
from monitor.store import Store, StoreError
from sentiment.judgement import REVIEW_P


HANDLE_USER = "cli"     # who a handling move made here is recorded as when --user is not given


class CliError(Exception):
    """Bad input from the command line; printed as one line, exit 2."""


def _open(settings: Settings, must_exist: bool) -> Store:
    if must_exist and not settings.db_path.exists():
        raise CliError(f"找不到数据库：{settings.db_path}")
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
            raise CliError(f"--since 应为日期 YYYY-MM-DD，收到 {args.since!r}") from None
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
        raise CliError(f"找不到示例数据文件：{path}")
    # Imported here: the judge loads model files, which export and remove never need.
    from sentiment import load_judge
    judge = load_judge()
    with _open(settings, must_exist=False) as store:
        try:
            counts = load_sample(store, judge, path)
        except SampleError as e:
            raise CliError(str(e)) from None
        users.audit(store, cli_actor(), "sample.load", str(path), {"new": counts.new})   # as from the page
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
        users.audit(store, cli_actor(), "sample.remove", "", {"removed": n})
        left = store.count_items()
    print(f"示例数据已清除：{n} 条，库中剩余 {left} 条")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    return _rebuild(args, "全文索引", lambda store, progress: store.reindex(progress=progress), "条")


def cmd_rebuild_bands(args: argparse.Namespace) -> int:
    return _rebuild(args, "报道归并索引", lambda store, progress: store.rebuild_story_bands(progress=progress),
                    "条首发报道")


def cmd_rejudge(args: argparse.Namespace) -> int:
    from monitor.judging import rejudge_as
    since = None
    if args.since:
        try:
            since = queries.day_start_iso(queries.parse_day(args.since))
        except queries.QueryError as e:
            raise CliError(str(e)) from None
    settings = Settings.load(db=args.db)
    from sentiment import load_judge
    from sentiment.model import ModelError
    try:
        judge = load_judge()
    except ModelError as e:
        raise CliError(str(e)) from None
    with _open(settings, must_exist=True) as store:
        def progress(done: int, total: int) -> None:
            print(f"\r重新判定：{done}/{total}", end="", file=sys.stderr, flush=True)
        report = rejudge_as(store, judge, f"cli:{args.user}", since=since, progress=progress)
    print(file=sys.stderr)
    print(report.summary())
    return 0


def _rebuild(args: argparse.Namespace, what: str, run, unit: str) -> int:
    """Rebuild derived data of the store with a progress line on stderr."""
    settings = Settings.load(db=args.db)
    with _open(settings, must_exist=True) as store:
        def progress(done: int, total: int) -> None:
            print(f"\r{what}：{done}/{total}", end="", file=sys.stderr, flush=True)
        n = run(store, progress)
    print(file=sys.stderr)
    print(f"{what}已重建：{n} {unit}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    settings = Settings.load(db=args.db)
    since = None
    if args.since:
        try:
            since = queries.parse_day(args.since)
        except queries.QueryError as e:
            raise CliError(str(e)) from None
    f = queries.ItemFilter(start=since, keyword=args.query, negative_only=args.negative,
                           suspect_only=args.suspect, sources=tuple(args.source or ()), limit=args.limit)
    with _open(settings, must_exist=True) as store:
        page = queries.item_list(store, f)
    if page.error:
        raise CliError(page.error)
    for note in page.notes:
        print(note, file=sys.stderr)
    for r in page.rows.itertuples():
        rec = {"id": int(r.id), "published_at": r.published_at.isoformat(), "source": r.source,
               "title": r.title, "polarity": r.polarity, "url": r.url, "story_id": int(r.story_id)}
        print(json.dumps(rec, ensure_ascii=False))
    print(f"匹配 {page.total}{'+' if page.total_capped else ''} 条", file=sys.stderr)
    return 0


def cmd_handle(args: argparse.Namespace) -> int:
    from monitor import handling
    settings = Settings.load(db=args.db)
    if args.target == "list":
        if args.action:
            raise CliError("usage: handle list [--state STATE] [--days N]")
        with _open(settings, must_exist=True) as store:
            try:
                frame = handling.handling_list(store, days=args.days, states=tuple(args.state or ()))
            except handling.HandlingError as e:
                raise CliError(str(e)) from None
        for r in frame.itertuples():
            rec = {"story_id": int(r.story_id), "state": r.state, "state_label": r.state_label,
                   "overdue": bool(r.overdue), "unit": r.unit if isinstance(r.unit, str) else "",
                   "due_at": queries.to_beijing_iso(r.due_at),
                   "items": int(r.items), "title": r.title}
            print(json.dumps(rec, ensure_ascii=False))
        return 0
    try:
        item_id = int(args.target)
    except ValueError:
        raise CliError(f"ITEM_ID 应为条目编号或 list，收到 {args.target!r}") from None
    if not args.action:
        raise CliError(f"an ACTION is needed: {', '.join(handling.ACTIONS)}")
    with _open(settings, must_exist=True) as store:
        try:
            users.check_actor(store, args.user, default=HANDLE_USER)
        except users.UserError as e:
            raise CliError(str(e)) from None
        try:
            move = handling.transition(store, item_id, args.action, args.user, unit=args.to or "",
                                       due=args.due, note=args.note or "", link=args.link or "",
                                       reason=args.reason or "")
        except handling.HandlingError as e:
            raise CliError(str(e)) from None
    print(f"事件 {move.story_id}：{handling.STATES[move.from_state]} → {handling.STATES[move.to_state]}"
          f"（{handling.ACTIONS[move.action]}，{args.user}）")
    return 0


def parser() -> argparse.ArgumentParser:
    from monitor import admin_cli, backup_cli, intake_cli
    p = ChineseArgumentParser(prog="python -m monitor",
                                description="舆情监测：导出、示例数据、检索、负面处置、用户与预警、录入")
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

    r = sub.add_parser("reindex", help="rebuild the full-text search index")
    r.add_argument("--db")
    r.set_defaults(func=cmd_reindex)

    rb = sub.add_parser("rebuild-bands", help="rebuild the story look-up keys of stored first reports "
                                              "(after an upgrade changed the band layout)")
    rb.add_argument("--db")
    rb.set_defaults(func=cmd_rebuild_bands)

    rj = sub.add_parser("rejudge", help="judge stored items again with the current model (after "
                                         "`python -m sentiment train` or `rollback`); staff corrections stay")
    rj.add_argument("--db")
    rj.add_argument("--since", help="only items published from this Beijing day on (YYYY-MM-DD)")
    rj.add_argument("--user", default="cli", help="who runs it (recorded in the audit log)")
    rj.set_defaults(func=cmd_rejudge)

    q = sub.add_parser("search", help="full-text search; one JSON object per item, newest first")
    q.add_argument("query", help='e.g. 专利 侵权, "商标 侵权", 专利 OR 商标, 专利 -宣传')
    q.add_argument("--db")
    q.add_argument("--since", help="Beijing day YYYY-MM-DD")
    q.add_argument("--source", action="append", help="only this source (repeatable)")
    q.add_argument("--negative", action="store_true", help="only items flagged negative")
    q.add_argument("--suspect", action="store_true",
                   help=f"only suspected negative items (not flagged, p_negative >= {REVIEW_P}); with --negative, both")
    q.add_argument("--limit", type=int, default=50)
    q.set_defaults(func=cmd_search)

    h = sub.add_parser("handle", help="负面处置: move a story (by any of its item ids), or list stories")
    h.add_argument("target", metavar="ITEM_ID|list")
    h.add_argument("action", nargs="?", help="assign | respond | close | dismiss | reopen")
    h.add_argument("--db")
    h.add_argument("--to", help="responsible 处室 or city (assign)")
    h.add_argument("--due", default=None, help="due time: 24h, 3d or 'YYYY-MM-DD HH:MM' Beijing time (assign)")
    h.add_argument("--note", help="response or closing note")
    h.add_argument("--link", help="response link (http/https)")
    h.add_argument("--reason", help="why no handling is needed (dismiss), or why reopened")
    h.add_argument("--user", default=HANDLE_USER, help="who acts (recorded in the history; an account name "
                   "once accounts exist)")
    h.add_argument("--state", action="append", help="list: only this state (repeatable)")
    h.add_argument("--days", type=int, default=30, help="list: negative stories of the last N days")
    h.set_defaults(func=cmd_handle)
    admin_cli.register(sub)      # users …, alerts …
    intake_cli.register(sub)     # intake add-item | import | source …
    backup_cli.register(sub)     # backup create | list | restore
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        return run_command(args.func, args)
    except (CliError, ValueError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
