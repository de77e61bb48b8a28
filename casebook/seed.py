"""Import of case records in the seed format (../shared/casebook/cases.jsonl, one JSON object a line).

A malformed line is reported with its number and skipped; the others are kept.
Records the source only partly showed (detail partial/title_only, or missing
required fields) come in as 线索 with their gaps listed; complete ones as 草稿.
Re-importing a file adds nothing: a known id is reported as already present.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from casebook.models import gaps_of, normalise_channel, normalise_ip_type
from casebook.workflow import WorkflowError, create_case
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
            year = int(year)
        except (TypeError, ValueError):
            raise ValueError(f"year 不是年份: {year!r}")
        if not 1980 <= year <= 2100:
            raise ValueError(f"year 超出范围: {year}")
    else:
        year = None
    url = str(rec.get("source_url") or "").strip()
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


def import_lines(store: Store, lines: Iterable[str], *, actor: str = "import") -> ImportReport:
    report = ImportReport()
    cs = CaseStore(store)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            values, extras = record_to_case(rec)
        except (json.JSONDecodeError, ValueError) as e:
            report.errors.append(f"第{n}行: {e}")
            continue
        cid = str(rec.get("id") or "").strip() or None
        if cid and cs.exists(cid):
            report.present.append(cid)
            continue
        incomplete = extras["detail"] != "full" or bool(gaps_of(values | extras))
        try:
            cid = create_case(cs, values, actor=actor, role="editor", origin="import", case_id=cid,
                              state="clue" if incomplete else "draft", extra=extras,
                              note="导入" + (f"（detail={extras['detail']}）" if extras["detail"] else ""))
        except WorkflowError as e:
            report.errors.append(f"第{n}行: {e}")
            continue
        report.added.append(cid)
        if incomplete:
            report.as_clue.append(cid)
    return report


def import_file(store: Store, path: str | Path, *, actor: str = "import") -> ImportReport:
    with open(path, encoding="utf-8-sig") as f:
        return import_lines(store, f, actor=actor)
