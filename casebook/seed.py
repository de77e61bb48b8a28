"""Import of case records in the seed format (../shared/casebook/cases.jsonl, one JSON object a line).

A malformed line is reported with its number and skipped; the others are kept.
Records the source only partly showed (detail partial/title_only, or missing
required fields) come in as 线索 with their gaps listed; complete ones as 草稿.
Re-importing a file adds nothing: a case already here (same id and title or source link; no id and the
same title) is reported as present. An id another case holds takes the next free number instead.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from casebook.models import gaps_of, normalise_channel, normalise_ip_type
from casebook.workflow import WorkflowError, create_case
from collectors.base import is_web_url, scrub
from monitor.case_store import CaseStore
from monitor.store import Store


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    as_clue: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)   # "第N行: reason"

    def as_dict(self) -> dict:
        return {"added": len(self.added), "clues": len(self.as_clue), "already_present": len(self.present),
                "errors": self.errors}


def record_to_case(rec: dict) -> tuple[dict, dict]:
    """Seed record → (editable case values, import-only extras). Raises ValueError on bad codes/types."""
    if not isinstance(rec, dict):
        raise ValueError("不是 JSON 对象")
    title = str(rec.get("title") or "").strip()
    if not title:
        raise ValueError("缺少 title")
    year = rec.get("year")
    if year not in (None, ""):
        try:
            year = int(str(year).strip())    # not int(2026.7): a fraction is a typing error, not a year
        except (TypeError, ValueError):
            raise ValueError(f"year 不是年份: {year!r}")
        if not 1980 <= year <= 2100:
            raise ValueError(f"year 超出范围: {year}")
    else:
        year = None
    url = str(rec.get("source_url") or "").strip()
    if url and not is_web_url(url):
        raise ValueError(f"source_url 不是 http/https 网页链接: {url[:80]!r}")
    values = {
        "title": title,
        "ip_type": normalise_ip_type(str(rec.get("ip_type") or "")),
        "channel": normalise_channel(str(rec.get("channel") or "")),
        "authority": str(rec.get("authority") or ""),
        "region": str(rec.get("region") or ""),
        "year": year,
        "case_number": str(rec.get("case_number") or ""),
        "parties": str(rec.get("parties") or ""),
        "keywords": rec.get("keywords") or [],
        "gist": str(rec.get("gist") or ""),
        "facts": str(rec.get("summary") or rec.get("facts") or ""),
        "outcome": str(rec.get("outcome") or ""),
        "significance": str(rec.get("significance") or ""),
        "sources": [{"url": url, "note": str(rec.get("source_release") or "")}] if url else [],
        "release_name": str(rec.get("source_release") or ""),
        "release_publisher": str(rec.get("release_publisher") or ""),
        "release_date": str(rec.get("release_date") or ""),
        "notes": "；".join(x for x in (str(rec.get("notes") or ""),
                                       f"原发布脱敏方式：{rec['deidentification']}" if rec.get("deidentification")
                                       else "") if x),
    }
    extras = {"detail": str(rec.get("detail") or "")}
    return values, extras


def _same_case(held: dict, values: dict) -> bool:
    """The stored case is this record imported before: same title, or (title edited since) same source link."""
    if held["title"] == values["title"]:
        return True
    urls = {x.get("url") for x in values.get("sources") or [] if x.get("url")}
    return bool(urls & {x.get("url") for x in held.get("sources") or []})


def scrub_record(rec: dict) -> dict:
    """Text fields with any lone surrogate (a JSON escape such as "\\ud800") replaced, so they can be stored."""
    def one(v):
        if isinstance(v, str):
            return scrub(v)
        return [one(x) for x in v] if isinstance(v, list) else v
    return {k: one(v) for k, v in rec.items()}


def import_lines(store: Store, lines: Iterable[str], *, actor: str = "import") -> ImportReport:
    report = ImportReport()
    cs = CaseStore(store)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            if isinstance(line, bytes):
                line = line.decode("utf-8-sig" if n == 1 else "utf-8")
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("不是 JSON 对象")
            if not isinstance(rec.get("id") or "", (str, int)):
                raise ValueError(f"编号 id 应为文字，收到 {rec['id']!r}"[:120])
            values, extras = record_to_case(scrub_record(rec))
        except UnicodeDecodeError as e:
            report.errors.append(f"第{n}行: 不是 UTF-8 编码（第 {e.start} 字节），已跳过")
            continue
        except (json.JSONDecodeError, ValueError) as e:
            report.errors.append(f"第{n}行: {e}")
            continue
        # The same case imported again (same id, or no id and the same title) is already here. An id that
        # another case holds (one numbered earlier by an id-less import) must not block this one: it
        # takes the next free number, and the history says so.
        cid = str(rec.get("id") or "").strip() or None
        held = cs.get(cid) if cid else None
        same_title = cs.ids_titled(values["title"])
        if held and _same_case(held, values):
            report.present.append(cid)
            continue
        if same_title and (not cid or held):    # no id, or renumbered by an earlier import of this file
            report.present.append(same_title[0])
            continue
        renumbered = ""
        if held:
            renumbered, cid = f"；原编号 {cid} 已被其他案例使用", None
        incomplete = extras["detail"] != "full" or bool(gaps_of(values | extras))
        try:
            cid = create_case(cs, values, actor=actor, role="editor", origin="import", case_id=cid,
                              state="clue" if incomplete else "draft", extra=extras,
                              note="导入" + (f"（detail={extras['detail']}）" if extras["detail"] else "") + renumbered)
        except WorkflowError as e:
            report.errors.append(f"第{n}行: {e}")
            continue
        report.added.append(cid)
        if incomplete:
            report.as_clue.append(cid)
    return report


def import_file(store: Store, path: str | Path, *, actor: str = "import") -> ImportReport:
    """Lines are decoded one by one, so a line that is not UTF-8 is reported and the rest still imported."""
    with open(path, "rb") as f:
        return import_lines(store, f, actor=actor)
