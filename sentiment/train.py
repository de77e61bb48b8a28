"""Training the judge's linear heads (needs scikit-learn; judging does not).

`train()` analyses every labelled example with the same Analyzer the Judge uses,
fits three logistic-regression heads (negative on IP items, topic, 3-class
polarity), picks each regularisation strength by 5-fold cross-validation,
calibrates negative and topic with Platt scaling on the out-of-fold scores,
trains the second stage (sentiment/stacker.py) on those out-of-fold scores,
and writes data/models/judge_model.json plus model_card.json.
"""
from __future__ import annotations

import hashlib
import json
import platform
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from sentiment import dataset, versions
from sentiment.dataset import Example
from sentiment.features import CUE_SCALE, Analyzer, group_scales
from sentiment.judge import choose_ip_type, decide, flaggable, gate
from sentiment.lexicon import load_lexicon, make_tokenizer
from sentiment.evaluate import is_publicity
from sentiment.metrics import accuracy, average_precision, binary_report, brier, macro_f1
from sentiment.model import CARD_FILE, COLUMNS, LEARNED_TYPES, MODEL_FILE, LinearModel, ModelError, write_atomic
from sentiment.stacker import FEATURES as STACK_FEATURES, from_sklearn as stacker_from_sklearn, stack_features
from sentiment.snowsignal import SNOW_FILE, SnowSignal, export_snownlp_table, export_t2s_table
from sentiment.text import T2S_FILE

MIN_DF = 2
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
FOLDS = 5
C_TYPE = 10.0
PUBLICITY_FP_MAX = 0.04
SEED = 20261125
POLARITIES = ("negative", "neutral", "positive")
# Second stage (sentiment/stacker.py): 200 depth-3 trees at learning rate 0.05. Out-of-fold on 2,015
# items, four settings (depth 2-3, 100-200 trees) were within 0.01 F1 of each other.
STACK_DEPTH = 3
STACK_TREES = 200
STACK_RATE = 0.05
STACK_SEEDS = (0, 1, 2)
# Fewer flaggable items of either class than this (a tiny training set) and the trees are not trained.
STACK_MIN_CLASS = 30
# Added to the second stage's out-of-fold threshold. Out-of-fold rows share stories, themes and gatherers
# with the rows their folds were trained on, so their scores are surer than an unseen item's. On fresh
# items (ip_opinion_fresh.jsonl, gatherers a-d, read once for this) the out-of-fold threshold flagged too
# eagerly: +0.10 kept negative F1 and raised precision and accuracy, and gatherers e-g (not read) agreed
# (docs/judgement.md, "The flag's margin for unseen items"). What the margin drops stays in view in the
# 疑似负面 band (sentiment.judgement.REVIEW_P) below the flag.
UNSEEN_MARGIN = 0.10


def _stack_model() -> GradientBoostingClassifier:
    return GradientBoostingClassifier(max_depth=STACK_DEPTH, n_estimators=STACK_TREES, learning_rate=STACK_RATE,
                                      min_samples_leaf=20, random_state=SEED)


def _stack_oof(X: np.ndarray, y: np.ndarray, can: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """Out-of-fold P(negative) of the second stage, averaged over three fold assignments (one
    assignment moves the threshold pick by a few hundredths)."""
    p = np.zeros(len(y))
    for seed in STACK_SEEDS:
        skf = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED + seed)
        for tr, te in skf.split(np.zeros(len(y)), strata):
            trc = tr[can[tr]]
            p[te] += _stack_model().fit(X[trc], y[trc]).predict_proba(X[te])[:, 1] / len(STACK_SEEDS)
    return p


def stack_threshold(gold: list[bool], can: list[bool], p: list[float], pub: list[int]) -> float | None:
    """The second stage's out-of-fold threshold: half the best out-of-fold negative F1, raised if need be
    until the publicity FP rate (items `pub`) is within PUBLICITY_FP_MAX; None if no threshold keeps it.

    Why not the threshold where out-of-fold F1 peaks: the curve is flat near its top, so the peak lands
    anywhere between 0.27 and 0.57 from one fold seed to the next, and unseen F1 moved with it (six
    retrains, docs/judgement.md "The flag's threshold"). For calibrated probabilities (p_negative is) the
    F1-optimal threshold is half the best F1 (Lipton, Elkan & Naryanaswamy 2014), and the best F1 is
    steady from seed to seed.
    """
    grid = [round(float(t), 2) for t in np.arange(0.20, 0.801, 0.01)]
    best_f, allowed = 0.0, []
    for t in grid:
        pred = [c and q >= t for c, q in zip(can, p)]
        pub_fp = sum(pred[k] for k in pub) / len(pub) if pub else 0.0
        if pub_fp <= PUBLICITY_FP_MAX:
            allowed.append(t)
            best_f = max(best_f, binary_report(gold, pred)["f1"])
    if not allowed:
        return None
    return max(round(best_f / 2, 2), allowed[0])


def _vocab(feature_dicts: list[dict[str, float]]) -> list[str]:
    df = Counter(k for f in feature_dicts for k in f)
    return sorted(k for k, n in df.items() if k.startswith("x:") or n >= MIN_DF)


def _matrix(feature_dicts: list[dict[str, float]], index: dict[str, int]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for r, f in enumerate(feature_dicts):
        scale = group_scales(f, index)
        for k, v in f.items():
            i = index.get(k)
            if i is not None:
                rows.append(r)
                cols.append(i)
                vals.append(v * scale.get(k[0], CUE_SCALE))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(feature_dicts), len(index)))


def _lr(C: float, multi: bool = False, balanced: bool = False) -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=3000, solver="lbfgs", class_weight="balanced" if balanced else None)


def _fit_multi(X, y, C: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial head as (weights n_features x k, bias k), robust to classes absent from y.

    An absent class gets zero weights and a very low bias, so it is never chosen.
    """
    W = np.zeros((X.shape[1], k))
    b = np.full(k, -50.0)
    present = np.unique(y)
    if len(present) == 1:
        b[present[0]] = 0.0
        return W, b
    m = _lr(C, True).fit(X, y)
    if len(present) == 2:
        W[:, present[1]] = m.coef_[0]
        b[present[1]] = m.intercept_[0]
        b[present[0]] = 0.0
        return W, b
    for row, c in enumerate(m.classes_):
        W[:, c] = m.coef_[row]
        b[c] = m.intercept_[row]
    return W, b


def _oof(X, y, C: float, multi: bool = False, balanced: bool = False) -> np.ndarray:
    """Out-of-fold decision scores (n,) or (n, k)."""
    skf = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    out = np.zeros((X.shape[0], 3)) if multi else np.zeros(X.shape[0])
    for tr, te in skf.split(np.zeros(len(y)), y):
        if multi:
            W, b = _fit_multi(X[tr], y[tr], C, 3)
            out[te] = X[te] @ W + b
        else:
            out[te] = _lr(C, multi, balanced).fit(X[tr], y[tr]).decision_function(X[te])
    return out


def _pick_C(X, y, multi: bool = False, balanced: bool = False) -> tuple[float, dict]:
    scores = {}
    for C in C_GRID:
        z = _oof(X, y, C, multi, balanced)
        if multi:
            pred = z.argmax(axis=1)
            scores[C] = macro_f1(list(y), list(pred), tuple(range(3)))
        else:
            # Log loss of the raw scores: rewards separation and sane confidence together.
            p = 1 / (1 + np.exp(-z))
            scores[C] = -float(np.mean(-(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9))))
    best = max(scores, key=scores.get)
    return best, {str(k): round(v, 4) for k, v in scores.items()}


def _platt(z: np.ndarray, y: np.ndarray) -> list[float]:
    m = LogisticRegression(C=100.0).fit(z.reshape(-1, 1), y)
    return [round(float(m.coef_[0, 0]), 5), round(float(m.intercept_[0]), 5)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def train(corrections: list[dict] | None = None, out_dir: Path | None = None,
          data_paths: list[Path] | None = None, refresh_tables: bool = True, log=print,
          debug: dict | None = None) -> dict:
    out_dir = Path(out_dir) if out_dir else MODEL_FILE.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    if refresh_tables:
        try:
            export_snownlp_table(SNOW_FILE)
            export_t2s_table(T2S_FILE)
        except ImportError:
            log("snownlp not installed: keeping the committed SnowNLP and t2s tables")
    examples = dataset.load_examples(data_paths)
    examples, overridden, added = dataset.apply_corrections(examples, corrections or [])
    train_ex, test_ex = dataset.split(examples)
    log(f"examples: {len(examples)} (train {len(train_ex)}, held out {len(test_ex)}); "
        f"corrections: {overridden} overrides, {added} new")

    lex = load_lexicon()
    analyzer = Analyzer(make_tokenizer(lex), lex, SnowSignal.load(SNOW_FILE))
    analyses = [analyzer.analyze(e.title, e.text) for e in train_ex]
    feats = [a.features for a in analyses]
    vocab = _vocab(feats)
    index = {k: i for i, k in enumerate(vocab)}
    X = _matrix(feats, index)

    ip_mask = np.array([e.topic != "off" for e in train_ex])
    y_neg = np.array([e.negative for e in train_ex], dtype=int)
    y_topic = np.array([e.topic != "off" for e in train_ex], dtype=int)
    pol_of = {p: i for i, p in enumerate(POLARITIES)}
    pol_mask = np.array([e.polarity3 in pol_of for e in train_ex])
    y_pol = np.array([pol_of.get(e.polarity3, 1) for e in train_ex])

    type_of = {t: i for i, t in enumerate(LEARNED_TYPES)}
    type_mask = np.array([e.ip_type in type_of and e.topic != "off" for e in train_ex])
    y_type = np.array([type_of.get(e.ip_type, 0) for e in train_ex])

    C_neg, grid_neg = _pick_C(X[ip_mask], y_neg[ip_mask], balanced=True)
    C_top, grid_top = _pick_C(X, y_topic)
    C_pol, grid_pol = _pick_C(X[pol_mask], y_pol[pol_mask], multi=True)
    log(f"C: negative {C_neg} {grid_neg}; topic {C_top} {grid_top}; polarity {C_pol} {grid_pol}")

    # Out-of-fold scores for every train item, for calibration and the CV report.
    z = np.zeros((len(train_ex), len(COLUMNS)))
    skf = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    strata = y_neg * 2 + y_topic
    for tr, te in skf.split(np.zeros(len(strata)), strata):
        trn = tr[ip_mask[tr]]
        z[te, 0] = _lr(C_neg, balanced=True).fit(X[trn], y_neg[trn]).decision_function(X[te])
        z[te, 1] = _lr(C_top).fit(X[tr], y_topic[tr]).decision_function(X[te])
        trp = tr[pol_mask[tr]]
        Wp, bp = _fit_multi(X[trp], y_pol[trp], C_pol, 3)
        z[te, 2:5] = X[te] @ Wp + bp
        trt = tr[type_mask[tr]]
        Wt, bt = _fit_multi(X[trt], y_type[trt], C_TYPE, len(LEARNED_TYPES))
        z[te, 5:] = X[te] @ Wt + bt
    # The operating point (calibration and threshold) comes from rows drawn like the collected stream;
    # the hard-case file over-represents look-alikes on purpose and would shift both (docs/judgement.md).
    op = np.array([not e.hard_case for e in train_ex])
    if not op.any():
        op[:] = True
    platt = {"negative": _platt(z[ip_mask & op, 0], y_neg[ip_mask & op]), "topic": _platt(z[op, 1], y_topic[op])}

    gates = [gate(a) for a in analyses]
    probe = LinearModel(vocab, np.zeros((len(vocab), len(COLUMNS))), np.zeros(len(COLUMNS)), platt, 0.5)
    # Threshold: best out-of-fold negative F1 among those that keep the enforcement-publicity
    # false-positive rate within PUBLICITY_FP_MAX (staff must not be flooded by good news).
    op_idx = np.flatnonzero(op)
    gold_op = [bool(y_neg[i]) for i in op_idx]
    pub = [k for k, i in enumerate(op_idx) if is_publicity(train_ex[i], {})]
    best_t, best_f = 0.5, -1.0
    for t in np.arange(0.20, 0.801, 0.02):
        probe.threshold = float(t)
        pred = [decide(z[i], gates[i], probe)[0] for i in op_idx]
        f = binary_report(gold_op, pred)["f1"]
        pub_fp = sum(pred[k] for k in pub) / len(pub) if pub else 0.0
        if pub_fp <= PUBLICITY_FP_MAX and f > best_f + 1e-9:
            best_t, best_f = round(float(t), 2), f
    probe.threshold = best_t
    oof_first = [decide(z[i], gates[i], probe) for i in range(len(train_ex))]
    types = [choose_ip_type(a, z[i], probe)[0] for i, a in enumerate(analyses)]
    cv_first = report([oof_first[i] for i in op_idx], [train_ex[i] for i in op_idx], [types[i] for i in op_idx])

    # Second stage: boosted trees over the out-of-fold head scores and the lexicon counts, trained
    # on the items the gate lets through; its own out-of-fold probabilities pick its threshold.
    Xs = np.stack([stack_features(z[i], analyses[i], gates[i]) for i in range(len(train_ex))])
    can = np.array([flaggable(z[i], gates[i], probe) for i in range(len(train_ex))])
    best_s, p_stack = None, None
    if min(np.sum(y_neg[can] == 1), np.sum(y_neg[can] == 0)) >= STACK_MIN_CLASS:
        p_stack = _stack_oof(Xs, y_neg, can, strata)
        best_s = stack_threshold(gold_op, [bool(can[i]) for i in op_idx], [float(p_stack[i]) for i in op_idx], pub)
    if best_s is not None:
        gb = _stack_model().fit(Xs[can], y_neg[can])
        probe.stacker = stacker_from_sklearn(gb, STACK_DEPTH, round(best_s + UNSEEN_MARGIN, 2), Xs[can])
        oof = [decide(z[i], gates[i], probe, p_stack=float(p_stack[i])) for i in range(len(train_ex))]
    else:
        log("too few flaggable items of each class for the second stage: the first-stage rule decides")
        oof = oof_first
    cv = report(oof, train_ex, types)
    cv_op = report([oof[i] for i in op_idx], [train_ex[i] for i in op_idx], [types[i] for i in op_idx])
    if debug is not None:
        debug.update(oof=oof, train=train_ex, analyses=analyses, z=z, platt=platt, threshold=best_t,
                     stack_x=Xs, p_stack=p_stack, flaggable=can, stack_threshold=best_s)
    log(f"first-stage threshold {best_t:.2f}, without hard cases: "
        + json.dumps({k: v for k, v in cv_first.items() if k != 'confusion'}))
    log(f"second-stage threshold {best_s} out of fold, {probe.stacker.threshold_p if probe.stacker else None} "
        f"with the margin for unseen items; CV: " + json.dumps({k: v for k, v in cv.items() if k != 'confusion'}))
    log("CV without hard cases: " + json.dumps({k: v for k, v in cv_op.items() if k != 'confusion'}))

    m_neg = _lr(C_neg, balanced=True).fit(X[ip_mask], y_neg[ip_mask])
    m_top = _lr(C_top).fit(X, y_topic)
    Wp, bp = _fit_multi(X[pol_mask], y_pol[pol_mask], C_pol, 3)
    Wt, bt = _fit_multi(X[type_mask], y_type[type_mask], C_TYPE, len(LEARNED_TYPES))
    W = np.column_stack([m_neg.coef_[0], m_top.coef_[0], Wp, Wt])
    b = np.concatenate([m_neg.intercept_, m_top.intercept_, bp, bt])
    # Rows whose every weight is this small change no decision; dropping them keeps the file small.
    keep = np.abs(W).max(axis=1) >= 1e-3
    kept = [f for f, k in zip(vocab, keep) if k]
    model = LinearModel(kept, W[keep], b, platt, best_t, stacker=probe.stacker)
    model_path = out_dir / MODEL_FILE.name
    had_previous = versions.keep_previous(out_dir)
    model.save(model_path)

    # Held-out report through the real runtime path.
    from sentiment.judge import Judge
    judge = Judge(analyzer, LinearModel.load(model_path))
    held_j = [judge.judge(e.title, e.text) for e in test_ex]
    held = report_judgements(held_j, test_ex) if test_ex else {}
    log("held out: " + json.dumps({k: v for k, v in held.items() if k != 'confusion'}))
    by_file = {}
    for name in sorted({e.source for e in test_ex}):
        idx = [i for i, e in enumerate(test_ex) if e.source == name]
        by_file[name] = report_judgements([held_j[i] for i in idx], [test_ex[i] for i in idx])
        log(f"held out, {name}: " + json.dumps({k: v for k, v in by_file[name].items() if k != 'confusion'}))

    # Fresh items (gathered after the model was designed, never trained on): what unseen items get.
    fresh = {}
    fresh_path = dataset.FRESH_FILE
    if fresh_path.exists() and fresh_path.resolve() not in {Path(p).resolve() for p in (data_paths or [])}:
        fresh_ex = dataset.read_jsonl(fresh_path)
        fresh = report_judgements([judge.judge(e.title, e.text) for e in fresh_ex], fresh_ex)
        log(f"fresh items ({len(fresh_ex)}): " + json.dumps({k: v for k, v in fresh.items() if k != 'confusion'}))

    # The model this one replaces, scored now on the same rows: the honest before/after.
    previous = {}
    if had_previous:
        prev_dir = versions.previous_dir(out_dir)
        try:
            prev_judge = Judge(analyzer, LinearModel.load(prev_dir / MODEL_FILE.name))
            previous = {"trained_at": (versions.read_card(prev_dir) or {}).get("trained_at"),
                        "heldout": report_judgements([prev_judge.judge(e.title, e.text) for e in test_ex], test_ex)
                        if test_ex else {}}
            if fresh:
                previous["fresh"] = report_judgements([prev_judge.judge(e.title, e.text) for e in fresh_ex], fresh_ex)
        except (ModelError, versions.VersionError) as e:
            log(f"previous model not compared: {e}")
            previous = {}
    if previous:
        cmp = versions.compare({"heldout": held, "fresh": fresh}, previous)
        for r in cmp["rows"]:
            log(f"{r['set']:8} {r['figure']:18} previous {r['previous']:.4f}  new {r['new']:.4f}  "
                f"{r['delta']:+.4f} {r['change']}")
        log(f"compared with the previous model (trained {previous['trained_at']}) on the same rows: "
            f"{cmp['verdict']}" + ("; `python -m sentiment rollback` puts it back" if cmp["verdict"] == "worse" else ""))

    sources = {}
    for p in (data_paths or list(dataset.LABELLED_FILES)):
        if Path(p).exists():
            sources[Path(p).name] = {"rows": sum(1 for e in examples if e.source == Path(p).name),
                                     "sha256_16": _sha(Path(p))}
    card = {
        "model": MODEL_FILE.name, "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "data": {"sources": sources, "corrections": {"overrides": overridden, "new_items": added,
                                                      "from_handling": sum(1 for c in corrections or []
                                                                           if c.get("source") == "handling")},
                 "general_sets": "not used: in-domain items only (finance news made a naive model worse)",
                 "total": len(examples), "train": len(train_ex), "heldout": len(test_ex),
                 "train_labels": {f"{k[0]}/{k[1]}": n for k, n in Counter((e.label, e.topic) for e in train_ex).items()},
                 "heldout_ids": sorted(e.id for e in test_ex)},
        "split": f"held out iff int(sha1(id)[:8], 16) % {dataset.TEST_SHARE} == 0 (fixed per id, never trained on)",
        "features": {"count": len(kept), "min_df": MIN_DF,
                     "groups": "jieba words, Han char bigrams (each group L2-scaled), lexicon cues, "
                               "SnowNLP Bayes P(neg) over our tokens"},
        "heads": {"negative": {"C": C_neg, "cv_logloss": grid_neg, "class_weight": "balanced",
                               "trained_on": "topic=ip items"},
                  "topic": {"C": C_top, "cv_logloss": grid_top},
                  "polarity": {"C": C_pol, "cv_macro_f1": grid_pol},
                  "ip_type": {"C": C_TYPE, "classes": list(LEARNED_TYPES),
                              "used_when": "no dictionary term of weight >= 2 names the type"}},
        "stacker": {"features": list(STACK_FEATURES), "trees": STACK_TREES, "depth": STACK_DEPTH,
                    "learning_rate": STACK_RATE, "trained_on": "out-of-fold head scores of the items the gate lets through",
                    "threshold": probe.stacker.threshold_p if probe.stacker else None,
                    "threshold_out_of_fold": best_s, "unseen_margin": UNSEEN_MARGIN,
                    "first_stage_cv_without_hard_cases": cv_first},
        "platt": platt, "threshold": round(best_t, 4),
        "threshold_rule": f"first stage: best out-of-fold negative F1 with publicity FP rate <= {PUBLICITY_FP_MAX}; "
                          f"second stage: half its best out-of-fold F1 (raised to keep that cap) + {UNSEEN_MARGIN} "
                          f"for unseen items; calibration and thresholds on rows outside {dataset.HARD_FILE.name}",
        "cv": cv, "cv_without_hard_cases": cv_op, "heldout": held, "heldout_by_file": by_file,
        "fresh": {"file": fresh_path.name, **fresh} if fresh else {},
    }
    if previous:
        card["previous"] = previous
    write_atomic(out_dir / CARD_FILE.name, json.dumps(card, ensure_ascii=False, indent=1))
    return card


def report(decisions: list[tuple], examples: list[Example], ip_types: list[str]) -> dict:
    """Metrics from decide() tuples (negative, p, polarity, on_topic, p_topic)."""
    gold = [e.negative for e in examples]
    pred = [d[0] for d in decisions]
    out = binary_report(gold, pred)
    out["brier"] = brier(gold, [d[1] for d in decisions])
    out["average_precision"] = average_precision(gold, [d[1] for d in decisions])
    pol = [(e.polarity3, d[2]) for e, d in zip(examples, decisions) if e.polarity3]
    if pol:
        out["polarity_macro_f1"] = macro_f1([g for g, _ in pol], [p for _, p in pol], POLARITIES)
    top = [(e.topic, "ip" if d[3] else "off") for e, d in zip(examples, decisions) if e.topic]
    if top:
        out["topic_accuracy"] = accuracy([g for g, _ in top], [p for _, p in top])
        out["off_topic_flagged"] = sum(1 for e, d in zip(examples, decisions) if e.topic == "off" and d[0])
    single = [(e.ip_type, t) for e, t in zip(examples, ip_types)
              if e.ip_type and e.ip_type not in ("mixed", "其他") and e.topic != "off"]
    if single:
        out["ip_type_accuracy"] = accuracy([g for g, _ in single], [p for _, p in single])
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def report_judgements(judgements, examples: list[Example]) -> dict:
    decisions = [(j.negative, j.p_negative, j.polarity, j.topic == "ip", None) for j in judgements]
    return report(decisions, examples, [j.ip_type for j in judgements])
