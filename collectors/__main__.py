"""python -m collectors ingest | run | sources

    ingest PATH_OR_URL [--source NAME] [--db PATH] [--json]
        Read one feed (or a CSV/XLSX/JSON(L) export file) now and keep everything in it. Exit 0 when it was read (even partly), 2 when nothing
        could be read (one-line reason on stderr, nothing stored). With --json the
        last stdout line is {"new": int, "duplicate": int, "errors": [str, ...]}, also when
        nothing could be read (then new and duplicate are 0 and errors says why).
    run [--once | --every MINUTES] [--sources FILE] [--db PATH] [--json]
        Collect every enabled source (once by default). With --json, one line per
        source: {"source", "status": "ok"|"error"|"not_modified", "new", "duplicate", "error"}.
        Exit 0 when the run completed (failed sources are recorded, not fatal),
        1 for a broken sources or schemes file or when another collector holds the lock,
        130 (Ctrl-C) or 143 (SIGTERM) when a run was interrupted (recorded as such);
        `--every` stopped by a signal between sources exits 0 (that is how a service stops).
        Monitoring schemes come from schemes.toml beside the sources file, when it
        exists: a source then keeps only items a scheme matches, unless it is
        always_relevant. Requests are retried on timeouts and 5xx with backoff and
        spaced per host (OPINION_HOST_INTERVAL_S, default 0.5 s plus jitter).
        With --every, a 立即采集 request from the dashboard is picked up within
        a few seconds and answered with one pass over every enabled source.
        After a pass, when the newest database backup is a day old, a new one is
        made (monitor/backup.py; $OPINION_BACKUP_DIR or backups/ beside the database).
    sources [--sources FILE]
        List and check the configured sources.

Progress and warnings go to stderr, so stdout carries only results.
This entry point wires collectors to the store and the judge; the library
modules under collectors/ never import them.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import threading
import sys

from collectors.base import shown_url
from collectors.http import POLITE, make_client
from collectors.reader import local_path
from collectors.registry import Source, SourceConfigError, load_sources
from collectors.schemes import SchemeError, load_schemes
from monitor.cli_parser import ChineseArgumentParser

log = logging.getLogger("collectors")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNREADABLE = 2
MIN_EVERY_MINUTES = 0.1     # `run --every`: a shorter pass would only spin
PROGRESS_MIN_ITEMS = 1000   # `ingest`: progress lines only for this many items or more
STATUS_ZH = {"ok": "成功", "error": "失败", "not_modified": "无更新"}


class LazyJudge:
    """Loads the real judge on first use, so an unreadable feed fails fast without loading models.
    Asks `load_judge` on every use: it swaps in a retrained or rolled-back model without a restart."""

    def _get(self):
        from sentiment import load_judge   # imported late: the model load is the slow part
        return load_judge()

    def judge(self, title: str, text: str):
        return self._get().judge(title, text)

    def judge_many(self, pairs):
        return self._get().judge_many(pairs)

    def judge_many_read(self, pairs):
        return self._get().judge_many_read(pairs)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    # The entry point may wire packages together: errors no command handles end as one line.
    from monitor.cli import run_command
    return run_command(args.func, args, exit_code=EXIT_FAILED)


def _parser() -> argparse.ArgumentParser:
    p = ChineseArgumentParser(prog="python -m collectors", description="采集信息源（RSS/Atom）并入库研判。")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    ing = sub.add_parser("ingest", help="立即读取一个订阅源（文件或网址）或导出文件（CSV/XLSX/JSON）并入库")
    ing.add_argument("target", metavar="PATH_OR_URL")
    ing.add_argument("--source", metavar="NAME", help="信息源名称（默认取订阅源自身标题）")
    ing.add_argument("--db", metavar="PATH", help="数据库文件（默认 $OPINION_DB 或 data/opinion.db）")
    ing.add_argument("--json", action="store_true", help="最后一行输出 JSON 结果")
    ing.set_defaults(func=cmd_ingest)

    run = sub.add_parser("run", help="采集全部已启用的信息源")
    when = run.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="采集一轮后退出（默认）")
    when.add_argument("--every", type=_positive_minutes, metavar="MINUTES", help="每隔若干分钟采集一轮，直到中断")
    run.add_argument("--sources", metavar="FILE", help="信息源配置（默认 data/sources.toml）")
    run.add_argument("--db", metavar="PATH", help="数据库文件（默认 $OPINION_DB 或 data/opinion.db）")
    run.add_argument("--json", action="store_true", help="每个信息源输出一行 JSON")
    run.set_defaults(func=cmd_run)

    src = sub.add_parser("sources", help="列出并检查信息源配置")
    src.add_argument("--sources", metavar="FILE", help="信息源配置（默认 data/sources.toml）")
    src.set_defaults(func=cmd_sources)
    return p


def _positive_minutes(value: str) -> float:
    try:
        minutes = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"间隔分钟数（MINUTES）应为数字，收到 {value!r}") from None
    # nan and inf pass a plain `<= 0` test; a pass every few milliseconds would spin.
    if not math.isfinite(minutes) or minutes < MIN_EVERY_MINUTES:
        raise argparse.ArgumentTypeError(f"间隔分钟数（MINUTES）应为不小于 {MIN_EVERY_MINUTES:g} 的数字")
    return minutes


def _settings(args):
    from monitor.settings import Settings
    return Settings.load(db=getattr(args, "db", None), sources=getattr(args, "sources", None))


def _say(message: str) -> None:
    print(" ".join(str(message).split()), file=sys.stderr, flush=True)


def cmd_ingest(args) -> int:
    from monitor.pipeline import ingest
    from monitor.store import Store, StoreError

    settings = _settings(args)
    platform = _configured_platform(settings, args.source)
    client = None if local_path(args.target) is not None else make_client(settings.user_agent)

    def progress(done: int, total: int) -> None:
        # Only a long ingest (several batches) is worth progress lines; a feed of 30 items is not.
        if total >= PROGRESS_MIN_ITEMS:
            _say(f"已研判入库 {done}/{total}")

    try:
        with Store(settings.db_path) as store:
            report = ingest(args.target, store, LazyJudge(), client=client, source_name=args.source,
                            platform=platform, progress=progress, schemes=_schemes_for_ingest(settings))
    except StoreError as e:
        _say(f"错误：数据库不可用：{e}")
        return EXIT_FAILED
    finally:
        if client is not None:
            client.close()
    if not report.readable:
        _say(f"错误：无法读取 {args.target}：{'; '.join(report.errors) or '未知原因'}")
        if args.json:
            print(json.dumps(report.as_json() | {"errors": list(report.errors) or ["无法读取"]}, ensure_ascii=False),
                  flush=True)
        return EXIT_UNREADABLE
    for error in report.errors:
        _say(f"警告：{error}")
    for warning in report.warnings:
        _say(f"提示：{warning}")
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False), flush=True)
    else:
        updated = f"，更新 {report.updated} 条" if report.updated else ""
        print(f"{report.source}：读取 {report.fetched} 条，新增 {report.new} 条，重复 {report.duplicate} 条{updated}")
    return EXIT_OK


def _schemes_for_ingest(settings):
    """Schemes only label an explicit ingest (it keeps every item), so a broken file just warns."""
    path = settings.sources_file.with_name("schemes.toml")
    if not path.exists():
        return None
    try:
        return load_schemes(path)
    except SchemeError as e:
        _say(f"警告：监测方案文件有误，本次导入不标注方案：{e}")
        return None


def _configured_platform(settings, name: str | None) -> str | None:
    """An ingest under a configured source's name takes that source's platform."""
    if not name:
        return None
    try:
        sources = load_sources(settings.sources_file, settings.rsshub_base)
    except SourceConfigError as e:
        log.info("sources file not used for the platform of %s: %s", name, e)
        return None
    return next((s.platform for s in sources if s.name == name), None)


def cmd_run(args) -> int:
    from monitor.pipeline import (REQUEST_POLL_S, CollectorBusy, collection_lock, lock_path_for, run_forever,
                                  run_once)
    from monitor.store import Store, StoreError

    settings = _settings(args)
    try:
        sources = load_sources(settings.sources_file, settings.rsshub_base)
    except SourceConfigError as e:
        _say(f"错误：信息源配置有误：{e}")
        return EXIT_FAILED
    if not any(s.enabled for s in sources) and not args.every:
        _say(f"没有已启用的信息源（{settings.sources_file}）")
        return EXIT_OK
    schemes_file = settings.sources_file.with_name("schemes.toml")

    def read_schemes():
        return load_schemes(schemes_file) if schemes_file.exists() else None

    try:
        schemes = read_schemes()
    except SchemeError as e:
        _say(f"错误：监测方案有误：{e}")
        return EXIT_FAILED

    def on_report(report, i: int, total: int) -> None:
        detail = f"新增 {report.new}，重复 {report.duplicate}" if report.status == "ok" else ""
        if report.dropped:
            detail += f"，未命中监测方案 {report.dropped}"
        error = f" {report.error}" if report.error else ""
        _say(f"[{i}/{total}] {report.source}：{STATUS_ZH[report.status]} {detail}{error} ({report.seconds:.1f} s)")
        if args.json:
            print(json.dumps(report.as_json(), ensure_ascii=False), flush=True)

    backup_failed_at: list[float] = []

    def alerts_after_pass(store, srcs) -> None:
        from monitor.alerts import evaluate_and_notify   # never raises: alerts cannot stop collection
        report = evaluate_and_notify(store, settings, sources=list(srcs))
        for error in report.errors:
            _say(f"预警：{error}")
        daily_backup()

    def daily_backup() -> None:
        """The day's backup after a pass when the newest is a day old; a failure is said, not fatal, and
        tried again an hour later (not after every pass)."""
        import time
        from datetime import datetime, timezone

        from monitor import backup
        if backup_failed_at and time.monotonic() - backup_failed_at[-1] < 3600:
            return
        try:
            made = backup.maybe_create(settings.db_path, settings.backups, datetime.now(timezone.utc),
                                       keep=settings.backup_keep)
        except Exception as e:      # whatever it is, collection goes on; the 数据备份 page shows the age
            backup_failed_at.append(time.monotonic())
            _say(f"备份失败：{e if isinstance(e, backup.BackupError) else backup.why(e)}")
            return
        backup_failed_at.clear()
        if made is not None:
            _say(f"已备份数据库：{made.path}")

    # systemd and `kill` send SIGTERM, people press Ctrl-C: both ask for a graceful stop at the
    # next safe point (a signal raised mid-write could leave a transaction open); a second one
    # stops at once.
    stop = threading.Event()
    stopped_by: list[int] = []
    if args.every:
        handler = _graceful_stop(stop)
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
    else:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt(stopped_by))
    judge = LazyJudge()
    try:
        with Store(settings.db_path) as store, make_client(settings.user_agent, **_politeness()) as client:
            if args.every:
                _say(f"每 {args.every:g} 分钟采集一轮；按 Ctrl-C 停止")
                run_forever(args.every, lambda: load_sources(settings.sources_file, settings.rsshub_base),
                            store, judge, client, load_schemes=read_schemes,
                            lock_path=lock_path_for(settings.db_path), on_report=on_report,
                            after_pass=lambda srcs: alerts_after_pass(store, srcs), stop=stop,
                            poll_s=REQUEST_POLL_S)
                _say("采集已停止")
            else:
                with collection_lock(lock_path_for(settings.db_path)):
                    reports = run_once(sources, store, judge, client, schemes=schemes, on_report=on_report)
                    alerts_after_pass(store, sources)
                failed = sum(r.status == "error" for r in reports)
                _say(f"本轮完成：{len(reports)} 个信息源，{failed} 个失败")
    except CollectorBusy as e:
        _say(f"错误：{e}")
        return EXIT_FAILED
    except StoreError as e:
        _say(f"错误：数据库不可用：{e}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _say("采集已中断")
        # The shell's convention, 128 + signal: a script or systemd sees the run did not complete.
        return 128 + (stopped_by[-1] if stopped_by else signal.SIGINT)
    return EXIT_OK


ENV_HOST_INTERVAL = "OPINION_HOST_INTERVAL_S"


def _politeness() -> dict:
    """The collector's retry and pacing policy; OPINION_HOST_INTERVAL_S overrides the per-host gap
    (0 for a loopback benchmark, more for a fragile site)."""
    policy = dict(POLITE)
    value = os.environ.get(ENV_HOST_INTERVAL, "").strip()
    if value:
        try:
            policy["host_interval_s"] = max(0.0, float(value))
        except ValueError:
            _say(f"警告：{ENV_HOST_INTERVAL}={value!r} 不是秒数，使用默认 {POLITE['host_interval_s']} 秒")
    return policy


def _raise_keyboard_interrupt(stopped_by: list[int]):
    def handler(signum, frame):
        stopped_by.append(signum)
        raise KeyboardInterrupt
    return handler


def _graceful_stop(stop: threading.Event):
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        _say("收到停止信号：完成当前信息源后停止（再按一次立即停止）")
    return handler


def cmd_sources(args) -> int:
    settings = _settings(args)
    try:
        sources = load_sources(settings.sources_file, settings.rsshub_base)
    except SourceConfigError as e:
        _say(f"错误：信息源配置有误：{e}")
        return EXIT_FAILED
    print(f"{settings.sources_file}：{len(sources)} 个信息源，{sum(s.enabled for s in sources)} 个已启用")
    for s in sources:
        print(_source_line(s))
    return EXIT_OK


def _source_line(s: Source) -> str:
    state = "启用" if s.enabled else "停用"
    shown = shown_url(s.url) if s.url == s.configured_url else f"{shown_url(s.configured_url)} -> {shown_url(s.url)}"
    return f"[{state}] {s.name}  ({s.kind}, {s.platform}, 每 {s.interval_minutes} 分钟)  {shown}"


if __name__ == "__main__":
    sys.exit(main())
