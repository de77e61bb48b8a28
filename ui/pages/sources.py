"""信息源: every configured source with its last run, status and last error."""
import streamlit as st

from ui import state, widgets

settings = state.settings()
db = state.db_key(settings)

st.title("信息源")
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
st.caption(f"超过 {settings.stall_minutes} 分钟没有成功采集的已启用信息源标为“停滞”。配置文件："
           f"{widgets.md_escape(str(settings.sources_file))}")
