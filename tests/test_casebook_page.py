"""The 典型案例 page under Streamlit's AppTest, on a real SQLite file chosen with OPINION_DB."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import casebook.workflow  # noqa: F401  (the page file is also named casebook; import the package first)
from casebook.workflow import create_case, move
from collectors.base import Item
from monitor import users
from monitor.case_store import CaseStore
from monitor.store import Store
from sentiment.judgement import Judgement

PAGE = str(Path(__file__).resolve().parent.parent / "ui" / "pages" / "cases.py")
SRC = [{"url": "https://www.example.gov.cn/r.html", "note": ""}]
XSS = "<script>alert(1)</script>"
BASE = {"ip_type": "trademark", "channel": "administrative", "authority": "芜湖市市场监督管理局", "region": "安徽芜湖",
        "year": 2025, "facts": "当事人委托代工生产7270罐，将他人注册商标“米稀”作为商品名称使用。",
        "outcome": "没收涉案产品，罚款63052.93元。", "significance": "通用名称抗辩不成立。", "sources": SRC}


@pytest.fixture
def page_db(tmp_path, monkeypatch):
    path = tmp_path / "page.db"
    with Store(path) as store:
        cs = CaseStore(store)
        approved = create_case(cs, dict(BASE, title="芜湖市市场监管局查处仿冒“米稀”注册商标专用权案"), actor="甲")
        move(cs, approved, "submit", actor="甲", role="editor")
        move(cs, approved, "approve", actor="乙", role="reviewer")
        draft = create_case(cs, dict(BASE, title="吴军销售假冒注册商标的商品罪案" + XSS, channel="judicial-criminal"),
                            actor="甲")
        clue = create_case(cs, {"title": "只有标题的案例", "ip_type": "copyright"}, actor="甲")
        item = Item(source="上观新闻", url="https://web.shobserver.com/a.html",
                    title="近日,一起假冒注册商标案在静安区人民法院开庭宣判:被告人周某某犯假冒注册商标罪,判处有期徒刑六年,并处罚金人民币一千万元。",
                    text="承办检察官在收到判决书后有感而发", published_at=datetime(2024, 5, 1, tzinfo=timezone.utc))
        store.add_items([(item, Judgement(negative=False, p_negative=0.1, polarity="neutral", ip_type="商标",
                                          province="上海"))])
    monkeypatch.setenv("OPINION_DB", str(path))
    return path, {"approved": approved, "draft": draft, "clue": clue}

def ed(widgets, field: str):
    """An 编辑案例 widget: its key carries the case, revision and write count (one form per case shown)."""
    return next(w for w in widgets if re.fullmatch(rf"cb_e_[^_]+_\d+_\d+_{field}", str(w.key)))


def act(at):
    """The 流转 picker of the case shown (keyed by case: an opinion typed for one is not sent with another)."""
    return next(w for w in at.selectbox if str(w.key).startswith("cb_action_"))



def _app() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_page_lists_filters_and_shows_counts(page_db):
    path, ids = page_db
    at = _app()
    assert not at.exception
    assert at.title[0].value == "典型案例"
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["线索"], metrics["草稿"], metrics["已通过"]) == ("1", "1", "1")
    assert len(at.dataframe[0].value) == 3
    at.selectbox(key="cb_state").set_value("approved").run()
    assert list(at.dataframe[0].value["编号"]) == [ids["approved"]]
    at.selectbox(key="cb_state").set_value("全部").run()
    at.text_input(key="cb_q").input("吴军").run()
    assert list(at.dataframe[0].value["编号"]) == [ids["draft"]]
    # Hostile text is shown as text, never as markup.
    at.text_input(key="cb_q").input("").run()
    at.selectbox(key="cb_case").set_value(ids["draft"]).run()
    assert any(XSS in t.value for t in at.text)
    assert not any("<script>" in m.value for m in at.markdown)


def test_page_moves_a_case_and_refuses_a_bad_move(page_db):
    path, ids = page_db
    at = _app()
    at.selectbox(key="cb_case").set_value(ids["draft"]).run()
    # The draft has an open de-identification flag (吴军): submitting is refused with the reason.
    act(at).set_value("submit").run()
    _button(at, "执行").click().run()
    assert any("脱敏" in e.value for e in at.error)
    with Store(path) as store:
        assert CaseStore(store).get(ids["draft"])["state"] == "draft"
    # Apply the proposed form; then the submit goes through and is recorded.
    _button(at, "采用建议").click().run()
    assert not at.exception
    with Store(path) as store:
        case = CaseStore(store).get(ids["draft"])
        assert case["title"].startswith("吴某某销售") and "吴军" not in case["title"]
    at.selectbox(key="cb_case").set_value(ids["draft"]).run()
    act(at).set_value("submit").run()
    _button(at, "执行").click().run()
    assert any("待审" in s.value for s in at.success)
    with Store(path) as store:
        events = CaseStore(store).events(ids["draft"])
        last = events[-1]
        assert (last["action"], last["actor"], last["to_state"]) == ("submit", users.LOCAL_USER.username, "review")
    # The submitter (the local user acts as admin, so also as reviewer) may not approve the own submission.
    at.selectbox(key="cb_case").set_value(ids["draft"]).run()
    act(at).set_value("approve").run()
    _button(at, "执行").click().run()
    assert any("提交人" in e.value for e in at.error)


def test_page_discovers_clues_shows_coverage_and_builds_a_release(page_db):
    path, ids = page_db
    at = _app()
    _button(at, "发现候选案例").click().run()
    assert any("新建线索 1 条" in s.value for s in at.success)
    with Store(path) as store:
        cs = CaseStore(store)
        found = [c for c in cs.search(states=["clue"]) if c["origin"] == "discovery"]
        assert len(found) == 1 and cs.linked_items(found[0]["id"])[0]["url"] == "https://web.shobserver.com/a.html"

    at.selectbox(key="cb_cov_year").set_value(2025).run()
    assert any("尚无案例的知识产权类型" in w.value and "专利" in w.value for w in at.warning)

    at.multiselect(key="cb_r_cases").set_value([ids["approved"]]).run()
    assert any("商标1件" in i.value for i in at.info)
    at.text_input(key="cb_r_title").input("2025年度芜湖市知识产权典型案例").run()
    _button(at, "生成正式发布稿（所选案例将标为已发布）").click().run()
    assert not at.error
    assert any("正式发布稿" in s.value for s in at.success)
    assert len(at.get("download_button")) == 3
    with Store(path) as store:
        assert CaseStore(store).get(ids["approved"])["state"] == "published"


def test_page_creates_a_case_as_clue_when_incomplete(page_db):
    path, _ = page_db
    at = _app()
    at.text_input(key="cb_n_title").input("合肥市市场监管局查处侵犯“黄山毛峰”地理标志案")
    at.selectbox(key="cb_n_ip").set_value("geographical_indication")
    _button(at, "新建").click().run()
    assert not at.exception and not at.error
    with Store(path) as store:
        case = CaseStore(store).search(text="黄山毛峰")[0]
        assert (case["state"], case["ip_type"], case["year"]) == ("clue", "geographical_indication", datetime.now().year)
        assert {"authority", "facts", "outcome", "significance", "sources"} <= set(case["gaps"])
    # the form starts empty again, so pressing 新建 twice cannot add the same case twice
    assert at.text_input(key="cb_n_title").value == ""
    assert at.selectbox(key="cb_n_ip").value != "geographical_indication"
    _button(at, "新建").click().run()
    assert any("案件名称" in e.value or "标题" in e.value for e in at.error)
    with Store(path) as store:
        assert len(CaseStore(store).search(text="黄山毛峰")) == 1


def test_a_refused_case_keeps_what_was_typed(page_db):
    at = _app()
    at.text_input(key="cb_n_title").input("")
    at.text_area(key="cb_n_src").input("不是链接")
    at.text_input(key="cb_n_auth").input("芜湖市市场监督管理局")
    _button(at, "新建").click().run()
    assert at.error and at.text_input(key="cb_n_auth").value == "芜湖市市场监督管理局"


def test_local_single_user_is_told_why_approval_needs_a_second_account(page_db):
    path, ids = page_db
    with Store(path) as store:
        cs = CaseStore(store)
        mine = create_case(cs, dict(BASE, title="某商标侵权行政处罚案"), actor=users.LOCAL_USER.username)
        move(cs, mine, "submit", actor=users.LOCAL_USER.username, role="editor")
    at = _app()
    at.selectbox(key="cb_case").set_value(mine).run()
    act(at).set_value("approve").run()
    _button(at, "执行").click().run()
    assert any("提交人" in e.value and "users add" in e.value for e in at.error)
    with Store(path) as store:
        assert CaseStore(store).get(mine)["state"] == "review"


def test_the_edit_form_follows_the_case_shown_and_saving_changes_only_that_case(page_db):
    """The 编辑案例 form showed the first case opened; after choosing another, 保存 wrote those values over it."""
    path, ids = page_db
    at = _app()
    at.selectbox(key="cb_case").set_value(ids["draft"]).run()
    assert ed(at.text_input, "title").value.startswith("吴军销售假冒注册商标的商品罪案")
    at.selectbox(key="cb_case").set_value(ids["clue"]).run()
    assert ed(at.text_input, "title").value == "只有标题的案例"
    assert ed(at.selectbox, "ip").value == "copyright" and ed(at.text_input, "authority").value == ""
    ed(at.text_input, "region").input("安徽合肥")
    _button(at, "保存").click().run()
    assert not at.error
    with Store(path) as store:
        cs = CaseStore(store)
        clue, draft = cs.get(ids["clue"]), cs.get(ids["draft"])
    assert (clue["title"], clue["region"], clue["ip_type"]) == ("只有标题的案例", "安徽合肥", "copyright")
    assert not clue["authority"] and not clue["facts"]
    assert draft["title"].startswith("吴军") and draft["channel"] == "judicial-criminal"


def test_an_edit_over_someone_elses_newer_save_is_refused_and_the_form_can_be_reloaded(page_db):
    path, ids = page_db
    at = _app()
    at.selectbox(key="cb_case").set_value(ids["draft"]).run()
    with Store(path) as store:                                  # another editor saves meanwhile
        casebook.workflow.edit_case(CaseStore(store), ids["draft"], {"headline": "另一位编辑写的导语"},
                                    actor="丙", role="editor")
    ed(at.text_input, "region").input("安徽马鞍山")
    _button(at, "保存").click().run()
    assert any("编辑期间已被修改" in e.value for e in at.error)
    with Store(path) as store:
        case = CaseStore(store).get(ids["draft"])
    assert (case["headline"], case["region"]) == ("另一位编辑写的导语", "安徽芜湖")
    assert ed(at.text_input, "region").value == "安徽马鞍山"       # what was typed is still there
    _button(at, "载入最新内容").click().run()
    assert ed(at.text_input, "headline").value == "另一位编辑写的导语"
    ed(at.text_input, "region").input("安徽马鞍山")
    _button(at, "保存").click().run()
    assert not at.error
    with Store(path) as store:
        case = CaseStore(store).get(ids["draft"])
    assert (case["headline"], case["region"]) == ("另一位编辑写的导语", "安徽马鞍山")


def test_an_edit_after_ones_own_move_is_not_refused_and_a_refusal_shows_outside_the_form(page_db):
    """The form's version came from before the user's own 流转, so their next edit was refused as someone
    else's change; and a refusal sat inside the 编辑案例 fold, which closes on the rerun."""
    path, ids = page_db
    at = _app()
    at.selectbox(key="cb_case").set_value(ids["clue"]).run()
    act(at).set_value("promote").run()
    _button(at, "执行").click().run()
    assert not at.error
    ed(at.text_input, "region").input("安徽合肥")
    _button(at, "保存").click().run()
    assert not at.error
    with Store(path) as store:
        assert CaseStore(store).get(ids["clue"])["region"] == "安徽合肥"
        casebook.workflow.edit_case(CaseStore(store), ids["clue"], {"headline": "别人改的"}, actor="丙", role="editor")
    ed(at.text_input, "region").input("安徽芜湖")
    _button(at, "保存").click().run()
    [refusal] = at.error
    assert "编辑期间已被修改" in refusal.value
    assert not any("编辑期间已被修改" in e.value for x in at.expander for e in x.error)   # not hidden in the fold
