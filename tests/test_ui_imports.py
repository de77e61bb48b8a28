"""The 导入 page per role under AppTest: file import with column mapping, and manual entry.

The page judges with the product's judge (sentiment.load_judge), as in production.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from monitor import users
from monitor.store import Store
from ui import auth
from tests.conftest import role_accounts

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "ui" / "pages" / "imports.py")
FIX = ROOT / "tests" / "fixtures" / "imports"
SCHEMES = """
[[schemes]]
name = "皖南商标执法"
subject = ["商标"]
region = ["芜湖|阜阳"]

[[schemes]]
name = "宣传周"
subject = ["宣传周"]
"""
MANUAL_SAVE = "FormSubmitter:manual-保存"


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


def page(user: users.User | None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    if user is not None:
        at.session_state[auth.SESSION_KEY] = auth.session_for(user)
    return at.run()


def upload(at: AppTest, name: str) -> AppTest:
    at.file_uploader(key="import_upload").set_value((name, (FIX / name).read_bytes(), "text/csv"))
    return at.run()


def stored(env: Path) -> dict[str, dict]:
    with Store(env / "opinion.db") as s:
        return {r["title"]: r for r in s.iter_items()}


def mapping_box(at: AppTest, field: str):
    [box] = [b for b in at.selectbox if b.key.startswith("import_map_") and b.key.endswith("_" + field)]
    return box


def test_viewer_is_refused(env, accounts):
    at = page(accounts["viewer"])
    assert not at.exception
    assert "只读账号不能导入或录入信息" in at.info[0].value
    assert at.file_uploader == [] and len(at.get("form")) == 0 and at.button == []


def test_handler_imports_a_gb18030_export_with_matched_schemes(env, accounts):
    at = upload(page(accounts["handler"]), "yuqing_export_gb18030.csv")
    assert not at.exception
    assert mapping_box(at, "title").value == "标题" and mapping_box(at, "url").value == "原文链接"
    assert mapping_box(at, "platform").value == "媒体类型"
    assert "共 6 行" in at.text[0].value
    at.button(key="import_go").click().run()
    assert not at.exception
    assert "新增 4 条" in at.success[0].value
    problems = [t.value for t in at.text]
    assert "第6行: 链接 'javascript:alert(1)' 不是 http/https 网址，已跳过" in problems
    # skipped rows and rows imported with an estimated date are told apart
    assert "跳过 2 处（未导入）" in at.success[0].value and "1 条已导入" in at.success[0].value
    assert [e.label for e in at.expander] == ["跳过的行（2 处，未导入）",
                                              "已导入、发布时间按导入时间记录的行（1 条，标为估计）"]
    items = stored(env)
    assert len(items) == 4
    assert items["芜湖一企业商标遭抢注 负责人称维权难"]["schemes"] == ["皖南商标执法"]
    assert items["合肥市开展知识产权宣传周活动"]["schemes"] == ["宣传周"]
    with Store(env / "opinion.db") as s:
        entry = users.audit_log(s, limit=1)[0]
    assert (entry["actor"], entry["action"], entry["target"]) == ("handler1", "import.file",
                                                                  "yuqing_export_gb18030.csv")


def test_unknown_headers_are_mapped_by_hand_and_remembered(env, accounts):
    at = upload(page(accounts["editor"]), "custom_headers.csv")
    assert mapping_box(at, "title").value == ""
    mapping_box(at, "title").set_value("文章名称")
    mapping_box(at, "url").set_value("网页地址")
    mapping_box(at, "text").set_value("文章摘要")
    at.run()
    at.button(key="import_go").click().run()
    assert not at.exception and "新增 2 条" in at.success[0].value
    assert set(stored(env)) == {"淮北开展商标侵权专项整治", "铜陵专利质押融资破亿"}
    # the next export in this layout comes with the mapping filled in
    again = upload(page(accounts["editor"]), "custom_headers.csv")
    assert mapping_box(again, "title").value == "文章名称" and "上次记住的列对应关系" in again.text[0].value


def test_a_file_that_is_not_an_export_stores_nothing(env, accounts):
    at = upload(page(accounts["admin"]), "not_an_export.csv")
    at.button(key="import_go").click().run()
    assert not at.exception and "未导入" in at.error[0].value and stored(env) == {}


def test_manual_entry_refuses_javascript_and_stores_a_valid_item(env, accounts):
    at = page(accounts["handler"])
    at.text_input(key="manual_url").input("javascript:alert(document.cookie)")
    at.text_input(key="manual_title").input("芜湖商标侵权案宣判")
    at.button(key=MANUAL_SAVE).click().run()
    assert not at.exception and "未保存" in at.error[0].value and "http" in at.error[0].value
    assert stored(env) == {}
    at.text_input(key="manual_url").input("https://mp.example.cn/s/abc")
    at.text_area(key="manual_text").input("<script>alert(1)</script> 芜湖某企业商标被侵权")
    at.text_input(key="manual_time").input("2025-04-25 10:30")
    at.selectbox(key="manual_platform").set_value("wechat")
    at.button(key=MANUAL_SAVE).click().run()
    assert not at.exception and at.success[0].value == "已录入。"
    row = stored(env)["芜湖商标侵权案宣判"]
    assert (row["url"], row["platform"], row["source"]) == ("https://mp.example.cn/s/abc", "wechat", "手工录入")
    assert row["schemes"] == ["皖南商标执法"] and row["text"].startswith("<script>")
    assert all(at.text_input(key=k).value == "" for k in ("manual_url", "manual_title", "manual_time"))
    assert at.text_area(key="manual_text").value == "" and at.text_input(key="manual_source").value == "手工录入"
    at.text_input(key="manual_url").input("https://mp.example.cn/s/abc")     # the same item typed again
    at.text_input(key="manual_title").input("芜湖商标侵权案宣判")
    at.button(key=MANUAL_SAVE).click().run()
    assert "已在库中" in at.error[0].value and len(stored(env)) == 1
    assert stored(env)["芜湖商标侵权案宣判"]["text"].startswith("<script>")      # nothing overwritten
