"""The trained linear heads, scored with numpy only (scikit-learn is needed to train, not to judge).

File format (data/models/judge_model.json):
  features: [name, ...]                     one row of `weights` per feature
  columns:  ["negative", "topic", "pol:negative", "pol:neutral", "pol:positive", "type:专利", ...]
  weights:  [[w per column], ...]
  bias:     [b per column]
  platt:    {"negative": [a, c], "topic": [a, c]}   p = sigmoid(a * z + c), fitted on CV folds
  threshold: float                          p_negative at or above it flags the item
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.features import CUE_SCALE, GROUPS
from sentiment.snowsignal import MODELS_DIR

MODEL_FILE = MODELS_DIR / "judge_model.json"
CARD_FILE = MODELS_DIR / "model_card.json"
LEARNED_TYPES = ("专利", "商标", "著作权", "植物新品种", "地理标志", "商业秘密")
COLUMNS = ("negative", "topic", "pol:negative", "pol:neutral", "pol:positive") + tuple(f"type:{t}" for t in LEARNED_TYPES)


class ModelError(Exception):
    """The model file is missing or not one of ours."""


def sigmoid(z: float) -> float:
    z = max(-35.0, min(35.0, z))
    return 1.0 / (1.0 + math.exp(-z))


@dataclass
class Scores:
    z: np.ndarray                   # raw score per column
    names: list[str]                # features found in the model
    contributions: np.ndarray       # each one's contribution to the negative column


class LinearModel:
    def __init__(self, features: list[str], weights: np.ndarray, bias: np.ndarray,
                 platt: dict[str, list[float]], threshold: float, columns=COLUMNS):
        if weights.shape != (len(features), len(columns)):
            raise ModelError(f"weights shape {weights.shape} does not match {len(features)} features")
        self.index = {f: i for i, f in enumerate(features)}
        # Feature group per row (see features.GROUPS; cues last), for per-group scaling in numpy.
        self.group = np.array([GROUPS.get(f[0], len(GROUPS)) for f in features], dtype=np.intp)
        self.features = features
        self.weights = weights
        self.bias = bias
        self.platt = platt
        self.threshold = threshold
        self.columns = tuple(columns)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "LinearModel":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(d["features"], np.asarray(d["weights"], dtype=np.float64),
                       np.asarray(d["bias"], dtype=np.float64), d["platt"], float(d["threshold"]),
                       d.get("columns", COLUMNS))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelError(f"cannot load model {path}: {e}") from e

    def save(self, path: Path = MODEL_FILE) -> None:
        d = {"columns": list(self.columns), "threshold": round(self.threshold, 4), "platt": self.platt,
             "bias": [round(float(b), 6) for b in self.bias], "features": self.features,
             "weights": [[round(float(w), 4) for w in row] for row in self.weights]}
        Path(path).write_text(json.dumps(d, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def vectorize(self, feats: dict[str, float]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(row indices, scaled values, names) of the features the model knows."""
        # One dictionary lookup per feature, in C (this runs for every judged item).
        ids = list(map(self.index.get, feats))
        names = [k for k, i in zip(feats, ids) if i is not None]
        idx = np.array([i for i in ids if i is not None], dtype=np.intp)
        g = self.group[idx]
        counts = np.bincount(g, minlength=len(GROUPS) + 1)
        # Each n-gram group is scaled by 1/sqrt(its count) so long and short texts weigh alike.
        scale = np.array([1 / math.sqrt(c) if c else 0.0 for c in counts[:-1].tolist()] + [CUE_SCALE])
        vals = scale[g]
        cue = np.flatnonzero(g == len(GROUPS))
        if len(cue):
            vals[cue] *= np.array([feats[names[p]] for p in cue.tolist()])
        return idx, vals, names

    def score(self, feats: dict[str, float]) -> Scores:
        idx, vals, names = self.vectorize(feats)
        if not len(idx):
            return Scores(self.bias.copy(), [], np.zeros(0))
        rows = self.weights[idx]
        return Scores(vals @ rows + self.bias, names, vals * rows[:, 0])

    def learned_type(self, z: np.ndarray) -> str:
        """The IP-type head's choice, for items the dictionary cannot place."""
        cols = [i for i, c in enumerate(self.columns) if c.startswith("type:")]
        if not cols:
            return "其他"
        best = max(cols, key=lambda i: z[i])
        return self.columns[best][5:]

    def calibrated(self, head: str, z: float) -> float:
        a, c = self.platt.get(head, (1.0, 0.0))
        return sigmoid(a * z + c)
