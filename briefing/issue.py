"""Issuing a briefing: take its 期号 (per kind and year), build it, render it, write the file.

This is the one call the CLI and the 周报 page make. Issuing the same period
again keeps its 期号, so a corrected re-issue does not skip numbers.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from briefing.build import DEFAULT_UNIT, EDITABLE, BriefingData, build
from briefing.docx import TEMPLATE, render
from briefing.period import Period
from monitor.briefing_store import BriefingStore
from monitor.store import Store


def planned_number(store: Store, period: Period) -> int:
    """The 期号 this period has, or would get if issued now."""
    bs = BriefingStore(store)
    old = bs.find(period.kind, period.start, period.end)
    return old["number"] if old else bs.next_number(period.kind, period.year)


def was_issued(store: Store, period: Period) -> bool:
    """Whether this period has been issued before (from the page or the command line, edited or not)."""
    return BriefingStore(store).find(period.kind, period.start, period.end) is not None


def saved_edits(store: Store, period: Period) -> dict[str, str]:
    """The texts staff wrote when this period was last issued (empty if never)."""
    old = BriefingStore(store).find(period.kind, period.start, period.end)
    return {k: v for k, v in (old["edits"] if old else {}).items() if k in EDITABLE}


def make(store: Store, period: Period, *, sources: Iterable[Any] | None = None, unit: str = DEFAULT_UNIT,
         edits: Mapping[str, str] | None = None, now: datetime | None = None,
         template: str | Path | None = TEMPLATE, record: bool = True) -> tuple[BriefingData, bytes]:
    """Build and render the briefing; with `record`, the issue is stored and numbered first."""
    edits = {k: v for k, v in (edits or {}).items() if v is not None}
    if record:
        row = BriefingStore(store).issue(period.kind, period.year, period.start, period.end, unit=unit,
                                         edits=edits)
        number = row["number"]
    else:
        number = planned_number(store, period)
    data = build(store, period, sources=sources, unit=unit, now=now, edits=edits, number=number)
    return data, render(data, template)


def make_file(store: Store, period: Period, out: str | Path, **kw) -> BriefingData:
    """`make`, then `write_file`, as one step: a file that cannot be written takes no 期号."""
    with store.atomic():
        data, content = make(store, period, **kw)
        write_file(out, content)
    return data


def write_file(path: str | Path, content: bytes) -> Path:
    """Write all or nothing: a crash never leaves half a .docx under the requested name."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a briefing is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
