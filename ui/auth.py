"""The login gate and role checks for the dashboard.

- While no account exists (a fresh install), the dashboard runs in local
  single-user mode: everyone who can open it acts as `users.LOCAL_USER`
  (admin), and a banner says how to create the first admin. Once any account
  exists, every page needs a login.
- A login lives in `st.session_state[SESSION_KEY]` as the plain dict made by
  `monitor.users.start_session`; it ends after `idle_minutes` without a rerun,
  and at once when the account is disabled. Reloading the browser tab starts a
  new Streamlit session and asks for the password again (Streamlit cannot set
  cookies; the office's SSO via `st.login` will replace this, see
  docs/operations.md).
- Wrong passwords are rate-limited per user name in `monitor.users`.

dashboard.py calls `require_login(store, settings)` before `page.run()` and
stops when it returns None; pages call `page_user(store, settings)` and
`can(user, action)`.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import streamlit as st

from monitor import alerts, notify, users
from monitor.settings import Settings
from monitor.store import Store
from monitor.users import User
from ui import widgets

SESSION_KEY = "auth"
_MESSAGE_KEY = "auth_message"
FIRST_ADMIN_COMMAND = "python -m monitor users add 用户名 --role admin"


def now() -> datetime:
    return datetime.now(timezone.utc)


def idle_minutes(settings: Settings) -> int:
    return int(getattr(settings, "session_idle_minutes", users.DEFAULT_IDLE_MINUTES))


def can(user: User | None, action: str) -> bool:
    return users.can(user, action)


def session_for(user: User, at: datetime | None = None) -> dict:
    """The session_state value for a signed-in user (tests put it in place with this)."""
    return users.start_session(user, at or now())


@contextmanager
def writer(settings: Settings) -> Iterator[Store]:
    """A short-lived writable store: the cached dashboard connection is read-only."""
    store = Store(settings.db_path)
    try:
        yield store
    finally:
        store.close()


def current_user(store: Store, settings: Settings) -> User | None:
    """The acting user without drawing anything: local admin without accounts, the session's user, or None."""
    if not users.has_users(store):
        return users.LOCAL_USER
    session = st.session_state.get(SESSION_KEY)
    if not session:
        return None
    try:
        user = users.check_session(store, session, now(), idle_minutes(settings))
    except users.SessionExpired as e:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state[_MESSAGE_KEY] = str(e)
        return None
    users.touch(session, now())
    return user


def require_login(store: Store, settings: Settings) -> User | None:
    """The signed-in user (or the local user while no account exists); None after drawing the login form."""
    user = current_user(store, settings)
    if user is users.LOCAL_USER:
        local_mode_banner()
        return user
    if user is not None:
        _account_box(user)
        return user
    login_form(settings)
    return None


def page_user(store: Store, settings: Settings) -> User:
    """For page scripts: the acting user, or a note and st.stop() when nobody is signed in."""
    user = current_user(store, settings)
    if user is None:
        st.warning("请先登录。", icon=":material/lock:")
        st.stop()
    return user


def local_mode_banner() -> None:
    st.warning("本机单用户模式：系统还没有任何账号，能打开本页的人都拥有管理员权限。"
               f"在服务器上创建第一个管理员后即需登录：`{FIRST_ADMIN_COMMAND}`",
               icon=":material/person_off:")


def _logout() -> None:
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[_MESSAGE_KEY] = "已退出登录。"


def _account_box(user: User) -> None:
    with st.sidebar:
        st.caption("当前用户")
        st.text(user.label)
        st.button("退出登录", key="auth_logout", icon=":material/logout:", on_click=_logout)


def login_form(settings: Settings) -> None:
    st.title("知识产权舆情监测")
    if msg := st.session_state.pop(_MESSAGE_KEY, None):
        st.info(msg, icon=":material/info:")
    with st.form("login"):
        st.subheader("登录")
        name = st.text_input("用户名", key="login_username")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if not submitted:
        return
    t = now()
    try:
        with writer(settings) as w:
            user = users.authenticate(w, name, password, t)
    except users.LoginError as e:
        st.error(str(e), icon=":material/error:")
        return
    st.session_state[SESSION_KEY] = users.start_session(user, t)
    st.rerun()


def alert_banner(store: Store, settings: Settings) -> None:
    """Unacknowledged alerts of the last day, above every page (the dashboard channel)."""
    b = alerts.banner(store, now())
    if not b["count"]:
        return
    latest = b["latest"][0]
    when = notify.local_time(latest["fired_at"])[5:]
    st.error(f"{b['count']} 条预警待确认。最新（{when}）：{widgets.md_escape(latest['title'])} —— 请到“预警”页查看并确认。",
             icon=":material/notifications_active:")
