"""Where the separate evaluation set sits between our yardsticks, read off the naive baseline.

IP_OPINION.md reports one model on the set the judgement will be checked on: a character 1-3-gram
TF-IDF + logistic regression trained on the dev file's 441 rows reaches negative F1 about 0.74 and
accuracy about 0.80 there (0.63 / 0.74 trained on its first 134 rows). This script trains that naive model
in a few plausible settings and scores it on our two yardsticks:

- the reference rows (the dev file's 96 held-out rows, labelled by the rule's authors; naive model trained
  on the other 345 dev rows);
- the fresh rows (2,205 items gathered after the judge was built; naive model trained on all 441 dev rows).

Where the naive model's published figure falls between its two yardstick figures (a fraction t) is read
as where the separate set sits in difficulty, and the committed judge's two yardstick figures are
interpolated at the same t. It assumes difficulty moves both models alike: a rough estimate, not a
measurement. N441 (the naive model trained on all dev rows, extension included) is the anchor that fits the
judge, which has seen the extension's themes; N134 shows where the check set sits for a model that has not. Run from the repository root: python docs/experiments/unseen_estimate/estimate.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from sentiment import dataset, load_judge  # noqa: E402
from sentiment.evaluate import evaluate_judge  # noqa: E402

LABELLED = ROOT / "data" / "labelled"
# IP_OPINION.md, "What more data buys": the naive model on the separate evaluation set.
PUBLISHED = {"N441": {"f1": 0.74, "accuracy": 0.80}, "N134": {"f1": 0.63, "accuracy": 0.74}}
SETTINGS = [(1.0, "balanced"), (10.0, "balanced"), (10.0, None), (100.0, None)]


def rows(name: str) -> list[dict]:
    with open(LABELLED / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def naive(train: list[dict], C: float, cw):
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    X = vec.fit_transform([r["text"] for r in train])
    clf = LogisticRegression(C=C, class_weight=cw, max_iter=3000).fit(X, gold(train))
    return lambda rs: clf.predict(vec.transform([r["text"] for r in rs]))


def gold(rs: list[dict]) -> np.ndarray:
    return np.array([r["label"] == "negative" for r in rs], dtype=int)


def scores(rs: list[dict], pred) -> dict:
    return {"f1": f1_score(gold(rs), pred), "accuracy": accuracy_score(gold(rs), pred)}


def judge_scores(rs: list[dict]) -> dict:
    examples = [dataset.from_row(r, "estimate") for r in rs]
    m = evaluate_judge(load_judge(), examples, rs)
    return {"f1": m["f1"], "accuracy": m["accuracy"]}


def main() -> None:
    dev, fresh = rows("ip_opinion_dev.jsonl"), rows("ip_opinion_fresh.jsonl")
    reference = [r for r in dev if dataset.is_heldout(r["id"])]
    # (training rows for the reference yardstick, for the fresh yardstick) per published anchor
    first = [r for r in dev if int(r["id"].split("-")[1]) <= 160]
    train_sets = {"N441": ([r for r in dev if not dataset.is_heldout(r["id"])], dev),
                  "N134": ([r for r in first if not dataset.is_heldout(r["id"])], first)}
    judge = {"reference": judge_scores(reference), "fresh": judge_scores(fresh)}
    print(f"judge: reference {fmt(judge['reference'])}; fresh {fmt(judge['fresh'])}")
    estimates = []
    for anchor, (for_ref, for_fresh) in train_sets.items():
        for C, cw in SETTINGS:
            ref = scores(reference, naive(for_ref, C, cw)(reference))
            fr = scores(fresh, naive(for_fresh, C, cw)(fresh))
            line = [f"{anchor} naive C={C:g} {cw or 'unweighted'}: reference {fmt(ref)}; fresh {fmt(fr)}; "
                    f"published {fmt(PUBLISHED[anchor])}"]
            for k in ("f1", "accuracy"):
                t = (PUBLISHED[anchor][k] - fr[k]) / (ref[k] - fr[k])
                est = judge["fresh"][k] + t * (judge["reference"][k] - judge["fresh"][k])
                estimates.append((anchor, k, t, est))
                line.append(f"  {k}: t = {t:.2f} -> judge about {est:.3f}")
            print("\n".join(line))
    for anchor in train_sets:
        for k in ("f1", "accuracy"):
            e = [x[3] for x in estimates if x[0] == anchor and x[1] == k and -0.1 <= x[2] <= 1]
            if e:
                print(f"{anchor} {k}: judge on the check set, settings with t in [-0.1, 1]: {min(e):.3f}-{max(e):.3f}")


def fmt(m: dict) -> str:
    return f"F1 {m['f1']:.3f} acc {m['accuracy']:.3f}"


if __name__ == "__main__":
    main()
