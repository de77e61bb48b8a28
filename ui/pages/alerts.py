"""预警: alerts with the items behind them, the rule editor (admin), channels and a test send.

Reads go through the cached read-only store; each write opens a short-lived
writable store via ui.auth.writer and is recorded in the audit log by the
core function it calls. Alerts are evaluated by the collector, never here.
"""
import pandas as pd
import streamlit as st

from monitor import alerts, notify, users
from ui import auth, state, widgets

settings = state.settings()
db = state.db_key(settings)
store = state.store(db)
user = auth.page_user(store, settings)

st.title("预警")
widgets.show_message("alerts_message")

try:
    config = notify.NotifyConfig.load()
    config_problem = None
except notify.NotifyConfigError as e:
    config, config_problem = notify.NotifyConfig(), str(e)

tab_list, tab_rules, tab_channels = st.tabs(["预警列表", "预警规则", "发送渠道"])

# -- alerts ----------------------------------------------------------------------------------------
with tab_list:
    unacked = st.toggle("只看未确认", key="alerts_unacked")
    firings = alerts.recent_firings(store, limit=200, unacknowledged_only=unacked)
    if not firings:
        st.info("暂无预警。预警由采集进程在每轮采集后按规则评估产生。", icon=":material/notifications_none:")
    else:
        st.dataframe(pd.DataFrame({
            "时间": [notify.local_time(f["fired_at"]) for f in firings],
            "规则": [f["rule_name"] for f in firings],
            "预警": [f["title"] for f in firings],
            "相关信息": [f["item_count"] for f in firings],
            "状态": [f"已确认（{f['acknowledged_by']}）" if f["acknowledged_at"] else "未确认" for f in firings],
        }), hide_index=True, key="alerts_table", column_config={"预警": st.column_config.TextColumn(width="large")})
        labels = {f["id"]: f"{notify.local_time(f['fired_at'])} {f['title'][:60]}" for f in firings}
        picked = st.selectbox("查看预警", list(labels), index=None, format_func=labels.get, key="alerts_pick",
                              placeholder="选择一条预警查看相关信息")
        if picked is not None and (d := alerts.firing_detail(store, picked)) is not None:
            with st.container(border=True):
                st.subheader(widgets.md_escape(d["title"]))
                st.text(f"规则：{d['rule_name']} · {notify.local_time(d['fired_at'])}（北京时间）")
                st.text(d["detail"] or "")
                for it in d["items"]:
                    st.text(f"• {it['source']}：{it['title']}")
                    if url := widgets.safe_url(it["url"]):
                        st.link_button("原文", url, icon=":material/open_in_new:")
                if d["acknowledged_at"]:
                    st.caption(f"已由 {d['acknowledged_by']} 于 {notify.local_time(d['acknowledged_at'])} 确认")
                elif auth.can(user, "acknowledge_alert"):
                    if st.button("确认已知悉", key="alerts_ack", icon=":material/done:"):
                        with auth.writer(settings) as w:
                            alerts.acknowledge(w, picked, actor=user, now=auth.now())
                        st.session_state["alerts_message"] = "已确认该预警。"
                        st.rerun()
                else:
                    st.caption("只读账号不能确认预警。")

# -- rules -------------------------------------------------------------------------------------------
with tab_rules:
    rules, problems = alerts.list_rules(store)
    for p in problems:
        st.warning(p, icon=":material/warning:")
    if rules:
        st.dataframe(pd.DataFrame({
            "规则": [r.name for r in rules],
            "类型": [alerts.KINDS[r.kind] for r in rules],
            "启用": [r.enabled for r in rules],
            "内容": [alerts.rule_summary(r) for r in rules],
        }), hide_index=True, key="rules_table", column_config={"内容": st.column_config.TextColumn(width="large")})
    else:
        st.info("还没有预警规则。", icon=":material/rule:")

    if not auth.can(user, "edit_rules"):
        st.caption("只有管理员可以新增或修改预警规则。")
    else:
        by_id = {r.id: r for r in rules}
        choice = st.selectbox("编辑规则", [0] + list(by_id), key="rule_pick",
                              format_func=lambda i: "＋ 新建规则" if i == 0 else by_id[i].name)
        rule = by_id.get(choice)
        k = f"rule_{choice}_"
        kind = st.selectbox("规则类型", list(alerts.KINDS), format_func=alerts.KINDS.get, key=k + "kind",
                            index=list(alerts.KINDS).index(rule.kind) if rule else 0)
        p = dict(rule.params) if rule and rule.kind == kind else alerts.default_params(kind)
        d = (rule.delivery if rule else alerts.Delivery()).to_dict()
        with st.form(k + "form"):
            name = st.text_input("规则名称", value=rule.name if rule else "", key=k + "name")
            enabled = st.checkbox("启用", value=rule.enabled if rule else True, key=k + "enabled")
            params: dict = {}
            if kind == "negative_source":
                a, b, c = st.columns(3)
                params["min_weight"] = a.number_input("信息源权重 ≥", value=float(p["min_weight"]), step=0.1,
                                                      key=k + "min_weight")
                params["min_p_negative"] = b.number_input("负面概率 ≥", value=float(p["min_p_negative"]),
                                                          step=0.05, key=k + "min_p")
                params["lookback_minutes"] = c.number_input("回看（分钟）", value=int(p["lookback_minutes"]),
                                                            step=10, key=k + "lookback")
            elif kind == "spike":
                a, b, c = st.columns(3)
                params["count"] = a.number_input("负面条数 ≥", value=int(p["count"]), step=1, key=k + "count")
                params["minutes"] = b.number_input("时间窗（分钟）", value=int(p["minutes"]), step=10,
                                                   key=k + "minutes")
                params["group"] = c.selectbox("分组", list(alerts.GROUPS), format_func=alerts.GROUPS.get,
                                              index=list(alerts.GROUPS).index(p["group"]), key=k + "group")
                params["keywords"] = st.text_input("分组关键词（按关键词分组时用，逗号分隔）",
                                                   value="，".join(p["keywords"]), key=k + "keywords")
            elif kind == "watchword":
                params["words"] = st.text_area("关注词（逗号或换行分隔）", value="\n".join(p["words"]),
                                               key=k + "words")
                a, b = st.columns(2)
                params["negative_only"] = a.checkbox("只看负面信息", value=bool(p["negative_only"]),
                                                     key=k + "negative_only")
                params["lookback_minutes"] = b.number_input("回看（分钟）", value=int(p["lookback_minutes"]),
                                                            step=10, key=k + "lookback")
            else:
                a, b = st.columns(2)
                params["factor"] = a.number_input("超过采集间隔的倍数", value=float(p["factor"]), step=0.5,
                                                  key=k + "factor")
                params["min_minutes"] = b.number_input("至少（分钟）", value=int(p["min_minutes"]), step=30,
                                                       key=k + "min_minutes")
                params["sources"] = st.text_input("只看这些信息源（逗号分隔，留空为全部已启用的）",
                                                  value="，".join(p["sources"]), key=k + "sources")
            st.caption("发送")
            known = notify.channel_names(config)
            if known:
                chosen = st.multiselect("渠道（看板始终接收）", known, default=[c for c in d["channels"] if c in known],
                                        key=k + "channels", placeholder="选择发送渠道")
            else:
                chosen = []
                st.caption("尚未配置发送渠道（邮件或群机器人，见“发送渠道”），预警只在看板上显示。")
            a, b, c = st.columns(3)
            mode = a.radio("方式", list(alerts.MODES), format_func=alerts.MODES.get, horizontal=True,
                           index=list(alerts.MODES).index(d["mode"]), key=k + "mode")
            digest = b.number_input("汇总间隔（分钟）", value=int(d["digest_minutes"]), step=5, key=k + "digest")
            dedup = c.number_input("同一对象重复预警间隔（分钟）", value=int(d["dedup_minutes"]), step=60,
                                   key=k + "dedup")
            a, b = st.columns(2)
            hours = a.text_input("接收时段（北京时间，如 08:30-18:00，留空为全天）", value=d["hours"], key=k + "hours")
            weekends = b.checkbox("周末也发送", value=d["weekends"], key=k + "weekends")
            save = st.form_submit_button("保存规则", type="primary")
        if save:
            delivery = {"channels": chosen, "mode": mode, "digest_minutes": digest, "hours": hours,
                        "weekends": weekends, "dedup_minutes": dedup}
            try:
                parsed = alerts.parse_rule(name, kind, params, delivery, enabled, rule.id if rule else None,
                                           known_channels=set(known))
                with auth.writer(settings) as w:
                    saved = alerts.save_rule(w, parsed, actor=user, now=auth.now())
            except (alerts.RuleError, users.UserError) as e:
                st.error(f"未保存：{e}", icon=":material/error:")
            else:
                st.session_state["alerts_message"] = f"已保存规则「{saved.name}」。"
                st.rerun()
        if rule is not None and st.button("删除此规则", key=k + "remove", icon=":material/delete:"):
            with auth.writer(settings) as w:
                alerts.delete_rule(w, rule.id, actor=user, now=auth.now())
            st.session_state["alerts_message"] = f"已删除规则「{rule.name}」。"
            st.session_state.pop("rule_pick", None)
            st.rerun()

# -- channels -----------------------------------------------------------------------------------------
with tab_channels:
    if config_problem:
        st.error(f"通知配置有误（{config_problem}），目前只在看板上显示预警。", icon=":material/error:")
    st.dataframe(pd.DataFrame(notify.describe_channels(config)).rename(
        columns={"name": "渠道", "kind": "类型", "target": "发送到"}), hide_index=True, key="channels_table")
    st.caption("渠道在服务器的 config.local.toml 中配置，密码和机器人地址放在环境变量中（见 docs/operations.md）。")
    if auth.can(user, "test_send") and notify.channel_names(config):
        a, b = st.columns([3, 1], vertical_alignment="bottom")
        target = a.selectbox("测试发送到", notify.channel_names(config), key="test_channel")
        if b.button("发送测试消息", key="test_send", icon=":material/send:"):
            t = auth.now()
            with auth.writer(settings) as w:
                result = notify.test_send(w, config, target, t)
                users.audit(w, user, "alert.test_send", target, {"ok": result.ok, "error": result.error}, t)
            if result.ok:
                st.success(f"测试消息已发送到「{target}」。", icon=":material/check_circle:")
            else:
                st.error(f"发送失败：{result.error}", icon=":material/error:")
    st.subheader("发送记录")
    sent = alerts.deliveries(store, limit=100)
    if not sent:
        st.caption("还没有发送记录。")
    else:
        status = {"queued": "等待发送", "sending": "正在发送", "sent": "已发送", "failed": "失败（已放弃）"}
        st.dataframe(pd.DataFrame({
            "预警": [r["title"] for r in sent],
            "渠道": [r["channel"] for r in sent],
            "状态": [status.get(r["status"], r["status"]) + (" · 将重试" if r["status"] == "queued" and r["attempts"]
                                                              else "") for r in sent],
            "尝试次数": [r["attempts"] for r in sent],
            "计划时间": [notify.local_time(r["due_at"]) for r in sent],
            "最近错误": [r["last_error"] for r in sent],
        }), hide_index=True, key="deliveries_table")
