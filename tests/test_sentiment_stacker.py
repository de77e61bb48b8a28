"""The second stage: exported trees score exactly as scikit-learn's, round-trip through the model file,
and decide only among the items the gate lets through."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from sentiment.judge import Gate, decide
from sentiment.model import COLUMNS, LinearModel, ModelError
from sentiment.stacker import FEATURES, StackerError, Trees, from_sklearn, stack_features


def _fitted(depth: int, leaf: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, len(FEATURES))).astype(np.float32)
    X[:, 18] = rng.integers(0, 2, 400)             # a 0/1 input, as has_ip_terms is
    y = ((X[:, 0] + 0.5 * X[:, 5] * X[:, 18] + rng.normal(scale=0.5, size=400)) > 0).astype(int)
    gb = GradientBoostingClassifier(max_depth=depth, n_estimators=40, learning_rate=0.1,
                                    min_samples_leaf=leaf, random_state=0).fit(X, y)
    return gb, X


@pytest.mark.parametrize("depth,leaf", [(3, 20), (3, 120), (2, 5), (1, 1)])
def test_exported_trees_score_as_scikit_learn(depth, leaf):
    # min_samples_leaf 120 forces leaves above the last level: the padding must keep their values.
    gb, X = _fitted(depth, leaf)
    trees = from_sklearn(gb, depth, 0.5, X)
    fresh = np.random.default_rng(1).normal(size=(200, len(FEATURES))).astype(np.float32)
    ref = gb.predict_proba(fresh)[:, 1]
    mine = np.array([trees.proba(x) for x in fresh])
    assert np.allclose(ref, mine, atol=1e-9)


def test_trees_round_trip_through_the_model_file(tmp_path):
    gb, X = _fitted(3, 20)
    trees = from_sklearn(gb, 3, 0.47, X)
    m = LinearModel(["w:盗版"], np.ones((1, len(COLUMNS))), np.zeros(len(COLUMNS)),
                    {"negative": [1.0, 0.0], "topic": [1.0, 0.0]}, 0.3, stacker=trees)
    m.save(tmp_path / "m.json")
    back = LinearModel.load(tmp_path / "m.json").stacker
    assert back.threshold_p == 0.47
    assert [back.raw(x) for x in X[:50]] == [trees.raw(x) for x in X[:50]]


def test_a_stacker_for_other_inputs_is_refused_with_a_clear_message(tmp_path):
    gb, X = _fitted(2, 5)
    d = from_sklearn(gb, 2, 0.5, X).to_dict()
    d["features"] = d["features"][:-1] + ["something_else"]
    with pytest.raises(StackerError, match="retrain"):
        Trees.from_dict(d)
    model = {"columns": list(COLUMNS), "threshold": 0.3, "platt": {}, "bias": [0.0] * len(COLUMNS),
             "features": ["w:盗版"], "weights": [[0.0] * len(COLUMNS)], "stacker": d}
    (tmp_path / "m.json").write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ModelError, match="retrain"):
        LinearModel.load(tmp_path / "m.json")


class _Constant:
    """A second stage that always answers p, so the gate's part can be seen alone."""
    def __init__(self, p: float, threshold_p: float = 0.5):
        self.p, self.threshold_p = p, threshold_p

    def proba(self, x) -> float:
        return self.p


def test_the_trees_decide_only_among_items_the_gate_lets_through():
    logit = lambda p: math.log(p / (1 - p))
    m = LinearModel([], np.zeros((0, len(COLUMNS))), np.zeros(len(COLUMNS)),
                    {"negative": [1.0, 0.0], "topic": [1.0, 0.0]}, 0.3, stacker=_Constant(0.9))
    x = np.zeros(len(FEATURES), dtype=np.float32)
    z = np.zeros(len(COLUMNS))
    z[0], z[1] = logit(0.1), logit(0.95)           # the first stage would not flag: p_negative 0.095
    negative, p, polarity, on_topic, _ = decide(z, Gate(), m, x)
    assert negative and p == 0.9 and polarity == "negative" and on_topic
    assert not decide(z, Gate(blocked=True), m, x)[0]              # another kind of right
    z[1] = logit(0.7)                                              # topic too unsure for a flag
    assert not decide(z, Gate(), m, x)[0]
    z[1] = logit(0.2)                                              # off topic: never flagged, p capped
    negative, p, _, on_topic, _ = decide(z, Gate(), m, x)
    assert not negative and not on_topic and p <= 0.1
    z[1] = logit(0.95)
    m.stacker = _Constant(0.49)
    assert not decide(z, Gate(), m, x)[0]                           # below the trees' threshold
    assert decide(z, Gate(), m, p_stack=0.6)[0]                     # training's out-of-fold probability


def test_the_committed_model_flags_by_its_trees(judge):
    assert judge.model.stacker is not None, "data/models/judge_model.json has no second stage: retrain"
    from sentiment.judge import flaggable, gate
    text = "网友吐槽：盗版网课在多个平台公开售卖，举报多次仍未下架，维权难"
    a = judge.analyzer.analyze(None, text)
    s = judge.model.score_parts(a.words, a.bigrams, a.cues)
    g = gate(a)
    x = stack_features(s.z, a, g)
    assert x.dtype == np.float32 and x.shape == (len(FEATURES),)
    assert flaggable(s.z, g, judge.model)
    j = judge.judge(None, text)
    assert j.p_negative == round(judge.model.stacker.proba(x), 4)
    assert j.negative == (judge.model.stacker.proba(x) >= judge.model.stacker.threshold_p)


@pytest.fixture(scope="module")
def judge():
    from sentiment import load_judge
    return load_judge()


def test_the_bit_gathering_constant_packs_every_pattern_of_eight_outcomes():
    import itertools

    from sentiment.stacker import _GATHER_BITS, _SHIFT
    for bits in itertools.product((0, 1), repeat=8):
        u = np.array(bits, dtype=np.uint8).view(np.uint64)
        assert int(((u * _GATHER_BITS) >> _SHIFT)[0]) == sum(b << k for k, b in enumerate(bits))
