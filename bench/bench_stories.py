"""Benchmark: story grouping (near-duplicate reposts) over 100,000 items through the real store path.

The repost set is SYNTHETIC, built from REAL texts: the titles, snippets and texts of
data/sample/ip_opinion_sample.jsonl and data/labelled/*.jsonl are cut into clauses
(distinct clauses only), and each base story is 2 clauses of headline + 3-5 clauses
of body, drawn so that no two base stories share more than one clause (so two
different base stories are never near-duplicates of each other by construction).
Each base story is published once and reposted 1-30 times (P(r) ~ 1/r) by other
outlets: outlet prefixes (【新华网】, 原标题：…), suffixes (责任编辑：…, 来源：…),
about 3 % character edits (adjacent swaps, drops, substitutions, insertions) in
headline and body, and publication times up to 3 days after the report. Outlet
names start with "合成" and links use the reserved .invalid domain.

Items go through `Store.add_items` with a fixed judge into a temp SQLite file, in
publication order and batches of 500 (as a collection pass would), so full-text
indexing and story assignment run exactly as in production. Two passes, each on a
fresh file:
  - no-stories  the same pipeline with `story_store.StoryBatch` replaced by
                "every item is its own story" (cost baseline: isolates story assignment)
  - stories     the production pipeline
The exact content-hash grouping (what exact dedup alone gives) is scored as the
quality baseline. Quality is pairwise precision/recall against the true stories,
plus purity (share of items in a predicted story that belong to its majority true
story) and inverse purity.

Usage: python bench/bench_stories.py [--items 100000] [--seed 20261125] [--keep DIR]
Figures go to docs/benchmarks.md (by hand, with date and machine).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collectors.base import Item, content_hash  # noqa: E402
from monitor import dedup, story_store  # noqa: E402
from monitor.store import Store  # noqa: E402
from sentiment.judgement import Judgement  # noqa: E402

SOURCES = [ROOT / "data" / "sample" / "ip_opinion_sample.jsonl", *sorted((ROOT / "data" / "labelled").glob("*.jsonl"))]
OUTLETS = ["新华网", "人民网", "央广网", "中国新闻网", "光明网", "中国日报网", "澎湃新闻", "中安在线", "安徽日报",
           "合肥晚报", "新安晚报", "大皖新闻", "中国知识产权报", "法治日报", "中国市场监管报", "经济日报", "科技日报",
           "芜湖日报", "蚌埠新闻网", "安庆新闻网", "阜阳日报", "黄山日报", "网易新闻", "搜狐新闻", "腾讯新闻",
           "新浪新闻", "凤凰网", "今日头条", "东方财富网", "北京日报", "解放日报", "南方都市报", "红星新闻",
           "界面新闻", "证券时报", "上观新闻", "潇湘晨报", "齐鲁壹点", "极目新闻", "中国青年网"]
EDITORS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周婷", "吴昊"]
_CLAUSE = re.compile(r"[，。；！？,;!?：:\s|]+")
BATCH = 500


class FixedJudge:
    """The trivial judge of tests/conftest.py: the model is not what is measured."""

    def judge(self, title: str, text: str) -> Judgement:
        neg = "维权难" in (title + text)
        return Judgement(negative=neg, p_negative=0.9 if neg else 0.1,
                         polarity="negative" if neg else "neutral", reasons=("维权难",) if neg else ())


# -- the labelled repost set ------------------------------------------------------------

def real_clauses() -> list[str]:
    seen: dict[str, None] = {}
    for path in SOURCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            for field in ("title", "snippet", "text"):
                for c in _CLAUSE.split(row.get(field) or ""):
                    c = c.strip("“”\"'（）()《》【】 ")
                    if 6 <= len(c) <= 40 and "*" not in c:
                        seen.setdefault(c, None)
    return list(seen)


def base_stories(n: int, clauses: list[str], rnd: random.Random) -> list[tuple[str, str]]:
    """n (title, text) pairs; no two share more than one clause."""
    used_pairs: set[tuple[int, int]] = set()
    out: list[tuple[str, str]] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > n * 50:
            raise SystemExit(f"only {len(out)} distinct base stories from {len(clauses)} clauses; use fewer --items")
        idx = rnd.sample(range(len(clauses)), 2 + rnd.randint(3, 5))
        pairs = {(a, b) if a < b else (b, a) for i, a in enumerate(idx) for b in idx[i + 1:]}
        if pairs & used_pairs:
            continue
        used_pairs |= pairs
        title = "：".join(clauses[i] for i in idx[:2])
        text = "，".join(clauses[i] for i in idx[2:]) + "。"
        out.append((title, text))
    return out


def edit(s: str, rate: float, rnd: random.Random, alphabet: str) -> str:
    """About `rate` of the characters changed: adjacent swap, drop, substitution or insertion."""
    chars = list(s)
    for _ in range(sum(rnd.random() < rate for _ in chars)):
        if len(chars) < 4:
            break
        i = rnd.randrange(len(chars) - 1)
        op = rnd.randrange(4)
        if op == 0:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif op == 1:
            del chars[i]
        elif op == 2:
            chars[i] = rnd.choice(alphabet)
        else:
            chars.insert(i, rnd.choice(alphabet))
    return "".join(chars)


def repost(title: str, text: str, outlet: str, rnd: random.Random, alphabet: str) -> tuple[str, str]:
    title, text = edit(title, 0.03, rnd, alphabet), edit(text, 0.03, rnd, alphabet)
    if rnd.random() < 0.3:                         # reworded headline: drop a few characters
        for _ in range(rnd.randint(1, 3)):
            i = rnd.randrange(len(title))
            title = title[:i] + title[i + 1:]
    r = rnd.random()
    if r < 0.35:
        title = f"【{outlet}】{title}"
    elif r < 0.6:
        text = f"原标题：{title} {text}"
    elif r < 0.75:
        text = f"【{outlet}】{text}"
    r = rnd.random()
    if r < 0.4:
        text += f" 责任编辑：{rnd.choice(EDITORS)}"
    elif r < 0.7:
        text += f" 来源：{rnd.choice(OUTLETS)}"
    elif r < 0.8:
        text += f"（责任编辑：{rnd.choice(EDITORS)}）"
    return title, text


def repost_set(n_items: int, seed: int) -> tuple[list[Item], dict[str, int], int]:
    """Items in publication order, their true story by URL, and the number of base stories."""
    rnd = random.Random(seed)
    sizes: list[int] = []
    weights = [1 / r for r in range(1, 31)]
    while sum(sizes) < n_items:
        sizes.append(1 + rnd.choices(range(1, 31), weights)[0])
    sizes[-1] -= sum(sizes) - n_items              # the last story is cut to hit n_items exactly
    clauses = real_clauses()
    alphabet = "".join(sorted(set("".join(clauses))))
    bases = base_stories(len(sizes), clauses, rnd)
    end = datetime(2026, 11, 20, tzinfo=timezone.utc)
    items: list[Item] = []
    truth: dict[str, int] = {}
    for sid, ((title, text), size) in enumerate(zip(bases, sizes)):
        t0 = end - timedelta(seconds=rnd.uniform(0, 365 * 86400))
        outlets = rnd.sample(OUTLETS, size) if size <= len(OUTLETS) else [f"{o}{i}" for i, o in enumerate(
            rnd.choices(OUTLETS, k=size))]
        for k, outlet in enumerate(outlets):
            if k == 0:
                t, x, when = title, text, t0
            else:
                (t, x), when = repost(title, text, outlet, rnd, alphabet), t0 + timedelta(
                    seconds=rnd.uniform(0, 3 * 86400))
            url = f"https://synthetic.invalid/s{sid}/{k}"
            items.append(Item(source=f"合成{outlet}", url=url, title=t, text=x, published_at=when,
                              fetched_at=when + timedelta(minutes=rnd.randint(1, 90)), platform="news"))
            truth[url] = sid
    items.sort(key=lambda it: it.published_at)
    return items, truth, len(sizes)


# -- scoring ----------------------------------------------------------------------------

def pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(pred: dict[str, object], truth: dict[str, int]) -> dict[str, float]:
    """Pairwise precision/recall/F1, purity and inverse purity of `pred` (url -> group) against `truth`."""
    cells = Counter((pred[u], truth[u]) for u in pred)
    psize = Counter(pred.values())
    tsize = Counter(truth[u] for u in pred)
    tp = sum(pairs(n) for n in cells.values())
    pp, tpairs = sum(pairs(n) for n in psize.values()), sum(pairs(n) for n in tsize.values())
    p = tp / pp if pp else 1.0
    r = tp / tpairs if tpairs else 1.0
    best_t: dict[object, int] = {}
    best_p: dict[int, int] = {}
    for (g, t), n in cells.items():
        best_t[g] = max(best_t.get(g, 0), n)
        best_p[t] = max(best_p.get(t, 0), n)
    total = len(pred)
    return {"groups": len(psize), "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "purity": sum(best_t.values()) / total, "inverse_purity": sum(best_p.values()) / total}


# -- passes -----------------------------------------------------------------------------

class _OwnStories(story_store.StoryBatch):
    """Every item its own story: no band look-up, no fingerprint, no comparison."""

    def __init__(self, c, texts):
        self.c, self.bands = c, []

    def inserted(self, item_id, title, text, published_at):
        return item_id

    def updated(self, item_id, title, text, published_at):
        return None


def run_pass(items: list[Item], db: Path, stories: bool) -> dict:
    judge = FixedJudge()
    judged = [(it, judge.judge(it.title, it.text)) for it in items]
    original = story_store.StoryBatch
    if not stories:
        story_store.StoryBatch = _OwnStories       # add_items imports it late, so this takes effect
    try:
        store = Store(db)
        t0 = time.perf_counter()
        new = 0
        for i in range(0, len(judged), BATCH):
            new += store.add_items(judged[i:i + BATCH]).new
        wall = time.perf_counter() - t0
        pred = {u: s for u, s in store.conn.execute("SELECT url, story_id FROM items")}
        bands = store.conn.execute("SELECT count(*) FROM dup_bands").fetchone()[0]
        store.close()
    finally:
        story_store.StoryBatch = original
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"wall_s": wall, "new": new, "items_per_s": len(items) / wall, "pred": pred, "bands": bands,
            "db_mb": size / 1e6, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--keep", type=Path, help="keep the SQLite files in this directory")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    items, truth, n_stories = repost_set(args.items, args.seed)
    gen_s = time.perf_counter() - t0
    mean_len = sum(len(it.title) + len(it.text) for it in items) / len(items)
    print(f"synthetic repost set from real texts: {len(items):,} items, {n_stories:,} true stories, "
          f"mean {mean_len:.0f} chars, built in {gen_s:.1f} s (seed {args.seed})")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    for it in items:
        dedup.band_keys(dedup.normalise(it.title, it.text))
    mh_s = time.perf_counter() - t0

    exact = score({it.url: content_hash(it.title, it.text) for it in items}, truth)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        # Warm-up on a throwaway file: the search tokeniser loads its dictionary on first use.
        run_pass(items[:300], Path(tmp) / "warmup.db", stories=True)
        base = run_pass(items, where / "no_stories.db", stories=False)
        full = run_pass(items, where / "stories.db", stories=True)
    q_base, q_full = score(base["pred"], truth), score(full["pred"], truth)

    print(f"MinHash alone (normalise + band keys, in memory): {mh_s:.1f} s = {len(items) / mh_s:,.0f} items/s")
    print(f"peak RSS after building the set: {rss0:.0f} MB\n")
    head = f"{'pass':<34}{'wall s':>8}{'items/s':>9}{'new':>8}{'peak RSS MB':>12}{'db MB':>7}" \
           f"{'groups':>8}{'pair P':>8}{'pair R':>8}{'F1':>7}{'purity':>8}{'inv pur':>8}"
    print(head)
    print("-" * len(head))
    print(f"{'exact content hash (no store)':<34}{'':>8}{'':>9}{'':>8}{'':>12}{'':>7}{exact['groups']:>8,}"
          f"{exact['precision']:>8.3f}{exact['recall']:>8.3f}{exact['f1']:>7.3f}{exact['purity']:>8.3f}"
          f"{exact['inverse_purity']:>8.3f}")
    for name, r, q in (("store, story assignment off", base, q_base), ("store, production (stories)", full, q_full)):
        print(f"{name:<34}{r['wall_s']:>8.1f}{r['items_per_s']:>9,.0f}{r['new']:>8,}{r['maxrss_mb']:>12.0f}"
              f"{r['db_mb']:>7.0f}{q['groups']:>8,}{q['precision']:>8.3f}{q['recall']:>8.3f}{q['f1']:>7.3f}"
              f"{q['purity']:>8.3f}{q['inverse_purity']:>8.3f}")
    extra = full["wall_s"] - base["wall_s"]
    print(f"\nstory assignment cost: {extra:.1f} s = {1000 * extra / len(items):.2f} ms per item; "
          f"{full['bands']:,} band keys stored; true stories {n_stories:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
