"""Structured amounts and prison terms read from real 处理结果 texts (seed corpus outcomes)."""
from __future__ import annotations

import pytest

from casebook.amounts import cn_number, describe, parse_amounts


def _summary(text: str) -> list[tuple]:
    return [(a["kind"], a.get("yuan", a.get("months")), a.get("approx", a.get("probation_months")))
            for a in parse_amounts(text)]


@pytest.mark.parametrize("text,expected", [
    ("责令停止侵权，没收侵权阀门17台，罚款561万元。", [("fine", 5_610_000, "")]),
    ("没收涉案产品，对三家公司分别罚款63052.93元、34567.26元、24471.5元。",
     [("fine", 63052.93, ""), ("fine", 34567.26, ""), ("fine", 24471.5, "")]),
    ("刘某生有期徒刑三年二个月，并处罚金70万元；刘某有期徒刑一年、缓刑一年，并处罚金8万元。",
     [("sentence", 38, 0), ("criminal_fine", 700_000, ""), ("sentence", 12, 12), ("criminal_fine", 80_000, "")]),
    ("适用4倍惩罚性赔偿，判赔金额超1亿元。", [("damages", 100_000_000, "more")]),
    ("判赔2.02亿元，创同类案件判赔金额新高。", [("damages", 202_000_000, "")]),
    ("判令停止侵害并赔偿经济损失及合理开支共计5354.7万余元。", [("damages", 53_547_000, "more")]),
    ("判处孙某有期徒刑3年3个月，并处罚金10万元。", [("sentence", 39, 0), ("criminal_fine", 100_000, "")]),
    ("经权利人确认均为侵权商品，案值395.3万元。", [("value", 3_953_000, "")]),
    ("被告人周某某犯假冒注册商标罪，判处有期徒刑六年，并处罚金人民币一千万元。",
     [("sentence", 72, 0), ("criminal_fine", 10_000_000, "")]),
    ("经先行调解达成协议：立即下架被控侵权产品并一次性支付10万元。", [("payment", 100_000, "")]),
    ("罚款 20万元；判赔 500万元", [("fine", 200_000, ""), ("damages", 5_000_000, "")]),
    ("（处罚内容原文未摘录）", []),
    ("处以9倍罚款，并经法院强制执行。", []),
])
def test_real_outcomes(text, expected):
    assert _summary(text) == expected


@pytest.mark.parametrize("amount,text", [
    ({"kind": "fine", "label": "罚款", "yuan": 5_610_000, "approx": ""}, "罚款 561万元"),
    ({"kind": "damages", "label": "赔偿", "yuan": 202_000_000, "approx": ""}, "赔偿 2.02亿元"),
    ({"kind": "damages", "label": "赔偿", "yuan": 53_547_000, "approx": "more"}, "赔偿 5354.7万余元"),
    ({"kind": "fine", "label": "罚款", "yuan": 63052.93, "approx": ""}, "罚款 63052.93元"),
    ({"kind": "sentence", "label": "有期徒刑", "months": 38, "probation_months": 0}, "有期徒刑 3年2个月"),
    ({"kind": "sentence", "label": "有期徒刑", "months": 12, "probation_months": 18}, "有期徒刑 1年（缓刑1年6个月）"),
])
def test_describe(amount, text):
    assert describe(amount) == text


@pytest.mark.parametrize("s,n", [("3", 3), ("22.5", 22.5), ("1,000", 1000), ("三", 3), ("十二", 12), ("一千", 1000),
                                 ("两百五十", 250)])
def test_cn_number(s, n):
    assert cn_number(s) == n
