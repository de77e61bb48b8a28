"""List-page collectors for CNIPA and government CMS sites, over recorded pages and httpx.MockTransport."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from collectors.base import canonical_url
from collectors.govsite import (collect, collect_cnipa, collect_gov_list, decode_page, parse_article, pick_article_links,
                                parse_cn_datetime)
from collectors.http import make_client

FIX = Path(__file__).resolve().parent / "fixtures" / "govsite"
CNIPA = "https://www.cnipa.gov.cn"
AMR = "https://amr.ah.gov.cn"
XC = "http://scjgj.xuancheng.gov.cn"
FETCHED = datetime(2025, 5, 9, 1, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class Site:
    """Routes URL → (status, body bytes, headers); records every request."""

    def __init__(self, routes: dict[str, tuple[int, bytes, dict]]):
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body, headers = self.routes.get(str(request.url), (404, b"not found", {}))
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, content=body, headers=headers)

    def client(self) -> httpx.Client:
        return make_client("test-agent", transport=httpx.MockTransport(self))

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def page(name: str, ctype: str = "text/html; charset=utf-8", status: int = 200, headers: dict | None = None):
    return status, (FIX / name).read_bytes(), {"content-type": ctype, **(headers or {})}


# ---------------------------------------------------------------- CNIPA column lists

def test_cnipa_column_page_reads_the_embedded_records():
    site = Site({f"{CNIPA}/col/col75/index.html": page("cnipa_col75.html")})
    with site.client() as client:
        r = collect_cnipa(client, f"{CNIPA}/col/col75/index.html", source="国家知识产权局·通知公告",
                          fetched_at=FETCHED)
    assert r.readable and r.errors == []
    urls = [i.url for i in r.items]
    # the duplicate record collapses; the sidebar link outside the records is not a list entry
    assert urls == [f"{CNIPA}/art/2025/4/26/art_75_199340.html", f"{CNIPA}/art/2025/4/23/art_75_199215.html",
                    f"{CNIPA}/art/2025/4/18/art_75_198977.html", f"{CNIPA}/art/2025/4/10/art_75_198601.html"]
    first = r.items[0]
    # the list text is cut with "..."; the title attribute has the whole title
    assert first.title == "国家知识产权局关于发布2024年度知识产权行政保护典型案例的通知"
    assert first.published_at == utc(2025, 4, 25, 16, 0)       # 2025-04-26 00:00 Beijing
    assert not first.published_estimated
    assert first.source == "国家知识产权局·通知公告" and first.platform == "government"
    assert first.fetched_at == FETCHED
    # a date inside the title is not the publication date
    assert r.items[3].published_at == utc(2025, 4, 9, 16, 0)


def test_cnipa_jpage_xml_endpoint():
    url = f"{CNIPA}/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15&columnid=61&webid=1"
    site = Site({url: page("cnipa_dataproxy.xml", "text/xml;charset=UTF-8", headers={"etag": '"v1"'})})
    with site.client() as client:
        r = collect(  # the registry's entry point
            "cnipa", client, url, source="国家知识产权局·新闻")
    assert [i.title for i in r.items] == ["国家知识产权局召开2025年第二季度例行新闻发布会",
                                          "安徽：构建知识产权大保护格局 护航创新发展",
                                          "2025年全国知识产权宣传周活动在京启动"]
    assert r.items[1].published_at == utc(2025, 5, 6, 8, 20)    # 16:20 Beijing, from the list text
    assert r.items[1].url == f"{CNIPA}/art/2025/5/6/art_61_200198.html"
    assert r.etag == '"v1"'


def test_cnipa_conditional_get_returns_not_modified():
    url = f"{CNIPA}/col/col75/index.html"

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers.get("if-none-match") == '"v1"'
        return httpx.Response(304, headers={"etag": '"v1"'})

    with make_client("t", transport=httpx.MockTransport(handler)) as client:
        r = collect_cnipa(client, url, source="s", etag='"v1"')
    assert r.not_modified and r.items == [] and r.errors == []


@pytest.mark.parametrize("route, expect", [
    ((404, b"gone", {}), "404"),
    ((500, b"oops", {}), "500"),
    ((200, "<html><body>系统维护中</body></html>".encode(), {"content-type": "text/html"}), "没有找到文章链接"),
    ((200, httpx.ReadTimeout("slow"), {}), "连接超时（ReadTimeout，www.cnipa.gov.cn）"),
])
def test_cnipa_failures_are_errors_not_exceptions(route, expect):
    url = f"{CNIPA}/col/col75/index.html"
    site = Site({url: route})
    with site.client() as client:
        r = collect_cnipa(client, url, source="s")
    assert not r.readable and r.items == []
    assert len(r.errors) == 1 and expect in r.errors[0]


# ---------------------------------------------------------------- generic government CMS

def amr_site(**overrides) -> Site:
    routes = {
        f"{AMR}/xwdt/gzdt/index.html": page("ahamr_list.html"),
        f"{AMR}/xwdt/gzdt/149627691.html": page("ahamr_article_149627691.html"),
        f"{AMR}/xwdt/gzdt/149627544.html": page("ahamr_article_149627544.html"),
        f"{AMR}/xwdt/gzdt/149627002.html": (500, b"Internal Server Error", {}),
        f"{AMR}/xwdt/gzdt/149626500.html": page("ahamr_article_149626500.html"),
    }
    routes.update(overrides)
    return Site(routes)


def test_gov_list_follows_article_links_and_reads_meta_tags():
    site = amr_site()
    sleeps: list[float] = []
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="安徽省市场监管局·工作动态",
                             delay_s=0.5, sleep=sleeps.append, fetched_at=FETCHED)
    by_url = {i.url: i for i in r.items}
    # navigation, pagination and the other site's link are not articles
    assert sorted(by_url) == sorted(f"{AMR}/xwdt/gzdt/{n}.html" for n in (149627691, 149627544, 149627002, 149626500))
    assert not any("samr.gov.cn" in p or "149611111" in p for p in map(str, (q.url for q in site.requests)))
    a = by_url[f"{AMR}/xwdt/gzdt/149627691.html"]
    assert a.title == "安徽省知识产权局发布2024年度知识产权行政保护十大典型案例"
    assert a.published_at == utc(2025, 4, 25, 2, 30)
    assert a.author == "安徽省知识产权局"
    assert a.text.startswith("4月25日，在2025年全国知识产权宣传周期间")
    assert "严厉打击侵权假冒行为" in a.text
    for junk in ("不应出现的脚本文字", "正文中的脚本", "打印本页", "网站首页", "主办"):
        assert junk not in a.text
    # entities decode to text and stay text
    assert "<知识产权进企业>" in by_url[f"{AMR}/xwdt/gzdt/149627544.html"].text
    # without meta tags: <title> minus the site name, the labelled visible date, "来源：" line
    b = by_url[f"{AMR}/xwdt/gzdt/149626500.html"]
    assert b.title == "蚌埠市举办专利转化运用对接会"
    assert b.published_at == utc(2025, 4, 20, 1, 15)
    assert b.author == "蚌埠市市场监督管理局"
    # the editor container wins over the wider "article" block holding headline and date line
    assert b.text == "为推动专利转化运用，蚌埠市市场监管局近日举办高校院所与企业专利转化对接会，20余家企业参加。"
    # the failed article is still an item from its list entry, and the failure is recorded
    failed = by_url[f"{AMR}/xwdt/gzdt/149627002.html"]
    assert failed.title == "芜湖查处一起侵犯注册商标专用权案" and failed.text == ""
    assert failed.published_at == utc(2025, 4, 21, 16, 0)
    assert len(r.errors) == 1 and "149627002" in r.errors[0] and "500" in r.errors[0]
    # polite: a pause before every article after the first
    assert len(sleeps) == 3 and all(0.5 <= s <= 0.75 for s in sleeps)


def test_gov_list_skips_known_articles_and_caps_fetches():
    site = amr_site()
    known = {canonical_url(f"{AMR}/xwdt/gzdt/149627691.html")}
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s", known=known,
                             max_articles=2, sleep=lambda s: None)
    fetched_articles = [p for p in site.paths() if p != "/xwdt/gzdt/index.html"]
    assert fetched_articles == ["/xwdt/gzdt/149627544.html", "/xwdt/gzdt/149627002.html"]
    assert len(r.items) == 2


def test_gov_list_stops_when_the_time_budget_is_used():
    site = amr_site()
    ticks = iter([0.0, 1.0, 50.0, 200.0, 300.0, 400.0])
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s", budget_s=100,
                             sleep=lambda s: None, clock=lambda: next(ticks))
    assert len(r.items) == 2
    assert any("每轮限时 100 秒已用完" in e for e in r.errors)


def test_gov_list_link_pattern_overrides_the_heuristic():
    site = amr_site()
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s", link_pattern=r"/14962\d+5\d{2}\.html$",
                             sleep=lambda s: None)
    assert sorted(i.url for i in r.items) == [f"{AMR}/xwdt/gzdt/149626500.html", f"{AMR}/xwdt/gzdt/149627544.html"]
    # a pattern matching every article still leaves out the navigation's "featured" link
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s", link_pattern=r"/xwdt/gzdt/\d+\.html$",
                             sleep=lambda s: None)
    assert len(r.items) == 4 and not any("149611111" in i.url for i in r.items)


def test_gov_list_with_gbk_pages_declared_and_mislabelled():
    list_url = f"{XC}/content/column/6789"
    routes = {
        # declared only in <meta charset=gb2312>, header has no charset
        list_url: page("xuancheng_list_gb2312.html", "text/html"),
        # GBK bytes, no declaration in the page, and a header that wrongly says UTF-8
        f"{XC}/content/detail/6802a1b2886688e5498b4567.html":
            page("xuancheng_article_gbk_undeclared.html", "text/html; charset=utf-8"),
        f"{XC}/content/detail/6802a1b2886688e5498b4599.html": (404, b"", {}),
    }
    with Site(routes).client() as client:
        r = collect_gov_list(client, list_url, source="宣城市市场监管局", sleep=lambda s: None)
    by_title = {i.title: i for i in r.items}
    a = by_title["宣城市市场监管局关于开展商标侵权专项整治行动的通告"]
    assert "严厉打击商标侵权违法行为" in a.text
    assert a.published_at == utc(2025, 4, 18, 8, 20)
    assert a.author == "宣城市市场监督管理局"
    assert by_title["宣纸地理标志保护工作推进会召开"].published_at == utc(2025, 4, 15, 16, 0)
    assert len(r.errors) == 1 and "404" in r.errors[0]


def test_gov_list_without_articles_is_unreadable():
    url = f"{AMR}/xwdt/gzdt/index.html"
    site = Site({url: (200, "<html><nav><a href='/a/123456.html'>导航里的一条很长的链接标题</a></nav></html>".encode(),
                       {"content-type": "text/html"})})
    with site.client() as client:
        r = collect_gov_list(client, url, source="s", sleep=lambda s: None)
    assert not r.readable and r.items == [] and "没有找到文章链接" in r.errors[0]


def test_unknown_kind_is_an_error():
    with Site({}).client() as client:
        r = collect("weibo", client, "https://example.org/", source="s")
    assert not r.readable and "未知的列表页类型" in r.errors[0]


# ---------------------------------------------------------------- pieces

@pytest.mark.parametrize("value, expect", [
    ("2025-04-26", utc(2025, 4, 25, 16, 0)),
    ("2025-4-6 9:05", utc(2025, 4, 6, 1, 5)),
    ("2025/04/26 10:30:15", utc(2025, 4, 26, 2, 30, 15)),
    ("2025年4月26日 10时30分", utc(2025, 4, 26, 2, 30)),
    ("2025年04月26日", utc(2025, 4, 25, 16, 0)),
    ("2025.04.26", utc(2025, 4, 25, 16, 0)),
    ("2025-04-26T10:30:00+08:00", utc(2025, 4, 26, 2, 30)),
    ("2025-04-26T02:30:00Z", utc(2025, 4, 26, 2, 30)),
    ("[2025-04-18]", utc(2025, 4, 17, 16, 0)),
    (1745634600, utc(2025, 4, 26, 2, 30)),
    ("1745634600000", utc(2025, 4, 26, 2, 30)),
    (datetime(2025, 4, 26, 10, 30), utc(2025, 4, 26, 2, 30)),
    ("2025-13-40", None),
    ("昨天", None),
    ("", None),
    (None, None),
])
def test_parse_cn_datetime(value, expect):
    assert parse_cn_datetime(value) == expect


def test_decode_page_prefers_a_declaration_that_fits_the_bytes():
    text = "<html><head><meta charset='gbk'></head><body>知识产权保护</body></html>"
    assert decode_page(text.encode("gbk")) == (text, "gb18030")
    # header says utf-8, bytes are GBK, nothing else declared
    body = "<p>宣城市市场监督管理局</p>"
    assert decode_page(body.encode("gbk"), "text/html; charset=UTF-8")[0] == body
    assert decode_page("\ufeff<p>安徽</p>".encode("utf-8"))[0] == "<p>安徽</p>"
    # a blanket ISO-8859-1 label (Tomcat's default) on GBK bytes
    assert decode_page(body.encode("gbk"), "text/html;charset=ISO-8859-1") == (body, "gb18030")
    assert decode_page("<p>café crème</p>".encode("latin-1"), "text/html; charset=iso-8859-1")[0] == "<p>café crème</p>"


def test_parse_article_caps_text_and_survives_broken_markup():
    html = "<html><head><title>标题测试页面_某局</title></head><body><div id='zoom'><p>" + "很长的正文。" * 2000
    art = parse_article(html, max_chars=500)
    assert len(art.text) == 500 and art.text.startswith("很长的正文")
    assert art.title == "标题测试页面"
    broken = parse_article("<html><body><div class='wzcon'><p>未闭合的正文段落，内容足够长以便作为正文被识别出来。<!DOCTYPE")
    assert broken.text.startswith("未闭合的正文段落")


def test_bad_link_pattern_is_an_error_before_any_request():
    site = amr_site()
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s", link_pattern="(unclosed")
    assert not r.readable and "link_pattern" in r.errors[0] and site.requests == []


def test_unclosed_list_entries_keep_their_own_dates():
    # unclosed <dt><dd> pairs (browsers close them; html.parser does not): each entry keeps its own date
    body = "<dl>" + "".join(f"<dt><a href='/n/{100000 + i}.html'>第{i}条新闻标题很长</a><dd>2025-04-{1 + i % 28:02d}"
                            for i in range(3000))
    entries = pick_article_links(body, f"{AMR}/list.html", max_items=3000)
    assert len(entries) == 3000
    assert entries[5].published_at == utc(2025, 4, 5, 16, 0)


def test_pipeline_does_not_fetch_stored_articles_again(fresh_store, fixed_judge, monkeypatch):
    """docs/sources.md: articles already stored are not fetched again, the failing one included (it is
    stored from its list entry); only the list page and new articles cost requests on the next pass."""
    from collectors import govsite
    from collectors.registry import Source
    from monitor.pipeline import run_once

    monkeypatch.setattr(govsite.random, "uniform", lambda a, b: 0.0)    # no pause between articles
    asked: list[list[str]] = []
    real = fresh_store.stored_keys
    monkeypatch.setattr(fresh_store, "stored_keys", lambda keys: asked.append(list(keys)) or real(keys))
    source = Source(name="安徽省市场监管局·工作动态", url=f"{AMR}/xwdt/gzdt/index.html", kind="govlist",
                    platform="government")
    site = amr_site()
    with site.client() as client:
        first = run_once([source], fresh_store, fixed_judge, client)
        n_first = len(site.requests)
        second = run_once([source], fresh_store, fixed_judge, client)
    assert (first[0].status, first[0].new) == ("ok", 4) and n_first == 5
    assert site.paths()[n_first:] == ["/xwdt/gzdt/index.html"]          # the list page only
    assert (second[0].status, second[0].new, second[0].error) == ("ok", 0, None)
    # the store is asked about the links on the list page, not read whole
    assert all(sorted(a) == sorted(canonical_url(f"{AMR}/xwdt/gzdt/{n}.html")
                                   for n in (149627691, 149627544, 149627002, 149626500)) for a in asked)
    # a new article on the list is still fetched
    (fresh_store.conn.execute("DELETE FROM items WHERE url LIKE '%149626500%'"))
    with site.client() as client:
        run_once([source], fresh_store, fixed_judge, client)
    assert site.paths()[n_first + 1:] == ["/xwdt/gzdt/index.html", "/xwdt/gzdt/149626500.html"]


def test_a_rate_limited_article_stops_the_pass_and_passes_the_pause_on():
    site = amr_site(**{f"{AMR}/xwdt/gzdt/149627544.html": (429, b"slow down", {"retry-after": "3600"})})
    with site.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s", sleep=lambda s: None)
    assert site.paths() == ["/xwdt/gzdt/index.html", "/xwdt/gzdt/149627691.html", "/xwdt/gzdt/149627544.html"]
    assert r.retry_after_s == 3600 and len(r.items) == 2 and "HTTP 429" in r.errors[0]
    list_limited = amr_site(**{f"{AMR}/xwdt/gzdt/index.html": (429, b"", {"retry-after": "120"})})
    with list_limited.client() as client:
        r = collect_gov_list(client, f"{AMR}/xwdt/gzdt/index.html", source="s")
    assert not r.readable and r.retry_after_s == 120
