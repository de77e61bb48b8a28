"""Briefing content (period → BriefingData) on a real, seeded SQLite file.

Expected numbers come from the dashboard's own queries on the same file, so
the briefing is checked to say what the dashboard shows for the same days.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from briefing import build as B
from briefing.period import date_range, day, week, week_label
from collectors.base import Item
from monitor import case_store, handling, queries, story_store
from monitor.case_store import CaseStore
from monitor.queries import BEIJING, ItemFilter
from monitor.store import Store, iso
from sentiment.judgement import Judgement

# The seeded week: Monday 2026-11-09 .. Sunday 2026-11-15 (2026-W46).
WEEK = date(2026, 11, 9)
XSS = "<script>alert(1)</script> 盗版网课泛滥"
OWN = "本局网站"
SOURCES = [
    {"name": "源甲", "enabled": True}, {"name": "源乙", "enabled": True}, {"name": "源丙", "enabled": True},
    {"name": "源丁", "enabled": True}, {"name": OWN, "enabled": True, "own": True},
    {"name": "源戊", "enabled": False},
]


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=BEIJING)


def judgement(polarity: str, ip_type: str = "专利", province: str = "安徽", city: str = "合肥") -> Judgement:
    neg = polarity == "negative"
    return Judgement(negative=neg, p_negative=0.9 if neg else 0.1, polarity=polarity, ip_type=ip_type,
                     ip_types=(ip_type,), province=province, city=city)


# (title, text, [sources], day offset, hour, polarity, ip type, province, city, platform)
ROWS = [
    ("合肥市市场监管局查处一批商标侵权案件", "合肥市市场监管局近日集中查处商标侵权案件十二起，涉案商品三千余件。",
     ["源甲", "源丙", "新华网"], 0, 9, "positive", "商标", "安徽", "合肥", "news"),
    ("芜湖企业反映专利维权难、周期长", "多家芜湖企业反映专利侵权诉讼周期长、举证难、赔偿低，维权成本高。",
     ["源甲", "微博网友"], 1, 10, "negative", "专利", "安徽", "芜湖", "social"),
    ("安徽省知识产权局发布2026年知识产权保护白皮书", "白皮书显示全省知识产权保护工作取得新进展，专利授权量稳步增长。",
     [OWN, "人民网", "安徽日报"], 2, 15, "positive", "其他", "安徽", "合肥", "government"),
    ("黄山毛峰地理标志保护推进会召开", "黄山市召开地理标志保护推进会，部署地理标志产品专用标志使用管理。",
     ["源丙"], 3, 11, "neutral", "地理标志", "安徽", "黄山", "news"),
    (XSS, "有网友反映网络盗版课程泛滥，平台处理不及时。", ["源甲"], 4, 20, "negative", "著作权", "", "", "forum"),
    ("滁州开展知识产权进企业活动", "滁州市组织专家走进企业，宣讲专利导航和商标品牌建设。", ["源甲"], 6, 8, "positive",
     "专利", "安徽", "滁州", "news"),
    # the previous week
    ("上周的一条专利纠纷", "上周发生的专利纠纷。", ["源甲"], -3, 9, "negative", "专利", "江苏", "南京", "news"),
    ("上周的商标宣传", "上周的商标宣传活动。", ["源甲"], -5, 9, "positive", "商标", "安徽", "合肥", "news"),
]


def seed(path: Path, week_start: date = WEEK, *, sample: bool = False) -> Path:
    """Items of `week_start`'s week and the week before, runs in the week, a handled story, two cases."""
    with Store(path) as s:
        items = []
        for n, (title, text, srcs, off, hour, pol, ipt, prov, city, plat) in enumerate(ROWS):
            for k, src in enumerate(srcs):
                when = at(week_start + timedelta(days=off), hour, 5 * k)
                items.append((Item(source=src, url=f"https://news.example/{n}/{k}", title=title, text=text,
                                   published_at=when, fetched_at=when, platform=plat),
                              judgement(pol, ipt, prov, city)))
        s.add_items(items, sample=sample)
        runs_at = iso(at(week_start + timedelta(days=2), 12))
        for src, status in (("源甲", "ok"), ("源甲", "ok"), ("源乙", "error"), ("源乙", "error"),
                            ("源丙", "ok"), ("源丙", "error"), (OWN, "not_modified"), ("导入", "ok")):
            r = s.start_run(src)
            s.finish_run(r, status=status, fetched=3, new=1,
                         error="HTTP 503 <b>Service Unavailable</b>" if status == "error" else None)
        # Runs are stamped "now" by the store; move them into the seeded week.
        with s.atomic() as c:
            c.execute("UPDATE runs SET started_at = ?, finished_at = ?", (runs_at, runs_at))
        neg_item = s.conn.execute("SELECT id FROM items WHERE title LIKE '芜湖企业%' ORDER BY id").fetchone()[0]
        handling.transition(s, neg_item, "assign", "张三", unit="芜湖市知识产权局",
                            due=at(week_start + timedelta(days=3), 17), now=at(week_start + timedelta(days=1), 12))
        cs = CaseStore(s)
        with s.atomic():
            for cid, title, state, moved in (("CB001", "某商标侵权行政处罚案", "approved", 3),
                                             ("CB002", "早先发布的专利案", "published", -20)):
                cs.insert({"id": cid, "state": state, "title": title, "headline": title, "ip_type": "trademark",
                           "channel": "administrative", "authority": "合肥市市场监督管理局", "region": "安徽合肥",
                           "year": week_start.year, "gist": f"{title}的要旨。"})
                # The audit history is append-only: stamp the event at its time instead of now.
                stamp = iso(at(week_start + timedelta(days=moved), 16))
                with pytest.MonkeyPatch.context() as mp:
                    mp.setattr(case_store, "now_iso", lambda: stamp)
                    cs.add_event(cid, 1, actor="李四", role="reviewer", action="approve", from_state="review",
                                 to_state=state)
    return path


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return seed(tmp_path_factory.mktemp("briefing") / "opinion.db")


@pytest.fixture
def store(seeded):
    with Store(seeded, readonly=True) as s:
        yield s


def sunday_evening() -> datetime:
    return at(WEEK + timedelta(days=6), 20)


def test_week_equals_the_dashboards_seven_day_window(store):
    # On the Sunday evening the ISO week is exactly the dashboard's "近7天".
    now = sunday_evening()
    period = week("2026-W46", now.date())
    data = B.build(store, period, sources=SOURCES, now=now)
    ov = queries.overview(store, now)["7d"]
    for key in ("total", "negative", "negative_share", "previous_total", "previous_negative", "total_change",
                "negative_change"):
        assert data.overview[key] == ov[key], key
    assert data.overview["total"] == 11 and data.overview["negative"] == 3  # the seed is as intended
    trend = queries.daily_trend(store, 7, now)
    assert data.trend.equals(trend)
    assert data.sources.equals(queries.top_sources(store, 7, 10, now))
    assert data.ip_types.equals(queries.ip_type_breakdown(store, 7, now))
    assert data.cities.equals(queries.city_breakdown(store, 7, now))
    assert period.in_progress and "尚未结束" in period.describe()


def test_finished_week_counts_equal_the_item_list(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W46", now.date()), sources=SOURCES, now=now)
    page = queries.item_list(store, ItemFilter(start=WEEK, end=WEEK + timedelta(days=6)), now)
    negative = queries.item_list(store, ItemFilter(start=WEEK, end=WEEK + timedelta(days=6), negative_only=True),
                                 now)
    assert data.overview["total"] == page.total
    assert data.overview["negative"] == negative.total
    assert sum(data.overview["polarity"].values()) == page.total
    assert data.overview["previous_total"] == 2 and data.overview["previous_negative"] == 1
    assert f"信息{page.total}条" in data.facts["overview"][0]
    assert f"负面{negative.total}条" in data.facts["overview"][0]


def test_stories_are_the_hot_event_ranking(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W46", now.date()), sources=SOURCES, now=now)
    top = story_store.top_stories(store, at(WEEK, 0), at(WEEK + timedelta(days=7), 0), limit=10)
    top = top[top["items"] >= 2]  # a single report is no 热点事件
    assert [(s.story_id, s.items, s.sources) for s in data.stories] == \
        list(zip(top["story_id"], top["items"], top["outlets"]))
    assert len(data.stories) == 3 and "本期报道2条及以上的知识产权相关事件3个" in data.facts["stories"][0]
    first = data.stories[0]
    assert first.items == 3 and first.first_source in ("源甲", OWN)
    # The negative story was assigned in the handling loop: its state and unit are reported.
    wuhu = next(s for s in data.negatives if s.title.startswith("芜湖企业"))
    assert (wuhu.handling, wuhu.unit) == ("已交办", "芜湖市知识产权局")
    xss = next(s for s in data.negatives if s.title == XSS)
    assert xss.handling == "待研判" and xss.unit == ""
    assert data.negatives_total == 2
    assert data.facts["handling"][0] == ("处置情况：上述2个事件中，待研判1个、已交办1个；超过办理时限未回应1个；"
                                         "从首发到交办中位用时2.0小时。")


def test_own_publicity_and_cases(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W46", now.date()), sources=SOURCES, now=now)
    reach = story_store.own_reach(store, (OWN,), at(WEEK, 0), at(WEEK + timedelta(days=7), 0))
    assert data.own_configured
    assert [(s.title, s.items - 1, s.sources) for s in data.own] == \
        list(zip(reach["title"], reach["reposts"], reach["outlets"]))
    assert data.own[0].items - 1 == 2
    assert [c["id"] for c in data.cases] == ["CB001"]  # CB002 was published before the week
    assert data.cases[0]["moved_to"] == "approved"
    without = B.build(store, week("2026-W46", now.date()), sources=[s for s in SOURCES if not s.get("own")], now=now)
    assert not without.own_configured and without.own == []


def test_collection_appendix_names_failed_and_silent_sources(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W46", now.date()), sources=SOURCES, now=now)
    status = {r.name: r.status for r in data.coverage.rows}
    assert status == {"源甲": "ok", "源乙": "failed", "源丙": "partial", "源丁": "silent", OWN: "ok", "导入": "idle"}
    assert not data.coverage.complete
    st = data.coverage.statement
    assert "采集不完整" in st and "1个信息源采集失败" in st and "1个信息源部分失败" in st and "1个信息源本期未运行" in st
    assert "采集不完整" in " ".join(data.facts["overview"])
    errors = {r.name: r.last_error for r in data.coverage.rows}
    assert errors["源乙"] == "HTTP 503 <b>Service Unavailable</b>"
    assert not next(r for r in data.coverage.rows if r.name == "导入").configured


def test_complete_coverage_is_stated_only_when_every_enabled_source_ran_cleanly(store):
    ok_only = [{"name": "源甲"}, {"name": OWN, "own": True}, {"name": "导入"}]
    runs = queries.period_runs(store, WEEK, WEEK + timedelta(days=6))
    per_source = queries.period_sources(store, WEEK, WEEK + timedelta(days=6), limit=100)
    cov = B.coverage(runs[runs["source"].isin(["源甲", OWN, "导入"])], per_source, ok_only)
    assert cov.complete and "均正常采集" in cov.statement
    no_config = B.coverage(runs[runs["source"] == "源甲"], per_source, None)
    assert not no_config.complete and "未读到信息源配置" in no_config.statement


def test_empty_period_says_there_was_no_data(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W30", now.date()), sources=SOURCES, now=now)
    assert data.empty and data.stories == [] and data.negatives == [] and data.cases == []
    assert "未监测到" in data.facts["overview"][0]
    assert data.texts["summary"] == "本期无可供研判的数据。"
    assert data.facts["trend"] == ["本期无数据。"]
    assert not data.coverage.complete and "没有任何采集运行记录" in data.coverage.statement


def test_edits_replace_the_drafts_and_nothing_else(store):
    now = at(WEEK + timedelta(days=9), 10)
    period = week("2026-W46", now.date())
    data = B.build(store, period, sources=SOURCES, now=now, edits={"assessment": "人工研判", "outlook": None})
    assert data.texts["assessment"] == "人工研判"
    assert data.texts["outlook"] == data.drafts["outlook"] and data.texts["summary"] == data.drafts["summary"]
    assert data.drafts["assessment"] != "人工研判"
    with pytest.raises(KeyError):
        B.with_edits(data, {"title": "x"})


def test_drafts_follow_the_data(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W46", now.date()), sources=SOURCES, now=now)
    # 3 of 11 negative (27%): a high share
    assert data.texts["summary"].startswith("总体看，本期负面信息占比较高")
    assert "2个负面事件" in data.texts["assessment"]
    assert "本局自有渠道发布的1条信息共被转载2次" in data.texts["assessment"]
    assert "芜湖企业反映专利维权难" in data.texts["outlook"]


def test_outlook_lists_calendar_dates_ahead():
    assert [d for d, _ in B.upcoming(date(2027, 4, 18), 7)] == [date(2027, 4, 20), date(2027, 4, 23)]
    assert [d for d, _ in B.upcoming(date(2026, 12, 28), 90)] == [date(2027, 3, 15)]
    assert B.upcoming(date(2026, 11, 15), 7) == []


def test_daily_period_and_sample_note(tmp_path):
    db = seed(tmp_path / "s.db", sample=True)
    now = at(WEEK + timedelta(days=9), 10)
    with Store(db, readonly=True) as s:
        data = B.build(s, day((WEEK + timedelta(days=1)).isoformat(), now.date()), sources=SOURCES, now=now)
        assert data.title == "知识产权舆情日报"
        assert data.overview["total"] == 2 and data.overview["sample"] == 2
        assert any("示例数据2条" in line for line in data.facts["overview"])
        rng = B.build(s, date_range(WEEK.isoformat(), (WEEK + timedelta(days=6)).isoformat(), now.date()),
                      sources=SOURCES, now=now)
        assert rng.overview["total"] == 11 and rng.title == "知识产权舆情专报"


def test_story_key_merges_reposts_with_a_source_suffix():
    assert B.story_key("合肥查处商标侵权案 - 人民网") == B.story_key("合肥查处商标侵权案")
    assert B.story_key("合肥查处商标侵权案！") == B.story_key("合肥 查处 商标侵权案")
    assert B.story_key("合肥查处商标侵权案") != B.story_key("芜湖查处商标侵权案")


def test_week_label_round_trip():
    assert week_label(WEEK) == "2026-W46"
    assert week("2026-W46", date(2026, 12, 1)).start == WEEK


def test_without_stored_stories_reposts_merge_by_headline():
    import pandas as pd
    t0 = at(WEEK, 9)
    items = pd.DataFrame({
        "id": [1, 2, 3, 4], "story_id": [None] * 4,
        "published_at": pd.to_datetime([t0 + timedelta(hours=h) for h in range(4)]),
        "title": ["合肥查处商标侵权案", "合肥查处商标侵权案 - 人民网", "芜湖专利纠纷", "合肥查处商标侵权案！"],
        "snippet": ["正文一", "正文二", "正文三", "正文四"], "source": ["甲", "人民网", "乙", "丙"],
        "url": ["u1", "u2", "u3", "u4"], "negative": pd.array([False, False, True, False], dtype="boolean")})
    ranked = B.rank_stories(items)
    assert list(ranked["items"]) == [3, 1] and list(ranked["negative_items"]) == [0, 1]
    first, second = B.stories_from(items, ranked)
    assert (first.title, first.first_source, first.sources, first.outlets, first.gist, first.story_id) == \
        ("合肥查处商标侵权案", "甲", 3, ("甲", "人民网", "丙"), "正文一", None)
    assert (second.title, second.negative_items) == ("芜湖专利纠纷", 1)


def test_tones_add_up_and_negative_means_flagged(tmp_path, monkeypatch):
    """An off-topic item written in a negative tone (never flagged) counts as 中性: 正面 + 中性 + 负面 is the
    total, 负面 is the flagged count, and the advice speaks of every negative event, not the listed ones."""
    when = at(WEEK + timedelta(days=1), 9)
    rows = [("芜湖企业反映专利维权难", judgement("negative")),
            ("某地暴雨致交通中断 市民抱怨排水不畅",
             Judgement(negative=False, p_negative=0.05, polarity="negative", topic="off")),
            ("合肥查处商标侵权案件", judgement("positive"))]
    with Store(tmp_path / "o.db") as s:
        s.add_items([(Item(source="源甲", url=f"https://news.example/t{n}", title=t, text=t, published_at=when,
                           fetched_at=when), j) for n, (t, j) in enumerate(rows)])
        now = at(WEEK + timedelta(days=9), 10)
        monkeypatch.setattr(B, "MAX_LISTED", 0)         # the list is cut; the advice still counts them all
        data = B.build(s, week("2026-W46", now.date()), sources=SOURCES, now=now)
    ov = data.overview
    assert data.negatives == [] and data.negatives_total == 1
    assert ov["total"] == 3 and ov["negative"] == 1
    assert ov["polarity"] == {"positive": 1, "neutral": 1, "negative": 1}
    assert "正面1条，中性1条，负面1条" in data.facts["overview"][0]
    assert data.drafts["assessment"].startswith(f"一是对本期{data.negatives_total}个负面事件")


def _store_with(path: Path, rows) -> Path:
    """rows: (title, text, [sources], Judgement, published, fetched)."""
    with Store(path) as s:
        s.add_items([(Item(source=src, url=f"https://news.example/{n}/{k}", title=t, text=text, published_at=pub,
                           fetched_at=got), j)
                     for n, (t, text, srcs, j, pub, got) in enumerate(rows) for k, src in enumerate(srcs)])
    return path


def test_hot_events_are_reported_more_than_once_and_about_ip(tmp_path):
    """Ten single reports are no 热点事件; an off-topic story does not become one by being reposted."""
    when = at(WEEK + timedelta(days=1), 9)
    off = Judgement(negative=False, p_negative=0.05, polarity="neutral", topic="off")
    topics = ("商标注册", "专利导航", "地理标志", "版权登记", "集成电路布图", "植物新品种", "商业秘密", "海关保护",
              "质押融资", "数据知识产权")
    singles = [(f"{t}工作动态", f"{city}开展{t}相关工作，第{n}次。", ["源甲"], judgement("neutral"), when, when)
               for n, (t, city) in enumerate(zip(topics, queries.ANHUI_CITIES))]
    reposted_off = [("某地暴雨致交通中断 市民抱怨排水不畅", "某地昨夜突降暴雨，多条道路积水严重，交通一度中断，市民抱怨"
                     "城市排水系统不畅，有关部门已组织抢险排涝。", ["源甲", "源乙", "源丙"], off, when, when)]
    now = at(WEEK + timedelta(days=9), 10)
    with Store(_store_with(tmp_path / "a.db", singles + reposted_off), readonly=True) as s:
        data = B.build(s, week("2026-W46", now.date()), sources=SOURCES, now=now)
    assert data.stories == []
    assert data.facts["stories"] == ["本期无转载量较大的事件（1个有转载的事件均与知识产权无关，不列入）。"]
    assert "热点事件的后续发展" not in data.drafts["outlook"]
    with Store(_store_with(tmp_path / "b.db", singles), readonly=True) as s:
        data = B.build(s, week("2026-W46", now.date()), sources=SOURCES, now=now)
    assert data.stories == [] and data.facts["stories"] == ["本期无转载量较大的事件（10个事件均只有1条报道）。"]
    ip_twice = [("合肥查处商标侵权案件", "合肥市市场监管局近日集中查处商标侵权案件十二起，涉案商品三千余件，"
                 "有力震慑了侵权违法行为。", ["源甲", "源乙"], judgement("positive"), when, when)]
    with Store(_store_with(tmp_path / "c.db", singles + reposted_off + ip_twice), readonly=True) as s:
        data = B.build(s, week("2026-W46", now.date()), sources=SOURCES, now=now)
    assert [(x.title, x.items) for x in data.stories] == [("合肥查处商标侵权案件", 2)]


def test_outlook_names_events_with_short_clean_labels(tmp_path):
    """Untitled items carry their first sentence as title: the outlook quotes a short label, no nested “”."""
    when = at(WEEK + timedelta(days=1), 9)
    rows = [("傍“老”啃“老”不斷 老字号又有新煩惱", "老字号遭侵权。", ["源甲"], judgement("negative"), when, when),
            ("受新冠肺炎疫情影响,无论是课业辅导、考试辅导、升学辅导还是继续教育,众多教育机构都将课程搬到线上。",
             "盗版网课猖獗。", ["源乙"], judgement("negative"), when, when)]
    now = at(WEEK + timedelta(days=9), 10)
    with Store(_store_with(tmp_path / "o.db", rows), readonly=True) as s:
        outlook = B.build(s, week("2026-W46", now.date()), sources=SOURCES, now=now).drafts["outlook"]
    line = next(x for x in outlook.splitlines() if x.startswith("持续关注"))
    assert "「傍『老』啃『老』不斷 老字号又有新煩惱」" in line
    assert "「受新冠肺炎疫情影响,无论是课业辅导、考试辅导…」" in line
    assert "“" not in line and "。”" not in line
    assert all(len(label) <= B.LABEL_CHARS + 3 for label in re.findall(r"「[^」]*」", line))


def test_event_label():
    assert B.event_label("合肥查处商标侵权案 - 人民网") == "「合肥查处商标侵权案」"
    assert B.event_label("老字号,承載着一座城市的記憶。電商時代") == "「老字号,承載着一座城市的記憶」"
    assert B.event_label("x" * 50) == "「" + "x" * 30 + "…」"
    assert B.event_label("") == "「（无标题）」"


def test_empty_period_and_empty_previous_period_read_naturally(store):
    now = at(WEEK + timedelta(days=9), 10)
    data = B.build(store, week("2026-W30", now.date()), sources=SOURCES, now=now)
    assert data.facts["overview"][0].endswith("未监测到知识产权相关舆情信息，上周也未监测到。")
    assert "0条" not in data.facts["overview"][0]
    assert "热点事件" not in data.drafts["outlook"] and "本期未监测到相关信息" in data.drafts["outlook"]
    after = B.build(store, week("2026-W47", date(2026, 12, 1)), sources=SOURCES, now=at(date(2026, 12, 1), 10))
    assert after.facts["overview"][0].endswith("未监测到知识产权相关舆情信息，上周监测到11条。")


def test_handling_figures_cover_the_negative_events_the_section_counts(tmp_path):
    """四、负面舆情及处置 counts events by publication in the period; its handling sentence speaks of the
    same events. Collection time does not matter: a backfill of last month's items collected this week,
    and this week's items collected only later (the sample data), must not make the two disagree."""
    in_week, later = at(WEEK + timedelta(days=1), 9), at(WEEK + timedelta(days=20), 9)
    old, collected_in_week = at(WEEK - timedelta(days=30), 9), at(WEEK + timedelta(days=2), 9)
    rows = [("芜湖企业反映专利维权难、周期长", "多家芜湖企业反映专利侵权诉讼周期长、举证难、赔偿低。", ["源甲"],
             judgement("negative"), in_week, later),
            ("网络盗版课程泛滥 平台处理不及时", "有网友反映网络盗版课程泛滥，平台处理不及时。", ["源乙"],
             judgement("negative"), in_week, later)]
    backfill = [(f"上月的负面报道{n}：{t}", f"上月{t}，群众反映强烈。", ["源丙"], judgement("negative"), old,
                 collected_in_week) for n, t in enumerate(("假冒商标泛滥", "专利代理诈骗", "盗版图书横行"))]
    now = at(WEEK + timedelta(days=21), 10)
    with Store(_store_with(tmp_path / "o.db", rows + backfill), readonly=True) as s:
        data = B.build(s, week("2026-W46", now.date()), sources=SOURCES, now=now)
    assert data.negatives_total == 2
    assert data.facts["handling"] == ["处置情况：上述2个事件中，待研判2个。"]


def test_period_items_carry_the_topic_so_hot_events_need_no_look_ups(tmp_path):
    """Off-topic stories are left out of 热点事件 from the period's own rows: every candidate is checked,
    not only the first hundred looked up one by one."""
    when = at(WEEK + timedelta(days=1), 9)
    off = Judgement(negative=False, p_negative=0.05, polarity="neutral", topic="off")
    rows = [("某地暴雨致交通中断", off, "源甲"), ("某地暴雨致交通中断", off, "源乙"),
            ("合肥查处商标侵权案件", judgement("positive"), "源甲"), ("合肥查处商标侵权案件", judgement("positive"), "源乙")]
    with Store(tmp_path / "o.db") as s:
        s.add_items([(Item(source=src, url=f"https://news.example/h{n}", title=t, text=t + "。", published_at=when,
                           fetched_at=when), j) for n, (t, j, src) in enumerate(rows)])
        items = queries.period_items(s, WEEK, WEEK + timedelta(days=6))
    assert list(items["topic"]) == ["off", "off", "ip", "ip"]
    ranked = B.rank_stories(items)
    hot, qualified = B.hot_stories(items, ranked, 10, store=None)       # nothing to look up
    assert qualified == 1 and list(hot["items"]) == [2]
    assert items.iloc[int(hot["first"][0])]["title"] == "合肥查处商标侵权案件"
