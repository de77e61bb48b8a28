"""Candidate cases from monitor items: reports of a concluded enforcement action or judgment.

An item qualifies when it reports that something was done (查处, 罚款, 判决, 判赔,
查获, 移送 …) to one identifiable case, not a plea ("恳请依法查处") or a yearly
tally ("全年共查处1585件"). Each candidate becomes a 线索 linked to its item,
with the fields the text gives already filled in; an editor checks the rest
against the official release.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from casebook.models import IP_TYPE_ALIASES, IP_TYPE_FROM_LABEL, IP_TYPES
from casebook.workflow import create_case, link_item
from monitor.case_store import CaseStore
from monitor.queries import day_start_iso, parse_day
from monitor.store import Store

ACTION_WORDS = ("查处", "罚款", "判决", "判赔", "查获", "移送", "判处", "罚金", "没收", "查扣", "扣留",
                "捣毁", "抓获", "宣判", "获赔", "行政处罚", "破获", "侦破", "责令停止")
# A verb right after one of these is asked for or promised, not done.
_NOT_DONE = re.compile(r"(?:依法|严肃|严厉|恳请|希望|要求|请求|呼吁|应当|应该|将|拟|要|予以|加大|从严)$")
# Yearly or campaign tallies: many cases summed up, none identifiable.
_TALLY = re.compile(r"共(?:立案)?(?:查处|侦办|办理|查办|查获|查扣|扣留|出动|破获)|累计|全年|同比|今年以来|年以来|"
                    r"专项行动中|共计.{0,6}[起件宗]案|案件\s*[\d.]+万?[起件宗]|\d+(?:\.\d+)?万起|"
                    r"\d{4}年.{0,10}(?:查扣|查获|查处|扣留|破获).{0,12}?[\d.]+万(?:件|批|起)")
_CASE_NUMBER = re.compile(r"[（(〔［\[]\s*(?:19|20)\d{2}\s*[）)〕］\]][\u4e00-\u9fff\d\-]{2,24}?号")
_OUTCOME_WORDS = re.compile(r"罚款|罚没|判赔|赔偿|判处|有期徒刑|罚金|没收|违法所得|责令|扣留|查获|查扣|移送|抓获|"
                            r"货值|案值|涉案金额|涉案价值|获赔")
_AUTHORITY_SUFFIX = re.compile(
    r"(?:市场监督管理局|市场监管局|市场监管分局|市场和质量监督管理局|知识产权局|工商局|工商分局|人民法院|"
    r"知识产权法庭|中级法院|法院|人民检察院|检察院|公安局|公安分局|派出所|海关|版权局|综合执法支队|"
    r"综合执法总队|综合执法大队|执法局|执法总队|执法支队|执法大队|农业农村局)")
_AUTH_STOP = set("，。；：、（）()“”\"' \n:,;！？!?【】的在从由向经据对被及与和讯电报至诉")
_LEADING_TIME = re.compile(r"^.*?(?:近日|日前|昨日|昨天|今天|今日|获悉|记者|\d+月\d+日|\d{4}年|日)")
_IP_WORDS = (("trade_secret", "商业秘密"), ("plant_variety", "品种"), ("plant_variety", "种子"),
             ("geographical_indication", "地理标志"), ("patent", "专利"), ("copyright", "著作权"),
             ("copyright", "版权"), ("copyright", "盗版"), ("copyright", "盗录"), ("trademark", "商标"),
             ("trademark", "假冒"), ("trademark", "山寨"))


@dataclass
class Candidate:
    item_id: int | None
    url: str
    title: str
    matched: list[str]
    values: dict = field(default_factory=dict)
    case_id: str | None = None

    def as_dict(self) -> dict:
        return {"item_id": self.item_id, "url": self.url, "title": self.title, "matched": self.matched,
                "case_id": self.case_id, "values": self.values}


def concluded_actions(text: str) -> list[str]:
    """The action words in `text` that report something done; [] for pleas and yearly tallies."""
    if _TALLY.search(text):
        return []
    done = []
    for w in ACTION_WORDS:
        for m in re.finditer(w, text):
            if not _NOT_DONE.search(text[max(0, m.start() - 4):m.start()]):
                done.append(w)
                break
    return done


def find_authority(text: str) -> str:
    for m in _AUTHORITY_SUFFIX.finditer(text):
        i = m.start()
        while i > 0 and text[i - 1] not in _AUTH_STOP and m.start() - i < 14:
            i -= 1
        name = _LEADING_TIME.sub("", text[i:m.end()])
        if len(name) > len(m.group(0)):
            return name
    return ""


def guess_channel(text: str) -> str:
    if "海关" in text:
        return "customs"
    if re.search(r"有期徒刑|拘役|罪|公安|警方|检察院|犯罪嫌疑人|被告人|刑事", text):
        return "judicial-criminal"
    if re.search(r"法院|法庭|判赔|判决|败诉|胜诉|一审|二审|再审", text):
        return "judicial-civil"
    if re.search(r"文化市场|文化执法|文化和旅游|文旅", text):
        return "cultural-market"
    if re.search(r"市场监管|市监|工商|知识产权局|农业农村|版权局|执法", text):
        return "administrative"
    return ""


def guess_ip_type(item: dict, text: str) -> str:
    tag = item.get("ip_type") or ""
    code = IP_TYPE_FROM_LABEL.get(tag) or IP_TYPE_ALIASES.get(tag, tag)
    if code in IP_TYPES and code != "other":
        return code
    for code, word in _IP_WORDS:
        if word in text:
            return code
    return ""


def _outcome_sentences(text: str) -> str:
    parts = [p for p in re.split(r"(?<=[。；;！!])", text) if p.strip()]
    return "".join(p for p in parts if _OUTCOME_WORDS.search(p)).strip()


def candidate_values(item: dict) -> dict:
    """Case fields pre-filled from one item; what the text does not give stays empty (a gap)."""
    title = (item.get("title") or "").strip()
    body = (item.get("text") or "").strip()
    text = body if body.startswith(title) else f"{title} {body}".strip()
    year = None
    if item.get("published_at") and not item.get("published_estimated"):
        year = int(str(item["published_at"])[:4])
    number = _CASE_NUMBER.search(text)
    url = item.get("url") or ""
    return {
        "title": title[:80],
        "ip_type": guess_ip_type(item, text),
        "channel": guess_channel(text),
        "authority": find_authority(text),
        "region": item.get("region") or "",
        "year": year,
        "case_number": number.group(0) if number else "",
        "facts": text,
        "outcome": _outcome_sentences(body) or _outcome_sentences(title),
        # The item supports only what was taken from it; facts an editor adds later need their own source.
        "sources": [{"url": url, "note": item.get("source") or "",
                     "fields": ["authority", "case_number", "facts", "outcome"]}] if url else [],
        "notes": f"由舆情条目发现：{item.get('source') or ''} {str(item.get('published_at') or '')[:10]}".strip(),
    }


def find_candidates(store: Store, *, since: str | None = None) -> list[Candidate]:
    """Items not yet linked to any case that report a concluded action, oldest first."""
    cs = CaseStore(store)
    linked_ids, linked_urls = cs.linked_item_ids(), cs.linked_urls()
    out = []
    for item in cs.items_matching(ACTION_WORDS, since=since):
        if item["id"] in linked_ids or (item.get("url") and item["url"] in linked_urls):
            continue
        if item.get("topic") == "off":
            continue
        matched = concluded_actions(f"{item.get('title') or ''} {item.get('text') or ''}")
        if not matched:
            continue
        out.append(Candidate(item["id"], item.get("url") or "", item.get("title") or "", matched,
                             candidate_values(item)))
    return out


def discover(store: Store, *, actor: str = "discovery", since: str | None = None, limit: int | None = None,
             dry_run: bool = False) -> list[Candidate]:
    """Turn candidates into 线索 linked to their items (or just list them with `dry_run`).

    `since` is a Beijing day (YYYY-MM-DD); a bad day or a limit under 1 is a ValueError saying so.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"数量上限应为正整数，收到 {limit}")
    found = find_candidates(store, since=day_start_iso(parse_day(since)) if since else None)[:limit]
    if dry_run:
        return found
    cs = CaseStore(store)
    for c in found:
        with cs.atomic():
            c.case_id = create_case(cs, c.values, actor=actor, role="editor", origin="discovery", state="clue",
                                    extra={"detail": "partial"},
                                    note="由舆情条目自动发现：" + "、".join(c.matched))
            link_item(cs, c.case_id, {"id": c.item_id, "url": c.url, "title": c.title}, actor=actor,
                      role="editor")
    return found
