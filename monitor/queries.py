"""The read side: every SELECT the dashboard pages and the CLIs need.

Functions take a `Store` (a read-only one is enough) and plain parameters and
return plain dicts or pandas DataFrames, so they can be cached, tested and
reused by briefings without Streamlit.

Timestamps are stored as UTC ISO text; staff think in Beijing calendar days,
so every "today / last N days" window starts at a Beijing midnight and is
converted to UTC text before it reaches SQL (text comparison then uses the
published_at index).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd

from collectors.base import shown_url
from monitor.search import SearchSyntaxError, parse_query
from monitor.store import Store, item_row, iso
from sentiment.judgement import IP_TYPES, POLARITIES, REVIEW_P

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# Anhui's 16 prefecture-level cities, in the order the provincial yearbook lists them.
ANHUI_CITIES = ("合肥", "淮北", "亳州", "宿州", "蚌埠", "阜阳", "淮南", "滁州",
                "六安", "马鞍山", "芜湖", "宣城", "铜陵", "池州", "安庆", "黄山")

# Dates outside this range are typing slips (year 2O25, 0025, 9999), not data.
MIN_DATE = date(1970, 1, 1)
MAX_KEYWORD = 100
MAX_LIMIT = 5000

# Columns the item list returns; detail adds the long text and reasons.
LIST_COLUMNS = ("id", "published_at", "published_estimated", "title", "source", "platform",
                "polarity", "negative", "p_negative", "ip_type", "region", "url", "is_sample", "story_id", "topic")


class QueryError(ValueError):
    """A request the read side cannot answer (bad date, unknown period); the message is for staff."""


# -- time -------------------------------------------------------------------

def beijing_now(now: datetime | None = None) -> datetime:
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("naive datetime: pass an aware `now`")
    return now.astimezone(BEIJING)


def beijing_today(now: datetime | None = None) -> date:
    return beijing_now(now).date()


def day_start(day: date) -> datetime:
    """Beijing midnight of `day`, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def day_start_iso(day: date) -> str:
    """Beijing midnight of `day` as the UTC text the store compares against."""
    return iso(day_start(day))


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date typed by staff, or QueryError with a message saying what is wrong."""
    try:
        day = date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise QueryError(f"日期格式应为 YYYY-MM-DD，收到 {text!r}") from None
    if len(text.strip()) != 10:
        raise QueryError(f"日期格式应为 YYYY-MM-DD，收到 {text!r}")
    return day


def to_beijing_iso(stored: str | None) -> str | None:
    """Stored UTC text -> ISO 8601 in Beijing time (+08:00), the zone staff read.

    Empty cells come back as None: pandas fills them with NaN, which is truthy.
    """
    if not isinstance(stored, str) or not stored:
        return None
    return datetime.fromisoformat(stored).astimezone(BEIJING).isoformat(timespec="seconds")


def _frame(rows: Iterable[sqlite3.Row], columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


# -- overview -----------------------------------------------------------------

PERIODS = {"today": 1, "7d": 7, "30d": 30}


def _count(store: Store, start: str, end: str) -> tuple[int, int]:
    row = store.conn.execute(
        "SELECT count(*), coalesce(sum(negative = 1), 0) FROM items "
        "WHERE published_at >= ? AND published_at < ?", (start, end)).fetchone()
    return int(row[0]), int(row[1])


# The 疑似负面 band in SQL, the one place it is written. REVIEW_P is a literal, not a bound parameter,
# because SQLite uses the partial index ix_items_suspect (migration 0023) only when a query repeats its
# condition.
# An item staff have already ruled on (negative, topic or tone corrected) is no longer 疑似: they looked.
SUSPECT_SQL = (f"(negative = 0 AND p_negative >= {float(REVIEW_P)!r} AND NOT EXISTS (SELECT 1 FROM corrections c "
               "WHERE c.item_key = items.key AND c.field IN ('negative', 'topic', 'polarity')))")
# The item list's SELECT: the stored columns and whether the row is 疑似 by the rule above.
LIST_SELECT = ", ".join(LIST_COLUMNS) + f", {SUSPECT_SQL} AS suspect"


def _suspect(store: Store, start: str, end: str) -> int:
    """疑似负面 items published in [start, end), read from the partial index: only the band's rows, not
    every unflagged row of the period."""
    row = store.conn.execute(
        f"SELECT count(*) FROM items INDEXED BY ix_items_suspect WHERE {SUSPECT_SQL} "
        "AND published_at >= ? AND published_at < ?", (start, end)).fetchone()
    return int(row[0])


def _change(cur: int, prev: int) -> float | None:
    return None if prev == 0 else (cur - prev) / prev


def overview(store: Store, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Counts for today and the last 7 and 30 Beijing days, with the previous period.

    A period of N days starts at Beijing midnight N-1 days ago and runs to the end
    of today. Its previous period is the same span shifted back N days and cut at
    the same clock time (`now` - N days), so a morning is compared with the
    previous morning, not with a whole day.
    """
    now = beijing_now(now)
    today = now.date()
    tomorrow = iso(day_start(today + timedelta(days=1)))
    out: dict[str, dict[str, Any]] = {}
    for name, days in PERIODS.items():
        start_day = today - timedelta(days=days - 1)
        total, negative = _count(store, day_start_iso(start_day), tomorrow)
        p_start = day_start_iso(start_day - timedelta(days=days))
        p_total, p_negative = _count(store, p_start, iso(now - timedelta(days=days)))
        out[name] = {
            "days": days, "start": start_day.isoformat(), "end": today.isoformat(),
            "total": total, "negative": negative,
            "negative_share": (negative / total) if total else None,
            "suspect": _suspect(store, day_start_iso(start_day), tomorrow),
            "previous_total": p_total, "previous_negative": p_negative,
            "total_change": _change(total, p_total),
            "negative_change": _change(negative, p_negative),
        }
    return out


def _window(days: int, now: datetime | None) -> tuple[date, str, str]:
    if not isinstance(days, int) or days < 1:
        raise QueryError(f"统计天数应为正整数，收到 {days!r}")
    days = min(days, 3660)
    today = beijing_today(now)
    start = today - timedelta(days=days - 1)
    return start, day_start_iso(start), day_start_iso(today + timedelta(days=1))


def _window_days(days: int, now: datetime | None) -> tuple[date, date]:
    """The dashboard's "last N days" as a period: whole Beijing days up to today."""
    start, _, _ = _window(days, now)
    return start, beijing_today(now)


# The dashboard's windows are periods ending today: each delegates to its period_* twin
# below, so the dashboard and the briefing run the same SQL for the same days.

def daily_trend(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """One row per Beijing day and polarity (zeros filled): columns day, polarity, count."""
    return period_trend(store, *_window_days(days, now))


def top_sources(store: Store, days: int = 30, limit: int = 10, now: datetime | None = None) -> pd.DataFrame:
    """Sources by item count in the window: columns source, count, negative."""
    return period_sources(store, *_window_days(days, now), limit=max(1, min(int(limit), 100)))


def ip_type_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Items by primary IP type (every type listed, zeros kept): columns ip_type, count, negative."""
    return period_ip_types(store, *_window_days(days, now))


def city_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Anhui items by city, all 16 cities listed (zeros show where nothing was heard):
    columns city, count, negative; items naming only the province are left out."""
    return period_cities(store, *_window_days(days, now))


def province_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Items by province (where one is stated): columns province, count, negative."""
    return period_provinces(store, *_window_days(days, now))


def platform_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Items by platform (news, government, social, ...): columns platform, count, negative."""
    return period_platforms(store, *_window_days(days, now))


def channel_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Items by enforcement channel (行政执法, 司法, ...; every channel listed): columns channel, count, negative."""
    return period_channels(store, *_window_days(days, now))


def window_bounds(days: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last `days` Beijing days up to the end of today, as aware datetimes."""
    start, _, _ = _window(days, now)
    return day_start(start), day_start(beijing_today(now) + timedelta(days=1))


def latest_negative(store: Store, limit: int = 10) -> pd.DataFrame:
    """The newest items flagged negative, newest first (columns as in `item_list`)."""
    rows = store.conn.execute(
        f"SELECT {LIST_SELECT} FROM items WHERE negative = 1 "
        "ORDER BY published_at DESC, id DESC LIMIT ?", (max(1, min(int(limit), 200)),)).fetchall()
    return _list_frame(rows)


# -- the item list ----------------------------------------------------------------

@dataclass(frozen=True)
class ItemFilter:
    """What staff ask the item list for. Empty tuples mean "any"; dates are Beijing days, inclusive."""
    start: date | None = None
    end: date | None = None
    polarities: tuple[str, ...] = ()
    negative_only: bool = False
    # 疑似负面: not flagged, P(negative) >= REVIEW_P. With negative_only too, both kinds are listed.
    suspect_only: bool = False
    sources: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    ip_types: tuple[str, ...] = ()
    # A province ("安徽", "浙江") or a province+city region ("安徽合肥").
    regions: tuple[str, ...] = ()
    keyword: str = ""
    include_sample: bool = True
    limit: int = 500
    # Monitoring schemes the item matched (only where the store has an items.schemes column).
    schemes: tuple[str, ...] = ()
    # Handling states of the item's story: pending | assigned | responded | closed | dismissed.
    handling: tuple[str, ...] = ()
    important_only: bool = False


@dataclass
class ItemPage:
    """One answer of the item list: the rows shown, how many matched, and notes about clipped input."""
    rows: pd.DataFrame
    total: int
    filter: ItemFilter
    notes: list[str] = field(default_factory=list)
    # A query staff must rewrite (search syntax): shown instead of results.
    error: str | None = None
    # True when more than COUNT_CAP items matched and `total` is only a lower bound.
    total_capped: bool = False


def validate_filter(f: ItemFilter, now: datetime | None = None) -> tuple[ItemFilter, list[str]]:
    """Clip absurd input instead of failing; each change is explained in a note for the page."""
    notes: list[str] = []
    today = beijing_today(now)
    start, end = f.start, f.end
    if start and end and start > end:
        start, end = end, start
        notes.append("开始日期晚于结束日期，已自动对调。")
    if start and start < MIN_DATE:
        notes.append(f"开始日期 {start.isoformat()} 过早，已改为 {MIN_DATE.isoformat()}。")
        start = MIN_DATE
    if end and end > today:
        notes.append(f"结束日期 {end.isoformat()} 晚于今天，已改为 {today.isoformat()}。")
        end = today
    if start and start > today:
        notes.append(f"开始日期 {start.isoformat()} 晚于今天，已改为 {today.isoformat()}。")
        start = today
    keyword = " ".join((f.keyword or "").split())
    if len(keyword) > MAX_KEYWORD:
        notes.append(f"关键词过长（{len(keyword)} 字），只取前 {MAX_KEYWORD} 字。")
        keyword = keyword[:MAX_KEYWORD]
    limit = f.limit
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        clipped = MAX_LIMIT if isinstance(limit, int) and limit > MAX_LIMIT else 500
        notes.append(f"显示条数应在 1–{MAX_LIMIT} 之间，已改为 {clipped}。")
        limit = clipped
    bad = [p for p in f.polarities if p not in POLARITIES]
    if bad:
        notes.append(f"未知的倾向 {bad} 已忽略。")
    polarities = tuple(p for p in f.polarities if p in POLARITIES)
    return replace(f, start=start, end=end, keyword=keyword, limit=limit, polarities=polarities), notes


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _marks(values: tuple) -> str:
    return ", ".join("?" * len(values))


def has_column(store: Store, column: str, table: str = "items") -> bool:
    return any(r[1] == column for r in store.conn.execute(f"PRAGMA table_info({table})"))


def _where(f: ItemFilter, store: Store | None = None) -> tuple[str, list]:
    clauses, args = [], []
    if f.start:
        clauses.append("published_at >= ?")
        args.append(day_start_iso(f.start))
    if f.end:
        clauses.append("published_at < ?")
        args.append(day_start_iso(f.end + timedelta(days=1)))
    if f.polarities:
        clauses.append(f"polarity IN ({_marks(f.polarities)})")
        args += f.polarities
    if f.negative_only or f.suspect_only:
        kinds = ["negative = 1"] if f.negative_only else []
        if f.suspect_only:
            kinds.append(SUSPECT_SQL)
        clauses.append("(" + " OR ".join(kinds) + ")")
    if f.sources:
        clauses.append(f"source IN ({_marks(f.sources)})")
        args += f.sources
    if f.platforms:
        clauses.append(f"platform IN ({_marks(f.platforms)})")
        args += f.platforms
    if f.ip_types:
        # Any IP type the item mentions, not only its primary one.
        clauses.append(f"(ip_type IN ({_marks(f.ip_types)}) OR EXISTS (SELECT 1 FROM json_each(items.ip_types) "
                       f"WHERE json_each.value IN ({_marks(f.ip_types)})))")
        args += f.ip_types + f.ip_types
    if f.regions:
        clauses.append(f"(province IN ({_marks(f.regions)}) OR region IN ({_marks(f.regions)}))")
        args += f.regions + f.regions
    if f.keyword:
        if store is not None and not store.search_index_missing():
            clauses.append("id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
            args.append(parse_query(f.keyword).match)
        else:
            # No full-text index yet (an old database opened read-only): substring match,
            # each whitespace-separated word in the title or the text.
            for word in f.keyword.replace('"', " ").split():
                clauses.append("(title LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\')")
                args += [_like(word), _like(word)]
    if not f.include_sample:
        clauses.append("is_sample = 0")
    if f.schemes and store is not None and has_column(store, "schemes"):
        clauses.append(f"EXISTS (SELECT 1 FROM json_each(items.schemes) WHERE json_each.value IN ({_marks(f.schemes)}))")
        args += f.schemes
    if f.handling:
        clauses.append(f"{HANDLING_STATE_SQL} IN ({_marks(f.handling)})")
        args += f.handling
    if f.important_only:
        clauses.append("EXISTS (SELECT 1 FROM item_marks m WHERE m.item_id = items.id AND m.mark = 'important')")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


# The handling state of an item's story; a negative story nobody has touched is pending.
HANDLING_STATE_SQL = ("coalesce((SELECT h.state FROM handling h WHERE h.story_id = items.story_id), "
                      "CASE WHEN items.negative = 1 THEN 'pending' ELSE 'none' END)")


def _list_frame(rows: Iterable[sqlite3.Row]) -> pd.DataFrame:
    frame = _frame(rows, (*LIST_COLUMNS, "suspect"))
    for col in ("published_estimated", "negative", "is_sample", "suspect"):
        frame[col] = frame[col].astype("boolean")
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True).dt.tz_convert(BEIJING)
    return frame


# Counting stops here (the list says "超过"). Exact counts are what staff read a filter's effect by: on
# 400,000 items an uncapped count took 0.04–0.54 s (2026-11-27), so only a count beyond a million is cut.
COUNT_CAP = 1_000_000
# Above this many full-text matches, walking the time index newest-first and checking each item
# against the match set beats looking every match up by id and sorting (docs/benchmarks.md).
DENSE_MATCHES = 2_000


def _items_from(store: Store, f: ItemFilter) -> str:
    """The FROM clause for the item list: a plan hint when a search term is common."""
    if not f.keyword or store.search_index_missing():
        return "items"
    try:
        match = parse_query(f.keyword).match
    except SearchSyntaxError:
        return "items"
    n = store.conn.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", (match,)).fetchone()[0]
    # The covering overview index also answers the common filters (negative, source, platform, ...).
    return "items INDEXED BY ix_items_overview" if n > DENSE_MATCHES else "items"


def item_list(store: Store, f: ItemFilter, now: datetime | None = None) -> ItemPage:
    """Items matching the filter, newest first, at most `f.limit` rows; `total` counts matches up to COUNT_CAP.

    A search the full-text syntax cannot read comes back with `error` set and no rows.
    """
    f, notes = validate_filter(f, now)
    try:
        where, args = _where(f, store)
    except SearchSyntaxError as e:
        return ItemPage(rows=_list_frame([]), total=0, filter=f, notes=notes, error=str(e))
    if f.keyword and store.search_index_missing():
        notes.append("全文索引尚未建立，按字面匹配检索（运行 python -m monitor reindex 建立索引）。")
    elif f.keyword:
        notes += parse_query(f.keyword).notes           # parsed already in _where: it cannot fail here
    table = _items_from(store, f)
    total = store.conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table}{where} LIMIT ?)",
                               args + [COUNT_CAP + 1]).fetchone()[0]
    capped = total > COUNT_CAP
    rows = store.conn.execute(
        f"SELECT {LIST_SELECT} FROM {table}{where} ORDER BY published_at DESC, id DESC LIMIT ?",
        args + [f.limit]).fetchall()
    if capped:
        total = COUNT_CAP
        notes.append(f"超过 {COUNT_CAP} 条匹配，只显示最新的 {f.limit} 条；请缩小筛选范围。")
    elif total > f.limit:
        notes.append(f"共 {total} 条匹配，只显示最新的 {f.limit} 条；请缩小筛选范围。")
    return ItemPage(rows=_list_frame(rows), total=int(total), filter=f, notes=notes, total_capped=capped)


EXPORT_LIMIT = 50_000
VIEW_COLUMNS = ("id", "published_at", "published_estimated", "title", "text", "source", "platform", "author", "url",
                "polarity", "negative", "p_negative", "ip_type", "channel", "region", "reasons", "story_id", "is_sample")


def view_records(store: Store, f: ItemFilter, now: datetime | None = None,
                 limit: int = EXPORT_LIMIT) -> tuple[pd.DataFrame, list[str]]:
    """Every item of the current view (not only the rows shown), newest first, for export;
    times in Beijing ISO 8601, reasons as one string. Raises SearchSyntaxError on a bad search."""
    f, notes = validate_filter(replace(f, limit=1), now)
    where, args = _where(f, store)
    cols = list(VIEW_COLUMNS)
    schemes = has_column(store, "schemes")
    sql_cols = cols + (["schemes"] if schemes else [])
    rows = store.conn.execute(
        f"SELECT {', '.join(sql_cols)}, {HANDLING_STATE_SQL} FROM {_items_from(store, f)}{where} "
        "ORDER BY published_at DESC, id DESC LIMIT ?", args + [max(1, int(limit)) + 1]).fetchall()
    if len(rows) > limit:
        notes.append(f"导出最多 {limit} 条，已截断；请缩小筛选范围。")
        rows = rows[:limit]
    frame = _frame(rows, sql_cols + ["handling"])
    frame["published_at"] = frame["published_at"].map(to_beijing_iso)
    frame["reasons"] = frame["reasons"].map(lambda r: "；".join(json.loads(r or "[]")))
    if schemes:
        frame["schemes"] = frame["schemes"].map(lambda r: "、".join(json.loads(r or "[]")))
    frame["negative"] = frame["negative"].map({1: True, 0: False})
    frame["is_sample"] = frame["is_sample"].astype(bool)
    return frame, notes


def _distinct(store: Store, col: str, where: str = "", args: tuple = ()) -> list[str]:
    """Distinct non-empty values of an indexed column by a loose index scan: one index seek per
    value instead of reading a million rows (SQLite has no skip-scan for DISTINCT)."""
    cond = f"{where} AND " if where else ""
    sql = (f"WITH RECURSIVE v(x) AS (SELECT min({col}) FROM items WHERE {cond}{col} > '' "
           f"UNION ALL SELECT (SELECT min({col}) FROM items WHERE {cond}{col} > v.x) FROM v WHERE v.x IS NOT NULL) "
           "SELECT x FROM v WHERE x IS NOT NULL")
    return [r[0] for r in store.conn.execute(sql, args * 2)]


def filter_options(store: Store) -> dict[str, list[str]]:
    """The values the filter bar offers, from what is stored."""
    provinces = _distinct(store, "province")
    anhui = [r for r in _distinct(store, "region", "province = ?", ("安徽",)) if r != "安徽"]
    regions = (["安徽"] if "安徽" in provinces else []) + anhui + [p for p in provinces if p != "安徽"]
    stored_types = set(_distinct(store, "ip_type"))
    schemes: set[str] = set()
    if has_column(store, "schemes"):
        for combo in _distinct(store, "schemes"):
            try:
                schemes.update(json.loads(combo))
            except ValueError:
                continue
    return {
        "sources": _distinct(store, "source"),
        "platforms": _distinct(store, "platform"),
        "ip_types": [t for t in IP_TYPES if t in stored_types] + sorted(stored_types - set(IP_TYPES)),
        "regions": regions,
        "schemes": sorted(schemes),
    }


def item_detail(store: Store, item_id: int) -> dict | None:
    """One item with everything stored about it (reasons and IP types as lists), or None."""
    row = store.conn.execute("SELECT * FROM items WHERE id = ?", (int(item_id),)).fetchone()
    if row is None:
        return None
    d = item_row(row)
    d["suspect"] = bool(store.conn.execute(f"SELECT {SUSPECT_SQL} FROM items WHERE id = ?", (d["id"],)).fetchone()[0])
    d["published_at_local"] = to_beijing_iso(d["published_at"])
    d["fetched_at_local"] = to_beijing_iso(d["fetched_at"])
    if isinstance(d.get("schemes"), str):
        d["schemes"] = json.loads(d["schemes"] or "[]")
    story = d.get("story_id") or d["id"]
    members = store.conn.execute(
        "SELECT id, published_at, title, source, platform, url FROM items WHERE story_id = ? "
        "ORDER BY published_at, id LIMIT 200", (story,)).fetchall()
    d["story"] = [dict(r) | {"published_at": to_beijing_iso(r["published_at"])} for r in members]
    d["story_size"] = store.conn.execute("SELECT count(*) FROM items WHERE story_id = ?", (story,)).fetchone()[0]
    d["marks"] = [dict(r) | {"at": to_beijing_iso(r["at"])} for r in store.conn.execute(
        "SELECT mark, actor, at FROM item_marks WHERE item_id = ? ORDER BY at", (d["id"],))]
    d["corrections"] = [{"field": c["field"], "value": c["value"], "user": c["user"], "note": c["note"],
                         "at": to_beijing_iso(c["created_at"])} for c in store.corrections(d["id"])]
    h = store.conn.execute("SELECT state, unit, due_at FROM handling WHERE story_id = ?", (story,)).fetchone()
    d["handling"] = (dict(h) | {"due_at": to_beijing_iso(h["due_at"])}) if h else (
        {"state": "pending", "unit": "", "due_at": None} if d.get("negative") else None)
    return d


# -- counts, runs and sources -------------------------------------------------------

def item_counts(store: Store) -> dict[str, int]:
    """All stored items, how many of them are bundled sample items, and how many of those carry an
    estimated publication time (no date in the original: counted as published when loaded)."""
    row = store.conn.execute("SELECT count(*), coalesce(sum(is_sample = 1), 0), "
                             "coalesce(sum(is_sample = 1 AND published_estimated = 1), 0) FROM items").fetchone()
    return {"total": int(row[0]), "sample": int(row[1]), "sample_undated": int(row[2])}


def data_version(store: Store) -> tuple:
    """Changes whenever something staff watch changes: a new item, a run started or finished, an alert, a
    handling step, a correction. Cheap (the newest rowid of each table), so pages can poll it."""
    row = store.conn.execute(
        "SELECT (SELECT max(id) FROM items), (SELECT max(id) FROM alert_firings), "
        "(SELECT max(id) FROM handling_events), (SELECT max(id) FROM corrections)").fetchone()
    run = store.conn.execute("SELECT id, finished_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return tuple(row) + (tuple(run) if run else (None, None))


def last_collection(store: Store, stall_minutes: int = 180, now: datetime | None = None) -> dict[str, Any]:
    """When the collector last finished a run (any source), and whether that is too long ago."""
    now_utc = beijing_now(now).astimezone(timezone.utc)
    row = store.conn.execute(
        "SELECT max(finished_at), count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()
    last = row[0]
    ok = store.conn.execute("SELECT max(finished_at) FROM runs WHERE status IN ('ok', 'not_modified')"
                            ).fetchone()[0]
    age = None if last is None else (now_utc - datetime.fromisoformat(last)).total_seconds() / 60
    return {
        "finished_at": to_beijing_iso(last), "last_ok_at": to_beijing_iso(ok), "runs": int(row[1]),
        "age_minutes": age, "stalled": age is not None and age > stall_minutes,
    }


def _spec(source: Any, key: str, default: Any = None) -> Any:
    if isinstance(source, Mapping):
        return source.get(key, default)
    return getattr(source, key, default)


SOURCE_HEALTH_COLUMNS = ["name", "kind", "platform", "url", "enabled", "configured", "last_started_at",
                         "last_finished_at", "status", "fetched", "new", "duplicate", "error",
                         "last_ok_at", "runs", "failures_in_row", "stalled", "items_per_run", "waiting_until"]

# "Items per run" averages the most recent finished runs: recent enough to show a source drying up.
ITEMS_PER_RUN_WINDOW = 10


def source_health(store: Store, sources: Iterable[Any], stall_minutes: int = 180,
                  now: datetime | None = None) -> pd.DataFrame:
    """Each configured source (objects or dicts with name, url, kind, platform, enabled) with its last run.

    Sources that have runs but are no longer configured are listed too
    (configured=False), so an old failure does not silently disappear.
    `stalled` means: enabled, run before, and no successful run within the last
    `stall_minutes` (or two of the source's `interval_minutes`, if longer), counted
    from its first run when it never succeeded; a never-run source shows status
    "never" instead.
    """
    now_utc = beijing_now(now).astimezone(timezone.utc)
    last = {r["source"]: dict(r) for r in store.conn.execute(
        "SELECT r.* FROM runs r JOIN (SELECT source, max(id) AS id FROM runs GROUP BY source) m "
        "ON r.id = m.id")}
    stats = {r[0]: (r[1], r[2], r[3]) for r in store.conn.execute(
        "SELECT source, count(*), max(CASE WHEN status IN ('ok', 'not_modified') THEN finished_at END), "
        "min(started_at) FROM runs GROUP BY source")}
    specs = list(sources)
    names = [str(_spec(s, "name", "")) for s in specs]
    waiting = store.waiting_sources(now_utc)
    rows = []
    for spec, name in zip(specs, names):
        rows.append(_health_row(store, name, spec, True, last.get(name), stats.get(name), now_utc,
                                stall_minutes))
    for name in sorted(set(last) - set(names)):
        rows.append(_health_row(store, name, {}, False, last[name], stats.get(name), now_utc, stall_minutes))
    for row in rows:     # its server asked for a pause (Retry-After): not collected before this time
        row["waiting_until"] = to_beijing_iso(iso(waiting[row["name"]])) if row["name"] in waiting else None
    return pd.DataFrame(rows, columns=SOURCE_HEALTH_COLUMNS)


def _failures_in_row(store: Store, name: str) -> int:
    n = 0
    for (status,) in store.conn.execute(
            "SELECT status FROM runs WHERE source = ? AND status != 'running' ORDER BY id DESC LIMIT 50",
            (name,)):
        if status != "error":
            break
        n += 1
    return n


def _health_row(store: Store, name: str, spec: Any, configured: bool, run: dict | None,
                stat: tuple | None, now_utc: datetime, stall_minutes: int) -> dict:
    enabled = bool(_spec(spec, "enabled", True)) if configured else False
    runs, last_ok, first_started = stat or (0, None, None)
    # A source polled once a day is not stalled after three hours: allow two of its intervals. One that
    # has never succeeded counts from its first try: minutes after being added it is failing, not stalled.
    limit = max(stall_minutes, 2 * int(_spec(spec, "interval_minutes", 0) or 0))
    since = last_ok or first_started
    stalled = bool(enabled and run is not None and since is not None
                   and now_utc - datetime.fromisoformat(since) > timedelta(minutes=limit))
    return {
        "name": name, "kind": _spec(spec, "kind", ""), "platform": _spec(spec, "platform", ""),
        "url": shown_url(_spec(spec, "url", "")), "enabled": enabled, "configured": configured,
        "last_started_at": to_beijing_iso((run or {}).get("started_at")),
        "last_finished_at": to_beijing_iso((run or {}).get("finished_at")),
        "status": (run or {}).get("status", "never"),
        "fetched": (run or {}).get("fetched", 0), "new": (run or {}).get("new", 0),
        "duplicate": (run or {}).get("duplicate", 0), "error": (run or {}).get("error") or "",
        "last_ok_at": to_beijing_iso(last_ok), "runs": int(runs),
        "failures_in_row": _failures_in_row(store, name) if run else 0, "stalled": stalled,
        "items_per_run": _items_per_run(store, name) if run else 0.0,
    }


def _items_per_run(store: Store, name: str) -> float:
    """Mean items read per finished run over the last ITEMS_PER_RUN_WINDOW runs (failed runs count as 0)."""
    row = store.conn.execute(
        "SELECT avg(fetched) FROM (SELECT fetched FROM runs WHERE source = ? AND status != 'running' "
        "AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?)", (name, ITEMS_PER_RUN_WINDOW)).fetchone()
    return round(float(row[0] or 0.0), 1)


def failure_streaks(store: Store) -> dict[str, tuple[int, str]]:
    """Sources whose latest finished runs failed: name -> (failures in a row, when the last one finished, UTC ISO).

    The collector's per-source backoff reads this (monitor.pipeline.backed_off).
    """
    rows = store.conn.execute(
        "SELECT r.source, count(*), max(r.finished_at) FROM runs r "
        "LEFT JOIN (SELECT source, max(id) AS id FROM runs WHERE status IN ('ok', 'not_modified') "
        "GROUP BY source) g ON g.source = r.source "
        "WHERE r.status = 'error' AND r.finished_at IS NOT NULL AND r.id > coalesce(g.id, 0) "
        "GROUP BY r.source")
    return {source: (int(n), last) for source, n, last in rows}


# -- export ------------------------------------------------------------------------

EXPORT_FIELDS = ("id", "url", "title", "text", "source", "platform", "author", "published_at",
                 "published_estimated", "fetched_at", "sample", "negative", "p_negative", "polarity",
                 "topic", "ip_type", "ip_types", "channel", "province", "city", "region", "reasons")


def export_records(store: Store, since: date | None = None) -> Iterator[dict]:
    """Stored items, oldest first, as JSON-ready dicts with times in Beijing ISO 8601 (+08:00).

    `since` is a Beijing calendar day: items published from its midnight on.
    """
    for d in store.iter_items(since=day_start_iso(since) if since else None):
        d["sample"] = d.pop("is_sample", False)
        d["published_at"] = to_beijing_iso(d["published_at"])
        d["fetched_at"] = to_beijing_iso(d["fetched_at"])
        yield {k: d.get(k) for k in EXPORT_FIELDS}


def export_jsonl(store: Store, out, since: date | None = None) -> int:
    """Write `export_records` as JSON Lines to a text stream; returns how many were written."""
    n = 0
    for rec in export_records(store, since):
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n += 1
    return n


# -- periods (briefings) -------------------------------------------------------------
# A briefing covers whole Beijing days from `start` to `end` (inclusive). These
# answer with the same SQL as the dashboard's windows, so a period equal to a
# dashboard window gives the dashboard's numbers.

def period_bounds(start: date, end: date) -> tuple[str, str]:
    """[Beijing midnight of start, Beijing midnight after end) as the store's UTC text."""
    if end < start:
        raise QueryError(f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    return day_start_iso(start), day_start_iso(end + timedelta(days=1))


# An item's tone as counted: negative only when flagged, so 正面 + 中性 + 负面 add up to the total and
# 负面 equals the flagged count. A negative tone without the flag (an off-topic item: a food-poisoning
# report, a rainstorm warning) is not negative opinion about IP work and counts as neutral.
TONE_SQL = ("CASE WHEN negative = 1 THEN 'negative' WHEN polarity = 'negative' OR polarity IS NULL "
            "THEN 'neutral' ELSE polarity END")


def period_overview(store: Store, start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """Totals for the period and the same number of days before it (keys as in `overview` entries,
    plus polarity counts and sample items).

    The previous period is cut at `now` minus the period's length, as `overview`
    does, so a week still running is compared with the same part of last week.
    """
    now = beijing_now(now)
    days = (end - start).days + 1
    lo, hi = period_bounds(start, min(end, now.date()))
    total, negative = _count(store, lo, hi)
    p_lo = day_start_iso(start - timedelta(days=days))
    p_hi = min(day_start_iso(start), iso(now - timedelta(days=days)))
    p_total, p_negative = _count(store, p_lo, p_hi)
    pol = dict(store.conn.execute(
        f"SELECT {TONE_SQL}, count(*) FROM items "
        "WHERE published_at >= ? AND published_at < ? GROUP BY 1", (lo, hi)).fetchall())
    sample = store.conn.execute("SELECT count(*) FROM items WHERE is_sample = 1 AND published_at >= ? "
                                "AND published_at < ?", (lo, hi)).fetchone()[0]
    return {
        "days": days, "start": start.isoformat(), "end": end.isoformat(),
        "total": total, "negative": negative,
        "negative_share": (negative / total) if total else None,
        "previous_total": p_total, "previous_negative": p_negative,
        "total_change": _change(total, p_total),
        "negative_change": _change(negative, p_negative),
        "polarity": {p: int(pol.get(p, 0)) for p in POLARITIES} | {
            p: int(n) for p, n in pol.items() if p not in POLARITIES},
        "sample": int(sample),
    }


def period_trend(store: Store, start: date, end: date) -> pd.DataFrame:
    """As `daily_trend`, for the days start..end: columns day, polarity, count.

    Red means negative opinion, as in the tiles: tones are counted as `TONE_SQL` says.
    """
    lo, hi = period_bounds(start, end)
    rows = store.conn.execute(
        f"SELECT date(published_at, '+8 hours') AS day, {TONE_SQL}, count(*) "
        "FROM items WHERE published_at >= ? AND published_at < ? GROUP BY 1, 2", (lo, hi)).fetchall()
    counts = {(r[0], r[1]): r[2] for r in rows}
    out = []
    for i in range((end - start).days + 1):
        d = (start + timedelta(days=i)).isoformat()
        out.extend((d, p, counts.get((d, p), 0)) for p in POLARITIES)
    frame = pd.DataFrame(out, columns=["day", "polarity", "count"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def _grouped(store: Store, key_sql: str, start: date, end: date, where: str = "") -> dict[str, tuple[int, int]]:
    """{key: (items, negative items)} for the period, grouped by `key_sql` (a constant SQL
    expression of this module, never user input)."""
    lo, hi = period_bounds(start, end)
    rows = store.conn.execute(
        f"SELECT {key_sql}, count(*), coalesce(sum(negative = 1), 0) FROM items "
        f"WHERE {where}published_at >= ? AND published_at < ? GROUP BY 1", (lo, hi)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _ranked(got: dict[str, tuple[int, int]], column: str, limit: int | None = None) -> pd.DataFrame:
    """Most items first, ties by name."""
    rows = sorted(((k, n, neg) for k, (n, neg) in got.items()), key=lambda r: (-r[1], r[0]))
    return pd.DataFrame(rows[:limit], columns=[column, "count", "negative"])


def _listed(got: dict[str, tuple[int, int]], column: str, known: Iterable[str]) -> pd.DataFrame:
    """Every known key in its fixed order (zeros kept: they show what was not heard), then others."""
    known = list(known)
    order = known + sorted(set(got) - set(known))
    return pd.DataFrame([(k, *got.get(k, (0, 0))) for k in order], columns=[column, "count", "negative"])


def period_sources(store: Store, start: date, end: date, limit: int = 10) -> pd.DataFrame:
    """Sources by item count in the period: columns source, count, negative."""
    return _ranked(_grouped(store, "source", start, end), "source", max(1, min(int(limit), 10_000)))


def period_platforms(store: Store, start: date, end: date) -> pd.DataFrame:
    """Items by platform (news, government, social …): columns platform, count, negative."""
    return _ranked(_grouped(store, "platform", start, end), "platform")


def period_provinces(store: Store, start: date, end: date) -> pd.DataFrame:
    """Items by province (where one is stated): columns province, count, negative."""
    return _ranked(_grouped(store, "province", start, end, where="province != '' AND "), "province")


def period_ip_types(store: Store, start: date, end: date) -> pd.DataFrame:
    """Items by primary IP type, every type listed: columns ip_type, count, negative."""
    return _listed(_grouped(store, "coalesce(ip_type, '其他')", start, end), "ip_type", IP_TYPES)


def period_channels(store: Store, start: date, end: date) -> pd.DataFrame:
    """Items by enforcement channel, every channel listed: columns channel, count, negative."""
    from sentiment.judgement import CHANNELS
    return _listed(_grouped(store, "coalesce(channel, '其他')", start, end), "channel", CHANNELS)


def period_cities(store: Store, start: date, end: date) -> pd.DataFrame:
    """Anhui items by city, all 16 cities listed, most first: columns city, count, negative."""
    # "+": stay on the covering time index; ix_items_region would read every Anhui row.
    got = _grouped(store, "city", start, end, where="+province = '安徽' AND +city != '' AND ")
    frame = _listed(got, "city", ANHUI_CITIES)
    return frame.sort_values(["count", "city"], ascending=[False, True], kind="stable").reset_index(drop=True)


PERIOD_ITEM_COLUMNS = ("id", "story_id", "published_at", "title", "snippet", "source", "url", "negative", "topic")


def period_items(store: Store, start: date, end: date, snippet_chars: int = 0) -> pd.DataFrame:
    """Every item of the period, oldest first, lean enough for 50,000 rows: columns
    PERIOD_ITEM_COLUMNS, published_at in Beijing time, the first `snippet_chars` of the text
    ("" by default; a briefing fetches gists only for the stories it prints), story_id None on
    a database without stories (before migration 0005).
    """
    lo, hi = period_bounds(start, end)
    story = "coalesce(story_id, id)" if has_column(store, "story_id") else "NULL"
    rows = store.conn.execute(
        f"SELECT id, {story}, published_at, title, substr(text, 1, ?), source, url, negative, topic FROM items "
        "WHERE published_at >= ? AND published_at < ? ORDER BY published_at, id",
        (max(0, int(snippet_chars)), lo, hi)).fetchall()
    frame = _frame(rows, PERIOD_ITEM_COLUMNS)
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True).dt.tz_convert(BEIJING)
    frame["negative"] = frame["negative"].astype("boolean")
    return frame


def period_runs(store: Store, start: date, end: date) -> pd.DataFrame:
    """Collection runs started in the period, per source: columns source, runs, ok, errors,
    not_modified, running, fetched, new, last_status, last_error, last_ok_at (Beijing)."""
    lo, hi = period_bounds(start, end)
    rows = store.conn.execute(
        "SELECT source, count(*), coalesce(sum(status = 'ok'), 0), coalesce(sum(status = 'error'), 0), "
        "coalesce(sum(status = 'not_modified'), 0), coalesce(sum(status = 'running'), 0), "
        "coalesce(sum(fetched), 0), coalesce(sum(new), 0), "
        "(SELECT r2.status FROM runs r2 WHERE r2.source = runs.source AND r2.started_at >= ? "
        " AND r2.started_at < ? ORDER BY r2.id DESC LIMIT 1), "
        "(SELECT r3.error FROM runs r3 WHERE r3.source = runs.source AND r3.status = 'error' "
        " AND r3.started_at >= ? AND r3.started_at < ? ORDER BY r3.id DESC LIMIT 1), "
        "max(CASE WHEN status IN ('ok', 'not_modified') THEN finished_at END) "
        "FROM runs WHERE started_at >= ? AND started_at < ? GROUP BY source ORDER BY source",
        (lo, hi, lo, hi, lo, hi)).fetchall()
    rows = [tuple(r)[:9] + (r[9] or "", to_beijing_iso(r[10])) for r in rows]
    return _frame(rows, ["source", "runs", "ok", "errors", "not_modified", "running", "fetched", "new",
                         "last_status", "last_error", "last_ok_at"])


def period_cases(store: Store, start: date, end: date) -> list[dict]:
    """Cases approved or published in the period (by their workflow events), oldest event first.

    Each: the revision the event moved, with `moved_to` (approved/published) and `moved_at` (Beijing).
    """
    lo, hi = period_bounds(start, end)
    rows = store.conn.execute(
        "SELECT c.id, c.rev, c.state, c.title, c.headline, c.ip_type, c.channel, c.authority, c.region, "
        "c.year, c.gist, c.outcome, e.to_state, max(e.at) AS at FROM case_events e "
        "JOIN cases c ON c.id = e.case_id AND c.rev = e.rev "
        "WHERE e.to_state IN ('approved', 'published') AND e.at >= ? AND e.at < ? "
        "GROUP BY c.id ORDER BY at, c.id", (lo, hi)).fetchall()
    keys = ("id", "rev", "state", "title", "headline", "ip_type", "channel", "authority", "region", "year",
            "gist", "outcome", "moved_to", "moved_at")
    out = [dict(zip(keys, tuple(r))) for r in rows]
    for d in out:
        d["moved_at"] = to_beijing_iso(d["moved_at"])
    return out
