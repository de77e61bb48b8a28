"""python -m casebook import | check | list | show | edit | move | flag | discover | coverage | release

Exit codes: 0 done; 1 done but some input lines were malformed (reported on stderr
with their line numbers); 2 nothing done (bad arguments, unknown case, refused move).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from monitor.cli_parser import ChineseArgumentParser
from casebook import deidentify
from casebook.amounts import describe
from casebook.coverage import balance, coverage
from casebook.discovery import discover
from casebook.models import DETAIL_LEVELS, FIELD_LABELS, STATES, channel_label, gap_labels, ip_label, normalise_channel, \
    normalise_ip_type, source_line, state_label
from casebook.publication import ReleaseError, write_release
from casebook.seed import import_file, scrub_record
from casebook.workflow import FLAG_STATUS, MOVES, ROLES, WorkflowError, decide_flag, edit_case, history, move
from monitor.case_store import CaseStore
from monitor.queries import beijing_today
from monitor.cli import run_command
from monitor.settings import Settings
from monitor.store import Store, StoreError

CHECK_FIELDS = ("title", "headline", "parties", "gist", "summary", "facts", "outcome", "significance")


def _open(args, must_exist: bool = False) -> Store:
    """The store; commands that only read it refuse a path with no database (a typo must not answer
    "no cases" from a new empty file)."""
    path = Settings.load(db=args.db).db_path
    if must_exist and not path.exists():
        raise StoreError(f"找不到数据库：{path}")
    return Store(path)


def _fail(msg: str) -> int:
    print(f"错误: {msg}", file=sys.stderr)
    return 2


def cmd_import(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"文件不存在: {path}")
    with _open(args) as store:
        report = import_file(store, path, actor=args.actor)
    for err in report.errors:
        print(err, file=sys.stderr)
    print(f"导入 {len(report.added)} 件（其中线索 {len(report.as_clue)} 件），已存在 {len(report.present)} 件，"
          f"错误 {len(report.errors)} 行")
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    return 1 if report.errors else 0


def cmd_check(args) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"文件不存在: {path}")
    bad = 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8-sig" if n == 1 else "utf-8")
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise ValueError("不是 JSON 对象")
                rec = scrub_record(rec)
            except UnicodeDecodeError as e:
                print(f"第{n}行: 不是 UTF-8 编码（第 {e.start} 字节）", file=sys.stderr)
                bad += 1
                continue
            except ValueError as e:
                print(f"第{n}行: {e}", file=sys.stderr)
                bad += 1
                continue
            rid = str(rec.get("id") or f"line-{n}")
            for field in CHECK_FIELDS:
                if isinstance(rec.get(field), str):
                    for flag in deidentify.scan_text(rec[field], field):
                        print(json.dumps({"id": rid, "field": field, "text": flag.text,
                                          "suggestion": flag.suggestion, "kind": flag.kind},
                                         ensure_ascii=False))
    return 1 if bad else 0


def _filters(args) -> dict:
    return {"text": args.q or "", "states": [args.state] if args.state else [],
            "ip_type": normalise_ip_type(args.ip_type or ""), "channel": normalise_channel(args.channel or ""),
            "region": args.region or "", "year": args.year}


def cmd_list(args) -> int:
    try:
        filters = _filters(args)
    except ValueError as e:
        return _fail(str(e))
    with _open(args, must_exist=True) as store:
        cases = CaseStore(store).search(**filters)
    for c in cases:
        if args.json:
            print(json.dumps(c, ensure_ascii=False))
        else:
            print(f"{c['id']}\tv{c['rev']}\t{state_label(c['state'])}\t{c['year'] or ''}\t{ip_label(c['ip_type'])}"
                  f"\t{channel_label(c['channel'])}\t{c['region']}\t{c['title']}")
    if not args.json:
        print(f"共 {len(cases)} 件", file=sys.stderr)
    return 0


def cmd_show(args) -> int:
    with _open(args, must_exist=True) as store:
        cs = CaseStore(store)
        case = cs.get(args.id)
        if case is None:
            return _fail(f"案例 {args.id} 不存在")
        flags = cs.flags(case["id"], case["rev"])
        events = cs.events(case["id"])
        shown = history(cs, case["id"])
        items = cs.linked_items(case["id"])
    if args.json:
        print(json.dumps({"case": case, "flags": flags, "history": events, "items": items}, ensure_ascii=False))
        return 0
    print(f"{case['id']}  第{case['rev']}版  {state_label(case['state'])}")
    for key, label in FIELD_LABELS.items():
        v = case.get(key)
        if key == "ip_type":
            v = ip_label(v)
        elif key == "channel":
            v = channel_label(v)
        elif key == "detail":
            v = DETAIL_LEVELS.get(v, v)
        elif key == "sources":
            v = "；".join(source_line(s) for s in v)
        elif key == "keywords":
            v = "、".join(v)
        print(f"{label}：{v if v not in (None, '') else '—'}")
    if case["amounts"]:
        print("金额/刑期：" + "；".join(describe(a) for a in case["amounts"]))
    if case["gaps"]:
        print("待补：" + "、".join(gap_labels(case["gaps"])))
    for f in flags:
        print(f"脱敏提示 #{f['id']} [{FLAG_STATUS.get(f['status'], f['status'])}] {FIELD_LABELS.get(f['field'], f['field'])}：{f['text']} → "
              f"{f['suggestion']}")
    for it in items:
        print(f"关联条目：{it['title']} {it['url']}")
    for e in shown:
        print(f"{e['时间']}  {e['操作人']}（{e['角色']}） {e['操作']} {e['从']}→{e['到']} {e['说明']}".rstrip())
    return 0


def cmd_edit(args) -> int:
    changes = {}
    for kv in args.set:
        key, sep, value = kv.partition("=")
        if not sep:
            return _fail(f"--set 需要 字段=值 的形式: {kv!r}")
        changes[key.strip()] = value
    with _open(args) as store:
        try:
            case = edit_case(store, args.id, changes, actor=args.actor, role=args.role, note=args.note or "")
        except (WorkflowError, ValueError) as e:
            return _fail(str(e))
    print(f"{case['id']} 第{case['rev']}版 {state_label(case['state'])}" +
          (f"；待补：{'、'.join(gap_labels(case['gaps']))}" if case["gaps"] else ""))
    return 0


def cmd_move(args) -> int:
    with _open(args) as store:
        try:
            case = move(store, args.id, args.action, actor=args.actor, role=args.role, note=args.note or "")
        except WorkflowError as e:
            return _fail(str(e))
    print(f"{case['id']} 第{case['rev']}版 → {state_label(case['state'])}")
    return 0


def cmd_flag(args) -> int:
    with _open(args) as store:
        try:
            flag = decide_flag(store, args.flag_id, args.decision, actor=args.actor, role="editor",
                               note=args.note or "")
        except WorkflowError as e:
            return _fail(str(e))
    print(f"脱敏提示 #{flag['id']}：{FLAG_STATUS.get(flag['status'], flag['status'])}")
    return 0


def cmd_discover(args) -> int:
    with _open(args) as store:
        try:
            found = discover(store, actor=args.actor, since=args.since, limit=args.limit, dry_run=args.dry_run)
        except ValueError as e:
            return _fail(str(e))
    for c in found:
        if args.json:
            print(json.dumps(c.as_dict(), ensure_ascii=False))
        else:
            print(f"{c.case_id or '-'}\t{'、'.join(c.matched)}\t{c.title}\t{c.url}")
    print(f"候选 {len(found)} 条" + ("（未写入）" if args.dry_run else "，已建为线索"), file=sys.stderr)
    return 0


def cmd_coverage(args) -> int:
    year = args.year or beijing_today().year
    with _open(args, must_exist=True) as store:
        cov = coverage(store, year)
    if args.json:
        print(json.dumps(cov.as_dict(), ensure_ascii=False))
        return 0
    rows = cov.matrix()
    cols = list(rows[0].keys())
    print("\t".join(cols))
    for r in rows:
        print("\t".join(str(r[c]) for c in cols))
    print(f"{year}年已通过/已发布案例 {cov.balance.total} 件；" + cov.balance.summary())
    print("尚无案例的类型：" + ("、".join(ip_label(i) for i in cov.missing_ip_types) or "无"))
    print("尚无案例的渠道：" + ("、".join(channel_label(c) for c in cov.missing_channels) or "无"))
    return 0


def cmd_release(args) -> int:
    try:
        issued = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        return _fail(f"日期格式应为 YYYY-MM-DD: {args.date!r}")
    preface = args.preface
    if args.preface_file:
        preface = Path(args.preface_file).read_text(encoding="utf-8")
    ids = [i for i in args.cases.replace("，", ",").split(",") if i.strip()]
    kw = {"title": args.title, "preface": preface, "draft": args.draft, "issued_on": issued, "actor": args.actor}
    if args.issuer:
        kw["issuer"] = args.issuer
    with _open(args) as store:
        try:
            result = write_release(store, ids, args.out, **kw)
        except ReleaseError as e:
            return _fail(str(e))
    kind = "征求意见稿" if args.draft else "正式发布"
    print(f"{kind}：{args.out}（{len(result.release.cases)} 件案例），网页版 {Path(args.out).with_suffix('.html')}")
    print("所选案例构成：" + balance(result.release.cases).summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = ChineseArgumentParser(prog="python -m casebook", description="典型案例库：导入、审核、脱敏、覆盖、编发")
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, help_):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--db", help="数据库文件（默认 OPINION_DB 或 data/opinion.db）")
        sp.set_defaults(fn=fn)
        return sp

    sp = add("import", cmd_import, "导入种子格式 JSONL")
    sp.add_argument("file")
    sp.add_argument("--actor", default="import")
    sp.add_argument("--json", action="store_true")

    sp = add("check", cmd_check, "脱敏检查 JSONL：每条提示一行 JSON")
    sp.add_argument("file")

    sp = add("list", cmd_list, "列出案例")
    sp.add_argument("--q", help="关键词")
    sp.add_argument("--state", choices=list(STATES))
    sp.add_argument("--ip-type")
    sp.add_argument("--channel")
    sp.add_argument("--region")
    sp.add_argument("--year", type=int)
    sp.add_argument("--json", action="store_true")

    sp = add("show", cmd_show, "查看一个案例")
    sp.add_argument("id")
    sp.add_argument("--json", action="store_true")

    sp = add("edit", cmd_edit, "修改字段（已发布案例生成新版本）")
    sp.add_argument("id")
    sp.add_argument("--set", action="append", default=[], metavar="字段=值")
    sp.add_argument("--actor", required=True)
    sp.add_argument("--role", default="editor", choices=list(ROLES))
    sp.add_argument("--note")

    sp = add("move", cmd_move, "流转：" + "，".join(f"{k}={m.label}" for k, m in MOVES.items()))
    sp.add_argument("id")
    sp.add_argument("action", choices=list(MOVES))
    sp.add_argument("--actor", required=True)
    sp.add_argument("--role", required=True, choices=list(ROLES))
    sp.add_argument("--note")

    sp = add("flag", cmd_flag, "处理脱敏提示：apply 采用建议 / waive 豁免（须说明理由）")
    sp.add_argument("flag_id", type=int)
    sp.add_argument("decision", choices=["apply", "waive"])
    sp.add_argument("--actor", required=True)
    sp.add_argument("--note")

    sp = add("discover", cmd_discover, "从舆情条目发现候选案例（建为线索）")
    sp.add_argument("--since", help="YYYY-MM-DD")
    sp.add_argument("--limit", type=int)
    sp.add_argument("--dry-run", action="store_true")
    sp.add_argument("--actor", default="discovery")
    sp.add_argument("--json", action="store_true")

    sp = add("coverage", cmd_coverage, "年度覆盖矩阵（类型×渠道×地区）")
    sp.add_argument("--year", type=int)
    sp.add_argument("--json", action="store_true")

    sp = add("release", cmd_release, "生成发布稿 .docx（另写 .md 与 .html）")
    sp.add_argument("--cases", required=True, help="案例编号，逗号分隔，按此顺序")
    sp.add_argument("--title", required=True)
    sp.add_argument("--out", required=True)
    sp.add_argument("--draft", action="store_true", help="征求意见稿：可含未审核案例，不发布")
    sp.add_argument("--preface", help="编者按（默认自动生成）")
    sp.add_argument("--preface-file")
    sp.add_argument("--issuer")
    sp.add_argument("--date", help="落款日期 YYYY-MM-DD（默认今天）")
    sp.add_argument("--actor", default="editor")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_command(args.fn, args)
    except StoreError as e:
        return _fail(str(e))


if __name__ == "__main__":
    sys.exit(main())
