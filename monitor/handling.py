"""负面处置: the handling loop for negative stories, as a table of allowed moves.

    待研判 ──交办──▶ 已交办 ──回应──▶ 已回应 ──办结──▶ 已办结
       │               │ ▲ 改派          │ 退回改派
       └──无需处置──▶ 无需处置 ◀─────────┘
    已办结 / 无需处置 ──重新研判──▶ 待研判

A story (a report and its reposts) is handled once: acting on any of its items
acts on the story. A refused move raises HandlingError with a message for
staff and changes nothing. The actor is a plain name for now (user accounts
come later); every move is kept in the history with who and when.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from collectors.base import is_web_url
from monitor import handling_store
from monitor.queries import ANHUI_CITIES
from monitor.store import Store, iso

STATES = {"pending": "待研判", "assigned": "已交办", "responded": "已回应", "closed": "已办结",
          "dismissed": "无需处置"}
ACTIONS = {"assign": "交办", "respond": "回应", "close": "办结", "dismiss": "无需处置", "reopen": "重新研判"}

# (state, action) -> new state. Anything not listed is refused.
MOVES: dict[tuple[str, str], str] = {
    ("pending", "assign"): "assigned",
    ("pending", "dismiss"): "dismissed",
    ("assigned", "assign"): "assigned",      # reassign, or a new due time
    ("assigned", "respond"): "responded",
    ("assigned", "dismiss"): "dismissed",
    ("responded", "respond"): "responded",   # a further response
    ("responded", "assign"): "assigned",     # response not good enough: back to a unit
    ("responded", "close"): "closed",
    ("closed", "reopen"): "pending",
    ("dismissed", "reopen"): "pending",
}

MAX_UNIT = 40
MAX_NOTE = 2000
MAX_LINK = 2000
MAX_DUE_DAYS = 366
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class HandlingError(ValueError):
    """A move the workflow refuses, or input it cannot take; the message is for staff."""


def _text(value: str | None, limit: int, what: str) -> str:
    s = _CONTROL.sub("", str(value or "")).strip()
    if len(s) > limit:
        raise HandlingError(f"{what}过长（{len(s)} 字），请不超过 {limit} 字。")
    return s


def check_link(link: str | None) -> str:
    """A response link must be a web address (http/https); '' when none is given."""
    s = str(link or "").strip()
    if not s:
        return ""
    if len(s) > MAX_LINK or not is_web_url(s):
        raise HandlingError("回应链接应为以 http:// 或 https:// 开头的网址。")
    return s


def parse_due(text: str, now: datetime) -> datetime:
    """A due time as staff type it: "24h", "3d", or a Beijing "YYYY-MM-DD HH:MM" / "YYYY-MM-DD" (end of day)."""
    s = str(text or "").strip()
    if m := re.fullmatch(r"(\d{1,4})\s*([hd])", s, re.I):
        n = int(m.group(1))
        return now + (timedelta(hours=n) if m.group(2).lower() == "h" else timedelta(days=n))
    bj = timezone(timedelta(hours=8))
    for fmt, end_of_day in (("%Y-%m-%d %H:%M", False), ("%Y-%m-%dT%H:%M", False), ("%Y-%m-%d", True)):
        try:
            t = datetime.strptime(s, fmt).replace(tzinfo=bj)
        except ValueError:
            continue
        return t.replace(hour=23, minute=59) if end_of_day else t
    raise HandlingError(f"办理时限格式应为 24h、3d 或 YYYY-MM-DD HH:MM（北京时间），收到 {s!r}。")


@dataclass(frozen=True)
class Move:
    story_id: int
    from_state: str
    to_state: str
    action: str


def transition(store: Store, item_id: int, action: str, actor: str, *, unit: str = "",
               due: datetime | str | None = None, note: str = "", link: str = "", reason: str = "",
               now: datetime | None = None) -> Move:
    """Move the story of `item_id` by `action`; HandlingError (nothing stored) when refused."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    actor = _text(actor, 40, "操作人")
    if not actor:
        raise HandlingError("请填写操作人。")
    if action not in ACTIONS:
        raise HandlingError(f"未知的处置动作 {action!r}；可用：{', '.join(f'{k}（{v}）' for k, v in ACTIONS.items())}。")
    story = handling_store.story_of(store, item_id)
    if story is None:
        raise HandlingError(f"信息 {item_id} 不存在。")
    cur = handling_store.current(store, story)
    state = cur["state"] if cur else "pending"
    new = MOVES.get((state, action))
    if new is None:
        allowed = [ACTIONS[a] for (s, a) in MOVES if s == state]
        raise HandlingError(f"当前状态为「{STATES[state]}」，不能{ACTIONS[action]}；可以：{'、'.join(allowed)}。")
    unit = normalise_unit(_text(unit, MAX_UNIT, "承办单位"))
    note = _text(note, MAX_NOTE, "说明")
    reason = _text(reason, MAX_NOTE, "理由")
    link = check_link(link)
    due_at = None
    if action == "assign":
        if not unit:
            raise HandlingError("交办需要填写承办处室或城市。")
        if due is None or due == "":
            raise HandlingError("交办需要填写办理时限。")
        due_dt = parse_due(due, now) if isinstance(due, str) else due
        if due_dt.tzinfo is None:
            raise HandlingError("办理时限缺少时区。")
        if due_dt <= now:
            raise HandlingError("办理时限应晚于当前时间。")
        if due_dt > now + timedelta(days=MAX_DUE_DAYS):
            raise HandlingError(f"办理时限不应超过 {MAX_DUE_DAYS} 天。")
        due_at = iso(due_dt)
    if action == "respond" and not note:
        raise HandlingError("回应需要填写回应情况说明。")
    if action == "dismiss" and not reason:
        raise HandlingError("无需处置需要说明理由。")
    at = iso(now)
    row: dict[str, Any] = dict(cur) if cur else {"created_at": at, "unit": "", "due_at": None, "note": "",
                                                  "link": "", "reason": "", "assigned_at": None,
                                                  "responded_at": None, "closed_at": None}
    row.pop("story_id", None)
    row |= {"state": new, "updated_at": at, "updated_by": actor}
    if action == "assign":
        row |= {"unit": unit, "due_at": due_at, "assigned_at": row.get("assigned_at") or at}
    elif action == "respond":
        row |= {"note": note, "link": link, "responded_at": row.get("responded_at") or at}
    elif action == "close":
        row |= {"closed_at": at} | ({"note": note} if note else {})
    elif action == "dismiss":
        row |= {"reason": reason, "closed_at": at}
    elif action == "reopen":
        row |= {"closed_at": None, "reason": reason or note}
    event = {"at": at, "actor": actor, "action": action, "from_state": state, "to_state": new,
             "unit": unit, "due_at": due_at, "note": note, "link": link, "reason": reason}
    handling_store.record(store, story, row, event)
    return Move(story, state, new, action)


def is_overdue(state: str, due_at: str | None, now: datetime) -> bool:
    return state == "assigned" and bool(due_at) and datetime.fromisoformat(due_at) < now


def _hours(a: str | None, b: str | None) -> float | None:
    if not a or not b:
        return None
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600


def _median(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.median(vals), 1) if vals else None


def summary(store: Store, start: datetime, end: datetime, now: datetime | None = None) -> dict[str, Any]:
    """Handling of negative stories first seen in [start, end), for the briefing: stories per state,
    median hours from first seen to assignment, from assignment to first response, from first seen
    to closing, and how many are overdue now."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if end <= start:
        raise HandlingError("统计区间的结束应晚于开始。")
    rows = handling_store.timing_rows(store, iso(start), iso(end))
    counts = {s: 0 for s in STATES}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return {
        "stories": len(rows),
        "by_state": counts,
        "median_hours_to_assign": _median([_hours(r["seen"], r["assigned_at"]) for r in rows]),
        "median_hours_to_respond": _median([_hours(r["assigned_at"], r["responded_at"]) for r in rows]),
        "median_hours_to_close": _median([_hours(r["seen"], r["closed_at"]) for r in rows
                                          if r["state"] == "closed"]),
        "overdue": sum(is_overdue(r["state"], r["due_at"], now) for r in rows),
    }


def handling_list(store: Store, days: int = 30, states: tuple[str, ...] = (),
                  now: datetime | None = None, limit: int = 500):
    """Negative stories of the last `days` days and all open ones, with state labels and overdue flags."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    days = max(1, min(int(days), 3660))
    bad = [s for s in states if s not in STATES]
    if bad:
        raise HandlingError(f"未知的处置状态 {bad}。")
    frame = handling_store.handling_list(store, iso(now - timedelta(days=days)), tuple(states), limit)
    frame["overdue"] = [is_overdue(s, d, now) for s, d in zip(frame["state"], frame["due_at"])]
    frame["state_label"] = frame["state"].map(STATES)
    return frame


_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff])\s+|\s+(?=[\u3000-\u9fff])")


def normalise_unit(text: str | None) -> str:
    """One spelling per unit: outer spaces gone, none beside Chinese characters (黄山市 市场监管局 is
    黄山市市场监管局), other runs of spaces single. Per-unit statistics would split otherwise."""
    return _CJK_SPACE.sub("", " ".join((text or "").split()))


def check_new_unit(unit: str, options: list[str]) -> None:
    """Refuse a typed unit that is only part of a listed one (合肥 for 合肥市市场监管局): Enter takes what was
    typed so far, and a stray 合肥 would become a unit of its own."""
    if not unit or unit in options:
        return
    longer = [o for o in options if unit in o]
    if longer:
        raise HandlingError(f"「{unit}」不在列表中，是否指「{'」「'.join(longer[:3])}」？请从列表中选，"
                            "或输入完整的新单位名称")


def audit_detail(action: str, *, unit: str = "", due: str = "", note: str = "", reason: str = "",
                 now: datetime | None = None) -> dict[str, Any]:
    """What the 操作日志 records for a move: only the fields that move uses, as stored (the deadline as a
    Beijing time, not '3d')."""
    detail: dict[str, Any] = {"action": action}
    if action == "assign":
        detail["unit"] = normalise_unit(unit)
        try:
            detail["due"] = parse_due(due, now or datetime.now(timezone.utc)).astimezone(
                timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
        except HandlingError:
            detail["due"] = due
    if note and action in ("respond", "close"):
        detail["note"] = note[:200]
    if reason and action in ("dismiss", "reopen"):
        detail["reason"] = reason
    return detail


def unit_options(store: Store) -> list[str]:
    """What the 交办 form offers as 承办单位: units used before (most often first), then each Anhui city's
    market-regulation bureau (the city IP offices sit inside them). Staff may still type any other."""
    used = handling_store.used_units(store)
    cities = [f"{c}市市场监管局" for c in ANHUI_CITIES]
    return used + [c for c in cities if c not in used]


def history(store: Store, item_id: int) -> list[dict]:
    story = handling_store.story_of(store, item_id)
    return [] if story is None else handling_store.history(store, story)
