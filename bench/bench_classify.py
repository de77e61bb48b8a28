"""Throughput of `sentiment classify` vs SnowNLP vs plain jieba.lcut, on the same real texts, one process.

    python bench/bench_classify.py [--n 2000] [--json]

Texts: every labelled IP item in data/labelled/ (real news and posts), topped up
to N with the real finance news texts of ../shared/datasets/finnsp_news_negative.csv
when that folder is present (otherwise the IP items are repeated). Each engine
reads the same strings; classify and jieba are warmed up and timed best-of-3, interleaved.
Also reports the judge's load time and the process's
resident memory after loading and classifying (before SnowNLP is imported).
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED_FIN = ROOT.parent / "shared" / "datasets" / "finnsp_news_negative.csv"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_texts(n: int) -> tuple[list[tuple[str, str]], str]:
    from sentiment import dataset

    pairs = [(e.title, e.text) for e in dataset.load_examples()]
    note = f"{len(pairs)} labelled IP items"
    if len(pairs) < n and SHARED_FIN.exists():
        with open(SHARED_FIN, encoding="utf-8") as f:
            extra = [("", r["text"]) for r in csv.DictReader(f)]
        take = extra[: n - len(pairs)]
        pairs += take
        note += f" + {len(take)} finnsp news texts"
    base = list(pairs)
    while len(pairs) < n:
        pairs += base[: n - len(pairs)]
        note += " (repeated)"
    return pairs[:n], note


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs for classify and jieba (SnowNLP runs once)")
    args = ap.parse_args()

    rss0 = rss_mb()
    t = time.perf_counter()
    from sentiment import load_judge
    judge = load_judge()
    load_s = time.perf_counter() - t

    pairs, note = load_texts(args.n)
    joined = [(a + " " + b).strip() for a, b in pairs]
    chars = sum(len(s) for s in joined) / len(joined)

    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    # Warm up both engines on the same slice, then alternate them.
    [judge.judge(a, b) for a, b in pairs[:200]]
    [jieba.lcut(s) for s in joined[:200]]
    # Interleaved, so a burst of load on the shared machine hits both engines alike.
    t_classify = t_jieba = float("inf")
    for _ in range(args.repeat):
        t_classify = min(t_classify, timed(lambda: [judge.judge(a, b) for a, b in pairs]))
        t_jieba = min(t_jieba, timed(lambda: [jieba.lcut(s) for s in joined]))
    rss_after = rss_mb()

    t0 = time.perf_counter()
    from snownlp import SnowNLP
    SnowNLP("预热").sentiments
    snow_load = time.perf_counter() - t0
    t_snow = timed(lambda: [SnowNLP(s).sentiments for s in joined])

    n = len(pairs)
    res = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
        "texts": n, "source": note, "mean_chars": round(chars, 1),
        "classify_items_per_s": round(n / t_classify, 1),
        "jieba_lcut_items_per_s": round(n / t_jieba, 1),
        "snownlp_items_per_s": round(n / t_snow, 1),
        "classify_vs_jieba": round(t_jieba / t_classify, 3),
        "classify_vs_snownlp": round(t_snow / t_classify, 1),
        "judge_load_s": round(load_s, 2), "snownlp_load_s": round(snow_load, 2),
        "rss_mb_before_load": round(rss0, 1), "rss_mb_after_classify": round(rss_after, 1),
    }
    if args.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        for k, v in res.items():
            print(f"{k:<24} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
