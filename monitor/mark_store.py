"""标记重要 / 已读 on single items, with who and when. 误判 and corrected polarity or IP type are
corrections (Store.apply_correction), because the model learns from them."""
from __future__ import annotations

from monitor.store import Store, now_iso

MARKS = {"important": "重要", "read": "已读"}


def set_mark(store: Store, item_id: int, mark: str, actor: str, on: bool = True) -> bool:
    """Set or clear one mark; returns whether anything changed. Unknown marks or items are errors."""
    if mark not in MARKS:
        raise ValueError(f"未知的标记 {mark!r}（可用：{'、'.join(MARKS.values())}）")
    actor = (actor or "").strip()
    if not actor:
        raise ValueError("请填写操作人")
    with store.atomic() as c:
        if c.execute("SELECT 1 FROM items WHERE id = ?", (int(item_id),)).fetchone() is None:
            raise KeyError(f"信息 {item_id} 不存在")
        if on:
            return c.execute("INSERT OR IGNORE INTO item_marks (item_id, mark, actor, at) VALUES (?,?,?,?)",
                             (int(item_id), mark, actor, now_iso())).rowcount > 0
        # "Important" is one flag for the office (anyone clears it); "read" is each person's own.
        if mark == "important":
            return c.execute("DELETE FROM item_marks WHERE item_id = ? AND mark = ?",
                             (int(item_id), mark)).rowcount > 0
        return c.execute("DELETE FROM item_marks WHERE item_id = ? AND mark = ? AND actor = ?",
                         (int(item_id), mark, actor)).rowcount > 0
