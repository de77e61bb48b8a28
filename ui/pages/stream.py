"""信息流: filters, the matching items, and one item's detail with the reasons it was flagged."""
import streamlit as st

from monitor.queries import beijing_today
from ui import state, widgets

settings = state.settings()
db = state.db_key(settings)
tick = state.tick(settings)

st.title("信息流")
flt = widgets.filter_bar(state.filter_options(db, tick), beijing_today())
result = state.item_list(db, flt, tick)
for note in result.notes:
    st.warning(note, icon=":material/info:")
st.caption(f"匹配 {result.total} 条，显示 {len(result.rows)} 条（按发布时间从新到旧）")
if result.rows.empty:
    st.info("没有符合条件的信息。可以放宽时间范围或减少筛选条件。")
else:
    widgets.item_table(result.rows, key="stream_table")
    chosen = widgets.item_picker(result.rows)
    if chosen is not None:
        widgets.item_detail(state.item_detail(db, chosen, tick))
