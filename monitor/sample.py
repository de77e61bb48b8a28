"""The bundled sample corpus: real published items a fresh install shows before its first collection.

`build_sample` turns the labelled development set into the committed file
(data/sample/ip_opinion_sample.jsonl) with only what a collector would have
seen: title, text, source, URL, date as published, platform and region. No
labels travel with it: at load time the product's own judge scores the items,
exactly as it scores collected ones. Sample items are stored with
`is_sample=1` so one action removes them all.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from collectors.base import Item, canonical_url
from monitor.store import AddCounts, Store
from sentiment.judgement import Judgement

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8))
# A date without a time is read as 08:00 Beijing: the start of an office day,
# so the item falls on the same calendar day in Beijing and in UTC.
DATE_ONLY_HOUR = 8
SAMPLE_FIELDS = ("id", "title", "text", "source", "url", "published", "platform", "region")


class SampleError(ValueError):
    """The sample file (or the file it is built from) cannot be read; the message names the line."""


class Judge(Protocol):
    def judge(self, title: str, text: str) -> Judgement: ...


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        fh = open(path, encoding="utf-8")
    except OSError as e:
        raise SampleError(f"cannot read {path}: {e.strerror or e}") from None
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise SampleError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise SampleError(f"{path}:{n}: expected a JSON object")
            yield n, row


def build_sample(rows: Iterable[dict]) -> list[dict]:
    """Development-set rows -> sample rows (labels dropped, snippet as text, source_url as url).

    The outlet the page names stays the source even where the URL is a reprint
    mirror: that is what staff would quote. Rows without a title or URL, and a
    second row for the same canonical URL, are left out.
    """
    out, seen = [], set()
    for r in rows:
        title = (r.get("title") or "").strip()
        url = (r.get("source_url") or r.get("url") or "").strip()
        key = canonical_url(url)
        if not title or not key or key in seen:
            continue
        seen.add(key)
        out.append({
            "id": r.get("id", ""), "title": title,
            "text": (r.get("snippet") if "snippet" in r else r.get("text", "")) or "",
            "source": (r.get("source") or "").strip(), "url": url,
            "published": (r.get("published") or "").strip(),
            "platform": (r.get("platform") or "").strip(), "region": (r.get("region") or "").strip(),
        })
    return out


def build_sample_file(src: Path, dest: Path) -> int:
    """Read the development set at `src`, write the sample corpus to `dest`; returns the row count."""
    rows = build_sample(r for _, r in _read_jsonl(Path(src)))
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(dest)
    return len(rows)


def published_at(value: str, where: str = "") -> datetime | None:
    """"YYYY-MM-DD" -> 08:00 Beijing that day; "" -> None (the item then takes its fetch time)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(DATE_ONLY_HOUR), tzinfo=BEIJING)
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise SampleError(f"{where}: published {value!r} is not a date (YYYY-MM-DD)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=BEIJING)


def read_sample(path: Path, fetched_at: datetime | None = None) -> list[Item]:
    """The sample file as Items; undated rows get `fetched_at` (default now), marked estimated."""
    path = Path(path)
    fetched_at = fetched_at or datetime.now(timezone.utc)
    items = []
    for n, r in _read_jsonl(path):
        if not r.get("title") and not r.get("text"):
            raise SampleError(f"{path}:{n}: row has neither title nor text")
        items.append(Item(
            source=r.get("source") or "示例数据", url=r.get("url", ""), title=r.get("title", ""),
            text=r.get("text", ""), published_at=published_at(r.get("published", ""), f"{path}:{n}"),
            fetched_at=fetched_at, platform=r.get("platform", "")))
    return items


def load_sample(store: Store, judge: Judge, path: Path, fetched_at: datetime | None = None) -> AddCounts:
    """Judge the sample items with `judge` and store them marked as sample (all or nothing).

    Loading twice adds nothing the second time (items are keyed by URL).
    """
    items = read_sample(Path(path), fetched_at)
    pairs = [(it.title, it.text) for it in items]
    many = getattr(judge, "judge_many", None)
    judgements = list(many(pairs)) if many else [judge.judge(t, x) for t, x in pairs]
    counts = store.add_items(zip(items, judgements), sample=True)
    log.info("sample loaded from %s: %s new, %s duplicate", path, counts.new, counts.duplicate)
    return counts


def remove_sample(store: Store) -> int:
    """Delete every item stored as sample; collected items are untouched. Returns how many went."""
    n = store.remove_sample_items()
    log.info("sample removed: %s items", n)
    return n
