"""The current item view as a file staff can open: CSV (UTF-8 with BOM, for Excel) or XLSX.

Cells that a spreadsheet would run as a formula (=, +, -, @ first) are prefixed
with an apostrophe: collected text is hostile, and an export must not become a
formula injection on a colleague's machine.
"""
from __future__ import annotations

import csv
import io
import re

import pandas as pd
from openpyxl import Workbook

from collectors.registry import PLATFORM_LABELS
from monitor import queries
from monitor.store import Store

HEADERS = {"id": "编号", "published_at": "发布时间", "title": "标题", "text": "正文摘要", "source": "信息源",
           "platform": "平台", "author": "作者", "url": "链接", "polarity": "倾向", "negative": "负面舆情",
           "p_negative": "负面概率", "ip_type": "知识产权类型", "channel": "渠道", "region": "地域",
           "reasons": "判定理由", "story_id": "事件编号", "is_sample": "示例数据", "schemes": "监测方案",
           "handling": "处置状态"}
POLARITY = {"negative": "负面", "neutral": "中性", "positive": "正面"}
HANDLING = {"pending": "待研判", "assigned": "已交办", "responded": "已回应", "closed": "已办结",
            "dismissed": "无需处置", "none": ""}
# Characters XML 1.0 (and so XLSX) cannot hold.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_CELL_MAX = 32_767


def _safe(v):
    if isinstance(v, str):
        v = _ILLEGAL.sub("", v)
        if v[:1] in ("=", "+", "-", "@", "\t", "\r"):
            v = "'" + v
    return v


def table(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    # Spreadsheet readers want the time as they would write it, and to see which times are estimates.
    estimated = out.pop("published_estimated") if "published_estimated" in out else [False] * len(out)
    out["published_at"] = [(t or "")[:16].replace("T", " ") + ("（估）" if e else "")
                           for t, e in zip(out["published_at"], estimated)]
    out["platform"] = out["platform"].map(lambda p: PLATFORM_LABELS.get(p, p or ""))
    out["polarity"] = out["polarity"].map(lambda p: POLARITY.get(p, p or ""))
    out["handling"] = out["handling"].map(lambda h: HANDLING.get(h, h))
    out["negative"] = out["negative"].map({True: "是", False: "否"}).fillna("")
    out["is_sample"] = out["is_sample"].map({True: "是", False: ""})
    return out.rename(columns=HEADERS)


def to_csv(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        w.writerow([_safe("" if v is None or (isinstance(v, float) and v != v) else v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("信息")
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append([_safe(v)[:XLSX_CELL_MAX] if isinstance(v, str) else (None if v is None or (
            isinstance(v, float) and v != v) else v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_view(store: Store, f: queries.ItemFilter, fmt: str = "csv") -> tuple[bytes, list[str]]:
    """Every item of the view `f` as CSV or XLSX bytes, with notes (truncation). Raises
    SearchSyntaxError on a bad search and ValueError on an unknown format."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown export format {fmt!r}: csv or xlsx")
    frame, notes = queries.view_records(store, f)
    t = table(frame)
    return (to_csv(t) if fmt == "csv" else to_xlsx(t)), notes
