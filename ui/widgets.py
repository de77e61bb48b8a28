"""Building blocks the pages share: labels and escaping, form start-over, shell (sidebar, sample notice),
overview tiles and charts, item tables, source health, refusals and messages. The stream's item view
(filters, detail, actions) is in ui/itemview.py.

Collected text is hostile. Item data goes only through elements that never
parse it (st.text, dataframes, widget options) or through `md_escape` when a
heading needs Markdown; nothing here uses unsafe_allow_html.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import altair as alt
import pandas as pd
import streamlit as st

from collectors.base import is_web_url
from collectors.registry import PLATFORM_LABELS
from monitor import queries, users
from monitor.settings import Settings
from ui import state

POLARITY_LABELS = {"negative": "负面", "neutral": "中性", "positive": "正面"}
POLARITY_COLORS = {"负面": "#d62728", "中性": "#9e9e9e", "正面": "#2ca02c"}
STATUS_LABELS = {"ok": "正常", "error": "失败", "not_modified": "无更新", "running": "运行中",
                 "never": "从未运行"}
WINDOWS = {7: "近7天", 30: "近30天", 90: "近90天", 365: "近一年"}
PERIOD_LABELS = {"today": "今日", "7d": "近7天", "30d": "近30天"}
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
    if x is None:
        return None
    return "持平 较上期" if round(x * 100) == 0 else f"{x:+.0%} 较上期"   # not "↓ -0%"


def _arrow(x: float | None) -> str:
    return "off" if x is not None and round(x * 100) == 0 else "auto"


# -- shell -----------------------------------------------------------------------------

def sidebar(s: Settings, db: str, live: bool = True) -> None:
    """Where the data comes from and how fresh it is, on every page; `live` pages rerun on new data."""
    from ui import auth  # imported here: ui.auth imports this module
    last = state.last_collection(db, s.stall_minutes, state.tick(s))
    with st.sidebar:
        if users.can(auth.current_user(state.store(db), s), "manage_users"):   # a server path: for admins
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
    # Staff who may not load or clear it are told who can, in the same sentence, not by a refusal beside it.
    who = "" if allowed else "由管理员"
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center") if allowed else (st.container(), None)
        if counts["sample"]:
            undated = (f"其中 {counts['sample_undated']} 条原文没有发布日期，按载入时间计入（标“估”），"
                       "所以“今日”的数字偏大。" if counts.get("sample_undated") else "")
            left.info(f"示例数据：当前显示的 {counts['sample']} 条信息来自随产品附带的示例语料（真实公开报道，"
                      f"用于演示），不是本单位采集的结果。{undated}开始采集后可{who}一键清除。", icon=":material/info:")
            if allowed:
                right.button("清除示例数据", key="remove_sample", icon=":material/delete:",
                             on_click=_remove_sample, args=(db, user), type="primary")
        else:
            left.info(f"数据库中还没有任何信息。可以先{who}载入示例数据了解系统，或启动采集（python -m collectors run）。",
                      icon=":material/inbox:")
            if allowed:
                right.button("载入示例数据", key="load_sample", icon=":material/download:",
                             on_click=_load_sample, args=(db, s, user))


# -- overview ----------------------------------------------------------------------------

def window_picker(key: str = "overview_days") -> int:
    return st.radio("统计范围", list(WINDOWS), index=1, format_func=WINDOWS.get, horizontal=True, key=key)


def period_tiles(ov: Mapping[str, Mapping[str, Any]]) -> None:
    cols = st.columns(len(PERIOD_LABELS))
    for col, (key, label) in zip(cols, PERIOD_LABELS.items()):
        p = ov[key]
        with col.container(border=True):
            st.metric(f"{label}信息量", p["total"], delta=change(p["total_change"]), delta_color="off",
                      delta_arrow=_arrow(p["total_change"]))
            a, b = st.columns(2)
            a.metric(f"{label}负面", p["negative"], delta=change(p["negative_change"]), delta_color="inverse",
                     delta_arrow=_arrow(p["negative_change"]))
            b.metric(f"{label}负面占比", percent(p["negative_share"]))
            if p.get("suspect"):
                st.caption(f"另有疑似负面 {p['suspect']} 条（信息流中勾选“疑似负面”查看）")


def trend_chart(frame: pd.DataFrame) -> alt.Chart:
    # Days as ordered bands labelled under their bar: on a time axis the labels mark where days begin, so
    # each bar sat between two labels and the last one under tomorrow's date.
    data = frame.assign(倾向=frame["polarity"].map(polarity_label),
                        日期=pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d"))
    stamps = pd.to_datetime(frame["day"])
    # every day of the span has its band, a day with nothing collected too (an empty band, not no band)
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range(stamps.min(), stamps.max(), freq="D")] if len(data) else []
    shown = days[::max(1, -(-len(days) // 15))]          # at most ~15 labels, whatever the range
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("日期:O", title="日期", scale=alt.Scale(domain=days),
                axis=alt.Axis(values=shown, labelExpr="slice(datum.value, 5)", labelAngle=0)),
        y=alt.Y("count:Q", title="信息量", stack=True),
        color=alt.Color("倾向:N", title="倾向", scale=alt.Scale(domain=list(POLARITY_COLORS),
                                                              range=list(POLARITY_COLORS.values()))),
        order=alt.Order("倾向:N"),
        tooltip=[alt.Tooltip("日期:O"), alt.Tooltip("倾向:N"), alt.Tooltip("count:Q", title="信息量")],
    ).properties(height=260)


def story_trend_chart(daily: pd.DataFrame, names: Mapping[int, str]) -> alt.Chart:
    """Reports per day for a few stories: a day without reports is a 0 (a line drawn across it suggested
    coverage that day), counts are whole numbers, and the legend beside the plot (below it, eight titles took
    most of the chart's height) shows titles up to 260 px."""
    stamps = pd.to_datetime(daily["day"])
    span = pd.date_range(stamps.min(), stamps.max(), freq="D")
    grid = pd.MultiIndex.from_product([list(dict.fromkeys(daily["story_id"])), span], names=["story_id", "日期"])
    data = (daily.assign(日期=stamps).set_index(["story_id", "日期"])["count"].reindex(grid, fill_value=0)
            .reset_index())
    data["事件"] = data["story_id"].map(lambda i: names.get(int(i), str(i)))
    return alt.Chart(data).mark_line(point=True).encode(
        # one tick a day: over two or three days Vega ticks every 12 hours and prints each date twice
        x=alt.X("yearmonthdate(日期):T", title="日期",
                axis=alt.Axis(format="%m-%d", tickCount={"interval": "day", "step": 1})),
        y=alt.Y("count:Q", title="报道数", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("事件:N", title="事件", legend=alt.Legend(orient="right", labelLimit=260)),
        tooltip=["事件", alt.Tooltip("yearmonthdate(日期):T", title="日期"), alt.Tooltip("count:Q", title="报道数")],
    ).properties(height=280)


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


def table_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Item rows as staff read them: Chinese headers, labels instead of codes, only web links. What a reader
    triages by comes first (at 1280 px the later columns need a scroll); 示例 only while sample rows show."""
    frame = pd.DataFrame({
        "发布时间": rows["published_at"].dt.strftime("%Y-%m-%d %H:%M")
                    + rows["published_estimated"].map({True: " (估)", False: ""}).fillna(""),
        "标题": rows["title"],
        "链接": rows["url"].map(safe_url),
        "倾向": [tone_label(p, t) + ("（疑似负面）" if s is not pd.NA and s else "")
                 for p, t, s in zip(rows["polarity"], rows.get("topic", [None] * len(rows)),
                                    rows.get("suspect", [False] * len(rows)))],
        "负面概率": rows["p_negative"],
        "信息源": rows["source"],
        "平台": rows["platform"].map(platform_label),
        "类型": rows["ip_type"],
        "地域": rows["region"],
        "示例": rows["is_sample"].map({True: "示例", False: ""}).fillna(""),
    })
    return frame if (frame["示例"] != "").any() else frame.drop(columns="示例")


def item_table(rows: pd.DataFrame, key: str, height: int | str = "auto") -> None:
    small = st.column_config.TextColumn(width="small")
    st.dataframe(
        table_frame(rows), hide_index=True, key=key, height=height,
        column_config={
            "标题": st.column_config.TextColumn(width="large"),
            "链接": st.column_config.LinkColumn(display_text="原文", width="small"),
            "负面概率": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.2f", width="small"),
            "平台": small, "类型": small, "示例": small,
        })


# -- sources ------------------------------------------------------------------------

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
        "暂缓至": when("waiting_until"),
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


def flash(kind: str, msg: str) -> None:
    """A message for the next run (a write reruns the page), shown by `show_flash`."""
    st.session_state["flash"] = (kind, msg)


def show_flash() -> None:
    box = st.container()       # always there: see `show_message`
    if pending := st.session_state.pop("flash", None):
        kind, msg = pending
        (box.success if kind == "ok" else box.error)(msg)


def show_message(key: str) -> None:
    """Show, once, the message a write left under `key` before its rerun. The slot exists on every run:
    an element that appears above st.tabs only sometimes makes the browser reopen the first tab, so
    staff who saved on the second tab would lose sight of what they saved (seen in Chromium)."""
    box = st.container()
    if msg := st.session_state.pop(key, None):
        box.success(msg, icon=":material/check_circle:")


def to_local(stored: str | None) -> str:
    """Stored UTC text -> 'YYYY-MM-DD HH:MM' Beijing time."""
    return (queries.to_beijing_iso(stored) or "")[:16].replace("T", " ")


def still_signed_in(db: str, user: users.User) -> users.User | None:
    """The user as stored now (role changed, account disabled, login expired since the button was drawn?)."""
    from ui import auth  # imported here: ui.auth imports this module
    now = auth.current_user(state.store(db), state.settings())
    return now if now is not None and now.username == user.username else None
