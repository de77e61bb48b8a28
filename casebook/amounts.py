"""Structured amounts and sentences read out of a 处理结果 text.

"罚款561万元" → fine 5,610,000 yuan; "判赔2.02亿元" → damages 202,000,000;
"有期徒刑三年二个月" → sentence 38 months. The text stays the source of truth;
these figures let staff sort and sum cases, and are re-derived on every edit.
"""
from __future__ import annotations

import re

KIND_LABELS = {
    "fine": "罚款",
    "criminal_fine": "罚金",
    "damages": "赔偿",
    "payment": "支付",
    "confiscation": "没收/违法所得",
    "value": "涉案金额",
    "sentence": "有期徒刑",
    "detention": "拘役",
}

# Keyword → kind; the nearest keyword before an amount in the same clause decides.
_KIND_WORDS = [
    ("罚金", "criminal_fine"),
    ("罚没", "fine"), ("罚款", "fine"),
    ("判赔", "damages"), ("赔偿", "damages"), ("赔付", "damages"), ("索赔", "damages"),
    ("全额支持", "damages"), ("获赔", "damages"),
    ("违法所得", "confiscation"), ("没收", "confiscation"),
    ("违法经营额", "value"), ("经营额", "value"), ("货值", "value"), ("案值", "value"),
    ("涉案金额", "value"), ("涉案价值", "value"), ("非法获利", "value"),
    ("非法经营数额", "value"),
    ("支付", "payment"),
]
_KIND_RE = re.compile("|".join(re.escape(w) for w, _ in _KIND_WORDS))
_KIND_OF = dict(_KIND_WORDS)

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"(?:\d+(?:,\d{3})*(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"
_AMOUNT_RE = re.compile(
    rf"(?P<pre>超过|超|逾|近|约)?(?:人民币)?(?P<num>{_NUM})\s*(?P<more>余|多)?\s*(?P<unit>亿|万)?\s*(?P<more2>余|多)?元")
_CLAUSE_SPLIT = re.compile(r"[，。；;,！？\n]")
_SENTENCE_RE = re.compile(
    rf"(?P<kind>有期徒刑|拘役)(?P<body>(?:{_NUM}年)?(?:{_NUM}个?月)?)"
    rf"(?:[，、,]?缓刑(?P<prob>(?:{_NUM}年)?(?:{_NUM}个?月)?))?")


def cn_number(s: str) -> float:
    """Arabic or Chinese numerals ('3', '22.5', '三', '十二', '一千') as a number."""
    s = s.replace(",", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    total, current = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a number: {s!r}")
    return float(total + current)


def _months(body: str) -> int | None:
    m = re.fullmatch(rf"(?:(?P<y>{_NUM})年)?(?:(?P<m>{_NUM})个?月)?", body or "")
    if not m or not (m["y"] or m["m"]):
        return None
    return int(cn_number(m["y"]) * 12 if m["y"] else 0) + int(cn_number(m["m"]) if m["m"] else 0)


def parse_amounts(text: str) -> list[dict]:
    """Every money amount and prison term in `text`, in order.

    Money: {"kind", "label", "yuan", "approx", "text"}; approx is "more" for 余/多/超/逾
    and "about" for 约/近. Terms: {"kind": "sentence"|"detention", "months", "probation_months", "text"}.
    """
    out: list[dict] = []
    for clause in _CLAUSE_SPLIT.split(text or ""):
        kind = None
        pos = 0
        for m in _AMOUNT_RE.finditer(clause):
            # The closest kind word before this amount wins; "分别罚款A、B、C元" keeps "fine" for all.
            for k in _KIND_RE.finditer(clause, pos, m.start()):
                kind = _KIND_OF[k.group(0)]
            pos = m.end()
            if kind is None:
                continue
            try:
                n = cn_number(m["num"])
            except ValueError:
                continue
            n *= {"亿": 1e8, "万": 1e4}.get(m["unit"] or "", 1)
            approx = "more" if (m["more"] or m["more2"] or m["pre"] in ("超过", "超", "逾")) else \
                ("about" if m["pre"] in ("约", "近") else "")
            out.append({"kind": kind, "label": KIND_LABELS[kind], "yuan": round(n, 2),
                        "approx": approx, "text": m.group(0)})
        for m in _SENTENCE_RE.finditer(clause):
            months = _months(m["body"])
            if months is None:
                continue
            kind = "sentence" if m["kind"] == "有期徒刑" else "detention"
            out.append({"kind": kind, "label": KIND_LABELS[kind], "months": months,
                        "probation_months": _months(m["prob"] or "") or 0, "text": m.group(0)})
    return out


def _plain(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".")


def describe(amount: dict) -> str:
    """One amount as staff write it: '罚款 561万元', '有期徒刑 3年2个月（缓刑1年）'."""
    if "yuan" in amount:
        y = amount["yuan"]
        if y >= 1e8 and round(y / 1e8, 4) == y / 1e8:
            num, unit = _plain(y / 1e8), "亿"
        elif y >= 1e4 and round(y / 1e4, 2) == y / 1e4:
            num, unit = _plain(y / 1e4), "万"
        else:
            num, unit = _plain(y), ""
        pre = "约" if amount.get("approx") == "about" else ""
        more = "余" if amount.get("approx") == "more" else ""
        return f"{amount['label']} {pre}{num}{unit}{more}元"
    m = amount["months"]
    term = (f"{m // 12}年" if m // 12 else "") + (f"{m % 12}个月" if m % 12 else "")
    prob = amount.get("probation_months") or 0
    if prob:
        term += "（缓刑" + (f"{prob // 12}年" if prob // 12 else "") + (f"{prob % 12}个月" if prob % 12 else "") + "）"
    return f"{amount['label']} {term}"
