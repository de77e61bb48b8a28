"""The store: one SQLite file in WAL mode, the only module that writes SQL.

Readers (the dashboard) and the writer (the collector process) are separate
processes sharing the file; WAL plus a busy timeout keeps them out of each
other's way.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from collectors.base import Item
from monitor.migrations import MIGRATIONS
from monitor.search import index_text
from sentiment.judgement import Judgement

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# Up to this many items, a missing full-text index is built when the store opens (~1 s per 2,000).
BACKFILL_ON_OPEN = 20_000


class StoreError(Exception):
    """The database cannot be opened or is not one of ours."""


# What SQLite raises on a write that fails after the store opened (a read-only file, a full disk, a lock
# held past the busy timeout): callers outside the storage layer catch it without importing sqlite3.
DatabaseError = sqlite3.Error


def iso(dt: datetime) -> str:
    """UTC, second precision, explicit zone: sorts as text and reads back as aware datetimes."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime reached the store; collectors must attach a zone")
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


@dataclass
class AddCounts:
    new: int = 0
    duplicate: int = 0
    updated: int = 0

    def __iadd__(self, other: "AddCounts") -> "AddCounts":
        self.new += other.new
        self.duplicate += other.duplicate
        self.updated += other.updated
        return self


class Store:
    def __init__(self, path: str | Path, *, readonly: bool = False, check_same_thread: bool = True):
        self.path = Path(path)
        self.readonly = readonly
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a database file")
        try:
            if readonly:
                if not self.path.exists():
                    raise StoreError(f"找不到数据库：{self.path}")
                # as_uri() escapes '#', '?' and '%', which would otherwise end the path inside the URI.
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, check_same_thread=check_same_thread)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, check_same_thread=check_same_thread,
                                            isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except (OSError, sqlite3.Error) as e:
            raise StoreError(f"cannot open {self.path}: {e}") from e
        if not readonly:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.DatabaseError as e:
                raise StoreError(f"{self.path} is not a SQLite database: {e}") from e
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.migrate()
            self._backfill_search_index()
            self._rebuild_story_bands_if_pending()

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """All or nothing; nests (inner blocks become savepoints)."""
        if self.conn.in_transaction:
            name = f"sp{id(object())}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            self.conn.execute(f"RELEASE {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """How many migrations this file has had."""
        return self.conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY rowid")]

    def migrate(self) -> int:
        """Apply, in list order, each migration this file has not had, each in its own transaction.

        Steps are recorded by name (not by count) so that steps added on parallel
        branches land without renumbering.
        """
        try:
            self.conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                              "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a SQLite database: {e}") from e
        done = set(self.applied_migrations())
        known = {name for name, _ in MIGRATIONS}
        if unknown := done - known:
            raise StoreError(f"{self.path} has migrations this program does not know "
                             f"(written by a newer version?): {sorted(unknown)}")
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            log.info("migrating %s: %s", self.path, name)
            with self.atomic():
                for statement in _statements(sql):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                                  (name, now_iso()))
        return self.schema_version

    def _backfill_search_index(self) -> None:
        # A migration cannot run jieba: a database from before search gets its index on the
        # first writable open (small ones at once; a big one via `python -m monitor reindex`).
        if not self.search_index_missing():
            return
        n = self.count_items()
        if n <= BACKFILL_ON_OPEN:
            log.info("building the full-text index for %d items", n)
            self.reindex()
        else:
            log.warning("%s: %d items have no full-text index; run `python -m monitor reindex`", self.path, n)

    def _rebuild_story_bands_if_pending(self) -> None:
        # Like the search index: a migration cannot compute MinHash keys (0022_dup_bands_10x3).
        if not self.story_bands_pending():
            return
        n = self.conn.execute("SELECT count(*) FROM items WHERE story_id = id").fetchone()[0]
        if n <= BACKFILL_ON_OPEN:
            log.info("re-banding %d first reports for story look-up", n)
            self.rebuild_story_bands()
        else:
            log.warning("%s: %d first reports have no story look-up keys; run `python -m monitor rebuild-bands`",
                        self.path, n)

    def story_bands_pending(self) -> bool:
        """True when the story look-up keys of stored first reports still have to be rebuilt."""
        return bool(self.conn.execute("SELECT 1 FROM pending_rebuilds WHERE what = 'dup_bands'").fetchone())

    def rebuild_story_bands(self, progress=None) -> int:
        """Recompute the story look-up keys of every stored first report; `progress(done, total)` per batch."""
        from monitor.story_store import rebuild_bands   # story_store reads through Store: import late
        return rebuild_bands(self, progress)

    # -- items -----------------------------------------------------------
    def add_items(self, judged: Iterable[tuple[Item, Judgement]], *, sample: bool = False,
                  readings: Sequence | None = None) -> AddCounts:
        """Store items with their judgements. Same key and content: duplicate; same key, new content: updated.

        An item whose exact content this source already gave under another link
        (a re-tracked URL the canonicaliser does not know) is also a duplicate.
        One transaction; the stored rows a batch is checked against are read with
        a few queries for the whole batch, and the result is the same as adding
        the items one by one in order. `readings` (optional, one per item): what the
        judge read of each item (sentiment.judge.Reading), reused by the search index.
        """
        from monitor.story_store import StoryBatch  # story_store reads through Store: import late
        counts = AddCounts()
        keyed = [(item, j, item.key, item.hash) for item, j in judged]
        if readings is not None and len(readings) != len(keyed):
            raise ValueError(f"{len(readings)} readings for {len(keyed)} items")
        if not keyed:
            return counts
        with self.atomic() as c:
            rows = _rows_by_key(c, {k for _, _, k, _ in keyed})
            held = _hash_counts(c, {h for _, _, _, h in keyed})
            stories = StoryBatch(c, [(item.title, item.text) for item, _, k, _ in keyed if k not in rows])
            # New rows are written together at the end, under the ids SQLite would give them one by one
            # (one more than the largest; this transaction is the only writer), so that each row
            # carries its story from the start.
            next_id = c.execute("SELECT coalesce(max(id), 0) + 1 FROM items").fetchone()[0]
            pending: dict[int, dict] = {}
            tokens: dict[int, str] = {}          # items_fts rows to write, by item id
            for n, (item, j, key, h) in enumerate(keyed):
                row = rows.get(key)
                if row is None and held.get((h, item.source)):
                    counts.duplicate += 1
                    continue
                values = _item_values(item, j) | {"key": key, "content_hash": h, "is_sample": int(sample)}
                if row is None:
                    item_id, next_id = next_id, next_id + 1
                    values["id"] = item_id
                    values["story_id"] = stories.inserted(item_id, item.title, item.text, values["published_at"])
                    pending[item_id] = values
                    rows[key] = [item_id, h, item.source]
                    held[(h, item.source)] = held.get((h, item.source), 0) + 1
                    tokens[item_id] = index_text(item.title, item.text, readings[n] if readings else None)
                    counts.new += 1
                elif row[1] == h:
                    counts.duplicate += 1
                else:
                    values.pop("fetched_at")
                    values.pop("is_sample")
                    if row[0] in pending:        # inserted earlier in this batch: it is stored as updated
                        pending[row[0]].update(values)
                    else:
                        sets = ", ".join(f"{k}=:{k}" for k in values if k != "key")
                        c.execute(f"UPDATE items SET {sets} WHERE key=:key", values)
                        if row[0] not in tokens:
                            c.execute("DELETE FROM items_fts WHERE rowid = ?", (row[0],))
                    if (row[1], row[2]) in held:
                        held[(row[1], row[2])] -= 1
                    row[1], row[2] = h, item.source
                    held[(h, item.source)] = held.get((h, item.source), 0) + 1
                    tokens[row[0]] = index_text(item.title, item.text, readings[n] if readings else None)
                    stories.updated(row[0], item.title, item.text, values["published_at"])
                    counts.updated += 1
            if pending:
                cols = list(next(iter(pending.values())))
                c.executemany(f"INSERT INTO items ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                              [tuple(v[k] for k in cols) for v in pending.values()])
            c.executemany("INSERT INTO items_fts (rowid, tokens) VALUES (?, ?)", tokens.items())
            stories.flush()
        return counts

    def stored_duplicates(self, items: Sequence[Item]) -> list[bool]:
        """For each item, True when storing it now would count as a duplicate: its key is stored with the
        same content, or its key is new but its source already gave the same content.

        Lets the collector skip judging what a re-fetched feed still carries.
        """
        keyed = [(item.key, item.hash, item.source) for item in items]
        if not keyed:
            return []
        rows = _rows_by_key(self.conn, {k for k, _, _ in keyed})
        held = _hash_counts(self.conn, {h for k, h, _ in keyed if k not in rows})
        return [rows[k][1] == h if k in rows else bool(held.get((h, src))) for k, h, src in keyed]

    def stored_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of these item keys (canonical URLs) are stored: an indexed look-up of just these keys."""
        return set(_rows_by_key(self.conn, {k for k in keys if k}))

    def stored_titles(self, items: Sequence[Item]) -> dict[str, str]:
        """{key: stored title} for the items whose link is already stored, whatever its content."""
        keys = list({item.key for item in items})
        if not keys:
            return {}
        marks = ", ".join("?" * len(keys))
        return {r[0]: r[1] for r in self.conn.execute(f"SELECT key, title FROM items WHERE key IN ({marks})", keys)}

    # -- full-text index ---------------------------------------------------
    def search_index_missing(self) -> bool:
        """True when items exist but the full-text index has none (a database from before search)."""
        return bool(self.conn.execute("SELECT 1 FROM items LIMIT 1").fetchone()
                    and not self.conn.execute("SELECT 1 FROM items_fts LIMIT 1").fetchone())

    def reindex(self, progress=None, batch: int = 2000) -> int:
        """Rebuild the full-text index from the stored items; `progress(done, total)` after each batch."""
        total = self.count_items()
        done = 0
        with self.atomic() as c:
            c.execute("DELETE FROM items_fts")
            last = 0
            while rows := c.execute("SELECT id, title, text FROM items WHERE id > ? ORDER BY id LIMIT ?",
                                    (last, batch)).fetchall():
                for r in rows:
                    _index_item(c, r[0], r[1], r[2])
                last = rows[-1][0]
                done += len(rows)
                if progress:
                    progress(done, total)
        return done

    def apply_correction(self, item_id: int, field: str, value, user: str, note: str = "") -> int:
        """Staff correct an item (误判, polarity, IP type): the correction is recorded for training and the
        item shows the corrected value from now on. All or nothing; returns the correction id."""
        field, stored = normalize_correction(field, value)
        with self.atomic() as c:
            cid = self.add_correction(int(item_id), field, value, user, note)
            updates = correction_updates(field, stored)
            sets = ", ".join(f"{k}=?" for k in updates)
            c.execute(f"UPDATE items SET {sets} WHERE id=?", (*updates.values(), int(item_id)))
        return cid

    def update_judgements(self, judged: Iterable[tuple[int, Judgement]]) -> list[tuple[int, bool, bool]]:
        """Re-judge stored items in place (after a model retrain). Staff corrections stay: each item's
        corrections are replayed, oldest first, over its new judgement. All or nothing; returns
        (item id, negative before, negative after) per stored item."""
        judged = list(judged)
        out: list[tuple[int, bool, bool]] = []
        with self.atomic() as c:
            ids = [int(i) for i, _ in judged]
            before: dict[int, tuple[str, bool]] = {}
            fixes: dict[str, list[tuple[str, str]]] = {}
            for part in chunked(ids):
                marks = ", ".join("?" * len(part))
                for r in c.execute(f"SELECT id, key, negative FROM items WHERE id IN ({marks})", part):
                    before[r[0]] = (r[1], bool(r[2]))
            # By key, not id: a correction outlives its item being deleted and collected again.
            for part in chunked({k for k, _ in before.values()}):
                for r in c.execute(f"SELECT item_key, field, value FROM corrections WHERE item_key IN "
                                   f"({', '.join('?' * len(part))}) ORDER BY created_at, id", part):
                    fixes.setdefault(r[0], []).append((r[1], r[2]))
            for item_id, j in judged:
                item_id = int(item_id)
                if item_id not in before:
                    continue
                key, was = before[item_id]
                values = _judgement_values(j)
                for field, stored in fixes.get(key, []):
                    values |= correction_updates(field, stored)
                sets = ", ".join(f"{k}=:{k}" for k in values)
                c.execute(f"UPDATE items SET {sets} WHERE id=:id", values | {"id": item_id})
                out.append((item_id, was, bool(values["negative"])))
        return out

    def remove_sample_items(self) -> int:
        with self.atomic() as c:
            return c.execute("DELETE FROM items WHERE is_sample=1").rowcount

    def count_items(self, *, sample: bool | None = None, since: str | None = None) -> int:
        """Stored items (only sample or only collected ones; published on or after `since`)."""
        where, args = [], []
        if sample is not None:
            where.append("is_sample=?")
            args.append(int(sample))
        if since:
            where.append("published_at >= ?")
            args.append(since)
        sql = "SELECT count(*) FROM items" + (" WHERE " + " AND ".join(where) if where else "")
        return self.conn.execute(sql, args).fetchone()[0]

    def iter_items(self, since: str | None = None, batch: int = 1000) -> Iterator[dict]:
        """Every stored item (oldest first) as a plain dict; `since` is an ISO date or datetime in UTC."""
        sql = "SELECT * FROM items"
        args: tuple = ()
        if since:
            sql += " WHERE published_at >= ?"
            args = (since,)
        cur = self.conn.execute(sql + " ORDER BY published_at, id", args)
        while rows := cur.fetchmany(batch):
            for r in rows:
                yield item_row(r)

    def item_text_page(self, after_id: int, limit: int, since: str | None = None) -> list[tuple[int, str, str]]:
        """(id, title, text) of up to `limit` items with id > after_id (published on or after `since`),
        by id: keyset pages, so a caller may write between pages without holding a read cursor open."""
        sql, args = "SELECT id, title, text FROM items WHERE id > ?", [after_id]
        if since:
            sql += " AND published_at >= ?"
            args.append(since)
        return [(r[0], r[1], r[2]) for r in self.conn.execute(sql + " ORDER BY id LIMIT ?", (*args, limit))]

    def corrected_item_ids(self) -> set[int]:
        """Stored items that carry staff corrections (matched by key, as `update_judgements` replays them)."""
        return {r[0] for r in self.conn.execute(
            "SELECT DISTINCT i.id FROM items i JOIN corrections c ON c.item_key = i.key")}

    def item_texts(self, batch: int = 1000) -> Iterator[tuple[int, str, str]]:
        cur = self.conn.execute("SELECT id, title, text FROM items ORDER BY id")
        while rows := cur.fetchmany(batch):
            yield from ((r[0], r[1], r[2]) for r in rows)

    # -- runs and feed state ----------------------------------------------
    def start_run(self, source: str) -> int:
        with self.atomic() as c:
            return c.execute("INSERT INTO runs (source, started_at) VALUES (?, ?)",
                             (source, now_iso())).lastrowid

    def finish_run(self, run_id: int, *, status: str, fetched: int = 0, new: int = 0,
                   duplicate: int = 0, error: str | None = None) -> None:
        if status not in ("ok", "error", "not_modified"):
            raise ValueError(f"unknown run status {status!r}")
        with self.atomic() as c:
            c.execute("UPDATE runs SET finished_at=?, status=?, fetched=?, new=?, duplicate=?, error=? "
                      "WHERE id=?", (now_iso(), status, fetched, new, duplicate, error, run_id))

    def feed_state(self, source: str, url: str | None = None) -> tuple[str | None, str | None]:
        """The saved (ETag, Last-Modified) of a source; with `url`, only when they were saved for that
        address (validators of a source's previous URL must not be sent to its new one)."""
        row = self.conn.execute("SELECT etag, last_modified, url FROM feed_state WHERE source=?",
                                (source,)).fetchone()
        if row is None or (url is not None and row["url"] != url):
            return None, None
        return row["etag"], row["last_modified"]

    def save_feed_state(self, source: str, etag: str | None, last_modified: str | None, url: str = "") -> None:
        with self.atomic() as c:
            c.execute("INSERT INTO feed_state (source, etag, last_modified, updated_at, url) VALUES (?,?,?,?,?) "
                      "ON CONFLICT(source) DO UPDATE SET etag=excluded.etag, "
                      "last_modified=excluded.last_modified, updated_at=excluded.updated_at, url=excluded.url, "
                      "not_before=NULL", (source, etag, last_modified, now_iso(), url))

    def set_not_before(self, source: str, until: datetime) -> None:
        """Do not collect `source` before `until` (its server asked so with Retry-After)."""
        with self.atomic() as c:
            c.execute("INSERT INTO feed_state (source, updated_at, not_before) VALUES (?,?,?) "
                      "ON CONFLICT(source) DO UPDATE SET not_before=excluded.not_before",
                      (source, now_iso(), iso(until)))

    def waiting_sources(self, now: datetime) -> dict[str, datetime]:
        """Sources whose server asked not to be asked again yet: name -> not before (UTC)."""
        try:
            rows = self.conn.execute("SELECT source, not_before FROM feed_state WHERE not_before > ?",
                                     (iso(now),)).fetchall()
        except sqlite3.OperationalError:      # a read-only look at a database not yet migrated
            return {}
        return {r[0]: datetime.fromisoformat(r[1]) for r in rows}

    # -- staff corrections (sentiment training reads them) ----------------
    def add_correction(self, item: int | str, field: str, value, user: str, note: str = "") -> int:
        """Record that staff corrected one field of an item's judgement; returns the correction id.

        `item` is an items.id (int) or items.key (str). The item's title and text
        are copied so the correction still trains the model after the item is gone.
        """
        field, value = normalize_correction(field, value)
        user = (user or "").strip()
        if not user:
            raise ValueError("a correction needs the user who made it")
        col = "id" if isinstance(item, int) else "key"
        row = self.conn.execute(f"SELECT id, key, title, text FROM items WHERE {col}=?", (item,)).fetchone()
        if row is None:
            raise KeyError(f"no stored item with {col} {item!r}")
        with self.atomic() as c:
            return c.execute(
                "INSERT INTO corrections (item_id, item_key, title, text, field, value, user, note, created_at) "
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (row["id"], row["key"], row["title"], row["text"], field, value, user, note or "", now_iso()),
            ).lastrowid

    def corrections(self, item: int | str | None = None) -> list[dict]:
        """Every correction, oldest first (or those of one item, by id or key)."""
        sql = "SELECT * FROM corrections"
        args: tuple = ()
        if item is not None:
            sql += " WHERE item_id=?" if isinstance(item, int) else " WHERE item_key=?"
            args = (item,)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY created_at, id", args)]


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; triggers (with inner semicolons) stay whole."""
    out, buf = [], ""
    for part in sql.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    return out


# Host parameters per IN (...) list: well below SQLite's limit (32,766; 999 before 3.32).
IN_CHUNK = 500


def chunked(values, size: int = IN_CHUNK) -> Iterator[list]:
    values = list(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _rows_by_key(c: sqlite3.Connection, keys: set[str]) -> dict[str, list]:
    """key -> [id, content_hash, source] of the stored items with these keys."""
    out: dict[str, list] = {}
    for part in chunked(keys):
        for r in c.execute(f"SELECT key, id, content_hash, source FROM items WHERE key IN "
                           f"({', '.join('?' * len(part))})", part):
            out[r[0]] = [r[1], r[2], r[3]]
    return out


def _hash_counts(c: sqlite3.Connection, hashes: set[str]) -> dict[tuple[str, str], int]:
    """(content_hash, source) -> how many stored items have it, for these hashes."""
    out: dict[tuple[str, str], int] = {}
    for part in chunked(hashes):
        for r in c.execute(f"SELECT content_hash, source, count(*) FROM items WHERE content_hash IN "
                           f"({', '.join('?' * len(part))}) GROUP BY content_hash, source", part):
            out[(r[0], r[1])] = r[2]
    return out


def _index_item(c: sqlite3.Connection, item_id: int, title: str, text: str) -> None:
    c.execute("INSERT INTO items_fts (rowid, tokens) VALUES (?, ?)", (item_id, index_text(title, text)))


def _json_list(values) -> str:
    return json.dumps(list(values), ensure_ascii=False) if values else "[]"


def _judgement_values(j: Judgement) -> dict:
    return {
        "negative": int(j.negative), "p_negative": float(j.p_negative), "polarity": j.polarity,
        "topic": j.topic, "ip_type": j.ip_type, "ip_types": _json_list(j.ip_types),
        "channel": j.channel, "province": j.province, "city": j.city, "region": j.region,
        "reasons": _json_list(j.reasons),
    }


def _item_values(item: Item, j: Judgement) -> dict:
    return {
        "url": item.url, "title": item.title, "text": item.text, "source": item.source,
        "platform": item.platform, "author": item.author, "published_at": iso(item.published_at),
        "published_estimated": int(item.published_estimated), "fetched_at": iso(item.fetched_at),
        "schemes": _json_list(item.schemes),
    } | _judgement_values(j)


def item_row(r: sqlite3.Row) -> dict:
    d = dict(r)
    d["negative"] = None if d.get("negative") is None else bool(d["negative"])
    for k in ("ip_types", "reasons", "schemes"):
        if k in d:
            d[k] = json.loads(d[k] or "[]")
    for k in ("published_estimated", "is_sample"):
        if k in d:
            d[k] = bool(d[k])
    return d


CORRECTION_FIELDS = ("negative", "ip_type", "topic", "polarity")


def correction_updates(field: str, stored: str) -> dict:
    """The item columns one (normalized) correction sets. A verdict and its tone move together, and an
    item corrected to off-topic is no longer flagged: off-topic items never count as negative opinion."""
    if field == "negative":
        return {"negative": int(stored == "yes"), "polarity": "negative" if stored == "yes" else "neutral"}
    if field == "polarity":
        return {"polarity": stored, "negative": int(stored == "negative")}
    if field == "topic":
        return {"topic": stored} | ({"negative": 0, "polarity": "neutral"} if stored == "off" else {})
    return {field: stored}


def normalize_correction(field: str, value) -> tuple[str, str]:
    """Check a correction and give its stored text form; ValueError on anything else."""
    from sentiment.judgement import IP_TYPES, POLARITIES

    if field not in CORRECTION_FIELDS:
        raise ValueError(f"cannot correct {field!r}; one of {', '.join(CORRECTION_FIELDS)}")
    v = value.strip().lower() if isinstance(value, str) else value
    if field == "negative":
        if v in (True, 1, "1", "yes", "true", "y", "是", "negative"):
            return field, "yes"
        if v in (False, 0, "0", "no", "false", "n", "否", "non-negative"):
            return field, "no"
        raise ValueError(f"negative must be yes or no, got {value!r}")
    if field == "ip_type" and value in IP_TYPES:
        return field, value
    if field == "topic" and v in ("ip", "off"):
        return field, v
    if field == "polarity" and v in POLARITIES:
        return field, v
    raise ValueError(f"invalid {field} {value!r}")
