"""The 舆情简报 page under Streamlit's AppTest, standalone, on a real seeded file chosen by OPINION_DB."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import briefing.issue  # noqa: F401  (imported first: the page file is also named briefing)
from briefing.period import last_full_week, week
from monitor import queries
from monitor.briefing_store import BriefingStore
from monitor.store import Store
from tests.test_briefing_build import XSS, seed
from tests.test_briefing_cli import SOURCES_TOML

PAGE = str(Path(__file__).resolve().parent.parent / "ui" / "pages" / "briefings.py")
EDIT = '本周研判 <script>alert("x")</script> & 😀\n第二段'
SECTIONS = ["一、本期舆情概况", "二、数据统计", "三、热点事件", "四、负面舆情及处置", "五、正面宣传与成效", "六、典型案例",
            "七、研判与建议", "八、下期关注", "附：采集情况"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    today = queries.beijing_today()
    db = seed(tmp_path / "opinion.db", week(last_full_week(today), today).start)
    (tmp_path / "sources.toml").write_text(SOURCES_TOML, encoding="utf-8")
    monkeypatch.setenv("OPINION_DB", str(db))
    monkeypatch.setenv("OPINION_SOURCES", str(tmp_path / "sources.toml"))
    return db


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_preview_edit_and_generate(env):
    at = page()
    today = queries.beijing_today()
    period = week(last_full_week(today), today)
    with Store(env, readonly=True) as s:
        ov = queries.period_overview(s, period.start, period.end)
    shown = {m.label: m.value for m in at.metric}
    assert shown["信息量"] == str(ov["total"]) and shown["负面"] == str(ov["negative"])
    assert shown["负面占比"] == f"{ov['negative_share']:.1%}"
    assert [h.value for h in at.subheader] == SECTIONS
    assert len(at.get("vega_lite_chart")) == 4
    pictures = [b for b in at.get("download_button") if b.label == "下载图片"]
    assert [b.key for b in pictures] == ["br_png_trend", "br_png_sources", "br_png_cities", "br_png_ip_types"]
    assert any(XSS in list(df.value.iloc[:, 0]) for df in at.dataframe)  # hostile title only inside a table
    assert not any(XSS in m.value for m in at.markdown)
    assert "尚未签发" in at.caption[0].value
    assert any(c.value.startswith(("本期报道", "本期无转载量较大的事件")) for c in at.caption)   # as in the Word file
    assert any("采集不完整" in w.value for w in at.warning)
    cases = next(df.value for df in at.dataframe if "案例" in df.value.columns)
    assert list(cases["状态"]) == ["已通过"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", cases["时间"][0])
    # the two texts staff write have their section heading only, not a second label under it
    assert all(t.proto.label_visibility.value == t.proto.label_visibility.COLLAPSED for t in at.text_area)

    at.text_area(key=f"br_assessment_weekly_{period.label}").set_value(EDIT).run()
    at.button(key="br_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == [f"已生成 {period.year}年第1期"]
    assert [b.label for b in at.get("download_button")].count("下载 Word") == 1
    with Store(env, readonly=True) as s:
        row = BriefingStore(s).find("weekly", period.start, period.end)
    assert row["number"] == 1 and row["edits"]["assessment"] == EDIT
    # the page now knows the issue, and offers the saved text again
    at2 = page()
    assert "已签发过" in at2.caption[0].value
    assert at2.text_area(key=f"br_assessment_weekly_{period.label}").value == EDIT


def test_bad_periods_show_a_message_not_a_traceback(env):
    at = page()
    at.text_input(key="br_week").set_value("2025-W53").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["2025 年没有第 53 周（该年共 52 周）"]
    at.radio(key="br_kind").set_value("range").run()
    today = queries.beijing_today()
    at.date_input(key="br_from").set_value(today).run()
    at.date_input(key="br_to").set_value(today.replace(day=1) if today.day > 1 else today).run()
    if today.day > 1:
        assert any("晚于结束日期" in e.value for e in at.error)


def test_empty_database_says_no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_DB", str(tmp_path / "empty.db"))
    monkeypatch.setenv("OPINION_SOURCES", str(tmp_path / "none.toml"))
    at = page()
    assert {m.label: m.value for m in at.metric}["信息量"] == "0"
    infos = [i.value for i in at.info]
    assert "本期无数据，不作统计。" in infos and "本期未发现负面舆情。" in infos
    assert any("信息源配置有误" in w.value or "无法确认" in w.value for w in at.warning)


def test_a_period_issued_from_the_command_line_without_edits_is_known_as_issued(env):
    today = queries.beijing_today()
    period = week(last_full_week(today), today)
    with Store(env) as s:
        briefing.issue.make(s, period)                     # as `python -m briefing weekly` does: no edits
    assert "已签发过" in page().caption[0].value
