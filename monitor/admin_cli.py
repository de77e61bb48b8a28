"""Command line for accounts and alerts: `python -m monitor users …` and `python -m monitor alerts …`.

Wired into monitor/__main__.py with one call, `admin_cli.register(sub)`; also
runnable alone as `python -m monitor.admin_cli users add …`.

  users add NAME --role admin|editor|handler|viewer [--display-name TEXT] [--password-stdin]
  users list | passwd NAME [--password-stdin] | disable NAME | enable NAME | role NAME ROLE
  alerts evaluate [--json]        evaluate rules now and send what is due (what the collector does after a pass)
  alerts test-send CHANNEL        send a test message through one configured channel
  alerts list [--limit N]         recent alerts
  alerts rules                    stored rules
  alerts load-rules FILE          add or update rules from a TOML file (see data/alert_rules.example.toml)
  alerts channels                 configured channels (without secrets)

Every write is recorded in the audit log as `cli:<system user>`. Exit codes:
0 done, 2 bad input with a one-line reason on stderr.
"""
from __future__ import annotations

import argparse
import logging
import getpass
import json
import sys
import tomllib
from datetime import datetime, timezone
from pathlib import Path

from monitor.cli_parser import ChineseArgumentParser
from monitor import alert_store, alerts, notify, users
from monitor.cli import cli_actor, run_command
from monitor.settings import Settings
from monitor.store import Store, StoreError


class AdminCliError(ValueError):
    """Bad input from the command line; printed as one line, exit 2."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _store(args: argparse.Namespace, must_exist: bool = False) -> Store:
    settings = Settings.load(db=args.db)
    if must_exist and not settings.db_path.exists():
        raise AdminCliError(f"找不到数据库：{settings.db_path}")
    try:
        return Store(settings.db_path)
    except StoreError as e:
        raise AdminCliError(str(e)) from None


def _password(args: argparse.Namespace, username: str) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise AdminCliError("--password-stdin：标准输入中没有密码")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise AdminCliError("没有终端可以输入密码：请用 --password-stdin 从标准输入提供密码")
    first = getpass.getpass(f"{username} 的新密码：")
    if getpass.getpass("再输入一次：") != first:
        raise AdminCliError("两次输入的密码不一致")
    return first


def _refuse(e: users.UserError | alerts.RuleError) -> AdminCliError:
    return AdminCliError(str(e))


# -- users ------------------------------------------------------------------------------------

def cmd_users_add(args: argparse.Namespace) -> int:
    with _store(args) as store:
        try:
            users.check_username(args.username)
            users.check_role(args.role)
            pw = _password(args, args.username)
            u = users.add_user(store, args.username, pw, args.role, actor=cli_actor(), now=_now(),
                               display_name=args.display_name or "")
        except users.UserError as e:
            raise _refuse(e) from None
    print(f"已创建用户 {u.username}（{users.ROLE_LABELS[u.role]}）")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    with _store(args, must_exist=True) as store:        # a mistyped path must not report "no accounts"
        rows = users.list_users(store)
    if not rows:
        print("还没有任何账号：看板以本机单用户模式运行。创建第一个管理员：python -m monitor users add NAME --role admin")
        return 0
    for u in rows:
        print(f"{u.username}\t{u.role}\t{'启用' if u.active else '停用'}\t{u.display_name}")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    with _store(args, must_exist=True) as store:
        try:
            users.get_user(store, args.username)
            users.set_password(store, args.username, _password(args, args.username), actor=cli_actor(), now=_now())
        except users.UserError as e:
            raise _refuse(e) from None
    print(f"已修改 {args.username} 的密码")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with _store(args, must_exist=True) as store:
        try:
            users.set_active(store, args.username, active, actor=cli_actor(), now=_now())
        except users.UserError as e:
            raise _refuse(e) from None
    print(f"已{'启用' if active else '停用'} {args.username}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_users_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_users_role(args: argparse.Namespace) -> int:
    with _store(args, must_exist=True) as store:
        try:
            users.set_role(store, args.username, args.role, actor=cli_actor(), now=_now())
        except users.UserError as e:
            raise _refuse(e) from None
    print(f"{args.username} 的角色已改为 {users.ROLE_LABELS[args.role]}")
    return 0


# -- alerts ----------------------------------------------------------------------------------

def _config(args: argparse.Namespace) -> notify.NotifyConfig:
    try:
        return notify.NotifyConfig.load(path=args.config)
    except notify.NotifyConfigError as e:
        raise AdminCliError(str(e)) from None


def cmd_alerts_evaluate(args: argparse.Namespace) -> int:
    settings = Settings.load(db=args.db)
    cfg = _config(args)
    # every problem is printed below once; the service's log lines would say each twice here
    logging.getLogger("monitor.notify").setLevel(logging.ERROR)
    with _store(args, must_exist=True) as store:
        report = alerts.evaluate_and_notify(store, settings, _now(), config=cfg)
    for e in report.errors:
        print(f"提示：{e}", file=sys.stderr)
    if args.json:
        d = report.delivery
        print(json.dumps({"fired": report.fired, "suppressed": report.suppressed, "sent": d.sent,
                          "failed": d.failed, "gave_up": d.gave_up, "errors": report.errors}, ensure_ascii=False))
    else:
        print(report.summary())
    return 0


def cmd_alerts_test_send(args: argparse.Namespace) -> int:
    cfg = _config(args)
    with _store(args) as store:
        now = _now()
        result = notify.test_send(store, cfg, args.channel, now)
        users.audit(store, cli_actor(), "alert.test_send", args.channel, {"ok": result.ok, "error": result.error}, now)
    if not result.ok:
        raise AdminCliError(f"测试发送失败：{result.error}")
    print(f"测试消息已发送到「{args.channel}」")
    return 0


def cmd_alerts_list(args: argparse.Namespace) -> int:
    with _store(args, must_exist=True) as store:
        rows = alerts.recent_firings(store, limit=args.limit)
    for f in rows:
        ack = f"已确认({f['acknowledged_by']})" if f["acknowledged_at"] else "未确认"
        print(f"{f['id']}\t{notify.local_time(f['fired_at'])}\t{f['rule_name']}\t{ack}\t{f['title']}")
    if not rows:
        print("暂无预警")
    return 0


def cmd_alerts_rules(args: argparse.Namespace) -> int:
    with _store(args, must_exist=True) as store:
        rules, problems = alerts.list_rules(store)
    for r in rules:
        print(f"{r.id}\t{'启用' if r.enabled else '停用'}\t{r.name}\t{alerts.rule_summary(r)}")
    for p in problems:
        print(f"提示：{p}", file=sys.stderr)
    if not rules:
        print("还没有预警规则（在“预警”页添加，或 python -m monitor alerts load-rules data/alert_rules.example.toml）")
    return 0


def load_rules_file(path: Path, known_channels: set[str] | None = None) -> list[alerts.Rule]:
    """Every rule in a TOML file, all validated before any is stored. With `known_channels`, a rule that
    sends to a channel not configured is refused, as on the 预警 page (it would only fail at send time)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AdminCliError(f"找不到文件：{path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AdminCliError(f"{path}: 不是有效的 TOML：{e}") from None
    tables = doc.get("rules", [])
    if set(doc) - {"rules"} or not isinstance(tables, list):
        raise AdminCliError(f"{path}: 每条规则写成一个 [[rules]] 表")
    out = []
    for i, t in enumerate(tables, start=1):
        unknown = sorted(set(t) - {"name", "kind", "enabled", "params", "delivery"}) if isinstance(t, dict) else []
        if not isinstance(t, dict) or unknown:
            raise AdminCliError(f"{path}: 第 {i} 条规则：" + (f"不认识的键 {', '.join(map(str, unknown))}；"
                                                          if unknown else "")
                                + "可用的键：name, kind, enabled, params, delivery")
        try:
            out.append(alerts.parse_rule(t.get("name", ""), t.get("kind", ""), t.get("params"), t.get("delivery"),
                                         t.get("enabled", True), known_channels=known_channels))
        except alerts.RuleError as e:
            raise AdminCliError(f"{path}: 第 {i} 条规则（{t.get('name', '?')}）：{e}") from None
    return out


def cmd_alerts_load_rules(args: argparse.Namespace) -> int:
    rules = load_rules_file(Path(args.file), known_channels=set(notify.channel_names(_config(args))))
    with _store(args) as store:
        existing = {r["name"]: r["id"] for r in alert_store.list_rules(store)}
        now = _now()
        with store.atomic():
            for r in rules:
                alerts.save_rule(store, alerts.Rule(id=existing.get(r.name), name=r.name, kind=r.kind,
                                                    params=r.params, delivery=r.delivery, enabled=r.enabled),
                                 actor=cli_actor(), now=now)
    print(f"已载入 {len(rules)} 条规则（新增 {sum(r.name not in existing for r in rules)} 条）")
    return 0


def cmd_alerts_channels(args: argparse.Namespace) -> int:
    for c in notify.describe_channels(_config(args)):
        print(f"{c['name']}\t{c['kind']}\t{c['target']}")
    return 0


# -- wiring -------------------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `users` and `alerts` commands to `python -m monitor`."""
    def db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="SQLite file (default: $OPINION_DB or data/opinion.db)")
        return p

    def cfg(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", help="notification settings (default: $OPINION_CONFIG or config.local.toml)")
        return p

    u = subparsers.add_parser("users", help="accounts and roles")
    us = u.add_subparsers(dest="action", required=True)
    a = db(us.add_parser("add", help="create an account"))
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=users.ROLES)
    a.add_argument("--display-name", default="")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    a.set_defaults(func=cmd_users_add)
    db(us.add_parser("list", help="list accounts")).set_defaults(func=cmd_users_list)
    p = db(us.add_parser("passwd", help="set a new password"))
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_users_passwd)
    for name, fn in (("disable", cmd_users_disable), ("enable", cmd_users_enable)):
        x = db(us.add_parser(name, help=f"{name} an account"))
        x.add_argument("username")
        x.set_defaults(func=fn)
    r = db(us.add_parser("role", help="change an account's role"))
    r.add_argument("username")
    r.add_argument("role", choices=users.ROLES)
    r.set_defaults(func=cmd_users_role)

    al = subparsers.add_parser("alerts", help="alert rules, alerts and channels")
    als = al.add_subparsers(dest="action", required=True)
    e = cfg(db(als.add_parser("evaluate", help="evaluate rules now and send what is due")))
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_alerts_evaluate)
    t = cfg(db(als.add_parser("test-send", help="send a test message through one channel")))
    t.add_argument("channel")
    t.set_defaults(func=cmd_alerts_test_send)
    ls = db(als.add_parser("list", help="recent alerts"))
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_alerts_list)
    db(als.add_parser("rules", help="stored rules")).set_defaults(func=cmd_alerts_rules)
    lr = cfg(db(als.add_parser("load-rules", help="add or update rules from a TOML file")))
    lr.add_argument("file")
    lr.set_defaults(func=cmd_alerts_load_rules)
    cfg(als.add_parser("channels", help="configured channels")).set_defaults(func=cmd_alerts_channels)


def main(argv: list[str] | None = None) -> int:
    parser = ChineseArgumentParser(prog="python -m monitor", description="账号与预警")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return run_command(args.func, args)
    except ValueError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
