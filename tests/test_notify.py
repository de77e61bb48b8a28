"""Channels against real servers on 127.0.0.1: an aiosmtpd SMTP server and an http.server robot.

Asserts the payload of each robot format, the digest, signing, and that an
unreachable server is recorded and retried with backoff without raising.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.base import Item
from monitor import alert_store, alerts, notify
from monitor.settings import Settings
from monitor.store import Store, iso
from sentiment.judgement import Judgement



# -- servers -----------------------------------------------------------------------------------------

class Robot:
    """A local robot endpoint: records each POST; the answer depends on the path."""

    ANSWERS = {"/wecom": (200, {"errcode": 0, "errmsg": "ok"}), "/dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
               "/feishu": (200, {"code": 0, "msg": "success"}), "/hook": (200, {}),
               "/rejects": (200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
               "/broken": (500, {"error": "boom"})}

    def __init__(self):
        self.requests: list[dict] = []
        self.hang = threading.Event()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parts = urllib.parse.urlsplit(self.path)
                robot.requests.append({"path": parts.path, "query": urllib.parse.parse_qs(parts.query),
                                       "headers": dict(self.headers), "json": json.loads(body.decode("utf-8"))})
                if parts.path == "/slow":
                    robot.hang.wait(5)
                status, answer = robot.ANSWERS.get(parts.path, (404, {}))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                """Keep the test output free of the server's request log."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.hang.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


class Inbox:
    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    smtpd = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is not installed (pip install aiosmtpd)")
    inbox = Inbox()
    controller = smtpd.Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- helpers -----------------------------------------------------------------------------------------

def config(robot_base: str = "http://127.0.0.1:9", smtp_port: int | None = None, **env) -> notify.NotifyConfig:
    raw = {
        "dashboard_url": "http://yuqing.example/",
        "max_attempts": 3, "backoff_seconds": 60, "backoff_cap_seconds": 600,
        "channels": [
            {"name": "企业微信", "kind": "wecom", "url": f"{robot_base}/wecom?key=abc"},
            {"name": "钉钉", "kind": "dingtalk", "url": f"{robot_base}/dingtalk?access_token=t", "secret_env": "DT_SECRET"},
            {"name": "飞书", "kind": "feishu", "url_env": "FEISHU_URL", "secret_env": "FS_SECRET"},
            {"name": "内部系统", "kind": "webhook", "url": f"{robot_base}/hook", "timeout_seconds": 2},
        ],
    }
    if smtp_port is not None:
        raw["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "security": "none", "sender": "yuqing@example.gov.cn"}
        raw["channels"].append({"name": "邮件", "kind": "email", "to": ["a@example.gov.cn", "b@example.gov.cn"]})
    environment = {"DT_SECRET": "SEC-ding", "FS_SECRET": "fs-secret", "FEISHU_URL": f"{robot_base}/feishu"} | env
    return notify.parse_config(raw, environment)


def fire(store: Store, now: datetime, channels: list[str], title: str = "合肥某企业专利维权难",
         mode: str = "realtime", rule_name: str = "关注词") -> list[int]:
    r = alerts.parse_rule(rule_name, "watchword", {"words": ["维权难", "假冒"]},
                          {"channels": channels, "mode": mode})
    existing = alert_store.rule_by_name(store, rule_name)
    alerts.save_rule(store, alerts.Rule(existing["id"] if existing else None, r.name, r.kind, r.params,
                                        r.delivery, True), actor="cli:test", now=now)
    item = Item(source="人民网", url=f"https://news.example/{abs(hash((title, now)))}", title=title,
                text=title + "。正文", published_at=now, fetched_at=now, platform="news")
    store.add_items([(item, Judgement(negative=True, p_negative=0.9, polarity="negative"))])
    return alerts.evaluate(store, Settings.load(db=store.path, env={}), now).fired


# -- formats ----------------------------------------------------------------------------------------

def test_each_robot_format_reaches_a_local_server(fresh_store, frozen_now, robot):
    cfg = config(robot.base)
    fire(fresh_store, frozen_now, ["企业微信", "钉钉", "飞书", "内部系统"])
    report = notify.deliver_due(fresh_store, cfg, frozen_now)
    assert (report.sent, report.failed, report.errors) == (4, 0, [])
    got = {r["path"]: r for r in robot.requests}
    assert set(got) == {"/wecom", "/dingtalk", "/feishu", "/hook"}

    text = got["/wecom"]["json"]["text"]["content"]
    assert got["/wecom"]["json"] == {"msgtype": "text", "text": {"content": text}}
    assert got["/wecom"]["query"] == {"key": ["abc"]}
    assert text.startswith("【舆情预警】\n[关注词] 关注词「维权难」：合肥某企业专利维权难")
    assert "时间：2026-11-20 17:30（北京时间）" in text and "人民网：合肥某企业专利维权难 https://news.example/" in text
    assert text.endswith("查看与处置：http://yuqing.example/")
    assert got["/wecom"]["headers"]["Content-Type"] == "application/json; charset=utf-8"

    ding = got["/dingtalk"]
    assert ding["json"] == {"msgtype": "text", "text": {"content": text}}
    ts = ding["query"]["timestamp"][0]
    assert ts == str(int(frozen_now.timestamp() * 1000))
    expected = base64.b64encode(hmac.new(b"SEC-ding", f"{ts}\nSEC-ding".encode(), hashlib.sha256).digest()).decode()
    assert ding["query"]["sign"] == [expected] and ding["query"]["access_token"] == ["t"]

    fs = got["/feishu"]["json"]
    assert fs["msg_type"] == "text" and fs["content"] == {"text": text}
    assert fs["timestamp"] == str(int(frozen_now.timestamp()))
    assert fs["sign"] == base64.b64encode(hmac.new(f"{fs['timestamp']}\nfs-secret".encode(), b"",
                                                   hashlib.sha256).digest()).decode()

    hook = got["/hook"]["json"]
    assert hook["event"] == "opinion_alert" and hook["text"] == text and hook["sent_at"] == iso(frozen_now)
    [alert] = hook["alerts"]
    assert alert["rule"] == "关注词" and alert["kind"] == "watchword" and alert["fired_at"] == iso(frozen_now)
    assert alert["title"] == "关注词「维权难」：合肥某企业专利维权难" and alert["subject"].startswith(("story:", "item:"))
    assert {d["status"] for d in alerts.deliveries(fresh_store)} == {"sent"}
    # nothing is due any more
    assert notify.deliver_due(fresh_store, cfg, frozen_now + timedelta(minutes=5)).sent == 0


def test_email_is_delivered_to_a_real_smtp_server(fresh_store, frozen_now, smtp_server):
    controller, inbox = smtp_server
    cfg = config(smtp_port=controller.port)
    fire(fresh_store, frozen_now, ["邮件"])
    assert notify.deliver_due(fresh_store, cfg, frozen_now).sent == 1
    [(sender, rcpts, raw)] = inbox.messages
    assert sender == "yuqing@example.gov.cn" and rcpts == ["a@example.gov.cn", "b@example.gov.cn"]
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "【舆情预警】关注词「维权难」：合肥某企业专利维权难"
    body = msg.get_content()
    assert "[关注词] 关注词「维权难」：合肥某企业专利维权难" in body and "查看与处置：http://yuqing.example/" in body


def test_a_digest_bundles_what_is_due_into_one_message(fresh_store, frozen_now, robot):
    cfg = config(robot.base)
    fire(fresh_store, frozen_now - timedelta(minutes=20), ["企业微信"], "第一条：假冒商品", mode="digest")
    fire(fresh_store, frozen_now - timedelta(minutes=10), ["企业微信"], "第二条：维权难", mode="digest")
    # 17:10 and 17:20 Beijing with 60-minute slots: both due at 18:00 Beijing
    assert notify.deliver_due(fresh_store, cfg, frozen_now).sent == 0
    assert robot.requests == []
    assert notify.deliver_due(fresh_store, cfg, datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)).sent == 1
    [req] = robot.requests
    text = req["json"]["text"]["content"]
    assert text.startswith("【舆情预警】共 2 条\n1. [关注词]") and "2. [关注词]" in text
    assert text.index("第一条") < text.index("第二条")


def test_hostile_text_stays_plain_and_long_text_is_cut_to_the_platform_limit(fresh_store, frozen_now, robot):
    cfg = config(robot.base)
    evil = "维权难 [点我](http://evil.example)\n[关注词] 伪造的第二条预警 <script>x</script>" + "长" * 3000
    fire(fresh_store, frozen_now, ["企业微信", "内部系统"], evil)
    notify.deliver_due(fresh_store, cfg, frozen_now)
    got = {r["path"]: r["json"] for r in robot.requests}
    wecom = got["/wecom"]["text"]["content"]
    assert "\n[关注词] 伪造" not in wecom            # a newline in a title cannot forge a second alert line
    assert got["/wecom"]["text"].keys() == {"content"}  # text message type: no markdown rendering
    assert got["/hook"]["alerts"][0]["title"].count("\n") == 0


def test_a_long_digest_is_cut_to_each_platform_limit(frozen_now):
    firings = [{"rule_name": "关注词", "title": f"第 {i} 条" + "长" * 60, "fired_at": iso(frozen_now),
                "detail": "· 人民网：" + "正文" * 40} for i in range(40)]
    message = notify.compose(firings)
    for kind, key in (("wecom", "content"), ("dingtalk", "content")):
        _, body = notify.robot_request(notify.Channel("x", kind, url="https://x"), message, frozen_now)
        text = body["text"][key]
        assert len(text.encode("utf-8")) <= notify.TEXT_LIMITS[kind] < len(message.text.encode("utf-8"))
        assert text.startswith("【舆情预警】共 40 条") and text.endswith("请到系统中查看全部）")
    # with a dashboard address the cut keeps it as the last line: the note sends people there
    linked = notify.compose(firings, "http://yuqing.example/")
    for kind in ("wecom", "dingtalk"):
        _, body = notify.robot_request(notify.Channel("x", kind, url="https://x"), linked, frozen_now)
        text = body["text"]["content"]
        assert len(text.encode("utf-8")) <= notify.TEXT_LIMITS[kind]
        assert text.endswith("请到系统中查看全部）\n查看与处置：http://yuqing.example/")


# -- failures and retries -----------------------------------------------------------------------------

def test_unreachable_webhook_is_recorded_and_retried_with_backoff(fresh_store, frozen_now):
    port = free_port()   # nothing listens here
    cfg = config(f"http://127.0.0.1:{port}")
    fired = fire(fresh_store, frozen_now, ["企业微信"])
    settings = Settings.load(db=fresh_store.path, env={})
    report = alerts.evaluate_and_notify(fresh_store, settings, frozen_now, config=cfg)   # does not raise
    assert report.delivery.failed == 1 and "无法连接" in report.errors[0]
    [d] = alerts.deliveries(fresh_store)
    assert (d["status"], d["attempts"], d["due_at"]) == ("queued", 1, iso(frozen_now + timedelta(seconds=60)))
    assert "无法连接" in d["last_error"] and d["firing_id"] == fired[0]
    # not before the backoff has passed
    assert notify.deliver_due(fresh_store, cfg, frozen_now + timedelta(seconds=59)).failed == 0
    t2 = frozen_now + timedelta(seconds=60)
    assert notify.deliver_due(fresh_store, cfg, t2).failed == 1
    [d] = alerts.deliveries(fresh_store)
    assert (d["attempts"], d["due_at"]) == (2, iso(t2 + timedelta(seconds=120)))
    # third failure reaches max_attempts=3: given up, kept as failed
    report = notify.deliver_due(fresh_store, cfg, t2 + timedelta(seconds=120))
    assert (report.failed, report.gave_up) == (0, 1)
    [d] = alerts.deliveries(fresh_store)
    assert (d["status"], d["attempts"]) == ("failed", 3)
    assert notify.deliver_due(fresh_store, cfg, t2 + timedelta(days=1)).gave_up == 0


def test_a_retry_succeeds_once_the_server_is_back(fresh_store, frozen_now, robot):
    down = config(f"http://127.0.0.1:{free_port()}")
    fire(fresh_store, frozen_now, ["内部系统"])
    assert notify.deliver_due(fresh_store, down, frozen_now).failed == 1
    up = config(robot.base)
    assert notify.deliver_due(fresh_store, up, frozen_now + timedelta(minutes=1)).sent == 1
    [d] = alerts.deliveries(fresh_store)
    assert (d["status"], d["attempts"], d["last_error"]) == ("sent", 2, "")
    assert len(robot.requests) == 1


def test_unreachable_smtp_server_is_recorded_not_raised(fresh_store, frozen_now):
    cfg = config(smtp_port=free_port())
    fire(fresh_store, frozen_now, ["邮件"])
    report = alerts.evaluate_and_notify(fresh_store, Settings.load(db=fresh_store.path, env={}), frozen_now,
                                        config=cfg)
    assert report.delivery.failed == 1
    [d] = alerts.deliveries(fresh_store)
    assert d["status"] == "queued" and d["attempts"] == 1 and "SMTP 发送失败" in d["last_error"]


@pytest.mark.parametrize("path, error", [("/rejects", "errcode=93000 invalid webhook url"),
                                         ("/broken", "HTTP 500"), ("/missing", "HTTP 404")])
def test_robot_refusals_are_failures(robot, frozen_now, path, error):
    ch = notify.Channel(name="x", kind="wecom", url=robot.base + path)
    result = notify.send(ch, notify.Message("s", "t"), notify.NotifyConfig(), frozen_now)
    assert not result.ok and error in result.error


def test_a_hanging_robot_times_out(robot, frozen_now):
    ch = notify.Channel(name="x", kind="webhook", url=robot.base + "/slow", timeout=0.3)
    result = notify.send(ch, notify.Message("s", "t"), notify.NotifyConfig(), frozen_now)
    assert not result.ok and "timed out" in result.error


def test_channel_without_address_fails_alone(fresh_store, frozen_now, robot):
    raw = {"channels": [{"name": "飞书", "kind": "feishu", "url_env": "NOT_SET"},
                        {"name": "企业微信", "kind": "wecom", "url": robot.base + "/wecom"}]}
    cfg = notify.parse_config(raw, {})
    fire(fresh_store, frozen_now, ["飞书", "企业微信"])
    report = notify.deliver_due(fresh_store, cfg, frozen_now)
    assert (report.sent, report.failed) == (1, 1) and "NOT_SET" in report.errors[0]


def test_test_send_is_recorded(fresh_store, frozen_now, robot):
    cfg = config(robot.base)
    assert notify.test_send(fresh_store, cfg, "企业微信", frozen_now).ok
    assert robot.requests[0]["json"]["text"]["content"].startswith("【舆情预警】测试消息：渠道「企业微信」")
    bad = notify.test_send(fresh_store, cfg, "不存在", frozen_now)
    assert not bad.ok and "企业微信" in bad.error
    rows = alerts.deliveries(fresh_store)
    assert [(r["channel"], r["status"], r["title"]) for r in rows] == [
        ("不存在", "failed", "（测试发送）"), ("企业微信", "sent", "（测试发送）")]


# -- configuration --------------------------------------------------------------------------------------

def test_config_file_with_secrets_from_the_environment(tmp_path):
    f = tmp_path / "config.local.toml"
    f.write_text('[notify]\n[notify.smtp]\nhost = "smtp.example"\npassword_env = "MY_PW"\nsender = "a@b.cn"\n'
                 '[[notify.channels]]\nname = "群"\nkind = "dingtalk"\nurl_env = "HOOK"\n', encoding="utf-8")
    cfg = notify.NotifyConfig.load(f, env={"MY_PW": "s3cret", "HOOK": "https://oapi.dingtalk.com/robot/send?x=1",
                                           "OPINION_SMTP_PORT": "2525", "OPINION_SMTP_SECURITY": "starttls"})
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.security, cfg.smtp.password) == ("smtp.example", 2525, "starttls", "s3cret")
    assert "s3cret" not in repr(cfg) and "x=1" not in repr(cfg)
    assert cfg.channels["群"].url.endswith("x=1")
    assert all("x=1" not in c["target"] for c in notify.describe_channels(cfg))
    # a file named explicitly, or by $OPINION_CONFIG (a typo there turned e-mail and robots off), must exist
    with pytest.raises(notify.NotifyConfigError, match="不存在（由环境变量 OPINION_CONFIG 指定）"):
        notify.NotifyConfig.load(env={"OPINION_CONFIG": str(tmp_path / "config.tmol")})
    with pytest.raises(notify.NotifyConfigError, match="不存在"):
        notify.NotifyConfig.load(tmp_path / "absent.toml", env={})
    # an unset or empty variable means the default place, where no file just means dashboard only
    monkey = dict(OPINION_CONFIG="")
    assert notify.NotifyConfig.load(env=monkey).source == str(notify.DEFAULT_CONFIG)


@pytest.mark.parametrize("raw, message", [
    ({"smtp": {"host": "h", "password": "x", "sender": "a@b"}}, "password_env"),
    ({"smtp": {"host": "h", "security": "tls", "sender": "a@b"}}, "security"),
    ({"channels": [{"name": "x", "kind": "slack", "url": "https://x"}]}, "kind"),
    ({"channels": [{"name": "x", "kind": "wecom", "url": "ftp://x"}]}, "http"),
    ({"channels": [{"name": "x", "kind": "wecom", "url": "https://x", "secret": "s"}]}, "secret_env"),
    ({"channels": [{"name": "x", "kind": "email", "to": ["a@b"]}]}, "SMTP"),
    ({"channels": [{"name": "x", "kind": "wecom", "url": "https://a"}, {"name": "x", "kind": "wecom", "url": "https://b"}]}, "重复"),
    ({"max_attempts": 0}, "max_attempts"),
    ({"webhooks": []}, "未知的键"),
])
def test_bad_notify_config_is_refused_with_a_message(raw, message):
    with pytest.raises(notify.NotifyConfigError, match=message):
        notify.parse_config(raw, {})


def test_example_config_parses(tmp_path):
    from monitor.settings import PROJECT_ROOT
    cfg = notify.NotifyConfig.load(PROJECT_ROOT / "config.example.toml", env={})
    assert set(notify.CHANNEL_KINDS) == {c.kind for c in cfg.channels.values()}
    assert cfg.smtp is not None and cfg.smtp.password == ""


def test_a_delivery_taken_by_one_sender_is_not_sent_again_by_another(fresh_store, frozen_now, robot):
    """`alerts evaluate` by hand while the collector's evaluation is sending: each message goes out once. A
    sender that died mid-send leaves its claim; after the lease the delivery is due again, not lost."""
    cfg = config(robot.base)
    fire(fresh_store, frozen_now, ["企业微信"])
    with Store(fresh_store.path) as other:                      # the other process, mid-send
        [taken] = alert_store.claim_due(other, iso(frozen_now), iso(frozen_now + notify.SEND_LEASE))
    assert [d["status"] for d in alerts.deliveries(fresh_store)] == ["sending"]
    assert notify.deliver_due(fresh_store, cfg, frozen_now + timedelta(seconds=5)).sent == 0
    assert robot.requests == []
    # the other sender never finished: after its lease the delivery goes out, once
    later = frozen_now + notify.SEND_LEASE + timedelta(seconds=1)
    assert notify.deliver_due(fresh_store, cfg, later).sent == 1
    assert notify.deliver_due(fresh_store, cfg, later + timedelta(minutes=30)).sent == 0
    assert len(robot.requests) == 1 and [d["status"] for d in alerts.deliveries(fresh_store)] == ["sent"]


def test_a_failed_send_goes_back_to_the_queue_for_its_retry(fresh_store, frozen_now):
    cfg = config("http://127.0.0.1:9")                          # nothing listens: the send fails
    fire(fresh_store, frozen_now, ["企业微信"])
    assert notify.deliver_due(fresh_store, cfg, frozen_now).failed == 1
    [d] = alerts.deliveries(fresh_store)
    assert (d["status"], d["attempts"]) == ("queued", 1) and d["due_at"] > iso(frozen_now)
