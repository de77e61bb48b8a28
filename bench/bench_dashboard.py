"""Dashboard read-side benchmark on a large synthetic database (see bench/loaddata.py).

    python bench/loaddata.py --db data/bench-1m.db --items 1000000     # once, minutes
    python bench/bench_dashboard.py --db data/bench-1m.db [--browser]

Reports the median of --repeat runs of every overview query and of filtered
full-text searches, each with a baseline measured in the same run (the
overview queries forced onto the pre-existing ix_items_published index instead
of the covering index added for them; the search as LIKE substring matching
instead of FTS5), the database size per million items, and with --browser the
Streamlit server's resident memory with two Chromium tabs open (Playwright,
executable /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import handling, queries, story_store  # noqa: E402
from monitor.queries import ItemFilter  # noqa: E402
from monitor.store import Store  # noqa: E402


def median_ms(fn, repeat: int) -> float:
    fn()  # warm the page cache: staff's dashboard is warm after its first minute
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def sql_ms(store: Store, sql: str, args, repeat: int) -> float:
    return median_ms(lambda: store.conn.execute(sql, args).fetchall(), repeat)


def overview_cases(store: Store):
    start7, end = queries.window_bounds(7)
    return {
        "overview tiles (today/7d/30d + previous)": lambda: queries.overview(store),
        "daily trend 30 d by polarity": lambda: queries.daily_trend(store, 30),
        "top sources 30 d": lambda: queries.top_sources(store, 30),
        "IP type breakdown 30 d": lambda: queries.ip_type_breakdown(store, 30),
        "Anhui city breakdown 30 d": lambda: queries.city_breakdown(store, 30),
        "province breakdown 30 d": lambda: queries.province_breakdown(store, 30),
        "platform breakdown 30 d": lambda: queries.platform_breakdown(store, 30),
        "channel breakdown 30 d": lambda: queries.channel_breakdown(store, 30),
        "latest negative 10": lambda: queries.latest_negative(store),
        "top stories 7 d": lambda: story_store.top_stories(store, start7, end, 10),
        "last collection": lambda: queries.last_collection(store),
        "item counts (sample notice)": lambda: queries.item_counts(store),
    }


def other_cases(store: Store):
    return {
        "filter options (信息流 filter bar)": lambda: queries.filter_options(store),
        "handling summary 30 d (负面处置)": lambda: handling.summary(store, *queries.window_bounds(30)),
        "handling list 30 d (负面处置)": lambda: handling.handling_list(store, 30),
        "item detail with story (信息流)": lambda: queries.item_detail(store, store.conn.execute(
            "SELECT story_id FROM items ORDER BY published_at DESC LIMIT 1").fetchone()[0]),
    }


def search_cases():
    today = queries.beijing_today()
    return {
        "专利 · 30 d": ItemFilter(keyword="专利", start=today - timedelta(days=29), end=today),
        "\"商标 侵权\" · negative · 30 d": ItemFilter(keyword='"商标 侵权"', start=today - timedelta(days=29),
                                                     end=today, negative_only=True),
        "维权 · 安徽 · 7 d": ItemFilter(keyword="维权", regions=("安徽",), start=today - timedelta(days=6), end=today),
        "地理标志 · all time": ItemFilter(keyword="地理标志"),
    }


def baseline_overview_sql(store: Store, repeat: int) -> dict[str, tuple[float, float]]:
    """The heaviest overview aggregates, on the covering index vs forced onto ix_items_published."""
    _, lo, hi = queries._window(30, None)
    out = {}
    for name, sql in {
        "30 d count + negatives": "SELECT count(*), sum(negative = 1) FROM items {ix} WHERE published_at >= ? AND published_at < ?",
        "30 d by source": "SELECT source, count(*), sum(negative = 1) FROM items {ix} WHERE published_at >= ? AND published_at < ? GROUP BY source",
        "30 d by day, polarity": "SELECT date(published_at, '+8 hours'), polarity, count(*) FROM items {ix} WHERE published_at >= ? AND published_at < ? GROUP BY 1, 2",
    }.items():
        fast = sql_ms(store, sql.format(ix=""), (lo, hi), repeat)
        slow = sql_ms(store, sql.format(ix="INDEXED BY ix_items_published"), (lo, hi), repeat)
        out[name] = (fast, slow)
    # 疑似负面 tile: the partial index (migration 0023) vs the unflagged rows of ix_items_negative.
    band = f"{queries.SUSPECT_SQL} AND published_at >= ? AND published_at < ?"
    out["30 d 疑似负面 count (partial index vs ix_items_negative)"] = (
        sql_ms(store, f"SELECT count(*) FROM items INDEXED BY ix_items_suspect WHERE {band}", (lo, hi), repeat),
        sql_ms(store, f"SELECT count(*) FROM items INDEXED BY ix_items_negative WHERE {band}", (lo, hi), repeat))
    return out


def like_ms(store: Store, f: ItemFilter, repeat: int) -> float:
    """The same filtered search as substring matching (what the list did before FTS)."""
    where, args = queries._where(f, None)
    cols = ", ".join(queries.LIST_COLUMNS)

    def run():
        store.conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM items{where} LIMIT ?)",
                           args + [queries.COUNT_CAP + 1]).fetchone()
        store.conn.execute(f"SELECT {cols} FROM items{where} ORDER BY published_at DESC, id DESC LIMIT 500",
                           args).fetchall()
    return median_ms(run, repeat)


def server_rss(db: Path, port: int = 8597) -> dict[str, float]:
    from playwright.sync_api import sync_playwright
    env = dict(os.environ, OPINION_DB=str(db))
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
                             "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def rss_mb() -> float:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0
    try:
        time.sleep(4)
        idle = rss_mb()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            pages = []
            for path in ("", "stream"):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/{path}", timeout=120_000)
                page.wait_for_selector('[data-testid="stMetricValue"], [data-testid="stDataFrame"]', timeout=180_000)
                pages.append(page)
            time.sleep(5)
            two_tabs = rss_mb()
            browser.close()
        return {"idle": idle, "two_tabs": two_tabs}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="dashboard query medians on a large synthetic database")
    ap.add_argument("--db", default=str(ROOT / "data" / "bench-1m.db"))
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--browser", action="store_true", help="also measure server RSS with two Chromium tabs")
    args = ap.parse_args(argv)
    db = Path(args.db)
    store = Store(db, readonly=True)
    n = store.count_items()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.processor() or platform.machine()} · "
          f"{os.cpu_count()} CPUs · SQLite {__import__('sqlite3').sqlite_version}")
    print(f"items: {n:,}; database files: {size / 1e6:.0f} MB = {size / 1e6 / max(n, 1) * 1e6:.0f} MB per million items")
    print("\n| overview query | median ms |\n|---|---|")
    total = 0.0
    for name, fn in overview_cases(store).items():
        ms = median_ms(fn, args.repeat)
        total += ms
        print(f"| {name} | {ms:.1f} |")
    print(f"| **all of the above (one overview refresh)** | **{total:.0f}** |")
    print("\n| other page query | median ms |\n|---|---|")
    for name, fn in other_cases(store).items():
        print(f"| {name} | {median_ms(fn, args.repeat):.1f} |")
    print("\n| aggregate (30 d) | covering index ms | ix_items_published only ms |\n|---|---|---|")
    for name, (fast, slow) in baseline_overview_sql(store, args.repeat).items():
        print(f"| {name} | {fast:.1f} | {slow:.1f} |")
    print("\n| filtered search | FTS5 (item_list) ms | matches | LIKE baseline ms |\n|---|---|---|---|")
    for name, f in search_cases().items():
        page = queries.item_list(store, f)
        ms = median_ms(lambda: queries.item_list(store, f), args.repeat)
        print(f"| {name} | {ms:.1f} | {page.total}{'+' if page.total_capped else ''} | "
              f"{like_ms(store, f, max(3, args.repeat // 2)):.1f} |")
    store.close()
    if args.browser:
        rss = server_rss(db)
        print(f"\nStreamlit server RSS: {rss['idle']:.0f} MB idle, {rss['two_tabs']:.0f} MB with two tabs open")
    return 0


if __name__ == "__main__":
    sys.exit(main())
