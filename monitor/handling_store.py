"""负面处置 in SQLite: the current state of each handled story and its append-only history.

Rules (which moves are allowed, what each needs) live in monitor.handling;
this module only reads and writes rows.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from monitor.store import Store

OPEN_STATES = ("assigned", "responded")


def story_of(store: Store, item_id: int) -> int | None:
    row = store.conn.execute("SELECT coalesce(story_id, id) FROM items WHERE id = ?", (int(item_id),)).fetchone()
    return None if row is None else int(row[0])


def current(store: Store, story_id: int) -> dict | None:
    row = store.conn.execute("SELECT * FROM handling WHERE story_id = ?", (int(story_id),)).fetchone()
    return dict(row) if row else None


def record(store: Store, story_id: int, state: dict[str, Any], event: dict[str, Any]) -> None:
    """Write the new state and its history row together, or neither."""
    cols = ["story_id", *state]
    with store.atomic() as c:
        c.execute(f"INSERT INTO handling ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                  f"ON CONFLICT(story_id) DO UPDATE SET {', '.join(f'{k}=excluded.{k}' for k in state if k != 'created_at')}",
                  (int(story_id), *state.values()))
        ecols = ["story_id", *event]
        c.execute(f"INSERT INTO handling_events ({', '.join(ecols)}) VALUES ({', '.join('?' * len(ecols))})",
                  (int(story_id), *event.values()))


def history(store: Store, story_id: int) -> list[dict]:
    return [dict(r) for r in store.conn.execute(
        "SELECT at, actor, action, from_state, to_state, unit, due_at, note, link, reason FROM handling_events "
        "WHERE story_id = ? ORDER BY id", (int(story_id),))]


def used_units(store: Store, limit: int = 50) -> list[str]:
    """Units stories were assigned to, most often first."""
    return [r[0] for r in store.conn.execute(
        "SELECT unit, count(*) AS n FROM handling_events WHERE action = 'assign' AND unit IS NOT NULL "
        "AND unit != '' GROUP BY unit ORDER BY n DESC, max(id) DESC LIMIT ?", (int(limit),))]


def confirmations(store: Store) -> list[dict]:
    """Items staff confirmed as negative opinion by taking their story into handling (交办), in the form of
    staff corrections (`Store.corrections`), for training: the flagged items of every story with an
    'assign' event, dated and signed by the first one. Without them the model would learn only from its
    mistakes (误判), which are look-alikes by selection, and drift toward flagging less
    (docs/experiments/correction_loop/). A later 误判 on the item is later, so it wins."""
    rows = store.conn.execute(
        """WITH first AS (SELECT story_id, min(id) AS event FROM handling_events WHERE action = 'assign'
                          GROUP BY story_id)
           SELECT i.id AS item_id, i.key AS item_key, i.title, i.text, e.actor AS user, e.at AS created_at
           FROM items i JOIN first f ON f.story_id = coalesce(i.story_id, i.id)
           JOIN handling_events e ON e.id = f.event
           WHERE i.negative = 1 ORDER BY e.at, i.id""")
    return [dict(r) | {"field": "negative", "value": "yes", "note": "负面处置：已交办", "source": "handling"}
            for r in rows]


LIST_COLUMNS = ["story_id", "title", "source", "url", "first_at", "items", "outlets", "state", "unit", "due_at",
                "updated_at", "updated_by", "note", "link", "reason"]


def handling_list(store: Store, since: str, states: tuple[str, ...] = (), limit: int = 500) -> pd.DataFrame:
    """Stories with a negative item collected since `since` (UTC ISO) and every story still being
    handled (assigned or responded) or touched since then, most recently active first (at most
    `limit`), with their handling state (pending when untouched)."""
    state_sql = "coalesce(h.state, 'pending')"
    where_state = f"WHERE {state_sql} IN ({', '.join('?' * len(states))})" if states else ""
    rows = store.conn.execute(
        f"""WITH c(story_id, active) AS (
                SELECT story_id, max(fetched_at) FROM items WHERE negative = 1 AND fetched_at >= ? GROUP BY story_id
                UNION ALL SELECT story_id, updated_at FROM handling
                WHERE state IN ('assigned', 'responded') OR updated_at >= ?),
            picked AS (
                SELECT c.story_id, max(c.active) AS active FROM c LEFT JOIN handling h ON h.story_id = c.story_id
                {where_state} GROUP BY c.story_id ORDER BY active DESC LIMIT ?)
            SELECT p.story_id, i.title, i.source, i.url,
                   (SELECT min(published_at) FROM items x WHERE x.story_id = p.story_id),
                   (SELECT count(*) FROM items x WHERE x.story_id = p.story_id),
                   (SELECT count(DISTINCT source) FROM items x WHERE x.story_id = p.story_id),
                   {state_sql}, h.unit, h.due_at, h.updated_at, h.updated_by, h.note, h.link, h.reason
            FROM picked p JOIN items i ON i.id = p.story_id LEFT JOIN handling h ON h.story_id = p.story_id
            ORDER BY 5 DESC""",
        [since, since, *states, max(1, min(int(limit), 5000))]).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=LIST_COLUMNS)


def timing_rows(store: Store, start: str, end: str) -> list[dict]:
    """For each negative story first seen (collected) in [start, end) with a negative item collected
    in that window: when it was first seen, its state, first assignment, first response, closing,
    due time."""
    rows = store.conn.execute(
        """SELECT s.story_id, s.seen, coalesce(h.state, 'pending') AS state, h.due_at, h.closed_at,
                  (SELECT min(at) FROM handling_events e WHERE e.story_id = s.story_id AND e.action = 'assign'),
                  (SELECT min(at) FROM handling_events e WHERE e.story_id = s.story_id AND e.action = 'respond')
           FROM (SELECT story_id, min(fetched_at) AS seen FROM items
                 WHERE story_id IN (SELECT story_id FROM items WHERE negative = 1 AND fetched_at >= ?
                                    AND fetched_at < ?)
                 GROUP BY story_id HAVING seen >= ? AND seen < ?) s
           LEFT JOIN handling h ON h.story_id = s.story_id""", (start, end, start, end)).fetchall()
    return [dict(zip(("story_id", "seen", "state", "due_at", "closed_at", "assigned_at", "responded_at"), r))
            for r in rows]
