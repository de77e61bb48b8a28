"""Storage of issued briefings: all SQL for the `briefings` table (期号 per kind and year).

A briefing is issued when staff generate its Word file. Issuing the same
period again (a corrected re-issue) keeps its 期号; only the stored texts and
the issue time change. Numbers are taken inside one write transaction, so two
people issuing at once cannot get the same number.
"""
from __future__ import annotations

import json
from datetime import date

from monitor.store import Store, now_iso


class BriefingStore:
    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn

    def find(self, kind: str, start: date, end: date) -> dict | None:
        row = self.conn.execute(
            "SELECT * FROM briefings WHERE kind = ? AND period_start = ? AND period_end = ?",
            (kind, start.isoformat(), end.isoformat())).fetchone()
        return _decode(row)

    def next_number(self, kind: str, year: int) -> int:
        """The 期号 the next new briefing of this kind and year would get."""
        row = self.conn.execute("SELECT max(number) FROM briefings WHERE kind = ? AND year = ?",
                                (kind, int(year))).fetchone()
        return int(row[0] or 0) + 1

    def issue(self, kind: str, year: int, start: date, end: date, *, unit: str = "",
              edits: dict | None = None) -> dict:
        """Record the briefing for this period (a new 期号, or its existing one) and return its row."""
        text = json.dumps(edits or {}, ensure_ascii=False, sort_keys=True)
        now = now_iso()
        with self.store.atomic() as c:
            old = self.find(kind, start, end)
            if old is None:
                number = self.next_number(kind, year)
                c.execute("INSERT INTO briefings (kind, year, number, period_start, period_end, unit, edits, "
                          "created_at, issued_at) VALUES (?,?,?,?,?,?,?,?,?)",
                          (kind, int(year), number, start.isoformat(), end.isoformat(), unit, text, now, now))
            else:
                c.execute("UPDATE briefings SET unit = ?, edits = ?, issued_at = ? WHERE id = ?",
                          (unit, text, now, old["id"]))
            return self.find(kind, start, end)

    def issued(self, year: int | None = None, kind: str | None = None) -> list[dict]:
        """Issued briefings, newest period first."""
        sql, args = "SELECT * FROM briefings WHERE 1 = 1", []
        if year is not None:
            sql += " AND year = ?"
            args.append(int(year))
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        return [_decode(r) for r in self.conn.execute(sql + " ORDER BY period_start DESC, kind", args)]


def _decode(row) -> dict | None:
    if row is None:
        return None
    d = dict(row)
    d["edits"] = json.loads(d.get("edits") or "{}")
    return d
