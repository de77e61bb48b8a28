"""Stories in SQLite: assigning a new item to a story (LSH band lookup), and the story read side.

A story is a report and its reposts. `items.story_id` is the id of the story's
first stored item; only that item's band keys are kept (`dup_bands`), so a new
item is compared with first reports and chains of drifting reposts cannot glue
unrelated stories together.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pandas as pd

from monitor import dedup
from monitor.store import Store, chunked, iso

# A repost appears within days of its report; older first reports are not candidates.
STORY_WINDOW_DAYS = 30


# Candidates compared per new item: the first reports sharing a band key, lowest id first.
MAX_CANDIDATES = 20
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class StoryBatch:
    """Story assignment for one `Store.add_items` batch, in one transaction.

    Gives the same stories as assigning each item right after its insert, with
    few queries: the stored first reports that share a band key with any item of
    the batch are read once, before the batch writes anything; an item of this
    batch that starts a story becomes a candidate for the items after it; a
    first report the batch rewrites is compared by its new text from then on.
    """

    def __init__(self, c: sqlite3.Connection, texts: Sequence[tuple[str, str]]):
        """`texts`: (title, text) of every item the batch may insert, read before it writes."""
        self.c = c
        self.by_key: dict[int, list[int]] = {}
        self.heads: dict[int, tuple[str, str, float | None]] = {}
        self.bands: list[tuple[int, int]] = []
        keys = {k for title, text in texts for k in dedup.fingerprint(title, text).keys}
        for part in chunked(keys):
            for key, item_id, title, text, jd in c.execute(
                    f"SELECT b.key, b.item_id, i.title, i.text, julianday(i.published_at) FROM dup_bands b "
                    f"JOIN items i ON i.id = b.item_id WHERE b.key IN ({', '.join('?' * len(part))})", part):
                self.by_key.setdefault(key, []).append(item_id)
                self.heads[item_id] = (title, text, jd)

    def inserted(self, item_id: int, title: str, text: str, published_at: str) -> int:
        """The story of an item inserted now (in id order) under `item_id`; the caller stores it with the item."""
        fp = dedup.fingerprint(title, text)
        story = None
        if fp.keys:
            jd = julianday(published_at)
            near = sorted({i for k in fp.keys for i in self.by_key.get(k, ()) if i != item_id})
            cands = [i for i in near
                     if self.heads[i][2] is not None and abs(self.heads[i][2] - jd) <= STORY_WINDOW_DAYS]
            for cand in cands[:MAX_CANDIDATES]:
                ctitle, ctext, _ = self.heads[cand]
                if fp.similar(dedup.fingerprint(ctitle, ctext)):
                    story = cand
                    break
        if story is None:
            story = item_id
            if fp.keys:
                self.heads[item_id] = (title, text, jd)
                for k in fp.keys:
                    self.by_key.setdefault(k, []).append(item_id)
                self.bands += [(k, item_id) for k in fp.keys]
        return story

    def updated(self, item_id: int, title: str, text: str, published_at: str) -> None:
        """A stored item got new content; its band keys stay those of its first version."""
        if item_id in self.heads:
            self.heads[item_id] = (title, text, julianday(published_at))

    def flush(self) -> None:
        """Store the band keys of the stories this batch started."""
        self.c.executemany("INSERT OR IGNORE INTO dup_bands (key, item_id) VALUES (?, ?)", self.bands)
        self.bands = []


def rebuild_bands(store: Store, progress=None, batch: int = 2000) -> int:
    """Band keys of every first report (`story_id = id`), from its stored text, in one transaction.

    After a change of the band layout (migration 0022). A first report whose text was
    updated is banded by its current text, not its first version's. Returns the number
    of first reports banded.
    """
    with store.atomic() as c:
        total = c.execute("SELECT count(*) FROM items WHERE story_id = id").fetchone()[0]
        c.execute("DELETE FROM dup_bands")
        done = last = 0
        while rows := c.execute("SELECT id, title, text FROM items WHERE story_id = id AND id > ? ORDER BY id "
                                "LIMIT ?", (last, batch)).fetchall():
            c.executemany("INSERT OR IGNORE INTO dup_bands (key, item_id) VALUES (?, ?)",
                          [(k, r[0]) for r in rows for k in dedup.fingerprint(r[1], r[2]).keys])
            last = rows[-1][0]
            done += len(rows)
            if progress:
                progress(done, total)
        c.execute("DELETE FROM pending_rebuilds WHERE what = 'dup_bands'")
    return done


def julianday(stamp: str) -> float:
    """SQLite's julianday() of a stored UTC timestamp, computed the same way (whole milliseconds)."""
    d = datetime.fromisoformat(stamp) - _UNIX_EPOCH
    return (d.days * 86_400_000 + d.seconds * 1000 + d.microseconds // 1000 + 210_866_760_000_000) / 86_400_000.0


# -- read side -----------------------------------------------------------------------

def _pd():
    # pandas is imported by the read side only: the collector stores items through
    # StoryBatch and must not pay pandas' ~0.5 s import at every start.
    import pandas
    return pandas


def story_members(store: Store, story_id: int, limit: int = 200) -> pd.DataFrame:
    """Every stored item of one story, first report first: columns id, published_at, title, source,
    platform, url, polarity."""
    rows = store.conn.execute(
        "SELECT id, published_at, title, source, platform, url, polarity FROM items WHERE story_id = ? "
        "ORDER BY published_at, id LIMIT ?", (int(story_id), max(1, min(int(limit), 5000)))).fetchall()
    return _pd().DataFrame([tuple(r) for r in rows],
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
    return _pd().DataFrame(out, columns=["story_id", "items", "outlets", "negative", "first_at", "last_at",
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
        return _pd().DataFrame(columns=["story_id", "day", "count"])
    rows = store.conn.execute(
        f"SELECT story_id, date(published_at, '+8 hours'), count(*) FROM items "
        f"WHERE story_id IN ({', '.join('?' * len(story_ids))}) AND published_at >= ? AND published_at < ? "
        "GROUP BY 1, 2 ORDER BY 1, 2", [*story_ids, iso(start), iso(end)]).fetchall()
    return _pd().DataFrame([tuple(r) for r in rows], columns=["story_id", "day", "count"])


def story_sources(store: Store, story_id: int, limit: int = 20) -> pd.DataFrame:
    """Outlets that carried a story, most items first: columns source, platform, count, first_at."""
    rows = store.conn.execute(
        "SELECT source, min(platform), count(*) AS n, min(published_at) FROM items WHERE story_id = ? "
        "GROUP BY source ORDER BY n DESC, 4 LIMIT ?", (int(story_id), max(1, min(int(limit), 500)))).fetchall()
    return _pd().DataFrame([tuple(r) for r in rows], columns=["source", "platform", "count", "first_at"])


def own_reach(store: Store, own_sources: tuple[str, ...], start: datetime, end: datetime,
              limit: int = 50) -> pd.DataFrame:
    """The office's own releases (items from own sources published in the window) and how far they
    travelled: columns story_id, title, source, published_at, url, reposts, outlets."""
    if not own_sources:
        return _pd().DataFrame(columns=["story_id", "title", "source", "published_at", "url", "reposts", "outlets"])
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
    return _pd().DataFrame([tuple(r) for r in rows],
                             columns=["story_id", "title", "source", "published_at", "url", "reposts", "outlets"])


def reposts_by(store: Store, story_ids: list[int], own_sources: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reposts (items of these stories from other outlets): by outlet (source, platform, count)
    and by Beijing day (day, count)."""
    if not story_ids:
        return (_pd().DataFrame(columns=["source", "platform", "count"]), _pd().DataFrame(columns=["day", "count"]))
    ids = ", ".join("?" * len(story_ids))
    own = ", ".join("?" * len(own_sources)) or "''"
    base = f"FROM items WHERE story_id IN ({ids}) AND source NOT IN ({own})"
    args = [*story_ids, *own_sources]
    by_outlet = store.conn.execute(f"SELECT source, min(platform), count(*) AS n {base} GROUP BY source "
                                   "ORDER BY n DESC, source", args).fetchall()
    by_day = store.conn.execute(f"SELECT date(published_at, '+8 hours') AS d, count(*) {base} GROUP BY d "
                                "ORDER BY d", args).fetchall()
    return (_pd().DataFrame([tuple(r) for r in by_outlet], columns=["source", "platform", "count"]),
            _pd().DataFrame([tuple(r) for r in by_day], columns=["day", "count"]))
