"""操作日志: every recorded write — who, when, what. Read-only for every role."""
import json

import pandas as pd
import streamlit as st

from monitor import notify, users
from ui import auth, state

# Labels for the actions this product records; unknown ones show as written.
ACTION_LABELS = {
    "user.add": "新建用户", "user.passwd": "修改密码", "user.role": "修改角色", "user.disable": "停用用户",
    "user.enable": "启用用户", "alert_rule.add": "新增预警规则", "alert_rule.update": "修改预警规则",
    "alert_rule.delete": "删除预警规则", "alert.acknowledge": "确认预警", "alert.test_send": "测试发送",
    "scheme.save": "保存监测方案", "import.file": "导入文件", "import.manual": "手工录入",
    "source.update": "修改信息源", "source.add": "新增信息源",
    "model.rejudge": "重新判定已存条目", "model.rollback": "恢复上一版研判模型",
}

settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("操作日志")
st.caption("系统中每一次修改都记录操作人、时间和内容；日志只能追加，不能修改或删除。")
options = users.audit_filters(store)
a, b, c = st.columns([2, 2, 1])
actor = a.selectbox("操作人", options["actors"], index=None, placeholder="全部", key="audit_actor")
action = b.selectbox("操作", options["actions"], index=None, placeholder="全部",
                     format_func=lambda x: ACTION_LABELS.get(x, x), key="audit_action")
limit = c.selectbox("显示条数", [100, 500, 2000], key="audit_limit")
rows = users.audit_log(store, limit=limit, actor=actor, action=action)
if not rows:
    st.info("还没有操作记录。", icon=":material/history:")
else:
    st.dataframe(pd.DataFrame({
        "时间": [notify.local_time(r["at"]) for r in rows],
        "操作人": [r["actor"] for r in rows],
        "角色": [users.ROLE_LABELS.get(r["role"], r["role"] or "—") for r in rows],
        "操作": [ACTION_LABELS.get(r["action"], r["action"]) for r in rows],
        "对象": [r["target"] for r in rows],
        "详情": [json.dumps(r["detail"], ensure_ascii=False) if r["detail"] else "" for r in rows],
    }), hide_index=True, key="audit_table", column_config={"详情": st.column_config.TextColumn(width="large")})
    st.caption(f"显示最近 {len(rows)} 条（北京时间）。")
