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

from collectors.base import is_web_url
from collectors.registry import PLATFORM_LABELS
from monitor import audit, queries, users
from monitor.settings import Settings
from sentiment.judgement import REVIEW_P
from ui import state

POLARITY_LABELS = {"negative": "负面", "neutral": "中性", "positive": "正面"}
POLARITY_COLORS = {"负面": "#d62728", "中性": "#9e9e9e", "正面": "#2ca02c"}
STATUS_LABELS = {"ok": "正常", "error": "失败", "not_modified": "无更新", "running": "运行中",
                 "never": "从未运行"}
WINDOWS = {7: "近7天", 30: "近30天", 90: "近90天", 365: "近一年"}
PERIOD_LABELS = {"today": "今日", "7d": "近7天", "30d": "近30天"}
HANDLING_LABELS = {"pending": "待研判", "assigned": "已交办", "responded": "已回应", "closed": "已办结",
                   "dismissed": "无需处置"}
MARK_LABELS = {"important": "重要", "read": "已读"}
CORRECTION_LABELS = audit.FIELD_LABELS
CORRECTION_VALUES = {"yes": "是", "no": "否", "ip": "相关", "off": "无关", **POLARITY_LABELS}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&:$])")


# Streamlit's Markdown (GFM) links bare URLs and e-mail addresses after parsing, so no escape stops it;
# an invisible word joiner after the scheme or www, and before @, does (seen in Chromium).
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?|ftps?|mailto|www)(?=\\[:.])")


def start_form(defaults: Mapping[str, Any], over: bool = False) -> None:
    """Call before a form's widgets exist. `over`: put every field back to its default (after a save, or when
    the form now belongs to another record); otherwise only fill fields not yet set. Values are set, not
    popped: a popped key comes back with what the browser still shows (seen in Chromium)."""
    if over:
        st.session_state.update(defaults)
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def md_escape(text: str) -> str:
    """Backslash-escape Markdown and HTML punctuation so a title shows exactly as written, with no live link."""
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return _AUTOLINK.sub(lambda m: m.group(1) + _WORD_JOINER, escaped).replace("@", _WORD_JOINER + "@")


def safe_url(url: Any) -> str:
    """Only web links become clickable; javascript:, data: and the like do not. "" (not None) for the rest:
    a link column shows an empty cell for it, and a grey "None" for None."""
    u = str(url or "").strip()
    return u if is_web_url(u) else ""


def polarity_label(p: Any) -> str:
    return POLARITY_LABELS.get(p, "未判定" if p is None else str(p))


def tone_label(polarity: Any, topic: Any = None) -> str:
    """倾向 as staff read it: an item that is not about IP protection shows as such, not by its tone."""
    return "无关话题" if topic == "off" else polarity_label(polarity)


def platform_label(p: Any) -> str:
    return PLATFORM_LABELS.get(p, str(p or "未知"))


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def change(x: float | None) -> str | None:
    return None if x is None else f"{x:+.0%} 较上期"


# -- shell -----------------------------------------------------------------------------

def sidebar(s: Settings, db: str, live: bool = True) -> None:
    """Where the data comes from and how fresh it is, on every page; `live` pages rerun on new data."""
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
        if live:
            st.caption(f"有新数据时页面自动刷新（每 {s.refresh_seconds} 秒检查一次）")
            _watch_for_new_data(db, s.refresh_seconds)
        else:
            st.caption("本页不自动刷新，以免打断编辑；切换页面即可看到新数据")


def _watch_for_new_data(db: str, seconds: int) -> None:
    """Rerun the whole page when the collector (or a colleague) has changed what staff watch: the lists,
    the alert banner and this sidebar all sit outside any one page's live panel."""
    @st.fragment(run_every=seconds)
    def watch() -> None:
        version = state.data_version(db)
        seen = st.session_state.setdefault("data_version", version)
        if version != seen:
            st.session_state["data_version"] = version
            state.clear_queries()
            st.rerun()                     # from a fragment: the whole app, with every widget's value kept
    watch()


SAMPLE_ADMIN_ONLY = "只有管理员可以载入或清除示例数据。"


def _remove_sample(db: str, user: users.User) -> None:
    user = still_signed_in(db, user)
    if not users.can(user, "manage_sample"):
        st.session_state["sample_message"] = SAMPLE_ADMIN_ONLY
        return
    n = state.remove_sample(db, user)
    st.session_state["sample_message"] = f"已清除示例数据 {n} 条。"


def _load_sample(db: str, s: Settings, user: users.User) -> None:
    user = still_signed_in(db, user)
    if not users.can(user, "manage_sample"):
        st.session_state["sample_message"] = SAMPLE_ADMIN_ONLY
        return
    try:
        counts = state.load_sample(db, s, user)
    except Exception as e:  # a missing model or file is shown, not raised as a traceback
        st.session_state["sample_message"] = f"示例数据载入失败：{e}"
    else:
        st.session_state["sample_message"] = f"已载入示例数据 {counts.new} 条。"


def sample_notice(s: Settings, db: str) -> None:
    """The 示例数据 banner while any sample item is stored, with its one-click removal;
    on an empty database, the one-click load instead. Only roles with manage_sample get the buttons."""
    from ui import auth  # imported here: ui.auth imports this module
    if msg := st.session_state.pop("sample_message", None):
        st.toast(msg)
    counts = state.item_counts(db, state.tick(s))
    if not counts["sample"] and counts["total"]:
        return
    user = auth.current_user(state.store(db), s)
    allowed = users.can(user, "manage_sample")
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center")
        if counts["sample"]:
            left.info(f"示例数据：当前显示的 {counts['sample']} 条信息来自随产品附带的示例语料（真实公开报道，"
                      "用于演示），不是本单位采集的结果。开始采集后可一键清除。", icon=":material/info:")
            if allowed:
                right.button("清除示例数据", key="remove_sample", icon=":material/delete:",
                             on_click=_remove_sample, args=(db, user), type="primary")
        else:
            left.info("数据库中还没有任何信息。可以先载入示例数据了解系统，或启动采集（python -m collectors run）。",
                      icon=":material/inbox:")
            if allowed:
                right.button("载入示例数据", key="load_sample", icon=":material/download:",
                             on_click=_load_sample, args=(db, s, user))
        if not allowed:
            right.caption(SAMPLE_ADMIN_ONLY)


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
            if p.get("suspect"):
                st.caption(f"另有疑似负面 {p['suspect']} 条（信息流中勾选“疑似负面”查看）")


def trend_chart(frame: pd.DataFrame) -> alt.Chart:
    data = frame.assign(倾向=frame["polarity"].map(polarity_label))
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("yearmonthdate(day):T", title="日期",
                axis=alt.Axis(format="%m-%d", tickCount={"interval": "day", "step": 1})),
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
    data = data.sort_values(["信息量", "类别"], ascending=[False, True], kind="stable")
    # One explicit category order for both layers: with sort="-x" per layer the two orders
    # (by total, by negative) conflict, Vega-Lite drops both and the biggest bar is not first.
    order = [str(c) for c in data["类别"]]
    base = alt.Chart(data)
    if horizontal:
        cat = alt.Y("类别:N", title=title, sort=order, axis=alt.Axis(labelOverlap=False, labelLimit=160))
        total = base.mark_bar(color="#8fb3d9").encode(y=cat, x=alt.X("信息量:Q", title="信息量"),
                                                      tooltip=["类别", "信息量", "负面"])
        neg = base.mark_bar(color="#d62728").encode(y=cat, x="负面:Q", tooltip=["类别", "信息量", "负面"])
    else:
        cat = alt.X("类别:N", title=title, sort=order)
        total = base.mark_bar(color="#8fb3d9").encode(x=cat, y=alt.Y("信息量:Q", title="信息量"),
                                                      tooltip=["类别", "信息量", "负面"])
        neg = base.mark_bar(color="#d62728").encode(x=cat, y="负面:Q", tooltip=["类别", "信息量", "负面"])
    # A step per bar (not a fixed height): every category keeps a readable band and its label.
    return (total + neg).properties(height=alt.Step(22) if horizontal else 260)


MODEL_FIGURES = {"f1": "负面 F1", "accuracy": "准确率", "average_precision": "排序质量 AP",
                 "polarity_macro_f1": "倾向宏 F1", "topic_accuracy": "话题准确率", "ip_type_accuracy": "类型准确率"}
MODEL_SETS = {"heldout": "留出集", "fresh": "新收集条目"}


def model_comparison_chart(rows: list[dict]) -> alt.Chart:
    """The model in use beside the one it replaced, scored on the same rows (sentiment.versions.compare)."""
    data = pd.DataFrame([{"数据": MODEL_SETS.get(r["set"], r["set"]), "指标": MODEL_FIGURES.get(r["figure"], r["figure"]),
                          "模型": m, "得分": r[k]}
                         for r in rows for k, m in (("previous", "上一版"), ("new", "当前"))])
    # One facet (the figure) with grouped bars inside: a row × column facet grid misplaces panels
    # when a combination is missing (the held-out report of an older card has no AP).
    models = ["上一版", "当前"]
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("数据:N", title=None, sort=list(MODEL_SETS.values()), axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("模型:N", sort=models),
        y=alt.Y("得分:Q", title="得分", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("模型:N", title="模型", sort=models, scale=alt.Scale(domain=models, range=["#9e9e9e", "#1f77b4"])),
        column=alt.Column("指标:N", title=None, sort=list(MODEL_FIGURES.values())),
        tooltip=["数据", "指标", "模型", alt.Tooltip("得分:Q", format=".3f")],
    ).properties(width=95, height=180)


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
        st.subheader("平台")
        plat = state.platform_breakdown(db, days, t)
        plat = plat.assign(platform=plat["platform"].map(platform_label))
        chart_or_note(plat, bar_chart(plat, "platform", "平台"), "所选范围内没有信息。")
    with right:
        st.subheader("安徽各市")
        city = state.city_breakdown(db, days, t)
        chart_or_note(city, bar_chart(city, "city", "城市"), "所选范围内没有涉及安徽各市的信息。")
        st.subheader("各省份")
        prov = state.province_breakdown(db, days, t)
        chart_or_note(prov, bar_chart(prov.head(15), "province", "省份"), "所选范围内没有标明省份的信息。")
        st.subheader("执法渠道")
        chan = state.channel_breakdown(db, days, t)
        chart_or_note(chan, bar_chart(chan, "channel", "渠道"), "所选范围内没有信息。")

    st.subheader("最新负面信息")
    neg = state.latest_negative(db, t)
    if neg.empty:
        st.caption("暂无负面信息。")
    else:
        item_table(neg, key="latest_negative", height=min(420, 38 + 35 * len(neg)))

    st.subheader("热点事件（按转载量）")
    stories = state.top_stories(db, days, t, 10)
    if stories.empty:
        st.caption("所选范围内没有事件。")
    else:
        st.dataframe(pd.DataFrame({
            "标题": stories["title"], "报道数": stories["items"], "媒体数": stories["outlets"],
            "负面": stories["negative"], "首次出现": stories["first_at"].map(to_local),
            "首发来源": stories["source"]}), hide_index=True, key="top_stories",
            column_config={"标题": st.column_config.TextColumn(width="large")})

    alerts = state.latest_alerts(db, t)
    if alerts is not None:
        st.subheader("最新预警")
        if not alerts:
            st.caption("暂无预警。")
        else:
            st.dataframe(pd.DataFrame({
                "时间": [to_local(a["fired_at"]) for a in alerts], "规则": [a["rule_name"] for a in alerts],
                "预警": [a["title"] for a in alerts],
                "已确认": [bool(a.get("acknowledged_at")) for a in alerts]}), hide_index=True, key="latest_alerts")


# -- item list ------------------------------------------------------------------------

TIME_PRESETS = {"today": "今天", "7": "近7天", "30": "近30天", "365": "近一年", "all": "全部", "custom": "自定义"}


def filter_bar(options: Mapping[str, list[str]], today: date, key: str = "flt") -> queries.ItemFilter:
    """The stream's filters. Widget keys keep the choices across reruns and live refreshes."""
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 2, 3])
        # The default goes through session state, not `index=`: a saved view sets this key, and a widget
        # given both warns on every run.
        st.session_state.setdefault(f"{key}_time", list(TIME_PRESETS)[2])
        preset = c1.selectbox("时间", list(TIME_PRESETS), format_func=TIME_PRESETS.get, key=f"{key}_time")
        start: date | None
        end: date | None = today
        if preset == "custom":
            st.session_state.setdefault(f"{key}_range", (today - timedelta(days=29), today))
            picked = c1.date_input("起止日期", min_value=queries.MIN_DATE, max_value=today, key=f"{key}_range")
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
        keyword = c3.text_input("全文检索", key=f"{key}_keyword",
                                placeholder='如：专利 侵权（同时包含）、"商标 侵权"（短语）、专利 OR 商标、专利 -宣传',
                                help="按词检索标题和正文：空格分隔表示同时包含；不加空格的一串字或双引号内为短语；"
                                     "OR（或）表示任一；词前加 - 表示排除。")
        d1, d2, d3, d4 = st.columns(4)
        sources = d1.multiselect("信息源", options.get("sources", []), key=f"{key}_sources", placeholder="全部")
        platforms = d2.multiselect("平台", options.get("platforms", []), format_func=platform_label,
                                   key=f"{key}_platforms", placeholder="全部")
        ip_types = d3.multiselect("知识产权类型", options.get("ip_types", []), key=f"{key}_ip", placeholder="全部")
        regions = d4.multiselect("地域", options.get("regions", []), key=f"{key}_region", placeholder="全部")
        e1, e2, e3 = st.columns([2, 2, 1.3])
        handling_states = e1.multiselect("处置状态", list(HANDLING_LABELS), format_func=HANDLING_LABELS.get,
                                         key=f"{key}_handling", placeholder="全部")
        schemes = (e2.multiselect("监测方案", options["schemes"], key=f"{key}_schemes", placeholder="全部")
                   if options.get("schemes") else [])
        # Stacked in their own column: beside the 倾向 box, two halves cut the labels to 只看负面… at 1280 px.
        negative_only = e3.checkbox("只看负面舆情", key=f"{key}_negative")
        suspect_only = e3.checkbox("疑似负面", key=f"{key}_suspect",
                                   help=f"未标为负面、但负面概率 ≥ {REVIEW_P:.2f} 的信息（约三成实为负面），建议人工研判。"
                                        "与“只看负面舆情”同选时两类都列出。")
        important = e3.checkbox("只看重要", key=f"{key}_important")
    return queries.ItemFilter(start=start, end=end, polarities=tuple(polarities), negative_only=negative_only,
                              suspect_only=suspect_only, sources=tuple(sources), platforms=tuple(platforms), ip_types=tuple(ip_types),
                              regions=tuple(regions), keyword=keyword, schemes=tuple(schemes),
                              handling=tuple(handling_states), important_only=important)


def apply_view(v: Mapping[str, Any], key: str = "flt") -> None:
    """Put a saved view's filters into the filter bar's widgets (called from a button callback)."""
    f: queries.ItemFilter = v["filter"]
    preset = v.get("time") or ("custom" if f.start else "all")
    st.session_state[f"{key}_time"] = preset if preset in TIME_PRESETS else "all"
    if preset == "custom" and f.start:
        st.session_state[f"{key}_range"] = (f.start, f.end or f.start)
    st.session_state[f"{key}_polarity"] = list(f.polarities)
    st.session_state[f"{key}_negative"] = f.negative_only
    st.session_state[f"{key}_suspect"] = f.suspect_only
    st.session_state[f"{key}_keyword"] = f.keyword
    st.session_state[f"{key}_sources"] = list(f.sources)
    st.session_state[f"{key}_platforms"] = list(f.platforms)
    st.session_state[f"{key}_ip"] = list(f.ip_types)
    st.session_state[f"{key}_region"] = list(f.regions)
    st.session_state[f"{key}_handling"] = list(f.handling)
    st.session_state[f"{key}_schemes"] = list(f.schemes)
    st.session_state[f"{key}_important"] = f.important_only


def table_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Item rows as staff read them: Chinese headers, labels instead of codes, only web links."""
    return pd.DataFrame({
        "发布时间": rows["published_at"].dt.strftime("%Y-%m-%d %H:%M")
                    + rows["published_estimated"].map({True: " (估)", False: ""}).fillna(""),
        "标题": rows["title"],
        "信息源": rows["source"],
        "平台": rows["platform"].map(platform_label),
        "倾向": [tone_label(p, t) + ("（疑似负面）" if s is not pd.NA and s else "")
                 for p, t, s in zip(rows["polarity"], rows.get("topic", [None] * len(rows)),
                                    rows.get("suspect", [False] * len(rows)))],
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


# Triage from the keyboard (users.md: 监测员 need fast triage by keyboard and mouse). Letters as in mail
# readers; Streamlit reserves C and R, and ignores shortcuts while the focus is in a text field, but not
# in an open calendar: so only harmless, visible actions get a key. Changing a verdict (误判 / 应为负面)
# stays a deliberate click.
SHORTCUTS = {"next": "J", "previous": "K", "important": "S", "read": "E"}


def _step(key: str, ids: list[int], delta: int) -> None:
    current = st.session_state.get(key)
    if current in ids:
        st.session_state[key] = ids[max(0, min(len(ids) - 1, ids.index(current) + delta))]
    else:
        st.session_state[key] = ids[0]


def item_picker(rows: pd.DataFrame, key: str = "detail_item") -> int | None:
    """Which listed item to show in detail, with 上一条 / 下一条 (K / J); options are ids, labels plain text."""
    if rows.empty:
        return None
    ids = [int(i) for i in rows["id"]]
    labels = {int(r.id): f"{r.published_at:%m-%d} {r.title[:60]}" for r in rows.itertuples()}
    if st.session_state.get(key) not in ids:
        st.session_state.pop(key, None)        # the list moved on (new filter, new items): nothing stale chosen
    pos = ids.index(st.session_state[key]) if key in st.session_state else -1
    pick, prev, nxt = st.columns([6, 1.4, 1.4], vertical_alignment="bottom")   # label and key badge fit at 1280 px
    chosen = pick.selectbox("查看详情", ids, index=None, format_func=lambda i: labels.get(i, str(i)),
                            key=key, placeholder="选择一条信息查看详情和判定理由（J 下一条，K 上一条）")
    prev.button("上一条", key=f"{key}_prev", shortcut=SHORTCUTS["previous"], disabled=pos <= 0,
                on_click=_step, args=(key, ids, -1), width="stretch")
    nxt.button("下一条", key=f"{key}_next", shortcut=SHORTCUTS["next"], disabled=pos == len(ids) - 1,
               on_click=_step, args=(key, ids, 1), width="stretch")
    return chosen


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
        a.metric("倾向", tone_label(d.get("polarity"), d.get("topic")))
        b.metric("负面舆情", "是" if d.get("negative") else "疑似" if d.get("suspect") else "否")
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
        if d.get("schemes"):
            st.text("命中监测方案：" + "、".join(d["schemes"]))
        st.caption("正文摘要")
        st.text(d.get("text") or "（无正文）", width="stretch")
        if url := safe_url(d.get("url")):
            st.link_button("打开原文", url, icon=":material/open_in_new:")
        elif d.get("url"):
            st.text(f"原文链接（不可点击）：{d['url']}")
        h = d.get("handling")
        if h:
            due = f"，时限 {h['due_at'][:16].replace('T', ' ')}" if h.get("due_at") else ""
            unit = f"，承办：{h['unit']}" if h.get("unit") else ""
            st.text(f"处置状态：{HANDLING_LABELS.get(h['state'], h['state'])}{unit}{due}（在“负面处置”页办理）")
        if d.get("marks"):
            st.text("标记：" + "；".join(f"{MARK_LABELS.get(m['mark'], m['mark'])}（{m['actor']}，"
                                        f"{m['at'][:16].replace('T', ' ')}）" for m in d["marks"]))
        if d.get("corrections"):
            st.caption("人工更正")
            for c in d["corrections"]:
                st.text(f"• {CORRECTION_LABELS.get(c['field'], c['field'])} → "
                        f"{CORRECTION_VALUES.get(c['value'], c['value'])}（{users.actor_label(c['user'])}，"
                        f"{c['at'][:16].replace('T', ' ')}）{c['note']}")
        story = d.get("story") or []
        if len(story) > 1:
            st.caption(f"同一事件的报道与转载（共 {d.get('story_size', len(story))} 条）")
            st.dataframe(pd.DataFrame({
                "发布时间": [r["published_at"][:16].replace("T", " ") for r in story],
                "信息源": [r["source"] for r in story], "标题": [r["title"] for r in story],
                "链接": [safe_url(r["url"]) for r in story]}), hide_index=True, key="story_members",
                column_config={"链接": st.column_config.LinkColumn(display_text="原文", width="small")})


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
        "每轮条数": frame["items_per_run"],
        "最近错误": frame["error"],
        "地址": frame["url"],
        "已配置": frame["configured"],
    })
    st.dataframe(view, hide_index=True, key="source_health",
                 column_config={"最近错误": st.column_config.TextColumn(width="large"),
                                "启用": st.column_config.CheckboxColumn(),
                                "已配置": st.column_config.CheckboxColumn()})


# -- actions (writes go through state.write; failures are messages, nothing changes) ------

def refusal(user: users.User | None, what: str, who: str = "") -> str:
    """The short note shown where a control is withheld: read-only accounts, or a role made for other work."""
    need = f"（需要{who}角色）" if who else ""
    if user is None or user.role == "viewer":
        return f"当前角色为只读，不能{what}{need}。"
    return f"当前角色为“{users.ROLE_LABELS.get(user.role, user.role)}”，不能{what}{need}。"


def acting_as(user: users.User) -> None:
    """Who the page's writes will be recorded under (the signed-in account, or the local user)."""
    st.caption(f"当前用户：{md_escape(user.label)}")


def _flash(kind: str, msg: str) -> None:
    st.session_state["flash"] = (kind, msg)


def show_flash() -> None:
    box = st.container()       # always there: see `show_message`
    if flash := st.session_state.pop("flash", None):
        kind, msg = flash
        (box.success if kind == "ok" else box.error)(msg)


def show_message(key: str) -> None:
    """Show, once, the message a write left under `key` before its rerun. The slot exists on every run:
    an element that appears above st.tabs only sometimes makes the browser reopen the first tab, so
    staff who saved on the second tab would lose sight of what they saved (seen in Chromium)."""
    box = st.container()
    if msg := st.session_state.pop(key, None):
        box.success(msg, icon=":material/check_circle:")


VIEW_ACTIONS = ("handle", "edit_cases")


def still_signed_in(db: str, user: users.User) -> users.User | None:
    """The user as stored now (role changed, account disabled, login expired since the button was drawn?)."""
    from ui import auth  # imported here: ui.auth imports this module
    now = auth.current_user(state.store(db), state.settings())
    return now if now is not None and now.username == user.username else None


def _act(db: str, label: str, user: users.User, need: str | tuple[str, ...], audit: tuple[str, Any, dict], fn,
         *args, **kwargs) -> None:
    """One write as `user`: refused unless the role may do `need` (any of them); recorded in the audit log as
    `audit`. Checked again here because a click is handled on the run after the one that drew the button."""
    user = still_signed_in(db, user)
    if not any(users.can(user, a) for a in ((need,) if isinstance(need, str) else need)):
        _flash("error", f"{label}未完成：{refusal(user, '修改')}")
        return
    try:
        state.write_as(db, user, *audit, fn, *args, **kwargs)
    except (ValueError, KeyError) as e:
        _flash("error", f"{label}未完成：{e.args[0] if e.args else e}")
    else:
        _flash("ok", f"已{label}。" if label.startswith("删除") else f"{label}已保存。")


def can_save_views(user: users.User) -> bool:
    # Saved views are shared by all staff: anyone who works on items (not read-only accounts) may change them.
    return any(users.can(user, a) for a in VIEW_ACTIONS)


def item_actions(db: str, d: Mapping[str, Any], user: users.User) -> None:
    """标记重要 / 已读 / 误判, and corrected polarity or IP type for one item (roles with `handle`)."""
    from monitor import mark_store
    from monitor.store import Store
    from sentiment.judgement import IP_TYPES

    if not users.can(user, "handle"):
        st.caption(refusal(user, "标记、误判或更正", "处置或管理员"))
        return
    name = user.username
    item_id = int(d["id"])
    a, b, c, g = st.columns(4)
    important = any(m["mark"] == "important" for m in d.get("marks") or [])

    def act(label, audit_action, detail, fn, *args):
        return dict(on_click=_act, args=(db, label, user, "handle", (audit_action, item_id, detail), fn, *args))

    a.button("取消重要" if important else "标记重要", key="act_important", icon=":material/star:",
             shortcut=SHORTCUTS["important"],
             **act("标记", "item.mark", {"mark": "important", "on": not important},
                   mark_store.set_mark, item_id, "important", name, not important))
    b.button("标记已读", key="act_read", icon=":material/done:", shortcut=SHORTCUTS["read"],
             **act("标记", "item.mark", {"mark": "read", "on": True}, mark_store.set_mark, item_id, "read", name, True))
    if d.get("negative"):
        c.button("误判（不是负面）", key="act_misjudged", icon=":material/report_off:",
                 **act("误判更正", "item.correct", {"field": "negative", "value": "no"},
                       Store.apply_correction, item_id, "negative", "no", name))
    else:
        c.button("应为负面", key="act_negative", icon=":material/report:",
                 **act("更正", "item.correct", {"field": "negative", "value": "yes"},
                       Store.apply_correction, item_id, "negative", "yes", name))
    # Off-topic look-alikes (a logo redesign, a celebrity lawsuit) are taught to the topic model as such:
    # "误判" alone would teach it that they are IP items that happen to be calm.
    if d.get("topic") == "off":
        g.button("属于知识产权话题", key="act_on_topic", icon=":material/policy:",
                 **act("更正", "item.correct", {"field": "topic", "value": "ip"},
                       Store.apply_correction, item_id, "topic", "ip", name))
    else:
        g.button("与知识产权无关", key="act_off_topic", icon=":material/block:",
                 **act("更正", "item.correct", {"field": "topic", "value": "off"},
                       Store.apply_correction, item_id, "topic", "off", name))
    with st.form("correct_item", border=True):
        e, f = st.columns(2)
        pol = e.selectbox("更正倾向", list(POLARITY_LABELS), format_func=polarity_label,
                          index=list(POLARITY_LABELS).index(d["polarity"]) if d.get("polarity") in POLARITY_LABELS
                          else 1, key="fix_polarity")
        ipt = f.selectbox("更正知识产权类型", list(IP_TYPES),
                          index=list(IP_TYPES).index(d["ip_type"]) if d.get("ip_type") in IP_TYPES else 0,
                          key="fix_ip_type")
        note = st.text_input("说明（可选）", key="fix_note", max_chars=500)
        if st.form_submit_button("保存更正"):
            changed = False
            if pol != d.get("polarity"):
                _act(db, "倾向更正", user, "handle", ("item.correct", item_id,
                                                        {"field": "polarity", "value": pol, "note": note}),
                     Store.apply_correction, item_id, "polarity", pol, name, note)
                changed = True
            if ipt != d.get("ip_type"):
                _act(db, "类型更正", user, "handle", ("item.correct", item_id,
                                                        {"field": "ip_type", "value": ipt, "note": note}),
                     Store.apply_correction, item_id, "ip_type", ipt, name, note)
                changed = True
            if not changed:
                _flash("error", "与当前判定相同，没有需要保存的更正。")
            st.rerun()


def saved_views_bar(db: str, f: queries.ItemFilter, tick: int, user: users.User, key: str = "flt") -> None:
    from monitor import view_store
    views = state.saved_views(db, tick)
    writable = can_save_views(user)
    with st.expander("保存的视图", icon=":material/bookmarks:"):
        a, b = st.columns(2)
        names = [v["name"] for v in views]
        chosen = a.selectbox("打开视图", names, index=None, key="view_pick", placeholder="选择已保存的筛选条件")
        if chosen:
            v = next(v for v in views if v["name"] == chosen)
            a.button("应用", key="view_apply", on_click=apply_view, args=(v, key))
            if writable:
                a.button("删除", key="view_delete", on_click=_act,
                         args=(db, "删除视图", user, VIEW_ACTIONS, ("view.delete", chosen, {}),
                               view_store.delete_view, chosen))
        if not writable:
            b.caption(refusal(user, "保存或删除视图", "处置、编辑或管理员"))
            return
        name = b.text_input("把当前筛选保存为", key="view_name", max_chars=view_store.MAX_NAME)
        b.button("保存视图", key="view_save", on_click=_act,
                 args=(db, "视图", user, VIEW_ACTIONS, ("view.save", name, {}), view_store.save_view, name, f,
                       user.username, st.session_state.get(f"{key}_time")))


def export_panel(db: str, f: queries.ItemFilter) -> None:
    """Export the current view (all matches, not only the rows shown) as CSV or XLSX."""
    with st.expander("导出当前视图", icon=":material/download:"):
        fmt = st.radio("格式", ["xlsx", "csv"], horizontal=True, key="export_fmt",
                       format_func={"xlsx": "Excel (XLSX)", "csv": "CSV"}.get)
        if st.button("生成导出文件", key="export_build"):
            try:
                data, notes = state.export_view(db, f, fmt)
            except ValueError as e:
                st.error(f"无法导出：{e}")
                return
            for n in notes:
                st.warning(n)
            st.session_state["export_file"] = (fmt, f, data)
        # A file is offered only for the view and format it was built from: after a change of filters or
        # format the old download would hand out the wrong rows.
        if got := st.session_state.get("export_file"):
            fmt_, built_for, data = got
            if (fmt_, built_for) != (fmt, f):
                st.caption("筛选条件或格式已改变，请重新生成导出文件。")
                return
            st.download_button(f"下载（{len(data) // 1024 + 1} KB）", data, key="export_download",
                               file_name=f"舆情信息.{fmt_}",
                               mime="text/csv" if fmt_ == "csv" else
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def to_local(stored: str | None) -> str:
    """Stored UTC text -> 'YYYY-MM-DD HH:MM' Beijing time."""
    return (queries.to_beijing_iso(stored) or "")[:16].replace("T", " ")
