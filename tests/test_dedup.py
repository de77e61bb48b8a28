"""Stories: reposts (outlet prefixes, boilerplate, small edits) join their report; different reports do not."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from collectors.base import Item
from monitor import dedup, queries, story_store
from monitor.store import Store
from sentiment.judgement import Judgement

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
J = Judgement(negative=False, p_negative=0.1, polarity="neutral")
BASE = ("合肥专利侵权案件宣判 企业获赔百万元",
        "合肥市中级人民法院近日对一起发明专利侵权案件作出一审判决，判令被告停止侵权并赔偿原告经济损失一百万元。")
REPOSTS = [
    ("【人民网】" + BASE[0], "原标题：" + BASE[1] + "责任编辑：王五"),
    (BASE[0], BASE[1].replace("近日", "日前")),                   # a small edit
    (BASE[0] + "（图）", "来源：新华网 " + BASE[1]),
]
OTHERS = [
    ("芜湖市开展商标品牌宣传周活动", "芜湖市市场监管局在中山路步行街开展商标品牌宣传周活动，现场发放宣传资料三千余份。"),
    ("合肥专利侵权案件宣判", "这是一个标题相同但正文完全不同的短讯：某区召开安全生产工作会议部署冬季防火。"),
    ("短讯", "专利"),                                              # too short to compare: its own story
]


def add(store: Store, rows, start=0, when=NOW) -> list[int]:
    store.add_items([(Item(source=f"源{start + i}", url=f"https://example.com/{start + i}", title=t, text=x,
                           published_at=when + timedelta(minutes=i), fetched_at=when), J)
                     for i, (t, x) in enumerate(rows)])
    got = [r[0] for r in store.conn.execute("SELECT story_id FROM items ORDER BY id DESC LIMIT ?", (len(rows),))]
    return got[::-1]


def test_reposts_join_the_first_report_and_others_do_not(fresh_store):
    (first,) = add(fresh_store, [BASE])
    assert add(fresh_store, REPOSTS, start=1) == [first] * len(REPOSTS)
    others = add(fresh_store, OTHERS, start=10)
    assert first not in others and len(set(others)) == len(OTHERS)
    members = story_store.story_members(fresh_store, first)
    assert len(members) == 1 + len(REPOSTS) and members["id"].iloc[0] == first
    top = story_store.top_stories(fresh_store, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert top.iloc[0]["story_id"] == first and top.iloc[0]["items"] == 4 and top.iloc[0]["outlets"] == 4
    detail = queries.item_detail(fresh_store, first)
    assert detail["story_size"] == 4 and len(detail["story"]) == 4


def test_a_repost_months_later_is_a_new_story(fresh_store):
    (first,) = add(fresh_store, [BASE])
    (later,) = add(fresh_store, [REPOSTS[0]], start=1, when=NOW + timedelta(days=90))
    assert later != first


def test_keys_are_stable_and_confirmation_uses_text():
    a = dedup.fingerprint(*BASE)
    b = dedup.fingerprint(*REPOSTS[0])
    assert a.keys == dedup.band_keys(dedup.normalise(*BASE))   # deterministic (no per-process hash seed)
    assert a.similar(b) and not a.similar(dedup.fingerprint(*OTHERS[0]))
    assert dedup.fingerprint(*OTHERS[2]).keys == ()


def test_deleting_the_first_report_keeps_the_story_and_its_handling(fresh_store):
    from monitor import handling
    fresh_store.add_items([(Item(source="源0", url="https://example.com/0", title=BASE[0], text=BASE[1],
                                 published_at=NOW, fetched_at=NOW), J)], sample=True)
    add(fresh_store, REPOSTS, start=1)
    first = 1
    handling.transition(fresh_store, 2, "assign", "甲", unit="合肥", due="24h", now=NOW)
    fresh_store.remove_sample_items()
    stories = {r[0] for r in fresh_store.conn.execute("SELECT story_id FROM items")}
    assert stories == {2}
    assert [h["action"] for h in handling.history(fresh_store, 3)] == ["assign"]
    assert first not in {r[0] for r in fresh_store.conn.execute("SELECT story_id FROM handling")}


def _bands(store: Store) -> set[tuple[int, int]]:
    return {tuple(r) for r in store.conn.execute("SELECT key, item_id FROM dup_bands")}


def _expected_bands(store: Store) -> set[tuple[int, int]]:
    return {(k, r[0]) for r in store.conn.execute("SELECT id, title, text FROM items WHERE story_id = id")
            for k in dedup.fingerprint(r[1], r[2]).keys}


def _as_before_the_layout_change(store: Store) -> None:
    """What migration 0022 leaves behind on a database banded with the old layout."""
    with store.atomic() as c:
        c.execute("DELETE FROM dup_bands")
        c.execute("INSERT INTO pending_rebuilds (what) VALUES ('dup_bands')")


def test_a_new_database_has_nothing_pending_and_one_key_per_band(fresh_store):
    assert not fresh_store.story_bands_pending()
    (first,) = add(fresh_store, [BASE])
    assert len(dedup.fingerprint(*BASE).keys) == dedup.BANDS
    assert _bands(fresh_store) == _expected_bands(fresh_store) and len(_bands(fresh_store)) == dedup.BANDS


def test_first_reports_are_rebanded_on_open_and_reposts_find_them_again(db_path):
    with Store(db_path) as store:
        (first,) = add(store, [BASE])
        others = add(store, OTHERS, start=10)
        expected = _expected_bands(store)
        _as_before_the_layout_change(store)
        # Without keys a repost cannot find its report: this is what the rebuild is for.
        assert add(store, [REPOSTS[0]], start=1) != [first]
    with Store(db_path) as store:              # the next writable open re-bands (the database is small)
        assert not store.story_bands_pending()
        assert expected <= _bands(store) == _expected_bands(store)
        assert add(store, [REPOSTS[1]], start=2) == [first]
        assert first not in others


def test_a_big_database_is_rebanded_by_the_command_with_progress(db_path, monkeypatch, caplog):
    import subprocess
    import sys

    import monitor.store as store_module
    with Store(db_path) as store:
        add(store, [BASE] + OTHERS)
        expected = _expected_bands(store)
        _as_before_the_layout_change(store)
    monkeypatch.setattr(store_module, "BACKFILL_ON_OPEN", 0)
    with caplog.at_level("WARNING"), Store(db_path) as store:
        assert store.story_bands_pending() and not _bands(store)
    assert "rebuild-bands" in caplog.text
    done = subprocess.run([sys.executable, "-m", "monitor", "rebuild-bands", "--db", str(db_path)],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "报道归并索引已重建" in done.stdout and "报道归并索引：" in done.stderr
    with Store(db_path) as store:
        assert not store.story_bands_pending() and _bands(store) == expected
