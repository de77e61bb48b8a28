"""Saved views of the item list (信息流): a name and a filter set, stored so staff reuse them daily.

A view keeps the time choice as staff made it: "近7天" stays relative to the day
the view is opened; only a custom range is stored as dates.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from datetime import date
from typing import Any

from monitor.queries import ItemFilter
from monitor.store import Store, now_iso

MAX_NAME = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ViewError(ValueError):
    """A view that cannot be saved or opened; the message is for staff."""


def _name(name: str) -> str:
    n = " ".join(str(name or "").split())
    if not n:
        raise ViewError("请给视图起一个名称。")
    if len(n) > MAX_NAME or _CONTROL.search(n):
        raise ViewError(f"视图名称应为不超过 {MAX_NAME} 字的普通文字。")
    return n


def filter_to_json(f: ItemFilter, time_preset: str | None = None) -> str:
    d = asdict(f)
    for k in ("start", "end"):
        d[k] = d[k].isoformat() if d[k] else None
    d["time"] = time_preset
    return json.dumps(d, ensure_ascii=False)


def filter_from_json(text: str) -> tuple[ItemFilter, str | None]:
    try:
        d = json.loads(text)
    except ValueError:
        raise ViewError("视图内容已损坏，无法打开。") from None
    known = {f.name for f in fields(ItemFilter)}
    kw: dict[str, Any] = {}
    for k, v in d.items():
        if k not in known:
            continue
        if k in ("start", "end"):
            v = date.fromisoformat(v) if v else None
        elif isinstance(v, list):
            v = tuple(v)
        kw[k] = v
    return ItemFilter(**kw), d.get("time")


def save_view(store: Store, name: str, f: ItemFilter, actor: str, time_preset: str | None = None) -> str:
    """Save (or overwrite) a view by name; returns the cleaned name."""
    n = _name(name)
    now = now_iso()
    with store.atomic() as c:
        c.execute("INSERT INTO saved_views (name, filter, created_by, created_at, updated_at) VALUES (?,?,?,?,?) "
                  "ON CONFLICT(name) DO UPDATE SET filter=excluded.filter, updated_at=excluded.updated_at",
                  (n, filter_to_json(f, time_preset), actor or "", now, now))
    return n


def delete_view(store: Store, name: str) -> bool:
    with store.atomic() as c:
        return c.execute("DELETE FROM saved_views WHERE name = ?", (name,)).rowcount > 0


def views(store: Store) -> list[dict]:
    """Saved views by name: name, created_by, updated_at, filter (ItemFilter), time (preset or None)."""
    out = []
    for r in store.conn.execute("SELECT name, filter, created_by, updated_at FROM saved_views ORDER BY name"):
        try:
            f, preset = filter_from_json(r["filter"])
        except (ViewError, TypeError, ValueError):
            continue
        out.append({"name": r["name"], "created_by": r["created_by"], "updated_at": r["updated_at"],
                    "filter": f, "time": preset})
    return out
