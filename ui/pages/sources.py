"""信息源: every configured source with its last run, status and last error; admins edit the list.

Edits go through monitor.intake (validated, written atomically to the sources
file, audited); the collector picks them up on its next round.
"""
import streamlit as st

from collectors.base import shown_url
from collectors.registry import KINDS, PLATFORMS, SourceConfigError
from monitor import intake, request_store, users
from monitor.store import Store
from ui import auth, state, widgets

KIND_LABELS = {"rss": "RSS / Atom 订阅", "cnipa": "国家知识产权局栏目列表", "govlist": "政府网站列表页"}

settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("信息源")
widgets.show_message("sources_message")
health, problem = state.source_health(db, str(settings.sources_file), settings.rsshub_base,
                                      settings.stall_minutes, state.tick(settings))
if problem:
    st.warning(problem, icon=":material/warning:")
a, b, c, d = st.columns(4)
a.metric("信息源", len(health))
b.metric("已启用", int(health["enabled"].sum()))
c.metric("最近一次失败", int((health["status"] == "error").sum()))
d.metric("停滞", int(health["stalled"].sum()))
if health.empty:
    st.info("还没有配置信息源（data/sources.toml），也没有采集记录。")
else:
    widgets.source_health_table(health)
where = f"配置文件：{widgets.md_escape(str(settings.sources_file))}" if auth.can(user, "manage_users") else ""
st.caption(f"超过 {settings.stall_minutes} 分钟没有成功采集的已启用信息源标为“停滞”。{where}")



@st.fragment(run_every=3)
def collect_progress() -> None:
    """The latest 立即采集 request as the collector process reports it (the dashboard never collects)."""
    with Store(settings.db_path, readonly=True) as reader:
        req = request_store.latest(reader)
    if req is None:
        return
    label = request_store.STATUS_ZH.get(req["status"], req["status"])
    line = f"立即采集（{users.actor_label(req['requested_by'])}发起）：{label}"
    if req["status"] in ("running", "done", "failed") and req["total"]:
        line += f"，{req['done']}/{req['total']} 个信息源，新增 {req['new']} 条，失败 {req['failed']} 个"
        st.progress(min(1.0, req["done"] / req["total"]))
    if req["message"]:
        line += f"（{req['message']}）"
    st.caption(widgets.md_escape(line))
    if req["status"] == "pending":
        st.caption("等待采集进程（python -m collectors run --every N）领取；采集进程未运行时不会开始。")


# Handlers and admins may ask the collector process for a pass; the page never collects itself.
if auth.can(user, "handle"):
    if st.button("立即采集", key="collect_now", icon=":material/sync:"):
        try:
            with auth.writer(settings) as w:
                request_store.request_collect(w, user)
        except users.UserError as e:
            st.error(widgets.md_escape(str(e)), icon=":material/error:")
collect_progress()

if not auth.can(user, "edit_sources"):
    st.caption("只有管理员可以启用、停用、修改或新增信息源。")
    st.stop()
try:
    sources = intake.load_source_list(settings)
except SourceConfigError as e:
    # Saving would replace a file we could not read: it is fixed by hand first.
    st.error(f"信息源配置文件有误，请先手工修正后再在此编辑：{widgets.md_escape(str(e))}", icon=":material/error:")
    st.stop()


def done(message: str) -> None:
    state.clear_queries()
    st.session_state["sources_message"] = message
    st.rerun()


tab_edit, tab_add = st.tabs(["修改信息源", "新增信息源"])

with tab_edit:
    if not sources:
        st.caption("还没有信息源。")
    else:
        names = [s.name for s in sources]
        pick = st.selectbox("信息源", names, key="source_pick",
                            format_func=lambda n: n + ("" if next(s for s in sources if s.name == n).enabled
                                                       else "（已停用）"))
        current = next(s for s in sources if s.name == pick)
        st.text(f"地址：{shown_url(current.configured_url or current.url)}")
        if current.notes:
            st.text(f"备注：{current.notes}")
        k = f"source_{names.index(pick)}_"
        with st.form(k + "form"):
            enabled = st.checkbox("启用", value=current.enabled, key=k + "enabled")
            x, y = st.columns(2)
            interval = x.number_input("采集间隔（分钟）", min_value=1, value=int(current.interval_minutes), step=10,
                                      key=k + "interval")
            weight = y.number_input("权重（热度和预警中一条信息的分量）", min_value=0.0, value=float(current.weight),
                                    step=0.1, key=k + "weight")
            save = st.form_submit_button("保存", type="primary")
        if save:
            try:
                with auth.writer(settings) as w:
                    intake.update_source(w, settings, pick, enabled=enabled, interval_minutes=int(interval),
                                         weight=float(weight), user=user, now=auth.now())
            except (SourceConfigError, users.UserError) as e:
                st.error(f"未保存：{widgets.md_escape(str(e))}", icon=":material/error:")
            else:
                done(f"已保存信息源「{widgets.md_escape(pick)}」。")

with tab_add:
    st.caption("地址可填 http(s) 网址，或自建 RSSHub 的路由（rsshub:///weibo/user/1195230310）。"
               "需要登录或浏览器的信息源请先阅读 docs/sources.md。")
    with st.form("source_new"):
        name = st.text_input("名称（唯一）", key="source_new_name")
        url = st.text_input("地址", key="source_new_url")
        x, y = st.columns(2)
        kind = x.selectbox("类型", list(KINDS), format_func=lambda v: KIND_LABELS.get(v, v), key="source_new_kind")
        platform = y.selectbox("平台", list(PLATFORMS), format_func=widgets.platform_label,
                               key="source_new_platform")
        x, y, z = st.columns(3)
        region = x.text_input("地域（如 安徽、安徽合肥）", key="source_new_region")
        interval = y.number_input("采集间隔（分钟）", min_value=1, value=60, step=10, key="source_new_interval")
        weight = z.number_input("权重", min_value=0.0, value=1.0, step=0.1, key="source_new_weight")
        x, y, z = st.columns(3)
        enabled = x.checkbox("启用", value=True, key="source_new_enabled")
        always = y.checkbox("内容全部相关（不经监测方案筛选）", key="source_new_always")
        own = z.checkbox("本局自有渠道", key="source_new_own")
        notes = st.text_input("备注", key="source_new_notes")
        add = st.form_submit_button("新增", type="primary")
    if add:
        fields = {"name": name, "url": url, "kind": kind, "platform": platform, "region": region,
                  "interval_minutes": int(interval), "weight": float(weight), "enabled": enabled,
                  "always_relevant": always, "own": own, "notes": notes}
        try:
            with auth.writer(settings) as w:
                added = intake.add_source(w, settings, fields, user=user, now=auth.now())
        except (SourceConfigError, users.UserError) as e:
            st.error(f"未新增：{widgets.md_escape(str(e))}", icon=":material/error:")
        else:
            done(f"已新增信息源「{widgets.md_escape(added.name)}」。")
