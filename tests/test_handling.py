"""负面处置: every move of the workflow, allowed or refused, as a table; validation; history; summary; CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from collectors.base import Item
from monitor import handling
from monitor.handling import ACTIONS, MOVES, STATES, HandlingError, transition
from monitor.store import Store
from sentiment.judgement import Judgement

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
NEG = Judgement(negative=True, p_negative=0.9, polarity="negative")

# The inputs each action needs.
ARGS = {"assign": dict(unit="合肥市局", due="24h"), "respond": dict(note="已回应", link="https://ah.gov.cn/r"),
        "close": dict(note="办结"), "dismiss": dict(reason="误报"), "reopen": dict(reason="又有新报道")}
# How to reach each state from pending.
PATH = {"pending": [], "assigned": ["assign"], "responded": ["assign", "respond"],
        "closed": ["assign", "respond", "close"], "dismissed": ["dismiss"]}


def new_item(store: Store, n: int) -> int:
    store.add_items([(Item(source="源", url=f"https://example.com/{n}", title=f"负面{n}号 维权难 投诉无门",
                           text=f"第{n}条", published_at=NOW, fetched_at=NOW), NEG)])
    return store.conn.execute("SELECT max(id) FROM items").fetchone()[0]


def in_state(store: Store, n: int, state: str) -> int:
    item = new_item(store, n)
    for a in PATH[state]:
        transition(store, item, a, "甲", now=NOW, **ARGS[a])
    return item


def snapshot(store: Store) -> tuple:
    return (tuple(tuple(r) for r in store.conn.execute("SELECT * FROM handling ORDER BY story_id")),
            store.conn.execute("SELECT count(*) FROM handling_events").fetchone()[0])


TABLE = [(s, a, MOVES.get((s, a))) for s in STATES for a in ACTIONS]


@pytest.mark.parametrize("state, action, expected", TABLE, ids=[f"{s}-{a}" for s, a, _ in TABLE])
def test_move_table(fresh_store, state, action, expected):
    item = in_state(fresh_store, 1, state)
    before = snapshot(fresh_store)
    if expected is None:
        with pytest.raises(HandlingError, match=f"当前状态为「{STATES[state]}」"):
            transition(fresh_store, item, action, "乙", now=NOW, **ARGS[action])
        assert snapshot(fresh_store) == before          # a refused move changes nothing
    else:
        move = transition(fresh_store, item, action, "乙", now=NOW, **ARGS[action])
        assert (move.from_state, move.to_state) == (state, expected)
        hist = handling.history(fresh_store, item)
        assert hist[-1]["actor"] == "乙" and hist[-1]["to_state"] == expected
        assert len(hist) == len(PATH[state]) + 1


def test_the_table_is_not_trivial():
    assert len([m for m in TABLE if m[2]]) == 10 and len([m for m in TABLE if not m[2]]) == 15


@pytest.mark.parametrize("action, kwargs, message", [
    ("assign", dict(unit="", due="24h"), "承办"),
    ("assign", dict(unit="合肥", due=""), "时限"),
    ("assign", dict(unit="合肥", due="明天"), "时限格式"),
    ("assign", dict(unit="合肥", due="2020-01-01 10:00"), "晚于当前"),
    ("assign", dict(unit="合肥", due="9999-12-31"), "不应超过"),
    ("assign", dict(unit="合" * 100, due="24h"), "过长"),
    ("dismiss", dict(reason=""), "理由"),
    ("fly", {}, "未知的处置动作"),
])
def test_bad_input_is_refused_and_changes_nothing(fresh_store, action, kwargs, message):
    item = new_item(fresh_store, 1)
    before = snapshot(fresh_store)
    with pytest.raises(HandlingError, match=message):
        transition(fresh_store, item, action, "甲", now=NOW, **kwargs)
    assert snapshot(fresh_store) == before


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://x.cn/a", "www.example.com", "http://", "<script>"])
def test_response_link_must_be_http(fresh_store, link):
    item = in_state(fresh_store, 1, "assigned")
    before = snapshot(fresh_store)
    with pytest.raises(HandlingError, match="http"):
        transition(fresh_store, item, "respond", "甲", note="回应", link=link, now=NOW)
    assert snapshot(fresh_store) == before


def test_missing_item_and_actor(fresh_store):
    with pytest.raises(HandlingError, match="不存在"):
        transition(fresh_store, 999, "assign", "甲", unit="x", due="1h", now=NOW)
    item = new_item(fresh_store, 1)
    with pytest.raises(HandlingError, match="操作人"):
        transition(fresh_store, item, "assign", "  ", unit="x", due="1h", now=NOW)


def test_history_is_append_only(fresh_store):
    item = in_state(fresh_store, 1, "responded")
    with pytest.raises(Exception, match="append-only"):
        with fresh_store.atomic() as c:
            c.execute("UPDATE handling_events SET actor = '篡改'")
    assert [h["actor"] for h in handling.history(fresh_store, item)] == ["甲", "甲"]


def test_a_repost_is_handled_with_its_story(fresh_store):
    text = "合肥市中级人民法院近日对一起专利侵权案件作出判决，被告赔偿原告经济损失一百万元，企业维权难问题引发关注。"
    fresh_store.add_items([(Item(source=s, url=f"https://{s}.example/1", title="合肥专利侵权案件宣判", text=text,
                                 published_at=NOW, fetched_at=NOW), NEG) for s in ("a", "b")])
    first, repost = [r[0] for r in fresh_store.conn.execute("SELECT id FROM items ORDER BY id")]
    transition(fresh_store, repost, "assign", "甲", unit="合肥", due="2d", now=NOW)
    with pytest.raises(HandlingError, match="已交办"):
        transition(fresh_store, first, "close", "甲", now=NOW)
    assert handling.history(fresh_store, first) == handling.history(fresh_store, repost)


def test_overdue_and_summary(fresh_store):
    a = in_state(fresh_store, 1, "assigned")              # due NOW+24h
    in_state(fresh_store, 2, "closed")
    in_state(fresh_store, 3, "pending")
    later = NOW + timedelta(hours=30)
    frame = handling.handling_list(fresh_store, days=30, now=later)
    overdue = dict(zip(frame["story_id"], frame["overdue"]))
    assert overdue[a] and sum(overdue.values()) == 1
    s = handling.summary(fresh_store, NOW - timedelta(days=1), NOW + timedelta(days=1), now=later)
    assert s["stories"] == 3 and s["overdue"] == 1
    assert s["by_state"] == {"pending": 1, "assigned": 1, "responded": 0, "closed": 1, "dismissed": 0}
    assert s["median_hours_to_assign"] == 0.0 and s["median_hours_to_close"] == 0.0
    assert handling.handling_list(fresh_store, states=("pending",), now=later)["story_id"].tolist() == [
        r for r in frame["story_id"] if frame.set_index("story_id").loc[r, "state"] == "pending"]
    with pytest.raises(HandlingError):
        handling.summary(fresh_store, NOW, NOW - timedelta(days=1))


def cli(*args, db):
    env = {k: v for k, v in os.environ.items() if k != "OPINION_DB"}
    return subprocess.run([sys.executable, "-m", "monitor", *args, "--db", str(db)], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def test_cli_handle(db_path):
    with Store(db_path) as s:
        item = new_item(s, 1)
        new_item(s, 2)                                  # stays pending: its unit and due date are empty
    r = cli("handle", str(item), "assign", "--to", "芜湖市局", "--due", "48h", "--user", "张三", db=db_path)
    assert r.returncode == 0 and "待研判 → 已交办" in r.stdout, r.stderr
    r = cli("handle", str(item), "close", db=db_path)
    assert r.returncode == 2 and "不能办结" in r.stderr
    for bad in ("javascript:x", "http://[::1", "https://", "http://a.cn/ b"):
        r = cli("handle", str(item), "respond", "--note", "已处理", "--link", bad, db=db_path)
        assert r.returncode == 2 and "http" in r.stderr and "Traceback" not in r.stderr, bad
    r = cli("handle", "list", "--state", "assigned", db=db_path)
    assert r.returncode == 0 and '"unit": "芜湖市局"' in r.stdout and '"state": "assigned"' in r.stdout
    r = cli("handle", "list", db=db_path)
    rows = {row["state"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert r.returncode == 0 and set(rows) == {"assigned", "pending"}, r.stderr
    assert rows["pending"]["unit"] == "" and rows["pending"]["due_at"] is None
    assert rows["assigned"]["due_at"].endswith("+08:00")
    with Store(db_path, readonly=True) as s:
        assert [h["actor"] for h in handling.history(s, item)] == ["张三"]


def test_huge_or_hostile_notes(fresh_store):
    item = in_state(fresh_store, 1, "assigned")
    before = snapshot(fresh_store)
    with pytest.raises(HandlingError, match="过长"):
        transition(fresh_store, item, "respond", "甲", note="回" * 100_000, now=NOW)
    assert snapshot(fresh_store) == before
    transition(fresh_store, item, "respond", "甲", note="<script>alert(1)</script>\x00", now=NOW)
    assert handling.history(fresh_store, item)[-1]["note"] == "<script>alert(1)</script>"  # stored as text


def test_assigned_stories_are_confirmations_for_training(fresh_store):
    """交办 confirms a story's flagged items as negative opinion; dismissed or untouched ones confirm nothing.
    A later 误判 is later than the confirmation, so training takes the correction."""
    from monitor.handling_store import confirmations
    from sentiment import dataset

    s = fresh_store
    assigned, closed = in_state(s, 1, "assigned"), in_state(s, 2, "closed")
    in_state(s, 3, "dismissed")
    in_state(s, 4, "pending")
    transition(s, assigned, "assign", "乙", now=NOW + timedelta(hours=1), **ARGS["assign"])   # reassigned
    got = confirmations(s)
    assert [(c["item_id"], c["user"], c["field"], c["value"], c["source"]) for c in got] == [
        (assigned, "甲", "negative", "yes", "handling"), (closed, "甲", "negative", "yes", "handling")]
    assert got[0]["created_at"] == NOW.isoformat() and got[0]["title"] == "负面1号 维权难 投诉无门"

    s.apply_correction(closed, "negative", "no", "丙", "误判")
    assert [c["item_id"] for c in confirmations(s)] == [assigned]     # no longer flagged: not confirmed
    examples, _, added = dataset.apply_corrections([], confirmations(s) + s.corrections())
    by = {e.text: e.label for e in examples}
    assert added == 2 and by == {"第1条": "negative", "第2条": "non-negative"}


def test_training_commands_read_the_confirmations(fresh_store, db_path):
    transition(fresh_store, new_item(fresh_store, 1), "assign", "甲", **ARGS["assign"])   # now: after training
    p = subprocess.run([sys.executable, "-m", "sentiment", "status", "--db", str(db_path)],
                       capture_output=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    corr = json.loads(p.stdout)["corrections"]
    assert corr["total"] == 1 and corr["by_field"] == {"confirmed": 1}


def test_cli_names_an_account_once_accounts_exist(db_path):
    """With accounts, --user must be one (a typo would put a stranger into the history); the default marker
    `cli` stays usable, and without accounts any name is recorded as given."""
    from monitor import users
    with Store(db_path) as s:
        item = new_item(s, 1)
    assert cli("handle", str(item), "assign", "--to", "合肥", "--due", "3d", "--user", "随便谁", db=db_path).returncode == 0
    with Store(db_path) as s:
        users.add_user(s, "zhangsan", "a long password", "handler", actor="cli:test", now=NOW)
    r = cli("handle", str(item), "respond", "--note", "已回应", "--user", "zhangsan1", db=db_path)
    assert r.returncode == 2 and "没有名为 zhangsan1 的在用账号" in r.stderr
    assert cli("handle", str(item), "respond", "--note", "已回应", "--user", "zhangsan", db=db_path).returncode == 0
    assert cli("handle", str(item), "close", db=db_path).returncode == 0
    with Store(db_path, readonly=True) as s:
        assert [h["actor"] for h in handling.history(s, item)] == ["随便谁", "zhangsan", "cli"]
    p = subprocess.run([sys.executable, "-m", "sentiment", "correct", "--id", str(item), "--negative", "no",
                        "--user", "nobody", "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True,
                       encoding="utf-8", timeout=120)
    assert p.returncode == 2 and "nobody" in p.stderr and "Traceback" not in p.stderr


def test_unit_options_offer_used_units_first_then_every_city_bureau(fresh_store):
    assert handling.unit_options(fresh_store)[:2] == ["合肥市市场监管局", "淮北市市场监管局"]
    assert len(handling.unit_options(fresh_store)) == 16
    for n, unit in enumerate(("省局执法稽查处", "省局执法稽查处", "芜湖市市场监管局"), start=1):
        transition(fresh_store, new_item(fresh_store, n), "assign", "甲", now=NOW, unit=unit, due="24h")
    options = handling.unit_options(fresh_store)
    assert options[:2] == ["省局执法稽查处", "芜湖市市场监管局"] and options.count("芜湖市市场监管局") == 1
    assert len(options) == 17


def test_unit_names_have_one_spelling_and_partial_names_are_refused():
    assert handling.normalise_unit("  黄山市 市场监管局 ") == "黄山市市场监管局"
    assert handling.normalise_unit("省局  IP  Office") == "省局IP Office"
    options = ["合肥市市场监管局", "合肥高新区市场监管局", "省局执法稽查处"]
    with pytest.raises(HandlingError, match="是否指「合肥市市场监管局」「合肥高新区市场监管局」"):
        handling.check_new_unit("合肥", options)
    handling.check_new_unit("宿州市市场监管局", options)          # new, and not part of a listed one
    handling.check_new_unit("合肥市市场监管局", options)


def test_the_audit_detail_records_what_the_move_uses():
    assert handling.audit_detail("assign", unit=" 合肥市 市场监管局", due="3d", now=NOW) == {
        "action": "assign", "unit": "合肥市市场监管局", "due": "2026-11-23 17:30"}
    assert handling.audit_detail("respond", unit="x", due="24h", note="已回应", now=NOW) == {
        "action": "respond", "note": "已回应"}
    assert handling.audit_detail("dismiss", due="24h", reason="误报", now=NOW) == {"action": "dismiss", "reason": "误报"}
