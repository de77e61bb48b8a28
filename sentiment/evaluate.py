"""Evaluation of the judge (and of plain SnowNLP, side by side) on labelled JSON Lines.

Input rows: `text` and `label` ("negative" | "non-negative"); optional `title`,
`polarity3`, `topic` ("ip" | "off"), `ip_type` (English code as in the team's
files, or the Chinese name), `publicity` (bool).

Enforcement-publicity items (the office's own good news, which must not be
flagged) are identified from the data, never from the model: a row's
`publicity` field when present; otherwise a non-negative, on-topic row whose
`polarity3` is "positive" (publicity and achievements, by the labelling rule)
or whose text contains an enforcement-action phrase (ENFORCEMENT below).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from sentiment.dataset import Example, from_row
from sentiment.judge import Judge
from sentiment.judgement import REVIEW_P, is_suspect
from sentiment.metrics import accuracy, average_precision, binary_report, brier, macro_f1

POLARITIES = ("negative", "neutral", "positive")
ENFORCEMENT = re.compile(r"查处|查获|查獲|查處|捣毁|搗毀|破获|破獲|侦破|偵破|抓获|抓獲|判处|判處|判赔|判賠|获赔|獲賠|"
                         r"罚款|罰款|没收|沒收|典型案例|宣传周|宣傳周|专项行动|專項行動|严厉打击|嚴厲打擊|有期徒刑|查扣|移送")


class EvalDataError(ValueError):
    """The evaluation file cannot be used (missing labels, unreadable lines)."""


def read_eval(path: Path) -> list[tuple[Example, dict]]:
    rows = []
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise EvalDataError(f"{path}: line {n}: invalid UTF-8") from None
            if not line:
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise EvalDataError(f"{path}: line {n}: not JSON ({e})") from None
            if not isinstance(row, dict) or row.get("label") not in ("negative", "non-negative") \
                    or not isinstance(row.get("text"), str):
                raise EvalDataError(f"{path}: line {n}: needs string 'text' and label negative|non-negative")
            rows.append((from_row(row, path.name), row))
    if not rows:
        raise EvalDataError(f"{path}: no labelled rows")
    return rows


def is_publicity(ex: Example, row: dict) -> bool:
    if isinstance(row.get("publicity"), bool):
        return row["publicity"]
    if ex.negative or ex.topic == "off":
        return False
    return ex.polarity3 == "positive" or bool(ENFORCEMENT.search(ex.title + ex.text))


def _scores(examples: list[Example], rows: list[dict], neg: list[bool], p: list[float],
            polarity: list[str] | None, topic: list[str] | None, ip_type: list[str] | None) -> dict:
    gold = [e.negative for e in examples]
    out = binary_report(gold, neg)
    out["brier"] = brier(gold, p)
    out["average_precision"] = average_precision(gold, p)
    pub = [i for i, (e, r) in enumerate(zip(examples, rows)) if is_publicity(e, r)]
    out["publicity_items"] = len(pub)
    out["publicity_fp_rate"] = sum(neg[i] for i in pub) / len(pub) if pub else None
    off = [i for i, e in enumerate(examples) if e.topic == "off"]
    out["off_topic_items"] = len(off)
    out["off_topic_flagged"] = sum(neg[i] for i in off)
    # The 疑似负面 band staff can list beside the flagged items: how many, how many truly negative, and
    # the negative recall when they are counted too.
    band = [i for i in range(len(examples)) if is_suspect(neg[i], p[i])]
    out["suspect_items"] = len(band)
    out["suspect_negative"] = sum(gold[i] for i in band)
    out["recall_with_suspect"] = (out["confusion"]["tp"] + out["suspect_negative"]) / sum(gold) if any(gold) else None
    if polarity is not None:
        idx = [i for i, e in enumerate(examples) if e.polarity3 in POLARITIES]
        out["polarity_macro_f1"] = macro_f1([examples[i].polarity3 for i in idx], [polarity[i] for i in idx],
                                            POLARITIES) if idx else None
    if topic is not None:
        idx = [i for i, e in enumerate(examples) if e.topic in ("ip", "off")]
        out["topic_accuracy"] = accuracy([examples[i].topic for i in idx], [topic[i] for i in idx]) if idx else None
    if ip_type is not None:
        idx = [i for i, e in enumerate(examples)
               if e.ip_type and e.ip_type not in ("mixed", "其他") and e.topic != "off"]
        out["ip_type_items"] = len(idx)
        out["ip_type_accuracy"] = accuracy([examples[i].ip_type for i in idx],
                                           [ip_type[i] for i in idx]) if idx else None
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def evaluate_judge(judge: Judge, examples: list[Example], rows: list[dict]) -> dict:
    js = [judge.judge(e.title, e.text) for e in examples]
    return _scores(examples, rows, [j.negative for j in js], [j.p_negative for j in js],
                   [j.polarity for j in js], [j.topic for j in js], [j.ip_type for j in js])


def evaluate_snownlp(examples: list[Example], rows: list[dict]) -> dict:
    """Plain SnowNLP: negative when sentiments < 0.5; polarity by thirds; no topic, no IP type."""
    from snownlp import SnowNLP

    s = []
    for e in examples:
        text = (e.title + " " + e.text).strip()
        s.append(SnowNLP(text).sentiments if text else 0.5)
    neg = [x < 0.5 for x in s]
    pol = ["negative" if x < 1 / 3 else "positive" if x > 2 / 3 else "neutral" for x in s]
    return _scores(examples, rows, neg, [1 - x for x in s], pol, None, None)


def evaluate(path: Path, judge: Judge, baseline: bool = True) -> dict:
    pairs = read_eval(path)
    examples = [e for e, _ in pairs]
    rows = [r for _, r in pairs]
    out = {"data": str(path), "n": len(examples), "model": evaluate_judge(judge, examples, rows)}
    if baseline:
        out["snownlp"] = evaluate_snownlp(examples, rows)
    out["publicity_definition"] = ("row['publicity'] if given, else non-negative on-topic rows with "
                                   "polarity3 == positive or an enforcement phrase (查处/查获/判赔/典型案例/宣传周 ...)")
    return out


ROWS = (("accuracy", "accuracy"), ("precision", "negative precision"), ("recall", "negative recall"),
        ("f1", "negative F1"), ("macro_f1", "macro-F1"), ("brier", "Brier (p_negative)"),
        ("average_precision", "avg precision (p_neg)"),
        ("publicity_fp_rate", "publicity FP rate"), ("off_topic_flagged", "off-topic flagged"),
        ("polarity_macro_f1", "polarity3 macro-F1"), ("topic_accuracy", "topic accuracy"),
        ("ip_type_accuracy", "IP-type accuracy"))


def format_table(result: dict) -> str:
    cols = [k for k in ("model", "snownlp") if k in result]
    lines = [f"data: {result['data']}  (n={result['n']})", f"{'metric':<22}" + "".join(f"{c:>12}" for c in cols)]
    for key, name in ROWS:
        cells = []
        for c in cols:
            v = result[c].get(key)
            cells.append(f"{'n/a':>12}" if v is None else f"{v:>12.4f}" if isinstance(v, float) else f"{v:>12}")
        lines.append(f"{name:<22}" + "".join(cells))
    m = result["model"]
    lines.append(f"publicity items: {m['publicity_items']}; off-topic items: {m['off_topic_items']}; "
                 f"single-type IP items: {m.get('ip_type_items', 0)}")
    if m.get("recall_with_suspect") is not None:
        lines.append(f"suspect band (model, not flagged, p_negative >= {REVIEW_P}): {m['suspect_items']} items, "
                     f"{m['suspect_negative']} negative; negative recall counting them "
                     f"{m['recall_with_suspect']:.4f}")
    for c in cols:
        cm = result[c]["confusion"]
        lines.append(f"confusion ({c}): gold neg -> flagged {cm['tp']}, missed {cm['fn']}; "
                     f"gold non-neg -> flagged {cm['fp']}, passed {cm['tn']}")
    lines.append("publicity = " + result["publicity_definition"])
    return "\n".join(lines)
