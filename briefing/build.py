"""Period → BriefingData: every figure and sentence of a briefing, read from the store.

Figures come from the `monitor.queries` period functions (the dashboard's SQL),
so they equal what the dashboard shows for the same days. Sentences are built
only from those figures: where a section has no data the text says so, and
when collection was incomplete the overview says that its figures cover only
what was collected. Three texts are drafts for staff to edit: the summary
judgement, 研判与建议 and 下期关注 (`EDITABLE`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

import pandas as pd

from briefing.period import Period, cn_date
from collectors.registry import PLATFORM_LABELS as SOURCE_PLATFORM_LABELS
from monitor import handling, handling_store, queries, story_store
from monitor.store import Store

DEFAULT_UNIT = "安徽省知识产权局"
EDITABLE = ("summary", "assessment", "outlook")
EDIT_LABELS = {"summary": "总体研判（本期舆情概况的研判句）", "assessment": "七、研判与建议",
               "outlook": "八、下期关注"}
TITLES = {"weekly": "知识产权舆情周报", "range": "知识产权舆情专报", "daily": "知识产权舆情日报"}
PREVIOUS = {"weekly": "上周", "range": "上期", "daily": "前一日"}
POLARITY_LABELS = {"negative": "负面", "neutral": "中性", "positive": "正面"}
PLATFORM_LABELS = {**SOURCE_PLATFORM_LABELS, "": "未标注"}
STATUS_LABELS = {"ok": "正常", "idle": "正常，本期无新信息", "partial": "部分失败", "failed": "采集失败",
                 "silent": "本期未运行", "disabled": "已停用"}
INCOMPLETE = ("partial", "failed", "silent")

# Fixed dates of the IP publicity year (month, day, note). Movable dates
# (春节, 中国知识产权年会, 专项行动) are left to the editor.
CALENDAR = (
    (3, 15, "“3·15”国际消费者权益日：假冒商标、侵权商品投诉和曝光集中"),
    (4, 20, "全国知识产权宣传周（4月20日至26日前后，以国家知识产权局通知为准）"),
    (4, 23, "世界读书日（世界图书与版权日）：著作权宣传节点"),
    (4, 26, "“4·26”世界知识产权日：年度宣传重点节点，本局集中发布"),
    (6, 18, "“618”电商促销：关注网络售假、盗版等侵权信息"),
    (11, 11, "“双11”电商促销：关注网络售假、商标侵权信息"),
)
TOP_STORIES = {"weekly": 10, "range": 10, "daily": 8}
# A 热点事件 was reported more than once (a single report is not "hot", however relevant).
HOT_MIN_ITEMS = 2
# Stories whose topic is looked up one by one when period_items carries no topic column.
TOPIC_LOOKUPS = 100
MAX_LISTED = 30
GIST_CHARS = 80
LABEL_CHARS = 30
# What XML 1.0 cannot hold at all: C0 controls other than tab/newline/CR, U+FFFE/U+FFFF and lone
# surrogates. Everything else staff type reaches the document unchanged.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass
class Story:
    """A report and its reposts within the period."""
    title: str
    items: int
    sources: int
    first_at: datetime
    first_source: str
    gist: str
    url: str
    negative_items: int = 0
    outlets: tuple[str, ...] = ()
    handling: str = ""          # 处置状态 label, "" when the story cannot be looked up
    unit: str = ""              # responsible 处室 or city
    story_id: int | None = None


@dataclass
class SourceStatus:
    name: str
    status: str                 # key of STATUS_LABELS
    runs: int = 0
    errors: int = 0
    items: int = 0
    last_error: str = ""
    configured: bool = True


@dataclass
class Coverage:
    rows: list[SourceStatus]
    configured: bool            # a source list was known
    complete: bool
    statement: str


@dataclass
class BriefingData:
    period: Period
    unit: str
    compiled_on: date
    number: int | None
    overview: dict[str, Any]
    trend: pd.DataFrame
    sources: pd.DataFrame
    platforms: pd.DataFrame
    ip_types: pd.DataFrame
    cities: pd.DataFrame
    stories: list[Story]
    negatives: list[Story]
    negatives_total: int
    own: list[Story]
    own_configured: bool
    cases: list[dict]
    coverage: Coverage
    upcoming: list[tuple[date, str]]
    facts: dict[str, list[str]]            # generated, not editable: section key → paragraphs
    texts: dict[str, str]                  # the editable texts as they will be printed
    drafts: dict[str, str] = field(default_factory=dict)  # what the program proposed
    story_method: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.period.kind]

    @property
    def empty(self) -> bool:
        return self.overview["total"] == 0

    @property
    def issue_label(self) -> str:
        return f"{self.period.year}年第{self.number}期" if self.number else f"{self.period.year}年第__期"


# -- helpers ---------------------------------------------------------------------------

def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def change_text(cur: int, prev: int, previous: str) -> str:
    if prev == 0:
        return f"{previous}无数据，无法比较" if cur else f"{previous}同样无数据"
    ch = (cur - prev) / prev
    if ch == 0:
        return f"与{previous}持平"
    return f"较{previous}{'增加' if ch > 0 else '减少'}{abs(ch):.1%}"


_TITLE_SUFFIX = re.compile(r"\s*[-_|–—]\s*[^-_|–—]{1,20}$")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def story_key(title: str) -> str:
    """Reposts keep the headline: drop a trailing " - 来源" (news search feeds add it), spaces and punctuation."""
    t = _TITLE_SUFFIX.sub("", title or "") or (title or "")
    return _NON_WORD.sub("", t).lower()[:40]


_SENTENCE_END = re.compile(r"[。！？!?；;]")
_CLAUSE_END = re.compile(r"[，,、：:\s]")
_QUOTES = str.maketrans({"“": "『", "”": "』", "‘": "『", "’": "』", "「": "『", "」": "』", '"': None, "'": None})


def event_label(title: str, limit: int = LABEL_CHARS) -> str:
    """A short name for a story in running text: 「芜湖企业反映专利维权难」.

    Untitled items carry their first sentence as title; the label keeps the first sentence, cut at a
    clause boundary (else at `limit` characters, with "…"), drops a trailing " - 来源", and turns quotes
    inside it into 『』 so that the 「」 around it nest cleanly.
    """
    t = " ".join(str(title or "").split())
    t = (_TITLE_SUFFIX.sub("", t) or t).translate(_QUOTES).strip()
    m = _SENTENCE_END.search(t)
    if m and m.start() >= 4:
        t = t[:m.start()]
    if len(t) > limit:
        cuts = [c.start() for c in _CLAUSE_END.finditer(t, 0, limit + 1) if c.start() >= 8]
        t = t[:cuts[-1]].rstrip() + "…" if cuts else t[:limit] + "…"
    return f"「{t.strip('。.，,、；; ')}」" if t else "「（无标题）」"


def gist(text: str, title: str) -> str:
    t = " ".join(str(text or "").split()) or " ".join(str(title or "").split())
    return t if len(t) <= GIST_CHARS else t[:GIST_CHARS] + "…"


def _story_keys(items: pd.DataFrame) -> pd.Series:
    if items["story_id"].notna().all():
        return items["story_id"].astype("int64").astype(str)
    keys = items["title"].map(story_key)
    return keys.where(keys != "", "#" + items["id"].astype(str))


def rank_stories(items: pd.DataFrame) -> pd.DataFrame:
    """One row per story of the period, by reach (items, then outlets), as the 热点事件 page ranks them.

    Columns key, story_id, items, sources, negative_items, first (row of its earliest item in
    `items`, which arrive oldest first). Stories are the store's (monitor.dedup: reposts share a
    story_id); on a database without them, items with the same headline (`story_key`) are one story.
    Vectorised: a week of 50,000 items is grouped in well under a second.
    """
    cols = ["key", "story_id", "items", "sources", "negative_items", "first"]
    if items.empty:
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame({"key": _story_keys(items).to_numpy(), "source": items["source"].to_numpy(),
                          "neg": items["negative"].fillna(False).astype(bool).to_numpy(),
                          "sid": pd.to_numeric(items["story_id"]).fillna(0).to_numpy(),
                          "row": range(len(items))})
    g = frame.groupby("key", sort=False)
    ranked = pd.DataFrame({"items": g.size(), "sources": g["source"].nunique(),
                           "negative_items": g["neg"].sum(), "first": g["row"].min(), "sid": g["sid"].max()})
    ranked = ranked.reset_index().sort_values(["items", "sources", "sid", "first"],
                                              ascending=[False, False, False, True], kind="stable")
    ranked["story_id"] = [int(x) if x else None for x in ranked["sid"]]
    return ranked[cols].reset_index(drop=True)


def stories_from(items: pd.DataFrame, ranked: pd.DataFrame, store: Store | None = None) -> list[Story]:
    """Story objects for the given rows of `rank_stories`, in their order; with `store`, gists are
    read for items that came without a snippet."""
    if ranked.empty:
        return []
    keys = _story_keys(items)
    out = []
    for r in ranked.to_dict("records"):
        first = items.iloc[int(r["first"])]
        members = items["source"][keys == r["key"]]
        text = first["snippet"]
        if not text and store is not None:  # fetched only for the stories printed
            text = (queries.item_detail(store, int(first["id"])) or {}).get("text", "")
        out.append(Story(title=str(first["title"]), items=int(r["items"]), sources=int(r["sources"]),
                         first_at=first["published_at"].to_pydatetime(), first_source=str(first["source"]),
                         gist=gist(text, first["title"]), url=str(first["url"]),
                         negative_items=int(r["negative_items"]), outlets=tuple(dict.fromkeys(members)),
                         story_id=r["story_id"]))
    return out


def with_handling(store: Store, stories: list[Story]) -> list[Story]:
    """Each story with its 负面处置 state and responsible unit (untouched stories are 待研判)."""
    out = []
    for s in stories:
        if s.story_id is None:
            out.append(s)
            continue
        row = handling_store.current(store, s.story_id) or {}
        state = row.get("state") or "pending"
        out.append(replace(s, handling=handling.STATES.get(state, state), unit=row.get("unit") or ""))
    return out


def _story_topics(store: Store | None, items: pd.DataFrame, ranked: pd.DataFrame) -> list[str | None]:
    """Each ranked story's topic: "ip" when any of its items is about IP, "off" when all are off-topic,
    None when unknown. Read from a `topic` column of `items` when period_items has one; otherwise
    from the story's first item (reposts share it), one look-up per story."""
    if ranked.empty:
        return []
    if "topic" in items.columns:
        topic = items["topic"].to_numpy()
        keys = _story_keys(items).to_numpy()
        by_key: dict[str, set] = {}
        for k, t in zip(keys, topic):
            by_key.setdefault(k, set()).add(t)
        return ["ip" if "ip" in by_key[k] else "off" if by_key[k] == {"off"} else None for k in ranked["key"]]
    if store is None:
        return [None] * len(ranked)
    out = []
    for first in ranked["first"]:
        detail = queries.item_detail(store, int(items.iloc[int(first)]["id"])) or {}
        out.append(detail.get("topic"))
    return out


def hot_stories(items: pd.DataFrame, ranked: pd.DataFrame, limit: int,
                store: Store | None = None) -> tuple[pd.DataFrame, int]:
    """The 热点事件 rows of `ranked`: stories reported at least HOT_MIN_ITEMS times that are not off-topic,
    those about IP first, each group by reach as ranked. Returns (the first `limit` rows, how many qualify).
    Without a topic column only the TOPIC_LOOKUPS widest-reaching candidates are looked up; the rest
    are counted as qualifying (not known to be off-topic)."""
    cand = ranked[ranked["items"] >= HOT_MIN_ITEMS]
    if cand.empty:
        return cand, 0
    looked = cand.head(max(limit, TOPIC_LOOKUPS)) if "topic" not in items.columns else cand
    topics = _story_topics(store, items, looked)
    ip = [i for i, t in enumerate(topics) if t == "ip"]
    unknown = [i for i, t in enumerate(topics) if t is None]
    keep = ip + unknown
    qualified = len(keep) + (len(cand) - len(looked))
    return looked.iloc[keep[:limit]].reset_index(drop=True), qualified


def handling_summary(store: Store, items: pd.DataFrame, neg: pd.DataFrame,
                     now: datetime | None = None) -> dict[str, Any]:
    """The handling of exactly the negative stories the section counts (`neg`, rows of `rank_stories`):
    stories per state (untouched ones are 待研判), overdue now, median hours from first publication
    to the first 交办 and from 交办 to the first 回应."""
    now = queries.beijing_now(now)
    counts = {k: 0 for k in handling.STATES}
    unknown = overdue = 0
    to_assign: list[float] = []
    to_respond: list[float] = []
    for sid, first in zip(neg["story_id"], neg["first"]):
        if sid is None or pd.isna(sid):
            unknown += 1
            continue
        row = handling_store.current(store, int(sid)) or {}
        state = row.get("state") or "pending"
        counts[state] = counts.get(state, 0) + 1
        overdue += handling.is_overdue(state, row.get("due_at"), now)
        if not row:
            continue
        events = handling_store.history(store, int(sid))
        assigned = next((e["at"] for e in events if e["action"] == "assign"), None)
        responded = next((e["at"] for e in events if e["action"] == "respond"), None)
        published = items.iloc[int(first)]["published_at"].to_pydatetime()
        if assigned:
            to_assign.append((datetime.fromisoformat(assigned) - published).total_seconds() / 3600)
            if responded:
                to_respond.append((datetime.fromisoformat(responded) - datetime.fromisoformat(assigned))
                                  .total_seconds() / 3600)
    median = (lambda xs: round(float(pd.Series(xs).median()), 1) if xs else None)
    return {"stories": len(neg), "by_state": counts, "unknown": unknown, "overdue": overdue,
            "median_hours_to_assign": median([x for x in to_assign if x >= 0]),
            "median_hours_to_respond": median(to_respond)}


def handling_line(summary: dict[str, Any]) -> str:
    """One sentence on the handling of the negative events the section counts (same number, same events)."""
    if not summary["stories"]:
        return "本期没有涉及负面的事件，无处置情况可报。"
    parts = [f"{label}{summary['by_state'].get(k, 0)}个" for k, label in handling.STATES.items()
             if summary["by_state"].get(k)]
    if summary.get("unknown"):
        parts.append(f"无处置记录可查{summary['unknown']}个")
    line = f"处置情况：上述{summary['stories']}个事件中，{'、'.join(parts)}"
    if summary["overdue"]:
        line += f"；超过办理时限未回应{summary['overdue']}个"
    took = []
    if summary["median_hours_to_assign"] is not None:
        took.append(f"从首发到交办中位用时{summary['median_hours_to_assign']}小时")
    if summary["median_hours_to_respond"] is not None:
        took.append(f"从交办到回应中位用时{summary['median_hours_to_respond']}小时")
    return line + (f"；{'，'.join(took)}" if took else "") + "。"


def own_releases(store: Store, own: tuple[str, ...], period: Period) -> list[Story]:
    """The office's own releases in the period and how far they travelled (as the 宣传成效 page counts)."""
    if not own:
        return []
    frame = story_store.own_reach(store, own, queries.day_start(period.start),
                                  queries.day_start(period.last_day + timedelta(days=1)), limit=MAX_LISTED)
    return [Story(title=str(r["title"]), items=int(r["reposts"]) + 1, sources=int(r["outlets"]),
                  first_at=datetime.fromisoformat(r["published_at"]).astimezone(queries.BEIJING),
                  first_source=str(r["source"]), gist="", url=str(r["url"]), story_id=int(r["story_id"]))
            for r in frame.to_dict("records")]


def _spec(source: Any, key: str, default: Any = None) -> Any:
    if isinstance(source, Mapping):
        return source.get(key, default)
    return getattr(source, key, default)


def coverage(runs: pd.DataFrame, per_source: pd.DataFrame, sources: Iterable[Any] | None) -> Coverage:
    """Each source's collection in the period, and whether the period's coverage was complete."""
    run = {r["source"]: r for r in runs.to_dict("records")}
    items = dict(zip(per_source["source"], per_source["count"]))
    specs = list(sources or [])
    rows: list[SourceStatus] = []

    def status(name: str, configured: bool) -> SourceStatus:
        r = run.get(name)
        n = int(items.get(name, 0))
        if r is None:
            return SourceStatus(name, "silent", items=n, configured=configured)
        good = int(r["ok"]) + int(r["not_modified"])
        st = "failed" if good == 0 and r["errors"] else "partial" if r["errors"] else "idle" if n == 0 else "ok"
        if good == 0 and not r["errors"]:
            st = "silent"  # only runs that never finished
        return SourceStatus(name, st, runs=int(r["runs"]), errors=int(r["errors"]), items=n,
                            last_error=str(r["last_error"] or ""), configured=configured)

    names = set()
    for spec in specs:
        name = str(_spec(spec, "name", ""))
        names.add(name)
        if not _spec(spec, "enabled", True):
            continue
        rows.append(status(name, True))
    for name in sorted(set(run) - names):
        rows.append(status(name, False))
    bad = [r for r in rows if r.status in INCOMPLETE]
    if not rows:
        return Coverage(rows, bool(specs), False,
                        "本期没有任何采集记录，也没有配置信息源，无法确认采集覆盖情况；本简报的数据仅来自已导入的信息。")
    if not run:
        return Coverage(rows, bool(specs), False,
                        f"本期没有任何采集运行记录（{len(rows)}个启用的信息源均未运行），采集不完整；"
                        "本简报的数据仅来自已存储的信息。")
    if bad:
        counts = {k: sum(r.status == k for r in bad) for k in INCOMPLETE}
        parts = [f"{counts[k]}个信息源{STATUS_LABELS[k]}" for k in INCOMPLETE if counts[k]]
        return Coverage(rows, bool(specs), False,
                        f"本期采集不完整：{'、'.join(parts)}（见下表），相关渠道的信息可能缺失，"
                        "本简报的统计仅反映已采集的数据。")
    if not specs:
        return Coverage(rows, False, False, f"本期有{len(rows)}个信息源的采集记录且均正常，但未读到信息源配置，"
                                            "无法确认是否有信息源漏采。")
    return Coverage(rows, True, True, f"本期{len(rows)}个启用的信息源均正常采集，未发现采集失败。")


def upcoming(after: date, days: int) -> list[tuple[date, str]]:
    """Calendar dates in (after, after + days]."""
    out = []
    for year in (after.year, after.year + 1):
        for m, d, note in CALENDAR:
            when = date(year, m, d)
            if after < when <= after + timedelta(days=days):
                out.append((when, note))
    return sorted(out)


# -- sentences ---------------------------------------------------------------------------

def _share(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "—"


def _overview_facts(ov: dict, n_stories: int, negatives_total: int, period: Period,
                    cov: Coverage) -> list[str]:
    prev = PREVIOUS[period.kind]
    total, neg = ov["total"], ov["negative"]
    if total == 0:
        before = (f"{prev}也未监测到" if not ov["previous_total"]
                  else f"{prev}监测到{ov['previous_total']}条")
        lines = [f"本期（{period.describe()}）未监测到知识产权相关舆情信息，{before}。"]
        if not cov.complete:
            lines.append("本期采集不完整（见附：采集情况），“无信息”不代表没有相关舆情。")
        return lines
    pol = ov["polarity"]
    line = (f"本期共监测到知识产权相关信息{total}条，{change_text(total, ov['previous_total'], prev)}，"
            f"归并为{n_stories}个事件。其中正面{pol.get('positive', 0)}条，"
            f"中性{pol.get('neutral', 0)}条，负面{neg}条，负面占比{pct(ov['negative_share'])}，"
            f"负面信息{change_text(neg, ov['previous_negative'], prev)}；涉及负面的事件{negatives_total}个。")
    lines = [line]
    if ov.get("sample"):
        lines.append(f"以上统计含随产品附带的示例数据{ov['sample']}条（真实公开报道，非本单位采集）。")
    if not cov.complete:
        lines.append("本期采集不完整（见附：采集情况），以上数字仅反映已采集的信息。")
    return lines


def _stories_fact(ranked: pd.DataFrame, stories: list[Story], qualified: int) -> str:
    """The sentence above the 热点事件 list, or in its place when no event qualifies."""
    if ranked.empty:
        return "本期未监测到相关信息，无热点事件。"
    if not stories:
        reposted = int((ranked["items"] >= HOT_MIN_ITEMS).sum())
        why = (f"{len(ranked)}个事件均只有1条报道" if not reposted
               else f"{reposted}个有转载的事件均与知识产权无关，不列入")
        return f"本期无转载量较大的事件（{why}）。"
    more = f"，列出前{len(stories)}个" if qualified > len(stories) else ""
    return (f"本期报道{HOT_MIN_ITEMS}条及以上的知识产权相关事件{qualified}个{more}，"
            f"按报道量排列，与知识产权直接相关的在前。")


def _summary_draft(ov: dict, cov: Coverage, period: Period) -> str:
    total, neg = ov["total"], ov["negative"]
    if total == 0:
        return "本期无可供研判的数据。"
    share = ov["negative_share"] or 0
    ch = ov["negative_change"]
    if neg == 0:
        text = "总体看，本期知识产权舆情态势平稳，未发现负面信息。"
    elif share >= 0.2:
        text = "总体看，本期负面信息占比较高，需加强研判和回应。"
    elif ch is not None and ch >= 0.5 and neg >= 3:
        text = f"总体看，本期负面信息较{PREVIOUS[period.kind]}明显增多，需重点关注。"
    else:
        text = "总体看，本期舆情态势总体平稳，个别负面信息需持续关注。"
    if not cov.complete:
        text += "（采集不完整，研判仅基于已采集信息。）"
    return text


def _stats_facts(data_total: int, trend: pd.DataFrame, platforms: pd.DataFrame, sources: pd.DataFrame,
                 cities: pd.DataFrame, ip_types: pd.DataFrame, daily: bool) -> dict[str, list[str]]:
    if data_total == 0:
        none = ["本期无数据。"]
        return {"trend": none, "sources": none, "cities": none, "ip_types": none}
    out: dict[str, list[str]] = {}
    by_day = trend.groupby("day")["count"].sum()
    if daily or len(by_day) < 2:
        out["trend"] = [f"本日共{int(by_day.sum())}条。"]
    else:
        peak = by_day.idxmax()
        neg_day = trend[trend["polarity"] == "negative"].set_index("day")["count"]
        line = f"从走势看，{cn_date(peak.date(), omit_year=True)}信息量最多（{int(by_day.max())}条）"
        if neg_day.sum():
            npk = neg_day.idxmax()
            line += f"，负面信息以{cn_date(npk.date(), omit_year=True)}最多（{int(neg_day.max())}条）"
        out["trend"] = [line + "。"]
    plat = platforms[platforms["count"] > 0]
    parts = [f"{PLATFORM_LABELS.get(p, p)}{int(n)}条（{_share(int(n), data_total)}）"
             for p, n in zip(plat["platform"], plat["count"])]
    top = "、".join(f"{s}（{int(n)}条）" for s, n in zip(sources["source"][:3], sources["count"][:3]))
    out["sources"] = [f"从平台看，{'，'.join(parts)}。发布信息最多的来源是{top}。"]
    anhui = cities[cities["count"] > 0]
    if anhui.empty:
        out["cities"] = ["本期没有可以确定为安徽省内具体城市的信息。"]
    else:
        listed = "、".join(f"{c}（{int(n)}条）" for c, n in zip(anhui["city"][:5], anhui["count"][:5]))
        silent = len(cities) - len(anhui)
        tail = f"；{silent}个市本期无相关信息" if silent else ""
        out["cities"] = [f"从地域看，省内信息涉及{len(anhui)}个市，较多的是{listed}{tail}。"]
    ipt = ip_types[ip_types["count"] > 0].sort_values("count", ascending=False, kind="stable")
    listed = "、".join(f"{t}（{int(n)}条，{_share(int(n), data_total)}）"
                       for t, n in zip(ipt["ip_type"][:4], ipt["count"][:4]))
    out["ip_types"] = [f"从知识产权类型看，{listed}。"]
    return out


def _assessment_draft(ov: dict, negatives_total: int, ip_types: pd.DataFrame, own: list[Story], own_configured: bool,
                      cov: Coverage) -> str:
    if ov["total"] == 0:
        lines = ["本期无数据，暂无研判意见。"]
        if not cov.complete:
            lines.append("建议检查采集进程和信息源状态，确保下期监测正常。")
        return "\n".join(lines)
    lines = []
    if negatives_total:
        lines.append(f"一是对本期{negatives_total}个负面事件，建议相关处室和属地市局及时核实、依法依规回应，"
                     "对尚未办结的事项跟踪督办。")
    else:
        lines.append("一是本期未发现负面舆情，建议保持日常监测。")
    ipt = ip_types[ip_types["count"] > 0].sort_values("count", ascending=False, kind="stable")
    if not ipt.empty:
        t, n = ipt.iloc[0]["ip_type"], int(ipt.iloc[0]["count"])
        lines.append(f"二是本期信息集中在{t}领域（{n}条，占{_share(n, ov['total'])}），"
                     f"建议围绕{t}保护加强政策解读和典型案例宣传。")
    if own_configured:
        if own:
            reach = sum(s.items - 1 for s in own)
            lines.append(f"三是本局自有渠道发布的{len(own)}条信息共被转载{reach}次，建议对传播较好的内容"
                         "总结经验，持续做好主动发布。")
        else:
            lines.append("三是本期未监测到本局自有渠道发布的信息，建议加强主动发布。")
    if not cov.complete:
        lines.append("另外，本期存在采集异常的信息源（见附），建议尽快排查，确保监测全面。")
    return "\n".join(lines)


def _outlook_draft(period: Period, negatives: list[Story], dates: list[tuple[date, str]],
                   hot: list[Story], total: int) -> str:
    lines = [f"{cn_date(d, omit_year=True)}：{note}。" for d, note in dates]
    follow = [s for s in negatives if s.handling not in ("已办结", "无需处置")][:3]
    if follow:
        lines.append("持续关注" + "、".join(event_label(s.title) for s in follow) + "等负面事件的后续发展。")
    if lines:
        return "\n".join(lines)
    if hot:
        return ("下期无固定宣传节点，建议保持日常监测，关注" + "、".join(event_label(s.title) for s in hot[:2])
                + "等本期热点事件的后续发展。")
    if total:
        return "下期无固定宣传节点，本期也未出现转载量较大的事件和待处置的负面事件，建议保持日常监测。"
    return "下期无固定宣传节点。本期未监测到相关信息，建议保持日常监测，并核实各信息源采集是否正常。"


# -- the build -----------------------------------------------------------------------

def build(store: Store, period: Period, *, sources: Iterable[Any] | None = None, unit: str = DEFAULT_UNIT,
          now: datetime | None = None, edits: Mapping[str, str] | None = None,
          number: int | None = None) -> BriefingData:
    """Everything the briefing prints for `period`, read from `store`.

    `sources` are the configured sources (objects or dicts with name, enabled,
    own); without them the collection appendix lists only sources that ran.
    `edits` replace the drafts of the EDITABLE texts.
    """
    now = queries.beijing_now(now)
    start, last = period.start, period.last_day
    ov = queries.period_overview(store, start, period.end, now)
    trend = queries.period_trend(store, start, last)
    per_source = queries.period_sources(store, start, last, limit=10_000)
    platforms = queries.period_platforms(store, start, last)
    ip_types = queries.period_ip_types(store, start, last)
    cities = queries.period_cities(store, start, last)
    items = queries.period_items(store, start, last)
    runs = queries.period_runs(store, start, last)
    cases = queries.period_cases(store, start, last)
    specs = list(sources or [])

    ranked = rank_stories(items)
    hot, hot_total = hot_stories(items, ranked, TOP_STORIES[period.kind], store)
    stories = stories_from(items, hot, store)
    neg = ranked[ranked["negative_items"] > 0].sort_values(["negative_items", "first"], ascending=[False, True],
                                                           kind="stable")
    negatives_total = len(neg)
    negatives = with_handling(store, stories_from(items, neg.head(MAX_LISTED), store))
    own_names = tuple(sorted(str(_spec(s, "name", "")) for s in specs if _spec(s, "own", False)))
    own = own_releases(store, own_names, period)
    cov = coverage(runs, per_source, specs)
    # Handling figures for the same negative events the section lists and counts (by publication in
    # the period). handling.summary counts stories first *collected* in the period instead, a different
    # set (a backfill or the sample data makes them far apart), so it is not used here.
    handled = handling_summary(store, items, neg, now)

    facts = {"overview": _overview_facts(ov, len(ranked), negatives_total, period, cov),
             "handling": [handling_line(handled)],
             "stories": [_stories_fact(ranked, stories, hot_total)]}
    facts |= _stats_facts(ov["total"], trend, platforms, per_source, cities, ip_types, period.kind == "daily")
    dates = upcoming(period.end, period.days + 30)
    drafts = {
        "summary": _summary_draft(ov, cov, period),
        "assessment": _assessment_draft(ov, negatives_total, ip_types, own, bool(own_names), cov),
        "outlook": _outlook_draft(period, negatives, dates, stories, ov["total"]),
    }
    data = BriefingData(
        period=period, unit=unit, compiled_on=now.date(), number=number, overview=ov, trend=trend,
        sources=per_source.head(10).reset_index(drop=True), platforms=platforms, ip_types=ip_types,
        cities=cities, stories=stories, negatives=negatives,
        negatives_total=negatives_total, own=own, own_configured=bool(own_names), cases=cases,
        coverage=cov, upcoming=dates, facts=facts, texts=dict(drafts),
        drafts=drafts, story_method=("相似报道按内容指纹合并为一个事件" if stories and stories[0].story_id
                                     else "标题相同（去除来源后缀和标点）的报道合并为一个事件"))
    return with_edits(data, edits)


def clean_text(text: str) -> str:
    """Staff text as the document will hold it: only characters XML cannot carry are dropped."""
    return _NOT_XML.sub("", str(text))


def with_edits(data: BriefingData, edits: Mapping[str, str] | None) -> BriefingData:
    """The same briefing with staff's versions of the editable texts (None or missing keys keep the draft).

    Texts are kept as typed except for `clean_text`; line breaks become paragraphs when rendered.
    """
    texts = dict(data.drafts)
    for key, value in (edits or {}).items():
        if key not in EDITABLE:
            raise KeyError(f"not an editable text: {key!r} (editable: {', '.join(EDITABLE)})")
        if value is not None:
            texts[key] = clean_text(value)
    return replace(data, texts=texts)
