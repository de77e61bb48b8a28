"""数据备份: the newest backups and how old they are; admins make one now.

Restoring is not offered here: it replaces everything staff see and needs the collector stopped, so it is
done on the server (`python -m monitor backup restore FILE`), which first saves the current database.
"""
from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from monitor import backup
from ui import auth, state, widgets

settings = state.settings()
db = state.db_key(settings)
user = auth.page_user(state.store(db), settings)
folder = settings.backups

st.title("数据备份")
widgets.show_message("backup_message")
info = backup.overview(folder, datetime.now(timezone.utc), settings.db_path)
a, b, c = st.columns(3)
a.metric("最近一次备份", info["age"], help=f"备份时间：{info['when']}" if info["when"] else None)
b.metric("数据库大小", backup.size_text(info["db_size"]) if info["db_size"] else "—")
c.metric("备份目录剩余空间", backup.size_text(info["free"]) if info["free"] is not None else "—")
if info["low_space"]:
    st.warning("备份目录所在磁盘的剩余空间已不够再做几次备份：请清理磁盘、把旧备份移走，或换一个备份目录"
               "（OPINION_BACKUP_DIR）。", icon=":material/storage:")
if info["stale"]:
    lead = "还没有任何备份。" if info["latest"] is None else "超过两天没有备份。"
    now_hint = "或点下方“立即备份”" if auth.can(user, "manage_backups") else "或请管理员立即备份"
    st.warning(lead + "采集服务（python -m collectors run --every …）每天自动备份一次；"
               f"请确认它在运行，{now_hint}。", icon=":material/warning:")
if info["problem"]:
    st.error(widgets.md_escape(info["problem"]), icon=":material/error:")
if info["odd"]:
    st.warning("备份目录中有不计入的文件（不是数据库，或日期在未来，可能是曾经把服务器时钟调错）："
               + widgets.md_escape("、".join(info["odd"])) + "。请核对后手工删除。", icon=":material/warning:")
if info["rows"]:
    st.dataframe(pd.DataFrame(info["rows"]), hide_index=True, width="stretch")
st.caption(f"备份目录：{widgets.md_escape(str(folder))}。备份与数据库在同一台服务器上，只能防误操作和文件损坏；"
           "请定期把备份目录复制到另一台机器或移动介质。恢复：先停止采集服务，再在服务器上运行 "
           "`python -m monitor backup restore 备份文件`，恢复前的数据库会自动另存。")

if not auth.can(user, "manage_backups"):
    st.caption(widgets.refusal(user, "备份数据库", "管理员"))
    st.stop()
if st.button("立即备份", key="backup_now", icon=":material/backup:", type="primary"):
    bar = st.progress(0.0, text="正在备份…")
    try:
        made = backup.create(settings.db_path, folder, datetime.now(timezone.utc), actor=user,
                             keep=settings.backup_keep,
                             progress=lambda done, total: bar.progress(done / max(total, 1), text="正在备份…"))
    except backup.BackupError as e:
        st.error(widgets.md_escape(str(e)), icon=":material/error:")
    else:
        st.session_state["backup_message"] = (f"已备份：{made.name}（{backup.size_text(made.size)}；"
                                              f"{backup.counts_text(made.counts)}）")
        st.rerun()
