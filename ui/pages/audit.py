"""操作日志: every recorded write — who, when, what. Read-only for every role."""
import streamlit as st

from monitor import audit, users
from ui import auth, state

settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("操作日志")
st.caption("系统中每一次修改都记录操作人、时间和内容；日志只能追加，不能修改或删除。")
options = users.audit_filters(store)
a, b, c = st.columns([2, 2, 1])
actor = a.selectbox("操作人", options["actors"], index=None, placeholder="全部", key="audit_actor",
                     format_func=users.actor_label)
action = b.selectbox("操作", options["actions"], index=None, placeholder="全部",
                     format_func=audit.action_label, key="audit_action")
limit = c.selectbox("显示条数", [100, 500, 2000], key="audit_limit")
log = audit.entries(store, limit=limit, actor=actor, action=action)
if log.empty:
    st.info("还没有操作记录。", icon=":material/history:")
else:
    st.dataframe(log, hide_index=True, key="audit_table",
                 column_config={"详情": st.column_config.TextColumn(width="large")})
    st.caption(f"显示最近 {len(log)} 条（北京时间）。")
