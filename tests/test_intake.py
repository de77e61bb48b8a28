"""monitor.intake: imports, manual entry, source and scheme edits — with role checks and the audit trail."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from collectors.registry import SourceConfigError, load_sources
from collectors.schemes import SchemeError, load_schemes
from monitor import intake, users
from monitor.settings import Settings
from monitor.store import Store

FIX = Path(__file__).resolve().parent / "fixtures" / "imports"
NOW = datetime(2025, 4, 26, 8, 0, tzinfo=timezone.utc)
SCHEMES = """
[[schemes]]
name = "皖南商标执法"
subject = ["商标"]
region = ["芜湖|阜阳"]

[[schemes]]
name = "宣传周"
subject = ["宣传周"]
"""
SOURCES = """
[[sources]]
name = "源甲"
url = "https://a.example/feed"
platform = "news"

[[sources]]
name = "源乙"
url = "rsshub:///weibo/user/1"
platform = "social"
enabled = false
"""


@pytest.fixture
def settings(tmp_path) -> Settings:
    (tmp_path / "sources.toml").write_text(SOURCES, encoding="utf-8")
    (tmp_path / "schemes.toml").write_text(SCHEMES, encoding="utf-8")
    return Settings.load(db=tmp_path / "opinion.db", env={}, sources=tmp_path / "sources.toml")


@pytest.fixture
def store(settings):
    s = Store(settings.db_path)
    yield s
    s.close()


@pytest.fixture
def people(store):
    return {role: users.add_user(store, f"{role}1", "office pass 1", role, actor="cli:test", now=NOW)
            for role in users.ROLES}


def items(store: Store) -> dict[str, dict]:
    return {r["title"]: r for r in store.iter_items()}


def last_audit(store: Store) -> dict:
    return users.audit_log(store, limit=1)[0]


# -- imports --------------------------------------------------------------------------------------

def test_import_gb18030_export_stores_rows_with_matched_schemes(store, fixed_judge, settings, people):
    data = (FIX / "yuqing_export_gb18030.csv").read_bytes()
    report = intake.import_file(store, fixed_judge, "yuqing_export_gb18030.csv", data, None, False, settings,
                                user=people["handler"], now=NOW)
    assert report.ok and (report.read, report.new, report.duplicate) == (4, 4, 0)
    assert len(report.errors) == 2 and "第6行" in report.errors[1]
    assert report.estimated == ["第7行: 发布时间 '昨天' 无法识别，已按导入时间记录"]
    assert report.summary == ("读取 4 条，新增 4 条，重复 0 条；1 条已导入，但发布时间无法使用，按导入时间记录（标为估计）"
                              "；跳过 2 处（未导入）。")
    stored = items(store)
    assert stored["芜湖一企业商标遭抢注 负责人称维权难"]["schemes"] == ["皖南商标执法"]
    assert stored["合肥市开展知识产权宣传周活动"]["schemes"] == ["宣传周"]
    assert stored["六安茶叶地理标志保护成效显著"]["schemes"] == []      # imports keep what matches nothing
    assert not any("javascript" in r["url"] for r in stored.values())
    entry = last_audit(store)
    assert (entry["actor"], entry["action"], entry["target"]) == ("handler1", "import.file",
                                                                  "yuqing_export_gb18030.csv")
    assert entry["detail"]["new"] == 4
    # the same file again: nothing new
    again = intake.import_file(store, fixed_judge, "yuqing_export_gb18030.csv", data, None, False, settings, now=NOW)
    assert (again.new, again.duplicate) == (0, 4)


def test_import_with_a_mapping_remembers_it_for_the_format(store, fixed_judge, settings):
    data = (FIX / "custom_headers.csv").read_bytes()
    before = intake.preview_file(settings, "custom_headers.csv", data)
    assert not before.remembered and "title" not in before.mapping
    refused = intake.import_file(store, fixed_judge, "custom_headers.csv", data, None, True, settings)
    assert not refused.ok and "标题或正文" in refused.errors[0] and items(store) == {}
    mapping = {"title": "文章名称", "url": "网页地址", "text": "文章摘要", "published_at": "采集日期", "source": ""}
    report = intake.import_file(store, fixed_judge, "custom_headers.csv", data, mapping, True, settings)
    assert report.ok and report.new == 2
    assert set(items(store)) == {"淮北开展商标侵权专项整治", "铜陵专利质押融资破亿"}
    assert intake.mappings_path(settings).exists()
    after = intake.preview_file(settings, "other name.csv", data)
    assert after.remembered and after.mapping["title"] == "文章名称" and "source" not in after.mapping


def test_a_file_that_is_not_an_export_stores_nothing(store, fixed_judge, settings, people):
    data = (FIX / "not_an_export.csv").read_bytes()
    report = intake.import_file(store, fixed_judge, "not_an_export.csv", data, None, False, settings,
                                user=people["editor"])
    assert not report.ok and report.errors and report.summary.startswith("未导入")
    assert items(store) == {} and last_audit(store)["action"] == "user.add"


def test_viewer_may_not_import_or_add_items(store, fixed_judge, settings, people):
    data = (FIX / "items.jsonl").read_bytes()
    with pytest.raises(users.UserError, match="无权导入"):
        intake.import_file(store, fixed_judge, "items.jsonl", data, None, False, settings, user=people["viewer"])
    with pytest.raises(users.UserError, match="无权录入"):
        intake.add_manual_item(store, fixed_judge, {"url": "https://x.example/1", "title": "标题"}, settings,
                               user=people["viewer"])
    assert items(store) == {}
    assert [intake.may_import(people[r]) for r in users.ROLES] == [False, True, True, True]


def test_broken_schemes_file_still_imports_with_a_warning(store, fixed_judge, settings):
    intake.schemes_path(settings).write_text("[[schemes]]\nname = \n", encoding="utf-8")
    report = intake.add_manual_item(store, fixed_judge, {"url": "https://x.example/a", "title": "芜湖商标"},
                                    settings, now=NOW)
    assert report.ok and report.new == 1 and "监测方案文件有误" in report.warnings[0]
    assert items(store)["芜湖商标"]["schemes"] == []


# -- manual entry ------------------------------------------------------------------------------------

def test_manual_entry_refuses_a_javascript_url_and_stores_a_valid_one(store, fixed_judge, settings, people):
    bad = intake.add_manual_item(store, fixed_judge, {"url": "javascript:alert(1)", "title": "芜湖商标侵权"},
                                 settings, user=people["handler"], now=NOW)
    assert not bad.ok and "http:// 或 https://" in bad.errors[0] and items(store) == {}
    fields = {"url": "https://mp.example.cn/s/abc", "title": "芜湖商标侵权案宣判", "text": "维权难",
              "time": "2025-04-25 10:30", "platform": "wechat", "source": "某公众号"}
    ok = intake.add_manual_item(store, fixed_judge, fields, settings, user=people["editor"], now=NOW)
    assert ok.ok and ok.new == 1
    row = items(store)["芜湖商标侵权案宣判"]
    assert (row["source"], row["platform"], row["schemes"]) == ("某公众号", "wechat", ["皖南商标执法"])
    assert row["negative"]                        # judged by the judge it was given
    entry = last_audit(store)
    assert (entry["actor"], entry["action"], entry["target"]) == ("editor1", "import.manual", fields["url"])
    dup = intake.add_manual_item(store, fixed_judge, fields | {"title": "另一个标题", "text": "", "source": "手工录入"},
                                 settings, now=NOW)
    assert not dup.ok and dup.duplicate == 1 and "已在库中（「芜湖商标侵权案宣判」）" in dup.errors[0]
    assert items(store)["芜湖商标侵权案宣判"]["source"] == "某公众号"          # a re-typed link overwrites nothing


# -- sources ---------------------------------------------------------------------------------------------

def test_admin_disables_and_retunes_a_source(store, settings, people):
    intake.set_source_enabled(store, settings, "源甲", False, user=people["admin"], now=NOW)
    intake.update_source(store, settings, "源乙", interval_minutes=15, weight=2.5, user=people["admin"], now=NOW)
    a, b = load_sources(settings.sources_file, settings.rsshub_base)
    assert (a.name, a.enabled) == ("源甲", False)
    assert (b.interval_minutes, b.weight, b.configured_url) == (15, 2.5, "rsshub:///weibo/user/1")
    entry = last_audit(store)
    assert (entry["action"], entry["target"], entry["detail"]) == (
        "source.update", "源乙", {"interval_minutes": [60, 15], "weight": [1.0, 2.5]})


def test_handler_cannot_edit_sources_and_bad_values_change_nothing(store, settings, people):
    before = settings.sources_file.read_bytes()
    with pytest.raises(users.UserError, match="无权修改信息源"):
        intake.set_source_enabled(store, settings, "源甲", False, user=people["handler"])
    with pytest.raises(users.UserError, match="无权新增信息源"):
        intake.add_source(store, settings, {"name": "新", "url": "https://n.example/rss"}, user=people["editor"])
    with pytest.raises(SourceConfigError, match="采集间隔至少 1 分钟"):
        intake.update_source(store, settings, "源甲", interval_minutes=0, user=people["admin"])
    with pytest.raises(SourceConfigError, match="没有名为「无此源」"):
        intake.update_source(store, settings, "无此源", enabled=True)
    assert settings.sources_file.read_bytes() == before


def test_add_source_validates_the_address(store, settings, people):
    before = settings.sources_file.read_bytes()
    for url, message in [("javascript:alert(1)", "必须以 http://、https:// 或 rsshub:/// 开头"),
                         ("file:///etc/passwd", "必须以 http://"), ("https://", "缺少域名"),
                         ("rsshub:///", "缺少路由"), ("https://a.example/x y", "不能有空格")]:
        with pytest.raises(SourceConfigError, match=message):
            intake.add_source(store, settings, {"name": "新源", "url": url}, user=people["admin"])
    with pytest.raises(SourceConfigError, match="名称「源甲」已被使用"):
        intake.add_source(store, settings, {"name": "源甲", "url": "https://n.example/rss"})
    assert settings.sources_file.read_bytes() == before
    added = intake.add_source(store, settings, {"name": "微博·关键词", "url": "rsshub:///weibo/keyword/知识产权",
                                                "platform": "social", "region": "", "weight": 1.5,
                                                "always_relevant": True}, user=people["admin"], now=NOW)
    assert added.url == "http://127.0.0.1:1200/weibo/keyword/%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83"
    names = [s.name for s in load_sources(settings.sources_file, settings.rsshub_base)]
    assert names == ["源甲", "源乙", "微博·关键词"]
    assert last_audit(store)["detail"]["url"] == "rsshub:///weibo/keyword/知识产权"


# -- schemes ---------------------------------------------------------------------------------------------

def test_save_scheme_list_validates_audits_and_keeps_the_file_on_error(store, settings, people):
    path = intake.schemes_path(settings)
    before = path.read_bytes()
    with pytest.raises(SchemeError) as e:
        intake.save_scheme_list(store, settings, [{"name": "空方案"}, {"name": "x", "subject": "a", "scope": "段落"}],
                                user=people["admin"])
    assert "至少要填一组" in str(e.value) and "scope" in str(e.value)
    with pytest.raises(users.UserError):
        intake.save_scheme_list(store, settings, [{"name": "专利", "subject": ["专利"]}], user=people["editor"])
    assert path.read_bytes() == before
    schemes, problem = intake.load_scheme_list(settings)
    edited = [s.to_dict() for s in schemes] + [{"name": "专利", "subject": "专利\n发明", "combine": "或"}]
    intake.save_scheme_list(store, settings, edited, user=people["admin"], now=NOW)
    assert problem is None and [s.name for s in load_schemes(path)] == ["皖南商标执法", "宣传周", "专利"]
    assert load_schemes(path)[2].subject == ["专利", "发明"] and load_schemes(path)[2].combine == "or"
    entry = last_audit(store)
    assert (entry["action"], entry["target"], entry["detail"]["added"]) == ("scheme.save", "专利", ["专利"])


def test_a_scheme_is_replaced_by_name_as_the_file_holds_it_now(store, settings, people):
    """Two admins: one deletes a scheme while the other edits another. The edit replaces its own scheme,
    found by name in the file as it is at saving time; nothing else is overwritten or lost."""
    path = intake.schemes_path(settings)
    names = lambda: [s.name for s in load_schemes(path)]  # noqa: E731
    assert names() == ["皖南商标执法", "宣传周"]
    opened = {s.name: s.to_dict() for s in intake.load_scheme_list(settings)[0]}      # admin A opens a form
    intake.delete_scheme(store, settings, "皖南商标执法", user=people["admin"], now=NOW)  # admin B deletes
    edited = dict(opened["宣传周"], name="宣传周（新）", description="改过")
    intake.save_scheme(store, settings, edited, replaces="宣传周", user=people["admin"], now=NOW)
    assert names() == ["宣传周（新）"] and load_schemes(path)[0].description == "改过"
    before = path.read_bytes()
    with pytest.raises(SchemeError, match="已被他人删除或改名"):          # A's stale form for a deleted scheme
        intake.save_scheme(store, settings, opened["皖南商标执法"], replaces="皖南商标执法", user=people["admin"])
    with pytest.raises(SchemeError, match="已被他人删除或改名"):
        intake.delete_scheme(store, settings, "皖南商标执法", user=people["admin"])
    assert path.read_bytes() == before
    intake.save_scheme(store, settings, {"name": "专利", "subject": "专利"}, user=people["admin"], now=NOW)
    assert names() == ["宣传周（新）", "专利"]


def test_cli_import_reports_skipped_rows_apart_from_estimated_dates(settings, capsys):
    from monitor.intake_cli import main

    base = ["intake", "--db", str(settings.db_path), "--sources", str(settings.sources_file)]
    assert main([*base, "import", str(FIX / "yuqing_export_gb18030.csv")]) == 0
    out, err = capsys.readouterr()
    assert "跳过 2 处（未导入）" in out and "1 条已导入，但发布时间无法使用" in out
    assert err.count("跳过：") == 2 and "时间按导入时间记录：第7行" in err and "跳过：第7行" not in err


def test_missing_schemes_file_means_no_schemes(tmp_path):
    s = Settings.load(db=tmp_path / "o.db", env={}, sources=tmp_path / "sources.toml")
    assert intake.load_scheme_list(s) == ([], None)


# -- command line ------------------------------------------------------------------------------------------

def test_cli_imports_adds_and_switches_sources(settings, capsys):
    from monitor.intake_cli import main

    base = ["intake", "--db", str(settings.db_path), "--sources", str(settings.sources_file)]
    data = str(FIX / "custom_headers.csv")
    assert main([*base, "import", data, "--map", "title=文章名称", "--map", "url=网页地址", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "new": 2, "duplicate": 0, "errors": [],
                                                   "estimated": []}
    assert main([*base, "import", data, "--map", "标题=文章名称"]) == 2
    assert "--map 应写成" in capsys.readouterr().err
    assert main([*base, "import", str(settings.db_path.parent / "没有这个文件.csv")]) == 2
    assert capsys.readouterr().err.strip().endswith("文件或文件夹不存在：" + str(settings.db_path.parent / "没有这个文件.csv"))
    assert main([*base, "add-item", "--url", "javascript:x", "--title", "t"]) == 2
    refused = capsys.readouterr()
    assert refused.out == "" and refused.err.startswith("错误：未导入：链接必须是")
    assert main([*base, "add-item", "--url", "https://x.example/9", "--title", "芜湖商标"]) == 0
    assert "新增 1 条" in capsys.readouterr().out
    assert main([*base, "source", "disable", "源甲"]) == 0
    assert main([*base, "source", "add", "--name", "新", "--url", "ftp://x.example"]) == 2
    assert "必须以" in capsys.readouterr().err
    assert [s.enabled for s in load_sources(settings.sources_file, settings.rsshub_base)] == [False, False]
    with Store(settings.db_path) as s:
        log = users.audit_log(s, limit=10)
        assert [e["action"] for e in log] == ["source.update", "import.manual", "import.file"]
        assert all(e["actor"].startswith("cli") for e in log)
        assert set(items(s)) == {"淮北开展商标侵权专项整治", "铜陵专利质押融资破亿", "芜湖商标"}


@pytest.mark.parametrize("name", ["换行\n名", "制表\t名", "回车\r名", "分隔\u2028名", "空\x00字"])
def test_source_names_with_control_characters_are_refused(settings, capsys, name):
    from monitor.intake_cli import main

    before = settings.sources_file.read_bytes()
    base = ["intake", "--db", str(settings.db_path), "--sources", str(settings.sources_file)]
    assert main([*base, "source", "add", "--name", name, "--url", "https://e.example.cn/feed.xml"]) == 2
    assert "名称中不能有换行、制表符等控制字符" in capsys.readouterr().err
    assert settings.sources_file.read_bytes() == before
    # a hand-edited file with such a name is refused too, naming the source readably
    settings.sources_file.write_text(f'[[sources]]\nname = {json.dumps(name)}\nurl = "https://e.cn/f"\n',
                                     encoding="utf-8")
    with pytest.raises(SourceConfigError, match="控制字符") as e:
        load_sources(settings.sources_file, settings.rsshub_base)
    assert "\n" not in str(e.value) and "\x00" not in str(e.value)
