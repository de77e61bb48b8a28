"""Candidate discovery on real collected items (the bundled sample corpus, or the dev set beside the checkout)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from casebook.discovery import concluded_actions, discover, find_candidates
from casebook.models import IP_TYPES, province_of
from collectors.base import Item
from monitor.case_store import CaseStore
from sentiment.judgement import Judgement

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "ip_opinion_sample.jsonl"
DEV = ROOT.parent / "shared" / "datasets" / "ip_opinion_dev.jsonl"


def _corpus() -> Path:
    for p in (SAMPLE, DEV):
        if p.exists():
            return p
    pytest.skip("neither data/sample/ip_opinion_sample.jsonl nor ../shared/datasets/ip_opinion_dev.jsonl exists")


def _pairs(path: Path) -> list[tuple[Item, Judgement]]:
    """Real rows as stored items. The judgement carries only what the row states (region, IP type if labelled)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        published = datetime.fromisoformat(r["published"]).replace(tzinfo=timezone.utc) if r.get("published") else None
        item = Item(source=r["source"], url=r.get("url") or r.get("source_url") or "", title=r["title"],
                    text=r.get("text") if "snippet" not in r else r["snippet"], published_at=published)
        code = {"geo_indication": "geographical_indication"}.get(r.get("ip_type", ""), r.get("ip_type", ""))
        region = r.get("region") or ""
        province = province_of(region)
        j = Judgement(negative=False, p_negative=0.1, polarity="neutral", topic=r.get("topic", "ip"),
                      ip_type=IP_TYPES.get(code, "其他"), province=province, city=region[len(province):])
        out.append((item, j))
    return out


@pytest.fixture
def seeded(fresh_store):
    pairs = _pairs(_corpus())
    fresh_store.add_items(pairs)
    by_title = {it.title: it for it, _ in pairs}
    return fresh_store, by_title


def _case_for(store, title_start: str) -> dict | None:
    cs = CaseStore(store)
    for c in cs.search(states=["clue"]):
        if c["title"].startswith(title_start[:40]):
            return c
    return None


def test_concluded_actions_are_found_and_pleas_and_tallies_are_not():
    assert concluded_actions("静安区人民法院开庭宣判:被告人周某某犯假冒注册商标罪,判处有期徒刑六年") == ["判处", "宣判"]
    assert concluded_actions("希望有关部门对这种坑骗消费者的不法行为严肃查处。") == []
    assert concluded_actions("2019年,我市共出动执法人员29364人(次),立案查处侵权假冒案件1585件") == []


def test_discovery_on_real_items_prefills_fields_and_links_the_item(seeded):
    store, items = seeded
    found = discover(store, actor="系统")
    assert len(found) >= 20
    cs = CaseStore(store)

    criminal = _case_for(store, "近日,一起假冒注册商标案在静安区人民法院开庭宣判")
    assert criminal is not None
    assert (criminal["state"], criminal["origin"], criminal["channel"], criminal["ip_type"]) == \
           ("clue", "discovery", "judicial-criminal", "trademark")
    assert criminal["authority"] == "静安区人民法院"
    assert criminal["region"] == "上海"
    amounts = {(a["kind"], a.get("months") or a.get("yuan")) for a in criminal["amounts"]}
    assert amounts == {("sentence", 72), ("criminal_fine", 10_000_000)}
    link = cs.linked_items(criminal["id"])
    item = next(it for t, it in items.items() if t.startswith("近日,一起假冒注册商标案在静安区"))
    assert [(li["url"], li["title"]) for li in link] == [(item.url, item.title)]
    assert criminal["sources"][0]["url"] == item.url
    # A news report is not the official release: the clue says it must be checked.
    assert "detail:部分摘录，须核对原文" in criminal["gaps"]

    civil = _case_for(store, "河北某某种业有限公司、王某金等侵害植物新品种权纠纷")
    assert (civil["case_number"], civil["ip_type"], civil["channel"], civil["year"]) == \
           ("(2023)最高法知民终3075号", "plant_variety", "judicial-civil", 2025)

    admin = _case_for(store, "突击西北机电汽配城,查获52桶假冒伪劣")
    assert (admin["authority"], admin["channel"], admin["region"]) == ("西宁市市场监督管理局", "administrative", "青海西宁")
    assert [(a["kind"], a["yuan"]) for a in admin["amounts"]] == [("value", 20000)]

    titles = [c.title for c in found]
    assert not any(t.startswith("蚌埠新闻网讯 1月7日上午") for t in titles), "a yearly tally is not a case"
    assert not any(t.startswith("前几年,“双塔牌”汉鞭") for t in titles), "a plea to act is not a case"


def test_discovery_is_idempotent_and_dry_run_writes_nothing(seeded):
    store, _ = seeded
    cs = CaseStore(store)
    listed = discover(store, dry_run=True)
    assert listed and all(c.case_id is None for c in listed)
    assert cs.search() == []
    created = discover(store)
    assert [c.url for c in created] == [c.url for c in listed]
    assert find_candidates(store) == []
    assert discover(store) == []
    assert len(cs.search(states=["clue"])) == len(created)


def test_since_is_a_beijing_day_and_bad_bounds_are_refused(seeded):
    store, _ = seeded
    every = discover(store, dry_run=True)
    assert discover(store, dry_run=True, since="2000-01-01") == every
    assert discover(store, dry_run=True, since="2999-01-01") == []
    assert discover(store, dry_run=True, limit=1) == every[:1]
    for bad in ({"since": "2026-13-40"}, {"since": "2026-W60"}, {"since": "abc"}, {"limit": 0}, {"limit": -5}):
        with pytest.raises(ValueError):
            discover(store, dry_run=True, **bad)
