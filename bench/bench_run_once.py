"""Benchmark: one `python -m collectors run --once` over many local sources.

A ThreadingHTTPServer on 127.0.0.1 serves SOURCES synthetic RSS feeds of ITEMS
items each (titles marked [合成], links on the reserved .invalid domain, every
item distinct). The collector runs as a subprocess against a fresh database with
the real judge, its production retry policy and no per-host gap
(OPINION_HOST_INTERVAL_S=0: every source shares the host 127.0.0.1, and the
default gap would measure the politeness sleep, not the collector).

Reports wall time (interpreter start, model load, fetch, parse, judge, dedup,
store), new items per second, and the child's peak RSS (resource.getrusage).
A pass over one source with one item, on its own database, measures the fixed
start-up (interpreter, imports, model load, schema) in the same run; the
pipeline rate is the new items over the pass's wall time minus that start-up
(what a long-running `run --every` process pays per pass).
With --second-pass, the same command then runs again on the same database: the
feeds are fetched and parsed again, every item is already stored (the server
sends no ETag, so nothing is skipped by a 304), and it reports items read per
second for that re-read.

With --baseline, a first pass runs with every feed read by feedparser (the
plain-RSS fast reader switched off in the child), on its own fresh database,
so the gain of `collectors/plainrss.py` is measured in the same run.

Usage: python bench/bench_run_once.py [--sources 50] [--items 200] [--second-pass] [--baseline]
Figures go to docs/benchmarks.md (by hand, with date, machine and load).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ["专利", "商标", "侵权", "维权", "执法", "假冒", "地理标志", "知识产权", "合肥", "芜湖", "蚌埠", "安庆"]


def feed(source: int, items: int) -> bytes:
    parts = []
    for i in range(items):
        a, b, c = WORDS[i % 12], WORDS[(i // 12) % 12], WORDS[(i + source) % 12]
        parts.append(f"<item><title>[合成] 源{source} 第{i}条 {a}{b}纠纷 {c}通报</title>"
                     f"<link>https://bench{source}.invalid/{i}.html</link>"
                     f"<description>[合成] 源{source} 第{i}条：{a}{b}{c}案件办理情况，涉及{b}保护。</description>"
                     f"<pubDate>Mon, 02 Jun 2025 {i % 24:02d}:{i % 60:02d}:00 +0800</pubDate></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>[合成] bench {source}'
            f"</title><link>https://bench{source}.invalid/</link>{''.join(parts)}</channel></rss>").encode()


def serve(sources: int, items: int) -> tuple[ThreadingHTTPServer, str]:
    bodies = {f"/f{s}.xml": feed(s, items) for s in range(sources)}
    bodies["/one.xml"] = feed(sources, 1)          # the start-up pass: one source, one item

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            return None

        def do_GET(self):
            body = bodies.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=50)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--second-pass", action="store_true", help="run again on the same database")
    ap.add_argument("--baseline", action="store_true", help="first a pass with feedparser reading every feed")
    args = ap.parse_args()
    httpd, base = serve(args.sources, args.items)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "sources.toml").write_text("".join(
            f'[[sources]]\nname = "bench{s}"\nurl = "{base}/f{s}.xml"\nkind = "rss"\nplatform = "news"\n'
            f"always_relevant = true\n\n" for s in range(args.sources)), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPINION_")}
        env.update(OPINION_HOST_INTERVAL_S="0", PYTHONIOENCODING="utf-8")
        (tmp / "one.toml").write_text(f'[[sources]]\nname = "one"\nurl = "{base}/one.xml"\nkind = "rss"\n'
                                      f'platform = "news"\nalways_relevant = true\n', encoding="utf-8")
        startup = _run_once(tmp, env, "startup.db", sources_file="one.toml")
        base_pass = _run_once(tmp, env, "baseline.db", feedparser_only=True) if args.baseline else None
        passes = [_run_once(tmp, env, "bench.db") for _ in range(2 if args.second_pass else 1)]
        httpd.shutdown()
    if any(p is None for p in passes) or (args.baseline and base_pass is None) or startup is None:
        return 1
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.2f}")
    if base_pass:
        wall, cpu, reports = base_pass
        new = sum(r["new"] for r in reports)
        print(f"baseline (feedparser reads every feed): wall {wall:.2f} s, {new / wall:.0f} new items/s, "
              f"pipeline {new / (wall - startup[0]):.0f} new items/s, child CPU {cpu:.2f} s")
    wall, cpu, reports = passes[0]
    new = sum(r["new"] for r in reports)
    failed = sum(r["status"] == "error" for r in reports)
    print(f"sources {args.sources} x items {args.items}: new {new}, failed sources {failed}")
    print(f"wall {wall:.2f} s, {new / wall:.0f} new items/s end to end (incl. start and model load)")
    print(f"start-up (1 source x 1 item) {startup[0]:.2f} s; pipeline {new / (wall - startup[0]):.0f} new items/s "
          f"(pass wall minus start-up)")
    print(f"child CPU {cpu:.2f} s, peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    if args.second_pass:
        wall, cpu, reports = passes[1]
        new = sum(r["new"] for r in reports)
        dup = sum(r["duplicate"] for r in reports)
        print(f"second pass: new {new}, duplicate {dup}; wall {wall:.2f} s, {dup / wall:.0f} items/s read "
              f"(incl. start), child CPU {cpu:.2f} s")
    return 0


# The child with the fast plain-RSS reader switched off: the same command, every feed through feedparser.
FEEDPARSER_ONLY = ("import runpy, sys, collectors.plainrss as p; p.read = lambda *a: None; "
                   "sys.argv[0] = 'collectors'; runpy.run_module('collectors', run_name='__main__')")


def _run_once(tmp: Path, env: dict, db: str, feedparser_only: bool = False,
              sources_file: str = "sources.toml") -> tuple[float, float, list[dict]] | None:
    """One `run --once` subprocess: (wall s, CPU s, the JSON reports), or None when it failed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = ["-c", FEEDPARSER_ONLY] if feedparser_only else ["-m", "collectors"]
    done = subprocess.run([sys.executable, *command, "run", "--once", "--json",
                           "--sources", str(tmp / sources_file), "--db", str(tmp / db)],
                          cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


if __name__ == "__main__":
    sys.exit(main())
