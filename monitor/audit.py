"""The audit log as staff read it: Chinese names for the recorded actions and their details.

`users.audit` records each write with a stable action code (`case.move`) and a small JSON detail;
this module turns both into text for the 操作日志 page, so the page only renders.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from monitor import handling, notify, users
from monitor.store import Store

# Every action code the product records (tests/test_audit_labels.py finds them in the code).
ACTION_LABELS = {
    "user.add": "新建用户", "user.passwd": "重置密码", "user.passwd_own": "修改本人密码", "user.role": "修改角色", "user.disable": "停用用户",
    "user.enable": "启用用户", "user.display_name": "修改显示名",
    "alert_rule.add": "新增预警规则", "alert_rule.update": "修改预警规则", "alert_rule.delete": "删除预警规则",
    "alert.acknowledge": "确认预警", "alert.test_send": "测试发送",
    "scheme.save": "保存监测方案", "source.update": "修改信息源", "source.add": "新增信息源",
    "import.file": "导入文件", "import.manual": "手工录入",
    "sample.load": "载入示例数据", "sample.remove": "移除示例数据",
    "item.correct": "更正研判结果", "item.mark": "标记信息", "view.save": "保存视图", "view.delete": "删除视图",
    "handling.move": "负面处置",
    "briefing.issue": "签发简报",
    "case.create": "新建案例", "case.edit": "修改案例", "case.move": "案例流转", "case.flag": "处理脱敏提示",
    "case.discover": "发现候选案例", "case.release": "编发案例",
    "model.rejudge": "重新判定已存条目", "model.rollback": "恢复上一版研判模型",
    "db.backup": "备份数据库", "db.restore": "从备份恢复数据库",
}

DETAIL_LABELS = {
    "role": "角色", "display_name": "显示名", "from": "原", "to": "新", "ok": "成功", "error": "错误",
    "new": "新增", "removed": "移除", "field": "字段", "value": "值", "action": "操作", "unit": "承办单位",
    "due": "时限", "reason": "理由", "note": "说明", "flag": "提示编号", "decision": "处理", "cases": "案例",
    "draft": "征求意见稿", "id": "编号", "replaced": "被替换的模型", "title": "标题", "duplicate": "重复",
    "updated": "更新", "rows": "行数", "items": "条数", "changed": "变化", "name": "名称", "kind": "类型",
    "mark": "标记", "on": "加上标记", "taken_at": "备份时间", "saved_as": "恢复前的数据库另存为", "file": "文件",
    # imports, schemes, re-judging
    "read": "读取", "skipped": "跳过", "estimated": "时间按导入时估计", "mapping": "列对应", "remembered": "记住列对应",
    "added": "新增方案", "schemes": "全部方案", "judged": "判定条数", "corrected": "保留人工更正",
    "newly_negative": "新增负面", "no_longer_negative": "不再负面",
    "published_at": "发布时间", "text": "正文", "url": "链接", "source": "来源", "platform": "平台",
}
# The item fields staff correct (a correction's "field"), as the log and the item detail name them.
FIELD_LABELS = {"negative": "负面判定", "polarity": "倾向", "ip_type": "知识产权类型", "topic": "话题"}

VALUE_LABELS = {
    "apply": "采用建议", "waive": "豁免", "yes": "是", "no": "否", "ip": "相关", "off": "无关",
    "negative": "负面", "neutral": "中性", "positive": "正面",
    "important": "重要", "read": "已读", **users.ROLE_LABELS, **handling.ACTIONS,
}


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if v is None or v == "":
        return "—"
    if isinstance(v, (list, tuple)):
        return "、".join(_value(x) for x in v)
    if isinstance(v, dict):             # e.g. an import's column mapping: 标题←title，not raw JSON
        return "，".join(f"{DETAIL_LABELS.get(k, k)}←{_value(x)}" for k, x in v.items())
    return VALUE_LABELS.get(v, str(v)) if isinstance(v, str) else str(v)


def describe_detail(detail: dict[str, Any] | None) -> str:
    """'处理：采用建议；提示编号：9' for {"decision": "apply", "flag": 9}; empty values are left out."""
    return "；".join(f"{DETAIL_LABELS.get(k, k)}：{FIELD_LABELS.get(v, v) if k == 'field' else _value(v)}"
                    for k, v in (detail or {}).items() if v not in (None, "", [], {}))


def entries(store: Store, *, limit: int = 200, actor: str | None = None, action: str | None = None,
            since: datetime | None = None) -> pd.DataFrame:
    """The newest entries, as the 操作日志 page shows them (Beijing time, Chinese names)."""
    rows = users.audit_log(store, limit=limit, actor=actor, action=action, since=since)
    return pd.DataFrame({
        "时间": [notify.local_time(r["at"]) for r in rows],
        "操作人": [users.actor_label(r["actor"]) for r in rows],
        "角色": [users.ROLE_LABELS.get(r["role"], r["role"] or "—") for r in rows],
        "操作": [action_label(r["action"]) for r in rows],
        "对象": [r["target"] for r in rows],
        "详情": [describe_detail(r["detail"]) for r in rows],
    }, columns=["时间", "操作人", "角色", "操作", "对象", "详情"])
