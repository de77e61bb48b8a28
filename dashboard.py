"""The dashboard's entry point: page router, shared sidebar and sample notice, logging. Nothing else.

Run: streamlit run dashboard.py  (OPINION_DB selects the database file)
"""
from __future__ import annotations

import logging

import streamlit as st

from monitor.store import StoreError
from ui import state, widgets

# Grouped as the sidebar shows them; later pages (负面处置, 热点事件, …) join a group here.
PAGES = {
    "舆情监测": [
        st.Page("ui/pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
        st.Page("ui/pages/stream.py", title="信息流", icon=":material/view_list:"),
    ],
    "案例与宣传": [
        st.Page("ui/pages/casebook.py", title="典型案例", icon=":material/gavel:"),
    ],
    "系统": [
        st.Page("ui/pages/sources.py", title="信息源", icon=":material/rss_feed:"),
    ],
}

if not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="知识产权舆情监测", page_icon=":material/policy:", layout="wide")
page = st.navigation(PAGES)

settings = state.settings()
db = state.db_key(settings)
try:
    state.store(db)
except StoreError as e:
    st.error(f"无法打开数据库：{e}", icon=":material/error:")
    st.stop()

try:
    state.autoload_sample(db, settings)
except Exception as e:  # no judge model yet, unreadable sample file: say so, keep the page usable
    logging.getLogger("dashboard").exception("sample autoload failed")
    st.warning(f"示例数据未能自动载入：{e}", icon=":material/warning:")

widgets.sidebar(settings, db)
widgets.sample_notice(settings, db)
page.run()
