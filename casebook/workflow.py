"""The life of a case: 线索 → 草稿 → 待审 → 已通过 → 已发布, 退回 with a reason, audit history.

Every change goes through this module so each one is checked against the
table below and recorded (who, when, from, to, note). Editors create, edit and
submit; reviewers approve or return. A published revision is never changed:
editing it starts a new revision as a draft.

Roles are plain strings until user accounts land; the caller passes the
signed-in user's name and role.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from casebook import deidentify
from casebook.amounts import parse_amounts
from casebook.models import DETAIL_LEVELS, EDITABLE, gap_labels, gaps_of, normalise_channel, normalise_ip_type, \
    parse_source_line, state_label
from monitor.case_store import CaseStore
from monitor.queries import to_beijing_iso
from monitor.users import actor_label
from monitor.store import Store, now_iso

ROLES = {"editor": "编辑", "reviewer": "审核人", "admin": "管理员"}


@dataclass(frozen=True)
class Move:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    needs_note: bool = False


MOVES: dict[str, Move] = {m.action: m for m in (
    Move("promote", "转为草稿", ("clue",), "draft", ("editor",)),
    Move("submit", "提交审核", ("draft",), "review", ("editor",)),
    Move("approve", "审核通过", ("review",), "approved", ("reviewer",)),
    Move("return", "退回修改", ("review", "approved"), "draft", ("reviewer",), needs_note=True),
    Move("publish", "发布", ("approved",), "published", ("editor", "reviewer")),
    Move("revise", "修订（新版本）", ("published",), "draft", ("editor",), needs_note=True),
)}
EDITABLE_STATES = ("clue", "draft")
FLAG_STATUS = {"open": "待处理", "resolved": "已修改", "waived": "已豁免"}
# Names of every event in a case's history (the moves, and the events that are not moves).
EVENT_LABELS = {"create": "新建", "edit": "修改", "waive": "豁免脱敏提示", "link": "关联舆情条目",
                **{m.action: m.label for m in MOVES.values()}}


class WorkflowError(Exception):
    """A move or edit the workflow does not allow; the message says why, in Chinese."""


def _cs(store: Store | CaseStore) -> CaseStore:
    return store if isinstance(store, CaseStore) else CaseStore(store)


def _check_actor(actor: str, role: str) -> None:
    if not (actor or "").strip():
        raise WorkflowError("请填写操作人")
    if role not in ROLES:
        raise WorkflowError(f"未知角色 {role!r}（可用: {', '.join(ROLES)}）")


def _role_ok(role: str, roles: tuple[str, ...]) -> bool:
    return role == "admin" or role in roles


def allowed_actions(state: str, role: str) -> list[str]:
    return [m.action for m in MOVES.values() if state in m.sources and _role_ok(role, m.roles)]


def _load(cs: CaseStore, case_id: str) -> dict:
    case = cs.get(case_id)
    if case is None:
        raise WorkflowError(f"案例 {case_id} 不存在")
    return case


def _derived(case: dict) -> dict:
    """Fields computed from others: structured amounts and the list of gaps."""
    return {"amounts": parse_amounts(case.get("outcome") or ""), "gaps": gaps_of(case)}


def _clean(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        if k not in EDITABLE:
            raise WorkflowError(f"字段 {k!r} 不可编辑")
        if k == "ip_type":
            v = normalise_ip_type(v)
        elif k == "channel":
            v = normalise_channel(v)
        elif k == "year":
            text = str(v if v is not None else "").strip()
            if text and not (text.isdigit() and 1980 <= int(text) <= 2100):
                raise WorkflowError(f"年份应为四位数字：{v!r}")
            v = int(text) if text else None
        elif k == "keywords":
            v = [w.strip() for w in (v.replace("，", ",").split(",") if isinstance(v, str) else v) if w.strip()]
        elif k == "sources":
            if isinstance(v, str):
                v = v.splitlines()
            try:
                v = [s if isinstance(s, dict) else parse_source_line(str(s)) for s in v]
            except ValueError as e:
                raise WorkflowError(str(e)) from None
            v = [s for s in v if s and s.get("url")]
        elif k == "detail":
            if v not in ("", *DETAIL_LEVELS):
                raise WorkflowError(f"未知的核对状态 {v!r}")
        elif isinstance(v, str):
            v = v.strip()
        out[k] = v
    return out


def refresh_flags(cs: CaseStore, case_id: str, rev: int) -> list[dict]:
    """Re-scan one revision: flags whose text is gone become resolved, new findings open, waivers stay."""
    case = cs.get(case_id, rev)
    found = {(f.field, f.text): f for f in deidentify.scan_case(case)}
    existing = {(f["field"], f["text"]): f for f in cs.flags(case_id, rev)}
    for key, f in existing.items():
        if key not in found and f["status"] == "open":
            cs.decide_flag(f["id"], "resolved", by="", note="文本已修改")
        elif key in found and f["status"] == "resolved":
            cs.decide_flag(f["id"], "open", by="", note="文本再次出现")
    for key, f in found.items():
        if key not in existing:
            cs.add_flag(case_id, rev, field=f.field, kind=f.kind, text=f.text, suggestion=f.suggestion)
    return cs.flags(case_id, rev)


def create_case(store: Store | CaseStore, values: dict, *, actor: str, role: str = "editor",
                origin: str = "manual", case_id: str | None = None, state: str | None = None,
                extra: dict | None = None, note: str = "") -> str:
    """A new case: 线索 when required fields are missing, otherwise 草稿 (unless `state` says 线索)."""
    _check_actor(actor, role)
    if not _role_ok(role, ("editor",)):
        raise WorkflowError("只有编辑可以新建案例")
    cs = _cs(store)
    case = _clean(values) | dict(extra or {})
    if not case.get("title"):
        raise WorkflowError("请填写案件名称")
    with cs.atomic():
        cid = case_id or cs.next_id()
        if cs.exists(cid):
            raise WorkflowError(f"案例 {cid} 已存在")
        derived = _derived(case)
        target = state or ("clue" if derived["gaps"] else "draft")
        if target not in ("clue", "draft"):
            raise WorkflowError("新案例只能是线索或草稿")
        cs.insert(case | derived | {"id": cid, "state": target, "origin": origin})
        cs.add_event(cid, 1, actor=actor, role=role, action="create", from_state=None, to_state=target,
                     note="；".join(x for x in (note, ("待补：" + "、".join(gap_labels(derived["gaps"])))
                                                 if derived["gaps"] else "") if x))
        refresh_flags(cs, cid, 1)
    return cid


def version_of(case: dict) -> str:
    """What an edit form was drawn from: revision, state and every editable field. `edit_case(expected=…)`
    refuses when the stored case no longer matches, so a form left open cannot undo someone else's save."""
    fields = {k: case.get(k) for k in EDITABLE}
    blob = json.dumps([case.get("rev"), case.get("state"), fields], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def edit_case(store: Store | CaseStore, case_id: str, changes: dict, *, actor: str, role: str,
              note: str = "", expected: str | None = None) -> dict:
    """Change fields of a 线索/草稿 in place; on a published case this starts revision rev+1.
    `expected`: the `version_of` the editor saw; a case changed since then is refused, nothing written."""
    _check_actor(actor, role)
    if not _role_ok(role, ("editor",)):
        raise WorkflowError("只有编辑可以修改案例")
    cs = _cs(store)
    with cs.atomic():
        case = _load(cs, case_id)
        if expected is not None and version_of(case) != expected:
            raise WorkflowError(f"案例 {case_id} 在您编辑期间已被修改或流转，本次修改未保存："
                                "请点“载入最新内容”查看后重新修改")
        values = _clean(changes)
        changed = sorted(k for k, v in values.items() if case.get(k) != v)
        if not changed:
            return case
        if case["state"] == "published":
            if not note.strip():
                raise WorkflowError("已发布案例的修改会生成新版本，请说明修改原因")
            rev = _new_revision(cs, case, actor=actor, role=role, note=note)
            case = cs.get(case_id, rev)
        elif case["state"] not in EDITABLE_STATES:
            raise WorkflowError(f"{state_label(case['state'])}状态的案例不能直接修改，请先退回")
        if "sources" in values:
            notes = {x.get("url"): x.get("note", "") for x in case["sources"]}
            values["sources"] = [x | {"note": x.get("note") or notes.get(x["url"], "")} for x in values["sources"]]
        merged = case | values
        cs.update(case_id, case["rev"], values | _derived(merged))
        cs.add_event(case_id, case["rev"], actor=actor, role=role, action="edit", from_state=case["state"],
                     to_state=case["state"], note=note, changes=changed)
        refresh_flags(cs, case_id, case["rev"])
        return cs.get(case_id)


def _new_revision(cs: CaseStore, case: dict, *, actor: str, role: str, note: str) -> int:
    rev = cs.add_revision(case["id"], {"state": "draft"})
    for f in cs.flags(case["id"], case["rev"]):
        if f["status"] == "waived":
            cs.add_flag(case["id"], rev, field=f["field"], kind=f["kind"], text=f["text"],
                        suggestion=f["suggestion"], status="waived", decided_by=f["decided_by"], note=f["note"])
    cs.add_event(case["id"], rev, actor=actor, role=role, action="revise", from_state="published",
                 to_state="draft", note=note)
    refresh_flags(cs, case["id"], rev)
    return rev


def move(store: Store | CaseStore, case_id: str, action: str, *, actor: str, role: str, note: str = "") -> dict:
    """Apply one workflow move, or raise WorkflowError saying why it is not allowed."""
    _check_actor(actor, role)
    m = MOVES.get(action)
    if m is None:
        raise WorkflowError(f"未知操作 {action!r}（可用: {', '.join(MOVES)}）")
    cs = _cs(store)
    with cs.atomic():
        case = _load(cs, case_id)
        state = case["state"]
        if state not in m.sources:
            raise WorkflowError(f"{state_label(state)}状态的案例不能“{m.label}”")
        if not _role_ok(role, m.roles):
            raise WorkflowError(f"“{m.label}”需要{'或'.join(ROLES[r] for r in m.roles)}角色")
        if m.needs_note and not note.strip():
            raise WorkflowError(f"“{m.label}”必须填写理由")
        if action == "submit" and case["gaps"]:
            raise WorkflowError("案例信息不完整，待补：" + "、".join(gap_labels(case["gaps"])))
        if action in ("submit", "publish"):
            open_flags = cs.flags(case_id, case["rev"], status="open")
            if open_flags:
                raise WorkflowError(f"还有 {len(open_flags)} 处脱敏提示未处理：" +
                                    "、".join(f["text"] for f in open_flags[:5]))
        if action == "approve":
            submitted = cs.last_event(case_id, "submit")
            if submitted and submitted["actor"] == actor:
                raise WorkflowError("提交人不能审核自己提交的案例")
        if action == "revise":
            _new_revision(cs, case, actor=actor, role=role, note=note)
            return cs.get(case_id)
        values = {"state": m.target}
        if m.target == "published":
            values["published_at"] = now_iso()
        cs.update(case_id, case["rev"], values)
        cs.add_event(case_id, case["rev"], actor=actor, role=role, action=action, from_state=state,
                     to_state=m.target, note=note)
        return cs.get(case_id)


def decide_flag(store: Store | CaseStore, flag_id: int, decision: str, *, actor: str, role: str,
                note: str = "") -> dict:
    """'apply' writes the suggestion into the field; 'waive' keeps the text, with the editor's reason."""
    _check_actor(actor, role)
    if not _role_ok(role, ("editor",)):
        raise WorkflowError("只有编辑可以处理脱敏提示")
    cs = _cs(store)
    with cs.atomic():
        flag = cs.flag(flag_id)
        if flag is None:
            raise WorkflowError(f"脱敏提示 {flag_id} 不存在")
        case = _load(cs, flag["case_id"])
        if case["rev"] != flag["rev"]:
            raise WorkflowError("该提示属于旧版本")
        if flag["status"] != "open":
            raise WorkflowError("该提示已处理")
        if decision == "apply":
            text = deidentify.apply_suggestion(case[flag["field"]], flag["text"], flag["suggestion"])
            # The history is append-only and shown to every role: it names the hint, never the personal data.
            edit_case(cs, case["id"], {flag["field"]: text}, actor=actor, role=role,
                      note=f"脱敏：采用提示#{flag['id']}（{deidentify.KIND_LABELS.get(flag['kind'], flag['kind'])}）"
                           f"的建议「{flag['suggestion']}」")
        elif decision == "waive":
            if case["state"] not in EDITABLE_STATES:
                raise WorkflowError(f"{state_label(case['state'])}状态的案例不能豁免提示，请先退回")
            if not note.strip():
                raise WorkflowError("豁免脱敏提示必须说明理由（如：权利人同意公开全称）")
            cs.decide_flag(flag_id, "waived", by=actor, note=note)
            cs.add_event(case["id"], case["rev"], actor=actor, role=role, action="waive",
                         from_state=case["state"], to_state=case["state"], note=f"提示#{flag['id']}：{note}")
        else:
            raise WorkflowError(f"未知处理方式 {decision!r}（apply 或 waive）")
        return cs.flag(flag_id)


def history(store: Store | CaseStore, case_id: str) -> list[dict[str, str]]:
    """A case's events as the 审核记录 table shows them: Beijing time and Chinese names."""
    return [{"时间": (to_beijing_iso(e["at"]) or "")[:16].replace("T", " "), "操作人": actor_label(e["actor"]),
             "角色": ROLES.get(e["role"], e["role"]), "操作": EVENT_LABELS.get(e["action"], e["action"]),
             "从": state_label(e["from_state"] or ""), "到": state_label(e["to_state"] or ""), "说明": e["note"]}
            for e in _cs(store).events(case_id)]


def link_item(store: Store | CaseStore, case_id: str, item: dict, *, actor: str, role: str) -> None:
    _check_actor(actor, role)
    cs = _cs(store)
    with cs.atomic():
        case = _load(cs, case_id)
        cs.link_item(case_id, item.get("id"), item.get("url") or "", item.get("title") or "")
        cs.add_event(case_id, case["rev"], actor=actor, role=role, action="link", from_state=case["state"],
                     to_state=case["state"], note=item.get("url") or item.get("title") or "")


__all__ = ["EVENT_LABELS", "FLAG_STATUS", "MOVES", "ROLES", "history", "WorkflowError", "allowed_actions", "create_case", "edit_case",
           "move", "decide_flag", "refresh_flags", "link_item"]
