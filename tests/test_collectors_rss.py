"""Recorded feeds -> Items, each checked against its NAME.expected.json sidecar.

The feeds are served through httpx.MockTransport with the Content-Type the
sidecar names, so encoding detection sees what it would see on the wire.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from collectors.http import make_client
from collectors.reader import read_feed
from collectors.rss import html_to_text, parse_chinese_date, parse_feed

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
SIDECARS = sorted(FEEDS.glob("*.expected.json"))
FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)


def _fixture(sidecar: Path) -> tuple[bytes, dict]:
    stem = sidecar.name.removesuffix(".expected.json")
    (feed,) = [p for p in FEEDS.glob(stem + ".*") if p != sidecar]
    return feed.read_bytes(), json.loads(sidecar.read_text(encoding="utf-8"))


def _serve(data: bytes, content_type: str | None, seen: list | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        headers = {"content-type": content_type} if content_type else {}
        return httpx.Response(200, content=data, headers=headers)
    return make_client("test-agent", transport=httpx.MockTransport(handler))


def _published(items) -> list[str | None]:
    return [None if it.published_estimated else it.published_at.isoformat() for it in items]


def test_every_fixture_has_a_sidecar_and_the_required_cases_exist():
    feeds = {p.name.split(".")[0] for p in FEEDS.iterdir() if not p.name.endswith(".json") and p.suffix != ".md"}
    assert feeds == {p.name.removesuffix(".expected.json") for p in SIDECARS}
    for required in ("gbk_undeclared", "gbk_declared", "gb18030", "utf8_chinese_dates", "rss091", "rss10_rdf",
                     "atom", "relative_links", "missing_dates", "html_script", "google_news", "rsshub_weibo",
                     "malformed_raw_amp", "truncated", "not_a_feed"):
        assert required in feeds


@pytest.mark.parametrize("sidecar", SIDECARS, ids=[p.name.removesuffix(".expected.json") for p in SIDECARS])
def test_fixture_through_mock_transport(sidecar):
    data, exp = _fixture(sidecar)
    url = exp.get("url", f"https://feeds.example.cn/{sidecar.name.removesuffix('.expected.json')}.xml")
    with _serve(data, exp.get("content_type")) as client:
        result = read_feed(url, client=client, source="测试源", platform="news", fetched_at=FETCHED)
    assert result.readable is exp["readable"], result.errors
    assert len(result.items) == exp["count"]
    if not exp["readable"]:
        assert len(result.errors) == 1 and "\n" not in result.errors[0]
    for fragment in exp.get("error_contains", []):
        assert any(fragment in e for e in result.errors), (fragment, result.errors)
    if "errors" in exp:
        assert result.errors == exp["errors"]
    if not result.items:
        return
    assert [it.title for it in result.items] == exp["titles"]
    assert [it.url for it in result.items] == exp["links"]
    assert _published(result.items) == exp["published"]
    for it in result.items:
        assert it.source == "测试源" and it.platform == "news" and it.fetched_at == FETCHED
        assert it.published_at.tzinfo is not None
        if it.published_estimated:
            assert it.published_at == FETCHED
    if "authors" in exp:
        assert [it.author for it in result.items] == exp["authors"]
    for it, fragments in zip(result.items, exp.get("text_contains", [])):
        for f in fragments:
            assert f in it.text, (f, it.text)
    for it, fragments in zip(result.items, exp.get("text_excludes", [])):
        for f in fragments:
            assert f not in it.text, (f, it.text)


def test_no_mojibake_anywhere():
    """Latin-1 look-alikes of GB bytes ('Ã', 'Â', '×', '¿') never reach an item."""
    for sidecar in SIDECARS:
        data, exp = _fixture(sidecar)
        with _serve(data, exp.get("content_type")) as client:
            result = read_feed(exp.get("url", "https://feeds.example.cn/f.xml"), client=client, source="s")
        for it in result.items:
            assert not any(ch in it.title + it.text for ch in "ÃÂ×¿Õ¹"), (sidecar.name, it.title)


def test_gb_feed_under_a_lying_charset_header_is_still_read():
    data, exp = _fixture(FEEDS / "gbk_declared.expected.json")
    with _serve(data, "text/xml; charset=utf-8") as client:
        result = read_feed("https://feeds.example.cn/gbk.xml", client=client, source="s")
    assert [it.title for it in result.items] == exp["titles"]


def test_gb18030_character_outside_gbk_survives():
    data, _ = _fixture(FEEDS / "gb18030_undeclared.expected.json")
    result = parse_feed(data, url="https://feeds.example.cn/x.xml", source="s")
    assert "\U00020bb7" in result.items[0].title


@pytest.mark.parametrize("sidecar", SIDECARS, ids=[p.name.removesuffix(".expected.json") for p in SIDECARS])
def test_fixture_read_from_local_file(sidecar):
    """The same feeds read from disk (ingest PATH): same items; relative links use the channel <link>."""
    _, exp = _fixture(sidecar)
    stem = sidecar.name.removesuffix(".expected.json")
    (feed,) = [p for p in FEEDS.glob(stem + ".*") if p != sidecar]
    result = read_feed(feed, source="本地", fetched_at=FETCHED)
    assert result.readable is exp["readable"]
    assert len(result.items) == exp["count"]
    if result.items:
        assert [it.title for it in result.items] == exp["titles"]
        assert [it.url for it in result.items] == exp.get("links_local", exp["links"])
        assert _published(result.items) == exp["published"]


def test_unnamed_source_takes_the_feed_title():
    result = read_feed(FEEDS / "gbk_undeclared.xml")
    assert result.title == "安徽知识产权资讯"
    assert {it.source for it in result.items} == {"安徽知识产权资讯"}


@pytest.mark.parametrize("data, reason", [
    (b"", "内容是空的"),
    (b"  \r\n\t ", "内容是空的"),
    (bytes(range(256)) * 4, "没有找到 RSS 或 Atom"),
    (b'{"items": [{"title": "x"}]}', "JSON"),
    ("<!DOCTYPE html><html><body>网页</body></html>".encode("gbk"), "返回的是网页（HTML）"),
    (b'<?xml version="1.0"?><catalog><book id="1"/></catalog>', "没有找到 RSS 或 Atom"),
    (b"plain words, not markup", "没有找到 RSS 或 Atom"),
])
def test_non_feeds_are_unreadable_with_one_line(data, reason):
    result = parse_feed(data, url="https://feeds.example.cn/x", source="s")
    assert result.readable is False and result.items == []
    (error,) = result.errors
    assert reason in error and "\n" not in error


def test_missing_file_and_bad_scheme_are_unreadable(tmp_path):
    assert "找不到文件" in read_feed(tmp_path / "nope.xml").errors[0]
    assert read_feed(tmp_path).readable is False
    bad = read_feed("ftp://example.com/feed.xml")
    assert bad.readable is False and "无法识别的地址" in bad.errors[0]


def test_valid_feed_without_items_is_readable():
    result = parse_feed('<?xml version="1.0"?><rss version="2.0"><channel><title>空</title></channel></rss>'.encode(),
                        url="https://e.cn/f", source="s")
    assert result.readable and result.items == [] and result.errors == []


@pytest.mark.parametrize("text, expected", [
    ("2025-06-05 08:30:00", "2025-06-05T00:30:00+00:00"),
    ("2025年06月06日 09:00", "2025-06-06T01:00:00+00:00"),
    ("2025年6月5日", "2025-06-04T16:00:00+00:00"),
    ("2025/6/5", "2025-06-04T16:00:00+00:00"),
    ("2025/06/05 8:05", "2025-06-05T00:05:00+00:00"),
    ("2025-06-05T08:30:00+08:00", "2025-06-05T00:30:00+00:00"),
    ("2025-06-05T08:30:00Z", "2025-06-05T08:30:00+00:00"),
    ("2025-06-05 08:30:00 -05:00", "2025-06-05T13:30:00+00:00"),
    ("2025年6月5日 14时30分", "2025-06-05T06:30:00+00:00"),
    ("2025年6月5日 下午3:20", "2025-06-05T07:20:00+00:00"),
    ("（北京时间）2025-06-05 20:00", "2025-06-05T12:00:00+00:00"),
    ("Thu, 05 Jun 2025 08:30:00", "2025-06-05T00:30:00+00:00"),
    ("Thu, 05 Jun 2025 08:30:00 CST", "2025-06-05T00:30:00+00:00"),
    ("2025-01-01 00:10:00", "2024-12-31T16:10:00+00:00"),
])
def test_chinese_and_zoneless_dates_are_beijing_time(text, expected):
    assert parse_chinese_date(text).isoformat() == expected


@pytest.mark.parametrize("text", ["昨天 10:00", "3小时前", "Thu, 05 Jun 2025 08:30:00 GMT", "2025-13-45 10:00", ""])
def test_other_dates_are_left_to_feedparser(text):
    assert parse_chinese_date(text) is None


@pytest.mark.parametrize("html, text", [
    ("<p>第一段</p><p>第二段</p>", "第一段\n第二段"),
    ("A &amp; B &lt;tag&gt; &#8212; &nbsp;C", "A & B <tag> — C"),
    ("<script>alert(1)</script>正文<style>p{}</style>", "正文"),
    ("1 < 2 且 3 > 2", "1 < 2 且 3 > 2"),
    ("<a href='javascript:x()' onclick='y()'>链接文字</a>", "链接文字"),
    ("<div><div>未闭合", "未闭合"),
    ("全角\u3000空格  与\t制表", "全角 空格 与 制表"),
])
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_html_to_text_single_line_joins_blocks():
    assert html_to_text("<p>一</p>\n<p>二</p>", single_line=True) == "一 二"
