"""Coverage: which IP types, channels and regions the year's approved and published cases cover.

The work plan asks for cases across IP types (专利、商标、著作权、植物新品种、地理标志、
商业秘密) and channels (行政执法; 司法 民事/刑事/行政; 海关; 文化市场); the report names
the categories that have no case yet, and `balance` shows the mix of a release.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from casebook.models import WORK_PLAN_CHANNELS, WORK_PLAN_IP_TYPES, channel_label, channel_prose, ip_label, region_bucket
from monitor.case_store import CaseStore
from monitor.store import Store

COUNTED_STATES = ("approved", "published")


@dataclass
class Balance:
    total: int = 0
    by_ip_type: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"total": self.total, "by_ip_type": self.by_ip_type, "by_channel": self.by_channel,
                "by_region": self.by_region}

    def summary(self) -> str:
        """'共10件：商标4件、专利3件…；行政执法5件…；安徽合肥2件…' for staff."""
        def part(d: dict, label) -> str:
            return "、".join(f"{label(k)}{v}件" for k, v in sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))
        return (f"共{self.total}件：{part(self.by_ip_type, ip_label)}；{part(self.by_channel, channel_prose)}；"
                f"{part(self.by_region, str)}")


@dataclass
class Coverage:
    year: int
    cells: dict[tuple[str, str, str], int]
    balance: Balance
    missing_ip_types: list[str]
    missing_channels: list[str]
    missing_pairs: list[tuple[str, str]]

    def matrix(self) -> list[dict]:
        """IP type × channel counts as rows for a table, Chinese labels, work-plan rows and columns first."""
        ips = list(WORK_PLAN_IP_TYPES) + sorted({k[0] for k in self.cells} - set(WORK_PLAN_IP_TYPES))
        chans = list(WORK_PLAN_CHANNELS) + sorted({k[1] for k in self.cells} - set(WORK_PLAN_CHANNELS))
        rows = []
        for ip in ips:
            row = {"知识产权类型": ip_label(ip)}
            for ch in chans:
                row[channel_label(ch)] = sum(n for (i, c, _), n in self.cells.items() if i == ip and c == ch)
            row["合计"] = self.balance.by_ip_type.get(ip, 0)
            rows.append(row)
        return rows

    def region_rows(self) -> list[dict]:
        return [{"地区": r, "案例数": n} for r, n in sorted(self.balance.by_region.items(), key=lambda kv: -kv[1])]

    def as_dict(self) -> dict:
        return {"year": self.year, "total": self.balance.total,
                "cells": [{"ip_type": i, "channel": c, "region": r, "count": n}
                          for (i, c, r), n in sorted(self.cells.items())],
                "balance": self.balance.as_dict(),
                "missing_ip_types": self.missing_ip_types, "missing_channels": self.missing_channels,
                "missing_pairs": [list(p) for p in self.missing_pairs]}


def balance(cases: list[dict]) -> Balance:
    return Balance(
        total=len(cases),
        by_ip_type=dict(Counter(c.get("ip_type") or "other" for c in cases)),
        by_channel=dict(Counter(c.get("channel") or "other" for c in cases)),
        by_region=dict(Counter(region_bucket(c.get("region") or "") for c in cases)),
    )


def coverage_of(cases: list[dict], year: int) -> Coverage:
    cells = Counter((c.get("ip_type") or "other", c.get("channel") or "other", region_bucket(c.get("region") or ""))
                    for c in cases)
    b = balance(cases)
    pairs = {(i, c) for i, c, _ in cells}
    return Coverage(
        year=year, cells=dict(cells), balance=b,
        missing_ip_types=[i for i in WORK_PLAN_IP_TYPES if i not in b.by_ip_type],
        missing_channels=[c for c in WORK_PLAN_CHANNELS if c not in b.by_channel],
        missing_pairs=[(i, c) for i in WORK_PLAN_IP_TYPES for c in WORK_PLAN_CHANNELS if (i, c) not in pairs],
    )


def coverage(store: Store, year: int) -> Coverage:
    """Coverage of `year` over approved and published cases (each case once, at its latest such revision)."""
    return coverage_of(CaseStore(store).for_year(year, COUNTED_STATES), year)


__all__ = ["Balance", "Coverage", "balance", "coverage", "coverage_of"]
