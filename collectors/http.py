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

Messages are for staff (the 信息源 page, `collectors run`): Chinese, with the
technical detail (HTTP status, host, exception name) in brackets. They are all
worded here, by `network_message`, `status_message` and `describe`.
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


# What an OS resolver says when a host name does not exist (glibc, macOS, Windows) or DNS is unreachable.
_NO_SUCH_HOST = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
                 "no address associated", "temporary failure in name resolution", "name does not resolve")


def host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except (httpx.InvalidURL, TypeError, ValueError):
        return url


def _tries(attempt: int) -> str:
    return f"，已尝试 {attempt} 次" if attempt > 1 else ""


def status_message(status: int, reason: str, url: str, *, wait: float | None = None, attempt: int = 1) -> str:
    """An HTTP error status in Chinese, the status itself and the host in brackets."""
    detail = f"HTTP {status}{' ' + reason if reason else ''}，{host_of(url)}"
    if status in RETRY_STATUSES:
        later = f"，约 {wait:.0f} 秒后再试" if wait is not None else ""
        return f"服务器要求暂缓访问（{detail}{later}）{_tries(attempt)}"
    if status >= 500:
        later = f"，要求 {wait:.0f} 秒后再试" if wait is not None else ""
        return f"服务器出错（{detail}{later}）{_tries(attempt)}"
    what = {401: "需要登录", 403: "服务器拒绝访问", 404: "地址不存在（页面已删除或地址写错）",
            410: "地址已失效"}.get(status, "服务器拒绝了请求")
    return f"{what}（{detail}）"


def network_message(e: BaseException, url: str, *, attempt: int = 1) -> str:
    """A network failure (httpx exception) in Chinese, with the host and the exception in brackets."""
    host = host_of(url)
    text = " ".join(str(e).split())
    low = text.lower()
    if isinstance(e, httpx.TimeoutException):
        return f"连接超时（{type(e).__name__}，{host}）{_tries(attempt)}"
    if isinstance(e, httpx.TooManyRedirects):
        return f"重定向次数过多（超过 {MAX_REDIRECTS} 次，{host}）"
    if isinstance(e, httpx.ConnectError):
        if any(s in low for s in _NO_SUCH_HOST):
            return f"域名无法解析（{host}）：地址写错，或服务器无法访问外网"
        if "refused" in low:
            return f"连接被拒绝（{host}）：对方服务未运行或端口不对"
        if "certificate" in low or "ssl" in low:
            return f"安全证书校验失败（{host}：{text}）"
        return f"无法连接服务器（{host}：{type(e).__name__}: {text or '网络错误'}）"
    if isinstance(e, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"服务器中断了连接（{host}：{type(e).__name__}）"
    return f"网络错误（{host}：{type(e).__name__}: {text or '未知'}）"


def describe(e: BaseException) -> str:
    """Any exception that stopped one source, as one Chinese line for staff (the `runs` table).

    CollectError messages are already worded for staff; other exceptions (a judge or store
    failure) are named with their type, which is what a maintainer needs.
    """
    if isinstance(e, CollectError):
        return str(e)
    if isinstance(e, httpx.HTTPError):
        request = getattr(e, "_request", None)
        return network_message(e, str(request.url) if request is not None else "")
    text = " ".join(str(e).split())
    return (f"内部错误（{type(e).__name__}: {text}）" if text else f"内部错误（{type(e).__name__}）")[:500]


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
                    message = status_message(r.status_code, r.reason_phrase, url, wait=wait, attempt=attempt)
                    if r.status_code in RETRY_STATUSES:
                        raise RateLimited(message, url=url, status=r.status_code, retry_after_s=wait)
                    raise FetchError(message, url=url, status=r.status_code)
                if r.status_code >= 400:
                    raise FetchError(status_message(r.status_code, r.reason_phrase, url), url=url,
                                     status=r.status_code)
                body = _read_bounded(r, url, max_bytes=max_bytes, deadline_s=deadline_s)
                return Fetched(url=final, status=r.status_code, content=body, headers=_lower(r.headers))
        except httpx.TimeoutException as e:
            if attempt <= policy.retries:
                pause = policy.backoff(attempt)
                log.info("%s timed out; retry %d in %.1f s", url, attempt, pause)
                sleep(pause)
                continue
            raise FetchTimeout(network_message(e, url, attempt=attempt), url=url) from e
        except httpx.HTTPError as e:
            raise FetchError(network_message(e, url), url=url) from e


def _read_bounded(r: httpx.Response, url: str, *, max_bytes: int, deadline_s: float) -> bytes:
    declared = r.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"内容过大（{int(declared)} 字节，上限 {max_bytes} 字节，{host_of(url)}）：地址可能填错",
                         url=url)
    end = time.monotonic() + deadline_s
    chunks, size = [], 0
    for chunk in r.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"内容过大（超过 {max_bytes} 字节，{host_of(url)}）：地址可能填错", url=url)
        if time.monotonic() > end:
            raise FetchTimeout(f"下载超时（超过 {deadline_s:.0f} 秒仍未传完，{host_of(url)}）", url=url)
        chunks.append(chunk)
    return b"".join(chunks)


def _lower(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
