"""The login gate and the 预警 / 操作日志 pages per role, under Streamlit's AppTest on a real SQLite file.

Pages run standalone with OPINION_DB set and the signed-in user placed in
session_state the way ui/auth.py keeps it (auth.session_for).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.base import Item
from monitor import alerts, users
from monitor.settings import Settings
from monitor.store import Store
from sentiment.judgement import Judgement
from tests.test_notify import Robot
from ui import auth
from tests.conftest import role_accounts

ROOT = Path(__file__).resolve().parent.parent
ALERTS_PAGE = str(ROOT / "ui" / "pages" / "alerts.py")
AUDIT_PAGE = str(ROOT / "ui" / "pages" / "audit.py")
PW = "office pass 1"
HOSTILE = "维权难 **加粗** <script>alert(1)</script>"


def gate_app():
    import streamlit as st

    from ui import auth, state

    settings = state.settings()
    store = state.store(state.db_key(settings))
    user = auth.require_login(store, settings)
    if user is None:
        st.stop()
    auth.alert_banner(store, settings)
    st.text(f"content for {user.username} ({user.role})")


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "opinion.db"
    monkeypatch.setenv("OPINION_DB", str(path))
    monkeypatch.setenv("OPINION_CONFIG", str(tmp_path / "no-config.toml"))
    Store(path).close()
    return path


@pytest.fixture
def accounts(db):
    with Store(db) as s:
        return role_accounts(s, PW)


@pytest.fixture
def firing(db, accounts):
    """One stored rule and one alert with a hostile title."""
    now = datetime.now(timezone.utc)
    with Store(db) as s:
        alerts.save_rule(s, alerts.parse_rule("关注词", "watchword", {"words": ["维权难"]}, {}),
                         actor=accounts["admin"], now=now)
        s.add_items([(Item(source="人民网", url="https://news.example/1", title=HOSTILE, text="正文",
                           published_at=now, fetched_at=now, platform="news"),
                      Judgement(negative=True, p_negative=0.9, polarity="negative"))])
        [fid] = alerts.evaluate(s, Settings.load(db=db, env={}), now).fired
    return fid


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("text", "markdown", "caption", "info", "warning", "error", "success")
                     for e in getattr(at, kind))


def table(at: AppTest, column: str):
    """The one dataframe on the page that has this column (dataframes have no widget key to find them by)."""
    [df] = [d.value for d in at.dataframe if column in d.value.columns]
    return df


def page(path: str, user: users.User | None, **state) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    if user is not None:
        at.session_state[auth.SESSION_KEY] = auth.session_for(user)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


# -- the gate ----------------------------------------------------------------------------------------

def test_without_accounts_the_dashboard_is_usable_with_a_banner(db):
    at = AppTest.from_function(gate_app, default_timeout=60).run()
    assert not at.exception
    assert "content for local (admin)" in texts(at)
    [banner] = at.warning
    assert "本机单用户模式" in banner.value and "python -m monitor users add" in banner.value


def test_login_required_once_an_account_exists(db, accounts):
    at = AppTest.from_function(gate_app, default_timeout=60).run()
    assert "content for" not in texts(at)
    at.text_input(key="login_username").input("handler1")
    at.text_input(key="login_password").input("wrong password")
    at.button[0].click().run()
    assert "用户名或密码不正确" in at.error[0].value and "content for" not in texts(at)
    at.text_input(key="login_password").input(PW)
    at.button[0].click().run()
    assert not at.exception
    assert "content for handler1 (handler)" in texts(at)
    assert at.session_state[auth.SESSION_KEY]["username"] == "handler1"
    # sign out from the sidebar
    at.button(key="auth_logout").click().run()
    assert "content for" not in texts(at) and "已退出登录" in texts(at)


def test_wrong_passwords_lock_the_login_form(db, accounts):
    at = AppTest.from_function(gate_app, default_timeout=60).run()
    for _ in range(users.MAX_FAILURES):
        at.text_input(key="login_username").input("viewer1")
        at.text_input(key="login_password").input("not the password")
        at.button[0].click().run()
    at.text_input(key="login_password").input(PW)
    at.button[0].click().run()
    assert "已暂时锁定" in at.error[0].value and "content for" not in texts(at)


def test_an_idle_session_expires(db, accounts):
    at = AppTest.from_function(gate_app, default_timeout=60)
    stale = auth.session_for(accounts["editor"], datetime.now(timezone.utc) - timedelta(hours=3))
    at.session_state[auth.SESSION_KEY] = stale
    at.run()
    assert "content for" not in texts(at)
    assert "登录已过期" in texts(at)
    fresh = AppTest.from_function(gate_app, default_timeout=60)
    fresh.session_state[auth.SESSION_KEY] = auth.session_for(accounts["editor"])
    assert "content for editor1 (editor)" in texts(fresh.run())


def _cookie_scripts(at: AppTest) -> list[str]:
    return [str(e.proto.body) for e in at.get("html")]


def test_a_reload_resumes_the_login_from_the_browser_cookie(db, accounts, monkeypatch):
    """Signing in writes the token to the browser once; a new tab (a reload) that sends it back is signed
    in without the form; signing out ends it for every tab, and the stale copy a tab holds is not used."""
    cookie = {"token": ""}
    monkeypatch.setattr(auth, "browser_token", lambda: cookie["token"])
    at = AppTest.from_function(gate_app, default_timeout=60).run()
    at.text_input(key="login_username").input("handler1")
    at.text_input(key="login_password").input(PW)
    at.button[0].click().run()
    token = at.session_state[auth.SESSION_KEY]["token"]
    assert users.is_token(token)
    [script] = _cookie_scripts(at)
    assert f'document.cookie = "{auth.COOKIE}={token}; Path=/; SameSite=Strict"' in script
    assert not _cookie_scripts(at.run())                       # written once, not on every rerun

    cookie["token"] = token                                    # the browser sends it on reload
    reloaded = AppTest.from_function(gate_app, default_timeout=60).run()
    assert "content for handler1 (handler)" in texts(reloaded) and not reloaded.text_input
    with Store(db) as s:
        assert users.resume(s, token, datetime.now(timezone.utc))["username"] == "handler1"

    reloaded.button(key="auth_logout").click().run()
    assert "已退出登录" in texts(reloaded) and "登录已失效" not in texts(reloaded)
    [clear] = _cookie_scripts(reloaded)
    assert f'includes("{auth.COOKIE}={token}")) document.cookie = "{auth.COOKIE}=; Path=/; Max-Age=0"' in clear
    reloaded.run()                                             # the tab still holds the stale cookie copy
    assert "content for" not in texts(reloaded) and "登录已失效" not in texts(reloaded)
    assert "content for" not in texts(at.run())                # the first tab is signed out too
    assert "已退出登录" in texts(at)
    again = AppTest.from_function(gate_app, default_timeout=60).run()   # a reload with the old cookie
    assert "content for" not in texts(again) and "登录已失效" in texts(again)


def test_a_cookie_of_a_disabled_account_or_garbage_signs_nobody_in(db, accounts, monkeypatch):
    with Store(db) as s:
        token = users.remember(s, accounts["editor"], datetime.now(timezone.utc))
        users.set_active(s, "editor1", False, actor="cli:test", now=datetime.now(timezone.utc))
    for sent in (token, "garbage", "x" * 43, '<script>alert(1)</script>"; x="'):
        monkeypatch.setattr(auth, "browser_token", lambda sent=sent: sent)
        at = AppTest.from_function(gate_app, default_timeout=60).run()
        assert not at.exception and "content for" not in texts(at) and at.text_input(key="login_username")
        [clear] = _cookie_scripts(at)                      # the bad cookie is removed, never echoed
        assert "Max-Age=0" in clear and (users.is_token(sent) or sent not in clear)


def test_an_unwritable_database_does_not_end_a_signed_in_tab(db, accounts, monkeypatch):
    from monitor.store import StoreError
    earlier = datetime.now(timezone.utc) - timedelta(minutes=5)
    with Store(db) as s:
        token = users.remember(s, accounts["handler"], earlier)
    at = AppTest.from_function(gate_app, default_timeout=60)
    at.session_state[auth.SESSION_KEY] = users.start_session(accounts["handler"], earlier, token)

    def refuse(settings):
        raise StoreError("attempt to write a readonly database")

    monkeypatch.setattr(auth, "writer", refuse)
    at.run()
    assert not at.exception and "content for handler1 (handler)" in texts(at)
    at.button(key="auth_logout").click().run()                  # signs out here all the same
    assert not at.exception and "已退出登录" in texts(at)


def test_alert_banner_shows_unacknowledged_alerts_as_text(db, accounts, firing):
    at = AppTest.from_function(gate_app, default_timeout=60)
    at.session_state[auth.SESSION_KEY] = auth.session_for(accounts["viewer"])
    at.run()
    [banner] = at.error
    assert banner.value.startswith("1 条预警待确认")
    assert "\\*\\*加粗\\*\\*" in banner.value and "\\<script\\>" in banner.value   # escaped, never markup


# -- 预警 page per role ---------------------------------------------------------------------------------

def test_pages_ask_for_login_when_accounts_exist(db, accounts):
    for path in (ALERTS_PAGE, AUDIT_PAGE):
        at = page(path, None)
        assert not at.exception and "请先登录" in at.warning[0].value and not at.title


def test_viewer_can_read_alerts_but_change_nothing(db, accounts, firing):
    at = page(ALERTS_PAGE, accounts["viewer"], alerts_pick=firing)
    assert not at.exception
    assert table(at, "预警")["预警"].tolist() == [f"关注词「维权难」：{HOSTILE}"]
    assert table(at, "内容")["规则"].tolist() == ["关注词"]
    assert at.button == [] and len(at.get("form")) == 0 and at.text_input == []
    assert "只读账号不能确认预警" in texts(at) and "只有管理员可以新增或修改预警规则" in texts(at)


def test_handler_acknowledges_an_alert_and_it_is_audited(db, accounts, firing):
    at = page(ALERTS_PAGE, accounts["handler"], alerts_pick=firing)
    assert [b.key for b in at.button] == ["alerts_ack"]          # no rule editing, no test send
    at.button(key="alerts_ack").click().run()
    assert not at.exception and "已确认该预警" in texts(at)
    with Store(db) as s:
        f = alerts.firing_detail(s, firing)
        assert f["acknowledged_by"] == "handler1"
        assert users.audit_log(s, limit=1)[0] | {"at": None, "id": None} == {
            "at": None, "id": None, "actor": "handler1", "role": "handler", "action": "alert.acknowledge",
            "target": str(firing), "detail": {}}


def test_admin_adds_a_rule_and_malformed_settings_are_refused(db, accounts):
    at = page(ALERTS_PAGE, accounts["admin"])
    at.selectbox(key="rule_0_kind").set_value("watchword").run()
    at.text_input(key="rule_0_name").input("夜间关注")
    at.text_area(key="rule_0_words").input("合肥\n侵权")
    at.text_input(key="rule_0_hours").input("25:00-26:00")
    at.button(key="FormSubmitter:rule_0_form-保存规则").click().run()
    assert "未保存" in at.error[0].value and "时间无效" in at.error[0].value
    with Store(db) as s:
        assert alerts.list_rules(s) == ([], [])
    at.text_input(key="rule_0_hours").input("08:30-18:00")
    at.checkbox(key="rule_0_weekends").uncheck()
    at.button(key="FormSubmitter:rule_0_form-保存规则").click().run()
    assert not at.exception and "已保存规则「夜间关注」" in texts(at)
    with Store(db) as s:
        [r], _ = alerts.list_rules(s)
        assert (r.name, r.kind, r.params["words"]) == ("夜间关注", "watchword", ["合肥", "侵权"])
        assert alerts.format_hours(r.delivery.hours) == "08:30-18:00" and r.delivery.weekends is False
        assert users.audit_log(s, limit=1)[0]["action"] == "alert_rule.add"
        assert users.audit_log(s, limit=1)[0]["actor"] == "admin1"


def test_admin_test_send_reaches_a_local_robot(db, accounts, tmp_path, monkeypatch):
    robot = Robot()
    try:
        cfg = tmp_path / "config.local.toml"
        cfg.write_text(f'[[notify.channels]]\nname = "值班群"\nkind = "wecom"\nurl = "{robot.base}/wecom"\n',
                       encoding="utf-8")
        monkeypatch.setenv("OPINION_CONFIG", str(cfg))
        at = page(ALERTS_PAGE, accounts["admin"])
        at.button(key="test_send").click().run()
        assert not at.exception and "测试消息已发送到「值班群」" in texts(at)
        assert robot.requests[0]["json"]["text"]["content"].startswith("【舆情预警】测试消息")
        # an editor sees the channels but cannot send
        at = page(ALERTS_PAGE, accounts["editor"])
        assert table(at, "发送到")["渠道"].tolist() == ["看板（dashboard）", "值班群"]
        assert [b.key for b in at.button] == []
    finally:
        robot.close()
    with Store(db) as s:
        assert users.audit_log(s, limit=1)[0]["action"] == "alert.test_send"


# -- 操作日志 page ---------------------------------------------------------------------------------------

def test_audit_page_lists_writes_for_every_role_and_filters(db, accounts, firing):
    for role in users.ROLES:
        at = page(AUDIT_PAGE, accounts[role])
        assert not at.exception and at.title[0].value == "操作日志"
        audit = table(at, "对象")
        assert audit["操作"].tolist()[:2] == ["新增预警规则", "新建用户"]
        assert len(audit) == 5 and set(audit["操作人"]) == {"admin1", "命令行（test）"}
        assert at.button == []
    at.selectbox(key="audit_actor").set_value("admin1").run()
    assert table(at, "对象")["对象"].tolist() == ["关注词"]


def test_pages_in_local_mode_act_as_admin(db):
    at = page(ALERTS_PAGE, None)
    assert not at.exception and at.get("form")      # the rule editor is there
    at = page(AUDIT_PAGE, None)
    assert not at.exception and "还没有操作记录" in texts(at)


def test_admin_edits_and_deletes_an_existing_rule(db, accounts, firing):
    with Store(db) as s:
        [rule], _ = alerts.list_rules(s)
    at = page(ALERTS_PAGE, accounts["admin"], rule_pick=rule.id)
    k = f"rule_{rule.id}_"
    assert at.text_input(key=k + "name").value == "关注词"
    assert at.text_area(key=k + "words").value == "维权难"
    at.text_area(key=k + "words").input("维权难\n投诉")
    at.button(key=f"FormSubmitter:{k}form-保存规则").click().run()
    assert not at.exception and "已保存规则「关注词」" in texts(at)
    with Store(db) as s:
        [changed], _ = alerts.list_rules(s)
        assert changed.id == rule.id and changed.params["words"] == ["维权难", "投诉"]
    at.session_state["rule_pick"] = rule.id
    at.run()
    at.button(key=k + "remove").click().run()
    assert not at.exception and "已删除规则「关注词」" in texts(at)
    with Store(db) as s:
        assert alerts.list_rules(s) == ([], [])
        assert [a["action"] for a in users.audit_log(s, limit=2)] == ["alert_rule.delete", "alert_rule.update"]
        assert alerts.firing_detail(s, firing)["rule_name"] == "关注词"     # the alert history stays
