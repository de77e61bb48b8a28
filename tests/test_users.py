"""Accounts, roles, sign-in rate limiting, idle sessions and the audit log, on a real SQLite file and a frozen clock."""
from __future__ import annotations

import io
import sys
from datetime import timedelta

import pytest

from monitor import admin_cli, user_store, users
from monitor.store import Store
from monitor.users import LoginError, LoginThrottled, SessionExpired, UserError

PW = "correct horse 9"


@pytest.fixture
def admin(fresh_store, frozen_now):
    return users.add_user(fresh_store, "alice", PW, "admin", actor="cli:test", now=frozen_now, display_name="张三")


def test_password_is_stored_as_argon2id_hash_and_verifies(fresh_store, admin, frozen_now):
    row = user_store.user_by_name(fresh_store, "alice")
    assert row["password_hash"].startswith("$argon2id$")
    assert PW not in row["password_hash"]
    assert users.authenticate(fresh_store, "alice", PW, frozen_now) == admin
    # names are case-insensitive, as staff type them
    assert users.authenticate(fresh_store, "ALICE", PW, frozen_now).id == admin.id
    with pytest.raises(LoginError):
        users.authenticate(fresh_store, "alice", PW + "x", frozen_now)
    with pytest.raises(LoginError):
        users.authenticate(fresh_store, "nobody", PW, frozen_now)


@pytest.mark.parametrize("name, password, role, message", [
    ("a", PW, "admin", "用户名"),
    ("bob smith", PW, "admin", "用户名"),
    ("bob", "short", "admin", "至少"),
    ("bob", "bob", "admin", "至少"),
    ("bobbybob", "BobbyBob", "admin", "不能与用户名相同"),
    ("bob", PW, "root", "角色"),
    ("bob", "长" * 257, "admin", "最多 256"),
])
def test_bad_account_input_is_refused_with_a_message(fresh_store, frozen_now, name, password, role, message):
    with pytest.raises(UserError, match=message):
        users.add_user(fresh_store, name, password, role, actor="cli:test", now=frozen_now)
    assert user_store.count_users(fresh_store) == 0


def test_duplicate_name_refused(fresh_store, admin, frozen_now):
    with pytest.raises(UserError, match="已存在"):
        users.add_user(fresh_store, "Alice", PW, "viewer", actor="cli:test", now=frozen_now)


def test_wrong_passwords_are_rate_limited_then_released(fresh_store, admin, frozen_now):
    t = frozen_now
    for i in range(users.MAX_FAILURES):
        with pytest.raises(LoginError) as e:
            users.authenticate(fresh_store, "alice", f"wrong-{i}", t + timedelta(seconds=i))
        assert not isinstance(e.value, LoginThrottled)
    last_failure = t + timedelta(seconds=users.MAX_FAILURES - 1)
    # locked: even the right password is refused, with the wait in the message
    with pytest.raises(LoginThrottled, match="分钟后再试") as e:
        users.authenticate(fresh_store, "alice", PW, last_failure + timedelta(minutes=1))
    assert e.value.retry_after == users.LOCKOUT - timedelta(minutes=1)
    # tries during the lock do not prolong it
    with pytest.raises(LoginThrottled):
        users.authenticate(fresh_store, "alice", "again", last_failure + timedelta(minutes=14))
    assert users.authenticate(fresh_store, "alice", PW, last_failure + users.LOCKOUT + timedelta(seconds=1)).id == admin.id


def test_rate_limit_also_covers_unknown_names_and_success_resets(fresh_store, admin, frozen_now):
    for i in range(users.MAX_FAILURES):
        with pytest.raises(LoginError):
            users.authenticate(fresh_store, "ghost", "x" * 8, frozen_now)
    with pytest.raises(LoginThrottled):
        users.authenticate(fresh_store, "ghost", "x" * 8, frozen_now)
    # alice is unaffected by someone hammering another name; a success clears her earlier failures
    for i in range(users.MAX_FAILURES - 1):
        with pytest.raises(LoginError):
            users.authenticate(fresh_store, "alice", "nope-nope", frozen_now)
    users.authenticate(fresh_store, "alice", PW, frozen_now)
    with pytest.raises(LoginError) as e:
        users.authenticate(fresh_store, "alice", "nope-nope", frozen_now)
    assert not isinstance(e.value, LoginThrottled)


def test_failures_outside_the_window_do_not_count(fresh_store, admin, frozen_now):
    for i in range(users.MAX_FAILURES - 1):
        with pytest.raises(LoginError):
            users.authenticate(fresh_store, "alice", "wrong-pass", frozen_now)
    later = frozen_now + users.FAILURE_WINDOW + timedelta(minutes=1)
    with pytest.raises(LoginError) as e:
        users.authenticate(fresh_store, "alice", "wrong-pass", later)
    assert not isinstance(e.value, LoginThrottled)


def test_session_expires_after_inactivity_on_a_frozen_clock(fresh_store, admin, frozen_now):
    session = users.start_session(admin, frozen_now)
    idle = 30
    assert users.check_session(fresh_store, session, frozen_now + timedelta(minutes=idle), idle) == admin
    users.touch(session, frozen_now + timedelta(minutes=25))
    assert users.check_session(fresh_store, session, frozen_now + timedelta(minutes=54), idle) == admin
    with pytest.raises(SessionExpired, match="30 分钟"):
        users.check_session(fresh_store, session, frozen_now + timedelta(minutes=55, seconds=1), idle)


def test_disabled_account_ends_its_session_and_cannot_log_in(fresh_store, admin, frozen_now):
    bob = users.add_user(fresh_store, "bob", PW, "handler", actor=admin, now=frozen_now)
    session = users.start_session(bob, frozen_now)
    users.set_active(fresh_store, "bob", False, actor=admin, now=frozen_now)
    with pytest.raises(SessionExpired, match="停用"):
        users.check_session(fresh_store, session, frozen_now)
    with pytest.raises(LoginError):
        users.authenticate(fresh_store, "bob", PW, frozen_now)


def test_role_change_applies_to_a_running_session(fresh_store, admin, frozen_now):
    bob = users.add_user(fresh_store, "bob", PW, "viewer", actor=admin, now=frozen_now)
    session = users.start_session(bob, frozen_now)
    assert not users.can(users.check_session(fresh_store, session, frozen_now), "handle")
    users.set_role(fresh_store, "bob", "handler", actor=admin, now=frozen_now)
    assert users.can(users.check_session(fresh_store, session, frozen_now), "handle")


@pytest.mark.parametrize("role, allowed", [
    ("viewer", {"view", "view_audit"}),
    ("handler", {"view", "view_audit", "handle", "acknowledge_alert", "import_items"}),
    ("editor", {"view", "view_audit", "edit_cases", "edit_briefings", "import_items"}),
    ("admin", set(users.ACTIONS)),
])
def test_roles_table(role, allowed):
    u = users.User(id=1, username="u", role=role)
    assert {a for a in users.ACTIONS if users.can(u, a)} == allowed
    assert not users.can(users.User(id=1, username="u", role=role, active=False), "view")
    assert not users.can(None, "view")
    with pytest.raises(KeyError):
        users.can(u, "launch_rockets")


def test_the_last_admin_cannot_be_disabled_or_demoted(fresh_store, admin, frozen_now):
    with pytest.raises(UserError, match="最后一个管理员"):
        users.set_active(fresh_store, "alice", False, actor=admin, now=frozen_now)
    with pytest.raises(UserError, match="最后一个管理员"):
        users.set_role(fresh_store, "alice", "viewer", actor=admin, now=frozen_now)
    users.add_user(fresh_store, "carol", PW, "admin", actor=admin, now=frozen_now)
    users.set_role(fresh_store, "alice", "viewer", actor=admin, now=frozen_now)
    assert users.get_user(fresh_store, "alice").role == "viewer"


def test_every_account_write_is_audited_and_the_log_is_append_only(fresh_store, admin, frozen_now):
    users.add_user(fresh_store, "bob", PW, "viewer", actor=admin, now=frozen_now + timedelta(minutes=1))
    users.set_password(fresh_store, "bob", "another pass 2", actor=admin, now=frozen_now + timedelta(minutes=2))
    log = users.audit_log(fresh_store)
    assert [(r["actor"], r["action"], r["target"]) for r in log] == [
        ("alice", "user.passwd", "bob"), ("alice", "user.add", "bob"), ("cli:test", "user.add", "alice")]
    assert log[1]["role"] == "admin" and log[1]["detail"]["role"] == "viewer"
    assert log[0]["at"] == "2026-11-20T09:32:00+00:00"
    assert "another pass" not in str(log)
    with pytest.raises(Exception, match="append-only"):
        with fresh_store.atomic() as c:
            c.execute("UPDATE audit_log SET actor='mallory'")
    with pytest.raises(Exception, match="append-only"):
        with fresh_store.atomic() as c:
            c.execute("DELETE FROM audit_log")
    assert len(users.audit_log(fresh_store)) == 3


def _cli(argv, monkeypatch, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = admin_cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_users_add_list_passwd_disable(db_path, monkeypatch, frozen_now):
    db = ["--db", str(db_path)]
    code, out, _ = _cli(["users", "add", "root", "--role", "admin", "--password-stdin", *db], monkeypatch, PW + "\n")
    assert code == 0 and "root" in out
    code, _, err = _cli(["users", "add", "v", "--role", "viewer", "--password-stdin", *db], monkeypatch, "short\n")
    assert code == 2 and "错误：" in err and "用户名" in err
    code, _, err = _cli(["users", "add", "viewer1", "--role", "viewer", "--password-stdin", *db], monkeypatch, "short\n")
    assert code == 2 and "至少" in err
    code, _, _ = _cli(["users", "add", "viewer1", "--role", "viewer", "--password-stdin", *db], monkeypatch, PW + "\n")
    assert code == 0
    code, out, _ = _cli(["users", "list", *db], monkeypatch)
    assert out.splitlines() == ["root\tadmin\t启用\t", "viewer1\tviewer\t启用\t"]
    code, _, _ = _cli(["users", "passwd", "viewer1", "--password-stdin", *db], monkeypatch, "new password 7\n")
    assert code == 0
    code, _, err = _cli(["users", "disable", "root", *db], monkeypatch)
    assert code == 2 and "最后一个管理员" in err
    code, _, _ = _cli(["users", "disable", "viewer1", *db], monkeypatch)
    assert code == 0
    with Store(db_path) as s:
        assert users.authenticate(s, "root", PW, frozen_now).role == "admin"
        with pytest.raises(LoginError):
            users.authenticate(s, "viewer1", "new password 7", frozen_now)
        actions = [(r["action"], r["target"]) for r in users.audit_log(s)]
        assert actions == [("user.disable", "viewer1"), ("user.passwd", "viewer1"), ("user.add", "viewer1"),
                           ("user.add", "root")]
        assert all(r["actor"].startswith("cli") for r in users.audit_log(s))


def test_cli_without_a_terminal_needs_password_stdin(db_path, monkeypatch):
    code, _, err = _cli(["users", "add", "root", "--role", "admin", "--db", str(db_path)], monkeypatch)
    assert code == 2 and "--password-stdin" in err


# -- remembered sign-ins (a reload keeps the login) ----------------------------------------------------

def test_a_sign_in_token_resumes_the_login_until_idle_or_a_working_day_has_passed(fresh_store, admin, frozen_now):
    token = users.remember(fresh_store, admin, frozen_now)
    assert users.is_token(token)
    stored = fresh_store.conn.execute("SELECT token_hash FROM sign_ins").fetchone()[0]
    assert token not in stored and len(stored) == 64          # only the hash is kept
    later = frozen_now + timedelta(minutes=90)
    session = users.resume(fresh_store, token, later, idle_minutes=120)
    assert session["username"] == "alice" and session["role"] == "admin" and session["token"] == token
    assert users.check_session(fresh_store, session, later, 120) == admin
    # idle longer than the limit since the last activity written back: ended
    with pytest.raises(SessionExpired, match="120 分钟"):
        users.resume(fresh_store, token, frozen_now + timedelta(minutes=121), idle_minutes=120)
    # activity keeps it alive, but not past MAX_SESSION_AGE
    t = frozen_now
    while t < frozen_now + users.MAX_SESSION_AGE - timedelta(minutes=30):
        t += timedelta(minutes=100)
        s = users.resume(fresh_store, token, t, idle_minutes=120)
        assert users.needs_saving(s, t + users.SEEN_EVERY)
        users.save_seen(fresh_store, s, t)
    with pytest.raises(SessionExpired, match="12 小时"):
        users.resume(fresh_store, token, frozen_now + users.MAX_SESSION_AGE + timedelta(minutes=1), 120)


def test_activity_is_written_back_at_most_once_a_minute(fresh_store, admin, frozen_now):
    token = users.remember(fresh_store, admin, frozen_now)
    session = users.start_session(admin, frozen_now, token)
    assert not users.needs_saving(session, frozen_now + timedelta(seconds=30))
    assert users.needs_saving(session, frozen_now + timedelta(seconds=61))
    users.save_seen(fresh_store, session, frozen_now + timedelta(seconds=61))
    assert not users.needs_saving(session, frozen_now + timedelta(seconds=90))
    assert user_store.sign_in(fresh_store, users._token_hash(token))["last_seen"].endswith("09:31:01+00:00")
    assert not users.needs_saving(users.start_session(admin, frozen_now), frozen_now + timedelta(hours=1))


def test_signing_out_a_new_password_or_disabling_ends_every_tab(fresh_store, admin, frozen_now):
    other = users.add_user(fresh_store, "bob", PW, "editor", actor="cli:test", now=frozen_now)
    a1, a2, b = (users.remember(fresh_store, u, frozen_now) for u in (admin, admin, other))
    tab1, tab2 = (users.start_session(admin, frozen_now, t) for t in (a1, a2))
    users.end_session(fresh_store, tab1)
    with pytest.raises(SessionExpired, match="已退出登录"):
        users.check_session(fresh_store, tab1, frozen_now)
    with pytest.raises(SessionExpired, match="登录已失效"):
        users.resume(fresh_store, a1, frozen_now)
    assert users.check_session(fresh_store, tab2, frozen_now) == admin     # the other sign-in lives on
    users.set_password(fresh_store, "alice", "a new password 2", actor="cli:test", now=frozen_now)
    with pytest.raises(SessionExpired):
        users.check_session(fresh_store, tab2, frozen_now)
    assert user_store.count_sign_ins(fresh_store, other.id) == 1
    users.set_active(fresh_store, "bob", False, actor="cli:test", now=frozen_now)
    assert user_store.count_sign_ins(fresh_store, other.id) == 0
    with pytest.raises(SessionExpired):
        users.resume(fresh_store, b, frozen_now)


@pytest.mark.parametrize("token", ["", "x", "a" * 42, "a" * 44, "é" * 43, "a\"; Path=/; x" + "a" * 30, None, 7])
def test_malformed_tokens_are_refused_without_a_lookup_error(fresh_store, admin, frozen_now, token):
    assert not users.is_token(token)
    with pytest.raises(SessionExpired):
        users.resume(fresh_store, token, frozen_now)
    users.end_session(fresh_store, {"token": token})      # nothing to delete, no error


def test_new_sign_ins_drop_stale_ones(fresh_store, admin, frozen_now):
    users.remember(fresh_store, admin, frozen_now)
    fresh = users.remember(fresh_store, admin, frozen_now + timedelta(minutes=5))
    assert user_store.count_sign_ins(fresh_store, admin.id) == 2
    users.remember(fresh_store, admin, frozen_now + timedelta(minutes=124))   # the first is idle past 120
    assert user_store.count_sign_ins(fresh_store, admin.id) == 2
    assert users.resume(fresh_store, fresh, frozen_now + timedelta(minutes=124))["token"] == fresh


def test_changing_ones_own_password_needs_the_current_one_and_is_rate_limited(fresh_store, admin, frozen_now):
    with pytest.raises(LoginError, match="当前密码不正确"):
        users.change_own_password(fresh_store, admin, "wrong one 1", "new password 1", frozen_now)
    with pytest.raises(UserError, match="不能与当前密码相同"):
        users.change_own_password(fresh_store, admin, PW, PW, frozen_now)
    with pytest.raises(UserError, match="至少"):
        users.change_own_password(fresh_store, admin, PW, "short", frozen_now)
    for _ in range(users.MAX_FAILURES):
        with pytest.raises(LoginError):
            users.change_own_password(fresh_store, admin, "wrong one 1", "new password 1", frozen_now)
    with pytest.raises(LoginThrottled):                     # guessing through this form is locked out too
        users.change_own_password(fresh_store, admin, PW, "new password 1", frozen_now)
    later = frozen_now + users.LOCKOUT + timedelta(minutes=1)
    users.change_own_password(fresh_store, admin, PW, "new password 1", later)
    assert users.authenticate(fresh_store, "alice", "new password 1", later) == admin
    with pytest.raises(UserError):
        users.change_own_password(fresh_store, users.LOCAL_USER, "x", "new password 1", later)


def test_account_rows_and_display_names(fresh_store, admin, frozen_now):
    users.authenticate(fresh_store, "alice", PW, frozen_now)
    users.remember(fresh_store, admin, frozen_now)
    users.set_display_name(fresh_store, "alice", "  王 丽\n", actor="cli:test", now=frozen_now)
    with pytest.raises(UserError, match="32"):
        users.set_display_name(fresh_store, "alice", "名" * 33, actor="cli:test", now=frozen_now)
    with pytest.raises(UserError, match="32"):
        users.add_user(fresh_store, "bob", PW, "viewer", actor="cli:test", now=frozen_now, display_name="名" * 40)
    [row] = users.account_rows(fresh_store, frozen_now + timedelta(minutes=5))
    assert row == {"username": "alice", "display_name": "王 丽", "role": "admin", "role_label": "管理员",
                   "active": True, "last_login": "2026-11-20 17:30", "signed_in": 1}
    assert users.account_rows(fresh_store, frozen_now + timedelta(hours=3))[0]["signed_in"] == 0   # idle: gone


def test_confirming_a_password_is_not_a_login(fresh_store, admin, frozen_now):
    with pytest.raises(UserError):
        users.change_own_password(fresh_store, admin, PW, PW, frozen_now)      # right password, refused change
    assert user_store.user_by_name(fresh_store, "alice")["last_login_at"] is None
    users.change_own_password(fresh_store, admin, PW, "another pass 7", frozen_now)
    assert user_store.user_by_name(fresh_store, "alice")["last_login_at"] is None
    assert [e["action"] for e in users.audit_log(fresh_store, action="user.passwd_own")] == ["user.passwd_own"]
    with pytest.raises(UserError, match="alice 已存在（与 ALICE 只差大小写）"):
        users.add_user(fresh_store, "ALICE", PW, "viewer", actor="cli:test", now=frozen_now)
    with pytest.raises(UserError, match="已经是启用状态"):
        users.set_active(fresh_store, "alice", True, actor="cli:test", now=frozen_now)


@pytest.mark.parametrize("recorded, shown", [("local", "本机用户"), ("cli:root", "命令行（root）"), ("cli", "命令行"),
                                             ("alice", "alice")])
def test_actors_read_as_staff_would(recorded, shown):
    assert users.actor_label(recorded) == shown


def test_update_account_writes_only_changed_fields_and_refuses_over_a_newer_change(fresh_store, admin, frozen_now):
    bob = users.add_user(fresh_store, "bob", PW, "viewer", actor="cli:test", now=frozen_now)
    seen = {"display_name": "", "role": "viewer"}
    users.set_role(fresh_store, "bob", "editor", actor="cli:other", now=frozen_now)     # meanwhile
    assert users.update_account(fresh_store, "bob", seen=seen, wanted={"display_name": " 小 王 ", "role": "viewer"},
                                actor=admin, now=frozen_now) == ["display_name"]
    assert users.get_user(fresh_store, "bob").role == "editor"
    with pytest.raises(users.AccountChanged):
        users.update_account(fresh_store, "bob", seen=seen, wanted={"display_name": "", "role": "handler"},
                             actor=admin, now=frozen_now)
    with pytest.raises(UserError, match="没有改动"):
        users.update_account(fresh_store, "bob", seen={"display_name": "小 王", "role": "editor"},
                             wanted={"display_name": "小  王", "role": "editor"}, actor=admin, now=frozen_now)
    assert (users.get_user(fresh_store, "bob").display_name, bob.id) == ("小 王", bob.id)
