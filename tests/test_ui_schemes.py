"""The 监测方案 page per role under AppTest, on a real SQLite file and a real schemes file."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.schemes import load_schemes
from monitor import users
from monitor.store import Store
from ui import auth
from tests.conftest import role_accounts

PAGE = str(Path(__file__).resolve().parent.parent / "ui" / "pages" / "schemes.py")
SCHEMES = """
[[schemes]]
name = "皖南商标执法"
subject = ["商标"]
region = ["芜湖|阜阳"]
exclude = ["招聘"]

[[schemes]]
name = "宣传周"
scope = "title"
subject = ["宣传周"]
"""
SAVE = "FormSubmitter:scheme_{}_form-保存方案"


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "opinion.db"
    (tmp_path / "sources.toml").write_text("", encoding="utf-8")
    (tmp_path / "schemes.toml").write_text(SCHEMES, encoding="utf-8")
    monkeypatch.setenv("OPINION_DB", str(db))
    monkeypatch.setenv("OPINION_SOURCES", str(tmp_path / "sources.toml"))
    Store(db).close()
    return tmp_path


@pytest.fixture
def accounts(env):
    with Store(env / "opinion.db") as s:
        return role_accounts(s)


def page(user: users.User | None, **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if user is not None:
        at.session_state[auth.SESSION_KEY] = auth.session_for(user)
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("text", "markdown", "caption", "info", "warning", "error", "success")
                     for e in getattr(at, kind))


def shown(at: AppTest) -> list[str]:
    return at.dataframe[0].value["方案"].tolist()


@pytest.mark.parametrize("role", ["viewer", "handler", "editor"])
def test_non_admins_read_schemes_but_see_no_edit_controls(env, accounts, role):
    at = page(accounts[role])
    assert not at.exception
    assert shown(at) == ["皖南商标执法", "宣传周"]
    assert at.dataframe[0].value["排除词"].tolist() == ["招聘", ""]
    assert at.button == [] and len(at.get("form")) == 0 and at.text_area == [] and at.selectbox == []
    assert "只有管理员可以新增或修改监测方案" in texts(at)


def test_admin_edits_a_scheme_and_the_page_shows_it_after_reload(env, accounts):
    at = page(accounts["admin"], scheme_pick="皖南商标执法")
    assert at.text_area(key="scheme_皖南商标执法_region").value == "芜湖|阜阳"
    at.text_area(key="scheme_皖南商标执法_region").input("芜湖|阜阳\n马鞍山")
    at.radio(key="scheme_皖南商标执法_combine").set_value("or")
    at.button(key=SAVE.format("皖南商标执法")).click().run()
    assert not at.exception and "已保存方案「皖南商标执法」" in texts(at)
    [first, second] = load_schemes(env / "schemes.toml")
    assert (first.region, first.combine, first.exclude) == (["芜湖|阜阳", "马鞍山"], "or", ["招聘"])
    assert (second.name, second.scope) == ("宣传周", "title")
    again = page(accounts["admin"])
    assert again.dataframe[0].value["地域词"].tolist()[0] == "芜湖|阜阳、马鞍山"
    with Store(env / "opinion.db") as s:
        entry = users.audit_log(s, limit=1)[0]
    assert (entry["actor"], entry["action"]) == ("admin1", "scheme.save")


def test_an_invalid_scheme_is_refused_and_the_file_is_unchanged(env, accounts):
    before = (env / "schemes.toml").read_bytes()
    at = page(accounts["admin"])                     # "＋ 新建方案"
    at.text_input(key="scheme__name").input("宣传周")
    at.button(key=SAVE.format("")).click().run()
    assert not at.exception
    [error] = at.error
    assert "未保存" in error.value and "至少要填一组" in error.value
    at.text_area(key="scheme__subject").input("专利")
    at.button(key=SAVE.format("")).click().run()
    assert "未保存" in at.error[0].value and "方案名称「宣传周」重复" in at.error[0].value
    assert (env / "schemes.toml").read_bytes() == before
    at.text_input(key="scheme__name").input("专利侵权")
    at.text_area(key="scheme__subject").input("专利\n发明专利")
    at.text_area(key="scheme__event").input("侵权|纠纷")
    at.button(key=SAVE.format("")).click().run()
    assert not at.exception and "已保存方案「专利侵权」" in texts(at)
    assert shown(at) == ["皖南商标执法", "宣传周", "专利侵权"]
    assert load_schemes(env / "schemes.toml")[2].event == ["侵权|纠纷"]


def test_admin_deletes_a_scheme(env, accounts):
    at = page(accounts["admin"], scheme_pick="宣传周")
    at.button(key="scheme_宣传周_remove").click().run()
    assert not at.exception and "已删除方案「宣传周」" in texts(at)
    assert [s.name for s in load_schemes(env / "schemes.toml")] == ["皖南商标执法"]


def test_a_broken_schemes_file_is_shown_and_not_overwritten(env, accounts):
    (env / "schemes.toml").write_text('[[schemes]]\nname = "坏"\nscope = "段落"\n', encoding="utf-8")
    at = page(accounts["admin"])
    assert not at.exception and "监测方案文件有误" in at.error[0].value
    assert len(at.get("form")) == 0 and at.button == []


def test_local_single_user_mode_may_edit(env):
    at = page(None)
    assert not at.exception and at.get("form")
    at.session_state["scheme_pick"] = "宣传周"
    at.run()
    at.checkbox(key="scheme_宣传周_enabled").uncheck()
    at.button(key=SAVE.format("宣传周")).click().run()
    assert not at.exception and load_schemes(env / "schemes.toml")[1].enabled is False


def test_a_scheme_deleted_by_someone_else_is_not_replaced_by_another(env, accounts):
    """Picked by list position, an edit saved after another admin deleted an earlier scheme replaced the next
    one; by name, the page says the scheme is gone and writes nothing."""
    at = page(accounts["admin"], scheme_pick="宣传周")
    at.text_input(key="scheme_宣传周_description").input("改过的说明")
    with Store(env / "opinion.db") as s:                    # another admin deletes the *other* scheme meanwhile
        from monitor import intake
        from monitor.settings import Settings
        intake.delete_scheme(s, Settings.load(db=env / "opinion.db"), "皖南商标执法", user=accounts["admin"])
    at.button(key=SAVE.format("宣传周")).click().run()
    assert not at.exception
    [only] = load_schemes(env / "schemes.toml")
    assert (only.name, only.description) == ("宣传周", "改过的说明")
    # and a scheme deleted while it is open is said to be gone, nothing saved over another
    with Store(env / "opinion.db") as s:
        intake.save_scheme(s, Settings.load(db=env / "opinion.db"), {"name": "专利", "subject": ["专利"]},
                           user=accounts["admin"])
        intake.delete_scheme(s, Settings.load(db=env / "opinion.db"), "宣传周", user=accounts["admin"])
    at.run()
    assert "已被其他人删除或改名" in texts(at) and not at.get("form")
    assert [x.name for x in load_schemes(env / "schemes.toml")] == ["专利"]


def test_a_new_scheme_stays_open_after_saving_and_the_new_form_is_empty(env, accounts):
    at = page(accounts["admin"])
    at.text_input(key="scheme__name").input("专利侵权")
    at.text_area(key="scheme__subject").input("专利")
    at.button(key=SAVE.format("")).click().run()
    assert not at.exception and at.selectbox(key="scheme_pick").value == "专利侵权"
    assert at.text_input(key="scheme_专利侵权_name").value == "专利侵权"
    at.selectbox(key="scheme_pick").set_value("").run()
    assert at.text_input(key="scheme__name").value == ""
