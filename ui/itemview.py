"""The stream's item view: filter bar, table, picker with keyboard triage, detail, actions on one item, saved
views and export. Collected text goes only through elements that never parse it, or through
`widgets.md_escape` (see ui/widgets.py).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Mapping

import pandas as pd
import streamlit as st

from monitor import audit, queries, users
from sentiment.judgement import REVIEW_P
from ui import state, widgets

HANDLING_LABELS = {"pending": "待研判", "assigned": "已交办", "responded": "已回应", "closed": "已办结",
                   "dismissed": "无需处置"}
MARK_LABELS = {"important": "重要", "read": "已读"}
CORRECTION_LABELS = audit.FIELD_LABELS
CORRECTION_VALUES = {"yes": "是", "no": "否", "ip": "相关", "off": "无关", **widgets.POLARITY_LABELS}



# -- item list ------------------------------------------------------------------------

TIME_PRESETS = {"today": "今天", "7": "近7天", "30": "近30天", "365": "近一年", "all": "全部", "custom": "自定义"}


def filter_bar(options: Mapping[str, list[str]], today: date, key: str = "flt") -> queries.ItemFilter:
    """The stream's filters. Widget keys keep the choices across reruns and live refreshes."""
    with st.container(border=True):
        c1, c2, c3 = st.columns([2, 2, 3])
        # The default goes through session state, not `index=`: a saved view sets this key, and a widget
        # given both warns on every run.
        st.session_state.setdefault(f"{key}_time", list(TIME_PRESETS)[2])
        preset = c1.selectbox("时间", list(TIME_PRESETS), format_func=TIME_PRESETS.get, key=f"{key}_time")
        start: date | None
        end: date | None = today
        if preset == "custom":
            st.session_state.setdefault(f"{key}_range", (today - timedelta(days=29), today))
            picked = c1.date_input("起止日期", min_value=queries.MIN_DATE, max_value=today, key=f"{key}_range")
            picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
            start = picked[0] if picked else None
            end = picked[1] if len(picked) > 1 else start
        elif preset == "all":
            start, end = None, None
        elif preset == "today":
            start = today
        else:
            start = today - timedelta(days=int(preset) - 1)
        polarities = c2.multiselect("倾向", list(widgets.POLARITY_LABELS), format_func=widgets.polarity_label,
                                    key=f"{key}_polarity", placeholder="全部")
        keyword = c3.text_input("全文检索", key=f"{key}_keyword",
                                placeholder='如：专利 侵权（同时包含）、"商标 侵权"（短语）、专利 OR 商标、专利 -宣传',
                                help="按词检索标题和正文：空格分隔表示同时包含；不加空格的一串字或双引号内为短语；"
                                     "OR（或）表示任一；词前加 - 表示排除。")
        d1, d2, d3, d4 = st.columns(4)
        sources = d1.multiselect("信息源", options.get("sources", []), key=f"{key}_sources", placeholder="全部")
        platforms = d2.multiselect("平台", options.get("platforms", []), format_func=widgets.platform_label,
                                   key=f"{key}_platforms", placeholder="全部")
        ip_types = d3.multiselect("知识产权类型", options.get("ip_types", []), key=f"{key}_ip", placeholder="全部")
        regions = d4.multiselect("地域", options.get("regions", []), key=f"{key}_region", placeholder="全部")
        e1, e2, e3 = st.columns([2, 2, 1.3])
        handling_states = e1.multiselect("处置状态", list(HANDLING_LABELS), format_func=HANDLING_LABELS.get,
                                         key=f"{key}_handling", placeholder="全部")
        schemes = (e2.multiselect("监测方案", options["schemes"], key=f"{key}_schemes", placeholder="全部")
                   if options.get("schemes") else [])
        # Stacked in their own column: beside the 倾向 box, two halves cut the labels to 只看负面… at 1280 px.
        negative_only = e3.checkbox("只看负面舆情", key=f"{key}_negative")
        suspect_only = e3.checkbox("疑似负面", key=f"{key}_suspect",
                                   help=f"未标为负面、但负面概率 ≥ {REVIEW_P:.2f} 的信息（约三成实为负面），建议人工研判。"
                                        "与“只看负面舆情”同选时两类都列出。")
        important = e3.checkbox("只看重要", key=f"{key}_important")
    return queries.ItemFilter(start=start, end=end, polarities=tuple(polarities), negative_only=negative_only,
                              suspect_only=suspect_only, sources=tuple(sources), platforms=tuple(platforms), ip_types=tuple(ip_types),
                              regions=tuple(regions), keyword=keyword, schemes=tuple(schemes),
                              handling=tuple(handling_states), important_only=important)


def apply_view(v: Mapping[str, Any], key: str = "flt") -> None:
    """Put a saved view's filters into the filter bar's widgets (called from a button callback)."""
    f: queries.ItemFilter = v["filter"]
    preset = v.get("time") or ("custom" if f.start else "all")
    st.session_state[f"{key}_time"] = preset if preset in TIME_PRESETS else "all"
    if preset == "custom" and f.start:
        st.session_state[f"{key}_range"] = (f.start, f.end or f.start)
    st.session_state[f"{key}_polarity"] = list(f.polarities)
    st.session_state[f"{key}_negative"] = f.negative_only
    st.session_state[f"{key}_suspect"] = f.suspect_only
    st.session_state[f"{key}_keyword"] = f.keyword
    st.session_state[f"{key}_sources"] = list(f.sources)
    st.session_state[f"{key}_platforms"] = list(f.platforms)
    st.session_state[f"{key}_ip"] = list(f.ip_types)
    st.session_state[f"{key}_region"] = list(f.regions)
    st.session_state[f"{key}_handling"] = list(f.handling)
    st.session_state[f"{key}_schemes"] = list(f.schemes)
    st.session_state[f"{key}_important"] = f.important_only


# Triage from the keyboard (users.md: 监测员 need fast triage by keyboard and mouse). Letters as in mail
# readers; Streamlit reserves C and R, and ignores shortcuts while the focus is in a text field, but not
# in an open calendar: so only harmless, visible actions get a key. Changing a verdict (误判 / 应为负面)
# stays a deliberate click.
SHORTCUTS = {"next": "J", "previous": "K", "important": "S", "read": "E"}


def _step(key: str, ids: list[int], delta: int) -> None:
    current = st.session_state.get(key)
    if current in ids:
        st.session_state[key] = ids[max(0, min(len(ids) - 1, ids.index(current) + delta))]
    else:
        st.session_state[key] = ids[0]


def item_picker(rows: pd.DataFrame, key: str = "detail_item") -> int | None:
    """Which listed item to show in detail, with 上一条 / 下一条 (K / J); options are ids, labels plain text."""
    if rows.empty:
        return None
    ids = [int(i) for i in rows["id"]]
    labels = {int(r.id): f"{r.published_at:%m-%d} {r.title[:60]}" for r in rows.itertuples()}
    if st.session_state.get(key) not in ids:
        st.session_state.pop(key, None)        # the list moved on (new filter, new items): nothing stale chosen
    pos = ids.index(st.session_state[key]) if key in st.session_state else -1
    pick, prev, nxt = st.columns([6, 1.4, 1.4], vertical_alignment="bottom")   # label and key badge fit at 1280 px
    chosen = pick.selectbox("查看详情", ids, index=None, format_func=lambda i: labels.get(i, str(i)),
                            key=key, placeholder="选择一条信息查看详情和判定理由（J 下一条，K 上一条）")
    prev.button("上一条", key=f"{key}_prev", shortcut=SHORTCUTS["previous"], disabled=pos <= 0,
                on_click=_step, args=(key, ids, -1), width="stretch")
    nxt.button("下一条", key=f"{key}_next", shortcut=SHORTCUTS["next"], disabled=pos == len(ids) - 1,
               on_click=_step, args=(key, ids, 1), width="stretch")
    return chosen


def item_detail(d: Mapping[str, Any] | None) -> None:
    if d is None:
        st.warning("这条信息已不存在（可能随示例数据一起被清除）。")
        return
    with st.container(border=True):
        st.subheader(widgets.md_escape(d["title"] or "（无标题）"))
        when = (d.get("published_at_local") or "")[:16].replace("T", " ")
        est = "（发布时间未知，按采集时间估计）" if d.get("published_estimated") else ""
        st.text(f"{d['source']} · {widgets.platform_label(d['platform'])} · {when}{est}")
        a, b, c, e = st.columns(4)
        a.metric("倾向", widgets.tone_label(d.get("polarity"), d.get("topic")))
        b.metric("负面舆情", "是" if d.get("negative") else "疑似" if d.get("suspect") else "否")
        c.metric("负面概率", "—" if d.get("p_negative") is None else f"{d['p_negative']:.2f}")
        e.metric("知识产权类型", d.get("ip_type") or "—")
        st.caption("判定理由")
        reasons = d.get("reasons") or []
        if reasons:
            for r in reasons:
                st.text(f"• {r}")
        else:
            st.text("（无）")
        facts = [("地域", d.get("region")), ("执法渠道", d.get("channel")),
                 ("涉及类型", "、".join(d.get("ip_types") or [])), ("作者", d.get("author")),
                 ("示例数据", "是" if d.get("is_sample") else "")]
        st.text("  ".join(f"{k}：{v}" for k, v in facts if v))
        if d.get("schemes"):
            st.text("命中监测方案：" + "、".join(d["schemes"]))
        st.caption("正文摘要")
        st.text(d.get("text") or "（无正文）", width="stretch")
        if url := widgets.safe_url(d.get("url")):
            st.link_button("打开原文", url, icon=":material/open_in_new:")
        elif d.get("url"):
            st.text(f"原文链接（不可点击）：{d['url']}")
        h = d.get("handling")
        if h:
            due = f"，时限 {h['due_at'][:16].replace('T', ' ')}" if h.get("due_at") else ""
            unit = f"，承办：{h['unit']}" if h.get("unit") else ""
            st.text(f"处置状态：{HANDLING_LABELS.get(h['state'], h['state'])}{unit}{due}（在“负面处置”页办理）")
        if d.get("marks"):
            st.text("标记：" + "；".join(f"{MARK_LABELS.get(m['mark'], m['mark'])}（{m['actor']}，"
                                        f"{m['at'][:16].replace('T', ' ')}）" for m in d["marks"]))
        if d.get("corrections"):
            st.caption("人工更正")
            for c in d["corrections"]:
                st.text(f"• {CORRECTION_LABELS.get(c['field'], c['field'])} → "
                        f"{CORRECTION_VALUES.get(c['value'], c['value'])}（{users.actor_label(c['user'])}，"
                        f"{c['at'][:16].replace('T', ' ')}）{c['note']}")
        story = d.get("story") or []
        if len(story) > 1:
            st.caption(f"同一事件的报道与转载（共 {d.get('story_size', len(story))} 条）")
            st.dataframe(pd.DataFrame({
                "发布时间": [r["published_at"][:16].replace("T", " ") for r in story],
                "信息源": [r["source"] for r in story], "标题": [r["title"] for r in story],
                "链接": [widgets.safe_url(r["url"]) for r in story]}), hide_index=True, key="story_members",
                column_config={"链接": st.column_config.LinkColumn(display_text="原文", width="small")})



VIEW_ACTIONS = ("handle", "edit_cases")


def _act(db: str, label: str, user: users.User, need: str | tuple[str, ...], audit: tuple[str, Any, dict], fn,
         *args, **kwargs) -> None:
    """One write as `user`: refused unless the role may do `need` (any of them); recorded in the audit log as
    `audit`. Checked again here because a click is handled on the run after the one that drew the button."""
    user = widgets.still_signed_in(db, user)
    if not any(users.can(user, a) for a in ((need,) if isinstance(need, str) else need)):
        widgets.flash("error", f"{label}未完成：{widgets.refusal(user, '修改')}")
        return
    try:
        state.write_as(db, user, *audit, fn, *args, **kwargs)
    except (ValueError, KeyError) as e:
        widgets.flash("error", f"{label}未完成：{e.args[0] if e.args else e}")
    else:
        widgets.flash("ok", f"已{label}。" if label.startswith("删除") else f"{label}已保存。")


def can_save_views(user: users.User) -> bool:
    # Saved views are shared by all staff: anyone who works on items (not read-only accounts) may change them.
    return any(users.can(user, a) for a in VIEW_ACTIONS)


def item_actions(db: str, d: Mapping[str, Any], user: users.User) -> None:
    """标记重要 / 已读 / 误判, and corrected polarity or IP type for one item (roles with `handle`)."""
    from monitor import mark_store
    from monitor.store import Store
    from sentiment.judgement import IP_TYPES

    if not users.can(user, "handle"):
        st.caption(widgets.refusal(user, "标记、误判或更正", "处置或管理员"))
        return
    name = user.username
    item_id = int(d["id"])
    a, b, c, g = st.columns(4)
    important = any(m["mark"] == "important" for m in d.get("marks") or [])

    def act(label, audit_action, detail, fn, *args):
        return dict(on_click=_act, args=(db, label, user, "handle", (audit_action, item_id, detail), fn, *args))

    a.button("取消重要" if important else "标记重要", key="act_important", icon=":material/star:",
             shortcut=SHORTCUTS["important"],
             **act("标记", "item.mark", {"mark": "important", "on": not important},
                   mark_store.set_mark, item_id, "important", name, not important))
    b.button("标记已读", key="act_read", icon=":material/done:", shortcut=SHORTCUTS["read"],
             **act("标记", "item.mark", {"mark": "read", "on": True}, mark_store.set_mark, item_id, "read", name, True))
    if d.get("negative"):
        c.button("误判（不是负面）", key="act_misjudged", icon=":material/report_off:",
                 **act("误判更正", "item.correct", {"field": "negative", "value": "no"},
                       Store.apply_correction, item_id, "negative", "no", name))
    else:
        c.button("应为负面", key="act_negative", icon=":material/report:",
                 **act("更正", "item.correct", {"field": "negative", "value": "yes"},
                       Store.apply_correction, item_id, "negative", "yes", name))
    # Off-topic look-alikes (a logo redesign, a celebrity lawsuit) are taught to the topic model as such:
    # "误判" alone would teach it that they are IP items that happen to be calm.
    if d.get("topic") == "off":
        g.button("属于知识产权话题", key="act_on_topic", icon=":material/policy:",
                 **act("更正", "item.correct", {"field": "topic", "value": "ip"},
                       Store.apply_correction, item_id, "topic", "ip", name))
    else:
        g.button("与知识产权无关", key="act_off_topic", icon=":material/block:",
                 **act("更正", "item.correct", {"field": "topic", "value": "off"},
                       Store.apply_correction, item_id, "topic", "off", name))
    # One set of widget keys per item shown and judgement: a browser keeps what was typed into a form's
    # widgets and sends it with the next submit, so with shared keys an unsaved choice made on one item was
    # saved onto the next (resetting the values on the server does not stop that). 保存更正 sends only what
    # was changed on *this* item.
    pol_shown = d["polarity"] if d.get("polarity") in widgets.POLARITY_LABELS else "neutral"
    ipt_shown = d["ip_type"] if d.get("ip_type") in IP_TYPES else next(iter(IP_TYPES))
    k = f"fix_{item_id}_{pol_shown}_{ipt_shown}_{st.session_state.get('fix_saved', 0)}_"
    with st.form(k + "form", border=True):
        e, f = st.columns(2)
        pol = e.selectbox("更正倾向", list(widgets.POLARITY_LABELS), format_func=widgets.polarity_label,
                          index=list(widgets.POLARITY_LABELS).index(pol_shown), key=k + "polarity")
        ipt = f.selectbox("更正知识产权类型", list(IP_TYPES), index=list(IP_TYPES).index(ipt_shown), key=k + "ip_type")
        note = st.text_input("说明（可选）", key=k + "note", max_chars=500)
        if st.form_submit_button("保存更正"):
            changed = False
            if pol != pol_shown:
                _act(db, "倾向更正", user, "handle", ("item.correct", item_id,
                                                        {"field": "polarity", "value": pol, "note": note}),
                     Store.apply_correction, item_id, "polarity", pol, name, note)
                changed = True
            if ipt != ipt_shown:
                _act(db, "类型更正", user, "handle", ("item.correct", item_id,
                                                        {"field": "ip_type", "value": ipt, "note": note}),
                     Store.apply_correction, item_id, "ip_type", ipt, name, note)
                changed = True
            if not changed:
                widgets.flash("error", "与当前判定相同，没有需要保存的更正。")
            else:
                st.session_state["fix_saved"] = st.session_state.get("fix_saved", 0) + 1   # a fresh, empty form
            st.rerun()


def saved_views_bar(db: str, f: queries.ItemFilter, tick: int, user: users.User, key: str = "flt") -> None:
    from monitor import view_store
    views = state.saved_views(db, tick)
    writable = can_save_views(user)
    with st.expander("保存的视图", icon=":material/bookmarks:"):
        a, b = st.columns(2)
        names = [v["name"] for v in views]
        chosen = a.selectbox("打开视图", names, index=None, key="view_pick", placeholder="选择已保存的筛选条件")
        if chosen:
            v = next(v for v in views if v["name"] == chosen)
            a.button("应用", key="view_apply", on_click=apply_view, args=(v, key))
            if writable:
                a.button("删除", key="view_delete", on_click=_act,
                         args=(db, "删除视图", user, VIEW_ACTIONS, ("view.delete", chosen, {}),
                               view_store.delete_view, chosen))
        if not writable:
            b.caption(widgets.refusal(user, "保存或删除视图", "处置、编辑或管理员"))
            return
        name = b.text_input("把当前筛选保存为", key="view_name", max_chars=view_store.MAX_NAME)
        b.button("保存视图", key="view_save", on_click=_act,
                 args=(db, "视图", user, VIEW_ACTIONS, ("view.save", name, {}), view_store.save_view, name, f,
                       user.username, st.session_state.get(f"{key}_time")))


def export_panel(db: str, f: queries.ItemFilter) -> None:
    """Export the current view (all matches, not only the rows shown) as CSV or XLSX."""
    with st.expander("导出当前视图", icon=":material/download:"):
        fmt = st.radio("格式", ["xlsx", "csv"], horizontal=True, key="export_fmt",
                       format_func={"xlsx": "Excel (XLSX)", "csv": "CSV"}.get)
        if st.button("生成导出文件", key="export_build"):
            try:
                data, notes = state.export_view(db, f, fmt)
            except ValueError as e:
                st.error(f"无法导出：{e}")
                return
            for n in notes:
                st.warning(n)
            st.session_state["export_file"] = (fmt, f, data)
        # A file is offered only for the view and format it was built from: after a change of filters or
        # format the old download would hand out the wrong rows.
        if got := st.session_state.get("export_file"):
            fmt_, built_for, data = got
            if (fmt_, built_for) != (fmt, f):
                st.caption("筛选条件或格式已改变，请重新生成导出文件。")
                return
            st.download_button(f"下载（{len(data) // 1024 + 1} KB）", data, key="export_download",
                               file_name=f"舆情信息.{fmt_}",
                               mime="text/csv" if fmt_ == "csv" else
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
