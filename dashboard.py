"""The dashboard's entry point: login gate, page router, shared sidebar and notices, logging. Nothing else.

Run: streamlit run dashboard.py  (OPINION_DB selects the database file)
"""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from monitor.store import StoreError
from ui import auth, state, widgets

# Grouped as the sidebar shows them.
PAGES = {
    "舆情监测": [
        st.Page("ui/pages/overview.py", title="总览", icon=":material/dashboard:", default=True),
        st.Page("ui/pages/stream.py", title="信息流", icon=":material/view_list:"),
        st.Page("ui/pages/handling.py", title="负面处置", icon=":material/assignment_late:"),
        st.Page("ui/pages/events.py", title="热点事件", icon=":material/local_fire_department:"),
        st.Page("ui/pages/alerts.py", title="预警", icon=":material/notifications:"),
    ],
    "简报与宣传": [
        st.Page("ui/pages/briefings.py", title="舆情简报", icon=":material/description:"),
        st.Page("ui/pages/cases.py", title="典型案例", icon=":material/gavel:"),
        st.Page("ui/pages/publicity.py", title="宣传成效", icon=":material/campaign:"),
    ],
    "系统": [
        st.Page("ui/pages/imports.py", title="导入", icon=":material/upload_file:"),
        st.Page("ui/pages/sources.py", title="信息源", icon=":material/rss_feed:"),
        st.Page("ui/pages/schemes.py", title="监测方案", icon=":material/filter_alt:"),
        st.Page("ui/pages/model.py", title="研判模型", icon=":material/model_training:"),
        st.Page("ui/pages/audit.py", title="操作日志", icon=":material/history:"),
        st.Page("ui/pages/accounts.py", title="账号", icon=":material/manage_accounts:"),
        st.Page("ui/pages/backups.py", title="数据备份", icon=":material/backup:"),
    ],
}

# Pages staff keep open to watch: they rerun when new data arrives. The others are where staff type (cases,
# briefings, schemes, imports ...), and a rerun mid-edit would be a surprise.
LIVE_PAGES = {"总览", "信息流", "负面处置", "热点事件", "预警", "信息源", "宣传成效"}

if not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

# a local file: a :material/…: page icon is fetched from fonts.gstatic.com, which an intranet cannot reach
st.set_page_config(page_title="知识产权舆情监测", page_icon=str(Path(__file__).parent / "ui" / "static" / "favicon.png"),
                   layout="wide")

settings = state.settings()
db = state.db_key(settings)
try:
    store = state.store(db)
except StoreError as e:
    st.error(f"无法打开数据库：{e}", icon=":material/error:")
    st.stop()

# The router comes before the login gate, so a link to one page (/model, say) still leads there after
# signing in; its menu stays hidden until someone is signed in. All pages are listed: the office has
# few, and a "View more" fold hid the system pages from the admins who need them.
signed_in = auth.current_user(store, settings) is not None
page = st.navigation(PAGES, position="sidebar" if signed_in else "hidden", expanded=True)
# Accounts exist: sign in first. No account yet: local single-user mode with a banner.
if auth.require_login(store, settings) is None:
    st.stop()

try:
    state.autoload_sample(db, settings)
except Exception as e:  # no judge model yet, unreadable sample file: say so, keep the page usable
    logging.getLogger("dashboard").exception("sample autoload failed")
    st.warning(f"示例数据未能自动载入：{e}", icon=":material/warning:")

widgets.sidebar(settings, db, live=page.title in LIVE_PAGES)
widgets.sample_notice(settings, db)
auth.alert_banner(store, settings)
page.run()
