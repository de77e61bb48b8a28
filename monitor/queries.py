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

from monitor.store import Store, item_row, iso
from sentiment.judgement import IP_TYPES, POLARITIES

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
                "polarity", "negative", "p_negative", "ip_type", "region", "url", "is_sample")


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
    """Stored UTC text -> ISO 8601 in Beijing time (+08:00), the zone staff read."""
    if not stored:
        return stored
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


def daily_trend(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """One row per Beijing day and polarity (zeros filled): columns day, polarity, count."""
    start, lo, hi = _window(days, now)
    rows = store.conn.execute(
        "SELECT date(published_at, '+8 hours') AS day, coalesce(polarity, 'neutral'), count(*) "
        "FROM items WHERE published_at >= ? AND published_at < ? GROUP BY 1, 2", (lo, hi)).fetchall()
    counts = {(r[0], r[1]): r[2] for r in rows}
    out = []
    for i in range((beijing_today(now) - start).days + 1):
        d = (start + timedelta(days=i)).isoformat()
        out.extend((d, p, counts.get((d, p), 0)) for p in POLARITIES)
    frame = pd.DataFrame(out, columns=["day", "polarity", "count"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def top_sources(store: Store, days: int = 30, limit: int = 10, now: datetime | None = None) -> pd.DataFrame:
    """Sources by item count in the window: columns source, count, negative."""
    _, lo, hi = _window(days, now)
    rows = store.conn.execute(
        "SELECT source, count(*) AS n, coalesce(sum(negative = 1), 0) FROM items "
        "WHERE published_at >= ? AND published_at < ? GROUP BY source ORDER BY n DESC, source LIMIT ?",
        (lo, hi, max(1, min(int(limit), 100)))).fetchall()
    return _frame(rows, ["source", "count", "negative"])


def ip_type_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Items by primary IP type (every type listed, zeros kept): columns ip_type, count, negative."""
    _, lo, hi = _window(days, now)
    rows = store.conn.execute(
        "SELECT coalesce(ip_type, '其他'), count(*), coalesce(sum(negative = 1), 0) FROM items "
        "WHERE published_at >= ? AND published_at < ? GROUP BY 1", (lo, hi)).fetchall()
    got = {r[0]: (r[1], r[2]) for r in rows}
    order = list(IP_TYPES) + sorted(set(got) - set(IP_TYPES))
    return pd.DataFrame([(t, *got.get(t, (0, 0))) for t in order], columns=["ip_type", "count", "negative"])


def city_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Anhui items by city, all 16 cities listed (zeros show where nothing was heard):
    columns city, count, negative; items naming only the province are left out."""
    _, lo, hi = _window(days, now)
    rows = store.conn.execute(
        "SELECT city, count(*), coalesce(sum(negative = 1), 0) FROM items "
        "WHERE province = '安徽' AND city != '' AND published_at >= ? AND published_at < ? GROUP BY city",
        (lo, hi)).fetchall()
    got = {r[0]: (r[1], r[2]) for r in rows}
    order = list(ANHUI_CITIES) + sorted(set(got) - set(ANHUI_CITIES))
    frame = pd.DataFrame([(c, *got.get(c, (0, 0))) for c in order], columns=["city", "count", "negative"])
    return frame.sort_values(["count", "city"], ascending=[False, True], kind="stable").reset_index(drop=True)


def province_breakdown(store: Store, days: int = 30, now: datetime | None = None) -> pd.DataFrame:
    """Items by province (where one is stated): columns province, count, negative."""
    _, lo, hi = _window(days, now)
    rows = store.conn.execute(
        "SELECT province, count(*) AS n, coalesce(sum(negative = 1), 0) FROM items "
        "WHERE province != '' AND published_at >= ? AND published_at < ? "
        "GROUP BY province ORDER BY n DESC, province", (lo, hi)).fetchall()
    return _frame(rows, ["province", "count", "negative"])


def latest_negative(store: Store, limit: int = 10) -> pd.DataFrame:
    """The newest items flagged negative, newest first (columns as in `item_list`)."""
    rows = store.conn.execute(
        f"SELECT {', '.join(LIST_COLUMNS)} FROM items WHERE negative = 1 "
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
    sources: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    ip_types: tuple[str, ...] = ()
    # A province ("安徽", "浙江") or a province+city region ("安徽合肥").
    regions: tuple[str, ...] = ()
    keyword: str = ""
    include_sample: bool = True
    limit: int = 500


@dataclass
class ItemPage:
    """One answer of the item list: the rows shown, how many matched, and notes about clipped input."""
    rows: pd.DataFrame
    total: int
    filter: ItemFilter
    notes: list[str] = field(default_factory=list)


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


def _where(f: ItemFilter) -> tuple[str, list]:
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
    if f.negative_only:
        clauses.append("negative = 1")
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
        # Each whitespace-separated word must occur in the title or the text.
        for word in f.keyword.split():
            clauses.append("(title LIKE ? ESCAPE '\\' OR text LIKE ? ESCAPE '\\')")
            args += [_like(word), _like(word)]
    if not f.include_sample:
        clauses.append("is_sample = 0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _list_frame(rows: Iterable[sqlite3.Row]) -> pd.DataFrame:
    frame = _frame(rows, LIST_COLUMNS)
    for col in ("published_estimated", "negative", "is_sample"):
        frame[col] = frame[col].astype("boolean")
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True).dt.tz_convert(BEIJING)
    return frame


def item_list(store: Store, f: ItemFilter, now: datetime | None = None) -> ItemPage:
    """Items matching the filter, newest first, at most `f.limit` rows; `total` counts all matches."""
    f, notes = validate_filter(f, now)
    where, args = _where(f)
    total = store.conn.execute(f"SELECT count(*) FROM items{where}", args).fetchone()[0]
    rows = store.conn.execute(
        f"SELECT {', '.join(LIST_COLUMNS)} FROM items{where} ORDER BY published_at DESC, id DESC LIMIT ?",
        args + [f.limit]).fetchall()
    if total > f.limit:
        notes.append(f"共 {total} 条匹配，只显示最新的 {f.limit} 条；请缩小筛选范围。")
    return ItemPage(rows=_list_frame(rows), total=int(total), filter=f, notes=notes)


def filter_options(store: Store) -> dict[str, list[str]]:
    """The values the filter bar offers, from what is stored."""
    def distinct(col: str, where: str = "") -> list[str]:
        sql = f"SELECT DISTINCT {col} FROM items WHERE {col} != ''{where} ORDER BY {col}"
        return [r[0] for r in store.conn.execute(sql)]
    provinces = distinct("province")
    anhui = [r for r in distinct("region", " AND province = '安徽'") if r != "安徽"]
    regions = (["安徽"] if "安徽" in provinces else []) + anhui + [p for p in provinces if p != "安徽"]
    stored_types = set(distinct("ip_type"))
    return {
        "sources": distinct("source"),
        "platforms": distinct("platform"),
        "ip_types": [t for t in IP_TYPES if t in stored_types] + sorted(stored_types - set(IP_TYPES)),
        "regions": regions,
    }


def item_detail(store: Store, item_id: int) -> dict | None:
    """One item with everything stored about it (reasons and IP types as lists), or None."""
    row = store.conn.execute("SELECT * FROM items WHERE id = ?", (int(item_id),)).fetchone()
    if row is None:
        return None
    d = item_row(row)
    d["published_at_local"] = to_beijing_iso(d["published_at"])
    d["fetched_at_local"] = to_beijing_iso(d["fetched_at"])
    return d


# -- counts, runs and sources -------------------------------------------------------

def item_counts(store: Store) -> dict[str, int]:
    """All stored items and how many of them are bundled sample items."""
    row = store.conn.execute("SELECT count(*), coalesce(sum(is_sample = 1), 0) FROM items").fetchone()
    return {"total": int(row[0]), "sample": int(row[1])}


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
                         "last_ok_at", "runs", "failures_in_row", "stalled"]


def source_health(store: Store, sources: Iterable[Any], stall_minutes: int = 180,
                  now: datetime | None = None) -> pd.DataFrame:
    """Each configured source (objects or dicts with name, url, kind, platform, enabled) with its last run.

    Sources that have runs but are no longer configured are listed too
    (configured=False), so an old failure does not silently disappear.
    `stalled` means: enabled, run before, and no successful run within the last
    `stall_minutes` (or two of the source's `interval_minutes`, if longer); a
    never-run source shows status "never" instead.
    """
    now_utc = beijing_now(now).astimezone(timezone.utc)
    last = {r["source"]: dict(r) for r in store.conn.execute(
        "SELECT r.* FROM runs r JOIN (SELECT source, max(id) AS id FROM runs GROUP BY source) m "
        "ON r.id = m.id")}
    stats = {r[0]: (r[1], r[2]) for r in store.conn.execute(
        "SELECT source, count(*), max(CASE WHEN status IN ('ok', 'not_modified') THEN finished_at END) "
        "FROM runs GROUP BY source")}
    specs = list(sources)
    names = [str(_spec(s, "name", "")) for s in specs]
    rows = []
    for spec, name in zip(specs, names):
        rows.append(_health_row(store, name, spec, True, last.get(name), stats.get(name), now_utc,
                                stall_minutes))
    for name in sorted(set(last) - set(names)):
        rows.append(_health_row(store, name, {}, False, last[name], stats.get(name), now_utc, stall_minutes))
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
    runs, last_ok = stat or (0, None)
    # A source polled once a day is not stalled after three hours: allow two of its intervals.
    limit = max(stall_minutes, 2 * int(_spec(spec, "interval_minutes", 0) or 0))
    stalled = bool(enabled and run is not None and (
        last_ok is None or now_utc - datetime.fromisoformat(last_ok) > timedelta(minutes=limit)))
    return {
        "name": name, "kind": _spec(spec, "kind", ""), "platform": _spec(spec, "platform", ""),
        "url": _spec(spec, "url", ""), "enabled": enabled, "configured": configured,
        "last_started_at": to_beijing_iso((run or {}).get("started_at")),
        "last_finished_at": to_beijing_iso((run or {}).get("finished_at")),
        "status": (run or {}).get("status", "never"),
        "fetched": (run or {}).get("fetched", 0), "new": (run or {}).get("new", 0),
        "duplicate": (run or {}).get("duplicate", 0), "error": (run or {}).get("error") or "",
        "last_ok_at": to_beijing_iso(last_ok), "runs": int(runs),
        "failures_in_row": _failures_in_row(store, name) if run else 0, "stalled": stalled,
    }


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
