"""账号 page under AppTest on a real SQLite file: own password, and the admin's account management; the first
admin created from the page in local single-user mode."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor import users
from monitor.store import Store
from tests.test_ui_auth import PW, accounts, db  # noqa: F401  the login-gate tests' file and role accounts
from ui import auth

PAGE = str(Path(__file__).resolve().parent.parent / "ui" / "pages" / "accounts.py")


def page(user: users.User | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if user is not None:
        at.session_state[auth.SESSION_KEY] = auth.session_for(user)
    return at.run()


def fill(at: AppTest, **values) -> None:
    for key, value in values.items():
        widget = at.text_input(key=key) if key != "add_role" else at.selectbox(key=key)
        (widget.input(value) if key != "add_role" else widget.set_value(value))


def submit(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def audit(db: Path, action: str) -> list[dict]:
    with Store(db, readonly=True) as s:
        return users.audit_log(s, action=action)


def test_admin_adds_an_account_and_bad_input_creates_nothing(db, accounts):
    at = page(accounts["admin"])
    assert not at.exception and list(at.dataframe[0].value["用户名"]) == [
        "admin1", "editor1", "handler1", "viewer1"]
    fill(at, add_name="wangli", add_display="王丽", add_role="handler", add_pw="first pass 9", add_pw2="first pass X")
    submit(at, "新建账号")
    assert "两次输入的密码不一致" in at.error[0].value
    fill(at, add_name="王丽", add_pw="first pass 9", add_pw2="first pass 9")
    submit(at, "新建账号")
    assert "用户名须为" in at.error[0].value
    with Store(db, readonly=True) as s:
        assert len(users.list_users(s)) == 4
    fill(at, add_name="wangli", add_pw="first pass 9", add_pw2="first pass 9")
    submit(at, "新建账号")
    assert not at.exception and "已新建账号 王丽（处置）" in at.success[0].value
    assert "wangli" in list(at.dataframe[0].value["用户名"])
    assert all(at.text_input(key=k).value == "" for k in ("add_name", "add_display", "add_pw", "add_pw2"))
    assert at.selectbox(key="add_role").value == "viewer"      # the next account does not inherit 处置
    with Store(db) as s:
        assert users.authenticate(s, "wangli", "first pass 9", datetime.now(timezone.utc)).role == "handler"
    assert audit(db, "user.add")[0]["actor"] == "admin1"


def test_admin_edits_resets_and_disables_another_account(db, accounts):
    with Store(db) as s:
        token = users.remember(s, accounts["editor"], datetime.now(timezone.utc))
    at = page(accounts["admin"])
    at.selectbox(key="edit_pick").set_value("editor1").run()
    at.text_input(key="edit_display_editor1_0").input("李编辑")
    at.selectbox(key="edit_role_editor1_0").set_value("viewer")
    submit(at, "保存")
    assert "已保存账号 editor1" in at.success[0].value
    table = at.dataframe[0].value.set_index("用户名")
    assert table.loc["editor1", "显示名"] == "李编辑" and table.loc["editor1", "角色"] == "只读"
    assert table.loc["editor1", "有效登录"] == 1
    at.text_input(key="reset_editor1_pw").input("reset pass 77")
    at.text_input(key="reset_editor1_pw2").input("reset pass 77")
    submit(at, "重置密码")
    assert "其登录已全部失效" in at.success[0].value
    with Store(db) as s, pytest.raises(users.SessionExpired):
        users.resume(s, token, datetime.now(timezone.utc))
    at.button(key="toggle_editor1").click().run()
    assert "已停用账号 editor1" in at.success[0].value
    assert at.dataframe[0].value.set_index("用户名").loc["editor1", "状态"] == "已停用"
    assert [e["action"] for e in audit(db, "")][:4] == ["user.disable", "user.passwd", "user.role",
                                                        "user.display_name"]
    at.selectbox(key="edit_pick").set_value("admin1").run()
    assert not any(b.key == "toggle_admin1" for b in at.button)          # not oneself
    assert any("不能停用自己" in c.value for c in at.caption)
    assert not any(b.label == "重置密码" for b in at.button)              # one's own: with the current password
    assert any("修改我的密码" in c.value for c in at.caption)


def test_the_last_admin_cannot_be_demoted_from_the_page(db, accounts):
    at = page(accounts["admin"])
    at.selectbox(key="edit_pick").set_value("admin1").run()
    at.selectbox(key="edit_role_admin1_0").set_value("viewer")
    submit(at, "保存")
    assert "最后一个管理员" in at.error[0].value
    with Store(db, readonly=True) as s:
        assert users.get_user(s, "admin1").role == "admin"


def test_anyone_changes_their_own_password_and_stays_signed_in(db, accounts):
    handler = accounts["handler"]
    with Store(db) as s:
        elsewhere = users.remember(s, handler, datetime.now(timezone.utc))
    at = page(handler)
    assert not at.exception and not at.dataframe and any("不能管理账号" in c.value for c in at.caption)
    at.text_input(key="own_current").input("not my password")
    at.text_input(key="own_pw").input("brand new 42")
    at.text_input(key="own_pw2").input("brand new 42")
    submit(at, "修改密码")
    assert "当前密码不正确" in at.error[0].value
    at.text_input(key="own_current").input(PW)
    at.text_input(key="own_pw").input("brand new 42")
    at.text_input(key="own_pw2").input("brand new 42")
    submit(at, "修改密码")
    assert not at.exception and "密码已修改" in at.success[0].value
    session = at.session_state[auth.SESSION_KEY]
    now = datetime.now(timezone.utc)
    with Store(db) as s:
        assert users.authenticate(s, "handler1", "brand new 42", now) == handler
        assert users.check_session(s, session, now) == handler                   # this tab goes on
        with pytest.raises(users.SessionExpired):
            users.resume(s, elsewhere, now)                                      # other devices sign in again


def test_in_local_mode_the_first_admin_is_created_here(db):
    at = page(None)
    assert not at.exception and "本机单用户模式" in at.info[0].value and not at.dataframe
    assert at.selectbox(key="add_role").disabled and at.selectbox(key="add_role").value == "admin"
    assert not at.get("expander")                                                # no own password yet
    fill(at, add_name="wangli", add_display="王丽", add_pw="first pass 9", add_pw2="first pass 9")
    submit(at, "新建账号")
    assert not at.exception and "请先登录" in at.warning[0].value
    with Store(db, readonly=True) as s:
        [made] = users.list_users(s)
    assert (made.username, made.role) == ("wangli", "admin")
    assert at.session_state[auth._MESSAGE_KEY] == "已新建管理员账号 wangli，请用它登录。"


def test_a_save_writes_only_what_was_changed_and_refuses_over_someone_elses_change(db, accounts):
    at = page(accounts["admin"])
    at.selectbox(key="edit_pick").set_value("handler1").run()
    at.text_input(key="edit_display_handler1_0").input("王  丽")
    with Store(db) as s:                                  # meanwhile, on the command line
        users.set_role(s, "handler1", "editor", actor="cli:other", now=datetime.now(timezone.utc))
    submit(at, "保存")                                    # only the display name changed here: saved
    assert "已保存账号 handler1" in at.success[0].value
    with Store(db, readonly=True) as s:
        u = users.get_user(s, "handler1")
    assert (u.display_name, u.role) == ("王 丽", "editor")             # the other admin's role stays
    assert at.text_input(key="edit_display_handler1_1").value == "王 丽"   # the form shows what was stored
    submit(at, "保存")
    assert "没有改动" in at.error[0].value and len(audit(db, "user.display_name")) == 1
    with Store(db) as s:
        users.set_role(s, "handler1", "viewer", actor="cli:other", now=datetime.now(timezone.utc))
    at.selectbox(key="edit_role_handler1_1").set_value("admin")
    submit(at, "保存")                                    # the role changed both here and there: refused
    assert "刚被他人修改过" in at.error[0].value and at.selectbox(key="edit_role_handler1_2").value == "viewer"
    with Store(db, readonly=True) as s:
        assert users.get_user(s, "handler1").role == "viewer"


def test_display_names_are_text_wherever_they_show(db, accounts):
    hostile = "**粗** [链接](http://x.cn)"
    at = page(accounts["admin"])
    fill(at, add_name="mark1", add_display=hostile, add_role="handler", add_pw="first pass 9", add_pw2="first pass 9")
    submit(at, "新建账号")
    assert "\\*\\*粗\\*\\*" in at.success[0].value and "](http" not in at.success[0].value.replace("\\]", "")
    with Store(db, readonly=True) as s:
        marked = users.get_user(s, "mark1")
    stream = AppTest.from_file(str(Path(PAGE).with_name("stream.py")), default_timeout=60)
    stream.session_state[auth.SESSION_KEY] = auth.session_for(marked)
    stream.run()
    [who] = [c.value for c in stream.caption if c.value.startswith("当前用户")]
    assert "\\*\\*粗\\*\\*" in who and "\\[链接\\]" in who
