"""What every collector produces: `Item`s inside a `FetchResult`.

Collectors know HTTP and formats, nothing about scoring or storage.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only say where a click came from; stripping them makes a
# re-tracked link the same item. Kept conservative: a parameter that can select
# content (id, page, p) must never be listed here.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid",
    "spm", "scm", "from", "isappinstalled", "share_token", "sharer_shareinfo",
    "sharer_shareinfo_first", "wfr", "ref", "ref_src", "ref_url", "_hsenc", "_hsmi",
    "vd_source", "share_source", "share_medium", "share_plat", "share_session_id",
    "share_tag", "timestamp", "unique_k", "bbid", "ts", "tt_from", "utm",
})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Clock skew between a site, an office PC and this server must not move an item's date.
FUTURE_SLACK = timedelta(minutes=10)
# No news item or post is older than this: an earlier date is a placeholder (1970-01-01, 1900-01-01)
# or a wrong reading, and is treated like a missing date. Midnight, Beijing time.
EARLIEST_PUBLISHED = datetime(1990, 1, 1, tzinfo=timezone(timedelta(hours=8)))


def canonical_url(url: str) -> str:
    """A stable key for a link: tracking parameters and fragment gone, host lower-cased.

    >>> canonical_url("HTTPS://News.Example.COM:443/a?utm_source=x&id=3#top")
    'https://news.example.com/a?id=3'
    """
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host
    if parts.username:
        netloc = f"{parts.username}@{host}"
    if port and DEFAULT_PORTS.get(scheme) != port:
        netloc += f":{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not (k.lower().startswith("utm_") or k.lower() in TRACKING_PARAMS)
    ]
    query.sort()
    path = parts.path or ("/" if host else "")
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def is_web_url(url: str) -> bool:
    """An http(s) address with a host, no whitespace and a readable port: the only links the product
    follows, stores as a source or shows as clickable. Never raises (`http://[::1` is simply not one)."""
    u = str(url or "")
    if not u or len(u) > 2048 or any(ch.isspace() for ch in u):
        return False
    try:
        parts = urlsplit(u)
        parts.port                                    # a bad port raises here, not later
    except ValueError:
        return False
    return parts.scheme.lower() in DEFAULT_PORTS and bool(parts.hostname)


def shown_url(url: str) -> str:
    """A configured address as pages and listings show it: a password or user name written into it (a
    hand-edited sources file) is replaced by ***, since every role sees these addresses."""
    u = str(url or "")
    try:
        parts = urlsplit(u)
    except ValueError:
        return u
    if "@" not in parts.netloc:
        return u
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


_SPACE = re.compile(r"\s+")
# JSON can spell half of a UTF-16 pair ("\ud800"); such a string cannot be written as UTF-8 or stored.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """`text` with any lone surrogate replaced by U+FFFD, so it can be hashed, stored and shown."""
    return _LONE_SURROGATE.sub("\ufffd", text) if text and not text.isascii() else text


def normalise_for_hash(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


def content_hash(title: str, text: str) -> str:
    """Hash of what a reader sees; layout-only differences (width, spacing) do not change it."""
    payload = normalise_for_hash(title) + "\n" + normalise_for_hash(text)
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Item:
    """One news article, post or release as collected."""
    source: str
    url: str
    title: str
    text: str = ""
    published_at: datetime | None = None
    # True when the source gave no usable date and `published_at` is the fetch time.
    published_estimated: bool = False
    fetched_at: datetime = field(default_factory=utcnow)
    author: str = ""
    platform: str = ""
    # Names of the monitoring schemes (监测方案) this item matched; set by the pipeline.
    schemes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("source", "url", "title", "text", "author", "platform"):
            setattr(self, name, scrub(getattr(self, name)))
        # A date after the fetch is a wrong date (a zone mislabelled, a typo such as 2062 for 2026): it
        # would sit at the top of every list and in future periods, so the fetch time stands in for it;
        # so it does for a placeholder before EARLIEST_PUBLISHED (a feed's pubDate of 1900).
        if self.published_at is None or (self.published_at.tzinfo is not None and self.fetched_at.tzinfo is not None
                                         and not EARLIEST_PUBLISHED <= self.published_at
                                         <= self.fetched_at + FUTURE_SLACK):
            self.published_at = self.fetched_at
            self.published_estimated = True

    # key and hash are asked for several times per item on the way into the store; each is
    # remembered with the very strings it was computed from (fields may be reassigned).
    @property
    def key(self) -> str:
        """Canonical URL, or the content hash for items that have no link (manual entries, some imports)."""
        memo = self.__dict__.get("_url_memo")
        if memo is None or memo[0] is not self.url:
            memo = self.__dict__["_url_memo"] = (self.url, canonical_url(self.url))
        return memo[1] or "sha1:" + self.hash

    @property
    def hash(self) -> str:
        memo = self.__dict__.get("_hash_memo")
        if memo is None or memo[0] is not self.title or memo[1] is not self.text:
            memo = self.__dict__["_hash_memo"] = (self.title, self.text, content_hash(self.title, self.text))
        return memo[2]


@dataclass
class FetchResult:
    """The outcome of reading one source once. Failures are data, not exceptions."""
    items: list[Item] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_modified: bool = False
    # Problems that did not stop an item from being kept (an import row dated at import time, a
    # remembered-mappings file that could not be read); `errors` are what was skipped or failed.
    warnings: list[str] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    # False when nothing could be read at all (not a feed, unreachable); errors say why.
    readable: bool = True
    # The feed's name (channel title, else host or file name): the source name of ad-hoc ingests.
    title: str = ""
    # The server answered 429/503 asking not to be asked again for this many seconds (Retry-After).
    retry_after_s: float | None = None
