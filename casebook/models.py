"""What a case record is: its fields, codes and the Chinese labels staff see.

Codes (patent, judicial-civil, draft …) are what the database stores; labels are
what pages, CLI messages and releases print. The seed corpus already uses these
codes; the monitor's Chinese item tags are mapped with `IP_TYPE_FROM_LABEL`.
"""
from __future__ import annotations

from collectors.base import is_web_url

IP_TYPES: dict[str, str] = {
    "patent": "专利",
    "trademark": "商标",
    "copyright": "著作权",
    "plant_variety": "植物新品种",
    "geographical_indication": "地理标志",
    "trade_secret": "商业秘密",
    "ic_layout": "集成电路布图设计",
    "other": "其他",
}
# The dev corpus and older exports spell a few codes differently.
IP_TYPE_ALIASES = {"geo_indication": "geographical_indication", "mixed": "other", "none": "other"}
IP_TYPE_FROM_LABEL = {v: k for k, v in IP_TYPES.items()}

CHANNELS: dict[str, str] = {
    "administrative": "行政执法",
    "judicial-civil": "司法保护·民事",
    "judicial-criminal": "司法保护·刑事",
    "judicial-administrative": "司法保护·行政",
    "judicial-procuratorial": "检察公益诉讼",
    "customs": "海关",
    "cultural-market": "文化市场",
    "other": "其他",
}

STATES: dict[str, str] = {
    "clue": "线索",
    "draft": "草稿",
    "review": "待审",
    "approved": "已通过",
    "published": "已发布",
}

# Categories the provincial work plan names; coverage reports the empty ones.
WORK_PLAN_IP_TYPES = ("patent", "trademark", "copyright", "plant_variety",
                      "geographical_indication", "trade_secret")
WORK_PLAN_CHANNELS = ("administrative", "judicial-civil", "judicial-criminal",
                      "judicial-administrative", "customs", "cultural-market")

FIELD_LABELS: dict[str, str] = {
    "title": "案件名称",
    "headline": "标题",
    "ip_type": "知识产权类型",
    "channel": "保护渠道",
    "authority": "办案机关",
    "region": "地区",
    "year": "年份",
    "case_number": "案号",
    "parties": "当事人",
    "keywords": "关键词",
    "gist": "要旨",
    "facts": "基本案情",
    "outcome": "处理结果",
    "significance": "典型意义",
    "sources": "来源",
    "notes": "备注",
    "detail": "核对状态",
}

# How much of the original release the record reflects; anything but "full" must be checked first.
DETAIL_LEVELS = {"full": "已核对原文", "partial": "部分摘录，须核对原文", "title_only": "仅有标题，须补全"}

# Fields a case needs before it can go to review; a record missing any comes in as 线索.
REQUIRED = ("title", "ip_type", "channel", "authority", "region", "year", "facts", "outcome",
            "significance", "sources")

# Free-text fields an editor may change and the de-identification check reads.
TEXT_FIELDS = ("title", "headline", "authority", "region", "case_number", "parties", "gist",
               "facts", "outcome", "significance", "notes")
EDITABLE = TEXT_FIELDS + ("ip_type", "channel", "year", "keywords", "sources",
                          "release_name", "release_publisher", "release_date", "detail")
# Fields the published text is made of: de-identification scans these.
PUBLISHED_TEXT = ("title", "headline", "parties", "gist", "facts", "outcome", "significance")

# Markers the seed (and editors) use for "the source did not show this".
PLACEHOLDER_MARKERS = ("原文未摘录", "未摘录", "需核对", "原文截断", "数额原文截断")

ANHUI_CITIES = ("合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山",
                "滁州", "阜阳", "宿州", "六安", "亳州", "池州", "宣城")


def ip_label(code: str) -> str:
    return IP_TYPES.get(code, code or "未填")


def channel_label(code: str) -> str:
    return CHANNELS.get(code, code or "未填")


# In running text ("刑事司法保护2件"), not the tag-like "司法保护·刑事" of tables and filters.
CHANNEL_PROSE = {"judicial-civil": "民事司法保护", "judicial-criminal": "刑事司法保护",
                 "judicial-administrative": "行政司法保护"}


def channel_prose(code: str) -> str:
    return CHANNEL_PROSE.get(code) or channel_label(code)


def state_label(code: str) -> str:
    return STATES.get(code, code)


def normalise_ip_type(value: str) -> str:
    """A code from a code, an alias or a Chinese label; '' when empty; ValueError when unknown."""
    v = (value or "").strip()
    if not v:
        return ""
    v = IP_TYPE_ALIASES.get(v, v)
    if v in IP_TYPES:
        return v
    if v in IP_TYPE_FROM_LABEL:
        return IP_TYPE_FROM_LABEL[v]
    raise ValueError(f"未知的知识产权类型: {value!r}（可用: {', '.join(IP_TYPES)}）")


def normalise_channel(value: str) -> str:
    v = (value or "").strip()
    if not v:
        return ""
    if v in CHANNELS:
        return v
    by_label = {lab: code for code, lab in CHANNELS.items()}
    if v in by_label:
        return by_label[v]
    raise ValueError(f"未知的保护渠道: {value!r}（可用: {', '.join(CHANNELS)}）")


def is_placeholder(text: str) -> bool:
    """True when a field holds only a 'not shown in the source' note, not a fact."""
    t = (text or "").strip()
    if not t:
        return True
    return t.startswith(("（", "(")) and any(m in t for m in PLACEHOLDER_MARKERS)


# Facts that must each be traceable to a source URL. A source entry may name the facts it
# supports ({"url", "note", "fields": [...]}); an entry without "fields" is the published
# release itself and supports every fact of the record.
FACT_FIELDS = ("authority", "case_number", "parties", "facts", "outcome", "significance")


def sourced_fields(case: dict) -> list[str]:
    """Filled facts that no source URL supports."""
    sources = [s for s in (case.get("sources") or []) if (s or {}).get("url")]
    unsourced = []
    for f in FACT_FIELDS:
        value = str(case.get(f) or "").strip()
        if not value or is_placeholder(value):
            continue
        if not any(not s.get("fields") or f in s["fields"] for s in sources):
            unsourced.append(f)
    return unsourced


def parse_source_line(line: str) -> dict | None:
    """'URL' or 'URL | 基本案情, 处理结果' (labels or field codes) -> a source entry; None for a blank line."""
    url, _, rest = (line or "").partition("|")
    url = url.strip()
    if not url:
        return None
    if not is_web_url(url):
        raise ValueError(f"来源 {url[:80]!r} 不是以 http:// 或 https:// 开头的网址（每行一个链接）")
    by_label = {FIELD_LABELS[f]: f for f in FACT_FIELDS}
    fields = []
    for word in rest.replace("，", ",").replace("、", ",").split(","):
        w = word.strip()
        if not w:
            continue
        code = by_label.get(w, w)
        if code not in FACT_FIELDS:
            raise ValueError(f"来源行中的字段 {w!r} 不是可溯源的事实字段（可用：{'、'.join(by_label)}）")
        fields.append(code)
    return {"url": url, "note": "", **({"fields": fields} if fields else {})}


def source_line(source: dict) -> str:
    """The editable text form of one source entry (inverse of parse_source_line)."""
    fields = source.get("fields") or []
    labels = "、".join(FIELD_LABELS.get(f, f) for f in fields)
    return f"{source.get('url', '')} | {labels}" if labels else source.get("url", "")


def gaps_of(case: dict) -> list[str]:
    """Required fields that are missing or hold only a placeholder, facts flagged for checking,
    and facts no source URL supports."""
    gaps = []
    for f in REQUIRED:
        v = case.get(f)
        if f == "year":
            missing = not v
        elif f == "sources":
            missing = not any((s or {}).get("url") for s in (v or []))
        else:
            missing = is_placeholder(str(v or "")) if f in ("outcome", "facts", "significance") \
                else not str(v or "").strip()
        if missing:
            gaps.append(f)
    outcome = str(case.get("outcome") or "")
    if "outcome" not in gaps and any(m in outcome for m in PLACEHOLDER_MARKERS):
        gaps.append("outcome:需核对")
    if case.get("detail") in ("partial", "title_only"):
        gaps.append("detail:" + DETAIL_LEVELS[case["detail"]])
    if "sources" not in gaps:
        gaps += [f"sources:{FIELD_LABELS[f]}无出处" for f in sourced_fields(case)]
    return gaps


def gap_labels(gaps: list[str]) -> list[str]:
    out = []
    for g in gaps:
        field, _, note = g.partition(":")
        out.append(FIELD_LABELS.get(field, field) + (f"（{note}）" if note else "（缺）"))
    return out


def province_of(region: str) -> str:
    """'安徽芜湖' → '安徽'; '广东广州/浙江温州' → '广东'; '' → ''."""
    r = (region or "").strip()
    if not r:
        return ""
    r = r.split("/")[0]
    for p in ("内蒙古", "黑龙江"):
        if r.startswith(p):
            return p
    return r[:2]


def region_bucket(region: str) -> str:
    """The coverage region: an Anhui city, 安徽（省级）, 省外 or 未填."""
    r = (region or "").strip()
    if not r:
        return "未填"
    if r.startswith("安徽"):
        for city in ANHUI_CITIES:
            if city in r:
                return city
        return "安徽（省级）"
    if any(city in r for city in ANHUI_CITIES) and "/" not in r:
        return next(c for c in ANHUI_CITIES if c in r)
    return "省外"
