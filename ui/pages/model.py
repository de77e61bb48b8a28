"""研判模型: the judge model in use, how it compares with the one it replaced, the staff corrections it
has not learnt yet; admins re-judge stored items and roll the model back.

Training runs on the server (`python -m sentiment train`, about a minute of full CPU), not in the
dashboard process that serves everyone; this page says when it is worth running.
"""
import pandas as pd
import streamlit as st

from monitor import judging, notify, queries
from sentiment.versions import VersionError
from ui import auth, itemview, state, widgets

FIGURES = {"n": "条数", "accuracy": "准确率", "precision": "负面精确率", "recall": "负面召回率", "f1": "负面 F1",
           "average_precision": "排序质量 AP", "polarity_macro_f1": "倾向宏 F1", "topic_accuracy": "话题准确率",
           "ip_type_accuracy": "类型准确率", "off_topic_flagged": "无关条目误判为负面（条）"}
SETS = {"heldout": "留出集（训练时未用）", "fresh": "新收集条目（从未用于训练）"}
FIELDS = {"negative": "是否负面", "polarity": "倾向", "ip_type": "知识产权类型", "topic": "是否相关",
          "confirmed": "负面处置交办确认"}
VALUES = itemview.CORRECTION_VALUES
CHANGE = {"better": "更好", "same": "持平", "worse": "更差"}
VERDICT = {"better": ("当前模型比上一版更好。", "success"),
           "same": ("当前模型与上一版相当（差别在重新训练的正常波动之内）。", "info"),
           "worse": ("当前模型比上一版差：可恢复上一版。", "warning")}


def _figure(v) -> str:
    """Counts as whole numbers, scores to three places, a figure the card lacks as a dash."""
    if v is None:
        return "—"
    return str(v) if isinstance(v, int) else f"{v:.3f}"


settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("研判模型")
st.caption("负面研判由本地训练的模型完成。工作人员在信息流中更正的“误判”、倾向和类型，会在下次训练时学习；"
           "训练后可重新判定已采集的条目。")
if msg := st.session_state.pop("model_message", None):
    st.success(msg, icon=":material/check_circle:")  # built here from numbers and dates only
try:
    info = state.model_status(db)
except VersionError as e:
    st.error(f"模型说明文件无法读取：{widgets.md_escape(str(e))}", icon=":material/error:")
    st.stop()

cur, corr = info["current"], info["corrections"]
if cur is None:
    st.warning("没有找到模型说明（model_card.json）：请在服务器上运行 python -m sentiment train。",
               icon=":material/warning:")
else:
    a, b, c, d = st.columns([3, 2, 2, 2])
    a.metric("训练时间（北京时间）", notify.local_time(cur["trained_at"]) if cur["trained_at"] else "—")
    b.metric("训练条目", cur["train"] or 0)
    c.metric("已学习的更正与确认", cur["corrections_used"])
    d.metric("待学习的更正与确认", corr["since_training"])

    st.subheader("研判质量")
    st.caption("在训练时未使用的已标注条目上测得。留出集与训练数据同源；“新收集条目”是模型设计完成后另行收集、"
               "从未用于训练的条目，更接近今后遇到的新情况。")
    shown_sets = [s for s in SETS if cur.get(s)]
    if shown_sets:
        st.dataframe(pd.DataFrame({"指标": list(FIGURES.values())}
                                  | {SETS[s]: [_figure(cur[s].get(k)) for k in FIGURES] for s in shown_sets}),
                     hide_index=True, key="model_quality",
                     column_config={"指标": st.column_config.TextColumn(width="medium")})
        st.caption("准确率、F1 等为 0 到 1 之间的得分，越高越好；无关条目误判为负面的条数越少越好。")

cmp = info["comparison"]
if cmp:
    st.subheader("与上一版比较")
    text, kind = VERDICT[cmp["verdict"]]
    getattr(st, kind)(text)
    st.caption(f"两版模型在同一批条目上评分；上一版训练于 "
               f"{notify.local_time(cmp['previous_trained_at']) if cmp['previous_trained_at'] else '—'}。"
               "变化小于重新训练的正常波动时记为持平。")
    shown = [r for r in cmp["rows"] if r["figure"] in widgets.MODEL_FIGURES]
    if shown:
        st.altair_chart(widgets.model_comparison_chart(shown), key="model_compare_chart")
        st.dataframe(pd.DataFrame({
            "数据": [widgets.MODEL_SETS.get(r["set"], r["set"]) for r in shown],
            "指标": [widgets.MODEL_FIGURES.get(r["figure"], r["figure"]) for r in shown],
            "上一版": [r["previous"] for r in shown], "当前": [r["new"] for r in shown],
            "变化": [f"{r['delta']:+.3f}（{CHANGE[r['change']]}）" for r in shown],
        }), hide_index=True, key="model_compare_table")

st.subheader("人工更正")
if corr["total"] == 0:
    st.caption("还没有人工更正。在信息流中打开一条信息，点“误判”“与知识产权无关”或更正倾向、类型即可。")
else:
    by_field = "，".join(f"{FIELDS.get(k, k)} {n} 条" for k, n in corr["by_field"].items())
    st.write(f"共 {corr['total']} 条更正与确认，其中 {corr['since_training']} 条尚未学习"
             + (f"（{by_field}）" if by_field else "") + "。")
    st.caption("负面处置中“交办”的事件，其负面条目视为工作人员确认的负面，与“误判”等更正一起学习："
               "只学错判会让模型越来越不敢判负面。")
if info["waiting"]:
    st.dataframe(pd.DataFrame({
        "时间": [notify.local_time(c["created_at"]) for c in info["waiting"]],
        "更正人": [c["user"] for c in info["waiting"]],
        "标题": [c["title"] for c in info["waiting"]],
        "更正": [f"{FIELDS.get(c['field'], c['field'])}：{VALUES.get(c['value'], c['value'])}" for c in info["waiting"]],
        "说明": [c["note"] for c in info["waiting"]],
    }), hide_index=True, key="model_waiting", column_config={"标题": st.column_config.TextColumn(width="large")})
    st.caption(f"尚未学习的更正，最新的在前（最多显示 {judging.RECENT} 条）。训练前请浏览一遍：误点的更正也会被学习，"
               "可在信息流中打开该条再次更正。")
if corr["since_training"]:
    st.info("有尚未学习的人工更正。请管理员在服务器上运行 `python -m sentiment train`（约一分钟），"
            "训练后本页会显示新旧模型的比较；采集进程和本看板会自动改用新模型。", icon=":material/school:")

if not auth.can(user, "manage_model"):
    st.caption("只有管理员可以重新判定已存条目或恢复上一版模型。")
    st.stop()

st.subheader("重新判定已存条目")
st.caption("训练或恢复模型后，已采集条目仍保留原来的判定，直到重新判定。人工更正过的字段保持不变；"
           "处置记录不受影响；因此新增的负面条目不再发送预警。")
since = st.date_input("只判定此日期以后发布的条目（留空则全部）", value=None, key="model_since")
if st.button("重新判定", key="model_rejudge", icon=":material/refresh:"):
    bar = st.progress(0.0, text="重新判定…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"重新判定：{done}/{total}")

    with auth.writer(settings) as w:
        report = judging.rejudge_as(w, state.judge(), user,
                                    since=queries.day_start_iso(since) if since else None, progress=progress)
    state.clear_queries()
    st.session_state["model_message"] = report.summary()
    st.rerun()

if info["previous"]:
    prev = info["previous"]
    st.subheader("恢复上一版模型")
    when = notify.local_time(prev["trained_at"]) if prev["trained_at"] else "—"
    st.caption(f"上一版训练于 {when}。恢复后当前模型成为“上一版”，可再次恢复。恢复后请重新判定已存条目。")
    if st.session_state.pop("model_rollback_done", False):
        st.session_state["model_rollback_confirm"] = False   # a second click must be confirmed again
    if st.checkbox("确认恢复上一版模型", key="model_rollback_confirm"):
        if st.button("恢复上一版", key="model_rollback", icon=":material/undo:"):
            try:
                with auth.writer(settings) as w:
                    card = judging.rollback_as(w, user)
            except (VersionError, OSError) as e:
                st.error(f"未能恢复：{widgets.md_escape(str(e))}", icon=":material/error:")
            else:
                st.session_state["model_message"] = (
                    f"已恢复训练于 {notify.local_time(card['trained_at']) if card.get('trained_at') else '—'} 的模型；"
                    "已存条目仍是原模型的判定，请点“重新判定”按恢复的模型重新研判")
                st.session_state["model_rollback_done"] = True
                st.rerun()
