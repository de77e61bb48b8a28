"""Stories in SQLite: assigning a new item to a story (LSH band lookup), and the story read side.

A story is a report and its reposts. `items.story_id` is the id of the story's
first stored item; only that item's band keys are kept (`dup_bands`), so a new
item is compared with first reports and chains of drifting reposts cannot glue
unrelated stories together.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import pandas as pd

from monitor import dedup
from monitor.store import Store, iso

# A repost appears within days of its report; older first reports are not candidates.
STORY_WINDOW_DAYS = 30


def assign_story(c: sqlite3.Connection, item_id: int, title: str, text: str, published_at: str) -> int:
    """Put a just-inserted item into the story it reposts, or start a new story; returns the story id."""
    fp = dedup.fingerprint(title, text)
    story = None
    if fp.keys:
        marks = ", ".join("?" * len(fp.keys))
        cands = c.execute(
            f"SELECT DISTINCT b.item_id, i.title, i.text FROM dup_bands b JOIN items i ON i.id = b.item_id "
            f"WHERE b.key IN ({marks}) AND b.item_id != ? "
            "AND abs(julianday(i.published_at) - julianday(?)) <= ? ORDER BY b.item_id LIMIT 20",
            (*fp.keys, item_id, published_at, STORY_WINDOW_DAYS)).fetchall()
        for cand_id, ctitle, ctext in cands:
            if fp.similar(dedup.fingerprint(ctitle, ctext)):
                story = int(cand_id)
                break
    if story is None:
        story = item_id
        if fp.keys:
            c.executemany("INSERT OR IGNORE INTO dup_bands (key, item_id) VALUES (?, ?)",
                          [(k, item_id) for k in fp.keys])
    c.execute("UPDATE items SET story_id = ? WHERE id = ?", (story, item_id))
    return story


# -- read side -----------------------------------------------------------------------

def story_members(store: Store, story_id: int, limit: int = 200) -> pd.DataFrame:
    """Every stored item of one story, first report first: columns id, published_at, title, source,
    platform, url, polarity."""
    rows = store.conn.execute(
        "SELECT id, published_at, title, source, platform, url, polarity FROM items WHERE story_id = ? "
        "ORDER BY published_at, id LIMIT ?", (int(story_id), max(1, min(int(limit), 5000)))).fetchall()
    return pd.DataFrame([tuple(r) for r in rows],
                        columns=["id", "published_at", "title", "source", "platform", "url", "polarity"])


def top_stories(store: Store, start: datetime, end: datetime, limit: int = 10,
                negative_only: bool = False, sources: tuple[str, ...] = ()) -> pd.DataFrame:
    """Stories with items published in [start, end), by reach (items, then outlets):
    columns story_id, items, outlets, negative, first_at, last_at, title, source, url."""
    where = "published_at >= ? AND published_at < ?"
    args: list[Any] = [iso(start), iso(end)]
    if sources:
        where += f" AND story_id IN (SELECT id FROM items WHERE source IN ({', '.join('?' * len(sources))}))"
        args += list(sources)
    having = " HAVING sum(negative = 1) > 0" if negative_only else ""
    rows = store.conn.execute(
        f"SELECT story_id, count(*) AS n, count(DISTINCT source) AS outlets, coalesce(sum(negative = 1), 0), "
        f"min(published_at), max(published_at) FROM items WHERE {where} GROUP BY story_id{having} "
        "ORDER BY n DESC, outlets DESC, story_id DESC LIMIT ?", args + [max(1, min(int(limit), 500))]).fetchall()
    heads = _heads(store, [r[0] for r in rows])
    out = [(r[0], r[1], r[2], r[3], r[4], r[5], *heads.get(r[0], ("", "", ""))) for r in rows]
    return pd.DataFrame(out, columns=["story_id", "items", "outlets", "negative", "first_at", "last_at",
                                      "title", "source", "url"])


def _heads(store: Store, ids: list[int]) -> dict[int, tuple[str, str, str]]:
    if not ids:
        return {}
    rows = store.conn.execute(f"SELECT id, title, source, url FROM items WHERE id IN ({', '.join('?' * len(ids))})",
                              ids).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def story_daily(store: Store, story_ids: list[int], start: datetime, end: datetime) -> pd.DataFrame:
    """Items per Beijing day for each story: columns story_id, day, count."""
    if not story_ids:
        return pd.DataFrame(columns=["story_id", "day", "count"])
    rows = store.conn.execute(
        f"SELECT story_id, date(published_at, '+8 hours'), count(*) FROM items "
        f"WHERE story_id IN ({', '.join('?' * len(story_ids))}) AND published_at >= ? AND published_at < ? "
        "GROUP BY 1, 2 ORDER BY 1, 2", [*story_ids, iso(start), iso(end)]).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=["story_id", "day", "count"])


def story_sources(store: Store, story_id: int, limit: int = 20) -> pd.DataFrame:
    """Outlets that carried a story, most items first: columns source, platform, count, first_at."""
    rows = store.conn.execute(
        "SELECT source, min(platform), count(*) AS n, min(published_at) FROM items WHERE story_id = ? "
        "GROUP BY source ORDER BY n DESC, 4 LIMIT ?", (int(story_id), max(1, min(int(limit), 500)))).fetchall()
    return pd.DataFrame([tuple(r) for r in rows], columns=["source", "platform", "count", "first_at"])


def own_reach(store: Store, own_sources: tuple[str, ...], start: datetime, end: datetime,
              limit: int = 50) -> pd.DataFrame:
    """The office's own releases (items from own sources published in the window) and how far they
    travelled: columns story_id, title, source, published_at, url, reposts, outlets."""
    if not own_sources:
        return pd.DataFrame(columns=["story_id", "title", "source", "published_at", "url", "reposts", "outlets"])
    marks = ", ".join("?" * len(own_sources))
    rows = store.conn.execute(
        f"SELECT o.story_id, o.title, o.source, o.published_at, o.url, "
        f"(SELECT count(*) FROM items r WHERE r.story_id = o.story_id AND r.source NOT IN ({marks})), "
        f"(SELECT count(DISTINCT r.source) FROM items r WHERE r.story_id = o.story_id AND r.source NOT IN ({marks})) "
        f"FROM items o WHERE o.source IN ({marks}) AND o.published_at >= ? AND o.published_at < ? "
        "AND o.id = (SELECT min(id) FROM items x WHERE x.story_id = o.story_id AND x.source IN "
        f"({marks})) ORDER BY o.published_at DESC LIMIT ?",
        [*own_sources, *own_sources, *own_sources, iso(start), iso(end), *own_sources,
         max(1, min(int(limit), 1000))]).fetchall()
    return pd.DataFrame([tuple(r) for r in rows],
                        columns=["story_id", "title", "source", "published_at", "url", "reposts", "outlets"])


def reposts_by(store: Store, story_ids: list[int], own_sources: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reposts (items of these stories from other outlets): by outlet (source, platform, count)
    and by Beijing day (day, count)."""
    if not story_ids:
        return (pd.DataFrame(columns=["source", "platform", "count"]), pd.DataFrame(columns=["day", "count"]))
    ids = ", ".join("?" * len(story_ids))
    own = ", ".join("?" * len(own_sources)) or "''"
    base = f"FROM items WHERE story_id IN ({ids}) AND source NOT IN ({own})"
    args = [*story_ids, *own_sources]
    by_outlet = store.conn.execute(f"SELECT source, min(platform), count(*) AS n {base} GROUP BY source "
                                   "ORDER BY n DESC, source", args).fetchall()
    by_day = store.conn.execute(f"SELECT date(published_at, '+8 hours') AS d, count(*) {base} GROUP BY d "
                                "ORDER BY d", args).fetchall()
    return (pd.DataFrame([tuple(r) for r in by_outlet], columns=["source", "platform", "count"]),
            pd.DataFrame([tuple(r) for r in by_day], columns=["day", "count"]))
