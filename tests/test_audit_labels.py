"""The 操作日志 in Chinese: every action code the code records has a name, and details read as text."""
from __future__ import annotations

import ast
import re
from datetime import datetime, timezone
from pathlib import Path

from monitor import audit, users

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = {code.split(".")[0] for code in audit.ACTION_LABELS}
CODE = re.compile(r"^([a-z_]+)\.([a-z_]+)$")
FILE_SUFFIXES = ("json", "jsonl", "toml", "py", "docx", "xlsx", "csv")     # file names look like codes too


def _recorded_codes() -> set[str]:
    """String constants shaped like an action code (`case.move`) in a namespace the log knows."""
    found = set()
    for pkg in ("monitor", "ui", "casebook", "briefing"):
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    m = CODE.match(node.value)
                    if m and m.group(1) in PREFIXES and not m.group(2).endswith(FILE_SUFFIXES):
                        found.add(node.value)
    return found


def test_every_recorded_action_has_a_chinese_name():
    codes = _recorded_codes()
    assert {"case.move", "handling.move", "item.correct", "briefing.issue"} <= codes     # the scan sees the code
    assert codes - set(audit.ACTION_LABELS) == set()


def test_entries_read_as_chinese_in_beijing_time(fresh_store):
    users.audit(fresh_store, "编辑甲", "case.flag", "CB009", {"flag": 9, "decision": "apply", "empty": ""},
                now=datetime(2026, 11, 27, 2, 40, 7, tzinfo=timezone.utc))
    users.audit(fresh_store, "编辑甲", "case.release", "年度案例", {"cases": ["CB001", "CB002"], "draft": False},
                now=datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc))
    users.audit(fresh_store, "cli:x", "future.thing", "t", {"nested": {"a": 1}},
                now=datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc))
    log = audit.entries(fresh_store)
    assert log.to_dict("records") == [
        {"时间": "2026-11-27 12:00", "操作人": "命令行（x）", "角色": "—", "操作": "future.thing", "对象": "t",
         "详情": "nested：a←1"},
        {"时间": "2026-11-27 11:00", "操作人": "编辑甲", "角色": "—", "操作": "编发案例", "对象": "年度案例",
         "详情": "案例：CB001、CB002；征求意见稿：否"},
        {"时间": "2026-11-27 10:40", "操作人": "编辑甲", "角色": "—", "操作": "处理脱敏提示", "对象": "CB009",
         "详情": "处理：采用建议；提示编号：9"}]
    users.audit(fresh_store, "local", "item.correct", "7", {"field": "negative", "value": "no", "note": "宣传稿"},
                now=datetime(2026, 11, 27, 3, 30, tzinfo=timezone.utc))
    assert audit.entries(fresh_store, action="item.correct").to_dict("records") == [
        {"时间": "2026-11-27 11:30", "操作人": "本机用户", "角色": "—", "操作": "更正研判结果", "对象": "7",
         "详情": "字段：负面判定；说明：宣传稿；值：否"}]
    assert audit.entries(fresh_store, action="case.flag")["操作"].tolist() == ["处理脱敏提示"]


def test_import_and_rejudge_details_read_in_chinese(fresh_store):
    users.audit(fresh_store, "王丽", "import.file", "导出.csv",
                {"new": 3, "read": 4, "skipped": 1, "mapping": {"title": "标题列", "published_at": "时间"}},
                now=datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc))
    users.audit(fresh_store, "王丽", "model.rejudge", "", {"judged": 443, "newly_negative": 2},
                now=datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc))
    details = audit.entries(fresh_store)["详情"].tolist()
    assert details == ["判定条数：443；新增负面：2",
                       "列对应：发布时间←时间，标题←标题列；新增：3；读取：4；跳过：1"]
