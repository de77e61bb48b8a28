"""信息流: full-text search with filters, saved views, export, and one item's detail with its story and actions."""
from dataclasses import replace

import streamlit as st

from monitor.queries import MAX_LIMIT, beijing_today
from ui import auth, itemview, state, widgets

PAGE = 500

settings = state.settings()
db = state.db_key(settings)
tick = state.tick(settings)
user = auth.page_user(state.store(db), settings)

st.title("信息流")
widgets.acting_as(user)
widgets.show_flash()
flt = itemview.filter_bar(state.filter_options(db, tick), beijing_today())
itemview.saved_views_bar(db, flt, tick, user)
# 再显示 adds a page to the list; other filters start again from the first page
if st.session_state.get("stream_more_for") != flt:
    st.session_state.update(stream_more_for=flt, stream_limit=flt.limit)
flt = replace(flt, limit=st.session_state["stream_limit"])
result = state.item_list(db, flt, tick)
if result.error:
    st.error(f"检索式有误：{result.error}", icon=":material/error:")
for note in result.notes:
    st.warning(note, icon=":material/info:")
more = "超过 " if result.total_capped else ""
st.caption(f"匹配 {more}{result.total} 条，显示 {len(result.rows)} 条（按发布时间从新到旧）")
if result.rows.empty:
    if not result.error:
        st.info("没有符合条件的信息。可以放宽时间范围或减少筛选条件。")
else:
    widgets.item_table(result.rows, key="stream_table")
    if result.total > len(result.rows) and flt.limit < MAX_LIMIT:
        step = min(PAGE, MAX_LIMIT - flt.limit)
        if st.button(f"再显示 {step} 条", key="stream_more", icon=":material/expand_more:"):
            st.session_state["stream_limit"] = flt.limit + step
            st.rerun()
    itemview.export_panel(db, flt)
    chosen = itemview.item_picker(result.rows)
    if chosen is not None:
        detail = state.item_detail(db, chosen, tick)
        itemview.item_detail(detail)
        if detail is not None:
            itemview.item_actions(db, detail, user)
