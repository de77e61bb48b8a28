"""Monitoring schemes: matching as table tests, validation messages, save/load round trip, shipped schemes."""
from __future__ import annotations

from pathlib import Path

import pytest

from collectors.base import Item
from collectors.schemes import (Scheme, SchemeError, dumps_schemes, is_kept, load_schemes, matching_schemes,
                                save_schemes, scheme_from_dict, select_items)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "data" / "schemes.toml"

ANHUI_IP = Scheme(name="安徽维权", region=["安徽|皖", "合肥", "芜湖"], subject=["知识产权|知产", "商标", "专利"],
                  event=["侵权", "投诉|举报", "查处"], exclude=["招聘"])
ANY_IP = Scheme(name="任一", combine="or", subject=["专利"], region=["芜湖"])
TITLE_ONLY = Scheme(name="标题", scope="title", subject=["商标"], event=["侵权"])
FULLWIDTH = Scheme(name="英文", subject=["IP|Ｐａｔｅｎｔ"])


@pytest.mark.parametrize("scheme, title, text, expect", [
    # AND across the three groups
    (ANHUI_IP, "合肥查处一起商标侵权案", "", True),
    (ANHUI_IP, "合肥查处一起商标案", "", True),                       # 查处 is an event word
    (ANHUI_IP, "合肥商标注册量增长", "", False),                      # no event word
    (ANHUI_IP, "江苏查处商标侵权案", "", False),                      # no region word
    (ANHUI_IP, "皖北一企业专利被侵权", "", True),                     # synonym 皖 for 安徽
    (ANHUI_IP, "企业投诉知产维权难", "事发安徽芜湖", True),           # words in the text count (full scope)
    (ANHUI_IP, "合肥查处商标侵权案", "某公司招聘法务", False),        # exclusion vetoes
    # OR: one non-empty group is enough
    (ANY_IP, "专利申请量创新高", "", True),
    (ANY_IP, "芜湖天气晴", "", True),
    (ANY_IP, "合肥天气晴", "", False),
    # title scope ignores the text, for matching and for exclusion alike
    (TITLE_ONLY, "商标侵权案宣判", "", True),
    (TITLE_ONLY, "一起案件宣判", "涉及商标侵权", False),
    # case and width folding
    (FULLWIDTH, "ip保护", "", True),
    (FULLWIDTH, "US patent case", "", True),
    (FULLWIDTH, "知识产权", "", False),
])
def test_scheme_matching(scheme, title, text, expect):
    assert scheme.matches(title, text) is expect


def test_exclusion_respects_title_scope():
    s = Scheme(name="x", scope="title", subject=["商标"], exclude=["招聘"])
    assert s.matches("商标侵权", "招聘启事")
    assert not s.matches("商标代理招聘", "")


def test_matching_schemes_skips_disabled_and_keeps_order():
    off = Scheme(name="停用", enabled=False, subject=["商标"])
    assert matching_schemes([TITLE_ONLY, off, ANHUI_IP], "合肥查处商标侵权案", "") == ["标题", "安徽维权"]


@pytest.mark.parametrize("always, title, kept, names", [
    (False, "合肥查处商标侵权案", True, ["安徽维权"]),
    (False, "今日天气", False, []),
    (True, "今日天气", True, []),                     # always_relevant source keeps everything
    (True, "合肥查处商标侵权案", True, ["安徽维权"]),  # and still records what matched
])
def test_is_kept(always, title, kept, names):
    item = Item(source="s", url="https://example.org/a", title=title)
    assert is_kept(item, always, [ANHUI_IP]) == (kept, names)


def test_select_items_keeps_matches_with_their_names():
    items = [Item(source="s", url=f"https://example.org/{i}", title=t)
             for i, t in enumerate(["合肥查处商标侵权案", "今日天气", "芜湖专利侵权投诉"])]
    kept, dropped = select_items(items, False, [ANHUI_IP, TITLE_ONLY])
    assert [(i.title, names) for i, names in kept] == [("合肥查处商标侵权案", ["安徽维权", "标题"]),
                                                       ("芜湖专利侵权投诉", ["安徽维权"])]
    assert dropped == 1
    kept_all, dropped_none = select_items(items, True, [])
    assert [i for i, _ in kept_all] == items and dropped_none == 0


def test_validation_lists_every_problem():
    with pytest.raises(SchemeError) as e:
        scheme_from_dict({"name": "坏方案", "combine": "xor", "scope": "body", "enabeld": True})
    msg = str(e.value)
    for part in ("坏方案", "combine", "scope", "enabeld", "至少要填一组"):
        assert part in msg


def test_dashboard_style_input_is_normalised():
    s = scheme_from_dict({"name": " 宣传 ", "scope": "标题", "combine": "或",
                          "subject": "安徽省知识产权局\n宣传周，典型案例", "event": [" 发布 | 发布会 "]})
    assert s.name == "宣传" and s.scope == "title" and s.combine == "or"
    assert s.subject == ["安徽省知识产权局", "宣传周", "典型案例"] and s.event == ["发布|发布会"]


def test_duplicate_names_are_rejected(tmp_path):
    with pytest.raises(SchemeError, match="重复"):
        save_schemes(tmp_path / "s.toml", [ANY_IP, Scheme(name="任一", subject=["商标"])])
    assert not (tmp_path / "s.toml").exists()


def test_save_load_round_trip_keeps_order_and_awkward_text(tmp_path):
    path = tmp_path / "schemes.toml"
    odd = Scheme(name='引号"与\\反斜杠', description="第一行\n第二行\t制表", subject=["a|b", "长词" * 30],
                 region=[f"地{i}" for i in range(12)], exclude=["x"], scope="title", combine="or", enabled=False)
    schemes = [odd, ANHUI_IP, ANY_IP]
    save_schemes(path, schemes)
    back = load_schemes(path)
    assert back == schemes
    assert [s.name for s in back] == [odd.name, "安徽维权", "任一"]
    # deterministic: saving what was loaded writes the same bytes
    first = path.read_bytes()
    save_schemes(path, back)
    assert path.read_bytes() == first


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "schemes.toml"
    save_schemes(path, [ANY_IP])
    before = path.read_text(encoding="utf-8")
    with pytest.raises(SchemeError):
        save_schemes(path, [{"name": "", "subject": []}])
    assert path.read_text(encoding="utf-8") == before
    assert [p.name for p in tmp_path.iterdir()] == ["schemes.toml"]


@pytest.mark.parametrize("content, expect", [
    ("[[schemes]]\nname = 1\nsubject = ['a']\n", "缺少方案名称"),
    ("[[schemes]\nname = 'x'", "格式有误"),
    ("title = 'x'\n", "只应包含"),
    ("[[schemes]]\nname = 'x'\nsubject = 'a'\nenabled = 'yes'\n", "enabled"),
])
def test_load_reports_bad_files(tmp_path, content, expect):
    path = tmp_path / "s.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SchemeError, match=expect):
        load_schemes(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SchemeError, match="找不到"):
        load_schemes(tmp_path / "none.toml")


# ---------------------------------------------------------------- the shipped schemes

def test_shipped_file_is_in_writer_format():
    # the dashboard rewrites this file; a hand edit that the writer would reformat shows up here
    assert dumps_schemes(load_schemes(SHIPPED)) == SHIPPED.read_text(encoding="utf-8")


def test_shipped_anhui_scheme_covers_all_sixteen_cities():
    schemes = {s.name: s for s in load_schemes(SHIPPED)}
    anhui = schemes["安徽知识产权维权与执法"]
    cities = ["合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳", "宿州",
              "六安", "亳州", "池州", "宣城"]
    for city in cities:
        assert anhui.matches(f"{city}市场监管局查处一起商标侵权案", ""), city
    assert not anhui.matches("杭州市场监管局查处一起商标侵权案", "")


@pytest.mark.parametrize("title, text, expect", [
    ("芜湖一企业商标被抢注 维权难", "", ["安徽知识产权维权与执法"]),
    ("安徽省知识产权局召开新闻发布会", "发布2024年知识产权保护白皮书", ["本局发布与报道", "安徽知识产权宣传"]),
    ("合肥启动2025年知识产权宣传周活动", "", ["安徽知识产权宣传"]),
    ("浙江省知识产权局发布典型案例", "", []),
    ("安徽某高校招聘知识产权专员", "负责专利申请和侵权纠纷处理", []),
])
def test_shipped_schemes_on_realistic_headlines(title, text, expect):
    assert matching_schemes(load_schemes(SHIPPED), title, text) == expect
