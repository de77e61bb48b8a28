"""The trained linear heads, scored with numpy only (scikit-learn is needed to train, not to judge).

File format (data/models/judge_model.json):
  features: [name, ...]                     one row of `weights` per feature
  columns:  ["negative", "topic", "pol:negative", "pol:neutral", "pol:positive", "type:专利", ...]
  weights:  [[w per column], ...]
  bias:     [b per column]
  platt:    {"negative": [a, c], "topic": [a, c]}   p = sigmoid(a * z + c), fitted on CV folds
  threshold: float                          first-stage rule: p_negative at or above it flags the item
  stacker:  {...}                           optional second stage that decides the flag (sentiment/stacker.py)
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment.features import CUE_SCALE
from sentiment.snowsignal import MODELS_DIR
from sentiment.stacker import StackerError, Trees

MODEL_FILE = MODELS_DIR / "judge_model.json"
CARD_FILE = MODELS_DIR / "model_card.json"
LEARNED_TYPES = ("专利", "商标", "著作权", "植物新品种", "地理标志", "商业秘密")
COLUMNS = ("negative", "topic", "pol:negative", "pol:neutral", "pol:positive") + tuple(f"type:{t}" for t in LEARNED_TYPES)


class ModelError(Exception):
    """The model file is missing or not one of ours."""


def write_atomic(path: Path, text: str) -> None:
    """Write a whole file or nothing: a running collector may reload the model at any moment."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def sigmoid(z: float) -> float:
    z = max(-35.0, min(35.0, z))
    return 1.0 / (1.0 + math.exp(-z))


@dataclass
class Scores:
    z: np.ndarray                   # raw score per column
    names: Sequence[str]            # features found in the model
    contributions: np.ndarray       # each one's contribution to the negative column
    # Row of each found feature in LinearModel.padded_features (names[i] is padded_features[ids[i]]),
    # and how many of them are words and bigrams (the cues come after): the reasons read rows, not names.
    ids: Sequence[int] = ()
    n_ngrams: int = 0
    id_array: np.ndarray | None = None      # `ids` as an array


class _Names(Sequence):
    """Feature names looked up on demand (the reasons read a dozen of them, the scoring needs none)."""

    def __init__(self, padded_features: list, ids: list[int]):
        self.features = padded_features
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.features[k] for k in self.ids[i]]
        return self.features[self.ids[i]]


class LinearModel:
    def __init__(self, features: list[str], weights: np.ndarray, bias: np.ndarray,
                 platt: dict[str, list[float]], threshold: float, columns=COLUMNS,
                 stacker: Trees | None = None):
        if weights.shape != (len(features), len(columns)):
            raise ModelError(f"weights shape {weights.shape} does not match {len(features)} features")
        self.index = {f: i for i, f in enumerate(features)}
        # The two n-gram groups by their bare key, so the judge scores words and bigrams without
        # building a "w:"/"c:" name for each (score_parts). Rows are shifted by one so that
        # `filter(None, map(get, keys))` drops unknown keys in C (row 0 would be falsy too);
        # `_padded` is the weights under an extra zero row 0 to match.
        self._word_row = {f[2:]: i + 1 for f, i in self.index.items() if f.startswith("w:")}
        self._bigram_row = {f[2:]: i + 1 for f, i in self.index.items() if f.startswith("c:")}
        self._padded = np.vstack([np.zeros((1, weights.shape[1])), weights])
        self.features = features
        self.padded_features = [None] + features    # by row of `_padded`
        self.weights = self._padded[1:]        # a view: the weights are held once
        self.bias = bias
        self.platt = platt
        self.threshold = threshold
        self.columns = tuple(columns)
        self.stacker = stacker
        self._type_cols = [i for i, c in enumerate(self.columns) if c.startswith("type:")]

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "LinearModel":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(d["features"], np.asarray(d["weights"], dtype=np.float64),
                       np.asarray(d["bias"], dtype=np.float64), d["platt"], float(d["threshold"]),
                       d.get("columns", COLUMNS), Trees.from_dict(d["stacker"]) if d.get("stacker") else None)
        except (OSError, ValueError, KeyError, TypeError, StackerError) as e:
            raise ModelError(f"cannot load model {path}: {e}") from e

    def save(self, path: Path = MODEL_FILE) -> None:
        d = {"columns": list(self.columns), "threshold": round(self.threshold, 4), "platt": self.platt,
             "bias": [round(float(b), 6) for b in self.bias], "features": self.features,
             "weights": [[round(float(w), 4) for w in row] for row in self.weights]}
        if self.stacker is not None:
            d["stacker"] = self.stacker.to_dict()
        write_atomic(Path(path), json.dumps(d, ensure_ascii=False, separators=(",", ":")))

    def score_parts(self, words: list[str], bigrams: list[str], cues: dict[str, float]) -> Scores:
        """Scores of the features {"w:"+w: 1} | {"c:"+b: 1} | cues, scaled as training scales them
        (features.group_scales: each n-gram group by 1/sqrt(its known count), cues by CUE_SCALE);
        names come in that order."""
        # Known keys -> their (shifted) rows, unknown ones dropped, all without a Python-level loop.
        rw = list(filter(None, map(self._word_row.get, words)))
        rb = list(filter(None, map(self._bigram_row.get, bigrams)))
        index = self.index
        cue_keys = [k for k in cues if k in index]
        nw, nb = len(rw), len(rb)
        ids = rw + rb
        ids += [index[k] + 1 for k in cue_keys]
        if not ids:
            return Scores(self.bias.copy(), [], np.zeros(0), [], 0, np.zeros(0, dtype=np.intp))
        # Each n-gram group is scaled by 1/sqrt(its count) so long and short texts weigh alike; cues by
        # CUE_SCALE (the same products as scaling an array of them).
        vals = np.array([1 / math.sqrt(nw) if nw else 0.0] * nw + [1 / math.sqrt(nb) if nb else 0.0] * nb
                        + [CUE_SCALE * cues[k] for k in cue_keys])
        idx = np.array(ids, dtype=np.intp)
        rows = self._padded.take(idx, axis=0)
        return Scores(vals @ rows + self.bias, _Names(self.padded_features, ids), vals * rows[:, 0], ids, nw + nb,
                      idx)

    def learned_type(self, z: np.ndarray) -> str:
        """The IP-type head's choice, for items the dictionary cannot place."""
        cols = self._type_cols
        if not cols:
            return "其他"
        best = max(cols, key=lambda i: z[i])
        return self.columns[best][5:]

    def calibrated(self, head: str, z: float) -> float:
        a, c = self.platt.get(head, (1.0, 0.0))
        return sigmoid(a * z + c)
