"""The bundled sample corpus: building it, loading it marked as sample, removing it."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from collectors.base import Item
from collectors.registry import PLATFORMS
from monitor.sample import (SampleError, build_sample, build_sample_file, load_sample, read_sample,
                            remove_sample)
from monitor.settings import SAMPLE_FILE
from tests.conftest import shared_path

DEV_ROW = {"id": "ipdev-9", "title": "某地专利维权难", "snippet": "企业反映维权难、周期长。",
           "text": "某地专利维权难 企业反映维权难、周期长。", "source": "某日报",
           "source_url": "https://mirror.example.net/a.html?utm_source=x", "published": "2025-04-21",
           "platform": "news", "region": "安徽合肥", "label": "negative", "polarity3": "negative",
           "topic": "ip", "ip_type": "patent", "reason": "complaint"}
LABEL_KEYS = {"label", "polarity3", "topic", "ip_type", "reason", "snippet", "source_url"}


def _rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_build_maps_fields_and_drops_labels():
    undated = DEV_ROW | {"id": "ipdev-10", "source_url": "https://other.example/b", "published": ""}
    again = DEV_ROW | {"id": "ipdev-11", "source_url": "https://MIRROR.example.net/a.html#top"}
    no_title = DEV_ROW | {"id": "ipdev-12", "title": " ", "source_url": "https://x.example/c"}
    out = build_sample([DEV_ROW, undated, again, no_title])
    assert [r["id"] for r in out] == ["ipdev-9", "ipdev-10"]  # same canonical URL and untitled rows left out
    first = out[0]
    assert first == {"id": "ipdev-9", "title": "某地专利维权难", "text": "企业反映维权难、周期长。",
                     "source": "某日报", "url": DEV_ROW["source_url"], "published": "2025-04-21",
                     "platform": "news", "region": "安徽合肥"}
    assert out[1]["published"] == ""


def test_committed_sample_is_well_formed():
    rows = _rows(SAMPLE_FILE)
    assert len(rows) > 400
    assert len({r["url"] for r in rows}) == len(rows)
    for r in rows:
        assert not LABEL_KEYS & set(r), r["id"]
        assert r["title"].strip() and r["source"].strip(), r["id"]
        assert re.match(r"https?://", r["url"]), r["id"]
        assert r["published"] == "" or re.fullmatch(r"\d{4}-\d\d-\d\d", r["published"]), r["id"]
        assert r["platform"] in PLATFORMS, r["id"]


def test_committed_sample_matches_the_development_set(tmp_path):
    dev = shared_path("datasets", "ip_opinion_dev.jsonl")
    n = build_sample_file(dev, tmp_path / "sample.jsonl")
    assert (tmp_path / "sample.jsonl").read_bytes() == SAMPLE_FILE.read_bytes()
    dev_rows = _rows(dev)
    assert n == len(dev_rows)
    by_url = {r["source_url"]: r for r in dev_rows}
    for r in _rows(SAMPLE_FILE):
        d = by_url[r["url"]]
        assert (r["title"], r["text"], r["source"], r["published"]) == \
            (d["title"], d["snippet"], d["source"], d["published"])


@pytest.fixture
def sample_file(tmp_path):
    rows = build_sample([DEV_ROW, DEV_ROW | {"source_url": "https://other.example/b", "published": "",
                                             "title": "无日期的条目", "snippet": "商标注册"}])
    path = tmp_path / "sample.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dates_read_as_beijing_morning_or_fetch_time(sample_file):
    fetched = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)
    dated, undated = read_sample(sample_file, fetched_at=fetched)
    assert dated.published_at == datetime(2025, 4, 21, 0, 0, tzinfo=timezone.utc)  # 08:00 Beijing
    assert dated.published_at.astimezone(timezone(timedelta(hours=8))).hour == 8
    assert not dated.published_estimated
    assert undated.published_at == fetched and undated.published_estimated
    assert dated.source == "某日报" and dated.platform == "news"


def test_load_marks_judges_and_is_idempotent(fresh_store, fixed_judge, sample_file):
    real = Item(source="采集源", url="https://news.example/real", title="采集到的条目", text="正文")
    fresh_store.add_items([(real, fixed_judge.judge(real.title, real.text))])

    counts = load_sample(fresh_store, fixed_judge, sample_file)
    assert (counts.new, counts.duplicate) == (2, 0)
    assert fresh_store.count_items(sample=True) == 2
    rows = {r["title"]: r for r in fresh_store.iter_items()}
    assert rows["某地专利维权难"]["negative"] is True  # judged by the judge passed in
    assert rows["某地专利维权难"]["reasons"] == ["维权难"]
    assert rows["无日期的条目"]["published_estimated"] is True
    assert rows["采集到的条目"]["is_sample"] is False

    again = load_sample(fresh_store, fixed_judge, sample_file)
    assert (again.new, again.duplicate) == (0, 2)

    assert remove_sample(fresh_store) == 2
    assert [r["title"] for r in fresh_store.iter_items()] == ["采集到的条目"]
    assert remove_sample(fresh_store) == 0


def test_bad_sample_file_names_the_line_and_stores_nothing(fresh_store, fixed_judge, sample_file, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(sample_file.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    with pytest.raises(SampleError, match=r"bad\.jsonl:3"):
        load_sample(fresh_store, fixed_judge, bad)
    wrong_date = tmp_path / "date.jsonl"
    wrong_date.write_text(json.dumps({"title": "t", "url": "https://e.com/x", "published": "2025年4月"},
                                     ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(SampleError, match="YYYY-MM-DD"):
        load_sample(fresh_store, fixed_judge, wrong_date)
    with pytest.raises(SampleError, match="cannot read"):
        load_sample(fresh_store, fixed_judge, tmp_path / "missing.jsonl")
    assert fresh_store.count_items() == 0
