"""The period a briefing covers: an ISO week, a day, or any range of Beijing calendar days.

Parsing and validation only; every message is for staff and fits on one line.
A period that has not started, a range that ends after today, a reversed
range and a week the calendar does not have are refused. The current week or
day is allowed while it runs (a Friday-afternoon weekly briefing): its figures
then stop at the time of compiling, and the briefing says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.queries import MIN_DATE, QueryError, parse_day

KINDS = ("weekly", "range", "daily")
KIND_LABELS = {"weekly": "周报", "range": "专报", "daily": "日报"}  # as the titles (build.TITLES) say
# A longer span is a typing slip (2016 for 2026), and a daily trend over it is unreadable.
MAX_DAYS = 366

_WEEK = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


class PeriodError(ValueError):
    """A period staff asked for that cannot be briefed; the message says why."""


@dataclass(frozen=True)
class Period:
    kind: str          # one of KINDS
    start: date        # first Beijing calendar day, inclusive
    end: date          # last Beijing calendar day, inclusive
    label: str         # "2026-W47", "2026-11-20", "2026-11-01~2026-11-20"
    as_of: date        # the Beijing day the period was asked for ("today")

    @property
    def days(self) -> int:
        """Calendar length; the previous period is this many days earlier."""
        return (self.end - self.start).days + 1

    @property
    def last_day(self) -> date:
        """The last day with data: the end, or today while the period runs."""
        return min(self.end, self.as_of)

    @property
    def in_progress(self) -> bool:
        """The period had not ended when it was asked for: figures stop at that moment."""
        return self.end >= self.as_of

    @property
    def year(self) -> int:
        """The year whose series numbers this briefing: the ISO year of a week, else the last day's."""
        if self.kind == "weekly":
            return self.start.isocalendar()[0]
        return self.end.year

    @property
    def previous(self) -> tuple[date, date]:
        """The same number of days just before the start."""
        return self.start - timedelta(days=self.days), self.start - timedelta(days=1)

    def describe(self) -> str:
        """How the header names the period: "2026年11月16日至11月22日"."""
        if self.kind == "daily":
            text = cn_date(self.start)
        else:
            text = f"{cn_date(self.start)}至{cn_date(self.end, omit_year=self.end.year == self.start.year)}"
        if self.in_progress:
            text += "（本期尚未结束，数据截至编制时）"
        return text


def cn_date(d: date, omit_year: bool = False) -> str:
    return (f"{d.month}月{d.day}日" if omit_year else f"{d.year}年{d.month}月{d.day}日")


def _day(text: str, what: str) -> date:
    try:
        d = parse_day(str(text))
    except QueryError:
        raise PeriodError(f"{what}应为 YYYY-MM-DD 格式的日期，收到 {text!r}") from None
    if d < MIN_DATE:
        raise PeriodError(f"{what} {d.isoformat()} 早于 {MIN_DATE.isoformat()}，请检查年份")
    return d


def _not_future(start: date, today: date) -> None:
    if start > today:
        raise PeriodError(f"时间段从 {start.isoformat()} 开始，晚于今天 {today.isoformat()}：不能为未来编制简报")


def week(text: str, today: date) -> Period:
    """"2026-W47" (also "2026W47", "2026-w47") → that ISO week, Monday to Sunday."""
    m = _WEEK.match(str(text or ""))
    if not m:
        raise PeriodError(f"周次应写作 YYYY-Www（如 2026-W47），收到 {text!r}")
    year, num = int(m.group(1)), int(m.group(2))
    try:
        start = date.fromisocalendar(year, num, 1)
    except ValueError:
        last = 53 if _has_week_53(year) else 52
        raise PeriodError(f"{year} 年没有第 {num} 周（该年共 {last} 周）") from None
    if start < MIN_DATE:
        raise PeriodError(f"周次 {text!r} 早于 {MIN_DATE.isoformat()}，请检查年份")
    _not_future(start, today)
    return Period("weekly", start, start + timedelta(days=6), f"{year}-W{num:02d}", today)


def _has_week_53(year: int) -> bool:
    try:
        date.fromisocalendar(year, 53, 1)
    except ValueError:
        return False
    return True


def day(text: str, today: date) -> Period:
    """One Beijing calendar day (the daily briefing)."""
    d = _day(text, "日期")
    _not_future(d, today)
    return Period("daily", d, d, d.isoformat(), today)


def date_range(start_text: str, end_text: str, today: date) -> Period:
    """Any span of whole days, both ends inclusive; it must have ended by today."""
    start, end = _day(start_text, "开始日期"), _day(end_text, "结束日期")
    if start > end:
        raise PeriodError(f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    _not_future(start, today)
    if end > today:
        raise PeriodError(f"结束日期 {end.isoformat()} 晚于今天 {today.isoformat()}：时间段不能包含未来")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(f"时间段 {(end - start).days + 1} 天，超过 {MAX_DAYS} 天上限，请分段编制")
    return Period("range", start, end, f"{start.isoformat()}~{end.isoformat()}", today)


def week_label(d: date) -> str:
    """The ISO week containing `d`, as "2026-W47"."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def last_full_week(today: date) -> str:
    """The most recent ISO week that has ended: the usual subject of a weekly briefing."""
    return week_label(today - timedelta(days=today.isoweekday()))
