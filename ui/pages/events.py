"""热点事件: stories (a report and its reposts) over a window, by reach, with trend, key sources and first appearance."""
import pandas as pd
import streamlit as st

from ui import state, widgets

settings = state.settings()
db = state.db_key(settings)
tick = state.tick(settings)

st.title("热点事件")
c1, c2 = st.columns([3, 1])
# the overview's windows too (its 热点事件 table goes to a year), so its list can be opened here
days = c1.radio("时间范围", [1, 3, 7, 30, 90, 365], index=2,
                format_func=lambda d: "今天" if d == 1 else widgets.WINDOWS.get(d, f"近{d}天"),
                horizontal=True, key="events_days")
negative_only = c2.checkbox("只看含负面的事件", key="events_negative")
stories = state.top_stories(db, days, tick, 30, negative_only)
if stories.empty:
    st.info("所选范围内没有事件。")
    st.stop()
st.caption("同一报道被多家转载合并为一个事件；按报道数（转载越多越热）排序。")
st.dataframe(pd.DataFrame({
    "标题": stories["title"], "报道数": stories["items"], "媒体数": stories["outlets"], "负面": stories["negative"],
    "首次出现": stories["first_at"].map(widgets.to_local), "首发来源": stories["source"],
    "最近": stories["last_at"].map(widgets.to_local), "链接": stories["url"].map(widgets.safe_url)}),
    hide_index=True, key="events_table",
    column_config={"标题": st.column_config.TextColumn(width="large"),
                   "链接": st.column_config.LinkColumn(display_text="原文", width="small")})

top = tuple(int(x) for x in stories["story_id"].head(8))
daily = state.story_daily(db, top, days, tick)
if not daily.empty:
    names = {int(r.story_id): r.title[:40] for r in stories.itertuples()}
    st.subheader("热度走势（前 8 个事件，每日报道数）")
    st.altair_chart(widgets.story_trend_chart(daily, names), width="stretch")

labels = {int(r.story_id): f"{r.title[:60]}（{r.items} 条）" for r in stories.itertuples()}
chosen = st.selectbox("事件详情", list(labels), index=None, format_func=lambda i: labels.get(i, str(i)), key="events_pick",
                      placeholder="选择一个事件查看传播来源")
if chosen is not None:
    row = stories.set_index("story_id").loc[chosen]
    st.subheader(widgets.md_escape(row["title"] or "（无标题）"))
    st.text(f"首次出现：{widgets.to_local(row['first_at'])}，{row['source']}；共 {row['items']} 条报道，"
            f"{row['outlets']} 家媒体")
    src = state.story_sources(db, int(chosen), tick)
    st.dataframe(pd.DataFrame({"信息源": src["source"], "平台": src["platform"].map(widgets.platform_label),
                               "报道数": src["count"], "首次": src["first_at"].map(widgets.to_local)}),
                 hide_index=True, key="events_sources")
