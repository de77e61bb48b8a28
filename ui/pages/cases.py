"""典型案例: search and filter cases, edit, move through review, de-identify, check coverage, build releases.

Widgets, one casebook call per action, render. Case text comes from imports and
collected items, so it is shown with st.text / dataframes, never as HTML or Markdown.
"""
from __future__ import annotations


import pandas as pd
import streamlit as st

from casebook import coverage as coverage_mod
from casebook import discovery, publication, workflow
from casebook.amounts import describe
from casebook.deidentify import KIND_LABELS
from casebook.models import CHANNELS, DETAIL_LEVELS, FIELD_LABELS, IP_TYPES, STATES, channel_label, gap_labels, \
    ip_label, source_line, state_label
from monitor import users
from monitor.case_store import CaseStore
from monitor.queries import beijing_today
from monitor.settings import Settings
from monitor.store import Store, StoreError
from ui import auth, widgets

ALL = "全部"
# The casebook workflow's role for each account role allowed to edit cases. Approving and returning are the
# reviewer's moves: an account's editor may not approve, admin (the workflow's admin) may.
CASEBOOK_ROLES = {"editor": "editor", "admin": "admin"}
FLAG_STATUS = workflow.FLAG_STATUS


def _done(message: str) -> None:
    st.session_state["cb_message"] = message
    st.session_state["cb_e_gen"] = st.session_state.get("cb_e_gen", 0) + 1   # forms reopen from what is stored
    st.rerun()


def _write(action: str, target: str, detail: dict, fn, *args, **kwargs):
    """One casebook write and its audit entry, all or nothing; WorkflowError etc. reach the caller."""
    with cs.atomic():
        out = fn(*args, **kwargs)
        users.audit(store, user, action, target, detail)
    return out


def _label_options(mapping: dict[str, str]) -> list[str]:
    return [ALL] + list(mapping)


def _cases_frame(cases: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"编号": c["id"], "版本": c["rev"], "状态": state_label(c["state"]), "年份": c["year"],
                          "类型": ip_label(c["ip_type"]), "渠道": channel_label(c["channel"]), "地区": c["region"],
                          "案件名称": c["title"], "待补": "、".join(gap_labels(c["gaps"]))} for c in cases],
                        columns=["编号", "版本", "状态", "年份", "类型", "渠道", "地区", "案件名称", "待补"])


st.title("典型案例")
settings = Settings.load()
try:
    store = Store(settings.db_path)
except StoreError as e:
    st.error(f"无法打开数据库：{e}")
    st.stop()
cs = CaseStore(store)
user = auth.page_user(store, settings)
role = CASEBOOK_ROLES.get(user.role) if auth.can(user, "edit_cases") else None
actor = user.username
READ_ONLY = widgets.refusal(user, "新建、编辑或流转案例", "编辑或管理员")
st.caption(f"当前用户：{widgets.md_escape(user.label)}" + ("" if role else f"。{READ_ONLY}"))

widgets.show_message("cb_message")
# After a case is created its form starts empty (cleared here, before the widgets exist), so a second
# click cannot add the same case twice; after a refusal the typed text stays for correcting.
NEW_CASE_DEFAULTS = {"cb_n_title": "", "cb_n_ip": next(iter(IP_TYPES)), "cb_n_ch": next(iter(CHANNELS)),
                     "cb_n_auth": "", "cb_n_region": "", "cb_n_year": str(beijing_today().year), "cb_n_facts": "",
                     "cb_n_outcome": "", "cb_n_sig": "", "cb_n_src": ""}
widgets.start_form(NEW_CASE_DEFAULTS, over=st.session_state.pop("cb_new_clear", False))

tab_list, tab_clues, tab_cov, tab_release = st.tabs(["案例库", "候选线索", "覆盖情况", "编发"])

# -- 案例库 -------------------------------------------------------------------------
with tab_list:
    counts = cs.count_by_state()
    cols = st.columns(len(STATES))
    for col, (code, label) in zip(cols, STATES.items()):
        col.metric(label, counts.get(code, 0))
    f1, f2, f3 = st.columns(3)
    q = f1.text_input("关键词", key="cb_q")
    state_f = f2.selectbox("状态", _label_options(STATES), format_func=lambda c: STATES.get(c, c), key="cb_state")
    year_f = f3.selectbox("年份", [ALL] + cs.years(), key="cb_year")
    f4, f5, f6 = st.columns(3)
    ip_f = f4.selectbox("知识产权类型", _label_options(IP_TYPES), format_func=lambda c: IP_TYPES.get(c, c),
                        key="cb_ip")
    ch_f = f5.selectbox("保护渠道", _label_options(CHANNELS), format_func=lambda c: CHANNELS.get(c, c), key="cb_ch")
    region_f = f6.text_input("地区", key="cb_region")
    cases = cs.search(text=q.strip(), states=[] if state_f == ALL else [state_f],
                      ip_type="" if ip_f == ALL else ip_f, channel="" if ch_f == ALL else ch_f,
                      region=region_f.strip(), year=None if year_f == ALL else int(year_f))
    if role:
        with st.expander("新建案例", expanded=False):
            with st.form("cb_new_form"):
                fresh = {"title": st.text_input("案件名称", key="cb_n_title"),
                         "ip_type": st.selectbox("知识产权类型", list(IP_TYPES), format_func=IP_TYPES.get, key="cb_n_ip"),
                         "channel": st.selectbox("保护渠道", list(CHANNELS), format_func=CHANNELS.get, key="cb_n_ch"),
                         "authority": st.text_input("办案机关", key="cb_n_auth"),
                         "region": st.text_input("地区", key="cb_n_region"),
                         "year": st.text_input("年份", key="cb_n_year"),
                         "facts": st.text_area("基本案情", key="cb_n_facts"),
                         "outcome": st.text_area("处理结果", key="cb_n_outcome"),
                         "significance": st.text_area("典型意义", key="cb_n_sig"),
                         "sources": st.text_area("来源链接（每行一个）", key="cb_n_src", help="每行一个链接；可在“|”后写明该链接支撑的事实，如：https://… | 基本案情、处理结果。未写明的视为整篇发布稿，支撑全部事实。")}
                create = st.form_submit_button("新建")
            if create:
                try:
                    new_id = _write("case.create", fresh["title"], {}, workflow.create_case, store, fresh, actor=actor,
                                    role=role)
                except (workflow.WorkflowError, ValueError) as e:
                    st.error(str(e))
                else:
                    st.session_state["cb_new_clear"] = True
                    _done(f"已新建 {new_id}")
    st.caption(f"共 {len(cases)} 件")
    if cases:
        st.dataframe(_cases_frame(cases), hide_index=True, width="stretch")
    else:
        st.info("没有符合条件的案例。" if cs.count_by_state() else
                "案例库还是空的：可新建案例、在“候选线索”中从舆情条目发现，或用 python -m casebook import 导入。"
                if role else "案例库还是空的：案例由编辑新建或导入。")

    if cases:
        # A picker's choice travels as its label: a label that changed (a title edited here or by someone else)
        # matched nothing and the first case was acted on. Labels are fixed the first time a case is listed.
        labels = st.session_state.setdefault("cb_case_labels", {})
        for c in cases:
            labels.setdefault(c["id"], f"{c['id']} {c['title'][:40]}")
        case_id = st.selectbox("查看案例", [c["id"] for c in cases], format_func=lambda i: labels.get(i, i),
                               key="cb_case")
        case = cs.get(case_id)
        st.subheader(f"{case['id']} · 第{case['rev']}版 · {state_label(case['state'])}")
        for key in ("title", "headline", "authority", "region", "year", "case_number", "parties", "gist", "facts",
                    "outcome", "significance", "notes"):
            if case.get(key) not in (None, ""):
                st.caption(FIELD_LABELS[key])
                st.text(str(case[key]))
        st.caption("类型 / 渠道 / 核对状态")
        st.text(f"{ip_label(case['ip_type'])} / {channel_label(case['channel'])} / "
                f"{DETAIL_LEVELS.get(case['detail'], case['detail'] or '—')}")
        if case["amounts"]:
            st.caption("金额 / 刑期")
            st.text("；".join(describe(a) for a in case["amounts"]))
        for s in case["sources"]:
            st.caption("来源")
            st.text(source_line(s))
        if case["gaps"]:
            st.warning("待补：" + "、".join(gap_labels(case["gaps"])))

        flags = cs.flags(case["id"], case["rev"])
        if flags:
            st.markdown("**脱敏提示**")
            st.dataframe(pd.DataFrame([{"编号": f["id"], "类型": KIND_LABELS.get(f["kind"], f["kind"]),
                                        "字段": FIELD_LABELS.get(f["field"], f["field"]),
                                        "原文": f["text"], "建议": f["suggestion"],
                                        "状态": FLAG_STATUS.get(f["status"], f["status"]), "说明": f["note"]}
                                       for f in flags]), hide_index=True, width="stretch")
            open_ids = [f["id"] for f in flags if f["status"] == "open"]
            if open_ids and role:
                with st.form("cb_flag_form"):
                    fid = st.selectbox("提示", open_ids, format_func=lambda i: next(
                        f"#{f['id']} {f['text']} → {f['suggestion']}" for f in flags if f["id"] == i), key="cb_flag")
                    reason = st.text_input("豁免理由", key="cb_flag_note")
                    a, b = st.columns(2)
                    apply_btn = a.form_submit_button("采用建议")
                    waive_btn = b.form_submit_button("豁免")
                if apply_btn or waive_btn:
                    try:
                        decision = "apply" if apply_btn else "waive"
                        _write("case.flag", case["id"], {"flag": fid, "decision": decision}, workflow.decide_flag,
                               store, fid, decision, actor=actor, role=role, note=reason)
                    except workflow.WorkflowError as e:
                        st.error(str(e))
                    else:
                        _done("已采用脱敏建议" if apply_btn else "已豁免该提示")

        if role:
            # One set of widget keys per case, revision and write: a browser sends what was typed into a form
            # with its next submit, whatever the server reset, so with shared keys unsaved edits made on one
            # case were saved onto the next. The version the form was drawn from goes with the save.
            k = f"cb_e_{case['id']}_{case['rev']}_{st.session_state.get('cb_e_gen', 0)}_"
            version = st.session_state.setdefault(k + "version", workflow.version_of(case))
            details = ["", *DETAIL_LEVELS]
            edit_error = None
            with st.expander("编辑案例", expanded=False):
                st.caption(f"正在编辑：{case['id']} 第{case['rev']}版")
                with st.form(k + "form"):
                    new = {f: st.text_input(FIELD_LABELS[f], value=case.get(f) or "", key=k + f)
                           for f in ("title", "headline", "authority", "region", "case_number", "parties")}
                    new["year"] = st.text_input("年份", value=str(case["year"] or ""), key=k + "year")
                    new["ip_type"] = st.selectbox("知识产权类型", list(IP_TYPES), format_func=IP_TYPES.get, key=k + "ip",
                                                  index=list(IP_TYPES).index(case["ip_type"]) if case["ip_type"]
                                                  in IP_TYPES else len(IP_TYPES) - 1)
                    new["channel"] = st.selectbox("保护渠道", list(CHANNELS), format_func=CHANNELS.get, key=k + "ch",
                                                  index=list(CHANNELS).index(case["channel"]) if case["channel"]
                                                  in CHANNELS else len(CHANNELS) - 1)
                    for f in ("gist", "facts", "outcome", "significance", "notes"):
                        new[f] = st.text_area(FIELD_LABELS[f], value=case.get(f) or "", key=k + f)
                    new["keywords"] = st.text_input("关键词（逗号分隔）", value="，".join(case["keywords"]), key=k + "kw")
                    new["sources"] = st.text_area("来源链接（每行一个）", key=k + "src", help="每行一个链接；可在“|”后写明该链接支撑的事实，如：https://… | 基本案情、处理结果。未写明的视为整篇发布稿，支撑全部事实。",
                                                  value="\n".join(source_line(x) for x in case["sources"]))
                    new["detail"] = st.selectbox("核对状态", details, format_func=lambda d: DETAIL_LEVELS.get(d, "未标注"),
                                                 index=details.index(case["detail"]) if case["detail"] in details
                                                 else 0, key=k + "detail")
                    edit_note = st.text_input("修改说明（已发布案例必填，将生成新版本）", key=k + "note")
                    save = st.form_submit_button("保存")
                if save:
                    try:
                        _write("case.edit", case["id"], {"note": edit_note}, workflow.edit_case, store, case["id"], new,
                               actor=actor, role=role, note=edit_note, expected=version)
                    except (workflow.WorkflowError, ValueError) as e:
                        edit_error = str(e)
                    else:
                        _done("已保存")
                if st.button("载入最新内容", key="cb_e_reload", help="放弃表单中未保存的修改，重新载入该案例当前内容"):
                    st.session_state["cb_e_gen"] = st.session_state.get("cb_e_gen", 0) + 1
                    st.rerun()
            if edit_error:           # outside the expander: it folds up on the rerun and would hide the refusal
                st.error(f"未保存：{edit_error}")

        actions = workflow.allowed_actions(case["state"], role) if role else []
        if actions:
            c1, c2 = st.columns([1, 2])
            # keyed by case: an opinion typed for one case must not be sent with a move of the next
            action = c1.selectbox("流转", actions, format_func=lambda a: workflow.MOVES[a].label,
                                  key=f"cb_action_{case['id']}")
            note = c2.text_input("意见 / 理由（退回、修订必填）", key=f"cb_move_note_{case['id']}")
            if st.button("执行", key="cb_move"):
                try:
                    moved = _write("case.move", case["id"], {"action": action, "note": note}, workflow.move, store,
                                   case["id"], action, actor=actor, role=role, note=note)
                except workflow.WorkflowError as e:
                    hint = ("（本机单用户模式只有一个操作人，而审核须由提交人以外的人完成：请管理员用 "
                            "python -m monitor users add 为编辑和审核人各建账号后登录办理。）"
                            if action == "approve" and user.username == users.LOCAL_USER.username else "")
                    st.error(f"{e}{hint}")
                else:
                    _done(f"{moved['id']} 已{workflow.MOVES[action].label}：{state_label(moved['state'])}")
        elif role:
            st.caption(f"当前角色对{state_label(case['state'])}状态的案例没有可执行的流转。")

        st.markdown("**审核记录**")
        st.dataframe(pd.DataFrame(workflow.history(cs, case["id"])), hide_index=True, width="stretch")
        linked = cs.linked_items(case["id"])
        if linked:
            st.markdown("**关联舆情条目**")
            st.dataframe(pd.DataFrame([{"标题": i["title"], "链接": i["url"]} for i in linked]),
                         hide_index=True, width="stretch")

# -- 候选线索 -----------------------------------------------------------------------
with tab_clues:
    st.caption("从已采集的舆情条目中找出报道已办结执法或判决的条目（查处、罚款、判决、判赔、查获、移送……），建为线索。")
    if not role:
        st.caption(READ_ONLY)
    elif st.button("发现候选案例", key="cb_discover"):
        try:
            found = _write("case.discover", "", {}, discovery.discover, store, actor=actor)
        except workflow.WorkflowError as e:
            st.error(str(e))
        else:
            _done(f"新建线索 {len(found)} 条")
    clues = cs.search(states=["clue"])
    if clues:
        st.dataframe(_cases_frame(clues), hide_index=True, width="stretch")
    else:
        st.info("暂无候选线索。")

# -- 覆盖情况 -----------------------------------------------------------------------
with tab_cov:
    years = sorted(set(cs.years()) | {beijing_today().year}, reverse=True)
    year = st.selectbox("年度", years, key="cb_cov_year")
    cov = coverage_mod.coverage(store, int(year))
    st.metric("已通过/已发布案例", cov.balance.total)
    st.dataframe(pd.DataFrame(cov.matrix()), hide_index=True, width="stretch")
    if cov.balance.total:
        st.dataframe(pd.DataFrame(cov.region_rows()), hide_index=True)
    if cov.missing_ip_types:
        st.warning("尚无案例的知识产权类型：" + "、".join(ip_label(i) for i in cov.missing_ip_types))
    if cov.missing_channels:
        st.warning("尚无案例的保护渠道：" + "、".join(channel_label(c) for c in cov.missing_channels))

# -- 编发 --------------------------------------------------------------------------
with tab_release:
    draft = st.checkbox("征求意见稿（可含未审核案例，不发布）", key="cb_r_draft")
    pool = cs.search(states=[] if draft else list(publication.FINAL_STATES))
    chosen = st.multiselect("选择案例（按选择顺序编排）", [c["id"] for c in pool],
                            format_func=lambda i: f"{i} {next(c['title'] for c in pool if c['id'] == i)[:40]}",
                            key="cb_r_cases")
    if chosen:
        st.info("所选案例构成：" + coverage_mod.balance([c for c in pool if c["id"] in chosen]).summary())
    title = st.text_input("发布标题", value=f"{beijing_today().year}年度安徽省知识产权保护典型案例", key="cb_r_title")
    preface = st.text_area("编者按（留空则自动生成）", key="cb_r_preface")
    r1, r2 = st.columns(2)
    issuer = r1.text_input("发布单位", value=publication.DEFAULT_ISSUER, key="cb_r_issuer")
    issued_on = r2.date_input("落款日期", value=beijing_today(), key="cb_r_date")
    label = "生成征求意见稿" if draft else "生成正式发布稿（所选案例将标为已发布）"
    if not role:
        st.caption(READ_ONLY)
    elif st.button(label, key="cb_r_build"):
        try:
            out = _write("case.release", title, {"cases": chosen, "draft": draft}, publication.make_release, store,
                         chosen, title=title, preface=preface or None, issuer=issuer, issued_on=issued_on,
                         draft=draft, actor=actor, role=role)
        except (publication.ReleaseError, workflow.WorkflowError) as e:
            st.error(str(e))
        else:
            st.session_state["cb_r_output"] = {"docx": out.docx, "md": out.markdown, "html": out.html,
                                               "n": len(out.release.cases), "draft": draft, "title": title}
    result = st.session_state.get("cb_r_output")
    if result:
        st.success(f"已生成{'征求意见稿' if result['draft'] else '正式发布稿'}（{result['n']} 件案例）")
        d1, d2, d3 = st.columns(3)
        stem = publication.file_stem(result["title"])
        d1.download_button("下载 Word", result["docx"], file_name=f"{stem}.docx", key="cb_dl_docx",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        d2.download_button("下载网页版 HTML", result["html"], file_name=f"{stem}.html", mime="text/html",
                           key="cb_dl_html")
        d3.download_button("下载 Markdown", result["md"], file_name=f"{stem}.md", mime="text/markdown",
                           key="cb_dl_md")
        with st.expander("网页版预览（纯文本）"):
            st.text(result["md"])

store.close()
