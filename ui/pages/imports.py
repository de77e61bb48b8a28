"""导入: exports from other platforms (CSV / XLSX / JSON / JSON Lines) and manual entry of one item.

Reading, column mapping, validation and storing are monitor.intake's; this
page only shows the preview, lets staff adjust the mapping and calls one
function per action. Imported text is shown only in dataframes and st.text.
"""
import zlib

import pandas as pd
import streamlit as st

from collectors.imports import FIELD_LABELS, FIELDS, NotAnExport
from collectors.registry import PLATFORMS
from monitor import intake, users
from ui import auth, state, widgets

UPLOAD_TYPES = ["csv", "tsv", "xlsx", "xlsm", "json", "jsonl", "ndjson"]

settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("导入")
if not intake.may_import(user):
    st.info("只读账号不能导入或录入信息；需要处置、编辑或管理员账号。", icon=":material/lock:")
    st.stop()


def show_report(report: intake.IntakeReport) -> None:
    if report.ok:
        st.success(report.summary, icon=":material/check_circle:")
    else:
        st.error("未导入，没有保存任何条目。", icon=":material/error:")
    for w in report.warnings:
        st.warning(widgets.md_escape(w), icon=":material/warning:")
    if report.errors:
        title = f"跳过的行（{len(report.errors)} 处，未导入）" if report.ok else f"问题明细（{len(report.errors)} 处）"
        with st.expander(title, expanded=not report.ok):
            for e in report.errors[:200]:
                st.text(e)
    if report.estimated:
        with st.expander(f"已导入、发布时间按导入时间记录的行（{len(report.estimated)} 条，标为估计）"):
            for e in report.estimated[:200]:
                st.text(e)


tab_file, tab_manual = st.tabs(["文件导入", "手工录入"])

with tab_file:
    st.caption("支持其他平台和商业舆情系统导出的 CSV（UTF-8 或 GBK）、XLSX、JSON、JSON Lines 文件。"
               "导入的条目全部保留，并标注命中的监测方案。")
    upload = st.file_uploader("选择导出文件", type=UPLOAD_TYPES, key="import_upload")
    if upload is not None:
        name, data = upload.name, upload.getvalue()
        try:
            preview = intake.preview_file(settings, name, data)
        except (NotAnExport, ValueError) as e:
            st.error(f"无法读取该文件：{widgets.md_escape(str(e))}", icon=":material/error:")
        else:
            st.text(f"共 {preview.row_count} 行；" + ("已按上次记住的列对应关系填好。" if preview.remembered
                                                   else "列对应关系按列名自动识别，请核对。"))
            st.dataframe(pd.DataFrame(preview.sample).astype(str), hide_index=True, key="import_sample")
            # One set of selectboxes per file layout, so a second file starts from its own mapping.
            fmt = f"{zlib.crc32(preview.signature.encode('utf-8')):08x}"
            options = ["", *preview.headers]
            mapping = {}
            cols = st.columns(4)
            for i, fld in enumerate(FIELDS):
                current = preview.mapping.get(fld, "")
                mapping[fld] = cols[i % 4].selectbox(
                    f"{FIELD_LABELS[fld]}", options, index=options.index(current) if current in options else 0,
                    format_func=lambda h: h or "（不导入）", key=f"import_map_{fmt}_{fld}")
            a, b = st.columns(2)
            platform = a.selectbox("默认平台（文件中有“平台/媒体类型”列时以该列为准）", list(PLATFORMS),
                                   format_func=widgets.platform_label, key="import_platform")
            remember = b.checkbox("记住此格式的列对应关系", value=True, key="import_remember")
            if st.button("导入", type="primary", key="import_go", icon=":material/upload:"):
                try:
                    with st.spinner("正在研判并入库……"), auth.writer(settings) as w:
                        report = intake.import_file(w, state.judge(), name, data, mapping, remember, settings,
                                                    user=user, platform=platform, now=auth.now())
                except users.UserError as e:
                    st.error(str(e), icon=":material/error:")
                else:
                    state.clear_queries()
                    show_report(report)

with tab_manual:
    st.caption("把在其他地方看到的一条信息（如微信公众号文章、领导留言）录入系统，录入后与采集的信息一样研判和统计。")
    # After a save the form starts over for the next item; after a refusal the typed text stays for correcting.
    MANUAL_DEFAULTS = {"manual_url": "", "manual_title": "", "manual_text": "", "manual_time": "",
                       "manual_source": "手工录入", "manual_platform": next(iter(PLATFORMS))}
    done = st.session_state.pop("manual_done", None)
    widgets.start_form(MANUAL_DEFAULTS, over=bool(done))
    if done:
        st.success(done["message"], icon=":material/check_circle:")
        for w in done["warnings"]:
            st.warning(widgets.md_escape(w), icon=":material/warning:")
    with st.form("manual", clear_on_submit=False):
        url = st.text_input("链接（http:// 或 https://）", key="manual_url")
        title = st.text_input("标题", key="manual_title")
        text = st.text_area("正文", key="manual_text")
        a, b, c = st.columns(3)
        time = a.text_input("发布时间", placeholder="如 2025-04-26 10:30，不知道可留空（按录入时间估计）", key="manual_time")
        platform = b.selectbox("平台", list(PLATFORMS), format_func=widgets.platform_label, key="manual_platform")
        source = c.text_input("来源", key="manual_source")
        saved = st.form_submit_button("保存", type="primary")
    if saved:
        fields = {"url": url, "title": title, "text": text, "time": time.strip() or None, "platform": platform,
                  "source": source}
        try:
            with auth.writer(settings) as w:
                report = intake.add_manual_item(w, state.judge(), fields, settings, user=user, now=auth.now())
        except users.UserError as e:
            st.error(str(e), icon=":material/error:")
        else:
            if not report.ok:
                st.error("未保存：" + widgets.md_escape("；".join(report.errors)), icon=":material/error:")
            else:
                state.clear_queries()
                st.session_state["manual_done"] = {
                    "message": "已录入。" if report.new else "该链接已在库中，没有重复录入。" if not report.updated
                    else "该链接已在库中，已更新。", "warnings": list(report.warnings)}
                st.rerun()
