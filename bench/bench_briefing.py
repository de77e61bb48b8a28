"""Benchmark: a weekly briefing over a week holding 50,000 items (target ≤ 10 s).

The items are SYNTHETIC: titles and texts of real items (../shared/datasets/
ip_opinion_dev.jsonl, or the bundled data/sample/ip_opinion_sample.jsonl when
../shared is absent) recombined pairwise; a third of them are reposts of an
earlier item by another outlet, so stories form as they do in real data.
Their sources are named "合成来源NN", their links point at the reserved
.invalid domain, and judgements are drawn at random (about 12 % negative)
instead of running the model, which is not what is measured here.

Measures, on one machine, in one run:
  0. baseline        build + render of an empty week on the same file (the fixed cost)
  1. queries         briefing.build.build (every period query, story grouping, texts)
  2. render          briefing.docx.render (4 charts through vl-convert, the .docx); cold and warm
  3. end to end      `python -m briefing weekly --week … --db … --out …` as a subprocess
                     (interpreter start, imports, engine start, queries, charts, docx, write)

Usage: python bench/bench_briefing.py [--items 50000] [--keep DIR]
Figures go to docs/benchmarks.md (by hand, with date and machine).
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from briefing import build as B  # noqa: E402
from briefing import docx as D  # noqa: E402
from briefing.period import last_full_week, week  # noqa: E402
from collectors.base import Item, content_hash  # noqa: E402
from monitor import queries  # noqa: E402
from monitor import store as store_mod  # noqa: E402
from monitor.store import Store  # noqa: E402
from sentiment.judgement import IP_TYPES, Judgement  # noqa: E402

SHARED_DATASET = ROOT.parent / "shared" / "datasets" / "ip_opinion_dev.jsonl"
BUNDLED_SAMPLE = ROOT / "data" / "sample" / "ip_opinion_sample.jsonl"
PLATFORMS = ("news", "news", "news", "government", "social", "social", "forum", "wechat", "video")
OWN = "合成来源·本局网站"
N_SOURCES = 60


def real_texts() -> tuple[list[tuple[str, str]], str]:
    for path in (SHARED_DATASET, BUNDLED_SAMPLE):
        if path.exists():
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            pairs = [(r["title"], r.get("snippet") or r.get("text", "")) for r in rows if r.get("title")]
            return pairs, path.name
    raise SystemExit("no source texts: neither ../shared/datasets/ip_opinion_dev.jsonl nor data/sample/ exists")


def synthetic(n: int, start: datetime, texts: list[tuple[str, str]], rng: random.Random, tag: str,
              carried: set[tuple[str, str]]) -> list[tuple[Item, Judgement]]:
    """n distinct items; `carried` holds (content hash, source) of items already made, since the
    store keeps only one of each."""
    out: list[tuple[Item, Judgement]] = []
    originals: list[tuple[str, str, Judgement]] = []
    while len(out) < n:
        i = len(out)
        when = start + timedelta(seconds=rng.randrange(7 * 86400))
        src = OWN if rng.random() < 0.01 else f"合成来源{rng.randrange(N_SOURCES):02d}"
        if originals and rng.random() < 0.35:
            title, text, j = rng.choice(originals[-2000:])  # a repost of a recent item by another outlet
        else:
            (t1, s1), (t2, s2) = rng.sample(texts, 2)
            title = f"{t1[: max(4, len(t1) // 2)]}{t2[len(t2) // 2:]}"
            text = f"{s1}{s2}"
            r = rng.random()
            pol = "negative" if r < 0.12 else "positive" if r < 0.42 else "neutral"
            ipt = rng.choice(IP_TYPES)
            anhui = rng.random() < 0.7
            city = rng.choice(queries.ANHUI_CITIES) if anhui and rng.random() < 0.8 else ""
            j = Judgement(negative=pol == "negative", p_negative=0.9 if pol == "negative" else 0.1, polarity=pol,
                          ip_type=ipt, ip_types=(ipt,), province="安徽" if anhui else "浙江", city=city)
            originals.append((title, text, j))
        key = (content_hash(title, text), src)
        if key in carried:
            continue
        carried.add(key)
        out.append((Item(source=src, url=f"https://bench.invalid/{tag}/{i}", title=title, text=text,
                         published_at=when, fetched_at=when, platform=rng.choice(PLATFORMS)), j))
    return out


def fill(db: Path, n: int, monday: datetime) -> None:
    texts, name = real_texts()
    rng = random.Random(47)
    t = time.perf_counter()
    carried: set[tuple[str, str]] = set()
    with Store(db) as s:
        for tag, count, start in (("prev", n // 25, monday - timedelta(days=7)), ("week", n, monday)):
            batch = synthetic(count, start, texts, rng, tag, carried)
            for k in range(0, len(batch), 5000):
                s.add_items(batch[k:k + 5000])
        # Collection runs inside the week: the store stamps runs "now", so give it the week's clock.
        real_now = store_mod.now_iso
        try:
            for h in range(0, 7 * 24, 6):
                stamp = store_mod.iso(monday + timedelta(hours=h))
                store_mod.now_iso = lambda stamp=stamp: stamp
                for k in range(N_SOURCES):
                    r = s.start_run(f"合成来源{k:02d}")
                    bad = k % 17 == 0 or (k % 5 == 0 and h % 24 == 0)
                    s.finish_run(r, status="error" if bad else "ok", fetched=20, new=5,
                                 error="HTTP 503" if bad else None)
        finally:
            store_mod.now_iso = real_now
        total = s.count_items()
    print(f"filled {db} with {total} synthetic items from {name} in {time.perf_counter() - t:.0f} s")


def median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--keep", help="folder to keep (and reuse) the database in")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    today = queries.beijing_today()
    label = last_full_week(today)
    period = week(label, today)
    monday = queries.day_start(period.start)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_briefing_"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"briefing_{args.items}_{label}.db"
    if not db.exists():
        fill(db, args.items, monday)
    sources = [{"name": f"合成来源{k:02d}"} for k in range(N_SOURCES)] + [{"name": OWN, "own": True}]
    toml = folder / "sources.toml"
    toml.write_text("".join(f'[[sources]]\nname = "{x["name"]}"\nurl = "https://bench.invalid/feed{i}"\n'
                            f'{"own = true" if x.get("own") else ""}\n' for i, x in enumerate(sources)),
                    encoding="utf-8")

    with Store(db, readonly=True) as s:
        empty = week(last_full_week(period.start - timedelta(days=400)), today)
        base_q, base = median_time(lambda: B.build(s, empty, sources=sources), args.repeat)
        base_r, _ = median_time(lambda: D.render(base), args.repeat)
        q, data = median_time(lambda: B.build(s, period, sources=sources), args.repeat)
        t = time.perf_counter()
        D.render(data)
        cold = time.perf_counter() - t
        warm, content = median_time(lambda: D.render(data), args.repeat)
    out = folder / "weekly.docx"
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "briefing", "weekly", "--week", label, "--db", str(db),
                           "--sources", str(toml), "--out", str(out), "--no-record"],
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8")
    e2e = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"CLI failed ({done.returncode}): {done.stderr.strip()}")

    ov = data.overview
    print(f"machine: {platform.machine()} {platform.processor() or ''} · Python {platform.python_version()}")
    print(f"week {label}: {ov['total']} items ({ov['negative']} negative), {data.negatives_total} negative "
          f"stories, previous week {ov['previous_total']}")
    print(f"0. baseline (empty week)   build {base_q * 1000:7.0f} ms   render {base_r * 1000:7.0f} ms")
    print(f"1. queries (build)         {q * 1000:7.0f} ms  (median of {args.repeat})")
    print(f"2. render (4 charts+docx)  {cold * 1000:7.0f} ms cold, {warm * 1000:7.0f} ms warm; {len(content)} bytes")
    print(f"3. end to end (CLI)        {e2e * 1000:7.0f} ms  (target ≤ 10,000 ms) {'OK' if e2e <= 10 else 'SLOW'}")
    print(f"   CLI said: {done.stdout.strip()}")


if __name__ == "__main__":
    main()
