"""Collect -> judge -> store on a real SQLite file, sources served by httpx.MockTransport."""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from collectors.http import make_client
from collectors.registry import Source
from monitor.pipeline import (CollectorBusy, collection_lock, due_sources, ingest, lock_path_for, run_forever,
                              run_once)
from monitor.store import Store

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"


def _runs(store: Store) -> list[dict]:
    return [dict(r) for r in store.conn.execute("SELECT * FROM runs ORDER BY id")]


def _site(routes: dict[str, object]):
    """A MockTransport over {path: bytes | status | exception | callable(request)}."""
    def handler(request: httpx.Request) -> httpx.Response:
        answer = routes[request.url.path]
        if callable(answer) and not isinstance(answer, type):
            return answer(request)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer, text="error page")
        return httpx.Response(200, content=answer, headers={"content-type": "application/rss+xml"})
    return make_client("test", transport=httpx.MockTransport(handler))


def _src(name, path, **kw):
    return Source(name=name, url=f"https://feeds.example.cn{path}", **kw)


# -- ingest --------------------------------------------------------------------------
def test_ingest_file_twice_adds_nothing_the_second_time(fresh_store, fixed_judge):
    first = ingest(FEEDS / "gbk_undeclared.xml", fresh_store, fixed_judge)
    second = ingest(FEEDS / "gbk_undeclared.xml", fresh_store, fixed_judge)
    assert (first.new, first.duplicate, first.errors, first.readable) == (3, 0, [], True)
    assert (second.new, second.duplicate) == (0, 3)
    assert fresh_store.count_items() == 3
    titles = {r["title"] for r in fresh_store.iter_items()}
    assert "合肥查获假冒知名白酒200余件 案值达6万余元" in titles
    assert [r["status"] for r in _runs(fresh_store)] == ["ok", "ok"]
    assert _runs(fresh_store)[0]["source"] == "安徽知识产权资讯"


def test_ingest_keeps_judgements_and_estimated_dates(fresh_store, fixed_judge):
    ingest(FEEDS / "rsshub_weibo.xml", fresh_store, fixed_judge, source_name="微博测试", platform="social")
    rows = list(fresh_store.iter_items())
    assert {r["source"] for r in rows} == {"微博测试"} and {r["platform"] for r in rows} == {"social"}
    negative = [r for r in rows if r["negative"]]
    assert [r["url"] for r in negative] == ["https://weibo.com/1234567890/PqRsTuVwX"]   # mentions 维权难
    ingest(FEEDS / "missing_dates.xml", fresh_store, fixed_judge)
    estimated = {r["title"]: r["published_estimated"] for r in fresh_store.iter_items() if "条目" in r["title"]}
    assert estimated == {"有日期的条目：山寨奶茶店被查处": False, "没有日期的条目：剧本杀盗版调查": True,
                         "日期写成“昨天”的条目：网课盗版": True}


def test_ingest_malformed_and_truncated_store_what_was_read(fresh_store, fixed_judge):
    bad = ingest(FEEDS / "malformed_raw_amp.xml", fresh_store, fixed_judge)
    cut = ingest(FEEDS / "truncated.xml", fresh_store, fixed_judge)
    assert bad.readable and bad.new == 3 and "订阅源格式有误" in bad.errors[0]
    assert cut.readable and cut.new == 3 and "不完整" in cut.errors[0]
    runs = _runs(fresh_store)
    assert [r["status"] for r in runs] == ["ok", "ok"] and "格式有误" in runs[1]["error"]


@pytest.mark.parametrize("target", ["not_a_feed.html", "missing.xml"])
def test_ingest_unreadable_stores_nothing(fresh_store, fixed_judge, target):
    report = ingest(FEEDS / target, fresh_store, fixed_judge)
    assert report.readable is False and report.new == 0 and len(report.errors) == 1
    assert fresh_store.count_items() == 0 and _runs(fresh_store) == []


def test_ingest_url_through_client(fresh_store, fixed_judge):
    with _site({"/g.xml": (FEEDS / "google_news.xml").read_bytes()}) as client:
        report = ingest("https://feeds.example.cn/g.xml", fresh_store, fixed_judge, client=client, source_name="谷歌")
    assert report.new == 3 and report.as_json() == {"new": 3, "duplicate": 0, "errors": []}


def test_ingest_retracked_links_are_duplicates(fresh_store, fixed_judge, tmp_path):
    original = (FEEDS / "utf8_chinese_dates.xml").read_text(encoding="utf-8")
    retracked = original.replace(".shtml</link>", ".shtml?utm_source=rss&amp;utm_medium=feed#top</link>")
    assert retracked != original
    (tmp_path / "re.xml").write_text(retracked, encoding="utf-8")
    ingest(FEEDS / "utf8_chinese_dates.xml", fresh_store, fixed_judge)
    again = ingest(tmp_path / "re.xml", fresh_store, fixed_judge)
    assert (again.new, again.duplicate) == (0, 10)


# -- run_once ------------------------------------------------------------------------
def test_run_once_one_failing_source_never_stops_the_others(fresh_store, fixed_judge):
    routes = {"/ok.xml": (FEEDS / "gbk_declared.xml").read_bytes(), "/500.xml": 500,
              "/slow.xml": httpx.ReadTimeout("timed out"), "/html": (FEEDS / "not_a_feed.html").read_bytes(),
              "/bad.xml": (FEEDS / "malformed_raw_amp.xml").read_bytes()}
    sources = [_src("好源", "/ok.xml"), _src("坏源", "/500.xml"), _src("慢源", "/slow.xml"),
               _src("网页", "/html"), _src("停用", "/500.xml", enabled=False), _src("格式错", "/bad.xml")]
    with _site(routes) as client:
        reports = run_once(sources, fresh_store, fixed_judge, client)
    got = [(r.source, r.status, r.new) for r in reports]
    assert got == [("好源", "ok", 2), ("坏源", "error", 0), ("慢源", "error", 0), ("网页", "error", 0),
                   ("格式错", "ok", 3)]
    assert "HTTP 500" in reports[1].error and "连接超时" in reports[2].error and "网页（HTML）" in reports[3].error
    assert reports[0].error is None and "订阅源格式有误" in reports[4].error
    runs = _runs(fresh_store)
    assert [(r["source"], r["status"]) for r in runs] == [(s, st) for s, st, _ in got]
    assert all(r["finished_at"] and r["started_at"] <= r["finished_at"] for r in runs)
    assert runs[0]["fetched"] == 2 and runs[0]["new"] == 2 and runs[1]["error"] == reports[1].error
    assert fresh_store.count_items() == 5


def test_run_once_uses_and_saves_feed_state(fresh_store, fixed_judge):
    seen = []

    def conditional(request):
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == '"v7"':
            return httpx.Response(304)
        return httpx.Response(200, content=(FEEDS / "atom.xml").read_bytes(),
                              headers={"etag": '"v7"', "last-modified": "Thu, 05 Jun 2025 01:00:00 GMT"})

    sources = [_src("法院", "/atom.xml")]
    with _site({"/atom.xml": conditional}) as client:
        first = run_once(sources, fresh_store, fixed_judge, client)
        second = run_once(sources, fresh_store, fixed_judge, client)
    assert fresh_store.feed_state("法院") == ('"v7"', "Thu, 05 Jun 2025 01:00:00 GMT")
    assert seen == [None, '"v7"']
    assert (first[0].status, first[0].new) == ("ok", 2)
    assert second[0].as_json() == {"source": "法院", "status": "not_modified", "new": 0, "duplicate": 0, "error": None}
    assert [r["status"] for r in _runs(fresh_store)] == ["ok", "not_modified"]


def test_validators_of_an_old_url_are_not_sent_to_the_new_one(fresh_store, fixed_judge):
    """A source whose URL was changed: the new address is fetched in full, not with the old ETag (a 304
    from the new server would hide its feed)."""
    seen = []

    def conditional(request):
        seen.append((request.url.path, request.headers.get("if-none-match")))
        if request.headers.get("if-none-match") == '"v7"':
            return httpx.Response(304)
        return httpx.Response(200, content=(FEEDS / "atom.xml").read_bytes(), headers={"etag": '"v7"'})

    with _site({"/old.xml": conditional, "/new.xml": conditional}) as client:
        run_once([_src("法院", "/old.xml")], fresh_store, fixed_judge, client)
        moved = run_once([_src("法院", "/new.xml")], fresh_store, fixed_judge, client)
        again = run_once([_src("法院", "/new.xml")], fresh_store, fixed_judge, client)
    assert seen == [("/old.xml", None), ("/new.xml", None), ("/new.xml", '"v7"')]
    assert moved[0].status == "ok" and again[0].status == "not_modified"
    assert fresh_store.feed_state("法院", "https://feeds.example.cn/old.xml") == (None, None)
    assert fresh_store.feed_state("法院", "https://feeds.example.cn/new.xml") == ('"v7"', None)


def test_a_long_retry_after_pauses_the_source_until_then(fresh_store, fixed_judge):
    """429 with Retry-After: 3600 is more than a fetch waits out: the source gets a "not before" time,
    the collector does not ask again before it (立即采集 included), and source health shows it."""
    from monitor.queries import source_health
    from monitor import request_store

    asked = []

    def limited(request):
        asked.append(request.url.path)
        return httpx.Response(429, headers={"retry-after": "3600"})

    body = (FEEDS / "atom.xml").read_bytes()
    sources = [_src("限流", "/limited.xml", interval_minutes=1), _src("正常", "/ok.xml", interval_minutes=1)]
    with _site({"/limited.xml": limited, "/ok.xml": body}) as client:
        before = datetime.now(timezone.utc)
        run_forever(0.01, lambda: sources, fresh_store, fixed_judge, client, rounds=1, sleep=lambda s: None,
                    lock_path=fresh_store.path.with_suffix(".lock"))
        (until,) = fresh_store.waiting_sources(before).values()
        assert timedelta(minutes=59) < until - before <= timedelta(minutes=61)
        from monitor import users
        admin = users.add_user(fresh_store, "admin1", "office pass 1", "admin", actor="cli:test", now=before)
        request_store.request_collect(fresh_store, admin)
        run_forever(0.01, lambda: sources, fresh_store, fixed_judge, client, rounds=1, sleep=lambda s: None,
                    lock_path=fresh_store.path.with_suffix(".lock"))
    assert asked == ["/limited.xml"]                        # not asked again within the hour
    runs = _runs(fresh_store)
    assert [(r["source"], r["status"]) for r in runs] == [("限流", "error"), ("正常", "ok"), ("正常", "ok")]
    assert "服务器要求暂缓访问" in runs[0]["error"] and "3600" in runs[0]["error"]
    health = source_health(fresh_store, sources).set_index("name")
    assert health.loc["限流", "waiting_until"].startswith(until.astimezone(timezone(timedelta(hours=8)))
                                                         .strftime("%Y-%m-%dT%H:%M"))
    assert not isinstance(health.loc["正常", "waiting_until"], str)
    # once the time has passed the source is collected again, and a success clears the pause
    assert fresh_store.waiting_sources(until + timedelta(seconds=1)) == {}
    fresh_store.save_feed_state("限流", None, None, "https://feeds.example.cn/limited.xml")
    assert fresh_store.waiting_sources(before) == {}


def test_feed_state_not_saved_when_storing_fails(fresh_store, fixed_judge):
    class BrokenJudge:
        def judge_many(self, pairs):
            raise RuntimeError("model file missing")

    body = (FEEDS / "atom.xml").read_bytes()
    with _site({"/a.xml": lambda r: httpx.Response(200, content=body, headers={"etag": '"e1"'}),
                "/b.xml": body}) as client:
        reports = run_once([_src("甲", "/a.xml")], fresh_store, BrokenJudge(), client)
        ok = run_once([_src("乙", "/b.xml")], fresh_store, fixed_judge, client)
    assert reports[0].status == "error" and "model file missing" in reports[0].error
    assert fresh_store.feed_state("甲") == (None, None)     # next run fetches in full again
    assert ok[0].status == "ok"


def test_interrupt_marks_the_run_and_propagates(fresh_store, fixed_judge):
    def interrupted(request):
        raise KeyboardInterrupt

    with _site({"/a.xml": interrupted}) as client:
        with pytest.raises(KeyboardInterrupt):
            run_once([_src("甲", "/a.xml")], fresh_store, fixed_judge, client)
    (run,) = _runs(fresh_store)
    assert run["status"] == "error" and "采集被中断" in run["error"] and run["finished_at"]


# -- run_forever and the lock ---------------------------------------------------------
def test_run_forever_rounds_sleep_with_jitter_and_reload_sources(fresh_store, fixed_judge):
    body = (FEEDS / "gbk_declared.xml").read_bytes()
    loads, sleeps = [], []

    def load():
        loads.append(1)
        if len(loads) == 2:
            raise ValueError("broken edit")          # keeps the previous list
        return [_src("甲", "/a.xml", interval_minutes=1)]

    with _site({"/a.xml": body}) as client:
        done = run_forever(0.5, load, fresh_store, fixed_judge, client, rounds=3,
                           sleep=sleeps.append, jitter=lambda cap: cap)
    assert done == 3 and len(loads) == 3
    assert sleeps == [30.0 + 3.0, 30.0 + 3.0]          # 10 % jitter, capped at 60 s
    # interval 1 min > 0.5 min tick, but the test's rounds are instant: only the first round is due
    assert [r["source"] for r in _runs(fresh_store)] == ["甲"]
    assert _lock_is_free(lock_path_for(fresh_store.path))


def test_run_forever_calls_after_pass_once_per_round(fresh_store, fixed_judge):
    body = (FEEDS / "gbk_declared.xml").read_bytes()
    passes = []
    with _site({"/a.xml": body}) as client:
        run_forever(0.5, lambda: [_src("甲", "/a.xml")], fresh_store, fixed_judge, client, rounds=2,
                    sleep=lambda s: None, jitter=lambda cap: 0,
                    after_pass=lambda srcs: passes.append([s.name for s in srcs]))
    assert passes == [["甲"], ["甲"]]


def test_stop_event_ends_the_loop_at_a_safe_point(fresh_store, fixed_judge):
    import threading
    body = (FEEDS / "gbk_declared.xml").read_bytes()
    stop, sleeps = threading.Event(), []
    with _site({"/a.xml": body, "/b.xml": body}) as client:
        # the signal arrives while the first source is being stored: the second is not started
        done = run_forever(0.5, lambda: [_src("甲", "/a.xml"), _src("乙", "/b.xml")], fresh_store, fixed_judge,
                           client, sleep=sleeps.append, jitter=lambda cap: 0,
                           on_report=lambda report, i, n: stop.set(), stop=stop)
    assert done == 1 and sleeps == []
    assert [(r["source"], r["status"]) for r in _runs(fresh_store)] == [("甲", "ok")]
    assert _lock_is_free(lock_path_for(fresh_store.path))


def test_run_forever_stops_cleanly_on_keyboard_interrupt(fresh_store, fixed_judge):
    def sleep(seconds):
        raise KeyboardInterrupt

    with _site({"/a.xml": (FEEDS / "atom.xml").read_bytes()}) as client:
        done = run_forever(5, lambda: [_src("甲", "/a.xml")], fresh_store, fixed_judge, client, sleep=sleep)
    assert done == 1
    assert _lock_is_free(lock_path_for(fresh_store.path))


def test_due_sources_follow_each_interval():
    now = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    a, b, c = (Source(name=n, url="https://e.cn/", interval_minutes=m) for n, m in (("a", 30), ("b", 120), ("c", 5)))
    off = Source(name="off", url="https://e.cn/", enabled=False)
    last = {"a": now - timedelta(minutes=31), "b": now - timedelta(minutes=31)}
    assert [s.name for s in due_sources([a, b, c, off], last, now)] == ["a", "c"]


def _hold_lock(path, ready, release):
    with collection_lock(path):
        ready.set()
        release.wait(10)


def _lock_is_free(path) -> bool:
    try:
        with collection_lock(path):
            return True
    except CollectorBusy:
        return False


def test_lock_refuses_a_second_collector(tmp_path):
    path = lock_path_for(tmp_path / "opinion.db")
    assert path.name == "opinion.db.collect.lock"
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(path, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(CollectorBusy, match="另一个采集进程"):
            with collection_lock(path):
                pytest.fail("lock should be held")
    finally:
        release.set()
        holder.join(10)
    assert _lock_is_free(path)


# -- monitoring schemes and exports ---------------------------------------------------
def test_schemes_keep_matching_items_unless_source_is_always_relevant(fresh_store, fixed_judge):
    from collectors.schemes import Scheme
    schemes = [Scheme(name="白酒打假", subject=["白酒|假酒"]), Scheme(name="停用方案", enabled=False, subject=["泾县"])]
    body = (FEEDS / "gbk_undeclared.xml").read_bytes()    # 3 items, one about 白酒, one about 泾县
    with _site({"/a.xml": body, "/b.xml": body}) as client:
        picky, broad = run_once([_src("按方案", "/a.xml"), _src("全收", "/b.xml", always_relevant=True)],
                                fresh_store, fixed_judge, client, schemes=schemes)
    assert (picky.fetched, picky.new, picky.dropped) == (3, 1, 2)
    assert (broad.new + broad.duplicate, broad.dropped) == (3, 0)
    kept = [r["title"] for r in fresh_store.iter_items() if r["source"] == "按方案"]
    assert kept == ["合肥查获假冒知名白酒200余件 案值达6万余元"]


def test_no_schemes_keeps_everything(fresh_store, fixed_judge):
    with _site({"/a.xml": (FEEDS / "gbk_undeclared.xml").read_bytes()}) as client:
        (report,) = run_once([_src("甲", "/a.xml")], fresh_store, fixed_judge, client, schemes=None)
    assert (report.new, report.dropped) == (3, 0)


def test_ingest_routes_export_files_to_the_importer(fresh_store, fixed_judge, tmp_path):
    csv_path = tmp_path / "某舆情系统导出.csv"
    csv_path.write_text("标题,链接,发布时间,来源,平台\n"
                        "网店盗用原创插画维权难,https://weibo.com/1/AbC,2025-06-05 10:00,画画的阿木,微博\n"
                        "合肥查获假冒白酒,https://news.example.cn/2.html,2025-06-04,合肥晚报,新闻\n", encoding="gbk")
    report = ingest(csv_path, fresh_store, fixed_judge)
    assert report.readable and (report.new, report.errors) == (2, [])
    rows = {r["title"]: r for r in fresh_store.iter_items()}
    first = rows["网店盗用原创插画维权难"]
    assert (first["source"], first["platform"], first["negative"]) == ("画画的阿木", "social", True)
    assert first["published_at"] == "2025-06-05T02:00:00+00:00"
    assert _runs(fresh_store)[0]["source"] == "导入:某舆情系统导出.csv"
    assert ingest(csv_path, fresh_store, fixed_judge).duplicate == 2


def test_ingest_and_run_record_matched_schemes(tmp_path, fresh_store, fixed_judge):
    from collectors.schemes import Scheme
    from monitor.pipeline import ingest
    feed = tmp_path / "f.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        '<item><title>合肥专利侵权维权难</title><link>https://e.com/1</link></item>'
        '<item><title>天气预报</title><link>https://e.com/2</link></item>'
        '</channel></rss>', encoding="utf-8")
    scheme = Scheme(name="安徽维权", subject=["专利"], region=["合肥"])
    report = ingest(str(feed), fresh_store, fixed_judge, source_name="s", schemes=[scheme])
    assert report.new == 2   # an explicit ingest keeps everything
    rows = {r["title"]: r["schemes"] for r in fresh_store.iter_items()}
    assert rows == {"合肥专利侵权维权难": ["安徽维权"], "天气预报": []}
