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
import random
import re
import threading
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
# The collector process's policy (`make_client(**POLITE)`); the library default is
# one attempt and no pacing, so one-off reads and tests stay immediate.
POLITE = {"retries": 2, "backoff_s": 1.0, "host_interval_s": 0.5}

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


class Politeness:
    """How one shared client treats servers: retries with backoff, and a minimum gap per host.

    `retries` extra attempts follow a timeout or a 5xx, after `backoff_s * 2**n`
    plus up to `backoff_s` of jitter (several collectors must not retry in step).
    `host_interval_s` (plus up to half of it as jitter) separates two requests to
    one host, across sources: an RSSHub instance or a ministry site serving many
    of our sources sees one polite client, not a burst.
    """

    def __init__(self, *, retries: int = 0, backoff_s: float = 1.0, host_interval_s: float = 0.0,
                 rand: Callable[[float, float], float] = random.uniform) -> None:
        if retries < 0 or backoff_s < 0 or host_interval_s < 0:
            raise ValueError("retries, backoff_s and host_interval_s must not be negative")
        self.retries, self.backoff_s, self.host_interval_s = retries, backoff_s, host_interval_s
        self._rand = rand
        self._next_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        wait = self.backoff_s * 2 ** (attempt - 1) + self._rand(0, self.backoff_s)
        return min(MAX_RETRY_WAIT_S, wait)

    def pace(self, url: str, sleep: Callable[[float], None] = time.sleep) -> float:
        """Wait until this host may be asked again; returns the seconds waited."""
        if self.host_interval_s <= 0:
            return 0.0
        host = httpx.URL(url).host
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at.get(host, 0.0))
            self._next_at[host] = start + self.host_interval_s + self._rand(0, self.host_interval_s / 2)
        wait = start - now
        if wait > 0:
            sleep(wait)
        return wait


class PoliteClient(httpx.Client):
    """An httpx.Client that carries its `Politeness`, so every fetch through it shares one policy."""

    def __init__(self, *args, politeness: Politeness | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.politeness = politeness or Politeness()


def make_client(user_agent: str = DEFAULT_USER_AGENT, *, timeout: httpx.Timeout | float | None = None,
                transport: httpx.BaseTransport | None = None, retries: int = 0, backoff_s: float = 1.0,
                host_interval_s: float = 0.0) -> PoliteClient:
    """The one way collectors get an HTTP client. `transport` is the test seam (httpx.MockTransport).

    The collector process passes `**POLITE`; see `Politeness` for the knobs.
    """
    return PoliteClient(
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": ascii_header(user_agent), "Accept": ACCEPT},
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
        transport=transport,
        politeness=Politeness(retries=retries, backoff_s=backoff_s, host_interval_s=host_interval_s),
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
    """Conditional GET. Returns the body, or `not_modified=True` on 304. Raises FetchError and subclasses.

    Timeouts and 5xx are retried as the client's `Politeness` says (a Retry-After
    up to MAX_RETRY_WAIT_S replaces the backoff; a short one on 429/503 is waited
    out once even without retries); 4xx never is. The whole-body deadline and
    the size cap are not retried: the same URL would do the same again.
    """
    policy: Politeness = getattr(client, "politeness", None) or Politeness()
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    attempt = 0
    while True:
        attempt += 1
        policy.pace(url, sleep)
        try:
            with client.stream("GET", url, headers=headers) as r:
                final = str(r.url)
                if r.status_code == 304:
                    return Fetched(url=final, status=304, headers=_lower(r.headers), not_modified=True)
                if r.status_code in RETRY_STATUSES or r.status_code >= 500:
                    wait = retry_after_seconds(r.headers.get("retry-after"))
                    if wait is not None and wait <= MAX_RETRY_WAIT_S and attempt <= max(1, policy.retries):
                        log.info("%s answered %s; waiting %.0f s as asked", url, r.status_code, wait)
                        sleep(wait)
                        continue
                    if wait is None and r.status_code >= 500 and attempt <= policy.retries:
                        pause = policy.backoff(attempt)
                        log.info("%s answered %s; retry %d in %.1f s", url, r.status_code, attempt, pause)
                        sleep(pause)
                        continue
                    hint = f", retry after {wait:.0f} s" if wait is not None else ""
                    tries = f" after {attempt} attempts" if attempt > 1 else ""
                    if r.status_code in RETRY_STATUSES:
                        raise RateLimited(f"HTTP {r.status_code} {r.reason_phrase}{hint}{tries}", url=url,
                                          status=r.status_code, retry_after_s=wait)
                    raise FetchError(f"HTTP {r.status_code} {r.reason_phrase}{hint}{tries}", url=url,
                                     status=r.status_code)
                if r.status_code >= 400:
                    raise FetchError(f"HTTP {r.status_code} {r.reason_phrase}", url=url, status=r.status_code)
                body = _read_bounded(r, url, max_bytes=max_bytes, deadline_s=deadline_s)
                return Fetched(url=final, status=r.status_code, content=body, headers=_lower(r.headers))
        except httpx.TimeoutException as e:
            if attempt <= policy.retries:
                pause = policy.backoff(attempt)
                log.info("%s timed out; retry %d in %.1f s", url, attempt, pause)
                sleep(pause)
                continue
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise FetchTimeout(f"timed out ({type(e).__name__}) fetching {url}{tries}", url=url) from e
        except httpx.TooManyRedirects as e:
            raise FetchError(f"too many redirects (>{MAX_REDIRECTS}) from {url}", url=url) from e
        except httpx.HTTPError as e:
            raise FetchError(f"{type(e).__name__}: {e or 'network error'} ({url})", url=url) from e


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
