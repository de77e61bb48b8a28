"""负面处置: negative stories and their handling state, overdue first; one story's history and next move."""
import pandas as pd
import streamlit as st

from monitor import handling
from ui import auth, state, widgets

settings = state.settings()
db = state.db_key(settings)
tick = state.tick(settings)
user = auth.page_user(state.store(db), settings)

st.title("负面处置")
widgets.acting_as(user)
widgets.show_flash()
c1, c2 = st.columns([1, 3])
days = c1.selectbox("时间范围", [7, 30, 90, 365], index=1, format_func=lambda d: f"近{d}天", key="handle_days")
states = c2.multiselect("处置状态", list(handling.STATES), format_func=handling.STATES.get, key="handle_states",
                        placeholder="全部")

summary = state.handling_summary(db, days, tick)
m = st.columns(6)
m[0].metric("负面事件", summary["stories"],
            help="按首次采集（发现）时间统计的事件数：同一报道的多家转载算一个事件。"
                 "总览的“负面”按发布时间统计条数，两者口径不同。")
for col, key in zip(m[1:4], ("pending", "assigned", "responded")):
    col.metric(handling.STATES[key], summary["by_state"][key])
m[4].metric("已办结", summary["by_state"]["closed"] + summary["by_state"]["dismissed"])
m[5].metric("超期未回应", summary["overdue"])
fmt = lambda h: "—" if h is None else f"{h} 小时"  # noqa: E731
st.caption(f"中位用时：发现→交办 {fmt(summary['median_hours_to_assign'])}；交办→回应 "
           f"{fmt(summary['median_hours_to_respond'])}；发现→办结 {fmt(summary['median_hours_to_close'])}")

frame = state.handling_list(db, days, tuple(states), tick)
if frame.empty:
    st.info("所选范围内没有负面事件。")
    st.stop()
frame = frame.sort_values(["overdue", "first_at"], ascending=[False, False], kind="stable")
when = lambda col: frame[col].fillna("").map(lambda t: t and widgets.to_local(t))  # noqa: E731
view = pd.DataFrame({
    "超期": frame["overdue"].map({True: "超期", False: ""}),
    "状态": frame["state_label"], "标题": frame["title"], "首发来源": frame["source"],
    "首次出现": when("first_at"), "报道数": frame["items"], "承办单位": frame["unit"].fillna(""),
    "办理时限": when("due_at"), "最近操作": frame["updated_by"].fillna(""),
})
st.dataframe(view.style.apply(lambda r: ["background-color: #fde0dc" if r["超期"] else "" for _ in r], axis=1),
             hide_index=True, key="handling_table")

# No state in the label: the browser keeps a chosen option's old text after a move (the state is shown below).
labels = {int(r.story_id): f"{r.title[:60]}（{r.source}）" for r in frame.itertuples()}
chosen = st.selectbox("办理", list(labels), index=None, format_func=lambda i: labels.get(i, str(i)), key="handle_pick",
                      placeholder="选择一个事件查看处置记录并办理")
if chosen is None:
    st.stop()
row = frame.set_index("story_id").loc[chosen]
st.subheader(widgets.md_escape(row["title"] or "（无标题）"))
unit_now = row["unit"] if isinstance(row["unit"], str) else ""     # pandas gives NaN for a story never assigned
st.text(f"当前状态：{row['state_label']}" + (f"，承办：{unit_now}" if unit_now else "")
        + ("（已超期）" if row["overdue"] else ""))
hist = state.handling_history(db, int(chosen), tick)
if hist:
    st.caption("处置记录")
    st.dataframe(pd.DataFrame({
        "时间": [widgets.to_local(h["at"]) for h in hist], "操作人": [h["actor"] for h in hist],
        "动作": [handling.ACTIONS.get(h["action"], h["action"]) for h in hist],
        "状态": [f"{handling.STATES[h['from_state']]} → {handling.STATES[h['to_state']]}" for h in hist],
        "承办单位": [h["unit"] or "" for h in hist], "说明": [h["note"] or h["reason"] or "" for h in hist],
        "链接": [widgets.safe_url(h["link"]) for h in hist]}), hide_index=True, key="handling_history",
        column_config={"链接": st.column_config.LinkColumn(display_text="回应链接")})
else:
    st.caption("尚无处置记录。")

allowed = [a for (s, a) in handling.MOVES if s == row["state"]]
if not auth.can(user, "handle"):
    st.caption(widgets.refusal(user, "办理负面事件", "处置或管理员"))
    st.stop()
# One set of widget keys per story and per move: a browser keeps what was typed into a form and sends it
# with the next submit, so with shared keys a note typed for one story (never sent) was saved with the next
# story's move, whatever the server reset. A new story or a completed move gives a new, empty form.
k = f"handle_{chosen}_{st.session_state.get('handle_moves', 0)}_"
with st.form(k + "form"):
    action = st.selectbox("动作", allowed, format_func=handling.ACTIONS.get, key=k + "action")
    a, b = st.columns(2)
    units = state.handling_units(db, tick)
    unit = a.selectbox("承办处室或城市（交办时必填）", units, index=None, key=k + "unit",
                       accept_new_options=True, placeholder="选择，或直接输入单位名称")
    due = b.text_input("办理时限（交办时必填：24h、3d 或 YYYY-MM-DD HH:MM）", value="24h", key=k + "due")
    note = st.text_area("回应情况 / 说明（回应时必填）", key=k + "note", max_chars=handling.MAX_NOTE)
    link = st.text_input("回应链接（http/https，可选）", key=k + "link")
    reason = st.text_input("理由（无需处置时必填）", key=k + "reason", max_chars=500)
    if st.form_submit_button("提交"):
        try:
            if action == "assign":
                handling.check_new_unit(handling.normalise_unit(unit), units)
            move = state.write_as(db, user, "handling.move", int(chosen),
                                  handling.audit_detail(action, unit=unit or "", due=due, note=note, reason=reason),
                                  handling.transition, int(chosen), action, user.username, unit=unit or "", due=due,
                                  note=note, link=link, reason=reason)
        except handling.HandlingError as e:
            st.error(f"未办理：{e}")
        else:
            st.session_state["flash"] = ("ok", f"已{handling.ACTIONS[move.action]}：{handling.STATES[move.from_state]}"
                                               f" → {handling.STATES[move.to_state]}")
            st.session_state["handle_moves"] = st.session_state.get("handle_moves", 0) + 1
            st.rerun()
