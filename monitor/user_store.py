"""Storage of accounts, login attempts and the audit log: all SQL for those concepts.

Rows come back as plain dicts. Rules (roles, hashing, rate limits, sessions)
live in `monitor.users`; this module only reads and writes inside the Store's
transactions. The audit log is append-only by trigger, so not even a bug
above this layer can rewrite who did what.
"""
from __future__ import annotations

import json
from typing import Any

from monitor.store import Store

USER_COLUMNS = ("username", "display_name", "role", "password_hash", "active", "created_at",
                "updated_at", "last_login_at")


def _user(row) -> dict | None:
    if row is None:
        return None
    d = dict(row)
    d["active"] = bool(d["active"])
    return d


# -- users ----------------------------------------------------------------------------

def count_users(store: Store, *, active_only: bool = False) -> int:
    sql = "SELECT count(*) FROM users" + (" WHERE active=1" if active_only else "")
    return store.conn.execute(sql).fetchone()[0]


def user_by_name(store: Store, username: str) -> dict | None:
    return _user(store.conn.execute("SELECT * FROM users WHERE username=?", (username,)).fetchone())


def user_by_id(store: Store, user_id: int) -> dict | None:
    return _user(store.conn.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone())


def list_users(store: Store) -> list[dict]:
    return [_user(r) for r in store.conn.execute("SELECT * FROM users ORDER BY username")]


def insert_user(store: Store, values: dict[str, Any]) -> int:
    unknown = set(values) - set(USER_COLUMNS)
    if unknown:
        raise KeyError(f"unknown user column(s) {sorted(unknown)}")
    cols = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    with store.atomic() as c:
        return c.execute(f"INSERT INTO users ({cols}) VALUES ({marks})", values).lastrowid


def update_user(store: Store, user_id: int, values: dict[str, Any]) -> int:
    unknown = set(values) - set(USER_COLUMNS)
    if unknown:
        raise KeyError(f"unknown user column(s) {sorted(unknown)}")
    sets = ", ".join(f"{k}=:{k}" for k in values)
    with store.atomic() as c:
        return c.execute(f"UPDATE users SET {sets} WHERE id=:_id", values | {"_id": user_id}).rowcount


# -- login attempts -----------------------------------------------------------------

def record_login_attempt(store: Store, username: str, at: str, ok: bool) -> None:
    with store.atomic() as c:
        c.execute("INSERT INTO login_attempts (username, at, ok) VALUES (?, ?, ?)", (username, at, int(ok)))


def failures_since(store: Store, username: str, since: str) -> tuple[int, str | None]:
    """Failed tries for this name since `since` and after its last success: (count, latest failure time)."""
    last_ok = store.conn.execute("SELECT max(at) FROM login_attempts WHERE username=? AND ok=1",
                                 (username,)).fetchone()[0]
    floor = max(since, last_ok) if last_ok else since
    row = store.conn.execute("SELECT count(*), max(at) FROM login_attempts "
                             "WHERE username=? AND ok=0 AND at>=?", (username, floor)).fetchone()
    return row[0], row[1]


# -- sign-ins (remembered logins) --------------------------------------------------

def insert_sign_in(store: Store, token_hash: str, user_id: int, at: str) -> None:
    with store.atomic() as c:
        c.execute("INSERT INTO sign_ins (token_hash, user_id, started_at, last_seen) VALUES (?, ?, ?, ?)",
                  (token_hash, user_id, at, at))


def sign_in(store: Store, token_hash: str) -> dict | None:
    row = store.conn.execute("SELECT * FROM sign_ins WHERE token_hash=?", (token_hash,)).fetchone()
    return dict(row) if row else None


def touch_sign_in(store: Store, token_hash: str, at: str) -> int:
    with store.atomic() as c:
        return c.execute("UPDATE sign_ins SET last_seen=? WHERE token_hash=?", (at, token_hash)).rowcount


def delete_sign_in(store: Store, token_hash: str) -> int:
    with store.atomic() as c:
        return c.execute("DELETE FROM sign_ins WHERE token_hash=?", (token_hash,)).rowcount


def delete_user_sign_ins(store: Store, user_id: int) -> int:
    with store.atomic() as c:
        return c.execute("DELETE FROM sign_ins WHERE user_id=?", (user_id,)).rowcount


def delete_all_sign_ins(store: Store) -> int:
    with store.atomic() as c:
        return c.execute("DELETE FROM sign_ins").rowcount


def purge_sign_ins(store: Store, *, seen_before: str, started_before: str) -> int:
    with store.atomic() as c:
        return c.execute("DELETE FROM sign_ins WHERE last_seen<? OR started_at<?",
                         (seen_before, started_before)).rowcount


def count_sign_ins(store: Store, user_id: int) -> int:
    return store.conn.execute("SELECT count(*) FROM sign_ins WHERE user_id=?", (user_id,)).fetchone()[0]


def count_live_sign_ins(store: Store, user_id: int, seen_since: str) -> int:
    return store.conn.execute("SELECT count(*) FROM sign_ins WHERE user_id=? AND last_seen>=?",
                              (user_id, seen_since)).fetchone()[0]


# -- audit log ------------------------------------------------------------------------

def insert_audit(store: Store, *, at: str, actor: str, role: str, action: str, target: str,
                 detail: dict[str, Any]) -> int:
    with store.atomic() as c:
        return c.execute("INSERT INTO audit_log (at, actor, role, action, target, detail) VALUES (?,?,?,?,?,?)",
                         (at, actor, role, action, target,
                          json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True))).lastrowid


def list_audit(store: Store, *, limit: int = 200, actor: str | None = None, action: str | None = None,
               since: str | None = None) -> list[dict]:
    where, args = [], []
    if actor:
        where.append("actor=?")
        args.append(actor)
    if action:
        where.append("action=?")
        args.append(action)
    if since:
        where.append("at>=?")
        args.append(since)
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
    rows = store.conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, int(limit))).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["detail"] = json.loads(d["detail"] or "{}")
        out.append(d)
    return out


def audit_actions(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]


def audit_actors(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT DISTINCT actor FROM audit_log ORDER BY actor")]
