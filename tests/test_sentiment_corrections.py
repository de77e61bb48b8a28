"""Staff corrections: stored with who and when, never lost, and read by the next train."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from collectors.base import Item
from monitor.store import Store
from sentiment import dataset
from sentiment.judgement import Judgement

ROOT = Path(__file__).resolve().parent.parent


def _item(n: int, text: str, sample: bool = False) -> tuple[Item, Judgement]:
    now = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    it = Item(url=f"https://example.cn/{n}", title=f"标题{n}", text=text, source="测试源", platform="news",
              published_at=now, fetched_at=now)
    return it, Judgement(negative=False, p_negative=0.2, polarity="neutral")


@pytest.fixture
def store_with_items(db_path):
    s = Store(db_path)
    s.add_items([_item(1, "网友吐槽盗版网课泛滥"), _item(2, "海关查获侵权商品")])
    s.add_items([_item(3, "示例：商标被抢注")], sample=True)
    yield s
    s.close()


def _id(store: Store, n: int) -> int:
    return next(r["id"] for r in store.iter_items() if r["title"] == f"标题{n}")


def test_add_and_read_corrections_with_who_and_when(store_with_items):
    s = store_with_items
    cid = s.add_correction(_id(s, 1), "negative", "yes", "张三", "漏报")
    s.add_correction("https://example.cn/2", "ip_type", "商标", "李四")
    got = s.corrections()
    assert [c["id"] for c in got][0] == cid
    assert [(c["field"], c["value"], c["user"]) for c in got] == [("negative", "yes", "张三"), ("ip_type", "商标", "李四")]
    assert got[0]["note"] == "漏报" and got[0]["text"] == "网友吐槽盗版网课泛滥"
    assert datetime.fromisoformat(got[0]["created_at"]).tzinfo is not None
    assert [c["field"] for c in s.corrections(_id(s, 1))] == ["negative"]


@pytest.mark.parametrize("field, value, user", [
    ("negative", "maybe", "张三"), ("ip_type", "trademark", "张三"), ("colour", "red", "张三"), ("negative", "no", " "),
])
def test_invalid_corrections_are_refused(store_with_items, field, value, user):
    with pytest.raises(ValueError):
        store_with_items.add_correction(_id(store_with_items, 1), field, value, user)
    assert store_with_items.corrections() == []


def test_unknown_item_is_refused(store_with_items):
    with pytest.raises(KeyError):
        store_with_items.add_correction(99999, "negative", "no", "张三")


def test_corrections_outlive_their_items_and_cannot_be_deleted(store_with_items):
    s = store_with_items
    s.add_correction(_id(s, 3), "negative", "yes", "张三")
    assert s.remove_sample_items() == 1
    assert [c["text"] for c in s.corrections()] == ["示例：商标被抢注"]
    with pytest.raises(sqlite3.DatabaseError):
        s.conn.execute("DELETE FROM corrections")
    assert len(s.corrections()) == 1


def test_correct_cli_records_and_reports_errors(store_with_items, db_path):
    item_id = _id(store_with_items, 2)
    cmd = [sys.executable, "-m", "sentiment", "correct", "--db", str(db_path), "--id", str(item_id),
           "--negative", "no", "--ip-type", "商标", "--user", "王五"]
    p = subprocess.run(cmd, capture_output=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert json.loads(p.stdout)["fields"] == {"negative": "no", "ip_type": "商标"}
    assert [(c["field"], c["user"]) for c in store_with_items.corrections()] == [("negative", "王五"), ("ip_type", "王五")]
    bad = subprocess.run(cmd[:7] + ["99999", "--negative", "no", "--user", "王五"], capture_output=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and b"99999" in bad.stderr


def test_corrections_override_labels_of_the_same_text_and_add_new_ones():
    ex = [dataset.Example(id="a", title="标题", text="海关查获侵权商品", label="non-negative", polarity3="positive", topic="ip"),
          dataset.Example(id="b", title="", text="盗版泛滥", label="negative", polarity3="negative", topic="ip")]
    corr = [
        {"title": "标题", "text": "海关 查获侵权商品", "field": "negative", "value": "yes", "created_at": "2026-11-20T01:00:00+00:00"},
        {"title": "", "text": "盗版泛滥", "field": "negative", "value": "yes", "created_at": "2026-11-20T01:00:00+00:00"},
        {"title": "", "text": "盗版泛滥", "field": "negative", "value": "no", "created_at": "2026-11-20T02:00:00+00:00"},
        {"title": "新", "text": "网友称维权难", "field": "negative", "value": "yes", "created_at": "2026-11-20T03:00:00+00:00",
         "item_id": 9},
    ]
    out, overridden, added = dataset.apply_corrections(ex, corr)
    by = {e.id: e for e in out}
    assert by["a"].label == "negative" and by["a"].polarity3 == "negative"
    assert by["b"].label == "non-negative"                      # the latest correction wins
    assert (overridden, added) == (3, 1)
    assert by["correction-9"].label == "negative" and by["correction-9"].source == "correction"


def test_train_reads_corrections_and_keeps_them(tmp_path, store_with_items, db_path):
    """A small real training run: the card records the corrections, the store keeps them."""
    s = store_with_items
    s.add_correction(_id(s, 1), "negative", "yes", "张三")
    rows = [json.loads(x) for x in dataset.DEV_FILE.read_text(encoding="utf-8").splitlines()[:120]]
    small = tmp_path / "small.jsonl"
    small.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "model"
    p = subprocess.run([sys.executable, "-m", "sentiment", "train", "--db", str(db_path), "--out", str(out),
                        "--data", str(small)], capture_output=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    assert card["data"]["corrections"] == {"overrides": 0, "new_items": 1, "from_handling": 0}
    assert (out / "judge_model.json").stat().st_size > 1000
    assert len(s.corrections()) == 1
    # The summary on stdout names what unseen items get, next to the held-out figures.
    summary = json.loads(p.stdout.decode())
    n_fresh = len(dataset.read_jsonl(dataset.FRESH_FILE))
    assert summary["fresh"]["n"] == n_fresh and summary["heldout"]["n"] == len(card["data"]["heldout_ids"])


def test_corrections_of_new_texts_teach_what_the_item_shows():
    """A new text becomes a training example when its corrections fix the verdict, as on the item:
    off-topic (never negative), a tone (negative tone = flagged); an IP type alone does not."""
    corr = [
        # An IP type first, then the verdict: both apply to the one new example.
        {"title": "甲", "text": "商标被抢注无人管", "field": "ip_type", "value": "商标", "created_at": "2026-11-20T01:00:00+00:00", "item_id": 1},
        {"title": "甲", "text": "商标被抢注无人管", "field": "negative", "value": "yes", "created_at": "2026-11-20T02:00:00+00:00", "item_id": 1},
        {"title": "乙", "text": "某品牌更换新标志", "field": "topic", "value": "off", "created_at": "2026-11-20T01:00:00+00:00", "item_id": 2},
        {"title": "丙", "text": "网友吐槽维权成本高", "field": "polarity", "value": "negative", "created_at": "2026-11-20T01:00:00+00:00", "item_id": 3},
        {"title": "丁", "text": "专利申请量增长", "field": "ip_type", "value": "专利", "created_at": "2026-11-20T01:00:00+00:00", "item_id": 4},
    ]
    out, overridden, added = dataset.apply_corrections([], corr)
    by = {e.id: e for e in out}
    assert added == 3 and set(by) == {"correction-1", "correction-2", "correction-3"}
    assert (by["correction-1"].label, by["correction-1"].ip_type) == ("negative", "商标")
    assert (by["correction-2"].label, by["correction-2"].topic) == ("non-negative", "off")
    assert (by["correction-3"].label, by["correction-3"].polarity3, by["correction-3"].topic) == ("negative", "negative", "ip")


def test_a_calm_tone_unflags_a_labelled_example_as_it_unflags_the_item():
    ex = [dataset.Example(id="a", title="", text="盗版泛滥", label="negative", polarity3="negative", topic="ip")]
    corr = [{"title": "", "text": "盗版泛滥", "field": "polarity", "value": "neutral", "created_at": "2026-11-20T01:00:00+00:00"}]
    out, _, _ = dataset.apply_corrections(ex, corr)
    assert (out[0].label, out[0].polarity3) == ("non-negative", "neutral")
