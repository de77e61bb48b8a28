"""`python -m monitor export` (a contract other checks rely on) and `sample load|remove`, as subprocesses."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from collectors.base import Item
from monitor.store import Store

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_KEYS = {"url", "title", "text", "source", "platform", "published_at", "fetched_at", "negative",
                 "p_negative", "polarity", "ip_type", "region"}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "OPINION_DB"} | (env or {})
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from tests.conftest import FixedJudge
    judge = FixedJudge()
    path = tmp_path_factory.mktemp("cli") / "opinion.db"
    items = [
        # 2026-11-19 23:30 Beijing, the evening before --since
        Item(source="源甲", url="https://e.com/1", title="前一天晚上", text="普通",
             published_at=datetime(2026, 11, 19, 15, 30, tzinfo=timezone.utc), platform="news"),
        # 2026-11-20 00:30 Beijing
        Item(source="源乙", url="https://e.com/2", title="专利维权难", text="企业反映维权难",
             published_at=datetime(2026, 11, 19, 16, 30, tzinfo=timezone.utc), platform="forum"),
    ]
    with Store(path) as s:
        s.add_items([(it, judge.judge(it.title, it.text)) for it in items])
    return path


def test_export_contract(seeded):
    p = run("export", "--db", str(seeded))
    assert p.returncode == 0, p.stderr
    recs = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["title"] for r in recs] == ["前一天晚上", "专利维权难"]
    for r in recs:
        assert CONTRACT_KEYS <= set(r)
        for key in ("published_at", "fetched_at"):
            assert datetime.fromisoformat(r[key]).tzinfo is not None, r[key]
    neg = recs[1]
    assert neg["negative"] is True and neg["p_negative"] == 0.9 and neg["polarity"] == "negative"
    assert neg["platform"] == "forum" and neg["url"] == "https://e.com/2" and neg["reasons"] == ["维权难"]
    assert datetime.fromisoformat(neg["published_at"]) == datetime(2026, 11, 19, 16, 30, tzinfo=timezone.utc)


def test_export_since_is_a_beijing_day_and_env_selects_db(seeded):
    p = run("export", "--since", "2026-11-20", env={"OPINION_DB": str(seeded)})
    assert p.returncode == 0, p.stderr
    assert [json.loads(line)["title"] for line in p.stdout.splitlines()] == ["专利维权难"]


@pytest.mark.parametrize("since", ["2026-13-01", "yesterday", "2026/11/20"])
def test_export_bad_since_is_one_line_exit_2(seeded, since):
    p = run("export", "--db", str(seeded), "--since", since)
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "--since" in lines[0] and "YYYY-MM-DD" in lines[0]


def test_export_missing_db_is_exit_2_and_creates_nothing(tmp_path):
    p = run("export", "--db", str(tmp_path / "nope.db"))
    assert p.returncode == 2 and "找不到数据库" in p.stderr
    assert not (tmp_path / "nope.db").exists()


def test_sample_load_and_remove(tmp_path):
    db = tmp_path / "opinion.db"
    with Store(db) as s:
        own = Item(source="采集源", url="https://news.example/own", title="自己采集的", text="正文")
        from tests.conftest import FixedJudge
        s.add_items([(own, FixedJudge().judge(own.title, own.text))])

    p = run("sample", "load", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert "示例数据已载入" in p.stdout
    with Store(db) as s:
        n = s.count_items(sample=True)
        assert n > 400
        recs = list(s.iter_items())
    # judged by the product's judge: some sample items come out negative, with reasons
    assert any(r["negative"] and r["reasons"] for r in recs if r["is_sample"])
    undated = [r for r in recs if r["is_sample"] and r["published_estimated"]]
    assert undated and all(abs(datetime.fromisoformat(r["published_at"]) - datetime.now(timezone.utc))
                           < timedelta(minutes=10) for r in undated)

    p = run("sample", "remove", "--db", str(db))
    assert p.returncode == 0, p.stderr
    assert f"{n} 条" in p.stdout
    with Store(db) as s:
        assert [r["title"] for r in s.iter_items()] == ["自己采集的"]
        from monitor import users
        log = users.audit_log(s)                                   # both in the 操作日志, as from the page
        assert [e["action"] for e in log][:2] == ["sample.remove", "sample.load"]
        assert all(e["actor"].startswith("cli") for e in log[:2]) and log[0]["detail"] == {"removed": n}


def test_sample_load_missing_file_is_exit_2(tmp_path):
    p = run("sample", "load", "--db", str(tmp_path / "o.db"), "--file", str(tmp_path / "none.jsonl"))
    assert p.returncode == 2 and "找不到示例数据文件" in p.stderr.strip()
