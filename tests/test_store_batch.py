"""Store.add_items reads a whole batch at once: the result must be that of adding the items one by one."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from collectors.base import Item
from monitor.store import Store
from sentiment.judgement import Judgement

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
J = Judgement(negative=False, p_negative=0.1, polarity="neutral")
REPORTS = [
    ("合肥专利侵权案件宣判 企业获赔百万元",
     "合肥市中级人民法院近日对一起发明专利侵权案件作出一审判决，判令被告停止侵权并赔偿原告经济损失一百万元。"),
    ("芜湖市开展商标品牌宣传周活动", "芜湖市市场监管局在中山路步行街开展商标品牌宣传周活动，现场发放宣传资料三千余份。"),
    ("黄山毛峰地理标志保护工作推进", "黄山市知识产权局联合茶叶协会开展地理标志专用标志使用核查，规范市场秩序。"),
    ("网店销售假冒注册商标商品被查处", "蚌埠市市场监管部门查处一起网店销售假冒注册商标商品案，涉案金额十二万元。"),
    ("安庆一企业商业秘密被侵犯获赔", "安庆市法院审结一起侵犯商业秘密纠纷，前员工带走客户名单与工艺资料被判赔偿。"),
    ("短讯", "专利"),
]


def _variant(r: random.Random) -> tuple[str, str]:
    title, text = r.choice(REPORTS)
    k = r.random()
    if k < 0.3:                                  # a repost with an outlet prefix and a small edit
        return "【新华网】" + title, "原标题：" + text.replace("近日", "日前").replace("一起", "1起")
    if k < 0.4:                                  # a shortened text
        return title, text[: len(text) // 2]
    return title, text


def _batches(seed: int) -> list[list[Item]]:
    """Batches with every case the store distinguishes: new, same link again (same or new content),
    same content under another link, reposts inside one batch and across batches, dates near the
    story window's edge, items without a link."""
    r = random.Random(seed)
    out = []
    for _ in range(12):
        batch = []
        for _ in range(r.randrange(1, 25)):
            title, text = _variant(r)
            url = f"https://e{r.randrange(2)}.example.cn/{r.randrange(12)}.html" if r.random() < 0.9 else ""
            when = NOW + timedelta(days=r.choice([0, 1, 29, 30, 31, 45]), seconds=r.randrange(3))
            batch.append(Item(source=f"源{r.randrange(3)}", url=url, title=title, text=text, published_at=when,
                              fetched_at=NOW))
        out.append(batch)
    return out


def _state(store: Store) -> dict:
    return {"items": [tuple(r) for r in store.conn.execute(
                "SELECT id, key, content_hash, source, title, text, published_at, story_id FROM items ORDER BY id")],
            "bands": [tuple(r) for r in store.conn.execute("SELECT key, item_id FROM dup_bands ORDER BY 1, 2")],
            "fts": [tuple(r) for r in store.conn.execute("SELECT rowid, tokens FROM items_fts ORDER BY rowid")]}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_stores_what_adding_one_by_one_stores(tmp_path, seed):
    batched, single = Store(tmp_path / "batched.db"), Store(tmp_path / "single.db")
    got, want = [], []
    for batch in _batches(seed):
        c = batched.add_items([(it, J) for it in batch])
        got.append((c.new, c.duplicate, c.updated))
        n = [0, 0, 0]
        for it in batch:
            one = single.add_items([(it, J)])
            n = [n[0] + one.new, n[1] + one.duplicate, n[2] + one.updated]
        want.append(tuple(n))
    assert got == want
    assert sum(u for _, _, u in got) > 0 and sum(d for _, d, _ in got) > 0     # the cases did occur
    state = _state(batched)
    assert state == _state(single)
    stories = [s for *_, s in state["items"]]
    assert len(set(stories)) < len(stories)                                   # reposts were grouped


def test_repost_later_in_the_same_batch_joins_the_report(fresh_store):
    title, text = REPORTS[0]
    items = [Item(source="源1", url="https://a.example.cn/1", title=title, text=text, published_at=NOW),
             Item(source="源2", url="https://b.example.cn/1", title="【人民网】" + title, text="原标题：" + text,
                  published_at=NOW + timedelta(hours=1))]
    assert fresh_store.add_items([(it, J) for it in items]).new == 2
    stories = [r[0] for r in fresh_store.conn.execute("SELECT story_id FROM items ORDER BY id")]
    assert stories[0] == stories[1]


def test_same_link_twice_in_one_batch_is_new_then_updated(fresh_store):
    a = Item(source="源", url="https://a.example.cn/1", title="旧标题", text="旧正文", published_at=NOW)
    b = Item(source="源", url="https://a.example.cn/1?utm_source=x", title="新标题", text="新正文", published_at=NOW)
    c = fresh_store.add_items([(a, J), (b, J)])
    assert (c.new, c.updated, c.duplicate) == (1, 1, 0)
    (row,) = fresh_store.conn.execute("SELECT id, title FROM items").fetchall()
    assert row[1] == "新标题"
    assert fresh_store.conn.execute("SELECT tokens FROM items_fts WHERE rowid = ?", (row[0],)).fetchone()[0] \
        .startswith("新")


def test_stored_duplicates_tells_what_would_be_a_duplicate(fresh_store):
    kept = Item(source="源", url="https://a.example.cn/1", title="标题", text="正文", published_at=NOW)
    fresh_store.add_items([(kept, J)])
    ask = [Item(source="源", url="https://a.example.cn/1#top", title="标题", text="正文"),      # same link and text
           Item(source="源", url="https://a.example.cn/1", title="标题", text="改过的正文"),    # same link, new text
           Item(source="源", url="https://a.example.cn/2", title="标题", text="正文"),          # retracked link
           Item(source="别的源", url="https://b.example.cn/9", title="标题", text="正文"),       # other source
           Item(source="源", url="https://a.example.cn/3", title="新", text="新")]
    assert fresh_store.stored_duplicates(ask) == [True, False, True, False, False]
    assert fresh_store.add_items([(ask[0], J), (ask[2], J)]).duplicate == 2     # and storing agrees
    assert fresh_store.stored_duplicates([]) == []


def test_readings_must_match_the_items(fresh_store):
    it = Item(source="源", url="https://a.example.cn/1", title="标题", text="正文")
    with pytest.raises(ValueError):
        fresh_store.add_items([(it, J)], readings=[])
    assert fresh_store.count_items() == 0
