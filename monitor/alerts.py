"""Alert rules: what counts as an alert, when it fires, and when it reaches people.

Four kinds of rule (params in brackets, defaults after =):
  negative_source – a negative item from a source whose weight is at least
                    min_weight=1.5 [min_p_negative=0, lookback_minutes=60]
  spike           – at least count=5 negative items within minutes=60 in one
                    group [group=auto|story|scheme|source|keyword, keywords=[]]
  watchword       – a new item mentions one of words=[…] [negative_only=false,
                    lookback_minutes=60]
  source_silent   – an enabled source has had no successful run for longer than
                    max(min_minutes=120, factor=3 × its interval_minutes) [sources=[]]

Delivery (per rule): channels=[names from config.local.toml] (the dashboard
always), mode=realtime|digest with digest_minutes, a receive window
hours="08:30-18:00" (Beijing time; empty = all day) and weekends=true|false.
Outside the window alerts are held (shown on the dashboard at once) and go
out together when it opens. One alert per subject (story, item, group or
source) per rule per dedup_minutes=1440.

Evaluation runs in the collector process after each pass,
`evaluate_and_notify(store, settings, now)`; never from a page.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Any, Callable, Mapping

from collectors.registry import DEFAULT_INTERVAL_MINUTES, Source, SourceConfigError, load_sources
from monitor import alert_store, notify
from monitor.settings import Settings
from monitor.store import Store, iso
from monitor.users import User, UserError, audit, can

log = logging.getLogger(__name__)

BEIJING = notify.BEIJING
KINDS = {"negative_source": "重要信息源出现负面", "spike": "负面信息聚集", "watchword": "关注词命中",
         "source_silent": "信息源停滞或失败"}
GROUPS = {"auto": "自动（事件>方案>信息源）", "story": "同一事件", "scheme": "同一监测方案", "source": "同一信息源",
          "keyword": "同一关键词"}
MODES = {"realtime": "实时", "digest": "定时汇总"}
MAX_MINUTES = 7 * 24 * 60
DETAIL_ITEMS = 5


class RuleError(ValueError):
    """Rule settings refused; the message tells staff what to fix."""


# -- rule settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    channels: tuple[str, ...] = ()
    mode: str = "realtime"
    digest_minutes: int = 60
    hours: tuple[time, time] | None = None
    weekends: bool = True
    dedup_minutes: int = 1440

    def to_dict(self) -> dict[str, Any]:
        return {"channels": list(self.channels), "mode": self.mode, "digest_minutes": self.digest_minutes,
                "hours": format_hours(self.hours), "weekends": self.weekends, "dedup_minutes": self.dedup_minutes}


@dataclass(frozen=True)
class Rule:
    id: int | None
    name: str
    kind: str
    params: Mapping[str, Any]
    delivery: Delivery = field(default_factory=Delivery)
    enabled: bool = True


def _num(raw: Mapping[str, Any], key: str, default: float, lo: float, hi: float, what: str,
         integer: bool = False) -> float:
    v = raw.get(key, default)
    if isinstance(v, str) and v.strip():
        try:
            v = float(v)
        except ValueError:
            raise RuleError(f"{what}必须是数字，收到 {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
        raise RuleError(f"{what}必须是数字，收到 {v!r}")
    if integer and v != int(v):
        raise RuleError(f"{what}必须是整数，收到 {v!r}")
    if not lo <= v <= hi:
        raise RuleError(f"{what}应在 {lo:g}–{hi:g} 之间，收到 {v:g}")
    return int(v) if integer else float(v)


def _words(raw: Mapping[str, Any], key: str, what: str, required: bool) -> list[str]:
    v = raw.get(key, [])
    if isinstance(v, str):
        v = re.split(r"[,，、\n]+", v)
    if not isinstance(v, (list, tuple)) or not all(isinstance(w, str) for w in v):
        raise RuleError(f"{what}应是词语列表")
    words = list(dict.fromkeys(w.strip() for w in v if w.strip()))
    if required and not words:
        raise RuleError(f"{what}至少需要一个词")
    if too_long := [w for w in words if len(w) > 50]:
        raise RuleError(f"{what}中的词过长（最多 50 字）：{too_long[0][:20]}…")
    return words


def _bool(raw: Mapping[str, Any], key: str, default: bool, what: str) -> bool:
    v = raw.get(key, default)
    if not isinstance(v, bool):
        raise RuleError(f"{what}应是 true 或 false，收到 {v!r}")
    return v


_PARAMS: dict[str, set[str]] = {
    "negative_source": {"min_weight", "min_p_negative", "lookback_minutes"},
    "spike": {"count", "minutes", "group", "keywords"},
    "watchword": {"words", "negative_only", "lookback_minutes"},
    "source_silent": {"factor", "min_minutes", "sources"},
}


def parse_params(kind: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validated params with defaults filled in, or RuleError."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise RuleError(f"未知的规则类型 {kind!r}；可用：{', '.join(KINDS)}")
    if raw is not None and not isinstance(raw, Mapping):
        raise RuleError(f"规则参数（params）应为键值表，收到 {raw!r}"[:200])
    raw = dict(raw or {})
    if unknown := set(raw) - _PARAMS[kind]:
        raise RuleError(f"{KINDS[kind]}规则不认识这些设置：{', '.join(sorted(unknown))}；"
                        f"可用：{', '.join(sorted(_PARAMS[kind]))}")
    if kind == "negative_source":
        return {"min_weight": _num(raw, "min_weight", 1.5, 0, 1000, "信息源权重下限"),
                "min_p_negative": _num(raw, "min_p_negative", 0.0, 0, 1, "负面概率下限"),
                "lookback_minutes": _num(raw, "lookback_minutes", 60, 1, MAX_MINUTES, "回看分钟数", True)}
    if kind == "spike":
        group = raw.get("group", "auto")
        if group not in GROUPS:
            raise RuleError(f"分组方式（group）必须是 {', '.join(GROUPS)} 之一，收到 {group!r}")
        keywords = _words(raw, "keywords", "分组关键词", required=group == "keyword")
        return {"count": _num(raw, "count", 5, 2, 10000, "条数阈值", True),
                "minutes": _num(raw, "minutes", 60, 1, MAX_MINUTES, "时间窗分钟数", True),
                "group": group, "keywords": keywords}
    if kind == "watchword":
        return {"words": _words(raw, "words", "关注词", required=True),
                "negative_only": _bool(raw, "negative_only", False, "只看负面"),
                "lookback_minutes": _num(raw, "lookback_minutes", 60, 1, MAX_MINUTES, "回看分钟数", True)}
    return {"factor": _num(raw, "factor", 3.0, 1, 100, "采集间隔倍数"),
            "min_minutes": _num(raw, "min_minutes", 120, 1, MAX_MINUTES, "最短停滞分钟数", True),
            "sources": _words(raw, "sources", "信息源", required=False)}


def default_params(kind: str) -> dict[str, Any]:
    """What a new rule of this kind starts from in the editor (word lists start empty)."""
    filler = {"spike": {}, "negative_source": {}, "source_silent": {}, "watchword": {"words": ["-"]}}
    p = parse_params(kind, filler[kind])
    if kind == "watchword":
        p["words"] = []
    return p


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(text: str | None) -> tuple[time, time] | None:
    if text is None or not str(text).strip():
        return None
    m = _HOURS.match(str(text))
    if not m:
        raise RuleError(f"接收时段应写成 08:30-18:00（北京时间），收到 {text!r}")
    h1, m1, h2, m2 = map(int, m.groups())
    if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60) or (h1, m1) > (24, 0) or (h2, m2) > (24, 0):
        raise RuleError(f"接收时段中的时间无效：{text!r}")
    start = time(0, 0) if h1 == 24 else time(h1, m1)
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    if start == end:
        raise RuleError("接收时段的开始和结束不能相同；全天接收请留空")
    return start, end


def format_hours(hours: tuple[time, time] | None) -> str:
    if hours is None:
        return ""
    end = "24:00" if hours[1] == time(23, 59, 59) else hours[1].strftime("%H:%M")
    return f"{hours[0]:%H:%M}-{end}"


def parse_delivery(raw: Mapping[str, Any] | None, known_channels: set[str] | None = None) -> Delivery:
    if raw is not None and not isinstance(raw, Mapping):
        raise RuleError(f"发送设置（delivery）应为键值表，收到 {raw!r}"[:200])
    raw = dict(raw or {})
    allowed = {"channels", "mode", "digest_minutes", "hours", "weekends", "dedup_minutes"}
    if unknown := set(raw) - allowed:
        raise RuleError(f"发送设置不认识：{', '.join(sorted(unknown))}；可用：{', '.join(sorted(allowed))}")
    channels = [c for c in _words(raw, "channels", "发送渠道", required=False) if c != notify.DASHBOARD]
    if known_channels is not None and (missing := [c for c in channels if c not in known_channels]):
        raise RuleError(f"渠道未配置：{'、'.join(missing)}（在通知配置文件的 [[notify.channels]] 中添加，见 docs/operations.md）")
    mode = raw.get("mode", "realtime")
    if mode not in MODES:
        raise RuleError(f"发送方式（mode）必须是 realtime 或 digest，收到 {mode!r}")
    return Delivery(channels=tuple(channels), mode=mode,
                    digest_minutes=_num(raw, "digest_minutes", 60, 5, 1440, "汇总间隔分钟数", True),
                    hours=parse_hours(raw.get("hours")),
                    weekends=_bool(raw, "weekends", True, "周末接收"),
                    dedup_minutes=_num(raw, "dedup_minutes", 1440, 1, 30 * 24 * 60, "去重时间窗分钟数", True))


def parse_rule(name: str, kind: str, params: Mapping[str, Any] | None, delivery: Mapping[str, Any] | None,
               enabled: bool = True, rule_id: int | None = None,
               known_channels: set[str] | None = None) -> Rule:
    name = " ".join(str(name or "").split())
    if not name:
        raise RuleError("规则需要一个名称")
    if len(name) > 60:
        raise RuleError("规则名称最多 60 字")
    return Rule(id=rule_id, name=name, kind=kind, params=parse_params(kind, params),
                delivery=parse_delivery(delivery, known_channels), enabled=bool(enabled))


def _rule_from_row(row: Mapping[str, Any]) -> Rule:
    return parse_rule(row["name"], row["kind"], row["params"], row["delivery"], row["enabled"], row["id"])


def list_rules(store: Store) -> tuple[list[Rule], list[str]]:
    """Stored rules and, for any that no longer validate, why (they are skipped, not fatal)."""
    rules, problems = [], []
    for row in alert_store.list_rules(store):
        try:
            rules.append(_rule_from_row(row))
        except RuleError as e:
            problems.append(f"规则「{row['name']}」设置无效，已跳过：{e}")
    return rules, problems


def save_rule(store: Store, rule: Rule, *, actor: User | str, now: datetime) -> Rule:
    """Insert (rule.id None) or update a validated rule; names are unique. Audited."""
    if isinstance(actor, User) and not can(actor, "edit_rules"):
        raise UserError("只有管理员可以编辑预警规则")
    other = alert_store.rule_by_name(store, rule.name)
    if other is not None and other["id"] != rule.id:
        raise RuleError(f"已有同名规则「{rule.name}」")
    with store.atomic():
        rid = alert_store.upsert_rule(store, name=rule.name, kind=rule.kind, params=dict(rule.params),
                                      delivery=rule.delivery.to_dict(), enabled=rule.enabled, at=iso(now),
                                      by=actor.username if isinstance(actor, User) else str(actor),
                                      rule_id=rule.id)
        audit(store, actor, "alert_rule.update" if rule.id else "alert_rule.add", rule.name,
              {"kind": rule.kind, "params": dict(rule.params), "delivery": rule.delivery.to_dict(),
               "enabled": rule.enabled}, now)
    return Rule(id=rid, name=rule.name, kind=rule.kind, params=rule.params, delivery=rule.delivery,
                enabled=rule.enabled)


def delete_rule(store: Store, rule_id: int, *, actor: User | str, now: datetime) -> None:
    if isinstance(actor, User) and not can(actor, "edit_rules"):
        raise UserError("只有管理员可以删除预警规则")
    rows = {r["id"]: r for r in alert_store.list_rules(store)}
    if rule_id not in rows:
        raise RuleError(f"没有编号为 {rule_id} 的规则")
    with store.atomic():
        alert_store.delete_rule(store, rule_id)
        audit(store, actor, "alert_rule.delete", rows[rule_id]["name"], {"id": rule_id}, now)


def acknowledge(store: Store, firing_id: int, *, actor: User, now: datetime) -> bool:
    """Mark an alert as seen (it leaves the banner). False when it was already acknowledged."""
    if not can(actor, "acknowledge_alert"):
        raise UserError("只读账号不能确认预警")
    if alert_store.firing(store, firing_id) is None:
        raise RuleError(f"没有编号为 {firing_id} 的预警")
    with store.atomic():
        n = alert_store.acknowledge(store, firing_id, at=iso(now), by=actor.username)
        if n:
            audit(store, actor, "alert.acknowledge", str(firing_id), {}, now)
    return bool(n)


# -- windows -----------------------------------------------------------------------------------

def in_window(d: Delivery, t: datetime) -> bool:
    local = t.astimezone(BEIJING)
    if not d.weekends and local.weekday() >= 5:
        return False
    if d.hours is None:
        return True
    start, end = d.hours
    now = local.time()
    return start <= now < end if start < end else (now >= start or now < end)


def next_open(d: Delivery, t: datetime) -> datetime:
    """`t` if the window is open then, else the moment it next opens."""
    if in_window(d, t):
        return t
    local = t.astimezone(BEIJING)
    start = d.hours[0] if d.hours else time(0, 0)
    for k in range(0, 9):
        candidate = datetime.combine(local.date() + timedelta(days=k), start, BEIJING)
        if candidate > t and in_window(d, candidate):
            return candidate.astimezone(timezone.utc)
    raise RuleError("接收时段在一周内从不开启")


def due_at(d: Delivery, fired_at: datetime) -> datetime:
    """When a firing should go out: now (real time) or the end of its digest slot, inside the receive window."""
    t = fired_at
    if d.mode == "digest":
        local = t.astimezone(BEIJING)
        midnight = datetime.combine(local.date(), time(0, 0), BEIJING)
        slot = timedelta(minutes=d.digest_minutes)
        elapsed = local - midnight
        t = (midnight + math.ceil(elapsed / slot) * slot).astimezone(timezone.utc)
        if in_window(d, fired_at) and not in_window(d, t):
            # The slot outlives today's window: send the digest as the window closes, not when it next
            # opens (with 08:30-18:00 and no weekends, a Friday-afternoon alert would wait until Monday).
            t = max(fired_at, _window_close(d, fired_at, t) - timedelta(seconds=1))
    return next_open(d, t)


def _window_close(d: Delivery, start: datetime, limit: datetime) -> datetime:
    """The first whole minute after `start` (and not after `limit`) at which the window is shut."""
    m = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while m < limit and in_window(d, m):
        m += timedelta(minutes=1)
    return m


# -- evaluation ---------------------------------------------------------------------------------

@dataclass
class Candidate:
    subject: str
    title: str
    detail: str
    items: list[dict] = field(default_factory=list)


def _clean(text: Any, limit: int = 80) -> str:
    s = " ".join(str(text or "").split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _item_lines(items: list[dict]) -> str:
    lines = []
    for i in items[:DETAIL_ITEMS]:
        url = str(i.get("url") or "")
        link = f" {url}" if re.match(r"(?i)^https?://\S+$", url) else ""
        lines.append(f"· {_clean(i.get('source'), 30)}：{_clean(i.get('title'))}{link}")
    if len(items) > DETAIL_ITEMS:
        lines.append(f"· ……共 {len(items)} 条")
    return "\n".join(lines)


def _story_subject(item: dict) -> str:
    if item.get("story_id") is not None:
        return f"story:{item['story_id']}"
    return f"item:{item['id']}"


def _by_subject(items: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for i in items:
        out.setdefault(_story_subject(i), []).append(i)
    return out


def group_keys(item: dict, group: str, keywords: list[str], columns: set[str]) -> list[str]:
    """The groups an item counts in for a spike rule; degrades when the schema lacks story_id / schemes."""
    if group == "auto":
        group = "story" if "story_id" in columns else "scheme" if "schemes" in columns else "source"
    if group == "story" and "story_id" not in columns:
        group = "source"
    if group == "scheme" and "schemes" not in columns:
        group = "keyword" if keywords else "source"
    if group == "story":
        return [f"story:{item['story_id']}"] if item.get("story_id") is not None else []
    if group == "scheme":
        return [f"scheme:{s}" for s in item.get("schemes") or []]
    if group == "keyword":
        text = f"{item.get('title', '')} {item.get('text', '')}".casefold()
        return [f"keyword:{k}" for k in keywords if k.casefold() in text]
    return [f"source:{item.get('source', '')}"]


_GROUP_LABEL = {"story": "事件", "scheme": "监测方案", "keyword": "关键词", "source": "信息源"}


def _label(key: str, items: list[dict]) -> str:
    kind, _, value = key.partition(":")
    if kind == "story":
        return f"事件「{_clean(items[-1].get('title'), 40)}」"
    return f"{_GROUP_LABEL.get(kind, kind)}「{value}」"


def _negative_source(store: Store, rule: Rule, now: datetime, ctx: "Context") -> list[Candidate]:
    p = rule.params
    items = alert_store.recent_items(store, since=iso(now - timedelta(minutes=p["lookback_minutes"])),
                                     until=iso(now), negative_only=True)
    weights = ctx.weights()
    hits = [i for i in items if weights.get(i["source"], 1.0) >= p["min_weight"]
            and (i["p_negative"] or 0.0) >= p["min_p_negative"]]
    out = []
    for subject, group in _by_subject(hits).items():
        first = group[0]
        w = weights.get(first["source"], 1.0)
        title = f"{_clean(first['source'], 30)}（权重 {w:g}）负面：{_clean(first['title'], 60)}"
        out.append(Candidate(subject, title, _item_lines(group), group))
    return out


def _spike(store: Store, rule: Rule, now: datetime, ctx: "Context") -> list[Candidate]:
    p = rule.params
    items = alert_store.recent_items(store, since=iso(now - timedelta(minutes=p["minutes"])), until=iso(now),
                                     time_field="published_at", negative_only=True)
    columns = alert_store.item_columns(store)
    groups: dict[str, list[dict]] = {}
    for i in items:
        for key in group_keys(i, p["group"], p["keywords"], columns):
            groups.setdefault(key, []).append(i)
    out = []
    for key, group in groups.items():
        if len(group) >= p["count"]:
            title = f"{p['minutes']} 分钟内 {len(group)} 条负面信息：{_label(key, group)}"
            out.append(Candidate(key, title, _item_lines(group), group))
    return out


def _watchword(store: Store, rule: Rule, now: datetime, ctx: "Context") -> list[Candidate]:
    p = rule.params
    items = alert_store.recent_items(store, since=iso(now - timedelta(minutes=p["lookback_minutes"])),
                                     until=iso(now), negative_only=p["negative_only"])
    hits: list[tuple[dict, str]] = []
    for i in items:
        text = f"{i['title']} {i['text']}".casefold()
        word = next((w for w in p["words"] if w.casefold() in text), None)
        if word is not None:
            hits.append((i, word))
    out = []
    words_of = {i["id"]: w for i, w in hits}
    for subject, group in _by_subject([i for i, _ in hits]).items():
        first = group[0]
        title = f"关注词「{words_of[first['id']]}」：{_clean(first['title'], 60)}"
        out.append(Candidate(subject, title, _item_lines(group), group))
    return out


def _source_silent(store: Store, rule: Rule, now: datetime, ctx: "Context") -> list[Candidate]:
    p = rule.params
    runs = alert_store.run_summary(store)
    wanted = set(p["sources"])
    out = []
    for s in ctx.sources():
        if not s.enabled or (wanted and s.name not in wanted):
            continue
        r = runs.get(s.name)
        if r is None:
            continue  # never run: the collector's own stall warning covers a collector that is not running
        ref = r["last_ok_at"] or r["first_run_at"]
        limit = timedelta(minutes=max(p["min_minutes"], p["factor"] * (s.interval_minutes or DEFAULT_INTERVAL_MINUTES)))
        silent = now - datetime.fromisoformat(ref)
        if silent <= limit:
            continue
        hours = silent.total_seconds() / 3600
        if r["last_ok_at"]:
            title = f"信息源「{s.name}」已 {hours:.1f} 小时没有成功采集"
        else:
            title = f"信息源「{s.name}」自 {notify.local_time(ref)} 起从未采集成功"
        detail = f"最近状态：{r.get('last_status') or '—'}"
        if r.get("last_error"):
            detail += f"；错误：{_clean(r['last_error'], 200)}"
        detail += f"\n预期间隔 {s.interval_minutes} 分钟，允许 {int(limit.total_seconds() // 60)} 分钟"
        out.append(Candidate(f"source:{s.name}", title, detail))
    return out


_EVALUATORS: dict[str, Callable[[Store, Rule, datetime, "Context"], list[Candidate]]] = {
    "negative_source": _negative_source, "spike": _spike, "watchword": _watchword,
    "source_silent": _source_silent,
}


class Context:
    """What rules need besides the store, loaded at most once per evaluation."""

    def __init__(self, settings: Settings, sources: list[Source] | None = None):
        self.settings = settings
        self._sources = sources

    def sources(self) -> list[Source]:
        if self._sources is None:
            try:
                self._sources = load_sources(self.settings.sources_file, self.settings.rsshub_base)
            except SourceConfigError as e:
                raise RuleError(f"无法读取信息源配置：{e}") from None
        return self._sources

    def weights(self) -> dict[str, float]:
        return {s.name: s.weight for s in self.sources()}


def candidates(store: Store, rule: Rule, now: datetime, ctx: Context) -> list[Candidate]:
    """What this rule sees now, before de-duplication."""
    return _EVALUATORS[rule.kind](store, rule, now, ctx)


@dataclass
class AlertReport:
    fired: list[int] = field(default_factory=list)       # new firing ids
    suppressed: int = 0                                   # candidates already alerted within the window
    delivery: notify.DeliveryReport = field(default_factory=notify.DeliveryReport)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        d = self.delivery
        return (f"新预警 {len(self.fired)} 条，去重 {self.suppressed} 条；发送成功 {d.sent} 条消息，"
                f"待重试 {d.failed}，放弃 {d.gave_up}；问题 {len(self.errors)} 个")


def evaluate(store: Store, settings: Settings, now: datetime, *, sources: list[Source] | None = None,
             report: AlertReport | None = None) -> AlertReport:
    """Run every enabled rule, record new firings (de-duplicated) and queue their deliveries."""
    report = report or AlertReport()
    if now.tzinfo is None:
        raise ValueError("naive datetime; pass an aware 'now'")
    rules, problems = list_rules(store)
    report.errors += problems
    ctx = Context(settings, sources)
    for rule in rules:
        if not rule.enabled:
            continue
        try:
            found = candidates(store, rule, now, ctx)
        except RuleError as e:
            report.errors.append(f"规则「{rule.name}」：{e}")
            continue
        for c in found:
            # The check and the insert share one write transaction: an evaluation running at the same
            # time (by hand, beside the collector's) waits for it and then sees this firing.
            with store.atomic():
                last = alert_store.last_fired_at(store, rule.id, c.subject)
                if last and now - datetime.fromisoformat(last) < timedelta(minutes=rule.delivery.dedup_minutes):
                    report.suppressed += 1
                    continue
                fid = alert_store.insert_firing(store, rule_id=rule.id, rule_name=rule.name, kind=rule.kind,
                                                subject=c.subject, fired_at=iso(now), title=c.title,
                                                detail=c.detail, items=c.items)
                when = iso(due_at(rule.delivery, now))
                for ch in rule.delivery.channels:
                    alert_store.queue_delivery(store, firing_id=fid, channel=ch, due_at=when, created_at=iso(now))
            report.fired.append(fid)
    return report


def evaluate_and_notify(store: Store, settings: Settings, now: datetime | None = None, *,
                        config: notify.NotifyConfig | None = None,
                        sources: list[Source] | None = None) -> AlertReport:
    """The collector's hook after each pass: evaluate rules, then send what is due. Never raises.

    Problems (a bad config file, an unreachable SMTP server, a broken rule) are
    logged and listed in the report; collection carries on.
    """
    report = AlertReport()
    now = now or datetime.now(timezone.utc)
    try:
        evaluate(store, settings, now, sources=sources, report=report)
    except Exception as e:  # alerts must never stop collection
        log.exception("alert evaluation failed")
        report.errors.append(f"预警评估失败：{type(e).__name__}: {e}")
    try:
        cfg = config if config is not None else notify.NotifyConfig.load()
        report.delivery = notify.deliver_due(store, cfg, now)
        report.errors += report.delivery.errors
    except notify.NotifyConfigError as e:
        log.error("notification settings unusable: %s", e)
        report.errors.append(f"通知配置有误，本轮未发送：{e}")
    except Exception as e:
        log.exception("alert delivery failed")
        report.errors.append(f"预警发送失败：{type(e).__name__}: {e}")
    return report


# -- reading for pages and CLI -------------------------------------------------------------------

def recent_firings(store: Store, *, limit: int = 100, since: datetime | None = None,
                   unacknowledged_only: bool = False) -> list[dict]:
    return alert_store.list_firings(store, limit=limit, since=iso(since) if since else None,
                                    unacknowledged_only=unacknowledged_only)


def firing_detail(store: Store, firing_id: int) -> dict | None:
    f = alert_store.firing(store, firing_id)
    if f is not None:
        f["items"] = alert_store.firing_items(store, firing_id)
    return f


def banner(store: Store, now: datetime, hours: int = 24) -> dict[str, Any]:
    """Unacknowledged alerts of the last `hours`, for the dashboard banner."""
    since = now - timedelta(hours=hours)
    latest = alert_store.list_firings(store, limit=3, since=iso(since), unacknowledged_only=True)
    return {"count": alert_store.count_unacknowledged(store, iso(since)), "latest": latest}


def deliveries(store: Store, limit: int = 100) -> list[dict]:
    return alert_store.list_deliveries(store, limit=limit)


def rule_summary(rule: Rule) -> str:
    """One line in Chinese saying what the rule watches."""
    p = rule.params
    if rule.kind == "negative_source":
        s = f"权重 ≥ {p['min_weight']:g} 的信息源出现负面（近 {p['lookback_minutes']} 分钟采集）"
    elif rule.kind == "spike":
        s = f"{p['minutes']} 分钟内{GROUPS[p['group']]}负面 ≥ {p['count']} 条"
    elif rule.kind == "watchword":
        s = f"命中关注词：{'、'.join(p['words'])}" + ("（仅负面）" if p["negative_only"] else "")
    else:
        s = f"超过 max({p['min_minutes']} 分钟, {p['factor']:g}×采集间隔) 未成功采集"
    d = rule.delivery
    when = format_hours(d.hours) or "全天"
    when += "" if d.weekends else "，周末不发"
    how = MODES[d.mode] + (f"（每 {d.digest_minutes} 分钟）" if d.mode == "digest" else "")
    chans = "、".join(("看板",) + d.channels)
    return f"{s}；{how}，{when}；渠道：{chans}"
