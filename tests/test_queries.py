"""The read side over a real SQLite file with known items, on a frozen date.

frozen_now is 2026-11-20 09:30 UTC = 17:30 Beijing. Beijing midnight of the
20th is 2026-11-19T16:00Z, so an item at 15:59:59Z belongs to the 19th.
"""
from __future__ import annotations

import io
import json
import sqlite3
from datetime import date, datetime, timedelta, timezone

import pytest

from collectors.base import Item
from collectors.registry import load_sources
from monitor import queries
from monitor.queries import ItemFilter
from monitor.store import Store
from sentiment.judge import OFF_TOPIC_P_CAP
from sentiment.judgement import REVIEW_P, Judgement

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
Z = timezone.utc


def J(polarity="neutral", negative=False, ip_type="其他", province="", city="", ip_types=None, reasons=()):
    return Judgement(negative=negative, p_negative=0.8 if negative else 0.2, polarity=polarity, ip_type=ip_type,
                     ip_types=tuple(ip_types or ((ip_type,) if ip_type != "其他" else ())),
                     province=province, city=city, reasons=tuple(reasons))


# (name, published UTC, source, platform, judgement, title, text)
SEED = [
    ("today_midnight", datetime(2026, 11, 19, 16, 0, 0, tzinfo=Z), "源甲", "news",
     J("negative", True, "专利", "安徽", "合肥", reasons=("维权难", "立案难")), "合肥专利维权难", "企业反映维权难"),
    ("yesterday_last_second", datetime(2026, 11, 19, 15, 59, 59, tzinfo=Z), "源乙", "news",
     J("neutral", False, "商标", "安徽", "芜湖"), "芜湖商标注册", "商标注册数量"),
    ("yesterday_morning", datetime(2026, 11, 19, 1, 0, tzinfo=Z), "源乙", "government",
     J("neutral"), "昨日上午政务信息", "普通通报 100%完成"),
    ("today_evening", datetime(2026, 11, 20, 9, 0, tzinfo=Z), "源丙", "news",
     J("positive", False, "商标", "安徽", "芜湖", ip_types=("商标", "地理标志")), "芜湖地理标志商标", "宣传周活动"),
    ("three_days_ago", datetime(2026, 11, 17, 2, 0, tzinfo=Z), "源甲", "forum",
     J("negative", True, "著作权", "浙江", "杭州"), "杭州盗版网课泛滥", "盗版 网课 泛滥"),
    ("ten_days_ago", datetime(2026, 11, 10, 2, 0, tzinfo=Z), "源丁", "forum",
     J("neutral", False, "专利", "安徽"), "安徽省级专利通报", "专利数据"),
    ("forty_days_ago", datetime(2026, 10, 11, 2, 0, tzinfo=Z), "源丁", "news",
     J("negative", True, "专利", "江苏", "南京"), "南京专利纠纷", "维权成本高"),
    ("xss", datetime(2026, 11, 1, 2, 0, tzinfo=Z), "源丁", "news",
     J("neutral"), "<script>alert(1)</script>", "a_b 下划线"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("q") / "opinion.db"
    with Store(path) as w:
        pairs = [(Item(source=src, url=f"https://example.com/{name}", title=title, text=text,
                       published_at=pub, fetched_at=NOW, platform=plat), j)
                 for name, pub, src, plat, j, title, text in SEED]
        w.add_items(pairs)
    ro = Store(path, readonly=True)
    yield ro
    ro.close()


def ids(store, *names):
    titles = {name: title for name, _, _, _, _, title, _ in SEED}
    rows = store.conn.execute("SELECT id, title FROM items").fetchall()
    by_title = {r[1]: r[0] for r in rows}
    return {by_title[titles[n]] for n in names}


def listed(page) -> set[str]:
    return set(page.rows["title"])


def titles(*names) -> set[str]:
    t = {name: title for name, _, _, _, _, title, _ in SEED}
    return {t[n] for n in names}


# -- overview -------------------------------------------------------------------

def test_overview_uses_beijing_days_and_same_clock_previous_period(store):
    ov = queries.overview(store, now=NOW)
    today = ov["today"]
    # midnight item counts for today, the one a second earlier does not
    assert (today["total"], today["negative"]) == (2, 1)
    assert today["negative_share"] == pytest.approx(0.5)
    # yesterday up to 17:30 Beijing: only the morning item (23:59:59 is later in the day)
    assert (today["previous_total"], today["previous_negative"]) == (1, 0)
    assert today["total_change"] == pytest.approx(1.0)
    assert today["negative_change"] is None  # no base to compare with

    week = ov["7d"]
    assert (week["start"], week["end"]) == ("2026-11-14", "2026-11-20")
    assert (week["total"], week["negative"]) == (5, 2)
    assert week["previous_total"] == 1  # ten_days_ago
    month = ov["30d"]
    assert (month["total"], month["negative"]) == (7, 2)  # includes the xss item of Nov 1
    assert (month["previous_total"], month["previous_negative"]) == (1, 1)


def test_overview_on_empty_store(fresh_store):
    ov = queries.overview(fresh_store, now=NOW)
    assert ov["today"]["total"] == 0 and ov["today"]["negative_share"] is None


def test_daily_trend_fills_every_day_and_polarity(store):
    trend = queries.daily_trend(store, days=7, now=NOW)
    assert len(trend) == 7 * 3
    by = {(d.strftime("%Y-%m-%d"), p): c for d, p, c in trend.itertuples(index=False)}
    assert by[("2026-11-20", "negative")] == 1 and by[("2026-11-20", "positive")] == 1
    assert by[("2026-11-19", "neutral")] == 2
    assert by[("2026-11-17", "negative")] == 1
    assert by[("2026-11-14", "neutral")] == 0
    assert trend["count"].sum() == 5


def test_trend_red_is_flagged_negative_opinion_only(fresh_store):
    """The trend's negative bars add up to the tiles' negative count: an off-topic item with a
    negative tone (not flagged) counts as neutral."""
    off = Judgement(negative=False, p_negative=0.05, polarity="negative", topic="off")
    fresh_store.add_items([
        (Item(source="源", url="https://example.com/off", title="旺角烧烤餐厅疑食物中毒", text="8人送医",
              published_at=NOW - timedelta(hours=1)), off),
        (Item(source="源", url="https://example.com/neg", title="合肥专利维权难", text="企业反映维权难",
              published_at=NOW - timedelta(hours=2)), J("negative", True)),
    ])
    trend = queries.daily_trend(fresh_store, days=1, now=NOW)
    by = dict(zip(trend["polarity"], trend["count"]))
    assert by == {"negative": 1, "neutral": 1, "positive": 0}
    assert by["negative"] == queries.overview(fresh_store, now=NOW)["today"]["negative"]


def test_breakdowns(store):
    src = queries.top_sources(store, days=30, now=NOW)
    assert dict(zip(src["source"], src["count"])) == {"源甲": 2, "源乙": 2, "源丙": 1, "源丁": 2}
    assert list(src["count"]) == sorted(src["count"], reverse=True)
    assert dict(zip(src["source"], src["negative"]))["源甲"] == 2

    ipt = queries.ip_type_breakdown(store, days=30, now=NOW).set_index("ip_type")
    assert ipt.loc["专利", "count"] == 2 and ipt.loc["专利", "negative"] == 1
    assert ipt.loc["商标", "count"] == 2 and ipt.loc["植物新品种", "count"] == 0

    city = queries.city_breakdown(store, days=30, now=NOW)
    assert len(city) == 16 and set(queries.ANHUI_CITIES) == set(city["city"])
    assert list(city["city"][:2]) == ["芜湖", "合肥"]  # 2 then 1, then zeros
    assert city.set_index("city").loc["芜湖", "count"] == 2

    prov = queries.province_breakdown(store, days=30, now=NOW)
    assert dict(zip(prov["province"], prov["count"])) == {"安徽": 4, "浙江": 1}


def test_latest_negative_newest_first(store):
    neg = queries.latest_negative(store, limit=10)
    assert list(neg["title"]) == ["合肥专利维权难", "杭州盗版网课泛滥", "南京专利纠纷"]
    assert str(neg["published_at"].dt.tz) == "Asia/Shanghai"


# -- item list ------------------------------------------------------------------

@pytest.mark.parametrize("flt, expected", [
    (ItemFilter(start=date(2026, 11, 20), end=date(2026, 11, 20)), {"today_midnight", "today_evening"}),
    (ItemFilter(start=date(2026, 11, 19), end=date(2026, 11, 19)), {"yesterday_last_second", "yesterday_morning"}),
    (ItemFilter(polarities=("negative",)), {"today_midnight", "three_days_ago", "forty_days_ago"}),
    (ItemFilter(negative_only=True, start=date(2026, 11, 1)), {"today_midnight", "three_days_ago"}),
    (ItemFilter(sources=("源丙", "源丁")), {"today_evening", "ten_days_ago", "forty_days_ago", "xss"}),
    (ItemFilter(platforms=("forum",)), {"three_days_ago", "ten_days_ago"}),
    (ItemFilter(ip_types=("地理标志",)), {"today_evening"}),  # a secondary type matches too
    (ItemFilter(ip_types=("专利",), regions=("安徽",)), {"today_midnight", "ten_days_ago"}),
    (ItemFilter(regions=("安徽芜湖",)), {"yesterday_last_second", "today_evening"}),
    (ItemFilter(keyword="维权"), {"today_midnight", "forty_days_ago"}),
    (ItemFilter(keyword="盗版 泛滥"), {"three_days_ago"}),
    (ItemFilter(keyword="盗版 商标"), set()),
    (ItemFilter(keyword="100%"), {"yesterday_morning"}),  # % is a literal, not a wildcard
    (ItemFilter(keyword="a_b"), {"xss"}),
    (ItemFilter(keyword="<script>"), {"xss"}),
])
def test_item_list_filters(store, flt, expected):
    page = queries.item_list(store, flt, now=NOW)
    assert listed(page) == titles(*expected)
    assert page.total == len(expected)


def test_item_list_newest_first_and_limit(store):
    page = queries.item_list(store, ItemFilter(limit=3), now=NOW)
    assert list(page.rows["title"]) == ["芜湖地理标志商标", "合肥专利维权难", "芜湖商标注册"]
    assert page.total == len(SEED)
    assert any("只显示最新的 3 条" in n for n in page.notes)


def test_absurd_input_is_clipped_with_notes(store):
    page = queries.item_list(store, ItemFilter(start=date(9999, 1, 1), end=date(1, 1, 1), keyword="词" * 500,
                                               limit=10**9, polarities=("angry",)), now=NOW)
    f = page.filter
    assert (f.start, f.end) == (queries.MIN_DATE, date(2026, 11, 20))
    assert len(f.keyword) == queries.MAX_KEYWORD and f.limit == queries.MAX_LIMIT and f.polarities == ()
    text = " ".join(page.notes)
    for fragment in ("对调", "过早", "晚于今天", "关键词过长", "显示条数", "未知的倾向"):
        assert fragment in text
    assert page.total == 0  # the clipped keyword matches nothing, and nothing failed


def test_parse_day_rejects_bad_dates():
    assert queries.parse_day("2026-11-20") == date(2026, 11, 20)
    for bad in ("2026-13-01", "20261120", "yesterday", "2026-1-2", ""):
        with pytest.raises(queries.QueryError, match="YYYY-MM-DD"):
            queries.parse_day(bad)


def test_filter_options(store):
    opts = queries.filter_options(store)
    assert sorted(opts["sources"]) == opts["sources"] and set(opts["sources"]) == {"源甲", "源乙", "源丙", "源丁"}
    assert opts["regions"][0] == "安徽" and {"安徽合肥", "安徽芜湖", "浙江", "江苏"} <= set(opts["regions"])
    assert opts["ip_types"][:3] == ["专利", "商标", "著作权"]
    assert set(opts["platforms"]) == {"news", "government", "forum"}


def test_item_detail(store):
    (item_id,) = ids(store, "today_midnight")
    d = queries.item_detail(store, item_id)
    assert d["title"] == "合肥专利维权难" and d["reasons"] == ["维权难", "立案难"]
    assert d["negative"] is True and d["region"] == "安徽合肥"
    assert d["published_at_local"] == "2026-11-20T00:00:00+08:00"
    assert queries.item_detail(store, 10**9) is None


# -- runs, sources, export --------------------------------------------------------

SOURCES_TOML = """
[[sources]]
name = "好源"
url = "https://a.example/feed"
platform = "news"

[[sources]]
name = "坏源"
url = "https://b.example/feed"
platform = "government"

[[sources]]
name = "新源"
url = "https://c.example/feed"

[[sources]]
name = "停用源"
url = "https://d.example/feed"
enabled = false

[[sources]]
name = "日更源"
url = "https://e.example/feed"
interval_minutes = 1440
"""


def test_source_health_and_last_collection(fresh_store, tmp_path):
    (tmp_path / "sources.toml").write_text(SOURCES_TOML, encoding="utf-8")
    sources = load_sources(tmp_path / "sources.toml", "http://127.0.0.1:1200")
    s = fresh_store
    r = s.start_run("好源")
    s.finish_run(r, status="ok", fetched=5, new=3, duplicate=2)
    r = s.start_run("坏源")
    s.finish_run(r, status="ok", fetched=1, new=1)
    r = s.start_run("坏源")
    s.finish_run(r, status="error", error="timeout after 20 s")
    r = s.start_run("坏源")
    s.finish_run(r, status="error", error="HTTP 500")
    r = s.start_run("日更源")
    s.finish_run(r, status="not_modified")
    r = s.start_run("已删源")
    s.finish_run(r, status="error", error="gone")

    now = datetime.now(timezone.utc)
    h = queries.source_health(s, sources, stall_minutes=180, now=now).set_index("name")
    assert list(h.index) == ["好源", "坏源", "新源", "停用源", "日更源", "已删源"]
    assert h.loc["好源", "status"] == "ok" and (h.loc["好源", "new"], h.loc["好源", "duplicate"]) == (3, 2)
    assert h.loc["坏源", "status"] == "error" and h.loc["坏源", "error"] == "HTTP 500"
    assert h.loc["坏源", "failures_in_row"] == 2 and h.loc["坏源", "runs"] == 3
    assert h.loc["新源", "status"] == "never" and not h.loc["新源", "stalled"]
    assert not h.loc["停用源", "enabled"]
    assert not h.loc["已删源", "configured"]
    assert h.loc["好源", "last_started_at"].endswith("+08:00")
    assert not h["stalled"].any()

    later = queries.source_health(s, sources, stall_minutes=180, now=now + timedelta(hours=4)).set_index("name")
    assert later.loc["好源", "stalled"] and later.loc["坏源", "stalled"]
    assert not later.loc["日更源", "stalled"]  # polled daily: two intervals allowed
    assert not later.loc["新源", "stalled"] and not later.loc["停用源", "stalled"]

    last = queries.last_collection(s, stall_minutes=180, now=now)
    assert last["runs"] == 6 and not last["stalled"] and last["finished_at"].endswith("+08:00")
    assert queries.last_collection(s, stall_minutes=180, now=now + timedelta(hours=4))["stalled"]
    assert queries.last_collection(Store(tmp_path / "empty.db"), now=now)["finished_at"] is None


def test_export_records_beijing_iso_and_since(store):
    out = io.StringIO()
    n = queries.export_jsonl(store, out, since=date(2026, 11, 20))
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert n == 2 and {r["title"] for r in recs} == titles("today_midnight", "today_evening")
    first = recs[0]
    assert first["published_at"] == "2026-11-20T00:00:00+08:00"
    assert datetime.fromisoformat(first["fetched_at"]).utcoffset() == timedelta(hours=8)
    assert first["reasons"] == ["维权难", "立案难"] and first["negative"] is True
    assert set(queries.EXPORT_FIELDS) == set(first)
    assert sum(1 for _ in queries.export_records(store)) == len(SEED)


def test_suspect_filter_lists_likely_negative_items_the_flag_missed(fresh_store):
    """疑似负面: not flagged, p_negative at or above REVIEW_P; with 只看负面 too, both kinds."""
    def item(name, p, negative=False):
        j = Judgement(negative=negative, p_negative=p, polarity="negative" if negative else "neutral")
        return Item(source="源", url=f"https://example.com/{name}", title=name, text="正文",
                    published_at=NOW - timedelta(hours=1)), j
    fresh_store.add_items([item("flagged", 0.8, True), item("suspect", 0.35), item("edge", REVIEW_P),
                           item("unlikely", REVIEW_P - 0.01), item("calm", 0.05)])

    def names(**kw):
        return listed(queries.item_list(fresh_store, ItemFilter(**kw)))
    assert names(suspect_only=True) == {"suspect", "edge"}
    assert names(negative_only=True) == {"flagged"}
    assert names(negative_only=True, suspect_only=True) == {"flagged", "suspect", "edge"}
    assert names() == {"flagged", "suspect", "edge", "unlikely", "calm"}
    # Off-topic items are capped below the band, so it never lists them.
    assert OFF_TOPIC_P_CAP < REVIEW_P
    # An item staff have ruled on is not 疑似 any more, in the list, its column and the detail; the overview
    # count agrees. A correction of the IP type alone is no ruling on the verdict.
    ids = {r.title: int(r.id) for r in queries.item_list(fresh_store, ItemFilter()).rows.itertuples()}
    fresh_store.apply_correction(ids["suspect"], "negative", "no", "甲", "")
    fresh_store.apply_correction(ids["edge"], "ip_type", "商标", "甲", "")
    assert names(suspect_only=True) == {"edge"}
    rows = queries.item_list(fresh_store, ItemFilter()).rows.set_index("title")["suspect"]
    assert rows.to_dict() == {"flagged": False, "suspect": False, "edge": True, "unlikely": False, "calm": False}
    assert queries.item_detail(fresh_store, ids["suspect"])["suspect"] is False
    assert queries.item_detail(fresh_store, ids["edge"])["suspect"] is True
    assert queries.overview(fresh_store, now=NOW)["today"]["suspect"] == 1


def test_overview_counts_suspect_items_through_their_partial_index(fresh_store, monkeypatch):
    def item(name, p, negative=False, hours=1):
        j = Judgement(negative=negative, p_negative=p, polarity="negative" if negative else "neutral")
        return Item(source="源", url=f"https://example.com/{name}", title=name, text="正文",
                    published_at=NOW - timedelta(hours=hours)), j
    fresh_store.add_items([item("flagged", 0.8, True), item("suspect", 0.35), item("edge", REVIEW_P),
                           item("unlikely", REVIEW_P - 0.01), item("old_suspect", 0.5, hours=24 * 10)])
    ov = queries.overview(fresh_store, now=NOW)
    assert (ov["today"]["negative"], ov["today"]["suspect"]) == (1, 2)
    assert (ov["7d"]["suspect"], ov["30d"]["suspect"]) == (2, 3)     # ten days back: only in the 30 days
    # The index's condition is written with REVIEW_P's value: if the constant moves without a new
    # migration, the query names an index that cannot serve it and SQLite refuses it (here, not later).
    monkeypatch.setattr(queries, "SUSPECT_SQL", queries.SUSPECT_SQL.replace(repr(REVIEW_P), repr(REVIEW_P + 0.05)))
    with pytest.raises(sqlite3.OperationalError, match="no query solution"):
        queries.overview(fresh_store, now=NOW)


def test_data_version_moves_with_what_staff_watch(fresh_store):
    v0 = queries.data_version(fresh_store)
    fresh_store.add_items([(Item(source="源", url="https://example.com/v", title="新条目", published_at=NOW),
                            Judgement(negative=True, p_negative=0.9, polarity="negative"))])
    v1 = queries.data_version(fresh_store)
    assert v1 != v0 and queries.data_version(fresh_store) == v1          # stable while nothing happens
    run = fresh_store.start_run("源")
    v2 = queries.data_version(fresh_store)
    fresh_store.finish_run(run, status="ok", fetched=1, new=0)
    assert len({v1, v2, queries.data_version(fresh_store)}) == 3


def test_a_source_that_never_succeeded_is_failing_before_it_is_stalled(fresh_store):
    """Added minutes ago and failing since: 失败, not 停滞; the stall clock runs from its first try."""
    r = fresh_store.start_run("新加的源")
    fresh_store.finish_run(r, status="error", error="HTTP 404")
    now = datetime.now(timezone.utc)
    spec = [{"name": "新加的源", "url": "https://n.example/feed", "enabled": True}]
    h = queries.source_health(fresh_store, spec, stall_minutes=180, now=now).set_index("name")
    assert h.loc["新加的源", "status"] == "error" and not h.loc["新加的源", "stalled"]
    later = queries.source_health(fresh_store, spec, stall_minutes=180, now=now + timedelta(hours=4))
    assert later.set_index("name").loc["新加的源", "stalled"]
