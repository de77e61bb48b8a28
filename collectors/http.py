"""HTTP for collectors: one client factory and one polite, bounded conditional GET.

Every request has a timeout (per phase, plus a deadline for the whole body so a
server dripping bytes cannot hold a run forever) and a size cap. `fetch` raises
the small exception tree below; the `collect` paths turn those into
`FetchResult.errors`, because a failing source is data, not a crash.

    CollectError            anything that stops one source from being read
    ├── FetchError          network failure or an HTTP error status
    │   ├── FetchTimeout    connect/read timeout or the whole-body deadline
    │   └── RateLimited     429/503 asking us to come back later than we wait
    └── NotAFeed            bytes arrived but they are not RSS/Atom
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

import httpx

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
WRITE_TIMEOUT_S = 10.0
POOL_TIMEOUT_S = 5.0
# Per-phase timeouts reset on every chunk; this bounds one whole response.
TOTAL_DEADLINE_S = 60.0
# Large news feeds are a few MB; anything far beyond is a misconfigured URL.
MAX_FEED_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_CONNECTIONS = 4
# A Retry-After up to this is waited out once; longer ones fail this run and the
# source is retried on its next turn.
MAX_RETRY_WAIT_S = 30.0
RETRY_STATUSES = (429, 503)

DEFAULT_USER_AGENT = "IPOpinionWatch/0.1"
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")

DEFAULT_TIMEOUT = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S,
                                write=WRITE_TIMEOUT_S, pool=POOL_TIMEOUT_S)


class CollectError(Exception):
    """One source could not be read; the message is meant for staff and the `runs` table."""


class FetchError(CollectError):
    """The network or the server failed; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class FetchTimeout(FetchError):
    """Connect or read timeout, or the whole-body deadline ran out."""


class RateLimited(FetchError):
    """429/503 with no Retry-After we are willing to wait out now; `retry_after_s` says how long."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 retry_after_s: float | None = None):
        super().__init__(message, url=url, status=status)
        self.retry_after_s = retry_after_s


class NotAFeed(CollectError):
    """Bytes arrived but they are not RSS or Atom (an HTML page, JSON, nothing)."""


@dataclass
class Fetched:
    """A response body, or the marker that the server says nothing changed (304)."""
    url: str                      # final URL after redirects: relative links resolve against it
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)   # lower-case names
    not_modified: bool = False

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def make_client(user_agent: str = DEFAULT_USER_AGENT, *, timeout: httpx.Timeout | float | None = None,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The one way collectors get an HTTP client. `transport` is the test seam (httpx.MockTransport)."""
    return httpx.Client(
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": ascii_header(user_agent), "Accept": ACCEPT},
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
        transport=transport,
    )


def ascii_header(value: str) -> str:
    """A header value HTTP can carry: non-ASCII text (a Chinese office name) is dropped, not sent as mojibake.

    >>> ascii_header("IPOpinionWatch/0.1 (+https://amr.ah.gov.cn; 安徽省知识产权局)")
    'IPOpinionWatch/0.1 (+https://amr.ah.gov.cn)'
    """
    text = "".join(ch for ch in value if " " <= ch <= "~")
    text = re.sub(r"[\s;,]+\)", ")", text)
    text = re.sub(r"\(\s*\)", "", text)
    return " ".join(text.split()) or DEFAULT_USER_AGENT


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now; it may be a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def fetch(client: httpx.Client, url: str, *, etag: str | None = None, last_modified: str | None = None,
          max_bytes: int = MAX_FEED_BYTES, deadline_s: float = TOTAL_DEADLINE_S,
          sleep: Callable[[float], None] = time.sleep) -> Fetched:
    """Conditional GET. Returns the body, or `not_modified=True` on 304. Raises FetchError and subclasses."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for attempt in range(2):
        try:
            with client.stream("GET", url, headers=headers) as r:
                final = str(r.url)
                if r.status_code == 304:
                    return Fetched(url=final, status=304, headers=_lower(r.headers), not_modified=True)
                if r.status_code in RETRY_STATUSES:
                    wait = retry_after_seconds(r.headers.get("retry-after"))
                    if attempt == 0 and wait is not None and wait <= MAX_RETRY_WAIT_S:
                        log.info("%s answered %s; waiting %.0f s as asked", url, r.status_code, wait)
                        sleep(wait)
                        continue
                    hint = f", retry after {wait:.0f} s" if wait is not None else ""
                    raise RateLimited(f"HTTP {r.status_code} {r.reason_phrase}{hint}", url=url,
                                      status=r.status_code, retry_after_s=wait)
                if r.status_code >= 400:
                    raise FetchError(f"HTTP {r.status_code} {r.reason_phrase}", url=url, status=r.status_code)
                body = _read_bounded(r, url, max_bytes=max_bytes, deadline_s=deadline_s)
                return Fetched(url=final, status=r.status_code, content=body, headers=_lower(r.headers))
        except httpx.TimeoutException as e:
            raise FetchTimeout(f"timed out ({type(e).__name__}) fetching {url}", url=url) from e
        except httpx.TooManyRedirects as e:
            raise FetchError(f"too many redirects (>{MAX_REDIRECTS}) from {url}", url=url) from e
        except httpx.HTTPError as e:
            raise FetchError(f"{type(e).__name__}: {e or 'network error'} ({url})", url=url) from e
    raise AssertionError("unreachable: the second attempt always returns or raises")


def _read_bounded(r: httpx.Response, url: str, *, max_bytes: int, deadline_s: float) -> bytes:
    declared = r.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response too large ({int(declared)} bytes > {max_bytes}) from {url}", url=url)
    end = time.monotonic() + deadline_s
    chunks, size = [], 0
    for chunk in r.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"response too large (> {max_bytes} bytes) from {url}", url=url)
        if time.monotonic() > end:
            raise FetchTimeout(f"response took longer than {deadline_s:.0f} s from {url}", url=url)
        chunks.append(chunk)
    return b"".join(chunks)


def _lower(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
