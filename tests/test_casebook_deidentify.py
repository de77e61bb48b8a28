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


# A role word says a person is named next, even when the name is also an everyday word (李强, 高峰, 文静);
# the same word without a role word is ordinary prose.
ROLE_CUED = [
    ("被告人李强犯假冒注册商标罪，被判处有期徒刑三年。", "李强", "节假日高峰期，李强大的品牌意识值得学习。"),
    ("被告人李娜犯销售假冒注册商标的商品罪。", "李娜", "李娜娜的网店里有假货吗？"),
    ("原告李四诉被告侵害商标权纠纷案", "李四", "四季如春。"),
    ("犯罪嫌疑人王国庆伙同他人制售假酒。", "王国庆", "这个王国庆典隆重。"),
    ("当事人高明亮销售假冒“茅台”酒。", "高明亮", "手法高明，亮点突出。"),
    ("被告人汪洋犯假冒注册商标罪。", "汪洋", "一片汪洋大海。"),
    ("被告人高峰在网店销售侵权商品。", "高峰", "节假日高峰期客流大。"),
    ("被告人白雪犯侵犯著作权罪。", "白雪", "白雪覆盖了山头。"),
    ("被告人文静犯侵犯著作权罪。", "文静", "她文静地坐在一旁。"),
]


@pytest.mark.parametrize("text,name,prose", ROLE_CUED, ids=[c[1] for c in ROLE_CUED])
def test_a_role_word_makes_an_everyday_word_a_name_but_prose_stays_clean(text, name, prose):
    assert [(f.kind, f.text, f.suggestion) for f in scan_text(text)] == [("person", name, name[0] + "某某")]
    assert scan_text(prose) == []


def test_after_a_role_word_places_organisations_and_verbs_are_not_names():
    text = ("被告人王国庆销售假冒商品；原告高峰（合肥）有限公司、原告华为等单位及当事人黄山的代理人到庭，"
            "未经专利权人许可，当事人明知其销售的是假冒商品，被告人明显存在过错，判处管制六个月。")
    assert [f.text for f in scan_text(text) if f.kind == "person"] == ["王国庆"]


def test_names_listed_after_a_role_word_name_are_names():
    assert [f.text for f in scan_text("被告人王国庆、高明亮犯假冒注册商标罪。")] == ["王国庆", "高明亮"]
    assert [f.text for f in scan_text("判处被告人张三、李四、汪洋等3人有期徒刑。")] == ["张三", "李四", "汪洋"]


@pytest.mark.parametrize("text,name", [("联系人：陈建国", "陈建国"), ("报案人王伟向公安机关报案", "王伟"),
                                       ("举报人李娜反映该店售假", "李娜"), ("投诉人汪洋称买到假货", "汪洋"),
                                       ("法定代表人高峰系主犯", "高峰")])
def test_contact_and_complainant_words_introduce_names(text, name):
    assert [(f.kind, f.text) for f in scan_text(text)] == [("person", name)]


@pytest.mark.parametrize("text,name", [("李四（男，1985年生）销售假冒商品", "李四"), ("李四（男，1985年生）", "李四"),
                                       ("高峰（1990年出生）系该店经营者", "高峰"), ("王国庆，男，汉族，初中文化", "王国庆"),
                                       ("汪洋等人自2004年起制售假药", "汪洋"), ("以高峰父子为首的团伙", "高峰"),
                                       ("白雪等三人非法制造商标标识", "白雪")])
def test_a_name_followed_by_gender_year_of_birth_or_a_head_count_is_a_name(text, name):
    assert [(f.kind, f.text, f.suggestion) for f in scan_text(text)] == [("person", name, name[0] + "某某")]


@pytest.mark.parametrize("text,name", [("被告人张伟😀", "张伟"), ("经营者李强🙂称不知情", "李强"),
                                       ("张建国😀销售假冒商品", "张建国"), ("👍吴军销售假冒商品", "吴军"),
                                       ("店主王群❤️诉某平台", "王群")])
def test_an_emoji_next_to_a_name_does_not_hide_it(text, name):
    assert [(f.kind, f.text) for f in scan_text(text)] == [("person", name)]


@pytest.mark.parametrize("number", ["(0551)62345678", "（0551）62345678", "055162345678", "0551 62345678",
                                    "01062345678", "（010）62345678"])
def test_landlines_with_brackets_or_without_separator_are_withheld(number):
    # Digit runs that cannot be landlines (no such area code, a patent number, too long) stay.
    text = f"举报电话{number}，订单号01234567890，专利号ZL055162345678，编号0551623456789。"
    assert [(f.kind, f.text, f.suggestion) for f in scan_text(text)] == [("phone", number, "（电话号码略）")]


@pytest.mark.parametrize("number", ["+8613912345678", "+86 139 1234 5678", "86-13912345678", "0086 13912345678",
                                    "+86-139-1234-5678"])
def test_mobile_with_country_code_is_masked_without_it(number):
    assert [(f.text, f.suggestion) for f in scan_text(f"手机{number}")] == [(number, "139****5678")]


def test_a_company_punished_in_the_passive_is_flagged_as_in_the_active():
    company = "安徽省合肥市华强贸易有限公司"
    active = scan_text(f"合肥市市场监管局查处{company}销售侵权商品案。")
    assert [(f.kind, f.text) for f in active] == [("company", company)]
    for passive in (f"{company}销售假冒注册商标的商品，被合肥市市场监管局查处。",
                    f"2023年，{company}因销售侵权商品被合肥市蜀山区市场监督管理局依法处罚。"):
        assert [(f.kind, f.text, f.suggestion) for f in scan_text(passive)] == [
            (f.kind, f.text, f.suggestion) for f in active]
    # The rights holder, a description, or another company punished later in the sentence stay unflagged.
    for text in (f"{company}的注册商标被仿冒，向市场监管局投诉。", "芜湖市一家茶叶经营部销售侵权商品被查处。",
                 f"{company}发现合肥某公司销售侵权商品，该公司被查处。"):
        assert [f for f in scan_text(text) if f.kind == "company"] == []


def test_check_cli_reports_what_the_qa_pass_found(tmp_path):
    row = {"id": "CB900", "title": "李强假冒注册商标案",
           "facts": "被告人李强（男，1985年生）、高明亮销售假冒白酒；联系人：陈建国，电话（0551）62345678、+8613912345678。"
                    "安徽省合肥市华强贸易有限公司销售侵权商品，被合肥市市场监管局查处。"}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "casebook", "check", str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert [(o["field"], o["text"], o["suggestion"]) for o in map(json.loads, run.stdout.splitlines())] == [
        ("facts", "李强", "李某某"), ("facts", "高明亮", "高某某"), ("facts", "陈建国", "陈某某"),
        ("facts", "（0551）62345678", "（电话号码略）"), ("facts", "+8613912345678", "139****5678"),
        ("facts", "安徽省合肥市华强贸易有限公司", "安徽省某公司")]
