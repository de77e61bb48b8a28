"""The case workflow: every move from every state by every role, allowed or refused, and its audit trail."""
from __future__ import annotations

import re
import sqlite3

import pytest

from casebook.workflow import (MOVES, WorkflowError, allowed_actions, create_case, decide_flag, edit_case, history,
                               move, version_of)
from monitor.case_store import CaseStore, FrozenCaseError

# A real case (seed CB005, 2017 SAMR release), complete enough to go to review.
FULL = {
    "title": "上海市闵行区市场监管局查处侵犯“BERMAD”注册商标专用权案",
    "ip_type": "trademark", "channel": "administrative", "authority": "上海市闵行区市场监督管理局",
    "region": "上海", "year": 2017,
    "facts": "当事人2014—2016年采购带有BERMAD商标的红色消防阀和蓝色减压阀，刷漆改色并更换垫片，改装成绿色数控电液阀对外销售64台。",
    "outcome": "责令停止侵权，没收侵权阀门17台，罚款561万元。",
    "significance": "对正品进行实质性改装后仍以原商标名义销售，应认定为商标侵权。",
    "sources": [{"url": "http://m.xiangyunsha.net/news/2017.html", "note": "2017年工商和市场监管部门典型案例"}],
}
STATES = ("clue", "draft", "review", "approved", "published")
ROLES = ("editor", "reviewer")
# (action, from state) → (roles allowed, target). Everything else is refused.
EXPECTED = {
    ("promote", "clue"): ({"editor"}, "draft"),
    ("submit", "draft"): ({"editor"}, "review"),
    ("approve", "review"): ({"reviewer"}, "approved"),
    ("return", "review"): ({"reviewer"}, "draft"),
    ("return", "approved"): ({"reviewer"}, "draft"),
    ("publish", "approved"): ({"editor", "reviewer"}, "published"),
    ("revise", "published"): ({"editor"}, "draft"),
}


def _case_in(cs: CaseStore, state: str) -> str:
    """A case brought to `state` through the workflow itself (editor 甲 submits, reviewer 乙 approves)."""
    cid = create_case(cs, FULL, actor="甲", state="clue" if state == "clue" else None)
    path = {"clue": [], "draft": [], "review": ["submit"], "approved": ["submit", "approve"],
            "published": ["submit", "approve", "publish"]}[state]
    for action in path:
        move(cs, cid, action, actor="乙" if action == "approve" else "甲",
             role="reviewer" if action == "approve" else "editor")
    assert cs.get(cid)["state"] == state
    return cid


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(MOVES))
@pytest.mark.parametrize("role", ROLES)
def test_every_move_from_every_state(fresh_store, state, action, role):
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, state)
    before = cs.get(cid)
    n_events = len(cs.events(cid))
    actor = "丙"  # neither the submitter nor the approver
    rule = EXPECTED.get((action, state))
    if rule and role in rule[0]:
        after = move(cs, cid, action, actor=actor, role=role, note="理由")
        assert after["state"] == rule[1]
        last = cs.events(cid)[-1]
        assert (last["actor"], last["role"], last["from_state"], last["to_state"], last["note"]) == \
               (actor, role, state, rule[1], "理由")
        assert last["action"] == action
        if action == "revise":
            assert after["rev"] == before["rev"] + 1
            assert cs.get(cid, before["rev"])["state"] == "published"
    else:
        with pytest.raises(WorkflowError):
            move(cs, cid, action, actor=actor, role=role, note="理由")
        assert cs.get(cid) == before
        assert len(cs.events(cid)) == n_events
    assert (action in allowed_actions(state, role)) == bool(rule and role in rule[0])


@pytest.mark.parametrize("action,state", [("return", "review"), ("return", "approved"), ("revise", "published")])
def test_return_and_revise_need_a_reason(fresh_store, action, state):
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, state)
    role = "reviewer" if action == "return" else "editor"
    with pytest.raises(WorkflowError, match="理由"):
        move(cs, cid, action, actor="丙", role=role, note="  ")
    assert cs.get(cid)["state"] == state


def test_submitter_cannot_approve_own_case(fresh_store):
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, "review")
    with pytest.raises(WorkflowError, match="提交人"):
        move(cs, cid, "approve", actor="甲", role="reviewer")
    assert move(cs, cid, "approve", actor="乙", role="reviewer")["state"] == "approved"


def test_unknown_role_action_and_missing_actor_are_refused(fresh_store):
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, "draft")
    for kw in ({"action": "submit", "actor": "甲", "role": "boss"}, {"action": "fly", "actor": "甲", "role": "editor"},
               {"action": "submit", "actor": " ", "role": "editor"}):
        with pytest.raises(WorkflowError):
            move(cs, cid, **kw)
    with pytest.raises(WorkflowError, match="不存在"):
        move(cs, "CB999", "submit", actor="甲", role="editor")


def test_incomplete_case_is_a_clue_and_cannot_be_submitted_until_filled(fresh_store):
    cs = CaseStore(fresh_store)
    cid = create_case(cs, {k: v for k, v in FULL.items() if k not in ("outcome", "authority")}, actor="甲")
    case = cs.get(cid)
    assert case["state"] == "clue"
    assert set(case["gaps"]) == {"outcome", "authority"}
    move(cs, cid, "promote", actor="甲", role="editor")
    with pytest.raises(WorkflowError, match="处理结果"):
        move(cs, cid, "submit", actor="甲", role="editor")
    edit_case(cs, cid, {"outcome": "罚款20万元。", "authority": "某市市场监督管理局"}, actor="甲", role="editor")
    case = cs.get(cid)
    assert case["gaps"] == []
    assert case["amounts"][0]["kind"] == "fine" and case["amounts"][0]["yuan"] == 200000
    assert move(cs, cid, "submit", actor="甲", role="editor")["state"] == "review"


@pytest.mark.parametrize("state,allowed", [("clue", True), ("draft", True), ("review", False), ("approved", False)])
def test_edit_only_in_editable_states(fresh_store, state, allowed):
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, state)
    if allowed:
        assert edit_case(cs, cid, {"significance": "新的典型意义。"}, actor="甲", role="editor")["significance"] == \
               "新的典型意义。"
        assert cs.events(cid)[-1]["changes"] == ["significance"]
    else:
        with pytest.raises(WorkflowError, match="退回"):
            edit_case(cs, cid, {"significance": "新的典型意义。"}, actor="甲", role="editor")
    with pytest.raises(WorkflowError):
        edit_case(cs, cid, {"significance": "审核人改的"}, actor="乙", role="reviewer")


def test_published_case_is_frozen_and_a_change_makes_a_new_revision(fresh_store):
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, "published")
    published = cs.get(cid)
    with pytest.raises(WorkflowError, match="原因"):
        edit_case(cs, cid, {"outcome": "罚款600万元。"}, actor="甲", role="editor")
    after = edit_case(cs, cid, {"outcome": "罚款600万元。"}, actor="甲", role="editor", note="据原文更正")
    assert (after["rev"], after["state"], after["outcome"]) == (2, "draft", "罚款600万元。")
    assert cs.get(cid, 1) == published
    # Below the workflow, the schema refuses any change to the published row.
    with pytest.raises(FrozenCaseError):
        cs.update(cid, 1, {"outcome": "悄悄改掉"})
    with pytest.raises(sqlite3.IntegrityError):
        fresh_store.conn.execute("DELETE FROM cases WHERE id=? AND rev=1", (cid,))
    with pytest.raises(sqlite3.IntegrityError):
        fresh_store.conn.execute("UPDATE case_events SET note='x' WHERE case_id=?", (cid,))
    assert cs.last_published(cid)["outcome"] == FULL["outcome"]
    actions = [e["action"] for e in cs.events(cid)]
    assert actions == ["create", "submit", "approve", "publish", "revise", "edit"]


def test_open_deidentification_flags_block_submit_until_applied_or_waived(fresh_store):
    cs = CaseStore(fresh_store)
    values = dict(FULL, facts="被告人王建国销售假冒注册商标的商品，联系电话13912345678。")
    cid = create_case(cs, values, actor="甲")
    flags = {f["text"]: f for f in cs.flags(cid, 1)}
    assert set(flags) == {"王建国", "13912345678"}
    with pytest.raises(WorkflowError, match="脱敏"):
        move(cs, cid, "submit", actor="甲", role="editor")
    decide_flag(cs, flags["王建国"]["id"], "apply", actor="甲", role="editor")
    assert "王某某" in cs.get(cid)["facts"] and "王建国" not in cs.get(cid)["facts"]
    with pytest.raises(WorkflowError, match="理由"):
        decide_flag(cs, flags["13912345678"]["id"], "waive", actor="甲", role="editor")
    with pytest.raises(WorkflowError):
        decide_flag(cs, flags["13912345678"]["id"], "waive", actor="乙", role="reviewer", note="x")
    decide_flag(cs, flags["13912345678"]["id"], "waive", actor="甲", role="editor", note="举报电话，已公开")
    statuses = {f["text"]: (f["status"], f["decided_by"]) for f in cs.flags(cid, 1)}
    assert statuses == {"王建国": ("resolved", ""), "13912345678": ("waived", "甲")}
    assert move(cs, cid, "submit", actor="甲", role="editor")["state"] == "review"
    # the append-only history, shown to every role, names the hints but keeps no personal data
    log = history(cs, cid)
    assert [e["操作"] for e in log] == ["新建", "修改", "豁免脱敏提示", "提交审核"]
    assert not any("王建国" in e["说明"] or "13912345678" in e["说明"] for e in log)
    assert "王某某" in log[1]["说明"] and "自然人姓名" in log[1]["说明"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", log[0]["时间"]) and log[0]["到"] == "草稿"


def test_cli_list_show_edit_move(tmp_path, capsys):
    import json

    from casebook.__main__ import main
    from monitor.store import Store

    db = tmp_path / "cli.db"
    with Store(db) as store:
        cid = create_case(CaseStore(store), FULL, actor="甲")

    def cli(*args):
        code = main([*args, "--db", str(db)])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = cli("list", "--state", "draft", "--json")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == [cid]
    code, out, _ = cli("show", cid)
    assert "罚款 561万元" in out and "草稿" in out
    assert cli("show", "CB999")[0] == 2
    code, _, err = cli("edit", cid, "--set", "outcome=罚款20万元。", "--set", "year=去年", "--actor", "甲")
    assert code == 2 and "年份" in err
    assert cli("edit", cid, "--set", "outcome=罚款20万元。", "--actor", "甲")[0] == 0
    code, _, err = cli("move", cid, "approve", "--actor", "乙", "--role", "reviewer")
    assert code == 2 and "草稿" in err
    assert cli("move", cid, "submit", "--actor", "甲", "--role", "editor")[0] == 0
    with Store(db) as store:
        case = CaseStore(store).get(cid)
        assert (case["state"], case["amounts"][0]["yuan"]) == ("review", 200000)
    # the history reads as on the page: Beijing time to the minute, action names in Chinese, no codes
    code, out, _ = cli("show", cid)
    steps = [line for line in out.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d  ", line)]
    assert [s.split()[3] for s in steps] == ["新建", "修改", "提交审核"]
    assert not re.search(r"\b(create|edit|submit)\b|\+00:00", out)


def test_new_case_needs_a_title(fresh_store):
    with pytest.raises(WorkflowError, match="案件名称"):
        create_case(CaseStore(fresh_store), dict(FULL, title="  "), actor="甲")


def test_every_fact_needs_a_source_url(fresh_store):
    """A source entry may name the facts it supports; a fact no URL supports blocks review."""
    cs = CaseStore(fresh_store)
    news = "https://news.example.cn/2025/case.html"
    partial_source = {**FULL, "sources": [{"url": news, "note": "报道", "fields": ["authority", "facts", "outcome"]}]}
    cid = create_case(cs, partial_source, actor="甲")
    case = cs.get(cid)
    assert case["state"] == "clue" and case["gaps"] == ["sources:典型意义无出处"]
    move(cs, cid, "promote", actor="甲", role="editor")
    with pytest.raises(WorkflowError, match="典型意义"):
        move(cs, cid, "submit", actor="甲", role="editor")
    # the editor adds where the significance comes from, in the form the page's text area uses
    edit_case(cs, cid, {"sources": f"{news} | 办案机关、基本案情、处理结果\nhttps://www.cnipa.gov.cn/art/x.html | 典型意义"},
              actor="甲", role="editor")
    case = cs.get(cid)
    assert case["gaps"] == []
    assert [s.get("fields") for s in case["sources"]] == [["authority", "facts", "outcome"], ["significance"]]
    with pytest.raises(WorkflowError, match="不是可溯源的事实字段"):
        edit_case(cs, cid, {"sources": f"{news} | 天气"}, actor="甲", role="editor")
    assert cs.get(cid)["sources"] == case["sources"]      # a refused edit changes nothing
    for bad in ("not a url", "javascript:alert(1)", "www.example.cn/a", "http://[::1"):
        with pytest.raises(WorkflowError, match="不是以 http"):
            edit_case(cs, cid, {"sources": f"{news}\n{bad}"}, actor="甲", role="editor")
    assert cs.get(cid)["sources"] == case["sources"]


def test_source_lines_round_trip():
    from casebook.models import parse_source_line, source_line
    for line in ("https://a.cn/1", "https://a.cn/2 | 基本案情、处理结果"):
        assert source_line(parse_source_line(line)) == line
    assert parse_source_line("   ") is None


def test_an_edit_based_on_an_older_version_is_refused_and_writes_nothing(fresh_store):
    """A form left open while someone else saved, submitted or returned the case must not undo their work."""
    cs = CaseStore(fresh_store)
    cid = _case_in(cs, "draft")
    seen = version_of(cs.get(cid))
    assert version_of(cs.get(cid)) == seen                           # reading changes nothing
    edit_case(cs, cid, {"region": "上海闵行"}, actor="丙", role="editor")
    with pytest.raises(WorkflowError, match="编辑期间已被修改"):
        edit_case(cs, cid, {"outcome": "罚款1元。"}, actor="甲", role="editor", expected=seen)
    assert cs.get(cid)["outcome"] == FULL["outcome"] and len(cs.events(cid)) == 2
    fresh = version_of(cs.get(cid))
    move(cs, cid, "submit", actor="丙", role="editor")
    assert version_of(cs.get(cid)) != fresh                          # sent to review meanwhile: a conflict too
    move(cs, cid, "return", actor="乙", role="reviewer", note="补充来源")
    # back as it was when the form was drawn: the form shows what is stored, so the edit goes through
    assert edit_case(cs, cid, {"outcome": "罚款1元。"}, actor="甲", role="editor", expected=fresh)["outcome"] == "罚款1元。"
