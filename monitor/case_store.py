"""Storage of casebook records: all SQL for cases, their history, flags, item links and releases.

Rows are plain dicts with JSON columns decoded. The workflow rules live in
`casebook.workflow`; this module only reads and writes, inside the Store's
transactions. Published revisions are frozen by triggers in the schema, so even
a bug above this layer cannot alter them.
"""
from __future__ import annotations

import functools
import json
import re
import sqlite3
from typing import Iterable, Iterator

from monitor.store import Store, item_row, now_iso

JSON_COLUMNS = ("keywords", "amounts", "sources", "gaps")
CASE_COLUMNS = ("id", "rev", "state", "title", "headline", "ip_type", "channel", "authority", "region",
                "year", "case_number", "parties", "keywords", "gist", "facts", "outcome", "amounts",
                "significance", "sources", "release_name", "release_publisher", "release_date",
                "detail", "gaps", "notes", "origin", "created_at", "updated_at", "published_at")
_LATEST = "rev = (SELECT max(c2.rev) FROM cases c2 WHERE c2.id = cases.id)"


class FrozenCaseError(Exception):
    """A write touched a published revision."""


def _decode(row: sqlite3.Row | None) -> dict | None:
    if row is None:
        return None
    d = dict(row)
    for k in JSON_COLUMNS:
        if k in d:
            d[k] = json.loads(d[k] or "[]")
    return d


def _encode(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        if k not in CASE_COLUMNS:
            raise KeyError(f"unknown case column {k!r}")
        out[k] = json.dumps(v, ensure_ascii=False) if k in JSON_COLUMNS else v
    return out


def _frozen_guard(fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except sqlite3.IntegrityError as e:
            if "frozen" in str(e):
                raise FrozenCaseError(str(e)) from e
            raise
    return wrapper


class CaseStore:
    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn

    def atomic(self):
        return self.store.atomic()

    # -- cases -------------------------------------------------------------
    def next_id(self, prefix: str = "CB") -> str:
        rows = self.conn.execute("SELECT DISTINCT id FROM cases WHERE id LIKE ?", (prefix + "%",)).fetchall()
        nums = [int(m.group(1)) for (i,) in rows if (m := re.fullmatch(re.escape(prefix) + r"(\d+)", i))]
        return f"{prefix}{(max(nums) + 1) if nums else 1:03d}"

    def exists(self, case_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM cases WHERE id=? LIMIT 1", (case_id,)).fetchone() is not None

    def ids_titled(self, title: str) -> list[str]:
        """Cases whose current title is exactly `title` (an import's duplicate check)."""
        return [r[0] for r in self.conn.execute(
            "SELECT c.id FROM cases c WHERE c.title = ? AND c.rev = (SELECT max(rev) FROM cases x WHERE x.id = c.id) "
            "ORDER BY c.id", (title,))]

    def insert(self, values: dict) -> None:
        now = now_iso()
        v = _encode({"rev": 1, "created_at": now, "updated_at": now} | values)
        cols = ", ".join(v)
        self.conn.execute(f"INSERT INTO cases ({cols}) VALUES ({', '.join(':' + k for k in v)})", v)

    def get(self, case_id: str, rev: int | None = None) -> dict | None:
        if rev is None:
            row = self.conn.execute("SELECT * FROM cases WHERE id=? ORDER BY rev DESC LIMIT 1",
                                    (case_id,)).fetchone()
        else:
            row = self.conn.execute("SELECT * FROM cases WHERE id=? AND rev=?", (case_id, rev)).fetchone()
        return _decode(row)

    def revisions(self, case_id: str) -> list[dict]:
        return [_decode(r) for r in self.conn.execute(
            "SELECT * FROM cases WHERE id=? ORDER BY rev", (case_id,))]

    def last_published(self, case_id: str) -> dict | None:
        return _decode(self.conn.execute(
            "SELECT * FROM cases WHERE id=? AND state='published' ORDER BY rev DESC LIMIT 1",
            (case_id,)).fetchone())

    @_frozen_guard
    def update(self, case_id: str, rev: int, values: dict) -> None:
        v = _encode(values | {"updated_at": now_iso()})
        sets = ", ".join(f"{k}=:{k}" for k in v)
        n = self.conn.execute(f"UPDATE cases SET {sets} WHERE id=:_id AND rev=:_rev",
                              v | {"_id": case_id, "_rev": rev}).rowcount
        if n != 1:
            raise KeyError(f"no case {case_id} rev {rev}")

    def add_revision(self, case_id: str, values: dict) -> int:
        """Copy the latest revision as rev+1 with `values` applied; the old row is untouched."""
        cur = self.get(case_id)
        if cur is None:
            raise KeyError(case_id)
        now = now_iso()
        new = {k: cur[k] for k in CASE_COLUMNS} | values | {
            "rev": cur["rev"] + 1, "created_at": now, "updated_at": now, "published_at": None}
        v = _encode(new)
        self.conn.execute(f"INSERT INTO cases ({', '.join(v)}) VALUES ({', '.join(':' + k for k in v)})", v)
        return new["rev"]

    def search(self, *, text: str = "", states: Iterable[str] = (), ip_type: str = "", channel: str = "",
               region: str = "", year: int | None = None, limit: int = 1000) -> list[dict]:
        """Latest revision of each case matching every given filter, newest year first."""
        where, args = [_LATEST], []
        if text:
            cols = ("id", "title", "headline", "authority", "case_number", "parties", "keywords", "facts",
                    "outcome", "significance", "notes")
            where.append("(" + " OR ".join(f"instr({c}, ?) > 0" for c in cols) + ")")
            args += [text] * len(cols)
        states = list(states)
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args += states
        for col, val in (("ip_type", ip_type), ("channel", channel)):
            if val:
                where.append(f"{col} = ?")
                args.append(val)
        if region:
            where.append("instr(region, ?) > 0")
            args.append(region)
        if year:
            where.append("year = ?")
            args.append(int(year))
        sql = f"SELECT * FROM cases WHERE {' AND '.join(where)} ORDER BY year DESC, id LIMIT ?"
        return [_decode(r) for r in self.conn.execute(sql, (*args, limit))]

    def for_year(self, year: int, states: Iterable[str]) -> list[dict]:
        """Per case, its latest revision in one of `states` whose year is `year`."""
        states = list(states)
        marks = ",".join("?" * len(states))
        sql = (f"SELECT * FROM cases WHERE state IN ({marks}) AND year = ? AND rev = "
               f"(SELECT max(c2.rev) FROM cases c2 WHERE c2.id = cases.id AND c2.state IN ({marks})) "
               "ORDER BY id")
        return [_decode(r) for r in self.conn.execute(sql, (*states, year, *states))]

    def years(self) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT year FROM cases WHERE year IS NOT NULL ORDER BY year DESC")]

    def count_by_state(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute(
            f"SELECT state, count(*) FROM cases WHERE {_LATEST} GROUP BY state")}

    # -- audit history -----------------------------------------------------
    def add_event(self, case_id: str, rev: int, *, actor: str, role: str, action: str,
                  from_state: str | None, to_state: str | None, note: str = "",
                  changes: list | None = None) -> None:
        self.conn.execute(
            "INSERT INTO case_events (case_id, rev, at, actor, role, action, from_state, to_state, note, changes) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (case_id, rev, now_iso(), actor, role, action, from_state, to_state, note,
             json.dumps(changes or [], ensure_ascii=False)))

    def events(self, case_id: str) -> list[dict]:
        out = []
        for r in self.conn.execute("SELECT * FROM case_events WHERE case_id=? ORDER BY id", (case_id,)):
            d = dict(r)
            d["changes"] = json.loads(d["changes"] or "[]")
            out.append(d)
        return out

    def last_event(self, case_id: str, action: str) -> dict | None:
        r = self.conn.execute("SELECT * FROM case_events WHERE case_id=? AND action=? ORDER BY id DESC LIMIT 1",
                              (case_id, action)).fetchone()
        return dict(r) if r else None

    # -- de-identification flags ---------------------------------------------
    def flags(self, case_id: str, rev: int, status: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM case_flags WHERE case_id=? AND rev=?", [case_id, rev]
        if status:
            sql += " AND status=?"
            args.append(status)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def flag(self, flag_id: int) -> dict | None:
        r = self.conn.execute("SELECT * FROM case_flags WHERE id=?", (flag_id,)).fetchone()
        return dict(r) if r else None

    def add_flag(self, case_id: str, rev: int, *, field: str, kind: str, text: str, suggestion: str,
                 status: str = "open", decided_by: str = "", note: str = "") -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO case_flags (case_id, rev, field, kind, text, suggestion, status, "
            "decided_by, decided_at, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (case_id, rev, field, kind, text, suggestion, status, decided_by,
             now_iso() if status != "open" else None, note))

    def decide_flag(self, flag_id: int, status: str, *, by: str, note: str = "") -> None:
        self.conn.execute("UPDATE case_flags SET status=?, decided_by=?, decided_at=?, note=? WHERE id=?",
                          (status, by, now_iso(), note, flag_id))

    def delete_open_flags(self, case_id: str, rev: int) -> None:
        self.conn.execute("DELETE FROM case_flags WHERE case_id=? AND rev=? AND status='open'", (case_id, rev))

    # -- links to monitor items ------------------------------------------------
    def link_item(self, case_id: str, item_id: int | None, url: str, title: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO case_items (case_id, item_id, url, title, linked_at) "
                          "VALUES (?,?,?,?,?)", (case_id, item_id, url, title, now_iso()))

    def linked_items(self, case_id: str) -> list[dict]:
        return [dict(r) for r in self.conn.execute(
            "SELECT * FROM case_items WHERE case_id=? ORDER BY linked_at, url", (case_id,))]

    def linked_item_ids(self) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT item_id FROM case_items WHERE item_id IS NOT NULL")}

    def linked_urls(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT url FROM case_items WHERE url != ''")}

    def items_matching(self, words: Iterable[str], since: str | None = None) -> Iterator[dict]:
        """Stored monitor items whose title or text contains any of `words`, oldest first."""
        words = list(words)
        cond = " OR ".join("instr(title || ' ' || text, ?) > 0" for _ in words)
        sql, args = f"SELECT * FROM items WHERE ({cond})", list(words)
        if since:
            sql += " AND published_at >= ?"
            args.append(since)
        for r in self.conn.execute(sql + " ORDER BY published_at, id", args):
            yield item_row(r)

    # -- releases --------------------------------------------------------------
    def add_release(self, *, title: str, preface: str, issuer: str, issued_on: str, draft: bool,
                    cases: list[tuple[str, int]], created_by: str) -> int:
        return self.conn.execute(
            "INSERT INTO case_releases (title, preface, issuer, issued_on, draft, cases, created_at, created_by) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (title, preface, issuer, issued_on, int(draft), json.dumps(cases, ensure_ascii=False),
             now_iso(), created_by)).lastrowid

    def releases(self) -> list[dict]:
        out = []
        for r in self.conn.execute("SELECT * FROM case_releases ORDER BY id DESC"):
            d = dict(r)
            d["cases"] = json.loads(d["cases"])
            d["draft"] = bool(d["draft"])
            out.append(d)
        return out
