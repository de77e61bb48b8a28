"""Channels that carry alerts to people: email (SMTP) and robot webhooks (企业微信, 钉钉, 飞书, generic JSON).

The dashboard itself is always a channel: every firing is listed there (and
shown as a banner) without any delivery row.

Design choices:
- HTTP goes through `urllib.request` with an explicit timeout, here, not through
  httpx in collectors/: a webhook POST is one JSON request with no need for
  httpx's pooling or conditional GET, and collectors/ must not learn about
  alerts. Tests drive a real http.server on 127.0.0.1.
- Nothing in here raises into the caller for a delivery problem: every failure
  becomes a `DeliveryResult(ok=False, error=...)`, is recorded on the delivery
  row and retried with exponential backoff until `max_attempts`.
- Robot messages use the plain-text message type of each platform, never
  markdown: item titles are hostile text and must not become links or markup.
- Credentials (SMTP password, webhook URLs with their keys, signing secrets)
  come from the environment or from the git-ignored config.local.toml.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import smtplib
import ssl
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Mapping, Sequence

from monitor import alert_store
from monitor.settings import PROJECT_ROOT
from monitor.store import Store, iso

log = logging.getLogger(__name__)

CHANNEL_KINDS = {"email": "邮件", "wecom": "企业微信机器人", "dingtalk": "钉钉机器人", "feishu": "飞书机器人",
                 "webhook": "通用 JSON Webhook"}
DASHBOARD = "dashboard"
ENV_CONFIG = "OPINION_CONFIG"
DEFAULT_CONFIG = PROJECT_ROOT / "config.local.toml"
BEIJING = timezone(timedelta(hours=8))
# Platform limits on a text message (bytes of UTF-8); longer messages are cut with a note.
TEXT_LIMITS = {"wecom": 2000, "dingtalk": 18000, "feishu": 18000, "webhook": 60000, "email": 200000}
# DingTalk robots with "custom keyword" security only accept messages containing the keyword.
MESSAGE_TAG = "【舆情预警】"
USER_AGENT = "IPOpinionWatch/0.1 alerts"

_SMTP_ENV = {"host": "OPINION_SMTP_HOST", "port": "OPINION_SMTP_PORT", "security": "OPINION_SMTP_SECURITY",
             "username": "OPINION_SMTP_USER", "password": "OPINION_SMTP_PASSWORD", "sender": "OPINION_SMTP_FROM"}


class NotifyConfigError(ValueError):
    """The notification settings cannot be used as written; the message says where and why."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 465
    security: str = "ssl"            # ssl | starttls | none
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""
    timeout: float = 10.0


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str                         # one of CHANNEL_KINDS
    url: str = field(default="", repr=False)      # robot/webhook address; holds the robot key
    secret: str = field(default="", repr=False)   # DingTalk / Feishu signing secret
    to: tuple[str, ...] = ()          # email recipients
    timeout: float = 10.0
    missing: str = ""                 # why this channel cannot send (its address is not set)


@dataclass(frozen=True)
class NotifyConfig:
    channels: Mapping[str, Channel] = field(default_factory=dict)
    smtp: SmtpConfig | None = None
    dashboard_url: str = ""
    max_attempts: int = 6
    backoff_seconds: int = 60
    backoff_cap_seconds: int = 3600
    source: str = ""                  # where it was read from, for messages

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, env: Mapping[str, str] | None = None) -> "NotifyConfig":
        """config.local.toml (or $OPINION_CONFIG), its `*_env` references and OPINION_SMTP_* resolved from `env`.

        A missing default file is not an error: alerts then go to the dashboard only. A file named
        explicitly (`path`, or $OPINION_CONFIG) that does not exist is one: a typo must not silently turn
        notification off.
        """
        env = os.environ if env is None else env
        named = path if path is not None else env.get(ENV_CONFIG)
        p = Path(named) if named else Path(DEFAULT_CONFIG)
        doc: dict[str, Any] = {}
        if named and not p.exists():
            how = "" if path is not None else f"（由环境变量 {ENV_CONFIG} 指定）"
            raise NotifyConfigError(f"{p}: 通知配置文件不存在{how}")
        if p.exists():
            try:
                doc = tomllib.loads(p.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
                raise NotifyConfigError(f"{p}: 不是有效的 TOML：{e}") from None
        return parse_config(doc.get("notify", {}), env, where=str(p))


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str], where: str = "config") -> NotifyConfig:
    if not isinstance(raw, Mapping):
        raise NotifyConfigError(f"{where}: [notify] 应是一个表")
    allowed = {"dashboard_url", "max_attempts", "backoff_seconds", "backoff_cap_seconds", "smtp", "channels"}
    if unknown := set(raw) - allowed:
        raise NotifyConfigError(f"{where}: [notify] 中有未知的键 {sorted(unknown)}；可用：{', '.join(sorted(allowed))}")
    smtp = _smtp(raw.get("smtp", {}), env, where)
    channels: dict[str, Channel] = {}
    items = raw.get("channels", [])
    if not isinstance(items, list):
        raise NotifyConfigError(f"{where}: 渠道应写成 [[notify.channels]] 表")
    for i, table in enumerate(items, start=1):
        ch = _channel(table, env, f"{where}: 渠道 #{i}")
        if ch.name in channels or ch.name == DASHBOARD:
            raise NotifyConfigError(f"{where}: 渠道名 {ch.name!r} 重复或保留")
        if ch.kind == "email" and smtp is None:
            raise NotifyConfigError(f"{where}: 渠道 {ch.name!r} 是邮件，但没有配置 SMTP（[notify.smtp] 或 OPINION_SMTP_HOST）")
        channels[ch.name] = ch
    try:
        attempts = int(raw.get("max_attempts", 6))
        backoff = int(raw.get("backoff_seconds", 60))
        cap = int(raw.get("backoff_cap_seconds", 3600))
    except (TypeError, ValueError):
        raise NotifyConfigError(f"{where}: max_attempts / backoff_seconds / backoff_cap_seconds 必须是整数") from None
    if attempts < 1 or backoff < 1 or cap < backoff:
        raise NotifyConfigError(f"{where}: 需要 max_attempts ≥ 1、backoff_seconds ≥ 1、backoff_cap_seconds ≥ backoff_seconds")
    return NotifyConfig(channels=channels, smtp=smtp, dashboard_url=str(raw.get("dashboard_url", "")),
                        max_attempts=attempts, backoff_seconds=backoff, backoff_cap_seconds=cap, source=where)


def _smtp(raw: Any, env: Mapping[str, str], where: str) -> SmtpConfig | None:
    if not isinstance(raw, Mapping):
        raise NotifyConfigError(f"{where}: [notify.smtp] 应是一个表")
    allowed = {"host", "port", "security", "username", "password_env", "sender", "timeout_seconds"}
    if unknown := set(raw) - allowed:
        hint = "（密码请放在环境变量中，用 password_env 指明变量名）" if "password" in unknown else ""
        raise NotifyConfigError(f"{where}: [notify.smtp] 中有未知的键 {sorted(unknown)}{hint}")
    values = {k: raw[k] for k in ("host", "port", "security", "username", "sender") if k in raw}
    for key, var in _SMTP_ENV.items():
        if env.get(var):
            values[key] = env[var]
    if raw.get("password_env"):
        values["password"] = env.get(str(raw["password_env"]), "")
    if not values.get("host"):
        return None
    security = str(values.get("security", "ssl")).lower()
    if security not in ("ssl", "starttls", "none"):
        raise NotifyConfigError(f"{where}: SMTP security 必须是 ssl、starttls 或 none，收到 {security!r}")
    try:
        port = int(values.get("port", 465 if security == "ssl" else 587 if security == "starttls" else 25))
        timeout = float(raw.get("timeout_seconds", 10))
    except (TypeError, ValueError):
        raise NotifyConfigError(f"{where}: SMTP port / timeout_seconds 必须是数字") from None
    sender = str(values.get("sender") or values.get("username") or "")
    if not sender:
        raise NotifyConfigError(f"{where}: SMTP 需要发件人地址（sender 或 OPINION_SMTP_FROM）")
    return SmtpConfig(host=str(values["host"]), port=port, security=security, username=str(values.get("username", "")),
                      password=str(values.get("password", "")), sender=sender, timeout=timeout)


def _channel(raw: Any, env: Mapping[str, str], where: str) -> Channel:
    if not isinstance(raw, Mapping):
        raise NotifyConfigError(f"{where}: 应是一个表")
    allowed = {"name", "kind", "url", "url_env", "secret_env", "to", "timeout_seconds"}
    if unknown := set(raw) - allowed:
        hint = "（签名密钥请放在环境变量中，用 secret_env 指明变量名）" if "secret" in unknown else ""
        raise NotifyConfigError(f"{where}: 未知的键 {sorted(unknown)}{hint}")
    name = str(raw.get("name", "")).strip()
    kind = str(raw.get("kind", "")).strip()
    if not name:
        raise NotifyConfigError(f"{where}: 缺少 name")
    where = f"{where}（{name}）"
    if kind not in CHANNEL_KINDS:
        raise NotifyConfigError(f"{where}: kind 必须是 {', '.join(CHANNEL_KINDS)} 之一，收到 {kind!r}")
    try:
        timeout = float(raw.get("timeout_seconds", 10))
    except (TypeError, ValueError):
        raise NotifyConfigError(f"{where}: timeout_seconds 必须是数字") from None
    if kind == "email":
        to = raw.get("to", [])
        to = [to] if isinstance(to, str) else to
        if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a for a in to):
            raise NotifyConfigError(f"{where}: 邮件渠道需要 to = [\"收件人@...\", ...]")
        return Channel(name=name, kind=kind, to=tuple(a.strip() for a in to), timeout=timeout)
    url = str(raw.get("url", "")).strip()
    if raw.get("url_env"):
        url = env.get(str(raw["url_env"]), "").strip() or url
    if not url:
        # Not fatal for the whole file: the other channels still deliver, this one records why it cannot.
        var = f"环境变量 {raw['url_env']}" if raw.get("url_env") else "url"
        return Channel(name=name, kind=kind, timeout=timeout, missing=f"渠道「{name}」没有地址：请设置 {var}")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise NotifyConfigError(f"{where}: 地址必须以 http:// 或 https:// 开头")
    secret = env.get(str(raw["secret_env"]), "") if raw.get("secret_env") else ""
    return Channel(name=name, kind=kind, url=url, secret=secret, timeout=timeout)


# -- messages ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    alerts: tuple[dict, ...] = ()     # the firings behind it, for the generic webhook


def _clean(text: Any) -> str:
    # Control characters and line breaks in collected text would forge message structure.
    return " ".join(str(text or "").split())


def local_time(value: str | datetime) -> str:
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def compose(firings: Sequence[Mapping[str, Any]], dashboard_url: str = "") -> Message:
    """One message for one or more firings (a digest lists them all)."""
    if not firings:
        raise ValueError("nothing to send")
    n = len(firings)
    first = _clean(firings[0]["title"])
    subject = f"{MESSAGE_TAG}{first}" if n == 1 else f"{MESSAGE_TAG}{n} 条预警：{first} 等"
    lines = [MESSAGE_TAG + (f"共 {n} 条" if n > 1 else "")]
    for i, f in enumerate(firings, start=1):
        prefix = f"{i}. " if n > 1 else ""
        lines.append(f"{prefix}[{_clean(f['rule_name'])}] {_clean(f['title'])}")
        lines.append(f"   时间：{local_time(f['fired_at'])}（北京时间）")
        for d in str(f.get("detail") or "").splitlines():
            if d.strip():
                lines.append(f"   {_clean(d)}")
    if dashboard_url:
        lines.append(f"{LINK_LABEL}{dashboard_url}")
    alerts = tuple({"id": f.get("firing_id", f.get("id")), "rule": f["rule_name"], "kind": f.get("kind", ""),
                    "subject": f.get("subject", ""), "fired_at": f["fired_at"], "title": f["title"],
                    "detail": f.get("detail", "")} for f in firings)
    return Message(subject=subject, text="\n".join(lines), alerts=alerts)


def test_message(channel: Channel, now: datetime, dashboard_url: str = "") -> Message:
    text = (f"{MESSAGE_TAG}测试消息：渠道「{channel.name}」（{CHANNEL_KINDS[channel.kind]}）配置正确。\n"
            f"发送时间：{local_time(now)}（北京时间）")
    if dashboard_url:
        text += f"\n查看与处置：{dashboard_url}"
    return Message(subject=f"{MESSAGE_TAG}测试消息（{channel.name}）", text=text)


LINK_LABEL = "查看与处置："


def _cut(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes. The closing dashboard link survives the cut: the note says to look
    in the system, and the link is how people get there from the robot message."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    body, _, last = text.rpartition("\n")
    tail = f"\n{last}" if last.startswith(LINK_LABEL) and body else ""
    note = "\n……（内容过长已截断，请到系统中查看全部）" + tail
    room = limit - len(note.encode("utf-8"))
    return (body if tail else text).encode("utf-8")[:room].decode("utf-8", errors="ignore") + note


def _sign_dingtalk(url: str, secret: str, now: datetime) -> str:
    ts = str(int(now.timestamp() * 1000))
    digest = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={sign}"


def _sign_feishu(secret: str, now: datetime) -> dict[str, str]:
    ts = str(int(now.timestamp()))
    digest = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return {"timestamp": ts, "sign": base64.b64encode(digest).decode()}


def robot_request(channel: Channel, message: Message, now: datetime) -> tuple[str, dict]:
    """(URL, JSON body) in the channel's format; signing uses `now`."""
    text = _cut(message.text, TEXT_LIMITS[channel.kind])
    if channel.kind == "wecom":
        return channel.url, {"msgtype": "text", "text": {"content": text}}
    if channel.kind == "dingtalk":
        url = _sign_dingtalk(channel.url, channel.secret, now) if channel.secret else channel.url
        return url, {"msgtype": "text", "text": {"content": text}}
    if channel.kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if channel.secret:
            body |= _sign_feishu(channel.secret, now)
        return channel.url, body
    if channel.kind == "webhook":
        return channel.url, {"event": "opinion_alert", "subject": message.subject, "text": text,
                             "alerts": list(message.alerts), "sent_at": iso(now)}
    raise ValueError(f"{channel.kind} is not a webhook channel")


# -- sending -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str = ""


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post_json(url: str, body: dict, timeout: float) -> DeliveryResult:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT})
    # Proxies from the environment serve outside robots; a loopback address never goes through them.
    opener = (urllib.request.build_opener(urllib.request.ProxyHandler({})) if _is_loopback(url)
              else urllib.request.build_opener())
    try:
        with opener.open(req, timeout=timeout) as resp:
            raw = resp.read(65536)
    except urllib.error.HTTPError as e:
        return DeliveryResult(False, f"HTTP {e.code} {e.reason}")
    except urllib.error.URLError as e:
        return DeliveryResult(False, f"无法连接：{e.reason}")
    except (TimeoutError, OSError) as e:
        return DeliveryResult(False, f"连接失败：{e or type(e).__name__}")
    return _robot_answer(raw)


def _robot_answer(raw: bytes) -> DeliveryResult:
    """Robots answer HTTP 200 with an error code in the body; read it."""
    try:
        answer = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return DeliveryResult(True)
    if not isinstance(answer, dict):
        return DeliveryResult(True)
    for code_key, msg_key in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        code = answer.get(code_key)
        if code not in (None, 0, "0"):
            return DeliveryResult(False, f"机器人拒绝：{code_key}={code} {answer.get(msg_key, '')}".strip())
    return DeliveryResult(True)


def send_email(smtp: SmtpConfig, to: Sequence[str], message: Message, now: datetime) -> DeliveryResult:
    msg = EmailMessage()
    msg["Subject"] = _clean(message.subject)
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(now.timestamp(), localtime=False)
    msg["Message-ID"] = make_msgid(domain="ip-opinion-watch")
    msg.set_content(message.text)
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            refused = client.send_message(msg)
    except smtplib.SMTPAuthenticationError as e:
        return DeliveryResult(False, f"SMTP 登录失败：{e.smtp_code}")
    except (smtplib.SMTPException, OSError) as e:
        return DeliveryResult(False, f"SMTP 发送失败：{type(e).__name__}: {e}")
    if refused:
        return DeliveryResult(False, f"收件人被拒绝：{', '.join(refused)}")
    return DeliveryResult(True)


def send(channel: Channel, message: Message, config: NotifyConfig, now: datetime) -> DeliveryResult:
    """Send one message; never raises for a delivery problem."""
    if channel.missing:
        return DeliveryResult(False, channel.missing)
    try:
        if channel.kind == "email":
            if config.smtp is None:
                return DeliveryResult(False, "没有配置 SMTP")
            return send_email(config.smtp, channel.to, message, now)
        url, body = robot_request(channel, message, now)
        return post_json(url, body, channel.timeout)
    except Exception as e:  # a bug in one channel must not stop the others or the collector
        log.exception("sending to channel %s failed", channel.name)
        return DeliveryResult(False, f"内部错误：{type(e).__name__}: {e}")


# -- the delivery queue ---------------------------------------------------------------------------

@dataclass
class DeliveryReport:
    sent: int = 0          # messages
    failed: int = 0        # messages that will be retried
    gave_up: int = 0       # messages out of attempts
    errors: list[str] = field(default_factory=list)


def backoff(config: NotifyConfig, attempts_before: int) -> timedelta:
    """Wait before the next try after `attempts_before + 1` failed tries: base, 2×base, 4×base … up to the cap."""
    return timedelta(seconds=min(config.backoff_cap_seconds, config.backoff_seconds * 2 ** attempts_before))


# How long a claimed delivery is left to its sender before another run may take it: far above the few
# channel timeouts (10 s each by default) a batch can spend.
SEND_LEASE = timedelta(minutes=10)


def deliver_due(store: Store, config: NotifyConfig, now: datetime) -> DeliveryReport:
    """Send every queued delivery whose time has come: one message per channel (a digest when several are due)."""
    report = DeliveryReport()
    t = iso(now)
    by_channel: dict[str, list[dict]] = {}
    for row in alert_store.claim_due(store, t, iso(now + SEND_LEASE)):
        by_channel.setdefault(row["channel"], []).append(row)
    for name, rows in by_channel.items():
        ids = [r["id"] for r in rows]
        channel = config.channels.get(name)
        if channel is None:
            result = DeliveryResult(False, f"渠道「{name}」未配置（检查通知配置文件 {config.source or DEFAULT_CONFIG}）")
        else:
            result = send(channel, compose(rows, config.dashboard_url), config, now)
        if result.ok:
            alert_store.mark_sent(store, ids, t)
            report.sent += 1
            continue
        attempts = max(r["attempts"] for r in rows)
        give_up = attempts + 1 >= config.max_attempts
        retry_at = None if give_up else iso(now + backoff(config, attempts))
        alert_store.mark_failed(store, ids, at=t, error=result.error[:500], retry_at=retry_at)
        if give_up:
            report.gave_up += 1
        else:
            report.failed += 1
        report.errors.append(f"{name}: {result.error}")
        log.warning("alert delivery to %s failed (attempt %d): %s", name, attempts + 1, result.error)
    return report


def test_send(store: Store, config: NotifyConfig, channel_name: str, now: datetime) -> DeliveryResult:
    """Send a test message now and record the outcome (not retried)."""
    channel = config.channels.get(channel_name)
    if channel is None:
        known = "、".join(config.channels) or "（无）"
        result = DeliveryResult(False, f"渠道「{channel_name}」未配置；已配置的渠道：{known}")
    else:
        result = send(channel, test_message(channel, now, config.dashboard_url), config, now)
    alert_store.record_test_send(store, channel=channel_name, at=iso(now), ok=result.ok, error=result.error[:500])
    return result


def channel_names(config: NotifyConfig) -> list[str]:
    return list(config.channels)


def describe_channels(config: NotifyConfig) -> list[dict[str, str]]:
    """Channels without their secrets, for the page and the CLI."""
    out = [{"name": f"看板（{DASHBOARD}）", "kind": "看板", "target": "预警页与总览横幅（始终开启）"}]
    for ch in config.channels.values():
        if ch.kind == "email":
            target = "、".join(ch.to)
        elif ch.missing:
            target = f"未设置：{ch.missing}"
        else:
            parts = urllib.parse.urlsplit(ch.url)
            target = f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}/…"
            target += "（已签名）" if ch.secret else ""
        out.append({"name": ch.name, "kind": CHANNEL_KINDS[ch.kind], "target": target})
    return out
