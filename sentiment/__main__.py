"""python -m sentiment classify | train | evaluate | correct | status | rollback

classify  JSON Lines in, judged JSON Lines out (the issue-2 contract, plus topic and channel)
train     rebuild data/models/ from data/labelled/ and the store's staff corrections
evaluate  quality on a labelled file, the model and plain SnowNLP side by side
correct   record a staff correction of a stored item, with who and when (the item shows it at once)
status    the model in use, the one it replaced and the corrections it has not learnt yet (JSON)
rollback  put the previous model back (run again to undo); then `python -m monitor rejudge`
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from monitor.cli_parser import ChineseArgumentParser


def _classify(args) -> int:
    from sentiment.classify import classify_stream
    from sentiment.judge import load_judge
    from sentiment.model import ModelError

    try:
        judge = load_judge()
    except ModelError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    try:
        inp = open(args.inp, "rb") if args.inp else sys.stdin.buffer
    except OSError as e:
        print(f"错误：无法读取 {args.inp}：{e.strerror}", file=sys.stderr)
        return 2
    try:
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    except OSError as e:
        print(f"错误：无法写入 {args.out}：{e.strerror}", file=sys.stderr)
        return 2
    if out is sys.stdout and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        return classify_stream(inp, out, sys.stderr, judge)
    finally:
        if args.inp:
            inp.close()
        if args.out:
            out.close()


def _store_corrections(db: str | None) -> list[dict]:
    """Staff corrections from the store, and the items staff confirmed negative by taking them into
    负面处置 (the entry point may wire packages together)."""
    from monitor.handling_store import confirmations
    from monitor.settings import Settings
    from monitor.store import Store, StoreError

    path = Settings.load(db=db).db_path
    if not Path(path).exists():
        return []
    try:
        # Read-write open: it applies pending migrations, so an older file gains the corrections table.
        with Store(path) as store:
            return store.corrections() + confirmations(store)
    except StoreError as e:
        print(f"提示：未能读取 {path} 中的人工更正：{e}", file=sys.stderr)
        return []


def _train(args) -> int:
    from sentiment.train import train

    corrections = _store_corrections(args.db)
    data = [Path(p) for p in args.data] if args.data else None
    card = train(corrections=corrections, out_dir=Path(args.out) if args.out else None, data_paths=data,
                 log=lambda m: print(m, file=sys.stderr))
    out = {"cv": card["cv"], "heldout": card["heldout"], "fresh": card.get("fresh", {})}
    from sentiment.versions import comparison
    if cmp := comparison(card):
        out["comparison"] = cmp
    print(json.dumps(out, ensure_ascii=False))
    print("stored items keep their judgement until `python -m monitor rejudge`", file=sys.stderr)
    return 0


def _status(args) -> int:
    from sentiment.versions import VersionError, status

    try:
        print(json.dumps(status(_store_corrections(args.db)), ensure_ascii=False, indent=1))
    except VersionError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    return 0


def _rollback(args) -> int:
    from monitor.cli import cli_actor
    from monitor.judging import rollback_as
    from monitor.settings import Settings
    from monitor.store import Store, StoreError
    from sentiment.versions import VersionError, rollback

    path = Settings.load(db=args.db).db_path
    try:
        if Path(path).exists():             # recorded in the 操作日志, as a rollback from the 研判模型 page is
            with Store(path) as store:
                card = rollback_as(store, cli_actor())
        else:
            card = rollback()
    except (VersionError, OSError, StoreError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(json.dumps({"model_in_use": {"trained_at": card.get("trained_at")}}, ensure_ascii=False))
    print("已存条目仍是原模型的判定：请运行 python -m monitor rejudge 重新判定", file=sys.stderr)
    return 0


def _evaluate(args) -> int:
    from sentiment.evaluate import EvalDataError, evaluate, format_table
    from sentiment.judge import load_judge
    from sentiment.model import ModelError

    try:
        result = evaluate(Path(args.data), load_judge(), baseline=not args.no_snownlp)
    except (EvalDataError, ModelError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"错误：无法读取 {args.data}：{e.strerror}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_table(result))
    return 0


def _correct(args) -> int:
    from monitor.settings import Settings
    from monitor.store import Store, StoreError
    from monitor.users import audit, check_actor

    changes = [("negative", args.negative), ("ip_type", args.ip_type), ("topic", args.topic)]
    changes = [(f, v) for f, v in changes if v is not None]
    if not changes:
        print("错误：没有要更正的内容：请给出 --negative、--ip-type 或 --topic", file=sys.stderr)
        return 2
    path = Settings.load(db=args.db).db_path
    if not Path(path).exists():
        print(f"错误：找不到数据库：{path}", file=sys.stderr)
        return 2
    try:
        with Store(path) as store:
            check_actor(store, args.user)
            with store.atomic():            # each correction and its 操作日志 entry, all or nothing
                ids = [store.apply_correction(args.id, f, v, args.user, args.note or "") for f, v in changes]
                for f, v in changes:
                    audit(store, f"cli:{args.user}", "item.correct", args.id,
                          {"field": f, "value": v, "note": args.note or ""})
    except (KeyError, ValueError, StoreError) as e:
        print(f"错误：{e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    print(json.dumps({"item": args.id, "corrections": ids, "fields": dict(changes), "user": args.user},
                     ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = ChineseArgumentParser(prog="python -m sentiment", description="IP opinion judgement")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("classify", help="judge JSON Lines (stdin -> stdout by default)")
    c.add_argument("--in", dest="inp", metavar="FILE")
    c.add_argument("--out", metavar="FILE")
    c.set_defaults(func=_classify)
    t = sub.add_parser("train", help="rebuild data/models/ from the labelled data and staff corrections")
    t.add_argument("--db", metavar="PATH", help="store with staff corrections (default: OPINION_DB or data/opinion.db)")
    t.add_argument("--out", metavar="DIR", help="write the model here instead of data/models/")
    t.add_argument("--data", metavar="FILE", action="append",
                   help="labelled JSON Lines to train on (repeatable; default: data/labelled/)")
    t.set_defaults(func=_train)
    e = sub.add_parser("evaluate", help="quality on labelled JSON Lines, model vs plain SnowNLP")
    e.add_argument("--data", required=True, metavar="FILE.jsonl")
    e.add_argument("--json", action="store_true", help="one JSON object on stdout")
    e.add_argument("--no-snownlp", action="store_true", help="skip the (slow) SnowNLP baseline")
    e.set_defaults(func=_evaluate)
    k = sub.add_parser("correct", help="record a staff correction of one stored item (used by the next train)")
    k.add_argument("--db", metavar="PATH")
    k.add_argument("--id", type=int, required=True, help="items.id")
    k.add_argument("--negative", choices=("yes", "no"))
    k.add_argument("--ip-type", dest="ip_type", metavar="TYPE", help="商标, 专利, 著作权, ...")
    k.add_argument("--topic", choices=("ip", "off"))
    k.add_argument("--user", required=True)
    k.add_argument("--note", default="")
    k.set_defaults(func=_correct)
    st = sub.add_parser("status", help="the model in use, the previous one, corrections not yet learnt")
    st.add_argument("--db", metavar="PATH", help="store with staff corrections (default: OPINION_DB or data/opinion.db)")
    st.set_defaults(func=_status)
    r = sub.add_parser("rollback", help="put the model that the last train replaced back in use (again: undo)")
    r.add_argument("--db", metavar="PATH", help="store whose 操作日志 records it (default: OPINION_DB or data/opinion.db)")
    r.set_defaults(func=_rollback)
    args = ap.parse_args(argv)
    # The entry point may wire packages together: errors no command handles end as one line.
    from monitor.cli import run_command
    return run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
