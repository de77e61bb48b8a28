"""账号: everyone changes their own password; admins add accounts, change roles and display names, reset
passwords, and disable or enable accounts. Each action is one `monitor.users` function (validated,
audited); the command line offers the same (`python -m monitor users …`).

While no account exists (local single-user mode), this is where the first administrator is created.
"""
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from monitor import users
from ui import auth, state, widgets

settings = state.settings()
db = state.db_key(settings)
user = auth.page_user(state.store(db), settings)

st.title("账号")
widgets.show_message("accounts_message")
if conflict := st.session_state.pop("accounts_conflict", None):
    st.error(f"账号 {conflict} 刚被他人修改过，下面显示的是最新内容，请核对后再保存。", icon=":material/error:")
ADD_FIELDS = ("add_name", "add_display", "add_pw", "add_pw2")
if st.session_state.pop("accounts_added", False):
    for k in ADD_FIELDS:        # set, not popped: a popped key would come back with what the browser still shows
        st.session_state[k] = ""
    st.session_state["add_role"] = "viewer"     # the next account does not inherit the last one's role


def now() -> datetime:
    return datetime.now(timezone.utc)


def done(message: str) -> None:
    st.session_state["accounts_message"] = message
    st.rerun()


def new_password(prefix: str, label: str = "新密码") -> tuple[str, str]:
    a = st.text_input(label, type="password", key=f"{prefix}_pw", max_chars=users.MAX_PASSWORD)
    b = st.text_input("再输入一次", type="password", key=f"{prefix}_pw2", max_chars=users.MAX_PASSWORD)
    return a, b


def same_twice(a: str, b: str) -> bool:
    if a != b:
        st.error("两次输入的密码不一致。", icon=":material/error:")
        return False
    return True


local = user is users.LOCAL_USER
if not local:
    with st.expander("修改我的密码", icon=":material/key:"):
        with st.form("own_password", clear_on_submit=True):
            current = st.text_input("当前密码", type="password", key="own_current", max_chars=users.MAX_PASSWORD)
            pw, pw2 = new_password("own")
            if st.form_submit_button("修改密码") and same_twice(pw, pw2):
                try:
                    with auth.writer(settings) as w:
                        users.change_own_password(w, user, current, pw, now())
                    auth.start_login(settings, user)         # the change ended every sign-in, this one too
                except users.UserError as e:
                    st.error(widgets.md_escape(str(e)), icon=":material/error:")
                else:
                    done("密码已修改。其他窗口和设备上的登录已失效，需要用新密码重新登录。")

if not auth.can(user, "manage_users"):
    st.caption(widgets.refusal(user, "管理账号", "管理员"))
    st.stop()

rows = users.account_rows(state.store(db), now())
if local:
    st.info("本机单用户模式：还没有任何账号，能打开本页的人都拥有管理员权限。在下面创建第一个管理员账号后，"
            "所有页面都需要登录。", icon=":material/person_off:")
else:
    st.dataframe(pd.DataFrame({
        "用户名": [r["username"] for r in rows], "显示名": [r["display_name"] for r in rows],
        "角色": [r["role_label"] for r in rows], "状态": ["在用" if r["active"] else "已停用" for r in rows],
        "最近登录": [r["last_login"] for r in rows], "有效登录": [r["signed_in"] for r in rows],
    }), hide_index=True, key="accounts_table", column_config={"有效登录": st.column_config.NumberColumn(
        help=f"{users.DEFAULT_IDLE_MINUTES} 分钟内用过、尚未退出的登录；关闭浏览器而没点“退出登录”的也计入")})

tab_add, tab_edit = st.tabs(["新建账号", "修改账号"])
with tab_add:
    with st.form("add_account", clear_on_submit=False):
        name = st.text_input("用户名（登录用，字母或数字开头）", key="add_name", max_chars=32)
        display = st.text_input("显示名（如 王丽）", key="add_display", max_chars=32)
        role = st.selectbox("角色", users.ROLES, index=users.ROLES.index("admin" if local else "viewer"),
                            format_func=users.ROLE_LABELS.get, key="add_role", disabled=local)
        pw, pw2 = new_password("add", "初始密码（至少 8 个字符，请当面告知本人并请其修改）")
        if st.form_submit_button("新建账号", type="primary") and same_twice(pw, pw2):
            try:
                with auth.writer(settings) as w:
                    made = users.add_user(w, name, pw, "admin" if local else role, actor=user, now=now(),
                                          display_name=display)
            except users.UserError as e:
                st.error(widgets.md_escape(str(e)), icon=":material/error:")
            else:
                st.session_state["accounts_added"] = True
                if local:       # from now on every page asks for a login: say so on the login form
                    auth.login_notice(f"已新建管理员账号 {made.username}，请用它登录。")
                    st.rerun()
                done(f"已新建账号 {widgets.md_escape(made.label)}。")

with tab_edit:
    if not rows:
        st.caption("还没有账号。")
    else:
        names = [r["username"] for r in rows]
        # Options are bare user names: a label that changed with a save (display name, role) made Streamlit
        # draw a new picker, and the next click on 停用账号/重置密码 went to no account.
        pick = st.selectbox("选择账号", names, key="edit_pick")
        row = next(r for r in rows if r["username"] == pick)
        st.caption(f"{widgets.md_escape(row['display_name'] or '无显示名')}，{row['role_label']}"
                   f"{'' if row['active'] else '，已停用'}")
        # The form edits what it was drawn with: a save writes only the fields changed here, and refuses
        # when someone else changed one of them since (an admin on the command line, a second tab).
        gen = st.session_state.get(f"edit_gen_{pick}", 0)
        base = st.session_state.setdefault(f"edit_base_{pick}_{gen}", (row["display_name"], row["role"]))

        def reload_form() -> None:
            st.session_state[f"edit_gen_{pick}"] = gen + 1

        with st.form(f"edit_{pick}_{gen}"):
            disp = st.text_input("显示名", value=base[0], key=f"edit_display_{pick}_{gen}", max_chars=32)
            new_role = st.selectbox("角色", users.ROLES, index=users.ROLES.index(base[1]),
                                    format_func=users.ROLE_LABELS.get, key=f"edit_role_{pick}_{gen}")
            if st.form_submit_button("保存"):
                try:
                    with auth.writer(settings) as w:
                        users.update_account(w, pick, seen={"display_name": base[0], "role": base[1]},
                                             wanted={"display_name": disp, "role": new_role}, actor=user, now=now())
                except users.AccountChanged:
                    reload_form()                  # show the stored values, and say why
                    st.session_state["accounts_conflict"] = pick
                    st.rerun()
                except users.UserError as e:
                    st.error(widgets.md_escape(str(e)), icon=":material/error:")
                else:
                    reload_form()
                    done(f"已保存账号 {pick}。")
        if pick == user.username:
            st.caption("修改自己的密码请用上方“修改我的密码”（需输入当前密码）。")
        else:
            with st.form(f"reset_{pick}", clear_on_submit=True):
                pw, pw2 = new_password(f"reset_{pick}", "重置密码为")
                if st.form_submit_button("重置密码") and same_twice(pw, pw2):
                    try:
                        with auth.writer(settings) as w:
                            users.set_password(w, pick, pw, actor=user, now=now())
                    except users.UserError as e:
                        st.error(widgets.md_escape(str(e)), icon=":material/error:")
                    else:
                        done(f"已重置 {pick} 的密码，其登录已全部失效。")
        if pick == user.username:
            st.caption("不能停用自己正在使用的账号。")
        elif st.button("停用账号" if row["active"] else "启用账号", key=f"toggle_{pick}",
                       icon=":material/person_off:" if row["active"] else ":material/person:"):
            try:
                with auth.writer(settings) as w:
                    users.set_active(w, pick, not row["active"], actor=user, now=now())
            except users.UserError as e:
                st.error(widgets.md_escape(str(e)), icon=":material/error:")
            else:
                done(f"已{'停用' if row['active'] else '启用'}账号 {pick}。")
