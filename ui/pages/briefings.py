"""舆情简报 (周报 / 日报 / 专报): choose the period, preview each section, edit the texts, download the .docx.

Widgets, one briefing call per action (build for the preview, issue.make for
the file), render. Item titles and staff text are shown with st.text and
dataframes only, never as Markdown or HTML.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from briefing import charts, issue
from briefing.build import DEFAULT_UNIT, EDIT_LABELS, PLATFORM_LABELS, STATUS_LABELS, BriefingData, build
from briefing.period import Period, PeriodError, date_range, day, last_full_week, week
from casebook.models import state_label
from monitor import users
from monitor.queries import beijing_today
from monitor.store import Store, StoreError
from ui import auth, state, widgets

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@st.cache_data(ttl=900, show_spinner="正在汇总本期数据…", max_entries=20)
def _preview(db: str, kind: str, start: str, end: str, label: str, as_of: str, sources_file: str,
             rsshub: str, unit: str, tick: int) -> tuple[BriefingData, int, dict, bool, str | None]:
    period = Period(kind, date.fromisoformat(start), date.fromisoformat(end), label, date.fromisoformat(as_of))
    sources, problem = state.load_source_list(sources_file, rsshub)
    with Store(db, readonly=True) as store:
        number = issue.planned_number(store, period)
        saved, issued = issue.saved_edits(store, period), issue.was_issued(store, period)
        return build(store, period, sources=sources, unit=unit, number=number), number, saved, issued, problem


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def _stories_frame(stories) -> pd.DataFrame:
    return _frame([{"事件": s.title, "报道量": s.items, "来源数": s.sources, "首发来源": s.first_source,
                    "首发时间": s.first_at.strftime("%m-%d %H:%M"), "摘要": s.gist} for s in stories],
                  ["事件", "报道量", "来源数", "首发来源", "首发时间", "摘要"])


st.title("舆情简报")
settings = state.settings()
db = state.db_key(settings)
try:
    Store(db).close()  # creates or migrates the file, so the read-only preview finds every table
except StoreError as e:
    st.error(f"无法打开数据库：{e}")
    st.stop()
user = auth.page_user(state.store(db), settings)

today = beijing_today()
c1, c2, c3 = st.columns([1, 2, 2])
kind = c1.radio("类型", ["weekly", "daily", "range"], format_func=lambda k: {"weekly": "周报", "daily": "日报",
                                                                          "range": "任意时段"}[k], key="br_kind")
try:
    if kind == "weekly":
        text = c2.text_input("周次（ISO 周，如 2026-W47）", value=last_full_week(today), key="br_week")
        period = week(text, today)
    elif kind == "daily":
        chosen = c2.date_input("日期", value=today - timedelta(days=1), key="br_date")
        period = day(str(chosen), today)
    else:
        a = c2.date_input("开始日期", value=today - timedelta(days=30), key="br_from")
        b = c3.date_input("结束日期", value=today - timedelta(days=1), key="br_to")
        period = date_range(str(a), str(b), today)
except PeriodError as e:
    st.error(str(e))
    st.stop()
unit = st.text_input("编制单位", value=DEFAULT_UNIT, key="br_unit")

data, number, saved, issued, problem = _preview(db, period.kind, period.start.isoformat(), period.end.isoformat(),
                                        period.label, period.as_of.isoformat(), str(settings.sources_file),
                                        settings.rsshub_base, unit, state.tick(settings))
if problem:
    st.warning(problem)
st.caption(f"{data.title} · {period.year}年第{number}期{'（已签发过，重新生成沿用原期号）' if issued else '（尚未签发）'}"
           f" · 统计时段：{period.describe()}")
if not data.coverage.complete:
    st.warning(data.coverage.statement)

ov = data.overview
m = st.columns(4)
m[0].metric("信息量", ov["total"])
m[1].metric("负面", ov["negative"])
m[2].metric("负面占比", "—" if ov["negative_share"] is None else f"{ov['negative_share']:.1%}")
m[3].metric("负面事件", data.negatives_total)

edits: dict[str, str] = {}


def _editor(key: str) -> None:
    # the section heading above already names the text: the label is kept for screen readers only
    edits[key] = st.text_area(EDIT_LABELS[key], value=saved.get(key, data.drafts[key]), height=140,
                              key=f"br_{key}_{period.kind}_{period.label}", label_visibility="collapsed")


def _chart(where, chart, name: str, key: str) -> None:
    """The chart, and under it the same chart as a PNG (the picture the Word file has, drawn only when
    clicked), to paste into WPS, a slide or a WeChat message."""
    box = where.container(border=True)        # the button belongs to the chart above it, visibly
    box.altair_chart(chart, width="stretch")
    box.download_button("下载图片", data=lambda: charts.to_png(chart), file_name=f"{period.label}{name}.png",
                        mime="image/png", key=key, on_click="ignore", icon=":material/image:")


daily = period.kind == "daily"
st.subheader("一、舆情概况" if daily else "一、本期舆情概况")
for line in data.facts["overview"]:
    st.text(line)
_editor("summary")

if not daily:
    st.subheader("二、数据统计")
    if data.empty:
        st.info("本期无数据，不作统计。")
    else:
        for key in ("trend", "sources", "cities", "ip_types"):
            for line in data.facts[key]:
                st.text(line)
        _chart(st, charts.trend_chart(data.trend), "每日信息量及倾向", "br_png_trend")
        left, right = st.columns(2)
        _chart(left, charts.bar_chart(data.sources, "source", "主要信息来源", "来源"), "主要信息来源", "br_png_sources")
        right.dataframe(data.platforms.assign(platform=data.platforms["platform"].map(
            lambda p: PLATFORM_LABELS.get(p, p))).rename(columns={"platform": "平台", "count": "信息量",
                                                                   "negative": "负面"}), hide_index=True)
        left, right = st.columns(2)
        cities = data.cities[data.cities["count"] > 0]
        if not cities.empty:
            _chart(left, charts.bar_chart(cities, "city", "安徽各市信息量", "城市"), "安徽各市信息量", "br_png_cities")
        _chart(right, charts.bar_chart(data.ip_types[data.ip_types["count"] > 0], "ip_type", "知识产权类型分布", "类型"),
               "知识产权类型分布", "br_png_ip_types")

st.subheader("三、重点信息" if daily else "三、热点事件")
st.caption(data.facts["stories"][0])          # the same sentence as the Word file's, list or no list
if data.stories:
    st.dataframe(_stories_frame(data.stories), hide_index=True, width="stretch")

st.subheader("二、需关注的负面信息" if daily else "四、负面舆情及处置")
for line in data.facts["handling"]:
    st.text(line)
if data.negatives:
    st.dataframe(_frame([{"事件": s.title, "首发来源": s.first_source, "首发时间": s.first_at.strftime("%m-%d %H:%M"),
                          "负面条数": s.negative_items, "处置状态": s.handling or "—", "责任单位": s.unit or "—"}
                         for s in data.negatives],
                        ["事件", "首发来源", "首发时间", "负面条数", "处置状态", "责任单位"]),
                 hide_index=True, width="stretch")
else:
    st.info("本期未发现负面舆情。")

if not daily:
    st.subheader("五、正面宣传与成效")
    if not data.own_configured:
        st.info("信息源配置中没有标注本局自有渠道（own = true），无法统计本局发布信息的传播情况。")
    elif data.own:
        st.dataframe(_frame([{"发布信息": s.title, "渠道": s.first_source, "转载量": s.items - 1,
                              "转载来源数": s.sources} for s in data.own],
                            ["发布信息", "渠道", "转载量", "转载来源数"]), hide_index=True, width="stretch")
    else:
        st.info("本期未监测到本局自有渠道发布的信息。")
    st.subheader("六、典型案例")
    if data.cases:
        st.dataframe(_frame([{"案例": c["headline"] or c["title"], "状态": state_label(c["moved_to"]),
                              "时间": str(c["moved_at"] or "")[:10]}
                             for c in data.cases], ["案例", "状态", "时间"]), hide_index=True, width="stretch")
    else:
        st.info("本期没有审核通过或发布的典型案例。")

st.subheader("四、研判与建议" if daily else "七、研判与建议")
_editor("assessment")
if not daily:
    st.subheader("八、下期关注")
    _editor("outlook")

st.subheader("附：采集情况")
st.text(data.coverage.statement)
if data.coverage.rows:
    st.dataframe(_frame([{"信息源": r.name, "状态": STATUS_LABELS[r.status], "运行次数": r.runs, "失败次数": r.errors,
                          "本期信息": r.items, "最近错误": r.last_error} for r in data.coverage.rows],
                        ["信息源", "状态", "运行次数", "失败次数", "本期信息", "最近错误"]),
                 hide_index=True, width="stretch")

st.divider()
if not auth.can(user, "edit_briefings"):
    # Generating the Word file issues the briefing (numbers it and stores its texts): an editor's act.
    st.caption(f"当前用户：{widgets.md_escape(user.label)}。" + widgets.refusal(user, "签发简报（生成 Word）", "编辑或管理员"))
elif st.button(f"生成 Word（{period.year}年第{number}期）", type="primary", key="br_make"):
    sources, _ = state.load_source_list(settings.sources_file, settings.rsshub_base)
    try:
        with Store(db) as store:
            # Not one transaction: rendering the .docx must not hold the write lock the collector needs.
            made, content = issue.make(store, period, sources=sources, unit=unit, edits=edits)
            users.audit(store, user, "briefing.issue", f"{period.kind} {period.label}",
                        {"issue": made.issue_label, "unit": unit})
    except StoreError as e:
        st.error(f"生成失败：{e}")
    else:
        _preview.clear()
        st.session_state["br_output"] = {"name": f"{made.title}{made.issue_label}.docx", "docx": content,
                                         "label": made.issue_label, "period": (period.kind, period.label)}
out = st.session_state.get("br_output")
if out and out["period"] == (period.kind, period.label):
    st.success(f"已生成 {out['label']}")
    st.download_button("下载 Word", out["docx"], file_name=out["name"], mime=DOCX_MIME, key="br_download")
