"""立即采集: the dashboard inserts a request, the running collector answers it with progress."""
from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.http import make_client
from collectors.registry import Source
from monitor import request_store, users
from monitor.pipeline import run_forever
from monitor.store import Store
from ui import auth
from tests.conftest import role_accounts

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "ui" / "pages" / "sources.py")


def _feed(path: str, n: int) -> bytes:
    items = "".join(f"<item><title>{path} 第{i}条 商标侵权通报</title><link>http://x.example.cn{path}/{i}.html</link>"
                    f"<description>{path} 第{i}条正文</description></item>" for i in range(n))
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}' \
           f"</channel></rss>".encode()


class Growing(BaseHTTPRequestHandler):
    """Each hit serves one more item than the last, so a second pass has something new."""
    hits: Counter = Counter()

    def log_message(self, *args):
        return None

    def do_GET(self):
        type(self).hits[self.path] += 1
        body = _feed(self.path, 2 + type(self).hits[self.path])
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    Growing.hits = Counter()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Growing)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def accounts(fresh_store):
    return role_accounts(fresh_store)


def test_only_handlers_and_admins_may_request(fresh_store, accounts):
    for role in ("viewer", "editor"):
        with pytest.raises(users.UserError):
            request_store.request_collect(fresh_store, accounts[role])
    assert request_store.latest(fresh_store) is None
    first = request_store.request_collect(fresh_store, accounts["handler"])
    assert request_store.request_collect(fresh_store, accounts["admin"]) == first     # one open request
    req = request_store.latest(fresh_store)
    assert req["status"] == "pending" and req["requested_by"] == "handler1"
    assert request_store.pending(fresh_store) == first


def test_running_collector_answers_a_request_with_progress(server, fresh_store, fixed_judge, accounts, tmp_path):
    sources = [Source(name=f"源{i}", url=f"{server}/f{i}.xml", interval_minutes=600) for i in range(3)]
    stop = threading.Event()
    rounds = []
    collector_store = Store(fresh_store.path, check_same_thread=False)
    client = make_client("t")

    def collector():
        rounds.append(run_forever(60, lambda: sources, collector_store, fixed_judge, client, stop=stop,
                                  poll_s=0.05, lock_path=tmp_path / "lock"))

    worker = threading.Thread(target=collector)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(Growing.hits.values()) < 3:
            time.sleep(0.05)
        assert sum(Growing.hits.values()) == 3               # first round: each source once, then it waits
        req = request_store.request_collect(fresh_store, accounts["handler"])
        while time.monotonic() < deadline and request_store.latest(fresh_store)["status"] not in ("done", "failed"):
            time.sleep(0.05)
        done = request_store.latest(fresh_store)
    finally:
        stop.set()
        worker.join(timeout=30)
        client.close()
        collector_store.close()
    assert not worker.is_alive() and rounds == [2]
    assert done["id"] == req and done["status"] == "done" and done["message"] is None
    # within their 600-minute intervals, yet collected again because someone asked
    assert all(n == 2 for n in Growing.hits.values())
    assert (done["total"], done["done"], done["new"], done["failed"]) == (3, 3, 3, 0)
    assert done["started_at"] >= done["requested_at"] and done["finished_at"] >= done["started_at"]


def test_a_request_left_running_by_a_killed_collector_is_failed_on_restart(fresh_store, fixed_judge, accounts,
                                                                          tmp_path):
    req = request_store.request_collect(fresh_store, accounts["admin"])
    request_store.mark_started(fresh_store, req, 5)
    with make_client("t") as client:
        run_forever(60, lambda: [], fresh_store, fixed_judge, client, rounds=1, sleep=lambda s: None,
                    lock_path=tmp_path / "lock")
    left = request_store.latest(fresh_store)
    assert left["status"] == "failed" and "中断" in left["message"]
    assert request_store.pending(fresh_store) is None


def test_sources_page_button_inserts_a_request_and_shows_its_state(tmp_path, monkeypatch):
    db = tmp_path / "opinion.db"
    shutil.copy(ROOT / "data" / "sources.toml", tmp_path / "sources.toml")
    monkeypatch.setenv("OPINION_DB", str(db))
    monkeypatch.setenv("OPINION_SOURCES", str(tmp_path / "sources.toml"))
    with Store(db) as s:
        admin = users.add_user(s, "admin1", "office pass 1", "admin", actor="cli:test",
                               now=datetime.now(timezone.utc))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[auth.SESSION_KEY] = auth.session_for(admin)
    at.run()
    assert not at.exception
    at.button(key="collect_now").click().run()
    assert not at.exception
    with Store(db, readonly=True) as s:
        req = request_store.latest(s)
    assert req["status"] == "pending" and req["requested_by"] == "admin1"
    assert any("等待采集进程" in c.value for c in at.caption)
    with Store(db) as s:
        request_store.mark_started(s, req["id"], 4)
        request_store.mark_progress(s, req["id"], done=1, new=7, failed=0)
    at.run()
    assert any("采集中" in c.value and "1/4" in c.value and "新增 7 条" in c.value for c in at.caption)
