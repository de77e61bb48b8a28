"""Benchmark: `python -m monitor rejudge` (re-judge stored items after a retrain) on 10,000 items.

Items are SYNTHETIC: real titles and snippets (bench_ingest.real_texts) recombined pairwise so every
item is distinct, stored in a fresh SQLite file under links on the reserved .invalid domain; one in
twenty carries a staff correction, so the replay of corrections is part of what is timed.

Measures, on one machine, in one run:
  1. baseline   judge only: sentiment.load_judge().judge_many over the same (title, text) pairs
  2. rejudge    monitor.judging.rejudge on the store (read pages, judge, write, replay corrections)
The ratio rejudge / baseline is the store's overhead; the machine's noise cancels in it.

Usage: python bench/bench_rejudge.py [--items 10000]
Figures go to docs/benchmarks.md (by hand, with date and machine).
"""
from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import real_texts  # noqa: E402

from collectors.base import Item  # noqa: E402
from monitor import judging  # noqa: E402
from monitor.store import Store  # noqa: E402
from sentiment import load_judge  # noqa: E402
from sentiment.judgement import Judgement  # noqa: E402

CORRECTED_SHARE = 20      # one item in this many carries a staff correction


def pairs(n: int) -> list[tuple[str, str]]:
    texts, _ = real_texts()
    k = len(texts)
    if n > k * (k - 1):
        raise SystemExit(f"{k} texts give at most {k * (k - 1)} distinct pairs; asked for {n}")
    out = []
    for i in range(n):
        a, b = i % k, (i // k + 1 + i % k) % k
        out.append((texts[a][0], texts[a][1] + "。" + texts[b][1]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10_000)
    args = ap.parse_args()
    items = pairs(args.items)
    judge = load_judge()
    now = datetime.now(timezone.utc)
    calm = Judgement(negative=False, p_negative=0.1, polarity="neutral")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        store.add_items([(Item(url=f"https://bench.invalid/{i}", title=t, text=x, source="基准源", platform="news",
                               published_at=now - timedelta(minutes=i), fetched_at=now), calm)
                         for i, (t, x) in enumerate(items)])
        for item_id in range(1, args.items + 1, CORRECTED_SHARE):
            store.add_correction(item_id, "negative", "yes", "bench")

        t0 = time.perf_counter()
        judge.judge_many(items)
        baseline = time.perf_counter() - t0

        t0 = time.perf_counter()
        report = judging.rejudge(store, judge)
        rejudge = time.perf_counter() - t0
        store.close()
    n = args.items
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, Python {platform.python_version()}, "
          f"{n} items, {report.corrected} corrected")
    print(f"baseline judge_many: {baseline:6.2f} s  {n / baseline:7.0f} items/s")
    print(f"rejudge            : {rejudge:6.2f} s  {n / rejudge:7.0f} items/s  ratio {rejudge / baseline:.2f}")
    print(f"newly negative {len(report.newly_negative)}, no longer negative {len(report.no_longer_negative)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
