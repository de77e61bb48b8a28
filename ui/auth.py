"""The login gate and role checks for the dashboard.

- While no account exists (a fresh install), the dashboard runs in local
  single-user mode: everyone who can open it acts as `users.LOCAL_USER`
  (admin), and a banner says how to create the first admin. Once any account
  exists, every page needs a login.
- A login lives in `st.session_state[SESSION_KEY]` as the plain dict made by
  `monitor.users.start_session`; it ends after `idle_minutes` without a rerun,
  and at once when the account is disabled. The browser keeps the login's
  sign-in token in a cookie (COOKIE, set by a one-line script once after
  signing in; it ends with the browser), so reloading the tab or opening a
  second one resumes the login instead of asking for the password again.
- Wrong passwords are rate-limited per user name in `monitor.users`.

dashboard.py calls `require_login(store, settings)` before `page.run()` and
stops when it returns None; pages call `page_user(store, settings)` and
`can(user, action)`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import streamlit as st

from monitor import alerts, notify, users
from monitor.settings import Settings
from monitor.store import DatabaseError, Store, StoreError
from monitor.users import User
from ui import widgets

log = logging.getLogger(__name__)
SESSION_KEY = "auth"
_MESSAGE_KEY = "auth_message"
_COOKIE_KEY = "auth_cookie"        # what the next run does to the browser's cookie: ("set" | "clear", token)
_ENDED_KEY = "auth_ended_token"    # the token this tab signed out with: the tab's cookie copy is stale
COOKIE = "ipow_signin"
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
        session = _resume_from_cookie(store, settings)
        if session is None:
            return None
    try:
        user = users.check_session(store, session, now(), idle_minutes(settings))
    except users.SessionExpired as e:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state[_MESSAGE_KEY] = str(e)
        _forget_token(session.get("token"))
        return None
    users.touch(session, now())
    if users.needs_saving(session, now()):
        try:
            with writer(settings) as w:
                users.save_seen(w, session, now())
        except (StoreError, DatabaseError):     # a busy or read-only file: this tab goes on; a reload may ask
            log.warning("could not record activity of sign-in", exc_info=True)
    return user


def browser_token() -> str:
    """The sign-in token the browser sent when this tab connected ('' for none)."""
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:   # no browser behind this session (a bare script run): nothing to resume
        return ""
    return value if isinstance(value, str) else ""   # AppTest's stand-in client answers with a mock


def _resume_from_cookie(store: Store, settings: Settings) -> dict | None:
    token = browser_token()
    if not token or token == st.session_state.get(_ENDED_KEY):
        return None     # no cookie, or the one this tab connected with has ended (Streamlit keeps that copy)
    try:
        session = users.resume(store, token, now(), idle_minutes(settings))
    except users.SessionExpired as e:
        st.session_state[_MESSAGE_KEY] = str(e)
        _forget_token(token)
        return None
    st.session_state[SESSION_KEY] = session
    return session


def _forget_token(token: str | None) -> None:
    if token:
        st.session_state[_ENDED_KEY] = token
        st.session_state[_COOKIE_KEY] = ("clear", token)


def _cookie_script() -> None:
    """Write or clear the sign-in cookie in the browser, once, when a login started or ended.

    Clearing only removes the token this tab knew: another tab of the same browser may have signed in
    since, and its cookie must survive this tab finding its own login ended. The element hides its own
    container, so the page does not shift by a row's gap for one run."""
    pending = st.session_state.pop(_COOKIE_KEY, None)
    if not pending:
        return
    what, token = pending
    if what == "set" and not users.is_token(token):    # ours (URL-safe base64): checked all the same
        return
    if what == "clear" and not users.is_token(token):  # a mangled cookie: never put into the script, just gone
        js = f'document.cookie = "{COOKIE}=; Path=/; Max-Age=0";'
    elif what == "set":
        # No Max-Age: the cookie ends with the browser; the server's idle and age limits end it sooner.
        js = (f'document.cookie = "{COOKIE}={token}; Path=/; SameSite=Strict"'
              ' + (location.protocol === "https:" ? "; Secure" : "");')
    else:
        js = (f'if (document.cookie.split("; ").includes("{COOKIE}={token}"))'
              f' document.cookie = "{COOKIE}=; Path=/; Max-Age=0";')
    st.html('<style>[data-testid="stElementContainer"]:has(#ipow-signin){display:none}</style>'
            f'<span id="ipow-signin"></span><script>{js}</script>', unsafe_allow_javascript=True)


def require_login(store: Store, settings: Settings) -> User | None:
    """The signed-in user (or the local user while no account exists); None after drawing the login form."""
    user = current_user(store, settings)
    if user is users.LOCAL_USER:
        local_mode_banner()
        return user
    if user is not None:
        _account_box(user, settings)
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
               f"在“账号”页或服务器上（`{FIRST_ADMIN_COMMAND}`）创建第一个管理员后即需登录。",
               icon=":material/person_off:")


def _logout(settings: Settings) -> None:
    session = st.session_state.pop(SESSION_KEY, None)
    try:
        with writer(settings) as w:
            users.end_session(w, session)
    except (StoreError, DatabaseError):         # signed out here all the same; the cookie is cleared below
        log.warning("could not end sign-in in the database", exc_info=True)
    st.session_state[_MESSAGE_KEY] = "已退出登录。"
    _forget_token((session or {}).get("token") or browser_token())


def _account_box(user: User, settings: Settings) -> None:
    with st.sidebar:
        _cookie_script()
        st.caption("当前用户")
        st.text(user.label)
        st.button("退出登录", key="auth_logout", icon=":material/logout:", on_click=_logout, args=(settings,))


def login_form(settings: Settings) -> None:
    _cookie_script()
    st.title("知识产权舆情监测")
    if msg := st.session_state.pop(_MESSAGE_KEY, None):
        st.info(msg, icon=":material/info:")
    # a sign-in box of a readable width, not stretched across a wide screen
    with st.container(width=420), st.form("login"):
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
    start_login(settings, user, t)
    st.rerun()


def start_login(settings: Settings, user: User, at: datetime | None = None) -> None:
    """Sign `user` in for this tab and, on the next run, in the browser's cookie (a new sign-in token)."""
    t = at or now()
    with writer(settings) as w:
        token = users.remember(w, user, t, idle_minutes(settings))
    st.session_state[SESSION_KEY] = users.start_session(user, t, token)
    st.session_state[_COOKIE_KEY] = ("set", token)


def login_notice(message: str) -> None:
    """A note the login form shows once (after the first account was created, say)."""
    st.session_state[_MESSAGE_KEY] = message


def alert_banner(store: Store, settings: Settings) -> None:
    """Unacknowledged alerts of the last day, above every page (the dashboard channel)."""
    b = alerts.banner(store, now())
    if not b["count"]:
        return
    latest = b["latest"][0]
    when = notify.local_time(latest["fired_at"])[5:]
    st.error(f"{b['count']} 条预警待确认。最新（{when}）：{widgets.md_escape(latest['title'])} —— 请到“预警”页查看并确认。",
             icon=":material/notifications_active:")
