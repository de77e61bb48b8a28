"""The `python -m collectors` command-line contracts, run as real subprocesses.

These are also used by checks outside the suite; see issue 2 "Command-line contracts".
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitor import backup
from monitor.pipeline import collection_lock, lock_path_for
from monitor.store import Store, StoreError

ROOT = Path(__file__).resolve().parent.parent
FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
TIMEOUT = 120


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPINION_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def _cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "collectors", *map(str, args)], cwd=ROOT, env=env or _env(),
                          capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT)


def _rows(db: Path, sql: str) -> list[tuple]:
    with Store(db, readonly=True) as store:
        return [tuple(r) for r in store.conn.execute(sql)]


def test_ingest_file_twice_second_adds_nothing(tmp_path):
    db = tmp_path / "o.db"
    first = _cli("ingest", FEEDS / "gbk_undeclared.xml", "--db", db)
    assert first.returncode == 0, first.stderr
    assert "新增 3 条" in first.stdout
    second = _cli("ingest", FEEDS / "gbk_undeclared.xml", "--db", db, "--json")
    assert second.returncode == 0, second.stderr
    last = json.loads(second.stdout.strip().splitlines()[-1])
    assert last == {"new": 0, "duplicate": 3, "errors": []}
    assert _rows(db, "SELECT count(*) FROM items") == [(3,)]


def test_ingest_partly_readable_feed_exits_0_with_errors(tmp_path):
    db = tmp_path / "o.db"
    done = _cli("ingest", FEEDS / "truncated.xml", "--db", db, "--json", "--source", "截断测试")
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["new"] == 3 and last["duplicate"] == 0
    assert len(last["errors"]) == 1 and "不完整" in last["errors"][0]
    assert _rows(db, "SELECT source, status FROM runs") == [("截断测试", "ok")]


def test_ingest_non_feed_exits_2_one_line_nothing_stored(tmp_path):
    db = tmp_path / "env.db"
    done = _cli("ingest", FEEDS / "not_a_feed.html", "--json", env=_env(OPINION_DB=str(db)))
    assert done.returncode == 2
    # --json answers on stdout even then: the same keys, nothing new, the reason in errors
    assert json.loads(done.stdout) == {"new": 0, "duplicate": 0, "errors": [
        "不是订阅源：返回的是网页（HTML），可能填的是网页地址而不是它的 RSS 地址"]}
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "HTML" in lines[0]
    assert _rows(db, "SELECT count(*) FROM items") == [(0,)]     # OPINION_DB respected, nothing stored


def test_ingest_unreachable_url_exits_2(tmp_path):
    port = _free_port()
    done = _cli("ingest", f"http://127.0.0.1:{port}/feed.xml", "--db", tmp_path / "o.db", "--json")
    assert done.returncode == 2 and json.loads(done.stdout)["errors"] == [done.stderr.split("：", 2)[2].strip()]
    assert len(done.stderr.strip().splitlines()) == 1 and "连接被拒绝（127.0.0.1）" in done.stderr


@pytest.mark.parametrize("target", ["http://[::1", "http://example.cn:99999/feed", "javascript:alert(1)",
                                    "ftp://example.cn/feed.xml"])
def test_ingest_malformed_or_foreign_address_exits_2_one_line(tmp_path, target):
    done = _cli("ingest", target, "--db", tmp_path / "o.db")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "无法识别的地址" in done.stderr


# -- run ----------------------------------------------------------------------------
class _Feeds(BaseHTTPRequestHandler):
    def log_message(self, *args):
        return None

    def do_GET(self):
        if self.path == "/ok.xml":
            body = (FEEDS / "gbk_declared.xml").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(500, "Internal Server Error")


@pytest.fixture
def feed_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Feeds)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _finished_runs(db: Path) -> int:
    """Finished runs so far; 0 while the collector is still creating the database."""
    try:
        return _rows(db, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL")[0][0]
    except (StoreError, sqlite3.OperationalError):
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sources_file(tmp_path, base: str) -> Path:
    p = tmp_path / "sources.toml"
    p.write_text(f'''
[[sources]]
name = "正常源"
url = "{base}/ok.xml"
kind = "rss"
platform = "news"
enabled = true

[[sources]]
name = "出错源"
url = "{base}/broken.xml"
kind = "rss"
platform = "news"
enabled = true

[[sources]]
name = "拒绝连接"
url = "http://127.0.0.1:{_free_port()}/feed.xml"
kind = "rss"
platform = "news"
enabled = true

[[sources]]
name = "停用源"
url = "{base}/ok.xml"
kind = "rss"
platform = "news"
enabled = false
''', encoding="utf-8")
    return p


def test_run_once_json_one_line_per_source(tmp_path, feed_server):
    db = tmp_path / "o.db"
    done = _cli("run", "--once", "--json", "--sources", _sources_file(tmp_path, feed_server), "--db", db)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [set(d) for d in lines] == [{"source", "status", "new", "duplicate", "error"}] * 3
    assert [(d["source"], d["status"], d["new"]) for d in lines] == [
        ("正常源", "ok", 2), ("出错源", "error", 0), ("拒绝连接", "error", 0)]
    assert lines[0]["error"] is None and "服务器出错（HTTP 500" in lines[1]["error"] and "连接被拒绝" in lines[2]["error"]
    assert "[1/3]" in done.stderr and "[3/3]" in done.stderr          # progress goes to stderr only
    runs = _rows(db, "SELECT source, status, new, error IS NOT NULL, finished_at IS NOT NULL FROM runs ORDER BY id")
    assert runs == [("正常源", "ok", 2, 0, 1), ("出错源", "error", 0, 1, 1), ("拒绝连接", "error", 0, 1, 1)]
    again = _cli("run", "--json", "--sources", _sources_file(tmp_path, feed_server), "--db", db)
    assert json.loads(again.stdout.splitlines()[0])["duplicate"] == 2
    # the day's backup is made after the first pass only (the next is due a day later)
    [made] = backup.list_backups(tmp_path / "backups")
    assert "已备份数据库" in done.stderr and "已备份数据库" not in again.stderr
    assert backup.check(made.path).counts["items"] == 2


def test_a_failing_backup_is_said_and_does_not_fail_the_run(tmp_path, feed_server):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    done = _cli("run", "--once", "--sources", _sources_file(tmp_path, feed_server), "--db", tmp_path / "o.db",
                env=_env(OPINION_BACKUP_DIR=str(blocker / "backups")))
    assert done.returncode == 0 and "备份失败：无法创建备份目录" in done.stderr
    assert _rows(tmp_path / "o.db", "SELECT count(*) FROM items") == [(2,)]


def test_run_refuses_while_another_collector_holds_the_lock(tmp_path, feed_server):
    db = tmp_path / "o.db"
    with collection_lock(lock_path_for(db)):
        done = _cli("run", "--once", "--sources", _sources_file(tmp_path, feed_server), "--db", db)
    assert done.returncode == 1 and "另一个采集进程正在使用这个数据库" in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_every_stops_cleanly_on_interrupt(tmp_path, feed_server, signum):
    db = tmp_path / "o.db"
    proc = subprocess.Popen([sys.executable, "-m", "collectors", "run", "--every", "60", "--json", "--sources",
                             str(_sources_file(tmp_path, feed_server)), "--db", str(db)],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8")
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            if _finished_runs(db) == 3:
                break
            time.sleep(0.2)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "采集已停止" in err
    assert len(out.strip().splitlines()) == 3
    with collection_lock(lock_path_for(db)) as held:      # released on the way out, or this raises
        assert held == lock_path_for(db)


class _Slow(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        time.sleep(20)          # the collector is stopped while it waits here
        self.send_error(500)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_run_once_interrupted_exits_non_zero(tmp_path, signum, code):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "慢源"\nurl = "http://127.0.0.1:{httpd.server_address[1]}/feed.xml"\n',
                       encoding="utf-8")
    db = tmp_path / "o.db"
    proc = subprocess.Popen([sys.executable, "-m", "collectors", "run", "--once", "--sources", str(sources),
                             "--db", str(db)], cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if _rows(db, "SELECT count(*) FROM runs")[0][0]:
                    break
            except (StoreError, sqlite3.OperationalError):
                pass
            time.sleep(0.2)
        time.sleep(0.5)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        httpd.shutdown()
        httpd.server_close()
    assert proc.returncode == code, err
    assert "采集已中断" in err and "Traceback" not in err and out == ""
    assert _rows(db, "SELECT status, error FROM runs") == [("error", "采集被中断（采集进程停止）")]


def test_ingest_json_unreadable_prints_a_json_error_and_small_ingests_no_progress(tmp_path, feed_server):
    done = _cli("ingest", f"{feed_server}/broken.xml", "--json", "--db", tmp_path / "o.db")
    assert done.returncode == 2
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["new"] == 0 and result["duplicate"] == 0 and "HTTP 500" in result["errors"][0]
    ok = _cli("ingest", f"{feed_server}/ok.xml", "--db", tmp_path / "o.db")
    assert ok.returncode == 0 and "新增 2 条" in ok.stdout
    assert "已研判入库" not in ok.stderr          # a 2-item feed needs no progress line


def test_sources_lists_and_checks(tmp_path, feed_server):
    good = _cli("sources", "--sources", _sources_file(tmp_path, feed_server))
    assert good.returncode == 0 and "4 个信息源，3 个已启用" in good.stdout and "停用源" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sources]]\nname = "x"\nurl = "ftp://e.cn/f"\n', encoding="utf-8")
    for done in (_cli("sources", "--sources", bad), _cli("run", "--once", "--sources", bad, "--db", tmp_path / "o.db")):
        assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1 and "ftp://" in done.stderr
    bad.write_text('[[sources]]\nname = "x"\nurl = "https://e.cn/f"\nenable = false\n', encoding="utf-8")
    done = _cli("sources", "--sources", bad)
    assert done.returncode == 1 and "第 1 个信息源（「x」）：不认识的设置 enable（可用：name、url" in done.stderr
    assert "unknown" not in done.stderr and "allowed" not in done.stderr


def test_shipped_sources_file_lists():
    done = _cli("sources")
    assert done.returncode == 0 and "Google新闻" in done.stdout and "rsshub:///weibo" in done.stdout


def test_run_applies_schemes_beside_the_sources_file(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "本地源"\nurl = "{(FEEDS / "gbk_undeclared.xml").as_uri()}"\n',
                       encoding="utf-8")
    schemes = tmp_path / "schemes.toml"
    schemes.write_text('[[schemes]]\nname = "白酒打假"\nsubject = ["白酒"]\n', encoding="utf-8")
    done = _cli("run", "--once", "--json", "--sources", sources, "--db", tmp_path / "o.db")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"source": "本地源", "status": "ok", "new": 1, "duplicate": 0, "error": None}
    assert "未命中监测方案 2" in done.stderr
    schemes.write_text('[[schemes]]\nname = "坏方案"\ncombine = "maybe"\nsubject = ["白酒"]\n', encoding="utf-8")
    bad = _cli("run", "--once", "--json", "--sources", sources, "--db", tmp_path / "o.db")
    assert bad.returncode == 1 and bad.stdout == "" and "监测方案" in bad.stderr


@pytest.mark.parametrize("minutes", ["nan", "inf", "-1", "0", "1e-9", "abc"])
def test_run_every_refuses_minutes_that_would_spin_or_never_come(tmp_path, minutes):
    done = _cli("run", "--every", minutes, "--db", tmp_path / "o.db")
    assert done.returncode == 2 and "MINUTES" in done.stderr and not (tmp_path / "o.db").exists()
