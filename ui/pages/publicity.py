"""宣传成效: the office's own releases (sources marked own = true) and how far they travelled."""
import altair as alt
import pandas as pd
import streamlit as st

from ui import state, widgets

settings = state.settings()
db = state.db_key(settings)
tick = state.tick(settings)

st.title("宣传成效")
own, problem = state.own_sources(settings)
if problem:
    st.warning(problem, icon=":material/warning:")
if not own:
    st.info("信息源配置中还没有标记为本局自有渠道的来源（在 data/sources.toml 中为该源加上 own = true）。")
    st.stop()
st.caption("本局自有渠道：" + "、".join(own))
days = st.radio("时间范围", [7, 30, 90, 365], index=1, format_func=lambda d: f"近{d}天", horizontal=True,
                key="publicity_days")
releases = state.own_reach(db, own, days, tick)
a, b, c = st.columns(3)
a.metric("发布", len(releases))
b.metric("被转载", int(releases["reposts"].sum()) if not releases.empty else 0)
c.metric("被转载的发布", int((releases["reposts"] > 0).sum()) if not releases.empty else 0)
if releases.empty:
    st.info("所选范围内本局渠道没有发布。")
    st.stop()
st.dataframe(pd.DataFrame({
    "发布时间": releases["published_at"].map(widgets.to_local), "标题": releases["title"],
    "渠道": releases["source"], "转载数": releases["reposts"], "转载媒体数": releases["outlets"],
    "链接": releases["url"].map(widgets.safe_url)}), hide_index=True, key="publicity_table",
    column_config={"标题": st.column_config.TextColumn(width="large"),
                   "链接": st.column_config.LinkColumn(display_text="原文", width="small")})

by_outlet, by_day = state.reposts_by(db, tuple(int(x) for x in releases["story_id"]), own, tick)
left, right = st.columns(2)
with left:
    st.subheader("转载媒体")
    if by_outlet.empty:
        st.caption("还没有被其他媒体转载。")
    else:
        st.altair_chart(alt.Chart(by_outlet.head(20).rename(columns={"source": "媒体", "count": "转载数"})).mark_bar()
                        .encode(y=alt.Y("媒体:N", sort="-x"), x="转载数:Q", tooltip=["媒体", "转载数"]),
                        width="stretch")
with right:
    st.subheader("每日转载")
    if by_day.empty:
        st.caption("还没有被其他媒体转载。")
    else:
        st.altair_chart(alt.Chart(by_day.assign(日期=pd.to_datetime(by_day["day"])).rename(columns={"count": "转载数"}))
                        .mark_bar().encode(x=alt.X("yearmonthdate(日期):T", title="日期", axis=alt.Axis(format="%m-%d")),
                                           y="转载数:Q"), width="stretch")
