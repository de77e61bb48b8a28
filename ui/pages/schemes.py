"""监测方案: the monitoring schemes that decide which collected items are kept; admins edit them.

The file is validated and written by monitor.intake.save_scheme_list (which
audits the change); an invalid scheme is refused with every problem listed and
the file is left as it was. The collector re-reads the file every round.
"""
import pandas as pd
import streamlit as st

from collectors.schemes import GROUP_LABELS, GROUPS, SchemeError
from monitor import intake, users
from ui import auth, state, widgets

COMBINE_LABELS = {"and": "同时满足（与）", "or": "满足其一（或）"}
SCOPE_LABELS = {"full": "全文（标题和正文）", "title": "仅标题"}
WORD_KEYS = (*GROUPS, "exclude")

settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("监测方案")
st.caption("从非“全部相关”信息源采集的条目，只有命中某个已启用的方案才会保留；每条信息记录它命中的方案。"
           "主体词、地域词、事件词每组命中任一词即算命中；同义词用“|”分隔，如“知识产权|知产”。")
if msg := st.session_state.pop("schemes_message", None):
    st.success(msg, icon=":material/check_circle:")

schemes, problem = intake.load_scheme_list(settings)
if problem:
    st.error(f"监测方案文件有误，采集进程仍使用上次读到的方案。请修正文件 {intake.schemes_path(settings).name}：\n\n"
             + "\n\n".join(widgets.md_escape(line) for line in problem.splitlines()), icon=":material/error:")

if schemes:
    st.dataframe(pd.DataFrame({
        "方案": [s.name for s in schemes],
        "启用": [s.enabled for s in schemes],
        "组合": [COMBINE_LABELS[s.combine] for s in schemes],
        "范围": [SCOPE_LABELS[s.scope] for s in schemes],
        **{GROUP_LABELS[g]: ["、".join(getattr(s, g)) for s in schemes] for g in WORD_KEYS},
        "说明": [s.description for s in schemes],
    }), hide_index=True, key="schemes_table")
elif not problem:
    st.info("还没有监测方案。", icon=":material/filter_alt:")

if not auth.can(user, "edit_schemes"):
    st.caption("只有管理员可以新增或修改监测方案。")
    st.stop()
if problem:
    # Saving from here would replace a file we could not read: staff fix it by hand first.
    st.stop()

st.subheader("编辑方案")
# Schemes are picked by name, not list position: after someone else deletes one, a position points at the
# next scheme, and a save would replace that one with what was typed for another.
by_name = {sc.name: sc for sc in schemes}
if (after_save := st.session_state.pop("scheme_pick_next", None)) is not None:
    st.session_state["scheme_pick"] = after_save            # the scheme just saved (renamed or new) stays open
NEW = ""
choice = st.session_state.get("scheme_pick", NEW)
options = [NEW, *by_name] + ([choice] if choice not in by_name and choice != NEW else [])
choice = st.selectbox("选择方案", options, key="scheme_pick",
                      format_func=lambda n: "＋ 新建方案" if n == NEW else n if n in by_name else f"{n}（已不存在）")
current = by_name.get(choice)
if choice != NEW and current is None:
    st.warning(f"方案「{widgets.md_escape(choice)}」已被其他人删除或改名：请重新选择。", icon=":material/warning:")
    st.stop()
k = f"scheme_{choice}_"
with st.form(k + "form"):
    name = st.text_input("方案名称", value=current.name if current else "", key=k + "name")
    enabled = st.checkbox("启用", value=current.enabled if current else True, key=k + "enabled")
    description = st.text_input("说明", value=current.description if current else "", key=k + "description")
    a, b = st.columns(2)
    combine = a.radio("各组之间", list(COMBINE_LABELS), format_func=COMBINE_LABELS.get, horizontal=True,
                      index=list(COMBINE_LABELS).index(current.combine) if current else 0, key=k + "combine")
    scope = b.radio("匹配范围", list(SCOPE_LABELS), format_func=SCOPE_LABELS.get, horizontal=True,
                    index=list(SCOPE_LABELS).index(current.scope) if current else 0, key=k + "scope")
    words = {}
    cols = st.columns(len(WORD_KEYS))
    for col, g in zip(cols, WORD_KEYS):
        words[g] = col.text_area(f"{GROUP_LABELS[g]}（每行一个）", height=220, key=k + g,
                                 value="\n".join(getattr(current, g)) if current else "")
    save = st.form_submit_button("保存方案", type="primary")

if save:
    edited = {"name": name, "enabled": enabled, "description": description, "combine": combine, "scope": scope,
              **words}
    try:
        with auth.writer(settings) as w:
            intake.save_scheme(w, settings, edited, replaces=current.name if current else None, user=user,
                               now=auth.now())
    except (SchemeError, users.UserError) as e:
        lines = "\n\n".join(widgets.md_escape(line) for line in str(e).splitlines())
        st.error(f"未保存：\n\n{lines}", icon=":material/error:")
    else:
        st.session_state["schemes_message"] = f"已保存方案「{widgets.md_escape(name.strip())}」。"
        st.session_state["scheme_pick_next"] = " ".join(name.split())
        for key in [x for x in st.session_state if str(x).startswith(f"scheme_{NEW}_")]:
            del st.session_state[key]                       # the 新建 form starts empty next time
        st.rerun()

if current is not None and st.button("删除此方案", key=k + "remove", icon=":material/delete:"):
    try:
        with auth.writer(settings) as w:
            intake.delete_scheme(w, settings, current.name, user=user, now=auth.now())
    except (SchemeError, users.UserError) as e:
        st.error(f"未删除：{widgets.md_escape(str(e))}", icon=":material/error:")
    else:
        st.session_state["schemes_message"] = f"已删除方案「{widgets.md_escape(current.name)}」。"
        st.session_state.pop("scheme_pick", None)
        st.rerun()
