"""Plain metric functions over label lists (no scikit-learn needed to evaluate)."""
from __future__ import annotations


def binary_report(gold: list[bool], pred: list[bool]) -> dict:
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum((not g) and p for g, p in zip(gold, pred))
    fn = sum(g and (not p) for g, p in zip(gold, pred))
    tn = sum((not g) and (not p) for g, p in zip(gold, pred))
    n = len(gold)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    # F1 of the non-negative class, for macro-F1.
    p0 = tn / (tn + fn) if tn + fn else 0.0
    r0 = tn / (tn + fp) if tn + fp else 0.0
    f0 = 2 * p0 * r0 / (p0 + r0) if p0 + r0 else 0.0
    return {"n": n, "accuracy": (tp + tn) / n if n else 0.0, "precision": prec, "recall": rec, "f1": f1,
            "macro_f1": (f1 + f0) / 2, "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn}}


def macro_f1(gold: list[str], pred: list[str], classes: tuple[str, ...] | None = None) -> float:
    classes = classes or tuple(sorted(set(gold)))
    scores = []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(gold: list, pred: list) -> float:
    return sum(g == p for g, p in zip(gold, pred)) / len(gold) if gold else 0.0


def brier(gold: list[bool], p: list[float]) -> float:
    return sum((float(g) - q) ** 2 for g, q in zip(gold, p)) / len(gold) if gold else 0.0


def average_precision(gold: list[bool], p: list[float]) -> float | None:
    """Area under the precision-recall steps of `p` ranked high to low (scikit-learn's definition:
    tied scores form one step). It judges the ranking alone, not where the flag's threshold fell, so it
    is the fairer way to compare two trained models (docs/judgement.md: the threshold moves ±0.02 F1)."""
    positives = sum(gold)
    if not positives:
        return None
    pairs = sorted(zip(p, gold), key=lambda x: -x[0])
    ap, tp, seen, i = 0.0, 0, 0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        hits = sum(g for _, g in pairs[i:j])
        tp, seen = tp + hits, seen + (j - i)
        ap += hits / positives * (tp / seen)
        i = j
    return ap
