"""Fetching: conditional GET, errors, rate limits, size and time bounds.

MockTransport for the protocol cases; one real server on 127.0.0.1 for what only
a socket shows (a slow response running into the timeout, a real 304).
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from collectors.http import (CollectError, FetchError, FetchTimeout, RateLimited, fetch, make_client,
                             retry_after_seconds)
from collectors.reader import read_feed

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
FEED = (FEEDS / "utf8_chinese_dates.xml").read_bytes()


def _client(handler, **kw):
    return make_client("IPOpinionWatch/test (+ops@example.cn)", transport=httpx.MockTransport(handler), **kw)


def test_user_agent_and_conditional_headers_are_sent():
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, content=FEED, headers={"etag": '"v2"', "last-modified": "Thu, 05 Jun 2025 01:00:00 GMT"})

    with _client(handler) as c:
        got = fetch(c, "https://feeds.example.cn/a.xml", etag='"v1"', last_modified="Wed, 04 Jun 2025 01:00:00 GMT")
    (req,) = seen
    assert req.headers["user-agent"] == "IPOpinionWatch/test (+ops@example.cn)"
    assert req.headers["if-none-match"] == '"v1"'
    assert req.headers["if-modified-since"] == "Wed, 04 Jun 2025 01:00:00 GMT"
    assert got.content == FEED and got.etag == '"v2"'
    assert got.last_modified == "Thu, 05 Jun 2025 01:00:00 GMT" and not got.not_modified


def test_no_conditional_headers_without_state():
    seen = []
    with _client(lambda r: seen.append(r) or httpx.Response(200, content=FEED)) as c:
        fetch(c, "https://feeds.example.cn/a.xml")
    assert "if-none-match" not in seen[0].headers and "if-modified-since" not in seen[0].headers


def test_304_with_matching_etag_is_not_modified():
    def handler(request):
        if request.headers.get("if-none-match") == '"abc"':
            return httpx.Response(304, headers={"etag": '"abc"'})
        return httpx.Response(200, content=FEED, headers={"etag": '"abc"'})

    with _client(handler) as c:
        first = read_feed("https://feeds.example.cn/a.xml", client=c, source="s")
        second = read_feed("https://feeds.example.cn/a.xml", client=c, source="s", etag=first.etag)
    assert first.etag == '"abc"' and len(first.items) == 10
    assert second.not_modified and second.items == [] and second.etag == '"abc"'


def test_redirect_is_followed_and_final_url_used_for_relative_links():
    body = (FEEDS / "relative_links.xml").read_bytes()

    def handler(request):
        if request.url.path == "/old.xml":
            return httpx.Response(301, headers={"location": "https://new.example.cn/rss/feed.xml"})
        return httpx.Response(200, content=body, headers={"content-type": "application/rss+xml"})

    with _client(handler) as c:
        result = read_feed("https://old.example.cn/old.xml", client=c, source="s")
    assert result.items[0].url == "https://new.example.cn/art/2025/6/5/art_1_100.html"
    assert result.items[2].url == "https://new.example.cn/rss/4.html"


@pytest.mark.parametrize("status", [404, 500, 502])
def test_http_errors_raise_fetch_error_and_become_errors_in_read_feed(status):
    with _client(lambda r: httpx.Response(status, text="boom")) as c:
        with pytest.raises(FetchError) as e:
            fetch(c, "https://feeds.example.cn/a.xml")
        assert e.value.status == status and str(status) in str(e.value)
        result = read_feed("https://feeds.example.cn/a.xml", client=c, source="s")
    assert result.readable is False and str(status) in result.errors[0]


@pytest.mark.parametrize("exc, kind", [
    (httpx.ConnectTimeout("connect timed out"), FetchTimeout),
    (httpx.ReadTimeout("read timed out"), FetchTimeout),
    (httpx.ConnectError("[Errno 111] Connection refused"), FetchError),
])
def test_transport_failures(exc, kind):
    def handler(request):
        raise exc

    with _client(handler) as c:
        with pytest.raises(kind) as e:
            fetch(c, "https://feeds.example.cn/a.xml")
        assert isinstance(e.value, CollectError)
        result = read_feed("https://feeds.example.cn/a.xml", client=c, source="s")
    assert result.readable is False and "feeds.example.cn" in result.errors[0]


def test_short_retry_after_is_waited_out_once():
    calls, slept = [], []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "2"})
        return httpx.Response(200, content=FEED)

    with _client(handler) as c:
        got = fetch(c, "https://feeds.example.cn/a.xml", sleep=slept.append)
    assert len(calls) == 2 and slept == [2.0] and got.content == FEED


def test_long_retry_after_fails_this_run():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(429, headers={"retry-after": "3600"})

    with _client(handler) as c:
        with pytest.raises(RateLimited) as e:
            fetch(c, "https://feeds.example.cn/a.xml", sleep=lambda s: pytest.fail("must not wait an hour"))
    assert len(calls) == 1 and e.value.retry_after_s == 3600 and "3600" in str(e.value)


def test_repeated_429_gives_up_after_one_wait():
    with _client(lambda r: httpx.Response(503, headers={"retry-after": "1"})) as c:
        with pytest.raises(RateLimited):
            fetch(c, "https://feeds.example.cn/a.xml", sleep=lambda s: None)


def test_retry_after_http_date():
    from datetime import datetime, timezone
    now = datetime(2025, 6, 5, 0, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("Thu, 05 Jun 2025 00:00:30 GMT", now=now) == 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_oversized_response_is_refused():
    with _client(lambda r: httpx.Response(200, content=b"x" * 5000)) as c:
        with pytest.raises(FetchError, match="内容过大"):
            fetch(c, "https://feeds.example.cn/a.xml", max_bytes=1000)


# -- a real server on 127.0.0.1 -------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        return None   # keep the test output clean

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/etag" and self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True    # the client gave up first (the timeout test): expected


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_real_server_slow_response_hits_the_timeout(server):
    with make_client("t", timeout=httpx.Timeout(0.3, connect=1.0)) as c:
        started = time.monotonic()
        result = read_feed(server + "/slow", client=c, source="s")
    assert time.monotonic() - started < 1.4
    assert result.readable is False and "连接超时（ReadTimeout，127.0.0.1）" in result.errors[0]


def test_real_server_304_round_trip(server):
    with make_client("t") as c:
        first = read_feed(server + "/etag", client=c, source="s")
        second = read_feed(server + "/etag", client=c, source="s", etag=first.etag)
    assert len(first.items) == 10 and first.etag == '"v1"'
    assert second.not_modified and second.readable


def test_real_refused_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with make_client("t", timeout=httpx.Timeout(2.0)) as c:
        result = read_feed(f"http://127.0.0.1:{port}/feed.xml", client=c, source="s")
    assert result.readable is False and "连接被拒绝（127.0.0.1）" in result.errors[0]


def test_user_agent_with_chinese_text_is_sent_as_ascii():
    from monitor.settings import Settings
    seen = []
    client = make_client(Settings().user_agent, transport=httpx.MockTransport(
        lambda r: seen.append(r) or httpx.Response(200, content=FEED)))
    with client:
        fetch(client, "https://feeds.example.cn/a.xml")
    agent = seen[0].headers["user-agent"]
    assert agent.isascii() and agent.startswith("IPOpinionWatch/") and "()" not in agent


@pytest.mark.parametrize("failure, expect", [
    (httpx.ConnectError("[Errno -2] Name or service not known"), "域名无法解析（feeds.example.cn）：地址写错，或服务器无法访问外网"),
    (httpx.ConnectError("[Errno 111] Connection refused"), "连接被拒绝（feeds.example.cn）：对方服务未运行或端口不对"),
    (httpx.ReadTimeout("timed out"), "连接超时（ReadTimeout，feeds.example.cn）"),
    (httpx.RemoteProtocolError("Server disconnected"), "服务器中断了连接（feeds.example.cn：RemoteProtocolError）"),
    (404, "地址不存在（页面已删除或地址写错）（HTTP 404 Not Found，feeds.example.cn）"),
    (500, "服务器出错（HTTP 500 Internal Server Error，feeds.example.cn）"),
    (429, "服务器要求暂缓访问（HTTP 429 Too Many Requests，feeds.example.cn，约 3600 秒后再试）"),
])
def test_failures_are_told_to_staff_in_chinese_with_the_detail_in_brackets(failure, expect):
    def handler(request):
        if isinstance(failure, Exception):
            raise failure
        return httpx.Response(failure, headers={"retry-after": "3600"} if failure == 429 else {})

    with make_client("t", transport=httpx.MockTransport(handler)) as c:
        result = read_feed("https://feeds.example.cn/feed.xml", client=c, source="s")
    assert result.errors == [expect]


def test_other_failures_of_a_source_are_described_in_chinese():
    from collectors.http import describe
    assert describe(RuntimeError("model file missing")) == "内部错误（RuntimeError: model file missing）"
    assert describe(KeyError()) == "内部错误（KeyError）"
