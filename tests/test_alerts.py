"""Alert rules on a frozen clock: fire, do not fire, de-duplicate, respect receive windows; bad settings refused.

frozen_now is Friday 2026-11-20 09:30 UTC = 17:30 Beijing time.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from collectors.base import Item
from collectors.registry import Source
from monitor import alert_store, alerts, notify, users
from monitor.alerts import Delivery, RuleError
from monitor.settings import Settings
from monitor.store import Store, iso
from sentiment.judgement import Judgement

BJ = timezone(timedelta(hours=8))
SOURCES = [Source(name="人民网", url="https://a.example/rss", weight=2.0, interval_minutes=60),
           Source(name="小论坛", url="https://b.example/rss", weight=0.5, interval_minutes=30),
           Source(name="停用源", url="https://c.example/rss", enabled=False)]
NO_CHANNELS = notify.NotifyConfig()


def judged(negative: bool, p: float | None = None) -> Judgement:
    return Judgement(negative=negative, p_negative=p if p is not None else (0.9 if negative else 0.1),
                     polarity="negative" if negative else "neutral")


def add(store: Store, title: str, *, source: str = "人民网", at: datetime, negative: bool = True,
        text: str = "", sample: bool = False, p: float | None = None, published: datetime | None = None,
        story: int | None = None) -> int:
    """Store one judged item; with a story column, the item heads its own story unless `story` says otherwise."""
    item = Item(source=source, url=f"https://news.example/{abs(hash((title, source, at)))}", title=title,
                text=text or title, published_at=published or at, fetched_at=at, platform="news")
    store.add_items([(item, judged(negative, p))], sample=sample)
    item_id = store.conn.execute("SELECT id FROM items WHERE key=?", (item.key,)).fetchone()[0]
    if "story_id" in alert_store.item_columns(store):
        store.conn.execute("UPDATE items SET story_id=? WHERE id=?", (item_id if story is None else story, item_id))
    return item_id


def subj(store: Store, item_id: int) -> str:
    return f"story:{item_id}" if "story_id" in alert_store.item_columns(store) else f"item:{item_id}"


def rule(store: Store, name: str, kind: str, params: dict, delivery: dict | None = None, now=None) -> alerts.Rule:
    r = alerts.parse_rule(name, kind, params, delivery or {})
    return alerts.save_rule(store, r, actor="cli:test", now=now or datetime(2026, 11, 1, tzinfo=timezone.utc))


def run(store: Store, now: datetime, sources=SOURCES) -> alerts.AlertReport:
    settings = Settings.load(db=store.path, env={})
    return alerts.evaluate_and_notify(store, settings, now, config=NO_CHANNELS, sources=sources)


def firings(store: Store) -> list[dict]:
    return list(reversed(alerts.recent_firings(store)))


def drop_story_columns(store: Store) -> None:
    """A database from before stories and schemes existed (items are added first: add_items assigns stories)."""
    for col in ("story_id", "schemes"):
        if col not in alert_store.item_columns(store):
            continue
        for kind, name in store.conn.execute("SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger') "
                                             "AND tbl_name='items' AND sql LIKE ?", (f"%{col}%",)).fetchall():
            store.conn.execute(f"DROP {kind.upper()} {name}")
        store.conn.execute(f"ALTER TABLE items DROP COLUMN {col}")


def add_schemes_column(store: Store) -> None:
    if "schemes" not in alert_store.item_columns(store):
        store.conn.execute("ALTER TABLE items ADD COLUMN schemes TEXT NOT NULL DEFAULT '[]'")


def set_schemes(store: Store, item_id: int, schemes: str) -> None:
    store.conn.execute("UPDATE items SET schemes=? WHERE id=?", (schemes, item_id))


# -- negative item from a weighty source ---------------------------------------------------------

@pytest.mark.parametrize("stories", [True, False], ids=["with-stories", "before-stories"])
def test_negative_item_from_weighty_source_fires_once_with_its_item(fresh_store, frozen_now, stories):
    rule(fresh_store, "重点媒体负面", "negative_source", {"min_weight": 1.5, "min_p_negative": 0.6})
    hit = add(fresh_store, "专利维权难 企业叫苦", at=frozen_now - timedelta(minutes=10))
    add(fresh_store, "小论坛上的吐槽", source="小论坛", at=frozen_now - timedelta(minutes=10))     # weight 0.5
    add(fresh_store, "人民网正面报道", at=frozen_now - timedelta(minutes=5), negative=False)
    add(fresh_store, "概率不够的负面", at=frozen_now - timedelta(minutes=5), p=0.55)
    add(fresh_store, "示例数据里的负面", at=frozen_now - timedelta(minutes=5), sample=True)
    add(fresh_store, "两小时前采集的负面", at=frozen_now - timedelta(hours=2))             # outside lookback
    if not stories:
        drop_story_columns(fresh_store)

    report = run(fresh_store, frozen_now)
    assert report.errors == []
    [f] = firings(fresh_store)
    assert f["subject"] == (f"story:{hit}" if stories else f"item:{hit}") and f["rule_name"] == "重点媒体负面"
    assert "人民网" in f["title"] and "专利维权难" in f["title"]
    assert [i["item_id"] for i in alerts.firing_detail(fresh_store, f["id"])["items"]] == [hit]
    assert f["fired_at"] == iso(frozen_now)

    again = run(fresh_store, frozen_now + timedelta(minutes=15))
    assert again.fired == [] and again.suppressed == 1
    assert len(firings(fresh_store)) == 1


def test_a_story_alerts_once_per_rule_per_dedup_window(fresh_store, frozen_now):
    rule(fresh_store, "重点媒体负面", "negative_source", {"min_weight": 1.0},
         {"dedup_minutes": 24 * 60})
    add(fresh_store, "首发：某地专利侵权", at=frozen_now - timedelta(minutes=5), story=7)
    assert len(run(fresh_store, frozen_now).fired) == 1
    # a repost in the same story half an hour later: same story, same rule, same window -> nothing new
    t2 = frozen_now + timedelta(minutes=30)
    add(fresh_store, "转载：某地专利侵权", at=t2 - timedelta(minutes=1), story=7)
    assert run(fresh_store, t2).fired == []
    # another story at the same time does fire
    add(fresh_store, "另一事件：商标抢注", at=t2 - timedelta(minutes=1), story=8)
    assert [f["subject"] for f in firings(fresh_store)] == ["story:7"]
    assert len(run(fresh_store, t2 + timedelta(minutes=1)).fired) == 1
    # the next day the still-running story alerts again
    t3 = frozen_now + timedelta(hours=25)
    add(fresh_store, "后续：某地专利侵权", at=t3 - timedelta(minutes=1), story=7)
    assert len(run(fresh_store, t3).fired) == 1
    assert [f["subject"] for f in firings(fresh_store)] == ["story:7", "story:8", "story:7"]


# -- spikes ----------------------------------------------------------------------------------------

def test_spike_by_story_when_items_have_stories(fresh_store, frozen_now):
    rule(fresh_store, "聚集", "spike", {"count": 3, "minutes": 60})
    for k in range(3):
        add(fresh_store, f"假冒商品泛滥 {k}", source=["人民网", "小论坛"][k % 2],
            at=frozen_now - timedelta(minutes=5 + 10 * k), story=11)
    for k in range(2):
        add(fresh_store, f"另一件事 {k}", at=frozen_now - timedelta(minutes=5), story=12)
    add(fresh_store, "旧闻", at=frozen_now, published=frozen_now - timedelta(hours=3), story=12)
    add(fresh_store, "中性报道", at=frozen_now, negative=False, story=12)
    run(fresh_store, frozen_now)
    [f] = firings(fresh_store)
    assert f["subject"] == "story:11"
    assert f["title"].startswith("60 分钟内 3 条负面信息：事件")
    assert len(alerts.firing_detail(fresh_store, f["id"])["items"]) == 3


def test_spike_by_scheme_when_items_have_schemes(fresh_store, frozen_now):
    add_schemes_column(fresh_store)
    rule(fresh_store, "方案聚集", "spike", {"count": 2, "minutes": 30, "group": "auto"})
    # stories all different, so 'auto' must pick story; an explicit scheme rule groups by scheme
    rule(fresh_store, "按方案", "spike", {"count": 2, "minutes": 30, "group": "scheme"})
    for k, schemes in enumerate(['["安徽专利", "商标"]', '["安徽专利"]', "商标"]):
        set_schemes(fresh_store, add(fresh_store, f"负面 {k}", at=frozen_now - timedelta(minutes=3)), schemes)
    run(fresh_store, frozen_now)
    assert sorted((f["rule_name"], f["subject"]) for f in firings(fresh_store)) == [
        ("按方案", "scheme:商标"), ("按方案", "scheme:安徽专利")]


def test_spike_degrades_to_source_and_keyword_grouping_without_story_columns(fresh_store, frozen_now):
    rule(fresh_store, "自动", "spike", {"count": 3, "minutes": 60, "group": "auto"})
    rule(fresh_store, "按事件（无事件列）", "spike", {"count": 3, "minutes": 60, "group": "story"})
    rule(fresh_store, "按关键词", "spike", {"count": 2, "minutes": 60, "group": "scheme",
                                         "keywords": ["直播带货", "抢注"]})
    for k in range(3):
        add(fresh_store, f"小论坛负面 {k}", source="小论坛", at=frozen_now - timedelta(minutes=k))
    add(fresh_store, "直播带货卖假货", at=frozen_now - timedelta(minutes=1))
    add(fresh_store, "又见直播带货售假", source="小论坛", at=frozen_now - timedelta(minutes=2), text="正文")
    add(fresh_store, "商标被抢注", at=frozen_now - timedelta(minutes=2))
    drop_story_columns(fresh_store)
    assert not {"story_id", "schemes"} & alert_store.item_columns(fresh_store)
    run(fresh_store, frozen_now)
    got = sorted((f["rule_name"], f["subject"]) for f in firings(fresh_store))
    assert got == [("按事件（无事件列）", "source:小论坛"), ("按关键词", "keyword:直播带货"), ("自动", "source:小论坛")]


# -- watch words -----------------------------------------------------------------------------------

def test_watchword_hits_title_or_text_case_insensitively(fresh_store, frozen_now):
    rule(fresh_store, "关注词", "watchword", {"words": ["合肥", "WIPO"]})
    rule(fresh_store, "关注词（仅负面）", "watchword", {"words": ["合肥"], "negative_only": True})
    a = add(fresh_store, "合肥知识产权法庭判决", at=frozen_now - timedelta(minutes=1), negative=False)
    b = add(fresh_store, "国际组织报告", at=frozen_now - timedelta(minutes=1), text="wipo 发布全球创新指数", negative=False)
    add(fresh_store, "与关注词无关", at=frozen_now - timedelta(minutes=1))
    c = add(fresh_store, "合肥某企业专利被侵权维权难", at=frozen_now - timedelta(minutes=1))
    run(fresh_store, frozen_now)
    got = sorted((f["rule_name"], f["subject"]) for f in firings(fresh_store))
    S = lambda i: subj(fresh_store, i)  # noqa: E731
    assert got == sorted([("关注词", S(a)), ("关注词", S(b)), ("关注词", S(c)), ("关注词（仅负面）", S(c))])
    assert any(f["title"].startswith("关注词「WIPO」") for f in firings(fresh_store))


# -- silent or failing sources -----------------------------------------------------------------------

def add_run(store: Store, source: str, started: datetime, status: str, error: str | None = None) -> None:
    store.conn.execute("INSERT INTO runs (source, started_at, finished_at, status, error) VALUES (?,?,?,?,?)",
                       (source, iso(started), iso(started + timedelta(seconds=20)), status, error))


def test_source_silent_or_failing_longer_than_expected(fresh_store, frozen_now):
    rule(fresh_store, "停滞", "source_silent", {"factor": 3, "min_minutes": 60})
    sources = SOURCES + [Source(name="从未成功", url="https://d.example/rss", interval_minutes=60),
                         Source(name="新源", url="https://e.example/rss")]
    add_run(fresh_store, "人民网", frozen_now - timedelta(hours=4), "ok")            # 4 h > 3 x 60 min
    add_run(fresh_store, "人民网", frozen_now - timedelta(minutes=30), "error", "HTTP 503")
    add_run(fresh_store, "小论坛", frozen_now - timedelta(minutes=80), "not_modified")  # 80 min < 90
    add_run(fresh_store, "停用源", frozen_now - timedelta(days=3), "ok")              # disabled
    add_run(fresh_store, "从未成功", frozen_now - timedelta(hours=5), "error", "timeout")
    add_run(fresh_store, "从未成功", frozen_now - timedelta(hours=1), "error", "timeout")
    run(fresh_store, frozen_now, sources)
    fs = {f["subject"]: f for f in firings(fresh_store)}
    assert set(fs) == {"source:人民网", "source:从未成功"}
    assert "4.0 小时没有成功采集" in fs["source:人民网"]["title"]
    assert "HTTP 503" in fs["source:人民网"]["detail"]
    assert "从未采集成功" in fs["source:从未成功"]["title"]
    # an hour later: no second alert for those two within the dedup window; 小论坛 is now overdue too
    later = run(fresh_store, frozen_now + timedelta(hours=1), sources)
    assert later.suppressed == 2
    assert [alert_store.firing(fresh_store, i)["subject"] for i in later.fired] == ["source:小论坛"]


# -- receive windows -------------------------------------------------------------------------------

OFFICE = Delivery(hours=(time(8, 30), time(18, 0)), weekends=False)


@pytest.mark.parametrize("local, expected", [
    (datetime(2026, 11, 20, 17, 30), datetime(2026, 11, 20, 17, 30)),   # Friday, open
    (datetime(2026, 11, 20, 18, 0), datetime(2026, 11, 23, 8, 30)),     # Friday closing time -> Monday
    (datetime(2026, 11, 21, 10, 0), datetime(2026, 11, 23, 8, 30)),     # Saturday
    (datetime(2026, 11, 23, 7, 0), datetime(2026, 11, 23, 8, 30)),      # Monday early
    (datetime(2026, 11, 23, 8, 30), datetime(2026, 11, 23, 8, 30)),
])
def test_office_hours_window(local, expected):
    t = local.replace(tzinfo=BJ)
    assert alerts.next_open(OFFICE, t) == expected.replace(tzinfo=BJ)


def test_weekend_and_overnight_windows():
    sat = datetime(2026, 11, 21, 10, 0, tzinfo=BJ)
    assert alerts.in_window(Delivery(weekends=True), sat)
    assert not alerts.in_window(Delivery(weekends=False), sat)
    night = Delivery(hours=(time(22, 0), time(6, 0)))
    assert alerts.in_window(night, datetime(2026, 11, 20, 23, 0, tzinfo=BJ))
    assert alerts.in_window(night, datetime(2026, 11, 21, 5, 59, tzinfo=BJ))
    assert alerts.next_open(night, datetime(2026, 11, 21, 12, 0, tzinfo=BJ)) == datetime(2026, 11, 21, 22, 0, tzinfo=BJ)


def test_digest_goes_out_at_the_end_of_its_slot_inside_the_window():
    d = Delivery(mode="digest", digest_minutes=60, hours=(time(8, 30), time(18, 0)), weekends=False)
    assert alerts.due_at(d, datetime(2026, 11, 20, 9, 10, tzinfo=BJ)) == datetime(2026, 11, 20, 10, 0, tzinfo=BJ)
    assert alerts.due_at(d, datetime(2026, 11, 20, 10, 0, tzinfo=BJ)) == datetime(2026, 11, 20, 10, 0, tzinfo=BJ)
    # the 17:xx slot ends at 18:00, when the window has closed: it goes out as the window closes, the same
    # Friday, not on Monday morning (the shipped rules use such windows)
    closing = datetime(2026, 11, 20, 17, 59, 59, tzinfo=BJ)
    assert alerts.due_at(d, datetime(2026, 11, 20, 17, 5, tzinfo=BJ)) == closing
    assert alerts.due_at(Delivery(mode="digest", digest_minutes=120, hours=(time(8, 30), time(18, 0)),
                                  weekends=False), datetime(2026, 11, 20, 16, 1, tzinfo=BJ)) == closing
    # fired while the window is shut: held for its opening, as before
    assert alerts.due_at(d, datetime(2026, 11, 20, 18, 5, tzinfo=BJ)) == datetime(2026, 11, 23, 8, 30, tzinfo=BJ)
    # a window over midnight, and a weekday-only rule without hours (closes at Friday midnight)
    night = Delivery(mode="digest", digest_minutes=60, hours=(time(22, 0), time(6, 0)))
    assert alerts.due_at(night, datetime(2026, 11, 21, 5, 20, tzinfo=BJ)) == datetime(2026, 11, 21, 5, 59, 59, tzinfo=BJ)
    assert alerts.due_at(night, datetime(2026, 11, 20, 23, 20, tzinfo=BJ)) == datetime(2026, 11, 21, 0, 0, tzinfo=BJ)
    weekdays = Delivery(mode="digest", digest_minutes=120, weekends=False)
    assert alerts.due_at(weekdays, datetime(2026, 11, 20, 23, 5, tzinfo=BJ)) == datetime(2026, 11, 20, 23, 59, 59,
                                                                                         tzinfo=BJ)
    realtime = Delivery(hours=(time(8, 30), time(18, 0)))
    t = datetime(2026, 11, 20, 12, 34, 56, tzinfo=BJ)
    assert alerts.due_at(realtime, t) == t


def test_firings_outside_the_window_are_held_for_its_opening(fresh_store, frozen_now):
    r = alerts.parse_rule("周末不发", "watchword", {"words": ["侵权"]},
                          {"channels": ["值班群"], "hours": "08:30-18:00", "weekends": False})
    alerts.save_rule(fresh_store, r, actor="cli:test", now=frozen_now)
    friday_night = frozen_now + timedelta(hours=3)                     # 20:30 Beijing
    add(fresh_store, "侵权", at=friday_night - timedelta(minutes=1))
    run(fresh_store, friday_night)
    [f] = firings(fresh_store)          # shown on the dashboard at once
    [d] = alerts.deliveries(fresh_store)
    assert d["status"] == "queued" and d["due_at"] == iso(datetime(2026, 11, 23, 8, 30, tzinfo=BJ))
    saturday = iso(friday_night + timedelta(days=1))
    assert alert_store.claim_due(fresh_store, saturday, saturday) == []
    assert len(alert_store.claim_due(fresh_store, d["due_at"], d["due_at"])) == 1


# -- settings ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, params, delivery, message", [
    ("nonsense", {}, {}, "未知的规则类型"),
    ("spike", {"count": 1}, {}, "条数阈值"),
    ("spike", {"count": 2.5}, {}, "整数"),
    ("spike", {"count": "many"}, {}, "必须是数字"),
    ("spike", {"group": "city"}, {}, "分组方式"),
    ("spike", {"group": "keyword"}, {}, "至少需要一个词"),
    ("watchword", {}, {}, "至少需要一个词"),
    ("watchword", {"words": "  ,  "}, {}, "至少需要一个词"),
    ("watchword", {"words": ["专利"], "negative_only": "yes"}, {}, "true 或 false"),
    ("negative_source", {"min_p_negative": 1.5}, {}, "0–1"),
    ("negative_source", {"min_wieght": 2}, {}, "不认识"),
    ("source_silent", {"factor": 0.5}, {}, "倍数"),
    ("watchword", {"words": ["专利"]}, {"hours": "25:00-26:00"}, "时间无效"),
    ("watchword", {"words": ["专利"]}, {"hours": "9点到5点"}, "08:30-18:00"),
    ("watchword", {"words": ["专利"]}, {"hours": "09:00-09:00"}, "不能相同"),
    ("watchword", {"words": ["专利"]}, {"mode": "hourly"}, "realtime 或 digest"),
    ("watchword", {"words": ["专利"]}, {"digest_minutes": 1}, "汇总间隔"),
    ("watchword", {"words": ["专利"]}, {"channel": ["x"]}, "不认识"),
    (["spike"], {}, {}, "未知的规则类型"),
    ("spike", "count=3", {}, "应为键值表"),
    ("watchword", {"words": ["专利"]}, 5, "应为键值表"),
    ("spike", {"count": 0}, {}, "^条数阈值应在 2–10000 之间"),         # no parameter code in the message
])
def test_malformed_rule_settings_are_refused_with_a_message(kind, params, delivery, message):
    with pytest.raises(RuleError, match=message):
        alerts.parse_rule("规则", kind, params, delivery)


def test_unknown_channel_and_empty_name_refused():
    with pytest.raises(RuleError, match="渠道未配置：值班群"):
        alerts.parse_rule("x", "watchword", {"words": ["a"]}, {"channels": ["值班群"]}, known_channels={"邮件"})
    with pytest.raises(RuleError, match="名称"):
        alerts.parse_rule("  ", "watchword", {"words": ["a"]}, {})


def test_save_rule_permissions_uniqueness_and_audit(fresh_store, frozen_now):
    admin = users.User(id=1, username="alice", role="admin")
    viewer = users.User(id=2, username="vic", role="viewer")
    r = alerts.parse_rule("关注词", "watchword", {"words": ["合肥"]}, {})
    with pytest.raises(users.UserError):
        alerts.save_rule(fresh_store, r, actor=viewer, now=frozen_now)
    saved = alerts.save_rule(fresh_store, r, actor=admin, now=frozen_now)
    with pytest.raises(RuleError, match="同名"):
        alerts.save_rule(fresh_store, r, actor=admin, now=frozen_now)
    changed = alerts.parse_rule("关注词", "watchword", {"words": ["芜湖"]}, {}, rule_id=saved.id)
    alerts.save_rule(fresh_store, changed, actor=admin, now=frozen_now)
    [stored], problems = alerts.list_rules(fresh_store)
    assert stored.params["words"] == ["芜湖"] and problems == []
    alerts.delete_rule(fresh_store, saved.id, actor=admin, now=frozen_now)
    assert alerts.list_rules(fresh_store) == ([], [])
    assert [(a["actor"], a["action"]) for a in users.audit_log(fresh_store)] == [
        ("alice", "alert_rule.delete"), ("alice", "alert_rule.update"), ("alice", "alert_rule.add")]


def test_acknowledge_needs_a_handler(fresh_store, frozen_now):
    rule(fresh_store, "关注词", "watchword", {"words": ["侵权"]})
    add(fresh_store, "侵权", at=frozen_now)
    [fid] = run(fresh_store, frozen_now).fired
    with pytest.raises(users.UserError):
        alerts.acknowledge(fresh_store, fid, actor=users.User(id=2, username="v", role="viewer"), now=frozen_now)
    assert alerts.banner(fresh_store, frozen_now)["count"] == 1
    handler = users.User(id=3, username="h", role="handler")
    assert alerts.acknowledge(fresh_store, fid, actor=handler, now=frozen_now) is True
    assert alerts.acknowledge(fresh_store, fid, actor=handler, now=frozen_now) is False
    assert alerts.banner(fresh_store, frozen_now)["count"] == 0


# -- robustness -------------------------------------------------------------------------------------

def test_a_broken_rule_or_sources_file_does_not_stop_the_others(fresh_store, frozen_now, tmp_path):
    rule(fresh_store, "关注词", "watchword", {"words": ["侵权"]})
    rule(fresh_store, "停滞", "source_silent", {})
    rule(fresh_store, "重点媒体负面", "negative_source", {})
    fresh_store.conn.execute("UPDATE alert_rules SET params='{\"words\": []}' WHERE name='关注词'")
    rule(fresh_store, "关注词2", "watchword", {"words": ["侵权"]})
    add(fresh_store, "侵权", at=frozen_now)
    bad = tmp_path / "sources.toml"
    bad.write_text("[[sources]]\nname = 1\n", encoding="utf-8")
    settings = Settings.load(db=fresh_store.path, env={}, sources=bad)
    report = alerts.evaluate_and_notify(fresh_store, settings, frozen_now, config=NO_CHANNELS)
    # the watch-word rule still fired; the other problems are listed, not raised
    assert [f["rule_name"] for f in firings(fresh_store)] == ["关注词2"]
    text = "\n".join(report.errors)
    assert "规则「关注词」设置无效" in text
    assert "规则「停滞」：无法读取信息源配置" in text and "规则「重点媒体负面」" in text


def test_unusable_notify_config_is_reported_and_firings_kept(fresh_store, frozen_now, tmp_path, monkeypatch):
    rule(fresh_store, "关注词", "watchword", {"words": ["侵权"]}, {"channels": ["值班群"]})
    add(fresh_store, "侵权", at=frozen_now)
    config_file = tmp_path / "config.local.toml"
    config_file.write_text("[notify\n", encoding="utf-8")
    monkeypatch.setenv(notify.ENV_CONFIG, str(config_file))
    report = alerts.evaluate_and_notify(fresh_store, Settings.load(db=fresh_store.path, env={}), frozen_now,
                                        sources=SOURCES)
    assert len(report.fired) == 1
    assert any("通知配置有误" in e for e in report.errors)
    [d] = alerts.deliveries(fresh_store)
    assert d["status"] == "queued" and d["attempts"] == 0


def test_naive_clock_is_a_programming_error(fresh_store):
    with pytest.raises(ValueError):
        alerts.evaluate(fresh_store, Settings.load(db=fresh_store.path, env={}), datetime(2026, 11, 20, 9, 30))


def test_example_rules_file_loads(db_path, monkeypatch, capsys):
    from monitor import admin_cli
    example = Path(__file__).resolve().parent.parent / "data" / "alert_rules.example.toml"
    assert admin_cli.main(["alerts", "load-rules", str(example), "--db", str(db_path)]) == 0
    assert admin_cli.main(["alerts", "load-rules", str(example), "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "新增 4 条" in out and "新增 0 条" in out
    with Store(db_path) as s:
        rules, problems = alerts.list_rules(s)
    assert problems == [] and {r.kind for r in rules} == set(alerts.KINDS)


@pytest.mark.parametrize("body, said", [
    ('[[rules]]\nname = "x"\nkind = "negative"\nmute = true\n', "不认识的键 mute；可用的键"),
    ('rules = ["not a table"]\n', "第 1 条规则：可用的键"),
    ('[[rules]]\nname = "x"\nkind = "watchword"\nparams = { words = ["侵权"] }\n'
     'delivery = { channels = ["不存在的渠道"] }\n', "渠道未配置：不存在的渠道"),
])
def test_a_rules_file_with_a_wrong_key_names_it(db_path, tmp_path, capsys, monkeypatch, body, said):
    from monitor import admin_cli
    (tmp_path / "notify.toml").write_text("[notify]\n", encoding="utf-8")      # no channels configured
    monkeypatch.setenv("OPINION_CONFIG", str(tmp_path / "notify.toml"))
    f = tmp_path / "rules.toml"
    f.write_text(body, encoding="utf-8")
    assert admin_cli.main(["alerts", "load-rules", str(f), "--db", str(db_path)]) == 2
    assert said in capsys.readouterr().err


def test_two_evaluations_at_once_fire_an_alert_once(fresh_store, frozen_now, monkeypatch):
    """`alerts evaluate` by hand while the collector's evaluation runs: the second waits for the first's
    write and sees its firing (checking before the write transaction fired it twice)."""
    import threading
    rule(fresh_store, "关注词", "watchword", {"words": ["维权难"]})
    add(fresh_store, "合肥某企业专利维权难", at=frozen_now - timedelta(minutes=1))
    first_checked, second_started = threading.Event(), threading.Event()
    real = alert_store.last_fired_at

    def slow_first_check(store, rule_id, subject):
        found = real(store, rule_id, subject)
        if threading.current_thread().name == "first" and not first_checked.is_set():
            first_checked.set()
            second_started.wait(5)
            threading.Event().wait(0.5)            # the second evaluation reaches its own check meanwhile
        return found

    monkeypatch.setattr(alert_store, "last_fired_at", slow_first_check)
    reports = {}

    def evaluate(name):
        with Store(fresh_store.path) as s:
            if name == "second":
                first_checked.wait(5)
                second_started.set()
            reports[name] = run(s, frozen_now)

    threads = [threading.Thread(target=evaluate, args=(n,), name=n) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(firings(fresh_store)) == 1
    assert (len(reports["first"].fired), reports["second"].suppressed) == (1, 1)
