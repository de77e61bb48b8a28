"""Robustness against a real misbehaving server on 127.0.0.1: retries, caps, pacing, backoff, restarts.

Each case goes through the real pipeline (collect_source -> Store on a real
SQLite file) and asserts what is stored and what `runs` records. Time bounds
are generous upper limits that only a hang or a missed timeout would break.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from collectors.http import FetchError, FetchTimeout, Politeness, fetch, make_client
from collectors.registry import Source
from monitor.pipeline import (BACKOFF_AFTER, backed_off, backoff_until, collect_source, collection_lock,
                              lock_path_for, run_forever)
from monitor.queries import failure_streaks, source_health
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
GOOD = (FEEDS / "utf8_chinese_dates.xml").read_bytes()
HUGE = 50 * 1024 * 1024


def feed(prefix: str, n: int) -> bytes:
    items = "".join(
        f"<item><title>{prefix} 第{i}条 专利侵权纠纷通报</title><link>http://src.example.cn/{prefix}/{i}.html</link>"
        f"<description>{prefix} 第{i}条正文：商标侵权案件处理情况。</description>"
        f"<pubDate>Mon, 02 Jun 2025 0{i % 10}:00:00 +0800</pubDate></item>" for i in range(n))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{prefix}</title>'
            f"<link>http://src.example.cn/</link>{items}</channel></rss>").encode()


class Misbehaving(BaseHTTPRequestHandler):
    hits: Counter = Counter()
    times: dict[str, list[float]] = {}
    sent: dict[str, int] = {}
    delay_s = 0.0

    def log_message(self, *args):
        return None

    def _send(self, status: int, body: bytes = b"", ctype: str = "application/rss+xml", **headers) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        cls = type(self)
        cls.hits[path] += 1
        cls.times.setdefault(path, []).append(time.monotonic())
        try:
            self._route(path, cls.hits[path])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True      # the client gave up first: that is the point of the test

    def _route(self, path: str, hit: int) -> None:
        if path == "/slow":
            time.sleep(3)
            self._send(200, GOOD)
        elif path == "/flaky":
            self._send(500, b"busy") if hit == 1 else self._send(200, GOOD)
        elif path == "/always500":
            self._send(500, b"down")
        elif path == "/busy":
            self._send(503, b"later", retry_after="1") if hit == 1 else self._send(200, GOOD)
        elif path == "/missing":
            self._send(404, b"no")
        elif path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
            else:
                self._send(200, GOOD, etag='"v1"')
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path in ("/huge", "/huge-undeclared"):
            self._huge(declared=path == "/huge")
        elif path == "/html":
            self._send(200, (FEEDS / "not_a_feed.html").read_bytes(), "text/html; charset=utf-8")
        elif path == "/truncated":
            self._send(200, (FEEDS / "truncated.xml").read_bytes())
        elif path == "/gbk":
            self._send(200, (FEEDS / "gbk_undeclared.xml").read_bytes(), "application/xml")
        elif path.startswith("/gen/"):
            time.sleep(type(self).delay_s)
            name = path.split("/")[2]
            self._send(200, feed(name, 40))
        else:
            self._send(404, b"?")

    def _huge(self, declared: bool) -> None:
        # Close-delimited (HTTP/1.0) when undeclared, so only the client's cap can stop it.
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if declared:
            self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
        sent = 0
        try:
            while sent < HUGE:
                self.wfile.write(chunk)
                sent += len(chunk)
        finally:
            type(self).sent[self.path] = sent


@pytest.fixture
def server():
    Misbehaving.hits = Counter()
    Misbehaving.times = {}
    Misbehaving.sent = {}
    Misbehaving.delay_s = 0.0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _client(**kw):
    kw.setdefault("retries", 1)
    kw.setdefault("backoff_s", 0.05)
    return make_client("t", timeout=httpx.Timeout(0.5, connect=1.0), **kw)


def _collect(store, judge, url: str, name: str = "s", **client_kw):
    with _client(**client_kw) as c:
        started = time.monotonic()
        report = collect_source(Source(name=name, url=url), store, judge, c)
    return report, time.monotonic() - started


def _runs(store, name="s"):
    return [tuple(r) for r in store.conn.execute(
        "SELECT status, fetched, new, error FROM runs WHERE source = ? ORDER BY id", (name,))]


def _count(store) -> int:
    return store.conn.execute("SELECT count(*) FROM items").fetchone()[0]


def test_slow_server_times_out_after_its_retries_and_is_recorded(server, fresh_store, fixed_judge):
    report, took = _collect(fresh_store, fixed_judge, server + "/slow")
    assert report.status == "error" and "连接超时" in report.error and "已尝试 2 次" in report.error
    assert Misbehaving.hits["/slow"] == 2
    assert took < 2 * 0.5 + 0.05 * 2 + 2.5          # two read timeouts and one backoff, never the 3 s reply
    assert _runs(fresh_store) == [("error", 0, 0, report.error)] and _count(fresh_store) == 0


def test_500_then_200_is_retried_and_stored(server, fresh_store, fixed_judge):
    report, _ = _collect(fresh_store, fixed_judge, server + "/flaky")
    assert Misbehaving.hits["/flaky"] == 2
    assert report.status == "ok" and report.new == 10 and _count(fresh_store) == 10
    assert _runs(fresh_store)[0][:3] == ("ok", 10, 10)


def test_persistent_500_gives_up_after_the_retries(server, fresh_store, fixed_judge):
    report, _ = _collect(fresh_store, fixed_judge, server + "/always500", retries=2)
    assert Misbehaving.hits["/always500"] == 3
    assert report.status == "error" and report.error == "服务器出错（HTTP 500 Internal Server Error，127.0.0.1），已尝试 3 次"


def test_retry_after_on_503_is_honoured(server):
    slept = []
    with _client(retries=0) as c:
        got = fetch(c, server + "/busy", sleep=slept.append)
    assert slept == [1.0] and got.status == 200 and Misbehaving.hits["/busy"] == 2


def test_404_is_not_retried(server, fresh_store, fixed_judge):
    report, _ = _collect(fresh_store, fixed_judge, server + "/missing", retries=3)
    assert Misbehaving.hits["/missing"] == 1
    assert report.status == "error" and "404" in report.error and _count(fresh_store) == 0


def test_304_stores_nothing_and_is_not_an_error(server, fresh_store, fixed_judge):
    first, _ = _collect(fresh_store, fixed_judge, server + "/etag")
    second, _ = _collect(fresh_store, fixed_judge, server + "/etag")
    assert first.status == "ok" and first.new == 10
    assert second.status == "not_modified" and second.error is None
    assert [r[0] for r in _runs(fresh_store)] == ["ok", "not_modified"] and _count(fresh_store) == 10


def test_redirect_loop_stops_at_the_limit(server, fresh_store, fixed_judge):
    report, took = _collect(fresh_store, fixed_judge, server + "/loop")
    assert report.status == "error" and "重定向次数过多" in report.error
    assert Misbehaving.hits["/loop"] <= 7 and took < 10


@pytest.mark.parametrize("path", ["/huge", "/huge-undeclared"])
def test_50_mb_body_is_refused_without_reading_it_all(server, fresh_store, fixed_judge, path):
    report, took = _collect(fresh_store, fixed_judge, server + path)
    assert report.status == "error" and "内容过大" in report.error
    assert _runs(fresh_store)[0][0] == "error" and _count(fresh_store) == 0
    deadline = time.monotonic() + 5
    while path not in Misbehaving.sent and time.monotonic() < deadline:
        time.sleep(0.05)       # the handler records what it sent once the client has hung up
    assert Misbehaving.sent[path] < HUGE and took < 30


def test_wrong_content_type_is_an_error_not_a_crash(server, fresh_store, fixed_judge):
    report, _ = _collect(fresh_store, fixed_judge, server + "/html")
    assert report.status == "error" and report.error and _count(fresh_store) == 0


def test_truncated_xml_keeps_complete_items_and_records_the_cut(server, fresh_store, fixed_judge):
    report, _ = _collect(fresh_store, fixed_judge, server + "/truncated")
    assert report.status == "ok" and report.new == 3 and report.error
    titles = sorted(r[0] for r in fresh_store.conn.execute("SELECT title FROM items"))
    assert titles == [f"完整条目{i}：假冒商标案件通报" for i in (1, 2, 3)]
    assert _runs(fresh_store)[0][3] == report.error


def test_gbk_without_declaration_is_stored_as_chinese(server, fresh_store, fixed_judge):
    report, _ = _collect(fresh_store, fixed_judge, server + "/gbk")
    assert report.status == "ok" and report.new == 3
    titles = {r[0] for r in fresh_store.conn.execute("SELECT title FROM items")}
    assert "合肥查获假冒知名白酒200余件 案值达6万余元" in titles


def test_one_client_spaces_requests_to_one_host(server):
    with _client(retries=0, host_interval_s=0.2) as c:
        for _ in range(3):
            fetch(c, server + "/etag")
    t = Misbehaving.times["/etag"]
    assert len(t) == 3 and all(b - a >= 0.19 for a, b in zip(t, t[1:]))


def test_backoff_grows_and_has_jitter():
    p = Politeness(retries=3, backoff_s=1.0, rand=lambda a, b: b)
    assert [p.backoff(n) for n in (1, 2, 3)] == [2.0, 3.0, 5.0]
    with pytest.raises(ValueError):
        Politeness(retries=-1)


def test_repeated_failures_back_the_source_off_until_it_expires(server, fresh_store, fixed_judge):
    src = Source(name="s", url=server + "/missing", interval_minutes=30)
    with _client(retries=0) as c:
        for _ in range(BACKOFF_AFTER):
            collect_source(src, fresh_store, fixed_judge, c)
    streaks = failure_streaks(fresh_store)
    failures, last = streaks["s"]
    assert failures == BACKOFF_AFTER
    last_at = datetime.fromisoformat(last)
    assert backoff_until(src, failures, last_at) == last_at + timedelta(minutes=60)
    keep, skipped = backed_off([src], streaks, last_at + timedelta(minutes=59))
    assert keep == [] and skipped[0][0] == src
    keep, _ = backed_off([src], streaks, last_at + timedelta(minutes=61))
    assert keep == [src]

    with _client(retries=0) as c:
        run_forever(1, lambda: [src], fresh_store, fixed_judge, c, rounds=1, sleep=lambda s: None)
    assert len(_runs(fresh_store)) == BACKOFF_AFTER          # skipped: no request, no new run
    assert Misbehaving.hits["/missing"] == BACKOFF_AFTER

    health = source_health(fresh_store, [src]).iloc[0]
    assert health["failures_in_row"] == BACKOFF_AFTER and health["items_per_run"] == 0.0
    with _client(retries=0) as c:
        collect_source(Source(name="s", url=server + "/etag"), fresh_store, fixed_judge, c)
    assert "s" not in failure_streaks(fresh_store)           # one success ends the streak
    assert source_health(fresh_store, [src]).iloc[0]["items_per_run"] == 2.5   # (0+0+0+10) / 4


# -- restart safety ------------------------------------------------------------------

def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPINION_")}
    env.update(PYTHONIOENCODING="utf-8", OPINION_HOST_INTERVAL_S="0", **extra)
    return env


def _finished(db: Path) -> int:
    try:
        with Store(db, readonly=True) as s:
            return s.conn.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]
    except Exception:           # the collector may still be creating the database
        return 0


def test_sigkill_mid_run_then_once_loses_and_duplicates_nothing(server, tmp_path):
    n_sources = 8
    Misbehaving.delay_s = 0.4
    sources = tmp_path / "sources.toml"
    sources.write_text("".join(
        f'[[sources]]\nname = "源{i}"\nurl = "{server}/gen/src{i}"\nkind = "rss"\nplatform = "news"\n\n'
        for i in range(n_sources)), encoding="utf-8")
    db = tmp_path / "o.db"
    cmd = [sys.executable, "-m", "collectors", "run", "--sources", str(sources), "--db", str(db)]
    proc = subprocess.Popen(cmd + ["--every", "60"], cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and _finished(db) < 2:
            time.sleep(0.05)
        assert proc.poll() is None, "the collector exited on its own"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = _finished(db)
    assert 2 <= killed_at < n_sources, "the kill must land mid-run"
    Misbehaving.delay_s = 0.0
    done = subprocess.run(cmd + ["--once"], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr
    with Store(db, readonly=True) as s:
        per_source = dict(s.conn.execute("SELECT source, count(*) FROM items GROUP BY source").fetchall())
        urls = s.conn.execute("SELECT count(*), count(DISTINCT url) FROM items").fetchone()
    assert per_source == {f"源{i}": 40 for i in range(n_sources)}
    assert tuple(urls) == (n_sources * 40, n_sources * 40)
    with collection_lock(lock_path_for(db)) as held:        # the killed process's lock died with it
        assert held == lock_path_for(db)


def test_free_port_refuses_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with _client(retries=2) as c:
        with pytest.raises(FetchError) as e:
            fetch(c, f"http://127.0.0.1:{port}/feed.xml")
    assert not isinstance(e.value, FetchTimeout) and "连接被拒绝（127.0.0.1）" in str(e.value)
