"""Briefing periods: ISO weeks, days and ranges, and the inputs that are refused."""
from __future__ import annotations

from datetime import date

import pytest

from briefing.period import MAX_DAYS, PeriodError, date_range, day, last_full_week, week

TODAY = date(2026, 11, 25)  # a Wednesday in 2026-W48


@pytest.mark.parametrize("text", ["2026-W47", "2026W47", "2026-w47", " 2026-W47 "])
def test_iso_week_spellings(text):
    p = week(text, TODAY)
    assert (p.kind, p.start, p.end, p.label, p.days) == ("weekly", date(2026, 11, 16), date(2026, 11, 22),
                                                         "2026-W47", 7)
    assert not p.in_progress and p.last_day == date(2026, 11, 22)
    assert p.previous == (date(2026, 11, 9), date(2026, 11, 15))
    assert p.describe() == "2026年11月16日至11月22日"


def test_week_53_exists_only_in_long_years():
    assert week("2020-W53", TODAY).start == date(2020, 12, 28)
    with pytest.raises(PeriodError, match="2025 年没有第 53 周（该年共 52 周）"):
        week("2025-W53", TODAY)


@pytest.mark.parametrize("text, message", [
    ("2026-W00", "没有第 0 周"), ("2026-W54", "没有第 54 周"), ("47", "YYYY-Www"), ("", "YYYY-Www"),
    ("2026-11-16", "YYYY-Www"), ("<script>", "YYYY-Www"),
])
def test_unknown_weeks_are_refused(text, message):
    with pytest.raises(PeriodError, match=message):
        week(text, TODAY)


def test_future_periods_are_refused_and_the_running_one_is_marked():
    with pytest.raises(PeriodError, match="晚于今天"):
        week("2026-W49", TODAY)
    with pytest.raises(PeriodError, match="晚于今天"):
        day("2026-11-26", TODAY)
    running = week("2026-W48", TODAY)
    assert running.in_progress and running.last_day == TODAY and running.end == date(2026, 11, 29)
    assert "本期尚未结束" in running.describe()
    assert day("2026-11-25", TODAY).in_progress


def test_ranges():
    p = date_range("2026-11-01", "2026-11-20", TODAY)
    assert (p.kind, p.days, p.year, p.label) == ("range", 20, 2026, "2026-11-01~2026-11-20")
    assert date_range("2026-11-25", "2026-11-25", TODAY).days == 1
    with pytest.raises(PeriodError, match="开始日期 2026-11-20 晚于结束日期 2026-11-01"):
        date_range("2026-11-20", "2026-11-01", TODAY)
    with pytest.raises(PeriodError, match="结束日期 2026-12-01 晚于今天"):
        date_range("2026-11-01", "2026-12-01", TODAY)
    with pytest.raises(PeriodError, match="晚于今天"):
        date_range("2026-12-01", "2026-12-05", TODAY)
    with pytest.raises(PeriodError, match=f"超过 {MAX_DAYS} 天"):
        date_range("2016-11-01", "2026-11-20", TODAY)
    for bad in ("2026-13-01", "2026/11/01", "20261101", "", "2026-11-1"):
        with pytest.raises(PeriodError, match="YYYY-MM-DD"):
            date_range(bad, "2026-11-20", TODAY)


def test_messages_are_one_line():
    for call in (lambda: week("2026-W99", TODAY), lambda: date_range("2026-11-20", "2026-11-01", TODAY),
                 lambda: day("2099-01-01", TODAY), lambda: day("1900-01-01", TODAY)):
        with pytest.raises(PeriodError) as e:
            call()
        assert "\n" not in str(e.value) and str(e.value)


def test_numbering_year_and_default_week():
    assert week("2026-W01", TODAY).year == 2026 and week("2026-W01", TODAY).start == date(2025, 12, 29)
    assert week("2020-W53", TODAY).year == 2020  # ends in January 2021, still the 2020 series
    assert date_range("2025-12-20", "2026-01-05", TODAY).year == 2026
    assert last_full_week(TODAY) == "2026-W47"
    assert last_full_week(date(2026, 11, 22)) == "2026-W46"  # on a Sunday the week has not ended
