"""De-identification on real case texts with real-looking names, ID and phone numbers seeded in."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from casebook.deidentify import SURNAMES, scan_case, scan_text
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "casebook" / "cases.jsonl"

# Texts from the seed corpus (our paraphrases of real releases), with the release's masked names
# (刘某生, 袁某某, 盛某某 …) replaced by full names, as an editor's first draft would have them.
SEEDED = [
    ("CB025", "outcome", "刘建生有期徒刑三年二个月，并处罚金70万元；刘洋有期徒刑一年、缓刑一年，并处罚金8万元。",
     {"刘建生": "刘某某", "刘洋": "刘某某"}),
    ("CB048", "outcome", "判处袁志强有期徒刑3年，并处罚金80万元。", {"袁志强": "袁某某"}),
    ("CB053", "facts", "2021年8月至2023年8月，盛国平受蒋丽委托非法制造带有某知名注册商标的塑料袋332万余件，"
     "蒋丽销往南京多家专卖店（合计343万余件）；闫鹏帮助制作印刷模具。现场查获未售74万余件。",
     {"盛国平": "盛某某", "蒋丽": "蒋某某", "闫鹏": "闫某某"}),
    ("CB072", "facts", "公安部联合部署下，专案组打掉以赵建华父子为首的家族式团伙，查获侵权盗版少儿类出版物。",
     {"赵建华": "赵某某"}),
    ("CB051", "title", "山西郝志刚制售侵权盗版“剧本杀”案", {"郝志刚": "郝某某"}),
    ("CB003", "facts", "“南山荔枝”2006年获国家地理标志产品保护。当事人深圳市南山荔枝发展有限公司运营名为“南山荔枝”的微信公众号。",
     {"深圳市南山荔枝发展有限公司": "深圳市某公司"}),
    ("CB002", "title", "广州市知识产权局、温州市知识产权局联合处理被请求人温州创达机械有限公司实用新型专利侵权纠纷案",
     {"温州创达机械有限公司": "温州某公司"}),
    ("CB006", "facts", "芜湖某网店经营主体委托外地食品企业代工生产7270罐，举报人电话13956781234，"
     "经营者身份证号340202198507163214。",
     {"13956781234": "139****1234", "340202198507163214": "（身份证号码略）"}),
]
# The same kind of texts as releases print them: nothing to flag.
CLEAN = [
    "刘某生有期徒刑三年二个月，并处罚金70万元；刘某有期徒刑一年、缓刑一年，并处罚金8万元。",
    "2021年8月至2023年8月，盛某某受蒋某某委托非法制造带有某知名注册商标的塑料袋332万余件。",
    "一家印刷机械企业持有实用新型专利，发现温州某公司于2023年3月在展会上展示涉嫌侵权设备，遂请求处理。",
    "当事人自2021年3月起从新昌茶叶市场购入散装茶，在三家门店销售；柯桥店销售货值3.24万元。",
    "示范检察提前介入、全链条查清犯罪数额及单位犯罪认定。",
    "认定以合法形式受让审定品种不能当然对抗品种权人索赔，侵权人仍须赔偿。",
    "黄山:尚未销售就被查 中心城区查获一批假冒白酒",
    "近日,刘女士向记者反映,范先生通过某平台点餐。",
    "上海A公司诉合肥B公司技术委托开发合同纠纷案",
]


@pytest.mark.parametrize("case_id,field,text,expected", SEEDED, ids=[s[0] for s in SEEDED])
def test_seeded_names_numbers_and_companies_are_flagged_with_conventional_forms(case_id, field, text, expected):
    flags = scan_text(text, field)
    assert {f.text: f.suggestion for f in flags} == expected
    assert all(f.field == field and text[f.start:f.start + len(f.text)] == f.text for f in flags)


@pytest.mark.parametrize("text", CLEAN)
def test_already_anonymised_and_ordinary_text_is_not_flagged(text):
    assert scan_text(text) == []


def test_scan_case_covers_published_fields_only():
    case = {"title": "吴军销售假冒注册商标的商品罪案", "facts": "被告人王建国犯侵犯著作权罪。",
            "notes": "编辑备注：联系人张伟 13812345678"}
    assert [(f.field, f.text) for f in scan_case(case)] == [("title", "吴军"), ("facts", "王建国")]


def test_real_seed_corpus_flags_only_the_releases_that_printed_full_names():
    """Precision and recall on all 72 real records: flags exactly where the release printed full names."""
    seed = SEED if SEED.exists() else shared_path("casebook", "cases.jsonl")
    rows = [json.loads(line) for line in seed.read_text(encoding="utf-8").splitlines() if line.strip()]
    flagged_person = {r["id"] for r in rows for f in ("title", "summary", "outcome", "significance")
                      for fl in scan_text(r[f]) if fl.kind == "person"}
    assert flagged_person == {r["id"] for r in rows if r["personal_names_appear"]}
    # Names seeded into every masked person of the real texts are found (recall floor).
    total = found = 0
    for r in rows:
        for f in ("title", "summary", "outcome", "significance"):
            for m in re.finditer(r"([\u4e00-\u9fff])某某?(?![某\u4e00-\u9fff]{0,6}(?:公司|企业|店|厂|商标|品牌))(?![生明])",
                                 r[f]):
                if m.group(1) not in SURNAMES:
                    continue
                name = m.group(1) + "建华"
                text = r[f][:m.start()] + name + r[f][m.end():]
                total += 1
                found += name in [x.text for x in scan_text(text)]
    assert total >= 15 and found / total >= 0.8


def test_check_cli_prints_one_json_object_per_flag(tmp_path):
    rows = [{"id": "CB046", "title": "吴军销售假冒注册商标的商品罪案", "summary": "被告人因销售假冒注册商标的商品被追究刑事责任。"},
            {"id": "CB048", "title": "袁某某侵犯著作权案", "outcome": "判处袁志强有期徒刑3年，并处罚金80万元。"},
            {"id": "CB005", "title": "上海市闵行区市场监管局查处侵犯“BERMAD”注册商标专用权案"}]
    path = tmp_path / "c.jsonl"
    path.write_bytes(("\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:2]) + "\n{broken\n" +
                      json.dumps(rows[2], ensure_ascii=False) + "\n").encode()
                     + b'{"id": "CB777", "title": "\xb0\xb2\xbb\xd5"}\n'                  # 5: GBK, not UTF-8
                     + json.dumps({"id": "CB778", "title": "吴军销售假冒注册商标的商品罪案\ud800"}).encode() + b"\n")
    run = subprocess.run([sys.executable, "-m", "casebook", "check", str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(o["id"], o["field"], o["text"], o["suggestion"]) for o in out] == [
        ("CB046", "title", "吴军", "吴某某"), ("CB048", "outcome", "袁志强", "袁某某"),
        ("CB778", "title", "吴军", "吴某某")]
    assert "第3行" in run.stderr and "第5行: 不是 UTF-8" in run.stderr and run.returncode == 1
    assert "Traceback" not in run.stderr
