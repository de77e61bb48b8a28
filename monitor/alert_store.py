"""Storage of alert rules, firings and deliveries, plus the reads the rules evaluate: all SQL for alerts.

The item reads look at the items table's columns first: `story_id` and
`schemes` arrive with the story/scheme work and are used when present, so
the rules work on databases from before and after that migration.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from monitor.store import Store


def _json_row(row, *keys: str) -> dict:
    d = dict(row)
    for k in keys:
        if k in d:
            d[k] = json.loads(d[k] or "{}")
    return d


# -- rules ----------------------------------------------------------------------------------

def list_rules(store: Store, *, enabled_only: bool = False) -> list[dict]:
    sql = "SELECT * FROM alert_rules" + (" WHERE enabled=1" if enabled_only else "") + " ORDER BY id"
    out = []
    for r in store.conn.execute(sql):
        d = _json_row(r, "params", "delivery")
        d["enabled"] = bool(d["enabled"])
        out.append(d)
    return out


def rule_by_name(store: Store, name: str) -> dict | None:
    row = store.conn.execute("SELECT * FROM alert_rules WHERE name=?", (name,)).fetchone()
    if row is None:
        return None
    d = _json_row(row, "params", "delivery")
    d["enabled"] = bool(d["enabled"])
    return d


def upsert_rule(store: Store, *, name: str, kind: str, params: dict, delivery: dict, enabled: bool,
                at: str, by: str, rule_id: int | None = None) -> int:
    values = {"name": name, "kind": kind, "params": json.dumps(params, ensure_ascii=False, sort_keys=True),
              "delivery": json.dumps(delivery, ensure_ascii=False, sort_keys=True), "enabled": int(enabled),
              "at": at, "by": by}
    with store.atomic() as c:
        if rule_id is None:
            return c.execute("INSERT INTO alert_rules (name, kind, params, delivery, enabled, created_at, "
                             "updated_at, updated_by) VALUES (:name, :kind, :params, :delivery, :enabled, "
                             ":at, :at, :by)", values).lastrowid
        n = c.execute("UPDATE alert_rules SET name=:name, kind=:kind, params=:params, delivery=:delivery, "
                      "enabled=:enabled, updated_at=:at, updated_by=:by WHERE id=:id",
                      values | {"id": rule_id}).rowcount
        if n != 1:
            raise KeyError(f"no alert rule with id {rule_id}")
        return rule_id


def delete_rule(store: Store, rule_id: int) -> int:
    with store.atomic() as c:
        return c.execute("DELETE FROM alert_rules WHERE id=?", (rule_id,)).rowcount


# -- what the rules read -------------------------------------------------------------------

def item_columns(store: Store) -> set[str]:
    return {r[1] for r in store.conn.execute("PRAGMA table_info(items)")}


def recent_items(store: Store, *, since: str, until: str, time_field: str = "fetched_at",
                 negative_only: bool = False, include_sample: bool = False) -> list[dict]:
    """Items whose `time_field` lies in [since, until], newest first, with story_id/schemes when the schema has them."""
    if time_field not in ("fetched_at", "published_at"):
        raise ValueError(f"time_field must be fetched_at or published_at, got {time_field!r}")
    cols = item_columns(store)
    extra = [c for c in ("story_id", "schemes") if c in cols]
    select = ", ".join(["id", "title", "text", "url", "source", "platform", "published_at", "fetched_at",
                        "negative", "p_negative", "is_sample"] + extra)
    where = [f"{time_field} >= ?", f"{time_field} <= ?"]
    # Unary + keeps the planner on the time index: without ANALYZE it would pick
    # ix_items_negative and scan every negative item ever stored.
    plus = "+" if time_field == "fetched_at" else ""
    if negative_only:
        where.append(f"{plus}negative = 1")
    if not include_sample:
        where.append("+is_sample = 0")
    rows = store.conn.execute(f"SELECT {select} FROM items WHERE {' AND '.join(where)} "
                              f"ORDER BY {time_field} DESC, id DESC", (since, until)).fetchall()
    out = []
    for r in rows:
        d = dict(r)
        d["negative"] = bool(d["negative"]) if d["negative"] is not None else False
        d["is_sample"] = bool(d["is_sample"])
        if "schemes" in d:
            d["schemes"] = _scheme_list(d["schemes"])
        out.append(d)
    return out


def _scheme_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return [str(x) for x in parsed if str(x).strip()]
        return [p.strip() for p in text.replace("，", ",").split(",") if p.strip()]
    return [str(value)]


def run_summary(store: Store) -> dict[str, dict]:
    """Per source: first and last run start, last success, last status and error."""
    rows = store.conn.execute("""
        SELECT source,
               min(started_at) AS first_run_at,
               max(started_at) AS last_run_at,
               max(CASE WHEN status IN ('ok', 'not_modified') THEN coalesce(finished_at, started_at) END)
                   AS last_ok_at
        FROM runs GROUP BY source""").fetchall()
    out = {r["source"]: dict(r) for r in rows}
    for r in store.conn.execute("""
            SELECT r.source, r.status, r.error FROM runs r
            JOIN (SELECT source, max(id) AS id FROM runs WHERE status != 'running' GROUP BY source) last
              ON last.id = r.id"""):
        out[r["source"]].update(last_status=r["status"], last_error=r["error"])
    return out


# -- firings ----------------------------------------------------------------------------------

def last_fired_at(store: Store, rule_id: int, subject: str) -> str | None:
    return store.conn.execute("SELECT max(fired_at) FROM alert_firings WHERE rule_id=? AND subject=?",
                              (rule_id, subject)).fetchone()[0]


def insert_firing(store: Store, *, rule_id: int, rule_name: str, kind: str, subject: str, fired_at: str,
                  title: str, detail: str, items: Iterable[dict]) -> int:
    with store.atomic() as c:
        fid = c.execute("INSERT INTO alert_firings (rule_id, rule_name, kind, subject, fired_at, title, detail) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (rule_id, rule_name, kind, subject, fired_at, title, detail)).lastrowid
        c.executemany("INSERT OR IGNORE INTO alert_firing_items (firing_id, item_id, title, url, source) "
                      "VALUES (?,?,?,?,?)",
                      [(fid, i["id"], i.get("title") or "", i.get("url") or "", i.get("source") or "")
                       for i in items])
        return fid


def list_firings(store: Store, *, limit: int = 100, since: str | None = None,
                 unacknowledged_only: bool = False) -> list[dict]:
    where, args = [], []
    if since:
        where.append("fired_at >= ?")
        args.append(since)
    if unacknowledged_only:
        where.append("acknowledged_at IS NULL")
    sql = ("SELECT f.*, (SELECT count(*) FROM alert_firing_items fi WHERE fi.firing_id=f.id) AS item_count "
           "FROM alert_firings f" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY fired_at DESC, id DESC LIMIT ?")
    return [dict(r) for r in store.conn.execute(sql, (*args, int(limit)))]


def count_unacknowledged(store: Store, since: str) -> int:
    return store.conn.execute("SELECT count(*) FROM alert_firings WHERE acknowledged_at IS NULL "
                              "AND fired_at >= ?", (since,)).fetchone()[0]


def firing(store: Store, firing_id: int) -> dict | None:
    row = store.conn.execute("SELECT * FROM alert_firings WHERE id=?", (firing_id,)).fetchone()
    return dict(row) if row else None


def firing_items(store: Store, firing_id: int) -> list[dict]:
    return [dict(r) for r in store.conn.execute(
        "SELECT item_id, title, url, source FROM alert_firing_items WHERE firing_id=? ORDER BY item_id",
        (firing_id,))]


def acknowledge(store: Store, firing_id: int, *, at: str, by: str) -> int:
    with store.atomic() as c:
        return c.execute("UPDATE alert_firings SET acknowledged_at=?, acknowledged_by=? "
                         "WHERE id=? AND acknowledged_at IS NULL", (at, by, firing_id)).rowcount


# -- deliveries ---------------------------------------------------------------------------------

def queue_delivery(store: Store, *, firing_id: int | None, channel: str, due_at: str, created_at: str) -> int:
    with store.atomic() as c:
        return c.execute("INSERT INTO alert_deliveries (firing_id, channel, due_at, created_at) VALUES (?,?,?,?)",
                         (firing_id, channel, due_at, created_at)).lastrowid


def claim_due(store: Store, now: str, lease_until: str) -> list[dict]:
    """Take the deliveries whose time has come, with their firing, oldest first, for sending. In the same
    write transaction they become 'sending' until `lease_until`, so an evaluation started meanwhile (the
    collector's while staff run `alerts evaluate`) does not send them again. A sender that died leaves them
    'sending'; once the lease has passed they are due again (sent at least once, never lost)."""
    with store.atomic() as c:
        rows = [dict(r) for r in c.execute("""
            SELECT d.id, d.firing_id, d.channel, d.attempts, d.due_at, f.rule_name, f.kind, f.subject,
                   f.fired_at, f.title, f.detail
            FROM alert_deliveries d JOIN alert_firings f ON f.id = d.firing_id
            WHERE d.status IN ('queued', 'sending') AND d.due_at <= ?
            ORDER BY d.channel, f.fired_at, d.id""", (now,))]
        c.executemany("UPDATE alert_deliveries SET status='sending', due_at=? WHERE id=?",
                      [(lease_until, r["id"]) for r in rows])
    return rows


def mark_sent(store: Store, delivery_ids: Iterable[int], at: str) -> None:
    with store.atomic() as c:
        c.executemany("UPDATE alert_deliveries SET status='sent', sent_at=?, last_attempt_at=?, "
                      "attempts=attempts+1, last_error='' WHERE id=?", [(at, at, i) for i in delivery_ids])


def mark_failed(store: Store, delivery_ids: Iterable[int], *, at: str, error: str,
                retry_at: str | None) -> None:
    """One more failed attempt; `retry_at` None means give up (status 'failed')."""
    with store.atomic() as c:
        if retry_at is None:
            c.executemany("UPDATE alert_deliveries SET status='failed', attempts=attempts+1, last_error=?, "
                          "last_attempt_at=? WHERE id=?", [(error, at, i) for i in delivery_ids])
        else:
            c.executemany("UPDATE alert_deliveries SET status='queued', attempts=attempts+1, last_error=?, "
                          "last_attempt_at=?, due_at=? WHERE id=?", [(error, at, retry_at, i) for i in delivery_ids])


def record_test_send(store: Store, *, channel: str, at: str, ok: bool, error: str) -> int:
    with store.atomic() as c:
        return c.execute("INSERT INTO alert_deliveries (firing_id, channel, status, due_at, attempts, last_error, "
                         "last_attempt_at, sent_at, created_at) VALUES (NULL, ?, ?, ?, 1, ?, ?, ?, ?)",
                         (channel, "sent" if ok else "failed", at, error, at, at if ok else None, at)).lastrowid


def list_deliveries(store: Store, *, limit: int = 100) -> list[dict]:
    return [dict(r) for r in store.conn.execute("""
        SELECT d.*, coalesce(f.title, '（测试发送）') AS title, f.rule_name
        FROM alert_deliveries d LEFT JOIN alert_firings f ON f.id = d.firing_id
        ORDER BY coalesce(d.last_attempt_at, d.created_at) DESC, d.id DESC LIMIT ?""", (int(limit),))]
