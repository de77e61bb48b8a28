"""The second stage: small boosted trees over the heads' scores and the lexicon counts decide the flag.

Why a second stage: the linear heads add their evidence up, but the cases that go wrong are
interactions — publicity wording *and* a victim's voice, a complaint *and* a weak topic vote, a
question title *and* no IP term. Hand rules (judge.Gate) covered a few; depth-3 trees over two dozen
numbers learn them from the out-of-fold scores of the training rows. Out-of-fold on 2,015 items
(2026-11-26): reference-file rows F1 0.863 -> 0.883, accuracy 0.904 -> 0.919; off-topic items
flagged 23 -> 12 (docs/judgement.md, "Second stage").

The trees are trained with scikit-learn (GradientBoostingClassifier, log loss) and scored here with
numpy only: every tree is padded to a complete binary tree of DEPTH levels (a leaf above the last
level becomes a node that always goes left, over copies of the leaf), so one item is scored by
DEPTH vectorised steps over all trees at once.

File form (the "stacker" object of judge_model.json):
  features: [name, ...]     the order of `stack_features`
  depth: int                levels of every padded tree
  base: float               raw score before any tree (the log-odds prior)
  feature: [[int] * (2**depth - 1)] per tree     internal nodes, breadth first
  threshold: [[float] * (2**depth - 1)] per tree go left when x <= threshold (as scikit-learn)
  value: [[float] * 2**depth] per tree           leaf values, learning rate applied
  threshold_p: float        a gated item is flagged when P >= threshold_p
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

# Names of the inputs, in order. "z:" are the linear heads' raw scores; the rest are lexicon counts
# (log1p) and gate facts of judge.Gate.
FEATURES = (
    "z:negative", "z:topic", "z:pol_negative", "z:pol_neutral", "z:pol_positive",
    "complaint", "publicity", "victim", "doubt", "negated_complaint", "offtopic",
    "title_complaint", "title_publicity", "title_victim", "title_doubt",
    "authority_action", "ip_terms", "ip_weight", "has_ip_terms", "blocked", "snow_neg",
)


# Multiplying eight 0/1 bytes (read as one little-endian uint64) by this constant leaves
# b0 + 2·b1 + … + 128·b7 in the top byte (checked for all 256 patterns in the tests).
_GATHER_BITS = np.uint64(0x0102040810204080)
_SHIFT = np.uint64(56)


class StackerError(ValueError):
    """The stacker in a model file is malformed."""


def stack_features(z, a, g) -> np.ndarray:
    """The second stage's inputs for one analysed item (features.Analysis) and its judge.Gate."""
    # .get on the Counters (0 for a category never seen, without Counter.__missing__) and one list
    # literal: the same values as reading them one by one, at half the cost.
    st = a.tags.stance.get
    tst = a.title_tags.stance.get
    ip_weight = max([w for _, w in a.tags.ip_types], default=0.0)
    log1p = math.log1p
    row = [float(z[0]), float(z[1]), float(z[2]), float(z[3]), float(z[4]),
           log1p(st("complaint", 0)), log1p(st("publicity", 0)), log1p(st("victim", 0)), log1p(st("doubt", 0)),
           log1p(st("negated_complaint", 0)), log1p(st("offtopic", 0)),
           log1p(tst("complaint", 0)), log1p(tst("publicity", 0)), log1p(tst("victim", 0)), log1p(tst("doubt", 0)),
           log1p(a.tags.authority_actions), log1p(len(a.tags.topic_hits)), log1p(ip_weight),
           1.0 if g.has_ip_terms else 0.0, 1.0 if g.blocked else 0.0, a.cues.get("x:snow_neg", 0.0)]
    # scikit-learn's trees compare float32 inputs: round the same way so the split sides agree.
    return np.asarray(row, dtype=np.float32)


@dataclass
class Trees:
    depth: int
    base: float
    feature: np.ndarray      # (trees, 2**depth - 1) int
    threshold: np.ndarray    # (trees, 2**depth - 1) float64
    value: np.ndarray        # (trees, 2**depth) float64
    threshold_p: float

    def __post_init__(self):
        n_int, n_leaf = 2 ** self.depth - 1, 2 ** self.depth
        t = len(self.feature)
        if self.feature.shape != (t, n_int) or self.threshold.shape != (t, n_int) or self.value.shape != (t, n_leaf):
            raise StackerError("stacker arrays do not match its depth")
        if t and (self.feature.min() < 0 or self.feature.max() >= len(FEATURES)):
            raise StackerError("stacker feature index out of range")
        self._n_int = n_int
        # Flat views: internal node k of tree i is at i * n_int + k, leaf j at i * 2**depth + j.
        self._offset = np.arange(t) * n_int
        self._leaf_offset = np.arange(t) * n_leaf
        self._feat = self.feature.ravel()
        self._thr = self.threshold.ravel()
        self._val = self.value.ravel()
        # Up to depth 3 a tree has at most 7 splits: a table from their outcome pattern to the leaf value
        # turns scoring into one comparison pass and one lookup (~9 us for 200 trees, against ~16 us
        # following the paths level by level).
        self._table = None
        if self.depth <= 3 and sys.byteorder == "little":    # the uint64 view reads bytes low first
            leaf_of = np.empty(2 ** n_int, dtype=np.intp)
            for code in range(2 ** n_int):
                node = 0
                while node < n_int:
                    node = 2 * node + 1 + ((code >> node) & 1)
                leaf_of[code] = node - n_int
            self._table = self.value[:, leaf_of].ravel()
            self._code_offset = (np.arange(t) * 2 ** n_int).astype(np.uint64)
            self._feat8 = np.zeros((t, 8), dtype=np.intp)
            self._feat8[:, :n_int] = self.feature
            self._thr8 = np.full((t, 8), np.inf)
            self._thr8[:, :n_int] = self.threshold
            self._feat8, self._thr8 = self._feat8.ravel(), self._thr8.ravel()

    def raw(self, x: np.ndarray) -> float:
        if self._table is not None:
            # A tree's (at most 7) split outcomes are the low bytes of one uint64, padded with a split that
            # never goes right; one multiply gathers the bytes into a bit pattern (bit k = split k), which
            # indexes the tree's row of leaf values.
            # (x widened once, then take(): the same comparisons as x[feat] > thr, without casting the
            # 8 x trees gathered values.)
            right = x.astype(np.float64).take(self._feat8) > self._thr8
            code = (right.view(np.uint64) * _GATHER_BITS) >> _SHIFT
            code += self._code_offset
            return self.base + float(self._table.take(code).sum())
        right = x[self._feat] > self._thr
        # Deeper trees: follow each path in breadth-first numbering (children of node k: 2k+1, 2k+2).
        off = self._offset
        node = 1 + right[off]
        for _ in range(self.depth - 1):
            node = 2 * node + 1 + right[off + node]
        return self.base + float(self._val[self._leaf_offset + node - self._n_int].sum())

    def proba(self, x: np.ndarray) -> float:
        r = max(-35.0, min(35.0, self.raw(x)))
        return 1.0 / (1.0 + math.exp(-r))

    def to_dict(self) -> dict:
        return {"features": list(FEATURES), "depth": self.depth, "base": self.base,
                "feature": self.feature.tolist(), "threshold": self.threshold.tolist(),
                "value": self.value.tolist(), "threshold_p": round(self.threshold_p, 4)}

    @classmethod
    def from_dict(cls, d: dict) -> "Trees":
        try:
            if list(d["features"]) != list(FEATURES):
                raise StackerError("stacker was trained on other inputs: retrain (python -m sentiment train)")
            return cls(int(d["depth"]), float(d["base"]), np.asarray(d["feature"], dtype=np.intp).reshape(-1, 2 ** int(d["depth"]) - 1),
                       np.asarray(d["threshold"], dtype=np.float64).reshape(-1, 2 ** int(d["depth"]) - 1),
                       np.asarray(d["value"], dtype=np.float64).reshape(-1, 2 ** int(d["depth"])),
                       float(d["threshold_p"]))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, StackerError):
                raise
            raise StackerError(f"malformed stacker: {e}") from e


def from_sklearn(gb, depth: int, threshold_p: float, X_check: np.ndarray) -> Trees:
    """Pad a fitted GradientBoostingClassifier's trees; checked against its own decision_function."""
    n_int, n_leaf = 2 ** depth - 1, 2 ** depth
    lr = gb.learning_rate
    trees = [est[0].tree_ for est in gb.estimators_]
    feat = np.zeros((len(trees), n_int), dtype=np.intp)
    thr = np.full((len(trees), n_int), np.inf)
    val = np.zeros((len(trees), n_leaf))
    for t, tree in enumerate(trees):
        def fill(src: int, dst: int, level: int) -> None:
            if level == depth:                      # a leaf slot of the padded tree
                val[t, dst - n_int] = lr * tree.value[src][0][0]
                return
            left, right = tree.children_left[src], tree.children_right[src]
            if left == -1:                          # an early leaf: always go left, copies below
                feat[t, dst], thr[t, dst] = 0, np.inf
                fill(src, 2 * dst + 1, level + 1)
                fill(src, 2 * dst + 2, level + 1)
            else:
                feat[t, dst], thr[t, dst] = tree.feature[src], tree.threshold[src]
                fill(left, 2 * dst + 1, level + 1)
                fill(right, 2 * dst + 2, level + 1)
        fill(0, 0, 0)
    x0 = np.asarray(X_check[:1], dtype=np.float32)
    base = float(gb.decision_function(x0)[0]) - sum(lr * float(e[0].predict(x0)[0]) for e in gb.estimators_)
    out = Trees(depth, base, feat, thr, val, threshold_p)
    ref = gb.decision_function(np.asarray(X_check, dtype=np.float32))
    mine = np.array([out.raw(np.asarray(x, dtype=np.float32)) for x in X_check])
    if not np.allclose(ref, mine, atol=1e-8):
        raise StackerError(f"exported trees disagree with scikit-learn (max diff {np.abs(ref - mine).max():.2e})")
    return out
