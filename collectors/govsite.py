"""List-page collectors for sites that publish no feed: CNIPA and Chinese government CMS sites.

Two shapes are covered:

- CNIPA column lists (`/col/col<N>/index.html`) and the JPage XML endpoint
  (`/module/web/jpage/dataproxy.jsp?...columnid=<N>`) used by the Hanweb CMS that
  CNIPA and many provincial sites run. Both carry `<li>` records with the article
  link, its title and a date; the article URL itself carries the date too
  (`/art/YYYY/M/D/art_<col>_<id>.html`). The list alone gives complete items.
- Generic government CMS list pages: the list is only a set of same-site links,
  so each article page is fetched (few, politely spaced) and read through the
  `ArticleTitle` / `PubDate` / `ContentSource` meta tags most provincial CMSs emit,
  falling back to `<title>` and a visible date.

Pages are decoded by the declared charset (HTTP header, then `<meta>`), checked
strictly, with a GB18030 fallback: government sites still serve GBK, often
mislabelled. Times without a zone are Beijing time.
"""
from __future__ import annotations

import codecs
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, Callable, Container, Union
from urllib.parse import urljoin, urlsplit

import httpx

from .base import EARLIEST_PUBLISHED, FetchResult, Item, canonical_url, utcnow
from .http import CollectError, RateLimited, fetch

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

# List and article pages are small; a multi-megabyte answer is a wrong URL or a trap.
MAX_PAGE_BYTES = 4 * 1024 * 1024
PAGE_DEADLINE_S = 30.0
MAX_LIST_ITEMS = 60
MAX_ARTICLES = 15
ARTICLE_DELAY_S = 1.0
# A whole list + articles pass stops fetching articles after this, keeping what it has.
SOURCE_BUDGET_S = 120.0
MAX_TEXT_CHARS = 5000
MAX_TITLE_CHARS = 300

ART_LINK = re.compile(r"/art/(\d{4})/(\d{1,2})/(\d{1,2})/art_(\d+)_(\d+)\.html?", re.I)
# 2025-04-26, 2025/4/26, 2025.04.26, 2025年4月26日, optionally followed by a time.
DATE_RE = re.compile(
    r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?(?!\d)")
LABELLED_DATE_RE = re.compile(r"(?:发布时间|发布日期|发文日期|成文日期|日期|时间)\s*[:：]\s*")
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
XML_DECL_RE = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_\-]+)["']""", re.I)
# GB2312 and GBK are subsets of GB18030; decoding with the superset never loses characters.
WEAK_CODECS = {"latin_1", "iso8859-1", "cp1252", "ascii", "iso8859-15"}
GB_FAMILY = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}


# ---------------------------------------------------------------- dates and text

def parse_cn_datetime(value: Any, *, default_tz: timezone = BEIJING, bounded: bool = True) -> datetime | None:
    """Read the date formats Chinese sites and exports use; naive times are Beijing time. UTC out.

    Accepts datetime objects, ISO 8601 (with or without zone), "2025-04-26 10:30[:00]",
    "2025/4/26", "2025年4月26日 10时30分", and Unix timestamps in seconds or milliseconds.
    Dates before EARLIEST_PUBLISHED or after 2100 are None, unless `bounded` is False (so that a
    caller can tell "1970-01-01" from text that is no date at all).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        ts = float(value)
        if ts > 1e11:            # milliseconds
            ts /= 1000.0
        # before 1990 is no news item; a small number is an Excel serial or a count, not a time
        if not 631152000 <= ts < 4102444800:
            return None
        return datetime.fromtimestamp(ts, timezone.utc)
    else:
        s = str(value).strip()
        if not s:
            return None
        if re.fullmatch(r"\d{10}(\d{3})?", s):
            return parse_cn_datetime(int(s), default_tz=default_tz, bounded=bounded)
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
        except ValueError:
            m = DATE_RE.search(s)
            if not m:
                return None
            y, mo, d, hh, mm, ss = (int(x) if x else 0 for x in m.groups())
            try:
                dt = datetime(y, mo, d, hh, mm, ss)
            except ValueError:
                return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    if bounded and not (EARLIEST_PUBLISHED <= dt and dt.year <= 2100):
        return None
    return dt.astimezone(timezone.utc)


def find_date(text: str) -> datetime | None:
    """A labelled date ("发布时间：…") if present, else the first date-like string."""
    m = LABELLED_DATE_RE.search(text)
    if m:
        d = parse_cn_datetime(text[m.end():m.end() + 40])
        if d:
            return d
    m = DATE_RE.search(text)
    return parse_cn_datetime(m.group(0)) if m else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_page(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Bytes → text and the encoding used. Declared encodings are tried strictly, then UTF-8, then GB18030."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", "replace"), "utf-8"
    candidates: list[str] = []
    if content_type:
        m = re.search(r"charset\s*=\s*([^\s;]+)", content_type, re.I)
        if m:
            candidates.append(m.group(1))
    head = content[:4096]
    for rx in (XML_DECL_RE, CHARSET_RE):
        m = rx.search(head)
        if m:
            candidates.append(m.group(1).decode("ascii", "ignore"))
    # Servers (Tomcat's default among them) label pages ISO-8859-1 without looking; those
    # single-byte codecs decode any bytes, so they only get a turn after UTF-8 and GB18030.
    strong = [c for c in candidates if _codec(c) not in WEAK_CODECS]
    weak = [c for c in candidates if _codec(c) in WEAK_CODECS]
    tried = []
    for c in [*strong, "utf-8", "gb18030", *weak]:
        codec = _codec(c)
        if not codec or codec in tried:
            continue
        tried.append(codec)
        try:
            return content.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return content.decode("gb18030", "replace"), "gb18030"


_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")


def _clean(s: str) -> str:
    return _WS.sub(" ", s or "").strip()


# ---------------------------------------------------------------- HTML reading

BLOCK_TAGS = {"li", "tr", "dd", "dt"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
             "source", "track", "wbr"}
BREAK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
              "table", "ul", "ol", "dd", "dt", "blockquote", "pre"}
NEVER_TEXT = {"script", "style", "noscript", "template", "head", "title", "select", "option", "textarea"}
CHROME_TAGS = {"nav", "header", "footer", "aside", "iframe", "button"}
# id / class names that government CMS templates give the article body. Editor containers
# (TRS, zoom, wzcon) hold the body only; generic ones (article, content) may also hold the
# headline and the date line, so they are the second choice.
EDITOR_HINTS = {"zoom", "trs_editor", "trs_ueditor", "wzcon", "wz_con", "wz_content", "art_con", "artcon",
                "j-fontcontent", "con_text", "bt-content", "main-txt", "xxgk_content", "textcontent", "conttext",
                "article_con", "newscon", "news_content", "article-content", "ewb-article-info", "pages_content"}
GENERIC_HINTS = {"content", "article", "detail", "view", "main-content"}
CONTENT_HINTS = EDITOR_HINTS | GENERIC_HINTS


# Open list entries / content containers tracked at once; deeper (broken) nesting is dropped.
MAX_OPEN = 24


@dataclass
class _Anchor:
    href: str
    title_attr: str
    text: list[str] = field(default_factory=list)
    block: dict | None = None
    in_chrome: bool = False


class _PageReader(HTMLParser):
    """One pass over a page: anchors with their enclosing list entry, meta tags, title, body text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[_Anchor] = []
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self.base_href: str | None = None
        self._open_a: _Anchor | None = None
        self._blocks: list[dict] = []
        self._never = 0
        self._chrome = 0
        self._in_title = False
        self.loose: list[str] = []      # all visible text
        self.strict: list[str] = []     # visible text outside nav/header/footer
        self._captures: list[dict] = []  # open content-hint elements
        self.captured: list[tuple[bool, str]] = []  # (editor container?, text)
        self.truncated = False                       # the parser stopped early on broken markup

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("name") or a.get("property") or a.get("itemprop") or "").strip().lower()
            if key and key not in self.meta:
                self.meta[key] = a.get("content", "")
            return
        if tag == "base" and a.get("href"):
            self.base_href = a["href"]
        if tag == "title":
            self._in_title = True
        if tag in VOID_TAGS:
            if tag == "br":
                self._text("\n")
            return
        if tag in NEVER_TEXT:
            self._never += 1
        if tag in CHROME_TAGS:
            self._chrome += 1
        if tag in BREAK_TAGS:
            self._text("\n")
        if tag in BLOCK_TAGS:
            # html.parser does not close an open <li> when the next one starts; browsers do.
            if self._blocks and self._blocks[-1]["tag"] == tag:
                self._blocks.pop()
            self._blocks.append({"tag": tag, "text": []})
            if len(self._blocks) > MAX_OPEN:
                # Unclosed <dt><dd><dt>… would otherwise copy every later word into every entry.
                del self._blocks[0]
        hint = {a.get("id", "").lower(), *a.get("class", "").lower().split()} & CONTENT_HINTS
        if hint and len(self._captures) < MAX_OPEN:
            self._captures.append({"tag": tag, "depth": 1, "text": [], "editor": bool(hint & EDITOR_HINTS)})
        else:
            for c in self._captures:
                if c["tag"] == tag:
                    c["depth"] += 1
        if tag == "a":
            self._open_a = _Anchor(href=a.get("href", ""), title_attr=_clean(a.get("title", "")),
                                   block=self._blocks[-1] if self._blocks else None,
                                   in_chrome=self._chrome > 0)
            self.anchors.append(self._open_a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in NEVER_TEXT and self._never:
            self._never -= 1
        if tag in CHROME_TAGS and self._chrome:
            self._chrome -= 1
        if tag == "a":
            self._open_a = None
        if tag in BREAK_TAGS:
            self._text("\n")
        if tag in BLOCK_TAGS:
            for i in range(len(self._blocks) - 1, -1, -1):
                if self._blocks[i]["tag"] == tag:
                    del self._blocks[i:]
                    break
        for c in list(self._captures):
            if c["tag"] == tag:
                c["depth"] -= 1
                if c["depth"] == 0:
                    self._captures.remove(c)
                    self.captured.append((c["editor"], "".join(c["text"])))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
            return
        if self._never:
            return
        if self._open_a is not None:
            self._open_a.text.append(data)
        self._text(data)

    def _text(self, data: str) -> None:
        if self._never:
            return
        self.loose.append(data)
        if not self._chrome:
            self.strict.append(data)
        for b in self._blocks:
            b["text"].append(data)
        for c in self._captures:
            c["text"].append(data)

    def close(self) -> None:
        super().close()
        # Unclosed content elements at the end of a truncated page still count.
        self.captured.extend((c["editor"], "".join(c["text"])) for c in self._captures)
        self._captures = []


def read_page(html: str) -> _PageReader:
    reader = _PageReader()
    try:
        reader.feed(html)
        reader.close()
    except (AssertionError, ValueError):
        # html.parser gives up on some broken markup (bad declarations); what it read so far stands.
        reader.truncated = True
    return reader


def plain_text(chunks: list[str] | str, limit: int = MAX_TEXT_CHARS) -> str:
    raw = chunks if isinstance(chunks, str) else "".join(chunks)
    lines = [_clean(x) for x in raw.split("\n")]
    text = "\n".join(x for x in lines if x)
    return text[:limit]


# ---------------------------------------------------------------- HTTP

@dataclass
class Page:
    url: str
    text: str
    encoding: str
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


def get_page(client: httpx.Client, url: str, *, etag: str | None = None, last_modified: str | None = None,
             max_bytes: int = MAX_PAGE_BYTES, deadline_s: float = PAGE_DEADLINE_S) -> Page:
    """GET through the collectors' shared bounded fetch (client timeouts, size cap, whole-body deadline).

    Raises CollectError; a 304 comes back as `not_modified=True` with no text.
    """
    got = fetch(client, url, etag=etag, last_modified=last_modified, max_bytes=max_bytes, deadline_s=deadline_s)
    if got.not_modified:
        return Page(url=got.url, text="", encoding="", etag=got.etag or etag,
                    last_modified=got.last_modified or last_modified, not_modified=True)
    text, enc = decode_page(got.content, got.headers.get("content-type"))
    return Page(url=got.url, text=text, encoding=enc, etag=got.etag, last_modified=got.last_modified)


# ---------------------------------------------------------------- CNIPA / Hanweb JPage lists

RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


@dataclass
class ListEntry:
    url: str
    title: str
    published_at: datetime | None


def _entry_title(a: _Anchor) -> str:
    text = _clean("".join(a.text))
    # Hanweb lists cut long titles ("…"/"...") and keep the full one in the title attribute.
    if a.title_attr and (len(a.title_attr) >= len(text) or text.endswith(("...", "…"))):
        return a.title_attr
    return text


def _block_date(a: _Anchor, title: str) -> datetime | None:
    # The title itself may contain a date ("2025年4月26日起施行"); only the rest of the entry counts.
    if not a.block:
        return None
    rest = plain_text(a.block["text"]).replace(title, " ").replace(_clean("".join(a.text)), " ")
    return find_date(rest)


def parse_cnipa_list(body: str, base_url: str, *, max_items: int = MAX_LIST_ITEMS) -> list[ListEntry]:
    """Entries of a Hanweb column page or JPage XML answer: links shaped /art/Y/M/D/art_<col>_<id>.html."""
    records = RECORD_RE.findall(body)
    fragments = records if records else [body]
    entries: list[ListEntry] = []
    seen: set[str] = set()
    for frag in fragments:
        reader = read_page(frag)
        base = urljoin(base_url, reader.base_href) if reader.base_href else base_url
        for a in reader.anchors:
            m = ART_LINK.search(a.href)
            if not m:
                continue
            url = urljoin(base, a.href.strip())
            key = canonical_url(url)
            if key in seen:
                continue
            title = _entry_title(a)
            if not title:
                continue
            seen.add(key)
            published = _block_date(a, title)
            if published is None:
                y, mo, d = (int(x) for x in m.groups()[:3])
                published = parse_cn_datetime(f"{y:04d}-{mo:02d}-{d:02d}")
            entries.append(ListEntry(url=url, title=title, published_at=published))
            if len(entries) >= max_items:
                return entries
    return entries


def _list_page(client: httpx.Client, url: str, etag: str | None,
               last_modified: str | None) -> tuple[Page | None, FetchResult | None]:
    """A column's list page, or the result that ends this pass: unreadable (with any Retry-After) or unchanged."""
    try:
        page = get_page(client, url, etag=etag, last_modified=last_modified)
    except CollectError as e:
        return None, FetchResult(errors=[str(e)], readable=False, retry_after_s=getattr(e, "retry_after_s", None))
    if page.not_modified:
        return None, FetchResult(not_modified=True, etag=page.etag, last_modified=page.last_modified)
    return page, None


def collect_cnipa(client: httpx.Client, url: str, *, source: str, platform: str = "government",
                  max_items: int = MAX_LIST_ITEMS, etag: str | None = None, last_modified: str | None = None,
                  fetched_at: datetime | None = None) -> FetchResult:
    """One CNIPA column (HTML list or JPage XML). Items carry title, link and date; no article fetches."""
    now = fetched_at or utcnow()
    page, done = _list_page(client, url, etag, last_modified)
    if done is not None:
        return done
    entries = parse_cnipa_list(page.text, page.url, max_items=max_items)
    if not entries:
        return FetchResult(errors=[f"页面上没有找到文章链接（/art/…/art_<栏目>_<编号>.html，{url}）："
                                   "不是国家知识产权局/大汉版通栏目列表，或网站改版"],
                           readable=False)
    items = [Item(source=source, url=e.url, title=e.title, published_at=e.published_at, fetched_at=now,
                  platform=platform) for e in entries]
    return FetchResult(items=items, etag=page.etag, last_modified=page.last_modified)


# ---------------------------------------------------------------- generic government CMS

ARTICLE_SUFFIXES = (".html", ".htm", ".shtml", ".jhtml", ".jsp", ".php", ".aspx")
MIN_TITLE_CHARS = 6
TITLE_SUFFIX_RE = re.compile(r"\s*(?:_|--|\s-\s|\|)\s*[^_|]{2,30}$")


def _same_site(a: str, b: str) -> bool:
    ha, hb = (urlsplit(x).hostname or "" for x in (a, b))
    strip = lambda h: h[4:] if h.startswith("www.") else h  # noqa: E731
    return bool(ha) and strip(ha) == strip(hb)


def pick_article_links(body: str, list_url: str, *, link_pattern: str | None = None,
                       max_items: int = MAX_LIST_ITEMS) -> list[ListEntry]:
    """Same-site links that look like articles: a title-length anchor text and an id-like path.

    `link_pattern` (a regex searched in the absolute URL) replaces the heuristic for
    sites whose article URLs it misjudges.
    """
    reader = read_page(body)
    base = urljoin(list_url, reader.base_href) if reader.base_href else list_url
    rx = re.compile(link_pattern) if link_pattern else None
    entries: list[ListEntry] = []
    seen = {canonical_url(list_url)}
    for a in reader.anchors:
        href = a.href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not _same_site(url, list_url):
            continue
        title = _entry_title(a)
        if a.in_chrome:
            continue    # header/nav/footer links repeat on every page: "featured" items, not the list
        if rx is not None:
            if not rx.search(url):
                continue
        else:
            if len(title) < MIN_TITLE_CHARS:
                continue
            path = parts.path.lower()
            looks_like_article = (ART_LINK.search(path) or re.search(r"\d{4,}", path)) and (
                path.endswith(ARTICLE_SUFFIXES) or "." not in path.rsplit("/", 1)[-1])
            if not looks_like_article or "/col/" in path or path.rstrip("/").endswith("index.html"):
                continue
        key = canonical_url(url)
        if key in seen or not title:
            continue
        seen.add(key)
        published = _block_date(a, title)
        if published is None:
            m = ART_LINK.search(parts.path)
            if m:
                published = parse_cn_datetime("-".join(m.groups()[:3]))
        entries.append(ListEntry(url=url, title=title, published_at=published))
        if len(entries) >= max_items:
            break
    return entries


def check_link_pattern(pattern: str | None) -> str | None:
    """None when `pattern` is usable as `link_pattern`, else a message (for the sources check too)."""
    if not pattern:
        return None
    try:
        re.compile(pattern)
    except re.error as e:
        return f"link_pattern {pattern!r} 不是有效的正则表达式（{e}）"
    return None


@dataclass
class Article:
    title: str
    published_at: datetime | None
    content_source: str
    text: str


def parse_article(html: str, *, max_chars: int = MAX_TEXT_CHARS) -> Article:
    """Title, date, publishing body and rough body text of one government CMS article page."""
    r = read_page(html)
    meta = r.meta
    title = _clean(meta.get("articletitle") or meta.get("og:title") or "")[:MAX_TITLE_CHARS]
    if not title:
        title = _clean("".join(r.title))
        stripped = TITLE_SUFFIX_RE.sub("", title)
        # "标题_安徽省市场监督管理局": drop the site name, but never the whole title.
        if len(stripped) >= MIN_TITLE_CHARS:
            title = stripped
        title = title[:MAX_TITLE_CHARS]
    strict = plain_text(r.strict, max_chars * 4)
    body = ""
    for editor in (True, False):
        best = max((plain_text(t, max_chars * 4) for e, t in r.captured if e == editor), key=len, default="")
        if len(best) >= 30:
            body = best
            break
    if not body:
        body = strict
    if len(body) < 30:
        body = plain_text(r.loose, max_chars * 4) or _clean(meta.get("description", ""))
    published = None
    for key in ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "datepublished"):
        published = parse_cn_datetime(meta.get(key))
        if published:
            break
    if published is None:
        published = find_date(strict)
    source = _clean(meta.get("contentsource") or meta.get("source") or "")
    if not source:
        m = re.search(r"来源\s*[:：]\s*([^\s|，,]{2,30})", strict)
        source = m.group(1) if m else ""
    if title and body.startswith(title):
        body = body[len(title):].lstrip()
    return Article(title=title, published_at=published, content_source=source, text=body[:max_chars])


# What is already stored: a set of canonical URLs, or a function that is asked once with the canonical
# URLs found on the list page and answers which of them are stored (the pipeline's store look-up).
Known = Union[Container[str], Callable[[list[str]], Container[str]]]


def _known_set(known: Known, keys: list[str]) -> Container[str]:
    return known(keys) if callable(known) else known


def collect_gov_list(client: httpx.Client, url: str, *, source: str, platform: str = "government",
                     link_pattern: str | None = None, max_articles: int = MAX_ARTICLES,
                     delay_s: float = ARTICLE_DELAY_S, budget_s: float = SOURCE_BUDGET_S,
                     known: Known = frozenset(), etag: str | None = None,
                     last_modified: str | None = None, fetched_at: datetime | None = None,
                     sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], float] = time.monotonic) -> FetchResult:
    """A government CMS list page → its newest articles, each fetched and read.

    `known` holds canonical URLs already stored (or answers for the links found, see
    `Known`); those are not fetched again, which keeps a 30-minute schedule down to a
    handful of requests per run and a failing article from costing its timeouts on every pass. An article
    that cannot be fetched still yields an item from its list entry, with the error
    recorded.
    """
    now = fetched_at or utcnow()
    started = clock()
    problem = check_link_pattern(link_pattern)
    if problem:
        return FetchResult(errors=[problem], readable=False)
    page, done = _list_page(client, url, etag, last_modified)
    if done is not None:
        return done
    entries = pick_article_links(page.text, page.url, link_pattern=link_pattern)
    if not entries:
        return FetchResult(errors=[f"列表页上没有找到文章链接（{url}"
                                   + (f"，link_pattern {link_pattern!r}" if link_pattern else "")
                                   + "）：地址不是列表页，或网站改版"],
                           readable=False)
    result = FetchResult(etag=page.etag, last_modified=page.last_modified)
    stored = _known_set(known, [canonical_url(e.url) for e in entries])
    fetched = 0
    for e in entries:
        if canonical_url(e.url) in stored:
            continue
        if fetched >= max_articles:
            break
        if clock() - started > budget_s:
            result.errors.append(f"已读 {fetched} 篇文章后停止：本信息源每轮限时 {budget_s:.0f} 秒已用完")
            break
        if fetched:
            # Jitter keeps several instances (or sources on one host) from marching in step.
            sleep(delay_s * random.uniform(1.0, 1.5))
        fetched += 1
        try:
            art_page = get_page(client, e.url)
        except CollectError as err:
            result.errors.append(f"文章未能读取（{e.url}）：{err}")
            result.items.append(Item(source=source, url=e.url, title=e.title, published_at=e.published_at,
                                     fetched_at=now, platform=platform))
            if isinstance(err, RateLimited):
                # The site asked us to slow down: no more articles this run.
                result.retry_after_s = err.retry_after_s
                break
            continue
        art = parse_article(art_page.text)
        result.items.append(Item(
            source=source, url=e.url,
            title=art.title or e.title, text=art.text, published_at=art.published_at or e.published_at,
            fetched_at=now, author=art.content_source, platform=platform))
    return result


KINDS = ("cnipa", "govlist")


def collect(kind: str, client: httpx.Client, url: str, *, source: str, platform: str = "government",
            link_pattern: str | None = None, max_items: int | None = None, known: Known = frozenset(),
            etag: str | None = None, last_modified: str | None = None,
            fetched_at: datetime | None = None) -> FetchResult:
    """Entry point for the source registry: one configured list page of `kind` ("cnipa" or "govlist")."""
    if kind == "cnipa":
        return collect_cnipa(client, url, source=source, platform=platform, max_items=max_items or MAX_LIST_ITEMS,
                             etag=etag, last_modified=last_modified, fetched_at=fetched_at)
    if kind == "govlist":
        return collect_gov_list(client, url, source=source, platform=platform, link_pattern=link_pattern,
                                max_articles=max_items or MAX_ARTICLES, known=known, etag=etag,
                                last_modified=last_modified, fetched_at=fetched_at)
    return FetchResult(errors=[f"未知的列表页类型 {kind!r}（可用：{', '.join(KINDS)}）"], readable=False)
