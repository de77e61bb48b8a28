"""Accounts, roles, sign-in with rate limiting, idle sessions and the audit trail.

Roles (from ../shared/design/users.md):
  viewer  – reads everything, changes nothing (leaders glancing at the overview)
  handler – triage and handling of negative items, acknowledging alerts (监测员)
  editor  – cases and briefings (案例编辑, 简报编写人)
  admin   – sources, schemes, alert rules, users; and everything above

Passwords are hashed with argon2id (argon2-cffi) at OWASP's recommended
minimum cost (19 MiB, 2 passes): a login costs ~0.1 s on the office server's
two cores, a stolen database costs an attacker dearly.

Sessions are plain dicts kept in the Streamlit session (see ui/auth.py); the
user row is re-read on every check, so disabling an account or changing its
role takes effect on the next click. Browser logins also get a sign-in token
(a cookie; only its hash is stored) so reloading the page keeps the login.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from monitor import user_store
from monitor.store import Store, iso

ROLES = ("viewer", "handler", "editor", "admin")
ROLE_LABELS = {"viewer": "只读", "handler": "处置", "editor": "编辑", "admin": "管理员"}

# Which roles may do what. Pages and CLIs ask `can(user, action)`; admin may do everything.
ACTIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "view_audit": frozenset(ROLES),
    "handle": frozenset({"handler", "admin"}),            # triage, assign, respond, close
    "acknowledge_alert": frozenset({"handler", "admin"}),
    "edit_cases": frozenset({"editor", "admin"}),
    "edit_briefings": frozenset({"editor", "admin"}),
    "edit_sources": frozenset({"admin"}),
    "edit_schemes": frozenset({"admin"}),
    "edit_rules": frozenset({"admin"}),
    "test_send": frozenset({"admin"}),
    "manage_users": frozenset({"admin"}),
    "manage_sample": frozenset({"admin"}),
    "manage_model": frozenset({"admin"}),               # re-judge stored items, roll the model back
    "manage_backups": frozenset({"admin"}),
    "import_items": frozenset({"handler", "editor", "admin"}),
}

MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_FAILURES = 5                 # wrong passwords allowed within FAILURE_WINDOW ...
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)  # ... before the name is locked this long after the last one
DEFAULT_IDLE_MINUTES = 120       # staff keep the dashboard open; two idle hours end the login
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,31}$")
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A user operation was refused; the message is for staff."""


class LoginError(UserError):
    """Wrong name or password (deliberately not saying which)."""


class LoginThrottled(LoginError):
    def __init__(self, retry_after: timedelta):
        self.retry_after = retry_after
        minutes = max(1, int(retry_after.total_seconds() // 60) + (retry_after.total_seconds() % 60 > 0))
        super().__init__(f"密码错误次数过多，该账号已暂时锁定，请 {minutes} 分钟后再试。")


class SessionExpired(UserError):
    """The login has ended (idle too long, account disabled or removed)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    display_name: str = ""
    active: bool = True

    @property
    def label(self) -> str:
        name = self.display_name or self.username
        return f"{name}（{ROLE_LABELS.get(self.role, self.role)}）"

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "User":
        return cls(id=row["id"], username=row["username"], role=row["role"],
                   display_name=row.get("display_name") or "", active=bool(row.get("active", True)))


# Who acts while no account exists yet (a fresh install): the dashboard stays usable.
LOCAL_USER = User(id=0, username="local", role="admin", display_name="本机单用户模式")


def actor_label(name: str) -> str:
    """A recorded actor as staff read it: the local single user is 本机用户, not the code name `local`;
    a command run on the server (`cli:root`) is 命令行（root）."""
    if name == LOCAL_USER.username:
        return "本机用户"
    if name == "cli" or name.startswith("cli:"):
        return f"命令行（{name[4:]}）" if name[4:] else "命令行"
    return name


def can(user: User | None, action: str) -> bool:
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    return user is not None and user.active and user.role in ACTIONS[action]


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("naive datetime; pass an aware 'now'")
    return now.astimezone(timezone.utc)


# -- validation ---------------------------------------------------------------------------

def check_username(username: str) -> str:
    name = (username or "").strip()
    if not _USERNAME.match(name):
        raise UserError("用户名须为 2–32 个字符，以字母或数字开头，只含字母、数字和 _ . @ -")
    return name


def check_password(password: str, username: str = "") -> str:
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"密码至少 {MIN_PASSWORD} 个字符")
    if len(password) > MAX_PASSWORD:      # a pasted file is a mistake, and hashing megabytes ties up the server
        raise UserError(f"密码最多 {MAX_PASSWORD} 个字符")
    if username and password.strip().lower() == username.strip().lower():
        raise UserError("密码不能与用户名相同")
    return password


def check_display_name(display_name: str) -> str:
    """The name shown beside actions (王丽): one line, at most 32 characters."""
    name = " ".join((display_name or "").split())
    if len(name) > 32:
        raise UserError("显示名最多 32 个字")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"角色必须是 {', '.join(ROLES)} 之一，收到 {role!r}")
    return role


# -- accounts -----------------------------------------------------------------------------

def has_users(store: Store) -> bool:
    return user_store.count_users(store) > 0


def check_actor(store: Store, name: str, *, default: str = "") -> str:
    """A name a command records as who acted. Once accounts exist it must be an active account (or the
    command's own `default` marker), so a typo does not put a stranger into the history."""
    name = (name or "").strip()
    if not name:
        raise UserError("请给出操作人（--user）")
    if name == default or not has_users(store):
        return name
    row = user_store.user_by_name(store, name)
    if row is None or not User.from_row(row).active:
        raise UserError(f"没有名为 {name} 的在用账号；已有账号时 --user 须为账号名（python -m monitor users list）")
    return name


def add_user(store: Store, username: str, password: str, role: str, *, actor: User | str,
             now: datetime, display_name: str = "") -> User:
    name = check_username(username)
    check_password(password, name)
    check_role(role)
    display_name = check_display_name(display_name)
    if (existing := user_store.user_by_name(store, name)) is not None:     # names are case-blind
        raise UserError(f"用户名 {existing['username']} 已存在" + ("" if existing["username"] == name
                                                                 else f"（与 {name} 只差大小写）"))
    t = iso(_utc(now))
    with store.atomic():
        uid = user_store.insert_user(store, {
            "username": name, "display_name": display_name.strip(), "role": role,
            "password_hash": _hasher.hash(password), "active": 1, "created_at": t, "updated_at": t})
        audit(store, actor, "user.add", name, {"role": role, "display_name": display_name.strip()}, now)
    return User(id=uid, username=name, role=role, display_name=display_name.strip())


def get_user(store: Store, username: str) -> User:
    row = user_store.user_by_name(store, username)
    if row is None:
        raise UserError(f"没有用户 {username}")
    return User.from_row(row)


def list_users(store: Store) -> list[User]:
    return [User.from_row(r) for r in user_store.list_users(store)]


def set_password(store: Store, username: str, password: str, *, actor: User | str, now: datetime,
                 own: bool = False) -> None:
    """A new password, set by an admin (a reset) or, with `own`, by the account's user."""
    user = get_user(store, username)
    check_password(password, user.username)
    with store.atomic():
        user_store.update_user(store, user.id, {"password_hash": _hasher.hash(password),
                                                "updated_at": iso(_utc(now))})
        user_store.delete_user_sign_ins(store, user.id)   # whoever knew the old password is signed out
        audit(store, actor, "user.passwd_own" if own else "user.passwd", user.username, {}, now)


def set_role(store: Store, username: str, role: str, *, actor: User | str, now: datetime) -> None:
    user = get_user(store, username)
    check_role(role)
    with store.atomic():
        if user.role == "admin" and role != "admin":
            _keep_an_admin(store, user)
        user_store.update_user(store, user.id, {"role": role, "updated_at": iso(_utc(now))})
        audit(store, actor, "user.role", user.username, {"from": user.role, "to": role}, now)


def set_display_name(store: Store, username: str, display_name: str, *, actor: User | str, now: datetime) -> None:
    user = get_user(store, username)
    name = check_display_name(display_name)
    with store.atomic():
        user_store.update_user(store, user.id, {"display_name": name, "updated_at": iso(_utc(now))})
        audit(store, actor, "user.display_name", user.username, {"from": user.display_name, "to": name}, now)


class AccountChanged(UserError):
    """Someone else changed a field of the account after the editor was drawn; nothing was written."""


def update_account(store: Store, username: str, *, seen: Mapping[str, str], wanted: Mapping[str, str],
                   actor: User | str, now: datetime) -> list[str]:
    """Write the fields of `wanted` (display_name, role) that differ from `seen`, what the editor showed
    when it was drawn; refuse, writing nothing, when one of those fields has changed since (an admin on
    the command line, a second tab). Returns the fields written."""
    user = get_user(store, username)
    wanted = dict(wanted)
    if "display_name" in wanted:
        wanted["display_name"] = check_display_name(wanted["display_name"])
    changed = [f for f in ("display_name", "role") if f in wanted and wanted[f] != seen.get(f)]
    if not changed:
        raise UserError("没有改动")
    current = {"display_name": user.display_name, "role": user.role}
    if any(current[f] != seen.get(f) for f in changed):
        raise AccountChanged(f"账号 {user.username} 刚被他人修改过，请核对最新内容后再保存")
    with store.atomic():
        if "display_name" in changed:
            set_display_name(store, username, wanted["display_name"], actor=actor, now=now)
        if "role" in changed:
            set_role(store, username, wanted["role"], actor=actor, now=now)
    return changed


def set_active(store: Store, username: str, active: bool, *, actor: User | str, now: datetime) -> None:
    user = get_user(store, username)
    if user.active == active:
        raise UserError(f"账号 {user.username} 已经是{'启用' if active else '停用'}状态")
    with store.atomic():
        if not active and user.role == "admin":
            _keep_an_admin(store, user)
        user_store.update_user(store, user.id, {"active": int(active), "updated_at": iso(_utc(now))})
        if not active:
            user_store.delete_user_sign_ins(store, user.id)
        audit(store, actor, "user.enable" if active else "user.disable", user.username, {}, now)


def change_own_password(store: Store, user: User, current: str, new: str, now: datetime) -> None:
    """A signed-in user's own new password, given the current one (checked and rate-limited like a login,
    so a borrowed unlocked screen cannot change it). Ends every sign-in of the account, this one included:
    the caller starts a fresh one."""
    if user.id == LOCAL_USER.id:
        raise UserError("本机单用户模式没有账号密码")
    try:
        _verify(store, user.username, current, now, sign_in=False)
    except LoginThrottled:
        raise
    except LoginError:
        raise LoginError("当前密码不正确") from None
    if new == current:
        raise UserError("新密码不能与当前密码相同")
    set_password(store, user.username, new, actor=user, now=now, own=True)


def account_rows(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Every account for the 账号管理 table: who, role, state, last sign-in (Beijing time), open sign-ins."""
    rows = []
    for r in user_store.list_users(store):
        last = r.get("last_login_at")
        rows.append({"username": r["username"], "display_name": r["display_name"] or "",
                     "role": r["role"], "role_label": ROLE_LABELS.get(r["role"], r["role"]),
                     "active": bool(r["active"]),
                     "last_login": (datetime.fromisoformat(last).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
                                    if last else ""),
                     "signed_in": user_store.count_live_sign_ins(
                         store, r["id"], seen_since=iso(_utc(now) - timedelta(minutes=DEFAULT_IDLE_MINUTES)))})
    return rows


def _keep_an_admin(store: Store, leaving: User) -> None:
    others = [u for u in list_users(store) if u.role == "admin" and u.active and u.id != leaving.id]
    if not others:
        raise UserError("不能停用或降级最后一个管理员账号：否则没有人能再管理用户和预警规则")


# -- sign-in ------------------------------------------------------------------------------

def authenticate(store: Store, username: str, password: str, now: datetime) -> User:
    """The user, or LoginError / LoginThrottled. Every try is recorded; locked names are not verified."""
    return _verify(store, username, password, now, sign_in=True)


def _verify(store: Store, username: str, password: str, now: datetime, *, sign_in: bool) -> User:
    """`authenticate`; with sign_in False (a password re-entered to confirm a change) a right password is
    not recorded as a login: 最近登录 stays, and earlier wrong tries still count toward the lock."""
    now = _utc(now)
    name = (username or "").strip()
    if not name:
        raise LoginError("请输入用户名和密码")
    failures, last = user_store.failures_since(store, name, iso(now - FAILURE_WINDOW))
    if failures >= MAX_FAILURES and last is not None:
        until = datetime.fromisoformat(last) + LOCKOUT
        if until > now:
            # Not recorded: tries during the lock must not prolong it for the real owner.
            raise LoginThrottled(until - now)
    row = user_store.user_by_name(store, name)
    ok = False
    try:
        ok = _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and row is not None and bool(row["active"])
    if sign_in or not ok:
        user_store.record_login_attempt(store, name, iso(now), ok)
    if not ok:
        raise LoginError("用户名或密码不正确，或账号已停用")
    if not sign_in:
        return User.from_row(row)
    if _hasher.check_needs_rehash(row["password_hash"]):
        user_store.update_user(store, row["id"], {"password_hash": _hasher.hash(password)})
    user_store.update_user(store, row["id"], {"last_login_at": iso(now)})
    return User.from_row(row)


# -- sessions ----------------------------------------------------------------------------
#
# A session is a plain dict in the Streamlit session (ui/auth.py). A login made in the browser also gets a
# sign-in token: the browser keeps it in a cookie, the database keeps its SHA-256 in `sign_ins`, so reloading
# the page or opening a second tab resumes the login instead of asking for the password again. The same idle
# limit applies, and no login outlives MAX_SESSION_AGE (one working day). Signing out, a new password or
# disabling the account deletes the user's tokens; a session holding a deleted token ends at its next click.

MAX_SESSION_AGE = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=1)  # how often activity is written back to the sign-in row
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_token(value: Any) -> bool:
    """A string shaped like a sign-in token (safe to put in a cookie or a script)."""
    return isinstance(value, str) and bool(_TOKEN.match(value))


def start_session(user: User, now: datetime, token: str = "") -> dict[str, Any]:
    """What the UI keeps for a signed-in user: plain values; `token` links it to a sign-in row."""
    t = iso(_utc(now))
    session = {"user_id": user.id, "username": user.username, "role": user.role, "started_at": t, "last_seen": t}
    if token:
        session |= {"token": token, "saved_seen": t}
    return session


def remember(store: Store, user: User, now: datetime, idle_minutes: int = DEFAULT_IDLE_MINUTES) -> str:
    """A new sign-in token for `user` (the browser keeps it); stale sign-ins of everyone are dropped."""
    now = _utc(now)
    token = secrets.token_urlsafe(32)
    with store.atomic():
        user_store.purge_sign_ins(store, seen_before=iso(now - timedelta(minutes=idle_minutes)),
                                  started_before=iso(now - MAX_SESSION_AGE))
        user_store.insert_sign_in(store, _token_hash(token), user.id, iso(now))
    return token


def resume(store: Store, token: str, now: datetime, idle_minutes: int = DEFAULT_IDLE_MINUTES) -> dict[str, Any]:
    """The session for a token a browser sent back, or SessionExpired. Read-only: `save_seen` writes."""
    row = user_store.sign_in(store, _token_hash(token)) if is_token(token) else None
    if row is None:
        raise SessionExpired("登录已失效（已退出、密码已修改或已过期），请重新登录")
    user = user_store.user_by_id(store, row["user_id"])
    session = {"user_id": row["user_id"], "username": user["username"] if user else "", "role": "",
               "started_at": row["started_at"], "last_seen": row["last_seen"], "token": token,
               "saved_seen": row["last_seen"]}
    found = check_session(store, session, now, idle_minutes)
    session["role"] = found.role
    return touch(session, now)


def check_session(store: Store, session: Mapping[str, Any], now: datetime,
                  idle_minutes: int = DEFAULT_IDLE_MINUTES) -> User:
    """The session's user as stored now, or SessionExpired. Does not touch; see `touch`."""
    now = _utc(now)
    try:
        last_seen = datetime.fromisoformat(str(session["last_seen"]))
        started = datetime.fromisoformat(str(session.get("started_at") or session["last_seen"]))
        user_id = int(session["user_id"])
    except (KeyError, TypeError, ValueError):
        raise SessionExpired("登录信息无效，请重新登录") from None
    if now - last_seen > timedelta(minutes=idle_minutes):
        raise SessionExpired(f"超过 {idle_minutes} 分钟未操作，登录已过期，请重新登录")
    row = user_store.user_by_id(store, user_id)
    if row is None or not row["active"]:      # before the token: disabling also deletes it, and says less
        raise SessionExpired("账号已停用或已删除，请联系管理员")
    token = session.get("token")
    if token:
        if now - started > MAX_SESSION_AGE:
            raise SessionExpired(f"登录已超过 {int(MAX_SESSION_AGE.total_seconds() // 3600)} 小时，请重新登录")
        if not is_token(token) or user_store.sign_in(store, _token_hash(token)) is None:
            raise SessionExpired("已退出登录（本窗口或其他窗口），或密码已修改，请重新登录")
    return User.from_row(row)


def touch(session: dict[str, Any], now: datetime) -> dict[str, Any]:
    session["last_seen"] = iso(_utc(now))
    return session


def needs_saving(session: Mapping[str, Any], now: datetime) -> bool:
    """True when the session's activity should be written back to its sign-in row (at most once a minute)."""
    if not session.get("token"):
        return False
    try:
        saved = datetime.fromisoformat(str(session.get("saved_seen")))
    except ValueError:
        return True
    return _utc(now) - saved >= SEEN_EVERY


def save_seen(store: Store, session: dict[str, Any], now: datetime) -> None:
    """Write the session's activity to its sign-in row, so a reload within the idle limit resumes it."""
    t = iso(_utc(now))
    if session.get("token") and is_token(session["token"]):
        user_store.touch_sign_in(store, _token_hash(session["token"]), t)
    session["saved_seen"] = t


def end_all_sessions(store: Store) -> int:
    """Everyone signs in again (after a restore, sign-ins of the backup's day must not come back)."""
    return user_store.delete_all_sign_ins(store)


def end_session(store: Store, session: Mapping[str, Any] | None) -> None:
    """Sign out: the session's token stops working in every tab and browser that holds it."""
    token = (session or {}).get("token")
    if is_token(token):
        user_store.delete_sign_in(store, _token_hash(token))


# -- audit ---------------------------------------------------------------------------------

def audit(store: Store, actor: User | str, action: str, target: str = "",
          detail: Mapping[str, Any] | None = None, now: datetime | None = None) -> int:
    """Record one write: who, when, what. `actor` is a User or a free label such as 'cli:alice'."""
    at = iso(_utc(now)) if now is not None else iso(datetime.now(timezone.utc))
    if isinstance(actor, User):
        name, role = actor.username, actor.role
    else:
        name, role = str(actor), ""
    return user_store.insert_audit(store, at=at, actor=name, role=role, action=action, target=str(target),
                                   detail=dict(detail or {}))


def audit_log(store: Store, *, limit: int = 200, actor: str | None = None, action: str | None = None,
              since: datetime | None = None) -> list[dict]:
    return user_store.list_audit(store, limit=limit, actor=actor or None, action=action or None,
                                 since=iso(_utc(since)) if since else None)


def audit_filters(store: Store) -> dict[str, list[str]]:
    return {"actors": user_store.audit_actors(store), "actions": user_store.audit_actions(store)}
