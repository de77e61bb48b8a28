"""The judge model as the store sees it: its status beside the staff corrections, re-judging stored
items after `python -m sentiment train` or `rollback`, and the audited actions the dashboard offers.

Items are judged when they are stored, so a retrained model changes nothing already collected
until this runs. Staff corrections survive it: the store replays each item's corrections over its
new judgement (`Store.update_judgements`). Handling records (研判 → 办结) belong to stories and are
not touched; alerts are not sent for items that become negative here, since they are not news.

Batches are written one transaction each, so an interrupted run leaves every item either with its
old judgement or its new one, and running again finishes the job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from monitor import handling_store, users
from monitor.store import Store
from sentiment import versions
from sentiment.judgement import Judgement

BATCH = 500


class Judge(Protocol):
    def judge_many(self, pairs: list[tuple[str, str]]) -> list[Judgement]: ...


@dataclass
class RejudgeReport:
    judged: int = 0
    newly_negative: list[int] = field(default_factory=list)     # item ids now flagged, not before
    no_longer_negative: list[int] = field(default_factory=list)
    corrected: int = 0                                           # items whose staff corrections were kept

    @property
    def changed(self) -> int:
        return len(self.newly_negative) + len(self.no_longer_negative)

    def summary(self) -> str:
        return (f"已重新判定 {self.judged} 条：新增负面 {len(self.newly_negative)} 条，"
                f"不再判为负面 {len(self.no_longer_negative)} 条；{self.corrected} 条保留人工更正")


def rejudge(store: Store, judge: Judge, *, since: str | None = None, batch: int = BATCH,
            progress: Callable[[int, int], None] | None = None) -> RejudgeReport:
    """Judge every stored item (published on or after `since`, an ISO date in UTC) again and store
    the result; `progress(done, total)` after each batch."""
    total = store.count_items(since=since)
    corrected_ids = store.corrected_item_ids()
    report = RejudgeReport()
    if progress:
        progress(0, total)
    after = 0
    while page := store.item_text_page(after, batch, since):
        after = page[-1][0]
        judgements = judge.judge_many([(t or "", x or "") for _, t, x in page])
        for item_id, was, now in store.update_judgements(zip((i for i, _, _ in page), judgements)):
            report.judged += 1
            report.corrected += item_id in corrected_ids
            if now and not was:
                report.newly_negative.append(item_id)
            elif was and not now:
                report.no_longer_negative.append(item_id)
        if progress:
            progress(report.judged, total)
    return report


RECENT = 200


def model_status(store: Store, recent: int = RECENT) -> dict:
    """`sentiment.versions.status` with this store's staff corrections and 负面处置 confirmations (what
    `python -m sentiment train` reads), plus the latest `recent` corrections the model has not learnt
    (newest first), so whoever retrains can read them first: one wrong click is learnt like any other."""
    corrections = store.corrections()
    out = versions.status(corrections + handling_store.confirmations(store))
    waiting = versions.since_training(corrections, out["current"])
    out["waiting"] = [{k: c.get(k) for k in ("created_at", "user", "title", "field", "value", "note", "item_id")}
                      for c in reversed(waiting[-recent:])]
    return out


def rejudge_as(store: Store, judge: Judge, user: users.User | str, *, since: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> RejudgeReport:
    """`rejudge`, then one audit entry. Not one transaction: a long re-judge must not hold the write
    lock the collector needs; each batch commits on its own."""
    report = rejudge(store, judge, since=since, progress=progress)
    users.audit(store, user, "model.rejudge", since or "全部",
                {"judged": report.judged, "newly_negative": len(report.newly_negative),
                 "no_longer_negative": len(report.no_longer_negative), "corrected": report.corrected})
    return report


def rollback_as(store: Store, user: users.User | str, model_dir=None) -> dict:
    """Put the previous model back (`sentiment.versions.rollback`) and record who did it."""
    before = (versions.read_card(model_dir) or {}).get("trained_at")
    card = versions.rollback(model_dir)
    users.audit(store, user, "model.rollback", str(card.get("trained_at")), {"replaced": before})
    return card
