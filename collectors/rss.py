"""RSS 0.9x/1.0/2.0 and Atom bytes -> Items, via feedparser.

Well-formed UTF-8 RSS 2.0 of the plain kind is read by `collectors.plainrss`
(ElementTree, same result, ~40x faster to parse); every other document, and
every repair below, is feedparser's.

What feedparser gets wrong for Chinese sources, and what this module does about it
(each verified against feedparser 6.0.14):

- An undeclared GB2312/GBK/GB18030 feed is silently decoded as iso-8859-1 or
  windows-1252 (mojibake). When feedparser falls back to a Latin encoding or
  reports an encoding override and the bytes are not UTF-8, they are re-decoded
  as GB18030 (a superset of GB2312 and GBK) and parsed again.
- "2025-06-05 08:30:00" is read as UTC and "2025年06月06日 09:00" is mis-read as
  some other day. A date handler registered here reads Chinese and zone-less
  dates as Beijing time (UTC+8), the way Chinese sites mean them.
- Relative links resolve against the final feed URL, here (`_entry_link`), not
  through feedparser's `content-location`: with a base URI feedparser makes every
  element's base absolute again, which cost about 40 % of its parse time.
- A malformed feed (`bozo`) still yields the entries the loose parser read; the
  parser error becomes one error string, not a failure.

Titles and summaries come out as plain text: tags dropped (the bodies of
script/style elements too, they are code, not reading text) and entities
unescaped once. Markup that a feed escaped twice therefore stays visible as
literal text such as "<script>", which the dashboard shows escaped.
"""
from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta, timezone
from html import unescape
from html.parser import HTMLParser
from typing import Mapping
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXParseException

import feedparser

from collectors import plainrss
from collectors.base import FetchResult, Item, utcnow
from collectors.http import NotAFeed

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 20_000
# An item with no title gets the start of its text as title.
TITLE_FROM_TEXT_CHARS = 60
LATIN_FALLBACKS = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
                             "iso-8859-2", "iso-8859-15"})
# Parser complaints that say nothing about the content: a server that labels a
# good feed text/html, or a charset label we corrected ourselves.
HARMLESS_BOZO = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
# Embedded HTML is reduced to plain text here (html_to_text drops script/style bodies
# and every tag), so feedparser's own sanitising and link rewriting inside that HTML
# is work thrown away: skipping it makes parsing about a third faster.
_FP_OPTIONS = {"sanitize_html": False, "resolve_relative_uris": False}


# -- dates -------------------------------------------------------------------
_ZONE = r"(?P<zone>Z|UTC|GMT|CST|北京时间|[+-]\d{2}:?\d{2})?"
_CN_DATE = re.compile(
    r"^\s*(?:[(（]?北京时间[)）]?\s*)?(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]*(?:(?P<ampm>上午|下午|晚上))?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{1,2})(?:\.\d+)?\s*秒?)?\s*分?)?\s*[(（]?" + _ZONE + r"[)）]?\s*$")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
# RFC 822 dates with no zone, or "CST", which Chinese servers mean as China Standard Time
# (feedparser reads it as US Central, 14 hours off).
_RFC822_LOCAL = re.compile(
    r"^\s*(?:[A-Za-z]{3,9},?\s+)?(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]{3})[A-Za-z]*\.?\s+(?P<y>\d{4})\s+"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<zone>CST)?\s*$")


def _zone(z: str | None) -> timezone:
    if not z or z in ("CST", "北京时间"):
        return BEIJING
    if z in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if z[0] == "-" else 1
    digits = z[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_chinese_date(value: str) -> datetime | None:
    """Chinese and zone-less dates as an aware UTC datetime; None when the format is not one of ours.

    >>> parse_chinese_date("2025年06月06日 09:00").isoformat()
    '2025-06-06T01:00:00+00:00'
    """
    try:
        return _parse_chinese_date(value)
    except ValueError:   # 2025-13-45: looks like a date, is not one
        return None


def _parse_chinese_date(value: str) -> datetime | None:
    m = _CN_DATE.match(value)
    if m:
        hour = int(m["H"] or 0)
        if m["ampm"] in ("下午", "晚上") and hour < 12:
            hour += 12
        local = datetime(int(m["y"]), int(m["m"]), int(m["d"]), hour, int(m["M"] or 0), int(m["S"] or 0),
                         tzinfo=_zone(m["zone"]))
        return local.astimezone(timezone.utc)
    m = _RFC822_LOCAL.match(value)
    if m and m["mon"].lower() in _MONTHS:
        local = datetime(int(m["y"]), _MONTHS[m["mon"].lower()], int(m["d"]), int(m["H"]), int(m["M"]),
                         int(m["S"] or 0), tzinfo=BEIJING)
        return local.astimezone(timezone.utc)
    return None


# The commonest pubDates of all, "Mon, 02 Jun 2025 08:00:00 +0800" (or GMT), read here at once: feedparser
# would first try its W3C-DTF parser, then reach the same result through its RFC 822 one.
_RFC822_ZONED = re.compile(r"^\s*(?:(?:mon|tue|wed|thu|fri|sat|sun),?\s+)?(?P<d>\d{1,2})\s+(?P<mon>[a-z]{3})\s+"
                           r"(?P<y>\d{4})\s+(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})\s+(?P<zone>[+-]\d{4}|GMT|UTC|Z)\s*$",
                           re.IGNORECASE)


def _rfc822_zoned(value: str) -> datetime | None:
    m = _RFC822_ZONED.match(value)
    if not m or m["mon"].lower() not in _MONTHS:
        return None
    try:
        local = datetime(int(m["y"]), _MONTHS[m["mon"].lower()], int(m["d"]), int(m["H"]), int(m["M"]),
                         int(m["S"]), tzinfo=_zone(m["zone"]))
    except ValueError:
        return None
    return local.astimezone(timezone.utc)


def _feedparser_date_handler(value: str):
    dt = _rfc822_zoned(value) or parse_chinese_date(value)
    return dt.timetuple() if dt else None


# registerDateHandler puts a handler first, so ours wins over feedparser's UTC reading.
feedparser.registerDateHandler(_feedparser_date_handler)


# -- html -> text --------------------------------------------------------------
_BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                    "blockquote", "section", "article", "header", "footer", "pre", "hr", "dd", "dt"})
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "object"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(value: str, *, single_line: bool = False) -> str:
    """Plain text of an HTML fragment: tags dropped, entities unescaped once, whitespace tidied."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        text = value
    else:
        p = _TextExtractor()
        try:
            p.feed(value)
            p.close()
            text = "".join(p.parts)
        except (AssertionError, ValueError):   # html.parser gives up on some broken markup
            text = unescape(re.sub(r"<[^>]*>", " ", value))
    text = _SPACES.sub(" ", text)
    if single_line:
        return " ".join(text.split())
    return _NEWLINES.sub("\n", text).strip()


# -- bytes -> FetchResult -------------------------------------------------------
_XML_DECL_ENCODING = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2", re.IGNORECASE)
_BARE_AMP = re.compile(rb"&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][\w.-]*;)")
_CLOSE_ENTRY = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.IGNORECASE)


def parse_feed(data: bytes, *, url: str, source: str, platform: str = "",
               headers: Mapping[str, str] | None = None, fetched_at: datetime | None = None) -> FetchResult:
    """Parse one feed document. Never raises for bad input: unreadable input gives `readable=False`."""
    fetched_at = fetched_at or utcnow()
    try:
        parsed, data = _parse(data, url, headers or {})
        _require_feed(data, parsed)
    except NotAFeed as e:
        return FetchResult(readable=False, errors=[str(e)])
    result = FetchResult(etag=_header(headers, "etag"), last_modified=_header(headers, "last-modified"))
    result.title = html_to_text(parsed.feed.get("title", ""), single_line=True)
    entries = parsed.entries
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and exc is not None and not isinstance(exc, HARMLESS_BOZO):
        # A cut-off document ends inside an item: keep only items whose closing tag arrived.
        closed = len(_CLOSE_ENTRY.findall(data))
        dropped = max(0, len(entries) - closed)
        entries = entries[:len(entries) - dropped]
        cut = f"，末尾 {dropped} 条不完整已舍弃" if dropped else ""
        result.errors.append(f"订阅源格式有误（{_where(exc)}{_message(exc)}），"
                             f"已保留能读出的 {len(entries)} 条{cut}")
    base = _link_base(url, parsed)
    for entry in entries:
        item = _item(entry, base=base, source=source, platform=platform, fetched_at=fetched_at)
        if item is not None:
            result.items.append(item)
    return result


def _parse(data: bytes, url: str, headers: Mapping[str, str]):
    """feedparser.parse with the real headers, plus the two repairs Chinese feeds need most.

    Returns the parse result and the bytes it came from (after any repair).
    """
    # No content-location: links are resolved against the feed URL in _entry_link (see the module docstring).
    hdrs = {k.lower(): v for k, v in headers.items() if k.lower() != "content-location"}
    plain = plainrss.read(data, hdrs, _feedparser_date_handler)
    if plain is not None:
        return plain, data
    parsed = feedparser.parse(io.BytesIO(data), response_headers=hdrs, **_FP_OPTIONS)
    encoding = (parsed.get("encoding") or "").lower()
    overridden = isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride)
    if encoding in LATIN_FALLBACKS or overridden:
        redecoded = _as_utf8_from_gb(data)
        if redecoded is not None:
            log.info("%s: feedparser guessed %s; re-decoded as gb18030", url, encoding or "?")
            hdrs["content-type"] = "application/xml; charset=utf-8"
            data = redecoded
            parsed = feedparser.parse(io.BytesIO(data), response_headers=hdrs, **_FP_OPTIONS)
    if parsed.get("bozo") and isinstance(parsed.get("bozo_exception"), SAXParseException):
        # A bare "&" (R&D, ?a=1&b=2) is the commonest fault; feedparser's loose
        # fallback mangles it ("R&D;"), so escape it and let the strict parser try again.
        escaped = _BARE_AMP.sub(b"&amp;", data)
        if escaped != data:
            again = feedparser.parse(io.BytesIO(escaped), response_headers=hdrs, **_FP_OPTIONS)
            if not again.get("bozo") or len(again.entries) >= len(parsed.entries):
                again["bozo"], again["bozo_exception"] = 1, parsed["bozo_exception"]
                return again, escaped
    return parsed, data


def _as_utf8_from_gb(data: bytes) -> bytes | None:
    """UTF-8 bytes with a matching declaration, or None if these bytes are UTF-8 already or not GB text.

    Latin-1 is taken to be wrong whenever GB18030 decodes cleanly: our sources are
    Chinese, and Tomcat-style servers label GBK bodies "charset=ISO-8859-1".
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            return None
    else:
        return None
    out = text.encode("utf-8")
    return _XML_DECL_ENCODING.sub(rb'\1"utf-8"', out, count=1)


def _require_feed(data: bytes, parsed) -> None:
    if parsed.get("version") or parsed.entries:
        return
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        raise NotAFeed("不是订阅源：返回的内容是空的")
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]:
        raise NotAFeed("不是订阅源：返回的是网页（HTML），可能填的是网页地址而不是它的 RSS 地址")
    if head[:1] in (b"{", b"["):
        raise NotAFeed("不是订阅源：返回的是 JSON 数据")
    exc = parsed.get("bozo_exception")
    detail = f"（{_message(exc)}）" if exc is not None and not isinstance(exc, HARMLESS_BOZO) else ""
    raise NotAFeed(f"不是订阅源：没有找到 RSS 或 Atom 内容{detail}")


def _link_base(url: str, parsed) -> str:
    """What relative links resolve against: the feed URL, or for a local file the channel's own link."""
    if _is_web_url(url):
        return url
    channel = parsed.feed.get("link", "")
    return channel if _is_web_url(channel) else url


# An entry is a FeedParserDict, whose get() runs a chain of key aliases on every call; the keys
# read here have none, so the plain dict lookup gives the same value.
_get = dict.get


def _item(entry, *, base: str, source: str, platform: str, fetched_at: datetime) -> Item | None:
    title = html_to_text(_get(entry, "title", ""), single_line=True)[:MAX_TITLE_CHARS]
    body = _get(entry, "summary", "")
    if not body and _get(entry, "content"):
        body = entry["content"][0].get("value", "")
    text = html_to_text(body)[:MAX_TEXT_CHARS]
    link = _entry_link(entry, base)
    if not (title or text or link):
        return None
    if not title:
        title = " ".join(text.split())[:TITLE_FROM_TEXT_CHARS]
    published = None
    # dict.get: FeedParserDict's own get() maps updated_parsed to published_parsed with a warning.
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if stamp:
        try:
            published = datetime(*stamp[:6], tzinfo=timezone.utc)
        except (TypeError, ValueError):
            published = None
    author = _get(entry, "author") or (_get(entry, "source") or {}).get("title", "")
    return Item(source=source, url=link, title=title, text=text, published_at=published,
                published_estimated=published is None, fetched_at=fetched_at,
                author=html_to_text(author, single_line=True)[:200], platform=platform)


def _entry_link(entry, base: str) -> str:
    candidates = [_get(entry, "link", "")]
    candidates += [_get(l, "href", "") for l in _get(entry, "links", []) if _get(l, "rel", "alternate") == "alternate"]
    for raw in candidates:
        raw = (raw or "").strip()
        if not raw:
            continue
        link = urljoin(base, raw) if base else raw
        # Only web links: a javascript: or data: link from a hostile feed must never reach a page.
        if _is_web_url(link):
            return link
    # An RSS <guid> is often the permalink when <link> is missing; a bare id is not a link.
    guid = (_get(entry, "id") or "").strip()
    return guid if _is_web_url(guid) else ""


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for k, v in (headers or {}).items():
        if k.lower() == name:
            return v
    return None


def _where(exc: BaseException) -> str:
    line = getattr(exc, "getLineNumber", lambda: None)()
    return f"第 {line} 行：" if line else ""


def _message(exc: BaseException) -> str:
    """The parser's own words, without the "<unknown>:9:11:" prefix SAX puts in str()."""
    get = getattr(exc, "getMessage", None)
    return _one_line(get() if callable(get) else str(exc)) or type(exc).__name__


def _one_line(s: str) -> str:
    return " ".join(s.split())[:300]
