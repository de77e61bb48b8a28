"""Building blocks the pages share: shell (sidebar, sample notice), filter bar, tables, charts, detail.

Collected text is hostile. Item data goes only through elements that never
parse it (st.text, dataframes, widget options) or through `md_escape` when a
heading needs Markdown; nothing here uses unsafe_allow_html.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Mapping

import altair as alt
import pandas as pd
import streamlit as st

from monitor import queries
from monitor.settings import Settings
from ui import state

POLARITY_LABELS = {"negative": "负面", "neutral": "中性", "positive": "正面"}
POLARITY_COLORS = {"负面": "#d62728", "中性": "#9e9e9e", "正面": "#2ca02c"}
PLATFORM_LABELS = {"news": "新闻网站", "government": "政务网站", "social": "社交媒体", "forum": "论坛",
                   "wechat": "微信公众号", "video": "视频平台", "rss": "RSS"}
STATUS_LABELS = {"ok": "正常", "error": "失败", "not_modified": "无更新", "running": "运行中",
                 "never": "从未运行"}
WINDOWS = {7: "近7天", 30: "近30天", 90: "近90天", 365: "近一年"}
PERIOD_LABELS = {"today": "今日", "7d": "近7天", "30d": "近30天"}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&:$])")


def md_escape(text: str) -> str:
    """Backslash-escape Markdown and HTML punctuation so a title shows exactly as written."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def safe_url(url: Any) -> str | None:
    """Only web links become clickable; javascript:, data: and the like do not."""
    u = str(url or "").strip()
    return u if re.match(r"(?i)^https?://[^\s]+$", u) else None


def polarity_label(p: Any) -> str:
    return POLARITY_LABELS.get(p, "未判定" if p is None else str(p))


def platform_label(p: Any) -> str:
    return PLATFORM_LABELS.get(p, str(p or "未知"))


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def change(x: float | None) -> str | None:
    return None if x is None else f"{x:+.0%} 较上期"


# -- shell -----------------------------------------------------------------------------

def sidebar(s: Settings, db: str) -> None:
    """Where the data comes from and how fresh it is, on every page."""
    last = state.last_collection(db, s.stall_minutes, state.tick(s))
    with st.sidebar:
        st.caption("数据库")
        st.text(db)
        st.caption("最近采集")
        if last["finished_at"]:
            st.text(f"{last['finished_at'][:16].replace('T', ' ')}（约 {int(last['age_minutes'])} 分钟前）")
            if last["stalled"]:
                st.warning(f"超过 {s.stall_minutes} 分钟没有新的采集，请检查采集进程。",
                           icon=":material/schedule:")
        else:
            st.text("尚未采集")
        st.caption(f"页面每 {s.refresh_seconds} 秒自动刷新")


def _remove_sample(db: str) -> None:
    n = state.remove_sample(db)
    st.session_state["sample_message"] = f"已清除示例数据 {n} 条。"


def _load_sample(db: str, s: Settings) -> None:
    try:
        counts = state.load_sample(db, s)
    except Exception as e:  # a missing model or file is shown, not raised as a traceback
        st.session_state["sample_message"] = f"示例数据载入失败：{e}"
    else:
        st.session_state["sample_message"] = f"已载入示例数据 {counts.new} 条。"


def sample_notice(s: Settings, db: str) -> None:
    """The 示例数据 banner while any sample item is stored, with its one-click removal;
    on an empty database, the one-click load instead."""
    if msg := st.session_state.pop("sample_message", None):
        st.toast(msg)
    counts = state.item_counts(db, state.tick(s))
    if counts["sample"]:
        with st.container(border=True):
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.info(f"示例数据：当前显示的 {counts['sample']} 条信息来自随产品附带的示例语料（真实公开报道，"
                      "用于演示），不是本单位采集的结果。开始采集后可一键清除。", icon=":material/info:")
            right.button("清除示例数据", key="remove_sample", icon=":material/delete:",
                         on_click=_remove_sample, args=(db,), type="primary")
    elif not counts["total"]:
        with st.container(border=True):
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.info("数据库中还没有任何信息。可以先载入示例数据了解系统，或启动采集（python -m collectors run）。",
                      icon=":material/inbox:")
            right.button("载入示例数据", key="load_sample", icon=":material/download:",
                         on_click=_load_sample, args=(db, s))


# -- overview ----------------------------------------------------------------------------

def window_picker(key: str = "overview_days") -> int:
    return st.radio("统计范围", list(WINDOWS), index=1, format_func=WINDOWS.get, horizontal=True, key=key)


def period_tiles(ov: Mapping[str, Mapping[str, Any]]) -> None:
    cols = st.columns(len(PERIOD_LABELS))
    for col, (key, label) in zip(cols, PERIOD_LABELS.items()):
        p = ov[key]
        with col.container(border=True):
            st.metric(f"{label}信息量", p["total"], delta=change(p["total_change"]), delta_color="off")
            a, b = st.columns(2)
            a.metric(f"{label}负面", p["negative"], delta=change(p["negative_change"]), delta_color="inverse")
            b.metric(f"{label}负面占比", percent(p["negative_share"]))


def trend_chart(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(倾向=frame["polarity"].map(polarity_label))
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("yearmonthdate(day):T", title="日期", axis=alt.Axis(format="%m-%d")),
        y=alt.Y("count:Q", title="信息量", stack=True),
        color=alt.Color("倾向:N", title="倾向", scale=alt.Scale(domain=list(POLARITY_COLORS),
                                                              range=list(POLARITY_COLORS.values()))),
        order=alt.Order("倾向:N"),
        tooltip=[alt.Tooltip("yearmonthdate(day):T", title="日期", format="%Y-%m-%d"),
                 alt.Tooltip("倾向:N"), alt.Tooltip("count:Q", title="信息量")],
    ).properties(height=260)


def bar_chart(frame: pd.DataFrame, field: str, title: str, horizontal: bool = True) -> alt.Chart:
    """Count bars with the negative share overlaid; `field` names the category column."""
    data = frame.rename(columns={field: "类别", "count": "信息量", "negative": "负面"})
    base = alt.Chart(data)
    if horizontal:
        cat = alt.Y("类别:N", title=title, sort="-x")
        total = base.mark_bar(color="#8fb3d9").encode(y=cat, x=alt.X("信息量:Q", title="信息量"),
                                                      tooltip=["类别", "信息量", "负面"])
        neg = base.mark_bar(color="#d62728").encode(y=cat, x="负面:Q", tooltip=["类别", "信息量", "负面"])
    else:
        cat = alt.X("类别:N", title=title, sort="-y")
        total = base.mark_bar(color="#8fb3d9").encode(x=cat, y=alt.Y("信息量:Q", title="信息量"),
                                                      tooltip=["类别", "信息量", "负面"])
        neg = base.mark_bar(color="#d62728").encode(x=cat, y="负面:Q", tooltip=["类别", "信息量", "负面"])
    return (total + neg).properties(height=max(160, 24 * len(data)) if horizontal else 260)


def chart_or_note(frame: pd.DataFrame, chart: alt.Chart, empty: str) -> None:
    if frame.empty or int(frame["count"].sum()) == 0:
        st.caption(empty)
    else:
        st.altair_chart(chart, width="stretch")


def overview_live(s: Settings, db: str, days: int) -> None:
    """The body of the overview's live fragment: re-queried on each refresh tick."""
    t = state.tick(s)
    last = state.last_collection(db, s.stall_minutes, t)
    if last["stalled"]:
        st.warning(f"采集已停滞：最近一次采集在 {last['finished_at'][:16].replace('T', ' ')}，"
                   f"已超过 {s.stall_minutes} 分钟。", icon=":material/warning:")
    period_tiles(state.overview(db, t))

    st.subheader(f"每日信息量（{WINDOWS.get(days, f'近{days}天')}，按倾向）")
    trend = state.daily_trend(db, days, t)
    chart_or_note(trend, trend_chart(trend), "所选范围内没有信息。")

    left, right = st.columns(2)
    with left:
        st.subheader("主要信息源")
        src = state.top_sources(db, days, t)
        chart_or_note(src, bar_chart(src, "source", "信息源"), "所选范围内没有信息。")
        st.subheader("知识产权类型")
        ipt = state.ip_type_breakdown(db, days, t)
        chart_or_note(ipt, bar_chart(ipt, "ip_type", "类型"), "所选范围内没有信息。")
    with right:
        st.subheader("安徽各市")
        city = state.city_breakdown(db, days, t)
        chart_or_note(city, bar_chart(city, "city", "城市"), "所选范围内没有涉及安徽各市的信息。")
        st.subheader("各省份")
        prov = state.province_breakdown(db, days, t)
        chart_or_note(prov, bar_chart(prov.head(15), "province", "省份"), "所选范围内没有标明省份的信息。")

    st.subheader("最新负面信息")
    neg = state.latest_negative(db, t)
    if neg.empty:
        st.caption("暂无负面信息。")
    else:
        item_table(neg, key="latest_negative", height=min(420, 38 + 35 * len(neg)))


# -- item list ------------------------------------------------------------------------

TIME_PRESETS = {"today": "今天", "7": "近7天", "30": "近30天", "365": "近一年", "all": "全部", "custom": "自定义"}


def filter_bar(options: Mapping[str, list[str]], today: date, key: str = "flt") -> queries.ItemFilter:
    """The stream's filters. Widget keys keep the choices across reruns and live refreshes."""
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 2, 3])
        preset = c1.selectbox("时间", list(TIME_PRESETS), index=2, format_func=TIME_PRESETS.get,
                              key=f"{key}_time")
        start: date | None
        end: date | None = today
        if preset == "custom":
            picked = c1.date_input("起止日期", value=(today - timedelta(days=29), today),
                                   min_value=queries.MIN_DATE, max_value=today, key=f"{key}_range")
            picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
            start = picked[0] if picked else None
            end = picked[1] if len(picked) > 1 else start
        elif preset == "all":
            start, end = None, None
        elif preset == "today":
            start = today
        else:
            start = today - timedelta(days=int(preset) - 1)
        polarities = c2.multiselect("倾向", list(POLARITY_LABELS), format_func=polarity_label,
                                    key=f"{key}_polarity", placeholder="全部")
        negative_only = c2.checkbox("只看负面舆情", key=f"{key}_negative")
        keyword = c3.text_input("关键词", key=f"{key}_keyword", placeholder="标题或正文包含的词，空格分隔表示同时包含")
        d1, d2, d3, d4 = st.columns(4)
        sources = d1.multiselect("信息源", options.get("sources", []), key=f"{key}_sources", placeholder="全部")
        platforms = d2.multiselect("平台", options.get("platforms", []), format_func=platform_label,
                                   key=f"{key}_platforms", placeholder="全部")
        ip_types = d3.multiselect("知识产权类型", options.get("ip_types", []), key=f"{key}_ip", placeholder="全部")
        regions = d4.multiselect("地域", options.get("regions", []), key=f"{key}_region", placeholder="全部")
    return queries.ItemFilter(start=start, end=end, polarities=tuple(polarities), negative_only=negative_only,
                              sources=tuple(sources), platforms=tuple(platforms), ip_types=tuple(ip_types),
                              regions=tuple(regions), keyword=keyword)


def table_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Item rows as staff read them: Chinese headers, labels instead of codes, only web links."""
    return pd.DataFrame({
        "发布时间": rows["published_at"].dt.strftime("%Y-%m-%d %H:%M")
                    + rows["published_estimated"].map({True: " (估)", False: ""}).fillna(""),
        "标题": rows["title"],
        "信息源": rows["source"],
        "平台": rows["platform"].map(platform_label),
        "倾向": rows["polarity"].map(polarity_label),
        "负面概率": rows["p_negative"],
        "类型": rows["ip_type"],
        "地域": rows["region"],
        "示例": rows["is_sample"].map({True: "示例", False: ""}).fillna(""),
        "链接": rows["url"].map(safe_url),
    })


def item_table(rows: pd.DataFrame, key: str, height: int | str = "auto") -> None:
    st.dataframe(
        table_frame(rows), hide_index=True, key=key, height=height,
        column_config={
            "标题": st.column_config.TextColumn(width="large"),
            "负面概率": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f", width="small"),
            "链接": st.column_config.LinkColumn(display_text="原文", width="small"),
        })


def item_picker(rows: pd.DataFrame, key: str = "detail_item") -> int | None:
    """Which listed item to show in detail; options are ids, labels are plain text."""
    if rows.empty:
        return None
    ids = [int(i) for i in rows["id"]]
    labels = {int(r.id): f"{r.published_at:%m-%d} {r.title[:60]}" for r in rows.itertuples()}
    return st.selectbox("查看详情", ids, index=None, format_func=lambda i: labels.get(i, str(i)),
                        key=key, placeholder="选择一条信息查看详情和判定理由")


def item_detail(d: Mapping[str, Any] | None) -> None:
    if d is None:
        st.warning("这条信息已不存在（可能随示例数据一起被清除）。")
        return
    with st.container(border=True):
        st.subheader(md_escape(d["title"] or "（无标题）"))
        when = (d.get("published_at_local") or "")[:16].replace("T", " ")
        est = "（发布时间未知，按采集时间估计）" if d.get("published_estimated") else ""
        st.text(f"{d['source']} · {platform_label(d['platform'])} · {when}{est}")
        a, b, c, e = st.columns(4)
        a.metric("倾向", polarity_label(d.get("polarity")))
        b.metric("负面舆情", "是" if d.get("negative") else "否")
        c.metric("负面概率", "—" if d.get("p_negative") is None else f"{d['p_negative']:.2f}")
        e.metric("知识产权类型", d.get("ip_type") or "—")
        st.caption("判定理由")
        reasons = d.get("reasons") or []
        if reasons:
            for r in reasons:
                st.text(f"• {r}")
        else:
            st.text("（无）")
        facts = [("地域", d.get("region")), ("执法渠道", d.get("channel")),
                 ("涉及类型", "、".join(d.get("ip_types") or [])), ("作者", d.get("author")),
                 ("示例数据", "是" if d.get("is_sample") else "")]
        st.text("  ".join(f"{k}：{v}" for k, v in facts if v))
        st.caption("正文摘要")
        st.text(d.get("text") or "（无正文）", width="stretch")
        if url := safe_url(d.get("url")):
            st.link_button("打开原文", url, icon=":material/open_in_new:")
        elif d.get("url"):
            st.text(f"原文链接（不可点击）：{d['url']}")


# -- sources ------------------------------------------------------------------------

def source_health_table(frame: pd.DataFrame) -> None:
    def when(col: str) -> pd.Series:
        return frame[col].fillna("").str.slice(0, 16).str.replace("T", " ")

    view = pd.DataFrame({
        "信息源": frame["name"],
        "平台": frame["platform"].map(platform_label),
        "启用": frame["enabled"],
        "状态": frame["status"].map(lambda x: STATUS_LABELS.get(x, x)),
        "停滞": frame["stalled"].map({True: "停滞", False: ""}),
        "最近运行": when("last_started_at"),
        "最近成功": when("last_ok_at"),
        "获取": frame["fetched"], "新增": frame["new"], "重复": frame["duplicate"],
        "连续失败": frame["failures_in_row"],
        "最近错误": frame["error"],
        "地址": frame["url"],
        "已配置": frame["configured"],
    })
    st.dataframe(view, hide_index=True, key="source_health",
                 column_config={"最近错误": st.column_config.TextColumn(width="large"),
                                "启用": st.column_config.CheckboxColumn(),
                                "已配置": st.column_config.CheckboxColumn()})
