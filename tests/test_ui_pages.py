"""Every dashboard page through Streamlit's AppTest on a real, seeded SQLite file.

The database is chosen the way staff choose it: the OPINION_DB environment
variable. Expected numbers come from monitor.queries on the same file, so the
pages are checked to show what the read side answers.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.base import Item
from monitor import queries
from monitor.queries import ItemFilter
from monitor.store import Store
from sentiment.judgement import Judgement
from ui import state
from ui.widgets import md_escape

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
XSS = "<script>alert(1)</script>"
JS_URL = "javascript:alert(document.cookie)"
SOURCES_TOML = """
[[sources]]
name = "源甲"
url = "https://a.example/feed"
platform = "news"

[[sources]]
name = "源乙"
url = "https://b.example/feed"
platform = "government"

[[sources]]
name = "未运行源"
url = "https://c.example/feed"
"""


def _judgement(polarity: str, ip_type: str = "专利", province: str = "安徽", city: str = "合肥") -> Judgement:
    neg = polarity == "negative"
    return Judgement(negative=neg, p_negative=0.85 if neg else 0.15, polarity=polarity, ip_type=ip_type,
                     ip_types=(ip_type,), province=province, city=city,
                     reasons=("维权难 ↑ 1.20", "投诉 ↑ 0.40") if neg else ("宣传 ↓ 0.30",))


def seed(path: Path, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    rows = [
        ("专利维权难引发企业不满", timedelta(minutes=1), "源甲", "negative", "专利", "安徽", "合肥"),
        ("芜湖商标宣传周活动", timedelta(minutes=2), "源乙", "positive", "商标", "安徽", "芜湖"),
        ("盗版网课泛滥 维权成本高", timedelta(days=2), "源甲", "negative", "著作权", "浙江", "杭州"),
        ("地理标志产品保护通报", timedelta(days=5), "源乙", "neutral", "地理标志", "安徽", "黄山"),
        (XSS, timedelta(days=1), "源丙", "neutral", "其他", "", ""),
        ("四十天前的专利纠纷", timedelta(days=40), "源甲", "negative", "专利", "江苏", "南京"),
    ]
    with Store(path) as s:
        s.add_items([(Item(source=src, url=JS_URL if title == XSS else f"https://news.example/{i}",
                           title=title, text=title + "。正文",
                           published_at=now - ago, fetched_at=now, platform="news"),
                      _judgement(pol, ipt, prov, city))
                     for i, (title, ago, src, pol, ipt, prov, city) in enumerate(rows)])
        r = s.start_run("源甲")
        s.finish_run(r, status="ok", fetched=3, new=2, duplicate=1)
        r = s.start_run("源乙")
        s.finish_run(r, status="error", error="HTTP 503 <b>Service Unavailable</b>")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    db = tmp / "opinion.db"
    seed(db)
    (tmp / "sources.toml").write_text(SOURCES_TOML, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPINION_DB", str(db))
        mp.setenv("OPINION_SOURCES", str(tmp / "sources.toml"))
        yield db


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def pct(x):
    return "—" if x is None else f"{x:.1%}"


# -- 总览 ----------------------------------------------------------------------------

def test_overview_numbers_equal_queries_and_charts_render(seeded):
    at = app().run()
    no_exception(at)
    assert [t.value for t in at.title] == ["总览"]
    with Store(seeded, readonly=True) as s:
        ov = queries.overview(s)
        latest = queries.latest_negative(s)
    shown = metrics(at)
    for key, label in (("today", "今日"), ("7d", "近7天"), ("30d", "近30天")):
        assert shown[f"{label}信息量"] == str(ov[key]["total"])
        assert shown[f"{label}负面"] == str(ov[key]["negative"])
        assert shown[f"{label}负面占比"] == pct(ov[key]["negative_share"])
    assert ov["30d"]["total"] == 5 and ov["30d"]["negative"] == 2  # the seed itself is as intended
    assert len(at.get("vega_lite_chart")) >= 4  # trend, sources, IP types, cities (+ provinces)
    heads = [h.value for h in at.subheader]
    for head in ("主要信息源", "知识产权类型", "安徽各市", "最新负面信息"):
        assert head in heads
    table = at.dataframe[0].value
    assert list(table["标题"]) == list(latest["title"])
    # no sample items here, so no sample notice
    assert not any("示例数据" in i.value for i in at.info)


def test_overview_window_choice_keeps_tiles(seeded):
    at = app().run()
    before = metrics(at)
    at.radio(key="overview_days").set_value(365).run()
    no_exception(at)
    assert metrics(at) == before
    assert any(h.value.startswith("每日信息量（近一年") for h in at.subheader)


def test_sidebar_shows_database_and_last_collection(seeded):
    at = app().run()
    texts = [t.value for t in at.sidebar.text]
    assert str(seeded.resolve()) in texts
    assert any("分钟前" in t for t in texts)


_LIVE_SCRIPT = """
from ui import state, widgets
s = state.settings()
widgets.overview_live(s, state.db_key(s), 30)
"""


def _hold_clock(monkeypatch, t: float) -> None:
    # Patch the module the script imports at run time as well as this file's reference to it.
    for mod in {id(m): m for m in (state, sys.modules.get("ui.state")) if m is not None}.values():
        monkeypatch.setattr(mod, "_clock", lambda: t)


def test_live_fragment_body_requeries_on_next_tick(tmp_path, monkeypatch):
    # Fragments do not tick inside AppTest: run the fragment's body as the script and move the clock.
    db = tmp_path / "live.db"
    seed(db)
    monkeypatch.setenv("OPINION_DB", str(db))
    monkeypatch.setenv("OPINION_REFRESH_SECONDS", "30")
    # Start just inside a 30 s bucket with the clock held there, so the two runs below cannot
    # straddle a bucket boundary by chance.
    t0 = (time.time() // 30) * 30 + 1
    _hold_clock(monkeypatch, t0)
    at = AppTest.from_string(_LIVE_SCRIPT, default_timeout=60).run()
    no_exception(at)
    before = int(metrics(at)["今日负面"])

    with Store(db) as s:
        it = Item(source="源甲", url="https://news.example/new", title="刚刚出现的负面", text="维权难",
                  platform="news")
        s.add_items([(it, _judgement("negative"))])
    at.run()
    assert int(metrics(at)["今日负面"]) == before  # same refresh interval: cached answer

    _hold_clock(monkeypatch, t0 + 30)
    at.run()
    no_exception(at)
    assert int(metrics(at)["今日负面"]) == before + 1
    assert "刚刚出现的负面" in list(at.dataframe[0].value["标题"])


# -- 信息流 ---------------------------------------------------------------------------

def stream() -> AppTest:
    at = app().run()
    at.switch_page("ui/pages/stream.py").run()
    no_exception(at)
    return at


def count_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if c.value.startswith("匹配"))


def default_filter() -> ItemFilter:
    today = queries.beijing_today()
    return ItemFilter(start=today - timedelta(days=29), end=today)


def test_stream_lists_what_the_query_returns(seeded):
    at = stream()
    assert [t.value for t in at.title] == ["信息流"]
    with Store(seeded, readonly=True) as s:
        page = queries.item_list(s, default_filter())
    assert count_caption(at).startswith(f"匹配 {page.total} 条")
    assert list(at.dataframe[0].value["标题"]) == list(page.rows["title"])


def test_stream_keyword_and_polarity_filters(seeded):
    at = stream()
    at.text_input(key="flt_keyword").input("维权").run()
    with Store(seeded, readonly=True) as s:
        expected = queries.item_list(s, ItemFilter(start=default_filter().start, end=default_filter().end,
                                                   keyword="维权"))
    assert expected.total == 2
    assert count_caption(at).startswith("匹配 2 条")
    assert set(at.dataframe[0].value["标题"]) == set(expected.rows["title"])

    at.text_input(key="flt_keyword").input("").run()
    at.multiselect(key="flt_polarity").set_value(["positive"]).run()
    assert list(at.dataframe[0].value["标题"]) == ["芜湖商标宣传周活动"]
    assert list(at.dataframe[0].value["倾向"]) == ["正面"]


def test_stream_absurd_input_gives_a_message_not_a_traceback(seeded):
    at = stream()
    at.text_input(key="flt_keyword").input("侵权" * 400).run()
    no_exception(at)
    assert any("关键词过长" in w.value for w in at.warning)
    assert any("没有符合条件的信息" in i.value for i in at.info)


def test_stream_detail_shows_reasons(seeded):
    at = stream()
    picker = at.selectbox(key="detail_item")
    target = next(i for i in picker.options if "专利维权难引发企业不满" in i)
    picker.select(target).run()
    no_exception(at)
    assert md_escape("专利维权难引发企业不满") in [h.value for h in at.subheader]
    texts = [t.value for t in at.text]
    assert "• 维权难 ↑ 1.20" in texts and "• 投诉 ↑ 0.40" in texts
    assert metrics(at)["倾向"] == "负面" and metrics(at)["负面概率"] == "0.85"
    assert [b.proto.url for b in at.get("link_button")] == ["https://news.example/0"]


def test_next_and_previous_step_through_the_listed_items(seeded):
    at = stream()
    titles = list(at.dataframe[0].value["标题"])
    prev, nxt = at.button(key="detail_item_prev"), at.button(key="detail_item_next")
    assert (prev.proto.shortcut, nxt.proto.shortcut) == ("k", "j")
    assert prev.disabled and not nxt.disabled                 # nothing chosen yet: K has nowhere to go
    nxt.click().run()
    shown = lambda: [h.value for h in at.subheader][0]  # noqa: E731
    assert shown() == md_escape(titles[0]) and at.button(key="detail_item_prev").disabled
    at.button(key="detail_item_next").click().run()
    assert shown() == md_escape(titles[1])
    at.button(key="detail_item_prev").click().run()
    assert shown() == md_escape(titles[0])
    for _ in range(len(titles) + 2):                      # past the end it stays on the last one
        if at.button(key="detail_item_next").disabled:
            break
        at.button(key="detail_item_next").click().run()
    assert shown() == md_escape(titles[-1]) and at.button(key="detail_item_next").disabled
    assert at.button(key="act_important").proto.shortcut == "s"
    verdict = next(b for b in at.button if b.key in ("act_misjudged", "act_negative"))
    assert not verdict.proto.shortcut                         # a verdict is changed by a deliberate click
    at.text_input(key="flt_keyword").input("宣传周").run()   # the list moved on: nothing stale stays chosen
    no_exception(at)
    assert at.selectbox(key="detail_item").value is None


def test_script_in_a_title_shows_as_text(seeded):
    at = stream()
    assert XSS in list(at.dataframe[0].value["标题"])
    picker = at.selectbox(key="detail_item")
    picker.select(next(o for o in picker.options if XSS in o)).run()
    no_exception(at)
    heading = next(h.value for h in at.subheader if "script" in h.value)
    assert heading == r"\<script\>alert\(1\)\</script\>"  # every tag character escaped for Markdown
    assert XSS + "。正文" in [t.value for t in at.text]  # the body goes through st.text, unparsed
    assert not at.get("html")
    # a javascript: link is shown as text, never made clickable
    assert not at.get("link_button")
    assert f"原文链接（不可点击）：{JS_URL}" in [t.value for t in at.text]
    assert at.dataframe[0].value.set_index("标题").loc[XSS, "链接"] == ""      # no link, and no "None" shown
    assert not [m for m in at.markdown if m.proto.allow_html]


# -- 信息源 -----------------------------------------------------------------------------

def test_sources_page_lists_each_source_with_last_run(seeded):
    at = app().run()
    at.switch_page("ui/pages/sources.py").run()
    no_exception(at)
    assert [t.value for t in at.title] == ["信息源"]
    table = at.dataframe[0].value.set_index("信息源")
    assert list(table.index) == ["源甲", "源乙", "未运行源"]
    assert table.loc["源甲", "状态"] == "正常" and table.loc["源甲", "新增"] == 2
    assert table.loc["源乙", "状态"] == "失败"
    assert table.loc["源乙", "最近错误"] == "HTTP 503 <b>Service Unavailable</b>"
    assert table.loc["未运行源", "状态"] == "从未运行"
    shown = metrics(at)
    # 源乙 failed minutes ago and never succeeded: 失败, not yet 停滞
    assert shown["信息源"] == "3" and shown["最近一次失败"] == "1" and shown["停滞"] == "0"


def test_broken_sources_file_is_a_message(seeded, tmp_path, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[sources]]\nname = 1\n", encoding="utf-8")
    monkeypatch.setenv("OPINION_SOURCES", str(bad))
    at = app().run()
    at.switch_page("ui/pages/sources.py").run()
    no_exception(at)
    assert any("信息源配置有误" in w.value for w in at.warning)
    # the runs recorded so far are still listed
    assert set(at.dataframe[0].value["信息源"]) == {"源甲", "源乙"}


# -- empty and broken databases ------------------------------------------------------------

def test_empty_database_loads_sample_with_notice_and_one_click_removal(tmp_path, monkeypatch):
    db = tmp_path / "empty.db"
    monkeypatch.setenv("OPINION_DB", str(db))
    at = app().run()
    no_exception(at)
    notice = [i.value for i in at.info if i.value.startswith("示例数据")]
    assert notice, [i.value for i in at.info]
    with Store(db, readonly=True) as s:
        n = s.count_items(sample=True)
        assert n > 400 and s.count_items() == n
        assert str(n) in notice[0]
        assert metrics(at)["今日信息量"] == str(queries.overview(s)["today"]["total"])

    at.button(key="remove_sample").click().run()
    no_exception(at)
    with Store(db, readonly=True) as s:
        assert s.count_items() == 0
    assert not any(i.value.startswith("示例数据") for i in at.info)
    assert metrics(at)["近30天信息量"] == "0"
    # not loaded straight back on the next run; one click brings it back
    at.run()
    assert not any(i.value.startswith("示例数据") for i in at.info)
    at.button(key="load_sample").click().run()
    no_exception(at)
    assert any(i.value.startswith("示例数据") for i in at.info)


def test_notice_stays_while_sample_items_exist_among_collected_ones(tmp_path, monkeypatch):
    db = tmp_path / "mixed.db"
    seed(db)
    from monitor.sample import load_sample
    from tests.conftest import FixedJudge
    with Store(db) as s:
        load_sample(s, FixedJudge(), state.settings().sample_file)
    monkeypatch.setenv("OPINION_DB", str(db))
    at = app().run()
    at.switch_page("ui/pages/stream.py").run()
    assert any(i.value.startswith("示例数据") for i in at.info)
    at.button(key="remove_sample").click().run()
    no_exception(at)
    assert not any(i.value.startswith("示例数据") for i in at.info)
    with Store(db, readonly=True) as s:
        assert s.count_items() == 6  # collected items untouched


def test_not_a_database_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "notes.db"
    bad.write_text("这不是数据库" * 200, encoding="utf-8")
    monkeypatch.setenv("OPINION_DB", str(bad))
    at = app().run()
    no_exception(at)
    assert any("无法打开数据库" in e.value for e in at.error)
    assert bad.read_text(encoding="utf-8").startswith("这不是数据库")


@pytest.mark.parametrize("raw", ["**粗体** _斜体_", "[点我](javascript:alert(1))", "# 标题", "<img src=x onerror=alert(1)>",
                                 "`代码` ~删除~ $公式$ :material/home:",
                                 "[点我](http://evil.example) www.evil.example a@b.example"])
def test_md_escape_leaves_no_markdown_or_html_active(raw):
    escaped = md_escape(raw)
    # every special character is preceded by a backslash, so Markdown shows it literally
    for i, ch in enumerate(escaped):
        if ch in "*_[]()#<>`~$:":
            assert escaped[i - 1] == "\\", (raw, escaped)
    assert escaped.replace("\\", "").replace("\u2060", "") == raw      # a word joiner is invisible
