"""Re-judging stored items after a retrain: new verdicts land, staff corrections and handling stay."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from collectors.base import Item
from monitor import handling, judging, users
from monitor.store import Store
from sentiment.judgement import Judgement

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
TEXTS = ["网友称专利维权难", "海关查获侵权商品", "盗版网课泛滥无人管", "商标宣传周活动举行", "代理机构乱象投诉多"]


class WordJudge:
    """Flags an item when one of its words occurs; counts what it was asked."""

    def __init__(self, *words: str):
        self.words = words
        self.asked = 0

    def judge(self, title, text):
        neg = any(w in title + text for w in self.words)
        return Judgement(negative=neg, p_negative=0.9 if neg else 0.1, polarity="negative" if neg else "positive",
                         ip_type="商标" if "商标" in text else "专利", reasons=(f"{self.words}",))

    def judge_many(self, pairs):
        pairs = list(pairs)
        self.asked += len(pairs)
        return [self.judge(t, x) for t, x in pairs]


@pytest.fixture
def store(db_path):
    s = Store(db_path)
    old = WordJudge("维权难", "海关")          # the old model: flags 1 and 2
    s.add_items([(Item(url=f"https://example.cn/{i}", title=f"标题{i}", text=t, source="测试源", platform="news",
                       published_at=NOW - timedelta(days=10 - i), fetched_at=NOW), old.judge("", t))
                 for i, t in enumerate(TEXTS)])
    yield s
    s.close()


def _ids(s: Store) -> dict[str, int]:
    return {r["text"]: r["id"] for r in s.iter_items()}


def _row(s: Store, item_id: int) -> dict:
    return next(r for r in s.iter_items() if r["id"] == item_id)


def test_new_verdicts_land_and_the_changes_are_counted(store):
    ids = _ids(store)
    new = WordJudge("维权难", "泛滥", "乱象")  # the retrained model: 海关 is good news, 泛滥 and 乱象 are not
    seen: list[tuple[int, int]] = []
    report = judging.rejudge(store, new, batch=2, progress=lambda d, t: seen.append((d, t)))
    assert report.judged == 5 and new.asked == 5
    assert sorted(report.newly_negative) == sorted([ids["盗版网课泛滥无人管"], ids["代理机构乱象投诉多"]])
    assert report.no_longer_negative == [ids["海关查获侵权商品"]]
    assert report.changed == 3 and report.corrected == 0
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    row = _row(store, ids["海关查获侵权商品"])
    assert (row["negative"], row["polarity"], row["p_negative"]) == (False, "positive", 0.1)
    assert "新增负面 2 条" in report.summary() and "不再判为负面 1 条" in report.summary()


def test_staff_corrections_survive_a_rejudge(store):
    ids = _ids(store)
    # Staff said 海关 news is not negative, and that the 盗版 item is about 著作权.
    store.apply_correction(ids["海关查获侵权商品"], "negative", "no", "张三", "执法宣传")
    store.apply_correction(ids["盗版网课泛滥无人管"], "ip_type", "著作权", "李四")
    report = judging.rejudge(store, WordJudge("海关", "泛滥"))
    assert report.corrected == 2
    customs = _row(store, ids["海关查获侵权商品"])
    assert customs["negative"] is False and customs["polarity"] == "neutral"
    piracy = _row(store, ids["盗版网课泛滥无人管"])
    assert piracy["negative"] is True and piracy["ip_type"] == "著作权"   # new verdict, corrected type
    assert len(store.corrections()) == 2


def test_the_latest_correction_wins_and_off_topic_is_never_flagged(store):
    ids = _ids(store)
    item = ids["代理机构乱象投诉多"]
    store.apply_correction(item, "negative", "yes", "张三")
    store.apply_correction(item, "topic", "off", "李四", "广告，不是舆情")
    assert _row(store, item)["negative"] is False          # at once, not only after a rejudge
    judging.rejudge(store, WordJudge("乱象"))
    row = _row(store, item)
    assert (row["topic"], row["negative"]) == ("off", False)


def test_since_limits_the_rejudge_to_recent_items(store):
    ids = _ids(store)
    since = (NOW - timedelta(days=7)).isoformat()            # items 3 and 4 were published after it
    judge = WordJudge("宣传", "乱象")
    report = judging.rejudge(store, judge, since=since)
    assert report.judged == 2 and judge.asked == 2
    assert _row(store, ids["网友称专利维权难"])["negative"] is True        # older: untouched
    assert _row(store, ids["商标宣传周活动举行"])["negative"] is True


def test_handling_records_are_untouched_and_the_rejudge_is_audited(store):
    ids = _ids(store)
    item = ids["网友称专利维权难"]
    handling.transition(store, item, "assign", "张三", unit="合肥市局", due="3d", now=NOW)
    before = handling.history(store, item)
    user = users.add_user(store, "admin1", "office pass 1", "admin", actor="cli:test",
                          now=datetime.now(timezone.utc))
    report = judging.rejudge_as(store, WordJudge("海关"), user)
    assert _row(store, item)["negative"] is False
    assert handling.history(store, item) == before
    entry = users.audit_log(store, action="model.rejudge")[0]
    assert entry["actor"] == "admin1" and entry["detail"]["judged"] == report.judged == 5


def test_rejudge_command_uses_the_real_model(store, db_path):
    ids = _ids(store)
    p = subprocess.run([sys.executable, "-m", "monitor", "rejudge", "--db", str(db_path), "--user", "王丽"],
                       capture_output=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    assert "已重新判定 5 条" in p.stdout.decode() and "重新判定：5/5" in p.stderr.decode()
    # The real judge read the items: 海关查获 is enforcement publicity, never flagged by it.
    with Store(db_path) as s:
        assert _row(s, ids["海关查获侵权商品"])["negative"] is False
        assert users.audit_log(s, action="model.rejudge")[0]["actor"] == "cli:王丽"


@pytest.mark.parametrize("args, message", [
    (["--since", "2026-13-01"], "YYYY-MM-DD"),
    (["--db", "/nonexistent/opinion.db"], "找不到数据库"),
])
def test_rejudge_command_refuses_bad_input(db_path, store, args, message):
    argv = [sys.executable, "-m", "monitor", "rejudge"] + (args if "--db" in args else ["--db", str(db_path)] + args)
    p = subprocess.run(argv, capture_output=True, cwd=ROOT, timeout=300)
    assert p.returncode == 2 and message in p.stderr.decode()


def test_correct_command_shows_on_the_item(store, db_path):
    item = _ids(store)["网友称专利维权难"]
    p = subprocess.run([sys.executable, "-m", "sentiment", "correct", "--db", str(db_path), "--id", str(item),
                        "--negative", "no", "--user", "张三"], capture_output=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    with Store(db_path) as s:
        assert _row(s, item)["negative"] is False and len(s.corrections(item)) == 1
        [entry] = users.audit_log(s, action="item.correct")            # in the 操作日志, as on the page
        assert (entry["actor"], entry["target"], entry["detail"]["field"]) == ("cli:张三", str(item), "negative")
