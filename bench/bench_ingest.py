"""Benchmark: `python -m collectors ingest` on a 10,000-item feed.

The feed is SYNTHETIC: titles and snippets of real items (../shared/datasets/
ip_opinion_dev.jsonl, or the bundled data/sample/ip_opinion_sample.jsonl when
../shared is absent) recombined pairwise so every item is distinct. Its channel
title says so, and its links point at the reserved .invalid domain.

Measures, on one machine, in one run:
  1. parse only      feed bytes -> Items (collectors.reader.read_feed)
  2. judge only      sentiment.load_judge().judge_many over the parsed items
  3. store only      Store.add_items into a fresh SQLite file
  4. end to end      `python -m collectors ingest FEED --db NEW.db --json` as a subprocess
                     (interpreter start, imports, model load, parse, judge, store)
  5. re-ingest       the same command again: every item a duplicate

Usage: python bench/bench_ingest.py [--items 10000] [--keep DIR]
Figures go to docs/benchmarks.md (by hand, with date and machine).
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED_DATASET = ROOT.parent / "shared" / "datasets" / "ip_opinion_dev.jsonl"
BUNDLED_SAMPLE = ROOT / "data" / "sample" / "ip_opinion_sample.jsonl"
BEIJING = timezone(timedelta(hours=8))


def real_texts() -> tuple[list[tuple[str, str]], str]:
    for path in (SHARED_DATASET, BUNDLED_SAMPLE):
        if path.exists():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            pairs = [(r["title"], r.get("snippet") or r.get("text", "")) for r in rows if r.get("title")]
            return pairs, path.relative_to(ROOT.parent if path == SHARED_DATASET else ROOT).as_posix()
    raise SystemExit("no source texts: neither ../shared/datasets/ip_opinion_dev.jsonl nor data/sample/ exists")


def synthetic_feed(n: int, texts: list[tuple[str, str]], seed: int = 7) -> bytes:
    """RSS 2.0 with n distinct items recombined from real titles and snippets; Chinese zone-less dates."""
    rng = random.Random(seed)
    start = datetime(2025, 6, 5, 8, 0, tzinfo=BEIJING)
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
           "<title>SYNTHETIC benchmark feed (recombined real titles) 合成基准数据，非真实报道</title>",
           "<link>https://bench.invalid/</link><description>synthetic</description>"]
    k = len(texts)
    if n > k * (k - 1):
        raise SystemExit(f"{k} texts give at most {k * (k - 1)} distinct pairs; asked for {n}")
    # Distinct ordered pairs, so no two items share title and text (the store would count them duplicates).
    pairs = [(c // k, c % k) for c in rng.sample(range(k * k), min(k * k, n + k)) if c // k != c % k][:n]
    for i, (a, b) in enumerate(pairs):
        (t1, s1), (t2, s2) = texts[a], texts[b]
        title = f"{t1[: max(4, len(t1) // 2)]}{t2[len(t2) // 2:]}"
        text = f"<p>{escape(s1)}</p><p>{escape(s2)}</p>"
        when = (start - timedelta(minutes=7 * i)).strftime("%Y-%m-%d %H:%M:%S")
        out.append(f"<item><title>{escape(title)}</title><link>https://bench.invalid/synthetic/{i}.html</link>"
                   f"<description>{escape(text)}</description><pubDate>{when}</pubDate></item>")
    out.append("</channel></rss>\n")
    return "\n".join(out).encode("utf-8")


def cli_ingest(feed: Path, db: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "collectors", "ingest", str(feed), "--db", str(db), "--json"],
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, help="write the feed and databases here instead of a temp dir")
    args = ap.parse_args()

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.items, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
            run(args.items, Path(tmp))


def run(n: int, work: Path) -> None:
    from collectors.reader import read_feed
    from monitor.store import Store
    from sentiment import load_judge

    texts, origin = real_texts()
    feed = work / "synthetic_feed.xml"
    feed.write_bytes(synthetic_feed(n, texts))
    print(f"feed: {n} synthetic items from {len(texts)} real texts ({origin}), {feed.stat().st_size / 1e6:.1f} MB")

    t = time.perf_counter()
    result = read_feed(feed, source="bench")
    parse_s = time.perf_counter() - t
    assert len(result.items) == n and not result.errors, (len(result.items), result.errors[:1])

    t = time.perf_counter()
    judge = load_judge()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    judgements = judge.judge_many([(it.title, it.text) for it in result.items])
    judge_s = time.perf_counter() - t

    t = time.perf_counter()
    with Store(work / "store_only.db") as store:
        counts = store.add_items(zip(result.items, judgements))
    store_s = time.perf_counter() - t
    assert counts.new == n

    e2e_db = work / "e2e.db"
    e2e_db.unlink(missing_ok=True)
    e2e_s, first = cli_ingest(feed, e2e_db)
    again_s, second = cli_ingest(feed, e2e_db)
    assert first["new"] == n and second["duplicate"] == n, (first, second)

    rows = [("parse only (read_feed)", parse_s), ("judge only (judge_many)", judge_s),
            ("store only (add_items)", store_s), ("end to end: collectors ingest (new db)", e2e_s),
            ("re-ingest: collectors ingest (all duplicates)", again_s)]
    print(f"python {platform.python_version()}, judge load {load_s:.2f} s (once per process)")
    print(f"{'step':48} {'seconds':>8} {'items/s':>9}")
    for name, seconds in rows:
        print(f"{name:48} {seconds:8.2f} {n / seconds:9.0f}")


if __name__ == "__main__":
    main()
