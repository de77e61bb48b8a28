"""立即采集 requests: the dashboard asks, the collector process (`run --every`) answers.

The dashboard never collects: it only inserts a row. The collector polls for the
oldest pending request between waits, claims it, runs one pass over every
enabled source and records progress as it goes, so the 信息源 page can show it.
A request asked for while another is pending or running is that same request.
"""
from __future__ import annotations

from monitor import users
from monitor.store import Store, now_iso

STATUS_ZH = {"pending": "等待采集进程", "running": "采集中", "done": "已完成", "failed": "未完成"}
_FIELDS = ("id", "requested_by", "requested_at", "status", "started_at", "finished_at", "total", "done",
           "new", "failed", "message")


def request_collect(store: Store, user) -> int:
    """Ask the collector for one pass now; returns the request id. Only handlers and admins may ask."""
    if not users.can(user, "handle"):
        raise users.UserError("只有处置人员或管理员可以发起立即采集")
    with store.atomic() as c:
        open_ = c.execute("SELECT id FROM collect_requests WHERE status IN ('pending', 'running') "
                          "ORDER BY id LIMIT 1").fetchone()
        if open_ is not None:
            return int(open_[0])
        return int(c.execute("INSERT INTO collect_requests (requested_by, requested_at) VALUES (?, ?)",
                             (user.username, now_iso())).lastrowid)


def pending(store: Store) -> int | None:
    """The oldest request waiting for the collector, if any."""
    row = store.conn.execute("SELECT id FROM collect_requests WHERE status = 'pending' ORDER BY id LIMIT 1"
                             ).fetchone()
    return int(row[0]) if row else None


def mark_started(store: Store, request_id: int, total: int) -> None:
    with store.atomic() as c:
        c.execute("UPDATE collect_requests SET status = 'running', started_at = ?, total = ?, done = 0 "
                  "WHERE id = ?", (now_iso(), int(total), int(request_id)))


def mark_progress(store: Store, request_id: int, *, done: int, new: int, failed: int) -> None:
    with store.atomic() as c:
        c.execute("UPDATE collect_requests SET done = ?, new = ?, failed = ? WHERE id = ?",
                  (int(done), int(new), int(failed), int(request_id)))


def mark_finished(store: Store, request_id: int, *, ok: bool = True, message: str | None = None) -> None:
    with store.atomic() as c:
        c.execute("UPDATE collect_requests SET status = ?, finished_at = ?, message = ? WHERE id = ?",
                  ("done" if ok else "failed", now_iso(), message, int(request_id)))


def abandon_running(store: Store, message: str = "采集进程重启，本次请求中断") -> int:
    """A collector starting up fails requests a previous (killed) process left running."""
    with store.atomic() as c:
        return c.execute("UPDATE collect_requests SET status = 'failed', finished_at = ?, message = ? "
                         "WHERE status = 'running'", (now_iso(), message)).rowcount


def latest(store: Store) -> dict | None:
    """The most recent request as a dict (for the 信息源 page), or None."""
    row = store.conn.execute(f"SELECT {', '.join(_FIELDS)} FROM collect_requests ORDER BY id DESC LIMIT 1"
                             ).fetchone()
    return dict(zip(_FIELDS, tuple(row))) if row else None
