"""Coverage matrix over the year's approved and published cases, and the balance of a selection."""
from __future__ import annotations

import pytest

from casebook.coverage import balance, coverage
from casebook.workflow import create_case, edit_case, move
from monitor.case_store import CaseStore

BASE = {"title": "某案", "authority": "某局", "facts": "事实。", "outcome": "罚款10万元。", "significance": "意义。",
        "sources": [{"url": "https://example.gov.cn/a", "note": ""}]}


def _case(cs, *, ip_type, channel, region, year, state):
    cid = create_case(cs, dict(BASE, ip_type=ip_type, channel=channel, region=region, year=year), actor="甲")
    steps = {"draft": [], "review": ["submit"], "approved": ["submit", "approve"],
             "published": ["submit", "approve", "publish"]}[state]
    for s in steps:
        move(cs, cid, s, actor="乙" if s == "approve" else "甲", role="reviewer" if s == "approve" else "editor")
    return cid


@pytest.fixture
def year_2026(fresh_store):
    cs = CaseStore(fresh_store)
    _case(cs, ip_type="trademark", channel="administrative", region="安徽合肥", year=2026, state="published")
    _case(cs, ip_type="trademark", channel="administrative", region="安徽芜湖", year=2026, state="approved")
    _case(cs, ip_type="patent", channel="judicial-civil", region="安徽", year=2026, state="approved")
    _case(cs, ip_type="copyright", channel="customs", region="浙江温州", year=2026, state="published")
    # Not counted: not yet approved, or another year.
    _case(cs, ip_type="plant_variety", channel="administrative", region="安徽宿州", year=2026, state="review")
    _case(cs, ip_type="trade_secret", channel="judicial-criminal", region="安徽合肥", year=2026, state="draft")
    _case(cs, ip_type="geographical_indication", channel="administrative", region="安徽黄山", year=2025,
          state="published")
    return fresh_store


def test_matrix_counts_only_the_years_approved_and_published_cases(year_2026):
    cov = coverage(year_2026, 2026)
    assert cov.balance.total == 4
    assert cov.cells == {("trademark", "administrative", "合肥"): 1, ("trademark", "administrative", "芜湖"): 1,
                         ("patent", "judicial-civil", "安徽（省级）"): 1, ("copyright", "customs", "省外"): 1}
    assert cov.missing_ip_types == ["plant_variety", "geographical_indication", "trade_secret"]
    assert cov.missing_channels == ["judicial-criminal", "judicial-administrative", "cultural-market"]
    assert ("trademark", "administrative") not in cov.missing_pairs
    assert ("trademark", "customs") in cov.missing_pairs
    rows = {r["知识产权类型"]: r for r in cov.matrix()}
    assert rows["商标"]["行政执法"] == 2 and rows["商标"]["合计"] == 2
    assert rows["专利"]["司法保护·民事"] == 1
    assert rows["商业秘密"]["合计"] == 0


def test_a_revised_published_case_counts_once(year_2026):
    cs = CaseStore(year_2026)
    published = next(c for c in cs.search(states=["published"], year=2026) if c["ip_type"] == "copyright")
    edit_case(cs, published["id"], {"significance": "补充意义。"}, actor="甲", role="editor", note="补充")
    cov = coverage(year_2026, 2026)
    assert cov.balance.total == 4
    assert cov.balance.by_ip_type["copyright"] == 1


def test_empty_year_reports_every_work_plan_category_missing(fresh_store):
    cov = coverage(fresh_store, 2030)
    assert cov.balance.total == 0
    assert len(cov.missing_ip_types) == 6 and len(cov.missing_channels) == 6


def test_balance_summary_of_a_selection():
    b = balance([{"ip_type": "trademark", "channel": "administrative", "region": "安徽合肥"},
                 {"ip_type": "trademark", "channel": "customs", "region": "上海"},
                 {"ip_type": "patent", "channel": "administrative", "region": "安徽合肥"}])
    assert b.by_ip_type == {"trademark": 2, "patent": 1}
    assert b.summary() == "共3件：商标2件、专利1件；行政执法2件、海关1件；合肥2件、省外1件"
    # running text names the court channels as prose, not as the table tag 司法保护·刑事
    b = balance([{"ip_type": "trademark", "channel": "judicial-criminal", "region": "安徽合肥"},
                 {"ip_type": "patent", "channel": "judicial-civil", "region": "安徽合肥"}])
    assert "民事司法保护1件、刑事司法保护1件" in b.summary() and "·" not in b.summary()
