"""How long one alert evaluation takes after a collection pass, on a large database.

Builds a throwaway database with N synthetic items (marked as such in their
titles: generated text, not real reports) spread over a year, the last pass's
items in the final 15 minutes, the example rules and a sources list; then times
`monitor.alerts.evaluate` (no channels: sending is network-bound, not measured).

    python bench/alerts_evaluate.py [--items 1000000] [--recent 300] [--repeat 5]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.registry import Source  # noqa: E402
from monitor import admin_cli, alerts  # noqa: E402
from monitor.settings import Settings  # noqa: E402
from monitor.store import Store, iso  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["专利", "商标", "侵权", "维权难", "假冒", "合肥", "芜湖", "盗版", "抢注", "执法", "宣传周", "地理标志"]
SOURCES = [Source(name=f"源{i:02d}", url=f"https://s{i}.example/rss", weight=1.0 + (i % 4) * 0.5,
                  interval_minutes=30 + 15 * (i % 3)) for i in range(40)]


def build(path: Path, n: int, recent: int, now: datetime) -> None:
    rnd = random.Random(7)
    with Store(path) as s:
        cols = {r[1] for r in s.conn.execute("PRAGMA table_info(items)")}
        rows = []
        for i in range(n):
            is_recent = i >= n - recent
            at = now - (timedelta(minutes=rnd.uniform(0, 15)) if is_recent else timedelta(days=rnd.uniform(0, 365)))
            neg = rnd.random() < 0.2
            title = f"[合成] {' '.join(rnd.sample(WORDS, 3))} {i}"
            row = {"key": f"https://bench.example/{i}", "content_hash": f"h{i}", "url": f"https://bench.example/{i}",
                   "title": title, "text": title, "source": SOURCES[i % len(SOURCES)].name, "platform": "news",
                   "published_at": iso(at), "fetched_at": iso(at), "negative": int(neg),
                   "p_negative": 0.8 if neg else 0.1, "polarity": "negative" if neg else "neutral"}
            if "story_id" in cols:
                row["story_id"] = i - (i % 3) + 1
            rows.append(row)
        names = list(rows[0])
        with s.atomic() as c:
            c.executemany(f"INSERT INTO items ({', '.join(names)}) VALUES ({', '.join(':' + k for k in names)})", rows)
            c.executemany("INSERT INTO runs (source, started_at, finished_at, status) VALUES (?,?,?,?)",
                          [(src.name, iso(now - timedelta(hours=h)), iso(now - timedelta(hours=h)), "ok")
                           for src in SOURCES for h in range(0, 48, 2)])
    admin_cli.main(["alerts", "load-rules", str(ROOT / "data" / "alert_rules.example.toml"), "--db", str(path)])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--recent", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    now = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        build(path, args.items, args.recent, now)
        print(f"built {args.items} items in {time.perf_counter() - t0:.1f} s; file {path.stat().st_size / 1e6:.0f} MB")
        timings = []
        with Store(path) as s:
            settings = Settings.load(db=path, env={})
            for k in range(args.repeat):
                # a fresh minute each time: de-duplication would otherwise make later rounds trivially cheap
                with s.atomic() as c:
                    c.execute("DELETE FROM alert_firing_items")
                    c.execute("DELETE FROM alert_firings")
                t = time.perf_counter()
                report = alerts.evaluate(s, settings, now, sources=SOURCES)
                timings.append(time.perf_counter() - t)
        print(f"evaluate (4 example rules): median {statistics.median(timings) * 1000:.0f} ms "
              f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}) over {args.repeat} runs; "
              f"{len(report.fired)} alerts per run; errors: {report.errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
