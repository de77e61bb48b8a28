"""The 信息源 page's admin controls under AppTest, on a copy of the shipped data/sources.toml."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.registry import load_sources
from monitor import users
from monitor.store import Store
from ui import auth
from tests.conftest import role_accounts

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "ui" / "pages" / "sources.py")
BASE = "http://127.0.0.1:1200"
ADD = "FormSubmitter:source_new-新增"


@pytest.fixture
def env(tmp_path, monkeypatch):
    db = tmp_path / "opinion.db"
    shutil.copy(ROOT / "data" / "sources.toml", tmp_path / "sources.toml")
    monkeypatch.setenv("OPINION_DB", str(db))
    monkeypatch.setenv("OPINION_SOURCES", str(tmp_path / "sources.toml"))
    monkeypatch.delenv("OPINION_RSSHUB_BASE", raising=False)
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


def sources(env: Path):
    return load_sources(env / "sources.toml", BASE)


@pytest.mark.parametrize("role", ["viewer", "handler", "editor"])
def test_non_admins_see_health_but_cannot_edit_sources(env, accounts, role):
    at = page(accounts[role])
    assert not at.exception
    assert len(at.dataframe[0].value) == len(sources(env))        # health for everyone
    # handlers may only ask for a collection pass; nobody but an admin edits sources
    expected_buttons = ["collect_now"] if role == "handler" else []
    assert [b.key for b in at.button] == expected_buttons
    assert len(at.get("form")) == 0 and at.checkbox == [] and at.text_input == []
    assert any("只有管理员可以" in c.value for c in at.caption)


def test_admin_disables_a_source_and_sources_toml_is_updated(env, accounts):
    first = sources(env)[0]
    assert first.enabled
    before = {s.name: s for s in sources(env)}
    at = page(accounts["admin"], source_pick=first.name)
    at.checkbox(key="source_0_enabled").uncheck()
    at.number_input(key="source_0_interval").set_value(45)
    at.button(key="FormSubmitter:source_0_form-保存").click().run()
    assert not at.exception and f"已保存信息源「{first.name}」" in at.success[0].value
    after = {s.name: s for s in sources(env)}
    assert (after[first.name].enabled, after[first.name].interval_minutes) == (False, 45)
    assert {n: s for n, s in after.items() if n != first.name} == {n: s for n, s in before.items() if n != first.name}
    # the health table reflects the file at once
    health = at.dataframe[0].value
    assert int(at.metric[1].value) == sum(s.enabled for s in after.values())
    assert len(health) == len(after)
    with Store(env / "opinion.db") as s:
        entry = users.audit_log(s, limit=1)[0]
    assert (entry["actor"], entry["action"], entry["target"]) == ("admin1", "source.update", first.name)
    assert entry["detail"] == {"enabled": [True, False], "interval_minutes": [first.interval_minutes, 45]}


def test_admin_adds_a_source_and_bad_addresses_are_refused(env, accounts):
    before = (env / "sources.toml").read_bytes()
    at = page(accounts["admin"])
    at.text_input(key="source_new_name").input("微博·安徽知识产权")
    at.text_input(key="source_new_url").input("javascript:alert(1)")
    at.button(key=ADD).click().run()
    assert not at.exception and "未新增" in at.error[0].value and "rsshub" in at.error[0].value
    assert (env / "sources.toml").read_bytes() == before
    at.text_input(key="source_new_url").input("rsshub:///weibo/keyword/安徽知识产权")
    at.selectbox(key="source_new_platform").set_value("social")
    at.checkbox(key="source_new_always").check()
    at.button(key=ADD).click().run()
    assert not at.exception and "已新增信息源「微博·安徽知识产权」" in at.success[0].value
    added = sources(env)[-1]
    assert (added.name, added.configured_url, added.platform, added.always_relevant) == (
        "微博·安徽知识产权", "rsshub:///weibo/keyword/安徽知识产权", "social", True)
    assert "微博·安徽知识产权" in at.dataframe[0].value["信息源"].tolist()


def test_a_broken_sources_file_is_not_edited(env, accounts):
    (env / "sources.toml").write_text('[[sources]]\nname = "坏"\n', encoding="utf-8")
    at = page(accounts["admin"])
    assert not at.exception and "请先手工修正" in at.error[0].value
    assert len(at.get("form")) == 0
