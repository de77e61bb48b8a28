"""Model versions: the model in use, the one it replaced, and how they compare.

`python -m sentiment train` keeps the model it replaces in `previous/` beside it and scores both on
the same rows (the held-out split and the fresh file), so whoever retrains with staff corrections
sees at once whether the new model is better, and `python -m sentiment rollback` puts the previous
one back (run it again to undo). A running collector or dashboard picks up the swapped file on its
next judgement (`sentiment.judge.load_judge`); items already stored keep their judgement until
`python -m monitor rejudge`.

One level of undo is kept: the office's first model is also in git.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sentiment.model import CARD_FILE, MODEL_FILE, MODELS_DIR

PREVIOUS = "previous"
FILES = (MODEL_FILE.name, CARD_FILE.name)

# How far a figure moves between retrains of the same code and data that differ only in the fold
# seed (docs/judgement.md, six-seed table): a change within this is noise, not better or worse.
NOISE = {"f1": 0.02, "accuracy": 0.01, "average_precision": 0.01, "polarity_macro_f1": 0.02,
         "topic_accuracy": 0.01, "ip_type_accuracy": 0.02}
# Figures a verdict reads, per set; higher is better for all of them.
VERDICT_FIGURES = ("f1", "accuracy", "average_precision")
SETS = ("heldout", "fresh")
BETTER_MEAN = 0.5


class VersionError(Exception):
    """No previous model to go back to, or a model file that cannot be read."""


def models_dir(model_dir: Path | None = None) -> Path:
    """`model_dir`, or the directory the product loads its model from (looked up at call time)."""
    return Path(model_dir) if model_dir is not None else MODELS_DIR


def previous_dir(model_dir: Path | None = None) -> Path:
    return models_dir(model_dir) / PREVIOUS


def keep_previous(model_dir: Path | None = None) -> bool:
    """Copy the model in `model_dir` (and its card) to `previous/` before it is replaced.
    False when there is no model yet."""
    model_dir = models_dir(model_dir)
    if not (model_dir / MODEL_FILE.name).exists():
        return False
    prev = previous_dir(model_dir)
    prev.mkdir(exist_ok=True)
    for name in FILES:
        src = model_dir / name
        if src.exists():
            tmp = prev / (name + ".tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, prev / name)
        else:
            (prev / name).unlink(missing_ok=True)
    return True


def rollback(model_dir: Path | None = None) -> dict:
    """Swap the model in use with the previous one; returns the card of the model now in use."""
    model_dir = models_dir(model_dir)
    prev = previous_dir(model_dir)
    if not (prev / MODEL_FILE.name).exists():
        raise VersionError(f"no previous model in {prev}: nothing to roll back to")
    # The card first, the model last: a process reloading mid-swap sees the old or the new model
    # file whole (each os.replace is atomic), never a half-written one.
    for name in (CARD_FILE.name, MODEL_FILE.name):
        cur, old, tmp = model_dir / name, prev / name, model_dir / (name + ".swap")
        if old.exists() and cur.exists():
            os.replace(cur, tmp)
            os.replace(old, cur)
            os.replace(tmp, old)
        elif old.exists():
            os.replace(old, cur)
        elif cur.exists():
            os.replace(cur, old)
    return read_card(model_dir) or {}


def read_card(model_dir: Path | None = None) -> dict | None:
    path = models_dir(model_dir) / CARD_FILE.name
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise VersionError(f"cannot read model card {path}: {e}") from e


def figures(report: dict | None) -> dict:
    """The figures staff read from a quality report (no confusion matrix)."""
    return {k: v for k, v in (report or {}).items() if k not in ("confusion", "file")}


def compare(new: dict, old: dict) -> dict:
    """Compare two models' reports on the same rows: {"rows": [...], "verdict": better|same|worse}.

    `new` and `old` map set name ("heldout", "fresh") to a report. A figure is better or worse only
    when it moves by more than NOISE. The verdict reads F1, accuracy and average precision on both
    sets: worse when any of them falls beyond its noise; better only when, measured in units of
    their noise, they rise on average by more than BETTER_MEAN (one figure just over its noise while
    the others slip is not an improvement); otherwise the same."""
    rows, worse, moves = [], False, []
    for name in SETS:
        a, b = figures(old.get(name)), figures(new.get(name))
        for k in NOISE:
            if k not in a or k not in b or a[k] is None or b[k] is None:
                continue
            delta = round(b[k] - a[k], 4)
            moved = "better" if delta > NOISE[k] else "worse" if delta < -NOISE[k] else "same"
            rows.append({"set": name, "figure": k, "previous": a[k], "new": b[k], "delta": delta, "change": moved})
            if k in VERDICT_FIGURES:
                worse |= moved == "worse"
                moves.append(delta / NOISE[k])
    better = bool(moves) and sum(moves) / len(moves) > BETTER_MEAN
    verdict = "worse" if worse else "better" if better else "same"
    return {"rows": rows, "verdict": verdict}


def summary(card: dict | None) -> dict | None:
    if not card:
        return None
    data = card.get("data", {})
    corr = data.get("corrections", {})
    return {"trained_at": card.get("trained_at"), "examples": data.get("total"), "train": data.get("train"),
            "corrections_used": int(corr.get("overrides", 0)) + int(corr.get("new_items", 0)),
            "threshold": (card.get("stacker") or {}).get("threshold") or card.get("threshold"),
            "heldout": figures(card.get("heldout")), "fresh": figures(card.get("fresh"))}


def status(corrections: list[dict], model_dir: Path | None = None) -> dict:
    """What staff and the admin need before deciding to retrain: the model in use, the previous one,
    how they compared when the current one was trained, and the corrections it has not learnt yet."""
    model_dir = models_dir(model_dir)
    card = read_card(model_dir)
    try:
        prev = read_card(previous_dir(model_dir))
    except VersionError:
        prev = None
    waiting = since_training(corrections, card)
    return {
        "model_file": str(model_dir / MODEL_FILE.name),
        "current": summary(card),
        "previous": summary(prev),
        "comparison": comparison(card),
        "corrections": {"total": len(corrections), "since_training": len(waiting),
                        "by_field": _count_by(waiting),
                        "latest_at": max((str(c.get("created_at", "")) for c in corrections), default=None)},
    }


def comparison(card: dict | None) -> dict | None:
    """How the model of `card` compared, when it was trained, with the model it replaced (None if none)."""
    at_train = (card or {}).get("previous")
    if not at_train:
        return None
    return {"previous_trained_at": at_train.get("trained_at"), **compare({s: card.get(s) for s in SETS}, at_train)}


def since_training(corrections: list[dict], card: dict | None) -> list[dict]:
    """The corrections made after the model of `card` (or its summary) was trained."""
    trained_at = (card or {}).get("trained_at") or ""
    # Both sides are UTC ISO 8601 text with +00:00, so text order is time order.
    return [c for c in corrections if str(c.get("created_at", "")) > trained_at]


def _count_by(rows: list[dict]) -> dict[str, int]:
    """Corrections by field; items confirmed through 负面处置 (source "handling") as "confirmed"."""
    out: dict[str, int] = {}
    for r in rows:
        k = "confirmed" if r.get("source") == "handling" else str(r.get("field"))
        out[k] = out.get(k, 0) + 1
    return out
