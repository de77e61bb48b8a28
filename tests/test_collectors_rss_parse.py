"""Parsing details the collector does itself: links resolved against the feed URL (feedparser gets no
base URI), and RFC 822 dates with a numeric zone read without feedparser's chain of date parsers."""
from __future__ import annotations

import pytest
from feedparser.datetimes.rfc822 import _parse_date_rfc822

from collectors.rss import _rfc822_zoned, parse_feed

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/news/">
  <title>xml:base</title>
  <entry><title>relative to the feed's xml:base</title><link href="a.html"/><id>1</id>
    <updated>2025-06-05T10:00:00+08:00</updated></entry>
  <entry xml:base="https://other.example.cn/x/"><title>absolute entry base</title><link href="b.html"/>
    <id>2</id><updated>2025-06-05T10:00:00+08:00</updated></entry>
  <entry><title>absolute link</title><link href="https://third.example.cn/c.html"/><id>3</id>
    <updated>2025-06-05T10:00:00+08:00</updated></entry>
  <entry><title>script link</title><link href="javascript:alert(1)"/><id>4</id>
    <updated>2025-06-05T10:00:00+08:00</updated></entry>
</feed>"""

RSS_GUID = b"""<rss version="2.0"><channel><title>guid</title>
<item><title>permalink guid, no link</title><guid>/art/7.html</guid></item>
<item><title>not a permalink</title><guid isPermaLink="false">abc-123</guid></item>
</channel></rss>"""


def test_atom_xml_base_and_relative_links_resolve_against_the_feed_url():
    result = parse_feed(ATOM, url="https://feeds.example.cn/rss/atom.xml", source="s",
                        headers={"Content-Type": "application/atom+xml"})
    assert [it.url for it in result.items] == ["https://feeds.example.cn/news/a.html",
                                               "https://other.example.cn/x/b.html",
                                               "https://third.example.cn/c.html",
                                               ""]


def test_permalink_guid_resolves_and_a_bare_id_is_no_link():
    result = parse_feed(RSS_GUID, url="https://feeds.example.cn/rss/feed.xml", source="s")
    assert [it.url for it in result.items] == ["https://feeds.example.cn/art/7.html", ""]


@pytest.mark.parametrize("value", [
    "Mon, 02 Jun 2025 08:00:00 +0800", "2 Jun 2025 23:59:59 -0530", "sun, 31 Dec 2023 23:00:00 +1400",
    "Tue 29 Feb 2024 12:00:00 +0000", "Wed, 01 Jan 2025 00:00:00 -1200", "FRI, 07 MAR 2025 09:05:01 +0545",
])
def test_zoned_rfc822_dates_read_as_feedparser_reads_them(value):
    assert tuple(_rfc822_zoned(value).timetuple())[:6] == tuple(_parse_date_rfc822(value))[:6]


@pytest.mark.parametrize("value", ["Foo, 02 Jun 2025 08:00:00 +0800", "Mon, 30 Feb 2025 08:00:00 +0800",
                                   "Mon, 02 Jun 2025 08:00 +0800", "2025-06-02 08:00:00", "Mon, 02 Jun 2025 08:00:00 CST"])
def test_other_dates_are_left_to_the_other_parsers(value):
    assert _rfc822_zoned(value) is None


def test_pubdate_with_zone_becomes_utc():
    feed = (b"<rss version=\"2.0\"><channel><title>t</title><item><title>a</title><link>https://e.cn/1</link>"
            b"<pubDate>Mon, 02 Jun 2025 08:00:00 +0800</pubDate></item><item><title>b</title>"
            b"<link>https://e.cn/2</link><pubDate>Mon, 02 Jun 2025 08:00:00 CST</pubDate></item></channel></rss>")
    items = parse_feed(feed, url="https://e.cn/feed.xml", source="s").items
    assert [it.published_at.isoformat() for it in items] == ["2025-06-02T00:00:00+00:00"] * 2
