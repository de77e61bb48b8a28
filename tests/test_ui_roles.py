"""Role checks on the pages written before accounts existed (信息流, 负面处置, 典型案例, 舆情简报, the sample
buttons), through AppTest on a real SQLite file with one account per role: the signed-in account is the
actor, read-only roles get no working write control, and each write lands in the history and the audit log."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import briefing.issue  # noqa: F401  (imported first: page files share the package names)
import casebook.workflow  # noqa: F401
from casebook.workflow import create_case, move
from collectors.base import Item
from monitor import handling, queries, users
from monitor.case_store import CaseStore
from monitor.store import Store
from sentiment.judgement import Judgement
from tests.test_casebook_page import BASE
from tests.test_ui_workflows import SOURCES, hw, seed
from ui import auth

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "ui" / "pages"
NEG_TITLE = "网店售卖假冒商标产品"



@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "opinion.db"
    seed(db)
    (tmp_path / "sources.toml").write_text(SOURCES, encoding="utf-8")
    monkeypatch.setenv("OPINION_DB", str(db))
    monkeypatch.setenv("OPINION_SOURCES", str(tmp_path / "sources.toml"))
    now = datetime.now(timezone.utc)
    with Store(db) as s:
        accounts = {role: users.add_user(s, f"{role}1", "office pass 1", role, actor="cli:test", now=now)
                    for role in users.ROLES}
        cs = CaseStore(s)
        case_id = create_case(cs, {"title": "只有标题的案例", "ip_type": "copyright"}, actor="甲")
        in_review = create_case(cs, dict(BASE, title="芜湖市市场监管局查处仿冒注册商标案"), actor="甲")
        move(cs, in_review, "submit", actor="甲", role="editor")
    return db, accounts, case_id, in_review


def review_moves(at: AppTest, case_id: str) -> list[str]:
    at.selectbox(key="cb_case").set_value(case_id).run()
    return [o for box in at.selectbox if str(box.key).startswith("cb_action_") for o in box.options]


def run(script: Path | str, user: users.User, **session) -> AppTest:
    at = AppTest.from_file(str(script), default_timeout=90)
    at.session_state[auth.SESSION_KEY] = auth.session_for(user)
    for k, v in session.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def pick(at: AppTest, key: str, text: str) -> None:
    box = at.selectbox(key=key)
    box.select(next(o for o in box.options if text in str(o))).run()


def button_labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def snapshot(db: Path) -> dict[str, int]:
    """Row counts of every table a page could write."""
    with Store(db, readonly=True) as s:
        tables = ("item_marks", "corrections", "saved_views", "handling_events", "audit_log", "case_events",
                  "briefings", "cases", "handling")
        present = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in tables if t not in present]
        assert not missing, f"tables renamed? {missing}; present: {sorted(present)}"
        return {t: s.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def item_id(db: Path, title: str) -> int:
    with Store(db, readonly=True) as s:
        return s.conn.execute("SELECT id FROM items WHERE title = ?", (title,)).fetchone()[0]


def audit_actions(db: Path, actor: str) -> list[str]:
    with Store(db, readonly=True) as s:
        return [e["action"] for e in users.audit_log(s, actor=actor)]


def assign_in_handling(at: AppTest) -> None:
    pick(at, "handle_pick", NEG_TITLE)
    hw(at.selectbox, "action").select("assign")
    hw(at.selectbox, "unit").set_value("合肥市市场监管局")
    hw(at.text_input, "due").input("2d")
    at.form_submit_button[0].click().run()


def edit_case_headline(at: AppTest, case_id: str, headline: str) -> None:
    at.selectbox(key="cb_case").set_value(case_id).run()
    next(w for w in at.text_input if str(w.key).endswith("_headline") and str(w.key).startswith("cb_e_")).input(headline)
    next(b for b in at.button if b.label == "保存").click().run()


# -- viewer: nothing to click, nothing changes ----------------------------------------------------

def test_viewer_can_change_nothing(env):
    db, accounts, case_id, in_review = env
    viewer = accounts["viewer"]
    before = snapshot(db)

    at = run(PAGES / "stream.py", viewer)
    pick(at, "detail_item", NEG_TITLE)
    assert not {"标记重要", "标记已读", "误判（不是负面）", "保存视图", "保存更正"} & button_labels(at)
    assert not at.get("form") and any("只读" in c.value for c in at.caption)
    assert any("viewer1" in c.value for c in at.caption)              # who is signed in, instead of a name box
    assert not [t for t in at.text_input if t.key in ("actor", "view_name")]

    at = run(PAGES / "handling.py", viewer)
    pick(at, "handle_pick", NEG_TITLE)
    assert not at.get("form") and not at.form_submit_button
    assert any("只读" in c.value for c in at.caption)

    at = run(PAGES / "cases.py", viewer)
    at.selectbox(key="cb_case").set_value(case_id).run()
    assert not {"新建", "保存", "执行", "发现候选案例"} & button_labels(at) and not at.get("form")
    assert not [b for b in at.button if b.key == "cb_r_build"]
    assert not [s for s in at.sidebar.text_input] and any("只读" in c.value for c in at.caption)

    at = run(PAGES / "briefings.py", viewer)
    assert not [b for b in at.button if b.key == "br_make"] and any("不能签发简报" in c.value for c in at.caption)

    assert snapshot(db) == before


def test_a_button_drawn_for_a_handler_is_refused_after_the_role_changes(env):
    db, accounts, _, _ = env
    at = run(PAGES / "stream.py", accounts["handler"])
    pick(at, "detail_item", NEG_TITLE)
    before = snapshot(db)
    with Store(db) as s:
        users.set_role(s, "handler1", "viewer", actor="cli:test", now=datetime.now(timezone.utc))
    at.button(key="act_misjudged").click().run()
    assert any("只读" in e.value for e in at.error)
    after = snapshot(db)
    assert after == before | {"audit_log": before["audit_log"] + 1}   # only the role change itself


# -- handler: triage and handling, not cases ----------------------------------------------------------

def test_handler_handles_and_marks_under_own_name_but_cannot_edit_cases(env):
    db, accounts, case_id, in_review = env
    handler = accounts["handler"]
    at = run(PAGES / "handling.py", handler)
    assert "首次采集" in at.metric[0].proto.help and "总览" in at.metric[0].proto.help   # says how it counts
    assign_in_handling(at)
    assert any("待研判 → 已交办" in s.value for s in at.success), [e.value for e in at.error]
    with Store(db, readonly=True) as s:
        hist = handling.history(s, item_id(db, NEG_TITLE))
    assert [(h["action"], h["actor"]) for h in hist] == [("assign", "handler1")]

    at = run(PAGES / "stream.py", handler)
    pick(at, "detail_item", NEG_TITLE)
    at.button(key="act_misjudged").click().run()
    assert any("误判更正已保存" in s.value for s in at.success)
    with Store(db, readonly=True) as s:
        d = queries.item_detail(s, item_id(db, NEG_TITLE))
    assert d["negative"] is False and d["corrections"][-1]["user"] == "handler1"
    assert audit_actions(db, "handler1") == ["item.correct", "handling.move"]   # newest first

    before = snapshot(db)
    at = run(PAGES / "cases.py", handler)
    at.selectbox(key="cb_case").set_value(case_id).run()
    assert not {"新建", "保存", "执行", "发现候选案例"} & button_labels(at) and not at.get("form")
    assert any("当前角色为“处置”，不能新建、编辑或流转案例" in c.value for c in at.caption)
    at = run(PAGES / "briefings.py", handler)
    assert not [b for b in at.button if b.key == "br_make"]
    assert snapshot(db) == before


# -- editor: cases and briefings, not handling -----------------------------------------------------------

def test_editor_edits_cases_and_issues_briefings_but_cannot_handle(env):
    db, accounts, case_id, in_review = env
    editor = accounts["editor"]
    at = run(PAGES / "cases.py", editor)
    edit_case_headline(at, case_id, "编辑改过的标题")
    assert any("已保存" in s.value for s in at.success), [e.value for e in at.error]
    with Store(db, readonly=True) as s:
        cs = CaseStore(s)
        assert cs.get(case_id)["headline"] == "编辑改过的标题"
        assert cs.events(case_id)[-1]["actor"] == "editor1"
    assert review_moves(at, in_review) == []          # approving is a reviewer's act: admin only

    at = run(PAGES / "briefings.py", editor)
    at.button(key="br_make").click().run()
    assert not at.exception and at.get("download_button")

    before = snapshot(db)
    at = run(PAGES / "handling.py", editor)
    pick(at, "handle_pick", NEG_TITLE)
    assert not at.get("form") and any("当前角色为“编辑”，不能办理负面事件" in c.value for c in at.caption)
    at = run(PAGES / "stream.py", editor)
    pick(at, "detail_item", NEG_TITLE)
    assert not {"标记重要", "误判（不是负面）"} & button_labels(at)
    assert snapshot(db) == before
    assert audit_actions(db, "editor1") == ["briefing.issue", "case.edit"]


# -- admin: everything, and the sample buttons -------------------------------------------------------------

def test_admin_may_do_everything(env):
    db, accounts, case_id, in_review = env
    admin = accounts["admin"]
    at = run(PAGES / "handling.py", admin)
    assign_in_handling(at)
    assert any("待研判 → 已交办" in s.value for s in at.success)
    at = run(PAGES / "stream.py", admin)
    pick(at, "detail_item", NEG_TITLE)
    at.button(key="act_important").click().run()
    at.text_input(key="view_name").input("管理员视图").run()
    at.button(key="view_save").click().run()
    at = run(PAGES / "cases.py", admin)
    assert {"审核通过", "退回修改"} <= set(review_moves(at, in_review))
    edit_case_headline(at, case_id, "管理员改过的标题")
    at = run(PAGES / "briefings.py", admin)
    at.button(key="br_make").click().run()
    assert not at.error
    with Store(db, readonly=True) as s:
        assert s.conn.execute("SELECT created_by FROM saved_views WHERE name = '管理员视图'").fetchone()[0] == "admin1"
    assert sorted(audit_actions(db, "admin1")) == sorted(
        ["handling.move", "item.mark", "view.save", "case.edit", "briefing.issue"])


@pytest.mark.parametrize("role", users.ROLES)
def test_only_admin_gets_the_sample_buttons(env, role):
    db, accounts, _, _ = env
    with Store(db) as s:
        s.add_items([(Item(source="示例", url="https://sample.example/1", title="示例信息", text="示例正文",
                           published_at=datetime.now(timezone.utc)), Judgement(negative=False, p_negative=0.1, polarity="neutral")),
                     (Item(source="示例", url="https://sample.example/2", title="无日期的示例信息", text="示例正文二"),
                      Judgement(negative=False, p_negative=0.1, polarity="neutral"))],
                    sample=True)
    at = run(ROOT / "dashboard.py", accounts[role])
    # the banner says why 今日 is high on a fresh sample: undated items are counted when loaded
    assert any("其中 1 条原文没有发布日期，按载入时间计入" in i.value for i in at.info)
    buttons = [b for b in at.button if b.key == "remove_sample"]
    if role != "admin":
        assert not buttons and not any("只有管理员" in c.value for c in at.caption)
        assert any("开始采集后可由管理员一键清除" in i.value for i in at.info)
        with Store(db, readonly=True) as s:
            assert s.conn.execute("SELECT count(*) FROM items WHERE is_sample = 1").fetchone()[0] == 2
        return
    buttons[0].click().run()
    with Store(db, readonly=True) as s:
        assert s.conn.execute("SELECT count(*) FROM items WHERE is_sample = 1").fetchone()[0] == 0
    assert audit_actions(db, "admin1") == ["sample.remove"]


def _fix(at: AppTest, kind: str, field: str):
    """The 更正 form's widget for `field` (its keys carry the item shown: one form per item)."""
    return next(w for w in getattr(at, kind) if str(w.key).startswith("fix_") and str(w.key).endswith(field))


def test_the_correction_form_shows_the_item_shown_and_saves_only_what_was_changed(env):
    """信息流: the 更正 form kept the first item's 倾向/类型 while J stepped on; 保存更正 then wrote them onto
    the item shown (a type correction nobody made, learnt by the next training run). A browser sends what was
    typed into a form with the next submit, so each item has its own form: an unsaved choice stays behind."""
    db, accounts, *_ = env
    at = run(PAGES / "stream.py", accounts["handler"])
    pick(at, "detail_item", "专利维权难")
    assert (_fix(at, "selectbox", "polarity").value, _fix(at, "selectbox", "ip_type").value) == ("negative", "专利")
    first = _fix(at, "text_input", "note").key
    _fix(at, "text_input", "note").input("写给上一条的说明")
    _fix(at, "selectbox", "ip_type").set_value("商标")
    pick(at, "detail_item", "典型案例")                               # a publicity item: positive, 专利
    pick(at, "detail_item", NEG_TITLE)                                 # negative, 商标
    assert (_fix(at, "selectbox", "polarity").value, _fix(at, "selectbox", "ip_type").value) == ("negative", "商标")
    assert _fix(at, "text_input", "note").value == "" and _fix(at, "text_input", "note").key != first
    _fix(at, "selectbox", "polarity").set_value("neutral")
    next(b for b in at.button if b.label == "保存更正").click().run()
    assert not at.exception
    item = item_id(db, NEG_TITLE)
    with Store(db) as s:
        assert [(c["field"], c["value"]) for c in s.corrections(item)] == [("polarity", "neutral")]
        other = s.conn.execute("SELECT id FROM items WHERE title LIKE '专利维权难%'").fetchone()[0]
        assert s.corrections(other) == []                            # the unsaved 商标 stayed behind
    # after the save the form shows the item as it now is
    assert (_fix(at, "selectbox", "polarity").value, _fix(at, "selectbox", "ip_type").value) == ("neutral", "商标")


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_server_paths_are_shown_to_admins_only(env, role):
    db, accounts, *_ = env
    for page in (ROOT / "dashboard.py", PAGES / "sources.py"):
        at = run(page, accounts[role])
        shown = [t.value for t in at.sidebar.text] + [c.value for c in at.caption]
        assert any(str(db) in v or "配置文件" in v for v in shown) == (role == "admin"), page.name
