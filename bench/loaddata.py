"""Generate a large SYNTHETIC database for the dashboard benchmarks (not for staff: every item is marked).

Items are recombined from real public texts (data/sample/ip_opinion_sample.jsonl,
data/labelled/*.jsonl): a title from one text, a body from another, spread over
the last year, a share of them reposted by other outlets (near-duplicates with
an outlet prefix) so stories form. Every item is stored with sample=True and a
source named "合成数据·…", so `python -m monitor sample remove` deletes them all.

    python bench/loaddata.py --db data/bench-1m.db --items 1000000

It goes through Store.add_items, so the full-text index and stories are
maintained exactly as for collected items; tokens are computed once per
distinct title or text (the segmenter caches them).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors.base import Item  # noqa: E402
from monitor.store import Store  # noqa: E402
from sentiment.judgement import IP_TYPES, Judgement  # noqa: E402

SOURCES = [f"合成数据·{n}" for n in ("新华网", "人民网", "中安在线", "安徽日报", "合肥晚报", "澎湃新闻", "新浪微博",
                                    "今日头条", "网易新闻", "搜狐新闻", "凤凰网", "腾讯新闻", "知乎", "百度贴吧",
                                    "安徽省知识产权局", "芜湖日报", "中国知识产权报", "法治日报", "界面新闻", "财新网")]
PLATFORMS = ["news", "news", "news", "news", "news", "news", "social", "news", "news", "news", "news", "news",
             "forum", "forum", "government", "news", "news", "news", "news", "news"]
CITIES = ["合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳", "宿州", "六安",
          "亳州", "池州", "宣城"]
CHANNELS = ("行政执法", "司法", "海关", "文化市场", "仲裁调解", "其他")


def texts() -> list[dict]:
    out = []
    for path in [ROOT / "data/sample/ip_opinion_sample.jsonl", *sorted((ROOT / "data/labelled").glob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("title") or d.get("text"):
                out.append(d)
    return out


def judgement(rng: random.Random, d: dict) -> Judgement:
    neg = d.get("label") == "negative" or (d.get("label") is None and rng.random() < 0.2)
    ipt = rng.choice(IP_TYPES)
    prov = "安徽" if rng.random() < 0.7 else rng.choice(["浙江", "江苏", "上海", "北京", "广东"])
    city = rng.choice(CITIES) if prov == "安徽" and rng.random() < 0.8 else ""
    pol = "negative" if neg else rng.choice(["neutral", "neutral", "positive"])
    # About 6 % of unflagged items in the 疑似负面 band, as measured on real items (docs/judgement.md); taken
    # from the text, not from rng, so the rest of the synthetic stream stays as it was.
    suspect = zlib.crc32((d.get("title") or d.get("text") or "").encode("utf-8")) % 100 < 6
    p = 0.85 if neg else 0.36 if suspect else 0.1
    return Judgement(negative=neg, p_negative=p, polarity=pol, ip_type=ipt, ip_types=(ipt,),
                     channel=rng.choice(CHANNELS), province=prov, city=city,
                     reasons=("合成数据：判定理由为演示用",))


def generate(n: int, seed: int = 7, days: int = 365, now: datetime | None = None):
    rng = random.Random(seed)
    corpus = texts()
    now = now or datetime.now(timezone.utc)
    span = days * 86400
    recent: list[tuple[str, str, Judgement, datetime]] = []
    for i in range(n):
        if recent and rng.random() < 0.3:
            # A repost: same report, another outlet, within two days, outlet prefix added.
            title, text, j, t0 = rng.choice(recent)
            src = rng.randrange(len(SOURCES))
            t = min(now, t0 + timedelta(seconds=rng.randrange(2 * 86400)))
            title = f"【{SOURCES[src].split('·')[1]}】{title}"
        else:
            a, b = rng.choice(corpus), rng.choice(corpus)
            title, text = a.get("title") or b.get("title") or "", b.get("text") or ""
            j = judgement(rng, a)
            src = rng.randrange(len(SOURCES))
            # Uniform over the span: a million items is about a year of a busy office's collection.
            t = now - timedelta(seconds=int(span * rng.random()))
            recent.append((title, text, j, t))
            if len(recent) > 2000:
                recent.pop(0)
        yield (Item(source=SOURCES[src], url=f"https://synthetic.invalid/{seed}/{i}", title=title, text=text,
                    published_at=t, fetched_at=t, platform=PLATFORMS[src]), j)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=str(ROOT / "data" / "bench-1m.db"))
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    batch = []
    done = 0
    with Store(args.db) as store:
        store.conn.execute("PRAGMA cache_size=-200000")
        for pair in generate(args.items, args.seed):
            batch.append(pair)
            if len(batch) >= args.batch:
                store.add_items(batch, sample=True)
                done += len(batch)
                batch = []
                el = time.perf_counter() - t0
                print(f"\r{done}/{args.items} items, {el:.0f} s, {done / el:.0f} items/s", end="", file=sys.stderr)
        if batch:
            store.add_items(batch, sample=True)
            done += len(batch)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    el = time.perf_counter() - t0
    print(f"\nloaded {done} synthetic items into {args.db} in {el:.0f} s ({done / el:.0f} items/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
