"""Collect -> judge -> store, for one feed (`ingest`) or every configured source (`run_once`).

With monitoring schemes given, a configured source keeps only items that an
enabled scheme matches, unless the source is `always_relevant`; `ingest`
keeps everything (the user chose that file). A failing source is a row in
`runs` with its reason, never an exception that stops the others. Feed state (ETag/Last-Modified) is saved only after a
source's items are stored, so a crash in between re-fetches instead of
skipping items. `run_forever` is the long-running collector process: one
writer per database, guarded by a lock file beside it.

Per-source backoff: after BACKOFF_AFTER failed runs in a row, `run_forever`
skips the source until its backoff (its interval doubled per further failure,
at most MAX_BACKOFF) has passed since the last failure. A skipped source
writes no run (that would only lengthen its own streak); it is logged, and the
信息源 page already shows the streak. `run --once` and 立即采集 ignore backoff:
someone asked for every source now.

A server that answers 429/503 with a Retry-After longer than the fetch waits out
(collectors.http.MAX_RETRY_WAIT_S) gets a "not before" time (at most MAX_BACKOFF
ahead, in feed_state); `run_forever` skips that source until then, 立即采集
included, and the 信息源 page shows it (暂缓至). `run --once` does not wait: an
operator running it by hand asked for every source.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

from collectors.base import FetchResult, Item
from collectors.http import describe
from collectors.reader import read_feed
from collectors.registry import Source
from collectors.schemes import Scheme, matching_schemes, select_items
from monitor import request_store
from monitor.store import AddCounts, Store
from sentiment.judgement import Judgement

try:
    import fcntl
except ImportError:  # Windows: no flock; a single collector per machine is then the operator's job.
    fcntl = None

log = logging.getLogger(__name__)

# Judged and stored in chunks so a 10,000-item feed is not one huge transaction or list.
BATCH = 500
# At most this much random delay is added to each sleep of the collector loop, so
# that several offices' collectors (or a restarted one) do not hit sources in step.
MAX_JITTER_S = 60.0
JITTER_SHARE = 0.1
BACKOFF_AFTER = 3
# How often the waiting collector looks for a 立即采集 request from the dashboard.
REQUEST_POLL_S = 5.0
MAX_BACKOFF = timedelta(hours=24)


class Judge(Protocol):
    def judge(self, title: str, text: str) -> Judgement: ...

    def judge_many(self, pairs: list[tuple[str, str]]) -> list[Judgement]: ...


class CollectorBusy(RuntimeError):
    """Another collector process holds the lock for this database."""


@dataclass
class IngestReport:
    new: int = 0
    duplicate: int = 0
    errors: list[str] = field(default_factory=list)
    readable: bool = True
    updated: int = 0
    fetched: int = 0
    source: str = ""
    warnings: list[str] = field(default_factory=list)    # kept anyway (a date estimated)

    def as_json(self) -> dict:
        """The `collectors ingest --json` contract: exactly these keys. `errors` lists every problem, as it
        always has (warnings included), so scripts reading it see what they saw before."""
        return {"new": self.new, "duplicate": self.duplicate, "errors": [*self.errors, *self.warnings]}


@dataclass
class SourceReport:
    source: str
    status: str                      # "ok" | "error" | "not_modified"
    new: int = 0
    duplicate: int = 0
    error: str | None = None
    updated: int = 0
    fetched: int = 0
    dropped: int = 0                 # read but matched no monitoring scheme
    seconds: float = 0.0

    def as_json(self) -> dict:
        """The `collectors run --once --json` contract: exactly these keys."""
        return {"source": self.source, "status": self.status, "new": self.new,
                "duplicate": self.duplicate, "error": self.error}


def store_items(store: Store, judge: Judge, items: Sequence[Item],
                progress: Callable[[int, int], None] | None = None) -> AddCounts:
    """Judge and store items in batches; one transaction per batch.

    Items the store already holds with the same content (a feed re-read) are
    counted as duplicates without being judged again. A judge with
    `judge_many_read` (the real one) also hands the search index the words it cut.
    """
    total = AddCounts()
    read = getattr(judge, "judge_many_read", None)
    for start in range(0, len(items), BATCH):
        chunk = items[start:start + BATCH]
        todo = [it for it, known in zip(chunk, store.stored_duplicates(chunk)) if not known]
        pairs = [(it.title, it.text) for it in todo]
        readings = None
        if not todo:                 # nothing new: the judge (and its model load) is not needed
            judgements = []
        elif read is not None:
            judged = read(pairs)
            judgements, readings = [j for j, _ in judged], [r for _, r in judged]
        else:
            judgements = judge.judge_many(pairs)
        if len(judgements) != len(todo):
            raise RuntimeError(f"judge returned {len(judgements)} judgements for {len(todo)} items")
        total += store.add_items(zip(todo, judgements), readings=readings)
        total.duplicate += len(chunk) - len(todo)
        if progress:
            progress(min(start + BATCH, len(items)), len(items))
    return total


def ingest(target: str | Path, store: Store, judge: Judge, client=None, source_name: str | None = None,
           platform: str | None = None, *, progress: Callable[[int, int], None] | None = None,
           schemes: Sequence[Scheme] | None = None) -> IngestReport:
    """Read one feed now and store what it holds. Unreadable input stores nothing (not even a run).

    The user chose this input, so every item is kept; matching schemes are still recorded.
    """
    result = read_feed(target, client=client, source=source_name, platform=platform or "news")
    if not result.readable:
        return IngestReport(errors=list(result.errors), readable=False)
    name = source_name or result.title
    items = result.items
    if schemes:
        items = [replace(it, schemes=tuple(matching_schemes(schemes, it.title, it.text))) for it in items]
    run_id = store.start_run(name)
    try:
        counts = store_items(store, judge, items, progress)
    except BaseException as e:
        store.finish_run(run_id, status="error", fetched=len(result.items), error=_describe(e))
        raise
    store.finish_run(run_id, status="ok", fetched=len(result.items), new=counts.new, duplicate=counts.duplicate,
                     error="; ".join(result.errors) or None)
    return IngestReport(new=counts.new, duplicate=counts.duplicate, errors=list(result.errors),
                        updated=counts.updated, fetched=len(result.items), source=name,
                        warnings=list(result.warnings))


def collect_source(source: Source, store: Store, judge: Judge, client, *, now: datetime | None = None,
                   schemes: Sequence[Scheme] | None = None) -> SourceReport:
    """One source, start to finish, recorded in `runs`. Never raises for the source's own failures.

    `schemes=None` keeps every item; otherwise see the module docstring.
    """
    started = time.monotonic()
    run_id = store.start_run(source.name)
    report = SourceReport(source=source.name, status="error")
    try:
        etag, last_modified = store.feed_state(source.name, source.url)
        # List-page sources ask for just the links on the page, so stored articles are not fetched again.
        result: FetchResult = source.collect(client, etag=etag, last_modified=last_modified, fetched_at=now,
                                             known=store.stored_keys)
        if result.retry_after_s:
            wait = min(timedelta(seconds=result.retry_after_s), MAX_BACKOFF)
            store.set_not_before(source.name, (now or datetime.now(timezone.utc)) + wait)
        if result.not_modified:
            report.status = "not_modified"
        elif not result.readable:
            report.error = "; ".join(result.errors) or "没有读到任何内容"
        else:
            items = result.items
            if schemes is not None:
                kept, report.dropped = select_items(items, source.always_relevant, schemes)
                items = [replace(item, schemes=tuple(names)) for item, names in kept]
            counts = store_items(store, judge, items)
            store.save_feed_state(source.name, result.etag, result.last_modified, source.url)
            report.status = "ok"
            report.new, report.duplicate, report.updated = counts.new, counts.duplicate, counts.updated
            report.fetched = len(result.items)
            report.error = "; ".join(result.errors) or None
    except KeyboardInterrupt:
        store.finish_run(run_id, status="error", error="采集被中断（采集进程停止）")
        raise
    except Exception as e:   # a judge or store failure for this source must not stop the others
        log.exception("source %s failed", source.name)
        report.status, report.error = "error", _describe(e)
    report.seconds = time.monotonic() - started
    store.finish_run(run_id, status=report.status, fetched=report.fetched, new=report.new,
                     duplicate=report.duplicate, error=report.error)
    return report


def run_once(sources: Sequence[Source], store: Store, judge: Judge, client, *,
             now: datetime | None = None, schemes: Sequence[Scheme] | None = None,
             on_report: Callable[[SourceReport, int, int], None] | None = None,
             stop: threading.Event | None = None) -> list[SourceReport]:
    """Every enabled source once, in order. `on_report(report, index, total)` is called after each.

    A set `stop` event ends the round between two sources (a graceful shutdown
    never abandons a source half-stored).
    """
    enabled = [s for s in sources if s.enabled]
    reports = []
    for i, source in enumerate(enabled, start=1):
        if stop is not None and stop.is_set():
            break
        report = collect_source(source, store, judge, client, now=now, schemes=schemes)
        reports.append(report)
        if on_report:
            on_report(report, i, len(enabled))
    return reports


def lock_path_for(db_path: str | Path) -> Path:
    # Resolved: the same database reached through a symlink or a relative path must meet the same lock.
    db_path = Path(db_path).resolve()
    return db_path.with_name(db_path.name + ".collect.lock")


@contextmanager
def collection_lock(path: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on `path` or raise CollectorBusy at once (never waits)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CollectorBusy(f"另一个采集进程正在使用这个数据库（锁文件 {path}）；"
                                    "请等它结束，或先停止它") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)    # closing the descriptor releases the flock


def due_sources(sources: Sequence[Source], last_started: dict[str, datetime], now: datetime) -> list[Source]:
    """Enabled sources whose own interval has passed since this process last collected them."""
    return [s for s in sources if s.enabled and
            (s.name not in last_started or now - last_started[s.name] >= timedelta(minutes=s.interval_minutes))]


def backoff_until(source: Source, failures: int, last_failure: datetime) -> datetime | None:
    """When a source that failed `failures` times in a row may be tried again; None when it is not backed off."""
    if failures < BACKOFF_AFTER:
        return None
    doublings = min(failures - BACKOFF_AFTER + 1, 16)
    wait = min(MAX_BACKOFF, timedelta(minutes=max(1, source.interval_minutes)) * 2 ** doublings)
    return last_failure + wait


def backed_off(sources: Sequence[Source], streaks: dict[str, tuple[int, str]],
               now: datetime) -> tuple[list[Source], list[tuple[Source, datetime]]]:
    """Split sources into (to collect, [(skipped, until)]) given `queries.failure_streaks`."""
    keep, skipped = [], []
    for s in sources:
        failures, last = streaks.get(s.name, (0, None))
        until = backoff_until(s, failures, datetime.fromisoformat(last)) if last else None
        if until is not None and now < until:
            skipped.append((s, until))
        else:
            keep.append(s)
    return keep, skipped


def run_forever(every_minutes: float, load_sources: Callable[[], Sequence[Source]], store: Store, judge: Judge,
                client, *, load_schemes: Callable[[], Sequence[Scheme] | None] | None = None,
                lock_path: str | Path | None = None, rounds: int | None = None,
                sleep: Callable[[float], None] = time.sleep, jitter: Callable[[float], float] | None = None,
                on_report: Callable[[SourceReport, int, int], None] | None = None,
                after_pass: Callable[[Sequence[Source]], None] | None = None,
                stop: threading.Event | None = None, poll_s: float | None = None) -> int:
    """Collect every `every_minutes` until interrupted (or for `rounds` rounds). Returns rounds completed.

    `after_pass(sources)` runs after each round (alert evaluation lives there, in
    the collector process, never in a dashboard page). A set `stop` event (the
    CLI sets it on SIGTERM/SIGINT) ends the loop at the next safe point: between
    sources or during the wait; signals never interrupt a database write.

    Sources and schemes are re-read each round, so edits apply without a restart
    (a broken edit keeps the previous version and is logged). A source is
    collected when its own `interval_minutes` has passed. KeyboardInterrupt ends
    the loop cleanly: the lock is released and an interrupted run is recorded.

    立即采集: a pending request (monitor.request_store) makes a round collect every
    enabled source, recording progress. With `poll_s` (the CLI uses
    REQUEST_POLL_S) the wait is cut into slices of that length and a request
    ends it early; without, the wait is one `sleep` call and requests are seen
    when the next round starts.
    """
    if every_minutes <= 0:
        raise ValueError("every_minutes must be positive")
    from monitor.queries import failure_streaks   # pandas is loaded only by the long-running process
    jitter = jitter or (lambda cap: random.uniform(0, cap))
    if stop is not None and sleep is time.sleep:
        sleep = stop.wait
    lock_path = lock_path or lock_path_for(store.path)
    last_started: dict[str, datetime] = {}
    sources: Sequence[Source] = ()
    schemes: Sequence[Scheme] | None = None
    done = 0
    with collection_lock(lock_path):
        request_store.abandon_running(store)      # only the lock holder may judge a request abandoned
        try:
            while (rounds is None or done < rounds) and not (stop is not None and stop.is_set()):
                try:
                    sources = load_sources()
                except ValueError as e:
                    log.error("sources file not reloaded, keeping the previous %d source(s): %s", len(sources), e)
                if load_schemes is not None:
                    try:
                        schemes = load_schemes()
                    except ValueError as e:
                        log.error("schemes file not reloaded, keeping the previous schemes: %s", e)
                now = datetime.now(timezone.utc)
                request = request_store.pending(store)
                if request is not None:
                    due = [s for s in sources if s.enabled]      # asked for now: every source, no backoff
                else:
                    due, skipped = backed_off(due_sources(sources, last_started, now), failure_streaks(store),
                                              now)
                    for s, until in skipped:
                        log.warning("source %s skipped after repeated failures until %s UTC (退避中)",
                                    s.name, until.isoformat(timespec="minutes"))
                # A server that asked for a pause (Retry-After) is not asked again before then, even for
                # 立即采集: the 信息源 page shows the time.
                waiting = store.waiting_sources(now)
                for s in [s for s in due if s.name in waiting]:
                    log.warning("source %s skipped: its server asked for a pause until %s UTC (暂缓)",
                                s.name, waiting[s.name].isoformat(timespec="minutes"))
                due = [s for s in due if s.name not in waiting]
                for s in due:
                    last_started[s.name] = now
                _run_round(due, store, judge, client, schemes, on_report, stop, request)
                if after_pass is not None:
                    after_pass(sources)
                done += 1
                if (rounds is not None and done >= rounds) or (stop is not None and stop.is_set()):
                    break
                wait = every_minutes * 60
                pause = wait + jitter(min(MAX_JITTER_S, wait * JITTER_SHARE))
                if poll_s:
                    _wait_or_request(store, pause, sleep, stop, poll_s)
                else:
                    sleep(pause)
        except KeyboardInterrupt:
            log.info("collector stopped after %d round(s)", done)
    return done


def _run_round(due: Sequence[Source], store: Store, judge: Judge, client, schemes, on_report, stop,
               request: int | None) -> None:
    """One round; when it answers a 立即采集 request, progress is recorded after every source."""
    if request is None:
        run_once(due, store, judge, client, schemes=schemes, on_report=on_report, stop=stop)
        return
    request_store.mark_started(store, request, len(due))
    tally = {"new": 0, "failed": 0}

    def report_progress(report: SourceReport, i: int, total: int) -> None:
        tally["new"] += report.new
        tally["failed"] += report.status == "error"
        request_store.mark_progress(store, request, done=i, new=tally["new"], failed=tally["failed"])
        if on_report:
            on_report(report, i, total)

    try:
        reports = run_once(due, store, judge, client, schemes=schemes, on_report=report_progress, stop=stop)
    except BaseException as e:
        request_store.mark_finished(store, request, ok=False, message=_describe(e))
        raise
    if len(reports) < len(due):
        request_store.mark_finished(store, request, ok=False, message="采集进程停止，本次未完成")
    else:
        request_store.mark_finished(store, request, ok=True)


def _wait_or_request(store: Store, seconds: float, sleep: Callable[[float], None],
                     stop: threading.Event | None, poll_s: float) -> None:
    """Wait `seconds` in slices of `poll_s`, ending early for a 立即采集 request or a stop."""
    left = seconds
    while left > 0 and not (stop is not None and stop.is_set()):
        step = min(poll_s, left)
        sleep(step)
        left -= step
        if request_store.pending(store) is not None:
            return


def _describe(e: BaseException) -> str:
    return describe(e)
