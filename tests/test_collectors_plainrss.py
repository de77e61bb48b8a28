"""The fast plain-RSS reader against feedparser: the same Items, or a hand-over to feedparser.

`collectors.plainrss` reads well-formed UTF-8 RSS 2.0 without feedparser (for speed);
whatever it accepts must come out exactly as feedparser's reading would, and
whatever it is unsure of must go to feedparser.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors import plainrss, rss

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
URL = "https://ipo.example.cn/rss/news.xml"


def _both(data: bytes, headers: dict, monkeypatch) -> tuple:
    fast = rss.parse_feed(data, url=URL, source="s", platform="news", headers=headers, fetched_at=FETCHED)
    with monkeypatch.context() as m:
        m.setattr(plainrss, "read", lambda *a: None)
        slow = rss.parse_feed(data, url=URL, source="s", platform="news", headers=headers, fetched_at=FETCHED)
    return fast, slow


def _same(fast, slow) -> None:
    assert (fast.readable, fast.title, fast.errors) == (slow.readable, slow.title, slow.errors)
    assert fast.items == slow.items


def _taken(data: bytes, headers: dict | None = None) -> bool:
    return plainrss.read(data, headers or {}, rss._feedparser_date_handler) is not None


@pytest.mark.parametrize("feed", sorted(p.name for p in FEEDS.glob("*.x*")))
def test_every_recorded_feed_reads_the_same_either_way(feed, monkeypatch):
    _same(*_both((FEEDS / feed).read_bytes(), {}, monkeypatch))


def test_plain_rss_feeds_take_the_fast_path_and_the_rest_go_to_feedparser():
    fast = {p.name for p in FEEDS.glob("*.x*") if _taken(p.read_bytes())}
    # Google News and RSSHub (the commonest real sources) are plain RSS 2.0 and UTF-8.
    assert {"google_news.xml", "rsshub_weibo.xml", "utf8_chinese_dates.xml", "relative_links.xml"} <= fast
    # Other formats and encodings, broken XML and a date only feedparser might read are its job.
    assert not fast & {"atom.xml", "rss091.xml", "rss10_rdf.xml", "gbk_declared.xml", "gbk_undeclared.xml",
                       "gb18030.xml", "truncated.xml", "malformed_raw_amp.xml", "missing_dates.xml"}


def _doc(items: str, decl: str = '<?xml version="1.0" encoding="utf-8"?>', extra: str = "") -> bytes:
    return (f'{decl}<rss version="2.0"{extra}><channel><title>频道</title><link>https://ipo.example.cn/</link>'
            f"{items}</channel></rss>").encode("utf-8")


ITEM = "<item><title>合肥查处商标侵权案</title><link>/a/1.html</link><pubDate>Mon, 02 Jun 2025 08:00:00 +0800</pubDate></item>"


@pytest.mark.parametrize("doc, headers", [
    (_doc(ITEM, decl='<?xml version="1.0" encoding="gbk"?>'), {}),
    (_doc(ITEM), {"Content-Type": "text/xml; charset=GB2312"}),
    (_doc(ITEM, extra=' xml:base="https://other.example.cn/"'), {}),
    (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]>' + _doc(ITEM, decl=""), {}),
    (b'<?xml version="1.0"?><!--' + b" " * 5000 + b'--><!DOCTYPE rss [<!ENTITY x "y">]>' + _doc(ITEM, decl=""), {}),
    (_doc(ITEM.replace("</item>", "<content:encoded>正文</content:encoded></item>"),
          extra=' xmlns:content="http://purl.org/rss/1.0/modules/content/"'), {}),
    (_doc(ITEM.replace("</item>", "<title>第二个标题</title></item>")), {}),
    (_doc(ITEM.replace("Mon, 02 Jun 2025 08:00:00 +0800", "昨天 10:00")), {}),
    (_doc(ITEM.replace("<title>", "<title><b>粗</b>")), {}),
    (_doc(ITEM).replace(b'version="2.0"', b'version="0.92"'), {}),
])
def test_documents_the_fast_reader_is_unsure_of_go_to_feedparser(doc, headers, monkeypatch):
    assert not _taken(doc, headers)
    _same(*_both(doc, headers, monkeypatch))


def test_a_plain_document_is_read_fast_with_utf8_headers():
    assert _taken(_doc(ITEM), {"Content-Type": "application/rss+xml; charset=UTF-8"})
    assert _taken(b"\xef\xbb\xbf" + _doc(ITEM), {"Content-Type": "text/html"})


TEXTS = st.sampled_from([
    "", " ", "国家知识产权局通报2025年专利侵权纠纷行政裁决情况", "  消费者投诉假货泛滥，维权难  \n",
    "R&amp;D 中心", "&lt;p&gt;段落&lt;/p&gt;", "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "<![CDATA[<p>判赔<b>500万元</b></p><script>x()</script>]]>", "<![CDATA[a & b < c]]>", "&#x4e2d;&#20013;",
    "𠮷野家商标", "emoji 👍 表情", "tab\there", "全角ＡＢＣ１２３", "a@b.example.com (张三)", "人民网",
])
LINKS = st.sampled_from([
    "", "https://www.example.cn/a/1.html", "/art/2025/6/2/art_1.html", "../news/2.html", "4.html",
    "javascript:alert(1)", "https://e.example.cn/?a=1&amp;b=2", "  https://w.example.cn/x  ", "mailto:a@b.cn",
])
DATES = st.sampled_from([
    "Mon, 02 Jun 2025 08:00:00 +0800", "Tue, 25 Nov 2025 02:00:00 GMT", "2025-06-05 08:30:00",
    "2025年06月06日 09:00", "2025-06-05T08:30:00+08:00", "02 Jun 2025 08:00 CST", "", "  ",
    "Mon, 02 Jun 2025 25:00:00 +0800", "昨天 10:00",
])


@st.composite
def items(draw) -> str:
    parts = []
    for tag in draw(st.permutations(["title", "link", "description", "pubDate", "guid", "author", "source",
                                     "category", "dc:creator"])):
        if not draw(st.booleans()):
            continue
        if tag == "link":
            parts.append(f"<link>{draw(LINKS)}</link>")
        elif tag == "guid":
            perma = draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"']))
            parts.append(f"<guid{perma}>{draw(LINKS)}</guid>")
        elif tag == "pubDate":
            parts.append(f"<pubDate>{draw(DATES)}</pubDate>")
        elif tag == "source":
            url = draw(st.sampled_from(["", ' url="https://www.people.com.cn"']))
            parts.append(f"<source{url}>{draw(TEXTS)}</source>")
        else:
            parts.append(f"<{tag}>{draw(TEXTS)}</{tag}>")
    return "<item>" + "".join(parts) + "</item>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(items(), max_size=4),
       headers=st.sampled_from([{}, {"Content-Type": "application/rss+xml; charset=utf-8"},
                                {"Content-Type": "text/html"}]))
def test_generated_feeds_read_the_same_either_way(body, headers, monkeypatch):
    doc = _doc("".join(body), extra=' xmlns:dc="http://purl.org/dc/elements/1.1/"')
    _same(*_both(doc, headers, monkeypatch))


@pytest.mark.parametrize("doc", [
    _doc("<item><title>合肥<!-- 注释 -->查处</title><description>a<?pi x?>b<![CDATA[<p>c</p>]]>d</description>"
         "<link>https://a.example.cn/1</link></item>"),
    _doc("<item><title>  多行\n  标题  </title><description>\n\n 段落一\n\n 段落二 \n</description></item>"),
    _doc("<item><title>无链接</title><guid>https://a.example.cn/guid.html</guid></item>"
         "<item><title>相对 guid</title><guid>2.html</guid></item>"
         "<item><title>非永久 guid</title><guid isPermaLink=\"false\">https://a.example.cn/3</guid></item>"),
    _doc("<item><title>双 category</title><category>专利</category><category>商标</category>"
         "<enclosure url=\"https://a.example.cn/a.jpg\" type=\"image/jpeg\"/></item>"),
])
def test_comments_cdata_whitespace_and_guids_read_the_same(doc, monkeypatch):
    assert _taken(doc)
    _same(*_both(doc, {}, monkeypatch))
